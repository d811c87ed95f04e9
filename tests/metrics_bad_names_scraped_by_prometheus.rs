//! The three bad names of issue 13 (`counter!("")`, `counter!("_total")`, a
//! label with an empty key), with the other cases that made a strict parser
//! reject a whole body (a negative and an infinite observation, names that
//! clash across kinds), recorded through `init()`'s global recorder: Debian's
//! Prometheus 2.42 scrapes the `/metrics` listener (OpenMetrics) and the same
//! body in Prometheus text, both targets up with no lastError, every sample
//! of the valid series stored; the strict Python parser accepts the body.
//! Alone in its file: `init()` installs globals.
//!
//! Needs `scripts/install-test-deps.sh` (run by `scripts/test.sh`).

#[path = "support/prometheus.rs"]
mod prometheus;

use std::time::Duration;

#[test]
fn prometheus_scrapes_a_body_with_the_issues_bad_names() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_FORMAT", "none"),
            ("OTEL_LOG_LEVEL", "none"),
        ])
        .with_prometheus_listener("127.0.0.1", 0)
        .init()
        .expect("init");
    let address = guard.metrics_address().expect("/metrics is served");

    // Control characters are valid in a label value, and kept as recorded.
    let hostile = "quote\" backslash\\ newline\n cr\r nul\0 esc\u{1b} rtl\u{202e} nel\u{85}";
    metrics::counter!("").increment(1);
    metrics::counter!("_total").increment(1);
    metrics::counter!("jobs_total", "" => "x", "note" => hostile).increment(3);
    metrics::histogram!("offset_seconds").record(-0.5);
    metrics::histogram!("size_bytes").record(f64::INFINITY);
    metrics::counter!("x").increment(1);
    metrics::gauge!("x_total").set(1.0);
    metrics::histogram!("y").record(1.0);
    metrics::counter!("y_count").increment(1);

    let text = prometheus::http_get(address, "/metrics")
        .expect("GET /metrics")
        .body;
    // The Prometheus text body, served as such: Prometheus parses it with
    // its text parser (it would negotiate OpenMetrics from the listener).
    let fixture = prometheus::MetricsServer::fixed(prometheus::PROMETHEUS_TEXT_CONTENT_TYPE, &text);

    let prom = prometheus::Prometheus::start_scraping(&[address, fixture.addr()]);
    let targets = prom.wait_for_target_up(Duration::from_secs(30));
    for target in &targets {
        assert_eq!(target["health"], "up", "{target}");
        assert_eq!(target["lastError"], "", "{target}");
    }
    let (head, open) = get_openmetrics(address);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    prometheus::openmetrics_check(&open).unwrap_or_else(|e| panic!("{e}\n{open}"));
    prometheus::prometheus_text_check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for (query, instances) in [
        ("jobs_total", 2),
        ("offset_seconds_bucket", 24),
        ("size_bytes_sum", 2),
        ("x_total", 2),
        ("y_count", 2),
        (r#"tracelink_metrics_refused_total{reason="empty_name"}"#, 4),
        (r#"tracelink_metrics_refused_total{reason="name_clash"}"#, 4),
    ] {
        let result = wait_for_series(&prom, query, instances);
        if query == "jobs_total" {
            for series in &result {
                assert_eq!(series["metric"]["note"], hostile, "{series}");
                assert_eq!(series["metric"]["label_"], "x", "{series}");
                assert_eq!(series["value"][1], "3", "{series}");
            }
        }
    }
    drop(prom);
    guard.shutdown().expect("shutdown");
}

/// `GET /metrics` asking for OpenMetrics, as Prometheus does: (head, body).
fn get_openmetrics(address: std::net::SocketAddr) -> (String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: {}\r\nConnection: close\r\n\r\n",
        prometheus::OPENMETRICS_CONTENT_TYPE
    )
    .expect("write the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let (head, body) = response.split_once("\r\n\r\n").expect("a response");
    (head.to_owned(), body.to_owned())
}

/// Polls an instant query until it returns `series` series; returns them.
fn wait_for_series(
    prom: &prometheus::Prometheus,
    query: &str,
    series: usize,
) -> Vec<serde_json::Value> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let data = prom.query(query);
        let result = data["result"].as_array().cloned().unwrap_or_default();
        if result.len() == series {
            return result;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{query}: {} series, not {series}: {data}",
            result.len()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}
