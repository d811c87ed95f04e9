//! OTLP over TLS to a receiver nobody here wrote: Python's `grpcio` with
//! `ssl_server_credentials` for gRPC and `ssl` for HTTP, decoding with the
//! official OTLP protos (tests/tools/otlp_tls_receiver.py, run with the venv
//! of `scripts/install-test-deps.sh`). Spans arrive over https on both
//! protocols with the CA given by `OTEL_EXPORTER_OTLP_CERTIFICATE`, their
//! attributes with their types; with mTLS required, no client certificate is
//! refused and counted, the right one accepted.

mod support;
#[path = "support/tls.rs"]
mod tls;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use tls::{Pki, ServerCert};

/// The Python receiver, stopped (by closing its stdin, then by its process
/// id) when dropped.
struct PyReceiver {
    child: Child,
    stdin: Option<ChildStdin>,
    grpc: u16,
    http: u16,
    spans: mpsc::Receiver<serde_json::Value>,
}

impl PyReceiver {
    fn start(pki: &Pki, require_client: bool) -> Self {
        let python = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/test-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run scripts/install-test-deps.sh",
            python.display()
        );
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/tools/otlp_tls_receiver.py");
        let mut command = Command::new(python);
        command
            .arg(script)
            .arg("--cert")
            .arg(&pki.server_cert)
            .arg("--key")
            .arg(&pki.server_key);
        if require_client {
            command.arg("--client-ca").arg(&pki.ca);
        }
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python runs");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let ports: serde_json::Value = lines
            .next()
            .and_then(Result::ok)
            .and_then(|line| serde_json::from_str(&line).ok())
            .expect("the receiver prints its ports");
        let (tx, spans) = mpsc::channel();
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    if tx.send(value).is_err() {
                        return;
                    }
                }
            }
        });
        let port = |name: &str| {
            ports[name]
                .as_u64()
                .and_then(|p| u16::try_from(p).ok())
                .expect("port")
        };
        Self {
            grpc: port("grpc"),
            http: port("http"),
            child,
            stdin,
            spans,
        }
    }

    fn endpoint(&self, protocol: &str) -> String {
        let port = if protocol == "grpc" {
            self.grpc
        } else {
            self.http
        };
        format!("https://localhost:{port}")
    }
}

impl Drop for PyReceiver {
    fn drop(&mut self) {
        drop(self.stdin.take());
        if self.child.try_wait().ok().flatten().is_none() {
            std::thread::sleep(Duration::from_millis(200));
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
    }
}

/// Sends one span with typed attributes; returns the span stats.
fn send(endpoint: &str, protocol: &str, env: &[(&str, String)]) -> tracelink::trace::ExportStats {
    let mut vars: Vec<(&str, String)> = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.to_owned()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000".to_owned()),
        ("TRACELINK_LOG_FORMAT", "none".to_owned()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
    ];
    vars.extend(env.iter().cloned());
    let parts = tracelink::builder()
        .with_env(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .with_service_name("tls-python")
        .build()
        .expect("tracelink builds");
    assert!(
        parts.config().warnings().is_empty(),
        "{:?}",
        parts.config().warnings()
    );
    let dispatch = support::dispatch(&parts);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!(
            "to python",
            http.response.status_code = 200u16,
            ratio = 0.5,
            cached = true,
            region = "eu"
        );
        drop(span.enter());
    });
    drop(dispatch);
    let _ = parts.guard().flush();
    parts.guard().stats().spans()
}

#[test]
fn python_receives_spans_over_tls_with_their_types() {
    let pki = Pki::new("python", ServerCert::Valid);
    let receiver = PyReceiver::start(&pki, false);
    for protocol in ["grpc", "http/protobuf"] {
        let stats = send(
            &receiver.endpoint(protocol),
            protocol,
            &[(
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                pki.ca.display().to_string(),
            )],
        );
        assert_eq!(stats.exported(), 1, "{protocol}: {stats:?}");
        let span = receiver
            .spans
            .recv_timeout(Duration::from_secs(10))
            .expect("python received the span");
        let transport = if protocol == "grpc" { "grpc" } else { "http" };
        assert_eq!(span["transport"], transport);
        assert_eq!(span["name"], "to python");
        let attributes = &span["attributes"];
        assert_eq!(
            attributes["http.response.status_code"],
            serde_json::json!(["int_value", 200])
        );
        assert_eq!(
            attributes["ratio"],
            serde_json::json!(["double_value", 0.5])
        );
        assert_eq!(
            attributes["cached"],
            serde_json::json!(["bool_value", true])
        );
        assert_eq!(
            attributes["region"],
            serde_json::json!(["string_value", "eu"])
        );
    }
}

#[test]
fn python_with_mtls_refuses_no_client_certificate_and_accepts_the_right_one() {
    let pki = Pki::new("python-mtls", ServerCert::Valid);
    let receiver = PyReceiver::start(&pki, true);
    let ca = (
        "OTEL_EXPORTER_OTLP_CERTIFICATE",
        pki.ca.display().to_string(),
    );
    for protocol in ["grpc", "http/protobuf"] {
        let stats = send(
            &receiver.endpoint(protocol),
            protocol,
            std::slice::from_ref(&ca),
        );
        assert_eq!(
            (stats.exported(), stats.failed()),
            (0, 1),
            "{protocol}: refused, counted"
        );
        let stats = send(
            &receiver.endpoint(protocol),
            protocol,
            &[
                ca.clone(),
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    pki.client_cert.display().to_string(),
                ),
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_KEY",
                    pki.client_key.display().to_string(),
                ),
            ],
        );
        assert_eq!(stats.exported(), 1, "{protocol}: accepted");
        let span = receiver
            .spans
            .recv_timeout(Duration::from_secs(10))
            .expect("python received the span");
        assert_eq!(span["name"], "to python");
    }
    assert!(
        receiver.spans.try_recv().is_err(),
        "nothing arrived without the certificate"
    );
}
