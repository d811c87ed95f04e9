//! A span's fields reach the OTLP receiver with the type they had in Rust:
//! every integer that fits in an `i64` (OTLP's only integer) as an
//! `intValue`, whatever its Rust width or signedness, each key once.
//!
//! `tracing-opentelemetry` alone sends `u64`, `u32`, `u16`, `u8` and `usize`
//! fields as their `Debug` text (it has no `record_u64`), so a status code
//! recorded as a `u16` arrives as the string `"200"`, and a backend query
//! like `status_code >= 500` or a spanmetrics dimension sees two types.

mod support;

use std::time::Duration;

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use support::Receiver;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn integer_fields_arrive_as_ints_of_any_rust_width() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "types", &[]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), || {
        let span = tracing::info_span!(
            "typed",
            small_u64 = 7_u64,
            port = 8443_u16,
            count = 3_usize,
            byte = 255_u8,
            wide = u32::MAX,
            negative = -5_i64,
            huge = u64::MAX,
            big_i128 = -(1_i128 << 40),
            ratio = 0.5_f64,
            flag = true,
            text = "200",
            later = tracing::field::Empty,
            twice = 1_u64,
        );
        span.record("later", 42_u32);
        let _entered = span.enter();
        // Recorded again after the span started.
        span.record("twice", 2_u64);
    });
    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(1, WAIT);
    let span = &spans[0];
    for (key, value) in [
        ("small_u64", 7),
        ("port", 8443),
        ("count", 3),
        ("byte", 255),
        ("wide", i64::from(u32::MAX)),
        ("negative", -5),
        ("big_i128", -(1_i64 << 40)),
        ("later", 42),
        ("twice", 2),
    ] {
        assert_eq!(span.int_attr(key), Some(value), "{key}: {span:#?}");
    }
    // Beyond i64: text, never a number cut short.
    assert_eq!(
        span.attr_value("huge"),
        Some(&Value::StringValue(u64::MAX.to_string()))
    );
    assert_eq!(span.attr_value("ratio"), Some(&Value::DoubleValue(0.5)));
    assert_eq!(span.attr_value("flag"), Some(&Value::BoolValue(true)));
    // A string that looks like a number stays a string.
    assert_eq!(
        span.attr_value("text"),
        Some(&Value::StringValue("200".into()))
    );
    for kv in &span.span.attributes {
        assert_eq!(span.attr_count(&kv.key), 1, "{} once: {span:#?}", kv.key);
    }
    parts.into_guard().shutdown().expect("clean shutdown");
}
