/* check.c — failure reporting of the unit tests: one line with file:line
 * and expected vs got, then the tail of the wire trace for diagnosis. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_mempool.h>

#include "check.h"

const char *g_test_name = "?";
struct sim *g_sim;

#define TRACE_TAIL 60

static void dump_tail(void)
{
	if (g_sim == NULL)
		return;
	unsigned int n = sim_mark(g_sim);
	/* DPT_TRACE=N dumps the last N segments (0 = all) */
	const char *env = getenv("DPT_TRACE");
	unsigned int tail = env ? (unsigned int)strtoul(env, NULL, 0) : TRACE_TAIL;
	unsigned int from = tail && n > tail ? n - tail : 0;
	fprintf(stderr, "--- wire trace (%u segments, last %u), now=%llu us ---\n", n, n - from,
		(unsigned long long)g_sim->now_us);
	sim_dump_trace(g_sim, from);
	fprintf(stderr, "--- mbufs in use: engine tx pool %u, wire pool %u; API errors %" PRIu64
		" (first %s = %d at %" PRIu64 " us, last %s = %d) ---\n",
		rte_mempool_in_use_count(g_sim->tx_pool), rte_mempool_in_use_count(g_sim->wire_pool),
		g_sim->app_errors,
		g_sim->first_app_err_call ? g_sim->first_app_err_call : "-", g_sim->first_app_err,
		g_sim->first_app_err_us, g_sim->last_app_err_call ? g_sim->last_app_err_call : "-",
		g_sim->last_app_err);
	static const char *evn[] = {"ACCEPTED", "CONNECTED", "READABLE", "WRITABLE",
				    "PEER_CLOSED", "CLOSED", "RESET", "ERROR"};
	for (unsigned int i = 0; i < g_sim->nconns; i++) {
		const struct sim_conn *sc = &g_sim->conns[i];
		char ev[1024];
		int k = 0;
		ev[0] = 0;
		for (unsigned int e = 0; e < sc->nevs && k < (int)sizeof(ev) - 64; e++) {
			if (sc->evs[e] == DPT_EV_READABLE || sc->evs[e] == DPT_EV_WRITABLE)
				continue;
			k += snprintf(ev + k, sizeof(ev) - k, " %s", (unsigned)sc->evs[e] < 8 ? evn[sc->evs[e]] : "?");
			if (sc->ev_err[e])
				k += snprintf(ev + k, sizeof(ev) - k, "(%d)", sc->ev_err[e]);
			k += snprintf(ev + k, sizeof(ev) - k, "@%" PRIu64 "ms", sc->ev_t_us[e] / 1000);
		}
		fprintf(stderr, "  conn[%u] %s %u->%u %s rx=%zu tx=%zu/%zu%s READABLE=%u WRITABLE=%u events:%s\n",
			i, sc->node == SIM_A ? "A" : "B", sc->lport, sc->rport,
			sc->alive ? check_state_name(dpt_conn_state(sc->c)) : "(gone)", sc->rx_len,
			sc->tx_off, sc->tx_len, sc->eof ? " eof" : "", sc->ev_count[DPT_EV_READABLE],
			sc->ev_count[DPT_EV_WRITABLE], ev);
	}
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	char msg[2048];
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	dump_tail();
	printf("FAIL %s: %s:%d: %s\n", g_test_name, file, line, msg);
	fflush(stdout);
	fflush(stderr);
	exit(1);
}

void check_skip(const char *why)
{
	printf("SKIP %s: %s\n", g_test_name, why);
	fflush(stdout);
	exit(77);
}

void check_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("  note: ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

const char *check_state_name(enum dpt_state s)
{
	static const char *n[] = {"LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED",
				  "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT", "CLOSING",
				  "LAST_ACK", "TIME_WAIT", "CLOSED"};
	if ((unsigned)s < DPT_STATE_COUNT)
		return n[s];
	return "(none)";
}

void check_flags(const char *file, int line, const struct sim_seg *g, uint8_t fl)
{
	char a[64], b[64], buf[512];
	if ((g->flags & ~F_PSH) != (fl & ~F_PSH)) {
		sim_fmt_seg(g, buf, sizeof(buf));
		check_fail(file, line, "flags: expected [%s], got [%s] in %s",
			   sim_flags_str(fl, a), sim_flags_str(g->flags, b), buf);
	}
}

void check_seg(const char *file, int line, const struct sim_seg *g, uint8_t fl, uint32_t seq,
	       uint32_t ack, bool check_ack)
{
	char a[64], buf[512];
	check_flags(file, line, g, fl);
	sim_fmt_seg(g, buf, sizeof(buf));
	if (g->seq != seq)
		check_fail(file, line, "[%s] seq: expected %u, got %u in %s",
			   sim_flags_str(fl, a), seq, g->seq, buf);
	if (check_ack && g->ack != ack)
		check_fail(file, line, "[%s] ack: expected %u, got %u in %s",
			   sim_flags_str(fl, a), ack, g->ack, buf);
}

void check_raw_none(const char *file, int line, struct raw_peer *rp)
{
	struct sim_pkt *p = malloc(sizeof(*p));
	char buf[512];
	if (p != NULL && raw_pop(rp, p)) {
		sim_fmt_seg(&p->seg, buf, sizeof(buf));
		check_fail(file, line, "expected no segment to the raw peer, got %s", buf);
	}
	free(p);
}

static void crash_handler(int sig)
{
	fprintf(stderr, "CRASH %s: signal %d (%s)\n", g_test_name, sig, strsignal(sig));
	dump_tail();
	printf("FAIL %s: crashed with signal %d (%s)\n", g_test_name, sig, strsignal(sig));
	fflush(stdout);
	fflush(stderr);
	sim_eal_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* meson's SIGTERM on a timeout, or ^C: the EAL runtime directory goes
 * first (the process may be stopped anywhere, so nothing that could block
 * on a stdio lock runs), then the signal's default action. */
static void term_handler(int sig)
{
	sim_eal_cleanup();
	signal(sig, SIG_DFL);
	raise(sig);
}

void check_install_crash_handler(void);
void check_install_crash_handler(void)
{
	signal(SIGSEGV, crash_handler);
	signal(SIGBUS, crash_handler);
	signal(SIGABRT, crash_handler);
	signal(SIGFPE, crash_handler);
	signal(SIGILL, crash_handler);
	signal(SIGTERM, term_handler);
	signal(SIGINT, term_handler);
	signal(SIGHUP, term_handler);
}
