//! The client side: `send_traced()` on a `reqwest::RequestBuilder`, in place
//! of `send()`.
//!
//! ## Why an extension trait
//!
//! It is the thinnest wrapper that does the job. Your `reqwest::Client`, its
//! builder API and its `reqwest::Error` stay as they are; a traced call differs
//! from an untraced one by one word. The alternatives cost more:
//!
//! - `reqwest-middleware` (with `reqwest-tracing`) brings its own client type,
//!   its own error type and a dependency tree that has to move in step with
//!   reqwest's;
//! - a `TracedClient` wrapper would have to mirror `get`/`post`/`request`/...
//!   and would still hand out reqwest's `RequestBuilder`, on which the
//!   untraced `send()` stays one keystroke away.
//!
//! What it does not do: trace a call that uses `send()`. Search for `.send()`
//! when you adopt it.

use std::borrow::Cow;
use std::future::Future;

use reqwest::{Request, RequestBuilder, Response, Url};
use tracing::field::Empty;
use tracing::{Instrument, Span};

use super::semconv;

mod sealed {
    pub trait Sealed {}
    impl Sealed for reqwest::RequestBuilder {}
}

/// `send_traced()`: `send()` inside a CLIENT span whose context travels with
/// the request.
///
/// The span is a child of the span current where `send_traced()` is called,
/// and is named `{method}` (`GET`; `HTTP` for a method the conventions do not
/// list), as the HTTP semantic conventions name client spans without a URL
/// template. It carries:
///
/// - `http.request.method` (`_OTHER` and `http.request.method_original` for an
///   unknown method), `server.address`, `server.port` (the scheme's default
///   when the URL has none), and `url.full`: the URL as sent, except that
///   credentials in it (`https://user:secret@host/`) read
///   `REDACTED:REDACTED@`, and so do the values of the query parameters that
///   sign URLs (`AWSAccessKeyId`, `Signature`, `sig`, `X-Goog-Signature`:
///   `?sig=REDACTED`), as the conventions ask;
/// - `http.response.status_code` and `network.protocol.version` once the
///   response head arrives;
/// - on a 4xx or 5xx response (an error for the caller, unlike on a server),
///   `error.type` = the status code and `otel.status_code = "ERROR"`;
/// - when the request fails with no response, `error.type` = what failed
///   (`timeout`, `dns`, `connect`, `redirect`, `body`, `decode`, `request`,
///   `builder`, or `_OTHER`), and the span's status is `ERROR` with the chain
///   of causes as its message.
///
/// Before the request leaves, the span's context is written into its headers
/// (`traceparent`, and `baggage` when there is some, as `OTEL_PROPAGATORS`
/// says, through [`propagation::inject_span`](crate::propagation::inject_span)),
/// so the server's span is the child of this one.
///
/// The span covers the request until the response head has arrived: reading
/// the body (`response.json()`, ...) comes after it ends. Redirects and
/// retries that reqwest performs happen inside the one span. It is an `INFO`
/// span with target `tracelink::http::client`; when a filter turns it off,
/// the caller's context is sent instead.
///
/// ```no_run
/// use tracelink::http::RequestBuilderExt;
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let client = reqwest::Client::new();
///
/// let span = tracing::info_span!("checkout");
/// let response = async {
///     client
///         .get("http://inventory:8080/items/42")
///         .header("accept", "application/json")
///         .send_traced()
///         .await
/// }
/// .instrument(span)
/// .await?;
/// let item: serde_json::Value = response.json().await?;
/// # let _ = item;
/// # Ok(()) }
/// # use tracing::Instrument;
/// ```
///
/// A `reqwest::Request` built beforehand goes through
/// `RequestBuilder::from_parts(client, request).send_traced()`.
///
/// # Errors
///
/// The errors of `RequestBuilder::send`, unchanged. A request that cannot be
/// built (an invalid URL, say) fails before any span is made.
pub trait RequestBuilderExt: sealed::Sealed {
    /// Sends the request inside a CLIENT span; see the [trait](RequestBuilderExt) docs.
    ///
    /// ```no_run
    /// use tracelink::http::RequestBuilderExt;
    ///
    /// # async fn run() -> Result<(), reqwest::Error> {
    /// let response = reqwest::Client::new()
    ///     .post("http://billing:8080/charges")
    ///     .body("{\"amount\":42}")
    ///     .send_traced()
    ///     .await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// The errors of `RequestBuilder::send`, unchanged.
    fn send_traced(self)
        -> impl Future<Output = Result<Response, reqwest::Error>> + Send + 'static;
}

impl RequestBuilderExt for RequestBuilder {
    fn send_traced(
        self,
    ) -> impl Future<Output = Result<Response, reqwest::Error>> + Send + 'static {
        let (client, request) = self.build_split();
        // The span is made here, not at the first poll: its parent is the span
        // current where the call is written.
        let traced = request.map(|mut request| {
            let span = start(&request);
            if span.is_disabled() {
                // Filtered out: pass on the caller's context at least.
                crate::propagation::inject(request.headers_mut());
            } else {
                crate::propagation::inject_span(&span, request.headers_mut());
            }
            (request, span)
        });
        async move {
            let (request, span) = traced?;
            let result = client.execute(request).instrument(span.clone()).await;
            finish(&span, &result);
            result
        }
    }
}

/// The CLIENT span of `request`.
fn start(request: &Request) -> Span {
    let method = semconv::method(request.method());
    let url = request.url();
    tracing::info_span!(
        "http.client.request",
        otel.name = semconv::name_method(method),
        otel.kind = "client",
        otel.status_code = Empty,
        otel.status_description = Empty,
        http.request.method = method,
        http.request.method_original = semconv::method_original(request.method(), method),
        server.address = url.host_str().map(semconv::address),
        server.port = url.port_or_known_default().map(i64::from),
        url.full = &*full_url(url),
        network.protocol.version = Empty,
        http.response.status_code = Empty,
        "error.type" = Empty,
    )
}

/// Records the response's status, or the failure, on the span.
fn finish(span: &Span, result: &Result<Response, reqwest::Error>) {
    match result {
        Ok(response) => {
            let status = response.status();
            span.record("http.response.status_code", i64::from(status.as_u16()));
            span.record(
                "network.protocol.version",
                semconv::protocol_version(response.version()),
            );
            if status.is_client_error() || status.is_server_error() {
                span.record("error.type", status.as_str());
                span.record("otel.status_code", "ERROR");
            }
        }
        Err(error) => {
            let error_type = error_type(error);
            span.record("error.type", error_type);
            span.record("otel.status_code", "ERROR");
            // After the code: the description keeps the status `ERROR`.
            span.record("otel.status_description", causes(error, error_type));
        }
    }
}

/// The query parameters whose values `url.full` hides, as the conventions
/// list them (signed URLs of AWS S3, Azure Storage, Google Cloud Storage).
const SECRET_PARAMETERS: [&str; 4] = ["AWSAccessKeyId", "Signature", "sig", "X-Goog-Signature"];

/// `url.full`: `url` as is, except, as the conventions ask, for its
/// credentials (replaced by `REDACTED:REDACTED`) and the values of the query
/// parameters in [`SECRET_PARAMETERS`] (each replaced by `REDACTED`).
fn full_url(url: &Url) -> Cow<'_, str> {
    let credentials = !url.username().is_empty() || url.password().is_some();
    let query = url.query().and_then(redacted_query);
    if !credentials && query.is_none() {
        return Cow::Borrowed(url.as_str());
    }
    let mut redacted = url.clone();
    if credentials {
        // Both only fail for a URL that cannot have credentials, and this one has.
        let _ = redacted.set_username("REDACTED");
        let _ = redacted.set_password(Some("REDACTED"));
    }
    if let Some(query) = query {
        // Already encoded: made of the URL's own query and `REDACTED`.
        redacted.set_query(Some(&query));
    }
    Cow::Owned(redacted.into())
}

/// `query` with the value of each secret parameter replaced by `REDACTED`;
/// `None` when it has none. Names are compared as sent, case and all.
fn redacted_query(query: &str) -> Option<String> {
    let secret = |pair: &str| {
        pair.split_once('=')
            .is_some_and(|(name, _)| SECRET_PARAMETERS.contains(&name))
    };
    if !query.split('&').any(secret) {
        return None;
    }
    let mut out = String::with_capacity(query.len());
    for (i, pair) in query.split('&').enumerate() {
        if i > 0 {
            out.push('&');
        }
        match pair.split_once('=') {
            Some((name, _)) if SECRET_PARAMETERS.contains(&name) => {
                out.push_str(name);
                out.push_str("=REDACTED");
            }
            _ => out.push_str(pair),
        }
    }
    Some(out)
}

/// `error.type` of a request that got no response: what failed, low
/// cardinality.
fn error_type(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timeout"
    } else if error.is_dns() {
        "dns"
    } else if error.is_connect() {
        "connect"
    } else if error.is_redirect() {
        "redirect"
    } else if error.is_body() {
        "body"
    } else if error.is_decode() {
        "decode"
    } else if error.is_request() {
        "request"
    } else if error.is_builder() {
        "builder"
    } else {
        semconv::OTHER
    }
}

/// The error's causes, `: `-separated. Not the error's own message: it ends
/// with the URL, which may carry credentials.
fn causes(error: &reqwest::Error, error_type: &str) -> String {
    let mut out = String::new();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&cause.to_string());
        source = cause.source();
    }
    if out.is_empty() {
        out.push_str(error_type);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full(url: &str) -> String {
        full_url(&Url::parse(url).unwrap()).into_owned()
    }

    #[test]
    fn credentials_are_redacted_and_nothing_else_changes() {
        assert_eq!(
            full("https://user:secret@example.com:8443/a/b?c=d&e=f#g"),
            "https://REDACTED:REDACTED@example.com:8443/a/b?c=d&e=f#g"
        );
        assert_eq!(
            full("http://user@example.com/"),
            "http://REDACTED:REDACTED@example.com/"
        );
        assert_eq!(
            full("http://:secret@[::1]:80/x"),
            "http://REDACTED:REDACTED@[::1]/x"
        );
        for plain in [
            "http://example.com/",
            "http://127.0.0.1:9/a%20b?q=user:pass@x",
            "https://example.com/path@with@ats",
        ] {
            assert_eq!(full(plain), plain);
        }
    }

    #[test]
    fn signature_parameters_are_redacted() {
        assert_eq!(
            full("https://bucket.s3.amazonaws.com/k?AWSAccessKeyId=AKIA&Expires=1&Signature=abc%2Bd"),
            "https://bucket.s3.amazonaws.com/k?AWSAccessKeyId=REDACTED&Expires=1&Signature=REDACTED"
        );
        assert_eq!(
            full("https://acct.blob.core.windows.net/c/b?sv=2022&sig=x%3D&se=2#frag"),
            "https://acct.blob.core.windows.net/c/b?sv=2022&sig=REDACTED&se=2#frag"
        );
        assert_eq!(
            full("https://storage.googleapis.com/b/o?X-Goog-Signature=f00&X-Goog-Date=1"),
            "https://storage.googleapis.com/b/o?X-Goog-Signature=REDACTED&X-Goog-Date=1"
        );
        // Every occurrence; an empty value too; credentials as well.
        assert_eq!(
            full("http://u:p@h/?sig=1&sig=&a=b"),
            "http://REDACTED:REDACTED@h/?sig=REDACTED&sig=REDACTED&a=b"
        );
        // Other names, other cases, a name without a value, a value that
        // looks like a name: unchanged.
        for plain in [
            "http://h/?signature=1&SIG=2&xsig=3",
            "http://h/?sig",
            "http://h/?a=sig=1",
            "http://h/?a=1&&b=%20",
        ] {
            assert_eq!(full(plain), plain);
        }
    }

    #[test]
    fn the_extension_future_is_send() {
        fn check<T: Send + 'static>(_: &T) {}
        let future = reqwest::Client::new()
            .get("http://127.0.0.1:9/")
            .send_traced();
        check(&future);
    }
}
