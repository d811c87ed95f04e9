//! The exporters the export thread drives: OTLP (`otlp.rs`), a readable tree
//! on stderr (`console.rs`), the local trace store (`file.rs`), or any SDK
//! [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter), all in the one
//! shape of `sink.rs`.

mod console;
mod file;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
mod otlp;
mod sink;

pub(crate) use otlp_target::OtlpTarget;
pub(crate) use sink::DynExporter;

use super::TracesExporter;
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
                exporters.push(Box::new(otlp::otlp(&config.otlp)?));
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            TracesExporter::Otlp => {
                let _ = runtime;
                return Err(Error::Exporter {
                    endpoint: crate::diag::redact_url(config.otlp.endpoint).into_owned(),
                    source: "this build has no OTLP transport; enable tracelink's `otlp-grpc` or `otlp-http` feature".into(),
                });
            }
            TracesExporter::Console => exporters.push(Box::new(console::Console::stderr())),
            TracesExporter::File => exporters.push(Box::new(file::FileExporter::new(
                config.file.to_path_buf(),
                config.file_max_bytes,
            ))),
        }
    }
    Ok(exporters)
}

/// The OTLP destination, as its own small module: the configuration names it
/// whatever transports the build has.
mod otlp_target {
    use crate::trace::{Compression, Protocol};

    /// The OTLP destination: endpoint, protocol, headers (checked already),
    /// timeout and compression.
    #[derive(Debug)]
    // Read only by the OTLP transports, which a build may leave out.
    #[cfg_attr(
        not(any(feature = "otlp-grpc", feature = "otlp-http")),
        allow(dead_code)
    )]
    pub(crate) struct OtlpTarget<'a> {
        pub(crate) endpoint: &'a str,
        pub(crate) protocol: Protocol,
        pub(crate) headers: &'a [(String, String)],
        pub(crate) timeout: std::time::Duration,
        pub(crate) compression: Compression,
        /// TLS for an `https://` endpoint; `None` for `http://`.
        #[cfg_attr(not(feature = "tls"), allow(dead_code))]
        pub(crate) tls: Option<&'a crate::transport::ClientTls>,
    }
}
