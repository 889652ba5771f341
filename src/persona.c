/* persona.c: look-ups in the generated persona tables. */
#include "persona.h"
#include "fmt.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

const char *
persona_get(const char *key, size_t *len)
{
	size_t i = 0;
	const struct persona_kv *kv = persona_next(key, &i);

	if (kv && len)
		*len = kv->len;
	return kv ? kv->val : NULL;
}

long
persona_int(const char *key, long def)
{
	const char *v = persona_get(key, NULL);
	char *end;
	long n;

	if (!v)
		return def;
	n = fmt_strtol(v, &end, 10);
	return (end == v || *end) ? def : n;
}

/* Where each key last looked up first and last appears, and its offset in
 * persona_keys[] (or none): emulators look up the same dozen keys on every
 * request, and a scan of every entry with a string compare each was a sixth
 * of an HTTP request's instructions. Slots are picked by the address of the
 * caller's key (a literal, nearly always) and checked against a copy of its
 * text, so a key built in a buffer is only slower, never wrong. */
enum { MEMO_N = 32, MEMO_KEY = 40, MEMO_NONE = 0xffff };
static struct {
	char key[MEMO_KEY];
	uint16_t first, last, off;
} memo[MEMO_N];

/* m (a remembered key, not empty) is key: one pass, no strlen */
static int
memo_is(const char *m, const char *key)
{
	while (*m && *m == *key)
		m++, key++;
	return *m == *key;
}

const struct persona_kv *
persona_next(const char *key, size_t *i)
{
	size_t kl, h = ((uintptr_t)key >> 2) % MEMO_N;
	uint16_t off = MEMO_NONE;
	size_t end = persona_nkv;

	if (memo[h].key[0] && memo_is(memo[h].key, key)) {
		if (memo[h].off == MEMO_NONE)
			return NULL;
		off = memo[h].off;
		end = (size_t)memo[h].last + 1;
		if (*i < memo[h].first)
			*i = memo[h].first;
	} else {
		size_t j = 0;
		kl = strlen(key);
		while (j < persona_nkv &&
		        !(persona_kv[j].klen == kl &&
		                memcmp(persona_key(&persona_kv[j]), key, kl) ==
		                        0))
			j++;
		if (j < persona_nkv)
			off = persona_kv[j].key;
		if (kl && kl < MEMO_KEY) {
			size_t l = j;
			for (size_t k = j; k < persona_nkv; k++)
				if (persona_kv[k].key == off)
					l = k;
			memcpy(memo[h].key, key, kl + 1);
			memo[h].first = (uint16_t)j;
			memo[h].last = (uint16_t)l;
			memo[h].off = off;
		}
		if (off == MEMO_NONE)
			return NULL;
		if (*i < j)
			*i = j;
	}
	for (; *i < end; (*i)++)
		if (persona_kv[*i].key == off)
			return &persona_kv[(*i)++];
	return NULL;
}

int
persona_accepts(
        const char *key, const void *user, size_t un, const void *pw, size_t pn)
{
	size_t i = 0;
	const struct persona_kv *kv;

	while ((kv = persona_next(key, &i))) {
		const char *colon = memchr(kv->val, ':', kv->len);
		size_t ku, kp;
		if (!colon)
			continue;
		ku = (size_t)(colon - kv->val);
		kp = kv->len - ku - 1;
		if (!(ku == 1 && kv->val[0] == '*') &&
		        !(ku == un && memcmp(kv->val, user, un) == 0))
			continue;
		if ((kp == 1 && colon[1] == '*') ||
		        (kp == pn && memcmp(colon + 1, pw, pn) == 0))
			return 1;
	}
	return 0;
}

/* tools/mkpersona writes the files sorted by name (strcmp) */
const struct persona_file *
persona_file(const char *name)
{
	size_t lo = 0, hi = persona_nfiles;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(persona_files[mid].name, name);
		if (c == 0)
			return &persona_files[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
