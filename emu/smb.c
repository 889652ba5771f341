/* smb.c: SMB on 445/tcp (and 139/tcp after the NetBIOS session request) as
 * a Windows Server 2019 member server answers it before a login: SMB2/3
 * NEGOTIATE (2.0.2 to 3.1.1, the negotiate contexts), the SMB1 NEGOTIATE
 * that offers SMB2 dialects answered with the SMB2 wildcard, then
 * SESSION_SETUP with NTLMSSP (raw or in SPNEGO): a CHALLENGE with the
 * persona's target information, the AUTHENTICATE parsed into a "login"
 * event with the NetNTLMv2 (or v1) response as crackers take it, then
 * STATUS_LOGON_FAILURE. Nothing is served beyond that.
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
 *   smb.ntlm_flags           CHALLENGE's flags always set
 *   smb.ntlm_flags_echo      CHALLENGE's flags set when the client asks
 *   smb.ntlm_version         CHALLENGE's Version (8 bytes, [MS-NLMP]
 *                            2.2.2.10)
 *   smb.nb_domain smb.nb_computer smb.dns_domain smb.dns_computer
 *   smb.dns_tree             the target information (AV pairs 2 1 4 3 5,
 *                            ${identity} values expanded); nb_domain is
 *                            the TargetName too
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

#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"

#define SMB_MAX 4092 /* largest message held, with its 4-byte length: 4 KiB */
#define SMB_OUT 1024 /* largest answer */
#define SMB_NAME 256 /* UTF-8 bytes of a user, domain or workstation */
#define SMB_NTRESP 1024 /* bytes of an NT response put in the hash */

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
static char smb_hash[2 * SMB_NAME + 64 + 2 * SMB_NTRESP + 64];

/* --- little helpers ------------------------------------------------------ */

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void
put16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void
put32(uint8_t *p, uint32_t v)
{
	put16(p, v);
	put16(p + 2, v >> 16);
}

static void
put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

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

/* FILETIME of lure_wall(). */
static uint64_t
smb_filetime(void)
{
	return (uint64_t)lure_wall() * 10000u + 116444736000000000ull;
}

/* A persona string with ${identity} values, as UTF-16LE at out; its
 * length in bytes. */
static size_t
smb_utf16(const char *key, uint8_t *out, size_t cap)
{
	char tmp[IDENTITY_VALUE_MAX * 2];
	size_t len = 0, n;
	const char *v = persona_get(key, &len);

	if (!v)
		return 0;
	n = identity_expand(v, len, tmp, sizeof tmp);
	if (n >= sizeof tmp)
		n = sizeof tmp - 1;
	if (2 * n > cap)
		n = cap / 2;
	for (size_t i = 0; i < n; i++) /* ASCII names */
		put16(out + 2 * i, (uint8_t)tmp[i]);
	return 2 * n;
}

/* UTF-16LE to UTF-8 (bad surrogates as U+FFFD); bytes written. */
static size_t
smb_utf8(const uint8_t *p, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i + 1 < n; i += 2) {
		uint32_t c = le16(p + i);
		if (c >= 0xd800 && c < 0xdc00 && i + 3 < n &&
		        le16(p + i + 2) >= 0xdc00 && le16(p + i + 2) < 0xe000) {
			c = 0x10000 + ((c - 0xd800) << 10) +
			    (le16(p + i + 2) - 0xdc00);
			i += 2;
		} else if (c >= 0xd800 && c < 0xe000) {
			c = 0xfffd;
		}
		if (o + 4 > cap)
			break;
		if (c < 0x80) {
			out[o++] = (char)c;
		} else if (c < 0x800) {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else if (c < 0x10000) {
			out[o++] = (char)(0xe0 | c >> 12);
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		} else {
			out[o++] = (char)(0xf0 | c >> 18);
			out[o++] = (char)(0x80 | (c >> 12 & 0x3f));
			out[o++] = (char)(0x80 | (c >> 6 & 0x3f));
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	return o;
}

static void
smb_lower_hex(const uint8_t *p, size_t n, char *out)
{
	static const char x[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = x[p[i] >> 4];
		out[2 * i + 1] = x[p[i] & 15];
	}
	out[2 * n] = 0;
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
	put16(h + 4, 64);
	put32(h + 8, status);
	put32(h + 16, 1); /* SMB2_FLAGS_SERVER_TO_REDIR */
	if (q) {
		memcpy(h + 6, q + 6, 2); /* CreditCharge */
		memcpy(h + 12, q + 12, 2); /* Command */
		credits = le16(q + 14) ? le16(q + 14) : 1;
		if (credits > 512)
			credits = 512;
		if (le16(q + 12) == 0) /* NEGOTIATE: one */
			credits = 1;
		memcpy(h + 24, q + 24, 8); /* MessageId */
		memcpy(h + 32, q + 32, 8); /* Reserved (ProcessId), TreeId */
		if (st->phase >= SP_CHALLENGED || le16(q + 12) == 1)
			memcpy(h + 40, st->session, 8);
		else
			memcpy(h + 40, q + 40, 8);
	}
	put16(h + 14, credits);
	return h + 64;
}

/* The SMB2 ERROR response ([MS-SMB2] 2.2.2) with status. */
static void
smb_error(struct emu_ctx *ctx, const uint8_t *q, uint32_t status,
        const struct smb_state *st)
{
	uint8_t *b = smb_header(q, status, st);

	memset(b, 0, 9);
	put16(b, 9);
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
	smb_lower_hex(
	        (const uint8_t[]){(uint8_t)(d >> 8), (uint8_t)d}, 2, tmp + 2);
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
	bc = le16(m + 33);
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
	*type = le16(c);
	*dl = le16(c + 2);
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
		caps |= le32(q + 64 + 8) &
		        (d == 0x0311 ? smb_num("smb.caps_311_echo", 0x28)
		                     : smb_num("smb.caps_30_echo", 0x68));
	memset(b, 0, 64);
	put16(b, 65);
	b[2] = (uint8_t)smb_num("smb.security_mode", 1);
	put16(b + 4, d);
	gl = g ? identity_expand(g, gl, guid, sizeof guid) : 0;
	for (i = 0; i < 16 && 2 * i + 1 < gl; i++)
		b[8 + i] = (uint8_t)(fmt_hexval(guid[2 * i]) << 4 |
		                     fmt_hexval(guid[2 * i + 1]));
	put32(b + 24, caps);
	put32(b + 28, smb_num("smb.max_transact", 8388608));
	put32(b + 32, smb_num("smb.max_read", 8388608));
	put32(b + 36, smb_num("smb.max_write", 8388608));
	put64(b + 40, smb_filetime());
	put64(b + 48, (uint64_t)persona_int("smb.start_time", 0));
	if (bl > SMB_OUT - 4 - 64 - 64 - 96)
		bl = 0;
	put16(b + 56, 128);
	put16(b + 58, (uint32_t)bl);
	if (blob)
		memcpy(b + 64, blob, bl);
	off = 64 + 64 + bl;
	if (d == 0x0311 && q) {
		/* the client's ENCRYPTION_CAPABILITIES: first cipher served */
		struct smb_ctxit it = {le32(q + 64 + 28), le16(q + 64 + 32)};
		const uint8_t *c;
		unsigned type;
		size_t dl;
		while ((c = smb_ctx_next(q, n, &it, &type, &dl))) {
			if (type != 2 || dl < 2)
				continue;
			want_cipher = 1;
			for (size_t k = 0; k < le16(c) && 2 + 2 * k + 2 <= dl;
			        k++)
				if (smb_listed("smb.ciphers",
				            le16(c + 2 + 2 * k))) {
					cipher = le16(c + 2 + 2 * k);
					break;
				}
		}
		off = (off + 7) & ~(size_t)7;
		put32(b + 60, (uint32_t)off);
		put16(b + 6, want_cipher ? 2 : 1);
		/* PREAUTH_INTEGRITY: SHA-512, a 32-byte salt */
		i = off - 64;
		memset(b + i, 0, 48);
		put16(b + i, 1);
		put16(b + i + 2, 38);
		put16(b + i + 8, 1);
		put16(b + i + 10, 32);
		put16(b + i + 12, 1);
		lure_random(b + i + 14, 32);
		off += 46;
		if (want_cipher) {
			off = (off + 7) & ~(size_t)7;
			i = off - 64;
			memset(b + i, 0, 12);
			put16(b + i, 2);
			put16(b + i + 2, 4);
			put16(b + i + 8, 1);
			put16(b + i + 10, cipher);
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
	dc = le16(q + 64 + 2);
	for (unsigned k = 0; k < dc && 64 + 36 + 2 * k + 2 <= n; k++) {
		unsigned d = le16(q + 64 + 36 + 2 * k);
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
		struct smb_ctxit it = {le32(q + 64 + 28), le16(q + 64 + 32)};
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

/* --- NTLMSSP and SPNEGO -------------------------------------------------- */

#define NTLM_UNICODE 0x00000001u
#define NTLM_OEM 0x00000002u
#define NTLM_VERSION 0x02000000u

static const uint8_t smb_ntlmssp[8] = {'N', 'T', 'L', 'M', 'S', 'S', 'P', 0};

/* A DER tag and length at p; bytes written. */
static size_t
smb_der(uint8_t *p, uint8_t tag, size_t len)
{
	p[0] = tag;
	if (len < 0x80) {
		p[1] = (uint8_t)len;
		return 2;
	}
	if (len < 0x100) {
		p[1] = 0x81;
		p[2] = (uint8_t)len;
		return 3;
	}
	p[1] = 0x82;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	return 4;
}

static size_t
smb_der_size(size_t len)
{
	return len < 0x80 ? 2 : len < 0x100 ? 3 : 4;
}

static size_t
smb_av(uint8_t *p, unsigned id, const char *key, size_t cap)
{
	size_t n;

	if (cap < 4)
		return 0;
	n = smb_utf16(key, p + 4, cap - 4);
	put16(p, id);
	put16(p + 2, (uint32_t)n);
	return 4 + n;
}

/* The CHALLENGE ([MS-NLMP] 2.2.1.2) at p (cap bytes); its length. */
static size_t
smb_challenge(struct smb_state *st, uint32_t client, uint8_t *p, size_t cap)
{
	size_t vl = 0, tn, o, ti;
	const char *ver = persona_get("smb.ntlm_version", &vl);
	uint32_t fl = smb_num("smb.ntlm_flags", 0x02818204) |
	              (client & smb_num("smb.ntlm_flags_echo", 0xE0080033));

	if (fl & NTLM_UNICODE)
		fl &= ~NTLM_OEM;
	if (cap < 56 + 200)
		return 0;
	memset(p, 0, 56);
	memcpy(p, smb_ntlmssp, 8);
	put32(p + 8, 2);
	put32(p + 20, fl);
	lure_random(st->challenge, 8);
	memcpy(p + 24, st->challenge, 8);
	if (ver && vl == 8)
		memcpy(p + 48, ver, 8);
	tn = smb_utf16("smb.nb_domain", p + 56, 64);
	put16(p + 12, (uint32_t)tn);
	put16(p + 14, (uint32_t)tn);
	put32(p + 16, 56);
	o = ti = 56 + tn;
	o += smb_av(p + o, 2, "smb.nb_domain", cap - o);
	o += smb_av(p + o, 1, "smb.nb_computer", cap - o);
	o += smb_av(p + o, 4, "smb.dns_domain", cap - o);
	o += smb_av(p + o, 3, "smb.dns_computer", cap - o);
	o += smb_av(p + o, 5, "smb.dns_tree", cap - o);
	if (o + 16 > cap)
		return 0;
	put16(p + o, 7);
	put16(p + o + 2, 8);
	put64(p + o + 4, smb_filetime());
	put32(p + o + 12, 0); /* MsvAvEOL */
	o += 16;
	put16(p + 40, (uint32_t)(o - ti));
	put16(p + 42, (uint32_t)(o - ti));
	put32(p + 44, (uint32_t)ti);
	return o;
}

/* A field (Len, MaxLen, Offset) of an NTLM message m[0..n): its bytes or
 * NULL (out of bounds: empty). */
static const uint8_t *
smb_field(const uint8_t *m, size_t n, size_t at, size_t *len)
{
	size_t l = le16(m + at), o = le32(m + at + 4);

	*len = 0;
	if (o > n || l > n - o)
		return NULL;
	*len = l;
	return m + o;
}

/* A name field as UTF-8 into out (SMB_NAME bytes); its length. */
static size_t
smb_name(const uint8_t *m, size_t n, size_t at, int unicode, char *out)
{
	size_t l;
	const uint8_t *f = smb_field(m, n, at, &l);

	if (!f)
		return 0;
	if (unicode)
		return smb_utf8(f, l, out, SMB_NAME);
	l = LURE_MIN(l, (size_t)SMB_NAME);
	memcpy(out, f, l);
	return l;
}

/* The client's Version ([MS-NLMP] 2.2.2.10) v[0..8), when it sent one. */
static void
smb_client_version(struct event *e, const uint8_t *v, uint32_t fl)
{
	char s[24], *o = s;

	if (!(fl & NTLM_VERSION) || v[0] == 0)
		return;
	o += fmt_dec(o, v[0]);
	*o++ = '.';
	o += fmt_dec(o, v[1]);
	*o++ = '.';
	o += fmt_dec(o, le16(v + 2));
	*o = 0;
	event_str(e, "lure.auth.ntlm.client_version", s);
}

/* The AUTHENTICATE ([MS-NLMP] 2.2.1.3) m[0..n): a "login" event; 1 when
 * it is anonymous. */
static int
smb_authenticate(
        struct emu_ctx *ctx, struct smb_state *st, const uint8_t *m, size_t n)
{
	static char user[SMB_NAME], dom[SMB_NAME], ws[SMB_NAME];
	size_t ul, dl, wl, lml, ntl, h = 0;
	uint32_t fl = n >= 64 ? le32(m + 60) : 0;
	int uni = (fl & NTLM_UNICODE) != 0, anon;
	const uint8_t *lm, *nt;
	struct event *e;

	if (n < 64)
		return 0;
	ul = smb_name(m, n, 36, uni, user);
	dl = smb_name(m, n, 28, uni, dom);
	wl = smb_name(m, n, 44, uni, ws);
	lm = smb_field(m, n, 12, &lml);
	nt = smb_field(m, n, 20, &ntl);
	anon = ul == 0 && ntl == 0 && (lml == 0 || (lml == 1 && lm[0] == 0));
	e = emu_event(ctx, "login");
	event_bytes(e, "user.name", user, ul, SMB_NAME);
	if (dl)
		event_bytes(e, "user.domain", dom, dl, SMB_NAME);
	if (wl)
		event_bytes(e, "lure.smb.workstation", ws, wl, SMB_NAME);
	memcpy(smb_hash, user, ul);
	h = ul;
	memcpy(smb_hash + h, "::", 2);
	h += 2;
	memcpy(smb_hash + h, dom, dl);
	h += dl;
	smb_hash[h++] = ':';
	if (anon) {
		event_str(e, "lure.auth.method", "anonymous");
	} else if (nt && ntl == 24) {
		event_str(e, "lure.auth.method", "ntlmv1");
		if (lm && lml == 24)
			smb_lower_hex(lm, 24, smb_hash + h);
		else
			smb_lower_hex(nt, 24, smb_hash + h);
		h += 48;
		smb_hash[h++] = ':';
		smb_lower_hex(nt, 24, smb_hash + h);
		h += 48;
		smb_hash[h++] = ':';
		smb_lower_hex(st->challenge, 8, smb_hash + h);
		event_str(e, "lure.auth.ntlm.hash", smb_hash);
	} else if (nt && ntl > 24) {
		event_str(e, "lure.auth.method", "ntlmv2");
		smb_lower_hex(st->challenge, 8, smb_hash + h);
		h += 16;
		smb_hash[h++] = ':';
		smb_lower_hex(nt, 16, smb_hash + h);
		h += 32;
		smb_hash[h++] = ':';
		smb_lower_hex(nt + 16, LURE_MIN(ntl - 16, (size_t)SMB_NTRESP),
		        smb_hash + h);
		event_str(e, "lure.auth.ntlm.hash", smb_hash);
		if (ntl - 16 > SMB_NTRESP)
			event_bool(e, "lure.truncated", 1);
	} else {
		event_str(e, "lure.auth.method", lml ? "lm" : "ntlm");
	}
	if (n >= 72)
		smb_client_version(e, m + 64, fl);
	event_str(e, "event.outcome", anon ? "success" : "failure");
	event_commit(e);
	return anon;
}

/* The NTLMSSP message in a security buffer (raw, or the mechToken of a
 * SPNEGO token: found by its signature, the rest of the buffer). */
static const uint8_t *
smb_find_ntlm(const uint8_t *b, size_t n, size_t *len)
{
	const uint8_t *s = n >= 12 ? memmem(b, n, smb_ntlmssp, 8) : NULL;

	if (!s || (size_t)(b + n - s) < 12)
		return NULL;
	*len = (size_t)(b + n - s);
	return s;
}

/* The SESSION_SETUP response with the security buffer t[0..tn) wrapped
 * as the client wrapped it, or with the final negState. */
static void
smb_setup_reply(struct emu_ctx *ctx, struct smb_state *st, const uint8_t *q,
        uint32_t status, uint16_t flags, const uint8_t *t, size_t tn, int state)
{
	uint8_t *b = smb_header(q, status, st), *p;
	size_t ml = 0, inner, seq, len = 0;
	const char *mech = persona_get("smb.spnego_mech", &ml);

	memset(b, 0, 8);
	put16(b, 9);
	put16(b + 2, flags);
	put16(b + 4, 64 + 8);
	p = b + 8;
	if (!st->spnego) {
		if (t)
			memmove(p, t, tn);
		len = t ? tn : 0;
	} else {
		/* negTokenResp: negState, supportedMech, responseToken */
		inner = 5 +
		        (t ? smb_der_size(ml) + ml +
		                                smb_der_size(
		                                        tn + smb_der_size(tn)) +
		                                smb_der_size(tn) + tn
		           : 0);
		seq = smb_der_size(inner) + inner;
		len = smb_der(p, 0xa1, seq);
		len += smb_der(p + len, 0x30, inner);
		memcpy(p + len, "\xa0\x03\x0a\x01", 4);
		p[len + 4] = (uint8_t)state;
		len += 5;
		if (t) {
			len += smb_der(p + len, 0xa1, ml);
			memcpy(p + len, mech, ml);
			len += ml;
			len += smb_der(p + len, 0xa2, tn + smb_der_size(tn));
			len += smb_der(p + len, 0x04, tn);
			memmove(p + len, t, tn);
			len += tn;
		}
	}
	put16(b + 6, (uint32_t)len);
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

	if (st->phase < SP_NEGOTIATED || n < 64 + 24) {
		smb_garbage(ctx, q, n, "SESSION_SETUP out of place");
		emu_close(ctx);
		return;
	}
	bo = le16(q + 64 + 12);
	bl = le16(q + 64 + 14);
	if (bo > n || bl > n - bo)
		bl = 0;
	m = bl ? smb_find_ntlm(q + bo, bl, &ml) : NULL;
	st->spnego = bl && q[bo] != 'N';
	if (!m || le32(m + 8) < 1 || le32(m + 8) > 3 || le32(m + 8) == 2) {
		e = smb_request(ctx, "SESSION_SETUP", 2);
		event_str(e, "error.message", "no NTLMSSP");
		if (bl)
			event_bytes(e, "lure.payload", q + bo, bl, 256);
		event_commit(e);
		smb_error(ctx, q, ST_LOGON_FAILURE, st);
		return;
	}
	if (le32(m + 8) == 1) {
		e = smb_request(ctx, "SESSION_SETUP", 2);
		event_str(e, "lure.auth.ntlm.message", "NEGOTIATE");
		if (ml >= 40)
			smb_client_version(e, m + 32, le32(m + 12));
		event_commit(e);
		if (st->phase != SP_CHALLENGED) {
			lure_random(st->session, 8);
			st->session[6] = st->session[7] = 0;
		}
		cl = smb_challenge(
		        st, ml >= 16 ? le32(m + 12) : 0, chal, sizeof chal);
		st->phase = SP_CHALLENGED;
		smb_setup_reply(ctx, st, q, ST_MORE, 0, chal, cl, 1);
		return;
	}
	if (smb_authenticate(ctx, st, m, ml)) {
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

	if (n < 64 || le16(q + 4) != 64) {
		smb_garbage(ctx, q, n, "bad SMB2 header");
		emu_close(ctx);
		return;
	}
	cmd = le16(q + 12);
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
		put32(b, 4);
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
