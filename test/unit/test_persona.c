/* test_persona.c: the persona look-ups (src/persona.c) against a plain scan
 * of the generated tables, cold and remembered, with keys in buffers whose
 * text changes between calls. */
#include <stdio.h>
#include <string.h>

#include "persona.h"
#include "unit.h"

/* every value of key, the slow way: indexes into persona_kv[] */
static size_t
scan(const char *key, size_t *out, size_t cap)
{
	size_t n = 0, kl = strlen(key);

	for (size_t i = 0; i < persona_nkv; i++)
		if (persona_kv[i].klen == kl &&
		        memcmp(persona_key(&persona_kv[i]), key, kl) == 0 &&
		        n < cap)
			out[n++] = i;
	return n;
}

static int
same(const char *key)
{
	static size_t want[4096];
	size_t n = scan(key, want, 4096), i = 0, k = 0;
	const struct persona_kv *kv;
	size_t len = 99;
	const char *v = persona_get(key, &len);

	if (n ? !(v == persona_kv[want[0]].val &&
	                len == persona_kv[want[0]].len)
	      : v != NULL)
		return 0;
	while ((kv = persona_next(key, &i)))
		if (k == n || kv != &persona_kv[want[k++]])
			return 0;
	return k == n;
}

static void
test_every_key(void)
{
	/* twice: the first pass fills the memory, the second reads it */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < persona_nkv; i++)
			CHECK(same(persona_key(&persona_kv[i])));
	CHECK(same("no.such.key"));
	CHECK(same("no.such.key"));
	CHECK(same(""));
	CHECK(same("a.key.longer.than.the.forty.bytes.remembered.per.key"));
}

/* one buffer, many keys: a remembered address must not answer for the
 * text it held before */
static void
test_buffer_key(void)
{
	char buf[64];

	CHECK(persona_nkv > 1);
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < persona_nkv; i += 7) {
			snprintf(buf, sizeof buf, "%s",
			        persona_key(&persona_kv[i]));
			CHECK(same(buf));
			snprintf(buf, sizeof buf, "%s.x",
			        persona_key(&persona_kv[i]));
			CHECK(same(buf));
			buf[0] = 0;
			CHECK(same(buf));
		}
}

static void
test_files(void)
{
	char name[300];

	for (size_t i = 0; i < persona_nfiles; i++) {
		CHECK(persona_file(persona_files[i].name) == &persona_files[i]);
		snprintf(name, sizeof name, "%s~", persona_files[i].name);
		CHECK(persona_file(name) == NULL);
		snprintf(name, sizeof name, "%s", persona_files[i].name);
		name[strlen(name) - 1] = 0;
		CHECK(!persona_file(name) ||
		        strcmp(persona_file(name)->name, name) == 0);
	}
	CHECK(persona_file("") == NULL);
	CHECK(persona_file("\xff") == NULL);
}

const struct unit_test unit_persona[] = {
        {"every_key", test_every_key},
        {"buffer_key", test_buffer_key},
        {"files", test_files},
        {0, 0},
};
