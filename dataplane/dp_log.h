/* dp_log.h — the "dptcp" rte_log type shared by the dataplane and the apps.
 * Select its level with the EAL option --log-level=dptcp:debug. */
#ifndef DP_LOG_H
#define DP_LOG_H

#include <rte_log.h>

extern int dp_logtype;

/* DP_LOG(INFO, "listening on port %u", port): one line, newline added. */
#define DP_LOG(level, fmt, ...)                                         \
	rte_log(RTE_LOG_##level, dp_logtype, "dptcp: " fmt "\n",        \
		##__VA_ARGS__)

#endif
