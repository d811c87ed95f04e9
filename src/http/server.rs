//! The server side: a tower [`Layer`] that gives every request a SERVER span
//! continuing the caller's trace, and records `http.server.request.duration`.
//!
//! Three types, as tower-http's trace middleware has them: the layer
//! ([`ServerLayer`], the configuration), the service it wraps around yours
//! ([`ServerService`], which starts the span in `call`) and the response
//! future ([`ResponseFuture`], which records the outcome and the duration
//! when the response head is ready, inside the span).

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Once};
use std::task::{ready, Context, Poll};
use std::time::Instant;

use http::header::{HOST, USER_AGENT};
use http::uri::Authority;
use http::{Extensions, Request, Response, StatusCode};
use metrics::{Label, SharedString, Unit};
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;
use tracing::field::Empty;
use tracing::Span;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::semconv;

/// The name the request duration histogram is recorded under.
///
/// It is the OpenTelemetry metric `http.server.request.duration` (seconds) as
/// its Prometheus exposition names it, `http_server_request_duration_seconds`,
/// with the OpenTelemetry attribute names as labels (`http.request.method`
/// → `http_request_method`, ...). Use it to give the histogram buckets of its
/// own, such as the ones the conventions advise:
///
/// ```
/// use tracelink::http::SERVER_REQUEST_DURATION;
/// use tracelink::{metrics::Matcher, metrics::MetricsConfig};
///
/// let config = MetricsConfig::default().with_buckets(
///     Matcher::Full(SERVER_REQUEST_DURATION.into()),
///     &[0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0],
/// );
/// # let _ = config;
/// ```
pub const SERVER_REQUEST_DURATION: &str = "http_server_request_duration_seconds";

/// The paths [`ServerLayer`] skips unless told otherwise: health checks and
/// scrapes, which would drown the real traffic in spans.
///
/// ```
/// use tracelink::http::{ServerLayer, DEFAULT_SKIPPED_PATHS};
///
/// let layer = ServerLayer::new()
///     .with_skipped_paths(DEFAULT_SKIPPED_PATHS.iter().copied().chain(["/livez"]));
/// # let _ = layer;
/// ```
pub const DEFAULT_SKIPPED_PATHS: &[&str] = &["/health", "/healthz", "/ready", "/metrics"];

/// A route extractor: the route template that matched a request, read from
/// the request's extensions, where routers leave it.
type RouteFn = fn(&Extensions) -> Option<&str>;

/// A tower [`Layer`] that traces HTTP requests and measures their duration.
///
/// For each request it wraps, it:
///
/// - reads the caller's context from the headers (W3C `traceparent` and
///   `baggage` by default, as `OTEL_PROPAGATORS` says, through
///   [`propagation::extract`](crate::propagation::extract)), and starts a
///   SERVER span whose parent is the caller's span, in the caller's trace.
///   Without a valid `traceparent` the span starts a new trace, even when
///   `call` runs inside another span (a connection's, say: it stays the
///   span's parent for `tracing`, not for OpenTelemetry). The caller's
///   baggage is current in the span either way, and goes on with the calls
///   made inside it;
/// - names it `{method} {route}` (`GET /orders/{id}`), or just `{method}` when
///   no route is known ([`with_route`](Self::with_route)), `HTTP` for a
///   method the conventions do not list;
/// - sets the stable HTTP semantic-convention attributes: `http.request.method`
///   (`_OTHER` and `http.request.method_original` for an unknown method),
///   `http.route`, `url.path`, `url.query`, `url.scheme`, `server.address` and
///   `server.port` (from the URI's authority, else the `Host` header),
///   `user_agent.original`, `network.protocol.version`,
///   `http.response.status_code`;
/// - marks the span failed (`otel.status_code = "ERROR"`, `error.type` = the
///   status code) on a 5xx response, and (`error.type = "_OTHER"`) when the
///   service returns `Err` or the request is abandoned (see below). A 4xx is
///   the client's mistake, not the server's: not an error on a server span;
/// - records the duration in the [`SERVER_REQUEST_DURATION`] histogram, with
///   `http.request.method`, `http.route`, `http.response.status_code`,
///   `url.scheme` and `error.type` as labels. It is recorded inside the span,
///   so a sampled request's bucket carries the span's ids as its exemplar.
///
/// Requests to [`DEFAULT_SKIPPED_PATHS`] (or the paths of
/// [`with_skipped_paths`](Self::with_skipped_paths)) pass through untouched:
/// no span, no metric.
///
/// ## What the span and the duration cover
///
/// The span is entered while your service's `call` runs and whenever its
/// response future is polled, and it ends when that future completes: the
/// handler's own spans and events are its children. The duration runs from
/// `call` to the moment the response head (status and headers) is ready;
/// streaming the body comes after and is not included, as with tower-http's
/// `TraceLayer`.
///
/// A request abandoned before its response is ready (the client hung up, and
/// the server dropped the response future) ends its span then, without a
/// status code, with `error.type = "_OTHER"` (the conventions' value for an
/// error without a more specific one); the duration, up to that moment, is
/// recorded with the same label. Your service's future is dropped inside the
/// span, so what its drop logs belongs to the request.
///
/// The spans are `INFO` spans with target `tracelink::http::server`; a filter
/// that turns them off leaves the metric in place.
///
/// With tonic, spans and durations work, but a gRPC call's status travels in
/// the trailers, after the head: a failed call reads as `200` here.
///
/// ## With axum
///
/// Add it with `Router::layer`, which wraps each route after routing, so that
/// the matched route is in the request's extensions for
/// [`with_route`](Self::with_route) to find. (Wrapping the whole `Router` from
/// outside, with `ServiceBuilder`, runs the layer before routing: spans are
/// then named by method only.)
///
/// ```no_run
/// use axum::extract::MatchedPath;
/// use axum::routing::get;
/// use axum::Router;
/// use tracelink::http::ServerLayer;
///
/// #[tokio::main]
/// async fn main() -> Result<(), Box<dyn std::error::Error>> {
///     let _guard = tracelink::init()?;
///
///     let app = Router::new()
///         .route("/orders/{id}", get(|| async { "an order" }))
///         .route("/health", get(|| async { "ok" }))
///         .layer(
///             ServerLayer::new()
///                 .with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
///         );
///     let listener = tokio::net::TcpListener::bind("0.0.0.0:8080").await?;
///     axum::serve(listener, app).await?;
///     Ok(())
/// }
/// ```
///
/// ## With any tower service
///
/// ```
/// use std::convert::Infallible;
///
/// use tower::{ServiceBuilder, ServiceExt};
/// use tracelink::http::ServerLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Infallible> {
/// let service = ServiceBuilder::new()
///     .layer(ServerLayer::new())
///     .service_fn(|_request: http::Request<String>| async {
///         Ok::<_, Infallible>(http::Response::new(String::from("hello")))
///     });
/// let response = service.oneshot(http::Request::new(String::new())).await?;
/// assert_eq!(response.body(), "hello");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ServerLayer {
    route: Option<RouteFn>,
    skipped: Arc<[Box<str>]>,
    scheme: &'static str,
    /// Describes the histogram once, on the recorder of the first request.
    described: Arc<Once>,
}

impl ServerLayer {
    /// A layer with the defaults: no route, [`DEFAULT_SKIPPED_PATHS`] skipped,
    /// `url.scheme` `http`.
    ///
    /// ```
    /// let layer = tracelink::http::ServerLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self {
            route: None,
            skipped: DEFAULT_SKIPPED_PATHS
                .iter()
                .map(|&p| Box::from(p))
                .collect(),
            scheme: "http",
            described: Arc::new(Once::new()),
        }
    }

    /// How to find the route template that matched a request (`/orders/{id}`,
    /// not `/orders/42`): a function of the request's extensions, where
    /// routers leave it. It names the span and sets `http.route`; `None`, or no
    /// function, leaves both without a route.
    ///
    /// The route is a metric label: it must come from the router's table, never
    /// from the raw path, or each distinct URL becomes a series of its own.
    ///
    /// With axum, read its `MatchedPath` (and add the layer with
    /// `Router::layer`, see [`ServerLayer`]):
    ///
    /// ```
    /// use axum::extract::MatchedPath;
    /// use tracelink::http::ServerLayer;
    ///
    /// let layer = ServerLayer::new()
    ///     .with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str));
    /// # let _ = layer;
    /// ```
    ///
    /// Defaults to none.
    #[must_use]
    pub fn with_route(mut self, route: fn(&Extensions) -> Option<&str>) -> Self {
        self.route = Some(route);
        self
    }

    /// The request paths to let through untraced and unmeasured, compared
    /// exactly (no prefix, no pattern) with the URI's path; replaces the
    /// list. An empty list traces every request.
    ///
    /// ```
    /// let layer = tracelink::http::ServerLayer::new().with_skipped_paths(["/ping"]);
    /// # let _ = layer;
    /// ```
    ///
    /// Defaults to [`DEFAULT_SKIPPED_PATHS`]: `/health`, `/healthz`, `/ready`,
    /// `/metrics`.
    #[must_use]
    pub fn with_skipped_paths<I>(mut self, paths: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.skipped = paths
            .into_iter()
            .map(|p| p.into().into_boxed_str())
            .collect();
        self
    }

    /// The `url.scheme` of requests whose URI carries no scheme, which is
    /// nearly all of them (HTTP/1.1 sends only the path). Set `"https"` when
    /// this server terminates TLS; a scheme in the URI (HTTP/2's `:scheme`)
    /// wins when it is `http` or `https`.
    ///
    /// ```
    /// let layer = tracelink::http::ServerLayer::new().with_scheme("https");
    /// # let _ = layer;
    /// ```
    ///
    /// Defaults to `"http"`.
    #[must_use]
    pub fn with_scheme(mut self, scheme: &'static str) -> Self {
        self.scheme = scheme;
        self
    }

    fn skips(&self, path: &str) -> bool {
        self.skipped.iter().any(|skipped| **skipped == *path)
    }

    fn describe_once(&self) {
        self.described.call_once(|| {
            metrics::describe_histogram!(
                SERVER_REQUEST_DURATION,
                Unit::Seconds,
                "Duration of HTTP server requests, until the response head is ready."
            );
        });
    }

    /// The span and what the response future needs to finish it.
    fn start<B>(&self, request: &Request<B>, start: Instant) -> Started {
        let method = semconv::method(request.method());
        let route = self
            .route
            .and_then(|route| route(request.extensions()))
            .map(str::to_owned);
        let name_method = semconv::name_method(method);
        let name: Cow<'static, str> = match &route {
            Some(route) => Cow::Owned(format!("{name_method} {route}")),
            None => Cow::Borrowed(name_method),
        };
        let uri = request.uri();
        let scheme = match uri.scheme_str() {
            Some("https") => "https",
            Some("http") => "http",
            _ => self.scheme,
        };
        let authority = uri.authority().cloned().or_else(|| {
            let host = request.headers().get(HOST)?;
            Authority::try_from(host.as_bytes()).ok()
        });
        let user_agent = request
            .headers()
            .get(USER_AGENT)
            .map(|agent| String::from_utf8_lossy(agent.as_bytes()));
        let span = tracing::info_span!(
            "http.server.request",
            otel.name = &*name,
            otel.kind = "server",
            otel.status_code = Empty,
            http.request.method = method,
            http.request.method_original = semconv::method_original(request.method(), method),
            http.route = route.as_deref(),
            url.path = uri.path(),
            url.query = uri.query(),
            url.scheme = scheme,
            server.address = authority.as_ref().map(|a| semconv::address(a.host())),
            server.port = authority
                .as_ref()
                .and_then(Authority::port_u16)
                .map(i64::from),
            user_agent.original = user_agent.as_deref(),
            network.protocol.version = semconv::protocol_version(request.version()),
            http.response.status_code = Empty,
            "error.type" = Empty,
        );
        // Always the parent, even empty: the caller's span (with its
        // baggage), else a new trace (with the caller's baggage, if any),
        // never the span around this call (a connection's, say).
        // Fails only when no OpenTelemetry layer sees this span (none
        // installed, or the span filtered out): nothing to link then.
        let _ = span.set_parent(crate::propagation::extract(request.headers()));
        Started {
            span,
            start,
            method,
            route,
            scheme,
        }
    }
}

impl Default for ServerLayer {
    /// Same as [`ServerLayer::new`].
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for ServerLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerLayer")
            .field("route", &self.route.is_some())
            .field("skipped", &self.skipped)
            .field("scheme", &self.scheme)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for ServerLayer {
    type Service = ServerService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ServerService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`ServerLayer`] makes: yours, inside a SERVER span per
/// request. See [`ServerLayer`] for what it records.
///
/// ```
/// use std::convert::Infallible;
///
/// use tower::{Layer, ServiceExt};
/// use tracelink::http::ServerLayer;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Infallible> {
/// let service = ServerLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
///     Ok::<_, Infallible>(http::Response::new(()))
/// }));
/// let response = service.oneshot(http::Request::new(())).await?;
/// assert_eq!(response.status(), http::StatusCode::OK);
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct ServerService<S> {
    inner: S,
    layer: ServerLayer,
}

impl<S> ServerService<S> {
    /// The service this one wraps.
    ///
    /// ```
    /// use tower::Layer;
    ///
    /// let service = tracelink::http::ServerLayer::new().layer(tower::service_fn(
    ///     |_: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) },
    /// ));
    /// let _inner = service.get_ref();
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The service this one wraps, mutably.
    ///
    /// ```
    /// use tower::Layer;
    ///
    /// let mut service = tracelink::http::ServerLayer::new().layer(tower::service_fn(
    ///     |_: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) },
    /// ));
    /// let _inner = service.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// The service this one wraps, unwrapped.
    ///
    /// ```
    /// use tower::Layer;
    ///
    /// let service = tracelink::http::ServerLayer::new().layer(tower::service_fn(
    ///     |_: http::Request<()>| async { Ok::<_, std::convert::Infallible>(http::Response::new(())) },
    /// ));
    /// let _inner = service.into_inner();
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for ServerService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let start = Instant::now();
        if self.layer.skips(request.uri().path()) {
            return ResponseFuture {
                inner: Some(self.inner.call(request)),
                started: None,
            };
        }
        self.layer.describe_once();
        let started = self.layer.start(&request, start);
        let inner = {
            let _entered = started.span.enter();
            self.inner.call(request)
        };
        ResponseFuture {
            inner: Some(inner),
            started: Some(started),
        }
    }
}

/// A request in flight: its span and what its metric needs.
struct Started {
    span: Span,
    start: Instant,
    method: &'static str,
    route: Option<String>,
    scheme: &'static str,
}

impl Started {
    /// Records the outcome on the span and the duration in the histogram
    /// (`route` is `self.route`, taken). Called inside the span, so that the
    /// sample's exemplar is this span.
    fn finish<B, E>(&self, result: &Result<Response<B>, E>, route: Option<String>) {
        match result {
            Ok(response) => {
                let code = response.status();
                let error_type = code
                    .is_server_error()
                    .then(|| SharedString::from(code.as_str().to_owned()));
                self.record(Some(code), error_type, route);
            }
            Err(_) => self.record(None, Some(SharedString::const_str(semconv::OTHER)), route),
        }
    }

    /// Records a request abandoned before its response was ready: no status
    /// code, `error.type = "_OTHER"`. Called inside the span.
    fn abandon(&self, route: Option<String>) {
        self.record(None, Some(SharedString::const_str(semconv::OTHER)), route);
    }

    fn record(
        &self,
        status: Option<StatusCode>,
        error_type: Option<SharedString>,
        route: Option<String>,
    ) {
        let duration = self.start.elapsed().as_secs_f64();
        if let Some(code) = status {
            self.span
                .record("http.response.status_code", i64::from(code.as_u16()));
        }
        if let Some(error_type) = &error_type {
            self.span.record("error.type", &**error_type);
            self.span.record("otel.status_code", "ERROR");
        }
        let mut labels = Vec::with_capacity(5);
        labels.push(Label::from_static_parts("http.request.method", self.method));
        if let Some(route) = route {
            labels.push(Label::new("http.route", route));
        }
        if let Some(code) = status {
            labels.push(Label::new(
                "http.response.status_code",
                code.as_str().to_owned(),
            ));
        }
        labels.push(Label::from_static_parts("url.scheme", self.scheme));
        if let Some(error_type) = error_type {
            labels.push(Label::new("error.type", error_type));
        }
        metrics::histogram!(SERVER_REQUEST_DURATION, labels).record(duration);
    }
}

pin_project! {
    /// The response future of [`ServerService`]: your service's, inside the
    /// request's span. When it completes it records the status, the error if
    /// any, and the duration, then ends the span; dropped before that (the
    /// request abandoned), it drops your service's future inside the span,
    /// records the duration with `error.type = "_OTHER"`, and ends the span.
    ///
    /// ```
    /// use std::convert::Infallible;
    ///
    /// use tower::{Layer, Service};
    /// use tracelink::http::{ResponseFuture, ServerLayer};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Infallible> {
    /// let mut service = ServerLayer::new().layer(tower::service_fn(|_: http::Request<()>| async {
    ///     Ok::<_, Infallible>(http::Response::new(()))
    /// }));
    /// let future: ResponseFuture<_> = service.call(http::Request::new(()));
    /// let response = future.await?;
    /// # let _ = response;
    /// # Ok(()) }
    /// ```
    pub struct ResponseFuture<F> {
        // `None` once dropped early, inside the span.
        #[pin]
        inner: Option<F>,
        // `None` for a skipped path, and once finished.
        started: Option<Started>,
    }

    impl<F> PinnedDrop for ResponseFuture<F> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Finished, or never traced: the fields drop as usual.
            let Some(mut started) = this.started.take() else {
                return;
            };
            let route = started.route.take();
            let _entered = started.span.enter();
            this.inner.set(None);
            started.abandon(route);
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // UNWRAP: only the drop empties `inner`, and nothing polls a future
        // being dropped.
        let inner = this.inner.as_pin_mut().expect("polled after drop");
        let Some(started) = this.started.as_mut() else {
            return inner.poll(cx);
        };
        let result = {
            let _entered = started.span.enter();
            let result = ready!(inner.poll(cx));
            let route = started.route.take();
            started.finish(&result, route);
            result
        };
        // Dropping the span ends it.
        *this.started = None;
        Poll::Ready(result)
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("span", &self.started.as_ref().map(|s| &s.span))
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skipped_paths_match_exactly() {
        let layer = ServerLayer::new();
        for path in DEFAULT_SKIPPED_PATHS {
            assert!(layer.skips(path), "{path}");
        }
        for path in ["/", "/health/", "/healthz/x", "/metricsx", "/HEALTH"] {
            assert!(!layer.skips(path), "{path}");
        }
        let layer = layer.with_skipped_paths(["/ping"]);
        assert!(layer.skips("/ping"));
        assert!(!layer.skips("/health"));
        assert!(!ServerLayer::new()
            .with_skipped_paths(Vec::<String>::new())
            .skips("/health"));
    }

    #[test]
    fn public_types_are_send_sync_debug() {
        fn check<T: Send + Sync + fmt::Debug>() {}
        check::<ServerLayer>();
        check::<ServerService<()>>();
        check::<ResponseFuture<std::future::Ready<Result<Response<()>, ()>>>>();
    }
}
