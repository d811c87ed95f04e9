//! Context that crosses services: W3C Trace Context and Baggage in and out of
//! HTTP headers and message headers.
//!
//! [`inject`] writes the current span's context into a [`Carrier`];
//! [`extract`] reads a context from one. Both go through the propagators
//! `OTEL_PROPAGATORS` selects (`tracecontext,baggage` by default), which
//! `tracelink::init()` installs as OpenTelemetry's global propagator:
//! tracelink's own [`TraceContextPropagator`] and [`BaggagePropagator`], which
//! follow W3C Trace Context Level 2 and W3C Baggage (their docs list every
//! rule) and put standard OpenTelemetry types (`SpanContext`, `TraceState`,
//! `Baggage`) in the context, so the rest of the ecosystem reads them.
//!
//! ```
//! use std::collections::HashMap;
//!
//! let mut headers = HashMap::new();
//! tracelink::propagation::inject(&mut headers);
//! let cx = tracelink::propagation::extract(&headers);
//! # let _ = cx;
//! ```
//!
//! For message queues, [`producer_span`], [`consumer_span`] and
//! [`consumer_span_linked`] make the PRODUCER and CONSUMER spans and carry
//! the context across; see [`messaging`].

mod baggage;
mod carrier;
pub mod messaging;
mod trace_context;

pub use baggage::BaggagePropagator;
pub use carrier::Carrier;
pub use messaging::{consumer_span, consumer_span_linked, producer_span};
pub use trace_context::TraceContextPropagator;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Writes the context of [`tracing::Span::current`] into `carrier`.
///
/// ```
/// let mut headers = http::HeaderMap::new();
/// tracing::info_span!("call").in_scope(|| tracelink::propagation::inject(&mut headers));
/// ```
pub fn inject<C: Carrier + ?Sized>(carrier: &mut C) {
    inject_span(&tracing::Span::current(), carrier);
}

/// Writes the context of `span` into `carrier`.
///
/// ```
/// let span = tracing::info_span!("publish", otel.kind = "producer");
/// let mut headers: Vec<(String, String)> = Vec::new();
/// tracelink::propagation::inject_span(&span, &mut headers);
/// ```
pub fn inject_span<C: Carrier + ?Sized>(span: &tracing::Span, carrier: &mut C) {
    // Taking the context may start the span (before its first enter): name
    // its callsite, so it keeps its scope and `code.*` attributes.
    let cx = crate::trace::callsite::starting(span.metadata(), || span.context());
    inject_context(&cx, carrier);
}

/// Writes `cx` into `carrier` with the global propagator.
///
/// ```
/// use std::collections::HashMap;
///
/// let cx = opentelemetry::Context::current();
/// let mut headers = HashMap::new();
/// tracelink::propagation::inject_context(&cx, &mut headers);
/// ```
pub fn inject_context<C: Carrier + ?Sized>(cx: &Context, carrier: &mut C) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut AsInjector(carrier));
    });
}

/// Reads a context from `carrier` with the global propagator; an empty
/// context (no remote parent) when the carrier holds none or an invalid one.
///
/// The result never depends on the current context: inside a span, a carrier
/// without a valid `traceparent` still gives a context without a span
/// (OpenTelemetry's `TextMapPropagator::extract` would start from
/// `Context::current()` and hand back the current span).
///
/// Make it the parent of a span with `tracing-opentelemetry`'s
/// `OpenTelemetrySpanExt::set_parent`, before the span is entered.
///
/// ```
/// use tracing_opentelemetry::OpenTelemetrySpanExt;
///
/// let headers = http::HeaderMap::new();
/// let span = tracing::info_span!("request", otel.kind = "server");
/// let _ = span.set_parent(tracelink::propagation::extract(&headers));
/// ```
pub fn extract<C: Carrier + ?Sized>(carrier: &C) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract_with_context(&Context::new(), &AsExtractor(carrier))
    })
}

/// A [`Carrier`] seen as an OpenTelemetry [`Injector`].
pub(crate) struct AsInjector<'a, C: ?Sized>(pub(crate) &'a mut C);

impl<C: Carrier + ?Sized> Injector for AsInjector<'_, C> {
    fn set(&mut self, key: &str, value: String) {
        self.0.set(key, value);
    }
}

/// A [`Carrier`] seen as an OpenTelemetry [`Extractor`].
pub(crate) struct AsExtractor<'a, C: ?Sized>(pub(crate) &'a C);

impl<C: Carrier + ?Sized> Extractor for AsExtractor<'_, C> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get_all(key).first().copied()
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = self.0.get_all(key);
        (!all.is_empty()).then_some(all)
    }
}

/// A context propagator (`OTEL_PROPAGATORS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C Trace Context: `traceparent` and `tracestate`.
    TraceContext,
    /// W3C Baggage: `baggage`.
    Baggage,
}

impl Propagator {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Propagator::TraceContext => "tracecontext",
            Propagator::Baggage => "baggage",
        }
    }
}

impl std::fmt::Display for Propagator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Propagator {
    type Err = String;

    /// `tracecontext` or `baggage`, in any case, as `OTEL_PROPAGATORS` names
    /// them.
    ///
    /// ```
    /// use tracelink::propagation::Propagator;
    ///
    /// assert_eq!("tracecontext".parse(), Ok(Propagator::TraceContext));
    /// assert_eq!(Propagator::Baggage.to_string(), "baggage");
    /// assert!("b3".parse::<Propagator>().is_err());
    /// ```
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "tracecontext" => Ok(Propagator::TraceContext),
            "baggage" => Ok(Propagator::Baggage),
            _ => Err("expected tracecontext or baggage".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propagators_are_debug_send_sync_and_global_ready() {
        fn assert_traits<T: std::fmt::Debug + Clone + Default + Send + Sync + 'static>() {}
        assert_traits::<TraceContextPropagator>();
        assert_traits::<BaggagePropagator>();
        // Both can be OpenTelemetry's global propagator.
        fn global<T: opentelemetry::propagation::TextMapPropagator + Send + Sync + 'static>() {}
        global::<TraceContextPropagator>();
        global::<BaggagePropagator>();
    }

    /// A propagator that reads every header whose name starts with
    /// `ctx-`, as some vendors' do: it enumerates the carrier's keys.
    #[derive(Debug)]
    struct Prefixed;

    impl opentelemetry::propagation::TextMapPropagator for Prefixed {
        fn inject_context(&self, _: &Context, _: &mut dyn Injector) {}

        fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
            let mut found: Vec<String> = extractor
                .keys()
                .into_iter()
                .filter(|key| key.starts_with("ctx-"))
                .filter_map(|key| Some(format!("{key}={}", extractor.get(key)?)))
                .collect();
            found.sort();
            cx.with_value(found)
        }

        fn fields(&self) -> opentelemetry::propagation::text_map_propagator::FieldIter<'_> {
            opentelemetry::propagation::text_map_propagator::FieldIter::new(&[])
        }
    }

    #[test]
    fn a_propagator_that_enumerates_keys_finds_them_in_every_carrier() {
        use opentelemetry::propagation::TextMapPropagator;

        let expected = ["ctx-a=1", "ctx-b=2"];
        let found = |cx: Context| cx.get::<Vec<String>>().cloned().unwrap_or_default();

        let mut map = http::HeaderMap::new();
        for (k, v) in [("ctx-a", "1"), ("other", "x"), ("ctx-b", "2")] {
            Carrier::set(&mut map, k, v.to_owned());
        }
        assert_eq!(found(Prefixed.extract(&AsExtractor(&map))), expected);

        let pairs = [("ctx-b", "2"), ("ctx-a", "1"), ("other", "x")];
        let hash: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(found(Prefixed.extract(&AsExtractor(&hash))), expected);

        let list: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        assert_eq!(found(Prefixed.extract(&AsExtractor(&list))), expected);
    }
}
