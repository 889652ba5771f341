/* fdio.h: buffered line reading and writing on a file descriptor, in
 * place of stdio's fopen/fgets/fprintf/fclose for the few files lure reads
 * or writes at start (state file, /etc/hosts, /etc/resolv.conf,
 * /proc/self/status, /etc/passwd). stdio's FILE is malloc'd and fclose()
 * frees it: with no free() anywhere, musl links its small bump allocator
 * instead of the full one (~8 KB), and lure allocates only at start. */
#ifndef LURE_FDIO_H
#define LURE_FDIO_H

#include <stddef.h>
#include <sys/types.h>

struct fdio {
	int fd;
	unsigned off,
	        len; /* reading: buf[off..len) unread; writing: len held */
	int err; /* writing: errno of the first failed write, 0: none */
	char buf[512];
};

/* open(2) path read-only (O_CLOEXEC); 0, or -1 with errno set. */
int
fdio_open(struct fdio *f, const char *path);
/* Start on an fd already open (reading or writing). */
void
fdio_init(struct fdio *f, int fd);
/* fgets(3): the next line with its '\n' (or cap - 1 bytes of it), NUL
 * terminated; NULL at end of file or a read error with nothing read. */
char *
fdio_gets(struct fdio *f, char *out, size_t cap);
/* Read up to n bytes (retrying short reads until end of file): the count,
 * or -1 with errno set. */
ssize_t
fdio_read_all(int fd, void *p, size_t n);
/* Buffered write of n bytes; a failure is kept for fdio_flush. */
void
fdio_put(struct fdio *f, const char *s, size_t n);
/* fdio_put of a NUL-terminated string. */
void
fdio_puts(struct fdio *f, const char *s);
/* Write what is held: 0, or -1 with errno set (also for an earlier failed
 * write). */
int
fdio_flush(struct fdio *f);
/* close(2) the fd (a buffered write is not flushed). */
void
fdio_close(struct fdio *f);
/* The uid and gid of user in a passwd(5) file such as /etc/passwd (the
 * first line of that name, as getpwnam does): 0, or -1 (not there, or the
 * file unreadable). */
int
fdio_passwd(const char *path, const char *user, uid_t *uid, gid_t *gid);

#endif
