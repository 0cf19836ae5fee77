/* dp_config.c — reads the INI configuration with rte_cfgfile and checks
 * every key. rte_cfgfile keeps no line numbers, so the file text is also
 * scanned here: syntax errors and the line of each key come from that scan. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cfgfile.h>
#include <rte_common.h>

#include "dp_config.h"

#define DP_CFG_COMMENT ';'
/* rte_cfgfile reads lines with fgets() into a buffer of this size. */
#define DP_CFG_LINE_MAX (CFG_NAME_LEN + CFG_VALUE_LEN + 4 - 2)

enum dp_key_type {
	DP_KEY_U16,
	DP_KEY_U32,
	DP_KEY_IP_PREFIX,  /* A.B.C.D/N into net.ip and net.prefix_len */
	DP_KEY_IPV4,       /* A.B.C.D */
	DP_KEY_CHOICE,     /* one of choices[]: stored as its index (u32) */
	DP_KEY_PATH,       /* an absolute path of at most max - 1 characters */
	DP_KEY_MODE,       /* permission bits in octal, 0..0777 */
	DP_KEY_POW2,       /* a power of two in min..max */
};

struct dp_key {
	const char *section;
	const char *name;
	enum dp_key_type type;
	size_t offset;          /* into struct dp_config */
	uint32_t min, max;
	const char *const *choices;  /* DP_KEY_CHOICE: NULL-terminated */
};

#define DP_KEY(sec, field, type, lo, hi) \
	{ #sec, #field, type, offsetof(struct dp_config, sec.field), lo, hi, NULL }
/* A word from a list, e.g. DP_KEY_WORDS(tcp, cc, dp_cc_names). */
#define DP_KEY_WORDS(sec, field, names) \
	{ #sec, #field, DP_KEY_CHOICE, offsetof(struct dp_config, sec.field), \
	  0, 0, names }

/* [tcp] cc: indexed by enum tcp_cc_algo (tcp_engine.h). */
static const char *const dp_cc_names[] = { "cubic", "newreno", NULL };

/* Every key the file may hold, with its accepted range. */
static const struct dp_key dp_keys[] = {
	DP_KEY(dataplane, workers, DP_KEY_U32, 0, 128),
	DP_KEY(dataplane, rss, DP_KEY_U32, 0, 1),
	DP_KEY(port, mtu, DP_KEY_U16, 576, 9000),
	DP_KEY(port, rx_desc, DP_KEY_U16, 64, 32768),
	DP_KEY(port, tx_desc, DP_KEY_U16, 64, 32768),
	DP_KEY(port, mbufs, DP_KEY_U32, 1023, 16777215),
	DP_KEY(net, ip, DP_KEY_IP_PREFIX, 0, 0),
	DP_KEY(net, gateway, DP_KEY_IPV4, 0, 0),
	DP_KEY(tcp, msl_ms, DP_KEY_U32, 1, 3600000),
	DP_KEY(tcp, snd_buf_bytes, DP_KEY_U32, 1024, 1U << 30),
	DP_KEY(tcp, rcv_buf_bytes, DP_KEY_U32, 1024, 64U << 20),
	DP_KEY(tcp, backlog, DP_KEY_U32, 1, 65535),
	DP_KEY(tcp, syn_backlog, DP_KEY_U32, 1, 1U << 20),
	DP_KEY(tcp, max_conns, DP_KEY_U32, 1, 1U << 24),
	DP_KEY(tcp, rto_min_ms, DP_KEY_U32, 1, 60000),
	DP_KEY(tcp, rto_max_ms, DP_KEY_U32, 1, 600000),
	DP_KEY(tcp, rto_init_ms, DP_KEY_U32, 1, 600000),
	DP_KEY(tcp, syn_retries, DP_KEY_U32, 0, 255),
	DP_KEY(tcp, synack_retries, DP_KEY_U32, 0, 255),
	DP_KEY(tcp, data_retries, DP_KEY_U32, 1, 255),
	DP_KEY(tcp, fin_wait2_ms, DP_KEY_U32, 0, 3600000),
	DP_KEY(tcp, delack_ms, DP_KEY_U32, 0, 500),
	DP_KEY(tcp, nodelay, DP_KEY_U32, 0, 1),
	DP_KEY(tcp, keepalive_idle_s, DP_KEY_U32, 1, 32767),
	DP_KEY(tcp, keepalive_intvl_s, DP_KEY_U32, 1, 32767),
	DP_KEY(tcp, keepalive_cnt, DP_KEY_U32, 1, 127),
	DP_KEY(tcp, tick_us, DP_KEY_U32, 10, 100000),
	DP_KEY(tcp, syncookies, DP_KEY_U32, 0, 2),
	DP_KEY(tcp, max_time_wait, DP_KEY_U32, 0, 1U << 24),
	DP_KEY(tcp, ephemeral_port_lo, DP_KEY_U32, 1024, 65535),
	DP_KEY(tcp, ephemeral_port_hi, DP_KEY_U32, 1024, 65535),
	DP_KEY_WORDS(tcp, cc, dp_cc_names),
	DP_KEY(tcp, tlp, DP_KEY_U32, 0, 1),
	DP_KEY(tcp, window_scaling, DP_KEY_U32, 0, 1),
	DP_KEY(tcp, timestamps, DP_KEY_U32, 0, 1),
	DP_KEY(tcp, sack, DP_KEY_U32, 0, 1),
	DP_KEY(shim, socket_path, DP_KEY_PATH, 0, DP_SHIM_PATH_MAX),
	DP_KEY(shim, socket_mode, DP_KEY_MODE, 0, 0777),
	DP_KEY(shim, region_mb, DP_KEY_U32, 0, 65536),
	DP_KEY(shim, rx_ring_bytes, DP_KEY_POW2, 4096, 1U << 26),
	DP_KEY(shim, tx_ring_bytes, DP_KEY_POW2, 4096, 1U << 26),
	DP_KEY(shim, max_sockets, DP_KEY_U32, 8, 1U << 20),
	DP_KEY(shim, spin_us, DP_KEY_U32, 0, 1000000),
};

static const char *const dp_sections[] = { "dataplane", "port", "net", "tcp",
					   "shim" };

/* What the text scan learnt: where each section and key is. */
struct dp_ini_line {
	char section[CFG_NAME_LEN];
	char key[CFG_NAME_LEN];    /* "" for the section heading */
	unsigned int line;
};

struct dp_ini_index {
	const char *path;
	struct dp_ini_line *lines;
	unsigned int n, cap;
};

static void
dp_config_error(const char *path, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
dp_config_error(const char *path, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	if (line > 0)
		fprintf(stderr, "dptcp: config %s:%u: ", path, line);
	else
		fprintf(stderr, "dptcp: config %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void
dp_config_defaults(struct dp_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dataplane.workers = 0;
	cfg->dataplane.rss = 1;
	cfg->port.mtu = 1500;
	cfg->port.rx_desc = 1024;
	cfg->port.tx_desc = 1024;
	cfg->port.mbufs = 32767;
	tcp_config_defaults(&cfg->tcp);
	snprintf(cfg->shim.socket_path, sizeof(cfg->shim.socket_path), "%s",
		 "/run/dptcp/dptcpd.sock");
	cfg->shim.socket_mode = 0660;
	cfg->shim.region_mb = 0;
	cfg->shim.rx_ring_bytes = 262144;
	cfg->shim.tx_ring_bytes = 262144;
	cfg->shim.max_sockets = 1024;
	cfg->shim.spin_us = 50;
}

char *
dp_ip_str(uint32_t ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff,
		 (ip >> 8) & 0xff, ip & 0xff);
	return buf;
}

int
dp_parse_ipv4(const char *s, uint32_t *ip)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*ip = ntohl(a.s_addr);
	return 0;
}

/* A host address we may own: not 0/8, loopback, multicast, class E or the
 * subnet's network/broadcast address. */
static const char *
dp_host_addr_problem(uint32_t ip, uint8_t prefix_len)
{
	uint32_t mask = dp_prefix_mask(prefix_len);

	if ((ip >> 24) == 0 || (ip >> 24) == 127)
		return "not a usable host address (0/8 or 127/8)";
	if (ip >= 0xe0000000)
		return "not a unicast address";
	if (prefix_len <= 30 && ((ip & ~mask) == 0 || (ip & ~mask) == ~mask))
		return "the network or broadcast address of its prefix";
	return NULL;
}

int
dp_parse_ip_prefix(const char *s, uint32_t *ip, uint8_t *prefix_len,
		   const char **why)
{
	char buf[32];
	const char *slash = strchr(s, '/');
	char *end;
	unsigned long n;
	size_t len;

	*why = "not of the form A.B.C.D/N";
	if (slash == NULL)
		return -EINVAL;
	len = (size_t)(slash - s);
	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (dp_parse_ipv4(buf, ip) < 0)
		return -EINVAL;
	errno = 0;
	n = strtoul(slash + 1, &end, 10);
	if (slash[1] < '0' || slash[1] > '9' || *end != '\0' || errno != 0 ||
	    n < 1 || n > 32)
		return -EINVAL;
	*prefix_len = (uint8_t)n;
	*why = dp_host_addr_problem(*ip, *prefix_len);
	return *why == NULL ? 0 : -EINVAL;
}

/* --- the text scan ----------------------------------------------------- */

static char *
dp_trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' ||
			 e[-1] == '\n'))
		*--e = '\0';
	return s;
}

static int
dp_index_add(struct dp_ini_index *idx, const char *section, const char *key,
	     unsigned int line)
{
	struct dp_ini_line *l;
	unsigned int i;

	for (i = 0; i < idx->n; i++) {
		l = &idx->lines[i];
		if (strcmp(l->section, section) == 0 &&
		    strcmp(l->key, key) == 0) {
			if (key[0] == '\0')
				dp_config_error(idx->path, line,
					"section [%s] appears twice (first at line %u)",
					section, l->line);
			else
				dp_config_error(idx->path, line,
					"[%s] %s: key appears twice (first at line %u)",
					section, key, l->line);
			return -EINVAL;
		}
	}
	if (idx->n == idx->cap) {
		unsigned int cap = idx->cap ? idx->cap * 2 : 32;
		void *p = realloc(idx->lines, cap * sizeof(*l));

		if (p == NULL)
			return -ENOMEM;
		idx->lines = p;
		idx->cap = cap;
	}
	l = &idx->lines[idx->n++];
	snprintf(l->section, sizeof(l->section), "%s", section);
	snprintf(l->key, sizeof(l->key), "%s", key);
	l->line = line;
	return 0;
}

static unsigned int
dp_index_line(const struct dp_ini_index *idx, const char *section,
	      const char *key)
{
	unsigned int i;

	for (i = 0; i < idx->n; i++)
		if (strcmp(idx->lines[i].section, section) == 0 &&
		    strcmp(idx->lines[i].key, key) == 0)
			return idx->lines[i].line;
	return 0;
}

/* One line of the file: a section heading, key = value, or nothing. */
static int
dp_scan_line(struct dp_ini_index *idx, char *raw, unsigned int line,
	     char *section)
{
	char *s, *eq, *key, *val, *c;

	if (strlen(raw) > DP_CFG_LINE_MAX) {
		dp_config_error(idx->path, line,
			"line longer than %d characters", DP_CFG_LINE_MAX);
		return -EINVAL;
	}
	c = strchr(raw, DP_CFG_COMMENT);
	if (c != NULL)
		*c = '\0';
	s = dp_trim(raw);
	if (*s == '\0')
		return 0;
	if (*s == '#') {
		dp_config_error(idx->path, line,
			"comments start with '%c', not '#'", DP_CFG_COMMENT);
		return -EINVAL;
	}
	if (*s == '[') {
		c = strchr(s, ']');
		if (c == NULL || c[1] != '\0') {
			dp_config_error(idx->path, line,
				"expected a section heading '[name]'");
			return -EINVAL;
		}
		*c = '\0';
		s = dp_trim(s + 1);
		if (*s == '\0' || strlen(s) >= CFG_NAME_LEN) {
			dp_config_error(idx->path, line,
				"expected a section name of 1..%d characters",
				CFG_NAME_LEN - 1);
			return -EINVAL;
		}
		snprintf(section, CFG_NAME_LEN, "%s", s);
		return dp_index_add(idx, section, "", line);
	}
	eq = strchr(s, '=');
	if (eq == NULL) {
		dp_config_error(idx->path, line,
			"expected 'key = value' or '[section]'");
		return -EINVAL;
	}
	*eq = '\0';
	key = dp_trim(s);
	val = dp_trim(eq + 1);
	if (*key == '\0' || strlen(key) >= CFG_NAME_LEN) {
		dp_config_error(idx->path, line,
			"expected a key name of 1..%d characters before '='",
			CFG_NAME_LEN - 1);
		return -EINVAL;
	}
	if (section[0] == '\0') {
		dp_config_error(idx->path, line,
			"%s: key before any [section]", key);
		return -EINVAL;
	}
	if (*val == '\0' || strlen(val) >= CFG_VALUE_LEN) {
		dp_config_error(idx->path, line,
			"[%s] %s: expected a value after '='", section, key);
		return -EINVAL;
	}
	return dp_index_add(idx, section, key, line);
}

static int
dp_scan_file(struct dp_ini_index *idx)
{
	char section[CFG_NAME_LEN] = "";
	char *raw = NULL;
	size_t cap = 0;
	unsigned int line = 0;
	int ret = 0;
	FILE *f;

	f = fopen(idx->path, "r");
	if (f == NULL) {
		dp_config_error(idx->path, 0, "cannot read: %s",
				strerror(errno));
		return -errno;
	}
	while (ret == 0 && getline(&raw, &cap, f) >= 0)
		ret = dp_scan_line(idx, raw, ++line, section);
	if (ret == 0 && ferror(f)) {
		dp_config_error(idx->path, line + 1, "read error");
		ret = -EIO;
	}
	free(raw);
	fclose(f);
	return ret;
}

/* --- the values -------------------------------------------------------- */

static const struct dp_key *
dp_key_find(const char *section, const char *name)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(dp_keys); i++)
		if (strcmp(dp_keys[i].section, section) == 0 &&
		    strcmp(dp_keys[i].name, name) == 0)
			return &dp_keys[i];
	return NULL;
}

static bool
dp_section_known(const char *section)
{
	unsigned int i;

	for (i = 0; i < RTE_DIM(dp_sections); i++)
		if (strcmp(dp_sections[i], section) == 0)
			return true;
	return false;
}

static int
dp_parse_uint(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0' || errno != 0 || v < min || v > max)
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* "a, b or c" for error messages. */
static void
dp_choices_str(const char *const *c, char *buf, size_t len)
{
	size_t used = 0;
	unsigned int i;

	buf[0] = '\0';
	for (i = 0; c[i] != NULL && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
			i == 0 ? "" : c[i + 1] == NULL ? " or " : ", ", c[i]);
}

static int
dp_key_apply(const struct dp_key *k, const char *val, struct dp_config *cfg,
	     const char *path, unsigned int line)
{
	char *field = (char *)cfg + k->offset;
	const char *why;
	uint32_t v;

	switch (k->type) {
	case DP_KEY_U16:
	case DP_KEY_U32:
		if (dp_parse_uint(val, k->min, k->max, &v) < 0) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected an integer in %u..%u",
				k->section, k->name, val, k->min, k->max);
			return -EINVAL;
		}
		if (k->type == DP_KEY_U16)
			*(uint16_t *)field = (uint16_t)v;
		else
			*(uint32_t *)field = v;
		return 0;
	case DP_KEY_IP_PREFIX:
		if (dp_parse_ip_prefix(val, &cfg->net.ip, &cfg->net.prefix_len,
				       &why) < 0) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected a unicast host address A.B.C.D/N, N in 1..32 (%s)",
				k->section, k->name, val, why);
			return -EINVAL;
		}
		return 0;
	case DP_KEY_IPV4:
		if (dp_parse_ipv4(val, (uint32_t *)field) < 0) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected an address A.B.C.D",
				k->section, k->name, val);
			return -EINVAL;
		}
		return 0;
	case DP_KEY_PATH:
		if (val[0] != '/' || strlen(val) >= k->max) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected an absolute path of at most %u characters",
				k->section, k->name, val, k->max - 1);
			return -EINVAL;
		}
		snprintf(field, k->max, "%s", val);
		return 0;
	case DP_KEY_MODE: {
		char *end;
		unsigned long m;

		errno = 0;
		m = strtoul(val, &end, 8);
		if (*val < '0' || *val > '7' || *end != '\0' || errno != 0 ||
		    m > k->max) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected permission bits in octal, 0..0777",
				k->section, k->name, val);
			return -EINVAL;
		}
		*(uint32_t *)field = (uint32_t)m;
		return 0;
	}
	case DP_KEY_POW2:
		if (dp_parse_uint(val, k->min, k->max, &v) < 0 ||
		    (v & (v - 1)) != 0) {
			dp_config_error(path, line,
				"[%s] %s = '%s': expected a power of two in %u..%u",
				k->section, k->name, val, k->min, k->max);
			return -EINVAL;
		}
		*(uint32_t *)field = v;
		return 0;
	case DP_KEY_CHOICE:
		for (v = 0; k->choices[v] != NULL; v++) {
			if (strcmp(val, k->choices[v]) == 0) {
				*(uint32_t *)field = v;
				return 0;
			}
		}
		{
			char list[128];

			dp_choices_str(k->choices, list, sizeof(list));
			dp_config_error(path, line,
				"[%s] %s = '%s': expected %s",
				k->section, k->name, val, list);
		}
		return -EINVAL;
	}
	return -EINVAL;
}

static int
dp_apply_section(struct rte_cfgfile *file, const char *section,
		 const struct dp_ini_index *idx, struct dp_config *cfg)
{
	struct rte_cfgfile_entry *entries;
	const struct dp_key *k;
	int n, i, ret = 0;

	if (!dp_section_known(section)) {
		dp_config_error(idx->path, dp_index_line(idx, section, ""),
			"unknown section [%s]: expected [dataplane], [port], [net], [tcp] or [shim]",
			section);
		return -EINVAL;
	}
	n = rte_cfgfile_section_num_entries(file, section);
	if (n <= 0)
		return 0;
	entries = calloc((size_t)n, sizeof(*entries));
	if (entries == NULL)
		return -ENOMEM;
	n = rte_cfgfile_section_entries(file, section, entries, n);
	for (i = 0; i < n && ret == 0; i++) {
		unsigned int line = dp_index_line(idx, section,
						  entries[i].name);

		k = dp_key_find(section, entries[i].name);
		if (k == NULL) {
			dp_config_error(idx->path, line,
				"[%s] %s: unknown key (see config/dptcp.ini)",
				section, entries[i].name);
			ret = -EINVAL;
		} else {
			ret = dp_key_apply(k, entries[i].value, cfg,
					   idx->path, line);
		}
	}
	free(entries);
	return ret;
}

/* Rules between keys; the error points at the later key's line. */
static int
dp_config_check(const struct dp_config *cfg, const struct dp_ini_index *idx)
{
	const struct tcp_config *t = &cfg->tcp;
	const struct dp_net_config *n = &cfg->net;
	char a[16], b[16];

	if (t->rto_max_ms < t->rto_min_ms) {
		dp_config_error(idx->path,
			dp_index_line(idx, "tcp", "rto_max_ms"),
			"[tcp] rto_max_ms = %u: expected >= rto_min_ms (%u)",
			t->rto_max_ms, t->rto_min_ms);
		return -EINVAL;
	}
	if (t->rto_init_ms < t->rto_min_ms || t->rto_init_ms > t->rto_max_ms) {
		dp_config_error(idx->path,
			dp_index_line(idx, "tcp", "rto_init_ms"),
			"[tcp] rto_init_ms = %u: expected within rto_min_ms..rto_max_ms (%u..%u)",
			t->rto_init_ms, t->rto_min_ms, t->rto_max_ms);
		return -EINVAL;
	}
	/* Without [net] ip, --ip comes later: dp_init() checks it then. */
	if (n->gateway != 0 && n->ip != 0) {
		uint32_t mask = dp_prefix_mask(n->prefix_len);

		if ((n->gateway & mask) != (n->ip & mask) ||
		    n->gateway == n->ip) {
			dp_config_error(idx->path,
				dp_index_line(idx, "net", "gateway"),
				"[net] gateway = %s: expected an address on the prefix of ip (%s/%u), not ip itself",
				dp_ip_str(n->gateway, a, sizeof(a)),
				dp_ip_str(n->ip, b, sizeof(b)), n->prefix_len);
			return -EINVAL;
		}
	}
	return 0;
}

int
dp_config_load(const char *path, struct dp_config *cfg)
{
	struct dp_ini_index idx = { .path = path };
	struct rte_cfgfile *file = NULL;
	char **names = NULL;
	char *buf = NULL;
	int n, i, ret;

	ret = dp_scan_file(&idx);
	if (ret < 0)
		goto out;
	file = rte_cfgfile_load(path, 0);
	if (file == NULL) {
		dp_config_error(path, 0, "rte_cfgfile_load failed");
		ret = -EINVAL;
		goto out;
	}
	n = rte_cfgfile_num_sections(file, NULL, 0);
	names = calloc((size_t)n + 1, sizeof(*names));
	buf = calloc((size_t)n + 1, CFG_NAME_LEN);
	if (names == NULL || buf == NULL) {
		ret = -ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		names[i] = buf + (size_t)i * CFG_NAME_LEN;
	n = rte_cfgfile_sections(file, names, n);
	for (i = 0; i < n && ret == 0; i++)
		ret = dp_apply_section(file, names[i], &idx, cfg);
	if (ret == 0)
		ret = dp_config_check(cfg, &idx);
out:
	free(buf);
	free(names);
	if (file != NULL)
		rte_cfgfile_close(file);
	free(idx.lines);
	return ret;
}

void
dp_config_print(FILE *f, const struct dp_config *cfg)
{
	const char *sec = "";
	char ip[16];
	unsigned int i;

	for (i = 0; i < RTE_DIM(dp_keys); i++) {
		const struct dp_key *k = &dp_keys[i];
		const char *field = (const char *)cfg + k->offset;

		if (strcmp(sec, k->section) != 0) {
			fprintf(f, "%s[%s]\n", i ? "\n" : "", k->section);
			sec = k->section;
		}
		switch (k->type) {
		case DP_KEY_U16:
			fprintf(f, "%s = %u\n", k->name,
				*(const uint16_t *)field);
			break;
		case DP_KEY_U32:
		case DP_KEY_POW2:
			fprintf(f, "%s = %u\n", k->name,
				*(const uint32_t *)field);
			break;
		case DP_KEY_PATH:
			fprintf(f, "%s = %s\n", k->name, field);
			break;
		case DP_KEY_MODE:
			fprintf(f, "%s = 0%03o\n", k->name,
				*(const uint32_t *)field);
			break;
		case DP_KEY_IP_PREFIX:
			if (cfg->net.ip != 0)
				fprintf(f, "%s = %s/%u\n", k->name,
					dp_ip_str(cfg->net.ip, ip, sizeof(ip)),
					cfg->net.prefix_len);
			else
				fprintf(f, "; %s = (not set)\n", k->name);
			break;
		case DP_KEY_CHOICE:
			fprintf(f, "%s = %s\n", k->name,
				k->choices[*(const uint32_t *)field]);
			break;
		case DP_KEY_IPV4:
			if (*(const uint32_t *)field != 0)
				fprintf(f, "%s = %s\n", k->name,
					dp_ip_str(*(const uint32_t *)field, ip,
						  sizeof(ip)));
			else
				fprintf(f, "; %s = (none)\n", k->name);
			break;
		}
	}
}
