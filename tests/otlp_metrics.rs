//! Metrics pushed over OTLP reach a real receiver (decoding with the
//! official protos), over gRPC and HTTP/protobuf with gzip: counters as
//! monotonic int Sums, gauges, histograms with the configured buckets,
//! `describe_*!` text and units, the recorded label keys, the spans'
//! resource; every exemplar names a sampled span the same receiver got,
//! and is the one `/metrics` shows; cumulative by default, delta when
//! asked; a collector that is down costs counted failures, never a blocked
//! recording, and gets the totals once it is up; and with all three
//! signals going to a collector that never answers, shutdown keeps to its
//! timeout.

mod support;

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use support::{dispatch_with_logs, BlackHole, MetricKind, Receiver, Transport};

const WAIT: Duration = Duration::from_secs(10);
const BOUNDS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];

fn build(endpoint: &str, protocol: &str, extra: &[(&str, &str)]) -> tracelink::Parts {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_METRICS_EXPORTER", "prometheus,otlp"),
        // Pushed by the tests' flushes, and at shutdown.
        ("OTEL_METRIC_EXPORT_INTERVAL", "3600000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("TRACELINK_LOG_FORMAT", "none"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=test",
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

/// Records inside spans: 3 orders (one request span each), a gauge, and
/// three durations, one a bucket.
fn workload(parts: &tracelink::Parts) {
    let dispatch = dispatch_with_logs(parts);
    metrics::with_local_recorder(parts.metrics_recorder(), || {
        tracing::dispatcher::with_default(&dispatch, || {
            metrics::describe_counter!("orders_total", metrics::Unit::Count, "Orders placed.");
            metrics::describe_histogram!(
                "request_duration_seconds",
                metrics::Unit::Seconds,
                "Time to answer a request."
            );
            metrics::describe_gauge!("queue_depth", "Jobs waiting.");
            for (n, seconds) in [0.001, 0.02, 0.3].into_iter().enumerate() {
                tracing::info_span!("request", n).in_scope(|| {
                    metrics::counter!("orders_total", "http.request.method" => "POST").increment(1);
                    metrics::histogram!("request_duration_seconds", "route" => "/pay")
                        .record(seconds);
                });
            }
            metrics::gauge!("queue_depth").set(7.5);
        });
    });
}

fn check(protocol: &str, compression: &str, transport: Transport) {
    let receiver = Receiver::start();
    let endpoint = match protocol {
        "grpc" => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let parts = build(
        &endpoint,
        protocol,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    workload(&parts);
    let scraped = parts
        .metrics_handle()
        .render(tracelink::metrics::Format::OpenMetrics);
    let guard = parts.into_guard();
    guard.shutdown().expect("a clean shutdown");
    let requests = receiver.metrics_requests();
    assert!(!requests.is_empty());
    assert!(
        requests.iter().all(|r| r.transport == transport),
        "{requests:?}"
    );
    assert!(requests.iter().all(|r| r.gzip == (compression == "gzip")));
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());

    let orders = receiver.metric("orders_total").expect("the counter");
    assert_eq!(orders.kind(), MetricKind::Sum);
    assert!(orders.is_monotonic());
    assert_eq!(orders.temporality(), AggregationTemporality::Cumulative);
    assert_eq!(orders.description(), "Orders placed.");
    assert_eq!(orders.unit(), "1");
    assert_eq!(
        orders.resource_attr("service.name").as_deref(),
        Some("checkout")
    );
    assert_eq!(
        orders
            .resource_attr("deployment.environment.name")
            .as_deref(),
        Some("test")
    );
    let points = orders.points();
    assert_eq!(points.len(), 1, "{points:?}");
    // The recorded key, not `http_request_method`; the value an int.
    assert_eq!(
        points[0].attr_value("http.request.method"),
        Some(&Value::StringValue("POST".into()))
    );
    assert_eq!(points[0].as_int(), Some(3));
    assert!(points[0].start_time_unix_nano > 0);
    assert!(points[0].start_time_unix_nano <= points[0].time_unix_nano);

    let durations = receiver
        .metric("request_duration_seconds")
        .expect("the histogram");
    assert_eq!(durations.kind(), MetricKind::Histogram);
    assert_eq!(durations.unit(), "s");
    assert_eq!(durations.description(), "Time to answer a request.");
    let point = &durations.points()[0];
    assert_eq!(point.explicit_bounds, BOUNDS);
    assert_eq!(point.bucket_counts, [1, 1, 1, 0, 0]);
    assert_eq!(point.count, Some(3));
    assert!(
        (point.sum.unwrap_or_default() - 0.321).abs() < 1e-9,
        "{point:?}"
    );
    assert_eq!(point.attr("route").as_deref(), Some("/pay"));

    let depth = receiver.metric("queue_depth").expect("the gauge");
    assert_eq!(depth.kind(), MetricKind::Gauge);
    assert_eq!(depth.points()[0].as_double(), Some(7.5));

    // Every exemplar names a sampled span the receiver got; one a bucket.
    for name in ["orders_total", "request_duration_seconds"] {
        assert!(
            !receiver.metric(name).unwrap().exemplars().is_empty(),
            "{name}"
        );
        assert!(receiver.exemplars_without_span(name).is_empty(), "{name}");
    }
    let exemplars = durations.exemplars();
    assert_eq!(exemplars.len(), 3, "{exemplars:?}");
    // ... and those are the exemplars `/metrics` shows.
    for exemplar in orders.exemplars().iter().chain(&exemplars) {
        assert!(
            scraped.contains(&format!(
                "trace_id=\"{}\",span_id=\"{}\"",
                exemplar.trace_id, exemplar.span_id
            )),
            "{exemplar:?} not in\n{scraped}"
        );
    }
    let counter_exemplar = &orders.exemplars()[0];
    assert_eq!(counter_exemplar.number(), Some(1.0));
    assert!(counter_exemplar.time_unix_nano > 0);
}

#[test]
fn metrics_reach_the_receiver_over_grpc() {
    check("grpc", "none", Transport::Grpc);
}

#[test]
fn metrics_reach_the_receiver_over_http_gzip() {
    check("http/protobuf", "gzip", Transport::Http);
}

#[test]
fn delta_temporality_sends_what_changed_since_the_last_push() {
    let receiver = Receiver::start();
    let parts = build(
        &receiver.grpc_endpoint(),
        "grpc",
        &[("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta")],
    );
    let dispatch = dispatch_with_logs(&parts);
    let record = |n: u64| {
        metrics::with_local_recorder(parts.metrics_recorder(), || {
            tracing::dispatcher::with_default(&dispatch, || {
                tracing::info_span!("batch").in_scope(|| {
                    metrics::counter!("jobs_total").increment(n);
                    metrics::histogram!("request_duration_seconds").record(0.01 * n as f64);
                });
            });
        });
    };
    record(3);
    parts.guard().flush().expect("the first push");
    record(2);
    parts.guard().flush().expect("the second push");
    parts.guard().flush().expect("a push of nothing new");
    let jobs: Vec<_> = receiver
        .metrics()
        .into_iter()
        .filter(|m| m.name() == "jobs_total")
        .collect();
    assert_eq!(jobs.len(), 3, "{jobs:#?}");
    assert!(jobs
        .iter()
        .all(|m| m.temporality() == AggregationTemporality::Delta));
    let values: Vec<Option<i64>> = jobs.iter().map(|m| m.points()[0].as_int()).collect();
    assert_eq!(values, [Some(3), Some(2), Some(0)]);
    // Each interval starts where the last one ended.
    let (first, second) = (&jobs[0].points()[0], &jobs[1].points()[0]);
    assert_eq!(second.start_time_unix_nano, first.time_unix_nano);
    // Only the exemplars of the interval: none in the empty one.
    assert_eq!(jobs[1].exemplars().len(), 1);
    assert!(jobs[2].exemplars().is_empty());
    let durations: Vec<_> = receiver
        .metrics()
        .into_iter()
        .filter(|m| m.name() == "request_duration_seconds")
        .collect();
    let counts: Vec<Option<u64>> = durations.iter().map(|m| m.points()[0].count).collect();
    assert_eq!(counts, [Some(1), Some(1), Some(0)]);
    parts.into_guard().shutdown().expect("a clean shutdown");
}

#[test]
fn a_collector_that_is_down_fails_pushes_it_counts_and_gets_the_totals_later() {
    let port = support::free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let parts = build(
        &endpoint,
        "http/protobuf",
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRIC_EXPORT_TIMEOUT", "500"),
        ],
    );
    let count = |n: u64| {
        metrics::with_local_recorder(parts.metrics_recorder(), || {
            metrics::counter!("retries_total").increment(n);
        });
    };
    count(4);
    let started = Instant::now();
    let result = parts.guard().flush();
    assert!(result.is_err(), "the push cannot have reached anyone");
    assert!(started.elapsed() < Duration::from_secs(3));
    let failed = parts.guard().stats().metric_points().failed();
    assert!(failed > 0, "{:?}", parts.guard().stats());
    // Recording does not wait for the push.
    let started = Instant::now();
    for _ in 0..10_000 {
        count(1);
    }
    assert!(started.elapsed() < Duration::from_secs(2));
    let receiver = Receiver::start_on(0, port);
    parts
        .guard()
        .flush()
        .expect("a push to the collector, up now");
    let retries = receiver
        .wait_for_metric("retries_total", WAIT, |m| {
            m.points()[0].as_int() == Some(10_004)
        })
        .expect("the counter");
    assert_eq!(
        retries.points()[0].as_int(),
        Some(10_004),
        "the totals, cumulative"
    );
    let stats = parts.guard().stats().metric_points();
    assert!(
        stats.exported() > 0 && stats.failed() == failed,
        "{stats:?}"
    );
    parts.into_guard().shutdown().expect("a clean shutdown");
}

#[test]
fn shutdown_keeps_its_timeout_with_all_three_signals_in_a_black_hole() {
    let hole = BlackHole::start();
    let timeout = Duration::from_millis(1500);
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", hole.endpoint().as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_METRICS_EXPORTER", "otlp"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "100"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("TRACELINK_LOG_FORMAT", "none"),
        ])
        .with_shutdown_timeout(timeout)
        .build()
        .expect("builds");
    let dispatch = dispatch_with_logs(&parts);
    metrics::with_local_recorder(parts.metrics_recorder(), || {
        tracing::dispatcher::with_default(&dispatch, || {
            for n in 0..200 {
                tracing::info_span!("work", n).in_scope(|| {
                    tracing::info!("working");
                    metrics::counter!("work_total").increment(1);
                });
            }
        });
    });
    // Every signal has something in flight to a collector that never answers.
    std::thread::sleep(Duration::from_millis(300));
    assert!(hole.connections() > 0);
    let started = Instant::now();
    let result = parts.into_guard().shutdown();
    let took = started.elapsed();
    assert!(
        took < timeout + Duration::from_secs(1),
        "shutdown took {took:?} with a {timeout:?} timeout"
    );
    assert!(result.is_err(), "nothing reached a black hole: {result:?}");
}
