"""The fleet health queries of platform/ansible/queries/ against the OpenSearch node: sensors with no
heartbeat in the last N minutes, and events per sensor. Documents with known timestamps are bulk-loaded
(the live fleet's own events are checked by test_ansible.py)."""
import datetime
import json
import random

from conftest import ANSIBLE_DIR

QUERIES = ANSIBLE_DIR / "queries"


def load(name, **replace):
    text = (QUERIES / name).read_text()
    for k, v in replace.items():
        assert k in text, f"{name}: no {k!r}"
        text = text.replace(k, v)
    return json.loads(text)


def search(node, pattern, body):
    node.refresh(pattern)
    st, r = node.request("POST", f"/{pattern}/_search?ignore_unavailable=true&allow_no_indices=true", body)
    assert st == 200, f"{pattern}: {st} {r}"
    return r


def silent_sensors(node, pattern, age="15m"):
    """Sensor ids seen in the last 7 days with no status event in the last `age` (the documented query,
    its `now-15m` replaced by now-<age>), in the query's order."""
    r = search(node, pattern, load("silent_sensors.json", **{"now-15m": f"now-{age}"}))
    if "aggregations" not in r:
        return []
    return [b["key"] for b in r["aggregations"]["sensors"]["buckets"] if b["recent"]["doc_count"] == 0]


def ts(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def test_silent_and_per_sensor_queries(node):
    tag = f"{random.randrange(1 << 24):06x}"
    now = datetime.datetime.now(datetime.timezone.utc)
    docs = []
    counts = {}

    def ev(sensor, minutes_ago, action, reason=None):
        t = now - datetime.timedelta(minutes=minutes_ago)
        d = {"@timestamp": ts(t), "observer": {"name": sensor, "hostname": sensor},
             "event": {"action": action, "kind": "event"}}
        if reason:
            d["event"]["reason"] = reason
        index = "lure-health-" + t.strftime("%Y.%m.%d")
        docs.append((index, d))
        if minutes_ago < 24 * 60:
            counts[sensor] = counts.get(sensor, 0) + 1

    alive, late, mute, gone = (f"{n}-{tag}" for n in ("alive", "late", "mute", "gone"))
    for m in range(1, 60, 5):              # heartbeats every 5 min, the last 1 min ago
        ev(alive, m, "status", "heartbeat")
    for m in range(40, 120, 5):            # stopped 40 min ago
        ev(late, m, "status", "heartbeat")
    for m in (3, 7, 30):                   # requests, never a heartbeat
        ev(mute, m, "request")
    for m in range(2, 30, 4):
        ev(alive, m, "request")
    ev(gone, 2 * 24 * 60, "status", "heartbeat")   # two days ago: silent, not in the 24 h counts
    ev(gone, 9 * 24 * 60, "status", "heartbeat")   # older than the query's 7 days
    body = "".join(json.dumps({"create": {"_index": i}}) + "\n" + json.dumps(d) + "\n" for i, d in docs)
    st, r = node.bulk(body.encode())
    assert st == 200 and not r["errors"], r

    silent = silent_sensors(node, "lure-health-*", "15m")
    assert set(silent) == {late, mute, gone}, silent
    order = silent_sensors(node, "lure-health-*", "100m")   # late's last heartbeat (40 min) is recent now
    assert set(order) == {mute, gone}, order

    r = search(node, "lure-health-*", load("silent_sensors.json"))
    b = {x["key"]: x for x in r["aggregations"]["sensors"]["buckets"]}
    assert [x["key"] for x in r["aggregations"]["sensors"]["buckets"]][-1] == alive  # silent ones first
    last = datetime.datetime.fromisoformat(b[late]["heartbeats"]["last"]["value_as_string"].replace("Z", "+00:00"))
    assert abs((now - last).total_seconds() - 40 * 60) < 2
    assert b[mute]["heartbeats"]["doc_count"] == 0
    assert b[gone]["doc_count"] == 1                  # the 9-day-old one is outside the 7 days

    r = search(node, "lure-health-*", load("events_per_sensor.json"))
    per = {x["key"]: x for x in r["aggregations"]["per_sensor"]["buckets"]}
    assert {k: v["doc_count"] for k, v in per.items()} == counts
    assert sum(x["doc_count"] for x in per[alive]["over_time"]["buckets"]) == counts[alive]
    acts = {x["key"]: x["doc_count"] for x in per[alive]["actions"]["buckets"]}
    assert acts == {"status": 12, "request": 7}, acts
