//! Span limits reach the OTLP receiver as the specification says: past each
//! count limit attributes, events, links and their attributes are dropped
//! and counted in the `dropped_*_count` fields; string values are cut to the
//! value length limit at a character boundary, counting characters; without
//! limits set, the specification's 128.

mod support;

use std::time::Duration;

use opentelemetry::trace::{SpanContext, SpanId, TraceFlags, TraceId, TraceState};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use support::Receiver;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(10);

fn one_span(env: &[(&str, &str)]) -> opentelemetry_proto::tonic::trace::v1::Span {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "limits", env);
    let dispatch = support::dispatch(&parts);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!(
            "limited",
            a = 1_i64,
            b = 2_i64,
            c = 3_i64,
            d = 4_i64,
            note = "héllo wörld",
        );
        for n in 0..3_u64 {
            span.add_link_with_attributes(
                SpanContext::new(
                    TraceId::from(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736_u128),
                    SpanId::from(n + 1),
                    TraceFlags::SAMPLED,
                    true,
                    TraceState::NONE,
                ),
                vec![
                    opentelemetry::KeyValue::new("l1", "🦀🦀🦀🦀"),
                    opentelemetry::KeyValue::new("l2", 2),
                ],
            );
        }
        span.in_scope(|| {
            for n in 0..4_i64 {
                tracing::warn!(n, kind = "retry", detail = "ünïcode here", "retried");
            }
        });
    });
    parts.into_guard().shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(1, WAIT);
    assert_eq!(spans.len(), 1);
    spans[0].span.clone()
}

fn string<'a>(
    attributes: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a str> {
    attributes.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

#[test]
fn counts_past_each_limit_are_dropped_and_counted_and_values_cut() {
    let span = one_span(&[
        ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "3"),
        ("OTEL_SPAN_EVENT_COUNT_LIMIT", "2"),
        ("OTEL_SPAN_LINK_COUNT_LIMIT", "1"),
        ("OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT", "1"),
        ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "1"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4"),
    ]);
    // Attributes: the span's own, tracing-opentelemetry's, past 3 dropped.
    assert_eq!(span.attributes.len(), 3, "{:?}", span.attributes);
    assert!(span.dropped_attributes_count >= 2, "{span:?}");
    // Events: 2 kept of 4, each with 1 attribute of its 3 or more.
    assert_eq!(span.events.len(), 2, "{:?}", span.events);
    assert_eq!(span.dropped_events_count, 2);
    for event in &span.events {
        assert_eq!(event.attributes.len(), 1, "{event:?}");
        assert!(event.dropped_attributes_count >= 2, "{event:?}");
    }
    // Links: 1 kept of 3, with 1 attribute of 2, its string cut to 4 crabs.
    assert_eq!(span.links.len(), 1);
    assert_eq!(span.dropped_links_count, 2);
    let link = &span.links[0];
    assert_eq!(link.attributes.len(), 1);
    assert_eq!(link.dropped_attributes_count, 1);
    assert_eq!(string(&link.attributes, "l1"), Some("🦀🦀🦀🦀"));
}

#[test]
fn string_values_are_cut_at_a_character_boundary() {
    let span = one_span(&[
        ("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "4"),
        ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "100"),
    ]);
    // Four characters, five bytes: the span's variable beats the general one.
    assert_eq!(string(&span.attributes, "note"), Some("héll"));
    let event = &span.events[0];
    assert_eq!(string(&event.attributes, "detail"), Some("ünïc"));
    assert_eq!(string(&span.links[0].attributes, "l1"), Some("🦀🦀🦀🦀"));
    // Ints are not values of a length.
    let ints = span
        .attributes
        .iter()
        .filter(|kv| {
            matches!(
                kv.value.as_ref().and_then(|v| v.value.as_ref()),
                Some(Value::IntValue(_))
            )
        })
        .count();
    assert_eq!(ints, 4);
}

#[test]
fn without_limits_the_specifications_128_hold() {
    let span = one_span(&[]);
    assert_eq!(span.dropped_attributes_count, 0);
    assert_eq!(span.events.len(), 4);
    assert_eq!(span.links.len(), 3);
    assert_eq!(string(&span.attributes, "note"), Some("héllo wörld"));
}
