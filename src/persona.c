/* persona.c: look-ups in the generated persona tables. */
#include "persona.h"

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
	n = strtol(v, &end, 10);
	return (end == v || *end) ? def : n;
}

const struct persona_kv *
persona_next(const char *key, size_t *i)
{
	size_t kl = strlen(key);

	for (; *i < persona_nkv; (*i)++)
		if (persona_kv[*i].klen == kl &&
		        memcmp(persona_kv[*i].key, key, kl) == 0)
			return &persona_kv[(*i)++];
	return NULL;
}

const struct persona_file *
persona_file(const char *name)
{
	for (size_t i = 0; i < persona_nfiles; i++)
		if (strcmp(persona_files[i].name, name) == 0)
			return &persona_files[i];
	return NULL;
}
