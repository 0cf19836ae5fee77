/* app_server.c — main(), the per-connection bookkeeping and the starved
 * list shared by dptcp-echo and dptcp-http; the apps supply the pump that
 * moves their bytes (see app_server.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>

#include "app_server.h"
#include "dp.h"

void
app_conn_starve(struct app_conn *ac)
{
	if (!ac->starved) {
		ac->starved = true;
		TAILQ_INSERT_TAIL(&ac->w->starved, ac, link);
	}
}

static void
app_conn_unstarve(struct app_conn *ac)
{
	if (ac->starved) {
		ac->starved = false;
		TAILQ_REMOVE(&ac->w->starved, ac, link);
	}
}

static void
app_event(struct tcp_engine *eng, struct tcp_conn *c, enum dpt_event ev,
	  int err, void *user)
{
	struct app_conn *ac = user;
	struct app_server *srv;
	struct app_worker *w;

	switch (ev) {
	case DPT_EV_ACCEPTED:       /* user is the listener's: its worker */
		w = user;
		srv = w->srv;
		ac = malloc(srv->conn_size);
		if (ac == NULL) {
			dpt_abort(eng, c);
			return;
		}
		memset(ac, 0, srv->conn_zeroed);
		ac->srv = srv;
		ac->w = w;
		ac->c = c;
		ac->starved = false;
		w->accepted++;
		dpt_set_user(c, ac);
		dpt_setopt(eng, c, DPT_OPT_NODELAY, 1); /* replies go whole, at once */
		srv->pump(eng, ac);
		break;
	case DPT_EV_READABLE:
	case DPT_EV_WRITABLE:
	case DPT_EV_PEER_CLOSED:
		if (ac != NULL)
			ac->srv->pump(eng, ac);
		break;
	case DPT_EV_CLOSED:
	case DPT_EV_RESET:
	case DPT_EV_ERROR:
		if (ac != NULL) {
			srv = ac->srv;
			app_conn_unstarve(ac);
			ac->w->finished++;
			if (srv->conn_fini != NULL)
				srv->conn_fini(ac);
		}
		free(ac);
		break;
	default:
		break;
	}
}

/* Poll-loop hook: retry connections that found the mbuf pool empty. */
static void
app_hook(struct tcp_engine *eng, uint64_t now_us, void *arg)
{
	struct app_server *srv = arg;
	struct app_worker *w = &srv->workers[tcp_engine_id(eng)];
	struct app_conn_list retry = TAILQ_HEAD_INITIALIZER(retry);
	struct app_conn *ac;

	if (TAILQ_EMPTY(&w->starved))
		return;
	TAILQ_CONCAT(&retry, &w->starved, link);
	while ((ac = TAILQ_FIRST(&retry)) != NULL) {
		TAILQ_REMOVE(&retry, ac, link);
		ac->starved = false;
		srv->pump(eng, ac);
	}
}

/* A listener on every engine: each accepts the flows it owns. */
static int
app_listen_all(struct app_server *srv, uint16_t port)
{
	unsigned int i;
	int ret;

	srv->n_workers = dp_engine_count();
	srv->workers = calloc(srv->n_workers, sizeof(*srv->workers));
	if (srv->workers == NULL)
		return -ENOMEM;
	for (i = 0; i < srv->n_workers; i++) {
		srv->workers[i].srv = srv;
		TAILQ_INIT(&srv->workers[i].starved);
		ret = dpt_listen(dp_engine_at(i), 0, port, 0, app_event,
				 &srv->workers[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void
app_totals(const struct app_server *srv, struct app_worker *tot)
{
	unsigned int i;

	memset(tot, 0, sizeof(*tot));
	for (i = 0; i < srv->n_workers; i++) {
		tot->accepted += srv->workers[i].accepted;
		tot->finished += srv->workers[i].finished;
		tot->bytes += srv->workers[i].bytes;
		tot->items += srv->workers[i].items;
	}
}

int
app_server_main(int argc, char **argv, struct app_server *srv)
{
	struct dp_app_opts opts;
	struct app_worker tot;
	char ip[16], tail[128];
	int ret;

	ret = rte_eal_init(argc, argv);
	if (ret < 0) {
		fprintf(stderr, "%s: EAL: %s\n", srv->prog,
			rte_strerror(rte_errno));
		return rte_errno == EINVAL ? 2 : 1;
	}
	ret = dp_parse_app_args(argc - ret, argv + ret, &opts);
	if (ret == 0 && opts.port == 0 && !opts.print_config) {
		fprintf(stderr, "%s: --port P is required\n", srv->prog);
		dp_usage(stderr, srv->prog);
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
	ret = app_listen_all(srv, opts.port);
	if (ret < 0) {
		DP_LOG(ERR, "%s: listen on port %u: %s", srv->name, opts.port,
		       strerror(-ret));
		dp_fini();
		free(srv->workers);
		return 1;
	}
	DP_LOG(INFO, "%s: listening on %s:%u%s", srv->name,
	       dp_ip_str(dp_local_ip(), ip, sizeof(ip)), opts.port,
	       srv->listen_note != NULL ? srv->listen_note : "");
	dp_run(app_hook, srv);
	app_totals(srv, &tot);
	srv->summary(&tot, tail, sizeof(tail));
	DP_LOG(INFO, "%s: %" PRIu64 " connections served (%" PRIu64
	       " finished) by %u engine%s, %s", srv->name, tot.accepted,
	       tot.finished, srv->n_workers, srv->n_workers == 1 ? "" : "s",
	       tail);
	dp_fini();
	free(srv->workers);
	return 0;
}
