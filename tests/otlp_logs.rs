//! Log records over OTLP reach a real receiver (decoding with the official
//! protos), over gRPC and HTTP/protobuf, gzip or not: every record names
//! the exact span it was logged in, as received by the same receiver
//! (nested, in a task that moves between threads, under a remote parent,
//! with an explicit parent), with the same ids as its JSON line; severity
//! and attribute types as the specification says (the workload and these
//! checks are the Python receiver's too, [`support::workloads`]); records
//! of unsampled spans keep their ids with flags 0; the log filter decides
//! which events become records, not which spans exist; a collector that is
//! down loses records it counts, never blocks, and gets the later ones.

mod support;

use std::time::{Duration, Instant};

use support::workloads::{
    build_logging, check_log_records, remote, Peer, REMOTE_UNSAMPLED, UNSAMPLED_CALLER,
    UNSAMPLED_TRACE,
};
use support::{dispatch_with_logs as dispatch, Capture, Receiver, Transport};
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(10);

/// Runs the shared workload against a fresh receiver and checks everything
/// it decoded; this receiver sees the gzip of gRPC requests too.
fn check(protocol: &str, compression: &str, transport: Transport) {
    let receiver = Receiver::start();
    check_log_records(
        &receiver,
        protocol,
        compression,
        transport,
        compression == "gzip",
    );
}

#[test]
fn records_name_their_exported_spans_over_grpc() {
    check("grpc", "none", Transport::Grpc);
}

#[test]
fn records_name_their_exported_spans_over_http_gzip() {
    check("http/protobuf", "gzip", Transport::Http);
}

#[test]
fn records_of_unsampled_spans_keep_their_ids_with_flags_0() {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let parts = build_logging(&receiver.endpoint_for("grpc"), "grpc", &capture, &[]);
    tracing::dispatcher::with_default(&dispatch(&parts), || {
        let server = tracing::info_span!("GET /unsampled", otel.kind = "server");
        let _ = server.set_parent(remote(&parts, REMOTE_UNSAMPLED));
        server.in_scope(|| tracing::warn!("not traced"));
    });
    parts.into_guard().shutdown().expect("a clean shutdown");
    let logs = receiver.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert!(receiver.spans().is_empty(), "the caller did not sample it");
    assert_eq!(logs[0].trace_id(), UNSAMPLED_TRACE);
    assert_eq!(logs[0].span_id().len(), 16);
    assert_ne!(
        logs[0].span_id(),
        UNSAMPLED_CALLER,
        "its own span, not the caller's"
    );
    assert_eq!(logs[0].flags() & 1, 0);
    let line: serde_json::Value = serde_json::from_str(capture.text().trim()).expect("a JSON line");
    assert_eq!(line["span_id"], logs[0].span_id());
}

#[test]
fn the_log_filter_decides_the_records_and_spans_are_still_exported() {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let parts = build_logging(
        &receiver.endpoint_for("grpc"),
        "grpc",
        &capture,
        &[("RUST_LOG", "warn")],
    );
    tracing::dispatcher::with_default(&dispatch(&parts), || {
        tracing::info_span!("checkout").in_scope(|| {
            tracing::info!("not a record");
            tracing::warn!("stock low");
        });
    });
    parts.into_guard().shutdown().expect("a clean shutdown");
    let logs = receiver.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert_eq!(logs[0].body_string().as_deref(), Some("stock low"));
    let spans = receiver.spans();
    assert_eq!(spans.len(), 1, "the INFO span is exported at RUST_LOG=warn");
    assert_eq!(logs[0].span_id(), spans[0].span_id());
}

#[test]
fn records_go_out_with_the_lines_off() {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let parts = build_logging(
        &receiver.endpoint_for("http/protobuf"),
        "http/protobuf",
        &capture,
        &[("TRACELINK_LOG_FORMAT", "none")],
    );
    tracing::dispatcher::with_default(&dispatch(&parts), || {
        tracing::info_span!("job").in_scope(|| tracing::info!(rows = 3_i64, "done"));
    });
    let guard = parts.into_guard();
    guard.flush().expect("a clean flush");
    assert_eq!(guard.stats().log_records().exported(), 1);
    assert_eq!(guard.stats().log_lines().written(), 0);
    guard.shutdown().expect("a clean shutdown");
    assert!(capture.text().is_empty());
    let logs = receiver.logs();
    assert_eq!(logs.len(), 1);
    assert_eq!(logs[0].span_id(), receiver.spans()[0].span_id());
}

#[test]
fn a_collector_that_is_down_loses_counted_records_and_gets_the_later_ones() {
    let port = support::free_port();
    let capture = Capture::default();
    let endpoint = format!("http://127.0.0.1:{port}");
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_LOGS_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_LOGS_TIMEOUT", "500"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
            ("OTEL_BLRP_MAX_QUEUE_SIZE", "64"),
            ("OTEL_BLRP_MAX_EXPORT_BATCH_SIZE", "16"),
        ])
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_shutdown_timeout(Duration::from_secs(5))
        .build()
        .expect("builds");
    let dispatch = dispatch(&parts);
    // Down: a burst far past the queue. Nothing blocks.
    let burst = 2_000;
    let started = Instant::now();
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..burst {
            tracing::info!(n, "while down");
        }
    });
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(2),
        "logging while down took {took:?}"
    );
    std::thread::sleep(Duration::from_millis(300));
    let down = parts.guard().stats().log_records();
    assert!(down.dropped() > 0, "{down:?}");
    assert_eq!(down.exported(), 0, "{down:?}");
    // Up: what was queued goes out (the batch in flight retried until
    // now, within OTEL_BLRP_EXPORT_TIMEOUT), then the later records.
    let receiver = Receiver::start_on(port, 0);
    let until = Instant::now() + WAIT;
    let accounted =
        |stats: tracelink::trace::ExportStats| stats.exported() + stats.dropped() + stats.failed();
    while accounted(parts.guard().stats().log_records()) < burst && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        receiver.logs().len() as u64,
        parts.guard().stats().log_records().exported()
    );
    tracing::dispatcher::with_default(&dispatch, || {
        for n in 0..5 {
            tracing::info!(n, "after");
        }
    });
    let after = |receiver: &Receiver| {
        receiver
            .logs()
            .iter()
            .filter(|log| log.body_string().as_deref() == Some("after"))
            .count()
    };
    let until = Instant::now() + WAIT;
    while after(&receiver) < 5 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(
        after(&receiver),
        5,
        "{} records arrived; {:?}",
        receiver.logs().len(),
        parts.guard().stats().log_records()
    );
    let guard = parts.into_guard();
    let _ = guard.flush();
    let stats = guard.stats().log_records();
    // Every record is exported, dropped or failed, once.
    assert_eq!(
        stats.exported() + stats.dropped() + stats.failed(),
        burst + 5,
        "{stats:?}"
    );
    assert_eq!(stats.exported() as usize, receiver.logs().len());
    // The lines were all written meanwhile.
    assert_eq!(guard.stats().log_lines().written(), burst + 5);
    drop(guard);
}
