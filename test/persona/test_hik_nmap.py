"""nmap -sV against the hikvision persona on the camera's real ports, inside
a network namespace, as scanners see it: every TCP port must be named as a
Hikvision product.

Two service databases, both Debian's, unmodified: Debian 12's nmap 7.93
(/usr/share/nmap) and Debian 13's nmap-common 7.95 (LURE_NMAP_DB, fetched by
tools/nmapdb.sh). 7.93 predates the match lines for this firmware's web
server (Server: webserver, UTF-8 BOM index: added to nmap after 7.93), so
with it only RTSP and the SDK port can be named; with 7.95 every port."""
import os
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import persona

persona("hikvision")

NS = ("ip", "netns", "exec")


def scan(netns, ports, xml, datadir=None):
    cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p",
                      ",".join(map(str, ports)), "-oX", str(xml)]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=900)
    assert r.returncode == 0, r.stderr.decode()
    found = {}
    for port in ET.parse(xml).getroot().iter("port"):
        svc = port.find("service")
        found[int(port.get("portid"))] = (
            port.find("state").get("state"),
            ("ssl/" if svc is not None and svc.get("tunnel") == "ssl" else "")
            + (svc.get("name", "") if svc is not None else ""),
            svc.get("product", "") if svc is not None else "")
    return found


def check(found, ports):
    report = "\n".join(f"  {p}: {v}" for p, v in sorted(found.items()))
    for p in ports:
        state, name, product = found.get(p, (None, None, ""))
        assert state == "open", f"port {p} not open:\n{report}"
        assert "hikvision" in product.lower(), \
            f"port {p}: nmap says {name!r} {product!r}\n{report}"
    return report


@pytest.fixture
def cam(lure, netns, tmp_path):
    return lure({"listen": ["127.0.0.1"], "state_file": str(tmp_path / "state")},
                offset=0, wrap=NS + (netns,))


def tcp_ports(lure_info):
    ports = sorted(p for p, t, _ in lure_info.ports if t == "tcp")
    assert {80, 443, 554, 8000} <= set(ports), ports
    return ports


def test_nmap_795_names_every_port_hikvision(cam, lure_info, netns, tmp_path):
    db = os.environ.get("LURE_NMAP_DB")
    if not db or not (Path(db) / "nmap-service-probes").is_file():
        pytest.fail("LURE_NMAP_DB must hold Debian 13's nmap-service-probes "
                    "(sh tools/nmapdb.sh build/deps/nmap-db)")
    ports = tcp_ports(lure_info)
    found = scan(netns, ports, tmp_path / "nmap795.xml", Path(db).resolve())
    print(check(found, ports))
    assert found[443][1] in ("ssl/http", "ssl/https"), found[443]
    # nmap's probes are connections like any other: all logged
    assert len(cam.find("connection.open")) >= len(ports)


def test_nmap_793_names_rtsp_and_sdk_hikvision(cam, lure_info, netns, tmp_path):
    ports = tcp_ports(lure_info)
    found = scan(netns, ports, tmp_path / "nmap793.xml")
    print(check(found, [554, 8000]))
    # the web server: no 7.93 line names it; nmap falls back to the Server
    # header, which must be the camera's own (nothing else may show through)
    for p in (80, 443):
        assert found[p][0] == "open" and found[p][2] in ("", "webserver"), found[p]
