//! # tracelink
//!
//! One call gives a Rust service its observability wiring: every `tracing` span
//! exported over OTLP, configured by the standard `OTEL_*` variables; every
//! event a JSON line carrying the `trace_id` and `span_id` of that exported
//! span; and a guard that flushes at shutdown without ever hanging.
//!
//! ```no_run
//! fn main() -> Result<(), tracelink::Error> {
//!     let _guard = tracelink::init()?;
//!
//!     let span = tracing::info_span!("checkout", order.id = 42);
//!     let _entered = span.enter();
//!     tracing::info!("order placed");
//!     Ok(())
//! }
//! ```
//!
//! ## How spans flow
//!
//! `config` (builder + env) → `init` (Registry + `tracing-opentelemetry` layer)
//! → [`trace::LinkTracer`] (samples first, records inline) → a bounded lock-free queue →
//! one export thread (OTLP gRPC or HTTP/protobuf, console, a local file
//! ([`store`]), or your exporter) →
//! [`Guard`] (flush on drop, one timeout for everything).
//!
//! ## Log lines
//!
//! [`logs::LogLayer`] writes one JSON line per event to stdout, with the ids of the
//! span the event happened in, exactly as that span is exported:
//!
//! ```text
//! {"timestamp":"2026-11-21T09:30:00.123456Z","level":"INFO","target":"shop","message":"order placed",
//!  "order.id":42,"span":{"name":"checkout"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//!  "span_id":"00f067aa0ba902b7","trace_flags":"03"}
//! ```
//!
//! Field names follow [`logs::LogStyle`] (`otel`, `ecs`, `gcp`, `datadog`;
//! `TRACELINK_LOG_STYLE`). Lines are written whole, never interleave, and
//! always parse, whatever the values. For a developer at a terminal,
//! `TRACELINK_LOG_FORMAT=pretty` ([`logs::LogFormat::Pretty`]) writes one readable
//! line per event instead, coloured unless `NO_COLOR` is set:
//!
//! ```text
//! 09:30:00.123456Z  INFO shop: order placed order.id=42 in checkout trace=4bf92f35
//! ```
//!
//! ## Log level and spans
//!
//! `RUST_LOG` decides which events become log lines; which spans exist and
//! are exported is decided by `TRACELINK_SPAN_FILTER` (same syntax, default
//! `info`, [`Builder::with_span_filter`]). So a service at `RUST_LOG=warn`
//! still exports its `INFO` spans, and its `WARN` and `ERROR` lines carry
//! their ids: the lines an operator jumps from.
//!
//! ## Versions
//!
//! Your crate must use the same `tracing` (0.1) and `metrics` (0.24) as
//! tracelink: a counter from `metrics` 0.23 goes to that version's global
//! recorder, which nothing reads.
//!
//! ## Status and span kinds
//!
//! A span gets status `Error` when it records `otel.status_code = "ERROR"`
//! (with `otel.status_description`), or when an `ERROR`-level event happens
//! inside it (as `#[instrument(err)]` emits). `otel.kind` (`server`,
//! `client`, `producer`, `consumer`, `internal`) and `otel.name` are honoured.
//! Events at `WARN` and above inside a span also become span events
//! (`TRACELINK_SPAN_EVENTS`); every event is a log line with the span's ids.
//!
//! ## When the collector is down
//!
//! Nothing waits for it. Ended spans go into a queue of `OTEL_BSP_MAX_QUEUE_SIZE`
//! spans; when it is full, new spans are dropped and counted
//! ([`Guard::stats`]), with a warning on stderr at most every 10 s and a total
//! at shutdown. Each export is retried on transient errors and bounded by
//! `OTEL_BSP_EXPORT_TIMEOUT`; shutdown is bounded by the guard's timeout.
//!
//! ## Feature flags
//!
//! - `otlp-grpc` (default): OTLP over gRPC, with tonic.
//! - `otlp-http` (default): OTLP over HTTP/protobuf, with hyper.
//! - `gzip` (default): gzip compression of OTLP requests.
//! - `tls` (default): `https://` OTLP endpoints, verified against the
//!   platform's roots or a private CA (`OTEL_EXPORTER_OTLP_CERTIFICATE`),
//!   with client certificates for mTLS; rustls with `ring` (no cmake).
//! - `tower`: `tracelink::http::ServerLayer`, a tower layer for axum, hyper
//!   and tonic servers: a SERVER span per request continuing the caller's
//!   trace, and the `http_server_request_duration_seconds` histogram with
//!   exemplars.
//! - `reqwest`: `tracelink::http::RequestBuilderExt::send_traced`, a reqwest
//!   call in a CLIENT span whose context travels in the request's headers.
//!
//! ## The guide
//!
//! [`guide`] holds the reference pages: [every variable and its
//! default](guide::configuration), [traces](guide::traces),
//! [logs](guide::logs), [metrics](guide::metrics), [context across
//! services](guide::propagation), [HTTP](guide::http), [your own
//! layers](guide::composing), [the local store and the
//! command](guide::store_and_cli), [backends](guide::backends),
//! [performance](guide::performance) and [features and
//! limits](guide::features).
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod config;
mod context;
mod diag;
#[doc(hidden)]
pub mod encode;
pub mod env;
mod error;
mod export;
mod filter;
mod guard;
pub mod guide;
#[cfg(any(feature = "tower", feature = "reqwest"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tower", feature = "reqwest"))))]
pub mod http;
mod init;
pub mod logs;
pub mod metrics;
pub mod propagation;
pub mod store;
pub mod trace;
mod transport;

pub use config::{Builder, Config};
pub use error::Error;
pub use guard::{Guard, Stats};
pub use init::{builder, init, Parts};
