"""No reflector (issue 12, item 7): every UDP answer obeys src/udpguard.h (a
source gets no more bytes than it sent in its 10 s window, then 4 answers
per source window and 64 a second in all), and the discovery emulator
answers only well-formed requests. The discovery ports are the hikvision
persona's; the rule itself is the core's, for every UDP emulator."""
import socket
import subprocess
import sys
import time

from wsdiscovery import QName
from wsdiscovery.actions.probe import constructProbe
from wsdiscovery.message import createSOAPMessage

from conftest import get, persona

persona("hikvision")

NS_DN = "http://www.onvif.org/ver10/network/wsdl"
SADP_MIN = b"<Probe><Uuid>U</Uuid><Types>inquiry</Types></Probe>"  # 51 bytes


def wsd_probe():
    msg = createSOAPMessage(constructProbe([QName(NS_DN, "NetworkVideoTransmitter", "dn")], []))
    return msg.encode() if isinstance(msg, str) else msg


def sock(src):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    return s


def drain(s, quiet=1.0):
    """Every datagram s receives until quiet seconds pass without one."""
    got = []
    s.settimeout(quiet)
    try:
        while True:
            got.append(s.recvfrom(65535)[0])
    except socket.timeout:
        return got


def test_8_byte_probe_gets_nothing(lure):
    """The 8-byte <Probe/> got 1,475 bytes back (184x): now nothing."""
    s = lure()
    c = sock("127.0.0.2")
    for _ in range(3):
        c.sendto(b"<Probe/>", ("127.0.0.1", s.port(3702, "udp")))
    assert drain(c) == []
    s.wait_count(3, "request", lure__discovery__answered=False)


def test_malformed_probes_get_nothing_even_with_budget(lure):
    """The 8-byte <Probe/>, the bare <Types> of SADP, a Probe outside a SOAP
    envelope: no answer even with a budget to spare (well-formedness alone),
    while a real Probe from the same source is answered."""
    s = lure({"limits": {"udp_grace": 65536}})
    wsd, sadp = s.port(3702, "udp"), s.port(37020, "udp")
    c = sock("127.0.0.2")
    for data, port in ((b"<Probe/>", wsd), (b"<Types>inquiry</Types>", sadp),
                       (b'<d:Probe xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"/>', wsd)):
        for _ in range(3):
            c.sendto(data, ("127.0.0.1", port))
    assert drain(c) == []
    c.sendto(wsd_probe(), ("127.0.0.1", wsd))
    assert len(drain(c)) == 1
    evs = s.wait_count(10, "request", network__protocol="discovery")
    assert [get(e, "lure.discovery.answered") for e in evs].count(True) == 1


def test_flood_gets_back_no_more_bytes_than_it_sent(lure):
    """30 minimal well-formed SADP inquiries (51 bytes each) and 30 <Probe/>
    from one source: its answers together are no larger than what it sent
    (before: 10 answers of 1 KB a second); what was withheld is counted."""
    s = lure()
    c = sock("127.0.0.2")
    sent = 0
    for _ in range(30):
        for data, port in ((SADP_MIN, s.port(37020, "udp")), (b"<Probe/>", s.port(3702, "udp"))):
            c.sendto(data, ("127.0.0.1", port))
            sent += len(data)
    back = drain(c)
    assert 0 < sum(map(len, back)) <= sent, (len(back), sum(map(len, back)), sent)
    st = s.status()
    assert get(st, "lure.udp.withheld") >= 1
    assert get(st, "lure.udp.withheld_bytes") >= 1000 * get(st, "lure.udp.withheld")
    limited = s.find("request", lure__discovery__limited=True)
    assert len(limited) == get(st, "lure.udp.withheld")


def test_spoofed_flood_does_not_silence_a_real_client(lure):
    """One source floods real Probes for 1.5 s (a spoofer's victim: it gets
    at most 4 answers, each paid for); a second client probing meanwhile is
    still answered (before: the global 10 a second went to the flood)."""
    s = lure()
    port = s.port(3702, "udp")
    probe = wsd_probe()
    flood, real = sock("127.0.0.2"), sock("127.0.0.3")
    t_end, t_real, asked = time.monotonic() + 1.5, time.monotonic() + 0.5, False
    while time.monotonic() < t_end:
        for _ in range(20):
            flood.sendto(probe, ("127.0.0.1", port))
        if not asked and time.monotonic() >= t_real:
            for _ in range(3):  # 3 x 600 bytes pays for the 1.5 KB answer
                real.sendto(probe, ("127.0.0.1", port))
            asked = True
        time.sleep(0.05)
    assert len(drain(real)) == 1
    flood_back = drain(flood, 0.2)
    assert 1 <= len(flood_back) <= 4


LAN_CLIENT = r'''
import json
from wsdiscovery.discovery import ThreadedWSDiscovery
from wsdiscovery import QName
w = ThreadedWSDiscovery()
w.start()
found = w.searchServices(types=[QName("http://www.onvif.org/ver10/network/wsdl",
                                      "NetworkVideoTransmitter", "dn")], timeout=3)
print(json.dumps([s.getXAddrs() for s in found]))
w.stop()
'''


def test_wsdiscovery_client_finds_the_camera_by_default(lure, netns):
    """The WSDiscovery library's multicast search (its Probe sent 4 times)
    finds the camera with the default configuration: no grace needed."""
    import json
    NS = ("ip", "netns", "exec", netns)
    for cmd in ("ip link add v0 type veth peer name v1", "ip link set v0 up",
                "ip link set v1 up", "ip addr add 10.99.0.1/24 dev v0",
                "ip route add 224.0.0.0/4 dev v0"):
        subprocess.run(NS + tuple(cmd.split()), check=True)
    s = lure({"listen": ["0.0.0.0"], "port_offset": 0}, offset=0, wrap=NS)
    r = subprocess.run(NS + (sys.executable, "-c", LAN_CLIENT), capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    assert json.loads(r.stdout) == [["http://10.99.0.1/onvif/device_service"]]
    assert s.find("request", lure__discovery__answered=True)
