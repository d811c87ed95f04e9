//! Metrics pushed over OTLP as a receiver nobody here wrote decodes them:
//! Python's official `opentelemetry-proto` messages behind `grpcio` and
//! `http.server` (tests/tools/otlp_receiver.py through
//! [`support::PyReceiver`], run with the venv of
//! `scripts/install-test-deps.sh`), over gRPC and HTTP/protobuf, gzip or
//! not. Everything is compared by protobuf type and value, never by text:
//! counters are monotonic cumulative Sums of `AsInt`, the gauge a Gauge of
//! `AsDouble`, the histogram an explicit-bucket Histogram with the bounds
//! configured and the right count in each bucket; `describe_*!` text and
//! UCUM units; label keys as recorded, with string values; the spans'
//! resource. Every exemplar names a span the same Python receiver got, the
//! one the sample was recorded in, with the recorded value and a time
//! inside that span. With delta temporality two pushes carry 3, then 2.

mod support;

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, number_data_point, AggregationTemporality,
};
use support::{
    dispatch_with_logs, MetricKind, PyReceiver, ReceivedExemplar, ReceivedMetric, ReceivedSpan,
    Transport,
};

const WAIT: Duration = Duration::from_secs(15);
/// The bounds configured for `request_duration_seconds`.
const BOUNDS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];
/// One request span each: `(n, seconds taken, bytes answered)`. The
/// durations fall in buckets 0, 1, 2 and the overflow bucket 4.
const REQUESTS: [(i64, f64, u64); 4] = [
    (0, 0.001, 100),
    (1, 0.02, 200),
    (2, 0.3, 300),
    (3, 7.0, 400),
];
/// How far an exemplar's time may stray outside its span: OTLP times are
/// nanoseconds, but tracelink keeps an exemplar's as f64 seconds.
const SLACK_NANOS: u64 = 1_000_000;

fn build(python: &PyReceiver, protocol: &str, extra: &[(&str, &str)]) -> tracelink::Parts {
    let endpoint = python.endpoint(protocol);
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_METRICS_EXPORTER", "otlp"),
        // Pushed by the tests' flushes, and at shutdown.
        ("OTEL_METRIC_EXPORT_INTERVAL", "3600000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("TRACELINK_LOG_FORMAT", "none"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=python-test",
        ),
    ];
    env.extend_from_slice(extra);
    tracelink::builder()
        .with_env(env)
        .with_service_name("checkout")
        .with_histogram_buckets(
            tracelink::metrics::Matcher::Full("request_duration_seconds".into()),
            &BOUNDS,
        )
        .with_shutdown_timeout(Duration::from_secs(10))
        .build()
        .expect("tracelink builds")
}

/// Two counters, a histogram and a gauge, each sample inside a sampled span
/// (`request` with its `n`; `drain` for the gauge).
fn workload(parts: &tracelink::Parts) {
    let dispatch = dispatch_with_logs(parts);
    metrics::with_local_recorder(parts.metrics_recorder(), || {
        tracing::dispatcher::with_default(&dispatch, || {
            metrics::describe_counter!("orders_total", metrics::Unit::Count, "Orders placed.");
            metrics::describe_counter!(
                "response_bytes_total",
                metrics::Unit::Bytes,
                "Bytes answered."
            );
            metrics::describe_histogram!(
                "request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer a request."
            );
            metrics::describe_gauge!("queue_depth", "Jobs waiting.");
            for (n, seconds, bytes) in REQUESTS {
                tracing::info_span!("request", n).in_scope(|| {
                    metrics::counter!("orders_total", "http.request.method" => "POST").increment(1);
                    metrics::counter!("response_bytes_total", "http.response.status_code" => "200")
                        .increment(bytes);
                    metrics::histogram!("request_duration_seconds", "route" => "/pay")
                        .record(seconds);
                });
            }
            tracing::info_span!("drain").in_scope(|| metrics::gauge!("queue_depth").set(7.5));
        });
    });
}

fn now_nanos() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_nanos()).expect("before 2554")
}

/// Every metric named `name` Python decoded, in arrival order, once at
/// least `n` have been read back (or `WAIT` passed: assert on the length).
fn named(python: &PyReceiver, name: &str, n: usize) -> Vec<ReceivedMetric> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found: Vec<_> = python
            .metrics()
            .into_iter()
            .filter(|m| m.name() == name)
            .collect();
        if found.len() >= n || Instant::now() >= deadline {
            return found;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Attributes sorted by key, to compare resources whatever their order.
fn sorted(attributes: &[KeyValue]) -> Vec<KeyValue> {
    let mut attributes = attributes.to_vec();
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    attributes
}

/// An OTLP string value.
fn text(value: &str) -> Value {
    Value::StringValue(value.into())
}

/// The span an exemplar names, among those Python received; checks the
/// exemplar was taken while that span was open.
fn span_of<'a>(exemplar: &ReceivedExemplar, spans: &'a [ReceivedSpan]) -> &'a ReceivedSpan {
    assert_eq!(exemplar.trace_id.len(), 32, "{exemplar:?}");
    assert_eq!(exemplar.span_id.len(), 16, "{exemplar:?}");
    let found: Vec<_> = spans.iter().filter(|s| exemplar.names(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "{exemplar:?} names no span (or several) Python received: {spans:#?}"
    );
    let span = found[0];
    let (start, end) = (span.span.start_time_unix_nano, span.span.end_time_unix_nano);
    assert!(
        start.saturating_sub(SLACK_NANOS) <= exemplar.time_unix_nano
            && exemplar.time_unix_nano <= end + SLACK_NANOS,
        "{exemplar:?} taken outside its span {start}..={end}"
    );
    assert_eq!(span.span.flags & 1, 1, "a sampled span: {span:?}");
    span
}

/// The `n` of the request span an exemplar names.
fn request_of(exemplar: &ReceivedExemplar, spans: &[ReceivedSpan]) -> i64 {
    let span = span_of(exemplar, spans);
    assert_eq!(span.name(), "request", "{exemplar:?}");
    span.int_attr("n").expect("the span's n, an int")
}

/// Runs the workload against a fresh Python receiver, pushes on a flush and
/// at shutdown, and checks what Python decoded.
fn check(protocol: &str, compression: &str, transport: Transport) {
    let python = PyReceiver::start();
    let parts = build(
        &python,
        protocol,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    let before = now_nanos();
    workload(&parts);
    let after = now_nanos();
    let guard = parts.into_guard();
    guard.flush().expect("a clean flush");
    let stats = guard.stats().metric_points();
    assert!(stats.exported() >= 4 && stats.failed() == 0, "{stats:?}");
    guard.shutdown().expect("a clean shutdown");

    // Python prints each request before answering it; its lines may still
    // be on their way to this side. Two pushes: the flush, the shutdown.
    let orders_pushes = named(&python, "orders_total", 2);
    let spans = python.wait_for_spans(REQUESTS.len() + 1, WAIT);
    assert!(python.problems().is_empty(), "{:?}", python.problems());
    assert_eq!(spans.len(), REQUESTS.len() + 1, "{spans:#?}");
    let requests = python.metrics_requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.transport, transport, "{request:?}");
        // grpcio decompresses before the servicer sees the call.
        let gzip = transport == Transport::Http && compression == "gzip";
        assert_eq!(request.gzip, gzip, "{request:?}");
    }
    assert!(
        python.requests().iter().all(|r| r.transport == transport),
        "the spans came by {protocol} too"
    );

    // Every metric of every push: the spans' resource.
    let resource = sorted(&spans[0].resource);
    assert!(spans.iter().all(|s| sorted(&s.resource) == resource));
    for metric in python.metrics() {
        assert_eq!(sorted(&metric.resource), resource, "{}", metric.name());
        assert_eq!(
            metric.resource_attr("service.name").as_deref(),
            Some("checkout")
        );
        assert_eq!(
            metric
                .resource_attr("deployment.environment.name")
                .as_deref(),
            Some("python-test")
        );
        // Every exemplar names a span Python got, and was taken in it.
        for exemplar in metric.exemplars() {
            span_of(&exemplar, &spans);
        }
        assert!(metric.exemplars_without_span(&spans).is_empty());
    }

    // Counters: monotonic cumulative Sums of ints, under the recorded key.
    assert_eq!(orders_pushes.len(), 2, "{orders_pushes:#?}");
    let first_start = orders_pushes[0].points()[0].start_time_unix_nano;
    for orders in &orders_pushes {
        assert_eq!(orders.kind(), MetricKind::Sum);
        assert!(orders.is_monotonic());
        assert_eq!(orders.temporality(), AggregationTemporality::Cumulative);
        assert_eq!(orders.description(), "Orders placed.");
        assert_eq!(orders.unit(), "1");
        let points = orders.points();
        assert_eq!(points.len(), 1, "{points:?}");
        let point = &points[0];
        let keys: Vec<&str> = point.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["http.request.method"]);
        assert_eq!(point.attr_value("http.request.method"), Some(&text("POST")));
        assert_eq!(point.value, Some(number_data_point::Value::AsInt(4)));
        // Cumulative: every push counts from the same start.
        assert_eq!(point.start_time_unix_nano, first_start);
        assert!(0 < first_start && first_start <= before, "{point:?}");
        assert!(point.time_unix_nano >= after, "{point:?}");
        // The latest sample's exemplar: the last request's increment.
        let exemplars = &point.exemplars;
        assert_eq!(exemplars.len(), 1, "{exemplars:?}");
        assert_eq!(exemplars[0].value, Some(exemplar::Value::AsInt(1)));
        assert_eq!(request_of(&exemplars[0], &spans), 3);
        assert!(exemplars[0].time_unix_nano <= point.time_unix_nano);
    }
    assert!(
        orders_pushes[0].points()[0].time_unix_nano <= orders_pushes[1].points()[0].time_unix_nano
    );

    let bytes = python
        .metric("response_bytes_total")
        .expect("the bytes counter");
    assert_eq!(bytes.kind(), MetricKind::Sum);
    assert!(bytes.is_monotonic());
    assert_eq!(bytes.temporality(), AggregationTemporality::Cumulative);
    assert_eq!(bytes.unit(), "By");
    assert_eq!(bytes.description(), "Bytes answered.");
    let point = &bytes.points()[0];
    assert_eq!(
        point.attr_value("http.response.status_code"),
        Some(&text("200"))
    );
    assert_eq!(point.value, Some(number_data_point::Value::AsInt(1000)));
    assert_eq!(point.exemplars.len(), 1, "{point:?}");
    assert_eq!(point.exemplars[0].value, Some(exemplar::Value::AsInt(400)));
    assert_eq!(request_of(&point.exemplars[0], &spans), 3);

    // The histogram: the configured bounds, a count a bucket, one exemplar
    // a non-empty bucket, each the duration recorded in its span.
    let durations = python
        .metric("request_duration_seconds")
        .expect("the histogram");
    assert_eq!(durations.kind(), MetricKind::Histogram);
    assert_eq!(durations.temporality(), AggregationTemporality::Cumulative);
    assert_eq!(durations.unit(), "s");
    assert_eq!(durations.description(), "Time to answer a request.");
    let points = durations.points();
    assert_eq!(points.len(), 1, "{points:?}");
    let point = &points[0];
    assert_eq!(point.explicit_bounds, BOUNDS);
    assert_eq!(point.bucket_counts, [1, 1, 1, 0, 1]);
    assert_eq!(point.count, Some(4));
    let sum: f64 = REQUESTS.iter().map(|(_, seconds, _)| seconds).sum();
    assert!((point.sum.expect("a sum") - sum).abs() < 1e-9, "{point:?}");
    assert_eq!(point.attr_value("route"), Some(&text("/pay")));
    assert_eq!(point.exemplars.len(), 4, "{point:?}");
    let mut seen: Vec<i64> = point
        .exemplars
        .iter()
        .map(|e| {
            let n = request_of(e, &spans);
            let recorded = REQUESTS[usize::try_from(n).expect("n >= 0")].1;
            assert_eq!(e.value, Some(exemplar::Value::AsDouble(recorded)), "{e:?}");
            n
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3], "one exemplar a request");

    // The gauge: a Gauge of doubles, no temporality.
    let depth = python.metric("queue_depth").expect("the gauge");
    assert_eq!(depth.kind(), MetricKind::Gauge);
    assert!(!depth.is_monotonic());
    assert_eq!(depth.temporality(), AggregationTemporality::Unspecified);
    assert_eq!(depth.description(), "Jobs waiting.");
    assert_eq!(depth.unit(), "");
    let points = depth.points();
    assert_eq!(points.len(), 1, "{points:?}");
    assert_eq!(
        points[0].value,
        Some(number_data_point::Value::AsDouble(7.5))
    );
    assert!(points[0].attributes.is_empty(), "{points:?}");
}

#[test]
fn python_decodes_metrics_over_grpc() {
    check("grpc", "none", Transport::Grpc);
}

#[test]
fn python_decodes_metrics_over_grpc_gzip() {
    check("grpc", "gzip", Transport::Grpc);
}

#[test]
fn python_decodes_metrics_over_http() {
    check("http/protobuf", "none", Transport::Http);
}

#[test]
fn python_decodes_metrics_over_http_gzip() {
    check("http/protobuf", "gzip", Transport::Http);
}

#[test]
fn python_decodes_delta_pushes_of_what_changed_since_the_last() {
    let python = PyReceiver::start();
    let parts = build(
        &python,
        "http/protobuf",
        &[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
        ],
    );
    let dispatch = dispatch_with_logs(&parts);
    let record = |n: u32| {
        metrics::with_local_recorder(parts.metrics_recorder(), || {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::info_span!("batch", n).in_scope(|| {
                    metrics::counter!("jobs_total").increment(u64::from(n));
                    metrics::histogram!("request_duration_seconds").record(0.01 * f64::from(n));
                });
            });
        });
    };
    record(3);
    parts.guard().flush().expect("the first push");
    record(2);
    parts.guard().flush().expect("the second push");
    parts.into_guard().shutdown().expect("a clean shutdown");

    // Three pushes: the two flushes, and the shutdown's with nothing new.
    let jobs = named(&python, "jobs_total", 3);
    let durations = named(&python, "request_duration_seconds", 3);
    let spans = python.wait_for_spans(2, WAIT);
    assert!(python.problems().is_empty(), "{:?}", python.problems());
    assert_eq!(spans.len(), 2, "{spans:#?}");
    assert!(python
        .metrics_requests()
        .iter()
        .all(|r| r.transport == Transport::Http && r.gzip));

    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    for metric in jobs.iter().chain(&durations) {
        assert_eq!(
            metric.temporality(),
            AggregationTemporality::Delta,
            "{metric:?}"
        );
        assert_eq!(
            metric.resource_attr("service.name").as_deref(),
            Some("checkout")
        );
    }
    assert!(jobs
        .iter()
        .all(|m| m.kind() == MetricKind::Sum && m.is_monotonic()));
    let values: Vec<_> = jobs.iter().map(|m| m.points()[0].value).collect();
    assert_eq!(
        values,
        [3, 2, 0].map(|v| Some(number_data_point::Value::AsInt(v)))
    );
    // Each interval starts where the last one ended.
    let points: Vec<_> = jobs.iter().map(|m| m.points()[0].clone()).collect();
    assert!(points[0].start_time_unix_nano > 0);
    assert!(points[0].start_time_unix_nano < points[0].time_unix_nano);
    assert_eq!(points[1].start_time_unix_nano, points[0].time_unix_nano);
    assert_eq!(points[2].start_time_unix_nano, points[1].time_unix_nano);
    // Only the interval's exemplar, naming the batch it was counted in.
    let batch_of = |e: &ReceivedExemplar| {
        let span = span_of(e, &spans);
        assert_eq!(span.name(), "batch");
        span.int_attr("n").expect("the batch's n")
    };
    for (point, n) in points.iter().zip([3, 2]) {
        assert_eq!(point.exemplars.len(), 1, "{point:?}");
        assert_eq!(point.exemplars[0].value, Some(exemplar::Value::AsInt(n)));
        assert_eq!(batch_of(&point.exemplars[0]), n);
    }
    assert!(points[2].exemplars.is_empty(), "{:?}", points[2]);

    assert_eq!(durations.len(), 3, "{durations:#?}");
    let points: Vec<_> = durations.iter().map(|m| m.points()[0].clone()).collect();
    let counts: Vec<_> = points.iter().map(|p| p.count).collect();
    assert_eq!(counts, [Some(1), Some(1), Some(0)]);
    for (point, n) in points.iter().zip([3_i64, 2]) {
        assert_eq!(point.explicit_bounds, BOUNDS);
        assert_eq!(point.bucket_counts, [0, 1, 0, 0, 0], "{point:?}");
        let seconds = 0.01 * f64::from(u32::try_from(n).expect("small"));
        assert!(
            (point.sum.expect("a sum") - seconds).abs() < 1e-12,
            "{point:?}"
        );
        assert_eq!(point.exemplars.len(), 1, "{point:?}");
        assert_eq!(
            point.exemplars[0].value,
            Some(exemplar::Value::AsDouble(seconds))
        );
        assert_eq!(batch_of(&point.exemplars[0]), n);
    }
    assert_eq!(points[1].start_time_unix_nano, points[0].time_unix_nano);
    assert!(points[2].exemplars.is_empty(), "{:?}", points[2]);
}
