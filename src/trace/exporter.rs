//! The exporters the export thread drives: OTLP, console, the local trace
//! file, or any SDK [`SpanExporter`].

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::{Compression, Protocol, TracesExporter};
use crate::Error;

pub(crate) type ExportFuture<'a> = Pin<Box<dyn Future<Output = OTelSdkResult> + Send + 'a>>;

/// An object-safe [`SpanExporter`].
pub(crate) trait DynExporter: Send + Sync + std::fmt::Debug {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_>;
    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult;
    fn set_resource(&mut self, resource: &Resource);
    /// Names the exporter in diagnostics.
    fn describe(&self) -> String;
}

impl<E: SpanExporter + 'static> DynExporter for E {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(SpanExporter::export(self, batch))
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(self, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(self, resource);
    }

    fn describe(&self) -> String {
        let name = std::any::type_name::<E>();
        name.rsplit("::").next().unwrap_or(name).to_owned()
    }
}

/// The OTLP exporter and the endpoint it sends to, for diagnostics.
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
#[derive(Debug)]
struct Otlp {
    inner: opentelemetry_otlp::SpanExporter,
    endpoint: String,
    protocol: Protocol,
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
impl DynExporter for Otlp {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(SpanExporter::export(&self.inner, batch))
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(&self.inner, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(&mut self.inner, resource);
    }

    fn describe(&self) -> String {
        format!("OTLP/{} {}", self.protocol.name(), self.endpoint)
    }
}

/// Where spans go, as the configuration resolved it: the exporters to
/// build and what each needs.
#[derive(Debug)]
pub(crate) struct Exporters<'a> {
    pub(crate) kinds: &'a [TracesExporter],
    pub(crate) otlp: OtlpTarget<'a>,
    pub(crate) file: &'a std::path::Path,
    pub(crate) file_max_bytes: u64,
}

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
}

/// Builds the exporters `config` asks for, inside `runtime` (tonic's channel
/// needs one to exist).
pub(crate) fn build(
    config: &Exporters<'_>,
    runtime: &tokio::runtime::Runtime,
) -> Result<Vec<Box<dyn DynExporter>>, Error> {
    let mut exporters: Vec<Box<dyn DynExporter>> = Vec::new();
    for kind in config.kinds {
        match kind {
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            TracesExporter::Otlp => {
                let _enter = runtime.enter();
                exporters.push(Box::new(otlp(&config.otlp)?));
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            TracesExporter::Otlp => {
                let _ = runtime;
                return Err(Error::Exporter {
                    endpoint: config.otlp.endpoint.to_owned(),
                    source: "this build has no OTLP transport; enable tracelink's `otlp-grpc` or `otlp-http` feature".into(),
                });
            }
            TracesExporter::Console => exporters.push(Box::new(super::console::Console::stderr())),
            TracesExporter::File => exporters.push(Box::new(super::file::FileExporter::new(
                config.file.to_path_buf(),
                config.file_max_bytes,
            ))),
        }
    }
    Ok(exporters)
}

#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
fn otlp(config: &OtlpTarget<'_>) -> Result<Otlp, Error> {
    let error = |source: opentelemetry_otlp::ExporterBuildError| Error::Exporter {
        endpoint: config.endpoint.to_owned(),
        source: Box::new(source),
    };
    let inner = match config.protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => {
            use opentelemetry_otlp::{WithExportConfig, WithTonicConfig};
            let mut metadata = tonic::metadata::MetadataMap::new();
            for (key, value) in config.headers {
                // Checked when the configuration was resolved.
                if let (Ok(key), Ok(value)) = (
                    tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
                    value.parse(),
                ) {
                    metadata.insert(key, value);
                }
            }
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_tonic()
                .with_endpoint(config.endpoint.to_owned())
                .with_timeout(config.timeout)
                .with_metadata(metadata);
            if config.compression == Compression::Gzip {
                builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            builder.build().map_err(error)?
        }
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf => {
            use opentelemetry_otlp::{WithExportConfig, WithHttpConfig};
            let mut builder = opentelemetry_otlp::SpanExporter::builder()
                .with_http()
                .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
                .with_endpoint(config.endpoint.to_owned())
                .with_timeout(config.timeout)
                .with_headers(config.headers.iter().cloned().collect());
            if config.compression == Compression::Gzip {
                builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            builder.build().map_err(error)?
        }
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::Exporter {
                endpoint: config.endpoint.to_owned(),
                source: format!("protocol {other} is not compiled in").into(),
            })
        }
    };
    Ok(Otlp {
        inner,
        endpoint: config.endpoint.to_owned(),
        protocol: config.protocol,
    })
}
