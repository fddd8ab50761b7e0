"""Starting, watching and stopping server processes; what /proc says about them."""
import os
import signal
import socket
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLK_TCK = os.sysconf("SC_CLK_TCK")


def size_bytes(text):
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = str(text).strip().upper()
    return int(text[:-1]) * units[text[-1]] if text[-1] in units else int(text)


def cpu_seconds(pid):
    """utime+stime of the whole process: /proc/PID/stat sums every thread, live or exited."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kib(pid, key):
    """A memory line of /proc/PID/status in KiB (VmRSS: resident now, VmHWM: peak resident)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def rss_kib(pid):
    return status_kib(pid, "VmRSS")


def hwm_kib(pid):
    return status_kib(pid, "VmHWM")


def wait_socket(path, proc, timeout):
    """Polls until the socket file exists (or the server exits, or the deadline passes); the
    servers create it with bind+listen at once, and a probe connection would be one more client."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        if os.path.exists(path):
            return
        time.sleep(0.02)
    raise RuntimeError(f"no server on {path} after {timeout} s")


def wait_greeting(path, proc, timeout=30.0):
    """Returns once a QMP greeting could be read from the UNIX socket path."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"target exited with {proc.returncode}")
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect(path)
                data = b""
                while b"\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
            if b'"QMP"' in data:
                return
        except OSError:
            pass
        time.sleep(0.002)
    raise RuntimeError(f"no greeting on {path}")


def stop(proc, timeout=10):
    """SIGTERM, then SIGKILL if it is still there after timeout seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout)


def tail(path, lines=3):
    try:
        with open(path) as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return ""


def pin(pid, cpus):
    """Sets the CPU affinity of every thread of pid (taskset -a); threads created later inherit
    it from their creator."""
    subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(pid)], check=True, stdout=subprocess.DEVNULL)


def all_cpus():
    return f"0-{os.cpu_count() - 1}"


def java_home():
    """The JDK bin/lib/common.sh picks (JAVA_HOME if 25+, else the newest under /usr/lib/jvm)."""
    out = subprocess.run(["bash", "-c", f". '{ROOT}/bin/lib/common.sh' && qmpd_find_jdk && echo $JAVA_HOME"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def _newest_source(root, skip=()):
    """The newest mtime of the sources bin/lib/common.sh watches (*.java, pom.xml, main resources)."""
    newest = 0.0
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d not in ("target", ".git") and os.path.join(dirpath, d) not in skip]
        for name in filenames:
            path = os.path.join(dirpath, name)
            if name.endswith(".java") or name == "pom.xml" or "/src/main/resources/" in path:
                newest = max(newest, os.path.getmtime(path))
    return newest


def _stale(jar, newest):
    return not os.path.exists(jar) or os.path.getmtime(jar) < newest


def build():
    """Builds the qmpd distribution and the bench jar (QMP load client) when missing or older than
    the sources, with bin/lib/common.sh's JDK and Maven lookup (one Maven run for both)."""
    qmpd_jar, bench_jar = os.path.join(ROOT, QMPD_JAR_REL), os.path.join(ROOT, BENCH_JAR_REL)
    newest_all = _newest_source(ROOT)
    if not (_stale(qmpd_jar, _newest_source(ROOT, skip=(os.path.join(ROOT, "bench"),)))
            or _stale(bench_jar, newest_all)):
        return False
    print("bench: building qmpd and the bench jar (sources changed or first run)...", flush=True)
    script = (f". '{ROOT}/bin/lib/common.sh' && qmpd_find_jdk && qmpd_find_maven && cd '{ROOT}' && "
              f'"$MVN" -q -B -DskipTests -pl qmp-server,bench -am package')
    subprocess.run(["bash", "-c", script], check=True)
    return True


QMPD_JAR_REL = "qmp-server/target/qmpd.jar"
BENCH_JAR_REL = "bench/target/benchmarks.jar"

# The JVM flags bin/qmpd passes (bin/lib/common.sh QMPD_JVM_FLAGS).
JVM_FLAGS = ["--enable-native-access=ALL-UNNAMED", "--add-exports", "java.base/sun.nio.ch=ALL-UNNAMED",
             "--add-opens", "java.base/sun.nio.ch=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"]
