"""QMP round-trip load: targets with N monitors on UNIX sockets (a monitor serves one client at a
time, so concurrency needs several), driven by qmpd.bench.QmpRoundTrip from the bench jar."""
import json
import os
import subprocess
import tempfile
import time

from . import proc


def monitor_args(sockets):
    args = []
    for i, s in enumerate(sockets):
        args += ["--chardev", f"socket,path={s},server=on,wait=off,id=m{i}", "--monitor", f"chardev=m{i}"]
    return args


class Target:
    """A server with len(sockets) monitors; start() measures the time to the last greeting."""

    def __init__(self, name, argv_for, workdir, monitors):
        self.name = name
        self.dir = tempfile.mkdtemp(prefix=f"{name}-", dir=workdir)
        self.sockets = [os.path.join(self.dir, f"m{i}.sock") for i in range(monitors)]
        self.argv = argv_for(self.sockets)
        self.proc = None
        self.start_s = None

    def start(self):
        t0 = time.monotonic()
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL,
                                     stderr=open(os.path.join(self.dir, "log"), "w"))
        for s in self.sockets:
            proc.wait_greeting(s, self.proc, 120)
        self.start_s = time.monotonic() - t0

    def stop(self):
        if self.proc:
            proc.stop(self.proc)


def run_load(java, classpath, command, sockets, seconds):
    """One QmpRoundTrip run: each socket gets one client; returns its JSON line as a dict."""
    out = subprocess.run([java, "-XX:+UseSerialGC", "-cp", classpath, "qmpd.bench.QmpRoundTrip",
                          "--command", command, "--seconds", str(seconds)] + list(sockets),
                         capture_output=True, text=True, timeout=seconds + 120)
    if out.returncode != 0:
        raise RuntimeError(f"QmpRoundTrip failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def measured_load(java, classpath, command, target, clients, seconds):
    """run_load plus the server's CPU time per command (utime+stime over the run)."""
    c0 = proc.cpu_seconds(target.proc.pid)
    r = run_load(java, classpath, command, target.sockets[:clients], seconds)
    r["cpu_us_per_cmd"] = (proc.cpu_seconds(target.proc.pid) - c0) * 1e6 / max(1, r["round_trips"])
    return r
