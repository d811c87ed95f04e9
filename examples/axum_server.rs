//! An axum service traced by `tracelink::http::ServerLayer`: each request gets
//! a SERVER span that continues the caller's trace, and the handler's log
//! lines carry that span's ids.
//!
//! Run with
//!
//! ```text
//! cargo run --example axum_server --features tower
//! ```
//!
//! It serves on 127.0.0.1 (a free port), sends itself one request,
//! `GET /orders/42`, with the `traceparent` an upstream service would send,
//! and exits. What to look at:
//!
//! - stdout: the handler's JSON line, `"message":"order looked up"`, with
//!   `"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"`, the trace id of that
//!   `traceparent`, and the `span_id` of the SERVER span;
//! - stderr: the trace as a tree, one span `GET /orders/{id}` of kind
//!   `server` in trace `4bf92f3577b34da6a3ce929d0e0e4736`, named after the
//!   route template (not `/orders/42`), with `http.response.status_code=200`.
//!
//! Remove the `traceparent` header and the request starts a trace of its own.

use axum::extract::{MatchedPath, Path};
use axum::routing::get;
use axum::Router;
use tracelink::http::ServerLayer;
use tracelink::trace::TracesExporter;

/// What an upstream service sends: its trace id, its span id, sampled.
const UPSTREAM_TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Runs inside the request's SERVER span: its events are its log lines.
async fn order(Path(id): Path<u64>) -> String {
    tracing::info!(order.id = id, "order looked up");
    format!("order {id}: 2 items\n")
}

fn app() -> Router {
    Router::new().route("/orders/{id}", get(order)).layer(
        // `Router::layer` runs after routing, so the matched route is known:
        // it names the span and becomes `http.route`.
        ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans print on stderr: no collector needed.
    let _guard = tracelink::builder()
        .with_service_name("orders")
        .with_traces_exporters([TracesExporter::Console])
        .init()?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app())
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    // A plain client: the trace comes from the header, as from another
    // service. (`no_proxy`: to itself, never through `HTTP_PROXY`.)
    let url = format!("http://{address}/orders/42");
    let response = reqwest::Client::builder()
        .no_proxy()
        .build()?
        .get(&url)
        .header("traceparent", UPSTREAM_TRACEPARENT)
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    eprintln!("GET {url} -> {status}: {}", body.trim_end());

    // Stop serving; the guard, dropped at the end of `main`, exports the span.
    let _ = stop.send(());
    server.await??;
    Ok(())
}
