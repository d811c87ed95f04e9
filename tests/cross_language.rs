//! One trace across two languages: a Python service traced with the
//! OpenTelemetry Python SDK calls a tracelink axum service, which calls back
//! into Python.
//!
//! ```text
//! py checkout (Python, root)
//! └─ POST                 CLIENT  Python SDK, traceparent flags 03
//!    └─ POST /orders/{id} SERVER  tracelink ServerLayer
//!       └─ POST           CLIENT  tracelink send_traced
//!          └─ POST /callback SERVER  Python SDK
//! ```
//!
//! Both sides export to the same OTLP receiver (Python over OTLP/HTTP,
//! tracelink over gRPC), which must hold every span in one trace with those
//! parent links. The Python SDK (1.45, pinned in tests/tools/requirements.txt)
//! starts its traces with flags `03` (sampled + the W3C Level 2 random bit):
//! the test checks that Python really sent `03`, that tracelink continued
//! that trace rather than starting a new one, and that it passed `03` on.
//! The baggage Python sets comes back to Python through tracelink, and
//! tracelink's JSON log lines carry the trace id.
//!
//! The Python service is tests/tools/py_service.py, run with the venv of
//! `scripts/install-test-deps.sh` (target/test-venv); CI runs that script
//! first. It listens on a free port of 127.0.0.1 and is killed by its pid
//! (and reaped) when the test ends, passing or failing.

#![cfg(all(feature = "tower", feature = "reqwest"))]

mod support;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use axum::extract::{MatchedPath, Path as UrlPath, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use serde_json::{json, Value};
use support::{Capture, ReceivedSpan, Receiver};
use tracelink::http::{RequestBuilderExt, ServerLayer};
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(30);
const PY_SERVICE: &str = "py-shop";
const RUST_SERVICE: &str = "rust-orders";
/// `traceparent` flags: sampled (01) and random trace id (02).
const FLAGS_03: &str = "03";

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's python, which `scripts/install-test-deps.sh` makes.
fn venv_python() -> PathBuf {
    let python = manifest_dir().join("target/test-venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `bash scripts/install-test-deps.sh` first (CI runs it before \
         `cargo test`); it installs the OpenTelemetry Python SDK this test talks to",
        python.display()
    );
    python
}

/// tests/tools/py_service.py, running; killed by pid and reaped on drop.
struct PyService {
    child: Child,
    port: u16,
    /// What it wrote on stderr so far, for failure messages.
    stderr: Arc<Mutex<String>>,
}

impl PyService {
    /// Starts it, exporting to `otlp_traces_url`; returns once it listens.
    fn start(otlp_traces_url: &str) -> Self {
        let python = venv_python();
        let mut command = Command::new(&python);
        command
            .arg(manifest_dir().join("tests/tools/py_service.py"))
            .args(["--otlp-endpoint", otlp_traces_url])
            .args(["--service-name", PY_SERVICE])
            // It exits when its stdin closes: never an orphan, even if this
            // process dies without running destructors.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Only the command line configures it.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("OTEL_") {
                command.env_remove(name);
            }
        }
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        // From here on, a panic kills it.
        let mut service = PyService {
            child,
            port: 0,
            stderr: Arc::new(Mutex::new(String::new())),
        };
        let collected = service.stderr.clone();
        std::thread::spawn(move || {
            let mut stderr = stderr;
            let mut buffer = [0u8; 4096];
            while let Ok(n @ 1..) = stderr.read(&mut buffer) {
                collected
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .push_str(&String::from_utf8_lossy(&buffer[..n]));
            }
        });
        let (lines, ready) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                // Nobody may listen any more: keep draining all the same.
                let _ = lines.send(line);
            }
        });
        let line = ready.recv_timeout(WAIT).unwrap_or_else(|_| {
            panic!(
                "py_service.py did not say its port within {WAIT:?}; stderr:\n{}",
                service.stderr()
            )
        });
        let ready: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("py_service.py printed {line:?} ({e})"));
        service.port = ready["port"]
            .as_u64()
            .and_then(|p| p.try_into().ok())
            .expect("a port");
        service
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for PyService {
    fn drop(&mut self) {
        // By pid (SIGKILL), then reaped: no zombie, whatever the outcome.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The tracelink service: `POST /orders/{id}` calls Python's `/callback`
/// with `send_traced` and answers with what Python said.
#[derive(Clone)]
struct Orders {
    client: reqwest::Client,
    callback: String,
}

async fn order(
    State(orders): State<Orders>,
    UrlPath(id): UrlPath<u64>,
) -> (StatusCode, Json<Value>) {
    tracing::info!(order.id = id, "order received from python");
    let response = orders
        .client
        .post(&orders.callback)
        .json(&json!({ "order_id": id }))
        .send_traced()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            let body: Value = response.json().await.unwrap_or(Value::Null);
            tracing::info!(order.id = id, status, "python answered");
            (StatusCode::OK, Json(json!({ "callback": body })))
        }
        Err(error) => {
            tracing::error!(order.id = id, %error, "python callback failed");
            (
                StatusCode::BAD_GATEWAY,
                Json(json!({ "error": error.to_string() })),
            )
        }
    }
}

fn app(callback: String) -> Router {
    let orders = Orders {
        client: reqwest::Client::new(),
        callback,
    };
    Router::new()
        .route("/orders/{id}", post(order))
        .with_state(orders)
        .layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
}

fn span_by_id<'a>(spans: &'a [ReceivedSpan], span_id: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.span_id() == span_id)
        .unwrap_or_else(|| panic!("no span {span_id} among {:#?}", summary(spans)))
}

fn summary(spans: &[ReceivedSpan]) -> Vec<String> {
    spans
        .iter()
        .map(|s| {
            format!(
                "{} {} {:?} {} parent {:?}",
                s.resource_attr("service.name").unwrap_or_default(),
                s.name(),
                s.kind(),
                s.span_id(),
                s.parent_span_id()
            )
        })
        .collect()
}

/// The one span of `service` with this kind.
fn only<'a>(spans: &'a [ReceivedSpan], service: &str, kind: SpanKind) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.resource_attr("service.name").as_deref() == Some(service) && s.kind() == kind)
        .collect();
    assert_eq!(found.len(), 1, "{service} {kind:?}: {:#?}", summary(spans));
    found[0]
}

/// The fields of a version-00 `traceparent`: trace id, parent id, flags.
fn fields(traceparent: &str) -> (&str, &str, &str) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00", "{traceparent}");
    (parts[1], parts[2], parts[3])
}

#[test]
fn python_and_rust_spans_form_one_trace() {
    let receiver = Receiver::start();
    let python = PyService::start(&format!("{}/v1/traces", receiver.http_endpoint()));

    let capture = Capture::default();
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ])
        .with_service_name(RUST_SERVICE)
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_shutdown_timeout(WAIT)
        .build()
        .expect("tracelink builds");
    opentelemetry::global::set_text_map_propagator(parts.propagator());
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer())
            .with(parts.log_layer()),
    );

    // The axum server and the call into Python share one thread, inside
    // tracelink's subscriber.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let started: Value = tracing::dispatcher::with_default(&dispatch, || {
        let started = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let port = listener.local_addr().expect("address").port();
            let app = app(python.url("/callback"));
            tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
            let response = reqwest::Client::new()
                .post(python.url("/start"))
                .json(&json!({
                    "url": format!("http://127.0.0.1:{port}/orders/42"),
                    "baggage": { "order.id": "42" },
                }))
                .timeout(WAIT)
                .send()
                .await
                .unwrap_or_else(|e| panic!("POST /start: {e}\n{}", python.stderr()));
            assert_eq!(response.status(), 200, "{}", python.stderr());
            response.json::<Value>().await.expect("JSON from /start")
        });
        // The server's task ends here, inside the subscriber.
        drop(runtime);
        started
    });
    println!("python /start answered {started:#}");

    // What Python sent: its own trace, flags 03.
    let trace_id = started["trace_id"].as_str().expect("trace_id").to_owned();
    let sent = started["traceparent"]
        .as_str()
        .expect("the traceparent Python sent");
    assert_eq!(
        fields(sent),
        (
            trace_id.as_str(),
            started["client_span_id"].as_str().expect("client_span_id"),
            FLAGS_03
        ),
        "the Python SDK sends 03 (sampled + random trace id); if an upgrade of \
         tests/tools/requirements.txt changed that, make py_service.py send 03 itself"
    );
    assert_eq!(started["status"], 200, "{started:#}");

    // What Python's callback received from tracelink: the same trace, still 03,
    // and the baggage Python set at the start.
    let callback = &started["body"]["callback"];
    let received = callback["traceparent"]
        .as_str()
        .expect("a traceparent reached Python");
    let (received_trace, rust_client_id, received_flags) = fields(received);
    assert_eq!(received_trace, trace_id, "{callback:#}");
    assert_eq!(
        received_flags, FLAGS_03,
        "tracelink dropped the random bit: {received}"
    );
    assert_eq!(callback["trace_id"], trace_id.as_str(), "{callback:#}");
    assert_eq!(callback["parent_span_id"], rust_client_id, "{callback:#}");
    assert_eq!(
        callback["baggage"],
        json!({ "order.id": "42" }),
        "{callback:#}"
    );

    // Every span at the receiver: three from Python, two from tracelink.
    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(5, WAIT);
    assert_eq!(
        spans.len(),
        5,
        "{:#?}\n{}",
        summary(&spans),
        python.stderr()
    );
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
    for span in &spans {
        assert_eq!(span.trace_id(), trace_id, "{:#?}", summary(&spans));
        // tracelink exports the trace flags in the low byte of the span's
        // flags: 03, kept from Python's traceparent. (Python's exporter
        // writes only the parent-is-remote bits there.)
        if span.resource_attr("service.name").as_deref() == Some(RUST_SERVICE) {
            assert_eq!(
                span.span.flags & 0xff,
                0x03,
                "{} {}: flags {:#x}",
                span.name(),
                span.span_id(),
                span.span.flags
            );
        }
    }

    let py_root = only(&spans, PY_SERVICE, SpanKind::Internal);
    let py_client = only(&spans, PY_SERVICE, SpanKind::Client);
    let rust_server = only(&spans, RUST_SERVICE, SpanKind::Server);
    let rust_client = only(&spans, RUST_SERVICE, SpanKind::Client);
    let py_server = only(&spans, PY_SERVICE, SpanKind::Server);

    // Python client → Rust server → Rust client → Python server.
    assert_eq!(py_root.name(), "py checkout");
    assert_eq!(
        py_root.span_id(),
        started["root_span_id"].as_str().expect("root")
    );
    assert_eq!(py_root.parent_span_id(), None);
    assert_eq!(py_client.parent_span_id(), Some(py_root.span_id()));
    assert_eq!(
        rust_server.parent_span_id(),
        Some(py_client.span_id()),
        "tracelink did not continue Python's 03 trace"
    );
    assert_eq!(rust_server.name(), "POST /orders/{id}");
    assert_eq!(rust_client.parent_span_id(), Some(rust_server.span_id()));
    assert_eq!(rust_client.span_id(), rust_client_id);
    assert_eq!(py_server.parent_span_id(), Some(rust_client.span_id()));
    assert_eq!(
        py_server.span_id(),
        callback["span_id"].as_str().expect("span_id")
    );
    assert_eq!(span_by_id(&spans, &py_client.span_id()).name(), "POST");

    // tracelink's JSON log lines carry the trace and the SERVER span's id.
    let text = capture.text();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    for message in ["order received from python", "python answered"] {
        let line = lines
            .iter()
            .find(|l| l["message"] == message)
            .unwrap_or_else(|| panic!("no log line {message:?} in\n{text}"));
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
        assert_eq!(line["span_id"], rust_server.span_id().as_str(), "{line}");
        assert_eq!(line["order.id"], 42, "{line}");
    }

    parts.into_guard().shutdown().expect("clean shutdown");
    drop(python);
}
