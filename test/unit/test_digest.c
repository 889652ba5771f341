/* test_digest.c: the Digest parameter parser on what scanners send, and
 * the response check on RFC 2617's example (with qop) and RFC 2069's form
 * (without). */
#include "digest.h"
#include "unit.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

static int
is(const struct digest *d, int k, const char *want)
{
	return d->v[k] && d->n[k] == strlen(want) &&
	       memcmp(d->v[k], want, d->n[k]) == 0;
}

static const char rfc2617[] =
        "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", "
        "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
        "uri=\"/dir/index.html\", qop=auth, nc=00000001, "
        "cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", "
        "opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";

static void
test_parse(void)
{
	struct digest d;

	CHECK(digest_parse(S(rfc2617), &d) == 1);
	CHECK(is(&d, DIGEST_USERNAME, "Mufasa"));
	CHECK(is(&d, DIGEST_REALM, "testrealm@host.com"));
	CHECK(is(&d, DIGEST_QOP, "auth"));
	CHECK(is(&d, DIGEST_NC, "00000001"));
	CHECK(is(&d, DIGEST_OPAQUE, "5ccc069c403ebaf9f0171e9517f40e41"));
	CHECK(d.v[DIGEST_ALGORITHM] == NULL);
	/* scheme any case; tabs, spaces around '=', the first one counts,
	 * unknown and malformed parameters skipped, escapes kept */
	CHECK(digest_parse(S("dIgEsT foo,\tusername = \"a\\\"b\", bar, "
	                     "username=x, uri=/ x=1, nonce=\"n"),
	              &d) == 1);
	CHECK(is(&d, DIGEST_USERNAME, "a\\\"b"));
	CHECK(is(&d, DIGEST_URI, "/"));
	CHECK(is(&d, DIGEST_NONCE, "n")); /* unterminated quote */
	/* not Digest, or no username */
	CHECK(digest_parse(S("Basic YWI="), &d) == 0);
	CHECK(digest_parse(S("Digest"), &d) == 0);
	CHECK(digest_parse(S("Digest realm=\"r\""), &d) == 0);
	CHECK(digest_parse(S("Digestusername=a"), &d) == 0);
	CHECK(digest_parse(S("Digest username="), &d) == 1);
	CHECK(is(&d, DIGEST_USERNAME, ""));
}

static void
test_check(void)
{
	struct digest d;

	CHECK(digest_parse(S(rfc2617), &d) == 1);
	CHECK(digest_check(&d, S("GET"), S("testrealm@host.com"),
	              S("Circle Of Life")) == 1);
	CHECK(digest_check(&d, S("GET"), S("testrealm@host.com"),
	              S("circle of life")) == 0);
	CHECK(digest_check(&d, S("POST"), S("testrealm@host.com"),
	              S("Circle Of Life")) == 0);
	/* RFC 2069: no qop, HA1:nonce:HA2; the response in any case */
	CHECK(digest_parse(S("Digest username=\"Mufasa\", "
	                     "nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", "
	                     "uri=\"/dir/index.html\", "
	                     "response=\"670FD8C2DF070C60B045671B8B24FF02\""),
	              &d) == 1);
	CHECK(digest_check(&d, S("GET"), S("testrealm@host.com"),
	              S("Circle Of Life")) == 1);
	/* missing uri, or a response that is not 32 digits */
	CHECK(digest_parse(S("Digest username=\"Mufasa\", nonce=\"x\", "
	                     "response=\"670fd8c2df070c60b045671b8b24ff02\""),
	              &d) == 1);
	CHECK(digest_check(&d, S("GET"), S("r"), S("p")) == 0);
	CHECK(digest_parse(S("Digest username=a, nonce=x, uri=/, response=ab"),
	              &d) == 1);
	CHECK(digest_check(&d, S("GET"), S("r"), S("p")) == 0);
}

static void
test_nonce(void)
{
	char a[33], b[33];

	digest_nonce_random(a);
	digest_nonce_random(b);
	CHECK(strlen(a) == 32 && strspn(a, "0123456789abcdef") == 32);
	CHECK(strcmp(a, b) != 0);
}

const struct unit_test unit_digest[] = {
        {"parse", test_parse},
        {"check", test_check},
        {"nonce", test_nonce},
        {0, 0},
};
