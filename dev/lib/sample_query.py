"""Samples the query service's /metrics for dev/bench query.

projection URL EXPECTED   records/s at which the projector catches up on a
                          backlog of EXPECTED records (raw + status), from its
                          first written batch to the last
lag URL SECONDS           orch_projection_lag_seconds, sampled every 0.5 s for SECONDS
Prints one JSON object.
"""
import json
import sys
import time
import urllib.request


def metric(url, name):
    """The value of an unlabelled metric, or 0 before it is first recorded."""
    with urllib.request.urlopen(url, timeout=5) as response:
        for line in response.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[-1])
    return 0.0


def projection(url, expected):
    deadline = time.time() + 600
    while (first := metric(url, "orch_projection_batch_records_sum")) == 0:
        if time.time() > deadline:
            raise SystemExit("the projector never wrote a batch")
        time.sleep(0.05)
    t0 = time.time()
    while (done := metric(url, "orch_projection_batch_records_sum")) < expected:
        if time.time() > deadline:
            raise SystemExit(f"the projector stopped at {done:.0f} of {expected} records")
        time.sleep(0.05)
    seconds = time.time() - t0
    return {"records": expected, "seconds": seconds, "records_per_s": (expected - first) / seconds}


def lag(url, seconds):
    samples = []
    end = time.time() + seconds
    while time.time() < end:
        samples.append(metric(url, "orch_projection_lag_seconds"))
        time.sleep(0.5)
    samples.sort()
    return {
        "samples": len(samples),
        "p50_s": samples[len(samples) // 2],
        "p99_s": samples[min(len(samples) - 1, int(len(samples) * 0.99))],
        "max_s": samples[-1],
    }


def main():
    mode, url, arg = sys.argv[1:4]
    if mode == "projection":
        print(json.dumps(projection(url, int(arg))))
    elif mode == "lag":
        print(json.dumps(lag(url, float(arg))))
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
