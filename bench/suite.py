#!/usr/bin/env python3
"""The side-by-side benchmark suite: one command that builds qmpd, runs every target over the same
back-ends with the same fio client, and writes JSON, a Markdown report and plots.

    bench/run                       # full suite: JSON in docs/bench/, report into docs/benchmarks.md
    bench/run --smoke --out DIR     # ~20 s check that every target answers (CI); never touches docs/
    bench/run --report-only docs/bench/results-XXXX.json   # regenerate the report from a JSON

Targets, each on a UNIX socket:
  qmpd           export in IOThread io0 (started as bin/qmpd with QSD's command line)
  qsd            qemu-storage-daemon 7.2 with the same command line WITHOUT iothread= (7.2 aborts
                 when a client of an iothread export disconnects; fio's nbd engine always opens and
                 closes a probe connection first)
  nbdkit         nbdkit's null plugin (null back-end) or file plugin (file back-end), 16 threads
  fio-direct     fio on the image itself (psync at QD1, libaio deeper): the physical limit (file only)
Back-ends: null-co 1 GiB with read-zeroes=off (data is sent), and a raw 1 GiB file of random data
read once before each round so it sits in the page cache (locking=off: several servers open it).

Method (docs/benchmarks.md says the same for readers): every target of a back-end is started once
and kept running over all its workloads and rounds; qmpd (only) gets a JIT warm-up of every workload
in turn (--warmup seconds in total, 10 s or more by default) before the first measured run. Within a
round each workload runs on every target in turn (A, B, C, A, B, C; the starting target rotates
with the round); figures are medians over rounds with min-max spread. QD1 jobs are pinned: the
server's threads (taskset -a -p) and fio both on CPU 0. Server CPU per I/O is utime+stime of the
whole server process (/proc/PID/stat) over the fio run divided by fio's I/O count; it includes the
probe connection fio's nbd engine makes before each job. RSS is VmRSS after the run, and VmHWM.
"""
import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import fio, proc, qmp, report, targets  # noqa: E402

ROOT = proc.ROOT

# Command the suite needs -> Debian package that provides it.
PACKAGES = {"fio": "fio", "nbdkit": "nbdkit", "qemu-storage-daemon": "qemu-system-common",
            "taskset": "util-linux", "mvn": "maven"}


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def ensure_tools(install, need_maven):
    """Installs missing packages with apt-get when allowed and running as root; else says which."""
    missing = [cmd for cmd in PACKAGES if shutil.which(cmd) is None and (need_maven or cmd != "mvn")]
    if missing:
        pkgs = sorted({PACKAGES[c] for c in missing})
        if not install or os.geteuid() != 0 or shutil.which("apt-get") is None:
            sys.exit(f"bench: missing {', '.join(missing)}; install with: apt-get install -y {' '.join(pkgs)}")
        log(f"installing {' '.join(pkgs)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-q"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + pkgs, check=True, env=env)
    if subprocess.run(["fio", "--enghelp=nbd"], capture_output=True).returncode != 0:
        sys.exit("bench: this fio has no nbd engine (Debian's fio has it)")


def make_image(path, size):
    """A raw image of random data (no holes), written once."""
    chunk = 16 << 20
    with open(path, "wb") as f:
        left = size
        while left > 0:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def warm_cache(path):
    with open(path, "rb", buffering=0) as f:
        while f.read(16 << 20):
            pass


def versions(java):
    def first_line(cmd):
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            return (out.stdout or out.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return None
    return {"qemu-storage-daemon": first_line(["qemu-storage-daemon", "--version"]),
            "nbdkit": first_line(["nbdkit", "--version"]), "fio": first_line(["fio", "--version"]),
            "java": first_line([java, "-version"]),
            "qmpd_commit": first_line(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"])}


def machine():
    model = None
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kib = int(f.readline().split()[1])
    return {"cpus": os.cpu_count(), "cpu_model": model, "mem_gib": round(mem_kib / (1 << 20), 1),
            "kernel": platform.release()}


def loadavg():
    return os.getloadavg()[0]


def busy_cpus(seconds=1.0):
    """How many CPUs' worth of time the whole machine spent busy (not idle or iowait) over a short
    sample: what other work there is before the suite starts its own."""
    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]
    t0, i0 = sample()
    time.sleep(seconds)
    t1, i1 = sample()
    return round(((t1 - t0) - (i1 - i0)) / max(1, t1 - t0) * os.cpu_count(), 2)


# ---------------------------------------------------------------------------------------------
# NBD data path

def measure(t, w, runtime, workdir):
    """One fio run of w against t, with the server's CPU and memory around it."""
    prefix = ()
    if w.pinned:
        prefix = ("taskset", "-c", "0")
        if t.server:
            proc.pin(t.pid, "0")
    try:
        c0 = proc.cpu_seconds(t.pid) if t.server else None
        if t.server:
            r = fio.run(w, runtime, workdir, nbd_uri=t.uri(), prefix=prefix)
        else:
            r = fio.run(w, runtime, workdir, filename=t.direct_file, prefix=prefix)
        if t.server:
            r["server_cpu_us_per_io"] = (proc.cpu_seconds(t.pid) - c0) * 1e6 / max(1, r["ios"])
            r["rss_kib"] = proc.rss_kib(t.pid)
            r["hwm_kib"] = proc.hwm_kib(t.pid)
    finally:
        if w.pinned and t.server and t.alive():
            proc.pin(t.pid, proc.all_cpus())
    return r


def run_backend(backend, a, workdir, workloads, runs, target_info):
    image = os.path.join(workdir, "disk.raw") if backend == targets.FILE else None
    if image:
        log(f"writing a {a.size >> 20} MiB image of random data")
        make_image(image, a.size)
    ts = targets.for_backend(backend, a.targets, workdir, image, a.size, a.qmpd_cmd)
    try:
        for t in ts:
            t0 = time.monotonic()
            try:
                t.start()
            except RuntimeError as e:
                t.failed = f"did not start: {e}; log: {proc.tail(t.log)}"
                log(f"{backend}/{t.name}: {t.failed}")
                continue
            target_info[f"{backend}/{t.name}"] = {"argv": t.argv if t.server else fio.command(
                workloads[0], a.runtime, filename=image), "start_s": round(time.monotonic() - t0, 3)}
            log(f"{backend}/{t.name} up in {time.monotonic() - t0:.2f} s")
        for t in ts:
            if t.jvm and not t.failed and a.warmup > 0:
                each = max(1, round(a.warmup / len(workloads)))
                log(f"{backend}/{t.name}: JIT warm-up, every workload for {each} s")
                for w in workloads:
                    try:
                        measure(t, w, each, workdir)
                    except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as e:
                        log(f"  warm-up {w.key}: {e}")
        for rnd in range(a.rounds):
            if image:
                warm_cache(image)
            order = ts[rnd % len(ts):] + ts[:rnd % len(ts)]
            for w in workloads:
                for t in order:
                    if t.failed:
                        continue
                    row = {"backend": backend, "target": t.name, "workload": w.key, "round": rnd + 1}
                    try:
                        row.update(measure(t, w, a.runtime, workdir))
                        log(f"r{rnd + 1} {backend:4s} {w.key:18s} {t.name:11s} {row['iops']:>9.0f} IOPS "
                            f"{row['bw_mib_s']:>7.1f} MiB/s p99 {row['p99_us']:>8.1f} us"
                            + (f" cpu {row['server_cpu_us_per_io']:.1f} us/io" if t.server else ""))
                    except (RuntimeError, subprocess.SubprocessError, ValueError, KeyError) as e:
                        row["error"] = str(e)
                        if not t.alive():
                            t.failed = (f"exited with {t.proc.returncode} during {w.key}; "
                                        f"log: {proc.tail(t.log)}")
                        log(f"r{rnd + 1} {backend} {w.key} {t.name}: {e}")
                    runs.append(row)
    finally:
        for t in ts:
            t.stop()
            if t.failed:
                target_info.setdefault(f"{backend}/{t.name}", {})["failed"] = t.failed
        if image and os.path.exists(image):
            os.unlink(image)


# ---------------------------------------------------------------------------------------------
# QMP round trips, start-up and footprint

def run_qmp(a, java, classpath, workdir):
    qmpd_cmd = targets.qmpd_command(a.qmpd_cmd)
    defs = {"qmpd": lambda s: qmpd_cmd + qmp.monitor_args(s) + ["--object", "iothread,id=io0"],
            "qsd": lambda s: ["qemu-storage-daemon"] + qmp.monitor_args(s) + ["--object", "iothread,id=io0"]}
    ts = []
    info, runs = {}, []
    try:
        for name, argv_for in defs.items():
            t = qmp.Target(name, argv_for, workdir, a.qmp_clients)
            t.start()
            ts.append(t)
            time.sleep(1.0)
            info[name] = {"start_to_greeting_s": round(t.start_s, 3), "idle_rss_kib": proc.rss_kib(t.proc.pid),
                          "monitors": a.qmp_clients}
            log(f"qmp {name}: {a.qmp_clients} greetings after {t.start_s:.3f} s, idle RSS "
                f"{info[name]['idle_rss_kib'] >> 10} MiB")
            if name == "qmpd" and a.warmup > 0:
                qmp.run_load(java, classpath, "query-version", t.sockets, a.warmup)
        for rnd in range(a.rounds):
            order = ts[rnd % len(ts):] + ts[:rnd % len(ts)]
            for clients in (1, a.qmp_clients):
                for t in order:
                    r = qmp.measured_load(java, classpath, "query-version", t, clients, a.qmp_seconds)
                    r.update(target=t.name, round=rnd + 1)
                    runs.append(r)
                    log(f"r{rnd + 1} qmp {t.name:5s} x{clients}: {r['rate']:>8.0f}/s p50 {r['p50_us']:.0f} us "
                        f"cpu {r['cpu_us_per_cmd']:.1f} us/cmd")
    finally:
        for t in ts:
            t.stop()
    return {"targets": info, "runs": runs}


def run_startup(a, workdir, repeats):
    """bin/qmpd with no arguments (the embedded default): time from exec to the QMP greeting on the
    socket it prints, and the resident set once idle."""
    starts, rss = [], []
    for i in range(repeats):
        rundir = os.path.join(workdir, f"embedded-{i}")
        os.makedirs(rundir)
        env = dict(os.environ, QMPD_RUNTIME_DIR=rundir, QMPD_HTTP_PORT="0")
        t0 = time.monotonic()
        p = subprocess.Popen(targets.qmpd_command(a.qmpd_cmd), env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, cwd=rundir)
        try:
            proc.wait_greeting(os.path.join(rundir, "qmp.sock"), p, 120)
            starts.append(time.monotonic() - t0)
            time.sleep(a.idle_s)
            rss.append(proc.rss_kib(p.pid))
        finally:
            proc.stop(p)
        log(f"embedded default: greeting after {starts[-1]:.3f} s, idle RSS {rss[-1] >> 10} MiB")
    doc = {"command": " ".join(targets.qmpd_command(a.qmpd_cmd)) + "   (no arguments)",
           "start_to_greeting_s": [round(s, 3) for s in starts], "idle_rss_kib": rss,
           "idle_after_s": a.idle_s}
    if not a.qmpd_cmd:
        # What bin/qmpd spends before exec'ing java (JDK lookup, staleness check): part of the above.
        t0 = time.monotonic()
        subprocess.run(["bash", "-c", f". '{ROOT}/bin/lib/common.sh' && qmpd_find_jdk && qmpd_find_maven && "
                        f"qmpd_build_if_stale '{ROOT}'"], check=True, stdout=subprocess.DEVNULL)
        doc["wrapper_s"] = round(time.monotonic() - t0, 3)
    return doc


# ---------------------------------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--smoke", action="store_true",
                   help="one workload per target, 1 s, one round, small image, output to --out or a temp dir")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--runtime", type=int, default=2, help="seconds per measured fio job")
    p.add_argument("--warmup", type=float, default=12, help="seconds of JIT warm-up per qmpd start (0: none)")
    p.add_argument("--size", default="1G", help="export and image size")
    p.add_argument("--backends", default="null,file")
    p.add_argument("--targets", default=",".join(targets.ALL))
    p.add_argument("--workloads", default=None, help="comma-separated workload keys (default: all)")
    p.add_argument("--qmp-seconds", type=float, default=3)
    p.add_argument("--qmp-clients", type=int, default=8)
    p.add_argument("--skip-qmp", action="store_true")
    p.add_argument("--out", default=None, help="directory for results-*.json, report.md, plots "
                                               "(default docs/bench, or a temp dir with --smoke)")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md and docs/img/")
    p.add_argument("--no-install", action="store_true", help="never apt-get install missing tools")
    p.add_argument("--no-build", action="store_true", help="do not build (with --qmpd-cmd and --bench-cp)")
    p.add_argument("--qmpd-cmd", default=None, help="command that starts qmpd (default bin/qmpd)")
    p.add_argument("--bench-cp", default=None, help="class path holding qmpd.bench.QmpRoundTrip "
                                                   "(default bench/target/benchmarks.jar)")
    p.add_argument("--report-only", metavar="JSON", help="write the report and plots from a results JSON")
    a = p.parse_args(argv)
    if a.smoke:
        a.rounds, a.runtime, a.warmup, a.qmp_seconds, a.size = 1, 1, 0, 1, "64M"
        a.no_docs = True
        a.workloads = a.workloads or ",".join(fio.SMOKE_WORKLOADS)
    a.size = proc.size_bytes(a.size)
    a.backends = [b for b in a.backends.split(",") if b]
    a.targets = [t for t in a.targets.split(",") if t]
    for t in a.targets:
        if t not in targets.ALL:
            p.error(f"unknown target {t!r} (known: {', '.join(targets.ALL)})")
    a.idle_s = 0.5 if a.smoke else 2.0
    return a


def shown_path(path):
    """path relative to the repository when inside it (as docs/ quotes it), else absolute."""
    path = os.path.abspath(path)
    return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else path


def write_outputs(doc, out_dir, update_docs):
    os.makedirs(out_dir, exist_ok=True)
    stamp = doc["started"].replace(":", "").replace("-", "")[:13]
    path = os.path.join(out_dir, f"results-{stamp}.json")
    with open(path, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    img_dir = os.path.join(ROOT, "docs", "img") if update_docs else out_dir
    img_rel = "img" if update_docs else "."
    md = report.render(doc, img_dir, img_rel, shown_path(path))
    with open(os.path.join(out_dir, "report.md"), "w") as f:
        f.write(md)
    if update_docs:
        report.replace_section(os.path.join(ROOT, "docs", "benchmarks.md"), md)
    return path


def main(argv=None):
    a = parse_args(sys.argv[1:] if argv is None else argv)
    if a.report_only:
        with open(a.report_only) as f:
            doc = json.load(f)
        report.summarize(doc)   # again, so the report follows the current goals and tables
        out = a.out or os.path.dirname(os.path.abspath(a.report_only))
        os.makedirs(out, exist_ok=True)
        md = report.render(doc, os.path.join(ROOT, "docs", "img") if not a.no_docs else out,
                           "img" if not a.no_docs else ".", shown_path(a.report_only))
        with open(os.path.join(out, "report.md"), "w") as f:
            f.write(md)
        if not a.no_docs:
            report.replace_section(os.path.join(ROOT, "docs", "benchmarks.md"), md)
        print(md)
        return 0

    t_start = time.monotonic()
    started = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    before = {"loadavg_1min": loadavg(), "busy_cpus": busy_cpus()}
    ensure_tools(not a.no_install, need_maven=not a.no_build)
    if not a.no_build:
        proc.build()
    if not a.qmpd_cmd:
        # bin/qmpd makes its start-up cache on the first start after a build (a training run):
        # do that now, so that no measured start includes it.
        subprocess.run(targets.qmpd_command(None) + ["--version"], check=True, stdout=subprocess.DEVNULL)
    java = os.path.join(proc.java_home(), "bin", "java")
    classpath = a.bench_cp or os.path.join(ROOT, proc.BENCH_JAR_REL)
    all_workloads = [fio.by_key(k) for k in a.workloads.split(",")] if a.workloads else list(fio.WORKLOADS)
    out_dir = a.out or (tempfile.mkdtemp(prefix="qmpd-bench-smoke-") if a.smoke
                        else os.path.join(ROOT, "docs", "bench"))

    jobs = sum(len(targets.for_backend(b, a.targets, "/", "x", a.size)) for b in a.backends) * len(all_workloads)
    # About 0.6 s per fio job goes to starting fio and its probe connection; JVM starts ~2-4 s each.
    estimate = (jobs * a.rounds * (a.runtime + 0.6) + len(a.backends) * (a.warmup + 10)
                + (0 if a.skip_qmp else 2 * a.rounds * 2 * (a.qmp_seconds + 0.8) + a.warmup + 25))
    log(f"{jobs} fio jobs x {a.rounds} rounds x {a.runtime} s, qmpd warm-up {a.warmup:g} s per back-end: "
        f"about {estimate / 60:.0f} min; before the start {before['busy_cpus']} of {os.cpu_count()} CPUs were busy "
        f"(load average {before['loadavg_1min']:.2f})")
    doc = {"suite": 1, "mode": "smoke" if a.smoke else "full", "started": started,
           "settings": {"rounds": a.rounds, "runtime_s": a.runtime, "warmup_s": a.warmup, "size": a.size,
                        "backends": a.backends, "targets": a.targets, "workloads": [w.key for w in all_workloads],
                        "qmp_seconds": a.qmp_seconds, "qmp_clients": a.qmp_clients},
           "workloads": {w.key: {"label": w.label, "rw": w.rw, "bs": w.bs, "iodepth": w.iodepth,
                                 "numjobs": w.numjobs, "pinned": w.pinned, "rwmixread": w.rwmixread}
                         for w in all_workloads},
           "machine": machine(), "versions": versions(java), "before": before, "loadavg_start": loadavg()}
    workdir = tempfile.mkdtemp(prefix="qmpd-bench-")
    try:
        runs, target_info = [], {}
        for backend in a.backends:
            run_backend(backend, a, workdir, all_workloads, runs, target_info)
        doc["nbd"] = {"runs": runs, "targets": target_info}
        if not a.skip_qmp:
            try:
                doc["qmp"] = run_qmp(a, java, classpath, workdir)
            except (RuntimeError, OSError, subprocess.SubprocessError, ValueError) as e:
                log(f"QMP benchmark failed: {e}")
                doc["qmp_error"] = str(e)
            try:
                doc["startup"] = run_startup(a, workdir, 1 if a.smoke else 3)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                log(f"start-up measurement failed: {e}")
                doc["startup_error"] = str(e)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    doc["loadavg_end"] = loadavg()
    doc["wall_s"] = round(time.monotonic() - t_start, 1)
    report.summarize(doc)
    path = write_outputs(doc, out_dir, not a.no_docs)
    log(f"done in {doc['wall_s']:.0f} s; results in {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
