"""The core on loopback: listeners, connection events and their fields,
close reasons, IPv6, UDP, port overrides, exclusions, event ids, per-IP cap,
privilege drop, signals."""
import os
import pwd
import re
import signal
import socket
import time

import pytest

from conftest import (ADDRS, free_port, get, gid_of, info, match, recv_to_eof,
                      recv_until, refused, tcp, udp_bound, udp_send, uid_of)

BANNER = 21  # persona port served by the banner emulator in every build


@pytest.fixture(autouse=True, scope="module")
def _need_banner():
    if info().emu_of(BANNER) != "banner" or info().emu_of(161, "udp") != "banner":
        pytest.skip("needs a persona with 21/tcp and 161/udp on the banner emulator")


def banner_bytes(s):
    """The banner lure sends on 21 (the persona's; empty is allowed)."""
    return recv_until(s, b"\n", timeout=2)


def test_start_event_lists_every_listener(lure):
    s = lure()
    st = s.start_event
    assert get(st, "event.action") == "status"
    assert get(st, "event.reason") == "start"
    assert get(st, "event.dataset") == "lure.status"
    assert get(st, "lure.connections.open") == 0
    want = sorted((a, p + s.offset, p, t, e) for p, t, e in info().ports for a in ADDRS)
    got = sorted((l["address"], l["port"], l["persona_port"], l["transport"], l["emulator"])
                 for l in s.listeners())
    assert got == want
    # and each of them is really there
    for a, port, pp, t, e in got:
        if t == "tcp":
            c = tcp(port, a)
            c.close()
        else:
            assert udp_bound(port, a), f"{a} {port}/udp not bound"
    tcp_listeners = [g for g in got if g[3] == "tcp"]
    opens = s.wait_count(len(tcp_listeners), "connection.open")
    assert sorted((get(e, "destination.ip"), get(e, "destination.port")) for e in opens) == \
        sorted((a, port) for a, port, _, _, _ in tcp_listeners)
    for e in opens:
        pp = next(g[2] for g in got if g[1] == get(e, "destination.port"))
        assert get(e, "lure.persona_port") == pp
        assert get(e, "event.dataset") == "lure." + info().emu_of(pp)


def check_common(e, s):
    """Fields every event carries (DESIGN.md, event schema)."""
    for k in ("@timestamp", "event.kind", "event.category", "event.type", "event.action",
              "event.sequence", "event.id", "observer.hostname", "observer.name",
              "observer.type", "observer.product", "observer.version", "lure.persona"):
        assert get(e, k) is not None, f"{k} missing in {e}"
    assert get(e, "observer.name") == s.config["sensor_id"]
    assert get(e, "observer.type") == "honeypot"
    assert get(e, "observer.product") == "lure"
    assert get(e, "observer.version") == info().version
    assert get(e, "lure.persona") == info().persona
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", e["@timestamp"])


@pytest.mark.parametrize("addr", ADDRS)
def test_connection_open_request_close(lure, addr):
    s = lure()
    port = s.port(BANNER, addr=addr)
    c = tcp(port, addr)
    cport = c.getsockname()[1]
    banner = banner_bytes(c)
    payload = b"HELLO lure\r\n"
    c.sendall(payload)
    s.wait_event("request", source__port=cport)
    c.shutdown(socket.SHUT_WR)
    rest, closed = recv_to_eof(c, 3)
    assert closed and rest == b""
    c.close()
    close = s.wait_event("connection.close", source__port=cport)
    evs = [e for e in s.events() if get(e, "source.port") == cport]
    assert [get(e, "event.action") for e in evs] == ["connection.open", "request", "connection.close"]
    for e in evs:
        check_common(e, s)
        assert get(e, "source.ip") == addr
        assert get(e, "destination.ip") == addr
        assert get(e, "destination.port") == port
        assert get(e, "lure.persona_port") == BANNER
        assert get(e, "network.transport") == "tcp"
        assert get(e, "network.protocol") == "banner"
        assert get(e, "event.dataset") == "lure.banner"
        assert get(e, "lure.session") == get(evs[0], "lure.session")
    assert get(evs[0], "event.type") == ["connection", "start"]
    assert get(evs[1], "lure.payload") == payload.decode()
    assert get(close, "event.type") == ["connection", "end"]
    assert get(close, "event.reason") == "peer"
    assert get(close, "source.bytes") == len(payload)
    assert get(close, "destination.bytes") == len(banner)
    d = get(close, "event.duration")
    assert isinstance(d, int) and 0 <= d < 10 * 10**9  # nanoseconds


def test_close_reasons(lure):
    """idle_timeout, session_timeout and input_cap, with durations."""
    s = lure({"limits": {"idle_timeout": 1, "session_timeout": 2, "max_input": 1000}})
    port = s.port(BANNER)
    idle = tcp(port)
    busy = tcp(port)
    big = tcp(port)
    t0 = time.monotonic()
    for c in (idle, busy, big):
        banner_bytes(c)
    big.sendall(b"A" * 600)
    time.sleep(0.1)
    try:
        big.sendall(b"B" * 600)  # 1,200 bytes > max_input
    except OSError:
        pass
    _, closed = recv_to_eof(big, 2)
    assert closed, "over max_input: not closed"
    # busy: never idle for 1 s, but the session ends at 2 s
    idle_closed_at = None
    while time.monotonic() - t0 < 4:
        try:
            busy.sendall(b"x")
        except OSError:
            break
        busy.settimeout(0.25)
        try:
            if busy.recv(100) == b"":
                break
        except socket.timeout:
            pass
        except OSError:
            break
        if idle_closed_at is None:
            idle.settimeout(0.001)
            try:
                if idle.recv(100) == b"":
                    idle_closed_at = time.monotonic() - t0
            except socket.timeout:
                pass
    busy_closed_at = time.monotonic() - t0
    assert 1.5 < busy_closed_at < 3.5, busy_closed_at
    if idle_closed_at is None:
        assert recv_to_eof(idle, 1)[1]
        idle_closed_at = time.monotonic() - t0
    assert 0.8 < idle_closed_at < 2.2, idle_closed_at
    ports = {c.getsockname()[1]: name for c, name in ((idle, "idle"), (busy, "busy"), (big, "big"))}
    closes = s.wait_count(3, "connection.close")
    by = {ports[get(e, "source.port")]: e for e in closes}
    assert get(by["idle"], "event.reason") == "idle_timeout"
    assert 0.9e9 <= get(by["idle"], "event.duration") < 2.5e9
    assert get(by["busy"], "event.reason") == "session_timeout"
    assert 1.9e9 <= get(by["busy"], "event.duration") < 3.5e9
    assert get(by["big"], "event.reason") == "input_cap"
    assert 1000 < get(by["big"], "source.bytes") <= 1200
    for c in (idle, busy, big):
        c.close()


def test_idle_timeout_is_reset_by_input(lure):
    s = lure({"limits": {"idle_timeout": 1}})
    c = tcp(s.port(BANNER))
    banner_bytes(c)
    for _ in range(6):  # 1.5 s of activity
        c.sendall(b"k")
        time.sleep(0.25)
    c.settimeout(0.1)
    try:
        assert c.recv(10) != b"", "closed while active"
    except socket.timeout:
        pass
    _, closed = recv_to_eof(c, 2)
    assert closed
    e = s.wait_event("connection.close", source__port=c.getsockname()[1])
    assert get(e, "event.reason") == "idle_timeout"
    assert get(e, "event.duration") >= 2.0e9
    c.close()


@pytest.mark.parametrize("addr", ADDRS)
def test_udp_request(lure, addr):
    s = lure()
    port = s.port(161, "udp", addr)
    u = udp_send(port, b"\x30\x26\x02\x01\x01public\xff\xfe", addr)
    src = u.getsockname()[1]
    e = s.wait_event("request", source__port=src)
    check_common(e, s)
    assert get(e, "network.transport") == "udp"
    assert get(e, "source.ip") == addr
    assert get(e, "destination.port") == port
    assert get(e, "lure.persona_port") == 161
    # invalid UTF-8 is escaped byte by byte as \xNN text, control bytes as \u00NN
    assert get(e, "lure.payload") == "0&\x02\x01\x01public\\xff\\xfe"
    assert get(e, "source.bytes") == 13
    u.close()
    st = s.status()
    assert get(st, "lure.datagrams") == 1


def test_ports_override_moves_and_disables(lure):
    moved = free_port(("tcp",))
    s = lure({"ports": {"21": moved, "23": 0}})
    got = {(l["persona_port"], l["transport"], l["address"]): l["port"] for l in s.listeners()}
    for a in ADDRS:
        assert got[(21, "tcp", a)] == moved
        assert (23, "tcp", a) not in got
        # the rest keep the offset
        for p, t, _ in info().ports:
            if p not in (21, 23):
                assert got[(p, t, a)] == p + s.offset
        assert refused(s.offset + 23, a), "disabled port 23 is listening"
        assert refused(s.offset + 21, a), "moved port 21 still listens at its offset"
    c = tcp(moved, "::1")
    banner_bytes(c)
    c.sendall(b"moved\n")
    e = s.wait_event("request", destination__port=moved)
    assert get(e, "lure.persona_port") == 21
    assert get(e, "lure.payload") == "moved\n"
    c.close()
    assert not s.find(destination__port=s.offset + 23)


def test_exclude_serves_but_does_not_log(lure):
    s = lure({"exclude": ["127.0.0.2/32", "10.0.0.0/8"]})
    port = s.port(BANNER)
    # excluded source: served (same banner), nothing logged
    x = tcp(port, src="127.0.0.2")
    xb = banner_bytes(x)
    x.sendall(b"SECRET-EXCLUDED\n")
    udp_send(s.port(161, "udp"), b"SECRET-UDP-EXCLUDED", src="127.0.0.2").close()
    x.shutdown(socket.SHUT_WR)
    assert recv_to_eof(x, 3)[1]
    x.close()
    # then a logged source; everything before it has been handled by then
    c = tcp(port, src="127.0.0.3")
    cb = banner_bytes(c)
    assert xb == cb
    c.sendall(b"LOGGED\n")
    c.shutdown(socket.SHUT_WR)
    assert recv_to_eof(c, 3)[1]
    c.close()
    udp_send(s.port(161, "udp"), b"LOGGED-UDP", src="127.0.0.3").close()
    s.wait_event("request", lure__payload="LOGGED-UDP")
    s.wait_event("connection.close", source__ip="127.0.0.3")
    st = s.status()
    evs = s.events()
    assert not [e for e in evs if get(e, "source.ip") == "127.0.0.2"]
    assert b"EXCLUDED" not in s.raw()
    assert len([e for e in evs if get(e, "source.ip") == "127.0.0.3"]) == 4
    # ...but counted: both connections were accepted, both datagrams seen
    assert get(st, "lure.connections.accepted") == 2
    assert get(st, "lure.datagrams") == 2


def test_sequence_and_ids(lure, tmp_path):
    sensor = 'it"s\\é-1'
    s1 = lure({"sensor_id": sensor, "observer_hostname": "obs.example"})
    for i in range(5):
        c = tcp(s1.port(BANNER))
        banner_bytes(c)
        c.sendall(b"%d\n" % i)
        c.close()
    udp_send(s1.port(161, "udp"), b"u").close()
    s1.wait_count(5, "connection.close")
    s1.wait_count(6, "request")
    s1.status()
    assert s1.stop() == 0
    evs = s1.events()
    seqs = [get(e, "event.sequence") for e in evs]
    assert seqs == list(range(1, len(evs) + 1))
    boot = None
    for e in evs:
        m = re.fullmatch(re.escape(sensor) + r"-([0-9a-f]{16})-(\d+)", get(e, "event.id"))
        assert m, get(e, "event.id")
        boot = boot or m.group(1)
        assert m.group(1) == boot, "two boot ids in one run"
        assert int(m.group(2)) == get(e, "event.sequence")
        assert get(e, "observer.name") == sensor
        assert get(e, "observer.hostname") == "obs.example"
    assert get(evs[-1], "event.reason") == "stop"
    # session ids are unique per connection and carry the boot id
    sessions = {get(e, "lure.session") for e in evs if get(e, "event.action") == "connection.open"}
    assert len(sessions) == 5 and all(x.startswith(boot + "-") for x in sessions)
    s2 = lure({"sensor_id": sensor})
    boot2 = get(s2.start_event, "event.id").split("-")[-2]
    assert re.fullmatch(r"[0-9a-f]{16}", boot2)
    assert boot2 != boot


def test_per_ip_cap(lure):
    """A source at limits.per_ip that opens one more is served: its least
    recently active connection makes room (closed, reason "evicted"), as
    nginx closes its idle kept-alive connections when short of them; a
    refusal would be the honeypot's tell (no daemon it claims refuses)."""
    s = lure({"limits": {"per_ip": 3}})
    port = s.port(BANNER)
    held = []
    for _ in range(3):
        held.append(tcp(port, src="127.0.0.5"))
        ob = banner_bytes(held[-1])
        time.sleep(0.05)
    s.wait_count(3, "connection.open", source__ip="127.0.0.5")
    fourth = tcp(port, src="127.0.0.5")
    assert banner_bytes(fourth) == ob
    data, closed = recv_to_eof(held[0], 2)
    assert closed and data == b"", "the oldest was not closed to make room"
    close = s.wait_event("connection.close", source__ip="127.0.0.5")
    assert get(close, "event.reason") == "evicted"
    for c in held[1:]:
        data, closed = recv_to_eof(c, 0.2)
        assert not closed and data == b""
    # the cap is per source address (and per family)
    other = tcp(port, src="127.0.0.6")
    assert banner_bytes(other) == ob
    v6 = tcp(s.port(BANNER, addr="::1"), "::1")
    assert banner_bytes(v6) == ob
    st = s.status()
    assert get(st, "lure.connections.rejected_per_ip") == 1
    assert get(st, "lure.connections.accepted") == 6
    assert get(st, "lure.connections.open") == 5
    assert not s.find("connection.refused")
    for c in held + [fourth, other, v6]:
        c.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_drops_privileges_to_nobody(lure):
    nobody = pwd.getpwnam("nobody")
    # stdout: an output file needs a directory nobody can write (lure
    # checks it at start for log rotation: test_check.py)
    s = lure({"run_as_root": None, "user": "nobody"}, stdout=True)
    assert uid_of(s.pid) == [nobody.pw_uid] * 4
    assert gid_of(s.pid) == [nobody.pw_gid] * 4
    groups = [l for l in open(f"/proc/{s.pid}/status") if l.startswith("Groups:")][0].split()[1:]
    assert groups in ([], [str(nobody.pw_gid)])
    # still serving, still writing its output
    c = tcp(s.port(BANNER))
    banner_bytes(c)
    c.sendall(b"as nobody\n")
    s.wait_event("request", lure__payload="as nobody\n")
    c.close()
    assert s.stop() == 0


def test_heartbeat(lure):
    s = lure({"heartbeat": 1})
    t0 = time.monotonic()
    hb = s.wait_count(2, "status", timeout=4, event__reason="heartbeat")
    assert 1.5 < time.monotonic() - t0 < 3.5
    assert get(hb[0], "lure.listeners") is None  # only the start event lists them
    assert get(hb[1], "lure.uptime") >= 1


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_stop_signals(lure, sig):
    s = lure()
    c = tcp(s.port(BANNER))
    banner_bytes(c)
    s.wait_count(1, "connection.open")
    assert s.stop(sig) == 0
    evs = s.events()
    close = [e for e in evs if match(e, "connection.close")]
    assert len(close) == 1 and get(close[0], "event.reason") == "shutdown"
    last = evs[-1]
    assert match(last, "status", event__reason="stop")
    assert get(last, "lure.connections.open") == 0
    assert get(last, "lure.connections.accepted") == 1
    assert get(last, "lure.events.accepted") == len(evs) - 1
    # the connection was closed, listeners are gone
    assert recv_to_eof(c, 2)[1]
    c.close()
    for a in ADDRS:
        assert refused(s.port(BANNER, addr=a), a)
