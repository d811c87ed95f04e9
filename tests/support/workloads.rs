//! The workloads the OTLP tests run against both peers, the Rust
//! [`Receiver`] and the [`PyReceiver`], and the checks that hold whichever
//! of them decoded what was sent:
//!
//! * logs ([`check_log_records`]): tests/otlp_logs.rs and
//!   tests/otlp_logs_python.rs;
//! * metrics ([`metric_workload`], [`check_metrics`]): tests/otlp_metrics.rs
//!   and tests/otlp_metrics_python.rs.
//!
//! Each peer's file keeps what is its own: the transports it runs over,
//! what it can see of the wire (grpcio decompresses a gRPC request before
//! Python sees it, so only the Rust receiver sees gzip over gRPC), and the
//! checks only it makes.
//!
//! The workloads' events and spans are this module's: their target, so the
//! scope of their log records, is [`SCOPE`].

use std::collections::{BTreeMap, HashMap};
use std::ops::Deref;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::metrics::v1::{
    exemplar, number_data_point, AggregationTemporality,
};
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::{
    dispatch_with_logs, Capture, Inboxes, MetricKind, PyReceiver, ReceivedExemplar, ReceivedLog,
    ReceivedMetric, ReceivedSpan, Receiver, Request, Transport,
};

/// How long a check waits for what a peer received (Python prints each
/// request before answering it; its lines may still be on their way).
pub const WAIT: Duration = Duration::from_secs(15);
/// The target of the workloads' events, and so the scope of their records.
pub const SCOPE: &str = module_path!();
/// The `deployment.environment.name` of the resource both builds set.
pub const ENVIRONMENT: &str = "test";

/// A receiver the workloads export to: the Rust [`Receiver`] or the
/// [`PyReceiver`], read through the [`Inboxes`] both dereference to.
pub trait Peer: Deref<Target = Inboxes> {
    /// The endpoint for an `OTEL_EXPORTER_OTLP_PROTOCOL` value: gRPC's for
    /// `"grpc"`, HTTP's for anything else.
    fn endpoint_for(&self, protocol: &str) -> String;

    /// The requests it could not take as valid OTLP (empty when all were).
    fn invalid_requests(&self) -> Vec<String>;
}

impl Peer for Receiver {
    fn endpoint_for(&self, protocol: &str) -> String {
        if protocol == "grpc" {
            self.grpc_endpoint()
        } else {
            self.http_endpoint()
        }
    }

    fn invalid_requests(&self) -> Vec<String> {
        self.problems()
    }
}

impl Peer for PyReceiver {
    fn endpoint_for(&self, protocol: &str) -> String {
        self.endpoint(protocol)
    }

    fn invalid_requests(&self) -> Vec<String> {
        self.problems()
    }
}

/// The wall-clock interval a workload ran in, in Unix nanoseconds.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    /// Just before it started.
    pub before: u64,
    /// Just after it ended.
    pub after: u64,
}

impl Window {
    /// Runs `run`, noting the time before and after.
    pub fn of(run: impl FnOnce()) -> Self {
        let before = now_nanos();
        run();
        Self {
            before,
            after: now_nanos(),
        }
    }
}

/// The current time in Unix nanoseconds.
pub fn now_nanos() -> u64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970");
    u64::try_from(since.as_nanos()).expect("before 2554")
}

/// The context a server extracts from a `traceparent` header.
pub fn remote(parts: &tracelink::Parts, traceparent: &str) -> opentelemetry::Context {
    let headers = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    parts.propagator().extract(&headers)
}

/// How requests reached `peer`: it took every one as valid OTLP; those of
/// the signal under test (`requests`, at least one) came by `transport`,
/// gzipped exactly when `gzip` says; its span requests came by `transport`
/// (over `protocol`) too.
pub fn check_wire<P: Peer, B: std::fmt::Debug>(
    peer: &P,
    requests: &[Request<B>],
    protocol: &str,
    transport: Transport,
    gzip: bool,
) {
    let invalid = peer.invalid_requests();
    assert!(invalid.is_empty(), "{invalid:?}");
    assert!(!requests.is_empty());
    for request in requests {
        assert_eq!(request.transport, transport, "{request:?}");
        assert_eq!(request.gzip, gzip, "{request:?}");
    }
    assert!(
        peer.requests().iter().all(|r| r.transport == transport),
        "the spans came by {protocol} too"
    );
}

// ---------------------------------------------------------------- logs

/// A remote caller's sampled trace (the one [`REMOTE_SAMPLED`] carries).
pub const REMOTE_TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// The `traceparent` of [`REMOTE_TRACE`], sampled (flags 01).
pub const REMOTE_SAMPLED: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
/// A remote caller's trace it did not sample.
pub const UNSAMPLED_TRACE: &str = "5bf92f3577b34da6a3ce929d0e0e4736";
/// The span of the caller of [`UNSAMPLED_TRACE`].
pub const UNSAMPLED_CALLER: &str = "10f067aa0ba902b7";
/// The `traceparent` of [`UNSAMPLED_TRACE`], not sampled (flags 00).
pub const REMOTE_UNSAMPLED: &str = "00-5bf92f3577b34da6a3ce929d0e0e4736-10f067aa0ba902b7-00";
/// Tasks the log workload spawns on a multi-thread runtime, two records
/// each.
pub const TASKS: usize = 4;
/// Records of the log workload: 8 on the test thread, two a task.
pub const RECORDS: usize = 8 + 2 * TASKS;
/// Spans the log workload exports: request, charge, batch, GET /cart and
/// one a task (not GET /unsampled).
pub const SPANS: usize = 4 + TASKS;

/// An error with a source, as services log them (`error = &err as &dyn Error`).
#[derive(Debug)]
pub struct PaymentError(pub std::io::Error);

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

/// tracelink named `checkout` sending spans and log records to `endpoint`
/// over `protocol`, its JSON lines into `capture`: every level of the
/// workloads' events ([`SCOPE`]), INFO for the rest; `extra` on top (a
/// variable given there wins).
pub fn build_logging(
    endpoint: &str,
    protocol: &str,
    capture: &Capture,
    extra: &[(&str, &str)],
) -> tracelink::Parts {
    let filter = format!("info,{SCOPE}=trace");
    let environment = format!("deployment.environment.name={ENVIRONMENT}");
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_LOGS_EXPORTER", "otlp"),
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "100"),
        ("OTEL_RESOURCE_ATTRIBUTES", environment.as_str()),
        ("RUST_LOG", filter.as_str()),
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

/// The log workload: every way an event finds its span (nested, with an
/// explicit parent, under a remote parent, in tasks that move between the
/// threads of a multi-thread runtime), and two ways it has none to export
/// (an unsampled remote parent, no span at all). [`RECORDS`] records,
/// [`SPANS`] spans exported.
pub fn log_workload(parts: &tracelink::Parts) {
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

/// The records, by body text.
pub fn by_message(logs: &[ReceivedLog]) -> BTreeMap<String, Vec<&ReceivedLog>> {
    let mut map: BTreeMap<String, Vec<&ReceivedLog>> = BTreeMap::new();
    for log in logs {
        map.entry(log.body_string().unwrap_or_default())
            .or_default()
            .push(log);
    }
    map
}

/// The JSON lines written, by message.
pub fn lines(capture: &Capture) -> BTreeMap<String, Vec<serde_json::Value>> {
    let mut map: BTreeMap<String, Vec<serde_json::Value>> = BTreeMap::new();
    for line in capture.text().lines() {
        let value: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
        let message = value["message"].as_str().unwrap_or_default().to_owned();
        map.entry(message).or_default().push(value);
    }
    map
}

/// The one span named `name` (panics if there are none, or several).
pub fn span_named<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans.iter().filter(|span| span.name() == name).collect();
    assert_eq!(found.len(), 1, "spans {name:?}: {spans:#?}");
    found[0]
}

/// Runs the log workload exporting to `peer` over `protocol` with
/// `compression`, and checks everything `peer` decoded: the requests came
/// by `transport`, gzipped exactly when `gzip` says (what the peer can see
/// of compression is its own); every record names a span the same peer got
/// (or none, or an unsampled one), with the ids of its JSON line; severity,
/// body, attribute types (compared as protobuf values, not text), scope,
/// resource and times as tracelink sent them.
pub fn check_log_records<P: Peer>(
    peer: &P,
    protocol: &str,
    compression: &str,
    transport: Transport,
    gzip: bool,
) {
    let capture = Capture::default();
    let parts = build_logging(
        &peer.endpoint_for(protocol),
        protocol,
        &capture,
        &[("OTEL_EXPORTER_OTLP_COMPRESSION", compression)],
    );
    let window = Window::of(|| log_workload(&parts));
    let guard = parts.into_guard();
    guard.flush().expect("a clean flush");
    let stats = guard.stats().log_records();
    assert_eq!(stats.exported(), RECORDS as u64, "{stats:?}");
    guard.shutdown().expect("a clean shutdown");

    let logs = peer.wait_for_logs(RECORDS, WAIT);
    let spans = peer.wait_for_spans(SPANS, WAIT);
    check_wire(peer, &peer.logs_requests(), protocol, transport, gzip);
    assert_eq!(logs.len(), RECORDS, "{logs:#?}");
    assert_eq!(spans.len(), SPANS, "{spans:#?}");

    check_each_record(&logs, &spans, &lines(&capture), window, transport);
    check_where_records_belong(&by_message(&logs), &spans);
}

/// What holds of every record: the workloads' target as scope, the spans'
/// resource, a string body, a time within `window`, and the ids of its JSON
/// line (of `lines`); the span it names was exported, unless its caller did
/// not sample it.
fn check_each_record(
    logs: &[ReceivedLog],
    spans: &[ReceivedSpan],
    lines: &BTreeMap<String, Vec<serde_json::Value>>,
    window: Window,
    transport: Transport,
) {
    let Window { before, after } = window;
    assert_eq!(lines.values().map(Vec::len).sum::<usize>(), RECORDS);
    for log in logs {
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
            Some(ENVIRONMENT),
            "{message}"
        );
        assert_eq!(
            log.body(),
            Some(&Value::StringValue(message.clone())),
            "{log:#?}"
        );
        assert!(!message.is_empty(), "{log:#?}");
        assert_eq!(log.attr_count("message"), 0, "the message is the body");
        // The event's time, and observed at the same moment.
        assert!(
            (before..=after).contains(&log.time_unix_nano()),
            "{message}: time {} outside {before}..={after}",
            log.time_unix_nano()
        );
        assert_eq!(
            log.observed_time_unix_nano(),
            log.time_unix_nano(),
            "{message}"
        );
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
        // (Several lines may share a message: one of them, exactly.)
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
                    "{message:?} names span {} of trace {}, which the peer did not receive",
                    log.span_id(),
                    log.trace_id()
                );
            };
            assert_eq!(log.flags() & 1, 1, "{message}: sampled");
            assert_eq!(span.trace_flags(), flags, "{message}: the span's flags");
        }
    }
}

/// Record by record (`logs`, by message): the span each names among
/// `spans`, its severity and its attributes.
fn check_where_records_belong(logs: &BTreeMap<String, Vec<&ReceivedLog>>, spans: &[ReceivedSpan]) {
    let one = |message: &str| -> &ReceivedLog {
        let found = logs
            .get(message)
            .unwrap_or_else(|| panic!("no record {message:?}: {logs:#?}"));
        assert_eq!(found.len(), 1, "{message}: {found:#?}");
        found[0]
    };

    // Nested: the innermost span, whose parent is the outer one.
    let request = span_named(spans, "request");
    let charge = span_named(spans, "charge");
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

    check_attributes(refused);
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
    let batch = span_named(spans, "batch");
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
    let cart = span_named(spans, "GET /cart");
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

/// The attributes of `payment refused`, each of its protobuf type, exactly
/// these and each once.
fn check_attributes(refused: &ReceivedLog) {
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
    // Bit for bit (through Python's repr, for the Python peer).
    match refused.attr_value("share") {
        Some(Value::DoubleValue(share)) => {
            assert_eq!(share.to_bits(), (1.0_f64 / 3.0).to_bits());
        }
        other => panic!("share: {other:?}"),
    }
}

// ------------------------------------------------------------- metrics

/// The bounds configured for `request_duration_seconds`.
pub const BOUNDS: [f64; 4] = [0.005, 0.05, 0.5, 5.0];
/// One request span each: `(n, seconds taken, bytes answered)`. The
/// durations fall in buckets 0, 1, 2 and the overflow bucket 4.
pub const REQUESTS: [(i64, f64, u64); 4] = [
    (0, 0.001, 100),
    (1, 0.02, 200),
    (2, 0.3, 300),
    (3, 7.0, 400),
];
/// How far an exemplar's time may stray outside its span: OTLP times are
/// nanoseconds, but tracelink keeps an exemplar's as f64 seconds.
pub const SLACK_NANOS: u64 = 1_000_000;

/// tracelink named `checkout` pushing metrics (and sending spans) to
/// `endpoint` over `protocol` on the tests' flushes and at shutdown, with
/// [`BOUNDS`] for `request_duration_seconds` and no log lines; `extra` on
/// top (a variable given there wins).
pub fn build_metrics(endpoint: &str, protocol: &str, extra: &[(&str, &str)]) -> tracelink::Parts {
    let environment = format!("deployment.environment.name={ENVIRONMENT}");
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_METRICS_EXPORTER", "otlp"),
        // Pushed by the tests' flushes, and at shutdown.
        ("OTEL_METRIC_EXPORT_INTERVAL", "3600000"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("TRACELINK_LOG_FORMAT", "none"),
        ("OTEL_RESOURCE_ATTRIBUTES", environment.as_str()),
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

/// The metrics workload: two counters, a histogram and a gauge, each sample
/// inside a sampled span ([`REQUESTS`], one `request` span each with its
/// `n`; `drain` for the gauge).
pub fn metric_workload(parts: &tracelink::Parts) {
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

/// One batch of the delta tests, inside a `batch` span with its `n`:
/// `jobs_total` counts `n`, `request_duration_seconds` records `n`
/// hundredths of a second.
pub fn record_batch(parts: &tracelink::Parts, n: u32) {
    let dispatch = dispatch_with_logs(parts);
    metrics::with_local_recorder(parts.metrics_recorder(), || {
        tracing::dispatcher::with_default(&dispatch, || {
            tracing::info_span!("batch", n).in_scope(|| {
                metrics::counter!("jobs_total").increment(u64::from(n));
                metrics::histogram!("request_duration_seconds").record(0.01 * f64::from(n));
            });
        });
    });
}

/// The two batches of the delta tests, each pushed by a flush: 3 then 2
/// ([`record_batch`]).
pub fn push_two_batches(parts: &tracelink::Parts) {
    record_batch(parts, 3);
    parts.guard().flush().expect("the first push");
    record_batch(parts, 2);
    parts.guard().flush().expect("the second push");
}

/// Pushes what `parts` recorded (a flush, then the shutdown's push: two
/// pushes in all) and checks none of it failed.
pub fn push_metrics(parts: tracelink::Parts) {
    let guard = parts.into_guard();
    guard.flush().expect("a clean flush");
    let stats = guard.stats().metric_points();
    assert!(stats.exported() >= 4 && stats.failed() == 0, "{stats:?}");
    guard.shutdown().expect("a clean shutdown");
}

/// Every metric named `name` `peer` decoded, in arrival order, once at
/// least `n` have been read back (or [`WAIT`] passed: assert on the length).
pub fn named(peer: &Inboxes, name: &str, n: usize) -> Vec<ReceivedMetric> {
    let deadline = Instant::now() + WAIT;
    loop {
        let found: Vec<_> = peer
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
pub fn sorted(attributes: &[KeyValue]) -> Vec<KeyValue> {
    let mut attributes = attributes.to_vec();
    attributes.sort_by(|a, b| a.key.cmp(&b.key));
    attributes
}

/// An OTLP string value.
pub fn text(value: &str) -> Value {
    Value::StringValue(value.into())
}

/// The span an exemplar names, among those the peer received; checks the
/// exemplar was taken while that sampled span was open.
pub fn span_of<'a>(exemplar: &ReceivedExemplar, spans: &'a [ReceivedSpan]) -> &'a ReceivedSpan {
    assert_eq!(exemplar.trace_id.len(), 32, "{exemplar:?}");
    assert_eq!(exemplar.span_id.len(), 16, "{exemplar:?}");
    let found: Vec<_> = spans.iter().filter(|s| exemplar.names(s)).collect();
    assert_eq!(
        found.len(),
        1,
        "{exemplar:?} names no span (or several) the peer received: {spans:#?}"
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
pub fn request_of(exemplar: &ReceivedExemplar, spans: &[ReceivedSpan]) -> i64 {
    let span = span_of(exemplar, spans);
    assert_eq!(span.name(), "request", "{exemplar:?}");
    span.int_attr("n").expect("the span's n, an int")
}

/// Checks what `peer` decoded of [`metric_workload`], run in `window` and
/// pushed by [`push_metrics`] over `protocol`: the requests came by
/// `transport`, gzipped exactly when `gzip` says; every metric carries the
/// spans' resource and every exemplar names a span `peer` got, taken in it;
/// each metric by protobuf type and value, never by text.
pub fn check_metrics<P: Peer>(
    peer: &P,
    window: Window,
    protocol: &str,
    transport: Transport,
    gzip: bool,
) {
    // Two pushes: the flush, the shutdown.
    let orders_pushes = named(peer, "orders_total", 2);
    let spans = peer.wait_for_spans(REQUESTS.len() + 1, WAIT);
    check_wire(peer, &peer.metrics_requests(), protocol, transport, gzip);
    assert_eq!(spans.len(), REQUESTS.len() + 1, "{spans:#?}");

    // Every metric of every push: the spans' resource.
    let resource = sorted(&spans[0].resource);
    assert!(spans.iter().all(|s| sorted(&s.resource) == resource));
    for metric in peer.metrics() {
        assert_eq!(sorted(&metric.resource), resource, "{}", metric.name());
        assert_eq!(
            metric.resource_attr("service.name").as_deref(),
            Some("checkout")
        );
        assert_eq!(
            metric
                .resource_attr("deployment.environment.name")
                .as_deref(),
            Some(ENVIRONMENT)
        );
        // Every exemplar names a span the peer got, and was taken in it.
        for exemplar in metric.exemplars() {
            span_of(&exemplar, &spans);
        }
        assert!(metric.exemplars_without_span(&spans).is_empty());
    }
    for name in ["orders_total", "request_duration_seconds"] {
        assert!(peer.exemplars_without_span(name).is_empty(), "{name}");
    }

    check_counters(peer, &orders_pushes, &spans, window);
    check_histogram_and_gauge(peer, &spans);
}

/// The counters: monotonic cumulative Sums of ints, under the recorded key,
/// each with the exemplar of its latest sample (`orders_pushes`: every push
/// of `orders_total`).
fn check_counters(
    peer: &Inboxes,
    orders_pushes: &[ReceivedMetric],
    spans: &[ReceivedSpan],
    window: Window,
) {
    assert_eq!(orders_pushes.len(), 2, "{orders_pushes:#?}");
    let first_start = orders_pushes[0].points()[0].start_time_unix_nano;
    for orders in orders_pushes {
        assert_eq!(orders.kind(), MetricKind::Sum);
        assert!(orders.is_monotonic());
        assert_eq!(orders.temporality(), AggregationTemporality::Cumulative);
        assert_eq!(orders.description(), "Orders placed.");
        assert_eq!(orders.unit(), "1");
        let points = orders.points();
        assert_eq!(points.len(), 1, "{points:?}");
        let point = &points[0];
        // The recorded key, not `http_request_method`; the value an int.
        let keys: Vec<&str> = point.attributes.iter().map(|kv| kv.key.as_str()).collect();
        assert_eq!(keys, ["http.request.method"]);
        assert_eq!(point.attr_value("http.request.method"), Some(&text("POST")));
        assert_eq!(point.value, Some(number_data_point::Value::AsInt(4)));
        // Cumulative: every push counts from the same start.
        assert_eq!(point.start_time_unix_nano, first_start);
        assert!(0 < first_start && first_start <= window.before, "{point:?}");
        assert!(point.time_unix_nano >= window.after, "{point:?}");
        // The latest sample's exemplar: the last request's increment.
        let exemplars = &point.exemplars;
        assert_eq!(exemplars.len(), 1, "{exemplars:?}");
        assert_eq!(exemplars[0].value, Some(exemplar::Value::AsInt(1)));
        assert_eq!(exemplars[0].number(), Some(1.0));
        assert_eq!(request_of(&exemplars[0], spans), 3);
        assert!(0 < exemplars[0].time_unix_nano);
        assert!(exemplars[0].time_unix_nano <= point.time_unix_nano);
    }
    assert!(
        orders_pushes[0].points()[0].time_unix_nano <= orders_pushes[1].points()[0].time_unix_nano
    );

    let bytes = peer
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
    assert_eq!(request_of(&point.exemplars[0], spans), 3);
}

/// The histogram (the configured bounds, a count a bucket, one exemplar a
/// non-empty bucket, each the duration recorded in its span) and the gauge
/// (a Gauge of doubles, no temporality).
fn check_histogram_and_gauge(peer: &Inboxes, spans: &[ReceivedSpan]) {
    let durations = peer
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
    assert_eq!(point.attr("route").as_deref(), Some("/pay"));
    assert_eq!(point.exemplars.len(), 4, "{point:?}");
    let mut seen: Vec<i64> = point
        .exemplars
        .iter()
        .map(|e| {
            let n = request_of(e, spans);
            let recorded = REQUESTS[usize::try_from(n).expect("n >= 0")].1;
            assert_eq!(e.value, Some(exemplar::Value::AsDouble(recorded)), "{e:?}");
            n
        })
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, [0, 1, 2, 3], "one exemplar a request");

    let depth = peer.metric("queue_depth").expect("the gauge");
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
    assert_eq!(points[0].as_double(), Some(7.5));
    assert!(points[0].attributes.is_empty(), "{points:?}");
}
