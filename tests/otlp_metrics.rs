//! Metrics pushed over OTLP reach a real receiver (decoding with the
//! official protos), over gRPC and HTTP/protobuf with gzip: counters as
//! monotonic int Sums, gauges, histograms with the configured buckets,
//! `describe_*!` text and units, the recorded label keys, the spans'
//! resource; every exemplar names a sampled span the same receiver got
//! (the workload and these checks are the Python receiver's too,
//! [`support::workloads`]), and is the one `/metrics` shows; cumulative by
//! default, delta when asked; a collector that is down costs counted
//! failures, never a blocked recording, and gets the totals once it is up;
//! and with all three signals going to a collector that never answers,
//! shutdown keeps to its timeout.

mod support;

use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::metrics::v1::AggregationTemporality;
use support::workloads::{
    build_metrics, check_metrics, metric_workload, named, push_metrics, push_two_batches, Peer,
    Window,
};
use support::{dispatch_with_logs, BlackHole, Receiver, Transport};

const WAIT: Duration = Duration::from_secs(10);

/// The shared metrics build, rendering `/metrics` too (to compare its
/// exemplars with those pushed).
fn build(endpoint: &str, protocol: &str, extra: &[(&str, &str)]) -> tracelink::Parts {
    let mut env = vec![("OTEL_METRICS_EXPORTER", "prometheus,otlp")];
    env.extend_from_slice(extra);
    build_metrics(endpoint, protocol, &env)
}

/// Runs the shared workload against a fresh receiver and checks what it
/// decoded (this receiver sees the gzip of gRPC requests too), then that
/// its exemplars are those `/metrics` shows.
fn check(protocol: &str, compression: &str, transport: Transport) {
    let receiver = Receiver::start();
    let parts = build(
        &receiver.endpoint_for(protocol),
        protocol,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    let window = Window::of(|| metric_workload(&parts));
    let scraped = parts
        .metrics_handle()
        .render(tracelink::metrics::Format::OpenMetrics);
    push_metrics(parts);
    check_metrics(
        &receiver,
        window,
        protocol,
        transport,
        compression == "gzip",
    );

    // ... and those are the exemplars `/metrics` shows.
    let orders = receiver.metric("orders_total").expect("the counter");
    let durations = receiver
        .metric("request_duration_seconds")
        .expect("the histogram");
    let exemplars = durations.exemplars();
    assert!(!orders.exemplars().is_empty() && !exemplars.is_empty());
    for exemplar in orders.exemplars().iter().chain(&exemplars) {
        assert!(
            scraped.contains(&format!(
                "trace_id=\"{}\",span_id=\"{}\"",
                exemplar.trace_id, exemplar.span_id
            )),
            "{exemplar:?} not in\n{scraped}"
        );
    }
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
    push_two_batches(&parts);
    parts.guard().flush().expect("a push of nothing new");
    let jobs = named(&receiver, "jobs_total", 3);
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
    let durations = named(&receiver, "request_duration_seconds", 3);
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
