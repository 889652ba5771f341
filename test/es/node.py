"""A real OpenSearch 2.19 node for lure's pytest suites (stdlib only); with ES_FLAVOR=es7 in the
environment, an Elasticsearch 7.17 node instead (no x-pack: no data streams; see FLAVOR, DATA_STREAMS).

    from node import Node              # sys.path: test/es
    n = Node()                         # nothing runs yet
    n.start()                          # free port, fresh data dir; returns n.url
    n.request("PUT", "/_index_template/lure", Path("etc/es/lure-template.json"))
    n.bulk(ndjson_bytes)               # -> (status, parsed response)
    n.count("lure-*")                  # refreshes first
    n.stop(); time.sleep(60); n.start()    # same port, same data (kept), same settings
    n2 = Node().start({"thread_pool.write.queue_size": 1, "http.max_content_length": "2kb"})
    n.close(); n2.close()              # stop and delete data dirs this object created

The node runs through test/es/es.sh (which installs java/maven when missing and builds once), as its own
process (setsid), bound to 127.0.0.1 only. Every Node started in this interpreter is stopped at exit.
"""
import atexit
import json
import os
import shutil
import random
import signal
import socket
import subprocess
import tempfile
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from workers import worker_share  # noqa: E402  (pytest-xdist port shares)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ES_SH = HERE / "es.sh"
# "opensearch" (default) or "es7"; es.sh reads the same variable from the environment
FLAVOR = os.environ.get("ES_FLAVOR") or "opensearch"
if FLAVOR not in ("opensearch", "es7"):
    raise ValueError(f"ES_FLAVOR={FLAVOR!r}: want opensearch or es7")
BUILD = Path(os.environ.get("ES_BUILD_DIR", ROOT / "build" / ("es" if FLAVOR == "opensearch" else "es7")))
# data streams come with x-pack in Elasticsearch, and x-pack is not on Maven Central
DATA_STREAMS = FLAVOR != "es7"

_live = set()


class JavaUnavailable(RuntimeError):
    """java/javac/mvn are missing and could not be installed (es.sh exit 4)."""


class NodeError(RuntimeError):
    pass


def free_port():
    """A free port in 61000..64999: above Linux's ephemeral range (32768..60999) and above every port
    the suites give lure (port_offset + persona port < 61000), so a stopped node's port is never
    taken by a sensor that would then ship its events to itself. Under pytest-xdist, each worker
    draws from its own share of that range: a node one worker stopped keeps its port free.
    ES_NODE_PORTS=lo-hi narrows the range (make test gives the deployment suite, which runs beside
    the shipping suites, a range of its own)."""
    lo, hi = (int(x) for x in os.environ.get("ES_NODE_PORTS", "61000-64999").split("-"))
    lo, hi = worker_share(lo, hi + 1)
    for _ in range(300):
        port = random.randrange(lo, hi)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise NodeError(f"no free port in {lo}..{hi - 1}")


def build():
    """Install java/maven if missing and build the launcher (cached). Raises JavaUnavailable/NodeError."""
    r = subprocess.run(["bash", str(ES_SH), "build"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True)
    if r.returncode == 4:
        raise JavaUnavailable(r.stdout.strip()[-2000:])
    if r.returncode != 0:
        raise NodeError("es.sh build failed:\n" + r.stdout[-4000:])


def _settings_args(settings):
    out = []
    for k, v in (settings or {}).items():
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (list, tuple)):
            v = ",".join(str(x) for x in v)
        out.append(f"{k}={v}")
    return out


class Node:
    def __init__(self, port=None, data_dir=None, settings=None, timeout=120, java_opts=None):
        self.port = port
        self.settings = dict(settings or {})
        self.timeout = timeout
        self.java_opts = java_opts          # default: es.sh's -Xms256m -Xmx512m
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else None
        self.url = None
        self.startup_seconds = None
        self.paused_pid = None

    # --- life cycle -----------------------------------------------------------------------------------
    def _env(self):
        env = dict(os.environ)
        env["ES_FLAVOR"] = FLAVOR
        env["ES_NODE_DIR"] = str(self.data_dir)
        env["ES_TIMEOUT"] = str(self.timeout)
        if self.java_opts:
            env["ES_JAVA_OPTS"] = self.java_opts
        return env

    def start(self, settings=None, port=None):
        """Start (or restart) the node; returns its URL. settings=None keeps the previous settings, a dict
        replaces them; port=None keeps the previous port or picks a free one. The data dir is kept."""
        if settings is not None:
            self.settings = dict(settings)
        if port is not None:
            self.port = port
        if self.port is None:
            self.port = free_port()
        if self.data_dir is None:
            BUILD.mkdir(parents=True, exist_ok=True)
            self.data_dir = Path(tempfile.mkdtemp(prefix=f"py-node-{self.port}-", dir=BUILD))
        t0 = time.monotonic()
        r = subprocess.run(["bash", str(ES_SH), "up", str(self.port)] + _settings_args(self.settings),
                           env=self._env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if r.returncode == 4:
            raise JavaUnavailable(r.stderr.strip()[-2000:])
        if r.returncode != 0:
            raise NodeError(f"es.sh up {self.port} failed ({r.returncode}):\n{r.stderr[-4000:]}")
        self.url = r.stdout.strip().splitlines()[-1]
        self.startup_seconds = time.monotonic() - t0
        _live.add(self)
        return self.url

    def pid(self):
        try:
            pid = int((self.data_dir / "pid").read_text().strip())
            os.kill(pid, 0)
            return pid
        except (OSError, ValueError, TypeError, AttributeError):
            return None

    def running(self):
        return self.pid() is not None

    def stop(self):
        """Graceful stop (SIGTERM, SIGKILL after 30 s); data kept, same port/settings on the next start()."""
        if self.data_dir is not None and self.port is not None:
            subprocess.run(["bash", str(ES_SH), "down", str(self.port)], env=self._env(),
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _live.discard(self)

    def kill(self):
        """SIGKILL, as a crash would (data kept; the next start() recovers the translog)."""
        pid = self.pid()
        if pid:
            if self.paused_pid == pid:
                os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGKILL)
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except OSError:
                    break
                time.sleep(0.05)
            (self.data_dir / "pid").unlink(missing_ok=True)
        _live.discard(self)

    def pause(self):
        """SIGSTOP: the port still accepts TCP connections (kernel backlog) but nothing answers."""
        pid = self.pid()
        if pid:
            os.kill(pid, signal.SIGSTOP)
            self.paused_pid = pid

    def resume(self):
        if self.paused_pid:
            os.kill(self.paused_pid, signal.SIGCONT)
            self.paused_pid = None

    def close(self):
        """Stop, and delete the data dir if this object created it."""
        self.resume()
        self.stop()
        if self._own_dir and self.data_dir is not None:
            shutil.rmtree(self.data_dir, ignore_errors=True)
            self.data_dir = None

    def __enter__(self):
        if not self.running():
            self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def log(self):
        try:
            return (self.data_dir / "node.log").read_text(errors="replace")
        except (OSError, TypeError):
            return ""

    def rss_kib(self):
        pid = self.pid()
        if not pid:
            return None
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return None

    # --- HTTP ------------------------------------------------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30, raw=False):
        """-> (status, body). body: dict/list -> JSON; str/bytes sent as is (NDJSON: use bulk() or pass
        headers={"Content-Type": "application/x-ndjson"}); a Path is read. The response is parsed as JSON when it is JSON (raw=False).
        HTTP errors are returned, not raised; connection errors raise OSError."""
        if self.url is None:
            raise NodeError("node not started")
        hdrs = {}
        data = None
        if isinstance(body, Path):
            body = body.read_bytes()
        if isinstance(body, (dict, list)):
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        elif isinstance(body, str):
            data = body.encode()
            hdrs["Content-Type"] = "application/json"
        elif isinstance(body, (bytes, bytearray)):
            data = bytes(body)
            hdrs["Content-Type"] = "application/json"
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(req, timeout=timeout) as r:
                status, payload, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, payload, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        if raw:
            return status, payload
        if "json" in ctype and payload:
            return status, json.loads(payload)
        return status, payload.decode("utf-8", "replace")

    def bulk(self, ndjson, index=None, refresh=None, timeout=60):
        """POST _bulk with NDJSON bytes/str, or a list of dicts (action, source, ...)."""
        if isinstance(ndjson, list):
            ndjson = "".join(json.dumps(x, separators=(",", ":")) + "\n" for x in ndjson)
        if isinstance(ndjson, str):
            ndjson = ndjson.encode()
        path = (f"/{index}" if index else "") + "/_bulk"
        if refresh is not None:
            path += "?refresh=" + ("true" if refresh is True else str(refresh))
        return self.request("POST", path, ndjson, {"Content-Type": "application/x-ndjson"}, timeout=timeout)

    def put_template(self, name, template):
        """PUT _index_template/<name> from a dict or a JSON file path."""
        body = json.loads(Path(template).read_text()) if isinstance(template, (str, Path)) else template
        st, r = self.request("PUT", f"/_index_template/{name}", body)
        if st != 200:
            raise NodeError(f"PUT _index_template/{name}: {st} {r}")
        return r

    def refresh(self, index_pattern="_all"):
        q = "?ignore_unavailable=true&allow_no_indices=true&expand_wildcards=all"
        return self.request("POST", f"/{index_pattern}/_refresh{q}")

    def count(self, index_pattern="_all", query=None, refresh=True):
        if refresh:
            self.refresh(index_pattern)
        body = {"query": query} if query else None
        st, r = self.request("POST", f"/{index_pattern}/_count?ignore_unavailable=true&allow_no_indices=true",
                             body)
        if st != 200:
            raise NodeError(f"_count {index_pattern}: {st} {r}")
        return r["count"]

    def search(self, index_pattern="_all", body=None, refresh=True, **params):
        """POST <pattern>/_search; body is the search body (query, aggs, size...). Returns the parsed response."""
        if refresh:
            self.refresh(index_pattern)
        qs = {"ignore_unavailable": "true", "allow_no_indices": "true"}
        qs.update({k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()})
        st, r = self.request("POST", f"/{index_pattern}/_search?" + urllib.parse.urlencode(qs), body or {})
        if st != 200:
            raise NodeError(f"_search {index_pattern}: {st} {r}")
        return r

    def health(self, wait_for_status="yellow", timeout="30s"):
        return self.request("GET", f"/_cluster/health?wait_for_status={wait_for_status}&timeout={timeout}")[1]

    def __repr__(self):
        return f"Node(url={self.url!r}, data_dir={str(self.data_dir)!r})"


@atexit.register
def _stop_all():
    for n in list(_live):
        try:
            n.resume()
            n.stop()
        except Exception:
            pass
