"""Real 429s: a node whose write thread pool is 1 thread with a queue of 1, bulk load from python
threads, and two lure sensors shipping in small batches. Items rejected with 429 are retried
(lure.events.retried > 0) and every event lands exactly once.
"""
import json
import threading
import time

import pytest

from conftest import Traffic, assert_counted_once, assert_exactly_once, get, start_node


@pytest.fixture(scope="module")
def busy_node():
    n = start_node({"thread_pool.write.size": 1, "thread_pool.write.queue_size": 1})
    yield n
    n.close()


class Load:
    """threads x (bulk of 50 docs into load-<k>) in a loop, for at most `seconds`."""

    def __init__(self, node, threads=4, seconds=8):
        self.node, self.seconds = node, seconds
        self.requests = self.rejected_items = self.rejected_requests = 0
        self.errors = []
        self._stop = threading.Event()
        self.ts = [threading.Thread(target=self._run, args=(k,), daemon=True) for k in range(threads)]

    def start(self):
        for t in self.ts:
            t.start()
        return self

    def _run(self, k):
        end = time.monotonic() + self.seconds
        body = "".join(json.dumps({"index": {"_index": f"load-{k}"}}) + "\n" +
                       json.dumps({"n": i, "s": "x" * 100}) + "\n" for i in range(50))
        while not self._stop.is_set() and time.monotonic() < end:
            try:
                st, r = self.node.bulk(body, timeout=30)
            except OSError as e:
                self.errors.append(repr(e))
                return
            self.requests += 1
            if st == 429:
                self.rejected_requests += 1
            elif st == 200:
                self.rejected_items += sum(1 for it in r["items"] if it["index"]["status"] == 429)

    def stop(self):
        self._stop.set()
        for t in self.ts:
            t.join(60)


def test_429_retried_and_exactly_once(busy_node, sensor):
    node = busy_node
    es = {"batch_events": 5, "flush_ms": 50, "retry_max_ms": 1000}
    a = sensor("busya", node.url, "lure-busy-%Y.%m.%d", es=es)
    b = sensor("busyb", node.url, "lure-busy-%Y.%m.%d", es=es)
    load = Load(node).start()
    traffic = [Traffic(s.banner_port, interval=0.05, max_conns=150).start() for s in (a, b)]
    time.sleep(6)
    counts = [t.stop() for t in traffic]
    load.stop()
    assert not load.errors, load.errors[:3]
    assert load.rejected_items > 0, "the node rejected nothing: no 429 was provoked"
    got = assert_exactly_once(node, "lure-busy-*", [a, b], timeout=60)
    assert len(got) >= 3 * sum(counts)
    for s in (a, b):
        st = assert_counted_once(s, drained=True)
        assert get(st, "lure.events.retried") > 0, f"lure {s.name} saw no 429 item: {st['lure']}"
        assert get(st, "lure.events.dead_lettered") == 0
        assert get(st, "lure.events.ship_dropped") == 0
