//! Spans made with `tracing` reach a real OTLP receiver, over gRPC and
//! HTTP/protobuf, compressed or not, with their tree, kinds, statuses, events,
//! resource and headers intact.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use support::{ReceivedSpan, Receiver, Transport};
use tracing::field::Empty;
use tracing::instrument::WithSubscriber;
use tracing::{error, info, info_span, instrument, warn, Instrument};

/// Sent with every export; values percent-decoded as in W3C baggage.
const HEADERS: &str = "x-api-key=s3cr3t,x-tenant=team%20a";
const RESOURCE_ATTRIBUTES: &str = "deployment.environment.name=test,team=a%20b";
const WAIT: Duration = Duration::from_secs(10);

/// Builds tracelink against the receiver, over `protocol`, from a private
/// environment; the service name from code must beat `OTEL_SERVICE_NAME`.
fn build(receiver: &Receiver, protocol: &str, compression: &str) -> tracelink::Parts {
    let endpoint = match protocol {
        "grpc" => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    build_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("OTEL_EXPORTER_OTLP_COMPRESSION", compression),
    ])
}

fn build_with(extra: &[(&str, &str)]) -> tracelink::Parts {
    let mut env = vec![
        ("OTEL_EXPORTER_OTLP_HEADERS", HEADERS),
        ("OTEL_SERVICE_NAME", "name-from-env"),
        ("OTEL_RESOURCE_ATTRIBUTES", RESOURCE_ATTRIBUTES),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ];
    env.extend_from_slice(extra);
    tracelink::builder()
        .with_env(env)
        .with_service_name("checkout")
        .with_shutdown_timeout(Duration::from_secs(10))
        .build()
        .expect("tracelink builds")
}

// ---------------------------------------------------------------------------
// The synchronous workload: three requests, each a small tree.
// ---------------------------------------------------------------------------

const REQUESTS: i64 = 3;
/// Five spans a request, plus `charge` in request 2.
const WORKLOAD_SPANS: usize = 3 * 5 + 1;
const RENAMED: &str = "GET /orders/{id}";

/// request (server)
/// ├── db.query (client), event "query done"
/// ├── compute (internal)
/// │   └── render (internal)
/// ├── publish (producer), event "message sent"
/// └── charge (client, request 2 only), ERROR event "charge failed"
///
/// Request 0 is renamed with `otel.name`; request 1 fails with
/// `otel.status_code = "ERROR"`.
fn nested_workload() {
    for index in 0..REQUESTS {
        let request = info_span!(
            "request",
            otel.kind = "server",
            otel.name = Empty,
            otel.status_code = Empty,
            otel.status_description = Empty,
            http.route = "/orders/{id}",
            request.index = index,
        );
        if index == 0 {
            // Before the span is entered: the OpenTelemetry span starts then.
            request.record("otel.name", RENAMED);
        }
        let _request = request.enter();
        info!(order.id = index, "request received");

        info_span!("db.query", otel.kind = "client", db.system = "postgresql").in_scope(|| {
            warn!(rows = 3, "query done");
        });
        info_span!("compute").in_scope(|| {
            info_span!("render").in_scope(|| {});
        });
        info_span!("publish", otel.kind = "producer").in_scope(|| {
            info!(messaging.destination = "orders", "message sent");
        });
        match index {
            1 => {
                request.record("otel.status_code", "ERROR");
                request.record("otel.status_description", "payment declined");
            }
            2 => info_span!("charge", otel.kind = "client").in_scope(|| {
                error!(reason = "card expired", "charge failed");
            }),
            _ => {}
        }
    }
}

/// Runs the workload through tracelink against a fresh receiver, flushes, and
/// checks everything that arrived.
fn export_nested_workload(protocol: &str, compression: &str, transport: Transport) {
    let receiver = Receiver::start();
    let parts = build(&receiver, protocol, compression);
    tracing::dispatcher::with_default(&support::dispatch(&parts), nested_workload);

    parts.guard().flush().expect("flush exports everything");
    let spans = receiver.wait_for_spans(WORKLOAD_SPANS, WAIT);
    let stats = parts.guard().stats().spans();
    println!(
        "{protocol} ({compression}): {} spans in {} requests; stats {stats:?}",
        spans.len(),
        receiver.requests().len()
    );
    assert_eq!(stats.exported(), WORKLOAD_SPANS as u64, "{stats:?}");
    assert_eq!(stats.lost(), 0, "{stats:?}");

    assert_requests(&receiver, transport, compression == "gzip");
    assert_resource(&spans);
    assert_nested_traces(&spans);
    parts.into_guard().shutdown().expect("clean shutdown");
}

/// Every request came over `transport`, compressed as configured, with the
/// headers from `OTEL_EXPORTER_OTLP_HEADERS`.
fn assert_requests(receiver: &Receiver, transport: Transport, gzip: bool) {
    assert!(
        receiver.problems().is_empty(),
        "invalid requests: {:?}",
        receiver.problems()
    );
    let requests = receiver.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(request.transport, transport);
        assert_eq!(request.gzip, gzip, "headers: {:?}", request.headers);
        assert_eq!(request.header("x-api-key"), Some("s3cr3t"));
        assert_eq!(request.header("x-tenant"), Some("team a"));
    }
}

/// Resource attributes: from code, from `OTEL_RESOURCE_ATTRIBUTES`, detected.
fn assert_resource(spans: &[ReceivedSpan]) {
    let hostname = gethostname::gethostname().to_string_lossy().into_owned();
    for span in spans {
        let attr = |key: &str| span.resource_attr(key);
        assert_eq!(attr("service.name").as_deref(), Some("checkout"));
        assert_eq!(attr("deployment.environment.name").as_deref(), Some("test"));
        assert_eq!(attr("team").as_deref(), Some("a b"));
        assert_eq!(attr("host.name").as_deref(), Some(hostname.as_str()));
        assert_eq!(attr("process.pid"), Some(std::process::id().to_string()));
        assert_eq!(attr("telemetry.sdk.language").as_deref(), Some("rust"));
        assert_eq!(attr("telemetry.distro.name").as_deref(), Some("tracelink"));
        assert!(attr("telemetry.sdk.name").is_some());
        assert!(attr("telemetry.sdk.version").is_some());
        let instance = attr("service.instance.id").expect("service.instance.id");
        assert!(is_uuid_v4(&instance), "service.instance.id {instance:?}");
        // The scope is the span's `tracing` target; no `code.*` by default.
        assert_eq!(span.scope, module_path!());
        assert_eq!(span.attr("code.file.path"), None);
    }
}

fn is_uuid_v4(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
        && groups[2].starts_with('4')
}

/// Groups spans by trace id.
fn traces(spans: &[ReceivedSpan]) -> BTreeMap<String, Vec<&ReceivedSpan>> {
    let mut traces: BTreeMap<String, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        traces.entry(span.trace_id()).or_default().push(span);
    }
    traces
}

/// The one span of that name in a trace.
fn one<'a>(trace: &[&'a ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    let found: Vec<_> = trace.iter().filter(|s| s.name() == name).collect();
    assert_eq!(found.len(), 1, "spans named {name:?}: {}", names(trace));
    found[0]
}

fn names(trace: &[&ReceivedSpan]) -> String {
    trace
        .iter()
        .map(|s| s.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Ids well formed and unique; each parent id is a span of the same trace;
/// exactly one root per trace.
fn assert_tree_shape(spans: &[ReceivedSpan], expected_traces: usize) {
    let span_ids: BTreeSet<String> = spans.iter().map(ReceivedSpan::span_id).collect();
    assert_eq!(span_ids.len(), spans.len(), "span ids are unique");
    let traces = traces(spans);
    assert_eq!(traces.len(), expected_traces, "one trace id per request");
    for (trace_id, trace) in &traces {
        assert_eq!(trace_id.len(), 32);
        assert_ne!(trace_id, &"0".repeat(32));
        let roots = trace.iter().filter(|s| s.parent_span_id().is_none());
        assert_eq!(roots.count(), 1, "one root in {}", names(trace));
        for span in trace {
            assert_eq!(span.span_id().len(), 16);
            if let Some(parent) = span.parent_span_id() {
                assert!(
                    trace.iter().any(|p| p.span_id() == parent),
                    "{}'s parent {parent} is not in its trace",
                    span.name()
                );
            }
        }
    }
}

fn assert_child_of(child: &ReceivedSpan, parent: &ReceivedSpan) {
    assert_eq!(
        child.parent_span_id(),
        Some(parent.span_id()),
        "{} is a child of {}",
        child.name(),
        parent.name()
    );
    assert_eq!(child.trace_id(), parent.trace_id());
}

fn assert_nested_traces(spans: &[ReceivedSpan]) {
    assert_eq!(spans.len(), WORKLOAD_SPANS);
    assert_tree_shape(spans, REQUESTS as usize);

    let mut seen = BTreeSet::new();
    for trace in traces(spans).values() {
        let root = trace
            .iter()
            .find(|s| s.parent_span_id().is_none())
            .expect("a root");
        let index: i64 = root
            .attr("request.index")
            .and_then(|i| i.parse().ok())
            .expect("request.index");
        seen.insert(index);

        let root_name = if index == 0 { RENAMED } else { "request" };
        assert_eq!(root.name(), root_name);
        assert_eq!(root.kind(), SpanKind::Server);
        assert_eq!(root.attr("http.route").as_deref(), Some("/orders/{id}"));
        // INFO events are log lines only (TRACELINK_SPAN_EVENTS=warn, the
        // default); WARN and ERROR events also become span events.
        assert!(
            root.events_named("request received").is_empty(),
            "an INFO event became a span event on {}",
            root.name()
        );

        let db = one(trace, "db.query");
        assert_child_of(db, root);
        assert_eq!(db.kind(), SpanKind::Client);
        assert_eq!(db.attr("db.system").as_deref(), Some("postgresql"));
        let query_done = db.events_named("query done");
        assert_eq!(query_done.len(), 1);
        assert_eq!(
            support::attr(&query_done[0].attributes, "rows").as_deref(),
            Some("3")
        );
        assert_eq!(
            support::attr(&query_done[0].attributes, "level").as_deref(),
            Some("WARN")
        );

        let compute = one(trace, "compute");
        assert_child_of(compute, root);
        assert_eq!(compute.kind(), SpanKind::Internal);
        let render = one(trace, "render");
        assert_child_of(render, compute);
        assert_eq!(render.kind(), SpanKind::Internal);

        let publish = one(trace, "publish");
        assert_child_of(publish, root);
        assert_eq!(publish.kind(), SpanKind::Producer);
        assert!(publish.events_named("message sent").is_empty());

        for span in [db, compute, render, publish] {
            assert_eq!(span.status_code(), StatusCode::Unset, "{}", span.name());
        }
        match index {
            1 => {
                assert_eq!(root.status_code(), StatusCode::Error);
                assert_eq!(root.status_message(), "payment declined");
            }
            2 => {
                // The ERROR event fails its own span, not the parent.
                assert_eq!(root.status_code(), StatusCode::Unset);
                let charge = one(trace, "charge");
                assert_child_of(charge, root);
                assert_eq!(charge.kind(), SpanKind::Client);
                assert_eq!(charge.status_code(), StatusCode::Error);
                let failed = charge.events_named("charge failed");
                assert_eq!(failed.len(), 1);
                let attr = |key| support::attr(&failed[0].attributes, key);
                assert_eq!(attr("level").as_deref(), Some("ERROR"));
                assert_eq!(attr("reason").as_deref(), Some("card expired"));
            }
            _ => assert_eq!(root.status_code(), StatusCode::Unset),
        }
        let expected = if index == 2 { 6 } else { 5 };
        assert_eq!(trace.len(), expected, "spans of request {index}");
    }
    assert_eq!(seen, (0..REQUESTS).collect::<BTreeSet<_>>());
}

#[test]
fn grpc_spans_reach_the_receiver() {
    export_nested_workload("grpc", "none", Transport::Grpc);
}

#[test]
fn grpc_gzip_spans_reach_the_receiver() {
    export_nested_workload("grpc", "gzip", Transport::Grpc);
}

#[test]
fn http_protobuf_spans_reach_the_receiver() {
    export_nested_workload("http/protobuf", "none", Transport::Http);
}

#[test]
fn http_protobuf_gzip_spans_reach_the_receiver() {
    export_nested_workload("http/protobuf", "gzip", Transport::Http);
}

/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` is used as is (nothing appended) and
/// beats `OTEL_EXPORTER_OTLP_ENDPOINT`.
#[test]
fn http_traces_endpoint_is_used_as_is() {
    let receiver = Receiver::start();
    let traces_endpoint = format!("{}/v1/traces", receiver.http_endpoint());
    let parts = build_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9"),
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", &traces_endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
    ]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), || {
        info_span!("ping").in_scope(|| {});
    });
    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(1, WAIT);
    println!("traces endpoint {traces_endpoint}: {} spans", spans.len());
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].name(), "ping");
    assert!(receiver.problems().is_empty(), "{:?}", receiver.problems());
    parts.into_guard().shutdown().expect("clean shutdown");
}

// ---------------------------------------------------------------------------
// The asynchronous workload: `#[instrument]` fns across `.await`, spawned on a
// multi-thread runtime.
// ---------------------------------------------------------------------------

const ORDERS: u64 = 3;
/// handle_order, fetch ×2, publish_order, consume_order.
const SPANS_PER_ORDER: usize = 5;

#[instrument(fields(otel.kind = "server"))]
async fn handle_order(order_id: u64) {
    // Spawned tasks run on other threads: they take the current span as
    // parent and the current subscriber with them.
    let db = tokio::spawn(
        fetch(order_id, "db")
            .in_current_span()
            .with_current_subscriber(),
    );
    let cache = tokio::spawn(
        fetch(order_id, "cache")
            .in_current_span()
            .with_current_subscriber(),
    );
    db.await.expect("db task");
    cache.await.expect("cache task");
    publish_order(order_id).await;
    info!("order handled");
}

#[instrument(fields(otel.kind = "client"))]
async fn fetch(order_id: u64, backend: &'static str) {
    tokio::time::sleep(Duration::from_millis(5)).await;
    tokio::task::yield_now().await;
    info!(backend, "fetched");
}

#[instrument(fields(otel.kind = "producer"))]
async fn publish_order(order_id: u64) {
    tokio::task::yield_now().await;
    tokio::spawn(
        consume_order(order_id)
            .in_current_span()
            .with_current_subscriber(),
    )
    .await
    .expect("consumer task");
}

#[instrument(fields(otel.kind = "consumer"))]
async fn consume_order(order_id: u64) {
    tokio::time::sleep(Duration::from_millis(2)).await;
    info!("consumed");
}

fn export_async_workload(protocol: &str, transport: Transport) {
    let receiver = Receiver::start();
    let endpoint = match protocol {
        "grpc" => receiver.grpc_endpoint(),
        _ => receiver.http_endpoint(),
    };
    // Every event on its span too, as TRACELINK_SPAN_EVENTS=info asks.
    let parts = build_with(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
        ("TRACELINK_SPAN_EVENTS", "info"),
    ]);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(
        async {
            let orders: Vec<_> = (1..=ORDERS)
                .map(|id| tokio::spawn(handle_order(id).with_current_subscriber()))
                .collect();
            for order in orders {
                order.await.expect("order task");
            }
        }
        .with_subscriber(support::dispatch(&parts)),
    );
    // Every task, and so every span, has ended once the runtime is gone.
    drop(runtime);

    parts.guard().flush().expect("flush");
    let expected = ORDERS as usize * SPANS_PER_ORDER;
    let spans = receiver.wait_for_spans(expected, WAIT);
    let stats = parts.guard().stats().spans();
    println!(
        "async over {protocol}: {} spans in {} traces; stats {stats:?}",
        spans.len(),
        traces(&spans).len()
    );
    assert_eq!(spans.len(), expected);
    assert_eq!(stats.exported(), expected as u64);
    assert_requests(&receiver, transport, false);
    assert_tree_shape(&spans, ORDERS as usize);

    let mut orders = BTreeSet::new();
    for trace in traces(&spans).values() {
        assert_eq!(trace.len(), SPANS_PER_ORDER, "{}", names(trace));
        let root = one(trace, "handle_order");
        assert!(root.parent_span_id().is_none());
        assert_eq!(root.kind(), SpanKind::Server);
        assert_eq!(root.events_named("order handled").len(), 1);
        let order_id = root.attr("order_id").expect("order_id");
        orders.insert(order_id.clone());

        let fetches: Vec<_> = trace.iter().filter(|s| s.name() == "fetch").collect();
        assert_eq!(fetches.len(), 2);
        let mut backends = BTreeSet::new();
        for fetch in fetches {
            assert_child_of(fetch, root);
            assert_eq!(fetch.kind(), SpanKind::Client);
            assert_eq!(fetch.attr("order_id"), Some(order_id.clone()));
            assert_eq!(fetch.events_named("fetched").len(), 1);
            backends.insert(fetch.attr("backend").expect("backend"));
        }
        assert_eq!(backends, BTreeSet::from(["cache".into(), "db".into()]));

        let publish = one(trace, "publish_order");
        assert_child_of(publish, root);
        assert_eq!(publish.kind(), SpanKind::Producer);
        let consume = one(trace, "consume_order");
        assert_child_of(consume, publish);
        assert_eq!(consume.kind(), SpanKind::Consumer);
        assert_eq!(consume.events_named("consumed").len(), 1);
    }
    let expected_orders: BTreeSet<String> = (1..=ORDERS).map(|id| id.to_string()).collect();
    assert_eq!(orders, expected_orders);
    parts.into_guard().shutdown().expect("clean shutdown");
}

#[test]
fn async_spans_form_one_trace_per_order_grpc() {
    export_async_workload("grpc", Transport::Grpc);
}

#[test]
fn async_spans_form_one_trace_per_order_http_protobuf() {
    export_async_workload("http/protobuf", Transport::Http);
}

/// With `with_span_code_location(true)`, every span carries where it was
/// made — `code.file.path`, `code.module.name`, `code.line.number`, as
/// `tracing-opentelemetry`'s location option writes them — and every span's
/// scope is its target, whether it was entered, never entered, entered first
/// on another thread, or had its context injected before its first enter
/// (tracelink adds them on the export thread); a span made through the
/// OpenTelemetry API keeps its tracer's scope.
#[test]
fn spans_carry_their_source_location() {
    use opentelemetry::trace::{Tracer as _, TracerProvider as _};
    let receiver = Receiver::start();
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".into()),
        ])
        .with_span_code_location(true)
        .build()
        .expect("tracelink builds");
    let mut lines = BTreeMap::new();
    tracing::dispatcher::with_default(&support::dispatch(&parts), || {
        lines.insert("entered", line!() + 1);
        info_span!("entered", order.id = 7).in_scope(|| {});
        lines.insert("never_entered", line!() + 1);
        drop(info_span!(target: "audit", "never_entered"));
        lines.insert("injected", line!() + 1);
        let injected = info_span!("injected", otel.kind = "producer");
        // Starts the span (`build()` installs no global propagator, so
        // nothing is written).
        tracelink::propagation::inject_span(&injected, &mut Vec::new());
        injected.in_scope(|| {});
        lines.insert("moved", line!() + 1);
        let moved = info_span!("moved");
        // Made here, entered first and closed on another thread.
        std::thread::spawn(move || moved.in_scope(|| {}))
            .join()
            .expect("thread");
    });
    parts
        .tracer_provider()
        .tracer("my-library")
        .in_span("library-call", |_| {});
    parts.guard().flush().expect("flush");
    let spans = receiver.wait_for_spans(lines.len() + 1, WAIT);
    assert_eq!(spans.len(), lines.len() + 1);
    let (library, spans): (Vec<_>, Vec<_>) = spans.iter().partition(|s| s.name() == "library-call");
    assert_eq!(library[0].scope, "my-library");
    assert_eq!(library[0].attr("code.file.path"), None);
    for span in &spans {
        let name = span.name();
        let line = lines[name];
        assert_eq!(
            span.attr("code.file.path").as_deref(),
            Some(file!()),
            "{name}"
        );
        assert_eq!(
            span.attr("code.module.name").as_deref(),
            Some(module_path!()),
            "{name}"
        );
        assert_eq!(
            span.attr("code.line.number"),
            Some(line.to_string()),
            "{name}"
        );
        let target = if name == "never_entered" {
            "audit"
        } else {
            module_path!()
        };
        assert_eq!(span.scope, target, "{name}");
    }
    let entered = spans
        .iter()
        .find(|s| s.name() == "entered")
        .expect("entered");
    assert_eq!(entered.attr("order.id").as_deref(), Some("7"));
    parts.into_guard().shutdown().expect("clean shutdown");
}
