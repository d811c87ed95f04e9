//! Context that crosses services: W3C Trace Context and Baggage in and out of
//! HTTP headers and message headers.
//!
//! [`inject`] writes the current span's context into a [`Carrier`];
//! [`extract`] reads a context from one. Both go through the propagators
//! `OTEL_PROPAGATORS` selects (`tracecontext,baggage` by default), which
//! `tracelink::init()` installs as OpenTelemetry's global propagator.
//!
//! ```
//! use std::collections::HashMap;
//!
//! let mut headers = HashMap::new();
//! tracelink::propagation::inject(&mut headers);
//! let cx = tracelink::propagation::extract(&headers);
//! # let _ = cx;
//! ```

mod carrier;

pub use carrier::Carrier;

use opentelemetry::propagation::{Extractor, Injector};
use opentelemetry::Context;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Writes the context of [`tracing::Span::current`] into `carrier`.
pub fn inject<C: Carrier + ?Sized>(carrier: &mut C) {
    inject_span(&tracing::Span::current(), carrier);
}

/// Writes the context of `span` into `carrier`.
pub fn inject_span<C: Carrier + ?Sized>(span: &tracing::Span, carrier: &mut C) {
    inject_context(&span.context(), carrier);
}

/// Writes `cx` into `carrier` with the global propagator.
pub fn inject_context<C: Carrier + ?Sized>(cx: &Context, carrier: &mut C) {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.inject_context(cx, &mut AsInjector(carrier));
    });
}

/// Reads a context from `carrier` with the global propagator; an empty
/// context (no remote parent) when the carrier holds none or an invalid one.
pub fn extract<C: Carrier + ?Sized>(carrier: &C) -> Context {
    opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&AsExtractor(carrier))
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
        Vec::new()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let all = self.0.get_all(key);
        (!all.is_empty()).then_some(all)
    }
}
