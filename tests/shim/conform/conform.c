/* conform.c — the socket conformance program: main, its options, the
 * scenario table and the loop that runs it in step with the other role.
 *
 *   conform server --addr IP --peer IP --ctl PATH [--port BASE] [--only NAME[,NAME...]]
 *   conform client --addr IP --peer IP --ctl PATH [--port BASE] [--only NAME[,NAME...]]
 *   conform list
 *
 * The server is the side whose socket calls are under test (later run
 * under dptcp-run); the client is always on the kernel and drives it. Both
 * print a transcript that must be the same on every stack; run.sh diffs it
 * against expected.txt. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "conform.h"

static const struct scenario scenarios[] = {
#define SCENARIO(name) { #name, s_##name, c_##name },
#include "scenarios.h"
#undef SCENARIO
};
#define N_SCENARIOS (int)(sizeof(scenarios) / sizeof(scenarios[0]))

volatile sig_atomic_t conform_sigpipes;
static const char *volatile running = "start";
static const char *role_name = "?";

static void
on_sigpipe(int sig)
{
	(void)sig;
	conform_sigpipes++;
}

/* A call that never returns fails the run here, with the scenario named. */
static void
on_alarm(int sig)
{
	const char *parts[] = { running, ": TIMEOUT (no progress for ",
				"" , "s) in the ", role_name, " role\n" };
	char num[8];
	size_t i;

	(void)sig;
	snprintf(num, sizeof(num), "%d", SCENARIO_TIMEOUT_S);
	parts[2] = num;
	for (i = 0; i < sizeof(parts) / sizeof(parts[0]); i++) {
		ssize_t w = write(STDOUT_FILENO, parts[i], strlen(parts[i]));
		(void)w;
	}
	_exit(3);
}

static void
usage(void)
{
	fprintf(stderr,
		"usage: conform server|client --addr IP --peer IP --ctl PATH "
		"[--port BASE] [--only NAME]\n"
		"       conform list\n");
	exit(2);
}

static struct in_addr
parse_ip(const char *s)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "conform: not an IPv4 address: %s\n", s);
		exit(2);
	}
	return a;
}

static void
install_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigpipe;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
}

/* A scenario runs between two sync points, so both roles start it with
 * the other's previous scenario finished. */
static void
run_scenario(struct conform *cf, int i)
{
	const struct scenario *sc = &scenarios[i];

	cf->scenario = sc->name;
	cf->index = i;
	running = sc->name;
	alarm(SCENARIO_TIMEOUT_S);
	sync_point(cf, "begin");
	if (cf->role == ROLE_SERVER)
		sc->server(cf);
	else
		sc->client(cf);
	sync_point(cf, "end");
	alarm(0);
}

/* name is one of the comma-separated names of list. */
static bool
in_list(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (*list != '\0') {
		const char *end = strchr(list, ',');
		size_t len = end != NULL ? (size_t)(end - list) : strlen(list);

		if (len == n && strncmp(list, name, n) == 0)
			return true;
		if (end == NULL)
			break;
		list = end + 1;
	}
	return false;
}

int
main(int argc, char **argv)
{
	struct conform cf = { .base = 20000, .scenario = "start" };
	const char *ctl = NULL, *only = NULL;
	bool have_addr = false, have_peer = false;
	struct in_addr addr = { 0 }, peer = { 0 };
	int i, ran = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && strcmp(argv[1], "exec-helper") == 0)
		return exec_helper(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "list") == 0) {
		for (i = 0; i < N_SCENARIOS; i++)
			printf("%s\n", scenarios[i].name);
		return 0;
	}
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "server") == 0)
		cf.role = ROLE_SERVER;
	else if (strcmp(argv[1], "client") == 0)
		cf.role = ROLE_CLIENT;
	else
		usage();
	role_name = argv[1];
	for (i = 2; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--addr") == 0) {
			addr = parse_ip(argv[i + 1]);
			have_addr = true;
		} else if (strcmp(argv[i], "--peer") == 0) {
			peer = parse_ip(argv[i + 1]);
			have_peer = true;
		} else if (strcmp(argv[i], "--ctl") == 0) {
			ctl = argv[i + 1];
		} else if (strcmp(argv[i], "--port") == 0) {
			long p = strtol(argv[i + 1], NULL, 10);

			/* Below the kernel's ephemeral range: see conform.h. */
			if (p < 1024 ||
			    p + N_SCENARIOS * PORTS_PER_SCENARIO > 32768) {
				fprintf(stderr, "conform: --port %s: want 1024.."
					"%d\n", argv[i + 1],
					32768 - N_SCENARIOS * PORTS_PER_SCENARIO);
				exit(2);
			}
			cf.base = (uint16_t)p;
		} else if (strcmp(argv[i], "--only") == 0) {
			only = argv[i + 1];
		} else {
			usage();
		}
	}
	if (i != argc || !have_addr || !have_peer || ctl == NULL)
		usage();
	cf.server = cf.role == ROLE_SERVER ? addr : peer;
	cf.client = cf.role == ROLE_SERVER ? peer : addr;
	cf.self = "/proc/self/exe";
	install_handlers();

	cf.ctl = cf.role == ROLE_SERVER ? ctl_server(ctl) : ctl_client(ctl);
	sync_point(&cf, "hello");
	for (i = 0; i < N_SCENARIOS; i++) {
		if (only != NULL && !in_list(only, scenarios[i].name))
			continue;
		run_scenario(&cf, i);
		ran++;
	}
	cf.scenario = "end";
	if (ran == 0)
		die(&cf, "no scenario named '%s' (conform list)", only);
	sync_point(&cf, "bye");
	say(&cf, "%d scenarios run", ran);
	return 0;
}
