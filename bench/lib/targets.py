"""The targets the suite compares, each on a UNIX socket over the same back-end.

qmpd serves the export in IOThread io0. qemu-storage-daemon (QSD) 7.2 gets the same command line
without `iothread=`: 7.2 aborts (assertion in blockdev-nbd.c nbd_blockdev_client_closed) whenever a
client of an `iothread=` export disconnects, and fio's nbd engine opens and closes a probe
connection before every job, so that configuration cannot be measured with fio at all.
"""
import json
import os
import shlex
import subprocess

from . import proc

NULL, FILE = "null", "file"


class Target:
    """One server (or fio alone on the file) for one back-end; kept running across the
    workloads and rounds of that back-end, so the JVM warms up once."""

    def __init__(self, name, backend, argv, workdir, sock=None, jvm=False, direct_file=None):
        self.name = name
        self.backend = backend
        self.argv = argv
        self.workdir = workdir
        self.sock = sock
        self.jvm = jvm
        self.direct_file = direct_file   # fio on this file, no server
        self.proc = None
        self.log = os.path.join(workdir, f"{backend}-{name}.log")
        self.failed = None               # why it stopped serving, if it did

    @property
    def server(self):
        return self.direct_file is None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def uri(self):
        return f"nbd+unix:///disk0?socket={self.sock}"

    def start(self, timeout=120):
        if not self.server:
            return
        if os.path.exists(self.sock):
            os.unlink(self.sock)
        with open(self.log, "a") as log:
            log.write("# " + shlex.join(self.argv) + "\n")
            log.flush()
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT, cwd=self.workdir)
        proc.wait_socket(self.sock, self.proc, timeout)

    def alive(self):
        return not self.server or (self.proc is not None and self.proc.poll() is None)

    def stop(self):
        if self.proc is not None:
            proc.stop(self.proc)


def qsd_args(backend, image, size, sock, iothread):
    """The qemu-storage-daemon command line, which qmpd takes verbatim. read-zeroes=off so that
    null-co reads send data (with on, QSD answers with hole chunks and sends none); locking=off
    because several servers open the same image."""
    if backend == NULL:
        blockdev = ["--blockdev", f"driver=null-co,node-name=n0,size={size},read-zeroes=off"]
    else:
        blockdev = ["--blockdev", f"driver=file,node-name=f0,filename={image},locking=off",
                    "--blockdev", "driver=raw,node-name=n0,file=f0"]
    export = "type=nbd,id=e0,node-name=n0,name=disk0,writable=on"
    objects = []
    if iothread:
        objects = ["--object", "iothread,id=io0"]
        export += ",iothread=io0"
    return objects + blockdev + ["--nbd-server", f"addr.type=unix,addr.path={sock}", "--export", export]


def qmpd_command(qmpd_cmd):
    """How qmpd is started: bin/qmpd unless the caller gives a command (e.g. java -cp ... qmpd.Main),
    as a shell-quoted string or a JSON array."""
    if not qmpd_cmd:
        return [os.path.join(proc.ROOT, "bin", "qmpd")]
    return json.loads(qmpd_cmd) if qmpd_cmd.lstrip().startswith("[") else shlex.split(qmpd_cmd)


ALL = ("qmpd", "qsd", "nbdkit", "fio-direct")


def for_backend(backend, names, workdir, image, size, qmpd_cmd=None):
    """The targets of names that exist for backend (nbdkit's plugin follows the back-end: null or
    file; fio-direct only for the file)."""
    out = []
    for name in names:
        sock = os.path.join(workdir, f"{backend}-{name}.sock")
        if name == "qmpd":
            out.append(Target(name, backend, qmpd_command(qmpd_cmd) + qsd_args(backend, image, size, sock, True),
                              workdir, sock, jvm=True))
        elif name == "qsd":
            out.append(Target(name, backend, ["qemu-storage-daemon"] + qsd_args(backend, image, size, sock, False),
                              workdir, sock))
        elif name == "nbdkit":
            plugin = ["null", f"size={size}"] if backend == NULL else ["file", f"file={image}"]
            out.append(Target(f"nbdkit-{backend}", backend,
                              ["nbdkit", "--foreground", "--unix", sock, "--exportname", "disk0"] + plugin,
                              workdir, sock))
        elif name == "fio-direct" and backend == FILE:
            out.append(Target(name, backend, None, workdir, direct_file=image))
    return out
