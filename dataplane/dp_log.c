/* dp_log.c — registers the "dptcp" log type before main() runs, so that
 * the EAL's --log-level=dptcp:LEVEL applies to it. */
#include <rte_common.h>
#include <rte_log.h>

#include "dp_log.h"

int dp_logtype = RTE_LOGTYPE_USER1;

RTE_INIT(dp_log_register)
{
	int t = rte_log_register_type_and_pick_level("dptcp", RTE_LOG_INFO);

	if (t >= 0)
		dp_logtype = t;
}
