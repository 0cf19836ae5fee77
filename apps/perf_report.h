/* perf_report.h — what dptcp-perf (on dptcp) and dptcp-kperf (on kernel
 * sockets) share: their options, a log-linear latency histogram, the
 * counters of a run and how they are printed (table or JSON). Free of DPDK,
 * so the kernel twin builds and runs without EAL. */
#ifndef PERF_REPORT_H
#define PERF_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum perf_mode {
	PERF_RR,      /* request, response, repeat on one connection */
	PERF_CRR,     /* connect, request, response, close, repeat */
	PERF_BULK,    /* send continuously, read and discard what comes back */
};

enum perf_close {
	PERF_CLOSE_FIN,   /* orderly: FIN; the client keeps TIME_WAIT */
	PERF_CLOSE_RST,   /* abort: RST; no TIME_WAIT anywhere */
};

struct perf_opts {
	uint32_t server_ip;        /* host byte order */
	uint16_t server_port;
	enum perf_mode mode;
	uint32_t conns;            /* total, spread over engines / threads */
	double duration_s;         /* measured window */
	double warmup_s;           /* before it: run, but count nothing */
	double timeout_s;          /* no progress for this long: a timeout */
	uint32_t size;             /* request (rr, crr) or write (bulk) bytes */
	uint32_t resp_size;        /* response bytes (rr, crr) */
	enum perf_close close;     /* how crr and the end of a run close */
	bool json;
	/* dptcp-kperf only */
	uint32_t threads;
	bool spin;                 /* epoll_wait without sleeping */
	char cc[16];               /* TCP_CONGESTION of every socket ("": the
				    * namespace's default) */
	/* internal: whether the user gave them */
	bool size_set, resp_size_set;
};

#define PERF_OPT_KERNEL 0x1u      /* accept --threads, --spin */

void perf_opts_defaults(struct perf_opts *o);
/* Parses argv[*i] (and its value, advancing *i): 1 when it was a perf
 * option, 0 when it is not one, -1 after printing an error. */
int perf_opt_parse(int argc, char **argv, int *i, struct perf_opts *o,
		   const char *prog, unsigned int flags);
/* Checks the whole (server given, sizes) and fills in mode-dependent
 * defaults. 0 or -1 after printing an error. */
int perf_opts_check(struct perf_opts *o, const char *prog);
void perf_opts_usage(FILE *f, unsigned int flags);
const char *perf_mode_name(enum perf_mode m);

/* HdrHistogram-like: values below 2*SUB are exact (1 ns buckets); above,
 * each power-of-two range [2^k, 2^(k+1)) is split into SUB linear buckets,
 * so a bucket is at most 1/SUB (1.6 %) of its value wide. Values from
 * 2^MAX_BITS ns (18 min) on land in the last bucket. */
#define PERF_HIST_SUB_BITS 6u
#define PERF_HIST_SUB (1u << PERF_HIST_SUB_BITS)
#define PERF_HIST_MAX_BITS 40u
#define PERF_HIST_BUCKETS \
	((PERF_HIST_MAX_BITS - PERF_HIST_SUB_BITS + 1u) * PERF_HIST_SUB)

struct perf_hist {
	uint64_t total;
	uint64_t sum_ns;
	uint64_t min_ns, max_ns;
	uint64_t count[PERF_HIST_BUCKETS];
};

static inline unsigned int
perf_hist_index(uint64_t ns)
{
	unsigned int msb, shift;

	if (ns >= (1ull << PERF_HIST_MAX_BITS))
		ns = (1ull << PERF_HIST_MAX_BITS) - 1;
	msb = 63u - (unsigned int)__builtin_clzll(ns | 1u);
	shift = msb > PERF_HIST_SUB_BITS ? msb - PERF_HIST_SUB_BITS : 0;
	return shift * PERF_HIST_SUB + (unsigned int)(ns >> shift);
}

static inline void
perf_hist_record(struct perf_hist *h, uint64_t ns)
{
	h->count[perf_hist_index(ns)]++;
	if (h->total == 0 || ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->total++;
	h->sum_ns += ns;
}

void perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src);
/* Highest value of bucket i (inclusive). */
uint64_t perf_hist_bucket_high(unsigned int i);
/* The value at or below which `permille` thousandths of the samples lie,
 * as its bucket's upper bound (never above the exact maximum). */
uint64_t perf_hist_percentile(const struct perf_hist *h, unsigned int permille);

/* One engine's or thread's counters; merged at the end. Bytes count when
 * they move inside the measured window, transactions (and their latency)
 * when they begin and end inside it; errors count over the whole run. */
struct perf_counters {
	uint64_t transactions;     /* rr/crr: round trips; bulk: --size writes */
	uint64_t bytes_tx, bytes_rx;
	uint64_t connects;         /* established, whole run */
	uint64_t err_connect;      /* refused, unreachable, SYN unanswered */
	uint64_t err_no_port;      /* no free local port (TIME_WAIT) */
	uint64_t err_reset;        /* RST from the peer */
	uint64_t err_timeout;      /* no progress for --timeout */
	uint64_t err_closed;       /* the peer closed in the middle */
	uint64_t err_other;
	struct perf_hist hist;     /* latency, ns (not in bulk) */
};

void perf_counters_merge(struct perf_counters *dst,
			 const struct perf_counters *src);
uint64_t perf_counters_errors(const struct perf_counters *c);

struct perf_result {
	const char *tool;          /* "dptcp-perf" */
	const char *stack;         /* "dptcp" or "linux" */
	const struct perf_opts *opts;
	unsigned int engines;      /* engines (dptcp) or threads (kernel) */
	double duration_s;         /* measured window actually run */
	const struct perf_counters *c;      /* merged */
	/* Optional: each engine's / thread's own, for the per-engine lines. */
	const struct perf_counters *const *parts;
	unsigned int nparts;
	/* Optional: the congestion control the connections used, and a JSON
	 * object of the stack's own counters (dptcp's engine counters), put
	 * in the JSON report as "cc" and "stack_counters". */
	const char *cc;
	const char *stack_json;
};

/* Table, or one JSON object (opts->json), on f. */
void perf_report(FILE *f, const struct perf_result *r);

/* Exit code of the tools: 0 when a transaction completed, else 1. */
static inline int
perf_exit_code(const struct perf_result *r)
{
	return r->c->transactions > 0 ? 0 : 1;
}

#endif
