"""The aggregations (no raw events are read: size 0 everywhere, composite aggregations to page over sources).

    r = Report(client, start_ms, end_ms, th, index="lure-*,-lure-sources-*", top=20)
    data = r.run()      # a plain dict: the JSON format of lure-report
"""
import time

from . import rules

MINUTE = 60_000


def _terms(field, size, **kw):
    return {"terms": {"field": field, "size": size, **kw}}


def _keys(agg):
    return [b["key"] for b in agg["buckets"]]


def _pairs(agg, sub=None):
    out = []
    for b in agg["buckets"]:
        row = {"key": b.get("key_as_string", b["key"]), "count": b["doc_count"]}
        if sub:
            row.update({k: f(b) for k, f in sub.items()})
        out.append(row)
    return out


def _minutes(hist):
    return [(b["key"] // MINUTE, b["doc_count"]) for b in hist["buckets"] if b["doc_count"]]


def _histogram_interval(span_ms):
    """A fixed interval giving 24-96 bars over the span."""
    for iv, ms in (("1m", MINUTE), ("5m", 5 * MINUTE), ("15m", 15 * MINUTE), ("30m", 30 * MINUTE),
                   ("1h", 60 * MINUTE), ("3h", 180 * MINUTE), ("6h", 360 * MINUTE), ("12h", 720 * MINUTE),
                   ("1d", 1440 * MINUTE)):
        if span_ms / ms <= 96:
            return iv, ms
    return "7d", 7 * 1440 * MINUTE


class Report:
    def __init__(self, client, start_ms, end_ms, th=None, index="lure-*,-lure-sources-*", top=20,
                 max_sources=100_000):
        self.es = client
        self.start, self.end = int(start_ms), int(end_ms)
        self.th = th or rules.Thresholds()
        self.index = index
        self.top = top
        self.max_sources = max_sources

    def _range(self, start=None):
        return {"range": {"@timestamp": {"gte": self.start if start is None else start, "lte": self.end,
                                         "format": "epoch_millis"}}}

    def _search(self, body, query=None):
        q = {"bool": {"filter": [self._range()] + (query or [])}}
        return self.es.search(index=self.index, body={"size": 0, "track_total_hits": True, "query": q, **body},
                              request_timeout=120, ignore_unavailable=True, allow_no_indices=True)

    # --- the sections --------------------------------------------------------------------------------
    def overview(self):
        iv, iv_ms = _histogram_interval(self.end - self.start)
        notstatus = {"bool": {"must_not": [{"term": {"event.action": "status"}}]}}
        r = self._search({"aggs": {
            "ev": {"filter": notstatus, "aggs": {
                "sources": {"cardinality": {"field": "source.ip", "precision_threshold": 40000}},
                "actions": _terms("event.action", 20),
            }},
            "sensors": {"terms": {"field": "observer.name", "size": 1000, "order": {"_key": "asc"}}, "aggs": {
                "ev": {"filter": notstatus, "aggs": {
                    "hist": {"date_histogram": {"field": "@timestamp", "fixed_interval": iv, "min_doc_count": 0,
                                                "extended_bounds": {"min": self.start, "max": self.end}}},
                    "sources": {"cardinality": {"field": "source.ip"}},
                }},
                "last": {"max": {"field": "@timestamp"}},
                "status": {"filter": {"term": {"event.action": "status"}}, "aggs": {
                    "last": {"top_hits": {"size": 1, "sort": [{"@timestamp": "desc"}], "_source": {"includes": [
                        "@timestamp", "event.reason", "lure.events", "lure.ship", "lure.uptime", "lure.version",
                        "observer.version", "error.message", "lure.persona"]}}},
                    "hb": {"filter": {"term": {"event.reason": "heartbeat"}}, "aggs": {
                        "first": {"min": {"field": "@timestamp"}}, "last": {"max": {"field": "@timestamp"}}}},
                    "ship_errors": {"filter": {"term": {"event.reason": "ship_error"}}},
                    "dropped": {"max": {"field": "lure.events.dropped"}},
                    "ship_dropped": {"max": {"field": "lure.events.ship_dropped"}},
                }},
            }},
        }})
        a = r["aggregations"]
        sensors, hist = [], {}
        for b in a["sensors"]["buckets"]:
            st = b["status"]
            hits = st["last"]["hits"]["hits"]
            last = hits[0]["_source"] if hits else {}
            hb = st["hb"]
            interval = None
            if hb["doc_count"] >= 2:
                interval = round((hb["last"]["value"] - hb["first"]["value"]) / (hb["doc_count"] - 1) / 1000)
            last_status = int(b["status"]["last"]["hits"]["hits"][0]["sort"][0]) if hits else None
            lev, lship = last.get("lure", {}).get("events", {}), last.get("lure", {}).get("ship", {})
            events = b["ev"]["doc_count"]
            hours = max((self.end - self.start) / 3_600_000, 1 / 60)
            row = {
                "sensor": b["key"], "events": events, "events_per_hour": round(events / hours, 1),
                "sources": b["ev"]["sources"]["value"], "last_event": int(b["last"]["value"] or 0),
                "last_status": last_status, "heartbeat_s": interval, "heartbeats": hb["doc_count"],
                "dropped": int(st["dropped"]["value"] or 0), "ship_dropped": int(st["ship_dropped"]["value"] or 0),
                "spool_backlog": lship.get("queued"), "ship_errors": st["ship_errors"]["doc_count"],
                "last_error": (last.get("error") or {}).get("message", ""),
                "shipped": lev.get("shipped"), "version": (last.get("lure") or {}).get("version") or "",
            }
            row["silent"] = bool(interval) and rules.silent(self.end, last_status, interval, self.th)
            sensors.append(row)
            hist[b["key"]] = [[h["key"], h["doc_count"]] for h in b["ev"]["hist"]["buckets"]]
        return {
            "events": a["ev"]["doc_count"], "documents": r["hits"]["total"]["value"],
            "sources": a["ev"]["sources"]["value"],
            "actions": {x["key"]: x["doc_count"] for x in a["ev"]["actions"]["buckets"]},
            "sensors": sensors, "histogram": {"interval": iv, "interval_ms": iv_ms, "sensors": hist},
        }

    def tops(self):
        n = self.top
        conn = {"terms": {"event.action": ["connection.open"]}}
        scan = {"term": {"event.action": "scan"}}
        fail = {"bool": {"filter": [{"term": {"event.action": "login"}}]}}
        ips = {"cardinality": {"field": "source.ip"}}
        r = self._search({"aggs": {
            "persona_ports": {"filter": conn, "aggs": {"p": {**_terms("destination.port", n), "aggs": {
                "pp": _terms("lure.persona_port", 1), "proto": _terms("network.protocol", 1), "ips": ips}}}},
            "scan_ports": {"filter": scan, "aggs": {"p": {**_terms("destination.port", n), "aggs": {
                "tr": _terms("network.transport", 2), "ips": ips}}}},
            "logins": {"filter": fail, "aggs": {
                "users": {**_terms("user.name", n), "aggs": {"ips": ips}},
                "passwords": {**_terms("lure.auth.password", n), "aggs": {"ips": ips}},
                "pairs": {"multi_terms": {"terms": [{"field": "user.name"}, {"field": "lure.auth.password"}],
                                          "size": n}, "aggs": {"ips": ips}},
                "outcome": _terms("event.outcome", 3),
                "proto": _terms("network.protocol", 10),
            }},
            "cves": {**_terms("vulnerability.id", n), "aggs": {"ips": ips, "rule": _terms("rule.name", 1),
                                                                 "first": {"min": {"field": "@timestamp"}}}},
            "urls": {**_terms("lure.indicators.url", n), "aggs": {"ips": ips}},
            "sha1": {**_terms("file.hash.sha1", n), "aggs": {"ips": ips, "md5": _terms("file.hash.md5", 1),
                                                               "size": {"max": {"field": "file.size"}}}},
            "scan_tools": {**_terms("lure.scan.tool", n), "aggs": {"ips": ips}},
            "hassh": {**_terms("lure.ssh.hassh", n), "aggs": {"ips": ips,
                                                                "client": _terms("lure.ssh.client_version", 1)}},
            "ja4": {**_terms("tls.client.ja4", n), "aggs": {"ips": ips, "ja3": _terms("tls.client.ja3", 1)}},
            "countries": {**_terms("source.geo.country_iso_code", n), "aggs": {"ips": ips}},
            "as": {**_terms("source.as.number", n), "aggs": {"ips": ips,
                                                           "org": _terms("source.as.organization.name", 1)}},
        }})
        a = r["aggregations"]
        ips_ = {"sources": lambda b: b["ips"]["value"]}

        def first(name):
            return lambda b: (_keys(b[name]) or [""])[0]
        pairs = [{"key": "\u0000".join(str(k) for k in b["key"]), "user": b["key"][0], "password": b["key"][1],
                  "count": b["doc_count"], "sources": b["ips"]["value"]} for b in a["logins"]["pairs"]["buckets"]]
        return {
            "ports": {
                "persona": _pairs(a["persona_ports"]["p"], {**ips_, "persona_port": first("pp"),
                                                            "protocol": first("proto")}),
                "scan": _pairs(a["scan_ports"]["p"], {**ips_, "transport": first("tr")}),
            },
            "credentials": {
                "logins": a["logins"]["doc_count"],
                "outcomes": {x["key"]: x["doc_count"] for x in a["logins"]["outcome"]["buckets"]},
                "protocols": {x["key"]: x["doc_count"] for x in a["logins"]["proto"]["buckets"]},
                "users": _pairs(a["logins"]["users"], ips_), "passwords": _pairs(a["logins"]["passwords"], ips_),
                "pairs": pairs,
            },
            "exploits": _pairs(a["cves"], {**ips_, "rule": first("rule"),
                                           "first_seen": lambda b: int(b["first"]["value"] or 0)}),
            "downloads": {"urls": _pairs(a["urls"], ips_),
                          "hashes": _pairs(a["sha1"], {**ips_, "md5": first("md5"),
                                                       "size": lambda b: b["size"]["value"]})},
            "tools": {"scan": _pairs(a["scan_tools"], ips_),
                      "hassh": _pairs(a["hassh"], {**ips_, "client": first("client")}),
                      "ja4": _pairs(a["ja4"], {**ips_, "ja3": first("ja3")})},
            "geo": {"countries": _pairs(a["countries"], ips_),
                    "as": _pairs(a["as"], {**ips_, "org": first("org")})},
        }

    def _per_source(self, filters, aggs, include, size, start=None, min_doc_count=1):
        """{ip: bucket} of one terms aggregation on source.ip over docs matching filters (one pass)."""
        body = {"size": 0, "query": {"bool": {"filter": [self._range(start), {"exists": {"field": "source.ip"}}]
                                               + filters}},
                "aggs": {"s": {"terms": {"field": "source.ip", "size": size, "min_doc_count": min_doc_count,
                                         **({"include": include} if include else {})}, "aggs": aggs}}}
        r = self.es.search(index=self.index, body=body, request_timeout=300, ignore_unavailable=True,
                           allow_no_indices=True)
        return {b["key"]: b for b in r["aggregations"]["s"]["buckets"]}

    def _minutes_of(self, filters, counts, aggs):
        """(ip, bucket) for the sources in counts ({ip: events}), in chunks of at most ~20,000 events."""
        chunk, budget = [], 0
        ips = sorted(counts, key=counts.get)
        for i, ip in enumerate(ips):
            chunk.append(ip)
            budget += counts[ip] + 5
            if budget > 20_000 or i == len(ips) - 1:
                yield from self._per_source(filters + [{"terms": {"source.ip": chunk}}], aggs, None,
                                            len(chunk)).items()
                chunk, budget = [], 0

    def sources(self):
        """Every source in the range, with what the rules need. One terms aggregation per question over the
        events that can answer it (no raw events, no paging through sources): search.max_buckets (65,535)
        bounds the buckets of one answer, so more than PART sources are taken in hash partitions. The
        mass-scanner count looks back th.mass_days days from the end whatever the report's range; brute-force
        windows are computed only for sources with more failures in all than the threshold."""
        th = self.th
        PART = 20_000  # the first pass makes 3 buckets a source: 60,000 < 65,535
        n = self.es.search(index=self.index, body={"size": 0, "query": {"bool": {"filter": [self._range()]}},
                                                   "aggs": {"n": {"cardinality": {"field": "source.ip",
                                                                                  "precision_threshold": 40000}}}},
                           ignore_unavailable=True, allow_no_indices=True)["aggregations"]["n"]["value"]
        parts = max(1, -(-int(n) // PART))  # exact below its precision_threshold
        out = []
        for p in range(parts):
            inc = {"partition": p, "num_partitions": parts} if parts > 1 else None
            out += self._sources_part(inc, PART + PART // 4 if parts > 1 else n + 1000)
            if len(out) >= self.max_sources:
                break
        for src in out:
            src["classes"] = rules.classify(src, th)
        out.sort(key=lambda s: (-s["sensors"], -s["events"], s["ip"]))
        return out

    def _sources_part(self, inc, size):
        th = self.th
        minute = {"date_histogram": {"field": "@timestamp", "fixed_interval": "1m", "min_doc_count": 1}}
        first_key = lambda b, k: (_keys(b[k]) or [""])[0] if k in b else ""  # noqa: E731
        base = self._per_source([], {
            "sensors": {"cardinality": {"field": "observer.name", "precision_threshold": 100}},
            "ports": {"cardinality": {"field": "destination.port", "precision_threshold": 200}},
            "first": {"min": {"field": "@timestamp"}}, "last": {"max": {"field": "@timestamp"}},
            "asn": {"max": {"field": "source.as.number"}},
            "country": _terms("source.geo.country_iso_code", 1),
            "org": _terms("source.as.organization.name", 1)}, inc, size)
        wstart = self.end - th.mass_days * 86_400_000
        if wstart < self.start:
            window = self._per_source([], {"sensors": {"cardinality": {"field": "observer.name",
                                                                        "precision_threshold": 100}}},
                                      inc, size, start=wstart)
        else:
            window = base
        logins = self._per_source([{"term": {"event.action": "login"}}], {
            "users": {"cardinality": {"field": "user.name", "precision_threshold": 100}},
            "passwords": {"cardinality": {"field": "lure.auth.password", "precision_threshold": 100}},
            "failed": {"filter": {"term": {"event.outcome": "failure"}}}}, inc, size)
        # per-minute counts only for the sources whose total is over a threshold (the rest cannot be over it
        # in a minute or a window), in chunks of at most ~20,000 events (search.max_buckets)
        failed = [{"term": {"event.action": "login"}}, {"term": {"event.outcome": "failure"}}]
        cand = {ip: b["failed"]["doc_count"] for ip, b in logins.items()
                if b["failed"]["doc_count"] > th.brute_failures}
        failed_minutes = {}
        for ip, b in self._minutes_of(failed, cand, {"p": {**_terms("network.protocol", 10), "aggs": {"m": minute}}}):
            failed_minutes[ip] = {p["key"]: _minutes(p["m"]) for p in b["p"]["buckets"]}
        # SYN rate: lure's scan summaries count a source's packets per scan window (scan.window, 60 s by
        # default); per-port scan events are one per new port and would undercount a flood of one port
        syn = self._per_source([{"term": {"event.dataset": "lure.scan.summary"}},
                                {"term": {"lure.scan.transports": "tcp"}}],
                               {"p": {"max": {"field": "lure.scan.packets"}}}, inc, size)
        lists = {}
        for key, field, n in (("cves", "vulnerability.id", 20), ("urls", "lure.indicators.url", 20),
                              ("hashes", "file.hash.sha1", 20), ("tools", "lure.scan.tool", 5),
                              ("hassh", "lure.ssh.hassh", 5), ("ja4", "tls.client.ja4", 5)):
            got = self._per_source([{"exists": {"field": field}}], {"v": _terms(field, n)}, inc, size)
            lists[key] = {ip: _keys(b["v"]) for ip, b in got.items()}
        out = []
        for ip, b in base.items():
            lg = logins.get(ip)
            fm = failed_minutes.get(ip, {})
            sp = int(syn[ip]["p"]["value"] or 0) if ip in syn else 0
            src = {
                "ip": ip, "events": b["doc_count"], "sensors": b["sensors"]["value"],
                "sensors_window": window[ip]["sensors"]["value"] if ip in window else b["sensors"]["value"],
                "ports": b["ports"]["value"],
                "first_seen": int(b["first"]["value"]), "last_seen": int(b["last"]["value"]),
                "syn_peak_per_minute": sp,
                "failed_logins": lg["failed"]["doc_count"] if lg else 0,
                "failed_by_protocol": fm,
                # below the threshold in all, the total stands for the window's peak (it cannot be more)
                "failed_peak_window": max([rules.peak_in_window(m, th.brute_minutes) for m in fm.values()] or
                                          [lg["failed"]["doc_count"] if lg else 0]),
                "login_protocols": sorted(fm),
                "users": lg["users"]["value"] if lg else 0, "passwords": lg["passwords"]["value"] if lg else 0,
                "country": first_key(b, "country"), "asn": int(b["asn"]["value"]) if b["asn"]["value"] else None,
                "as_org": first_key(b, "org"),
            }
            for key in lists:
                src[key] = lists[key].get(ip, [])
            out.append(src)
        return out

    def run(self):
        t0 = time.monotonic()
        ov = self.overview()
        tops = self.tops()
        srcs = self.sources()
        deployed = len(ov["sensors"]) or 1
        for s in srcs:
            s["breadth"] = round(s["sensors"] / deployed, 3)
        counts = {}
        for s in srcs:
            for c in s["classes"]:
                k = c.split(":")[0] if c.startswith("brute-force") else c
                counts[k] = counts.get(k, 0) + 1
        data = {
            "range": {"start": self.start, "end": self.end},
            "thresholds": {k: getattr(self.th, k) for k in rules.Thresholds.names()},
            "overview": ov, **tops, "sources": srcs, "class_counts": counts,
            "seconds": None,
        }
        data["summary"] = summary(data)
        data["seconds"] = round(time.monotonic() - t0, 3)
        return data


def _n(x, word, plural=None):
    return f"{x:,} {word if x == 1 else (plural or word + 's')}"


def summary(d):
    """The text at the top: a few sentences a person reads first."""
    ov, cc = d["overview"], d["class_counts"]
    srcs = d["sources"]
    silent = [s["sensor"] for s in ov["sensors"] if s["silent"]]
    lines = [f"{_n(len(srcs), 'source')} made {_n(ov['events'], 'event')} on {_n(len(ov['sensors']), 'sensor')}."]
    parts = []
    for k, w in (("mass-scanner", "mass scanner"), ("syn-scanner", "SYN scanner"), ("port-sweep", "port sweep"),
                 ("brute-force", "brute-forcer"), ("exploiter", "exploiter"), ("dropper", "dropper")):
        if cc.get(k):
            parts.append(_n(cc[k], w))
    if parts:
        lines.append("Among them: " + ", ".join(parts) + ".")
    c = d["credentials"]
    if c["logins"]:
        lines.append(f"{_n(c['logins'], 'login')} tried ({_n(len(c['users']), 'top user name')} shown).")
    if d["exploits"]:
        lines.append("Exploits: " + ", ".join(f"{e['key']} ({_n(e['sources'], 'source')})" for e in d["exploits"][:5])
                     + ".")
    if d["downloads"]["urls"]:
        lines.append(f"{_n(len(d['downloads']['urls']), 'download URL')} named.")
    lines.append(f"Silent sensors: {', '.join(silent)}." if silent else "Every sensor reported in time.")
    return " ".join(lines)
