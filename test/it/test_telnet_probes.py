"""Differential probes (issue 14): what scanners, Mirai/Gafgyt-style bots and
honeypot detectors send to a telnet port, sent at the same time to lure and
to the real BusyBox telnetd + login (started as test_telnet_busybox.py does:
its own UTS namespace, the persona's hostname, SIGINT/SIGQUIT at their
defaults as init leaves them), on 127.0.0.1 only.

Per probe, compared: the bytes sent back, their segmentation (the payload of
every TCP segment the server sent, seen on the loopback interface with an
AF_PACKET socket, so one write() is one segment), how the server closed (FIN,
RST, or still open when the client left) and timing classes (when each
answer came after the input that caused it, when the close came: "now"
under 0.5 s, "delay" up to 2.5 s, "fail" about login's 3 s, "late" beyond).

Every probe is a failed login (no user name here exists on this machine:
test_telnet_busybox.test_users_absent). Differences that cannot be fixed are
xfail with the reason; the score (identical / probes) prints at the end."""
import ctypes
import socket
import struct
import threading
import time

import pytest

from conftest import info, recv_into, Sensor
from test_telnet_busybox import (BB_NEGOTIATE, IAC, DONT, DO, WONT, WILL, SB, SE,
                                 AYT, NOP, NAWS, TTYPE, ECHO, SGA, USERS,
                                 need_busybox_persona, real)  # noqa: F401

NEW_ENVIRON, LINEMODE, TSPEED, XDISPLOC, STATUS, BINARY, LFLOW = 39, 34, 32, 35, 5, 0, 33
IS, SEND, VAR, VALUE, USERVAR = 0, 1, 0, 1, 3
FAIL = 3.6


def sb(opt, *payload):
    return bytes([IAC, SB, opt]) + b"".join(
        p if isinstance(p, bytes) else bytes([p]) for p in payload) + bytes([IAC, SE])


def iac(*b):
    out = b""
    for cmd, opt in zip(b[::2], b[1::2]):
        out += bytes([IAC, cmd, opt])
    return out


# The client side of a Mirai-style scanner (its telnet negotiation answers
# every DO with WONT and every WILL with DO, then types user, password)
MIRAI_NEG = iac(WONT, ECHO, WONT, NAWS, DO, ECHO, DO, SGA)
# a Linux telnet client's first flight
CLIENT_NEG = (iac(DO, SGA, WILL, TTYPE, WILL, NAWS, WILL, TSPEED, WILL, LFLOW,
                  WILL, LINEMODE, WILL, NEW_ENVIRON, DO, STATUS, WILL, XDISPLOC))

# name -> [(bytes to send, seconds to wait after)], plus optional "linger0":
# the client closes with a reset
PROBES = {
    # option negotiation
    "greeting": [],
    "idle_3s": [(b"", 3.0), (b"admin\r\n", 0.3), (b"x\r\n", FAIL)],
    "client_first_flight": [(CLIENT_NEG, 0.4), (b"admin\r\n", 0.3), (b"pw\r\n", FAIL)],
    "mirai_neg_login": [(MIRAI_NEG, 0.3), (b"admin\r\n", 0.3), (b"admin\r\n", FAIL)],
    "will_all_options": [(b"".join(iac(WILL, o) for o in range(0, 40)), 0.4),
                         (b"user\r\n", 0.3), (b"user\r\n", FAIL)],
    "do_all_options": [(b"".join(iac(DO, o) for o in range(0, 40)), 0.4),
                       (b"guest\r\n", 0.5)],
    "dont_wont_echo": [(iac(DONT, ECHO, WONT, SGA, DONT, SGA), 0.3), (b"admin\r\n", 0.3),
                       (b"pw\r\n", FAIL)],
    "sb_ttype_is": [(iac(WILL, TTYPE) + sb(TTYPE, IS, b"xterm-256color"), 0.4),
                    (b"admin\r\n", 0.3), (b"x\r\n", FAIL)],
    "sb_ttype_alone": [(sb(TTYPE, IS, b"VT100"), 0.5)],
    "sb_naws": [(sb(NAWS, 0, 200, 0, 60), 0.3), (b"support\r\n", 0.3), (b"x\r\n", FAIL)],
    "sb_naws_iac_in_size": [(sb(NAWS, 0, IAC, IAC, 0, 24), 0.3), (b"ubnt\r\n", 0.5)],
    "sb_new_environ_user": [(sb(NEW_ENVIRON, IS, VAR, b"USER", VALUE, b"-froot"), 0.4),
                            (b"admin\r\n", 0.3), (b"x\r\n", FAIL)],
    "sb_new_environ_userenv": [(sb(NEW_ENVIRON, IS, USERVAR, b"LD_PRELOAD", VALUE,
                                   b"/tmp/x.so"), 0.4), (b"\r\n", 0.5)],
    "sb_tspeed_xdisploc": [(sb(TSPEED, IS, b"38400,38400") + sb(XDISPLOC, IS, b"h:0"),
                            0.4), (b"user\r\n", 0.5)],
    "sb_unterminated": [(bytes([IAC, SB, TTYPE, IS]) + b"vt100", 0.4),
                        (b"admin\r\n", 0.5)],
    "iac_at_end": [(b"adm" + bytes([IAC]), 0.3), (b"in\r\n", 0.3), (b"x\r\n", FAIL)],
    "iac_will_at_end": [(b"gu" + bytes([IAC, WILL]), 0.3), (b"\x01est\r\n", 0.5)],
    "iac_unknown_cmds": [(bytes([IAC, 0x10, 0x41, IAC, 239, IAC, 242, IAC, 243, IAC, 244,
                                 IAC, 245, IAC, 247, IAC, 248, IAC, 249]) + b"user\r\n",
                          0.3), (b"x\r\n", FAIL)],
    "iac_ayt_twice": [(bytes([IAC, AYT, IAC, AYT]), 0.4)],
    "iac_ayt_after_data": [(b"ab" + bytes([IAC, AYT, IAC, AYT]) + b"c" + bytes([IAC, AYT]),
                            0.4)],
    "iac_ip_brk": [(b"gu" + bytes([IAC, 244, IAC, 243]) + b"est\r\n", 0.3), (b"x\r\n", FAIL)],
    "split_iac_will": [(b"ad" + bytes([IAC]), 0.5), (bytes([WILL]), 0.5),
                       (b"\x18min\r\n", 0.3), (b"pw\r\n", FAIL)],
    "split_sb_naws": [(b"gu" + bytes([IAC]), 0.5), (bytes([SB, NAWS, 0, 0x84]), 0.5),
                      (bytes([0, 0x2b, IAC, SE]) + b"est\r\n", 0.3), (b"pw\r\n", FAIL)],
    "sb_linemode_mode": [(sb(LINEMODE, 1, 3), 0.5)],
    "iac_nop_flood": [(bytes([IAC, NOP]) * 200, 0.4), (b"guest\r\n", 0.5)],
    # control characters at the prompts
    "ctrl_c_user": [(b"\x03", 0.5)],
    "ctrl_c_typed_user": [(b"guest", 0.3), (b"\x03", 0.5)],
    "ctrl_c_then_more": [(b"ab\x03cd\x1c\tef\r\n", 0.5)],
    "ctrl_c_password": [(b"admin\r\n", 0.3), (b"\x03", FAIL)],
    "ctrl_d_password": [(b"admin\r\n", 0.3), (b"\x04", FAIL)],
    "ctrl_d_user": [(b"\x04", 0.5)],
    "ctrl_z_user": [(b"\x1a", 0.3), (b"admin\r\n", 0.3), (b"x\r\n", FAIL)],
    "ctrl_backslash_user": [(b"\x1c", 0.5)],
    "ctrl_backslash_password": [(b"guest\r\n", 0.3), (b"\x1c", 0.5)],
    # line ends
    "cr_nul": [(b"admin\r\x00", 0.3), (b"pw\r\x00", FAIL)],
    "cr_lf": [(b"admin\r\n", 0.3), (b"pw\r\n", FAIL)],
    "lf_only": [(b"admin\n", 0.3), (b"pw\n", FAIL)],
    "cr_only": [(b"admin\r", 0.3), (b"pw\r", FAIL)],
    # length and garbage
    "long_line_500": [(b"A" * 500 + b"\r\n", 0.5)],
    "user_61": [(b"u" * 61 + b"\r\n", 0.3), (b"x\r\n", FAIL)],
    "binary_garbage": [(bytes((i * 37 + 11) % 256 for i in range(64)) + b"\r\n", 0.5)],
    "http_get": [(b"GET / HTTP/1.1\r\n", 0.3), (b"\r\n", FAIL)],
    "mirai_busybox_probe": [(b"admin\r\n", 0.3), (b"admin\r\n", FAIL),
                            (b"enable\r\n", 0.3), (b"system\r\n", FAIL)],
    "tls_client_hello": [(bytes.fromhex("16030100a5010000a10303") + bytes(32) + b"\x00\r\n",
                          0.5)],
    # the client leaves
    "early_close": [("close", 0.5)],
    "early_reset": [("reset", 0.5)],
    "close_at_password": [(b"admin\r\n", 0.3), ("close", 0.5)],
}


# --- the loopback sniffer -----------------------------------------------------

class Sniffer:
    """Every TCP segment on lo from the given server ports: (time, sport,
    dport, flags, payload), time the kernel's receive stamp (time.time()
    clock). A BPF filter keeps other tests' traffic out of the socket."""

    def __init__(self, ports):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.setsockopt(socket.SOL_SOCKET, 33, 1 << 24)  # SO_RCVBUFFORCE (root)
        self.s.setsockopt(socket.SOL_SOCKET, 35, 1)  # SO_TIMESTAMPNS
        p1, p2 = ports
        prog = [(0x28, 0, 0, 12), (0x15, 0, 6, 0x0800),  # IPv4
                (0x30, 0, 0, 23), (0x15, 0, 4, 6),  # TCP
                (0xb1, 0, 0, 14), (0x48, 0, 0, 14),  # source port
                (0x15, 2, 0, p1), (0x15, 1, 0, p2),
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
                d, anc, _fl, addr = self.s.recvmsg(70000, 64)
            except socket.timeout:
                continue
            if addr[2] == socket.PACKET_OUTGOING or len(d) < 34:
                continue
            t = time.time()
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == 35 and len(data) >= 16:
                    sec, nsec = struct.unpack("qq", data[:16])
                    t = sec + nsec / 1e9
            ip = d[14:]
            if ip[0] >> 4 != 4 or ip[9] != 6:
                continue
            ihl = (ip[0] & 15) * 4
            tot = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:tot]
            sport, dport = struct.unpack("!HH", tcp[:4])
            off = (tcp[12] >> 4) * 4
            self.pkts.append((t, sport, dport, tcp[13], bytes(tcp[off:])))

    def stop(self):
        self.run = False
        self.t.join(2)
        self.s.close()

    def flow(self, sport, dport):
        return [p for p in self.pkts if p[1] == sport and p[2] == dport]


FIN, RST = 0x01, 0x04


def tclass(dt):
    """The timing class of an answer dt seconds after its input (wide: the
    machine may be loaded; login's failure delay is 3 s)."""
    return "now" if dt < 1.5 else "delay" if dt < 2.5 else "fail" if dt < 4.5 else "late"


def drive(port, script, out, key):
    """Play the script; out[key] = (client port, [(send time, data)])."""
    c = socket.create_connection(("127.0.0.1", port), timeout=5)
    lport = c.getsockname()[1]
    sends = [(time.time(), b"")]  # the sniffer's clock
    got = bytearray()

    try:
        alive = recv_into(c, got, time.monotonic() + 0.5)
        until = time.monotonic() + 5  # a loaded machine: wait for the prompt
        while alive and not got.endswith(b"login: ") and time.monotonic() < until:
            alive = recv_into(c, got, time.monotonic() + 0.1)
        for data, wait in script:
            if not alive:
                break
            if data == "close":
                c.close()
                alive = False
                break
            if data == "reset":
                c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                c.close()
                alive = False
                break
            if data:
                sends.append((time.time(), data))  # before: answers come after
                try:
                    c.sendall(data)
                except OSError:
                    break
            alive = recv_into(c, got, time.monotonic() + wait)
        if alive:
            recv_into(c, got, time.monotonic() + 0.8)  # what comes last
    finally:
        time.sleep(0.3 if script and script[-1][0] in ("close", "reset") else 0)
        c.close()
    out[key] = (lport, sends)


def view(sniff, port, run):
    """What the server did: its bytes, its first segment (telnetd's
    negotiation is a write of its own; later segments are pty reads, whose
    coalescing is racy in the real pair), per input the timing class of the
    first answer to it, the close kind and its timing class."""
    lport, sends = run
    segs, timing, close = [], {}, "open"
    for t, _sp, _dp, flags, payload in sniff.flow(port, lport):
        i = max([k for k, s in enumerate(sends) if s[0] <= t] or [0])
        if payload:
            segs.append(payload)
            timing.setdefault(i, tclass(t - sends[i][0]))
        if flags & (RST | FIN) and close == "open":
            close = ("rst" if flags & RST else "fin") + "/" + tclass(t - sends[i][0])
    return {"bytes": b"".join(segs), "segments": segs[:1], "close": close,
            "timing": sorted(timing.items())}


# Known differences that cannot be fixed (the README lists them): probe ->
# reason.
KNOWN = {
    "iac_ayt_after_data": "racy in BusyBox itself: where the answers to AYTs fall among "
                          "the echo depends on how telnetd's loop turns meet the pty "
                          "(both orders seen live); lure gives the unloaded one",
    "ctrl_c_then_more": "after a signal character flushed the pty's output, the real "
                        "tty's column (so a tab's width) is 2 more than the echo sent; "
                        "n_tty's column bookkeeping across a flush is not modelled",
    "binary_garbage": "racy in BusyBox itself: the ^Z (0x1a) in it flushes the pty's "
                      "echo of the same read only if telnetd has not read it yet (under "
                      "load the real pair echoed all 64 bytes, idle it drops the head); "
                      "lure gives the unloaded one",
}

RESULTS = {}


@pytest.fixture(scope="module")
def fake_port(tmp_path_factory):
    need_busybox_persona()
    s = Sensor(tmp_path_factory.mktemp("tnprobe"), "tnprobe")
    s.start({"limits": {"idle_timeout": 30, "per_ip": 256}})
    yield s.port(info().first("telnet"))
    s.close()


@pytest.fixture(scope="module")
def runs(real, fake_port):  # noqa: F811
    """Every probe against both servers at once, under one sniffer."""
    sniff = Sniffer((real, fake_port))
    out, threads = {}, []
    try:
        for name, script in PROBES.items():
            for side, port in (("real", real), ("lure", fake_port)):
                t = threading.Thread(target=drive, args=(port, script, out, (name, side)))
                t.start()
                threads.append(t)
                time.sleep(0.03)
        for t in threads:
            t.join(60)
        time.sleep(0.5)
    finally:
        sniff.stop()
    res = {}
    for name in PROBES:
        res[name] = {side: view(sniff, port, out[(name, side)])
                     for side, port in (("real", real), ("lure", fake_port))
                     if (name, side) in out}
    return res


def differences(r, f):
    return [k for k in ("bytes", "segments", "close", "timing") if r[k] != f[k]]


@pytest.mark.parametrize("name", list(PROBES))
def test_probe(runs, name):
    r, f = runs[name]["real"], runs[name]["lure"]
    assert r["bytes"].startswith(BB_NEGOTIATE), f"real telnetd sent {r['bytes']!r}"
    diff = differences(r, f)
    RESULTS[name] = not diff
    if name in KNOWN:
        if diff:
            pytest.xfail(KNOWN[name])
        return
    assert not diff, (f"{name} differs in {diff}:\n  busybox {r}\n  lure    {f}")


def test_score(runs):
    """The score: identical / probes (printed; -s shows it)."""
    same = sum(1 for n in PROBES if not differences(runs[n]["real"], runs[n]["lure"]))
    print(f"\ntelnet probes identical to BusyBox: {same}/{len(PROBES)}")
    assert len(PROBES) >= 30
