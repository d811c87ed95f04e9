//! The ids of the span an event or a metric sample happens in, exactly as the
//! span is exported, computed once per span and cached in its extensions.

use std::cell::RefCell;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use opentelemetry::trace::{SpanContext, SpanId, TraceContextExt, TraceFlags, TraceId};
use tracing::{span, Dispatch};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

/// What tracelink's OpenTelemetry layer answers to `Dispatch::downcast_ref`:
/// the log layer registering with a subscriber asks for it, to refuse a
/// subscriber whose lines could carry no ids.
#[derive(Debug)]
pub(crate) struct OtelLayerMark;

/// The one mark every OpenTelemetry layer points to.
pub(crate) static OTEL_LAYER_MARK: OtelLayerMark = OtelLayerMark;

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
        Self::new(cx.trace_id(), cx.span_id(), cx.trace_flags())
    }

    /// `None` for an invalid (all-zero) trace or span id.
    fn new(trace_id: TraceId, span_id: SpanId, flags: TraceFlags) -> Option<Self> {
        if trace_id == TraceId::INVALID || span_id == SpanId::INVALID {
            return None;
        }
        let trace_id = u128::from_be_bytes(trace_id.to_bytes());
        let span_id = u64::from_be_bytes(span_id.to_bytes());
        let mut hex = [0u8; 48];
        let words = [
            (trace_id >> 96) as u32,
            (trace_id >> 64) as u32,
            (trace_id >> 32) as u32,
            trace_id as u32,
            (span_id >> 32) as u32,
            span_id as u32,
        ];
        for (chunk, word) in hex.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&crate::encode::hex::word(word));
        }
        Some(Self {
            hex,
            trace_id,
            span_id,
            flags: flags.to_u8(),
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

    /// The W3C trace flags byte: `1` sampled, `2` random trace id.
    pub(crate) fn flags(&self) -> u8 {
        self.flags
    }

    pub(crate) fn is_sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// The flags as two lowercase hex digits, as in a `traceparent`.
    pub(crate) fn flags_hex(&self) -> &'static str {
        crate::encode::hex::byte(self.flags)
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

/// A span entered on this thread, with the ids its OpenTelemetry context had
/// right after the OpenTelemetry layer made it current (hex is worked out
/// only when a line needs it).
struct Entered {
    stack: StackKey,
    id: u64,
    trace_id: TraceId,
    span_id: SpanId,
    flags: TraceFlags,
}

thread_local! {
    /// The spans entered on this thread and not yet exited, innermost last.
    static ENTERED: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
}

/// The key of one subscriber, under which its OpenTelemetry layer notes the
/// spans it enters: span ids are only unique within one subscriber.
///
/// The layer makes one when it is added to a subscriber
/// (`Layer::on_layer`) and answers it to `Dispatch::downcast_ref`, which is
/// how the JSON layer of the same subscriber finds it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct StackKey(u64);

impl StackKey {
    pub(crate) fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        StackKey(NEXT.fetch_add(1, Ordering::Relaxed))
    }

    pub(crate) fn into_u64(self) -> u64 {
        self.0
    }
}

/// Notes that `id` (of the stack `stack`) was entered, its OpenTelemetry
/// context being current now.
///
/// The OpenTelemetry layer calls this right after `tracing-opentelemetry`
/// attached the span's context, so the ids are exactly the exported span's,
/// with no extension lookup and no lock; a log line in the innermost entered
/// span (nearly every line) reads them with [`innermost`].
pub(crate) fn entered(stack: StackKey, id: &span::Id) {
    let (trace_id, span_id, flags) = opentelemetry::Context::map_current(|cx| {
        let span = cx.span();
        let sc = span.span_context();
        (sc.trace_id(), sc.span_id(), sc.trace_flags())
    });
    let id = id.into_u64();
    // `try_with`: during a thread's teardown (a span entered by another
    // thread-local's destructor) the stack is gone; lines then look ids up.
    let _ = ENTERED.try_with(|entered| {
        entered.borrow_mut().push(Entered {
            stack,
            id,
            trace_id,
            span_id,
            flags,
        });
    });
}

/// Notes that `id` was exited (innermost first, but any order is allowed).
pub(crate) fn exited(stack: StackKey, id: &span::Id) {
    let id = id.into_u64();
    let _ = ENTERED.try_with(|entered| {
        let mut entered = entered.borrow_mut();
        if let Some(at) = entered.iter().rposition(|e| e.id == id && e.stack == stack) {
            entered.remove(at);
        }
    });
}

/// The ids of `id` if it is the innermost span entered on this thread
/// (`Some(None)` if its context is invalid); `None` if it is not the
/// innermost one (then ask [`span_ids`]).
pub(crate) fn innermost(stack: StackKey, id: &span::Id) -> Option<Option<SpanIds>> {
    let id = id.into_u64();
    ENTERED
        .try_with(|entered| {
            entered
                .borrow()
                .last()
                .filter(|e| e.id == id && e.stack == stack)
                .map(|e| SpanIds::new(e.trace_id, e.span_id, e.flags))
        })
        .ok()
        .flatten()
}

fn lookup(id: &span::Id, dispatch: &Dispatch) -> Option<SpanIds> {
    let cx = tracing_opentelemetry::get_otel_context(id, dispatch)?;
    let span = cx.span();
    SpanIds::from_context(span.span_context())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::TraceState;

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
