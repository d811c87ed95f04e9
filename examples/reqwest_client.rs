//! A traced reqwest call: `send_traced()` sends the request inside a CLIENT
//! span and writes that span's context into the `traceparent` header, so
//! the service called continues the caller's trace.
//!
//! Run with
//!
//! ```text
//! cargo run --example reqwest_client --features reqwest
//! ```
//!
//! It starts a tiny server on 127.0.0.1 (a free port) that answers with the
//! `traceparent` it received, calls it once from inside a `checkout` span,
//! and exits. What to look at, on stderr:
//!
//! - `checkout: trace T span C`, then `server received: 00-T-S-03`: the
//!   same trace id `T`, and a parent id `S` that is not `checkout`'s `C`
//!   (flags `03`: sampled, and a random trace id);
//! - the trace as a tree: `checkout`, and under it `GET`, of kind `client`,
//!   whose span id is that `S`, with `http.response.status_code=200`. The
//!   server's own span would be its child (see `axum_server.rs`).
//!
//! On stdout, the JSON line `"message":"stock checked"` carries `T` too.

use axum::http::HeaderMap;
use axum::routing::get;
use axum::Router;
use opentelemetry::trace::TraceContextExt;
use tracelink::http::RequestBuilderExt;
use tracelink::trace::TracesExporter;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// The server: answers with the `traceparent` header it was sent.
async fn echo_traceparent(headers: HeaderMap) -> String {
    headers
        .get("traceparent")
        .and_then(|value| value.to_str().ok())
        .unwrap_or("none")
        .to_owned()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans print on stderr: no collector needed.
    let _guard = tracelink::builder()
        .with_service_name("checkout")
        .with_traces_exporters([TracesExporter::Console])
        .init()?;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/stock/42", listener.local_addr()?);
    let app = Router::new().route("/stock/42", get(echo_traceparent));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    // `no_proxy`: to 127.0.0.1, never through `HTTP_PROXY`.
    let client = reqwest::Client::builder().no_proxy().build()?;
    let (ids, received) = async {
        // Read inside the span: taken before its first enter, the context
        // would start the span out of tracelink's sight.
        let ids = tracing::Span::current()
            .context()
            .span()
            .span_context()
            .clone();
        eprintln!("checkout: trace {} span {}", ids.trace_id(), ids.span_id());
        // The CLIENT span is a child of the span current here: `checkout`.
        let response = client.get(&url).send_traced().await?;
        let received = response.text().await?;
        tracing::info!(%received, "stock checked");
        Ok::<_, reqwest::Error>((ids, received))
    }
    .instrument(tracing::info_span!("checkout", order.id = 42))
    .await?;
    eprintln!("server received: {received}");

    // traceparent is `00-{trace id}-{parent span id}-{flags}`.
    let mut fields = received.split('-');
    let (trace_id, parent_id) = (fields.nth(1), fields.next());
    if trace_id != Some(&*ids.trace_id().to_string()) {
        return Err(format!("the server got another trace: {received}").into());
    }
    if parent_id == Some(&*ids.span_id().to_string()) {
        return Err("the server's parent is checkout, not the CLIENT span".into());
    }

    server.abort();
    Ok(())
}
