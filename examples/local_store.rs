//! Traces with no collector and no backend: the `file` exporters append spans
//! and log records to a local store (OTLP/JSON lines), and the `tracelink`
//! command draws a trace from it as a waterfall, each log record under the
//! span it was logged in.
//!
//! Run with
//!
//! ```text
//! cargo run --example local_store
//! ```
//!
//! It handles one request (a few spans, a slow query, a warning), writes the
//! spans and the log records to `traces.jsonl` in a new temporary directory
//! (the JSON lines still go to stdout), and exits. What to look at, on
//! stderr: the trace id and the command that draws it, such as
//!
//! ```text
//! cargo run -p tracelink-cli -- show 4bf92f3577b34da6a3ce929d0e0e4736 --store /tmp/tracelink-local-store-1234/traces.jsonl
//! ```
//!
//! Run it: `GET /cart` and its three children as bars, `db.query` the
//! longest, with the `slow query` warning under it. Without
//! `with_traces_file`, `OTEL_TRACES_EXPORTER=file` and
//! `OTEL_LOGS_EXPORTER=file` write to `.tracelink/traces.jsonl`, where
//! `tracelink` looks by default. The temporary directory is left in place
//! for the command; delete it after.

use std::time::Duration;

use opentelemetry::trace::TraceContextExt;
use tracelink::logs::LogsExporter;
use tracelink::trace::TracesExporter;
use tracing::{info, info_span, warn};
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// One request: returns its trace id.
fn get_cart() -> String {
    let _request = info_span!("GET /cart", otel.kind = "server", cart.id = 7).entered();
    let cx = tracing::Span::current().context();
    let trace_id = cx.span().span_context().trace_id().to_string();
    info!("cart requested");
    info_span!("auth").in_scope(|| std::thread::sleep(Duration::from_millis(2)));
    info_span!("db.query", db.system.name = "postgresql").in_scope(|| {
        std::thread::sleep(Duration::from_millis(25));
        warn!(rows = 3, "slow query");
    });
    info_span!("render").in_scope(|| std::thread::sleep(Duration::from_millis(4)));
    info!(items = 3, "cart served");
    trace_id
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join(format!("tracelink-local-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let store = dir.join("traces.jsonl");

    let guard = tracelink::builder()
        .with_service_name("cart")
        .with_traces_exporters([TracesExporter::File])
        // Every log line becomes a log record too, in the same store.
        .with_logs_exporters([LogsExporter::File])
        .with_traces_file(&store)
        .init()?;

    let trace_id = get_cart();
    // Writes every span out before we point at the file.
    guard.shutdown()?;

    let written = tracelink::store::files(&store)
        .iter()
        .map(std::fs::read_to_string)
        .collect::<Result<String, _>>()?;
    // One line of spans and one of log records, both of the trace.
    for (kind, key) in [
        ("spans", "\"resourceSpans\""),
        ("log records", "\"resourceLogs\""),
    ] {
        if !written
            .lines()
            .any(|line| line.starts_with(&format!("{{{key}")) && line.contains(&trace_id))
        {
            return Err(format!("no {kind} of trace {trace_id} in {}", store.display()).into());
        }
    }
    eprintln!("trace {trace_id} is in {}; draw it with", store.display());
    eprintln!(
        "cargo run -p tracelink-cli -- show {trace_id} --store {}",
        store.display(),
    );
    Ok(())
}
