#!/usr/bin/env python3
"""NBD data-path benchmark: qmpd against qemu-storage-daemon, with nbdkit as a third peer.

The suite (bench/run) supersedes this script: it keeps each server running across workloads,
alternates targets within rounds and measures server CPU per I/O. This one restarts every server
for every job; it stays for the commands quoted in docs/benchmarks.md sections 1-2.

qemu-storage-daemon and qmpd get the SAME command line (qmpd as `bin/qmpd <args>`):

    --blockdev driver=null-co,node-name=n0,size=1G,read-zeroes=off   (--backend null, the default)
    --blockdev driver=file,node-name=f0,filename=IMG,locking=off     (--backend file: a sparse temp file,
    --blockdev driver=raw,node-name=n0,file=f0                   filled once so reads hit data)
    --object iothread,id=io0
    --nbd-server addr.type=unix,addr.path=SOCK
    --export type=nbd,id=e0,node-name=n0,name=disk0,writable=on,iothread=io0

nbdkit serves the same size: `nbdkit --unix SOCK memory 1G` or `nbdkit --unix SOCK file IMG`.

Each peer is started alone (afresh for every job), then fio (ioengine=nbd) runs 4k randread and randwrite at iodepth 1
and 32 for --runtime seconds each (plus a 1 s ramp). Prints a Markdown table: IOPS, completion
latency p50/p99, and the IOPS ratio qmpd/QSD. Python 3 standard library only. Usage:

    bench/nbd_bench.py [--peers qsd,nbdkit,qmpd] [--backend null|file] [--runtime 10] [--size 1G]
                       [--iothread on|off]

qemu-storage-daemon 7.2 (Debian 12) aborts on the first client disconnect from an iothread export
(an assertion in blockdev-nbd.c), and fio's nbd engine always opens and closes one connection to
learn the size: with that QSD, run with --iothread off (both daemons then serve from the main loop).
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import fio as fiolib  # noqa: E402
from lib import targets  # noqa: E402
from lib.proc import ROOT, size_bytes, stop, tail, wait_socket  # noqa: E402,F401

PEERS = ("qsd", "nbdkit", "qmpd")
WORKLOADS = (("randread", 1), ("randread", 32), ("randwrite", 1), ("randwrite", 32))


def qsd_args(backend, image, size, sock, iothread=True):
    """The qemu-storage-daemon command line, which qmpd takes verbatim (bench/lib/targets.py)."""
    return targets.qsd_args(backend, image, size, sock, iothread)


def command(peer, backend, image, size, sock, iothread):
    if peer == "qsd":
        return ["qemu-storage-daemon"] + qsd_args(backend, image, size, sock, iothread)
    if peer == "qmpd":
        return [os.path.join(ROOT, "bin", "qmpd")] + qsd_args(backend, image, size, sock, iothread)
    plugin = ["memory", str(size)] if backend == "null" else ["file", image]
    return ["nbdkit", "--foreground", "--unix", sock, "--exportname", "disk0"] + plugin


def fio(uri, rw, depth, runtime, workdir):
    """fio 4k rw at depth against uri after a 1 s ramp (the server was just started)."""
    w = fiolib.by_key(f"{rw}-4k-qd{depth}")
    return fiolib.run(w, runtime, workdir, nbd_uri=uri, ramp=1)


def fill(image, size):
    """Writes the whole image once, so file-backend reads hit allocated data, not holes."""
    subprocess.run(["fio", "--name=fill", f"--filename={image}", "--rw=write", "--bs=1M",
                    f"--size={size}", "--ioengine=psync", "--output=/dev/null"], check=True)


def run_peer(peer, args, workdir, image):
    """Runs every workload against a fresh server: qemu-storage-daemon 7.2 aborts when a client of
    an iothread export disconnects (blockdev-nbd.c nbd_blockdev_client_closed asserts it runs in
    the main thread), so each fio job gets its own server, for every peer alike."""
    sock = os.path.join(workdir, f"{peer}.sock")
    cmd = command(peer, args.backend, image, args.size, sock, args.iothread == "on")
    print(f"# {peer}: {' '.join(cmd)}", file=sys.stderr)
    results = {}
    for rw, depth in WORKLOADS:
        if os.path.exists(sock):
            os.unlink(sock)
        with open(os.path.join(workdir, f"{peer}.log"), "a") as log:
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir)
            try:
                wait_socket(sock, proc, args.start_timeout)
                try:
                    r = fio(f"nbd+unix:///disk0?socket={sock}", rw, depth, args.runtime, workdir)
                except RuntimeError:
                    if proc.poll() is not None:
                        raise RuntimeError(f"{peer} died during {rw} qd{depth} (exit {proc.returncode}); "
                                           f"its log: {tail(log.name)}"
                                           + ("; qemu-storage-daemon 7.2 aborts when a client of an iothread "
                                              "export disconnects, and fio's nbd engine opens a connection "
                                              "just to read the size: try --iothread off" if peer == "qsd" else ""))
                    raise
            finally:
                stop(proc)
        results[(rw, depth)] = r
        print(f"#   {rw} qd{depth}: {r['iops']:.0f} IOPS p50 {r['p50_us']:.1f} us p99 {r['p99_us']:.1f} us",
              file=sys.stderr)
    return results


def table(results, peers):
    lines = ["| workload | peer | IOPS | p50 (us) | p99 (us) | qmpd/QSD IOPS |",
             "|---|---|---:|---:|---:|---:|"]
    for rw, depth in WORKLOADS:
        for peer in peers:
            r = results[peer][(rw, depth)]
            ratio = ""
            if peer == "qmpd" and "qsd" in results:
                base = results["qsd"][(rw, depth)]["iops"]
                ratio = f"{r['iops'] / base:.2f}" if base else "n/a"
            lines.append(f"| 4k {rw} qd{depth} | {peer} | {r['iops']:.0f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | {ratio} |")
    return "\n".join(lines)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of qsd,nbdkit,qmpd")
    p.add_argument("--backend", choices=("null", "file"), default="null")
    p.add_argument("--runtime", type=int, default=10, help="seconds per fio job")
    p.add_argument("--size", default="1G", help="export size")
    p.add_argument("--iothread", choices=("on", "off"), default="on",
                   help="serve the export in iothread io0 (qsd and qmpd alike); qemu-storage-daemon 7.2 "
                        "needs off, see run_peer")
    p.add_argument("--start-timeout", type=float, default=60.0)
    args = p.parse_args()
    peers = [x.strip() for x in args.peers.split(",") if x.strip()]
    for peer in peers:
        if peer not in PEERS:
            p.error(f"unknown peer {peer!r}")
    for tool in ["fio"] + [{"qsd": "qemu-storage-daemon", "nbdkit": "nbdkit"}[x] for x in peers if x != "qmpd"]:
        if shutil.which(tool) is None:
            p.error(f"{tool} is not installed")
    args.size = size_bytes(args.size)

    workdir = tempfile.mkdtemp(prefix="nbd-bench-")
    try:
        image = os.path.join(workdir, "disk.raw")
        if args.backend == "file":
            with open(image, "wb") as f:
                f.truncate(args.size)
            fill(image, args.size)
        results = {}
        for peer in peers:
            results[peer] = run_peer(peer, args, workdir, image)
        print(f"NBD 4k random I/O, backend {args.backend}, iothread {args.iothread}, {args.runtime} s per job, "
              f"export {args.size >> 20} MiB, fio ioengine=nbd over a UNIX socket\n")
        print(table(results, peers))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
