/* dptcp-perf — a load generator and latency meter on dptcp, the client
 * twin of dptcp-kperf (kernel sockets): rr (request/response on long
 * connections), crr (connect, request, response, close) and bulk
 * (streaming) against any TCP server. Each engine owns its share of the
 * connections, its counters and its histogram; they are created and driven
 * only from that engine's poll-loop hook and merged when the loops end.
 *
 *   dptcp-perf <EAL args> -- <dp options> <perf options>
 *
 * The perf options (perf_report.h) are taken out of the arguments first;
 * the rest goes to dp_parse_app_args(). */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "dp.h"
#include "dpt.h"
#include "perf_report.h"
#include "tcp_stats.h"

#define PERF_PROG "dptcp-perf"
#define PERF_RXBUF 65536
#define PERF_SCAN_US 1000         /* timeouts, reconnects, end of run */
#define PERF_RETRY_US 10000       /* after an error, before reconnecting */
#define PERF_DRAIN_US 1000000     /* at the end, wait this long for CLOSED */

enum pc_state {
	PC_IDLE,          /* no handle; connect again at retry_at */
	PC_CONNECTING,    /* dpt_connect() called, CONNECTED not yet */
	PC_ACTIVE,        /* moving bytes */
};

struct perf_engine;

struct perf_conn {
	struct perf_engine *pe;
	struct tcp_conn *c;            /* NULL when PC_IDLE */
	enum pc_state st;
	bool starved;                  /* dpt_send() said -ENOBUFS */
	TAILQ_ENTRY(perf_conn) link;   /* in pe->starved */
	uint64_t t_start;              /* TSC: current transaction began */
	uint64_t t_progress;           /* TSC: last byte moved (timeouts) */
	uint64_t retry_at;             /* TSC: PC_IDLE: reconnect from then */
	uint32_t sent, rcvd;           /* of the current request / response */
};

TAILQ_HEAD(perf_conn_list, perf_conn);

/* Everything one engine owns; touched only on its lcore until dp_run()
 * returns. */
struct perf_engine {
	struct tcp_engine *eng;
	struct perf_conn *conns;
	uint32_t nconns;
	bool started, draining, done;
	uint32_t closing;              /* handles closed, CLOSED not yet seen */
	uint64_t next_scan;            /* TSC */
	uint64_t drain_deadline;       /* TSC */
	struct perf_conn_list starved;
	struct perf_counters ctr;
	uint8_t rxbuf[PERF_RXBUF];
} __rte_cache_aligned;

/* Read-only once dp_run() starts, except engines_done. */
static struct {
	struct perf_opts o;
	uint64_t hz;
	double ns_per_tsc;
	uint64_t t0, t_measure, t_end;         /* TSC */
	uint64_t scan_tsc, retry_tsc, drain_tsc, timeout_tsc;
	uint8_t *txbuf;                        /* o.size bytes */
	unsigned int nengines;
	struct perf_engine **pe;
	atomic_uint engines_done;
} run;

static void perf_event(struct tcp_engine *eng, struct tcp_conn *c,
		       enum dpt_event ev, int err, void *user);

static inline bool
in_window(uint64_t t)
{
	return t >= run.t_measure && t < run.t_end;
}

/* A transaction counts when it both began and ended inside the window:
 * one that began in the warm-up (say, a first SYN lost while the link
 * came up) must not land in the histogram. */
static inline bool
txn_in_window(uint64_t start, uint64_t end)
{
	return start >= run.t_measure && end < run.t_end;
}

static inline uint64_t
tsc_to_ns(uint64_t d)
{
	return (uint64_t)((double)d * run.ns_per_tsc);
}

static void
pc_starve(struct perf_engine *pe, struct perf_conn *pc)
{
	if (!pc->starved) {
		pc->starved = true;
		TAILQ_INSERT_TAIL(&pe->starved, pc, link);
	}
}

static void
pc_unstarve(struct perf_engine *pe, struct perf_conn *pc)
{
	if (pc->starved) {
		pc->starved = false;
		TAILQ_REMOVE(&pe->starved, pc, link);
	}
}

/* The handle is gone (or given up): the slot waits, then reconnects. */
static void
pc_idle(struct perf_engine *pe, struct perf_conn *pc, uint64_t retry_at)
{
	pc_unstarve(pe, pc);
	pc->c = NULL;
	pc->st = PC_IDLE;
	pc->retry_at = retry_at;
}

static void
pc_open(struct perf_engine *pe, struct perf_conn *pc, uint64_t now)
{
	struct tcp_conn *c = NULL;
	int rc;

	pc->sent = pc->rcvd = 0;
	pc->t_start = pc->t_progress = now;   /* crr: the cycle starts here */
	rc = dpt_connect(pe->eng, run.o.server_ip, run.o.server_port, 0,
			 perf_event, pc, &c);
	if (rc < 0) {                          /* no local port, no memory */
		if (rc == -EADDRNOTAVAIL)
			pe->ctr.err_no_port++;
		else
			pe->ctr.err_connect++;
		pc_idle(pe, pc, now + run.retry_tsc);
		return;
	}
	pc->c = c;
	pc->st = PC_CONNECTING;
}

/* Our side ends the connection: FIN or RST as --close says. The handle
 * is detached first, so its last event (maybe inside dpt_close()) only
 * settles pe->closing. */
static void
pc_close(struct perf_engine *pe, struct perf_conn *pc, uint64_t retry_at)
{
	struct tcp_conn *c = pc->c;

	pc_idle(pe, pc, retry_at);
	if (c == NULL)
		return;
	dpt_set_user(c, NULL);
	if (run.o.close == PERF_CLOSE_RST) {
		dpt_abort(pe->eng, c);
		return;
	}
	pe->closing++;
	if (dpt_close(pe->eng, c) < 0)
		pe->closing--;
}

/* Something went wrong with a live handle: count it, RST, retry later. */
static void
pc_fail(struct perf_engine *pe, struct perf_conn *pc, uint64_t *counter,
	uint64_t now)
{
	struct tcp_conn *c = pc->c;

	(*counter)++;
	pc_idle(pe, pc, now + run.retry_tsc);
	if (c != NULL) {
		dpt_set_user(c, NULL);
		dpt_abort(pe->eng, c);
	}
}

/* Sends what the mode wants sent. false when the connection failed. */
static bool
pc_send(struct perf_engine *pe, struct perf_conn *pc, uint64_t now,
	bool *moved)
{
	const struct perf_opts *o = &run.o;
	ssize_t n;
	size_t want;

	while (pc->sent < o->size) {
		want = o->size - pc->sent;
		n = dpt_send(pe->eng, pc->c, run.txbuf + pc->sent, want);
		if (n == -ENOBUFS) {
			pc_starve(pe, pc);     /* no event follows: the hook retries */
			return true;
		}
		if (n == -EAGAIN)
			return true;           /* DPT_EV_WRITABLE follows */
		if (n < 0) {
			pc_fail(pe, pc, &pe->ctr.err_other, now);
			return false;
		}
		*moved = true;
		pc->sent += (uint32_t)n;
		if (in_window(now))
			pe->ctr.bytes_tx += (uint64_t)n;
		if (o->mode == PERF_BULK && pc->sent == o->size) {
			pc->sent = 0;          /* one write done, start the next */
			if (in_window(now))
				pe->ctr.transactions++;
		}
		if ((size_t)n < want)
			return true;           /* DPT_EV_WRITABLE follows */
	}
	return true;
}

/* Moves bytes until the connection would block; completes transactions.
 * Called on every event of the connection and from the hook when starved. */
static void
pc_pump(struct perf_engine *pe, struct perf_conn *pc)
{
	const struct perf_opts *o = &run.o;
	bool moved, eof;
	uint64_t now, t;
	ssize_t n;

	while (pc->c != NULL && pc->st == PC_ACTIVE) {
		now = rte_rdtsc();
		moved = eof = false;
		if (!pc_send(pe, pc, now, &moved))
			return;
		for (;;) {
			n = dpt_recv(pe->eng, pc->c, pe->rxbuf, PERF_RXBUF);
			if (n == -EAGAIN)
				break;
			if (n == 0) {
				eof = true;
				break;
			}
			if (n < 0) {
				pc_fail(pe, pc, &pe->ctr.err_other, now);
				return;
			}
			moved = true;
			pc->rcvd += (uint32_t)n;
			if (in_window(now))
				pe->ctr.bytes_rx += (uint64_t)n;
		}
		if (moved)
			pc->t_progress = now;
		if (o->mode == PERF_BULK || pc->sent < o->size ||
		    pc->rcvd < o->resp_size) {
			if (eof)
				pc_fail(pe, pc, &pe->ctr.err_closed, now);
			return;
		}
		/* The response is complete. */
		t = rte_rdtsc();
		if (txn_in_window(pc->t_start, t)) {
			pe->ctr.transactions++;
			perf_hist_record(&pe->ctr.hist, tsc_to_ns(t - pc->t_start));
		}
		pc->rcvd -= o->resp_size;
		pc->sent = 0;
		if (o->mode == PERF_CRR) {
			pc_close(pe, pc, t);
			if (!pe->draining && t < run.t_end)
				pc_open(pe, pc, t);
			return;
		}
		if (eof) {
			pc_fail(pe, pc, &pe->ctr.err_closed, t);
			return;
		}
		pc->t_start = pc->t_progress = t;   /* rr: the next request */
	}
}

static void
perf_event(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	   int err, void *user)
{
	struct perf_engine *pe = run.pe[tcp_engine_id(eng)];
	struct perf_conn *pc = user;
	uint64_t now;

	if (pc == NULL) {                      /* a handle we closed */
		if (ev == DPT_EV_CLOSED || ev == DPT_EV_RESET ||
		    ev == DPT_EV_ERROR)
			pe->closing--;
		return;
	}
	switch (ev) {
	case DPT_EV_CONNECTED:
		now = rte_rdtsc();
		pc->st = PC_ACTIVE;
		pe->ctr.connects++;
		pc->t_progress = now;
		if (run.o.mode != PERF_CRR)
			pc->t_start = now;     /* rr: the first request */
		pc_pump(pe, pc);
		break;
	case DPT_EV_READABLE:
	case DPT_EV_WRITABLE:
	case DPT_EV_PEER_CLOSED:
		pc_pump(pe, pc);
		break;
	case DPT_EV_CLOSED:
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		/* The engine is done with the handle: no dpt_abort(). */
		if (pc->st == PC_CONNECTING)
			pe->ctr.err_connect++;
		else if (ev == DPT_EV_RESET)
			pe->ctr.err_reset++;
		else if (err == -ETIMEDOUT)
			pe->ctr.err_timeout++;
		else if (ev == DPT_EV_CLOSED)
			pe->ctr.err_closed++;
		else
			pe->ctr.err_other++;
		pc_idle(pe, pc, rte_rdtsc() + run.retry_tsc);
		break;
	default:
		break;
	}
}

static void
pe_start(struct perf_engine *pe, struct tcp_engine *eng, uint64_t now)
{
	uint32_t i;

	pe->eng = eng;
	pe->started = true;
	pe->next_scan = now + run.scan_tsc;
	for (i = 0; i < pe->nconns; i++)
		pc_open(pe, &pe->conns[i], now);
}

static void
pe_drain(struct perf_engine *pe, uint64_t now)
{
	uint32_t i;

	pe->draining = true;
	pe->drain_deadline = now + run.drain_tsc;
	for (i = 0; i < pe->nconns; i++)
		pc_close(pe, &pe->conns[i], UINT64_MAX);
}

/* Every PERF_SCAN_US: the end of the run, timeouts and reconnects. */
static void
pe_scan(struct perf_engine *pe, uint64_t now)
{
	struct perf_conn *pc;
	uint32_t i;

	if (!pe->draining && now >= run.t_end)
		pe_drain(pe, now);
	if (pe->draining) {
		if (pe->closing == 0 || now >= pe->drain_deadline) {
			pe->done = true;
			if (atomic_fetch_add(&run.engines_done, 1) + 1 ==
			    run.nengines)
				dp_stop();
		}
		return;
	}
	for (i = 0; i < pe->nconns; i++) {
		pc = &pe->conns[i];
		if (pc->st == PC_IDLE) {
			if (now >= pc->retry_at)
				pc_open(pe, pc, now);
		} else if (now > pc->t_progress &&
			   now - pc->t_progress > run.timeout_tsc) {
			/* t_progress may be newer than now: starved
			 * connections are pumped after now was read. */
			pc_fail(pe, pc, &pe->ctr.err_timeout, now);
		}
	}
}

static void
perf_hook(struct tcp_engine *eng, uint64_t now_us, void *arg)
{
	struct perf_engine *pe = run.pe[tcp_engine_id(eng)];
	struct perf_conn_list retry = TAILQ_HEAD_INITIALIZER(retry);
	struct perf_conn *pc;
	uint64_t now;

	(void)now_us;
	(void)arg;
	if (pe->done)
		return;
	now = rte_rdtsc();
	if (!pe->started)
		pe_start(pe, eng, now);
	if (!TAILQ_EMPTY(&pe->starved)) {
		TAILQ_CONCAT(&retry, &pe->starved, link);
		while ((pc = TAILQ_FIRST(&retry)) != NULL) {
			TAILQ_REMOVE(&retry, pc, link);
			pc->starved = false;
			pc_pump(pe, pc);
		}
	}
	if (now >= pe->next_scan) {
		pe->next_scan = now + run.scan_tsc;
		pe_scan(pe, now);
	}
}

/* The engines' counters added up, as one JSON object (the report's
 * "stack_counters"): what the stack did to move the bytes (segments,
 * retransmits, timeouts, recoveries...). NULL when out of memory. */
static char *
engine_counters_json(void)
{
	struct tcp_stats sum;
	unsigned int e;
	size_t len = 0;
	char *buf = malloc(8192);

	if (buf == NULL)
		return NULL;
	memset(&sum, 0, sizeof(sum));
	for (e = 0; e < run.nengines; e++) {
		const struct tcp_stats *st = tcp_engine_stats(dp_engine_at(e));
#define PERF_SUM(n) sum.n += st->n;
		TCP_STATS_LIST(PERF_SUM)
#undef PERF_SUM
	}
	len += (size_t)snprintf(buf + len, 8192 - len, "{");
#define PERF_JSON(n) \
	if (len < 8192) \
		len += (size_t)snprintf(buf + len, 8192 - len, "%s\"%s\": %" PRIu64, \
					len > 1 ? ", " : "", #n, sum.n);
	TCP_STATS_LIST(PERF_JSON)
#undef PERF_JSON
	if (len + 2 > 8192) {
		free(buf);
		return NULL;
	}
	snprintf(buf + len, 8192 - len, "}");
	return buf;
}

static void
perf_usage(FILE *f, const char *prog)
{
	fprintf(f, "usage: %s <EAL args> -- <dp options> <perf options>\n",
		prog);
	dp_usage(f, prog);
	perf_opts_usage(f, 0);
}

/* Takes the perf options out of argv; what is left goes to dp. Returns
 * the number of arguments left (argv[0] kept), -1 on a bad perf option,
 * 0 when --help was asked for. */
static int
split_args(int argc, char **argv, char **rest)
{
	int i, n = 1, r;

	rest[0] = argv[0];
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			return 0;
		r = perf_opt_parse(argc, argv, &i, &run.o, PERF_PROG, 0);
		if (r < 0)
			return -1;
		if (r == 0)
			rest[n++] = argv[i];
	}
	rest[n] = NULL;
	return n;
}

static int
perf_alloc(void)
{
	unsigned int e;
	uint32_t share, extra;

	run.txbuf = malloc(run.o.size);
	run.pe = calloc(run.nengines, sizeof(*run.pe));
	if (run.txbuf == NULL || run.pe == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < run.o.size; i++)
		run.txbuf[i] = (uint8_t)('a' + i % 26);
	share = run.o.conns / run.nengines;
	extra = run.o.conns % run.nengines;
	for (e = 0; e < run.nengines; e++) {
		struct perf_engine *pe;

		pe = aligned_alloc(RTE_CACHE_LINE_SIZE,
				   RTE_ALIGN_CEIL(sizeof(*pe), RTE_CACHE_LINE_SIZE));
		if (pe == NULL)
			return -ENOMEM;
		memset(pe, 0, sizeof(*pe));
		run.pe[e] = pe;
		TAILQ_INIT(&pe->starved);
		pe->nconns = share + (e < extra ? 1 : 0);
		pe->conns = calloc(pe->nconns ? pe->nconns : 1,
				   sizeof(*pe->conns));
		if (pe->conns == NULL)
			return -ENOMEM;
		for (uint32_t i = 0; i < pe->nconns; i++)
			pe->conns[i].pe = pe;
	}
	return 0;
}

static void
perf_free(void)
{
	unsigned int e;

	for (e = 0; run.pe != NULL && e < run.nengines; e++) {
		if (run.pe[e] != NULL)
			free(run.pe[e]->conns);
		free(run.pe[e]);
	}
	free(run.pe);
	free(run.txbuf);
}

int
main(int argc, char **argv)
{
	struct dp_app_opts dopts;
	const struct perf_counters **parts;
	struct perf_counters *total;
	struct perf_result res;
	char *stack_json;
	char **rest;
	uint64_t t_stop;
	unsigned int e;
	int ret, n, code;

	/* The report owns stdout (--json): logs go to stderr. */
	rte_openlog_stream(stderr);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "%s: EAL: %s\n", PERF_PROG,
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	argc -= ret;
	argv += ret;
	perf_opts_defaults(&run.o);
	rest = calloc((size_t)argc + 1, sizeof(*rest));
	if (rest == NULL) {
		rte_eal_cleanup();
		return 1;
	}
	n = split_args(argc, argv, rest);
	if (n == 0) {
		perf_usage(stdout, PERF_PROG);
		free(rest);
		rte_eal_cleanup();
		return 0;
	}
	ret = n < 0 ? -EINVAL : dp_parse_app_args(n, rest, &dopts);
	if (ret == 0 && !dopts.print_config &&
	    perf_opts_check(&run.o, PERF_PROG) < 0)
		ret = -EINVAL;
	free(rest);
	if (ret != 0) {
		if (ret < 0)
			perf_usage(stderr, PERF_PROG);
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	ret = dp_init(&dopts);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 1;
	}

	run.nengines = dp_engine_count();
	run.hz = rte_get_tsc_hz();
	run.ns_per_tsc = 1e9 / (double)run.hz;
	run.scan_tsc = run.hz * PERF_SCAN_US / 1000000;
	run.retry_tsc = run.hz * PERF_RETRY_US / 1000000;
	run.drain_tsc = run.hz * PERF_DRAIN_US / 1000000;
	run.timeout_tsc = (uint64_t)(run.o.timeout_s * (double)run.hz);
	atomic_init(&run.engines_done, 0);
	if (run.nengines == 0 || perf_alloc() < 0) {
		DP_LOG(ERR, "perf: out of memory");
		perf_free();
		dp_fini();
		return 1;
	}
	run.t0 = rte_rdtsc();
	run.t_measure = run.t0 + (uint64_t)(run.o.warmup_s * (double)run.hz);
	run.t_end = run.t_measure +
		    (uint64_t)(run.o.duration_s * (double)run.hz);
	DP_LOG(INFO, "perf: %s, %" PRIu32 " connections on %u engine(s), "
	       "%.3f s + %.3f s warm-up", perf_mode_name(run.o.mode),
	       run.o.conns, run.nengines, run.o.duration_s, run.o.warmup_s);
	dp_run(perf_hook, NULL);
	t_stop = rte_rdtsc();

	total = calloc(1, sizeof(*total));
	parts = calloc(run.nengines, sizeof(*parts));
	if (total == NULL || parts == NULL) {
		free(total);
		free(parts);
		perf_free();
		dp_fini();
		return 1;
	}
	for (e = 0; e < run.nengines; e++) {
		perf_counters_merge(total, &run.pe[e]->ctr);
		parts[e] = &run.pe[e]->ctr;
	}
	if (t_stop > run.t_end)
		t_stop = run.t_end;
	res = (struct perf_result){
		.tool = PERF_PROG,
		.stack = "dptcp",
		.opts = &run.o,
		.engines = run.nengines,
		.duration_s = t_stop > run.t_measure ?
			(double)(t_stop - run.t_measure) / (double)run.hz : 0,
		.c = total,
		.parts = parts,
		.nparts = run.nengines,
		.cc = tcp_engine_cc_name(dp_engine_at(0)),
		.stack_json = stack_json = engine_counters_json(),
	};
	perf_report(stdout, &res);
	free(stack_json);
	code = perf_exit_code(&res);
	free(parts);
	free(total);
	perf_free();
	dp_fini();
	return code;
}
