/* spool.c: see spool.h. Inside, offsets are byte offsets in the current
 * data file; outside, positions are virtual (base + offset) and only grow,
 * so a reader's position stays right when the file is emptied or compacted.
 * Compaction copies the unacknowledged tail to <path>.tmp and renames it
 * over <path>; the ack file records the data file's inode, so an ack offset
 * is never applied to another file (after a crash mid-compaction the new
 * file is replayed from its start: duplicates at worst, never a loss). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fmt.h"
#include "lure.h"
#include "spool.h"

#define ACK_MAGIC 0x6c75726573706f6fULL /* "luresp00" */

static struct {
	int fd, ackfd;
	char path[256], ackpath[272];
	uint64_t max, size, acked, ino;
	uint64_t base; /* virtual position of the file's first byte */
	uint64_t dropped, dropped_bytes, recovered;
	/* read cache (the bytes are in spool_cache: BSS, not in the binary) */
	char *cache;
	uint64_t cache_pos;
	size_t cache_len;
} sp = {.fd = -1, .ackfd = -1};
static char spool_cache[65536];

static void
write_ack(void)
{
	uint64_t rec[3] = {ACK_MAGIC, sp.ino, sp.acked};

	if (pwrite(sp.ackfd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
		lure_log("SPOOL ack_write error=%s", strerror(errno));
}

static uint64_t
inode_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? (uint64_t)st.st_ino : 0;
}

int
spool_enabled(void)
{
	return sp.fd >= 0;
}

int
spool_open(const char *path, uint64_t max_bytes)
{
	uint64_t rec[3];
	struct stat st;

	fmt_snprintf(sp.path, sizeof sp.path, "%s", path);
	fmt_snprintf(sp.ackpath, sizeof sp.ackpath, "%s.ack", path);
	sp.max = max_bytes;
	sp.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	sp.ackfd = open(sp.ackpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp.fd < 0 || sp.ackfd < 0 || fstat(sp.fd, &st) < 0) {
		fmt_fprintf(stderr, "lure: spool \"%s\": %s\n", path,
		        strerror(errno));
		return -1;
	}
	sp.size = (uint64_t)st.st_size;
	sp.ino = (uint64_t)st.st_ino;
	sp.acked = 0;
	if (pread(sp.ackfd, rec, sizeof rec, 0) == (ssize_t)sizeof rec &&
	        rec[0] == ACK_MAGIC && rec[1] == sp.ino && rec[2] <= sp.size)
		sp.acked = rec[2];
	/* a line cut by a crash mid-write: drop the partial tail */
	if (sp.size > sp.acked) {
		char c;
		uint64_t end = sp.size;
		while (end > sp.acked &&
		        pread(sp.fd, &c, 1, (off_t)end - 1) == 1 && c != '\n')
			end--;
		if (end != sp.size && ftruncate(sp.fd, (off_t)end) == 0)
			sp.size = end;
	}
	sp.recovered = sp.size - sp.acked;
	sp.base = 0;
	sp.cache = spool_cache;
	sp.cache_len = 0;
	write_ack();
	return 0;
}

uint64_t
spool_cursor(void)
{
	return sp.base + sp.acked;
}

/* Fill the cache at pos; returns bytes available. */
static size_t
cache_at(uint64_t pos)
{
	ssize_t n;

	if (pos >= sp.cache_pos && pos < sp.cache_pos + sp.cache_len)
		return sp.cache_len - (size_t)(pos - sp.cache_pos);
	n = pread(sp.fd, spool_cache, sizeof spool_cache, (off_t)pos);
	sp.cache_pos = pos;
	sp.cache_len = n > 0 ? (size_t)n : 0;
	return sp.cache_len;
}

long
spool_line(uint64_t *vpos, char *dst, size_t cap)
{
	uint64_t p, start;
	size_t got = 0;

	if (*vpos < sp.base + sp.acked)
		*vpos = sp.base + sp.acked;
	start = *vpos - sp.base;
	for (p = start; p < sp.size;) {
		size_t avail = cache_at(p);
		const char *c = sp.cache + (p - sp.cache_pos), *nl;
		if (!avail)
			return 0;
		nl = memchr(c, '\n', avail);
		size_t take = nl ? (size_t)(nl - c) + 1 : avail;
		if (got + take <= cap)
			memcpy(dst + got, c, take);
		got += take;
		p += take;
		if (nl) {
			*vpos = sp.base + p;
			return got <= cap ? (long)got : -1;
		}
	}
	return 0; /* no whole line yet */
}

static int
compact(void)
{
	char tmp[280];
	uint64_t at = sp.acked;
	int fd;

	fmt_snprintf(tmp, sizeof tmp, "%s.tmp", sp.path);
	if ((fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0640)) < 0)
		return -1;
	while (at < sp.size) {
		size_t avail = cache_at(at);
		if (!avail || write(fd, sp.cache + (at - sp.cache_pos),
		                      avail) != (ssize_t)avail) {
			close(fd);
			unlink(tmp);
			return -1;
		}
		at += avail;
	}
	if (rename(tmp, sp.path) < 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	close(sp.fd);
	sp.fd = fd;
	sp.size -= sp.acked;
	sp.base += sp.acked;
	sp.acked = 0;
	sp.ino = inode_of(fd);
	sp.cache_len = 0;
	write_ack();
	return 1;
}

void
spool_ack_to(uint64_t vpos)
{
	uint64_t pos;

	if (sp.fd < 0 || vpos <= sp.base + sp.acked)
		return;
	pos = vpos - sp.base;
	sp.acked = pos > sp.size ? sp.size : pos;
	if (sp.acked == sp.size) {
		/* all delivered: start the file again */
		if (ftruncate(sp.fd, 0) == 0) {
			sp.base += sp.size;
			sp.size = sp.acked = 0;
			sp.cache_len = 0;
		}
	} else if (sp.acked > sp.max / 2 && compact() > 0) {
		return;
	}
	write_ack();
}

int
spool_append(const char *line, size_t n)
{
	if (sp.fd < 0)
		return -1;
	/* beyond the cap: drop the oldest unacknowledged lines, counted */
	while (sp.size - sp.acked + n > sp.max && sp.acked < sp.size) {
		uint64_t pos = sp.base + sp.acked;
		char skip[1];
		long l = spool_line(&pos, skip, 0);
		if (l == 0)
			break;
		sp.dropped++;
		sp.dropped_bytes += pos - sp.base - sp.acked;
		sp.acked = pos - sp.base;
	}
	if (sp.size - sp.acked + n > sp.max)
		return sp.dropped++, 0;
	if (sp.acked > sp.max / 2)
		compact();
	if (pwrite(sp.fd, line, n, (off_t)sp.size) != (ssize_t)n) {
		lure_log("SPOOL write error=%s", strerror(errno));
		return -1;
	}
	sp.size += n;
	if (sp.cache_len && sp.cache_pos + sp.cache_len == sp.size - n)
		sp.cache_len = 0; /* the cache ended at the old end: refresh */
	return 0;
}

void
spool_stats(struct spool_stats *st)
{
	st->bytes = sp.size - sp.acked;
	st->dropped = sp.dropped;
	st->dropped_bytes = sp.dropped_bytes;
	st->recovered = sp.recovered;
}
