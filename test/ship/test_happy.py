"""Happy path over http:// to a real OpenSearch node, and the spool with the node up.

Two sensors ship to one date-named index family; lure installs the index template itself
(elasticsearch.template) before its first bulk request.
"""
import time

from conftest import TEMPLATE, assert_exactly_once, connect_banner, get, node_ids


def test_happy_path_http(shared_node, sensor):
    """N events land with their ids, _count is right, the template was installed by lure (source.ip
    is an `ip`), a terms aggregation on observer.name and a date_histogram work, and the USR1 status
    event counts the shipped events."""
    node = shared_node
    node.request("DELETE", "/_index_template/lure")
    assert node.request("GET", "/_index_template/lure")[0] == 404
    pattern = "lure-happy-*"
    es = {"template": str(TEMPLATE)}
    a = sensor("happya", node.url, "lure-happy-%Y.%m.%d", es=es)
    b = sensor("happyb", node.url, "lure-happy-%Y.%m.%d", es=es)
    for i in range(20):
        connect_banner(a.banner_port)
    for i in range(7):
        connect_banner(b.banner_port)
    a.wait_event(lambda e: len([x for x in a.run_events() if get(x, "event.action") == "connection.close"]) == 20,
                 10, "20 connection.close events")
    b.wait_event(lambda e: len([x for x in b.run_events() if get(x, "event.action") == "connection.close"]) == 7,
                 10, "7 connection.close events")
    got = assert_exactly_once(node, pattern, [a, b])
    na, nb = len(a.ids()), len(b.ids())
    assert na >= 61 and nb >= 22  # start status + 3 per connection
    assert len(got) == na + nb

    # the template lure PUT before its first bulk request
    st, t = node.request("GET", "/_index_template/lure")
    assert st == 200, t
    assert t["index_templates"][0]["index_template"]["index_patterns"] == ["lure-*"]
    st, m = node.request("GET", f"/{pattern}/_mapping/field/source.ip,observer.name,event.id")
    assert st == 200 and m, m
    for idx, body in m.items():
        f = body["mappings"]
        assert f["source.ip"]["mapping"]["ip"]["type"] == "ip", f
        assert f["observer.name"]["mapping"]["name"]["type"] == "keyword", f

    # _count, per-sensor terms aggregation, date histogram
    assert node.count(pattern) == na + nb
    r = node.search(pattern, {"size": 0, "aggs": {
        "per_sensor": {"terms": {"field": "observer.name", "size": 10}},
        "per_minute": {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m"}},
        "actions": {"terms": {"field": "event.action", "size": 20}},
        "ips": {"terms": {"field": "source.ip"}}}})
    per = {x["key"]: x["doc_count"] for x in r["aggregations"]["per_sensor"]["buckets"]}
    assert per == {a.sensor_id: na, b.sensor_id: nb}
    assert sum(x["doc_count"] for x in r["aggregations"]["per_minute"]["buckets"]) == na + nb
    actions = {x["key"]: x["doc_count"] for x in r["aggregations"]["actions"]["buckets"]}
    assert actions["connection.open"] == 27 and actions["request"] == 27
    assert actions["connection.close"] == 27
    assert [x["key"] for x in r["aggregations"]["ips"]["buckets"]] == ["127.0.0.1"]
    # a range query on the ip field
    assert node.count(pattern, {"term": {"source.ip": "127.0.0.0/8"}}) == 81

    # the stats event: every event written before it was shipped (none retried or dead-lettered)
    time.sleep(0.5)
    st_ev = a.status()
    before = [e for e in a.events() if get(e, "event.sequence") < get(st_ev, "event.sequence")]
    shipped = get(st_ev, "lure.events.shipped")
    assert len(before) - 2 <= shipped <= len(before), (shipped, len(before))
    assert get(st_ev, "lure.events.dead_lettered") == 0
    assert get(st_ev, "lure.events.retried") == 0
    assert get(st_ev, "lure.events.ship_dropped") == 0
    assert get(st_ev, "lure.ship.requests") >= 2  # the template, then bulk requests
    assert not a.ship_errors() and not b.ship_errors()
    assert "template=installed" in a.stderr()


def test_stop_drains(shared_node, sensor):
    """SIGTERM: what is queued, the "stop" status event included, is delivered before exit."""
    node = shared_node
    s = sensor("drain", node.url, "lure-drain-%Y.%m.%d", es={"flush_ms": 60000})
    for _ in range(3):
        connect_banner(s.banner_port)
    time.sleep(0.3)
    assert node_ids(node, "lure-drain-*") == []  # flush_ms is a minute: nothing sent yet
    assert s.stop() == 0
    assert get(s.events()[-1], "event.reason") == "stop"
    assert_exactly_once(node, "lure-drain-*", [s], timeout=10)


def test_spool_with_node_up(shared_node, sensor, tmp_path):
    """With a spool and the node up, bursts of events separated by quiet time (the spool empties
    completely in between) all land exactly once."""
    node = shared_node
    s = sensor("spoolup", node.url, "lure-spoolup-%Y.%m.%d",
               es={"spool": {"path": str(tmp_path / "spool")}})
    for burst in (5, 5, 30):
        for _ in range(burst):
            connect_banner(s.banner_port)
        time.sleep(1.5)  # delivered and acknowledged: the spool is empty again
    st = s.status()
    assert_exactly_once(node, "lure-spoolup-*", [s], timeout=15)
    assert get(st, "lure.events.ship_dropped") == 0
    assert "unparsable" not in s.stderr()


def test_dash_e_overrides_url(shared_node, sensor):
    """-e URL ships there: with no elasticsearch.url in the config, and over a wrong one."""
    node = shared_node
    a = sensor("dashe", None, "lure-dashe-%Y.%m.%d", args=["-e", node.url])
    b = sensor("dashe2", "http://127.0.0.1:9/", "lure-dashe-%Y.%m.%d", args=["-e", node.url])
    for s in (a, b):
        connect_banner(s.banner_port)
    assert_exactly_once(node, "lure-dashe-*", [a, b], timeout=10)
    assert not a.ship_errors() and not b.ship_errors()


def test_event_larger_than_batch_bytes(shared_node, sensor):
    """batch_events 1 and the smallest batch_bytes (4096): an event line longer than the batch can
    hold must still be shipped (alone) and must not hold up the events behind it."""
    node = shared_node
    s = sensor("onebig", node.url, "lure-onebig-%Y.%m.%d", es={"batch_events": 1, "batch_bytes": 4096})
    connect_banner(s.banner_port, b"A" * 4096)  # a request event of ~4.5 KB
    for _ in range(3):
        connect_banner(s.banner_port)
    assert max(len(l) for l in s.out.read_bytes().split(b"\n")) > 4096 + 200
    got = assert_exactly_once(node, "lure-onebig-*", [s], timeout=15)
    assert len(got) >= 13
