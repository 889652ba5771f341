"""https:// through a real nginx (Debian's) terminating TLS in front of the node.

The test makes its own CA and server certificates with the openssl CLI and runs a private nginx
(its own prefix, conf, pid and logs in a temporary directory) on 127.0.0.1 with one server block
per case, each with its own access log:
  main    cert for DNS:localhost + IP:127.0.0.1, Basic auth (htpasswd, openssl passwd -apr1)
  strict  same cert and auth: the wrong-CA case (its log must stay empty)
  noip    cert for DNS:localhost only: the wrong-host-name case
  apikey  same cert as main, requires "Authorization: ApiKey <key>"
  close   same cert, no auth, closes after every response (keepalive_timeout 0)
  keep    same cert, no auth

lure has three TLS shipping bugs, each with its own test here:
  test_tls_keepalive_next_request   a second request on a kept-alive connection is never written
  test_tls_large_bulk_request       a request body larger than one 4 KiB TLS record stalls
  test_tls_handshake_every_request  a handshake stalls when the server's flight is read in the
                                    same pass that sent the client's
All three stall until timeout_ms and are reported as "timed out connecting"; while they are there
the per-case tests (which use ordinary settings) fail too.
"""
import base64
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import assert_exactly_once, connect_banner, free_port, get, node_ids, wait_until

USER, PASSWORD, API_KEY = "shipper", "s3cret:pa ss", "bHVyZTp0ZXN0a2V5"


def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    assert r.returncode == 0, f"openssl {' '.join(args)}:\n{r.stderr}"
    return r.stdout


def make_ca(d, name):
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.pem", "-days", "2", "-subj", f"/CN={name}",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d)


def make_cert(d, name, ca, san):
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", "/CN=localhost", cwd=d)
    (d / f"{name}.ext").write_text(f"subjectAltName={san}\nbasicConstraints=CA:FALSE\n"
                                   "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
            "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", f"{name}.ext", cwd=d)


def nginx_bin():
    exe = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not exe:
        r = subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], capture_output=True, text=True,
                           env={"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        if r.returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True)
            r = subprocess.run(["apt-get", "install", "-y", "-qq", "nginx-light"], capture_output=True,
                               text=True, env={"DEBIAN_FRONTEND": "noninteractive",
                                               "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})
        exe = shutil.which("nginx") or "/usr/sbin/nginx"
        assert Path(exe).exists(), f"apt-get install nginx-light failed:\n{r.stdout}\n{r.stderr}"
    return exe


class Nginx:
    def __init__(self, d, node_port):
        self.d = d
        self.ports = {k: free_port() for k in ("main", "strict", "noip", "apikey", "close", "keep")}
        pw = openssl("passwd", "-apr1", PASSWORD, cwd=d).strip()
        (d / "htpasswd").write_text(f"{USER}:{pw}\n")
        for sub in ("logs", "tmp"):
            (d / sub).mkdir()

        def server(name, cert, auth, extra="keepalive_timeout 60s;"):
            return f"""
    server {{
        listen 127.0.0.1:{self.ports[name]} ssl;
        server_name localhost;
        ssl_certificate {d}/{cert}.pem;
        ssl_certificate_key {d}/{cert}.key;
        access_log {d}/logs/{name}.log lure;
        {auth}
        {extra}
        location / {{
            proxy_pass http://127.0.0.1:{node_port};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
        }}
    }}"""
        basic = f'auth_basic "lure"; auth_basic_user_file {d}/htpasswd;'
        apikey = f'if ($http_authorization != "ApiKey {API_KEY}") {{ return 401; }}'
        conf = f"""
user root;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/logs/error.log info;
events {{ worker_connections 256; }}
http {{
    log_format lure '$remote_addr "$request" $status "$http_authorization" $ssl_protocol';
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    client_max_body_size 100m;
    {server("main", "srv", basic)}
    {server("strict", "srv", basic)}
    {server("noip", "srv_noip", basic)}
    {server("apikey", "srv", apikey)}
    {server("close", "srv", "", "keepalive_timeout 0;")}
    {server("keep", "srv", "")}
}}
"""
        (d / "nginx.conf").write_text(conf)
        self.exe = nginx_bin()
        r = subprocess.run([self.exe, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "logs/error.log")],
                           capture_output=True, text=True)
        assert r.returncode == 0, f"nginx did not start:\n{r.stderr}"
        wait_until(lambda: (d / "nginx.pid").exists(), 5, "nginx's pid file")
        self.pid = int((d / "nginx.pid").read_text())

    def log(self, name):
        p = self.d / "logs" / f"{name}.log"
        return p.read_text().splitlines() if p.exists() else []

    def stop(self):
        subprocess.run([self.exe, "-p", str(self.d), "-c", str(self.d / "nginx.conf"), "-s", "stop"],
                       capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    d = tmp_path_factory.mktemp("pki")
    make_ca(d, "ca")
    make_ca(d, "other_ca")
    make_cert(d, "srv", "ca", "DNS:localhost,IP:127.0.0.1")
    make_cert(d, "srv_noip", "ca", "DNS:localhost")
    return d


@pytest.fixture(scope="module")
def nginx(shared_node, pki, tmp_path_factory):
    d = tmp_path_factory.mktemp("nginx")
    for f in pki.iterdir():
        shutil.copy(f, d / f.name)
    n = Nginx(d, shared_node.port)
    yield n
    n.stop()


def traffic(s, n=5):
    for _ in range(n):
        connect_banner(s.banner_port)
    s.wait_event(lambda e: len([x for x in s.run_events()
                                if get(x, "event.action") == "connection.close"]) >= n, 10, "close events")


def lands(node, s, pattern, n=5):
    traffic(s, n)
    got = assert_exactly_once(node, pattern, [s], timeout=10)
    assert len(got) >= 3 * n + 1
    assert not s.ship_errors(), s.ship_errors()


def ship_error(s, pred, what, timeout=20):
    return get(s.wait_event(lambda e: get(e, "event.reason") == "ship_error" and pred(get(e, "error.message")),
                            timeout, what), "error.message")


def verify_failed(m):
    return "certificate verify failed" in m


def url_pw():
    return PASSWORD.replace("%", "%25").replace(":", "%3A").replace(" ", "%20")


def test_tls_basic_auth_in_url(shared_node, nginx, pki, sensor):
    """Right CA, https://user:pass@localhost:port (the password percent-encoded) -> events land,
    sent as Basic auth over TLS 1.2."""
    s = sensor("tlsurl", f"https://{USER}:{url_pw()}@localhost:{nginx.ports['main']}", "lure-tlsurl-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem")})
    lands(shared_node, s, "lure-tlsurl-*")
    cred = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    posts = [l for l in nginx.log("main") if "POST /_bulk" in l and cred in l]
    assert posts and all(" 200 " in l and "TLSv1.2" in l for l in posts), posts[-3:]


def test_tls_user_password_keys(shared_node, nginx, pki, sensor):
    """elasticsearch.user / elasticsearch.password instead of userinfo in the URL -> land."""
    s = sensor("tlskeys", f"https://localhost:{nginx.ports['main']}/", "lure-tlskeys-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "user": USER, "password": PASSWORD})
    lands(shared_node, s, "lure-tlskeys-*")


def test_tls_wrong_password(shared_node, nginx, pki, sensor, tmp_path):
    """Wrong password -> 401: nothing lands, a ship_error status event mentions 401, and the
    request is tried again later (events are kept, not dead-lettered)."""
    dlq = tmp_path / "badpw.dlq"
    s = sensor("tlsbadpw", f"https://{USER}:wrong@localhost:{nginx.ports['main']}", "lure-tlsbadpw-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "retry_max_ms": 500, "dead_letter": str(dlq)})
    traffic(s, 3)
    assert "401" in ship_error(s, lambda m: "401" in m, "a ship_error event about 401")
    cred = base64.b64encode(f"{USER}:wrong".encode()).decode()
    wait_until(lambda: len([l for l in nginx.log("main") if "POST /_bulk" in l and " 401 " in l
                            and cred in l]) >= 3, 20, "three refused bulk requests (retries)")
    st = s.status()
    assert get(st, "lure.events.dead_lettered") == 0 and get(st, "lure.events.shipped") == 0
    assert get(st, "lure.ship.requests") >= 3
    assert get(st, "lure.ship.queue_bytes") + get(st, "lure.ship.in_flight") > 0  # still held
    assert node_ids(shared_node, "lure-tlsbadpw-*") == []
    assert not dlq.exists() or dlq.read_text() == ""


def test_tls_wrong_ca(shared_node, nginx, pki, sensor):
    """A CA that did not sign the server's certificate -> refused before any HTTP is sent: an error
    event says the certificate verification failed, nginx logs no request, nothing lands."""
    s = sensor("tlsbadca", f"https://{USER}:{url_pw()}@localhost:{nginx.ports['strict']}",
               "lure-tlsbadca-%Y.%m.%d", es={"ca_file": str(pki / "other_ca.pem")})
    traffic(s, 3)
    m = ship_error(s, verify_failed, "a 'certificate verify failed' ship_error")
    assert "localhost" in m, m
    time.sleep(1)
    assert nginx.log("strict") == []
    assert node_ids(shared_node, "lure-tlsbadca-*") == []
    assert get(s.status(), "lure.ship.requests") == 0  # no HTTP request was ever begun


def test_tls_wrong_host_name(shared_node, nginx, pki, sensor):
    """URL host 127.0.0.1, certificate for DNS:localhost only (no IP SAN) -> refused like a wrong
    CA; the same certificate is accepted under the name localhost."""
    url = f"https://{USER}:{url_pw()}@127.0.0.1:{nginx.ports['noip']}"
    s = sensor("tlsbadname", url, "lure-tlsbadname-%Y.%m.%d", es={"ca_file": str(pki / "ca.pem")})
    traffic(s, 3)
    m = ship_error(s, verify_failed, "a 'certificate verify failed' ship_error")
    assert "127.0.0.1" in m, m
    time.sleep(1)
    assert nginx.log("noip") == []
    assert node_ids(shared_node, "lure-tlsbadname-*") == []
    assert get(s.status(), "lure.ship.requests") == 0
    s.stop()
    # control: the same server under the name in its certificate
    ok = sensor("tlsname", url.replace("@127.0.0.1:", "@localhost:"), "lure-tlsname-%Y.%m.%d",
                es={"ca_file": str(pki / "ca.pem")})
    lands(shared_node, ok, "lure-tlsname-*")


def test_tls_insecure_with_wrong_ca(shared_node, nginx, pki, sensor):
    """insecure: true skips the certificate check: the wrong CA no longer matters."""
    s = sensor("tlsinsecure", f"https://localhost:{nginx.ports['main']}", "lure-tlsinsecure-%Y.%m.%d",
               es={"ca_file": str(pki / "other_ca.pem"), "insecure": True, "user": USER,
                   "password": PASSWORD})
    lands(shared_node, s, "lure-tlsinsecure-*")


def test_tls_api_key(shared_node, nginx, pki, sensor):
    """api_key -> "Authorization: ApiKey <key>" -> lands; a wrong key is refused with 401."""
    s = sensor("tlsapikey", f"https://localhost:{nginx.ports['apikey']}", "lure-tlsapikey-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "api_key": API_KEY})
    lands(shared_node, s, "lure-tlsapikey-*")
    assert any(f'"ApiKey {API_KEY}"' in l and " 200 " in l for l in nginx.log("apikey"))
    bad = sensor("tlsbadkey", f"https://localhost:{nginx.ports['apikey']}", "lure-tlsbadkey-%Y.%m.%d",
                 es={"ca_file": str(pki / "ca.pem"), "api_key": "nope"})
    traffic(bad, 2)
    ship_error(bad, lambda m: "401" in m, "a ship_error event about 401")
    assert node_ids(shared_node, "lure-tlsbadkey-*") == []


def test_tls_handshake_every_request(shared_node, nginx, pki, sensor):
    """A server that closes after every response: each small request needs a new handshake, and
    none may stall. Fails while ship_handle() (S_TLS) calls tls_pump() after tls_handshake() without
    running the handshake again: when that pump already reads the server's next flight into the
    engine, lure waits for POLLIN that never comes, until timeout_ms ("timed out connecting").
    With 30 handshakes the race is hit almost always."""
    s = sensor("tlsclose", f"https://localhost:{nginx.ports['close']}", "lure-tlsclose-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "batch_events": 1, "flush_ms": 20})
    for _ in range(10):
        connect_banner(s.banner_port)
        time.sleep(0.1)
    got = assert_exactly_once(shared_node, "lure-tlsclose-*", [s], timeout=8)
    assert len(got) >= 31
    assert not s.ship_errors(), s.ship_errors()


def test_tls_large_bulk_request(shared_node, nginx, pki, sensor):
    """A bulk body larger than one TLS record (4 KiB), on a fresh connection, must be sent whole.
    Fails while ship_pollfd() asks only for POLLIN in S_SEND once tls_pump() has flushed the
    engine: the rest of the body is never written (nginx logs the cut request as 400, "client
    prematurely closed connection") and the request is retried, the same size, forever."""
    s = sensor("tlslarge", f"https://localhost:{nginx.ports['close']}", "lure-tlslarge-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "flush_ms": 1000})
    traffic(s, 20)  # 60 events in the first second: one request of ~45 KiB
    got = assert_exactly_once(shared_node, "lure-tlslarge-*", [s], timeout=10)
    assert len(got) >= 61
    assert not s.ship_errors(), s.ship_errors()


def test_tls_keepalive_next_request(shared_node, nginx, pki, sensor):
    """A server that keeps the connection open: the next (small) request goes out on it at once.
    Fails while begin_request() on a kept-alive TLS connection leaves ship_pollfd() asking for
    POLLIN only (the TLS engine has nothing pending yet), so the request is never written until
    timeout_ms, reported as "timed out connecting"; over TLS every connection then carries one
    request."""
    s = sensor("tlskeep", f"https://localhost:{nginx.ports['keep']}", "lure-tlskeep-%Y.%m.%d",
               es={"ca_file": str(pki / "ca.pem"), "batch_events": 2, "flush_ms": 50})
    for _ in range(5):
        connect_banner(s.banner_port)
        time.sleep(0.2)
    got = assert_exactly_once(shared_node, "lure-tlskeep-*", [s], timeout=8)
    assert len(got) >= 16
    assert not s.ship_errors(), s.ship_errors()
    assert len([l for l in nginx.log("keep") if "POST /_bulk" in l and " 200 " in l]) >= 8
