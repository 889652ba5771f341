"""The catch-all listener (config catch_all.port) and the PROXY protocol.

Catch-all: two network namespaces the suite makes (sensor and scanner, a
veth pair between them), the shipped platform/nftables/lure-catchall.nft
loaded in the sensor's with its two defines filled in, lure in the sensor's
namespace. From the scanner: curl to port 31337 gives an http request event
with destination.port 31337; openssl s_client to another port gives the
ClientHello's JA3/JA4; ssh to a third gives the SSH client version (or its
captured version line when the persona has no SSH); random bytes to a
fourth are captured; a silent client is recorded. Needs root, ip and nft
(tools/deps.sh test); skipped otherwise.

PROXY protocol (proxy_protocol: true) on loopback: v1 and v2 headers as in
haproxy's doc/proxy-protocol.txt make source.ip/port the header's; a bad
header closes that connection only, with an event saying why. ~6 s.
Skipped for a binary built with CATCHALL=0 (the Makefile's default for the
generic persona on release TARGETs).
"""
import json
import os
import shutil
import socket
import struct
import subprocess
import time

import pytest

from conftest import REPO, free_offset, free_port, get, info, tcp

NFT = REPO / "platform" / "nftables" / "lure-catchall.nft"
SENSOR4, SCANNER4 = "10.77.0.1", "10.77.0.2"
SENSOR6, SCANNER6 = "fd77::1", "fd77::2"
CATCH = 9999


@pytest.fixture(scope="module", autouse=True)
def compiled_in(tmp_path_factory):
    """Skip the module when lure was built without the catch-all."""
    cfg = tmp_path_factory.mktemp("catchall") / "c.json"
    cfg.write_text(json.dumps({"listen": ["127.0.0.1"], "port_offset": free_offset(),
                               "catch_all": {"port": free_port()}, "run_as_root": True,
                               "output": {"file": "-"}}))
    p = subprocess.Popen([info().bin, "-c", str(cfg)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        err = p.communicate(timeout=1)[1]
    except subprocess.TimeoutExpired:
        p.kill()
        err = p.communicate()[1]
    if b"not compiled in" in err:
        pytest.skip("built with CATCHALL=0")


def sh(*args, check=True, **kw):
    return subprocess.run(args, check=check, capture_output=True, timeout=20, **kw)


@pytest.fixture
def netns(tmp_path):
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("nft"):
        pytest.skip("needs root, ip and nft (tools/deps.sh test)")
    tag = f"{os.getpid() % 100000}"
    s, c = f"lca-s{tag}", f"lca-c{tag}"
    for n in (s, c):
        sh("ip", "netns", "del", n, check=False)
        sh("ip", "netns", "add", n)
    try:
        sh("ip", "link", "add", f"lcas{tag}", "netns", s, "type", "veth",
           "peer", "name", f"lcac{tag}", "netns", c)
        for n, dev, a, a6 in ((s, f"lcas{tag}", SENSOR4, SENSOR6),
                              (c, f"lcac{tag}", SCANNER4, SCANNER6)):
            sh("ip", "-n", n, "link", "set", "lo", "up")
            sh("ip", "-n", n, "addr", "add", a + "/24", "dev", dev)
            sh("ip", "-n", n, "addr", "add", a6 + "/64", "dev", dev, "nodad")
            sh("ip", "-n", n, "link", "set", dev, "up")
        yield s, c
    finally:
        for n in (s, c):
            sh("ip", "netns", "del", n, check=False)


def load_rules(ns, skip, tmp_path):
    text = NFT.read_text()
    text = text.replace("define lure_catchall = 65000", f"define lure_catchall = {CATCH}")
    text = text.replace("define lure_skip = { 22, $lure_catchall }",
                        "define lure_skip = { %s }" % ", ".join(map(str, sorted(skip))))
    p = tmp_path / "catchall.nft"
    p.write_text(text)
    sh("ip", "netns", "exec", ns, "nft", "-f", str(p))


def by_port(evs, port):
    return [e for e in evs if get(e, "destination.port") == port]


def test_catchall_netns(lure, netns, tmp_path):
    sns, cns = netns
    s = lure({"listen": ["0.0.0.0", "::"], "catch_all": {"port": CATCH}},
             offset=0, wrap=("ip", "netns", "exec", sns))
    ls = s.listeners()
    emus = {l["emulator"] for l in ls}
    assert any(l["port"] == CATCH and l["emulator"] == "catchall" for l in ls)
    load_rules(sns, {l["port"] for l in ls if l["transport"] == "tcp"} | {CATCH}, tmp_path)
    run = ("ip", "netns", "exec", cns)
    # a silent client first: its wait runs while the others speak
    silent = subprocess.Popen(run + ("python3", "-c",
        "import socket,time;s=socket.create_connection(('%s',6666));time.sleep(4.5)" % SENSOR4))
    # and one that stops within a prefix ("GE"): captured once the wait is over
    halting = subprocess.Popen(run + ("python3", "-c",
        "import socket,time;s=socket.create_connection(('%s',7777));s.send(b'GE');time.sleep(4.5)"
        % SENSOR4))
    curl = sh(*run, "curl", "-s", "-m", "5", "-o", "/dev/null", "-w", "%{http_code}",
              f"http://{SENSOR4}:31337/catch", check=False)
    assert curl.stdout.decode() not in ("", "000"), curl
    sh(*run, "curl", "-s", "-m", "5", "-o", "/dev/null", f"http://[{SENSOR6}]:31338/six")
    sh(*run, "sh", "-c", f"openssl s_client -connect {SENSOR4}:4433 -servername x "
       "</dev/null >/dev/null 2>&1", check=False)
    sh(*run, "ssh", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
       "-o", "UserKnownHostsFile=/dev/null", "-o", "ConnectTimeout=5",
       "-p", "2222", f"root@{SENSOR4}", "true", check=False, stdin=subprocess.DEVNULL)
    blob = bytes(range(7, 250)) + os.urandom(64)
    sh(*run, "python3", "-c",
       "import socket,sys,time;s=socket.create_connection(('%s',5555));"
       "s.sendall(sys.stdin.buffer.read());time.sleep(0.3)" % SENSOR4, input=blob)
    silent.wait(timeout=10)
    halting.wait(timeout=10)

    http = s.wait_event("request", event__dataset="lure.http", destination__port=31337)
    assert get(http, "source.ip") == SCANNER4 and get(http, "url.path") == "/catch"
    six = s.wait_event("request", event__dataset="lure.http", url__path="/six")
    assert get(six, "destination.port") == 31338 and get(six, "destination.ip") == SENSOR6
    assert get(six, "source.ip") == SCANNER6
    hello = s.wait_for(lambda evs: [e for e in by_port(evs, 4433)
                                    if get(e, "tls.client.ja4")], what="JA4 on 4433")[0]
    assert get(hello, "lure.tls_hello.ja3_string")  # ja3: "" without MD5 (TLS=none)
    if "ssh" in emus:
        ev = s.wait_event("request", event__dataset="lure.ssh", destination__port=2222)
        assert get(ev, "lure.ssh.client_version").startswith("SSH-2.0-OpenSSH")
    else:
        ev = s.wait_event("request", destination__port=2222)
        assert "SSH-2.0-OpenSSH" in get(ev, "lure.payload")
    cap = s.wait_event("request", event__dataset="lure.banner", destination__port=5555)
    assert get(cap, "source.bytes") > 0 and get(cap, "lure.payload")
    quiet = s.wait_event("request", event__dataset="lure.catchall", destination__port=6666)
    assert 2900 <= get(quiet, "lure.catchall.silent_ms") < 4500
    ge = s.wait_event("request", event__dataset="lure.banner", destination__port=7777)
    assert get(ge, "lure.payload") == "GE"
    assert not s.find("request", event__dataset="lure.catchall", destination__port=7777)
    # every event of a redirected connection names the port aimed at
    for e in s.events():
        if get(e, "lure.session") in {get(http, "lure.session"), get(quiet, "lure.session")}:
            assert get(e, "destination.port") in (31337, 6666)
    # the persona's own ports are not redirected
    port = next(l["port"] for l in ls if l["emulator"] == "http" and not l.get("tls"))
    sh(*run, "curl", "-s", "-m", "5", "-o", "/dev/null", f"http://{SENSOR4}:{port}/own")
    own = s.wait_event("request", event__dataset="lure.http", url__path="/own")
    assert get(own, "destination.port") == port


# --- PROXY protocol --------------------------------------------------------

V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def v2(cmd_fam, body):
    return V2SIG + bytes(cmd_fam) + struct.pack(">H", len(body)) + body


def http_port(s):
    return next(l["port"] for l in s.listeners()
                if l["emulator"] == "http" and not l.get("tls") and l["address"] == "127.0.0.1")


def exchange(port, data):
    c = tcp(port)
    c.sendall(data)
    c.settimeout(3)
    got = b""
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
    except (socket.timeout, ConnectionResetError):
        pass
    c.close()
    return got


def test_proxy_protocol(lure):
    s = lure({"proxy_protocol": True})
    p = http_port(s)
    get_req = b"GET /pp HTTP/1.0\r\n\r\n"
    assert b"HTTP/1." in exchange(p, b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 80\r\n" + get_req)
    e = s.wait_event("request", event__dataset="lure.http", source__ip="192.0.2.1")
    assert get(e, "source.port") == 56324 and get(e, "url.path") == "/pp"
    # connection.open waits for the header: the client's address, the port's emulator
    o = s.wait_event("connection.open", source__ip="192.0.2.1")
    assert get(o, "event.dataset") == "lure.http" and get(o, "lure.session") == get(e, "lure.session")
    body6 = socket.inet_pton(socket.AF_INET6, "2001:db8::7") + bytes(15) + b"\x01" \
        + struct.pack(">HH", 4242, 80)
    assert b"HTTP/1." in exchange(p, v2(b"\x21\x21", body6) + get_req)
    e = s.wait_event("request", event__dataset="lure.http", source__ip="2001:db8::7")
    assert get(e, "source.port") == 4242
    # LOCAL (a health check) keeps the real address
    assert b"HTTP/1." in exchange(p, v2(b"\x20\x00", b"") + get_req)
    s.wait_event("request", event__dataset="lure.http", source__ip="127.0.0.1")
    bad = [b"PROXY TCP4 192.0.2.1 198.51.100.2 056324 80\r\n",
           b"PROXY TCP6 192.0.2.1 198.51.100.2 1 2\r\n",
           get_req,
           v2(b"\x22\x11", bytes(12))]
    for b in bad:
        assert exchange(p, b) == b"", b  # closed, nothing sent
    errs = s.wait_count(len(bad), "request", event__dataset="lure.proxy")
    assert all(get(e, "error.message") for e in errs)
    assert all(get(e, "source.ip") == "127.0.0.1" for e in errs)
    closes = [e for e in s.find("connection.close") if get(e, "event.dataset") == "lure.proxy"]
    assert len(closes) == len(bad)
    # a tls port: the header, then the ClientHello
    tls = [l["port"] for l in s.listeners() if l.get("tls") and l["address"] == "127.0.0.1"]
    if tls:
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        c = tcp(tls[0])
        c.sendall(b"PROXY TCP4 192.0.2.9 198.51.100.2 1234 443\r\n")
        with ctx.wrap_socket(c) as t:
            t.sendall(get_req)
            assert t.recv(100).startswith(b"HTTP/1.")
        e = s.wait_event("request", event__dataset="lure.tls", source__ip="192.0.2.9")
        assert get(e, "tls.client.ja4")
    # the listener still serves after the bad ones
    assert b"HTTP/1." in exchange(p, b"PROXY UNKNOWN\r\n" + get_req)
    assert s.alive()
