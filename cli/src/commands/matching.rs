//! `iocmatch match` and `iocmatch compile`.

use super::date;
use crate::args::MatchArgs;
use iocmatch::detect::{DetectionType, RuleSet};
use iocmatch::matcher::NdjsonItem;
use iocmatch::{Error, ErrorKind, Index, MatchOptions, Matcher, Profile, Result, SightingsRecorder, Store};
use serde_json::json;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

/// Bad lines reported one by one before the rest are only counted.
const MAX_BAD_LINES_SHOWN: u64 = 50;

pub fn compile(db: &Path, out: &Path, json: bool) -> Result<()> {
    let store = Store::open(db)?;
    let t = Instant::now();
    let index = store.compile()?;
    let built = t.elapsed();
    index.save(out)?;
    let summary = json!({
        "out": out.display().to_string(),
        "indicators": index.len(),
        "bytes": index.size_bytes(),
        "bytes_per_indicator": if index.is_empty() { 0.0 } else { index.size_bytes() as f64 / index.len() as f64 },
        "compile_s": built.as_secs_f64(),
    });
    if json {
        crate::output::json(&summary)
    } else {
        println!(
            "compiled {} indicators into {} ({} bytes, {:.1} bytes per indicator) in {:.2}s",
            index.len(),
            out.display(),
            index.size_bytes(),
            summary["bytes_per_indicator"].as_f64().unwrap_or(0.0),
            built.as_secs_f64()
        );
        Ok(())
    }
}

/// Counts bytes read, for the progress bar.
struct Counting<R> {
    inner: R,
    bar: Option<indicatif::ProgressBar>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(b) = &self.bar {
            b.inc(n as u64);
        }
        Ok(n)
    }
}

pub fn run(db: &Path, a: MatchArgs) -> Result<()> {
    if let Some(n) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot start {n} threads: {e}")))?;
    }
    let profile = Profile::load(&a.profile)?;
    let (index, community, collections) = match &a.index {
        Some(path) => (Index::load(path)?, a.community.clone(), a.collections.clone()),
        None => {
            let store = Store::open(db)?;
            let community = a.community.as_deref().map(|c| store.community(c).map(|c| c.id)).transpose()?;
            let collections =
                a.collections.iter().map(|c| store.collection(c).map(|c| c.id)).collect::<Result<Vec<_>>>()?;
            (store.compile()?, community, collections)
        }
    };
    let options = MatchOptions {
        profile: Some(profile),
        community,
        collections: (!collections.is_empty()).then_some(collections),
        default_time: date(&a.default_time)?,
        sightings: a.record_sightings.then(|| Arc::new(SightingsRecorder::new())),
    };
    let matcher = Matcher::new(Arc::new(index), &options)?;
    let at = date(&a.at)?;
    let rules = match a.alerts {
        // the rules live in the store: do not make an empty one by accident
        true if !db.exists() => {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("no store at '{}': --alerts reads the detection rules from the store (--db)", db.display()),
            ))
        }
        true => Some(RuleSet::load(&Store::open(db)?)?),
        false => None,
    };
    let source = (a.file != Path::new("-")).then(|| a.file.display().to_string());

    let (input, size): (Box<dyn Read>, Option<u64>) = if a.file == Path::new("-") {
        (Box::new(std::io::stdin().lock()), None)
    } else {
        let f = std::fs::File::open(&a.file)
            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read '{}': {e}", a.file.display())))?;
        let size = f.metadata().ok().map(|m| m.len());
        (Box::new(f), size)
    };
    let bar = crate::output::byte_bar("matching", size.unwrap_or(0));
    let input = Counting { inner: input, bar: bar.clone() };
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut err = std::io::stderr().lock();
    let mut bad_shown = 0u64;
    let t = Instant::now();
    let io = |e: std::io::Error| Error::new(ErrorKind::Io, format!("cannot write: {e}"));
    let mut sink = |item: NdjsonItem<'_>| -> Result<()> {
        match item {
            NdjsonItem::Event { line, matches } => {
                if matches.matches.is_empty() {
                    return Ok(());
                }
                if let Some(rules) = &rules {
                    for alert in rules.alerts(matches, DetectionType::Cti, source.as_deref(), Some(line)) {
                        serde_json::to_writer(&mut out, &alert)
                            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                } else if a.enrichments {
                    let e: Vec<_> = matches.matches.iter().map(|m| m.to_enrichment()).collect();
                    serde_json::to_writer(&mut out, &json!({"line": line, "threat": {"enrichments": e}}))
                        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))?;
                    out.write_all(b"\n").map_err(io)?;
                } else {
                    for m in &matches.matches {
                        let mut v = serde_json::to_value(m).unwrap_or_default();
                        if let Some(o) = v.as_object_mut() {
                            o.insert("line".into(), json!(line));
                            o.insert("time".into(), json!(matches.time.to_rfc3339()));
                            o.insert("time_source".into(), json!(matches.time_source));
                        }
                        serde_json::to_writer(&mut out, &v)
                            .map_err(|e| Error::new(ErrorKind::Io, format!("cannot write: {e}")))?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                }
            }
            NdjsonItem::BadLine { line, error } => {
                bad_shown += 1;
                if bad_shown <= MAX_BAD_LINES_SHOWN {
                    if let Some(b) = &bar {
                        b.suspend(|| writeln!(err, "iocmatch: skipped line {line}: {}", error.message()).ok());
                    } else {
                        writeln!(err, "iocmatch: skipped line {line}: {}", error.message()).map_err(io)?;
                    }
                }
            }
        }
        Ok(())
    };
    let summary =
        if a.raw { matcher.scan_text_stream(input, at, &mut sink) } else { matcher.match_ndjson(input, at, &mut sink) };
    out.flush().map_err(io)?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let recorded = match &options.sightings {
        Some(rec) => Some(Store::open(db)?.flush_sightings(rec)?),
        None => None,
    };
    let summary = summary?;
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    if summary.bad_lines > MAX_BAD_LINES_SHOWN {
        writeln!(err, "iocmatch: ... and {} more bad lines", summary.bad_lines - MAX_BAD_LINES_SHOWN).map_err(io)?;
    }
    writeln!(
        err,
        "events: {}, matched events: {}, matches: {}, bad lines: {}, {:.2}s ({:.0} events/s, {:.1} MB/s)",
        summary.events,
        summary.matched_events,
        summary.matches,
        summary.bad_lines,
        secs,
        summary.events as f64 / secs,
        summary.bytes as f64 / secs / 1e6
    )
    .map_err(io)?;
    if let Some(n) = recorded {
        writeln!(err, "sightings recorded: {n}").map_err(io)?;
    }
    Ok(())
}
