"""Who gets a slot (src/admit.c, issue 12 items 2, 4, 5, 6): descriptors
sized from the limit obtained and no busy loop on EMFILE; IPv6 sources
counted per /64 (in a network namespace the test makes) and a pool share
no source can pass; refused connections logged, aggregated per source and
window; a full pool of trickling connections still serves a newcomer, and
the first request has a deadline trickling cannot move."""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import get, info, recv_to_eof, recv_until, tcp

BANNER = 21
HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True, scope="module")
def _need_banner():
    if info().emu_of(BANNER) != "banner":
        pytest.skip("needs a persona with 21/tcp on the banner emulator")


def cpu_seconds(pid):
    w = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(w[11]) + int(w[12])) / os.sysconf("SC_CLK_TCK")


def cpu_over(pid, secs):
    c0 = cpu_seconds(pid)
    time.sleep(secs)
    return cpu_seconds(pid) - c0


def banner(c, timeout=2.0):
    return recv_until(c, b"\n", timeout)


def refused_events(s, **fields):
    return s.find("connection.refused", **fields)


# --- item 2: descriptors ------------------------------------------------------

@pytest.mark.skipif(not shutil.which("prlimit"), reason="needs prlimit (util-linux)")
def test_pool_sized_from_the_descriptor_limit(lure):
    # soft 64, hard 64: the pool shrinks to what 64 descriptors can serve
    s = lure(wrap=("prlimit", "--nofile=64:64", "--"))
    st = s.start_event
    nl = len(s.listeners())
    assert get(st, "lure.nofile") == 64
    assert get(st, "lure.connections.max") == 64 - 32 - nl
    assert f"NOFILE limit=64 max_conns={64 - 32 - nl} configured=1024" in s.stderr()
    # more clients than descriptors: served or evicted, never EMFILE
    port = s.port(BANNER)
    cs = [tcp(port, src=f"127.0.7.{i + 1}") for i in range(60)]
    for c in cs[-5:]:
        assert banner(c).endswith(b"\n")
    assert cpu_over(s.pid, 1.0) < 0.3
    assert "ACCEPT" not in s.stderr()
    for c in cs:
        c.close()
    # soft 64, hard above: the soft limit is raised to the hard one
    hard = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 4096)
    s2 = lure(wrap=("prlimit", f"--nofile=64:{hard}", "--"))
    assert get(s2.start_event, "lure.nofile") == hard
    assert get(s2.start_event, "lure.connections.max") == min(1024, hard - 32 - nl)


def test_emfile_rests_the_listeners(lure):
    s = lure()
    port = s.port(BANNER)
    # the limit is cut under the running sensor: 3 descriptors to spare
    nfd = len(os.listdir(f"/proc/{s.pid}/fd"))
    soft, hard = resource.prlimit(s.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(s.pid, resource.RLIMIT_NOFILE, (nfd + 3, hard))
    cs = [tcp(port, src=f"127.0.8.{i + 1}") for i in range(40)]
    time.sleep(0.3)
    used = cpu_over(s.pid, 1.5)
    assert used < 0.3, f"lure used {used:.2f}s of CPU in 1.5s out of descriptors"
    lines = [l for l in s.stderr().splitlines() if "ACCEPT" in l]
    assert 1 <= len(lines) <= 2, lines[:5]
    assert "error=Too many open files" in lines[0]
    # descriptors back: the waiting clients are served
    resource.prlimit(s.pid, resource.RLIMIT_NOFILE, (soft, hard))
    served = sum(1 for c in cs[-10:] if banner(c, 3).endswith(b"\n"))
    assert served == 10
    for c in cs:
        c.close()
    assert s.stop() == 0
    ev = refused_events(s, event__reason="nofile")
    assert ev and sum(get(e, "lure.refused.count") for e in ev) >= 1
    st = s.events()[-1]
    assert get(st, "lure.connections.refused") >= 1


# --- item 5: refused connections ----------------------------------------------

def test_per_ip_makes_room_instead_of_refusing(lure):
    """A source at per_ip is never refused (a daemon the persona claims
    would serve it): its least recently active connection is closed for
    the newcomer, and nothing is logged as refused."""
    s = lure({"limits": {"per_ip": 2}})
    port = s.port(BANNER)
    held = [tcp(port, src="127.0.9.8") for _ in range(2)]
    for c in held:
        banner(c)
        time.sleep(0.05)
    for i in range(5):
        c = tcp(port, src="127.0.9.8")
        assert banner(c).endswith(b"\n")
        assert recv_to_eof(held[0], 2) == (b"", True)
        held = held[1:] + [c]
    st = s.status()
    assert get(st, "lure.connections.refused") == 0
    assert get(st, "lure.connections.rejected_per_ip") == 5
    assert get(st, "lure.connections.open") == 2
    for c in held:
        c.close()
    assert s.stop() == 0
    assert not refused_events(s)
    assert len(s.find("connection.close", event__reason="evicted")) == 5


def test_refusals_aggregated_per_source(lure):
    # per_ip past half the pool (8): the source's share refuses the rest
    s = lure({"limits": {"per_ip": 100, "max_conns": 4}})
    port = s.port(BANNER)
    held = [tcp(port, src="127.0.9.9") for _ in range(2)]
    for c in held:
        banner(c)
    for _ in range(10):
        c = tcp(port, src="127.0.9.9")
        assert recv_to_eof(c, 2) == (b"", True)
        c.close()
    other = tcp(port, src="127.0.9.10")
    banner(other)
    st = s.status()
    assert get(st, "lure.connections.refused") == 10
    assert get(st, "lure.connections.rejected_per_ip") == 0
    assert not refused_events(s), "one event per window, not one per refusal"
    for c in held + [other]:
        c.close()
    assert s.stop() == 0
    ev = refused_events(s)
    assert len(ev) == 1, ev
    e = ev[0]
    assert get(e, "event.dataset") == "lure.refused"
    assert get(e, "event.reason") == "pool_share"
    assert get(e, "event.kind") == "event"
    assert get(e, "event.category") == ["network"]
    assert get(e, "event.type") == ["connection", "denied"]
    assert get(e, "source.ip") == "127.0.9.9"
    assert get(e, "destination.port") == port
    assert get(e, "lure.refused.count") == 10
    assert get(e, "event.start") <= get(e, "@timestamp")


def test_refusal_window(lure):
    s = lure({"limits": {"per_ip": 100, "max_conns": 2, "refused_window": 1}})
    port = s.port(BANNER)
    held = tcp(port, src="127.0.9.20")
    banner(held)

    def refuse(n):
        for _ in range(n):
            c = tcp(port, src="127.0.9.20")
            recv_to_eof(c, 2)
            c.close()

    refuse(5)
    e1 = s.wait_count(1, "connection.refused", timeout=3)
    assert get(e1[0], "lure.refused.count") == 5
    refuse(3)
    e2 = s.wait_count(2, "connection.refused", timeout=3)
    assert get(e2[1], "lure.refused.count") == 3
    held.close()


def test_no_source_takes_more_than_half_the_pool(lure):
    s = lure({"limits": {"max_conns": 8, "per_ip": 100}})
    port = s.port(BANNER)
    cs = [tcp(port, src="127.0.9.30") for _ in range(6)]
    got = [banner(c, 1) for c in cs]
    assert sum(1 for b in got if b.endswith(b"\n")) == 4
    other = tcp(port, src="127.0.9.31")
    assert banner(other).endswith(b"\n")
    for c in cs + [other]:
        c.close()
    assert s.stop() == 0
    ev = refused_events(s, event__reason="pool_share")
    assert len(ev) == 1 and get(ev[0], "lure.refused.count") == 2


# --- item 4: IPv6 prefixes, in a network namespace ------------------------------

def _ns_ok():
    try:
        return subprocess.run(["unshare", "-rn", "true"], capture_output=True,
                              timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def ns_scenario(tmp):
    """Runs inside `unshare -rn`: lo up with 40 addresses of one /64 and one
    of another; lure on ::1; asserts, prints a JSON summary."""
    sys.path[:0] = [str(HERE), str(HERE.parent)]
    from conftest import Sensor
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    batch = "".join(f"addr add 2001:db8:1:2::{i:x}/64 dev lo nodad\n" for i in range(1, 41))
    batch += "addr add 2001:db8:9:9::1/64 dev lo nodad\n"
    subprocess.run(["ip", "-6", "-batch", "-"], input=batch.encode(), check=True)
    s = Sensor(Path(tmp), "ns")
    try:
        s.start({"limits": {"max_conns": 8, "per_ip": 100}})
        port = s.port(BANNER, addr="::1")
        cs = [tcp(port, "::1", src=f"2001:db8:1:2::{i:x}", timeout=1) for i in range(1, 41)]
        got = [banner(c, 0.5).endswith(b"\n") for c in cs]
        v4 = tcp(s.port(BANNER), src="127.0.0.1")
        v6 = tcp(port, "::1", src="2001:db8:9:9::1")
        out = {"served_64": sum(got), "v4": banner(v4).endswith(b"\n"),
               "other_64": banner(v6).endswith(b"\n")}
        for c in cs + [v4, v6]:
            c.close()
        s.stop()
        ev = [e for e in s.events() if get(e, "event.action") == "connection.refused"]
        out["refused"] = [(get(e, "event.reason"), get(e, "lure.refused.count"),
                           get(e, "source.ip")) for e in ev]
        print(json.dumps(out))
    finally:
        s.close()


@pytest.mark.skipif(not _ns_ok(), reason="unshare -rn (a user and network namespace) is not permitted here")
def test_ipv6_counted_per_64(tmp_path):
    r = subprocess.run(
        ["unshare", "-rn", sys.executable, "-c",
         f"import sys; sys.path.insert(0, {str(HERE)!r}); import test_admit; "
         f"test_admit.ns_scenario({str(tmp_path)!r})"],
        capture_output=True, timeout=60, env=dict(os.environ, PYTEST_XDIST_WORKER=""))
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    out = json.loads(r.stdout.decode().strip().splitlines()[-1])
    assert out["served_64"] == 4, out  # half the pool for the whole /64
    assert out["v4"] and out["other_64"], out
    assert out["refused"] == [["pool_share", 36, "2001:db8:1:2::"]], out


# --- item 6: a full pool, trickling clients -------------------------------------

def http_port(s):
    pp = info().first("http")
    return s.port(pp) if pp else None


def trickle(port, src):
    c = tcp(port, src=src)
    c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    return c


def test_full_pool_of_tricklers_still_serves(lure):
    s = lure({"limits": {"max_conns": 8}})
    port = http_port(s)
    if not port:
        pytest.skip("needs an http port")
    slow = []
    for i in range(8):
        slow.append(trickle(port, f"127.0.10.{i + 1}"))
        time.sleep(0.02)
    s.wait_count(8, "connection.open")
    for c in slow:
        c.sendall(b"X")
    t0 = time.monotonic()
    new = tcp(port, src="127.0.10.100")
    new.sendall(b"GET / HTTP/1.0\r\n\r\n")
    r = recv_until(new, b"\r\n", 2)
    assert r.startswith(b"HTTP/1."), f"newcomer not served with the pool full: {r!r}"
    assert time.monotonic() - t0 < 1
    # the oldest trickler lost its slot, closed as a plain close
    assert recv_to_eof(slow[0], 2) == (b"", True)
    ev = s.wait_event("connection.close", event__reason="evicted")
    assert get(ev, "source.ip") == "127.0.10.1"
    for c in slow + [new]:
        c.close()


def test_request_deadline_is_not_moved_by_trickling(lure):
    s = lure({"limits": {"request_timeout": 2, "idle_timeout": 10}})
    port = http_port(s)
    if not port:
        pytest.skip("needs an http port")
    c = trickle(port, "127.0.10.200")
    t0 = time.monotonic()
    closed = False
    while time.monotonic() - t0 < 4:
        try:
            c.sendall(b"X")
        except OSError:
            closed = True
            break
        d, closed = recv_to_eof(c, 0.3)
        if closed:
            break
    dt = time.monotonic() - t0
    assert closed and 1.7 < dt < 3.5, f"closed={closed} after {dt:.1f}s"
    ev = s.wait_event("connection.close", source__ip="127.0.10.200")
    assert get(ev, "event.reason") == "request_timeout"
    c.close()
    # a connection that made its request is not held to it
    k = tcp(port, src="127.0.10.201")
    k.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert recv_until(k, b"\r\n\r\n", 2).startswith(b"HTTP/1.")
    time.sleep(2.5)
    assert not s.find("connection.close", source__ip="127.0.10.201", event__reason="request_timeout")
    k.close()
