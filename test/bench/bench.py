"""Benchmarks for lure, each against a baseline in the same run.

1. HTTP, one request per connection (wrk, Connection: close) against lure's
   HTTP emulator (its events written to a file: connection.open, request,
   connection.close) and against Debian's nginx (1 worker, access log on)
   serving the same page, in interleaved rounds: new connections per second,
   and CPU per request (utime + stime from /proc/<pid>/stat over the round,
   every nginx process counted, divided by the requests wrk completed).
   Prints the medians and the ratios lure/nginx.
2. Memory: lure's RSS idle, with 1,000 and with 4,000 idle connections, and
   the cost per connection.

Loopback only. Usage: bench.py LURE_BIN [seconds [rounds]]."""
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

LURE = sys.argv[1]
SECS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 5
HZ = os.sysconf("SC_CLK_TCK")
OFFSET = int(os.environ.get("LURE_BENCH_OFFSET", "31000"))
tmp = tempfile.mkdtemp(prefix="lure-bench-")


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def start_lure(max_conns):
    cfg = {"sensor_id": "bench", "listen": ["127.0.0.1"], "port_offset": OFFSET,
           "run_as_root": True, "output": {"file": f"{tmp}/events.ndjson"},
           "limits": {"max_conns": max_conns, "per_ip": 65536,
                      "idle_timeout": 600, "session_timeout": 3600}}
    path = f"{tmp}/lure.json"
    with open(path, "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([LURE, "-c", path])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", OFFSET + 80), 1).close()
            break
        except OSError:
            time.sleep(0.05)
    time.sleep(0.3)
    return p


def start_nginx(port, page_dir):
    conf = f"""worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 4096; }}
http {{
  access_log {tmp}/nginx-access.log;
  server {{ listen 127.0.0.1:{port}; root {page_dir}; index index.html; }}
}}
"""
    with open(f"{tmp}/nginx.conf", "w") as f:
        f.write(conf)
    subprocess.run(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp], check=True)
    time.sleep(0.3)


def cpu_ticks(pids):
    """utime + stime of the processes, in clock ticks."""
    t = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])
    return t


def nginx_pids():
    with open(f"{tmp}/nginx.pid") as f:
        master = int(f.read())
    pids = [master]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(d))
            except OSError:
                pass
    return pids


def wrk(port, pids=()):
    """One run: (requests/s, requests, CPU seconds of pids)."""
    c0 = cpu_ticks(pids)
    out = subprocess.run(["wrk", "-t1", "-c32", f"-d{SECS}s", "-H",
                          "Connection: close", f"http://127.0.0.1:{port}/"],
                         capture_output=True, text=True).stdout
    cpu = (cpu_ticks(pids) - c0) / HZ
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    n = re.search(r"(\d+) requests in", out)
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errs or re.search(r"Socket errors", out):
        print(f"wrk on port {port}: {out.strip()}")
    return (float(m.group(1)) if m else 0.0, int(n.group(1)) if n else 0,
            cpu)


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    # the page lure serves on / comes from the persona; nginx gets the same
    page_dir = f"{tmp}/www"
    os.makedirs(page_dir)
    os.chmod(tmp, 0o755)  # nginx's worker (nobody) reads the page: no 403
    lure = start_lure(8192)
    body = b""
    s = socket.create_connection(("127.0.0.1", OFFSET + 80))
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    resp = b""
    while True:
        d = s.recv(65536)
        if not d:
            break
        resp += d
    s.close()
    body = resp.split(b"\r\n\r\n", 1)[1]
    with open(f"{page_dir}/index.html", "wb") as f:
        f.write(body)

    print(f"# lure benchmarks, {time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"{ROUNDS} rounds of {SECS}s per server, page {len(body)} bytes, "
          f"binary {LURE}")
    # alternate the two servers and take the medians: a busy machine then
    # slows both alike
    nginx_port = OFFSET + 90
    start_nginx(nginx_port, page_dir)
    npids = nginx_pids()
    lr, nr, lc, nc = [], [], [], []
    for _ in range(ROUNDS):
        rate, n, cpu = wrk(OFFSET + 80, [lure.pid])
        lr.append(rate)
        lc.append(cpu / n * 1e6 if n else 0.0)
        rate, n, cpu = wrk(nginx_port, npids)
        nr.append(rate)
        nc.append(cpu / n * 1e6 if n else 0.0)
    subprocess.run(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp, "-s", "stop"])
    lure_rate, nginx_rate = median(lr), median(nr)
    lure_us, nginx_us = median(lc), median(nc)
    print(f"runs (connections/s): lure {[round(x) for x in lr]}, "
          f"nginx {[round(x) for x in nr]}")
    print(f"runs (CPU us/request): lure {[round(x, 1) for x in lc]}, "
          f"nginx {[round(x, 1) for x in nc]}")
    with open(f"{tmp}/events.ndjson", "rb") as f:
        nev = sum(1 for line in f if b'"action":"request"' in line)
    print(f"new connections/s: lure {lure_rate:.0f}, nginx {nginx_rate:.0f}, "
          f"ratio {lure_rate / nginx_rate if nginx_rate else 0:.2f}x "
          f"(lure wrote {nev} request events)")
    print(f"CPU per request: lure {lure_us:.1f} us, nginx {nginx_us:.1f} us, "
          f"ratio {lure_us / nginx_us if nginx_us else 0:.2f}x (goal <= 1.0x)")

    # memory: idle, then 1,000 and 4,000 idle connections
    lure.send_signal(signal.SIGTERM)
    lure.wait()
    lure = start_lure(4200)
    idle = rss_kib(lure.pid)
    socks = []
    res = {}
    for target in (1000, 4000):
        while len(socks) < target:
            socks.append(socket.create_connection(("127.0.0.1", OFFSET + 80)))
        time.sleep(1.0)
        res[target] = rss_kib(lure.pid)
    for s in socks:
        s.close()
    lure.send_signal(signal.SIGTERM)
    lure.wait()
    per = (res[4000] - idle) * 1024 / 4000
    print(f"RSS: idle {idle} KiB, 1000 conns {res[1000]} KiB, "
          f"4000 conns {res[4000]} KiB, {per:.0f} bytes per connection")
    shutil.rmtree(tmp, ignore_errors=True)


main()
