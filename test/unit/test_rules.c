/* test_rules.c: each rule of the table against the request that carries
 * its exploit (as nuclei and bots send it) and against near misses. */
#include "rules.h"
#include "unit.h"

static const struct rule *
one(const char *method, const char *path, const char *query, const char *body)
{
	struct rules_req q = {"http", (const uint8_t *)method, strlen(method),
	        (const uint8_t *)path, strlen(path), (const uint8_t *)query,
	        query ? strlen(query) : 0, (const uint8_t *)body,
	        body ? strlen(body) : 0};
	size_t i = 0;

	return rules_match(&q, &i);
}

static const char *
vuln(const char *method, const char *path, const char *query, const char *body)
{
	const struct rule *r = one(method, path, query, body);
	return r ? (r->vuln ? r->vuln : "(none)") : "";
}

static void
test_cve_2021_36260(void)
{
	const char *b = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
	                "<language>$(cat /etc/passwd>webLib/x)</language>";

	CHECK_STR(vuln("PUT", "/SDK/webLanguage", NULL, b), "CVE-2021-36260");
	CHECK_STR(vuln("PUT", "/sdk/weblanguage", NULL,
	                  "<language>`reboot`</language>"),
	        "CVE-2021-36260");
	CHECK(one("PUT", "/SDK/webLanguage", NULL, b)->payload == RULES_BODY);
	/* a plain language change, another method, another path */
	CHECK_STR(vuln("PUT", "/SDK/webLanguage", NULL,
	                  "<language>en</language>"),
	        "");
	CHECK_STR(vuln("GET", "/SDK/webLanguage", NULL, b), "");
	CHECK_STR(vuln("PUT", "/SDK/webLanguage2", NULL, b), "");
	CHECK_STR(vuln("PUT", "/SDK/webLanguage", NULL, NULL), "");
}

static void
test_cve_2017_7921(void)
{
	CHECK_STR(vuln("GET", "/system/deviceInfo", "auth=YWRtaW46MTEK", NULL),
	        "CVE-2017-7921");
	CHECK_STR(vuln("GET", "/Security/users", "auth=YWRtaW46MTEK", NULL),
	        "CVE-2017-7921");
	CHECK_STR(
	        vuln("GET", "/onvif-http/snapshot", "auth=YWRtaW46MTEK", NULL),
	        "CVE-2017-7921");
	CHECK_STR(vuln("GET", "/System/configurationFile", "auth=YWRtaW46MTEK",
	                  NULL),
	        "CVE-2017-7921");
	CHECK_STR(vuln("GET", "/system/deviceInfo", NULL, NULL), "");
	CHECK_STR(vuln("GET", "/ISAPI/System/deviceInfo", "auth=x", NULL), "");
}

static void
test_others(void)
{
	CHECK_STR(vuln("POST", "/ctrlt/DeviceUpgrade_1", NULL, "<x/>"),
	        "CVE-2017-17215");
	CHECK_STR(vuln("POST", "/picsdesc.xml", NULL,
	                  "<NewInternalClient>`cd /tmp`</NewInternalClient>"),
	        "CVE-2014-8361");
	CHECK_STR(vuln("POST", "/picsdesc.xml", NULL,
	                  "<NewInternalClient>192.0.2.1</NewInternalClient>"),
	        "");
	CHECK_STR(vuln("POST", "/GponForm/diag_Form", "images/", "x"),
	        "CVE-2018-10561");
	CHECK_STR(vuln("POST", "/tmUnblock.cgi", NULL, "ttcp_ip=-h `id`"),
	        "(none)");
}

static void
test_table(void)
{
	/* every rule is well formed and names itself uniquely */
	for (size_t i = 0; i < rules_count; i++) {
		const struct rule *r = &rules_table[i];
		CHECK(r->name && r->protocol && r->tags && *r->tags);
		CHECK(r->how == RULES_ANY || r->path);
		for (size_t j = 0; j < i; j++)
			CHECK(strcmp(r->name, rules_table[j].name) != 0);
	}
	/* another protocol never matches http rules */
	{
		struct rules_req q = {"rtsp", (const uint8_t *)"PUT", 3,
		        (const uint8_t *)"/SDK/webLanguage", 16, NULL, 0,
		        (const uint8_t *)"<language>$(x)</language>", 25};
		size_t i = 0;
		CHECK(rules_match(&q, &i) == NULL);
		CHECK(i == rules_count);
	}
}

const struct unit_test unit_rules[] = {
        {"cve_2021_36260", test_cve_2021_36260},
        {"cve_2017_7921", test_cve_2017_7921},
        {"others", test_others},
        {"table", test_table},
        {0, 0},
};
