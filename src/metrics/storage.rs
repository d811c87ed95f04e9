//! Metric cells: atomics for values, a slot for each exemplar.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use metrics::{CounterFn, GaugeFn, HistogramFn, Key};

use super::buckets::Buckets;
use super::exemplar::{ExemplarFilter, Slot};
use super::names::Kind;

/// A series' name and labels, sanitized and escaped once, when the series is
/// first recorded: a scrape only copies them.
#[derive(Debug)]
pub(crate) struct Series {
    /// The family name (a counter's without `_total`).
    pub(crate) family: Arc<str>,
    /// The metric name as recorded, to find its description.
    pub(crate) name: Arc<str>,
    /// `k="v",k2="v2"`, escaped, without braces.
    pub(crate) labels: Box<str>,
}

impl Series {
    fn of(key: &Key, kind: Kind) -> Self {
        let (family, labels) = super::names::name_and_labels(key, kind);
        let mut text = String::new();
        super::names::write_labels(&mut text, &labels);
        Self {
            family: Arc::from(family),
            name: Arc::from(key.name()),
            labels: text.into_boxed_str(),
        }
    }
}

/// A counter and its latest exemplar.
#[derive(Debug)]
pub(crate) struct Counter {
    pub(crate) series: Series,
    value: AtomicU64,
    exemplar: Slot,
    filter: ExemplarFilter,
}

impl Counter {
    pub(crate) fn value(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }

    pub(crate) fn exemplar(&self) -> Option<super::exemplar::Exemplar> {
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

    fn absolute(&self, value: u64) {
        self.value.fetch_max(value, Ordering::Relaxed);
    }
}

/// A gauge, as the bits of an `f64`.
#[derive(Debug)]
pub(crate) struct Gauge {
    pub(crate) series: Series,
    bits: AtomicU64,
}

impl Gauge {
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
/// `+Inf`), the sum and the count, and an exemplar per bucket. Its size is
/// fixed when it is made: no upkeep, no growth.
#[derive(Debug)]
pub(crate) struct Histogram {
    pub(crate) series: Series,
    bounds: Arc<[f64]>,
    counts: Box<[AtomicU64]>,
    exemplars: Box<[Slot]>,
    sum: AtomicU64,
    count: AtomicU64,
    filter: ExemplarFilter,
}

impl Histogram {
    fn new(series: Series, bounds: Arc<[f64]>, filter: ExemplarFilter) -> Self {
        let n = bounds.len() + 1;
        Self {
            series,
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            exemplars: (0..n).map(|_| Slot::default()).collect(),
            bounds,
            sum: AtomicU64::new(0f64.to_bits()),
            count: AtomicU64::new(0),
            filter,
        }
    }

    /// Calls `f(le, cumulative count, exemplar)` for each bucket, `+Inf` last.
    pub(crate) fn buckets(&self, mut f: impl FnMut(f64, u64, Option<super::exemplar::Exemplar>)) {
        let mut cumulative = 0;
        for i in 0..self.counts.len() {
            cumulative += self.counts[i].load(Ordering::Relaxed);
            let le = self.bounds.get(i).copied().unwrap_or(f64::INFINITY);
            f(le, cumulative, self.exemplars[i].get());
        }
    }

    pub(crate) fn sum(&self) -> f64 {
        f64::from_bits(self.sum.load(Ordering::Relaxed))
    }

    pub(crate) fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl HistogramFn for Histogram {
    fn record(&self, value: f64) {
        self.record_many(value, 1);
    }

    fn record_many(&self, value: f64, count: usize) {
        if value.is_nan() {
            return;
        }
        // The first bucket whose upper bound is >= value.
        let i = self.bounds.partition_point(|&le| le < value);
        self.counts[i].fetch_add(count as u64, Ordering::Relaxed);
        self.count.fetch_add(count as u64, Ordering::Relaxed);
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

/// Makes cells for `metrics_util::registry::Registry`.
#[derive(Debug)]
pub(crate) struct Storage {
    pub(crate) filter: ExemplarFilter,
    pub(crate) buckets: Buckets,
}

impl metrics_util::registry::Storage<Key> for Storage {
    type Counter = Arc<Counter>;
    type Gauge = Arc<Gauge>;
    type Histogram = Arc<Histogram>;

    fn counter(&self, key: &Key) -> Arc<Counter> {
        Arc::new(Counter {
            series: Series::of(key, Kind::Counter),
            value: AtomicU64::new(0),
            exemplar: Slot::default(),
            filter: self.filter,
        })
    }

    fn gauge(&self, key: &Key) -> Arc<Gauge> {
        Arc::new(Gauge {
            series: Series::of(key, Kind::Gauge),
            bits: AtomicU64::new(0f64.to_bits()),
        })
    }

    fn histogram(&self, key: &Key) -> Arc<Histogram> {
        Arc::new(Histogram::new(
            Series::of(key, Kind::Histogram),
            self.buckets.for_name(key.name()),
            self.filter,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fall_in_the_first_bucket_that_holds_them() {
        let key = Key::from_name("h");
        let h = Histogram::new(
            Series::of(&key, Kind::Histogram),
            Arc::from([0.1, 1.0]),
            ExemplarFilter::AlwaysOff,
        );
        for v in [0.05, 0.1, 0.5, 1.0, 7.0, f64::INFINITY] {
            h.record(v);
        }
        h.record(f64::NAN);
        let mut counts = Vec::new();
        h.buckets(|le, count, _| counts.push((le, count)));
        assert_eq!(counts, [(0.1, 2), (1.0, 4), (f64::INFINITY, 6)]);
        assert_eq!(h.count(), 6);
    }

    #[test]
    fn gauges_add_and_set() {
        let g = Gauge {
            series: Series::of(&Key::from_name("g"), Kind::Gauge),
            bits: AtomicU64::new(0),
        };
        g.increment(2.5);
        g.decrement(1.0);
        assert_eq!(g.value(), 1.5);
        g.set(-3.0);
        assert_eq!(g.value(), -3.0);
    }
}
