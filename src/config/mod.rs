//! Settings: the builder, the `OTEL_*` environment variables, and the effective
//! [`Config`] that comes out of both (code beats env).

mod builder;
pub(crate) mod env;
mod resolve;

use std::time::Duration;

pub use builder::Builder;

use crate::diag::DiagLevel;
use crate::trace::Sampler;

/// `OTEL_SDK_DISABLED`: `true` turns tracing export off; logs still work.
pub const OTEL_SDK_DISABLED: &str = "OTEL_SDK_DISABLED";
/// `OTEL_SERVICE_NAME`: the `service.name` resource attribute.
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";
/// `OTEL_RESOURCE_ATTRIBUTES`: `key=value,...`, values percent-encoded.
pub const OTEL_RESOURCE_ATTRIBUTES: &str = "OTEL_RESOURCE_ATTRIBUTES";
/// `OTEL_TRACES_EXPORTER`: `otlp`, `console`, `file` or `none` (a comma-separated list).
pub const OTEL_TRACES_EXPORTER: &str = "OTEL_TRACES_EXPORTER";
/// Default for [`OTEL_TRACES_EXPORTER`].
pub const OTEL_TRACES_EXPORTER_DEFAULT: &str = "otlp";
/// `OTEL_EXPORTER_OTLP_ENDPOINT`: base URL; `v1/traces` is appended for HTTP.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: the traces URL, used as is.
pub const OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT";
/// Default OTLP/gRPC endpoint.
pub const OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT: &str = "http://localhost:4317";
/// Default OTLP/HTTP base endpoint.
pub const OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT: &str = "http://localhost:4318";
/// `OTEL_EXPORTER_OTLP_PROTOCOL`: `grpc` or `http/protobuf`.
pub const OTEL_EXPORTER_OTLP_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`: overrides [`OTEL_EXPORTER_OTLP_PROTOCOL`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_HEADERS`: `key=value,...` sent with every export.
pub const OTEL_EXPORTER_OTLP_HEADERS: &str = "OTEL_EXPORTER_OTLP_HEADERS";
/// `OTEL_EXPORTER_OTLP_TRACES_HEADERS`: added to (and overriding) [`OTEL_EXPORTER_OTLP_HEADERS`].
pub const OTEL_EXPORTER_OTLP_TRACES_HEADERS: &str = "OTEL_EXPORTER_OTLP_TRACES_HEADERS";
/// `OTEL_EXPORTER_OTLP_TIMEOUT`: milliseconds one export may take.
pub const OTEL_EXPORTER_OTLP_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`: overrides [`OTEL_EXPORTER_OTLP_TIMEOUT`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT";
/// Default for [`OTEL_EXPORTER_OTLP_TIMEOUT`].
pub const OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`.
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`: overrides [`OTEL_EXPORTER_OTLP_COMPRESSION`].
pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// `OTEL_TRACES_SAMPLER`: `always_on`, `always_off`, `traceidratio`, `parentbased_*`.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// Default for [`OTEL_TRACES_SAMPLER`].
pub const OTEL_TRACES_SAMPLER_DEFAULT: &str = "parentbased_always_on";
/// `OTEL_TRACES_SAMPLER_ARG`: the ratio for the `*traceidratio` samplers.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// `OTEL_PROPAGATORS`: `tracecontext`, `baggage`, `none` (a comma-separated list).
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Default for [`OTEL_PROPAGATORS`].
pub const OTEL_PROPAGATORS_DEFAULT: &str = "tracecontext,baggage";
/// `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between two exports.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Default for [`OTEL_BSP_SCHEDULE_DELAY`].
pub const OTEL_BSP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_millis(5000);
/// `OTEL_BSP_EXPORT_TIMEOUT`: milliseconds one batch may take, retries included.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Default for [`OTEL_BSP_EXPORT_TIMEOUT`].
pub const OTEL_BSP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_millis(30000);
/// `OTEL_BSP_MAX_QUEUE_SIZE`: spans waiting for export; more are dropped and counted.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Default for [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub const OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT: usize = 2048;
/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans in one export; at most the queue size.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Default for [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;
/// `OTEL_LOG_LEVEL`: how much tracelink prints about itself on stderr.
pub const OTEL_LOG_LEVEL: &str = "OTEL_LOG_LEVEL";
/// `RUST_LOG`: which events become log lines, in `tracing_subscriber::EnvFilter`
/// syntax. It does not decide which spans exist: [`TRACELINK_SPAN_FILTER`] does.
pub const RUST_LOG: &str = "RUST_LOG";
/// Default for [`RUST_LOG`].
pub const RUST_LOG_DEFAULT: &str = "info";
/// `TRACELINK_SPAN_FILTER`: which spans exist (and so are exported, and give
/// log lines their ids), in `EnvFilter` syntax, whatever [`RUST_LOG`] says.
pub const TRACELINK_SPAN_FILTER: &str = "TRACELINK_SPAN_FILTER";
/// Default for [`TRACELINK_SPAN_FILTER`]: every span at `info` and above.
pub const TRACELINK_SPAN_FILTER_DEFAULT: &str = "info";
/// `TRACELINK_SHUTDOWN_TIMEOUT`: milliseconds the guard may spend flushing at shutdown.
pub const TRACELINK_SHUTDOWN_TIMEOUT: &str = "TRACELINK_SHUTDOWN_TIMEOUT";
/// Default for [`TRACELINK_SHUTDOWN_TIMEOUT`].
pub const TRACELINK_SHUTDOWN_TIMEOUT_DEFAULT: Duration = Duration::from_secs(5);
/// `OTEL_METRICS_EXPORTER`: `prometheus` (serve `/metrics`) or `none`.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// `OTEL_EXPORTER_PROMETHEUS_HOST`: where `/metrics` listens.
pub const OTEL_EXPORTER_PROMETHEUS_HOST: &str = "OTEL_EXPORTER_PROMETHEUS_HOST";
/// Default for [`OTEL_EXPORTER_PROMETHEUS_HOST`].
pub const OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT: &str = "localhost";
/// `OTEL_EXPORTER_PROMETHEUS_PORT`: the port of `/metrics`.
pub const OTEL_EXPORTER_PROMETHEUS_PORT: &str = "OTEL_EXPORTER_PROMETHEUS_PORT";
/// Default for [`OTEL_EXPORTER_PROMETHEUS_PORT`].
pub const OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT: u16 = 9464;
/// `OTEL_METRICS_EXEMPLAR_FILTER`: `trace_based`, `always_on`, `always_off`.
pub const OTEL_METRICS_EXEMPLAR_FILTER: &str = "OTEL_METRICS_EXEMPLAR_FILTER";
/// `TRACELINK_LOG_FORMAT`: `json` (one JSON line per event on stdout),
/// `pretty` (one readable line per event, for development) or `none`.
pub const TRACELINK_LOG_FORMAT: &str = "TRACELINK_LOG_FORMAT";
/// Default for [`TRACELINK_LOG_FORMAT`].
pub const TRACELINK_LOG_FORMAT_DEFAULT: &str = "json";
/// `TRACELINK_SPAN_EVENTS`: the lowest level of the events that also become
/// span events: `error`, `warn` (default), `info`, `debug`, `trace`. Every
/// event is a log line either way; `ERROR` events always reach the span.
pub const TRACELINK_SPAN_EVENTS: &str = "TRACELINK_SPAN_EVENTS";
/// `TRACELINK_LOG_STYLE`: the field names of log lines: `otel`, `ecs`, `gcp`, `datadog`.
pub const TRACELINK_LOG_STYLE: &str = "TRACELINK_LOG_STYLE";
/// `TRACELINK_LOG_NON_BLOCKING`: `true` writes lines from a background thread.
pub const TRACELINK_LOG_NON_BLOCKING: &str = "TRACELINK_LOG_NON_BLOCKING";
/// `GOOGLE_CLOUD_PROJECT`: the project in the `gcp` style's trace field.
pub const GOOGLE_CLOUD_PROJECT: &str = "GOOGLE_CLOUD_PROJECT";
/// `TRACELINK_STRICT_CONFIG`: `true` turns every invalid value into an error.
pub const TRACELINK_STRICT_CONFIG: &str = "TRACELINK_STRICT_CONFIG";
/// `TRACELINK_TRACES_FILE`: the file the `file` exporter appends spans to,
/// as OTLP/JSON lines (see [`crate::store`]). Setting it does not choose the
/// exporter: `OTEL_TRACES_EXPORTER=file` (or `otlp,file`) does.
pub const TRACELINK_TRACES_FILE: &str = "TRACELINK_TRACES_FILE";
/// Default for [`TRACELINK_TRACES_FILE`], relative to the working directory.
pub const TRACELINK_TRACES_FILE_DEFAULT: &str = ".tracelink/traces.jsonl";
/// `TRACELINK_TRACES_FILE_MAX_BYTES`: the size past which the trace file is
/// rotated: bytes, or with a unit: `64MiB`, `512KiB`, `1GiB` (also `k`, `M`,
/// `G` for the same binary units, `KB`, `MB`, `GB` for decimal ones).
pub const TRACELINK_TRACES_FILE_MAX_BYTES: &str = "TRACELINK_TRACES_FILE_MAX_BYTES";
/// Default for [`TRACELINK_TRACES_FILE_MAX_BYTES`]: 64 MiB.
pub const TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT: u64 = 64 * 1024 * 1024;

/// Where spans go (`OTEL_TRACES_EXPORTER`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TracesExporter {
    /// OTLP to a Collector or backend, over [`Protocol`].
    Otlp,
    /// A readable line per span on stderr, for development.
    Console,
    /// OTLP/JSON lines in a local file, for `tracelink show` (see
    /// [`crate::store`]; `TRACELINK_TRACES_FILE`).
    File,
}

impl TracesExporter {
    pub(crate) fn name(self) -> &'static str {
        match self {
            TracesExporter::Otlp => "otlp",
            TracesExporter::Console => "console",
            TracesExporter::File => "file",
        }
    }
}

/// The OTLP transport (`OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protocol {
    /// OTLP/gRPC, default port 4317.
    Grpc,
    /// OTLP/HTTP with protobuf bodies, default port 4318. The default, as the
    /// specification recommends.
    HttpProtobuf,
}

impl Protocol {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Protocol::Grpc => "grpc",
            Protocol::HttpProtobuf => "http/protobuf",
        }
    }
}

/// Compression of OTLP requests (`OTEL_EXPORTER_OTLP_COMPRESSION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Compression {
    /// No compression. The default.
    #[default]
    None,
    /// gzip (needs the `gzip` feature, on by default).
    Gzip,
}

/// A context propagator (`OTEL_PROPAGATORS`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Propagator {
    /// W3C Trace Context: `traceparent` and `tracestate`.
    TraceContext,
    /// W3C Baggage: `baggage`.
    Baggage,
}

/// How events are written on stdout (`TRACELINK_LOG_FORMAT`).
///
/// ```
/// use tracelink::LogFormat;
///
/// assert_eq!("pretty".parse::<LogFormat>(), Ok(LogFormat::Pretty));
/// assert_eq!(LogFormat::Json.to_string(), "json");
/// assert!("yaml".parse::<LogFormat>().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogFormat {
    /// One JSON line per event, with the span's ids. The default.
    #[default]
    Json,
    /// One readable line per event (time, level, target, message, fields,
    /// span, a short trace id), coloured on a terminal unless `NO_COLOR` is
    /// set: for a developer at a terminal, not for a log pipeline.
    Pretty,
    /// No lines at all.
    None,
}

impl LogFormat {
    fn name(self) -> &'static str {
        match self {
            LogFormat::Json => "json",
            LogFormat::Pretty => "pretty",
            LogFormat::None => "none",
        }
    }
}

impl std::fmt::Display for LogFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    /// `json`, `pretty` or `none` (also `off`), in any case.
    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(LogFormat::Json),
            "pretty" => Ok(LogFormat::Pretty),
            "none" | "off" => Ok(LogFormat::None),
            _ => Err("expected json, pretty or none".into()),
        }
    }
}

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

/// `url` without the user and password it may carry (`http://user:secret@host`).
pub(crate) fn redact_url(url: &str) -> std::borrow::Cow<'_, str> {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        return url.into();
    };
    let authority_end = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    match url[scheme_end..authority_end].rfind('@') {
        Some(at) => format!(
            "{}<redacted>@{}",
            &url[..scheme_end],
            &url[scheme_end + at + 1..]
        )
        .into(),
        None => url.into(),
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

/// How spans are batched on their way out (`OTEL_BSP_*`).
///
/// ```
/// use std::time::Duration;
/// use tracelink::BatchConfig;
///
/// let batch = BatchConfig::default()
///     .with_max_queue_size(8192)
///     .with_scheduled_delay(Duration::from_millis(500));
/// assert_eq!(batch.max_queue_size(), 8192);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchConfig {
    pub(crate) scheduled_delay: Duration,
    pub(crate) export_timeout: Duration,
    pub(crate) max_queue_size: usize,
    pub(crate) max_export_batch_size: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self {
            scheduled_delay: OTEL_BSP_SCHEDULE_DELAY_DEFAULT,
            export_timeout: OTEL_BSP_EXPORT_TIMEOUT_DEFAULT,
            max_queue_size: OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT,
            max_export_batch_size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT,
        }
    }
}

impl BatchConfig {
    /// The longest a finished span waits before it is exported.
    ///
    /// Defaults to 5 s. Corresponding environment variable:
    /// `OTEL_BSP_SCHEDULE_DELAY`; this overrides it.
    #[must_use]
    pub fn with_scheduled_delay(mut self, delay: Duration) -> Self {
        self.scheduled_delay = delay;
        self
    }

    /// The longest one batch may take to export, retries included.
    ///
    /// Defaults to 30 s. Corresponding environment variable:
    /// `OTEL_BSP_EXPORT_TIMEOUT`; this overrides it.
    #[must_use]
    pub fn with_export_timeout(mut self, timeout: Duration) -> Self {
        self.export_timeout = timeout;
        self
    }

    /// How many finished spans may wait for export; more are dropped and counted.
    ///
    /// Defaults to 2048. Corresponding environment variable:
    /// `OTEL_BSP_MAX_QUEUE_SIZE`; this overrides it.
    #[must_use]
    pub fn with_max_queue_size(mut self, size: usize) -> Self {
        self.max_queue_size = size.max(1);
        self
    }

    /// How many spans one export carries at most.
    ///
    /// Defaults to 512. Corresponding environment variable:
    /// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`; this overrides it.
    #[must_use]
    pub fn with_max_export_batch_size(mut self, size: usize) -> Self {
        self.max_export_batch_size = size.max(1);
        self
    }

    /// The longest a finished span waits before it is exported.
    pub fn scheduled_delay(&self) -> Duration {
        self.scheduled_delay
    }

    /// The longest one batch may take to export.
    pub fn export_timeout(&self) -> Duration {
        self.export_timeout
    }

    /// How many finished spans may wait for export.
    pub fn max_queue_size(&self) -> usize {
        self.max_queue_size
    }

    /// How many spans one export carries at most.
    pub fn max_export_batch_size(&self) -> usize {
        self.max_export_batch_size
    }
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
    pub(crate) endpoint: String,
    pub(crate) protocol: Protocol,
    pub(crate) headers: HeaderList,
    pub(crate) timeout: Duration,
    pub(crate) compression: Compression,
    pub(crate) sampler: Sampler,
    pub(crate) propagators: Vec<Propagator>,
    pub(crate) batch: BatchConfig,
    pub(crate) log_level: DiagLevel,
    pub(crate) filter: String,
    pub(crate) span_filter: String,
    pub(crate) shutdown_timeout: Duration,
    pub(crate) context_activation: bool,
    pub(crate) span_events: tracing::level_filters::LevelFilter,
    pub(crate) log_format: LogFormat,
    pub(crate) log_style: crate::LogStyle,
    pub(crate) gcp_project: Option<String>,
    pub(crate) non_blocking_logs: bool,
    pub(crate) metrics: bool,
    pub(crate) prometheus_host: String,
    pub(crate) prometheus_port: u16,
    pub(crate) exemplar_filter: crate::ExemplarFilter,
    pub(crate) warnings: Vec<String>,
    pub(crate) settings: Vec<Setting>,
}

impl Config {
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
        &self.endpoint
    }

    /// The OTLP transport.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// Headers sent with every OTLP export. Their values are often
    /// credentials: `Config`'s `Debug` and `Display` never print them.
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers.0
    }

    /// How long one OTLP request may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// OTLP request compression.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// The head sampler.
    pub fn sampler(&self) -> &Sampler {
        &self.sampler
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
    pub fn log_style(&self) -> crate::LogStyle {
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

    /// Whether `/metrics` is served (`OTEL_METRICS_EXPORTER=prometheus`).
    pub fn metrics(&self) -> bool {
        self.metrics
    }

    /// The host and port `/metrics` listens on.
    pub fn prometheus_listener(&self) -> (&str, u16) {
        (&self.prometheus_host, self.prometheus_port)
    }

    /// Which samples carry exemplars.
    pub fn exemplar_filter(&self) -> crate::ExemplarFilter {
        self.exemplar_filter
    }

    /// One message for every ignored value: the variable, the value, the reason
    /// and the fallback. tracelink prints them once at startup.
    pub fn warnings(&self) -> &[String] {
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
            .field("endpoint", &redact_url(&self.endpoint))
            .field("protocol", &self.protocol)
            .field("headers", &self.headers)
            .field("timeout", &self.timeout)
            .field("compression", &self.compression)
            .field("sampler", &self.sampler)
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
            .field("prometheus_host", &self.prometheus_host)
            .field("prometheus_port", &self.prometheus_port)
            .field("exemplar_filter", &self.exemplar_filter)
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
