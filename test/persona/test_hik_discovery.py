"""The camera's discovery answers: ONVIF WS-Discovery (3702/udp), probed and
parsed with the WSDiscovery library from PyPI, and Hikvision SADP
(37020/udp), probed with the inquiry the vendor's tool sends. Answers must
name this sensor's identity and the address the probe reached."""
import re
import socket
import uuid
import xml.etree.ElementTree as ET

from wsdiscovery import QName
from wsdiscovery.actions.probe import constructProbe
from wsdiscovery.message import createSOAPMessage, parseSOAPMessage

from conftest import get, persona

persona("hikvision")

NS_DN = "http://www.onvif.org/ver10/network/wsdl"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"


def identity(path):
    return {w[1]: w[2] for w in (l.split(" ", 2) for l in path.read_text().splitlines())
            if w[0] == "value"}


def ask(port, data, host="127.0.0.1", timeout=2.0, repeat=1):
    """Send a datagram (repeat times, as SOAP-over-UDP repeats a Probe),
    return the first answer or None after timeout."""
    s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    for _ in range(repeat):
        s.sendto(data, (host, port))
    try:
        return s.recvfrom(65535)[0]
    except socket.timeout:
        return None
    finally:
        s.close()


def wsd_probe(types):
    env = constructProbe([QName(ns, name, pfx) for ns, name, pfx in types], [])
    msg = createSOAPMessage(env)
    return env.getMessageId(), msg.encode() if isinstance(msg, str) else msg


def test_ws_discovery_probe_match(lure, tmp_path):
    state = tmp_path / "state"
    s = lure({"state_file": str(state)})
    ident = identity(state)
    port = s.port(3702, "udp")
    for host, xaddr_host in (("127.0.0.1", "127.0.0.1"), ("::1", "[::1]")):
        mid, probe = wsd_probe([(NS_DN, "NetworkVideoTransmitter", "dn")])
        # 3 x 600 bytes: a source gets no more bytes than it sent
        # (src/udpguard.h); the library itself sends a multicast Probe 4 times
        answer = ask(s.port(3702, "udp", host), probe, host, repeat=3)
        assert answer, f"no ProbeMatches from {host}"
        env = parseSOAPMessage(answer, host)
        assert env.getAction() == "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches"
        assert env.getRelatesTo() == mid
        (m,) = env.getProbeResolveMatches()
        assert m.getEPR() == "urn:uuid:" + ident["device_id"]
        assert m.getXAddrs() == [f"http://{xaddr_host}/onvif/device_service"]
        types = {(t.getNamespace(), t.getLocalname()) for t in m.getTypes()}
        assert types == {(NS_DN, "NetworkVideoTransmitter"), (NS_TDS, "Device")}
        scopes = [str(x) for x in m.getScopes()]
        assert "onvif://www.onvif.org/hardware/DS-2CD2143G0-I" in scopes
        assert "onvif://www.onvif.org/name/HIKVISION DS-2CD2143G0-I" in scopes
    ev = s.wait_event("request", destination__port=port, lure__discovery__answered=True)
    assert get(ev, "network.transport") == "udp"
    assert get(ev, "lure.discovery.types") == "dn:NetworkVideoTransmitter"
    assert "<d:Probe" in get(ev, "lure.payload")


def test_ws_discovery_ignores_other_types_and_junk(lure):
    s = lure()
    port = s.port(3702, "udp")
    mid, probe = wsd_probe([("http://schemas.xmlsoap.org/ws/2006/02/devprof", "Device", "wsdp"),
                            ("http://schemas.microsoft.com/windows/pub/2005/07", "Computer", "pub")])
    assert ask(port, probe, timeout=1.0) is None
    assert ask(port, b"\x00\x01 not xml", timeout=1.0) is None
    evs = s.wait_count(2, "request", destination__port=port, lure__discovery__answered=False)
    assert get(evs[0], "lure.discovery.id") == mid


def test_sadp_inquiry_probe_match(lure, tmp_path):
    """One inquiry (125 bytes) as the SADP tool sends it: its 1 KB answer
    needs limits.udp_grace (a LAN sensor's setting; by default a source gets
    no more bytes than it sent)."""
    state = tmp_path / "state"
    s = lure({"state_file": str(state), "limits": {"udp_grace": 2048}})
    ident = identity(state)
    port = s.port(37020, "udp")
    u = str(uuid.uuid4()).upper()
    probe = ('<?xml version="1.0" encoding="utf-8"?>'
             f"<Probe><Uuid>{u}</Uuid><Types>inquiry</Types></Probe>").encode()
    answer = ask(port, probe)
    assert answer, "no ProbeMatch"
    root = ET.fromstring(answer)
    f = {c.tag: (c.text or "") for c in root}
    assert root.tag == "ProbeMatch"
    assert f["Uuid"] == u and f["Types"] == "inquiry"
    assert f["DeviceSN"] == ident["serial"]
    assert f["MAC"] == ident["mac"].replace(":", "-")
    assert f["IPv4Address"] == "127.0.0.1"
    assert f["SoftwareVersion"] == "V5.5.82build 190909"
    assert f["CommandPort"] == "8000" and f["HttpPort"] == "80"
    assert f["Activated"] == "true"
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", f["BootTime"])
    ev = s.wait_event("request", destination__port=port, lure__discovery__answered=True)
    assert get(ev, "lure.discovery.id") == u


def test_sadp_configuration_verbs_are_logged_not_answered(lure):
    s = lure()
    port = s.port(37020, "udp")
    update = (b'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>X1</Uuid>'
              b"<Types>update</Types><MAC>44-19-b6-00-00-01</MAC>"
              b"<IPv4Address>10.0.0.9</IPv4Address><Password>12345</Password></Probe>")
    assert ask(port, update, timeout=1.0) is None
    ev = s.wait_event("request", destination__port=port, lure__discovery__answered=False)
    assert get(ev, "lure.discovery.types") == "update"
    assert "<Password>12345</Password>" in get(ev, "lure.payload")


LAN_CLIENT = r'''
import json, socket, sys
from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery import QName
w = ThreadedWSDiscovery()
w.start()
found = w.searchServices(types=[QName("http://www.onvif.org/ver10/network/wsdl",
                                      "NetworkVideoTransmitter", "dn")], timeout=3)
out = {"onvif": [{"epr": s.getEPR(), "xaddrs": s.getXAddrs(),
                  "scopes": [str(x) for x in s.getScopes()]} for s in found]}
w.stop()
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(sys.argv[1]))
s.sendto(b'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>5A3D6C7E-0000-4000-8000-'
         b'000000000001</Uuid><Types>inquiry</Types></Probe>', ("239.255.255.250", 37020))
data, addr = s.recvfrom(65535)
out["sadp"] = {"from": list(addr), "xml": data.decode()}
print(json.dumps(out))
'''


def test_found_by_multicast_discovery_on_a_lan(lure, netns, tmp_path):
    """On a LAN (a veth link in a namespace) the ONVIF client's multicast
    Probe and the SADP tool's multicast inquiry find the camera at the
    address of that link."""
    import json
    import subprocess
    import sys
    NS = ("ip", "netns", "exec", netns)
    for cmd in ("ip link add v0 type veth peer name v1", "ip link set v0 up",
                "ip link set v1 up", "ip addr add 10.99.0.1/24 dev v0",
                "ip route add 224.0.0.0/4 dev v0"):
        subprocess.run(NS + tuple(cmd.split()), check=True)
    state = tmp_path / "state"
    s = lure({"listen": ["0.0.0.0"], "port_offset": 0, "state_file": str(state),
              "limits": {"udp_grace": 2048}},  # on a LAN: answer one inquiry
             offset=0, wrap=NS)
    ident = identity(state)
    r = subprocess.run(NS + (sys.executable, "-c", LAN_CLIENT, "10.99.0.1"),
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    out = json.loads(r.stdout)
    (cam,) = out["onvif"]
    assert cam["epr"] == "urn:uuid:" + ident["device_id"]
    assert cam["xaddrs"] == ["http://10.99.0.1/onvif/device_service"]
    assert "onvif://www.onvif.org/hardware/DS-2CD2143G0-I" in cam["scopes"]
    assert out["sadp"]["from"] == ["10.99.0.1", 37020]
    f = {c.tag: c.text for c in ET.fromstring(out["sadp"]["xml"])}
    assert f["IPv4Address"] == "10.99.0.1" and f["DeviceSN"] == ident["serial"]
    assert f["IPv4Gateway"] == "10.99.0.254"
    evs = s.find("request", network__protocol="discovery", lure__discovery__answered=True)
    assert {get(e, "destination.ip") for e in evs} == {"10.99.0.1"}
