/* test_config.c: every config error names file:line:column and the key. */
#include <stdio.h>
#include <unistd.h>

#include "config.h"
#include "unit.h"

static char errbuf[1024];

/* Parse json as "t.json" with stderr captured into errbuf. */
static int
parse(const char *json, struct config *c)
{
	FILE *tmp = tmpfile();
	int saved = dup(2), r;
	size_t n;

	fflush(stderr);
	dup2(fileno(tmp), 2);
	r = config_parse(c, "t.json", json, strlen(json));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	rewind(tmp);
	n = fread(errbuf, 1, sizeof errbuf - 1, tmp);
	errbuf[n] = 0;
	fclose(tmp);
	return r;
}

static const struct {
	const char *json, *msg;
} bad[] = {
        {"", "lure: t.json:1:1: unexpected end of file\n"},
        {"[]", "lure: t.json:1:1: the top level must be an object\n"},
        {"{\"sensor_id\": \"a\",}", "lure: t.json:1:19: invalid JSON\n"},
        {"{\n  \"sensor_idd\": \"a\"\n}",
                "lure: t.json:2:3: key \"sensor_idd\": unknown key\n"},
        {"{\"limits\": {\n\t\"max_connz\": 5}}",
                "lure: t.json:2:2: key \"limits.max_connz\": unknown key\n"},
        {"{\"limits\": {\"max_conns\": \"10\"}}",
                "lure: t.json:1:26: key \"limits.max_conns\": expected an "
                "integer from 1 to 65536\n"},
        {"{\"limits\": {\"max_conns\": -1}}",
                "lure: t.json:1:26: key \"limits.max_conns\": expected an "
                "integer from 1 to 65536\n"},
        {"{\"limits\": {\"max_conns\": 1.5}}",
                "lure: t.json:1:26: key \"limits.max_conns\": expected an "
                "integer from 1 to 65536\n"},
        {"{\"limits\": 3}",
                "lure: t.json:1:12: key \"limits\": expected an object\n"},
        {"{\"exclude\": [\"10.0.0.0/33\"]}",
                "lure: t.json:1:14: key \"exclude\": expected an IP address or "
                "CIDR\n"},
        {"{\"listen\": [\"localhost\"]}",
                "lure: t.json:1:13: key \"listen\": expected an IPv4 or IPv6 "
                "address\n"},
        {"{\"listen\": []}",
                "lure: t.json:1:12: key \"listen\": must not be empty\n"},
        {"{\"ports\": {\"9999\": 1}}", "lure: t.json:1:12: key \"ports.9999\": "
                                       "the persona has no such "
                                       "port\n"},
        {"{\"ports\": {\"23\": 70000}}", "lure: t.json:1:18: key \"ports.23\": "
                                         "expected an integer from 0 "
                                         "to 65535\n"},
        {"{\"user\": \"a\", \"user\": \"b\"}",
                "lure: t.json:1:15: key \"user\": duplicate key\n"},
        {"{\"run_as_root\": 1}", "lure: t.json:1:17: key \"run_as_root\": "
                                 "expected true or false\n"},
        {"{\"sensor_id\": 7}",
                "lure: t.json:1:15: key \"sensor_id\": expected a string\n"},
        {"{\"sensor_id\": \"\"}",
                "lure: t.json:1:15: key \"sensor_id\": must not be empty\n"},
        {"{} {}", "lure: t.json:1:4: invalid JSON\n"},
        {"{\"output\": {\"file\": \"/tmp/x\"",
                "lure: t.json:1:29: unexpected end of file\n"},
        {"{\"a\": 1 \"b\": 2}", "lure: t.json:1:9: invalid JSON\n"},
        {"{\"limits\": {\"max_conns\": 01}}",
                "lure: t.json:1:27: invalid JSON\n"},
        {"{\"a\": [1,]}", "lure: t.json:1:10: invalid JSON\n"},
        {"{\"sensor_id\": \"a\\u0041\"}",
                "lure: t.json:1:15: key \"sensor_id\": \\u escapes are not "
                "supported\n"},
};

static void
test_errors(void)
{
	struct config c;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		if (parse(bad[i].json, &c) != -1)
			unit_fail(__FILE__, __LINE__, bad[i].json);
		else if (strcmp(errbuf, bad[i].msg) != 0)
			unit_fail(__FILE__, __LINE__, errbuf);
	}
}

static void
test_good(void)
{
	struct config c;

	CHECK(parse("{\"sensor_id\": \"s9\", \"listen\": [\"127.0.0.1\", "
	            "\"::1\"], \"port_offset\": 100, \"ports\": {\"23\": 0, "
	            "\"80\": 81}, \"exclude\": [\"10.0.0.0/8\", \"::1\"], "
	            "\"limits\": {\"max_conns\": 8, \"per_ip\": 2}, "
	            "\"output\": {\"file\": \"/tmp/x\"}, \"user\": \"nobody\", "
	            "\"run_as_root\": false, \"heartbeat\": 30}",
	              &c) == 0);
	CHECK_STR(errbuf, "");
	CHECK_STR(c.sensor_id, "s9");
	CHECK(c.nlisten == 2 && c.port_offset == 100);
	CHECK(c.nportmap == 2 && c.portmap[0].from == 23 &&
	        c.portmap[0].to == 0);
	CHECK(c.max_conns == 8 && c.per_ip == 2 && c.idle_timeout == 60);
	CHECK(c.heartbeat == 30 && !c.run_as_root);
	CHECK_STR(c.output_file, "/tmp/x");
}

static void
test_cidr(void)
{
	struct cidr c;
	uint8_t a[16] = {10, 1, 2, 3}, b[16] = {11, 0, 0, 0};
	uint8_t v6[16] = {
	        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

	CHECK(config_cidr("10.0.0.0/8", &c) == 0);
	CHECK(config_cidr_match(&c, 4, a) && !config_cidr_match(&c, 4, b));
	CHECK(!config_cidr_match(&c, 6, a));
	CHECK(config_cidr("10.1.2.0/23", &c) == 0 &&
	        config_cidr_match(&c, 4, a));
	CHECK(config_cidr("10.1.2.4/31", &c) == 0 &&
	        !config_cidr_match(&c, 4, a));
	CHECK(config_cidr("0.0.0.0/0", &c) == 0 && config_cidr_match(&c, 4, b));
	CHECK(config_cidr("2001:db8::/32", &c) == 0 &&
	        config_cidr_match(&c, 6, v6));
	CHECK(config_cidr("2001:db8::2", &c) == 0 &&
	        !config_cidr_match(&c, 6, v6));
	CHECK(config_cidr("1.2.3.4/", &c) == -1);
	CHECK(config_cidr("1.2.3.4/x", &c) == -1);
	CHECK(config_cidr("::/129", &c) == -1);
}

const struct unit_test unit_config[] = {
        {"errors", test_errors},
        {"good", test_good},
        {"cidr", test_cidr},
        {0, 0},
};
