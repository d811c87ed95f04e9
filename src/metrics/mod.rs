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
//! The registry is a cache for the hot path: which series exist, under which
//! name and labels, is `families.rs`' (where names are made valid, clashes
//! refused and the cardinality limit kept), asked on a key's first use only.
//!
//! [`Registry`]: metrics_util::registry::Registry

mod buckets;
mod exemplar;
mod families;
mod names;
mod otlp;
pub(crate) mod push;
mod render;
pub(crate) mod server;
mod storage;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use metrics::{Key, KeyName, Metadata, SharedString, Unit};
use metrics_util::registry::Registry;

pub use buckets::{Matcher, DEFAULT_BUCKETS};
pub use exemplar::ExemplarFilter;
pub use families::{DEFAULT_CARDINALITY_LIMIT, MAX_CARDINALITY_LIMIT};
pub(crate) use otlp::Converter;
pub use otlp::Temporality;
pub use render::Format;

use families::{Families, Found};
use storage::Storage;

/// Where metrics go (`OTEL_METRICS_EXPORTER`, a list).
///
/// ```
/// use tracelink::metrics::MetricsExporter;
///
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([("OTEL_METRICS_EXPORTER", "prometheus,otlp")])
///     .config()?;
/// assert_eq!(config.metrics_exporters(), [MetricsExporter::Prometheus, MetricsExporter::Otlp]);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricsExporter {
    /// Serve `/metrics` for Prometheus to scrape (OpenMetrics with
    /// exemplars). The default.
    Prometheus,
    /// Push to a Collector or backend over OTLP every
    /// `OTEL_METRIC_EXPORT_INTERVAL`, exemplars included.
    Otlp,
    /// Print the OpenMetrics text on stderr every interval, for development.
    Console,
}

impl MetricsExporter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            MetricsExporter::Prometheus => "prometheus",
            MetricsExporter::Otlp => "otlp",
            MetricsExporter::Console => "console",
        }
    }
}

impl std::fmt::Display for MetricsExporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

struct Inner {
    /// `target_info`'s labels: the resource.
    target_info: Option<Box<str>>,
    registry: Registry<Key, Storage>,
    families: Arc<Families>,
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
#[derive(Clone, Debug)]
pub struct MetricsConfig {
    pub(crate) target_info: Option<Box<str>>,
    pub(crate) filter: ExemplarFilter,
    pub(crate) buckets: buckets::Buckets,
    pub(crate) cardinality_limit: usize,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            target_info: None,
            filter: ExemplarFilter::default(),
            buckets: buckets::Buckets::default(),
            cardinality_limit: DEFAULT_CARDINALITY_LIMIT,
        }
    }
}

impl MetricsConfig {
    /// Writes the resource as the `target_info` info metric, first on
    /// `/metrics`, as the OpenTelemetry–Prometheus compatibility
    /// specification says: one series, value 1, a label for each
    /// attribute, its key made a valid label name (`service.name` is
    /// `service_name`). `init()` gives it the service's resource. Defaults
    /// to none.
    ///
    /// Prometheus adds `job` and `instance` (from its scrape
    /// configuration) to `target_info` as to every series, so a query
    /// joins a series to its resource on them:
    /// `rate(orders_total[5m]) * on (job, instance) group_left(service_version) target_info`.
    /// Pushed over OTLP to a Collector instead, the resource travels as
    /// such, and the Collector's Prometheus exporters make `job` from
    /// `service.namespace`/`service.name` and `instance` from
    /// `service.instance.id`.
    ///
    /// ```
    /// use opentelemetry::KeyValue;
    /// use tracelink::metrics::{Format, MetricsConfig, MetricsRecorder};
    ///
    /// let config = MetricsConfig::default().with_target_info([
    ///     KeyValue::new("service.name", "checkout"),
    ///     KeyValue::new("service.version", "1.4.2"),
    /// ]);
    /// let body = MetricsRecorder::new(config).handle().render(Format::OpenMetrics);
    /// assert!(body.starts_with(
    ///     "# TYPE target info\n# HELP target Target metadata\n\
    ///      target_info{service_name=\"checkout\",service_version=\"1.4.2\"} 1\n"
    /// ));
    /// ```
    #[must_use]
    pub fn with_target_info(
        mut self,
        attributes: impl IntoIterator<Item = opentelemetry::KeyValue>,
    ) -> Self {
        let attributes: Vec<opentelemetry::KeyValue> = attributes.into_iter().collect();
        self.target_info = Some(names::resource_labels(
            attributes
                .iter()
                .map(|kv| (kv.key.as_str(), kv.value.to_string())),
        ));
        self
    }

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

    /// The most series (label sets) one metric keeps; the samples of a new
    /// label set past it go to the metric's one overflow series,
    /// `{otel_metric_overflow="true"}`, and are counted in
    /// `tracelink_metrics_overflow_total{metric="..."}`. Taken within
    /// 1..=[`MAX_CARDINALITY_LIMIT`] (0 is 1, more is the maximum). Defaults
    /// to [`DEFAULT_CARDINALITY_LIMIT`] (2000, as the OpenTelemetry SDK's).
    ///
    /// ```
    /// use tracelink::metrics::{Format, MetricsConfig, MetricsRecorder};
    ///
    /// let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(2));
    /// metrics::with_local_recorder(&recorder, || {
    ///     for user in ["ann", "bob", "cid", "dan"] {
    ///         metrics::counter!("logins_total", "user" => user).increment(1);
    ///     }
    /// });
    /// let body = recorder.handle().render(Format::OpenMetrics);
    /// assert!(body.contains("logins_total{otel_metric_overflow=\"true\"} 2\n"));
    /// assert!(body.contains("tracelink_metrics_overflow_total{metric=\"logins\"} 2\n"));
    /// ```
    #[must_use]
    pub fn with_cardinality_limit(mut self, limit: usize) -> Self {
        self.cardinality_limit = limit;
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
        let families = Arc::new(Families::new(
            config.cardinality_limit,
            config.filter,
            config.buckets,
        ));
        Self {
            inner: Arc::new(Inner {
                target_info: config.target_info,
                registry: Registry::new(Storage {
                    families: families.clone(),
                }),
                families,
                descriptions: RwLock::new(HashMap::new()),
            }),
        }
    }

    /// The cardinality limit in force (after clamping).
    pub fn cardinality_limit(&self) -> usize {
        self.inner.families.limit()
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

    // A key seen before is one registry lookup, as before; a new one goes to
    // `Families` (out of line, to keep this path short).
    fn register_counter(&self, key: &Key, _: &Metadata<'_>) -> metrics::Counter {
        match self.inner.registry.get_counter(key) {
            Some(cell) => metrics::Counter::from_arc(cell),
            None => self.new_counter(key),
        }
    }

    fn register_gauge(&self, key: &Key, _: &Metadata<'_>) -> metrics::Gauge {
        match self.inner.registry.get_gauge(key) {
            Some(cell) => metrics::Gauge::from_arc(cell),
            None => self.new_gauge(key),
        }
    }

    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> metrics::Histogram {
        match self.inner.registry.get_histogram(key) {
            Some(cell) => metrics::Histogram::from_arc(cell),
            None => self.new_histogram(key),
        }
    }
}

impl MetricsRecorder {
    #[cold]
    #[inline(never)]
    fn new_counter(&self, key: &Key) -> metrics::Counter {
        match self.inner.families.counter(key, true) {
            Found::Series(_) => metrics::Counter::from_arc(
                self.inner.registry.get_or_create_counter(key, Arc::clone),
            ),
            Found::Uncached(cell) | Found::Overflow(cell) => metrics::Counter::from_arc(cell),
            Found::Refused => metrics::Counter::noop(),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_gauge(&self, key: &Key) -> metrics::Gauge {
        match self.inner.families.gauge(key, true) {
            Found::Series(_) => {
                metrics::Gauge::from_arc(self.inner.registry.get_or_create_gauge(key, Arc::clone))
            }
            Found::Uncached(cell) | Found::Overflow(cell) => metrics::Gauge::from_arc(cell),
            Found::Refused => metrics::Gauge::noop(),
        }
    }

    #[cold]
    #[inline(never)]
    fn new_histogram(&self, key: &Key) -> metrics::Histogram {
        match self.inner.families.histogram(key, true) {
            Found::Series(_) => metrics::Histogram::from_arc(
                self.inner.registry.get_or_create_histogram(key, Arc::clone),
            ),
            Found::Uncached(cell) | Found::Overflow(cell) => metrics::Histogram::from_arc(cell),
            Found::Refused => metrics::Histogram::noop(),
        }
    }
}

impl MetricsHandle {
    /// Runs `f` on a snapshot of every series and the descriptions.
    pub(crate) fn with_snapshot<T>(
        &self,
        f: impl FnOnce(&families::Snapshot, &HashMap<String, (Option<Unit>, SharedString)>) -> T,
    ) -> T {
        let snapshot = self.inner.families.snapshot();
        let descriptions = self
            .inner
            .descriptions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&snapshot, &descriptions)
    }

    /// Every metric, in `format`.
    pub fn render(&self, format: Format) -> String {
        let descriptions = self
            .inner
            .descriptions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        render::render(
            self.inner.target_info.as_deref(),
            &self.inner.families.snapshot(),
            &descriptions,
            format,
        )
    }
}
