"""Integration tests: the real lure binary on loopback.

LURE_BIN (required) is the binary under test; LURE_PERSONA names the persona it
was built with (its persona.conf is read from emu/personas/<name>/, or from
LURE_PERSONA_DIR). Only 127.0.0.0/8 and ::1 are ever used.

The `lure` fixture starts sensors: `s = lure({"limits": {"per_ip": 3}})`
merges the dict into a base config (both loopback addresses, a free random
port_offset, run_as_root, output to a file in tmp_path), waits for the "start"
status event and returns a Sensor. Every read of the output goes through
Sensor.events(), which fails the test unless every line is strict UTF-8 JSON.
"""
import errno
import json
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test"))
from workers import worker_share  # noqa: E402  (pytest-xdist port shares)
ADDRS = ("127.0.0.1", "::1")

# 1,000-connection tests: the test process holds one fd per client socket.
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
_want = 8192 if _hard == resource.RLIM_INFINITY else min(8192, _hard)
if _soft < _want:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_want, _hard))


def lure_bin():
    b = os.environ.get("LURE_BIN")
    if not b:
        pytest.exit("LURE_BIN must name the lure binary under test", returncode=2)
    p = Path(b)
    if not p.is_absolute():
        p = (Path.cwd() / p).resolve()
    if not os.access(p, os.X_OK):
        pytest.exit(f"LURE_BIN={b}: not an executable", returncode=2)
    return str(p)


# --- strict NDJSON ------------------------------------------------------------

def _no_dup_keys(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError(f"duplicate key {k!r}")
        d[k] = v
    return d


def _no_constants(name):
    raise ValueError(f"non-JSON constant {name}")


def parse_line(line, where="output"):
    """One NDJSON line (bytes, no newline) -> dict; fails the test on
    invalid UTF-8, invalid JSON, NaN/Infinity, duplicate keys, non-objects."""
    try:
        text = line.decode("utf-8")  # strict
        ev = json.loads(text, object_pairs_hook=_no_dup_keys,
                        parse_constant=_no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        pytest.fail(f"{where}: not a strict UTF-8 JSON line ({e}): {line[:400]!r}")
    if not isinstance(ev, dict):
        pytest.fail(f"{where}: line is not a JSON object: {line[:400]!r}")
    return ev


def parse_ndjson(data, where="output", complete=True):
    """Parse NDJSON bytes. complete=True: the data must end with a newline
    (nothing torn); otherwise a trailing partial line is ignored (a writer may
    be between two write() calls)."""
    lines = data.split(b"\n")
    tail = lines.pop()
    if complete and tail:
        pytest.fail(f"{where}: ends with a partial line: {tail[:400]!r}")
    return [parse_line(l, f"{where} line {i + 1}") for i, l in enumerate(lines)]


def get(ev, dotted, default=None):
    """get(ev, "source.ip") on nested events."""
    cur = ev
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


def match(ev, action=None, **fields):
    """fields use __ for dots: match(ev, "request", source__ip="::1")."""
    if action is not None and get(ev, "event.action") != action:
        return False
    for k, v in fields.items():
        if get(ev, k.replace("__", ".")) != v:
            return False
    return True


# --- persona / binary info ----------------------------------------------------

class Info:
    def __init__(self):
        self.bin = lure_bin()
        r = subprocess.run([self.bin, "-V"], capture_output=True, timeout=10)
        assert r.returncode == 0, r.stderr
        self.version_text = r.stdout.decode()
        self.version = self.persona = self.tls = None
        self.emulators = []
        self.ports = []  # (port, transport, emulator)
        for line in self.version_text.splitlines():
            w = line.split()
            if not w:
                continue
            if w[0] == "lure":
                self.version = w[1]
            elif w[0] == "persona":
                self.persona = w[1]
            elif w[0] == "tls":
                self.tls = w[1]
            elif w[0] == "emulators":
                self.emulators = w[1:]
            elif w[0] == "port":
                num, tr = w[1].split("/")
                self.ports.append((int(num), tr, w[2]))
        assert self.ports, f"lure -V lists no ports:\n{self.version_text}"

    def emu_of(self, port, transport="tcp"):
        for p, t, e in self.ports:
            if p == port and t == transport:
                return e
        return None

    def first(self, emulator, transport="tcp"):
        """The first persona port served by emulator, or None."""
        for p, t, e in self.ports:
            if e == emulator and t == transport:
                return p
        return None

    def persona_conf(self):
        d = os.environ.get("LURE_PERSONA_DIR")
        name = os.environ.get("LURE_PERSONA", self.persona)
        path = Path(d) if d else REPO / "emu" / "personas" / name
        return path / "persona.conf"


_info = None


def info():
    global _info
    if _info is None:
        _info = Info()
    return _info


@pytest.fixture(scope="session")
def lure_info():
    return info()


# --- ports --------------------------------------------------------------------

def _bindable(addr, port, kind):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(fam, kind)
    try:
        if kind == socket.SOCK_STREAM:  # as lure does (TIME_WAIT is no obstacle)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6:
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        s.bind((addr, port))
        if kind == socket.SOCK_STREAM:
            s.listen(1)
        return True
    except OSError:
        return False
    finally:
        s.close()


def port_free(port, transports=("tcp", "udp")):
    for a in ADDRS:
        for t in transports:
            if not _bindable(a, port, socket.SOCK_DGRAM if t == "udp" else socket.SOCK_STREAM):
                return False
    return True


_used_offsets = set()


def free_offset():
    """A random port_offset with every persona port free, all of them in
    2000..60999: test nodes live at 61000.. (test/es/node.py)."""
    top = max(p for p, _, _ in info().ports)
    lo, hi = worker_share(2000, min(40000, 61000 - top - 1))
    # offsets 100 apart, not reused while others are left (a stopped
    # sensor's ports may linger); a worker's share holds ~95 of them, and
    # one module (test_config.py) can take more: then reuse from scratch
    for _ in range(2):
        start = random.randrange(lo, hi)
        for k in range(0, hi - lo, 37):
            off = lo + (start - lo + k) % (hi - lo)
            if any(abs(off - u) < 100 for u in _used_offsets):
                continue
            # nmap never version-scans 9100-9107 (its Exclude line): a
            # persona port moved there would read as "jetdirect"
            if any(9100 <= p + off <= 9107 for p, _, _ in info().ports):
                continue
            if all(port_free(p + off, (t,)) for p, t, _ in info().ports):
                _used_offsets.add(off)
                return off
        _used_offsets.clear()
    raise RuntimeError("no free port offset")


def free_port(transports=("tcp",)):
    lo, hi = worker_share(41000, 60000)
    for _ in range(200):
        p = random.randrange(lo, hi)
        if port_free(p, transports):
            return p
    raise RuntimeError("no free port")


# --- clients ------------------------------------------------------------------

def tcp(port, host="127.0.0.1", src=None, timeout=3.0):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if src:
        s.bind((src, 0))
    s.connect((host, port))
    return s


def recv_until(s, needle, timeout=3.0):
    """Read until needle is in the data (or EOF / timeout); returns the data."""
    buf = b""
    end = time.monotonic() + timeout
    while needle not in buf:
        left = end - time.monotonic()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not d:
            break
        buf += d
    return buf


def recv_to_eof(s, timeout=3.0):
    """Read until the peer closes; returns (data, closed: bool)."""
    buf = b""
    end = time.monotonic() + timeout
    while True:
        left = end - time.monotonic()
        if left <= 0:
            return buf, False
        s.settimeout(left)
        try:
            d = s.recv(65536)
        except socket.timeout:
            return buf, False
        except (ConnectionResetError, BrokenPipeError):
            return buf, True
        if not d:
            return buf, True
        buf += d


def recv_into(c, got, until):
    """Read socket c into bytearray got until time.monotonic() reaches
    until: True if it is still open then, False once the peer closed."""
    while True:
        left = until - time.monotonic()
        if left <= 0:
            return True
        c.settimeout(left)
        try:
            d = c.recv(65536)
            if not d:
                return False
            got.extend(d)
        except socket.timeout:
            return True
        except OSError:
            return False


def kept_alive_close(port, request, timeout):
    """Send request on a new connection and wait for the server to close
    the kept-alive connection: (what came, closed, seconds after sending)."""
    c = tcp(port, timeout=timeout + 5)
    c.sendall(request)
    t0 = time.monotonic()
    data, closed = recv_to_eof(c, timeout=timeout)
    took = time.monotonic() - t0
    c.close()
    return data, closed, took


def udp_send(port, data, host="127.0.0.1", src=None):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    s = socket.socket(fam, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    s.sendto(data, (host, port))
    return s


def refused(port, host="127.0.0.1"):
    """True when nothing listens on host:port (TCP)."""
    try:
        s = tcp(port, host, timeout=1.0)
    except ConnectionRefusedError:
        return True
    except OSError as e:
        return e.errno == errno.ECONNREFUSED
    s.close()
    return False


def udp_bound(port, host="127.0.0.1"):
    """True when some socket holds host:port/udp."""
    return not _bindable(host, port, socket.SOCK_DGRAM)


def wait_until(pred, timeout=5.0, step=0.02, what="condition"):
    end = time.monotonic() + timeout
    while True:
        r = pred()
        if r:
            return r
        if time.monotonic() > end:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


# --- the sensor ---------------------------------------------------------------

def deep_merge(base, over):
    """over's keys win; a value None deletes the key from base."""
    out = dict(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = v
    return out


class Sensor:
    def __init__(self, tmp_path, name):
        self.dir = tmp_path
        self.name = name
        self.info = info()
        self.proc = None
        self.rc = None
        self.pipe = None
        self.pipebuf = b""
        self.out = None
        self.start_event = None

    # -- life cycle --
    def start(self, config=None, stdout=False, wait=True, offset=None, wrap=()):
        """wrap: a command prefix, e.g. ("ip", "netns", "exec", "ns1")."""
        self.offset = offset if offset is not None else free_offset()
        self.out = None if stdout else self.dir / f"{self.name}.ndjson"
        base = {
            "sensor_id": "it",
            "listen": list(ADDRS),
            "port_offset": self.offset,
            "run_as_root": True,
            "output": {"file": "-" if stdout else str(self.out)},
            "limits": {"idle_timeout": 10, "session_timeout": 60},
        }
        self.config = deep_merge(base, config or {})
        self.cfg_path = self.dir / f"{self.name}.json"
        self.cfg_path.write_text(json.dumps(self.config, indent=1, ensure_ascii=False))
        self.err_path = self.dir / f"{self.name}.stderr"
        self.err = open(self.err_path, "wb")
        self.proc = subprocess.Popen(
            list(wrap) + [self.info.bin, "-c", str(self.cfg_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
            stderr=self.err)
        if stdout:
            self.pipe = self.proc.stdout
            os.set_blocking(self.pipe.fileno(), False)
        if wait:
            self.start_event = self.wait_event("status", timeout=5, event__reason="start")
            assert self.start_event["event"]["sequence"] == 1
        return self

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stderr(self):
        try:
            return self.err_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self, sig):
        assert self.alive(), f"lure died: rc={self.proc.poll()}\n{self.stderr()}"
        os.kill(self.proc.pid, sig)

    def stop(self, sig=signal.SIGTERM, timeout=10):
        """Signal, wait, return the exit code; the output must then be whole
        and end with the "stop" status event."""
        if self.alive():
            os.kill(self.proc.pid, sig)
        try:
            if self.pipe:
                end = time.monotonic() + timeout
                while self.proc.poll() is None and time.monotonic() < end:
                    self.read_pipe()
                    time.sleep(0.01)
            self.rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"lure did not exit within {timeout}s of signal {sig}")
        self.read_pipe(final=True)
        return self.rc

    def close(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.pipe:
            self.pipe.close()
        self.err.close()

    # -- output --
    def read_pipe(self, final=False):
        if not self.pipe:
            return
        while True:
            try:
                d = os.read(self.pipe.fileno(), 1 << 20)
            except BlockingIOError:
                return
            if not d:
                return
            self.pipebuf += d

    def raw(self, path=None):
        if path is not None:
            return Path(path).read_bytes()
        if self.pipe:
            self.read_pipe()
            return self.pipebuf
        try:
            return self.out.read_bytes()
        except FileNotFoundError:
            return b""

    def events(self, path=None, complete=None):
        """Every event so far; every line must be strict UTF-8 JSON. After
        the process exited the output must end with a newline."""
        if complete is None:
            complete = not self.alive()
        return parse_ndjson(self.raw(path), str(path or self.out or "stdout"), complete)

    def find(self, action=None, events=None, **fields):
        evs = self.events() if events is None else events
        return [e for e in evs if match(e, action, **fields)]

    def wait_for(self, pred, timeout=5.0, what=None, path=None):
        """Poll events() until pred(events) is truthy; returns its value."""
        end = time.monotonic() + timeout
        evs = []
        while True:
            evs = self.events(path)
            r = pred(evs)
            if r:
                return r
            if not self.alive():
                pytest.fail(f"lure exited (rc={self.proc.poll()}) while waiting for "
                            f"{what or pred}\nstderr:\n{self.stderr()}")
            if time.monotonic() > end:
                tail = "\n".join(json.dumps(e) for e in evs[-5:])
                pytest.fail(f"timed out after {timeout}s waiting for {what or pred}; "
                            f"last events:\n{tail}")
            time.sleep(0.02)

    def wait_event(self, action, timeout=5.0, **fields):
        """The first event matching action and fields (see match())."""
        return self.wait_for(lambda evs: next((e for e in evs if match(e, action, **fields)), None),
                             timeout, what=f"{action} {fields}")

    def wait_count(self, n, action, timeout=5.0, **fields):
        return self.wait_for(
            lambda evs: (lambda m: m if len(m) >= n else None)([e for e in evs if match(e, action, **fields)]),
            timeout, what=f"{n} x {action} {fields}")

    def status(self, timeout=5.0):
        """USR1 -> the new status event with reason "stats"."""
        before = len(self.find("status", event__reason="stats"))
        self.kill(signal.SIGUSR1)
        return self.wait_count(before + 1, "status", timeout, event__reason="stats")[before]

    # -- listeners --
    def listeners(self):
        return get(self.start_event, "lure.listeners")

    def port(self, persona_port, transport="tcp", addr="127.0.0.1"):
        for l in self.listeners():
            if l["persona_port"] == persona_port and l["transport"] == transport and l["address"] == addr:
                return l["port"]
        raise KeyError(f"no listener for {persona_port}/{transport} on {addr}")


@pytest.fixture
def lure(tmp_path):
    """lure(config_dict=None, stdout=False, wait=True) -> a started Sensor."""
    sensors = []

    def start(config=None, **kw):
        s = Sensor(tmp_path, f"lure{len(sensors)}")
        sensors.append(s)
        for attempt in range(3):
            try:
                return s.start(config, **kw)
            except BaseException:
                # another process may have taken a port between our check
                # and lure's bind: retry on a new offset
                if (attempt < 2 and s.proc.poll() == 1 and "bind" in s.stderr()
                        and (config or {}).get("port_offset") is None):
                    s.close()
                    continue
                raise
        return s

    yield start
    for s in sensors:
        s.close()
    # whatever a test looked at, everything lure wrote must be strict NDJSON
    for s in sensors:
        if s.pipe is None and s.out is not None and s.out.exists():
            parse_ndjson(s.out.read_bytes(), str(s.out), complete=False)
        elif s.pipe is not None:
            parse_ndjson(s.pipebuf, "stdout", complete=False)


def run_lure(args, timeout=10, **kw):
    """Run the binary to completion: CompletedProcess with bytes out/err."""
    return subprocess.run([info().bin] + list(args), capture_output=True,
                          timeout=timeout, stdin=subprocess.DEVNULL, **kw)


def uid_of(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return [int(x) for x in line.split()[1:]]
    return None


def gid_of(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Gid:"):
            return [int(x) for x in line.split()[1:]]
    return None


def _proc_addr(hexaddr):
    """/proc/net/tcp{,6} address (host-order 32-bit words) -> text."""
    raw = bytes.fromhex(hexaddr)
    words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
    if len(words) == 4:
        return socket.inet_ntop(socket.AF_INET, words)
    return socket.inet_ntop(socket.AF_INET6, words)


def server_sockets(local_port, addr="127.0.0.1"):
    """(state, unread receive-queue bytes) of each server-side TCP socket on
    addr:local_port, from /proc/net/tcp{,6}; LISTEN and TIME_WAIT left out.
    States: 01 ESTABLISHED, 08 CLOSE_WAIT, 09 LAST_ACK..."""
    out = []
    for f in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(f).read_text().splitlines()[1:]:
            w = line.split()
            a, p = w[1].rsplit(":", 1)
            st = w[3]
            if int(p, 16) != local_port or st in ("0A", "06") or _proc_addr(a) != addr:
                continue
            out.append((st, int(w[4].split(":")[1], 16)))
    return out


def rx_queues(local_port):
    """Unread bytes of each server-side socket on local_port."""
    return [rx for _, rx in server_sockets(local_port)]
