#!/usr/bin/env python3
"""What metrics cost on the I/O path.

Two qmpd processes run side by side with the same null-co node exported over NBD from IOThread
io0: one without an HTTP listener (metrics off: nothing renders or serves meters; the core keeps
its counters either way, as it always does) and one with `--http`, scraped every --scrape-ms
milliseconds while it is measured (metrics on). Both are warmed up first (--warmup seconds of
the same workload), then fio runs 4k random reads at queue depth 32 against each in turn,
alternating which goes first, for --rounds rounds. Each run reports IOPS and the server's CPU
time per I/O (utime+stime of the process from /proc/PID/stat over the run, divided by the
I/Os fio completed), which is far less noisy than IOPS on a shared 2-CPU machine where fio
itself takes about half of the CPU. The scraper only runs while the metrics-on server is
measured, so its own CPU never slows the other.

It also measures what one scrape costs the server (CPU per scrape, idle), so the cost at any
scrape interval follows: cost = CPU per scrape / interval.

    bench/metrics_cost.py [--rounds 9] [--runtime 8] [--warmup 15] [--scrape-ms 1000]
"""
import argparse
import http.client
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import fio as fiolib, proc, targets  # noqa: E402

ROOT = proc.ROOT
WORKLOAD = fiolib.by_key("randread-4k-qd32")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


cpu_seconds = proc.cpu_seconds


class Scraper:
    """Fetches /metrics over one keep-alive connection every `period` seconds while started."""

    def __init__(self, port, period):
        self.port, self.period = port, period
        self.count = 0
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def stop(self):
        self._stop.set()
        self._thread.join()

    def _run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        while not self._stop.is_set():
            conn.request("GET", "/metrics")
            body = conn.getresponse().read()
            if b"qmpd_block_operations_total" not in body:
                raise RuntimeError("scrape without block meters")
            self.count += 1
            self._stop.wait(self.period)


def fio(sock, runtime, workdir, ramp=1):
    r = fiolib.run(WORKLOAD, runtime, workdir, nbd_uri=f"nbd+unix:///disk0?socket={sock}", ramp=ramp)
    return r["iops"], r["ios"]


class Target:
    def __init__(self, name, workdir, http_port):
        self.name = name
        self.sock = os.path.join(workdir, f"{name}.sock")
        cmd = [os.path.join(ROOT, "bin", "qmpd")] + targets.qsd_args("null", None, 1 << 30, self.sock, True)
        if http_port:
            cmd += ["--http", f"host=127.0.0.1,port={http_port}"]
        self.log = open(os.path.join(workdir, f"{name}.log"), "a")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=workdir)
        proc.wait_socket(self.sock, self.proc, 120)

    def measure(self, runtime, workdir):
        c0, t0 = cpu_seconds(self.proc.pid), time.monotonic()
        iops, ios = fio(self.sock, runtime, workdir, ramp=0)
        c1, t1 = cpu_seconds(self.proc.pid), time.monotonic()
        return iops, (c1 - c0) * 1e6 / ios

    def close(self):
        proc.stop(self.proc)
        self.log.close()


def scrape_cost(target, port, scrapes):
    """Server CPU per scrape with no I/O running, after as many warm-up scrapes."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(scrapes):
        conn.request("GET", "/metrics")
        conn.getresponse().read()
    c0 = cpu_seconds(target.proc.pid)
    t0 = time.monotonic()
    for _ in range(scrapes):
        conn.request("GET", "/metrics")
        body = conn.getresponse().read()
    c1 = cpu_seconds(target.proc.pid)
    idle0 = cpu_seconds(target.proc.pid)
    time.sleep(2)
    idle = (cpu_seconds(target.proc.pid) - idle0) / 2
    return (c1 - c0) / scrapes - idle * (time.monotonic() - t0) / scrapes, len(body)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=9)
    p.add_argument("--runtime", type=int, default=8)
    p.add_argument("--warmup", type=int, default=15)
    p.add_argument("--scrape-ms", type=int, default=1000)
    p.add_argument("--cost-scrapes", type=int, default=1000)
    args = p.parse_args()
    port = free_port()
    runs = {"off": [], "on": []}
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as workdir:
        off = Target("off", workdir, None)
        on = Target("on", workdir, port)
        scraper = Scraper(port, args.scrape_ms / 1000.0)
        try:
            for t in (off, on):
                fio(t.sock, args.warmup, workdir)
            per_scrape, body = scrape_cost(on, port, args.cost_scrapes)
            for i in range(args.rounds):
                for name in (("off", "on") if i % 2 == 0 else ("on", "off")):
                    if name == "on":
                        scraper.start()
                        r = on.measure(args.runtime, workdir)
                        scraper.stop()
                    else:
                        r = off.measure(args.runtime, workdir)
                    runs[name].append(r)
                    print(f"round {i + 1} metrics {name:3}: {r[0]:.0f} IOPS, {r[1]:.2f} us CPU/IO", file=sys.stderr)
        finally:
            off.close()
            on.close()
    med = {k: (statistics.median(x[0] for x in v), statistics.median(x[1] for x in v)) for k, v in runs.items()}
    spread = {k: (min(x[0] for x in v), max(x[0] for x in v), min(x[1] for x in v), max(x[1] for x in v))
              for k, v in runs.items()}
    print(f"| metrics | IOPS (median of {args.rounds}) | min-max | server CPU us/IO (median) | min-max |")
    print("|---|---:|---|---:|---|")
    for k, label in (("off", "off (no HTTP listener)"), ("on", f"on, scraped every {args.scrape_ms} ms")):
        s = spread[k]
        print(f"| {label} | {med[k][0]:.0f} | {s[0]:.0f}-{s[1]:.0f} | {med[k][1]:.2f} | {s[2]:.2f}-{s[3]:.2f} |")
    iops_delta = (med["on"][0] / med["off"][0] - 1) * 100
    cpu_delta = (med["on"][1] / med["off"][1] - 1) * 100
    print(f"\nIOPS on/off {iops_delta:+.1f} %, server CPU per I/O on/off {cpu_delta:+.1f} %, "
          f"{scraper.count} scrapes in the measured runs")
    print(f"one scrape ({body} bytes) costs the server {per_scrape * 1e3:.2f} ms CPU: "
          f"{per_scrape / (args.scrape_ms / 1000.0) * 100:.2f} % of one CPU at this interval, "
          f"{per_scrape / 15 * 100:.3f} % at Prometheus' usual 15 s")


if __name__ == "__main__":
    main()
