/* resolve.c: see resolve.h. The DNS parser bounds-checks every read; a
 * malformed answer is a failed try, never a crash. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fdio.h"
#include "fmt.h"
#include "lure.h"
#include "resolve.h"

/* "nameserver ADDR" (resolv.conf): 0 and ADDR in ip, or -1. */
static int
nameserver(const char *line, char *ip, size_t cap)
{
	size_t n;

	if (strncmp(line, "nameserver", 10) != 0 ||
	        (line[10] != ' ' && line[10] != '\t'))
		return -1;
	line += 10 + strspn(line + 10, " \t");
	n = strcspn(line, " \t\r\n");
	if (!n || n >= cap)
		return -1;
	memcpy(ip, line, n);
	ip[n] = 0;
	return 0;
}

#define TRIES 3
#define TRY_MS 2000

static struct {
	int fd, qtype, tries;
	uint16_t id, port;
	int64_t deadline;
	char host[256];
	struct sockaddr_storage server, result;
	socklen_t server_len, result_len;
	const char *error;
} rs;

/* set before main(): an initializer would put all of rs in the data */
__attribute__((constructor)) static void
rs_unset(void)
{
	rs.fd = -1;
}

static int
set_addr(struct sockaddr_storage *ss, socklen_t *len, const char *ip,
        uint16_t port)
{
	struct sockaddr_in *s4 = (void *)ss;
	struct sockaddr_in6 *s6 = (void *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, ip, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof *s4;
		return 0;
	}
	if (inet_pton(AF_INET6, ip, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof *s6;
		return 0;
	}
	return -1;
}

/* The next blank-separated word at *p, ended in place (strtok_r's job,
 * without its 100 bytes of libc). */
static char *
word(char **p)
{
	char *w = *p + strspn(*p, " \t\r\n");
	size_t n = strcspn(w, " \t\r\n");

	if (!n)
		return NULL;
	*p = w + n + (w[n] != 0);
	w[n] = 0;
	return w;
}

static int
from_hosts(const char *host)
{
	char line[512];
	struct fdio f;
	int found = 0;

	if (fdio_open(&f, "/etc/hosts") < 0)
		return 0;
	while (!found && fdio_gets(&f, line, sizeof line)) {
		char *save = line, *ip, *name;
		line[strcspn(line, "#")] = 0;
		if (!(ip = word(&save)))
			continue;
		while ((name = word(&save)))
			if (fmt_caseeq(name, host, SIZE_MAX) &&
			        set_addr(&rs.result, &rs.result_len, ip,
			                rs.port) == 0) {
				found = 1;
				break;
			}
	}
	fdio_close(&f);
	return found;
}

static int
pick_server(const char *server)
{
	char line[256], ip[64];
	unsigned port = 53;
	struct fdio f;

	if (server) {
		const char *colon = strrchr(server, ':');
		/* "ip:port" for v4; a bare v6 address has colons of its own */
		if (colon && strchr(server, '.') &&
		        colon > strchr(server, '.')) {
			fmt_snprintf(ip, sizeof ip, "%.*s",
			        (int)(colon - server), server);
			port = (unsigned)fmt_strtol(colon + 1, NULL, 10);
		} else {
			fmt_snprintf(ip, sizeof ip, "%s", server);
		}
		return set_addr(&rs.server, &rs.server_len, ip, (uint16_t)port);
	}
	if (fdio_open(&f, "/etc/resolv.conf") < 0)
		return set_addr(&rs.server, &rs.server_len, "127.0.0.1", 53);
	while (fdio_gets(&f, line, sizeof line))
		if (nameserver(line, ip, sizeof ip) == 0 &&
		        set_addr(&rs.server, &rs.server_len, ip, 53) == 0) {
			fdio_close(&f);
			return 0;
		}
	fdio_close(&f);
	return set_addr(&rs.server, &rs.server_len, "127.0.0.1", 53);
}

static int
send_query(void)
{
	uint8_t q[300];
	size_t n = 12;
	const char *label = rs.host;

	lure_random(&rs.id, sizeof rs.id);
	memset(q, 0, 12);
	q[0] = (uint8_t)(rs.id >> 8), q[1] = (uint8_t)rs.id;
	q[2] = 0x01; /* RD */
	q[5] = 1; /* QDCOUNT */
	while (*label) {
		size_t l = strcspn(label, ".");
		if (l == 0 || l > 63 || n + l + 6 > sizeof q)
			return -1;
		q[n++] = (uint8_t)l;
		memcpy(q + n, label, l);
		n += l;
		label += l;
		if (*label == '.')
			label++;
	}
	q[n++] = 0;
	q[n++] = 0, q[n++] = (uint8_t)rs.qtype;
	q[n++] = 0, q[n++] = 1;
	rs.deadline = lure_now() + TRY_MS;
	if (sendto(rs.fd, q, n, 0, (struct sockaddr *)&rs.server,
	            rs.server_len) < 0 &&
	        errno != EAGAIN)
		return -1;
	return 0;
}

int
resolve_start(const char *host, uint16_t port, const char *server)
{
	resolve_cancel();
	rs.port = port;
	rs.error = NULL;
	if (strlen(host) >= sizeof rs.host) {
		rs.error = "host name too long";
		return RESOLVE_FAIL;
	}
	strcpy(rs.host, host);
	if (set_addr(&rs.result, &rs.result_len, host, port) == 0 ||
	        from_hosts(host))
		return RESOLVE_DONE;
	if (pick_server(server) < 0) {
		rs.error = "bad resolver address";
		return RESOLVE_FAIL;
	}
	rs.fd = socket(rs.server.ss_family,
	        SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (rs.fd < 0) {
		rs.error = "socket failed";
		return RESOLVE_FAIL;
	}
	rs.qtype = 1;
	rs.tries = 1;
	if (send_query() < 0) {
		resolve_cancel();
		rs.error = "cannot send the DNS query";
		return RESOLVE_FAIL;
	}
	return RESOLVE_PENDING;
}

int
resolve_fd(void)
{
	return rs.fd;
}

int64_t
resolve_deadline(void)
{
	return rs.fd >= 0 ? rs.deadline : 0;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Skip a (possibly compressed) name; returns the offset after it or 0. */
static size_t
skip_name(const uint8_t *p, size_t n, size_t at)
{
	for (int guard = 0; at < n && guard < 128; guard++) {
		uint8_t l = p[at];
		if (l == 0)
			return at + 1;
		if ((l & 0xc0) == 0xc0)
			return at + 2 <= n ? at + 2 : 0;
		if (l & 0xc0)
			return 0;
		at += 1u + l;
	}
	return 0;
}

int
resolve_parse(const uint8_t *p, size_t n, uint16_t id, int want, uint8_t *addr)
{
	size_t at;
	unsigned qd, an;

	if (n < 12 || get16(p) != id || !(p[2] & 0x80))
		return -1;
	if ((p[3] & 0x0f) != 0)
		return -1; /* NXDOMAIN, SERVFAIL, REFUSED... */
	qd = get16(p + 4), an = get16(p + 6);
	at = 12;
	for (unsigned i = 0; i < qd; i++) {
		if (!(at = skip_name(p, n, at)) || at + 4 > n)
			return -1;
		at += 4;
	}
	for (unsigned i = 0; i < an; i++) {
		unsigned type, len;
		if (!(at = skip_name(p, n, at)) || at + 10 > n)
			return -1;
		type = get16(p + at);
		len = get16(p + at + 8);
		at += 10;
		if (at + len > n)
			return -1;
		if ((int)type == want && len == (want == 1 ? 4u : 16u)) {
			memcpy(addr, p + at, len);
			return 1;
		}
		at += len;
	}
	return 0;
}

int
resolve_step(void)
{
	uint8_t buf[1500], addr[16];
	ssize_t n;
	int r;

	if (rs.fd < 0)
		return RESOLVE_FAIL;
	while ((n = recv(rs.fd, buf, sizeof buf, 0)) > 0) {
		r = resolve_parse(buf, (size_t)n, rs.id, rs.qtype, addr);
		if (r == 1) {
			char ip[64];
			fmt_ntop(rs.qtype == 1 ? AF_INET : AF_INET6, addr, ip,
			        sizeof ip);
			set_addr(&rs.result, &rs.result_len, ip, rs.port);
			resolve_cancel();
			return RESOLVE_DONE;
		}
		if (r == 0 || (r < 0 && n >= 4 && get16(buf) == rs.id)) {
			/* no such record (or an error rcode): next type */
			if (rs.qtype == 1) {
				rs.qtype = 28, rs.tries = 1;
				if (send_query() == 0)
					return RESOLVE_PENDING;
			}
			resolve_cancel();
			rs.error = "no address for the host name";
			return RESOLVE_FAIL;
		}
		/* an answer to something else: ignore it */
	}
	if (lure_now() >= rs.deadline) {
		if (rs.tries < TRIES) {
			rs.tries++;
		} else if (rs.qtype == 1) {
			rs.qtype = 28, rs.tries = 1;
		} else {
			resolve_cancel();
			rs.error = "DNS server did not answer";
			return RESOLVE_FAIL;
		}
		if (send_query() < 0) {
			resolve_cancel();
			rs.error = "cannot send the DNS query";
			return RESOLVE_FAIL;
		}
	}
	return RESOLVE_PENDING;
}

const struct sockaddr_storage *
resolve_result(socklen_t *len)
{
	*len = rs.result_len;
	return &rs.result;
}

const char *
resolve_error(void)
{
	return rs.error ? rs.error : "no error";
}

void
resolve_cancel(void)
{
	if (rs.fd >= 0)
		close(rs.fd);
	rs.fd = -1;
}
