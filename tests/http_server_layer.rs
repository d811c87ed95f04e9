//! `tracelink::http::ServerLayer` on a real axum server: each request is a
//! SERVER span continuing the caller's trace, with the HTTP semantic
//! conventions' attributes, and a sample of `http_server_request_duration_seconds`
//! whose exemplar is that span. Spans go to a real OTLP receiver; metrics are
//! rendered and read back with the official OpenMetrics parser.

#![cfg(feature = "tower")]

#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{MatchedPath, Path};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as OtelStatus;
use serde_json::Value;
use support::{ReceivedSpan, Receiver};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tower::{ServiceBuilder, ServiceExt};
use tracelink::http::{ServerLayer, SERVER_REQUEST_DURATION};
use tracelink::metrics::Format;
use tracing::Instrument;

const WAIT: Duration = Duration::from_secs(10);
const FAMILY: &str = "http_server_request_duration_seconds";

/// Incoming contexts: trace id, parent span id.
const TRACE_A: &str = "0af7651916cd43dd8448eb211c80319c";
const PARENT_A: &str = "b7ad6b7169203331";
const TRACE_B: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT_B: &str = "00f067aa0ba902b7";
const TRACE_FAIL: &str = "11111111111111111111111111111111";
const PARENT_FAIL: &str = "2222222222222222";

/// Runs `f` to completion on a current-thread runtime, with tracelink's
/// subscriber and recorder as this thread's defaults: the server's tasks run
/// on this thread, inside both. Returns the OpenMetrics rendering.
fn run<F: std::future::Future<Output = ()>>(parts: &tracelink::Parts, f: F) -> String {
    metrics::with_local_recorder(parts.metrics_recorder(), || {
        support::block_on_traced(parts, f);
    });
    parts.metrics_handle().render(Format::OpenMetrics)
}

async fn order(Path(id): Path<String>) -> String {
    // A child of the request's span.
    async { tokio::task::yield_now().await }
        .instrument(tracing::info_span!("load_order", order.id = %id))
        .await;
    format!("order {id}")
}

fn app() -> Router {
    Router::new()
        .route("/orders/{id}", get(order))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "boom") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/health", get(|| async { "ok" }))
        .layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
}

fn traceparent(trace_id: &str, span_id: &str, flags: &str) -> String {
    format!("00-{trace_id}-{span_id}-{flags}")
}

/// `GET /orders/5` over HTTP/1.0, without a `Host` header; the raw response.
async fn raw_http10(port: u16) -> String {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    stream
        .write_all(b"GET /orders/5 HTTP/1.0\r\n\r\n")
        .await
        .expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    String::from_utf8_lossy(&response).into_owned()
}

/// The one span whose `url.path` (and `url.query`, if any) is `path`.
fn span_at<'a>(spans: &'a [ReceivedSpan], path: &str, method: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.attr("url.path").as_deref() == Some(path))
        .filter(|s| {
            s.attr("http.request.method_original")
                .as_deref()
                .unwrap_or(s.attr("http.request.method").as_deref().unwrap_or_default())
                == method
        })
        .collect();
    assert_eq!(found.len(), 1, "spans for {method} {path}: {found:#?}");
    found[0]
}

fn assert_not_error(span: &ReceivedSpan) {
    assert_eq!(span.status_code(), OtelStatus::Unset, "{}", span.name());
    assert_eq!(span.attr("error.type"), None, "{}", span.name());
}

fn assert_error(span: &ReceivedSpan, error_type: &str) {
    assert_eq!(span.status_code(), OtelStatus::Error, "{}", span.name());
    assert_eq!(span.attr("error.type").as_deref(), Some(error_type));
}

/// The histogram's samples, as the OpenMetrics parser read them.
fn samples(body: &str) -> Vec<Value> {
    let summary = prometheus::openmetrics_check(body).unwrap_or_else(|e| panic!("{e}\n{body}"));
    let family = summary["families"]
        .as_array()
        .expect("families")
        .iter()
        .find(|f| f["name"] == FAMILY)
        .unwrap_or_else(|| panic!("no {FAMILY} family:\n{body}"));
    assert_eq!(family["type"], "histogram");
    assert_eq!(family["unit"], "seconds");
    assert!(
        family["help"].as_str().is_some_and(|h| !h.is_empty()),
        "{family}"
    );
    family["samples"].as_array().expect("samples").clone()
}

fn labels(sample: &Value) -> BTreeMap<String, String> {
    sample["labels"]
        .as_object()
        .expect("labels")
        .iter()
        .filter(|(k, _)| *k != "le")
        .map(|(k, v)| (k.clone(), v.as_str().expect("a string label").to_owned()))
        .collect()
}

fn label_set(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// The `_count` of the series with exactly these labels.
fn count(samples: &[Value], series: &BTreeMap<String, String>) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == format!("{FAMILY}_count") && labels(s) == *series)
        .and_then(|s| s["value"].as_f64())
}

/// How many samples the histogram holds, over all series.
fn total(samples: &[Value]) -> f64 {
    samples
        .iter()
        .filter(|s| s["name"] == format!("{FAMILY}_count"))
        .filter_map(|s| s["value"].as_f64())
        .sum()
}

/// The (trace id, span id) of every exemplar in the series with these labels.
fn exemplars(samples: &[Value], series: &BTreeMap<String, String>) -> Vec<(String, String)> {
    samples
        .iter()
        .filter(|s| s["name"] == format!("{FAMILY}_bucket") && labels(s) == *series)
        .filter_map(|s| s["exemplar"].as_object())
        .map(|e| {
            (
                e["labels"]["trace_id"]
                    .as_str()
                    .expect("trace_id")
                    .to_owned(),
                e["labels"]["span_id"].as_str().expect("span_id").to_owned(),
            )
        })
        .collect()
}

#[test]
fn axum_requests_become_server_spans_and_duration_samples() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "orders", &[]);
    let mut port = 0;
    let body = run(&parts, async {
        port = support::spawn_app(app()).await;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let get = |path: &str| client.get(format!("{base}{path}"));

        // Not traced: sent first, so that a span of it would be exported
        // before the others.
        let health = get("/health").send().await.expect("/health");
        assert_eq!(health.status(), 200);

        let a = get("/orders/42?x=1&y=%20")
            .header("traceparent", traceparent(TRACE_A, PARENT_A, "01"))
            .header("user-agent", "tracelink-test/1.0")
            .send()
            .await
            .expect("/orders/42");
        assert_eq!(a.text().await.expect("body"), "order 42");
        // Trace flags 03: sampled, plus the W3C level 2 "random" bit.
        let b = get("/orders/7")
            .header("traceparent", traceparent(TRACE_B, PARENT_B, "03"))
            .send()
            .await
            .expect("/orders/7");
        assert_eq!(b.status(), 200);
        let c = get("/orders/9").send().await.expect("/orders/9");
        assert_eq!(c.status(), 200);
        let fail = get("/fail")
            .header("traceparent", traceparent(TRACE_FAIL, PARENT_FAIL, "01"))
            .send()
            .await
            .expect("/fail");
        assert_eq!(fail.status(), 500);
        let missing = get("/missing").send().await.expect("/missing");
        assert_eq!(missing.status(), 404);
        // No route matches: axum's fallback, a 404; a Host that is no authority.
        let nowhere = get("/nowhere")
            .header("host", "not a host")
            .send()
            .await
            .expect("/nowhere");
        assert_eq!(nowhere.status(), 404);
        // A method the conventions do not list; axum answers 405.
        let purge = client
            .request(
                reqwest::Method::from_bytes(b"PURGE").expect("a method"),
                format!("{base}/orders/1"),
            )
            .send()
            .await
            .expect("PURGE");
        assert_eq!(purge.status(), 405);
        // A user agent that is not UTF-8, an IPv6 Host with a port.
        let odd = get("/orders/8")
            .header(
                "user-agent",
                reqwest::header::HeaderValue::from_bytes(b"agent \xff/1").expect("obs-text"),
            )
            .header("host", "[::1]:8443")
            .send()
            .await
            .expect("/orders/8");
        assert_eq!(odd.status(), 200);
        let raw = raw_http10(port).await;
        assert!(raw.contains(" 200 OK"), "{raw}");
    });

    parts.guard().flush().expect("flush");
    // 9 server spans, 5 `load_order` spans.
    let spans = receiver.wait_for_spans(14, WAIT);
    let names: Vec<_> = spans.iter().map(ReceivedSpan::name).collect();
    println!("spans: {names:?}");
    assert_eq!(spans.len(), 14, "{names:?}");
    let servers: Vec<_> = spans
        .iter()
        .filter(|s| s.kind() == SpanKind::Server)
        .cloned()
        .collect();
    assert_eq!(servers.len(), 9, "{names:?}");
    assert!(
        spans
            .iter()
            .all(|s| s.attr("url.path").as_deref() != Some("/health")),
        "/health must not be traced"
    );

    // Continues the caller's trace, with every attribute.
    let a = span_at(&servers, "/orders/42", "GET");
    assert_eq!(a.name(), "GET /orders/{id}");
    assert_eq!(a.trace_id(), TRACE_A);
    assert_eq!(a.parent_span_id().as_deref(), Some(PARENT_A));
    let port_text = port.to_string();
    for (key, value) in [
        ("http.request.method", "GET"),
        ("http.route", "/orders/{id}"),
        ("url.path", "/orders/42"),
        ("url.query", "x=1&y=%20"),
        ("url.scheme", "http"),
        ("server.address", "127.0.0.1"),
        ("server.port", port_text.as_str()),
        ("user_agent.original", "tracelink-test/1.0"),
        ("network.protocol.version", "1.1"),
        ("http.response.status_code", "200"),
    ] {
        assert_eq!(a.attr(key).as_deref(), Some(value), "{key}");
    }
    // Ints, as the semantic conventions and the other SDKs send them.
    assert_eq!(a.int_attr("http.response.status_code"), Some(200));
    assert_eq!(a.int_attr("server.port"), Some(i64::from(port)));
    for key in ["http.response.status_code", "server.port"] {
        assert_eq!(a.attr_count(key), 1, "{key} once");
    }
    assert_eq!(a.attr("http.request.method_original"), None);
    assert_not_error(a);

    // The handler's span is the server span's child.
    let load_orders: Vec<_> = spans.iter().filter(|s| s.name() == "load_order").collect();
    assert_eq!(load_orders.len(), 5);
    let load_a = load_orders
        .iter()
        .find(|s| s.attr("order.id").as_deref() == Some("42"))
        .expect("load_order 42");
    assert_eq!(load_a.trace_id(), TRACE_A);
    assert_eq!(load_a.parent_span_id(), Some(a.span_id()));

    let b = span_at(&servers, "/orders/7", "GET");
    assert_eq!(b.name(), "GET /orders/{id}");
    assert_eq!(b.trace_id(), TRACE_B);
    assert_eq!(b.parent_span_id().as_deref(), Some(PARENT_B));
    assert_eq!(b.attr("url.query"), None);

    // No traceparent: a new trace.
    let c = span_at(&servers, "/orders/9", "GET");
    assert_eq!(c.parent_span_id(), None);
    assert!(![TRACE_A, TRACE_B, TRACE_FAIL].contains(&c.trace_id().as_str()));
    assert_eq!(c.trace_id().len(), 32);

    // A 5xx fails the server span; a 4xx does not.
    let fail = span_at(&servers, "/fail", "GET");
    assert_eq!(fail.name(), "GET /fail");
    assert_eq!(fail.trace_id(), TRACE_FAIL);
    assert_eq!(fail.parent_span_id().as_deref(), Some(PARENT_FAIL));
    assert_eq!(
        fail.attr("http.response.status_code").as_deref(),
        Some("500")
    );
    assert_error(fail, "500");
    let missing = span_at(&servers, "/missing", "GET");
    assert_eq!(missing.name(), "GET /missing");
    assert_eq!(
        missing.attr("http.response.status_code").as_deref(),
        Some("404")
    );
    assert_not_error(missing);

    // No route: the name is the method alone; a bad Host gives no address.
    let nowhere = span_at(&servers, "/nowhere", "GET");
    assert_eq!(nowhere.name(), "GET");
    assert_eq!(nowhere.attr("http.route"), None);
    assert_eq!(nowhere.attr("server.address"), None);
    assert_eq!(nowhere.attr("server.port"), None);
    assert_not_error(nowhere);

    let purge = span_at(&servers, "/orders/1", "PURGE");
    assert_eq!(purge.name(), "HTTP /orders/{id}");
    assert_eq!(purge.attr("http.request.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        purge.attr("http.request.method_original").as_deref(),
        Some("PURGE")
    );
    assert_eq!(
        purge.attr("http.response.status_code").as_deref(),
        Some("405")
    );

    let odd = span_at(&servers, "/orders/8", "GET");
    assert_eq!(
        odd.attr("user_agent.original").as_deref(),
        Some("agent \u{fffd}/1")
    );
    assert_eq!(odd.attr("server.address").as_deref(), Some("::1"));
    assert_eq!(odd.attr("server.port").as_deref(), Some("8443"));

    let raw = span_at(&servers, "/orders/5", "GET");
    assert_eq!(raw.attr("network.protocol.version").as_deref(), Some("1.0"));
    assert_eq!(raw.attr("server.address"), None);
    assert_eq!(raw.attr("user_agent.original"), None);

    // The histogram: one series per method, route, status, scheme and error.
    let samples = samples(&body);
    let orders = label_set(&[
        ("http_request_method", "GET"),
        ("http_route", "/orders/{id}"),
        ("http_response_status_code", "200"),
        ("url_scheme", "http"),
    ]);
    let fail_series = label_set(&[
        ("http_request_method", "GET"),
        ("http_route", "/fail"),
        ("http_response_status_code", "500"),
        ("url_scheme", "http"),
        ("error_type", "500"),
    ]);
    let expected = [
        (orders.clone(), 5.0),
        (fail_series.clone(), 1.0),
        (
            label_set(&[
                ("http_request_method", "GET"),
                ("http_route", "/missing"),
                ("http_response_status_code", "404"),
                ("url_scheme", "http"),
            ]),
            1.0,
        ),
        (
            label_set(&[
                ("http_request_method", "GET"),
                ("http_response_status_code", "404"),
                ("url_scheme", "http"),
            ]),
            1.0,
        ),
        (
            label_set(&[
                ("http_request_method", "_OTHER"),
                ("http_route", "/orders/{id}"),
                ("http_response_status_code", "405"),
                ("url_scheme", "http"),
            ]),
            1.0,
        ),
    ];
    let counts: Vec<_> = samples
        .iter()
        .filter(|s| s["name"] == format!("{FAMILY}_count"))
        .collect();
    assert_eq!(counts.len(), expected.len(), "{body}");
    for (series, n) in &expected {
        assert_eq!(count(&samples, series), Some(*n), "{series:?}\n{body}");
    }
    assert_eq!(total(&samples), 9.0, "{body}");
    assert!(!body.contains("/health"), "{body}");

    // The one /fail sample links to the /fail server span.
    assert_eq!(
        exemplars(&samples, &fail_series),
        [(TRACE_FAIL.to_owned(), fail.span_id())]
    );
    // Each /orders exemplar is the server span of one of those requests.
    let order_spans: BTreeMap<String, String> = [a, b, c, odd, raw]
        .iter()
        .map(|s| (s.trace_id(), s.span_id()))
        .collect();
    let order_exemplars = exemplars(&samples, &orders);
    assert!(!order_exemplars.is_empty(), "{body}");
    for (trace_id, span_id) in order_exemplars {
        assert_eq!(order_spans.get(&trace_id), Some(&span_id), "{body}");
    }
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// A service that fails (`Err`, no response) fails its span, with
/// `error.type = "_OTHER"`; any `tower::Service` over `http` types works.
#[test]
fn a_service_error_fails_the_span() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "orders", &[]);
    let body = run(&parts, async {
        let service = ServiceBuilder::new()
            .layer(ServerLayer::new().with_skipped_paths(["/ping"]))
            .service_fn(|request: http::Request<String>| async move {
                match request.uri().path() {
                    "/broken" => Err(std::io::Error::other("backend down")),
                    _ => Ok(http::Response::new(String::from("pong"))),
                }
            });
        let request = |path: &str| {
            http::Request::builder()
                .method("GET")
                .uri(path)
                .body(String::new())
                .expect("a request")
        };
        let error = service
            .clone()
            .oneshot(request("/broken"))
            .await
            .expect_err("the service fails");
        assert_eq!(error.to_string(), "backend down");
        // Skipped by the custom list; /health is not skipped any more.
        service
            .clone()
            .oneshot(request("/ping"))
            .await
            .expect("/ping");
        service
            .clone()
            .oneshot(request("/health"))
            .await
            .expect("/health");
    });

    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(2, WAIT);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let broken = span_at(&spans, "/broken", "GET");
    assert_eq!(broken.kind(), SpanKind::Server);
    // No route function: the method alone.
    assert_eq!(broken.name(), "GET");
    assert_error(broken, "_OTHER");
    assert_eq!(broken.attr("http.response.status_code"), None);
    // No Host, no authority in the URI.
    assert_eq!(broken.attr("server.address"), None);
    let health = span_at(&spans, "/health", "GET");
    assert_not_error(health);

    let samples = samples(&body);
    let failed = label_set(&[
        ("http_request_method", "GET"),
        ("url_scheme", "http"),
        ("error_type", "_OTHER"),
    ]);
    assert_eq!(count(&samples, &failed), Some(1.0), "{body}");
    assert_eq!(
        exemplars(&samples, &failed),
        [(broken.trace_id(), broken.span_id())]
    );
    // /broken and /health; not /ping.
    assert_eq!(total(&samples), 2.0, "{body}");
    assert_eq!(SERVER_REQUEST_DURATION, FAMILY);
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// A request with `baggage` but no `traceparent`: a new trace, the baggage
/// current in the handler and sent on by `send_traced`.
#[cfg(feature = "reqwest")]
#[test]
fn baggage_without_a_traceparent_reaches_the_handler_and_goes_on() {
    use axum::extract::State;
    use axum::http::HeaderMap;
    use opentelemetry::baggage::BaggageExt;
    use tracelink::http::RequestBuilderExt;
    use tracing_opentelemetry::OpenTelemetrySpanExt;

    /// Echoes the context headers it received; not traced itself.
    async fn echo(headers: HeaderMap) -> axum::Json<Value> {
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        axum::Json(serde_json::json!({
            "baggage": header("baggage"),
            "traceparent": header("traceparent"),
        }))
    }

    /// What the handler sees, and what its own call sends.
    async fn handler(State(echo_url): State<String>) -> axum::Json<Value> {
        let user =
            |cx: &opentelemetry::Context| cx.baggage().get("user").map(|v| v.as_str().to_owned());
        let current = user(&opentelemetry::Context::current());
        let span = user(&tracing::Span::current().context());
        let echoed: Value = reqwest::Client::new()
            .get(echo_url)
            .send_traced()
            .await
            .expect("echo")
            .json()
            .await
            .expect("json");
        axum::Json(serde_json::json!({ "current": current, "span": span, "echoed": echoed }))
    }

    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "orders", &[]);
    let mut seen = Value::Null;
    run(&parts, async {
        let echo_port = support::spawn_app(Router::new().route("/echo", get(echo))).await;
        let app = Router::new()
            .route("/who", get(handler))
            .with_state(format!("http://127.0.0.1:{echo_port}/echo"))
            .layer(ServerLayer::new());
        let port = support::spawn_app(app).await;
        seen = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}/who"))
            .header("baggage", "user=alice")
            .send()
            .await
            .expect("/who")
            .json()
            .await
            .expect("json");
    });

    assert_eq!(seen["current"], "alice", "{seen}");
    assert_eq!(seen["span"], "alice", "{seen}");
    assert_eq!(seen["echoed"]["baggage"], "user=alice", "{seen}");

    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(2, WAIT);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let server = span_at(&spans, "/who", "GET");
    assert_eq!(server.kind(), SpanKind::Server);
    assert_eq!(server.parent_span_id(), None, "a new trace");
    let client = spans
        .iter()
        .find(|s| s.kind() == SpanKind::Client)
        .expect("the client span");
    assert_eq!(client.trace_id(), server.trace_id());
    assert_eq!(client.parent_span_id(), Some(server.span_id()));
    assert_eq!(
        seen["echoed"]["traceparent"],
        format!("00-{}-{}-03", client.trace_id(), client.span_id()),
        "{seen}"
    );
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// A service called inside another span (a connection's, as when a hyper
/// connection future is instrumented): without a `traceparent`, the request
/// still starts a new trace; with one, it continues the caller's.
#[test]
fn a_request_inside_an_ambient_span_without_traceparent_starts_a_new_trace() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "orders", &[]);
    run(&parts, async {
        let service = ServiceBuilder::new().layer(ServerLayer::new()).service_fn(
            |_: http::Request<String>| async {
                tracing::info_span!("handler").in_scope(|| {});
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            },
        );
        let connection = tracing::info_span!("connection");
        async {
            let request = |path: &str, traceparent: Option<String>| {
                let mut builder = http::Request::builder().uri(path);
                if let Some(traceparent) = traceparent {
                    builder = builder.header("traceparent", traceparent);
                }
                builder.body(String::new()).expect("a request")
            };
            service
                .clone()
                .oneshot(request("/fresh", None))
                .await
                .expect("/fresh");
            service
                .clone()
                .oneshot(request(
                    "/continued",
                    Some(traceparent(TRACE_A, PARENT_A, "01")),
                ))
                .await
                .expect("/continued");
        }
        .instrument(connection)
        .await;
    });

    parts.guard().flush().expect("flush");
    // The connection, two server spans, two handler spans.
    let spans = receiver.wait_for_spans(5, WAIT);
    assert_eq!(spans.len(), 5, "{spans:#?}");
    let connection = spans
        .iter()
        .find(|s| s.name() == "connection")
        .expect("connection");
    let fresh = span_at(&spans, "/fresh", "GET");
    assert_eq!(fresh.parent_span_id(), None, "no parent: a new trace");
    assert_ne!(fresh.trace_id(), connection.trace_id());
    let continued = span_at(&spans, "/continued", "GET");
    assert_eq!(continued.trace_id(), TRACE_A);
    assert_eq!(continued.parent_span_id().as_deref(), Some(PARENT_A));
    // The handlers' spans are the server spans' children.
    for server in [fresh, continued] {
        let handlers: Vec<_> = spans
            .iter()
            .filter(|s| s.name() == "handler" && s.parent_span_id() == Some(server.span_id()))
            .collect();
        assert_eq!(handlers.len(), 1, "{spans:#?}");
        assert_eq!(handlers[0].trace_id(), server.trace_id());
    }
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// A response future dropped before it completes (the client hung up): the
/// service's future is dropped inside the request's span, the span ends
/// failed, and the duration is recorded with `error.type = "_OTHER"`.
#[test]
fn an_abandoned_request_ends_its_span_and_records_its_duration() {
    use std::future::Future;
    use std::task::Poll;

    use tower::Service;

    /// Something the handler holds: dropping it makes a span, which belongs
    /// to whatever span is current then.
    struct Cleanup;

    impl Drop for Cleanup {
        fn drop(&mut self) {
            tracing::info_span!("cleanup").in_scope(|| {});
        }
    }

    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "orders", &[]);
    let body = run(&parts, async {
        let mut service = ServiceBuilder::new()
            .layer(ServerLayer::new().with_route(|_| Some("/slow")))
            .service_fn(|_: http::Request<String>| async {
                let _cleanup = Cleanup;
                std::future::pending::<()>().await;
                Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
            });
        let request = http::Request::builder()
            .uri("/slow")
            .body(String::new())
            .expect("a request");
        let ready = service.ready().await.expect("ready");
        let mut future = Box::pin(ready.call(request));
        // The handler starts, and waits forever.
        std::future::poll_fn(|cx| {
            assert!(future.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        // The client hangs up: the server drops the future.
        drop(future);
    });

    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(2, WAIT);
    assert_eq!(spans.len(), 2, "{spans:#?}");
    let slow = span_at(&spans, "/slow", "GET");
    assert_eq!(slow.name(), "GET /slow");
    assert_error(slow, "_OTHER");
    assert_eq!(slow.attr("http.response.status_code"), None);
    let cleanup = spans
        .iter()
        .find(|s| s.name() == "cleanup")
        .expect("cleanup");
    assert_eq!(cleanup.parent_span_id(), Some(slow.span_id()));
    assert_eq!(cleanup.trace_id(), slow.trace_id());

    let samples = samples(&body);
    let abandoned = label_set(&[
        ("http_request_method", "GET"),
        ("http_route", "/slow"),
        ("url_scheme", "http"),
        ("error_type", "_OTHER"),
    ]);
    assert_eq!(count(&samples, &abandoned), Some(1.0), "{body}");
    assert_eq!(
        exemplars(&samples, &abandoned),
        [(slow.trace_id(), slow.span_id())]
    );
    assert_eq!(total(&samples), 1.0, "{body}");
    parts.into_guard().shutdown().expect("clean shutdown");
}
