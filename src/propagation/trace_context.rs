//! W3C Trace Context (Level 2): the `traceparent` and `tracestate` headers.
//!
//! The parsers work on the header bytes in place: a `traceparent` is checked
//! and decoded without allocating, and a `tracestate` is validated as a whole
//! (into a stack array of slices) before the `TraceState` is built from it.

use std::sync::OnceLock;

use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;

use crate::encode::hex;

pub(crate) const TRACEPARENT: &str = "traceparent";
pub(crate) const TRACESTATE: &str = "tracestate";

/// The flag bits W3C Trace Context Level 2 defines: sampled (`0x01`) and
/// random trace id (`0x02`). The others are reserved and sent as zero.
const KNOWN_FLAGS: u8 = 0x03;
/// The one flag bit read from a `traceparent` of a later version: whatever
/// the other bits mean there, sampled is the one the spec says to parse.
const SAMPLED: u8 = 0x01;
/// A version-00 `traceparent` is exactly this long; later versions at least.
const TRACEPARENT_LEN: usize = 55;
/// At most this many list members in a `tracestate`.
const MAX_MEMBERS: usize = 32;
/// The longest `tracestate` tracelink writes: the 512 characters the W3C spec
/// asks every participant to propagate.
const TRACESTATE_MAX_LEN: usize = 512;
/// When a `tracestate` is too long, members longer than this go first.
const LARGE_MEMBER: usize = 128;

/// Propagates the span context in [W3C Trace Context] format, in the
/// `traceparent` and `tracestate` headers.
///
/// Implements [Level 2](https://www.w3.org/TR/trace-context-2/) of the spec;
/// in short:
///
/// - **`traceparent`.** Version `00` must be exactly 55 characters
///   (surrounding spaces and tabs ignored); a later version is read by its
///   first four fields, if the header is at least 55 characters long and the
///   56th is `-`, keeping only the sampled flag of its flags (as the spec
///   says: the other bits may mean something else in that version), and
///   written back as version `00`. Version `ff`, uppercase
///   hex, an all-zero trace id or parent id, any malformed field, or more than
///   one `traceparent` (two headers, or one with a `,`) make the whole context
///   invalid: it is ignored, along with its `tracestate`, and a new trace
///   starts.
/// - **Flags.** The sampled (`01`) and random trace id (`02`) bits of a
///   version `00` `traceparent` are kept, so a trace started by an SDK that
///   sends `03` keeps its random bit in every child tracelink creates; the
///   other bits are written as zero.
/// - **`tracestate`.** All headers are joined in order; empty members and the
///   spaces and tabs around members are ignored. More than 32 members, a key
///   or a value outside the spec's grammar, or a member without `=` drops the
///   whole `tracestate` (never the `traceparent`). Of two members with the
///   same key, the first is kept (the spec allows dropping duplicates).
/// - **Keys OpenTelemetry cannot hold.** OpenTelemetry's [`TraceState`]
///   checks keys against the spec's older grammar (at most one `@`, at most
///   13 characters after it), so members such as `foo@@bar=1` or
///   `t@vvvvvvvvvvvvvvv=1`, valid today, cannot be in it. They are kept in
///   the extracted [`Context`] instead, beside the span context, and sent on
///   in place by every span of the same trace started in that context, as
///   the spec requires. The `TraceState` (and so the exported span's
///   `trace_state`) holds the other members only.
/// - **Limits.** tracelink writes at most 512 characters of `tracestate`
///   (the spec's minimum). Beyond that, whole members are dropped, never
///   cut: first the largest of those over 128 characters, then from the
///   right.
///
/// No `traceparent` in the carrier leaves the context unchanged, as does an
/// invalid one.
///
/// [W3C Trace Context]: https://www.w3.org/TR/trace-context-2/
///
/// ```
/// use std::collections::HashMap;
///
/// use opentelemetry::propagation::TextMapPropagator;
/// use opentelemetry::trace::TraceContextExt;
/// use tracelink::propagation::TraceContextPropagator;
///
/// let mut headers = HashMap::new();
/// headers.insert(
///     "traceparent".to_owned(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".to_owned(),
/// );
/// headers.insert("tracestate".to_owned(), "congo=t61rcWkgMzE, rojo=00f067aa0ba902b7".to_owned());
///
/// let propagator = TraceContextPropagator::new();
/// let cx = propagator.extract(&headers);
/// let span = cx.span();
/// let remote = span.span_context();
/// assert!(remote.is_remote() && remote.is_sampled());
/// assert_eq!(remote.trace_flags().to_u8(), 0x03);
/// assert_eq!(remote.trace_state().get("rojo"), Some("00f067aa0ba902b7"));
///
/// let mut out = HashMap::new();
/// propagator.inject_context(&cx, &mut out);
/// assert_eq!(out["traceparent"], "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
/// assert_eq!(out["tracestate"], "congo=t61rcWkgMzE,rojo=00f067aa0ba902b7");
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceContextPropagator {
    _private: (),
}

impl TraceContextPropagator {
    /// A W3C Trace Context propagator.
    ///
    /// ```
    /// let propagator = tracelink::propagation::TraceContextPropagator::new();
    /// # let _ = propagator;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl TextMapPropagator for TraceContextPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let span = cx.span();
        let context = span.span_context();
        if !context.is_valid() {
            return;
        }
        injector.set(TRACEPARENT, traceparent(context));
        let state = match cx.get::<ReceivedTraceState>() {
            Some(received) if received.trace_id == context.trace_id() => {
                tracestate(|| received.merge(context.trace_state()).into_iter())
            }
            _ => tracestate(|| context.trace_state().into_iter()),
        };
        // The spec asks not to send an empty `tracestate`.
        if !state.is_empty() {
            injector.set(TRACESTATE, state);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        match extract_span_context(extractor) {
            Some((context, None)) => cx.with_remote_span_context(context),
            Some((context, Some(received))) => {
                cx.with_remote_span_context(context).with_value(received)
            }
            None => cx.clone(),
        }
    }

    fn fields(&self) -> FieldIter<'_> {
        static FIELDS: OnceLock<[String; 2]> = OnceLock::new();
        FieldIter::new(FIELDS.get_or_init(|| [TRACEPARENT.to_owned(), TRACESTATE.to_owned()]))
    }
}

/// The remote span context in `extractor`, if it holds exactly one valid
/// `traceparent`; with the whole `tracestate` when `TraceState` cannot hold
/// all of it.
fn extract_span_context(
    extractor: &dyn Extractor,
) -> Option<(SpanContext, Option<ReceivedTraceState>)> {
    let values = extractor.get_all(TRACEPARENT)?;
    // Two headers, or two values folded into one, mean the caller is confused:
    // restart the trace.
    let [value] = values.as_slice() else {
        return None;
    };
    if value.contains(',') {
        return None;
    }
    let (trace_id, span_id, flags) = parse_traceparent(value)?;
    let (state, received) = match extractor.get_all(TRACESTATE) {
        Some(values) => parse_tracestate(&values, trace_id),
        None => (TraceState::NONE, None),
    };
    Some((
        SpanContext::new(trace_id, span_id, flags, true, state),
        received,
    ))
}

/// A `tracestate` as received, when some of its members could not go into
/// the `TraceState` (see [`TraceContextPropagator`]): kept in the extracted
/// context, which the spans started in it inherit, for injection to send
/// them on.
#[derive(Debug)]
struct ReceivedTraceState {
    /// The trace it came with: a span of another trace does not send it.
    trace_id: TraceId,
    /// Every valid member, in order, each key once, and whether the
    /// `TraceState` holds it.
    members: Vec<(String, String, bool)>,
}

impl ReceivedTraceState {
    /// The members to send for a span of this trace whose `TraceState` is
    /// `state`: first the members `state` added or updated (on the left, as
    /// the spec says), then the received ones in their order, less those
    /// `state` deleted or updated; the ones `state` could not hold stay in
    /// place among them.
    fn merge<'a>(&'a self, state: &'a TraceState) -> Vec<(&'a str, &'a str)> {
        let received = |key: &str, value: &str| {
            self.members
                .iter()
                .any(|(k, v, held)| *held && k == key && v == value)
        };
        let mut out: Vec<(&str, &str)> = state
            .into_iter()
            .filter(|&(key, value)| !received(key, value))
            .collect();
        out.extend(
            self.members
                .iter()
                .filter(|(key, value, held)| !held || state.get(key) == Some(value.as_str()))
                .map(|(key, value, _)| (key.as_str(), value.as_str())),
        );
        out
    }
}

/// Decodes a `traceparent` value; `None` if it is invalid in any way.
fn parse_traceparent(value: &str) -> Option<(TraceId, SpanId, TraceFlags)> {
    let v = value.trim_matches(is_ows).as_bytes();
    if v.len() < TRACEPARENT_LEN {
        return None;
    }
    let version = hex_u8(v[0], v[1])?;
    match version {
        0xff => return None,
        0x00 if v.len() != TRACEPARENT_LEN => return None,
        // A later version may add fields, after a `-`.
        _ if v.len() > TRACEPARENT_LEN && v[TRACEPARENT_LEN] != b'-' => return None,
        _ => {}
    }
    if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let trace_id = hex_u128(&v[3..35])?;
    let span_id = hex_u64(&v[36..52])?;
    let flags = hex_u8(v[53], v[54])?;
    if trace_id == 0 || span_id == 0 {
        return None;
    }
    let known = if version == 0x00 {
        KNOWN_FLAGS
    } else {
        SAMPLED
    };
    Some((
        TraceId::from(trace_id),
        SpanId::from(span_id),
        TraceFlags::new(flags & known),
    ))
}

/// A `traceparent` value, version `00`, for a valid `context`.
fn traceparent(context: &SpanContext) -> String {
    let mut out = [b'-'; TRACEPARENT_LEN];
    out[0] = b'0';
    out[1] = b'0';
    hex::into_slice(&mut out[3..35], &context.trace_id().to_bytes());
    hex::into_slice(&mut out[36..52], &context.span_id().to_bytes());
    hex::into_slice(
        &mut out[53..55],
        &[context.trace_flags().to_u8() & KNOWN_FLAGS],
    );
    // Always UTF-8: only ASCII hex digits and dashes were written.
    String::from(std::str::from_utf8(&out).unwrap_or_default())
}

/// Reads the `tracestate` header values, joined in order. Any invalid member,
/// or more than 32, gives an empty state. The whole list comes along when the
/// `TraceState` cannot hold all of it.
fn parse_tracestate(
    values: &[&str],
    trace_id: TraceId,
) -> (TraceState, Option<ReceivedTraceState>) {
    let mut members = [("", ""); MAX_MEMBERS];
    let mut kept = 0;
    let mut seen = 0;
    for member in values.iter().flat_map(|value| value.split(',')) {
        let member = member.trim_matches(is_ows);
        if member.is_empty() {
            continue;
        }
        seen += 1;
        if seen > MAX_MEMBERS {
            return (TraceState::NONE, None);
        }
        let Some((key, value)) = member.split_once('=') else {
            return (TraceState::NONE, None);
        };
        if !valid_key(key) || !valid_value(value) {
            return (TraceState::NONE, None);
        }
        // Duplicates: the first one wins, as in the W3C test suite's reference.
        if members[..kept].iter().all(|(k, _)| *k != key) {
            members[kept] = (key, value);
            kept += 1;
        }
    }
    let members = &members[..kept];
    if let Ok(state) = TraceState::from_key_value(members.iter().copied()) {
        return (state, None);
    }
    // Rare: OpenTelemetry refuses some of these valid members (its key check
    // is older than the spec's grammar: it allows one `@`, followed by at most
    // 13 characters). The `TraceState` gets the others; the whole list is
    // kept beside it.
    let members: Vec<(String, String, bool)> = members
        .iter()
        .map(|&(key, value)| {
            let held = TraceState::NONE.insert(key, value).is_ok();
            (key.to_owned(), value.to_owned(), held)
        })
        .collect();
    let held = members
        .iter()
        .filter(|(_, _, held)| *held)
        .map(|(k, v, _)| (k.as_str(), v.as_str()));
    let state = TraceState::from_key_value(held).unwrap_or(TraceState::NONE);
    let received = ReceivedTraceState { trace_id, members };
    (state, Some(received))
}

/// The `tracestate` header for these members (`members()` lists them, and is
/// called twice): valid members only, each key once, at most 32 of them, and
/// at most 512 characters, dropping whole members.
fn tracestate<'a, I>(members: impl Fn() -> I) -> String
where
    I: Iterator<Item = (&'a str, &'a str)>,
{
    let mut sizes = [0usize; MAX_MEMBERS];
    let mut keep = [false; MAX_MEMBERS];
    let mut keys = [""; MAX_MEMBERS];
    for (i, (key, value)) in members().take(MAX_MEMBERS).enumerate() {
        keys[i] = key;
        let repeated = (0..i).any(|j| keep[j] && keys[j] == key);
        if valid_key(key) && valid_value(value) && !repeated {
            keep[i] = true;
            sizes[i] = key.len() + 1 + value.len();
        }
    }
    let length = |keep: &[bool; MAX_MEMBERS]| {
        let (count, chars) = (0..MAX_MEMBERS)
            .filter(|&i| keep[i])
            .fold((0usize, 0usize), |(n, chars), i| (n + 1, chars + sizes[i]));
        chars + count.saturating_sub(1)
    };
    let mut total = length(&keep);
    while total > TRACESTATE_MAX_LEN {
        // The largest member over 128 characters (the right-most of equals),
        // else the right-most member.
        let large = (0..MAX_MEMBERS)
            .filter(|&i| keep[i] && sizes[i] > LARGE_MEMBER)
            .max_by_key(|&i| (sizes[i], i));
        let victim = large.or_else(|| (0..MAX_MEMBERS).rev().find(|&i| keep[i]));
        let Some(victim) = victim else { break };
        keep[victim] = false;
        total = length(&keep);
    }
    let mut out = String::with_capacity(total);
    for (i, (key, value)) in members().take(MAX_MEMBERS).enumerate() {
        if keep[i] {
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    out
}

/// A `tracestate` key: `[a-z0-9][a-z0-9_\-*/@]{0,255}`, the grammar of the
/// current spec and of the official test suite. It replaced a stricter
/// `tenant@system` form in 2020 (w3c/trace-context#386): `@` may now appear
/// anywhere after the first character, any number of times.
pub(crate) fn valid_key(key: &str) -> bool {
    let k = key.as_bytes();
    (1..=256).contains(&k.len())
        && matches!(k[0], b'a'..=b'z' | b'0'..=b'9')
        && k[1..]
            .iter()
            .all(|&b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-' | b'*' | b'/' | b'@'))
}

/// A `tracestate` value: 1 to 256 printable ASCII characters but `,` and
/// `=`, not ending with a space.
pub(crate) fn valid_value(value: &str) -> bool {
    let v = value.as_bytes();
    (1..=256).contains(&v.len())
        && v.iter()
            .all(|&b| matches!(b, 0x20..=0x7e) && b != b',' && b != b'=')
        && v[v.len() - 1] != b' '
}

/// Optional whitespace (RFC 9110): space or horizontal tab.
pub(crate) fn is_ows(c: char) -> bool {
    c == ' ' || c == '\t'
}

fn hex_u8(high: u8, low: u8) -> Option<u8> {
    Some((hex::lower_digit(high)? << 4) | hex::lower_digit(low)?)
}

fn hex_u64(digits: &[u8]) -> Option<u64> {
    digits.iter().try_fold(0u64, |n, &b| {
        Some((n << 4) | u64::from(hex::lower_digit(b)?))
    })
}

fn hex_u128(digits: &[u8]) -> Option<u128> {
    digits.iter().try_fold(0u128, |n, &b| {
        Some((n << 4) | u128::from(hex::lower_digit(b)?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn parent(flags: &str) -> String {
        format!("00-{TRACE}-{SPAN}-{flags}")
    }

    /// Extracts from these headers (repeated names allowed, in order).
    fn extract(headers: &[(&str, &str)]) -> Context {
        let carrier: Vec<(String, String)> = headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        TraceContextPropagator::new().extract(&crate::propagation::AsExtractor(&carrier))
    }

    fn remote(headers: &[(&str, &str)]) -> Option<SpanContext> {
        let cx = extract(headers);
        let span = cx.span();
        let context = span.span_context();
        context.is_valid().then(|| context.clone())
    }

    /// The tracestate extracted along with a valid traceparent.
    fn state(values: &[&str]) -> TraceState {
        let tp = parent("01");
        let mut headers = vec![("traceparent", tp.as_str())];
        headers.extend(values.iter().map(|v| ("tracestate", *v)));
        remote(&headers)
            .expect("the traceparent is valid")
            .trace_state()
            .clone()
    }

    fn inject(context: SpanContext) -> Vec<(String, String)> {
        let mut carrier = Vec::new();
        let cx = Context::new().with_remote_span_context(context);
        TraceContextPropagator::new()
            .inject_context(&cx, &mut crate::propagation::AsInjector(&mut carrier));
        carrier
    }

    fn header<'a>(carrier: &'a [(String, String)], name: &str) -> Option<&'a str> {
        carrier
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn context_with(state: TraceState, flags: u8) -> SpanContext {
        SpanContext::new(
            TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            SpanId::from(0x00f0_67aa_0ba9_02b7),
            TraceFlags::new(flags),
            true,
            state,
        )
    }

    #[test]
    fn a_valid_traceparent_is_read() {
        let context = remote(&[("traceparent", &parent("01"))]).expect("valid");
        assert_eq!(context.trace_id().to_string(), TRACE);
        assert_eq!(context.span_id().to_string(), SPAN);
        assert!(context.is_sampled() && context.is_remote());
        let context = remote(&[("traceparent", &parent("00"))]).expect("valid");
        assert!(!context.is_sampled());
    }

    #[test]
    fn no_traceparent_leaves_the_context_unchanged() {
        let before = Context::new().with_remote_span_context(context_with(TraceState::NONE, 1));
        let carrier = vec![("tracestate".to_owned(), "foo=1".to_owned())];
        let after = TraceContextPropagator::new()
            .extract_with_context(&before, &crate::propagation::AsExtractor(&carrier));
        assert_eq!(
            after.span().span_context(),
            before.span().span_context(),
            "the context passed in comes back"
        );
        assert!(remote(&[("tracestate", "foo=1")]).is_none());
    }

    #[test]
    fn two_traceparents_restart_the_trace() {
        let a = format!("00-{TRACE}-{SPAN}-01");
        let b = format!("00-12345678901234567890123456789012-{SPAN}-01");
        assert!(remote(&[("traceparent", &a), ("traceparent", &b)]).is_none());
        // The same value twice is still two headers.
        assert!(remote(&[("traceparent", &a), ("traceparent", &a)]).is_none());
        // Two values folded into one header by a proxy.
        assert!(remote(&[("traceparent", &format!("{a},{b}"))]).is_none());
        let future = format!("cc-{TRACE}-{SPAN}-01-x");
        assert!(remote(&[("traceparent", &format!("{future},{future}"))]).is_none());
    }

    #[test]
    fn header_names_match_in_any_case() {
        let tp = parent("01");
        let context = remote(&[("TraceParent", &tp), ("TRACESTATE", "foo=1")]).expect("valid");
        assert_eq!(context.trace_state().get("foo"), Some("1"));
    }

    #[test]
    fn version_ff_is_invalid() {
        assert!(remote(&[("traceparent", &format!("ff-{TRACE}-{SPAN}-01"))]).is_none());
        assert!(remote(&[("traceparent", &format!("fe-{TRACE}-{SPAN}-01"))]).is_some());
    }

    #[test]
    fn version_00_is_exactly_55_characters() {
        for suffix in [".", "-", "-what-the-future-will-be-like", "0", " x"] {
            let tp = format!("{}{suffix}", parent("01"));
            assert!(remote(&[("traceparent", &tp)]).is_none(), "{tp:?}");
        }
        let short = format!("00-{TRACE}-{SPAN}-1");
        assert!(remote(&[("traceparent", &short)]).is_none());
    }

    #[test]
    fn surrounding_spaces_and_tabs_are_ignored() {
        for tp in [
            format!(" {}", parent("01")),
            format!("\t{}", parent("01")),
            format!("{} ", parent("01")),
            format!("\t {} \t", parent("01")),
        ] {
            let context = remote(&[("traceparent", &tp)]).unwrap_or_else(|| panic!("{tp:?}"));
            assert_eq!(context.trace_id().to_string(), TRACE);
        }
    }

    #[test]
    fn a_future_version_is_read_by_its_first_four_fields() {
        let context = remote(&[("traceparent", &format!("cc-{TRACE}-{SPAN}-01"))]).expect("55");
        assert_eq!(context.trace_id().to_string(), TRACE);
        let tp = format!("cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like");
        let context = remote(&[("traceparent", &tp)]).expect("56th is a dash");
        assert_eq!(context.span_id().to_string(), SPAN);
        assert!(context.is_sampled());
        // The 56th character must be a dash.
        let tp = format!("cc-{TRACE}-{SPAN}-01.what-the-future-will-be-like");
        assert!(remote(&[("traceparent", &tp)]).is_none());
        // Shorter than 55.
        assert!(remote(&[("traceparent", &format!("cc-{TRACE}-{SPAN}-1"))]).is_none());
        // Its fields are checked like version 00's.
        let tp = format!("cc-{TRACE}-{SPAN}x01-future");
        assert!(remote(&[("traceparent", &tp)]).is_none());
        let tp = format!("cc-00000000000000000000000000000000-{SPAN}-01-future");
        assert!(remote(&[("traceparent", &tp)]).is_none());
    }

    #[test]
    fn a_future_version_keeps_only_the_sampled_flag() {
        for (sent, kept) in [
            ("01", 0x01),
            ("03", 0x01),
            ("02", 0x00),
            ("ff", 0x01),
            ("fe", 0x00),
        ] {
            for tp in [
                format!("cc-{TRACE}-{SPAN}-{sent}"),
                format!("01-{TRACE}-{SPAN}-{sent}-future"),
            ] {
                let context = remote(&[("traceparent", &tp)]).expect("valid");
                assert_eq!(context.trace_flags().to_u8(), kept, "{tp}");
                let out = inject(context);
                assert_eq!(
                    header(&out, "traceparent"),
                    Some(parent(&format!("{kept:02x}")).as_str())
                );
            }
        }
    }

    #[test]
    fn a_future_version_is_written_as_version_00() {
        let tp = format!("cc-{TRACE}-{SPAN}-01-what-the-future-will-be-like");
        let context = remote(&[("traceparent", &tp)]).expect("valid");
        let out = inject(context);
        assert_eq!(header(&out, "traceparent"), Some(parent("01").as_str()));
    }

    #[test]
    fn all_zero_ids_are_invalid() {
        let zero_trace = format!("00-00000000000000000000000000000000-{SPAN}-01");
        let zero_span = format!("00-{TRACE}-0000000000000000-01");
        assert!(remote(&[("traceparent", &zero_trace)]).is_none());
        assert!(remote(&[("traceparent", &zero_span)]).is_none());
    }

    #[test]
    fn uppercase_hex_is_invalid() {
        for tp in [
            format!("00-{}-{SPAN}-01", TRACE.to_uppercase()),
            format!("00-{TRACE}-{}-01", SPAN.to_uppercase()),
            format!("00-{TRACE}-{SPAN}-0A"),
            format!("A0-{TRACE}-{SPAN}-01"),
        ] {
            assert!(remote(&[("traceparent", &tp)]).is_none(), "{tp}");
        }
        assert!(remote(&[("traceparent", &format!("00-{TRACE}-{SPAN}-0a"))]).is_some());
    }

    #[test]
    fn malformed_fields_are_invalid() {
        let cases = [
            format!("0-{TRACE}-{SPAN}-01"),
            format!("000-{TRACE}-{SPAN}-01"),
            format!(".0-{TRACE}-{SPAN}-01"),
            format!("0.-{TRACE}-{SPAN}-01"),
            format!("00-.{}-{SPAN}-01", &TRACE[1..]),
            format!("00-{TRACE}1-{SPAN}-01"),
            format!("00-{}-{SPAN}-01", &TRACE[1..]),
            format!("00-{TRACE}-{SPAN}1-01"),
            format!("00-{TRACE}-{}-01", &SPAN[1..]),
            format!("00-{TRACE}-{}.-01", &SPAN[1..]),
            format!("00-{TRACE}-{SPAN}-.0"),
            format!("00-{TRACE}-{SPAN}-001"),
            format!("00-{TRACE}-{SPAN}-"),
            format!("00-{TRACE}-{SPAN}"),
            format!("00_{TRACE}_{SPAN}_01"),
            format!("00-{TRACE}-{SPAN}-é"),
            format!("ü-{TRACE}-{SPAN}-01-ünïcødé"),
            String::new(),
        ];
        for tp in cases {
            assert!(remote(&[("traceparent", &tp)]).is_none(), "{tp:?}");
        }
    }

    #[test]
    fn an_invalid_traceparent_ignores_the_tracestate_too() {
        let tp = format!("ff-{TRACE}-{SPAN}-01");
        let cx = extract(&[("traceparent", &tp), ("tracestate", "foo=1")]);
        assert!(!cx.has_active_span());
        assert_eq!(cx.span().span_context().trace_state().get("foo"), None);
    }

    #[test]
    fn sampled_and_random_flags_are_kept_the_others_zeroed() {
        for (sent, kept) in [
            ("00", 0x00),
            ("01", 0x01),
            ("02", 0x02),
            ("03", 0x03),
            ("09", 0x01),
            ("ff", 0x03),
            ("fc", 0x00),
        ] {
            let context = remote(&[("traceparent", &parent(sent))]).expect("valid");
            assert_eq!(context.trace_flags().to_u8(), kept, "{sent}");
            let out = inject(context);
            assert_eq!(
                header(&out, "traceparent").map(|tp| &tp[53..]),
                Some(format!("{kept:02x}").as_str())
            );
        }
        // Whatever a SpanContext holds, only the two known bits are written.
        let out = inject(context_with(TraceState::NONE, 0xff));
        assert_eq!(header(&out, "traceparent"), Some(parent("03").as_str()));
    }

    #[test]
    fn an_invalid_context_injects_nothing() {
        let mut carrier = Vec::new();
        TraceContextPropagator::new().inject_context(
            &Context::new(),
            &mut crate::propagation::AsInjector(&mut carrier),
        );
        assert!(carrier.is_empty());
    }

    #[test]
    fn tracestate_headers_are_joined_in_order() {
        let s = state(&["foo=1,bar=2", "rojo=1,congo=2", "baz=3"]);
        let keys: Vec<_> = s.into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["foo", "bar", "rojo", "congo", "baz"]);
        assert_eq!(s.header(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
    }

    #[test]
    fn tracestate_tolerates_spaces_tabs_and_empty_members() {
        let s = state(&["foo=1 \t , \t bar=2, \t baz=3"]);
        assert_eq!(s.header(), "foo=1,bar=2,baz=3");
        assert_eq!(state(&["a=1,,b=2"]).header(), "a=1,b=2");
        assert_eq!(state(&[" , ,a=1, "]).header(), "a=1");
        assert_eq!(state(&["", "foo=1"]).header(), "foo=1");
        assert_eq!(state(&["foo=1", ""]).header(), "foo=1");
        assert_eq!(state(&["\tfoo=1\t"]).header(), "foo=1");
        assert_eq!(state(&[""]), TraceState::NONE);
    }

    #[test]
    fn tracestate_values_keep_leading_spaces() {
        let s = state(&["foo= 1"]);
        assert_eq!(s.get("foo"), Some(" 1"));
    }

    #[test]
    fn tracestate_over_32_members_is_dropped() {
        let members: Vec<String> = (1..=33).map(|i| format!("bar{i:02}={i:02}")).collect();
        let s = state(&[&members[..32].join(",")]);
        assert_eq!(s.into_iter().count(), 32);
        assert_eq!(s.get("bar01"), Some("01"));
        let s = state(&[&members[..10].join(","), &members[10..].join(",")]);
        assert_eq!(s, TraceState::NONE);
    }

    #[test]
    fn tracestate_keys_follow_the_grammar() {
        let lcalpha: String = ('a'..='z').collect();
        let simple = format!("{lcalpha}0123456789_-*/");
        let tenant = format!("{simple}@a-z0-9_-*/");
        for key in [
            "foo",
            "1foo",
            "a",
            "foo@bar",
            "fw529a3039@dt",
            simple.as_str(),
            tenant.as_str(),
        ] {
            let s = state(&[&format!("{key}=1,bar=2")]);
            assert_eq!(s.get(key), Some("1"), "{key}");
            assert_eq!(s.get("bar"), Some("2"), "{key}");
        }
        let long = "z".repeat(256);
        assert_eq!(
            state(&["foo=1", &format!("{long}=1")]).get(&long),
            Some("1")
        );
        for key in [
            "FOO",
            "foo ",
            "foo.bar",
            "@foo",
            "_foo",
            "-foo",
            "*foo",
            "/foo",
            "Ünïcødé",
            "z".repeat(257).as_str(),
            "",
        ] {
            let s = state(&["foo=1", &format!("{key}=1,bar=2")]);
            assert_eq!(s, TraceState::NONE, "{key:?}");
        }
    }

    #[test]
    fn tracestate_keys_with_several_at_signs_are_valid_but_not_representable() {
        // Level 2's grammar allows them; OpenTelemetry's TraceState does not,
        // so the TraceState holds the other members only.
        let long_vendor = format!("{}@{}", "t".repeat(241), "v".repeat(14));
        for key in ["foo@@bar", "foo@bar@baz", "t@vvvvvvvvvvvvvvv", &long_vendor] {
            assert!(valid_key(key), "{key}");
            let s = state(&[&format!("{key}=1,bar=2")]);
            assert_eq!(s.header(), "bar=2", "{key}");
        }
    }

    /// Extracts from `headers`, then injects what a span of that context
    /// sends: `span` gives its context from the remote one.
    fn sent(
        headers: &[(&str, &str)],
        span: impl Fn(&SpanContext) -> SpanContext,
    ) -> Vec<(String, String)> {
        let cx = extract(headers);
        let child = span(cx.span().span_context());
        let cx = cx.with_remote_span_context(child);
        let mut carrier = Vec::new();
        TraceContextPropagator::new()
            .inject_context(&cx, &mut crate::propagation::AsInjector(&mut carrier));
        carrier
    }

    /// A span of the same trace, with `state`.
    fn child(parent: &SpanContext, state: TraceState) -> SpanContext {
        SpanContext::new(
            parent.trace_id(),
            SpanId::from(0x1111_2222_3333_4444),
            parent.trace_flags(),
            false,
            state,
        )
    }

    #[test]
    fn members_the_trace_state_cannot_hold_are_sent_on_in_place() {
        let tp = parent("01");
        let received = "a=1,foo@@bar=2,b=3,t@vvvvvvvvvvvvvvv=4,c=5";
        let headers = [("traceparent", tp.as_str()), ("tracestate", received)];
        // A child with the same TraceState, as the tracer makes it.
        let out = sent(&headers, |remote| {
            child(remote, remote.trace_state().clone())
        });
        assert_eq!(header(&out, "tracestate"), Some(received));
        // Across two headers, with duplicates and spaces.
        let out = sent(
            &[
                ("traceparent", tp.as_str()),
                ("tracestate", " foo@bar@baz=1 ,a=2"),
                ("tracestate", "foo@bar@baz=3,b=4"),
            ],
            |remote| child(remote, remote.trace_state().clone()),
        );
        assert_eq!(header(&out, "tracestate"), Some("foo@bar@baz=1,a=2,b=4"));
        // A member added on the left, as the spec says to add one.
        let out = sent(&headers, |remote| {
            child(
                remote,
                remote.trace_state().insert("tl", "x").expect("valid"),
            )
        });
        assert_eq!(
            header(&out, "tracestate"),
            Some("tl=x,a=1,foo@@bar=2,b=3,t@vvvvvvvvvvvvvvv=4,c=5")
        );
        // A received member updated: it moves left, the others stay in order.
        let out = sent(&headers, |remote| {
            child(
                remote,
                remote.trace_state().insert("b", "9").expect("valid"),
            )
        });
        assert_eq!(
            header(&out, "tracestate"),
            Some("b=9,a=1,foo@@bar=2,t@vvvvvvvvvvvvvvv=4,c=5")
        );
        // One deleted.
        let out = sent(&headers, |remote| {
            child(remote, remote.trace_state().delete("a").expect("valid"))
        });
        assert_eq!(
            header(&out, "tracestate"),
            Some("foo@@bar=2,b=3,t@vvvvvvvvvvvvvvv=4,c=5")
        );
        // Only these members.
        let out = sent(
            &[("traceparent", tp.as_str()), ("tracestate", "foo@@bar=1")],
            |remote| child(remote, remote.trace_state().clone()),
        );
        assert_eq!(header(&out, "tracestate"), Some("foo@@bar=1"));
    }

    #[test]
    fn a_span_of_another_trace_does_not_send_them() {
        let tp = parent("01");
        let headers = [
            ("traceparent", tp.as_str()),
            ("tracestate", "foo@@bar=1,a=2"),
        ];
        let out = sent(&headers, |_| {
            SpanContext::new(
                TraceId::from(7),
                SpanId::from(8),
                TraceFlags::SAMPLED,
                false,
                TraceState::NONE,
            )
        });
        assert_eq!(header(&out, "tracestate"), None);
        assert_eq!(
            header(&out, "traceparent"),
            Some("00-00000000000000000000000000000007-0000000000000008-01")
        );
    }

    #[test]
    fn an_invalid_tracestate_keeps_nothing_aside() {
        let tp = parent("01");
        for tracestate in ["foo@@bar=1,@x=2", "foo@@bar=1,a=", "foo@@bar=1,FOO=2"] {
            let out = sent(
                &[("traceparent", tp.as_str()), ("tracestate", tracestate)],
                |remote| child(remote, remote.trace_state().clone()),
            );
            assert_eq!(header(&out, "tracestate"), None, "{tracestate}");
        }
    }

    #[test]
    fn tracestate_values_follow_the_grammar() {
        let all: String = (0x20u8..=0x7e)
            .filter(|b| *b != b',' && *b != b'=')
            .map(char::from)
            .collect();
        assert_eq!(
            state(&[&format!("foo={all}")]).get("foo"),
            Some(all.as_str())
        );
        let long = "v".repeat(256);
        assert_eq!(
            state(&[&format!("foo={long}")]).get("foo"),
            Some(long.as_str())
        );
        for member in [
            "foo=bar=baz".to_owned(),
            "foo=".to_owned(),
            "foo".to_owned(),
            "foo=  ".to_owned(),
            format!("foo={}", "v".repeat(257)),
            "foo=a\u{7f}b".to_owned(),
            "foo=a\u{1}b".to_owned(),
            "foo=é".to_owned(),
        ] {
            let s = state(&[&format!("bar=2,{member}")]);
            assert_eq!(s, TraceState::NONE, "{member:?}");
        }
        // An invalid member anywhere drops all of them, `bar` included.
        assert_eq!(state(&["foo=,bar=3"]), TraceState::NONE);
    }

    #[test]
    fn tracestate_duplicate_keys_keep_the_first() {
        assert_eq!(state(&["foo=1,foo=2"]).header(), "foo=1");
        assert_eq!(state(&["foo=1", "bar=2,foo=1"]).header(), "foo=1,bar=2");
    }

    #[test]
    fn a_modified_key_moves_left() {
        let s = state(&["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]);
        let s = s.insert("congo", "ucfJifl5GOE").expect("valid");
        let out = inject(context_with(s, 1));
        assert_eq!(
            header(&out, "tracestate"),
            Some("congo=ucfJifl5GOE,rojo=00f067aa0ba902b7")
        );
        // A new key goes left too.
        let s = state(&["rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"]);
        let s = s.insert("tl", "1").expect("valid");
        let out = inject(context_with(s, 1));
        assert_eq!(
            header(&out, "tracestate"),
            Some("tl=1,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
    }

    #[test]
    fn an_empty_tracestate_is_not_sent() {
        let out = inject(context_with(TraceState::NONE, 1));
        assert_eq!(header(&out, "tracestate"), None);
        assert!(header(&out, "traceparent").is_some());
    }

    #[test]
    fn invalid_members_of_a_trace_state_are_not_sent() {
        // OpenTelemetry's TraceState accepts values the spec does not.
        let s = TraceState::from_key_value([
            ("a", "1"),
            ("b", ""),
            ("c", "x "),
            ("d", "é"),
            ("e", "5"),
        ])
        .expect("OpenTelemetry accepts these");
        let out = inject(context_with(s, 1));
        assert_eq!(header(&out, "tracestate"), Some("a=1,e=5"));
        // It also holds a key twice; the first is sent.
        let s = TraceState::from_key_value([("a", "1"), ("b", "2"), ("a", "3")]).expect("accepted");
        let out = inject(context_with(s, 1));
        assert_eq!(header(&out, "tracestate"), Some("a=1,b=2"));
    }

    /// The members written, as `key=value` strings.
    fn written(members: &[(String, String)]) -> Vec<String> {
        let s = TraceState::from_key_value(members.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .expect("valid");
        let out = inject(context_with(s, 1));
        header(&out, "tracestate")
            .map(|h| h.split(',').map(str::to_owned).collect())
            .unwrap_or_default()
    }

    #[test]
    fn a_tracestate_up_to_512_characters_is_sent_whole() {
        // 32 members of 15 characters, 31 commas: 511 characters.
        let members: Vec<_> = (0..32)
            .map(|i| (format!("k{i:02}"), "v".repeat(11)))
            .collect();
        let out = written(&members);
        assert_eq!(out.len(), 32);
        assert_eq!(out.join(",").len(), 511);
        // Exactly 512.
        let mut members = members;
        members[0].1.push('v');
        assert_eq!(written(&members).join(",").len(), 512);
    }

    #[test]
    fn a_long_tracestate_drops_the_largest_members_over_128_first() {
        let members = vec![
            ("a".to_owned(), "1".repeat(100)),
            ("b".to_owned(), "2".repeat(200)),
            ("c".to_owned(), "3".repeat(150)),
            ("d".to_owned(), "4".repeat(150)),
            ("e".to_owned(), "5".repeat(10)),
        ];
        // 102 + 202 + 152 + 152 + 12 + 4 commas = 624: dropping `b` (202) fits.
        let out = written(&members);
        let keys: Vec<_> = out.iter().map(|m| &m[..1]).collect();
        assert_eq!(keys, ["a", "c", "d", "e"]);
        assert!(out.join(",").len() <= 512);
        // Every member is whole.
        for member in &out {
            assert!(members.iter().any(|(k, v)| *member == format!("{k}={v}")));
        }
    }

    #[test]
    fn a_long_tracestate_then_drops_from_the_right() {
        // 20 members of 40 characters: 819 characters, none over 128.
        let members: Vec<_> = (0..20)
            .map(|i| (format!("k{i:02}"), "v".repeat(36)))
            .collect();
        let out = written(&members);
        // 12 members: 12 * 40 + 11 = 491; 13 would be 532.
        let expected: Vec<_> = members[..12]
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        assert_eq!(out, expected);
    }

    #[test]
    fn a_member_too_long_on_its_own_is_dropped() {
        let members = vec![
            ("a".to_owned(), "1".to_owned()),
            ("z".repeat(256), "2".repeat(256)),
        ];
        assert_eq!(written(&members), ["a=1"]);
    }

    #[test]
    fn fields_are_the_two_headers() {
        let propagator = TraceContextPropagator::new();
        let fields: Vec<_> = propagator.fields().collect();
        assert_eq!(fields, ["traceparent", "tracestate"]);
    }
}
