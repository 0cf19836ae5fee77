/* preload_exec.c — execve() and its family in a program using dptcp
 * sockets: dptcp sockets without FD_CLOEXEC stay open and working in the
 * new program image, which stays the same member of its program group;
 * close-on-exec ones are closed as the kernel closes them. The protocol
 * is shm_proto.h "EXEC": the old image writes a hand-over (region, Unix
 * socket, doorbells, socket table) into a memfd that survives the exec and
 * names it in the environment (DPTCP_EXEC_FD); the new image's shim reads
 * it in its constructor (ps_exec_adopt). A failed exec leaves everything
 * as it was. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <alloca.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "preload_internal.h"

#define PS_EXEC_ENV "DPTCP_EXEC_FD"
#define PS_EXEC_MAGIC 0x65747064u     /* "dpte" */

extern char **environ;

struct ps_exec_hdr {
	uint32_t magic;
	uint32_t sock_bytes;      /* sizeof(struct ps_sock): the same shim */
	uint64_t region_bytes;
	uint32_t member, exec_gen;
	int32_t ctl_fd, memfd;
	uint32_t n_channels;
	int32_t doorbell[SHM_MAX_CHANNELS];
	uint32_t n_socks, n_fds;
	/* then n_socks struct ps_sock, then n_fds struct ps_exec_fd */
};

struct ps_exec_fd {
	int32_t fd;
	uint32_t sock;            /* index into the sockets */
};

/* What ps_exec_prepare changed, for ps_exec_undo after a failed exec. */
struct ps_exec_ctx {
	bool locked;
	int fd;                   /* the hand-over memfd, -1: none */
	char **env;               /* the environment with PS_EXEC_ENV */
};

static int
ps_cloexec(int fd, bool on)
{
	int fl = ps_real.fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	return ps_real.fcntl(fd, F_SETFD, on ? fl | FD_CLOEXEC :
			     fl & ~FD_CLOEXEC);
}

static void
ps_internal_cloexec(bool on)
{
	uint32_t c;

	ps_cloexec(ps_shm.ctl_fd, on);
	ps_cloexec(ps_shm.memfd, on);
	for (c = 0; c < ps_shm.n_channels; c++)
		ps_cloexec(ps_shm.doorbell[c], on);
}

/* envp without an old PS_EXEC_ENV, plus ours. */
static char **
ps_exec_env(char *const envp[], int fd)
{
	static const char pre[] = PS_EXEC_ENV "=";
	size_t n = 0, i, k = 0;
	char **env, *var;

	while (envp != NULL && envp[n] != NULL)
		n++;
	env = malloc((n + 2) * sizeof(*env) + sizeof(pre) + 16);
	if (env == NULL)
		return NULL;
	var = (char *)(env + n + 2);
	snprintf(var, sizeof(pre) + 16, "%s%d", pre, fd);
	for (i = 0; i < n; i++)
		if (strncmp(envp[i], pre, sizeof(pre) - 1) != 0)
			env[k++] = envp[i];
	env[k++] = var;
	env[k] = NULL;
	return env;
}

/* Write the hand-over when some dptcp socket survives the exec; NULL
 * (exec as usual) otherwise: then the kernel closes the shim's fds with
 * the close-on-exec sockets and dptcpd drops this member's references,
 * which closes them as Linux would. */
static char **
ps_exec_prepare(char *const envp[], struct ps_exec_ctx *x)
{
	struct ps_exec_hdr h;
	struct ps_sock **socks = NULL;
	struct ps_exec_fd *fds = NULL;
	uint32_t ns = 0, nf = 0, i, cap = 0;
	bool keep = false;
	int fd, saved = errno;

	x->locked = false;
	x->fd = -1;
	x->env = NULL;
	/* A vfork child (glibc's posix_spawn, Python's subprocess) shares
	 * the parent's memory and is no member: touch nothing, not even a
	 * lock (see shm_proto.h "EXEC"). */
	if (atomic_load(&ps_shm.state) != 1 || atomic_load(&ps_shm.dead) ||
	    getpid() != ps_shm.pid)
		return NULL;
	ps_core_lock();
	x->locked = true;
	for (fd = 0; fd < PS_FD_MAX; fd++) {
		struct ps_sock *ps = atomic_load_explicit(&ps_fds[fd],
							  memory_order_relaxed);
		int fl;

		if (ps == NULL)
			continue;
		fl = ps_real.fcntl(fd, F_GETFD);
		if (fl < 0)
			continue;
		if (!(fl & FD_CLOEXEC))
			keep = true;
		if (nf == cap || ns == cap) {
			void *a, *b;

			cap = cap ? cap * 2 : 64;
			a = realloc(fds, cap * sizeof(*fds));
			if (a != NULL)
				fds = a;
			b = realloc(socks, cap * sizeof(*socks));
			if (b != NULL)
				socks = b;
			if (a == NULL || b == NULL)
				goto fail;
		}
		for (i = 0; i < ns && socks[i] != ps; i++)
			;
		if (i == ns)
			socks[ns++] = ps;
		/* A close-on-exec fd is not handed over: the new image sees
		 * which sockets lost every fd and closes them. */
		if (!(fl & FD_CLOEXEC))
			fds[nf++] = (struct ps_exec_fd){ .fd = fd, .sock = i };
	}
	if (!keep)
		goto fail;
	memset(&h, 0, sizeof(h));
	h.magic = PS_EXEC_MAGIC;
	h.sock_bytes = sizeof(struct ps_sock);
	h.region_bytes = ps_shm.lay.region_bytes;
	h.member = ps_shm.member;
	h.exec_gen = ps_shm.exec_gen + 1;
	h.ctl_fd = ps_shm.ctl_fd;
	h.memfd = ps_shm.memfd;
	h.n_channels = ps_shm.n_channels;
	for (i = 0; i < ps_shm.n_channels; i++)
		h.doorbell[i] = ps_shm.doorbell[i];
	h.n_socks = ns;
	h.n_fds = nf;
	x->fd = memfd_create("dptcp-exec", 0);
	if (x->fd < 0)
		goto fail;
	if (ps_real.write(x->fd, &h, sizeof(h)) != (ssize_t)sizeof(h))
		goto fail;
	for (i = 0; i < ns; i++)
		if (ps_real.write(x->fd, socks[i], sizeof(struct ps_sock)) !=
		    (ssize_t)sizeof(struct ps_sock))
			goto fail;
	if (nf > 0 && ps_real.write(x->fd, fds, nf * sizeof(*fds)) !=
	    (ssize_t)(nf * sizeof(*fds)))
		goto fail;
	x->env = ps_exec_env(envp, x->fd);
	if (x->env == NULL)
		goto fail;
	ps_internal_cloexec(false);
	free(socks);
	free(fds);
	errno = saved;
	return x->env;
fail:
	free(socks);
	free(fds);
	if (x->fd >= 0)
		ps_real.close(x->fd);
	x->fd = -1;
	errno = saved;
	return NULL;
}

/* The exec failed: as it was (errno kept for the caller). */
static void
ps_exec_undo(struct ps_exec_ctx *x)
{
	int saved = errno;

	if (x->env != NULL) {
		ps_internal_cloexec(true);
		free(x->env);
	}
	if (x->fd >= 0)
		ps_real.close(x->fd);
	if (x->locked)
		ps_core_unlock();
	errno = saved;
}

/* --- the new image ------------------------------------------------------ */

static void
ps_exec_drop(const struct ps_exec_hdr *h)
{
	uint32_t c;

	/* dptcpd sees the member leave and drops its references. */
	ps_real.close(h->ctl_fd);
	ps_real.close(h->memfd);
	for (c = 0; c < h->n_channels && c < SHM_MAX_CHANNELS; c++)
		ps_real.close(h->doorbell[c]);
}

void
ps_exec_adopt(void)
{
	const char *v = getenv(PS_EXEC_ENV);
	struct ps_exec_hdr h;
	struct ps_exec_fd *fds = NULL;
	struct ps_sock **socks = NULL, *raw = NULL;
	struct stat st;
	uint32_t i, c;
	int fd;

	if (v == NULL)
		return;
	fd = atoi(v);
	unsetenv(PS_EXEC_ENV);
	if (fstat(fd, &st) < 0 || (size_t)st.st_size < sizeof(h) ||
	    pread(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    h.magic != PS_EXEC_MAGIC)
		goto out;              /* not ours: leave that fd alone */
	if (h.sock_bytes != sizeof(struct ps_sock) ||
	    h.n_channels == 0 || h.n_channels > SHM_MAX_CHANNELS ||
	    h.n_socks > PS_FD_MAX || h.n_fds > PS_FD_MAX ||
	    (uint64_t)st.st_size != sizeof(h) +
	    (uint64_t)h.n_socks * sizeof(struct ps_sock) +
	    (uint64_t)h.n_fds * sizeof(struct ps_exec_fd)) {
		ps_exec_drop(&h);      /* another shim version */
		goto close;
	}
	raw = malloc((h.n_socks + 1) * sizeof(*raw));
	socks = calloc(h.n_socks + 1, sizeof(*socks));
	fds = malloc((h.n_fds + 1) * sizeof(*fds));
	if (raw == NULL || socks == NULL || fds == NULL ||
	    pread(fd, raw, h.n_socks * sizeof(*raw), sizeof(h)) !=
	    (ssize_t)(h.n_socks * sizeof(*raw)) ||
	    pread(fd, fds, h.n_fds * sizeof(*fds),
		  (off_t)(sizeof(h) + h.n_socks * sizeof(*raw))) !=
	    (ssize_t)(h.n_fds * sizeof(*fds)) ||
	    ps_use_region(h.memfd, h.region_bytes) < 0 ||
	    ps_shm.n_channels != h.n_channels) {
		ps_exec_drop(&h);
		goto close;
	}
	ps_shm.ctl_fd = h.ctl_fd;
	for (c = 0; c < h.n_channels; c++)
		ps_shm.doorbell[c] = h.doorbell[c];
	ps_shm.member = h.member;
	ps_shm.exec_gen = h.exec_gen;
	ps_shm.pid = getpid();
	ps_internal_cloexec(true);
	/* Channels the old image's threads claimed are free now (a member
	 * is one process: every claim of ours was the old image's). */
	for (c = 0; c < h.n_channels; c++) {
		uint32_t want = h.member + 1;

		atomic_compare_exchange_strong(
			&shm_chan_at(ps_shm.base, &ps_shm.lay, c)->claimed,
			&want, 0);
	}
	atomic_store(&ps_shm.state, 1);
	for (i = 0; i < h.n_socks; i++) {
		struct ps_sock *ps = malloc(sizeof(*ps));

		if (ps == NULL)
			continue;   /* its fds stay plain eventfds */
		memcpy(ps, &raw[i], sizeof(*ps));
		pthread_mutex_init(&ps->mu, NULL);
		pthread_mutex_init(&ps->rx_mu, NULL);
		pthread_mutex_init(&ps->tx_mu, NULL);
		atomic_init(&ps->fdrefs, 0);
		atomic_init(&ps->refs, 1);
		atomic_init(&ps->dead, 0);
		socks[i] = ps;
	}
	for (i = 0; i < h.n_fds; i++)
		if (fds[i].sock < h.n_socks && socks[fds[i].sock] != NULL &&
		    fds[i].fd >= 0 && fds[i].fd < PS_FD_MAX &&
		    ps_real.fcntl(fds[i].fd, F_GETFD) >= 0)
			ps_fd_install(fds[i].fd, socks[fds[i].sock]);
	/* Sockets whose every fd was close-on-exec: closed by the exec. */
	for (i = 0; i < h.n_socks; i++) {
		if (socks[i] == NULL)
			continue;
		if (atomic_load(&socks[i]->fdrefs) == 0) {
			atomic_store(&socks[i]->dead, 1);
			ps_sock_closed(socks[i]);
		}
		ps_put(socks[i]);
	}
close:
	ps_real.close(fd);
out:
	free(raw);
	free(socks);
	free(fds);
}

/* --- the calls ---------------------------------------------------------- */

#define PS_REAL_EXEC(name, type)                                        \
	static type ps_real_##name;                                     \
	static type ps_get_##name(void)                                 \
	{                                                               \
		if (ps_real_##name == NULL)                             \
			ps_real_##name = (type)dlsym(RTLD_NEXT, #name); \
		return ps_real_##name;                                  \
	}

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
PS_REAL_EXEC(execve, execve_fn)
PS_REAL_EXEC(execvpe, execve_fn)
PS_REAL_EXEC(fexecve, fexecve_fn)

PS_EXPORT int
execve(const char *path, char *const argv[], char *const envp[])
{
	struct ps_exec_ctx x;
	char **env = ps_exec_prepare(envp, &x);
	int r = ps_get_execve()(path, argv, env != NULL ? env : envp);

	ps_exec_undo(&x);
	return r;
}

PS_EXPORT int
execvpe(const char *file, char *const argv[], char *const envp[])
{
	struct ps_exec_ctx x;
	char **env = ps_exec_prepare(envp, &x);
	int r = ps_get_execvpe()(file, argv, env != NULL ? env : envp);

	ps_exec_undo(&x);
	return r;
}

PS_EXPORT int
fexecve(int fd, char *const argv[], char *const envp[])
{
	struct ps_exec_ctx x;
	char **env = ps_exec_prepare(envp, &x);
	int r = ps_get_fexecve()(fd, argv, env != NULL ? env : envp);

	ps_exec_undo(&x);
	return r;
}

/* glibc's execv, execvp and execl* call its internal execve, past any
 * interposition: each is rebuilt on the three above. */
PS_EXPORT int
execv(const char *path, char *const argv[])
{
	return execve(path, argv, environ);
}

PS_EXPORT int
execvp(const char *file, char *const argv[])
{
	return execvpe(file, argv, environ);
}

/* argv of an execl* call: arg0, the rest up to NULL; for execle the
 * environment follows the NULL. */
#define PS_EXECL_ARGV(arg0, ap, argv, envp_out)                         \
	do {                                                            \
		va_list cp;                                             \
		size_t n = 1, i;                                        \
		va_copy(cp, ap);                                        \
		while (va_arg(cp, char *) != NULL)                      \
			n++;                                            \
		va_end(cp);                                             \
		argv = alloca((n + 1) * sizeof(char *));                \
		argv[0] = (char *)(arg0);                               \
		for (i = 1; i <= n; i++)                                \
			argv[i] = va_arg(ap, char *);                   \
		if (envp_out != NULL)                                   \
			*(char ***)(envp_out) = va_arg(ap, char **);    \
	} while (0)

PS_EXPORT int
execl(const char *path, const char *arg0, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, arg0);
	PS_EXECL_ARGV(arg0, ap, argv, (void *)NULL);
	va_end(ap);
	return execve(path, argv, environ);
}

PS_EXPORT int
execlp(const char *file, const char *arg0, ...)
{
	va_list ap;
	char **argv;

	va_start(ap, arg0);
	PS_EXECL_ARGV(arg0, ap, argv, (void *)NULL);
	va_end(ap);
	return execvpe(file, argv, environ);
}

PS_EXPORT int
execle(const char *path, const char *arg0, ...)
{
	va_list ap;
	char **argv, **envp = NULL;

	va_start(ap, arg0);
	PS_EXECL_ARGV(arg0, ap, argv, &envp);
	va_end(ap);
	return execve(path, argv, envp);
}
