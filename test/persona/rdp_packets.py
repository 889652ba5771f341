"""RDP client messages built from the specifications, for
test_windows_rdp.py, the transcripts (test/emu/windows/rdp-*.t) and the
fuzz corpus (test/fuzz/corpus/emu_rdp): python3 rdp_packets.py writes
both (then make PERSONA=windows transcripts-update)."""
import os
import struct

import smb_packets as sp


def cr(cookie=b"", neg=None):
    """X.224 Connection Request ([MS-RDPBCGR] 2.2.1.1) in its TPKT, with
    RDP_NEG_REQ (requestedProtocols neg) unless neg is None."""
    v = cookie + (struct.pack("<BBHI", 1, 0, 8, neg) if neg is not None
                  else b"")
    x = bytes([6 + len(v), 0xe0, 0, 0, 0, 0, 0]) + v
    return struct.pack(">BBH", 3, 0, 4 + len(x)) + x


def ber(tag, body):
    return tag + (bytes([len(body)]) if len(body) < 0x80 else
                  b"\x82" + struct.pack(">H", len(body))) + body


def connect_initial(channels, name="kali"):
    """MCS Connect Initial ([MS-RDPBCGR] 2.2.1.3, T.125 BER) with CS_CORE,
    CS_SECURITY and CS_NET naming channels, in X.224 Data and TPKT: what
    BlueKeep scanners send after a Connection Request without
    negotiation."""
    core = struct.pack("<IHHHHII", 0x00080004, 1024, 768, 0xca01, 0xaa03,
                       0x409, 2600) + name.encode("utf-16-le").ljust(32, b"\0")
    core += struct.pack("<III", 4, 0, 12) + b"\0" * 64
    core += struct.pack("<HHHHHI", 0xca01, 1, 0, 0, 0, 0)
    core = struct.pack("<HH", 0xc001, 4 + len(core)) + core
    sec = struct.pack("<HHII", 0xc002, 12, 3, 0)
    net = struct.pack("<I", len(channels)) + b"".join(
        c.encode().ljust(8, b"\0") + struct.pack("<I", 0x80000000)
        for c in channels)
    net = struct.pack("<HH", 0xc003, 4 + len(net)) + net
    blocks = core + sec + net
    gcc = (b"\x00\x05\x00\x14\x7c\x00\x01" +
           struct.pack(">H", 0x8000 | (14 + len(blocks))) +
           b"\x00\x08\x00\x10\x00\x01\xc0\x00Duca" +
           struct.pack(">H", 0x8000 | len(blocks)) + blocks)
    params = ber(b"\x30", b"".join(ber(b"\x02", bytes([v]))
                                   for v in (34, 2, 0, 1, 0, 1)) +
                 ber(b"\x02", b"\xff\xff") + ber(b"\x02", b"\x02"))
    ci = ber(b"\x7f\x65", ber(b"\x04", b"\x01") + ber(b"\x04", b"\x01") +
             ber(b"\x01", b"\xff") + params * 3 + ber(b"\x04", gcc))
    x = b"\x02\xf0\x80" + ci
    return struct.pack(">BBH", 3, 0, 4 + len(x)) + x


def tsrequest(version, token=None, pubkeyauth=None):
    """A client's TSRequest ([MS-CSSP] 2.2.1) carrying an NTLMSSP token."""
    body = ber(b"\xa0", ber(b"\x02", bytes([version])))
    if token is not None:
        body += ber(b"\xa1", ber(b"\x30", ber(b"\x30", ber(
            b"\xa0", ber(b"\x04", token)))))
    if pubkeyauth is not None:
        body += ber(b"\xa3", ber(b"\x04", pubkeyauth))
    return ber(b"\x30", body)


def sessions():
    """name: (comment, [connection: [client messages]])."""
    blob = (b"\x01\x01\0\0\0\0\0\0" + b"\0" * 8 + b"\x22" * 8 + b"\0" * 4
            + b"\0\0\0\0")
    auth = sp.ntlm_authenticate("administrator", "CORP", "KALI", b"\0" * 24,
                                b"\x33" * 16 + blob)
    return {
        "rdp-login": (
            "# mstsc's request (SSL|HYBRID|HYBRID_EX): HYBRID_EX, then TLS\n"
            "# (the driver switches at once), CredSSP version 6: the\n"
            "# CHALLENGE, the NTLMv2 AUTHENTICATE: a login event, the\n"
            "# TSRequest with errorCode STATUS_LOGON_FAILURE, the close",
            [[cr(b"Cookie: mstshash=administrator\r\n", 0x0b),
              tsrequest(6, sp.ntlm_negotiate()),
              tsrequest(6, auth, b"\x01" * 16 + b"\x02" * 270)]]),
        "rdp-spnego": (
            "# Windows's own client (the Negotiate package): NTLMSSP in\n"
            "# SPNEGO; the CHALLENGE comes back in a negTokenResp",
            [[cr(b"Cookie: mstshash=administrator\r\n", 0x0b),
              tsrequest(6, sp.spnego_init(sp.ntlm_negotiate())),
              tsrequest(6, sp.spnego_resp(auth))]]),
        "rdp-credssp2": (
            "# nmap's rdp-ntlm-info (version 0x60) and a version 2 client\n"
            "# (impacket's): no errorCode, the close",
            [[cr(b"Cookie: mstshash=nmap\r\n", 0x0b),
              tsrequest(0x60, sp.ntlm_negotiate(0xe20882b7))],
             [cr(b"Cookie: mstshash=nmap\r\n", 3),
              tsrequest(2, sp.ntlm_negotiate()), tsrequest(2, auth)]]),
        "rdp-negotiation": (
            "# each protocol alone; a routing token; no RDP_NEG_REQ\n"
            "# (standard security: the Confirm without negotiation data)",
            [[cr(b"Cookie: mstshash=a\r\n", n)] for n in (0, 1, 2, 4, 8)] +
            [[cr(b"Cookie: msts=3640205228.15629.0000\r\n", 3)], [cr()]]),
        "rdp-bluekeep": (
            "# standard security and a Connect Initial asking for MS_T120:\n"
            "# an exploit event; a plain channel list: a request",
            [[cr(b"Cookie: mstshash=bk\r\n"),
              connect_initial(["rdpdr", "MS_T120"])],
             [cr(), connect_initial(["rdpdr", "cliprdr", "rdpsnd"])]]),
        "rdp-direct": (
            "# the direct approach: a ClientHello first (nmap's ssl-cert):\n"
            "# TLS at once (the driver drops the hello and switches), then\n"
            "# CredSSP",
            [[b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00",
              tsrequest(6, sp.ntlm_negotiate())]]),
        "rdp-errors": (
            "# garbage; a TPKT that is no Connection Request; an HTTP\n"
            "# request; a short AUTHENTICATE; a TSRequest without NTLMSSP",
            [[b"GET / HTTP/1.0\r\n\r\n"],
             [b"\x03\x00\x00\x0b\x06\xf0\x00\x00\x00\x00\x00"],
             [cr(b"", 3), tsrequest(6, b"NTLMSSP\0\x03\0\0\0")],
             [cr(b"", 3), tsrequest(6, b"\x60\x03\x06\x01\x00")],
             [cr(), b"\x03\x00\x00\x08\x02\xf0\x80\x00"]]),
    }


def write(emu_dir, corpus_dir):
    for name, (head, conns) in sessions().items():
        lines = [head]
        for msgs in conns:
            lines.append("open rdp 3389")
            lines += ["> " + sp.esc(m) for m in msgs]
            lines.append("close")
        with open(os.path.join(emu_dir, name + ".t"), "w") as f:
            f.write("\n".join(lines) + "\n")
        # fuzz_emu.c's input: a port byte, then [len:u8][bytes] chunks
        data = b"\0"
        for m in conns[0]:
            for i in range(0, len(m), 254):
                data += bytes([len(m[i:i + 254])]) + m[i:i + 254]
        with open(os.path.join(corpus_dir, name[4:]), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    corpus = os.path.join(here, "..", "fuzz", "corpus", "emu_rdp")
    os.makedirs(corpus, exist_ok=True)
    write(os.path.join(here, "..", "emu", "windows"), corpus)
