/* platform.h: the OS-specific parts; only platform/ may test OS macros. */
#ifndef LURE_PLATFORM_H
#define LURE_PLATFORM_H

#include <stddef.h>

/* Drop to user (name or numeric uid) with its groups and no capabilities;
 * returns 0 or -1 with a message on stderr. */
int
platform_drop_privileges(const char *user);
/* Resident set size in KiB, or -1. */
long
platform_rss_kib(void);
/* Raise the open-file limit to at least want (up to the hard limit); returns
 * the soft limit now in force. */
long
platform_raise_nofile(long want);

#endif
