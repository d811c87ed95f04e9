//! `tracelink::http::RequestBuilderExt::send_traced`: a reqwest call in a
//! CLIENT span, child of the caller's span, whose context reaches the server
//! in `traceparent`. Spans go to a real OTLP receiver; the server is a small
//! axum app on 127.0.0.1 that echoes the headers it received.

#![cfg(feature = "reqwest")]

mod support;

use std::time::Duration;

use axum::extract::Path;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{any, get};
use axum::Router;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode as OtelStatus;
use serde_json::{json, Value};
use support::{ReceivedSpan, Receiver};
use tracelink::http::RequestBuilderExt;
use tracing::Instrument;

const WAIT: Duration = Duration::from_secs(10);

/// The headers the server received, as JSON, with status `code`.
async fn echo(code: StatusCode, headers: HeaderMap) -> (StatusCode, axum::Json<Value>) {
    let header = |name: &str| {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    let body = json!({
        "traceparent": header("traceparent"),
        "authorization": header("authorization"),
    });
    (code, axum::Json(body))
}

fn app() -> Router {
    Router::new()
        .route("/echo", any(|headers| echo(StatusCode::OK, headers)))
        .route(
            "/status/{code}",
            get(|Path(code): Path<u16>, headers| async move {
                let code = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
                echo(code, headers).await
            }),
        )
}

/// The `traceparent` the server saw, from an echo body.
fn seen(body: &Value) -> String {
    body["traceparent"]
        .as_str()
        .unwrap_or_else(|| panic!("no traceparent reached the server: {body}"))
        .to_owned()
}

fn one<'a>(spans: &'a [ReceivedSpan], name: &str, url: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == name && s.attr("url.full").as_deref() == Some(url))
        .collect();
    assert_eq!(found.len(), 1, "{name} {url}: {spans:#?}");
    found[0]
}

#[test]
fn client_spans_carry_the_context_to_the_server() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(&receiver, "checkout", &[]);
    let closed_port = support::free_port();
    let mut port = 0;
    let mut echoes = Vec::new();
    support::block_on_traced(&parts, async {
        port = support::spawn_app(app()).await;
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();

        let checkout = tracing::info_span!("checkout");
        async {
            let ok = client
                .get(format!("{base}/echo?q=1"))
                .send_traced()
                .await
                .expect("/echo");
            assert_eq!(ok.status(), 200);
            echoes.push(ok.json::<Value>().await.expect("json"));

            // reqwest moves credentials from the URL into `Authorization`.
            let moved = client
                .get(format!("http://user:pass@127.0.0.1:{port}/echo"))
                .send_traced()
                .await
                .expect("credentials moved");
            echoes.push(moved.json::<Value>().await.expect("json"));

            // A request built beforehand keeps them in its URL: redacted.
            let url = reqwest::Url::parse(&format!("http://user:pass@127.0.0.1:{port}/echo"))
                .expect("a URL");
            let kept = reqwest::RequestBuilder::from_parts(
                client.clone(),
                reqwest::Request::new(reqwest::Method::GET, url),
            )
            .send_traced()
            .await;
            // Whatever reqwest does with such a URL, the span is there.
            drop(kept);

            for code in [404, 500] {
                let response = client
                    .get(format!("{base}/status/{code}"))
                    .send_traced()
                    .await
                    .expect("a response");
                assert_eq!(response.status().as_u16(), code);
                echoes.push(response.json::<Value>().await.expect("json"));
            }

            let purge = client
                .request(
                    reqwest::Method::from_bytes(b"PURGE").expect("a method"),
                    format!("{base}/echo"),
                )
                .send_traced()
                .await
                .expect("PURGE");
            assert_eq!(purge.status(), 200);

            let error = client
                .get(format!("http://127.0.0.1:{closed_port}/nothing"))
                .send_traced()
                .await
                .expect_err("nobody listens there");
            assert!(error.is_connect(), "{error:?}");
        }
        .instrument(checkout)
        .await;

        // No span current: a root CLIENT span, still propagated.
        let root = client
            .get(format!("{base}/echo?root"))
            .send_traced()
            .await
            .expect("root");
        echoes.push(root.json::<Value>().await.expect("json"));
    });

    parts.guard().flush().expect("flush");
    // checkout + 7 client spans inside it + the root one.
    let spans = receiver.wait_for_spans(9, WAIT);
    let names: Vec<_> = spans.iter().map(ReceivedSpan::name).collect();
    println!("spans: {names:?}");
    assert_eq!(spans.len(), 9, "{names:?}");
    let checkout = spans
        .iter()
        .find(|s| s.name() == "checkout")
        .expect("checkout");
    let base = format!("http://127.0.0.1:{port}");

    let ok = one(&spans, "GET", &format!("{base}/echo?q=1"));
    assert_eq!(ok.kind(), SpanKind::Client);
    assert_eq!(ok.trace_id(), checkout.trace_id());
    assert_eq!(ok.parent_span_id(), Some(checkout.span_id()));
    // The server's parent is the CLIENT span.
    assert_eq!(
        seen(&echoes[0]),
        format!("00-{}-{}-03", ok.trace_id(), ok.span_id())
    );
    let port_text = port.to_string();
    for (key, value) in [
        ("http.request.method", "GET"),
        ("server.address", "127.0.0.1"),
        ("server.port", port_text.as_str()),
        ("http.response.status_code", "200"),
        ("network.protocol.version", "1.1"),
    ] {
        assert_eq!(ok.attr(key).as_deref(), Some(value), "{key}");
    }
    // Ints, as the semantic conventions and the other SDKs send them.
    assert_eq!(ok.int_attr("http.response.status_code"), Some(200));
    assert_eq!(ok.int_attr("server.port"), Some(i64::from(port)));
    for key in ["http.response.status_code", "server.port"] {
        assert_eq!(ok.attr_count(key), 1, "{key} once");
    }
    assert_eq!(ok.status_code(), OtelStatus::Unset);
    assert_eq!(ok.attr("error.type"), None);

    // Credentials never reach a span.
    let moved = one(&spans, "GET", &format!("{base}/echo"));
    assert_eq!(
        seen(&echoes[1]),
        format!("00-{}-{}-03", moved.trace_id(), moved.span_id())
    );
    assert_eq!(
        echoes[1]["authorization"].as_str(),
        Some("Basic dXNlcjpwYXNz"),
        "reqwest sends them as basic auth"
    );
    let kept = one(
        &spans,
        "GET",
        &format!("http://REDACTED:REDACTED@127.0.0.1:{port}/echo"),
    );
    assert_eq!(kept.parent_span_id(), Some(checkout.span_id()));
    for span in &spans {
        for attr in &span.span.attributes {
            let value = support::any_value_to_string(attr.value.as_ref().expect("a value"));
            assert!(!value.contains("pass"), "{}: {value}", attr.key);
        }
        assert!(!span.status_message().contains("pass"));
    }

    // 4xx and 5xx are errors on a client.
    for (i, code) in [(2, "404"), (3, "500")] {
        let span = one(&spans, "GET", &format!("{base}/status/{code}"));
        assert_eq!(span.status_code(), OtelStatus::Error, "{code}");
        assert_eq!(span.attr("error.type").as_deref(), Some(code));
        assert_eq!(
            span.attr("http.response.status_code").as_deref(),
            Some(code)
        );
        assert_eq!(
            seen(&echoes[i]),
            format!("00-{}-{}-03", span.trace_id(), span.span_id())
        );
    }

    let purge = spans
        .iter()
        .find(|s| s.name() == "HTTP")
        .expect("the PURGE span");
    assert_eq!(purge.attr("http.request.method").as_deref(), Some("_OTHER"));
    assert_eq!(
        purge.attr("http.request.method_original").as_deref(),
        Some("PURGE")
    );

    // No connection: an error with its kind, and no status code.
    let refused = one(
        &spans,
        "GET",
        &format!("http://127.0.0.1:{closed_port}/nothing"),
    );
    assert_eq!(refused.status_code(), OtelStatus::Error);
    assert_eq!(refused.attr("error.type").as_deref(), Some("connect"));
    assert_eq!(refused.attr("http.response.status_code"), None);
    println!("connect error: {}", refused.status_message());
    assert!(!refused.status_message().is_empty());
    assert_eq!(refused.parent_span_id(), Some(checkout.span_id()));

    let root = one(&spans, "GET", &format!("{base}/echo?root"));
    assert_eq!(root.parent_span_id(), None);
    assert_ne!(root.trace_id(), checkout.trace_id());
    assert_eq!(
        seen(&echoes[4]),
        format!("00-{}-{}-03", root.trace_id(), root.span_id())
    );
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// With the client span filtered out, the caller's own context still goes
/// out, so the server stays in the caller's trace.
#[test]
fn a_filtered_out_client_span_passes_the_callers_context_on() {
    let receiver = Receiver::start();
    let parts = support::build_exporting_to(
        &receiver,
        "checkout",
        &[("TRACELINK_SPAN_FILTER", "info,tracelink::http=off")],
    );
    let echo = support::block_on_traced(&parts, async {
        let port = support::spawn_app(app()).await;
        async {
            reqwest::Client::new()
                .get(format!("http://127.0.0.1:{port}/echo"))
                .send_traced()
                .await
                .expect("/echo")
                .json::<Value>()
                .await
                .expect("json")
        }
        .instrument(tracing::info_span!("checkout"))
        .await
    });

    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(1, WAIT);
    let names: Vec<_> = spans.iter().map(ReceivedSpan::name).collect();
    assert_eq!(names, ["checkout"]);
    assert_eq!(
        seen(&echo),
        format!("00-{}-{}-03", spans[0].trace_id(), spans[0].span_id())
    );
    parts.into_guard().shutdown().expect("clean shutdown");
}
