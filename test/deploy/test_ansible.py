"""platform/ansible against two booted Debian 12 hosts (systemd-nspawn, see conftest.py): deploy,
idempotence, restart only where something changed, a bad config refused by `lure -t`, a binary
update, then check.yml finding a wedged and a stopped sensor through their heartbeats in the
OpenSearch node and bringing both back. The tests run in order and share the fleet."""
import json
import shutil
import subprocess
import time

import pytest
from conftest import REPO, deploy_bin, get, recap, wait_until
from test_health import silent_sensors

INDEX = "lure-fleet-%Y.%m.%d"
PATTERN = "lure-fleet-*"
HEARTBEAT = 2


def config(name, **over):
    c = {
        "sensor_id": name,
        "port_offset": 0,
        "output": {"file": "/var/log/lure/events.ndjson"},
        "state_file": "/var/lib/lure/state",
        "heartbeat": HEARTBEAT,
        # the spool by default: $STATE_DIRECTORY/spool, the unit's StateDirectory
        "elasticsearch": {"url": "http://127.0.0.1:9200", "index": INDEX, "flush_ms": 200,
                          "retry_max_ms": 2000},
    }
    c.update(over)
    return c


@pytest.fixture(scope="module")
def configs(fleet):
    d = fleet.dir / "configs"
    d.mkdir(exist_ok=True)
    fleet.configs = d
    # a snapshot of the tree as the playbook reads it (lure_repo): the binary where the playbook's
    # architecture map looks for it, and the unit; a rebuild in the work tree meanwhile changes nothing
    repo = fleet.dir / "repo"
    (repo / "build" / "x86_64-generic").mkdir(parents=True)
    (repo / "platform" / "systemd").mkdir(parents=True)
    fleet.bin = repo / "build" / "x86_64-generic" / "lure"
    shutil.copy(deploy_bin(), fleet.bin)
    for f in ("lure.service", "lure.logrotate"):
        shutil.copy(REPO / "platform" / "systemd" / f, repo / "platform" / "systemd")
    fleet.bin_args = ["-e", f"lure_repo={repo}"]
    for name in fleet.hosts:
        (d / f"{name}.json").write_text(json.dumps(config(name), indent=1))
    return d


def deploy(fleet, *extra, check=True):
    return fleet.playbook("deploy.yml", "-e", f"lure_config_dir={fleet.configs}", *fleet.bin_args, *extra,
                          check=check)


def check_fleet(fleet, *extra, check=True):
    return fleet.playbook("check.yml", "-e", f"lure_es_url={fleet.node.url.rstrip('/')}",
                          "-e", f"lure_es_index={PATTERN}", "-e", "lure_heartbeat_max_age=10",
                          "-e", "lure_recover_timeout=30", *extra, check=check)


def es_events(node, query):
    node.refresh(PATTERN)
    st, r = node.request("POST", f"/{PATTERN}/_search?ignore_unavailable=true&allow_no_indices=true",
                         {"size": 1000, "query": {"query_string": {"query": query}}})
    assert st == 200, f"search: {st} {r}"
    return [h["_source"] for h in r["hits"]["hits"]]


def pids(fleet):
    return {n: h.main_pid() for n, h in fleet.hosts.items()}


def test_deploy_fresh(fleet, configs):
    r = deploy(fleet)
    rc = recap(r.stdout)
    for name, h in fleet.hosts.items():
        assert rc[name]["failed"] == 0 and rc[name]["changed"] >= 3, rc
        assert h.sh("systemctl is-active lure").stdout.strip() == "active"
        pid = h.main_pid()
        assert pid > 0
        # the unit's promises, seen from the running process: not root, only CAP_NET_BIND_SERVICE
        st = dict(line.split(":", 1) for line in h.sh(f"cat /proc/{pid}/status").stdout.splitlines())
        assert st["Uid"].split()[0] != "0", st["Uid"]
        assert int(st["CapEff"], 16) == 1 << 10, f"CapEff {st['CapEff']}: want cap_net_bind_service only"
        assert st["NoNewPrivs"].strip() == "1"
        assert st["Seccomp"].strip() == "2"
        # the identity lives in the StateDirectory, written by the dynamic user
        owner = h.sh("test -s /var/lib/lure/state && stat -c %u /var/lib/private/lure/state").stdout.strip()
        assert owner == st["Uid"].split()[0], (owner, st["Uid"])
        # the directories the play made for `lure -t` before the first start are the unit's now: systemd
        # moved them under private/ and gave them to the dynamic user (the output's for HUP's new file)
        for d in ("/var/lib/lure", "/var/log/lure"):
            assert h.sh(f"readlink {d}").stdout.strip() == "private/lure", d
            assert h.sh(f"stat -L -c %u {d}").stdout.strip() == st["Uid"].split()[0], d
        assert h.sh("cat /etc/logrotate.d/lure").stdout == (REPO / "platform/systemd/lure.logrotate").read_text()
        # the persona on its real ports, from a client in the host's network namespace
        code = subprocess.run(["nsenter", "-t", str(h.leader), "-n", "curl", "-s", "-o", "/dev/null",
                               "-w", "%{http_code}", f"http://127.0.0.1:80/deploy-probe-{name}"],
                              capture_output=True, text=True, timeout=20).stdout
        assert code.isdigit() and int(code) in (200, 401, 403, 404), code
        banner = subprocess.run(["nsenter", "-t", str(h.leader), "-n", "nc", "-w", "2", "127.0.0.1", "21"],
                                input="QUIT\r\n", capture_output=True, text=True, timeout=20).stdout
        assert banner.startswith("220"), banner
        # the event in the sensor's own file and in the node on the host
        ev = wait_until(lambda: [json.loads(line) for line in
                                 h.sh("cat /var/log/lure/events.ndjson").stdout.splitlines()
                                 if f"deploy-probe-{name}" in line], 10, f"the request event on {name}")
        assert get(ev[0], "observer.name") == name
        wait_until(lambda: es_events(fleet.node, f'url.original:"/deploy-probe-{name}"'), 30,
                   f"{name}'s request event in the node")
        hb = wait_until(lambda: es_events(fleet.node, f'observer.name:"{name}" AND event.reason:heartbeat'), 30,
                        f"{name}'s heartbeat in the node")
        assert get(hb[0], "observer.hostname") == name
        assert get(hb[0], "lure.ship.spool") == "/var/lib/lure/spool"
        assert h.sh("stat -c %u /var/lib/private/lure/spool").stdout.strip() == st["Uid"].split()[0]


def test_redeploy_changes_nothing(fleet, configs):
    before = pids(fleet)
    rc = recap(deploy(fleet).stdout)
    for name in fleet.hosts:
        assert rc[name]["changed"] == 0 and rc[name]["failed"] == 0, rc
    assert pids(fleet) == before


def test_reload_reopens_the_output(fleet, configs):
    """logrotate's way: move the file, `systemctl reload lure` (HUP), new events go to a new file."""
    h = fleet.hosts["sensor01"]
    pid = h.main_pid()
    h.sh("mv /var/log/lure/events.ndjson /var/log/lure/events.ndjson.1 && systemctl reload lure")
    wait_until(lambda: h.sh("test -s /var/log/lure/events.ndjson", check=False).returncode == 0, 10,
               "a new events.ndjson after the reload")
    subprocess.run(["nsenter", "-t", str(h.leader), "-n", "curl", "-s", "-o", "/dev/null",
                    "http://127.0.0.1:80/after-reload"], timeout=20)
    wait_until(lambda: "/after-reload" in h.sh("cat /var/log/lure/events.ndjson").stdout, 10,
               "the request event in the new file")
    assert "/after-reload" not in h.sh("cat /var/log/lure/events.ndjson.1").stdout
    assert h.main_pid() == pid


def test_logrotate_rotates_and_lure_reopens(fleet, configs):
    """The installed /etc/logrotate.d/lure, run by the host's logrotate: the file is renamed, lure (HUP
    through systemctl kill) creates the new one as the dynamic user, the same process goes on."""
    h = fleet.hosts["sensor01"]
    pid = h.main_pid()

    def probe(path):
        subprocess.run(["nsenter", "-t", str(h.leader), "-n", "curl", "-s", "-o", "/dev/null",
                        f"http://127.0.0.1:80{path}"], timeout=20)
        wait_until(lambda: path in h.sh("cat /var/log/lure/events.ndjson", check=False).stdout, 10,
                   f"the {path} event in events.ndjson")
    probe("/before-logrotate")
    h.sh("logrotate -f /etc/logrotate.d/lure")
    wait_until(lambda: h.sh("test -e /var/log/lure/events.ndjson", check=False).returncode == 0, 10,
               "lure's new events.ndjson after logrotate")
    assert "/before-logrotate" in h.sh("cat /var/log/lure/events.ndjson.1").stdout
    probe("/after-logrotate")
    assert "/before-logrotate" not in h.sh("cat /var/log/lure/events.ndjson").stdout
    uid = h.sh(f"stat -c %u /proc/{pid}").stdout.strip()
    assert h.sh("stat -c %u /var/log/lure/events.ndjson").stdout.strip() == uid
    assert h.main_pid() == pid


def test_config_change_restarts_only_that_host(fleet, configs):
    before = pids(fleet)
    (configs / "sensor02.json").write_text(json.dumps(config("sensor02", heartbeat=HEARTBEAT + 1), indent=1))
    rc = recap(deploy(fleet).stdout)
    assert rc["sensor01"]["changed"] == 0, rc
    assert rc["sensor02"]["changed"] >= 2, rc  # config + handler
    after = pids(fleet)
    assert after["sensor01"] == before["sensor01"]
    assert after["sensor02"] not in (0, before["sensor02"])
    cfg = json.loads(fleet.hosts["sensor02"].sh("cat /etc/lure/lure.json").stdout)
    assert cfg["heartbeat"] == HEARTBEAT + 1


def test_bad_config_refused_and_old_one_kept(fleet, configs):
    before = pids(fleet)
    good = (configs / "sensor01.json").read_text()
    bad = config("sensor01")
    bad["limits"] = {"max_conns": 0}
    (configs / "sensor01.json").write_text(json.dumps(bad, indent=1))
    try:
        r = deploy(fleet, check=False)
    finally:
        (configs / "sensor01.json").write_text(good)
    assert r.returncode != 0
    assert "max_conns" in r.stdout, r.stdout[-3000:]  # lure -t's message reaches the operator
    rc = recap(r.stdout)
    assert rc["sensor01"]["failed"] == 1 and rc["sensor02"]["changed"] == 0, rc
    h = fleet.hosts["sensor01"]
    assert json.loads(h.sh("cat /etc/lure/lure.json").stdout) == json.loads(good)
    assert pids(fleet) == before
    assert h.sh("systemctl is-active lure").stdout.strip() == "active"


def test_binary_update_restarts_every_host(fleet, configs):
    before = pids(fleet)
    new = fleet.dir / "lure-new"
    shutil.copy(fleet.bin, new)
    with open(new, "ab") as f:  # a different file, still the same program
        f.write(b"\0lure-deploy-test-update\0")
    rc = recap(deploy(fleet, "-e", f"lure_binary={new}").stdout)
    after = pids(fleet)
    for name, h in fleet.hosts.items():
        assert rc[name]["changed"] >= 2, rc
        assert after[name] not in (0, before[name])
        assert h.sh("cmp /usr/local/bin/lure /proc/$(systemctl show -p MainPID --value lure)/exe",
                    check=False).returncode == 0
        assert h.sh("tail -c 25 /usr/local/bin/lure").stdout.find("lure-deploy-test-update") >= 0
    # back to the build (and idempotent again afterwards)
    deploy(fleet)
    rc = recap(deploy(fleet).stdout)
    assert all(v["changed"] == 0 for v in rc.values()), rc


def test_check_healthy_fleet_restarts_nothing(fleet, configs):
    before = pids(fleet)
    wait_until(lambda: all(es_events(fleet.node, f'observer.name:"{n}" AND event.action:status '
                                                 f'AND @timestamp:>=now-5s') for n in fleet.hosts),
               30, "fresh heartbeats from every sensor")
    r = check_fleet(fleet)
    rc = recap(r.stdout)
    for name in fleet.hosts:
        assert rc[name]["changed"] == 0 and rc[name]["failed"] == 0, rc
        assert f"{name}: running, last heartbeat 20" in r.stdout, r.stdout[-3000:]
    assert "SILENT" not in r.stdout and "DEAD" not in r.stdout
    assert pids(fleet) == before


def test_check_restarts_wedged_and_stopped_sensors(fleet, configs):
    wedged, stopped = fleet.hosts["sensor01"], fleet.hosts["sensor02"]
    before = pids(fleet)
    wedged.sh(f"kill -STOP {before['sensor01']}")  # alive to systemd, silent to the fleet
    stopped.sh("systemctl stop lure")
    t0 = time.monotonic()
    # the documented query sees both go silent (no status event in the last 10 s)
    wait_until(lambda: {"sensor01", "sensor02"} <= set(silent_sensors(fleet.node, PATTERN, "10s")), 40,
               "both sensors silent in the node")
    r = check_fleet(fleet)
    rc = recap(r.stdout)
    assert "sensor01: running, last heartbeat" in r.stdout and "SILENT" in r.stdout, r.stdout[-3000:]
    assert "sensor02: DEAD (inactive)" in r.stdout, r.stdout[-3000:]
    after = pids(fleet)
    for name, h in fleet.hosts.items():
        assert rc[name]["changed"] >= 1 and rc[name]["failed"] == 0, rc
        assert h.sh("systemctl is-active lure").stdout.strip() == "active"
        assert after[name] not in (0, before[name])
    assert time.monotonic() - t0 < 120
    # and both are heard again
    assert not {"sensor01", "sensor02"} & set(silent_sensors(fleet.node, PATTERN, "10s"))


def test_unit_respawns_a_killed_sensor(fleet, configs):
    """Restart=always: kill -9 and systemd starts a new lure within RestartSec (5 s)."""
    h = fleet.hosts["sensor02"]
    pid = h.main_pid()
    h.sh(f"kill -9 {pid}")
    new = wait_until(lambda: (lambda p: p if p not in (0, pid) else None)(h.main_pid()), 20,
                     "systemd's respawn of lure")
    wait_until(lambda: h.sh("systemctl is-active lure", check=False).stdout.strip() == "active", 10, "active")
    assert new != pid
    wait_until(lambda: es_events(fleet.node, 'observer.name:"sensor02" AND event.reason:start '
                                             'AND @timestamp:>=now-20s'), 30, "the respawned sensor's start event")
