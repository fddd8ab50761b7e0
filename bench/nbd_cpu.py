#!/usr/bin/env python3
"""Server CPU time per NBD I/O, qmpd against qemu-storage-daemon (and nbdkit), interleaved.

All servers run at once, each on its own UNIX socket, and stay up for the whole run, so the JVM is
warm and the C servers pay no start-up. For every workload the peers take turns (A, B, A, B ...)
for --rounds rounds; each turn is one fio run (ioengine=nbd), and the server's utime+stime from
/proc/PID/stat is read before and after it. Printed per workload and peer: median IOPS (or MiB/s),
median server CPU microseconds per I/O, and qmpd's ratios to QSD's and nbdkit's.

    qmpd:   --blockdev null-co,read-zeroes=off (or file+raw) --object iothread,id=io0
            --export ...,iothread=io0          (its intended configuration)
    qsd:    the same without iothread=: qemu-storage-daemon 7.2 aborts when a client of an
            iothread export disconnects, which fio's nbd engine does after probing the size
    nbdkit: `null` plugin (null backend) or `file` plugin

Workloads (name: fio job): r32 randread 4k QD32, w32 randwrite 4k QD32, r1p randread 4k QD1 with
fio AND the server pinned to CPU 0 (taskset), s1m sequential read 1M QD8. Python 3 stdlib only.

    bench/nbd_cpu.py [--peers qmpd,qsd,nbdkit] [--backend null|file] [--workloads r32,w32,r1p,s1m]
                     [--rounds 3] [--runtime 5] [--warmup 10]
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
import nbd_bench  # noqa: E402  (reuses its start/stop helpers)

CLK_TCK = os.sysconf("SC_CLK_TCK")
WORKLOADS = {
    "r32": dict(rw="randread", bs="4k", depth=32, pin=False),
    "w32": dict(rw="randwrite", bs="4k", depth=32, pin=False),
    "r1p": dict(rw="randread", bs="4k", depth=1, pin=True),
    "s1m": dict(rw="read", bs="1M", depth=8, pin=False),
}


def server_cmd(peer, backend, image, sock, iothread_opts="", base_root=None):
    if backend == "null":
        blockdev = ["--blockdev", "driver=null-co,node-name=n0,size=1073741824,read-zeroes=off"]
    else:
        blockdev = ["--blockdev", f"driver=file,node-name=f0,filename={image},locking=off",
                    "--blockdev", "driver=raw,node-name=n0,file=f0"]
    export = "type=nbd,id=e0,node-name=n0,name=disk0,writable=on"
    serve = ["--nbd-server", f"addr.type=unix,addr.path={sock}"]
    if peer == "qsd":
        return ["qemu-storage-daemon"] + blockdev + serve + ["--export", export]
    if peer in ("qmpd", "base"):
        root = nbd_bench.ROOT if peer == "qmpd" else base_root
        return ([os.path.join(root, "bin", "qmpd")] + blockdev + ["--object", "iothread,id=io0" + iothread_opts]
                + serve + ["--export", export + ",iothread=io0"])
    plugin = ["null", "1G"] if backend == "null" else ["file", image]
    return ["nbdkit", "--foreground", "--unix", sock, "--exportname", "disk0"] + plugin


def cpu_seconds(pid):
    """utime+stime of every thread of the process, from /proc/PID/stat (fields 14 and 15)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def server_pid(proc):
    """The server process itself: bin/qmpd execs java, so the Popen pid is the JVM's."""
    return proc.pid


def fio(sock, w, runtime, workdir):
    cmd = ["fio", "--name=bench", "--ioengine=nbd", f"--uri=nbd+unix:///disk0?socket={sock}",
           f"--rw={w['rw']}", f"--bs={w['bs']}", f"--iodepth={w['depth']}", "--time_based",
           f"--runtime={runtime}", "--randrepeat=0", "--norandommap", "--output-format=json"]
    if w["pin"]:
        cmd = ["taskset", "-c", "0"] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=workdir, timeout=runtime + 60)
    if out.returncode != 0:
        raise RuntimeError(f"fio failed ({out.returncode}): {out.stderr.strip()}")
    job = json.loads(out.stdout[out.stdout.index("{"):])["jobs"][0]
    side = job["read"] if "read" in w["rw"] else job["write"]
    return side["total_ios"], side["iops"], side["bw_bytes"] / (1 << 20)


def pin(pid, cpus):
    """Pins every thread of pid (the JVM has many) to cpus, e.g. "0" or "0,1"."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, capture_output=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--peers", default="qmpd,qsd,nbdkit", help="any of qmpd,qsd,nbdkit,base")
    p.add_argument("--backend", choices=("null", "file"), default="null")
    p.add_argument("--workloads", default="r32,w32,r1p,s1m")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runtime", type=int, default=5, help="seconds per fio run")
    p.add_argument("--warmup", type=int, default=10, help="seconds of each workload against qmpd first")
    p.add_argument("--iothread-opts", default="", help="appended to qmpd's iothread object, e.g. ,poll-max-ns=0")
    p.add_argument("--base-root", help="another qmpd checkout (e.g. an older commit), run as peer 'base'")
    args = p.parse_args()
    peers = args.peers.split(",")
    loads = args.workloads.split(",")
    workdir = tempfile.mkdtemp(prefix="nbd-cpu-")
    procs = {}
    try:
        image = os.path.join(workdir, "disk.raw")
        if args.backend == "file":
            with open(image, "wb") as f:
                f.truncate(1 << 30)
            nbd_bench.fill(image, 1 << 30)
        for peer in peers:
            sock = os.path.join(workdir, f"{peer}.sock")
            cmd = server_cmd(peer, args.backend, image, sock, args.iothread_opts, args.base_root)
            print(f"# {peer}: {' '.join(cmd)}", file=sys.stderr)
            log = open(os.path.join(workdir, f"{peer}.log"), "w")
            procs[peer] = (subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=workdir), sock)
            nbd_bench.wait_socket(sock, procs[peer][0], 120)
        rows = []
        for name in loads:
            w = WORKLOADS[name]
            for peer in peers:
                pin(server_pid(procs[peer][0]), "0" if w["pin"] else "0,1")
            for jvm in ("qmpd", "base"):
                if jvm in procs and args.warmup:
                    fio(procs[jvm][1], w, args.warmup, workdir)
            res = {peer: [] for peer in peers}
            for rnd in range(args.rounds):
                order = peers if rnd % 2 == 0 else list(reversed(peers))
                for peer in order:
                    proc, sock = procs[peer]
                    c0 = cpu_seconds(server_pid(proc))
                    ios, iops, mib = fio(sock, w, args.runtime, workdir)
                    c1 = cpu_seconds(server_pid(proc))
                    us = (c1 - c0) * 1e6 / max(ios, 1)
                    res[peer].append((iops, mib, us))
                    print(f"#   {name} round {rnd} {peer}: {iops:.0f} IOPS {mib:.0f} MiB/s {us:.2f} us CPU/IO",
                          file=sys.stderr)
            med = {peer: (statistics.median(x[0] for x in r), statistics.median(x[1] for x in r),
                          statistics.median(x[2] for x in r)) for peer, r in res.items()}
            for peer in peers:
                ratio = ""
                if peer == "qmpd":
                    for other in peers:
                        if other != "qmpd":
                            ratio += (f" vs {other}: IOPS {med[peer][0] / med[other][0]:.2f}x,"
                                      f" CPU/IO {med[peer][2] / med[other][2]:.2f}x;")
                rows.append(f"| {name} {w['rw']} {w['bs']} qd{w['depth']}{' pinned' if w['pin'] else ''} | {peer} "
                            f"| {med[peer][0]:.0f} | {med[peer][1]:.0f} | {med[peer][2]:.2f} |{ratio} |")
        print(f"backend {args.backend}, {args.rounds} rounds x {args.runtime} s, medians\n")
        print("| workload | peer | IOPS | MiB/s | server CPU us/IO | qmpd ratios |")
        print("|---|---|---:|---:|---:|---|")
        print("\n".join(rows))
    finally:
        for proc, _ in procs.values():
            nbd_bench.stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
