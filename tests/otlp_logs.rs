//! Log records over OTLP reach a real receiver (decoding with the official
//! protos), over gRPC and HTTP/protobuf, gzip or not: every record names
//! the exact span it was logged in, as received by the same receiver
//! (nested, in a task that moves between threads, under a remote parent,
//! with an explicit parent), with the same ids as its JSON line; severity
//! and attribute types as the specification says; records of unsampled
//! spans keep their ids with flags 0; the log filter decides which events
//! become records, not which spans exist; a collector that is down loses
//! records it counts, never blocks, and gets the later ones.

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use support::{
    dispatch_with_logs as dispatch, Capture, ReceivedLog, ReceivedSpan, Receiver, Transport,
};
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(10);
/// A remote caller's trace, sampled, and one it did not sample.
const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const REMOTE_UNSAMPLED: &str = "00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-00";

/// An error with a source, as services log them (`error = &err as &dyn Error`).
#[derive(Debug)]
struct PaymentError(std::io::Error);

impl std::fmt::Display for PaymentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("card declined")
    }
}

impl std::error::Error for PaymentError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// tracelink sending spans and log records to `receiver` over `protocol`,
/// its JSON lines into `capture`.
fn build(
    receiver: &Receiver,
    protocol: &str,
    capture: &Capture,
    extra: &[(&str, &str)],
) -> tracelink::Parts {
    let endpoint = match protocol {
        "grpc" => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_LOGS_EXPORTER", "otlp"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
        (
            "OTEL_RESOURCE_ATTRIBUTES",
            "deployment.environment.name=test",
        ),
        ("OTEL_METRICS_EXPORTER", "none"),
    ];
    env.extend_from_slice(extra);
    tracelink::builder()
        .with_env(env)
        .with_service_name("checkout")
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_shutdown_timeout(Duration::from_secs(10))
        .build()
        .expect("tracelink builds")
}

/// A context extracted from `traceparent`, as a server would.
fn remote(parts: &tracelink::Parts, traceparent: &str) -> opentelemetry::Context {
    let headers =
        std::collections::HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    parts.propagator().extract(&headers)
}

/// The workload: every way an event finds its span.
fn workload(parts: &tracelink::Parts) {
    let dispatch = dispatch(parts);
    tracing::dispatcher::with_default(&dispatch, || {
        // Nested: the innermost span's ids, with every field type.
        tracing::info_span!("request", http.route = "/pay").in_scope(|| {
            tracing::info!(order.id = 42_u64, "order received");
            tracing::info_span!("charge").in_scope(|| {
                let error = PaymentError(std::io::Error::other("insufficient funds"));
                tracing::warn!(
                    http.response.status_code = 402_u16,
                    retry.after = -5_i64,
                    ratio = 0.25_f64,
                    retried = true,
                    card.brand = "visa",
                    huge = u64::MAX,
                    error = &error as &dyn std::error::Error,
                    amount = ?Some(2500),
                    "payment refused"
                );
            });
        });
        // An explicit parent, logged from outside it.
        let batch = tracing::info_span!("batch");
        tracing::error!(parent: &batch, job = "nightly", "job failed");
        drop(batch);
        // A remote parent, sampled by the caller.
        let server = tracing::info_span!("GET /cart", otel.kind = "server");
        let _ = server.set_parent(remote(parts, REMOTE_SAMPLED));
        server.in_scope(|| tracing::info!("cart served"));
        drop(server);
        // Outside any span: no ids.
        tracing::info!("service ready");
    });
    // A task that moves between the threads of a multi-threaded runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(
        async {
            let tasks: Vec<_> = (0..4)
                .map(|n| {
                    tokio::spawn(
                        async move {
                            tracing::info!(step = 1_i64, "task started");
                            tokio::time::sleep(Duration::from_millis(5)).await;
                            tokio::task::yield_now().await;
                            tracing::info!(step = 2_i64, "task resumed");
                        }
                        .instrument(tracing::info_span!("task", n))
                        .with_subscriber(dispatch.clone()),
                    )
                })
                .collect();
            for task in tasks {
                task.await.expect("task");
            }
        }
        .with_subscriber(dispatch.clone()),
    );
}

/// How many records the workload makes.
const RECORDS: usize = 5 + 4 * 2;

fn by_message(logs: &[ReceivedLog]) -> BTreeMap<String, Vec<&ReceivedLog>> {
    let mut map: BTreeMap<String, Vec<&ReceivedLog>> = BTreeMap::new();
    for log in logs {
        map.entry(log.body_string().unwrap_or_default())
            .or_default()
            .push(log);
    }
    map
}

fn span_named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|span| span.name() == name)
        .unwrap_or_else(|| panic!("no span {name:?} among {spans:#?}"))
}

/// The JSON lines written, by message.
fn lines(capture: &Capture) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut map: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for line in capture.text().lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let message = value["message"].as_str().unwrap_or_default().to_owned();
        map.entry(message).or_default().push(value);
    }
    map
}

fn check(protocol: &str, compression: &str, transport: Transport) {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let parts = build(
        &receiver,
        protocol,
        &capture,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    workload(&parts);
    let guard = parts.into_guard();
    guard.shutdown().expect("a clean shutdown");

    let spans = receiver.spans();
    let logs = receiver.logs();
    assert_eq!(logs.len(), RECORDS, "{logs:#?}");
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
    let requests = receiver.logs_requests();
    assert!(
        requests.iter().all(|r| r.transport == transport),
        "{requests:?}"
    );
    assert!(
        requests.iter().all(|r| r.gzip == (compression == "gzip")),
        "{requests:?}"
    );

    // Every record that names a sampled span names one the receiver got,
    // and its JSON line names the same one.
    let lines = lines(&capture);
    for log in &logs {
        let message = log.body_string().unwrap_or_default();
        if log.trace_id().is_empty() {
            assert_eq!(message, "service ready");
            assert!(lines[&message][0].get("trace_id").is_none());
            assert_eq!(log.flags(), 0);
            continue;
        }
        assert!(
            spans
                .iter()
                .any(|s| s.trace_id() == log.trace_id() && s.span_id() == log.span_id()),
            "{message:?} names span {} of trace {}, which was not exported",
            log.span_id(),
            log.trace_id()
        );
        // (Several lines may share a message: one of them, exactly.)
        let flags = format!("{:02x}", log.flags());
        assert!(
            lines[&message]
                .iter()
                .any(|line| line["trace_id"] == log.trace_id()
                    && line["span_id"] == log.span_id()
                    && line["trace_flags"] == flags),
            "no line of {message:?} carries {} {} {flags}: {:#?}",
            log.trace_id(),
            log.span_id(),
            lines[&message]
        );
        assert_eq!(log.flags() & 1, 1, "{message}: sampled");
        // The resource is the spans'.
        assert_eq!(
            log.resource_attr("service.name").as_deref(),
            Some("checkout")
        );
        assert_eq!(
            log.resource_attr("deployment.environment.name").as_deref(),
            Some("test")
        );
    }

    let logs = by_message(&logs);
    let one = |message: &str| -> &ReceivedLog {
        let found = &logs[message];
        assert_eq!(found.len(), 1, "{message}: {found:#?}");
        found[0]
    };
    // Nested: the innermost span.
    let charge = span_named(&spans, "charge");
    let refused = one("payment refused");
    assert_eq!(refused.span_id(), charge.span_id());
    assert_eq!(
        one("order received").span_id(),
        span_named(&spans, "request").span_id()
    );
    // Severity by the specification's mapping, the target as scope.
    assert_eq!(
        (refused.severity_number(), refused.severity_text()),
        (13, "WARN")
    );
    let info = one("order received");
    assert_eq!((info.severity_number(), info.severity_text()), (9, "INFO"));
    let failed = one("job failed");
    assert_eq!(
        (failed.severity_number(), failed.severity_text()),
        (17, "ERROR")
    );
    assert_eq!(refused.scope_name(), "otlp_logs");
    // Attributes with their types.
    assert_eq!(
        refused.attr_value("http.response.status_code"),
        Some(&Value::IntValue(402))
    );
    assert_eq!(
        refused.attr_value("retry.after"),
        Some(&Value::IntValue(-5))
    );
    assert_eq!(refused.attr_value("ratio"), Some(&Value::DoubleValue(0.25)));
    assert_eq!(refused.attr_value("retried"), Some(&Value::BoolValue(true)));
    assert_eq!(
        refused.attr_value("card.brand"),
        Some(&Value::StringValue("visa".into()))
    );
    // Past i64, the decimal text, exactly.
    assert_eq!(
        refused.attr_value("huge"),
        Some(&Value::StringValue(u64::MAX.to_string()))
    );
    assert_eq!(
        refused.attr_value("error"),
        Some(&Value::StringValue(
            "card declined: insufficient funds".into()
        ))
    );
    assert_eq!(
        refused.attr_value("amount"),
        Some(&Value::StringValue("Some(2500)".into()))
    );
    assert_eq!(refused.attr_count("message"), 0, "the message is the body");
    assert_eq!(info.attr_value("order.id"), Some(&Value::IntValue(42)));
    // The body is a string.
    assert_eq!(
        refused.body(),
        Some(&Value::StringValue("payment refused".into()))
    );
    // Times: the event's, and observed at the same moment.
    assert!(refused.time_unix_nano() > 0);
    assert_eq!(refused.time_unix_nano(), refused.observed_time_unix_nano());
    // Explicit parent.
    assert_eq!(failed.span_id(), span_named(&spans, "batch").span_id());
    // Remote parent: the caller's trace, the local span.
    let served = one("cart served");
    assert_eq!(served.trace_id(), REMOTE_TRACE);
    assert_eq!(served.span_id(), span_named(&spans, "GET /cart").span_id());
    // Across threads: each task's two records name that task's span.
    let started = &logs["task started"];
    let resumed = &logs["task resumed"];
    assert_eq!((started.len(), resumed.len()), (4, 4));
    for log in started.iter().chain(resumed) {
        let task = spans
            .iter()
            .find(|s| s.span_id() == log.span_id())
            .expect("the task's span");
        assert_eq!(task.name(), "task");
    }
    let mut task_spans: Vec<String> = resumed.iter().map(|l| l.span_id()).collect();
    task_spans.sort();
    task_spans.dedup();
    assert_eq!(task_spans.len(), 4, "one span a task");
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
    let parts = build(&receiver, "grpc", &capture, &[]);
    tracing::dispatcher::with_default(&dispatch(&parts), || {
        let server = tracing::info_span!("GET /unsampled", otel.kind = "server");
        let _ = server.set_parent(remote(&parts, REMOTE_UNSAMPLED));
        server.in_scope(|| tracing::warn!("not traced"));
    });
    parts.into_guard().shutdown().expect("a clean shutdown");
    let logs = receiver.logs();
    assert_eq!(logs.len(), 1, "{logs:#?}");
    assert!(receiver.spans().is_empty(), "the caller did not sample it");
    assert_eq!(logs[0].trace_id(), "5bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(logs[0].span_id().len(), 16);
    assert_ne!(
        logs[0].span_id(),
        "10f067aa0ba902b7",
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
    let parts = build(&receiver, "grpc", &capture, &[("RUST_LOG", "warn")]);
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
    let parts = build(
        &receiver,
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
