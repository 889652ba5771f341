/* linux.c: privilege drop, RSS, fd limits for Linux (glibc and musl). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fdio.h"
#include "fmt.h"
#include "platform.h"

/* The system calls themselves: lure has one thread, so libc's versions,
 * which apply the change to every thread (musl's __synccall, ~1.3 KB),
 * are not needed. 32-bit ARM's plain names take 16-bit ids. */
#ifdef SYS_setuid32
#define SYS_SETGROUPS SYS_setgroups32
#define SYS_SETGID SYS_setgid32
#define SYS_SETUID SYS_setuid32
#else
#define SYS_SETGROUPS SYS_setgroups
#define SYS_SETGID SYS_setgid
#define SYS_SETUID SYS_setuid
#endif

int
platform_drop_privileges(const char *user)
{
	uid_t uid;
	gid_t gid;

	/* /etc/passwd read as musl's getpwnam does (no NSS), without stdio */
	if (fdio_passwd("/etc/passwd", user, &uid, &gid) < 0) {
		char *end;
		long v = fmt_strtol(user, &end, 10);
		if (!*user || *end || v <= 0) {
			fmt_dprintf(
			        2, "lure: user \"%s\": no such user\n", user);
			return -1;
		}
		uid = (uid_t)v, gid = (gid_t)v;
	}
	if (uid == 0) {
		fmt_dprintf(2, "lure: user \"%s\": is root\n", user);
		return -1;
	}
	if (syscall(SYS_SETGROUPS, 1L, &gid) < 0 ||
	        syscall(SYS_SETGID, (long)gid) < 0 ||
	        syscall(SYS_SETUID, (long)uid) < 0) {
		fmt_dprintf(2, "lure: drop to \"%s\": %s\n", user,
		        fmt_strerror(errno));
		return -1;
	}
	/* setuid() from root clears every capability set; check it stuck */
	if (syscall(SYS_SETUID, 0L) == 0) {
		fmt_dprintf(
		        2, "lure: drop to \"%s\": could regain root\n", user);
		return -1;
	}
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return 0;
}

long
platform_rss_kib(void)
{
	char line[256];
	long kib = -1;
	struct fdio f;

	if (fdio_open(&f, "/proc/self/status") < 0)
		return -1;
	while (fdio_gets(&f, line, sizeof line))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = fmt_strtol(line + 6, NULL, 10);
			break;
		}
	fdio_close(&f);
	return kib;
}

long
platform_raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if ((long)rl.rlim_cur < want) {
		rl.rlim_cur =
		        rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max > want
		                ? (rlim_t)want
		                : rl.rlim_max;
		/* prlimit64 as musl's setrlimit() calls it, without its
		 * fallback for older kernels (__synccall, ~1.3 KB) */
		prlimit(0, RLIMIT_NOFILE, &rl, NULL);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}
