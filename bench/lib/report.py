"""From the suite's raw runs to medians, the issue's targets (met or not), Markdown and plots."""
import statistics

from . import svg

BEGIN = "<!-- suite:begin -->"
END = "<!-- suite:end -->"
MIB = 1024.0


def _spread(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def summarize(doc):
    """Adds medians (with min-max) per back-end, target and workload, QMP medians, start-up
    medians and the goals table to doc, in place."""
    groups = {}
    for r in doc["nbd"]["runs"]:
        if "error" not in r:
            groups.setdefault((r["backend"], r["target"], r["workload"]), []).append(r)
    summary = []
    for (backend, target, workload), rs in groups.items():
        row = {"backend": backend, "target": target, "workload": workload, "rounds": len(rs)}
        for key in ("iops", "bw_mib_s", "p50_us", "p99_us", "p99_9_us", "server_cpu_us_per_io"):
            if key in rs[0]:
                row[key] = _spread([r[key] for r in rs])
        if "rss_kib" in rs[0]:
            row["rss_mib"] = max(r["rss_kib"] for r in rs) / MIB
            row["hwm_mib"] = max(r["hwm_kib"] for r in rs) / MIB
        summary.append(row)
    doc["nbd"]["summary"] = summary
    errors = [r for r in doc["nbd"]["runs"] if "error" in r]
    doc["nbd"]["errors"] = len(errors)

    if "qmp" in doc:
        qs = {}
        for r in doc["qmp"]["runs"]:
            qs.setdefault((r["target"], r["clients"]), []).append(r)
        doc["qmp"]["summary"] = [
            {"target": t, "clients": c, "rounds": len(rs), "rate": _spread([r["rate"] for r in rs]),
             "p50_us": statistics.median(r["p50_us"] for r in rs), "p99_us": statistics.median(r["p99_us"] for r in rs),
             "cpu_us_per_cmd": _spread([r["cpu_us_per_cmd"] for r in rs]), "errors": sum(r["errors"] for r in rs)}
            for (t, c), rs in qs.items()]
    if "startup" in doc:
        s = doc["startup"]
        s["start_to_greeting_median_s"] = statistics.median(s["start_to_greeting_s"])
        s["idle_rss_median_mib"] = statistics.median(s["idle_rss_kib"]) / MIB
    doc["goals"] = goals(doc)


def _row(doc, backend, target, workload):
    for r in doc["nbd"]["summary"]:
        if (r["backend"], r["target"], r["workload"]) == (backend, target, workload):
            return r
    return None


def _round_ratios(doc, backend, a, b, workload, key):
    by_round = {}
    for r in doc["nbd"]["runs"]:
        if r["backend"] == backend and r["workload"] == workload and "error" not in r and key in r:
            by_round.setdefault(r["round"], {})[r["target"]] = r[key]
    return [v[a] / v[b] for v in by_round.values() if a in v and b in v and v[b]]


def _ratio_goal(doc, text, backend, workload, key, other, op, limit):
    qa, qb = _row(doc, backend, "qmpd", workload), _row(doc, backend, other, workload)
    goal = {"goal": text, "limit": f"{op} {limit:.1f}x"}
    if not qa or not qb or key not in qa or key not in qb or not qb[key]["median"]:
        goal.update(ratio=None, met=None, note="not measured")
        return goal
    ratio = qa[key]["median"] / qb[key]["median"]
    per_round = _round_ratios(doc, backend, "qmpd", other, workload, key)
    unit = {"server_cpu_us_per_io": "µs/IO", "iops": "IOPS", "bw_mib_s": "MiB/s"}[key]
    goal.update(ratio=ratio, met=ratio <= limit if op == "<=" else ratio >= limit, unit=unit,
                qmpd=qa[key]["median"], peer=qb[key]["median"],
                round_ratios=[min(per_round), max(per_round)] if per_round else None)
    return goal


def goals(doc):
    out = []
    for backend in ("null", "file"):
        for rw in ("randread", "randwrite"):
            wl = f"{rw}-4k-qd32"
            out.append(_ratio_goal(doc, f"4k {rw} QD32, {backend}: server CPU per I/O vs QSD", backend, wl,
                                   "server_cpu_us_per_io", "qsd", "<=", 1.0))
            out.append(_ratio_goal(doc, f"4k {rw} QD32, {backend}: IOPS vs QSD", backend, wl, "iops", "qsd", ">=", 1.0))
    for backend in ("null", "file"):
        out.append(_ratio_goal(doc, f"4k randread QD1 pinned, {backend}: IOPS vs QSD", backend, "randread-4k-qd1",
                               "iops", "qsd", ">=", 1.0))
    out.append(_ratio_goal(doc, "4k randread QD32, null: server CPU per I/O vs nbdkit null", "null",
                           "randread-4k-qd32", "server_cpu_us_per_io", "nbdkit-null", "<=", 1.1))
    for backend in ("null", "file"):
        out.append(_ratio_goal(doc, f"1M seq read, {backend}: bandwidth vs QSD", backend, "read-1m-qd8",
                               "bw_mib_s", "qsd", ">=", 1.0))
    if "qmp" in doc:
        rows = {(r["target"], r["clients"]): r for r in doc["qmp"]["summary"]}
        for clients, label in ((1, "sequential"), (doc["settings"]["qmp_clients"], f"{doc['settings']['qmp_clients']} clients")):
            a, b = rows.get(("qmpd", clients)), rows.get(("qsd", clients))
            g = {"goal": f"QMP query-version round trips, {label}: rate vs QSD", "limit": ">= 3.0x"}
            if a and b and b["rate"]["median"]:
                ratio = a["rate"]["median"] / b["rate"]["median"]
                g.update(ratio=ratio, met=ratio >= 3.0, qmpd=a["rate"]["median"], peer=b["rate"]["median"], unit="/s")
            else:
                g.update(ratio=None, met=None, note="not measured")
            out.append(g)
    if "startup" in doc:
        s = doc["startup"]
        out.append({"goal": "bin/qmpd (embedded default): start to QMP greeting", "limit": "< 0.5 s",
                    "value": s["start_to_greeting_median_s"], "unit": "s",
                    "met": s["start_to_greeting_median_s"] < 0.5})
        out.append({"goal": "bin/qmpd (embedded default): idle RSS", "limit": "< 128 MiB",
                    "value": s["idle_rss_median_mib"], "unit": "MiB", "met": s["idle_rss_median_mib"] < 128})
    return out


# ---------------------------------------------------------------------------------------------

def _fmt(x, digits=0):
    if x is None:
        return "-"
    return f"{x:,.{digits}f}".replace(",", " ")


def _med(row, key, digits=0, spread=False):
    if not row or key not in row:
        return "-"
    v = row[key]
    text = _fmt(v["median"], digits)
    if spread:
        text += f" ({_fmt(v['min'], digits)}–{_fmt(v['max'], digits)})"
    return text


def _target_order(doc, backend):
    names = []
    for r in doc["nbd"]["runs"]:
        if r["backend"] == backend and r["target"] not in names:
            names.append(r["target"])
    return names


def under_load(doc):
    """True when other work was running as the suite began: more than a fifth of a CPU busy in the
    one-second sample taken just before it. The load average is reported too but not used here:
    it trails the last minute (work that has already ended still counts), and the suite's own
    load cannot be told apart later. A run without the sample falls back to the load average."""
    before = doc.get("before", {"loadavg_1min": doc.get("loadavg_start", 0)})
    if "busy_cpus" in before:
        return before["busy_cpus"] > 0.2
    return before.get("loadavg_1min", 0) > 1.0


def render(doc, img_dir, img_rel, json_path):
    """The generated section of docs/benchmarks.md (between the markers), plots into img_dir."""
    s = doc["settings"]
    m = doc["machine"]
    v = doc["versions"]
    lines = [BEGIN, "", f"**Run of {doc['started']}** ({doc['mode']} mode)", ""]
    before = doc.get("before", {"loadavg_1min": doc.get("loadavg_start", 0)})
    if under_load(doc):
        lines += [f"**Measured under load**: before the suite started the machine was busy with other work "
                  f"({before.get('busy_cpus', '?')} of {m['cpus']} CPUs busy, load average "
                  f"{before.get('loadavg_1min', 0):.1f}); these figures do not show what the servers can do.", ""]
    lines += [
        f"Machine: {m['cpus']} CPUs ({m['cpu_model']}), {m['mem_gib']} GiB, Linux {m['kernel']}. "
        f"{v['qemu-storage-daemon']}; {v['nbdkit']}; {v['fio']}; {v['java']}; qmpd {v['qmpd_commit']}. "
        f"{s['rounds']} round(s) × {s['runtime_s']} s per job, qmpd JIT warm-up {s['warmup_s']:g} s per start, "
        f"export and image {s['size'] >> 20} MiB. Whole suite: {doc['wall_s'] / 60:.1f} min. "
        f"Raw data: `{json_path}`.", "",
        "`qsd` is qemu-storage-daemon serving the export from its main loop (no `iothread=`): 7.2 aborts "
        "when a client of an IOThread export disconnects, which fio's nbd engine does after its probe "
        "connection. qmpd serves from IOThread io0. QD1 runs are pinned (server and fio on CPU 0); qmpd alone "
        f"got a JIT warm-up ({s['warmup_s']:g} s of every workload per start). Latencies are fio's completion "
        "latencies; CPU µs/IO is the server process's utime+stime per I/O.", ""]

    lines += ["#### Targets of the issue", "",
              "| goal | limit | qmpd | peer | ratio (per-round range) | met |", "|---|---|---:|---:|---|---|"]
    for g in doc["goals"]:
        if "value" in g:
            lines.append(f"| {g['goal']} | {g['limit']} | {_fmt(g['value'], 3 if g['unit'] == 's' else 0)} {g['unit']} "
                         f"| | | {'met' if g['met'] else 'not met'} |")
        elif g.get("ratio") is None:
            lines.append(f"| {g['goal']} | {g['limit']} | | | {g.get('note', '')} | - |")
        else:
            rr = g.get("round_ratios")
            spread = f" ({rr[0]:.2f}–{rr[1]:.2f})" if rr else ""
            digits = 1 if g["qmpd"] < 100 else 0
            u = " " + g["unit"] if g.get("unit") else ""
            lines.append(f"| {g['goal']} | {g['limit']} | {_fmt(g['qmpd'], digits)}{u} | {_fmt(g['peer'], digits)}{u} "
                         f"| {g['ratio']:.2f}x{spread} | {'met' if g['met'] else 'not met'} |")
    lines.append("")

    names = {"null": "null-co 1 GiB, read-zeroes=off (nbdkit: null plugin)",
             "file": "raw file of random data in the page cache (nbdkit: file plugin; fio-direct: fio on the file)"}
    for backend in s["backends"]:
        order = _target_order(doc, backend)
        if not order:
            continue
        lines += [f"#### NBD, {names.get(backend, backend)}", "",
                  "| workload | target | IOPS (min–max) | MiB/s | p50 µs | p99 µs | p99.9 µs "
                  "| server CPU µs/IO (min–max) | RSS / peak MiB | qmpd/QSD IOPS | qmpd/QSD CPU |",
                  "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for wk in s["workloads"]:
            label = doc["workloads"][wk]["label"]
            qsd = _row(doc, backend, "qsd", wk)
            for t in order:
                r = _row(doc, backend, t, wk)
                if r is None:
                    lines.append(f"| {label} | {t} | failed | | | | | | | | |")
                    continue
                ratio_iops = ratio_cpu = ""
                if t == "qmpd" and qsd:
                    ratio_iops = f"{r['iops']['median'] / qsd['iops']['median']:.2f}x" if qsd["iops"]["median"] else ""
                    if "server_cpu_us_per_io" in r and qsd["server_cpu_us_per_io"]["median"]:
                        ratio_cpu = f"{r['server_cpu_us_per_io']['median'] / qsd['server_cpu_us_per_io']['median']:.2f}x"
                mem = f"{r['rss_mib']:.0f} / {r['hwm_mib']:.0f}" if "rss_mib" in r else "-"
                lines.append(f"| {label} | {t} | {_med(r, 'iops', 0, True)} | {_med(r, 'bw_mib_s', 1)} "
                             f"| {_med(r, 'p50_us', 1)} | {_med(r, 'p99_us', 1)} | {_med(r, 'p99_9_us', 1)} "
                             f"| {_med(r, 'server_cpu_us_per_io', 1, True)} | {mem} | {ratio_iops} | {ratio_cpu} |")
        lines.append("")
        for rw in ("randread", "randwrite"):
            files = svg.queue_depth_plot(doc, backend, rw, img_dir)
            if files:
                lines += [f"![4k {rw}, {backend}: IOPS and p99 latency against queue depth]({img_rel}/{files})", ""]

    failed = {k: t["failed"] for k, t in doc["nbd"]["targets"].items() if t.get("failed")}
    if failed or doc["nbd"].get("errors"):
        lines += [f"Failed runs: {doc['nbd'].get('errors', 0)}."]
        lines += [f"- `{k}`: {why}" for k, why in failed.items()]
        lines.append("")

    if "qmp" in doc:
        lines += ["#### QMP round trips (`query-version`)", "",
                  "| clients | target | round trips/s (min–max) | p50 µs | p99 µs | server CPU µs/cmd | qmpd/QSD |",
                  "|---:|---|---:|---:|---:|---:|---:|"]
        rows = sorted(doc["qmp"]["summary"], key=lambda r: (r["clients"], r["target"] != "qmpd"))
        for r in rows:
            peer = next((x for x in rows if x["target"] == "qsd" and x["clients"] == r["clients"]), None)
            ratio = f"{r['rate']['median'] / peer['rate']['median']:.2f}x" if r["target"] == "qmpd" and peer else ""
            lines.append(f"| {r['clients']} | {r['target']} | {_med(r, 'rate', 0, True)} | {_fmt(r['p50_us'])} "
                         f"| {_fmt(r['p99_us'])} | {_med(r, 'cpu_us_per_cmd', 1)} | {ratio} |")
        lines.append("")
        info = doc["qmp"]["targets"]
        lines += ["| target (with {0} monitors) | start to last greeting | idle RSS |".format(s["qmp_clients"]),
                  "|---|---:|---:|"]
        for name, t in info.items():
            lines.append(f"| {name} | {t['start_to_greeting_s']:.3f} s | {t['idle_rss_kib'] / MIB:.0f} MiB |")
        lines.append("")
    if "startup" in doc:
        st = doc["startup"]
        lines += [f"Embedded default (`bin/qmpd` without arguments; QMP socket in QMPD_RUNTIME_DIR, HTTP on a free "
                  f"port): start to greeting {', '.join(f'{x:.3f}' for x in st['start_to_greeting_s'])} s "
                  f"(median {st['start_to_greeting_median_s']:.3f} s), idle RSS after {st['idle_after_s']:g} s "
                  f"{', '.join(str(k >> 10) for k in st['idle_rss_kib'])} MiB."
                  + (f" Of the start time, {st['wrapper_s']:.3f} s is bin/qmpd's own work before it execs java "
                     f"(JDK lookup, staleness check)." if "wrapper_s" in st else ""), ""]
    lines += [END]
    return "\n".join(lines) + "\n"


def replace_section(path, md):
    """Replaces what lies between the markers in path (markers included) with md."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path} has no {BEGIN} ... {END} section")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(path, "w") as f:
        f.write(head + md.rstrip("\n") + tail)
