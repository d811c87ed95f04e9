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

#[cfg(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(crate) use connector::connector;
#[cfg(all(feature = "tls", feature = "otlp-http"))]
use connector::Connector;

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

#[cfg(all(feature = "tls", feature = "otlp-http"))]
pub(crate) use http_client::HttpClient;

/// OTLP/HTTP's client over the TLS connector.
#[cfg(all(feature = "tls", feature = "otlp-http"))]
mod http_client {
    use std::sync::{Arc, Mutex, PoisonError};
    use std::time::Duration;

    use opentelemetry_http::hyper::HyperClient;
    use opentelemetry_http::{Bytes, HttpError, Request, Response};

    use super::Connector;

    /// hyper's client over the TLS connector, keeping the last transport
    /// error with its whole chain of causes: the SDK reports only "network
    /// error", which says nothing of a refused certificate.
    #[derive(Clone, Debug)]
    pub(crate) struct HttpClient {
        inner: HyperClient<Connector>,
        last_error: Arc<Mutex<Option<String>>>,
    }

    impl HttpClient {
        pub(crate) fn new(tls: rustls::ClientConfig, timeout: Duration) -> Self {
            Self {
                inner: HyperClient::new(super::connector(tls, false), timeout, None),
                last_error: Arc::default(),
            }
        }

        /// Where the last transport error is kept (taken by the exporter).
        pub(crate) fn last_error(&self) -> Arc<Mutex<Option<String>>> {
            Arc::clone(&self.last_error)
        }
    }

    #[async_trait::async_trait]
    impl opentelemetry_http::HttpClient for HttpClient {
        async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
            let result = self.inner.send_bytes(request).await;
            if let Err(error) = &result {
                let mut chain = error.to_string();
                let mut source = std::error::Error::source(error.as_ref());
                while let Some(cause) = source {
                    let text = cause.to_string();
                    if !chain.contains(&text) {
                        chain.push_str(": ");
                        chain.push_str(&text);
                    }
                    source = cause.source();
                }
                *self
                    .last_error
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner) = Some(chain);
            }
            result
        }
    }
}

#[cfg(all(feature = "tls", any(feature = "otlp-grpc", feature = "otlp-http")))]
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
