/* dptcp-echo — a TCP echo server on dptcp: every byte received is sent
 * back. Bytes the send buffer cannot take wait in a per-connection buffer
 * and reading stops until DPT_EV_WRITABLE, so the receive window closes
 * (backpressure). After the peer's FIN the rest is sent, then dpt_close().
 * When the mbuf pool runs dry (-ENOBUFS) no event is promised, so such
 * connections are retried from the poll-loop hook. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "dp.h"
#include "dpt.h"

#define ECHO_BUF 16384

struct echo_conn;
TAILQ_HEAD(echo_list, echo_conn);

struct echo_app {
	uint64_t accepted, finished, bytes;
	struct echo_list starved;     /* waiting for mbufs */
};

struct echo_conn {
	struct echo_app *app;
	struct tcp_conn *c;
	TAILQ_ENTRY(echo_conn) link;  /* in app->starved when starved */
	bool starved;
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

static void
echo_starve(struct echo_conn *ec)
{
	if (!ec->starved) {
		ec->starved = true;
		TAILQ_INSERT_TAIL(&ec->app->starved, ec, link);
	}
}

static void
echo_unstarve(struct echo_conn *ec)
{
	if (ec->starved) {
		ec->starved = false;
		TAILQ_REMOVE(&ec->app->starved, ec, link);
	}
}

/* Send what is pending, then read more, until either side would block. */
static void
echo_pump(struct tcp_engine *eng, struct tcp_conn *c, struct echo_conn *ec)
{
	ssize_t n;

	while (!ec->closing) {
		while (ec->off < ec->len) {
			size_t want = ec->len - ec->off;

			n = dpt_send(eng, c, ec->buf + ec->off, want);
			if (n == -EAGAIN)
				return;           /* DPT_EV_WRITABLE follows */
			if (n == -ENOBUFS) {
				echo_starve(ec);  /* the hook retries */
				return;
			}
			if (n < 0) {
				echo_close(eng, c, ec);
				return;
			}
			ec->off += (uint32_t)n;
			ec->app->bytes += (uint64_t)n;
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
echo_event(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	   int err, void *user)
{
	struct echo_conn *ec = user;

	switch (ev) {
	case DPT_EV_ACCEPTED:       /* user is the listener's: the app */
		ec = calloc(1, sizeof(*ec));
		if (ec == NULL) {
			dpt_abort(eng, c);
			return;
		}
		ec->app = user;
		ec->c = c;
		ec->app->accepted++;
		dpt_set_user(c, ec);
		echo_pump(eng, c, ec);
		break;
	case DPT_EV_READABLE:
	case DPT_EV_WRITABLE:
	case DPT_EV_PEER_CLOSED:
		if (ec != NULL)
			echo_pump(eng, c, ec);
		break;
	case DPT_EV_CLOSED:
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		if (ec != NULL) {
			echo_unstarve(ec);
			ec->app->finished++;
		}
		free(ec);
		break;
	default:
		break;
	}
}

/* Poll-loop hook: retry connections that found the mbuf pool empty. */
static void
echo_hook(struct tcp_engine *eng, uint64_t now_us, void *arg)
{
	struct echo_app *app = arg;
	struct echo_list retry = TAILQ_HEAD_INITIALIZER(retry);
	struct echo_conn *ec;

	if (TAILQ_EMPTY(&app->starved))
		return;
	TAILQ_CONCAT(&retry, &app->starved, link);
	while ((ec = TAILQ_FIRST(&retry)) != NULL) {
		TAILQ_REMOVE(&retry, ec, link);
		ec->starved = false;
		echo_pump(eng, ec->c, ec);
	}
}

int
main(int argc, char **argv)
{
	struct echo_app app = { 0 };
	struct dp_app_opts opts;
	char ip[16];
	int ret;

	TAILQ_INIT(&app.starved);
	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "dptcp-echo: EAL: %s\n", rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	ret = dp_parse_app_args(argc - ret, argv + ret, &opts);
	if (ret == 0 && opts.port == 0 && !opts.print_config) {
		fprintf(stderr, "dptcp-echo: --port P is required\n");
		dp_usage(stderr, "dptcp-echo");
		ret = -EINVAL;
	}
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 2;
	}
	ret = dp_init(&opts);
	if (ret != 0) {
		rte_eal_cleanup();
		return ret > 0 ? 0 : 1;
	}
	ret = dpt_listen(dp_engine(), 0, opts.port, 0, echo_event, &app);
	if (ret < 0) {
		DP_LOG(ERR, "echo: listen on port %u: %s", opts.port,
		       strerror(-ret));
		dp_fini();
		return 1;
	}
	DP_LOG(INFO, "echo: listening on %s:%u",
	       dp_ip_str(dp_local_ip(), ip, sizeof(ip)), opts.port);
	dp_run(echo_hook, &app);
	DP_LOG(INFO, "echo: %" PRIu64 " connections served (%" PRIu64
	       " finished), %" PRIu64 " bytes echoed",
	       app.accepted, app.finished, app.bytes);
	dp_fini();
	return 0;
}
