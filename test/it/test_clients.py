"""Real clients against the emulators: curl against http, the telnet client
(driven by pexpect) and raw sockets against telnet. Skipped only when the
binary has no http / telnet emulator (lure -V)."""
import os
import re
import shutil
import socket
import subprocess
import time

import pytest

from conftest import get, info, recv_to_eof, recv_until, tcp

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240


def need(emulator):
    if emulator not in info().emulators or not info().first(emulator):
        pytest.skip(f"no {emulator} emulator in this build (lure -V lists "
                    f"emulators {' '.join(info().emulators)}; emu/{emulator}.c absent)")
    return info().first(emulator)


# --- http (curl) ----------------------------------------------------------------

@pytest.fixture(scope="module")
def http_sensor(tmp_path_factory):
    """One sensor for the curl tests (each test tells its requests apart by
    the client's source port or a unique path)."""
    pp = need("http")
    if not shutil.which("curl"):
        pytest.fail("curl is not installed (sh tools/deps.sh test)")
    from conftest import Sensor
    s = Sensor(tmp_path_factory.mktemp("http"), "http")
    s.start({"limits": {"idle_timeout": 5}})
    s.http = s.port(pp)
    yield s
    s.close()


def curl(s, *args, path="/", host="127.0.0.1", port=None):
    """Run curl; returns (http_code, stdout bytes, local port used)."""
    port = port or s.http
    hostpart = f"[{host}]" if ":" in host else host
    url = path if "://" in path else f"http://{hostpart}:{port}{path}"
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-o", "-", "-w",
                        "\n%{http_code} %{local_port} %{num_connects}", *args, url],
                       capture_output=True, timeout=10)
    assert r.returncode == 0, f"curl {args} {url}: rc={r.returncode} {r.stderr!r}"
    body, _, tail = r.stdout.rpartition(b"\n")
    code, lport, nconn = (int(x) for x in tail.split())
    return code, body, lport


def request_events(s, lport, n=1, timeout=5):
    return s.wait_count(n, "request", timeout, source__port=lport)


def check_http(e, s, method, url, code):
    assert get(e, "event.dataset") == "lure.http"
    assert get(e, "network.protocol") == "http"
    assert get(e, "http.request.method") == method
    assert get(e, "url.original") == url
    assert get(e, "http.response.status_code") == code
    assert get(e, "destination.port") == s.http
    assert get(e, "source.ip") == "127.0.0.1"


def curl_version():
    out = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    return out.split()[1]


def test_curl_get(http_sensor):
    s = http_sensor
    code, body, lport = curl(s, path="/")
    assert 100 <= code < 600
    (e,) = request_events(s, lport)
    check_http(e, s, "GET", "/", code)
    assert get(e, "user_agent.original") == f"curl/{curl_version()}"
    assert code == 200 and body, "GET / on an nginx persona serves the index page"


def test_curl_head(http_sensor):
    s = http_sensor
    code, body, lport = curl(s, "-I", path="/head-check")
    (e,) = request_events(s, lport)
    check_http(e, s, "HEAD", "/head-check", code)
    assert body.startswith(b"HTTP/1.1 ") and b"\r\n\r\n" in body  # headers only


def test_curl_post_form(http_sensor):
    s = http_sensor
    code, _, lport = curl(s, "-d", "user=admin&pass=x%26y", path="/login.cgi")
    (e,) = request_events(s, lport)
    check_http(e, s, "POST", "/login.cgi", code)
    assert get(e, "http.request.body.content") == "user=admin&pass=x%26y"


def test_curl_post_chunked(http_sensor):
    s = http_sensor
    code, _, lport = curl(s, "-H", "Transfer-Encoding: chunked", "-d", "hello=chunked-world",
                          path="/upload")
    (e,) = request_events(s, lport)
    check_http(e, s, "POST", "/upload", code)
    # the body as the application would see it: chunk framing removed
    assert get(e, "http.request.body.content") == "hello=chunked-world"


def test_curl_http10(http_sensor):
    s = http_sensor
    code, _, lport = curl(s, "--http1.0", path="/old")
    (e,) = request_events(s, lport)
    check_http(e, s, "GET", "/old", code)
    if get(e, "http.version") is not None:
        assert get(e, "http.version") == "1.0"
    # HTTP/1.0 without keep-alive: the server closes after the response
    close = s.wait_event("connection.close", source__port=lport)
    assert get(close, "event.duration") < 2e9


def test_curl_basic_auth(http_sensor):
    s = http_sensor
    code, _, lport = curl(s, "-u", "admin:s3cr3t:with:colons", path="/admin/")
    login = s.wait_event("login", source__port=lport)
    assert get(login, "user.name") == "admin"
    assert get(login, "lure.auth.password") == "s3cr3t:with:colons"
    assert get(login, "event.category") == ["authentication"]
    (e,) = request_events(s, lport)
    check_http(e, s, "GET", "/admin/", code)


def test_curl_user_agent(http_sensor):
    s = http_sensor
    ua = "Mozilla/5.0 (lure-it; \u2713) Zgrab/0.x \"quoted\" \\back"
    code, _, lport = curl(s, "-A", ua, path="/ua")
    (e,) = request_events(s, lport)
    check_http(e, s, "GET", "/ua", code)
    assert get(e, "user_agent.original") == ua


def wire_request_line(*args, path):
    """What curl puts on the wire for this path: run it once against a
    socket of ours and return the request line (bytes)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]
    p = subprocess.Popen(["curl", "-s", "--max-time", "3", "-o", "/dev/null", *args,
                          f"http://127.0.0.1:{port}{path}"])
    srv.settimeout(3)
    c, _ = srv.accept()
    head = recv_until(c, b"\r\n\r\n", 3)
    c.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
    c.close()
    srv.close()
    p.wait(timeout=5)
    return head.split(b"\r\n")[0]


def test_curl_escaped_and_non_ascii_path(http_sensor):
    s = http_sensor
    path = "/a%20b/%C3%A9t%C3%A9/\u00fcber/\u4e2d?q=%E2%9C%93&x=\u00e9&y=%00"
    line = wire_request_line("--path-as-is", path=path)
    target = line.split(b" ")[1]
    code, _, lport = curl(s, "--path-as-is", path=path)
    (e,) = request_events(s, lport)
    check_http(e, s, "GET", target.decode("utf-8"), code)
    assert code == 404
    assert get(e, "url.path") in ("/a%20b/%C3%A9t%C3%A9/\u00fcber/\u4e2d",
                                  target.split(b"?")[0].decode())


@pytest.mark.parametrize("target", [b"/a?q=1&r=2", b"/%41?q=1&r=2", b"/a%20b/c?q=%E2%9C%93"],
                         ids=["plain", "escaped_path", "escaped_both"])
def test_url_query(http_sensor, target):
    """url.query is the part after '?', whether or not the path holds
    %-escapes (nginx's "complex URI" case)."""
    s = http_sensor
    c = tcp(s.http)
    lport = c.getsockname()[1]
    c.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    recv_to_eof(c, 5)
    c.close()
    (e,) = request_events(s, lport)
    assert get(e, "url.original") == target.decode()
    assert get(e, "url.query") == target.split(b"?", 1)[1].decode()
    assert get(e, "url.path") == target.split(b"?", 1)[0].decode()


@pytest.mark.parametrize("target,want", [
    (b"/x\xff\xfe\xc3(/%ff", "/x\\xff\\xfe\\xc3(/%ff"),         # 404: bytes escaped
    (b"/x\xff\xc3(/%ff\x01", "/x\\xff\\xc3(/%ff"),              # 400: a control byte
    (b"/cgi-bin/;wget${IFS}http://x/\x7f", "/cgi-bin/;wget${IFS}http://x/"),
], ids=["invalid_utf8", "control_byte", "del_byte"])
def test_raw_request_line_logged(http_sensor, target, want):
    """Whatever nginx answers, the request event carries the (escaped)
    target, the status it answered, and nothing else of the buffer."""
    s = http_sensor
    c = tcp(s.http)
    lport = c.getsockname()[1]
    c.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: a\r\nUser-Agent: u\xffa\r\n"
              b"Connection: close\r\n\r\n")
    resp, closed = recv_to_eof(c, 5)
    c.close()
    m = re.match(rb"HTTP/1.1 (\d\d\d) ", resp)
    assert m, resp[:100]
    (e,) = request_events(s, lport)
    assert get(e, "http.response.status_code") == int(m.group(1))
    assert get(e, "http.request.method") == "GET"
    url = get(e, "url.original")
    assert url is not None and url.startswith(want), url
    assert get(e, "lure.truncated") is None, "a 100-byte request cannot be truncated"
    line = [l for l in s.raw().split(b"\n") if b'"port":%d' % lport in l and b'"request"' in l]
    assert len(line) == 1 and len(line[0]) < 3000


def test_curl_keep_alive(http_sensor):
    s = http_sensor
    r = subprocess.run(["curl", "-sS", "--max-time", "5", "-o", "/dev/null", "-o", "/dev/null",
                        "-w", "%{local_port} %{num_connects}\n",
                        f"http://127.0.0.1:{s.http}/ka-one", f"http://127.0.0.1:{s.http}/ka-two"],
                       capture_output=True, text=True, timeout=10)
    assert r.returncode == 0, r.stderr
    (p1, n1), (p2, n2) = [tuple(map(int, l.split())) for l in r.stdout.splitlines()]
    assert p1 == p2 and n1 == 1 and n2 == 0, "curl did not reuse the connection"
    reqs = request_events(s, p1, 2)
    assert [get(e, "url.original") for e in reqs] == ["/ka-one", "/ka-two"]
    assert get(reqs[0], "lure.session") == get(reqs[1], "lure.session")
    assert len(s.find("connection.open", source__port=p1)) == 1


def test_curl_ipv6_and_many_shapes_stay_valid(http_sensor):
    s = http_sensor
    code, _, lport = curl(s, host="::1", port=s.port(info().first("http"), addr="::1"), path="/v6")
    e = s.wait_event("request", source__port=lport, source__ip="::1")
    assert get(e, "url.original") == "/v6"
    for args in (["-X", "OPTIONS"], ["-X", "PUT", "-d", "x"], ["-X", "DELETE"],
                 ["-X", "BREW"], ["-H", "Host: \u00e9vil"], ["-H", "X: " + "A" * 8000],
                 ["--compressed"], ["-H", "Expect: 100-continue", "-d", "e" * 2000]):
        code, _, lport = curl(s, *args, path="/shape")
        assert 100 <= code < 600
        request_events(s, lport)
    assert s.alive()
    s.events()  # every line strict JSON


# --- telnet -------------------------------------------------------------------------

@pytest.fixture
def telnet_sensor(lure):
    pp = need("telnet")
    s = lure({"limits": {"idle_timeout": 10}})
    s.telnet = s.port(pp)
    return s


def test_telnet_client_login(telnet_sensor):
    pexpect = pytest.importorskip("pexpect")
    s = telnet_sensor
    tb = shutil.which("telnet") or "/usr/bin/telnet"
    if not os.path.exists(tb):
        pytest.fail("the telnet client is not installed (sh tools/deps.sh test)")
    child = pexpect.spawn(tb, ["-8", "127.0.0.1", str(s.telnet)], timeout=5,
                          env={"TERM": "vt100", "PATH": "/usr/bin:/bin"})
    try:
        child.expect("login: ")
        child.send(b"root\r")
        child.expect("Password: ")
        child.send("hunter2-\u00e4\r".encode())
        e = s.wait_event("login", timeout=5)
        assert get(e, "user.name") == "root"
        assert get(e, "lure.auth.password") == "hunter2-\u00e4"
        assert get(e, "event.outcome") == "failure"
        assert get(e, "event.dataset") == "lure.telnet"
        assert get(e, "destination.port") == s.telnet
        # the telnet client negotiated (NAWS at least); the first login says so
        assert isinstance(get(e, "lure.telnet.options"), list)
        child.expect("Login incorrect", timeout=6)
        child.expect("login: ")
    finally:
        child.close(force=True)
    s.wait_event("connection.close", timeout=5)


def test_telnet_shell_sleep_holds_output_and_input(telnet_sensor):
    """After a login that works, `sleep 1` holds the prompt, and a line
    typed meanwhile runs after it (a timer: other sessions go on)."""
    s = telnet_sensor
    accept = re.search(r'^telnet\.accept\s+"([^"]*)"', info().persona_conf().read_text(), re.M)
    if not accept:
        pytest.skip("the persona's telnet lets no login in")
    user, pw = accept.group(1).split(":", 1)
    c = tcp(s.telnet)
    telnet_skip_negotiation(c)
    c.sendall(user.encode() + b"\r\n")
    recv_until(c, b"Password: ")
    c.sendall(pw.encode() + b"\r\n")
    recv_until(c, b"# ")
    t = time.monotonic()
    c.sendall(b"sleep 1\r\necho after\r\n")
    got = recv_until(c, b"after\r\n", timeout=5)
    took = time.monotonic() - t
    assert 0.95 <= took < 3, (took, got)
    assert got.index(b"sleep 1\r\n") < got.index(b"# ") < got.index(b"echo after"), got
    c.close()


def telnet_skip_negotiation(c, want=b"login: ", timeout=5):
    return recv_until(c, want, timeout)


def test_telnet_raw_iac_and_invalid_utf8(telnet_sensor):
    s = telnet_sensor
    c = tcp(s.telnet)
    lport = c.getsockname()[1]
    # offer NAWS and send a window size, plus some option noise
    c.sendall(bytes([IAC, WILL, 31, IAC, SB, 31, 0, 132, 0, 43, IAC, SE,
                     IAC, DO, 1, IAC, WONT, 24]))
    got = telnet_skip_negotiation(c)
    assert got.endswith(b"login: "), got
    c.sendall(b"admin\r\n")
    assert recv_until(c, b"Password: ").endswith(b"Password: ")
    # password bytes: p 0xff (IAC IAC) w 0xc3 0x28 (invalid UTF-8) d 0x80 NUL-free
    c.sendall(b"p\xff\xffw\xc3(d\x80\x01\r\n")
    e = s.wait_event("login", source__port=lport)
    assert get(e, "user.name") == "admin"
    assert get(e, "lure.auth.password") == "p\\xffw\\xc3(d\\x80\x01"
    assert get(e, "event.outcome") == "failure"
    assert get(e, "lure.telnet.naws") == "132x43"
    c.close()
    close = s.wait_event("connection.close", source__port=lport)
    assert get(close, "source.bytes") > 0
    raw = s.raw()
    assert b"\\\\xff" in raw  # the JSON text carries the escape, not the byte
    s.events()


def test_telnet_bytes_that_are_not_utf8_anywhere(telnet_sensor):
    """A client that sends only junk: every event still parses and the
    connection ends with a close event."""
    s = telnet_sensor
    c = tcp(s.telnet)
    lport = c.getsockname()[1]
    telnet_skip_negotiation(c)
    c.sendall(bytes(range(256)) * 4 + b"\r\n")
    time.sleep(0.3)
    c.close()
    s.wait_event("connection.close", source__port=lport)
    for e in s.events():
        if get(e, "source.port") == lport:
            for k in ("lure.payload", "user.name", "lure.auth.password"):
                v = get(e, k)
                assert v is None or isinstance(v, str)
