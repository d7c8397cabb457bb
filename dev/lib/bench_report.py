"""Builds the benchmark report for dev/bench report: every figure beside its
ceiling and ratio, and beside the previous committed report's figure, with a
flag on each ratio that got more than 15 % worse.

bench_report.py RESULTS RUN_ID SECONDS INGEST DELIVERY QUERY LATENCY

Writes RESULTS/report-RUN_ID.{md,json} and report-latest.{md,json}. The
previous report is the one committed at HEAD (report-latest.json; for a
report from before the JSON existed, the table of report-latest.md).
"""
import json
import pathlib
import re
import subprocess
import sys

# A ratio this much worse than the previous report's is flagged.
DROP = 0.15


def row(key, label, ours, ceiling, ceiling_text, better, fmt="{:.0f}"):
    """One figure. `better` says which way a larger ratio goes: "higher" for
    throughput (ours ÷ ceiling), "lower" for a latency or a cost under a
    ceiling (ours ÷ ceiling, at most 1 to meet the goal)."""
    ratio = ours / ceiling if ceiling else None
    return {"key": key, "label": label, "ours": ours, "ours_text": fmt.format(ours),
            "ceiling": ceiling, "ceiling_text": ceiling_text, "ratio": ratio, "better": better}


def measured(value, what):
    """A ceiling measured in the same run: its figure and what it is."""
    return f"{value:.0f} ({what})"


def rows(i, d, q, l):
    lat, floor = l["ours"]["accepted_to_delivered_ms"], l["floor"]
    steady = i.get("steady") or {}
    http_floor = i.get("http_floor") or {}
    out = [
        row("ingest_vs_producer", "ingest: events/s accepted (202 after acks=all)",
            i["ours"]["events_per_s"], i["ceiling"]["records_per_s"],
            measured(i["ceiling"]["records_per_s"], "Kafka producer-perf-test, same records"), "higher"),
    ]
    if http_floor:
        out += [
            row("ingest_vs_http_floor", "ingest: the same, as a share of the HTTP floor",
                i["ours"]["events_per_s"], http_floor["events_per_s"],
                measured(http_floor["events_per_s"], "a bare axum handler answering 202, same load; goal ≥ 0.60"),
                "higher"),
            row("ingest_sustained_goal", "ingest: events/s sustained at 256 connections",
                i["ours"]["events_per_s"], 20000, "goal 20,000/s", "higher"),
        ]
    out.append(row("ingest_spooled", "ingest: events that went through the spool meanwhile",
                   i.get("events_spooled", 0), 0, "0", "lower"))
    if steady:
        out += [
            row("ingest_cpu_per_event", "ingest: command-service CPU µs per event at 5,000/s",
                steady.get("server_cpu_us_per_event") or 0, 60, "60 µs", "lower", "{:.1f}"),
            row("ingest_p99_steady", "ingest: POST p99 (ms) at 5,000/s",
                steady["latency_ms"]["p99"], 10, "10 ms", "lower", "{:.2f}"),
        ]
    out += [
        row("ingest_p99", "ingest: POST p99 (ms)",
            i["ours"]["latency_ms"]["p99"], 0, "", "lower", "{:.2f}"),
        row("delivery_vs_target", "delivery: events/s, one replica, unlimited target",
            d["unlimited"]["events_per_s"], d["ceiling"]["events_per_s"],
            measured(d["ceiling"]["events_per_s"], "the target's own createItem/s"), "higher"),
        row("delivery_goal", "delivery: the same against the goal",
            d["unlimited"]["events_per_s"], 12000, "goal 12,000/s per replica", "higher"),
        row("delivery_per_cpu_s", "delivery: events per dispatcher CPU-second",
            d["unlimited"]["events_per_dispatcher_cpu_s"], 15000, "goal 15,000", "higher"),
        row("limit_used", "delivery: events/s under a 1,000/s limit",
            d["limited"]["share_used"] * 1000, 1000, "the limit (goal ≥ 0.97)", "higher"),
        row("limit_busiest_window", "delivery: busiest 1 s window at the target under that limit",
            d["limited"]["max_in_window"], 1000, "1,000 (goal ≤ 1.00)", "lower"),
        row("projection_vs_upsert", "projection: records/s",
            q["projection"]["records_per_s"], q["baseline"]["rows_per_s"],
            measured(q["baseline"]["rows_per_s"], "bare UNNEST upsert"), "higher"),
        row("projection_goal", "projection: records/s against the goal",
            q["projection"]["records_per_s"], 60000, "goal 60,000", "higher"),
        row("lookups_alone", "look-ups/s, alone",
            q["lookups_alone"]["events_per_s"], q["lookup_baseline"]["lookups_per_s"],
            measured(q["lookup_baseline"]["lookups_per_s"], "the database, same query, no HTTP"), "higher"),
        row("lookups_while_ingesting", "look-ups/s while ingesting 1,000/s",
            q["lookups"]["events_per_s"], 5000, "goal 5,000", "higher"),
        row("lookups_p99", "look-ups: p99 (ms) while ingesting 1,000/s",
            q["lookups"]["latency_ms"]["p99"], 10, "10 ms", "lower", "{:.2f}"),
        row("e2e_p50", f"accepted → visible as delivered at {l['offered_per_s']:.0f}/s "
            f"(half the {l['sustainable']['events_per_s']:.0f}/s the pipeline sustains): p50 (ms)",
            lat["p50"], 20, f"20 ms (Kafka's own 3 hops: {3 * floor['avg_ms']:.2f} mean)", "lower", "{:.1f}"),
        row("e2e_p99", "the same, p99 (ms)", lat["p99"], 100,
            f"100 ms (Kafka's own 3 hops: {3 * floor['p99_ms']:.0f} at p99)", "lower", "{:.1f}"),
    ]
    return out


def previous_report(results):
    """The report committed at HEAD: its figures by key (or, from the
    markdown of an older report, by label)."""
    rel = pathlib.Path(results).resolve()
    try:
        top = subprocess.run(["git", "-C", str(rel), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        base = rel.relative_to(top)
    except (subprocess.CalledProcessError, ValueError):
        return None, {}

    def show(name):
        shown = subprocess.run(["git", "-C", top, "show", f"HEAD:{base / name}"],
                               capture_output=True, text=True)
        return shown.stdout if shown.returncode == 0 else None

    text = show("report-latest.json")
    if text:
        report = json.loads(text)
        return report["run"], {r["key"]: r for r in report["rows"]}
    text = show("report-latest.md")
    if not text:
        return None, {}
    run = re.search(r"run (\S+)", text)
    old = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("figure", "---"):
            try:
                ratio = float(cells[3]) if cells[3] else None
                ours = float(cells[1])
            except ValueError:
                continue
            old[cells[0]] = {"ours": ours, "ratio": ratio}
    return (run.group(1) if run else None), old


def compare(figure, before):
    """The previous figure and, when the ratio got more than DROP worse, a flag."""
    if not before:
        return "", ""
    was = before.get("ours")
    text = "" if was is None else f"{was:g}"
    old, new = before.get("ratio"), figure["ratio"]
    if old and new is not None:
        change = (new - old) / old if figure["better"] == "higher" else (old - new) / old
        if change < -DROP:
            return text, f"**worse by {-change:.0%}**"
    elif not old and not figure["ceiling"] and was:
        # No ceiling (a raw latency): compare the figures themselves.
        if figure["ours"] > was * (1 + DROP):
            return text, f"**worse by {figure['ours'] / was - 1:.0%}**"
    return text, ""


def main():
    results, run_id, seconds, *paths = sys.argv[1:]
    i, d, q, l = (json.loads(pathlib.Path(p).read_text()) for p in paths)
    previous_run, previous = previous_report(results)
    figures = rows(i, d, q, l)
    lines, flagged = [], 0
    for f in figures:
        was, flag = compare(f, previous.get(f["key"]) or previous.get(f["label"]))
        flagged += bool(flag)
        ratio = "" if f["ratio"] is None else f"{f['ratio']:.2f}"
        lines.append(f"| {f['label']} | {f['ours_text']} | {f['ceiling_text']} | {ratio} | {was} | {flag} |")
    name = lambda p: pathlib.Path(p).stem
    against = f"run {previous_run}" if previous_run else "none committed"
    md = f"""# Benchmark report, run {run_id}

`dev/bench report {seconds}`: each benchmark and the ceiling it is judged by, measured in
this one run on this machine (2 cores shared by Kafka, Postgres, the services and the load
generators). Details: {', '.join(name(p) + '.md' for p in paths)}.

Ratio: ours ÷ ceiling. For throughput higher is better; for a latency or a cost
under a ceiling, at most 1.00 meets it. "Before" is the previous committed
report ({against}); a ratio more than {DROP:.0%} worse than there is flagged.
{flagged} flagged.

| figure | ours | ceiling, same run | ratio | before | change |
|---|---|---|---|---|---|
""" + "\n".join(lines) + "\n"
    report = {"run": run_id, "seconds": float(seconds), "previous": previous_run,
              "details": [name(p) for p in paths], "rows": figures, "flagged": flagged}
    for stem in (f"report-{run_id}", "report-latest"):
        pathlib.Path(results, f"{stem}.md").write_text(md)
        pathlib.Path(results, f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    print(md)


if __name__ == "__main__":
    main()
