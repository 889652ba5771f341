"""lure-report's suite: one real OpenSearch 2.19 node (test/es/node.py, with the ingest-geoip module and the
GeoLite2 databases from Maven Central) for every test of a module; several lure sensors (the openwrt persona:
ssh, telnet, http) ship to it through the ingest pipeline. Only 127.0.0.0/8 is used: scanners bind source
addresses 127.0.0.11... so each is its own source.

    make test-report            or, with a built openwrt lure:
    LURE_BIN=build/host-openwrt/lure python3 -m pytest -q test/report
"""
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "test" / "es"))
sys.path.insert(0, str(REPO / "test"))
sys.path.insert(0, str(REPO / "platform" / "analysis"))
from node import JavaUnavailable, Node, NodeError, build  # noqa: E402
from workers import worker_share  # noqa: E402

# the shipping suite's helpers (loaded under another name: both files are "conftest")
_spec = importlib.util.spec_from_file_location("ship_conftest", REPO / "test" / "ship" / "conftest.py")
_ship = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_ship)
_bindable, events_of, get, wait_until = _ship._bindable, _ship.parse_file, _ship.get, _ship.wait_until

ETC = REPO / "etc" / "es"
JAVA_OPTS = "-Xms128m -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
PORTS = (22, 23, 80, 443)   # the openwrt persona's TCP ports


def lure_bin():
    p = Path(os.environ.get("LURE_BIN") or "build/host-openwrt/lure")
    p = p if p.is_absolute() else REPO / p
    if not os.environ.get("LURE_BIN"):
        r = subprocess.run(["make", "-C", str(REPO), "PERSONA=openwrt", "-j2"], capture_output=True, text=True)
        if r.returncode:
            pytest.exit(f"make PERSONA=openwrt failed:\n{r.stdout[-2000:]}{r.stderr[-2000:]}", returncode=2)
    v = subprocess.run([str(p), "-V"], capture_output=True, text=True).stdout
    if "persona openwrt" not in v:
        pytest.skip(f"{p} is not the openwrt persona (ssh, telnet, http): {v.splitlines()[:2]}")
    return str(p)


def start_node():
    try:
        build()
    except JavaUnavailable as e:
        pytest.skip(f"java/maven missing and not installable: {e}")
    n = Node(java_opts=JAVA_OPTS)
    try:
        n.start()
    except NodeError:
        n.close()
        n = Node(java_opts=JAVA_OPTS)
        n.start()
    return n


_used = set()


def free_offset():
    lo, hi = worker_share(20000, 40000)
    for _ in range(300):
        off = random.randrange(lo, hi)
        if any(abs(off - u) < 500 for u in _used):
            continue
        if all(_bindable("127.0.0.1", p + off) for p in PORTS):
            _used.add(off)
            return off
    raise RuntimeError("no free port offset")


class Sensor:
    """One lure (openwrt persona) on 127.0.0.1 at a free port offset, shipping to url through the pipeline."""

    def __init__(self, tmp, sensor_id, url, heartbeat=2):
        self.id = sensor_id
        self.offset = free_offset()
        self.out = tmp / f"{sensor_id}.ndjson"
        cfg = {"sensor_id": sensor_id, "listen": ["127.0.0.1"], "port_offset": self.offset, "heartbeat": heartbeat,
               "state_file": str(tmp / f"{sensor_id}.state"), "output": {"file": str(self.out)},
               "elasticsearch": {"url": url, "template": str(ETC / "lure-template.json"), "pipeline": "lure",
                                 "pipeline_file": str(ETC / "lure-pipeline.json"), "flush_ms": 200,
                                 "spool": {"path": ""}}}
        if os.geteuid() == 0:
            cfg["run_as_root"] = True
        self.cfg = tmp / f"{sensor_id}.json"
        self.cfg.write_text(json.dumps(cfg))
        self.err = open(tmp / f"{sensor_id}.stderr", "wb")
        self.proc = subprocess.Popen([lure_bin(), "-c", str(self.cfg)], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err)

    def port(self, p):
        return p + self.offset

    def events(self):
        return events_of(self.out)

    def wait_started(self, timeout=60):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if any(get(e, "event.reason") == "start" for e in self.events()):
                return
            assert self.proc.poll() is None, f"{self.id} exited {self.proc.returncode}"
            time.sleep(0.1)
        pytest.fail(f"{self.id}: no start event in {timeout}s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.err.close()
