//! With everything logged (`RUST_LOG=trace`) and a global subscriber, what the
//! export path itself logs (tonic, hyper, h2) becomes neither log lines nor
//! spans: otherwise every export would make spans to export, forever.
//! Alone in its file: it installs the global subscriber.

mod support;

use std::time::Duration;

use support::{Capture, Receiver};

#[test]
fn the_export_path_does_not_feed_back() {
    let receiver = Receiver::start();
    let lines = Capture::default();
    let guard = tracelink::builder()
        .with_env([
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.grpc_endpoint().as_str(),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ("RUST_LOG", "trace"),
        ])
        .with_log_writer(tracelink::logs::LogWriter::custom(lines.clone()))
        .init()
        .expect("init");

    tracing::info_span!("work").in_scope(|| tracing::info!("done"));
    guard.flush().expect("flush");
    // Several more export rounds: anything the export logged would be exported now.
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(100));
        guard.flush().expect("flush");
    }
    let spans = receiver.wait_for_spans(1, Duration::from_secs(5));
    let names: Vec<_> = spans.iter().map(|s| s.name().to_owned()).collect();
    assert_eq!(names, ["work"], "only the service's span is exported");

    let text = lines.text();
    let targets: Vec<String> = text
        .lines()
        .map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            v["target"].as_str().unwrap_or_default().to_owned()
        })
        .collect();
    assert!(!targets.is_empty());
    for target in &targets {
        let krate = target.split("::").next().unwrap();
        assert!(
            !["h2", "hyper", "hyper_util", "tonic", "tower"].contains(&krate),
            "the export path logged into the service: {target}"
        );
    }
    // The service's own hyper (or h2) events, on its own threads, still pass.
    tracing::info!(target: "hyper::client", "the service's own hyper");
    let text = lines.text();
    assert!(text.contains("the service's own hyper"));
    guard.shutdown().expect("shutdown");
}
