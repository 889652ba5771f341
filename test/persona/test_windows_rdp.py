"""RDP (emu/rdp.c) of the windows persona, a Windows Server 2019 member
server with the default "require Network Level Authentication": the
negotiation answers, the TLS certificate, CredSSP with NTLM driven by the
clients attackers use (FreeRDP's xfreerdp /auth-only, impacket's
rdp_check.py) whose NetNTLMv2 hash must verify against the password the
test used, the mstshash cookie as user.name, a BlueKeep-style probe (the
MCS Connect Initial asking for MS_T120, built here from [MS-RDPBCGR]
2.2.1.3), and nmap -sV with its rdp scripts.

There is no Windows here to compare with side by side: the expected values
are nmap's "Windows 10" match line for its TerminalServerCookie probe
(the Confirm byte for byte), and the rdp-enum-encryption and rdp-ntlm-info
output published for Server 2019 hosts (HTB Academy's ILF-SQL-01, build
10.0.17763: "CredSSP (NLA): SUCCESS", "CredSSP with Early User Auth:
SUCCESS", "RDSTLS: SUCCESS", no "RDP Encryption level"). Per instance: the
host name (WIN- and 11 characters), the certificate."""
import datetime
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import NS, get, persona
import smb_packets as sp
from rdp_packets import connect_initial, cr, tsrequest
from test_windows_smb import check_hash
from ssh_common import nmap_dbs, recv_exact

persona("windows")

# nmap-service-probes, TerminalServerCookie: match ms-wbt-server (Windows 10)
NMAP_CONFIRM = b"\x03\0\0\x13\x0e\xd0\0\0\x124\0\x02\x1f\x08\0\x02\0\0\0"


def confirm(port, data):
    """The Confirm to a Connection Request, and whether the server closed
    after it."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(data)
    hdr = recv_exact(s, 4)
    body = recv_exact(s, struct.unpack(">H", hdr[2:])[0] - 4)
    s.settimeout(1)
    try:
        closed = s.recv(1) == b""
    except socket.timeout:
        closed = False
    s.close()
    return hdr + body, closed


def test_negotiation(sensor):
    """What a default Server 2019 selects for each request."""
    port = sensor.port(3389)
    want = {
        3: (NMAP_CONFIRM, False),  # SSL|HYBRID: HYBRID, nmap's match line
        0x0b: (NMAP_CONFIRM[:-4] + b"\x08\0\0\0", False),  # HYBRID_EX
        8: (NMAP_CONFIRM[:-4] + b"\x08\0\0\0", False),
        4: (NMAP_CONFIRM[:-4] + b"\x04\0\0\0", False),  # RDSTLS
        # no CredSSP: HYBRID_REQUIRED_BY_SERVER, then a close
        0: (b"\x03\0\0\x13\x0e\xd0\0\0\x124\0\x03\0\x08\0\x05\0\0\0", True),
        1: (b"\x03\0\0\x13\x0e\xd0\0\0\x124\0\x03\0\x08\0\x05\0\0\0", True),
    }
    for neg, (answer, closed) in want.items():
        assert confirm(port, cr(b"Cookie: mstshash=a\r\n", neg)) == \
            (answer, closed), neg
    # no RDP_NEG_REQ: the Confirm without negotiation data (3.3.5.3.2)
    assert confirm(port, cr()) == (b"\x03\0\0\x0b\x06\xd0\0\0\x124\0", False)
    evs = sensor.wait_count(6, "request", lure__rdp__cookie="mstshash=a")
    by = {get(e, "lure.rdp.protocols"): e for e in evs}
    assert get(by["ssl,hybrid"], "lure.rdp.selected") == "hybrid"
    assert get(by["ssl,hybrid,hybrid_ex"], "lure.rdp.selected") == \
        "hybrid_ex"
    assert get(by["rdp"], "lure.rdp.failure") == "HYBRID_REQUIRED_BY_SERVER"
    assert get(by["ssl"], "lure.rdp.failure") == "HYBRID_REQUIRED_BY_SERVER"


def test_cookie_and_routing_token(sensor):
    """The mstshash cookie is the user name brute-forcers try; a routing
    token is logged as it came."""
    port = sensor.port(3389)
    confirm(port, cr(b"Cookie: mstshash=backup_admin\r\n", 0))
    ev = sensor.wait_event("request", user__name="backup_admin")
    assert get(ev, "lure.rdp.cookie") == "mstshash=backup_admin"
    confirm(port, cr(b"Cookie: msts=3640205228.15629.0000\r\n", 3))
    ev = sensor.wait_event("request",
                           lure__rdp__cookie="msts=3640205228.15629.0000")
    assert get(ev, "user.name") is None


def test_certificate(sensor):
    """TLS after the Confirm: Schannel's suite; the self-signed certificate
    RDP makes, CN=<FQDN>, six months, renewed (tls.cert.renew): the
    persona's one certificate (tls.conf; 1433 presents it too)."""
    from cryptography import x509
    from cryptography.x509.oid import NameOID
    s = socket.create_connection(("127.0.0.1", sensor.port(3389)), timeout=5)
    s.sendall(cr(b"Cookie: mstshash=x\r\n", 0x0b))
    assert recv_exact(s, 19)[11] == 2
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    t = ctx.wrap_socket(s)
    # Schannel's order (tls.suites): its first RSA suite that the client has
    assert (t.version(), t.cipher()[0]) == \
        ("TLSv1.2", "ECDHE-RSA-AES256-GCM-SHA384")
    der = t.getpeercert(binary_form=True)
    t.close()
    c = x509.load_der_x509_certificate(der)
    assert c.issuer == c.subject
    cn = c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    assert re.fullmatch(r"WIN-[A-Z0-9]{11}\.corp\.local", cn), cn
    # cryptography 42 renamed them (*_utc); older ones have only these
    after = getattr(c, "not_valid_after_utc", None) or c.not_valid_after
    before = getattr(c, "not_valid_before_utc", None) or c.not_valid_before
    assert (after - before).days == 182
    # made again when it expires (tls.cert.renew): always the current one
    now = datetime.datetime.now(datetime.timezone.utc)
    if before.tzinfo is None:
        now = now.replace(tzinfo=None)
    assert before <= now < after, (before, after)


def test_direct_tls(sensor):
    """A ClientHello first (the direct approach, as nmap's ssl-cert and
    sslscan connect to 3389): TLS at once, then CredSSP."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", sensor.port(3389)), timeout=5)
    t = ctx.wrap_socket(s)
    t.sendall(tsrequest(6, sp.ntlm_negotiate()))
    got = b""
    while b"NTLMSSP\0\x02" not in got:
        b = t.recv(4096)
        assert b, got
        got += b
    t.close()
    assert got[:2] == b"\x30\x81" and b"\xa0\x03\x02\x01\x06" in got
    sensor.wait_event("request", lure__rdp__pdu="TLS ClientHello")
    sensor.wait_event("request", lure__auth__ntlm__message="NEGOTIATE")


def test_credssp_spnego(sensor):
    """Windows's own clients (mstsc, the Negotiate package) wrap NTLMSSP in
    SPNEGO: the CHALLENGE comes back in a negTokenResp (negState
    accept-incomplete, supportedMech NTLMSSP), and the AUTHENTICATE in the
    client's negTokenResp becomes the login whose hash verifies."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    s = socket.create_connection(("127.0.0.1", sensor.port(3389)), timeout=5)
    t = ctx.wrap_socket(s)
    t.sendall(tsrequest(6, sp.spnego_init(sp.ntlm_negotiate())))
    got = b""
    while b"NTLMSSP\0\x02" not in got or len(got) < 2 or \
            len(got) < 2 + (got[1] & 0x7f if got[1] & 0x80 else 0) + \
            int.from_bytes(got[2:2 + (got[1] & 0x7f)], "big"):
        b = t.recv(4096)
        assert b, got
        got += b
    resp = b"\xa1"
    assert resp in got and b"\xa0\x03\x0a\x01\x01" in got, got
    oid = bytes.fromhex("060a2b06010401823702020a")
    assert oid in got, got
    c = got.index(b"NTLMSSP\0\x02")
    assert got.index(b"\xa0\x03\x0a\x01\x01") < got.index(oid) < c
    auth = sp.authenticate_to(got, "Summer2024!", "administrator", "CORP", "WS01")
    t.sendall(tsrequest(6, sp.spnego_resp(auth)))
    t.settimeout(3)
    try:
        while t.recv(4096):
            pass
    except (OSError, ssl.SSLError):
        pass
    t.close()
    ev = sensor.wait_event("login", lure__auth__method="ntlmv2")
    check_hash(ev, "administrator", "CORP", "Summer2024!")


def test_xfreerdp_auth_only(sensor):
    """FreeRDP's NLA with a wrong password: its ERRCONNECT_LOGON_FAILURE
    (the TSRequest errorCode), and the login event."""
    if not shutil.which("xfreerdp") or not shutil.which("xvfb-run"):
        pytest.fail("xfreerdp and xvfb-run are needed "
                    "(sh tools/deps.sh persona)", pytrace=False)
    r = subprocess.run(
        ["xvfb-run", "-a", "xfreerdp", f"/v:127.0.0.1:{sensor.port(3389)}",
         "/u:administrator", "/d:CORP", "/p:Summer2024!", "/auth-only",
         "/cert:ignore"], capture_output=True, timeout=60)
    out = r.stdout.decode(errors="replace") + r.stderr.decode(
        errors="replace")
    assert r.returncode != 0
    assert "ERRCONNECT_LOGON_FAILURE" in out, out[-2000:]
    ev = sensor.wait_event("login", user__name="administrator")
    assert get(ev, "user.domain") == "CORP"
    assert get(ev, "event.outcome") == "failure"
    assert get(ev, "lure.auth.method") == "ntlmv2"
    assert get(ev, "lure.rdp.credssp_version") == 6
    check_hash(ev, "administrator", "CORP", "Summer2024!")
    # FreeRDP 2 asks for SSL|HYBRID (HYBRID_EX only with /sec-ext)
    req = sensor.find("request", lure__rdp__selected="hybrid")
    assert req and get(req[0], "lure.rdp.protocols") == "ssl,hybrid"


# rdp_check.py connects to port 3389 only: this runs it with the port moved
RDP_CHECK = """
import runpy, shutil, socket, sys
port = int(sys.argv.pop(1))
orig = socket.socket.connect
def connect(self, addr):
    if addr[1] == 3389:
        addr = (addr[0], port) + tuple(addr[2:])
    return orig(self, addr)
socket.socket.connect = connect
sys.argv[0] = shutil.which("rdp_check.py")
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def test_impacket_rdp_check(sensor):
    """impacket's CredSSP (TSRequest version 2: no errorCode, the
    connection closes); "Access Granted" would be a failure."""
    if not shutil.which("rdp_check.py"):
        pytest.fail("impacket's rdp_check.py is needed", pytrace=False)
    r = subprocess.run([sys.executable, "-c", RDP_CHECK,
                        str(sensor.port(3389)), "CORP/bob:hunter2@127.0.0.1"],
                       capture_output=True, timeout=60)
    out = (r.stdout + r.stderr).decode(errors="replace")
    assert "Access Granted" not in out, out
    ev = sensor.wait_event("login", user__name="bob")
    assert get(ev, "lure.rdp.credssp_version") == 2
    check_hash(ev, "bob", "CORP", "hunter2")


def test_bluekeep_probe(sensor):
    """Standard security and a channel list with MS_T120: an exploit
    event, then the close; a plain client's list is a request."""
    port = sensor.port(3389)
    for channels in (["rdpdr", "MS_T120"], ["rdpdr", "cliprdr"]):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(cr(b"Cookie: mstshash=bk\r\n"))
        assert recv_exact(s, 11) == b"\x03\0\0\x0b\x06\xd0\0\0\x124\0"
        s.sendall(connect_initial(channels))
        s.settimeout(5)
        assert s.recv(100) == b""
        s.close()
    ev = sensor.wait_event("exploit", rule__name="bluekeep")
    assert get(ev, "vulnerability.id") == "CVE-2019-0708"
    assert get(ev, "lure.rdp.channels") == "rdpdr,MS_T120"
    assert get(ev, "lure.rdp.client_name") == "kali"
    assert get(ev, "lure.rdp.client_build") == 2600
    ev = sensor.wait_event("request", lure__rdp__channels="rdpdr,cliprdr")
    assert not sensor.find("exploit", lure__rdp__channels="rdpdr,cliprdr")


def nmap(netns, datadir, *args):
    """nmap -sV of 3389 in the namespace (its probes for 3389 come first
    only on that port: on another, its SSLSessionReq gets the direct
    approach's TLS before TerminalServerCookie is tried)."""
    cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "3389",
                      "-oX", "-", *args]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return ET.fromstring(r.stdout).find(".//port")


def test_nmap(host, netns):
    """nmap -sV names it with both service databases (at once); the rdp
    scripts report the persona's names, the build and NLA; ssl-cert the
    certificate."""
    if not shutil.which("nmap"):
        pytest.fail("nmap is needed", pytrace=False)
    scripts = ("--script", "rdp-ntlm-info,rdp-enum-encryption,ssl-cert")
    with ThreadPoolExecutor(4) as ex:
        runs = [ex.submit(nmap, netns, d, *(scripts if d is None else ()))
                for d in nmap_dbs()]
        ports = [r.result() for r in runs]
    for p in ports:
        svc = p.find("service")
        assert svc.get("name") == "ms-wbt-server"
        assert svc.get("product") == "Microsoft Terminal Services"
        assert svc.get("ostype") == "Windows"
    out = {s.get("id"): s.get("output") for s in ports[0].iter("script")}
    info = out["rdp-ntlm-info"]
    name = re.search(r"NetBIOS_Computer_Name: (WIN-[A-Z0-9]{11})", info)
    assert name, info
    for line in ("Target_Name: CORP", "NetBIOS_Domain_Name: CORP",
                 "DNS_Domain_Name: corp.local",
                 f"DNS_Computer_Name: {name[1]}.corp.local",
                 "DNS_Tree_Name: corp.local",
                 "Product_Version: 10.0.17763"):
        assert line in info, info
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    assert f"System_Time: {today}" in info, info
    # ssl-cert connects with TLS at once (shortport.ssl names 3389); its
    # subject: test_certificate
    assert "Subject: commonName=" in out["ssl-cert"]
    enc = out["rdp-enum-encryption"]
    got = sorted(re.findall(r"^\s+(.*): SUCCESS$", enc, re.M))
    assert got == ["CredSSP (NLA)", "CredSSP with Early User Auth",
                   "RDSTLS"], enc
    assert "Native RDP" not in enc and "SSL:" not in enc
    assert "RDP Encryption level" not in enc
    host.wait_event("request", user__name="nmap")
