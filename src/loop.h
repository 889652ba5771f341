/* loop.h: the one event loop (src/poller.h): outputs, connections, timers,
 * signals. */
#ifndef LURE_LOOP_H
#define LURE_LOOP_H

/* Install signal handling (TERM/INT stop, HUP reopen, USR1 stats). */
void
loop_signals(void);
/* Emit a status event; reason is "start", "stats", "heartbeat" or "stop". */
void
loop_status(const char *reason);
/* Run until TERM/INT; then close connections and flush outputs. */
int
loop_run(void);

#endif
