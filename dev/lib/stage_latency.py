#!/usr/bin/env python3
"""Where the end-to-end time goes, from the services' own histograms.

  stage_latency.py scrape OUT.json URL...
      saves each URL's Prometheus text under OUT.json
  stage_latency.py quantiles BEFORE.json AFTER.json METRIC...
      prints {metric: {count, p50_ms, p99_ms}} for what was recorded between
      the two scrapes (bucket counts subtracted, every label set summed, the
      quantile interpolated inside its bucket as histogram_quantile does)

Used by `dev/bench latency` to split accepted -> visible into its stages.
"""
import json
import re
import sys
import urllib.request

BUCKET = re.compile(r'^(\w+)_bucket\{(.*)\} (\S+)$')
LE = re.compile(r'le="([^"]+)"')


def scrape(out, urls):
    texts = {}
    for url in urls:
        with urllib.request.urlopen(url, timeout=10) as response:
            texts[url] = response.read().decode()
    with open(out, "w") as f:
        json.dump(texts, f)


def buckets(texts, metric):
    """Cumulative count per upper bound, summed over label sets."""
    totals = {}
    for text in texts.values():
        for line in text.splitlines():
            match = BUCKET.match(line)
            if not match or match.group(1) != metric:
                continue
            le = LE.search(match.group(2)).group(1)
            bound = float("inf") if le == "+Inf" else float(le)
            totals[bound] = totals.get(bound, 0.0) + float(match.group(3))
    return totals


def quantile(q, cumulative):
    """histogram_quantile over sorted (bound, cumulative count) pairs."""
    if not cumulative or cumulative[-1][1] == 0:
        return None
    rank = q * cumulative[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in cumulative:
        if count >= rank:
            if bound == float("inf"):
                return lower
            inside = count - below
            return lower + (bound - lower) * ((rank - below) / inside if inside else 0)
        lower, below = bound, count
    return lower


def quantiles(before_file, after_file, metrics):
    before, after = (json.load(open(f)) for f in (before_file, after_file))
    result = {}
    for metric in metrics:
        start, end = buckets(before, metric), buckets(after, metric)
        cumulative = sorted((b, end[b] - start.get(b, 0.0)) for b in end)
        q50, q99 = quantile(0.5, cumulative), quantile(0.99, cumulative)
        result[metric] = {
            "count": int(cumulative[-1][1]) if cumulative else 0,
            "p50_ms": None if q50 is None else q50 * 1000,
            "p99_ms": None if q99 is None else q99 * 1000,
        }
    json.dump(result, sys.stdout, indent=2)
    print()


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "scrape":
        scrape(sys.argv[2], sys.argv[3:])
    elif len(sys.argv) >= 5 and sys.argv[1] == "quantiles":
        quantiles(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(__doc__)
