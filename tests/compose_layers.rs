//! A service's own layer joins tracelink's in one call, and sees the same
//! trace and span ids as tracelink's log lines; a subscriber that would
//! write lines without ids fails loudly when it is built.
//!
//! The first test installs globals, so it is the only one here that calls
//! `init()`.

mod support;

use std::sync::{Arc, Mutex};

use opentelemetry::trace::TraceContextExt;
use serde_json::Value;
use support::Capture;
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

/// A layer of the service's own: notes each event's message with the trace
/// and span id of the OpenTelemetry context current when it happened.
#[derive(Clone, Default)]
struct Seen(Arc<Mutex<Vec<(String, String, String)>>>);

impl<S: Subscriber> Layer<S> for Seen {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = String::new();
        event.record(&mut Message(&mut message));
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let ids = span.span_context();
        self.0.lock().unwrap().push((
            message,
            ids.trace_id().to_string(),
            ids.span_id().to_string(),
        ));
    }
}

struct Message<'a>(&'a mut String);

impl tracing::field::Visit for Message<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            *self.0 = format!("{value:?}");
        }
    }
}

fn lines(capture: &Capture) -> Vec<Value> {
    capture
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// What the user layer saw and what the log lines say, message by message.
fn assert_same_ids(seen: &Seen, capture: &Capture, messages: &[&str]) {
    let seen = seen.0.lock().unwrap().clone();
    let lines = lines(capture);
    assert_eq!(seen.len(), messages.len(), "{seen:?}");
    assert_eq!(lines.len(), messages.len(), "{lines:#?}");
    for ((message, trace_id, span_id), line) in seen.iter().zip(&lines) {
        assert!(messages.contains(&message.as_str()), "{message}");
        assert_eq!(line["message"], *message);
        assert_eq!(line["trace_id"], *trace_id, "{line}");
        assert_eq!(line["span_id"], *span_id, "{line}");
    }
}

#[test]
fn a_layer_added_with_the_builder_sees_the_ids_of_the_log_lines() {
    let seen = Seen::default();
    let capture = Capture::default();
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ])
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_layer(seen.clone())
        .init()
        .expect("init");
    tracing::info_span!("checkout").in_scope(|| {
        tracing::info!("order placed");
        tracing::info_span!("charge").in_scope(|| tracing::warn!("card retried"));
    });
    assert_same_ids(&seen, &capture, &["order placed", "card retried"]);
    let lines = lines(&capture);
    assert_eq!(lines[0]["trace_id"], lines[1]["trace_id"]);
    assert_ne!(lines[0]["span_id"], lines[1]["span_id"]);
    guard.shutdown().expect("clean shutdown");
}

#[test]
fn parts_layer_is_the_whole_stack_in_one() {
    let seen = Seen::default();
    let capture = Capture::default();
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .build()
        .expect("builds");
    let subscriber = tracing_subscriber::registry()
        .with(seen.clone())
        .with(parts.layer());
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("job").in_scope(|| tracing::info!("ran"));
        // The filter is in the stack: below `info`, nothing.
        tracing::debug_span!("detail").in_scope(|| tracing::debug!("hidden"));
    });
    assert_same_ids(&seen, &capture, &["ran"]);
}

#[test]
fn a_log_layer_without_the_opentelemetry_layer_fails_loudly() {
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .build()
        .expect("builds");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.log_layer());
    }))
    .expect_err("adding the log layer panics");
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_default();
    assert!(
        message.contains("no log line would carry a trace id"),
        "{message}"
    );
    assert!(message.contains("Parts::layer()"), "{message}");
    // So does the wrong order: the log layer under the OpenTelemetry layer.
    let wrong_order = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.log_layer())
            .with(parts.otel_layer());
    }));
    assert!(wrong_order.is_err());

    // On purpose, it is allowed.
    let logs_only =
        tracing_subscriber::registry().with(parts.log_layer().with_otel_layer_required(false));
    let _ = tracing::Dispatch::new(logs_only);
}
