/* resolve.h: name resolution that never blocks the loop. A literal address
 * or an /etc/hosts entry answers at once; otherwise one UDP DNS query (A,
 * then AAAA) goes to the configured server or the first nameserver of
 * /etc/resolv.conf, and the loop polls resolve_fd() until an answer, a
 * refusal or the last time-out (3 tries of 2 s per record type). One
 * resolution at a time. */
#ifndef LURE_RESOLVE_H
#define LURE_RESOLVE_H

#include <stdint.h>
#include <sys/socket.h>

enum { RESOLVE_FAIL = -1, RESOLVE_PENDING = 0, RESOLVE_DONE = 1 };

/* server: "ip" or "ip:port", or NULL for /etc/resolv.conf. */
int
resolve_start(const char *host, uint16_t port, const char *server);
int
resolve_fd(void);
int64_t
resolve_deadline(void);
/* Call when resolve_fd() is readable or the deadline passed. */
int
resolve_step(void);
const struct sockaddr_storage *
resolve_result(socklen_t *len);
const char *
resolve_error(void);
void
resolve_cancel(void);

/* Parse a DNS response (tests, fuzzing): first A (want 1) or AAAA (28)
 * record for query id into addr (4 or 16 bytes). Returns 1 found, 0 none
 * (NODATA), -1 malformed or an error rcode. */
int
resolve_parse(const uint8_t *p, size_t n, uint16_t id, int want, uint8_t *addr);

#endif
