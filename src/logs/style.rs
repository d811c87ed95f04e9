//! Field names for the log stores people have.

use tracing::Level;

/// The field names of a JSON line (`TRACELINK_LOG_STYLE`).
///
/// | style | time | level | trace | span | sampled |
/// |---|---|---|---|---|---|
/// | `otel` (default) | `timestamp` | `level` | `trace_id` | `span_id` | `trace_flags` (W3C flags in hex: `"03"`, `"01"`, `"02"`, `"00"`) |
/// | `ecs` | `@timestamp` | `log.level` | `trace.id` | `span.id` | — |
/// | `gcp` | `time` | `severity` | `logging.googleapis.com/trace` (`projects/P/traces/T`) | `logging.googleapis.com/spanId` | `logging.googleapis.com/trace_sampled` |
/// | `datadog` | `timestamp` | `level` | `dd.trace_id` (decimal, low 64 bits) | `dd.span_id` (decimal) | — |
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([("TRACELINK_LOG_STYLE", "ecs")])
///     .config()?;
/// assert_eq!(config.log_style(), tracelink::logs::LogStyle::Ecs);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum LogStyle {
    /// OpenTelemetry's names for trace context in non-OTLP logs.
    #[default]
    Otel,
    /// Elastic Common Schema.
    Ecs,
    /// Google Cloud Logging's structured-logging fields; the project comes from
    /// `GOOGLE_CLOUD_PROJECT` or [`Builder::with_gcp_project`](crate::Builder::with_gcp_project).
    Gcp,
    /// Datadog's log-trace correlation fields.
    Datadog,
}

impl LogStyle {
    pub(crate) fn parse(value: &str) -> Option<Self> {
        Some(match value.to_ascii_lowercase().as_str() {
            "otel" | "opentelemetry" => Self::Otel,
            "ecs" | "elastic" => Self::Ecs,
            "gcp" | "google" => Self::Gcp,
            "datadog" | "dd" => Self::Datadog,
            _ => return None,
        })
    }

    pub(crate) fn time_key(self) -> &'static str {
        match self {
            Self::Ecs => "@timestamp",
            Self::Gcp => "time",
            Self::Otel | Self::Datadog => "timestamp",
        }
    }

    pub(crate) fn level_key(self) -> &'static str {
        match self {
            Self::Ecs => "log.level",
            Self::Gcp => "severity",
            Self::Otel | Self::Datadog => "level",
        }
    }

    pub(crate) fn level(self, level: Level) -> &'static str {
        match (self, level) {
            (Self::Gcp, Level::TRACE | Level::DEBUG) => "DEBUG",
            (Self::Gcp, Level::WARN) => "WARNING",
            (Self::Ecs, Level::TRACE) => "trace",
            (Self::Ecs, Level::DEBUG) => "debug",
            (Self::Ecs, Level::INFO) => "info",
            (Self::Ecs, Level::WARN) => "warn",
            (Self::Ecs, Level::ERROR) => "error",
            (_, Level::TRACE) => "TRACE",
            (_, Level::DEBUG) => "DEBUG",
            (_, Level::INFO) => "INFO",
            (_, Level::WARN) => "WARN",
            (_, Level::ERROR) => "ERROR",
        }
    }

    pub(crate) fn target_key(self) -> &'static str {
        match self {
            Self::Ecs => "log.logger",
            Self::Otel | Self::Gcp | Self::Datadog => "target",
        }
    }

    /// The key of the current span's object.
    pub(crate) fn span_key(self) -> &'static str {
        match self {
            // ECS reserves `span` for `span.id`.
            Self::Ecs => "tracing.span",
            _ => "span",
        }
    }

    pub(crate) fn spans_key(self) -> &'static str {
        match self {
            Self::Ecs => "tracing.spans",
            _ => "spans",
        }
    }

    /// Keys a line may use itself; event fields with these names get a
    /// `fields.` prefix.
    pub(crate) fn reserved(self) -> &'static [&'static str] {
        match self {
            Self::Otel => &[
                "timestamp",
                "level",
                "target",
                "span",
                "spans",
                "trace_id",
                "span_id",
                "trace_flags",
                "service.name",
                "code.file.path",
                "code.line.number",
                "thread.name",
                "thread.id",
            ],
            Self::Ecs => &[
                "@timestamp",
                "log.level",
                "log.logger",
                "ecs.version",
                "tracing.span",
                "tracing.spans",
                "trace.id",
                "span.id",
                "service.name",
                "code.file.path",
                "code.line.number",
                "thread.name",
                "thread.id",
            ],
            Self::Gcp => &[
                "time",
                "severity",
                "target",
                "span",
                "spans",
                "logging.googleapis.com/trace",
                "logging.googleapis.com/spanId",
                "logging.googleapis.com/trace_sampled",
                "service.name",
                "code.file.path",
                "code.line.number",
                "thread.name",
                "thread.id",
            ],
            Self::Datadog => &[
                "timestamp",
                "level",
                "target",
                "span",
                "spans",
                "dd.trace_id",
                "dd.span_id",
                "service.name",
                "code.file.path",
                "code.line.number",
                "thread.name",
                "thread.id",
            ],
        }
    }

    /// The name `TRACELINK_LOG_STYLE` takes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Otel => "otel",
            Self::Ecs => "ecs",
            Self::Gcp => "gcp",
            Self::Datadog => "datadog",
        }
    }
}
