/* tests/impair/impair.c — dptcp-impair, a seeded userspace L2 impairment
 * bridge: it forwards Ethernet frames between two interfaces (AF_PACKET) and,
 * per direction, drops, delays, reorders, duplicates, corrupts and rate-limits
 * them. Every decision comes from one PRNG per direction seeded from --seed,
 * so the same seed on the same frame sequence makes the same decisions. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>

#define PROG "dptcp-impair"
#define RX_BATCH 64          /* frames per recvmmsg */
#define TX_BATCH 64          /* frames per sendmmsg */
#define DEFAULT_LIMIT 10000  /* frames queued per direction */
#define MAX_LIMIT 1000000
#define MAX_MS 600000.0      /* 10 minutes: any larger delay is a typo */
#define NS_PER_MS 1000000.0
#define NO_SLOT UINT32_MAX
#define ETH_HDR_LEN 14
#define VLAN_HDR_LEN 4

enum { DIR_AB, DIR_BA, NDIRS };
static const char *const dir_names[NDIRS] = { "ab", "ba" };

/* What one direction does to the frames it carries (command line). */
struct impair_cfg {
	double loss;            /* probability */
	double dup;             /* probability */
	double corrupt;         /* probability */
	double reorder;         /* probability a frame is held back */
	unsigned reorder_gap;   /* held until this many later frames passed */
	double reorder_max_ms;  /* ... or at most this long */
	double delay_ms;
	double jitter_ms;       /* uniform in [-jitter, +jitter] */
	double rate_mbit;       /* 0: no rate limit */
	double burst_bytes;     /* token bucket depth; 0: default */
	unsigned limit;         /* frames queued at most */
};

/* Counters, printed and written to --stats-json at exit. */
struct impair_stats {
	uint64_t rx;             /* frames read from the interface */
	uint64_t passed;         /* not subject to impairment (ARP...), sent at once */
	uint64_t impaired;       /* subject to impairment (each drew its numbers) */
	uint64_t forwarded;      /* frames sent, duplicates included */
	uint64_t forwarded_bytes;
	uint64_t lost;           /* dropped by --loss */
	uint64_t duplicated;     /* extra copies sent (or queued) */
	uint64_t reordered;      /* frames held back by --reorder */
	uint64_t reorder_timeout;/* of those, released by --reorder-max-ms */
	uint64_t corrupted;
	uint64_t overflow;       /* dropped: queue at its --limit */
	uint64_t oversize;       /* dropped: larger than the frame buffer */
	uint64_t tx_errors;
	uint64_t rx_errors;
	uint64_t kernel_drops;   /* socket receive queue overflow (PACKET_STATISTICS) */
	uint64_t queued_at_exit; /* still queued or held when the bridge stopped */
	uint64_t rx_batches;     /* recvmmsg calls that returned frames (rx / rx_batches:
				  * frames per call) */
};

/* A frame buffer. Queued slots sit in the heap (by release time, then
 * arrival order) or in the reorder hold FIFO. */
struct slot {
	uint64_t release_ns;    /* heap: when to send; hold FIFO: deadline */
	uint64_t seq;           /* arrival order, breaks ties: FIFO on equal times */
	uint64_t due_sent;      /* hold FIFO: release once sent_normal reaches it */
	uint32_t len;
	uint32_t next;          /* hold FIFO link */
	bool hold;              /* --reorder chose this frame */
};

struct impair_dir {
	int dir;
	int rx_fd, tx_fd;
	struct impair_cfg cfg;
	struct impair_stats st;
	uint64_t rng[4];        /* xoshiro256** */

	uint64_t delay_ns, jitter_ns, reorder_max_ns;

	/* Token bucket (--rate-mbit): the departure time of the last frame and
	 * the tokens (bytes) left at that moment. */
	double ns_per_byte;
	double burst;
	uint64_t tb_last_ns;
	double tb_tokens;

	struct slot *slots;
	uint8_t *data;
	uint32_t nslots, slot_size;
	uint32_t *free_list, nfree;
	uint32_t *heap, nheap;
	uint32_t hold_head, hold_tail, nhold;
	uint64_t seq;
	uint64_t sent_normal;   /* frames sent that were not held */
	uint32_t txq[TX_BATCH]; /* slots to send, in order (tx_flush) */
	uint32_t ntx;
};

struct bridge {
	const char *ifname[NDIRS];  /* [0] = a, [1] = b */
	int fd[NDIRS];
	uint64_t seed;
	bool seed_given;
	bool tcp_only;
	const char *stats_json;
	uint32_t slot_size;
	struct impair_dir d[NDIRS];
};

/* ---- PRNG: splitmix64 seeds xoshiro256** ---- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(uint64_t s[4])
{
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* Uniform in [0, 1). */
static double rng_unit(uint64_t s[4])
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

/* Direction DIR's stream: independent of the other direction's traffic. */
static void rng_seed(uint64_t s[4], uint64_t seed, int dir)
{
	uint64_t x = seed ^ (0x6a09e667f3bcc909ULL * (uint64_t)(dir + 1));
	int i;

	for (i = 0; i < 4; i++)
		s[i] = splitmix64(&x);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- option parsing (strict: a bad value names its option, exit 2) ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: " PROG " -a IFACE -b IFACE [--seed S] [--tcp-only] [--stats-json FILE]\n"
"       [--dir ab|ba|both] [IMPAIRMENT...] [--dir ... IMPAIRMENT...]\n"
"Bridges frames between interfaces a and b. Impairments apply to the\n"
"direction(s) named by the last --dir (default both): ab = read on a, sent on b.\n"
"  --loss P            drop with probability P\n"
"  --delay-ms D        hold every frame D ms\n"
"  --jitter-ms J       plus uniform [-J, +J] ms (reorders; never before arrival)\n"
"  --reorder P         hold a frame back with probability P until\n"
"  --reorder-gap N       N later frames have been sent (default 1), or\n"
"  --reorder-max-ms M    M ms have passed (default 10)\n"
"  --dup P             send a second copy with probability P\n"
"  --corrupt P         flip one byte of the L4 header/payload (checksum fails)\n"
"  --rate-mbit R       token bucket of R Mbit/s (0: off, the default)\n"
"  --burst-bytes B     its depth (default: 1 ms at R, at least 2 frames)\n"
"  --limit N           frames queued per direction (default %d); beyond: dropped\n"
"Global: --seed S (default random; always printed), --tcp-only (impair only\n"
"IPv4/TCP; by default everything but ARP is impaired), --stats-json FILE\n"
"(written at exit). SIGTERM/SIGINT (also sent when the parent process\n"
"exits): print counters, write FILE, exit 0; SIGUSR1: print counters.\n",
		DEFAULT_LIMIT);
}

static void __attribute__((noreturn, format(printf, 2, 3)))
bad_option(const char *opt, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG ": --%s: ", opt);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static double parse_double(const char *opt, const char *arg, double lo, double hi)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (*arg == '\0' || *end != '\0' || errno != 0 || !isfinite(v))
		bad_option(opt, "expected a number, got '%s'", arg);
	if (v < lo || v > hi)
		bad_option(opt, "expected a value in [%g, %g], got '%s'", lo, hi, arg);
	return v;
}

static uint64_t parse_u64(const char *opt, const char *arg, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (*arg == '\0' || *arg == '-' || *arg == '+' || *arg == ' ')
		bad_option(opt, "expected an unsigned integer, got '%s'", arg);
	v = strtoull(arg, &end, 0);
	if (*end != '\0' || errno != 0)
		bad_option(opt, "expected an unsigned integer, got '%s'", arg);
	if (v < lo || v > hi)
		bad_option(opt, "expected a value in [%" PRIu64 ", %" PRIu64 "], got '%s'",
			   lo, hi, arg);
	return v;
}

enum {
	OPT_DIR = 256, OPT_LOSS, OPT_DELAY, OPT_JITTER, OPT_REORDER, OPT_REORDER_GAP,
	OPT_REORDER_MAX, OPT_DUP, OPT_CORRUPT, OPT_RATE, OPT_BURST, OPT_LIMIT,
	OPT_SEED, OPT_TCP_ONLY, OPT_STATS_JSON,
};

static const struct option long_opts[] = {
	{ "if-a", required_argument, NULL, 'a' },
	{ "if-b", required_argument, NULL, 'b' },
	{ "dir", required_argument, NULL, OPT_DIR },
	{ "loss", required_argument, NULL, OPT_LOSS },
	{ "delay-ms", required_argument, NULL, OPT_DELAY },
	{ "jitter-ms", required_argument, NULL, OPT_JITTER },
	{ "reorder", required_argument, NULL, OPT_REORDER },
	{ "reorder-gap", required_argument, NULL, OPT_REORDER_GAP },
	{ "reorder-max-ms", required_argument, NULL, OPT_REORDER_MAX },
	{ "dup", required_argument, NULL, OPT_DUP },
	{ "corrupt", required_argument, NULL, OPT_CORRUPT },
	{ "rate-mbit", required_argument, NULL, OPT_RATE },
	{ "burst-bytes", required_argument, NULL, OPT_BURST },
	{ "limit", required_argument, NULL, OPT_LIMIT },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "tcp-only", no_argument, NULL, OPT_TCP_ONLY },
	{ "stats-json", required_argument, NULL, OPT_STATS_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Apply one impairment option to the directions in MASK. */
static void set_cfg(struct bridge *br, unsigned mask, int opt, const char *name,
		    const char *arg)
{
	double v = 0;
	uint64_t u = 0;
	int i;

	switch (opt) {
	case OPT_LOSS: case OPT_DUP: case OPT_CORRUPT: case OPT_REORDER:
		v = parse_double(name, arg, 0.0, 1.0);
		break;
	case OPT_DELAY: case OPT_JITTER:
		v = parse_double(name, arg, 0.0, MAX_MS);
		break;
	case OPT_REORDER_MAX:
		v = parse_double(name, arg, 0.001, MAX_MS);
		break;
	case OPT_RATE:
		v = parse_double(name, arg, 0.0, 1000000.0);
		break;
	case OPT_BURST:
		v = parse_double(name, arg, 64.0, 1e9);
		break;
	case OPT_REORDER_GAP:
		u = parse_u64(name, arg, 1, 1000);
		break;
	case OPT_LIMIT:
		u = parse_u64(name, arg, 1, MAX_LIMIT);
		break;
	}
	for (i = 0; i < NDIRS; i++) {
		struct impair_cfg *c = &br->d[i].cfg;

		if (!(mask & (1u << i)))
			continue;
		switch (opt) {
		case OPT_LOSS: c->loss = v; break;
		case OPT_DUP: c->dup = v; break;
		case OPT_CORRUPT: c->corrupt = v; break;
		case OPT_REORDER: c->reorder = v; break;
		case OPT_DELAY: c->delay_ms = v; break;
		case OPT_JITTER: c->jitter_ms = v; break;
		case OPT_REORDER_MAX: c->reorder_max_ms = v; break;
		case OPT_RATE: c->rate_mbit = v; break;
		case OPT_BURST: c->burst_bytes = v; break;
		case OPT_REORDER_GAP: c->reorder_gap = (unsigned)u; break;
		case OPT_LIMIT: c->limit = (unsigned)u; break;
		}
	}
}

static void parse_args(struct bridge *br, int argc, char **argv)
{
	unsigned mask = (1u << DIR_AB) | (1u << DIR_BA);
	int opt, idx, i;

	for (i = 0; i < NDIRS; i++) {
		br->d[i].cfg.reorder_gap = 1;
		br->d[i].cfg.reorder_max_ms = 10.0;
		br->d[i].cfg.limit = DEFAULT_LIMIT;
	}
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":a:b:h", long_opts, &idx)) != -1) {
		const char *name = opt >= OPT_DIR ? long_opts[idx].name : NULL;

		switch (opt) {
		case 'a':
		case 'b':
			if (*optarg == '\0' || strlen(optarg) >= IF_NAMESIZE)
				bad_option(opt == 'a' ? "if-a" : "if-b",
					   "expected an interface name, got '%s'", optarg);
			br->ifname[opt == 'a' ? 0 : 1] = optarg;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		case OPT_DIR:
			if (strcmp(optarg, "ab") == 0)
				mask = 1u << DIR_AB;
			else if (strcmp(optarg, "ba") == 0)
				mask = 1u << DIR_BA;
			else if (strcmp(optarg, "both") == 0)
				mask = (1u << DIR_AB) | (1u << DIR_BA);
			else
				bad_option(name, "expected ab, ba or both, got '%s'", optarg);
			break;
		case OPT_SEED:
			br->seed = parse_u64(name, optarg, 0, UINT64_MAX);
			br->seed_given = true;
			break;
		case OPT_TCP_ONLY:
			br->tcp_only = true;
			break;
		case OPT_STATS_JSON:
			if (*optarg == '\0')
				bad_option(name, "expected a file name");
			br->stats_json = optarg;
			break;
		case ':':
			fprintf(stderr, PROG ": option '%s' needs a value\n", argv[optind - 1]);
			exit(2);
		case '?':
			fprintf(stderr, PROG ": unknown option '%s' (see --help)\n",
				argv[optind - 1]);
			exit(2);
		default:
			set_cfg(br, mask, opt, name, optarg);
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		exit(2);
	}
	if (br->ifname[0] == NULL || br->ifname[1] == NULL) {
		fprintf(stderr, PROG ": both -a IFACE and -b IFACE are required\n");
		exit(2);
	}
	if (strcmp(br->ifname[0], br->ifname[1]) == 0) {
		fprintf(stderr, PROG ": -a and -b name the same interface '%s'\n",
			br->ifname[0]);
		exit(2);
	}
}

/* ---- sockets ---- */

static void __attribute__((noreturn)) die(const char *what, const char *ifname)
{
	fprintf(stderr, PROG ": %s %s: %s\n", what, ifname, strerror(errno));
	exit(1);
}

/* A raw socket on IFNAME that reads every frame the interface receives
 * (promiscuous), never the frames this process sends (PACKET_IGNORE_OUTGOING,
 * and outgoing frames are also skipped by their packet type). Sets *MTU. */
static int open_iface(const char *ifname, unsigned *mtu)
{
	struct sockaddr_ll sll = { 0 };
	struct packet_mreq mr = { 0 };
	struct ifreq ifr = { 0 };
	int fd, one = 1, buf = 8 << 20;
	unsigned ifindex = if_nametoindex(ifname);

	if (ifindex == 0)
		die("no interface", ifname);
	/* Protocol 0 until bound: nothing from other interfaces queues up. */
	fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0)
		die("socket(AF_PACKET) for", ifname);
	if (setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one)) < 0)
		fprintf(stderr, PROG ": %s: no PACKET_IGNORE_OUTGOING (%s); "
			"outgoing frames are skipped by packet type\n", ifname,
			strerror(errno));
	/* Straight to the driver: a veth has no qdisc to queue in anyway. */
	(void)setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &buf, sizeof(buf)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
	sll.sll_family = AF_PACKET;
	sll.sll_protocol = htons(ETH_P_ALL);
	sll.sll_ifindex = (int)ifindex;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		die("bind to", ifname);
	mr.mr_ifindex = (int)ifindex;
	mr.mr_type = PACKET_MR_PROMISC;
	if (setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0)
		die("promiscuous mode on", ifname);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (ioctl(fd, SIOCGIFMTU, &ifr) < 0)
		die("SIOCGIFMTU on", ifname);
	*mtu = (unsigned)ifr.ifr_mtu;
	if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 && !(ifr.ifr_flags & IFF_UP))
		fprintf(stderr, PROG ": warning: %s is down\n", ifname);
	return fd;
}

/* ---- frame slots, heap, hold FIFO ---- */

static uint8_t *slot_data(struct impair_dir *d, uint32_t i)
{
	return d->data + (size_t)i * d->slot_size;
}

static uint32_t queued(const struct impair_dir *d)
{
	return d->nheap + d->nhold;
}

static uint32_t slot_get(struct impair_dir *d)
{
	return d->nfree ? d->free_list[--d->nfree] : NO_SLOT;
}

static void slot_put(struct impair_dir *d, uint32_t i)
{
	d->free_list[d->nfree++] = i;
}

static bool heap_less(const struct impair_dir *d, uint32_t x, uint32_t y)
{
	const struct slot *a = &d->slots[x], *b = &d->slots[y];

	return a->release_ns < b->release_ns ||
	       (a->release_ns == b->release_ns && a->seq < b->seq);
}

static void heap_push(struct impair_dir *d, uint32_t s)
{
	uint32_t i = d->nheap++;

	while (i > 0) {
		uint32_t parent = (i - 1) / 2;

		if (!heap_less(d, s, d->heap[parent]))
			break;
		d->heap[i] = d->heap[parent];
		i = parent;
	}
	d->heap[i] = s;
}

static uint32_t heap_pop(struct impair_dir *d)
{
	uint32_t top = d->heap[0], last = d->heap[--d->nheap], i = 0;

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= d->nheap)
			break;
		if (c + 1 < d->nheap && heap_less(d, d->heap[c + 1], d->heap[c]))
			c++;
		if (!heap_less(d, d->heap[c], last))
			break;
		d->heap[i] = d->heap[c];
		i = c;
	}
	if (d->nheap > 0)
		d->heap[i] = last;
	return top;
}

static void hold_append(struct impair_dir *d, uint32_t s)
{
	d->slots[s].next = NO_SLOT;
	if (d->hold_tail == NO_SLOT)
		d->hold_head = s;
	else
		d->slots[d->hold_tail].next = s;
	d->hold_tail = s;
	d->nhold++;
}

static uint32_t hold_pop(struct impair_dir *d)
{
	uint32_t s = d->hold_head;

	d->hold_head = d->slots[s].next;
	if (d->hold_head == NO_SLOT)
		d->hold_tail = NO_SLOT;
	d->nhold--;
	return s;
}

static void dir_alloc(struct impair_dir *d, uint32_t slot_size)
{
	uint32_t i;

	/* RX_BATCH spare slots: a full queue still reads (and drops) frames. */
	d->nslots = d->cfg.limit + RX_BATCH;
	d->slot_size = slot_size;
	d->slots = calloc(d->nslots, sizeof(*d->slots));
	d->data = malloc((size_t)d->nslots * slot_size);
	d->free_list = malloc(d->nslots * sizeof(uint32_t));
	d->heap = malloc(d->nslots * sizeof(uint32_t));
	if (!d->slots || !d->data || !d->free_list || !d->heap) {
		fprintf(stderr, PROG ": out of memory for %u frames of %u bytes\n",
			d->nslots, slot_size);
		exit(1);
	}
	for (i = 0; i < d->nslots; i++)
		d->free_list[i] = d->nslots - 1 - i;
	d->nfree = d->nslots;
	d->hold_head = d->hold_tail = NO_SLOT;
}

static void dir_setup(struct impair_dir *d, uint64_t seed, uint32_t slot_size)
{
	const struct impair_cfg *c = &d->cfg;

	rng_seed(d->rng, seed, d->dir);
	d->delay_ns = (uint64_t)llround(c->delay_ms * NS_PER_MS);
	d->jitter_ns = (uint64_t)llround(c->jitter_ms * NS_PER_MS);
	d->reorder_max_ns = (uint64_t)llround(c->reorder_max_ms * NS_PER_MS);
	if (c->rate_mbit > 0) {
		double bytes_per_ns = c->rate_mbit * 1e6 / 8.0 / 1e9;

		d->ns_per_byte = 1.0 / bytes_per_ns;
		d->burst = c->burst_bytes > 0 ? c->burst_bytes
					      : fmax(2.0 * slot_size, bytes_per_ns * 1e6);
		d->tb_tokens = d->burst;
	}
	dir_alloc(d, slot_size);
}

/* ---- the impairments ---- */

/* Frames not subject to impairment: ARP always (neighbour resolution stays
 * reliable), and with --tcp-only everything but IPv4/TCP. */
static bool frame_impaired(const uint8_t *f, uint32_t len, bool tcp_only)
{
	uint32_t off = 12;
	uint16_t type;

	if (len < ETH_HDR_LEN)
		return !tcp_only;
	type = (uint16_t)(f[off] << 8 | f[off + 1]);
	if (type == ETH_P_8021Q && len >= ETH_HDR_LEN + VLAN_HDR_LEN) {
		off += VLAN_HDR_LEN;
		type = (uint16_t)(f[off] << 8 | f[off + 1]);
	}
	if (type == ETH_P_ARP)
		return false;
	if (!tcp_only)
		return true;
	return type == ETH_P_IP && len >= off + 2 + 20 && f[off + 2 + 9] == IPPROTO_TCP;
}

/* Flip one byte (XOR with a non-zero value) inside the IPv4 payload — the
 * L4 header or data — so the L4 checksum fails while the Ethernet and IP
 * headers still deliver the frame to the transport. Not IPv4: any byte
 * after the Ethernet header. R supplies position and value. */
static void corrupt_frame(uint8_t *f, uint32_t len, uint64_t r)
{
	uint32_t start = ETH_HDR_LEN, end = len;
	uint8_t x = (uint8_t)(r >> 56);

	if (len >= ETH_HDR_LEN + 20 && f[12] == 0x08 && f[13] == 0x00 &&
	    (f[ETH_HDR_LEN] >> 4) == 4) {
		uint32_t ihl = (f[ETH_HDR_LEN] & 0x0fu) * 4;
		uint32_t tot = (uint32_t)(f[ETH_HDR_LEN + 2] << 8 | f[ETH_HDR_LEN + 3]);

		if (ETH_HDR_LEN + tot < end)
			end = ETH_HDR_LEN + tot;   /* not the Ethernet padding */
		if (ihl >= 20 && ETH_HDR_LEN + ihl < end)
			start = ETH_HDR_LEN + ihl;
	}
	if (end <= start)
		return;
	f[start + (uint32_t)((r & 0xffffffffu) % (end - start))] ^= x ? x : 0xff;
}

/* Token bucket: when a frame of LEN bytes arriving at NOW may leave. Frames
 * leave in arrival order, so the bucket is computed at each departure. */
static uint64_t tb_departure(struct impair_dir *d, uint64_t now, uint32_t len)
{
	uint64_t t = now > d->tb_last_ns ? now : d->tb_last_ns;
	double tokens = d->tb_tokens + (double)(t - d->tb_last_ns) / d->ns_per_byte;

	if (tokens > d->burst)
		tokens = d->burst;
	if (tokens >= len) {
		tokens -= len;
	} else {
		t += (uint64_t)ceil((len - tokens) * d->ns_per_byte);
		tokens = 0;
	}
	d->tb_last_ns = t;
	d->tb_tokens = tokens;
	return t;
}

/* Send the frames of the TX batch in order, one sendmmsg when all goes
 * well; a frame the kernel refuses is counted and skipped. */
static void tx_flush(struct impair_dir *d)
{
	struct mmsghdr msgs[TX_BATCH];
	struct iovec iov[TX_BATCH];
	uint32_t i, done = 0;

	for (i = 0; i < d->ntx; i++) {
		iov[i].iov_base = slot_data(d, d->txq[i]);
		iov[i].iov_len = d->slots[d->txq[i]].len;
		memset(&msgs[i], 0, sizeof(msgs[i]));
		msgs[i].msg_hdr.msg_iov = &iov[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}
	while (done < d->ntx) {
		int n = sendmmsg(d->tx_fd, msgs + done, d->ntx - done, 0);

		if (n <= 0) {
			d->st.tx_errors++;
			done++;
			continue;
		}
		for (i = done; i < done + (uint32_t)n; i++) {
			d->st.forwarded++;
			d->st.forwarded_bytes += iov[i].iov_len;
		}
		done += (uint32_t)n;
	}
	for (i = 0; i < d->ntx; i++)
		slot_put(d, d->txq[i]);
	d->ntx = 0;
}

/* Queue slot S for sending (its slot is freed by tx_flush). */
static void send_slot(struct impair_dir *d, uint32_t s)
{
	d->txq[d->ntx++] = s;
	if (d->ntx == TX_BATCH)
		tx_flush(d);
}

/* The random draws of one impaired frame, always all of them (for every
 * enabled impairment) and in this order, so that frame N's fate depends only
 * on the seed, the options and N — not on timing or on queue overflow. */
struct fate {
	bool lose, corrupt, dup, hold;
	uint64_t corrupt_r;
	double jitter;   /* in [-1, 1) */
};

static struct fate draw_fate(struct impair_dir *d)
{
	const struct impair_cfg *c = &d->cfg;
	struct fate f = { 0 };

	if (c->loss > 0)
		f.lose = rng_unit(d->rng) < c->loss;
	if (c->corrupt > 0) {
		f.corrupt = rng_unit(d->rng) < c->corrupt;
		f.corrupt_r = rng_next(d->rng);
	}
	if (c->dup > 0)
		f.dup = rng_unit(d->rng) < c->dup;
	if (c->reorder > 0)
		f.hold = rng_unit(d->rng) < c->reorder;
	if (d->jitter_ns > 0)
		f.jitter = 2.0 * rng_unit(d->rng) - 1.0;
	return f;
}

static void enqueue(struct impair_dir *d, uint32_t s, uint64_t release_ns, bool hold)
{
	d->slots[s].release_ns = release_ns;
	d->slots[s].seq = d->seq++;
	d->slots[s].hold = hold;
	heap_push(d, s);
}

/* A frame arrived in slot S: decide its fate and queue it (or drop it). */
static void ingress(struct bridge *br, struct impair_dir *d, uint32_t s,
		    uint32_t len, uint64_t now)
{
	uint8_t *f = slot_data(d, s);
	struct fate fate;
	uint64_t t = now;

	if (!frame_impaired(f, len, br->tcp_only)) {
		d->st.passed++;
		d->slots[s].len = len;
		send_slot(d, s);
		return;
	}
	d->st.impaired++;
	fate = draw_fate(d);
	if (fate.lose) {
		d->st.lost++;
		slot_put(d, s);
		return;
	}
	if (queued(d) >= d->cfg.limit) {
		d->st.overflow++;
		slot_put(d, s);
		return;
	}
	if (fate.corrupt) {
		corrupt_frame(f, len, fate.corrupt_r);
		d->st.corrupted++;
	}
	if (d->ns_per_byte > 0)
		t = tb_departure(d, now, len);
	t += d->delay_ns;
	if (d->jitter_ns > 0) {
		int64_t j = (int64_t)llround(fate.jitter * (double)d->jitter_ns);

		t = (j < 0 && (uint64_t)-j > t - now) ? now : t + (uint64_t)j;
	}
	d->slots[s].len = len;
	enqueue(d, s, t, fate.hold);
	if (fate.dup) {
		uint32_t c = queued(d) < d->cfg.limit ? slot_get(d) : NO_SLOT;

		if (c == NO_SLOT) {
			d->st.overflow++;
			return;
		}
		memcpy(slot_data(d, c), f, len);
		d->slots[c].len = len;
		enqueue(d, c, t, false);   /* leaves right after the original */
		d->st.duplicated++;
	}
}

/* Read up to RX_BATCH frames from D's receive socket. */
static void dir_rx(struct bridge *br, struct impair_dir *d)
{
	struct mmsghdr msgs[RX_BATCH];
	struct iovec iov[RX_BATCH];
	struct sockaddr_ll from[RX_BATCH];
	uint32_t idx[RX_BATCH];
	int k = 0, n, i;
	uint64_t now;

	while (k < RX_BATCH && d->nfree > 0) {
		idx[k] = slot_get(d);
		iov[k].iov_base = slot_data(d, idx[k]);
		iov[k].iov_len = d->slot_size;
		memset(&msgs[k], 0, sizeof(msgs[k]));
		msgs[k].msg_hdr.msg_iov = &iov[k];
		msgs[k].msg_hdr.msg_iovlen = 1;
		msgs[k].msg_hdr.msg_name = &from[k];
		msgs[k].msg_hdr.msg_namelen = sizeof(from[k]);
		k++;
	}
	n = recvmmsg(d->rx_fd, msgs, (unsigned)k, MSG_DONTWAIT, NULL);
	if (n < 0) {
		if (errno == ENETDOWN || errno == ENODEV || errno == ENXIO) {
			/* The namespace or link was deleted under us. */
			fprintf(stderr, PROG ": %s: interface gone (%s), exiting\n",
				dir_names[d->dir], strerror(errno));
			exit(1);
		}
		if (errno != EAGAIN && errno != EINTR)
			d->st.rx_errors++;
		n = 0;
	}
	if (n > 0)
		d->st.rx_batches++;
	now = mono_ns();
	for (i = 0; i < n; i++) {
		if (from[i].sll_pkttype == PACKET_OUTGOING) {
			slot_put(d, idx[i]);
			continue;
		}
		d->st.rx++;
		if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			d->st.oversize++;
			slot_put(d, idx[i]);
			continue;
		}
		ingress(br, d, idx[i], msgs[i].msg_len, now);
	}
	for (i = k - 1; i >= n; i--)
		slot_put(d, idx[i]);
}

/* Send everything due at NOW. A frame chosen by --reorder goes to the hold
 * FIFO when due, and leaves right after the reorder_gap-th frame sent after
 * it, or at its deadline. */
static void dir_release(struct impair_dir *d, uint64_t now)
{
	while (d->nheap > 0 && d->slots[d->heap[0]].release_ns <= now) {
		uint32_t s = heap_pop(d);

		if (d->slots[s].hold) {
			d->slots[s].due_sent = d->sent_normal + d->cfg.reorder_gap;
			d->slots[s].release_ns += d->reorder_max_ns;
			hold_append(d, s);
			d->st.reordered++;
			continue;
		}
		send_slot(d, s);
		d->sent_normal++;
		while (d->nhold > 0 && d->slots[d->hold_head].due_sent <= d->sent_normal)
			send_slot(d, hold_pop(d));
	}
	while (d->nhold > 0 && d->slots[d->hold_head].release_ns <= now) {
		d->st.reorder_timeout++;
		send_slot(d, hold_pop(d));
	}
}

static uint64_t dir_next_event(const struct impair_dir *d)
{
	uint64_t t = UINT64_MAX;

	if (d->nheap > 0)
		t = d->slots[d->heap[0]].release_ns;
	if (d->nhold > 0 && d->slots[d->hold_head].release_ns < t)
		t = d->slots[d->hold_head].release_ns;
	return t;
}

/* ---- reporting ---- */

#define STATS_FIELDS(X) \
	X(rx) X(passed) X(impaired) X(forwarded) X(forwarded_bytes) X(lost) \
	X(duplicated) X(reordered) X(reorder_timeout) X(corrupted) X(overflow) \
	X(oversize) X(tx_errors) X(rx_errors) X(kernel_drops) X(queued_at_exit) \
	X(rx_batches)

static void print_cfg(const struct bridge *br)
{
	int i;

	printf(PROG ": seed %" PRIu64 "%s\n", br->seed,
	       br->seed_given ? "" : " (random; replay with --seed)");
	printf(PROG ": a=%s b=%s frame buffer %u B, impair %s\n", br->ifname[0],
	       br->ifname[1], br->slot_size,
	       br->tcp_only ? "IPv4/TCP only" : "everything but ARP");
	for (i = 0; i < NDIRS; i++) {
		const struct impair_cfg *c = &br->d[i].cfg;

		printf(PROG ": %s: loss %g delay %g ms jitter %g ms reorder %g (gap %u, max %g ms) "
		       "dup %g corrupt %g rate %g Mbit/s (0: off) limit %u\n",
		       dir_names[i], c->loss, c->delay_ms, c->jitter_ms, c->reorder,
		       c->reorder_gap, c->reorder_max_ms, c->dup, c->corrupt,
		       c->rate_mbit, c->limit);
	}
	fflush(stdout);
}

static void print_stats(const struct bridge *br)
{
	int i;

	for (i = 0; i < NDIRS; i++) {
		const struct impair_stats *st = &br->d[i].st;

		printf(PROG ": %s:", dir_names[i]);
#define X(f) printf(" " #f " %" PRIu64, st->f);
		STATS_FIELDS(X)
#undef X
		printf("\n");
	}
	fflush(stdout);
}

static int write_json(const struct bridge *br)
{
	FILE *f = fopen(br->stats_json, "w");
	int i;

	if (f == NULL) {
		fprintf(stderr, PROG ": --stats-json %s: %s\n", br->stats_json,
			strerror(errno));
		return -1;
	}
	fprintf(f, "{\"seed\": %" PRIu64 ", \"a\": \"%s\", \"b\": \"%s\"", br->seed,
		br->ifname[0], br->ifname[1]);
	for (i = 0; i < NDIRS; i++) {
		const struct impair_stats *st = &br->d[i].st;
		const struct impair_cfg *c = &br->d[i].cfg;
		const char *sep = "";

		fprintf(f, ",\n \"%s\": {", dir_names[i]);
#define X(fl) fprintf(f, "%s\"" #fl "\": %" PRIu64, sep, st->fl); sep = ", ";
		STATS_FIELDS(X)
#undef X
		fprintf(f, ",\n  \"config\": {\"loss\": %g, \"delay_ms\": %g, \"jitter_ms\": %g, "
			"\"reorder\": %g, \"reorder_gap\": %u, \"reorder_max_ms\": %g, "
			"\"dup\": %g, \"corrupt\": %g, \"rate_mbit\": %g, \"limit\": %u}}",
			c->loss, c->delay_ms, c->jitter_ms, c->reorder, c->reorder_gap,
			c->reorder_max_ms, c->dup, c->corrupt, c->rate_mbit, c->limit);
	}
	fprintf(f, "}\n");
	return fclose(f) == 0 ? 0 : -1;
}

static void collect_kernel_drops(struct bridge *br)
{
	int i;

	for (i = 0; i < NDIRS; i++) {
		struct tpacket_stats ts = { 0 };
		socklen_t len = sizeof(ts);

		if (getsockopt(br->d[i].rx_fd, SOL_PACKET, PACKET_STATISTICS, &ts, &len) == 0)
			br->d[i].st.kernel_drops += ts.tp_drops;
	}
}

/* ---- main loop ---- */

static int run(struct bridge *br)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[4];
	sigset_t sigs;
	int ep, sfd, i;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (sfd < 0 || ep < 0) {
		perror(PROG ": signalfd/epoll");
		return 1;
	}
	ev.data.u32 = NDIRS;
	epoll_ctl(ep, EPOLL_CTL_ADD, sfd, &ev);
	for (i = 0; i < NDIRS; i++) {
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(ep, EPOLL_CTL_ADD, br->d[i].rx_fd, &ev) < 0) {
			perror(PROG ": epoll_ctl");
			return 1;
		}
	}
	printf(PROG ": ready\n");
	fflush(stdout);

	for (;;) {
		uint64_t now = mono_ns(), next = UINT64_MAX;
		struct timespec ts, *tmo = NULL;
		int n;

		for (i = 0; i < NDIRS; i++) {
			uint64_t t = dir_next_event(&br->d[i]);

			if (t < next)
				next = t;
		}
		if (next != UINT64_MAX) {
			uint64_t wait = next > now ? next - now : 0;

			ts.tv_sec = (time_t)(wait / 1000000000ULL);
			ts.tv_nsec = (long)(wait % 1000000000ULL);
			tmo = &ts;
		}
		n = epoll_pwait2(ep, evs, 4, tmo, NULL);
		if (n < 0 && errno != EINTR) {
			perror(PROG ": epoll_pwait2");
			return 1;
		}
		for (i = 0; i < n; i++) {
			if (evs[i].data.u32 == NDIRS) {
				struct signalfd_siginfo si;

				if (read(sfd, &si, sizeof(si)) != sizeof(si))
					continue;
				if (si.ssi_signo == SIGUSR1) {
					print_stats(br);
					continue;
				}
				for (i = 0; i < NDIRS; i++)
					tx_flush(&br->d[i]);
				return 0;
			}
			dir_rx(br, &br->d[evs[i].data.u32]);
		}
		now = mono_ns();
		for (i = 0; i < NDIRS; i++) {
			dir_release(&br->d[i], now);
			tx_flush(&br->d[i]);
		}
	}
}

int main(int argc, char **argv)
{
	static struct bridge br;
	unsigned mtu[NDIRS];
	int i, rc;

	parse_args(&br, argc, argv);
	if (!br.seed_given && getrandom(&br.seed, sizeof(br.seed), 0) != sizeof(br.seed))
		br.seed = (uint64_t)time(NULL) ^ (uint64_t)getpid();
	for (i = 0; i < NDIRS; i++)
		br.fd[i] = open_iface(br.ifname[i], &mtu[i]);
	/* Largest frame either side may carry: MTU, Ethernet and a VLAN tag;
	 * a larger one (GRO left on) is counted as oversize and dropped. */
	br.slot_size = (mtu[0] > mtu[1] ? mtu[0] : mtu[1]) + ETH_HDR_LEN + VLAN_HDR_LEN;
	for (i = 0; i < NDIRS; i++) {
		struct impair_dir *d = &br.d[i];

		d->dir = i;
		d->rx_fd = br.fd[i];
		d->tx_fd = br.fd[1 - i];
		dir_setup(d, br.seed, br.slot_size);
	}
	/* Release times are honoured to the microsecond, not to 50 us. */
	prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	/* A test killed with SIGKILL runs no trap: do not outlive it (and keep
	 * its namespace alive) — SIGTERM when the parent exits. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0) == 0 && getppid() == 1) {
		fprintf(stderr, PROG ": parent exited during start-up\n");
		return 1;
	}
	print_cfg(&br);

	rc = run(&br);
	collect_kernel_drops(&br);
	for (i = 0; i < NDIRS; i++)
		br.d[i].st.queued_at_exit = queued(&br.d[i]);
	print_stats(&br);
	if (br.stats_json && write_json(&br) < 0)
		rc = 1;
	return rc;
}
