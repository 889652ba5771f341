/* indicators.h: what an attacker's text tells: the shell commands injected
 * through $(...), backticks or a ';' (command injection payloads), and the
 * URLs and IPv4 addresses it names (droppers), after URL-decoding and XML
 * entity decoding (NUL bytes then read as spaces). Pure text in, fixed storage out: nothing is run or
 * fetched. Event fields (indicators_event): lure.command (array of the
 * commands), lure.indicators.url and lure.indicators.ip (arrays). */
#ifndef LURE_INDICATORS_H
#define LURE_INDICATORS_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

#define IND_MAX 16 /* items of each kind */
#define IND_TEXT 4096 /* decoded text and item storage, each */

/* flags for indicators_extract */
#define IND_URLDECODE 1 /* %XX and '+' (form and query encoding) */
#define IND_XML 2 /* &lt; &gt; &amp; &quot; &apos; &#N; &#xN; */
#define IND_SEMI 4 /* "x;cmd" is an injection when no $( or ` is found */

struct ind_result {
	char text[IND_TEXT]; /* the decoded input, NUL-terminated */
	size_t text_len;
	char store[IND_TEXT]; /* the items, NUL-terminated strings */
	size_t used;
	const char *command[IND_MAX], *url[IND_MAX], *ip[IND_MAX];
	size_t ncommand, nurl, nip;
	int truncated; /* input or items did not fit */
};

/* Decode s[0..n) as flags say into r->text, then extract. */
void
indicators_extract(
        const uint8_t *s, size_t n, unsigned flags, struct ind_result *r);

/* %XX (and '+' as a space when plus) decoding; returns the length written
 * (at most cap). Invalid escapes are copied as they are. */
size_t
indicators_urldecode(
        const uint8_t *in, size_t n, uint8_t *out, size_t cap, int plus);

/* Add lure.command, lure.indicators.url, lure.indicators.ip (the kinds
 * that have items) to e (NULL is fine). */
void
indicators_event(struct event *e, const struct ind_result *r);

#endif
