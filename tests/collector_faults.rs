//! When the collector is down, failing or hanging, tracelink never panics,
//! never blocks the service, accounts for every span, and shuts down within its
//! timeout.

mod support;

use std::time::{Duration, Instant};

use support::{free_port, BlackHole, Receiver};
use tracelink::Error;
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
    let down = parts.guard().stats();
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
    let up = parts.guard().stats();
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
    let stats = parts.guard().stats();
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
    // Retried or failed, nothing is left behind.
    let _ = parts.into_guard().shutdown();
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

fn build_against_black_hole(
    black_hole: &BlackHole,
    protocol: &str,
    extra: &[(&str, &str)],
) -> tracelink::Parts {
    let endpoint = black_hole.endpoint();
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        // Far longer than the shutdown timeout: only the guard can bound shutdown.
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "30000"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "30000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra);
    tracelink::builder()
        .with_env(env)
        .with_service_name("faults")
        .with_shutdown_timeout(SHUTDOWN_TIMEOUT)
        .build()
        .expect("tracelink builds")
}

/// Shuts down, asserting that it returns within [`SHUTDOWN_BOUND`].
fn shutdown_bounded(parts: tracelink::Parts, protocol: &str) -> Result<(), Error> {
    let started = Instant::now();
    let result = parts.into_guard().shutdown();
    let took = started.elapsed();
    println!("{protocol}: shutdown took {took:?} and returned {result:?}");
    assert!(
        took < SHUTDOWN_BOUND,
        "shutdown took {took:?} with a {SHUTDOWN_TIMEOUT:?} timeout"
    );
    result
}

fn black_hole_shutdown_is_bounded(protocol: &str) {
    const MADE: usize = 10;
    let black_hole = BlackHole::start();
    let parts = build_against_black_hole(&black_hole, protocol, &[]);
    make_spans(&support::dispatch(&parts), MADE, "black hole");
    // Let the scheduled export start and hang on the black hole.
    std::thread::sleep(Duration::from_millis(300));
    let before = parts.guard().stats();
    println!(
        "{protocol}: {} connections swallowed, stats before shutdown {before:?}",
        black_hole.connections()
    );
    assert_eq!(before.exported(), 0, "{before:?}");

    let result = shutdown_bounded(parts, protocol);
    match result {
        Err(Error::ExportFailed { failed }) => {
            assert_eq!(failed, MADE as u64, "every span failed")
        }
        Err(Error::ShutdownTimeout { unexported, .. }) => {
            assert!(
                unexported > 0 || before.lost() > 0,
                "the lost spans are reported"
            )
        }
        other => panic!("a black hole cannot accept spans: {other:?}"),
    }
    assert!(black_hole.connections() >= 1, "the exporter did connect");
}

#[test]
fn grpc_black_hole_shutdown_is_bounded() {
    black_hole_shutdown_is_bounded("grpc");
}

#[test]
fn http_black_hole_shutdown_is_bounded() {
    black_hole_shutdown_is_bounded("http/protobuf");
}

// ---------------------------------------------------------------------------
// A full queue drops spans instead of blocking the service.
// ---------------------------------------------------------------------------

fn full_queue_drops_instead_of_blocking(protocol: &str) {
    const MADE: usize = 1000;
    const QUEUE: usize = 16;
    const BATCH: usize = 8;
    let black_hole = BlackHole::start();
    let parts = build_against_black_hole(
        &black_hole,
        protocol,
        &[
            ("OTEL_BSP_MAX_QUEUE_SIZE", "16"),
            ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "8"),
        ],
    );
    let dispatch = support::dispatch(&parts);

    // The first batch hangs on the black hole, the queue fills, the rest is
    // dropped: the loop must finish all the same.
    let started = Instant::now();
    make_spans(&dispatch, MADE, "flood");
    let took = started.elapsed();
    let stats = parts.guard().stats();
    println!("{protocol}: {MADE} spans made in {took:?} against a black hole; stats {stats:?}");
    assert_eq!(stats.exported(), 0, "{stats:?}");
    // At most a full queue and the batch in flight escape being dropped.
    assert!(
        stats.dropped() >= (MADE - QUEUE - BATCH) as u64,
        "{stats:?}"
    );
    assert!(stats.dropped() + stats.failed() <= MADE as u64, "{stats:?}");

    let result = shutdown_bounded(parts, protocol);
    match result {
        // Whatever was queued or in flight failed at the deadline.
        Err(Error::ExportFailed { failed }) => {
            assert_eq!(stats.dropped() + failed, MADE as u64, "{stats:?}")
        }
        Err(Error::ShutdownTimeout { unexported, .. }) => {
            assert!(stats.dropped() + unexported <= MADE as u64)
        }
        other => panic!("a black hole cannot accept spans: {other:?}"),
    }
}

#[test]
fn grpc_full_queue_drops_instead_of_blocking() {
    full_queue_drops_instead_of_blocking("grpc");
}

#[test]
fn http_full_queue_drops_instead_of_blocking() {
    full_queue_drops_instead_of_blocking("http/protobuf");
}
