/* rules.h: the compiled-in exploit rule table. Each rule names a known
 * exploit by what its request looks like (protocol, method, path, query,
 * body) and gives the vulnerability id and tags an "exploit" event carries.
 * Emulators describe a request with struct rules_req and ask rules_match();
 * the table is shared by every persona (HTTP today, shell commands later).
 * Matching is on raw bytes: paths compare case-insensitively (devices'
 * web servers do), query and body substrings case-sensitively. */
#ifndef LURE_RULES_H
#define LURE_RULES_H

#include <stddef.h>
#include <stdint.h>

/* how a rule's path compares with the request's */
enum rules_path { RULES_ANY, RULES_EQ, RULES_PREFIX, RULES_CONTAINS };

/* decoding the extractor applies to the part holding the payload */
enum rules_part { RULES_NONE, RULES_QUERY, RULES_BODY };

struct rule {
	const char *name; /* short id for logs and tests */
	const char *protocol; /* "http" */
	const char *method; /* NULL: any */
	enum rules_path how;
	const char *path;
	const char *query; /* substring the query must hold, NULL: any */
	const char *body; /* substring the body must hold, NULL: any */
	const char *body_any[3]; /* and one of these (none set: no check) */
	const char *vuln; /* vulnerability.id, NULL for none */
	const char *tags; /* comma-separated tags */
	enum rules_part payload; /* where commands and URLs are */
	unsigned ind_flags; /* indicators_extract() flags for it */
};

struct rules_req {
	const char *protocol;
	const uint8_t *method;
	size_t method_len;
	const uint8_t *path; /* without the query */
	size_t path_len;
	const uint8_t *query; /* after '?', may be NULL */
	size_t query_len;
	const uint8_t *body; /* may be NULL */
	size_t body_len;
};

extern const struct rule rules_table[];
extern const size_t rules_count;

/* The first rule that matches, from *i on (start with *i = 0; it is left
 * after the match so a caller can ask for more), or NULL. */
const struct rule *
rules_match(const struct rules_req *q, size_t *i);

#endif
