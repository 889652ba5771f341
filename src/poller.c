/* poller.c: the timers of src/poller.h, a binary min-heap of references
 * keyed by deadline with each reference's place in it, so setting, moving
 * or clearing one deadline is O(log n) and finding the next is O(1). The
 * fd backends are src/poller_epoll.c and src/poller_poll.c. */
#include <stdlib.h>
#include <string.h>

#include "poller.h"

static int64_t *at; /* at[ref]: its deadline, 0: none */
static uint32_t *pos; /* pos[ref]: its index in heap + 1, 0: not there */
static uint32_t *heap; /* references, heap[0] the earliest */
static uint32_t nheap;
static size_t held; /* references allocated */

/* Start-up only: arrays as large are kept (cleared), larger ones are new
 * (never free(): src/fdio.h). */
int
poller_timer_init(size_t n)
{
	nheap = 0;
	if (n > held) {
		held = 0;
		at = calloc(n, sizeof *at);
		pos = calloc(n, sizeof *pos);
		heap = calloc(n, sizeof *heap);
		if (!at || !pos || !heap)
			return -1;
		held = n;
	}
	if (held) {
		memset(at, 0, held * sizeof *at);
		memset(pos, 0, held * sizeof *pos);
	}
	return 0;
}

static void
put(uint32_t i, uint32_t ref)
{
	heap[i] = ref;
	pos[ref] = i + 1;
}

/* Move the reference at i up or down to where its deadline belongs. */
static void
sift(uint32_t i)
{
	uint32_t ref = heap[i];

	while (i > 0 && at[heap[(i - 1) / 2]] > at[ref]) {
		put(i, heap[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= nheap)
			break;
		if (c + 1 < nheap && at[heap[c + 1]] < at[heap[c]])
			c++;
		if (at[heap[c]] >= at[ref])
			break;
		put(i, heap[c]);
		i = c;
	}
	put(i, ref);
}

void
poller_timer_set(uint32_t ref, int64_t t)
{
	uint32_t i = pos[ref];

	at[ref] = t;
	if (!i && t) { /* new: at the end, then up */
		put(nheap, ref);
		sift(nheap++);
	} else if (i && t) {
		sift(i - 1);
	} else if (i) { /* gone: the last one takes its place */
		pos[ref] = 0;
		if (--nheap != i - 1) {
			put(i - 1, heap[nheap]);
			sift(i - 1);
		}
	}
}

int64_t
poller_timer_first(void)
{
	return nheap ? at[heap[0]] : 0;
}

int
poller_timer_due(int64_t now, uint32_t *ref)
{
	if (!nheap || at[heap[0]] > now)
		return 0;
	*ref = heap[0];
	poller_timer_set(*ref, 0);
	return 1;
}
