//! `iocmatch retrohunt`.

use crate::args::RetrohuntArgs;
use iocmatch::detect::{Alert, EventSource, Retrohunt};
use iocmatch::time::parse_duration;
use iocmatch::{Error, ErrorKind, Profile, Result, Store};
use std::io::{BufWriter, Write};
use std::sync::Mutex;
use std::time::Instant;

/// Bad lines reported one by one before the rest are only counted.
const MAX_BAD_LINES_SHOWN: usize = 50;

fn io(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("cannot write alerts: {e}"))
}

/// `--since`: a date, or a duration back from now (`7d`).
fn since(s: Option<&str>) -> Result<Option<iocmatch::Timestamp>> {
    let Some(s) = s else { return Ok(None) };
    match iocmatch::Timestamp::parse(s) {
        Ok(t) => Ok(Some(t)),
        Err(e) => match parse_duration(s) {
            Ok(d) if s.trim().ends_with(|c: char| c.is_ascii_alphabetic()) => {
                Ok(Some(iocmatch::Timestamp::now().shifted(d, true)))
            }
            _ => Err(e),
        },
    }
}

pub fn run(store: &Store, a: RetrohuntArgs, json: bool) -> Result<()> {
    if let Some(n) = a.threads {
        rayon::ThreadPoolBuilder::new()
            .num_threads(n.max(1))
            .build_global()
            .map_err(|e| Error::new(ErrorKind::Validation, format!("cannot start {n} threads: {e}")))?;
    }
    let hunt = Retrohunt {
        since: since(a.since.as_deref())?,
        margin: parse_duration(&a.margin)?,
        profile: Some(Profile::load(&a.profile)?),
        community: a.community.clone(),
        incremental: a.incremental,
    };
    let source = EventSource::from_paths(&a.paths)?;
    let out: Box<dyn Write + Send> = match &a.out {
        Some(p) => Box::new(
            std::fs::File::create(p)
                .map_err(|e| Error::new(ErrorKind::Io, format!("cannot create '{}': {e}", p.display())))?,
        ),
        None => Box::new(std::io::stdout()),
    };
    let out = Mutex::new(BufWriter::with_capacity(1 << 16, out));
    let bar = crate::output::byte_bar("retrohunt", source.total_bytes());
    let progress = |done: u64, total: u64| {
        if let Some(b) = &bar {
            b.set_length(total);
            b.set_position(done);
        }
    };
    let sink = |alert: &Alert| -> Result<()> {
        let mut o = out.lock().unwrap_or_else(|p| p.into_inner());
        serde_json::to_writer(&mut *o, alert).map_err(io)?;
        o.write_all(b"\n").map_err(io)
    };
    let t = Instant::now();
    let summary = hunt.run(store, &source, &sink, Some(&progress));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    out.into_inner().unwrap_or_else(|p| p.into_inner()).flush().map_err(io)?;
    let summary = summary?;
    let secs = t.elapsed().as_secs_f64().max(1e-9);
    let mut err = std::io::stderr().lock();
    for e in &summary.errors {
        writeln!(err, "iocmatch: {}", e.message).ok();
    }
    for b in summary.bad_line_details.iter().take(MAX_BAD_LINES_SHOWN) {
        writeln!(err, "iocmatch: skipped {}:{}: {}", b.source.as_deref().unwrap_or("-"), b.line, b.message).ok();
    }
    if summary.bad_lines > MAX_BAD_LINES_SHOWN as u64 {
        writeln!(err, "iocmatch: ... and {} more bad lines", summary.bad_lines - MAX_BAD_LINES_SHOWN as u64).ok();
    }
    if summary.rules == 0 {
        writeln!(
            err,
            "iocmatch: no enabled detection rule: nothing was hunted (make one with `iocmatch rule create NAME --collection C`)"
        )
        .ok();
    }
    if json {
        let mut v = serde_json::to_value(&summary).map_err(io)?;
        if let Some(o) = v.as_object_mut() {
            o.insert("seconds".into(), serde_json::json!(secs));
        }
        writeln!(err, "{v}").ok();
    } else {
        writeln!(
            err,
            "rules: {}, indicators: {}, files: {} (skipped: {}, unreadable: {}), events: {}, bad lines: {}, alerts: {}, {:.2}s ({:.1} MB/s)",
            summary.rules,
            summary.indicators,
            summary.files,
            summary.files_skipped,
            summary.errors.len(),
            summary.events,
            summary.bad_lines,
            summary.alerts,
            secs,
            summary.bytes as f64 / secs / 1e6
        )
        .ok();
    }
    Ok(())
}
