"""Load and failure behaviour: many idle connections, a full pool, oversized
input, signals (TERM flushes, HUP reopens, USR1 counts), a stalled stdout
reader and a failing output."""
import fcntl
import os
import signal
import socket
import struct
import termios
import time

import pytest

from conftest import (get, info, match, parse_ndjson, recv_to_eof, recv_until,
                      rx_queues, server_sockets, tcp, udp_send, wait_until)

BANNER = 21


@pytest.fixture(autouse=True, scope="module")
def _need_banner():
    if info().emu_of(BANNER) != "banner":
        pytest.skip("needs a persona with 21/tcp on the banner emulator")


def served(port, host="127.0.0.1", timeout=1.0):
    """Connect and return the banner; fails unless it arrives in time."""
    t0 = time.monotonic()
    c = tcp(port, host, timeout=timeout)
    b = recv_until(c, b"\n", timeout)
    dt = time.monotonic() - t0
    c.close()
    assert b.endswith(b"\n") and dt < timeout, f"not served within {timeout}s (got {b!r})"
    return b


def cpu_seconds(pid):
    w = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(w[11]) + int(w[12])) / os.sysconf("SC_CLK_TCK")


def assert_not_spinning(pid, secs=1.0):
    c0 = cpu_seconds(pid)
    time.sleep(secs)
    used = cpu_seconds(pid) - c0
    assert used < 0.3 * secs, f"lure used {used:.2f}s of CPU in {secs}s while idle"


def http_port(s):
    pp = info().first("http")
    return s.port(pp) if pp else None


def test_slowloris_1000_idle_connections(lure):
    s = lure({"limits": {"max_conns": 1100, "per_ip": 8, "idle_timeout": 60}})
    port = s.port(BANNER)
    hp = http_port(s)
    targets = [port] + ([hp] if hp else [])
    idle = []
    for i in range(1000):
        k = i % 200  # 200 sources, 5 connections each (per_ip 8)
        idle.append(tcp(targets[i % len(targets)], src=f"127.1.{k // 100}.{k % 100 + 1}"))
    s.wait_count(1000, "connection.open", timeout=20)
    t0 = time.monotonic()
    served(port)
    if hp:
        c = tcp(hp)
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        r = recv_until(c, b"\r\n", 1.0)
        assert r.startswith(b"HTTP/1."), r
        c.close()
    assert time.monotonic() - t0 < 2
    assert_not_spinning(s.pid, 0.5)  # 1,000 idle connections cost no CPU
    st = s.status()
    assert get(st, "lure.connections.open") == 1000
    assert get(st, "lure.connections.rejected_per_ip") == 0
    # the idle ones are still there and were served too
    for c in idle[:100:len(targets)]:  # the banner port's
        c.settimeout(0.5)
        assert c.recv(100) != b""
    for c in idle:
        c.close()
    s.wait_count(1000, "connection.close", timeout=20, event__reason="peer")
    assert s.status()["lure"]["connections"]["open"] == 0


def test_pool_exhaustion_and_recovery(lure):
    # the pool full of sources that are never evicted (exclude): the
    # listeners leave the poll set until a slot frees (a full pool of
    # others evicts: test_admit.py)
    s = lure({"limits": {"max_conns": 8, "idle_timeout": 30},
              "exclude": ["127.0.5.0/24"]})
    port = s.port(BANNER)
    held = []
    for i in range(8):
        c = tcp(port, src=f"127.0.5.{i + 1}")
        assert recv_until(c, b"\n", 2).endswith(b"\n")
        held.append(c)
    # the first newcomer finds no victim and is refused ...
    first = tcp(port)
    assert recv_to_eof(first, 2) == (b"", True)
    first.close()
    ninth = tcp(port)  # ... the next one waits in the kernel's backlog
    t0 = time.monotonic()
    ninth.settimeout(1.0)
    with pytest.raises(socket.timeout):
        d = ninth.recv(100)
        pytest.fail(f"9th connection served while the pool is full: {d!r}")
    assert time.monotonic() - t0 >= 0.9
    # a full pool takes the listeners out of the poll set: no busy loop
    assert_not_spinning(s.pid, 0.5)
    # UDP is not part of the pool: still served
    if info().emu_of(161, "udp"):
        u = udp_send(s.port(161, "udp"), b"during-full-pool")
        s.wait_event("request", lure__payload="during-full-pool")
        u.close()
    assert len(s.find("connection.open", source__ip="127.0.0.1")) == 0
    held.pop(0).close()
    t0 = time.monotonic()
    b = recv_until(ninth, b"\n", 2)
    assert b.endswith(b"\n"), f"9th not served within 2s after a slot freed: {b!r}"
    assert time.monotonic() - t0 < 2
    st = s.status()
    assert get(st, "lure.connections.open") == 8
    assert get(st, "lure.connections.accepted") == 9
    assert get(st, "lure.connections.max") == 8
    for c in held + [ninth]:
        c.close()


def send_junk(c, data):
    try:
        c.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def test_oversized_input(lure):
    s = lure({"limits": {"idle_timeout": 30}})
    port = s.port(BANNER)
    c = tcp(port, timeout=10)
    cport = c.getsockname()[1]
    recv_until(c, b"\n", 2)
    junk = os.urandom(4096) + b"\0\x1b[31m\xff\xfe" * 1000 + b"J" * (2 * 1024 * 1024)
    send_junk(c, junk)
    data, closed = recv_to_eof(c, 5)
    assert closed, "2 MiB on a 1 MiB max_input: not closed"
    c.close()
    e = s.wait_event("connection.close", source__port=cport)
    assert get(e, "event.reason") == "input_cap"
    assert 1 << 20 < get(e, "source.bytes") <= len(junk)
    served(port)
    hp = http_port(s)
    if hp:
        h = tcp(hp, timeout=10)
        send_junk(h, b"GET /" + b"A" * (2 * 1024 * 1024))
        assert recv_to_eof(h, 5)[1], "http: 2 MiB request line: not closed"
        h.close()
        h = tcp(hp)
        h.sendall(b"GET / HTTP/1.0\r\n\r\n")
        assert recv_until(h, b"\r\n", 2).startswith(b"HTTP/1.")
        h.close()
    assert s.alive()
    # attacker bytes: escaped, capped, flagged; lines stay under the limit
    assert max(len(l) for l in s.raw().split(b"\n")) < 16384
    # (the banner emulator logs the first banner.capture bytes, then only counts)
    reqs = s.find("request", source__port=cport)
    assert reqs
    for r in reqs:
        p = get(r, "lure.payload") or ""
        assert get(r, "lure.truncated") is True or len(p) >= get(r, "source.bytes"), r


def open_with_tokens(port, n, tag):
    socks, tokens = [], []
    for i in range(n):
        c = tcp(port, src=f"127.2.{i // 200}.{i % 200 + 1}")
        tok = f"{tag}-{i:05d}-{os.urandom(4).hex()}"
        c.sendall(tok.encode() + b"\n")
        socks.append(c)
        tokens.append(tok + "\n")
    return socks, tokens


def all_read(port, n):
    q = rx_queues(port)
    return len(q) >= n and not any(q)


def check_stopped_output(evs, tokens):
    got = [get(e, "lure.payload") for e in evs if match(e, "request")]
    assert sorted(got) == sorted(tokens), \
        f"{len(set(tokens) - set(got))} of {len(tokens)} tokens missing"
    closes = [e for e in evs if match(e, "connection.close")]
    assert len(closes) == len(tokens)
    assert all(get(e, "event.reason") == "shutdown" for e in closes)
    last = evs[-1]
    assert match(last, "status", event__reason="stop"), last
    assert get(last, "lure.events.dropped") == 0
    assert get(last, "lure.events.accepted") == len(evs) - 1
    assert [get(e, "event.sequence") for e in evs] == list(range(1, len(evs) + 1))


def test_sigterm_flushes_everything(lure):
    n = 500
    s = lure({"limits": {"max_conns": 1100}})
    port = s.port(BANNER)
    socks, tokens = open_with_tokens(port, n, "TERM")
    os.kill(s.pid, signal.SIGTERM)  # right after the last send
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 5
    check_stopped_output(s.events(), tokens)
    for c in socks:
        c.close()


def test_sigterm_flushes_a_stalled_pipe(lure):
    """stdout is a pipe nobody reads: the events wait in the outbox, and
    SIGTERM still delivers every one once the reader comes back."""
    n = 500
    s = lure({"limits": {"max_conns": 1100, "outbox_bytes": 8 << 20}}, stdout=True)
    port = s.port(BANNER)
    socks, tokens = open_with_tokens(port, n, "PIPE")
    # lure has read every token (so made every event) but could write
    # only one pipe's worth
    wait_until(lambda: all_read(port, n), 10, what="lure to read all tokens")
    assert len(s.pipebuf) < 4096  # we have not been reading
    os.kill(s.pid, signal.SIGTERM)
    time.sleep(0.2)
    assert s.stop() == 0
    check_stopped_output(s.events(), tokens)
    for c in socks:
        c.close()


def test_sighup_reopens_output(lure, tmp_path):
    s = lure()
    port = s.port(BANNER)
    first = []
    for i in range(20):
        c = tcp(port)
        c.sendall(b"before-%d\n" % i)
        c.close()
        first.append("before-%d\n" % i)
    s.wait_count(20, "connection.close")
    old = tmp_path / "rotated.ndjson"
    os.rename(s.out, old)
    s.kill(signal.SIGHUP)
    wait_until(lambda: s.out.exists(), 3, what="a new output file after SIGHUP")
    second = []
    for i in range(20):
        c = tcp(port)
        c.sendall(b"after-%d\n" % i)
        c.close()
        second.append("after-%d\n" % i)
    s.wait_count(20, "connection.close")
    assert s.stop() == 0
    a = parse_ndjson(old.read_bytes(), str(old))
    b = s.events()
    pa = [get(e, "lure.payload") for e in a if match(e, "request")]
    pb = [get(e, "lure.payload") for e in b if match(e, "request")]
    assert sorted(pa) == sorted(first)
    assert sorted(pb) == sorted(second)
    seqs = [get(e, "event.sequence") for e in a + b]
    assert seqs == list(range(1, len(seqs) + 1)), "events lost or repeated across the reopen"
    assert match(b[-1], "status", event__reason="stop")


def test_usr1_counters(lure):
    s = lure({"limits": {"per_ip": 2, "max_conns": 50, "outbox_bytes": 1 << 20}})
    port = s.port(BANNER)
    a = tcp(port, src="127.0.0.7")
    b = tcp(port, src="127.0.0.7")
    for c in (a, b):
        recv_until(c, b"\n", 2)
    third = tcp(port, src="127.0.0.7")  # a makes room (per_ip 2)
    recv_until(third, b"\n", 2)
    assert recv_to_eof(a, 2) == (b"", True)
    for i in range(3):  # one source each: per_ip 2 must not touch these
        c = tcp(port, src=f"127.0.0.{8 + i}")
        c.sendall(b"x%d\n" % i)
        c.close()
    dgrams = 0
    if info().emu_of(161, "udp"):
        for i in range(2):
            udp_send(s.port(161, "udp"), b"d%d" % i).close()
        dgrams = 2
        s.wait_count(2, "request", network__transport="udp")
    s.wait_count(3, "connection.close")
    st = s.status()
    assert get(st, "event.dataset") == "lure.status"
    assert get(st, "lure.connections.accepted") == 6
    assert get(st, "lure.connections.open") == 2
    assert get(st, "lure.connections.rejected_per_ip") == 1
    assert get(st, "lure.connections.max") == 50
    assert get(st, "lure.datagrams") == dgrams
    assert get(st, "lure.events.accepted") == get(st, "event.sequence") - 1
    assert get(st, "lure.events.dropped") == 0
    assert get(st, "lure.queue.size") >= 1 << 20
    assert 0 <= get(st, "lure.queue.bytes") <= get(st, "lure.queue.size")
    assert get(st, "lure.uptime") >= 0
    assert get(st, "lure.rss_kib") > 0
    assert get(st, "lure.tls") == info().tls
    assert get(st, "lure.listeners") is None
    for c in (a, b, third):
        c.close()
    s.wait_count(6, "connection.close")
    st2 = s.status()
    assert get(st2, "lure.connections.open") == 0
    assert get(st2, "lure.connections.accepted") == 6
    assert get(st2, "lure.events.accepted") == get(st2, "event.sequence") - 1


def pipe_fill(fd):
    buf = bytearray(4)
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return struct.unpack("i", buf)[0]


def flood(port, n, size=1000):
    for i in range(n):
        c = tcp(port, src=f"127.3.{i // 200}.{i % 200 + 1}")
        c.sendall(b"F%05d" % i + b"f" * size + b"\n")
        c.close()


@pytest.mark.parametrize("outbox", [None, 65536], ids=["default_outbox", "tiny_outbox"])
def test_stalled_stdout_does_not_block_serving(lure, outbox):
    limits = {"max_conns": 600}
    if outbox:
        limits["outbox_bytes"] = outbox
    s = lure({"limits": limits}, stdout=True)
    port = s.port(BANNER)
    flood(port, 300)
    fd = s.pipe.fileno()
    # once lure has closed every flood connection it has made ~1 MB of
    # events: far more than a pipe holds, so the pipe is full
    wait_until(lambda: not server_sockets(port), 10, what="lure to close the flood connections")
    assert pipe_fill(fd) > 16384
    # the pipe is full and nobody reads it: lure still answers at once
    for _ in range(3):
        served(port)
    assert_not_spinning(s.pid, 1.0)
    # now drain it: everything parses, and gaps match the drop counter
    time.sleep(0.2)
    s.read_pipe()
    st = s.status()
    evs = s.events()
    seqs = [get(e, "event.sequence") for e in evs]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    missing = set(range(1, seqs[-1] + 1)) - set(seqs)
    assert get(st, "lure.events.dropped") == len(missing)
    if outbox is None:
        assert not missing, f"{len(missing)} events dropped with a 1 MiB outbox"
        assert len([e for e in evs if match(e, "request")]) == 300
    else:
        assert missing, "a 64 KiB outbox cannot hold ~1 MB of events"
    assert s.stop() == 0


def test_output_write_errors_do_not_stop_serving(lure):
    s = lure({"output": {"file": "/dev/full"}}, wait=False)
    wait_until(lambda: b"WRITE" in s.err_path.read_bytes(), 3, what="a WRITE error log line")
    port = s.offset + BANNER
    for _ in range(3):
        served(port)
    assert_not_spinning(s.pid, 1.0)
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 3
    assert "/dev/full" in s.stderr()


def test_stdout_reader_gone(lure):
    """The process reading stdout dies: lure gets EPIPE, keeps serving,
    does not spin, and still stops cleanly."""
    s = lure(stdout=True)
    port = s.port(BANNER)
    s.pipe.close()
    s.pipe = None
    for i in range(20):
        c = tcp(port)
        c.sendall(b"into the void %d\n" % i)
        c.close()
    wait_until(lambda: b"WRITE" in s.err_path.read_bytes(), 3, what="a WRITE error log line")
    served(port)
    assert_not_spinning(s.pid, 1.0)
    t0 = time.monotonic()
    assert s.stop() == 0
    assert time.monotonic() - t0 < 3
