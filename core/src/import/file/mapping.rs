//! The suggested mapping of a file's columns, and whether its first line is a header.

use super::{dates, Column};
use crate::observable;
use csv::ByteRecord;

/// Rows looked at for a suggestion.
pub(crate) const SAMPLE_ROWS: usize = 100;

/// Share of a column's non-empty cells that must read as observables for it to be suggested
/// as `observable`.
const OBSERVABLE_SHARE: f64 = 0.5;

/// Share of a column's non-empty cells that must read as dates for a header-less date column.
const DATE_SHARE: f64 = 0.8;

/// Header words that name each target (compared without case, spaces or punctuation).
fn header_target(h: &str) -> Option<Column> {
    let n: String = h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    let has = |words: &[&str]| words.iter().any(|w| n.contains(w));
    if n.is_empty() {
        None
    } else if has(&["validfrom", "firstseen", "created", "datefrom", "startdate"]) || n == "date" || n == "timestamp" {
        Some(Column::ValidFrom)
    } else if has(&["validuntil", "validto", "lastseen", "expir", "enddate", "dateto"]) {
        Some(Column::ValidUntil)
    } else if has(&["killchain", "phase", "tactic"]) {
        Some(Column::KillChainPhases)
    } else if has(&["threat", "intrusionset", "actor"]) {
        Some(Column::XIcRelatedThreatRefs)
    } else if has(&["description", "comment", "note", "context", "details", "remark"]) {
        Some(Column::Description)
    } else if has(&["observable", "indicator", "ioc", "value"]) && !has(&["type", "kind"]) {
        Some(Column::Observable)
    } else {
        None
    }
}

/// How surely a header names its target: 2 for the target's own name (`valid_from`,
/// `kill_chain_phases`, ...), 1 for a related word (`first seen`, `created`, ...).
fn header_strength(h: &str) -> u8 {
    let n: String = h.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
    let own = [
        "validfrom",
        "validuntil",
        "validto",
        "killchainphases",
        "killchain",
        "xicrelatedthreatrefs",
        "relatedthreats",
        "threats",
        "description",
    ];
    if own.contains(&n.as_str()) {
        2
    } else {
        1
    }
}

fn text(rec: &ByteRecord, c: usize) -> &str {
    rec.get(c).and_then(|b| std::str::from_utf8(b).ok()).map(str::trim).unwrap_or("")
}

/// Shares of a column's non-empty cells in `rows`.
#[derive(Clone, Copy, Default)]
struct Shares {
    /// Read as observables.
    obs: f64,
    /// Read as dates written as text.
    date: f64,
    /// Read as dates in any form (numbers included).
    any_date: f64,
    /// Non-empty cells.
    n: usize,
}

fn shares(rows: &[ByteRecord], c: usize) -> Shares {
    let (mut n, mut obs, mut date, mut any_date) = (0usize, 0usize, 0usize, 0usize);
    for r in rows {
        let t = text(r, c);
        if t.is_empty() {
            continue;
        }
        n += 1;
        if dates::looks_like_date(t) {
            date += 1;
            any_date += 1;
        } else if observable::parse_indicator(t, None).is_ok() {
            obs += 1;
        } else if dates::parse_date(t).is_ok() {
            any_date += 1;
        }
    }
    if n == 0 {
        return Shares::default();
    }
    let share = |k: usize| k as f64 / n as f64;
    Shares { obs: share(obs), date: share(date), any_date: share(any_date), n }
}

/// The suggested mapping (one entry per column) and whether to ignore the first line.
pub(crate) fn suggest(rows: &[ByteRecord]) -> (Vec<Option<Column>>, bool) {
    let rows = &rows[..rows.len().min(SAMPLE_ROWS)];
    let width = rows.iter().map(ByteRecord::len).max().unwrap_or(0);
    let Some(first) = rows.first() else { return (Vec::new(), false) };
    let body = &rows[1..];
    let body_shares: Vec<Shares> = (0..width).map(|c| shares(body, c)).collect();
    let named: Vec<Option<Column>> = (0..width).map(|c| header_target(text(first, c))).collect();

    // A header: a first line naming a target, or a first cell that is no observable above a
    // column of observables (or no date above a column of dates).
    let header = named.iter().any(Option::is_some)
        || (0..width).any(|c| {
            let t = text(first, c);
            let Shares { obs, date, n, .. } = body_shares[c];
            n > 0
                && !t.is_empty()
                && ((obs >= OBSERVABLE_SHARE && observable::parse_indicator(t, None).is_err())
                    || (date >= DATE_SHARE && !dates::looks_like_date(t)))
        });
    let col_shares = if header { body_shares } else { (0..width).map(|c| shares(rows, c)).collect() };

    let mut mapping: Vec<Option<Column>> = vec![None; width];
    for c in 0..width {
        let Shares { obs, date, any_date, n } = col_shares[c];
        mapping[c] = if n > 0 && obs >= OBSERVABLE_SHARE {
            Some(Column::Observable)
        } else if header {
            match named[c] {
                Some(Column::Observable) => None,
                Some(Column::ValidFrom | Column::ValidUntil) if n > 0 && any_date < 0.5 => None,
                other => other,
            }
        } else if date >= DATE_SHARE {
            Some(Column::ValidFrom)
        } else {
            None
        };
    }
    // without a header, a second date column is the end of validity
    if !header {
        let dates: Vec<usize> = (0..width).filter(|&c| mapping[c] == Some(Column::ValidFrom)).collect();
        if let (Some(&second), false) = (dates.get(1), mapping.contains(&Some(Column::ValidUntil))) {
            mapping[second] = Some(Column::ValidUntil);
        }
    }
    // every target but `observable` at most once: the column whose header names it best (its own
    // name over a related word, a filled column over an empty one), else the first
    let rank = |c: usize| (if header { header_strength(text(first, c)) } else { 1 }, col_shares[c].n > 0);
    for t in Column::ALL.iter().skip(1) {
        let cols: Vec<usize> = (0..width).filter(|&c| mapping[c] == Some(*t)).collect();
        if let Some(best) = cols.iter().copied().max_by(|&a, &b| rank(a).cmp(&rank(b)).then(b.cmp(&a))) {
            for c in cols.into_iter().filter(|&c| c != best) {
                mapping[c] = None;
            }
        }
    }
    // no column reads as observables: the one that reads best, else the one the header names,
    // else the first (so that every row gets its reason)
    if !mapping.contains(&Some(Column::Observable)) && width > 0 {
        let best = (0..width)
            .filter(|&c| mapping[c].is_none())
            .max_by(|&a, &b| col_shares[a].obs.total_cmp(&col_shares[b].obs).then(b.cmp(&a)))
            .filter(|&c| col_shares[c].obs > 0.0)
            .or_else(|| (0..width).find(|&c| named[c] == Some(Column::Observable)))
            .unwrap_or(0);
        mapping[best] = Some(Column::Observable);
    }
    (mapping, header)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(lines: &[&[&str]]) -> Vec<ByteRecord> {
        lines.iter().map(|l| ByteRecord::from(l.to_vec())).collect()
    }

    #[test]
    fn header_and_targets() {
        let (m, h) = suggest(&rows(&[
            &["IOC", "First seen", "Last seen", "Tactic", "Threat", "Comment", "type"],
            &["evil.com", "2024-01-01", "2024-02-01", "c2", "APT29", "x", "domain"],
            &["1.2.3.4", "2024-01-03", "2024-02-01", "c2", "APT29", "y", "ipv4"],
        ]));
        assert!(h);
        use Column::*;
        assert_eq!(
            m,
            vec![
                Some(Observable),
                Some(ValidFrom),
                Some(ValidUntil),
                Some(KillChainPhases),
                Some(XIcRelatedThreatRefs),
                Some(Description),
                None
            ]
        );
    }

    #[test]
    fn no_header() {
        let (m, h) = suggest(&rows(&[&["evil.com", "2024-01-01", "x"], &["1.2.3.4", "2024-01-03", "y"]]));
        assert!(!h);
        assert_eq!(m, vec![Some(Column::Observable), Some(Column::ValidFrom), None]);
        // an unknown header word above observables is still a header
        let (m, h) = suggest(&rows(&[&["domain_name", "ip_address"], &["evil.com", "1.2.3.4"]]));
        assert!(h);
        assert_eq!(m, vec![Some(Column::Observable), Some(Column::Observable)]);
        // a header with the targets' own names wins over related words and empty columns
        let (m, _) = suggest(&rows(&[
            &["created", "first_seen", "valid_from", "valid_until", "name"],
            &["2021-07-27", "", "2021-01-01", "2022-01-01", "evil.com"],
        ]));
        use Column::*;
        assert_eq!(m, vec![None, None, Some(ValidFrom), Some(ValidUntil), Some(Observable)]);
        // nothing reads: the first column, so every row is explained
        let (m, _) = suggest(&rows(&[&["a", "b"], &["c", "d"]]));
        assert_eq!(m, vec![Some(Column::Observable), None]);
    }
}
