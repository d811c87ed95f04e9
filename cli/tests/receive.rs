//! `tracelink receive` fills the store from other processes: a trace begun
//! by the OpenTelemetry Python SDK (OTLP/HTTP) and continued by a tracelink
//! service (the `file` exporter, its parent from the Python side's
//! traceparent) shows as one tree in `tracelink show`; a tracelink service
//! exporting OTLP/gRPC with gzip lands there too; OTLP/JSON is refused with
//! a message saying what to send instead.
//!
//! Every process listens on a free port of 127.0.0.1 and is killed by its
//! PID when the test ends, failed or not. The Python SDK comes from the
//! venv `scripts/install-test-deps.sh` makes at `target/test-venv`.

mod support;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use opentelemetry::trace::TraceContextExt;
use support::*;
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(20);

/// A tracelink service from `builder`, without JSON logs, and a dispatch
/// with its filter and its OpenTelemetry layer.
fn service(builder: tracelink::Builder) -> (tracelink::Parts, tracing::Dispatch) {
    let parts = builder
        .with_json_logs(false)
        .build()
        .expect("tracelink builds");
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer()),
    );
    (parts, dispatch)
}

/// The Rust side: a tracelink service writing to the store with the `file`
/// exporter, its SERVER span's parent taken from `traceparent`.
fn continue_in_rust(store: &Path, traceparent: &str) {
    let (parts, dispatch) = service(
        tracelink::builder()
            .with_env([
                ("OTEL_SERVICE_NAME", "rust-backend"),
                ("OTEL_TRACES_EXPORTER", "none"),
                ("OTEL_METRICS_EXPORTER", "none"),
            ])
            .with_traces_file(store),
    );
    let carrier = HashMap::from([("traceparent".to_owned(), traceparent.to_owned())]);
    let parent = parts.propagator().extract(&carrier);
    assert!(
        parent.span().span_context().is_remote(),
        "{traceparent} parses"
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let server =
            tracing::info_span!("POST /orders", otel.kind = "server", http.route = "/orders");
        server
            .set_parent(parent)
            .expect("the parent is set before the span starts");
        server.in_scope(|| {
            tracing::info_span!(
                "INSERT orders",
                otel.kind = "client",
                db.system.name = "postgresql"
            )
            .in_scope(|| {});
        });
    });
    parts
        .into_guard()
        .shutdown()
        .expect("the spans are written");
}

#[test]
fn a_trace_from_python_and_rust_is_one_tree() {
    let dir = TempDir::new("receive-python");
    let store = dir.path("store/traces.jsonl");
    let receiver = Receiver::start(&store);

    let output = Killed(
        Command::new(python())
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tools/send_trace.py"))
            .arg(format!("http://{}/v1/traces", receiver.http))
            .env_clear()
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python starts"),
    );
    let mut stdout = String::new();
    let mut process = output;
    process
        .0
        .stdout
        .take()
        .expect("piped stdout")
        .read_to_string(&mut stdout)
        .expect("python's stdout");
    let status = process.0.wait().expect("python ends");
    assert!(status.success(), "python failed: {status}");
    let traceparent = stdout.trim().to_owned();
    let fields: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(fields.len(), 4, "a traceparent: {traceparent:?}");
    let trace_id = fields[1];

    continue_in_rust(&store, &traceparent);

    let run = run(tracelink()
        .arg("show")
        .arg(trace_id)
        .arg("--store")
        .arg(&store)
        .arg(WIDE));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let rows = rows(&run.stdout);
    let tree: Vec<(usize, &str, &str)> = rows
        .iter()
        .map(|r| (r.depth(), r.name(), r.service.as_str()))
        .collect();
    assert_eq!(
        tree,
        [
            (0, "GET /checkout", "py-frontend"),
            (1, "POST", "py-frontend"),
            (2, "POST /orders", "rust-backend"),
            (3, "INSERT orders", "rust-backend"),
        ],
        "one tree, each span under its parent"
    );
    assert!(!run.stdout.contains('⚠'), "no span lacks its parent");
    assert!(run
        .stdout
        .contains("4 spans · 2 services (py-frontend, rust-backend)"));
    let client = details(&run.stdout, "POST").join("\n");
    assert!(
        client.contains("url.full=http://backend/orders"),
        "{client}"
    );
    // The Rust server span's parent is the Python client span, by id.
    assert!(run.stdout.contains(&format!("trace {trace_id}")));
    let lines = std::fs::read_to_string(&store).unwrap();
    let parent_id = fields[2];
    let rust_line = lines
        .lines()
        .find(|l| l.contains("rust-backend"))
        .expect("the Rust service's line");
    assert!(
        rust_line.contains(&format!(r#""parentSpanId":"{parent_id}""#)),
        "{rust_line}"
    );
}

#[test]
fn otlp_grpc_with_gzip_reaches_the_store() {
    let dir = TempDir::new("receive-grpc");
    let store = dir.path("traces.jsonl");
    let receiver = Receiver::start(&store);
    let endpoint = format!("http://{}", receiver.grpc);
    let (parts, dispatch) = service(tracelink::builder().with_env([
        ("OTEL_SERVICE_NAME", "grpc-service"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_METRICS_EXPORTER", "none"),
    ]));
    let trace_id = tracing::dispatcher::with_default(&dispatch, || {
        let job = tracing::info_span!("nightly job");
        let id = job.context().span().span_context().trace_id().to_string();
        job.in_scope(|| tracing::info_span!("step").in_scope(|| {}));
        id
    });
    let guard = parts.into_guard();
    guard.flush().expect("the receiver takes the spans");
    assert_eq!(guard.stats().spans().exported(), 2);
    guard.shutdown().expect("clean shutdown");

    let run = run(tracelink().args(["show", &trace_id, "--store"]).arg(&store));
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    let tree: Vec<(usize, String, String)> = rows(&run.stdout)
        .iter()
        .map(|r| (r.depth(), r.name().to_owned(), r.service.clone()))
        .collect();
    assert_eq!(
        tree,
        [
            (0, "nightly job".to_owned(), "grpc-service".to_owned()),
            (1, "step".to_owned(), "grpc-service".to_owned()),
        ]
    );
}

#[test]
fn otlp_json_is_refused_with_what_to_send_instead() {
    let dir = TempDir::new("receive-json");
    let receiver = Receiver::start(&dir.path("traces.jsonl"));
    let body = r#"{"resourceSpans":[]}"#;
    let mut stream = TcpStream::connect(receiver.http).expect("connects");
    stream.set_read_timeout(Some(WAIT)).unwrap();
    write!(
        stream,
        "POST /v1/traces HTTP/1.1\r\nhost: {}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n\r\n{body}",
        receiver.http,
        body.len()
    )
    .unwrap();
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("an answer");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 415"), "{answer}");
    assert!(
        answer.contains("OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf"),
        "{answer}"
    );
}
