//! `tracelink::builder().init()` installs the global subscriber, tracer provider
//! and propagator. Alone in its file: globals can be set once per process.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use opentelemetry::trace::{TraceContextExt, Tracer as _, TracerProvider as _};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use tracing_opentelemetry::OpenTelemetrySpanExt;

#[derive(Clone, Debug, Default)]
struct Collect(Arc<Mutex<Vec<SpanData>>>);

impl SpanExporter for Collect {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        self.0.lock().unwrap().extend(batch);
        Ok(())
    }
}

#[test]
fn init_installs_subscriber_provider_and_propagator() {
    let collected = Collect::default();
    let guard = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none"), ("RUST_LOG", "info")])
        .with_service_name("globals")
        .with_span_exporter(collected.clone())
        .init()
        .expect("first init succeeds");

    // A second init is refused with a clear error, and does not disturb the first.
    let second = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .init()
        .unwrap_err();
    assert!(
        matches!(second, tracelink::Error::AlreadyInitialized(_)),
        "{second}"
    );
    assert!(second.to_string().contains("already set"));

    // tracing macros reach the exporter; debug spans are filtered by RUST_LOG=info.
    let (trace_id, headers) = {
        let span = tracing::info_span!("checkout");
        let _entered = span.enter();
        tracing::debug_span!("too_detailed").in_scope(|| {});
        // The global propagator injects the current span's context.
        let mut headers = HashMap::new();
        opentelemetry::global::get_text_map_propagator(|p| {
            p.inject_context(&span.context(), &mut headers);
        });
        (span.context().span().span_context().trace_id(), headers)
    };
    let traceparent = headers.get("traceparent").expect("traceparent injected");
    assert!(traceparent.contains(&trace_id.to_string()), "{traceparent}");

    // Libraries that use the OpenTelemetry API directly export through tracelink too.
    opentelemetry::global::tracer_provider()
        .tracer("a-library")
        .in_span("library-work", |_cx| {});

    guard.shutdown().expect("clean shutdown");
    let spans = collected.0.lock().unwrap();
    let names: Vec<_> = spans.iter().map(|s| s.name.as_ref()).collect();
    assert!(names.contains(&"checkout"), "{names:?}");
    assert!(names.contains(&"library-work"), "{names:?}");
    assert!(!names.contains(&"too_detailed"), "{names:?}");
    let library = spans.iter().find(|s| s.name == "library-work").unwrap();
    assert_eq!(library.instrumentation_scope.name(), "a-library");
}
