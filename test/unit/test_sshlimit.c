/* test_sshlimit.c: sshd's MaxStartups and dropbear's per-address limit on
 * connections not logged in (src/sshlimit.c). */
#include <stdio.h>

#include "sshlimit.h"
#include "unit.h"

static void
free_all(uint8_t *id, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		sshlimit_done(&id[i]);
}

/* dropbear: 5 from one address, the 6th closed; others still come in;
 * 30 in all; a login or a close frees the place */
static void
test_dropbear(void)
{
	const struct sshlimit db = {.per_addr = 5, .total = 30};
	uint8_t id[40] = {0}, x;
	char a[32];

	for (int i = 0; i < 5; i++)
		CHECK(sshlimit_admit(&db, "10.0.0.1", &id[i]) == SSHLIMIT_OK &&
		        id[i]);
	CHECK(sshlimit_admit(&db, "10.0.0.1", &x) == SSHLIMIT_DROP && !x);
	CHECK(sshlimit_admit(&db, "10.0.0.10", &id[5]) == SSHLIMIT_OK);
	sshlimit_done(&id[0]);
	CHECK(id[0] == 0 && sshlimit_count() == 5);
	sshlimit_done(&id[0]); /* twice: nothing */
	CHECK(sshlimit_count() == 5);
	CHECK(sshlimit_admit(&db, "10.0.0.1", &id[0]) == SSHLIMIT_OK);
	for (int i = 6; i < 30; i++) {
		snprintf(a, sizeof a, "10.1.0.%d", i);
		CHECK(sshlimit_admit(&db, a, &id[i]) == SSHLIMIT_OK);
	}
	CHECK(sshlimit_count() == 30);
	CHECK(sshlimit_admit(&db, "10.2.0.1", &x) == SSHLIMIT_DROP);
	free_all(id, 40);
	CHECK(sshlimit_count() == 0);
}

/* sshd 10:30:100: the first 10 always; at 10 held about 30% dropped with
 * "Exceeded MaxStartups", at 55 about 65%, at 100 all; sources count
 * together */
static void
test_sshd(void)
{
	const struct sshlimit sd = {.start = 10, .rate = 30, .full = 100};
	static uint8_t id[128];
	uint8_t x;
	unsigned n = 0, drops;

	for (; n < 10; n++)
		CHECK(sshlimit_admit(&sd, "10.0.0.1", &id[n]) == SSHLIMIT_OK);
	drops = 0;
	for (int i = 0; i < 2000; i++) {
		enum sshlimit_verdict v = sshlimit_admit(&sd, "10.0.0.2", &x);
		drops += v == SSHLIMIT_EXCEEDED;
		CHECK(v != SSHLIMIT_DROP);
		sshlimit_done(&x);
	}
	CHECK(drops > 450 && drops < 750); /* 30% of 2000 */
	while (sshlimit_count() < 55)
		if (sshlimit_admit(&sd, "10.0.0.3", &x) == SSHLIMIT_OK)
			id[n++] = x;
	drops = 0;
	for (int i = 0; i < 2000; i++) {
		drops += sshlimit_admit(&sd, "10.0.0.4", &x) ==
		         SSHLIMIT_EXCEEDED;
		sshlimit_done(&x);
	}
	CHECK(drops > 1150 && drops < 1450); /* 30 + 70 * 45 / 90 = 65% */
	while (sshlimit_count() < 100) /* 1 in 100 tries at the end */
		if (sshlimit_admit(&sd, "10.0.0.5", &x) == SSHLIMIT_OK)
			id[n++] = x;
	CHECK(sshlimit_count() == 100);
	for (int i = 0; i < 100; i++)
		CHECK(sshlimit_admit(&sd, "10.0.0.6", &x) == SSHLIMIT_EXCEEDED);
	free_all(id, 128);
	CHECK(sshlimit_count() == 0);
}

/* no rule (generic sshd-less builds, a persona without the keys) */
static void
test_none(void)
{
	const struct sshlimit none = {0};
	uint8_t x;

	for (int i = 0; i < 300; i++)
		CHECK(sshlimit_admit(&none, "10.0.0.1", &x) == SSHLIMIT_OK &&
		        !x);
	CHECK(sshlimit_count() == 0);
}

const struct unit_test unit_sshlimit[] = {
        {"dropbear", test_dropbear},
        {"sshd", test_sshd},
        {"none", test_none},
        {0, 0},
};
