"""IIS 10 on port 80 (emu/http.c with persona data) and the RPC endpoint
mapper on 135 (emu/msrpc.c) of the windows persona, a Windows Server 2019
member server, driven by the clients attackers use: curl and raw requests,
impacket's endpoint mapper client (rpcdump.py's hept_lookup) and nmap -sV
with its http-title, http-server-header and http-methods scripts, on the
real ports in a network namespace.

There is no Windows here to compare with side by side: the expected values
are those published for Server 2016/2019 (curl -i / -I and nmap output in
write-ups, nmap's service database, [C706] and [MS-RPCE] for the PDUs):
  80/tcp  http  "Microsoft IIS httpd" 10.0, http-title "IIS Windows Server",
      http-server-header "Microsoft-IIS/10.0", http-methods "OPTIONS TRACE
      GET HEAD POST" with TRACE potentially risky;
  135/tcp msrpc "Microsoft Windows RPC" (the 24-byte BIND_NAK, reason 4, that
      Windows sends to the SMBProgNeg probe).
The emu/personas/windows/http.conf and msrpc.conf comments list the rest.
About 12 s on one worker, nmap's two databases at once (10 s of it)."""
import re
import shutil
import socket
import struct
import subprocess
import sys
import threading
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from conftest import get, persona
from ssh_common import nmap_dbs

persona("windows")

FILES = Path(__file__).resolve().parents[2] / "emu/personas/windows/files"
NS = ("ip", "netns", "exec")

EPM = "e1af8308-5d1f-11c9-91a4-08002b14a0fa"
NDR = "8a885d04-1ceb-11c9-9fe8-08002b104860"
NDR64 = "71710533-beba-4937-8319-b5dbef9ccc36"


# --- HTTP -------------------------------------------------------------------

def http(port, req, timeout=5):
    """Send req, read until the server closes (or timeout): the bytes."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(req)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except socket.timeout:
        pass
    s.close()
    return out


def head(resp):
    h, _, body = resp.partition(b"\r\n\r\n")
    lines = h.decode().split("\r\n")
    return lines[0], [l.split(":", 1)[0] for l in lines[1:]], \
        dict(l.split(": ", 1) for l in lines[1:]), body


def filetime_etag(etag):
    """IIS's ETag: the FILETIME's bytes, little-endian, each in %x."""
    m = re.fullmatch(r'"([0-9a-f]+):0"', etag)
    assert m, etag
    return m.group(1)


def test_iis_default_page(sensor):
    """GET / and /iisstart.htm: the 703-byte page with IIS's headers in
    IIS's order, an ETag that is the Last-Modified second as a FILETIME."""
    port = sensor.port(80)
    for path in ("/", "/iisstart.htm"):
        r = subprocess.run(["curl", "-si", "--max-time", "5",
                            f"http://127.0.0.1:{port}{path}"],
                           capture_output=True, timeout=10).stdout
        status, names, h, body = head(r)
        assert status == "HTTP/1.1 200 OK"
        assert names == ["Content-Type", "Last-Modified", "Accept-Ranges",
                         "ETag", "Server", "X-Powered-By", "Date",
                         "Content-Length"]
        assert h["Server"] == "Microsoft-IIS/10.0"
        assert h["X-Powered-By"] == "ASP.NET"
        assert h["Content-Length"] == "703" and len(body) == 703
        assert body == (FILES / "iisstart.htm").read_bytes()
        assert b"<title>IIS Windows Server</title>" in body
        lm = parsedate_to_datetime(h["Last-Modified"])
        hx = filetime_etag(h["ETag"])
        # the hex of each byte, unpadded: read them back against the date
        ft_s = (int(lm.timestamp()) + 11644473600) * 10000000
        want = "".join("%x" % b for b in
                       struct.pack("<Q", ft_s + (int(lm.timestamp()) *
                                                 2654435761) % 10000000))
        assert hx == want
        assert datetime(2019, 6, 1, tzinfo=timezone.utc) <= lm <= \
            datetime(2022, 6, 1, tzinfo=timezone.utc)
    ev = sensor.wait_event("request", url__path="/iisstart.htm")
    assert get(ev, "http.response.status_code") == 200


def test_iis_head_and_http10(sensor):
    port = sensor.port(80)
    r = http(port, b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    status, names, h, body = head(r)
    assert status == "HTTP/1.1 200 OK" and body == b""
    assert names[0] == "Content-Length" and h["Content-Length"] == "703"
    assert names[1:] == ["Content-Type", "Last-Modified", "Accept-Ranges",
                         "ETag", "Server", "X-Powered-By", "Date"]
    # HTTP.sys answers 1.0 with a 1.1 status line, and closes
    r = http(port, b"GET / HTTP/1.0\r\n\r\n")
    assert r.startswith(b"HTTP/1.1 200 OK\r\n") and r.endswith(b"</html>")
    # conditional GET: 304 with the validators
    etag = head(r)[2]["ETag"]
    r = http(port, b"GET / HTTP/1.1\r\nHost: x\r\nIf-None-Match: " +
             etag.encode() + b"\r\nConnection: close\r\n\r\n")
    status, names, h, body = head(r)
    assert status == "HTTP/1.1 304 Not Modified" and body == b""
    assert h["ETag"] == etag and "Content-Length" not in h


def test_iis_errors(sensor):
    port = sensor.port(80)
    # 404: IIS's custom error page, 1245 bytes
    r = http(port, b"GET /nope.aspx HTTP/1.1\r\nHost: x\r\n"
             b"Connection: close\r\n\r\n")
    status, names, h, body = head(r)
    assert status == "HTTP/1.1 404 Not Found"
    assert names == ["Content-Type", "Server", "X-Powered-By", "Date",
                     "Content-Length"]
    assert len(body) == 1245 == int(h["Content-Length"])
    assert b"<title>404 - File or directory not found.</title>" in body
    # 405: a verb the static file handler does not take
    r = http(port, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
             b"Connection: close\r\n\r\na=b")
    status, names, h, body = head(r)
    assert status == "HTTP/1.1 405 Method Not Allowed"
    assert h["Allow"] == "GET, HEAD, OPTIONS, TRACE" and names[0] == "Allow"
    assert len(body) == 1293
    # OPTIONS: the OPTIONSVerbHandler's 200
    r = http(port, b"OPTIONS / HTTP/1.1\r\nHost: x\r\n"
             b"Connection: close\r\n\r\n")
    status, names, h, body = head(r)
    assert status == "HTTP/1.1 200 OK" and body == b""
    assert names == ["Allow", "Server", "Public", "X-Powered-By", "Date",
                     "Content-Length"]
    assert h["Allow"] == h["Public"] == "OPTIONS, TRACE, GET, HEAD, POST"
    # HTTP.sys's own 400 (a bad request line, no Host on 1.1): its server
    # name, Connection: close, the 311-byte page (334: Invalid Hostname),
    # the close
    for req, size, text in (
            (b"GET /a b c HTTP/1.1\r\n\r\n", 311, b"badly formed."),
            (b"\x16\x03\x01\x00\x05hello\r\n\r\n", 311, b"badly formed."),
            (b"GET / HTTP/1.1\r\n\r\n", 334, b"hostname is invalid.")):
        r = http(port, req)
        status, names, h, body = head(r)
        assert status == "HTTP/1.1 400 Bad Request", req
        assert names == ["Content-Type", "Server", "Date", "Connection",
                         "Content-Length"]
        assert h["Server"] == "Microsoft-HTTPAPI/2.0"
        assert h["Content-Type"] == "text/html; charset=us-ascii"
        assert len(body) == size and text in body, req
    sensor.wait_event("request", http__response__status_code=405)


# --- MSRPC ------------------------------------------------------------------

def uuid_le(u):
    return uuid.UUID(u).bytes_le


def ctx_elem(cid, iface, ver, syntaxes):
    b = struct.pack("<HBB", cid, len(syntaxes), 0) + uuid_le(iface) + \
        struct.pack("<HH", *ver)
    for s, v in syntaxes:
        b += uuid_le(s) + struct.pack("<I", v)
    return b


def pdu(ptype, body, call_id=1, flags=3):
    return struct.pack("<BBBB4sHHI", 5, 0, ptype, flags, b"\x10\0\0\0",
                       16 + len(body), 0, call_id) + body


def bind(contexts, ptype=11, call_id=1):
    body = struct.pack("<HHI", 4280, 4280, 0) + \
        struct.pack("<BBH", len(contexts), 0, 0) + b"".join(contexts)
    return pdu(ptype, body, call_id)


def recv_pdu(s):
    h = b""
    while len(h) < 16:
        d = s.recv(16 - len(h))
        if not d:
            return h
        h += d
    n = struct.unpack_from("<H", h, 8)[0]
    b = h
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            break
        b += d
    return b


def results(ack):
    """A BIND_ACK's secondary address and (result, reason, syntax) list."""
    sl = struct.unpack_from("<H", ack, 24)[0]
    sec = ack[26:26 + sl]
    k = 26 + sl
    k += -k % 4
    n = ack[k]
    out = []
    for i in range(n):
        r, why = struct.unpack_from("<HH", ack, k + 4 + 24 * i)
        syn = str(uuid.UUID(bytes_le=ack[k + 8 + 24 * i:k + 24 + 24 * i]))
        out.append((r, why, syn))
    return sec, out


def test_msrpc_bind_results(sensor):
    """The provider's answer per context: NDR accepted, NDR64 preferred
    when offered (as an x64 Windows), an unknown interface or transfer
    syntax rejected with its reason, bind time feature negotiation acked."""
    port = sensor.port(135)
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(bind([ctx_elem(0, EPM, (3, 0), [(NDR, 2)]),
                    ctx_elem(1, EPM, (3, 0), [(NDR64, 1)]),
                    ctx_elem(2, EPM, (3, 0),
                             [("6cb71c2c-9812-4540-0300-000000000000", 1)]),
                    ctx_elem(3, "12345678-1234-abcd-ef00-0123456789ab",
                             (1, 0), [(NDR, 2)]),
                    ctx_elem(4, EPM, (3, 0),
                             [("11111111-2222-3333-4444-555555555555", 1)])]))
    ack = recv_pdu(s)
    assert ack[2] == 12 and ack[3] == 3  # BIND_ACK, first|last
    assert struct.unpack_from("<HH", ack, 16) == (4280, 4280)
    sec, res = results(ack)
    z = "00000000-0000-0000-0000-000000000000"
    assert sec == b"135\0"
    assert res == [(2, 2, z), (0, 0, NDR64), (3, 3, z), (2, 1, z), (2, 2, z)]
    # a request on the endpoint mapper: ept_lookup_handle_free (opnum 4)
    s.sendall(pdu(0, struct.pack("<IHH", 20, 1, 4) + b"\0" * 20, 2))
    r = recv_pdu(s)
    assert r[2] == 2 and struct.unpack_from("<I", r, 12)[0] == 2
    assert r[24:] == b"\0" * 24
    # an opnum the endpoint mapper has not: a fault, not executed
    s.sendall(pdu(0, struct.pack("<IHH", 0, 1, 9), 3))
    r = recv_pdu(s)
    assert r[2] == 3 and r[3] & 0x20
    assert struct.unpack_from("<I", r, 24)[0] == 0x1c010002
    s.close()
    ev = sensor.wait_event("request", lure__msrpc__ptype="bind")
    assert get(ev, "lure.msrpc.interface") == EPM
    assert get(ev, "lure.msrpc.transfer_syntax") == NDR64
    assert get(ev, "lure.msrpc.contexts") == 5
    ev = sensor.wait_event("request", lure__msrpc__opnum=4)
    assert get(ev, "lure.msrpc.operation") == "ept_lookup_handle_free"


def test_msrpc_garbage(sensor):
    """nmap's SMBProgNeg on 135: the 24-byte BIND_NAK its match line
    names, then the close; a REQUEST before any BIND: the close."""
    port = sensor.port(135)
    probe = (b"\0\0\0\xa4\xff\x53\x4d\x42\x72\0\0\0\0\x08\x01\x40" +
             b"\0" * 16 + b"\x40\x06\0\0\x01\0\0\x81\0\x02PC NETWORK "
             b"PROGRAM 1.0\0\x02NT LM 0.12\0")
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(probe)
    r = s.recv(100)
    assert re.fullmatch(rb"\x05\0\r\x03\x10\0\0\0\x18\0\0\0....\x04\0\x01"
                        rb"\x05\0...", r, re.S), r
    assert s.recv(100) == b""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(pdu(0, struct.pack("<IHH", 0, 0, 2)))
    assert s.recv(100) == b""
    ev = sensor.wait_event("request", event__reason="version")
    assert get(ev, "lure.payload").startswith("\0\0\0")
    sensor.wait_event("request", event__reason="not bound")


def test_msrpc_impacket_lookup(sensor):
    """impacket's hept_lookup (what rpcdump.py runs): the persona's
    endpoints, towers that impacket decodes into string bindings."""
    try:
        from impacket.dcerpc.v5 import epm, transport
    except ImportError:
        pytest.fail("impacket is needed (sh tools/deps.sh persona)",
                    pytrace=False)
    t = transport.DCERPCTransportFactory(
        f"ncacn_ip_tcp:127.0.0.1[{sensor.port(135)}]")
    dce = t.get_dce_rpc()
    dce.connect()
    ents = epm.hept_lookup(None, dce=dce)
    dce.disconnect()
    binds = [epm.PrintStringBinding(e["tower"]["Floors"]) for e in ents]
    assert len(binds) == 15
    assert "ncacn_ip_tcp:127.0.0.1[49665]" in binds
    assert re.search(r"ncacn_np:\\\\WIN-[A-Z0-9]{11}\[\\pipe\\lsass\]",
                     "\n".join(binds))
    assert "ncalrpc:[WindowsShutdown]" in binds
    assert b"Event log TCPIP\0" in [e["annotation"] for e in ents]
    ev = sensor.wait_event("request", lure__msrpc__operation="ept_lookup")
    assert get(ev, "lure.msrpc.entries") == 15
    assert get(ev, "lure.msrpc.interface_version") == "3.0"


def test_msrpc_oxid_resolver(sensor):
    """The anonymous OXID resolver call scanners use to learn a host's
    names (NetExec's ioxidresolver module): impacket's ServerAlive2."""
    from impacket.dcerpc.v5 import transport
    from impacket.dcerpc.v5.dcomrt import IObjectExporter
    t = transport.DCERPCTransportFactory(
        f"ncacn_ip_tcp:127.0.0.1[{sensor.port(135)}]")
    names = [b["aNetworkAddr"].rstrip("\0") for b in
             IObjectExporter(t.get_dce_rpc()).ServerAlive2()]
    assert len(names) == 2 and names[1] == "127.0.0.1", names
    assert re.fullmatch(r"WIN-[A-Z0-9]{11}", names[0]), names
    ev = sensor.wait_event("request", lure__msrpc__operation="ServerAlive2")
    assert get(ev, "lure.msrpc.interface") == \
        "99fcfec4-5260-101b-bbcb-00aa0021347a"


# --- nmap and rpcdump.py on the real ports ------------------------------------

# host: conftest's (the persona on its real ports in netns)


def nmap(netns, datadir, out):
    cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "80,135",
                      "--script", "http-title,http-server-header,"
                      "http-methods", "-oX", "-"]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=300)
    out[datadir] = r


def test_nmap_and_rpcdump(host, netns):
    """nmap -sV with both service databases at once (Debian 12's, and 13's
    when LURE_NMAP_DB holds it), and rpcdump.py on 135."""
    if not shutil.which("nmap"):
        pytest.fail("nmap is needed", pytrace=False)
    out = {}
    th = [threading.Thread(target=nmap, args=(netns, d, out))
          for d in nmap_dbs()]
    for t in th:
        t.start()
    rpcdump = shutil.which("rpcdump.py")
    r = subprocess.run(list(NS) + [netns, sys.executable, rpcdump,
                                   "127.0.0.1"] if rpcdump else ["true"],
                       capture_output=True, timeout=60)
    for t in th:
        t.join()
    if rpcdump:
        text = r.stdout.decode()
        assert "Traceback" not in text + r.stderr.decode(), r.stderr
        assert "Received 15 endpoints." in text, text
        assert "Protocol: [MS-TSCH]: Task Scheduler Service Remoting" \
            in text or "ncacn_ip_tcp:127.0.0.1[49666]" in text
    for d, r in out.items():
        assert r.returncode == 0, r.stderr.decode()
        x = ET.fromstring(r.stdout)
        ports = {int(p.get("portid")): p for p in x.iter("port")}
        svc = ports[80].find("service")
        assert (svc.get("name"), svc.get("product"), svc.get("version")) \
            == ("http", "Microsoft IIS httpd", "10.0"), d
        svc = ports[135].find("service")
        assert (svc.get("name"), svc.get("product")) == \
            ("msrpc", "Microsoft Windows RPC"), d
        scripts = {s.get("id"): s.get("output")
                   for s in ports[80].iter("script")}
        assert scripts["http-title"] == "IIS Windows Server"
        assert scripts["http-server-header"] == "Microsoft-IIS/10.0"
        m = scripts["http-methods"]
        assert "Supported Methods: OPTIONS TRACE GET HEAD POST" in m, m
        assert "Potentially risky methods: TRACE" in m, m
    host.wait_event("request", lure__msrpc__operation="ept_lookup")
