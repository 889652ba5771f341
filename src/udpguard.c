/* udpguard.c: see udpguard.h. 128 buckets of 4 sources (12 KiB). The hash
 * is keyed with a random secret so a spoofer cannot aim at one bucket; it
 * only has to survive that, not be a MAC (nothing shows its output). */
#include <string.h>

#include "lure.h"
#include "udpguard.h"

#define WAYS 4
#define BUCKETS 128

struct src {
	uint64_t tag; /* keyed hash | 1; 0 = free */
	uint32_t t; /* window start, lure_now() seconds */
	uint32_t in, out; /* bytes in the window */
	uint32_t answers;
};

static struct src table[BUCKETS * WAYS], spare;
static struct src *cur;
static uint64_t key[2];
static uint32_t g_t, g_n; /* global: this second, answers in it */

static uint64_t
hash(int family, const uint8_t ip[16])
{
	uint64_t h = key[0] ^ (uint64_t)family, w;

	for (int i = 0; i < 16; i += 8) {
		memcpy(&w, ip + i, 8);
		h = (h ^ w ^ key[1]) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	return h | 1;
}

size_t
udpguard_in(int family, const uint8_t ip[16], size_t n, unsigned grace)
{
	uint8_t a[16] = {0};
	uint32_t now = (uint32_t)(lure_now() / 1000);
	uint64_t h;
	struct src *b, *e = NULL;

	if (!key[0])
		lure_random(key, sizeof key);
	memcpy(a, ip, family == 4 ? 4 : 16);
	h = hash(family, a);
	b = table + (h >> 32) % BUCKETS * WAYS;
	for (int i = 0; i < WAYS; i++) {
		if (b[i].tag == h) {
			e = b + i;
			break;
		}
		/* a free slot or one whose window is over */
		if (!e && (!b[i].tag || now - b[i].t >= UDPGUARD_WINDOW_S))
			e = b + i;
	}
	if (!e) /* every slot live: this datagram alone */
		e = &spare, e->tag = 0;
	if (e->tag != h || now - e->t >= UDPGUARD_WINDOW_S)
		*e = (struct src){.tag = h, .t = now};
	if (e->in < 1u << 30)
		e->in += (uint32_t)n;
	cur = e;
	if (now != g_t)
		g_t = now, g_n = 0;
	if (e->answers >= UDPGUARD_SRC_MAX || g_n >= UDPGUARD_RATE ||
	        e->in + grace <= e->out)
		return 0;
	return e->in + grace - e->out;
}

void
udpguard_out(size_t m)
{
	if (!m || !cur)
		return;
	cur->out += (uint32_t)m;
	cur->answers++;
	g_n++;
}
