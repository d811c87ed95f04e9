//! RFC 3339 timestamps in UTC, without a date library: written on every log
//! line (microseconds, the date worked out once a second), and read and
//! written by the `tracelink` command (any precision, any offset).

use std::cell::Cell;
use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The last second formatted on this thread and its text up to the `.`:
    /// lines come many per second, so the date is worked out once a second.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// Appends `2026-11-21T09:30:00.123456Z`.
pub fn rfc3339_micros(out: &mut String, time: SystemTime) {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let mut digits = [0u8; 27];
    let (cached, prefix) = SECOND.get();
    if cached == secs {
        digits[..20].copy_from_slice(&prefix);
    } else {
        format_second(&mut digits, secs);
        let mut prefix = [0u8; 20];
        prefix.copy_from_slice(&digits[..20]);
        SECOND.set((secs, prefix));
    }
    let mut micros = since.subsec_micros();
    for digit in digits[20..26].iter_mut().rev() {
        *digit = b'0' + (micros % 10) as u8;
        micros /= 10;
    }
    digits[26] = b'Z';
    // Every byte above is ASCII.
    out.push_str(std::str::from_utf8(&digits).unwrap_or("1970-01-01T00:00:00.000000Z"));
}

/// Unix nanoseconds as RFC 3339 in UTC with `digits` fractional digits
/// (0 to 9): `2026-11-21T09:30:00.123456Z`.
pub fn rfc3339(unix_nanos: u64, digits: u32) -> String {
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
pub fn parse_rfc3339(text: &str) -> Option<u64> {
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

/// Writes `2026-11-21T09:30:00.` into `digits[..20]`.
fn format_second(digits: &mut [u8; 27], secs: u64) {
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let rem = secs % 86_400;
    let mut put = |at: usize, value: u64, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            digits[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u64, 4);
    put(5, u64::from(month), 2);
    put(8, u64::from(day), 2);
    put(11, rem / 3600, 2);
    put(14, rem % 3600 / 60, 2);
    put(17, rem % 60, 2);
    for (at, sep) in [
        (4, b'-'),
        (7, b'-'),
        (10, b'T'),
        (13, b':'),
        (16, b':'),
        (19, b'.'),
    ] {
        digits[at] = sep;
    }
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

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to (y, m, d).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(secs: u64, micros: u32) -> String {
        let mut out = String::new();
        rfc3339_micros(&mut out, UNIX_EPOCH + Duration::new(secs, micros * 1000));
        out
    }

    #[test]
    fn known_instants() {
        assert_eq!(at(0, 0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(at(951_782_400, 1), "2000-02-29T00:00:00.000001Z");
        assert_eq!(at(1_795_253_400, 123_456), "2026-11-21T09:30:00.123456Z");
        assert_eq!(at(4_102_444_799, 999_999), "2099-12-31T23:59:59.999999Z");
    }

    #[test]
    fn same_second_reuses_the_date_and_a_new_second_does_not() {
        assert_eq!(at(1_795_253_400, 1), "2026-11-21T09:30:00.000001Z");
        assert_eq!(at(1_795_253_400, 999_999), "2026-11-21T09:30:00.999999Z");
        assert_eq!(at(1_795_253_401, 0), "2026-11-21T09:30:01.000000Z");
        assert_eq!(at(0, 10), "1970-01-01T00:00:00.000010Z");
    }

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
    fn both_writers_and_the_reader_agree() {
        let mut t: u64 = 0x9e37_79b9;
        for _ in 0..10_000 {
            t = t.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) % 4_102_444_800;
            let mut micros = String::new();
            rfc3339_micros(&mut micros, UNIX_EPOCH + Duration::new(t, 123_456_000));
            assert_eq!(micros, rfc3339(t * 1_000_000_000 + 123_456_789, 6));
            assert_eq!(
                parse_rfc3339(&micros),
                Some(t * 1_000_000_000 + 123_456_000)
            );
        }
    }
}
