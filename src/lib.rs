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
//! → [`Tracer`] (samples first, records inline) → a bounded lock-free queue →
//! one export thread (OTLP gRPC or HTTP/protobuf, console, a local file
//! ([`store`]), or your exporter) →
//! [`Guard`] (flush on drop, one timeout for everything).
//!
//! ## Log lines
//!
//! [`JsonLayer`] writes one JSON line per event to stdout, with the ids of the
//! span the event happened in, exactly as that span is exported:
//!
//! ```text
//! {"timestamp":"2026-11-21T09:30:00.123456Z","level":"INFO","target":"shop","message":"order placed",
//!  "order.id":42,"span":{"name":"checkout"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736",
//!  "span_id":"00f067aa0ba902b7","trace_flags":"03"}
//! ```
//!
//! Field names follow [`LogStyle`] (`otel`, `ecs`, `gcp`, `datadog`;
//! `TRACELINK_LOG_STYLE`). Lines are written whole, never interleave, and
//! always parse, whatever the values. For a developer at a terminal,
//! `TRACELINK_LOG_FORMAT=pretty` ([`LogFormat::Pretty`]) writes one readable
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
//! - `grpc` (default): OTLP over gRPC, with tonic.
//! - `http` (default): OTLP over HTTP/protobuf, with hyper.
//! - `gzip` (default): gzip compression of OTLP requests.
//! - `tower`: `tracelink::http::ServerLayer`, a tower layer for axum, hyper
//!   and tonic servers: a SERVER span per request continuing the caller's
//!   trace, and the `http_server_request_duration_seconds` histogram with
//!   exemplars.
//! - `reqwest`: `tracelink::http::RequestBuilderExt::send_traced`, a reqwest
//!   call in a CLIENT span whose context travels in the request's headers.
#![cfg_attr(docsrs, feature(doc_cfg))]

mod config;
mod context;
mod diag;
mod error;
mod filter;
mod guard;
#[cfg(any(feature = "tower", feature = "reqwest"))]
#[cfg_attr(docsrs, doc(cfg(any(feature = "tower", feature = "reqwest"))))]
pub mod http;
mod init;
mod logs;
mod metrics;
pub mod propagation;
pub mod store;
mod trace;

pub use config::{
    BatchConfig, Builder, Compression, Config, LogFormat, Origin, Propagator, Protocol,
    TracesExporter,
};
pub use diag::DiagLevel;
pub use error::Error;
pub use guard::Guard;
pub use init::{builder, init, Parts};
pub use logs::{JsonLayer, LogStyle, LogWriter};
pub use metrics::{
    ExemplarFilter, Format, Matcher, MetricsConfig, MetricsHandle, MetricsRecorder, DEFAULT_BUCKETS,
};
pub use trace::{ExportStats, OtelLayer, Sampler, Span, Tracer, TracerProvider};

/// The names of every environment variable tracelink reads, with their defaults.
pub mod env {
    pub use crate::config::{
        GOOGLE_CLOUD_PROJECT, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, OTEL_BSP_SCHEDULE_DELAY,
        OTEL_BSP_SCHEDULE_DELAY_DEFAULT, OTEL_EXPORTER_OTLP_COMPRESSION,
        OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT,
        OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT, OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT,
        OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
        OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT,
        OTEL_EXPORTER_PROMETHEUS_PORT, OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT, OTEL_LOG_LEVEL,
        OTEL_METRICS_EXEMPLAR_FILTER, OTEL_METRICS_EXPORTER, OTEL_PROPAGATORS,
        OTEL_PROPAGATORS_DEFAULT, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME,
        OTEL_TRACES_EXPORTER, OTEL_TRACES_EXPORTER_DEFAULT, OTEL_TRACES_SAMPLER,
        OTEL_TRACES_SAMPLER_ARG, OTEL_TRACES_SAMPLER_DEFAULT, RUST_LOG, RUST_LOG_DEFAULT,
        TRACELINK_LOG_FORMAT, TRACELINK_LOG_FORMAT_DEFAULT, TRACELINK_LOG_NON_BLOCKING,
        TRACELINK_LOG_STYLE, TRACELINK_SHUTDOWN_TIMEOUT, TRACELINK_SHUTDOWN_TIMEOUT_DEFAULT,
        TRACELINK_SPAN_EVENTS, TRACELINK_SPAN_FILTER, TRACELINK_SPAN_FILTER_DEFAULT,
        TRACELINK_STRICT_CONFIG, TRACELINK_TRACES_FILE, TRACELINK_TRACES_FILE_DEFAULT,
        TRACELINK_TRACES_FILE_MAX_BYTES, TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT,
    };
}
