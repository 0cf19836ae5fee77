/* ctl.c — the control channel between the two roles: a Unix stream socket
 * (a path in the harness's temp dir) carrying one text line per message.
 * It is out of band on purpose: it never goes through the stack under
 * test, so a scenario that breaks under dptcp-run cannot desynchronise the
 * script, and the ordering of the transcript comes from here, never from
 * sleeps. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "conform.h"

#define CTL_LINE 256
/* A peer silent this long has failed (hang protection, not a timing). */
#define CTL_WAIT_MS (SCENARIO_TIMEOUT_S * 1000)

static void
ctl_send(struct conform *cf, const char *line)
{
	char buf[CTL_LINE];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	if (n >= (int)sizeof(buf) || write_full(cf->ctl, buf, (size_t)n) != n)
		die(cf, "control channel: send '%s' failed: %s", line,
		    err_name(errno));
}

/* One line, without its newline. Byte by byte: lines are few and short,
 * and nothing may be read past the line (the peer's next message). */
static void
ctl_recv(struct conform *cf, char *line, size_t size)
{
	size_t len = 0;

	for (;;) {
		struct pollfd p = { .fd = cf->ctl, .events = POLLIN };
		int r = poll(&p, 1, CTL_WAIT_MS);
		char c;
		ssize_t n;

		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0)
			die(cf, "control channel: the other side said nothing for %d s",
			    CTL_WAIT_MS / 1000);
		n = read(cf->ctl, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die(cf, "control channel closed by the other side (%s)",
			    n < 0 ? err_name(errno) : "EOF");
		if (c == '\n')
			break;
		if (len + 1 < size)
			line[len++] = c;
	}
	line[len] = '\0';
}

void
sync_point(struct conform *cf, const char *label)
{
	char mine[CTL_LINE], theirs[CTL_LINE];

	snprintf(mine, sizeof(mine), "sync %s %s", cf->scenario, label);
	ctl_send(cf, mine);
	ctl_recv(cf, theirs, sizeof(theirs));
	if (strcmp(mine, theirs) != 0)
		die(cf, "control channel out of step: here '%s', other side '%s'",
		    mine, theirs);
}

void
ctl_put(struct conform *cf, const char *key, long value)
{
	char line[CTL_LINE];

	snprintf(line, sizeof(line), "put %s %s %ld", cf->scenario, key, value);
	ctl_send(cf, line);
}

long
ctl_get(struct conform *cf, const char *key)
{
	char line[CTL_LINE], want[CTL_LINE];
	size_t n;

	snprintf(want, sizeof(want), "put %s %s ", cf->scenario, key);
	ctl_recv(cf, line, sizeof(line));
	n = strlen(want);
	if (strncmp(line, want, n) != 0)
		die(cf, "control channel out of step: expected '%s...', got '%s'",
		    want, line);
	return strtol(line + n, NULL, 10);
}

static struct sockaddr_un
un_addr(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "conform: control path too long: %s\n", path);
		exit(2);
	}
	strcpy(a.sun_path, path);
	return a;
}

int
ctl_server(const char *path)
{
	struct sockaddr_un a = un_addr(path);
	int l, fd;

	l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    listen(l, 1) < 0) {
		fprintf(stderr, "conform server: control socket %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "conform server: accept on %s: %s\n", path,
			strerror(errno));
		exit(1);
	}
	close(l);
	unlink(path);
	return fd;
}

/* The server may not have created the socket yet: retry for a while. */
int
ctl_client(const char *path)
{
	struct sockaddr_un a = un_addr(path);
	int i, fd;

	for (i = 0; i < 200; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			break;
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		close(fd);
		usleep(50 * 1000);
	}
	fprintf(stderr, "conform client: cannot reach control socket %s: %s\n",
		path, strerror(errno));
	exit(1);
}
