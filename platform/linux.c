/* linux.c: privilege drop, RSS, fd limits for Linux (glibc and musl). */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "fmt.h"
#include "platform.h"

int
platform_drop_privileges(const char *user)
{
	struct passwd *pw = getpwnam(user);
	uid_t uid;
	gid_t gid;

	if (pw) {
		uid = pw->pw_uid, gid = pw->pw_gid;
	} else {
		char *end;
		long v = strtol(user, &end, 10);
		if (!*user || *end || v <= 0) {
			fmt_fprintf(stderr, "lure: user \"%s\": no such user\n",
			        user);
			return -1;
		}
		uid = (uid_t)v, gid = (gid_t)v;
	}
	if (uid == 0) {
		fmt_fprintf(stderr, "lure: user \"%s\": is root\n", user);
		return -1;
	}
	if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
		fmt_fprintf(stderr, "lure: drop to \"%s\": %s\n", user,
		        strerror(errno));
		return -1;
	}
	/* setuid() from root clears every capability set; check it stuck */
	if (setuid(0) == 0) {
		fmt_fprintf(stderr, "lure: drop to \"%s\": could regain root\n",
		        user);
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
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmRSS:", 6) == 0) {
			kib = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
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
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	return (long)rl.rlim_cur;
}
