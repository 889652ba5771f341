/* test_poller.c: src/poller.c's timer heap against a plain array: random
 * sets, moves and clears, then every due reference taken in deadline
 * order, none twice, none early; and the backend compiled in: a pipe
 * reported ready under its reference, then forgotten. */
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include "poller.h"
#include "unit.h"

#define N 300

static void
test_heap_random(void)
{
	static int64_t want[N];
	uint32_t seed = 12345, ref;

	CHECK(poller_timer_init(N) == 0);
	memset(want, 0, sizeof want);
	CHECK(poller_timer_first() == 0);
	for (int round = 0; round < 20; round++) {
		int64_t now, last = 0, min = 0;
		for (int k = 0; k < 400; k++) {
			uint32_t r = (seed = seed * 1103515245 + 12345) >> 8;
			uint32_t i = r % N;
			int64_t t = (r >> 9) % 5 ? 1 + (r >> 12) % 1000 : 0;
			poller_timer_set(i, t); /* new, moved or cleared */
			want[i] = t;
		}
		for (int i = 0; i < N; i++)
			if (want[i] && (!min || want[i] < min))
				min = want[i];
		CHECK(poller_timer_first() == min);
		now = 500 + round * 20;
		while (poller_timer_due(now, &ref)) {
			CHECK(ref < N && want[ref] && want[ref] <= now);
			CHECK(want[ref] >= last); /* in deadline order */
			last = want[ref];
			want[ref] = 0;
		}
		for (int i = 0; i < N; i++)
			CHECK(want[i] == 0 || want[i] > now);
	}
}

static void
test_backend_pipe(void)
{
	sigset_t mask;
	int p[2];
	uint32_t ref = 99;

	sigemptyset(&mask);
	CHECK(pipe(p) == 0);
	CHECK(poller_init(8) == 0);
	poller_set(5, p[0], POLLIN);
	CHECK(poller_wait(0, &mask) == 0);
	CHECK(write(p[1], "x", 1) == 1);
	CHECK(poller_wait(1000, &mask) == 1);
	CHECK((poller_ready(0, &ref) & POLLIN) && ref == 5);
	poller_set(5, p[0], 0); /* not polled: ready but not reported */
	CHECK(poller_wait(0, &mask) == 0);
	poller_set(5, p[0], POLLIN);
	CHECK(poller_wait(0, &mask) == 1);
	poller_set(5, -1, 0);
	close(p[0]);
	close(p[1]);
}

const struct unit_test unit_poller[] = {
        {"heap_random", test_heap_random},
        {"backend_pipe", test_backend_pipe},
        {NULL, NULL},
};
