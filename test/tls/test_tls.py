"""TLS client layer (src/tls.h) against a real TLS server on 127.0.0.1.

A throwaway CA signs RSA-2048 and ECDSA P-256 server certificates for
localhost / 127.0.0.1; a private nginx (own conf, pid, logs in tmp) serves
them on free high ports; test/tls/tls_client (built by `make test-tls`)
connects through our sans-I/O interface with real sockets and poll().

LURE_TLS_CLIENT / LURE_TLS_CLIENT_NONE name the driver binaries (mbedTLS
and TLS=none builds); the defaults are make test-tls's build/tls-test-host/.
"""
import hashlib
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.join(ROOT, "build", "tls-test-host")
CLIENT = os.environ.get("LURE_TLS_CLIENT", os.path.join(BUILD, "tls_client"))
CLIENT_NONE = os.environ.get("LURE_TLS_CLIENT_NONE",
                             os.path.join(BUILD, "tls_client_none"))
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
BIG = 300 * 1024  # a response of many 16 KiB records


def sh(*args, cwd):
    subprocess.run(args, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def make_ca(d, name, key="rsa:2048"):
    sh("openssl", "req", "-x509", "-newkey", key, "-nodes",
       "-keyout", name + ".key", "-out", name + ".pem", "-days", "2",
       "-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
       "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


SERVER_EXT = ("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
              "basicConstraints=CA:FALSE\n"
              "keyUsage=critical,digitalSignature,keyEncipherment\n"
              "extendedKeyUsage=serverAuth\n")
INTERMEDIATE_EXT = ("basicConstraints=critical,CA:TRUE,pathlen:0\n"
                    "keyUsage=critical,keyCertSign,cRLSign\n")


def make_server(d, ca, name, keyalg, ext=SERVER_EXT, cn="localhost",
                md="-sha256"):
    extfile = os.path.join(d, name + ".ext")
    with open(extfile, "w") as f:
        f.write(ext)
    sh("openssl", "req", "-newkey", keyalg[0], *keyalg[1:], "-nodes",
       "-keyout", name + ".key", "-out", name + ".csr",
       "-subj", "/CN=" + cn, cwd=d)
    sh("openssl", "x509", "-req", "-in", name + ".csr", "-CA", ca + ".pem",
       "-CAkey", ca + ".key", "-CAcreateserial", "-out", name + ".pem",
       "-days", "2", md, "-extfile", extfile, cwd=d)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.fail("openssl missing: sh toolchains/deps.sh tls-test")
    d = str(tmp_path_factory.mktemp("pki"))
    make_ca(d, "ca")
    make_ca(d, "otherca")
    make_server(d, "ca", "rsa", ["rsa:2048"])
    make_server(d, "ca", "ec", ["ec", "-pkeyopt",
                                "ec_paramgen_curve:prime256v1"])
    # a longer chain: RSA-4096 root -> RSA-2048 intermediate -> P-384 leaf,
    # served as leaf + intermediate
    make_ca(d, "root4096", "rsa:4096")
    make_server(d, "root4096", "inter", ["rsa:2048"], INTERMEDIATE_EXT,
                "lure-test-intermediate")
    make_server(d, "inter", "p384", ["ec", "-pkeyopt",
                                     "ec_paramgen_curve:secp384r1"],
                md="-sha384")
    with open(os.path.join(d, "p384chain.pem"), "w") as f:
        for n in ("p384", "inter"):
            f.write(open(os.path.join(d, n + ".pem")).read())
    return d


@pytest.fixture(scope="module")
def nginx(pki, tmp_path_factory):
    """ports: rsa, ec, chain (TLS 1.2 + 1.3), tls13 (1.3 only), plain."""
    if not os.path.exists(NGINX):
        pytest.fail("nginx missing: sh toolchains/deps.sh tls-test")
    d = str(tmp_path_factory.mktemp("nginx"))
    www = os.path.join(d, "www")
    os.mkdir(www)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("hello from nginx over tls\n")
    big = bytes((i * 7 + i // 251) & 0xFF for i in range(BIG))
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(big)
    ports = {k: free_port() for k in ("rsa", "ec", "chain", "tls13", "plain")}

    def server(port, cert, protocols, chain=""):
        return f"""
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {pki}/{cert}{chain}.pem;
        ssl_certificate_key {pki}/{cert}.key;
        ssl_protocols {protocols};
        root {www};
        location /up/ {{
            dav_methods PUT;
            create_full_put_path on;
            client_max_body_size 4m;
        }}
    }}"""
    conf = f"""
daemon off;
master_process off;
pid {d}/nginx.pid;
error_log {d}/error.log info;
events {{ worker_connections 64; }}
http {{
    log_format tls '$server_port $ssl_protocol $ssl_cipher "$ssl_server_name" $status $request_length';
    access_log {d}/access.log tls;
    client_body_temp_path {d}/body;
    default_type application/octet-stream;
    {server(ports["rsa"], "rsa", "TLSv1.2 TLSv1.3")}
    {server(ports["ec"], "ec", "TLSv1.2 TLSv1.3")}
    {server(ports["chain"], "p384", "TLSv1.2 TLSv1.3", "chain")}
    {server(ports["tls13"], "rsa", "TLSv1.3")}
    server {{ listen 127.0.0.1:{ports["plain"]}; root {www}; }}
}}
"""
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen([NGINX, "-p", d, "-c", d + "/nginx.conf",
                             "-e", d + "/error.log"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        if not all(wait_port(p, proc) for p in ports.values()):
            proc.kill()
            err = proc.communicate()[1].decode(errors="replace")
            log = open(os.path.join(d, "error.log")).read()
            pytest.fail("nginx did not start: " + err + log[-2000:])
        yield {"ports": ports, "dir": d, "big": big, "pki": pki}
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def client(nginx, kind, name="localhost", ca="ca", path="/index.html",
           put=None, runs=1, binary=CLIENT):
    if not os.path.exists(binary):
        pytest.fail(binary + " missing: run `make test-tls`")
    cafile = ca if ca == "insecure" else os.path.join(nginx["pki"],
                                                       ca + ".pem")
    args = [binary, "-n", str(runs)]
    if put is not None:
        args += ["-u", str(put)]
    args += ["127.0.0.1", str(nginx["ports"][kind]), name, cafile, path]
    return subprocess.run(args, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=30)


def stats(r):
    """key=value pairs of the driver's last stderr line."""
    line = r.stderr.decode().strip().splitlines()[-1]
    return dict(kv.split("=", 1) for kv in line.split()[1:] if "=" in kv)


def http_body(out):
    head, _, body = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return body


def access_log(nginx):
    with open(os.path.join(nginx["dir"], "access.log")) as f:
        return f.read().splitlines()


@pytest.mark.parametrize("kind,alg", [("rsa", "RSA"), ("ec", "ECDSA")])
def test_good_ca_and_name(nginx, kind, alg):
    r = client(nginx, kind)
    assert r.returncode == 0, r.stderr.decode()
    assert http_body(r.stdout) == b"hello from nginx over tls\n"
    s = stats(r)
    assert s["version"] == "TLSv1.2"
    assert "ECDHE-" + alg + "-WITH-" in s["cipher"]
    assert 0 < int(s["heap_peak"]) < int(s["heap_size"])
    # the server saw TLS 1.2 and our SNI
    port = str(nginx["ports"][kind])
    seen = [l for l in access_log(nginx) if l.startswith(port + " ")]
    assert seen and seen[-1].split()[1] == "TLSv1.2"
    assert '"localhost"' in seen[-1]


def test_chain_rsa4096_root_p384_leaf(nginx):
    r = client(nginx, "chain", ca="root4096")
    assert r.returncode == 0, r.stderr.decode()
    assert http_body(r.stdout) == b"hello from nginx over tls\n"
    s = stats(r)
    assert s["version"] == "TLSv1.2"
    assert "ECDHE-ECDSA-WITH-" in s["cipher"]
    # the intermediate alone is not a trust anchor we were given
    r = client(nginx, "chain", ca="ca")
    assert r.returncode == 1
    assert "certificate verify failed" in r.stderr.decode()


def test_wrong_ca_is_refused(nginx):
    r = client(nginx, "rsa", ca="otherca")
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "certificate verify failed for localhost" in err
    assert "not correctly signed by the trusted CA" in err
    assert r.stdout == b""


def test_wrong_name_is_refused(nginx):
    r = client(nginx, "ec", name="wronghost")
    assert r.returncode == 1
    err = r.stderr.decode()
    assert "certificate verify failed for wronghost" in err
    assert "Common Name (CN) does not match" in err
    assert r.stdout == b""


def test_insecure_accepts_wrong_ca(nginx):
    r = client(nginx, "rsa", ca="insecure", name="wronghost")
    assert r.returncode == 0, r.stderr.decode()
    assert http_body(r.stdout) == b"hello from nginx over tls\n"


def test_ip_literal_checked_against_ip_san(nginx):
    r = client(nginx, "rsa", name="127.0.0.1")
    assert r.returncode == 0, r.stderr.decode()
    assert stats(r)["version"] == "TLSv1.2"
    port = str(nginx["ports"]["rsa"])
    seen = [l for l in access_log(nginx) if l.startswith(port + " ")]
    assert '"-"' in seen[-1]  # no SNI for an IP literal (RFC 6066)
    r = client(nginx, "rsa", name="127.0.0.2")
    assert r.returncode == 1
    assert "certificate verify failed for 127.0.0.2" in r.stderr.decode()


def test_tls13_only_server_is_refused_clearly(nginx):
    r = client(nginx, "tls13")
    assert r.returncode == 1
    assert "protocol_version" in r.stderr.decode()


def test_plain_http_server_is_refused(nginx):
    r = client(nginx, "plain")
    assert r.returncode == 1
    assert "handshake: the server does not speak TLS" in r.stderr.decode()


def test_missing_ca_file(nginx):
    r = client(nginx, "rsa", ca="nonexistent")
    assert r.returncode == 1
    assert "nonexistent.pem: No such file or directory" in r.stderr.decode()


def test_ca_file_der_and_garbage(nginx):
    d = nginx["pki"]
    sh("openssl", "x509", "-in", "ca.pem", "-outform", "DER", "-out",
       "ca_der.pem", cwd=d)  # client() appends .pem
    r = client(nginx, "rsa", ca="ca_der")
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(d, "garbage.pem"), "w") as f:
        f.write("not a certificate\n")
    r = client(nginx, "rsa", ca="garbage")
    assert r.returncode == 1
    assert "garbage.pem: X509 - The CRT/CRL/CSR format is invalid" in \
        r.stderr.decode()


def test_large_response_many_records(nginx):
    r = client(nginx, "ec", path="/big.bin")
    assert r.returncode == 0, r.stderr.decode()
    body = http_body(r.stdout)
    assert hashlib.sha256(body).digest() == \
        hashlib.sha256(nginx["big"]).digest()


def test_large_request_many_records(nginx):
    n = 1024 * 1024 + 123
    r = client(nginx, "rsa", path="/up/put.bin", put=n)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout.startswith(b"HTTP/1.1 201"), r.stdout[:200]
    with open(os.path.join(nginx["dir"], "www", "up", "put.bin"), "rb") as f:
        assert f.read() == b"x" * n  # every byte arrived, in order


def test_heap_no_growth_across_sessions(nginx):
    r = client(nginx, "ec", runs=4)
    assert r.returncode == 0, r.stderr.decode()
    s = stats(r)
    # the CA key keeps a cached Montgomery constant after its first use
    assert int(s["heap_ca"]) <= int(s["heap_after_first"])
    assert s["heap_after_last"] == s["heap_after_first"]
    assert r.stdout.count(b"hello from nginx over tls") == 4


def test_server_closing_during_handshake():
    with socket.socket() as srv:
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        port = srv.getsockname()[1]
        p = subprocess.Popen([CLIENT, "127.0.0.1", str(port), "localhost",
                              "insecure", "/"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        conn, _ = srv.accept()
        conn.recv(4096)  # the ClientHello
        conn.close()
        out, err = p.communicate(timeout=20)
    # a ClientHello that fits one send() is read whole, then the peer is
    # gone; with tiny engine buffers (-DLURE_TLS_NET_BUF=7) the socket
    # reports the reset first
    assert (p.returncode == 1 and
            b"handshake: the server closed the connection" in err) or \
        (p.returncode == 2 and b"tls_client: send: " in err), err


def test_tls_none_build_refuses(nginx):
    if not os.path.exists(CLIENT_NONE):
        pytest.skip(CLIENT_NONE + " not built")
    r = client(nginx, "rsa", binary=CLIENT_NONE)
    assert r.returncode == 1
    assert "TLS support is not compiled in" in r.stderr.decode()
