/* dptcp-echo — a TCP echo server on dptcp: every byte received is sent
 * back. Bytes the send buffer cannot take wait in a per-connection buffer
 * and reading stops until DPT_EV_WRITABLE, so the receive window closes
 * (backpressure). After the peer's FIN the rest is sent, then dpt_close().
 * With --size B --resp-size R it answers every B bytes received with R
 * bytes instead, as dptcp-kecho does (a sink for bulk senders: the
 * goodput benchmark's dptcp receiver). Connection bookkeeping, the retry
 * of connections starved of mbufs and main() are app_server.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app_server.h"
#include "dpt.h"

#define ECHO_BUF 16384

struct echo_conn {
	struct app_conn ac;       /* first: app_server's part */
	bool closing;             /* dpt_close() called */
	uint32_t off, len;        /* buf[off, len) still to be sent */
	uint32_t req_have;        /* --resp-size: request bytes so far */
	uint64_t resp_owed;       /* --resp-size: response bytes to send */
	uint8_t buf[ECHO_BUF];
};

static struct {
	uint32_t req_size, resp_size;   /* resp_size 0: echo */
	uint8_t resp[ECHO_BUF];
} cfg;

static void
echo_close(struct tcp_engine *eng, struct tcp_conn *c, struct echo_conn *ec)
{
	if (!ec->closing) {
		ec->closing = true;
		dpt_close(eng, c);
	}
}

/* Send what is pending, then read more, until either side would block. */
static void
echo_pump(struct tcp_engine *eng, struct app_conn *ac)
{
	struct echo_conn *ec = (struct echo_conn *)ac;
	struct tcp_conn *c = ac->c;
	ssize_t n;

	while (!ec->closing) {
		while (ec->off < ec->len) {
			size_t want = ec->len - ec->off;

			n = dpt_send(eng, c, ec->buf + ec->off, want);
			if (n == -EAGAIN)
				return;           /* DPT_EV_WRITABLE follows */
			if (n == -ENOBUFS) {
				app_conn_starve(ac);  /* the hook retries */
				return;
			}
			if (n < 0) {
				echo_close(eng, c, ec);
				return;
			}
			ec->off += (uint32_t)n;
			ac->w->bytes += (uint64_t)n;
			if ((size_t)n < want)
				return;           /* DPT_EV_WRITABLE follows */
		}
		ec->off = ec->len = 0;
		n = dpt_recv(eng, c, ec->buf, sizeof(ec->buf));
		if (n == -EAGAIN)
			return;
		if (n <= 0) {                     /* end of stream, or error */
			echo_close(eng, c, ec);
			return;
		}
		ec->len = (uint32_t)n;
	}
}

/* --resp-size: read and discard, answer each full request. */
static void
rr_pump(struct tcp_engine *eng, struct app_conn *ac)
{
	struct echo_conn *ec = (struct echo_conn *)ac;
	struct tcp_conn *c = ac->c;
	ssize_t n;

	while (!ec->closing) {
		while (ec->resp_owed > 0) {
			size_t want = ec->resp_owed < ECHO_BUF ?
				      (size_t)ec->resp_owed : ECHO_BUF;

			n = dpt_send(eng, c, cfg.resp, want);
			if (n == -EAGAIN)
				return;
			if (n == -ENOBUFS) {
				app_conn_starve(ac);
				return;
			}
			if (n < 0) {
				echo_close(eng, c, ec);
				return;
			}
			ec->resp_owed -= (uint64_t)n;
			ac->w->bytes += (uint64_t)n;
			if ((size_t)n < want)
				return;
		}
		n = dpt_recv(eng, c, ec->buf, sizeof(ec->buf));
		if (n == -EAGAIN)
			return;
		if (n <= 0) {
			echo_close(eng, c, ec);
			return;
		}
		ec->req_have += (uint32_t)n;
		while (ec->req_have >= cfg.req_size) {
			ec->req_have -= cfg.req_size;
			ec->resp_owed += cfg.resp_size;
			ac->w->items++;
		}
	}
}

static void
echo_summary(const struct app_worker *tot, char *buf, size_t size)
{
	if (cfg.resp_size == 0)
		snprintf(buf, size, "%" PRIu64 " bytes echoed", tot->bytes);
	else
		snprintf(buf, size, "%" PRIu64 " requests of %" PRIu32
			 " B answered with %" PRIu64 " bytes", tot->items,
			 cfg.req_size, tot->bytes);
}

/* Takes --size B and --resp-size B out of argv (app_server parses the
 * rest). -1 after printing an error. */
static int
echo_args(int *argc, char **argv)
{
	int i, n = 1;

	cfg.req_size = 64;
	for (i = 1; i < *argc; i++) {
		bool sz = strcmp(argv[i], "--size") == 0;
		bool rs = strcmp(argv[i], "--resp-size") == 0;
		char *end;
		unsigned long v;

		if (!sz && !rs) {
			argv[n++] = argv[i];
			continue;
		}
		v = i + 1 < *argc ? strtoul(argv[i + 1], &end, 10) : 0;
		if (i + 1 >= *argc || *argv[i + 1] == '\0' || *end != '\0' ||
		    v == 0 || v > (1ul << 26)) {
			fprintf(stderr, "dptcp-echo: %s: expected bytes, 1..67108864\n",
				argv[i]);
			return -1;
		}
		if (sz)
			cfg.req_size = (uint32_t)v;
		else
			cfg.resp_size = (uint32_t)v;
		i++;
	}
	argv[n] = NULL;
	*argc = n;
	memset(cfg.resp, 'r', sizeof(cfg.resp));
	return 0;
}

int
main(int argc, char **argv)
{
	struct app_server srv = {
		.prog = "dptcp-echo",
		.name = "echo",
		.conn_size = sizeof(struct echo_conn),
		.conn_zeroed = offsetof(struct echo_conn, buf),
		.pump = echo_pump,
		.summary = echo_summary,
	};

	if (echo_args(&argc, argv) < 0)
		return 2;
	if (cfg.resp_size != 0) {
		srv.pump = rr_pump;
		srv.listen_note = " (answering --size requests with --resp-size bytes)";
	}
	return app_server_main(argc, argv, &srv);
}
