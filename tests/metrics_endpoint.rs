//! `init()` installs the recorder and serves `/metrics` with content
//! negotiation. Alone in its file: it installs globals.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

fn get(address: SocketAddr, path: &str, accept: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(address).expect("connect");
    let accept = accept
        .map(|a| format!("Accept: {a}\r\n"))
        .unwrap_or_default();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{accept}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    (head.to_owned(), body.to_owned())
}

#[test]
fn metrics_are_served_in_both_formats() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_FORMAT", "none"),
        ])
        .with_prometheus_listener("127.0.0.1", 0)
        .init()
        .expect("init");
    let address = guard.metrics_address().expect("listening");
    assert!(address.ip().is_loopback());

    metrics::describe_counter!("orders_total", "Orders placed.");
    tracing::info_span!("checkout").in_scope(|| {
        metrics::counter!("orders_total", "shop" => "main").increment(1);
    });

    let (head, body) = get(
        address,
        "/metrics",
        Some("application/openmetrics-text; version=1.0.0"),
    );
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text; version=1.0.0; charset=utf-8"),
        "{head}"
    );
    assert!(
        body.contains("orders_total{shop=\"main\"} 1 # {trace_id=\""),
        "{body}"
    );
    assert!(body.ends_with("# EOF\n"));

    let (head, body) = get(address, "/metrics", None);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(body.contains("orders_total{shop=\"main\"} 1\n"), "{body}");
    assert!(!body.contains("trace_id") && !body.contains("# EOF"));

    let (head, _) = get(address, "/other", None);
    assert!(head.starts_with("HTTP/1.1 404"), "{head}");

    guard.shutdown().expect("shutdown");
}
