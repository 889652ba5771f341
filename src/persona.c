/* persona.c: look-ups in the generated persona tables. */
#include "persona.h"
#include "fmt.h"

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

const struct persona_kv *
persona_next(const char *key, size_t *i)
{
	size_t kl = strlen(key);

	for (; *i < persona_nkv; (*i)++)
		if (persona_kv[*i].klen == kl &&
		        memcmp(persona_key(&persona_kv[*i]), key, kl) == 0)
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

const struct persona_file *
persona_file(const char *name)
{
	for (size_t i = 0; i < persona_nfiles; i++)
		if (strcmp(persona_files[i].name, name) == 0)
			return &persona_files[i];
	return NULL;
}
