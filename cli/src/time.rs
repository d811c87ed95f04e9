//! Durations for people, in and out, and numeric log timestamps; RFC 3339
//! is the library's ([`tracelink::encode::time`]).

pub(crate) use tracelink::encode::time::{parse_rfc3339, rfc3339};

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

#[cfg(test)]
mod tests {
    use super::*;

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
