/* config.c: JSON config through jsmn (strict mode, caller-owned tokens) and
 * a table of keys. A key's path is its dotted name ("limits.max_conns"). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JSMN_STATIC
#define JSMN_STRICT
#include <jsmn.h>

#include "config.h"
#include "fmt.h"
#include "json.h"
#include "lure.h"
#include "persona.h"

#define CONFIG_MAX_BYTES (256 * 1024)
#define CONFIG_MAX_TOKENS 2048

struct config config;

enum ktype {
	K_STR,
	K_UINT,
	K_INT,
	K_BOOL,
	K_OBJ,
	K_LISTEN,
	K_EXCLUDE,
	K_PORTS,
	K_IFACES,
	K_URL
};

/* 24 bytes an entry on 64-bit targets (was 48) */
struct key {
	const char *path;
	uint8_t type; /* enum ktype */
	uint16_t off, size; /* K_STR: buffer size */
	int32_t min, max;
};
_Static_assert(sizeof(struct config) <= 65535, "config offsets in 16 bits");

#define F(m) offsetof(struct config, m), sizeof(((struct config *)0)->m)
static const struct key keys[] = {
        {"sensor_id", K_STR, F(sensor_id), 1, 0},
        {"hostname", K_STR, F(hostname), 1, 0},
        {"observer_hostname", K_STR, F(observer_host), 1, 0},
        {"listen", K_LISTEN, 0, 0, 0, 0},
        {"port_offset", K_INT, F(port_offset), 0, 65535},
        {"ports", K_PORTS, 0, 0, 0, 0},
        {"exclude", K_EXCLUDE, 0, 0, 0, 0},
        {"limits", K_OBJ, 0, 0, 0, 0},
        {"limits.max_conns", K_UINT, F(max_conns), 1, 65536},
        {"limits.per_ip", K_UINT, F(per_ip), 1, 65536},
        {"limits.udp_grace", K_UINT, F(udp_grace), 0, 65536},
        {"limits.idle_timeout", K_UINT, F(idle_timeout), 1, 86400},
        {"limits.ipv6_prefix", K_UINT, F(ipv6_prefix), 1, 128},
        {"limits.request_timeout", K_UINT, F(request_timeout), 1, 86400},
        {"limits.refused_window", K_UINT, F(refused_window), 1, 86400},
        {"limits.session_timeout", K_UINT, F(session_timeout), 1, 604800},
        {"limits.max_input", K_UINT, F(max_input), 1, 1L << 30},
        {"limits.in_buf", K_UINT, F(in_buf), 512, 1 << 20},
        {"limits.out_buf", K_UINT, F(out_buf), 512, 1 << 20},
        {"limits.outbox_bytes", K_UINT, F(outbox_bytes), 65536, 1L << 30},
        {"output", K_OBJ, 0, 0, 0, 0},
        {"output.file", K_STR, F(output_file), 1, 0},
        {"user", K_STR, F(user), 1, 0},
        {"state_file", K_STR, F(state_file), 0, 0},
        {"run_as_root", K_BOOL, F(run_as_root), 0, 1},
        {"heartbeat", K_UINT, F(heartbeat), 0, 86400},
        {"tls", K_OBJ, 0, 0, 0, 0},
        {"tls.server_sessions", K_UINT, F(tls_server_sessions), 0, 256},
        {"tls.handshake_timeout", K_UINT, F(tls_handshake_timeout), 0, 3600},
        {"catch_all", K_OBJ, 0, 0, 0, 0},
        {"catch_all.port", K_UINT, F(catch_all_port), 0, 65535},
        {"proxy_protocol", K_BOOL, F(proxy_protocol), 0, 1},
        {"scan", K_OBJ, 0, 0, 0, 0},
        {"scan.enabled", K_BOOL, F(scan_enabled), 0, 1},
        {"scan.interfaces", K_IFACES, 0, 0, 0, 0},
        {"scan.window", K_UINT, F(scan_window), 1, 86400},
        {"scan.max_sources", K_UINT, F(scan_max_sources), 16, 65536},
        {"scan.payload_bytes", K_UINT, F(scan_payload_bytes), 0, 1024},
        {"elasticsearch", K_OBJ, 0, 0, 0, 0},
        {"elasticsearch.url", K_URL, F(es.url), 1, 0},
        {"elasticsearch.index", K_STR, F(es.index), 1, 0},
        {"elasticsearch.data_stream", K_BOOL, F(es.data_stream), 0, 1},
        {"elasticsearch.user", K_STR, F(es.user), 1, 0},
        {"elasticsearch.password", K_STR, F(es.password), 1, 0},
        {"elasticsearch.api_key", K_STR, F(es.api_key), 1, 0},
        {"elasticsearch.ca_file", K_STR, F(es.ca_file), 1, 0},
        {"elasticsearch.insecure", K_BOOL, F(es.insecure), 0, 1},
        {"elasticsearch.batch_events", K_UINT, F(es.batch_events), 1, 10000},
        {"elasticsearch.batch_bytes", K_UINT, F(es.batch_bytes), 4096,
                64L << 20},
        {"elasticsearch.flush_ms", K_UINT, F(es.flush_ms), 1, 3600000},
        {"elasticsearch.retry_max_ms", K_UINT, F(es.retry_max_ms), 100,
                3600000},
        {"elasticsearch.timeout_ms", K_UINT, F(es.timeout_ms), 100, 3600000},
        {"elasticsearch.dead_letter", K_STR, F(es.dead_letter), 1, 0},
        {"elasticsearch.template", K_STR, F(es.template_file), 1, 0},
        {"elasticsearch.pipeline", K_STR, F(es.pipeline), 1, 0},
        {"elasticsearch.pipeline_file", K_STR, F(es.pipeline_file), 1, 0},
        {"elasticsearch.resolver", K_STR, F(es.resolver), 1, 0},
        {"elasticsearch.spool", K_OBJ, 0, 0, 0, 0},
        {"elasticsearch.spool.path", K_STR, F(es.spool), 0, 0},
        {"elasticsearch.spool.max_bytes", K_UINT, F(es.spool_max_bytes), 65536,
                1L << 30},
};

void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof *c);
	strcpy(c->sensor_id, "lure");
	strcpy(c->listen[0], "0.0.0.0");
	strcpy(c->listen[1], "::");
	c->nlisten = 2;
	c->port_offset = -1;
	c->max_conns = 1024;
	c->per_ip = 32;
	c->idle_timeout = 60;
	c->ipv6_prefix = 64;
	c->request_timeout = 60;
	c->refused_window = 60;
	c->session_timeout = 600;
	c->max_input = 1 << 20;
	c->in_buf = 4096;
	c->out_buf = 4096;
	c->outbox_bytes = 1 << 20;
	c->tls_server_sessions = 4;
	c->scan_window = 60;
	c->scan_max_sources = 1024;
	c->scan_payload_bytes = 64;
	strcpy(c->output_file, "-");
	strcpy(c->es.index, "lure-%Y.%m.%d");
	c->es.batch_events = 200;
	c->es.batch_bytes = 512 * 1024;
	c->es.flush_ms = 1000;
	c->es.retry_max_ms = 30000;
	c->es.timeout_ms = 30000;
	/* shipping spools by default, in the state directory (systemd's
	 * StateDirectory=, OpenWrt's init sets /tmp/lure); "" = memory only;
	 * spool_max_bytes 0: sized by spool_open to the file system */
	fmt_snprintf(c->es.spool, sizeof c->es.spool, "%s/spool",
	        getenv("STATE_DIRECTORY") ? getenv("STATE_DIRECTORY")
	                                  : "/var/lib/lure");
}

struct parse {
	const char *name, *js;
	jsmntok_t *t;
	int nt;
};

static void
where(const struct parse *p, int off, int *line, int *col)
{
	*line = 1, *col = 1;
	for (int i = 0; i < off && p->js[i]; i++) {
		if (p->js[i] == '\n')
			(*line)++, *col = 1;
		else
			(*col)++;
	}
}

static int
fail(const struct parse *p, int off, const char *key, const char *msg)
{
	int line, col;

	/* a string token starts after its quote: point at the quote */
	if (off > 0 && p->js[off - 1] == '"' && key)
		off--;
	where(p, off, &line, &col);
	if (key)
		fmt_dprintf(2, "lure: %s:%d:%d: key \"%s\": %s\n", p->name,
		        line, col, key, msg);
	else
		fmt_dprintf(2, "lure: %s:%d:%d: %s\n", p->name, line, col, msg);
	return -1;
}

/* Index of the token after the subtree at i. */
static int
skip(const struct parse *p, int i)
{
	int n = 1;

	while (n > 0 && i < p->nt) {
		n += p->t[i].size;
		n--;
		i++;
	}
	return i;
}

static int
tok_str(const struct parse *p, int i, char *out, size_t cap)
{
	const jsmntok_t *t = &p->t[i];
	size_t n = 0;

	for (int k = t->start; k < t->end; k++) {
		char ch = p->js[k];
		if (ch == '\\') {
			k++;
			switch (p->js[k]) {
			case 'n': ch = '\n'; break;
			case 't': ch = '\t'; break;
			case 'r': ch = '\r'; break;
			case 'b': ch = '\b'; break;
			case 'f': ch = '\f'; break;
			case 'u':
				return -2; /* not needed in a config: refuse */
			default: ch = p->js[k];
			}
		}
		if ((unsigned char)ch < 0x20 || n + 1 >= cap)
			return -1;
		out[n++] = ch;
	}
	out[n] = 0;
	return 0;
}

static int
want_str(const struct parse *p, int i, const char *key, char *out, size_t cap)
{
	char msg[96];
	int r;

	if (p->t[i].type != JSMN_STRING)
		return fail(p, p->t[i].start, key, "expected a string");
	if ((r = tok_str(p, i, out, cap)) == -2)
		return fail(
		        p, p->t[i].start, key, "\\u escapes are not supported");
	if (r < 0) {
		fmt_snprintf(msg, sizeof msg,
		        "string too long (max %zu bytes) or holds control "
		        "bytes",
		        cap - 1);
		return fail(p, p->t[i].start, key, msg);
	}
	if (!out[0])
		return fail(p, p->t[i].start, key, "must not be empty");
	return 0;
}

static int
want_int(const struct parse *p, int i, const char *key, long min, long max,
        long *v)
{
	char buf[32], msg[96], *end;
	const jsmntok_t *t = &p->t[i];
	int n = t->end - t->start;

	fmt_snprintf(msg, sizeof msg, "expected an integer from %ld to %ld",
	        min, max);
	if (t->type != JSMN_PRIMITIVE || n <= 0 || n >= (int)sizeof buf)
		return fail(p, t->start, key, msg);
	memcpy(buf, p->js + t->start, (size_t)n);
	buf[n] = 0;
	errno = 0;
	*v = fmt_strtol(buf, &end, 10);
	if (errno || *end || end == buf || *v < min || *v > max)
		return fail(p, t->start, key, msg);
	return 0;
}

int
config_cidr(const char *s, struct cidr *out)
{
	char buf[64], *slash;
	long bits;

	if (strlen(s) >= sizeof buf)
		return -1;
	strcpy(buf, s);
	memset(out, 0, sizeof *out);
	if ((slash = strchr(buf, '/')))
		*slash++ = 0;
	if (inet_pton(AF_INET, buf, out->addr) == 1)
		out->family = 4, out->bits = 32;
	else if (inet_pton(AF_INET6, buf, out->addr) == 1)
		out->family = 6, out->bits = 128;
	else
		return -1;
	if (slash) {
		char *end;
		bits = fmt_strtol(slash, &end, 10);
		if (!*slash || *end || bits < 0 || bits > out->bits)
			return -1;
		out->bits = (uint8_t)bits;
	}
	return 0;
}

int
config_cidr_match(const struct cidr *c, int family, const uint8_t *addr)
{
	unsigned full = c->bits / 8, rest = c->bits % 8;

	if (c->family != family)
		return 0;
	if (memcmp(c->addr, addr, full) != 0)
		return 0;
	if (rest) {
		uint8_t m = (uint8_t)(0xff << (8 - rest));
		if ((c->addr[full] & m) != (addr[full] & m))
			return 0;
	}
	return 1;
}

int
config_excluded(const struct config *c, int family, const uint8_t *addr)
{
	for (int i = 0; i < c->nexclude; i++)
		if (config_cidr_match(&c->exclude[i], family, addr))
			return 1;
	return 0;
}

static int
parse_list(const struct parse *p, int i, struct config *c, const char *key,
        enum ktype type)
{
	int n = p->t[i].size, j = i + 1, max;
	char s[64];

	if (p->t[i].type != JSMN_ARRAY)
		return fail(
		        p, p->t[i].start, key, "expected an array of strings");
	max = type == K_LISTEN   ? CONFIG_MAX_LISTEN
	      : type == K_IFACES ? CONFIG_MAX_SCAN_IFACES
	                         : CONFIG_MAX_EXCLUDE;
	if (n > max) {
		fmt_snprintf(s, sizeof s, "at most %d entries", max);
		return fail(p, p->t[i].start, key, s);
	}
	if (type == K_LISTEN && n == 0)
		return fail(p, p->t[i].start, key, "must not be empty");
	for (int k = 0; k < n; k++, j = skip(p, j)) {
		struct cidr cd;
		if (type == K_IFACES) { /* interface names */
			if (want_str(p, j, key, c->scan_ifaces[k],
			            sizeof c->scan_ifaces[k]) < 0)
				return -1;
			c->nscan_ifaces = k + 1;
			continue;
		}
		if (want_str(p, j, key, s, sizeof s) < 0)
			return -1;
		if (config_cidr(s, &cd) < 0 ||
		        (type == K_LISTEN && strchr(s, '/')))
			return fail(p, p->t[j].start, key,
			        type == K_LISTEN
			                ? "expected an IPv4 or IPv6 address"
			                : "expected an IP address or CIDR");
		if (type == K_LISTEN)
			strcpy(c->listen[k], s);
		else
			c->exclude[k] = cd;
	}
	if (type == K_LISTEN)
		c->nlisten = n;
	else
		c->nexclude = n;
	return 0;
}

static int
parse_ports(const struct parse *p, int i, struct config *c)
{
	int n = p->t[i].size, j = i + 1;
	char name[16], path[32];

	if (p->t[i].type != JSMN_OBJECT)
		return fail(p, p->t[i].start, "ports",
		        "expected an object {\"<persona port>\": <port or 0>}");
	if (n > CONFIG_MAX_PORTMAP)
		return fail(p, p->t[i].start, "ports", "too many entries");
	for (int k = 0; k < n; k++) {
		long from, to;
		char *end;
		size_t q;

		if (tok_str(p, j, name, sizeof name) < 0)
			name[0] = 0;
		fmt_snprintf(path, sizeof path, "ports.%s", name);
		from = fmt_strtol(name, &end, 10);
		if (!name[0] || *end || from < 1 || from > 65535)
			return fail(p, p->t[j].start, path,
			        "expected a port number as the key");
		for (q = 0; q < persona_nports; q++)
			if (persona_ports[q].port == from)
				break;
		if (q == persona_nports)
			return fail(p, p->t[j].start, path,
			        "the persona has no such port");
		if (want_int(p, j + 1, path, 0, 65535, &to) < 0)
			return -1;
		for (int d = 0; d < k; d++)
			if (c->portmap[d].from == from)
				return fail(p, p->t[j].start, path,
				        "duplicate key");
		c->portmap[k].from = (uint16_t)from;
		c->portmap[k].to = (uint16_t)to;
		j = skip(p, j + 1);
	}
	c->nportmap = n;
	return 0;
}

/* The offset in u of the first byte that keeps it from being a URL the
 * shipper can use, or -1: http:// or https://, printable ASCII (no CR/LF
 * to split a request header with), whole %XX escapes, nothing between an
 * [IPv6] host and its :port or path. (The shipper checks host and port.) */
static int
url_bad(const char *u)
{
	const char *rb = strchr(u, ']');
	size_t h = 7;

	if (strncmp(u, "http://", 7) && (h = 8, strncmp(u, "https://", 8)))
		return 0;
	for (int i = 0; u[i]; i++)
		if ((unsigned char)u[i] <= ' ' || (unsigned char)u[i] >= 0x7f ||
		        strchr("\"<>\\^`{|}", u[i]) ||
		        (u[i] == '%' &&
		                !(isxdigit((unsigned char)u[i + 1]) &&
		                        isxdigit((unsigned char)u[i + 2]))))
			return i;
	return rb && rb < u + h + strcspn(u + h, "/?#") &&
	                       !strchr(":/?#", rb[1])
	               ? (int)(rb - u) + 1
	               : -1;
}

#define URL_MSG "expected http[s]://[user:password@]host[:port][/path]"

int
config_url(struct config *c, const char *url)
{
	const struct parse p = {"-e", url, NULL, 0};
	int off = strlen(url) < sizeof c->es.url ? url_bad(url) : 0;

	return off < 0 ? (strcpy(c->es.url, url), 0)
	               : fail(&p, off, "elasticsearch.url", URL_MSG);
}

static int
parse_object(
        const struct parse *p, int i, struct config *c, const char *prefix);

/* Offset of the value of top-level key k (for checks across keys). */
static int
offset_at(const struct parse *p, const char *k)
{
	for (int j = 1; j < p->nt; j = skip(p, j + 1))
		if (p->t[j].type == JSMN_STRING &&
		        p->t[j].end - p->t[j].start == (int)strlen(k) &&
		        memcmp(p->js + p->t[j].start, k, strlen(k)) == 0)
			return p->t[j + 1].start;
	return 0;
}

static int
parse_value(const struct parse *p, int i, struct config *c, const struct key *k)
{
	long v;
	char *field = (char *)c + k->off;

	switch (k->type) {
	case K_STR: /* min 0: "" is a value (state_file, spool.path) */
		if (!k->min && p->t[i].type == JSMN_STRING &&
		        p->t[i].start == p->t[i].end)
			return (*field = 0);
		return want_str(p, i, k->path, field, k->size);
	case K_URL: {
		int off;
		if (want_str(p, i, k->path, field, k->size) < 0)
			return -1;
		off = url_bad(field);
		return off < 0 ? 0
		               : fail(p, p->t[i].start + off, k->path, URL_MSG);
	}
	case K_UINT:
	case K_INT:
		if (want_int(p, i, k->path, k->min, k->max, &v) < 0)
			return -1;
		if (k->type == K_UINT)
			*(unsigned *)field = (unsigned)v;
		else
			*(int *)field = (int)v;
		return 0;
	case K_BOOL:
		if (p->t[i].type != JSMN_PRIMITIVE ||
		        (p->js[p->t[i].start] != 't' &&
		                p->js[p->t[i].start] != 'f'))
			return fail(p, p->t[i].start, k->path,
			        "expected true or false");
		*(int *)field = p->js[p->t[i].start] == 't';
		return 0;
	case K_OBJ:
		if (p->t[i].type != JSMN_OBJECT)
			return fail(p, p->t[i].start, k->path,
			        "expected an object");
		return parse_object(p, i, c, k->path);
	case K_LISTEN:
	case K_IFACES:
	case K_EXCLUDE: return parse_list(p, i, c, k->path, k->type);
	case K_PORTS: return parse_ports(p, i, c);
	}
	return -1;
}

static int
parse_object(const struct parse *p, int i, struct config *c, const char *prefix)
{
	int n = p->t[i].size, j = i + 1;
	char name[64], path[160], seen[LURE_ARRAY_LEN(keys)];

	memset(seen, 0, sizeof seen);
	for (int m = 0; m < n; m++) {
		const struct key *k = NULL;
		size_t q;

		if (tok_str(p, j, name, sizeof name) < 0)
			fmt_snprintf(name, sizeof name, "%.*s...", 40,
			        p->js + p->t[j].start);
		fmt_snprintf(path, sizeof path, "%s%s%s", prefix,
		        *prefix ? "." : "", name);
		for (q = 0; q < LURE_ARRAY_LEN(keys) && !strchr(name, '.'); q++)
			if (strcmp(keys[q].path, path) == 0) {
				k = &keys[q];
				break;
			}
		if (!k)
			return fail(p, p->t[j].start, path, "unknown key");
		if (seen[q]++)
			return fail(p, p->t[j].start, path, "duplicate key");
		if (parse_value(p, j + 1, c, k) < 0)
			return -1;
		j = skip(p, j + 1);
	}
	return 0;
}

/* 1 when the JSON error at r (all valid before it) is an array or object
 * past json_check()'s 32 levels. */
static int
too_deep(const char *js, int r)
{
	int d = 0, q = 0;

	for (int i = 0; i < r; i++)
		if (q && js[i] == '\\')
			i++;
		else if (q)
			q = js[i] != '"';
		else
			q = js[i] == '"', d += (js[i] == '{' || js[i] == '[') -
			                       (js[i] == '}' || js[i] == ']');
	return d >= 32 && (js[r] == '{' || js[r] == '[');
}

int
config_parse(struct config *c, const char *name, const char *js, size_t n)
{
	static jsmntok_t tok[CONFIG_MAX_TOKENS];
	struct parse p = {name, js, tok, 0};
	jsmn_parser jp;
	int r;

	config_defaults(c);
	if (n >= 3 && memcmp(js, "\xef\xbb\xbf", 3) == 0) /* UTF-8 BOM */
		p.js = js += 3, n -= 3;
	if ((r = (int)json_check(js, n)) >= 0)
		return fail(&p, r, NULL,
		        (size_t)r >= n    ? "unexpected end of file"
		        : too_deep(js, r) ? "nested deeper than 32 levels"
		                          : "invalid JSON");
	jsmn_init(&jp);
	r = jsmn_parse(&jp, js, n, tok, CONFIG_MAX_TOKENS);
	if (r == JSMN_ERROR_PART || r == 0)
		return fail(&p, (int)n, NULL, "unexpected end of file");
	if (r == JSMN_ERROR_INVAL)
		return fail(&p, (int)jp.pos, NULL, "invalid JSON");
	if (r == JSMN_ERROR_NOMEM)
		return fail(&p, 0, NULL, "too many JSON tokens");
	p.nt = r;
	if (r < 1 || tok[0].type != JSMN_OBJECT)
		return fail(&p, r < 1 ? 0 : tok[0].start, NULL,
		        "the top level must be an object");
	if (skip(&p, 0) != r)
		return fail(&p, tok[skip(&p, 0)].start, NULL,
		        "text after the top-level object");
	if (parse_object(&p, 0, c, "") < 0)
		return -1;
	if (c->port_offset > 0) {
		/* every persona port the offset moves must stay a port */
		for (size_t q = 0; q < persona_nports; q++) {
			int moved = 1;
			for (int m = 0; m < c->nportmap; m++)
				moved &= c->portmap[m].from !=
				         persona_ports[q].port;
			if (moved && persona_ports[q].port + c->port_offset >
			                     65535) {
				char msg[96];
				fmt_snprintf(msg, sizeof msg,
				        "moves persona port %u "
				        "past 65535",
				        persona_ports[q].port);
				return fail(&p, offset_at(&p, "port_offset"),
				        "port_offset", msg);
			}
		}
	}
	return 0;
}

int
config_load(struct config *c, const char *file)
{
	static char buf[CONFIG_MAX_BYTES + 1];
	ssize_t n, got = 0;
	int fd = open(file, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fmt_dprintf(2, "lure: %s: %s\n", file, fmt_strerror(errno));
		return -1;
	}
	while ((n = read(fd, buf + got, sizeof buf - 1 - (size_t)got)) > 0)
		got += n;
	close(fd);
	if (n < 0) {
		fmt_dprintf(2, "lure: %s: %s\n", file, fmt_strerror(errno));
		return -1;
	}
	if (got >= CONFIG_MAX_BYTES) {
		fmt_dprintf(2, "lure: %s: larger than %d bytes\n", file,
		        CONFIG_MAX_BYTES);
		return -1;
	}
	buf[got] = 0;
	if (memchr(buf, 0, (size_t)got)) {
		struct parse p = {file, buf, NULL, 0};
		return fail(&p,
		        (int)((char *)memchr(buf, 0, (size_t)got) - buf), NULL,
		        "NUL byte");
	}
	return config_parse(c, file, buf, (size_t)got);
}
