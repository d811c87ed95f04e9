//! Metrics that link to traces: a `metrics` recorder whose counters and
//! histogram buckets keep the latest exemplar recorded inside a sampled span,
//! rendered as OpenMetrics 1.0 (with exemplars) or Prometheus text 0.0.4.
//!
//! ## Why its own storage
//!
//! `metrics-exporter-prometheus` has no place for an exemplar in its storage
//! and renders neither exemplars nor OpenMetrics, and wrapping its recorder
//! would mean a second lookup per sample to find our exemplar slot. So
//! tracelink keeps its own cells (an atomic value, an exemplar slot per
//! counter and per bucket) in `metrics-util`'s sharded [`Registry`], and
//! reuses the stock exporter only where it serves: its name sanitizers.
//! Histograms are fixed-bucket (Prometheus' default seconds buckets, or per
//! metric by [`Matcher`]): memory is live series × buckets and needs no upkeep.
//!
//! [`Registry`]: metrics_util::registry::Registry

mod buckets;
mod exemplar;
mod names;
mod render;
pub(crate) mod server;
mod storage;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use metrics_util::registry::Registry;

pub use buckets::{Matcher, DEFAULT_BUCKETS};
pub use exemplar::ExemplarFilter;
pub use render::Format;

use render::Entry;
use storage::Storage;

struct Inner {
    registry: Registry<Key, Storage>,
    descriptions: RwLock<HashMap<String, (Option<Unit>, SharedString)>>,
}

/// The `metrics` recorder. `tracelink::init()` installs it globally; get one
/// for your own use from [`MetricsRecorder::new`].
///
/// ```
/// use tracelink::{metrics::Format, metrics::MetricsRecorder};
///
/// let recorder = MetricsRecorder::new(Default::default());
/// let handle = recorder.handle();
/// metrics::with_local_recorder(&recorder, || {
///     metrics::counter!("orders_total", "shop" => "main").increment(1);
/// });
/// assert!(handle.render(Format::OpenMetrics).contains("orders_total{shop=\"main\"} 1"));
/// ```
#[derive(Clone)]
pub struct MetricsRecorder {
    inner: Arc<Inner>,
}

/// Renders the recorder's metrics, for a `/metrics` route of your own.
///
/// ```
/// # let handle = tracelink::metrics::MetricsRecorder::new(Default::default()).handle();
/// let accept = Some("application/openmetrics-text; version=1.0.0");
/// let format = tracelink::metrics::Format::from_accept(accept);
/// let (content_type, body) = (format.content_type(), handle.render(format));
/// assert!(body.ends_with("# EOF\n"));
/// # let _ = content_type;
/// ```
#[derive(Clone)]
pub struct MetricsHandle {
    inner: Arc<Inner>,
}

/// How the recorder keeps samples.
#[derive(Clone, Debug, Default)]
pub struct MetricsConfig {
    pub(crate) filter: ExemplarFilter,
    pub(crate) buckets: buckets::Buckets,
}

impl MetricsConfig {
    /// Which samples carry exemplars. Defaults to [`ExemplarFilter::TraceBased`].
    #[must_use]
    pub fn with_exemplar_filter(mut self, filter: ExemplarFilter) -> Self {
        self.filter = filter;
        self
    }

    /// Bucket bounds for histograms whose name `matcher` matches; the first
    /// matching rule wins. Defaults to [`DEFAULT_BUCKETS`] for every histogram.
    #[must_use]
    pub fn with_buckets(mut self, matcher: Matcher, bounds: &[f64]) -> Self {
        self.buckets = self.buckets.with_rule(matcher, bounds);
        self
    }
}

impl std::fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRecorder").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for MetricsHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsHandle").finish_non_exhaustive()
    }
}

impl MetricsRecorder {
    /// A recorder with `config`.
    pub fn new(config: MetricsConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                registry: Registry::new(Storage {
                    filter: config.filter,
                    buckets: config.buckets,
                }),
                descriptions: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// A handle that renders this recorder's metrics.
    pub fn handle(&self) -> MetricsHandle {
        MetricsHandle {
            inner: self.inner.clone(),
        }
    }

    fn describe(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner
            .descriptions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(key.as_str().to_owned(), (unit, description));
    }
}

impl metrics::Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.describe(key, unit, description);
    }

    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        let cell = self.inner.registry.get_or_create_counter(key, Arc::clone);
        metrics::Counter::from_arc(cell)
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        let cell = self.inner.registry.get_or_create_gauge(key, Arc::clone);
        metrics::Gauge::from_arc(cell)
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        let cell = self.inner.registry.get_or_create_histogram(key, Arc::clone);
        metrics::Histogram::from_arc(cell)
    }
}

impl MetricsHandle {
    /// Every metric, in `format`.
    pub fn render(&self, format: Format) -> String {
        let descriptions = self
            .inner
            .descriptions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        render::render(&mut self.entries(), &descriptions, format)
    }

    fn entries(&self) -> Vec<Entry> {
        let registry = &self.inner.registry;
        let mut entries = Vec::new();
        registry.visit_counters(|_, c| entries.push(Entry::Counter(c.clone())));
        registry.visit_gauges(|_, g| entries.push(Entry::Gauge(g.clone())));
        registry.visit_histograms(|_, h| entries.push(Entry::Histogram(h.clone())));
        entries
    }
}
