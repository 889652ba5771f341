/* wsse.h: WS-Security UsernameToken fields of a SOAP body (src/wsse.c). */
#ifndef LURE_WSSE_H
#define LURE_WSSE_H

#include <stddef.h>
#include <stdint.h>

enum { WSSE_USERNAME, WSSE_PASSWORD, WSSE_NONCE, WSSE_CREATED, WSSE__MAX };

struct wsse {
	const uint8_t
	        *v[WSSE__MAX]; /* each field's text in the body, or NULL */
	size_t n[WSSE__MAX];
	int digest; /* Type="...#PasswordDigest" */
};

/* The UsernameToken of b[0..n) into w: 1 when it has a Username. */
int
wsse_parse(const uint8_t *b, size_t n, struct wsse *w);

#endif
