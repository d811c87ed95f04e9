//! Exemplars: the latest sample recorded inside a sampled span, per counter and
//! per histogram bucket.

use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use opentelemetry::trace::TraceContextExt;

/// Which samples may carry an exemplar (`OTEL_METRICS_EXEMPLAR_FILTER`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExemplarFilter {
    /// Samples recorded inside a sampled span. The default.
    #[default]
    TraceBased,
    /// Samples recorded inside any span, sampled or not.
    AlwaysOn,
    /// None; no span lookup at all.
    AlwaysOff,
}

impl ExemplarFilter {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_lowercase().as_str() {
            "trace_based" => Self::TraceBased,
            "always_on" => Self::AlwaysOn,
            "always_off" => Self::AlwaysOff,
            _ => return None,
        })
    }

    /// The current span's ids, if this filter lets a sample carry them.
    ///
    /// Reads the current OpenTelemetry context, which `tracing-opentelemetry`
    /// keeps in step with the entered `tracing` span (context activation, on by
    /// default): a thread-local read, no registry lookup.
    #[inline]
    pub(crate) fn current(self) -> Option<(u128, u64)> {
        if self == Self::AlwaysOff {
            return None;
        }
        opentelemetry::Context::map_current(|cx| {
            let span = cx.span();
            let sc = span.span_context();
            (sc.is_valid() && (self == Self::AlwaysOn || sc.is_sampled())).then(|| {
                (
                    u128::from_be_bytes(sc.trace_id().to_bytes()),
                    u64::from_be_bytes(sc.span_id().to_bytes()),
                )
            })
        })
    }
}

/// One exemplar: ids, the value, and when (seconds since the epoch).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Exemplar {
    pub(crate) trace_id: u128,
    pub(crate) span_id: u64,
    pub(crate) value: f64,
    pub(crate) timestamp: f64,
}

/// The latest exemplar; a writer that finds the slot busy skips (another
/// thread is writing one just as recent).
#[derive(Debug, Default)]
pub(crate) struct Slot(Mutex<Option<Exemplar>>);

impl Slot {
    #[inline]
    pub(crate) fn offer(&self, ids: (u128, u64), value: f64) {
        if let Ok(mut slot) = self.0.try_lock() {
            let timestamp = now_seconds();
            *slot = Some(Exemplar {
                trace_id: ids.0,
                span_id: ids.1,
                value,
                timestamp,
            });
        }
    }

    pub(crate) fn get(&self) -> Option<Exemplar> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Seconds since the epoch.
fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offered_exemplar_keeps_ids_value_and_time() {
        let slot = Slot::default();
        assert_eq!(slot.get(), None);
        let before = now_seconds();
        slot.offer((7, 9), 0.25);
        let e = slot.get().expect("an exemplar");
        assert_eq!((e.trace_id, e.span_id, e.value), (7, 9, 0.25));
        assert!(
            (e.timestamp - before).abs() < 0.05,
            "{} vs {before}",
            e.timestamp
        );
    }
}
