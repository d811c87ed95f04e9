//! Payments: charges a card, after a fraud review for some amounts;
//! declines amounts over the limit; fails when the card's processor is down.

use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use tracelink::http::ServerLayer;
use tracing::Instrument;

/// Charges above this many cents are declined.
pub const CARD_LIMIT_CENTS: u64 = 10_000;

/// Charges from this many cents up to the limit are reviewed for fraud.
pub const REVIEW_FROM_CENTS: u64 = 5_000;

/// How long a fraud review takes: a real one calls a scoring service.
pub const REVIEW_TIME: Duration = Duration::from_millis(300);

/// The card network whose processor is down: its charges fail with 500.
pub const PROCESSOR_DOWN: &str = "amex";

/// Whether a charge of this amount goes through a fraud review.
pub fn needs_review(amount_cents: u64) -> bool {
    (REVIEW_FROM_CENTS..=CARD_LIMIT_CENTS).contains(&amount_cents)
}

/// `POST /charges`, body `{"order_id": N, "amount_cents": N, "card": "visa"}`.
pub fn app() -> Router {
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
