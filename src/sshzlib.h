/* sshzlib.h: the "zlib@openssh.com" compression of an SSH connection after
 * its login (RFC 4253 section 6.2, OpenSSH's delayed variant): one zlib
 * stream per direction that runs for the whole connection, each packet's
 * payload flushed (Z_PARTIAL_FLUSH) so it inflates on its own. Inflate
 * (client to server) is a complete RFC 1950/1951 decoder that carries
 * unfinished bits and a 32 KiB window from packet to packet; deflate (server
 * to client) writes stored blocks. Contexts come from a small static pool:
 * none is used until a client asks for compression. */
#ifndef LURE_SSHZLIB_H
#define LURE_SSHZLIB_H

#include <stddef.h>
#include <stdint.h>

#define SSHZLIB_POOL 8 /* connections compressing at once */

struct sshzlib;

/* A fresh context for one connection (both directions), or NULL when the
 * pool is used up. */
struct sshzlib *
sshzlib_get(void);
/* Give it back (NULL is fine). */
void
sshzlib_put(struct sshzlib *z);

/* Inflate one packet's compressed payload in[0..n) into out (at most cap
 * bytes); returns the length, or -1 on a corrupt stream, output over cap,
 * or an unfinished symbol longer than the carry (the connection closes). */
long
sshzlib_inflate(struct sshzlib *z, const uint8_t *in, size_t n, uint8_t *out,
        size_t cap);

/* Compress one packet's payload in[0..n) into out; returns the length
 * (n + 5, plus the 2-byte zlib header the first time), or -1 when cap is
 * too small or n over 65535. */
long
sshzlib_deflate(struct sshzlib *z, const uint8_t *in, size_t n, uint8_t *out,
        size_t cap);

#endif
