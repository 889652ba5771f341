"""The cross-built static binary under qemu-user, on 127.0.0.1: what it is,
a full session (HTTP request, telnet login, stop), its idle memory, and a
TLS handshake of the same target's TLS client (test/tls/tls_client.c on the
backend under test) against a loopback openssl s_server."""
import os
import signal
import socket
import subprocess
import time

import pytest

from conftest import REPO, it

ELF_MACHINE = {  # what file(1) says of each target
    "x86_64": "x86-64", "aarch64": "ARM aarch64", "armhf": "ARM, EABI5",
    "mipsel": "32-bit LSB executable, MIPS", "mips": "32-bit MSB executable, MIPS",
}


def test_static_binary_for_the_target(cross):
    f = subprocess.run(["file", "-L", str(cross.dir / "lure")],
                       capture_output=True, text=True).stdout
    assert ELF_MACHINE[cross.target] in f, f
    assert "statically linked" in f, f
    r = subprocess.run(cross.run(cross.dir / "lure", "-V"),
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert f"tls {cross.tls}" in r.stdout.splitlines(), r.stdout


def test_session_and_stop(lure, cross):
    s = lure({"limits": {"idle_timeout": 10}})
    http = s.port(80)
    telnet = s.port(23)
    with it.tcp(http) as c:
        c.sendall(b"GET /cross?t=" + cross.target.encode() +
                  b" HTTP/1.1\r\nHost: x\r\nUser-Agent: cross\r\n\r\n")
        head = it.recv_until(c, b"\r\n\r\n", 10)
        assert head.startswith(b"HTTP/1.1 "), head[:80]
    e = s.wait_event("request", timeout=10,
                     url__original="/cross?t=" + cross.target)
    assert it.get(e, "user_agent.original") == "cross"
    assert it.get(e, "source.ip") == "127.0.0.1"
    with it.tcp(telnet) as c:
        it.recv_until(c, b"login: ", 10)
        c.sendall(b"admin\r\n")
        it.recv_until(c, b"assword: ", 10)
        c.sendall(b"x-" + cross.target.encode() + b"\r\n")
        e = s.wait_event("login", timeout=10, user__name="admin")
        assert it.get(e, "lure.auth.password") == "x-" + cross.target
        assert it.get(e, "event.dataset") == "lure.telnet"
    assert s.stop(signal.SIGTERM, timeout=20) == 0
    evs = s.events(complete=True)
    assert it.match(evs[-1], "status", event__reason="stop"), evs[-1]
    seqs = [it.get(e, "event.sequence") for e in evs]
    assert seqs == list(range(1, len(seqs) + 1))  # no gap on any target


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_idle_rss(lure, cross, tmp_path):
    """Idle RSS: under qemu-user the process is qemu, so a static program
    that only sleeps, built with the same toolchain, is measured too and
    taken off (qemu's own memory, the translated-code cache)."""
    s = lure({"limits": {"max_conns": 1024}})
    time.sleep(1.5)
    lure_rss = rss_kib(s.pid)
    base = 0
    if cross.qemu:
        src = tmp_path / "idle.c"
        src.write_text("#include <unistd.h>\nint main(void){pause();return 0;}\n")
        cc = REPO / "build" / "deps" / cross.target / "toolchain" / "bin" / "cc"
        exe = tmp_path / "idle"
        subprocess.run([str(cc), "-Os", "-static", "-s", "-o", str(exe),
                        str(src)], check=True)
        p = subprocess.Popen(cross.run(exe))
        try:
            time.sleep(1.5)
            base = rss_kib(p.pid)
        finally:
            p.kill()
            p.wait()
    delta = lure_rss - base
    print(f"\nRSS idle {cross.target}/{cross.tls}: {lure_rss} KiB"
          + (f" under qemu, an idle static program {base} KiB: lure "
             f"{delta} KiB" if cross.qemu else ""))
    assert delta < 1024  # README: idle RSS <= 1 MiB


@pytest.fixture
def s_server(tmp_path):
    key, crt = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(crt), "-days", "2",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost"],
                   check=True, capture_output=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.Popen(["openssl", "s_server", "-accept",
                          f"127.0.0.1:{port}", "-cert", str(crt), "-key",
                          str(key), "-www", "-tls1_2", "-quiet"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    def up():
        assert p.poll() is None, p.stderr.read().decode()
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            return False
    it.wait_until(up, 10, what="s_server")
    yield port, crt
    p.terminate()
    p.wait()


def test_tls_handshake_under_qemu(cross, s_server):
    port, crt = s_server
    name = "tls_client" + ("" if cross.tls == "mbedtls" else "_" + cross.tls)
    client = REPO / "build" / f"tls-test-{cross.target}" / name
    assert client.exists(), f"{client}: built by test/cross/run.sh"
    r = subprocess.run(cross.run(client, "127.0.0.1", port, "localhost", crt,
                                 "/"), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.startswith(b"HTTP/1.0 200 ok"), r.stdout[:100]
    assert b"version=TLSv1.2" in r.stderr
    r = subprocess.run(cross.run(client, "127.0.0.1", port, "wronghost", crt,
                                 "/"), capture_output=True, timeout=60)
    assert r.returncode == 1
    assert b"certificate verify failed for wronghost" in r.stderr
