"""The Elasticsearch/OpenSearch test rig itself: a real OpenSearch 2.19 node (test/es/node.py), lure's
index templates (etc/es/), _bulk create semantics, a data stream.

    python3 -m pytest -q test/es/test_es_rig.py

Skipped only when java/maven are missing and cannot be installed.
"""
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from node import JavaUnavailable, Node, build  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "etc" / "es" / "lure-template.json"
DS_TEMPLATE = ROOT / "etc" / "es" / "lure-datastream-template.json"

# Real lure output (build/itb/lure, banner emulator on 127.0.0.1, 2026-11-27), with the loopback
# addresses replaced by documentation ones (RFC 5737) so the ip range query has something to find.
STATUS_START = (
    '{"@timestamp":"2026-11-27T18:19:16.648Z","event":{"action":"status","category":["host"],'
    '"dataset":"lure.status","id":"rig01-b57274e4eaa35e64-1","kind":"state","reason":"start","sequence":1,'
    '"type":["info"]},"lure":{"connections":{"accepted":0,"max":1024,"open":0,"rejected_per_ip":0},'
    '"datagrams":0,"events":{"accepted":0,"dropped":0},"listeners":[{"address":"127.0.0.1","port":31021,'
    '"persona_port":21,"transport":"tcp","emulator":"banner"},{"address":"127.0.0.1","port":31023,'
    '"persona_port":23,"transport":"tcp","emulator":"banner"},{"address":"127.0.0.1","port":31080,'
    '"persona_port":80,"transport":"tcp","emulator":"banner"},{"address":"127.0.0.1","port":39080,'
    '"persona_port":8080,"transport":"tcp","emulator":"banner"},{"address":"127.0.0.1","port":31161,'
    '"persona_port":161,"transport":"udp","emulator":"banner"}],"persona":"tmpb","queue":{"bytes":0,'
    '"size":1048576},"rss_kib":2184,"tls":"none","uptime":0},"observer":{"hostname":"vm","name":"rig01",'
    '"product":"lure","type":"honeypot","version":"0.1.0"}}'
)
REQUEST = (
    '{"@timestamp":"2026-11-27T18:19:19.090Z","destination":{"ip":"198.51.100.1","port":31021},'
    '"event":{"action":"request","category":["network"],"dataset":"lure.banner",'
    '"id":"rig01-b57274e4eaa35e64-3","kind":"event","sequence":3,"type":["protocol"]},'
    '"lure":{"payload":"USER root\\r\\nPASS \\\\xff\\\\xfe admin\\r\\n","persona":"tmpb","persona_port":21,'
    '"session":"b57274e4eaa35e64-1"},"network":{"protocol":"banner","transport":"tcp"},'
    '"observer":{"hostname":"vm","name":"rig01","product":"lure","type":"honeypot","version":"0.1.0"},'
    '"source":{"bytes":26,"ip":"192.0.2.77","port":43390}}'
)
EVENTS = [STATUS_START, REQUEST]
INDEX = "lure-2026.11.27"
DS = "lure-ds-rig01"


def bulk_body(events, index=None, action="create"):
    lines = []
    for line in events:
        meta = {"_id": json.loads(line)["event"]["id"]}
        if index:
            meta["_index"] = index
        lines.append(json.dumps({action: meta}, separators=(",", ":")))
        lines.append(line)
    return ("\n".join(lines) + "\n").encode()


@pytest.fixture(scope="module")
def node():
    try:
        build()
    except JavaUnavailable as e:
        pytest.skip(f"java/maven missing and not installable: {e}")
    n = Node()
    n.start()
    print(f"\nnode {n.url} up in {n.startup_seconds:.1f}s, RSS {n.rss_kib()} KiB")
    n.put_template("lure", TEMPLATE)
    n.put_template("lure-ds", DS_TEMPLATE)
    yield n
    n.close()
    assert not n.running()


def test_sample_events_are_lure_lines():
    for line in EVENTS:
        ev = json.loads(line)
        assert ev["observer"]["product"] == "lure" and ev["event"]["id"].startswith("rig01-")


def test_templates_share_one_mapping():
    a, b = json.loads(TEMPLATE.read_text()), json.loads(DS_TEMPLATE.read_text())
    assert a["template"] == b["template"], "keep etc/es/*.json mappings identical"
    assert a["index_patterns"] == ["lure-*"] and "data_stream" not in a
    assert b["index_patterns"] == ["lure-ds-*"] and b["data_stream"] == {}
    # lure-* also matches lure-ds-*: the data stream template must win
    assert b["priority"] > a["priority"]


def test_bulk_create(node):
    st, r = node.bulk(bulk_body(EVENTS), index=INDEX)
    assert st == 200, r
    assert r["errors"] is False, r
    assert [i["create"]["status"] for i in r["items"]] == [201, 201]
    assert [i["create"]["_id"] for i in r["items"]] == [json.loads(e)["event"]["id"] for e in EVENTS]
    assert node.count("lure-*") == 2


def test_mapping(node):
    st, r = node.request("GET", f"/{INDEX}/_mapping")
    assert st == 200, r
    m = r[INDEX]["mappings"]

    def field(path):
        p = m
        for part in path.split("."):
            p = p["properties"][part]
        return p["type"]

    assert field("source.ip") == "ip" and field("destination.ip") == "ip"
    assert field("@timestamp") == "date"
    for f in ("source.port", "event.sequence", "lure.connections.rejected_per_ip", "lure.rss_kib"):
        assert field(f) == "long", f
    for f in ("observer.name", "event.category", "lure.payload", "lure.session"):
        assert field(f) == "keyword", f
    assert field("lure.listeners") == "nested"
    st, s = node.request("GET", f"/{INDEX}/_settings/index.number_of_shards,index.codec?flat_settings=true")
    assert s[INDEX]["settings"]["index.number_of_shards"] == "1"


def test_terms_aggregation_on_observer_name(node):
    r = node.search("lure-*", {"size": 0, "aggs": {"s": {"terms": {"field": "observer.name"}},
                                                   "a": {"terms": {"field": "event.action"}}}})
    assert r["aggregations"]["s"]["buckets"] == [{"key": "rig01", "doc_count": 2}]
    assert {b["key"] for b in r["aggregations"]["a"]["buckets"]} == {"status", "request"}


def test_source_ip_is_an_ip(node):
    r = node.search("lure-*", {"query": {"range": {"source.ip": {"gte": "192.0.2.0", "lte": "192.0.2.255"}}}})
    assert [h["_id"] for h in r["hits"]["hits"]] == ["rig01-b57274e4eaa35e64-3"]
    assert node.count("lure-*", {"term": {"source.ip": "192.0.2.0/24"}}) == 1
    assert node.count("lure-*", {"term": {"source.ip": "192.0.3.0/24"}}) == 0


def test_nested_listeners_and_payload_keyword(node):
    q = {"nested": {"path": "lure.listeners", "query": {"bool": {"filter": [
        {"term": {"lure.listeners.persona_port": 23}}, {"term": {"lure.listeners.transport": "tcp"}}]}}}}
    assert node.count("lure-*", q) == 1
    q = {"nested": {"path": "lure.listeners", "query": {"bool": {"filter": [
        {"term": {"lure.listeners.persona_port": 23}}, {"term": {"lure.listeners.transport": "udp"}}]}}}}
    assert node.count("lure-*", q) == 0
    payload = json.loads(REQUEST)["lure"]["payload"]
    assert node.count("lure-*", {"term": {"lure.payload": payload}}) == 1
    assert node.count("lure-*", {"match": {"lure.payload.text": "admin"}}) == 1


def test_long_values_are_not_rejected(node):
    # ignore_above counts UTF-16 units; the worst case is 3 UTF-8 bytes per unit, so 8000 units are
    # at most 24000 bytes, under Lucene's 32766-byte term limit: indexed. Longer values exceed
    # ignore_above and stay in _source only. Neither may fail the document.
    ev = json.loads(REQUEST)
    lines = []
    for i, s in enumerate(("\u20ac" * 8000, "\U0001F600" * 4000, "\u20ac" * 8001, "x" * 100000)):
        ev["event"]["id"] = f"rig01-long-{i}"
        ev["lure"]["payload"] = s
        lines.append(json.dumps(ev, ensure_ascii=False))
    st, r = node.bulk(bulk_body(lines), index="lure-long")
    assert st == 200 and r["errors"] is False, r
    assert node.count("lure-long") == 4
    assert node.count("lure-long", {"exists": {"field": "lure.payload"}}) == 2


def test_create_same_id_again_is_409_per_item(node):
    st, r = node.bulk(bulk_body(EVENTS), index=INDEX)
    assert st == 200, r  # the request succeeds, the items fail
    assert r["errors"] is True
    for item in r["items"]:
        assert item["create"]["status"] == 409, item
        assert item["create"]["error"]["type"] == "version_conflict_engine_exception"
    assert node.count(INDEX) == 2


def test_data_stream(node):
    st, r = node.bulk(bulk_body(EVENTS, index=DS))
    assert st == 200 and r["errors"] is False, r
    assert all(i["create"]["status"] == 201 for i in r["items"])
    assert all(i["create"]["_index"].startswith(f".ds-{DS}-") for i in r["items"])
    st, d = node.request("GET", f"/_data_stream/{DS}")
    assert st == 200 and d["data_streams"][0]["name"] == DS, d
    assert d["data_streams"][0]["template"] == "lure-ds"
    assert node.count(DS) == 2
    # a data stream takes only create: "index" is refused per item
    st, r = node.bulk(bulk_body(EVENTS[:1], index=DS, action="index"))
    assert st == 200 and r["errors"] is True
    assert r["items"][0]["index"]["status"] == 400, r
    # and ids are unique per backing index, so a retried create is a 409 as well
    st, r = node.bulk(bulk_body(EVENTS[1:], index=DS))
    assert r["items"][0]["create"]["status"] == 409, r
    r = node.search(DS, {"size": 0, "aggs": {"s": {"terms": {"field": "observer.name"}}}})
    assert r["aggregations"]["s"]["buckets"] == [{"key": "rig01", "doc_count": 2}]
