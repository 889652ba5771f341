/* test_udpguard.c: a UDP source earns the bytes it sends and spends them on
 * answers within its window, plus the grace; at most UDPGUARD_SRC_MAX
 * answers per source window and UDPGUARD_RATE a second in all; a full table
 * evicts no live source (a newcomer is judged on its datagram alone). */
#include "lure.h"
#include "udpguard.h"
#include "unit.h"

static const uint8_t *
ip4(unsigned n)
{
	static uint8_t a[16];

	a[0] = 10, a[1] = (uint8_t)(n >> 16), a[2] = (uint8_t)(n >> 8);
	a[3] = (uint8_t)n;
	return a;
}

static void
test_credit(void)
{
	lure_clock_fix(1767323045000LL);
	CHECK(udpguard_in(4, ip4(1), 100, 0) == 100);
	udpguard_out(80);
	CHECK(udpguard_in(4, ip4(1), 50, 0) == 70); /* 150 in, 80 out */
	udpguard_out(70);
	CHECK(udpguard_in(4, ip4(1), 0, 0) == 0); /* nothing left */
	udpguard_out(0);
	CHECK(udpguard_in(4, ip4(2), 10, 1000) == 1010); /* the grace */
	CHECK(udpguard_in(6, ip4(1), 10, 0) == 10); /* another family */
	/* the window is over: what was earned in it is gone */
	lure_clock_advance(UDPGUARD_WINDOW_S * 1000);
	CHECK(udpguard_in(4, ip4(1), 30, 0) == 30);
}

static void
test_rates(void)
{
	lure_clock_fix(1767323045000LL);
	for (int i = 0; i < UDPGUARD_SRC_MAX; i++) {
		CHECK(udpguard_in(4, ip4(3), 100, 0) == 100);
		udpguard_out(100);
	}
	CHECK(udpguard_in(4, ip4(3), 100, 0) == 0); /* per source */
	for (unsigned i = 0; i < UDPGUARD_RATE - UDPGUARD_SRC_MAX; i++) {
		CHECK(udpguard_in(4, ip4(100 + i), 100, 0) == 100);
		udpguard_out(100);
	}
	CHECK(udpguard_in(4, ip4(99), 100, 0) == 0); /* all sources */
	lure_clock_advance(1000);
	CHECK(udpguard_in(4, ip4(99), 100, 0) == 200);
}

static void
test_full_table(void)
{
	lure_clock_fix(1767323045000LL);
	CHECK(udpguard_in(4, ip4(7), 100, 0) == 100); /* kept from the start */
	for (unsigned i = 0; i < 8192; i++)
		udpguard_in(4, ip4(1000 + i), 10, 0);
	CHECK(udpguard_in(4, ip4(7), 100, 0) == 200); /* not evicted */
	/* a newcomer finds no room: each datagram on its own */
	CHECK(udpguard_in(4, ip4(999999), 100, 0) == 100);
	CHECK(udpguard_in(4, ip4(999999), 100, 0) == 100);
	lure_clock_advance(UDPGUARD_WINDOW_S * 1000); /* room again */
	CHECK(udpguard_in(4, ip4(999999), 100, 0) == 100);
	CHECK(udpguard_in(4, ip4(999999), 100, 0) == 200);
	lure_clock_fix(0);
}

const struct unit_test unit_udpguard[] = {
        {"credit", test_credit},
        {"rates", test_rates},
        {"full_table", test_full_table},
        {NULL, NULL},
};
