"""The differential probe of test_diff_ssh.py: one raw input sent to two SSH
servers at once, and what each answered reduced to what must be the same.

A probe is a list of steps: bytes (sent, then 0.2 s pause), "SHUT" (the
client half-closes: shutdown(SHUT_WR)), or a float (sleep that long). The
client first reads the server's identification line (as scanners do), then
plays the steps, then reads for `wait` seconds or until the server closes.

What is compared (Observation):
- text: the bytes answered, as a list of items: lines before the packets
  (identification, or sshd's error text), then each unencrypted packet as
  its payload with these per-instance fields masked:
    * padding (and so packet_length): zeros in sshd, random bytes and a
      random length in dropbear; the padding rule has its own tests;
    * KEXINIT (20): the 16-byte cookie, random per connection;
    * the key exchange reply (31, 33): host key, ephemeral key, signature,
      per instance and per connection: only the message type is kept;
    * everything after the server's NEWKEYS (21): encrypted with per
      connection keys: one "ENC" item;
- end: how the server ended: "eof" (recv() returned 0: a FIN), "reset"
  (ECONNRESET: an RST, e.g. a close with unread input) or "open";
- timing classes of the first answer after the last step and of the end:
  "now" (under 0.25 s), "later", or None (no answer / did not end);
- segments: the payload sizes of the server's TCP segments, seen on the
  loopback interface by a packet socket (root only; None otherwise): where
  a daemon writes twice (sshd's error text, then CR LF) a capture shows two
  segments. Segment sizes carry dropbear's random padding: compared as
  counts, and as sizes only where no packet follows the banner.
"""
import ctypes
import os
import socket
import struct
import threading
import time
from dataclasses import dataclass, field

NOW = 0.25  # s: an answer within this after the last step is immediate


@dataclass
class Observation:
    text: list = field(default_factory=list)
    end: str = "open"
    first: object = None  # timing class of the first byte after the steps
    closed: object = None  # timing class of the end
    raw: bytes = b""
    segments: object = None  # payload sizes of the server's segments

    def key(self):
        return (self.text, self.end, self.first, self.closed)

    def summary(self, n=160):
        t = [(i[0], i[1][:n]) if len(i) > 1 else i for i in self.text]
        return (f"{t} {self.end} first={self.first} end={self.closed}"
                f" segments={self.segments}")


def tclass(dt):
    if dt is None:
        return None
    return "now" if dt < NOW else "later"


def _mask_packets(data):
    """Items of data after the identification line (see the module doc)."""
    items, o = [], 0
    while o < len(data):
        if o + 5 > len(data):
            items.append(("tail", data[o:]))
            break
        length, pad = struct.unpack(">IB", data[o:o + 5])
        if length < 5 or length > 35000 or o + 4 + length > len(data) \
                or pad >= length:
            # not a packet: text (sshd's messages) or a truncated packet
            items.append(("raw", data[o:]))
            break
        payload = data[o + 5:o + 4 + length - pad]
        o += 4 + length
        t = payload[:1]
        if t == b"\x14" and len(payload) >= 17:
            payload = payload[:1] + b"\0" * 16 + payload[17:]
        elif t in (b"\x1f", b"\x21"):
            payload = t
        items.append(("pkt", payload))
        if t == b"\x15":
            if o < len(data):
                items.append(("ENC",))
            break
    return items


def normalise(data):
    items = []
    # the identification line and anything sent before packets as lines
    while True:
        i = data.find(b"\n")
        if i < 0 or not (data.startswith(b"SSH-") or items == []):
            break
        line, data = data[:i + 1], data[i + 1:]
        items.append(("line", line))
        if line.startswith(b"SSH-"):
            break
    return items + _mask_packets(data)


def _sniffer(sport, dport):
    """A packet socket on lo that keeps the first 256 bytes of the IPv4 TCP
    frames sport -> dport (a classic BPF filter), or None (not root)."""
    if os.geteuid() != 0:
        return None
    try:
        ps = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                           socket.htons(0x0800))
        insns = [(0x28, 0, 0, 12), (0x15, 0, 8, 0x0800),  # IPv4
                 (0x30, 0, 0, 23), (0x15, 0, 6, 6),  # TCP
                 (0xb1, 0, 0, 14),  # x = IP header length
                 (0x48, 0, 0, 14), (0x15, 0, 3, sport),
                 (0x48, 0, 0, 16), (0x15, 0, 1, dport),
                 (0x06, 0, 0, 256), (0x06, 0, 0, 0)]
        prog = ctypes.create_string_buffer(
            b"".join(struct.pack("HBBI", *i) for i in insns))
        ps.setsockopt(socket.SOL_SOCKET, 26,  # SO_ATTACH_FILTER
                      struct.pack("HL", len(insns), ctypes.addressof(prog)))
        ps.bind(("lo", 0))
    except OSError:
        return None
    ps.setblocking(False)
    return ps


def _segments(ps, sport, dport):
    """Payload sizes of the TCP segments sport -> dport read from ps."""
    sizes, seen = [], set()
    while True:
        try:
            frame, addr = ps.recvfrom(262144)
        except BlockingIOError:
            break
        if addr[2] == socket.PACKET_OUTGOING:
            continue  # lo shows each packet twice
        ip = frame[14:]
        if len(ip) < 20 or ip[9] != 6:
            continue
        ihl = (ip[0] & 15) * 4
        total = struct.unpack(">H", ip[2:4])[0]
        tcp = ip[ihl:]
        sp, dp = struct.unpack(">HH", tcp[:4])
        if (sp, dp) != (sport, dport):
            continue
        n = total - ihl - (tcp[12] >> 4) * 4  # the frame is cut, not this
        seq = tcp[4:8]
        if n > 0 and seq not in seen:  # a retransmission is no new write
            seen.add(seq)
            sizes.append(n)
    ps.close()
    return sizes


def probe(port, steps, wait=1.0, read_banner=True):
    """Play steps against 127.0.0.1:port: an Observation."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    cport = s.getsockname()[1]
    ps = _sniffer(port, cport)
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    buf = b""
    if read_banner:
        while b"\n" not in buf:
            d = s.recv(4096)
            if not d:
                break
            buf += d
    t_last = time.monotonic()
    end = "open"
    for st in steps:
        try:
            if st == "SHUT":
                s.shutdown(socket.SHUT_WR)
            elif isinstance(st, float):
                time.sleep(st)
            else:
                s.sendall(st)
                time.sleep(0.2)
        except OSError:
            end = "reset"
            break
        t_last = time.monotonic()
    t_first = t_end = None
    deadline = time.monotonic() + wait
    while end == "open" and time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            end, t_end = "reset", time.monotonic()
            break
        if not d:
            end, t_end = "eof", time.monotonic()
            break
        if t_first is None:
            t_first = time.monotonic() - t_last
        buf += d
    s.close()
    ob = Observation(text=normalise(buf), end=end, raw=buf)
    if ps is not None:
        time.sleep(0.01)
        ob.segments = _segments(ps, port, cport)
    ob.first = tclass(t_first)
    ob.closed = tclass(None if t_end is None else t_end - t_last)
    return ob


def side_by_side(port_a, port_b, steps, wait=1.0, read_banner=True):
    """The same probe against two ports at once: (obs_a, obs_b)."""
    out = [None, None]
    err = []

    def run(i, port):
        try:
            out[i] = probe(port, steps, wait, read_banner)
        except Exception as e:  # noqa: BLE001 (re-raised below)
            err.append(e)

    th = [threading.Thread(target=run, args=(i, p))
          for i, p in enumerate((port_a, port_b))]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if err:
        raise err[0]
    return out[0], out[1]
