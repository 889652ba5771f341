"""VNC on the linux persona (issue 15): lure's port 5900 side by side with
Debian 12's Xvnc (tigervnc-standalone-server 1.12), run here on a loopback
port as `vncserver -localhost no` runs it: -SecurityTypes VncAuth,TLSVnc and
a password file from vncpasswd (the persona's vnc.accept), vncserver's
geometry and depth. The same raw inputs go to both at once, each
probe from its own source address (127.86.x.y: Xvnc blacklists an address
after five connections); the answers must be the same bytes, end the same
way (closed or open) and come as late (the 100 ms failure delay). The one
per-instance value is the 16-byte VNC challenge (random per connection): it
is masked where the probe says it is, and checked to differ. Not compared:
more than 4 KiB sent before a close (Xvnc shuts its side and drains the rest,
a FIN; lure closes with input unread, an RST), and what a TLS ClientHello
gets after VeNCrypt's TLSVnc go-ahead (GnuTLS answers a ServerHello). Then
the blacklist after five connections, vncdotool with a wrong password, nmap
-sV with vnc-info, and the login event's $vnc$ hash checked with DES.
Score: passed / probes."""
import itertools
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import warnings

import pytest

from conftest import persona
import daemons
from ssh_common import nmap_port, talk

persona("linux")

PASSWORD = "password"  # the persona's vnc.accept, given to Xvnc too
_src = itertools.count(1)


def source():
    """A fresh 127.86.x.y source address (one blacklist entry each)."""
    n = next(_src) + (os.getpid() % 50) * 1000
    return "127.86.%d.%d" % (n // 250 % 250, 1 + n % 250)


def connect(port, src=None):
    s = socket.socket()
    s.bind((src or source(), 0))
    s.connect(("127.0.0.1", port))
    return s


@pytest.fixture(scope="module")
def xvnc(tmp_path_factory):
    if daemons.xvnc_missing():
        pytest.skip(daemons.xvnc_missing())
    with daemons.xvnc(tmp_path_factory.mktemp("xvnc"), PASSWORD) as (_, port):
        yield port


V3, V7, V8 = b"RFB 003.003\n", b"RFB 003.007\n", b"RFB 003.008\n"
R = b"\x11" * 16  # a wrong response
VEN = [b"\x13", b"\x00\x02"]  # VeNCrypt, version 0.2

# name: (steps, offset of the challenge in the answer or None)
PROBES = {
    "connect_only": ([], None),
    "v3.3": ([V3], 16),
    "v3.7": ([V7], None),
    "v3.8": ([V8], None),
    "v3.5": ([b"RFB 003.005\n"], 16),
    "v3.6": ([b"RFB 003.006\n"], 16),
    "v3.889_apple": ([b"RFB 003.889\n"], None),
    "v3.9": ([b"RFB 003.009\n"], None),
    "v3.0x": ([b"RFB 003.00x\n"], 16),
    "v4.0": ([b"RFB 004.000\n"], None),
    "v4.1": ([b"RFB 004.001\n"], None),
    "v2.999": ([b"RFB 002.999\n"], None),
    "v0.0": ([b"RFB 000.000\n"], None),
    "v103.8": ([b"RFB 103.008\n"], None),
    "v_negative": ([b"RFB -01.008\n"], None),
    "v_lowercase": ([b"rfb 003.008\n"], None),
    "v_crlf": ([b"RFB 003.008\r\n"], None),
    "v_short": ([b"RFB 003.8\n"], None),
    "v_short_then": ([b"RFB 003.8\n", b"\x02\x00"], None),
    "v_nul": ([b"RFB 003\x00008\n"], None),
    "http_get": ([b"GET / HTTP/1.0\r\n\r\n"], None),
    "garbage": ([bytes(range(256))], None),
    "tls_hello": ([bytes.fromhex("16030100a5010000a10303") + bytes(32)], None),
    "long_4000": ([b"A" * 4000], None),
    "split_version": ([b"RFB 00", b"3.008\n"], None),
    "type2": ([V8, b"\x02"], 15),
    "type2_v7": ([V7, b"\x02"], 15),
    "type0": ([V8, b"\x00"], None),
    "type1_none": ([V8, b"\x01"], None),
    "type5": ([V8, b"\x05"], None),
    "type18_tls": ([V8, b"\x12"], None),
    "type1_v7": ([V7, b"\x01"], None),
    "wrong_3.8": ([V8, b"\x02", R], 15),
    "wrong_3.7": ([V7, b"\x02", R], 15),
    "wrong_3.3": ([V3, R], 16),
    "wrong_3.889": ([b"RFB 003.889\n", b"\x02", R], 15),
    "wrong_then_more": ([V8, b"\x02", R, b"\x01\x02\x03"], 15),
    "response_17": ([V8, b"\x02", R + b"\x00"], 15),
    "response_split": ([V8, b"\x02", R[:8], R[8:]], 15),
    "response_short": ([V8, b"\x02", R[:10]], 15),
    "response_long": ([V8, b"\x02", R + b"B" * 3000], 15),
    # Xvnc reads a response that came with the version or the type only
    # once more input arrives
    "pipelined_version_type": ([V8 + b"\x02"], 15),
    "pipelined_all": ([V8 + b"\x02" + R], 15),
    "pipelined_all_then": ([V8 + b"\x02" + R, b"\x00"], 15),
    "pipelined_type_resp": ([V8, b"\x02" + R], 15),
    "pipelined_type_resp_then": ([V8, b"\x02" + R, b"\x00"], 15),
    "pipelined_3.3": ([V3 + R], 16),
    "pipelined_3.3_then": ([V3 + R, b"\x00"], 16),
    "vencrypt": ([V8, b"\x13"], None),
    "vencrypt_0.2": ([V8] + VEN, None),
    "vencrypt_0.0": ([V8, b"\x13", b"\x00\x00"], None),
    "vencrypt_0.1": ([V8, b"\x13", b"\x00\x01"], None),
    "vencrypt_0.3": ([V8, b"\x13", b"\x00\x03"], None),
    "vencrypt_1.2": ([V8, b"\x13", b"\x01\x02"], None),
    "vencrypt_v7": ([V7] + VEN, None),
    "vencrypt_v7_bad": ([V7, b"\x13", b"\x00\x01"], None),
    "vencrypt_sub2": ([V8] + VEN + [b"\x00\x00\x00\x02"], 27),
    "vencrypt_sub2_wrong": ([V8] + VEN + [b"\x00\x00\x00\x02", R], 27),
    "vencrypt_sub2_wrong_v7": ([V7] + VEN + [b"\x00\x00\x00\x02", R], 27),
    "vencrypt_sub258": ([V8] + VEN + [b"\x00\x00\x01\x02"], None),
    "vencrypt_sub258_garbage": ([V8] + VEN + [b"\x00\x00\x01\x02",
                                              b"GET / HTTP/1.0\r\n\r\n"], None),
    "vencrypt_sub0": ([V8] + VEN + [b"\x00\x00\x00\x00"], None),
    "vencrypt_sub1": ([V8] + VEN + [b"\x00\x00\x00\x01"], None),
    "vencrypt_sub19": ([V8] + VEN + [b"\x00\x00\x00\x13"], None),
    "vencrypt_sub259": ([V8] + VEN + [b"\x00\x00\x01\x03"], None),
    "vencrypt_sub_v7": ([V7] + VEN + [b"\x00\x00\x01\x03"], None),
    "vencrypt_pipelined": ([V8 + b"\x13\x00\x02\x00\x00\x00\x02"], 27),
    "vencrypt_pipelined_resp": ([V8] + VEN + [b"\x00\x00\x00\x02" + R], 27),
    "vencrypt_split_version": ([V8, b"\x13", b"\x00", b"\x02"], None),
}


def mask(out, at):
    if at is None or len(out) < at + 16:
        return out, None
    return out[:at] + b"<challenge>" + out[at + 16:], out[at:at + 16]


@pytest.mark.parametrize("name", sorted(PROBES))
def test_same_answer_as_xvnc(xvnc, sensor, name):
    steps, at = PROBES[name]
    got = {}

    def run(key, port):
        got[key] = talk(port, steps, src=source())

    ts = [threading.Thread(target=run, args=("real", xvnc)),
          threading.Thread(target=run, args=("lure", sensor.port(5900)))]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    (real, rend, rt), (ours, oend, ot) = got["real"], got["lure"]
    real, rch = mask(real, at)
    ours, och = mask(ours, at)
    assert ours == real, f"{name}: lure {ours!r} {oend}, Xvnc {real!r} {rend}"
    assert oend == rend, f"{name}: lure ends {oend}, Xvnc {rend}"
    if at is not None:
        assert rch is not None and och is not None and och != rch
    # the failure delay (100 ms), or an answer at once
    assert (ot > 0.07) == (rt > 0.07), f"{name}: lure after {ot:.3f} s, Xvnc {rt:.3f} s"


def test_challenge_differs_per_connection(sensor):
    seen = {talk(sensor.port(5900), [V3], src=source())[0][16:32] for _ in range(3)}
    assert len(seen) == 3 and all(len(c) == 16 for c in seen)


def test_blacklist_like_xvnc(xvnc, sensor):
    """Every connection from an address counts; the fifth starts a 10 s block
    (a sixth gets version 3.3, type 0 and "Too many security failures"); the
    first after it is let in and starts a block of 20 s."""
    src = source()
    ports = {"real": xvnc, "lure": sensor.port(5900)}

    def both(steps=()):
        got = {}
        ts = [threading.Thread(target=lambda k=k, p=p: got.__setitem__(
            k, talk(p, list(steps), wait=0.2, src=src)[:2])) for k, p in ports.items()]
        at = 15 if len(steps) > 1 else None
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        for k in got:
            got[k] = (mask(got[k][0], at)[0], got[k][1])
        assert got["real"] == got["lure"]
        return got["real"]

    for i in range(5):
        assert both([V8, b"\x02", R])[0].startswith(V8)
    t5 = time.monotonic()
    blocked = (b"RFB 003.003\n\0\0\0\0\0\0\0\x1aToo many security failures", "eof")
    assert both() == blocked
    time.sleep(5)
    assert both([V8]) == blocked
    # Xvnc counts whole seconds: well past the 10 s on both clocks
    time.sleep(max(0.0, t5 + 10.8 - time.monotonic()))
    assert both([V8]) == (V8 + b"\x02\x13\x02", "open")
    assert both() == blocked
    ev = sensor.wait_event("request", event__reason="Too many security failures")
    assert ev["source"]["ip"] == src


def vncdo(port, password, tmp):
    r = subprocess.run(["vncdo", "-s", f"127.0.0.1::{port}", "-p", password,
                        "--timeout", "10", "capture", str(tmp / "screen.png")],
                       capture_output=True, timeout=30)
    err = [l for l in r.stderr.decode().splitlines() if l.startswith("CRITICAL")]
    return r.returncode, err


def test_vncdotool_wrong_password_like_xvnc(xvnc, sensor, tmp_path):
    if not shutil.which("vncdo"):
        pytest.skip("needs vncdotool (pip)")
    real = vncdo(xvnc, "wrongpw", tmp_path)
    ours = vncdo(sensor.port(5900), "wrongpw", tmp_path)
    assert ours == real
    assert real[1] == ["CRITICAL:root:Authentication failure"]
    ev = sensor.wait_event("login", lure__auth__method="vnc")
    assert ev["event"]["outcome"] == "failure"
    assert "password" not in ev["lure"]["auth"]
    assert "user" not in ev
    assert ev["lure"]["vnc"]["client_version"] == "RFB 003.008"
    assert ev["lure"]["vnc"]["security_type"] == 2


def des_response(password, challenge):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
        except ImportError:
            from cryptography.hazmat.primitives.ciphers.algorithms import TripleDES
        from cryptography.hazmat.primitives.ciphers import Cipher, modes
        key = bytes(int(f"{b:08b}"[::-1], 2) for b in (password.encode() + bytes(8))[:8])
        e = Cipher(TripleDES(key * 3), modes.ECB()).encryptor()
        return e.update(challenge) + e.finalize()


def test_guessed_password_and_crackable_hash(sensor):
    """A client that typed 123456 (in vnc.guess): the login event names it,
    and its $vnc$ hash verifies with DES under that password and no other."""
    pytest.importorskip("cryptography")
    s = connect(sensor.port(5900))
    s.settimeout(3)
    assert s.recv(12) == V8
    s.sendall(V8)
    assert s.recv(3) == b"\x02\x13\x02"
    s.sendall(b"\x02")
    ch = s.recv(16)
    s.sendall(des_response("123456", ch))
    assert s.recv(64) == b"\0\0\0\1\0\0\0\x16Authentication failure"
    s.close()
    ev = sensor.wait_event("login", lure__auth__password="123456")
    auth = ev["lure"]["auth"]
    assert auth["password_source"] == "challenge-guess"
    tag, chx, rx = auth["hash"].split("*")
    assert tag == "$vnc$" and chx == ch.hex().upper() and len(rx) == 32
    assert des_response("123456", bytes.fromhex(chx)) == bytes.fromhex(rx)
    assert des_response("1234567", bytes.fromhex(chx)) != bytes.fromhex(rx)
    # a password not in the list: the hash, no password
    s = connect(sensor.port(5900))
    s.settimeout(3)
    s.recv(12)
    s.sendall(V3)
    ch = s.recv(20)[4:]
    s.sendall(des_response("not-in-list", ch))
    assert s.recv(64) == b"\0\0\0\1"
    s.close()
    ev = sensor.wait_event("login", lure__vnc__client_version="RFB 003.003")
    assert "password" not in ev["lure"]["auth"]
    chx, rx = ev["lure"]["auth"]["hash"].split("*")[1:]
    assert des_response("not-in-l", bytes.fromhex(chx)) == bytes.fromhex(rx)


def recv_exact(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            break
        b += d
    return b


def session(port, steps):
    """Log in with the password (RFB 3.8, VNC authentication), ClientInit,
    then the steps: everything the server sent after the challenge, and
    how the connection ended."""
    s = connect(port)
    s.settimeout(3)
    assert recv_exact(s, 12) == V8
    s.sendall(V8)
    assert recv_exact(s, 3) == b"\x02\x13\x02"
    s.sendall(b"\x02")
    s.sendall(des_response(PASSWORD, recv_exact(s, 16)))
    out = recv_exact(s, 4)
    s.sendall(b"\x01")
    for st in steps:
        s.sendall(st)
        time.sleep(0.1)
    # until a second without a byte (a 9 MB raw frame takes Xvnc more
    # than a second on a loaded machine)
    rest, end = b"", "open"
    while len(rest) < 64 << 20:
        d, end = drain_some(s, 1.0)
        if not d or end != "open":
            rest += d
            break
        rest += d
    s.close()
    return out + rest, end


def drain_some(s, quiet):
    """What s receives until quiet seconds pass without a byte (or 1 MiB),
    and how it ended: eof, reset or open."""
    out = b""
    s.settimeout(quiet)
    while len(out) < 1 << 20:
        try:
            d = s.recv(65536)
        except socket.timeout:
            return out, "open"
        except ConnectionResetError:
            return out, "reset"
        if not d:
            return out, "eof"
        out += d
    return out, "open"


def encodings(*e):
    return struct.pack(">BBH", 2, 0, len(e)) + b"".join(struct.pack(">i", x) for x in e)


def update(x, y, w, h, incremental=0):
    return struct.pack(">BBHHHH", 3, incremental, x, y, w, h)


FULL = update(0, 0, 1920, 1200)
SESSIONS = {
    "init": [],
    "raw_full": [FULL],
    "rre_full": [encodings(2), FULL],
    "hextile_full": [encodings(5), FULL],
    "zrle_rre": [encodings(16, 2), FULL],
    "raw_part": [update(100, 50, 300, 400)],
    "rre_off_screen": [encodings(2), update(1900, 1190, 100, 100), update(3000, 0, 5, 5)],
    "incremental": [encodings(2), update(0, 0, 1920, 1200, 1)],
    "pixel_format_16": [b"\x00\x00\x00\x00\x10\x10\x00\x01\x00\x1f\x00\x3f\x00\x1f"
                        b"\x0b\x05\x00\x00\x00\x00", update(0, 0, 640, 480)],
    "input": [b"\x04\x01\x00\x00\x00\x00\x00\x61", b"\x05\x01\x00\x10\x00\x20",
              b"\x06\x00\x00\x00\x00\x00\x00\x05hello", encodings(2), FULL],
    "unknown_message": [b"\x09\x00\x00\x00"],
}


@pytest.mark.parametrize("name", sorted(SESSIONS))
def test_session_like_xvnc(xvnc, sensor, name):
    """With the password: SecurityResult 0, ServerInit (1920x1200, depth 24,
    "debian:0 (root)") and the black screen's updates, byte for byte."""
    pytest.importorskip("cryptography")
    real = session(xvnc, SESSIONS[name])
    ours = session(sensor.port(5900), SESSIONS[name])
    assert ours[1] == real[1]
    assert len(ours[0]) == len(real[0]) and ours[0] == real[0], \
        f"{name}: lure {ours[0][:200]!r}, Xvnc {real[0][:200]!r}"


def test_session_events(sensor):
    pytest.importorskip("cryptography")
    session(sensor.port(5900), SESSIONS["input"])
    ok = sensor.wait_event("login", event__outcome="success")
    assert ok["lure"]["auth"]["password"] == PASSWORD
    key = sensor.wait_event("command", lure__vnc__message="key")
    assert key["lure"]["vnc"]["key"] == 0x61 and key["lure"]["command"] == "a"
    ptr = sensor.wait_event("command", lure__vnc__message="pointer")
    assert (ptr["lure"]["vnc"]["x"], ptr["lure"]["vnc"]["y"]) == (16, 32)
    cut = sensor.wait_event("command", lure__vnc__message="cut_text")
    assert cut["lure"]["command"] == "hello"


def test_vncdotool_session(xvnc, sensor, tmp_path):
    """vncdotool logs in with the password, types and clicks on both."""
    if not shutil.which("vncdo"):
        pytest.skip("needs vncdotool (pip)")
    res = {}
    for key, port in (("real", xvnc), ("lure", sensor.port(5900))):
        r = subprocess.run(["vncdo", "-s", f"127.0.0.1::{port}", "-p", PASSWORD,
                            "--timeout", "20", "type", "id", "move", "10", "20",
                            "click", "1"], capture_output=True, timeout=60)
        res[key] = r.returncode
    assert res["lure"] == res["real"] == 0
    ev = sensor.wait_event("command", lure__vnc__message="key", lure__command="d")
    assert ev["lure"]["vnc"]["down"] in (True, False)
    sensor.wait_event("command", lure__vnc__message="pointer", lure__vnc__x=10)


def nmap(port, src, datadir):
    p = nmap_port(port, datadir, "-S", src, "-e", "lo", "--script", "vnc-info")
    svc = p.find("service")
    return ((svc.get("name"), svc.get("product"), svc.get("version")),
            sorted((s.get("id"), s.get("output")) for s in p.findall("script")))


def test_nmap_vnc_info_like_xvnc(xvnc, sensor):
    """nmap -sV and vnc-info (each from an address of its own: they connect
    several times) report the same for both: VNC protocol 3.8, VeNCrypt and
    VNC authentication, sub-types 2 and 258; with Debian 12's service
    database and, when LURE_NMAP_DB holds it (tools/nmapdb.sh), Debian 13's."""
    if not shutil.which("nmap"):
        pytest.skip("nmap not installed")
    dbs = [None]
    db = os.environ.get("LURE_NMAP_DB")
    if db and os.path.isfile(os.path.join(db, "nmap-service-probes")):
        dbs.append(os.path.abspath(db))
    for d in dbs:
        real = nmap(xvnc, source(), d)
        ours = nmap(sensor.port(5900), source(), d)
        assert real[0][:2] == ("vnc", "VNC"), real
        assert any("Protocol version: 3.8" in (o or "") and "VeNCrypt (19)" in o
                   for _, o in real[1]), real
        assert ours == real, d
