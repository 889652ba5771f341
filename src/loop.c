/* loop.c: one pass is tick (signal flags, timers and every piece of work
 * that is due: connections, the shipper, the output file), prepare (the
 * pollfd set and the earliest deadline from what each part wants: no side
 * effects), ppoll until then, dispatch the revents. Signals are blocked
 * except inside ppoll(), so none is lost between the flag check and the
 * sleep. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "conn.h"
#include "event.h"
#include "loop.h"
#include "lure.h"
#include "out_file.h"
#include "outbox.h"
#include "platform.h"
#include "ship.h"
#include "tls.h"

static volatile sig_atomic_t sig_stop, sig_hup, sig_usr1;
static sigset_t run_mask;
static int64_t t_start, next_heartbeat;

static void
on_signal(int s)
{
	if (s == SIGHUP)
		sig_hup = 1;
	else if (s == SIGUSR1)
		sig_usr1 = 1;
	else
		sig_stop = 1;
}

void
loop_signals(void)
{
	struct sigaction sa;
	sigset_t block;
	int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&block);
	for (size_t i = 0; i < LURE_ARRAY_LEN(sigs); i++) {
		sigaction(sigs[i], &sa, NULL);
		sigaddset(&block, sigs[i]);
	}
	signal(SIGPIPE, SIG_IGN);
	sigprocmask(SIG_BLOCK, &block, &run_mask);
	sigdelset(&run_mask, SIGTERM);
	sigdelset(&run_mask, SIGINT);
	sigdelset(&run_mask, SIGHUP);
	sigdelset(&run_mask, SIGUSR1);
	t_start = lure_now();
}

void
loop_status(const char *reason)
{
	struct conn_stats cs;
	struct outbox_stats os;
	struct event *e = event_begin("status", NULL);

	conn_stats(&cs);
	outbox_stats(&os);
	event_str(e, "event.dataset", "lure.status");
	event_str(e, "event.reason", reason);
	event_str(e, "lure.tls", LURE_TLS);
	event_int(e, "lure.uptime", (lure_now() - t_start) / 1000);
	event_int(e, "lure.connections.open", cs.open);
	event_int(e, "lure.connections.max", cs.max);
	event_int(e, "lure.connections.accepted", (int64_t)cs.accepted);
	event_int(e, "lure.connections.rejected_per_ip",
	        (int64_t)cs.rejected_per_ip);
	event_int(e, "lure.datagrams", (int64_t)cs.datagrams);
	/* the status event itself is not counted: it is being written now */
	event_int(e, "lure.events.accepted", (int64_t)event_count());
	event_int(e, "lure.events.dropped", (int64_t)os.dropped);
	event_int(e, "lure.queue.bytes", (int64_t)os.used);
	event_int(e, "lure.queue.size", (int64_t)os.size);
	event_int(e, "lure.rss_kib", platform_rss_kib());
	event_str(e, "lure.version", LURE_VERSION);
	if (ship_enabled()) {
		struct ship_stats ss;
		ship_stats(&ss);
		event_str(e, "lure.ship.state", ss.state);
		event_int(e, "lure.events.shipped", (int64_t)ss.shipped);
		event_int(e, "lure.events.dead_lettered",
		        (int64_t)ss.dead_lettered);
		event_int(e, "lure.events.retried", (int64_t)ss.retried);
		event_int(e, "lure.events.ship_dropped", (int64_t)ss.dropped);
		event_int(e, "lure.ship.requests", (int64_t)ss.requests);
		event_int(e, "lure.ship.queue_bytes", (int64_t)ss.queued_bytes);
		event_int(e, "lure.ship.in_flight", (int64_t)ss.in_flight);
		if (ss.last_error[0])
			event_str(e, "error.message", ss.last_error);
		if (tls_heap_size()) {
			event_int(e, "lure.tls_heap.peak",
			        (int64_t)tls_heap_peak());
			event_int(e, "lure.tls_heap.size",
			        (int64_t)tls_heap_size());
		}
	}
	if (tls_server_max()) { /* the persona's tls ports */
		event_int(e, "lure.tls_heap.peak", (int64_t)tls_heap_peak());
		event_int(e, "lure.tls_heap.size", (int64_t)tls_heap_size());
		event_int(e, "lure.tls_server.sessions",
		        (int64_t)tls_server_max());
		event_int(
		        e, "lure.tls_server.busy", (int64_t)tls_server_busy());
	}
	if (strcmp(reason, "start") == 0)
		event_raw(e, "lure.listeners", conn_listeners_json(),
		        strlen(conn_listeners_json()));
	event_commit(e);
}

/* Everything due now, in an order that keeps two promises: events made by
 * a timer are written in the same pass, and a line in the output file is
 * in the spool too (the spool is fed before every write of the file). */
static void
tick(void)
{
	if (sig_hup) {
		sig_hup = 0;
		ship_feed();
		out_file_reopen();
	}
	if (sig_usr1) {
		sig_usr1 = 0;
		loop_status("stats");
	}
	if (next_heartbeat && lure_now() >= next_heartbeat) {
		loop_status("heartbeat");
		next_heartbeat += (int64_t)config.heartbeat * 1000;
	}
	conn_tick(lure_now());
	ship_tick();
	ship_feed();
	out_file_flush();
}

static void
earliest(int64_t *deadline, int64_t d)
{
	if (d && (!*deadline || d < *deadline))
		*deadline = d;
}

/* The poll set and the earliest deadline, from what each part wants now;
 * changes nothing. at[0], at[1]: where the output file's and the shipper's
 * pollfds are (-1: not polled). */
static size_t
prepare(struct pollfd *pfd, size_t cap, int at[2], int64_t *deadline)
{
	size_t n = 0;
	int ofd = out_file_fd();

	at[0] = at[1] = -1;
	*deadline = 0;
	if (ofd >= 0) {
		pfd[n].fd = ofd;
		pfd[n].events = POLLOUT;
		pfd[n].revents = 0;
		at[0] = (int)n++;
	}
	ship_pollfd(&pfd[n]);
	if (pfd[n].fd >= 0)
		at[1] = (int)n++;
	earliest(deadline, ship_deadline());
	earliest(deadline, next_heartbeat);
	earliest(deadline, out_file_deadline());
	return n + conn_poll_prepare(pfd + n, cap - n, deadline);
}

int
loop_run(void)
{
	size_t cap = conn_poll_max() + 2;
	struct pollfd *pfd = calloc(cap, sizeof *pfd);

	if (!pfd)
		lure_die(1, "out of memory for %zu pollfds", cap);
	if (config.heartbeat)
		next_heartbeat = lure_now() + (int64_t)config.heartbeat * 1000;
	while (!sig_stop) {
		int64_t deadline;
		struct timespec ts, *tsp = NULL;
		int at[2], r;
		size_t n, first;

		tick();
		n = prepare(pfd, cap, at, &deadline);
		if (deadline) {
			int64_t now = lure_now();
			int64_t ms = deadline > now ? deadline - now : 0;
			ts.tv_sec = ms / 1000;
			ts.tv_nsec = (ms % 1000) * 1000000;
			tsp = &ts;
		}
		r = ppoll(pfd, n, tsp, &run_mask);
		if (r < 0) {
			if (errno != EINTR)
				lure_log("POLL error=%s", strerror(errno));
			continue;
		}
		if (r == 0)
			continue;
		if (at[0] >= 0 && pfd[at[0]].revents) {
			ship_feed();
			out_file_flush();
		}
		if (at[1] >= 0 && pfd[at[1]].revents)
			ship_handle(pfd[at[1]].revents);
		first = (size_t)(at[0] >= 0) + (size_t)(at[1] >= 0);
		conn_poll_handle(pfd + first, n - first);
	}
	conn_shutdown();
	loop_status("stop");
	ship_feed();
	out_file_drain();
	ship_drain((int64_t)config.es.timeout_ms);
	free(pfd);
	return 0;
}
