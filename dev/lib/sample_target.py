"""Samples the sandbox target's /stats for dev/bench delivery.

drain URL BACKLOG_JSON       rate at which the target takes new items while a
                             backlog drains (after 3 s of warm-up, until it stops)
limited URL LIMIT SECONDS    share of LIMIT used over SECONDS, after 5 s of warm-up
Prints one JSON object.
"""
import json
import sys
import time
import urllib.request


def stats(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.load(response)


def await_first_delivery(url, patience_s):
    deadline = time.time() + patience_s
    while stats(url)["accepted"] == 0:
        if time.time() > deadline:
            raise SystemExit("the dispatcher never delivered anything")
        time.sleep(0.2)


def drain(url, backlog_file):
    backlog = json.load(open(backlog_file))["accepted"]
    await_first_delivery(url, 600)
    time.sleep(3)
    start_t, start_n = time.time(), stats(url)["accepted"]
    last_n, last_t = start_n, start_t
    while True:
        time.sleep(1)
        n = stats(url)["accepted"]
        now = time.time()
        if n == last_n or n >= backlog:
            break
        last_n, last_t = n, now
    rate = (last_n - start_n) / max(last_t - start_t, 1e-9)
    print(json.dumps({"events_per_s": rate, "delivered": stats(url)["accepted"], "backlog": backlog}))


def limited(url, limit, seconds):
    await_first_delivery(url, 120)
    time.sleep(5)
    s0, t0 = stats(url), time.time()
    time.sleep(seconds)
    s1, t1 = stats(url), time.time()
    accepted = s1["accepted"] - s0["accepted"]
    print(json.dumps({
        "seconds": t1 - t0,
        "accepted": accepted,
        "share_used": accepted / (limit * (t1 - t0)),
        "rejected_for_rate": s1["rate_limited"],
        "max_in_window": s1["max_in_window"],
        "window_ms": s1["window_ms"],
    }))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "drain":
        drain(sys.argv[2], sys.argv[3])
    else:
        limited(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
