//! The shop: the demo of everything tracelink wires up, in one run.
//!
//! Run it from the repository with
//!
//! ```text
//! cargo run -p tracelink-demo
//! ```
//!
//! This crate (`demo/`, package `tracelink-demo`, not published) holds the
//! flow, this library (`shop`), and the binary `shop` (`src/main.rs`) that
//! sets tracelink up, runs the flow and prints where everything went. It
//! depends only on what a service would (tracelink with its `tower` and
//! `reqwest` features, axum, tokio, reqwest), not on the root package's
//! bench and test dependencies, so the first run builds only those.
//!
//! A gateway and a payments service, each an axum app behind tracelink's
//! `ServerLayer`, start on free ports of 127.0.0.1, with a notifier reading an
//! in-process queue. A built-in client places four orders, each its own
//! request and its own trace:
//!
//! | order | what happens | the trace shows |
//! |---|---|---|
//! | 1 | paid and placed | the whole path, client to notifier |
//! | 2 | flagged for review: payments takes ~300 ms more | **slow**: a long `fraud.review` span |
//! | 3 | over the card limit: payments answers 402, and so does the gateway | both calls are errors (a 4xx is, for a client); both SERVER spans are not (for a server it is not); a WARN on each |
//! | 4 | the card processor is down: payments answers 500, the gateway 502 | **error**: payments' SERVER span failed with `error.type` = `500` and its ERROR event, and so did everything above it |
//!
//! Everything is on:
//!
//! - **Log lines**: one JSON line per event, with the `trace_id` and `span_id`
//!   of the span it happened in, on stdout and in `.tracelink/shop.log`
//!   (emptied at start), through the binary's small `tee::Tee` writer.
//! - **Spans**: to the local trace store, `.tracelink/traces.jsonl` under the
//!   working directory (`TRACELINK_TRACES_FILE` moves it), which the
//!   `tracelink` command reads. Set `OTEL_EXPORTER_OTLP_ENDPOINT` to send them
//!   to a Collector, Jaeger or Tempo as well, or `OTEL_TRACES_EXPORTER` to
//!   choose the exporters (`otlp`, `console`, `none`); the store is written
//!   whatever they say, since the commands printed at the end read it.
//! - **Metrics**: `/metrics` on a free port of 127.0.0.1
//!   (`OTEL_EXPORTER_PROMETHEUS_PORT` picks one): the
//!   `http_server_request_duration_seconds` histogram of both services and
//!   the shop's counters, each sample with an exemplar pointing at the span
//!   it was recorded in.
//! - **Propagation**: W3C `traceparent` over HTTP, and in the queue
//!   message's headers.
//!
//! ## What it prints
//!
//! Log lines on stdout, everything else on stderr, so
//! `cargo run -p tracelink-demo 2>/dev/null | jq` works.
//! At the end, on stderr, with this run's ids and ports:
//!
//! ```text
//! shop: 4 orders, one trace each (gateway 127.0.0.1:34413, payments 127.0.0.1:38159); the notifier confirmed [1, 2]
//!   order 1  placed      5 ms  trace 10e4f0187fbc03c2172fe542c6f016c7
//!   order 2  placed    305 ms  trace f1ca378b7ce26d97781792e6f3bbb7fd  slow: fraud.review
//!   order 3  declined    3 ms  trace 876559c30f117ddea4b74bf8129077e2  payments answered 402
//!   order 4  failed      3 ms  trace 19b874aaab6175952f51c98159a6dc8d  payments answered 500, the gateway 502
//! spans in .tracelink/traces.jsonl; log lines on stdout and in .tracelink/shop.log
//!
//! the slow trace, order 2:
//!   cargo run -p tracelink-cli -- show f1ca378b7ce26d97781792e6f3bbb7fd --logs .tracelink/shop.log
//! the error trace, order 4:
//!   cargo run -p tracelink-cli -- show 19b874aaab6175952f51c98159a6dc8d --logs .tracelink/shop.log
//! every trace with an error in the store:
//!   cargo run -p tracelink-cli -- traces --errors
//! from a log line to its trace:
//!   grep 'card processor unavailable' .tracelink/shop.log | head -1 | cargo run -p tracelink-cli -- jump --logs .tracelink/shop.log
//!
//! exemplars in http://127.0.0.1:34795/metrics, each pointing at a span of an order's trace:
//!   order 1  http_server_request_duration_seconds_bucket{http_request_method="POST",http_route="/charges",
//!            http_response_status_code="200",url_scheme="http",le="0.005"} 1 # {trace_id="10e4f018…",span_id="9cfc5523…"} 0.000421834 1795309456.607
//!   order 2  http_server_request_duration_seconds_bucket{...,le="0.5"} 2 # {trace_id="f1ca378b…",span_id="bf4b74fa…"} 0.301785225 1795309456.912
//!   ...      (one line per bucket with an exemplar, both services)
//!   order 4  payments_charges_total{outcome="failed"} 1 # {trace_id="19b874aa…",span_id="e9e3775c…"} 1.0 1795309456.919
//! ```
//!
//! Run the printed commands from the repository (they build the `tracelink`
//! command of the `cli/` workspace member, showing cargo's progress the first
//! time; after `cargo install --locked --path cli`, `tracelink show ...` is
//! the same). The store keeps the traces of
//! earlier runs too (`tracelink traces` lists them newest first); the log file
//! holds this run's lines only.
//!
//! ## The flow
//!
//! ```text
//! client ──POST /orders/{id}──▶ gateway ──POST /charges──▶ payments
//!                                  │                          └─ fraud.review (flagged amounts)
//!                                  └──"order placed"──▶ queue ──▶ notifier
//! ```
//!
//! Each order is one trace, rooted in the client's `checkout` span:
//!
//! ```text
//! checkout                                   the built-in client
//! └─ POST                          CLIENT    send_traced
//!    └─ POST /orders/{id}          SERVER    gateway, ServerLayer
//!       ├─ POST                    CLIENT    send_traced
//!       │  └─ POST /charges        SERVER    payments, ServerLayer
//!       │     └─ fraud.review                order 2 only
//!       └─ send orders.placed      PRODUCER  producer_span + inject_span (placed orders)
//!          └─ process orders.placed CONSUMER consumer_span, in the notifier
//! ```
//!
//! - **HTTP.** Each service has its own `ServerLayer`, which continues the
//!   caller's trace from `traceparent`; `send_traced` makes the CLIENT span
//!   and writes its context into the request.
//! - **Queue.** The message carries its headers as `Vec<(String, String)>`,
//!   like a Kafka or AMQP message: the producer writes its span's context
//!   into them, the consumer reads it back into a CONSUMER span, child of the
//!   PRODUCER span, although it runs later, in another task.
//!
//! ## Walk-through: from a log line to its trace
//!
//! 1. Pick a log line, say the payments error:
//!    `grep 'card processor unavailable' .tracelink/shop.log`.
//! 2. Copy its `trace_id` and run
//!    `cargo run -p tracelink-cli -- show TRACE_ID --logs .tracelink/shop.log`:
//!    the waterfall of the trace, its failed spans marked, then every log line
//!    of the trace in time order, each with its span.
//! 3. Or pipe the line itself:
//!    `grep 'card processor unavailable' .tracelink/shop.log | head -1 | cargo run -p tracelink-cli -- jump --logs .tracelink/shop.log`
//!    shows the same trace with the line's span marked `>`.
//!
//! Both services share one process here, so they share one tracelink setup
//! and one `service.name`; in production each is its own process with its
//! own `OTEL_SERVICE_NAME`. The log lines' `target` (`shop::gateway`,
//! `shop::payments`, `shop::notifier`) tells them apart.
//!
//! The root package's `tests/shop_traces.rs` runs the same flow ([`run`])
//! against an OTLP receiver and the store, and checks every parent link.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use opentelemetry::trace::TraceContextExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

pub mod gateway;
pub mod notifier;
pub mod payments;

/// Errors of the flow, any kind.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An order the built-in client places.
#[derive(Clone, Copy, Debug)]
pub struct Order {
    /// The order's id, in the gateway's URL.
    pub id: u64,
    /// What the order costs.
    pub amount_cents: u64,
    /// The card network, which picks payments' card processor.
    pub card: &'static str,
}

/// The orders the built-in client places, one trace each: a normal one, one
/// payments reviews for fraud ([`payments::needs_review`]), one over
/// [`payments::CARD_LIMIT_CENTS`], and one on the card network whose
/// processor is down ([`payments::PROCESSOR_DOWN`]).
pub const ORDERS: [Order; 4] = [
    Order {
        id: 1,
        amount_cents: 2_500,
        card: "visa",
    },
    Order {
        id: 2,
        amount_cents: 7_500,
        card: "visa",
    },
    Order {
        id: 3,
        amount_cents: 25_000,
        card: "mastercard",
    },
    Order {
        id: 4,
        amount_cents: 3_000,
        card: "amex",
    },
];

/// The queue between the gateway and the notifier.
pub const ORDERS_TOPIC: &str = "orders.placed";

/// `messaging.system` of the queue. An in-process channel has no value in
/// the semantic conventions; a real broker would be `kafka`, `rabbitmq`, ...
pub const QUEUE_SYSTEM: &str = "in_process";

/// Where the binary writes the log lines besides stdout, emptied at start.
pub const LOG_FILE: &str = ".tracelink/shop.log";

/// How long shutting a part down may take before the run gives up.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A message on the queue: a payload and headers, as brokers carry them.
#[derive(Debug)]
pub struct Message {
    /// Where the producer's span context travels (`traceparent`, ...).
    pub headers: Vec<(String, String)>,
    /// The order placed.
    pub order_id: u64,
    /// What it cost.
    pub amount_cents: u64,
}

/// What the gateway answered the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 201: paid and published.
    Placed,
    /// 402: payments declined the charge.
    Declined,
    /// 502: payments failed.
    Failed,
}

/// One order's checkout, as the client saw it.
#[derive(Debug)]
pub struct Checkout {
    /// The order placed.
    pub order: Order,
    /// The order's trace, in hex.
    pub trace_id: String,
    /// What the gateway answered.
    pub answer: Answer,
    /// From sending the order to the gateway's answer.
    pub elapsed: Duration,
}

/// What a run did.
#[derive(Debug)]
pub struct Outcome {
    /// Where the gateway listened.
    pub gateway: SocketAddr,
    /// Where payments listened.
    pub payments: SocketAddr,
    /// One per order of [`ORDERS`], in order.
    pub checkouts: Vec<Checkout>,
    /// Orders the notifier sent a confirmation for.
    pub notified: Vec<u64>,
}

/// The built-in client: places [`ORDERS`] one after the other, each in its
/// own root `checkout` span, so each is its own trace.
async fn place_orders(gateway: SocketAddr) -> Result<Vec<Checkout>, BoxError> {
    let client = reqwest::Client::new();
    let mut checkouts = Vec::new();
    for order in ORDERS {
        let checkout = tracing::info_span!(
            parent: None,
            "checkout",
            order.id = order.id,
            customer.id = 7
        );
        let trace_id = checkout
            .context()
            .span()
            .span_context()
            .trace_id()
            .to_string();
        let started = Instant::now();
        let status = place(&client, gateway, order).instrument(checkout).await?;
        let answer = match status {
            reqwest::StatusCode::CREATED => Answer::Placed,
            reqwest::StatusCode::PAYMENT_REQUIRED => Answer::Declined,
            reqwest::StatusCode::BAD_GATEWAY => Answer::Failed,
            status => {
                return Err(format!("order {}: the gateway answered {status}", order.id).into())
            }
        };
        checkouts.push(Checkout {
            order,
            trace_id,
            answer,
            elapsed: started.elapsed(),
        });
    }
    Ok(checkouts)
}

/// One order's call, a CLIENT span under the current span.
async fn place(
    client: &reqwest::Client,
    gateway: SocketAddr,
    order: Order,
) -> Result<reqwest::StatusCode, reqwest::Error> {
    use tracelink::http::RequestBuilderExt;

    let response = client
        .post(format!("http://{gateway}/orders/{}", order.id))
        .json(&serde_json::json!({ "amount_cents": order.amount_cents, "card": order.card }))
        .send_traced()
        .await?;
    Ok(response.status())
}

/// An axum app on a free port of 127.0.0.1, until [`Server::stop`].
struct Server {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(app: axum::Router) -> Result<Self, BoxError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            address,
            stop,
            task,
        })
    }

    /// Stops accepting, lets the requests in flight finish, and drops the app
    /// (and whatever its state holds).
    async fn stop(self) -> Result<(), BoxError> {
        let _ = self.stop.send(());
        tokio::time::timeout(STOP_TIMEOUT, self.task)
            .await
            .map_err(|_| format!("a server on {} did not stop", self.address))???;
        Ok(())
    }
}

/// The whole story: starts payments, the gateway and the notifier, places
/// [`ORDERS`], each in its own trace, then shuts everything down, so that
/// every span has ended when it returns.
///
/// Needs a `tracing` subscriber with tracelink's layers (`tracelink::init()`)
/// and, for the metrics, its recorder, both global: the services' tasks run
/// on every thread of the runtime.
pub async fn run() -> Result<Outcome, BoxError> {
    let payments = Server::start(payments::app()).await?;
    let (queue, messages) = mpsc::channel(64);
    let gateway =
        Server::start(gateway::app(format!("http://{}", payments.address), queue)).await?;
    let notifier = tokio::spawn(notifier::run(messages));

    let checkouts = place_orders(gateway.address).await;

    let (gateway_address, payments_address) = (gateway.address, payments.address);
    // The gateway first: dropping it closes the queue, which ends the notifier
    // once it has processed every message.
    gateway.stop().await?;
    payments.stop().await?;
    let notified = tokio::time::timeout(STOP_TIMEOUT, notifier)
        .await
        .map_err(|_| "the notifier did not finish")??;
    Ok(Outcome {
        gateway: gateway_address,
        payments: payments_address,
        checkouts: checkouts?,
        notified,
    })
}
