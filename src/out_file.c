/* out_file.c: see out_file.h. The fd is non-blocking so a stalled reader
 * (a pipe nobody drains) never stops the loop; the outbox holds the rest. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "lure.h"
#include "out_file.h"
#include "outbox.h"
#include "ship.h"

static int fd = -1, cons = -1;
static char path[256];
static int64_t retry_at; /* after a write error, wait before retrying */

static int
open_path(void)
{
	int f;

	if (strcmp(path, "-") == 0)
		f = dup(STDOUT_FILENO);
	else
		f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (f < 0)
		return -1;
	fcntl(f, F_SETFD, FD_CLOEXEC);
	fcntl(f, F_SETFL, fcntl(f, F_GETFL) | O_NONBLOCK);
	return f;
}

int
out_file_open(const char *p)
{
	fmt_snprintf(path, sizeof path, "%s", p);
	if ((fd = open_path()) < 0) {
		fmt_dprintf(2, "lure: output \"%s\": %s\n", path,
		        fmt_strerror(errno));
		return -1;
	}
	if (cons < 0)
		cons = outbox_consumer();
	return 0;
}

void
out_file_reopen(void)
{
	int f = open_path();

	if (f < 0) {
		lure_log("REOPEN path=%s error=%s", path, fmt_strerror(errno));
		return;
	}
	out_file_drain(); /* what was queued goes to the old file */
	close(fd);
	fd = f;
}

int
out_file_fd(void)
{
	return out_file_pending() && lure_now() >= retry_at ? fd : -1;
}

int64_t
out_file_deadline(void)
{
	return out_file_pending() && retry_at > lure_now() ? retry_at : 0;
}

size_t
out_file_pending(void)
{
	return cons < 0 ? 0 : outbox_pending(cons);
}

void
out_file_flush(void)
{
	const char *p;
	size_t n;

	if (lure_now() < retry_at)
		return;
	while (fd >= 0 && (n = outbox_peek(cons, &p)) > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0 || errno != EAGAIN) {
				lure_log("WRITE path=%s error=%s", path,
				        w == 0 ? "short" : fmt_strerror(errno));
				retry_at = lure_now() + 1000;
			}
			return;
		}
		outbox_ack(cons, (size_t)w);
	}
}

void
out_file_drain(void)
{
	retry_at = 0;
	while (fd >= 0 && out_file_pending()) {
		struct pollfd pfd = {fd, POLLOUT, 0};
		size_t before = out_file_pending();
		out_file_flush();
		if (out_file_pending() == before &&
		        (retry_at || poll(&pfd, 1, 5000) <= 0))
			return; /* write error, or reader gone for 5 s: give up */
	}
}

void
out_file_sync(void)
{
	static int stalled; /* a wait timed out: none again until it moves */
	struct pollfd pfd = {fd, POLLOUT, 0};

	if (!out_file_pending())
		return;
	ship_feed();
	out_file_flush();
	if (out_file_pending() && !stalled && poll(&pfd, 1, 100) > 0)
		out_file_flush();
	stalled = out_file_pending() != 0;
}
