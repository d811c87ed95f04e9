//! Metrics that link to traces: a counter and a histogram recorded inside a
//! span carry that span's ids as OpenMetrics exemplars on `/metrics`.
//!
//! Run with
//!
//! ```text
//! cargo run --example metrics_exemplars
//! ```
//!
//! It records a few samples, scrapes its own `/metrics` (on 127.0.0.1, a
//! free port) the way Prometheus does, with `Accept:
//! application/openmetrics-text`, prints the lines that carry an exemplar,
//! and exits. What to look at, on stderr:
//!
//! - `checkout: trace T span S`, the span the samples were recorded in;
//! - `shop_orders_total{outcome="ok"} 1 # {trace_id="T",span_id="S"} 1.0 ...`
//!   and `shop_order_duration_seconds_bucket{le="0.025"} 1 # {trace_id="T",
//!   span_id="S"} 0.0123 ...`, the bucket the sample fell in: from a counter
//!   or a bucket in Grafana, one click to the trace;
//! - `shop_cache_misses_total 3`, counted outside any span: no exemplar.
//!
//! A service keeps serving `/metrics` on `localhost:9464`
//! (`OTEL_EXPORTER_PROMETHEUS_HOST`, `OTEL_EXPORTER_PROMETHEUS_PORT`). To
//! keep the exemplars, Prometheus needs `--enable-feature=exemplar-storage`
//! and a scrape job such as:
//!
//! ```yaml
//! scrape_configs:
//!   - job_name: shop
//!     scrape_protocols: [OpenMetricsText1.0.0, PrometheusText0.0.4]
//!     static_configs:
//!       - targets: ["localhost:9464"]
//! ```

use opentelemetry::trace::TraceContextExt;
use tracelink::trace::TracesExporter;
use tracing_opentelemetry::OpenTelemetrySpanExt;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = tracelink::builder()
        .with_service_name("shop")
        .with_traces_exporters([TracesExporter::Console])
        // A free port, so that the example runs next to anything.
        .with_prometheus_listener("127.0.0.1", 0)
        .init()?;
    let address = guard.metrics_address().ok_or("/metrics is not served")?;

    let trace_id = tracing::info_span!("checkout", order.id = 42).in_scope(|| {
        let cx = tracing::Span::current().context();
        let ids = cx.span().span_context().clone();
        eprintln!("checkout: trace {} span {}", ids.trace_id(), ids.span_id());
        // Recorded inside a sampled span: each keeps its ids as exemplar.
        metrics::counter!("shop_orders_total", "outcome" => "ok").increment(1);
        metrics::histogram!("shop_order_duration_seconds").record(0.0123);
        ids.trace_id().to_string()
    });
    // Outside any span: no exemplar.
    metrics::counter!("shop_cache_misses_total").increment(3);

    // The scrape, as Prometheus sends it; to itself, never through `HTTP_PROXY`.
    let client = reqwest::Client::builder().no_proxy().build()?;
    let body = tokio::runtime::Runtime::new()?.block_on(async {
        client
            .get(format!("http://{address}/metrics"))
            .header("accept", "application/openmetrics-text; version=1.0.0")
            .send()
            .await?
            .text()
            .await
    })?;
    eprintln!("GET http://{address}/metrics: the lines with an exemplar, and the cache misses");
    let mut linked = 0;
    let shown = |line: &&str| line.contains(" # {") || line.starts_with("shop_cache_misses");
    for line in body.lines().filter(shown) {
        eprintln!("  {line}");
        linked += usize::from(line.contains(&trace_id));
    }
    if linked == 0 {
        return Err(format!("no exemplar links to trace {trace_id}:\n{body}").into());
    }
    guard.shutdown()?;
    Ok(())
}
