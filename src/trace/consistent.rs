//! Consistent probability sampling, by the specification's
//! tracestate-probability-sampling document (OTEP 235): a 56-bit
//! randomness `R` (the `rv` sub-key of the `ot` tracestate member, else the
//! trace id's 56 low bits) against a 56-bit rejection threshold `T`
//! (`th`); a span is kept when `R >= T`, so every service that samples
//! with a probability at least as high keeps the same traces.

use opentelemetry::trace::{SpanContext, TraceId, TraceState};

/// 2^56: thresholds and randomness are 56-bit numbers below it.
const MAX: u64 = 1 << 56;

/// The threshold of `probability`, rounded to 4 hex digits of precision
/// (more for probabilities near zero), as the specification recommends;
/// 0 for 1. `probability` is in `(0, 1]`.
pub(crate) fn threshold(probability: f64) -> u64 {
    if probability >= 1.0 {
        return 0;
    }
    let probability = probability.max(1.0 / MAX as f64);
    // Raise the precision by the leading `f` digits: `frexp`'s exponent.
    let exponent = probability.log2().floor() as i64 + 1;
    // Python's `exp // -4`: a floor division.
    let precision = (4 + (exponent as f64 / -4.0).floor() as i64).clamp(1, 12) as u32;
    let exact = MAX - (probability * MAX as f64).round() as u64;
    let unit = 1u64 << (56 - 4 * precision);
    let rounded = exact.saturating_add(unit / 2) / unit * unit;
    rounded.min(MAX - 1)
}

/// A threshold as its `th` value: 14 hex digits, trailing zeros removed;
/// `0` for 0.
pub(crate) fn th(threshold: u64) -> String {
    if threshold == 0 {
        return "0".into();
    }
    let digits = format!("{threshold:014x}");
    digits.trim_end_matches('0').to_owned()
}

/// A `th` value's threshold: 1 to 14 hex digits, padded with trailing
/// zeros; `None` when invalid.
pub(crate) fn parse_th(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 14 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let n = u64::from_str_radix(value, 16).ok()?;
    Some(n << (4 * (14 - value.len())))
}

/// An `rv` value's randomness: exactly 14 hex digits; `None` when invalid.
fn parse_rv(value: &str) -> Option<u64> {
    if value.len() != 14 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u64::from_str_radix(value, 16).ok()
}

/// The sub-key `key` of the `ot` member of `state`.
fn ot_value<'a>(state: &'a TraceState, key: &str) -> Option<&'a str> {
    state.get("ot")?.split(';').find_map(|member| {
        let (k, v) = member.split_once(':')?;
        (k == key).then_some(v)
    })
}

/// The randomness of a span of `trace_id` under `parent`: the parent's
/// valid `rv`, else the trace id's 56 low bits.
pub(crate) fn randomness(parent: Option<&SpanContext>, trace_id: TraceId) -> u64 {
    parent
        .and_then(|p| ot_value(p.trace_state(), "rv"))
        .and_then(parse_rv)
        .unwrap_or_else(|| (u128::from_be_bytes(trace_id.to_bytes()) as u64) & (MAX - 1))
}

/// The parent's threshold: `None` if it has none, `Some(None)` if invalid.
pub(crate) fn parent_threshold(parent: &SpanContext) -> Option<Option<u64>> {
    ot_value(parent.trace_state(), "th").map(parse_th)
}

/// What a sampling decision does to the `th` sub-key of the tracestate
/// the span inherits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Threshold<'a> {
    /// Leave it as inherited.
    Keep,
    /// Write this `th` value.
    Set(&'a str),
    /// Remove it.
    Erase,
}

/// `state` with its `ot` member's `th` set to `th` (or removed), the other
/// sub-keys and members kept; `ot` moves first, as W3C asks of a modified
/// member. A state that cannot take it is returned unchanged.
pub(crate) fn with_threshold(state: &TraceState, th: Option<&str>) -> TraceState {
    let mut members: Vec<String> = state
        .get("ot")
        .map(|ot| {
            ot.split(';')
                .filter(|m| !m.is_empty() && !m.starts_with("th:"))
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if th.is_none()
        && state
            .get("ot")
            .is_none_or(|ot| !ot.split(';').any(|m| m.starts_with("th:")))
    {
        return state.clone();
    }
    if let Some(th) = th {
        members.insert(0, format!("th:{th}"));
    }
    let result = if members.is_empty() {
        state.delete("ot")
    } else {
        state.insert("ot", members.join(";"))
    };
    result.unwrap_or_else(|_| state.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags};

    #[test]
    fn thresholds_are_those_of_the_specifications_table() {
        for (p, expected) in [
            (1.0, "0"),
            (0.5, "8"),
            (1.0 / 3.0, "aaab"),
            (0.25, "c"),
            (0.2, "cccd"),
            (0.125, "e"),
            (0.1, "e666"),
            (0.0625, "f"),
            (0.01, "fd70a"),
            (0.001, "ffbe77"),
            (0.0001, "fff9724"),
            (0.00001, "ffff583a"),
            (0.000_001, "ffffef39"),
        ] {
            assert_eq!(th(threshold(p)), expected, "p = {p}");
        }
    }

    #[test]
    fn th_and_rv_values_parse_as_the_specification_says() {
        assert_eq!(parse_th("c"), Some(0xc0_0000_0000_0000));
        assert_eq!(parse_th("0"), Some(0));
        assert_eq!(parse_th("fd70a4"), Some(0xfd_70a4_0000_0000));
        assert_eq!(parse_th("ffffffffffffff"), Some(MAX - 1));
        for bad in ["", "g", "fffffffffffffff", "-1", "c "] {
            assert_eq!(parse_th(bad), None, "{bad:?}");
        }
        assert_eq!(parse_rv("0123456789abcd"), Some(0x01_2345_6789_abcd));
        assert_eq!(parse_rv("123"), None);
        let parent = |state: &str| {
            SpanContext::new(
                TraceId::from(0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_u128),
                SpanId::from(1),
                TraceFlags::SAMPLED,
                true,
                state.parse().unwrap(),
            )
        };
        let id = TraceId::from(0xffff_ffff_ffff_ffff_ffff_ffff_ffff_ffff_u128);
        assert_eq!(randomness(None, id), MAX - 1);
        assert_eq!(randomness(Some(&parent("ot=rv:00000000000001")), id), 1);
        // An invalid rv is ignored: the trace id's bits instead.
        assert_eq!(randomness(Some(&parent("ot=rv:xyz;th:c")), id), MAX - 1);
        assert_eq!(
            parent_threshold(&parent("ot=th:c")),
            Some(Some(0xc0_0000_0000_0000))
        );
        assert_eq!(parent_threshold(&parent("ot=th:zz")), Some(None));
        assert_eq!(parent_threshold(&parent("vendor=x")), None);
    }

    #[test]
    fn the_threshold_is_written_into_ot_keeping_the_rest() {
        let state: TraceState = "vendor=x,ot=rv:00000000000001;th:8".parse().unwrap();
        let set = with_threshold(&state, Some("c"));
        assert_eq!(set.header(), "ot=th:c;rv:00000000000001,vendor=x");
        let erased = with_threshold(&state, None);
        assert_eq!(erased.header(), "ot=rv:00000000000001,vendor=x");
        let only: TraceState = "ot=th:8".parse().unwrap();
        assert_eq!(with_threshold(&only, None).header(), "");
        assert_eq!(
            with_threshold(&TraceState::NONE, Some("c")).header(),
            "ot=th:c"
        );
        let untouched: TraceState = "vendor=x".parse().unwrap();
        assert_eq!(with_threshold(&untouched, None).header(), "vendor=x");
    }
}
