"""Scan observation tests (issue 13, part 1): lure in a sensor network
namespace, real scanners (nmap, masscan, zmap, hping3) in a scanner
namespace joined to it by a veth pair, tcpdump on the scanner's side to
see what comes back. The sensor fixtures and helpers are those of the
integration suite (test/it/conftest.py). Needs root (network namespaces,
packet sockets); skipped otherwise."""
import itertools
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from it.conftest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from it.conftest import get  # noqa: E402

SENSOR4, SCANNER4 = "10.77.0.1", "10.77.0.2"
SENSOR6, SCANNER6 = "fd77::1", "fd77::2"
_n = itertools.count()


class Pair:
    """Two namespaces joined by a veth pair, eth0 on each side."""

    def __init__(self):
        tag = f"{os.getpid()}-{next(_n)}"
        self.sensor, self.scanner = f"lure-ss{tag}", f"lure-sc{tag}"
        for ns in (self.sensor, self.scanner):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
            subprocess.run(["ip", "netns", "add", ns], check=True)
            self.sh(ns, "ip link set lo up")
        a, b = f"vs{tag}"[:15], f"vc{tag}"[:15]
        subprocess.run(["ip", "link", "add", a, "netns", self.sensor, "type", "veth",
                        "peer", "name", b, "netns", self.scanner], check=True)
        for ns, dev, v4, v6 in ((self.sensor, a, SENSOR4, SENSOR6),
                                (self.scanner, b, SCANNER4, SCANNER6)):
            self.sh(ns, f"ip link set {dev} name eth0")
            self.sh(ns, f"ip addr add {v4}/24 dev eth0")
            self.sh(ns, f"ip addr add {v6}/64 dev eth0 nodad")
            self.sh(ns, "ip link set eth0 up")
        self.sensor_mac = self.sh(self.sensor, "cat /sys/class/net/eth0/address").strip()

    def sh(self, ns, cmd, check=True, timeout=60):
        """Run cmd (a shell line) in namespace ns; its stdout."""
        r = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", cmd], capture_output=True,
                           text=True, timeout=timeout)
        if check and r.returncode:
            raise AssertionError(f"{cmd}: exit {r.returncode}\n{r.stdout}\n{r.stderr}")
        return r.stdout

    def scan(self, cmd, **kw):
        return self.sh(self.scanner, cmd, **kw)

    def close(self):
        for ns in (self.sensor, self.scanner):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


@pytest.fixture
def pair():
    if os.geteuid() != 0:
        pytest.skip("network namespaces and packet sockets need root")
    p = Pair()
    yield p
    p.close()


@pytest.fixture
def sensor(lure, pair):
    """sensor(scan={...}, **config) -> a Sensor in pair.sensor with scan
    observation on eth0 and the persona on its own ports."""
    def start(scan=None, **config):
        cfg = {"listen": ["0.0.0.0", "::"], "port_offset": 0,
               "scan": {"enabled": True, "interfaces": ["eth0"], **(scan or {})}}
        if cfg["scan"]["interfaces"] is None:  # every interface but lo
            del cfg["scan"]["interfaces"]
        cfg.update(config)
        return lure(cfg, offset=0, wrap=("ip", "netns", "exec", pair.sensor))
    return start


def scans(s, dataset="lure.scan", **fields):
    return s.find("scan", event__dataset=dataset, **fields)


def summary(s, ip):
    """The summary events of source ip."""
    return s.find("scan", event__dataset="lure.scan.summary", source__ip=ip)


def stop_and_summaries(s, ip):
    assert s.stop() == 0
    return summary(s, ip)
