//! Timestamps: microseconds since the Unix epoch, UTC; parsed from the forms feeds use and
//! printed as RFC 3339 the way the spec's responses show them.

use crate::error::{Error, Result};
use chrono::{DateTime, NaiveDate, NaiveDateTime, SecondsFormat, TimeZone, Utc};
use std::fmt;

/// A point in time, in microseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The current time.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_micros())
    }

    /// From whole seconds since the epoch.
    pub fn from_secs(secs: i64) -> Self {
        Timestamp(secs.saturating_mul(1_000_000))
    }

    /// From milliseconds since the epoch.
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms.saturating_mul(1_000))
    }

    /// Microseconds since the epoch.
    pub fn micros(self) -> i64 {
        self.0
    }

    /// Whole seconds since the epoch (rounded down).
    pub fn secs(self) -> i64 {
        self.0.div_euclid(1_000_000)
    }

    /// Parse the forms accepted everywhere iocmatch reads a date:
    /// RFC 3339 (`2024-05-07T10:00:00Z`, with or without fraction or offset), `YYYY-MM-DD HH:MM:SS`
    /// (UTC), a plain ISO date `YYYY-MM-DD` (midnight UTC), epoch seconds (`1715076000`), and the
    /// word `now`.
    ///
    /// # Errors
    /// A validation error naming the value when it is none of these.
    pub fn parse(s: &str) -> Result<Self> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("now") {
            return Ok(Timestamp::now());
        }
        if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
            return Ok(Timestamp(dt.with_timezone(&Utc).timestamp_micros()));
        }
        // RFC 3339 with a space or lower-case t/z, or without offset (taken as UTC).
        for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
            let u = t.trim_end_matches(['Z', 'z']);
            if let Ok(n) = NaiveDateTime::parse_from_str(u, fmt) {
                return Ok(Timestamp(Utc.from_utc_datetime(&n).timestamp_micros()));
            }
        }
        if let Ok(dt) = DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%.f%:z") {
            return Ok(Timestamp(dt.with_timezone(&Utc).timestamp_micros()));
        }
        if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
            let n = d.and_hms_opt(0, 0, 0).expect("midnight exists");
            return Ok(Timestamp(Utc.from_utc_datetime(&n).timestamp_micros()));
        }
        if !t.is_empty() && t.len() <= 12 && t.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(secs) = t.parse::<i64>() {
                return Ok(Timestamp::from_secs(secs));
            }
        }
        Err(Error::invalid(
            s,
            format!("invalid date '{s}': expected RFC 3339 (2024-05-07T10:00:00Z), YYYY-MM-DD, 'YYYY-MM-DD HH:MM:SS' or epoch seconds"),
        ))
    }

    /// RFC 3339 in UTC with a `Z`: no fraction when the time is on a whole second, else
    /// microseconds (`2025-01-31T13:38:58.897795Z`), as in the spec's responses.
    pub fn to_rfc3339(self) -> String {
        match Utc.timestamp_micros(self.0).single() {
            Some(dt) => {
                let fmt = if self.0.rem_euclid(1_000_000) == 0 { SecondsFormat::Secs } else { SecondsFormat::Micros };
                dt.to_rfc3339_opts(fmt, true)
            }
            None => format!("@{}us", self.0),
        }
    }
}

impl Timestamp {
    /// The UTC day it falls on, in days since 1970-01-01 (negative before).
    pub fn day(self) -> i64 {
        self.0.div_euclid(86_400 * 1_000_000)
    }

    /// Midnight UTC of day `day` (days since 1970-01-01).
    pub fn from_day(day: i64) -> Self {
        Timestamp(day.saturating_mul(86_400 * 1_000_000))
    }

    /// This time moved by `d` (saturating), earlier when `back`.
    pub fn shifted(self, d: std::time::Duration, back: bool) -> Self {
        let us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Timestamp(if back { self.0.saturating_sub(us) } else { self.0.saturating_add(us) })
    }
}

/// Parse a duration written as a number and a unit: `5d`, `365d`, `12h`, `30m`, `45s`, `2w`
/// (a bare number is days).
///
/// # Errors
/// A validation error naming the value when it is not one.
pub fn parse_duration(s: &str) -> Result<std::time::Duration> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit_secs: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        "h" | "hour" | "hours" => 3_600,
        "m" | "min" | "mins" | "minutes" => 60,
        "s" | "sec" | "secs" | "seconds" => 1,
        _ => 0,
    };
    match num.parse::<u64>() {
        Ok(n) if unit_secs > 0 && n <= 1_000_000 => Ok(std::time::Duration::from_secs(n * unit_secs)),
        _ => Err(Error::invalid(
            s,
            format!("invalid duration '{s}': expected a number and a unit, as 5d, 12h, 30m, 45s or 2w"),
        )),
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_accepted_form() {
        let want = Timestamp::from_secs(1_430_956_800); // 2015-05-07T00:00:00Z
        for s in [
            "2015-05-07T00:00:00Z",
            "2015-05-07T00:00:00.000Z",
            "2015-05-07T02:00:00+02:00",
            "2015-05-07 00:00:00",
            "2015-05-07T00:00:00",
            "2015-05-07",
            "1430956800",
            " 2015-05-07T00:00:00z ",
        ] {
            assert_eq!(Timestamp::parse(s).unwrap(), want, "{s}");
        }
    }

    #[test]
    fn rejects_garbage_naming_the_value() {
        for s in ["", "yesterday", "2015-13-01", "2015-05-07T25:00:00Z", "12345678901234"] {
            let e = Timestamp::parse(s).unwrap_err();
            assert!(e.to_string().contains(&format!("'{s}'")), "{e}");
        }
    }

    #[test]
    fn durations_and_days() {
        assert_eq!(parse_duration("5d").unwrap().as_secs(), 5 * 86_400);
        assert_eq!(parse_duration(" 365 ").unwrap().as_secs(), 365 * 86_400);
        assert_eq!(parse_duration("12h").unwrap().as_secs(), 12 * 3_600);
        assert_eq!(parse_duration("2w").unwrap().as_secs(), 14 * 86_400);
        assert_eq!(parse_duration("0s").unwrap().as_secs(), 0);
        for bad in ["", "d", "5x", "-5d", "1.5d"] {
            let e = parse_duration(bad).unwrap_err();
            assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
        }
        let t = Timestamp::parse("2015-05-07T23:59:59Z").unwrap();
        assert_eq!(Timestamp::from_day(t.day()), Timestamp::parse("2015-05-07").unwrap());
        assert_eq!(Timestamp::parse("1969-12-31T12:00:00Z").unwrap().day(), -1);
        let d = std::time::Duration::from_secs(86_400);
        assert_eq!(t.shifted(d, true).shifted(d, false), t);
    }

    #[test]
    fn formats_like_the_spec() {
        assert_eq!(Timestamp::from_secs(1_430_956_800).to_rfc3339(), "2015-05-07T00:00:00Z");
        let t = Timestamp::parse("2025-01-31T13:38:58.897795Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2025-01-31T13:38:58.897795Z");
    }
}
