"""Failed logins per second and CPU per failed login, lure's linux persona
against the Debian daemon each of its services claims to be (issue 15's last
goal), side by side on loopback.

One login is the failure path a brute-forcer takes, on a new connection each
time, and counts once its failure answer has arrived:
  ftp    vsftpd 3.0.3: greeting, USER root, PASS <wrong>, "530 Login
         incorrect." (PAM: pam_unix's delay, ~3 s; lure's ftp.fail_delay_ms
         models it, 3000 ms)
  mysql  MariaDB 10.11: handshake V10, HandshakeResponse41 for root with a
         wrong mysql_native_password scramble; root is "unix_socket OR
         mysql_native_password" (Debian's), so both answer with an
         AuthSwitchRequest to mysql_native_password, the client scrambles the
         wrong password again with its salt, then error 1045
  redis  Redis 7.0: "AUTH <password>", the form bots send. The persona is the
         misconfigured VPS with no requirepass (emu/personas/linux/redis.conf),
         and Debian's redis-server runs with that config: both answer "-ERR
         AUTH <password> called without any password configured...". That is
         the failure both sides really have (a wrong password on a
         requirepass server, -WRONGPASS, is not this persona).
  smtp   Postfix 3.7 on submission: EHLO, STARTTLS, EHLO, AUTH PLAIN with
         a wrong password, 535
  vnc    Xvnc (TigerVNC 1.12): RFB 3.8, VNC authentication with a wrong
         response, SecurityResult 1 and its reason; each login from a new
         loopback address (Xvnc, and lure with it, block an address for 10 s
         after its fifth failure: the blocked answer is not this path)
Each is an entry in SERVICES: a daemon (daemons.py context manager) and a
login coroutine.

Method. The daemons delay failures (vsftpd through PAM by ~3 s, and lure as
it does); MariaDB and Redis do not. A loop of one login after another would
measure that delay, not capacity. So clients hold many connections at once:
CONC concurrent logins, each starting the next as soon as its previous one
fails, for a fixed duration, at a few concurrency levels; lure's run and the
daemon's run follow each other with identical settings (same client, same
duration, same levels). The client is asyncio (StreamReader), in CLIENTS
processes (2 by default: the machine has 2 cores, which client and server
share); its own CPU is reported (cli %: all its processes, 100 = one
core) so one can see when it, not the server, is the limit (mysql and
redis: near 150 % the client is). Sockets are closed with an RST
(SO_LINGER 0), as scanners close them, so that no TIME_WAIT exhausts the
ephemeral ports on either side.

  logins/s    completed failures in the window after a warm-up (the
              failure delay plus 1 s for ftp, 1 s otherwise), per second
  err         connections that did not end in the expected failure answer
  CPU ms      the server's whole process tree: each live process's run
              time (schedstat's ns for a single-threaded one, utime+stime
              for a threaded one: mariadbd's ended threads stay counted
              there) plus cutime+cstime (the children it reaped: vsftpd
              forks a session per connection and the session forks its
              unprivileged half), from before the first connection to
              after the last has closed and the tree is back to its main
              process, divided by all the logins completed in that time
              (ms per login). Loopback's receive path runs mostly in the
              sender's system time, so part of each side's network cost is
              the client's: the same for lure and the daemon.
  srv %       that CPU over the run's wall time (100 = one core)
  RSS / PSS   the tree's summed VmRSS and Pss (/proc/<pid>/smaps_rollup:
              shared pages split among the processes sharing them), MiB,
              sampled once near the end of the window. One lure serves
              every service in turn: its RSS is its high-water mark so far
              (it touches connection slots as it needs them, and keeps them)
  ratio       lure's logins/s over the daemon's at the same concurrency;
              cpu x: the daemon's CPU ms per login over lure's
Last, for each service, the CPU ceiling: the logins/s 2 cores would give
if the server had them to itself (2000 / CPU ms per login, the best level),
and the ratio of ceilings. Where the failure delay dominates (ftp: logins/s
= CONC / 3 s on both sides until a server runs out of CPU), logins/s at the
same concurrency are equal and the ratio of capacity is the CPU ratio.

Levels and the daemons' limits as configured: vsftpd takes 50 connections
per address (max_per_ip: the clients spread over loopback addresses) and
2000 in all (max_clients: both its built-in defaults, measured; the man
page says unlimited; ftp's top level, 3072, is past it), and listens with
a backlog of 32 (what it does not accept in time waits for SYN retries:
the timeouts in err, a login 5 s past the failure delay being one);
MariaDB takes 151 connections (max_connections), hence mysql's 128 at most.

Loopback only (127.0.0.0/8: the ftp clients come from 127.77.x.y). Needs
root (vsftpd with PAM, mariadbd as the mysql user), Debian's vsftpd,
mariadb-server and redis-server (sh tools/deps.sh bench); a daemon that is
missing leaves its service out, with the reason. A run takes about 3
minutes. Not pass/fail (exit 1 only when lure's logins fail).
smb (the windows persona's: `logins.py build/x86_64-windows/lure --only smb`)
is impacket's login against Debian's smbd (Samba 4.17, a standalone
server, root an account of its own passdb): SMB2 NEGOTIATE, SESSION_SETUP
with NTLMSSP in SPNEGO, the AUTHENTICATE with a wrong password's NetNTLMv2
response, STATUS_LOGON_FAILURE (issue 16's goal: 5x Samba's).
Usage: logins.py LURE_BIN [--only ftp,mysql] [--seconds S] [--clients N]
       [--conc ftp=256,1536 --conc mysql=8,64 ...]"""
import argparse
import asyncio
import base64
import contextlib
import json
import os
import random
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "persona"))
import daemons  # noqa: E402
from mysql_wire import hresp, native, pkt  # noqa: E402
import smb_packets as sp  # noqa: E402
from ssh_common import wait_port  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
WRONG = b"hunter2"  # no account on either side has it


# --- the logins (coroutines on a fresh connection's streams) ---------------------

class Unexpected(Exception):
    pass


async def ftp_reply(r):
    """One FTP reply (its last line "NNN "): the code."""
    while True:
        ln = await r.readline()
        if not ln:
            raise Unexpected("eof")
        if len(ln) > 3 and ln[3:4] == b" ":
            return ln[:3]


async def ftp_fail(r, w):
    if await ftp_reply(r) != b"220":
        raise Unexpected("greeting")
    w.write(b"USER root\r\n")
    if await ftp_reply(r) != b"331":
        raise Unexpected("USER")
    w.write(b"PASS " + WRONG + b"\r\n")
    if await ftp_reply(r) != b"530":
        raise Unexpected("PASS")


async def mysql_packet(r):
    h = await r.readexactly(4)
    return h[3], await r.readexactly(int.from_bytes(h[:3], "little"))


async def mysql_fail(r, w):
    _, g = await mysql_packet(r)
    if g[0] != 10:
        raise Unexpected("greeting")
    v_end = g.index(b"\0", 1)
    salt = g[v_end + 5:v_end + 13] + g[v_end + 32:v_end + 44]
    w.write(pkt(1, hresp(b"root", native(WRONG, salt))))
    seq, e = await mysql_packet(r)
    if e[:1] == b"\xfe":  # AuthSwitchRequest: root's first plugin is unix_socket
        name_end = e.index(b"\0", 1)
        w.write(pkt(seq + 1, native(WRONG, e[name_end + 1:name_end + 21])))
        _, e = await mysql_packet(r)
    if e[:3] != b"\xff\x15\x04":  # error 1045
        raise Unexpected(repr(e))


async def redis_fail(r, w):
    w.write(b"*2\r\n$4\r\nAUTH\r\n$%d\r\n%s\r\n" % (len(WRONG), WRONG))
    if (await r.readline())[:1] != b"-":
        raise Unexpected("AUTH")


async def smtp_reply(r):
    """One SMTP reply (its last line "NNN "): the code."""
    while True:
        ln = await r.readline()
        if not ln:
            raise Unexpected("eof")
        if len(ln) > 3 and ln[3:4] != b"-":
            return ln[:3]


TLS = ssl.create_default_context()
TLS.check_hostname = False
TLS.verify_mode = ssl.CERT_NONE


async def smtp_fail(r, w):
    """A brute-forcer on the submission port: EHLO, STARTTLS, EHLO again,
    AUTH PLAIN with a wrong password (AUTH is offered only under TLS)."""
    if await smtp_reply(r) != b"220":
        raise Unexpected("greeting")
    for line, code in ((b"EHLO bench\r\n", b"250"), (b"STARTTLS\r\n", b"220")):
        w.write(line)
        if await smtp_reply(r) != code:
            raise Unexpected(line.decode().strip())
    await w.start_tls(TLS)
    w.write(b"EHLO bench\r\n")
    if await smtp_reply(r) != b"250":
        raise Unexpected("EHLO in TLS")
    w.write(b"AUTH PLAIN " + base64.b64encode(b"\0admin\0" + WRONG) + b"\r\n")
    if await smtp_reply(r) != b"535":
        raise Unexpected("AUTH")


async def vnc_fail(r, w):
    """RFB 3.8, VNC authentication (type 2) with a wrong response, then
    SecurityResult 1 and the reason."""
    if await r.readexactly(12) != b"RFB 003.008\n":
        raise Unexpected("version")
    w.write(b"RFB 003.008\n")
    n = (await r.readexactly(1))[0]
    if 2 not in await r.readexactly(n):
        raise Unexpected("no VNC authentication")
    w.write(b"\x02")
    await r.readexactly(16)  # the challenge
    w.write(WRONG.ljust(16, b"x"))
    if await r.readexactly(4) != b"\0\0\0\x01":
        raise Unexpected("SecurityResult")
    await r.readexactly(struct.unpack(">I", await r.readexactly(4))[0])


@contextlib.contextmanager
def xvnc(d):
    """daemons.xvnc with the persona's password (vnc.accept)."""
    with daemons.xvnc(d, "password", ready_from="127.66.255.1") as x:
        yield x


async def nbss_msg(r):
    """One NetBIOS-framed SMB2 message: (status, session id, body)."""
    n = struct.unpack(">I", await r.readexactly(4))[0] & 0xffffff
    m = await r.readexactly(n)
    if m[:4] != b"\xfeSMB":
        raise Unexpected("not SMB2")
    return struct.unpack_from("<I", m, 8)[0], m[40:48], m


async def smb_fail(r, w):
    """What impacket's SMBConnection.login() sends for root with a wrong
    password: SMB2 NEGOTIATE (2.0.2 to 3.1.1), SESSION_SETUP
    with an NTLMSSP NEGOTIATE in SPNEGO, then the AUTHENTICATE with a
    NetNTLMv2 response of the wrong password over the server's challenge
    and target information; STATUS_LOGON_FAILURE."""
    w.write(sp.smb2_negotiate([0x202, 0x210, 0x300, 0x302, 0x311],
                              [sp.preauth_ctx(), sp.cipher_ctx(1, 2)], mid=0))
    if (await nbss_msg(r))[0] != 0:
        raise Unexpected("NEGOTIATE")
    w.write(sp.session_setup(sp.spnego_init(sp.ntlm_negotiate()), 1))
    st, sid, m = await nbss_msg(r)
    if st != 0xC0000016 or b"NTLMSSP\0\x02\0\0\0" not in m:
        raise Unexpected("CHALLENGE")
    auth = sp.authenticate_to(m, WRONG.decode(), "root", "CORP", "BENCH",
                              os.urandom(8))
    w.write(sp.session_setup(sp.spnego_resp(auth), 2, int.from_bytes(sid, "little")))
    if (await nbss_msg(r))[0] != 0xC000006D:
        raise Unexpected("not STATUS_LOGON_FAILURE")


@contextlib.contextmanager
def samba(d):
    """Debian 12's smbd (Samba 4.17) as a standalone server of workgroup
    CORP on a loopback port, its state under d; root is an account (its
    password is not WRONG)."""
    port = daemons.free_port()
    for sub in ("lock", "state", "cache", "private", "pid", "ncalrpc"):
        (d / sub).mkdir()
    conf = d / "smb.conf"
    conf.write_text(f"""[global]
server role = standalone server
workgroup = CORP
smb ports = {port}
interfaces = 127.0.0.1
bind interfaces only = yes
disable netbios = yes
map to guest = never
server min protocol = SMB2_02
lock directory = {d}/lock
state directory = {d}/state
cache directory = {d}/cache
private dir = {d}/private
pid directory = {d}/pid
ncalrpc dir = {d}/ncalrpc
log file = {d}/log
max log size = 0
log level = 0
""")
    # the account exists (in this config's own passdb), with another
    # password: smbd checks the NTLMv2 response, as Windows would
    subprocess.run(["smbpasswd", "-c", str(conf), "-a", "-s", "root"],
                   input=b"Summer2024!\nSummer2024!\n", check=True,
                   capture_output=True, timeout=30)
    p = subprocess.Popen(["/usr/sbin/smbd", "--foreground", "--no-process-group",
                          f"--configfile={conf}"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        daemons.wait_port(port, 30)
        yield p, port
    finally:
        daemons.stop(p, 10)


def samba_missing():
    if os.geteuid() != 0 or not os.access("/usr/sbin/smbd", os.X_OK):
        return "needs root and samba"
    return None


@contextlib.contextmanager
def postfix_587(_):
    """daemons.postfix's submission port."""
    with daemons.postfix() as (p, ports):
        yield p, ports[1]


class Service:
    """name, persona_port: lure's; daemon(dir), missing(): daemons.py's;
    login: the coroutine; delay: the failure delay (s); conc: the
    concurrency levels; spread: clients come from many loopback addresses
    ("each": a new one per login, as Xvnc blocks an address for 10 s after
    its fifth failure, and lure as it does; True: one per PER_SOURCE
    concurrent logins, as vsftpd's max_per_ip is 50 by default;
    MariaDB's root@localhost is only for 127.0.0.1, another address would
    be refused before the handshake)."""

    def __init__(self, name, persona_port, daemon, missing, login, delay,
                 conc, spread=False):
        self.name, self.persona_port = name, persona_port
        self.daemon, self.missing = daemon, missing
        self.login, self.delay, self.conc = login, delay, conc
        self.spread = spread


SERVICES = {s.name: s for s in [
    Service("ftp", 21, lambda d: daemons.vsftpd(d), daemons.vsftpd_missing,
            ftp_fail, 3.0, [256, 1536, 3072], spread=True),
    Service("mysql", 3306, lambda d: daemons.mariadbd(), daemons.mariadbd_missing,
            mysql_fail, 0.0, [8, 64, 128]),
    Service("redis", 6379, lambda d: daemons.redis_server(d), daemons.redis_missing,
            redis_fail, 0.0, [8, 64, 256]),
    Service("smtp", 587, postfix_587, daemons.postfix_missing, smtp_fail, 0.0,
            [8, 64, 128]),
    Service("vnc", 5900, xvnc, daemons.xvnc_missing, vnc_fail, 0.0,
            [8, 64, 128], spread="each"),
    # the windows persona's (logins.py build/x86_64-windows/lure --only smb)
    Service("smb", 445, samba, samba_missing, smb_fail, 0.0, [8, 64, 128]),
]}


# --- the client (run as its own process: logins.py --client ...) ----------------

PER_SOURCE = 32  # concurrent logins per source address (vsftpd's max_per_ip: 50)
IP_BIND_ADDRESS_NO_PORT = 24  # linux/in.h


def source(svc, i):
    """The loopback source address of the i-th concurrent login: 127.0.0.1,
    or for a daemon with a per-address limit (vsftpd) one address per
    PER_SOURCE logins."""
    if not svc.spread:
        return "127.0.0.1"
    g = i // PER_SOURCE
    return f"127.77.{g // 250}.{g % 250 + 1}"


async def client(svc, port, conc, first, start, warm, end):
    ok = counted = err = 0
    kinds = {}  # error: count
    linger = struct.pack("ii", 1, 0)
    loop = asyncio.get_running_loop()

    async def one(src):
        s = socket.socket()
        try:
            s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
            s.bind((src, 0))
            s.setblocking(False)
            await loop.sock_connect(s, ("127.0.0.1", port))
        except OSError:
            s.close()
            raise
        r, w = await asyncio.open_connection(sock=s, limit=65536)
        try:
            await asyncio.wait_for(svc.login(r, w), svc.delay + 5)
        finally:
            w.get_extra_info("socket").setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, linger)
            w.close()

    fresh = iter(range(first * 7919, 1 << 24))

    async def worker(src):
        nonlocal ok, counted, err
        # phases spread over the failure delay: with every login in step,
        # the window would count a whole number of delays per login
        await asyncio.sleep(random.uniform(0, svc.delay))
        while time.time() < end:
            if svc.spread == "each":
                k = next(fresh)
                src = f"127.{100 + k // 62500 % 100}.{k // 250 % 250}.{1 + k % 250}"
            try:
                await one(src)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError,
                    Unexpected, ValueError, IndexError) as e:
                err += 1
                why = f"{type(e).__name__} {e}"[:60]
                kinds[why] = kinds.get(why, 0) + 1
                await asyncio.sleep(0.05)
                continue
            ok += 1
            if warm <= time.time() <= end:
                counted += 1

    await asyncio.sleep(max(0.0, start - time.time()))
    t0 = os.times()
    await asyncio.gather(*(worker(source(svc, first + i)) for i in range(conc)))
    t = os.times()
    return {"ok": ok, "counted": counted, "err": err, "kinds": kinds,
            "cpu": t.user + t.system - t0.user - t0.system}


# --- the servers' process trees -------------------------------------------------

def tree(pid):
    out, todo = [], [str(pid)]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/children") as f:
                    todo += f.read().split()
        except OSError:
            pass
    return out


def tree_cpu(pid):
    """CPU seconds of pid's tree: each live process's run time (a
    single-threaded one's from its schedstat, in ns; a threaded one's from
    utime+stime in its stat, which keeps the time of threads that ended, in
    clock ticks) and cutime+cstime of each (the children it reaped, theirs
    included)."""
    total = 0.0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                v = f.read().rsplit(")", 1)[1].split()
            tasks = os.listdir(f"/proc/{p}/task")
            if len(tasks) == 1:
                with open(f"/proc/{p}/task/{tasks[0]}/schedstat") as f:
                    own = int(f.read().split()[0]) / 1e9
            else:
                own = (int(v[11]) + int(v[12])) / TICK  # utime stime
        except OSError:
            continue  # ended between the listing and now: in its parent's c*time
        total += own + (int(v[13]) + int(v[14])) / TICK  # cutime cstime
    return total


def tree_mem(pid):
    """(RSS, PSS) of pid's tree, MiB."""
    rss = pss = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for ln in f:
                    if ln.startswith("Rss:"):
                        rss += int(ln.split()[1])
                    elif ln.startswith("Pss:"):
                        pss += int(ln.split()[1])
        except OSError:
            pass
    return rss / 1024, pss / 1024


def run_level(svc, pid, port, conc, seconds, nclients):
    """One run against one server: a dict of the measures."""
    warm = (svc.delay + 1.0) if svc.delay else 1.0
    secs = seconds + warm
    t0 = time.time()
    start = t0 + 1.5  # the clients' imports
    cpu0 = tree_cpu(pid)
    per = [conc // nclients + (i < conc % nclients) for i in range(nclients)]
    procs = [subprocess.Popen(
        [sys.executable, __file__, "--client", svc.name, str(port), str(n),
         str(sum(per[:i])), repr(start), repr(start + warm), repr(start + secs)],
        stdout=subprocess.PIPE) for i, n in enumerate(per) if n]
    time.sleep(max(0.0, start + secs - 0.7 - time.time()))
    rss, pss = tree_mem(pid)
    res = [json.loads(p.communicate()[0]) for p in procs]
    # the tree back to its main process (vsftpd's sessions end on the RST)
    stop = time.time() + 10
    while len(tree(pid)) > 1 and time.time() < stop:
        time.sleep(0.05)
    cpu = tree_cpu(pid) - cpu0
    wall = time.time() - t0
    ok = sum(x["ok"] for x in res)
    return {"conc": conc, "rate": sum(x["counted"] for x in res) / seconds,
            "ok": ok, "err": sum(x["err"] for x in res),
            "cpu_ms": 1000 * cpu / ok if ok else float("nan"),
            "srv_pct": 100 * cpu / wall, "rss": rss, "pss": pss,
            "cli_pct": 100 * sum(x["cpu"] for x in res) / secs,
            "kinds": [k for x in res for k in x["kinds"].items()]}


# --- lure ---------------------------------------------------------------------------

def lure_ports(binary):
    out = subprocess.run([binary, "-V"], capture_output=True, check=True,
                         timeout=10).stdout.decode()
    return [int(w[1].split("/")[0]) for w in map(str.split, out.splitlines())
            if len(w) > 2 and w[0] == "port" and w[1].endswith("/tcp")]


def bindable(port):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


@contextlib.contextmanager
def lure(binary, d):
    """lure on 127.0.0.1 with every persona port moved by one offset (all
    below the ephemeral range, 32768-): (process, offset)."""
    ports = lure_ports(binary)
    off = next(o for o in range(20000, 32000 - max(ports), 97)
               if all(bindable(p + o) for p in ports))
    cfg = {"sensor_id": "bench", "listen": ["127.0.0.1"], "port_offset": off,
           "run_as_root": True, "state_file": f"{d}/state",
           "output": {"file": f"{d}/events.ndjson"},
           "limits": {"max_conns": 8192, "per_ip": 65536,
                      "idle_timeout": 600, "session_timeout": 3600}}
    with open(f"{d}/lure.json", "w") as f:
        json.dump(cfg, f)
    p = subprocess.Popen([binary, "-c", f"{d}/lure.json"],
                         stdout=subprocess.DEVNULL)
    try:
        # the first start makes the SSH host keys (RSA: seconds)
        wait_port(ports[0] + off, 120)
        yield p, off
    finally:
        daemons.stop(p, 10)


# --- main -----------------------------------------------------------------------------

def table(rows, ceilings):
    print(f"{'service':8} {'server':12} {'conc':>5} {'logins/s':>9} {'err':>5} "
          f"{'CPU ms':>7} {'srv %':>6} {'RSS MiB':>8} {'PSS MiB':>8} "
          f"{'cli %':>6} {'ratio':>6} {'cpu x':>6}")
    for svc, server, r, ratio, cpux in rows:
        print(f"{svc:8} {server:12} {r['conc']:5d} {r['rate']:9.1f} {r['err']:5d} "
              f"{r['cpu_ms']:7.3f} {r['srv_pct']:6.1f} {r['rss']:8.1f} "
              f"{r['pss']:8.1f} {r['cli_pct']:6.1f} {ratio:>6} {cpux:>6}")
    print()
    print(f"{'service':8} {'daemon':12} {'ceiling lure':>13} {'ceiling daemon':>15} "
          f"{'ratio':>6}   (logins/s 2 cores give: 2000 / CPU ms, best level)")
    for svc, daemon, a, b in ceilings:
        print(f"{svc:8} {daemon:12} {a:13.0f} {b:15.0f} {a / b:6.1f}x")


def main():
    ap = argparse.ArgumentParser(description="failed logins/s, lure vs the daemons")
    ap.add_argument("lure")
    ap.add_argument("--only", default=",".join(SERVICES))
    ap.add_argument("--seconds", type=float, default=4.0,
                    help="measured seconds per run, after the warm-up")
    ap.add_argument("--clients", type=int, default=2)
    ap.add_argument("--conc", action="append", default=[],
                    help="NAME=C,C,...: that service's concurrency levels")
    a = ap.parse_args()
    for c in a.conc:
        name, levels = c.split("=")
        SERVICES[name].conc = [int(x) for x in levels.split(",")]
    names = [n for n in a.only.split(",") if n]
    print(f"# logins.py {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{os.cpu_count()} cores, lure {a.lure}, {a.seconds:g} s per run "
          f"after a warm-up, {a.clients} client processes", flush=True)
    rows, ceilings, bad = [], [], False
    with tempfile.TemporaryDirectory(prefix="lure-logins-") as tmp, \
            lure(a.lure, tmp) as (lp, off):
        for name in names:
            svc = SERVICES[name]
            why = svc.missing()
            if why:
                print(f"# {name}: left out: {why}", flush=True)
                continue
            d = Path(tmp) / name
            d.mkdir()
            with svc.daemon(d) as (dp, dport):
                daemon = Path(dp.args[0]).name
                best = {}
                for conc in svc.conc:
                    got = {}
                    for who, pid, port in (("lure", lp.pid, svc.persona_port + off),
                                           (daemon, dp.pid, dport)):
                        got[who] = run_level(svc, pid, port, conc, a.seconds,
                                             a.clients)
                        r = got[who]
                        if r["cpu_ms"] == r["cpu_ms"]:  # not NaN
                            best[who] = min(best.get(who, r["cpu_ms"]), r["cpu_ms"])
                        print(f"# {name} {who} conc {conc}: {r['rate']:.1f}/s "
                              f"{r['err']} err {r['cpu_ms']:.3f} ms {r['kinds'][:3]}",
                              flush=True)
                    bad |= got["lure"]["ok"] == 0
                    lr, dr = got["lure"], got[daemon]
                    ratio = f"{lr['rate'] / dr['rate']:.2f}" if dr["rate"] else "-"
                    cpux = (f"{dr['cpu_ms'] / lr['cpu_ms']:.1f}"
                            if lr["ok"] and dr["ok"] and lr["cpu_ms"] else "-")
                    rows.append((name, "lure", lr, "", ""))
                    rows.append((name, daemon, dr, ratio, cpux))
                if best.get("lure") and best.get(daemon):
                    ceilings.append((name, daemon, 2000 / best["lure"],
                                     2000 / best[daemon]))
    print()
    table(rows, ceilings)
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--client":
        _, _, name, port, conc, first, start, warm, end = sys.argv
        print(json.dumps(asyncio.run(client(
            SERVICES[name], int(port), int(conc), int(first), float(start),
            float(warm), float(end)))))
        sys.exit(0)
    sys.exit(main())
