//! Whatever valid context goes out comes back: `extract(inject(cx))` gives
//! the same trace id, span id, flags (the two the spec defines), tracestate
//! and baggage, through every carrier tracelink implements (`HashMap`,
//! `Vec<(String, String)>`, `http::HeaderMap`) and the global propagator
//! `init()` installs. Longer tracestates and baggage are cut to the spec's
//! limits in whole members, and no input, however malformed, panics or
//! yields an invalid header.

use std::collections::{BTreeMap, HashMap};

use opentelemetry::baggage::{Baggage, BaggageExt, KeyValueMetadata};
use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId, TraceState};
use opentelemetry::Context;
use proptest::prelude::*;
use tracelink::propagation::{
    extract, inject_context, BaggagePropagator, Carrier, TraceContextPropagator,
};

/// Counts the allocations each thread makes, so that a test can check what
/// one call allocates while the others run in parallel.
mod counting {
    #![allow(unsafe_code)]

    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    thread_local! {
        static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
    }

    /// The system allocator, counting.
    pub(crate) struct Counting;

    fn count() {
        // `try_with`: the count is gone while the thread is torn down.
        let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
    }

    // SAFETY: every call goes to `System` unchanged; the count is a
    // `const`-initialized thread-local with no destructor, which neither
    // allocates nor runs code when read.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count();
            // SAFETY: the caller's contract, passed on.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: the caller's contract, passed on.
            unsafe { System.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count();
            // SAFETY: the caller's contract, passed on.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    /// How many allocations this thread has made so far.
    pub(crate) fn allocations() -> u64 {
        ALLOCATIONS.with(Cell::get)
    }
}

#[global_allocator]
static ALLOCATOR: counting::Counting = counting::Counting;

/// Installs tracelink's propagators globally, as `init()` does.
fn install() {
    opentelemetry::global::set_text_map_propagator(TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ]));
}

// ---------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------

/// A `tracestate` key: simple, or with one `@` (what OpenTelemetry's
/// `TraceState` holds), sometimes long.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9_*/-]{0,12}",
        "[a-z0-9][a-z0-9_*/-]{0,12}@[a-z][a-z0-9_*/-]{0,12}",
        "[a-z0-9][a-z0-9_*/-]{100,255}",
    ]
}

/// A `tracestate` value: 1 to 256 printable characters but `,` and `=`, the
/// last one not a space; sometimes long.
fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,12}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
        "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{100,255}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]",
    ]
}

/// Up to 32 members with distinct keys.
fn members() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec((key(), value()), 0..=32).prop_map(|members| {
        let mut seen = Vec::new();
        members
            .into_iter()
            .filter(|(k, _)| {
                let new = !seen.contains(k);
                seen.push(k.clone());
                new
            })
            .collect()
    })
}

/// The header length of these members, commas included.
fn header_len(members: &[(String, String)]) -> usize {
    members
        .iter()
        .map(|(k, v)| k.len() + 1 + v.len())
        .sum::<usize>()
        + members.len().saturating_sub(1)
}

/// The members that fit in 512 characters, from the left.
fn fitting(mut members: Vec<(String, String)>) -> Vec<(String, String)> {
    while header_len(&members) > 512 {
        members.pop();
    }
    members
}

fn trace_state(members: &[(String, String)]) -> TraceState {
    TraceState::from_key_value(members.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .expect("the strategy makes valid members")
}

fn span_context() -> impl Strategy<Value = (u128, u64, u8, Vec<(String, String)>)> {
    (1..=u128::MAX, 1..=u64::MAX, any::<u8>(), members())
}

/// A baggage key: an HTTP token.
fn baggage_key() -> impl Strategy<Value = String> {
    "[A-Za-z0-9!#$%&'*+.^_`|~-]{1,8}"
}

/// Properties: `;`-separated tokens, some with a value.
fn properties() -> impl Strategy<Value = String> {
    prop::collection::vec(("[a-z]{1,4}", prop::option::of("[a-zA-Z0-9%=]{0,4}")), 0..3).prop_map(
        |properties| {
            properties
                .into_iter()
                .map(|(k, v)| match v {
                    Some(v) => format!("{k}={v}"),
                    None => k,
                })
                .collect::<Vec<_>>()
                .join(";")
        },
    )
}

/// Up to 64 entries whose encoded form fits in 8192 bytes (at most 101 bytes
/// a member): any text as a value, control characters and non-ASCII included.
fn baggage() -> impl Strategy<Value = Vec<(String, String, String)>> {
    prop::collection::vec((baggage_key(), "\\PC{0,6}|.{0,6}", properties()), 0..=64)
}

/// An entry list as a map, the way the baggage API sees it.
type Entries = BTreeMap<String, (String, String)>;

fn entries(baggage: &Baggage) -> Entries {
    baggage
        .iter()
        .map(|(k, (v, m))| (k.to_string(), (v.to_string(), m.as_str().to_owned())))
        .collect()
}

// ---------------------------------------------------------------------------
// Carriers
// ---------------------------------------------------------------------------

/// Injects into each carrier and extracts from it.
/// Headers as `Vec<(String, String)>` holds them.
type Headers = Vec<(String, String)>;

/// Each carrier's name, the context read back from it, and what was written.
fn through_every_carrier(cx: &Context) -> Vec<(&'static str, Context, Headers)> {
    let mut map: HashMap<String, String> = HashMap::new();
    inject_context(cx, &mut map);
    let mut vec: Vec<(String, String)> = Vec::new();
    inject_context(cx, &mut vec);
    let mut headers = http::HeaderMap::new();
    inject_context(cx, &mut headers);
    let sent: Vec<(String, String)> = vec.clone();
    vec![
        ("HashMap", extract(&map), sent.clone()),
        ("Vec", extract(&vec), sent.clone()),
        ("HeaderMap", extract(&headers), sent),
    ]
}

fn remote(cx: &Context) -> SpanContext {
    cx.span().span_context().clone()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn a_valid_context_comes_back(
        (trace_id, span_id, flags, members) in span_context(),
        entries_in in baggage(),
    ) {
        install();
        let members = fitting(members);
        let state = trace_state(&members);
        let sent = SpanContext::new(
            TraceId::from(trace_id),
            SpanId::from(span_id),
            TraceFlags::new(flags),
            false,
            state.clone(),
        );
        let baggage: Baggage = entries_in
            .iter()
            .map(|(k, v, p)| KeyValueMetadata::new(k.clone(), v.clone(), p.as_str()))
            .collect();
        let cx = Context::new().with_remote_span_context(sent.clone()).with_baggage(baggage);

        for (carrier, back, headers) in through_every_carrier(&cx) {
            let got = remote(&back);
            prop_assert!(got.is_valid() && got.is_remote(), "{carrier}: {headers:?}");
            prop_assert_eq!(got.trace_id(), sent.trace_id(), "{}", carrier);
            prop_assert_eq!(got.span_id(), sent.span_id(), "{}", carrier);
            prop_assert_eq!(got.trace_flags().to_u8(), flags & 0x03, "{}", carrier);
            prop_assert_eq!(got.trace_state(), &state, "{}: {:?}", carrier, headers);
            prop_assert_eq!(entries(back.baggage()), entries(cx.baggage()), "{}: {:?}", carrier, headers);
        }
    }

    #[test]
    fn a_long_tracestate_is_cut_in_whole_members(
        (trace_id, span_id, flags, members) in span_context(),
    ) {
        install();
        let sent = SpanContext::new(
            TraceId::from(trace_id),
            SpanId::from(span_id),
            TraceFlags::new(flags),
            false,
            trace_state(&members),
        );
        let mut headers: Vec<(String, String)> = Vec::new();
        inject_context(&Context::new().with_remote_span_context(sent), &mut headers);
        let written: Vec<String> = headers
            .iter()
            .find(|(k, _)| k == "tracestate")
            .map(|(_, v)| v.split(',').map(str::to_owned).collect())
            .unwrap_or_default();
        let whole: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        if header_len(&members) <= 512 {
            prop_assert_eq!(&written, &whole);
        }
        prop_assert!(written.join(",").len() <= 512);
        // Whole members, in their order.
        let mut rest = whole.iter();
        for member in &written {
            prop_assert!(rest.any(|m| m == member), "{member:?} is not a whole member, in order");
        }
        // Nothing dropped that would have fitted after the cut (from the right,
        // when no large member is left to drop).
        if written.len() < whole.len() && whole.iter().all(|m| m.len() <= 128) {
            prop_assert_eq!(&written[..], &whole[..written.len()]);
            let next = whole[written.len()].len();
            prop_assert!(written.join(",").len() + 1 + next > 512);
        }
    }

    #[test]
    fn large_baggage_is_cut_in_whole_members(
        entries_in in prop::collection::vec((baggage_key(), ".{0,400}"), 0..80),
    ) {
        install();
        let baggage: Baggage = entries_in
            .iter()
            .map(|(k, v)| KeyValueMetadata::new(k.clone(), v.clone(), ""))
            .collect();
        let cx = Context::new().with_baggage(baggage);
        let mut headers: Vec<(String, String)> = Vec::new();
        inject_context(&cx, &mut headers);
        let header = headers
            .iter()
            .find(|(k, _)| k == "baggage")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        prop_assert!(header.len() <= 8192, "{}", header.len());
        let back = extract(&headers);
        let back = entries(back.baggage());
        let all = entries(cx.baggage());
        prop_assert!(back.len() <= 64);
        // Every member that went out is whole and exact.
        for (key, entry) in &back {
            prop_assert_eq!(all.get(key), Some(entry), "{}", key);
        }
        if !header.is_empty() {
            prop_assert_eq!(back.len(), header.split(',').count());
        }
    }

    #[test]
    fn malformed_headers_never_panic_nor_produce_invalid_ones(
        traceparent in prop_oneof![
            ".*",
            "[0-9a-fA-F-]{50,60}",
            "[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?",
        ],
        tracestate in prop::collection::vec(".*|[a-z0-9@=, \\t]{0,40}", 0..3),
        baggage_values in prop::collection::vec(".*|[a-zA-Z0-9%=,; \\t]{0,40}", 0..3),
    ) {
        install();
        let mut carrier: Vec<(String, String)> = vec![("traceparent".into(), traceparent)];
        carrier.extend(tracestate.into_iter().map(|v| ("tracestate".to_owned(), v)));
        carrier.extend(baggage_values.into_iter().map(|v| ("baggage".to_owned(), v)));
        let cx = extract(&carrier);
        let mut out: Vec<(String, String)> = Vec::new();
        inject_context(&cx, &mut out);
        // What comes out is always valid: it parses back to the same thing.
        let again = extract(&out);
        let (again_remote, first) = (remote(&again), remote(&cx));
        prop_assert_eq!(again_remote.trace_id(), first.trace_id());
        prop_assert_eq!(again_remote.trace_state(), first.trace_state());
        prop_assert_eq!(entries(again.baggage()), entries(cx.baggage()));
        for (name, value) in &out {
            prop_assert!(http::HeaderValue::from_str(value).is_ok(), "{name}: {value:?}");
            if name == "traceparent" {
                prop_assert_eq!(value.len(), 55);
            }
        }
    }
}

#[test]
fn every_carrier_reads_what_another_wrote() {
    install();
    let sent = SpanContext::new(
        TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        SpanId::from(0x00f0_67aa_0ba9_02b7),
        TraceFlags::new(0x03),
        false,
        trace_state(&[("rojo".into(), "00f067aa0ba902b7".into())]),
    );
    let cx = Context::new().with_remote_span_context(sent);
    let mut vec: Vec<(String, String)> = Vec::new();
    inject_context(&cx, &mut vec);
    let mut headers = http::HeaderMap::new();
    for (k, v) in &vec {
        Carrier::set(&mut headers, k, v.clone());
    }
    let map: HashMap<String, String> = vec.iter().cloned().collect();
    assert_eq!(
        vec,
        [
            (
                "traceparent".to_owned(),
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03".to_owned()
            ),
            ("tracestate".to_owned(), "rojo=00f067aa0ba902b7".to_owned()),
        ]
    );
    for back in [extract(&headers), extract(&map), extract(&vec)] {
        assert_eq!(remote(&back).trace_flags().to_u8(), 0x03);
        assert_eq!(
            remote(&back).trace_state().get("rojo"),
            Some("00f067aa0ba902b7")
        );
    }
}

#[test]
fn header_map_values_are_joined_in_order() {
    install();
    let mut headers = http::HeaderMap::new();
    headers.append(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    headers.append("tracestate", "a=1".parse().unwrap());
    headers.append("tracestate", "b=2".parse().unwrap());
    headers.append("baggage", "k1=v1".parse().unwrap());
    headers.append("baggage", "k2=v2".parse().unwrap());
    let cx = extract(&headers);
    assert_eq!(remote(&cx).trace_state().header(), "a=1,b=2");
    assert_eq!(cx.baggage().len(), 2);

    // A second traceparent restarts the trace.
    headers.append(
        "traceparent",
        "00-12345678901234567890123456789012-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    let cx = extract(&headers);
    assert!(!remote(&cx).is_valid());
}

#[test]
fn header_map_writes_the_w3c_names_without_allocating_them() {
    let mut headers = http::HeaderMap::new();
    let names = ["traceparent", "tracestate", "baggage", "x-other"];
    // The map grows as it gets each name: not measured.
    for name in names {
        Carrier::set(&mut headers, name, String::from("x"));
    }
    for name in names {
        // A value as the propagators make it: taken over, not copied.
        let value = String::from("y");
        let before = counting::allocations();
        Carrier::set(&mut headers, name, value);
        let allocations = counting::allocations() - before;
        if name == "x-other" {
            // Any other name is copied into a `HeaderName` of its own.
            assert!(allocations > 0, "the count works");
        } else {
            assert_eq!(allocations, 0, "{name}");
        }
        assert_eq!(headers[name], "y");
    }
}
