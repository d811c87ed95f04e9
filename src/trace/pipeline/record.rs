//! A sampled span's data as the tracer keeps it ([`Record`]), as it waits in
//! the queue ([`Finished`]), and its conversion into the SDK's [`SpanData`]
//! on the export thread.
//!
//! The conversion does here, off the span's thread, what would otherwise
//! cost the service: one value per attribute key
//! ([`keep_last_of_each_key`]), the span's instrumentation scope
//! ([`Scopes`]), and its `code.*` attributes (`callsite.rs`).

use std::borrow::Cow;
use std::time::SystemTime;

use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::scopes::Scopes;
use crate::trace::{callsite, SpanLimits};

/// A sampled span's data, from start to end.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) start_time: SystemTime,
    pub(crate) end_time: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) dropped_attributes: u32,
    pub(crate) events: Vec<Event>,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<Link>,
    pub(crate) dropped_links: u32,
    pub(crate) status: Status,
    /// Index into the [`ScopeRegistry`](super::scopes::ScopeRegistry).
    pub(crate) scope: u32,
    /// Where the span was made, if a `tracing` span: its scope (the target)
    /// and `code.*` attributes are added on the export thread (`callsite.rs`).
    pub(crate) callsite: Option<&'static tracing_core::Metadata<'static>>,
    /// What it keeps: counts as it is recorded, value lengths at export.
    pub(crate) limits: SpanLimits,
}

/// An ended span, as it waits in the queue.
#[derive(Debug)]
pub(crate) struct Finished {
    context: SpanContext,
    record: Record,
}

impl Finished {
    #[inline]
    pub(crate) fn new(context: SpanContext, record: Record) -> Self {
        Self { context, record }
    }

    pub(crate) fn name(&self) -> &str {
        &self.record.name
    }

    /// The SDK's shape of the span, for the exporters.
    pub(crate) fn into_span_data(self, scopes: &mut Scopes, code_location: bool) -> SpanData {
        let mut r = self.record;
        keep_last_of_each_key(&mut r.attributes);
        let scope = match r.callsite {
            Some(callsite) => {
                if code_location {
                    callsite::append_location(
                        callsite,
                        &mut r.attributes,
                        r.limits.attributes as usize,
                        &mut r.dropped_attributes,
                    );
                }
                scopes.of_callsite(callsite)
            }
            None => scopes.of_tracer(r.scope),
        };
        r.limits.shorten(&mut r.attributes);
        for event in &mut r.events {
            r.limits.shorten(&mut event.attributes);
        }
        for link in &mut r.links {
            r.limits.shorten(&mut link.attributes);
        }
        let mut events = SpanEvents::default();
        events.events = r.events;
        events.dropped_count = r.dropped_events;
        let mut links = SpanLinks::default();
        links.links = r.links;
        links.dropped_count = r.dropped_links;
        SpanData {
            span_context: self.context,
            parent_span_id: r.parent_span_id,
            parent_span_is_remote: r.parent_is_remote,
            span_kind: r.kind,
            name: r.name,
            start_time: r.start_time,
            end_time: r.end_time,
            attributes: r.attributes,
            dropped_attributes_count: r.dropped_attributes,
            events,
            links,
            status: r.status,
            instrumentation_scope: scope,
        }
    }
}

/// One attribute a key, with the last value it was given: a field recorded
/// again before the span started (`Span::record`, or an unsigned field
/// recorded again as an int by [`OtelLayer`](crate::trace::OtelLayer)) sits
/// twice in the builder, and OTLP wants each key once. Done here, on the
/// export thread, rather than on the span's.
fn keep_last_of_each_key(attributes: &mut Vec<KeyValue>) {
    let mut i = 0;
    while i + 1 < attributes.len() {
        let key = &attributes[i].key;
        if attributes[i + 1..].iter().any(|kv| kv.key == *key) {
            attributes.remove(i);
        } else {
            i += 1;
        }
    }
}

/// A plain sampled `INTERNAL` span for the pipeline's tests, its span id
/// `n + 1`, so a test can tell which spans an exporter was given
/// ([`number_of`]).
#[cfg(test)]
pub(crate) fn numbered(n: u64) -> (SpanContext, Record) {
    use opentelemetry::trace::{TraceFlags, TraceId, TraceState};
    let context = SpanContext::new(
        TraceId::from(u128::from(n) + 1),
        SpanId::from(n + 1),
        TraceFlags::SAMPLED,
        false,
        TraceState::NONE,
    );
    let record = Record {
        name: Cow::Borrowed("numbered"),
        kind: SpanKind::Internal,
        parent_span_id: SpanId::INVALID,
        parent_is_remote: false,
        start_time: SystemTime::UNIX_EPOCH,
        end_time: SystemTime::UNIX_EPOCH,
        attributes: Vec::new(),
        dropped_attributes: 0,
        events: Vec::new(),
        dropped_events: 0,
        links: Vec::new(),
        dropped_links: 0,
        status: Status::Unset,
        scope: 0,
        callsite: None,
        limits: SpanLimits::default(),
    };
    (context, record)
}

/// The `n` of a span made by [`numbered`].
#[cfg(test)]
pub(crate) fn number_of(span: &SpanData) -> u64 {
    u64::from_be_bytes(span.span_context.span_id().to_bytes()) - 1
}

#[cfg(test)]
impl Finished {
    /// [`numbered`], queued.
    pub(crate) fn numbered(n: u64) -> Self {
        let (context, record) = numbered(n);
        Self::new(context, record)
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry::InstrumentationScope;

    use super::super::scopes::ScopeRegistry;
    use super::*;

    #[test]
    fn each_key_keeps_its_last_value_in_first_seen_order() {
        let mut attributes = vec![
            KeyValue::new("http.response.status_code", "200"),
            KeyValue::new("url.path", "/cart"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("n", 1),
            KeyValue::new("n", 2),
        ];
        keep_last_of_each_key(&mut attributes);
        assert_eq!(
            attributes,
            [
                KeyValue::new("url.path", "/cart"),
                KeyValue::new("http.response.status_code", 200),
                KeyValue::new("n", 2),
            ]
        );
        let mut none: Vec<KeyValue> = Vec::new();
        keep_last_of_each_key(&mut none);
        assert!(none.is_empty());
    }

    #[test]
    fn a_record_becomes_span_data_with_its_tracer_scope_and_counts() {
        let registry = ScopeRegistry::default();
        registry.register(InstrumentationScope::builder("first").build());
        let shop = InstrumentationScope::builder("shop").build();
        let index = registry.register(shop.clone());
        let mut scopes = Scopes::default();
        scopes.refresh(&registry);

        let mut finished = Finished::numbered(41);
        let r = &mut finished.record;
        r.name = Cow::Borrowed("GET /cart");
        r.kind = SpanKind::Server;
        r.parent_span_id = SpanId::from(7);
        r.parent_is_remote = true;
        r.attributes = vec![KeyValue::new("n", 1), KeyValue::new("n", 2)];
        r.dropped_attributes = 3;
        r.events = vec![Event::with_name("charged")];
        r.dropped_events = 4;
        r.dropped_links = 5;
        r.status = Status::error("declined");
        r.scope = index;

        let data = finished.into_span_data(&mut scopes, true);
        assert_eq!(number_of(&data), 41);
        assert_eq!(data.name, "GET /cart");
        assert_eq!(data.span_kind, SpanKind::Server);
        assert_eq!(data.parent_span_id, SpanId::from(7));
        assert!(data.parent_span_is_remote);
        // One value per key; no `code.*` for a span without a callsite.
        assert_eq!(data.attributes, [KeyValue::new("n", 2)]);
        assert_eq!(data.dropped_attributes_count, 3);
        assert_eq!(data.events.events.len(), 1);
        assert_eq!(data.events.dropped_count, 4);
        assert_eq!(data.links.dropped_count, 5);
        assert_eq!(data.status, Status::error("declined"));
        assert_eq!(data.instrumentation_scope, shop);
    }
}
