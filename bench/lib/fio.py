"""fio jobs: the workloads of the suite and one run of fio reduced to the figures we report."""
import json
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class Workload:
    """One fio job shape. numjobs > 1 with the nbd engine means one NBD connection per job."""
    key: str            # stable id used in the JSON and the plots, e.g. "randread-4k-qd32"
    label: str          # for tables
    rw: str
    bs: str
    iodepth: int
    numjobs: int = 1
    rwmixread: int = 0  # only for rw=randrw
    pinned: bool = False  # client and server on CPU 0 (taskset -c 0)


WORKLOADS = (
    Workload("randread-4k-qd1", "4k randread QD1 (pinned)", "randread", "4k", 1, pinned=True),
    Workload("randread-4k-qd8", "4k randread QD8", "randread", "4k", 8),
    Workload("randread-4k-qd32", "4k randread QD32", "randread", "4k", 32),
    Workload("randwrite-4k-qd1", "4k randwrite QD1 (pinned)", "randwrite", "4k", 1, pinned=True),
    Workload("randwrite-4k-qd8", "4k randwrite QD8", "randwrite", "4k", 8),
    Workload("randwrite-4k-qd32", "4k randwrite QD32", "randwrite", "4k", 32),
    Workload("read-64k-qd8", "64k seq read QD8", "read", "64k", 8),
    Workload("read-1m-qd8", "1M seq read QD8", "read", "1M", 8),
    Workload("randrw70-4k-qd8", "4k randrw 70/30 QD8", "randrw", "4k", 8, rwmixread=70),
    Workload("randread-4k-4x8", "4k randread 4 conn. x QD8", "randread", "4k", 8, numjobs=4),
)

# The one workload of --smoke: every target can serve it, it needs no pinning.
SMOKE_WORKLOADS = ("randread-4k-qd8",)


def by_key(key):
    for w in WORKLOADS:
        if w.key == key:
            return w
    raise KeyError(key)


def command(w, runtime, nbd_uri=None, filename=None, prefix=(), ramp=0):
    """The fio command line for w against an NBD URI (ioengine=nbd) or directly on a file
    (psync at depth 1, libaio deeper). Reads and writes are reported as one ("mixed") side."""
    cmd = list(prefix) + ["fio", "--name=w", f"--rw={w.rw}", f"--bs={w.bs}", f"--iodepth={w.iodepth}",
                          f"--numjobs={w.numjobs}", "--group_reporting", "--time_based", f"--runtime={runtime}",
                          "--randrepeat=0", "--norandommap", "--unified_rw_reporting=mixed",
                          "--percentile_list=50:99:99.9", "--output-format=json"]
    if ramp:
        cmd.append(f"--ramp_time={ramp}")   # only for a server started just before the job
    if w.rwmixread:
        cmd.append(f"--rwmixread={w.rwmixread}")
    if nbd_uri is not None:
        cmd += ["--ioengine=nbd", f"--uri={nbd_uri}"]
    else:
        cmd += [f"--ioengine={'psync' if w.iodepth == 1 else 'libaio'}", f"--filename={filename}"]
    return cmd


def run(w, runtime, cwd, nbd_uri=None, filename=None, prefix=(), ramp=0):
    """Runs fio once; returns IOPS, bandwidth, I/O count and completion-latency percentiles (µs)."""
    cmd = command(w, runtime, nbd_uri, filename, prefix, ramp)
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=runtime + ramp + 60)
    if out.returncode != 0:
        raise RuntimeError(f"fio failed ({out.returncode}): {out.stderr.strip()[-500:]}")
    job = json.loads(out.stdout[out.stdout.index("{"):])["jobs"][0]
    if job.get("error", 0):
        raise RuntimeError(f"fio reported error {job['error']}")
    side = job["mixed"]
    pct = side["clat_ns"].get("percentile", {})
    return {"iops": side["iops"], "bw_mib_s": side["bw_bytes"] / (1 << 20), "ios": side["total_ios"],
            "p50_us": pct.get("50.000000", 0) / 1000.0, "p99_us": pct.get("99.000000", 0) / 1000.0,
            "p99_9_us": pct.get("99.900000", 0) / 1000.0}
