//! The notifier: consumes "order placed" events, each in a CONSUMER span
//! continuing the producer's trace.

use tokio::sync::mpsc;
use tracelink::propagation::consumer_span;
use tracing::Instrument;

use crate::{Message, ORDERS_TOPIC, QUEUE_SYSTEM};

/// Processes messages until the queue closes; the ids it confirmed.
pub async fn run(mut queue: mpsc::Receiver<Message>) -> Vec<u64> {
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
