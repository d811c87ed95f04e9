//! When the collector is down, failing or hanging, tracelink never panics,
//! never blocks the service, accounts for every span, and shuts down within its
//! timeout.

mod support;

use std::time::{Duration, Instant};

use support::{free_port, BlackHole, Receiver};
use tracelink::{trace::ExportStats, Error};
use tracing::{info, info_span};

const WAIT: Duration = Duration::from_secs(10);

/// Makes `n` root spans (each with one event) through `dispatch`.
fn make_spans(dispatch: &tracing::Dispatch, n: usize, label: &str) {
    tracing::dispatcher::with_default(dispatch, || {
        for i in 0..n {
            info_span!("work", batch = label, i).in_scope(|| info!("tick"));
        }
    });
}

// ---------------------------------------------------------------------------
// Down at start, up later.
// ---------------------------------------------------------------------------

fn collector_down_at_start_then_up(protocol: &str) {
    const BEFORE: usize = 5;
    const AFTER: usize = 7;
    let port = free_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ])
        .with_service_name("faults")
        .with_shutdown_timeout(WAIT)
        .build()
        .expect("tracelink builds with the collector down");
    let dispatch = support::dispatch(&parts);

    // Nobody listens: the export is refused, retried, then counted as failed.
    make_spans(&dispatch, BEFORE, "before");
    let flushed = parts.guard().flush();
    let down = parts.guard().stats().spans();
    println!("{protocol}, collector down: flush {flushed:?}, stats {down:?}");
    assert_eq!(down.exported(), 0, "{down:?}");
    assert_eq!(down.failed(), BEFORE as u64, "{down:?}");
    assert_eq!(down.dropped(), 0, "{down:?}");

    // The collector comes up on that port: later spans reach it.
    let receiver = match protocol {
        "grpc" => Receiver::start_on(port, 0),
        _ => Receiver::start_on(0, port),
    };
    make_spans(&dispatch, AFTER, "after");
    let flushed = parts.guard().flush();
    let spans = receiver.wait_for_spans(AFTER, WAIT);
    let up = parts.guard().stats().spans();
    println!(
        "{protocol}, collector up: flush {flushed:?}, {} spans arrived, stats {up:?}",
        spans.len()
    );
    flushed.expect("the flush after the collector came up succeeds");
    assert_eq!(spans.len(), AFTER);
    assert!(spans
        .iter()
        .all(|s| s.attr("batch").as_deref() == Some("after")));
    assert_eq!(up.exported(), AFTER as u64, "{up:?}");
    assert_eq!(
        up.exported() + up.failed() + up.dropped(),
        (BEFORE + AFTER) as u64,
        "every span is accounted for: {up:?}"
    );
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
    parts.into_guard().shutdown().expect("clean shutdown");
}

#[test]
fn grpc_collector_down_at_start_then_up() {
    collector_down_at_start_then_up("grpc");
}

#[test]
fn http_collector_down_at_start_then_up() {
    collector_down_at_start_then_up("http/protobuf");
}

// ---------------------------------------------------------------------------
// UNAVAILABLE / 503 for a while.
// ---------------------------------------------------------------------------

fn collector_unavailable_for_a_while(protocol: &str) {
    const MADE: usize = 20;
    const FAILURES: usize = 2;
    let receiver = Receiver::start();
    receiver.fail_next(FAILURES);
    let endpoint = match protocol {
        "grpc" => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "5000"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ])
        .with_service_name("faults")
        .with_shutdown_timeout(WAIT)
        .build()
        .expect("tracelink builds");
    let dispatch = support::dispatch(&parts);

    make_spans(&dispatch, MADE, "unavailable");
    let flushed = parts.guard().flush();
    let stats = parts.guard().stats().spans();
    let arrived = receiver.spans().len();
    println!(
        "{protocol}, {FAILURES} requests refused: flush {flushed:?}, {} refused, \
         {arrived} spans arrived, stats {stats:?}",
        receiver.rejected()
    );
    assert_eq!(receiver.rejected(), FAILURES, "the fault was exercised");
    assert_eq!(arrived as u64, stats.exported(), "{stats:?}");
    assert_eq!(stats.exported() + stats.failed(), MADE as u64, "{stats:?}");
    assert_eq!(stats.dropped(), 0, "{stats:?}");
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
    // Nothing is queued any more: shutdown has nothing left to report.
    parts.into_guard().shutdown().expect("clean shutdown");
}

#[test]
fn grpc_unavailable_for_a_while() {
    collector_unavailable_for_a_while("grpc");
}

#[test]
fn http_503_for_a_while() {
    collector_unavailable_for_a_while("http/protobuf");
}

// ---------------------------------------------------------------------------
// A collector that accepts connections and never answers.
// ---------------------------------------------------------------------------

const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(1);
/// Generous: this checks that shutdown is bounded, not how fast it is.
const SHUTDOWN_BOUND: Duration = Duration::from_secs(4);

/// Makes `made` spans against a black hole and shuts down with a 1 s timeout
/// (export timeouts of 30 s: only the guard can bound shutdown). Asserts that
/// shutdown returns within [`SHUTDOWN_BOUND`]; returns the stats taken just
/// before shutdown and what shutdown returned.
fn spans_into_black_hole(
    protocol: &str,
    made: usize,
    extra_env: &[(&str, &str)],
) -> (ExportStats, Result<(), Error>) {
    let black_hole = BlackHole::start();
    let endpoint = black_hole.endpoint();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "30000"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra_env);
    let parts = tracelink::builder()
        .with_env(env)
        .with_service_name("faults")
        .with_shutdown_timeout(SHUTDOWN_TIMEOUT)
        .build()
        .expect("tracelink builds");

    // Must finish even when the queue is full: the hot path never waits.
    let started = Instant::now();
    make_spans(&support::dispatch(&parts), made, "black hole");
    let making = started.elapsed();
    // Let the scheduled export start and hang on the black hole.
    std::thread::sleep(Duration::from_millis(300));
    let before = parts.guard().stats().spans();
    println!(
        "{protocol}: {made} spans made in {making:?}; {} connections swallowed; \
         stats before shutdown {before:?}",
        black_hole.connections()
    );
    assert_eq!(before.exported(), 0, "{before:?}");
    assert_eq!(
        before.failed(),
        0,
        "the export hangs, it has not failed: {before:?}"
    );
    assert!(black_hole.connections() >= 1, "the exporter did connect");

    let started = Instant::now();
    let result = parts.into_guard().shutdown();
    let took = started.elapsed();
    println!("{protocol}: shutdown took {took:?} and returned {result:?}");
    assert!(
        took < SHUTDOWN_BOUND,
        "shutdown took {took:?} with a {SHUTDOWN_TIMEOUT:?} timeout"
    );
    (before, result)
}

/// Shutdown owns up to the spans it could not deliver: every span made is
/// either counted as dropped before shutdown or reported by the error.
fn assert_shutdown_reports_lost_spans(made: usize, before: ExportStats, result: Result<(), Error>) {
    match result {
        Err(Error::ExportFailed { failed, .. }) => {
            assert_eq!(before.dropped() + failed, made as u64, "{before:?}");
        }
        Err(Error::ShutdownTimeout { unexported, .. }) => {
            // Documented as "still queued or in flight".
            assert!(unexported > 0, "the lost spans are reported");
            assert!(before.lost() + unexported <= made as u64, "{before:?}");
        }
        other => panic!("a black hole cannot have taken the spans: {other:?}"),
    }
}

#[test]
fn grpc_black_hole_shutdown_is_bounded() {
    // What shutdown returns is checked in grpc_black_hole_shutdown_reports_lost_spans.
    let (_, _result) = spans_into_black_hole("grpc", 10, &[]);
}

#[test]
fn http_black_hole_shutdown_is_bounded() {
    // What shutdown returns is checked in http_black_hole_shutdown_reports_lost_spans.
    let (_, _result) = spans_into_black_hole("http/protobuf", 10, &[]);
}

#[test]
fn grpc_black_hole_shutdown_reports_lost_spans() {
    let (before, result) = spans_into_black_hole("grpc", 10, &[]);
    assert_shutdown_reports_lost_spans(10, before, result);
}

#[test]
fn http_black_hole_shutdown_reports_lost_spans() {
    let (before, result) = spans_into_black_hole("http/protobuf", 10, &[]);
    assert_shutdown_reports_lost_spans(10, before, result);
}

// ---------------------------------------------------------------------------
// A full queue drops spans instead of blocking the service.
// ---------------------------------------------------------------------------

const FLOOD: usize = 1000;
const QUEUE: usize = 16;
const BATCH: usize = 8;
const SMALL_QUEUE: [(&str, &str); 2] = [
    ("OTEL_BSP_MAX_QUEUE_SIZE", "16"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8"),
];

/// The first batch hangs on the black hole, the queue fills, and the rest is
/// dropped and counted; making the spans finishes all the same.
fn full_queue_drops_instead_of_blocking(protocol: &str) {
    let (before, _) = spans_into_black_hole(protocol, FLOOD, &SMALL_QUEUE);
    // At most a full queue and the batch in flight escape being dropped.
    assert!(
        before.dropped() >= (FLOOD - QUEUE - BATCH) as u64,
        "{before:?}"
    );
}

#[test]
fn grpc_full_queue_drops_instead_of_blocking() {
    full_queue_drops_instead_of_blocking("grpc");
}

#[test]
fn http_full_queue_drops_instead_of_blocking() {
    full_queue_drops_instead_of_blocking("http/protobuf");
}

#[test]
fn grpc_full_queue_shutdown_accounts_for_every_span() {
    let (before, result) = spans_into_black_hole("grpc", FLOOD, &SMALL_QUEUE);
    assert_shutdown_reports_lost_spans(FLOOD, before, result);
}

#[test]
fn http_full_queue_shutdown_accounts_for_every_span() {
    let (before, result) = spans_into_black_hole("http/protobuf", FLOOD, &SMALL_QUEUE);
    assert_shutdown_reports_lost_spans(FLOOD, before, result);
}
