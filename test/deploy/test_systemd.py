"""platform/systemd/lure.service: `systemd-analyze verify` (in a root holding the unit, the binary and
systemd's own units) must be silent, and `systemd-analyze security` must rate it at most 2.0 with every
hardening setting the issue names. The unit running for real under systemd (dynamic user, only
CAP_NET_BIND_SERVICE, seccomp) is checked by test_ansible.py in booted containers."""
import json
import re
import shutil

import pytest
from conftest import REPO, deploy_bin, in_root, make_ca, make_root, need, run

DYNAMIC_UID = 61234  # a uid in systemd's dynamic range (61184-65519)

UNIT = REPO / "platform" / "systemd" / "lure.service"


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    need("systemd-analyze")
    r = tmp_path_factory.mktemp("unitroot")
    (r / "usr/local/bin").mkdir(parents=True)
    (r / "bin").mkdir()
    (r / "etc/systemd/system").mkdir(parents=True)
    (r / "usr/lib/systemd").mkdir(parents=True)
    shutil.copy(deploy_bin(), r / "usr/local/bin/lure")
    shutil.copy("/bin/kill", r / "bin/kill")
    shutil.copytree("/usr/lib/systemd/system", r / "usr/lib/systemd/system", symlinks=True)
    return r


def verify(root, text):
    (root / "etc/systemd/system/lure.service").write_text(text)
    return run(["systemd-analyze", "verify", "--man=no", f"--root={root}", "lure.service"], check=False)


def test_verify_is_silent(root):
    r = verify(root, UNIT.read_text())
    assert r.returncode == 0 and r.stdout == "" and r.stderr == "", r.stderr


@pytest.mark.parametrize("bad, msg", [
    ("ProtectSystem=strict", "ProtectSystem=strickt"),            # typo in a value
    ("NoNewPrivileges=yes", "NoNewPrivilegs=yes"),                # typo in a key
    ("ExecStart=/usr/local/bin/lure", "ExecStart=/usr/local/bin/lure-missing"),
])
def test_verify_catches_mistakes(root, bad, msg):
    text = UNIT.read_text()
    assert bad in text
    r = verify(root, text.replace(bad, msg, 1))
    assert r.returncode != 0 or r.stderr.strip(), f"verify accepted {msg!r}"


def test_security_exposure(root):
    r = run(["systemd-analyze", "security", "--offline=yes", "--threshold=20", str(UNIT)], check=False)
    m = re.search(r"Overall exposure level for lure.service: ([\d.]+)", r.stdout)
    assert m, r.stdout[-2000:] + r.stderr
    assert r.returncode == 0 and float(m.group(1)) <= 2.0, m.group(0)
    checks = json.loads(run(["systemd-analyze", "security", "--offline=yes", "--json=short", str(UNIT)]).stdout)
    bad = {c["name"] for c in checks if c.get("set") is False and float(c.get("exposure") or 0) > 0}
    # what the unit deliberately keeps: it must accept connections from anywhere and bind low ports
    allowed = {"IPAddressDeny=", "CapabilityBoundingSet=~CAP_NET_(BIND_SERVICE|BROADCAST|RAW)",
               "RestrictAddressFamilies=~AF_(INET|INET6)",
               "RootDirectory=/RootImage=", "PrivateNetwork=", "PrivateUsers=", "DeviceAllow=",
               "AmbientCapabilities=", "SupplementaryGroups=", "User=/DynamicUser="}
    assert bad <= allowed, f"exposed beyond the deliberate ones: {sorted(bad - allowed)}"


def test_unit_has_the_settings_the_issue_names():
    text = UNIT.read_text()
    for line in ("AmbientCapabilities=CAP_NET_BIND_SERVICE", "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
                 "DynamicUser=yes", "ProtectSystem=strict", "NoNewPrivileges=yes", "SystemCallFilter=@system-service",
                 "StateDirectory=lure", "Restart=always"):
        assert re.search(rf"^{re.escape(line)}$", text, re.M), line


def unit_value(key):
    m = re.search(rf"^{key}=(.*)$", UNIT.read_text(), re.M)
    assert m, key
    return m.group(1)


def unit_root(tmp_path, made=("StateDirectory", "LogsDirectory")):
    """The host's file system as the unit's ExecStartPre sees it: the binary, /etc/lure (the config
    and the CA certificate deploy.yml installs), and the directories systemd made for the dynamic user
    (made: the unit's settings whose directory exists, owned by that user)."""
    cfg = REPO / "platform" / "systemd" / "lure.json"
    base = {"StateDirectory": "/var/lib", "LogsDirectory": "/var/log"}
    return make_root(tmp_path / "root",
                     files={"/usr/local/bin/lure": (deploy_bin().read_bytes(), 0o755),
                            f"/etc/{unit_value('ConfigurationDirectory')}/lure.json": (cfg.read_bytes(), 0o644),
                            "/etc/lure/ca.pem": (make_ca(), 0o644)},
                     dirs={f"{base[k]}/{unit_value(k)}": (DYNAMIC_UID, 0o755) for k in made})


def exec_start_pre(root, **kw):
    """The unit's ExecStartPre (lure -t), run as systemd runs it: the dynamic user, STATE_DIRECTORY."""
    return in_root(root, unit_value("ExecStartPre").split(), user=f"{DYNAMIC_UID}:{DYNAMIC_UID}",
                   env={"STATE_DIRECTORY": f"/var/lib/{unit_value('StateDirectory')}",
                        "LOGS_DIRECTORY": f"/var/log/{unit_value('LogsDirectory')}"}, **kw)


def test_unit_config_passes_exec_start_pre(tmp_path):
    """platform/systemd/lure.json: every file lure writes lies in a directory the unit makes for it, and
    the unit's own `lure -t` accepts it there (the drop-in state: HTTPS with a CA file)."""
    cfg = json.loads((REPO / "platform" / "systemd" / "lure.json").read_text())
    assert unit_value("ExecStartPre").split()[1:3] == ["-t", "-c"]
    state, logs = f"/var/lib/{unit_value('StateDirectory')}/", f"/var/log/{unit_value('LogsDirectory')}/"
    assert cfg["state_file"].startswith(state) and cfg["elasticsearch"]["spool"]["path"].startswith(state)
    assert cfg["output"]["file"].startswith(logs)
    assert cfg["elasticsearch"]["ca_file"].startswith(f"/etc/{unit_value('ConfigurationDirectory')}/")
    r = exec_start_pre(unit_root(tmp_path))
    assert r.returncode == 0 and "ok" in r.stderr, r.stderr


@pytest.mark.parametrize("made, want", [
    ((), 'output "/var/log/lure/events.ndjson": No such file or directory'),
    (("LogsDirectory",), 'state_file "/var/lib/lure/state": No such file or directory'),
])
def test_exec_start_pre_needs_the_units_directories(tmp_path, made, want):
    """Without StateDirectory=/LogsDirectory= (or before systemd made them) the same check fails: the
    test above proves the unit's directories, not a lenient -t."""
    r = exec_start_pre(unit_root(tmp_path, made))
    assert r.returncode == 1 and want in r.stderr, r.stderr
