"""Slowloris against lure's default limits (issue 12, item 6).

An attacker holds ATTACK connections (default 5,000) to lure's HTTP port
from 200 loopback addresses (25 each: under the default per_ip 32), each
having sent an unfinished request and one more header line every 10 s,
and reopening every connection lure closed at the next round, as
slowloris does. A probe client (its own address) then connects, sends a
whole request and times the first byte of the answer, PROBES times, 0.2 s
apart: first with no attack, then during it. Goal: the median time to
first byte during the attack <= 2x the one without. lure runs with its
default limits (max_conns 1024, per_ip 32, request_timeout 60); the
events go to a file.

Loopback only, bounded in time (about a minute). Usage:
  slowloris.py LURE_BIN [ATTACK [PROBES]]"""
import errno
import json
import os
import resource
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time

LURE = sys.argv[1]
ATTACK = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
PROBES = int(sys.argv[3]) if len(sys.argv) > 3 else 40
PORTS = (21, 23, 80, 443, 554, 2323, 8000, 8080, 8443)


def free_offset():
    for off in range(33000, 60000, 137):
        try:
            for p in PORTS:
                s = socket.socket()
                s.bind(("127.0.0.1", off + p))
                s.close()
            return off
        except OSError:
            s.close()
    raise SystemExit("no free port offset")


OFFSET = int(os.environ.get("LURE_BENCH_OFFSET", "0")) or free_offset()
PORT = OFFSET + 80
HEAD = b"GET / HTTP/1.1\r\nHost: sensor\r\nUser-Agent: Mozilla/5.0\r\n"
TIMEOUT = 5.0
tmp = tempfile.mkdtemp(prefix="lure-slowloris-")

soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, ATTACK + 1024), hard))


def start_lure():
    cfg = {"sensor_id": "slowloris", "listen": ["127.0.0.1"], "port_offset": OFFSET,
           "run_as_root": True, "output": {"file": f"{tmp}/events.ndjson"}}
    path = f"{tmp}/lure.json"
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([LURE, "-c", path], stderr=open(f"{tmp}/stderr", "wb"))
    for _ in range(100):
        if p.poll() is not None:
            raise SystemExit(f"lure exited: {open(f'{tmp}/stderr').read()}")
        try:
            socket.create_connection(("127.0.0.1", PORT), 1).close()
            break
        except OSError:
            time.sleep(0.05)
    return p


def probe():
    """Seconds from connect to the first byte of the answer (None: none
    within TIMEOUT)."""
    t0 = time.monotonic()
    try:
        c = socket.socket()
        c.settimeout(TIMEOUT)
        c.bind(("127.2.0.1", 0))
        c.connect(("127.0.0.1", PORT))
        c.sendall(b"GET / HTTP/1.0\r\n\r\n")
        d = c.recv(1)
        c.close()
        return time.monotonic() - t0 if d else None
    except OSError:
        return None


def probes(n, attacker=None):
    out = []
    for _ in range(n):
        out.append(probe())
        end = time.monotonic() + 0.2
        while time.monotonic() < end:
            if attacker:
                attacker.step(end - time.monotonic())
            else:
                time.sleep(end - time.monotonic())
    return out


class Attacker:
    def __init__(self, n):
        self.n = n
        self.socks = [None] * n
        self.sel = selectors.DefaultSelector()
        self.reopened = 0
        self.next_round = 0.0

    def open(self, i):
        s = socket.socket()
        s.setblocking(False)
        s.bind((f"127.1.{i // 25 // 200}.{i // 25 % 200 + 1}", 0))
        err = s.connect_ex(("127.0.0.1", PORT))
        if err not in (0, errno.EINPROGRESS):
            s.close()
            return
        self.socks[i] = [s, False]  # socket, head sent

    def round(self):
        """Send a header line on each connection (the unfinished request
        first); reopen what lure closed."""
        for i in range(self.n):
            e = self.socks[i]
            if e is None:
                self.open(i)
                continue
            s, sent = e
            try:
                s.send(b"X-a: b\r\n" if sent else HEAD)
                e[1] = True
            except BlockingIOError:
                pass
            except OSError:
                s.close()
                self.socks[i] = None
                self.reopened += 1
                self.open(i)

    def step(self, secs):
        now = time.monotonic()
        if now >= self.next_round:
            self.round()
            self.next_round = now + 10
        time.sleep(max(0.0, min(secs, self.next_round - time.monotonic())))

    def close(self):
        for e in self.socks:
            if e:
                e[0].close()


def summary(xs):
    ok = sorted(x for x in xs if x is not None)
    if not ok:
        return {"served": 0, "of": len(xs)}
    return {"served": len(ok), "of": len(xs),
            "median_ms": round(statistics.median(ok) * 1000, 3),
            "p90_ms": round(ok[int(len(ok) * 0.9) - 1 if len(ok) > 1 else 0] * 1000, 3),
            "max_ms": round(ok[-1] * 1000, 3)}


def main():
    lure = start_lure()
    try:
        base = probes(PROBES)
        att = Attacker(ATTACK)
        # the attack: every connection opened and its request started,
        # twice (a round reopens what the first one lost), then probes
        # across a third round (every connection lure closed comes back)
        t0 = time.monotonic()
        att.round()
        att.step(2.0)
        att.round()
        att.next_round = time.monotonic() + 3  # one more during the probes
        att.step(1.0)
        during = probes(PROBES, att)
        held = sum(1 for e in att.socks if e)
        b, d = summary(base), summary(during)
        ratio = (round(d["median_ms"] / b["median_ms"], 2)
                 if d.get("median_ms") and b.get("median_ms") else None)
        evs = [json.loads(l) for l in open(f"{tmp}/events.ndjson", "rb")]
        closes = {}
        for e in evs:
            if e["event"]["action"] == "connection.close":
                r = e["event"]["reason"]
                closes[r] = closes.get(r, 0) + 1
        print(json.dumps({"attack_connections": ATTACK, "attack_held_by_client": held,
                          "attack_reopened": att.reopened,
                          "attack_seconds": round(time.monotonic() - t0, 1),
                          "no_attack": b, "during_attack": d,
                          "median_ratio": ratio, "goal": "<= 2",
                          "closes_by_reason": closes}, indent=1))
        att.close()
    finally:
        lure.terminate()
        lure.wait(10)


main()
