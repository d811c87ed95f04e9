//! Log lines that link to traces: a JSON layer that stamps every line with the
//! trace id, span id and flags of the span it happened in, exactly as that span
//! is exported; and, with `OTEL_LOGS_EXPORTER` ([`LogsExporter`]), the same
//! events as OpenTelemetry log records over OTLP, to the console or into the
//! local store, carrying the same ids.
//!
//! The hot path formats into a reused per-thread `String` (no allocation per
//! line once it has grown), copies the span's ids from a cache filled once per
//! span, and hands the whole line to the writer in one `write_all`, so lines
//! from many threads never interleave.

pub(crate) mod export;
mod format;
pub(crate) mod json;
mod layer;
pub(crate) mod non_blocking;
mod pretty;
pub(crate) mod record;
mod style;
pub(crate) mod writer;

pub use crate::export::BatchConfig;
pub use export::LogsExporter;
pub use format::LogFormat;
pub use layer::LogLayer;
pub use style::LogStyle;
pub use writer::{LogStats, LogWriter};
