/* poller_epoll.c: src/poller.h on Linux's epoll, level-triggered (the
 * semantics of poll(): what is not consumed is reported again), one
 * epoll_ctl only when a reference's events change, epoll_pwait with the
 * caller's signal mask as ppoll() had it. */
#include <poll.h>
#include <stdlib.h>
#include <sys/epoll.h>

#include "poller.h"

_Static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT &&
                       EPOLLERR == POLLERR && EPOLLHUP == POLLHUP,
        "epoll and poll event bits differ");

static int epfd = -1;
static uint8_t *cur; /* cur[ref]: the events registered, 0: none */
static struct epoll_event ready[128];

int
poller_init(size_t n)
{
	epfd = epoll_create1(EPOLL_CLOEXEC);
	cur = calloc(n, 1);
	return epfd >= 0 && cur ? poller_timer_init(n) : -1;
}

int
poller_set(uint32_t ref, int fd, short events)
{
	struct epoll_event ev = {.events = (uint32_t)events, .data.u32 = ref};
	int r = 0;

	if (cur[ref] == events)
		return 0;
	if (fd >= 0) /* a closed descriptor has left every epoll set */
		r = epoll_ctl(epfd,
		        !cur[ref] ? EPOLL_CTL_ADD
		        : !events ? EPOLL_CTL_DEL
		                  : EPOLL_CTL_MOD,
		        fd, &ev);
	cur[ref] = (uint8_t)(fd >= 0 && !r ? events : 0);
	return r;
}

int
poller_wait(int64_t timeout_ms, const sigset_t *mask)
{
	return epoll_pwait(epfd, ready, sizeof ready / sizeof *ready,
	        timeout_ms > 0x7fffffff ? 0x7fffffff : (int)timeout_ms, mask);
}

short
poller_ready(int i, uint32_t *ref)
{
	*ref = ready[i].data.u32;
	return (short)ready[i].events;
}
