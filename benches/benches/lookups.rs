//! Criterion benches: single-field look-ups per kind (hit and miss) on a 100k-indicator index
//! made in-process from a fixed seed, and NDJSON matching of a few hundred synthetic ECS events.
//!
//! `cargo bench -p iocmatch-bench -- --quick` runs them in about a minute.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use iocmatch::{MatchOptions, Matcher};
use iocmatch_bench as bench;
use std::hint::black_box;
use std::sync::Arc;

const INDICATORS: usize = 100_000;
const SEED: u64 = 0x10C_BE4C;
/// Values per kind and case: each iteration looks every one up once.
const VALUES: usize = 256;
const EVENTS: usize = 400;

struct Fixture {
    matcher: Matcher,
    sets: Vec<bench::LookupSet>,
    events: bench::synth::Events,
}

fn fixture() -> Fixture {
    let loaded = bench::load_tsv_str(&bench::synth::indicators_tsv(INDICATORS, SEED));
    let index = Arc::new(bench::compile(loaded.records.clone()).expect("compile"));
    let matcher = Matcher::new(index, &MatchOptions::default()).expect("matcher");
    let sets = bench::lookup_sets(&loaded.records, &matcher, VALUES, SEED);
    let events = bench::synth::events(&loaded.records, EVENTS, 0.05, SEED);
    Fixture { matcher, sets, events }
}

fn lookups(c: &mut Criterion, fx: &Fixture) {
    let at = bench::lookup_time();
    let mut g = c.benchmark_group("lookup");
    for set in &fx.sets {
        for (case, values) in [("hit", &set.hits), ("miss", &set.misses)] {
            if values.is_empty() {
                continue;
            }
            g.throughput(Throughput::Elements(values.len() as u64));
            g.bench_function(format!("{}/{case}", set.name), |b| {
                b.iter(|| bench::run_lookups(&fx.matcher, set.field, black_box(values), at))
            });
        }
    }
    g.finish();
}

fn ndjson(c: &mut Criterion, fx: &Fixture) {
    let data = &fx.events.ndjson;
    let mut g = c.benchmark_group("ndjson");
    g.throughput(Throughput::Elements(EVENTS as u64));
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
    g.bench_function(format!("{EVENTS}_events/1_thread"), |b| {
        b.iter_batched(
            || 0u64,
            |mut hits| {
                pool.install(|| {
                    fx.matcher.match_ndjson(black_box(&data[..]), None, &mut |item| {
                        if let iocmatch::matcher::NdjsonItem::Event { matches, .. } = item {
                            hits += u64::from(!matches.matches.is_empty());
                        }
                        Ok(())
                    })
                })
                .expect("match");
                hits
            },
            BatchSize::SmallInput,
        )
    });
    let lines = bench::ndjson_lines(data);
    g.bench_function(format!("{EVENTS}_events/match_event"), |b| {
        b.iter(|| {
            let mut hits = 0usize;
            for l in &lines {
                hits += fx.matcher.match_event(black_box(l), None).map_or(0, |m| m.matches.len());
            }
            hits
        })
    });
    g.finish();
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    lookups(c, &fx);
    ndjson(c, &fx);
}

criterion_group!(name = group; config = Criterion::default(); targets = benches);
criterion_main!(group);
