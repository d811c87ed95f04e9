//! Two services and a queue, one trace: a gateway calls payments over HTTP,
//! then hands an "order placed" event to a queue that a notifier consumes.
//!
//! Run with
//!
//! ```text
//! cargo run --example two_services --features tower,reqwest
//! ```
//!
//! It starts both services on free ports of 127.0.0.1, places three orders
//! from a built-in client (the third is declined by payments), shuts
//! everything down and prints the trace id to look for. JSON log lines go to
//! stdout, everything else to stderr. With no collector configured, spans
//! are printed on stderr (the `console` exporter); to send them to a
//! Collector, Jaeger or Tempo instead:
//!
//! ```text
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 cargo run --example two_services --features tower,reqwest
//! ```
//!
//! ## What it shows
//!
//! ```text
//! client ──POST /orders/{id}──▶ gateway ──POST /charges──▶ payments
//!                                  │
//!                                  └──"order placed"──▶ queue ──▶ notifier
//! ```
//!
//! Every span lands in one trace, the client's:
//!
//! ```text
//! checkout                                   the built-in client
//! └─ POST                          CLIENT    send_traced
//!    └─ POST /orders/{id}          SERVER    gateway, ServerLayer
//!       ├─ POST                    CLIENT    send_traced
//!       │  └─ POST /charges        SERVER    payments, ServerLayer
//!       └─ send orders.placed      PRODUCER  producer_span + inject_span
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
//! - **Logs.** Each event is a JSON line with the `trace_id` and `span_id` of
//!   the span it happened in: grep the trace id to see the whole story.
//! - **Metrics.** `gateway_orders_total`, `payments_charges_total`,
//!   `notifications_sent_total` and `ServerLayer`'s
//!   `http_server_request_duration_seconds`, whose exemplars point at the
//!   spans they were recorded in; the run ends by printing them.
//!
//! Both services share one process here, so they share one tracelink setup
//! and one `service.name`; in production each is its own process with its
//! own `OTEL_SERVICE_NAME`. The log lines' `target` (`two_services::gateway`,
//! `two_services::payments`, `two_services::notifier`) tells them apart.
//!
//! `tests/two_services_one_trace.rs` runs the same flow ([`run`]) against an
//! OTLP receiver and checks every parent link.

use std::net::SocketAddr;
use std::time::Duration;

use opentelemetry::trace::TraceContextExt;
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Errors of the flow, any kind.
pub(crate) type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The orders the built-in client places: id and amount in cents.
/// Payments declines amounts over [`payments::CARD_LIMIT_CENTS`].
pub(crate) const ORDERS: [(u64, u64); 3] = [(1, 2_500), (2, 4_200), (3, 25_000)];

/// The queue between the gateway and the notifier.
pub(crate) const ORDERS_TOPIC: &str = "orders.placed";

/// `messaging.system` of the queue. An in-process channel has no value in
/// the semantic conventions; a real broker would be `kafka`, `rabbitmq`, ...
pub(crate) const QUEUE_SYSTEM: &str = "in_process";

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

/// What a run did, and the trace to look for.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The one trace every span of the run belongs to, in hex.
    pub(crate) trace_id: String,
    pub(crate) gateway: SocketAddr,
    pub(crate) payments: SocketAddr,
    /// Orders the gateway accepted (201), in order.
    pub(crate) placed: Vec<u64>,
    /// Orders payments declined (402).
    pub(crate) declined: Vec<u64>,
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

    /// `POST /orders/{id}`, body `{"amount_cents": N}`.
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
        tracing::info!(order.id = order_id, amount_cents, "order received");

        let charge = gateway
            .client
            .post(format!("{}/charges", gateway.payments))
            .json(&json!({ "order_id": order_id, "amount_cents": amount_cents }))
            .send_traced()
            .await;
        match charge {
            Ok(response) if response.status().is_success() => {}
            Ok(response) => {
                let status = response.status().as_u16();
                tracing::warn!(order.id = order_id, status, "order declined by payments");
                metrics::counter!("gateway_orders_total", "outcome" => "declined").increment(1);
                let body = json!({ "order_id": order_id, "status": "declined" });
                return (StatusCode::PAYMENT_REQUIRED, Json(body));
            }
            Err(error) => {
                // An ERROR event marks the SERVER span as failed.
                tracing::error!(order.id = order_id, %error, "payments unreachable");
                metrics::counter!("gateway_orders_total", "outcome" => "failed").increment(1);
                let body = json!({ "order_id": order_id, "status": "failed" });
                return (StatusCode::BAD_GATEWAY, Json(body));
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
}

/// Payments: charges a card, declining amounts over the limit.
pub(crate) mod payments {
    use axum::extract::MatchedPath;
    use axum::http::StatusCode;
    use axum::routing::post;
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use tracelink::http::ServerLayer;

    /// Charges above this many cents are declined.
    pub(crate) const CARD_LIMIT_CENTS: u64 = 10_000;

    /// `POST /charges`, body `{"order_id": N, "amount_cents": N}`.
    pub(crate) fn app() -> Router {
        Router::new().route("/charges", post(charge)).layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
        )
    }

    async fn charge(Json(charge): Json<Value>) -> (StatusCode, Json<Value>) {
        let order_id = charge["order_id"].as_u64().unwrap_or(0);
        let amount_cents = charge["amount_cents"].as_u64().unwrap_or(0);
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
        tracing::info!(order.id = order_id, amount_cents, "payment captured");
        metrics::counter!("payments_charges_total", "outcome" => "captured").increment(1);
        (StatusCode::OK, Json(json!({ "status": "captured" })))
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

/// The built-in client: places [`ORDERS`] one after the other, each call a
/// CLIENT span under the current span.
async fn place_orders(gateway: SocketAddr) -> Result<(Vec<u64>, Vec<u64>), BoxError> {
    use tracelink::http::RequestBuilderExt;

    let client = reqwest::Client::new();
    let (mut placed, mut declined) = (Vec::new(), Vec::new());
    for (order_id, amount_cents) in ORDERS {
        let response = client
            .post(format!("http://{gateway}/orders/{order_id}"))
            .json(&serde_json::json!({ "amount_cents": amount_cents }))
            .send_traced()
            .await?;
        match response.status() {
            reqwest::StatusCode::CREATED => placed.push(order_id),
            reqwest::StatusCode::PAYMENT_REQUIRED => declined.push(order_id),
            status => return Err(format!("order {order_id}: the gateway answered {status}").into()),
        }
    }
    Ok((placed, declined))
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
/// [`ORDERS`] under one `checkout` span, then shuts everything down, so that
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

    let checkout = tracing::info_span!("checkout", customer.id = 7);
    let trace_id = checkout
        .context()
        .span()
        .span_context()
        .trace_id()
        .to_string();
    let orders = place_orders(gateway.address)
        .instrument(checkout.clone())
        .await;
    // The root span ends here, whatever happened.
    drop(checkout);

    let (gateway_address, payments_address) = (gateway.address, payments.address);
    // The gateway first: dropping it closes the queue, which ends the notifier
    // once it has processed every message.
    gateway.stop().await?;
    payments.stop().await?;
    let notified = tokio::time::timeout(STOP_TIMEOUT, notifier)
        .await
        .map_err(|_| "the notifier did not finish")??;
    let (placed, declined) = orders?;
    Ok(Outcome {
        trace_id,
        gateway: gateway_address,
        payments: payments_address,
        placed,
        declined,
        notified,
    })
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    // With nothing configured, print spans instead of sending them to a
    // collector that is not there.
    let configured = [
        "OTEL_TRACES_EXPORTER",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|var| std::env::var_os(var).is_some_and(|v| !v.is_empty()));
    let mut builder = tracelink::builder().with_service_name("shop");
    if !configured {
        builder = builder.with_traces_exporters([tracelink::TracesExporter::Console]);
    }
    if std::env::var_os("OTEL_EXPORTER_PROMETHEUS_PORT").is_none() {
        // A free port rather than 9464, which another program may hold.
        builder = builder.with_prometheus_listener("127.0.0.1", 0);
    }
    let guard = builder.init()?;

    let outcome = run().await?;
    // Every span has ended: export them now, so that the console exporter's
    // output comes before the summary. A collector that is down is no
    // reason to stop here.
    if let Err(error) = guard.flush() {
        eprintln!("two_services: {error}");
    }

    eprintln!();
    eprintln!(
        "two_services: gateway on {}, payments on {}; orders placed {:?}, declined {:?}, confirmed {:?}",
        outcome.gateway, outcome.payments, outcome.placed, outcome.declined, outcome.notified
    );
    eprintln!("two_services: every span is in trace {}", outcome.trace_id);
    eprintln!(
        "  - log lines: the JSON lines on stdout with \"trace_id\":\"{}\"",
        outcome.trace_id
    );
    if configured {
        eprintln!("  - spans: in your backend (Jaeger: http://localhost:16686/trace/{}; Tempo, Grafana: search the id)", outcome.trace_id);
    } else {
        eprintln!("  - spans: printed above, on stderr (set OTEL_EXPORTER_OTLP_ENDPOINT to send them to a collector)");
    }
    if let Some(address) = guard.metrics_address() {
        eprintln!("  - metrics, with exemplars pointing at its spans (http://{address}/metrics):");
        match scrape(address).await {
            Ok(body) => body
                .lines()
                .filter(|line| {
                    ["gateway_", "payments_", "notifications_"]
                        .iter()
                        .any(|prefix| line.starts_with(prefix))
                })
                .for_each(|line| eprintln!("      {line}")),
            Err(error) => eprintln!("      cannot scrape: {error}"),
        }
    }
    if let Err(error) = guard.shutdown() {
        eprintln!("two_services: {error}");
    }
    Ok(())
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
