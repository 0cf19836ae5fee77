/* test_tcp.c — runs one unit test per process: `test_tcp NAME`,
 * `test_tcp --list`, or `test_tcp --check-list NAME...` (the list meson
 * registered must equal ours). Exit 0 pass, 1 fail, 77 skip. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "tests.h"

void check_install_crash_handler(void);

static const struct {
	const char *name;
	void (*fn)(void);
} tests[] = {
#define UNIT_TEST_ENT(n) {#n, n},
	UNIT_TESTS(UNIT_TEST_ENT)
#undef UNIT_TEST_ENT
};

#define NTESTS (sizeof(tests) / sizeof(tests[0]))

static int check_list(int argc, char **argv)
{
	int bad = 0;
	for (size_t i = 0; i < NTESTS; i++) {
		int found = 0;
		for (int a = 0; a < argc; a++)
			found += strcmp(argv[a], tests[i].name) == 0;
		if (found != 1) {
			printf("FAIL unit_list_complete: %s is %s in tests/unit/meson.build\n",
			       tests[i].name, found ? "listed twice" : "missing");
			bad = 1;
		}
	}
	for (int a = 0; a < argc; a++) {
		int found = 0;
		for (size_t i = 0; i < NTESTS; i++)
			found += strcmp(argv[a], tests[i].name) == 0;
		if (!found) {
			printf("FAIL unit_list_complete: meson.build lists %s, test_tcp has no such test\n",
			       argv[a]);
			bad = 1;
		}
	}
	if (!bad)
		printf("PASS unit_list_complete: %zu tests\n", NTESTS);
	return bad;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s TEST | --list | --check-list NAME...\n", argv[0]);
		return 2;
	}
	if (strcmp(argv[1], "--list") == 0) {
		for (size_t i = 0; i < NTESTS; i++)
			printf("%s\n", tests[i].name);
		return 0;
	}
	if (strcmp(argv[1], "--check-list") == 0)
		return check_list(argc - 2, argv + 2);
	for (size_t i = 0; i < NTESTS; i++) {
		if (strcmp(argv[1], tests[i].name) != 0)
			continue;
		g_test_name = tests[i].name;
		check_install_crash_handler();
		int r = sim_eal_init(argv[0]);
		if (r != 0) {
			printf("FAIL %s: rte_eal_init: %s\n", g_test_name, strerror(-r));
			return 1;
		}
		tests[i].fn();
		printf("PASS %s\n", g_test_name);
		fflush(stdout);
		return 0;
	}
	fprintf(stderr, "no such test: %s (try --list)\n", argv[1]);
	return 2;
}
