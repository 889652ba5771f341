/* out_file.h: the file (or stdout) output: an outbox consumer that writes
 * whole lines without blocking the loop, and reopens its file on HUP. */
#ifndef LURE_OUT_FILE_H
#define LURE_OUT_FILE_H

#include <stddef.h>
#include <stdint.h>

/* path "-" is stdout. Returns 0 or -1 (message on stderr). */
int
out_file_open(const char *path);
/* Reopen the same path (log rotation); keeps the old fd on failure. */
void
out_file_reopen(void);
/* fd to poll for POLLOUT when out_file_pending(), else -1. */
int
out_file_fd(void);
size_t
out_file_pending(void);
/* When a write error holds output back: the time to retry (ms), else 0. */
int64_t
out_file_deadline(void);
/* Write what the outbox holds until done or the fd would block. */
void
out_file_flush(void);
/* Before bytes go to a peer: the events committed so far are written
 * (write(2), no fsync) to the spool and the file, so an answer never leaves
 * before its event. A stalled reader is waited for at most 100 ms, and not
 * again until it has taken everything. */
void
out_file_sync(void);
/* Blocking flush of everything (shutdown). */
void
out_file_drain(void);

#endif
