#!/usr/bin/env bash
# The C ABI against the CLI on the engine's NDJSON workload: `iocmatch match --index` and the C++
# plugin (examples/cpp/ioc_plugin.cpp, linked to the release libiocmatch.a) over the same events
# file and index, both writing their alerts to a file. Runs are interleaved (CLI, C++, CLI, C++,
# ...) so that a busy shared host slows both alike; the medians of $RUNS (default 5) are reported
# per indicator count and thread count.
#
#   benches/ffi_bench.sh [N...]          default: 1000000
#
# Workloads as benches/run.sh makes them, in $WORK (default /tmp/iocmatch-bench; missing ones are
# generated with gen.py): ind_N.tsv and events_$EVENTS_M.jsonl. The index of each N is compiled
# once by the harness (--save-index) into $WORK/ffi_ix_N.bin (REGEN=1 compiles it again).
# THREADS="1 2" lists the thread counts. Events/s are from the wall-clock time of each process
# (start, index load and all); "inner" is what each tool reports for its matching loop, and the
# CPU seconds (user + system) are less sensitive to other load on the host. Results: benches/results/ffi_N.jsonl (one JSON object per
# run) and ffi_N.txt (the table). Exits non-zero when the two disagree on the alerts.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
GEN=${GEN:-$ROOT/../shared/bench/gen.py}
WORK=${WORK:-/tmp/iocmatch-bench}
EVENTS_M=${EVENTS_M:-1000000}
RUNS=${RUNS:-5}
THREADS=${THREADS:-"1 2"}
RESULTS=$ROOT/benches/results
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
REL=$CARGO_TARGET_DIR/release

if [ $# -eq 0 ]; then set -- 1000000; fi
mkdir -p "$WORK" "$RESULTS"
lines() { if [ -f "$1" ]; then wc -l <"$1"; else echo 0; fi; }

sample=$WORK/ind.sample.tsv
events=$WORK/events_$EVENTS_M.jsonl
for n in "$@"; do
    if [ "$(lines "$WORK/ind_$n.tsv")" -ne "$n" ]; then
        echo "ffi_bench: generating $n indicators" >&2
        if [ -s "$sample" ]; then
            python3 "$GEN" indicators --n "$n" --out "$WORK/ind_$n.tsv"
        else
            python3 "$GEN" indicators --n "$n" --out "$WORK/ind_$n.tsv" --sample-out "$sample"
        fi
    fi
done
if [ "$(lines "$events")" -ne "$EVENTS_M" ]; then
    echo "ffi_bench: generating $EVENTS_M events" >&2
    python3 "$GEN" events --m "$EVENTS_M" --out "$events" --sample "$sample"
fi

(cd "$ROOT" && cargo build --release -p iocmatch-cli -p iocmatch-ffi && cargo build --release -p iocmatch-bench --bin harness)
plugin=$REL/ioc_plugin
g++ -std=c++17 -Wall -Wextra -Werror -O2 -I"$ROOT/include" "$ROOT/examples/cpp/ioc_plugin.cpp" \
    "$REL/libiocmatch.a" -lpthread -ldl -lm -o "$plugin"

now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# the figure before " events/s" in a summary line on stderr
rate() { sed -n 's/.*(\([0-9]*\) events\/s.*/\1/p' "$1" | tail -1; }

status=0
for n in "$@"; do
    ix=$WORK/ffi_ix_$n.bin
    # compile it again when asked, when absent, or when this build cannot load it (an older format)
    if [ "${REGEN:-0}" = 1 ] || [ ! -s "$ix" ] || ! "$REL/iocmatch" match --index "$ix" /dev/null >/dev/null 2>&1; then
        echo "ffi_bench: compiling the index of $n indicators -> $ix" >&2
        "$REL/harness" --indicators "$WORK/ind_$n.tsv" --events "$events" --runs 1 --compile-runs 1 --lookups 0 \
            --threads 1 --no-peer --no-raw --save-index "$ix" >/dev/null
    fi
    out=$RESULTS/ffi_$n.jsonl
    : >"$out"
    tmp=$(mktemp -d)
    trap 'rm -rf "$tmp"' EXIT
    for t in $THREADS; do
        for r in $(seq 1 "$RUNS"); do
            for tool in cli cpp; do
                if [ $tool = cli ]; then
                    cmd=("$REL/iocmatch" match --index "$ix" --threads "$t" "$events")
                else
                    cmd=("$plugin" --index "$ix" --threads "$t" "$events")
                fi
                s=$(now)
                /usr/bin/time -f "%U %S" -o "$tmp/cpu.$tool" "${cmd[@]}" >"$tmp/alerts.$tool" 2>"$tmp/err.$tool"
                e=$(now)
                cpu=$(awk '{ printf "%.2f", $1 + $2 }' "$tmp/cpu.$tool")
                ev=$(sed -n 's/.*events: \([0-9]*\), matched.*/\1/p' "$tmp/err.$tool" | tail -1)
                wall=$(echo "$s $e" | awk '{ printf "%.4f", $2 - $1 }')
                printf '{"n": %s, "threads": %s, "run": %s, "tool": "%s", "events": %s, "wall_s": %s, "wall_events_per_s": %.0f, "inner_events_per_s": %s, "cpu_s": %s, "alerts": %s}\n' \
                    "$n" "$t" "$r" "$tool" "$ev" "$wall" "$(echo "$ev $wall" | awk '{ print $1 / $2 }')" \
                    "$(rate "$tmp/err.$tool")" "$cpu" "$(wc -l <"$tmp/alerts.$tool")" >>"$out"
            done
            if [ "$(wc -l <"$tmp/alerts.cli")" -ne "$(wc -l <"$tmp/alerts.cpp")" ]; then
                echo "ffi_bench: the CLI and the C++ plugin disagree on the number of alerts" >&2
                status=1
            fi
        done
        # the same alerts, line by line: (line, indicator id) pairs
        python3 - "$tmp/alerts.cli" "$tmp/alerts.cpp" <<'EOF' || status=1
import json, sys
cli = sorted((str(m["line"]), m["indicator_id"], m["field"]) for m in map(json.loads, open(sys.argv[1])))
cpp = sorted((f[0], f[5], f[1]) for f in (l.rstrip("\n").split("\t") for l in open(sys.argv[2])))
if cli != cpp:
    sys.exit(f"ffi_bench: the alerts differ ({len(cli)} from the CLI, {len(cpp)} from the C++ plugin)")
EOF
    done
    {
        echo "N=$n, events file $(basename "$events"), medians of $RUNS interleaved runs"
        printf '%-8s %-14s %-14s %-8s %-13s %-13s %-9s %-9s\n' threads "CLI events/s" "C++ events/s" "C++/CLI" "CLI (inner)" "C++ (inner)" "CLI cpu s" "C++ cpu s"
        for t in $THREADS; do
            pick() { python3 -c "import json,sys; print('\n'.join(str(v['$2']) for v in map(json.loads, open('$out')) if v['threads'] == $t and v['tool'] == '$1'))"; }
            c=$(pick cli wall_events_per_s | median)
            p=$(pick cpp wall_events_per_s | median)
            ci=$(pick cli inner_events_per_s | median)
            pi=$(pick cpp inner_events_per_s | median)
            cc=$(pick cli cpu_s | median)
            pc=$(pick cpp cpu_s | median)
            printf '%-8s %-14.0f %-14.0f %-8.3f %-13.0f %-13.0f %-9.2f %-9.2f\n' "$t" "$c" "$p" "$(echo "$p $c" | awk '{ print $1 / $2 }')" \
                "$ci" "$pi" "$cc" "$pc"
        done
    } | tee "$RESULTS/ffi_$n.txt"
    rm -rf "$tmp"
    trap - EXIT
done
exit $status
