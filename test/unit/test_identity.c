/* test_identity.c: identity templates, the state file, ${} expansion. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "identity.h"
#include "unit.h"

static char err[200];

static int
all(const char *s, const char *set)
{
	return s[strspn(s, set)] == 0;
}

static void
test_template(void)
{
	char a[IDENTITY_VALUE_MAX], b[IDENTITY_VALUE_MAX];

	CHECK(identity_template("x", "A{hex:4}-{dec:3}-{HEX:2}", 24, a,
	              sizeof a, err, sizeof err) == 0);
	CHECK(strlen(a) == 1 + 4 + 1 + 3 + 1 + 2 && a[0] == 'A');
	CHECK(all(a + 1, "0123456789abcdef-ABCDEF"));
	/* same name, same seed: same value; another name: another stream */
	CHECK(identity_template("x", "A{hex:4}-{dec:3}-{HEX:2}", 24, b,
	              sizeof b, err, sizeof err) == 0);
	CHECK_STR(a, b);
	CHECK(identity_template("y", "A{hex:4}-{dec:3}-{HEX:2}", 24, b,
	              sizeof b, err, sizeof err) == 0);
	CHECK(strcmp(a, b) != 0);
	/* a Windows host name: WIN- and 11 of A-Z0-9 */
	CHECK(identity_template("w", "WIN-{B36:11}", 12, a, sizeof a, err,
	              sizeof err) == 0);
	CHECK(strlen(a) == 15 && !strncmp(a, "WIN-", 4));
	CHECK(all(a + 4, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"));
	CHECK(identity_template(
	              "u", "{uuid}", 6, a, sizeof a, err, sizeof err) == 0);
	CHECK(strlen(a) == 36 && a[8] == '-' && a[14] == '4' &&
	        strchr("89ab", a[19]));
	CHECK(identity_template("d", "{date:20190228:20190301:Ymd}", 28, a,
	              sizeof a, err, sizeof err) == 0);
	CHECK(!strcmp(a, "20190228") || !strcmp(a, "20190301"));
	CHECK(identity_template("d", "{date:19991231:19991231:y/m/d}", 30, a,
	              sizeof a, err, sizeof err) == 0);
	CHECK_STR(a, "99/12/31");
	CHECK(identity_template(
	              "b", "{{x}}", 5, a, sizeof a, err, sizeof err) == 0);
	CHECK_STR(a, "{x}");
	/* errors name the identity */
	CHECK(identity_template(
	              "bad", "{nope}", 6, a, sizeof a, err, sizeof err) < 0);
	CHECK(strstr(err, "identity.bad") != NULL);
	CHECK(identity_template(
	              "bad", "{hex:99}", 8, a, sizeof a, err, sizeof err) < 0);
	CHECK(identity_template(
	              "bad", "{hex:4", 6, a, sizeof a, err, sizeof err) < 0);
	CHECK(identity_template("bad", "{hexof:missing}", 15, a, sizeof a, err,
	              sizeof err) < 0);
	CHECK(identity_template("big", "{hex:64}{hex:64}{hex:64}", 24, a,
	              sizeof a, err, sizeof err) < 0);
	CHECK(strstr(err, "longer") != NULL);
}

static void
test_state_file(void)
{
	char path[] = "/tmp/lure-identity-XXXXXX", a[IDENTITY_VALUE_MAX];
	const uint8_t *p;
	uint8_t seed1[32];
	size_t n;
	int fd = mkstemp(path);
	FILE *f;

	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	/* first start: a new seed, written */
	CHECK(identity_load(path, err, sizeof err) == 0);
	memcpy(seed1, identity_seed(), 32);
	CHECK(access(path, R_OK) == 0);
	CHECK(identity_blob_put(
	              "k", (const uint8_t *)"\0\1\2", 3, err, sizeof err) == 0);
	CHECK(identity_template(
	              "t", "{hex:16}", 8, a, sizeof a, err, sizeof err) == 0);
	/* restart: same seed, same values, the blob is back */
	CHECK(identity_load(path, err, sizeof err) == 0);
	CHECK(memcmp(seed1, identity_seed(), 32) == 0);
	CHECK(identity_blob_get("k", &p, &n) == 0 && n == 3 && p[2] == 2);
	CHECK(identity_blob_get("other", &p, &n) < 0);
	{
		char b[IDENTITY_VALUE_MAX];
		CHECK(identity_template("t", "{hex:16}", 8, b, sizeof b, err,
		              sizeof err) == 0);
		CHECK_STR(a, b);
	}
	/* another instance: another seed */
	unlink(path);
	CHECK(identity_load(path, err, sizeof err) == 0);
	CHECK(memcmp(seed1, identity_seed(), 32) != 0);
	/* a damaged file is an error naming file and line */
	f = fopen(path, "a");
	CHECK(f != NULL);
	fputs("garbage\n", f);
	fclose(f);
	CHECK(identity_load(path, err, sizeof err) < 0);
	CHECK(strstr(err, path) != NULL &&
	        strstr(err, "not a lure state line"));
	unlink(path);
	/* ephemeral: nothing written */
	CHECK(identity_load("", err, sizeof err) == 0);
	CHECK(identity_blob_put(
	              "k", (const uint8_t *)"x", 1, err, sizeof err) == 0);
	CHECK(identity_blob_get("k", &p, &n) == 0 && n == 1);
}

static void
test_expand(void)
{
	char out[64];

	/* no such identity in this persona: copied as it is */
	CHECK(identity_expand("a ${nope} b", 11, out, sizeof out) == 11);
	CHECK_STR(out, "a ${nope} b");
	CHECK(identity_expand("${", 2, out, sizeof out) == 2);
	CHECK_STR(out, "${");
	CHECK(identity_expand("abcdef", 6, out, 4) == 4);
	CHECK_STR(out, "abc");
}

#if LURE_PWHASH
#include "pwhash.h"

/* {md5crypt:PW} {sha512crypt:PW}: the crypt of PW with a salt of the
 * name's stream (another name, another salt), which the hash carries */
static void
test_crypt(void)
{
	char a[IDENTITY_VALUE_MAX], b[IDENTITY_VALUE_MAX], why[160],
	        again[PWHASH_MAX];

	CHECK(identity_template("r1", "{md5crypt:admin}", 16, a, sizeof a, why,
	              sizeof why) == 0);
	CHECK(strlen(a) == 34 && memcmp(a, "$1$", 3) == 0 && a[11] == '$');
	pwhash_md5crypt("admin", 5, a + 3, 8, again);
	CHECK_STR(again, a);
	CHECK(identity_template("r2", "{md5crypt:admin}", 16, b, sizeof b, why,
	              sizeof why) == 0);
	CHECK(strcmp(a, b) != 0);
	CHECK(identity_template("r1", "{sha512crypt:123456}", 20, a, sizeof a,
	              why, sizeof why) == 0);
	CHECK(strlen(a) == 106 && memcmp(a, "$6$", 3) == 0 && a[19] == '$');
	pwhash_sha512crypt("123456", 6, a + 3, 16, again);
	CHECK_STR(again, a);
}
#endif

const struct unit_test unit_identity[] = {
        {"template", test_template},
        {"state_file", test_state_file},
        {"expand", test_expand},
#if LURE_PWHASH
        {"crypt", test_crypt},
#endif
        {0, 0},
};
