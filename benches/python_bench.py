#!/usr/bin/env python3
"""The Python bindings beside the CLI, on a gen.py workload (default: 1M indicators).

Measures, in interleaved runs (the host is shared: medians of --runs):

* ``cli``: ``iocmatch match --index IX EVENTS`` (its own events/s figure, all cores);
* ``match_ndjson``: ``Matcher.match_ndjson(EVENTS)`` iterated to the end (all cores);
* ``match(dict)``: ``Matcher.match(event)`` one event at a time, on events already parsed by
  ``json.loads`` (one core, the GIL held);
* for reference, ``match(bytes)`` one JSON line at a time, and ``json.loads`` + ``match(dict)``
  (what a script reading NDJSON itself pays).

The index comes from ``--index``, else is made once from the gen.py TSV by the harness
(``--save-index``), like ``benches/run.sh``. Needs the wheel (``make python``) and the CLI
(``make build``); ``make bench-python`` does both. Results: a table on stdout and
``benches/results/python_bench.json``.

    python benches/python_bench.py [--n 1000000] [--runs 3] [--dict-events 200000]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import os
import pathlib
import re
import statistics
import subprocess
import sys
import time
from typing import Any, Dict, List

import iocmatch

ROOT = pathlib.Path(__file__).resolve().parents[1]
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
GEN = ROOT.parent / "shared" / "bench" / "gen.py"


def sh(cmd: List[str], **kw: Any) -> subprocess.CompletedProcess:
    print("+", " ".join(map(str, cmd)), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def loads(index: pathlib.Path) -> bool:
    """Whether this build reads the saved index (an older format is compiled again)."""
    try:
        iocmatch.load_index(str(index))
        return True
    except iocmatch.IocMatchError:
        return False


def workload(args: argparse.Namespace) -> "tuple[pathlib.Path, pathlib.Path]":
    work = pathlib.Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    events = work / f"events_{args.m}.jsonl"
    sample = work / "ind.sample.tsv"
    ind = work / f"ind_{args.n}.tsv"
    if not ind.exists() or (not sample.exists()):
        sh([sys.executable, GEN, "indicators", "--n", str(args.n), "--out", ind, "--sample-out", sample])
    if not events.exists():
        sh([sys.executable, GEN, "events", "--m", str(args.m), "--out", events, "--sample", sample])
    index = pathlib.Path(args.index) if args.index else work / f"python_bench_{args.n}.idx"
    if not index.exists() or not (args.index or loads(index)):
        sh(["cargo", "build", "--release", "-p", "iocmatch-bench", "--bin", "harness"], cwd=ROOT)
        small = work / "python_bench_small.jsonl"
        with open(events, "rb") as src, open(small, "wb") as dst:
            dst.writelines(itertools.islice(src, 1000))
        sh(
            [TARGET / "release" / "harness", "--indicators", ind, "--events", small, "--runs", "1",
             "--compile-runs", "1", "--lookups", "0", "--no-peer", "--no-raw", "--threads", "1",
             "--save-index", index],
            stdout=subprocess.DEVNULL,
        )
    return index, events


def run_cli(cli: pathlib.Path, index: pathlib.Path, events: pathlib.Path) -> Dict[str, float]:
    t = time.perf_counter()
    p = subprocess.run([cli, "match", "--index", index, events], stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    wall = time.perf_counter() - t
    m = re.search(rb"events: (\d+), matched events: (\d+), matches: (\d+).*\(([\d.]+) events/s", p.stderr)
    if not m:
        raise SystemExit(f"cannot read the CLI summary: {p.stderr[-500:]!r}")
    return {"events": int(m[1]), "matched_events": int(m[2]), "matches": int(m[3]), "events_per_s": float(m[4]), "wall_s": wall}


def run_ndjson(matcher: iocmatch.Matcher, events: pathlib.Path) -> Dict[str, float]:
    t = time.perf_counter()
    stream = matcher.match_ndjson(events)
    lines = set()
    n = 0
    for m in stream:
        n += 1
        lines.add(m.line)
    dt = time.perf_counter() - t
    s = stream.summary
    return {"events": s["events"], "matched_events": len(lines), "matches": n, "events_per_s": s["events"] / dt, "wall_s": dt}


def run_one_by_one(matcher: iocmatch.Matcher, items: List[Any]) -> Dict[str, float]:
    match = matcher.match
    t, c = time.perf_counter(), time.process_time()
    n = 0
    for e in items:
        n += len(match(e))
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    return {"events": len(items), "matches": n, "events_per_s": len(items) / dt, "events_per_cpu_s": len(items) / cpu}


def run_loads_and_match(matcher: iocmatch.Matcher, lines: List[bytes]) -> Dict[str, float]:
    match, loads = matcher.match, json.loads
    t, c = time.perf_counter(), time.process_time()
    n = 0
    for line in lines:
        n += len(match(loads(line)))
    dt, cpu = time.perf_counter() - t, time.process_time() - c
    return {"events": len(lines), "matches": n, "events_per_s": len(lines) / dt, "events_per_cpu_s": len(lines) / cpu}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000, help="indicators (gen.py)")
    ap.add_argument("--m", type=int, default=1_000_000, help="events (gen.py)")
    ap.add_argument("--work", default=os.environ.get("WORK", "/tmp/iocmatch-bench"))
    ap.add_argument("--index", help="a saved index to use (else made from the TSV)")
    ap.add_argument("--cli", default=str(TARGET / "release" / "iocmatch"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--dict-events", type=int, default=200_000, help="events for the one-at-a-time figures")
    ap.add_argument("--out", default=str(ROOT / "benches" / "results" / "python_bench.json"))
    args = ap.parse_args()

    index_path, events = workload(args)
    index = iocmatch.load_index(index_path)
    matcher = index.matcher()
    with open(events, "rb") as f:
        lines = list(itertools.islice(f, args.dict_events))
    dicts = [json.loads(line) for line in lines]
    gc.collect()

    measures: Dict[str, List[Dict[str, float]]] = {k: [] for k in ["cli", "match_ndjson", "match(dict)", "match(bytes)", "loads+match(dict)"]}
    for r in range(args.runs):
        # interleaved: every measure once per round
        measures["cli"].append(run_cli(pathlib.Path(args.cli), index_path, events))
        measures["match_ndjson"].append(run_ndjson(matcher, events))
        measures["match(dict)"].append(run_one_by_one(matcher, dicts))
        measures["match(bytes)"].append(run_one_by_one(matcher, lines))
        measures["loads+match(dict)"].append(run_loads_and_match(matcher, lines))
        print(f"round {r + 1}/{args.runs}: " + ", ".join(f"{k} {v[-1]['events_per_s']:,.0f}/s" for k, v in measures.items()), file=sys.stderr)

    med = {k: statistics.median(x["events_per_s"] for x in v) for k, v in measures.items()}
    med_cpu = {k: statistics.median(x["events_per_cpu_s"] for x in v) for k, v in measures.items() if "events_per_cpu_s" in v[0]}
    cli, nd = measures["cli"][-1], measures["match_ndjson"][-1]
    agree = (cli["events"], cli["matched_events"], cli["matches"]) == (nd["events"], nd["matched_events"], nd["matches"])
    summary = {
        "indicators": len(index),
        "events_file": str(events),
        "events": cli["events"],
        "dict_events": len(dicts),
        "runs": args.runs,
        "median_events_per_s": med,
        "median_events_per_cpu_s": med_cpu,
        "load_average": os.getloadavg(),
        "ndjson_vs_cli": med["match_ndjson"] / med["cli"],
        "dict_target_met": med["match(dict)"] >= 200_000,
        "ndjson_target_met": med["match_ndjson"] >= 0.85 * med["cli"],
        "results_agree_with_cli": agree,
        "measures": measures,
    }
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1))
    print(f"\n{len(index):,} indicators, {cli['events']:,} events ({events.name}), medians of {args.runs} interleaved runs")
    print(f"{'measure':<22}{'events/s':>14}{'per CPU s':>14}")
    for k, v in med.items():
        cpu = f"{med_cpu[k]:>14,.0f}" if k in med_cpu else f"{'(all cores)':>14}"
        print(f"{k:<22}{v:>14,.0f}{cpu}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())} (2 cores, shared host)")
    print(f"match_ndjson / cli: {summary['ndjson_vs_cli']:.3f} (target >= 0.85); match(dict) target >= 200,000: "
          f"{'met' if summary['dict_target_met'] else 'NOT met'}; matches agree with the CLI: {agree}")
    sys.exit(0 if agree else 1)


if __name__ == "__main__":
    main()
