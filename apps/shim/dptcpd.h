/* dptcpd.h — what dptcpd's two halves share: the control thread
 * (dptcpd_ctl.c: Unix socket, regions, program life) and the per-engine
 * service (dptcpd_eng.c: command queues, byte rings, events). They talk
 * only through one pair of SPSC rings per engine; a struct shim_prog is
 * immutable after the control thread hands it to the engines, until every
 * engine has acknowledged its detach. */
#ifndef DPTCPD_H
#define DPTCPD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "dp_config.h"
#include "shm_proto.h"

struct tcp_engine;
struct rte_ring;

/* One attached program, as the control thread made it. */
struct port_ent;

struct shim_prog {
	uint32_t id;
	pid_t pid;
	uid_t uid;                    /* SO_PEERCRED of its first process */
	void *base;                   /* dptcpd's mapping of the region */
	struct shm_layout lay;        /* private copy: never read back */
	uint32_t n_engines, n_channels, max_sockets;
	uint32_t rx_bytes, tx_bytes;
	uint32_t local_ip;            /* host order */
	int doorbell[SHM_MAX_CHANNELS];
	/* control thread only */
	int sock[SHM_MAX_MEMBERS];    /* per member (fork); -1 once closed */
	uint64_t members;             /* member numbers whose socket is open */
	unsigned int acks;            /* engines that let go after DETACH */
	unsigned int fork_acks;       /* engines done with the pending FORK */
	int fork_to;                  /* member being made, -1: none */
	bool detaching;
	struct port_ent *ports;       /* its port table entries (dptcpd_ports.c) */
	uint32_t n_ports;
	struct shim_prog *next;
};

enum shim_ctl_type {
	SHIM_MSG_ATTACH,    /* control -> engine: serve prog */
	SHIM_MSG_DETACH,    /* control -> engine: prog is gone, let go */
	SHIM_MSG_DETACHED,  /* engine -> control: done with prog */
	SHIM_MSG_VIOLATION, /* engine -> control: prog broke the protocol */
	SHIM_MSG_FORK,      /* control -> engine: member to gets from's refs */
	SHIM_MSG_FORKED,    /* engine -> control: done */
	SHIM_MSG_MEMBER_GONE, /* control -> engine: drop from's refs */
};

struct shim_ctl_msg {
	enum shim_ctl_type type;
	unsigned int engine;
	struct shim_prog *prog;
	uint32_t from, to;            /* member numbers (FORK, MEMBER_GONE) */
};

/* Kinds of protocol violation, each counted on its own (telemetry
 * "viol_<name>", names in shim_viol_names[]). */
enum shim_viol {
	SHIM_VIOL_CMDQ_INDEX,    /* command queue prod - cons > SHM_QLEN */
	SHIM_VIOL_EVTQ_INDEX,    /* event queue cons beyond what we produced */
	SHIM_VIOL_BAD_OP,        /* unknown command */
	SHIM_VIOL_BAD_SLOT,      /* slot out of range, not bound here, stale gen */
	SHIM_VIOL_TX_RING,       /* TX ring tx_prod - tx_cons > size */
	SHIM_VIOL_RX_RING,       /* RX ring rx_prod - rx_cons > size */
	SHIM_VIOL_COUNT
};
extern const char *const shim_viol_names[SHIM_VIOL_COUNT];

/* Counters of one engine's service, read (relaxed) by telemetry. */
struct shim_eng_stats {
	_Atomic uint64_t commands;
	_Atomic uint64_t wakeups;        /* doorbell writes */
	_Atomic uint64_t accepted;
	_Atomic uint64_t connects;
	_Atomic uint64_t violations;      /* programs disconnected for one */
	_Atomic uint64_t viol[SHIM_VIOL_COUNT];
	_Atomic uint64_t resets_on_close; /* closed with unread data */
	_Atomic uint64_t slots_bound;     /* gauge: connection slots held */
	_Atomic uint64_t orphans;         /* gauge: closed by the program, TCP still closing */
	_Atomic uint64_t programs;        /* gauge: programs attached here */
	_Atomic uint64_t loops;           /* poll-loop iterations of this engine */
	_Atomic uint64_t services;        /* connection services (ring checks) */
	_Atomic uint64_t idled;           /* connections that went quiet */
	_Atomic uint64_t kicks;           /* connections a program's kick woke */
};

struct shim_daemon {
	struct dp_shim_config cfg;
	uint32_t local_ip, prefix_len, gateway;
	unsigned int n_engines;
	struct rte_ring *to_eng[SHM_MAX_ENGINES];
	struct rte_ring *from_eng[SHM_MAX_ENGINES];
	struct shim_eng_stats eng_stats[SHM_MAX_ENGINES];
	uint32_t n_channels;             /* per program (threads) */
	/* control thread counters */
	_Atomic uint64_t programs_attached, programs_detached, programs_now;
	_Atomic uint64_t attach_errors;
	_Atomic int stop;
};

/* dptcpd_ctl.c */
int shim_ctl_start(struct shim_daemon *d);   /* socket + thread */
void shim_ctl_stop(struct shim_daemon *d);   /* joins, unlinks the socket */

/* dptcpd_ports.c: the port table (control thread only, shm_proto.h
 * "PORTS"). */
void shim_ports_request(struct shim_prog *p, unsigned int member,
			const struct shm_port_req *rq, struct shm_port_ack *a);
void shim_ports_fork(struct shim_prog *p, unsigned int from, unsigned int to);
void shim_ports_member_gone(struct shim_prog *p, unsigned int member);
void shim_ports_prog_gone(struct shim_prog *p);

/* dptcpd_eng.c: the per-engine poll-loop hook (dp_hook_fn); arg = daemon. */
int shim_eng_init(struct shim_daemon *d);
void shim_eng_hook(struct tcp_engine *eng, uint64_t now_us, void *arg);
/* After dp_run: drop every program still attached (no packets go out). */
void shim_eng_fini(struct shim_daemon *d);

#endif
