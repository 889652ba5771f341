/* scan.h: scan observation (issue 13, part 1). A packet socket per
 * configured interface (scan.interfaces; none: every interface but
 * loopback), opened at start as root, with a classic BPF program that
 * passes only what reaches the sensor (PACKET_HOST) and starts a
 * conversation: TCP SYN without ACK, UDP, ICMP and ICMPv6 echo requests,
 * IPv4 and IPv6. Nothing is ever sent. Per source (a fixed table of
 * scan.max_sources), one scan event per (transport, port) the first time
 * it is seen in the source's window (scan.window seconds from its first
 * packet), at most SCAN_EVENTS_MAX of them per window; a summary when
 * the source is quiet for SCAN_QUIET_S, its window ends, it is evicted
 * for a new source, the port table fills, or lure stops. Sources in
 * `exclude` (the Elasticsearch server is added there) are dropped after
 * the header is read, before any lookup. */
#ifndef LURE_SCAN_H
#define LURE_SCAN_H

#include <stdint.h>

/* 0: built without it (make SCAN=0) */
#ifndef LURE_SCAN
#define LURE_SCAN 1
#endif

struct config;
struct event;

#define SCAN_EVENTS_MAX 256 /* scan events per source and window */
#define SCAN_QUIET_S 10 /* seconds without a packet: the source is done */
#define SCAN_LIST 16 /* ports listed in a summary */

/* Open and filter the sockets (before privileges drop); under
 * lure_checking only the interface names are checked. 0, or -1 after a
 * message naming the interface and the error. */
int
scan_setup(const struct config *c);
/* How many sockets scan_fd() has (0 when scan is off). */
int
scan_count(void);
int
scan_fd(int i);
/* Socket i is readable: read a batch of packets. */
void
scan_read(int i);
/* Write the summaries that are due (all of them, reason "stop", when
 * now is INT64_MAX). */
void
scan_tick(int64_t now);
/* The next time scan_tick() has work, 0 when none. */
int64_t
scan_deadline(void);
/* lure.scan.* of the status event (the kernel's drop count included). */
void
scan_status(struct event *e);

#endif
