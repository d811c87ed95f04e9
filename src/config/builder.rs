//! [`Builder`]: settings from code, which beat the environment.

use std::collections::HashMap;
use std::time::Duration;

use opentelemetry::{KeyValue, Value};

use super::env::EnvSource;
use crate::diag::DiagLevel;
use crate::logs::export::DynLogExporter;
use crate::logs::{LogFormat, LogsExporter};
use crate::propagation::Propagator;
use crate::trace::export::DynExporter;
use crate::trace::Sampler;
use crate::trace::{BatchConfig, Compression, Protocol, TracesExporter};
use tracing_subscriber::{Layer, Registry};

/// Configures tracelink from code; anything left unset comes from the `OTEL_*`
/// environment variables, then from the specification's defaults.
///
/// Finish with [`init`](Builder::init) to install everything globally, or with
/// [`build`](Builder::build) to get the parts and compose your own subscriber.
///
/// ```no_run
/// # fn main() -> Result<(), tracelink::Error> {
/// let _guard = tracelink::builder()
///     .with_service_name("checkout")
///     .with_service_version(env!("CARGO_PKG_VERSION"))
///     .with_sampler(tracelink::trace::Sampler::parent_based(tracelink::trace::Sampler::trace_id_ratio(0.25)))
///     .init()?;
/// # Ok(()) }
/// ```
#[must_use]
#[derive(Debug, Default)]
pub struct Builder {
    pub(crate) env: EnvSource,
    pub(crate) strict: Option<bool>,
    pub(crate) disabled: Option<bool>,
    pub(crate) service_name: Option<String>,
    pub(crate) resource: Vec<KeyValue>,
    pub(crate) exporters: Option<Vec<TracesExporter>>,
    pub(crate) traces_file: Option<std::path::PathBuf>,
    pub(crate) traces_file_max_bytes: Option<u64>,
    pub(crate) endpoint: Option<String>,
    pub(crate) traces_endpoint: Option<String>,
    pub(crate) tls_certificate: Option<std::path::PathBuf>,
    pub(crate) tls_client_certificate: Option<std::path::PathBuf>,
    pub(crate) tls_client_key: Option<std::path::PathBuf>,
    pub(crate) insecure: Option<bool>,
    pub(crate) protocol: Option<Protocol>,
    pub(crate) headers: super::HeaderList,
    pub(crate) timeout: Option<Duration>,
    pub(crate) compression: Option<Compression>,
    pub(crate) sampler: Option<Sampler>,
    pub(crate) span_limits: Option<crate::trace::SpanLimits>,
    pub(crate) propagators: Option<Vec<Propagator>>,
    pub(crate) batch: Option<BatchConfig>,
    pub(crate) log_level: Option<DiagLevel>,
    pub(crate) filter: Option<String>,
    pub(crate) span_filter: Option<String>,
    pub(crate) shutdown_timeout: Option<Duration>,
    pub(crate) context_activation: Option<bool>,
    pub(crate) span_events: Option<tracing::Level>,
    pub(crate) log_format: Option<LogFormat>,
    pub(crate) log_style: Option<crate::logs::LogStyle>,
    pub(crate) log_writer: Option<crate::logs::LogWriter>,
    pub(crate) non_blocking_logs: Option<bool>,
    pub(crate) gcp_project: Option<String>,
    pub(crate) log_span_list: bool,
    pub(crate) log_code_location: bool,
    pub(crate) span_code_location: bool,
    pub(crate) log_thread: bool,
    pub(crate) log_service_name: bool,
    pub(crate) metrics: Option<bool>,
    pub(crate) metrics_cardinality_limit: Option<usize>,
    pub(crate) prometheus_listener: Option<(String, u16)>,
    pub(crate) exemplar_filter: Option<crate::metrics::ExemplarFilter>,
    pub(crate) buckets: Vec<(crate::metrics::Matcher, Vec<f64>)>,
    pub(crate) custom_exporters: Vec<Box<DynExporter>>,
    pub(crate) logs_exporters: Option<Vec<LogsExporter>>,
    pub(crate) logs_endpoint: Option<String>,
    pub(crate) logs_batch: Option<BatchConfig>,
    pub(crate) custom_log_exporters: Vec<Box<DynLogExporter>>,
    pub(crate) metrics_exporters: Option<Vec<crate::metrics::MetricsExporter>>,
    pub(crate) metrics_endpoint: Option<String>,
    pub(crate) metric_export_interval: Option<Duration>,
    pub(crate) metric_export_timeout: Option<Duration>,
    pub(crate) metrics_temporality: Option<crate::metrics::Temporality>,
    pub(crate) layers: UserLayers,
}

/// The service's own layers, added with [`Builder::with_layer`].
#[derive(Default)]
pub(crate) struct UserLayers(pub(crate) Vec<Box<dyn Layer<Registry> + Send + Sync>>);

impl std::fmt::Debug for UserLayers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} layers", self.0.len())
    }
}

impl Builder {
    /// A builder with nothing set: everything comes from the environment.
    ///
    /// Same as [`tracelink::builder()`](crate::builder).
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads settings from these variables instead of the process environment.
    ///
    /// For tests, and for programs that keep their configuration elsewhere.
    /// Defaults to the process environment.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_SAMPLER", "always_off")])
    ///     .config()?;
    /// assert_eq!(config.sampler(), &tracelink::trace::Sampler::always_off());
    /// # Ok(()) }
    /// ```
    pub fn with_env<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars: HashMap<String, String> = vars
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        self.env = EnvSource::Vars(vars);
        self
    }

    /// Turns every invalid setting into an [`Error`](crate::Error) instead of a warning.
    ///
    /// Defaults to `false`. Corresponding environment variable:
    /// `TRACELINK_STRICT_CONFIG`; this overrides it.
    pub fn with_strict_config(mut self, strict: bool) -> Self {
        self.strict = Some(strict);
        self
    }

    /// Turns span export off (logs still work).
    ///
    /// Defaults to `false`. Corresponding environment variable:
    /// `OTEL_SDK_DISABLED`; this overrides it.
    pub fn with_sdk_disabled(mut self, disabled: bool) -> Self {
        self.disabled = Some(disabled);
        self
    }

    /// Sets `service.name`.
    ///
    /// Defaults to `unknown_service:<executable name>`. Corresponding environment
    /// variable: `OTEL_SERVICE_NAME`; this overrides it.
    pub fn with_service_name(mut self, name: impl Into<String>) -> Self {
        self.service_name = Some(name.into());
        self
    }

    /// Sets `service.version`; pass `env!("CARGO_PKG_VERSION")`.
    ///
    /// Defaults to none.
    pub fn with_service_version(self, version: impl Into<String>) -> Self {
        self.with_resource_attribute("service.version", version.into())
    }

    /// Sets `deployment.environment.name` (`production`, `staging`, ...).
    ///
    /// Defaults to none.
    pub fn with_deployment_environment(self, environment: impl Into<String>) -> Self {
        self.with_resource_attribute("deployment.environment.name", environment.into())
    }

    /// Adds a resource attribute, overriding detected and environment values.
    ///
    /// Defaults to none. Corresponding environment variable:
    /// `OTEL_RESOURCE_ATTRIBUTES`; this overrides the same key there.
    pub fn with_resource_attribute(
        mut self,
        key: impl Into<opentelemetry::Key>,
        value: impl Into<Value>,
    ) -> Self {
        self.resource.push(KeyValue::new(key, value));
        self
    }

    /// Chooses where spans go; an empty list means `none`.
    ///
    /// Defaults to `otlp`. Corresponding environment variable:
    /// `OTEL_TRACES_EXPORTER`; this overrides it.
    pub fn with_traces_exporters(
        mut self,
        exporters: impl IntoIterator<Item = TracesExporter>,
    ) -> Self {
        self.exporters = Some(exporters.into_iter().collect());
        self
    }

    /// Also appends spans to the local trace store at `path`, as OTLP/JSON
    /// lines that `tracelink show TRACE_ID --store PATH` reads (see
    /// [`crate::store`]): this adds [`TracesExporter::File`] to the exporters
    /// chosen by code or `OTEL_TRACES_EXPORTER`. A relative path is relative to
    /// the working directory; missing directories are created.
    ///
    /// Defaults to no file; with `OTEL_TRACES_EXPORTER=file`, to
    /// `.tracelink/traces.jsonl`. Corresponding environment variable:
    /// `TRACELINK_TRACES_FILE`; this overrides it.
    ///
    /// ```
    /// use tracelink::trace::TracesExporter;
    ///
    /// let config = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "otlp")])
    ///     .with_traces_file("target/traces.jsonl")
    ///     .config()?;
    /// assert_eq!(config.traces_exporters(), [TracesExporter::Otlp, TracesExporter::File]);
    /// assert_eq!(config.traces_file(), std::path::Path::new("target/traces.jsonl"));
    /// # Ok::<(), tracelink::Error>(())
    /// ```
    pub fn with_traces_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.traces_file = Some(path.into());
        self
    }

    /// The size past which the trace file is rotated: it becomes
    /// `traces.jsonl.1` and a new one is started; the newest
    /// [`ROTATED_FILES`](crate::store::ROTATED_FILES) rotated files are kept.
    ///
    /// Defaults to 64 MiB. Corresponding environment variable:
    /// `TRACELINK_TRACES_FILE_MAX_BYTES`; this overrides it.
    pub fn with_traces_file_max_bytes(mut self, max_bytes: u64) -> Self {
        self.traces_file_max_bytes = Some(max_bytes.max(1));
        self
    }

    /// Adds a layer of your own to the subscriber [`init`](Builder::init)
    /// installs: Sentry, tokio-console, a second writer, anything built on
    /// `tracing-subscriber`. It sits under tracelink's filter and layers, so
    /// it sees the spans and events they enable (narrow it further with its
    /// own `.with_filter(..)`, remembering that a per-layer filter also hides
    /// the spans it turns away from that layer, so its lines lose their span
    /// prefix); inside a span, the OpenTelemetry context is
    /// current, so its events see the same trace and span ids as tracelink's
    /// log lines. Call it once per layer; they run in the order added.
    ///
    /// Defaults to none. [`build`](Builder::build) ignores them: compose
    /// them with [`Parts::layer`](crate::Parts::layer) yourself.
    ///
    /// ```no_run
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let _guard = tracelink::builder()
    ///     .with_layer(tracing_subscriber::fmt::layer().with_writer(std::io::stderr))
    ///     .init()?;
    /// # Ok(()) }
    /// ```
    pub fn with_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<Registry> + Send + Sync + 'static,
    {
        self.layers.0.push(Box::new(layer));
        self
    }

    /// Sends spans to any [`SpanExporter`](opentelemetry_sdk::trace::SpanExporter)
    /// as well, for example an in-memory one in tests.
    ///
    /// Defaults to none.
    pub fn with_span_exporter<E>(mut self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::trace::SpanExporter + 'static,
    {
        self.custom_exporters.push(Box::new(exporter));
        self
    }

    /// Chooses where log records go besides the log lines on stdout: over
    /// OTLP to the Collector (which passes them on to Loki, Elasticsearch
    /// or a vendor), to stderr for a person to read, or into the local
    /// store beside the spans, where `tracelink show` prints them under
    /// their spans. An empty list means `none`. Every event that becomes a
    /// log line (the log filter decides, `RUST_LOG`) also becomes one OTLP
    /// log record, with the same trace and span ids; the lines stay as
    /// they are (turn them off alone with
    /// [`with_log_format(LogFormat::None)`](Builder::with_log_format)).
    ///
    /// Defaults to none: tracelink differs here from the specification's
    /// default (`otlp`), since a service whose stdout is already collected
    /// would otherwise ship every line twice. Corresponding environment
    /// variable: `OTEL_LOGS_EXPORTER`; this overrides it.
    ///
    /// ```
    /// use tracelink::logs::LogsExporter;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_logs_exporters([LogsExporter::Otlp])
    ///     .with_otlp_endpoint("http://collector:4317")
    ///     .with_protocol(tracelink::trace::Protocol::Grpc)
    ///     .config()?;
    /// assert_eq!(config.logs_endpoint(), Some("http://collector:4317"));
    /// # Ok(()) }
    /// ```
    pub fn with_logs_exporters(
        mut self,
        exporters: impl IntoIterator<Item = LogsExporter>,
    ) -> Self {
        self.logs_exporters = Some(exporters.into_iter().collect());
        self
    }

    /// Sets the OTLP logs URL, used as is.
    ///
    /// Defaults to the base endpoint plus `v1/logs` for HTTP. Corresponding
    /// environment variable: `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`; this
    /// overrides it.
    pub fn with_otlp_logs_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.logs_endpoint = Some(endpoint.into());
        self
    }

    /// Configures batching of log records.
    ///
    /// Defaults to [`BatchConfig::logs`]. Corresponding environment
    /// variables: `OTEL_BLRP_*`; this overrides them all.
    pub fn with_logs_batch_config(mut self, batch: BatchConfig) -> Self {
        self.logs_batch = Some(batch);
        self
    }

    /// Sends log records to any
    /// [`LogExporter`](opentelemetry_sdk::logs::LogExporter) as well, for
    /// example an in-memory one in tests; the log records are then made
    /// whatever [`with_logs_exporters`](Builder::with_logs_exporters) says.
    ///
    /// Defaults to none.
    ///
    /// ```
    /// use opentelemetry_sdk::logs::InMemoryLogExporter;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let exporter = InMemoryLogExporter::default();
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none"), ("TRACELINK_LOG_FORMAT", "none")])
    ///     .with_log_exporter(exporter.clone())
    ///     .build()?;
    /// let subscriber = tracing_subscriber::layer::SubscriberExt::with(
    ///     tracing_subscriber::registry(),
    ///     parts.layer(),
    /// );
    /// tracing::subscriber::with_default(subscriber, || tracing::warn!(order.id = 7, "card declined"));
    /// parts.guard().flush()?; // (shutting down would empty this exporter)
    /// let records = exporter.get_emitted_logs().unwrap_or_default();
    /// assert_eq!(records.len(), 1);
    /// assert_eq!(records[0].record.severity_text(), Some("WARN"));
    /// # Ok(()) }
    /// ```
    pub fn with_log_exporter<E>(mut self, exporter: E) -> Self
    where
        E: opentelemetry_sdk::logs::LogExporter + 'static,
    {
        self.custom_log_exporters.push(Box::new(exporter));
        self
    }

    /// Sets the OTLP base endpoint; for HTTP, `v1/traces` is appended.
    ///
    /// Defaults to `http://localhost:4317` (gRPC) or `http://localhost:4318`
    /// (HTTP). Corresponding environment variable: `OTEL_EXPORTER_OTLP_ENDPOINT`;
    /// this overrides it.
    pub fn with_otlp_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.endpoint = Some(endpoint.into());
        self
    }

    /// Sets the OTLP traces URL, used as is.
    ///
    /// Defaults to the base endpoint plus `v1/traces` for HTTP. Corresponding
    /// environment variable: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`; this overrides it.
    pub fn with_otlp_traces_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.traces_endpoint = Some(endpoint.into());
        self
    }

    /// Trusts the CAs in this PEM file, and only them, for an `https://`
    /// OTLP endpoint (a private CA, a Collector gateway's own). Without it
    /// the platform's trusted roots verify the server.
    ///
    /// An unreadable file, or one without a PEM certificate, is a warning
    /// naming it, and the system roots are used (an error in strict mode).
    /// Defaults to none. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`, `OTEL_EXPORTER_OTLP_CERTIFICATE`;
    /// this overrides them.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_otlp_endpoint("https://collector.internal:4318")
    ///     .with_otlp_certificate("/etc/ssl/private-ca.pem")
    ///     .config()?;
    /// // The file does not exist here: a warning, and the system roots.
    /// assert_eq!(config.warnings()[0].variable(), "Builder::with_otlp_certificate");
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_otlp_certificate(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls_certificate = Some(path.into());
        self
    }

    /// Sends this client certificate (a PEM chain) when an `https://` OTLP
    /// endpoint asks for one (mTLS); needs
    /// [`with_otlp_client_key`](Self::with_otlp_client_key) too.
    ///
    /// Defaults to none. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`,
    /// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`; this overrides them.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_otlp_client_certificate(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls_client_certificate = Some(path.into());
        self
    }

    /// The private key (PEM: PKCS#8, PKCS#1 or SEC1) of the client
    /// certificate. A key that does not match the certificate is a warning
    /// naming it, and no client certificate is sent (an error in strict mode).
    ///
    /// Defaults to none. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`, `OTEL_EXPORTER_OTLP_CLIENT_KEY`;
    /// this overrides them.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_otlp_client_key(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.tls_client_key = Some(path.into());
        self
    }

    /// For a gRPC endpoint given without a scheme (`collector:4317`):
    /// `true` connects in plain text, `false` with TLS. An endpoint with a
    /// scheme says itself.
    ///
    /// Defaults to `false`. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_INSECURE`, `OTEL_EXPORTER_OTLP_INSECURE`; this
    /// overrides them.
    pub fn with_otlp_insecure(mut self, insecure: bool) -> Self {
        self.insecure = Some(insecure);
        self
    }

    /// Chooses the OTLP transport.
    ///
    /// Defaults to [`Protocol::HttpProtobuf`]. Corresponding environment
    /// variables: `OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`, `OTEL_EXPORTER_OTLP_PROTOCOL`;
    /// this overrides them.
    pub fn with_protocol(mut self, protocol: Protocol) -> Self {
        self.protocol = Some(protocol);
        self
    }

    /// Adds a header (gRPC metadata) to every OTLP export, such as an API key.
    ///
    /// Defaults to none. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_EXPORTER_OTLP_TRACES_HEADERS`; this
    /// overrides the same key there.
    pub fn with_otlp_header(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.0.push((key.into(), value.into()));
        self
    }

    /// How long one OTLP request may take.
    ///
    /// Defaults to 10 s. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_TIMEOUT`, `OTEL_EXPORTER_OTLP_TIMEOUT`; this
    /// overrides them.
    pub fn with_otlp_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Compresses OTLP requests.
    ///
    /// Defaults to [`Compression::None`]. Corresponding environment variables:
    /// `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`, `OTEL_EXPORTER_OTLP_COMPRESSION`;
    /// this overrides them.
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = Some(compression);
        self
    }

    /// Chooses the head sampler.
    ///
    /// Defaults to `parentbased_always_on`. Corresponding environment variables:
    /// `OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`; this overrides them.
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = Some(sampler);
        self
    }

    /// Chooses the globally installed propagators; an empty list means `none`.
    ///
    /// Defaults to `tracecontext,baggage`. Corresponding environment variable:
    /// `OTEL_PROPAGATORS`; this overrides it.
    pub fn with_propagators(mut self, propagators: impl IntoIterator<Item = Propagator>) -> Self {
        self.propagators = Some(propagators.into_iter().collect());
        self
    }

    /// How many attributes, events and links a span keeps, and how long a
    /// string value may be; what is past a limit is dropped and counted in
    /// OTLP's `dropped_*_count` fields, a value cut at a character boundary.
    ///
    /// Defaults to [`SpanLimits::default`](crate::trace::SpanLimits)
    /// (128 of each, values unlimited). Corresponding environment
    /// variables: `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`,
    /// `OTEL_SPAN_EVENT_COUNT_LIMIT`, `OTEL_SPAN_LINK_COUNT_LIMIT`,
    /// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`, `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`,
    /// `OTEL_ATTRIBUTE_COUNT_LIMIT`, `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`; this overrides them all.
    pub fn with_span_limits(mut self, limits: crate::trace::SpanLimits) -> Self {
        self.span_limits = Some(limits);
        self
    }

    /// Configures batching of finished spans.
    ///
    /// Defaults to [`BatchConfig::default`]. Corresponding environment variables:
    /// `OTEL_BSP_*`; this overrides them all.
    pub fn with_batch_config(mut self, batch: BatchConfig) -> Self {
        self.batch = Some(batch);
        self
    }

    /// Sets how much tracelink prints about itself on stderr.
    ///
    /// Defaults to [`DiagLevel::Warn`]. Corresponding environment variable:
    /// `OTEL_LOG_LEVEL`; this overrides it.
    pub fn with_log_level(mut self, level: DiagLevel) -> Self {
        self.log_level = Some(level);
        self
    }

    /// Sets which events become log lines, in `EnvFilter` syntax
    /// (`warn,my_crate=debug`). It does not decide which spans exist: that is
    /// [`with_span_filter`](Builder::with_span_filter), so a service at `warn`
    /// still exports its `INFO` spans and its `WARN` lines carry their ids.
    ///
    /// Directives that do not parse are skipped with one warning; with none
    /// left, the default is used.
    ///
    /// Defaults to `info`. Corresponding environment variable: `RUST_LOG`;
    /// this overrides it.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder().with_filter("warn,checkout=debug").config()?;
    /// assert_eq!(config.filter(), "warn,checkout=debug");
    /// assert_eq!(config.span_filter(), "info");
    /// # Ok(()) }
    /// ```
    pub fn with_filter(mut self, directives: impl Into<String>) -> Self {
        self.filter = Some(directives.into());
        self
    }

    /// Sets which spans exist, and so are exported and give log lines their
    /// ids, in `EnvFilter` syntax (`info,sqlx=warn`), whatever the log filter
    /// ([`with_filter`](Builder::with_filter), `RUST_LOG`) says.
    ///
    /// Directives that do not parse are skipped with one warning; with none
    /// left, the default is used.
    ///
    /// Defaults to `info`. Corresponding environment variable:
    /// `TRACELINK_SPAN_FILTER`; this overrides it.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_env([("RUST_LOG", "warn")])
    ///     .with_span_filter("info,my_service=debug")
    ///     .config()?;
    /// assert_eq!(config.span_filter(), "info,my_service=debug");
    /// assert_eq!(config.filter(), "warn");
    /// # Ok(()) }
    /// ```
    pub fn with_span_filter(mut self, directives: impl Into<String>) -> Self {
        self.span_filter = Some(directives.into());
        self
    }

    /// Bounds everything the guard does at shutdown, however slow the collector.
    ///
    /// Defaults to 5 s. Corresponding environment variable:
    /// `TRACELINK_SHUTDOWN_TIMEOUT`; this overrides it.
    pub fn with_shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = Some(timeout);
        self
    }

    /// Whether entering a `tracing` span also makes its OpenTelemetry context
    /// current (`opentelemetry::Context::current()`).
    ///
    /// Keep it on if any code injects headers from the current OpenTelemetry
    /// context (`propagator.inject(&mut headers)`) or uses the OpenTelemetry
    /// API directly inside `tracing` spans: without it they see no span, and a
    /// trace breaks at the next service. Turning it off saves two allocations
    /// and about a third of the cost of each span (`cargo bench --bench span`);
    /// `tracing::Span::current().context()` keeps working either way, but
    /// metric exemplars read the current OpenTelemetry context, so without
    /// activation samples carry none.
    ///
    /// Defaults to `true`.
    pub fn with_context_activation(mut self, activation: bool) -> Self {
        self.context_activation = Some(activation);
        self
    }

    /// Which events also become span events: those at `level` or above.
    ///
    /// Every event is a JSON log line with its span's ids whatever this says;
    /// a span event repeats it inside the exported span. `WARN` by default:
    /// warnings and errors show on the trace, and `INFO` lines, usually the
    /// bulk, are sent once, as log lines (OpenTelemetry too is moving events
    /// from spans to logs). `ERROR` events always reach the span, since they
    /// set its status. Corresponding environment variable:
    /// `TRACELINK_SPAN_EVENTS`; this overrides it.
    ///
    /// ```
    /// let config = tracelink::builder()
    ///     .with_span_events(tracing::Level::INFO)
    ///     .config()?;
    /// assert_eq!(config.span_events(), tracing::Level::INFO);
    /// # Ok::<(), tracelink::Error>(())
    /// ```
    pub fn with_span_events(mut self, level: tracing::Level) -> Self {
        self.span_events = Some(level);
        self
    }

    /// Adds where each span was made to it: `code.file.path`,
    /// `code.module.name` and `code.line.number`, as `tracing-opentelemetry`'s
    /// `with_location` names them.
    ///
    /// Defaults to `false`, as in OpenTelemetry's own SDKs: they are three
    /// more attributes on every span sent. When on, the export thread adds
    /// them from the span's callsite, so the span's own thread pays nothing.
    /// (A span's `tracing` target is always sent, as its instrumentation
    /// scope.)
    ///
    /// ```
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
    ///     .with_span_code_location(true)
    ///     .build()?;
    /// # drop(parts);
    /// # Ok::<(), tracelink::Error>(())
    /// ```
    pub fn with_span_code_location(mut self, on: bool) -> Self {
        self.span_code_location = on;
        self
    }

    /// Writes one JSON line per event (with the span's trace and span ids),
    /// or no line at all: `with_log_format(LogFormat::Json)` or
    /// `with_log_format(LogFormat::None)`.
    ///
    /// Defaults to `true`. Corresponding environment variable:
    /// `TRACELINK_LOG_FORMAT`; this overrides it.
    pub fn with_json_logs(self, on: bool) -> Self {
        self.with_log_format(if on { LogFormat::Json } else { LogFormat::None })
    }

    /// Chooses how events are written on stdout: JSON lines for machines,
    /// pretty lines for a developer at a terminal, or nothing.
    ///
    /// Defaults to [`LogFormat::Json`](crate::logs::LogFormat::Json). Corresponding
    /// environment variable: `TRACELINK_LOG_FORMAT` (`json`, `pretty`,
    /// `none`); this overrides it.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_log_format(tracelink::logs::LogFormat::Pretty)
    ///     .config()?;
    /// assert_eq!(config.log_format(), tracelink::logs::LogFormat::Pretty);
    /// # Ok(()) }
    /// ```
    pub fn with_log_format(mut self, format: LogFormat) -> Self {
        self.log_format = Some(format);
        self
    }

    /// Chooses the field names of log lines.
    ///
    /// Defaults to [`LogStyle::Otel`](crate::logs::LogStyle::Otel). Corresponding
    /// environment variable: `TRACELINK_LOG_STYLE`; this overrides it.
    pub fn with_log_style(mut self, style: crate::logs::LogStyle) -> Self {
        self.log_style = Some(style);
        self
    }

    /// Sends log lines to `writer` instead of stdout.
    ///
    /// Defaults to [`LogWriter::stdout`](crate::logs::LogWriter::stdout).
    pub fn with_log_writer(mut self, writer: crate::logs::LogWriter) -> Self {
        self.log_writer = Some(writer);
        self
    }

    /// Writes stdout lines from a background thread, so a slow consumer of
    /// stdout never blocks the service; the guard flushes it at shutdown.
    /// Lines dropped on a full buffer (8 MiB), or still buffered at the
    /// shutdown deadline, are counted in
    /// [`Guard::stats`](crate::Guard::stats)`().log_lines()`, and
    /// [`Guard::shutdown`](crate::Guard::shutdown) reports them.
    ///
    /// Defaults to `false`. Corresponding environment variable:
    /// `TRACELINK_LOG_NON_BLOCKING`; this overrides it.
    pub fn with_non_blocking_logs(mut self, on: bool) -> Self {
        self.non_blocking_logs = Some(on);
        self
    }

    /// The Google Cloud project in the `gcp` style's trace field.
    ///
    /// Defaults to none (`unknown`). Corresponding environment variable:
    /// `GOOGLE_CLOUD_PROJECT`; this overrides it.
    pub fn with_gcp_project(mut self, project: impl Into<String>) -> Self {
        self.gcp_project = Some(project.into());
        self
    }

    /// Lists every span from the root, with its fields, on each line.
    ///
    /// Defaults to `false`: only the current span.
    pub fn with_log_span_list(mut self, on: bool) -> Self {
        self.log_span_list = on;
        self
    }

    /// Adds `code.file.path` and `code.line.number` to each line.
    ///
    /// Defaults to `false`.
    pub fn with_log_code_location(mut self, on: bool) -> Self {
        self.log_code_location = on;
        self
    }

    /// Adds `thread.name` and `thread.id` to each line.
    ///
    /// Defaults to `false`.
    pub fn with_log_thread(mut self, on: bool) -> Self {
        self.log_thread = on;
        self
    }

    /// Adds `service.name` to each line.
    ///
    /// Defaults to `false`.
    pub fn with_log_service_name(mut self, on: bool) -> Self {
        self.log_service_name = on;
        self
    }

    /// The most series (label sets) one metric keeps; a new label set past
    /// it goes to the metric's `{otel_metric_overflow="true"}` series,
    /// counted in `tracelink_metrics_overflow_total`, so memory stays
    /// bounded whatever the labels.
    ///
    /// 1 to [`MAX_CARDINALITY_LIMIT`](crate::metrics::MAX_CARDINALITY_LIMIT)
    /// (100,000); out of range is a warning and the default. Defaults to
    /// 2000. Corresponding environment variable:
    /// `TRACELINK_METRICS_CARDINALITY_LIMIT`; this overrides it.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder().with_metrics_cardinality_limit(500).config()?;
    /// assert_eq!(config.metrics_cardinality_limit(), 500);
    /// # Ok(()) }
    /// ```
    pub fn with_metrics_cardinality_limit(mut self, limit: usize) -> Self {
        self.metrics_cardinality_limit = Some(limit);
        self
    }

    /// Whether tracelink's `metrics` recorder is installed at all (`init`
    /// only); `false` turns every metrics exporter off.
    ///
    /// Defaults to `true`. Corresponding environment variable:
    /// `OTEL_METRICS_EXPORTER=none`; `false` overrides it.
    pub fn with_metrics(mut self, on: bool) -> Self {
        self.metrics = Some(on);
        self
    }

    /// Where metrics go: served on `/metrics` for Prometheus, pushed over
    /// OTLP every [export interval](Builder::with_metric_export_interval)
    /// (counters as monotonic sums, gauges, histograms with their buckets,
    /// every data point with the exemplars `/metrics` shows), printed on
    /// stderr, or several of these. An empty list means `none`.
    ///
    /// Defaults to `prometheus`: tracelink differs here from the
    /// specification's default (`otlp`), since a service is scraped until
    /// a Collector is there to push to. Corresponding environment variable:
    /// `OTEL_METRICS_EXPORTER`; this overrides it.
    ///
    /// ```
    /// use tracelink::metrics::MetricsExporter;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let config = tracelink::builder()
    ///     .with_metrics_exporters([MetricsExporter::Prometheus, MetricsExporter::Otlp])
    ///     .with_otlp_endpoint("http://collector:4318")
    ///     .config()?;
    /// assert_eq!(config.metrics_endpoint(), Some("http://collector:4318/v1/metrics"));
    /// # Ok(()) }
    /// ```
    pub fn with_metrics_exporters(
        mut self,
        exporters: impl IntoIterator<Item = crate::metrics::MetricsExporter>,
    ) -> Self {
        self.metrics_exporters = Some(exporters.into_iter().collect());
        self
    }

    /// Sets the OTLP metrics URL, used as is.
    ///
    /// Defaults to the base endpoint plus `v1/metrics` for HTTP.
    /// Corresponding environment variable: `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`;
    /// this overrides it.
    pub fn with_otlp_metrics_endpoint(mut self, endpoint: impl Into<String>) -> Self {
        self.metrics_endpoint = Some(endpoint.into());
        self
    }

    /// How often metrics are pushed (OTLP, console); once more at shutdown.
    ///
    /// Defaults to 60 s. Corresponding environment variable:
    /// `OTEL_METRIC_EXPORT_INTERVAL`; this overrides it.
    pub fn with_metric_export_interval(mut self, interval: Duration) -> Self {
        self.metric_export_interval = Some(interval);
        self
    }

    /// The longest one push may take.
    ///
    /// Defaults to 30 s. Corresponding environment variable:
    /// `OTEL_METRIC_EXPORT_TIMEOUT`; this overrides it.
    pub fn with_metric_export_timeout(mut self, timeout: Duration) -> Self {
        self.metric_export_timeout = Some(timeout);
        self
    }

    /// Whether counters and histograms are pushed as totals or as changes.
    ///
    /// Defaults to [`Temporality::Cumulative`](crate::metrics::Temporality::Cumulative).
    /// Corresponding environment variable:
    /// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`; this overrides it.
    pub fn with_metrics_temporality(mut self, temporality: crate::metrics::Temporality) -> Self {
        self.metrics_temporality = Some(temporality);
        self
    }

    /// Where `/metrics` listens; port 0 picks a free one (see
    /// [`Guard::metrics_address`](crate::Guard::metrics_address)).
    ///
    /// Defaults to `localhost:9464`. Corresponding environment variables:
    /// `OTEL_EXPORTER_PROMETHEUS_HOST`, `OTEL_EXPORTER_PROMETHEUS_PORT`; this
    /// overrides them.
    pub fn with_prometheus_listener(mut self, host: impl Into<String>, port: u16) -> Self {
        self.prometheus_listener = Some((host.into(), port));
        self
    }

    /// Which samples carry exemplars.
    ///
    /// Defaults to [`ExemplarFilter::TraceBased`](crate::metrics::ExemplarFilter::TraceBased).
    /// Corresponding environment variable: `OTEL_METRICS_EXEMPLAR_FILTER`; this
    /// overrides it.
    pub fn with_exemplar_filter(mut self, filter: crate::metrics::ExemplarFilter) -> Self {
        self.exemplar_filter = Some(filter);
        self
    }

    /// Bucket bounds for the histograms `matcher` matches; the first matching
    /// rule wins.
    ///
    /// Defaults to [`DEFAULT_BUCKETS`](crate::metrics::DEFAULT_BUCKETS) (seconds) for all.
    pub fn with_histogram_buckets(
        mut self,
        matcher: crate::metrics::Matcher,
        bounds: &[f64],
    ) -> Self {
        self.buckets.push((matcher, bounds.to_vec()));
        self
    }
}
