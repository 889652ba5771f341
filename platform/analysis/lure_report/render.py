"""The report as one self-contained HTML file (inline CSS, inline SVG, one small inline script to sort tables;
nothing is fetched when it is opened), as Markdown, or as JSON."""
import html
import json
import time

SECTIONS = [("summary", "Summary"), ("sensors", "Events per sensor"), ("sources", "Top sources"),
            ("ports", "Top ports"), ("credentials", "Credentials tried"), ("exploits", "Exploits by CVE"),
            ("downloads", "Download URLs and file hashes"), ("tools", "Tools and fingerprints"),
            ("health", "Sensor health")]


def iso(ms):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms / 1000)) + "Z" if ms else ""


def _hours(s):
    return "" if s is None else f"{s}s"


def tables(d, top=20):
    """Every table of the report as (section id, caption, header, rows); rows are lists of cell values."""
    ov = d["overview"]
    out = []
    out.append(("sources", f"Top {top} sources (of {len(d['sources'])})",
                ["source", "country", "AS", "events", "sensors", "breadth", "ports", "SYN/min peak",
                 "failed logins", "users", "classification", "last seen"],
                [[s["ip"], s["country"], (f"AS{s['asn']} {s['as_org']}" if s["asn"] else ""), s["events"],
                  s["sensors"], s["breadth"], s["ports"], s["syn_peak_per_minute"], s["failed_logins"], s["users"],
                  " ".join(s["classes"]), iso(s["last_seen"])] for s in d["sources"][:top]]))
    out.append(("ports", "Persona ports (connections)", ["port", "persona port", "protocol", "connections",
                                                        "sources"],
                [[p["key"], p["persona_port"], p["protocol"], p["count"], p["sources"]]
                 for p in d["ports"]["persona"]]))
    out.append(("ports", "Scanned ports (scan events)", ["port", "transport", "events", "sources"],
                [[p["key"], p["transport"], p["count"], p["sources"]] for p in d["ports"]["scan"]]))
    c = d["credentials"]
    out.append(("credentials", "User names", ["user", "tries", "sources"],
                [[u["key"], u["count"], u["sources"]] for u in c["users"]]))
    out.append(("credentials", "Passwords", ["password", "tries", "sources"],
                [[u["key"], u["count"], u["sources"]] for u in c["passwords"]]))
    out.append(("credentials", "Pairs", ["user", "password", "tries", "sources"],
                [[u["user"], u["password"], u["count"], u["sources"]] for u in c["pairs"]]))
    out.append(("exploits", "Exploits", ["CVE", "rule", "events", "sources", "first seen"],
                [[e["key"], e["rule"], e["count"], e["sources"], iso(e["first_seen"])] for e in d["exploits"]]))
    out.append(("downloads", "Download URLs", ["URL", "events", "sources"],
                [[u["key"], u["count"], u["sources"]] for u in d["downloads"]["urls"]]))
    out.append(("downloads", "File hashes", ["sha1", "md5", "size", "events", "sources"],
                [[h["key"], h["md5"], h["size"], h["count"], h["sources"]] for h in d["downloads"]["hashes"]]))
    t = d["tools"]
    out.append(("tools", "Scanner tools", ["tool", "events", "sources"],
                [[x["key"], x["count"], x["sources"]] for x in t["scan"]]))
    out.append(("tools", "SSH clients (HASSH)", ["hassh", "client", "events", "sources"],
                [[x["key"], x["client"], x["count"], x["sources"]] for x in t["hassh"]]))
    out.append(("tools", "TLS clients (JA4)", ["ja4", "ja3", "events", "sources"],
                [[x["key"], x["ja3"], x["count"], x["sources"]] for x in t["ja4"]]))
    out.append(("health", "Sensors", ["sensor", "events", "events/hour", "sources", "last event", "last status",
                                      "heartbeat", "dropped", "ship dropped", "spool backlog", "ship errors",
                                      "last error", "state"],
                [[s["sensor"], s["events"], s["events_per_hour"], s["sources"], iso(s["last_event"]),
                  iso(s["last_status"]), _hours(s["heartbeat_s"]), s["dropped"], s["ship_dropped"],
                  s["spool_backlog"] if s["spool_backlog"] is not None else "", s["ship_errors"], s["last_error"],
                  "SILENT" if s["silent"] else "ok"] for s in ov["sensors"]]))
    return out


def to_json(d):
    return json.dumps(d, indent=1, sort_keys=True, default=str) + "\n"


def _md_cell(v):
    return str(v).replace("|", "\\|").replace("\n", " ")


def to_md(d, top=20):
    r = d["range"]
    lines = [f"# lure report {iso(r['start'])} to {iso(r['end'])}", "", "## Summary", "", d["summary"], ""]
    lines += ["## Events per sensor", "", "| sensor | events | events/hour |", "|---|---:|---:|"]
    lines += [f"| {_md_cell(s['sensor'])} | {s['events']} | {s['events_per_hour']} |" for s in d["overview"]["sensors"]]
    cur = None
    for sec, cap, head, rows in tables(d, top):
        if sec != cur:
            lines += ["", "## " + dict(SECTIONS)[sec]]
            cur = sec
        lines += ["", f"### {cap}", ""]
        if not rows:
            lines.append("(none)")
            continue
        lines.append("| " + " | ".join(head) + " |")
        lines.append("|" + "---|" * len(head))
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def _svg_histogram(hist):
    """One row of bars per sensor (small multiples, shared time axis, each scaled to its own peak)."""
    sensors = hist["sensors"]
    if not sensors:
        return "<p>(no sensor)</p>"
    nb = max(len(v) for v in sensors.values()) or 1
    w, rowh, label = 720, 34, 120
    bw = (w - label) / nb
    h = rowh * len(sensors) + 20
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="hist" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" role="img" aria-label="events per sensor over time">']
    for i, (name, buckets) in enumerate(sorted(sensors.items())):
        y0 = i * rowh
        peak = max((c for _, c in buckets), default=0) or 1
        out.append(f'<text x="0" y="{y0 + rowh - 12}" class="lbl">{html.escape(name)}</text>')
        out.append(f'<text x="{label - 6}" y="{y0 + 11}" class="pk" text-anchor="end">{peak}</text>')
        out.append(f'<line x1="{label}" x2="{w}" y1="{y0 + rowh - 4}" y2="{y0 + rowh - 4}" class="ax"/>')
        for j, (ts, c) in enumerate(buckets):
            if not c:
                continue
            bh = max(1.0, (rowh - 8) * c / peak)
            out.append(f'<rect x="{label + j * bw:.1f}" y="{y0 + rowh - 4 - bh:.1f}" width="{max(bw - 1, 1):.1f}" '
                       f'height="{bh:.1f}"><title>{html.escape(name)} {iso(ts)}: {c}</title></rect>')
    if nb:
        first = next(iter(sensors.values()))
        if first:
            out.append(f'<text x="{label}" y="{h - 4}" class="pk">{iso(first[0][0])}</text>')
            out.append(f'<text x="{w}" y="{h - 4}" class="pk" text-anchor="end">{iso(first[-1][0])} '
                       f'({hist["interval"]} bars)</text>')
    out.append("</svg>")
    return "".join(out)


def _svg_bars(rows, title):
    """Horizontal bars for a (label, value) list."""
    rows = rows[:15]
    if not rows:
        return ""
    w, rh, label = 520, 16, 200
    peak = max(v for _, v in rows) or 1
    h = rh * len(rows) + 4
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" class="bars" width="{w}" height="{h}" '
           f'viewBox="0 0 {w} {h}" role="img" aria-label="{html.escape(title)}">']
    for i, (k, v) in enumerate(rows):
        y = i * rh + 2
        bw = (w - label - 50) * v / peak
        out.append(f'<text x="{label - 6}" y="{y + 11}" text-anchor="end" class="lbl">{html.escape(str(k))[:32]}</text>'
                   f'<rect x="{label}" y="{y}" width="{max(bw, 1):.1f}" height="{rh - 3}"/>'
                   f'<text x="{label + bw + 4:.1f}" y="{y + 11}" class="pk">{v}</text>')
    out.append("</svg>")
    return "".join(out)


CSS = """
body{font:14px/1.4 system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.5em}h2{border-bottom:1px solid #ccc;margin-top:1.6em}h3{font-size:1.05em;margin:1em 0 .3em}
.summary{font-size:1.1em;background:#f4f6f8;padding:.8em 1em;border-left:4px solid #36c}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:13px}
th,td{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
th{background:#eef;cursor:pointer;user-select:none;white-space:nowrap}
th.asc:after{content:" \\25B2"}th.desc:after{content:" \\25BC"}
tr.silent td{background:#fdd}
svg rect{fill:#36c}svg .lbl{font-size:11px;fill:#222}svg .pk{font-size:10px;fill:#666}svg .ax{stroke:#bbb}
.none{color:#888}nav a{margin-right:.8em}
"""

SORT_JS = """
document.querySelectorAll('table.sortable th').forEach(function(th){th.addEventListener('click',function(){
 var t=th.closest('table'),b=t.tBodies[0],i=Array.prototype.indexOf.call(th.parentNode.children,th);
 var asc=!th.classList.contains('asc');
 t.querySelectorAll('th').forEach(function(h){h.classList.remove('asc','desc')});
 th.classList.add(asc?'asc':'desc');
 var rows=Array.prototype.slice.call(b.rows);
 rows.sort(function(x,y){var a=x.cells[i].getAttribute('data-v'),c=y.cells[i].getAttribute('data-v');
  var fa=parseFloat(a),fc=parseFloat(c),r;
  if(!isNaN(fa)&&!isNaN(fc)&&String(fa)===a&&String(fc)===c){r=fa-fc}else{r=a<c?-1:a>c?1:0}
  return asc?r:-r});
 rows.forEach(function(r){b.appendChild(r)});
})});
"""


def _num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _table(cap, head, rows, silent_col=None):
    e = html.escape
    if not rows:
        return f'<h3>{e(cap)}</h3><p class="none">(none)</p>'
    out = [f'<h3>{e(cap)}</h3><table class="sortable"><thead><tr>']
    out += [f"<th>{e(h)}</th>" for h in head]
    out.append("</tr></thead><tbody>")
    plain = [("port" in h) for h in head]    # port numbers without thousands separators
    for row in rows:
        cls = ' class="silent"' if silent_col is not None and row[silent_col] == "SILENT" else ""
        out.append(f"<tr{cls}>")
        for i, c in enumerate(row):
            v = "" if c is None else c
            if _num(v):
                out.append(f'<td class="n" data-v="{v}">{v:,}</td>' if isinstance(v, int) and not plain[i]
                           else f'<td class="n" data-v="{v}">{v}</td>')
            else:
                out.append(f'<td data-v="{e(str(v))}">{e(str(v))}</td>')
        out.append("</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def to_html(d, top=20):
    e = html.escape
    r = d["range"]
    title = f"lure report {iso(r['start'])} to {iso(r['end'])}"
    body = {k: [] for k, _ in SECTIONS}
    body["summary"].append(f'<p class="summary">{e(d["summary"])}</p>')
    ov = d["overview"]
    acts = ", ".join(f"{k} {v:,}" for k, v in sorted(ov["actions"].items()))
    body["summary"].append(f"<p>Events by action: {e(acts) or '(none)'}. Thresholds: "
                           + e(", ".join(f"{k}={v}" for k, v in d["thresholds"].items())) + ".</p>")
    body["sensors"].append(_svg_histogram(ov["histogram"]))
    body["sources"].append(_svg_bars([(k, v) for k, v in sorted(d["class_counts"].items())],
                                     "sources per classification"))
    body["ports"].append(_svg_bars([(p["key"], p["count"]) for p in d["ports"]["persona"]], "persona ports"))
    for sec, cap, head, rows in tables(d, top):
        body[sec].append(_table(cap, head, rows, silent_col=len(head) - 1 if sec == "health" else None))
    g = d["geo"]
    body["sources"].append(_table("Countries", ["country", "events", "sources"],
                                  [[x["key"], x["count"], x["sources"]] for x in g["countries"]]))
    body["sources"].append(_table("Autonomous systems", ["AS", "organization", "events", "sources"],
                                  [[x["key"], x["org"], x["count"], x["sources"]] for x in g["as"]]))
    nav = "".join(f'<a href="#{k}">{e(v)}</a>' for k, v in SECTIONS)
    parts = [f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
             f'<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
             f'style-src \'unsafe-inline\'; script-src \'unsafe-inline\'; img-src data:">'
             f'<title>{e(title)}</title><style>{CSS}</style></head><body>',
             f'<h1>{e(title)}</h1><nav>{nav}</nav>']
    for k, v in SECTIONS:
        parts.append(f'<section id="{k}"><h2>{e(v)}</h2>{"".join(body[k])}</section>')
    parts.append(f'<p class="none">lure-report, {d["seconds"]} s of queries.</p>')
    parts.append(f"<script>{SORT_JS}</script></body></html>\n")
    return "".join(parts)
