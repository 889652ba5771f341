/* poller_poll.c: src/poller.h on poll() (ppoll), for systems without epoll:
 * one pollfd per reference (fd -1 when not polled, which poll() skips), the
 * set up to the highest reference in use handed to the kernel each pass. */
#include <poll.h>
#include <stdlib.h>

#include "poller.h"

static struct pollfd *pfd;
static uint32_t *ready, nready, top; /* pfd[0, top) may be in use */

int
poller_init(size_t n)
{
	pfd = calloc(n, sizeof *pfd);
	ready = calloc(n, sizeof *ready);
	for (size_t i = 0; pfd && i < n; i++)
		pfd[i].fd = -1;
	return pfd && ready ? poller_timer_init(n) : -1;
}

int
poller_set(uint32_t ref, int fd, short events)
{
	pfd[ref].fd = events ? fd : -1;
	pfd[ref].events = events;
	if (events && ref >= top)
		top = ref + 1;
	return 0;
}

int
poller_wait(int64_t timeout_ms, const sigset_t *mask)
{
	struct timespec ts = {timeout_ms / 1000, timeout_ms % 1000 * 1000000};
	int r = ppoll(pfd, top, timeout_ms < 0 ? NULL : &ts, mask);

	nready = 0;
	for (uint32_t i = 0; r > 0 && i < top; i++)
		if (pfd[i].fd >= 0 && pfd[i].revents)
			ready[nready++] = i;
	return r < 0 ? r : (int)nready;
}

short
poller_ready(int i, uint32_t *ref)
{
	*ref = ready[i];
	return pfd[*ref].revents;
}
