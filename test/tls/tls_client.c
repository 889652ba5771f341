/* tls_client.c: test driver for src/tls.h over a real socket and poll().
 *	tls_client [-n COUNT] [-u PUT_BYTES] HOST PORT SERVER_NAME
 *		CAFILE|insecure PATH
 * HOST is a numeric address. Connects, handshakes, sends "GET PATH" (or,
 * with -u, a PUT of PUT_BYTES 'x' bytes, to push many records), writes the
 * whole response to stdout; COUNT times in a row (default 1), then one
 * line of numbers to stderr:
 *	tls_client: version=TLSv1.2 cipher=... handshake_ms=... heap_peak=N ...
 * (handshake_ms: connect to handshake done, the median of the runs).
 * Exit 0 when the server closed cleanly; 1 with "tls_client: <tls_error()>"
 * on a TLS failure; 2 on usage, socket or timeout errors. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "tls.h"

#define TIMEOUT_MS 10000

static const char *version = "", *cipher = "";

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int
tcp_connect(const char *host, const char *port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;
	int fd;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)atoi(port));
		len = sizeof *a4;
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)atoi(port));
		len = sizeof *a6;
	} else {
		fprintf(stderr, "tls_client: %s: not a numeric address\n",
		        host);
		return -1;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) != 0) {
		fprintf(stderr, "tls_client: connect %s:%s: %s\n", host, port,
		        strerror(errno));
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

/* One poll() pass: move bytes between fd and the engine. */
static int
pump(int fd, struct tls *t, double deadline)
{
	struct pollfd pfd = {.fd = fd};
	const uint8_t *o;
	uint8_t *i;
	size_t out = tls_net_out_pending(t, &o), space;
	ssize_t n;

	space = tls_net_in_space(t, &i);
	pfd.events = (out ? POLLOUT : 0) | (space ? POLLIN : 0);
	if (pfd.events == 0)
		return 0;
	if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0) {
		fprintf(stderr, "tls_client: timeout\n");
		return -1;
	}
	if (pfd.revents & POLLOUT) {
		n = send(fd, o, out, MSG_NOSIGNAL);
		if (n > 0) {
			tls_net_out_done(t, (size_t)n);
		} else if (errno != EAGAIN && errno != EINTR) {
			fprintf(stderr, "tls_client: send: %s\n",
			        strerror(errno));
			return -1;
		}
	}
	if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
		n = recv(fd, i, space, 0);
		if (n >= 0)
			tls_net_in_done(t, (size_t)n);
		else if (errno != EAGAIN && errno != EINTR)
			tls_net_in_done(t, 0); /* reset: like end of stream */
	}
	return 0;
}

static const char *host, *port, *name, *path;
static size_t put_bytes;

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* One connection: handshake, request, response to stdout. Returns the
 * exit code; *hs_ms is the time from connect() to the end of the
 * handshake. */
static int
session(double *hs_ms)
{
	char req[512], buf[16384];
	size_t sent = 0, reqlen, total;
	double t0 = now_ms(), deadline = t0 + TIMEOUT_MS;
	int fd, phase = 0; /* 0 handshake, 1 send, 2 receive */
	ssize_t r = TLS_WANT_IO;
	struct tls *t;

	reqlen = (size_t)snprintf(req, sizeof req,
	        "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
	        "Content-Length: %zu\r\n\r\n",
	        put_bytes ? "PUT" : "GET", path, name, put_bytes);
	total = reqlen + put_bytes;
	fd = tcp_connect(host, port);
	if (fd < 0)
		return 2;
	t = tls_client_new(name);
	if (t == NULL) {
		fprintf(stderr, "tls_client: %s\n", tls_error(NULL));
		close(fd);
		return 1;
	}
	for (;;) {
		if (phase == 0) {
			r = tls_handshake(t);
			if (r == TLS_OK) {
				*hs_ms = now_ms() - t0;
				phase = 1;
			}
		}
		while (phase == 1) {
			/* the body is 'x' bytes, sent from a reused block */
			if (sent < reqlen) {
				r = tls_write(t, req + sent, reqlen - sent);
			} else {
				size_t n = total - sent;
				memset(buf, 'x', sizeof buf);
				r = tls_write(t, buf,
				        n < sizeof buf ? n : sizeof buf);
			}
			if (r > 0)
				sent += (size_t)r;
			if (sent == total)
				phase = 2;
			if (r <= 0)
				break;
		}
		while (phase == 2 && (r = tls_read(t, buf, sizeof buf)) > 0)
			fwrite(buf, 1, (size_t)r, stdout);
		if (phase == 2 && r == 0)
			break;
		if (r == TLS_ERR) {
			fprintf(stderr, "tls_client: %s\n", tls_error(t));
			tls_free(t);
			close(fd);
			return 1;
		}
		if (pump(fd, t, deadline) != 0) {
			tls_free(t);
			close(fd);
			return 2;
		}
	}
	fflush(stdout);
	tls_info(t, &version, &cipher);
	tls_free(t);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct tls_conf conf = {0};
	char err[256];
	double t0 = now_ms(), hs[1000];
	size_t init_used, first_free = 0;
	int i, n = 1, opt, rc;

	while ((opt = getopt(argc, argv, "n:u:")) != -1) {
		if (opt == 'n')
			n = atoi(optarg);
		else if (opt == 'u')
			put_bytes = strtoul(optarg, NULL, 10);
		else
			n = -1;
	}
	if (argc - optind != 5 || n < 1 || n > 1000) {
		fprintf(stderr, "usage: tls_client [-n COUNT] [-u PUT_BYTES] "
		                "HOST PORT SERVER_NAME CAFILE|insecure PATH\n");
		return 2;
	}
	host = argv[optind];
	port = argv[optind + 1];
	name = argv[optind + 2];
	path = argv[optind + 4];
	if (strcmp(argv[optind + 3], "insecure") == 0)
		conf.insecure = 1;
	else
		conf.ca_file = argv[optind + 3];
	if (tls_global_init(&conf, err, sizeof err) != 0) {
		fprintf(stderr, "tls_client: %s\n", err);
		return 1;
	}
	if (err[0])
		fprintf(stderr, "tls_client: note: %s\n", err);
	init_used = tls_heap_used();
	for (i = 0; i < n; i++) {
		rc = session(&hs[i]);
		if (rc != 0)
			return rc;
		if (i == 0)
			first_free = tls_heap_used();
	}
	qsort(hs, (size_t)n, sizeof hs[0], cmp_double);
	fprintf(stderr,
	        "tls_client: version=%s cipher=%s handshake_ms=%.2f "
	        "handshake_ms_min=%.2f runs=%d total_ms=%.1f heap_peak=%zu "
	        "heap_size=%zu heap_ca=%zu heap_after_first=%zu "
	        "heap_after_last=%zu\n",
	        version, cipher, hs[n / 2], hs[0], n, now_ms() - t0,
	        tls_heap_peak(), tls_heap_size(), init_used, first_free,
	        tls_heap_used());
	return 0;
}
