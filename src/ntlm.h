/* ntlm.h: NTLMSSP's server side ([MS-NLMP]) for the emulators that take an
 * NTLM login (smb, and rdp's CredSSP and tds's SSPI when built): the
 * CHALLENGE with the persona's target information, the AUTHENTICATE into a
 * "login" event with the response as password crackers take it, and the
 * DER and UTF-16 pieces they wrap it in. No state: the caller keeps the
 * 8-byte server challenge. */
#ifndef LURE_NTLM_H
#define LURE_NTLM_H

#include <stddef.h>
#include <stdint.h>

struct event;

/* The NTLMSSP message in b[0..n) (raw, or inside a SPNEGO or CredSSP DER
 * token: found by its signature); *len is the rest of the buffer. NULL
 * when there is none. */
const uint8_t *
ntlm_find(const uint8_t *b, size_t n, size_t *len);

/* MessageType (1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE); 0 when short. */
unsigned
ntlm_type(const uint8_t *m, size_t n);

/* A NEGOTIATE's NegotiateFlags (0 when short). */
uint32_t
ntlm_flags(const uint8_t *m, size_t n);

/* On the event of a NEGOTIATE m[0..n): lure.auth.ntlm.message and the
 * client's lure.auth.ntlm.client_version. */
void
ntlm_negotiate_fields(struct event *e, const uint8_t *m, size_t n);

/* The CHALLENGE answering a NEGOTIATE with client_flags: draws the server
 * challenge into chal[8] and writes the message, with the persona's
 * target information, at out; its length (0 when cap < 512). */
size_t
ntlm_challenge(
        uint8_t *out, size_t cap, uint32_t client_flags, uint8_t chal[8]);

/* An AUTHENTICATE m[0..n) into the "login" event e: user.name,
 * user.domain, the client's workstation under ws_field, lure.auth.method
 * (ntlmv2, ntlmv1, lm, ntlm, anonymous), lure.auth.ntlm.hash (hashcat
 * 5600 / 5500), lure.auth.ntlm.client_version. 1 for an anonymous one, 0
 * otherwise, -1 when m is too short to be one (nothing added). The caller
 * adds event.outcome and commits. */
int
ntlm_login(struct event *e, const uint8_t *m, size_t n, const uint8_t chal[8],
        const char *ws_field);

/* SPNEGO (RFC 4178, [MS-SPNG]): 1 when the security token b[0..n) is one
 * (a negTokenInit, [APPLICATION 0], or a negTokenResp, [1]): Windows's
 * own clients wrap NTLMSSP in it (the Negotiate package), and wait for
 * the CHALLENGE wrapped the same way. */
int
ntlm_spnego(const uint8_t *b, size_t n);

/* A negTokenResp at p: negState state (0 accept-completed, 1
 * accept-incomplete, 2 reject), and with a token t[0..tn) (which may lie
 * in p's buffer) supportedMech mech[0..ml) (NULL: NTLMSSP's OID) and
 * responseToken; its length, 0 when it would not fit in cap. */
size_t
ntlm_spnego_resp(uint8_t *p, size_t cap, const uint8_t *mech, size_t ml,
        const uint8_t *t, size_t tn, int state);

/* DER: a tag and its length at p, bytes written (lengths < 65,536); the
 * bytes that takes. */
size_t
ntlm_der(uint8_t *p, uint8_t tag, size_t len);
size_t
ntlm_der_size(size_t len);

/* UTF-16LE u[0..n) as UTF-8 in out (at most cap bytes, a character never
 * split; bad surrogates as U+FFFD); its length. */
size_t
ntlm_utf8(const uint8_t *u, size_t n, char *out, size_t cap);

/* A persona key's value (${identity} expanded; ASCII) as UTF-16LE in out;
 * its length in bytes. */
size_t
ntlm_utf16(const char *key, uint8_t *out, size_t cap);

/* lure_wall() as a Windows FILETIME. */
uint64_t
ntlm_filetime(void);

#endif
