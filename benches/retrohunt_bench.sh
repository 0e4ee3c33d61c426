#!/usr/bin/env bash
# Retrohunt throughput: N indicators under one detection rule, hunted over an NDJSON archive of
# ECS events with `iocmatch retrohunt`; prints MB/s (event bytes / wall seconds) and the alerts
# found against the generator's truth file.
#
#   benches/retrohunt_bench.sh [N]            default N = 1,000,000 indicators
#
# Environment: EVENTS_M events (default 1,000,000, ~1 GB), WORK (default /tmp/iocmatch-bench,
# shared with run.sh: ind_N.tsv, ind.sample.tsv and events_M.jsonl are reused when present;
# REGEN=1 makes them again), MARGIN (default 5d), THREADS (default: every core),
# INCREMENTAL=1 (also time an incremental run twice: the second finds nothing new).
# Needs python3 (gen.py, the CSV conversion and the truth check) and /usr/bin/time.
# The truth check counts the injected hits found (events alerted on), missed and extra; hits are
# drawn from the first 100,000 generated indicators, so "missed" is meaningful for N >= 100,000.
# Try it small first: EVENTS_M=20000 WORK=/tmp/iocmatch-bench-small benches/retrohunt_bench.sh 10000
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEN=${GEN:-$ROOT/../shared/bench/gen.py}
WORK=${WORK:-/tmp/iocmatch-bench}
N=${1:-1000000}
EVENTS_M=${EVENTS_M:-1000000}
MARGIN=${MARGIN:-5d}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
mkdir -p "$WORK"

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

ind=$WORK/ind_$N.tsv
sample=$WORK/ind.sample.tsv
# gen.py's stream is prefix-stable: a bigger cached file gives the first N lines; the hit sample
# (shared with run.sh and its cached events) is only written when missing
bigger=$(ls "$WORK"/ind_*.tsv 2>/dev/null | sed -n "s|.*/ind_\([0-9]*\)\.tsv$|\1|p" | sort -n | awk -v n="$N" '$1 > n' | head -n 1)
if [ "${REGEN:-0}" = 1 ] || [ ! -s "$sample" ]; then
    echo "retrohunt_bench: generating $N indicators -> $ind (and the hit sample)" >&2
    python3 "$GEN" indicators --n "$N" --out "$ind" --sample-out "$sample"
elif [ "$(lines "$ind")" -ne "$N" ] && [ -n "$bigger" ]; then
    echo "retrohunt_bench: the first $N lines of $WORK/ind_$bigger.tsv -> $ind" >&2
    head -n "$N" "$WORK/ind_$bigger.tsv" >"$ind"
elif [ "$(lines "$ind")" -ne "$N" ]; then
    echo "retrohunt_bench: generating $N indicators -> $ind" >&2
    python3 "$GEN" indicators --n "$N" --out "$ind"
fi
events=$WORK/events_$EVENTS_M.jsonl
if [ "${REGEN:-0}" = 1 ] || [ "$(lines "$events")" -ne "$EVENTS_M" ] || [ ! -f "$events.truth.tsv" ]; then
    echo "retrohunt_bench: generating $EVENTS_M events -> $events" >&2
    python3 "$GEN" events --m "$EVENTS_M" --out "$events" --sample "$sample"
fi

(cd "$ROOT" && cargo build --release -p iocmatch-cli)
BIN=$CARGO_TARGET_DIR/release/iocmatch

# the indicators as two CSV files (domains that match sub-domains apart), dates in RFC 3339
run=$(mktemp -d "$WORK/retrohunt.XXXXXX")
trap 'rm -rf "$run"' EXIT
python3 - "$ind" "$run" <<'PY'
import csv, sys
from datetime import datetime, timezone

def rfc(s):
    t = int(s)
    return datetime.fromtimestamp(t, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ") if t else ""

src, out = sys.argv[1], sys.argv[2]
with open(src) as f, open(out + "/plain.csv", "w", newline="") as a, open(out + "/sub.csv", "w", newline="") as b:
    wa, wb = csv.writer(a), csv.writer(b)
    for w in (wa, wb):
        w.writerow(["indicator", "valid_from", "valid_until"])
    for line in f:
        kind, value, start, until, opts = line.rstrip("\n").split("\t")
        (wb if "subdomains" in opts else wa).writerow([value, rfc(start), rfc(until)])
PY

db=$run/bench.db
q() { "$BIN" --db "$db" "$@" >/dev/null; }
q collection create bench --create-rule
q limit --set $((2 * N))
t0=$(date +%s.%N)
q import file bench "$run/plain.csv" --mapping observable,valid_from,valid_until --ignore-first-line
q import file bench "$run/sub.csv" --mapping observable,valid_from,valid_until --ignore-first-line \
    --match-subdomains true
t1=$(date +%s.%N)
echo "retrohunt_bench: imported $("$BIN" --db "$db" limit --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])') of $N indicators in $(python3 -c "print(round($t1 - $t0, 1))")s" >&2

hunt() { # hunt NAME [flags...]: time one retrohunt, alerts to $run/NAME.ndjson, summary to $run/NAME.json
    local name=$1
    shift
    # shellcheck disable=SC2086 # THREADS is optional
    /usr/bin/time -f '%e %M' -o "$run/$name.time" "$BIN" --db "$db" --json retrohunt --margin "$MARGIN" \
        ${THREADS:+--threads $THREADS} "$@" --out "$run/$name.ndjson" "$events" 2>"$run/$name.err"
    tail -n 1 "$run/$name.err" >"$run/$name.json"
}
report() { # report NAME: one JSON line (with the truth check for full runs)
    python3 - "$run/$1" "$events.truth.tsv" "$1" "$N" "$EVENTS_M" <<'PY'
import json, sys
base, truth_path, name, n, m = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
wall, rss_kb = open(base + ".time").read().split()
wall = max(float(wall), 0.01)  # /usr/bin/time has 10 ms resolution
s = json.load(open(base + ".json"))
alerted = set()
with open(base + ".ndjson") as f:
    for line in f:
        alerted.add(json.loads(line)["line"] - 1)  # truth lines are 0-based
truth = set()
with open(truth_path) as f:
    for line in f:
        truth.add(int(line.split("\t", 1)[0]))
out = {
    "bench": "retrohunt", "run": name, "indicators": n, "events": s["events"], "bytes": s["bytes"],
    "wall_s": wall, "mb_per_s": round(s["bytes"] / wall / 1e6, 1), "max_rss_mb": round(int(rss_kb) / 1024, 1),
    "alerts": s["alerts"], "alerted_events": len(alerted), "indicators_hunted": s["indicators"],
    "files_skipped": s["files_skipped"], "bad_lines": s["bad_lines"],
}
if s["files_skipped"] == 0 and s["events"] == m:
    out.update({"truth_events": len(truth), "found": len(alerted & truth), "missed": len(truth - alerted),
                "extra": len(alerted - truth)})
print(json.dumps(out))
PY
}

echo "retrohunt_bench: hunting $(du -h "$events" | cut -f1) of events ($EVENTS_M) for $N indicators" >&2
hunt full
report full
if [ "${INCREMENTAL:-0}" = 1 ]; then
    hunt incremental-first --incremental
    report incremental-first
    hunt incremental-again --incremental
    report incremental-again
fi
