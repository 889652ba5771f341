"""SMB client messages built from the specifications, for the windows
persona's tests (test_windows_smb.py) and transcripts (test/emu/windows):
[MS-SMB] 2.2.4.52 (SMB1 NEGOTIATE), [MS-SMB2] 2.2.1 (header), 2.2.3
(NEGOTIATE and its contexts), 2.2.5 (SESSION_SETUP), [MS-NLMP] 2.2.1.1
and 2.2.1.3 (NEGOTIATE and AUTHENTICATE messages) and 3.3.2 (NTLMv2).
`python3 test/persona/smb_packets.py` rewrites the .t transcripts."""
import hashlib
import hmac
import struct

# the dialect list of WannaCry, EternalBlue and the ms17-010 checkers
MS17_DIALECTS = ["PC NETWORK PROGRAM 1.0", "LANMAN1.0",
                 "Windows for Workgroups 3.1a", "LM1.2X002", "LANMAN2.1",
                 "NT LM 0.12"]


def nbss(msg, kind=0):
    return struct.pack(">I", kind << 24 | len(msg)) + msg


def smb1_negotiate(dialects):
    body = b"".join(b"\x02" + d.encode() + b"\0" for d in dialects)
    hdr = (b"\xffSMB" + b"\x72" + b"\0" * 4 + b"\x18" +
           struct.pack("<H", 0xc853) + b"\0" * 12 + b"\xff\xff" +
           struct.pack("<H", 0xfeff) + b"\0\0" + b"\0\0")
    return nbss(hdr + b"\0" + struct.pack("<H", len(body)) + body)


def smb2_header(cmd, mid, session=0, credits=31):
    return (b"\xfeSMB" + struct.pack("<HHIHHIIQIIQ", 64, 1, 0, cmd, credits,
                                     0, 0, mid, 0xfeff, 0, session)
            + b"\0" * 16)


def smb2_negotiate(dialects, contexts=(), mid=1, caps=0x7f):
    """contexts: (type, data) pairs (for 3.1.1)."""
    n = len(dialects)
    fixed = 64 + 36 + 2 * n
    off = (fixed + 7) & ~7 if contexts else 0
    ctx = b""
    for i, (t, d) in enumerate(contexts):
        c = struct.pack("<HHI", t, len(d), 0) + d
        if i < len(contexts) - 1:
            c += b"\0" * (-len(c) % 8)
        ctx += c
    body = struct.pack("<HHHHI16sIHH", 36, n, 1, 0, caps, b"lure-test-client",
                       off, len(contexts), 0)
    body += b"".join(struct.pack("<H", d) for d in dialects)
    if contexts:
        body += b"\0" * (off - fixed)
    return nbss(smb2_header(0, mid) + body + ctx)


def preauth_ctx(salt=b"\x11" * 32):
    return (1, struct.pack("<HHH", 1, len(salt), 1) + salt)


def cipher_ctx(*ids):
    return (2, struct.pack("<H", len(ids)) + b"".join(
        struct.pack("<H", i) for i in ids))


def compression_ctx():
    # SMB2_COMPRESSION_CAPABILITIES: LZNT1, as SMBGhost scanners send it
    return (3, struct.pack("<HHI", 1, 0, 0) + struct.pack("<H", 1))


def session_setup(token, mid, session=0):
    body = struct.pack("<HBBIIHHQ", 25, 0, 1, 1, 0, 64 + 24, len(token), 0)
    return nbss(smb2_header(1, mid, session) + body + token)


def smb2_simple(cmd, mid, session, body):
    return nbss(smb2_header(cmd, mid, session) + body)


def ntlm_negotiate(flags=0xe2088297):
    return (b"NTLMSSP\0" + struct.pack("<II", 1, flags) + b"\0" * 16
            + b"\x0a\x00\x61\x4a\x00\x00\x00\x0f")


def spnego_init(ntlm):
    def der(tag, b):
        n = len(b)
        if n < 128:
            ln = bytes([n])
        elif n < 256:
            ln = bytes([0x81, n])
        else:
            ln = bytes([0x82, n >> 8, n & 255])
        return bytes([tag]) + ln + b
    oid = bytes.fromhex("060a2b0601040182370202 0a".replace(" ", ""))
    inner = der(0x30, der(0xa0, der(0x30, oid)) + der(0xa2, der(0x04, ntlm)))
    return der(0x60, bytes.fromhex("06062b0601050502") + der(0xa0, inner))


def spnego_resp(ntlm):
    def der(tag, b):
        n = len(b)
        ln = bytes([n]) if n < 128 else (bytes([0x81, n]) if n < 256
                                          else bytes([0x82, n >> 8, n & 255]))
        return bytes([tag]) + ln + b
    return der(0xa1, der(0x30, der(0xa2, der(0x04, ntlm))))


def ntlm_authenticate(user, domain, ws, lm, nt, flags=0xe2088215):
    u, d, w = (s.encode("utf-16-le") for s in (user, domain, ws))
    payload = [lm, nt, d, u, w, b""]
    off = 88
    fields = b""
    order = {}
    for i, p in enumerate(payload):
        order[i] = off
        off += len(p)
    for i, p in enumerate(payload):
        fields += struct.pack("<HHI", len(p), len(p), order[i])
    # signature, type, LM NT Domain User Workstation SessionKey, flags,
    # version, MIC (zeros)
    msg = (b"NTLMSSP\0" + struct.pack("<I", 3) + fields
           + struct.pack("<I", flags) + b"\x0a\x00\x61\x4a\x00\x00\x00\x0f"
           + b"\0" * 16)
    assert len(msg) == 88
    return msg + b"".join(payload)


def authenticate_to(msg, password, user, domain, ws, client=b"\x22" * 8):
    """The AUTHENTICATE a client sends in answer to the CHALLENGE found in
    msg (raw or wrapped): the NetNTLMv2 response of password over its
    server challenge and target information ([MS-NLMP] 3.3.2), a zero
    timestamp and the client challenge client."""
    c = msg.index(b"NTLMSSP\0\x02\0\0\0")
    chal = msg[c + 24:c + 32]
    tl, to = struct.unpack_from("<H2xI", msg, c + 40)
    blob = (b"\x01\x01\0\0\0\0\0\0" + struct.pack("<Q", 0) + client
            + b"\0" * 4 + msg[c + to:c + to + tl] + b"\0" * 4)
    nt = ntproofstr(password, user, domain, chal, blob) + blob
    return ntlm_authenticate(user, domain, ws, b"\0" * 24, nt)


def nt_hash(password):
    from hashlib import new
    try:
        return new("md4", password.encode("utf-16-le")).digest()
    except ValueError:  # OpenSSL 3 without the legacy provider
        return md4(password.encode("utf-16-le"))


def md4(data):
    """RFC 1320, for OpenSSLs that no longer offer MD4."""
    def f(x, y, z): return (x & y) | (~x & z)
    def g(x, y, z): return (x & y) | (x & z) | (y & z)
    def h(x, y, z): return x ^ y ^ z
    def rol(v, s): return ((v << s) | (v >> (32 - s))) & 0xffffffff
    msg = data + b"\x80" + b"\0" * ((55 - len(data)) % 64) + \
        struct.pack("<Q", len(data) * 8)
    a, b, c, d = 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476
    for i in range(0, len(msg), 64):
        x = struct.unpack("<16I", msg[i:i + 64])
        aa, bb, cc, dd = a, b, c, d
        for k in range(16):
            s = (3, 7, 11, 19)[k % 4]
            a = rol((a + f(b, c, d) + x[k]) & 0xffffffff, s)
            a, b, c, d = d, a, b, c
        for k in range(16):
            s = (3, 5, 9, 13)[k % 4]
            j = (k % 4) * 4 + k // 4
            a = rol((a + g(b, c, d) + x[j] + 0x5a827999) & 0xffffffff, s)
            a, b, c, d = d, a, b, c
        for k in range(16):
            s = (3, 9, 11, 15)[k % 4]
            j = (0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)[k]
            a = rol((a + h(b, c, d) + x[j] + 0x6ed9eba1) & 0xffffffff, s)
            a, b, c, d = d, a, b, c
        a, b, c, d = [(v + w) & 0xffffffff
                      for v, w in zip((a, b, c, d), (aa, bb, cc, dd))]
    return struct.pack("<4I", a, b, c, d)


def ntproofstr(password, user, domain, challenge, blob):
    """[MS-NLMP] 3.3.2: NTOWFv2 = HMAC_MD5(MD4(UNICODE(Passwd)),
    UNICODE(Uppercase(User) + UserDom)); NTProofStr = HMAC_MD5(NTOWFv2,
    ServerChallenge + temp), temp being the blob after NTProofStr."""
    key = hmac.new(nt_hash(password), (user.upper() + domain)
                   .encode("utf-16-le"), hashlib.md5).digest()
    return hmac.new(key, challenge + blob, hashlib.md5).digest()


def esc(b):
    out = ""
    for c in b:
        ch = chr(c)
        if c in (0x5c,):
            out += "\\\\"
        elif 0x20 <= c < 0x7f and ch != "#":
            out += ch
        else:
            out += "\\x%02x" % c
    return out


def transcripts(d):
    """The .t files of test/emu/windows (their .exp: make PERSONA=windows
    transcripts-update)."""
    import os
    blob = (b"\x01\x01\0\0\0\0\0\0" + b"\0" * 8 + b"\x22" * 8 + b"\0" * 4
            + b"\0\0\0\0")
    lm = b"\0" * 24
    nt = b"\x33" * 16 + blob
    files = {
        "smb-login": (
            "# an SMB1 NEGOTIATE with SMB2 dialects (the wildcard answer),\n"
            "# SMB2 NEGOTIATE to 3.1.1 (preauth and cipher contexts), NTLMSSP\n"
            "# in SPNEGO: CHALLENGE, then an NTLMv2 AUTHENTICATE: a login\n"
            "# event with its hash, STATUS_LOGON_FAILURE\n",
            [smb1_negotiate(["NT LM 0.12", "SMB 2.002", "SMB 2.???"]),
             smb2_negotiate([0x202, 0x210, 0x300, 0x302, 0x311],
                            [preauth_ctx(), cipher_ctx(2, 1)]),
             session_setup(spnego_init(ntlm_negotiate()), 2),
             session_setup(spnego_resp(ntlm_authenticate(
                 "administrator", "CORP", "KALI", lm, nt)), 3)]),
        "smb-ntlmv1": (
            "# raw NTLMSSP (no SPNEGO), dialect 2.1, a 24-byte NT response:\n"
            "# the hash as hashcat 5500 takes it\n",
            [smb2_negotiate([0x202, 0x210]),
             session_setup(ntlm_negotiate(0xe2088297), 2),
             session_setup(ntlm_authenticate("bob", "WORKGROUP", "PC1",
                                             b"\x44" * 24, b"\x55" * 24), 3)]),
        "smb-anonymous": (
            "# an anonymous NTLM session (no user, no responses): success\n"
            "# with SMB2_SESSION_FLAG_IS_NULL; TREE_CONNECT refused, ECHO,\n"
            "# LOGOFF\n",
            [smb2_negotiate([0x202, 0x210, 0x300, 0x302]),
             session_setup(spnego_init(ntlm_negotiate()), 2),
             session_setup(spnego_resp(ntlm_authenticate(
                 "", "", "", b"\0", b"")), 3),
             smb2_simple(3, 4, 0, struct.pack("<HHHH", 9, 0, 72, 0)),
             smb2_simple(13, 5, 0, struct.pack("<HH", 4, 0)),
             smb2_simple(2, 6, 0, struct.pack("<HH", 4, 0))]),
        "smb-ms17": (
            "# the SMB1-only NEGOTIATE of the MS17-010 tools: an exploit\n"
            "# event, then a reset (no SMB1 on Server 2019)\n",
            [smb1_negotiate(MS17_DIALECTS)]),
        "smb-ghost": (
            "# SMBGhost's check: a 3.1.1 NEGOTIATE with compression\n"
            "# capabilities: an exploit event; answered as 1809 (no\n"
            "# compression context)\n",
            [smb2_negotiate([0x311], [preauth_ctx(), cipher_ctx(1, 2),
                                      compression_ctx()])]),
        "smb-errors": (
            "# no common dialect; 3.1.1 without a preauth context; a\n"
            "# session request out of place; garbage; an over-long message\n",
            [smb2_negotiate([0x222]),
             b"", smb2_negotiate([0x311], []),
             b"", b"GET / HTTP/1.0\r\n\r\n",
             b"", b"\x00\x01\x00\x00" + b"A" * 16]),
    }
    for name, (head, msgs) in files.items():
        lines = [head.rstrip("\n"), "open smb 445"]
        for m in msgs:
            if m == b"":
                lines += ["close", "open smb 445"]
            else:
                lines.append("> " + esc(m))
        lines.append("close")
        with open(os.path.join(d, name + ".t"), "w") as f:
            f.write("\n".join(lines) + "\n")
    with open(os.path.join(d, "smb-nbss.t"), "w") as f:
        f.write("# port 139: the NetBIOS session request (called name\n"
                "# *SMBSERVER), the positive response, then SMB2; without\n"
                "# the request: the negative response, error 0x8F\n"
                "open smb 139\n"
                "> " + esc(nbss(b" CKFDENECFDEFFCFGEFFCCACACACACACA\0"
                                b" EIEFECEBEAFEFJCACACACACACACACAAA\0",
                                0x81)) + "\n"
                "> " + esc(smb2_negotiate([0x202, 0x210])) + "\n"
                "close\nopen smb 139\n"
                "> " + esc(smb2_negotiate([0x202])) + "\nclose\n")


if __name__ == "__main__":
    import os
    transcripts(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                             "..", "emu", "windows"))
