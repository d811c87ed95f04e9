//! One trace across a queue: the producer sends each message inside a
//! PRODUCER span whose context rides in the message's headers (a
//! `HashMap<String, String>`); the consumer, on another thread, processes it
//! inside a CONSUMER span that continues that trace.
//!
//! Run with
//!
//! ```text
//! cargo run --example queue
//! ```
//!
//! Two orders go through an in-process channel (`std::sync::mpsc`: put your
//! broker's client in its place), then it exits. What to look at:
//!
//! - stderr: `sent order 1 with traceparent 00-T-S-03`, where `S` is the id of
//!   the `send orders` span; then each trace as a tree, `publish_order` →
//!   `send orders` (producer) → `process orders` (consumer) →
//!   `ship`: the consumer's spans are in the producer's trace, two
//!   orders, two traces;
//! - stdout: the JSON lines `order published` (producer thread) and `order
//!   shipped` (consumer thread) of one order carry the same `trace_id`.

use std::collections::HashMap;
use std::sync::mpsc;

use tracelink::propagation::{consumer_span, inject_span, producer_span};
use tracelink::trace::TracesExporter;

/// A message as a broker carries it: headers and a payload.
struct Message {
    headers: HashMap<String, String>,
    order_id: u64,
}

/// The producer: a span per order, and a PRODUCER span around the send.
fn publish(queue: &mpsc::Sender<Message>, order_id: u64) -> Result<(), Box<dyn std::error::Error>> {
    let _order = tracing::info_span!("publish_order", order.id = order_id).entered();
    let send = producer_span("inproc", "orders");
    let mut headers = HashMap::new();
    // Writes `traceparent` (and `baggage`, if any) for the `send orders` span.
    inject_span(&send, &mut headers);
    eprintln!(
        "sent order {order_id} with traceparent {}",
        headers["traceparent"]
    );
    send.in_scope(|| {
        tracing::info!(order.id = order_id, "order published");
        queue.send(Message { headers, order_id })
    })?;
    Ok(())
}

/// The consumer: each message processed in a CONSUMER span whose parent is
/// the message's `send orders` span.
fn consume(queue: mpsc::Receiver<Message>) {
    for message in queue {
        let process = consumer_span("inproc", "orders", &message.headers);
        process.in_scope(|| ship(message.order_id));
    }
}

#[tracing::instrument]
fn ship(order_id: u64) {
    tracing::info!("order shipped");
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Spans print on stderr: no collector needed.
    let _guard = tracelink::builder()
        .with_service_name("orders")
        .with_traces_exporters([TracesExporter::Console])
        .init()?;

    let (queue, received) = mpsc::channel();
    let consumer = std::thread::spawn(move || consume(received));
    for order_id in [1, 2] {
        publish(&queue, order_id)?;
    }
    // Closing the channel ends the consumer's loop.
    drop(queue);
    consumer.join().map_err(|_| "the consumer panicked")?;
    Ok(())
}
