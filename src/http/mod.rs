//! HTTP integrations: one trace across services, with the attributes of the
//! stable OpenTelemetry HTTP semantic conventions.
//!
//! - `ServerLayer` (feature `tower`): a tower layer for axum, hyper, tonic
//!   or any `Service<http::Request<_>>`. Each request gets a SERVER span whose
//!   parent is the caller's span (read from `traceparent`), and its duration
//!   goes to the `http_server_request_duration_seconds` histogram, with the
//!   span as exemplar.
//! - `RequestBuilderExt::send_traced` (feature `reqwest`): a reqwest call
//!   inside a CLIENT span, whose context goes out in the request's headers.
//!
//! Together, a request that crosses two services is one trace: the caller's
//! CLIENT span is the parent of the callee's SERVER span.
//!
//! ```no_run
//! # #[cfg(all(feature = "tower", feature = "reqwest"))]
//! # mod example {
//! use axum::extract::MatchedPath;
//! use axum::routing::get;
//! use axum::Router;
//! use tracelink::http::{RequestBuilderExt, ServerLayer};
//!
//! /// Calls the inventory service; its span is a child of this request's.
//! async fn order(client: reqwest::Client) -> String {
//!     match client.get("http://inventory:8080/stock/42").send_traced().await {
//!         Ok(response) => response.text().await.unwrap_or_default(),
//!         Err(_) => "inventory unavailable".to_owned(),
//!     }
//! }
//!
//! pub async fn serve() -> Result<(), Box<dyn std::error::Error>> {
//!     let _guard = tracelink::init()?;
//!     let client = reqwest::Client::new();
//!     let app = Router::new()
//!         .route("/orders/{id}", get(move || order(client.clone())))
//!         .layer(
//!             ServerLayer::new()
//!                 .with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
//!         );
//!     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! # }
//! ```

#[cfg(feature = "reqwest")]
mod client;
mod semconv;
#[cfg(feature = "tower")]
mod server;

#[cfg(feature = "reqwest")]
#[cfg_attr(docsrs, doc(cfg(feature = "reqwest")))]
pub use client::RequestBuilderExt;
#[cfg(feature = "tower")]
#[cfg_attr(docsrs, doc(cfg(feature = "tower")))]
pub use server::{
    ResponseFuture, ServerLayer, ServerService, DEFAULT_SKIPPED_PATHS, SERVER_REQUEST_DURATION,
};
