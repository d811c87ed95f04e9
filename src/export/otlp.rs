//! OTLP over gRPC (tonic) or HTTP/protobuf (hyper), for every signal that
//! `opentelemetry-otlp` exports (spans, log records): one place turns an
//! [`OtlpTarget`] into a configured exporter (endpoint, timeout, headers,
//! TLS over tracelink's own connector, compression), and [`Otlp`] names it
//! by its endpoint in diagnostics and adds the transport's own error to the
//! SDK's "network error".

use std::sync::{Arc, Mutex, PoisonError};

use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};

use super::OtlpTarget;
use crate::trace::{Compression, Protocol};
use crate::Error;

/// The HTTP client's last transport error, whole.
type LastError = Arc<Mutex<Option<String>>>;

/// An `opentelemetry-otlp` exporter and the endpoint it sends to.
#[derive(Debug)]
pub(crate) struct Otlp<E> {
    pub(crate) inner: E,
    /// The HTTP client's last transport error: the SDK's own error says
    /// only "network error".
    last_error: Option<LastError>,
    endpoint: String,
    protocol: Protocol,
}

impl<E> Otlp<E> {
    /// `result`, with the transport's error added to a failure.
    pub(crate) fn explain(&self, result: OTelSdkResult) -> OTelSdkResult {
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
    }

    /// `OTLP/grpc https://collector:4317`, without credentials.
    pub(crate) fn describe(&self) -> String {
        format!(
            "OTLP/{} {}",
            self.protocol.name(),
            crate::diag::redact_url(&self.endpoint)
        )
    }
}

/// An exporter `opentelemetry-otlp` builds for both transports.
pub(crate) trait OtlpExporter: Sized {
    /// `span`, `log`: named in a build error.
    const SIGNAL: &'static str;
    #[cfg(feature = "otlp-grpc")]
    fn grpc(target: &OtlpTarget<'_>) -> Result<Self, Error>;
    #[cfg(feature = "otlp-http")]
    fn http(target: &OtlpTarget<'_>, last_error: &mut Option<LastError>) -> Result<Self, Error>;
}

/// Implements [`OtlpExporter`] for an `opentelemetry-otlp` exporter type.
macro_rules! otlp_exporter {
    ($exporter:ty, $signal:literal) => {
        impl crate::export::otlp::OtlpExporter for $exporter {
            const SIGNAL: &'static str = $signal;

            #[cfg(feature = "otlp-grpc")]
            fn grpc(target: &crate::export::OtlpTarget<'_>) -> Result<Self, crate::Error> {
                crate::export::otlp::grpc(<$exporter>::builder().with_tonic(), target)?
                    .build()
                    .map_err(|e| target.error($signal, e))
            }

            #[cfg(feature = "otlp-http")]
            fn http(
                target: &crate::export::OtlpTarget<'_>,
                last_error: &mut Option<std::sync::Arc<std::sync::Mutex<Option<String>>>>,
            ) -> Result<Self, crate::Error> {
                crate::export::otlp::http(<$exporter>::builder().with_http(), target, last_error)
                    .build()
                    .map_err(|e| target.error($signal, e))
            }
        }
    };
}
pub(crate) use otlp_exporter;

/// The exporter of `E`'s signal to `target`, over its protocol.
pub(crate) fn build<E: OtlpExporter>(target: &OtlpTarget<'_>) -> Result<Otlp<E>, Error> {
    #[allow(unused_mut)]
    let mut last_error = None;
    let inner = match target.protocol {
        #[cfg(feature = "otlp-grpc")]
        Protocol::Grpc => E::grpc(target)?,
        #[cfg(feature = "otlp-http")]
        Protocol::HttpProtobuf => E::http(target, &mut last_error)?,
        #[allow(unreachable_patterns)]
        other => {
            return Err(target.error(
                E::SIGNAL,
                format!("protocol {other} is not compiled in; enable tracelink's `otlp-grpc` or `otlp-http` feature"),
            ))
        }
    };
    Ok(Otlp {
        inner,
        last_error,
        endpoint: target.endpoint.to_owned(),
        protocol: target.protocol,
    })
}

/// A gRPC exporter builder set up for `target`.
#[cfg(feature = "otlp-grpc")]
pub(crate) fn grpc<B>(builder: B, target: &OtlpTarget<'_>) -> Result<B, Error>
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithTonicConfig,
{
    let mut metadata = tonic::metadata::MetadataMap::new();
    for (key, value) in target.headers {
        // Checked when the configuration was resolved.
        if let (Ok(key), Ok(value)) = (
            tonic::metadata::MetadataKey::from_bytes(key.as_bytes()),
            value.parse(),
        ) {
            metadata.insert(key, value);
        }
    }
    #[allow(unused_mut)]
    let mut builder = builder
        .with_endpoint(target.endpoint.to_owned())
        .with_timeout(target.timeout)
        .with_metadata(metadata);
    #[cfg(feature = "tls")]
    if let Some(tls) = target.tls {
        // tonic's own TLS is not compiled in: the channel runs over the
        // connector HTTP uses too, with HTTP/2 as its ALPN.
        let endpoint = tonic::transport::Endpoint::from_shared(target.endpoint.to_owned())
            .map_err(|source| target.error("OTLP", source))?
            .connect_timeout(target.timeout)
            .timeout(target.timeout);
        let channel = endpoint.connect_with_connector_lazy(crate::transport::connector(
            rustls::ClientConfig::clone(tls),
            true,
        ));
        builder = builder.with_channel(channel);
    }
    Ok(match target.compression {
        Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        Compression::None => builder,
    })
}

/// An HTTP exporter builder set up for `target`; over TLS, `last_error`
/// gets the client's last transport error.
#[cfg(feature = "otlp-http")]
pub(crate) fn http<B>(builder: B, target: &OtlpTarget<'_>, last_error: &mut Option<LastError>) -> B
where
    B: opentelemetry_otlp::WithExportConfig + opentelemetry_otlp::WithHttpConfig,
{
    #[allow(unused_mut)]
    let mut builder = builder
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(target.endpoint.to_owned())
        .with_timeout(target.timeout)
        .with_headers(target.headers.iter().cloned().collect());
    #[cfg(feature = "tls")]
    if let Some(tls) = target.tls {
        let client =
            crate::transport::HttpClient::new(rustls::ClientConfig::clone(tls), target.timeout);
        *last_error = Some(client.last_error());
        builder = builder.with_http_client(client);
    }
    #[cfg(not(feature = "tls"))]
    let _ = last_error;
    match target.compression {
        Compression::Gzip => builder.with_compression(opentelemetry_otlp::Compression::Gzip),
        Compression::None => builder,
    }
}
