"""make image TARGET=mipsel|armhf booted under qemu-system: Debian's kernel, BusyBox and the .ipk's
contents; /init maps the UCI config with lure-uci (busybox awk on the target) and runs lure. The host
probes the persona through forwarded ports on 127.0.0.1 (HTTP with curl, telnet login with a raw
socket), and the events must reach the suite's OpenSearch node through the VM's guestfwd (10.0.2.100:9200
-> socat -> 127.0.0.1:<node>). The network is restrict=on: the guest reaches nothing else.
Boot time (qemu start -> first HTTP answer) and lure's RSS in the VM go to build/deploy/measurements.json."""
import json
import random
import re
import shlex
import socket
import subprocess
import time
from pathlib import Path

import pytest
from conftest import BUILD, REPO, get, make_env, need, run, ship, wait_until

TARGETS = ["mipsel", "armhf"]


def es_events(node, query, pattern="lure-vm-*"):
    node.refresh(pattern)
    st, r = node.request("POST", f"/{pattern}/_search?ignore_unavailable=true&allow_no_indices=true",
                         {"size": 100, "sort": [{"@timestamp": "desc"}],
                          "query": {"query_string": {"query": query}}})
    assert st == 200, f"search: {st} {r}"
    return [h["_source"] for h in r["hits"]["hits"]]


def http_get(port, path, timeout=3):
    """(status code, body) of one HTTP/1.0 GET on 127.0.0.1:port, or None while nothing answers."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: lure-vm-test\r\n\r\n".encode())
            data = b""
            while True:
                d = s.recv(4096)
                if not d:
                    break
                data += d
    except OSError:
        return None
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", data)
    return (int(m.group(1)), data) if m else None


def telnet_login(port, user, password, timeout=10):
    """Log in through the telnet port: read up to 'login: ', send user, read 'Password: ', send the
    password, read the answer. Returns everything the sensor sent (telnet negotiation included)."""
    got = b""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        def until(marker):
            nonlocal got
            end = time.monotonic() + timeout
            while marker not in got:
                if time.monotonic() > end:
                    raise AssertionError(f"no {marker!r} from the VM's telnet; got {got!r}")
                d = s.recv(1024)
                if not d:
                    raise AssertionError(f"telnet closed before {marker!r}; got {got!r}")
                got += d
        until(b"login: ")
        s.sendall(user.encode() + b"\r\n")
        until(b"Password: ")
        s.sendall(password.encode() + b"\r\n")
        until(b"Login incorrect")
    return got


@pytest.fixture(scope="module")
def measurements():
    m = {}
    yield m
    path = BUILD / "measurements.json"
    old = json.loads(path.read_text()) if path.exists() else {}
    old.update(m)
    path.write_text(json.dumps(old, indent=1, sort_keys=True) + "\n")


@pytest.mark.parametrize("target", TARGETS)
def test_image_boots_serves_and_ships(target, node, tmp_path, measurements):
    need("socat", "cpio")
    r = run(["make", "--no-print-directory", "-C", str(REPO), f"TARGET={target}", "image", "-j2"], timeout=1200,
            env=make_env())
    img = Path(r.stdout.strip().splitlines()[-1])
    assert (img / "vmlinuz").is_file() and (img / "initramfs.cpio.gz").is_file(), r.stdout[-2000:]
    args = shlex.split((img / "qemu.args").read_text())
    need(args[0])
    http, telnet = ship.free_port(), ship.free_port()
    esport = node.url.rstrip("/").rsplit(":", 1)[1]
    tag = f"{random.randrange(1 << 30):08x}"
    netdev = (f"user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:{http}-:80,hostfwd=tcp:127.0.0.1:{telnet}-:23,"
              f"guestfwd=tcp:10.0.2.100:9200-cmd:socat - TCP:127.0.0.1:{esport}")
    console = tmp_path / "console.log"
    args = [a.replace("panic=-1", f"panic=-1 lure.hostname=vm-{target}-{tag}") for a in args]
    t0 = time.monotonic()
    qemu = subprocess.Popen(args + ["-netdev", netdev, "-serial", f"file:{console}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        def answered():
            if qemu.poll() is not None:
                pytest.fail(f"qemu exited rc={qemu.returncode}: {qemu.stdout.read()[-2000:]!r}\n"
                            f"{console.read_text(errors='replace')[-3000:]}")
            return http_get(http, "/")
        wait_until(answered, 120, f"an HTTP answer from the {target} VM", step=0.5)
        boot_s = time.monotonic() - t0
        log = console.read_text(errors="replace")
        assert "LURE-CONFIG-OK" in log, log[-3000:]

        code, body = http_get(http, f"/vm-probe-{tag}?x=1")
        assert code in (200, 401, 403, 404), body[:300]
        got = telnet_login(telnet, "root", f"pw-{tag}")
        assert b"login: " in got

        sid = f"qemu-{target}"
        req = wait_until(lambda: es_events(node, f'url.original:"/vm-probe-{tag}?x=1"'), 60,
                         f"the {target} VM's request event in the node")
        assert get(req[0], "observer.name") == sid
        assert get(req[0], "observer.hostname") == f"vm-{target}-{tag}"
        assert get(req[0], "source.ip") == "10.0.2.2"  # the host, through qemu's user-mode network
        login = wait_until(lambda: es_events(node, f'lure.auth.password:"pw-{tag}"'), 60,
                           f"the {target} VM's telnet login event in the node")
        assert get(login[0], "user.name") == "root"
        hb = wait_until(lambda: [e for e in es_events(node, f'observer.hostname:"vm-{target}-{tag}" '
                                                          f'AND event.reason:heartbeat')
                                 if get(e, "lure.rss_kib")], 60, f"a heartbeat from the {target} VM")
        rss_kib = get(hb[0], "lure.rss_kib")
        log = console.read_text(errors="replace")
        vm_rss = re.findall(r"LURE-RSS (\d+) kB", log)
        up = re.search(r"LURE-START uptime=([\d.]+)", log)
        measurements[target] = {
            "boot_to_http_s": round(boot_s, 2),
            "kernel_uptime_at_lure_start_s": float(up.group(1)) if up else None,
            "rss_kib_status_event": rss_kib,
            "rss_kib_proc_status": int(vm_rss[-1]) if vm_rss else None,
            "kernel": (img / "kernel.version").read_text().strip(),
            "initramfs_bytes": (img / "initramfs.cpio.gz").stat().st_size,
        }
        assert "LURE-EXIT" not in log, log[-3000:]
        assert boot_s < 90
        assert 0 < rss_kib < 4096, rss_kib
    finally:
        if qemu.poll() is None:
            qemu.terminate()
            try:
                qemu.wait(10)
            except subprocess.TimeoutExpired:
                qemu.kill()
                qemu.wait()
