"""413: a node with http.max_content_length=2kb. lure halves a refused batch until its requests
fit; an event that does not fit alone is dead-lettered with status 413; everything else lands
exactly once.
"""
import json
import time

import pytest

from conftest import assert_counted_once, assert_exactly_once, connect_banner, get, parse_file, start_node, wait_until

LIMIT = 2048


@pytest.fixture(scope="module")
def small_node():
    n = start_node({"http.max_content_length": "2kb"})
    yield n
    n.close()


def item_bytes(ev_line, index):
    ev = json.loads(ev_line)
    action = json.dumps({"create": {"_index": index, "_id": ev["event"]["id"]}}, separators=(",", ":"))
    return len(action) + 1 + len(ev_line) + 1


def test_413_split_and_dead_letter(small_node, sensor, tmp_path):
    node = small_node
    dlq = tmp_path / "dead.ndjson"
    s = sensor("big", node.url, "lure-big-%Y.%m.%d", es={"dead_letter": str(dlq), "flush_ms": 300})
    for i in range(12):
        connect_banner(s.banner_port, b"USER anonymous\r\n")
        if i % 4 == 0:
            connect_banner(s.banner_port, b"A" * 3000)  # a request event of ~3.3 KB
    wait_until(lambda: len([e for e in s.run_events() if get(e, "event.action") == "connection.close"]) == 15,
               10, "15 connection.close events")
    raw = s.out.read_bytes().split(b"\n")[:-1]
    index = "lure-big-" + time.strftime("%Y.%m.%d", time.gmtime())
    big = {json.loads(l)["event"]["id"] for l in raw if item_bytes(l, index) > LIMIT}
    assert len(big) == 3, "the test needs three events too large for the node"
    assert all(item_bytes(l, index) < LIMIT - 400 for l in raw if json.loads(l)["event"]["id"] not in big)
    wait_until(lambda: len(parse_file(dlq)) >= 3, 20, "3 dead-lettered events")
    got = assert_exactly_once(node, "lure-big-*", [s], exclude=big, timeout=30)
    assert len(got) >= 45 - 3 + 1
    dead = parse_file(dlq)
    assert sorted(get(d, "event.event.id") for d in dead) == sorted(big)
    assert all(d["status"] == 413 for d in dead), dead
    st = assert_counted_once(s, drained=True)
    assert get(st, "lure.events.dead_lettered") == 3
    assert get(st, "lure.ship.requests") > 10  # the batches were split
