//! RFC 3339 timestamps in UTC with microseconds, without a date library.

use std::cell::Cell;
use std::time::{SystemTime, UNIX_EPOCH};

thread_local! {
    /// The last second formatted on this thread and its text up to the `.`:
    /// lines come many per second, so the date is worked out once a second.
    static SECOND: Cell<(u64, [u8; 20])> = const { Cell::new((u64::MAX, [0; 20])) };
}

/// Appends `2026-11-21T09:30:00.123456Z`.
pub(crate) fn rfc3339_micros(out: &mut String, time: SystemTime) {
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
}
