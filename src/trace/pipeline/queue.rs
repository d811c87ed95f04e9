//! The hot path: a bounded, lock-free queue of ended spans between the
//! tracers and the export thread.
//!
//! A push is one [`SegQueue::push`] and two relaxed counter increments: no
//! lock, no dynamic dispatch, and one allocation per 31 spans (the queue's
//! blocks), so its memory grows with what is queued and is given back as
//! it drains, rather than `OTEL_BSP_MAX_QUEUE_SIZE` slots reserved up front
//! (272 bytes a slot: a queue of a million would idle at 260 MiB). When the
//! queue holds its bound the span is dropped and counted
//! ([`Counters::drop_one`]), never waited for.
//! Every `max_export_batch_size`-th push since the export thread last woke
//! tells the caller to wake it for a full batch.

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_queue::SegQueue;

use super::record::Finished;
use super::stats::Counters;

/// Ended spans waiting for the export thread, its one consumer.
#[derive(Debug)]
pub(crate) struct Queue {
    ring: SegQueue<Finished>,
    /// Spans in `ring`, counted before a push and after a pop, so it never
    /// reads less than the ring holds: the bound is exact.
    len: AtomicUsize,
    capacity: usize,
    batch_size: usize,
    /// Spans pushed since the export thread was last woken for a full batch:
    /// a counter the export thread rarely touches, rather than the ring's
    /// length, whose head and tail it writes on every pop.
    pushed: AtomicUsize,
}

impl Queue {
    /// A ring of `capacity` spans, cut into batches of `batch_size` (each at
    /// least 1).
    pub(crate) fn new(capacity: usize, batch_size: usize) -> Self {
        Self {
            ring: SegQueue::new(),
            len: AtomicUsize::new(0),
            capacity: capacity.max(1),
            batch_size: batch_size.max(1),
            pushed: AtomicUsize::new(0),
        }
    }

    /// Queues an ended span, or drops it and counts it in `counters` if the
    /// ring is full. True when this span completes a batch: the caller wakes
    /// the export thread.
    #[inline]
    pub(crate) fn push(&self, span: Finished, counters: &Counters) -> bool {
        if self.len.fetch_add(1, Ordering::Relaxed) >= self.capacity {
            self.len.fetch_sub(1, Ordering::Relaxed);
            counters.drop_one();
            return false;
        }
        self.ring.push(span);
        self.pushed.fetch_add(1, Ordering::Relaxed) + 1 == self.batch_size
    }

    /// The export thread woke for a full batch: count the next one from here.
    pub(crate) fn rearm(&self) {
        self.pushed.store(0, Ordering::Relaxed);
    }

    /// The oldest queued span. Only the export thread pops.
    pub(crate) fn pop(&self) -> Option<Finished> {
        let span = self.ring.pop()?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(span)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most spans one export takes (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::super::record::number_of;
    use super::super::scopes::Scopes;
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = Queue::new(2, 10);
        let counters = Counters::default();
        for n in 0..5 {
            queue.push(Finished::numbered(n), &counters);
        }
        assert_eq!(queue.len(), 2);
        assert_eq!(counters.snapshot().dropped(), 3);
        // The first two stayed, in order; the later ones were dropped.
        let kept: Vec<u64> = std::iter::from_fn(|| queue.pop())
            .map(|span| number_of(&span.into_span_data(&mut Scopes::default(), false)))
            .collect();
        assert_eq!(kept, [0, 1]);
        // Room again: nothing more is dropped.
        queue.push(Finished::numbered(5), &counters);
        assert_eq!(counters.snapshot().dropped(), 3);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn every_full_batch_wakes_the_worker_once() {
        let queue = Queue::new(100, 3);
        let counters = Counters::default();
        let wakes: Vec<bool> = (0..5)
            .map(|n| queue.push(Finished::numbered(n), &counters))
            .collect();
        assert_eq!(wakes, [false, false, true, false, false]);
        // Not woken again until the worker has answered the first wake.
        assert!(!queue.push(Finished::numbered(5), &counters));
        queue.rearm();
        let wakes: Vec<bool> = (6..9)
            .map(|n| queue.push(Finished::numbered(n), &counters))
            .collect();
        assert_eq!(wakes, [false, false, true]);
        assert_eq!(counters.snapshot().dropped(), 0);
    }

    #[test]
    fn a_dropped_span_does_not_count_towards_a_batch() {
        let queue = Queue::new(1, 2);
        let counters = Counters::default();
        assert!(!queue.push(Finished::numbered(0), &counters));
        // Full: dropped, and no wake for a batch that is not there.
        assert!(!queue.push(Finished::numbered(1), &counters));
        assert_eq!(counters.snapshot().dropped(), 1);
    }

    #[test]
    fn sizes_are_at_least_one() {
        let queue = Queue::new(0, 0);
        assert_eq!((queue.capacity(), queue.batch_size()), (1, 1));
        assert!(queue.push(Finished::numbered(0), &Counters::default()));
    }
}
