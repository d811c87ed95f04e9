//! The hot path: a bounded, lock-free queue between the service's threads
//! (ended spans, log records) and the export thread.
//!
//! A push is one [`SegQueue::push`] and two relaxed counter increments: no
//! lock, no dynamic dispatch, and one allocation per 31 items (the queue's
//! blocks), so its memory grows with what is queued and is given back as
//! it drains, rather than `OTEL_BSP_MAX_QUEUE_SIZE` slots reserved up front
//! (272 bytes a span: a queue of a million would idle at 260 MiB). When the
//! queue holds its bound the item is dropped and counted
//! ([`Counters::drop_one`]), never waited for.
//! Every `max_export_batch_size`-th push since the export thread last woke
//! tells the caller to wake it for a full batch.

use std::sync::atomic::{AtomicUsize, Ordering};

use crossbeam_queue::SegQueue;

use super::stats::Counters;

/// Items waiting for the export thread, its one consumer.
#[derive(Debug)]
pub(crate) struct Queue<T> {
    ring: SegQueue<T>,
    /// Items in `ring`, counted before a push and after a pop, so it never
    /// reads less than the ring holds: the bound is exact.
    len: AtomicUsize,
    capacity: usize,
    batch_size: usize,
    /// Items pushed since the export thread was last woken for a full batch:
    /// a counter the export thread rarely touches, rather than the ring's
    /// length, whose head and tail it writes on every pop.
    pushed: AtomicUsize,
}

impl<T> Queue<T> {
    /// A queue of at most `capacity` items, cut into batches of `batch_size` (each at
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

    /// Queues an item, or drops it and counts it in `counters` if the
    /// queue is full. True when this item completes a batch: the caller
    /// wakes the export thread.
    #[inline]
    pub(crate) fn push(&self, item: T, counters: &Counters) -> bool {
        if self.len.fetch_add(1, Ordering::Relaxed) >= self.capacity {
            self.len.fetch_sub(1, Ordering::Relaxed);
            counters.drop_one();
            return false;
        }
        self.ring.push(item);
        self.pushed.fetch_add(1, Ordering::Relaxed) + 1 == self.batch_size
    }

    /// The export thread woke for a full batch: count the next one from here.
    pub(crate) fn rearm(&self) {
        self.pushed.store(0, Ordering::Relaxed);
    }

    /// The oldest queued item. Only the export thread pops.
    pub(crate) fn pop(&self) -> Option<T> {
        let item = self.ring.pop()?;
        self.len.fetch_sub(1, Ordering::Relaxed);
        Some(item)
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
    }

    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// The most items one export takes (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`,
    /// `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`).
    pub(crate) fn batch_size(&self) -> usize {
        self.batch_size
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_drops_and_counts() {
        let queue = Queue::new(2, 10);
        let counters = Counters::default();
        for n in 0..5 {
            queue.push(n, &counters);
        }
        assert_eq!(queue.len(), 2);
        assert_eq!(counters.snapshot().dropped(), 3);
        // The first two stayed, in order; the later ones were dropped.
        let kept: Vec<u64> = std::iter::from_fn(|| queue.pop()).collect();
        assert_eq!(kept, [0, 1]);
        // Room again: nothing more is dropped.
        queue.push(5, &counters);
        assert_eq!(counters.snapshot().dropped(), 3);
        assert_eq!(queue.len(), 1);
    }

    #[test]
    fn every_full_batch_wakes_the_worker_once() {
        let queue = Queue::new(100, 3);
        let counters = Counters::default();
        let wakes: Vec<bool> = (0..5).map(|n| queue.push(n, &counters)).collect();
        assert_eq!(wakes, [false, false, true, false, false]);
        // Not woken again until the worker has answered the first wake.
        assert!(!queue.push(5, &counters));
        queue.rearm();
        let wakes: Vec<bool> = (6..9).map(|n| queue.push(n, &counters)).collect();
        assert_eq!(wakes, [false, false, true]);
        assert_eq!(counters.snapshot().dropped(), 0);
    }

    #[test]
    fn a_dropped_item_does_not_count_towards_a_batch() {
        let queue = Queue::new(1, 2);
        let counters = Counters::default();
        assert!(!queue.push(0, &counters));
        // Full: dropped, and no wake for a batch that is not there.
        assert!(!queue.push(1, &counters));
        assert_eq!(counters.snapshot().dropped(), 1);
    }

    #[test]
    fn sizes_are_at_least_one() {
        let queue = Queue::<u64>::new(0, 0);
        assert_eq!((queue.capacity(), queue.batch_size()), (1, 1));
        assert!(queue.push(0, &Counters::default()));
    }
}
