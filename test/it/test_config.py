"""Command line and configuration: exit codes 0/1/2, error messages naming
FILE:LINE:COL and the key, nothing bound and nothing written on a bad config."""
import os
import re
import socket
import subprocess

import pytest

from conftest import (REPO, free_offset, info, refused, run_lure,
                      udp_bound)

# Every document starts with keys that would make lure bind loopback ports if
# it wrongly accepted the rest, so "nothing bound" is observable.
def doc(body, off, listen=True, root=True):
    head = []
    if listen:
        head.append('  "listen": ["127.0.0.1", "::1"],')
    head.append(f'  "port_offset": {off},')
    if root:
        head.append('  "run_as_root": true,')
    return "{\n" + "\n".join(head) + "\n" + body + "\n}\n"


def pos(text, needle, nth=1):
    """1-based (line, col) of the nth occurrence of needle in text."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    col = at - (text.rfind("\n", 0, at) + 1) + 1
    return line, col


def run_bad(path, data, off):
    """Run `lure -c path` on data: it must exit 2 at once with nothing on
    stdout and nothing bound. Returns stderr (str)."""
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    p = subprocess.Popen([info().bin, "-c", str(path)], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = p.communicate(timeout=2)
    except subprocess.TimeoutExpired:
        bound = [p_ + off for p_, t, _ in info().ports if t == "tcp" and not refused(p_ + off)]
        p.kill()
        out, err = p.communicate()
        pytest.fail(f"lure accepted the bad config and ran (listening on {bound}); "
                    f"stderr={err!r}")
    err = err.decode("utf-8", "replace")
    assert p.returncode == 2, f"rc={p.returncode} stderr={err!r}"
    assert out == b"", out
    for pp, t, _ in info().ports:
        for a in ("127.0.0.1", "::1"):
            if t == "tcp":
                assert refused(pp + off, a), f"{a} port {pp + off}/tcp is bound"
            else:
                assert not udp_bound(pp + off, a), f"{a} port {pp + off}/udp is bound"
    return err


def assert_msg(err, path, where, key, msg):
    """err must be exactly one line: lure: FILE:LINE:COL: [key "K": ]MSG.
    where: a list of accepted (line, col)."""
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got {err!r}"
    keypart = f'key "{re.escape(key)}": ' if key else ""
    m = re.fullmatch(rf"lure: {re.escape(str(path))}:(\d+):(\d+): {keypart}({msg})", lines[0])
    assert m, f"stderr {lines[0]!r} does not match file {path}, key {key!r}, message /{msg}/"
    got = (int(m.group(1)), int(m.group(2)))
    assert got in where, f"error at {got}, expected one of {where}: {lines[0]!r}"


def missing_port():
    have = {p for p, _, _ in info().ports}
    return next(p for p in (7, 9, 13, 37, 79, 113, 1234) if p not in have)


INT = r"expected an integer from {} to {}"

# (id, body, key, message regex, marker of the offending token)
KEYED = [
    ("unknown_top", '  "sensor_idd": "x"', "sensor_idd", "unknown key", '"sensor_idd"'),
    ("unknown_nested", '  "limits": {"max_conns": 10, "max_connz": 5}',
     "limits.max_connz", "unknown key", '"max_connz"'),
    ("unknown_nested_output", '  "output": {"file": "-", "fmt": "json"}',
     "output.fmt", "unknown key", '"fmt"'),
    # a dotted name is not a path: only {"limits": {"max_conns": ..}} is
    ("dotted_top_level_key", '  "limits.max_conns": 5', "limits.max_conns", "unknown key",
     '"limits.max_conns"'),
    ("max_conns_string", '  "limits": {"max_conns": "100"}', "limits.max_conns",
     INT.format(1, 65536), '"100"'),
    ("max_conns_negative", '  "limits": {"max_conns": -5}', "limits.max_conns",
     INT.format(1, 65536), "-5}"),
    ("max_conns_zero", '  "limits": {"max_conns": 0}', "limits.max_conns",
     INT.format(1, 65536), "0}"),
    ("max_conns_too_large", '  "limits": {"max_conns": 65537}', "limits.max_conns",
     INT.format(1, 65536), "65537}"),
    ("max_conns_huge", '  "limits": {"max_conns": 99999999999999999999999}', "limits.max_conns",
     INT.format(1, 65536), "99999999999999999999999"),
    ("max_conns_float", '  "limits": {"max_conns": 1.5}', "limits.max_conns",
     INT.format(1, 65536), "1.5}"),
    ("max_conns_exponent", '  "limits": {"max_conns": 1e3}', "limits.max_conns",
     INT.format(1, 65536), "1e3}"),
    ("max_conns_bool", '  "limits": {"max_conns": true}', "limits.max_conns",
     INT.format(1, 65536), "true}"),
    ("max_conns_null", '  "limits": {"max_conns": null}', "limits.max_conns",
     INT.format(1, 65536), "null}"),
    ("per_ip_object", '  "limits": {"per_ip": {"n": 1}}', "limits.per_ip",
     INT.format(1, 65536), '{"n"'),
    ("idle_timeout_too_large", '  "limits": {"idle_timeout": 86401}', "limits.idle_timeout",
     INT.format(1, 86400), "86401}"),
    ("in_buf_too_small", '  "limits": {"in_buf": 511}', "limits.in_buf",
     INT.format(512, 1 << 20), "511}"),
    ("heartbeat_negative", '  "heartbeat": -1', "heartbeat", INT.format(0, 86400), "-1"),
    ("limits_not_object", '  "limits": [1]', "limits", "expected an object", "[1]"),
    ("output_not_object", '  "output": "-"', "output", "expected an object", '"-"'),
    ("output_file_empty", '  "output": {"file": ""}', "output.file", "must not be empty", '""'),
    ("sensor_id_number", '  "sensor_id": 5', "sensor_id", "expected a string", "5\n}"),
    ("sensor_id_too_long", '  "sensor_id": "' + "a" * 64 + '"', "sensor_id",
     re.escape("string too long (max 63 bytes) or holds control bytes"), '"aaaa'),
    ("sensor_id_unicode_escape", '  "sensor_id": "a\\u0041"', "sensor_id",
     re.escape("\\u escapes are not supported"), '"a\\u'),
    ("exclude_bad_cidr_bits", '  "exclude": ["10.0.0.0/8", "192.168.1.0/33"]', "exclude",
     "expected an IP address or CIDR", '"192.168.1.0/33"'),
    ("exclude_empty_bits", '  "exclude": ["127.0.0.1/"]', "exclude",
     "expected an IP address or CIDR", '"127.0.0.1/"'),
    ("exclude_not_ip", '  "exclude": ["10.0.0.x"]', "exclude",
     "expected an IP address or CIDR", '"10.0.0.x"'),
    ("exclude_v6_bits", '  "exclude": ["::1/129"]', "exclude",
     "expected an IP address or CIDR", '"::1/129"'),
    ("exclude_not_array", '  "exclude": "10.0.0.0/8"', "exclude",
     "expected an array of strings", '"10.0.0.0/8"'),
    ("ports_value_too_large", '  "ports": {"21": 65536}', "ports.21",
     INT.format(0, 65535), "65536}"),
    ("ports_value_string", '  "ports": {"21": "2121"}', "ports.21",
     INT.format(0, 65535), '"2121"'),
    ("ports_key_not_number", '  "ports": {"ftp": 2121}', "ports.ftp",
     "expected a port number as the key", '"ftp"'),
    ("duplicate_top", '  "sensor_id": "a",\n  "sensor_id": "b"', "sensor_id",
     "duplicate key", '"sensor_id"', 2),
    ("duplicate_nested", '  "limits": {\n    "per_ip": 1,\n    "max_conns": 9,\n    "per_ip": 2\n  }',
     "limits.per_ip", "duplicate key", '"per_ip"', 2),
    ("run_as_root_string", '  "run_as_root": "true"', "run_as_root",
     "expected true or false", '"true"'),
]


def keyed_params():
    out = []
    for c in KEYED:
        cid, body, key, msg, marker = c[:5]
        nth = c[5] if len(c) > 5 else 1
        out.append(pytest.param(body, key, msg, marker, nth, id=cid))
    return out


@pytest.mark.parametrize("body,key,msg,marker,nth", keyed_params())
def test_bad_key(tmp_path, body, key, msg, marker, nth):
    off = free_offset()
    root = "run_as_root" not in body
    text = doc(body, off, root=root)
    if not root:  # keep lure from running were the key wrongly accepted
        text = text.replace('  "port_offset"', '  "user": "nobody",\n  "port_offset"', 1)
    path = tmp_path / "bad.json"
    err = run_bad(path, text, off)
    line, col = pos(text, marker, nth)
    # a string token may be located at its quote or at its first character
    where = [(line, col), (line, col + 1)] if marker.startswith('"') else [(line, col)]
    assert_msg(err, path, where, key, msg)


def test_bad_listen_address(tmp_path):
    off = free_offset()
    for i, (bad, msg) in enumerate([
            ('"127.0.0.256"', "expected an IPv4 or IPv6 address"),
            ('"localhost"', "expected an IPv4 or IPv6 address"),
            ('"127.0.0.1/32"', "expected an IPv4 or IPv6 address"),
            ('"::1::2"', "expected an IPv4 or IPv6 address")]):
        text = doc(f'  "listen": ["127.0.0.1", {bad}],\n  "sensor_id": "x"', off, listen=False)
        path = tmp_path / f"listen{i}.json"
        err = run_bad(path, text, off)
        line, col = pos(text, bad)
        assert_msg(err, path, [(line, col), (line, col + 1)], "listen", msg)
    for i, (bad, msg, marker) in enumerate([
            ("[]", "must not be empty", "[]"),
            ('"127.0.0.1"', "expected an array of strings", '"127.0.0.1"'),
            ('["127.0.0.1", 5]', "expected a string", "5]")]):
        text = doc(f'  "listen": {bad}', off, listen=False)
        path = tmp_path / f"listen_t{i}.json"
        err = run_bad(path, text, off)
        line, col = pos(text, marker)
        where = [(line, col), (line, col + 1)] if marker.startswith('"') else [(line, col)]
        assert_msg(err, path, where, "listen", msg)


def test_ports_override_unknown_persona_port(tmp_path):
    off = free_offset()
    mp = missing_port()
    text = doc(f'  "ports": {{"21": {off + 1021}, "{mp}": 2000}}', off)
    path = tmp_path / "ports.json"
    err = run_bad(path, text, off)
    line, col = pos(text, f'"{mp}"')
    assert_msg(err, path, [(line, col), (line, col + 1)], f"ports.{mp}",
               "the persona has no such port")


def test_ports_override_duplicate_key(tmp_path):
    """{"ports": {"21": a, "21": b}}: the error points at the second "21",
    like every other duplicate key, not at 1:1."""
    off = free_offset()
    text = doc(f'  "sensor_id": "x",\n  "ports": {{\n    "21": {off + 1021},\n    "21": {off + 1022}\n  }}', off)
    path = tmp_path / "dupports.json"
    err = run_bad(path, text, off)
    line, col = pos(text, '"21"', 2)
    assert_msg(err, path, [(line, col), (line, col + 1)], r"ports.21",
               "duplicate key")


# Not JSON at all: (id, text after the prefix keys, message, markers of
# acceptable error positions; "EOF" = one past the last byte).
BAD = "invalid JSON"
INVALID = [
    ("trailing_comma_object", '  "sensor_id": "a",\n}\n', BAD, [",\n}", "}\n"]),
    ("trailing_comma_array", '  "exclude": ["10.0.0.0/8",]\n}\n', BAD, [",]", "]\n"]),
    ("missing_colon", '  "sensor_id" "a"\n}\n', BAD, [' "a"', '"a"', 'a"\n']),
    ("missing_comma", '  "sensor_id": "a"\n  "hostname": "b"\n}\n', BAD, ['\n  "hostname"', '"hostname"']),
    ("key_without_value", '  "sensor_id"\n}\n', BAD, ["\n}", "}\n"]),
    ("leading_zero", '  "limits": {"max_conns": 007}\n}\n', BAD, ["007", "07}", "7}"]),
    ("bare_word", '  "sensor_id": abc\n}\n', BAD, ["abc"]),
    ("single_quotes", "  'sensor_id': 'a'\n}\n", BAD, ["'sensor_id'"]),
    ("comment", '  // a comment\n  "sensor_id": "a"\n}\n', BAD, ["// a"]),
    # a raw control byte inside a string is not JSON (RFC 8259 7); a
    # type-level message naming the key is as good
    ("control_byte_in_string", '  "sensor_id": "a\tb"\n}\n',
     BAD + r'|key "sensor_id": string too long \(max 63 bytes\) or holds control bytes',
     ['"a\t', 'a\t', '\tb']),
    ("unterminated_string_at_eof", '  "sensor_id": "abc', "unexpected end of file", ["EOF"]),
    ("unterminated_object_at_eof", '  "limits": {"max_conns": 5}', "unexpected end of file", ["EOF"]),
    ("text_after_object", '  "sensor_id": "a"\n}\n{"x": 1}\n',
     "text after the top-level object|" + BAD, ['{"x"', '"x"']),
]


@pytest.mark.parametrize("tail,msg,markers", [pytest.param(*c[1:], id=c[0]) for c in INVALID])
def test_invalid_json(tmp_path, tail, msg, markers):
    off = free_offset()
    text = doc("", off)[:-3].rstrip(",\n") + ",\n" + tail  # prefix keys, then tail
    path = tmp_path / "inv.json"
    err = run_bad(path, text, off)
    where = []
    for m in markers:
        if m == "EOF":
            lines = text.split("\n")
            where.append((len(lines), len(lines[-1]) + 1))
        else:
            where.append(pos(text, m))
    assert_msg(err, path, where, None, msg)


@pytest.mark.parametrize("data,msg,where", [
    pytest.param(b"[1, 2]\n", "the top level must be an object", [(1, 1)], id="top_level_array"),
    pytest.param(b'"x"\n', "the top level must be an object", [(1, 1), (1, 2)], id="top_level_string"),
    pytest.param(b"", "the top level must be an object|unexpected end of file", [(1, 1)], id="empty"),
    pytest.param(b" \n\t\n", "the top level must be an object|unexpected end of file",
                 [(1, 1), (3, 1)], id="whitespace_only"),
])
def test_not_an_object(tmp_path, data, msg, where):
    path = tmp_path / "top.json"
    err = run_bad(path, data, free_offset())
    assert_msg(err, path, where, None, msg)


def test_nul_byte(tmp_path):
    """A NUL byte is an error that names FILE:LINE:COL (config.h: "every
    error names file:line:column")."""
    off = free_offset()
    text = doc('  "sensor_id": "ab\0cd"', off)
    path = tmp_path / "nul.json"
    err = run_bad(path, text.encode(), off)
    line, col = pos(text, "\0")
    assert re.fullmatch(rf"lure: {re.escape(str(path))}:{line}:{col}: .*NUL.*\n", err), err


def test_missing_file(tmp_path):
    path = tmp_path / "nope" / "missing.json"
    r = run_lure(["-c", str(path)])
    assert r.returncode == 2
    assert r.stdout == b""
    assert r.stderr.decode() == f"lure: {path}: No such file or directory\n"
    r = run_lure(["-t", "-c", str(path)])
    assert r.returncode == 2
    assert str(path) in r.stderr.decode()


def test_config_is_a_directory(tmp_path):
    r = run_lure(["-c", str(tmp_path)])
    assert r.returncode == 2
    assert r.stdout == b""
    assert r.stderr.decode().startswith(f"lure: {tmp_path}: ")


def test_config_too_large(tmp_path):
    off = free_offset()
    text = doc('  "sensor_id": "x"' + " " * (300 * 1024), off)
    path = tmp_path / "big.json"
    err = run_bad(path, text, off)
    assert err.startswith(f"lure: {path}: ") and "larger than" in err, err


def test_check_mode(tmp_path):
    off = free_offset()
    good = doc('  "sensor_id": "s1",\n  "exclude": ["10.0.0.0/8", "::1/128"],\n'
               '  "ports": {"21": 0},\n  "limits": {"max_conns": 5, "per_ip": 2},\n'
               '  "output": {"file": "-"},\n  "heartbeat": 0', off)
    path = tmp_path / "good.json"
    path.write_text(good)
    r = run_lure(["-t", "-c", str(path)])
    assert r.returncode == 0, r.stderr
    assert r.stdout == b""
    assert r.stderr.decode() == f"lure: {path}: ok\n"
    for pp, t, _ in info().ports:
        if t == "tcp":
            assert refused(pp + off)
    # -t with a bad config: 2 and the same message as without -t
    bad = tmp_path / "bad.json"
    bad.write_text(good.replace('"per_ip": 2', '"per_ip": 0'))
    r = run_lure(["-t", "-c", str(bad)])
    assert r.returncode == 2
    assert r.stdout == b""
    line, col = pos(bad.read_text(), '"per_ip": 0')
    col += len('"per_ip": ')
    assert r.stderr.decode() == (f'lure: {bad}:{line}:{col}: key "limits.per_ip": '
                                 f"expected an integer from 1 to 65536\n")
    # -t without -c: the defaults are valid
    r = run_lure(["-t"])
    assert r.returncode == 0
    assert r.stdout == b""


def test_usage_errors():
    r = run_lure(["-x"])
    assert r.returncode == 2
    assert b"usage: lure" in r.stderr
    assert r.stdout == b""
    r = run_lure(["extra-argument"])
    assert r.returncode == 2
    assert b"usage: lure" in r.stderr
    r = run_lure(["-c"])
    assert r.returncode == 2
    r = run_lure(["-h"])
    assert r.returncode == 0
    assert b"usage: lure" in r.stdout


def test_version():
    r = run_lure(["-V"])
    assert r.returncode == 0
    assert r.stderr == b""
    lines = r.stdout.decode().splitlines()
    version = (REPO / "VERSION").read_text().strip()
    assert lines[0] == f"lure {version}"
    persona = os.environ.get("LURE_PERSONA")
    if persona:
        assert lines[1] == f"persona {persona}"
    else:
        assert re.fullmatch(r"persona \S+", lines[1])
    assert re.fullmatch(r"tls (none|mbedtls|bearssl)", lines[2])
    assert lines[3].startswith("emulators ")
    emus = lines[3].split()[1:]
    assert len(emus) == len(set(emus))
    ports = [l for l in lines[4:] if not l.startswith("identity ")]
    assert ports, "no port lines"
    for l in lines[4 + len(ports):]:  # then the identities the persona draws
        assert re.fullmatch(r"identity [a-z0-9_]+", l), l
    for l in ports:
        m = re.fullmatch(r"port (\d+)/(tcp|udp) (\S+)", l)
        assert m, l
        assert m.group(3) in emus, f"{l}: emulator not in {emus}"
    conf = info().persona_conf()
    if conf.exists():
        want = []  # port lines may sit in each service's .conf too
        for f in sorted(conf.parent.glob("*.conf")):
            for l in f.read_text().splitlines():
                w = l.split()
                if len(w) == 4 and w[0] == "port":
                    want.append(f"port {w[1]}/{w[2]} {w[3]}")
        assert sorted(ports) == sorted(want)
        # the persona's emulators are exactly the ones compiled in
        assert sorted(emus) == sorted({l.split()[2] for l in want})


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
def test_refuses_root_without_user(tmp_path):
    off = free_offset()
    for i, extra in enumerate(["", ',\n  "run_as_root": false']):
        text = ('{\n  "listen": ["127.0.0.1", "::1"],\n'
                f'  "port_offset": {off}{extra}\n}}\n')
        path = tmp_path / f"root{i}.json"
        err = run_bad(path, text, off)
        assert err == (f'lure: {path}: refusing to run as root: set "user" to drop to '
                       f'after binding, or "run_as_root": true\n')
    # the check is about running: -t accepts the same file
    r = run_lure(["-t", "-c", str(path)])
    assert r.returncode == 0


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root")
@pytest.mark.parametrize("user,msg", [("no_such_user_lure_it", "no such user"),
                                      ("root", "is root")])
def test_bad_user_is_a_startup_failure(tmp_path, user, msg):
    off = free_offset()
    out = tmp_path / "out.ndjson"
    path = tmp_path / "user.json"
    path.write_text(f'{{"listen": ["127.0.0.1"], "port_offset": {off}, '
                    f'"user": "{user}", "output": {{"file": "{out}"}}}}')
    r = run_lure(["-c", str(path)])
    assert r.returncode == 1, r.stderr
    assert f'lure: user "{user}": {msg}' in r.stderr.decode()
    # no "start" event: the sensor never ran
    assert not out.exists() or out.read_bytes() == b""


def test_bind_failure_exits_1(tmp_path):
    off = free_offset()
    p21 = off + 21
    hog = socket.socket()
    hog.bind(("127.0.0.1", p21))
    hog.listen(1)
    try:
        out = tmp_path / "out.ndjson"
        path = tmp_path / "bind.json"
        path.write_text(f'{{"listen": ["127.0.0.1", "::1"], "port_offset": {off}, '
                        f'"run_as_root": true, "output": {{"file": "{out}"}}}}')
        r = run_lure(["-c", str(path)])
        assert r.returncode == 1
        assert r.stdout == b""
        assert (f"lure: bind 127.0.0.1 port {p21}/tcp: Address already in use"
                in r.stderr.decode()), r.stderr
        assert not out.exists() or out.read_bytes() == b""
    finally:
        hog.close()


def test_unopenable_output_exits_1(tmp_path):
    off = free_offset()
    out = tmp_path / "no" / "such" / "dir" / "out.ndjson"
    path = tmp_path / "out.json"
    path.write_text(f'{{"listen": ["127.0.0.1"], "port_offset": {off}, '
                    f'"run_as_root": true, "output": {{"file": "{out}"}}}}')
    r = run_lure(["-c", str(path)])
    assert r.returncode == 1
    assert r.stderr.decode() == f'lure: output "{out}": No such file or directory\n'
    assert refused(off + 21)


@pytest.mark.parametrize("value", ["65536", "-1", '"8000"'])
def test_port_offset_range(tmp_path, value):
    off = free_offset()
    text = doc("", off)[:-3].rstrip(",\n") + f',\n  "sensor_id": "x"\n}}\n'
    text = text.replace(f'"port_offset": {off}', f'"port_offset": {value}')
    path = tmp_path / "off.json"
    err = run_bad(path, text, off)
    line, col = pos(text, value)
    assert_msg(err, path, [(line, col), (line, col + 1)] if value[0] == '"' else [(line, col)],
               "port_offset", "expected an integer from 0 to 65535")
