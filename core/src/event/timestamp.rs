//! [`parse_timestamp`]: ECS `@timestamp` values, by hand (no chrono in the hot path).

use crate::time::Timestamp;

/// Parse an ECS timestamp into microseconds since the epoch.
///
/// Accepted:
/// * RFC 3339 date-times: `2026-01-01T00:00:00Z`, with a fraction of any length
///   (`.123Z`, `.123456789Z`; digits past microseconds are truncated), with an offset
///   (`+01:00`, also `+0100` and `+01`) or without one (then UTC), with `t`/`z` in lower case or a
///   space instead of the `T`, without seconds (`2026-01-01T00:00Z`), or a leap second (`:60`,
///   read as the next minute's first second);
/// * a plain date `2026-01-01` (midnight UTC);
/// * epoch milliseconds, as the text of a JSON number or a numeric string: `1767225600123`,
///   `-5`, `1767225600123.5`, `1.767225600123e12`.
///
/// Leading and trailing ASCII whitespace is ignored. Returns `None` for anything else, including
/// out-of-range fields (`2026-02-30`, `24:00:00`) and values outside the `i64` microsecond range.
///
/// ```
/// use iocmatch::event::parse_timestamp;
/// let t = parse_timestamp("2026-01-01T01:00:00.5+01:00").unwrap();
/// assert_eq!(t.micros(), 1_767_225_600_500_000);
/// assert_eq!(parse_timestamp("1767225600500"), Some(t));
/// assert_eq!(parse_timestamp("yesterday"), None);
/// ```
pub fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    if let Some(t) = fast_utc_millis(b) {
        return Some(t);
    }
    let b = b.trim_ascii();
    match b.first()? {
        b'0'..=b'9' if b.get(4) == Some(&b'-') => rfc3339(b),
        b'-' | b'+' | b'0'..=b'9' => epoch_millis(b),
        _ => None,
    }
}

/// The common `YYYY-MM-DDTHH:MM:SS.fffZ` (exactly 24 bytes).
#[inline]
fn fast_utc_millis(b: &[u8]) -> Option<Timestamp> {
    let b: &[u8; 24] = b.try_into().ok()?;
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'.' || b[23] != b'Z'
    {
        return None;
    }
    let year = digits(&b[0..4])? as i64;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    let hour = digits(&b[11..13])?;
    let minute = digits(&b[14..16])?;
    let second = digits(&b[17..19])?;
    let millis = digits(&b[20..23])?;
    let secs = civil_secs(year, month, day, hour, minute, second)?;
    Some(Timestamp(secs * 1_000_000 + millis as i64 * 1000))
}

/// The general RFC 3339 form (see [`parse_timestamp`]).
fn rfc3339(b: &[u8]) -> Option<Timestamp> {
    let year = digits(b.get(0..4)?)? as i64;
    expect(b, 4, b'-')?;
    let month = digits(b.get(5..7)?)?;
    expect(b, 7, b'-')?;
    let day = digits(b.get(8..10)?)?;
    if b.len() == 10 {
        return Some(Timestamp(civil_secs(year, month, day, 0, 0, 0)? * 1_000_000));
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let hour = digits(b.get(11..13)?)?;
    expect(b, 13, b':')?;
    let minute = digits(b.get(14..16)?)?;
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = digits(b.get(17..19)?)?;
        i = 19;
    }
    let mut micros = 0i64;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while let Some(d) = b.get(i).filter(|d| d.is_ascii_digit()) {
            if i - start < 6 {
                micros = micros * 10 + (d - b'0') as i64;
            }
            i += 1;
        }
        if i == start {
            return None;
        }
        for _ in (i - start)..6 {
            micros *= 10;
        }
    }
    let offset: i64 = match b.get(i) {
        None => 0,
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) => {
            let rest = &b[i + 1..];
            let (h, m) = match rest.len() {
                2 => (digits(rest)?, 0),
                4 => (digits(&rest[0..2])?, digits(&rest[2..4])?),
                5 if rest[2] == b':' => (digits(&rest[0..2])?, digits(&rest[3..5])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return None;
            }
            let o = (h * 3600 + m * 60) as i64;
            if sign == b'-' {
                -o
            } else {
                o
            }
        }
        _ => return None,
    };
    let secs = civil_secs(year, month, day, hour, minute, second)? - offset;
    Some(Timestamp(secs * 1_000_000 + micros))
}

/// Epoch milliseconds: an integer, a decimal, or (slow path) a number with an exponent.
fn epoch_millis(b: &[u8]) -> Option<Timestamp> {
    let (neg, digits_part) = match b[0] {
        b'-' => (true, &b[1..]),
        b'+' => (false, &b[1..]),
        _ => (false, b),
    };
    let int_len = digits_part.iter().take_while(|d| d.is_ascii_digit()).count();
    if int_len == 0 {
        return None;
    }
    let rest = &digits_part[int_len..];
    let frac = match rest {
        [] => Some(&rest[..0]),
        [b'.', f @ ..] if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => Some(f),
        _ => None,
    };
    let Some(frac) = frac else {
        // An exponent (`1.7e12`): rare, read as a float.
        let allowed = |c: &u8| matches!(c, b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-');
        if !rest.iter().all(allowed) || !rest.iter().any(|c| matches!(c, b'e' | b'E')) {
            return None;
        }
        let v: f64 = std::str::from_utf8(b).ok()?.parse().ok()?;
        let micros = (v * 1000.0).round();
        return (micros.is_finite() && micros.abs() < 9.2e18).then_some(Timestamp(micros as i64));
    };
    let mut ms: i64 = 0;
    for &d in &digits_part[..int_len] {
        ms = ms.checked_mul(10)?.checked_add((d - b'0') as i64)?;
    }
    let mut sub = 0i64;
    for k in 0..3 {
        sub = sub * 10 + frac.get(k).map_or(0, |d| (d - b'0') as i64);
    }
    let micros = ms.checked_mul(1000)?.checked_add(sub)?;
    Some(Timestamp(if neg { -micros } else { micros }))
}

#[inline(always)]
fn expect(b: &[u8], i: usize, c: u8) -> Option<()> {
    (b.get(i) == Some(&c)).then_some(())
}

/// The value of a run of ASCII digits (at most 4 here).
#[inline(always)]
fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &d in b {
        let d = d.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

/// Seconds since the epoch of a UTC civil date and time, after range checks.
#[inline]
fn civil_secs(year: i64, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + (hour * 3600 + minute * 60 + second) as i64)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
#[inline]
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = month as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn micros(s: &str) -> Option<i64> {
        parse_timestamp(s).map(Timestamp::micros)
    }

    #[test]
    fn reads_every_form() {
        let base = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
        for (s, want) in [
            ("2026-01-01T00:00:00Z", base),
            ("2026-01-01T00:00:00.123Z", base + 123_000),
            ("2026-01-01T00:00:00.1Z", base + 100_000),
            ("2026-01-01T00:00:00.123456789Z", base + 123_456),
            ("2026-01-01T00:00:00.000001z", base + 1),
            ("2026-01-01T01:00:00+01:00", base),
            ("2026-01-01T01:30:00+0130", base),
            ("2026-01-01T01:00:00+01", base),
            ("2025-12-31T23:00:00.5-01:00", base + 500_000),
            ("2026-01-01 00:00:00", base),
            ("2026-01-01t00:00:00", base),
            ("2026-01-01T00:00Z", base),
            ("2025-12-31T23:59:60Z", base),
            ("2026-01-01", base),
            (" 2026-01-01T00:00:00Z\n", base),
            ("1767225600000", base),
            ("1767225600000.25", base + 250),
            ("1.767225600123e12", base + 123_000),
            ("0", 0),
            ("-1000", -1_000_000),
            ("1970-01-01T00:00:00Z", 0),
            ("1969-12-31T23:59:59.999999Z", -1),
            ("2024-02-29T12:00:00Z", 1_709_208_000_000_000),
            ("0000-01-01T00:00:00Z", -62_167_219_200_000_000),
            ("9999-12-31T23:59:59Z", 253_402_300_799_000_000),
        ] {
            assert_eq!(micros(s), Some(want), "{s:?}");
        }
    }

    #[test]
    fn rejects_garbage() {
        for s in [
            "",
            " ",
            "now",
            "2026-13-01T00:00:00Z",
            "2026-02-29T00:00:00Z",
            "2026-01-00T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-01-01T00:60:00Z",
            "2026-01-01T00:00:61Z",
            "2026-01-01T00:00:00.Z",
            "2026-01-01T00:00:00ZZ",
            "2026-01-01T00:00:00+1:00",
            "2026-01-01T00:00:00+24:00",
            "2026-01-01X00:00:00Z",
            "2026-1-01",
            "2026-01-01T00:00:00.123Y",
            "+2026-01-01",
            "12a",
            "1.",
            "1.2.3",
            "-",
            "99999999999999999999",
            "1e400",
            "NaN",
        ] {
            assert_eq!(micros(s), None, "{s:?}");
        }
    }

    #[test]
    fn agrees_with_chrono_on_random_instants() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let us = (x % 8_000_000_000_000_000) as i64 - 2_000_000_000_000_000;
            let dt = DateTime::<Utc>::from_timestamp_micros(us).unwrap();
            let ms_form = dt.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            assert_eq!(micros(&ms_form), Some(us - us.rem_euclid(1000)), "{ms_form}");
            let us_form = dt.format("%Y-%m-%dT%H:%M:%S%.6f%:z").to_string();
            assert_eq!(micros(&us_form), Some(us), "{us_form}");
            let off = dt.with_timezone(&chrono::FixedOffset::east_opt(-(5 * 3600 + 1800)).unwrap());
            let off_form = off.format("%Y-%m-%d %H:%M:%S%.9f%:z").to_string();
            assert_eq!(micros(&off_form), Some(us), "{off_form}");
        }
    }
}
