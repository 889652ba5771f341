"""lure's command line as getopt(argc, argv, "c:e:tVh") parsed it (src/main.c
parses it itself since the size pass: no getopt, no stdio): grouped and
attached options, "--", operands, and musl's two messages. Fast (< 2 s)."""
import re

from conftest import run_lure


def write_config(tmp_path):
    p = tmp_path / "c.json"
    p.write_text('{"output": {"file": "-"}}')
    return str(p)


def test_grouped_and_attached(tmp_path):
    c = write_config(tmp_path)
    for args in (["-t", "-c", c], ["-tc", c], ["-tc" + c], ["-c" + c, "-t"],
                 ["-t", "-c", c, "--"]):
        r = run_lure(args)
        assert r.returncode == 0, (args, r.stderr)
        assert f"lure: {c}: ok".encode() in r.stderr, args


def test_options_end_at_operands(tmp_path):
    c = write_config(tmp_path)
    for args in (["-t", "--", "-c", c], ["-t", "op"], ["-t", "-c", c, "x"],
                 ["-t", "-", "-c", c]):
        r = run_lure(args)
        assert r.returncode == 2, args
        assert b"usage: lure" in r.stderr, args


def test_messages():
    r = run_lure(["-tx"])
    assert r.returncode == 2 and r.stdout == b""
    # musl's getopt wording, argv[0] first (host builds too, now)
    assert re.match(r"\S*lure: unrecognized option: x\nusage: lure",
                    r.stderr.decode())
    r = run_lure(["-t", "-e"])
    assert r.returncode == 2
    assert re.match(r"\S*lure: option requires an argument: e\nusage: lure",
                    r.stderr.decode())
    # the first of -V / -h wins, as with getopt
    assert run_lure(["-V", "-x"]).returncode == 0
    assert run_lure(["-h", "-x"]).stdout.startswith(b"usage: lure")
