//! [`OtlpTarget`]: where one signal's OTLP exporter sends, as the
//! configuration resolved it, whatever transports the build has.

use crate::trace::{Compression, Protocol};
use crate::Error;

/// What a build without any OTLP transport says when asked for one.
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(crate) const NO_TRANSPORT: &str =
    "this build has no OTLP transport; enable tracelink's `otlp-grpc` or `otlp-http` feature";

/// The OTLP destination of one signal: endpoint, protocol, headers
/// (checked already), timeout and compression.
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

impl OtlpTarget<'_> {
    /// The build error for this endpoint, which never shows its credentials.
    pub(crate) fn error(
        &self,
        signal: &'static str,
        source: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
    ) -> Error {
        Error::Exporter {
            signal,
            endpoint: crate::diag::redact_url(self.endpoint).into_owned(),
            source: source.into(),
        }
    }
}
