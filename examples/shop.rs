//! The shop: the demo of everything tracelink wires up, in one run.
//!
//! Run with
//!
//! ```text
//! cargo run --example shop --features tower,reqwest
//! ```
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
//!   (emptied at start), through the small `tee::Tee` writer.
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
//! `cargo run --example shop --features tower,reqwest 2>/dev/null | jq` works.
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
//!   cargo run -q -p tracelink-cli -- show f1ca378b7ce26d97781792e6f3bbb7fd --logs .tracelink/shop.log
//! the error trace, order 4:
//!   cargo run -q -p tracelink-cli -- show 19b874aaab6175952f51c98159a6dc8d --logs .tracelink/shop.log
//! every trace with an error in the store:
//!   cargo run -q -p tracelink-cli -- traces --errors
//! from a log line to its trace:
//!   grep 'card processor unavailable' .tracelink/shop.log | head -1 | cargo run -q -p tracelink-cli -- jump --logs .tracelink/shop.log
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
//! command of the `cli/` workspace member). The store keeps the traces of
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
//!    `cargo run -q -p tracelink-cli -- show TRACE_ID --logs .tracelink/shop.log`:
//!    the waterfall of the trace, its failed spans marked, then every log line
//!    of the trace in time order, each with its span.
//! 3. Or pipe the line itself:
//!    `grep 'card processor unavailable' .tracelink/shop.log | head -1 | cargo run -q -p tracelink-cli -- jump --logs .tracelink/shop.log`
//!    shows the same trace with the line's span marked `>`.
//!
//! Both services share one process here, so they share one tracelink setup
//! and one `service.name`; in production each is its own process with its
//! own `OTEL_SERVICE_NAME`. The log lines' `target` (`shop::gateway`,
//! `shop::payments`, `shop::notifier`) tells them apart.
//!
//! `tests/shop_traces.rs` runs the same flow (`run()`) against an OTLP
//! receiver and the store, and checks every parent link.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

use opentelemetry::trace::TraceContextExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracelink::TracesExporter;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Errors of the flow, any kind.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// An order the built-in client places.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Order {
    pub(crate) id: u64,
    pub(crate) amount_cents: u64,
    /// The card network, which picks payments' card processor.
    pub(crate) card: &'static str,
}

/// The orders the built-in client places, one trace each: a normal one, one
/// payments reviews for fraud ([`payments::needs_review`]), one over
/// [`payments::CARD_LIMIT_CENTS`], and one on the card network whose
/// processor is down ([`payments::PROCESSOR_DOWN`]).
pub(crate) const ORDERS: [Order; 4] = [
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
pub(crate) const ORDERS_TOPIC: &str = "orders.placed";

/// `messaging.system` of the queue. An in-process channel has no value in
/// the semantic conventions; a real broker would be `kafka`, `rabbitmq`, ...
pub(crate) const QUEUE_SYSTEM: &str = "in_process";

/// Where `main` writes the log lines besides stdout, emptied at start.
pub(crate) const LOG_FILE: &str = ".tracelink/shop.log";

/// How long shutting a part down may take before the run gives up.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// A message on the queue: a payload and headers, as brokers carry them.
#[derive(Debug)]
pub(crate) struct Message {
    /// Where the producer's span context travels (`traceparent`, ...).
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) order_id: u64,
    pub(crate) amount_cents: u64,
}

/// What the gateway answered the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 201: paid and published.
    Placed,
    /// 402: payments declined the charge.
    Declined,
    /// 502: payments failed.
    Failed,
}

/// One order's checkout, as the client saw it.
#[derive(Debug)]
pub(crate) struct Checkout {
    pub(crate) order: Order,
    /// The order's trace, in hex.
    pub(crate) trace_id: String,
    pub(crate) answer: Answer,
    /// From sending the order to the gateway's answer.
    pub(crate) elapsed: Duration,
}

/// What a run did.
#[derive(Debug)]
pub(crate) struct Outcome {
    pub(crate) gateway: SocketAddr,
    pub(crate) payments: SocketAddr,
    /// One per order of [`ORDERS`], in order.
    pub(crate) checkouts: Vec<Checkout>,
    /// Orders the notifier sent a confirmation for.
    pub(crate) notified: Vec<u64>,
}

/// The gateway: takes orders, charges them through payments, and publishes
/// the ones paid for.
pub(crate) mod gateway {
    use axum::extract::{MatchedPath, Path, State};
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use tokio::sync::mpsc;
    use tracelink::http::{RequestBuilderExt, ServerLayer};
    use tracelink::propagation::{inject_span, producer_span};
    use tracing::Instrument;

    use super::{Message, ORDERS_TOPIC, QUEUE_SYSTEM};

    #[derive(Clone)]
    struct Gateway {
        client: reqwest::Client,
        /// `http://127.0.0.1:PORT` of payments.
        payments: String,
        queue: mpsc::Sender<Message>,
    }

    /// `POST /orders/{id}`, body `{"amount_cents": N, "card": "visa"}`.
    pub(crate) fn app(payments: String, queue: mpsc::Sender<Message>) -> Router {
        let state = Gateway {
            client: reqwest::Client::new(),
            payments,
            queue,
        };
        Router::new()
            .route("/orders/{id}", post(place_order))
            .with_state(state)
            .layer(
                ServerLayer::new()
                    .with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
            )
    }

    /// Runs inside the request's SERVER span: the log lines carry its ids,
    /// the CLIENT and PRODUCER spans are its children.
    async fn place_order(
        State(gateway): State<Gateway>,
        Path(order_id): Path<u64>,
        Json(order): Json<Value>,
    ) -> (StatusCode, Json<Value>) {
        let amount_cents = order["amount_cents"].as_u64().unwrap_or(0);
        let card = order["card"].as_str().unwrap_or("");
        tracing::info!(order.id = order_id, amount_cents, "order received");

        let charge = gateway
            .client
            .post(format!("{}/charges", gateway.payments))
            .json(&json!({ "order_id": order_id, "amount_cents": amount_cents, "card": card }))
            .send_traced()
            .await;
        match charge {
            Ok(response) if response.status().is_success() => {}
            Ok(response) if response.status() == StatusCode::PAYMENT_REQUIRED => {
                // The customer's problem, not the shop's: a warning.
                tracing::warn!(order.id = order_id, "order declined by payments");
                metrics::counter!("gateway_orders_total", "outcome" => "declined").increment(1);
                let body = json!({ "order_id": order_id, "status": "declined" });
                return (StatusCode::PAYMENT_REQUIRED, Json(body));
            }
            Ok(response) => {
                // An ERROR event marks the SERVER span as failed.
                let status = response.status().as_u16();
                tracing::error!(order.id = order_id, status, "payments failed");
                return failed(order_id);
            }
            Err(error) => {
                tracing::error!(order.id = order_id, %error, "payments unreachable");
                return failed(order_id);
            }
        }

        // The PRODUCER span's context goes into the message's headers.
        let send = producer_span(QUEUE_SYSTEM, ORDERS_TOPIC);
        let mut headers = Vec::new();
        inject_span(&send, &mut headers);
        let message = Message {
            headers,
            order_id,
            amount_cents,
        };
        if gateway.queue.send(message).instrument(send).await.is_err() {
            tracing::error!(order.id = order_id, "the queue is closed");
            let body = json!({ "order_id": order_id, "status": "failed" });
            return (StatusCode::SERVICE_UNAVAILABLE, Json(body));
        }
        tracing::info!(order.id = order_id, "order placed");
        metrics::counter!("gateway_orders_total", "outcome" => "placed").increment(1);
        let body = json!({ "order_id": order_id, "status": "placed" });
        (StatusCode::CREATED, Json(body))
    }

    /// 502: payments could not charge the order.
    fn failed(order_id: u64) -> (StatusCode, Json<Value>) {
        metrics::counter!("gateway_orders_total", "outcome" => "failed").increment(1);
        let body = json!({ "order_id": order_id, "status": "failed" });
        (StatusCode::BAD_GATEWAY, Json(body))
    }
}

/// Payments: charges a card, after a fraud review for some amounts;
/// declines amounts over the limit; fails when the card's processor is down.
pub(crate) mod payments {
    use std::time::Duration;

    use axum::extract::MatchedPath;
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use tracelink::http::ServerLayer;
    use tracing::Instrument;

    /// Charges above this many cents are declined.
    pub(crate) const CARD_LIMIT_CENTS: u64 = 10_000;

    /// Charges from this many cents up to the limit are reviewed for fraud.
    pub(crate) const REVIEW_FROM_CENTS: u64 = 5_000;

    /// How long a fraud review takes: a real one calls a scoring service.
    pub(crate) const REVIEW_TIME: Duration = Duration::from_millis(300);

    /// The card network whose processor is down: its charges fail with 500.
    pub(crate) const PROCESSOR_DOWN: &str = "amex";

    /// Whether a charge of this amount goes through a fraud review.
    pub(crate) fn needs_review(amount_cents: u64) -> bool {
        (REVIEW_FROM_CENTS..=CARD_LIMIT_CENTS).contains(&amount_cents)
    }

    /// `POST /charges`, body `{"order_id": N, "amount_cents": N, "card": "visa"}`.
    pub(crate) fn app() -> Router {
        Router::new().route("/charges", post(charge)).layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
    }

    async fn charge(Json(charge): Json<Value>) -> (StatusCode, Json<Value>) {
        let order_id = charge["order_id"].as_u64().unwrap_or(0);
        let amount_cents = charge["amount_cents"].as_u64().unwrap_or(0);
        let card = charge["card"].as_str().unwrap_or("");
        if card == PROCESSOR_DOWN {
            // An ERROR event in the SERVER span, which the 500 marks failed
            // too, with `error.type` = "500".
            tracing::error!(order.id = order_id, card, "card processor unavailable");
            metrics::counter!("payments_charges_total", "outcome" => "failed").increment(1);
            let body = json!({ "status": "error", "error": "card processor unavailable" });
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(body));
        }
        if amount_cents > CARD_LIMIT_CENTS {
            tracing::warn!(
                order.id = order_id,
                amount_cents,
                reason = "over the card limit",
                "payment declined"
            );
            metrics::counter!("payments_charges_total", "outcome" => "declined").increment(1);
            return (
                StatusCode::PAYMENT_REQUIRED,
                Json(json!({ "status": "declined" })),
            );
        }
        if needs_review(amount_cents) {
            review(order_id, amount_cents).await;
        }
        tracing::info!(order.id = order_id, amount_cents, "payment captured");
        metrics::counter!("payments_charges_total", "outcome" => "captured").increment(1);
        (StatusCode::OK, Json(json!({ "status": "captured" })))
    }

    /// The fraud review, a child span of the request's: here an honest sleep.
    async fn review(order_id: u64, amount_cents: u64) {
        let span = tracing::info_span!("fraud.review", order.id = order_id, amount_cents);
        async {
            tokio::time::sleep(REVIEW_TIME).await;
            tracing::info!(order.id = order_id, score = 0.12, "review passed");
        }
        .instrument(span)
        .await;
    }
}

/// The notifier: consumes "order placed" events, each in a CONSUMER span
/// continuing the producer's trace.
pub(crate) mod notifier {
    use tokio::sync::mpsc;
    use tracelink::propagation::consumer_span;
    use tracing::Instrument;

    use super::{Message, ORDERS_TOPIC, QUEUE_SYSTEM};

    /// Processes messages until the queue closes; the ids it confirmed.
    pub(crate) async fn run(mut queue: mpsc::Receiver<Message>) -> Vec<u64> {
        let mut notified = Vec::new();
        while let Some(message) = queue.recv().await {
            let process = consumer_span(QUEUE_SYSTEM, ORDERS_TOPIC, &message.headers);
            async {
                // A real notifier would send an e-mail here.
                tracing::info!(
                    order.id = message.order_id,
                    amount_cents = message.amount_cents,
                    "order confirmation sent"
                );
                metrics::counter!("notifications_sent_total", "channel" => "email").increment(1);
            }
            .instrument(process)
            .await;
            notified.push(message.order_id);
        }
        notified
    }
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
pub(crate) async fn run() -> Result<Outcome, BoxError> {
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

/// Log lines to stdout and to a file.
pub(crate) mod tee {
    use std::fs::File;
    use std::io::{self, Write};
    use std::path::Path;
    use std::sync::{Mutex, PoisonError};

    use tracing_subscriber::fmt::MakeWriter;

    /// A `MakeWriter` that writes each line to stdout and to a file, with one
    /// `write_all` to each, so lines from different threads never mix.
    #[derive(Debug)]
    pub(crate) struct Tee {
        file: Mutex<File>,
    }

    impl Tee {
        /// Creates the file, and its directory; empties it if it exists.
        pub(crate) fn create(path: &Path) -> io::Result<Self> {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            Ok(Self {
                file: Mutex::new(File::create(path)?),
            })
        }
    }

    impl<'a> MakeWriter<'a> for Tee {
        type Writer = TeeLine<'a>;

        fn make_writer(&'a self) -> TeeLine<'a> {
            TeeLine(&self.file)
        }
    }

    /// Writes what it gets, a whole line, to both.
    pub(crate) struct TeeLine<'a>(&'a Mutex<File>);

    impl Write for TeeLine<'_> {
        fn write(&mut self, line: &[u8]) -> io::Result<usize> {
            // Both, even if stdout is closed (`| head`).
            let stdout = io::stdout().lock().write_all(line);
            let file = self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .write_all(line);
            stdout.and(file).map(|()| line.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

/// Where spans go: the local store always, since the commands printed at the
/// end read it; OTLP too when the environment points at a collector; exactly
/// the exporters `OTEL_TRACES_EXPORTER` names, plus the store, when set.
fn exporters(config: &tracelink::Config) -> Vec<TracesExporter> {
    use tracelink::env::{
        OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_TRACES_EXPORTER,
    };

    let set = |var: &str| std::env::var_os(var).is_some_and(|v| !v.is_empty());
    let mut exporters = if set(OTEL_TRACES_EXPORTER) {
        config.traces_exporters().to_vec()
    } else if set(OTEL_EXPORTER_OTLP_ENDPOINT) || set(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) {
        vec![TracesExporter::Otlp]
    } else {
        Vec::new()
    };
    if !exporters.contains(&TracesExporter::File) {
        exporters.push(TracesExporter::File);
    }
    exporters
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let log = tee::Tee::create(Path::new(LOG_FILE))
        .map_err(|error| format!("cannot create {LOG_FILE}: {error}"))?;
    let mut builder = tracelink::builder()
        .with_service_name("shop")
        .with_log_writer(tracelink::LogWriter::custom(log));
    let config = builder.config()?;
    let exporters = exporters(&config);
    builder = builder.with_traces_exporters(exporters.clone());
    if std::env::var_os(tracelink::env::OTEL_EXPORTER_PROMETHEUS_PORT).is_none() {
        // A free port rather than 9464, which another program may hold.
        builder = builder.with_prometheus_listener("127.0.0.1", 0);
    }
    let guard = builder.init()?;

    let outcome = run().await?;
    // Every span has ended: export them now, so that the store holds them
    // (and the console exporter's output comes before the summary). A
    // collector that is down is no reason to stop here.
    if let Err(error) = guard.flush() {
        eprintln!("shop: {error}");
    }

    print_summary(&outcome, &config, &exporters);
    if let Some(address) = guard.metrics_address() {
        print_exemplars(address, &outcome).await;
    }
    if let Err(error) = guard.shutdown() {
        eprintln!("shop: {error}");
    }
    Ok(())
}

/// The orders' traces, where everything went, and the commands that show
/// the traces, on stderr.
fn print_summary(outcome: &Outcome, config: &tracelink::Config, exporters: &[TracesExporter]) {
    let store = config.traces_file();
    eprintln!();
    eprintln!(
        "shop: {} orders, one trace each (gateway {}, payments {}); the notifier confirmed {:?}",
        outcome.checkouts.len(),
        outcome.gateway,
        outcome.payments,
        outcome.notified
    );
    for checkout in &outcome.checkouts {
        let line = format!(
            "  order {}  {:<8} {:>4} ms  trace {}  {}",
            checkout.order.id,
            format!("{:?}", checkout.answer).to_lowercase(),
            checkout.elapsed.as_millis(),
            checkout.trace_id,
            note(checkout)
        );
        eprintln!("{}", line.trim_end());
    }
    let mut sent = format!("spans in {}", store.display());
    if exporters.contains(&TracesExporter::Otlp) {
        sent.push_str(&format!(" and to {}", config.traces_endpoint()));
    }
    eprintln!("{sent}; log lines on stdout and in {LOG_FILE}");

    // The commands, with `--store` when the store is not where the
    // `tracelink` command looks by default.
    let cli = "cargo run -q -p tracelink-cli --";
    let store_option = if store == Path::new(tracelink::env::TRACELINK_TRACES_FILE_DEFAULT) {
        String::new()
    } else {
        format!(" --store {}", store.display())
    };
    let show = |checkout: &Checkout| {
        format!(
            "{cli} show {} --logs {LOG_FILE}{store_option}",
            checkout.trace_id
        )
    };
    let first = |wanted: fn(&Checkout) -> bool| outcome.checkouts.iter().find(|c| wanted(c));
    if let Some(slow) = first(|c| payments::needs_review(c.order.amount_cents)) {
        eprintln!(
            "\nthe slow trace, order {}:\n  {}",
            slow.order.id,
            show(slow)
        );
    }
    if let Some(failed) = first(|c| c.answer == Answer::Failed) {
        eprintln!(
            "the error trace, order {}:\n  {}",
            failed.order.id,
            show(failed)
        );
    }
    eprintln!("every trace with an error in the store:\n  {cli} traces --errors{store_option}");
    eprintln!(
        "from a log line to its trace:\n  grep 'card processor unavailable' {LOG_FILE} | head -1 | {cli} jump --logs {LOG_FILE}{store_option}"
    );
}

/// The duration buckets and counters of `/metrics` that carry an exemplar,
/// each with the order it points at, on stderr.
async fn print_exemplars(address: SocketAddr, outcome: &Outcome) {
    eprintln!(
        "\nexemplars in http://{address}/metrics, each pointing at a span of an order's trace:"
    );
    match scrape(address).await {
        Ok(body) => {
            for line in exemplar_lines(&body) {
                eprintln!("  {}  {line}", order_of(outcome, line));
            }
        }
        Err(error) => eprintln!("  cannot scrape: {error}"),
    }
}

/// What to look for in an order's trace.
fn note(checkout: &Checkout) -> &'static str {
    match checkout.answer {
        Answer::Placed if payments::needs_review(checkout.order.amount_cents) => {
            "slow: fraud.review"
        }
        Answer::Placed => "",
        Answer::Declined => "payments answered 402",
        Answer::Failed => "payments answered 500, the gateway 502",
    }
}

/// The request duration buckets, then the counters, of an OpenMetrics
/// exposition that carry an exemplar.
fn exemplar_lines(body: &str) -> Vec<&str> {
    const BUCKET: &str = "http_server_request_duration_seconds_bucket";
    let mut lines: Vec<&str> = body
        .lines()
        .filter(|line| {
            let name = line.split(['{', ' ']).next().unwrap_or("");
            line.contains(" # {") && (name == BUCKET || name.ends_with("_total"))
        })
        .collect();
    lines.sort_by_key(|line| !line.starts_with(BUCKET));
    lines
}

/// `order N` for the order whose trace an exemplar line points at.
fn order_of(outcome: &Outcome, line: &str) -> String {
    outcome
        .checkouts
        .iter()
        .find(|c| line.contains(&format!("trace_id=\"{}\"", c.trace_id)))
        .map_or_else(|| "       ".to_owned(), |c| format!("order {}", c.order.id))
}

/// The OpenMetrics exposition (the format with exemplars) of `/metrics`.
async fn scrape(address: SocketAddr) -> Result<String, reqwest::Error> {
    reqwest::Client::new()
        .get(format!("http://{address}/metrics"))
        .header("accept", "application/openmetrics-text; version=1.0.0")
        .send()
        .await?
        .error_for_status()?
        .text()
        .await
}
