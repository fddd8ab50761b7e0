"""Shared code of the benchmark harnesses in bench/: process control and /proc readings
(proc), fio over NBD (fio), the targets' command lines (targets), QMP load (qmp), the report
(report, svg). Python 3 standard library only."""
