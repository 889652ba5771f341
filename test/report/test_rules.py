"""lure-report's classification rules at their thresholds: N-1 and N are not the class, N+1 is ("more than
N", the peer network's wording). Pure functions: no node.

    python3 -m pytest -q test/report/test_rules.py
"""
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "platform" / "analysis"))
from lure_report import rules  # noqa: E402
from lure_report.rules import Thresholds  # noqa: E402

TH = Thresholds()
AROUND = (-1, 0, 1)  # N-1, N, N+1


def test_defaults_are_the_issues():
    assert (TH.mass_sensors, TH.mass_days, TH.syn_per_minute, TH.brute_failures, TH.brute_minutes,
            TH.heartbeat_misses) == (3, 5, 5, 10, 10, 3)


@pytest.mark.parametrize("d", AROUND)
def test_mass_scanner(d):
    assert rules.mass_scanner(TH.mass_sensors + d, TH) is (d > 0)


@pytest.mark.parametrize("d", AROUND)
def test_mass_scanner_custom(d):
    th = Thresholds(mass_sensors=7)
    assert rules.mass_scanner(7 + d, th) is (d > 0)


@pytest.mark.parametrize("d", AROUND)
def test_syn_scanner(d):
    assert rules.syn_scanner(TH.syn_per_minute + d, TH) is (d > 0)


@pytest.mark.parametrize("d", AROUND)
def test_port_sweep(d):
    assert rules.port_sweep(TH.sweep_ports + d, TH) is (d > 0)


@pytest.mark.parametrize("d", AROUND)
def test_brute_forcer_in_one_minute(d):
    assert rules.brute_forcer([(5000, TH.brute_failures + d)], TH) is (d > 0)


@pytest.mark.parametrize("d", AROUND)
def test_brute_forcer_across_the_window(d):
    # one failure a minute for the whole window, the extra ones in its last minute
    n = TH.brute_failures + d
    minutes = [(5000 + i, 1) for i in range(TH.brute_minutes)]
    minutes[-1] = (minutes[-1][0], n - (TH.brute_minutes - 1))
    assert sum(c for _, c in minutes) == n
    assert rules.brute_forcer(minutes, TH) is (d > 0)


def test_brute_forcer_window_slides():
    # 11 failures over 11 minutes: any 10-minute window holds 10 at most
    assert not rules.brute_forcer([(m, 1) for m in range(11)], TH)
    # the same 11 within 10 minutes (minutes 0..9) are one too many
    assert rules.brute_forcer([(m, 1) for m in range(10)] + [(9, 1)], TH)
    assert rules.peak_in_window([(0, 6), (10, 6)], 10) == 6
    assert rules.peak_in_window([(0, 6), (9, 6)], 10) == 12
    assert rules.peak_in_window([], 10) == 0


@pytest.mark.parametrize("n", [0, 1, 2])
def test_exploiter(n):
    assert rules.exploiter(["CVE-2021-36260"] * n) is (n > 0)


@pytest.mark.parametrize("urls,hashes,want", [([], [], False), (["http://198.51.100.7/x.sh"], [], True),
                                              ([], ["da39a3ee5e6b4b0d3255bfef95601890afd80709"], True)])
def test_dropper(urls, hashes, want):
    assert rules.dropper(urls, hashes) is want


def test_tools():
    assert rules.tools(["zmap", "", "masscan", "zmap"]) == ["masscan", "zmap"]
    assert rules.tools([]) == []


@pytest.mark.parametrize("d", AROUND)
def test_silent_sensor(d):
    now = 10_000_000
    interval = 60
    last = now - (TH.heartbeat_misses * interval + d) * 1000
    assert rules.silent(now, last, interval, TH) is (d > 0)


def test_silent_without_status():
    assert rules.silent(1000, None, 60, TH)


def test_classify_order_and_protocols():
    src = {"sensors_window": 4, "syn_peak_per_minute": 6, "ports": 3,
           "failed_by_protocol": {"ssh": [(1, 11)], "telnet": [(1, 10)]}, "cves": ["CVE-2017-7921"],
           "urls": ["http://x/y"], "hashes": [], "tools": ["nmap"]}
    assert rules.classify(src, TH) == ["mass-scanner", "syn-scanner", "targeted", "brute-force:ssh", "exploiter",
                                       "dropper", "tool:nmap"]
    assert rules.classify({}, TH) == []
