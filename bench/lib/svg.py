"""Line plots written as SVG text: no plotting library is needed on the machine."""
import math
import os
from xml.sax.saxutils import escape

COLORS = {"qmpd": "#1f77b4", "qsd": "#d62728", "nbdkit-null": "#2ca02c", "nbdkit-file": "#2ca02c",
          "fio-direct": "#7f7f7f"}
DEPTHS = (1, 8, 32)
W, H = 360, 260          # one panel
ML, MR, MT, MB = 62, 14, 30, 44


def _nice_max(v):
    if v <= 0:
        return 1.0
    exp = 10 ** math.floor(math.log10(v))
    for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if v <= m * exp:
            return m * exp
    return 10 * exp


def _panel(x0, title, unit, series):
    """series: [(target, [(depth_index, value) ...])]; returns SVG elements for one panel."""
    vmax = _nice_max(max((v for _, pts in series for _, v in pts), default=1.0))
    pw, ph = W - ML - MR, H - MT - MB
    out = [f'<text x="{x0 + ML + pw / 2}" y="18" text-anchor="middle" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        val = vmax * i / 4
        y = MT + ph - ph * i / 4
        out.append(f'<line x1="{x0 + ML}" y1="{y:.1f}" x2="{x0 + ML + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        label = "0" if val == 0 else (f"{val / 1000:g}k" if vmax >= 10000 else f"{val:g}")
        out.append(f'<text x="{x0 + ML - 6}" y="{y + 4:.1f}" text-anchor="end">{label}</text>')
    for i, d in enumerate(DEPTHS):
        x = x0 + ML + pw * (i + 0.5) / len(DEPTHS)
        out.append(f'<text x="{x:.1f}" y="{MT + ph + 16}" text-anchor="middle">'
                   f'{d}{" (pinned)" if d == 1 else ""}</text>')
    out.append(f'<text x="{x0 + ML + pw / 2}" y="{H - 8}" text-anchor="middle">queue depth</text>')
    out.append(f'<text x="{x0 + 14}" y="{MT + ph / 2}" text-anchor="middle" '
               f'transform="rotate(-90 {x0 + 14} {MT + ph / 2})">{escape(unit)}</text>')
    out.append(f'<rect x="{x0 + ML}" y="{MT}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>')
    for target, pts in series:
        color = COLORS.get(target, "#9467bd")
        xy = [(x0 + ML + pw * (i + 0.5) / len(DEPTHS), MT + ph - ph * v / vmax) for i, v in pts]
        if len(xy) > 1:
            out.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="'
                       + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>')
        out += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}"/>' for x, y in xy]
    return out


def queue_depth_plot(doc, backend, rw, img_dir):
    """IOPS and p99 completion latency against queue depth for 4k rw on backend, one line per
    target (medians over rounds). Returns the file name written, or None without data."""
    rows = {(r["target"], r["workload"]): r for r in doc["nbd"]["summary"] if r["backend"] == backend}
    targets = []
    for r in doc["nbd"]["runs"]:
        if r["backend"] == backend and r["target"] not in targets:
            targets.append(r["target"])
    iops, p99 = [], []
    for t in targets:
        a, b = [], []
        for i, d in enumerate(DEPTHS):
            r = rows.get((t, f"{rw}-4k-qd{d}"))
            if r:
                a.append((i, r["iops"]["median"]))
                b.append((i, r["p99_us"]["median"]))
        if a:
            iops.append((t, a))
            p99.append((t, b))
    if not iops or max(len(p) for _, p in iops) < 2:
        return None
    unit = "p99 completion latency (µs)"
    if max(v for _, pts in p99 for _, v in pts) > 5000:
        p99 = [(t, [(i, v / 1000.0) for i, v in pts]) for t, pts in p99]
        unit = "p99 completion latency (ms)"
    total_w = 2 * W + 130
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{H}" '
             f'font-family="sans-serif" font-size="11">',
             f'<rect width="{total_w}" height="{H}" fill="white"/>']
    parts += _panel(0, f"4k {rw}, {backend}: IOPS", "IOPS (median)", iops)
    parts += _panel(W, f"4k {rw}, {backend}: p99 latency", unit, p99)
    for k, (t, _) in enumerate(iops):
        y = MT + 10 + 18 * k
        color = COLORS.get(t, "#9467bd")
        parts.append(f'<line x1="{2 * W + 8}" y1="{y}" x2="{2 * W + 30}" y2="{y}" stroke="{color}" stroke-width="2"/>')
        parts.append(f'<text x="{2 * W + 36}" y="{y + 4}">{escape(t)}</text>')
    parts.append("</svg>")
    os.makedirs(img_dir, exist_ok=True)
    name = f"bench-{backend}-{rw}.svg"
    with open(os.path.join(img_dir, name), "w") as f:
        f.write("\n".join(parts) + "\n")
    return name
