"""Shipping tests: the real lure binary shipping to a real OpenSearch 2.19 node.

    python3 -m pytest -q test/ship            (LURE_BIN defaults to build/ship/lure)
    ES_FLAVOR=es7 python3 -m pytest -q test/ship      the same against Elasticsearch 7.17 (tests
                                              marked needs_data_streams are skipped: no x-pack)

LURE_BIN names the binary under test (relative to the repository root or
absolute); when it is unset, `make B=build/ship` builds (or refreshes)
build/ship/lure and that is tested. The node comes from test/es/node.py (java/maven are installed by
test/es/es.sh when missing; the tests are skipped only when that fails).
Only 127.0.0.0/8 is ever used.

Building blocks (see each docstring):
  start_node(settings)        a started Node with a small heap (stop with close())
  shared_node                 one node for the whole session (template "lure" state is
                              whatever the last test left: tests that care reset it)
  sensor(...)                 starts lure with an elasticsearch section, returns a Sensor
  connect_banner(...)         one connection to the banner port (open/request/close events)
  node_ids(node, pattern)     every document's _id (scroll), duplicates kept
  assert_exactly_once(...)    "0 lost, 0 duplicated": every event.id of the output file(s)
                              is in the node exactly once, and nothing else is
  assert_counted_once(s)      every event in exactly one final state (or still queued):
                              accepted + recovered = shipped + dropped + dead_lettered + queued
  TcpProxy                    a threaded TCP forwarder (optionally delaying responses)
"""
import collections
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "es"))
from node import DATA_STREAMS, FLAVOR, JavaUnavailable, Node, NodeError, build  # noqa: E402, F401

sys.path.insert(0, str(REPO / "test"))
from workers import worker_share  # noqa: E402  (pytest-xdist port shares)

# ES_FLAVOR=es7: Elasticsearch 7.17 from Maven Central has no x-pack, so no data streams
needs_data_streams = pytest.mark.skipif(not DATA_STREAMS, reason="data streams need x-pack, not on Maven Central")

TEMPLATE = REPO / "etc" / "es" / "lure-template.json"
DS_TEMPLATE = REPO / "etc" / "es" / "lure-datastream-template.json"
# small heap, quick start (the JIT's first tier is plenty for a test node)
JAVA_OPTS = "-Xms128m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
BANNER = 21          # persona port of the banner emulator (generic persona)
HTTP = 80


# --- the binary -------------------------------------------------------------------------------------

_bin = None


def lure_bin():
    global _bin
    if _bin:
        return _bin
    env = os.environ.get("LURE_BIN")
    p = Path(env or "build/ship/lure")
    if not p.is_absolute():
        p = REPO / p
    if not env:  # the default binary follows the tree: make is a no-op when it is current
        r = subprocess.run(["make", "-C", str(REPO), "B=build/ship", "-j2"], capture_output=True,
                           text=True)
        if r.returncode != 0:
            pytest.exit(f"make B=build/ship failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}", returncode=2)
    if not os.access(p, os.X_OK):
        pytest.exit(f"LURE_BIN={p}: not an executable", returncode=2)
    _bin = str(p)
    return _bin


# --- nodes ------------------------------------------------------------------------------------------

def start_node(settings=None, port=None):
    """A started node (skips the test when java cannot be installed). The caller close()s it."""
    try:
        build()
    except JavaUnavailable as e:
        pytest.skip(f"java/maven missing and not installable: {e}")
    n = Node(java_opts=JAVA_OPTS, settings=settings, port=port)
    try:
        n.start()
    except NodeError:
        # a free port taken in between: one more try on another port
        if port is not None:
            raise
        n.close()
        n = Node(java_opts=JAVA_OPTS, settings=settings)
        n.start()
    return n


@pytest.fixture(scope="session")
def shared_node():
    n = start_node()
    yield n
    n.close()


# --- ports and clients ------------------------------------------------------------------------------

def _bindable(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((addr, port))
        s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def _udp_bindable(addr, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


_used = set()


def free_offset():
    """A port_offset in 20000..40000 with the persona's ports (21 23 80 8080 tcp, 161 udp) free."""
    lo, hi = worker_share(20000, 40000)
    for _ in range(300):
        off = random.randrange(lo, hi)
        if any(abs(off - u) < 50 for u in _used):
            continue
        if all(_bindable("127.0.0.1", p + off) for p in (21, 23, 80, 8080)) and \
                _udp_bindable("127.0.0.1", 161 + off):
            _used.add(off)
            return off
    raise RuntimeError("no free port offset")


def free_port(addr="127.0.0.1"):
    lo, hi = worker_share(41000, 60000)
    for _ in range(300):
        p = random.randrange(lo, hi)
        if p not in _used and _bindable(addr, p) and _udp_bindable(addr, p):
            _used.add(p)
            return p
    raise RuntimeError("no free port")


def connect_banner(port, payload=b"USER anonymous\r\n", src=None, timeout=5.0):
    """Connect to the banner port, read the banner, send payload, close. Returns the seconds from
    connect() to the first banner byte. Gives lure connection.open, request and connection.close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        if src:
            s.bind((src, 0))
        t0 = time.monotonic()
        s.connect(("127.0.0.1", port))
        b = s.recv(100)
        latency = time.monotonic() - t0
        assert b.startswith(b"220"), f"no banner from 127.0.0.1:{port}: {b!r}"
        if payload:
            s.sendall(payload)
            time.sleep(0.01)  # one read, one request event
        return latency
    finally:
        s.close()


class Traffic:
    """A background thread making banner connections every `interval` s until stop() (at most
    max_conns of them, so the load always ends). Errors are kept and raised by stop()."""

    def __init__(self, port, interval=0.2, max_conns=2000, payload=b"USER anonymous\r\n"):
        self.port, self.interval, self.max_conns, self.payload = port, interval, max_conns, payload
        self.count = 0
        self.errors = []
        self.latencies = []
        self._stop = threading.Event()
        self.t = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.t.start()
        return self

    def _run(self):
        while not self._stop.is_set() and self.count < self.max_conns:
            try:
                self.latencies.append(connect_banner(self.port, self.payload))
                self.count += 1
            except Exception as e:  # noqa: BLE001 - reported by stop()
                self.errors.append(repr(e))
                if len(self.errors) > 20:
                    return
            self._stop.wait(self.interval)

    def stop(self, allow_errors=False):
        self._stop.set()
        self.t.join(30)
        assert allow_errors or not self.errors, f"traffic errors: {self.errors[:5]}"
        return self.count


def wait_until(pred, timeout, what, step=0.2):
    end = time.monotonic() + timeout
    while True:
        r = pred()
        if r:
            return r
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


# --- events -----------------------------------------------------------------------------------------

def parse_file(path):
    """Events of an NDJSON file (a trailing partial line, still being written, is ignored)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return []
    lines = data.split(b"\n")
    lines.pop()
    out = []
    for i, l in enumerate(lines):
        try:
            out.append(json.loads(l))
        except ValueError as e:
            pytest.fail(f"{path} line {i + 1}: not JSON ({e}): {l[:300]!r}")
    return out


def get(ev, dotted, default=None):
    cur = ev
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def ids_of(events):
    return [get(e, "event.id") for e in events]


class Sensor:
    """One lure process. config: the full dict written to <name>.json."""

    def __init__(self, tmp_path, name, config, out=None, args=()):
        self.dir = Path(tmp_path)
        self.name = name
        self.config = config
        self.args = list(args)
        self.out = Path(out) if out else self.dir / f"{name}.ndjson"
        self.proc = None

    def start(self, wait=True):
        self.config.setdefault("output", {})["file"] = str(self.out)
        self.cfg_path = self.dir / f"{self.name}.json"
        self.cfg_path.write_text(json.dumps(self.config, indent=1))
        self.err_path = self.dir / f"{self.name}.stderr"
        self._err = open(self.err_path, "ab")
        self.events_at_start = len(parse_file(self.out))
        # the default spool (elasticsearch.spool.path unset) is $STATE_DIRECTORY/spool: one per sensor
        self.state_dir = self.dir / f"{self.name}.state"
        self.state_dir.mkdir(exist_ok=True)
        env = dict(os.environ, STATE_DIRECTORY=str(self.state_dir))
        self.proc = subprocess.Popen([lure_bin(), "-c", str(self.cfg_path)] + self.args, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self._err, env=env)
        if wait:
            self.wait_event(lambda e: get(e, "event.reason") == "start", 5, "the start status event")
        return self

    # identity / ports
    @property
    def offset(self):
        return self.config["port_offset"]

    @property
    def banner_port(self):
        return BANNER + self.offset

    @property
    def http_port(self):
        return HTTP + self.offset

    @property
    def sensor_id(self):
        return self.config["sensor_id"]

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            return self.err_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    # output
    def events(self):
        return parse_file(self.out)

    def run_events(self):
        """Events written by this process (the file may hold an earlier run's events)."""
        return self.events()[self.events_at_start:]

    def ids(self):
        return ids_of(self.events())

    def wait_event(self, pred, timeout, what):
        def find():
            for e in self.run_events():
                if pred(e):
                    return e
            if not self.alive():
                pytest.fail(f"lure {self.name} exited (rc={self.proc.poll()}) waiting for {what}:\n"
                            f"{self.stderr()[-3000:]}")
            return None
        return wait_until(find, timeout, f"{what} from lure {self.name}", step=0.05)

    def ship_errors(self):
        return [get(e, "error.message") for e in self.run_events()
                if get(e, "event.reason") == "ship_error"]

    def status(self, timeout=5):
        """SIGUSR1 -> the new "stats" status event."""
        before = len([e for e in self.run_events() if get(e, "event.reason") == "stats"])
        os.kill(self.proc.pid, signal.SIGUSR1)

        def find():
            s = [e for e in self.run_events() if get(e, "event.reason") == "stats"]
            return s[before] if len(s) > before else None
        return wait_until(find, timeout, "the stats status event", step=0.05)

    def stop(self, timeout=20):
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                pytest.fail(f"lure {self.name} did not stop within {timeout}s of SIGTERM")
        return self.proc.returncode

    def kill9(self):
        assert self.alive(), f"lure {self.name} died:\n{self.stderr()[-2000:]}"
        self.proc.kill()
        self.proc.wait()

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc:
            self._err.close()


def es_section(url, index, **over):
    es = {"url": url, "index": index, "flush_ms": 200, "retry_max_ms": 2000, "timeout_ms": 10000}
    es.update(over)
    return es


@pytest.fixture
def sensor(tmp_path):
    """sensor(name, url, index, es={...extra elasticsearch keys}, config={...top-level}, start=True,
    args=[...extra command line]); url None: no elasticsearch.url in the config."""
    made = []

    def make(name, url, index, es=None, config=None, start=True, offset=None, out=None, args=()):
        cfg = {
            "sensor_id": f"{name}-{random.randrange(1 << 30):08x}",
            "listen": ["127.0.0.1"],
            "port_offset": offset if offset is not None else free_offset(),
            "run_as_root": True,
            "limits": {"idle_timeout": 10, "session_timeout": 60},
            "elasticsearch": es_section(url, index, **(es or {})),
        }
        for k, v in (config or {}).items():
            cfg[k] = v
        if url is None:
            del cfg["elasticsearch"]["url"]
        s = Sensor(tmp_path, name, cfg, out=out, args=args)
        made.append(s)
        if start:
            s.start()
        return s

    yield make
    for s in made:
        s.close()


# --- what the node holds ----------------------------------------------------------------------------

def node_ids(node, pattern):
    """Every document's _id in pattern (duplicates across indices kept), via scroll."""
    node.refresh(pattern)
    for _ in range(2):
        st, r = node.request("POST", f"/{pattern}/_search?scroll=1m&ignore_unavailable=true"
                                     f"&allow_no_indices=true&expand_wildcards=all",
                             {"size": 5000, "_source": False, "query": {"match_all": {}}})
        if st != 503:
            break
        # an index lure has just created, its shard not started yet (a busy machine): wait for it
        node.request("GET", f"/_cluster/health/{pattern}?wait_for_status=yellow&timeout=30s"
                            f"&expand_wildcards=all", timeout=40)
        node.refresh(pattern)
    assert st == 200, f"search {pattern}: {st} {r}"
    out = []
    sid = r.get("_scroll_id")
    while True:
        hits = r["hits"]["hits"]
        out += [h["_id"] for h in hits]
        if not hits or not sid:
            break
        st, r = node.request("POST", "/_search/scroll", {"scroll": "1m", "scroll_id": sid})
        assert st == 200, f"scroll: {st} {r}"
        sid = r.get("_scroll_id")
    if sid:
        node.request("DELETE", "/_search/scroll", {"scroll_id": sid})
    return out


def node_count(node, pattern):
    return node.count(pattern)


def wait_landed(node, pattern, want_ids, timeout=30):
    """Wait until every id of want_ids is in the node; returns the node's ids (list)."""
    want = set(want_ids)
    last = []

    def ok():
        nonlocal last
        last = node_ids(node, pattern)
        return want <= set(last)
    end = time.monotonic() + timeout
    while not ok():
        if time.monotonic() > end:
            missing = sorted(want - set(last))
            pytest.fail(f"{len(missing)} of {len(want)} events not in {pattern} after {timeout}s "
                        f"(node holds {len(last)}); first missing: {missing[:5]}")
        time.sleep(0.3)
    return last


def assert_exactly_once(node, pattern, sensors_or_files, timeout=30, exclude=()):
    """0 lost, 0 duplicated: every event.id written to the output files is in the node exactly
    once, the node's count equals its number of distinct ids, and the node holds nothing else
    (ids in `exclude`, e.g. dead-lettered events, must not be there at all). Returns the id set."""
    def file_ids():
        ids = []
        for s in sensors_or_files:
            ids += ids_of(parse_file(s.out if isinstance(s, Sensor) else s))
        return ids
    fids = file_ids()
    assert len(fids) == len(set(fids)), "an event.id appears twice in lure's own output"
    want = set(fids) - set(exclude)
    got = wait_landed(node, pattern, want, timeout)
    time.sleep(0.5)  # anything still in flight would show up as an extra id
    got = node_ids(node, pattern)
    dup = [i for i, c in collections.Counter(got).items() if c > 1]
    assert not dup, f"{len(dup)} events are in {pattern} more than once: {dup[:5]}"
    assert node_count(node, pattern) == len(set(got))
    later = set(file_ids())  # events written meanwhile (status events) may have landed too
    extra = set(got) - later
    assert not extra, f"{len(extra)} documents in {pattern} that lure never wrote: {sorted(extra)[:5]}"
    bad = set(got) & set(exclude)
    assert not bad, f"{len(bad)} events landed that should not have: {sorted(bad)[:5]}"
    missing = want - set(got)
    assert not missing
    return set(got)


def counters(st):
    """(accepted + recovered, shipped + ship_dropped + dead_lettered + queued) of a status event."""
    ev, sh = st["lure"]["events"], st["lure"]["ship"]
    return (ev["accepted"] + sh["recovered"],
            ev["shipped"] + ev["ship_dropped"] + ev["dead_lettered"] + sh["queued"])


def assert_counted_once(s, drained=False, timeout=30):
    """Every event the sensor made (and every line its spool held at start) is in exactly one of
    shipped, ship_dropped, dead_lettered and queued, in a fresh stats status event (SIGUSR1).
    drained: wait (up to timeout) until nothing is queued any more, then check. Returns the
    status event."""
    end = time.monotonic() + timeout
    while True:
        st = s.status()
        have, counted = counters(st)
        assert have == counted, f"lure {s.name}: accepted + recovered = {have}, but shipped + dropped + " \
                                f"dead_lettered + queued = {counted}: {st['lure']}"
        if not drained or st["lure"]["ship"]["queued"] == 0:
            return st
        assert time.monotonic() < end, f"lure {s.name}: still queued after {timeout}s: {st['lure']}"
        time.sleep(3.0)  # the stats event itself is queued: let it go (a slow node)


def today_indices(prefix):
    """prefix + UTC date for today and tomorrow (a test running over midnight)."""
    now = time.time()
    return [prefix + time.strftime("%Y.%m.%d", time.gmtime(now + d)) for d in (0, 86400)]


# --- a TCP forwarder --------------------------------------------------------------------------------

class TcpProxy:
    """Listens on (addr, port) and forwards each connection to (up_host, up_port). delay: seconds to
    hold each response (the first upstream bytes after the client sent something). Counts
    connections and remembers client addresses."""

    def __init__(self, up_port, addr="127.0.0.1", port=None, up_host="127.0.0.1", delay=0.0):
        self.up = (up_host, up_port)
        self.delay = delay
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind((addr, port or 0))
        self.ls.listen(64)
        self.addr, self.port = self.ls.getsockname()
        self.clients = []
        self.responses_delayed = 0
        self._closing = False
        self._socks = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self._closing:
            try:
                c, a = self.ls.accept()
            except OSError:
                return
            self.clients.append(a)
            try:
                u = socket.create_connection(self.up, timeout=5)
                u.settimeout(None)
            except OSError:
                c.close()
                continue
            self._socks += [c, u]
            flag = threading.Event()
            threading.Thread(target=self._pump, args=(c, u, flag, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, flag, True), daemon=True).start()

    def _pump(self, a, b, flag, is_response):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                if not is_response:
                    flag.set()
                elif self.delay and flag.is_set():
                    flag.clear()
                    self.responses_delayed += 1
                    time.sleep(self.delay)
                b.sendall(d)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self._closing = True
        self.ls.close()
        for s in self._socks:
            try:
                s.close()
            except OSError:
                pass
