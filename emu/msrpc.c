/* msrpc.c: the DCE/RPC endpoint mapper on TCP 135 as Windows' RPC runtime
 * (rpcss) answers it, connection-oriented PDUs of [C706] chapter 12 with
 * the extensions of [MS-RPCE] 2.2.2: a BIND or ALTER_CONTEXT gets its ACK
 * (secondary address, each presentation context accepted or rejected with
 * the provider reason), a REQUEST on the endpoint mapper's interface gets
 * the RESPONSE of ept_lookup (opnum 2, the persona's endpoint list, as
 * impacket's rpcdump.py reads it), ept_map (3: not
 * registered) or ept_lookup_handle_free (4), and the OXID resolver's
 * ServerAlive2 (the host's name and address, as NetExec's ioxidresolver
 * module reads them); other opnums and interfaces a
 * FAULT; a PDU that is not version 5.0 a BIND_NAK (reason 4, "protocol
 * version not supported"), then the close. One PDU per on_data call.
 *
 * Persona keys:
 *   msrpc.secaddr            [required] the BIND_ACK's secondary address
 *                            (the port, "135")
 *   msrpc.max_frag           the largest fragment either way (5840)
 *   msrpc.iface "uuid major.minor"  [repeated] interfaces a BIND may
 *                            name: the first is the endpoint mapper's
 *                            (opnums 2 to 4 served), the second the OXID
 *                            resolver's (IObjectExporter: ServerAlive2);
 *                            others are rejected (provider rejection,
 *                            abstract syntax not supported)
 *   msrpc.oxid_authn "9 30"  ServerAlive2's security bindings: the
 *                            authentication services, in order
 *   msrpc.ndr64              1: NDR64 is accepted when a context offers it
 *                            (a 64-bit Windows), and the NDR context of
 *                            the same interface rejected, as Windows does
 *   msrpc.ept "uuid major.minor proto endpoint annotation"  [repeated] the
 *                            endpoints ept_lookup lists, in order: proto
 *                            tcp (endpoint: the port), np (a pipe,
 *                            "\pipe\lsass": the host is the NetBIOS name
 *                            of msrpc.host), lrpc (an ALPC port name);
 *                            the annotation is the rest of the line
 *   msrpc.host               the host's NetBIOS name in np towers
 *                            (${identity} expanded)
 *
 * Events: "request" per PDU with lure.msrpc.ptype (bind, alter_context,
 * request, auth3, ...), lure.msrpc.call_id; a BIND or ALTER_CONTEXT:
 * lure.msrpc.interface (the first context's abstract syntax UUID),
 * lure.msrpc.interface_version ("3.0"), lure.msrpc.transfer_syntax (the
 * UUID accepted, else the first offered), lure.msrpc.contexts (how many),
 * event.outcome (success when one was accepted); a REQUEST: the interface
 * of its context, lure.msrpc.opnum, lure.msrpc.operation (ept_lookup,
 * ept_map, ServerAlive2...), lure.msrpc.entries (the endpoints listed), lure.truncated
 * on a later fragment; a PDU that is not version 5.0 or cannot be read:
 * event.reason and lure.payload.
 *
 * State: 104 bytes per connection (four presentation contexts); the
 * answers are built in static buffers (8 KiB, one call at a time).
 *
 * Compared with: no Windows machine was at hand. Bytes from [C706] 12.6
 * (PDU layouts), [MS-RPCE] 2.2.2.3-2.2.2.5 (header signing flag, bind time
 * feature negotiation) and 3.3.1.5.3, [C706] appendix L and O (towers,
 * the endpoint mapper's IDL), nmap's service database (the SMBProgNeg
 * probe's answer on 135: a 24-byte BIND_NAK, reason 4, version 5.0: its
 * "Microsoft Windows RPC" match line), impacket's epm.py and rpcrt.py
 * (what rpcdump.py sends and reads), [MS-DCOM] 2.2.19 and 3.1.2.5.1.6
 * (ServerAlive2's DUALSTRINGARRAY) and impacket's dcomrt.py.
 *
 * Not modelled: authentication (an auth verifier in a BIND is ignored:
 * Windows would run NTLM/Kerberos in the BIND_ACK), multi-fragment
 * requests (the first fragment is answered, later ones are logged with
 * lure.truncated and not answered), big-endian or non-ASCII data
 * representations (a BIND_NAK), the NDR64 encoding of ept_lookup's
 * answer (a request on an NDR64 context gets the NDR one), ept_lookup's
 * continuation handle (every endpoint is listed in one answer, up to
 * max_ents), ept_map (always "not registered"), the OXID resolver's other
 * opnums (a fault), the other interfaces of rpcss (ISystemActivator,
 * IRemoteSCMActivator...), the host's other addresses (ServerAlive2 names
 * the one the client reached), and the ports the list names: nothing
 * listens on them. */
#include <string.h>

#include "bytes.h"
#include "emu.h"
#include "event.h"
#include "fmt.h"
#include "identity.h"
#include "lure.h"
#include "persona.h"

#define MSRPC_HDR 16
#define MSRPC_MAX_FRAG 5840 /* Windows' max_xmit_frag and max_recv_frag */
#define MSRPC_CTX 4 /* presentation contexts kept per association */
#define MSRPC_OUT 4096

enum {
	MSRPC_REQUEST = 0,
	MSRPC_RESPONSE = 2,
	MSRPC_FAULT = 3,
	MSRPC_BIND = 11,
	MSRPC_BIND_ACK = 12,
	MSRPC_BIND_NAK = 13,
	MSRPC_ALTER = 14,
	MSRPC_ALTER_RESP = 15,
	MSRPC_AUTH3 = 16,
	MSRPC_SHUTDOWN = 17,
	MSRPC_CANCEL = 18,
	MSRPC_ORPHANED = 19
};

#define MSRPC_PFC_FIRST 0x01
#define MSRPC_PFC_LAST 0x02
#define MSRPC_PFC_HDR_SIGN 0x04 /* [MS-RPCE] 2.2.2.3 */
#define MSRPC_PFC_NOT_EXEC 0x20
#define MSRPC_PFC_OBJECT 0x80

/* fault and status codes ([C706] appendix E, [MS-RPCE] 2.2.2.11) */
#define MSRPC_NCA_OP_RNG 0x1c010002u /* nca_s_op_rng_error */
#define MSRPC_NCA_UNK_IF 0x1c010003u /* nca_s_unk_if */
#define MSRPC_EPT_NOT_REG 0x16c9a0d6u /* EPT_S_NOT_REGISTERED */

/* the transfer syntaxes: NDR 2.0, NDR64 1.0, and the prefix of the bind
 * time feature negotiation "syntax" ([MS-RPCE] 3.3.1.5.3), wire order */
static const uint8_t msrpc_ndr[20] = {0x04, 0x5d, 0x88, 0x8a, 0xeb, 0x1c, 0xc9,
        0x11, 0x9f, 0xe8, 0x08, 0x00, 0x2b, 0x10, 0x48, 0x60, 2, 0, 0, 0};
static const uint8_t msrpc_ndr64[20] = {0x33, 0x05, 0x71, 0x71, 0xba, 0xbe,
        0x37, 0x49, 0x83, 0x19, 0xb5, 0xdb, 0xef, 0x9c, 0xcc, 0x36, 1, 0, 0, 0};
static const uint8_t msrpc_btfn[8] = {
        0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45};

struct msrpc_ctx {
	uint16_t id; /* p_cont_id */
	uint8_t used;
	uint8_t iface; /* index in msrpc.iface + 1 */
	uint8_t uuid[16]; /* its abstract syntax (for events) */
	uint16_t vmaj, vmin;
};

struct msrpc_state {
	uint8_t bound; /* a BIND was acknowledged */
	uint8_t done; /* closing */
	uint16_t max_xmit; /* negotiated fragment size */
	uint32_t assoc; /* assoc_group_id */
	struct msrpc_ctx ctx[MSRPC_CTX];
};

static uint8_t msrpc_out[MSRPC_OUT];

/* "e1af8308-5d1f-11c9-91a4-08002b14a0fa" into wire order (the first three
 * fields little-endian); the end of the text, or NULL. */
static const char *
msrpc_uuid_parse(const char *s, const char *end, uint8_t out[16])
{
	static const uint8_t pos[16] = {
	        3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	unsigned k = 0;

	while (k < 16 && s + 1 < end) {
		int hi, lo;
		if (*s == '-') {
			s++;
			continue;
		}
		hi = fmt_hexval(s[0]);
		lo = fmt_hexval(s[1]);
		if (hi < 0 || lo < 0)
			return NULL;
		out[pos[k++]] = (uint8_t)(hi << 4 | lo);
		s += 2;
	}
	return k == 16 ? s : NULL;
}

/* Wire order to text, 36 characters and a NUL. */
static void
msrpc_uuid_text(const uint8_t u[16], char out[37])
{
	static const uint8_t pos[16] = {
	        3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15};
	static const char hex[] = "0123456789abcdef";
	size_t k = 0;

	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[k++] = '-';
		out[k++] = hex[u[pos[i]] >> 4];
		out[k++] = hex[u[pos[i]] & 15];
	}
	out[k] = 0;
}

/* "3.0" after a UUID: major and minor. */
static const char *
msrpc_version_parse(
        const char *s, const char *end, uint16_t *maj, uint16_t *min)
{
	unsigned v[2] = {0, 0}, k = 0;

	while (s < end && *s == ' ')
		s++;
	for (; s < end && k < 2; s++) {
		if (*s >= '0' && *s <= '9')
			v[k] = v[k] * 10 + (unsigned)(*s - '0');
		else if (*s == '.')
			k++;
		else
			break;
		if (v[k > 1 ? 1 : k] > 65535)
			return NULL;
	}
	*maj = (uint16_t)v[0];
	*min = (uint16_t)v[1];
	return s;
}

/* The msrpc.iface entry for this abstract syntax: its index + 1, or 0. */
static unsigned
msrpc_iface(const uint8_t uuid[16], uint16_t maj, uint16_t min)
{
	const struct persona_kv *kv;
	size_t it = 0;
	unsigned i = 0;

	while ((kv = persona_next("msrpc.iface", &it))) {
		const char *end = kv->val + kv->len, *s;
		uint8_t u[16];
		uint16_t a, b;
		i++;
		if (!(s = msrpc_uuid_parse(kv->val, end, u)) ||
		        !msrpc_version_parse(s, end, &a, &b))
			continue;
		if (memcmp(u, uuid, 16) == 0 && a == maj && min <= b)
			return i;
	}
	return 0;
}

/* --- events ------------------------------------------------------------- */

static const char *
msrpc_ptype_name(unsigned t)
{
	static const char *const names[] = {"request", "ping", "response",
	        "fault", "working", "nocall", "reject", "ack", "cl_cancel",
	        "fack", "cancel_ack", "bind", "bind_ack", "bind_nak",
	        "alter_context", "alter_context_resp", "auth3", "shutdown",
	        "co_cancel", "orphaned"};

	return t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

static struct event *
msrpc_event(struct emu_ctx *ctx, const uint8_t *p)
{
	struct event *e = emu_event(ctx, "request");

	event_str(e, "lure.msrpc.ptype", msrpc_ptype_name(p[2]));
	event_int(e, "lure.msrpc.call_id", bytes_le32(p + 12));
	return e;
}

static void
msrpc_event_iface(
        struct event *e, const uint8_t uuid[16], unsigned maj, unsigned min)
{
	char t[37], v[16];
	size_t n;

	msrpc_uuid_text(uuid, t);
	event_str(e, "lure.msrpc.interface", t);
	n = fmt_dec(v, maj);
	v[n++] = '.';
	n += fmt_dec(v + n, min);
	v[n] = 0;
	event_str(e, "lure.msrpc.interface_version", v);
}

/* --- PDUs --------------------------------------------------------------- */

/* The common header of an answer into msrpc_out. */
static void
msrpc_hdr(uint8_t *o, unsigned ptype, unsigned flags, size_t len,
        const uint8_t *req)
{
	o[0] = 5;
	o[1] = 0;
	o[2] = (uint8_t)ptype;
	o[3] = (uint8_t)flags;
	memcpy(o + 4, "\x10\0\0\0", 4); /* little-endian, ASCII, IEEE */
	bytes_put16(o + 8, (uint32_t)len);
	bytes_put16(o + 10, 0);
	memcpy(o + 12, req + 12, 4); /* call_id */
}

/* Not version 5.0 (or no header at all): BIND_NAK, reason 4, the one
 * version supported (5.0), padded to 24 bytes as nmap's match line has
 * it; then the close. */
static size_t
msrpc_nak(struct emu_ctx *ctx, struct msrpc_state *st, const uint8_t *p,
        size_t n, const char *why)
{
	uint8_t o[24] = {0}, in[16] = {0};
	struct event *e = emu_event(ctx, "request");

	memcpy(in, p, LURE_MIN(n, sizeof in));
	msrpc_hdr(o, MSRPC_BIND_NAK, MSRPC_PFC_FIRST | MSRPC_PFC_LAST, sizeof o,
	        in);
	bytes_put16(o + 16, 4); /* protocol_version_not_supported */
	o[18] = 1; /* n_protocols */
	o[19] = 5; /* rpc_vers 5, rpc_vers_minor 0 */
	emu_send(ctx, o, sizeof o);
	if (n >= 3 && p[0] == 5)
		event_str(e, "lure.msrpc.ptype", msrpc_ptype_name(p[2]));
	event_str(e, "event.reason", why);
	event_bytes(e, "lure.payload", p, LURE_MIN(n, EVENT_CAP_PAYLOAD),
	        EVENT_CAP_PAYLOAD);
	event_commit(e);
	emu_close(ctx);
	st->done = 1;
	return n;
}

static void
msrpc_fault(
        struct emu_ctx *ctx, const uint8_t *p, uint16_t cont, uint32_t status)
{
	uint8_t o[32] = {0};

	msrpc_hdr(o, MSRPC_FAULT,
	        MSRPC_PFC_FIRST | MSRPC_PFC_LAST | MSRPC_PFC_NOT_EXEC, sizeof o,
	        p);
	bytes_put32(o + 16, 32); /* alloc_hint */
	bytes_put16(o + 20, cont);
	bytes_put32(o + 24, status);
	emu_send(ctx, o, sizeof o);
}

/* One context element's result into r (24 bytes); 1 when accepted. The
 * element is at c (n bytes left), its size in *used. */
static int
msrpc_result(struct msrpc_state *st, const uint8_t *c, size_t n, size_t *used,
        uint8_t r[24], const uint8_t **syntax, int ndr64)
{
	unsigned nts = c[2], iface;
	uint16_t id = bytes_le16(c), maj = bytes_le16(c + 20),
	         min = bytes_le16(c + 22);
	const uint8_t *ts = c + 24, *pick = NULL;

	memset(r, 0, 24);
	*used = 24 + 20u * nts;
	*syntax = nts ? ts : NULL;
	if (*used > n || !nts) {
		*used = LURE_MIN(*used, n);
		bytes_put16(r, 2); /* provider_rejection */
		bytes_put16(r + 2, 2); /* proposed transfer syntaxes */
		return 0;
	}
	if (memcmp(ts, msrpc_btfn, 8) == 0) { /* [MS-RPCE] 3.3.1.5.3 */
		bytes_put16(r, 3); /* negotiate_ack */
		bytes_put16(r + 2, bytes_le16(ts + 8) & 0x3); /* the features */
		return 0;
	}
	iface = msrpc_iface(c + 4, maj, min);
	for (unsigned i = 0; i < nts && !pick; i++)
		if (memcmp(ts + 20 * i, ndr64 ? msrpc_ndr64 : msrpc_ndr, 20) ==
		        0)
			pick = ts + 20 * i;
	if (!iface) {
		bytes_put16(r, 2);
		bytes_put16(r + 2, 1); /* abstract syntax not supported */
		return 0;
	}
	if (!pick) {
		bytes_put16(r, 2);
		bytes_put16(r + 2, 2); /* proposed transfer syntaxes */
		return 0;
	}
	memcpy(r + 4, pick, 20);
	*syntax = pick;
	for (unsigned i = 0; i < MSRPC_CTX; i++) {
		struct msrpc_ctx *k = &st->ctx[i];
		if (!k->used || k->id == id) {
			k->used = 1;
			k->id = id;
			k->iface = (uint8_t)iface;
			memcpy(k->uuid, c + 4, 16);
			k->vmaj = maj;
			k->vmin = min;
			break;
		}
	}
	return 1;
}

/* BIND and ALTER_CONTEXT: the ACK with a result per context. */
static void
msrpc_bind(
        struct emu_ctx *ctx, struct msrpc_state *st, const uint8_t *p, size_t n)
{
	uint8_t *o = msrpc_out;
	struct event *e = msrpc_event(ctx, p);
	size_t k, sl = 0, m, used;
	const char *sa = NULL;
	unsigned ncx, acc = 0;
	int ndr64 = 0;
	uint32_t mx = (uint32_t)persona_int("msrpc.max_frag", MSRPC_MAX_FRAG);
	const uint8_t *c, *syn = NULL, *first = NULL, *offered = NULL;

	if (n < 28) {
		event_str(e, "event.reason", "short");
		event_commit(e);
		msrpc_fault(ctx, p, 0, MSRPC_NCA_OP_RNG);
		return;
	}
	if (p[2] == MSRPC_BIND) {
		if (!st->assoc) {
			lure_random(&st->assoc, sizeof st->assoc);
			st->assoc = 0x10000u | (st->assoc & 0xffffu);
		}
		st->max_xmit = (uint16_t)LURE_MIN(bytes_le16(p + 16), mx);
		sa = persona_get("msrpc.secaddr", &sl);
	}
	bytes_put16(o + 16, LURE_MIN(bytes_le16(p + 16), mx));
	bytes_put16(o + 18, LURE_MIN(bytes_le16(p + 18), mx));
	bytes_put32(o + 20, st->assoc);
	sl = sa ? LURE_MIN(sl, 64) : 0;
	bytes_put16(o + 24, (uint32_t)(sl + (sl > 0)));
	k = 26;
	if (sl) {
		memcpy(o + k, sa, sl);
		k += sl;
		o[k++] = 0;
	}
	while (k % 4)
		o[k++] = 0;
	ncx = p[24];
	o[k] = (uint8_t)ncx;
	memset(o + k + 1, 0, 3);
	k += 4;
	c = p + 28;
	m = n - 28;
	/* NDR64 for every context when one offers it (msrpc.ndr64) */
	for (size_t i = 28; persona_int("msrpc.ndr64", 0) && i + 20 <= n;
	        i += 4)
		if (memcmp(p + i, msrpc_ndr64, 20) == 0)
			ndr64 = 1;
	for (unsigned i = 0; i < ncx && k + 24 <= MSRPC_OUT; i++) {
		uint8_t r[24];
		const uint8_t *s = NULL;
		if (m < 24) { /* the list ends early: rejected */
			memset(r, 0, 24);
			bytes_put16(r, 2);
			used = m;
		} else if (msrpc_result(st, c, m, &used, r, &s, ndr64)) {
			if (!acc++)
				syn = s;
		}
		if (!first && m >= 24) {
			first = c;
			offered = s;
		}
		memcpy(o + k, r, 24);
		k += 24;
		c += used;
		m -= used;
	}
	if (first)
		msrpc_event_iface(e, first + 4, bytes_le16(first + 20),
		        bytes_le16(first + 22));
	if (!syn)
		syn = offered;
	if (syn) {
		char t[37];
		msrpc_uuid_text(syn, t);
		event_str(e, "lure.msrpc.transfer_syntax", t);
	}
	event_int(e, "lure.msrpc.contexts", ncx);
	event_str(e, "event.outcome", acc ? "success" : "failure");
	event_commit(e);
	msrpc_hdr(o, p[2] == MSRPC_BIND ? MSRPC_BIND_ACK : MSRPC_ALTER_RESP,
	        MSRPC_PFC_FIRST | MSRPC_PFC_LAST | (p[3] & MSRPC_PFC_HDR_SIGN),
	        k, p);
	emu_send(ctx, o, k);
	st->bound = 1;
}

/* --- the endpoint mapper ------------------------------------------------ */

/* One tower ([C706] appendix L) for an msrpc.ept line into t; its length,
 * or 0 when the line cannot be read. */
static size_t
msrpc_tower(struct emu_ctx *ctx, const char *s, const char *end, uint8_t *t,
        size_t cap, const char **annot, uint8_t uuid[16])
{
	uint16_t maj, min;
	const char *w, *ep;
	size_t k = 2, wl, el;
	unsigned floors = 5;

	if (cap < 200 || !(s = msrpc_uuid_parse(s, end, uuid)) ||
	        !(s = msrpc_version_parse(s, end, &maj, &min)))
		return 0;
	while (s < end && *s == ' ')
		s++;
	for (w = s; s < end && *s != ' '; s++)
		;
	wl = (size_t)(s - w);
	while (s < end && *s == ' ')
		s++;
	for (ep = s; s < end && *s != ' '; s++)
		;
	el = LURE_MIN((size_t)(s - ep), 64);
	while (s < end && *s == ' ')
		s++;
	*annot = s;
	/* floor 1: the interface; floor 2: NDR 2.0 */
	bytes_put16(t + k, 19);
	t[k + 2] = 0x0d;
	memcpy(t + k + 3, uuid, 16);
	bytes_put16(t + k + 19, maj);
	bytes_put16(t + k + 21, 2);
	bytes_put16(t + k + 23, min);
	k += 25;
	bytes_put16(t + k, 19);
	t[k + 2] = 0x0d;
	memcpy(t + k + 3, msrpc_ndr, 16);
	bytes_put16(t + k + 19, 2);
	bytes_put16(t + k + 21, 2);
	bytes_put16(t + k + 23, 0);
	k += 25;
	/* floor 3: RPC connection-oriented (0x0b) or ncalrpc (0x0c) */
	bytes_put16(t + k, 1);
	t[k + 2] = wl == 4 && memcmp(w, "lrpc", 4) == 0 ? 0x0c : 0x0b;
	bytes_put16(t + k + 3, 2);
	bytes_put16(t + k + 5, 0);
	k += 7;
	bytes_put16(t + k, 1);
	if (wl == 3 && memcmp(w, "tcp", 3) == 0) {
		const char *a = emu_local_addr(ctx);
		uint8_t ip[4] = {0};
		unsigned port = 0, oct = 0, v = 0;
		for (size_t i = 0; i < el && ep[i] >= '0' && ep[i] <= '9'; i++)
			port = (port * 10 + (unsigned)(ep[i] - '0')) & 0xffff;
		t[k + 2] = 0x07;
		bytes_put16(t + k + 3, 2);
		t[k + 5] = (uint8_t)(port >> 8);
		t[k + 6] = (uint8_t)port;
		k += 7;
		for (; a && *a && oct < 4; a++) { /* "192.0.2.7" */
			if (*a == '.') {
				ip[oct++] = (uint8_t)v;
				v = 0;
			} else if (*a >= '0' && *a <= '9') {
				v = (v * 10 + (unsigned)(*a - '0')) & 0xff;
			} else {
				memset(ip, 0, 4);
				oct = 4;
			}
		}
		if (oct == 3)
			ip[3] = (uint8_t)v;
		bytes_put16(t + k, 1);
		t[k + 2] = 0x09;
		bytes_put16(t + k + 3, 4);
		memcpy(t + k + 5, ip, 4);
		k += 9;
	} else if (wl == 2 && memcmp(w, "np", 2) == 0) {
		char host[IDENTITY_VALUE_MAX];
		size_t hl = 0, hn;
		const char *h = persona_get("msrpc.host", &hn);
		if (h)
			hl = LURE_MIN(
			        identity_expand(h, hn, host, sizeof host), 48);
		t[k + 2] = 0x0f;
		bytes_put16(t + k + 3, (uint32_t)el + 1);
		memcpy(t + k + 5, ep, el);
		t[k + 5 + el] = 0;
		k += 6 + el;
		bytes_put16(t + k, 1);
		t[k + 2] = 0x11;
		bytes_put16(t + k + 3, (uint32_t)hl + 3);
		memcpy(t + k + 5, "\\\\", 2);
		memcpy(t + k + 7, host, hl);
		t[k + 7 + hl] = 0;
		k += 8 + hl;
	} else if (wl == 4 && memcmp(w, "lrpc", 4) == 0) {
		t[k + 2] = 0x10;
		bytes_put16(t + k + 3, (uint32_t)el + 1);
		memcpy(t + k + 5, ep, el);
		t[k + 5 + el] = 0;
		k += 6 + el;
		floors = 4;
	} else {
		return 0;
	}
	bytes_put16(t, floors);
	return k;
}

static uint8_t msrpc_towers[MSRPC_OUT];

/* ept_lookup: every msrpc.ept entry that the inquiry asks for (all, or
 * those of one interface), up to max_ents, in one answer with a null
 * handle and status 0. Returns the stub length, or 0. */
static size_t
msrpc_lookup(struct emu_ctx *ctx, const uint8_t *q, size_t qn, uint8_t *o,
        size_t cap, unsigned *listed)
{
	const struct persona_kv *kv;
	size_t it = 0, i = 0, k, tk = 0;
	uint32_t inq, maxe, nent = 0;
	uint8_t want[16];
	int by_if = 0;

	if (qn < 12)
		return 0;
	inq = bytes_le32(q);
	i = 4;
	if (bytes_le32(q + i)) /* object: unique pointer, then the UUID */
		i += 16;
	i += 4;
	if (i + 4 > qn)
		return 0;
	if (bytes_le32(q + i)) { /* Ifid */
		if (i + 24 > qn)
			return 0;
		memcpy(want, q + i + 4, 16);
		by_if = inq == 1 || inq == 3;
		i += 20;
	}
	i += 4;
	i += 4 + 20; /* vers_option, entry_handle */
	if (i + 4 > qn)
		return 0;
	maxe = bytes_le32(q + i);
	memset(o, 0, 24); /* a null handle, then num_ents */
	k = 24;
	bytes_put32(o + k, maxe); /* conformance, offset, actual count */
	bytes_put32(o + k + 4, 0);
	k += 12;
	while (tk + 8 + 200 <= sizeof msrpc_towers &&
	        (kv = persona_next("msrpc.ept", &it)) && nent < maxe) {
		uint8_t uuid[16];
		const char *an;
		size_t al, tl = msrpc_tower(ctx, kv->val, kv->val + kv->len,
		                   msrpc_towers + tk + 8,
		                   sizeof msrpc_towers - tk - 8, &an, uuid);
		if (!tl || (by_if && memcmp(uuid, want, 16) != 0))
			continue;
		al = LURE_MIN((size_t)(kv->val + kv->len - an), 63);
		if (k + 32 + al + tk + 12 + tl + 4 > cap)
			break;
		memset(o + k, 0, 16); /* object: nil */
		/* the tower's referent, as Windows' NDR engine numbers them */
		bytes_put32(o + k + 16, 0x20000u + 4 * nent);
		bytes_put32(o + k + 20, 0);
		bytes_put32(o + k + 24, (uint32_t)al + 1);
		memcpy(o + k + 28, an, al);
		o[k + 28 + al] = 0;
		k += 29 + al;
		while (k % 4)
			o[k++] = 0;
		/* the tower, deferred: conformance, length, octets */
		bytes_put32(msrpc_towers + tk, (uint32_t)tl);
		bytes_put32(msrpc_towers + tk + 4, (uint32_t)tl);
		tk += 8 + tl;
		while (tk % 4)
			msrpc_towers[tk++] = 0;
		nent++;
	}
	if (k + tk + 4 > cap)
		return 0;
	memcpy(o + k, msrpc_towers, tk);
	k += tk;
	bytes_put32(o + 20, nent);
	bytes_put32(o + 32, nent);
	bytes_put32(o + k, 0); /* status */
	*listed = nent;
	return k + 4;
}

/* The OXID resolver's ServerAlive2 ([MS-DCOM] 3.1.2.5.1.6): COM version
 * 5.7 and the DUALSTRINGARRAY of the host's addresses (ncacn_ip_tcp: the
 * NetBIOS name, then the address the client reached) and the security
 * bindings of msrpc.oxid_authn. Returns the stub length, or 0. */
static size_t
msrpc_alive2(struct emu_ctx *ctx, uint8_t *o, size_t cap)
{
	char host[IDENTITY_VALUE_MAX];
	const char *names[2], *h, *v;
	size_t hn, k = 16, vn;
	unsigned nsec = 0;

	h = persona_get("msrpc.host", &hn);
	hn = h ? identity_expand(h, hn, host, sizeof host) : 0;
	host[LURE_MIN(hn, 63)] = 0;
	names[0] = host;
	names[1] = emu_local_addr(ctx);
	for (unsigned i = 0; i < 2; i++) {
		const char *a = names[i] ? names[i] : "";
		if (k + 2 * strlen(a) + 4 > cap - 64)
			return 0;
		bytes_put16(o + k, 7); /* ncacn_ip_tcp */
		k += 2;
		for (; *a; a++, k += 2)
			bytes_put16(o + k, (uint8_t)*a);
		bytes_put16(o + k, 0);
		k += 2;
	}
	bytes_put16(o + k, 0);
	k += 2;
	bytes_put16(o + 14, (uint32_t)(k - 16) / 2); /* wSecurityOffset */
	v = persona_get("msrpc.oxid_authn", &vn);
	for (size_t i = 0; v && i < vn && nsec < 16;) { /* "9 30 16" */
		unsigned a = 0;
		while (i < vn && v[i] == ' ')
			i++;
		if (i == vn)
			break;
		for (; i < vn && v[i] >= '0' && v[i] <= '9'; i++)
			a = (a * 10 + (unsigned)(v[i] - '0')) & 0xffff;
		while (i < vn && v[i] != ' ')
			i++;
		bytes_put16(o + k, a);
		bytes_put16(o + k + 2, 0xffff); /* Reserved */
		bytes_put16(o + k + 4, 0); /* no principal name */
		k += 6;
		nsec++;
	}
	bytes_put16(o + k, 0);
	k += 2;
	bytes_put16(o, 5); /* COMVERSION 5.7 */
	bytes_put16(o + 2, 7);
	bytes_put32(o + 4, 0x20000u); /* the pointer's referent */
	bytes_put32(o + 8, (uint32_t)(k - 16) / 2); /* conformance */
	bytes_put16(o + 12, (uint32_t)(k - 16) / 2); /* wNumEntries */
	while (k % 4)
		o[k++] = 0;
	bytes_put32(o + k, 0); /* pReserved */
	bytes_put32(o + k + 4, 0); /* S_OK */
	return k + 8;
}

static const char *
msrpc_ept_op(unsigned iface, unsigned op)
{
	static const char *const names[] = {"ept_insert", "ept_delete",
	        "ept_lookup", "ept_map", "ept_lookup_handle_free",
	        "ept_inq_object", "ept_mgmt_delete"};
	static const char *const oxid[] = {"ResolveOxid", "SimplePing",
	        "ComplexPing", "ServerAlive", "ResolveOxid2", "ServerAlive2"};

	if (iface == 2)
		return op < 6 ? oxid[op] : NULL;
	return iface == 1 && op < 7 ? names[op] : NULL;
}

static void
msrpc_request(
        struct emu_ctx *ctx, struct msrpc_state *st, const uint8_t *p, size_t n)
{
	struct event *e = msrpc_event(ctx, p);
	uint16_t cont, op;
	size_t h = 24, sl = 0;
	const struct msrpc_ctx *c = NULL;
	uint8_t *o = msrpc_out;
	unsigned listed = 0;

	if (n < 24) {
		event_str(e, "event.reason", "short");
		event_commit(e);
		msrpc_fault(ctx, p, 0, MSRPC_NCA_OP_RNG);
		return;
	}
	cont = bytes_le16(p + 20);
	op = bytes_le16(p + 22);
	if (p[3] & MSRPC_PFC_OBJECT)
		h += 16;
	for (unsigned i = 0; i < MSRPC_CTX; i++)
		if (st->ctx[i].used && st->ctx[i].id == cont)
			c = &st->ctx[i];
	event_int(e, "lure.msrpc.opnum", op);
	if (c)
		msrpc_event_iface(e, c->uuid, c->vmaj, c->vmin);
	if (!c) {
		event_str(e, "event.reason", "unknown context");
		event_commit(e);
		msrpc_fault(ctx, p, cont, MSRPC_NCA_UNK_IF);
		return;
	}
	if (msrpc_ept_op(c->iface, op))
		event_str(
		        e, "lure.msrpc.operation", msrpc_ept_op(c->iface, op));
	if (!(p[3] & MSRPC_PFC_FIRST)) { /* a later fragment: dropped */
		event_bool(e, "lure.truncated", 1);
		event_commit(e);
		return;
	}
	if (c->iface == 1 ? op < 2 || op > 4 : c->iface != 2 || op != 5) {
		event_commit(e);
		msrpc_fault(ctx, p, cont, MSRPC_NCA_OP_RNG);
		return;
	}
	if (!(p[3] & MSRPC_PFC_LAST)) /* later fragments are dropped */
		event_bool(e, "lure.truncated", 1);
	if (h > n)
		h = n;
	if (c->iface == 2) {
		sl = msrpc_alive2(ctx, o + 24, MSRPC_OUT - 24);
	} else if (op == 2) {
		sl = msrpc_lookup(ctx, p + h, n - h, o + 24,
		        LURE_MAX(LURE_MIN(st->max_xmit, MSRPC_OUT), 1432) - 24,
		        &listed);
		event_int(e, "lure.msrpc.entries", listed);
	} else if (op == 3) { /* handle, no towers (max, offset, count) */
		memset(o + 24, 0, 36);
		bytes_put32(o + 60, MSRPC_EPT_NOT_REG);
		sl = 40;
	} else { /* ept_lookup_handle_free: a null handle, status 0 */
		memset(o + 24, 0, 24);
		sl = 24;
	}
	event_commit(e);
	if (!sl) {
		msrpc_fault(ctx, p, cont, MSRPC_NCA_OP_RNG);
		return;
	}
	msrpc_hdr(o, MSRPC_RESPONSE, MSRPC_PFC_FIRST | MSRPC_PFC_LAST, 24 + sl,
	        p);
	bytes_put32(o + 16, (uint32_t)sl); /* alloc_hint */
	bytes_put16(o + 20, cont);
	o[22] = o[23] = 0;
	emu_send(ctx, o, 24 + sl);
}

/* --- the connection ----------------------------------------------------- */

static size_t
msrpc_data(struct emu_ctx *ctx, void *state, const uint8_t *p, size_t n)
{
	struct msrpc_state *st = state;
	uint32_t mx = (uint32_t)persona_int("msrpc.max_frag", MSRPC_MAX_FRAG);
	size_t fl;
	struct event *e;

	if (st->done)
		return n;
	if (n >= 2 && (p[0] != 5 || p[1] > 1))
		return msrpc_nak(ctx, st, p, n, "version");
	if (n < MSRPC_HDR)
		return 0;
	fl = bytes_le16(p + 8);
	if (fl < MSRPC_HDR || fl > mx || (p[4] & 0xf0) != 0x10)
		return msrpc_nak(ctx, st, p, n, "header");
	if (n < fl)
		return 0;
	switch (p[2]) {
	case MSRPC_BIND:
		if (st->bound) /* one BIND per association */
			return msrpc_nak(ctx, st, p, fl, "second bind");
		msrpc_bind(ctx, st, p, fl);
		break;
	case MSRPC_ALTER:
		if (!st->bound)
			return msrpc_nak(ctx, st, p, fl, "not bound");
		msrpc_bind(ctx, st, p, fl);
		break;
	case MSRPC_REQUEST:
		if (!st->bound) { /* rpcss closes the connection */
			e = msrpc_event(ctx, p);
			event_str(e, "event.reason", "not bound");
			event_commit(e);
			emu_close(ctx);
			st->done = 1;
			return n;
		}
		msrpc_request(ctx, st, p, fl);
		break;
	case MSRPC_AUTH3:
	case MSRPC_CANCEL:
	case MSRPC_ORPHANED: /* no answer */
		event_commit(msrpc_event(ctx, p));
		break;
	default: /* a server's PDU, or none: the association ends */
		e = msrpc_event(ctx, p);
		event_str(e, "event.reason", "unexpected type");
		event_bytes(e, "lure.payload", p,
		        LURE_MIN(fl, EVENT_CAP_PAYLOAD), EVENT_CAP_PAYLOAD);
		event_commit(e);
		emu_close(ctx);
		st->done = 1;
		return n;
	}
	return fl;
}

const struct emulator emu_msrpc = {
        .name = "msrpc",
        .transports = EMU_TCP,
        .state_size = sizeof(struct msrpc_state),
        .in_min = MSRPC_MAX_FRAG,
        .on_data = msrpc_data,
};
