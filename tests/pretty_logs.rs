//! `TRACELINK_LOG_FORMAT=pretty`: one human-readable line per event, with
//! the time of day, level, target, message, fields, the span and the start
//! of the trace id the span was exported under; no colour unless the output
//! is a terminal, and nothing a value holds can restyle the terminal.

mod support;

use std::time::Duration;

use support::{Capture, Receiver};
use tracing_subscriber::layer::SubscriberExt;

const WAIT: Duration = Duration::from_secs(10);

#[test]
fn pretty_lines_carry_fields_span_and_the_exported_trace() {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let endpoint = receiver.grpc_endpoint();
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_BSP_SCHEDULE_DELAY", "100"),
            ("TRACELINK_LOG_FORMAT", "pretty"),
        ])
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .build()
        .expect("builds");
    assert_eq!(
        parts.config().log_format(),
        tracelink::logs::LogFormat::Pretty
    );
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer())
            .with(parts.log_layer()),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("outside any span");
        tracing::info_span!("charge", order_id = 1, user = "ada lovelace").in_scope(|| {
            tracing::warn!(
                amount_cents = 2500_u64,
                ok = false,
                "payment \u{1b}[2Jdeclined"
            );
        });
    });
    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(1, WAIT);
    let text = capture.text();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    // A custom writer is never coloured; no line holds a control character.
    assert!(!text.contains('\u{1b}'), "{text:?}");

    let outside = lines[0];
    let (time, rest) = outside.split_once(' ').expect("time first");
    assert_time_of_day(time);
    assert_eq!(rest, " INFO pretty_logs: outside any span");

    let inside = lines[1];
    let (time, rest) = inside.split_once(' ').expect("time first");
    assert_time_of_day(time);
    let trace = &spans[0].trace_id()[..8];
    assert_eq!(
        rest,
        format!(
            " WARN pretty_logs: payment \\u{{1b}}[2Jdeclined amount_cents=2500 ok=false \
             in charge{{order_id=1 user=\"ada lovelace\"}} trace={trace}"
        )
    );
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// `09:30:00.123456Z`.
fn assert_time_of_day(time: &str) {
    let bytes = time.as_bytes();
    assert_eq!(bytes.len(), 16, "{time}");
    for (i, b) in bytes.iter().enumerate() {
        match i {
            2 | 5 => assert_eq!(*b, b':', "{time}"),
            8 => assert_eq!(*b, b'.', "{time}"),
            15 => assert_eq!(*b, b'Z', "{time}"),
            _ => assert!(b.is_ascii_digit(), "{time}"),
        }
    }
}

/// `init()` with `TRACELINK_LOG_FORMAT=pretty` on a stdout that is a pipe,
/// not a terminal: plain lines, no escapes.
#[test]
fn init_writes_plain_pretty_lines_to_a_pipe() {
    if support::in_child() {
        let _guard = tracelink::init().expect("init");
        tracing::info_span!("job", id = 3).in_scope(|| tracing::error!("failed"));
        return;
    }
    let output = support::rerun(
        "init_writes_plain_pretty_lines_to_a_pipe",
        &[
            ("TRACELINK_LOG_FORMAT", "pretty"),
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("utf-8");
    let line = stdout
        .lines()
        .find(|l| l.contains("failed"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(
        line.contains("ERROR pretty_logs: failed in job{id=3} trace="),
        "{line}"
    );
}
