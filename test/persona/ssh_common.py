"""Helpers shared by the SSH persona suites (test_linux_ssh.py,
test_dropbear.py, test_openwrt_ssh.py): free loopback ports, Debian's
dropbear on one, and raw SSH packets before keys; talk() and drain() for
the other side-by-side suites (FTP, VNC) too."""
import os
import socket
import struct
import subprocess
import time

import pytest

DROPBEAR = "/usr/sbin/dropbear"
SSHD = "/usr/sbin/sshd"


def start_dropbear(d, keys=("rsa", "ecdsa", "ed25519"), extra=()):
    """Debian's dropbear in the foreground with host keys from dropbearkey
    in directory d: (process, port)."""
    if os.geteuid() != 0 or not os.access(DROPBEAR, os.X_OK):
        pytest.skip("needs root and dropbear-bin")
    args = []
    for t in keys:
        subprocess.run(["dropbearkey", "-t", t, "-f", str(d / t)],
                       check=True, capture_output=True)
        args += ["-r", str(d / t)]
    port = free_port()
    log = open(d / "log", "wb")
    p = subprocess.Popen([DROPBEAR, "-F", "-E", "-p", f"127.0.0.1:{port}",
                          "-P", str(d / "pid"), *args, *extra],
                         stdout=log, stderr=log)
    log.close()
    wait_port(port)
    return p, port


def sshd_config(d, port, listen="127.0.0.1"):
    """Fresh host keys and Debian 12's /etc/ssh/sshd_config (minus what
    needs a terminal) for an sshd on listen:port, in directory d: the
    config file's path."""
    for t in ("rsa", "ecdsa", "ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-t", t, "-N", "", "-f",
                        str(d / f"ssh_host_{t}_key")], check=True)
    cfg = d / "sshd_config"
    cfg.write_text(f"""Port {port}
ListenAddress {listen}
HostKey {d}/ssh_host_rsa_key
HostKey {d}/ssh_host_ecdsa_key
HostKey {d}/ssh_host_ed25519_key
PidFile {d}/sshd.pid
KbdInteractiveAuthentication no
UsePAM yes
X11Forwarding yes
PrintMotd no
AcceptEnv LANG LC_*
""")
    os.makedirs("/run/sshd", exist_ok=True)
    return cfg


def start_sshd(d):
    """Debian's sshd with its stock authentication settings and fresh host
    keys in directory d, on a free loopback port: (process, port)."""
    if os.geteuid() != 0 or not os.access(SSHD, os.X_OK):
        pytest.skip("needs root and openssh-server")
    port = free_port()
    cfg = sshd_config(d, port)
    p = subprocess.Popen([SSHD, "-D", "-f", str(cfg), "-E", str(d / "log")])
    wait_port(port)
    return p, port


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def nmap_port(port, datadir=None, *args):
    """nmap -sV of one loopback port (args: scripts, a source address...),
    with the service database in datadir (None: the installed one): its
    <port> element."""
    import xml.etree.ElementTree as ET
    cmd = ["nmap", "-n", "-Pn", "-sV", "-p", str(port), "-oX", "-", *args]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return ET.fromstring(r.stdout).find(".//port")


def nmap_dbs():
    """The nmap service databases to try: the installed one (None: Debian
    12's nmap 7.93), and Debian 13's (7.95) when LURE_NMAP_DB holds it
    (tools/nmapdb.sh)."""
    dbs = [None]
    db = os.environ.get("LURE_NMAP_DB")
    if db and os.path.isfile(os.path.join(db, "nmap-service-probes")):
        dbs.append(os.path.abspath(db))
    return dbs


def wait_port(port, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port}")


# --- raw protocol helpers ---------------------------------------------------

def recv_exact(s, n, timeout=5.0):
    buf = b""
    end = time.monotonic() + timeout
    while len(buf) < n:
        s.settimeout(max(0.01, end - time.monotonic()))
        d = s.recv(n - len(buf))
        if not d:
            raise EOFError(f"EOF after {len(buf)} of {n} bytes")
        buf += d
    return buf


def read_line(s):
    buf = b""
    while not buf.endswith(b"\n"):
        buf += recv_exact(s, 1)
    return buf


def read_plain_packet(s):
    """(packet_length, padding, payload) of an unencrypted packet."""
    length, pad = struct.unpack(">IB", recv_exact(s, 5))
    rest = recv_exact(s, length - 1)
    return length, rest[len(rest) - pad:], rest[:len(rest) - pad]


def parse_kexinit(payload):
    assert payload[0] == 20
    o, lists = 17, []
    for _ in range(10):
        (n,) = struct.unpack(">I", payload[o:o + 4])
        lists.append(payload[o + 4:o + 4 + n].decode())
        o += 4 + n
    return lists, payload[o:]


def plain_packet(payload):
    """An unencrypted packet, padded to 8 with at least 4 bytes."""
    pad = 8 - (5 + len(payload)) % 8
    if pad < 4:
        pad += 8
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + \
        b"\0" * pad


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def kexinit_payload(kex, hostkey, follows=0, cipher=b"aes128-ctr",
                    mac=b"hmac-sha2-256"):
    return (b"\x14" + b"\x11" * 16 + sshstr(kex) + sshstr(hostkey)
            + sshstr(cipher) * 2 + sshstr(mac) * 2 + sshstr(b"none") * 2
            + sshstr(b"") * 2 + bytes([follows]) + b"\0\0\0\0")


def kexinit_of(port):
    """Banner, and the KEXINIT the server sends before it has seen a byte
    from the client."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        banner = read_line(s)
        length, padding, payload = read_plain_packet(s)
    lists, tail = parse_kexinit(payload)
    return banner, length, len(padding), lists, tail


def talk(port, steps, wait=0.6, src=None):
    """Connect (from address src if given), read the greeting, play the steps (bytes then a 0.3 s pause, or a
    float: a pause), read for `wait` s more: (bytes, end, seconds from the
    last step to the last byte)."""
    s = socket.create_connection(("127.0.0.1", port),
                                 source_address=(src, 0) if src else None)
    out, end, last = b"", "open", time.monotonic()

    def read(for_s):
        nonlocal out, end, last
        stop = time.monotonic() + for_s
        while end == "open" and time.monotonic() < stop:
            s.settimeout(max(0.01, stop - time.monotonic()))
            try:
                d = s.recv(65536)
            except socket.timeout:
                break
            except ConnectionResetError:
                end = "reset"
                break
            if not d:
                end = "eof"
                break
            out += d
            last = time.monotonic()

    read(0.3)
    t0 = time.monotonic()
    for st in steps:
        if end != "open":
            break
        if isinstance(st, float):
            read(st)
            continue
        t0 = time.monotonic()
        try:
            s.sendall(st)
        except OSError:
            break
        read(0.3)
    read(wait)
    s.close()
    return out, end, max(0.0, last - t0)


def drain(s, wait):
    """Everything s receives for wait seconds, and how it ended: eof, reset
    or open; closes s."""
    out, end = b"", "open"
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "reset"
            break
        if not d:
            end = "eof"
            break
        out += d
    s.close()
    return out, end


def answer(port, chunks, wait=1.5):
    """What the server sends after its banner and KEXINIT to chunks (sent
    0.2 s apart), how it ended (eof, reset or open) and after how long."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    t0 = time.monotonic()
    read_line(s)
    read_plain_packet(s)
    for c in chunks:
        try:
            s.sendall(c)
        except OSError:
            break
        time.sleep(0.2)
    out, end = drain(s, wait)
    return out, end, time.monotonic() - t0


def packet_types(data):
    """Types of the unencrypted packets in data, with the padding of each
    (random in dropbear) cut out."""
    types, o = [], 0
    while o + 5 <= len(data):
        length, pad = struct.unpack(">IB", data[o:o + 5])
        types.append(data[o + 5:o + 4 + length - pad + 0])
        o += 4 + length
    return types


def failures(port, out, user="root", n=10):
    import paramiko
    t = paramiko.Transport(("127.0.0.1", port))
    t.start_client(timeout=10)
    try:
        t.auth_none(user)
    except paramiko.BadAuthenticationType as e:
        out.append(("none", sorted(e.allowed_types)))
    for i in range(n):
        t0 = time.monotonic()
        try:
            t.auth_password(user, f"wrong{i}")
            out.append(("ok", 0))
        except paramiko.AuthenticationException as e:
            out.append((str(e), round(time.monotonic() - t0, 2)))
    t.close()
