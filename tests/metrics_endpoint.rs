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

    // The guard owns the listener's thread: shutting down stops it, and a
    // connection held open does not keep it alive.
    let held = std::net::TcpStream::connect(address).expect("a connection left open");
    assert!(
        threads().contains(&"tracelink-metri".to_owned()),
        "{:?}",
        threads()
    );
    guard.shutdown().expect("shutdown");
    assert!(
        !threads().contains(&"tracelink-metri".to_owned()),
        "{:?}",
        threads()
    );
    assert!(
        std::net::TcpStream::connect(address).is_err(),
        "nothing listens on {address} any more"
    );
    drop(held);
}

/// The names of this process's threads (Linux keeps 15 bytes of each).
fn threads() -> Vec<String> {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("comm")).ok())
        .map(|name| name.trim_end().to_owned())
        .collect()
}
