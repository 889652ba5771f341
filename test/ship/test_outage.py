"""The node goes away and comes back (same port, data kept); lure is killed with SIGKILL.
One node for the module, stopped and started by the tests. Every test checks "0 lost, 0
duplicated" against lure's output files, and that every event is counted once.
"""
import os
import time

import pytest

from conftest import (Sensor, Traffic, assert_counted_once, assert_exactly_once, connect_banner, es_section,
                      free_offset, get, node_ids, parse_file, start_node, wait_until)


@pytest.fixture(scope="module")
def onode():
    n = start_node()
    yield n
    n.close()


def up(node):
    if not node.running():
        node.start()


def make(tmp_path, name, node, index, spool=None, **es):
    es = es_section(node.url, index, **es)
    es["spool"] = {"path": str(spool or "")}  # none: memory only, said explicitly
    cfg = {"sensor_id": f"{name}-{os.getpid():x}-{int(time.time()) % 100000}", "listen": ["127.0.0.1"],
           "port_offset": free_offset(), "run_as_root": True,
           "limits": {"idle_timeout": 10, "session_timeout": 60}, "elasticsearch": es}
    return Sensor(tmp_path, name, cfg)


def restart(s, name, out=None):
    """The same config (spool included) as a new process writing to another file."""
    cfg = dict(s.config)
    cfg["output"] = {}
    return Sensor(s.dir, name, cfg, out=out)


def test_unreachable_at_start(onode, tmp_path):
    """Nothing listens on the URL's port when lure starts: it serves connections anyway, keeps the
    events in its spool, reports the connection error, and ships everything once a node appears
    on that port."""
    onode.stop()
    s = make(tmp_path, "unreach", onode, "lure-unreach-%Y.%m.%d", spool=tmp_path / "spool")
    try:
        s.start()
        lat = [connect_banner(s.banner_port) for _ in range(8)]
        assert max(lat) < 0.2, lat
        err = s.wait_event(lambda e: get(e, "event.reason") == "ship_error", 10, "a ship_error event")
        assert "connect" in get(err, "error.message") and "refused" in get(err, "error.message"), err
        wait_until(lambda: len([e for e in s.run_events() if get(e, "event.action") == "connection.close"]) == 8,
                   10, "8 connection.close events")
        time.sleep(0.5)
        st = s.status()
        assert get(st, "lure.ship.queue_bytes") > 0 and get(st, "lure.events.shipped") == 0, st
        assert os.path.getsize(tmp_path / "spool") > 0
        onode.start()  # same port, same data
        got = assert_exactly_once(onode, "lure-unreach-*", [s], timeout=30)
        assert len(got) == len(s.ids()) >= 26
        assert_counted_once(s, drained=True)
    finally:
        s.close()
        up(onode)


@pytest.fixture(scope="module")
def outage(onode, tmp_path_factory):
    """Two sensors (one queueing in memory, one with a spool) with traffic running; the node stops
    for 60 s and comes back; traffic goes on a few seconds more. Yields the stopped sensors."""
    d = tmp_path_factory.mktemp("outage")
    up(onode)
    mem = make(d, "outmem", onode, "lure-outmem-%Y.%m.%d")
    spo = make(d, "outspool", onode, "lure-outspool-%Y.%m.%d", spool=d / "spool")
    try:
        mem.start()
        spo.start()
        traffic = [Traffic(s.banner_port, interval=0.5, max_conns=400).start() for s in (mem, spo)]
        time.sleep(3)
        t0 = time.monotonic()
        onode.stop()
        while time.monotonic() - t0 < 60:
            time.sleep(1)
        onode.start()
        down = time.monotonic() - t0
        time.sleep(5)
        counts = [t.stop() for t in traffic]
        yield {"mem": mem, "spool": spo, "down": down, "counts": counts}
    finally:
        mem.close()
        spo.close()
        up(onode)


def test_outage_60s_memory_queue(onode, outage):
    """Events made before, during and after a 60 s outage all land exactly once (queued in
    memory)."""
    s = outage["mem"]
    assert outage["down"] >= 60 and outage["counts"][0] >= 120
    assert any(get(e, "event.reason") == "ship_error" for e in s.run_events())
    got = assert_exactly_once(onode, "lure-outmem-*", [s], timeout=60)
    assert len(got) >= 3 * outage["counts"][0]
    st = assert_counted_once(s, drained=True)
    assert get(st, "lure.events.ship_dropped") == 0 and get(st, "lure.events.dropped") == 0


def test_outage_60s_spool(onode, outage):
    """The same outage with elasticsearch.spool: everything lands exactly once."""
    s = outage["spool"]
    assert outage["counts"][1] >= 120
    got = assert_exactly_once(onode, "lure-outspool-*", [s], timeout=30)
    assert len(got) >= 3 * outage["counts"][1]
    assert get(assert_counted_once(s, drained=True), "lure.events.ship_dropped") == 0


def test_kill9_spool_node_down(onode, tmp_path):
    """Node down, events spooled, lure killed with SIGKILL; node up, lure restarted with the same
    config: every event of the first run lands exactly once (and the second run's too)."""
    onode.stop()
    s = make(tmp_path, "k9down", onode, "lure-k9down-%Y.%m.%d", spool=tmp_path / "spool",
             dead_letter=str(tmp_path / "dead.ndjson"))
    s2 = None
    try:
        s.start()
        for _ in range(10):
            connect_banner(s.banner_port)
        wait_until(lambda: len([e for e in s.run_events() if get(e, "event.action") == "connection.close"]) == 10,
                   10, "10 connection.close events")
        s.wait_event(lambda e: get(e, "event.reason") == "ship_error", 10, "a ship_error event")
        time.sleep(0.5)
        s.kill9()
        first = s.ids()
        assert len(first) >= 32
        onode.start()
        s2 = restart(s, "k9down2")
        s2.start()
        got = assert_exactly_once(onode, "lure-k9down-*", [s, s2], timeout=30)
        assert set(first) <= got
        assert parse_file(tmp_path / "dead.ndjson") == []
        st = assert_counted_once(s2, drained=True)  # the first run's events: recovered
        assert get(st, "lure.ship.recovered") >= len(first) - 1
    finally:
        s.close()
        if s2:
            s2.close()
        up(onode)


def test_kill9_midflow_node_up(onode, tmp_path):
    """Node up, traffic flowing, lure shipping with a spool: SIGKILL mid-flow, restart with the
    same config: every event of the first run lands exactly once."""
    up(onode)
    # flush_ms 1000: at the kill up to a second of events is still unshipped, even on a slow machine
    s = make(tmp_path, "k9up", onode, "lure-k9up-%Y.%m.%d", spool=tmp_path / "spool", flush_ms=1000,
             dead_letter=str(tmp_path / "dead.ndjson"))
    s2 = None
    try:
        s.start()
        t = Traffic(s.banner_port, interval=0.01, max_conns=1000).start()
        time.sleep(3)
        s.kill9()
        t.stop(allow_errors=True)
        first = s.ids()
        assert len(first) >= 60
        landed = set(node_ids(onode, "lure-k9up-*"))
        assert landed and len(landed) < len(first), "nothing was in flight when lure was killed"
        s2 = restart(s, "k9up2")
        s2.start()
        got = assert_exactly_once(onode, "lure-k9up-*", [s, s2], timeout=30)
        assert set(first) <= got
        # events indexed but not yet acknowledged in the spool are sent again: 409, acknowledged
        assert parse_file(tmp_path / "dead.ndjson") == []
        assert get(assert_counted_once(s2, drained=True), "lure.events.dead_lettered") == 0
    finally:
        s.close()
        if s2:
            s2.close()
