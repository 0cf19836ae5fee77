/* shm_proto.h — the shared-memory protocol between dptcpd (the stack) and
 * libdptcp_preload.so (the shim inside a program). Both sides include this
 * file; it is plain C11 with no DPDK so the shim can use it.
 *
 * ATTACH. The program connects to dptcpd's Unix socket (SOCK_SEQPACKET,
 * path in the environment, DPTCP_SOCKET) and sends struct shm_hello.
 * dptcpd answers struct shm_welcome with SCM_RIGHTS carrying the region
 * (a memfd, sealed against shrinking and growing so the program cannot
 * make dptcpd's mapping fault) followed by n_channels doorbell eventfds.
 * The connection stays open for the program's life: when it closes (exit,
 * SIGKILL, an exec that hands nothing over) dptcpd treats the program as
 * gone. Later the program sends on it only fork requests ("FORK") and
 * port requests ("PORTS").
 *
 * REGION LAYOUT (offsets in struct shm_hdr; shm_layout() computes them):
 *
 *   [shm_hdr]                       one page, written by dptcpd before the
 *                                   hand-over, read-only afterwards
 *   [channel 0 .. n_channels-1]     per program thread: struct shm_chan,
 *                                   then per engine e a command queue and
 *                                   an event queue (struct shm_q)
 *   [slot 0 .. max_sockets-1]       per dptcp socket: struct shm_slot
 *   [kick area of engine 0 .. n_engines-1]  struct shm_kick + words
 *   [note area of channel 0 .. n_channels-1] struct shm_kick + words
 *   [data: slot i's RX ring, TX ring]  rx_ring_bytes + tx_ring_bytes each
 *
 * CHANNELS. A program thread claims a free channel (the shim's own
 * bookkeeping, in program memory) and is its queues' only user; threads
 * beyond n_channels share the last one under a shim-side lock. Channel c's
 * doorbell is the c-th eventfd of the welcome.
 *
 * QUEUES (struct shm_q, SPSC, SHM_QLEN entries of 64 bytes). Indices are
 * free-running uint32 counters; entry = e[idx % SHM_QLEN]. The producer
 * writes the entry, then stores prod with release; the consumer loads prod
 * with acquire, copies the entry out (reads it once), then stores cons with
 * release. Command queue cmd[e]: the program produces, engine e consumes.
 * Event queue evt[e]: engine e produces, the program consumes. An engine
 * takes a command only when evt[e] has room for its completion, and a
 * thread has at most one outstanding command per engine, so completions
 * never overflow.
 *
 * SOCKET SLOTS. The shim allocates slot numbers (and bumps the slot's
 * generation, carried by every command about it). A connection slot
 * belongs to the one engine that holds the connection; a listener slot to
 * every engine (each engine listens, accq[e] counts engine e's accepted
 * connections waiting for accept()). Fields are grouped by writer, each
 * group on its own cache line:
 *   program writes: waiters, rx_cons, tx_prod
 *   stack writes:   rx_prod, tx_cons, state, err, flags, addresses,
 *                   released, accq[e] (engine e only)
 *
 * BYTE RINGS (per connection, power-of-two sizes). RX: the engine copies
 * what dpt_recv() gives into it and stores rx_prod (release); the program
 * copies out and stores rx_cons (release). TX: the reverse with tx_prod
 * (program) and tx_cons (engine). The engine keeps its own copy of the
 * index it owns and never reads it back. When the RX ring is full the
 * engine stops calling dpt_recv(), so the TCP receive buffer fills and the
 * window closes: a program that does not read slows its peer down. RX_FIN
 * is set once dpt_recv() said end-of-stream, i.e. after the last byte is
 * in the ring. The program asks for FIN with SHM_OP_SHUTDOWN / CLOSE; the
 * engine sends it after the TX ring has drained into dpt_send().
 *
 * MEMORY ORDERING. Index stores are release, index loads acquire (C11
 * atomics on lock-free 32/64-bit words, valid across processes). The
 * sleep/wake handshake below needs store -> full fence -> load on both
 * sides (Dekker): seq_cst fences.
 *
 * WAKEUP. A blocked call spins for spin_us re-checking shared memory, then
 * (1) sets its channel's bit in each slot it waits on (waiters, fetch_or)
 * and/or sets chan.sleeping = 1 when it waits for a completion, (2) seq_cst
 * fence, (3) re-checks, (4) poll()s its doorbell (with any kernel fds),
 * (5) reads the doorbell to reset it. The engine, after making a slot's
 * state visible (new data, space, FIN, error, a pending accept, a
 * completed connect) issues a seq_cst fence and, if waiters != 0,
 * exchanges it with 0, sets the slot's bit in the NOTES of each channel
 * named and writes its doorbell; after
 * posting a completion it exchanges chan.sleeping with 0 and writes the
 * doorbell if it was set. An engine writes each doorbell at most once per
 * poll-loop iteration. No syscall happens while the program spins.
 *
 * OWNERSHIP OF A SLOT'S LIFE. The shim picks a free slot, bumps gen,
 * zeroes rx_cons/tx_prod/waiters and sends LISTEN, CONNECT or ACCEPT with
 * (slot, gen). The engine records (slot, gen) privately, resets rx_prod,
 * tx_cons, flags and err, and from then writes the stack's fields. After
 * the program's CLOSE the engine drains the TX ring into the connection,
 * calls dpt_close() (dpt_abort() if unread data remains, as Linux resets
 * on close with unread data) and stores released = gen: from then it never
 * touches the slot and the shim may reuse it. Listener slots are released
 * by waiting for every engine's UNLISTEN completion.
 *
 * VALIDATION (dptcpd side; "a program can only hurt itself"). dptcpd never
 * reads a region pointer or offset: the layout is its private copy. Every
 * value it reads from the region is loaded once into a local and checked:
 * queue prod - cons <= SHM_QLEN, ring prod - cons <= ring size, op known,
 * slot < max_sockets, (slot, gen) matching the engine's private record
 * where one exists and the slot free where a new one is bound, channel
 * bits < n_channels, lengths and ports in range. A violation is counted
 * (telemetry shim_violations) and disconnects that program only: its
 * connections are reset and its region unmapped once every engine has
 * let go of it. Slots the program misuses across engines (the same slot
 * bound on two engines) corrupt only that program's own data.
 *
 * PROGRAM DEATH. dptcpd's control thread sees the Unix socket close and
 * tells every engine. Each engine unlistens, resets connections still
 * waiting in its accept queues, and treats every connection as closed by
 * the program (reset with unread data, otherwise FIN after the TX ring's
 * data); it lets go of the region when no connection of the program needs
 * its TX ring any more. After every engine has let go, the control thread
 * closes the doorbells and unmaps the region.
 *
 * FORK: MEMBERS OF ONE PROGRAM. A program is a group of up to
 * SHM_MAX_MEMBERS processes sharing one region: the first process to
 * attach is member 0; a fork adds one. Before fork() returns (the shim's
 * pthread_atfork prepare handler), the parent makes a socketpair and sends
 * struct shm_fork_req on its own Unix socket with one end (SCM_RIGHTS);
 * dptcpd makes that end the new member's socket, has every engine give the
 * new member a reference to every slot the parent holds, and only then
 * answers struct shm_fork_ack on it (so a command of the child can never
 * overtake the copy). The child keeps the other end as its Unix socket and
 * closes its copy of the parent's; the parent closes the other end. So
 * each member's life is its own Unix socket: when it closes (exit, kill,
 * exec, or a fork that failed) dptcpd drops that member's references only.
 * References are kept by the engines (a member bit mask per slot), from
 * fork and close events, never read from the region: a connection or
 * listener lives while any member holds it, like a Linux socket while any
 * process holds a descriptor. Every command carries its sender's member
 * number (shm_msg.member); CLOSE / UNLISTEN drop that member's reference
 * and complete with SHM_HELD when other members still hold the slot (the
 * slot then stays bound and the sender forgets it), 0 when it was the
 * last (the usual close; the sender then waits for released). The member
 * number is not authenticated: a member that lies can hurt only its own
 * program group, never dptcpd or another program.
 *
 * Channels and slots are shared by the members, so both are claimed in
 * the region with atomics (program-written words dptcpd never reads):
 * shm_chan.claimed = member + 1 while a thread of that member uses the
 * channel (the control thread clears a departed member's claims); a slot's
 * alloc word = gen << 1 | 1 while in use, gen << 1 when free (the last
 * closer frees it once released == gen). A member that claims a channel
 * starts from the queues' current indices and ignores completions whose
 * seq is not its own (a departed member's leftovers).
 *
 * Linux keeps one file offset per socket; here each member keeps its own
 * copy of rx_cons / tx_prod and re-reads the slot's before each call, so
 * members that use one connection one after another (the usual pattern)
 * see the same stream; two members reading one connection at the same
 * instant are not serialised against each other.
 *
 * KICKS (engine work proportional to activity, not to connections). An
 * engine services only its "active" connections: those with something to
 * move or to finish (events from TCP, commands, kicks). A connection with
 * nothing to do (TX ring empty or TCP's send buffer full, and no data from
 * TCP or the RX ring full) leaves the active list: the engine stores
 * slot.eng_idle = SHM_IDLE, seq_cst fence, re-reads tx_prod and rx_cons,
 * and stays active if either moved. The program, after storing tx_prod or
 * rx_cons: seq_cst fence, load eng_idle; if it is not 0, it kicks: sets bit
 * (slot % 64) of kick word (slot / 64) of the slot's engine (fetch_or),
 * then bit (word % 64) of that engine's kick summary. The engine loads
 * each program's summary once per loop (one load when nothing happened),
 * exchanges what it finds with 0 and activates the named slots (unknown
 * or unbound slots are ignored: a kick may race with close). So an idle
 * connection costs nothing per loop; a kick costs the program two atomic
 * ORs only when the engine had stopped watching. The engine stores
 * eng_idle = SHM_IDLE_RX_DONE instead of SHM_IDLE when TCP has nothing
 * more for the RX ring (its own state, not the ring's fill): then a read
 * gives it no work and the program kicks only after moving tx_prod. In a
 * request/response exchange that is one kick per round trip, not two.
 *
 * EXEC: THE SAME MEMBER IN A NEW IMAGE. exec keeps the process, so it
 * keeps its member number and references. The shim wraps execve, execvpe
 * and fexecve (execv, execvp and execl* are rebuilt on them: glibc calls
 * its internal execve past any interposition). When some dptcp socket
 * has an fd without FD_CLOEXEC, the old image, holding every shim lock,
 * writes a hand-over into a memfd without FD_CLOEXEC: the member number,
 * its Unix socket, the region's memfd (the shim keeps it open for this),
 * the doorbells, each dptcp socket's state (struct ps_sock, checked by
 * size) and which fds survive; clears FD_CLOEXEC on its Unix socket,
 * memfd and doorbells; and passes DPTCP_EXEC_FD=<memfd> in the new
 * environment. The new image's shim constructor maps the region, takes
 * the fds back (close-on-exec again), frees the channels this member had
 * claimed (its old threads are gone), installs the sockets under their fd
 * numbers and closes (CLOSE / UNLISTEN / port RELEASE) those whose every
 * fd was close-on-exec; a hand-over it cannot use (another shim version)
 * makes it close those fds, so dptcpd drops the member as at its death.
 * Command seqs carry an exec count so completions for the old image's
 * threads never match the new one's. When no dptcp socket survives, the
 * exec goes on as usual: the kernel closes the shim's fds and dptcpd
 * drops the member's references. A failed exec restores FD_CLOEXEC,
 * closes the hand-over and unlocks: nothing changed. A vfork child
 * (posix_spawn) shares its parent's memory and is no member: the shim
 * touches nothing there (not even a lock), its dptcp fds are dead.
 *
 * PORTS: dptcpd's port table. Which socket of which program is bound or
 * listening on which (address, port) is kept by dptcpd's control thread,
 * from requests on the member's Unix socket (struct shm_port_req, one at
 * a time per member, answered with struct shm_port_ack; the member is the
 * socket's, never the request's): BIND (ip, port, SO_REUSEADDR /
 * SO_REUSEPORT flags; port 0 takes a port nobody holds, from a random
 * start in 32768..60999) gives a handle; LISTEN (flags as they are now),
 * UNLISTEN (shutdown(SHUT_RD) of a listener) and RELEASE (the member's
 * last fd of the socket) name it. Linux's TCP rule (inet_bind_conflict)
 * decides: two sockets clash on overlapping addresses (equal or either
 * the wildcard) unless both set SO_REUSEADDR and the other does not
 * listen, or both set SO_REUSEPORT and belong to one uid (the program's
 * SO_PEERCRED); a port below 1024 needs uid 0 (EACCES, Linux's
 * CAP_NET_BIND_SERVICE rule); a program holds at most max_sockets
 * handles (ENOBUFS). A handle has a reference per member (copied at fork,
 * dropped at RELEASE and member death); the whole program's go when it
 * dies, before a restarted program's requests are read. Accepted and
 * connected sockets and TIME_WAIT do not hold ports here. The engines do
 * not trust the table: each has one TCP listener per (ip, port) and puts
 * a second program listener on it only when both that LISTEN (arg2
 * SHM_LISTEN_REUSEPORT) and every listener already there set
 * SO_REUSEPORT under the same uid; a new connection goes to one of them
 * by a hash of its 4-tuple scaled over their number, as Linux's
 * reuseport selection does (the same flow, the same listener, while the
 * group is unchanged).
 *
 * EXCLUSIVE (EPOLLEXCLUSIVE). A thread about to sleep in an epoll wait
 * whose set has the slot with EPOLLEXCLUSIVE sets its channel's bit in
 * xwaiters instead of waiters, and clears it when it wakes. The engine,
 * where it would wake waiters, also takes ONE bit of xwaiters (clears it
 * with fetch_and: only the winner of that bit wakes it) and wakes that
 * channel, as Linux wakes one exclusive waiter per event.
 *
 * NOTES (which slots woke a channel: epoll costs O(ready)). Each channel
 * has a note area shaped like a kick area (struct shm_kick: a summary
 * word, then one bit per slot). When the engine wakes channel c because
 * of slot s (WAKEUP) it first sets bit (s % 64) of note word (s / 64) of
 * channel c (fetch_or), then bit (word % 64) of c's note summary, then
 * writes the doorbell. The program exchanges the summary and the words it
 * names with 0 and so learns which slots changed without looking at the
 * others: the shim's epoll keeps, per slot, the epoll items interested in
 * it and moves those to their instance's ready list; a registered socket
 * stays armed (its waiters bit set) until a change is noted, so a quiet
 * one costs nothing per wait. Any thread of the member may drain any of
 * its channels' notes (what it learns goes to every instance). A lost
 * note is impossible (the bit is set before the doorbell is written) and
 * a spurious one harmless (the shim re-checks the slot's state).
 *
 * NOT YET (kept possible by this layout): per-epoll doorbells (an epoll
 * fd's dptcp members are seen by the shim's own poll/select/epoll only). */
#ifndef SHM_PROTO_H
#define SHM_PROTO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define SHM_MAGIC 0x316d737063747064ULL /* "dptcpsm1" */
#define SHM_VERSION 5
#define SHM_MAX_ENGINES 64
#define SHM_MAX_CHANNELS 64      /* one bit each in shm_slot.waiters */
#define SHM_QLEN 64              /* entries per command / event queue */
#define SHM_LINE 64
#define SHM_HDR_BYTES 4096
#define SHM_MAX_MEMBERS 64       /* processes per program (fork) */
#define SHM_HELD 1               /* CLOSE/UNLISTEN: other members hold it */

/* Unix-socket messages. */
struct shm_hello {
	uint32_t magic;          /* SHM_HELLO_MAGIC */
	uint32_t version;
	int32_t pid;
	uint32_t reserved;
};
#define SHM_HELLO_MAGIC 0x64707431u

struct shm_welcome {
	uint32_t magic;          /* SHM_HELLO_MAGIC */
	int32_t status;          /* 0, or a negative errno: no fds follow */
	uint64_t region_bytes;
	uint32_t n_channels;     /* doorbell fds after the memfd */
	uint32_t prog_id;
};

/* Fork (see "FORK"): the parent sends shm_fork_req on its Unix socket with
 * SCM_RIGHTS carrying the new member's socket; dptcpd answers shm_fork_ack
 * on that new socket once every engine has copied the references. */
struct shm_fork_req {
	uint32_t magic;          /* SHM_FORK_MAGIC */
	uint32_t member;         /* the parent's member number */
};
#define SHM_FORK_MAGIC 0x64707466u

struct shm_fork_ack {
	uint32_t magic;          /* SHM_FORK_MAGIC */
	int32_t status;          /* 0, or a negative errno */
	uint32_t member;         /* the child's member number */
	uint32_t reserved;
};

/* Ports (see "PORTS"): the shim sends shm_port_req on its Unix socket,
 * dptcpd answers shm_port_ack on it. */
enum shm_port_op {
	SHM_PORT_BIND = 1,       /* ip, port (0: ephemeral), flags: a handle */
	SHM_PORT_LISTEN,         /* handle, port, flags (as they are now) */
	SHM_PORT_UNLISTEN,       /* handle, port: bound, no longer listening */
	SHM_PORT_RELEASE,        /* handle, port: the sender's reference goes */
};
#define SHM_PORT_REUSEADDR 0x1u
#define SHM_PORT_REUSEPORT 0x2u

struct shm_port_req {
	uint32_t magic;          /* SHM_PORT_MAGIC */
	uint32_t op;             /* enum shm_port_op */
	uint32_t seq;            /* echoed in the ack */
	uint32_t handle;
	uint32_t ip;             /* host order, 0: any */
	uint16_t port;
	uint16_t flags;          /* SHM_PORT_* */
};
#define SHM_PORT_MAGIC 0x64707470u

struct shm_port_ack {
	uint32_t magic;          /* SHM_PORT_MAGIC */
	int32_t status;          /* 0, or a negative errno (-EADDRINUSE) */
	uint32_t seq;
	uint32_t handle;         /* BIND: the new handle */
	uint16_t port;           /* BIND: the port (chosen when 0 was asked) */
	uint16_t reserved;
};

struct shm_hdr {
	uint64_t magic;
	uint32_t version;
	uint32_t prog_id;
	uint64_t region_bytes;
	uint32_t n_engines;
	uint32_t n_channels;
	uint32_t max_sockets;
	uint32_t qlen;
	uint32_t rx_ring_bytes;
	uint32_t tx_ring_bytes;
	uint32_t spin_us;
	uint32_t local_ip;       /* dptcp's address, host byte order */
	uint32_t prefix_len;
	uint32_t gateway;        /* 0: none */
	uint64_t off_chan, chan_bytes;
	uint64_t off_slots, slot_bytes;
	uint64_t off_data;
};

/* One 64-byte queue entry: a command or its completion. */
enum shm_op {
	SHM_OP_NONE = 0,
	SHM_OP_LISTEN,      /* slot, gen, ip, port, arg = backlog,
			     * arg2 = SHM_LISTEN_* flags */
	SHM_OP_UNLISTEN,    /* slot, gen */
	SHM_OP_ACCEPT,      /* slot/gen = listener; arg = new slot, arg2 = its gen;
			     * completion: addresses, status -EAGAIN if none */
	SHM_OP_CONNECT,     /* slot, gen, ip, port, lport; completion: status
			     * 0 = in progress (slot state tells the rest) */
	SHM_OP_SHUTDOWN,    /* slot, gen: FIN once the TX ring is drained */
	SHM_OP_CLOSE,       /* slot, gen, arg = 1: abort (SO_LINGER 0) */
	SHM_OP_SETOPT,      /* slot, gen, arg = enum dpt_opt, arg2 = value */
	SHM_OP_COUNT
};

#define SHM_LISTEN_REUSEPORT 0x1u  /* SHM_OP_LISTEN arg2: SO_REUSEPORT set */

struct shm_msg {
	uint16_t op;
	uint16_t member;         /* sender's member number (see "FORK") */
	uint32_t seq;            /* chosen by the program, echoed */
	uint32_t slot;
	uint32_t gen;
	int32_t status;          /* completion: 0 or a negative errno */
	uint32_t arg;
	uint32_t arg2;
	uint32_t ip;             /* host order: remote address */
	uint16_t port;           /* remote port */
	uint16_t lport;          /* local port */
	uint32_t lip;            /* local address */
	uint8_t pad[24];
};
_Static_assert(sizeof(struct shm_msg) == 64, "shm_msg is one cache line");

struct shm_q {
	_Atomic uint32_t prod;
	uint8_t pad0[SHM_LINE - 4];
	_Atomic uint32_t cons;
	uint8_t pad1[SHM_LINE - 4];
	struct shm_msg e[SHM_QLEN];
};

struct shm_chan {
	_Atomic uint32_t sleeping;   /* program: 1 before sleeping for a completion */
	_Atomic uint32_t claimed;    /* program: member + 1 using it, 0 free */
	uint8_t pad[SHM_LINE - 8];
	/* then: struct shm_q cmd, evt for engine 0, 1, ... */
};

/* Slot states (written by the stack). */
enum shm_state {
	SHM_ST_FREE = 0,
	SHM_ST_LISTEN,
	SHM_ST_CONNECTING,
	SHM_ST_ESTABLISHED,
	SHM_ST_CLOSED,           /* connection gone: err says how (0: orderly) */
};

#define SHM_SF_RX_FIN   0x1u  /* peer's FIN: every byte before it is in RX */
#define SHM_SF_TX_SHUT  0x2u  /* our FIN is queued (after the TX ring's data) */

struct shm_slot {
	/* program writes */
	_Atomic uint64_t waiters;    /* channel bits to wake on any change */
	_Atomic uint32_t alloc;      /* gen << 1 | in use (see "FORK") */
	uint32_t pad_a;
	_Atomic uint64_t xwaiters;   /* channel bits to wake one of (EXCLUSIVE) */
	uint8_t pad0[SHM_LINE - 24];
	_Atomic uint32_t rx_cons;
	uint8_t pad1[SHM_LINE - 4];
	_Atomic uint32_t tx_prod;
	uint8_t pad2[SHM_LINE - 4];
	/* stack writes */
	_Atomic uint32_t rx_prod;
	uint8_t pad3[SHM_LINE - 4];
	_Atomic uint32_t tx_cons;
	uint8_t pad4[SHM_LINE - 4];
	_Atomic uint32_t state;      /* enum shm_state */
	_Atomic int32_t err;         /* positive errno of a failed connection */
	_Atomic uint32_t flags;      /* SHM_SF_* */
	_Atomic uint32_t released;   /* gen the stack has let go of */
	_Atomic uint32_t lip, rip;   /* host order */
	_Atomic uint32_t lport, rport;
	_Atomic uint32_t eng_idle;   /* SHM_IDLE*: the engine waits for a kick (KICKS) */
	uint8_t pad5[SHM_LINE - 36];
	_Atomic uint32_t accq[SHM_MAX_ENGINES]; /* listener: engine e's waiting */
};

/* slot.eng_idle (KICKS): 0 the engine services the slot; else it waits
 * for a kick after the program moves tx_prod, and rx_cons too unless
 * SHM_IDLE_RX_DONE. */
#define SHM_IDLE          1u
#define SHM_IDLE_RX_DONE  2u

/* An engine's kick area (KICKS): the summary on its own line, then
 * kick_words(max_sockets) words, one bit per slot. */
struct shm_kick {
	_Atomic uint64_t summary;    /* bit w % 64: some word w has bits */
	uint8_t pad[SHM_LINE - 8];
	_Atomic uint64_t words[];
};

static inline uint32_t
shm_kick_words(uint32_t max_sockets)
{
	return (max_sockets + 63) / 64;
}

/* Where everything is, from the sizes alone (both sides compute it). */
struct shm_layout {
	uint64_t off_chan, chan_bytes;
	uint64_t off_slots, slot_bytes;
	uint64_t off_kick, kick_bytes;   /* per engine */
	uint64_t off_note;               /* per channel, kick_bytes each */
	uint64_t off_data, region_bytes;
};

static inline uint64_t
shm_align(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static inline void
shm_layout(uint32_t n_engines, uint32_t n_channels, uint32_t max_sockets,
	   uint32_t rx_ring_bytes, uint32_t tx_ring_bytes,
	   struct shm_layout *l)
{
	l->chan_bytes = sizeof(struct shm_chan) +
			2ull * n_engines * sizeof(struct shm_q);
	l->off_chan = SHM_HDR_BYTES;
	l->slot_bytes = shm_align(sizeof(struct shm_slot), SHM_LINE);
	l->off_slots = shm_align(l->off_chan + n_channels * l->chan_bytes,
				 4096);
	l->off_kick = shm_align(l->off_slots +
				(uint64_t)max_sockets * l->slot_bytes, 4096);
	l->kick_bytes = shm_align(sizeof(struct shm_kick) +
				  8ull * shm_kick_words(max_sockets), SHM_LINE);
	l->off_note = l->off_kick + n_engines * l->kick_bytes;
	l->off_data = shm_align(l->off_note + n_channels * l->kick_bytes, 4096);
	l->region_bytes = l->off_data + (uint64_t)max_sockets *
			  ((uint64_t)rx_ring_bytes + tx_ring_bytes);
}

/* Accessors from a base address and a layout (either side's copy). */
static inline struct shm_chan *
shm_chan_at(void *base, const struct shm_layout *l, uint32_t c)
{
	return (struct shm_chan *)((uint8_t *)base + l->off_chan +
				   c * l->chan_bytes);
}

static inline struct shm_q *
shm_cmdq(void *base, const struct shm_layout *l, uint32_t c, uint32_t e)
{
	return (struct shm_q *)((uint8_t *)(shm_chan_at(base, l, c) + 1) +
				2ull * e * sizeof(struct shm_q));
}

static inline struct shm_q *
shm_evtq(void *base, const struct shm_layout *l, uint32_t c, uint32_t e)
{
	return shm_cmdq(base, l, c, e) + 1;
}

static inline struct shm_slot *
shm_slot_at(void *base, const struct shm_layout *l, uint32_t s)
{
	return (struct shm_slot *)((uint8_t *)base + l->off_slots +
				   s * l->slot_bytes);
}

static inline struct shm_kick *
shm_kick_at(void *base, const struct shm_layout *l, uint32_t e)
{
	return (struct shm_kick *)((uint8_t *)base + l->off_kick +
				   e * l->kick_bytes);
}

/* Channel c's note area (NOTES): same shape as a kick area. */
static inline struct shm_kick *
shm_note_at(void *base, const struct shm_layout *l, uint32_t c)
{
	return (struct shm_kick *)((uint8_t *)base + l->off_note +
				   c * l->kick_bytes);
}

static inline void
shm_kick(void *base, const struct shm_layout *l, uint32_t e, uint32_t s)
{
	struct shm_kick *k = shm_kick_at(base, l, e);

	atomic_fetch_or(&k->words[s / 64], 1ull << (s % 64));
	atomic_fetch_or(&k->summary, 1ull << ((s / 64) % 64));
}

/* The program's side of KICKS, after storing tx_prod (or both indices). */
static inline void
shm_kick_if_idle(void *base, const struct shm_layout *l, uint32_t e,
		 struct shm_slot *sl, uint32_t s)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&sl->eng_idle, memory_order_relaxed) != 0)
		shm_kick(base, l, e, s);
}

/* ... after storing rx_cons only: room in the RX ring matters to the
 * engine only when TCP still has data for it (SHM_IDLE). */
static inline void
shm_kick_if_idle_rx(void *base, const struct shm_layout *l, uint32_t e,
		    struct shm_slot *sl, uint32_t s)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&sl->eng_idle, memory_order_relaxed) ==
	    SHM_IDLE)
		shm_kick(base, l, e, s);
}

static inline uint8_t *
shm_rx_ring(void *base, const struct shm_layout *l, uint32_t s,
	    uint32_t rx_bytes, uint32_t tx_bytes)
{
	return (uint8_t *)base + l->off_data +
	       (uint64_t)s * ((uint64_t)rx_bytes + tx_bytes);
}

static inline uint8_t *
shm_tx_ring(void *base, const struct shm_layout *l, uint32_t s,
	    uint32_t rx_bytes, uint32_t tx_bytes)
{
	return shm_rx_ring(base, l, s, rx_bytes, tx_bytes) + rx_bytes;
}

#endif
