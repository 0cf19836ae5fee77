/* tcp_table.c — the per-engine connection table: rte_hash keyed by the
 * 4-tuple, looked up in bulk for a whole burst. */
#include <errno.h>
#include <stdio.h>

#include <rte_errno.h>
#include <rte_hash_crc.h>

#include "tcp_internal.h"

int tcp_table_create(struct tcp_engine *eng, unsigned int id, int socket)
{
	char cname[RTE_HASH_NAMESIZE], lname[RTE_HASH_NAMESIZE];
	struct rte_hash_parameters hp = {
		.entries = eng->cfg.max_conns < 8 ? 8 : eng->cfg.max_conns,
		.key_len = sizeof(struct tcp_tuple),
		.hash_func = rte_hash_crc,
		.socket_id = socket,
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

struct tcp_conn *tcp_table_lookup(struct tcp_engine *eng,
				  const struct tcp_tuple *t)
{
	void *data;

	if (rte_hash_lookup_data(eng->conns, t, &data) < 0)
		return NULL;
	return data;
}

int tcp_table_add(struct tcp_engine *eng, struct tcp_conn *c)
{
	return rte_hash_add_key_data(eng->conns, &c->tuple, c);
}

void tcp_table_del(struct tcp_engine *eng, struct tcp_conn *c)
{
	rte_hash_del_key(eng->conns, &c->tuple);
}

void tcp_table_lookup_bulk(struct tcp_engine *eng,
			   const struct tcp_tuple *keys, uint32_t n,
			   struct tcp_conn **out)
{
	const void *kp[TCP_BURST_MAX];
	void *data[TCP_BURST_MAX];
	uint64_t hits = 0;
	uint32_t i;

	for (i = 0; i < n; i++)
		kp[i] = &keys[i];
	if (n == 0 || rte_hash_lookup_bulk_data(eng->conns, kp, n, &hits,
						data) < 0)
		hits = 0;
	for (i = 0; i < n; i++)
		out[i] = (hits >> i) & 1 ? data[i] : NULL;
}
