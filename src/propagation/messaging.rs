//! Spans for message queues: a PRODUCER span around sending a message, a
//! CONSUMER span around processing it, one trace across the queue.
//!
//! The producer starts a span with [`producer_span`], writes its context into
//! the message's headers with [`inject_span`](super::inject_span), and sends
//! the message inside the span. The consumer reads the headers back into a
//! span with [`consumer_span`] (or [`consumer_span_linked`]) and processes the
//! message inside it.
//!
//! ```
//! use tracelink::propagation::{consumer_span, inject_span, producer_span};
//!
//! // Producer: the message carries the span's context in its headers.
//! let mut headers: Vec<(String, String)> = Vec::new();
//! let send = producer_span("kafka", "orders");
//! inject_span(&send, &mut headers);
//! send.in_scope(|| { /* producer.send(payload, &headers) */ });
//!
//! // Consumer, maybe in another service: the same trace goes on.
//! let process = consumer_span("kafka", "orders", &headers);
//! process.in_scope(|| { /* handle(payload) */ });
//! ```
//!
//! ## Parent or link
//!
//! [`consumer_span`], the default, makes the message's span the **parent** of
//! the processing span: one message, one trace from the producer to the
//! consumer's last database call, which is what OpenTelemetry's messaging
//! semantic conventions recommend when a span processes a single message.
//!
//! [`consumer_span_linked`] starts the processing span where the consumer is
//! (a child of the current span, or a new trace) and **links** it to each
//! message's span instead. A span has one parent but any number of links, so
//! this is the form for batches, which the semantic conventions say should
//! link to the messages they receive; it also suits consumers that must not
//! join the producer's trace (a queue drained hours later, a trace that would
//! otherwise grow without end).
//!
//! ## Attributes
//!
//! Both spans carry `messaging.system`, `messaging.destination.name`,
//! `messaging.operation.name` and `messaging.operation.type` (both `send` or
//! `process`: tracelink names the operations by their type), are named
//! `send {destination}` / `process {destination}` and have kind `producer` /
//! `consumer`; a linked span over several messages also records
//! `messaging.batch.message_count`.
//!
//! The spans are `INFO` spans with target `tracelink::propagation::messaging`:
//! a filter that enables only your own crate (`TRACELINK_SPAN_FILTER=my_app=debug`) turns
//! them off, and the trace breaks at the queue. Add `tracelink=info`.

use opentelemetry::baggage::{Baggage, BaggageExt};
use opentelemetry::trace::TraceContextExt;
use tracing::field::Empty;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use super::Carrier;

/// An `INFO` span for `operation` (`send`, `process`) on `destination`, named
/// `{operation} {destination}` for OpenTelemetry; `$fields` are added.
macro_rules! messaging_span {
    ($operation:literal, $kind:literal, $system:expr, $destination:expr $(, $($fields:tt)+)?) => {{
        let name = format!("{} {}", $operation, $destination);
        tracing::info_span!(
            $operation,
            otel.kind = $kind,
            otel.name = name.as_str(),
            messaging.system = $system,
            messaging.destination.name = $destination,
            messaging.operation.name = $operation,
            messaging.operation.type = $operation,
            $($($fields)+)?
        )
    }};
}

/// A PRODUCER span for sending a message to `destination` (a topic, a queue)
/// of messaging system `system` (`kafka`, `rabbitmq`, `aws_sqs`, … as in the
/// semantic conventions).
///
/// Write its context into the message with
/// [`inject_span`](super::inject_span), and send inside it.
///
/// ```
/// use tracelink::propagation::{inject_span, producer_span};
///
/// let mut headers: Vec<(String, String)> = Vec::new();
/// let span = producer_span("rabbitmq", "invoices");
/// inject_span(&span, &mut headers);
/// span.in_scope(|| { /* channel.basic_publish(…, headers) */ });
/// ```
pub fn producer_span(system: &str, destination: &str) -> tracing::Span {
    messaging_span!("send", "producer", system, destination)
}

/// A CONSUMER span for processing a message from `destination`, the child of
/// the span whose context the message's headers carry: one trace crosses the
/// queue.
///
/// A message without a valid `traceparent` gives a span in the current
/// context instead: a child of the current span, or the root of a new trace.
/// The message's baggage comes along either way: with its parent, or, when
/// the message has baggage but no parent, in place of the current baggage.
///
/// ```
/// use tracelink::propagation::consumer_span;
///
/// let headers = vec![(
///     "traceparent".to_owned(),
///     "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
/// )];
/// let span = consumer_span("kafka", "orders", &headers);
/// span.in_scope(|| { /* handle the message */ });
/// ```
pub fn consumer_span<C: Carrier + ?Sized>(
    system: &str,
    destination: &str,
    message: &C,
) -> tracing::Span {
    let current = tracing::Span::current();
    let span = process_span(system, destination);
    let cx = super::extract(message);
    let parent = if cx.span().span_context().is_valid() {
        cx
    } else if cx.baggage().is_empty() {
        return span;
    } else {
        // Baggage alone: the parent stays the one the span has (the current
        // span, or none), with the message's baggage.
        let current = if current.is_none() {
            opentelemetry::Context::current()
        } else {
            current.context()
        };
        let baggage: Baggage = cx
            .baggage()
            .iter()
            .map(|(key, (value, metadata))| (key.clone(), (value.clone(), metadata.clone())))
            .collect();
        current.with_baggage(baggage)
    };
    // Fails only if the span is disabled or has no OpenTelemetry layer: then
    // there is no trace to continue.
    let _ = span.set_parent(parent);
    span
}

/// A CONSUMER span for processing one message or a batch from
/// `destination`, in the current context (a child of the current span, or a
/// new trace), with a link to the span of each message that carries one.
///
/// With more than one message, it records `messaging.batch.message_count`.
///
/// ```
/// use tracelink::propagation::consumer_span_linked;
///
/// let batch: Vec<Vec<(String, String)>> = vec![Vec::new(), Vec::new()];
/// let span = consumer_span_linked("kafka", "orders", &batch);
/// span.in_scope(|| { /* handle the batch */ });
///
/// // One message.
/// let span = consumer_span_linked("kafka", "orders", [&batch[0]]);
/// # let _ = span;
/// ```
pub fn consumer_span_linked<'a, C, I>(system: &str, destination: &str, messages: I) -> tracing::Span
where
    C: Carrier + ?Sized + 'a,
    I: IntoIterator<Item = &'a C>,
{
    let span = process_span(system, destination);
    // An i64: OTLP ints are signed, and tracing-opentelemetry sends a u64 as text.
    let mut count = 0i64;
    for message in messages {
        count += 1;
        let cx = super::extract(message);
        let remote = cx.span();
        let context = remote.span_context();
        if context.is_valid() {
            span.add_link(context.clone());
        }
    }
    if count > 1 {
        span.record("messaging.batch.message_count", count);
    }
    span
}

fn process_span(system: &str, destination: &str) -> tracing::Span {
    messaging_span!(
        "process",
        "consumer",
        system,
        destination,
        messaging.batch.message_count = Empty
    )
}
