"""Samples the sandbox target's /stats for dev/bench delivery.

drain URL BACKLOG_JSON PID   rate at which the target takes new items while a
                             backlog drains (after 3 s of warm-up, until it stops),
                             and the CPU time process PID (the dispatcher) used
                             meanwhile
limited URL LIMIT SECONDS    share of LIMIT used over SECONDS, after 5 s of warm-up
rate URL SECONDS             rate at which the target takes new items over SECONDS,
                             after 5 s of warm-up (a whole pipeline under load)
reach URL COUNT              waits until the target has taken COUNT items in all
Prints one JSON object.
"""
import json
import os
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


def cpu_seconds(pid):
    """User + system CPU time of a process so far."""
    with open(f"/proc/{pid}/stat") as stat:
        # Fields after the parenthesised command name; utime and stime are 14 and 15.
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def drain(url, backlog_file, pid):
    backlog = json.load(open(backlog_file))["accepted"]
    await_first_delivery(url, 600)
    time.sleep(3)
    start_t, start_n, start_cpu = time.time(), stats(url)["accepted"], cpu_seconds(pid)
    last_n, last_t, last_cpu = start_n, start_t, start_cpu
    while True:
        time.sleep(1)
        n = stats(url)["accepted"]
        now, cpu = time.time(), cpu_seconds(pid)
        if n == last_n or n >= backlog:
            break
        last_n, last_t, last_cpu = n, now, cpu
    delivered = last_n - start_n
    print(json.dumps({
        "events_per_s": delivered / max(last_t - start_t, 1e-9),
        "seconds": last_t - start_t,
        "dispatcher_cpu_s": last_cpu - start_cpu,
        "events_per_dispatcher_cpu_s": delivered / max(last_cpu - start_cpu, 1e-9),
        "delivered": stats(url)["accepted"],
        "backlog": backlog,
    }))


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
        "max_window_began_s": s1["max_window_began_ms"] / 1000,
    }))


def rate(url, seconds):
    await_first_delivery(url, 120)
    time.sleep(5)
    n0, t0 = stats(url)["accepted"], time.time()
    time.sleep(seconds)
    n1, t1 = stats(url)["accepted"], time.time()
    print(json.dumps({"seconds": t1 - t0, "delivered": n1 - n0, "events_per_s": (n1 - n0) / (t1 - t0)}))


def reach(url, count, patience_s=600):
    deadline = time.time() + patience_s
    while (n := stats(url)["accepted"]) < count:
        if time.time() > deadline:
            raise SystemExit(f"the target took {n} of {count} items")
        time.sleep(0.5)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "drain":
        drain(sys.argv[2], sys.argv[3], sys.argv[4])
    elif mode == "rate":
        rate(sys.argv[2], float(sys.argv[3]))
    elif mode == "reach":
        reach(sys.argv[2], int(sys.argv[3]))
    elif mode == "limited":
        limited(sys.argv[2], float(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(__doc__)
