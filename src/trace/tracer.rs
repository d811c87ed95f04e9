//! [`LinkTracer`], [`LinkSpan`] and [`LinkTracerProvider`]: the OpenTelemetry API, backed by
//! tracelink's pipeline.

use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

use opentelemetry::trace::{
    Event, Link, SpanBuilder, SpanContext, SpanId, SpanKind, Status, TraceContextExt, TraceFlags,
    TraceState,
};
use opentelemetry::{Context, InstrumentationScope, KeyValue};

use super::consistent::{self, Threshold};
use super::pipeline::{Pipeline, Record};
use super::{callsite, ids, Sampler, SamplingInput, SpanLimits};

/// W3C Trace Context Level 2's random trace id flag.
const RANDOM_TRACE_ID: u8 = 0x02;

/// Hands out [`LinkTracer`]s that share tracelink's sampler and export pipeline.
///
/// `tracelink::init()` installs it as the global OpenTelemetry provider, so
/// libraries that call `opentelemetry::global::tracer("...")` export through
/// tracelink as well.
///
/// ```
/// use opentelemetry::trace::{Tracer as _, TracerProvider as _};
///
/// # fn main() -> Result<(), tracelink::Error> {
/// let parts = tracelink::builder()
///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
///     .build()?;
/// let tracer = parts.tracer_provider().tracer("my-library");
/// tracer.in_span("work", |_cx| {});
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct LinkTracerProvider {
    pipeline: Arc<Pipeline>,
    sampler: Arc<Sampler>,
    limits: SpanLimits,
}

impl LinkTracerProvider {
    pub(crate) fn new(pipeline: Arc<Pipeline>, sampler: Sampler, limits: SpanLimits) -> Self {
        Self {
            pipeline,
            sampler: Arc::new(sampler),
            limits,
        }
    }

    pub(crate) fn scoped(&self, scope: InstrumentationScope) -> LinkTracer {
        LinkTracer {
            scope: self.pipeline.register_scope(scope),
            pipeline: self.pipeline.clone(),
            sampler: self.sampler.clone(),
            limits: self.limits,
        }
    }
}

impl opentelemetry::trace::TracerProvider for LinkTracerProvider {
    type Tracer = LinkTracer;

    fn tracer_with_scope(&self, scope: InstrumentationScope) -> LinkTracer {
        self.scoped(scope)
    }
}

/// An OpenTelemetry tracer that samples first and allocates nothing for an
/// unsampled span.
///
/// tracelink gives it to `tracing-opentelemetry`; you only meet it when you
/// compose your own subscriber with [`Parts`](crate::Parts).
#[derive(Clone, Debug)]
pub struct LinkTracer {
    pipeline: Arc<Pipeline>,
    sampler: Arc<Sampler>,
    /// The instrumentation scope, as an index into the pipeline's table: a span
    /// carries no reference-counted pointer across threads.
    scope: u32,
    limits: SpanLimits,
}

impl opentelemetry::trace::Tracer for LinkTracer {
    type Span = LinkSpan;

    fn build_with_context(&self, builder: SpanBuilder, parent_cx: &Context) -> LinkSpan {
        let parent = parent_cx
            .has_active_span()
            .then(|| parent_cx.span().span_context().clone())
            .filter(SpanContext::is_valid);
        let trace_id = parent
            .as_ref()
            .map_or_else(ids::trace_id, SpanContext::trace_id);
        let kind = builder.span_kind.clone().unwrap_or(SpanKind::Internal);
        let (sampled, threshold) = self.sampler.decide_span(&SamplingInput {
            parent: parent.as_ref(),
            trace_id,
            name: &builder.name,
            kind: &kind,
            attributes: builder.attributes.as_deref().unwrap_or_default(),
        });
        // Keep the parent's other flag bits (the W3C random bit); set or clear
        // sampled. A trace started here has a fully random id, which W3C
        // Trace Context Level 2 says to announce with the random bit.
        let inherited = parent.as_ref().map_or(RANDOM_TRACE_ID, |p| {
            p.trace_flags().to_u8() & !TraceFlags::SAMPLED.to_u8()
        });
        let flags = TraceFlags::new(inherited | u8::from(sampled));
        let inherited_state = parent
            .as_ref()
            .map_or(TraceState::NONE, |p| p.trace_state().clone());
        let trace_state = match threshold {
            Threshold::Keep => inherited_state,
            Threshold::Set(th) => consistent::with_threshold(&inherited_state, Some(th)),
            Threshold::Erase => consistent::with_threshold(&inherited_state, None),
        };
        let context = SpanContext::new(trace_id, ids::span_id(), flags, false, trace_state);
        let refused = sampled && !self.pipeline.is_running();
        if refused {
            self.pipeline.refuse(&builder.name);
        }
        if !sampled || refused {
            return LinkSpan {
                context,
                record: None,
                pipeline: None,
            };
        }
        let limits = self.limits;
        let mut attributes = builder.attributes.unwrap_or_default();
        let dropped_attributes = SpanLimits::cut(&mut attributes, limits.attributes);
        let mut events = builder.events.unwrap_or_default();
        let dropped_events = SpanLimits::cut(&mut events, limits.events);
        let events = events.into_iter().map(|e| limits.event(e)).collect();
        let mut links = builder.links.unwrap_or_default();
        let dropped_links = SpanLimits::cut(&mut links, limits.links);
        let links = links.into_iter().map(|l| limits.link(l)).collect();
        LinkSpan {
            context,
            record: Some(Record {
                name: builder.name,
                kind,
                parent_span_id: parent
                    .as_ref()
                    .map_or(SpanId::INVALID, SpanContext::span_id),
                parent_is_remote: parent.as_ref().is_some_and(SpanContext::is_remote),
                start_time: builder.start_time.unwrap_or_else(SystemTime::now),
                end_time: SystemTime::UNIX_EPOCH,
                attributes,
                dropped_attributes,
                events,
                dropped_events,
                links,
                dropped_links,
                status: Status::Unset,
                scope: self.scope,
                callsite: callsite::take(),
                limits,
            }),
            pipeline: Some(self.pipeline.clone()),
        }
    }
}

/// A span made by tracelink's [`LinkTracer`]: its context, and, when sampled, the
/// data that will be exported when it ends.
#[derive(Debug)]
pub struct LinkSpan {
    context: SpanContext,
    record: Option<Record>,
    // Dropped on the thread that ends the span, never on the export thread.
    pipeline: Option<Arc<Pipeline>>,
}

impl opentelemetry::trace::Span for LinkSpan {
    fn add_event_with_timestamp<T>(
        &mut self,
        name: T,
        timestamp: SystemTime,
        attributes: Vec<KeyValue>,
    ) where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = &mut self.record {
            if record.events.len() < record.limits.events as usize {
                let event = record
                    .limits
                    .event(Event::new(name, timestamp, attributes, 0));
                record.events.push(event);
            } else {
                record.dropped_events += 1;
            }
        }
    }

    fn span_context(&self) -> &SpanContext {
        &self.context
    }

    fn is_recording(&self) -> bool {
        self.record.is_some()
    }

    fn set_attribute(&mut self, attribute: KeyValue) {
        if let Some(record) = &mut self.record {
            // The last of a key: the builder can hold a key twice (see
            // `keep_last_of_each_key`), and the last one is what is exported.
            if let Some(existing) = record
                .attributes
                .iter_mut()
                .rev()
                .find(|kv| kv.key == attribute.key)
            {
                *existing = attribute;
            } else if record.attributes.len() < record.limits.attributes as usize {
                record.attributes.push(attribute);
            } else {
                record.dropped_attributes += 1;
            }
        }
    }

    fn set_status(&mut self, status: Status) {
        if let Some(record) = &mut self.record {
            // Ok is final; Unset never overrides (the specification's order).
            match (&record.status, &status) {
                (Status::Ok, _) | (_, Status::Unset) => {}
                _ => record.status = status,
            }
        }
    }

    fn update_name<T>(&mut self, new_name: T)
    where
        T: Into<Cow<'static, str>>,
    {
        if let Some(record) = &mut self.record {
            record.name = new_name.into();
        }
    }

    fn add_link(&mut self, span_context: SpanContext, attributes: Vec<KeyValue>) {
        if let Some(record) = &mut self.record {
            if !span_context.is_valid() {
                return;
            }
            if record.links.len() < record.limits.links as usize {
                let link = record.limits.link(Link::new(span_context, attributes, 0));
                record.links.push(link);
            } else {
                record.dropped_links += 1;
            }
        }
    }

    fn end_with_timestamp(&mut self, timestamp: SystemTime) {
        if let (Some(mut record), Some(pipeline)) = (self.record.take(), &self.pipeline) {
            record.end_time = timestamp;
            pipeline.push_span(self.context.clone(), record);
        }
    }
}

impl Drop for LinkSpan {
    fn drop(&mut self) {
        // A span that is dropped without `end` still ends, as in the SDK;
        // one already ended, or not recording, needs no clock read.
        if self.record.is_some() {
            opentelemetry::trace::Span::end(self);
        }
    }
}
