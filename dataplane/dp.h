/* dp.h — what an application calls to run dptcp on one port: common
 * command-line options, setup (config, port, engine, telemetry), the
 * poll loop with a per-iteration hook, and teardown.
 *
 *	ret = rte_eal_init(argc, argv);            (the app owns EAL init)
 *	dp_parse_app_args(argc - ret, argv + ret, &opts);
 *	dp_init(&opts);
 *	dpt_listen(dp_engine(), 0, opts.port, 0, on_event, NULL);
 *	dp_run(hook, arg);                         (until SIGINT/SIGTERM)
 *	dp_fini();                                 (engine, port, EAL) */
#ifndef DP_H
#define DP_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "dp_config.h"
#include "dp_log.h"
#include "dp_stats.h"
#include "tcp_engine.h"

struct dp_app_opts {
	const char *config_path;  /* --config FILE; NULL: built-in defaults */
	uint32_t ip;              /* --ip A.B.C.D/N (host order); 0: [net] ip */
	uint8_t prefix_len;
	uint32_t gateway;         /* --gateway A.B.C.D; 0: [net] gateway */
	uint16_t port;            /* --port P; 0: not given */
	bool print_config;        /* --print-config: print it and exit */
	const char *pcap_path;    /* --pcap FILE: capture RX+TX as pcapng */
};

/* Parses the options after the EAL's (argv[0] is the program name).
 * Returns 0 to go on, 1 when --help was printed (exit 0), or -EINVAL
 * after printing a usage error (exit 2). */
int dp_parse_app_args(int argc, char **argv, struct dp_app_opts *opts);
void dp_usage(FILE *f, const char *prog);

/* Loads the config (command line overrides it), sets up port 0 and the
 * engine, registers telemetry and the SIGINT/SIGTERM handlers. 0 or a
 * negative errno value (the reason has been printed). With print_config
 * it prints the effective config and returns 1 before touching the port. */
int dp_init(const struct dp_app_opts *opts);

/* One engine per worker lcore ([dataplane] workers), indexed 0..count-1;
 * tcp_engine_id(dp_engine_at(i)) == i. Set up engines (dpt_listen on each,
 * or dpt_connect) before dp_run() or from the hook, on the engine's own
 * lcore; never touch one engine from another engine's lcore. */
unsigned int dp_engine_count(void);
struct tcp_engine *dp_engine_at(unsigned int i);
struct tcp_engine *dp_engine(void);   /* dp_engine_at(0) */
uint32_t dp_local_ip(void);           /* host byte order */
const struct dp_stats *dp_stats(void);

/* Called once per poll-loop iteration of each engine, on that engine's
 * lcore, after input, before timers and output: the place for application
 * work that is not event-driven. */
typedef void (*dp_hook_fn)(struct tcp_engine *eng, uint64_t now_us,
			   void *arg);

/* The poll loops: one per engine, engine 0 on the calling (main) lcore,
 * the others on the next EAL lcores. Each: RX burst, parse, steering,
 * engine input, hook, engine poll (timers, output), ARP, telemetry, TX
 * flush. Returns 0 after dp_stop(), SIGINT or SIGTERM, once every loop
 * has stopped. */
int dp_run(dp_hook_fn hook, void *arg);
void dp_stop(void);                   /* async-signal-safe */

/* Destroys the engine, stops and closes the port, cleans up the EAL. */
void dp_fini(void);

#endif
