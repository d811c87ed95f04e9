//! Metric cells: atomics for values, a slot for each exemplar. Recording on
//! a series that exists is only this: no lock (the exemplar slot's
//! `try_lock` skips when busy), no allocation.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use metrics::{CounterFn, GaugeFn, HistogramFn, Key};

use super::exemplar::{Exemplar, ExemplarFilter, Slot};
use super::families::{Families, Found};
use super::names::Labels;

/// A counter and its latest exemplar.
#[derive(Debug)]
pub(crate) struct Counter {
    /// `k="v",k2="v2"`, escaped, sorted, without braces (`names::labels`),
    /// and as recorded.
    pub(crate) labels: Labels,
    value: AtomicU64,
    exemplar: Slot,
    filter: ExemplarFilter,
}

impl Counter {
    pub(crate) fn new(labels: Labels, filter: ExemplarFilter) -> Self {
        Self {
            labels,
            value: AtomicU64::new(0),
            exemplar: Slot::default(),
            filter,
        }
    }

    pub(crate) fn value(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.get()
    }
}

impl CounterFn for Counter {
    fn increment(&self, value: u64) {
        self.value.fetch_add(value, Ordering::Relaxed);
        if let Some(ids) = self.filter.current() {
            self.exemplar.offer(ids, value as f64);
        }
    }

    /// A counter never goes down: a lower value is ignored.
    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
    }
}

/// A gauge, as the bits of an `f64`; NaN and the infinities are values like
/// any other.
#[derive(Debug)]
pub(crate) struct Gauge {
    pub(crate) labels: Labels,
    bits: AtomicU64,
}

impl Gauge {
    pub(crate) fn new(labels: Labels) -> Self {
        Self {
            labels,
            bits: AtomicU64::new(0f64.to_bits()),
        }
    }

    pub(crate) fn value(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }

    fn update(&self, f: impl Fn(f64) -> f64) {
        let _ = self
            .bits
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |bits| {
                Some(f(f64::from_bits(bits)).to_bits())
            });
    }
}

impl GaugeFn for Gauge {
    fn increment(&self, value: f64) {
        self.update(|v| v + value);
    }

    fn decrement(&self, value: f64) {
        self.update(|v| v - value);
    }

    fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }
}

/// A bucketed histogram: a count per bucket (not cumulative; the last is
/// `+Inf`), the sum, and an exemplar per bucket. Its size is fixed when it is
/// made: no upkeep, no growth.
///
/// What OpenMetrics requires of the observations: NaN is in no bucket, so it
/// is dropped (and counted); `+Inf` is in the `+Inf` bucket and makes the sum
/// `+Inf`; a negative value (`-Inf` too) is in the first bucket, and from then
/// on the series writes neither `_sum` (it would no longer be a counter) nor
/// `_count` (which OpenMetrics allows only with `_sum`): the `+Inf` bucket
/// still counts every observation. Negative bounds likewise mean no `_sum`.
#[derive(Debug)]
pub(crate) struct Histogram {
    pub(crate) labels: Labels,
    bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    exemplars: Box<[Slot]>,
    sum: AtomicU64,
    /// Set by the first negative observation; with negative bounds, from the start.
    no_sum: AtomicBool,
    nan: AtomicU64,
    filter: ExemplarFilter,
}

impl Histogram {
    pub(crate) fn new(labels: Labels, bounds: Arc<[f64]>, filter: ExemplarFilter) -> Self {
        let n = bounds.len() + 1;
        Self {
            labels,
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            exemplars: (0..n).map(|_| Slot::default()).collect(),
            no_sum: AtomicBool::new(bounds.first().is_some_and(|&b| b < 0.0)),
            bounds,
            sum: AtomicU64::new(0f64.to_bits()),
            nan: AtomicU64::new(0),
            filter,
        }
    }

    /// Calls `f(le, cumulative count, exemplar)` for each bucket, `+Inf`
    /// last, and returns the total: the count, consistent with the buckets
    /// even while samples are being recorded.
    pub(crate) fn buckets(&self, mut f: impl FnMut(f64, u64, Option<Exemplar>)) -> u64 {
        let mut cumulative = 0u64;
        for (i, count) in self.counts.iter().enumerate() {
            cumulative = cumulative.wrapping_add(count.load(Ordering::Relaxed));
            let le = self.bounds.get(i).copied().unwrap_or(f64::INFINITY);
            f(le, cumulative, self.exemplars[i].get());
        }
        cumulative
    }

    /// The sum of the observations, if OpenMetrics lets this series write it.
    pub(crate) fn sum(&self) -> Option<f64> {
        (!self.no_sum.load(Ordering::Relaxed))
            .then(|| f64::from_bits(self.sum.load(Ordering::Relaxed)))
    }

    /// NaN observations dropped.
    pub(crate) fn nan_dropped(&self) -> u64 {
        self.nan.load(Ordering::Relaxed)
    }
}

impl HistogramFn for Histogram {
    fn record(&self, value: f64) {
        self.record_many(value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        // One comparison for both rare cases: NaN and negative values.
        #[allow(clippy::neg_cmp_op_on_partial_ord)]
        if !(value >= 0.0) {
            if value.is_nan() {
                self.nan.fetch_add(count as u64, Ordering::Relaxed);
                return;
            }
            self.no_sum.store(true, Ordering::Relaxed);
        }
        // The first bucket whose upper bound is >= value.
        let i = self.bounds.partition_point(|&le| le < value);
        self.counts[i].fetch_add(count as u64, Ordering::Relaxed);
        let _ = self
            .sum
            .fetch_update(Ordering::AcqRel, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + value * count as f64).to_bits())
            });
        if let Some(ids) = self.filter.current() {
            self.exemplars[i].offer(ids, value);
        }
    }
}

/// Makes cells for `metrics_util::registry::Registry`, which caches them by
/// key for the hot path: it asks only for keys that [`Families`] has just
/// given a series of their own, so this finds that series.
#[derive(Debug)]
pub(crate) struct Storage {
    pub(crate) families: Arc<Families>,
}

impl metrics_util::registry::Storage<Key> for Storage {
    type Counter = Arc<Counter>;
    type Gauge = Arc<Gauge>;
    type Histogram = Arc<Histogram>;

    fn counter(&self, key: &Key) -> Arc<Counter> {
        match self.families.counter(key, false) {
            Found::Series(cell) | Found::Uncached(cell) | Found::Overflow(cell) => cell,
            Found::Refused => Arc::new(Counter::new(Labels::none(), ExemplarFilter::AlwaysOff)),
        }
    }

    fn gauge(&self, key: &Key) -> Arc<Gauge> {
        match self.families.gauge(key, false) {
            Found::Series(cell) | Found::Uncached(cell) | Found::Overflow(cell) => cell,
            Found::Refused => Arc::new(Gauge::new(Labels::none())),
        }
    }

    fn histogram(&self, key: &Key) -> Arc<Histogram> {
        match self.families.histogram(key, false) {
            Found::Series(cell) | Found::Uncached(cell) | Found::Overflow(cell) => cell,
            Found::Refused => Arc::new(Histogram::new(
                Labels::none(),
                Arc::from([]),
                ExemplarFilter::AlwaysOff,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_the_first_bucket_that_holds_them() {
        let h = Histogram::new(
            Labels::none(),
            Arc::from([0.1, 1.0]),
            ExemplarFilter::AlwaysOff,
        );
        for v in [0.05, 0.1, 0.5, 1.0, 7.0, f64::INFINITY] {
            h.record(v);
        }
        h.record(f64::NAN);
        let mut counts = Vec::new();
        let total = h.buckets(|le, count, _| counts.push((le, count)));
        assert_eq!(counts, [(0.1, 2), (1.0, 4), (f64::INFINITY, 6)]);
        assert_eq!(total, 6);
        assert_eq!(h.sum(), Some(f64::INFINITY));
        assert_eq!(h.nan_dropped(), 1);
    }

    #[test]
    fn a_negative_observation_ends_the_sum() {
        let h = Histogram::new(
            Labels::none(),
            Arc::from([0.1, 1.0]),
            ExemplarFilter::AlwaysOff,
        );
        h.record(0.5);
        assert_eq!(h.sum(), Some(0.5));
        h.record(-0.0);
        assert_eq!(h.sum(), Some(0.5), "-0.0 is not negative");
        h.record(-2.0);
        assert_eq!(h.sum(), None);
        h.record(f64::NEG_INFINITY);
        let mut counts = Vec::new();
        h.buckets(|le, count, _| counts.push((le, count)));
        assert_eq!(counts, [(0.1, 3), (1.0, 4), (f64::INFINITY, 4)]);
        let negative_bounds = Histogram::new(
            Labels::none(),
            Arc::from([-1.0, 1.0]),
            ExemplarFilter::AlwaysOff,
        );
        assert_eq!(negative_bounds.sum(), None);
    }

    #[test]
    fn counters_never_go_down() {
        let c = Counter::new(Labels::none(), ExemplarFilter::AlwaysOff);
        c.absolute(10);
        c.absolute(3);
        c.increment(1);
        assert_eq!(c.value(), 11);
    }

    #[test]
    fn gauges_add_and_set() {
        let g = Gauge::new(Labels::none());
        g.increment(2.5);
        g.decrement(1.0);
        assert_eq!(g.value(), 1.5);
        g.set(-3.0);
        assert_eq!(g.value(), -3.0);
    }
}
