/* dp.c — the application-facing dataplane: command-line options, setup of
 * config, port and engines, the poll loops, signal handling and teardown.
 * One port per process; one dataplane context and engine per worker lcore. */
#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_pdump.h>

#include "dp.h"
#include "dp_internal.h"

static struct dp_ctx *dp_workers[DP_MAX_WORKERS];
static unsigned int dp_n_workers;
static struct dp_steer dp_the_steer;
static uint64_t dp_isn_secret[2];
static dp_hook_fn dp_run_hook;
static void *dp_run_arg;
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
	p.socket_id = (int)rte_lcore_to_socket_id(ctx->lcore_id);
	p.engine_id = ctx->worker;
	p.pool = ctx->pool;
	p.tx = dp_tx_ipv4_burst;
	p.tx_ctx = ctx;
	p.tx_cksum_offload = ctx->tx_cksum_offload;
	/* One ISN key for all engines: a 4-tuple's ISN space does not depend
	 * on which worker owns it (RFC 6528 asks for one secret per host). */
	p.isn_secret[0] = dp_isn_secret[0];
	p.isn_secret[1] = dp_isn_secret[1];
	if (ctx->steer->n_workers > 1) {
		p.owned = dp_steer_owned;
		p.owned_ctx = ctx;
	}
	ctx->eng = tcp_engine_create(&p);
	if (ctx->eng == NULL) {
		DP_LOG(ERR, "tcp_engine_create failed (worker %u)", ctx->worker);
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

/* Worker w runs on the w-th EAL lcore, the main lcore first. */
static int
dp_pick_lcores(const struct dp_config *cfg, unsigned int *n,
	       unsigned int lcores[DP_MAX_WORKERS])
{
	unsigned int have = rte_lcore_count(), want, i = 0, l;

	want = cfg->dataplane.workers != 0 ? cfg->dataplane.workers : have;
	if (want > have || want > DP_MAX_WORKERS) {
		fprintf(stderr,
			"dptcp: [dataplane] workers = %u, but the EAL has %u lcores: give more with -l/--lcores\n",
			want, have);
		return -EINVAL;
	}
	lcores[i++] = rte_get_main_lcore();
	RTE_LCORE_FOREACH_WORKER(l) {
		if (i == want)
			break;
		lcores[i++] = l;
	}
	*n = want;
	return 0;
}

static struct dp_ctx *
dp_ctx_new(unsigned int worker, unsigned int lcore, const struct dp_config *cfg)
{
	struct dp_ctx *ctx;

	ctx = rte_zmalloc_socket("dp_ctx", sizeof(*ctx), RTE_CACHE_LINE_SIZE,
				 (int)rte_lcore_to_socket_id(lcore));
	if (ctx == NULL)
		return NULL;
	ctx->worker = worker;
	ctx->lcore_id = lcore;
	ctx->steer = &dp_the_steer;
	ctx->port_id = RTE_MAX_ETHPORTS;
	ctx->ip = cfg->net.ip;
	ctx->netmask = dp_prefix_mask(cfg->net.prefix_len);
	ctx->gateway = cfg->net.gateway;
	dp_arp_init(ctx);
	return ctx;
}

/* Worker w's view of the port set up through worker 0. */
static void
dp_ctx_share_port(struct dp_ctx *ctx, const struct dp_ctx *first)
{
	const struct dp_steer *st = ctx->steer;

	ctx->port_id = first->port_id;
	ctx->mac = first->mac;
	ctx->mtu = first->mtu;
	ctx->tx_cksum_offload = first->tx_cksum_offload;
	ctx->rx_ip_cksum_offload = first->rx_ip_cksum_offload;
	ctx->pool = first->pool;
	ctx->rxq = ctx->worker < st->n_rxq ? (uint16_t)ctx->worker : DP_NO_QUEUE;
	ctx->txq = ctx->worker < st->n_txq ? (uint16_t)ctx->worker : DP_NO_QUEUE;
}

static void dp_teardown(void);

static int
dp_setup(const struct dp_app_opts *opts, const struct dp_config *cfg)
{
	unsigned int lcores[DP_MAX_WORKERS], n, w;
	struct dp_ctx *first;
	int ret;

	ret = dp_pick_lcores(cfg, &n, lcores);
	if (ret < 0)
		return ret;
	ret = dp_steer_init(&dp_the_steer, n, (int)rte_socket_id());
	if (ret < 0)
		return ret;
	for (w = 0; w < n; w++) {
		dp_workers[w] = dp_ctx_new(w, lcores[w], cfg);
		if (dp_workers[w] == NULL)
			return -ENOMEM;
		dp_n_workers = w + 1;
	}
	first = dp_workers[0];
	ret = dp_port_init(first, &cfg->port, &dp_the_steer,
			   cfg->dataplane.rss != 0);
	if (ret == 0)
		ret = dp_steer_tx_setup(&dp_the_steer, (int)rte_socket_id());
	if (ret < 0)
		return ret;
	/* Zero (getrandom failed) lets each engine draw its own. */
	if (getrandom(dp_isn_secret, sizeof(dp_isn_secret), 0) !=
	    (ssize_t)sizeof(dp_isn_secret))
		memset(dp_isn_secret, 0, sizeof(dp_isn_secret));
	for (w = 0; w < n && ret == 0; w++) {
		dp_ctx_share_port(dp_workers[w], first);
		ret = dp_engine_start(dp_workers[w], cfg);
	}
	if (ret == 0 && opts->pcap_path != NULL)
		ret = dp_pcap_open(dp_workers, n, opts->pcap_path);
	return ret;
}

int
dp_init(const struct dp_app_opts *opts)
{
	struct dp_config cfg;
	char ip[16];
	int ret;

	ret = dp_load_config(opts, &cfg);
	if (ret < 0)
		return ret;
	if (opts->print_config) {
		dp_config_print(stdout, &cfg);
		return 1;
	}
	ret = dp_setup(opts, &cfg);
	if (ret < 0) {
		dp_teardown();
		return ret;
	}
	dp_pdump_start();
	dp_telemetry_init(dp_workers, dp_n_workers);
	dp_signals();
	DP_LOG(INFO, "address %s/%u%s, %u engine%s ready (MSS %u)",
	       dp_ip_str(cfg.net.ip, ip, sizeof(ip)), cfg.net.prefix_len,
	       cfg.net.gateway ? ", with gateway" : "", dp_n_workers,
	       dp_n_workers == 1 ? "" : "s", dp_workers[0]->mtu - 40);
	return 0;
}

unsigned int
dp_engine_count(void)
{
	return dp_n_workers;
}

struct tcp_engine *
dp_engine_at(unsigned int i)
{
	return i < dp_n_workers ? dp_workers[i]->eng : NULL;
}

struct tcp_engine *
dp_engine(void)
{
	return dp_engine_at(0);
}

uint32_t
dp_local_ip(void)
{
	return dp_n_workers > 0 ? dp_workers[0]->ip : 0;
}

const struct dp_stats *
dp_stats(void)
{
	return dp_n_workers > 0 ? &dp_workers[0]->stats : NULL;
}

/* One iteration of the per-core loop of DESIGN.md "Data path". */
static inline void
dp_poll_once(struct dp_ctx *ctx, dp_hook_fn hook, void *arg)
{
	struct rte_mbuf *pkts[DP_RX_BURST];
	uint16_t n;

	ctx->now_us = tcp_clock_us();
	/* Input before timers: after a stall (the core was preempted) the
	 * ACKs that would stop a retransmission wait in the RX ring, so take
	 * up to DP_RX_BURSTS_MAX full bursts before the timers run. Each
	 * burst is stamped when it is taken, not when the pass began: a
	 * pass preempted before its rx_burst (a shared core) dated ACKs up to
	 * a time slice early, and RTT samples (RFC 6298, RACK) came out
	 * shorter than the path's delay. */
	if (likely(ctx->rxq != DP_NO_QUEUE)) {
		unsigned int bursts = 0;

		do {
			n = rte_eth_rx_burst(ctx->port_id, ctx->rxq, pkts,
					     DP_RX_BURST);
			if (n > 0) {
				ctx->now_us = tcp_clock_us();
				dp_eth_rx(ctx, pkts, n);
			}
		} while (n == DP_RX_BURST && ++bursts < DP_RX_BURSTS_MAX);
	}
	if (ctx->steer->n_workers > 1) {
		dp_steer_flush(ctx);
		dp_steer_poll(ctx);
	}
	if (hook != NULL)
		hook(ctx->eng, ctx->now_us, arg);
	tcp_engine_poll(ctx->eng, ctx->now_us);
	dp_arp_tick(ctx);
	dp_telemetry_update(ctx);
	dp_eth_flush(ctx);
	if (ctx->steer->tx != NULL)
		dp_steer_tx_drain(ctx);
}

static int
dp_worker_loop(void *arg)
{
	struct dp_ctx *ctx = arg;

	DP_LOG(INFO, "worker %u: poll loop on lcore %u (RX queue %d, TX queue %d)",
	       ctx->worker, rte_lcore_id(),
	       ctx->rxq == DP_NO_QUEUE ? -1 : (int)ctx->rxq,
	       ctx->txq == DP_NO_QUEUE ? -1 : (int)ctx->txq);
	while (!atomic_load_explicit(&dp_quit, memory_order_relaxed))
		dp_poll_once(ctx, dp_run_hook, dp_run_arg);
	/* Frames a worker queued for another's TX queue after that one
	 * stopped are freed by dp_fini. */
	return 0;
}

int
dp_run(dp_hook_fn hook, void *arg)
{
	unsigned int w;
	int ret;

	if (dp_n_workers == 0)
		return -EINVAL;
	if (rte_lcore_id() != dp_workers[0]->lcore_id) {
		DP_LOG(ERR, "dp_run must run on the main lcore");
		return -EINVAL;
	}
	dp_run_hook = hook;
	dp_run_arg = arg;
	for (w = 1; w < dp_n_workers; w++) {
		ret = rte_eal_remote_launch(dp_worker_loop, dp_workers[w],
					    dp_workers[w]->lcore_id);
		if (ret != 0) {
			DP_LOG(ERR, "worker %u: launch on lcore %u: %s", w,
			       dp_workers[w]->lcore_id, strerror(-ret));
			dp_stop();
			break;
		}
	}
	dp_worker_loop(dp_workers[0]);
	rte_eal_mp_wait_lcore();
	DP_LOG(INFO, "poll loops stopped");
	return 0;
}

/* Everything dp_setup made, in reverse; also after a partial setup. */
static void
dp_teardown(void)
{
	unsigned int w;

	for (w = 0; w < dp_n_workers; w++) {
		struct dp_ctx *ctx = dp_workers[w];

		if (ctx->port_id != RTE_MAX_ETHPORTS)
			dp_eth_flush(ctx);
		if (ctx->eng != NULL)
			tcp_engine_destroy(ctx->eng);
		ctx->eng = NULL;
		dp_arp_fini(ctx);
	}
	dp_telemetry_fini();
	if (dp_n_workers > 0) {
		dp_pcap_close(dp_workers[0]);
		dp_port_fini(dp_workers[0]);
	}
	dp_steer_fini(&dp_the_steer);
	for (w = 0; w < dp_n_workers; w++) {
		rte_free(dp_workers[w]);
		dp_workers[w] = NULL;
	}
	dp_n_workers = 0;
}

void
dp_fini(void)
{
	if (dp_pdump_on)
		rte_pdump_uninit();
	dp_pdump_on = false;
	dp_teardown();
	rte_eal_cleanup();
}
