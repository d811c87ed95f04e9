//! What happened to what a pipeline exports (sampled spans, log records):
//! the public [`ExportStats`] and the [`Counters`] behind it.
//!
//! Every item pushed while the pipeline runs ends in exactly one of three
//! counts, `exported`, `dropped` or `failed`; while it waits it is either in
//! the queue or [`in flight`](Counters::in_flight) on the export thread. The
//! service's threads add to `dropped` (queue full, or after shutdown), the
//! export thread to the others.

use std::sync::atomic::{AtomicU64, Ordering};

/// Counts of what happened to one signal's exports (sampled spans, or log
/// records sent over OTLP), readable at any time from
/// [`Guard::stats`](crate::Guard::stats): every item is counted once, as
/// exported, dropped or failed.
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let parts = tracelink::builder()
///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
///     .build()?;
/// let stats = parts.guard().stats().spans();
/// assert_eq!(stats.dropped(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub(crate) exported: u64,
    pub(crate) dropped: u64,
    pub(crate) failed: u64,
}

impl ExportStats {
    /// Items (spans, log records) the exporters accepted.
    pub fn exported(&self) -> u64 {
        self.exported
    }

    /// Items dropped because the queue was full (the exporter was slower than
    /// the service) or because they came after shutdown.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Items in batches the exporter failed on or timed out with, after retries.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Every item that did not reach the exporter: dropped plus failed.
    pub fn lost(&self) -> u64 {
        self.dropped + self.failed
    }
}

/// The live counts, shared by the tracers, the guard and the export thread.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    exported: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    /// Items taken off the queue and not yet exported or failed.
    in_flight: AtomicU64,
}

impl Counters {
    /// One item lost before it reached the queue: the queue was full, or the
    /// pipeline had shut down.
    #[inline]
    pub(crate) fn drop_one(&self) {
        self.dropped.fetch_add(1, Ordering::Relaxed);
    }

    /// `count` items are about to leave the queue for a batch.
    pub(crate) fn take(&self, count: u64) {
        self.in_flight.fetch_add(count, Ordering::AcqRel);
    }

    /// `count` items announced by [`take`](Self::take) were not there after all.
    pub(crate) fn untake(&self, count: u64) {
        self.in_flight.fetch_sub(count, Ordering::AcqRel);
    }

    /// A batch of `count` items in flight is done with: exported if `ok`,
    /// failed otherwise.
    pub(crate) fn settle(&self, count: u64, ok: bool) {
        if ok {
            self.exported.fetch_add(count, Ordering::AcqRel);
        } else {
            self.failed.fetch_add(count, Ordering::AcqRel);
        }
        self.in_flight.fetch_sub(count, Ordering::AcqRel);
    }

    /// Items in failed batches so far (read before and after a shutdown to
    /// tell whether it lost any).
    pub(crate) fn failed(&self) -> u64 {
        self.failed.load(Ordering::Acquire)
    }

    /// Items taken off the queue and not yet exported or failed.
    pub(crate) fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Acquire)
    }

    pub(crate) fn snapshot(&self) -> ExportStats {
        ExportStats {
            exported: self.exported.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_in_flight_settles_as_exported_or_failed() {
        let counters = Counters::default();
        counters.take(5);
        counters.untake(1);
        assert_eq!(counters.in_flight(), 4);
        counters.settle(3, true);
        assert_eq!(counters.in_flight(), 1);
        counters.settle(1, false);
        counters.drop_one();
        counters.drop_one();
        assert_eq!(counters.in_flight(), 0);
        assert_eq!(counters.failed(), 1);
        assert_eq!(
            counters.snapshot(),
            ExportStats {
                exported: 3,
                dropped: 2,
                failed: 1,
            }
        );
    }

    #[test]
    fn lost_is_dropped_plus_failed() {
        let stats = ExportStats {
            exported: 10,
            dropped: 3,
            failed: 4,
        };
        assert_eq!(stats.lost(), 7);
        assert_eq!(
            (stats.exported(), stats.dropped(), stats.failed()),
            (10, 3, 4)
        );
        assert_eq!(ExportStats::default().lost(), 0);
    }
}
