//! Where log records go (`OTEL_LOGS_EXPORTER`): OTLP (`otlp.rs`, set up by
//! `export/otlp.rs` as for spans), a readable line on stderr
//! (`console.rs`), the local store beside the spans (`file.rs`), or any
//! SDK [`LogExporter`](opentelemetry_sdk::logs::LogExporter) (`sink.rs`),
//! all in the one shape the export thread drives.

mod console;
mod file;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp;
mod sink;

pub(crate) use sink::{DynLogExporter, LogRecords};

use crate::export::OtlpTarget;
use crate::Error;

/// Where log records go besides the log lines (`OTEL_LOGS_EXPORTER`).
///
/// ```
/// use tracelink::logs::LogsExporter;
///
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([("OTEL_LOGS_EXPORTER", "otlp,file")])
///     .config()?;
/// assert_eq!(config.logs_exporters(), [LogsExporter::Otlp, LogsExporter::File]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LogsExporter {
    /// OTLP to a Collector or backend, over the logs' [`Protocol`](crate::trace::Protocol)
    /// (`OTEL_EXPORTER_OTLP_LOGS_*`, then `OTEL_EXPORTER_OTLP_*`).
    Otlp,
    /// A readable line per record on stderr, for development.
    Console,
    /// OTLP/JSON lines in the local store beside the spans
    /// (`TRACELINK_TRACES_FILE`), which `tracelink show TRACE_ID` prints
    /// under their spans (see [`crate::store`]).
    File,
}

impl LogsExporter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            LogsExporter::Otlp => "otlp",
            LogsExporter::Console => "console",
            LogsExporter::File => "file",
        }
    }
}

impl std::fmt::Display for LogsExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Where log records go, as the configuration resolved it.
#[derive(Debug)]
pub(crate) struct Exporters<'a> {
    pub(crate) kinds: &'a [LogsExporter],
    pub(crate) otlp: Option<OtlpTarget<'a>>,
    pub(crate) file: &'a std::path::Path,
    pub(crate) file_max_bytes: u64,
}

/// Builds the exporters `config` asks for, inside `runtime` (tonic's
/// channel needs one to exist).
pub(crate) fn build(
    config: &Exporters<'_>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Box<DynLogExporter>>, Error> {
    let mut exporters: Vec<Box<DynLogExporter>> = Vec::new();
    for kind in config.kinds {
        match (kind, &config.otlp) {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            (LogsExporter::Otlp, Some(target)) => {
                let _enter = runtime.enter();
                exporters.push(Box::new(crate::export::otlp::build::<
                    opentelemetry_otlp::LogExporter,
                >(target)?));
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            (LogsExporter::Otlp, Some(target)) => {
                let _ = runtime;
                return Err(target.error("log", crate::export::NO_TRANSPORT));
            }
            // Resolved with the exporters: never without its target.
            (LogsExporter::Otlp, None) => {}
            (LogsExporter::Console, _) => exporters.push(Box::new(console::Console)),
            (LogsExporter::File, _) => exporters.push(Box::new(crate::store::StoreExporter::new(
                config.file.to_path_buf(),
                config.file_max_bytes,
            ))),
        }
    }
    Ok(exporters)
}
