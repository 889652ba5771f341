"""The event loop (src/poller.h, src/loop.c): a full pool takes the TCP
listeners out of the poll set, and a slot freed by a timer (not by I/O)
brings them back in the same pass: with nothing else due, a new client
would otherwise wait forever. Costs about 2 s."""
import pytest

from conftest import info, recv_until, tcp, wait_until


def closed(s):
    s.settimeout(0.05)
    try:
        return s.recv(1) == b""
    except TimeoutError:
        return False
    except OSError:
        return True


def test_slot_freed_by_timer_reopens_listeners(lure):
    http = info().first("http")
    if http is None:
        pytest.skip("no http port in this persona")
    # excluded sources are never evicted: the pool stays full until the
    # idle timer closes them
    s = lure({"limits": {"max_conns": 2, "per_ip": 8, "idle_timeout": 1},
              "exclude": ["127.0.8.0/24"]})
    port = s.port(http)
    held = [tcp(port, src=f"127.0.8.{i}") for i in (1, 2)]
    late = tcp(port, src="127.0.8.3")  # refused or queued: the pool is full
    wait_until(lambda: all(closed(c) for c in held), timeout=5,
               what="the idle timeout closing the held connections")
    new = tcp(port, src="127.0.0.9")
    new.sendall(b"GET / HTTP/1.0\r\n\r\n")
    assert recv_until(new, b"HTTP/1.", timeout=3).startswith(b"HTTP/1.")
    for c in held + [late, new]:
        c.close()
