//! The exporters the export thread drives: OTLP (`otlp.rs`), a readable tree
//! on stderr (`console.rs`), the local trace store (`file.rs`), or any SDK
//! [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter), all in the one
//! shape of `sink.rs`.

mod console;
mod file;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp;
mod sink;

pub(crate) use sink::DynExporter;

use super::TracesExporter;
use crate::export::OtlpTarget;
use crate::Error;

/// Where spans go, as the configuration resolved it: the exporters to
/// build and what each needs.
#[derive(Debug)]
pub(crate) struct Exporters<'a> {
    pub(crate) kinds: &'a [TracesExporter],
    pub(crate) otlp: OtlpTarget<'a>,
    pub(crate) file: &'a std::path::Path,
    pub(crate) file_max_bytes: u64,
}

/// Builds the exporters `config` asks for, inside `runtime` (tonic's channel
/// needs one to exist).
pub(crate) fn build(
    config: &Exporters<'_>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Box<DynExporter>>, Error> {
    let mut exporters: Vec<Box<DynExporter>> = Vec::new();
    for kind in config.kinds {
        match kind {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            TracesExporter::Otlp => {
                let _enter = runtime.enter();
                exporters.push(Box::new(crate::export::otlp::build::<
                    opentelemetry_otlp::SpanExporter,
                >(&config.otlp)?));
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            TracesExporter::Otlp => {
                let _ = runtime;
                return Err(config.otlp.error("span", crate::export::NO_TRANSPORT));
            }
            TracesExporter::Console => exporters.push(Box::new(console::Console::stderr())),
            TracesExporter::File => exporters.push(Box::new(crate::store::StoreExporter::new(
                config.file.to_path_buf(),
                config.file_max_bytes,
            ))),
        }
    }
    Ok(exporters)
}
