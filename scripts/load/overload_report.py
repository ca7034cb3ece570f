#!/usr/bin/env python3
"""The overload run's report (scripts/load/overload.sh): the server's RSS over time as an
SVG (rss.svg, no plotting library needed) and a Markdown summary (summary.md) of the RSS,
the creates answered by status, the readings published, acknowledged and stored, and the
IoT counters over the load. Usage: overload_report.py RESULTS_FOLDER"""

import json
import sys
from pathlib import Path


def load_rss(path):
    rows = []
    for line in path.read_text().splitlines()[1:]:
        epoch, _, kb = line.partition(",")
        if kb.strip():
            rows.append((int(epoch), int(kb)))
    return rows


def svg(rows, start, end, out):
    width, height, left, bottom, top, right = 900, 360, 70, 40, 30, 20
    t0 = rows[0][0]
    xs = [t - t0 for t, _ in rows]
    mb = [kb / 1024 for _, kb in rows]
    x_max = max(max(xs), 1)
    y_max = max(max(mb) * 1.15, 1)

    def x(v):
        return left + (width - left - right) * v / x_max

    def y(v):
        return height - bottom - (height - top - bottom) * v / y_max

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<rect x="{x(start - t0):.1f}" y="{top}" width="{x(end - t0) - x(start - t0):.1f}" '
        f'height="{height - top - bottom}" fill="#fde2e2"/>',
        f'<text x="{x(start - t0) + 4:.1f}" y="{top + 14}" fill="#a33">10× load / 十倍负载</text>',
        f'<text x="{left}" y="18">cockpit-server RSS (MB) / 内存占用, per second</text>',
    ]
    for i in range(6):
        v = y_max * i / 5
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{v:.0f}</text>')
    for i in range(11):
        v = x_max * i / 10
        parts.append(f'<text x="{x(v):.1f}" y="{height - bottom + 16}" text-anchor="middle">{v:.0f}</text>')
    parts.append(f'<text x="{(width + left) / 2}" y="{height - 6}" text-anchor="middle">seconds / 秒</text>')
    points = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(xs, mb))
    parts.append(f'<polyline fill="none" stroke="#1f5fbf" stroke-width="1.5" points="{points}"/>')
    parts.append("</svg>")
    out.write_text("\n".join(parts) + "\n")


def main():
    r = Path(sys.argv[1])
    start, end, readings_rate, creates_rate, duration, devices = (
        int(v) for v in (r / "window.txt").read_text().split()
    )
    rows = load_rss(r / "rss.csv")
    svg(rows, start, end, r / "rss.svg")
    during = [kb for t, kb in rows if start <= t <= end]
    after = [kb for t, kb in rows if t > end]
    before = [kb for t, kb in rows if t < start]
    half = during[len(during) // 2:] or during
    creates = json.loads((r / "creates.json").read_text())
    codes = creates.get("statusCodeDistribution", {})
    lat = creates.get("latencyPercentiles", {})
    sim = (r / "simulate.txt").read_text().split()
    sent, acked = int(sim[1]), int(sim[-5]) - devices
    counters = [json.loads((r / f).read_text())["counters"] for f in ("iot-before.json", "iot-after.json")]
    # `connections` is a gauge (open now); the others are running totals.
    diff = {k: v - counters[0].get(k, 0) for k, v in counters[1].items() if k != "connections"}
    loss = (r / "loss.txt").read_text().strip().splitlines()
    mb = lambda kb: f"{kb / 1024:.0f} MB"  # noqa: E731
    lines = [
        f"- load: {duration} s of {readings_rate:,} readings/s (QoS 1) and {creates_rate:,} creates/s",
        f"- RSS: {mb(before[-1]) if before else '?'} before; during the load max {mb(max(during))}, "
        f"second half max {mb(max(half))} (bounded if the second half is no higher than the first); "
        f"{mb(after[-1]) if after else '?'} after",
        f"- creates: {sum(codes.values()):,} sent: " + ", ".join(f"{k}: {v:,}" for k, v in sorted(codes.items()))
        + f"; 201 latency p50 {lat.get('p50', 0) * 1000:.1f} ms, p99 {lat.get('p99', 0) * 1000:.1f} ms (all answers)",
        f"- readings: {sent:,} published in {duration} s ({sent / duration:,.0f}/s taken, the publisher held back by "
        f"PUBACKs that wait for the commit), {acked:,} acknowledged",
        "- IoT counters over the load: " + ", ".join(f"{k} {v:,}" for k, v in diff.items() if v)
        + f"; {counters[1].get('connections', 0):,} connections open at its end",
        *[f"- {line}" for line in loss],
        f"- plot: {r / 'rss.svg'}",
    ]
    text = "\n".join(lines) + "\n"
    (r / "summary.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
