//! `iocmatch telemetry COLLECTION PATH...` (or `run`), and `telemetry show|list|delete`.

use crate::args::{TelemetryArgs, TelemetryCmd, TelemetryRunArgs};
use crate::output;
use iocmatch::detect::telemetry::parse_window;
use iocmatch::detect::{EventSource, TelemetryOptions, TelemetryReport, TelemetrySummary};
use iocmatch::{Error, ErrorKind, Profile, Result, Store, Timestamp};
use std::io::Write;
use std::path::Path;

pub fn run(store: &Store, args: TelemetryArgs, json: bool) -> Result<()> {
    let cmd = match (args.cmd, args.run) {
        (Some(cmd), _) => cmd,
        (None, Some(a)) => TelemetryCmd::Run(a),
        (None, None) => {
            return Err(Error::new(
                ErrorKind::Validation,
                "telemetry needs a collection and event archives (telemetry COLLECTION PATH...), or a subcommand",
            ))
        }
    };
    match cmd {
        TelemetryCmd::Run(a) => make(store, a, json),
        TelemetryCmd::Show { report, html } => {
            let r = store.telemetry_report(&report)?;
            let name = store.collection(&r.summary.collection_id).map(|c| c.name).unwrap_or_default();
            if let Some(path) = &html {
                write_html(path, &r, &name)?;
            }
            print(&r, &name, json)
        }
        TelemetryCmd::List { collection } => {
            let list = store.telemetry_reports(&collection)?;
            if json {
                return output::json(&list);
            }
            output::print_table(&summaries(&list));
            Ok(())
        }
        TelemetryCmd::Delete { report } => {
            store.delete_telemetry_report(&report)?;
            if json {
                output::json(&serde_json::json!({"deleted": report}))
            } else {
                println!("deleted telemetry report {report}");
                Ok(())
            }
        }
    }
}

fn make(store: &Store, a: TelemetryRunArgs, json: bool) -> Result<()> {
    let options = TelemetryOptions {
        window: parse_window(&a.window)?,
        until: a.until.as_deref().map(Timestamp::parse).transpose()?,
        communities: a.communities.clone(),
        profile: Some(Profile::load(&a.profile)?),
    };
    let report = if a.from_sightings {
        store.telemetry_from_sightings(&a.collection, &options)?
    } else {
        let source = EventSource::from_paths(&a.paths)?;
        let bar = output::byte_bar("telemetry", source.total_bytes());
        let progress = |done: u64, _total: u64| {
            if let Some(b) = &bar {
                b.set_position(done);
            }
        };
        let run = store.telemetry(&a.collection, &source, &options, Some(&progress));
        if let Some(b) = &bar {
            b.finish_and_clear();
        }
        let run = run?;
        let mut err = std::io::stderr().lock();
        for e in &run.source.errors {
            writeln!(err, "iocmatch: warning: {}", e.message)?;
        }
        writeln!(
            err,
            "files: {}, events: {}, bad lines: {}, unreadable files: {}",
            run.source.files,
            run.source.totals.events,
            run.source.totals.bad_lines,
            run.source.errors.len()
        )?;
        run.report
    };
    let name = store.collection(&report.summary.collection_id).map(|c| c.name).unwrap_or_default();
    if let Some(path) = &a.html {
        write_html(path, &report, &name)?;
    }
    print(&report, &name, json)
}

fn write_html(path: &Path, report: &TelemetryReport, collection_name: &str) -> Result<()> {
    let page = crate::html::report(report, collection_name);
    std::fs::write(path, page).map_err(|e| Error::new(ErrorKind::Io, format!("cannot write '{}': {e}", path.display())))
}

fn print(r: &TelemetryReport, collection_name: &str, json: bool) -> Result<()> {
    if json {
        return output::json(r);
    }
    let s = &r.summary;
    println!(
        "telemetry report {} for collection {} ({}): {} to {}, {} events, {} indicators seen (source: {})",
        s.id, collection_name, s.collection_id, s.window_start, s.window_end, s.events, s.indicators_seen, s.source
    );
    if r.rows.is_empty() {
        println!("no indicator of the collection was seen");
        return Ok(());
    }
    let mut t = output::table(&["observable", "kind", "sightings", "first seen", "last seen"]);
    for x in &r.rows {
        t.add_row(vec![
            x.observable.clone(),
            x.kind.to_string(),
            x.sightings.to_string(),
            x.first_seen.to_rfc3339(),
            x.last_seen.to_rfc3339(),
        ]);
    }
    output::print_table(&t);
    Ok(())
}

fn summaries(list: &[TelemetrySummary]) -> comfy_table::Table {
    let mut t = output::table(&["id", "created", "window start", "window end", "source", "events", "seen"]);
    for s in list {
        t.add_row(vec![
            s.id.clone(),
            s.created.to_rfc3339(),
            s.window_start.to_rfc3339(),
            s.window_end.to_rfc3339(),
            s.source.clone(),
            s.events.to_string(),
            s.indicators_seen.to_string(),
        ]);
    }
    t
}
