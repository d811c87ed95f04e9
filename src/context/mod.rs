//! The ids of the span an event or a metric sample happens in, exactly as the
//! span is exported, computed once per span and cached in its extensions.

use std::fmt;

use opentelemetry::trace::{SpanContext, TraceContextExt};
use tracing::{span, Dispatch};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A span's trace id, span id and flags, with the hex forms ready to copy.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct SpanIds {
    /// 32 lowercase hex digits of the trace id, then 16 of the span id.
    hex: [u8; 48],
    trace_id: u128,
    span_id: u64,
    flags: u8,
}

impl fmt::Debug for SpanIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanIds")
            .field("trace_id", &self.trace_id_hex())
            .field("span_id", &self.span_id_hex())
            .field("flags", &self.flags)
            .finish()
    }
}

impl SpanIds {
    pub(crate) fn from_context(cx: &SpanContext) -> Option<Self> {
        if !cx.is_valid() {
            return None;
        }
        let trace_id = u128::from_be_bytes(cx.trace_id().to_bytes());
        let span_id = u64::from_be_bytes(cx.span_id().to_bytes());
        let mut hex = [0u8; 48];
        for (i, byte) in trace_id
            .to_be_bytes()
            .iter()
            .chain(span_id.to_be_bytes().iter())
            .enumerate()
        {
            hex[2 * i] = HEX[usize::from(byte >> 4)];
            hex[2 * i + 1] = HEX[usize::from(byte & 0xf)];
        }
        Some(Self {
            hex,
            trace_id,
            span_id,
            flags: cx.trace_flags().to_u8(),
        })
    }

    pub(crate) fn trace_id_hex(&self) -> &str {
        // UNWRAP: only ASCII hex digits are ever written into `hex`.
        std::str::from_utf8(&self.hex[..32]).unwrap_or_default()
    }

    pub(crate) fn span_id_hex(&self) -> &str {
        std::str::from_utf8(&self.hex[32..]).unwrap_or_default()
    }

    pub(crate) fn trace_id(&self) -> u128 {
        self.trace_id
    }

    pub(crate) fn span_id(&self) -> u64 {
        self.span_id
    }

    pub(crate) fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }
}

/// The ids `span` is (or will be) exported with.
///
/// The first call for a span asks `tracing-opentelemetry` for the span's
/// context, which starts the OpenTelemetry span if it has not started yet (as
/// the export would); the answer is cached in the span's extensions, so later
/// calls are one extension lookup.
///
/// `dispatch` gives the subscriber the span lives in (asked only on a cache
/// miss): inside a layer's callbacks
/// `tracing::dispatcher::get_default` answers the no-op dispatcher, so layers
/// keep the one they were registered with (`Layer::on_register_dispatch`).
pub(crate) fn span_ids<S>(
    span: &SpanRef<'_, S>,
    dispatch: impl FnOnce() -> Option<Dispatch>,
) -> Option<SpanIds>
where
    S: tracing::Subscriber + for<'a> LookupSpan<'a>,
{
    if let Some(ids) = span.extensions().get::<SpanIds>() {
        return Some(*ids);
    }
    // No extension lock may be held here: tracing-opentelemetry takes them.
    let ids = lookup(&span.id(), &dispatch()?)?;
    span.extensions_mut().insert(ids);
    Some(ids)
}

fn lookup(id: &span::Id, dispatch: &Dispatch) -> Option<SpanIds> {
    let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span = cx.span();
    SpanIds::from_context(span.span_context())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId, TraceState};

    #[test]
    fn hex_is_lowercase_and_padded() {
        let cx = SpanContext::new(
            TraceId::from(0xab),
            SpanId::from(0x0c),
            TraceFlags::SAMPLED,
            false,
            TraceState::NONE,
        );
        let ids = SpanIds::from_context(&cx).unwrap();
        assert_eq!(ids.trace_id_hex(), "000000000000000000000000000000ab");
        assert_eq!(ids.span_id_hex(), "000000000000000c");
        assert!(ids.is_sampled());
        assert_eq!(SpanIds::from_context(&SpanContext::empty_context()), None);
    }
}
