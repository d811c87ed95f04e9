//! The flow of `examples/two_services.rs`, run as is under `tracelink`'s
//! global setup against a real OTLP receiver: the gateway's SERVER span, its
//! CLIENT call, payments' SERVER span, the PRODUCER and the CONSUMER span are
//! all in the client's one trace, each the child of the one before; every
//! JSON log line of the flow carries that trace and the span it happened in;
//! and the counters' exemplars point into it.
//!
//! One test only: it installs the global subscriber and recorder.

#![cfg(all(feature = "tower", feature = "reqwest"))]

mod support;

// The example's `main` is not used here, only its flow.
#[allow(dead_code)]
#[path = "../examples/two_services.rs"]
mod two_services;

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use serde_json::Value;
use support::{Capture, ReceivedSpan, Receiver};

const WAIT: Duration = Duration::from_secs(20);

/// The spans of one order, found by walking the parent links down from the
/// gateway's SERVER span.
struct Order<'a> {
    gateway: &'a ReceivedSpan,
    call: &'a ReceivedSpan,
    payments: &'a ReceivedSpan,
    /// PRODUCER and CONSUMER, when the order was placed.
    queue: Option<(&'a ReceivedSpan, &'a ReceivedSpan)>,
}

struct Trace<'a> {
    spans: &'a [ReceivedSpan],
}

impl<'a> Trace<'a> {
    fn names(&self) -> Vec<String> {
        self.spans
            .iter()
            .map(|s| format!("{} {:?} {}", s.name(), s.kind(), s.span_id()))
            .collect()
    }

    /// The children of `parent` with this kind.
    fn children(&self, parent: &ReceivedSpan, kind: SpanKind) -> Vec<&'a ReceivedSpan> {
        self.spans
            .iter()
            .filter(|s| s.parent_span_id() == Some(parent.span_id()) && s.kind() == kind)
            .collect()
    }

    /// The one child of `parent` with this kind.
    fn child(&self, parent: &ReceivedSpan, kind: SpanKind) -> &'a ReceivedSpan {
        let children = self.children(parent, kind);
        assert_eq!(
            children.len(),
            1,
            "{kind:?} children of {} {}: {:#?}",
            parent.name(),
            parent.span_id(),
            self.names()
        );
        children[0]
    }

    fn by_id(&self, span_id: &str) -> &'a ReceivedSpan {
        self.spans
            .iter()
            .find(|s| s.span_id() == span_id)
            .unwrap_or_else(|| panic!("no span {span_id}: {:#?}", self.names()))
    }

    /// Walks one order down from the client's CLIENT span.
    fn order(&self, client_call: &'a ReceivedSpan) -> Order<'a> {
        let gateway = self.child(client_call, SpanKind::Server);
        let call = self.child(gateway, SpanKind::Client);
        let payments = self.child(call, SpanKind::Server);
        let queue = match self.children(gateway, SpanKind::Producer).as_slice() {
            [] => None,
            [producer] => Some((*producer, self.child(producer, SpanKind::Consumer))),
            more => panic!("{} PRODUCER spans under one order", more.len()),
        };
        Order {
            gateway,
            call,
            payments,
            queue,
        }
    }
}

/// The log lines of `target` (the example's module, wherever it is
/// compiled) with this message.
fn lines<'a>(logs: &'a [Value], module: &str, message: &str) -> Vec<&'a Value> {
    logs.iter()
        .filter(|line| line["message"] == message)
        .filter(|line| {
            line["target"]
                .as_str()
                .is_some_and(|t| t.ends_with(&format!("two_services::{module}")))
        })
        .collect()
}

/// The one log line of `module` with this message for this order.
fn line<'a>(logs: &'a [Value], module: &str, message: &str, order_id: u64) -> &'a Value {
    let found: Vec<_> = lines(logs, module, message)
        .into_iter()
        .filter(|line| line["order.id"] == order_id)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{module}: {message:?} for order {order_id}: {found:#?}"
    );
    found[0]
}

/// The exemplar `(trace_id, span_id)` of the counter sample starting with
/// `series` in an OpenMetrics exposition.
fn exemplar(body: &str, series: &str) -> (String, String) {
    let sample = body
        .lines()
        .find(|l| l.starts_with(series))
        .unwrap_or_else(|| panic!("no {series} in\n{body}"));
    let label = |name: &str| {
        let start = sample
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in the exemplar of {sample}"))
            + name.len()
            + 2;
        let end = start + sample[start..].find('"').expect("a closing quote");
        sample[start..end].to_owned()
    };
    (label("trace_id"), label("span_id"))
}

#[test]
fn gateway_payments_and_the_queue_are_one_trace() {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ])
        .with_service_name("shop")
        .with_log_writer(tracelink::LogWriter::custom(capture.clone()))
        .with_prometheus_listener("127.0.0.1", 0)
        .with_shutdown_timeout(WAIT)
        .init()
        .expect("tracelink initializes");
    let metrics = guard.metrics_address().expect("/metrics listens");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let (outcome, exposition) = runtime.block_on(async {
        let outcome = two_services::run().await.expect("the flow runs");
        let exposition = reqwest::Client::new()
            .get(format!("http://{metrics}/metrics"))
            .header("accept", "application/openmetrics-text; version=1.0.0")
            .send()
            .await
            .expect("scrape")
            .text()
            .await
            .expect("exposition");
        (outcome, exposition)
    });
    drop(runtime);

    assert_eq!(outcome.placed, [1, 2]);
    assert_eq!(outcome.declined, [3]);
    assert_eq!(outcome.notified, [1, 2]);
    let trace_id = outcome.trace_id.clone();
    assert_eq!(trace_id.len(), 32);
    assert_ne!(trace_id, "0".repeat(32));

    // Every span the flow made: the root, then per order the client's call,
    // the gateway, its call, payments; PRODUCER and CONSUMER per placed order.
    guard.flush().expect("flush");
    let expected = 1 + 4 * two_services::ORDERS.len() + 2 * outcome.placed.len();
    let spans = receiver.wait_for_spans(expected, WAIT);
    let trace = Trace { spans: &spans };
    assert_eq!(spans.len(), expected, "{:#?}", trace.names());
    for span in &spans {
        assert_eq!(
            span.trace_id(),
            trace_id,
            "{} is in another trace",
            span.name()
        );
    }

    // The client's root span, and one CLIENT call per order below it.
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| s.parent_span_id().is_none())
        .collect();
    assert_eq!(roots.len(), 1, "{:#?}", trace.names());
    let root = roots[0];
    assert_eq!(root.name(), "checkout");
    let calls = trace.children(root, SpanKind::Client);
    assert_eq!(
        calls.len(),
        two_services::ORDERS.len(),
        "{:#?}",
        trace.names()
    );

    let mut orders = HashMap::new();
    for call in calls {
        let order = trace.order(call);
        let path = order.gateway.attr("url.path").expect("url.path");
        let id: u64 = path
            .strip_prefix("/orders/")
            .and_then(|id| id.parse().ok())
            .unwrap_or_else(|| panic!("the gateway span's path is {path}"));
        orders.insert(id, order);
    }
    let gateway_port = outcome.gateway.port().to_string();
    let payments_port = outcome.payments.port().to_string();
    for (id, _) in two_services::ORDERS {
        let order = &orders[&id];
        // Gateway SERVER, under the client's call (checked by the walk).
        assert_eq!(order.gateway.name(), "POST /orders/{id}");
        assert_eq!(
            order.gateway.attr("server.port"),
            Some(gateway_port.clone())
        );
        // Its CLIENT call to payments, and payments' SERVER span under it.
        assert_eq!(
            order.call.attr("url.full"),
            Some(format!("http://127.0.0.1:{payments_port}/charges"))
        );
        assert_eq!(order.payments.name(), "POST /charges");
        assert_eq!(
            order.payments.attr("server.port"),
            Some(payments_port.clone())
        );
        assert_eq!(order.payments.parent_span_id(), Some(order.call.span_id()));
        assert_eq!(order.call.parent_span_id(), Some(order.gateway.span_id()));

        let placed = outcome.placed.contains(&id);
        match order.queue {
            Some((producer, consumer)) => {
                assert!(placed, "order {id} was declined but published");
                assert_eq!(producer.name(), "send orders.placed");
                assert_eq!(producer.parent_span_id(), Some(order.gateway.span_id()));
                assert_eq!(consumer.name(), "process orders.placed");
                assert_eq!(consumer.parent_span_id(), Some(producer.span_id()));
                assert_eq!(
                    consumer.attr("messaging.destination.name").as_deref(),
                    Some(two_services::ORDERS_TOPIC)
                );
                assert_eq!(order.call.status_code(), StatusCode::Unset);
            }
            None => {
                assert!(!placed, "order {id} was placed but not published");
                // A 402 is an error for the caller, not for the server.
                assert_eq!(order.call.status_code(), StatusCode::Error);
                assert_eq!(
                    order.call.attr("http.response.status_code").as_deref(),
                    Some("402")
                );
                assert_eq!(order.payments.status_code(), StatusCode::Unset);
            }
        }
    }

    // The JSON lines: each in the trace, with the id of the span it happened in.
    let logs: Vec<Value> = capture
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let in_span = |line: &Value, span: &ReceivedSpan| {
        assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
        assert_eq!(line["span_id"], span.span_id().as_str(), "{line}");
    };
    for (id, _) in two_services::ORDERS {
        let order = &orders[&id];
        in_span(line(&logs, "gateway", "order received", id), order.gateway);
        match order.queue {
            Some((_, consumer)) => {
                in_span(
                    line(&logs, "payments", "payment captured", id),
                    order.payments,
                );
                in_span(line(&logs, "gateway", "order placed", id), order.gateway);
                let sent = line(&logs, "notifier", "order confirmation sent", id);
                in_span(sent, consumer);
            }
            None => {
                in_span(
                    line(&logs, "payments", "payment declined", id),
                    order.payments,
                );
                let declined = line(&logs, "gateway", "order declined by payments", id);
                in_span(declined, order.gateway);
            }
        }
    }
    // Nothing else was logged by the flow outside the trace.
    for line in &logs {
        if line["target"]
            .as_str()
            .is_some_and(|t| t.contains("two_services"))
        {
            assert_eq!(line["trace_id"], trace_id.as_str(), "{line}");
        }
    }

    // The counters' exemplars are spans of the trace.
    for (series, kind) in [
        (
            "payments_charges_total{outcome=\"captured\"}",
            SpanKind::Server,
        ),
        ("gateway_orders_total{outcome=\"placed\"}", SpanKind::Server),
        (
            "notifications_sent_total{channel=\"email\"}",
            SpanKind::Consumer,
        ),
    ] {
        let (exemplar_trace, exemplar_span) = exemplar(&exposition, series);
        assert_eq!(exemplar_trace, trace_id, "{series}");
        assert_eq!(trace.by_id(&exemplar_span).kind(), kind, "{series}");
    }
    assert!(
        exposition.contains("gateway_orders_total{outcome=\"declined\"} 1"),
        "{exposition}"
    );

    guard.shutdown().expect("clean shutdown");
}
