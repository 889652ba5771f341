"""MySQL client packets for the suites and benchmarks that speak the
protocol raw (test_diff_mysql.py, test/bench/logins.py): a packet, the
mysql_native_password scramble, a HandshakeResponse41."""
import hashlib
import struct


def pkt(seq, body):
    return struct.pack("<I", len(body))[:3] + bytes([seq]) + body


def native(pw, salt):
    if not pw:
        return b""
    h1 = hashlib.sha1(pw).digest()
    h3 = hashlib.sha1(salt + hashlib.sha1(h1).digest()).digest()
    return bytes(a ^ b for a, b in zip(h1, h3))


def hresp(user, auth, db=None, plugin=b"mysql_native_password", attrs=None):
    caps = 0x00a8a205 | (8 if db else 0) | (0x100000 if attrs else 0)
    body = struct.pack("<IIB23x", caps, 16777216, 45) + user + b"\0"
    body += bytes([len(auth)]) + auth
    if db:
        body += db + b"\0"
    body += plugin + b"\0"
    if attrs:
        a = b"".join(bytes([len(k)]) + k + bytes([len(v)]) + v for k, v in attrs)
        body += bytes([len(a)]) + a
    return body
