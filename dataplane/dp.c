/* dp.c — the application-facing dataplane: command-line options, setup of
 * config, port and engine, the poll loop, signal handling and teardown.
 * One dataplane context (one port, one engine, one lcore) per process. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "dp.h"
#include "dp_internal.h"

static struct dp_ctx *dp_the_ctx;
static atomic_int dp_quit;
static bool dp_pdump_on;

void
dp_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s <EAL options> -- --ip A.B.C.D/N --port P [options]\n"
		"  --ip A.B.C.D/N    our address and on-link prefix (overrides [net] ip)\n"
		"  --port P          TCP port to serve\n"
		"  --gateway A.B.C.D next hop off the prefix (overrides [net] gateway)\n"
		"  --config FILE     INI configuration (see config/dptcp.ini)\n"
		"  --print-config    print the effective configuration and exit\n"
		"  --pcap FILE       write every frame the port receives and transmits\n"
		"                    to FILE (pcapng, in-process; read it with tshark)\n"
		"  --help            this text\n",
		prog);
}

static int
dp_usage_error(const char *prog, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	dp_usage(stderr, prog);
	return -EINVAL;
}

/* "--name value" or "--name=value": returns the value or NULL. */
static const char *
dp_opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		return "";
	return argv[++*i];
}

static int
dp_parse_port(const char *s, uint16_t *port)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	v = strtoul(s, &end, 10);
	if (*end != '\0' || v == 0 || v > UINT16_MAX)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

int
dp_parse_app_args(int argc, char **argv, struct dp_app_opts *opts)
{
	const char *prog = argc > 0 ? argv[0] : "dptcp";
	const char *v, *why;
	int i;

	memset(opts, 0, sizeof(*opts));
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			dp_usage(stdout, prog);
			return 1;
		} else if (strcmp(argv[i], "--print-config") == 0) {
			opts->print_config = true;
		} else if ((v = dp_opt_value(argc, argv, &i, "--ip")) != NULL) {
			if (dp_parse_ip_prefix(v, &opts->ip, &opts->prefix_len,
					       &why) < 0)
				return dp_usage_error(prog,
					"--ip '%s': expected a unicast host address A.B.C.D/N, N in 1..32",
					v);
		} else if ((v = dp_opt_value(argc, argv, &i, "--gateway")) != NULL) {
			if (dp_parse_ipv4(v, &opts->gateway) < 0)
				return dp_usage_error(prog,
					"--gateway '%s': expected A.B.C.D", v);
		} else if ((v = dp_opt_value(argc, argv, &i, "--port")) != NULL) {
			if (dp_parse_port(v, &opts->port) < 0)
				return dp_usage_error(prog,
					"--port '%s': expected 1..65535", v);
		} else if ((v = dp_opt_value(argc, argv, &i, "--config")) != NULL) {
			if (*v == '\0')
				return dp_usage_error(prog,
					"--config%s: expected a file name", v);
			opts->config_path = v;
		} else if ((v = dp_opt_value(argc, argv, &i, "--pcap")) != NULL) {
			if (*v == '\0')
				return dp_usage_error(prog,
					"--pcap%s: expected a file name", v);
			opts->pcap_path = v;
		} else {
			return dp_usage_error(prog, "unknown option '%s'",
					      argv[i]);
		}
	}
	return 0;
}

static void
dp_on_signal(int sig)
{
	(void)sig;
	dp_stop();
}

void
dp_stop(void)
{
	atomic_store(&dp_quit, 1);
}

static void
dp_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = dp_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Config file, then the command line on top of it. */
static int
dp_load_config(const struct dp_app_opts *opts, struct dp_config *cfg)
{
	char a[16], b[16];
	int ret;

	dp_config_defaults(cfg);
	if (opts->config_path != NULL) {
		ret = dp_config_load(opts->config_path, cfg);
		if (ret < 0)
			return ret;
	}
	if (opts->ip != 0) {
		cfg->net.ip = opts->ip;
		cfg->net.prefix_len = opts->prefix_len;
	}
	if (opts->gateway != 0)
		cfg->net.gateway = opts->gateway;
	if (cfg->net.ip == 0) {
		fprintf(stderr, "dptcp: no address: give --ip A.B.C.D/N or [net] ip\n");
		return -EINVAL;
	}
	if (cfg->net.gateway != 0 &&
	    (((cfg->net.gateway ^ cfg->net.ip) &
	      dp_prefix_mask(cfg->net.prefix_len)) ||
	     cfg->net.gateway == cfg->net.ip)) {
		fprintf(stderr, "dptcp: gateway %s is not another address on %s/%u\n",
			dp_ip_str(cfg->net.gateway, a, sizeof(a)),
			dp_ip_str(cfg->net.ip, b, sizeof(b)),
			cfg->net.prefix_len);
		return -EINVAL;
	}
	return 0;
}

static int
dp_engine_start(struct dp_ctx *ctx, const struct dp_config *cfg)
{
	struct tcp_engine_params p;

	memset(&p, 0, sizeof(p));
	p.cfg = cfg->tcp;
	p.local_ip = ctx->ip;
	p.mtu = ctx->mtu;
	p.socket_id = (int)rte_socket_id();
	p.engine_id = 0;
	p.pool = ctx->pool;
	p.tx = dp_tx_ipv4_burst;
	p.tx_ctx = ctx;
	p.tx_cksum_offload = ctx->tx_cksum_offload;
	ctx->eng = tcp_engine_create(&p);
	if (ctx->eng == NULL) {
		DP_LOG(ERR, "tcp_engine_create failed");
		return -ENOMEM;
	}
	return 0;
}

static void
dp_pdump_start(void)
{
	int ret = rte_pdump_init();

	dp_pdump_on = ret == 0;
	if (ret != 0)
		DP_LOG(WARNING, "rte_pdump_init: %s (no dpdk-dumpcap)",
		       rte_strerror(rte_errno));
}

int
dp_init(const struct dp_app_opts *opts)
{
	struct dp_config cfg;
	struct dp_ctx *ctx;
	char ip[16];
	int ret;

	ret = dp_load_config(opts, &cfg);
	if (ret < 0)
		return ret;
	if (opts->print_config) {
		dp_config_print(stdout, &cfg);
		return 1;
	}
	ctx = rte_zmalloc_socket("dp_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE,
				 (int)rte_socket_id());
	if (ctx == NULL)
		return -ENOMEM;
	dp_the_ctx = ctx;
	ctx->ip = cfg.net.ip;
	ctx->netmask = dp_prefix_mask(cfg.net.prefix_len);
	ctx->gateway = cfg.net.gateway;
	dp_arp_init(ctx);
	ret = dp_port_init(ctx, &cfg.port);
	if (ret == 0)
		ret = dp_engine_start(ctx, &cfg);
	if (ret == 0 && opts->pcap_path != NULL)
		ret = dp_pcap_open(ctx, opts->pcap_path);
	if (ret < 0) {
		if (ctx->eng != NULL)
			tcp_engine_destroy(ctx->eng);
		dp_port_fini(ctx);
		rte_free(ctx);
		dp_the_ctx = NULL;
		return ret;
	}
	dp_pdump_start();
	dp_telemetry_init();
	dp_signals();
	DP_LOG(INFO, "address %s/%u%s, engine ready (MSS %u)",
	       dp_ip_str(ctx->ip, ip, sizeof(ip)), cfg.net.prefix_len,
	       ctx->gateway ? ", with gateway" : "", ctx->mtu - 40);
	return 0;
}

unsigned int
dp_engine_count(void)
{
	return dp_the_ctx != NULL ? 1 : 0;
}

struct tcp_engine *
dp_engine_at(unsigned int i)
{
	return dp_the_ctx != NULL && i == 0 ? dp_the_ctx->eng : NULL;
}

struct tcp_engine *
dp_engine(void)
{
	return dp_engine_at(0);
}

uint32_t
dp_local_ip(void)
{
	return dp_the_ctx != NULL ? dp_the_ctx->ip : 0;
}

const struct dp_stats *
dp_stats(void)
{
	return dp_the_ctx != NULL ? &dp_the_ctx->stats : NULL;
}

/* One iteration of the per-core loop of DESIGN.md "Data path". */
static inline void
dp_poll_once(struct dp_ctx *ctx, dp_hook_fn hook, void *arg)
{
	struct rte_mbuf *pkts[DP_RX_BURST];
	uint16_t n;

	ctx->now_us = tcp_clock_us();
	n = rte_eth_rx_burst(ctx->port_id, 0, pkts, DP_RX_BURST);
	if (n > 0)
		dp_eth_rx(ctx, pkts, n);
	if (hook != NULL)
		hook(ctx->eng, ctx->now_us, arg);
	tcp_engine_poll(ctx->eng, ctx->now_us);
	dp_arp_tick(ctx);
	dp_telemetry_update(ctx);
	dp_eth_flush(ctx);
}

int
dp_run(dp_hook_fn hook, void *arg)
{
	struct dp_ctx *ctx = dp_the_ctx;

	if (ctx == NULL || ctx->eng == NULL)
		return -EINVAL;
	if (rte_lcore_id() == LCORE_ID_ANY) {
		DP_LOG(ERR, "dp_run must run on an EAL lcore");
		return -EINVAL;
	}
	DP_LOG(INFO, "poll loop on lcore %u", rte_lcore_id());
	while (!atomic_load_explicit(&dp_quit, memory_order_relaxed))
		dp_poll_once(ctx, hook, arg);
	DP_LOG(INFO, "poll loop stopped");
	return 0;
}

void
dp_fini(void)
{
	struct dp_ctx *ctx = dp_the_ctx;

	if (ctx != NULL) {
		dp_eth_flush(ctx);
		if (ctx->eng != NULL)
			tcp_engine_destroy(ctx->eng);
		ctx->eng = NULL;
		dp_arp_fini(ctx);
		dp_pcap_close(ctx);
		if (dp_pdump_on)
			rte_pdump_uninit();
		dp_port_fini(ctx);
		dp_the_ctx = NULL;
		rte_free(ctx);
	}
	rte_eal_cleanup();
}
