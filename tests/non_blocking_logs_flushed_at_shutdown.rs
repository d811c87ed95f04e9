//! With `TRACELINK_LOG_NON_BLOCKING=true`, lines are written from a background
//! thread; dropping the guard must write out every buffered line.
//!
//! The test runs itself as a child process (stdout can only be captured from
//! outside), which installs tracelink globally, logs, and exits.

use std::process::Command;

const LINES: usize = 20_000;
const CHILD: &str = "TRACELINK_TEST_NON_BLOCKING_CHILD";

fn child() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_NON_BLOCKING", "true"),
        ])
        .init()
        .expect("init");
    let span = tracing::info_span!("batch");
    let _entered = span.enter();
    for i in 0..LINES {
        tracing::info!(i, "line");
    }
    drop(_entered);
    assert_eq!(guard.dropped_log_lines(), 0);
    drop(guard);
}

#[test]
fn every_line_is_written_before_exit() {
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    let output = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "every_line_is_written_before_exit",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .output()
        .expect("child runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    // libtest prints `test NAME ... ` without a newline before the child's first line.
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .filter_map(|line| line.find('{').map(|start| &line[start..]))
        .map(|line| serde_json::from_str(line).expect("every line parses"))
        .collect();
    assert_eq!(lines.len(), LINES);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["i"], i, "lines arrive whole and in order");
        assert_eq!(line["trace_id"].as_str().map(str::len), Some(32));
    }
}
