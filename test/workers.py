"""Port ranges shared by the pytest suites' parallel workers.

make test runs the suites with pytest-xdist (-n): each worker draws ports
and port offsets from its own share of a range, so two workers never pick
the same one, and a port one worker has freed (a stopped node's) stays free
of the others' sensors.
"""
import os


def worker_share(lo, hi):
    """[lo, hi) cut into one share per pytest-xdist worker; without xdist,
    the whole range."""
    w = os.environ.get("PYTEST_XDIST_WORKER", "")
    n = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT") or 1)
    if n <= 1 or not w.startswith("gw"):
        return lo, hi
    span = (hi - lo) // n
    i = int(w[2:]) % n
    return lo + i * span, lo + (i + 1) * span
