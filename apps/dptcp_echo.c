/* dptcp-echo — a TCP echo server on dptcp: every byte received is sent
 * back. Bytes the send buffer cannot take wait in a per-connection buffer
 * and reading stops until DPT_EV_WRITABLE, so the receive window closes
 * (backpressure). After the peer's FIN the rest is sent, then dpt_close().
 * Connection bookkeeping, the retry of connections starved of mbufs and
 * main() are app_server.c's. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "app_server.h"
#include "dpt.h"

#define ECHO_BUF 16384

struct echo_conn {
	struct app_conn ac;       /* first: app_server's part */
	bool closing;             /* dpt_close() called */
	uint32_t off, len;        /* buf[off, len) still to be sent */
	uint8_t buf[ECHO_BUF];
};

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

static void
echo_summary(const struct app_worker *tot, char *buf, size_t size)
{
	snprintf(buf, size, "%" PRIu64 " bytes echoed", tot->bytes);
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

	return app_server_main(argc, argv, &srv);
}
