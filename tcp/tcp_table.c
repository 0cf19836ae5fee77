/* tcp_table.c — the per-engine connection table: rte_hash keyed by the
 * 4-tuple, looked up in bulk for a whole burst. An entry is a connection
 * or a compact TIME_WAIT record (tagged pointer, see tcp_internal.h).
 *
 * One table for both, rather than a second TIME_WAIT table looked up for
 * the misses of the first: every segment still costs one bulk lookup, and
 * the segments that miss — SYNs of new connections, the bulk of a SYN
 * flood — need no second probe. The price is a bigger table (max_conns +
 * max_time_wait entries), which costs memory but not lookups: a cuckoo
 * lookup reads two buckets whatever the table's size.
 *
 * Why the RSS hash a NIC writes into the mbuf is not used as the table's
 * signature: the steering key is symmetric (a 16-bit period, so that both
 * directions of a flow hash alike), and a Toeplitz hash with such a key
 * depends only on the XOR of the tuple's six 16-bit words: 65,536 values at
 * most (checked: 20,000 random tuples, 17,180 distinct hashes, each a
 * function of that fold). A million connections would share them sixteen
 * to one and pile into the same cuckoo buckets. CRC32 of the tuple (one
 * instruction per 8 bytes on SSE4.2) costs less than a bucket miss. */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "tcp_internal.h"

int tcp_table_create(struct tcp_engine *eng, unsigned int id, int socket)
{
	char cname[RTE_HASH_NAMESIZE], lname[RTE_HASH_NAMESIZE];
	uint64_t entries = (uint64_t)eng->cfg.max_conns +
			   eng->cfg.max_time_wait;
	struct rte_hash_parameters hp = {
		.entries = (uint32_t)RTE_MIN(RTE_MAX(entries, 8u), 1u << 30),
		.key_len = sizeof(struct tcp_tuple),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
		/* Never refuse a key while the bounds allow it. */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	snprintf(cname, sizeof(cname), "dpt_ct_%u", id);
	snprintf(lname, sizeof(lname), "dpt_lt_%u", id);
	hp.name = cname;
	eng->conns = rte_hash_create(&hp);
	if (eng->conns == NULL)
		return -rte_errno;
	hp.name = lname;
	hp.entries = 1024;
	hp.key_len = sizeof(struct tcp_listen_key);
	hp.extra_flag = 0;
	eng->listeners = rte_hash_create(&hp);
	if (eng->listeners == NULL) {
		rte_hash_free(eng->conns);
		eng->conns = NULL;
		return -rte_errno;
	}
	return 0;
}

void tcp_table_free(struct tcp_engine *eng)
{
	rte_hash_free(eng->conns);
	rte_hash_free(eng->listeners);
}

/* The table's hash, computed here (two CRC32 instructions for the 16-byte
 * key, inlined) and handed to rte_hash's *_with_hash calls: the same
 * function as its hash_func, which costs an indirect call and a loop over
 * a runtime length per operation. */
static inline hash_sig_t tuple_sig(const struct tcp_tuple *t)
{
	return rte_hash_crc(t, sizeof(*t), 0);
}

/* The tuple's entry (a connection or a tagged TIME_WAIT record), or NULL. */
void *tcp_table_lookup(struct tcp_engine *eng, const struct tcp_tuple *t)
{
	void *data;

	if (rte_hash_lookup_with_hash_data(eng->conns, t, tuple_sig(t),
					   &data) < 0)
		return NULL;
	return data;
}

/* Adds the tuple, or replaces its entry (a connection entering TIME_WAIT). */
int tcp_table_set(struct tcp_engine *eng, const struct tcp_tuple *t,
		  void *ent)
{
	int rc = rte_hash_add_key_with_hash_data(eng->conns, t, tuple_sig(t),
						 ent);

	return rc < 0 ? rc : 0;
}

void tcp_table_del(struct tcp_engine *eng, const struct tcp_tuple *t)
{
	if (rte_hash_del_key_with_hash(eng->conns, t, tuple_sig(t)) >= 0)
		eng->tuples_freed++;
}

void tcp_table_lookup_bulk(struct tcp_engine *eng,
			   const struct tcp_tuple *keys, uint32_t n,
			   void **out)
{
	const void *kp[TCP_BURST_MAX];
	hash_sig_t sig[TCP_BURST_MAX];
	void *data[TCP_BURST_MAX];
	uint64_t hits = 0;
	uint32_t i;

	for (i = 0; i < n; i++) {
		kp[i] = &keys[i];
		sig[i] = tuple_sig(&keys[i]);
	}
	if (n == 0 || rte_hash_lookup_with_hash_bulk_data(eng->conns, kp, sig,
						n, &hits, data) < 0)
		hits = 0;
	for (i = 0; i < n; i++)
		out[i] = (hits >> i) & 1 ? data[i] : NULL;
}
