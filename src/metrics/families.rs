//! Which series exist: every metric family by its written name, the sample
//! names each one writes, and each family's series by their written labels.
//! This is where a scrape is kept valid, once, when a series is first
//! recorded:
//!
//! - a metric whose name is empty (`counter!("")`, `counter!("_total")`), or
//!   whose family would write a sample name that another family writes
//!   already (counter `x` and gauge `x_total`, histogram `y` and counter
//!   `y_count`, counter `z` and gauge `z`), is refused: the first one
//!   recorded keeps the name, the other is warned about once and its samples
//!   go nowhere, counted in `tracelink_metrics_refused_total`;
//! - two keys that write the same series (`a.b` and `a_b`) share one cell;
//! - past the cardinality limit, a new label set of a family goes to the
//!   family's one overflow series, `{otel_metric_overflow="true"}` (the
//!   OpenTelemetry SDK's cardinality limit), warned about once per family and
//!   counted in `tracelink_metrics_overflow_total`; nothing is kept for it, so
//!   memory stays at the limit's series.
//!
//! Recording on a series that exists never comes here: the registry in
//! `mod.rs` caches each key's cell, and asks only on a key's first use (and,
//! for keys it may not cache, on every use: an overflowed or refused label
//! set takes this slower path, a mutex and the label sanitizing, each time).

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use metrics::Key;

use super::buckets::Buckets;
use super::exemplar::ExemplarFilter;
use super::names::{self, Kind, OVERFLOW_LABELS};
use super::storage::{Counter, Gauge, Histogram};

/// The default cardinality limit, the OpenTelemetry SDK's: series per metric
/// before new label sets go to its overflow series
/// ([`TRACELINK_METRICS_CARDINALITY_LIMIT`](crate::env::TRACELINK_METRICS_CARDINALITY_LIMIT)).
pub const DEFAULT_CARDINALITY_LIMIT: usize =
    crate::env::TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT;

/// The highest cardinality limit tracelink takes (a larger one is lowered to
/// it): at about 600 bytes a series, 100,000 series of one metric are some
/// 60 MiB.
pub const MAX_CARDINALITY_LIMIT: usize = 100_000;

/// tracelink's own counters, reserved: a metric of yours that would write
/// their names is refused like any other clash.
pub(crate) const OVERFLOW_FAMILY: &str = "tracelink_metrics_overflow";
pub(crate) const REFUSED_FAMILY: &str = "tracelink_metrics_refused";
pub(crate) const NAN_FAMILY: &str = "tracelink_metrics_nan_dropped";
/// The resource as an info metric, by the OpenTelemetry–Prometheus
/// compatibility specification.
pub(crate) const TARGET_INFO: &str = "target_info";
const OWN_FAMILIES: [&str; 3] = [NAN_FAMILY, OVERFLOW_FAMILY, REFUSED_FAMILY];

/// One series' cell.
#[derive(Clone, Debug)]
pub(crate) enum Cell {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
}

impl Cell {
    pub(crate) fn labels(&self) -> &str {
        match self {
            Cell::Counter(c) => &c.labels,
            Cell::Gauge(g) => &g.labels,
            Cell::Histogram(h) => &h.labels,
        }
    }
}

/// A cell in a family's set, found by its labels (no second copy of them).
#[derive(Debug)]
struct ByLabels(Cell);

impl Borrow<str> for ByLabels {
    fn borrow(&self) -> &str {
        self.0.labels()
    }
}

impl PartialEq for ByLabels {
    fn eq(&self, other: &Self) -> bool {
        self.0.labels() == other.0.labels()
    }
}

impl Eq for ByLabels {}

impl PartialOrd for ByLabels {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByLabels {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.labels().cmp(other.0.labels())
    }
}

/// What a key was given.
#[derive(Debug)]
pub(crate) enum Found<C> {
    /// Its own series: the registry may cache the key.
    Series(C),
    /// Its own series, but the family caches as many keys as it may (two
    /// spellings of one label set are two keys): found again at each use.
    Uncached(C),
    /// The family's overflow series: found again at each use.
    Overflow(C),
    /// Nothing: its samples are dropped.
    Refused,
}

/// Why a metric is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Refusal {
    EmptyName,
    NameClash,
}

impl Refusal {
    pub(crate) fn label(self) -> &'static str {
        match self {
            Refusal::EmptyName => "empty_name",
            Refusal::NameClash => "name_clash",
        }
    }
}

/// Who writes a sample name.
#[derive(Clone, Copy, Debug)]
enum Owner {
    Family(usize),
    Tracelink(&'static str),
}

#[derive(Debug)]
struct Family {
    name: Arc<str>,
    kind: Kind,
    /// The name first recorded, to find its description.
    recorded: Arc<str>,
    /// A histogram family's bounds, the same for all its series.
    bounds: Arc<[f64]>,
    series: BTreeSet<ByLabels>,
    /// Series with a label set of their own (the overflow series is not one).
    own: usize,
    /// Keys given a series the registry may cache.
    cached_keys: usize,
    overflow: Option<Cell>,
    /// New label sets sent to the overflow series.
    folded: u64,
}

/// A refused metric, as counted.
#[derive(Debug)]
struct Refused {
    reason: Refusal,
    count: u64,
}

#[derive(Debug, Default)]
struct State {
    by_name: BTreeMap<Arc<str>, usize>,
    families: Vec<Family>,
    /// Every sample name written, by whom.
    claims: HashMap<String, Owner>,
    /// Refused metrics by (name as recorded, shortened; kind), at most the
    /// limit of them; `refused_other` counts the rest.
    refused: BTreeMap<(String, Kind), Refused>,
    refused_other: u64,
}

/// Every family and series of a recorder.
pub(crate) struct Families {
    state: Mutex<State>,
    limit: usize,
    filter: ExemplarFilter,
    buckets: Buckets,
}

impl fmt::Debug for Families {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Families")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

/// A copy of the families, taken under the lock and written without it.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    /// Sorted by name; each family's cells are `cells[range]`, sorted by labels.
    pub(crate) families: Vec<FamilySnapshot>,
    pub(crate) cells: Vec<Cell>,
    /// (family, new label sets folded), for families that overflowed.
    pub(crate) folded: Vec<(Arc<str>, u64)>,
    /// (name as recorded, kind, reason, count) for each refused metric,
    /// sorted; and the count of those refused past the limit.
    pub(crate) refused: Vec<(String, Kind, Refusal, u64)>,
    pub(crate) refused_other: u64,
}

#[derive(Debug)]
pub(crate) struct FamilySnapshot {
    pub(crate) name: Arc<str>,
    pub(crate) kind: Kind,
    pub(crate) recorded: Arc<str>,
    pub(crate) cells: Range<usize>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Families {
    /// `limit` is clamped to 1..=[`MAX_CARDINALITY_LIMIT`].
    pub(crate) fn new(limit: usize, filter: ExemplarFilter, buckets: Buckets) -> Self {
        let mut state = State::default();
        for own in OWN_FAMILIES {
            for suffix in Kind::Counter.suffixes() {
                state
                    .claims
                    .insert(format!("{own}{suffix}"), Owner::Tracelink(own));
            }
        }
        // The resource's info metric (`render.rs`).
        state
            .claims
            .insert(TARGET_INFO.to_owned(), Owner::Tracelink(TARGET_INFO));
        Self {
            state: Mutex::new(state),
            limit: limit.clamp(1, MAX_CARDINALITY_LIMIT),
            filter,
            buckets,
        }
    }

    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// The counter of `key`. `register` is true for a key's registration
    /// (which is counted, and may be refused or folded), false for the
    /// registry's storage, which asks for a series just given.
    pub(crate) fn counter(&self, key: &Key, register: bool) -> Found<Arc<Counter>> {
        self.find(key, Kind::Counter, register)
            .map(|cell| match cell {
                Cell::Counter(c) => Some(c),
                _ => None,
            })
    }

    pub(crate) fn gauge(&self, key: &Key, register: bool) -> Found<Arc<Gauge>> {
        self.find(key, Kind::Gauge, register)
            .map(|cell| match cell {
                Cell::Gauge(g) => Some(g),
                _ => None,
            })
    }

    pub(crate) fn histogram(&self, key: &Key, register: bool) -> Found<Arc<Histogram>> {
        self.find(key, Kind::Histogram, register)
            .map(|cell| match cell {
                Cell::Histogram(h) => Some(h),
                _ => None,
            })
    }

    fn find(&self, key: &Key, kind: Kind, register: bool) -> Found<Cell> {
        let (found, warning) = self.find_locked(key, kind, register);
        // Said once the lock is released: a stalled stderr stalls nobody else.
        if let Some(warning) = warning {
            crate::diag::diag!(Warn, "{warning}");
        }
        found
    }

    /// What `key` is given, and the warning to print, if any.
    fn find_locked(&self, key: &Key, kind: Kind, register: bool) -> (Found<Cell>, Option<String>) {
        let recorded = key.name();
        // Sanitizing allocates: done before the lock.
        let Some(name) = names::family_name(recorded, kind) else {
            let warning = self.refuse(
                &mut lock(&self.state),
                recorded,
                kind,
                Refusal::EmptyName,
                None,
            );
            return (Found::Refused, warning);
        };
        let labels = names::labels(key, kind);
        let mut state = lock(&self.state);
        let index = match self.family(&mut state, name, kind, recorded) {
            Ok(index) => index,
            Err(clash) => {
                let warning =
                    self.refuse(&mut state, recorded, kind, Refusal::NameClash, Some(clash));
                return (Found::Refused, warning);
            }
        };
        let limit = self.limit;
        let family = &mut state.families[index];
        if let Some(ByLabels(cell)) = family.series.get(&*labels) {
            let cell = cell.clone();
            if !register {
                return (Found::Series(cell), None);
            }
            let found = if family.cached_keys < 2 * limit {
                family.cached_keys += 1;
                Found::Series(cell)
            } else {
                Found::Uncached(cell)
            };
            return (found, None);
        }
        if family.own < limit {
            let cell = self.cell(kind, labels, &family.bounds);
            family.series.insert(ByLabels(cell.clone()));
            family.own += 1;
            if register {
                family.cached_keys += 1;
            }
            return (Found::Series(cell), None);
        }
        family.folded += 1;
        if let Some(overflow) = &family.overflow {
            return (Found::Overflow(overflow.clone()), None);
        }
        let overflow = if let Some(ByLabels(cell)) = family.series.get(OVERFLOW_LABELS) {
            cell.clone()
        } else {
            let cell = self.cell(kind, names::Labels::overflow(), &family.bounds);
            family.series.insert(ByLabels(cell.clone()));
            cell
        };
        family.overflow = Some(overflow.clone());
        let warning = format!(
            "{} {:?} has reached its cardinality limit of {limit} series: the samples of its \
             new label sets go to its series {{{OVERFLOW_LABELS}}}, counted in \
             {OVERFLOW_FAMILY}_total (raise the limit with TRACELINK_METRICS_CARDINALITY_LIMIT)",
            kind.name(),
            names::shortened(&family.name),
        );
        (Found::Overflow(overflow), Some(warning))
    }

    /// The index of family `name`, made if new; or, when it would write a
    /// sample name that another family writes, a description of that clash.
    fn family(
        &self,
        state: &mut State,
        name: String,
        kind: Kind,
        recorded: &str,
    ) -> Result<usize, String> {
        if let Some(&index) = state.by_name.get(name.as_str()) {
            let family = &state.families[index];
            if family.kind == kind {
                return Ok(index);
            }
            return Err(format!(
                "{} {name} has that name already",
                article(family.kind)
            ));
        }
        for suffix in kind.suffixes() {
            let sample = format!("{name}{suffix}");
            match state.claims.get(&sample) {
                None => {}
                Some(Owner::Family(other)) => {
                    let other = &state.families[*other];
                    return Err(format!(
                        "it would write {sample}, which {} {} writes already",
                        article(other.kind),
                        other.name
                    ));
                }
                Some(Owner::Tracelink(own)) => {
                    return Err(format!(
                        "it would write {sample}, which tracelink's own counter {own} writes"
                    ));
                }
            }
        }
        let index = state.families.len();
        for suffix in kind.suffixes() {
            state
                .claims
                .insert(format!("{name}{suffix}"), Owner::Family(index));
        }
        let name: Arc<str> = Arc::from(name);
        let bounds = if kind == Kind::Histogram {
            self.buckets.for_name(recorded)
        } else {
            Arc::from([])
        };
        state.families.push(Family {
            name: name.clone(),
            kind,
            recorded: Arc::from(recorded),
            bounds,
            series: BTreeSet::new(),
            own: 0,
            cached_keys: 0,
            overflow: None,
            folded: 0,
        });
        state.by_name.insert(name, index);
        Ok(index)
    }

    /// Counts a refused registration; the warning at the first of each metric.
    fn refuse(
        &self,
        state: &mut State,
        recorded: &str,
        kind: Kind,
        reason: Refusal,
        clash: Option<String>,
    ) -> Option<String> {
        let name = names::shortened(recorded).into_owned();
        if let Some(refused) = state.refused.get_mut(&(name.clone(), kind)) {
            refused.count += 1;
            return None;
        }
        if state.refused.len() >= self.limit {
            state.refused_other += 1;
            return (state.refused_other == 1).then(|| {
                format!(
                    "more than {} metrics are refused; the others are counted in \
                     {REFUSED_FAMILY}_total{{{OVERFLOW_LABELS}}}, without a warning each",
                    self.limit
                )
            });
        }
        let why = match (reason, clash) {
            (Refusal::NameClash, Some(clash)) => clash,
            _ if kind == Kind::Counter && !recorded.is_empty() => {
                "its name is empty once _total is removed".to_owned()
            }
            _ => "its name is empty".to_owned(),
        };
        let warning = format!(
            "{} {name:?} is refused: {why}; its samples are dropped, counted in \
             {REFUSED_FAMILY}_total (rename it)",
            kind.name(),
        );
        state
            .refused
            .insert((name, kind), Refused { reason, count: 1 });
        Some(warning)
    }

    fn cell(&self, kind: Kind, labels: names::Labels, bounds: &Arc<[f64]>) -> Cell {
        match kind {
            Kind::Counter => Cell::Counter(Arc::new(Counter::new(labels, self.filter))),
            Kind::Gauge => Cell::Gauge(Arc::new(Gauge::new(labels))),
            Kind::Histogram => Cell::Histogram(Arc::new(Histogram::new(
                labels,
                bounds.clone(),
                self.filter,
            ))),
        }
    }

    /// Every family and cell, and the counts of tracelink's own counters.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let state = lock(&self.state);
        let mut snapshot = Snapshot {
            families: Vec::with_capacity(state.by_name.len()),
            cells: Vec::with_capacity(state.families.iter().map(|f| f.series.len()).sum()),
            ..Snapshot::default()
        };
        for &index in state.by_name.values() {
            let family = &state.families[index];
            let start = snapshot.cells.len();
            snapshot
                .cells
                .extend(family.series.iter().map(|ByLabels(cell)| cell.clone()));
            snapshot.families.push(FamilySnapshot {
                name: family.name.clone(),
                kind: family.kind,
                recorded: family.recorded.clone(),
                cells: start..snapshot.cells.len(),
            });
            if family.folded > 0 {
                snapshot.folded.push((family.name.clone(), family.folded));
            }
        }
        snapshot.refused = state
            .refused
            .iter()
            .map(|((name, kind), r)| (name.clone(), *kind, r.reason, r.count))
            .collect();
        snapshot.refused_other = state.refused_other;
        snapshot
    }
}

fn article(kind: Kind) -> &'static str {
    match kind {
        Kind::Counter => "a counter",
        Kind::Gauge => "a gauge",
        Kind::Histogram => "a histogram",
    }
}

impl<C> Found<C> {
    fn map<D>(self, f: impl Fn(C) -> Option<D>) -> Found<D> {
        match self {
            Found::Series(c) => f(c).map_or(Found::Refused, Found::Series),
            Found::Uncached(c) => f(c).map_or(Found::Refused, Found::Uncached),
            Found::Overflow(c) => f(c).map_or(Found::Refused, Found::Overflow),
            Found::Refused => Found::Refused,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Format, MetricsConfig, MetricsRecorder};

    fn render(limit: usize, record: impl FnOnce()) -> String {
        let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(limit));
        metrics::with_local_recorder(&recorder, record);
        recorder.handle().render(Format::OpenMetrics)
    }

    #[test]
    fn target_info_is_tracelinks_name() {
        let body = render(10, || metrics::gauge!("target_info").set(1.0));
        assert!(
            body.contains(
                "tracelink_metrics_refused_total{kind=\"gauge\",metric=\"target_info\",reason=\"name_clash\"} 1"
            ),
            "{body}"
        );
        assert!(!body.contains("target_info 1"), "{body}");
    }

    #[test]
    fn keys_that_write_the_same_series_share_it() {
        let body = render(10, || {
            metrics::counter!("a.b", "k.1" => "v").increment(1);
            metrics::counter!("a_b_total", "k_1" => "v").increment(2);
            metrics::counter!("a-b", "k-1" => "v", "empty" => "").increment(3);
        });
        assert_eq!(body, "# TYPE a_b counter\na_b_total{k_1=\"v\"} 6\n# EOF\n");
    }

    #[test]
    fn the_first_metric_keeps_a_clashing_name() {
        let body = render(10, || {
            metrics::histogram!("h").record(1.0);
            metrics::gauge!("h_sum").set(1.0);
            metrics::gauge!("h_bucket").set(1.0);
            metrics::counter!("h_created").increment(1);
            metrics::counter!("c").increment(1);
            metrics::counter!("c_created").increment(1);
            metrics::gauge!("c_total").set(1.0);
            metrics::gauge!("tracelink_metrics_overflow_total").set(1.0);
        });
        for refused in [
            "{kind=\"gauge\",metric=\"h_sum\",reason=\"name_clash\"} 1",
            "{kind=\"gauge\",metric=\"h_bucket\",reason=\"name_clash\"} 1",
            "{kind=\"counter\",metric=\"h_created\",reason=\"name_clash\"} 1",
            "{kind=\"counter\",metric=\"c_created\",reason=\"name_clash\"} 1",
            "{kind=\"gauge\",metric=\"c_total\",reason=\"name_clash\"} 1",
            "{kind=\"gauge\",metric=\"tracelink_metrics_overflow_total\",reason=\"name_clash\"} 1",
        ] {
            assert!(body.contains(refused), "{refused} not in\n{body}");
        }
        assert_eq!(
            body.matches("# TYPE").count(),
            3,
            "h, c and the refusals:\n{body}"
        );
    }

    #[test]
    fn refusals_past_the_limit_are_counted_together() {
        let body = render(2, || {
            for name in ["", "_total", ".total", "-total"] {
                metrics::counter!(name).increment(1);
            }
        });
        assert!(
            body.contains("{otel_metric_overflow=\"true\"} 2\n"),
            "{body}"
        );
        assert_eq!(body.matches("tracelink_metrics_refused_total{").count(), 3);
    }

    #[test]
    fn a_label_set_of_the_overflow_labels_is_the_overflow_series() {
        let body = render(1, || {
            metrics::counter!("x", "otel_metric_overflow" => "true").increment(1);
            metrics::counter!("x", "a" => "1").increment(2);
            metrics::counter!("x", "otel_metric_overflow" => "true").increment(4);
        });
        assert!(
            body.contains("x_total{otel_metric_overflow=\"true\"} 7\n"),
            "{body}"
        );
        assert_eq!(body.matches("x_total{").count(), 1, "{body}");
    }

    #[test]
    fn spellings_of_one_series_are_cached_up_to_twice_the_limit() {
        let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(2));
        metrics::with_local_recorder(&recorder, || {
            // Empty values are no labels: every key is a spelling of `x`.
            for i in 0..50 {
                metrics::counter!("x", format!("k{i}") => "").increment(1);
            }
        });
        let mut cached = 0;
        recorder.inner.registry.visit_counters(|_, _| cached += 1);
        assert_eq!(cached, 4);
        let body = recorder.handle().render(Format::OpenMetrics);
        assert!(body.contains("x_total 50\n"), "{body}");
    }

    #[test]
    fn prometheus_text_names_tracelinks_counters_by_their_samples() {
        let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(1));
        metrics::with_local_recorder(&recorder, || {
            metrics::counter!("").increment(1);
            metrics::histogram!("h", "a" => "1").record(f64::NAN);
            metrics::histogram!("h", "a" => "2").record(1.0);
        });
        let body = recorder.handle().render(Format::PrometheusText);
        for line in [
            "# TYPE tracelink_metrics_refused_total counter\n",
            "tracelink_metrics_refused_total{kind=\"counter\",metric=\"\",reason=\"empty_name\"} 1\n",
            "# TYPE tracelink_metrics_overflow_total counter\n",
            "tracelink_metrics_overflow_total{metric=\"h\"} 1\n",
            "# TYPE tracelink_metrics_nan_dropped_total counter\n",
            "tracelink_metrics_nan_dropped_total{metric=\"h\"} 1\n",
            "h_count{otel_metric_overflow=\"true\"} 1\n",
        ] {
            assert!(body.contains(line), "{line:?} not in\n{body}");
        }
    }
}
