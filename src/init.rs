//! Assembling the parts: `Registry` + filter + `tracing-opentelemetry` layer on
//! tracelink's tracer, the global propagator, and the guard.

use opentelemetry::propagation::TextMapCompositePropagator;
use opentelemetry::InstrumentationScope;
use opentelemetry_sdk::Resource;
use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::Layer;

use crate::config::{Builder, Config};
use crate::diag::{self, diag};
use crate::filter::quiet::{self, QuietExportThread};
use crate::filter::{Directives, Filters};
use crate::logs::non_blocking::{self, NonBlocking};
use crate::logs::record::Records;
use crate::logs::{LogFormat, LogLayer, LogWriter};
use crate::metrics::{MetricsConfig, MetricsHandle, MetricsRecorder};
use crate::propagation::{BaggagePropagator, Propagator, TraceContextPropagator};
use crate::trace::{export, LinkTracer, LinkTracerProvider, OtelLayer};
use crate::{Error, Guard};

/// Sets everything up from the environment and installs it globally: the
/// `tracing` subscriber, the OpenTelemetry tracer provider and propagator.
///
/// Same as `tracelink::builder().init()`.
///
/// ```no_run
/// fn main() -> Result<(), tracelink::Error> {
///     let _guard = tracelink::init()?;
///     tracing::info_span!("startup").in_scope(|| tracing::info!("ready"));
///     Ok(())
/// }
/// ```
///
/// # Errors
///
/// [`Error::AlreadyInitialized`] if a global subscriber is already set;
/// [`Error::MetricsRecorderAlreadySet`] if a global `metrics` recorder is;
/// [`Error::Exporter`] if the OTLP exporter cannot be built; in strict mode,
/// [`Error::InvalidConfig`] for an invalid setting. After an error nothing is
/// installed: no subscriber, no recorder, no `/metrics` listener.
pub fn init() -> Result<Guard, Error> {
    builder().init()
}

/// A [`Builder`] to configure tracelink from code.
///
/// ```no_run
/// # fn main() -> Result<(), tracelink::Error> {
/// let _guard = tracelink::builder().with_service_name("checkout").init()?;
/// # Ok(()) }
/// ```
pub fn builder() -> Builder {
    Builder::new()
}

/// Everything [`Builder::build`] makes, installed nowhere: compose your own
/// subscriber with it.
///
/// If you run async code under a subscriber that is not the global default,
/// make it the default on every runtime thread too (Tokio's `on_thread_start`
/// with `tracing::dispatcher::set_default`): Tokio drops finished tasks outside
/// the task's dispatcher, and a span whose last child closes there is never
/// closed, so never exported (tokio-rs/tracing#1656). `init()` installs a
/// global default, which has no such problem.
///
/// ```
/// use tracing_subscriber::layer::SubscriberExt;
///
/// # fn main() -> Result<(), tracelink::Error> {
/// let parts = tracelink::builder()
///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
///     .build()?;
/// let subscriber = tracing_subscriber::registry()
///     .with(parts.filter())
///     .with(parts.otel_layer());
/// tracing::subscriber::with_default(subscriber, || {
///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
/// });
/// parts.into_guard().shutdown()?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Parts {
    config: Config,
    /// The log filter, shared by the subscriber's filter and the JSON layer;
    /// `None` when it is the span filter.
    log_filter: Option<Arc<Directives>>,
    json: LogLayer,
    metrics: MetricsRecorder,
    provider: LinkTracerProvider,
    tracer: LinkTracer,
    guard: Guard,
}

impl Parts {
    /// The effective configuration.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The `tracing-opentelemetry` layer on tracelink's tracer, configured as
    /// `init()` configures it: busy/idle timings and thread attributes off
    /// (they cost an allocation per span); each span's target sent as its
    /// instrumentation scope and, with [`Builder::with_span_code_location`],
    /// its source location as `code.*` attributes, both added on the export
    /// thread; context activation as [`Builder::with_context_activation`]
    /// says, span events as [`Builder::with_span_events`] says.
    pub fn otel_layer<S>(&self) -> OtelLayer<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let layer = tracing_opentelemetry::layer()
            .with_tracer(self.tracer.clone())
            .with_tracked_inactivity(false)
            .with_threads(false)
            // Added on the export thread instead (`trace/callsite.rs`).
            .with_location(false)
            .with_target(false)
            .with_context_activation(self.config.context_activation);
        OtelLayer::new(
            layer,
            self.config.span_events,
            self.config.context_activation,
        )
    }

    /// The subscriber's filter: every span the span filter enables
    /// (`TRACELINK_SPAN_FILTER` or [`Builder::with_span_filter`], `info` by
    /// default), and every event that becomes a log line (`RUST_LOG` or
    /// [`Builder::with_filter`], `info` by default) or a span event
    /// (`TRACELINK_SPAN_EVENTS`). The JSON layer writes lines only for the
    /// events the log filter enables, so a service at `RUST_LOG=warn` still
    /// exports its `INFO` spans, and its `WARN` lines carry their ids.
    ///
    /// It also keeps what tracelink's export thread logs (tonic, hyper, h2) and
    /// what the OpenTelemetry crates log about themselves out of your
    /// subscriber; compose with it, not without it.
    ///
    /// Directives that only name targets and levels (`info,my_crate=debug`)
    /// keep no per-span state; directives with span or field filters
    /// (`[request{id=7}]=trace`) need an `EnvFilter`, which costs about 300
    /// instructions more per span. Such log directives follow the spans of
    /// the subscriber this `Parts` is composed into; build one `Parts` per
    /// subscriber.
    pub fn filter<S>(&self) -> impl Layer<S> + Send + Sync + 'static
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        let filters = Filters::new(
            &self.config.span_filter,
            self.log_filter.clone(),
            self.config.span_events,
        );
        Layer::and_then(QuietExportThread, filters)
    }

    /// The whole stack `init()` installs, as one layer, in the order that
    /// keeps the log lines' ids right: [`filter`](Parts::filter), then
    /// [`otel_layer`](Parts::otel_layer), then [`log_layer`](Parts::log_layer).
    /// Add your own layers around it.
    ///
    /// ```
    /// use tracing_subscriber::layer::SubscriberExt;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
    ///     .build()?;
    /// let subscriber = tracing_subscriber::registry()
    ///     .with(tracing_subscriber::fmt::layer().with_writer(std::io::sink))
    ///     .with(parts.layer());
    /// tracing::subscriber::with_default(subscriber, || {
    ///     tracing::info_span!("request").in_scope(|| tracing::info!("handled"));
    /// });
    /// # Ok(()) }
    /// ```
    pub fn layer<S>(&self) -> impl Layer<S>
    where
        S: tracing::Subscriber + for<'span> LookupSpan<'span>,
    {
        // Side by side in one layer, the log layer cannot see the
        // OpenTelemetry layer when it is added; both are in place here.
        self.filter()
            .and_then(self.otel_layer())
            .and_then(self.log_layer().with_otel_layer_required(false))
    }

    /// The log layer: JSON lines, or pretty ones, or nothing when
    /// `TRACELINK_LOG_FORMAT=none`. It takes each line's ids from
    /// [`otel_layer`](Parts::otel_layer), which must be in the same
    /// subscriber, under it: without it, adding the log layer panics rather
    /// than write lines that cannot be jumped from (see
    /// [`LogLayer::with_otel_layer_required`]). [`layer`](Parts::layer) puts
    /// both in place.
    pub fn log_layer(&self) -> LogLayer {
        self.json.clone()
    }

    /// The `metrics` recorder; `init()` installs it globally. Install it
    /// yourself with `metrics::set_global_recorder`, and serve
    /// [`MetricsHandle::render`] from your own `/metrics` route.
    pub fn metrics_recorder(&self) -> &MetricsRecorder {
        &self.metrics
    }

    /// Renders the recorder's metrics.
    pub fn metrics_handle(&self) -> MetricsHandle {
        self.metrics.handle()
    }

    /// The tracer `tracing-opentelemetry` uses.
    pub fn tracer(&self) -> &LinkTracer {
        &self.tracer
    }

    /// The tracer provider, for libraries that use the OpenTelemetry API directly.
    pub fn tracer_provider(&self) -> &LinkTracerProvider {
        &self.provider
    }

    /// The propagators `OTEL_PROPAGATORS` asks for, in its order: tracelink's
    /// [`TraceContextPropagator`] and [`BaggagePropagator`] by default. On
    /// extract each reads its own headers; on inject each writes them.
    ///
    /// ```
    /// use opentelemetry::propagation::TextMapPropagator;
    ///
    /// # fn main() -> Result<(), tracelink::Error> {
    /// let parts = tracelink::builder()
    ///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
    ///     .build()?;
    /// let propagator = parts.propagator();
    /// let mut fields: Vec<_> = propagator.fields().collect();
    /// fields.sort_unstable();
    /// assert_eq!(fields, ["baggage", "traceparent", "tracestate"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn propagator(&self) -> TextMapCompositePropagator {
        propagator(&self.config.propagators)
    }

    /// The guard that flushes the exporters.
    pub fn guard(&self) -> &Guard {
        &self.guard
    }

    /// Keeps only the guard; the tracer and layers stay usable.
    pub fn into_guard(self) -> Guard {
        self.guard
    }
}

fn propagator(kinds: &[Propagator]) -> TextMapCompositePropagator {
    let propagators = kinds
        .iter()
        .map(
            |kind| -> Box<dyn opentelemetry::propagation::TextMapPropagator + Send + Sync> {
                match kind {
                    Propagator::TraceContext => Box::new(TraceContextPropagator::new()),
                    Propagator::Baggage => Box::new(BaggagePropagator::new()),
                }
            },
        )
        .collect();
    TextMapCompositePropagator::new(propagators)
}

impl Builder {
    /// Builds every part without installing anything global.
    ///
    /// # Errors
    ///
    /// [`Error::Exporter`] if the OTLP exporter cannot be built, [`Error::Thread`]
    /// if the export thread cannot start; in strict mode, [`Error::InvalidConfig`].
    pub fn build(self) -> Result<Parts, Error> {
        let config = self.config()?;
        diag::set_level(config.log_level);
        for warning in &config.warnings {
            diag!(Warn, "{warning}");
        }
        let runtime = export_runtime()?;
        let mut exporters = Vec::new();
        if !config.disabled {
            match export::build(&config.exporters(), &runtime) {
                Ok(built) => exporters = built,
                Err(error) => {
                    runtime.shutdown_background();
                    return Err(error);
                }
            }
            exporters.extend(self.custom_exporters);
        }
        let mut log_writer_thread = None;
        let json = {
            // Colour only on the process's own stdout, when it is a terminal.
            let colour = self.log_writer.is_none() && colour_on_stdout();
            let writer = match self.log_writer {
                Some(writer) => writer,
                None if config.non_blocking_logs && config.log_format != LogFormat::None => {
                    let counts = Arc::default();
                    let (writer, thread) = NonBlocking::start(
                        non_blocking::Stdout,
                        non_blocking::CAPACITY,
                        Arc::clone(&counts),
                    )
                    .map_err(Error::Thread)?;
                    log_writer_thread = Some(thread);
                    LogWriter::non_blocking(writer, counts)
                }
                None => LogWriter::stdout(),
            };
            let service_name = self
                .log_service_name
                .then_some(config.service_name.as_str());
            let layer = LogLayer::new(writer, config.log_style);
            let layer = match config.log_format {
                LogFormat::Pretty => layer.with_pretty(colour),
                LogFormat::Json | LogFormat::None => layer,
            };
            layer
                .with_span_list(self.log_span_list)
                .with_code_location(self.log_code_location)
                .with_thread(self.log_thread)
                .with_service_name(service_name)
                .with_gcp_project(config.gcp_project.as_deref().unwrap_or("unknown"))
                .with_enabled(config.log_format != LogFormat::None)
        };
        let log_filter = (config.filter != config.span_filter)
            .then(|| Arc::new(Directives::new(&config.filter)));
        let json = json.with_event_filter(log_filter.clone());
        let resource = Resource::builder_empty()
            .with_attributes(config.resource.iter().cloned())
            .build();
        for exporter in &mut exporters {
            exporter.set_resource(&resource);
        }
        let records = log_records(&config, self.custom_log_exporters, &resource)?;
        let json = json.with_records(records.clone());
        diag!(
            Info,
            "service {:?}: spans to {}, sampler {}",
            config.service_name,
            if exporters.is_empty() {
                "nowhere".to_owned()
            } else {
                exporters
                    .iter()
                    .map(|e| e.describe())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
            config.sampler
        );
        let pipeline = crate::trace::pipeline::start(
            &config.batch,
            exporters,
            runtime,
            self.span_code_location,
        )
        .map_err(Error::Thread)?;
        let provider =
            LinkTracerProvider::new(pipeline.clone(), config.sampler.clone(), config.span_limits);
        let tracer = provider.scoped(
            InstrumentationScope::builder("tracelink")
                .with_version(env!("CARGO_PKG_VERSION"))
                .build(),
        );
        let mut metrics_config = MetricsConfig::default()
            .with_target_info(config.resource.iter().cloned())
            .with_exemplar_filter(config.exemplar_filter)
            .with_cardinality_limit(config.metrics_cardinality_limit);
        for (matcher, bounds) in &self.buckets {
            metrics_config = metrics_config.with_buckets(matcher.clone(), bounds);
        }
        let metrics = MetricsRecorder::new(metrics_config);
        let push = metrics_push(&config, &metrics, &resource)?;
        let guard = Guard::new(pipeline, config.shutdown_timeout)
            .with_metrics_push(push)
            .with_log_records(records.map(|records| Arc::clone(records.pipeline())))
            .with_log_lines(Arc::clone(json.line_counts()), log_writer_thread);
        Ok(Parts {
            config,
            log_filter,
            json,
            metrics,
            provider,
            tracer,
            guard,
        })
    }

    /// Builds everything and installs it globally: the `tracing` subscriber, the
    /// `metrics` recorder, the OpenTelemetry tracer provider and the
    /// propagator.
    ///
    /// # Errors
    ///
    /// [`Error::AlreadyInitialized`] if a global subscriber is already set,
    /// [`Error::MetricsRecorderAlreadySet`] if a global `metrics` recorder is
    /// (then nothing is installed), and the errors of
    /// [`build`](Builder::build).
    pub fn init(mut self) -> Result<Guard, Error> {
        let layers = std::mem::take(&mut self.layers).0;
        let parts = self.build()?;
        let mut metrics_server = None;
        // A second init is refused as such, before anything else is asked.
        static INITIALIZED: std::sync::atomic::AtomicBool =
            std::sync::atomic::AtomicBool::new(false);
        if INITIALIZED.load(std::sync::atomic::Ordering::Acquire) {
            return Err(Error::AlreadyInitialized(None));
        }
        // All or nothing: a recorder already set is refused before the
        // subscriber goes in (`metrics` can set one only once, and neither can
        // be taken out again).
        if parts.config.metrics && global_recorder_is_set() {
            return Err(Error::MetricsRecorderAlreadySet);
        }
        // An empty list of layers would answer `Interest::never` for every
        // callsite; only a non-empty one goes in.
        let installed = if layers.is_empty() {
            tracing_subscriber::registry()
                .with(parts.layer())
                .try_init()
        } else {
            tracing_subscriber::registry()
                .with(layers)
                .with(parts.layer())
                .try_init()
        };
        installed.map_err(|error| Error::AlreadyInitialized(Some(error)))?;
        if parts.config.metrics {
            metrics::set_global_recorder(parts.metrics.clone())
                .map_err(|_| Error::MetricsRecorderAlreadySet)?;
        }
        if parts.config.serves_metrics() {
            metrics_server = start_metrics_listener(&parts.config, parts.metrics_handle());
        }
        INITIALIZED.store(true, std::sync::atomic::Ordering::Release);
        opentelemetry::global::set_tracer_provider(parts.provider.clone());
        opentelemetry::global::set_text_map_propagator(parts.propagator());
        let guard = parts.into_guard();
        Ok(match metrics_server {
            Some(server) => guard.with_metrics_server(server),
            None => guard,
        })
    }
}

/// A runtime for one export thread's I/O.
fn export_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        // Its blocking pool too (hyper's DNS lookups): what the export
        // path logs never reaches the service's subscriber.
        .on_thread_start(quiet::mark_export_thread)
        .build()
        .map_err(Error::Thread)
}

/// The log records' exporters and export thread, when `OTEL_LOGS_EXPORTER`
/// (or code) names any and the SDK is not disabled.
fn log_records(
    config: &Config,
    custom: Vec<Box<crate::logs::export::DynLogExporter>>,
    resource: &Resource,
) -> Result<Option<Records>, Error> {
    if config.disabled || (config.logs_exporters.is_empty() && custom.is_empty()) {
        return Ok(None);
    }
    let runtime = export_runtime()?;
    let mut exporters = match crate::logs::export::build(&config.log_exporters(), &runtime) {
        Ok(exporters) => exporters,
        Err(error) => {
            runtime.shutdown_background();
            return Err(error);
        }
    };
    exporters.extend(custom);
    for exporter in &mut exporters {
        exporter.set_resource(resource);
    }
    diag!(
        Info,
        "log records to {}",
        exporters
            .iter()
            .map(|e| e.describe())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Records::start(&config.logs_batch, exporters, runtime).map_err(Error::Thread)
}

/// The metrics push thread, when `OTEL_METRICS_EXPORTER` names `otlp` or
/// `console` and the SDK is not disabled.
fn metrics_push(
    config: &Config,
    metrics: &MetricsRecorder,
    resource: &Resource,
) -> Result<Option<crate::metrics::push::Pusher>, Error> {
    use crate::metrics::push::{Pusher, Schedule, Sink};
    use crate::metrics::MetricsExporter;
    let pushes = config
        .metrics_exporters
        .iter()
        .any(|e| *e != MetricsExporter::Prometheus);
    if config.disabled || !pushes {
        return Ok(None);
    }
    let runtime = export_runtime()?;
    let mut sinks = Vec::new();
    for exporter in &config.metrics_exporters {
        match exporter {
            MetricsExporter::Prometheus => {}
            MetricsExporter::Console => sinks.push(Sink::Console),
            #[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
            MetricsExporter::Otlp => {
                if let Some(otlp) = &config.metrics_otlp {
                    match Sink::otlp(&otlp.target(), &runtime) {
                        Ok(sink) => sinks.push(sink),
                        Err(error) => {
                            runtime.shutdown_background();
                            return Err(error);
                        }
                    }
                }
            }
            #[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
            MetricsExporter::Otlp => {
                runtime.shutdown_background();
                let endpoint = config
                    .metrics_otlp
                    .as_ref()
                    .map_or("", |o| o.endpoint.as_str());
                return Err(Error::Exporter {
                    signal: "metric",
                    endpoint: crate::diag::redact_url(endpoint).into_owned(),
                    source: crate::export::NO_TRANSPORT.into(),
                });
            }
        }
    }
    if sinks.is_empty() {
        runtime.shutdown_background();
        return Ok(None);
    }
    let converter = crate::metrics::Converter::new(
        config.metrics_temporality,
        resource,
        std::time::SystemTime::now(),
    );
    let schedule = Schedule {
        interval: config.metric_export_interval,
        timeout: config.metric_export_timeout,
    };
    Pusher::start(metrics.handle(), sinks, converter, schedule, runtime)
        .map(Some)
        .map_err(Error::Thread)
}

/// Whether pretty lines on stdout are coloured: when stdout is a terminal
/// and `NO_COLOR` is unset or empty (<https://no-color.org>).
fn colour_on_stdout() -> bool {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stdout().is_terminal()
}

/// Whether a global `metrics` recorder is set. `metrics` 0.24 cannot say so
/// without setting one, but it hands a scope without any recorder its
/// zero-sized no-op recorder; a fresh thread has no local recorder, so what it
/// is handed is the global one or that no-op. (A zero-sized recorder of the
/// service's own would read as none; setting tracelink's then fails as before,
/// after the subscriber is in.)
fn global_recorder_is_set() -> bool {
    std::thread::Builder::new()
        .name("tracelink-probe".into())
        .spawn(|| metrics::with_recorder(|recorder| std::mem::size_of_val(recorder) != 0))
        .ok()
        .and_then(|probe| probe.join().ok())
        .unwrap_or(false)
}

/// Serves `/metrics`; a listener that cannot start is a warning, not a reason
/// for the service not to start.
fn start_metrics_listener(
    config: &Config,
    handle: MetricsHandle,
) -> Option<crate::metrics::server::MetricsServer> {
    use std::net::ToSocketAddrs;
    let (host, port) = config.prometheus_listener();
    let Ok(Some(address)) = (host, port).to_socket_addrs().map(|mut a| a.next()) else {
        diag!(
            Warn,
            "cannot resolve OTEL_EXPORTER_PROMETHEUS_HOST={host:?}; /metrics is not served"
        );
        return None;
    };
    match crate::metrics::server::serve(address, handle) {
        Ok(server) => {
            diag!(
                Info,
                "serving /metrics on http://{}/metrics",
                server.address()
            );
            Some(server)
        }
        Err(error) => {
            diag!(Warn, "cannot serve /metrics on {address} ({error}); set OTEL_EXPORTER_PROMETHEUS_PORT, or OTEL_METRICS_EXPORTER=none");
            None
        }
    }
}
