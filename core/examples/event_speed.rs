//! Speed of field extraction from NDJSON ECS events, against serde_json on the same lines.
//!
//! ```sh
//! python3 ../shared/bench/gen.py indicators --n 20000 --out /tmp/ind.tsv --sample-out /tmp/ind.sample.tsv
//! python3 ../shared/bench/gen.py events --m 100000 --out /tmp/ev.jsonl --sample /tmp/ind.sample.tsv
//! cargo run --release -p iocmatch --example event_speed -- /tmp/ev.jsonl ../shared/bench/ecs_fields.txt [ROUNDS]
//! ```
//!
//! Every line is scanned once per round (default 5 rounds); the figures printed are the median
//! round's, and the best round's in parentheses.

use std::hint::black_box;
use std::time::{Duration, Instant};

use iocmatch::event::{scan_event, FieldPaths};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: event_speed EVENTS.jsonl FIELDS.tsv [ROUNDS]");
        std::process::exit(2);
    }
    let data = std::fs::read(&args[1]).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", args[1])));
    let fields_text =
        std::fs::read_to_string(&args[2]).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", args[2])));
    let rounds: usize = args.get(3).map_or(5, |r| r.parse().unwrap_or_else(|_| fail("ROUNDS is not a number")));

    let fields: Vec<&str> = fields_text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split('\t').next_back())
        .map(str::trim)
        .collect();
    let paths = FieldPaths::new(&fields);
    let lines: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let bytes: usize = lines.iter().map(|l| l.len()).sum();
    println!(
        "{} events, {:.1} MB ({} bytes/event), {} fields, {rounds} rounds (median shown)",
        lines.len(),
        bytes as f64 / 1e6,
        bytes / lines.len().max(1),
        paths.len()
    );

    let (mut values, mut stamped, mut errors) = (0usize, 0usize, 0usize);
    for line in &lines {
        match scan_event(line, &paths, &mut |_| values += 1) {
            Ok(meta) => stamped += meta.timestamp.is_some() as usize,
            Err(_) => errors += 1,
        }
    }
    println!("scan_event found {values} values, {stamped} timestamps, {errors} invalid events");

    let report = |name: &str, (median, best): (Duration, Duration)| {
        let (s, b) = (median.as_secs_f64(), best.as_secs_f64());
        println!(
            "{name:<24} {:>9.0} events/s {:>7.1} MB/s {:>6.0} ns/event   (best {:>9.0} events/s {:>7.1} MB/s)",
            lines.len() as f64 / s,
            bytes as f64 / s / 1e6,
            s * 1e9 / lines.len() as f64,
            lines.len() as f64 / b,
            bytes as f64 / b / 1e6,
        );
    };
    report(
        "scan_event",
        median(rounds, || {
            let mut n = 0usize;
            for line in &lines {
                let meta = scan_event(black_box(line), &paths, &mut |v| n += v.value.len());
                black_box(&meta);
            }
            black_box(n);
        }),
    );
    report(
        "serde_json IgnoredAny",
        median(rounds, || {
            for line in &lines {
                black_box(serde_json::from_slice::<serde::de::IgnoredAny>(black_box(line)).is_ok());
            }
        }),
    );
    report(
        "serde_json Value",
        median(rounds, || {
            for line in &lines {
                black_box(serde_json::from_slice::<serde_json::Value>(black_box(line)).is_ok());
            }
        }),
    );
}

/// The median and the shortest duration of `rounds` runs of `f`.
fn median(rounds: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    (times[times.len() / 2], times[0])
}

fn fail(message: &str) -> ! {
    eprintln!("event_speed: {message}");
    std::process::exit(1);
}
