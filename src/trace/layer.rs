//! The OpenTelemetry layer as tracelink installs it: `tracing-opentelemetry`'s
//! layer, with only the events that matter on a span turned into span events,
//! and each span's callsite noted for the export thread (`callsite.rs`).

use std::any::TypeId;

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_core::Interest;
use tracing_opentelemetry::OpenTelemetryLayer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

use super::callsite::{self, Known};
use super::LinkTracer;
use crate::context::{OtelLayerMark, StackKey, OTEL_LAYER_MARK};

/// `tracing-opentelemetry`'s [`OpenTelemetryLayer`] on tracelink's
/// [`LinkTracer`], which turns only events at or above a level into span events
/// ([`Builder::with_span_events`](crate::Builder::with_span_events),
/// `TRACELINK_SPAN_EVENTS`; `WARN` by default).
///
/// Every event still becomes a JSON log line carrying the span's ids, so an
/// `INFO` line is one jump away from its span; copying it into the span as
/// well would send it twice and cost about 3,700 instructions and four
/// allocations per line. `ERROR` events always reach the span: that is how
/// `#[instrument(err)]` marks a span failed.
///
/// It also notes each span's callsite as the span starts, from which the
/// export thread makes the span's target its instrumentation scope and, if
/// asked ([`Builder::with_span_code_location`](crate::Builder::with_span_code_location)),
/// adds its `code.*` attributes: work `tracing-opentelemetry` would do on
/// the span's own thread.
///
/// Integer fields keep their type: `tracing-opentelemetry` 0.34 has no
/// `record_u64`, so a `u64`, `u32`, `u16` or `usize` span field (a status
/// code, a port, a length) would reach the backend as the string `"200"`;
/// this layer records such fields again as `i64`, the OTLP integer, when they
/// fit, and the span keeps one value a key (the last). Wider values stay
/// text. Fields of events recorded as span events are not retyped
/// (tokio-rs/tracing-opentelemetry#267 would fix both upstream).
///
/// Everything else is forwarded unchanged, including the downcasts
/// [`OpenTelemetrySpanExt`](tracing_opentelemetry::OpenTelemetrySpanExt)
/// relies on, so `span.set_parent(cx)` and `span.context()` keep working.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// let parts = tracelink::builder()
///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
///     .with_span_events(tracing::Level::INFO)
///     .build()?;
/// let subscriber = tracing_subscriber::registry()
///     .with(parts.filter())
///     .with(parts.otel_layer());
/// # let _ = subscriber;
/// # Ok::<(), tracelink::Error>(())
/// ```
pub struct OtelLayer<S> {
    inner: OpenTelemetryLayer<S, LinkTracer>,
    events: LevelFilter,
    /// Whether tracing-opentelemetry makes entered spans' contexts current,
    /// so that their ids can be noted at enter.
    activation: bool,
    /// The key of the subscriber this layer was added to (with activation),
    /// under which entered spans' ids are noted for its JSON layer.
    stack: Option<StackKey>,
    /// The subscriber's key in the per-thread table of recent spans'
    /// callsites (`callsite.rs`).
    subscriber: u64,
}

impl<S> OtelLayer<S> {
    pub(crate) fn new(
        inner: OpenTelemetryLayer<S, LinkTracer>,
        events: LevelFilter,
        activation: bool,
    ) -> Self {
        OtelLayer {
            inner,
            // ERROR events set the span's status; they always pass.
            events: events.max(LevelFilter::ERROR),
            activation,
            stack: None,
            subscriber: StackKey::new().into_u64(),
        }
    }

    /// The `tracing-opentelemetry` layer inside, which records every event
    /// and, as `tracing-opentelemetry` does by default, writes each span's
    /// source location and target as attributes (without this layer, spans
    /// are sent under tracelink's scope rather than their target's).
    pub fn into_inner(self) -> OpenTelemetryLayer<S, LinkTracer>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        self.inner.with_location(true).with_target(true)
    }
}

impl<S> OtelLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    /// Records the unsigned fields again, as `i64`: `tracing-opentelemetry`
    /// has no `record_u64` and sends them as their `Debug` text, so a
    /// `u16` status code would reach the backend as the string `"200"`.
    /// The second value replaces the first (the span keeps the last value
    /// of a key, as `Span::set_attribute` does).
    fn record_as_ints(
        &self,
        metadata: &'static Metadata<'static>,
        unsigned: Vec<(tracing::field::Field, i64)>,
        id: &Id,
        ctx: Context<'_, S>,
    ) {
        let fields = metadata.fields();
        for (field, value) in unsigned {
            let values = [(&field, Some(&value as &dyn tracing::Value))];
            let set = fields.value_set(&values);
            self.inner.on_record(id, &Record::new(&set), ctx.clone());
        }
    }
}

/// The fields recorded as `u64`, `u128` or `i128` that fit in an `i64`, the
/// only integer OTLP has. Wider values stay text: no number is cut short.
#[derive(Default)]
struct Unsigned(Vec<(tracing::field::Field, i64)>);

impl Unsigned {
    fn of(record: impl FnOnce(&mut Self)) -> Vec<(tracing::field::Field, i64)> {
        let mut visitor = Unsigned::default();
        record(&mut visitor);
        visitor.0
    }
}

impl tracing::field::Visit for Unsigned {
    fn record_u64(&mut self, field: &tracing::field::Field, value: u64) {
        if let Ok(value) = i64::try_from(value) {
            self.0.push((field.clone(), value));
        }
    }

    fn record_u128(&mut self, field: &tracing::field::Field, value: u128) {
        if let Ok(value) = i64::try_from(value) {
            self.0.push((field.clone(), value));
        }
    }

    fn record_i128(&mut self, field: &tracing::field::Field, value: i128) {
        if let Ok(value) = i64::try_from(value) {
            self.0.push((field.clone(), value));
        }
    }

    fn record_i64(&mut self, _: &tracing::field::Field, _: i64) {}
    fn record_f64(&mut self, _: &tracing::field::Field, _: f64) {}
    fn record_bool(&mut self, _: &tracing::field::Field, _: bool) {}
    fn record_str(&mut self, _: &tracing::field::Field, _: &str) {}
    fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
}

impl<S> std::fmt::Debug for OtelLayer<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtelLayer")
            .field("span_events", &self.events)
            .finish_non_exhaustive()
    }
}

impl<S> Layer<S> for OtelLayer<S>
where
    S: Subscriber + for<'span> LookupSpan<'span>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        self.inner.on_register_dispatch(subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        // One key per subscriber this layer value joins: two subscribers
        // built from the same `Parts` number their spans independently.
        let key = StackKey::new();
        self.subscriber = key.into_u64();
        if self.activation {
            self.stack = Some(key);
        }
        self.inner.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.inner.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.enabled(metadata, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        callsite::made(self.subscriber, id.into_u64(), attrs.metadata());
        self.inner.on_new_span(attrs, id, ctx.clone());
        let unsigned = Unsigned::of(|visitor| attrs.record(visitor));
        self.record_as_ints(attrs.metadata(), unsigned, id, ctx);
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        self.inner.max_level_hint()
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.inner.on_record(span, values, ctx.clone());
        let unsigned = Unsigned::of(|visitor| values.record(visitor));
        if !unsigned.is_empty() {
            if let Some(metadata) = ctx.metadata(span) {
                self.record_as_ints(metadata, unsigned, span, ctx);
            }
        }
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.inner.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.inner.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if self.events >= *event.metadata().level() {
            self.inner.on_event(event, ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.activation {
            // tracing-opentelemetry starts nothing at enter then.
            self.inner.on_enter(id, ctx);
            return;
        }
        // The first enter starts the OpenTelemetry span.
        let starts = match callsite::entering(self.subscriber, id.into_u64()) {
            Known::Started => None,
            Known::Starts(callsite) => Some(callsite),
            Known::Unknown => {
                callsite::entered_here(self.subscriber, id.into_u64());
                ctx.metadata(id)
            }
        };
        callsite::starting(starts, || self.inner.on_enter(id, ctx));
        if let Some(stack) = self.stack {
            crate::context::entered(stack, id);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(stack) = self.stack {
            crate::context::exited(stack, id);
        }
        self.inner.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        // A span never entered is started here.
        let starts = match callsite::closing(self.subscriber, id.into_u64()) {
            Known::Started => None,
            Known::Starts(callsite) => Some(callsite),
            Known::Unknown => ctx.metadata(&id),
        };
        callsite::starting(starts, || self.inner.on_close(id, ctx));
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.inner.on_id_change(old, new, ctx);
    }

    // SAFETY: forwards to the inner layer, whose pointers stay valid as long
    // as `self` does; answers only `Self`'s own type id with `self`.
    #[allow(unsafe_code)]
    unsafe fn downcast_raw(&self, id: TypeId) -> Option<*const ()> {
        if id == TypeId::of::<Self>() {
            Some(std::ptr::from_ref::<Self>(self).cast::<()>())
        } else if id == TypeId::of::<OtelLayerMark>() {
            Some((&raw const OTEL_LAYER_MARK).cast::<()>())
        } else if id == TypeId::of::<StackKey>() {
            self.stack
                .as_ref()
                .map(|key| std::ptr::from_ref::<StackKey>(key).cast::<()>())
        } else {
            // SAFETY: the caller's contract is passed on unchanged.
            unsafe { self.inner.downcast_raw(id) }
        }
    }
}
