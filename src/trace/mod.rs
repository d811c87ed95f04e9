//! The span path: a fast OpenTelemetry tracer ([`LinkTracer`]) behind `tracing-opentelemetry`,
//! a bounded queue, and one export thread.
//!
//! `tracing-opentelemetry` turns each `tracing` span into a call to
//! [`opentelemetry::trace::Tracer::build_with_context`] when the span is first
//! entered, and ends it when the span closes. tracelink's [`LinkTracer`] decides
//! sampling there, before anything is allocated, keeps a sampled span's data in
//! one inline record, and on end moves it into a lock-free bounded queue. The
//! export thread turns records into SDK `SpanData` and hands them to the OTLP
//! (or console, or local file, or your own) exporter, off the request path.

pub(crate) mod callsite;
mod consistent;
pub(crate) mod export;
mod ids;
mod layer;
pub(crate) mod limits;
pub(crate) mod pipeline;
mod sampler;
mod settings;
mod tracer;

pub use crate::export::{BatchConfig, ExportStats};
pub use layer::OtelLayer;
pub use limits::SpanLimits;
pub use sampler::{CustomSampler, Sampler, SamplingInput};
pub use settings::{Compression, Protocol, TracesExporter};
pub use tracer::{LinkSpan, LinkTracer, LinkTracerProvider};
