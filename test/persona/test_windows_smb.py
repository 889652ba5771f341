"""SMB (emu/smb.c) of the windows persona, a Windows Server 2019 member
server, driven by the clients attackers use: impacket (PyPI) and Debian's
smbclient log in with a wrong password and get STATUS_LOGON_FAILURE, and the
NetNTLMv2 hash lure logs verifies against the password the test used
(NTProofStr recomputed here with [MS-NLMP] 3.3.2); anonymous sessions, the
MS17-010 tools' SMB1 NEGOTIATE (refused with a reset: Server 2019 has no
SMB1) and SMBGhost's compression context; then nmap -sV and its SMB scripts
on the real ports in a network namespace.

There is no Windows here to compare with side by side: the expected values
are those published for Server 2016/2019 with SMB1 off (every HTB-style
scan report of such a host, and nmap's own service database):
  139/tcp netbios-ssn "Microsoft Windows netbios-ssn" (nmap-service-probes:
      the negative session response to SMBProgNeg), 445/tcp "microsoft-ds?"
      (no answer to SMBProgNeg's SMB1-only NEGOTIATE: the name is the port's);
  smb2-security-mode: 3.1.1 "Message signing enabled but not required" (a
      member server; domain controllers require signing);
  smb2-time: the current date and "start_date: N/A" (ServerStartTime 0);
  smb-protocols: dialects 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1 and no SMBv1;
  smb2-capabilities: DFS, Leasing, Multi-credit operations from 2.1 on;
  smb-os-discovery and smb-vuln-ms17-010: nothing (they need SMB1)."""
import os
import re
import shutil
import socket
import struct
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import NS, get, persona
import smb_packets as sp

persona("windows")

USER, DOMAIN, PASSWORD = "administrator", "CORP", "Summer2024!"
LOGON_FAILURE = 0xC000006D


def impacket():
    try:
        from impacket.smbconnection import SMBConnection, SessionError
    except ImportError:
        pytest.fail("impacket is needed (sh tools/deps.sh persona)",
                    pytrace=False)
    return SMBConnection, SessionError


def check_hash(ev, user, domain, password):
    """The logged hashcat 5600 line: USER::DOMAIN:CHALLENGE:NTPROOFSTR:BLOB,
    and NTProofStr recomputed from the password."""
    h = get(ev, "lure.auth.ntlm.hash")
    u, empty, d, chal, proof, blob = h.split(":")
    assert (u, empty, d) == (user, "", domain), h
    assert re.fullmatch(r"[0-9a-f]{16}", chal), h
    assert re.fullmatch(r"[0-9a-f]{32}", proof), h
    assert re.fullmatch(r"([0-9a-f]{2})+", blob), h
    want = sp.ntproofstr(password, user, domain, bytes.fromhex(chal),
                         bytes.fromhex(blob))
    assert want.hex() == proof, "NTProofStr does not verify"
    # a wrong password does not verify
    assert sp.ntproofstr(password + "x", user, domain, bytes.fromhex(chal),
                         bytes.fromhex(blob)).hex() != proof


def test_impacket_wrong_password(sensor):
    SMBConnection, SessionError = impacket()
    port = sensor.port(445)
    c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=port, timeout=10)
    assert c.getDialect() == 0x0311
    with pytest.raises(SessionError) as ex:
        c.login(USER, PASSWORD, DOMAIN)
    assert ex.value.getErrorCode() == LOGON_FAILURE
    # what the CHALLENGE told impacket (smb-os-discovery's SMB2 fields)
    assert re.fullmatch(r"WIN-[A-Z0-9]{11}", c.getServerName())
    assert c.getServerDomain() == "CORP"
    assert c.getServerDNSDomainName() == "corp.local"
    assert c.getServerDNSHostName() == c.getServerName() + ".corp.local"
    assert (c.getServerOSMajor(), c.getServerOSMinor(),
            c.getServerOSBuild()) == (10, 0, 17763)
    c.close()
    ev = sensor.wait_event("login", user__name=USER)
    assert get(ev, "user.domain") == DOMAIN
    assert get(ev, "event.outcome") == "failure"
    assert get(ev, "lure.auth.method") == "ntlmv2"
    check_hash(ev, USER, DOMAIN, PASSWORD)
    neg = sensor.find("request", lure__smb__command="NEGOTIATE")
    assert {get(e, "lure.smb.dialect") for e in neg} >= {"2.???", "3.1.1"}


def test_impacket_each_dialect(sensor):
    """impacket held to one dialect: each is served, and fails the same."""
    SMBConnection, SessionError = impacket()
    from impacket import smb
    from impacket.smb3structs import (SMB2_DIALECT_002, SMB2_DIALECT_21,
                                      SMB2_DIALECT_30)
    for d in (SMB2_DIALECT_002, SMB2_DIALECT_21, SMB2_DIALECT_30):
        c = SMBConnection("127.0.0.1", "127.0.0.1",
                          sess_port=sensor.port(445), preferredDialect=d,
                          timeout=10)
        assert c.getDialect() == d
        with pytest.raises(SessionError) as ex:
            c.login("bob", "hunter2", "WORKGROUP")
        assert ex.value.getErrorCode() == LOGON_FAILURE
        c.close()
    evs = sensor.wait_count(3, "login", user__name="bob")
    for ev in evs:
        check_hash(ev, "bob", "WORKGROUP", "hunter2")
    # SMB1 only: Server 2019 has none and resets
    with pytest.raises(Exception):
        SMBConnection("127.0.0.1", "127.0.0.1", sess_port=sensor.port(445),
                      preferredDialect=smb.SMB_DIALECT, timeout=5)
    sensor.wait_event("request", lure__smb__version=1,
                      error__message="SMB1 refused")


def test_netbios_139(sensor):
    """139: the session request (called name *SMBSERVER, first-level
    encoded, RFC 1002 4.1) gets the positive response, then SMB2; an SMB
    message without it gets the negative response, error 0x8F. (impacket
    sends the session request on port 139 only: test_impacket_139 runs it
    on the real port.)"""
    req = sp.nbss(b" CKFDENECFDEFFCFGEFFCCACACACACACA\0"
                  b" EIEFECEBEAFEFJCACACACACACACACAAA\0", 0x81)
    s = socket.create_connection(("127.0.0.1", sensor.port(139)), 5)
    s.sendall(req)
    assert s.recv(16) == b"\x82\0\0\0"
    s.sendall(sp.smb2_negotiate([0x0202, 0x0210]))
    r = s.recv(4096)
    assert r[4:8] == b"\xfeSMB" and r[4 + 64 + 4:4 + 64 + 6] == b"\x10\x02"
    s.close()
    sensor.wait_event("request", lure__smb__command="SESSION_REQUEST",
                      lure__smb__called_name="*SMBSERVER")
    assert exchange(sensor.port(139), sp.smb2_negotiate([0x0202])) == \
        b"\x83\0\0\x01\x8f"


def test_anonymous(sensor):
    """A null session is accepted (SMB2_SESSION_FLAG_IS_NULL), as Windows
    does; what follows is refused (lure serves nothing)."""
    SMBConnection, SessionError = impacket()
    c = SMBConnection("127.0.0.1", "127.0.0.1", sess_port=sensor.port(445),
                      timeout=10)
    c.login("", "")
    with pytest.raises(SessionError):
        c.connectTree("IPC$")
    ev = sensor.wait_event("login", lure__auth__method="anonymous")
    assert get(ev, "event.outcome") == "success"
    assert get(ev, "lure.auth.ntlm.hash") is None


def test_smbclient(sensor):
    if not shutil.which("smbclient"):
        pytest.fail("smbclient is needed (sh tools/deps.sh persona)",
                    pytrace=False)
    r = subprocess.run(
        ["smbclient", "-L", "//127.0.0.1", "-p", str(sensor.port(445)),
         "-U", f"{DOMAIN}/{USER}%{PASSWORD}", "-m", "SMB3"],
        capture_output=True, timeout=60)
    out = (r.stdout + r.stderr).decode()
    assert r.returncode != 0 and "NT_STATUS_LOGON_FAILURE" in out, out
    ev = sensor.wait_event("login", user__name=USER)
    assert get(ev, "user.domain") == DOMAIN
    check_hash(ev, USER, DOMAIN, PASSWORD)


def exchange(port, msg):
    """Send one message; the answer (b"" for a close, None for a reset)."""
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.sendall(msg)
    try:
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                return data
            data += b
            if len(data) >= 4 and len(data) >= 4 + struct.unpack(
                    ">I", data[:4])[0]:
                return data
    except ConnectionResetError:
        return None
    finally:
        s.close()


def test_ms17_010_probe(sensor):
    """The MS17-010 tools' SMB1 NEGOTIATE: an RST, an exploit event."""
    assert exchange(sensor.port(445), sp.smb1_negotiate(sp.MS17_DIALECTS)) \
        in (None, b"")
    ev = sensor.wait_event("exploit", rule__name="smb1-ms17-010")
    assert get(ev, "vulnerability.id") == "CVE-2017-0144"
    assert get(ev, "lure.smb.dialects") == ",".join(sp.MS17_DIALECTS)


def test_smbghost(sensor):
    """A 3.1.1 NEGOTIATE with SMB2_COMPRESSION_CAPABILITIES: 1809 knows no
    compression, so the answer has preauth and encryption contexts only."""
    r = exchange(sensor.port(445), sp.smb2_negotiate(
        [0x0311], [sp.preauth_ctx(), sp.cipher_ctx(2, 1),
                   sp.compression_ctx()]))
    body = r[4 + 64:]
    assert struct.unpack("<I", r[12:16])[0] == 0
    assert struct.unpack("<HHHH", body[:8])[2:] == (0x0311, 2)
    off = struct.unpack("<I", body[60:64])[0]
    ctx = r[4 + off:]
    assert struct.unpack("<HHIHHH", ctx[:14]) == (1, 38, 0, 1, 32, 1)
    ctx2 = ctx[(8 + 38 + 7) & ~7:]
    assert struct.unpack("<HHIHH", ctx2[:12]) == (2, 4, 0, 1, 2)
    assert len(ctx2) == 12
    ev = sensor.wait_event("exploit", rule__name="smb-ghost")
    assert get(ev, "vulnerability.id") == "CVE-2020-0796"


def test_garbage_closes_one_connection(sensor):
    assert exchange(sensor.port(445), b"GET / HTTP/1.0\r\n\r\n") in (b"",
                                                                     None)
    assert exchange(sensor.port(445), b"\0\xff\xff\xff" + b"A" * 64) in \
        (b"", None)
    # the sensor still answers
    r = exchange(sensor.port(445), sp.smb2_negotiate([0x0202]))
    assert r[4:8] == b"\xfeSMB"


def nmap(netns, datadir, scripts):
    cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "139,445",
                      "--script", scripts, "-oX", "-"]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    return ET.fromstring(r.stdout)


def test_nmap(host, netns):
    """nmap -sV and the SMB scripts, with Debian 12's database and, when
    LURE_NMAP_DB holds it, Debian 13's."""
    if not shutil.which("nmap"):
        pytest.fail("nmap is needed", pytrace=False)
    dbs = [None]
    db = os.environ.get("LURE_NMAP_DB")
    if db and (Path(db) / "nmap-service-probes").is_file():
        dbs.append(Path(db).resolve())
    for d in dbs:
        x = nmap(netns, d, "smb2-security-mode,smb2-time,smb-protocols,"
                 "smb2-capabilities,smb-os-discovery,smb-vuln-ms17-010")
        svc = {int(p.get("portid")): p.find("service")
               for p in x.iter("port")}
        assert svc[139].get("name") == "netbios-ssn"
        assert svc[139].get("product") == "Microsoft Windows netbios-ssn"
        assert svc[445].get("name") == "microsoft-ds"
        assert svc[445].get("method") == "table", "445 named by its port"
        scripts = {s.get("id"): s for s in x.iter("script")}
        assert set(scripts) == {"smb2-security-mode", "smb2-time",
                                "smb-protocols", "smb2-capabilities"}, d
        mode = scripts["smb2-security-mode"].get("output")
        assert "Message signing enabled but not required" in mode
        assert re.search(r"3[.:]?1[.:]?1", mode)
        t = scripts["smb2-time"].get("output")
        assert "start_date: N/A" in t and "date: 20" in t
        dialects = re.findall(r"\n\s+(\S+)",
                              scripts["smb-protocols"].get("output"))[1:]
        norm = [re.sub(r"[.:]", "", v) for v in dialects]
        assert norm in (["202", "210", "300", "302", "311"],
                        ["202", "21", "30", "302", "311"],
                        ["202", "210", "300", "302", "311"]), dialects
        assert "SMBv1" not in scripts["smb-protocols"].get("output")
        caps = scripts["smb2-capabilities"].get("output")
        assert "Multiple Channel" not in caps and "Multi-credit" in caps


IMPACKET_139 = """
from impacket.smbconnection import SMBConnection, SessionError
c = SMBConnection("*SMBSERVER", "127.0.0.1", sess_port=139, timeout=10)
try:
    c.login("administrator", "Summer2024!", "CORP")
except SessionError as e:
    print(hex(e.getErrorCode()), c.getDialect(), c.getServerName())
"""


def test_impacket_139(host, netns):
    impacket()
    import sys
    r = subprocess.run(list(NS) + [netns, sys.executable, "-c", IMPACKET_139],
                       capture_output=True, timeout=60)
    out = r.stdout.decode().split()
    # over NetBIOS impacket's SMB1 NEGOTIATE offers "SMB 2.002" without the
    # wildcard: 2.0.2 ([MS-SMB2] 3.3.5.3.2)
    assert out[:2] == ["0xc000006d", str(0x0202)], r.stderr.decode()
    host.wait_event("request", lure__smb__command="SESSION_REQUEST",
                    destination__port=139)
    check_hash(host.wait_event("login", destination__port=139), USER,
               DOMAIN, PASSWORD)
