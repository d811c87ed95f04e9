//! A real Prometheus (Debian's 2.42, exemplar storage on) scrapes tracelink's
//! `/metrics`: the target is up with no error, and a counter and a histogram
//! bucket carry exemplars whose trace id is that of a sampled span the OTLP
//! receiver received; the resource is the `target_info` info metric,
//! joined to a series on `job` and `instance`. Every body is also checked
//! by the official Python OpenMetrics parser. Alone in its file: `init()`
//! installs globals.
//!
//! Needs `scripts/install-test-deps.sh` (run by `scripts/test.sh`).

#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use std::time::Duration;

use support::Receiver;

#[test]
fn prometheus_stores_exemplars_that_open_the_exported_trace() {
    let receiver = Receiver::start();
    let guard = tracelink::builder()
        .with_env([
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.grpc_endpoint().as_str(),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("TRACELINK_LOG_FORMAT", "none"),
            ("OTEL_SERVICE_NAME", "shop"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.version=1.4.2"),
        ])
        .with_prometheus_listener("127.0.0.1", 0)
        .init()
        .expect("init");
    let address = guard.metrics_address().expect("/metrics is served");

    metrics::describe_counter!("shop_orders_total", "Orders placed.");
    metrics::describe_histogram!(
        "shop_order_duration_seconds",
        metrics::Unit::Seconds,
        "Time to place an order."
    );
    // Hostile label values must not break the scrape.
    let hostile = "quote\" backslash\\ newline\n snow\u{2603}";
    tracing::info_span!("place_order").in_scope(|| {
        metrics::counter!("shop_orders_total", "outcome" => "ok", "note" => hostile).increment(1);
        metrics::histogram!("shop_order_duration_seconds").record(0.042);
        metrics::gauge!("shop_queue_depth").set(3.0);
    });
    guard.flush().expect("flush");
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
    let trace_id = spans[0].trace_id();
    assert_eq!(spans[0].name(), "place_order");

    // What we serve passes the strict OpenMetrics parser.
    let response = prometheus::http_get(address, "/metrics").expect("GET /metrics");
    let text = response.body.clone();
    let summary = prometheus::prometheus_text_check(&text).expect("valid Prometheus text");
    // The resource, as `target_info`, by the official parser.
    let target = family(&summary, "target_info");
    assert_eq!(target["type"], "gauge");
    let labels = &target["samples"][0]["labels"];
    assert_eq!(labels["service_name"], "shop");
    assert_eq!(labels["service_version"], "1.4.2");
    assert_eq!(labels["telemetry_sdk_language"], "rust");
    assert_eq!(target["samples"][0]["value"], 1.0);

    let prom = prometheus::Prometheus::start(address);
    prom.wait_for_up(address, Duration::from_secs(20));

    let counter = prom.query_exemplars("shop_orders_total", Duration::from_secs(20));
    assert!(
        counter
            .iter()
            .any(|e| e.labels.get("trace_id") == Some(&trace_id)),
        "counter exemplars {counter:?} do not name trace {trace_id}"
    );
    let note = &counter[0].series_labels["note"];
    assert_eq!(note, hostile, "the label value survives the round trip");

    let buckets = prom.query_exemplars(
        "shop_order_duration_seconds_bucket",
        Duration::from_secs(20),
    );
    let bucket = buckets
        .iter()
        .find(|e| e.labels.get("trace_id") == Some(&trace_id))
        .unwrap_or_else(|| panic!("bucket exemplars {buckets:?} do not name trace {trace_id}"));
    assert_eq!(bucket.series_labels["le"], "0.05");
    assert_eq!(bucket.value, 0.042);
    assert_eq!(bucket.labels["span_id"], spans[0].span_id());

    // `target_info` joins a series to its resource on job and instance.
    let joined = prom
        .query("shop_orders_total * on (job, instance) group_left(service_version) target_info");
    let result = &joined["result"];
    assert_eq!(result.as_array().map(Vec::len), Some(1), "{joined}");
    assert_eq!(result[0]["metric"]["service_version"], "1.4.2", "{joined}");
    assert_eq!(result[0]["metric"]["outcome"], "ok", "{joined}");

    drop(prom);
    guard.shutdown().expect("shutdown");
}

/// The family `name` of a checker's summary.
fn family<'a>(summary: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    summary["families"]
        .as_array()
        .and_then(|families| families.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no family {name} in {summary}"))
}

#[test]
fn every_body_passes_the_openmetrics_parser() {
    // Built without globals: a recorder of its own, with a resource whose
    // values need escaping.
    let recorder = tracelink::metrics::MetricsRecorder::new(
        tracelink::metrics::MetricsConfig::default().with_target_info([
            opentelemetry::KeyValue::new("service.name", "shop \"main\""),
            opentelemetry::KeyValue::new("process.pid", 42_i64),
        ]),
    );
    metrics::with_local_recorder(&recorder, || {
        metrics::describe_counter!(
            "weird.name-total",
            "help with \"quotes\" and \\ and\nnewline"
        );
        metrics::counter!("weird.name-total", "a.b" => "x\"y\\z\nw", "le" => "1").increment(5);
        metrics::describe_histogram!("size_bytes", metrics::Unit::Bytes, "Sizes.");
        metrics::histogram!("size_bytes", "__name__" => "evil").record(f64::INFINITY);
        metrics::gauge!("temperature", "room" => "\u{1F525}").set(f64::NAN);
        metrics::gauge!("neg").set(f64::NEG_INFINITY);
    });
    let handle = recorder.handle();
    let open = handle.render(tracelink::metrics::Format::OpenMetrics);
    let summary = prometheus::openmetrics_check(&open).unwrap_or_else(|e| panic!("{e}\n{open}"));
    // The resource: an info metric, `target`, one sample, value 1.
    let target = family(&summary, "target");
    assert_eq!(target["type"], "info");
    assert_eq!(target["samples"][0]["name"], "target_info");
    assert_eq!(
        target["samples"][0]["labels"]["service_name"],
        "shop \"main\""
    );
    assert_eq!(target["samples"][0]["labels"]["process_pid"], "42");
    assert_eq!(target["samples"][0]["value"], 1.0);
    let text = summary.to_string();
    assert!(text.contains("x\\\"y\\\\z\\nw"), "{text}");
    let plain = handle.render(tracelink::metrics::Format::PrometheusText);
    prometheus::prometheus_text_check(&plain).unwrap_or_else(|e| panic!("{e}\n{plain}"));
}
