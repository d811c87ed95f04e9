//! With `TRACELINK_LOG_NON_BLOCKING=true`, lines are written from a background
//! thread; dropping the guard must write out every buffered line.
//!
//! The test runs itself as a child process (stdout can only be captured from
//! outside), which installs tracelink globally, logs, and exits.

mod support;

const LINES: usize = 20_000;

fn child() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_NON_BLOCKING", "true"),
        ])
        .init()
        .expect("init");
    let span = tracing::info_span!("batch");
    let entered = span.enter();
    for i in 0..LINES {
        tracing::info!(i, "line");
    }
    drop(entered);
    assert_eq!(guard.dropped_log_lines(), 0);
    drop(guard);
}

#[test]
fn every_line_is_written_before_exit() {
    if support::in_child() {
        child();
        return;
    }
    let output = support::rerun("every_line_is_written_before_exit", &[]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines = support::json_lines(&output);
    assert_eq!(lines.len(), LINES);
    for (i, line) in lines.iter().enumerate() {
        assert_eq!(line["i"], i, "lines arrive whole and in order");
        assert_eq!(line["trace_id"].as_str().map(str::len), Some(32));
    }
}
