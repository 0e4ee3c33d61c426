//! The iocmatch benchmark harness: compile, save, load, look-ups per kind, NDJSON matching on
//! 1..n threads, the truth check, and the plain-Python peer, all in one run.
//!
//! ```text
//! cargo run --release -p iocmatch-bench --bin harness -- \
//!     --indicators ind.tsv --events ev.jsonl [--threads 1,2] [--out results.json] [--no-peer]
//! ```
//!
//! Prints one JSON object per measurement on stdout and a readable table on stderr at the end;
//! `--out` writes every measurement and the summary to one JSON file. Exits with 1 when the truth
//! check fails (a planted hit missed, or a line matched that is not in the truth), 2 on a usage or
//! I/O error.

use clap::Parser;
use iocmatch::matcher::NdjsonItem;
use iocmatch::{Index, MatchOptions, Matcher};
use iocmatch_bench as bench;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

/// Benchmark the iocmatch index and matcher on a gen.py workload.
#[derive(Parser, Debug)]
#[command(name = "harness")]
struct Args {
    /// Indicators TSV written by `gen.py indicators`.
    #[arg(long)]
    indicators: Option<PathBuf>,
    /// Use this saved index instead of compiling `--indicators` (no compile, save or look-up
    /// figures; the peer still needs `--indicators`).
    #[arg(long)]
    index: Option<PathBuf>,
    /// Events NDJSON written by `gen.py events` (its `.truth.tsv` beside it is checked).
    #[arg(long)]
    events: Option<PathBuf>,
    /// Thread counts for NDJSON matching, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,2")]
    threads: Vec<usize>,
    /// Write every measurement and the summary to this JSON file.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Runs of each timed measurement (the median is reported).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Runs of the compilation (the median is reported).
    #[arg(long, default_value_t = 3)]
    compile_runs: usize,
    /// Hit values and miss values per kind for the look-up measurements (0: skip them).
    #[arg(long, default_value_t = 100_000)]
    lookups: usize,
    /// Where to save the compiled index (default: a temporary file, removed at the end).
    #[arg(long)]
    save_index: Option<PathBuf>,
    /// Do not run the Python peer.
    #[arg(long)]
    no_peer: bool,
    /// Do not measure raw-text scanning.
    #[arg(long)]
    no_raw: bool,
    /// The peer script.
    #[arg(long, default_value = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/bench/peer_soc.py"))]
    peer_script: PathBuf,
    /// The Python interpreter for the peer.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Seed of the look-up values.
    #[arg(long, default_value_t = 42)]
    seed: u64,
}

/// Measurements, printed as they come and kept for `--out` and the table.
#[derive(Default)]
struct Report {
    items: Vec<Value>,
}

impl Report {
    fn emit(&mut self, v: Value) {
        println!("{v}");
        self.items.push(v);
    }

    fn find(&self, measure: &str, pred: impl Fn(&Value) -> bool) -> Option<&Value> {
        self.items.iter().find(|v| v["measure"] == measure && pred(v))
    }
}

fn progress(msg: &str) {
    eprintln!("[harness] {msg}");
}

fn round(x: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (x * p).round() / p
}

/// Time `f` `runs` times; the seconds of each run.
fn timed<T>(runs: usize, mut f: impl FnMut() -> T) -> (Vec<f64>, T) {
    let mut secs = Vec::with_capacity(runs);
    let mut last = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        let r = f();
        secs.push(t.elapsed().as_secs_f64());
        last = Some(r);
    }
    (secs, last.expect("at least one run"))
}

/// A fixed amount of pure integer work (no memory traffic).
fn spin(iters: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for _ in 0..iters {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    std::hint::black_box(x)
}

/// How much CPU the machine gives right now: the time of a fixed spin loop alone, and of two
/// copies at once on two threads. `parallel_speedup` is 2.0 on two free cores, ~1.0 when the
/// second core is taken (shared hosts): the multi-thread figures must be read with it.
fn calibrate(report: &mut Report, when: &str) {
    const ITERS: u64 = 200_000_000;
    let (one, _) = timed(3, || spin(ITERS));
    let (two, _) = timed(3, || {
        std::thread::scope(|s| {
            let a = s.spawn(|| spin(ITERS));
            spin(ITERS) ^ a.join().unwrap_or(0)
        })
    });
    let (one, two) = (bench::median(&one), bench::median(&two));
    report.emit(json!({
        "measure": "cpu_check",
        "when": when,
        "spin_1_thread_s": round(one, 3),
        "spin_2_threads_s": round(two, 3),
        "parallel_speedup": round(2.0 * one / two, 2),
        "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    }));
}

fn fail(msg: impl std::fmt::Display) -> ! {
    eprintln!("harness: {msg}");
    std::process::exit(2)
}

struct TempIndex {
    path: PathBuf,
    remove: bool,
}

impl Drop for TempIndex {
    fn drop(&mut self) {
        if self.remove {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Parse, compile (median of `compile_runs`), make the look-up values, save.
fn compile_phase(args: &Args, path: &Path, report: &mut Report, save_to: &Path) -> Vec<bench::LookupSet> {
    progress(&format!("reading {}", path.display()));
    let t = Instant::now();
    let loaded = bench::load_tsv(path).unwrap_or_else(|e| fail(format!("cannot read {}: {e}", path.display())));
    let parse_s = t.elapsed().as_secs_f64();
    report.emit(json!({
        "measure": "parse_tsv",
        "secs": round(parse_s, 3),
        "lines": loaded.lines,
        "records": loaded.records.len(),
        "skipped_window": loaded.skipped_window,
        "rejected": loaded.rejected,
        "rejected_examples": loaded.rejected_examples,
        "per_type": loaded.per_type,
    }));
    progress(&format!("compiling {} indicators ({} runs)", loaded.records.len(), args.compile_runs.max(1)));
    let mut secs = Vec::new();
    let mut index = None;
    for _ in 0..args.compile_runs.max(1) {
        drop(index.take());
        let records = loaded.records.clone(); // not timed: the records are "in memory"
        let t = Instant::now();
        let built = bench::compile(records).unwrap_or_else(|e| fail(format!("compile failed: {e}")));
        secs.push(t.elapsed().as_secs_f64());
        index = Some(built);
    }
    let index = Arc::new(index.expect("compiled"));
    let compile_s = bench::median(&secs);
    let n = index.len();
    let bytes = index.size_bytes();
    report.emit(json!({
        "measure": "compile",
        "secs": round(compile_s, 3),
        "runs": secs.iter().map(|s| round(*s, 3)).collect::<Vec<_>>(),
        "indicators": n,
        "index_bytes": bytes,
        "bytes_per_indicator": round(bytes as f64 / n.max(1) as f64, 2),
        "parse_plus_compile_secs": round(parse_s + compile_s, 3),
    }));
    let sets = if args.lookups > 0 {
        progress("drawing look-up values");
        let m = Matcher::new(index.clone(), &MatchOptions::default()).unwrap_or_else(|e| fail(e));
        bench::lookup_sets(&loaded.records, &m, args.lookups, args.seed)
    } else {
        Vec::new()
    };
    drop(loaded);
    let (secs, res) = timed(1, || index.save(save_to));
    res.unwrap_or_else(|e| fail(format!("save failed: {e}")));
    report.emit(json!({"measure": "save", "secs": round(secs[0], 3), "bytes": bytes, "path": save_to}));
    sets
}

/// Load the saved index `runs` times (median); keep the last one.
fn load_phase(args: &Args, path: &Path, report: &mut Report) -> Arc<Index> {
    // the file is in the page cache: it was just written, or is read once here
    let _ = std::fs::read(path);
    let mut secs = Vec::new();
    let mut rss = Vec::new();
    let mut kept = None;
    for _ in 0..args.runs.max(1) {
        drop(kept.take());
        let before = bench::rss_kib().unwrap_or(0);
        let t = Instant::now();
        let idx = Index::load(path).unwrap_or_else(|e| fail(format!("load failed: {e}")));
        secs.push(t.elapsed().as_secs_f64());
        rss.push(bench::rss_kib().unwrap_or(0).saturating_sub(before) as f64);
        kept = Some(idx);
    }
    let idx = kept.expect("loaded");
    report.emit(json!({
        "measure": "load",
        "secs": round(bench::median(&secs), 5),
        "ms": round(bench::median(&secs) * 1e3, 2),
        "runs_ms": secs.iter().map(|s| round(s * 1e3, 2)).collect::<Vec<_>>(),
        "indicators": idx.len(),
        "index_bytes": idx.size_bytes(),
        "rss_delta_kib": bench::median(&rss) as u64,
        "rss_delta_mib": round(bench::median(&rss) / 1024.0, 1),
    }));
    Arc::new(idx)
}

fn lookup_phase(args: &Args, matcher: &Matcher, sets: &[bench::LookupSet], report: &mut Report) {
    let at = bench::lookup_time();
    for set in sets {
        for (case, values) in [("hit", &set.hits), ("miss", &set.misses)] {
            if values.is_empty() {
                continue;
            }
            let _ = bench::run_lookups(matcher, set.field, values, at); // warm-up
            let (secs, found) = timed(args.runs, || bench::run_lookups(matcher, set.field, values, at));
            let med = bench::median(&secs);
            report.emit(json!({
                "measure": "lookup",
                "kind": set.name,
                "field": set.field,
                "case": case,
                "values": values.len(),
                "found": found,
                "lookups_per_s": round(values.len() as f64 / med, 0),
                "ns_per_lookup": round(med * 1e9 / values.len() as f64, 1),
            }));
        }
    }
}

/// Match the events file on each thread count; returns the 0-based matched lines of the first run.
fn ndjson_phase(args: &Args, matcher: &Matcher, data: &[u8], report: &mut Report) -> (BTreeSet<u64>, bool) {
    let mut first: Option<BTreeSet<u64>> = None;
    let mut consistent = true;
    calibrate(report, "before ndjson");
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .unwrap_or_else(|e| fail(format!("thread pool: {e}")));
        progress(&format!("matching {} MB on {threads} thread(s), {} runs", data.len() / 1_000_000, args.runs));
        let mut secs = Vec::new();
        let mut summary = None;
        for _ in 0..args.runs.max(1) {
            let mut matched = BTreeSet::new();
            let t = Instant::now();
            let sum = pool
                .install(|| {
                    matcher.match_ndjson(data, None, &mut |item| {
                        if let NdjsonItem::Event { line, matches } = item {
                            if !matches.matches.is_empty() {
                                matched.insert(line - 1);
                            }
                        }
                        Ok(())
                    })
                })
                .unwrap_or_else(|e| fail(format!("match_ndjson failed: {e}")));
            secs.push(t.elapsed().as_secs_f64());
            match &first {
                None => first = Some(matched),
                Some(f) => consistent &= *f == matched,
            }
            summary = Some(sum);
        }
        let sum = summary.expect("ran");
        let med = bench::median(&secs);
        report.emit(json!({
            "measure": "ndjson",
            "threads": threads,
            "events": sum.events,
            "bytes": sum.bytes,
            "secs": round(med, 4),
            "runs_s": secs.iter().map(|s| round(*s, 4)).collect::<Vec<_>>(),
            "events_per_s": round(sum.events as f64 / med, 0),
            "mb_per_s": round(sum.bytes as f64 / med / 1e6, 1),
            "matched_events": sum.matched_events,
            "matches": sum.matches,
            "bad_lines": sum.bad_lines,
        }));
    }
    (first.unwrap_or_default(), consistent)
}

/// Raw-text scanning of the events file's lines (`Matcher::scan_text_stream`, every kind looked
/// for anywhere in a line) on each thread count, at one time half a day after `T0`. Compiled only
/// when core has the method (`build.rs` sets `has_scan_text_stream`).
#[cfg(has_scan_text_stream)]
fn raw_phase(args: &Args, matcher: &Matcher, data: &[u8], truth: Option<&[bench::TruthEntry]>, report: &mut Report) {
    let at = iocmatch::Timestamp::from_secs(bench::T0 + bench::DAY_SECS / 2);
    calibrate(report, "before raw text");
    for &threads in &args.threads {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads.max(1))
            .build()
            .unwrap_or_else(|e| fail(format!("thread pool: {e}")));
        progress(&format!("scanning {} MB as raw text on {threads} thread(s)", data.len() / 1_000_000));
        let mut secs = Vec::new();
        let mut last = None;
        for _ in 0..args.runs.max(1) {
            let mut matched = BTreeSet::new();
            let t = Instant::now();
            let sum = pool
                .install(|| {
                    matcher.scan_text_stream(data, Some(at), &mut |item| {
                        if let NdjsonItem::Event { line, matches } = item {
                            if !matches.matches.is_empty() {
                                matched.insert(line - 1);
                            }
                        }
                        Ok(())
                    })
                })
                .unwrap_or_else(|e| fail(format!("scan_text_stream failed: {e}")));
            secs.push(t.elapsed().as_secs_f64());
            last = Some((sum, matched));
        }
        let (sum, matched) = last.expect("ran");
        let med = bench::median(&secs);
        let check = truth.map(|t| bench::check_truth(t, &matched));
        report.emit(json!({
            "measure": "raw_text",
            "threads": threads,
            "lines": sum.events,
            "bytes": sum.bytes,
            "secs": round(med, 4),
            "runs_s": secs.iter().map(|s| round(*s, 4)).collect::<Vec<_>>(),
            "mb_per_s": round(sum.bytes as f64 / med / 1e6, 1),
            "mb_per_s_per_core": round(sum.bytes as f64 / med / 1e6 / threads.max(1) as f64, 1),
            "lines_per_s": round(sum.events as f64 / med, 0),
            "matched_lines": sum.matched_events,
            "matches": sum.matches,
            "truth_missed": check.as_ref().map(|c| c.missed_count),
            "truth_extra": check.as_ref().map(|c| c.extra_count),
        }));
    }
}

/// Raw-text scanning: core has no `Matcher::scan_text_stream` (`build.rs` looked), so it is
/// reported as not measured.
#[cfg(not(has_scan_text_stream))]
fn raw_phase(
    _args: &Args,
    _matcher: &Matcher,
    _data: &[u8],
    _truth: Option<&[bench::TruthEntry]>,
    report: &mut Report,
) {
    report.emit(json!({
        "measure": "raw_text",
        "skipped": "Matcher::scan_text_stream does not exist in core",
    }));
}

fn peer_phase(args: &Args, indicators: &Path, events: &Path, report: &mut Report) -> Option<Value> {
    progress(&format!("running the peer: {} {}", args.python, args.peer_script.display()));
    let t = Instant::now();
    let out = std::process::Command::new(&args.python)
        .arg(&args.peer_script)
        .arg("--indicators")
        .arg(indicators)
        .arg("--events")
        .arg(events)
        .output();
    let wall = t.elapsed().as_secs_f64();
    let out = match out {
        Ok(o) => o,
        Err(e) => {
            report.emit(json!({"measure": "peer", "error": format!("cannot run {}: {e}", args.python)}));
            return None;
        }
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let parsed = stdout.lines().rev().find_map(|l| serde_json::from_str::<Value>(l.trim()).ok());
    match (out.status.success(), parsed) {
        (true, Some(mut v)) => {
            v["measure"] = json!("peer");
            v["wall_s"] = json!(round(wall, 2));
            report.emit(v.clone());
            Some(v)
        }
        _ => {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(5).collect();
            let mut v = json!({
                "measure": "peer",
                "error": format!("peer failed ({}): {}", out.status, tail.into_iter().rev().collect::<Vec<_>>().join(" | ")),
            });
            if err.contains("pytricia") {
                v["hint"] = json!("pip install pytricia");
            }
            report.emit(v);
            None
        }
    }
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x);
    let (sign, digits) = s.strip_prefix('-').map_or(("", s.as_str()), |d| ("-", d));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    format!("{sign}{out}")
}

/// The summary: headline figures, the peer's, ratios and targets.
fn summary(report: &Report, peer: Option<&Value>, truth: Option<&bench::TruthCheck>) -> Value {
    let get = |m: &str, k: &str| report.find(m, |_| true).and_then(|v| num(&v[k]));
    let ev = |threads: u64| report.find("ndjson", |v| v["threads"] == threads);
    let ev1 = ev(1).and_then(|v| num(&v["events_per_s"]));
    let ev2 = ev(2).and_then(|v| num(&v["events_per_s"]));
    let peer_ev = peer.and_then(|p| num(&p["events_per_s"]));
    let peer_build = peer.and_then(|p| num(&p["build_s"]));
    let parse = get("parse_tsv", "secs");
    let compile = get("compile", "secs");
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => Some(round(a / b, 2)),
        _ => None,
    };
    json!({
        "indicators": get("compile", "indicators").or_else(|| get("load", "indicators")),
        "parse_tsv_s": parse,
        "compile_s": compile,
        "index_bytes": get("compile", "index_bytes").or_else(|| get("load", "index_bytes")),
        "bytes_per_indicator": get("compile", "bytes_per_indicator"),
        "save_s": get("save", "secs"),
        "load_ms": get("load", "ms"),
        "rss_delta_after_load_mib": get("load", "rss_delta_mib"),
        "events_per_s_1t": ev1,
        "events_per_s_2t": ev2,
        "mb_per_s_1t": ev(1).and_then(|v| num(&v["mb_per_s"])),
        "mb_per_s_2t": ev(2).and_then(|v| num(&v["mb_per_s"])),
        "raw_text_mb_per_s_1t": report.find("raw_text", |v| v["threads"] == 1).and_then(|v| num(&v["mb_per_s"])),
        "raw_text_mb_per_s_2t": report.find("raw_text", |v| v["threads"] == 2).and_then(|v| num(&v["mb_per_s"])),
        "truth_passed": truth.map(bench::TruthCheck::passed),
        "cpu_parallel_speedup": report.find("cpu_check", |v| v["when"] == "before ndjson").and_then(|v| num(&v["parallel_speedup"])),
        "peer_events_per_s": peer_ev,
        "peer_build_s": peer_build,
        "peer_rss_after_build_mib": peer.and_then(|p| num(&p["rss_after_build_mib"])),
        "ratio_events_1t_vs_peer": ratio(ev1, peer_ev),
        "ratio_events_2t_vs_peer": ratio(ev2, peer_ev),
        "ratio_peer_build_vs_parse_plus_compile": ratio(peer_build, parse.zip(compile).map(|(a, b)| a + b)),
        "ratio_peer_build_vs_compile": ratio(peer_build, compile),
    })
}

fn table(report: &Report, s: &Value, peer: Option<&Value>, truth: Option<&bench::TruthCheck>) -> String {
    let mut rows: Vec<[String; 5]> = Vec::new();
    let f = |v: &Value, d: usize| v.as_f64().map_or("-".to_string(), |x| format!("{x:.d$}"));
    let fi = |v: &Value| v.as_f64().map_or("-".to_string(), thousands);
    let mut row = |a: &str, ours: String, peer: String, ratio: String, target: &str| {
        rows.push([a.to_string(), ours, peer, ratio, target.to_string()]);
    };
    row("indicators compiled", fi(&s["indicators"]), fi(&peer.map_or(Value::Null, |p| p["n"].clone())), "".into(), "");
    row("TSV parse + normalise (s)", f(&s["parse_tsv_s"], 2), "".into(), "".into(), "");
    row("compile from memory (s)", f(&s["compile_s"], 2), "".into(), "".into(), "<= 15 s at 10M");
    row(
        "parse + compile vs peer build (s)",
        s["parse_tsv_s"].as_f64().zip(s["compile_s"].as_f64()).map_or("-".into(), |(a, b)| format!("{:.2}", a + b)),
        f(&s["peer_build_s"], 2),
        f(&s["ratio_peer_build_vs_parse_plus_compile"], 2),
        "",
    );
    row("index bytes", fi(&s["index_bytes"]), "".into(), "".into(), "");
    row("bytes / indicator", f(&s["bytes_per_indicator"], 1), "".into(), "".into(), "<= 40");
    row("save (s)", f(&s["save_s"], 3), "".into(), "".into(), "");
    row("load, Index::load (ms)", f(&s["load_ms"], 2), "".into(), "".into(), "<= 50 ms");
    row(
        "RSS after load / after build (MiB)",
        f(&s["rss_delta_after_load_mib"], 1),
        f(&s["peer_rss_after_build_mib"], 1),
        "".into(),
        "",
    );
    for v in report.items.iter().filter(|v| v["measure"] == "lookup") {
        let label = format!(
            "lookups/s {} {} ({} found)",
            v["kind"].as_str().unwrap_or(""),
            v["case"].as_str().unwrap_or(""),
            fi(&v["found"])
        );
        row(&label, fi(&v["lookups_per_s"]), "".into(), "".into(), "");
    }
    for v in report.items.iter().filter(|v| v["measure"] == "cpu_check") {
        let label = format!("cpu check {}: 2-thread spin speedup", v["when"].as_str().unwrap_or(""));
        row(&label, f(&v["parallel_speedup"], 2), "".into(), "".into(), "2.00 = two free cores");
    }
    for v in report.items.iter().filter(|v| v["measure"] == "ndjson") {
        let threads = v["threads"].as_u64().unwrap_or(0);
        let target = match threads {
            1 => ">= 600,000 at 10M",
            2 => ">= 1,000,000 at 10M",
            _ => "",
        };
        let peer_ev = peer.map_or(Value::Null, |p| p["events_per_s"].clone());
        let r = v["events_per_s"].as_f64().zip(peer_ev.as_f64()).map_or("-".into(), |(a, b)| format!("{:.1}x", a / b));
        row(&format!("NDJSON events/s, {threads} thread(s)"), fi(&v["events_per_s"]), fi(&peer_ev), r, target);
        let peer_mb = peer.map_or(Value::Null, |p| p["mb_per_s"].clone());
        row(&format!("NDJSON MB/s, {threads} thread(s)"), f(&v["mb_per_s"], 1), f(&peer_mb, 1), "".into(), "");
    }
    for v in report.items.iter().filter(|v| v["measure"] == "raw_text") {
        let threads = v["threads"].as_u64().unwrap_or(0);
        let ours = v["mb_per_s"].as_f64().map_or("not measured".to_string(), |x| format!("{x:.1}"));
        let label =
            if threads == 0 { "raw text MB/s".to_string() } else { format!("raw text MB/s, {threads} thread(s)") };
        row(&label, ours, "".into(), "".into(), if threads <= 1 { ">= 100 per core" } else { "" });
    }
    if let Some(t) = truth {
        row(
            "truth check (missed / extra)",
            format!("{} / {} of {}", t.missed_count, t.extra_count, t.truth_events),
            peer.map_or("-".into(), |p| format!("{} / {}", p["missed"], p["extra"])),
            "".into(),
            if t.passed() { "PASS" } else { "FAIL" },
        );
    }
    let header = ["measure", "iocmatch", "peer (python)", "ours/peer", "target"];
    let mut width = header.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let line = |cells: [&str; 5]| {
        format!(
            "{:<w0$}  {:>w1$}  {:>w2$}  {:>w3$}  {:<w4$}\n",
            cells[0],
            cells[1],
            cells[2],
            cells[3],
            cells[4],
            w0 = width[0],
            w1 = width[1],
            w2 = width[2],
            w3 = width[3],
            w4 = width[4]
        )
    };
    let mut out = line(header);
    out.push_str(&line(width.map(|w| "-".repeat(w)).each_ref().map(String::as_str)));
    for r in &rows {
        out.push_str(&line(r.each_ref().map(String::as_str)));
    }
    out
}

fn main() {
    let args = Args::parse();
    if args.indicators.is_none() && args.index.is_none() {
        fail("give --indicators (a gen.py TSV) or --index (a saved index)");
    }
    let mut report = Report::default();
    report.emit(json!({
        "measure": "setup",
        "indicators_file": args.indicators,
        "index_file": args.index,
        "events_file": args.events,
        "threads": args.threads,
        "runs": args.runs,
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "loadavg": std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim(),
    }));

    // compile and save, or take a saved index
    let mut sets = Vec::new();
    let _temp;
    let index_path = match (&args.index, &args.indicators) {
        (Some(p), _) => p.clone(),
        (None, Some(ind)) => {
            let (path, remove) = match &args.save_index {
                Some(p) => (p.clone(), false),
                None => (std::env::temp_dir().join(format!("iocmatch-bench-{}.idx", std::process::id())), true),
            };
            _temp = TempIndex { path: path.clone(), remove };
            sets = compile_phase(&args, ind, &mut report, &path);
            path
        }
        (None, None) => unreachable!("checked above"),
    };

    let rss_before = bench::rss_kib();
    let index = load_phase(&args, &index_path, &mut report);
    let matcher = Matcher::new(index, &MatchOptions::default()).unwrap_or_else(|e| fail(e));
    if !sets.is_empty() {
        progress("look-ups");
        lookup_phase(&args, &matcher, &sets, &mut report);
    }
    drop(sets);

    let mut truth_check = None;
    let mut consistent = true;
    if let Some(events) = &args.events {
        let data = bench::read_file(events).unwrap_or_else(|e| fail(format!("cannot read {}: {e}", events.display())));
        let (matched, same) = ndjson_phase(&args, &matcher, &data, &mut report);
        consistent = same;
        let truth_path = PathBuf::from(format!("{}.truth.tsv", events.display()));
        let truth = bench::read_truth(&truth_path);
        match &truth {
            Ok(truth) => {
                let check = bench::check_truth(truth, &matched);
                let mut v = serde_json::to_value(&check).unwrap_or(Value::Null);
                v["measure"] = json!("truth");
                v["passed"] = json!(check.passed());
                v["consistent_across_runs"] = json!(consistent);
                // what was missed, for the report
                let missed: BTreeSet<u64> = check.missed.iter().copied().collect();
                let kinds: Vec<String> = truth
                    .iter()
                    .filter(|t| missed.contains(&t.line))
                    .take(10)
                    .map(|t| format!("{}:{} {}={}", t.line, t.ind_type, t.field, t.event_value))
                    .collect();
                v["missed_examples"] = json!(kinds);
                report.emit(v);
                truth_check = Some(check);
            }
            Err(e) => report.emit(json!({"measure": "truth", "skipped": format!("{}: {e}", truth_path.display())})),
        }
        if !args.no_raw {
            raw_phase(&args, &matcher, &data, truth.as_ref().ok().map(Vec::as_slice), &mut report);
        }
        if let (Some(mem), Some(before)) = (bench::rss_kib(), rss_before) {
            report.emit(json!({
                "measure": "rss",
                "after_matching_delta_mib": round(mem.saturating_sub(before) as f64 / 1024.0, 1),
                "events_buffer_mib": round(data.len() as f64 / 1048576.0, 1),
            }));
        }
    }
    drop(matcher);

    let peer = match (&args.indicators, &args.events, args.no_peer) {
        (Some(ind), Some(ev), false) => peer_phase(&args, ind, ev, &mut report),
        _ => None,
    };

    let s = summary(&report, peer.as_ref(), truth_check.as_ref());
    let mut sv = s.clone();
    sv["measure"] = json!("summary");
    report.emit(sv);
    eprintln!();
    eprint!("{}", table(&report, &s, peer.as_ref(), truth_check.as_ref()));

    if let Some(out) = &args.out {
        let doc = json!({"summary": s, "measurements": report.items});
        let text = serde_json::to_string_pretty(&doc).unwrap_or_default();
        if let Err(e) = std::fs::write(out, text + "\n") {
            fail(format!("cannot write {}: {e}", out.display()));
        }
    }
    if truth_check.as_ref().is_some_and(|t| !t.passed()) || !consistent {
        eprintln!("harness: truth check failed");
        std::process::exit(1);
    }
}
