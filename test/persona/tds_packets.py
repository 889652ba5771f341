"""TDS client messages built from [MS-TDS], for the windows persona's MSSQL
tests (test_windows_tds.py) and transcripts (test/emu/windows/tds-*):
2.2.3.1 (packet header), 2.2.6.5 (PRELOGIN), 2.2.6.4 (LOGIN7, its password
scrambling), 2.2.6.8 (SSPI); the NTLMSSP messages are smb_packets.py's.
`python3 test/persona/tds_packets.py` rewrites the .t transcripts and the
fuzz seeds (test/fuzz/corpus/emu_tds)."""
import struct

import smb_packets as sp


def packet(kind, body, status=1):
    return struct.pack(">BBHHBB", kind, status, 8 + len(body), 0, 1, 0) + body


def prelogin(enc, instance=b"MSSQLServer\0", mars=None):
    """VERSION, ENCRYPTION, INSTOPT, THREADID (the options of nmap's
    ms-sql-s probe), and MARS when given"""
    opts = [(0, b"\x0f\x00\x07\xd0\x00\x00"), (1, bytes([enc])),
            (2, instance), (3, b"\0\0\0\1")]
    if mars is not None:
        opts.append((4, bytes([mars])))
    off = 5 * len(opts) + 1
    head, data = b"", b""
    for t, v in opts:
        head += struct.pack(">BHH", t, off + len(data), len(v))
        data += v
    return packet(0x12, head + b"\xff" + data)


def scramble(password):
    """2.2.6.4: each byte's nibbles swapped, then XOR 0xA5"""
    return bytes((((b & 0x0f) << 4) | (b >> 4)) ^ 0xa5
                 for b in password.encode("utf-16-le"))


def login7(user="", password="", host="KALI", app="lure-test",
           server="127.0.0.1", library="lure-lib", database="",
           sspi=b"", version=0x74000004):
    """LOGIN7 (TDS 7.2+ layout, 94 fixed bytes); with sspi: fIntSecurity"""
    fields = [host, user, None, app, server, "", library, "us_english",
              database]
    data, offs = b"", []
    pos = 94
    for f in fields:
        raw = scramble(password) if f is None else f.encode("utf-16-le")
        offs.append(struct.pack("<HH", pos + len(data), len(raw) // 2))
        data += raw
    sspi_off = pos + len(data)
    data += sspi
    fixed = (struct.pack("<IIIIII", 0, version, 4096, 0x07000000, 4242, 0)
             + bytes([0xe0, 0x03 | (0x80 if sspi else 0), 0, 0])
             + struct.pack("<iI", 0, 0x409)
             + b"".join(offs[:5]) + offs[5] + b"".join(offs[6:])
             + b"\x00\x50\x56\x01\x02\x03"
             + struct.pack("<HH", sspi_off, len(sspi))
             + struct.pack("<HH", pos + len(data), 0)
             + struct.pack("<HH", pos + len(data), 0)
             + struct.pack("<I", 0))
    assert len(fixed) == 94, len(fixed)
    body = fixed + data
    return packet(0x10, struct.pack("<I", len(body)) + body[4:])


def transcripts(d):
    """The .t files of test/emu/windows (their .exp: make PERSONA=windows
    transcripts-update)."""
    import os
    blob = (b"\x01\x01\0\0\0\0\0\0" + b"\0" * 8 + b"\x22" * 8 + b"\0" * 4
            + b"\0\0\0\0")
    nt = b"\x33" * 16 + blob
    auth = sp.ntlm_authenticate("bob", "CORP", "KALI", b"\0" * 24, nt)
    files = {
        "tds-sql-login": (
            "# PRELOGIN (ENCRYPT_OFF: no TLS in a test driver, so answered\n"
            "# NOT_SUP), then a SQL login: its password de-obfuscated, error\n"
            "# 18456 and DONE with the error flag, a close\n",
            [[prelogin(0, mars=0),
              login7("sa", "P\u00e4ssw0rd!", database="master")]]),
        "tds-ntlm": (
            "# nmap's ms-sql-ntlm-info: LOGIN7 with an NTLMSSP NEGOTIATE and\n"
            "# no PRELOGIN: the SSPI token with the CHALLENGE; then an\n"
            "# AUTHENTICATE in an SSPI packet: a login event with the hash,\n"
            "# error 18452\n",
            [[login7(sspi=sp.ntlm_negotiate()), packet(0x11, auth)]]),
        "tds-old-client": (
            "# a TDS 7.1 client (impacket's LOGIN7 version): the short\n"
            "# LineNumber and DoneRowCount; INSTOPT of another instance\n",
            [[prelogin(2, instance=b"SQLEXPRESS\0"),
              login7("admin", "admin", version=0x71000001)]]),
        "tds-errors": (
            "# each closes its connection: not TDS, a short packet length, a\n"
            "# bad LOGIN7, a batch before a login, a second PRELOGIN, a\n"
            "# message over two packets, an SSPI packet out of place; a bare\n"
            "# TLS ClientHello (TDS 8.0, SQL Server 2022's) is read as a TDS\n"
            "# header of 256 bytes: nothing until the client gives up\n",
            [[b"GET / HTTP/1.0\r\n\r\n"],
             [b"\x12\x01\x00\x04\0\0\0\0"],
             [packet(0x10, b"\0" * 40)],
             [packet(0x01, "select 1".encode("utf-16-le"))],
             [prelogin(2), prelogin(2)],
             [packet(0x10, b"\0" * 100, status=0)],
             [packet(0x11, auth)],
             [b"\x16\x03\x01\x00\x30\x01\x00\x00\x2c\x03\x03" + b"\0" * 44]]),
        "tds-timeout": (
            "# a PRELOGIN, then nothing: closed 60 s after accept\n"
            "# (tds.login_timeout_ms)\n",
            [[prelogin(2), "+ 59000", "+ 2000"]]),
    }
    for name, (comment, sessions) in files.items():
        with open(os.path.join(d, name + ".t"), "w") as f:
            f.write(comment)
            for msgs in sessions:
                f.write("open tds 1433\n")
                for m in msgs:
                    f.write(m + "\n" if isinstance(m, str)
                            else "> " + sp.esc(m) + "\n")
                f.write("close\n")


def fuzz_seeds(d):
    """test/fuzz/corpus/emu_tds: fuzz_emu.c's input (a port byte, then
    chunks of [len:u8][bytes])"""
    import os
    auth = sp.ntlm_authenticate("bob", "CORP", "KALI", b"\0" * 24,
                                b"\x33" * 16 + b"\x01\x01" + b"\0" * 30)
    seeds = {
        "sql": [prelogin(2, mars=0), login7("sa", "pw", database="master")],
        "sql71": [prelogin(2), login7("a", "b", version=0x71000001)],
        "ntlm": [login7(sspi=sp.ntlm_negotiate()), packet(0x11, auth)],
        "tls": [prelogin(0), packet(0x12, b"\x16\x03\x01\x00\x05"
                                    b"\x01\x00\x00\x01\x00")],
    }
    os.makedirs(d, exist_ok=True)
    for name, msgs in seeds.items():
        out = b"\0"
        for m in msgs:
            for i in range(0, len(m), 200):
                out += bytes([len(m[i:i + 200])]) + m[i:i + 200]
        with open(os.path.join(d, name), "wb") as f:
            f.write(out)


if __name__ == "__main__":
    import os
    import sys
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    here = os.path.dirname(os.path.abspath(__file__))
    transcripts(os.path.join(here, "..", "emu", "windows"))
    fuzz_seeds(os.path.join(here, "..", "fuzz", "corpus", "emu_tds"))
