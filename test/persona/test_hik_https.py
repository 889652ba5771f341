"""HTTPS on the Hikvision persona's port 443: TLS in front of the same http
emulator as port 80, a per-instance self-signed certificate kept in the
state file, and the client's ClientHello fingerprinted (JA3, JA4, SNI) on
every TLS connection.

Clients: curl, `openssl s_client`, `openssl verify`/`x509` (Debian's
OpenSSL) and Python's ssl module. The JA3/JA4 expected for a client are
computed here, by an independent Python implementation of both published
definitions, on the exact bytes that client sends (captured by a plain
socket on loopback first); the sensor must log the same."""
import datetime
import hashlib
import re
import socket
import ssl
import subprocess
import threading
import time

import pytest

from conftest import get, persona, tcp

persona("hikvision")


# --- reference fingerprints (salesforce/ja3, FoxIO JA4 technical details) --

def grease(v):
    return (v & 0x0F0F) == 0x0A0A and (v >> 8) == (v & 0xFF)


def parse_hello(data):
    """ClientHello fields from raw records (the hello may span records)."""
    msg = b""
    off = 0
    while off + 5 <= len(data):
        assert data[off] == 0x16, "not a handshake record"
        ln = int.from_bytes(data[off + 3:off + 5], "big")
        msg += data[off + 5:off + 5 + ln]
        off += 5 + ln
        if len(msg) >= 4 and len(msg) >= 4 + int.from_bytes(msg[1:4], "big"):
            break
    assert msg[0] == 1
    body = msg[4:4 + int.from_bytes(msg[1:4], "big")]
    h = {"exts": [], "groups": [], "formats": [], "sigalgs": [], "versions": [],
         "alpn": [], "sni": None}
    h["version"] = int.from_bytes(body[0:2], "big")
    p = 34
    p += 1 + body[p]
    n = int.from_bytes(body[p:p + 2], "big")
    h["ciphers"] = [int.from_bytes(body[p + 2 + i:p + 4 + i], "big") for i in range(0, n, 2)]
    p += 2 + n
    p += 1 + body[p]
    if p < len(body):
        end = p + 2 + int.from_bytes(body[p:p + 2], "big")
        p += 2
        while p < end:
            t = int.from_bytes(body[p:p + 2], "big")
            ln = int.from_bytes(body[p + 2:p + 4], "big")
            d = body[p + 4:p + 4 + ln]
            p += 4 + ln
            h["exts"].append(t)
            u16 = lambda b: [int.from_bytes(b[i:i + 2], "big") for i in range(0, len(b), 2)]
            if t == 0:
                h["sni"] = d[5:5 + int.from_bytes(d[3:5], "big")].decode()
            elif t == 10:
                h["groups"] = u16(d[2:])
            elif t == 11:
                h["formats"] = list(d[1:1 + d[0]])
            elif t == 13:
                h["sigalgs"] = u16(d[2:])
            elif t == 16:
                q = 2
                while q < len(d):
                    h["alpn"].append(d[q + 1:q + 1 + d[q]])
                    q += 1 + d[q]
            elif t == 43:
                h["versions"] = u16(d[1:1 + d[0]])
    return h


def ja3(h):
    j = lambda l: "-".join(str(v) for v in l if not grease(v))
    s = ",".join([str(h["version"]), j(h["ciphers"]), j(h["exts"]), j(h["groups"]),
                  "-".join(str(v) for v in h["formats"])])
    return s, hashlib.md5(s.encode()).hexdigest()


def ja4(h):
    vers = [v for v in h["versions"] if not grease(v)]
    v = max(vers) if vers else h["version"]
    vname = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10",
             0x0300: "s3"}.get(v, "00")
    ciphers = [c for c in h["ciphers"] if not grease(c)]
    exts = [e for e in h["exts"] if not grease(e)]
    if h["alpn"] and h["alpn"][0]:
        a = h["alpn"][0]
        ok = lambda c: chr(c).isascii() and chr(c).isalnum()
        alpn = chr(a[0]) + chr(a[-1]) if ok(a[0]) and ok(a[-1]) else \
            "%x" % (a[0] >> 4) + "%x" % (a[-1] & 15)
    else:
        alpn = "00"
    part_a = "t%s%s%02d%02d%s" % (vname, "d" if 0 in h["exts"] else "i",
                                  min(len(ciphers), 99), min(len(exts), 99), alpn)
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()[:12]
    cs = ",".join("%04x" % c for c in sorted(ciphers))
    es = ",".join("%04x" % e for e in sorted(exts) if e not in (0, 0x10))
    sig = ",".join("%04x" % s for s in h["sigalgs"] if not grease(s))
    part_b = sha(cs) if ciphers else "0" * 12
    part_c = (sha(es + ("_" + sig if sig else "")) if es else "0" * 12)
    return f"{part_a}_{part_b}_{part_c}"


def capture_hello(client):
    """The first bytes client(port) sends to a plain listener."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    t = threading.Thread(target=client, args=(port,), daemon=True)
    t.start()
    c, _ = srv.accept()
    c.settimeout(3)
    data = b""
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        d = c.recv(65536)
        if not d:
            break
        data += d
    c.close()
    srv.close()
    t.join(5)
    return data


def s_client(port, *args):
    return subprocess.run(
        ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *args],
        input=b"Q\n", capture_output=True, timeout=10)


def curl(port, *args, path="/"):
    return subprocess.run(["curl", "-sk", "--max-time", "5", *args,
                           f"https://127.0.0.1:{port}{path}"],
                          capture_output=True, timeout=10)


def start(lure, config):
    """A sensor; the start may include generating its RSA key (seconds)."""
    s = lure(config, wait=False)
    s.start_event = s.wait_event("status", timeout=60, event__reason="start")
    return s


def wire_cert(port, tmp_path, name):
    """The PEM certificate the sensor presents, and `openssl x509 -text`."""
    r = s_client(port, "-showcerts")
    pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n",
                    r.stdout, re.S)
    assert pem, r.stdout + r.stderr
    path = tmp_path / f"{name}.pem"
    path.write_bytes(pem.group(0))
    text = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-text"],
                          capture_output=True, check=True).stdout.decode()
    return path, text


def der_of(path):
    return subprocess.run(["openssl", "x509", "-in", str(path), "-outform", "DER"],
                          capture_output=True, check=True).stdout


# --- tests -------------------------------------------------------------------

def test_https_is_the_web_server_with_the_device_certificate(lure, tmp_path):
    s = start(lure, {"state_file": str(tmp_path / "a.state")})
    https, http = s.port(443), s.port(80)
    r = curl(https, "-i")
    assert r.returncode == 0, r.stderr
    plain = subprocess.run(["curl", "-s", "-i", f"http://127.0.0.1:{http}/"],
                           capture_output=True, timeout=10).stdout
    strip = lambda b: re.sub(rb"Date: [^\r]*", b"", b)
    assert strip(r.stdout) == strip(plain)  # the same server behind TLS
    assert b"Server: webserver\r\n" in r.stdout

    path, text = wire_cert(https, tmp_path, "a")
    assert re.search(r"Subject: C ?= ?CN, CN ?= ?192\.168\.1\.64\n", text), text
    assert re.search(r"Issuer: C ?= ?CN, CN ?= ?192\.168\.1\.64\n", text), text
    assert "Public-Key: (2048 bit)" in text and "rsaEncryption" in text
    assert "Signature Algorithm: sha256WithRSAEncryption" in text
    assert "CA:TRUE" in text and "Subject Key Identifier" in text
    # self-signed and well-formed: OpenSSL verifies it against itself
    v = subprocess.run(["openssl", "verify", "-CAfile", str(path), str(path)],
                       capture_output=True)
    assert v.returncode == 0, v.stdout + v.stderr
    dates = subprocess.run(["openssl", "x509", "-in", str(path), "-noout", "-startdate",
                            "-enddate", "-serial"], capture_output=True).stdout.decode()
    fmt = "%b %d %H:%M:%S %Y GMT"
    nb = datetime.datetime.strptime(re.search(r"notBefore=(.*)", dates).group(1).replace("  ", " "), fmt)
    na = datetime.datetime.strptime(re.search(r"notAfter=(.*)", dates).group(1).replace("  ", " "), fmt)
    assert datetime.datetime(2020, 7, 1) <= nb < datetime.datetime(2021, 7, 1)
    assert na - nb == datetime.timedelta(days=3650)
    assert len(re.search(r"serial=(\w+)", dates).group(1)) == 16  # 8 bytes
    s.stop()
    closes = s.find("connection.close", destination__port=https)
    assert closes and all(get(e, "tls.established") is True for e in closes)
    assert get(closes[0], "tls.version") == "1.2"
    assert get(closes[0], "tls.version_protocol") == "tls"


def test_certificate_per_instance_and_kept_across_restarts(lure, tmp_path):
    certs = {}
    for name in ("a", "b", "a"):
        s = start(lure, {"state_file": str(tmp_path / f"{name}.state")})
        path, _ = wire_cert(s.port(443), tmp_path, f"{name}{len(certs)}")
        certs.setdefault(name, []).append(der_of(path))
        assert s.stop() == 0
        # generated once: the key and certificate are in the state file
        assert (tmp_path / f"{name}.state").read_text().count("tls.") >= 2
    assert certs["a"][0] == certs["a"][1]  # restart: the same device
    assert certs["a"][0] != certs["b"][0]  # another sensor: another one
    pub = lambda der: subprocess.run(["openssl", "x509", "-inform", "DER", "-noout",
                                      "-pubkey"], input=der, capture_output=True).stdout
    assert pub(certs["a"][0]) != pub(certs["b"][0])


CLIENTS = {
    # name: (client for capture_hello and for the sensor, SNI sent or None)
    "openssl-sni": (lambda port: s_client(port, "-servername", "cam.example"),
                    "cam.example"),
    "openssl-tls12": (lambda port: s_client(port, "-tls1_2", "-noservername"), None),
    "curl": (lambda port: curl(port), None),
    "python-ssl": (None, "py.example"),
}


def python_client(port):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["http/1.1"])
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
            with ctx.wrap_socket(raw, server_hostname="py.example") as t:
                t.sendall(b"GET /ISAPI/System/deviceInfo HTTP/1.1\r\nHost: x\r\n"
                          b"Connection: close\r\n\r\n")
                while t.recv(4096):
                    pass
    except (OSError, ssl.SSLError):
        pass


@pytest.mark.parametrize("name", list(CLIENTS))
def test_client_fingerprints_match_the_reference(lure, tmp_path, name):
    client, sni = CLIENTS[name]
    client = client or python_client
    hello = capture_hello(client)
    h = parse_hello(hello)
    ja3_str, ja3_md5 = ja3(h)
    want_ja4 = ja4(h)
    assert (want_ja4[3] == "d") == (sni is not None)

    s = start(lure, {"state_file": str(tmp_path / "s.state")})
    port = s.port(443)
    client(port)
    ev = s.wait_event("request", event__dataset="lure.tls", timeout=10)
    assert get(ev, "tls.client.ja3") == ja3_md5
    assert get(ev, "lure.tls_hello.ja3_string") == ja3_str
    assert get(ev, "tls.client.ja4") == want_ja4
    assert get(ev, "tls.client.server_name") == sni
    assert get(ev, "network.protocol") == "tls"
    assert get(ev, "destination.port") == port
    if name == "python-ssl":  # the HTTP request event carries them too
        req = s.wait_event("request", event__dataset="lure.http", timeout=10)
        assert get(req, "url.original") == "/ISAPI/System/deviceInfo"
        assert get(req, "tls.client.ja3") == ja3_md5
        assert get(req, "tls.client.ja4") == want_ja4
        assert get(ev, "lure.tls_hello.alpn") == "http/1.1"
    s.stop()


def test_plain_http_on_the_tls_port_is_logged_and_closed(lure, tmp_path):
    s = start(lure, {"state_file": str(tmp_path / "s.state")})
    c = tcp(s.port(443))
    c.sendall(b"GET / HTTP/1.0\r\n\r\n")
    c.settimeout(5)
    assert c.recv(100) == b""  # closed, nothing said
    ev = s.wait_event("request", event__dataset="lure.tls")
    assert get(ev, "error.message") == "not a TLS handshake record"
    assert get(ev, "lure.payload").startswith("GET / HTTP/1.0")
    assert get(ev, "tls.client.ja3") is None
    # a bare connect (port scan) logs no hello at all
    tcp(s.port(443)).close()
    time.sleep(0.3)
    s.stop()
    assert len(s.find("request", event__dataset="lure.tls")) == 1


def test_refused_handshake_gets_an_alert_and_is_logged(lure, tmp_path):
    """TLS 1.1 only, or no common cipher suite: a fatal alert, as a TLS
    server sends, then the close; the hello is fingerprinted all the same
    and the close event says why."""
    s = start(lure, {"state_file": str(tmp_path / "s.state")})
    port = s.port(443)
    r = s_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
    # an alert, not a bare close (BearSSL's alert record says TLS 1.2,
    # which OpenSSL, speaking 1.1, reports as a wrong version number)
    assert (b"alert protocol version" in r.stderr
            or b"wrong version number" in r.stderr), r.stderr
    r = s_client(port, "-tls1_2", "-cipher", "AES128-SHA")
    assert b"alert handshake failure" in r.stderr, r.stderr
    evs = s.wait_count(2, "request", event__dataset="lure.tls")
    assert evs[0]["tls"]["client"]["ja4"].startswith("t11i")
    assert evs[1]["lure"]["tls_hello"]["ja3_string"].startswith("771,47-255,")
    closes = s.wait_count(2, "connection.close", destination__port=port)
    for c in closes:
        assert get(c, "tls.established") is False
        assert "alert" in get(c, "error.message") or "handshake" in get(c, "error.message")
    s.stop()


def test_sessions_busy_hello_still_logged(lure, tmp_path):
    hello = capture_hello(lambda port: s_client(port, "-servername", "one.example"))
    s = start(lure, {"state_file": str(tmp_path / "s.state"),
                     "tls": {"server_sessions": 1}})
    port = s.port(443)
    held = tcp(port)
    held.sendall(hello)  # takes the only session: ServerHello comes back
    held.settimeout(5)
    assert held.recv(5)[:1] == b"\x16"
    second = tcp(port)
    second.sendall(hello.replace(b"one.example", b"two.example"))
    second.settimeout(1)
    with pytest.raises(socket.timeout):  # a loaded device: no answer yet
        second.recv(100)
    ev = s.wait_event("request", event__dataset="lure.tls",
                      tls__client__server_name="two.example")
    assert get(ev, "lure.tls_hello.busy") is True
    assert get(ev, "tls.client.ja4", "").startswith("t13d")
    held.close()
    second.settimeout(3)  # the session is free: the waiting hello gets it
    assert second.recv(5)[:1] == b"\x16"
    second.close()
    s.wait_count(2, "connection.close", destination__port=port)
    r = curl(port)  # the session is free again
    assert r.returncode == 0 and r.stdout
    s.stop()


def test_heap_per_server_session(lure, tmp_path):
    """Handshakes held open at once; the status event's TLS heap peak
    grows by one session's worth each and stays within the heap."""
    s = start(lure, {"state_file": str(tmp_path / "s.state"),
                     "tls": {"server_sessions": 4}})
    port = s.port(443)
    base = get(s.status(), "lure.tls_heap.peak")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conns, peaks = [], []
    for i in range(4):
        conns.append(ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                     server_hostname="h.example"))
        st = s.status()
        peaks.append(get(st, "lure.tls_heap.peak"))
        assert get(st, "lure.tls_server.busy") == i + 1
    size = get(st, "lure.tls_heap.size")
    per = (peaks[3] - base) / 4
    print(f"TLS heap: base {base}, peaks {peaks}, size {size}, ~{per:.0f} B/session")
    assert peaks[3] <= size
    assert 15000 < per < 45000
    for c in conns:
        c.close()
    s.stop()
