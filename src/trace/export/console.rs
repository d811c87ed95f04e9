//! The `console` exporter: a readable tree of each batch's traces on stderr.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::time::SystemTime;

use opentelemetry::trace::{SpanId, SpanKind, Status};
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

/// Prints spans for a person to read during development:
///
/// ```text
/// trace 4bf92f3577b34da6a3ce929d0e0e4736
///   checkout                 12.31 ms  server  span 00f067aa0ba902b7  order.id=42
///     charge_card             3.02 ms  client  span 6a1c...  ERROR: card declined
///       event +1.20 ms payment declined  level=ERROR
/// ```
#[derive(Debug)]
pub(crate) struct Console {
    _private: (),
}

impl Console {
    pub(crate) fn stderr() -> Self {
        Self { _private: () }
    }
}

fn millis(from: SystemTime, to: SystemTime) -> f64 {
    to.duration_since(from).unwrap_or_default().as_secs_f64() * 1e3
}

fn kind(kind: &SpanKind) -> &'static str {
    match kind {
        SpanKind::Client => "client",
        SpanKind::Server => "server",
        SpanKind::Producer => "producer",
        SpanKind::Consumer => "consumer",
        SpanKind::Internal => "internal",
    }
}

pub(crate) fn render(batch: &[SpanData]) -> String {
    let mut out = String::new();
    let mut traces: Vec<_> = {
        let mut by_trace: HashMap<_, Vec<&SpanData>> = HashMap::new();
        for span in batch {
            by_trace
                .entry(span.span_context.trace_id())
                .or_default()
                .push(span);
        }
        by_trace.into_iter().collect()
    };
    traces.sort_by_key(|(_, spans)| spans.iter().map(|s| s.start_time).min());
    for (trace_id, mut spans) in traces {
        spans.sort_by_key(|s| s.start_time);
        let parents: HashMap<SpanId, SpanId> = spans
            .iter()
            .map(|s| (s.span_context.span_id(), s.parent_span_id))
            .collect();
        let depth = |mut id: SpanId| {
            let mut depth = 0;
            while let Some(parent) = parents.get(&id).filter(|p| parents.contains_key(p)) {
                depth += 1;
                id = *parent;
                if depth > 64 {
                    break;
                }
            }
            depth
        };
        let _ = writeln!(out, "trace {trace_id}");
        for span in spans {
            let indent = "  ".repeat(depth(span.span_context.span_id()) + 1);
            let _ = write!(
                out,
                "{indent}{:<24} {:>9.2} ms  {:<8} span {}",
                span.name,
                millis(span.start_time, span.end_time),
                kind(&span.span_kind),
                span.span_context.span_id()
            );
            if span.parent_span_is_remote {
                let _ = write!(out, " (remote parent {})", span.parent_span_id);
            }
            match &span.status {
                Status::Error { description } if description.is_empty() => out.push_str("  ERROR"),
                Status::Error { description } => {
                    let _ = write!(out, "  ERROR: {description}");
                }
                _ => {}
            }
            for kv in span
                .attributes
                .iter()
                .filter(|kv| !kv.key.as_str().starts_with("code."))
            {
                let _ = write!(out, "  {}={}", kv.key, kv.value);
            }
            out.push('\n');
            for event in span.events.iter() {
                let _ = write!(
                    out,
                    "{indent}  event +{:.2} ms {}",
                    millis(span.start_time, event.timestamp),
                    event.name
                );
                for kv in event
                    .attributes
                    .iter()
                    .filter(|kv| !kv.key.as_str().starts_with("code."))
                {
                    let _ = write!(out, "  {}={}", kv.key, kv.value);
                }
                out.push('\n');
            }
        }
    }
    out
}

impl SpanExporter for Console {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        let text = render(&batch);
        // A closed stderr must not fail the service: the spans are just gone.
        let _ = std::io::stderr().lock().write_all(text.as_bytes());
        Ok(())
    }
}
