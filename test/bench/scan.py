"""Scan capture benchmark (issue 13's goals): lure's packet path against
`tcpdump -w /dev/null` with the same filter, side by side on one interface.

A sensor namespace and a scanner namespace joined by a veth pair (made as
test/scan/conftest.py makes them: its Pair). In the sensor's namespace, at
once and on the same eth0: lure with scan capture on eth0 (defaults:
scan.max_sources 1024, payload_bytes 64), a second lure with
`scan.enabled: false` (its ports moved by port_offset; it sees the same
traffic, for its RSS), and tcpdump with the expression FILTER below (what
lure's classic BPF program passes, src/scan.c) and lure's snap length.
From the scanner's namespace, masscan at each RATE for SECONDS (SYNs to
10.77.0.0/24 but .2, the ports needed for RATE x SECONDS probes, to the
sensor's MAC), rounds interleaved (rate after rate, round after round).

Per round: packets sent (the scanner eth0's tx_packets delta: masscan's
SYNs and its RSTs to the sensor's SYN-ACKs, ARP), lure's
received + kernel_drops (its stop status event, lure.scan.*), tcpdump's
received by filter and dropped (its exit report), CPU seconds (run time
from /proc/<pid>/schedstat; the ratio from utime + stime of
/proc/<pid>/stat, whole ticks, beside it), from when both are up to a
second after masscan ends, per million packets sent, the ratio lure/tcpdump, and the VmRSS/VmHWM of
both lures at the end. Medians per rate at the end. First, once: the
filter check (a fixed mix of wanted and unwanted packets, v4 and v6: lure's
received must equal tcpdump's count).

Root (namespaces, packet sockets). Usage:
  scan.py LURE_BIN [--seconds 20] [--rounds 3] [--rates 50000,200000]
(--rounds 0: the filter check only). Exit 1 when the filter check fails;
the numbers are reported, not judged."""
import argparse
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "scan"))
from conftest import SCANNER4, SCANNER6, SENSOR4, SENSOR6, Pair  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
SNAP = 192 + 64  # src/scan.c: SNAP_HEAD + scan.payload_bytes (default)
# src/scan.c's classic BPF program as a tcpdump expression: packets to this
# host (PACKET_HOST: inbound, not to a group MAC; -p: no other host's);
# IPv4 but later fragments: UDP, TCP with SYN and no ACK, ICMP echo
# request; IPv6 (fixed header): UDP, TCP SYN without ACK, ICMPv6 echo
# request, and the extension headers 0, 43, 44, 60 (lure's parser decides).
FILTER = ("inbound and not ether multicast and ((ip and ip[6:2] & 0x1fff = 0 and (udp or "
          "(tcp and tcp[13] & 0x12 = 2) or (icmp and icmp[0] = 8))) or "
          "(ip6 and (ip6[6] = 17 or (ip6[6] = 6 and ip6[53] & 0x12 = 2) or "
          "(ip6[6] = 58 and ip6[40] = 128) or ip6[6] = 0 or ip6[6] = 43 or "
          "ip6[6] = 44 or ip6[6] = 60)))")


PROCS = []  # every process started, killed at the end whatever happened


def cpu(pid):
    """CPU time of pid, seconds: the scheduler's run time (ns), as
    utime + stime from /proc/<pid>/stat count whole ticks (10 ms: a tenth
    of what a million packets cost)."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[0]) / 1e9


def cpu_ticks(pid):
    """utime + stime of pid, seconds (whole ticks)."""
    f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / HZ


def mem(pid):
    t = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", t).group(1)) for k in ("VmRSS", "VmHWM")}


def get(e, dotted):
    for k in dotted.split("."):
        if k not in e and dotted in e:
            return e[dotted]
        e = e[k]
    return e


class Lure:
    def __init__(self, pair, tmp, name, scan, offset):
        self.out = Path(tmp) / f"{name}.ndjson"
        self.err = Path(tmp) / f"{name}.stderr"
        cfg = {"sensor_id": "bench", "listen": ["0.0.0.0", "::"], "port_offset": offset,
               "run_as_root": True, "output": {"file": str(self.out)},
               "scan": {"enabled": scan, "interfaces": ["eth0"]}}
        path = Path(tmp) / f"{name}.json"
        path.write_text(json.dumps(cfg))
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", pair.sensor, LURE, "-c", str(path)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(self.err, "wb"))
        PROCS.append(self.proc)
        self.wait("start")

    def events(self):
        try:
            return [json.loads(x) for x in self.out.read_text().splitlines() if x.strip()]
        except FileNotFoundError:
            return []

    def wait(self, reason, timeout=10):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for e in self.events():
                if e.get("event", {}).get("action") == "status" and \
                        e["event"].get("reason") == reason:
                    return e
            if self.proc.poll() is not None and reason == "start":
                break
            time.sleep(0.05)
        sys.exit(f"lure: no {reason} status event\n{self.err.read_text()}")

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=30)
        return self.wait("stop")


class Tcpdump:
    def __init__(self, pair):
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", pair.sensor, "tcpdump", "-n", "-p", "-i", "eth0",
             "-s", str(SNAP), "-w", "/dev/null", FILTER],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True)
        PROCS.append(self.proc)
        line = self.proc.stderr.readline()  # "listening on eth0, ..."
        if "listening" not in line:
            sys.exit(f"tcpdump: {line}{self.proc.stderr.read()}")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        err = self.proc.stderr.read()
        self.proc.wait(timeout=30)
        n = {k: int(re.search(rf"(\d+) packets? {k}", err).group(1))
             for k in ("captured", "received by filter", "dropped by kernel")}
        # captured: what tcpdump read; received by filter: what the kernel
        # passed (with the dropped ones, on Linux)
        return n["received by filter"] - n["dropped by kernel"], n["dropped by kernel"]


def tx(pair):
    return int(pair.scan("cat /sys/class/net/eth0/statistics/tx_packets"))


def filter_check(pair, tmp):
    """A mix of packets lure's filter takes and refuses: lure's received must
    equal what tcpdump captured with FILTER."""
    lu, td = Lure(pair, tmp, "check", True, 0), Tcpdump(pair)
    s4, s6 = SENSOR4, SENSOR6
    py = ("import socket\n"
          f"for fam, a in ((socket.AF_INET, '{s4}'), (socket.AF_INET6, '{s6}')):\n"
          "    for p in (22, 81, 4444):\n"
          "        s = socket.socket(fam); s.settimeout(1)\n"
          "        try: s.connect((a, p)); s.send(b'x' * 100)\n"
          "        except OSError: pass\n"
          "        s.close()\n"
          "    u = socket.socket(fam, socket.SOCK_DGRAM)\n"
          "    for p in (53, 1900, 5353): u.sendto(b'M-SEARCH', (a, p))\n"
          "i = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)\n"
          "for t in (128, 128, 129, 135):\n"  # echo request x2: taken; reply, NS: refused
          f"    i.sendto(bytes([t, 0, 0, 0, 0, 1, 0, 1]) + bytes(16), ('{s6}', 0))\n")
    pair.scan(f"python3 -c \"{py}\"")
    pair.scan(f"hping3 --icmp -c 3 -i u20000 {s4}", check=False)  # echo request
    for flags in ("-S", "-A", "-SA", "-R", "-F", "-SF"):  # SYN, not ACK: taken
        pair.scan(f"hping3 {flags} -c 2 -i u20000 -p 5555 {s4}", check=False)
    pair.scan(f"hping3 --icmp -C 0 -c 2 -i u20000 {s4}; "  # echo reply: refused
              f"hping3 --icmp -C 13 -c 2 -i u20000 {s4}; "  # timestamp: refused
              f"hping3 --udp -f -d 3000 -c 1 -p 7 {s4}", check=False)  # fragments
    time.sleep(1.5)  # tcpdump's ring hands a block over after 1 s
    got, dropped = td.stop()
    st = get(lu.stop(), "lure.scan")
    ok = st["received"] == got and not dropped and not st["kernel_drops"]
    print(f"filter check: lure received {st['received']} (refused {st['refused']}), "
          f"tcpdump {got}: {'same' if ok else 'DIFFERENT'}")
    return ok


def round_(pair, tmp, rate, secs, n):
    lc = Lure(pair, tmp, f"cap{rate}-{n}", True, 0)
    ln = Lure(pair, tmp, f"nocap{rate}-{n}", False, 20000)
    td = Tcpdump(pair)
    ports = max(1, rate * secs // 255)
    time.sleep(0.5)
    both = (("lure", lc), ("tcpdump", td))
    c0 = {k: cpu(p.proc.pid) for k, p in both}
    k0 = {k: cpu_ticks(p.proc.pid) for k, p in both}
    t0, w0 = tx(pair), time.monotonic()
    out = pair.scan(f"masscan 10.77.0.0/24 --exclude {SCANNER4} -p1-{ports} --rate {rate} "
                    f"-e eth0 --router-mac {pair.sensor_mac} --wait 0 2>&1",
                    timeout=secs * 4 + 60)
    # masscan's own report of its rate (it then waits a few seconds more)
    kpps = [float(x) for x in re.findall(r"rate:\s*([\d.]+)-kpps", out) if float(x)]
    wall = time.monotonic() - w0
    time.sleep(1)
    sent = tx(pair) - t0
    c1 = {k: cpu(p.proc.pid) for k, p in both}
    k1 = {k: cpu_ticks(p.proc.pid) for k, p in both}
    mc, mn = mem(lc.proc.pid), mem(ln.proc.pid)
    got, tdrop = td.stop()
    st = get(lc.stop(), "lure.scan")
    ln.stop()
    r = {"rate": rate, "sent": sent, "wall": wall, "kpps": statistics.median(kpps) if kpps else 0,
         "lure_received": st["received"], "lure_drops": st["kernel_drops"],
         "td_captured": got, "td_dropped": tdrop,
         "lure_cpu": c1["lure"] - c0["lure"], "td_cpu": c1["tcpdump"] - c0["tcpdump"],
         "rss_cap": mc["VmRSS"], "rss_nocap": mn["VmRSS"],
         "hwm_cap": mc["VmHWM"], "hwm_nocap": mn["VmHWM"]}
    r["lure_s_per_M"] = r["lure_cpu"] / sent * 1e6
    r["td_s_per_M"] = r["td_cpu"] / sent * 1e6
    r["ratio"] = r["lure_cpu"] / r["td_cpu"] if r["td_cpu"] else float("inf")
    kt = k1["tcpdump"] - k0["tcpdump"]
    r["ratio_ticks"] = (k1["lure"] - k0["lure"]) / kt if kt else float("inf")
    print(f"  round {n} {rate}/s: sent {sent} (masscan at {r['kpps']:.0f} kpps); lure {st['received']} "
          f"+ {st['kernel_drops']} dropped; tcpdump {got} + {tdrop} dropped; CPU s/M: "
          f"lure {r['lure_s_per_M']:.3f} tcpdump {r['td_s_per_M']:.3f} "
          f"ratio {r['ratio']:.2f} (from ticks {r['ratio_ticks']:.2f}); RSS KiB capture {mc['VmRSS']} without "
          f"{mn['VmRSS']}", flush=True)
    return r


def main():
    global LURE
    ap = argparse.ArgumentParser()
    ap.add_argument("lure")
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rates", default="50000,200000")
    a = ap.parse_args()
    LURE = str(Path(a.lure).resolve())
    if os.geteuid():
        sys.exit("scan.py: needs root (network namespaces, packet sockets)")
    rates = [int(x) for x in a.rates.split(",")]
    print(f"load before: {Path('/proc/loadavg').read_text().strip()}")
    pair = Pair()
    fail = 0
    try:
        with tempfile.TemporaryDirectory(prefix="lure-scanbench-") as tmp:
            fail |= not filter_check(pair, tmp)
            res = {r: [] for r in rates}
            for n in range(a.rounds):
                for rate in rates:
                    try:
                        res[rate].append(round_(pair, tmp, rate, a.seconds, n))
                    except subprocess.TimeoutExpired as e:  # masscan stuck
                        print(f"  round {n} {rate}/s: no result ({e})", flush=True)
                        for p in PROCS:
                            if p.poll() is None:
                                p.kill()
                                p.wait()
                        pids = subprocess.run(["ip", "netns", "pids", pair.scanner],
                                              capture_output=True, text=True).stdout.split()
                        for pid in pids:  # the masscan left in our scanner namespace
                            if Path(f"/proc/{pid}/comm").read_text().strip() == "masscan":
                                os.kill(int(pid), signal.SIGKILL)
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        pair.close()
    print(f"load after: {Path('/proc/loadavg').read_text().strip()}")
    print(f"medians of {a.rounds} rounds, {a.seconds} s each:")
    for rate, rs in res.items() if a.rounds else ():
        if not rs:
            continue
        def m(k):
            return statistics.median(r[k] for r in rs)
        lost = sum(r["td_captured"] + r["td_dropped"] - r["lure_received"] - r["lure_drops"]
                   for r in rs)
        print(f"{rate}/s: sent {m('sent'):.0f}, lure counted {m('lure_received'):.0f} + "
              f"{m('lure_drops'):.0f} kernel drops (tcpdump's total less lure's, all "
              f"rounds: {lost}), "
              f"tcpdump {m('td_captured'):.0f} + {m('td_dropped'):.0f}; CPU s per million: "
              f"lure {m('lure_s_per_M'):.3f}, tcpdump {m('td_s_per_M'):.3f}, ratio "
              f"{m('ratio'):.2f} (goal <= 1.5); RSS KiB lure {m('rss_cap'):.0f} vs "
              f"{m('rss_nocap'):.0f} without capture: +{m('rss_cap') - m('rss_nocap'):.0f} "
              f"(HWM +{m('hwm_cap') - m('hwm_nocap'):.0f}; goal <= 4096)")
    return fail


if __name__ == "__main__":
    sys.exit(main())
