"""Soak benchmark (issue 12): lure under steady mixed load for a long time, shipping to a real
OpenSearch node through an explicitly configured spool, with an Elasticsearch outage and two
kill -9s of lure in the middle. It answers: was every answered request indexed exactly once, did
lure's memory stay flat, and do the counters add up.

    python3 test/bench/soak.py [--minutes 30] [--rate 500] [--outage-seconds 300] [--kills 2]
                               [--persona hikvision] [--lure PATH] [--workdir DIR] [--json FILE]
                               [--tls-sessions N] [--spool-max-bytes N (1 GiB)]
    make bench-soak [SOAK_PERSONA=hikvision] [SOAK_ARGS="--minutes 3 --rate 200 --outage-seconds 40"]

Not part of make test or make bench: the full run takes 30 minutes, then a few more to drain and
read back (about 5,000 documents/s here).

What runs (127.0.0.1 only):
  node       test/es/node.py's OpenSearch node (small heap), etc/es/lure-template.json PUT first.
  lure       the persona's binary (built with `make B=build/soak-<persona> PERSONA=<persona>`
             unless --lure), every persona port shifted by a free offset, heartbeat 10 s,
             elasticsearch.spool.path in the work directory (explicit: the default changes),
             a dead-letter file, a state file (the same device across restarts); each process
             writes its own output file (run1.ndjson, run2.ndjson...).
  load       a separate asyncio process (this file with --gen): connection i starts at
             t0 + i/rate, on persona port i mod n, from 127.0.0.(2 + i mod 250), and speaks that
             port's protocol carrying the identifier sk<token>x<i, 8 digits>:
               http      GET /soak/<id>            (url.original)      answered: a status line
               http+tls  the same over TLS, SNI <id>.soak                        "
               rtsp      OPTIONS rtsp://.../soak/<id>                  answered: a status line
               telnet    login <id>, password soak (user.name)         answered: the next prompt
               ssh       version SSH-2.0-soak_<id>, KEXINIT, ECDH init (lure.ssh.client_version)
                                                                       answered: the KEX reply
               banner    "soak <id>" (lure.payload), after the greeting when the persona has
                         banner.<port>                answered: banner.reply.<port> came back
               discovery WS-Discovery Probe (3702: MessageID) or SADP inquiry (Uuid), one
                         datagram (lure.payload)                       answered: a datagram
             and records, per identifier, one code: refused / error / sent (no answer) /
             answered. A connection that got no answer to the request carrying the identifier
             is not "answered" (a greeting banner alone does not count).
  faults     the node stops at 25% of the run for --outage-seconds (then starts on the same
             port and data); kill -9 #1 in the middle of the outage (the spool holds events),
             kill -9 #2 at 75% (a backlog is shipping); lure restarts 1 s after each kill.
  RSS        VmRSS of lure every 10 s (and the node's), its open descriptors and the connection
             pool's slots touched so far (conn.c's `used`, read from /proc/<pid>/mem at offsets gdb
             finds in the binary's debug information), as a table and an ASCII curve.
  end        load stops; wait until the node has everything lure queued (status via SIGUSR1:
             queue empty, nothing in flight), SIGTERM, then read back every document. The work
             directory (build/soak/soak-*) keeps the configs, the generator's per-request codes
             and result.json; the output files and the spool too when a check failed or --keep.

Checks (the exit status is 1 when one fails):
  requests   every answered identifier is in lure's output files (else: answered but
             unlogged, issue 12 item 9) and in the index (else: lost); an identifier in more
             than one request/login document is duplicated. Each lost or duplicated request is
             listed (identifier, port, seconds into the load: compare with the fault times).
  events     every event.id of the output files is in the index, once (duplicates counted by
             event.id across indices); documents not in any output file are listed too.
  counters   sum over the runs of events accepted (each run's last event.sequence) = documents
             indexed + dropped + ship_dropped + dead_lettered + still queued; the last run's stop
             status counts exactly its own events (accepted = its last sequence - 1); the shipped
             counters summed over the runs are at most documents + dropped (a killed run's
             counters are those of its last heartbeat: they can under-report by up to 10 s of
             events, never over-report).
  RSS        flat: in each run, every sample after the one a minute in (a third of the way in
             when the run is shorter: the first minute touches the outbox ring and the buffers)
             is within max(5%, 512 KiB) of it plus the pool slots touched since times the size
             of a slot (struct conn + emulator state + input + output buffer: 8.5 KiB for
             hikvision with the default limits): a burst of connections (lure, or the load
             generator, short of CPU) leaves its slots resident, which is not a leak; any other
             growth is. Without gdb or debug information the slot size is unknown and no pool
             growth is allowed.
"""
import argparse
import asyncio
import atexit
import json
import os
import random
import re
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "test" / "es"))

TEMPLATE = ROOT / "etc" / "es" / "lure-template.json"
JAVA_OPTS = "-Xms256m -Xmx512m -XX:+UseSerialGC"
RSS_EVERY = 10.0
HEARTBEAT = 10
# per-identifier codes of the load generator
NONE, REFUSED, ERROR, SENT, ANSWERED = 0, 1, 2, 3, 4
# the documents that carry a request's identifier
ID_ACTIONS = ("request", "login")
ID_FIELDS = ("url.original", "user.name", "lure.payload", "lure.ssh.client_version",
             "lure.discovery.id")


def log(*a):
    print(time.strftime("%H:%M:%S"), *a, flush=True)


def get(ev, dotted, default=None):
    cur = ev
    for part in dotted.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return default
        cur = cur[part]
    return cur


# --- the load generator (a process of its own: python3 soak.py --gen SPEC) ------------------------

def wsd_probe(ident):
    return ('<?xml version="1.0" encoding="UTF-8"?><e:Envelope '
            'xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
            'xmlns:dn="http://www.onvif.org/ver10/network/wsdl"><e:Header>'
            f'<w:MessageID>uuid:{ident}</w:MessageID>'
            '<w:To e:mustUnderstand="true">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>'
            '<w:Action e:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe'
            '</w:Action></e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types>'
            '</d:Probe></e:Body></e:Envelope>').encode()


def sadp_probe(ident):
    return ('<?xml version="1.0" encoding="utf-8"?><Probe>'
            f'<Uuid>{ident}</Uuid><Types>inquiry</Types></Probe>').encode()


def ssh_packet(payload):
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", len(payload) + pad + 1, pad) + payload + bytes(pad)


def ssh_string(b):
    return struct.pack(">I", len(b)) + b


def ssh_kexinit():
    names = [b"curve25519-sha256,curve25519-sha256@libssh.org",
             b"ssh-ed25519,rsa-sha2-256,rsa-sha2-512,ssh-rsa,ecdsa-sha2-nistp256"]
    cip = b"aes128-ctr,aes256-ctr,chacha20-poly1305@openssh.com,aes128-gcm@openssh.com"
    mac = b"hmac-sha2-256,hmac-sha1,hmac-sha2-512"
    comp = b"none"
    lists = names + [cip, cip, mac, mac, comp, comp, b"", b""]
    return ssh_packet(bytes([20]) + os.urandom(16) + b"".join(ssh_string(x) for x in lists)
                      + b"\x00" + bytes(4))


TELNET_IAC = re.compile(rb"\xff[\xfb-\xfe].|\xff\xfa.*?\xff\xf0|\xff[\xf0-\xfa]", re.S)


class Gen:
    def __init__(self, spec):
        self.spec = spec
        self.targets = spec["targets"]
        self.rate = spec["rate"]
        self.total = int(spec["rate"] * spec["seconds"])
        self.token = spec["token"]
        self.status = bytearray(self.total)
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.tls.check_hostname = False
        self.tls.verify_mode = ssl.CERT_NONE
        self.timeout = 10.0
        self.inflight = 0
        self.started = 0
        self.stop = False

    def ident(self, i):
        return f"sk{self.token}x{i:08d}"

    async def tcp(self, i, t):
        ident = self.ident(i)
        src = f"127.0.0.{2 + i % 250}"
        kind = t["kind"]
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(
                "127.0.0.1", t["port"], local_addr=(src, 0),
                ssl=self.tls if t.get("tls") else None,
                server_hostname=f"{ident}.soak" if t.get("tls") else None), self.timeout)
        except ConnectionRefusedError:
            self.status[i] = REFUSED
            return
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            self.status[i] = ERROR
            return
        try:
            await asyncio.wait_for(self.converse(i, kind, ident, t, r, w), self.timeout)
        except (OSError, asyncio.TimeoutError, asyncio.IncompleteReadError, ssl.SSLError, EOFError):
            if self.status[i] == NONE:
                self.status[i] = ERROR
        finally:
            w.transport.abort()

    async def converse(self, i, kind, ident, t, r, w):
        st = self.status
        if kind == "http":
            w.write(f"GET /soak/{ident} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: soak\r\n"
                    "Connection: close\r\n\r\n".encode())
            await w.drain()
            st[i] = SENT
            if (await r.readuntil(b"\n")).startswith(b"HTTP/"):
                st[i] = ANSWERED
        elif kind == "rtsp":
            w.write(f"OPTIONS rtsp://127.0.0.1:{t['port']}/soak/{ident} RTSP/1.0\r\nCSeq: 1\r\n"
                    "User-Agent: soak\r\n\r\n".encode())
            await w.drain()
            st[i] = SENT
            if (await r.readuntil(b"\n")).startswith(b"RTSP/"):
                st[i] = ANSWERED
        elif kind == "banner":
            if t.get("greets") and not await r.read(4096):  # vsftpd's greeting
                raise EOFError
            w.write(f"soak {ident}\r\n".encode())
            await w.drain()
            st[i] = SENT
            if t.get("replies"):  # the Hikvision SDK port: silent until spoken to
                if await r.read(4096):
                    st[i] = ANSWERED
            else:  # nothing will answer: give lure a moment to read it before the close
                await asyncio.sleep(0.2)
        elif kind == "telnet":
            buf = b""
            while b"login:" not in TELNET_IAC.sub(b"", buf):
                b = await r.read(4096)
                if not b:
                    raise EOFError
                buf += b
            w.write(f"{ident}\r\n".encode())
            buf = b""
            while b"assword" not in buf:
                b = await r.read(4096)
                if not b:
                    raise EOFError
                buf += b
            w.write(b"soak\r\n")
            await w.drain()
            st[i] = SENT
            buf = b""
            while b"incorrect" not in buf and b"login:" not in buf and b"#" not in buf:
                b = await r.read(4096)
                if not b:
                    raise EOFError
                buf += TELNET_IAC.sub(b"", b)
            st[i] = ANSWERED
        elif kind == "ssh":
            w.write(f"SSH-2.0-soak_{ident}\r\n".encode() + ssh_kexinit())
            await w.drain()
            line = await r.readuntil(b"\n")
            if not line.startswith(b"SSH-"):
                raise EOFError
            n = 0
            while True:  # the server's KEXINIT, then our ECDH init, then its reply
                hdr = await r.readexactly(5)
                ln, _pad = struct.unpack(">IB", hdr)
                body = await r.readexactly(ln - 1)
                msg = body[0]
                if msg == 20 and n == 0:
                    w.write(ssh_packet(bytes([30]) + ssh_string(os.urandom(32))))
                    await w.drain()
                    st[i] = SENT
                    n = 1
                elif msg == 31 and n == 1:
                    st[i] = ANSWERED
                    return

    async def udp(self, i, t):
        ident = self.ident(i)
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        class P(asyncio.DatagramProtocol):
            def datagram_received(self, data, addr):
                if not fut.done():
                    fut.set_result(data)

            def error_received(self, exc):
                if not fut.done():
                    fut.set_exception(exc)

        if t["kind"] == "discovery":
            data = wsd_probe(ident) if t["persona_port"] == 3702 else sadp_probe(ident)
        else:
            data = f"soak {ident}\r\n".encode()
        try:
            tr, _ = await loop.create_datagram_endpoint(
                P, local_addr=(f"127.0.0.{2 + i % 250}", 0), remote_addr=("127.0.0.1", t["port"]))
        except OSError:
            self.status[i] = ERROR
            return
        try:
            tr.sendto(data)
            self.status[i] = SENT
            await asyncio.wait_for(fut, 1.0)
            self.status[i] = ANSWERED
        except ConnectionRefusedError:
            self.status[i] = REFUSED
        except (OSError, asyncio.TimeoutError):
            pass
        finally:
            tr.close()

    async def one(self, i):
        t = self.targets[i % len(self.targets)]
        self.inflight += 1
        try:
            if t["transport"] == "udp":
                await self.udp(i, t)
            else:
                await self.tcp(i, t)
        except Exception as e:  # noqa: BLE001 - a client bug must not stop the load
            self.status[i] = ERROR
            print("gen: client error", t["kind"], repr(e), file=sys.stderr, flush=True)
        finally:
            self.inflight -= 1

    async def run(self):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGTERM, lambda: setattr(self, "stop", True))
        t0 = time.monotonic()
        tasks = set()
        last = t0
        i = 0
        while i < self.total and not self.stop:
            now = time.monotonic()
            due = min(self.total, int((now - t0) * self.rate) + 1)
            while i < due:
                if self.inflight > 2000:  # lure stalled: do not run out of descriptors
                    self.status[i] = ERROR
                else:
                    tk = asyncio.ensure_future(self.one(i))
                    tasks.add(tk)
                    tk.add_done_callback(tasks.discard)
                i += 1
            if now - last >= 10:
                last = now
                print(json.dumps({"t": round(now - t0, 1), "started": i, "inflight": self.inflight}),
                      flush=True)
            await asyncio.sleep(0.005)
        self.started = i
        if tasks:
            await asyncio.wait(tasks, timeout=self.timeout + 5)
        return time.monotonic() - t0


def gen_main(spec_path):
    spec = json.loads(Path(spec_path).read_text())
    g = Gen(spec)
    secs = asyncio.run(g.run())
    Path(spec["out"]).write_bytes(bytes(g.status[:g.started]))
    print(json.dumps({"done": True, "started": g.started, "seconds": round(secs, 1)}), flush=True)


# --- lure ------------------------------------------------------------------------------------------

def bindable(port, udp):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def persona_ports(lure):
    """(persona name, [(persona_port, transport, emulator, tls)]) from `lure -V`."""
    out = subprocess.run([lure, "-V"], capture_output=True, text=True, check=True).stdout
    name, ports = None, []
    for line in out.splitlines():
        f = line.split()
        if f[:1] == ["persona"]:
            name = f[1]
        if f[:1] == ["port"]:
            p, tr = f[1].split("/")
            ports.append((int(p), tr, f[2], "tls" in f[3:]))
    return name, ports


def persona_keys(name):
    """Every key of emu/personas/<name>/*.conf (which banner ports greet, which reply)."""
    keys = set()
    for conf in (ROOT / "emu" / "personas" / name).glob("*.conf"):
        for line in conf.read_text(errors="replace").splitlines():
            if line and not line.startswith("#"):
                keys.add(line.split()[0])
    return keys


def free_offset(ports):
    top = 61000 - max(p for p, _tr, _e, _t in ports)  # below test/es/node.py's ports
    for _ in range(500):
        off = random.randrange(min(10000, top - 1), top)
        if all(bindable(p + off, tr == "udp") for p, tr, _e, _t in ports):
            return off
    raise RuntimeError("no free port offset")


def events_of(path):
    """Each complete line of an NDJSON file, parsed (streamed: the files of a long run are big);
    a line that is not JSON gives {"_bad": its start}."""
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return
    with f:
        for line in f:
            if not line.endswith(b"\n"):
                return  # being written
            try:
                yield json.loads(line)
            except ValueError:
                yield {"_bad": line[:200].decode("latin-1")}


def new_lines(path, pos, needle):
    """(events of the complete lines after byte pos holding needle, the new pos)."""
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except FileNotFoundError:
        return [], pos
    end = data.rfind(b"\n") + 1
    return [json.loads(x) for x in data[:end].split(b"\n") if needle in x], pos + end


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def rss_kib(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


class Lure:
    def __init__(self, binary, workdir, config):
        self.bin, self.dir, self.config = binary, Path(workdir), config
        self.runs = []          # (n, output path, proc)
        self.proc = None

    def start(self):
        n = len(self.runs) + 1
        out = self.dir / f"run{n}.ndjson"
        cfg = dict(self.config)
        cfg["output"] = {"file": str(out)}
        path = self.dir / f"run{n}.json"
        path.write_text(json.dumps(cfg, indent=1))
        err = open(self.dir / f"run{n}.stderr", "ab")
        self.proc = subprocess.Popen([self.bin, "-c", str(path)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=err)
        err.close()
        self.runs.append((n, out, self.proc))
        self.pos = 0
        end = time.monotonic() + 10
        while time.monotonic() < end:
            got, self.pos = new_lines(out, self.pos, b'"reason":"start"')
            if got:
                return n
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"lure run {n} did not start: "
                           f"{(self.dir / f'run{n}.stderr').read_text(errors='replace')[-2000:]}")

    def kill9(self):
        self.proc.kill()
        self.proc.wait()

    def status(self, timeout=10):
        out = self.runs[-1][1]
        _, self.pos = new_lines(out, self.pos, b"-")
        os.kill(self.proc.pid, signal.SIGUSR1)
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            got, self.pos = new_lines(out, self.pos, b'"reason":"stats"')
            if got:
                return got[-1]
            time.sleep(0.1)
        return None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after 60 s"


# --- reading back ------------------------------------------------------------------------------------

class Tally:
    """Counts per identifier number and per event.id (<sensor>-<boot>-<sequence>), in bytearrays."""

    def __init__(self, total, id_re):
        self.ids = bytearray(total)
        self.events = {}        # "<sensor>-<boot>" -> bytearray indexed by sequence
        self.id_re = id_re
        self.other_ids = 0      # identifiers out of range (another run's token cannot match)
        self.docs = 0

    def add(self, src):
        self.docs += 1
        eid = get(src, "event.id")
        if isinstance(eid, str) and "-" in eid:
            boot, seq = eid.rsplit("-", 1)
            if seq.isdigit():
                seq = int(seq)
                b = self.events.setdefault(boot, bytearray())
                if seq >= len(b):
                    b.extend(bytes(seq + 1 - len(b) + 4096))
                if b[seq] < 255:
                    b[seq] += 1
        if get(src, "event.action") in ID_ACTIONS:
            for f in ID_FIELDS:
                v = get(src, f)
                if isinstance(v, str):
                    m = self.id_re.search(v)
                    if m:
                        k = int(m.group(1))
                        if k < len(self.ids):
                            if self.ids[k] < 255:
                                self.ids[k] += 1
                        else:
                            self.other_ids += 1
                        break


def scroll(node, pattern, fn):
    src = ["event.id", "event.action"] + list(ID_FIELDS)
    fp = "filter_path=_scroll_id,hits.hits._source"
    st, r = node.request("POST", f"/{pattern}/_search?scroll=5m&{fp}",
                         {"size": 5000, "_source": src, "sort": ["_doc"]}, timeout=120)
    if st != 200:
        raise RuntimeError(f"search: {st} {str(r)[:500]}")
    while True:
        hits = r.get("hits", {}).get("hits", [])
        if not hits:
            break
        for h in hits:
            fn(h.get("_source", {}))
        st, r = node.request("POST", f"/_search/scroll?{fp}", {"scroll": "5m", "scroll_id": r["_scroll_id"]},
                             timeout=120)
        if st != 200:
            raise RuntimeError(f"scroll: {st} {str(r)[:500]}")


def count_docs(node, pattern):
    try:
        return node.count(pattern)
    except Exception:  # noqa: BLE001 - the node may be down
        return None


# --- the run -------------------------------------------------------------------------------------------

class Slots:
    """How much of lure's connection pool is resident. src/conn.c calloc()s the pool (struct conn,
    emulator state, input and output buffer per slot: mmap'd, untouched pages cost no RSS) and
    initialises slots [0, used) only, so the pool's RSS follows `used`, the most connections open
    at once so far; a burst (lure or the load generator starved of CPU) leaves its slots resident.
    The size of a slot and where `used` lives come from the binary's debug information (gdb, once);
    `used` is read from /proc/<pid>/mem at each sample (lure is our child: no ptrace stop).
    Without gdb or debug information: unknown, and the RSS check allows no pool growth."""

    Q = [("conn", "sizeof(struct conn)"), ("used", "(long)&'conn.c'::used"),
         ("used_size", "sizeof('conn.c'::used)"), ("state_max", "(long)&'conn.c'::state_max"),
         ("in_stride", "(long)&'conn.c'::in_stride"), ("out_buf", "(long)&config.out_buf"),
         ("out_buf_size", "sizeof(config.out_buf)")]

    def __init__(self, binary):
        self.binary, self.off, self.error = binary, None, None
        self.slot_bytes = None
        try:
            r = subprocess.run(["gdb", "-nx", "-batch"] + [x for _k, e in self.Q for x in ("-ex", f"p {e}")]
                               + [binary], capture_output=True, text=True, timeout=60)
            vals = [int(m) for m in re.findall(r"^\$\d+ = (-?\d+)$", r.stdout, re.M)]
            if len(vals) != len(self.Q):
                raise ValueError((r.stderr or r.stdout).strip()[-200:])
            self.off = dict(zip((k for k, _e in self.Q), vals))
            with open(binary, "rb") as f:
                self.pie = f.read(18)[16] == 3  # e_type ET_DYN: addresses are relative to the load base
        except (OSError, ValueError, subprocess.SubprocessError) as e:
            self.error = f"no slot size ({e!s:.200})"

    def read(self, pid):
        """(slots touched, slot bytes) of the running process, or (None, None)."""
        if not self.off:
            return None, None
        o = self.off
        try:
            base = 0
            if self.pie:
                with open(f"/proc/{pid}/maps") as f:
                    base = int(f.readline().split("-")[0], 16)
            with open(f"/proc/{pid}/mem", "rb") as m:
                def rd(addr, size):
                    m.seek(base + addr)
                    return int.from_bytes(m.read(size), sys.byteorder)
                used = rd(o["used"], o["used_size"])
                st, ins, ob = rd(o["state_max"], 8), rd(o["in_stride"], 8), rd(o["out_buf"], o["out_buf_size"])
            if ins and ob:  # set by conn_setup() (the config and the emulators): the same every run
                self.slot_bytes = o["conn"] + st + ins + ob
            return used, self.slot_bytes
        except (OSError, ValueError) as e:
            self.error = f"cannot read /proc/{pid}/mem ({e!s:.100})"
            return None, None


def rss_flat(s, slot_bytes):
    """s: one run's samples [(t, kib, fds, slots touched or None)]. Flat: from the sample a minute in
    (a third of the way in when the run is shorter: the first minute touches the outbox ring and the
    buffers) every later sample is within max(5%, 512 KiB) of it plus the pool slots touched since
    (slots x slot_bytes: a burst of connections, not a leak). Anything else that grows (a leak, per
    connection or not) is not explained: once the slots stop growing, nothing more is allowed."""
    tstart = s[0][0]
    iref = next((j for j, x in enumerate(s) if x[0] - tstart >= 60), len(s) // 3)
    ref, ref_slots = s[iref][1], s[iref][3]
    tol = max(0.05 * ref, 512)
    worst = None  # the sample furthest over (or nearest to) its allowance
    for t, k, _f, u in s[iref:]:
        pool = ((u - ref_slots) * slot_bytes / 1024
                if slot_bytes and u is not None and ref_slots is not None else 0)
        over = k - ref - tol - pool
        if worst is None or over > worst[0]:
            worst = (over, t, k, u, pool)
    fds_rose = max(f for _t, _k, f, _u in s[iref:]) > max(f for _t, _k, f, _u in s[:iref + 1])
    return {"samples": len(s), "first": s[0][1], "ref": ref, "last": s[-1][1],
            "peak": max(k for _t, k, _f, _u in s), "flat": worst[0] <= 0,
            "tolerance_kib": round(tol), "slot_bytes": slot_bytes,
            "slots_at_ref": ref_slots, "slots_last": s[-1][3],
            "slots_peak": max((u for _t, _k, _f, u in s if u is not None), default=None),
            "worst": {"t": round(worst[1]), "kib": worst[2], "slots": worst[3],
                      "pool_kib": round(worst[4]), "over_kib": round(worst[0])},
            "open_fds_peak_rose_after_ref": fds_rose}


def ascii_curve(samples, width=50):
    """samples: [(t, run, kib, fds, slots)] -> lines with a bar per sample scaled between min and max."""
    ks = [x[2] for x in samples if x[2]]
    if not ks:
        return []
    lo, hi = min(ks), max(ks)
    span = max(hi - lo, 1)
    lines = []
    for t, run, k, fds, *u in samples:
        u = u[0] if u else None
        bar = "#" * (1 + int((k - lo) * (width - 1) / span)) if k else ""
        lines.append(f"{t:7.0f} s  run {run}  {k if k else '-':>7} KiB  {fds if fds else '-':>5} fds  "
                     f"{u if u is not None else '-':>5} slots  {bar}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--rate", type=float, default=500, help="new connections/datagrams per second")
    ap.add_argument("--outage-seconds", type=float, default=300)
    ap.add_argument("--kills", type=int, default=2, choices=(0, 1, 2))
    ap.add_argument("--persona", default="hikvision")
    ap.add_argument("--lure", help="binary (default: make B=build/soak-<persona> PERSONA=<persona>)")
    ap.add_argument("--workdir", help="default: a new directory under build/soak/")
    ap.add_argument("--tls-sessions", type=int, help="tls.server_sessions (default: lure's)")
    ap.add_argument("--spool-max-bytes", type=int, default=1 << 30,
                    help="elasticsearch.spool.max_bytes (1 GiB, the most lure takes: 5 min at 500/s is ~350 MB)")
    ap.add_argument("--drain-timeout", type=float, default=900)
    ap.add_argument("--json", help="write the results here too")
    ap.add_argument("--keep", action="store_true",
                    help="keep the output files and the spool when the run passes (always kept on a failure)")
    ap.add_argument("--gen", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.gen:
        return gen_main(a.gen)
    if 0.25 * a.minutes * 60 + a.outage_seconds + 10 >= a.minutes * 60:
        ap.error("the outage must end 10 s before the load does (it starts at 25% of the run)")

    from node import Node  # noqa: E402 - only the coordinator needs java

    lure = a.lure
    if not lure:
        b = f"build/soak-{a.persona}"
        log(f"make B={b} PERSONA={a.persona}")
        subprocess.run(["make", "-C", str(ROOT), f"B={b}", f"PERSONA={a.persona}", "-j2"], check=True,
                       stdout=subprocess.DEVNULL)
        lure = str(ROOT / b / "lure")
    pname, ports = persona_ports(lure)
    keys = persona_keys(pname)
    (ROOT / "build" / "soak").mkdir(parents=True, exist_ok=True)
    work = Path(a.workdir) if a.workdir else Path(tempfile.mkdtemp(prefix="soak-", dir=ROOT / "build" / "soak"))
    work.mkdir(parents=True, exist_ok=True)
    seconds = a.minutes * 60
    token = "%04x" % random.randrange(1 << 16)
    id_re = re.compile(rf"sk{token}x(\d{{8}})")
    log(f"work dir {work}; persona {pname}: {len(ports)} ports; {seconds:.0f} s at {a.rate:g}/s; "
        f"outage {a.outage_seconds:g} s; {a.kills} kill -9")

    node = Node(java_opts=JAVA_OPTS)
    node.start()
    log(f"node {node.url} (started in {node.startup_seconds:.0f} s)")
    node.request("PUT", "/_index_template/lure", TEMPLATE)
    pattern = f"lure-soak{token}-*"
    off = free_offset(ports)
    config = {
        "sensor_id": f"soak{token}", "listen": ["127.0.0.1"], "port_offset": off,
        "run_as_root": True, "heartbeat": HEARTBEAT, "state_file": str(work / "state"),
        "limits": {"idle_timeout": 10, "session_timeout": 60},
        "elasticsearch": {"url": node.url, "index": f"lure-soak{token}-%Y.%m.%d",
                          "dead_letter": str(work / "dead.ndjson"),
                          "spool": {"path": str(work / "spool"), "max_bytes": a.spool_max_bytes}},
    }
    if a.tls_sessions:
        config["tls"] = {"server_sessions": a.tls_sessions}
    targets = [{"persona_port": p, "port": p + off, "transport": tr, "tls": tls, "kind": emu,
                "greets": f"banner.{p}" in keys, "replies": f"banner.reply.{p}" in keys}
               for p, tr, emu, tls in ports]
    slots = Slots(lure)
    lr = Lure(lure, work, config)
    atexit.register(lambda: lr.proc and lr.proc.poll() is None and lr.proc.kill())
    lr.start()

    spec = {"targets": targets, "rate": a.rate, "seconds": seconds, "token": token,
            "out": str(work / "gen.status")}
    (work / "gen.json").write_text(json.dumps(spec))
    gen = subprocess.Popen([sys.executable, __file__, "--gen", str(work / "gen.json")],
                           stdout=open(work / "gen.log", "w"), stderr=open(work / "gen.stderr", "w"))
    atexit.register(lambda: gen.poll() is None and gen.kill())
    t0 = time.monotonic()

    rss = []            # (t, run, lure kib, lure's open descriptors, pool slots touched)
    node_rss = []
    faults = []         # (t, what)
    stop_sampling = threading.Event()

    def sampler():
        while not stop_sampling.wait(RSS_EVERY - (time.monotonic() - t0) % RSS_EVERY):
            pid = lr.proc.pid
            rss.append((time.monotonic() - t0, len(lr.runs), rss_kib(pid), open_fds(pid),
                        slots.read(pid)[0]))
            node_rss.append(node.rss_kib())
    th = threading.Thread(target=sampler, daemon=True)
    th.start()

    out_start = 0.25 * seconds
    out_end = out_start + a.outage_seconds
    plan = [(out_start, "outage"), (out_end, "node up")] if a.outage_seconds > 0 else []
    if a.kills >= 1:
        plan.append((out_start + a.outage_seconds / 2, "kill"))
    if a.kills >= 2:
        plan.append((max(0.75 * seconds, out_end + 10), "kill"))
    plan.sort()
    for at, what in plan:
        while time.monotonic() - t0 < at:
            if gen.poll() is not None:
                raise RuntimeError("the load generator exited early: "
                                   + (work / "gen.stderr").read_text()[-2000:])
            time.sleep(0.2)
        now = time.monotonic() - t0
        if what == "outage":
            node.stop()
            faults.append((now, f"node stopped ({time.monotonic() - t0 - now:.0f} s to stop)"))
        elif what == "node up":
            for attempt in range(3):  # a loaded machine can make the start time out
                try:
                    node.start()
                    break
                except Exception as e:  # noqa: BLE001 - NodeError, or the port taken meanwhile
                    log(f"node start failed ({e!r:.200}), attempt {attempt + 1}")
                    node.stop()
            faults.append((now, f"node start asked; up after {time.monotonic() - t0 - now:.0f} s"))
        else:
            lr.kill9()
            faults.append((now, f"kill -9 lure run {len(lr.runs)}"))
            time.sleep(1)
            n = lr.start()
            faults.append((time.monotonic() - t0, f"lure run {n} started"))
        log(faults[-1][1])
    gen.wait()
    load_end = time.monotonic() - t0
    log(f"load done at {load_end:.0f} s: " + (work / "gen.log").read_text().strip().splitlines()[-1])

    # drain: lure's queue empty and nothing in flight, and the node's count stable
    drain0 = time.monotonic()
    empty = 0
    while time.monotonic() - drain0 < a.drain_timeout:
        st = lr.status()
        empty = empty + 1 if st and get(st, "lure.ship.queue_bytes") == 0 and \
            get(st, "lure.ship.in_flight") == 0 else 0
        if empty == 2:
            break
        time.sleep(2)
    drain_s = time.monotonic() - drain0
    rc = lr.stop()
    stop_sampling.set()
    th.join()
    time.sleep(3)  # the stop status event's bulk, when lure sent one before exiting
    log(f"drained in {drain_s:.0f} s; lure stopped (rc {rc}); reading back")

    # --- read back --------------------------------------------------------------------------------
    status = bytearray((work / "gen.status").read_bytes())
    total = len(status)
    logged = Tally(total, id_re)
    runs = []
    for n, out, proc in lr.runs:
        nev = bad = maxseq = busy = 0
        last_st = {}
        for e in events_of(out):
            nev += 1
            if "_bad" in e:
                bad += 1
                continue
            if get(e, "lure.events.accepted") is not None:  # a status event, not ship_error
                last_st = e
            maxseq = max(maxseq, get(e, "event.sequence", 0) or 0)
            busy += get(e, "lure.tls_hello.busy") is True
            logged.add(e)
        runs.append({"run": n, "events": nev, "bad_lines": bad, "max_sequence": maxseq, "tls_busy": busy,
                     "ended": "SIGTERM" if n == len(lr.runs) else "kill -9",
                     "last_status": get(last_st, "event.reason"),
                     **{k: get(last_st, f"lure.events.{k}") for k in
                        ("accepted", "dropped", "shipped", "ship_dropped", "dead_lettered", "retried")},
                     "queue_bytes": get(last_st, "lure.ship.queue_bytes")})
    node.refresh(pattern)
    indexed = Tally(total, id_re)
    scroll(node, pattern, indexed.add)
    node_docs = count_docs(node, pattern)
    dead = sum(1 for _ in events_of(work / "dead.ndjson"))

    # requests
    protos = {}
    for i in range(total):
        t = targets[i % len(targets)]
        key = f"{t['kind']}{'+tls' if t['tls'] else ''} {t['persona_port']}/{t['transport']}"
        p = protos.setdefault(key, {"requests": 0, "answered": 0, "sent_no_answer": 0, "refused": 0,
                                    "error": 0, "logged": 0, "indexed": 0, "answered_unlogged": 0,
                                    "lost": 0, "duplicated": 0, "logged_twice": 0,
                                    "indexed_unanswered": 0})
        p["requests"] += 1
        c = status[i]
        p[{ANSWERED: "answered", SENT: "sent_no_answer", REFUSED: "refused"}.get(c, "error")] += 1
        lg, ix = logged.ids[i], indexed.ids[i]
        p["logged"] += lg > 0
        p["indexed"] += ix > 0
        p["logged_twice"] += lg > 1
        p["duplicated"] += ix > 1
        if c == ANSWERED:
            p["answered_unlogged"] += lg == 0
            p["lost"] += ix == 0
        elif ix:
            p["indexed_unanswered"] += 1
    tot = {k: sum(p[k] for p in protos.values()) for k in next(iter(protos.values()))}
    # the requests lost or logged twice: which, and when (seconds after the load started)
    bad_reqs = [{"id": f"sk{token}x{i:08d}", "port": targets[i % len(targets)]["persona_port"],
                 "at_s": round(i / a.rate, 2),
                 "what": "duplicated" if indexed.ids[i] > 1 else
                         "answered, not logged" if logged.ids[i] == 0 else "logged, not indexed"}
                for i in range(total)
                if indexed.ids[i] > 1 or (status[i] == ANSWERED and indexed.ids[i] == 0)][:50]

    # events: every event.id of the output files, once in the index
    ev_lost = ev_dup = ev_extra = 0
    lost_by_action = {}
    for boot, seqs in logged.events.items():
        ix = indexed.events.get(boot, bytearray())
        for s, c in enumerate(seqs):
            if not c:
                continue
            k = ix[s] if s < len(ix) else 0
            if k == 0:
                ev_lost += 1
            elif k > 1:
                ev_dup += k - 1
    missing_ids = []
    for boot, seqs in indexed.events.items():
        lg = logged.events.get(boot, bytearray())
        for s, c in enumerate(seqs):
            if c and (s >= len(lg) or not lg[s]):
                ev_extra += 1
    if ev_lost:  # which actions: read the files again for the few missing
        for n, out, _p in lr.runs:
            for e in events_of(out):
                eid = get(e, "event.id")
                if not isinstance(eid, str):
                    continue
                boot, seq = eid.rsplit("-", 1)
                ix = indexed.events.get(boot, bytearray())
                s = int(seq)
                if s >= len(ix) or ix[s] == 0:
                    a_ = f"{get(e, 'event.action')}/{get(e, 'event.reason') or ''}".rstrip("/")
                    lost_by_action[a_] = lost_by_action.get(a_, 0) + 1
                    if len(missing_ids) < 10:
                        missing_ids.append(eid)

    # counters
    accepted_sum = sum(r["max_sequence"] for r in runs)
    dropped_sum = sum((r["dropped"] or 0) + (r["ship_dropped"] or 0) for r in runs)
    deadl_sum = sum(r["dead_lettered"] or 0 for r in runs)
    shipped_sum = sum(r["shipped"] or 0 for r in runs)
    lastr = runs[-1]
    docs = indexed.docs
    # drained: nothing is queued but, at most, the stop status event (its own queue_bytes names it)
    queued_end = ev_lost
    own = lastr["accepted"] is not None and lastr["accepted"] == lastr["max_sequence"] - 1
    counters_ok = (accepted_sum == docs + dropped_sum + deadl_sum + queued_end and own
                   and shipped_sum <= docs + dropped_sum)

    # RSS: flat per run, but for the pool slots a burst touched (Slots, rss_flat)
    flat = []
    for n, _o, _p in lr.runs:
        s = [(t, k, f or 0, u) for t, r, k, f, u in rss if r == n and k]
        if len(s) >= 3:
            flat.append({"run": n, **rss_flat(s, slots.slot_bytes)})
    gen_lines = [json.loads(x) for x in (work / "gen.log").read_text().splitlines() if x.startswith("{")]
    res = {"persona": pname, "minutes": a.minutes, "rate": a.rate, "outage_seconds": a.outage_seconds,
           "kills": a.kills, "tls_sessions": a.tls_sessions, "workdir": str(work), "token": token,
           "load_seconds": gen_lines[-1].get("seconds") if gen_lines else None,
           "achieved_rate": round(total / gen_lines[-1]["seconds"], 1) if gen_lines else None,
           "faults": [(round(t), w) for t, w in faults], "drain_seconds": round(drain_s),
           "requests": tot, "protocols": protos, "bad_requests": bad_reqs,
           "events": {"in_output_files": sum(r["events"] for r in runs), "documents": docs,
                      "node_count": node_docs, "lost": ev_lost, "duplicated": ev_dup,
                      "not_in_output": ev_extra, "lost_by_action": lost_by_action,
                      "lost_examples": missing_ids, "dead_letter_lines": dead,
                      "other_run_ids": indexed.other_ids},
           "runs": runs,
           "counters": {"accepted_sum": accepted_sum, "documents": docs, "dropped_sum": dropped_sum,
                        "dead_lettered_sum": deadl_sum, "queued_end": queued_end,
                        "shipped_sum": shipped_sum, "last_run_accepted_is_its_sequence": own,
                        "add_up": counters_ok},
           "rss": [(round(t), r, k, f, u) for t, r, k, f, u in rss], "rss_flat": flat,
           "slot_bytes": slots.slot_bytes, "slots_error": slots.error,
           "node_rss_kib": [k for k in node_rss]}
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))
    (work / "result.json").write_text(json.dumps(res, indent=1))
    node.close()

    # --- report -----------------------------------------------------------------------------------
    print()
    print(f"soak: persona {pname}, {a.minutes:g} min at {a.rate:g}/s (achieved {res['achieved_rate']}/s), "
          f"outage {a.outage_seconds:g} s, {a.kills} kill -9; work dir {work}")
    for t, w in res["faults"]:
        print(f"  {t:6d} s  {w}")
    print(f"  drain after the load: {res['drain_seconds']} s")
    print()
    cols = ["requests", "answered", "sent_no_answer", "refused", "error", "logged", "indexed",
            "answered_unlogged", "lost", "duplicated", "indexed_unanswered"]
    hdr = ["protocol"] + ["req", "answered", "no answer", "refused", "error", "logged", "indexed",
                          "ans.unlogged", "LOST", "DUP", "idx.unanswered"]
    rows = [[k] + [str(p[c]) for c in cols] for k, p in sorted(protos.items())]
    rows.append(["total"] + [str(tot[c]) for c in cols])
    w = [max(len(r[i]) for r in rows + [hdr]) for i in range(len(hdr))]
    for r in [hdr] + rows:
        print("  " + "  ".join(x.rjust(w[i]) if i else x.ljust(w[i]) for i, x in enumerate(r)))
    for b in bad_reqs[:10]:
        print(f"  {b['what']}: {b['id']} (port {b['port']}, started {b['at_s']} s after the load began)")
    ev = res["events"]
    print()
    print(f"  events: {ev['in_output_files']} in the output files, {ev['documents']} documents "
          f"(count {ev['node_count']}); lost {ev['lost']} {ev['lost_by_action'] or ''}, duplicated "
          f"{ev['duplicated']}, not in any output file {ev['not_in_output']}, dead-lettered "
          f"{ev['dead_letter_lines']}; TLS clients that found every tls.server_sessions slot busy "
          f"{sum(r['tls_busy'] for r in runs)}")
    print()
    print("  run  ended    events  max seq  accepted  shipped  dropped  ship_dropped  dead  queue_bytes"
          "  (last status)")
    for r in runs:
        print(f"  {r['run']:3d}  {r['ended']:7s} {r['events']:7d} {r['max_sequence']:8d} {r['accepted']!s:>9} "
              f"{r['shipped']!s:>8} {r['dropped']!s:>8} {r['ship_dropped']!s:>13} {r['dead_lettered']!s:>5} "
              f"{r['queue_bytes']!s:>12}  {r['last_status']}")
    c = res["counters"]
    print(f"  counters: sum of accepted (last event.sequence of each run) {c['accepted_sum']} = documents "
          f"{docs} + dropped {c['dropped_sum']} + dead-lettered {c['dead_lettered_sum']} + still queued "
          f"{c['queued_end']}: {'yes' if c['accepted_sum'] == docs + c['dropped_sum'] + c['dead_lettered_sum'] + c['queued_end'] else 'NO'}")
    print(f"  the last run's stop status counts its own events (accepted = its last sequence - 1): "
          f"{'yes' if own else 'NO'}; shipped counters summed over the runs {c['shipped_sum']} <= documents "
          f"+ dropped {docs + c['dropped_sum']} (no over-report; killed runs: last heartbeat): "
          f"{'yes' if shipped_sum <= docs + dropped_sum else 'NO'}")
    print()
    print("  lure RSS every 10 s:")
    for line in ascii_curve(rss):
        print("   " + line)
    print(f"  a pool slot (struct conn, emulator state, input and output buffer): "
          + (f"{slots.slot_bytes} bytes" if slots.slot_bytes else f"unknown: {slots.error}"))
    for f in flat:
        w = f["worst"]
        print(f"  run {f['run']}: {f['samples']} samples, first {f['first']} KiB, after warm-up {f['ref']} "
              f"({f['slots_at_ref']} slots), last {f['last']} ({f['slots_last']} slots), peak {f['peak']}: "
              f"{'flat' if f['flat'] else 'NOT FLAT'}; closest at {w['t']} s: {w['kib']} KiB = after "
              f"warm-up + {w['kib'] - f['ref']}, allowed {f['tolerance_kib']} + {w['pool_kib']} for "
              f"{(w['slots'] or 0) - (f['slots_at_ref'] or 0)} slots touched since")
    ok = (tot["lost"] == 0 and tot["duplicated"] == 0 and ev["lost"] == 0 and ev["duplicated"] == 0
          and c["add_up"] and all(f["flat"] for f in flat))
    if ok and not a.keep:  # the big files (a 30-minute run writes gigabytes); result.json stays
        for n, out, _p in lr.runs:
            out.unlink(missing_ok=True)
        for f in work.glob("spool*"):  # the spool and its companion files
            f.unlink()
    print()
    print("soak:", "PASS" if ok else "FAIL",
          f"(lost {tot['lost']}, answered-unlogged {tot['answered_unlogged']}, duplicated {tot['duplicated']}, "
          f"events lost {ev['lost']}, events duplicated {ev['duplicated']}, counters "
          f"{'add up' if c['add_up'] else 'do not add up'}, RSS "
          f"{'flat' if all(f['flat'] for f in flat) else 'not flat'})")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
