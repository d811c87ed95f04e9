//! Log records over OTLP as a receiver nobody here wrote decodes them:
//! Python's official `opentelemetry-proto` messages behind `grpcio` and
//! `http.server` (tests/tools/otlp_receiver.py through
//! [`support::PyReceiver`], run with the venv of
//! `scripts/install-test-deps.sh`), over gRPC and HTTP/protobuf, gzip or
//! not. Every record names a span the same receiver got (nested, in a task
//! that moves between the threads of a multi-thread runtime, under a remote
//! parent, with an explicit parent), with the ids of its JSON line; a record
//! outside spans names none; one under an unsampled remote parent keeps its
//! ids with flags 0 and its span is not exported. Severity numbers and
//! texts, body, attribute types (compared as protobuf values, not text), the
//! scope (this crate's target) and the resource are as tracelink sent them.

mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use support::{dispatch_with_logs, Capture, PyReceiver, ReceivedLog, ReceivedSpan, Transport};
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(15);
/// The scope every record is sent under: the target of this file's events.
const SCOPE: &str = "otlp_logs_python";
/// A remote caller's sampled trace, and one it did not sample.
const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const REMOTE_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const UNSAMPLED_TRACE: &str = "5bf92f3577b34da6a3ce929d0e0e4736";
const UNSAMPLED_CALLER: &str = "10f067aa0ba902b7";
const REMOTE_UNSAMPLED: &str = "00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-00";
/// Tasks spawned on the multi-thread runtime, two records each.
const TASKS: usize = 4;
/// Records of the workload: 8 on the test thread, two a task.
const RECORDS: usize = 8 + 2 * TASKS;
/// Spans exported: request, charge, batch, GET /cart and one a task (not
/// GET /unsampled).
const SPANS: usize = 4 + TASKS;

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

/// tracelink sending spans and log records to the Python receiver over
/// `protocol` with `compression`, its JSON lines into `capture`; every
/// level of this file's events, INFO for the rest.
fn build(
    python: &PyReceiver,
    protocol: &str,
    compression: &str,
    capture: &Capture,
) -> tracelink::Parts {
    let endpoint = python.endpoint(protocol);
    let filter = format!("info,{SCOPE}=trace");
    tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", compression),
            ("OTEL_LOGS_EXPORTER", "otlp"),
            ("OTEL_METRICS_EXPORTER", "none"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=python-test",
            ),
            ("RUST_LOG", filter.as_str()),
        ])
        .with_service_name("checkout")
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_shutdown_timeout(Duration::from_secs(10))
        .build()
        .expect("tracelink builds")
}

/// The context a server extracts from a `traceparent` header.
fn remote(parts: &tracelink::Parts, traceparent: &str) -> opentelemetry::Context {
    let headers = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    parts.propagator().extract(&headers)
}

/// Every way an event finds its span, and two ways it has none to export.
fn workload(parts: &tracelink::Parts) {
    let dispatch = dispatch_with_logs(parts);
    tracing::dispatcher::with_default(&dispatch, || {
        // Nested: the innermost span's ids; every level; every field type.
        tracing::info_span!("request", http.route = "/pay").in_scope(|| {
            tracing::info!(order.id = 42_u64, "order received");
            tracing::info_span!("charge").in_scope(|| {
                tracing::trace!(card.last4 = "4242", "card tokenised");
                tracing::debug!(attempt = 1_u8, "charging card");
                let error = PaymentError(std::io::Error::other("insufficient funds"));
                tracing::warn!(
                    http.response.status_code = 402_u16,
                    retry.after = -5_i64,
                    floor = i64::MIN,
                    edge = i64::MAX.unsigned_abs(),
                    huge = u64::MAX,
                    ratio = 0.25_f64,
                    share = 1.0_f64 / 3.0,
                    retried = true,
                    declined = false,
                    card.brand = "visa",
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
        // A remote parent the caller sampled.
        let server = tracing::info_span!("GET /cart", otel.kind = "server");
        let _ = server.set_parent(remote(parts, REMOTE_SAMPLED));
        server.in_scope(|| tracing::info!("cart served"));
        drop(server);
        // A remote parent the caller did not sample: ids, flags 00, and its
        // span not exported. (It ends before the spans that are, so had it
        // been exported it would come in their request or an earlier one.)
        let unsampled = tracing::info_span!("GET /unsampled", otel.kind = "server");
        let _ = unsampled.set_parent(remote(parts, REMOTE_UNSAMPLED));
        unsampled.in_scope(|| tracing::warn!("not traced"));
        drop(unsampled);
        // Outside any span: no ids.
        tracing::info!("service ready");
    });
    // Tasks that move between the threads of a multi-thread runtime.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(
        async {
            let tasks: Vec<_> = (0..TASKS)
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

fn now_nanos() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_nanos()).expect("before 2554")
}

/// The records, by body text.
fn by_message(logs: &[ReceivedLog]) -> BTreeMap<String, Vec<&ReceivedLog>> {
    let mut map: BTreeMap<String, Vec<&ReceivedLog>> = BTreeMap::new();
    for log in logs {
        map.entry(log.body_string().unwrap_or_default())
            .or_default()
            .push(log);
    }
    map
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

fn span_named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|span| span.name() == name).collect();
    assert_eq!(found.len(), 1, "spans {name:?}: {spans:#?}");
    found[0]
}

/// Runs the workload against a fresh Python receiver and checks everything
/// it decoded.
#[allow(clippy::too_many_lines)] // one scenario, checked in one place
fn check(protocol: &str, compression: &str, transport: Transport) {
    let python = PyReceiver::start();
    let capture = Capture::default();
    let parts = build(&python, protocol, compression, &capture);
    let before = now_nanos();
    workload(&parts);
    let after = now_nanos();
    let guard = parts.into_guard();
    guard.flush().expect("a clean flush");
    let stats = guard.stats().log_records();
    assert_eq!(stats.exported(), RECORDS as u64, "{stats:?}");
    guard.shutdown().expect("a clean shutdown");

    // Python prints each request before answering it; its lines may still
    // be on their way to this side.
    let logs = python.wait_for_logs(RECORDS, WAIT);
    let spans = python.wait_for_spans(SPANS, WAIT);
    assert!(python.problems().is_empty(), "{:?}", python.problems());
    assert_eq!(logs.len(), RECORDS, "{logs:#?}");
    assert_eq!(spans.len(), SPANS, "{spans:#?}");
    let requests = python.logs_requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.transport, transport, "{request:?}");
        // grpcio decompresses before the handler sees the request.
        let gzip = transport == Transport::Http && compression == "gzip";
        assert_eq!(request.gzip, gzip, "{request:?}");
    }
    assert!(
        python.requests().iter().all(|r| r.transport == transport),
        "the spans came by {protocol} too"
    );

    // Every record: this file's target as scope, the spans' resource, a
    // string body, a time within the workload, and the ids of its JSON line.
    let lines = lines(&capture);
    assert_eq!(lines.values().map(Vec::len).sum::<usize>(), RECORDS);
    for log in &logs {
        let message = log.body_string().unwrap_or_default();
        assert_eq!(log.transport, transport);
        assert_eq!(log.scope_name(), SCOPE, "{message}");
        assert_eq!(
            log.resource_attr("service.name").as_deref(),
            Some("checkout"),
            "{message}"
        );
        assert_eq!(
            log.resource_attr("deployment.environment.name").as_deref(),
            Some("python-test"),
            "{message}"
        );
        assert_eq!(
            log.body(),
            Some(&Value::StringValue(message.clone())),
            "{log:#?}"
        );
        assert!(!message.is_empty(), "{log:#?}");
        assert_eq!(log.attr_count("message"), 0, "the message is the body");
        assert!(
            (before..=after).contains(&log.time_unix_nano()),
            "{message}: time {} outside {before}..={after}",
            log.time_unix_nano()
        );
        assert!(log.observed_time_unix_nano() >= log.time_unix_nano());
        let Some(line_group) = lines.get(&message) else {
            panic!("no JSON line says {message:?}: {lines:#?}");
        };
        if log.trace_id().is_empty() {
            assert_eq!(message, "service ready");
            assert_eq!(log.span_id(), "");
            assert_eq!(log.flags(), 0);
            assert!(line_group[0].get("trace_id").is_none(), "{line_group:?}");
            continue;
        }
        assert_eq!(log.trace_id().len(), 32, "{message}");
        assert_eq!(log.span_id().len(), 16, "{message}");
        let flags = format!("{:02x}", log.flags());
        assert!(
            line_group
                .iter()
                .any(|line| line["trace_id"] == log.trace_id()
                    && line["span_id"] == log.span_id()
                    && line["trace_flags"] == flags),
            "no line of {message:?} carries {} {} {flags}: {line_group:#?}",
            log.trace_id(),
            log.span_id(),
        );
        // OTLP defines the low 8 bits only: the W3C trace flags.
        assert!(log.flags() <= 0xff, "{message}: flags {:#x}", log.flags());
        let exported = spans
            .iter()
            .find(|s| s.trace_id() == log.trace_id() && s.span_id() == log.span_id());
        if message == "not traced" {
            assert_eq!(log.flags(), 0, "the caller did not sample it");
            assert!(
                exported.is_none(),
                "the unsampled span was exported: {spans:#?}"
            );
        } else {
            let Some(span) = exported else {
                panic!(
                    "{message:?} names span {} of trace {}, which Python did not receive",
                    log.span_id(),
                    log.trace_id()
                );
            };
            assert_eq!(log.flags() & 1, 1, "{message}: sampled");
            assert_eq!(span.trace_flags(), flags, "{message}: the span's flags");
        }
    }

    let logs = by_message(&logs);
    let one = |message: &str| -> &ReceivedLog {
        let found = logs
            .get(message)
            .unwrap_or_else(|| panic!("no record {message:?}: {logs:#?}"));
        assert_eq!(found.len(), 1, "{message}: {found:#?}");
        found[0]
    };

    // Nested: the innermost span, whose parent is the outer one.
    let request = span_named(&spans, "request");
    let charge = span_named(&spans, "charge");
    assert_eq!(charge.parent_span_id(), Some(request.span_id()));
    assert_eq!(charge.trace_id(), request.trace_id());
    let received = one("order received");
    let refused = one("payment refused");
    assert_eq!(received.span_id(), request.span_id());
    assert_eq!(received.trace_id(), request.trace_id());
    for message in ["card tokenised", "charging card", "payment refused"] {
        assert_eq!(one(message).span_id(), charge.span_id(), "{message}");
        assert_eq!(one(message).trace_id(), charge.trace_id(), "{message}");
    }

    // Severity numbers and texts, by the specification's mapping.
    let severities: Vec<(&str, i32, &str)> = [
        "card tokenised",
        "charging card",
        "order received",
        "payment refused",
        "job failed",
    ]
    .into_iter()
    .map(|m| (m, one(m).severity_number(), one(m).severity_text()))
    .collect();
    assert_eq!(
        severities,
        [
            ("card tokenised", 1, "TRACE"),
            ("charging card", 5, "DEBUG"),
            ("order received", 9, "INFO"),
            ("payment refused", 13, "WARN"),
            ("job failed", 17, "ERROR"),
        ]
    );

    // Attributes, each of its protobuf type, as Python decoded it.
    let expected: [(&str, Value); 12] = [
        ("http.response.status_code", Value::IntValue(402)),
        ("retry.after", Value::IntValue(-5)),
        ("floor", Value::IntValue(i64::MIN)),
        ("edge", Value::IntValue(i64::MAX)),
        // Past i64::MAX: the decimal text, exactly.
        ("huge", Value::StringValue(u64::MAX.to_string())),
        ("ratio", Value::DoubleValue(0.25)),
        ("share", Value::DoubleValue(1.0 / 3.0)),
        ("retried", Value::BoolValue(true)),
        ("declined", Value::BoolValue(false)),
        ("card.brand", Value::StringValue("visa".into())),
        (
            "error",
            Value::StringValue("card declined: insufficient funds".into()),
        ),
        ("amount", Value::StringValue("Some(2500)".into())),
    ];
    for (key, value) in &expected {
        assert_eq!(refused.attr_value(key), Some(value), "{key}: {refused:#?}");
        assert_eq!(refused.attr_count(key), 1, "{key}");
    }
    assert_eq!(
        refused.record.attributes.len(),
        expected.len(),
        "{refused:#?}"
    );
    // Bit for bit, through Python's repr.
    match refused.attr_value("share") {
        Some(Value::DoubleValue(share)) => {
            assert_eq!(share.to_bits(), (1.0_f64 / 3.0).to_bits());
        }
        other => panic!("share: {other:?}"),
    }
    assert_eq!(received.attr_value("order.id"), Some(&Value::IntValue(42)));
    assert_eq!(
        one("charging card").attr_value("attempt"),
        Some(&Value::IntValue(1))
    );
    assert_eq!(
        one("card tokenised").attr_value("card.last4"),
        Some(&Value::StringValue("4242".into()))
    );

    // Explicit parent.
    let failed = one("job failed");
    let batch = span_named(&spans, "batch");
    assert_eq!(
        (failed.trace_id(), failed.span_id()),
        (batch.trace_id(), batch.span_id())
    );
    assert_eq!(
        failed.attr_value("job"),
        Some(&Value::StringValue("nightly".into()))
    );

    // Remote parent: the caller's trace, the local server span.
    let served = one("cart served");
    let cart = span_named(&spans, "GET /cart");
    assert_eq!(served.trace_id(), REMOTE_TRACE);
    assert_eq!(cart.trace_id(), REMOTE_TRACE);
    assert_eq!(cart.parent_span_id().as_deref(), Some("00f067aa0ba902b7"));
    assert_eq!(served.span_id(), cart.span_id());
    // The caller's flags (01) kept; a trace started here announces its
    // random id (W3C Level 2), 03.
    assert_eq!(served.flags(), 0x01);
    assert_eq!(received.flags(), 0x03);

    // Unsampled remote parent: the caller's trace, a span of its own, flags
    // 0, and no span of that trace exported.
    let untraced = one("not traced");
    assert_eq!(untraced.trace_id(), UNSAMPLED_TRACE);
    assert_ne!(untraced.span_id(), UNSAMPLED_CALLER, "its own span");
    assert_eq!(untraced.flags(), 0);
    assert_eq!(
        (untraced.severity_number(), untraced.severity_text()),
        (13, "WARN")
    );
    assert!(
        spans.iter().all(|s| s.trace_id() != UNSAMPLED_TRACE),
        "{spans:#?}"
    );
    assert!(spans.iter().all(|s| s.name() != "GET /unsampled"));

    // Outside spans: no ids at all.
    let ready = one("service ready");
    assert!(ready.record.trace_id.is_empty() && ready.record.span_id.is_empty());

    // Across threads: each task's two records name that task's span, one
    // span a task, each its own trace.
    let started = &logs["task started"];
    let resumed = &logs["task resumed"];
    assert_eq!((started.len(), resumed.len()), (TASKS, TASKS));
    let mut by_span: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    for log in started.iter().chain(resumed) {
        let task = spans
            .iter()
            .find(|s| s.trace_id() == log.trace_id() && s.span_id() == log.span_id())
            .expect("the task's span");
        assert_eq!(task.name(), "task");
        by_span
            .entry(log.span_id())
            .or_default()
            .push(log.int_attr("step").expect("step is an int"));
    }
    assert_eq!(by_span.len(), TASKS, "one span a task: {by_span:?}");
    for (span, steps) in &mut by_span {
        steps.sort_unstable();
        assert_eq!(steps, &[1, 2], "task span {span}");
    }
}

#[test]
fn python_decodes_records_naming_their_spans_over_grpc() {
    check("grpc", "none", Transport::Grpc);
}

#[test]
fn python_decodes_records_naming_their_spans_over_grpc_gzip() {
    check("grpc", "gzip", Transport::Grpc);
}

#[test]
fn python_decodes_records_naming_their_spans_over_http() {
    check("http/protobuf", "none", Transport::Http);
}

#[test]
fn python_decodes_records_naming_their_spans_over_http_gzip() {
    check("http/protobuf", "gzip", Transport::Http);
}
