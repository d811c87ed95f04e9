//! Your own `tracing` layers next to tracelink's, in one call:
//! `Builder::with_layer`. Inside a span they see the same trace and span
//! ids as tracelink's log lines, because the span's OpenTelemetry context is
//! current while it is entered.
//!
//! Run with
//!
//! ```text
//! cargo run --example own_layer
//! ```
//!
//! It adds two layers, logs three events and exits. What to look at:
//!
//! - stderr, from `IdPrinter`, a layer of our own: `[own layer] charging
//!   card: trace T span S`, and the same for `card declined, retrying`; `[own
//!   layer] done: no span` for the event outside any span;
//! - stdout, from tracelink: the JSON lines `charging card` and `card
//!   declined, retrying` with `"trace_id":"T"` and `"span_id":"S"`, the same ids;
//! - stderr, from `tracing_subscriber::fmt`: the three events as it writes
//!   them, `INFO charge{amount_cents=2500}: own_layer: charging card`, ...;
//! - stderr, last: the exported span, `charge ... span S`, in `trace T`.

use std::io::IsTerminal;

use opentelemetry::trace::TraceContextExt;
use tracelink::trace::TracesExporter;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Prints each event's message with the ids of the current OpenTelemetry
/// context: what any layer (Sentry, a second writer) can read.
struct IdPrinter;

impl<S: Subscriber> Layer<S> for IdPrinter {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let mut message = Message(String::new());
        event.record(&mut message);
        let cx = opentelemetry::Context::current();
        let span = cx.span();
        let ids = span.span_context();
        if ids.is_valid() {
            eprintln!(
                "[own layer] {}: trace {} span {}",
                message.0,
                ids.trace_id(),
                ids.span_id()
            );
        } else {
            eprintln!("[own layer] {}: no span", message.0);
        }
    }
}

/// Keeps an event's `message` field.
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

fn main() -> Result<(), tracelink::Error> {
    let _guard = tracelink::builder()
        .with_service_name("payments")
        .with_traces_exporters([TracesExporter::Console])
        // Any layer built on tracing-subscriber; they run in the order added.
        .with_layer(IdPrinter)
        .with_layer(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_ansi(std::io::stderr().is_terminal())
                .without_time(),
        )
        .init()?;

    tracing::info_span!("charge", amount_cents = 2_500).in_scope(|| {
        tracing::info!("charging card");
        tracing::warn!("card declined, retrying");
    });
    tracing::info!("done");
    Ok(())
}
