//! The names of every environment variable tracelink reads, each with its
//! default (`NAME_DEFAULT`) where it has one: the `OTEL_*` variables of the
//! OpenTelemetry specification, `RUST_LOG`, and tracelink's own
//! `TRACELINK_*`.
//!
//! ```
//! assert_eq!(tracelink::env::OTEL_SERVICE_NAME, "OTEL_SERVICE_NAME");
//! assert_eq!(tracelink::env::OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT, 2048);
//! ```

use std::ops::RangeInclusive;
use std::time::Duration;

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
/// `OTEL_EXPORTER_OTLP_CERTIFICATE`: a PEM file of the CAs that verify the
/// server's certificate (`https://` endpoints), replacing the system roots.
pub const OTEL_EXPORTER_OTLP_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`: a PEM file of the client's
/// certificate chain, sent when the server asks for one (mTLS).
pub const OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_CLIENT_KEY`: a PEM file of the client certificate's
/// private key (PKCS#8, PKCS#1 or SEC1).
pub const OTEL_EXPORTER_OTLP_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_INSECURE`: for a gRPC endpoint given without a scheme
/// (`collector:4317`), `true` connects in plain text, `false` (the default)
/// with TLS.
pub const OTEL_EXPORTER_OTLP_INSECURE: &str = "OTEL_EXPORTER_OTLP_INSECURE";
/// `OTEL_EXPORTER_OTLP_TRACES_INSECURE`: overrides [`OTEL_EXPORTER_OTLP_INSECURE`] for traces.
pub const OTEL_EXPORTER_OTLP_TRACES_INSECURE: &str = "OTEL_EXPORTER_OTLP_TRACES_INSECURE";
/// Default for [`OTEL_EXPORTER_OTLP_TIMEOUT`].
pub const OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
/// `OTEL_EXPORTER_OTLP_COMPRESSION`: `gzip` or `none`.
pub const OTEL_EXPORTER_OTLP_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_TRACES_COMPRESSION`: overrides [`OTEL_EXPORTER_OTLP_COMPRESSION`].
pub const OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_TRACES_COMPRESSION";
/// `OTEL_LOGS_EXPORTER`: where log records go besides the log lines on
/// stdout: `otlp`, `console`, `file` or `none` (a comma-separated list).
/// tracelink's default is `none`, not the specification's `otlp`: the JSON
/// lines on stdout are the logs until a Collector is there to take them.
pub const OTEL_LOGS_EXPORTER: &str = "OTEL_LOGS_EXPORTER";
/// Default for [`OTEL_LOGS_EXPORTER`].
pub const OTEL_LOGS_EXPORTER_DEFAULT: &str = "none";
/// `OTEL_EXPORTER_OTLP_LOGS_ENDPOINT`: the logs URL, used as is.
pub const OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_LOGS_PROTOCOL`: overrides [`OTEL_EXPORTER_OTLP_PROTOCOL`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_LOGS_HEADERS`: added to (and overriding) [`OTEL_EXPORTER_OTLP_HEADERS`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_HEADERS: &str = "OTEL_EXPORTER_OTLP_LOGS_HEADERS";
/// `OTEL_EXPORTER_OTLP_LOGS_TIMEOUT`: overrides [`OTEL_EXPORTER_OTLP_TIMEOUT`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_LOGS_COMPRESSION`: overrides [`OTEL_EXPORTER_OTLP_COMPRESSION`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_LOGS_INSECURE`: overrides [`OTEL_EXPORTER_OTLP_INSECURE`] for logs.
pub const OTEL_EXPORTER_OTLP_LOGS_INSECURE: &str = "OTEL_EXPORTER_OTLP_LOGS_INSECURE";
/// `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT`: the metrics URL, used as is.
pub const OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT";
/// `OTEL_EXPORTER_OTLP_METRICS_PROTOCOL`: overrides [`OTEL_EXPORTER_OTLP_PROTOCOL`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: &str = "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL";
/// `OTEL_EXPORTER_OTLP_METRICS_HEADERS`: added to (and overriding) [`OTEL_EXPORTER_OTLP_HEADERS`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_HEADERS: &str = "OTEL_EXPORTER_OTLP_METRICS_HEADERS";
/// `OTEL_EXPORTER_OTLP_METRICS_TIMEOUT`: overrides [`OTEL_EXPORTER_OTLP_TIMEOUT`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: &str = "OTEL_EXPORTER_OTLP_METRICS_TIMEOUT";
/// `OTEL_EXPORTER_OTLP_METRICS_COMPRESSION`: overrides [`OTEL_EXPORTER_OTLP_COMPRESSION`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_COMPRESSION: &str = "OTEL_EXPORTER_OTLP_METRICS_COMPRESSION";
/// `OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CERTIFICATE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE: &str = "OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE";
/// `OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY`: overrides [`OTEL_EXPORTER_OTLP_CLIENT_KEY`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY: &str = "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY";
/// `OTEL_EXPORTER_OTLP_METRICS_INSECURE`: overrides [`OTEL_EXPORTER_OTLP_INSECURE`] for metrics.
pub const OTEL_EXPORTER_OTLP_METRICS_INSECURE: &str = "OTEL_EXPORTER_OTLP_METRICS_INSECURE";
/// `OTEL_TRACES_SAMPLER`: `always_on`, `always_off`, `traceidratio`, `parentbased_*`.
pub const OTEL_TRACES_SAMPLER: &str = "OTEL_TRACES_SAMPLER";
/// Default for [`OTEL_TRACES_SAMPLER`].
pub const OTEL_TRACES_SAMPLER_DEFAULT: &str = "parentbased_always_on";
/// `OTEL_TRACES_SAMPLER_ARG`: the ratio for the `*traceidratio` samplers.
pub const OTEL_TRACES_SAMPLER_ARG: &str = "OTEL_TRACES_SAMPLER_ARG";
/// `OTEL_ATTRIBUTE_COUNT_LIMIT`: the most attributes a span, an event or a
/// link keeps, unless its own variable says otherwise.
pub const OTEL_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`: the most attributes a span keeps.
pub const OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_SPAN_EVENT_COUNT_LIMIT`: the most events a span keeps.
pub const OTEL_SPAN_EVENT_COUNT_LIMIT: &str = "OTEL_SPAN_EVENT_COUNT_LIMIT";
/// `OTEL_SPAN_LINK_COUNT_LIMIT`: the most links a span keeps.
pub const OTEL_SPAN_LINK_COUNT_LIMIT: &str = "OTEL_SPAN_LINK_COUNT_LIMIT";
/// `OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`: the most attributes a span event keeps.
pub const OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`: the most attributes a link keeps.
pub const OTEL_LINK_ATTRIBUTE_COUNT_LIMIT: &str = "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT";
/// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`: the most characters a string
/// attribute value keeps; unlimited by default.
pub const OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// `OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`: overrides
/// [`OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`] for spans (their events and links too).
pub const OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT: &str = "OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT";
/// The valid count limits: 0 (keep none) to 100000.
pub const SPAN_COUNT_LIMIT_RANGE: RangeInclusive<usize> = 0..=100_000;
/// The valid value length limits: 1 to 10000000 characters.
pub const ATTRIBUTE_VALUE_LENGTH_RANGE: RangeInclusive<usize> = 1..=10_000_000;
/// `OTEL_PROPAGATORS`: `tracecontext`, `baggage`, `none` (a comma-separated list).
pub const OTEL_PROPAGATORS: &str = "OTEL_PROPAGATORS";
/// Default for [`OTEL_PROPAGATORS`].
pub const OTEL_PROPAGATORS_DEFAULT: &str = "tracecontext,baggage";
/// `OTEL_BSP_SCHEDULE_DELAY`: milliseconds between two exports.
pub const OTEL_BSP_SCHEDULE_DELAY: &str = "OTEL_BSP_SCHEDULE_DELAY";
/// Default for [`OTEL_BSP_SCHEDULE_DELAY`].
pub const OTEL_BSP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_secs(5);
/// `OTEL_BSP_EXPORT_TIMEOUT`: milliseconds one batch may take, retries included.
pub const OTEL_BSP_EXPORT_TIMEOUT: &str = "OTEL_BSP_EXPORT_TIMEOUT";
/// Default for [`OTEL_BSP_EXPORT_TIMEOUT`].
pub const OTEL_BSP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// `OTEL_BSP_MAX_QUEUE_SIZE`: spans waiting for export; more are dropped and counted.
pub const OTEL_BSP_MAX_QUEUE_SIZE: &str = "OTEL_BSP_MAX_QUEUE_SIZE";
/// Default for [`OTEL_BSP_MAX_QUEUE_SIZE`].
pub const OTEL_BSP_MAX_QUEUE_SIZE_DEFAULT: usize = 2048;
/// `OTEL_BSP_MAX_EXPORT_BATCH_SIZE`: spans in one export; at most the queue size.
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BSP_MAX_EXPORT_BATCH_SIZE";
/// Default for [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BSP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;
/// `OTEL_BLRP_SCHEDULE_DELAY`: milliseconds between two exports of log records.
pub const OTEL_BLRP_SCHEDULE_DELAY: &str = "OTEL_BLRP_SCHEDULE_DELAY";
/// Default for [`OTEL_BLRP_SCHEDULE_DELAY`].
pub const OTEL_BLRP_SCHEDULE_DELAY_DEFAULT: Duration = Duration::from_secs(1);
/// `OTEL_BLRP_EXPORT_TIMEOUT`: milliseconds one batch of log records may take.
pub const OTEL_BLRP_EXPORT_TIMEOUT: &str = "OTEL_BLRP_EXPORT_TIMEOUT";
/// Default for [`OTEL_BLRP_EXPORT_TIMEOUT`].
pub const OTEL_BLRP_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// `OTEL_BLRP_MAX_QUEUE_SIZE`: log records waiting for export; more are
/// dropped and counted.
pub const OTEL_BLRP_MAX_QUEUE_SIZE: &str = "OTEL_BLRP_MAX_QUEUE_SIZE";
/// Default for [`OTEL_BLRP_MAX_QUEUE_SIZE`].
pub const OTEL_BLRP_MAX_QUEUE_SIZE_DEFAULT: usize = 2048;
/// `OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`: log records in one export; at most the
/// queue size.
pub const OTEL_BLRP_MAX_EXPORT_BATCH_SIZE: &str = "OTEL_BLRP_MAX_EXPORT_BATCH_SIZE";
/// Default for [`OTEL_BLRP_MAX_EXPORT_BATCH_SIZE`].
pub const OTEL_BLRP_MAX_EXPORT_BATCH_SIZE_DEFAULT: usize = 512;
/// The valid [`OTEL_BSP_MAX_QUEUE_SIZE`] and
/// [`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`] (which is also at most the queue's):
/// the queue's memory grows with what it holds, about 300 bytes a span, so
/// a full queue of the most stays under 300 MiB.
pub const OTEL_BSP_SIZE_RANGE: RangeInclusive<usize> = 1..=1_000_000;
/// The valid [`OTEL_BSP_SCHEDULE_DELAY`]: at least 10 ms, so the export
/// thread never spins; at most an hour.
pub const OTEL_BSP_SCHEDULE_DELAY_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_secs(3600);
/// The valid export timeouts ([`OTEL_BSP_EXPORT_TIMEOUT`],
/// [`OTEL_EXPORTER_OTLP_TIMEOUT`] and its per-signal form): at least 10 ms
/// (0 would fail every export), at most 10 minutes.
pub const EXPORT_TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(10)..=Duration::from_secs(600);
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
/// The valid [`TRACELINK_SHUTDOWN_TIMEOUT`]: 0 (do not wait: whatever is
/// queued is lost, and counted) to 10 minutes.
pub const TRACELINK_SHUTDOWN_TIMEOUT_RANGE: RangeInclusive<Duration> =
    Duration::ZERO..=Duration::from_secs(600);
/// `OTEL_METRICS_EXPORTER`: `prometheus` (serve `/metrics`), `otlp` (push
/// to a Collector), `console` (print on stderr), `none`; a comma-separated
/// list (`prometheus,otlp` serves and pushes). tracelink's default is
/// `prometheus`, not the specification's `otlp`: a service is scraped until
/// a Collector is there to push to.
pub const OTEL_METRICS_EXPORTER: &str = "OTEL_METRICS_EXPORTER";
/// Default for [`OTEL_METRICS_EXPORTER`].
pub const OTEL_METRICS_EXPORTER_DEFAULT: &str = "prometheus";
/// `OTEL_METRIC_EXPORT_INTERVAL`: milliseconds between two pushes.
pub const OTEL_METRIC_EXPORT_INTERVAL: &str = "OTEL_METRIC_EXPORT_INTERVAL";
/// Default for [`OTEL_METRIC_EXPORT_INTERVAL`].
pub const OTEL_METRIC_EXPORT_INTERVAL_DEFAULT: Duration = Duration::from_secs(60);
/// The valid [`OTEL_METRIC_EXPORT_INTERVAL`]: 100 ms to a day.
pub const OTEL_METRIC_EXPORT_INTERVAL_RANGE: RangeInclusive<Duration> =
    Duration::from_millis(100)..=Duration::from_secs(86_400);
/// `OTEL_METRIC_EXPORT_TIMEOUT`: milliseconds one push may take.
pub const OTEL_METRIC_EXPORT_TIMEOUT: &str = "OTEL_METRIC_EXPORT_TIMEOUT";
/// Default for [`OTEL_METRIC_EXPORT_TIMEOUT`].
pub const OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT: Duration = Duration::from_secs(30);
/// `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`: `cumulative` (the
/// default), `delta` or `lowmemory`.
pub const OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE: &str =
    "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE";
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
/// `TRACELINK_METRICS_CARDINALITY_LIMIT`: the most series (label sets) one
/// metric keeps, from 1 to [`crate::metrics::MAX_CARDINALITY_LIMIT`]; the
/// samples of a new label set past it go to the metric's one
/// `{otel_metric_overflow="true"}` series.
pub const TRACELINK_METRICS_CARDINALITY_LIMIT: &str = "TRACELINK_METRICS_CARDINALITY_LIMIT";
/// Default for [`TRACELINK_METRICS_CARDINALITY_LIMIT`], the OpenTelemetry SDK's.
pub const TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT: usize = 2000;
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
