"""The camera's RTSP port (554) and SDK port (8000) against real clients:
ffprobe and curl from Debian, nmap -sV, and raw sockets for what the device
does with odd input. Credentials the clients send must be in events."""
import hashlib
import re
import socket
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import get, persona, recv_until, tcp

persona("hikvision")

NONCE = re.compile(r'nonce="([0-9a-f]{32})"')
REALM = re.compile(r'Digest realm="(IP Camera\([0-9A-F]\d{4}\))"')


def md5(s):
    return hashlib.md5(s.encode()).hexdigest()


def identity(path):
    return {w[1]: w[2] for w in (l.split(" ", 2) for l in path.read_text().splitlines())
            if w[0] == "value"}


def heads(s, n, timeout=5.0):
    """The next n RTSP answer heads (bodyless answers) as text."""
    buf = b""
    end = time.monotonic() + timeout
    while buf.count(b"\r\n\r\n") < n and time.monotonic() < end:
        d = recv_until(s, b"\r\n\r\n", end - time.monotonic())
        if not d:
            break
        buf += d
    parts = buf.decode().split("\r\n\r\n")
    assert len(parts) > n, f"wanted {n} answers, got {buf!r}"
    return [p + "\r\n\r\n" for p in parts[:n]]


def head(s, timeout=3.0):
    return heads(s, 1, timeout)[0]


def ffprobe(url, user, password):
    r = subprocess.run(["ffprobe", "-v", "debug", "-rtsp_transport", "tcp",
                        url.replace("rtsp://", f"rtsp://{user}:{password}@")],
                       capture_output=True, timeout=30)
    assert r.returncode != 0
    return r.stderr.decode(errors="replace")


def test_ffprobe_gets_401_and_its_digest_is_logged(lure, tmp_path):
    state = tmp_path / "state"
    s = lure({"state_file": str(state)})
    url = f"rtsp://127.0.0.1:{s.port(554)}/Streaming/Channels/101"
    err = ffprobe(url, "admin", "Not-a-Guess.42")
    assert "401 Unauthorized" in err, err[-2000:]
    realm = "IP Camera(%s)" % identity(state)["realm_id"]
    assert f'WWW-Authenticate: Digest realm="{realm}"' in err
    assert f'WWW-Authenticate: Basic realm="{realm}"' in err
    assert re.search(r"Date:  \w{3}, \w{3} \d\d \d{4} \d\d:\d\d:\d\d GMT", err)

    login = s.wait_event("login", user__name="admin")
    a = login["lure"]["auth"]
    assert a["scheme"] == "digest" and a["realm"] == realm and a["uri"] == url
    assert get(login, "lure.rtsp.method") == "DESCRIBE"
    assert get(login, "event.outcome") == "failure"
    assert "password" not in a, "not a common password: only its digest"
    # the logged response is what ffprobe computed from the password it was
    # given, over the nonce of the first challenge; the final challenge (the
    # one ffprobe prints) brought a fresh nonce
    assert re.fullmatch(r"[0-9a-f]{32}", a["nonce"])
    assert a["nonce"] not in NONCE.findall(err)
    ha1 = md5(f"admin:{realm}:Not-a-Guess.42")
    assert a["response"] == md5(f"{ha1}:{a['nonce']}:{md5('DESCRIBE:' + url)}")
    reqs = s.find("request", network__protocol="rtsp")
    methods = [(get(e, "lure.rtsp.method"), get(e, "lure.rtsp.status_code")) for e in reqs]
    assert ("OPTIONS", 200) in methods and ("DESCRIBE", 401) in methods
    assert all(get(e, "user_agent.original", "").startswith("Lavf") for e in reqs)


def test_ffprobe_common_password_is_recovered_from_its_digest(lure):
    s = lure()
    url = f"rtsp://127.0.0.1:{s.port(554)}/Streaming/Channels/102"
    assert "401 Unauthorized" in ffprobe(url, "admin", "12345")
    login = s.wait_event("login", user__name="admin")
    assert get(login, "lure.auth.password") == "12345"
    assert get(login, "lure.auth.password_source") == "digest-guess"
    assert get(login, "lure.auth.scheme") == "digest"


def test_curl_basic_credentials_are_logged_in_clear(lure):
    s = lure()
    port = s.port(554)
    r = subprocess.run(["curl", "-sS", "-u", "root:hik12345", "--basic",
                        f"rtsp://127.0.0.1:{port}/Streaming/Channels/101"],
                       capture_output=True, timeout=15)
    assert r.returncode == 0, r.stderr
    login = s.wait_event("login", user__name="root")
    assert get(login, "lure.auth.password") == "hik12345"
    assert get(login, "lure.auth.scheme") == "basic"


def test_challenges_nonces_cseq_and_pipelining(lure):
    s = lure()
    c = tcp(s.port(554))
    c.sendall(b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 7\r\n\r\n"
              b"DESCRIBE rtsp://x/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 8\r\n\r\n"
              b"SETUP rtsp://x/Streaming/Channels/101/trackID=1 RTSP/1.0\r\nCSeq: 9\r\n"
              b"Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n"
              b"PLAY rtsp://x/Streaming/Channels/101 RTSP/1.0\r\nCSeq: 10\r\n\r\n")
    got = heads(c, 4)
    assert got[0].startswith("RTSP/1.0 200 OK\r\nCSeq: 7\r\nPublic: OPTIONS, DESCRIBE, PLAY, "
                             "PAUSE, SETUP, TEARDOWN, SET_PARAMETER, GET_PARAMETER\r\nDate:  ")
    nonces = []
    for h, cseq in zip(got[1:], (8, 9, 10)):
        assert h.startswith(f"RTSP/1.0 401 Unauthorized\r\nCSeq: {cseq}\r\n"), h
        assert REALM.search(h) and 'stale="FALSE"' in h
        nonces += NONCE.findall(h)
    assert len(nonces) == 3 and len(set(nonces)) == 3, "a fresh nonce per challenge"
    c.close()


def test_bad_request_closes_that_connection_only(lure):
    s = lure()
    port = s.port(554)
    ok = tcp(port)
    bad = tcp(port)
    bad.sendall(b"\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03 junk\r\n\r\n")
    bad.settimeout(3)
    assert bad.recv(100) == b"", "no answer, the connection is closed"
    ok.sendall(b"OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    assert head(ok).startswith("RTSP/1.0 200 OK\r\nCSeq: 1\r\n")
    ev = s.wait_event("request", lure__rtsp__error="bad request")
    assert get(ev, "lure.payload").startswith("\u0016\u0003\u0001")


def test_sdk_port_silent_then_answers_and_captures(lure):
    s = lure()
    c = tcp(s.port(8000))
    c.settimeout(0.5)
    with pytest.raises(socket.timeout):
        c.recv(16)  # nothing on connect
    c.settimeout(3)
    c.sendall(b"\x00\x00\x00\x20\x63\x00\x00\x00admin\x00\x00\x00")
    data = b""
    while len(data) < 16:
        chunk = c.recv(64)
        assert chunk
        data += chunk
    assert data == bytes.fromhex("00000010 0000001e 0000001e 00000000")
    ev = s.wait_event("request", destination__port=s.port(8000))
    assert get(ev, "lure.payload") == "\u0000\u0000\u0000 c\u0000\u0000\u0000admin\u0000\u0000\u0000"
    c.close()


def test_nmap_names_554_and_8000_hikvision(lure, netns, tmp_path):
    NS = ("ip", "netns", "exec", netns)
    s = lure({"listen": ["127.0.0.1"], "port_offset": 0}, offset=0, wrap=NS)
    xml = tmp_path / "nmap.xml"
    t0 = time.monotonic()
    r = subprocess.run(NS + ("nmap", "-n", "-Pn", "-sV", "-p", "554,8000", "-oX", str(xml),
                             "127.0.0.1"), capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    found = {int(p.get("portid")): p.find("service") for p in ET.parse(xml).getroot().iter("port")}
    assert found[554].get("product") == "Hikvision 7513 POE IP camera rtspd", \
        (found[554].attrib, time.monotonic() - t0)
    assert found[8000].get("product") == "Hikvision IPCam control port", found[8000].attrib
    assert s.find("request", network__protocol="rtsp", lure__rtsp__cseq="42 OPTIONS")
