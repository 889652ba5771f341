"""platform/systemd/lure.service: `systemd-analyze verify` (in a root holding the unit, the binary and
systemd's own units) must be silent, and `systemd-analyze security` must rate it at most 2.0 with every
hardening setting the issue names. The unit running for real under systemd (dynamic user, only
CAP_NET_BIND_SERVICE, seccomp) is checked by test_ansible.py in booted containers."""
import json
import re
import shutil

import pytest
from conftest import REPO, deploy_bin, need, run

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
    # the config the unit reads is valid for the binary it runs (state in the StateDirectory)
    cfg = REPO / "platform" / "systemd" / "lure.json"
    assert json.loads(cfg.read_text())["state_file"] == "/var/lib/lure/state"
    r = run([str(deploy_bin()), "-t", "-c", str(cfg)], check=False)
    assert r.returncode == 0, r.stderr
