//! A message goes through a queue (a `Vec<(String, String)>` of headers) and
//! its PRODUCER and CONSUMER spans reach a real OTLP receiver in one trace:
//! the consumer's span is the child of the producer's, with the kinds, names
//! and `messaging.*` attributes of the semantic conventions. The linked form
//! starts its own trace and links to each message instead.
//!
//! The helpers inject and extract with OpenTelemetry's global propagator;
//! each test installs tracelink's (`Parts::propagator`), the same one each
//! time, as `init()` would.

mod support;

use std::time::Duration;

use opentelemetry::baggage::BaggageExt;
use opentelemetry::KeyValue;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use support::{hex, ReceivedSpan, Receiver};
use tracelink::propagation::{
    consumer_span, consumer_span_linked, inject_context, inject_span, producer_span,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;

const WAIT: Duration = Duration::from_secs(10);

type Headers = Vec<(String, String)>;

/// tracelink against the receiver over gRPC, its propagator installed globally.
fn build(receiver: &Receiver) -> tracelink::Parts {
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.grpc_endpoint()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc".to_owned()),
            ("OTEL_BSP_SCHEDULE_DELAY", "100".to_owned()),
        ])
        .with_service_name("shop")
        .with_shutdown_timeout(WAIT)
        .build()
        .expect("tracelink builds");
    opentelemetry::global::set_text_map_propagator(parts.propagator());
    parts
}

/// Runs `workload` under tracelink, flushes, and returns the `n` spans that
/// arrived.
fn run(n: usize, workload: impl FnOnce()) -> Vec<ReceivedSpan> {
    let receiver = Receiver::start();
    let parts = build(&receiver);
    tracing::dispatcher::with_default(&support::dispatch(&parts), workload);
    parts.guard().flush().expect("flush exports everything");
    let spans = receiver.wait_for_spans(n, WAIT);
    assert_eq!(spans.len(), n, "{:#?}", names(&spans));
    parts.into_guard().shutdown().expect("clean shutdown");
    spans
}

fn names(spans: &[ReceivedSpan]) -> Vec<&str> {
    spans.iter().map(ReceivedSpan::name).collect()
}

fn span<'a>(spans: &'a [ReceivedSpan], name: &str) -> &'a ReceivedSpan {
    spans
        .iter()
        .find(|s| s.name() == name)
        .unwrap_or_else(|| panic!("no span {name:?} in {:?}", names(spans)))
}

/// Of the two `process orders` spans, checks that one is the child of `poll`
/// and returns the other, processed outside any span: a new trace's root.
fn processed_in_poll_and_alone(spans: &[ReceivedSpan]) -> &ReceivedSpan {
    let poll = span(spans, "poll");
    let processed: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == "process orders")
        .collect();
    assert_eq!(processed.len(), 2);
    let (child, root): (Vec<_>, Vec<_>) = processed
        .into_iter()
        .partition(|s| s.parent_span_id().is_some());
    assert_eq!(child.len(), 1);
    assert_eq!(root.len(), 1, "one message processed outside any span");
    assert_eq!(child[0].parent_span_id(), Some(poll.span_id()));
    assert_eq!(child[0].trace_id(), poll.trace_id());
    assert_ne!(root[0].trace_id(), poll.trace_id());
    root[0]
}

fn header<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The `messaging.*` attributes of the semantic conventions.
fn assert_messaging(span: &ReceivedSpan, system: &str, destination: &str, operation: &str) {
    assert_eq!(span.attr("messaging.system").as_deref(), Some(system));
    assert_eq!(
        span.attr("messaging.destination.name").as_deref(),
        Some(destination)
    );
    assert_eq!(
        span.attr("messaging.operation.type").as_deref(),
        Some(operation)
    );
    // Required by the current conventions; tracelink names operations by
    // their type.
    assert_eq!(
        span.attr("messaging.operation.name").as_deref(),
        Some(operation)
    );
    // tracing-opentelemetry's own fields become the span's kind and name,
    // not attributes.
    for key in ["otel.kind", "otel.name"] {
        assert_eq!(span.attr(key), None, "{key} in {:?}", span.span.attributes);
    }
}

/// Sends one message from inside a request span; returns its headers.
fn send(destination: &str) -> Headers {
    let mut headers = Headers::new();
    let send = producer_span("kafka", destination);
    inject_span(&send, &mut headers);
    send.in_scope(|| tracing::info!("message sent"));
    headers
}

#[test]
fn one_trace_crosses_the_queue() {
    let mut headers = Headers::new();
    let spans = run(4, || {
        tracing::info_span!("checkout", otel.kind = "server").in_scope(|| {
            headers = send("orders");
        });
        // The consumer runs outside any span, as in another service.
        let process = consumer_span("kafka", "orders", &headers);
        process.in_scope(|| {
            tracing::info_span!("save order").in_scope(|| tracing::info!("saved"));
        });
    });

    let checkout = span(&spans, "checkout");
    let send = span(&spans, "send orders");
    let process = span(&spans, "process orders");
    let save = span(&spans, "save order");

    assert_eq!(send.kind(), SpanKind::Producer);
    assert_eq!(process.kind(), SpanKind::Consumer);
    assert_messaging(send, "kafka", "orders", "send");
    assert_messaging(process, "kafka", "orders", "process");
    assert_eq!(process.attr("messaging.batch.message_count"), None);

    // One trace: checkout -> send orders -> (queue) -> process orders -> save order.
    for s in [send, process, save] {
        assert_eq!(s.trace_id(), checkout.trace_id(), "{}", s.name());
    }
    assert_eq!(send.parent_span_id(), Some(checkout.span_id()));
    assert_eq!(process.parent_span_id(), Some(send.span_id()));
    assert_eq!(save.parent_span_id(), Some(process.span_id()));
    // The consumer's parent came from the message: a remote parent.
    let remote = opentelemetry_proto::tonic::trace::v1::SpanFlags::ContextIsRemoteMask as u32;
    assert_eq!(
        process.span.flags & remote,
        remote,
        "{:#x}",
        process.span.flags
    );
    assert_eq!(send.span.flags & remote, 0, "{:#x}", send.span.flags);
    assert!(process.span.links.is_empty());

    // The message carried exactly the producer span's context (03: sampled,
    // and a random trace id, which tracelink announces for traces it starts).
    assert_eq!(
        header(&headers, "traceparent"),
        Some(format!("00-{}-{}-03", send.trace_id(), send.span_id()).as_str())
    );
}

#[test]
fn baggage_crosses_the_queue_with_the_parent() {
    let spans = run(2, || {
        let mut headers = Headers::new();
        let send = producer_span("rabbitmq", "invoices");
        let cx = send
            .context()
            .with_baggage([KeyValue::new("tenant", "acme corp")]);
        inject_context(&cx, &mut headers);
        drop(send);
        assert_eq!(header(&headers, "baggage"), Some("tenant=acme%20corp"));

        let process = consumer_span("rabbitmq", "invoices", &headers);
        let cx = process.context();
        assert_eq!(
            cx.baggage()
                .get("tenant")
                .map(opentelemetry::StringValue::as_str),
            Some("acme corp")
        );
    });
    let send = span(&spans, "send invoices");
    let process = span(&spans, "process invoices");
    assert_messaging(process, "rabbitmq", "invoices", "process");
    assert_eq!(process.parent_span_id(), Some(send.span_id()));
}

#[test]
fn baggage_without_a_parent_still_crosses_the_queue() {
    let headers: Headers = vec![("baggage".to_owned(), "user=alice".to_owned())];
    let mut forwarded = Vec::new();
    let spans = run(4, || {
        // Outside any span: a new trace, with the message's baggage.
        let process = consumer_span("kafka", "orders", &headers);
        let cx = process.context();
        assert_eq!(
            cx.baggage()
                .get("user")
                .map(opentelemetry::StringValue::as_str),
            Some("alice")
        );
        // Current inside the span, and sent on by what it produces.
        process.in_scope(|| {
            assert_eq!(
                opentelemetry::Context::current()
                    .baggage()
                    .get("user")
                    .map(opentelemetry::StringValue::as_str),
                Some("alice")
            );
            let mut out = Headers::new();
            inject_span(&producer_span("kafka", "audit"), &mut out);
            forwarded = out;
        });
        drop(process);
        // Inside a span: still its child, with the message's baggage.
        tracing::info_span!("poll").in_scope(|| {
            let process = consumer_span("kafka", "orders", &headers);
            let cx = process.context();
            assert_eq!(
                cx.baggage()
                    .get("user")
                    .map(opentelemetry::StringValue::as_str),
                Some("alice")
            );
        });
    });
    assert_eq!(header(&forwarded, "baggage"), Some("user=alice"));
    let root = processed_in_poll_and_alone(&spans);
    let audit = span(&spans, "send audit");
    assert_eq!(audit.parent_span_id(), Some(root.span_id()));
}

#[test]
fn the_linked_form_starts_its_own_trace_and_links_to_the_message() {
    let spans = run(2, || {
        let headers = send("orders");
        consumer_span_linked("kafka", "orders", [&headers]).in_scope(|| {});
    });
    let send = span(&spans, "send orders");
    let process = span(&spans, "process orders");
    assert_eq!(process.kind(), SpanKind::Consumer);
    assert_messaging(process, "kafka", "orders", "process");
    assert_eq!(process.parent_span_id(), None, "a root span");
    assert_ne!(process.trace_id(), send.trace_id());
    assert_eq!(process.span.links.len(), 1);
    let link = &process.span.links[0];
    assert_eq!(hex(&link.trace_id), send.trace_id());
    assert_eq!(hex(&link.span_id), send.span_id());
    // One message is not a batch.
    assert_eq!(process.attr("messaging.batch.message_count"), None);
}

#[test]
fn a_batch_links_to_every_message_under_the_current_span() {
    let spans = run(5, || {
        let batch: Vec<Headers> = (0..3).map(|_| send("orders")).collect();
        let unrelated = Headers::new();
        tracing::info_span!("poll").in_scope(|| {
            let messages = batch.iter().chain([&unrelated]);
            consumer_span_linked("kafka", "orders", messages).in_scope(|| {});
        });
    });
    let poll = span(&spans, "poll");
    let process = span(&spans, "process orders");
    assert_eq!(process.parent_span_id(), Some(poll.span_id()));
    assert_eq!(process.trace_id(), poll.trace_id());
    assert_eq!(
        process.attr("messaging.batch.message_count").as_deref(),
        Some("4")
    );
    // A link for each of the three messages that carried a context.
    let mut linked: Vec<_> = process
        .span
        .links
        .iter()
        .map(|l| (hex(&l.trace_id), hex(&l.span_id)))
        .collect();
    let mut sent: Vec<_> = spans
        .iter()
        .filter(|s| s.name() == "send orders")
        .map(|s| (s.trace_id(), s.span_id()))
        .collect();
    linked.sort();
    sent.sort();
    assert_eq!(sent.len(), 3);
    assert_eq!(linked, sent);
}

#[test]
fn a_message_without_context_is_processed_where_the_consumer_is() {
    let invalid: Headers = vec![(
        "traceparent".to_owned(),
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_owned(),
    )];
    let spans = run(3, || {
        tracing::info_span!("poll").in_scope(|| {
            consumer_span("kafka", "orders", &Headers::new()).in_scope(|| {});
        });
        consumer_span("kafka", "orders", &invalid).in_scope(|| {});
    });
    // The invalid context starts a new trace.
    let root = processed_in_poll_and_alone(&spans);
    assert_ne!(root.trace_id(), "00000000000000000000000000000000");
}

#[test]
fn the_random_trace_id_flag_crosses_every_hop() {
    // Python's SDK sends `03`: sampled, and a random trace id.
    let trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
    let message = |flags: &str| -> Headers {
        vec![(
            "traceparent".to_owned(),
            format!("00-{trace_id}-00f067aa0ba902b7-{flags}"),
        )]
    };
    let mut forwarded = Vec::new();
    let spans = run(2, || {
        for flags in ["03", "02"] {
            let process = consumer_span("kafka", "orders", &message(flags));
            // The consumer forwards the message: a child of the consumer span.
            let mut out = Headers::new();
            let send = process.in_scope(|| producer_span("kafka", "audit"));
            inject_span(&send, &mut out);
            forwarded.push((flags, out));
        }
    });
    for (flags, out) in &forwarded {
        let traceparent = header(out, "traceparent").expect("injected");
        assert!(
            traceparent.starts_with(&format!("00-{trace_id}-")),
            "{traceparent}"
        );
        assert!(
            traceparent.ends_with(&format!("-{flags}")),
            "{flags}: {traceparent}"
        );
    }
    // Only the sampled trace is exported, with its flags.
    for name in ["process orders", "send audit"] {
        let s = span(&spans, name);
        assert_eq!(s.trace_id(), trace_id);
        assert_eq!(s.span.flags & 0xff, 0x03, "{name}: {:#x}", s.span.flags);
    }
}
