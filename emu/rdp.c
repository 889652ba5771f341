/* rdp.c: Remote Desktop on 3389/tcp as a Windows Server 2019 with its
 * default "require Network Level Authentication" answers it before a
 * login: the X.224 Connection Request (its mstshash cookie or routing
 * token, the requested protocols) answered with a Connection Confirm
 * that selects CredSSP (HYBRID_EX or HYBRID; RDSTLS when asked alone) or
 * refuses with the negotiation failure; then TLS with the persona's certificate
 * (emu_starttls(): the port's line says "starttls"), then CredSSP
 * ([MS-CSSP]): the TSRequest with an NTLMSSP NEGOTIATE answered with a
 * CHALLENGE carrying the persona's target information (src/ntlm.h), the
 * AUTHENTICATE parsed into a "login" event with the NetNTLMv2 hash, then
 * the TSRequest with errorCode STATUS_LOGON_FAILURE and a close. A client
 * that sends a Connection Request without negotiation data (standard RDP
 * security, what BlueKeep scanners do) gets the Confirm without it and
 * its MCS Connect Initial is parsed: a request for the MS_T120 channel is
 * an "exploit" event. A client that starts with a TLS ClientHello (the
 * direct approach, [MS-RDPBCGR] 5.4.2.2: nmap's ssl-cert, sslscan) gets
 * TLS at once (emu_starttls_now()), then CredSSP as above.
 *
 * Persona keys. Numbers are decimal.
 *   rdp.select               [required] protocols served, in order of
 *                            preference ([MS-RDPBCGR] 2.2.1.1.1 values:
 *                            "8 2" HYBRID_EX then HYBRID): the first the
 *                            client requested is the RDP_NEG_RSP's
 *                            selectedProtocol
 *   rdp.neg_flags            RDP_NEG_RSP's flags (2.2.1.2.1)
 *   rdp.failure              [required] RDP_NEG_FAILURE's failureCode when
 *                            none of them was requested (2.2.1.2.2)
 *   rdp.failure_notls        its failureCode when lure has no TLS server
 *                            for this port (the build or the config)
 *   rdp.credssp_version      the server's TSRequest version ([MS-CSSP]
 *                            2.2.1)
 *   rdp.logon_status         the NTSTATUS in TSRequest errorCode after a
 *                            failed AUTHENTICATE (client version >= 3)
 *   ntlm.*                   the CHALLENGE (src/ntlm.c, ntlm.conf)
 *
 * Events. "request" per Connection Request: lure.rdp.pdu ("X.224
 * Connection Request", or "TLS ClientHello" for the direct approach),
 * lure.rdp.cookie (the cookie
 * or routing token line, without its CRLF), user.name (the mstshash
 * cookie's name: brute-forcers put the user there), lure.rdp.protocols
 * (requested: rdp, ssl, hybrid, rdstls, hybrid_ex, rdsaad, comma-separated;
 * absent without RDP_NEG_REQ), lure.rdp.selected (the protocol chosen) or
 * lure.rdp.failure (the failure code's name); per CredSSP NEGOTIATE:
 * lure.rdp.credssp_version, lure.auth.ntlm.message and the client's
 * lure.auth.ntlm.client_version; per MCS Connect Initial:
 * lure.rdp.pdu ("MCS Connect Initial"), lure.rdp.channels (the static
 * virtual channels requested), lure.rdp.client_name, lure.rdp.
 * client_build and lure.rdp.keyboard_layout (CS_CORE); a PDU that is not
 * understood: lure.payload, error.message. "login" per AUTHENTICATE:
 * user.name, user.domain, lure.rdp.workstation, lure.auth.method,
 * lure.auth.ntlm.hash (hashcat 5600), lure.auth.ntlm.client_version,
 * lure.rdp.credssp_version, event.outcome failure. "exploit"
 * (rule.name bluekeep, vulnerability.id CVE-2019-0708): a Connect Initial
 * whose channel list names MS_T120 (the channel BlueKeep's use-after-free
 * binds; no client asks for it by name), with the "request" fields.
 *
 * Sources (no Windows here to compare with): [MS-RDPBCGR] 2.2.1.1,
 * 2.2.1.2, 3.3.5.3.1 and 3.3.5.3.2 (the Confirm: destination reference 0,
 * source reference 0x1234, no negotiation data when the request had none;
 * a failure is followed by a close), 2.2.1.3 and T.125 for the Connect
 * Initial; [MS-CSSP] 2.2.1 and 3.1.5 for the TSRequest; nmap's service
 * database, whose "Windows 10" line is the Confirm to its
 * TerminalServerCookie probe (flags 0x1f, HYBRID for SSL|HYBRID), byte
 * for byte what lure sends; nmap's rdp-ntlm-info and rdp-enum-encryption,
 * FreeRDP's /auth-only and impacket's rdp_check.py
 * (test/persona/test_windows_rdp.py).
 *
 * Not modelled: TLS alone (a default 2019 requires NLA: a request
 * without HYBRID gets HYBRID_REQUIRED_BY_SERVER); RDSTLS past its
 * Confirm and the TLS handshake (what follows is no TSRequest: logged,
 * closed); standard RDP security past the Connect Initial (the connection
 * closes there: nmap's rdp-enum-encryption shows no "RDP Encryption
 * level" for Server 2019, so Windows sends no Connect Response; whether it
 * closes with a FIN, a reset or an X.224 Disconnect was not captured);
 * Kerberos in CredSSP (a token without NTLMSSP ends the connection);
 * SPNEGO's later rounds (a NEGOTIATE in a negTokenInit gets the CHALLENGE
 * in a negTokenResp; the final one is the errorCode); the pubKeyAuth is not checked
 * (the login fails anyway); the server's TSRequest version is 6 whatever
 * the client's; a PDU over RDP_MAX bytes is logged and closed. */
#include <string.h>

#include "bytes.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "lure.h"
#include "ntlm.h"
#include "persona.h"

#define RDP_MAX 4096 /* largest PDU held (TPKT or TSRequest) */
#define RDP_OUT 1024 /* largest answer */
#define RDP_NAME 256 /* bytes of a cookie or channel list logged */

/* requestedProtocols bits ([MS-RDPBCGR] 2.2.1.1.1) */
#define PROTO_SSL 0x01u
#define PROTO_HYBRID 0x02u

enum rdp_phase {
	RP_NEW, /* Connection Request next */
	RP_MCS, /* standard security: MCS Connect Initial next */
	RP_CREDSSP, /* TLS on: TSRequest with NEGOTIATE next */
	RP_AUTH, /* CHALLENGE sent: TSRequest with AUTHENTICATE next */
	RP_DONE
};

struct rdp_state {
	uint8_t phase;
	uint8_t version; /* the client's CredSSP version */
	uint8_t challenge[8];
};
_Static_assert(sizeof(struct rdp_state) <= 16, "rdp_state grew");

static uint8_t rdp_out[RDP_OUT];

/* --- helpers ------------------------------------------------------------- */

static void
rdp_garbage(struct emu_ctx *ctx, const uint8_t *p, size_t n, const char *why)
{
	struct event *e = emu_event(ctx, "request");

	event_bytes(e, "lure.payload", p, n, EVENT_CAP_PAYLOAD);
	event_int(e, "source.bytes", (int64_t)n);
	event_str(e, "error.message", why);
	event_commit(e);
}

/* One BER/DER header at *off of p[0..n): tag (one byte, or 0x7f and the
 * next), content length (checked against n). 0 or -1. */
static int
rdp_ber(const uint8_t *p, size_t n, size_t *off, unsigned *tag, size_t *len)
{
	size_t l, k;

	if (*off + 2 > n)
		return -1;
	*tag = p[(*off)++];
	if (*tag == 0x7f) {
		*tag = 0x7f00u | p[(*off)++];
		if (*off >= n)
			return -1;
	}
	l = p[(*off)++];
	if (l & 0x80) {
		k = l & 0x7f;
		if (k == 0 || k > 3 || *off + k > n)
			return -1;
		for (l = 0; k--;)
			l = l << 8 | p[(*off)++];
	}
	if (l > n - *off)
		return -1;
	*len = l;
	return 0;
}

/* The names of the requestedProtocols bits in v, comma-separated. */
static void
rdp_protocols(uint32_t v, char *out, size_t cap)
{
	static const char *const names[] = {
	        "ssl", "hybrid", "rdstls", "hybrid_ex", "rdsaad"};
	size_t o = 0;

	out[0] = 0;
	if (v == 0)
		fmt_snprintf(out, cap, "rdp");
	for (unsigned i = 0; i < LURE_ARRAY_LEN(names); i++)
		if (v & 1u << i)
			o += fmt_snprintf(out + o, cap - o, "%s%s",
			        o ? "," : "", names[i]);
	if (v >> LURE_ARRAY_LEN(names))
		fmt_snprintf(
		        out + o, cap - o, "%s0x%x", o ? "," : "", (unsigned)v);
}

static const char *
rdp_failure_name(uint32_t code)
{
	switch (code) {
	case 1: return "SSL_REQUIRED_BY_SERVER";
	case 2: return "SSL_NOT_ALLOWED_BY_SERVER";
	case 3: return "SSL_CERT_NOT_ON_SERVER";
	case 4: return "INCONSISTENT_FLAGS";
	case 5: return "HYBRID_REQUIRED_BY_SERVER";
	case 6: return "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER";
	default: return "unknown";
	}
}

/* The X.224 Connection Confirm ([MS-RDPBCGR] 2.2.1.2, 3.3.5.3.2): type 0
 * without negotiation data, else RDP_NEG_RSP (2) or RDP_NEG_FAILURE (3)
 * with flags and value. */
static void
rdp_confirm(struct emu_ctx *ctx, unsigned type, unsigned flags, uint32_t v)
{
	static const uint8_t cc[] = {3, 0, 0, 11, 6, 0xd0, 0, 0, 0x12, 0x34, 0};
	uint8_t b[19];

	memcpy(b, cc, sizeof cc);
	if (type) {
		b[3] = 19;
		b[4] = 14;
		b[11] = (uint8_t)type;
		b[12] = (uint8_t)flags;
		b[13] = 8;
		b[14] = 0;
		for (int i = 0; i < 4; i++)
			b[15 + i] = (uint8_t)(v >> 8 * i);
	}
	if (emu_send(ctx, b, b[3]) < 0)
		emu_close(ctx);
}

/* --- X.224 Connection Request -------------------------------------------- */

/* The variable part of the Connection Request v[0..n): routing token or
 * cookie, RDP_NEG_REQ. */
static void
rdp_request(
        struct emu_ctx *ctx, struct rdp_state *st, const uint8_t *v, size_t n)
{
	static const char mstshash[] = "Cookie: mstshash=";
	char protos[64];
	const uint8_t *crlf, *neg = NULL;
	struct event *e = emu_event(ctx, "request");
	long sel = -1;

	event_str(e, "lure.rdp.pdu", "X.224 Connection Request");

	if (n >= 8 && memcmp(v, "Cookie: ", 8) == 0) {
		crlf = memmem(v, n, "\r\n", 2);
		size_t l = crlf ? (size_t)(crlf - v) : n;
		event_bytes(e, "lure.rdp.cookie", v + 8, l - 8, RDP_NAME);
		if (l > sizeof mstshash - 1 &&
		        memcmp(v, mstshash, sizeof mstshash - 1) == 0)
			event_bytes(e, "user.name", v + sizeof mstshash - 1,
			        l - (sizeof mstshash - 1), RDP_NAME);
		v += crlf ? l + 2 : n;
		n -= crlf ? l + 2 : n;
	}
	if (n >= 8 && v[0] == 1 && v[2] == 8 && v[3] == 0)
		neg = v;
	if (!neg) {
		/* no RDP_NEG_REQ: standard RDP security, and no negotiation
		 * data in the answer (3.3.5.3.1) */
		event_commit(e);
		rdp_confirm(ctx, 0, 0, 0);
		st->phase = RP_MCS;
		return;
	}
	uint32_t req = bytes_le32(neg + 4);
	rdp_protocols(req, protos, sizeof protos);
	event_str(e, "lure.rdp.protocols", protos);
	{
		const char *s = persona_get("rdp.select", NULL);
		char *end;

		while (s && *s) {
			long p = fmt_strtol(s, &end, 10);
			if (end == s)
				break;
			s = end;
			if (p > 0 && (req & (uint32_t)p) == (uint32_t)p) {
				sel = p;
				break;
			}
		}
	}
	if (sel > 0 && emu_starttls(ctx) == 0) {
		rdp_protocols((uint32_t)sel, protos, sizeof protos);
		event_str(e, "lure.rdp.selected", protos);
		event_commit(e);
		rdp_confirm(ctx, 2, (unsigned)persona_int("rdp.neg_flags", 0),
		        (uint32_t)sel);
		st->phase = RP_CREDSSP;
		return;
	}
	uint32_t code = (uint32_t)persona_int(
	        sel > 0 ? "rdp.failure_notls" : "rdp.failure", 5);
	event_str(e, "lure.rdp.failure", rdp_failure_name(code));
	event_commit(e);
	rdp_confirm(ctx, 3, 0, code);
	emu_close(ctx);
	st->phase = RP_DONE;
}

/* --- MCS Connect Initial (standard security) ------------------------------ */

/* The client data blocks of a GCC Conference Create Request u[0..n)
 * ([MS-RDPBCGR] 2.2.1.3): the channel names (CS_NET), CS_CORE's name and
 * build, into e; 1 when a channel is MS_T120. */
static int
rdp_client_data(struct event *e, const uint8_t *u, size_t n)
{
	static char list[RDP_NAME];
	const uint8_t *d = memmem(u, n, "Duca", 4);
	size_t off, l, o = 0;
	int t120 = 0;

	if (!d)
		return 0;
	off = (size_t)(d - u) + 4;
	if (off >= n)
		return 0;
	l = u[off++]; /* PER length of the blocks */
	if (l & 0x80) {
		if (off >= n)
			return 0;
		l = (l & 0x7f) << 8 | u[off++];
	}
	if (l > n - off)
		l = n - off;
	u += off;
	n = l;
	list[0] = 0;
	for (off = 0; off + 4 <= n;) {
		unsigned type = (unsigned)(u[off] | u[off + 1] << 8);
		size_t bl = (size_t)(u[off + 2] | u[off + 3] << 8);
		const uint8_t *b = u + off;

		if (bl < 4 || bl > n - off)
			break;
		if (type == 0xc001 && bl >= 56) { /* CS_CORE */
			char name[64];
			size_t nl = ntlm_utf8(b + 24, 32, name, sizeof name);

			while (nl && name[nl - 1] == 0)
				nl--;
			event_bytes(e, "lure.rdp.client_name", name,
			        strnlen(name, nl), sizeof name);
			event_int(
			        e, "lure.rdp.client_build", bytes_le32(b + 20));
			event_int(e, "lure.rdp.keyboard_layout",
			        bytes_le32(b + 16));
		} else if (type == 0xc003 && bl >= 8) { /* CS_NET */
			uint32_t cnt = bytes_le32(b + 4);

			for (uint32_t i = 0; i < cnt && 8 + 12 * (i + 1) <= bl;
			        i++) {
				const uint8_t *c = b + 8 + 12 * i;
				size_t cl = strnlen((const char *)c, 8);

				if (cl == 7 && fmt_caseeq((const char *)c,
				                       "MS_T120", 7))
					t120 = 1;
				if (o + cl + 2 < sizeof list) {
					if (o)
						list[o++] = ',';
					memcpy(list + o, c, cl);
					o += cl;
				}
			}
		}
		off += bl;
	}
	if (o)
		event_bytes(e, "lure.rdp.channels", list, o, sizeof list);
	return t120;
}

/* A TPKT in RP_MCS p[0..n): an X.224 Data TPDU with the Connect Initial
 * (T.125 BER: APPLICATION 101, two domain selectors, upwardFlag, three
 * DomainParameters, userData). */
static void
rdp_connect_initial(struct emu_ctx *ctx, const uint8_t *p, size_t n)
{
	struct event *e;
	const uint8_t *ud;
	size_t off = 7, len, k;
	unsigned tag;
	int t120 = 0;

	if (n < 7 || p[4] != 2 || p[5] != 0xf0 ||
	        rdp_ber(p, n, &off, &tag, &len) < 0 || tag != 0x7f65) {
		rdp_garbage(ctx, p, n, "not an MCS Connect Initial");
		emu_close(ctx);
		return;
	}
	n = off + len;
	/* two selectors, upwardFlag, three DomainParameters, userData */
	for (k = 0; k < 7 && rdp_ber(p, n, &off, &tag, &len) == 0; k++)
		if (k < 6)
			off += len;
	ud = k == 7 && tag == 0x04 ? p + off : NULL;
	if (ud)
		t120 = rdp_client_data(NULL, ud, len);
	e = emu_event(ctx, t120 ? "exploit" : "request");
	if (t120) {
		event_str(e, "rule.name", "bluekeep");
		event_str(e, "vulnerability.id", "CVE-2019-0708");
		event_tag(e, "rdp");
		event_tag(e, "bluekeep");
	}
	if (ud)
		rdp_client_data(e, ud, len);
	event_str(e, "lure.rdp.pdu", "MCS Connect Initial");
	event_commit(e);
	emu_close(ctx);
}

/* --- CredSSP --------------------------------------------------------------- */

/* A DER element's size with content length len. */
static size_t
rdp_tl(size_t len)
{
	return ntlm_der_size(len) + len;
}

/* The server's TSRequest ([MS-CSSP] 2.2.1): version, then the NTLMSSP
 * message m[0..ml) as negoTokens, or errorCode when m is NULL. */
static void
rdp_tsrequest(struct emu_ctx *ctx, const uint8_t *m, size_t ml)
{
	uint32_t status = (uint32_t)persona_int("rdp.logon_status", 0);
	uint8_t ver[5] = {
	        0xa0, 3, 2, 1, (uint8_t)persona_int("rdp.credssp_version", 6)};
	size_t o, inner, c0 = 0, c1 = 0, c2 = 0, c3 = 0;

	if (m) { /* [1] SEQUENCE OF SEQUENCE { [0] OCTET STRING } */
		c0 = rdp_tl(ml);
		c1 = rdp_tl(c0);
		c2 = rdp_tl(c1);
		c3 = rdp_tl(c2);
		inner = sizeof ver + rdp_tl(c3);
	} else { /* [4] INTEGER, the NTSTATUS as a signed 32-bit value */
		inner = sizeof ver + 8;
	}
	if (rdp_tl(inner) > sizeof rdp_out) {
		emu_close(ctx);
		return;
	}
	o = ntlm_der(rdp_out, 0x30, inner);
	memcpy(rdp_out + o, ver, sizeof ver);
	o += sizeof ver;
	if (m) {
		o += ntlm_der(rdp_out + o, 0xa1, c3);
		o += ntlm_der(rdp_out + o, 0x30, c2);
		o += ntlm_der(rdp_out + o, 0x30, c1);
		o += ntlm_der(rdp_out + o, 0xa0, c0);
		o += ntlm_der(rdp_out + o, 0x04, ml);
		memcpy(rdp_out + o, m, ml);
		o += ml;
	} else {
		const uint8_t err[] = {0xa4, 6, 2, 4, (uint8_t)(status >> 24),
		        (uint8_t)(status >> 16), (uint8_t)(status >> 8),
		        (uint8_t)status};
		memcpy(rdp_out + o, err, sizeof err);
		o += sizeof err;
	}
	if (emu_send(ctx, rdp_out, o) < 0)
		emu_close(ctx);
}

/* SPNEGO's OID, 1.3.6.1.5.5.2 (DER), as a negTokenInit carries it */
static const uint8_t spnego_oid[8] = {
        0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02};

/* A TSRequest t[0..n) from the client. */
static void
rdp_credssp(
        struct emu_ctx *ctx, struct rdp_state *st, const uint8_t *t, size_t n)
{
	static uint8_t chal[RDP_OUT];
	size_t off = 0, len, ml;
	unsigned tag;
	const uint8_t *m;
	struct event *e;

	if (rdp_ber(t, n, &off, &tag, &len) == 0 && tag == 0x30 &&
	        rdp_ber(t, n, &off, &tag, &len) == 0 && tag == 0xa0 &&
	        rdp_ber(t, n, &off, &tag, &len) == 0 && tag == 0x02 && len >= 1)
		st->version = t[off + len - 1];
	m = ntlm_find(t, n, &ml);
	if (!m || ntlm_type(m, ml) == 0) {
		rdp_garbage(ctx, t, n, "no NTLMSSP in the TSRequest");
		emu_close(ctx);
		st->phase = RP_DONE;
		return;
	}
	if (st->phase == RP_CREDSSP && ntlm_type(m, ml) == 1) {
		size_t cl;

		e = emu_event(ctx, "request");
		event_int(e, "lure.rdp.credssp_version", st->version);
		ntlm_negotiate_fields(e, m, ml);
		event_commit(e);
		cl = ntlm_challenge(chal, sizeof chal - 64, ntlm_flags(m, ml),
		        st->challenge);
		/* Windows's clients (the Negotiate package) wrap it in SPNEGO:
		 * the CHALLENGE goes back wrapped the same way */
		if (cl && memmem(t, (size_t)(m - t), spnego_oid, 8))
			cl = ntlm_spnego_resp(
			        chal, sizeof chal - 64, NULL, 0, chal, cl, 1);
		if (cl == 0) {
			emu_close(ctx);
			return;
		}
		rdp_tsrequest(ctx, chal, cl);
		st->phase = RP_AUTH;
		return;
	}
	if (st->phase == RP_AUTH && ntlm_type(m, ml) == 3) {
		e = emu_event(ctx, "login");
		if (ntlm_login(e, m, ml, st->challenge,
		            "lure.rdp.workstation") < 0) {
			event_discard(e);
			rdp_garbage(ctx, t, n, "short AUTHENTICATE");
		} else {
			event_int(e, "lure.rdp.credssp_version", st->version);
			event_str(e, "event.outcome", "failure");
			event_commit(e);
		}
		/* errorCode came with version 3 ([MS-CSSP] 2.2.1) */
		if (LURE_MIN(st->version,
		            (uint8_t)persona_int("rdp.credssp_version", 6)) >=
		        3)
			rdp_tsrequest(ctx, NULL, 0);
		emu_close(ctx);
		st->phase = RP_DONE;
		return;
	}
	rdp_garbage(ctx, t, n, "NTLMSSP message out of order");
	emu_close(ctx);
	st->phase = RP_DONE;
}

/* --- framing --------------------------------------------------------------- */

static size_t
rdp_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct rdp_state *st = state;
	size_t len, off;

	if (st->phase == RP_DONE)
		return n;
	if (st->phase >= RP_CREDSSP) { /* a DER TSRequest */
		if (n < 2)
			return 0;
		if (p[0] != 0x30) {
			rdp_garbage(ctx, p, n, "not a TSRequest");
			emu_close(ctx);
			st->phase = RP_DONE;
			return n;
		}
		len = p[1];
		off = 2;
		if (len & 0x80) { /* long form: 1 to 3 length bytes */
			unsigned k = len & 0x7f;
			if (k == 0 || k > 3)
				len = RDP_MAX + 1;
			else if (n < 2 + k)
				return 0;
			else
				for (len = 0; k--;)
					len = len << 8 | p[off++];
		}
		if (off + len > RDP_MAX) {
			rdp_garbage(ctx, p, n, "TSRequest too long");
			emu_close(ctx);
			st->phase = RP_DONE;
			return n;
		}
		if (n < off + len)
			return 0;
		rdp_credssp(ctx, st, p, off + len);
		return off + len;
	}
	if (st->phase == RP_NEW && p[0] == 0x16) {
		/* a TLS ClientHello first: the direct approach ([MS-RDPBCGR]
		 * 5.4.2.2), what nmap's ssl-cert and sslscan do on 3389 */
		struct event *e = emu_event(ctx, "request");

		event_str(e, "lure.rdp.pdu", "TLS ClientHello");
		if (emu_starttls_now(ctx) == 0) {
			event_commit(e);
			st->phase = RP_CREDSSP;
			return 0;
		}
		event_discard(e);
	}
	if (n < 4)
		return 0;
	len = (size_t)p[2] << 8 | p[3];
	if (p[0] != 3 || p[1] != 0 || len < 7 || len > RDP_MAX) {
		rdp_garbage(ctx, p, n, "not a TPKT");
		emu_close(ctx);
		st->phase = RP_DONE;
		return n;
	}
	if (n < len)
		return 0;
	if (st->phase == RP_MCS) {
		rdp_connect_initial(ctx, p, len);
		st->phase = RP_DONE;
		return len;
	}
	/* X.224 Connection Request: LI, CR CDT 0xE0, DST-REF, SRC-REF,
	 * class 0 (3.3.5.3.1: shorter than 11 bytes or not class 0: drop) */
	if (len < 11 || p[4] != len - 5 || (p[5] & 0xf0) != 0xe0 ||
	        (p[10] & 0xf0) != 0) {
		rdp_garbage(ctx, p, len, "not an X.224 Connection Request");
		emu_close(ctx);
		st->phase = RP_DONE;
		return n;
	}
	rdp_request(ctx, st, p + 11, len - 11);
	return len;
}

const struct emulator emu_rdp = {
        .name = "rdp",
        .transports = EMU_TCP,
        .state_size = sizeof(struct rdp_state),
        .in_min = RDP_MAX,
        .on_data = rdp_data,
};
