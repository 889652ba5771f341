"""lure-report --es URL [--since 24h] [-o report.html] [--format html|json|md]

Runs aggregations (never reads raw events) on the node lure ships to and writes one report:
a text summary, events per sensor over time, top sources with their classification, ports,
credentials, exploits, downloads, tools and fingerprints, sensor health.

    --write-rollups     also index one document per source into lure-sources-YYYY.MM.DD (end date)
    --setup             install etc/es/ (templates, ingest pipeline, ISM or ILM policies) and exit
"""
import argparse
import json
import re
import sys
import time
from pathlib import Path

from . import render, rules
from .query import Report

DUR = re.compile(r"^(\d+)([smhdw])$")
UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def duration_s(text):
    m = DUR.match(text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"{text!r}: want N followed by s, m, h, d or w (24h, 7d)")
    return int(m.group(1)) * UNIT[m.group(2)]


def when_ms(text):
    if text == "now":
        return int(time.time() * 1000)
    if text.isdigit():
        return int(text)
    t = time.strptime(text.rstrip("Z")[:19], "%Y-%m-%dT%H:%M:%S")
    import calendar
    return calendar.timegm(t) * 1000


def client(url, insecure=False, ca=None, timeout=120):
    from opensearchpy import OpenSearch
    kw = {"hosts": [url], "timeout": timeout, "http_compress": True}
    if url.startswith("https://"):
        kw.update(use_ssl=True, verify_certs=not insecure, ssl_show_warn=False)
        if ca:
            kw["ca_certs"] = ca
    return OpenSearch(**kw)


def etc_dir():
    """etc/es of the repository this package was installed from (pip install -e, or a checkout)."""
    here = Path(__file__).resolve()
    for p in here.parents:
        if (p / "etc" / "es" / "lure-template.json").exists():
            return p / "etc" / "es"
    return None


def setup(es, etc, delete_after):
    """PUT the templates, the pipeline and the lifecycle policy of the node's kind. Returns what was done."""
    done = []
    info = es.info()
    opensearch = info.get("version", {}).get("distribution") == "opensearch"

    def load(name):
        return json.loads((etc / name).read_text())
    ilm = None
    if not opensearch:
        try:
            es.transport.perform_request("GET", "/_ilm/status")
            ilm = True
        except Exception:
            ilm = False
    for name, file, ds in (("lure", "lure-template.json", False), ("lure-ds", "lure-datastream-template.json", True),
                           ("lure-sources", "lure-sources-template.json", False)):
        t = load(file)
        if ilm:
            t["template"]["settings"]["index"]["lifecycle"] = {"name": "lure-ds" if ds else "lure"}
        es.transport.perform_request("PUT", f"/_index_template/{name}", body=t)
        done.append(f"_index_template/{name}")
    try:
        es.transport.perform_request("PUT", "/_ingest/pipeline/lure", body=load("lure-pipeline.json"))
        done.append("_ingest/pipeline/lure")
    except Exception as e:  # no geoip or painless on this node
        done.append(f"_ingest/pipeline/lure refused: {e}")
    age = f"{delete_after}s" if delete_after % 86400 else f"{delete_after // 86400}d"
    if opensearch:
        for pid, file in (("lure", "lure-ism.json"), ("lure-ds", "lure-ds-ism.json")):
            p = load(file)
            for st in p["policy"]["states"]:
                for tr in st["transitions"]:
                    for k in ("min_index_age", "min_rollover_age"):
                        if k in tr["conditions"]:
                            tr["conditions"][k] = age
            try:
                es.transport.perform_request("PUT", f"/_plugins/_ism/policies/{pid}", body=p)
                done.append(f"_plugins/_ism/policies/{pid} (delete after {age})")
            except Exception as e:
                done.append(f"ISM policy {pid} not installed (index management plugin?): {e}")
    elif ilm:
        for pid, file in (("lure", "lure-ilm.json"), ("lure-ds", "lure-ds-ilm.json")):
            p = load(file)
            p["policy"]["phases"]["delete"]["min_age"] = age
            es.transport.perform_request("PUT", f"/_ilm/policy/{pid}", body=p)
            done.append(f"_ilm/policy/{pid} (delete after {age})")
    else:
        done.append("no lifecycle management on this node (no ISM, no ILM)")
    return done


ROLLUP_FIELDS = ["events", "sensors", "sensors_window", "breadth", "ports", "syn_peak_per_minute",
                 "failed_logins", "failed_peak_window", "users", "passwords", "login_protocols", "cves", "urls", "hashes",
                 "tools", "hassh", "ja4", "classes"]


def rollup_docs(data):
    """(index, id, doc) per source for lure-sources-YYYY.MM.DD (the report's end date, UTC)."""
    end = data["range"]["end"]
    index = time.strftime("lure-sources-%Y.%m.%d", time.gmtime(end / 1000))
    for s in data["sources"]:
        src = {"ip": s["ip"]}
        if s["country"]:
            src["geo"] = {"country_iso_code": s["country"]}
        if s["asn"] is not None:
            src["as"] = {"number": s["asn"], "organization": {"name": s["as_org"]}}
        x = {k: s[k] for k in ROLLUP_FIELDS}
        x["failed_logins_peak_window"] = x.pop("failed_peak_window")
        yield index, s["ip"], {"@timestamp": end, "event": {"start": s["first_seen"], "end": s["last_seen"],
                                                            "dataset": "lure.sources"},
                               "source": src, "lure": {"source": x}}


def write_rollups(es, data):
    lines = []
    for index, _id, doc in rollup_docs(data):
        lines.append(json.dumps({"index": {"_index": index, "_id": _id}}))
        lines.append(json.dumps(doc, default=str))
    if not lines:
        return 0
    r = es.bulk(body="\n".join(lines) + "\n", refresh="wait_for", request_timeout=120)
    if r.get("errors"):
        bad = [i for i in r["items"] if i["index"].get("error")]
        raise RuntimeError(f"rollups: {len(bad)} refused, first: {bad[0]['index']['error']}")
    return len(lines) // 2


def parser():
    ap = argparse.ArgumentParser(prog="lure-report", description=__doc__.split("\n\n")[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--es", required=True, metavar="URL", help="http[s]://[user:password@]host:port")
    ap.add_argument("--since", type=duration_s, default=86400, metavar="DUR", help="range before --until (24h)")
    ap.add_argument("--until", type=when_ms, default="now", metavar="TIME",
                    help="end of the range: now, epoch ms or YYYY-MM-DDTHH:MM:SSZ (now)")
    ap.add_argument("-o", "--output", default="-", help="file to write (- for stdout)")
    ap.add_argument("--format", choices=("html", "json", "md"), help="default: from -o's suffix, else html")
    ap.add_argument("--index", default="lure-*,-lure-sources-*", help="event indices (lure-*,-lure-sources-*)")
    ap.add_argument("--top", type=int, default=20, help="rows per table (20)")
    ap.add_argument("--insecure", action="store_true", help="https: skip certificate checks")
    ap.add_argument("--ca", help="https: PEM CA file")
    ap.add_argument("--write-rollups", action="store_true", help="index per-source rollups into lure-sources-*")
    ap.add_argument("--setup", action="store_true", help="install etc/es/ on the node and exit")
    ap.add_argument("--etc", type=Path, default=None, help="etc/es directory for --setup (the checkout's)")
    ap.add_argument("--delete-after", type=duration_s, default=30 * 86400, metavar="DUR",
                    help="--setup: lifecycle policy deletes indices this old (30d)")
    th = rules.Thresholds()
    g = ap.add_argument_group("classification thresholds (a source is classed when it is above them)")
    helps = {"mass_sensors": "mass scanner: more than N sensors ...", "mass_days": "... within N days",
             "syn_per_minute": "SYN scanner: more than N SYNs in a minute",
             "sweep_ports": "port sweep: more than N ports (else targeted)",
             "brute_failures": "brute-forcer: more than N failed logins ...", "brute_minutes": "... in N minutes",
             "heartbeat_misses": "sensor health: silent for more than N heartbeats"}
    for name in rules.Thresholds.names():
        g.add_argument("--" + name.replace("_", "-"), type=int, default=getattr(th, name), metavar="N",
                       help=f"{helps[name]} ({getattr(th, name)})")
    return ap


def main(argv=None):
    a = parser().parse_args(argv)
    es = client(a.es, a.insecure, a.ca)
    if a.setup:
        etc = a.etc or etc_dir()
        if not etc:
            print("lure-report: --setup needs --etc DIR (lure's etc/es)", file=sys.stderr)
            return 2
        for line in setup(es, Path(etc), a.delete_after):
            print(line)
        return 0
    th = rules.Thresholds(**{n: getattr(a, n) for n in rules.Thresholds.names()})
    data = Report(es, a.until - a.since * 1000, a.until, th, index=a.index, top=a.top).run()
    if a.write_rollups:
        data["rollups_written"] = write_rollups(es, data)
    fmt = a.format or {".json": "json", ".md": "md"}.get(Path(a.output).suffix, "html")
    text = {"json": render.to_json, "md": lambda d: render.to_md(d, a.top),
            "html": lambda d: render.to_html(d, a.top)}[fmt](data)
    if a.output == "-":
        sys.stdout.write(text)
    else:
        Path(a.output).write_text(text, encoding="utf-8")
    print(f"lure-report: {len(data['sources'])} sources, {data['overview']['events']} events, "
          f"{data['seconds']} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
