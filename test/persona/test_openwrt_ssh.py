"""The openwrt persona's SSH port (OpenWrt 23.05.2's dropbear 2022.82 as
OpenWrt builds it: no ECC, no zlib, no version in the ident, -T 3) beside
the closest real daemon Debian has: its dropbear 2022.83 with only the
Ed25519 and RSA host keys OpenWrt generates and MaxAuthTries 3. The lists
OpenWrt's build options leave alone must equal the real daemon's, the ones
they change must differ exactly as the options say; malformed input, the
failure delay and the third failure behave alike; nmap names it Dropbear;
a brute forcer's password logs in and the session reaches the shell."""
import json
import re
import shutil
import subprocess
import threading
import warnings
import xml.etree.ElementTree as ET

import pytest

from conftest import get, persona
from ssh_common import answer, failures, kexinit_of, nmap_dbs, \
    packet_types, start_dropbear

persona("openwrt")

paramiko = pytest.importorskip("paramiko")


@pytest.fixture(scope="module")
def dropbear(tmp_path_factory):
    p, port = start_dropbear(tmp_path_factory.mktemp("dropbear"),
                             keys=("ed25519", "rsa"), extra=("-T", "3"))
    yield port
    p.terminate()
    p.wait(timeout=10)


@pytest.fixture
def sensor(lure, tmp_path):
    s = lure({"state_file": str(tmp_path / "state")}, wait=False)
    s.start_event = s.wait_event("status", timeout=60, event__reason="start")
    return s


def test_identity_is_debians_dropbear_less_openwrts_options(dropbear, sensor):
    real = kexinit_of(dropbear)
    ours = kexinit_of(sensor.port(22))
    assert real[0] == b"SSH-2.0-dropbear_2022.83\r\n"
    assert ours[0] == b"SSH-2.0-dropbear\r\n"  # LOCAL_IDENT, no version
    rk, ok = real[3], ours[3]
    # DROPBEAR_ECDH off (CONFIG_DROPBEAR_ECC n); no strict KEX in 23.05.2
    assert ok[0].split(",") == [k for k in rk[0].split(",")
                                if not k.startswith("ecdh-")
                                and k != "kex-strict-s-v00@openssh.com"]
    assert ok[1] == rk[1] == "ssh-ed25519,rsa-sha2-256,ssh-rsa"
    assert ok[2:6] == rk[2:6]  # ciphers and MACs: dropbear's defaults
    assert ok[6:8] == ["none", "none"]  # --disable-zlib
    assert ok[8:] == rk[8:] and ours[4] == real[4]


def test_nmap_says_dropbear(dropbear, sensor):
    if not shutil.which("nmap"):
        pytest.skip("nmap not installed")
    dbs = nmap_dbs()
    for d in dbs:
        cmd = ["nmap", "-n", "-Pn", "-sV", "-p", str(sensor.port(22)),
               "-oX", "-"] + (["--datadir", str(d)] if d else [])
        r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True,
                           timeout=300)
        svc = ET.fromstring(r.stdout).find(".//port/service")
        assert (svc.get("name"), svc.get("product")) == \
            ("ssh", "Dropbear sshd"), (d, svc.attrib)
        assert not svc.get("version"), svc.attrib


BAD = {
    "major_1": [b"SSH-1.5-1.2.27\r\n"],
    "http": [b"GET / HTTP/1.0\r\n\r\n"],
    "nul": [b"SSH-2.0-f\x00oo\r\n"],
    "newkeys_first": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x0a\x15" + b"A" * 10],
    "bad_padding": [b"SSH-2.0-x\r\n", b"\0\0\0\x0c\x02\x02" + b"A" * 10],
    "oversized": [b"SSH-2.0-x\r\n", b"\x7f\xff\xff\xff" + b"A" * 60],
    "garbage": [b"SSH-2.0-x\r\n", bytes(range(256)) * 4],
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_malformed_input_like_dropbear(dropbear, sensor, case):
    real = answer(dropbear, BAD[case])
    ours = answer(sensor.port(22), BAD[case])
    assert packet_types(ours[0]) == packet_types(real[0])
    assert (ours[1] == "open") == (real[1] == "open"), (ours[1], real[1])


def test_three_failures_close_like_dropbear_t3(dropbear, sensor):
    real, ours = [], []
    th = [threading.Thread(target=failures, args=(dropbear, real, "root", 3)),
          threading.Thread(target=failures,
                           args=(sensor.port(22), ours, "root", 3))]
    for x in th:
        x.start()
    for x in th:
        x.join(timeout=60)
    assert [o[0] for o in ours] == [r[0] for r in real]
    assert ours[3][0].endswith("transport shut down or saw EOF"), ours
    for _, a in ours[1:4]:
        assert 0.2 <= a <= 0.6, ours


@pytest.mark.parametrize("pw", ["admin", "password", "root"])
def test_brute_forcer_password_logs_in(sensor, pw):
    r = subprocess.run(
        ["sshpass", "-p", pw, "ssh", "-o", "StrictHostKeyChecking=no",
         "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
         "-o", "PubkeyAuthentication=no", "-p", str(sensor.port(22)),
         "root@127.0.0.1", "echo in"],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode == 0, r.stderr
    assert r.stdout == b"in\n"
    ev = sensor.wait_event("login", lure__auth__password=pw)
    assert get(ev, "event.outcome") == "success"
    cmd = sensor.wait_event("command", lure__command="echo in")
    assert get(cmd, "user.name") == "root"
    assert json.dumps(cmd)


def test_ls_long_is_busyboxs(sensor, tmp_path):
    """ls -l in BusyBox's fixed columns with its "total" line (KiB) and a
    directory's 4096: the same line run by BusyBox 1.35's ash and ls in a
    fresh directory."""
    line = "echo 12345 > a; mkdir d; ls -l; ls -l a d"
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    for _ in range(3):  # a minute may turn between the two
        real = subprocess.run(["busybox", "ash", "-c", line.replace("ls", "busybox ls")],
                              cwd=tmp_path,
                              capture_output=True, text=True, env={"TZ": "UTC"})
        c.connect("127.0.0.1", sensor.port(22), username="root", password="admin",
                  look_for_keys=False, allow_agent=False, timeout=10)
        _, out, err = c.exec_command("mkdir -p /tmp/t; cd /tmp/t; " + line)
        got = (out.read().decode(), err.read().decode(), out.channel.recv_exit_status())
        c.close()
        if got == (real.stdout, real.stderr, real.returncode):
            return
        for p in tmp_path.iterdir():
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    assert got == (real.stdout, real.stderr, real.returncode)


def sh_exec(sensor, line):
    """line as an exec request, logged in as root:admin: (stdout, stderr,
    status)."""
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(22), username="root", password="admin",
              look_for_keys=False, allow_agent=False, timeout=10)
    _, out, err = c.exec_command(line)
    got = (out.read().decode(), err.read().decode(), out.channel.recv_exit_status())
    c.close()
    return got


def test_shadow_hash_is_the_bait_password_per_device(lure, tmp_path):
    """/etc/shadow holds root's md5crypt (what OpenWrt 23.05's BusyBox
    passwd writes) of the password the persona takes first, with a salt
    drawn per device: two sensors (two state files) show two hashes, both
    of which glibc's crypt verifies with "admin"; the other lines are
    OpenWrt's; wc counts the bytes cat prints."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt
    hashes = []
    for i in range(2):
        s = lure({"state_file": str(tmp_path / f"state{i}")}, wait=False)
        s.start_event = s.wait_event("status", timeout=60, event__reason="start")
        out, err, rc = sh_exec(s, "cat /etc/shadow")
        wc = sh_exec(s, "wc -c /etc/shadow")[0]
        s.close()
        assert rc == 0 and err == ""
        root = out.split("\n")[0].split(":")
        assert root[0] == "root" and root[2:] == ["19675", "0", "99999", "7", "", "", ""]
        assert re.fullmatch(r"\$1\$[./0-9A-Za-z]{8}\$[./0-9A-Za-z]{22}", root[1])
        assert crypt.crypt("admin", root[1]) == root[1]
        assert crypt.crypt("root", root[1]) != root[1]
        assert "\nubus:x:0:0:99999:7:::\n" in out
        assert wc.split() == [str(len(out.encode())), "/etc/shadow"]
        hashes.append(root[1])
    assert hashes[0] != hashes[1], "two sensors share a salt"


def test_proc_uptime_is_the_boot_clock(sensor):
    """/proc/uptime: the seconds since boot (the same clock as this
    host's), then the four CPUs' idle seconds; /proc/loadavg an idle
    box's."""
    out = sh_exec(sensor, "cat /proc/uptime; cat /proc/loadavg")[0].split("\n")
    with open("/proc/uptime") as f:
        host = float(f.read().split()[0])
    up, idle = map(float, out[0].split())
    assert abs(up - host) < 5 and up <= idle < 4 * up
    assert re.fullmatch(r"0\.00 0\.00 0\.00 1/\d+ \d+", out[1])


def test_applet_links_like_busyboxs_ls(sensor, tmp_path):
    """BusyBox's applets are symbolic links to /bin/busybox (relative, as
    OpenWrt installs them): ls -l shows the link, its target's length and
    the image's date as BusyBox 1.35's ls does for the same links."""
    (tmp_path / "bin").mkdir()
    (tmp_path / "usr/bin").mkdir(parents=True)
    (tmp_path / "bin/sh").symlink_to("busybox")
    (tmp_path / "usr/bin/awk").symlink_to("../../bin/busybox")
    for p in ("bin/sh", "usr/bin/awk"):
        subprocess.run(["touch", "-h", "-d", "2023-11-14 12:00", str(tmp_path / p)],
                       check=True)
    line = "cd /bin; ls -l sh; cd /usr/bin; ls -l awk"
    real = subprocess.run(["busybox", "ash", "-c", line.replace("ls", "busybox ls")
                           .replace("cd /", f"cd {tmp_path}/")],
                          capture_output=True, text=True, env={"TZ": "UTC"})
    assert real.stdout.count(" -> ") == 2
    assert sh_exec(sensor, line) == (real.stdout, real.stderr, real.returncode)
