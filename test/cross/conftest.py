"""test/cross: the cross-built binary under qemu-user (test/cross/run.sh).

Reuses test/it's fixtures (LURE_BIN may be a wrapper that execs qemu) and
adds what the run script knows about the build under test:
LURE_CROSS_TARGET, LURE_CROSS_TLS, LURE_CROSS_QEMU ("" when native) and
LURE_CROSS_DIR (the build directory, with its tls-test client beside it).
Only 127.0.0.1 is used.
"""
import importlib.util
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "lure_it_conftest", REPO / "test" / "it" / "conftest.py")
it = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(it)

lure = it.lure  # the fixture: starts sensors, checks their NDJSON


class Cross:
    def __init__(self):
        self.target = os.environ.get("LURE_CROSS_TARGET", "")
        self.tls = os.environ.get("LURE_CROSS_TLS", "")
        self.qemu = os.environ.get("LURE_CROSS_QEMU", "")
        self.dir = Path(os.environ.get("LURE_CROSS_DIR", "."))
        if not self.target:
            pytest.exit("run through test/cross/run.sh (make test-cross)",
                        returncode=2)

    def run(self, *cmd):
        """argv to run a target binary (under qemu unless native)."""
        return ([self.qemu] if self.qemu else []) + [str(c) for c in cmd]


@pytest.fixture(scope="session")
def cross():
    return Cross()
