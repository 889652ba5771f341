/* test_admit.c: source keys (IPv4 whole, IPv6 cut to limits.ipv6_prefix
 * bits, prefixes not a multiple of 8 included), the per_ip and half-pool
 * caps, and refusals: one event per source, port and reason per window,
 * none before it ends, the window ended early by a full table. */
#include "admit.h"
#include "config.h"
#include "event.h"
#include "lure.h"
#include "outbox.h"
#include "unit.h"

static struct config c;

static void
setup(unsigned prefix, unsigned per_ip, unsigned max_conns)
{
	config_defaults(&c);
	c.ipv6_prefix = prefix;
	c.per_ip = per_ip;
	c.max_conns = max_conns;
	admit_setup(&c);
}

static void
test_keys(void)
{
	uint8_t a[16], want[16] = {1, 2, 3, 4};

	setup(60, 32, 1024);
	memset(a, 0xee, sizeof a); /* bytes beyond an IPv4 address: zeroed */
	a[0] = 1, a[1] = 2, a[2] = 3, a[3] = 4;
	admit_key(4, a);
	CHECK(memcmp(a, want, 16) == 0);
	memset(a, 0xff, sizeof a);
	admit_key(6, a); /* /60: 7 bytes and the high half of the 8th */
	memset(want, 0, sizeof want);
	memset(want, 0xff, 7);
	want[7] = 0xf0;
	CHECK(memcmp(a, want, 16) == 0);
	c.ipv6_prefix = 128;
	memset(a, 0xab, sizeof a);
	admit_key(6, a);
	memset(want, 0xab, sizeof want);
	CHECK(memcmp(a, want, 16) == 0);
	c.ipv6_prefix = 1;
	memset(a, 0xff, sizeof a);
	admit_key(6, a);
	CHECK(a[0] == 0x80 && a[1] == 0 && a[15] == 0);
}

static void
test_caps(void)
{
	setup(64, 3, 8);
	CHECK(admit_check(2) == ADMIT_OK);
	CHECK(admit_check(3) == ADMIT_PER_IP);
	setup(64, 100, 8); /* half the pool, whatever per_ip says */
	CHECK(admit_check(3) == ADMIT_OK);
	CHECK(admit_check(4) == ADMIT_SHARE);
	setup(64, 100, 1);
	CHECK(admit_check(0) == ADMIT_OK);
	CHECK(admit_check(1) == ADMIT_SHARE);
}

static void
test_refusals(void)
{
	uint8_t k[16] = {127, 0, 0, 9};
	uint64_t n0;

	outbox_init(1 << 20);
	lure_clock_fix(1767323045000LL);
	setup(64, 32, 1024);
	n0 = event_count();
	for (int i = 0; i < 10; i++)
		admit_refuse(4, k, 2121, ADMIT_PER_IP);
	admit_refuse(4, k, 2121, ADMIT_OK); /* counted, never logged */
	admit_refuse(4, k, 2323, ADMIT_PER_IP); /* another port */
	admit_tick(lure_now());
	CHECK(event_count() == n0); /* the window is open */
	CHECK(admit_deadline() == lure_now() + 60000);
	lure_clock_advance(60000);
	admit_tick(lure_now());
	CHECK(event_count() == n0 + 2);
	CHECK(admit_deadline() == 0);
	/* 33 sources in one window: the table ends the window early */
	for (unsigned i = 0; i < 33; i++) {
		k[3] = (uint8_t)(100 + i);
		admit_refuse(4, k, 2121, ADMIT_SHARE);
	}
	CHECK(event_count() == n0 + 2 + 32);
	admit_tick(INT64_MAX); /* stop: what waits is written */
	CHECK(event_count() == n0 + 2 + 33);
	lure_clock_fix(0);
}

const struct unit_test unit_admit[] = {
        {"keys", test_keys},
        {"caps", test_caps},
        {"refusals", test_refusals},
        {NULL, NULL},
};
