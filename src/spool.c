/* spool.c: see spool.h. Inside, offsets are byte offsets in the current
 * data file; outside, positions are virtual (base + offset) and only grow,
 * so a reader's position stays right when the file is emptied or compacted.
 * Compaction happens in place (no file is created, so a directory the
 * dropped user cannot write does not matter): once the acknowledged prefix
 * is longer than the tail, the ack record is written, the tail copied over
 * the prefix, the file cut, the record zeroed. A kill -9 at any step replays
 * right: before the cut the record points at the intact tail; after it, past
 * the end, so it is ignored and the copy at the front is replayed.
 * The file never grows past max_bytes: the oldest lines go first, counted.
 * rd is how far the reader (the shipper) has taken lines into its batch:
 * a line dropped behind it is still counted once, when its batch resolves. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "fmt.h"
#include "lure.h"
#include "spool.h"

#define ACK_MAGIC 0x6c75726573706f6fULL /* "luresp00" */

static struct {
	int fd, ackfd;
	char ackpath[272];
	uint64_t max, size, acked, ino;
	uint64_t base; /* virtual position of the file's first byte */
	uint64_t rd, unread; /* reader's position (virtual), lines after it */
	uint64_t dropped, dropped_bytes, recovered;
	int full; /* said once that the cap drops lines, until it empties */
	/* read cache (the bytes are in spool_cache: BSS, not in the binary) */
	char *cache;
	uint64_t cache_pos;
	size_t cache_len;
} sp;

/* set before main(): an initializer would put all of sp in the data */
__attribute__((constructor)) static void
sp_unset(void)
{
	sp.fd = sp.ackfd = -1;
}
static char spool_cache[65536];

static void
write_ack(void)
{
	uint64_t rec[3] = {ACK_MAGIC, sp.ino, sp.acked};

	if (pwrite(sp.ackfd, rec, sizeof rec, 0) != (ssize_t)sizeof rec)
		lure_log("SPOOL ack_write error=%s", fmt_strerror(errno));
}

static size_t
cache_at(uint64_t pos);

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

	fmt_snprintf(sp.ackpath, sizeof sp.ackpath, "%s.ack", path);
	sp.max = max_bytes;
	sp.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	sp.ackfd = open(sp.ackpath, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (sp.fd < 0 || sp.ackfd < 0 || fstat(sp.fd, &st) < 0) {
		fmt_dprintf(2, "lure: spool \"%s\": %s\n", path,
		        fmt_strerror(errno));
		return -1;
	}
	if (!max_bytes) { /* sized to the device: 1/16 of its file system */
		struct statfs vs;
		max_bytes = fstatfs(sp.fd, &vs) == 0
		                    ? (uint64_t)vs.f_blocks * vs.f_bsize / 16
		                    : 0;
		sp.max = LURE_MAX(LURE_MIN(max_bytes, 64u << 20), 65536u);
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
	sp.base = sp.rd = sp.unread = sp.dropped = sp.dropped_bytes = 0;
	sp.cache = spool_cache;
	sp.cache_len = 0;
	for (uint64_t p = sp.acked; p < sp.size;) { /* lines to replay */
		size_t n = cache_at(p);
		if (!n)
			break;
		for (const char *c = sp.cache + (p - sp.cache_pos), *e = c + n;
		        (c = memchr(c, '\n', (size_t)(e - c))) != NULL; c++)
			sp.unread++;
		p += n;
	}
	sp.recovered = sp.unread;
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

/* In place, once the acknowledged prefix is longer than the tail. */
static int
compact(void)
{
	uint64_t len = sp.size - sp.acked, at = 0;

	if (sp.acked <= len)
		return 0;
	write_ack(); /* the record points at the tail while it is copied */
	while (at < len) {
		size_t n = cache_at(sp.acked + at);
		if (!n ||
		        pwrite(sp.fd, sp.cache + (sp.acked + at - sp.cache_pos),
		                n, (off_t)at) != (ssize_t)n)
			return 0;
		at += n;
	}
	if (ftruncate(sp.fd, (off_t)len) < 0)
		return 0;
	sp.base += sp.acked;
	sp.size = len;
	sp.acked = 0;
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
	if (sp.acked == sp.size)
		sp.full = 0; /* all delivered: start the file again */
	if ((sp.acked == sp.size || sp.acked > sp.max / 2) && compact())
		return;
	write_ack();
}

void
spool_take(uint64_t vpos)
{
	sp.rd = vpos;
	sp.unread -= sp.unread > 0;
}

int
spool_append(const char *line, size_t n)
{
	if (sp.fd < 0)
		return -1;
	/* the file stays within the cap: compact, else drop the oldest
	 * unacknowledged line (counted unless the reader has it) */
	while (sp.size + n > sp.max && !compact()) {
		uint64_t pos = sp.base + sp.acked;
		char skip[1];
		if (spool_line(&pos, skip, 0) == 0)
			break;
		if (!sp.full) {
			sp.full = 1;
			lure_log("SPOOL full max_bytes=%llu: dropping the "
			         "oldest",
			        (unsigned long long)sp.max);
		}
		if (pos > sp.rd) {
			sp.dropped++;
			sp.unread--;
			sp.dropped_bytes += pos - sp.base - sp.acked;
		}
		sp.acked = pos - sp.base;
	}
	if (sp.size + n > sp.max)
		return sp.dropped++, 0;
	if (pwrite(sp.fd, line, n, (off_t)sp.size) != (ssize_t)n) {
		lure_log("SPOOL write error=%s", fmt_strerror(errno));
		return -1;
	}
	sp.size += n;
	sp.unread++;
	if (sp.cache_len && sp.cache_pos + sp.cache_len == sp.size - n)
		sp.cache_len = 0; /* the cache ended at the old end: refresh */
	return 0;
}

void
spool_stats(struct spool_stats *st)
{
	st->bytes = sp.size - sp.acked;
	st->unread = sp.unread;
	st->dropped = sp.dropped;
	st->dropped_bytes = sp.dropped_bytes;
	st->recovered = sp.recovered;
}
