"""Classification rules: each one small, pure function of a source's aggregated numbers and one threshold.

A source "is" a class when its number is *more than* the threshold (the peer network's wording: "a SYN
scanner sends more than 5 SYNs a minute"): at the threshold it is not, one above it is.

    Thresholds()                      the defaults below; every field is a command-line option
    classify(src, th) -> [classes]    src: one row of query.sources() (a dict)
"""
from dataclasses import dataclass, fields


@dataclass
class Thresholds:
    mass_sensors: int = 3        # mass scanner: more than this many sensors ...
    mass_days: int = 5           # ... hit within this many days
    syn_per_minute: int = 5      # SYN scanner: more than this many SYNs in one minute
    sweep_ports: int = 10        # port sweep: more than this many distinct ports (else targeted)
    brute_failures: int = 10     # brute-forcer: more than this many failed logins ...
    brute_minutes: int = 10      # ... within this many minutes (per protocol)
    heartbeat_misses: int = 3    # a sensor silent for more than this many heartbeat intervals is flagged

    @classmethod
    def names(cls):
        return [f.name for f in fields(cls)]


def mass_scanner(sensors_in_window, th):
    """sensors_in_window: distinct sensors the source hit within th.mass_days."""
    return sensors_in_window > th.mass_sensors


def peak_in_window(minute_counts, minutes):
    """Largest sum of counts over any `minutes` consecutive minutes. minute_counts: [(minute_epoch, n)],
    minute_epoch in whole minutes (sparse: minutes without events are absent), any order."""
    pts = sorted((int(m), int(n)) for m, n in minute_counts)
    best = total = 0
    lo = 0
    for m, n in pts:
        total += n
        while pts[lo][0] <= m - minutes:
            total -= pts[lo][1]
            lo += 1
        best = max(best, total)
    return best


def syn_scanner(peak_syns, th):
    """peak_syns: the most TCP packets the source sent in one of lure's scan windows (lure.scan.packets of
    its lure.scan.summary events; scan.window is 60 s by default: a minute)."""
    return peak_syns > th.syn_per_minute


def port_sweep(distinct_ports, th):
    """True: a sweep (many ports); False: targeted (a few). Only asked for sources that touched a port."""
    return distinct_ports > th.sweep_ports


def brute_forcer(failed_minute_counts, th):
    """failed_minute_counts: [(minute, failed logins that minute)] of one protocol."""
    return peak_in_window(failed_minute_counts, th.brute_minutes) > th.brute_failures


def exploiter(cves):
    """cves: vulnerability.id values of the source's exploit events (any exploit event counts)."""
    return len(cves) > 0


def dropper(urls, hashes):
    """urls: download URLs the source named (lure.indicators.url); hashes: files it left (file.hash.*)."""
    return len(urls) > 0 or len(hashes) > 0


def tools(scan_tools):
    """The tool names lure's scan rules tagged (lure.scan.tool: masscan, zmap, nmap, mirai)."""
    return sorted({t for t in scan_tools if t})


def classify(src, th):
    """The classes of one source row (query.sources()), in a fixed order."""
    out = []
    if mass_scanner(src.get("sensors_window", 0), th):
        out.append("mass-scanner")
    if syn_scanner(src.get("syn_peak_per_minute", 0), th):
        out.append("syn-scanner")
    if src.get("ports", 0):
        out.append("port-sweep" if port_sweep(src["ports"], th) else "targeted")
    for proto, minutes in sorted(src.get("failed_by_protocol", {}).items()):
        if brute_forcer(minutes, th):
            out.append(f"brute-force:{proto}")
    if exploiter(src.get("cves", [])):
        out.append("exploiter")
    if dropper(src.get("urls", []), src.get("hashes", [])):
        out.append("dropper")
    out += [f"tool:{t}" for t in tools(src.get("tools", []))]
    return out


def silent(now_ms, last_heartbeat_ms, interval_s, th):
    """A sensor is silent when its last status event is more than th.heartbeat_misses intervals old."""
    if last_heartbeat_ms is None or not interval_s:
        return last_heartbeat_ms is None
    return now_ms - last_heartbeat_ms > th.heartbeat_misses * interval_s * 1000
