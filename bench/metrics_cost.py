#!/usr/bin/env python3
"""What metrics cost on the I/O path: fio 4k random reads at queue depth 32 through an NBD export
in an IOThread (null-co), against qmpd without an HTTP listener (nothing scrapes; the core keeps
its counters either way) and with one that a scraper reads every --scrape-ms milliseconds (10x
a usual Prometheus interval by default), alternated in the same run. Prints the median IOPS of
each and their ratio. Usage:

    bench/metrics_cost.py [--rounds 5] [--runtime 8] [--scrape-ms 100]
"""
import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import fio, proc, targets  # noqa: E402

ROOT = proc.ROOT


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scraper(port, period, stop, counts):
    url = f"http://127.0.0.1:{port}/metrics"
    while not stop.is_set():
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                r.read()
            counts[0] += 1
        except OSError:
            pass
        stop.wait(period)


def run(metrics_on, args, workdir):
    sock = os.path.join(workdir, "qmpd.sock")
    if os.path.exists(sock):
        os.unlink(sock)
    cmd = [os.path.join(ROOT, "bin", "qmpd")] + targets.qsd_args("null", None, 1 << 30, sock, True)
    port = free_port()
    if metrics_on:
        cmd += ["--http", f"host=127.0.0.1,port={port}"]
    with open(os.path.join(workdir, "qmpd.log"), "a") as log:
        server = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
        stop = threading.Event()
        counts = [0]
        try:
            proc.wait_socket(sock, server, 60)
            t = None
            if metrics_on:
                t = threading.Thread(target=scraper, args=(port, args.scrape_ms / 1000.0, stop, counts), daemon=True)
                t.start()
            r = fio.run(fio.by_key("randread-4k-qd32"), args.runtime, workdir,
                      nbd_uri=f"nbd+unix:///disk0?socket={sock}", ramp=1)
        finally:
            stop.set()
            proc.stop(server)
    return r["iops"], counts[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--runtime", type=int, default=8)
    p.add_argument("--scrape-ms", type=int, default=100)
    args = p.parse_args()
    off, on, scrapes = [], [], []
    with tempfile.TemporaryDirectory(prefix="metrics-cost-") as workdir:
        for i in range(args.rounds):
            # Alternate which goes first, so drift on the shared machine hits both alike.
            order = (False, True) if i % 2 == 0 else (True, False)
            for m in order:
                iops, n = run(m, args, workdir)
                (on if m else off).append(iops)
                if m:
                    scrapes.append(n)
                print(f"round {i + 1} metrics {'on ' if m else 'off'}: {iops:.0f} IOPS"
                      + (f" ({n} scrapes)" if m else ""), file=sys.stderr)
    mon, moff = statistics.median(on), statistics.median(off)
    print("| metrics | 4k randread qd32 IOPS (median of %d) | min-max |" % args.rounds)
    print("|---|---:|---|")
    print(f"| off (no listener) | {moff:.0f} | {min(off):.0f}-{max(off):.0f} |")
    print(f"| on, scraped every {args.scrape_ms} ms | {mon:.0f} | {min(on):.0f}-{max(on):.0f} |")
    print(f"\non/off = {mon / moff:.3f} ({(mon / moff - 1) * 100:+.1f} %), "
          f"{statistics.median(scrapes):.0f} scrapes per run")


if __name__ == "__main__":
    main()
