"""Per-instance identity: the state file is made on first start, a restart
keeps every value, another sensor gets other values. (What the device shows
of it on the wire is checked by the per-service tests.)"""
import os
import re
import stat

from conftest import persona

persona("hikvision")


def values(path):
    out = {}
    for line in path.read_text().splitlines():
        w = line.split(" ", 2)
        if w[0] == "value":
            out[w[1]] = w[2]
        elif w[0] == "seed":
            out["(seed)"] = w[1]
    return out


def start_stop(lure, state):
    s = lure({"state_file": str(state)})
    assert s.stop() == 0
    return values(state)


def test_identity_made_once_kept_and_private(lure, tmp_path):
    state = tmp_path / "a.state"
    v1 = start_stop(lure, state)
    assert stat.S_IMODE(os.stat(state).st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}", v1["(seed)"])
    assert re.fullmatch(r"DS-2CD2143G0-I20(19|20)\d{4}AAWR[0-9A-F]\d{8}", v1["serial"])
    assert re.fullmatch(r"44:19:b6(:[0-9a-f]{2}){3}", v1["mac"])
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-11b3-[0-9a-f]{4}-" + v1["mac"].replace(":", ""),
                        v1["device_id"])
    v2 = start_stop(lure, state)
    assert v1 == v2


def test_two_sensors_are_two_devices(lure, tmp_path):
    a = start_stop(lure, tmp_path / "a.state")
    b = start_stop(lure, tmp_path / "b.state")
    for k in ("(seed)", "serial", "mac", "device_id"):
        assert a[k] != b[k], k
    assert a["model"] == b["model"] == "DS-2CD2143G0-I"


def test_no_state_file_is_ephemeral(lure):
    s = lure({"state_file": None})
    assert "IDENTITY ephemeral" in s.stderr()


def test_bad_state_file_exits_1_naming_it(lure, tmp_path):
    from conftest import run_lure
    import json
    state = tmp_path / "bad.state"
    state.write_text("seed zz\n")
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps({"state_file": str(state), "run_as_root": True,
                               "port_offset": 20000, "listen": ["127.0.0.1"]}))
    r = run_lure(["-c", str(cfg)])
    assert r.returncode == 1
    assert str(state).encode() in r.stderr and b"not a lure state line" in r.stderr
