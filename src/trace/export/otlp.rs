//! OTLP over gRPC (tonic) or HTTP/protobuf (hyper), through
//! `opentelemetry-otlp`, named by its endpoint in diagnostics.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::trace::{SpanData, SpanExporter};
use opentelemetry_sdk::Resource;

use super::OtlpTarget;
use crate::export::{ExportFuture, Exporter};
use crate::trace::{Compression, Protocol};
use crate::Error;

/// The OTLP exporter and the endpoint it sends to, for diagnostics.
#[derive(Debug)]
pub(super) struct Otlp {
    inner: opentelemetry_otlp::SpanExporter,
    /// The HTTP client's last transport error, whole: the SDK's own error
    /// says only "network error".
    last_error: Option<Arc<Mutex<Option<String>>>>,
    endpoint: String,
    protocol: Protocol,
}

impl Exporter<Vec<SpanData>> for Otlp {
    fn export(&self, batch: Vec<SpanData>) -> ExportFuture<'_> {
        Box::pin(async move {
            let result = SpanExporter::export(&self.inner, batch).await;
            let cause = self
                .last_error
                .as_ref()
                .and_then(|last| last.lock().unwrap_or_else(PoisonError::into_inner).take());
            match (result, cause) {
                (Err(error), Some(cause)) => {
                    Err(OTelSdkError::InternalFailure(format!("{error}: {cause}")))
                }
                (result, _) => result,
            }
        })
    }

    fn shutdown(&mut self, timeout: Duration) -> OTelSdkResult {
        SpanExporter::shutdown_with_timeout(&self.inner, timeout)
    }

    fn set_resource(&mut self, resource: &Resource) {
        SpanExporter::set_resource(&mut self.inner, resource);
    }

    fn describe(&self) -> String {
        // Credentials in the URL (`https://user:key@host`) are never printed.
        format!(
            "OTLP/{} {}",
            self.protocol.name(),
            crate::diag::redact_url(&self.endpoint)
        )
    }
}

pub(super) fn otlp(config: &OtlpTarget<'_>) -> Result<Otlp, Error> {
    let error = |source: opentelemetry_otlp::ExporterBuildError| Error::Exporter {
        endpoint: crate::diag::redact_url(config.endpoint).into_owned(),
        source: Box::new(source),
    };
    #[allow(unused_mut)]
    let mut last_error = None;
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
            #[cfg(feature = "tls")]
            if let Some(tls) = config.tls {
                // tonic's own TLS is not compiled in: the channel runs over
                // the connector HTTP uses too, with HTTP/2 as its ALPN.
                let endpoint = tonic::transport::Endpoint::from_shared(config.endpoint.to_owned())
                    .map_err(|source| Error::Exporter {
                        endpoint: crate::diag::redact_url(config.endpoint).into_owned(),
                        source: Box::new(source),
                    })?
                    .connect_timeout(config.timeout)
                    .timeout(config.timeout);
                let channel = endpoint.connect_with_connector_lazy(crate::transport::connector(
                    rustls::ClientConfig::clone(tls),
                    true,
                ));
                builder = builder.with_channel(channel);
            }
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
            #[cfg(feature = "tls")]
            if let Some(tls) = config.tls {
                let client = crate::transport::HttpClient::new(
                    rustls::ClientConfig::clone(tls),
                    config.timeout,
                );
                last_error = Some(client.last_error());
                builder = builder.with_http_client(client);
            }
            if config.compression == Compression::Gzip {
                builder = builder.with_compression(opentelemetry_otlp::Compression::Gzip);
            }
            builder.build().map_err(error)?
        }
        #[allow(unreachable_patterns)]
        other => {
            return Err(Error::Exporter {
                endpoint: crate::diag::redact_url(config.endpoint).into_owned(),
                source: format!("protocol {other} is not compiled in").into(),
            })
        }
    };
    Ok(Otlp {
        inner,
        last_error,
        endpoint: config.endpoint.to_owned(),
        protocol: config.protocol,
    })
}
