//! Settings: the builder, the `OTEL_*` environment variables, and the effective
//! [`Config`] that comes out of both (code beats env).

// Dependencies go one way: `resolve` (which defines `Builder::config`)
// reads the builder's fields and calls `env` and `tls`; `tls` reads the
// builder's fields; `builder` uses only `env` and the types below; nothing
// here calls into `resolve`.
mod builder;
pub(crate) mod env;
mod resolve;
mod tls;

use std::time::Duration;

pub use builder::Builder;

pub use crate::diag::DiagLevel;
pub(crate) use crate::env::*;
use crate::logs::{LogFormat, LogsExporter};
use crate::propagation::Propagator;
use crate::trace::{BatchConfig, Compression, Protocol, Sampler, TracesExporter};

/// OTLP headers: their values are credentials (`authorization`, `x-api-key`),
/// so they are never printed, only their names.
#[derive(Clone, Default, PartialEq, Eq)]
pub(crate) struct HeaderList(pub(crate) Vec<(String, String)>);

impl std::fmt::Debug for HeaderList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(name, _)| (name, Redacted)))
            .finish()
    }
}

/// Stands for a secret in printed settings.
struct Redacted;

impl std::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("<redacted>")
    }
}

pub(crate) use crate::diag::redact_url;

/// A value tracelink did not use: which variable (or builder method) gave
/// it, the value (redacted when it is a header or a URL's credentials), why
/// it was refused, and what was used instead. Its `Display` is the warning
/// tracelink prints on stderr.
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([("OTEL_BSP_MAX_QUEUE_SIZE", "lots")])
///     .config()?;
/// let warning = &config.warnings()[0];
/// assert_eq!(warning.variable(), "OTEL_BSP_MAX_QUEUE_SIZE");
/// assert_eq!(warning.value(), "lots");
/// assert_eq!(warning.fallback(), "2048");
/// assert!(warning.to_string().starts_with("ignoring OTEL_BSP_MAX_QUEUE_SIZE=\"lots\": "));
/// # Ok(()) }
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) reason: String,
    pub(crate) fallback: String,
}

impl Warning {
    /// The variable, or the builder method, that gave the value.
    pub fn variable(&self) -> &'static str {
        self.name
    }

    /// The value as given; `<redacted>` for headers, and without a URL's
    /// user and password.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Why it was refused.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What is used instead.
    pub fn fallback(&self) -> &str {
        &self.fallback
    }
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ignoring {}={:?}: {}; using {}",
            self.name, self.value, self.reason, self.fallback
        )
    }
}

/// Where an effective setting came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Origin {
    /// Nobody set it: the specification's (or tracelink's) default.
    Default,
    /// The environment variable named.
    Env(&'static str),
    /// The environment variable named was set but (partly) invalid, so the
    /// default or its valid part is used; [`Config::warnings`] says why.
    Ignored(&'static str),
    /// A [`Builder`] method.
    Code,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Default => f.write_str("default"),
            Origin::Env(name) => write!(f, "env {name}"),
            Origin::Ignored(name) => write!(f, "{name} was invalid, see the warning"),
            Origin::Code => f.write_str("code"),
        }
    }
}

/// One line of [`Config`]'s summary: a setting, its value (secrets
/// redacted) and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Setting {
    pub(crate) name: &'static str,
    pub(crate) value: String,
    pub(crate) origin: Origin,
}

/// The effective settings, after the builder and the environment are merged.
///
/// Get one from [`Builder::config`] to see what tracelink will do, and why:
/// [`Config::warnings`] lists every value that was ignored, and its `Display`
/// is a summary, one setting a line, each with where it came from (default,
/// env or code). Neither it nor `Debug` prints a header value or the
/// credentials of a URL.
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([
///         ("OTEL_EXPORTER_OTLP_HEADERS", "authorization=Bearer s3cret"),
///         ("RUST_LOG", "warn"),
///     ])
///     .with_service_name("checkout")
///     .config()?;
/// let summary = config.to_string();
/// assert!(summary.contains("service.name"));
/// assert!(summary.contains("checkout  (code)"));
/// assert!(summary.contains("warn  (env RUST_LOG)"));
/// assert!(summary.contains("authorization"));
/// assert!(!summary.contains("s3cret"));
/// assert!(!format!("{config:?}").contains("s3cret"));
/// # Ok(()) }
/// ```
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([
///         ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
///         ("OTEL_SERVICE_NAME", "checkout"),
///     ])
///     .config()?;
/// assert_eq!(config.traces_endpoint(), "http://collector:4318/v1/traces");
/// assert_eq!(config.service_name(), "checkout");
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Config {
    pub(crate) disabled: bool,
    pub(crate) service_name: String,
    pub(crate) resource: Vec<opentelemetry::KeyValue>,
    pub(crate) exporters: Vec<TracesExporter>,
    pub(crate) traces_file: std::path::PathBuf,
    pub(crate) traces_file_max_bytes: u64,
    /// Where spans go over OTLP.
    pub(crate) otlp: OtlpSettings,
    pub(crate) sampler: Sampler,
    pub(crate) span_limits: crate::trace::SpanLimits,
    pub(crate) propagators: Vec<Propagator>,
    pub(crate) batch: BatchConfig,
    pub(crate) log_level: DiagLevel,
    pub(crate) filter: String,
    pub(crate) span_filter: String,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) context_activation: bool,
    pub(crate) span_events: tracing::level_filters::LevelFilter,
    pub(crate) log_format: LogFormat,
    pub(crate) log_style: crate::logs::LogStyle,
    pub(crate) gcp_project: Option<String>,
    pub(crate) non_blocking_logs: bool,
    /// Whether the recorder is installed: any metrics exporter.
    pub(crate) metrics: bool,
    pub(crate) metrics_exporters: Vec<crate::metrics::MetricsExporter>,
    /// Where metrics are pushed over OTLP, when `metrics_exporters` has `otlp`.
    pub(crate) metrics_otlp: Option<OtlpSettings>,
    pub(crate) metric_export_interval: Duration,
    pub(crate) metric_export_timeout: Duration,
    pub(crate) metrics_temporality: crate::metrics::Temporality,
    pub(crate) metrics_cardinality_limit: usize,
    pub(crate) prometheus_host: String,
    pub(crate) prometheus_port: u16,
    pub(crate) exemplar_filter: crate::metrics::ExemplarFilter,
    pub(crate) logs_exporters: Vec<LogsExporter>,
    /// Where log records go over OTLP, when `logs_exporters` has `otlp`.
    pub(crate) logs_otlp: Option<OtlpSettings>,
    pub(crate) logs_batch: BatchConfig,
    pub(crate) warnings: Vec<Warning>,
    pub(crate) settings: Vec<Setting>,
}

/// Where and how one signal's OTLP exporter sends.
#[derive(Clone)]
pub(crate) struct OtlpSettings {
    /// The full URL of the signal (`.../v1/traces` over HTTP).
    pub(crate) endpoint: String,
    pub(crate) protocol: Protocol,
    pub(crate) headers: HeaderList,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
    /// TLS for an `https://` endpoint, built from the certificate files.
    pub(crate) tls: Option<crate::transport::ClientTls>,
    pub(crate) tls_paths: tls::TlsPaths,
}

impl OtlpSettings {
    /// What an OTLP exporter is built from.
    pub(crate) fn target(&self) -> crate::export::OtlpTarget<'_> {
        crate::export::OtlpTarget {
            endpoint: &self.endpoint,
            protocol: self.protocol,
            headers: &self.headers.0,
            timeout: self.timeout,
            compression: self.compression,
            tls: self.tls.as_ref(),
        }
    }
}

impl std::fmt::Debug for OtlpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OtlpSettings")
            .field("endpoint", &redact_url(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("tls", &self.tls_paths)
            .finish()
    }
}

impl Config {
    /// What the span pipeline's exporters are built from.
    pub(crate) fn exporters(&self) -> crate::trace::export::Exporters<'_> {
        crate::trace::export::Exporters {
            kinds: &self.exporters,
            otlp: self.otlp.target(),
            file: &self.traces_file,
            file_max_bytes: self.traces_file_max_bytes,
        }
    }

    /// What the log pipeline's exporters are built from: the `file` one
    /// writes to the trace store, beside the spans.
    pub(crate) fn log_exporters(&self) -> crate::logs::export::Exporters<'_> {
        crate::logs::export::Exporters {
            kinds: &self.logs_exporters,
            otlp: self.logs_otlp.as_ref().map(OtlpSettings::target),
            file: &self.traces_file,
            file_max_bytes: self.traces_file_max_bytes,
        }
    }

    /// Whether the SDK is disabled (`OTEL_SDK_DISABLED=true`): no span is exported.
    pub fn is_disabled(&self) -> bool {
        self.disabled
    }

    /// The `service.name` resource attribute.
    pub fn service_name(&self) -> &str {
        &self.service_name
    }

    /// Every resource attribute, `service.name` included.
    pub fn resource_attributes(&self) -> &[opentelemetry::KeyValue] {
        &self.resource
    }

    /// The exporters spans go to; empty for `none`.
    pub fn traces_exporters(&self) -> &[TracesExporter] {
        &self.exporters
    }

    /// The file the `file` exporter appends to (`TRACELINK_TRACES_FILE`).
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "otlp,file")])
    ///     .config()?;
    /// assert_eq!(config.traces_file(), std::path::Path::new(".tracelink/traces.jsonl"));
    /// # Ok(()) }
    /// ```
    pub fn traces_file(&self) -> &std::path::Path {
        &self.traces_file
    }

    /// The size past which the trace file is rotated
    /// (`TRACELINK_TRACES_FILE_MAX_BYTES`).
    pub fn traces_file_max_bytes(&self) -> u64 {
        self.traces_file_max_bytes
    }

    /// The full URL OTLP traces are sent to.
    pub fn traces_endpoint(&self) -> &str {
        &self.otlp.endpoint
    }

    /// The OTLP transport.
    pub fn protocol(&self) -> Protocol {
        self.otlp.protocol
    }

    /// Headers sent with every OTLP export. Their values are often
    /// credentials: `Config`'s `Debug` and `Display` never print them.
    pub fn headers(&self) -> &[(String, String)] {
        &self.otlp.headers.0
    }

    /// How long one OTLP request may take.
    pub fn timeout(&self) -> Duration {
        self.otlp.timeout
    }

    /// OTLP request compression.
    pub fn compression(&self) -> Compression {
        self.otlp.compression
    }

    /// The head sampler.
    pub fn sampler(&self) -> &Sampler {
        &self.sampler
    }

    /// What one span keeps (`OTEL_SPAN_*_LIMIT`, [`Builder::with_span_limits`]).
    pub fn span_limits(&self) -> &crate::trace::SpanLimits {
        &self.span_limits
    }

    /// The propagators installed globally; empty for `none`.
    pub fn propagators(&self) -> &[Propagator] {
        &self.propagators
    }

    /// Batching of finished spans.
    pub fn batch(&self) -> &BatchConfig {
        &self.batch
    }

    /// How much tracelink prints about itself.
    pub fn log_level(&self) -> DiagLevel {
        self.log_level
    }

    /// Which events become log lines (`RUST_LOG`, [`Builder::with_filter`]):
    /// the directives that parsed.
    pub fn filter(&self) -> &str {
        &self.filter
    }

    /// Which spans exist (`TRACELINK_SPAN_FILTER`,
    /// [`Builder::with_span_filter`]): the directives that parsed.
    pub fn span_filter(&self) -> &str {
        &self.span_filter
    }

    /// The one timeout for everything the guard does at shutdown.
    pub fn shutdown_timeout(&self) -> Duration {
        self.shutdown_timeout
    }

    /// Whether entering a span makes its OpenTelemetry context current.
    pub fn context_activation(&self) -> bool {
        self.context_activation
    }

    /// The lowest level of the events that also become span events
    /// (`TRACELINK_SPAN_EVENTS`, [`Builder::with_span_events`]).
    pub fn span_events(&self) -> tracing::level_filters::LevelFilter {
        self.span_events
    }

    /// Whether a JSON line is written for every event (`TRACELINK_LOG_FORMAT=json`).
    pub fn json_logs(&self) -> bool {
        self.log_format == LogFormat::Json
    }

    /// How events are written on stdout (`TRACELINK_LOG_FORMAT`).
    pub fn log_format(&self) -> LogFormat {
        self.log_format
    }

    /// The field names of log lines.
    pub fn log_style(&self) -> crate::logs::LogStyle {
        self.log_style
    }

    /// The Google Cloud project for the `gcp` style.
    pub fn gcp_project(&self) -> Option<&str> {
        self.gcp_project.as_deref()
    }

    /// Whether lines are written from a background thread.
    pub fn non_blocking_logs(&self) -> bool {
        self.non_blocking_logs
    }

    /// Whether tracelink's `metrics` recorder is installed: some metrics
    /// exporter is on.
    pub fn metrics(&self) -> bool {
        self.metrics
    }

    /// Where metrics go (`OTEL_METRICS_EXPORTER`); empty for `none`.
    pub fn metrics_exporters(&self) -> &[crate::metrics::MetricsExporter] {
        &self.metrics_exporters
    }

    /// Whether `/metrics` is served (`OTEL_METRICS_EXPORTER` has `prometheus`).
    pub fn serves_metrics(&self) -> bool {
        self.metrics_exporters
            .contains(&crate::metrics::MetricsExporter::Prometheus)
    }

    /// The full URL metrics are pushed to over OTLP; `None` unless
    /// [`metrics_exporters`](Config::metrics_exporters) has `otlp`.
    pub fn metrics_endpoint(&self) -> Option<&str> {
        self.metrics_otlp.as_ref().map(|o| o.endpoint.as_str())
    }

    /// How often metrics are pushed (`OTEL_METRIC_EXPORT_INTERVAL`).
    pub fn metric_export_interval(&self) -> Duration {
        self.metric_export_interval
    }

    /// The longest one push may take (`OTEL_METRIC_EXPORT_TIMEOUT`).
    pub fn metric_export_timeout(&self) -> Duration {
        self.metric_export_timeout
    }

    /// The temporality of pushed counters and histograms.
    pub fn metrics_temporality(&self) -> crate::metrics::Temporality {
        self.metrics_temporality
    }

    /// The most series one metric keeps (`TRACELINK_METRICS_CARDINALITY_LIMIT`).
    pub fn metrics_cardinality_limit(&self) -> usize {
        self.metrics_cardinality_limit
    }

    /// The host and port `/metrics` listens on.
    pub fn prometheus_listener(&self) -> (&str, u16) {
        (&self.prometheus_host, self.prometheus_port)
    }

    /// Which samples carry exemplars.
    pub fn exemplar_filter(&self) -> crate::metrics::ExemplarFilter {
        self.exemplar_filter
    }

    /// Where log records go besides the log lines (`OTEL_LOGS_EXPORTER`,
    /// [`Builder::with_logs_exporters`]); empty for `none`, the default.
    ///
    /// ```
    /// use tracelink::logs::LogsExporter;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_env([
    ///         ("OTEL_LOGS_EXPORTER", "otlp"),
    ///         ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
    ///     ])
    ///     .config()?;
    /// assert_eq!(config.logs_exporters(), [LogsExporter::Otlp]);
    /// assert_eq!(config.logs_endpoint(), Some("http://collector:4318/v1/logs"));
    /// # Ok(()) }
    /// ```
    pub fn logs_exporters(&self) -> &[LogsExporter] {
        &self.logs_exporters
    }

    /// The full URL OTLP log records are sent to; `None` unless
    /// [`logs_exporters`](Config::logs_exporters) has `otlp`.
    pub fn logs_endpoint(&self) -> Option<&str> {
        self.logs_otlp.as_ref().map(|o| o.endpoint.as_str())
    }

    /// The OTLP transport of log records, when they are sent over OTLP.
    pub fn logs_protocol(&self) -> Option<Protocol> {
        self.logs_otlp.as_ref().map(|o| o.protocol)
    }

    /// Batching of log records (`OTEL_BLRP_*`).
    pub fn logs_batch(&self) -> &BatchConfig {
        &self.logs_batch
    }

    /// One message for every ignored value: the variable, the value, the reason
    /// and the fallback. tracelink prints them once at startup.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings
    }
}

impl std::fmt::Display for Config {
    /// One setting a line: name, value, and where it came from. Header values
    /// and URL credentials are never shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let width = self
            .settings
            .iter()
            .map(|s| s.name.len())
            .max()
            .unwrap_or(0);
        for (i, setting) in self.settings.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(
                f,
                "{:width$}  {}  ({})",
                setting.name, setting.value, setting.origin
            )?;
        }
        Ok(())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("disabled", &self.disabled)
            .field("service_name", &self.service_name)
            .field("resource", &self.resource)
            .field("exporters", &self.exporters)
            .field("traces_file", &self.traces_file)
            .field("traces_file_max_bytes", &self.traces_file_max_bytes)
            .field("otlp", &self.otlp)
            .field("sampler", &self.sampler)
            .field("span_limits", &self.span_limits)
            .field("propagators", &self.propagators)
            .field("batch", &self.batch)
            .field("log_level", &self.log_level)
            .field("filter", &self.filter)
            .field("span_filter", &self.span_filter)
            .field("shutdown_timeout", &self.shutdown_timeout)
            .field("context_activation", &self.context_activation)
            .field("span_events", &self.span_events)
            .field("log_format", &self.log_format)
            .field("log_style", &self.log_style)
            .field("gcp_project", &self.gcp_project)
            .field("non_blocking_logs", &self.non_blocking_logs)
            .field("metrics", &self.metrics)
            .field("metrics_exporters", &self.metrics_exporters)
            .field("metrics_otlp", &self.metrics_otlp)
            .field("metric_export_interval", &self.metric_export_interval)
            .field("metric_export_timeout", &self.metric_export_timeout)
            .field("metrics_temporality", &self.metrics_temporality)
            .field("prometheus_host", &self.prometheus_host)
            .field("prometheus_port", &self.prometheus_port)
            .field("exemplar_filter", &self.exemplar_filter)
            .field("logs_exporters", &self.logs_exporters)
            .field("logs_otlp", &self.logs_otlp)
            .field("logs_batch", &self.logs_batch)
            .field("warnings", &self.warnings)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_credentials() {
        assert_eq!(
            redact_url("http://collector:4318/v1/traces"),
            "http://collector:4318/v1/traces"
        );
        assert_eq!(
            redact_url("https://user:s3cret@collector:4318/v1/traces?x=@"),
            "https://<redacted>@collector:4318/v1/traces?x=@"
        );
        assert_eq!(redact_url("http://a@b@host"), "http://<redacted>@host");
        assert_eq!(redact_url("not a url"), "not a url");
    }

    #[test]
    fn header_values_never_print() {
        let headers = HeaderList(vec![("authorization".into(), "Bearer s3cret".into())]);
        assert_eq!(format!("{headers:?}"), r#"{"authorization": <redacted>}"#);
    }

    #[test]
    fn log_formats_round_trip() {
        for format in [LogFormat::Json, LogFormat::Pretty, LogFormat::None] {
            assert_eq!(format.to_string().parse::<LogFormat>(), Ok(format));
        }
        assert_eq!(" OFF ".parse::<LogFormat>(), Ok(LogFormat::None));
    }
}
