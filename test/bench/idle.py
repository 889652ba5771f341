"""Idle connections against the cost of a new one (issue 12, item 3).

lure's HTTP emulator and Debian's nginx (1 worker, access log on, the same
page) each hold IDLE connections that never send a byte (opened by a child
process per server, so both sets are held at once), while wrk makes new
connections (one request each, Connection: close) for SECS seconds; in
interleaved rounds, with 10 and then with IDLE connections held. Prints the
medians of CPU per new connection (utime + stime from /proc/<pid>/stat over
the round, every nginx process counted, divided by the requests wrk
completed) and of new connections per second, and the ratios: held/10 for
each server (goal for lure: <= 2x) and lure/nginx at each level.

The idle connections come 10 from each loopback address (127.1.x.y), as
limits.per_ip (32 by default) makes a real crowd come; LURE_BENCH_PER_SRC
changes that (IDLE: all from one address, lure's config raising per_ip).

Loopback only. Usage: idle.py LURE_BIN [seconds [rounds [idle]]];
LURE_BENCH_OFFSET moves the ports (default: the first offset from 33000 up,
in steps of 100, whose ports 80 and 90 are free)."""
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

LURE = sys.argv[1]
SECS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
ROUNDS = int(sys.argv[3]) if len(sys.argv) > 3 else 3
IDLE = int(sys.argv[4]) if len(sys.argv) > 4 else 10000
OFFSET = int(os.environ.get("LURE_BENCH_OFFSET", "33000"))
PER_SRC = int(os.environ.get("LURE_BENCH_PER_SRC", "10"))
NOFILE = IDLE + 1000  # each process holds one set
tmp = tempfile.mkdtemp(prefix="lure-idle-")
# a child holding n connections to a port until its stdin closes
# (PER_SRC from each loopback address 127.1.x.y, as a per-IP limit would
# have them come: limits.per_ip is 32 by default)
HOLD = """import socket, sys
n, port, k = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
s = [socket.create_connection(("127.0.0.1", port), None,
                              ("127.1.%d.%d" % (i // k >> 8, i // k & 255), 0))
     for i in range(n)]
print(len(s), flush=True)
sys.stdin.read()
"""


def free(port):
    try:
        socket.create_server(("127.0.0.1", port)).close()
        return True
    except OSError:
        return False


def start_lure():
    cfg = {"sensor_id": "bench", "listen": ["127.0.0.1"],
           "port_offset": OFFSET, "run_as_root": True,
           "output": {"file": f"{tmp}/events.ndjson"},
           "limits": {"max_conns": IDLE + 1000, "per_ip": 65536,
                      "idle_timeout": 3600, "session_timeout": 3600}}
    with open(f"{tmp}/lure.json", "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([LURE, "-c", f"{tmp}/lure.json"])
    time.sleep(0.5)
    return p


def start_nginx(port):
    with open(f"{tmp}/nginx.conf", "w") as f:
        f.write(f"""worker_processes 1;
worker_rlimit_nofile {NOFILE};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections {IDLE + 1000}; }}
http {{
  access_log {tmp}/nginx-access.log;
  client_header_timeout 3600s;
  server {{ listen 127.0.0.1:{port}; root {tmp}/www; }}
}}
""")
    subprocess.run(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp],
                   check=True)
    time.sleep(0.3)


def hold(n, port):
    p = subprocess.Popen([sys.executable, "-c", HOLD, str(n), str(port),
                          str(PER_SRC)],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    p.stdout.readline()
    time.sleep(0.5)
    return p


def cpu_ticks(pids):
    """utime + stime of the processes, in clock ticks (as bench.py)."""
    t = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        t += int(fields[11]) + int(fields[12])
    return t


def median(xs):
    xs = sorted(xs)
    return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2


def main():
    global OFFSET
    while "LURE_BENCH_OFFSET" not in os.environ and not (
            free(OFFSET + 80) and free(OFFSET + 90)):
        OFFSET += 100
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))
    except (ValueError, OSError):  # not root: within the hard limit
        sys.exit(f"idle.py: cannot raise the open files limit to {NOFILE} "
                 f"(run as root, or ask for fewer idle connections)")
    os.makedirs(f"{tmp}/www")
    os.chmod(tmp, 0o755)
    lure = start_lure()
    lport, nport = OFFSET + 80, OFFSET + 90
    page = subprocess.run(["curl", "-s", f"http://127.0.0.1:{lport}/"],
                          capture_output=True).stdout
    with open(f"{tmp}/www/index.html", "wb") as f:
        f.write(page)
    start_nginx(nport)
    with open(f"{tmp}/nginx.pid") as f:
        master = int(f.read())
    npids = [master] + [int(d) for d in os.listdir("/proc") if d.isdigit()
                        and _ppid(d) == master]
    print(f"# lure idle-connection benchmark, {time.strftime('%Y-%m-%d')}, "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}, "
          f"{ROUNDS} rounds of {SECS}s, binary {LURE}")
    res = {}
    for n in (10, IDLE):
        holders = [hold(n, lport), hold(n, nport)]
        runs = {"lure": ([], []), "nginx": ([], [])}
        for _ in range(ROUNDS):
            for name, port, pids in (("lure", lport, [lure.pid]),
                                     ("nginx", nport, npids)):
                c0 = cpu_ticks(pids)
                out = subprocess.run(
                    ["wrk", "-t1", "-c32", f"-d{SECS}s", "-H",
                     "Connection: close", f"http://127.0.0.1:{port}/"],
                    capture_output=True, text=True).stdout
                cpu = (cpu_ticks(pids) - c0) / os.sysconf("SC_CLK_TCK")
                done = int(out.split(" requests in")[0].split()[-1])
                runs[name][0].append(done / SECS)
                runs[name][1].append(cpu / done * 1e6 if done else 0.0)
        for h in holders:
            h.stdin.close()
            h.wait()
        time.sleep(1.0)
        for name, (rates, us) in runs.items():
            res[name, n] = (median(rates), median(us))
            print(f"{n} idle: {name} {median(rates):.0f} new connections/s "
                  f"{[round(x) for x in rates]}, {median(us):.1f} us CPU "
                  f"per connection {[round(x, 1) for x in us]}")
    for name in ("lure", "nginx"):
        a, b = res[name, 10][1], res[name, IDLE][1]
        print(f"{name}: CPU per new connection with {IDLE} idle / with 10: "
              f"{b / a if a else 0:.2f}x"
              + (" (goal <= 2x)" if name == "lure" else ""))
    for n in (10, IDLE):
        a, b = res["lure", n][1], res["nginx", n][1]
        print(f"{n} idle: CPU per new connection lure/nginx "
              f"{a / b if b else 0:.2f}x")
    subprocess.run(["nginx", "-c", f"{tmp}/nginx.conf", "-p", tmp, "-s",
                    "stop"])
    lure.terminate()
    lure.wait()
    shutil.rmtree(tmp, ignore_errors=True)


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return 0


main()
