/* dp_config.h — the dataplane's configuration: the [dataplane], [port],
 * [net], [tcp] and [shim] sections of the INI file (config/dptcp.ini
 * documents every key). [shim] is read only by dptcpd. */
#ifndef DP_CONFIG_H
#define DP_CONFIG_H

#include <stdint.h>
#include <stdio.h>

#include "tcp_engine.h"

struct dp_dataplane_config {
	uint32_t workers;      /* engines, one per EAL lcore; 0 = every lcore */
	uint32_t rss;          /* 1: the port's RSS when it has it; 0: software */
};

struct dp_port_config {
	uint16_t mtu;          /* IP MTU of the port */
	uint16_t rx_desc;      /* RX ring size */
	uint16_t tx_desc;      /* TX ring size */
	uint32_t mbufs;        /* mbufs in the pool */
};

struct dp_net_config {
	uint32_t ip;           /* host byte order; 0 = not configured */
	uint8_t prefix_len;    /* on-link prefix, 1..32 */
	uint32_t gateway;      /* host byte order; 0 = none */
};

/* [shim]: dptcpd, the daemon that serves unmodified programs (apps/shim). */
#define DP_SHIM_PATH_MAX 108   /* sizeof(sockaddr_un.sun_path) */
struct dp_shim_config {
	char socket_path[DP_SHIM_PATH_MAX]; /* Unix socket programs attach to */
	uint32_t socket_mode;  /* its permission bits (who may use the stack) */
	uint32_t region_mb;    /* cap on a program's shared region; 0 = as needed */
	uint32_t rx_ring_bytes; /* per-connection byte rings, powers of two */
	uint32_t tx_ring_bytes;
	uint32_t max_sockets;  /* dptcp sockets per program */
	uint32_t spin_us;      /* a program spins this long before sleeping */
};

struct dp_config {
	struct dp_dataplane_config dataplane;
	struct dp_port_config port;
	struct dp_net_config net;
	struct tcp_config tcp;
	struct dp_shim_config shim;
};

/* Built-in defaults: the port's, and tcp_config_defaults() for [tcp]. */
void dp_config_defaults(struct dp_config *cfg);

/* Overlays the keys of the INI file at path on cfg. On error prints
 * "FILE:LINE: key: expected ..." and returns a negative errno value. */
int dp_config_load(const char *path, struct dp_config *cfg);

/* Writes the effective configuration in the file's own format. */
void dp_config_print(FILE *f, const struct dp_config *cfg);

/* "A.B.C.D/N" (1 <= N <= 32), a unicast host address. 0 or -EINVAL;
 * *why names what was wrong. */
int dp_parse_ip_prefix(const char *s, uint32_t *ip, uint8_t *prefix_len,
		       const char **why);
/* "A.B.C.D". 0 or -EINVAL. */
int dp_parse_ipv4(const char *s, uint32_t *ip);

/* Host-order helpers. */
static inline uint32_t
dp_prefix_mask(uint8_t prefix_len)
{
	return prefix_len == 0 ? 0 : UINT32_MAX << (32 - prefix_len);
}

/* Writes "A.B.C.D" into buf (at least 16 bytes); returns buf. */
char *dp_ip_str(uint32_t ip, char *buf, size_t len);

#endif
