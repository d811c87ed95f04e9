//! How OTLP reaches its destination, for every signal: TLS and the
//! connector that both protocols share.
//!
//! `http://` endpoints connect in plain text; `https://` ones with TLS
//! ([`tls`]), verified against the platform's roots or the CA file the
//! configuration names. The same connector (`hyper-rustls` over hyper's
//! TCP connector) carries OTLP/HTTP (HTTP/1.1) and, as the transport of a
//! tonic channel, OTLP/gRPC (HTTP/2).

#[cfg(feature = "tls")]
pub(crate) mod tls;

#[cfg(feature = "tls")]
#[cfg_attr(not(any(feature = "otlp-grpc", feature = "otlp-http")), allow(unused_imports))]
pub(crate) use connector::connector;

/// A failed export's TLS reason in words, when TLS is why it failed.
pub(crate) fn explain_tls(error: &str) -> Option<&'static str> {
    #[cfg(feature = "tls")]
    return tls::explain(error);
    #[cfg(not(feature = "tls"))]
    {
        let _ = error;
        None
    }
}

/// The TLS client configuration for one `https://` destination.
#[cfg(feature = "tls")]
pub(crate) type ClientTls = std::sync::Arc<rustls::ClientConfig>;

/// Without the `tls` feature there is no TLS to configure.
#[cfg(not(feature = "tls"))]
#[derive(Clone, Debug)]
pub(crate) enum ClientTls {}

#[cfg(feature = "tls")]
mod connector {
    use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
    use hyper_util::client::legacy::connect::HttpConnector;

    /// Connects `http://` in plain text and `https://` with TLS.
    pub(crate) type Connector = HttpsConnector<HttpConnector>;

    /// A connector with `tls` for `https://`, speaking HTTP/2 only (gRPC)
    /// or HTTP/1.1 only (OTLP/HTTP).
    pub(crate) fn connector(tls: rustls::ClientConfig, http2: bool) -> Connector {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        let builder = HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http();
        if http2 {
            builder.enable_http2().wrap_connector(tcp)
        } else {
            builder.enable_http1().wrap_connector(tcp)
        }
    }
}
