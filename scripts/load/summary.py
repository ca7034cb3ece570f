"""The load run's figures as Markdown rows for BENCHMARKS.md (scripts/load/run.sh).

usage: summary.py RESULTS_DIR RATE CLK_TCK
"""

import json
import sys
from pathlib import Path

results, rate, tick = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])

# name|kind|oha user sys elapsed|server ticks|postgres ticks|t0|t1|file
cpu = {}
files = {}
for line in (results / "cpu.txt").read_text().splitlines():
    name, kind, times, server, postgres, t0, t1, file = line.split("|")
    files[(name, kind)] = Path(file)
    user, sys_, _elapsed = (float(x) for x in times.split())
    wall = float(t1) - float(t0)
    cpu[(name, kind)] = (
        (user + sys_) / wall,
        int(server) / tick / wall,
        int(postgres) / tick / wall,
    )


def ms(seconds):
    return f"{seconds * 1000:,.1f}" if seconds is not None else "–"


def row(name, kind):
    f = files.get((name, kind))
    if f is None or not f.exists():
        return None
    d = json.loads(f.read_text())
    s = d["summary"]
    p = d.get("latencyPercentiles", {})
    codes = d.get("statusCodeDistribution", {})
    ok = sum(v for k, v in codes.items() if k.startswith("2") or k == "304")
    bad = sum(codes.values()) - ok + sum(d.get("errorDistribution", {}).values())
    oha, server, postgres = cpu.get((name, kind), (0, 0, 0))
    return (
        f"| {name} | {s['requestsPerSec']:,.0f} | {ms(p.get('p50'))} | {ms(p.get('p99'))} | {ms(s.get('slowest'))} "
        f"| {bad} | {', '.join(sorted(codes))} | {oha:.2f} | {server:.2f} | {postgres:.2f} |"
    )


names = []
for line in (results / "cpu.txt").read_text().splitlines():
    name = line.split("|")[0]
    if name not in names:
        names.append(name)

head = "| path | achieved req/s | p50 ms | p99 ms | max ms | errors | statuses | oha CPU (cores) | server CPU | PostgreSQL CPU |"
rule = "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
print((results / "setup.txt").read_text().strip())
print()
print(f"At a fixed {rate:,} requests a second, latency corrected for coordinated omission:")
print()
print(head)
print(rule)
for name in names:
    r = row(name, "rate")
    if r:
        print(r)
print()
print("Closed loop, 32 connections, as fast as it goes (the saturation point):")
print()
print(head)
print(rule)
for name in names:
    r = row(name, "closed")
    if r:
        print(r)
fanout = results / "fanout.json"
if fanout.exists() and fanout.read_text().strip():
    f = json.loads(fanout.read_text().strip().splitlines()[-1])
    user, sys_, elapsed = (float(x) for x in (results / "fanout.time").read_text().split())
    print()
    print(
        f"WebSocket fan-out: {f['subscribed']} of {f['clients']} clients subscribed to the district's cases, "
        f"{f['created']} probe cases created at {f['cases_per_second']}/s ({f['refused']} refused); "
        f"{f['probe_deliveries']} of {f['probe_deliveries_expected']} probe deliveries, "
        + (
            f"{f['probe_cases_received']} of the {f['created']} cases received by some client, "
            f"{f['clients_with_every_case']} clients with every one; "
            if "probe_cases_received" in f
            else ""
        )
        + f"{f['deltas_per_second']:,.0f} deltas/s delivered in all; latency p50 {f['latency_ms']['p50']:.1f} ms, "
        f"p99 {f['latency_ms']['p99']:.1f} ms, max {f['latency_ms']['max']:.1f} ms; "
        f"the client's CPU {(user + sys_) / elapsed:.2f} cores."
    )
