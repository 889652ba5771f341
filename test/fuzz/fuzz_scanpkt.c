/* fuzz_scanpkt.c: libFuzzer target for the captured-frame parser
 * (src/scanpkt.c). The first byte picks the link type (IP, Ethernet,
 * Linux cooked); the rest is the frame. Any bytes give a verdict without
 * reading past them (ASan); an accepted frame's option and payload
 * pointers lie inside it, its transport and family are known ones, and
 * the same frame with its last byte cut is refused or parsed with no more
 * payload than before (a header is never read past the frame's end). */
#include <stdlib.h>
#include <string.h>

#include "scanpkt.h"

static int
inside(const uint8_t *b, size_t n, const uint8_t *p, size_t m)
{
	return p >= b && p <= b + n && m <= (size_t)(b + n - p);
}

int
LLVMFuzzerTestOneInput(const uint8_t *d, size_t n)
{
	struct scanpkt p, q;
	uint8_t *f;
	size_t m;

	if (n < 1)
		return 0;
	m = n - 1;
	f = malloc(m ? m : 1); /* exact size: ASan sees any overread */
	memcpy(f, d + 1, m);
	if (scanpkt_parse(&p, f, m, d[0] % 3) == 0) {
		if ((p.family != 4 && p.family != 6) || p.transport > 2 ||
		        !inside(f, m, p.payload, p.payload_len) ||
		        (p.optlen && !inside(f, m, p.opt, p.optlen)))
			abort();
		if (m && scanpkt_parse(&q, f, m - 1, d[0] % 3) == 0 &&
		        q.payload_len > p.payload_len)
			abort();
	}
	free(f);
	return 0;
}
