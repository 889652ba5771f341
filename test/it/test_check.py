"""`lure -t` runs every start-up check that binds no port and writes no file,
and exits as a start would (issue 12, items 10/11 and 13-16): the same code
and the same message with and without -t. Paths lure writes after dropping
privileges must be writable by that user. -e and elasticsearch.url refuse
what is not a URL the shipper can use, in the config error format. A UTF-8
BOM is skipped; nesting too deep is named. `make run` writes only NDJSON on
stdout, even on a cold build."""
import json
import os
import pwd
import re
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import REPO, free_offset, info, parse_line, refused, run_lure

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs root")


def config(tmp_path, extra, name="c.json"):
    """A config that would run on loopback (output in tmp_path) plus extra;
    a spool in tmp_path whenever it ships (the default is under /var/lib)."""
    c = {"listen": ["127.0.0.1"], "port_offset": free_offset(), "run_as_root": True,
         "output": {"file": str(tmp_path / "out.ndjson")}}
    for k, v in extra.items():
        c[k] = dict(c.get(k, {}), **v) if isinstance(v, dict) else v
    if "elasticsearch" in c:
        c["elasticsearch"].setdefault("spool", {"path": str(tmp_path / "spool")})
    p = tmp_path / name
    p.write_text(json.dumps(c))
    return p, c


def both(args, rc, msg, written=()):
    """lure -t ARGS and lure ARGS: both exit rc with msg (a regex) on the
    last stderr line, nothing on stdout; -t binds and writes nothing."""
    t = run_lure(["-t"] + args)
    err = t.stderr.decode()
    assert t.returncode == rc, f"-t: rc={t.returncode} {err!r}"
    assert t.stdout == b""
    assert re.search(msg, err.strip().splitlines()[-1]), err
    for w in written:
        assert not Path(w).exists(), f"-t created {w}"
    s = run_lure(args)
    assert s.returncode == rc, f"start: rc={s.returncode} {s.stderr!r}"
    assert s.stderr.decode().strip().splitlines()[-1] == err.strip().splitlines()[-1]
    return err


# --- item 13: each start-up failure, found by -t ----------------------------------------

def test_https_without_ca_file(tmp_path):
    p, _ = config(tmp_path, {"elasticsearch": {"url": "https://127.0.0.1:9"}})
    both(["-c", str(p)], 2, r"elasticsearch.*(CA file|TLS build)", [tmp_path / "spool"])


def test_garbage_ca_file(tmp_path):
    if info().tls == "none":
        pytest.skip("TLS=none build")
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    p, _ = config(tmp_path, {"elasticsearch": {"url": "https://127.0.0.1:9", "ca_file": str(ca)}})
    both(["-c", str(p)], 2, rf"elasticsearch TLS: .*{re.escape(str(ca))}", [tmp_path / "spool"])


def test_missing_template(tmp_path):
    t = tmp_path / "nope" / "template.json"
    p, _ = config(tmp_path, {"elasticsearch": {"url": "http://127.0.0.1:9", "template": str(t)}})
    both(["-c", str(p)], 2, rf'elasticsearch.template "{re.escape(str(t))}"')


def test_spool_path_is_a_directory(tmp_path):
    d = tmp_path / "spooldir"
    d.mkdir()
    p, _ = config(tmp_path, {"elasticsearch": {"url": "http://127.0.0.1:9",
                                               "spool": {"path": str(d)}}})
    both(["-c", str(p)], 1, rf'^lure: spool "{re.escape(str(d))}": Is a directory$')


def test_dead_letter_directory_missing(tmp_path):
    f = tmp_path / "no" / "dead.ndjson"
    p, _ = config(tmp_path, {"elasticsearch": {"url": "http://127.0.0.1:9", "dead_letter": str(f)}})
    both(["-c", str(p)], 1,
         rf'^lure: elasticsearch.dead_letter "{re.escape(str(f))}": No such file or directory$')


@needs_root
def test_unknown_user(tmp_path):
    p, _ = config(tmp_path, {"user": "no_such_user_lure_check", "run_as_root": False})
    both(["-c", str(p)], 1, r'^lure: user "no_such_user_lure_check": no such user$')


def test_missing_output_directory(tmp_path):
    out = tmp_path / "no" / "such" / "out.ndjson"
    p, c = config(tmp_path, {"output": {"file": str(out)}})
    both(["-c", str(p)], 1, rf'^lure: output "{re.escape(str(out))}": No such file or directory$')
    assert refused(c["port_offset"] + 21)


def test_e_ftp(tmp_path):
    p, _ = config(tmp_path, {})
    both(["-c", str(p), "-e", "ftp://x"], 2, rf"^lure: -e:1:1: {URL}")


def test_check_writes_nothing(tmp_path):
    """A good config that ships, spools, dead-letters and keeps state: -t
    says ok and creates none of those files."""
    files = [tmp_path / n for n in ("out.ndjson", "spool", "spool.ack", "dead", "state")]
    p, _ = config(tmp_path, {"state_file": str(files[4]),
                             "elasticsearch": {"url": "http://127.0.0.1:9",
                                               "dead_letter": str(files[3])}})
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 0 and r.stderr.decode() == f"lure: {p}: ok\n", r.stderr
    assert not [f for f in files if f.exists()]


# --- items 10/11: what lure writes after the drop ----------------------------------------

@pytest.fixture
def nobody_dir():
    """A directory under /tmp that the test chooses to make writable by
    nobody or not (tmp_path's parents are root's, 0700)."""
    d = Path(tempfile.mkdtemp(prefix="lure-check-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


@needs_root
def test_output_directory_not_writable_by_user(tmp_path, nobody_dir):
    out = nobody_dir / "events.ndjson"
    p, c = config(tmp_path, {"user": "nobody", "run_as_root": False, "output": {"file": str(out)}})
    both(["-c", str(p)], 1,
         rf'^lure: output "{re.escape(str(out))}": as user "nobody": Permission denied$')
    assert refused(c["port_offset"] + 21)


@needs_root
def test_output_rotation_after_drop(tmp_path, nobody_dir):
    """The output directory is nobody's: -t ok, and after a rename + HUP the
    dropped process creates the new file (logrotate without copytruncate)."""
    nb = pwd.getpwnam("nobody")
    os.chown(nobody_dir, nb.pw_uid, nb.pw_gid)
    out = nobody_dir / "events.ndjson"
    p, _ = config(tmp_path, {"user": "nobody", "run_as_root": False, "output": {"file": str(out)}})
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 0, r.stderr
    assert not out.exists()
    proc = subprocess.Popen([info().bin, "-c", str(p)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        end = time.monotonic() + 5
        while not (out.exists() and b'"start"' in out.read_bytes()):
            assert proc.poll() is None and time.monotonic() < end, proc.stderr.read()
            time.sleep(0.02)
        out.rename(nobody_dir / "events.ndjson.1")
        proc.send_signal(signal.SIGHUP)
        proc.send_signal(signal.SIGUSR1)  # a status event: into the new file
        while not (out.exists() and b'"stats"' in out.read_bytes()):
            assert proc.poll() is None and time.monotonic() < end + 5, proc.stderr.read()
            time.sleep(0.02)
        assert out.stat().st_uid == nb.pw_uid
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stderr.close()


# --- item 14: URLs ---------------------------------------------------------------------------

URL = r'key "elasticsearch\.url": expected http\[s\]://\[user:password@\]host\[:port\]\[/path\]$'
BAD_URLS = [  # (id, url, 0-based offset of the byte the error points at)
    ("crlf", "http://127.0.0.1:9200/\r\nX-Injected: 1", 22),
    ("lf_in_host", "http://es\nHost: x", 9),
    ("control_byte", "http://es/\x01", 10),
    ("del_byte", "http://es/\x7f", 10),
    ("space", "http://es/a b", 11),
    ("quote", 'http://es/a"b', 11),
    ("v6_junk", "http://[::1]x", 12),
    ("v6_junk_https", "https://u@[::1]x:9200/", 15),
    ("pct_short", "http://es/a%4", 11),
    ("pct_not_hex", "http://u:p%zz@es", 10),
    ("empty", "", 0),
    ("scheme", "HTTP//es", 0),
    ("ftp", "ftp://es", 0),
]


@pytest.mark.parametrize("url,off", [pytest.param(*c[1:], id=c[0]) for c in BAD_URLS])
def test_bad_url(tmp_path, url, off):
    p, _ = config(tmp_path, {})
    line = url[:off].count("\n") + 1
    col = off - (url.rfind("\n", 0, off) + 1) + 1
    both(["-c", str(p), "-e", url], 2, rf"^lure: -e:{line}:{col}: {URL}")
    if not url or any(ord(ch) < 0x20 for ch in url):
        return  # not a JSON string without escapes: the string rule has it
    cfg = tmp_path / "url.json"
    text = '{"run_as_root": true,\n "elasticsearch": {"url": ' + json.dumps(url, ensure_ascii=False) + "}}"
    cfg.write_text(text)
    col = text.index(json.dumps(url, ensure_ascii=False)) - text.index("\n")  # the opening quote
    where = {(2, col + off + 1)} | ({(2, col)} if off == 0 else set())
    err = both(["-c", str(cfg)], 2, rf"^lure: {re.escape(str(cfg))}:\d+:\d+: {URL}")
    m = re.search(r":(\d+):(\d+): ", err)
    assert (int(m.group(1)), int(m.group(2))) in where, (err, where)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9200", "https://u:p%40ss@es.example:443/pre/fix",
                                 "http://[::1]:9200/", "http://es_1.local/?x#y"])
def test_good_url(tmp_path, url):
    p, _ = config(tmp_path, {"elasticsearch": {"url": url, "insecure": True}})
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 0 or (info().tls == "none" and url.startswith("https")), r.stderr


# --- item 15: BOM, depth -----------------------------------------------------------------

def test_utf8_bom_is_skipped(tmp_path):
    p = tmp_path / "bom.json"
    p.write_bytes(b'\xef\xbb\xbf{"run_as_root": true, "sensor_id": "ps"}\r\n')
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 0, r.stderr
    # positions stay those an editor shows (the BOM is no column)
    p.write_bytes(b'\xef\xbb\xbf{"sensor_idd": 1}')
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 2
    assert r.stderr.decode() == f'lure: {p}:1:2: key "sensor_idd": unknown key\n'


def test_nesting_depth_is_named(tmp_path):
    p = tmp_path / "deep.json"
    text = '{"run_as_root": true, "x": ' + '[{"a": ' * 20 + "1" + "}]" * 20 + "}"
    p.write_text(text)
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 2
    depth = 0
    for col, ch in enumerate(text, 1):  # where the 33rd level opens
        depth += ch in "[{"
        if depth == 33:
            break
    assert r.stderr.decode() == f"lure: {p}:1:{col}: nested deeper than 32 levels\n", r.stderr
    # strings holding brackets and escaped quotes do not count
    p.write_text('{"sensor_id": "[[[[\\"{{{{", "x": ' + "[" * 31 + "]" * 31 + "}")
    r = run_lure(["-t", "-c", str(p)])
    assert r.returncode == 2 and "unknown key" in r.stderr.decode(), r.stderr


# --- item 16: make run ---------------------------------------------------------------------

@pytest.mark.skipif(not shutil.which("make"), reason="no make")
def test_make_run_stdout_is_ndjson(tmp_path):
    """A cold build (a fresh B) then a second of the sensor: every stdout
    line is a JSON event. Costs the build (about 30 s on 2 cores)."""
    cfg, c = config(tmp_path, {"output": {"file": "-"}})
    env = dict(os.environ, MAKEFLAGS="")
    persona = os.environ.get("LURE_PERSONA", info().persona)
    # at the lowest priority: the build must not slow the timing-sensitive
    # suites running beside it (the BusyBox telnetd comparison)
    proc = subprocess.Popen(["nice", "-n", "19", "make", "--no-print-directory", "-C", str(REPO),
                             f"B={tmp_path}/b", f"PERSONA={persona}", "-j2", "run",
                             f"CONFIG={cfg}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=env, start_new_session=True)
    out = b""
    try:
        end = time.monotonic() + 600
        while b'"start"' not in out and proc.poll() is None and time.monotonic() < end:
            r, _, _ = select.select([proc.stdout], [], [], 1)
            if r:
                out += os.read(proc.stdout.fileno(), 65536)
        time.sleep(1)
        if proc.poll() is None:  # else the build failed: its stderr says why
            os.killpg(proc.pid, signal.SIGTERM)
        o, err = proc.communicate(timeout=30)
        out += o
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert b'"start"' in out, f"no start event on stdout:\n{out[-2000:]!r}\n{err[-3000:]!r}"
    assert b"CC" in err  # it did build, on stderr
    lines = out.split(b"\n")
    if lines[-1]:
        lines.pop()  # a line cut by the signal
    for i, l in enumerate(x for x in lines if x):
        parse_line(l, f"make run stdout line {i + 1}")
