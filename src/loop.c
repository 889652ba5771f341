/* loop.c: one pass is tick (signal flags, timers and every piece of work
 * that is due: the connections that are due or had I/O, the shipper, the
 * output file), the earliest deadline from what each part wants, a wait
 * on src/poller.h until then, dispatch what is ready. Signals are blocked
 * except inside the wait, so none is lost between the flag check and the
 * sleep. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admit.h"
#include "config.h"
#include "conn.h"
#include "event.h"
#include "fmt.h"
#include "loop.h"
#include "lure.h"
#include "out_file.h"
#include "outbox.h"
#include "platform.h"
#include "poller.h"
#include "scan.h"
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
	admit_status(e);
	event_int(e, "lure.udp.withheld", (int64_t)cs.udp_withheld);
	event_int(e, "lure.udp.withheld_bytes", (int64_t)cs.udp_withheld_bytes);
	/* the status event itself is not counted: it is being written now */
	event_int(e, "lure.events.accepted", (int64_t)event_count());
	event_int(e, "lure.events.dropped", (int64_t)os.dropped);
	event_int(e, "lure.queue.bytes", (int64_t)os.used);
	event_int(e, "lure.queue.size", (int64_t)os.size);
	event_int(e, "lure.rss_kib", platform_rss_kib());
	event_str(e, "lure.version", LURE_VERSION);
	if (LURE_SCAN)
		scan_status(e);
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
		event_int(e, "lure.ship.queued", (int64_t)ss.queued);
		event_int(e, "lure.ship.recovered", (int64_t)ss.recovered);
		event_str(e, "lure.ship.spool", ss.spool);
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
	admit_tick(lure_now());
	conn_tick(lure_now());
	if (LURE_SCAN)
		scan_tick(lure_now());
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

/* The output file and the shipper change descriptors (reopen, reconnect)
 * behind the loop's back: they are polled for one wait at a time, asked
 * each pass what they want (nothing, mostly), so no stale registration
 * outlives a descriptor. The connections' interest stays registered. */
static int
own_fds(int ofd, const struct pollfd *sp, int on)
{
	int r = 0;

	if (ofd >= 0)
		r = poller_set(POLLER_OUT, ofd, on ? POLLOUT : 0);
	if (sp->fd >= 0)
		r |= poller_set(POLLER_SHIP, sp->fd, on ? sp->events : 0);
	return r; /* -1: one cannot be polled: it is always ready */
}

int
loop_run(void)
{
	/* the scan sockets (src/scan.h) after the connections' references */
	uint32_t scan_ref = POLLER_CONN + (uint32_t)conn_poll_max();
	int nscan = LURE_SCAN ? scan_count() : 0;

	if (poller_init(scan_ref + (uint32_t)nscan) < 0)
		lure_die(1, "out of memory for the poller");
	for (int i = 0; i < nscan; i++)
		poller_set(scan_ref + (uint32_t)i, scan_fd(i), POLLIN);
	if (config.heartbeat)
		next_heartbeat = lure_now() + (int64_t)config.heartbeat * 1000;
	while (!sig_stop) {
		int64_t deadline = 0, ms = -1;
		struct pollfd sp;
		int ofd, r;

		tick();
		ofd = out_file_fd();
		ship_pollfd(&sp);
		earliest(&deadline, ship_deadline());
		earliest(&deadline, next_heartbeat);
		earliest(&deadline, out_file_deadline());
		earliest(&deadline, poller_timer_first());
		earliest(&deadline, admit_deadline());
		if (LURE_SCAN)
			earliest(&deadline, scan_deadline());
		if (deadline)
			ms = LURE_MAX(deadline - lure_now(), 0);
		r = poller_wait(own_fds(ofd, &sp, 1) ? 0 : ms, &run_mask);
		own_fds(ofd, &sp, 0);
		if (r < 0 && errno != EINTR)
			lure_log("POLL error=%s", fmt_strerror(errno));
		for (int i = 0; i < r; i++) {
			uint32_t ref;
			short ev = poller_ready(i, &ref);
			if (ref == POLLER_OUT) {
				ship_feed();
				out_file_flush();
			} else if (ref == POLLER_SHIP) {
				ship_handle(ev);
			} else if (LURE_SCAN && ref >= scan_ref) {
				scan_read((int)(ref - scan_ref));
			} else {
				conn_poll_handle(ref - POLLER_CONN, ev);
			}
		}
	}
	conn_shutdown();
	if (LURE_SCAN)
		scan_tick(INT64_MAX);
	loop_status("stop");
	ship_feed();
	out_file_drain();
	ship_drain((int64_t)config.es.timeout_ms);
	return 0;
}
