/* wsse.c: the WS-Security UsernameToken of a SOAP body (ONVIF clients
 * send it with every request): its elements found by name, any namespace
 * prefix. Used by emu/http.c. */
#include <stdint.h>
#include <string.h>

#include "httpparse.h"
#include "wsse.h"

static const char *const tags[WSSE__MAX] = {
        "Username", "Password", "Nonce", "Created"};

/* The text of the first element named tag (any namespace prefix). */
static int
xml_text(const uint8_t *b, size_t n, const char *tag, const uint8_t **v,
        size_t *vl, const uint8_t **attrs, size_t *al)
{
	size_t m = strlen(tag);

	for (size_t i = 0; i + m + 1 < n; i++) {
		size_t j = i + 1, k;
		if (b[i] != '<')
			continue;
		while (j < n && b[j] != ':' && b[j] != '>' && b[j] != ' ' &&
		        b[j] != '/' && b[j] != '<')
			j++;
		j = j < n && b[j] == ':' ? j + 1 : i + 1;
		if (n - j < m + 1 || memcmp(b + j, tag, m) != 0 ||
		        (b[j + m] != '>' && b[j + m] != ' '))
			continue;
		for (k = j + m; k < n && b[k] != '>'; k++)
			;
		if (k >= n)
			return 0;
		if (attrs)
			*attrs = b + j + m, *al = k - j - m;
		*v = b + k + 1;
		for (k++; k < n && b[k] != '<'; k++)
			;
		*vl = (size_t)(b + k - *v);
		return 1;
	}
	return 0;
}

int
wsse_parse(const uint8_t *b, size_t n, struct wsse *w)
{
	const uint8_t *at = NULL, *tok;
	size_t al = 0;

	memset(w, 0, sizeof *w);
	if (!(tok = httpparse_find(b, n, "UsernameToken", 13)))
		return 0;
	n -= (size_t)(tok - b);
	b = tok;
	for (unsigned k = 0; k < WSSE__MAX; k++)
		xml_text(b, n, tags[k], &w->v[k], &w->n[k],
		        k == WSSE_PASSWORD ? &at : NULL, &al);
	w->digest = at && httpparse_find(at, al, "PasswordDigest", 14);
	return w->v[WSSE_USERNAME] != NULL;
}
