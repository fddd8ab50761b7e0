#!/usr/bin/env python3
"""QMP round-trip benchmark: qmpd against qemu-storage-daemon (and qemu-system-x86_64 for
query-iothreads, which qemu-storage-daemon 7.2 lacks) in the same run, targets alternated.

Each target is started with N monitors on UNIX sockets (a QMP monitor serves one client at a
time, so concurrency needs several monitors). The load client is qmpd.bench.QmpRoundTrip.

Reports, per target and workload: round trips per second (median of rounds), p50/p99 latency,
server CPU microseconds per command (utime+stime from /proc/PID/stat), the ratio qmpd/peer,
start-to-greeting time and idle RSS. bench/run (the suite) runs the query-version part of this
against qmpd and qemu-storage-daemon; this script adds qemu-system-x86_64 and query-iothreads. Usage:

    bench/qmp_bench.py [--rounds 3] [--seconds 5] [--clients 8] [--out docs/bench-results/qmp.json]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import proc  # noqa: E402
from lib.proc import ROOT, cpu_seconds, java_home, rss_kib  # noqa: E402
from lib.qmp import Target, monitor_args, run_load  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--warmup", type=float, default=10, help="seconds of load on qmpd before measuring")
    ap.add_argument("--out", default=None)
    a = ap.parse_args()

    jh = java_home()
    java = os.path.join(jh, "bin", "java")
    proc.build()
    jar = os.path.join(ROOT, proc.BENCH_JAR_REL)
    work = tempfile.mkdtemp(prefix="qmp-bench-")

    # bin/qmpd, as users start it: its JVM flags and its start-up cache (created before the
    # first measured start, so no target's start-up includes a training run).
    launcher = os.path.join(ROOT, "bin", "qmpd")
    subprocess.run([launcher, "--version"], check=True, stdout=subprocess.DEVNULL)
    targets = {
        "qmpd": lambda s: [launcher] + monitor_args(s) + ["--object", "iothread,id=io0"],
    }
    if shutil.which("qemu-storage-daemon"):
        targets["qemu-storage-daemon"] = lambda s: ["qemu-storage-daemon"] + monitor_args(s) + \
            ["--object", "iothread,id=io0"]
    if shutil.which("qemu-system-x86_64"):
        targets["qemu-system-x86_64"] = lambda s: ["qemu-system-x86_64", "-M", "none", "-nodefaults",
                                                   "-display", "none", "-object", "iothread,id=io0"] + \
            [x for i, p in enumerate(s) for x in ("-qmp", f"unix:{p},server=on,wait=off")]
    workloads = [("query-version", 1), ("query-version", a.clients),
                 ("query-iothreads", 1), ("query-iothreads", a.clients)]
    results = {}   # (target, command, clients) -> list of rounds
    meta = {}
    try:
        for name, argv in targets.items():
            t = Target(name, argv, work, a.clients)
            t.start()
            time.sleep(1.0)
            meta[name] = {"start_to_greeting_s": round(t.start_s, 3), "idle_rss_kib": rss_kib(t.proc.pid)}
            if name == "qmpd" and a.warmup > 0:
                run_load(java, jar, "query-version", t.sockets, a.warmup)
            t.stop()
        for rnd in range(a.rounds):
            for command, clients in workloads:
                for name, argv in targets.items():
                    if name == "qemu-storage-daemon" and command == "query-iothreads":
                        continue   # not a command of qemu-storage-daemon 7.2
                    if name == "qemu-system-x86_64" and command == "query-version":
                        continue   # the storage daemon is the peer for this one
                    t = Target(name, argv, work, clients)
                    t.start()
                    if name == "qmpd":
                        run_load(java, jar, command, t.sockets, min(a.warmup, 5))
                    c0 = cpu_seconds(t.proc.pid)
                    r = run_load(java, jar, command, t.sockets, a.seconds)
                    r["cpu_us_per_cmd"] = (cpu_seconds(t.proc.pid) - c0) * 1e6 / max(1, r["round_trips"])
                    t.stop()
                    results.setdefault((name, command, clients), []).append(r)
                    print(f"round {rnd + 1} {name:20s} {command:16s} x{clients}: {r['rate']:>8.0f}/s "
                          f"p50 {r['p50_us']:.0f}us cpu {r['cpu_us_per_cmd']:.1f}us/cmd", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for (name, command, clients), rs in results.items():
        rates = [r["rate"] for r in rs]
        rows.append({"target": name, "command": command, "clients": clients,
                     "rate_median": statistics.median(rates), "rate_min": min(rates), "rate_max": max(rates),
                     "p50_us": statistics.median(r["p50_us"] for r in rs),
                     "p99_us": statistics.median(r["p99_us"] for r in rs),
                     "cpu_us_per_cmd": statistics.median(r["cpu_us_per_cmd"] for r in rs),
                     "errors": sum(r["errors"] for r in rs)})
    doc = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "rounds": a.rounds,
           "seconds": a.seconds, "nproc": os.cpu_count(), "targets": meta, "rows": rows}
    text = json.dumps(doc, indent=2)
    if a.out:
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            f.write(text + "\n")
    print(text)
    # Markdown table with ratios against the peer for each workload.
    print("\n| command | clients | target | rate/s (median, min-max) | p50 µs | p99 µs | CPU µs/cmd | qmpd rate ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for row in sorted(rows, key=lambda r: (r["command"], r["clients"], r["target"] != "qmpd")):
        q = next((x for x in rows if x["target"] == "qmpd" and x["command"] == row["command"]
                  and x["clients"] == row["clients"]), None)
        ratio = "" if row["target"] == "qmpd" or q is None else f"{q['rate_median'] / row['rate_median']:.1f}x"
        print(f"| {row['command']} | {row['clients']} | {row['target']} | {row['rate_median']:.0f} "
              f"({row['rate_min']:.0f}-{row['rate_max']:.0f}) | {row['p50_us']:.0f} | {row['p99_us']:.0f} | "
              f"{row['cpu_us_per_cmd']:.1f} | {ratio} |")
    for name, m in meta.items():
        print(f"\n{name}: start to greeting {m['start_to_greeting_s']} s, idle RSS {m['idle_rss_kib'] / 1024:.0f} MiB",
              end="")
    print()


if __name__ == "__main__":
    main()
