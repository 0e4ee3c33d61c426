//! A telemetry report as one self-contained HTML page: inline CSS, no script, no external
//! resource; the header, the table ordered by sightings and an SVG heatmap (one row per
//! indicator, the top [`HEATMAP_ROWS`]; one column per day, or per week for long windows).

use iocmatch::detect::{TelemetryReport, TelemetryRow};
use iocmatch::Timestamp;
use std::fmt::Write;

/// Indicators drawn in the heatmap at most.
pub const HEATMAP_ROWS: usize = 50;
/// Windows up to this many days get one column per day; longer ones one per week (or more).
const DAILY_UP_TO: i64 = 92;
/// Columns at most.
const MAX_COLUMNS: i64 = 530;
const CELL: i64 = 11;
const GAP: i64 = 2;
const LABEL_W: i64 = 230;
const TOP: i64 = 28;
/// Cell colours: none, then four levels.
const COLOURS: [&str; 5] = ["#ebedf0", "#c6e48b", "#7bc96f", "#239a3b", "#196127"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// Escape text for HTML and SVG (content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

fn date(day: i64) -> String {
    let t = Timestamp::from_day(day).to_rfc3339();
    t.get(..10).unwrap_or(&t).to_string()
}

/// `(year, month 1..=12)` of a day.
fn year_month(day: i64) -> (i64, usize) {
    let d = date(day);
    let y = d.get(..4).and_then(|s| s.parse().ok()).unwrap_or(1970);
    let m = d.get(5..7).and_then(|s| s.parse().ok()).unwrap_or(1);
    (y, m)
}

/// The colour level of `count` when the largest cell holds `max`.
fn level(count: u64, max: u64) -> usize {
    if count == 0 || max == 0 {
        return 0;
    }
    // quarters of the largest count, at least level 1
    let l = (count.saturating_mul(4)).div_ceil(max) as usize;
    l.clamp(1, 4)
}

/// `a / b` rounded up, for `a >= 0`, `b > 0`.
fn ceil_div(a: i64, b: i64) -> i64 {
    (a + b - 1) / b
}

/// How many days one column holds, for a window of `days` days.
fn bucket_days(days: i64) -> i64 {
    if days <= DAILY_UP_TO {
        1
    } else if ceil_div(days, 7) <= MAX_COLUMNS {
        7
    } else {
        ceil_div(days, MAX_COLUMNS)
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// The heatmap of the top rows.
fn heatmap(report: &TelemetryReport) -> String {
    let s = &report.summary;
    let first = s.window_start.day();
    let last = s.window_end.day().max(first);
    let days = last - first + 1;
    let bucket = bucket_days(days);
    let cols = ceil_div(days, bucket);
    let rows: Vec<&TelemetryRow> = report.rows.iter().take(HEATMAP_ROWS).collect();
    // counts per (row, column)
    let grid: Vec<Vec<u64>> = rows
        .iter()
        .map(|r| {
            let mut g = vec![0u64; cols as usize];
            for d in &r.days {
                if (first..=last).contains(&d.day) {
                    let c = ((d.day - first) / bucket) as usize;
                    g[c] = g[c].saturating_add(d.count);
                }
            }
            g
        })
        .collect();
    let max = grid.iter().flatten().copied().max().unwrap_or(0);
    let width = LABEL_W + cols * (CELL + GAP) + 10;
    let legend_y = TOP + rows.len() as i64 * (CELL + GAP) + 16;
    let height = legend_y + 30;
    let mut out = String::new();
    let unit = match bucket {
        1 => "day".to_string(),
        7 => "week".to_string(),
        n => format!("{n} days"),
    };
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="sightings per indicator and {unit}"><style>text{{font-size:10px;fill:#57606a;font-family:system-ui,sans-serif}}.label{{text-anchor:end;font-family:ui-monospace,monospace}}</style>"#
    );
    // month labels: at the first column of each month, unless the previous label is too close
    let mut prev: Option<(i64, usize)> = None;
    let mut free_from = 0i64;
    for c in 0..cols {
        let ym = year_month(first + c * bucket);
        if prev != Some(ym) {
            let x = LABEL_W + c * (CELL + GAP);
            let label = if prev.is_none() || ym.1 == 1 {
                format!("{} {}", MONTHS[ym.1 - 1], ym.0)
            } else {
                MONTHS[ym.1 - 1].to_string()
            };
            if x >= free_from {
                let _ = write!(out, r#"<text class="month" x="{x}" y="{}">{label}</text>"#, TOP - 8);
                free_from = x + label.len() as i64 * 6 + 4;
            }
            prev = Some(ym);
        }
    }
    for (i, (r, g)) in rows.iter().zip(&grid).enumerate() {
        let y = TOP + i as i64 * (CELL + GAP);
        let obs = escape(&r.observable);
        let _ = write!(
            out,
            r##"<g class="row" id="heat-{i}"><a href="#row-{i}"><text class="label" x="{}" y="{}"><title>{obs}</title>{}</text></a>"##,
            LABEL_W - 6,
            y + CELL - 1,
            escape(&truncate(&r.observable, 34))
        );
        for (c, &n) in g.iter().enumerate() {
            let x = LABEL_W + c as i64 * (CELL + GAP);
            let from = first + c as i64 * bucket;
            let to = (from + bucket - 1).min(last);
            let when = if bucket == 1 { date(from) } else { format!("{} to {}", date(from), date(to)) };
            let _ = write!(
                out,
                r#"<rect x="{x}" y="{y}" width="{CELL}" height="{CELL}" rx="2" fill="{}"><title>{obs}: {n} sighting{} on {when}</title></rect>"#,
                COLOURS[level(n, max)],
                if n == 1 { "" } else { "s" }
            );
        }
        out.push_str("</g>");
    }
    // legend
    let _ = write!(
        out,
        r#"<g class="legend"><text x="{}" y="{}" text-anchor="end">less</text>"#,
        LABEL_W - 6,
        legend_y + CELL - 1
    );
    for (l, colour) in COLOURS.iter().enumerate() {
        let x = LABEL_W + l as i64 * (CELL + GAP);
        let range = match (l, max) {
            (0, _) => "none".to_string(),
            (_, 0) => "-".to_string(),
            (l, m) => {
                let lo = (m * (l as u64 - 1)) / 4 + 1;
                let hi = (m * l as u64) / 4;
                if lo >= hi {
                    format!("{hi}")
                } else {
                    format!("{lo} to {hi}")
                }
            }
        };
        let _ = write!(
            out,
            r#"<rect x="{x}" y="{legend_y}" width="{CELL}" height="{CELL}" rx="2" fill="{colour}"><title>{range} per {unit}</title></rect>"#
        );
    }
    let _ = write!(
        out,
        r#"<text class="more" x="{}" y="{}">more (one cell per {unit}; darkest: {max})</text></g>"#,
        LABEL_W + 5 * (CELL + GAP) + 4,
        legend_y + CELL - 1
    );
    out.push_str("</svg>");
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem;color:#24292e}\
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:2rem}\
table{border-collapse:collapse;font-size:.9rem}th,td{border:1px solid #d0d7de;padding:.3rem .6rem;text-align:left}\
th{background:#f6f8fa}td.n{text-align:right}dl{display:grid;grid-template-columns:max-content auto;gap:.2rem 1rem}\
dt{font-weight:600}dd{margin:0}code{font-family:ui-monospace,monospace;word-break:break-all}\
.heatmap text{font-size:10px;fill:#57606a}.heatmap .label{text-anchor:end;font-family:ui-monospace,monospace}\
.wrap{overflow-x:auto}";

/// The report as an HTML page.
pub fn report(r: &TelemetryReport, collection_name: &str) -> String {
    let s = &r.summary;
    let mut out = String::new();
    let title =
        format!("Telemetry report: {}", if collection_name.is_empty() { &s.collection_id } else { collection_name });
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        escape(&title)
    );
    let _ = writeln!(out, "<h1>{}</h1>", escape(&title));
    out.push_str("<dl>\n");
    let communities = s.communities.join(", ");
    let facts: [(&str, String); 9] = [
        ("Report", s.id.clone()),
        ("Collection", format!("{collection_name} ({})", s.collection_id)),
        ("Created", s.created.to_rfc3339()),
        ("Window", format!("{} to {}", s.window_start, s.window_end)),
        ("Communities", communities),
        ("Source", s.source.clone()),
        ("Events read", s.events.to_string()),
        ("Indicators seen", s.indicators_seen.to_string()),
        ("Sightings", r.rows.iter().map(|x| x.sightings).sum::<u64>().to_string()),
    ];
    for (k, v) in facts {
        let _ = writeln!(out, "<dt>{k}</dt><dd>{}</dd>", escape(&v));
    }
    out.push_str("</dl>\n");
    if r.rows.is_empty() {
        out.push_str("<p>No indicator of the collection was seen in the window.</p>\n</body></html>\n");
        return out;
    }
    let shown = r.rows.len().min(HEATMAP_ROWS);
    let _ = writeln!(
        out,
        "<h2>Heatmap</h2><p>The {shown} most seen indicators{}. Hover a cell for its count.</p><div class=\"wrap\">{}</div>",
        if r.rows.len() > shown { format!(" (of {})", r.rows.len()) } else { String::new() },
        heatmap(r)
    );
    out.push_str("<h2>Indicators seen</h2>\n<table><thead><tr><th>#</th><th>Observable</th><th>Kind</th><th>Sightings</th><th>First seen</th><th>Last seen</th><th>Indicator</th></tr></thead><tbody>\n");
    for (i, x) in r.rows.iter().enumerate() {
        let n = if i < HEATMAP_ROWS {
            format!(r##"<a href="#heat-{i}">{}</a>"##, x.sightings)
        } else {
            x.sightings.to_string()
        };
        let _ = writeln!(
            out,
            r#"<tr id="row-{i}"><td class="n">{}</td><td><code>{}</code></td><td>{}</td><td class="n">{n}</td><td>{}</td><td>{}</td><td><code>{}</code></td></tr>"#,
            i + 1,
            escape(&x.observable),
            escape(x.kind.as_str()),
            x.first_seen,
            x.last_seen,
            escape(&x.indicator_id)
        );
    }
    out.push_str("</tbody></table>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_levels() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("a\u{7}b"), "a\u{fffd}b");
        assert_eq!([0, 1, 2, 3, 4, 5, 8].map(|c| level(c, 8)), [0, 1, 1, 2, 2, 3, 4]);
        assert_eq!(level(1, 1000), 1);
        assert_eq!((bucket_days(31), bucket_days(92), bucket_days(366), bucket_days(10_000)), (1, 1, 7, 19));
        assert_eq!(year_month(0), (1970, 1));
        assert_eq!(truncate("abcdef", 4), "abc…");
    }

    fn report(start: &str, end: &str, days: &[(&str, u64)]) -> TelemetryReport {
        use iocmatch::detect::{DayCount, TelemetryRow, TelemetrySummary};
        let t = |s: &str| Timestamp::parse(s).unwrap();
        TelemetryReport {
            summary: TelemetrySummary {
                id: "telemetry-report--x".into(),
                collection_id: "ioc-collection--y".into(),
                created: t(end),
                window_start: t(start),
                window_end: t(end),
                communities: vec![],
                source: "events".into(),
                events: 9,
                indicators_seen: 1,
            },
            rows: vec![TelemetryRow {
                indicator_id: "indicator--z".into(),
                observable: "evil.example".into(),
                kind: iocmatch::Kind::Domain,
                sightings: days.iter().map(|d| d.1).sum(),
                first_seen: t(start),
                last_seen: t(end),
                days: days.iter().map(|(d, count)| DayCount { day: t(d).day(), count: *count }).collect(),
            }],
        }
    }

    #[test]
    fn daily_columns_for_short_windows_and_no_overlapping_month_labels() {
        let r = report("2024-01-30", "2024-03-01", &[("2024-01-30", 1), ("2024-02-10", 4), ("2024-03-01", 2)]);
        let svg = heatmap(&r);
        // 2024-01-30 ..= 2024-03-01: 32 days, one column each
        assert_eq!(svg.matches("<rect").count(), 32 + COLOURS.len());
        assert!(svg.contains("evil.example: 4 sightings on 2024-02-10</title>"));
        assert!(svg.contains("evil.example: 1 sighting on 2024-01-30</title>"));
        assert!(svg.contains(&format!("fill=\"{}\"><title>evil.example: 4 ", COLOURS[4])));
        assert!(svg.contains(&format!("fill=\"{}\"><title>evil.example: 1 ", COLOURS[1])));
        // Jan 2024 at column 0; Feb two columns later would overlap it and is left out; Mar is drawn
        assert!(svg.contains(">Jan 2024</text>") && !svg.contains(">Feb</text>") && svg.contains(">Mar</text>"));
    }
}
