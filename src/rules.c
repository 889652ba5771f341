/* rules.c: the rule table (data) and its matcher. Sources for each rule's
 * request shape are noted beside it; add rules here, with a vector in
 * test/unit/test_rules.c. */
#include <string.h>

#include "indicators.h"
#include "rules.h"

#define CMDI                    \
	{                       \
		"$(", "`", NULL \
	}

const struct rule rules_table[] = {
        /* Hikvision web server command injection: PUT with
         * <language>$(cmd)</language> (nuclei CVE-2021-36260, bashis'
         * PoC); a plain language change is not an attack */
        {"hikvision-weblanguage-cmdi", "http", "PUT", RULES_EQ,
                "/SDK/webLanguage", NULL, "<language>", CMDI, "CVE-2021-36260",
                "exploit,hikvision,command_injection,rce", RULES_BODY,
                IND_XML | IND_URLDECODE},
        /* Hikvision auth bypass with ?auth=<base64 user:pass> (nuclei
         * CVE-2017-7921 and the scripts around it) */
        {"hikvision-auth-bypass-deviceinfo", "http", NULL, RULES_EQ,
                "/system/deviceInfo", "auth=", NULL, {NULL, NULL, NULL},
                "CVE-2017-7921", "exploit,hikvision,auth_bypass", RULES_NONE,
                0},
        {"hikvision-auth-bypass-users", "http", NULL, RULES_EQ,
                "/Security/users", "auth=", NULL, {NULL, NULL, NULL},
                "CVE-2017-7921", "exploit,hikvision,auth_bypass", RULES_NONE,
                0},
        {"hikvision-auth-bypass-snapshot", "http", NULL, RULES_PREFIX,
                "/onvif-http/snapshot", "auth=", NULL, {NULL, NULL, NULL},
                "CVE-2017-7921", "exploit,hikvision,auth_bypass", RULES_NONE,
                0},
        {"hikvision-auth-bypass-config", "http", NULL, RULES_EQ,
                "/System/configurationFile", "auth=", NULL, {NULL, NULL, NULL},
                "CVE-2017-7921", "exploit,hikvision,auth_bypass", RULES_NONE,
                0},
        /* Huawei HG532 UPnP DeviceUpgrade injection (Mirai/Satori) */
        {"huawei-hg532-upgrade", "http", "POST", RULES_EQ,
                "/ctrlt/DeviceUpgrade_1", NULL, NULL, {NULL, NULL, NULL},
                "CVE-2017-17215", "exploit,huawei,command_injection,rce",
                RULES_BODY, IND_XML},
        /* Realtek SDK miniigd SOAP AddPortMapping injection */
        {"realtek-miniigd-soap", "http", "POST", RULES_EQ, "/picsdesc.xml",
                NULL, "NewInternalClient", CMDI, "CVE-2014-8361",
                "exploit,realtek,command_injection,rce", RULES_BODY, IND_XML},
        /* GPON home gateways: auth bypass "images/" plus diag injection */
        {"gpon-diag-form", "http", NULL, RULES_PREFIX, "/GponForm/diag_Form",
                "images/", NULL, {NULL, NULL, NULL}, "CVE-2018-10561",
                "exploit,gpon,auth_bypass,rce", RULES_BODY,
                IND_URLDECODE | IND_SEMI},
        /* Linksys E-series "TheMoon" worm */
        {"linksys-tmunblock", "http", "POST", RULES_EQ, "/tmUnblock.cgi", NULL,
                NULL, {NULL, NULL, NULL}, NULL,
                "exploit,linksys,command_injection,themoon", RULES_BODY,
                IND_URLDECODE | IND_SEMI},
};
const size_t rules_count = sizeof rules_table / sizeof rules_table[0];

static int
rules_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int
rules_ieq(const uint8_t *s, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (rules_lower(s[i]) != rules_lower((uint8_t)lit[i]))
			return 0;
	return 1;
}

static int
rules_has(const uint8_t *s, size_t n, const char *lit, int fold)
{
	size_t m = strlen(lit);

	if (!s)
		return 0;
	for (size_t i = 0; m <= n && i <= n - m; i++) {
		size_t j = 0;
		while (j < m &&
		        (fold ? rules_lower(s[i + j]) ==
		                                rules_lower((uint8_t)lit[j])
		              : s[i + j] == (uint8_t)lit[j]))
			j++;
		if (j == m)
			return 1;
	}
	return 0;
}

static int
rules_path_ok(const struct rule *r, const struct rules_req *q)
{
	size_t m = r->path ? strlen(r->path) : 0;

	switch (r->how) {
	case RULES_ANY: return 1;
	case RULES_EQ: return rules_ieq(q->path, q->path_len, r->path);
	case RULES_PREFIX:
		return q->path_len >= m && rules_ieq(q->path, m, r->path);
	case RULES_CONTAINS: return rules_has(q->path, q->path_len, r->path, 1);
	}
	return 0;
}

const struct rule *
rules_match(const struct rules_req *q, size_t *i)
{
	for (; *i < rules_count; (*i)++) {
		const struct rule *r = &rules_table[*i];
		int any = !r->body_any[0];
		if (strcmp(r->protocol, q->protocol) != 0)
			continue;
		if (r->method &&
		        !(q->method &&
		                rules_ieq(q->method, q->method_len, r->method)))
			continue;
		if (!rules_path_ok(r, q))
			continue;
		if (r->query && !rules_has(q->query, q->query_len, r->query, 0))
			continue;
		if (r->body && !rules_has(q->body, q->body_len, r->body, 0))
			continue;
		for (size_t k = 0; k < 3 && r->body_any[k] && !any; k++)
			any = rules_has(
			        q->body, q->body_len, r->body_any[k], 0);
		if (!any)
			continue;
		return &rules_table[(*i)++];
	}
	return NULL;
}
