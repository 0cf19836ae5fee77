/* dptcpd — the stack as a daemon for unmodified programs: runs the engines
 * of the config and serves programs started with dptcp-run (which preloads
 * libdptcp_preload.so) over shared memory. The protocol is
 * apps/shim/shm_proto.h; the control thread apps/shim/dptcpd_ctl.c; the
 * per-engine service apps/shim/dptcpd_eng.c.
 *
 *	dptcpd <EAL args> -- [--config FILE] [--ip A.B.C.D/N] ...
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_telemetry.h>

#include "dp.h"
#include "dptcpd.h"

static struct shim_daemon dptcpd;

#define TEL_U64(d, name, v) rte_tel_data_add_dict_u64(d, name, v)

static int
dptcpd_tel_shim(const char *cmd, const char *params, struct rte_tel_data *t)
{
	struct shim_daemon *d = &dptcpd;
	uint64_t sum[13] = { 0 };
	unsigned int e, k;

	(void)cmd;
	(void)params;
	for (e = 0; e < d->n_engines; e++) {
		const struct shim_eng_stats *s = &d->eng_stats[e];

		sum[0] += atomic_load_explicit(&s->commands, memory_order_relaxed);
		sum[1] += atomic_load_explicit(&s->wakeups, memory_order_relaxed);
		sum[2] += atomic_load_explicit(&s->accepted, memory_order_relaxed);
		sum[3] += atomic_load_explicit(&s->connects, memory_order_relaxed);
		sum[4] += atomic_load_explicit(&s->violations, memory_order_relaxed);
		sum[5] += atomic_load_explicit(&s->resets_on_close, memory_order_relaxed);
		sum[6] += atomic_load_explicit(&s->slots_bound, memory_order_relaxed);
		sum[7] += atomic_load_explicit(&s->orphans, memory_order_relaxed);
		sum[8] += atomic_load_explicit(&s->programs, memory_order_relaxed);
		sum[9] += atomic_load_explicit(&s->services, memory_order_relaxed);
		sum[10] += atomic_load_explicit(&s->idled, memory_order_relaxed);
		sum[11] += atomic_load_explicit(&s->kicks, memory_order_relaxed);
		sum[12] += atomic_load_explicit(&s->loops, memory_order_relaxed);
	}
	rte_tel_data_start_dict(t);
	TEL_U64(t, "programs_now", atomic_load(&d->programs_now));
	TEL_U64(t, "programs_attached", atomic_load(&d->programs_attached));
	TEL_U64(t, "programs_detached", atomic_load(&d->programs_detached));
	TEL_U64(t, "attach_errors", atomic_load(&d->attach_errors));
	TEL_U64(t, "engine_programs", sum[8]);
	TEL_U64(t, "commands", sum[0]);
	TEL_U64(t, "wakeups", sum[1]);
	TEL_U64(t, "accepted", sum[2]);
	TEL_U64(t, "connects", sum[3]);
	TEL_U64(t, "violations", sum[4]);
	TEL_U64(t, "resets_on_close", sum[5]);
	TEL_U64(t, "slots_bound", sum[6]);
	TEL_U64(t, "orphans", sum[7]);
	TEL_U64(t, "engine_loops", sum[12]);
	TEL_U64(t, "conn_services", sum[9]);
	TEL_U64(t, "conn_idled", sum[10]);
	TEL_U64(t, "conn_kicks", sum[11]);
	for (k = 0; k < SHIM_VIOL_COUNT; k++) {
		char name[32];
		uint64_t v = 0;

		for (e = 0; e < d->n_engines; e++)
			v += atomic_load_explicit(&d->eng_stats[e].viol[k],
						  memory_order_relaxed);
		snprintf(name, sizeof(name), "viol_%s", shim_viol_names[k]);
		TEL_U64(t, name, v);
	}
	return 0;
}

static int
dptcpd_rings(struct shim_daemon *d)
{
	char name[RTE_RING_NAMESIZE];
	unsigned int e;

	for (e = 0; e < d->n_engines; e++) {
		snprintf(name, sizeof(name), "shim_c2e_%u", e);
		d->to_eng[e] = rte_ring_create(name, 4096, SOCKET_ID_ANY,
					       RING_F_SP_ENQ | RING_F_SC_DEQ);
		snprintf(name, sizeof(name), "shim_e2c_%u", e);
		d->from_eng[e] = rte_ring_create(name, 4096, SOCKET_ID_ANY,
						 RING_F_SP_ENQ | RING_F_SC_DEQ);
		if (d->to_eng[e] == NULL || d->from_eng[e] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
dptcpd_rings_free(struct shim_daemon *d)
{
	unsigned int e;
	void *m;

	for (e = 0; e < d->n_engines; e++) {
		while (d->to_eng[e] != NULL && rte_ring_dequeue(d->to_eng[e], &m) == 0)
			free(m);
		while (d->from_eng[e] != NULL && rte_ring_dequeue(d->from_eng[e], &m) == 0)
			free(m);
		rte_ring_free(d->to_eng[e]);
		rte_ring_free(d->from_eng[e]);
	}
}

/* The [shim] section and the layout it implies. */
static int
dptcpd_config(struct shim_daemon *d, const struct dp_app_opts *opts)
{
	struct dp_config cfg;
	struct shm_layout l;
	int ret;

	dp_config_defaults(&cfg);
	if (opts->config_path != NULL) {
		ret = dp_config_load(opts->config_path, &cfg);
		if (ret < 0)
			return ret;
	}
	d->cfg = cfg.shim;
	d->n_channels = SHM_MAX_CHANNELS;
	d->n_engines = dp_engine_count();
	if (d->n_engines > SHM_MAX_ENGINES) {
		fprintf(stderr, "dptcpd: %u workers; the shim serves at most %u\n",
			d->n_engines, SHM_MAX_ENGINES);
		return -EINVAL;
	}
	shm_layout(d->n_engines, d->n_channels, d->cfg.max_sockets,
		   d->cfg.rx_ring_bytes, d->cfg.tx_ring_bytes, &l);
	if (d->cfg.region_mb != 0 &&
	    l.region_bytes > ((uint64_t)d->cfg.region_mb << 20)) {
		fprintf(stderr,
			"dptcpd: [shim] region_mb = %u is too small for max_sockets = %u with rx_ring_bytes = %u and tx_ring_bytes = %u: they need %" PRIu64 " MiB\n",
			d->cfg.region_mb, d->cfg.max_sockets,
			d->cfg.rx_ring_bytes, d->cfg.tx_ring_bytes,
			(l.region_bytes + (1u << 20) - 1) >> 20);
		return -EINVAL;
	}
	d->local_ip = dp_local_ip();
	d->prefix_len = opts->ip != 0 ? opts->prefix_len : cfg.net.prefix_len;
	d->gateway = opts->gateway != 0 ? opts->gateway : cfg.net.gateway;
	return 0;
}

int
main(int argc, char **argv)
{
	struct dp_app_opts opts;
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "dptcpd: EAL: %s\n", rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	ret = dp_parse_app_args(argc - ret, argv + ret, &opts);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	ret = dp_init(&opts);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 1;
	}
	ret = dptcpd_config(&dptcpd, &opts);
	if (ret == 0)
		ret = dptcpd_rings(&dptcpd);
	if (ret == 0)
		ret = shim_eng_init(&dptcpd);
	if (ret == 0)
		rte_telemetry_register_cmd("/dptcp/shim", dptcpd_tel_shim,
			"dptcpd: programs attached, shim commands, violations, slots. No parameters");
	if (ret == 0)
		ret = shim_ctl_start(&dptcpd);
	if (ret < 0) {
		dptcpd_rings_free(&dptcpd);
		dp_fini();
		return 1;
	}
	dp_run(shim_eng_hook, &dptcpd);
	shim_eng_fini(&dptcpd);
	shim_ctl_stop(&dptcpd);
	dptcpd_rings_free(&dptcpd);
	DP_LOG(INFO, "dptcpd: %" PRIu64 " programs served",
	       (uint64_t)atomic_load(&dptcpd.programs_attached));
	dp_fini();
	return 0;
}
