//! The first example: one `init()`, then plain `tracing` spans and events and
//! `metrics` samples. A small shop: order → payment → inventory →
//! notification, three orders, one payment declined.
//!
//! Run with
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! What to look at:
//!
//! - stdout: one JSON line per event, each with the `trace_id` and `span_id`
//!   of the span it happened in (`"message":"payment declined"` is `ERROR`);
//! - stderr: each order's trace as a tree (the `console` exporter, used when
//!   no collector is configured): `place_order` with `charge`,
//!   `reserve_stock` and `notify` under it, and the declined order's spans
//!   marked `ERROR`; last, `exported 10 spans, lost 0`.
//!
//! To send the spans to a Collector, Jaeger or Tempo instead:
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example quickstart
//! ```
//!
//! Then one idea each: `axum_server` (a traced HTTP server), `reqwest_client`
//! (a traced HTTP call), `queue` (one trace across a message queue),
//! `own_layer` (your own layer next to tracelink's), `metrics_exemplars`
//! (metrics that link to traces), `local_store` (traces with no backend).

use std::time::Duration;

use tracing::{error, info, info_span, instrument, warn, Instrument};

#[instrument(err, fields(order.id = order_id, otel.kind = "server"))]
async fn place_order(order_id: u64, amount_cents: u64) -> Result<(), String> {
    let started = std::time::Instant::now();
    info!(amount_cents, "order received");
    let result = async {
        charge(order_id, amount_cents).await?;
        reserve_stock(order_id).await;
        notify(order_id).await;
        Ok(())
    }
    .await;
    let outcome = if result.is_ok() { "ok" } else { "failed" };
    // Recorded inside the sampled span: both carry its trace id as an exemplar.
    metrics::counter!("shop_orders_total", "outcome" => outcome).increment(1);
    metrics::histogram!("shop_order_duration_seconds").record(started.elapsed().as_secs_f64());
    info!(outcome, "order done");
    result
}

#[instrument(fields(otel.kind = "client", payment.provider = "acme-pay"))]
async fn charge(order_id: u64, amount_cents: u64) -> Result<(), String> {
    tokio::time::sleep(Duration::from_millis(15)).await;
    if amount_cents > 10_000 {
        // An ERROR event inside a span marks the span as failed.
        error!(reason = "insufficient funds", "payment declined");
        return Err("payment declined".into());
    }
    info!("payment captured");
    Ok(())
}

#[instrument]
async fn reserve_stock(order_id: u64) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    info!(sku = "sku-123", "stock reserved");
}

async fn notify(order_id: u64) {
    async {
        tokio::time::sleep(Duration::from_millis(2)).await;
        info!("confirmation sent");
    }
    .instrument(info_span!(
        "notify",
        otel.kind = "producer",
        order.id = order_id
    ))
    .await;
}

#[tokio::main]
async fn main() -> Result<(), tracelink::Error> {
    // With nothing configured, print spans instead of sending them to a
    // collector that is not there.
    let configured = [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    let mut builder = tracelink::builder()
        .with_service_name("shop")
        .with_service_version(env!("CARGO_PKG_VERSION"));
    if !configured {
        builder = builder.with_traces_exporters([tracelink::trace::TracesExporter::Console]);
    }
    let guard = builder.init()?;

    for (order_id, amount) in [(1, 2_500), (2, 25_000), (3, 900)] {
        if let Err(reason) = place_order(order_id, amount).await {
            warn!(order.id = order_id, %reason, "order failed");
        }
    }

    // Its metrics carry exemplars too: `metrics_exemplars` scrapes them.
    guard.flush()?;
    let stats = guard.stats().spans();
    eprintln!("exported {} spans, lost {}", stats.exported(), stats.lost());
    guard.shutdown()
}
