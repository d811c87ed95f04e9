//! With `TRACELINK_LOG_NON_BLOCKING=true`, lines are written from a background
//! thread; dropping the guard must write out every buffered line, and when
//! stdout stalls, every line must be written whole or counted, and
//! `shutdown()` must say how many were lost.
//!
//! The tests run themselves as a child process (stdout can only be captured
//! from outside), which installs tracelink globally, logs, and exits.

mod support;

const LINES: usize = 20_000;

fn child() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_NON_BLOCKING", "true"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
        ])
        .init()
        .expect("init");
    let span = tracing::info_span!("batch");
    let entered = span.enter();
    for i in 0..LINES {
        tracing::info!(i, "line");
    }
    drop(entered);
    guard.flush().expect("every line is written");
    assert_eq!(guard.stats().log_lines().lost(), 0);
    assert_eq!(guard.stats().log_lines().written(), LINES as u64);
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

const STALLED_LINES: u64 = 200_000;

/// Logs into a stdout nobody reads, shuts down, reports on stderr, and exits
/// at once (libtest would otherwise block writing its result to the pipe).
fn stalled_child() {
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_NON_BLOCKING", "true"),
            ("TRACELINK_SHUTDOWN_TIMEOUT", "300"),
            ("OTEL_EXPORTER_PROMETHEUS_PORT", "0"),
        ])
        .init()
        .expect("init");
    let span = tracing::info_span!("batch");
    let entered = span.enter();
    for i in 0..STALLED_LINES {
        tracing::info!(
            i,
            padding = "a line of ordinary length, as a service writes",
            "line"
        );
    }
    drop(entered);
    let before = guard.stats().log_lines();
    let error = guard.shutdown().err().map(|e| e.to_string());
    eprintln!(
        "SUMMARY {}",
        serde_json::json!({
            "dropped_before_shutdown": before.dropped(),
            "error": error,
        })
    );
    std::process::exit(0);
}

#[test]
fn a_stalled_stdout_loses_no_line_uncounted() {
    use std::io::Read;
    if support::in_child() {
        stalled_child();
        return;
    }
    let name = "a_stalled_stdout_loses_no_line_uncounted";
    let mut child = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(support::CHILD_TEST, name)
        .env_remove("RUST_LOG")
        .env_remove("OTEL_LOG_LEVEL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the child runs");
    // Nobody reads stdout until the child has exited: its pipe fills and
    // stays full, as behind a stalled log shipper.
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut stderr)
        .expect("stderr");
    let status = child.wait().expect("the child exits");
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .expect("piped")
        .read_to_end(&mut stdout)
        .expect("stdout");
    assert!(status.success(), "{status}: {stderr}");

    let summary: serde_json::Value = stderr
        .lines()
        .find_map(|line| line.strip_prefix("SUMMARY "))
        .and_then(|json| serde_json::from_str(json).ok())
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    let error = summary["error"]
        .as_str()
        .expect("shutdown reports the loss");
    // "N log lines were not written: D dropped (...), F failed (... ran out: U)"
    let numbers: Vec<u64> = error
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    let (lost, dropped, failed) = (numbers[0], numbers[1], numbers[2]);
    assert_eq!(lost, dropped + failed, "{error}");
    assert!(error.contains("log lines were not written"), "{error}");
    assert!(
        dropped >= summary["dropped_before_shutdown"].as_u64().expect("count"),
        "{summary}"
    );
    assert!(
        failed > 0,
        "lines were still buffered at the deadline: {error}"
    );

    // Past libtest's own `running 1 test` and `test NAME ... `, nothing but
    // whole JSON lines reached stdout, and each of them is counted as written.
    let text = String::from_utf8(stdout).expect("UTF-8");
    let json = &text[text.find('{').expect("some lines were written")..];
    let mut written = 0;
    let mut last = None;
    for line in json.lines() {
        let value: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("a torn or foreign line ({e}): {line:?}"));
        let i = value["i"].as_u64().expect("i");
        assert!(last < Some(i), "in order");
        last = Some(i);
        written += 1;
    }
    assert!(text.ends_with('\n'), "the last line is whole");
    assert_eq!(
        written + dropped + failed,
        STALLED_LINES,
        "every line is written or counted: {written} written, {error}"
    );
}
