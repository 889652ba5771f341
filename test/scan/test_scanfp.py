"""Tool tags and OS guesses (src/scanfp.c) on the scan events of real
packets from the scanner namespace: nmap -sS over IPv4 and IPv6, masscan
over IPv4 and IPv6, zmap, and a plain connect() from Linux, which names
no tool and is guessed "linux". The rules' edge cases are in
test/unit/test_scanfp.c."""
from conftest import SCANNER4, SCANNER6, SENSOR4, SENSOR6, get, scans


def one(s, **fields):
    [e] = s.wait_count(1, "scan", event__dataset="lure.scan", **fields)
    return e


def test_connect_from_linux_no_tool_os_linux(sensor, pair):
    s = sensor()
    pair.scan("python3 -c \"import socket\n"
              f"socket.create_connection(('{SENSOR4}', 80)).close()\n"
              f"socket.create_connection(('{SENSOR6}', 80)).close()\"")
    for src in (SCANNER4, SCANNER6):
        e = one(s, source__ip=src)
        sc = get(e, "lure.scan")
        assert "tool" not in sc and "tool_evidence" not in sc, e
        assert not set(e.get("tags", [])) & {"nmap", "masscan", "zmap", "mirai"}
        assert sc["os"] == "linux"
        assert sc["ttl_initial"] == 64 and sc["hops"] == 0
        assert sc["tcp"]["options"] == "MSTNW" and sc["tcp"]["wscale"] >= 0
    assert s.stop() == 0


def test_tools_named_with_evidence(sensor, pair):
    s = sensor()
    mac = pair.sensor_mac
    pair.scan(f"nmap -n -Pn -sS -p 1001 {SENSOR4}")
    pair.scan(f"nmap -6 -n -Pn -sS -p 1002 {SENSOR6}")
    pair.scan(f"masscan {SENSOR4} -p1003 --rate 100 -e eth0 --router-mac {mac} --wait 0")
    pair.scan(f"masscan --range {SENSOR6}/128 -p1004 --rate 100 -e eth0 "
              f"--router-mac {mac} --adapter-ip {SCANNER6} --wait 0")
    pair.scan(f"zmap -p 1005 {SENSOR4}/32 -i eth0 -G {mac} -S {SCANNER4} "
              "-B 1M -b /dev/null -c 1 -o /dev/null -q")
    want = {1001: ("nmap", "tcp.window+options=syn-scan"),
            1002: ("nmap", "tcp.window+options=syn-scan"),
            1003: ("masscan", "ip.id=dst^dport^seq"),
            1004: ("masscan", "hop_limit=255 tcp.window=1024"),
            1005: ("zmap", "ip.id=54321")}
    for port, (tool, evidence) in want.items():
        e = one(s, destination__port=port)
        assert get(e, "lure.scan.tool") == tool and tool in e["tags"], e
        assert get(e, "lure.scan.tool_evidence") == evidence
        assert get(e, "lure.scan.os") is None  # a tool's packet: no OS
    assert s.stop() == 0
    assert len(scans(s)) == len(want)
