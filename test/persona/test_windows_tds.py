"""MSSQL (emu/tds.c) of the windows persona: SQL Server 2019 RTM
(15.0.2000.5), default instance, driven by the clients attackers use:
impacket's mssqlclient (SQL and Windows authentication: its LOGIN7 in TLS
inside TDS, as the server answers ENCRYPT_OFF), FreeTDS's tsql with each
encryption setting, pymssql; each gets error 18456 (or 18452 for an
integrated login), each attempt is a "login" event with the password as
typed or the NetNTLMv2 hash that verifies against it; then nmap -sV and
its ms-sql-info and ms-sql-ntlm-info on the real port in a network
namespace.

There is no SQL Server here to compare with side by side: the expected
values are nmap's own service database ("Microsoft SQL Server 2019",
15.00.2000), [MS-TDS] and the messages SQL Server 2019 sends for 18456 and
18452 (what tsql, pymssql and impacket print against it)."""
import os
import re
import shutil
import socket
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import NS, get, persona
import smb_packets as sp
import ssh_common
from tds_packets import login7, packet, prelogin

persona("windows")

USER, PASSWORD = "sa", "Winter2024!"
LOGIN_FAILED = "Login failed for user '{}'."
UNTRUSTED = ("Login failed. The login is from an untrusted domain and cannot "
             "be used with Integrated authentication.")
HERE = Path(__file__).resolve().parent


def impacket_login(port, user, password, domain="", windows=False):
    """impacket's mssqlclient.py login (tds.MSSQL.login): its result and
    the ERROR token it got."""
    try:
        from impacket import tds
    except ImportError:
        pytest.fail("impacket is needed (sh tools/deps.sh persona)",
                    pytrace=False)
    c = tds.MSSQL("127.0.0.1", port)
    c.connect()
    try:
        ok = c.login(None, user, password, domain, None, windows)
    finally:
        c.disconnect()
    errs = [t for k, v in c.replies.items() if k == tds.TDS_ERROR_TOKEN
            for t in v]
    assert len(errs) == 1, c.replies
    return ok, errs[0]


def check_error(err, number, text):
    assert err["Number"] == number
    assert err["State"] == 1 and err["Class"] == 14
    assert err["MsgText"].decode("utf-16-le") == text
    assert re.fullmatch(r"WIN-[A-Z0-9]{11}",
                        err["ServerName"].decode("utf-16-le"))


def test_impacket_sql_login(sensor):
    ok, err = impacket_login(sensor.port(1433), USER, PASSWORD)
    assert not ok
    check_error(err, 18456, LOGIN_FAILED.format(USER))
    ev = sensor.wait_event("login", user__name=USER)
    assert get(ev, "lure.auth.password") == PASSWORD
    assert get(ev, "lure.auth.method") == "sql"
    assert get(ev, "event.outcome") == "failure"
    assert get(ev, "lure.tds.tls") is True  # the LOGIN7 came in TLS
    assert get(ev, "lure.tds.version") == "71000000"
    pre = sensor.wait_event("request", lure__tds__type="PRELOGIN")
    assert get(pre, "lure.tds.encryption") == "off"
    assert get(pre, "lure.tds.encryption_answer") == "off"
    assert get(pre, "lure.tds.instance") == "MSSQLServer"


def test_impacket_password_exact(sensor):
    """Non-ASCII, quotes, spaces: de-obfuscated to the same string."""
    pw, user = "pä ss'wörd€\"1", "dbo_ädmin"
    ok, err = impacket_login(sensor.port(1433), user, pw)
    check_error(err, 18456, LOGIN_FAILED.format(user))
    ev = sensor.wait_event("login", user__name=user)
    assert get(ev, "lure.auth.password") == pw


def test_impacket_windows_auth(sensor):
    ok, err = impacket_login(sensor.port(1433), "bob", PASSWORD, "CORP",
                             windows=True)
    assert not ok
    check_error(err, 18452, UNTRUSTED)
    ev = sensor.wait_event("login", user__name="bob")
    assert get(ev, "user.domain") == "CORP"
    assert get(ev, "lure.auth.method") == "ntlmv2"
    assert get(ev, "event.outcome") == "failure"
    h = get(ev, "lure.auth.ntlm.hash")
    u, _, d, chal, proof, blob = h.split(":")
    assert (u, d) == ("bob", "CORP")
    assert sp.ntproofstr(PASSWORD, "bob", "CORP", bytes.fromhex(chal),
                         bytes.fromhex(blob)).hex() == proof
    assert sp.ntproofstr(PASSWORD + "x", "bob", "CORP", bytes.fromhex(chal),
                         bytes.fromhex(blob)).hex() != proof
    neg = sensor.wait_event("request", lure__tds__type="LOGIN7")
    assert get(neg, "lure.auth.ntlm.message") == "NEGOTIATE"


def tsql(port, tmp_path, enc, user, pw):
    if not shutil.which("tsql"):
        pytest.fail("tsql is needed (freetds-bin)", pytrace=False)
    conf = tmp_path / "freetds.conf"
    conf.write_text(f"[global]\n\ttds version = auto\n\tencryption = {enc}\n")
    r = subprocess.run(["tsql", "-H", "127.0.0.1", "-p", str(port), "-U",
                        user, "-P", pw], input="quit\n", capture_output=True,
                       text=True, timeout=30,
                       env={**os.environ, "FREETDSCONF": str(conf)})
    return r.stdout + r.stderr


ENCRYPTION = [("off", False), ("request", True), ("require", True)]


@pytest.mark.parametrize("enc,tls", ENCRYPTION)
def test_tsql(sensor, tmp_path, enc, tls):
    """FreeTDS's tsql: "encryption = off" sends ENCRYPT_NOT_SUP (answered
    NOT_SUP: no TLS at all), "request" ENCRYPT_OFF (the LOGIN7 in TLS),
    "require" ENCRYPT_ON (everything in TLS)."""
    user, pw = f"u_{enc}", f"pw {enc} 9!"
    out = tsql(sensor.port(1433), tmp_path, enc, user, pw)
    assert "Msg 18456 (severity 14, state 1) from WIN-" in out, out
    assert LOGIN_FAILED.format(user) in out, out
    ev = sensor.wait_event("login", user__name=user)
    assert get(ev, "lure.auth.password") == pw
    assert get(ev, "lure.tds.tls") is tls
    assert get(ev, "lure.tds.app") == "TSQL"
    assert get(ev, "lure.tds.version") == "74000004"


@pytest.mark.parametrize("enc,tls", ENCRYPTION)
def test_tsql_windows_auth(sensor, tmp_path, enc, tls):
    """tsql -U DOMAIN\\user: NTLMv2 in SSPI ("require": in TLS too)."""
    user = f"w_{enc}"
    out = tsql(sensor.port(1433), tmp_path, enc, "CORP\\" + user, PASSWORD)
    assert UNTRUSTED in out, out
    ev = sensor.wait_event("login", user__name=user)
    assert get(ev, "lure.auth.method") == "ntlmv2"
    assert get(ev, "lure.tds.tls") is tls
    _, _, d, chal, proof, blob = get(ev, "lure.auth.ntlm.hash").split(":")
    assert d == "CORP"
    assert sp.ntproofstr(PASSWORD, user, "CORP", bytes.fromhex(chal),
                         bytes.fromhex(blob)).hex() == proof


def test_pymssql(sensor):
    try:
        import pymssql
    except ImportError:
        pytest.fail("pymssql is needed (sh tools/deps.sh persona)",
                    pytrace=False)
    with pytest.raises(pymssql.OperationalError) as ex:
        pymssql.connect(server="127.0.0.1", port=sensor.port(1433),
                        user="carol", password="Pa$$w0rd", database="master",
                        login_timeout=10)
    assert ex.value.args[0][0] == 18456
    assert LOGIN_FAILED.format("carol").encode() in ex.value.args[0][1]
    ev = sensor.wait_event("login", user__name="carol")
    assert get(ev, "lure.auth.password") == "Pa$$w0rd"
    assert get(ev, "lure.tds.database") == "master"


def exchange(port, data, want=None):
    """data sent (then EOF, unless want); what comes back until a close
    or want bytes"""
    s = socket.create_connection(("127.0.0.1", port), 5)
    s.settimeout(5)
    s.sendall(data)
    if want is None:
        s.shutdown(socket.SHUT_WR)
    out = b""
    try:
        while (want is None or len(out) < want) and \
                (chunk := s.recv(65536)):
            out += chunk
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    return out


def test_prelogin_answers(sensor):
    """ENCRYPTION answered as [MS-TDS] 2.2.6.5's table has it for a server
    with "Force Encryption" off; the answer carries the options asked."""
    port = sensor.port(1433)
    for enc, want in ((0, 0), (1, 1), (2, 2), (3, 1)):
        r = exchange(port, prelogin(enc), 37)
        assert r[:8] == b"\x04\x01\x00\x25\x00\x00\x01\x00", r
        assert r[8:29] == (b"\x00\x00\x15\x00\x06\x01\x00\x1b\x00\x01"
                           b"\x02\x00\x1c\x00\x01\x03\x00\x1d\x00\x00\xff")
        assert r[29:35] == b"\x0f\x00\x07\xd0\x00\x00"
        assert r[35:] == bytes([want, 0]), (enc, r)


@pytest.mark.parametrize("version,wide", [(0x71000001, False),
                                          (0x74000004, True)])
def test_login7_without_prelogin(sensor, version, wide):
    """A LOGIN7 straight away (what brute-forcers send): ERROR then DONE
    with DONE_ERROR; LineNumber and DoneRowCount 4 and 8 bytes from TDS
    7.2 ([MS-TDS] 2.2.7.9, 2.2.7.6), 2 and 4 before; then a close."""
    r = exchange(sensor.port(1433), login7("sa", "x", version=version))
    assert r[:2] == b"\x04\x01" and len(r) == int.from_bytes(r[2:4], "big")
    tok = r[8:]
    assert tok[0] == 0xaa
    n = int.from_bytes(tok[1:3], "little")
    err, done = tok[3:3 + n], tok[3 + n:]
    assert int.from_bytes(err[:4], "little") == 18456
    assert err[-4:] == b"\x01\0\0\0" if wide else err[-2:] == b"\x01\0"
    assert done == b"\xfd\x02\0\0\0" + b"\0" * (8 if wide else 4)
    ev = sensor.wait_event("login", lure__tds__version=f"{version:08x}")
    assert get(ev, "lure.auth.password") == "x"
    assert get(ev, "lure.tds.tls") is False


def test_sspi_spnego(sensor):
    """SSMS and Windows's own clients (the Negotiate package) send the
    NEGOTIATE in SPNEGO: the SSPI token (0xED) carries the CHALLENGE in a
    negTokenResp, and the AUTHENTICATE in the client's negTokenResp (an
    SSPI message, type 0x11) is the login whose hash verifies."""
    from test_windows_smb import check_hash
    s = socket.create_connection(("127.0.0.1", sensor.port(1433)), 5)
    s.settimeout(5)
    s.sendall(login7(host="WS01", sspi=sp.spnego_init(sp.ntlm_negotiate())))
    r = b""
    while len(r) < 8 or len(r) < int.from_bytes(r[2:4], "big"):
        chunk = s.recv(65536)
        assert chunk, r
        r += chunk
    tok = r[8:]
    assert tok[0] == 0xed, r
    g = tok[3:3 + int.from_bytes(tok[1:3], "little")]
    assert g[:1] == b"\xa1" and b"\xa0\x03\x0a\x01\x01" in g, g
    assert bytes.fromhex("060a2b06010401823702020a") in g, g
    auth = sp.authenticate_to(g, "Winter2025!", "jdoe", "CORP", "WS01")
    s.sendall(packet(0x11, sp.spnego_resp(auth)))
    try:
        while s.recv(65536):
            pass
    except (ConnectionResetError, socket.timeout):
        pass
    s.close()
    ev = sensor.wait_event("login", user__name="jdoe")
    check_hash(ev, "jdoe", "CORP", "Winter2025!")


def test_garbage_closes_one_connection(sensor):
    port = sensor.port(1433)
    assert exchange(port, b"GET / HTTP/1.0\r\n\r\n") == b""
    assert exchange(port, b"\x12\x01\x00\x06") == b""  # short, then EOF
    assert exchange(port, packet(0x10, b"\0" * 8)) == b""
    sensor.wait_event("request", error__message="bad LOGIN7")
    assert exchange(port, prelogin(2), 37)[:1] == b"\x04"


def test_nmap(host, netns):
    """nmap -sV (Debian 12's database and Debian 13's when LURE_NMAP_DB
    holds it) names 1433 "Microsoft SQL Server 2019" 15.00.2000; nmap's
    ms-sql-info and ms-sql-ntlm-info (run by mssql-scripts.nse: their
    InitScript is broken in 7.93 and 7.95) read the persona's version and
    NTLM target information."""
    if not shutil.which("nmap"):
        pytest.fail("nmap is needed", pytrace=False)
    runs = {}
    for d in ssh_common.nmap_dbs():  # at once: each waits 6 s for a banner
        cmd = list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "1433",
                          "--script", str(HERE / "mssql-scripts.nse"),
                          "-oX", "-"]
        if d:
            cmd += ["--datadir", str(d)]
        runs[d] = subprocess.Popen(cmd + ["127.0.0.1"],
                                   stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE)
    for d, p in runs.items():
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err.decode()
        port = ET.fromstring(out).find(".//port")
        svc = port.find("service")
        assert svc.get("name") == "ms-sql-s", d
        assert svc.get("product") == "Microsoft SQL Server 2019", d
        assert svc.get("version").startswith("15.00.2000"), d
        out = port.find("script").get("output")
        assert "name: Microsoft SQL Server 2019 RTM" in out, out
        assert "number: 15.00.2000.00" in out, out
        assert "Service pack level: RTM" in out, out
        assert "NetBIOS_Domain_Name: CORP" in out, out
        m = re.search(r"NetBIOS_Computer_Name: (WIN-[A-Z0-9]{11})", out)
        assert m, out
        assert f"DNS_Computer_Name: {m.group(1)}.corp.local" in out, out
        assert "DNS_Tree_Name: corp.local" in out, out
        assert "Product_Version: 10.0.17763" in out, out
