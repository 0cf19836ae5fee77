/* app_server.h — the skeleton the dptcp server apps share: main() (EAL,
 * options, dp_init, listen, poll loop, summary), per-connection bookkeeping
 * in the event callback, and retrying connections starved of mbufs. */
#ifndef APP_SERVER_H
#define APP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "dpt.h"

struct app_server;
struct app_worker;

/* First member of each app's per-connection struct. */
struct app_conn {
	struct app_server *srv;
	struct app_worker *w;             /* the engine that owns c */
	struct tcp_conn *c;
	TAILQ_ENTRY(app_conn) link;       /* in srv->starved when starved */
	bool starved;
};

TAILQ_HEAD(app_conn_list, app_conn);

/* Per engine (touched only on its lcore): counters and the starved list. */
struct app_worker {
	struct app_server *srv;
	uint64_t accepted, finished;
	uint64_t bytes;                   /* sent; counted by the app */
	uint64_t items;                   /* the app's own unit (requests) */
	struct app_conn_list starved;     /* waiting for mbufs */
} __attribute__((aligned(64)));

struct app_server {
	const char *prog;                 /* "dptcp-echo": stderr, usage */
	const char *name;                 /* "echo": log lines */
	const char *listen_note;          /* appended to the listening line */
	size_t conn_size;                 /* the app's per-connection struct */
	size_t conn_zeroed;               /* its leading bytes zeroed at accept */
	/* Does what the connection can do now; called on ACCEPTED, READABLE,
	 * WRITABLE, PEER_CLOSED and from the hook when starved. */
	void (*pump)(struct tcp_engine *eng, struct app_conn *ac);
	/* Optional: called before the connection is freed. */
	void (*conn_fini)(struct app_conn *ac);
	/* Appends the app's counters (all workers added up in tot) to the
	 * summary line. */
	void (*summary)(const struct app_worker *tot, char *buf, size_t size);
	unsigned int n_workers;
	struct app_worker *workers;       /* one per engine */
};

/* dpt_send() returned -ENOBUFS: no event is promised, so the poll-loop
 * hook pumps the connection again. */
void app_conn_starve(struct app_conn *ac);

/* The whole program: returns its exit code. */
int app_server_main(int argc, char **argv, struct app_server *srv);

#endif
