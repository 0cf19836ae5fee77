/* perf_report.c — options, histogram and report shared by dptcp-perf and
 * dptcp-kperf (see perf_report.h). Control path only: nothing here runs
 * per packet except the inline recording in the header. */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "perf_report.h"

#define PERF_MAX_SIZE (64u << 20)
#define PERF_BULK_DEFAULT_SIZE 65536u

void
perf_opts_defaults(struct perf_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = PERF_RR;
	o->conns = 1;
	o->duration_s = 5.0;
	o->warmup_s = 1.0;
	o->timeout_s = 2.0;
	o->size = 64;
	o->resp_size = 64;
	o->close = PERF_CLOSE_FIN;
	o->threads = 1;
}

const char *
perf_mode_name(enum perf_mode m)
{
	switch (m) {
	case PERF_RR:
		return "rr";
	case PERF_CRR:
		return "crr";
	case PERF_BULK:
		return "bulk";
	}
	return "?";
}

void
perf_opts_usage(FILE *f, unsigned int flags)
{
	fprintf(f,
		"perf options:\n"
		"  --server A.B.C.D:PORT  the TCP server to drive (required)\n"
		"  --mode rr|crr|bulk     request/response on long connections (default),\n"
		"                         connect-request-response-close, or streaming\n"
		"  --conns N              connections in all (default 1)%s\n"
		"  --duration S           measured seconds (default 5)\n"
		"  --warmup S             seconds run before measuring (default 1)\n"
		"  --size B               request bytes (default 64); bulk: bytes per write\n"
		"                         (default 65536)\n"
		"  --resp-size B          response bytes (default: --size)\n"
		"  --close fin|rst        crr and end of run: orderly close (default) or\n"
		"                         abort with RST (no client TIME_WAIT)\n"
		"  --timeout S            no progress for S seconds counts a timeout and\n"
		"                         reconnects (default 2)\n"
		"  --json                 one JSON object on stdout instead of the table\n",
		(flags & PERF_OPT_KERNEL) ? ", spread over the threads" :
					    ", spread over the engines");
	if (flags & PERF_OPT_KERNEL)
		fprintf(f,
			"  --threads N            client threads, one epoll each (default 1)\n"
			"  --spin                 busy-poll epoll_wait (timeout 0)\n"
			"  --cc NAME              TCP_CONGESTION of every connection (cubic,\n"
			"                         reno, bbr...; default: the system's)\n");
}

static const char *
opt_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc)
		return "";              /* reported as a bad value */
	return argv[++*i];
}

static int
parse_u32(const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	unsigned long long x;

	if (*v == '\0' || *v == '-')
		return -1;
	errno = 0;
	x = strtoull(v, &end, 10);
	if (errno != 0 || *end != '\0' || x < lo || x > hi)
		return -1;
	*out = (uint32_t)x;
	return 0;
}

static int
parse_seconds(const char *v, double lo, double hi, double *out)
{
	char *end;
	double x;

	if (*v == '\0')
		return -1;
	errno = 0;
	x = strtod(v, &end);
	if (errno != 0 || *end != '\0' || !(x >= lo && x <= hi))
		return -1;
	*out = x;
	return 0;
}

static int
parse_server(const char *v, uint32_t *ip, uint16_t *port)
{
	char host[32];
	const char *colon = strrchr(v, ':');
	struct in_addr a;
	uint32_t p;

	if (colon == NULL || (size_t)(colon - v) >= sizeof(host))
		return -1;
	memcpy(host, v, (size_t)(colon - v));
	host[colon - v] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1 ||
	    parse_u32(colon + 1, 1, 65535, &p) < 0)
		return -1;
	*ip = ntohl(a.s_addr);
	*port = (uint16_t)p;
	return *ip != 0 ? 0 : -1;
}

static int
bad(const char *prog, const char *opt, const char *v, const char *want)
{
	fprintf(stderr, "%s: %s '%s': expected %s\n", prog, opt, v, want);
	return -1;
}

int
perf_opt_parse(int argc, char **argv, int *i, struct perf_opts *o,
	       const char *prog, unsigned int flags)
{
	const char *v;

	if ((v = opt_value(argc, argv, i, "--server")) != NULL) {
		if (parse_server(v, &o->server_ip, &o->server_port) < 0)
			return bad(prog, "--server", v, "A.B.C.D:PORT");
	} else if ((v = opt_value(argc, argv, i, "--mode")) != NULL) {
		if (strcmp(v, "rr") == 0)
			o->mode = PERF_RR;
		else if (strcmp(v, "crr") == 0)
			o->mode = PERF_CRR;
		else if (strcmp(v, "bulk") == 0)
			o->mode = PERF_BULK;
		else
			return bad(prog, "--mode", v, "rr, crr or bulk");
	} else if ((v = opt_value(argc, argv, i, "--conns")) != NULL) {
		if (parse_u32(v, 1, 1u << 20, &o->conns) < 0)
			return bad(prog, "--conns", v, "1..1048576");
	} else if ((v = opt_value(argc, argv, i, "--duration")) != NULL) {
		if (parse_seconds(v, 0.001, 86400, &o->duration_s) < 0)
			return bad(prog, "--duration", v, "seconds, 0.001..86400");
	} else if ((v = opt_value(argc, argv, i, "--warmup")) != NULL) {
		if (parse_seconds(v, 0, 3600, &o->warmup_s) < 0)
			return bad(prog, "--warmup", v, "seconds, 0..3600");
	} else if ((v = opt_value(argc, argv, i, "--timeout")) != NULL) {
		if (parse_seconds(v, 0.001, 3600, &o->timeout_s) < 0)
			return bad(prog, "--timeout", v, "seconds, 0.001..3600");
	} else if ((v = opt_value(argc, argv, i, "--size")) != NULL) {
		if (parse_u32(v, 1, PERF_MAX_SIZE, &o->size) < 0)
			return bad(prog, "--size", v, "bytes, 1..67108864");
		o->size_set = true;
	} else if ((v = opt_value(argc, argv, i, "--resp-size")) != NULL) {
		if (parse_u32(v, 1, PERF_MAX_SIZE, &o->resp_size) < 0)
			return bad(prog, "--resp-size", v, "bytes, 1..67108864");
		o->resp_size_set = true;
	} else if ((v = opt_value(argc, argv, i, "--close")) != NULL) {
		if (strcmp(v, "fin") == 0)
			o->close = PERF_CLOSE_FIN;
		else if (strcmp(v, "rst") == 0)
			o->close = PERF_CLOSE_RST;
		else
			return bad(prog, "--close", v, "fin or rst");
	} else if (strcmp(argv[*i], "--json") == 0) {
		o->json = true;
	} else if ((flags & PERF_OPT_KERNEL) &&
		   (v = opt_value(argc, argv, i, "--threads")) != NULL) {
		if (parse_u32(v, 1, 1024, &o->threads) < 0)
			return bad(prog, "--threads", v, "1..1024");
	} else if ((flags & PERF_OPT_KERNEL) &&
		   strcmp(argv[*i], "--spin") == 0) {
		o->spin = true;
	} else if ((flags & PERF_OPT_KERNEL) &&
		   (v = opt_value(argc, argv, i, "--cc")) != NULL) {
		if (*v == '\0' || strlen(v) >= sizeof(o->cc))
			return bad(prog, "--cc", v, "a congestion control name");
		snprintf(o->cc, sizeof(o->cc), "%s", v);
	} else {
		return 0;
	}
	return 1;
}

int
perf_opts_check(struct perf_opts *o, const char *prog)
{
	if (o->server_ip == 0) {
		fprintf(stderr, "%s: --server A.B.C.D:PORT is required\n", prog);
		return -1;
	}
	if (o->mode == PERF_BULK && !o->size_set)
		o->size = PERF_BULK_DEFAULT_SIZE;
	if (!o->resp_size_set)
		o->resp_size = o->size;
	return 0;
}

void
perf_hist_merge(struct perf_hist *dst, const struct perf_hist *src)
{
	unsigned int i;

	if (src->total == 0)
		return;
	if (dst->total == 0 || src->min_ns < dst->min_ns)
		dst->min_ns = src->min_ns;
	if (src->max_ns > dst->max_ns)
		dst->max_ns = src->max_ns;
	dst->total += src->total;
	dst->sum_ns += src->sum_ns;
	for (i = 0; i < PERF_HIST_BUCKETS; i++)
		dst->count[i] += src->count[i];
}

uint64_t
perf_hist_bucket_high(unsigned int i)
{
	unsigned int shift;
	uint64_t top;

	if (i < 2 * PERF_HIST_SUB)
		return i;
	shift = i / PERF_HIST_SUB - 1;
	top = i - shift * PERF_HIST_SUB;        /* in [SUB, 2*SUB) */
	return ((top + 1) << shift) - 1;
}

uint64_t
perf_hist_percentile(const struct perf_hist *h, unsigned int permille)
{
	uint64_t want, seen = 0, v;
	unsigned int i;

	if (h->total == 0)
		return 0;
	if (permille >= 1000)
		return h->max_ns;
	/* The smallest rank r with r / total >= permille / 1000. */
	want = (h->total * permille + 999) / 1000;
	if (want == 0)
		want = 1;
	for (i = 0; i < PERF_HIST_BUCKETS; i++) {
		seen += h->count[i];
		if (seen >= want) {
			v = perf_hist_bucket_high(i);
			return v < h->max_ns ? v : h->max_ns;
		}
	}
	return h->max_ns;
}

void
perf_counters_merge(struct perf_counters *dst, const struct perf_counters *src)
{
	dst->transactions += src->transactions;
	dst->bytes_tx += src->bytes_tx;
	dst->bytes_rx += src->bytes_rx;
	dst->connects += src->connects;
	dst->err_connect += src->err_connect;
	dst->err_no_port += src->err_no_port;
	dst->err_reset += src->err_reset;
	dst->err_timeout += src->err_timeout;
	dst->err_closed += src->err_closed;
	dst->err_other += src->err_other;
	perf_hist_merge(&dst->hist, &src->hist);
}

uint64_t
perf_counters_errors(const struct perf_counters *c)
{
	return c->err_connect + c->err_no_port + c->err_reset + c->err_timeout +
	       c->err_closed + c->err_other;
}

/* The figures derived from the counters, computed once for both formats. */
struct perf_figures {
	double rate;                      /* transactions (connections) / s */
	double gbit_tx, gbit_rx, mb_tx, mb_rx;
	double p50, p90, p99, p999, max, mean;   /* microseconds */
	uint64_t errors;
	char server[24];
};

static double
ns_to_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

static void
perf_figures(const struct perf_result *r, struct perf_figures *f)
{
	const struct perf_counters *c = r->c;
	const struct perf_hist *h = &c->hist;
	double d = r->duration_s > 0 ? r->duration_s : 0;
	uint32_t ip = r->opts->server_ip;

	memset(f, 0, sizeof(*f));
	if (d > 0) {
		f->rate = (double)c->transactions / d;
		f->gbit_tx = (double)c->bytes_tx * 8 / d / 1e9;
		f->gbit_rx = (double)c->bytes_rx * 8 / d / 1e9;
		f->mb_tx = (double)c->bytes_tx / d / 1e6;
		f->mb_rx = (double)c->bytes_rx / d / 1e6;
	}
	f->p50 = ns_to_us(perf_hist_percentile(h, 500));
	f->p90 = ns_to_us(perf_hist_percentile(h, 900));
	f->p99 = ns_to_us(perf_hist_percentile(h, 990));
	f->p999 = ns_to_us(perf_hist_percentile(h, 999));
	f->max = ns_to_us(h->max_ns);
	f->mean = h->total ? (double)h->sum_ns / (double)h->total / 1000.0 : 0;
	f->errors = perf_counters_errors(c);
	snprintf(f->server, sizeof(f->server), "%u.%u.%u.%u:%u", ip >> 24,
		 (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff,
		 r->opts->server_port);
}

static void
perf_report_json(FILE *out, const struct perf_result *r,
		 const struct perf_figures *f)
{
	const struct perf_opts *o = r->opts;
	const struct perf_counters *c = r->c;
	const struct perf_hist *h = &c->hist;
	bool first = true;
	unsigned int i;

	fprintf(out, "{\"tool\": \"%s\", \"stack\": \"%s\", \"mode\": \"%s\", "
		"\"server\": \"%s\", \"conns\": %" PRIu32 ", \"engines\": %u, "
		"\"size\": %" PRIu32 ", \"resp_size\": %" PRIu32 ", "
		"\"close\": \"%s\", \"warmup_s\": %.3f, \"duration_s\": %.6f, "
		"\"transactions\": %" PRIu64 ", \"%s\": %.1f, "
		"\"connects\": %" PRIu64 ", "
		"\"bytes_tx\": %" PRIu64 ", \"bytes_rx\": %" PRIu64 ", "
		"\"gbit_s\": %.6f, \"gbit_s_rx\": %.6f, "
		"\"mbyte_s\": %.3f, \"mbyte_s_rx\": %.3f, ",
		r->tool, r->stack, perf_mode_name(o->mode), f->server, o->conns,
		r->engines, o->size, o->mode == PERF_BULK ? 0 : o->resp_size,
		o->close == PERF_CLOSE_RST ? "rst" : "fin", o->warmup_s,
		r->duration_s, c->transactions,
		o->mode == PERF_CRR ? "cps" : "tps", f->rate, c->connects,
		c->bytes_tx, c->bytes_rx, f->gbit_tx, f->gbit_rx, f->mb_tx,
		f->mb_rx);
	fprintf(out, "\"latency_us\": {\"samples\": %" PRIu64 ", "
		"\"p50\": %.3f, \"p90\": %.3f, \"p99\": %.3f, \"p999\": %.3f, "
		"\"max\": %.3f, \"mean\": %.3f}, ",
		h->total, f->p50, f->p90, f->p99, f->p999, f->max, f->mean);
	fprintf(out, "\"errors\": %" PRIu64 ", \"error_detail\": {"
		"\"connect\": %" PRIu64 ", \"no_port\": %" PRIu64 ", "
		"\"reset\": %" PRIu64 ", "
		"\"timeout\": %" PRIu64 ", \"peer_closed\": %" PRIu64 ", "
		"\"other\": %" PRIu64 "}, ",
		f->errors, c->err_connect, c->err_no_port, c->err_reset,
		c->err_timeout, c->err_closed, c->err_other);
	if (r->cc != NULL)
		fprintf(out, "\"cc\": \"%s\", ", r->cc);
	if (r->stack_json != NULL)
		fprintf(out, "\"stack_counters\": %s, ", r->stack_json);
	fputs("\"per_engine\": [", out);
	for (i = 0; i < r->nparts; i++) {
		const struct perf_counters *p = r->parts[i];

		fprintf(out, "%s{\"transactions\": %" PRIu64 ", \"connects\": %"
			PRIu64 ", \"bytes_tx\": %" PRIu64 ", \"bytes_rx\": %"
			PRIu64 ", \"errors\": %" PRIu64 "}", i ? ", " : "",
			p->transactions, p->connects, p->bytes_tx, p->bytes_rx,
			perf_counters_errors(p));
	}
	fputs("], ", out);
	/* Non-empty buckets only: [upper bound in ns (inclusive), count]. */
	fputs("\"hist\": [", out);
	for (i = 0; i < PERF_HIST_BUCKETS; i++) {
		if (h->count[i] == 0)
			continue;
		fprintf(out, "%s[%" PRIu64 ", %" PRIu64 "]", first ? "" : ", ",
			perf_hist_bucket_high(i), h->count[i]);
		first = false;
	}
	fputs("]}\n", out);
}

static void
perf_report_table(FILE *out, const struct perf_result *r,
		  const struct perf_figures *f)
{
	const struct perf_opts *o = r->opts;
	const struct perf_counters *c = r->c;
	const char *unit = r->stack[0] == 'l' ? "thread" : "engine";

	fprintf(out, "%s (%s): %s to %s, %" PRIu32 " connection%s on %u %s%s\n",
		r->tool, r->stack, perf_mode_name(o->mode), f->server,
		o->conns, o->conns == 1 ? "" : "s", r->engines, unit,
		r->engines == 1 ? "" : "s");
	if (o->mode == PERF_BULK)
		fprintf(out, "  writes of %" PRIu32 " B", o->size);
	else
		fprintf(out, "  request %" PRIu32 " B, response %" PRIu32 " B",
			o->size, o->resp_size);
	if (o->mode == PERF_CRR)
		fprintf(out, ", close by %s", o->close == PERF_CLOSE_RST ?
			"RST" : "FIN");
	fprintf(out, "; measured %.3f s after %.3f s warm-up\n",
		r->duration_s, o->warmup_s);
	fprintf(out, "  %-14s %14" PRIu64 "   %.1f %s\n",
		o->mode == PERF_CRR ? "connections" :
		o->mode == PERF_BULK ? "writes" : "transactions",
		c->transactions, f->rate,
		o->mode == PERF_CRR ? "conn/s" : o->mode == PERF_BULK ?
		"writes/s" : "trans/s");
	if (o->mode != PERF_BULK) {
		fprintf(out, "  %-14s %14s   %10s %10s %10s %10s %10s %10s\n",
			"latency (us)", "", "p50", "p90", "p99", "p99.9", "max",
			"mean");
		fprintf(out, "  %-14s %14" PRIu64 "   %10.2f %10.2f %10.2f %10.2f %10.2f %10.2f\n",
			"", c->hist.total, f->p50, f->p90, f->p99, f->p999,
			f->max, f->mean);
	}
	fprintf(out, "  %-14s %14" PRIu64 " B %8.3f Gbit/s %10.2f MB/s\n",
		"sent", c->bytes_tx, f->gbit_tx, f->mb_tx);
	fprintf(out, "  %-14s %14" PRIu64 " B %8.3f Gbit/s %10.2f MB/s\n",
		"received", c->bytes_rx, f->gbit_rx, f->mb_rx);
	fprintf(out, "  %-14s %14" PRIu64 "   (connect %" PRIu64 ", no local port %"
		PRIu64 ", reset %" PRIu64 ", timeout %" PRIu64 ", peer closed %"
		PRIu64 ", other %" PRIu64 "); %" PRIu64
		" connections established\n",
		"errors", f->errors, c->err_connect, c->err_no_port,
		c->err_reset, c->err_timeout, c->err_closed, c->err_other,
		c->connects);
	for (unsigned int i = 0; r->nparts > 1 && i < r->nparts; i++)
		fprintf(out, "  %s %-7u %14" PRIu64 "   transactions, %" PRIu64
			" connections established, %" PRIu64 " errors, %" PRIu64
			" B sent, %" PRIu64 " B received\n", unit, i,
			r->parts[i]->transactions, r->parts[i]->connects,
			perf_counters_errors(r->parts[i]), r->parts[i]->bytes_tx,
			r->parts[i]->bytes_rx);
}

void
perf_report(FILE *out, const struct perf_result *r)
{
	struct perf_figures f;

	perf_figures(r, &f);
	if (r->opts->json)
		perf_report_json(out, r, &f);
	else
		perf_report_table(out, r, &f);
	fflush(out);
}
