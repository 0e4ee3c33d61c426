#!/usr/bin/env bash
# Generate the gen.py workloads and run the harness at each indicator count.
#
#   benches/run.sh [N...]          default: 100000 1000000
#
# Workloads go to $WORK (default /tmp/iocmatch-bench) and are reused when they exist (REGEN=1
# makes them again): indicators at each N (the sample for hit injection comes from the first
# file), and $EVENTS_M events (default 1,000,000) once. Results: benches/results/harness_N.json
# (the summary and every measurement), harness_N.jsonl (one JSON object per measurement) and
# harness_N.txt (the table). Extra harness flags go in $HARNESS_ARGS (e.g. "--no-peer").
# Exits non-zero when a truth check failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEN=${GEN:-$ROOT/../shared/bench/gen.py}
PEER=${PEER:-$(dirname "$GEN")/peer_soc.py}
WORK=${WORK:-/tmp/iocmatch-bench}
EVENTS_M=${EVENTS_M:-1000000}
RESULTS=$ROOT/benches/results
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}

if [ $# -eq 0 ]; then set -- 100000 1000000; fi
mkdir -p "$WORK" "$RESULTS"

if [[ " ${HARNESS_ARGS:-} " != *" --no-peer "* ]] && ! python3 -c 'import pytricia' 2>/dev/null; then
    echo "run.sh: installing pytricia for the peer" >&2
    python3 -m pip install --quiet pytricia
fi

lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

sample=$WORK/ind.sample.tsv
first=1
for n in "$@"; do
    ind=$WORK/ind_$n.tsv
    if [ "${REGEN:-0}" = 1 ] || [ "$(lines "$ind")" -ne "$n" ] || { [ $first = 1 ] && [ ! -s "$sample" ]; }; then
        echo "run.sh: generating $n indicators -> $ind" >&2
        if [ $first = 1 ]; then
            python3 "$GEN" indicators --n "$n" --out "$ind" --sample-out "$sample"
        else
            python3 "$GEN" indicators --n "$n" --out "$ind"
        fi
    fi
    first=0
done

events=$WORK/events_$EVENTS_M.jsonl
if [ "${REGEN:-0}" = 1 ] || [ "$(lines "$events")" -ne "$EVENTS_M" ] || [ ! -f "$events.truth.tsv" ]; then
    echo "run.sh: generating $EVENTS_M events -> $events" >&2
    python3 "$GEN" events --m "$EVENTS_M" --out "$events" --sample "$sample"
fi

(cd "$ROOT" && cargo build --release -p iocmatch-bench --bin harness)
harness=$CARGO_TARGET_DIR/release/harness

status=0
for n in "$@"; do
    echo "run.sh: harness at N=$n" >&2
    # shellcheck disable=SC2086 # HARNESS_ARGS is a list of flags
    "$harness" --indicators "$WORK/ind_$n.tsv" --events "$events" --out "$RESULTS/harness_$n.json" \
        --peer-script "$PEER" ${HARNESS_ARGS:-} >"$RESULTS/harness_$n.jsonl" 2> >(tee "$RESULTS/harness_$n.txt" >&2) || status=$?
done
exit $status
