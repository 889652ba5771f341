/* fdio.c: line I/O on file descriptors (src/fdio.h). */
#include "fdio.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

void
fdio_init(struct fdio *f, int fd)
{
	f->fd = fd;
	f->off = f->len = 0;
	f->err = 0;
}

int
fdio_open(struct fdio *f, const char *path)
{
	fdio_init(f, open(path, O_RDONLY | O_CLOEXEC));
	return f->fd < 0 ? -1 : 0;
}

char *
fdio_gets(struct fdio *f, char *out, size_t cap)
{
	size_t n = 0;

	while (n + 1 < cap) {
		if (f->off == f->len) {
			ssize_t r = fdio_read_all(f->fd, f->buf, sizeof f->buf);
			if (r <= 0)
				break;
			f->off = 0, f->len = (unsigned)r;
		}
		if ((out[n++] = f->buf[f->off++]) == '\n')
			break;
	}
	if (n == 0)
		return NULL;
	out[n] = 0;
	return out;
}

ssize_t
fdio_read_all(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return got ? (ssize_t)got : -1;
		if (r == 0)
			break;
		got += (size_t)r;
	}
	return (ssize_t)got;
}

static void
drain(struct fdio *f)
{
	size_t done = 0;

	while (done < f->len && !f->err) {
		ssize_t w = write(f->fd, f->buf + done, f->len - done);
		if (w < 0 && errno != EINTR)
			f->err = errno;
		else if (w > 0)
			done += (size_t)w;
	}
	f->len = 0;
}

void
fdio_put(struct fdio *f, const char *s, size_t n)
{
	while (n > 0) {
		size_t k = sizeof f->buf - f->len;
		if (k > n)
			k = n;
		memcpy(f->buf + f->len, s, k);
		f->len += (unsigned)k, s += k, n -= k;
		if (f->len == sizeof f->buf)
			drain(f);
	}
}

void
fdio_puts(struct fdio *f, const char *s)
{
	fdio_put(f, s, strlen(s));
}

int
fdio_flush(struct fdio *f)
{
	drain(f);
	errno = f->err;
	return f->err ? -1 : 0;
}

void
fdio_close(struct fdio *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* A decimal id of a passwd field ending at ':': 0 or -1. */
static int
id(const char **s, unsigned long *v)
{
	const char *p = *s;

	*v = 0;
	if (*p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		if ((*v = *v * 10 + (unsigned long)(*p++ - '0')) > 0xffffffffUL)
			return -1;
	if (*p != ':')
		return -1;
	*s = p + 1;
	return 0;
}

int
fdio_passwd(const char *path, const char *user, uid_t *uid, gid_t *gid)
{
	struct fdio f;
	char line[1024];
	size_t ul = strlen(user);
	int found = -1, rest = 0; /* rest: in a line longer than line[] */

	if (fdio_open(&f, path) < 0)
		return -1;
	/* name:password:uid:gid:gecos:home:shell */
	while (found < 0 && fdio_gets(&f, line, sizeof line)) {
		const char *p, *c;
		unsigned long u, g;
		int part = rest;

		rest = !strchr(line, '\n');
		if (part || strncmp(line, user, ul) != 0 || line[ul] != ':' ||
		        !(c = strchr(line + ul + 1, ':')))
			continue;
		p = c + 1;
		if (id(&p, &u) == 0 && id(&p, &g) == 0) {
			*uid = (uid_t)u, *gid = (gid_t)g;
			found = 0;
		}
	}
	fdio_close(&f);
	return found;
}
