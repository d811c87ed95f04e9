//! Times and durations: RFC 3339 in and out, durations for people.

use std::fmt::Write as _;
/// A duration in nanoseconds, for people: `850ns`, `12.5µs`, `12.310ms`,
/// `1.204s`.
pub(crate) fn duration(ns: u64) -> String {
    if ns < 1_000 {
        format!("{ns}ns")
    } else if ns < 1_000_000 {
        format!("{:.1}µs", ns as f64 / 1e3)
    } else if ns < 1_000_000_000 {
        format!("{:.3}ms", ns as f64 / 1e6)
    } else {
        format!("{:.3}s", ns as f64 / 1e9)
    }
}

/// Parses `100ms`, `1.5s`, `250us`, `250µs`, `10ns`, `2m`.
pub(crate) fn parse_duration(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let error = || {
        format!(
            "invalid duration {text:?}: expected a number and a unit, like 100ms, 1.5s or 250us"
        )
    };
    let number: f64 = number.parse().map_err(|_| error())?;
    let scale = match unit.trim() {
        "ns" => 1.0,
        "us" | "µs" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        "m" | "min" => 60e9,
        _ => return Err(error()),
    };
    Ok((number * scale).round() as u64)
}

/// Unix nanoseconds as RFC 3339 in UTC with `digits` fractional digits
/// (0 to 9): `2026-11-21T09:30:00.123456Z`.
pub(crate) fn rfc3339(unix_nanos: u64, digits: u32) -> String {
    let secs = unix_nanos / 1_000_000_000;
    let nanos = unix_nanos % 1_000_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let mut out = format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    if digits > 0 {
        let digits = digits.min(9);
        let frac = nanos / 10u64.pow(9 - digits);
        let _ = write!(out, ".{frac:0width$}", width = digits as usize);
    }
    out.push('Z');
    out
}

/// Parses an RFC 3339 timestamp (`2026-11-21T09:30:00.123456Z`,
/// `2026-11-21 10:30:00+01:00`) into Unix nanoseconds.
pub(crate) fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.trim().as_bytes();
    if b.len() < 19 {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = std::str::from_utf8(b.get(range)?).ok()?;
        if !s.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month)
        || !(1..=31).contains(&day)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return None;
    }
    let mut i = 19;
    let mut nanos: i64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = (i - start).min(9) as u32;
        if digits == 0 {
            return None;
        }
        nanos *= 10i64.pow(9 - digits);
    }
    let offset_secs = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let secs = num(i + 1..i + 3)? * 3600 + num(i + 4..i + 6)? * 60;
            if sign == b'+' {
                secs
            } else {
                -secs
            }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_secs;
    u64::try_from(secs)
        .ok()?
        .checked_mul(1_000_000_000)?
        .checked_add(nanos as u64)
}

/// A log line's numeric timestamp: seconds, milliseconds, microseconds or
/// nanoseconds since the epoch, told apart by size.
pub(crate) fn from_number(value: f64) -> Option<u64> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let nanos = if value >= 1e17 {
        value
    } else if value >= 1e14 {
        value * 1e3
    } else if value >= 1e11 {
        value * 1e6
    } else {
        value * 1e9
    };
    Some(nanos as u64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_round_trips() {
        let t = parse_rfc3339("2026-11-21T09:30:00.123456Z").unwrap();
        assert_eq!(t, 1_795_253_400_123_456_000);
        assert_eq!(rfc3339(t, 6), "2026-11-21T09:30:00.123456Z");
        assert_eq!(rfc3339(t, 3), "2026-11-21T09:30:00.123Z");
        assert_eq!(rfc3339(t, 0), "2026-11-21T09:30:00Z");
        assert_eq!(parse_rfc3339("2026-11-21 10:30:00.123456+01:00"), Some(t));
        assert_eq!(
            parse_rfc3339("2000-02-29T00:00:00Z"),
            Some(951_782_400_000_000_000)
        );
        assert_eq!(rfc3339(951_782_400_000_000_000, 0), "2000-02-29T00:00:00Z");
        for bad in [
            "",
            "2026-11-21",
            "2026-13-01T00:00:00Z",
            "2026-11-21T09:30:00",
            "2026-11-21T09:30:00.Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
    }

    #[test]
    fn durations_both_ways() {
        assert_eq!(duration(850), "850ns");
        assert_eq!(duration(12_500), "12.5µs");
        assert_eq!(duration(12_310_000), "12.310ms");
        assert_eq!(duration(1_204_000_000), "1.204s");
        assert_eq!(parse_duration("100ms"), Ok(100_000_000));
        assert_eq!(parse_duration("1.5s"), Ok(1_500_000_000));
        assert_eq!(parse_duration("250us"), Ok(250_000));
        assert_eq!(parse_duration("250µs"), Ok(250_000));
        assert_eq!(parse_duration("2m"), Ok(120_000_000_000));
        assert!(parse_duration("100").is_err());
        assert!(parse_duration("fast").is_err());
    }

    #[test]
    fn numeric_timestamps_by_size() {
        let secs = 1_795_253_400.5;
        assert_eq!(from_number(secs), Some(1_795_253_400_500_000_000));
        assert_eq!(from_number(secs * 1e3), Some(1_795_253_400_500_000_000));
        assert_eq!(from_number(-1.0), None);
    }
}
