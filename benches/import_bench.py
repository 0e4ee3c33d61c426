#!/usr/bin/env python3
"""Benchmark: text import of N mixed indicators into a file-backed store (median of runs).

Uses ../shared/bench/gen.py for the workload (domains, IPv4/IPv6, CIDRs, hashes, URLs,
e-mails; ~2 % duplicates). Run from the repository root after `make build`:

    python3 benches/import_bench.py [--n 500000] [--runs 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GEN = os.path.join(ROOT, "..", "shared", "bench", "gen.py")
BIN = os.path.join(ROOT, "target", "release", "iocmatch")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=500_000)
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    if not os.path.exists(BIN):
        sys.exit("build first: make build")
    with tempfile.TemporaryDirectory() as d:
        tsv = os.path.join(d, "ind.tsv")
        txt = os.path.join(d, "ind.txt")
        subprocess.run([sys.executable, GEN, "indicators", "--n", str(a.n), "--out", tsv], check=True)
        with open(tsv) as f, open(txt, "w") as out:
            for line in f:
                out.write(line.split("\t", 2)[1] + "\n")
        times = []
        report = None
        for _ in range(a.runs):
            db = os.path.join(d, "bench.db")
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(db + suffix):
                    os.remove(db + suffix)
            subprocess.run([BIN, "--db", db, "collection", "create", "bench"], check=True, stdout=subprocess.DEVNULL)
            t = time.perf_counter()
            out = subprocess.run([BIN, "--db", db, "import", "text", "bench", txt, "--json"],
                                 check=True, capture_output=True)
            times.append(time.perf_counter() - t)
            report = json.loads(out.stdout)
        print(json.dumps({
            "bench": "import_text", "n": a.n, "runs": a.runs,
            "median_s": round(statistics.median(times), 3),
            "min_s": round(min(times), 3), "max_s": round(max(times), 3),
            "lines": report["lines"], "imported": report["imported"],
            "duplicates": report["duplicates"], "rejected": len(report["rejected"]),
            "db_bytes": os.path.getsize(db),
        }))


if __name__ == "__main__":
    main()
