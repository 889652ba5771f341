"""Shipping benchmark: lure's Elasticsearch shipper vs rsyslog's omelasticsearch.

Both ship the same kind of events (lure http request events, ~1 KB NDJSON lines)
to one real OpenSearch 2.19 node (test/es/node.py) with POST /_bulk, side by
side in one run, over plain HTTP and over TLS through a private nginx TLS front
(self-made CA, openssl CLI). Everything is on 127.0.0.1.

  lure     test/bench/shipbench: lure's own objects (src/ship.c, outbox, event
           encoder) driven as loop.c drives them; events are built in chunks
           and the CPU that takes is subtracted (see shipbench.c).
  rsyslog  a private rsyslogd (-n -f CONF -i PIDFILE, own work directory, no
           system config): imfile reads the same kind of lines from a file,
           omelasticsearch bulkmode="on" ships them unchanged (template %msg%)
           to its own index, linkedlist action queue, dequeuebatchsize 1000.
           CPU = utime+stime of /proc/PID/stat from just before the file appears
           until the node counts N documents; memory = VmHWM.

Bytes on the wire: each shipper talks to the node (or to nginx) through a small
byte-counting TCP forwarder in this script, so both are measured the same way
(TCP payload in both directions, TLS records included on the TLS runs; TCP/IP
headers not included).

Usage: python3 test/bench/ship_bench.py [--n N] [--budget SECONDS] [--shipbench PATH]
         [--repeat R] [--base-shipbench PATH] [--variant NAME=PATH] [--tls-only] [--no-extras]
N defaults to 1,000,000, lowered so that one lure run should take about
--budget seconds (60) at the rate a calibration run over TLS measured
(after two warm-up runs; none of them is in the table). --repeat R (3) runs R
interleaved rounds (lure, rsyslog, each over HTTP and TLS) and the ratio
table gives medians over them; --base-shipbench PATH (and --variant NAME=PATH,
repeatable) add other builds of shipbench (an earlier lure, a different TLS
configuration) to each round over TLS, with their ratios to rsyslog and to
the base.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "test" / "es"))
from node import Node  # noqa: E402

TEMPLATE = ROOT / "etc" / "es" / "lure-template.json"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
RSYSLOGD = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
CLK_TCK = os.sysconf("SC_CLK_TCK")

BATCH = 1000                # events per bulk request, both shippers
LURE_BATCH_BYTES = 4 << 20  # so that 1000 events always fit (lure's default: 512 KiB)
LURE_OUTBOX = 4 << 20       # lure's in-memory queue (its default: 1 MiB)
RS_MAIN_QUEUE = 2000        # rsyslog's main queue, messages
RS_ACTION_QUEUE = 2000      # its action queue (linkedlist), messages: 4000 in all, ~4 MiB of
                            # lines like lure's outbox (2 batches in memory besides the one sent)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc=None, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# --- a byte-counting TCP forwarder ---------------------------------------------------------------

class CountingProxy:
    """127.0.0.1:port -> 127.0.0.1:target, counting the bytes each way."""

    def __init__(self, target):
        self.target = target
        self.up = self.down = self.conns = 0
        self.t_first = self.t_last_down = None
        self.lock = threading.Lock()
        self.srv = socket.socket()
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            try:
                u = socket.create_connection(("127.0.0.1", self.target))
            except OSError:
                c.close()
                continue
            for s in (c, u):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.lock:
                self.conns += 1
            threading.Thread(target=self._pump, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, False), daemon=True).start()

    def _pump(self, src, dst, up):
        buf = bytearray(1 << 18)
        mv = memoryview(buf)
        try:
            while True:
                n = src.recv_into(buf)
                if n <= 0:
                    break
                dst.sendall(mv[:n])
                now = time.monotonic()
                with self.lock:
                    if up:
                        self.up += n
                        if self.t_first is None:
                            self.t_first = now
                    else:
                        self.down += n
                        self.t_last_down = now
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        src.close()

    def close(self):
        self.closed = True
        self.srv.close()


# --- the TLS front ----------------------------------------------------------------------------------

def sh(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_pki(d):
    """A throwaway CA and an ECDSA P-256 server certificate for 127.0.0.1 / localhost."""
    sh("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=lure bench CA",
       "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
       cwd=d)
    (Path(d) / "server.ext").write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    sh("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
       "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost", cwd=d)
    sh("openssl", "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
       "-CAcreateserial", "-out", "server.pem", "-days", "2", "-sha256", "-extfile", "server.ext", cwd=d)
    return str(Path(d) / "ca.pem")


class Nginx:
    """A private nginx (own prefix, conf, pid, logs): TLS on 127.0.0.1:port, proxying to the node."""

    def __init__(self, d, node_port):
        self.d = Path(d)
        self.port = free_port()
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (self.d / sub).mkdir(parents=True, exist_ok=True)
        self.access = self.d / "logs" / "access.log"
        conf = f"""worker_processes 1;
pid {self.d}/nginx.pid;
error_log {self.d}/logs/error.log warn;
events {{ worker_connections 256; }}
http {{
  log_format bench '$ssl_protocol $ssl_cipher $request_length $bytes_sent $status';
  access_log {self.access} bench;
  client_body_temp_path {self.d}/body;
  proxy_temp_path {self.d}/proxy;
  fastcgi_temp_path {self.d}/fastcgi;
  uwsgi_temp_path {self.d}/uwsgi;
  scgi_temp_path {self.d}/scgi;
  upstream node {{ server 127.0.0.1:{node_port}; keepalive 8; }}
  server {{
    listen 127.0.0.1:{self.port} ssl;
    ssl_certificate {self.d}/server.pem;
    ssl_certificate_key {self.d}/server.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 256m;
    client_body_buffer_size 16m;
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    location / {{
      proxy_pass http://node;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_read_timeout 300s;
    }}
  }}
}}
"""
        (self.d / "nginx.conf").write_text(conf)
        self.proc = subprocess.Popen([NGINX, "-p", str(self.d), "-c", str(self.d / "nginx.conf"),
                                      "-e", str(self.d / "logs" / "error.log"), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if not wait_port(self.port, self.proc):
            err = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() is not None else ""
            self.stop()
            raise RuntimeError("nginx did not start: " + err)

    def log_size(self):
        try:
            return self.access.stat().st_size
        except OSError:
            return 0

    def tls_seen(self, since):
        """{protocol cipher: requests} from the access log after offset since."""
        seen = {}
        with open(self.access, "rb") as f:
            f.seek(since)
            for line in f.read().decode(errors="replace").splitlines():
                p = line.split()
                if len(p) >= 2:
                    k = f"{p[0]} {p[1]}"
                    seen[k] = seen.get(k, 0) + 1
        return seen

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)   # graceful
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- runs -------------------------------------------------------------------------------------------

def proc_cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK     # utime, stime (fields 14, 15)


def proc_status_kib(pid, key):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


class Bench:
    def __init__(self, args):
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="lure-shipbench-"))
        self.node = None
        self.nginx = None
        self.children = []
        self.runs = 0

    # each run: its own index (deleted after it has been counted) and its own counting proxy
    def count_until(self, index, n, proc=None, deadline=None):
        """Poll the node's count for index once a second until it reaches n (or proc fails or the
        deadline passes); returns the last count."""
        c = 0
        while True:
            if proc is not None and proc.poll() is not None and proc.returncode != 0:
                return c
            try:
                c = self.node.count(index)
            except Exception as e:   # noqa: BLE001 - a busy node may time out once
                log(f"count {index}: {e}")
            if c >= n or (deadline and time.monotonic() > deadline):
                return c
            time.sleep(1.0)

    def index_name(self):
        """A fresh index per run, all names of one length (the name is in every action line)."""
        self.runs += 1
        return f"lure-bench-{self.runs:03d}"

    def run_lure(self, name, url_for, n, ca=None, defaults=False, who="lure"):
        index = self.index_name()
        proxy = CountingProxy(url_for[1])
        url = f"{url_for[0]}://127.0.0.1:{proxy.port}"
        exe = (self.args.base_shipbench if who == "lure-base"
               else dict(self.args.variant).get(who[5:], self.args.shipbench))
        cmd = [exe, "-n", str(n), "-i", index, "-T", str(self.args.timeout)]
        if not defaults:   # else lure's own: outbox 1 MiB, 200 events / 512 KiB per request
            cmd += ["-b", str(BATCH), "-B", str(LURE_BATCH_BYTES), "-o", str(LURE_OUTBOX)]
        if ca:
            cmd += ["-a", ca]
        cmd.append(url)
        ng0 = self.nginx.log_size()
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.children.append(p)
        # poll the node's count meanwhile, as for rsyslog, so the node sees the same extra load
        stop = threading.Event()

        def poll_count():
            while not stop.wait(1.0):
                self._quiet_count(index)
        t = threading.Thread(target=poll_count, daemon=True)
        t.start()
        out, err = p.communicate()
        stop.set()
        t.join()
        self.children.remove(p)
        proxy.close()
        try:
            r = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            raise RuntimeError(f"shipbench failed ({p.returncode}): {out[-2000:]} {err[-2000:]}")
        final = self.node.count(index)
        res = {
            "who": "lure-defaults" if defaults else who, "name": name, "n": n, "count": final, "ok": r["ok"] and final == n,
            "wall_s": r["wall_s"], "events_per_s": r["events_per_s"],
            "cpu_s": r["ship_cpu_s"], "cpu_us": r["ship_cpu_us_per_event"],
            "rss_kib": r["vm_hwm_kib"], "up": proxy.up, "down": proxy.down, "conns": proxy.conns,
            "requests": r["requests"], "gen_cpu_s": r["gen_cpu_s"],
            "tls": self.nginx.tls_seen(ng0) if url_for[0] == "https" else {},
            "detail": r, "stderr": err.strip()[-1000:],
        }
        self.node.request("DELETE", f"/{index}")
        return res

    def _quiet_count(self, index):
        try:
            self.node.count(index)
        except Exception:   # noqa: BLE001
            pass

    def rsyslog_conf(self, d, infile, index, port, tls, ca, es=True, ids=False):
        if es:
            # ids: the same semantics as lure ("create" with _id = event.id), the id cut out of
            # the line with a regex (the first "id":"..." of a lure line is event.id)
            out = (f'action(type="omelasticsearch" server="127.0.0.1" serverport="{port}" '
                   f'template="lurejson" searchIndex="{index}" searchType="" bulkmode="on" '
                   + (f'usehttps="on" tls.cacert="{ca}" ' if tls else '')
                   + ('writeoperation="create" bulkid="lureid" dynbulkid="on" ' if ids else '') +
                   f'queue.type="linkedlist" queue.size="{RS_ACTION_QUEUE}" '
                   f'queue.dequeuebatchsize="{BATCH}" action.resumeRetryCount="-1" '
                   f'errorfile="{d}/es-errors.json")')
        else:
            out = (f'action(type="omfile" file="{d}/out.ndjson" template="lurejsonnl" '
                   f'queue.type="linkedlist" queue.size="{RS_ACTION_QUEUE}" '
                   f'queue.dequeuebatchsize="{BATCH}")')
        return f"""global(workDirectory="{d}/work" maxMessageSize="64k")
module(load="imfile" mode="inotify")
{'module(load="omelasticsearch")' if es else ''}
main_queue(queue.type="fixedarray" queue.size="{RS_MAIN_QUEUE}")
template(name="lurejson" type="string" string="%msg%")
template(name="lurejsonnl" type="string" string="%msg%\\n")
template(name="lureid" type="string" string="%msg:R,ERE,1,DFLT:\\"id\\":\\"([^\\"]+)\\"--end%")
input(type="imfile" file="{d}/in/events.ndjson" tag="lure" freshStartTail="off" ruleset="out")
ruleset(name="out") {{
  {out}
}}
"""

    def run_rsyslog(self, name, url_for, n, events, ca=None, es=True, ids=False):
        index = self.index_name()
        d = self.tmp / name
        (d / "work").mkdir(parents=True)
        (d / "in").mkdir()
        proxy = CountingProxy(url_for[1]) if es else None
        conf = d / "rsyslog.conf"
        conf.write_text(self.rsyslog_conf(d, events, index, proxy.port if proxy else 0,
                                          url_for[0] == "https", ca, es, ids))
        ng0 = self.nginx.log_size()
        p = subprocess.Popen([RSYSLOGD, "-n", "-f", str(conf), "-i", str(d / "rsyslogd.pid")],
                             stdout=subprocess.DEVNULL, stderr=open(d / "rsyslogd.log", "w"))
        self.children.append(p)
        try:
            for _ in range(100):
                if (d / "rsyslogd.pid").exists() or p.poll() is not None:
                    break
                time.sleep(0.05)
            time.sleep(1.0)  # up and idle
            if p.poll() is not None:
                raise RuntimeError("rsyslogd exited: " + (d / "rsyslogd.log").read_text()[-2000:])
            cpu0 = proc_cpu_s(p.pid)
            t0 = time.monotonic()
            os.link(events, d / "in" / "events.ndjson")   # the file appears: imfile starts reading
            deadline = t0 + self.args.timeout
            if es:
                c = self.count_until(index, n, p, deadline)
                t_end = proxy.t_last_down or time.monotonic()
            else:
                size = os.path.getsize(events)
                while time.monotonic() < deadline and p.poll() is None:
                    try:
                        if os.path.getsize(d / "out.ndjson") >= size:
                            break
                    except OSError:
                        pass
                    time.sleep(0.05)
                t_end = time.monotonic()
                c = sum(1 for _ in open(d / "out.ndjson", "rb")) if (d / "out.ndjson").exists() else 0
            time.sleep(0.2)
            cpu1 = proc_cpu_s(p.pid)
            hwm = proc_status_kib(p.pid, "VmHWM")
        finally:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
            self.children.remove(p)
            if proxy:
                proxy.close()
        final = self.node.count(index) if es else c
        wall = max(t_end - t0, 1e-9)
        cpu = cpu1 - cpu0
        errs = (d / "es-errors.json")
        res = {
            "who": ("rsyslog-ids" if ids else "rsyslog") if es else "rsyslog-file", "name": name, "n": n, "count": final,
            "ok": final == n, "wall_s": wall, "events_per_s": final / wall if final else 0,
            "cpu_s": cpu, "cpu_us": cpu * 1e6 / n, "rss_kib": hwm,
            "up": proxy.up if proxy else 0, "down": proxy.down if proxy else 0,
            "conns": proxy.conns if proxy else 0, "requests": None,
            "tls": self.nginx.tls_seen(ng0) if url_for[0] == "https" else {},
            "errorfile_bytes": errs.stat().st_size if errs.exists() else 0,
            "stderr": (d / "rsyslogd.log").read_text(errors="replace")[-1000:],
        }
        if es:
            self.node.request("DELETE", f"/{index}")
        shutil.rmtree(d, ignore_errors=True)
        return res

    def main(self):
        a = self.args
        try:
            log(f"ship_bench: tmp {self.tmp}")
            self.node = Node(java_opts=a.java_opts)
            self.node.start()
            st, r = self.node.request("PUT", "/_index_template/lure", TEMPLATE)
            if st != 200:
                raise RuntimeError(f"template: {st} {r}")
            node_port = self.node.port
            ca = make_pki(self.tmp)
            self.nginx = Nginx(self.tmp, node_port)
            http = ("http", node_port)
            https = ("https", self.nginx.port)

            # warm-up (JIT, caches) and calibration of N: lure over http and over TLS, rsyslog once
            log("warm-up ...")
            w = self.run_lure("warmup-http", http, a.warmup, None)
            w2 = self.run_lure("warmup-https", https, a.warmup, ca)
            # calibration on the warm node, over TLS (the slower way), with more events
            w3 = self.run_lure("warmup-calibrate", https, a.calibrate, ca)
            rate = w3["events_per_s"]
            n = a.n
            if not a.fixed_n:
                n = min(n, max(10000, int(rate * a.budget) // 10000 * 10000))
            log(f"warm-up: http {w['events_per_s']:.0f}, https {w2['events_per_s']:.0f} events/s; "
                f"calibration over https {rate:.0f} events/s: N = {n}")

            events = self.tmp / "events.ndjson"
            r = subprocess.run([a.shipbench, "-n", str(n), "-w", str(events)], capture_output=True,
                               text=True, check=True)
            gen = json.loads(r.stdout.strip().splitlines()[-1])
            lens = sorted(len(line) for line in open(events, "rb"))
            gen["p10"], gen["p50"], gen["p90"] = (lens[len(lens) // 10], lens[len(lens) // 2],
                                                 lens[len(lens) * 9 // 10])
            del lens
            k = min(n, a.warmup)
            wr = self.run_rsyslog("warmup-rsyslog", http, k, self._head(events, k))

            results = []
            plan = [("lure", "http"), ("rsyslog", "http"), ("lure", "https"), ("rsyslog", "https")]
            if a.base_shipbench:
                plan.insert(3, ("lure-base", "https"))
            for name, _ in a.variant:
                plan.insert(3, (f"lure-{name}", "https"))
            if a.tls_only:
                plan = [p for p in plan if p[1] == "https"]
            for rep in range(a.repeat):
                # interleaved: a round runs each shipper once, so load from elsewhere hits all alike
                for who, proto in plan:
                    name = f"{who}-{proto}-{rep}"
                    log(f"run {name}: N={n} ...")
                    uf = http if proto == "http" else https
                    if who.startswith("lure"):
                        res = self.run_lure(name, uf, n, ca if proto == "https" else None, who=who)
                    else:
                        res = self.run_rsyslog(name, uf, n, events, ca)
                    res["proto"] = proto
                    log(f"  {res['events_per_s']:.0f} ev/s, {res['cpu_us']:.2f} us/ev, "
                        f"{res['rss_kib']} KiB, count {res['count']}")
                    results.append(res)
            if a.extras:
                log(f"run lure-defaults-https: N={n} ...")
                res = self.run_lure("lure-defaults-https", https, n, ca, defaults=True)
                res["proto"] = "https"
                log(f"  {res['events_per_s']:.0f} ev/s, {res['cpu_us']:.2f} us/ev, "
                    f"{res['rss_kib']} KiB, count {res['count']}")
                results.append(res)
            if a.rsyslog_ids and a.extras:
                for proto in ("https",):
                    log(f"run rsyslog-ids-{proto}: N={n} ...")
                    res = self.run_rsyslog(f"rsyslog-ids-{proto}", https, n, events, ca, ids=True)
                    res["proto"] = proto
                    log(f"  {res['events_per_s']:.0f} ev/s, {res['cpu_us']:.2f} us/ev, "
                        f"{res['rss_kib']} KiB, count {res['count']}")
                    results.append(res)
            base = None
            if a.extras:
                log("run rsyslog-file (imfile -> omfile, no Elasticsearch) ...")
                base = self.run_rsyslog("rsyslog-file", http, n, events, None, es=False)
                base["proto"] = "-"
            self.report(n, gen, results, base, w, w2, wr)
            return 0 if all(r["ok"] for r in results) else 1
        finally:
            self.cleanup()

    def _head(self, events, k):
        p = self.tmp / "warmup.ndjson"
        with open(events, "rb") as f, open(p, "wb") as o:
            for i, line in enumerate(f):
                if i >= k:
                    break
                o.write(line)
        return p

    def report(self, n, gen, results, base, w, w2, wr):
        cpu_model = "?"
        try:
            for line in open("/proc/cpuinfo"):
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        load = os.getloadavg()
        print(f"# lure shipper vs rsyslog omelasticsearch, {datetime.datetime.now():%Y-%m-%d %H:%M}")
        print(f"# machine: {os.cpu_count()} CPUs, {cpu_model}, {platform.release()}; "
              f"load average now {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
        rs_ver = subprocess.run([RSYSLOGD, "-v"], capture_output=True, text=True).stdout.split("\n")[0].replace(" compiled with:", "")
        print(f"# node: OpenSearch 2.19 (test/es/node.py, java {self.args.java_opts}); {rs_ver.strip()}")
        print(f"# N = {n} events per run, lines avg {gen['avg_line']:.0f} B (p10 {gen['p10']}, "
              f"p50 {gen['p50']}, p90 {gen['p90']}); {BATCH} events per bulk request for both; "
              f"lure outbox {LURE_OUTBOX >> 20} MiB, rsyslog queues main {RS_MAIN_QUEUE} / action "
              f"{RS_ACTION_QUEUE} msgs")
        print("# lure-defaults: lure's own settings (outbox 1 MiB, 200 events / 512 KiB per request); "
              "rsyslog-ids: rsyslog with lure's semantics (create, _id = event.id cut out by a regex); "
              "rsyslog-file: rsyslog's input alone (imfile -> omfile, same queues)")
        print("# CPU: lure = shipper only (event building measured and subtracted); rsyslog = whole "
              "rsyslogd (reading the file included). Peak RSS = VmHWM. Bytes: TCP payload through a "
              "counting forwarder")
        print()
        hdr = (f"{'run':<20} {'events/s':>9} {'CPU us/ev':>10} {'CPU s':>7} {'peak RSS':>10} "
               f"{'B/ev up':>8} {'B/ev down':>9} {'conns':>5} {'count':>9}")
        print(hdr)
        print("-" * len(hdr))
        for r in results + ([base] if base else []):
            print(f"{r['who'] + '/' + r['proto']:<20} {r['events_per_s']:>9.0f} {r['cpu_us']:>10.2f} "
                  f"{r['cpu_s']:>7.2f} {r['rss_kib'] / 1024:>7.1f} MiB "
                  f"{r['up'] / r['n']:>8.1f} {r['down'] / r['n']:>9.1f} {r['conns']:>5} "
                  f"{r['count']:>9}{'' if r['ok'] else '  MISMATCH'}")
        print()
        keys = ("events_per_s", "cpu_us", "rss_kib", "up")

        def mean(who, proto):
            """The median of each measure over the rounds (the name is kept from when it was a
            mean: with other work on the machine, one slow round should not move the result)."""
            rs = [r for r in results if r["who"] == who and r["proto"] == proto]
            return {k: statistics.median(r[k] for r in rs) for k in keys} if rs else None

        rounds = self.args.repeat
        print(f"{'ratio lure/rsyslog':<24} {'events/s':>9} {'CPU/ev':>8} {'peak RSS':>9} {'B/ev up':>8}   goal"
              f"  (medians of {rounds} interleaved round{'s' if rounds > 1 else ''})")
        for who, proto, label in (("rsyslog", "https", "over TLS"), ("rsyslog", "http", "plain HTTP"),
                                  ("rsyslog-ids", "https", "over TLS, rsyslog-ids"),
                                  ("rsyslog", "https", "over TLS, lure-defaults")):
            L, R = mean("lure-defaults" if label.endswith("lure-defaults") else "lure", proto), mean(who, proto)
            if not L or not R:
                continue
            cpu_r = L["cpu_us"] / R["cpu_us"]
            rss_r = L["rss_kib"] / R["rss_kib"]
            goal = (f"CPU <= 0.5x {'met' if cpu_r <= 0.5 else 'NOT met'}, "
                    f"RSS <= 0.1x {'met' if rss_r <= 0.1 else 'NOT met'}")
            print(f"{label:<24} {L['events_per_s'] / R['events_per_s']:>8.2f}x {cpu_r:>7.2f}x "
                  f"{rss_r:>8.3f}x {L['up'] / R['up']:>7.2f}x   {goal}")
        B, R = mean("lure-base", "https"), mean("rsyslog", "https")
        for name in ["lure"] + [f"lure-{v}" for v, _ in self.args.variant]:
            L = mean(name, "https")
            if L and name != "lure" and R:
                print(f"{'over TLS, ' + name:<24} {L['events_per_s'] / R['events_per_s']:>8.2f}x "
                      f"{L['cpu_us'] / R['cpu_us']:>7.2f}x {L['rss_kib'] / R['rss_kib']:>8.3f}x "
                      f"{L['up'] / R['up']:>7.2f}x   (against rsyslog)")
            if L and B:
                print(f"{'over TLS, ' + name + '/base':<24} {L['events_per_s'] / B['events_per_s']:>8.2f}x "
                      f"{L['cpu_us'] / B['cpu_us']:>7.2f}x {L['rss_kib'] / B['rss_kib']:>8.3f}x "
                      f"{L['up'] / B['up']:>7.2f}x   (lure-base: {self.args.base_shipbench})")
        for proto in ("https", "http"):
            L, R = mean("lure", proto), mean("rsyslog", proto)
            if L and R and base and R["cpu_us"] > base["cpu_us"]:
                ex = R["cpu_us"] - base["cpu_us"]
                print(f"  {proto}: rsyslog without its file input ({R['cpu_us']:.2f} - {base['cpu_us']:.2f} "
                      f"us/ev of imfile->omfile = {ex:.2f}): lure CPU/ev {L['cpu_us'] / ex:.2f}x of that")
        print()
        for r in results:
            if r["tls"]:
                print(f"TLS seen by nginx, {r['who']}/{r['proto']}: "
                      + ", ".join(f"{k} x{v}" for k, v in r["tls"].items()))
        for r in results:
            if r["who"].startswith("lure"):
                print(f"{r['who']}/{r['proto']}: {r['requests']} bulk requests, event generation "
                      f"{r['gen_cpu_s']:.2f} CPU s excluded, wall {r['wall_s']:.1f} s")
            else:
                print(f"{r['who']}/{r['proto']}: wall {r['wall_s']:.1f} s (file appears -> last response), "
                      f"errorfile {r.get('errorfile_bytes', 0)} B")
            if not r["ok"]:
                print(f"  MISMATCH: node count {r['count']} != N {r['n']}; stderr: {r['stderr']}")
        print(f"warm-up: lure http {w['events_per_s']:.0f} ev/s {w['cpu_us']:.2f} us/ev, lure https "
              f"{w2['events_per_s']:.0f} ev/s {w2['cpu_us']:.2f} us/ev, rsyslog http "
              f"{wr['events_per_s']:.0f} ev/s {wr['cpu_us']:.2f} us/ev ({self.args.warmup} events; "
              f"not in the table)")
        sys.stdout.flush()

    def cleanup(self):
        for p in list(self.children):
            if p.poll() is None:
                p.kill()
                p.wait()
        if self.nginx:
            self.nginx.stop()
        if self.node:
            self.node.close()
        if not self.args.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=1_000_000, help="events per run (upper bound)")
    ap.add_argument("--fixed-n", action="store_true", help="use --n as is, no calibration")
    ap.add_argument("--budget", type=float, default=60.0,
                    help="target seconds for one lure run when choosing N")
    ap.add_argument("--warmup", type=int, default=20000, help="events in each warm-up run")
    ap.add_argument("--calibrate", type=int, default=50000,
                    help="events in the run over TLS that sets N (after the warm-ups)")
    ap.add_argument("--repeat", type=int, default=3, help="interleaved rounds (the table gives medians)")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds before a run gives up")
    ap.add_argument("--shipbench", default=str(ROOT / "build" / "bench" / "shipbench"))
    ap.add_argument("--java-opts", default="-Xms1g -Xmx1g", help="the node's JVM options")
    ap.add_argument("--no-rsyslog-ids", dest="rsyslog_ids", action="store_false",
                    help="skip the extra rsyslog run with lure's semantics (create, _id = event.id)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--base-shipbench", help="another shipbench (an earlier lure) to run in each "
                    "round over TLS beside this one, as lure-base")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=PATH",
                    type=lambda v: tuple(v.split("=", 1)),
                    help="one more shipbench to run in each round over TLS, as lure-NAME")
    ap.add_argument("--tls-only", action="store_true", help="rounds over TLS only")
    ap.add_argument("--no-extras", dest="extras", action="store_false",
                    help="skip the single runs after the rounds (lure-defaults, rsyslog-ids, rsyslog-file)")
    args = ap.parse_args()
    for tool in (NGINX, RSYSLOGD, shutil.which("openssl")):
        if not tool or not os.access(tool, os.X_OK):
            sys.exit(f"ship_bench: missing {tool}: run sh test/bench/ship.sh (installs them)")
    if not os.access(args.shipbench, os.X_OK):
        sys.exit(f"ship_bench: {args.shipbench}: not built (sh test/bench/ship.sh builds it)")
    b = Bench(args)
    for s in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(s, lambda *_: sys.exit(3))
    sys.exit(b.main())


if __name__ == "__main__":
    main()
