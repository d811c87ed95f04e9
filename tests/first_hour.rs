//! A service's first hour, in the settings production runs with: each test
//! runs this binary again as a child process that calls `tracelink::init()`
//! as a service's `main` does (globals can be set once per process), and
//! reads what the child printed and what the OTLP receiver got.
//!
//! - `RUST_LOG=warn`: the WARN and ERROR lines carry the ids of the INFO span
//!   they happen in, and that span is exported.
//! - `RUST_LOG=nonsense===`: lines at the default `info`, one warning.
//! - `let _ = tracelink::init()?`: one warning saying the guard was dropped.
//! - No collector, over gRPC and HTTP: the warning names the endpoint and
//!   suggests `OTEL_TRACES_EXPORTER=file`.
//! - A `Result`-returning function ending in each `tracelink::Error` prints
//!   the error's message, not its variant's fields; after an error nothing
//!   is installed.

mod support;

use std::process::Output;
use std::time::Duration;

use support::Receiver;

const WAIT: Duration = Duration::from_secs(10);
use support::{in_child, json_lines};

/// Runs test `name` as a child with `env`.
fn child(name: &str, env: &[(&str, &str)]) -> Output {
    support::rerun(name, env)
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn receiver_env(receiver: &Receiver) -> Vec<(&'static str, String)> {
    vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ("OTEL_BSP_SCHEDULE_DELAY", "100".into()),
        ("OTEL_METRICS_EXPORTER", "none".into()),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'a str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn at_rust_log_warn_the_error_line_links_to_its_exported_span() {
    if in_child() {
        let _guard = tracelink::init().expect("init");
        tracing::info_span!("checkout", order.id = 7).in_scope(|| {
            tracing::info!("not a line at warn");
            tracing::warn!("card retried");
            tracing::error!(code = 402, "payment declined");
        });
        return;
    }
    let receiver = Receiver::start();
    let mut env = receiver_env(&receiver);
    env.push(("RUST_LOG", "warn".into()));
    let output = child(
        "at_rust_log_warn_the_error_line_links_to_its_exported_span",
        &borrowed(&env),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    let messages: Vec<_> = lines.iter().map(|l| l["message"].clone()).collect();
    assert_eq!(messages, ["card retried", "payment declined"], "{lines:#?}");
    let spans = receiver.wait_for_spans(1, WAIT);
    assert_eq!(spans.len(), 1, "{spans:#?}");
    let checkout = &spans[0];
    assert_eq!(checkout.name(), "checkout");
    for line in &lines {
        assert_eq!(line["trace_id"], checkout.trace_id(), "{line}");
        assert_eq!(line["span_id"], checkout.span_id(), "{line}");
        assert_eq!(line["trace_flags"], checkout.trace_flags(), "{line}");
    }
    assert_eq!(lines[1]["level"], "ERROR");
}

#[test]
fn a_rust_log_without_a_valid_directive_logs_at_info_with_one_warning() {
    if in_child() {
        let _guard = tracelink::init().expect("init");
        tracing::info_span!("job").in_scope(|| {
            tracing::debug!("below the default");
            tracing::info!("at the default");
        });
        return;
    }
    let output = child(
        "a_rust_log_without_a_valid_directive_logs_at_info_with_one_warning",
        &[
            ("RUST_LOG", "nonsense==="),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0]["message"], "at the default");
    assert_eq!(lines[0]["level"], "INFO");
    let stderr = stderr(&output);
    let warnings: Vec<_> = stderr.lines().filter(|l| l.contains("RUST_LOG")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(warnings[0].contains("nonsense==="), "{stderr}");
    assert!(warnings[0].contains("info"), "names the default: {stderr}");
    // Nothing else about RUST_LOG, not even an unprefixed copy.
    assert!(!stderr.contains("using the valid directives"), "{stderr}");
}

#[test]
fn a_guard_dropped_at_once_is_one_warning_naming_the_fix() {
    if in_child() {
        let _ = tracelink::init().expect("init");
        for _ in 0..3 {
            tracing::info_span!("lost").in_scope(|| tracing::info!("still logged"));
        }
        return;
    }
    let receiver = Receiver::start();
    let env = receiver_env(&receiver);
    let output = child(
        "a_guard_dropped_at_once_is_one_warning_naming_the_fix",
        &borrowed(&env),
    );
    assert!(output.status.success(), "{}", stderr(&output));
    // The log lines still look perfect: the one place a user would not look.
    assert_eq!(json_lines(&output).len(), 3);
    let stderr = stderr(&output);
    let warnings: Vec<_> = stderr.lines().filter(|l| l.contains("Guard")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("let _guard = tracelink::init()?;"),
        "{stderr}"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(receiver.spans().len(), 0, "nothing was exported");
}

#[test]
fn no_exporter_is_no_loss_and_no_warning() {
    if in_child() {
        let guard = tracelink::init().expect("init");
        for _ in 0..3 {
            tracing::info_span!("kept local").in_scope(|| tracing::info!("logged"));
        }
        assert_eq!(
            guard.stats().spans().dropped(),
            0,
            "nothing to export is not a loss"
        );
        guard.shutdown().expect("clean shutdown");
        return;
    }
    let output = child(
        "no_exporter_is_no_loss_and_no_warning",
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let lines = json_lines(&output);
    assert_eq!(lines.len(), 3);
    // The ids are there all the same: the jump works without a collector.
    assert!(lines
        .iter()
        .all(|l| l["trace_id"].as_str().map(str::len) == Some(32)));
    let stderr = stderr(&output);
    assert!(!stderr.contains("Guard"), "{stderr}");
    assert!(!stderr.contains("lost"), "{stderr}");
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    support::free_port()
}

fn no_collector(protocol: &str, name: &str) {
    if in_child() {
        let guard = tracelink::init().expect("init");
        tracing::info_span!("nobody listens").in_scope(|| {});
        let shutdown = guard.shutdown();
        assert!(shutdown.is_err(), "the export failed: {shutdown:?}");
        return;
    }
    let endpoint = format!("http://127.0.0.1:{}", closed_port());
    let output = child(
        name,
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2000"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let stderr = stderr(&output);
    let failure = stderr
        .lines()
        .find(|l| l.contains("export to OTLP"))
        .unwrap_or_else(|| panic!("no export warning: {stderr}"));
    assert!(failure.contains(&endpoint), "names the endpoint: {failure}");
    assert!(
        failure.contains("OTEL_TRACES_EXPORTER=file"),
        "suggests the local store: {failure}"
    );
}

#[test]
fn no_collector_over_grpc_names_the_endpoint_and_the_local_store() {
    no_collector(
        "grpc",
        "no_collector_over_grpc_names_the_endpoint_and_the_local_store",
    );
}

#[test]
fn no_collector_over_http_names_the_endpoint_and_the_local_store() {
    no_collector(
        "http/protobuf",
        "no_collector_over_http_names_the_endpoint_and_the_local_store",
    );
}

/// Runs the child `name`, whose test function returns the error, and
/// checks that what it printed is `Error: ` and the error's message, as a
/// `main` returning it prints.
fn prints_the_message(name: &str, env: &[(&str, &str)], expected: &str) -> String {
    let output = child(name, env);
    assert!(!output.status.success(), "the child returned an error");
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        stderr(&output)
    );
    let line = printed
        .lines()
        .find(|l| l.starts_with("Error: "))
        .unwrap_or_else(|| panic!("no `Error: ` line: {printed}"));
    assert!(line.contains(expected), "{line}");
    // Not the variant's fields.
    for debug in [
        "AlreadyInitialized(",
        "MetricsRecorderAlreadySet",
        "InvalidConfig {",
    ] {
        assert!(!line.contains(debug), "{line}");
    }
    printed
}

#[test]
fn init_twice_prints_the_hint() -> Result<(), tracelink::Error> {
    if in_child() {
        let _first = tracelink::init()?;
        let _second = tracelink::init()?;
        return Ok(());
    }
    prints_the_message(
        "init_twice_prints_the_hint",
        &[
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
        "call tracelink::init() once",
    );
    Ok(())
}

#[test]
fn a_recorder_already_set_prints_the_hint_and_installs_nothing() -> Result<(), tracelink::Error> {
    if in_child() {
        let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
        metrics::set_global_recorder(recorder).expect("the service's own recorder");
        let refused = tracelink::init();
        // Nothing installed: the service can still set its own subscriber.
        assert!(!tracing::dispatcher::has_been_set());
        tracing_subscriber::fmt()
            .try_init()
            .expect("the subscriber slot is free");
        refused.map(drop)?;
        return Ok(());
    }
    let printed = prints_the_message(
        "a_recorder_already_set_prints_the_hint_and_installs_nothing",
        &[("OTEL_TRACES_EXPORTER", "none")],
        "Builder::with_metrics(false)",
    );
    assert!(
        !printed.contains("the subscriber slot is free"),
        "{printed}"
    );
    Ok(())
}

#[test]
fn an_invalid_setting_in_strict_mode_prints_the_variable() -> Result<(), tracelink::Error> {
    if in_child() {
        let _guard = tracelink::builder().with_strict_config(true).init()?;
        return Ok(());
    }
    prints_the_message(
        "an_invalid_setting_in_strict_mode_prints_the_variable",
        &[
            ("OTEL_TRACES_SAMPLER", "sometimes"),
            ("OTEL_TRACES_EXPORTER", "none"),
        ],
        "invalid OTEL_TRACES_SAMPLER=\"sometimes\"",
    );
    Ok(())
}

#[test]
fn an_exporter_that_cannot_be_built_prints_the_endpoint() -> Result<(), tracelink::Error> {
    if in_child() {
        let _guard = tracelink::builder().with_strict_config(true).init()?;
        return Ok(());
    }
    prints_the_message(
        "an_exporter_that_cannot_be_built_prints_the_endpoint",
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", "not a url")],
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    );
    Ok(())
}
