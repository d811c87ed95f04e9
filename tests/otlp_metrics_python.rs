//! Metrics pushed over OTLP as a receiver nobody here wrote decodes them:
//! Python's official `opentelemetry-proto` messages behind `grpcio` and
//! `http.server` (tests/tools/otlp_receiver.py through
//! [`support::PyReceiver`], run with the venv of
//! `scripts/install-test-deps.sh`), over gRPC and HTTP/protobuf, gzip or
//! not. The workload and its checks are the Rust receiver's too
//! ([`support::workloads::check_metrics`]), everything compared by protobuf
//! type and value, never by text: counters are monotonic cumulative Sums of
//! `AsInt`, the gauge a Gauge of `AsDouble`, the histogram an
//! explicit-bucket Histogram with the bounds configured and the right count
//! in each bucket; `describe_*!` text and UCUM units; label keys as
//! recorded, with string values; the spans' resource. Every exemplar names a
//! span the same Python receiver got, the one the sample was recorded in,
//! with the recorded value and a time inside that span. With delta
//! temporality two pushes carry 3, then 2.

mod support;

use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, number_data_point, AggregationTemporality,
};
use support::workloads::{
    build_metrics, check_metrics, metric_workload, named, push_metrics, push_two_batches, span_of,
    Window, BOUNDS, WAIT,
};
use support::{MetricKind, PyReceiver, ReceivedExemplar, Transport};

/// Runs the workload against a fresh Python receiver, pushes on a flush and
/// at shutdown, and checks what Python decoded.
fn check(protocol: &str, compression: &str, transport: Transport) {
    let python = PyReceiver::start();
    let parts = build_metrics(
        &python.endpoint(protocol),
        protocol,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    let window = Window::of(|| metric_workload(&parts));
    push_metrics(parts);
    // grpcio decompresses before the servicer sees the call.
    let gzip = transport == Transport::Http && compression == "gzip";
    check_metrics(&python, window, protocol, transport, gzip);
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
    let parts = build_metrics(
        &python.endpoint("http/protobuf"),
        "http/protobuf",
        &[
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE", "delta"),
        ],
    );
    push_two_batches(&parts);
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
