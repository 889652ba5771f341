"""TLS server sessions under pressure (issue 12, item 1), on a persona with a
tls port: stalled handshakes (a ClientHello, then a byte now and then) must
not shut HTTPS off. The handshake has a deadline from accept that trickling
does not extend (closed with event.reason handshake_timeout); a newcomer
that finds every session busy reclaims the slowest one (the holder is
closed with event.reason evicted), never from a source holding two while
it has none; a client that gets no session waits unanswered, as on a
loaded server, instead of being dropped right after its ClientHello.

Clients bind their own 127.0.0.x source addresses (one "host" each)."""
import socket
import ssl
import threading
import time

import pytest

from conftest import get, info, tcp

if info().persona not in ("hikvision", "openwrt"):
    pytest.skip(f"persona {info().persona} has no tls port", allow_module_level=True)


def ctx():
    c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    c.check_hostname = False
    c.verify_mode = ssl.CERT_NONE
    return c


_hello = None


def hello():
    """A ClientHello from Python's ssl module, captured on a plain socket."""
    global _hello
    if _hello is None:
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]

        def client():
            try:
                ctx().wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                  server_hostname="stall.example")
            except OSError:
                pass
        t = threading.Thread(target=client, daemon=True)
        t.start()
        c, _ = srv.accept()
        c.settimeout(3)
        data = b""
        while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
            data += c.recv(65536)
        c.close()
        srv.close()
        t.join(5)
        _hello = data
    return _hello


class Staller:
    """ClientHello, then a record header promising 16 KB, then one byte
    every `every` seconds: the handshake never ends, the connection is
    never idle."""

    def __init__(self, port, src, partial=False):
        self.s = tcp(port, src=src)
        self.src = src
        self.sport = self.s.getsockname()[1]
        self.s.sendall(hello()[:20] if partial else hello() + b"\x16\x03\x03\x40\x00")

    def trickle(self):
        try:
            self.s.sendall(b"\x00")
            return True
        except OSError:
            return False

    def answered(self, timeout):
        """The first bytes back within timeout (b"" on a close, None if none)."""
        self.s.settimeout(timeout)
        try:
            return self.s.recv(5)
        except socket.timeout:
            return None
        except ConnectionResetError:
            return b""


def trickle_for(stallers, seconds, every=0.25):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for st in stallers:
            st.trickle()
        time.sleep(every)


def fetch(port, src, timeout=3.0):
    """A real client: handshake, GET /; returns (seconds, status line)."""
    t0 = time.monotonic()
    raw = tcp(port, src=src, timeout=timeout)
    s = ctx().wrap_socket(raw, server_hostname="fresh.example")
    s.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
    line = s.recv(100).split(b"\r\n")[0]
    s.close()
    return time.monotonic() - t0, line


@pytest.fixture
def start(lure, state):
    def go(tls):
        s = lure({"state_file": str(state), "tls": tls,
                  "limits": {"idle_timeout": 30}}, wait=False)
        s.start_event = s.wait_event("status", timeout=60, event__reason="start")
        return s, s.port(443)
    return go


def closes(s, port, reason):
    return [e for e in s.find("connection.close", destination__port=port)
            if get(e, "event.reason") == reason]


def test_stalled_handshakes_do_not_shut_https_off(start):
    """server_sessions (4) + 1 stalled handshakes from five hosts, bytes
    trickling: a fresh client still completes a handshake and a request
    within seconds; the slowest holder is the one evicted."""
    s, port = start({"handshake_timeout": 60})
    stall = [Staller(port, f"127.0.0.{2 + i}") for i in range(5)]
    trickle_for(stall, 1.3)  # every holder past the reclaim age
    took, line = fetch(port, "127.0.0.20")
    assert line.startswith(b"HTTP/1.0 200"), line
    assert took < 2.0, took
    ev = s.wait_for(lambda evs: closes(s, port, "evicted"), what="an eviction")
    assert get(ev[0], "source.ip") in {st.src for st in stall}
    assert get(ev[0], "tls.established") is False
    assert s.stop() == 0


def test_one_source_cannot_hold_two_sessions_while_another_waits(start):
    """Host A holds two sessions, host B one (older than A's), every one a
    stalled handshake; a newcomer C takes one of A's, not B's older one;
    A's next connection then waits while A still holds one, and takes
    nothing from B or C."""
    s, port = start({"server_sessions": 3, "handshake_timeout": 60})
    b = Staller(port, "127.0.0.3")
    time.sleep(0.2)
    a = [Staller(port, "127.0.0.2") for _ in range(2)]
    for st in [b] + a:
        assert st.answered(3)[:1] == b"\x16"  # each got a session
    trickle_for([b] + a, 1.3)
    c = Staller(port, "127.0.0.4")
    assert c.answered(3)[:1] == b"\x16"
    ev = s.wait_for(lambda evs: closes(s, port, "evicted"), what="an eviction")
    assert [get(e, "source.ip") for e in ev] == ["127.0.0.2"]
    a3 = Staller(port, "127.0.0.2")
    trickle_for([b, c, a3] + a, 1.5)
    assert a3.answered(0.1) is None  # waits: A still holds one
    assert len(closes(s, port, "evicted")) == 1  # B kept its session
    ev = s.wait_event("request", event__dataset="lure.tls",
                      source__port=a3.sport)
    assert get(ev, "lure.tls_hello.busy") is True
    assert s.stop() == 0


def test_stalled_handshake_closed_at_the_deadline(start):
    """tls.handshake_timeout 1: a trickling handshake and a trickled
    ClientHello are both closed ~1 s after accept, event.reason
    handshake_timeout; the partial ClientHello is logged."""
    s, port = start({"handshake_timeout": 1})
    st = [Staller(port, "127.0.0.2"), Staller(port, "127.0.0.3", partial=True)]
    trickle_for(st, 1.8, every=0.2)
    ev = s.wait_for(lambda evs: (lambda c: c if len(c) == 2 else None)(
        closes(s, port, "handshake_timeout")), what="two handshake_timeout closes")
    for e in ev:
        assert get(e, "tls.established") is False
        assert 0.9e9 <= get(e, "event.duration") < 2.5e9
    assert st[0].answered(1) is not None and st[1].answered(1) == b""
    req = s.wait_event("request", event__dataset="lure.tls",
                       source__port=st[1].sport)
    assert "deadline" in get(req, "error.message")
    assert get(req, "lure.payload")
    # a ClientHello in pieces never reaches the web server as plaintext
    assert not s.find("request", event__dataset="lure.http",
                      source__port=st[1].sport)
    assert s.stop() == 0


def test_refused_client_waits_like_a_loaded_server(start):
    """No free session and none to reclaim (the holder is young): the
    newcomer is not dropped after its ClientHello, it waits unanswered;
    it gets its ServerHello once the holder can be reclaimed."""
    s, port = start({"server_sessions": 1, "handshake_timeout": 60})
    held = Staller(port, "127.0.0.2")
    assert held.answered(3)[:1] == b"\x16"
    late = Staller(port, "127.0.0.3")
    assert late.answered(0.5) is None  # not closed, not answered
    assert late.answered(3)[:1] == b"\x16"  # the stalled holder gave way
    ev = s.wait_event("request", event__dataset="lure.tls",
                      source__port=late.sport)
    assert get(ev, "lure.tls_hello.busy") is True
    assert s.stop() == 0
