//! Output: tables for people, JSON for machines, a progress bar on a terminal.

use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};
use indicatif::{ProgressBar, ProgressStyle};
use iocmatch::{Collection, Indicator, Progress, Stage};
use serde::Serialize;
use std::io::{IsTerminal, Write};

/// Print `value` as pretty JSON on stdout.
pub fn json<T: Serialize + ?Sized>(value: &T) -> iocmatch::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)
        .map_err(|e| iocmatch::Error::new(iocmatch::ErrorKind::Io, format!("cannot write JSON: {e}")))?;
    writeln!(out)?;
    Ok(())
}

/// A bar of bytes read, labelled `label`, when standard error is a terminal (`None` else).
pub fn byte_bar(label: &str, total: u64) -> Option<ProgressBar> {
    std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new(total);
        b.set_style(
            ProgressStyle::with_template(&format!(
                "{label} [{{bar:40}}] {{bytes}}/{{total_bytes}} ({{bytes_per_sec}}, {{eta}})"
            ))
            .expect("valid template")
            .progress_chars("=> "),
        );
        b
    })
}

/// A table with a header row.
pub fn table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_preset(UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Dynamic).set_header(header);
    t
}

/// Print a table on stdout.
pub fn print_table(t: &Table) {
    println!("{t}");
}

/// The collections as a table.
pub fn collections(items: &[Collection]) -> Table {
    let mut t = table(&["id", "name", "indicators", "revoked", "sub-communities", "description"]);
    for c in items {
        t.add_row(vec![
            c.id.clone(),
            c.name.clone(),
            c.indicator_count.to_string(),
            c.revoked_count.to_string(),
            if c.available_for_sub_communities { "yes" } else { "no" }.to_string(),
            c.description.clone().unwrap_or_default(),
        ]);
    }
    t
}

/// The indicators as a table.
pub fn indicators(items: &[Indicator]) -> Table {
    let mut t = table(&["id", "value", "kind", "valid from", "valid until", "revoked"]);
    for i in items {
        let kinds: Vec<&str> = i.value.observables.iter().map(|o| o.kind.as_str()).collect();
        let value = match i.value.port {
            Some(p) => format!("{} (port {p})", i.name()),
            None => i.name(),
        };
        t.add_row(vec![
            i.id.clone(),
            value,
            kinds.join(","),
            i.valid_from.to_rfc3339(),
            i.valid_until.map(|u| u.to_rfc3339()).unwrap_or_else(|| "-".into()),
            if i.revoked() { "yes" } else { "no" }.to_string(),
        ]);
    }
    t
}

/// A progress bar on stderr when it is a terminal; a callback for the core's progress reports.
pub struct Bar {
    bar: Option<ProgressBar>,
    stage: Option<Stage>,
}

impl Bar {
    /// A bar, drawn only when stderr is a terminal.
    pub fn new() -> Bar {
        Bar { bar: std::io::stderr().is_terminal().then(ProgressBar::hidden), stage: None }
    }

    /// Update from a core progress report.
    pub fn update(&mut self, p: Progress) {
        let Some(bar) = &self.bar else { return };
        if self.stage != Some(p.stage) {
            self.stage = Some(p.stage);
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{msg:8} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
                    .expect("valid template")
                    .progress_chars("=> "),
            );
            bar.set_message(match p.stage {
                Stage::Parse => "reading",
                Stage::Write => "writing",
            });
            bar.reset();
        }
        bar.set_length(p.total);
        bar.set_position(p.done);
    }

    /// Remove the bar.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// One indicator, a property per row.
pub fn indicator_detail(i: &Indicator) -> Table {
    let s = i.to_stix();
    let mut t = table(&["property", "value"]);
    let phases: Vec<String> =
        s.kill_chain_phases.iter().map(|p| format!("{}:{}", p.kill_chain_name, p.phase_name)).collect();
    let rows = [
        ("id", s.id),
        ("name", s.name),
        ("pattern", s.pattern),
        ("observable types", s.x_ic_observable_types.join(", ")),
        ("port", i.value.port.map(|p| p.to_string()).unwrap_or_else(|| "-".into())),
        ("collection", s.x_ic_collection_ref),
        ("valid from", s.valid_from),
        ("valid until", s.valid_until.unwrap_or_else(|| "-".into())),
        ("kill chain phases", phases.join(", ")),
        ("related threats", s.x_ic_related_threat_refs.join(", ")),
        ("description", s.description.unwrap_or_default()),
        ("created", s.created),
        ("modified", s.modified),
        ("revoked", i.revoked_at.map(|t| format!("yes, at {t}")).unwrap_or_else(|| "no".into())),
    ];
    for (k, v) in rows {
        t.add_row(vec![k.to_string(), v]);
    }
    t
}
