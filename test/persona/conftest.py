"""Persona tests: the binary built with PERSONA=<name> (LURE_BIN, LURE_PERSONA)
on loopback, driven by real clients (nmap, curl, ffprobe, ...). The sensor
fixtures and helpers are those of the integration suite (test/it/conftest.py).
Tests for another persona than the one built skip themselves: use
`persona("hikvision")` at the top of a module."""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from it.conftest import *  # noqa: E402,F401,F403  (fixtures and helpers)
from it.conftest import info  # noqa: E402


def persona(name):
    """Skip the calling module unless the binary is the `name` persona."""
    if info().persona != name:
        pytest.skip(f"binary is persona {info().persona}, not {name}",
                    allow_module_level=True)


@pytest.fixture
def netns():
    """A fresh network namespace with only loopback up (for a persona on its
    real ports, and the clients that probe it): yields its name; use
    ("ip", "netns", "exec", name) as a command prefix."""
    import os
    import subprocess
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")
    name = f"lure-p{os.getpid()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    subprocess.run(["ip", "netns", "add", name], check=True)
    subprocess.run(["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
                   check=True)
    yield name
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


NS = ("ip", "netns", "exec")  # a command prefix, then the netns name


@pytest.fixture
def host(lure, netns, tmp_path):
    """The persona on its real ports (no offset) inside netns: for the
    clients and nmap scripts that only talk to the real port."""
    return lure({"listen": ["127.0.0.1"],
                 "state_file": str(tmp_path / "state")},
                offset=0, wrap=NS + (netns,))


@pytest.fixture(scope="module")
def state(tmp_path_factory):
    """One state file per module: host keys (RSA-3072 for sshd personas)
    are generated once."""
    return tmp_path_factory.mktemp("state") / "lure.state"


@pytest.fixture
def sensor(lure, state):
    """The persona on its offset ports with the module's state file; the
    first start generates the host keys: allow for it."""
    s = lure({"state_file": str(state), "limits": {"idle_timeout": 60}},
             wait=False)
    s.start_event = s.wait_event("status", timeout=60, event__reason="start")
    return s
