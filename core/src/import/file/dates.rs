//! Dates in spreadsheet cells: everything [`Timestamp::parse`] reads, plus Excel serial numbers
//! and epoch milliseconds.

use crate::error::{Error, Result};
use crate::time::Timestamp;
use chrono::{NaiveDate, TimeZone, Utc};

/// Serial numbers below this are Excel days (1899-12-30 + n, up to 2173); larger integers are
/// epoch seconds (from 1970-01-02 on), and from 10^11 on epoch milliseconds.
const EXCEL_MAX: f64 = 100_000.0;

/// Microseconds in a day.
const DAY_MICROS: f64 = 86_400_000_000.0;

/// A date cell: RFC 3339, `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS`, `YYYY/MM/DD`, US spreadsheet dates
/// (`M/D/YY[YY] [H:MM[:SS]]`, `D/M/Y` when the first number is over 12), epoch seconds or
/// milliseconds, or an Excel serial number (`45321`, `45321.5`: days since 1899-12-30).
///
/// # Errors
/// A validation error naming the value.
pub fn parse_date(cell: &str) -> Result<Timestamp> {
    let t = cell.trim();
    if let Some(ts) = fast(t.as_bytes()) {
        return Ok(ts);
    }
    let numeric = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit() || b == b'.') && t.bytes().any(|b| b != b'.');
    if numeric {
        if let Ok(v) = t.parse::<f64>() {
            if v > 0.0 && v < EXCEL_MAX {
                return Ok(excel_serial(v, false));
            }
            if !t.contains('.') {
                if let Ok(n) = t.parse::<i64>() {
                    return Ok(if n >= 100_000_000_000 { Timestamp::from_millis(n) } else { Timestamp::from_secs(n) });
                }
            }
        }
    } else if let Some(ts) = slashed(t) {
        return Ok(ts);
    } else if t.len() >= 10 && t.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        if let Ok(ts) = Timestamp::parse(&t.replace('/', "-")) {
            return Ok(ts);
        }
    }
    Err(Error::invalid(
        cell,
        format!(
            "invalid date '{}': expected RFC 3339 (2024-05-07T10:00:00Z), YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS', \
             epoch seconds or an Excel serial number",
            crate::import::excerpt(t, 60)
        ),
    ))
}

/// The common forms without a format parser: `YYYY-MM-DD`, then optionally ` HH:MM:SS` or
/// `THH:MM:SS`, then optionally `Z`.
fn fast(b: &[u8]) -> Option<Timestamp> {
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let d = b.get(r)?;
        d.iter().try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)?;
    let (h, m, s) = match b.len() {
        10 => (0, 0, 0),
        19 | 20
            if matches!(b[10], b' ' | b'T') && b[13] == b':' && b[16] == b':' && (b.len() == 19 || b[19] == b'Z') =>
        {
            (num(11..13)?, num(14..16)?, num(17..19)?)
        }
        _ => return None,
    };
    let n = date.and_hms_opt(h, m, s)?;
    Some(Timestamp(n.and_utc().timestamp_micros()))
}

/// A date as spreadsheets in the US write it: `M/D/YY` or `M/D/YYYY`, then optionally `H:MM`
/// or `H:MM:SS` (UTC); `D/M/Y` when the first number cannot be a month.
fn slashed(t: &str) -> Option<Timestamp> {
    let (date, time) = t.split_once(' ').map_or((t, None), |(d, h)| (d, Some(h.trim())));
    let mut p = date.split('/');
    let (a, b, y) = (p.next()?, p.next()?, p.next()?);
    if p.next().is_some() || a.len() > 2 || b.len() > 2 || !matches!(y.len(), 2 | 4) {
        return None;
    }
    let two_digits = y.len() == 2;
    let (a, b, y): (u32, u32, i32) = (a.parse().ok()?, b.parse().ok()?, y.parse().ok()?);
    let y = match (two_digits, y) {
        (true, 0..=68) => 2000 + y,
        (true, _) => 1900 + y,
        _ => y,
    };
    let (m, d) = if a > 12 { (b, a) } else { (a, b) };
    let day = NaiveDate::from_ymd_opt(y, m, d)?;
    let (h, mi, s) = match time {
        None => (0, 0, 0),
        Some(h) => {
            let mut q = h.split(':');
            let hh = q.next()?.parse().ok()?;
            let mm = q.next()?.parse().ok()?;
            let ss = q.next().map_or(Some(0), |x| x.parse().ok())?;
            if q.next().is_some() {
                return None;
            }
            (hh, mm, ss)
        }
    };
    Some(Timestamp(day.and_hms_opt(h, mi, s)?.and_utc().timestamp_micros()))
}

/// An Excel serial date (days since 1899-12-30, or since 1904-01-01 for 1904 workbooks).
pub fn excel_serial(days: f64, is_1904: bool) -> Timestamp {
    let epoch = if is_1904 { (1904, 1, 1) } else { (1899, 12, 30) };
    let base = NaiveDate::from_ymd_opt(epoch.0, epoch.1, epoch.2).and_then(|d| d.and_hms_opt(0, 0, 0));
    let base = base.map(|n| Utc.from_utc_datetime(&n).timestamp_micros()).unwrap_or_default();
    // Whole milliseconds, as Excel keeps them.
    let micros = ((days * DAY_MICROS) / 1000.0).round() as i64 * 1000;
    Timestamp(base.saturating_add(micros))
}

/// Whether a cell reads as a date written as text (not a bare number), for mapping suggestions.
pub(crate) fn looks_like_date(cell: &str) -> bool {
    let t = cell.trim();
    t.len() >= 8 && t.as_bytes()[0].is_ascii_digit() && t.contains(['-', '/']) && parse_date(t).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form() {
        let day = Timestamp::from_secs(1_715_040_000); // 2024-05-07T00:00:00Z
        assert_eq!(parse_date("2024-05-07").unwrap(), day);
        assert_eq!(parse_date("2024/05/07").unwrap(), day);
        assert_eq!(parse_date(" 2024-05-07T00:00:00Z ").unwrap(), day);
        assert_eq!(parse_date("2024-05-07 10:00:00").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("2024-05-07T10:00:00").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("2024-05-07T12:00:00+02:00").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("2024-05-07T10:00:00.5Z").unwrap(), Timestamp(1_715_076_000_500_000));
        assert_eq!(parse_date("1715076000").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("1715076000000").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("45419").unwrap(), day);
        assert_eq!(parse_date("5/7/2024").unwrap(), day);
        assert_eq!(parse_date("5/7/24 10:00").unwrap(), Timestamp::from_secs(1_715_076_000));
        assert_eq!(parse_date("25/12/2024").unwrap(), parse_date("2024-12-25").unwrap());
        assert_eq!(parse_date("1/23/17 23:20:05").unwrap(), parse_date("2017-01-23 23:20:05").unwrap());
        assert_eq!(parse_date("45419.5").unwrap(), Timestamp::from_secs(1_715_083_200));
        assert_eq!(excel_serial(43957.0, true), day);
        for bad in [
            "now",
            "yesterday",
            "",
            "2024-13-01",
            "2024-02-30",
            "2024-05-07 25:00:00",
            "13/13/2024",
            "1/2/3",
            "1/2/2024 1:2:3:4",
            "1.2.3",
            "-5",
            ".",
        ] {
            let e = parse_date(bad).unwrap_err();
            assert!(e.message().contains("invalid date"), "{bad}: {e}");
        }
        assert!(looks_like_date("2024-05-07") && !looks_like_date("45419") && !looks_like_date("evil.com"));
    }
}
