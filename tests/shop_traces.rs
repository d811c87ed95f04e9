//! The shop of `demo/src/lib.rs`, run as is under `tracelink`'s global
//! setup, with spans going both to a real OTLP receiver and to the local
//! trace store: each order is its own trace, from the client's `checkout`
//! span through the gateway and payments to the notifier, each span the child
//! of the one before; the slow order has its `fraud.review` span, the
//! declined and the failing order fail where they should and nowhere else;
//! every JSON log line of the flow carries its order's trace and the span it
//! happened in; the counters' exemplars point at those spans; and the store
//! holds the very spans the receiver got.
//!
//! The flow runs once per process ([`shop_run`]): it installs the global
//! subscriber and recorder, which only one `init` may do.

#![cfg(all(feature = "tower", feature = "reqwest"))]

mod support;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde_json::Value;
use shop::{Answer, Checkout};
use support::{Capture, ReceivedSpan, Receiver};

const WAIT: Duration = Duration::from_secs(20);

/// What each order of `shop::ORDERS` must do: its id, the gateway's answer,
/// and whether payments reviews it for fraud (the slow one).
const EXPECTED: [(u64, Answer, bool); 4] = [
    (1, Answer::Placed, false),
    (2, Answer::Placed, true),
    (3, Answer::Declined, false),
    (4, Answer::Failed, false),
];

/// The id of the one order of [`EXPECTED`] answered so.
fn the(answer: Answer) -> u64 {
    let ids: Vec<u64> = EXPECTED
        .iter()
        .filter(|(_, a, _)| *a == answer)
        .map(|(id, ..)| *id)
        .collect();
    assert_eq!(ids.len(), 1, "{answer:?}: {ids:?}");
    ids[0]
}

/// The id of the order of [`EXPECTED`] that payments reviews.
fn the_reviewed() -> u64 {
    let (id, ..) = EXPECTED
        .iter()
        .find(|(_, _, reviewed)| *reviewed)
        .expect("a reviewed order");
    *id
}

/// Everything one run of the shop left behind.
struct ShopRun {
    outcome: shop::Outcome,
    /// What the OTLP receiver got.
    spans: Vec<ReceivedSpan>,
    /// The JSON log lines.
    logs: Vec<Value>,
    /// `/metrics` in OpenMetrics, after the run.
    exposition: String,
    /// The spans of every line of the store file, after shutdown.
    stored: Vec<Span>,
}

/// Runs the shop once for all the tests of this file.
fn shop_run() -> &'static ShopRun {
    static RUN: OnceLock<ShopRun> = OnceLock::new();
    RUN.get_or_init(run_shop)
}

fn temp_dir() -> PathBuf {
    use std::hash::{BuildHasher, RandomState};
    let suffix = RandomState::new().hash_one(std::time::SystemTime::now());
    let dir = std::env::temp_dir().join(format!(
        "tracelink-shop-traces-{}-{suffix}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn run_shop() -> ShopRun {
    let receiver = Receiver::start();
    let capture = Capture::default();
    let dir = temp_dir();
    let store = dir.join("traces.jsonl");
    let guard = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ])
        .with_service_name("shop")
        .with_log_writer(tracelink::logs::LogWriter::custom(capture.clone()))
        .with_prometheus_listener("127.0.0.1", 0)
        .with_traces_file(&store)
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
        let outcome = shop::run().await.expect("the flow runs");
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

    // Per order: the client's root and call, the gateway, its call and
    // payments; one more for the review; PRODUCER and CONSUMER per placed
    // order.
    let expected: usize = EXPECTED
        .iter()
        .map(|(_, answer, reviewed)| {
            5 + usize::from(*reviewed) + if *answer == Answer::Placed { 2 } else { 0 }
        })
        .sum();
    guard.flush().expect("flush");
    let spans = receiver.wait_for_spans(expected, WAIT);
    guard.shutdown().expect("clean shutdown");

    let stored = tracelink::store::files(&store)
        .iter()
        .flat_map(|file| {
            let text = std::fs::read_to_string(file).expect("store file readable");
            text.lines()
                .map(|line| {
                    serde_json::from_str::<ExportTraceServiceRequest>(line)
                        .unwrap_or_else(|e| panic!("not OTLP/JSON ({e}): {line}"))
                })
                .collect::<Vec<_>>()
        })
        .flat_map(|request| request.resource_spans)
        .flat_map(|resource| resource.scope_spans)
        .flat_map(|scope| scope.spans)
        .collect();
    std::fs::remove_dir_all(&dir).expect("temp dir removed");

    let logs = capture
        .text()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    ShopRun {
        outcome,
        spans,
        logs,
        exposition,
        stored,
    }
}

/// The spans of one order, found by walking the parent links down from the
/// client's root `checkout` span.
struct Order<'a> {
    root: &'a ReceivedSpan,
    /// The client's call to the gateway.
    call: &'a ReceivedSpan,
    gateway: &'a ReceivedSpan,
    /// The gateway's call to payments.
    charge: &'a ReceivedSpan,
    payments: &'a ReceivedSpan,
    /// `fraud.review`, when payments reviewed the order.
    review: Option<&'a ReceivedSpan>,
    /// PRODUCER and CONSUMER, when the order was placed.
    queue: Option<(&'a ReceivedSpan, &'a ReceivedSpan)>,
}

/// The spans of one trace.
struct Trace<'a> {
    spans: Vec<&'a ReceivedSpan>,
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
            .copied()
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

    /// At most one child of `parent` with this kind.
    fn maybe_child(&self, parent: &ReceivedSpan, kind: SpanKind) -> Option<&'a ReceivedSpan> {
        match self.children(parent, kind).as_slice() {
            [] => None,
            [child] => Some(*child),
            more => panic!(
                "{} {kind:?} children of {}: {:#?}",
                more.len(),
                parent.name(),
                self.names()
            ),
        }
    }

    /// Walks the order down from its one root, and checks nothing else is
    /// in the trace.
    fn order(&self) -> Order<'a> {
        let roots: Vec<_> = self
            .spans
            .iter()
            .copied()
            .filter(|s| s.parent_span_id().is_none())
            .collect();
        assert_eq!(roots.len(), 1, "roots: {:#?}", self.names());
        let root = roots[0];
        let call = self.child(root, SpanKind::Client);
        let gateway = self.child(call, SpanKind::Server);
        let charge = self.child(gateway, SpanKind::Client);
        let payments = self.child(charge, SpanKind::Server);
        let review = self.maybe_child(payments, SpanKind::Internal);
        let queue = self
            .maybe_child(gateway, SpanKind::Producer)
            .map(|producer| (producer, self.child(producer, SpanKind::Consumer)));
        let walked = 5 + usize::from(review.is_some()) + 2 * usize::from(queue.is_some());
        assert_eq!(self.spans.len(), walked, "{:#?}", self.names());
        Order {
            root,
            call,
            gateway,
            charge,
            payments,
            review,
            queue,
        }
    }
}

/// The spans of each order's trace, by order id, walked; checks that every
/// span received is in one of them.
fn orders(run: &ShopRun) -> HashMap<u64, Order<'_>> {
    let checkouts = &run.outcome.checkouts;
    for span in &run.spans {
        assert!(
            checkouts.iter().any(|c| c.trace_id == span.trace_id()),
            "{} {} is in no order's trace",
            span.name(),
            span.trace_id()
        );
    }
    checkouts
        .iter()
        .map(|checkout| {
            let trace = Trace {
                spans: run
                    .spans
                    .iter()
                    .filter(|s| s.trace_id() == checkout.trace_id)
                    .collect(),
            };
            (checkout.order.id, trace.order())
        })
        .collect()
}

fn checkout(run: &ShopRun, id: u64) -> &Checkout {
    run.outcome
        .checkouts
        .iter()
        .find(|c| c.order.id == id)
        .unwrap_or_else(|| panic!("no checkout of order {id}"))
}

/// Whether a log line was written by the demo's `module` (`shop::gateway`).
fn from_module(line: &Value, module: &str) -> bool {
    line["target"]
        .as_str()
        .is_some_and(|t| t.ends_with(&format!("shop::{module}")))
}

/// The one log line of `module` with this message for this order.
fn line<'a>(logs: &'a [Value], module: &str, message: &str, order_id: u64) -> &'a Value {
    let found: Vec<_> = logs
        .iter()
        .filter(|line| line["message"] == message && line["order.id"] == order_id)
        .filter(|line| from_module(line, module))
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
fn each_order_is_one_trace_from_the_client_to_the_notifier() {
    let run = shop_run();
    let outcome = &run.outcome;

    // Each order answered as it should, in its own trace.
    let ids: Vec<u64> = outcome.checkouts.iter().map(|c| c.order.id).collect();
    let expected_ids: Vec<u64> = EXPECTED.iter().map(|(id, ..)| *id).collect();
    assert_eq!(ids, expected_ids);
    for (id, answer, _) in EXPECTED {
        assert_eq!(checkout(run, id).answer, answer, "order {id}");
    }
    let placed: Vec<u64> = EXPECTED
        .iter()
        .filter(|(_, answer, _)| *answer == Answer::Placed)
        .map(|(id, ..)| *id)
        .collect();
    assert_eq!(outcome.notified, placed);
    let mut trace_ids: Vec<&str> = outcome
        .checkouts
        .iter()
        .map(|c| c.trace_id.as_str())
        .collect();
    trace_ids.sort_unstable();
    trace_ids.dedup();
    assert_eq!(trace_ids.len(), EXPECTED.len(), "{trace_ids:?}");
    for trace_id in &trace_ids {
        assert_eq!(trace_id.len(), 32);
        assert_ne!(*trace_id, "0".repeat(32));
    }

    let orders = orders(run);
    let gateway_port = outcome.gateway.port().to_string();
    let payments_port = outcome.payments.port().to_string();
    for (id, answer, reviewed) in EXPECTED {
        let order = &orders[&id];
        // The client's root and its call to the gateway.
        assert_eq!(order.root.name(), "checkout");
        assert_eq!(order.root.attr("order.id"), Some(id.to_string()));
        assert_eq!(
            order.call.attr("url.full"),
            Some(format!("http://127.0.0.1:{gateway_port}/orders/{id}"))
        );
        // Gateway SERVER, its CLIENT call to payments, payments' SERVER span.
        assert_eq!(order.gateway.name(), "POST /orders/{id}");
        assert_eq!(
            order.gateway.attr("url.path"),
            Some(format!("/orders/{id}"))
        );
        assert_eq!(
            order.gateway.attr("server.port"),
            Some(gateway_port.clone())
        );
        assert_eq!(
            order.charge.attr("url.full"),
            Some(format!("http://127.0.0.1:{payments_port}/charges"))
        );
        assert_eq!(order.payments.name(), "POST /charges");
        assert_eq!(
            order.payments.attr("server.port"),
            Some(payments_port.clone())
        );

        // The slow order, and only it, has its review under payments.
        match order.review {
            Some(review) => {
                assert!(reviewed, "order {id} was reviewed");
                assert_eq!(review.name(), "fraud.review");
                assert_eq!(review.attr("order.id"), Some(id.to_string()));
            }
            None => assert!(!reviewed, "order {id} has no fraud.review span"),
        }

        match order.queue {
            Some((producer, consumer)) => {
                assert_eq!(answer, Answer::Placed, "order {id} was published");
                assert_eq!(producer.name(), "send orders.placed");
                assert_eq!(consumer.name(), "process orders.placed");
                assert_eq!(
                    consumer.attr("messaging.destination.name").as_deref(),
                    Some(shop::ORDERS_TOPIC)
                );
            }
            None => assert_ne!(answer, Answer::Placed, "order {id} was not published"),
        }

        let status = |span: &ReceivedSpan| (span.status_code(), span.attr("error.type"));
        let ok = (StatusCode::Unset, None);
        let failed = |code: &str| (StatusCode::Error, Some(code.to_owned()));
        match answer {
            Answer::Placed => {
                for span in [order.call, order.gateway, order.charge, order.payments] {
                    assert_eq!(status(span), ok, "order {id}: {}", span.name());
                }
            }
            Answer::Declined => {
                // A 402 is an error for the callers, not for the servers.
                assert_eq!(status(order.call), failed("402"));
                assert_eq!(status(order.charge), failed("402"));
                assert_eq!(status(order.gateway), ok);
                assert_eq!(status(order.payments), ok);
                assert_eq!(
                    order.payments.attr("http.response.status_code").as_deref(),
                    Some("402")
                );
                // The warnings are on the spans too.
                assert_eq!(order.payments.events_named("payment declined").len(), 1);
                assert_eq!(
                    order
                        .gateway
                        .events_named("order declined by payments")
                        .len(),
                    1
                );
            }
            Answer::Failed => {
                // Payments failed, with its ERROR event; the gateway failed
                // in turn, and both calls.
                assert_eq!(status(order.payments), failed("500"));
                assert_eq!(
                    order
                        .payments
                        .events_named("card processor unavailable")
                        .len(),
                    1
                );
                assert_eq!(status(order.charge), failed("500"));
                assert_eq!(status(order.gateway), failed("502"));
                assert_eq!(order.gateway.events_named("payments failed").len(), 1);
                assert_eq!(status(order.call), failed("502"));
            }
        }
    }
}

#[test]
fn each_log_line_carries_its_order_trace_and_span() {
    let run = shop_run();
    let orders = orders(run);
    let logs = &run.logs;
    let mut lines_seen = 0;
    for (id, answer, _) in EXPECTED {
        let order = &orders[&id];
        let trace_id = checkout(run, id).trace_id.as_str();
        // Module, message, level, and the span the line happened in.
        let mut expected = vec![("gateway", "order received", "INFO", order.gateway)];
        if let Some(review) = order.review {
            expected.push(("payments", "review passed", "INFO", review));
        }
        match answer {
            Answer::Placed => {
                let (_, consumer) = order.queue.expect("a placed order is published");
                expected.extend([
                    ("payments", "payment captured", "INFO", order.payments),
                    ("gateway", "order placed", "INFO", order.gateway),
                    ("notifier", "order confirmation sent", "INFO", consumer),
                ]);
            }
            Answer::Declined => expected.extend([
                ("payments", "payment declined", "WARN", order.payments),
                (
                    "gateway",
                    "order declined by payments",
                    "WARN",
                    order.gateway,
                ),
            ]),
            Answer::Failed => {
                expected.extend([
                    (
                        "payments",
                        "card processor unavailable",
                        "ERROR",
                        order.payments,
                    ),
                    ("gateway", "payments failed", "ERROR", order.gateway),
                ]);
                let failed = line(logs, "gateway", "payments failed", id);
                assert_eq!(failed["status"], 500, "{failed}");
            }
        }
        for (module, message, level, span) in &expected {
            let line = line(logs, module, message, id);
            assert_eq!(line["level"], *level, "{line}");
            assert_eq!(line["trace_id"], trace_id, "{line}");
            assert_eq!(line["span_id"], span.span_id().as_str(), "{line}");
        }
        lines_seen += expected.len();
    }
    // Nothing else was logged by the flow, inside the orders' traces or out.
    let flow: Vec<&Value> = logs
        .iter()
        .filter(|line| {
            ["gateway", "payments", "notifier"]
                .iter()
                .any(|module| from_module(line, module))
        })
        .collect();
    assert_eq!(flow.len(), lines_seen, "{flow:#?}");
}

#[test]
fn the_counters_exemplars_point_at_the_orders_spans() {
    let run = shop_run();
    let orders = orders(run);
    let exposition = &run.exposition;
    let span = |(trace_id, span_id): (String, String)| -> &ReceivedSpan {
        run.spans
            .iter()
            .find(|s| s.trace_id() == trace_id && s.span_id() == span_id)
            .unwrap_or_else(|| panic!("no span {span_id} in trace {trace_id}"))
    };
    let placed = |s: &ReceivedSpan| {
        orders
            .values()
            .any(|o| o.queue.is_some() && o.root.trace_id() == s.trace_id())
    };

    // The declined and the failed order were counted once: the samples
    // point at their spans.
    let declined = &orders[&the(Answer::Declined)];
    let failed = &orders[&the(Answer::Failed)];
    for (series, expected) in [
        (
            "gateway_orders_total{outcome=\"declined\"}",
            declined.gateway,
        ),
        (
            "payments_charges_total{outcome=\"declined\"}",
            declined.payments,
        ),
        ("gateway_orders_total{outcome=\"failed\"}", failed.gateway),
        (
            "payments_charges_total{outcome=\"failed\"}",
            failed.payments,
        ),
    ] {
        let sample = span(exemplar(exposition, series));
        assert_eq!(sample.span_id(), expected.span_id(), "{series}");
    }
    // The placed orders were counted each: the samples point at a span of
    // one of them, of the right kind.
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
        let sample = span(exemplar(exposition, series));
        assert_eq!(sample.kind(), kind, "{series}");
        assert!(placed(sample), "{series}: {}", sample.trace_id());
    }
    let placed_count = EXPECTED
        .iter()
        .filter(|(_, answer, _)| *answer == Answer::Placed)
        .count();
    let placed_sample = format!("gateway_orders_total{{outcome=\"placed\"}} {placed_count} ");
    assert!(exposition.contains(&placed_sample), "{exposition}");
}

/// What identifies a span and its place in the tree, as exported.
fn key(span: &Span) -> (String, String, String, String, i32, i32, Option<String>) {
    (
        support::hex(&span.trace_id),
        support::hex(&span.span_id),
        support::hex(&span.parent_span_id),
        span.name.clone(),
        span.kind,
        span.status.as_ref().map_or(0, |s| s.code),
        support::attr(&span.attributes, "error.type"),
    )
}

#[test]
fn the_store_holds_every_span_of_every_order() {
    let run = shop_run();
    // Walked and checked by the tests above.
    let orders = orders(run);
    assert_eq!(orders.len(), EXPECTED.len());

    let mut received: Vec<_> = run.spans.iter().map(|s| key(&s.span)).collect();
    let mut stored: Vec<_> = run.stored.iter().map(key).collect();
    received.sort();
    stored.sort();
    assert_eq!(stored, received);

    // And they read back as the traces `tracelink show` draws: the slow
    // order's review under payments, the failing order's payments span failed.
    let in_store = |span: &ReceivedSpan| {
        run.stored
            .iter()
            .find(|s| support::hex(&s.span_id) == span.span_id())
            .unwrap_or_else(|| panic!("{} is not in the store", span.name()))
    };
    let slow = &orders[&the_reviewed()];
    let review = in_store(slow.review.expect("the slow order is reviewed"));
    assert_eq!(review.name, "fraud.review");
    assert_eq!(
        support::hex(&review.parent_span_id),
        slow.payments.span_id()
    );
    let failed = in_store(orders[&the(Answer::Failed)].payments);
    assert_eq!(
        failed
            .status
            .as_ref()
            .map(opentelemetry_proto::tonic::trace::v1::Status::code),
        Some(StatusCode::Error)
    );
    assert_eq!(
        support::attr(&failed.attributes, "error.type").as_deref(),
        Some("500")
    );
}
