/* sshlimit.c: the daemon's limit on connections that have not logged in,
 * so that a crowd of them meets what the claimed daemon does, not a
 * honeypot's safety net (the core's limits.per_ip stays behind it).
 *
 * - sshd (OpenSSH 9.2 sshd.c, drop_connection() and server_accept_loop()):
 *   MaxStartups start:rate:full, Debian's default 10:30:100. With start or
 *   more connections not yet authenticated, a new one is dropped with
 *   probability rate%, rising linearly to 100% at full; a dropped one gets
 *   "Exceeded MaxStartups\r\n" and the close. All sources count together.
 * - dropbear (2022.83 svr-main.c): a new connection is closed at once,
 *   without a byte, when MAX_UNAUTH_PER_IP (5) connections from its
 *   address or MAX_UNAUTH_CLIENTS (30) in all have not logged in. The
 *   address is compared as text, as dropbear does.
 *
 * A connection holds its place from the accept until its login succeeds
 * or it closes (sshd's startup pipe, dropbear's childpipe). */
#include <string.h>

#include "lure.h"
#include "sshlimit.h"

static struct {
	char addr[46];
	uint8_t used;
} place[SSHLIMIT_MAX];
static unsigned held;

enum sshlimit_verdict
sshlimit_admit(const struct sshlimit *l, const char *addr, uint8_t *id)
{
	unsigned from = 0, free_at = SSHLIMIT_MAX;

	*id = 0;
	for (unsigned i = 0; i < SSHLIMIT_MAX; i++) {
		if (!place[i].used) {
			if (free_at == SSHLIMIT_MAX)
				free_at = i;
			continue;
		}
		from += strcmp(place[i].addr, addr) == 0;
	}
	if (l->per_addr && (from >= l->per_addr || held >= l->total))
		return SSHLIMIT_DROP;
	if (l->start && held >= l->start) {
		unsigned p = 100, r;
		if (held <
		        l->full) /* sshd: rate + (100 - rate) * over / span */
			p = l->rate + (100 - l->rate) * (held - l->start) /
			                      (l->full - l->start);
		lure_random(&r, sizeof r);
		if (r % 100 < p)
			return SSHLIMIT_EXCEEDED;
	}
	if (!l->per_addr && !l->start)
		return SSHLIMIT_OK; /* no rule: nothing to hold */
	if (free_at == SSHLIMIT_MAX)
		return l->start ? SSHLIMIT_EXCEEDED : SSHLIMIT_DROP;
	{
		size_t n = strnlen(addr, sizeof place[0].addr - 1);
		memcpy(place[free_at].addr, addr, n);
		place[free_at].addr[n] = 0;
	}
	place[free_at].used = 1;
	held++;
	*id = (uint8_t)(free_at + 1);
	return SSHLIMIT_OK;
}

void
sshlimit_done(uint8_t *id)
{
	if (!*id || *id > SSHLIMIT_MAX || !place[*id - 1].used)
		return;
	place[*id - 1].used = 0;
	held--;
	*id = 0;
}

unsigned
sshlimit_count(void)
{
	return held;
}
