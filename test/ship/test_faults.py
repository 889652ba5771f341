"""Faults that need no node restart, on the session's shared node: permanent 400s (dead letter),
a slow node, DNS (a private resolver, and one that never answers), the auto-exclusion of the
node's address, and a data stream. Each fault test ends checking that every event is counted once.
"""
import socket
import struct
import threading
import time

from conftest import (DS_TEMPLATE, TcpProxy, Traffic, assert_counted_once, assert_exactly_once, connect_banner,
                      get, needs_data_streams, node_ids, parse_file, today_indices, wait_until)


def closes(s, n):
    """Wait for n connection.close events of this run; returns the run's events."""
    return s.wait_event(lambda e: len([x for x in s.run_events()
                                       if get(x, "event.action") == "connection.close"]) >= n,
                        10, f"{n} connection.close events") and s.run_events()


# --- c: permanent 400 --------------------------------------------------------------------------------

def test_permanent_400_dead_lettered(shared_node, sensor, tmp_path):
    """Today's index exists with lure.payload mapped as `long`: every request event (it carries a
    payload string) fails with 400 and goes to the dead-letter file (one JSON line each: status,
    error, event), once, never retried; everything else lands, and later events keep flowing."""
    node = shared_node
    for idx in today_indices("lure-mapconf-"):
        st, r = node.request("PUT", f"/{idx}", {"mappings": {"properties": {
            "lure": {"properties": {"payload": {"type": "long"}}}}}})
        assert st == 200, r
        st, m = node.request("GET", f"/{idx}/_mapping/field/lure.payload")
        assert m[idx]["mappings"]["lure.payload"]["mapping"]["payload"]["type"] == "long", m
    dlq = tmp_path / "dead.ndjson"
    s = sensor("mapconf", node.url, "lure-mapconf-%Y.%m.%d", es={"dead_letter": str(dlq)})
    for _ in range(6):
        connect_banner(s.banner_port, b"USER anonymous\r\n")
    closes(s, 6)
    wait_until(lambda: len(parse_file(dlq)) >= 6, 15, "6 dead-lettered request events")
    # the rest keeps flowing: a second burst
    for _ in range(4):
        connect_banner(s.banner_port, b"PASS secret\r\n")
    evs = closes(s, 10)
    requests = {get(e, "event.id") for e in evs if get(e, "event.action") == "request"}
    assert len(requests) == 10
    wait_until(lambda: len(parse_file(dlq)) >= 10, 15, "10 dead-lettered request events")
    got = assert_exactly_once(node, "lure-mapconf-*", [s], exclude=requests)
    assert len(got) >= 21  # start + 10 open + 10 close
    time.sleep(2.5)  # retry_max_ms is 2 s: a retried item would be written again by now
    dead = parse_file(dlq)
    ids = [get(d, "event.event.id") for d in dead]
    assert sorted(ids) == sorted(requests), "each failing event is dead-lettered exactly once"
    for d in dead:
        assert d["status"] == 400, d
        assert "payload" in d["error"] or "parse" in d["error"], d
        assert isinstance(d["event"], dict) and get(d, "event.lure.payload"), d
        assert "@timestamp" in d
    st = assert_counted_once(s, drained=True)
    assert get(st, "lure.events.dead_lettered") == 10
    assert get(st, "lure.events.retried") == 0
    assert get(st, "lure.ship.queue_bytes") == 0 or get(st, "lure.ship.in_flight") <= 2


# --- g: a slow node ----------------------------------------------------------------------------------

def test_slow_node_does_not_slow_the_sensor(shared_node, sensor):
    """A proxy holds every response of the node for 3 s. Meanwhile new connections still get their
    banner within 200 ms (lure never blocks on the shipper), and everything lands."""
    proxy = TcpProxy(shared_node.port, delay=3.0)
    try:
        s = sensor("slow", f"http://127.0.0.1:{proxy.port}", "lure-slow-%Y.%m.%d")
        t = Traffic(s.banner_port, interval=0.1, max_conns=100).start()
        time.sleep(10)
        n = t.stop()
        assert n >= 50
        assert proxy.responses_delayed >= 2, "the proxy held no response: the test proves nothing"
        lat = sorted(t.latencies)
        assert lat[-1] < 0.2, f"banner latency while a bulk request was held: max {lat[-1]:.3f}s " \
                              f"(median {lat[len(lat) // 2]:.3f}s)"
        got = assert_exactly_once(shared_node, "lure-slow-*", [s], timeout=40)
        assert len(got) >= 3 * n
        assert_counted_once(s)
    finally:
        proxy.close()


# --- h: DNS ------------------------------------------------------------------------------------------

class Dns:
    """A UDP DNS server on 127.0.0.1: A es.test -> 127.0.0.1, AAAA es.test -> no records, anything
    else NXDOMAIN. answer=False: reads queries and never answers."""

    def __init__(self, answer=True, names=None):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.answer = answer
        self.names = names or {"es.test": "127.0.0.1"}
        self.queries = []
        self._stop = False
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self):
        while not self._stop:
            try:
                q, addr = self.sock.recvfrom(1500)
            except OSError:
                return
            try:
                qid, flags, qd = struct.unpack("!HHH", q[:6])
                at, labels = 12, []
                while q[at]:
                    labels.append(q[at + 1:at + 1 + q[at]].decode())
                    at += 1 + q[at]
                qtype = struct.unpack("!H", q[at + 1:at + 3])[0]
                question = q[12:at + 5]
            except (struct.error, IndexError, UnicodeDecodeError):
                continue
            name = ".".join(labels).lower()
            self.queries.append((name, qtype))
            if not self.answer:
                continue
            ip = self.names.get(name)
            rcode = 0 if ip else 3
            ans = b""
            if ip and qtype == 1:
                ans = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton(ip)
            hdr = struct.pack("!HHHHHH", qid, 0x8180 | rcode, 1, 1 if ans else 0, 0, 0)
            self.sock.sendto(hdr + question + ans, addr)

    def close(self):
        self._stop = True
        self.sock.close()


def test_dns_private_resolver(shared_node, sensor):
    """url http://es.test:<port> with resolver "127.0.0.1:<port>": lure asks that server (not
    /etc/resolv.conf) and ships to the address it answered."""
    dns = Dns()
    try:
        s = sensor("dns", f"http://es.test:{shared_node.port}", "lure-dns-%Y.%m.%d",
                   es={"resolver": f"127.0.0.1:{dns.port}"})
        for _ in range(5):
            connect_banner(s.banner_port)
        closes(s, 5)
        got = assert_exactly_once(shared_node, "lure-dns-*", [s])
        assert len(got) >= 16
        assert ("es.test", 1) in dns.queries, dns.queries
        assert not s.ship_errors(), s.ship_errors()
        assert_counted_once(s, drained=True)
    finally:
        dns.close()


def test_dns_server_silent(shared_node, sensor):
    """A resolver that never answers: a ship_error "DNS server did not answer" (after lure's
    retries), while the sensor keeps serving connections promptly and keeps the events."""
    dns = Dns(answer=False)
    try:
        s = sensor("dnsmute", f"http://es.test:{shared_node.port}", "lure-dnsmute-%Y.%m.%d",
                   es={"resolver": f"127.0.0.1:{dns.port}"})
        t = Traffic(s.banner_port, interval=0.25, max_conns=200).start()
        err = s.wait_event(lambda e: get(e, "event.reason") == "ship_error", 30, "a ship_error event")
        n = t.stop()
        assert "DNS server did not answer" in get(err, "error.message"), err
        assert get(err, "url.domain") == "es.test"
        assert len(dns.queries) >= 2 and all(q[0] == "es.test" for q in dns.queries), dns.queries
        assert n >= 20 and max(t.latencies) < 0.2, max(t.latencies)
        evs = s.run_events()
        assert len([e for e in evs if get(e, "event.action") == "connection.open"]) >= n - 1
        st = assert_counted_once(s)
        assert get(st, "lure.events.shipped") == 0
        assert get(st, "lure.ship.queue_bytes") + get(st, "lure.ship.in_flight") > 0
        assert node_ids(shared_node, "lure-dnsmute-*") == []
    finally:
        dns.close()


# --- i: auto-exclusion -------------------------------------------------------------------------------

def test_node_address_excluded(shared_node, sensor):
    """lure ships to http://127.0.0.3:<port> (a forwarder to the node): once it has connected,
    connections from 127.0.0.3 are served but logged nowhere, those from 127.0.0.2 are logged."""
    fwd = TcpProxy(shared_node.port, addr="127.0.0.3")
    try:
        s = sensor("excl", f"http://127.0.0.3:{fwd.port}", "lure-excl-%Y.%m.%d")
        start_id = get(s.run_events()[0], "event.id")
        wait_until(lambda: start_id in node_ids(shared_node, "lure-excl-*"), 10,
                   "the start event in the node (lure has connected to 127.0.0.3)")
        for _ in range(3):
            connect_banner(s.banner_port, src="127.0.0.3")  # the banner still arrives
            connect_banner(s.banner_port, src="127.0.0.2")
        closes(s, 3)
        time.sleep(0.5)
        evs = s.run_events()
        ips = [get(e, "source.ip") for e in evs if get(e, "source.ip")]
        assert ips.count("127.0.0.2") == 9, ips  # open, request, close x 3
        assert "127.0.0.3" not in ips, "connections from the node's address were logged"
        got = assert_exactly_once(shared_node, "lure-excl-*", [s])
        assert len(got) == len(evs)
    finally:
        fwd.close()


def test_loopback_node_not_excluded(shared_node, sensor):
    """The node on 127.0.0.1 is the exception: local clients are still logged after lure has
    connected to it."""
    s = sensor("noexcl", shared_node.url, "lure-noexcl-%Y.%m.%d")
    start_id = get(s.run_events()[0], "event.id")
    wait_until(lambda: start_id in node_ids(shared_node, "lure-noexcl-*"), 10, "the start event in the node")
    connect_banner(s.banner_port)
    evs = closes(s, 1)
    assert [get(e, "source.ip") for e in evs if get(e, "source.ip")] == ["127.0.0.1"] * 3


# --- j: data stream ----------------------------------------------------------------------------------

@needs_data_streams
def test_data_stream(shared_node, sensor):
    """The data stream template installed, index "lure-ds-test" with data_stream: true -> the
    events land in the data stream lure-ds-test (backing indices .ds-lure-ds-test-*)."""
    node = shared_node
    node.put_template("lure-ds", DS_TEMPLATE)
    node.request("DELETE", "/_data_stream/lure-ds-test")
    s = sensor("ds", node.url, "lure-ds-test", es={"data_stream": True})
    for _ in range(5):
        connect_banner(s.banner_port)
    closes(s, 5)
    got = assert_exactly_once(node, "lure-ds-test", [s])
    assert len(got) >= 16
    st, r = node.request("GET", "/_data_stream/lure-ds-test")
    assert st == 200, r
    ds = r["data_streams"][0]
    assert ds["name"] == "lure-ds-test" and ds["template"] == "lure-ds", ds
    backing = [i["index_name"] for i in ds["indices"]]
    assert all(b.startswith(".ds-lure-ds-test-") for b in backing), backing
    st, m = node.request("GET", "/lure-ds-test/_mapping/field/source.ip")
    assert all(v["mappings"]["source.ip"]["mapping"]["ip"]["type"] == "ip" for v in m.values()), m
    assert not s.ship_errors(), s.ship_errors()
