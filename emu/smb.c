/* smb.c: SMB on 445/tcp (and 139/tcp after the NetBIOS session request) as
 * a Windows Server 2019 member server answers it before a login: SMB2/3
 * NEGOTIATE (2.0.2 to 3.1.1, the negotiate contexts), the SMB1 NEGOTIATE
 * that offers SMB2 dialects answered with the SMB2 wildcard, then
 * SESSION_SETUP with NTLMSSP (raw or in SPNEGO): a CHALLENGE with the
 * persona's target information, the AUTHENTICATE parsed into a "login"
 * event with the NetNTLMv2 (or v1) response as crackers take it, then
 * STATUS_LOGON_FAILURE. Nothing is served beyond that. NTLMSSP itself (the
 * CHALLENGE, its ntlm.* persona keys, the hash formats) is src/ntlm.c.
 *
 * Persona keys. Numbers are decimal; byte strings are wire bytes.
 *   smb.nbss_port            a port whose connections start with the
 *                            NetBIOS session request (RFC 1002 4.3.2;
 *                            139): answered with the positive response
 *   smb.nbss_refuse          its answer to a session message that came
 *                            before the session request (then a close)
 *   smb.guid                 [required] ServerGuid, 32 hex digits
 *                            (${identity} values expanded)
 *   smb.dialects             [required] dialects served, hex words
 *                            ("0202 0210 0300 0302 0311"): the greatest
 *                            common one is picked ([MS-SMB2] 3.3.5.4)
 *   smb.security_mode        NEGOTIATE's SecurityMode (1: signing enabled)
 *   smb.caps_202 smb.caps_210 smb.caps_3  Capabilities for 2.0.2, for
 *                            2.1 and the wildcard, for 3.x
 *   smb.caps_30_echo smb.caps_311_echo  the ones set for 3.0 and 3.0.2,
 *                            for 3.1.1, when the client's request has them
 *   smb.max_transact smb.max_read smb.max_write  the Max*Size fields
 *   smb.start_time           ServerStartTime (FILETIME; 0)
 *   smb.ciphers              3.1.1's ciphers, hex words: the first of the
 *                            client's list that is here is picked
 *   smb.spnego_init          [required] NEGOTIATE's security buffer (the
 *                            SPNEGO negTokenInit, RFC 4178 / [MS-SPNG])
 *   smb.spnego_mech          the NTLMSSP OID (DER) of the negTokenResp
 *
 * Events. "request" per SMB message but the AUTHENTICATE: lure.smb.command
 * (NEGOTIATE, SESSION_SETUP, ECHO, LOGOFF, TREE_CONNECT...), lure.smb.
 * version (1 or 2), lure.smb.dialects (the offered dialects: SMB1 names or
 * SMB2 versions, comma-separated), lure.smb.dialect (the one answered),
 * lure.smb.contexts (3.1.1's negotiate context types), lure.smb.tool (nmap,
 * when its -sV probe's dialect list is recognised), lure.auth.ntlm.message
 * (NEGOTIATE) with the client's lure.auth.ntlm.client_version; a message
 * that is no SMB: lure.payload, error.message. "login" per AUTHENTICATE:
 * user.name, user.domain, lure.smb.workstation (the NetBIOS name the
 * client claims; not source.domain, which is a DNS name we would have to
 * trust), lure.auth.method (ntlmv2, ntlmv1, anonymous), lure.auth.ntlm.
 * hash (hashcat 5600 / John netntlmv2: USER::DOMAIN:CHALLENGE:NTPROOFSTR:
 * BLOB; 5500 / netntlm for a 24-byte NT response: USER::DOMAIN:LM:NT:
 * CHALLENGE; hex lower case), lure.auth.ntlm.client_version,
 * event.outcome (failure; success for anonymous). "exploit":
 * SMBGhost (rule.name smb-ghost, vulnerability.id CVE-2020-0796: a 3.1.1
 * NEGOTIATE with compression capabilities), and the SMB1-only NEGOTIATE
 * with the dialect list of the MS17-010 tools (rule.name smb1-ms17-010,
 * vulnerability.id CVE-2017-0144, lure.smb.tool): WannaCry's worm,
 * EternalBlue and worawit's and Metasploit's ms17-010 checkers send these
 * six dialects (PC NETWORK PROGRAM 1.0 ... NT LM 0.12) and nothing else;
 * any other SMB1-only NEGOTIATE is a "request" with its dialects.
 *
 * Sources (no Windows here to compare with): [MS-SMB2] 2.2.1 to 2.2.7 and
 * 3.3.5.3, 3.3.5.4, 3.3.5.5 for the layouts and the server's choices,
 * [MS-NLMP] 2.2.1.2, 2.2.1.3, 2.2.2.1, 3.2.5.1 for NTLMSSP, RFC 4178 and
 * [MS-SPNG] for the SPNEGO tokens, RFC 1002 for NetBIOS sessions; a
 * domain-joined Windows's answer to the SMB1 NEGOTIATE with SMB2 dialects,
 * captured in nmap pull request 2110 (its layout, wildcard dialect, sizes
 * 8 MiB, capabilities 7, the domain member's mechTypes and negHints: lure's
 * answer is the same 248 bytes but ServerGuid, SystemTime and a zero
 * ServerStartTime, which nmap's smb2-time shows as N/A on Server 2016
 * and later); SMB1
 * refused with an RST as Metasploit's smb1 scanner notes it (pull request
 * 8978) for a Windows without SMB1 (not installed on Server 2019);
 * test/persona/test_windows_smb.py runs impacket, smbclient and nmap.
 *
 * Not modelled: SMB1 itself (Server 2019 has none: RST), signing and
 * encryption (nothing follows a login), Kerberos (a token without NTLMSSP
 * is refused as a failed logon), compounded requests (the first is
 * answered), credits (as many as asked, 1 to 512), a second
 * channel, a message over SMB_MAX bytes (logged, closed); after an
 * anonymous session (accepted with SMB2_SESSION_FLAG_IS_NULL, as Windows
 * does) every request but ECHO and LOGOFF answers STATUS_ACCESS_DENIED,
 * where Windows would let it open IPC$; SessionIds are random. */
#include <string.h>

#include "bytes.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "hash.h"
#include "identity.h"
#include "lure.h"
#include "ntlm.h"
#include "persona.h"

#define SMB_MAX 4092 /* largest message held, with its 4-byte length: 4 KiB */
#define SMB_OUT 1024 /* largest answer */

#define ST_SUCCESS 0x00000000u
#define ST_MORE 0xC0000016u
#define ST_INVALID 0xC000000Du
#define ST_NOT_SUPPORTED 0xC00000BBu
#define ST_LOGON_FAILURE 0xC000006Du
#define ST_ACCESS_DENIED 0xC0000022u
#define ST_SESSION_DELETED 0xC0000203u

enum smb_phase { SP_NEW, SP_NEGOTIATED, SP_CHALLENGED, SP_ANON };

struct smb_state {
	uint8_t phase;
	uint8_t nbss; /* the NetBIOS session request came (or is not due) */
	uint8_t spnego; /* the client wrapped NTLMSSP in SPNEGO */
	uint16_t dialect;
	uint8_t challenge[8];
	uint8_t session[8];
};
_Static_assert(sizeof(struct smb_state) <= 64, "smb_state grew");

static uint8_t smb_out[SMB_OUT];

/* --- little helpers ------------------------------------------------------ */

static uint32_t
smb_num(const char *key, uint32_t def)
{
	return (uint32_t)persona_int(key, (long)def);
}

/* The next hex word of a persona list ("0202 0210"), or -1 at its end. */
static long
smb_word(const char **s)
{
	long v = -1;

	while (**s == ' ' || **s == ',')
		(*s)++;
	while (fmt_hexval(**s) >= 0) {
		v = (v < 0 ? 0 : v << 4) | fmt_hexval(**s);
		(*s)++;
		if (v > 0xffff)
			return -1;
	}
	return v;
}

static int
smb_listed(const char *key, unsigned v)
{
	const char *s = persona_get(key, NULL);
	long w;

	while (s && (w = smb_word(&s)) >= 0)
		if ((unsigned)w == v)
			return 1;
	return 0;
}

/* --- framing and the SMB2 header ----------------------------------------- */

/* Send the NetBIOS-framed message smb_out[4..4+n). */
static void
smb_send(struct emu_ctx *ctx, size_t n)
{
	smb_out[0] = 0;
	smb_out[1] = (uint8_t)(n >> 16);
	smb_out[2] = (uint8_t)(n >> 8);
	smb_out[3] = (uint8_t)n;
	if (emu_send(ctx, smb_out, n + 4) < 0)
		emu_close(ctx);
}

/* The response header for request header q (NULL: the SMB1 upgrade's);
 * the body goes at smb_out + 4 + 64. */
static uint8_t *
smb_header(const uint8_t *q, uint32_t status, const struct smb_state *st)
{
	uint8_t *h = smb_out + 4;
	uint16_t credits = 1;

	memset(h, 0, 64);
	memcpy(h, "\xfeSMB", 4);
	bytes_put16(h + 4, 64);
	bytes_put32(h + 8, status);
	bytes_put32(h + 16, 1); /* SMB2_FLAGS_SERVER_TO_REDIR */
	if (q) {
		memcpy(h + 6, q + 6, 2); /* CreditCharge */
		memcpy(h + 12, q + 12, 2); /* Command */
		credits = bytes_le16(q + 14) ? bytes_le16(q + 14) : 1;
		if (credits > 512)
			credits = 512;
		if (bytes_le16(q + 12) == 0) /* NEGOTIATE: one */
			credits = 1;
		memcpy(h + 24, q + 24, 8); /* MessageId */
		memcpy(h + 32, q + 32, 8); /* Reserved (ProcessId), TreeId */
		if (st->phase >= SP_CHALLENGED || bytes_le16(q + 12) == 1)
			memcpy(h + 40, st->session, 8);
		else
			memcpy(h + 40, q + 40, 8);
	}
	bytes_put16(h + 14, credits);
	return h + 64;
}

/* The SMB2 ERROR response ([MS-SMB2] 2.2.2) with status. */
static void
smb_error(struct emu_ctx *ctx, const uint8_t *q, uint32_t status,
        const struct smb_state *st)
{
	uint8_t *b = smb_header(q, status, st);

	memset(b, 0, 9);
	bytes_put16(b, 9);
	smb_send(ctx, 64 + 9);
}

/* --- events -------------------------------------------------------------- */

static struct event *
smb_request(struct emu_ctx *ctx, const char *command, int version)
{
	struct event *e = emu_event(ctx, "request");

	event_str(e, "lure.smb.command", command);
	event_int(e, "lure.smb.version", version);
	return e;
}

static void
smb_garbage(struct emu_ctx *ctx, const uint8_t *p, size_t n, const char *why)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
	event_int(e, "source.bytes", (int64_t)n);
	event_str(e, "error.message", why);
	event_commit(e);
}

static const char *
smb_dialect_name(unsigned d, char *tmp)
{
	switch (d) {
	case 0x0202: return "2.0.2";
	case 0x0210: return "2.1";
	case 0x0222: return "2.2.2";
	case 0x0224: return "2.2.4";
	case 0x02ff: return "2.???";
	case 0x0300: return "3.0";
	case 0x0302: return "3.0.2";
	case 0x0310: return "3.1.0";
	case 0x0311: return "3.1.1";
	}
	tmp[0] = '0';
	tmp[1] = 'x';
	hash_hex((const uint8_t[]){(uint8_t)(d >> 8), (uint8_t)d}, 2, tmp + 2);
	return tmp;
}

/* --- SMB1 NEGOTIATE ------------------------------------------------------ */

/* The dialects of the MS17-010 tools' SMB1 NEGOTIATE (WannaCry,
 * EternalBlue, the checkers) and of nmap -sV's SMBProgNeg probe. */
static const char smb_ms17[] = "PC NETWORK PROGRAM 1.0,LANMAN1.0,"
                               "Windows for Workgroups 3.1a,LM1.2X002,"
                               "LANMAN2.1,NT LM 0.12";
static const char smb_nmap[] = "PC NETWORK PROGRAM 1.0,MICROSOFT NETWORKS "
                               "1.03,MICROSOFT NETWORKS 3.0,LANMAN1.0,"
                               "LM1.2X002,Samba,NT LANMAN 1.0,NT LM 0.12";

static size_t
smb_negotiate2(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q,
        size_t n, unsigned dialect);

static void
smb1_negotiate(
        struct emu_ctx *ctx, struct smb_state *st, const uint8_t *m, size_t n)
{
	char list[512];
	size_t ln = 0, bc, i;
	int wild = 0, two = 0, cut = 0;
	struct event *e;

	/* header 32, WordCount (0), ByteCount, then 0x02 "name\0"... */
	if (n < 35 || m[32] != 0) {
		smb_garbage(ctx, m, n, "bad SMB1 NEGOTIATE");
		emu_reset(ctx);
		return;
	}
	bc = bytes_le16(m + 33);
	if (bc > n - 35)
		bc = n - 35;
	for (i = 35; i < 35 + bc && m[i] == 2;) {
		const uint8_t *s = m + i + 1;
		const uint8_t *z = memchr(s, 0, 35 + bc - (i + 1));
		size_t sl = z ? (size_t)(z - s) : 35 + bc - (i + 1);
		if (!sl) {
			i += 2;
			continue;
		}
		if (ln + sl + 1 < sizeof list) {
			if (ln)
				list[ln++] = ',';
			memcpy(list + ln, s, sl);
			ln += sl;
		} else {
			cut = 1;
		}
		if (sl == 9 && memcmp(s, "SMB 2.???", 9) == 0)
			wild = 1;
		if (sl == 9 && memcmp(s, "SMB 2.002", 9) == 0)
			two = 1;
		i += sl + 2;
	}
	list[ln] = 0;
	if (wild || two) {
		/* [MS-SMB2] 3.3.5.3.1: the SMB2 NEGOTIATE response, MessageId 0 */
		e = smb_request(ctx, "NEGOTIATE", 1);
		event_bytes(e, "lure.smb.dialects", list, ln, sizeof list);
		event_str(e, "lure.smb.dialect", wild ? "2.???" : "2.0.2");
		event_commit(e);
		smb_negotiate2(ctx, st, NULL, 0, wild ? 0x02ff : 0x0202);
		return;
	}
	/* SMB1 only: Server 2019 has no SMB1 server and resets */
	if (!cut && strcmp(list, smb_ms17) == 0) {
		e = emu_event(ctx, "exploit");
		event_str(e, "rule.name", "smb1-ms17-010");
		event_str(e, "vulnerability.id", "CVE-2017-0144");
		event_str(e, "lure.smb.tool", "ms17-010");
		event_tag(e, "smb");
		event_tag(e, "ms17-010");
	} else {
		e = smb_request(ctx, "NEGOTIATE", 1);
		if (!cut && strcmp(list, smb_nmap) == 0)
			event_str(e, "lure.smb.tool", "nmap");
	}
	event_bytes(e, "lure.smb.dialects", list, ln, sizeof list);
	event_str(e, "error.message", "SMB1 refused");
	event_commit(e);
	emu_reset(ctx);
}

/* --- SMB2 NEGOTIATE ------------------------------------------------------ */

struct smb_ctxit {
	size_t at; /* offset of the next context in the message */
	unsigned left; /* contexts the request still claims */
};

/* The next negotiate context of the NEGOTIATE request q[0..n) ([MS-SMB2]
 * 2.2.3.1; 8-byte aligned): its data, type and length, or NULL at the end
 * or at one that does not fit. */
static const uint8_t *
smb_ctx_next(const uint8_t *q, size_t n, struct smb_ctxit *it, unsigned *type,
        size_t *dl)
{
	const uint8_t *c;

	if (!it->left || it->at < 64 || it->at > n || n - it->at < 8)
		return NULL;
	c = q + it->at;
	*type = bytes_le16(c);
	*dl = bytes_le16(c + 2);
	if (*dl > n - it->at - 8)
		return NULL;
	it->left--;
	it->at += (8 + *dl + 7) & ~(size_t)7;
	return c + 8;
}

/* Answer with dialect d (q NULL: the SMB1 upgrade); returns 0. */
static size_t
smb_negotiate2(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q,
        size_t n, unsigned d)
{
	char guid[IDENTITY_VALUE_MAX];
	size_t gl = 0, bl = 0, off, i;
	const char *g = persona_get("smb.guid", &gl);
	const char *blob = persona_get("smb.spnego_init", &bl);
	uint8_t *b = smb_header(q, ST_SUCCESS, st);
	uint32_t caps = d == 0x0202  ? smb_num("smb.caps_202", 1)
	                : d < 0x0300 ? smb_num("smb.caps_210", 7)
	                             : smb_num("smb.caps_3", 7);
	unsigned cipher = 0, want_cipher = 0;

	if (q && d >= 0x0300) /* what the client has of these */
		caps |= bytes_le32(q + 64 + 8) &
		        (d == 0x0311 ? smb_num("smb.caps_311_echo", 0x28)
		                     : smb_num("smb.caps_30_echo", 0x68));
	memset(b, 0, 64);
	bytes_put16(b, 65);
	b[2] = (uint8_t)smb_num("smb.security_mode", 1);
	bytes_put16(b + 4, d);
	gl = g ? identity_expand(g, gl, guid, sizeof guid) : 0;
	for (i = 0; i < 16 && 2 * i + 1 < gl; i++)
		b[8 + i] = (uint8_t)(fmt_hexval(guid[2 * i]) << 4 |
		                     fmt_hexval(guid[2 * i + 1]));
	bytes_put32(b + 24, caps);
	bytes_put32(b + 28, smb_num("smb.max_transact", 8388608));
	bytes_put32(b + 32, smb_num("smb.max_read", 8388608));
	bytes_put32(b + 36, smb_num("smb.max_write", 8388608));
	bytes_put64(b + 40, ntlm_filetime());
	bytes_put64(b + 48, (uint64_t)persona_int("smb.start_time", 0));
	if (bl > SMB_OUT - 4 - 64 - 64 - 96)
		bl = 0;
	bytes_put16(b + 56, 128);
	bytes_put16(b + 58, (uint32_t)bl);
	if (blob)
		memcpy(b + 64, blob, bl);
	off = 64 + 64 + bl;
	if (d == 0x0311 && q) {
		/* the client's ENCRYPTION_CAPABILITIES: first cipher served */
		struct smb_ctxit it = {
		        bytes_le32(q + 64 + 28), bytes_le16(q + 64 + 32)};
		const uint8_t *c;
		unsigned type;
		size_t dl;
		while ((c = smb_ctx_next(q, n, &it, &type, &dl))) {
			if (type != 2 || dl < 2)
				continue;
			want_cipher = 1;
			for (size_t k = 0;
			        k < bytes_le16(c) && 2 + 2 * k + 2 <= dl; k++)
				if (smb_listed("smb.ciphers",
				            bytes_le16(c + 2 + 2 * k))) {
					cipher = bytes_le16(c + 2 + 2 * k);
					break;
				}
		}
		off = (off + 7) & ~(size_t)7;
		bytes_put32(b + 60, (uint32_t)off);
		bytes_put16(b + 6, want_cipher ? 2 : 1);
		/* PREAUTH_INTEGRITY: SHA-512, a 32-byte salt */
		i = off - 64;
		memset(b + i, 0, 48);
		bytes_put16(b + i, 1);
		bytes_put16(b + i + 2, 38);
		bytes_put16(b + i + 8, 1);
		bytes_put16(b + i + 10, 32);
		bytes_put16(b + i + 12, 1);
		lure_random(b + i + 14, 32);
		off += 46;
		if (want_cipher) {
			off = (off + 7) & ~(size_t)7;
			i = off - 64;
			memset(b + i, 0, 12);
			bytes_put16(b + i, 2);
			bytes_put16(b + i + 2, 4);
			bytes_put16(b + i + 8, 1);
			bytes_put16(b + i + 10, cipher);
			off += 12;
		}
	}
	st->dialect = (uint16_t)d;
	st->phase = SP_NEGOTIATED;
	smb_send(ctx, off);
	return 0;
}

static void
smb2_negotiate(
        struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q, size_t n)
{
	char list[256], ctxs[128], tmp[8];
	size_t ln = 0, cn = 0;
	unsigned dc, best = 0, pre = 0, ghost = 0;
	struct event *e;

	/* [MS-SMB2] 3.3.5.4: a second NEGOTIATE only after the wildcard's */
	if (!(st->phase == SP_NEW ||
	            (st->phase == SP_NEGOTIATED && st->dialect == 0x02ff)) ||
	        n < 64 + 36) {
		smb_garbage(ctx, q, n, "NEGOTIATE out of place");
		emu_close(ctx);
		return;
	}
	dc = bytes_le16(q + 64 + 2);
	for (unsigned k = 0; k < dc && 64 + 36 + 2 * k + 2 <= n; k++) {
		unsigned d = bytes_le16(q + 64 + 36 + 2 * k);
		const char *nm = smb_dialect_name(d, tmp);
		size_t l = strlen(nm);
		if (ln + l + 2 < sizeof list) {
			if (ln)
				list[ln++] = ',';
			memcpy(list + ln, nm, l);
			ln += l;
		}
		if (d > best && d != 0x02ff && smb_listed("smb.dialects", d))
			best = d;
	}
	list[ln] = 0;
	if (best == 0x0311) {
		struct smb_ctxit it = {
		        bytes_le32(q + 64 + 28), bytes_le16(q + 64 + 32)};
		unsigned type;
		size_t dl;
		while (smb_ctx_next(q, n, &it, &type, &dl)) {
			if (type == 1)
				pre++;
			if (type == 3)
				ghost = 1;
			if (cn + 8 < sizeof ctxs) {
				if (cn)
					ctxs[cn++] = ',';
				cn += fmt_dec(ctxs + cn, type);
			}
		}
	}
	ctxs[cn] = 0;
	if (ghost) {
		e = emu_event(ctx, "exploit");
		event_str(e, "rule.name", "smb-ghost");
		event_str(e, "vulnerability.id", "CVE-2020-0796");
		event_tag(e, "smb");
		event_tag(e, "smbghost");
		event_str(e, "lure.smb.dialects", list);
		event_str(e, "lure.smb.contexts", ctxs);
		event_commit(e);
	}
	e = smb_request(ctx, "NEGOTIATE", 2);
	event_str(e, "lure.smb.dialects", list);
	if (cn)
		event_str(e, "lure.smb.contexts", ctxs);
	if (best && !(best == 0x0311 && pre != 1))
		event_str(e, "lure.smb.dialect", smb_dialect_name(best, tmp));
	event_commit(e);
	if (!dc || (best == 0x0311 && pre != 1)) {
		smb_error(ctx, q, ST_INVALID, st);
		return;
	}
	if (!best) {
		smb_error(ctx, q, ST_NOT_SUPPORTED, st);
		return;
	}
	smb_negotiate2(ctx, st, q, n, best);
}

/* --- SESSION_SETUP: NTLMSSP (src/ntlm.c) in SPNEGO ----------------------- */

/* The SESSION_SETUP response with the security buffer t[0..tn) wrapped
 * as the client wrapped it, or with the final negState. */
static void
smb_setup_reply(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q,
        uint32_t status, uint16_t flags, const uint8_t *t, size_t tn, int state)
{
	uint8_t *b = smb_header(q, status, st), *p;
	size_t ml = 0, len = 0;
	const char *mech = persona_get("smb.spnego_mech", &ml);

	memset(b, 0, 8);
	bytes_put16(b, 9);
	bytes_put16(b + 2, flags);
	bytes_put16(b + 4, 64 + 8);
	p = b + 8;
	if (!st->spnego) {
		if (t)
			memmove(p, t, tn);
		len = t ? tn : 0;
	} else {
		len = ntlm_spnego_resp(p, SMB_OUT - 4 - 64 - 8,
		        (const uint8_t *)mech, ml, t, tn, state);
	}
	bytes_put16(b + 6, (uint32_t)len);
	smb_send(ctx, 64 + 8 + len);
}

static void
smb2_session_setup(
        struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q, size_t n)
{
	static uint8_t chal[512];
	size_t bo, bl, ml = 0, cl;
	const uint8_t *m;
	struct event *e;
	int anon = 0;

	if (st->phase < SP_NEGOTIATED || n < 64 + 24) {
		smb_garbage(ctx, q, n, "SESSION_SETUP out of place");
		emu_close(ctx);
		return;
	}
	bo = bytes_le16(q + 64 + 12);
	bl = bytes_le16(q + 64 + 14);
	if (bo > n || bl > n - bo)
		bl = 0;
	m = bl ? ntlm_find(q + bo, bl, &ml) : NULL;
	st->spnego = bl && q[bo] != 'N';
	if (!m || (ntlm_type(m, ml) != 1 && ntlm_type(m, ml) != 3)) {
		e = smb_request(ctx, "SESSION_SETUP", 2);
		event_str(e, "error.message", "no NTLMSSP");
		if (bl)
			event_bytes(e, "lure.payload", q + bo, bl, 256);
		event_commit(e);
		smb_error(ctx, q, ST_LOGON_FAILURE, st);
		return;
	}
	if (ntlm_type(m, ml) == 1) {
		e = smb_request(ctx, "SESSION_SETUP", 2);
		ntlm_negotiate_fields(e, m, ml);
		event_commit(e);
		if (st->phase != SP_CHALLENGED) {
			lure_random(st->session, 8);
			st->session[6] = st->session[7] = 0;
		}
		cl = ntlm_challenge(
		        chal, sizeof chal, ntlm_flags(m, ml), st->challenge);
		st->phase = SP_CHALLENGED;
		smb_setup_reply(ctx, st, q, ST_MORE, 0, chal, cl, 1);
		return;
	}
	if (ml >= 64) {
		e = emu_event(ctx, "login");
		anon = ntlm_login(
		        e, m, ml, st->challenge, "lure.smb.workstation");
		event_str(e, "event.outcome", anon ? "success" : "failure");
		event_commit(e);
	}
	if (anon) {
		st->phase = SP_ANON;
		smb_setup_reply(ctx, st, q, ST_SUCCESS, 2, NULL, 0, 0);
		return;
	}
	smb_error(ctx, q, ST_LOGON_FAILURE, st);
	st->phase = SP_NEGOTIATED;
}

/* --- dispatch ------------------------------------------------------------ */

static const char *const smb_commands[] = {"NEGOTIATE", "SESSION_SETUP",
        "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT", "CREATE", "CLOSE", "FLUSH",
        "READ", "WRITE", "LOCK", "IOCTL", "CANCEL", "ECHO", "QUERY_DIRECTORY",
        "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO", "OPLOCK_BREAK"};

static void
smb2(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q, size_t n)
{
	unsigned cmd;
	uint8_t *b;
	struct event *e;

	if (n < 64 || bytes_le16(q + 4) != 64) {
		smb_garbage(ctx, q, n, "bad SMB2 header");
		emu_close(ctx);
		return;
	}
	cmd = bytes_le16(q + 12);
	if (cmd == 0) {
		smb2_negotiate(ctx, st, q, n);
		return;
	}
	if (cmd == 1) {
		smb2_session_setup(ctx, st, q, n);
		return;
	}
	e = smb_request(ctx,
	        cmd < LURE_ARRAY_LEN(smb_commands) ? smb_commands[cmd]
	                                           : "UNKNOWN",
	        2);
	event_int(e, "lure.smb.command_code", cmd);
	event_commit(e);
	if (st->phase < SP_NEGOTIATED) {
		/* [MS-SMB2] 3.3.5.2: before NEGOTIATE, a disconnect */
		emu_close(ctx);
		return;
	}
	if (cmd == 0x0d || (cmd == 2 && st->phase == SP_ANON)) {
		b = smb_header(q, ST_SUCCESS, st);
		bytes_put32(b, 4);
		smb_send(ctx, 64 + 4);
		if (cmd == 2)
			st->phase = SP_NEGOTIATED;
		return;
	}
	smb_error(ctx, q,
	        st->phase == SP_ANON ? ST_ACCESS_DENIED : ST_SESSION_DELETED,
	        st);
}

/* The NetBIOS session request (RFC 1002 4.3.2): log the called name and
 * answer the positive session response. */
static void
smb_nbss(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *m, size_t n)
{
	char name[16];
	size_t k = 0;
	struct event *e = smb_request(ctx, "SESSION_REQUEST", 0);

	if (n >= 33 && m[0] == 32) {
		for (k = 0; k < 15; k++) {
			int hi = m[1 + 2 * k] - 'A', lo = m[2 + 2 * k] - 'A';
			if (hi < 0 || hi > 15 || lo < 0 || lo > 15)
				break;
			name[k] = (char)(hi << 4 | lo);
		}
		while (k && name[k - 1] == ' ')
			k--;
		event_bytes(e, "lure.smb.called_name", name, k, 16);
	}
	event_commit(e);
	st->nbss = 1;
	memcpy(smb_out, "\x82\0\0\0", 4);
	if (emu_send(ctx, smb_out, 4) < 0)
		emu_close(ctx);
}

static void
smb_open(struct emu_ctx *ctx, void *state)
{
	struct smb_state *st = state;

	st->nbss = emu_port(ctx) != (uint16_t)persona_int("smb.nbss_port", 0);
}

static size_t
smb_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct smb_state *st = state;
	size_t len;
	const uint8_t *m;

	if (n < 4)
		return 0;
	len = (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
	if (p[0] == 0 && !st->nbss) {
		/* a session message before the session request: the negative
		 * response Windows sends (nmap's netbios-ssn match) */
		const char *r = persona_get("smb.nbss_refuse", &len);
		smb_garbage(ctx, p, n, "no NetBIOS session");
		if (r)
			emu_send_const(ctx, r, len);
		emu_close(ctx);
		return n;
	}
	if ((p[0] != 0 && p[0] != 0x81 && p[0] != 0x85) ||
	        (p[0] == 0x81 && st->nbss)) {
		smb_garbage(ctx, p, n, "not an SMB message");
		emu_close(ctx);
		return n;
	}
	if (len > SMB_MAX) {
		smb_garbage(ctx, p, n, "message too long");
		emu_close(ctx);
		return n;
	}
	if (n - 4 < len)
		return 0;
	m = p + 4;
	if (p[0] == 0x85) /* keep-alive */
		return 4 + len;
	if (p[0] == 0x81) {
		smb_nbss(ctx, st, m, len);
		return 4 + len;
	}
	if (len >= 64 && memcmp(m, "\xfeSMB", 4) == 0)
		smb2(ctx, st, m, len);
	else if (len >= 5 && memcmp(m, "\xffSMB", 4) == 0 && m[4] == 0x72 &&
	         st->phase == SP_NEW)
		smb1_negotiate(ctx, st, m, len);
	else if (len >= 4 && memcmp(m, "\xffSMB", 4) == 0) {
		/* no SMB1 server: whatever it is, a reset */
		smb_garbage(ctx, m, len, "SMB1 refused");
		emu_reset(ctx);
	} else {
		smb_garbage(ctx, m, len, "not an SMB message");
		emu_close(ctx);
	}
	return 4 + len;
}

const struct emulator emu_smb = {
        .name = "smb",
        .transports = EMU_TCP,
        .state_size = sizeof(struct smb_state),
        .in_min = SMB_MAX + 4,
        .on_open = smb_open,
        .on_data = smb_data,
};
