//! The gateway: takes orders, charges them through payments, and publishes
//! the ones paid for.

use axum::extract::{MatchedPath, Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tracelink::http::{RequestBuilderExt, ServerLayer};
use tracelink::propagation::{inject_span, producer_span};
use tracing::Instrument;

use crate::{Message, ORDERS_TOPIC, QUEUE_SYSTEM};

#[derive(Clone)]
struct Gateway {
    client: reqwest::Client,
    /// `http://127.0.0.1:PORT` of payments.
    payments: String,
    queue: mpsc::Sender<Message>,
}

/// `POST /orders/{id}`, body `{"amount_cents": N, "card": "visa"}`.
pub fn app(payments: String, queue: mpsc::Sender<Message>) -> Router {
    let state = Gateway {
        client: reqwest::Client::new(),
        payments,
        queue,
    };
    Router::new()
        .route("/orders/{id}", post(place_order))
        .with_state(state)
        .layer(
            ServerLayer::new().with_route(|ext| ext.get::<MatchedPath>().map(MatchedPath::as_str)),
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
