#!/usr/bin/env python3
"""Benchmark: `iocmatch import file` of an N-row CSV into a file-backed store (median of runs).

The CSV is made from ../shared/bench/gen.py indicators output: a header row, then per indicator
its value, valid_from as `YYYY-MM-DD HH:MM:SS`, valid_until in RFC 3339 (empty when it never
expires) and its type as a comment column; the mapping is the suggested one (header detected).
The community limit is raised to fit N. Run from the repository root after `make build`:

    python3 benches/csv_import_bench.py [--n 1000000] [--runs 3]
"""
import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen.py")
TARGET = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
BIN = os.path.join(TARGET, "release", "iocmatch")


def make_csv(tsv: str, out_path: str) -> None:
    with open(tsv) as f, open(out_path, "w", newline="") as out:
        w = csv.writer(out)
        w.writerow(["indicator", "first_seen", "valid_until", "comment"])
        for line in f:
            kind, value, valid_from, valid_until, _ = line.rstrip("\n").split("\t")
            start = datetime.fromtimestamp(int(valid_from), timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            until = int(valid_until)
            end = datetime.fromtimestamp(until, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if until else ""
            w.writerow([value, start, end, kind])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit(f"build first: make build ({BIN} is missing)")
    with tempfile.TemporaryDirectory() as d:
        tsv = os.path.join(d, "ind.tsv")
        path = os.path.join(d, "ind.csv")
        subprocess.run([sys.executable, GEN, "indicators", "--n", str(a.n), "--out", tsv], check=True)
        make_csv(tsv, path)
        times = []
        report = None
        db = os.path.join(d, "bench.db")
        for _ in range(a.runs):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            quiet = {"check": True, "stdout": subprocess.DEVNULL}
            subprocess.run([BIN, "--db", db, "collection", "create", "bench"], **quiet)
            subprocess.run([BIN, "--db", db, "limit", "--set", str(2 * a.n)], **quiet)
            t = time.perf_counter()
            out = subprocess.run([BIN, "--db", db, "import", "file", "bench", path, "--json"],
                                 check=True, capture_output=True)
            times.append(time.perf_counter() - t)
            report = json.loads(out.stdout)
        reasons: dict[str, int] = {}
        for r in report["rejected"]:
            key = r["reason"].split(":")[0]
            reasons[key] = reasons.get(key, 0) + 1
        print(json.dumps({
            "bench": "import_file_csv", "n": a.n, "runs": a.runs,
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "csv_bytes": os.path.getsize(path),
            "lines": report["lines"], "imported": report["imported"],
            "duplicates": report["duplicates"], "rejected": len(report["rejected"]),
            "rejected_by_reason": reasons,
        }))


if __name__ == "__main__":
    main()
