"""SSH sessions with a pty edit typed lines as telnet's do (src/lineedit.c,
the pty model test/it/test_telnet_busybox.py proves against BusyBox telnetd):
paramiko types lines with DEL, ^U, ^W, a tab and ^C into a shell channel;
the echo is checked byte for byte and the "command" event carries the line
as edited. Any persona with SSH and an ssh.accept pair."""
import re
import socket
import time

import pytest

from conftest import get, info

paramiko = pytest.importorskip("paramiko")


def accept_pair():
    """The first USER:PASSWORD of the persona's ssh.accept."""
    if "ssh" not in info().emulators or not info().first("ssh"):
        pytest.skip("no ssh emulator in this build")
    conf = info().persona_conf().parent / "ssh.conf"
    for line in conf.read_text().splitlines():
        m = re.match(r'^ssh\.accept\s+"([^:"*]+):([^"*]+)"', line)
        if m:
            return m.group(1), m.group(2)
    pytest.skip("the persona's ssh.accept has no fixed pair")


PROMPT = re.compile(rb"[#$] $")


def until_prompt(ch, timeout=5.0):
    buf = b""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            d = ch.recv(4096)
        except socket.timeout:
            if PROMPT.search(buf):
                return buf
            continue
        if not d:
            break
        buf += d
    raise AssertionError(f"no prompt: {buf!r}")


def test_pty_line_editing(sensor):
    user, password = accept_pair()
    c = paramiko.SSHClient()
    c.set_missing_host_key_policy(paramiko.AutoAddPolicy())
    c.connect("127.0.0.1", sensor.port(info().first("ssh")), username=user,
              password=password, look_for_keys=False, allow_agent=False,
              timeout=20)
    ch = c.invoke_shell(term="vt100")
    ch.settimeout(0.3)
    prompt = until_prompt(ch).rsplit(b"\n", 1)[-1]
    erase = b"\b \b"

    # DEL erases a character, ^U the whole line
    ch.sendall(b"echo hellx\x7fo wor\x15echo edited\r")
    seen = until_prompt(ch)
    echo = (b"echo hellx" + erase + b"o wor" + erase * len("echo hello wor")
            + b"echo edited\r\n")
    assert seen == echo + b"edited\r\n" + prompt, seen

    # ^W erases a word; ^H erases as DEL does (a readline shell's binding)
    ch.sendall(b"echo one two\x17threx\x08e\r")
    seen = until_prompt(ch)
    echo = (b"echo one two" + erase * 3 + b"threx" + erase + b"e\r\n")
    assert seen == echo + b"one three\r\n" + prompt, seen

    # a tab echoes as spaces to the next stop after the prompt; ^C drops
    # the line and prints a new prompt; controls echo as ^X
    ch.sendall(b"\tjunk\x01\x03")
    seen = until_prompt(ch)
    tab = b" " * (8 - len(prompt) % 8)
    assert seen == tab + b"junk^A^C\r\n" + prompt, seen

    ch.sendall(b"exit\r")
    c.close()
    for line in ("echo edited", "echo one three"):
        ev = sensor.wait_event("command", lure__command=line)
        assert get(ev, "user.name") == user
    assert not [e for e in sensor.find("command")
                if "junk" in get(e, "lure.command", "")]
