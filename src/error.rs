//! The one error type of the crate.

use std::time::Duration;

/// Everything that can go wrong while tracelink sets up or shuts down.
///
/// Bad configuration only becomes an `Error` in strict mode (see
/// [`Builder::with_strict_config`](crate::Builder::with_strict_config));
/// otherwise tracelink warns once and falls back to the default.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let err = tracelink::builder()
///     .with_env([("OTEL_TRACES_SAMPLER", "sometimes")])
///     .with_strict_config(true)
///     .config()
///     .unwrap_err();
/// assert!(err.to_string().contains("OTEL_TRACES_SAMPLER"));
/// # Ok(()) }
/// ```
///
/// Its `Debug` is its message and causes, as `anyhow` prints them, so that
/// `fn main() -> Result<(), tracelink::Error>` shows what to do rather than
/// the variant's fields:
///
/// ```
/// let err = tracelink::Error::MetricsRecorderAlreadySet;
/// assert_eq!(format!("{err:?}"), err.to_string());
/// ```
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable (or the builder value standing in for it) is invalid,
    /// and strict mode turned the warning into an error.
    #[error("invalid {name}={value:?}: {reason}; fix the value or unset it")]
    InvalidConfig {
        /// The variable, for example `OTEL_TRACES_SAMPLER`.
        name: &'static str,
        /// The value that was rejected.
        value: String,
        /// Why it was rejected.
        reason: String,
    },

    /// A global `tracing` subscriber was already installed (with the error
    /// `tracing-subscriber` gave, when it was the one to refuse).
    #[error("a global tracing subscriber is already set; call tracelink::init() once, early in main, or use Builder::build() to compose your own subscriber")]
    AlreadyInitialized(#[source] Option<tracing_subscriber::util::TryInitError>),

    /// A global `metrics` recorder was already installed.
    #[error("a global metrics recorder is already set; call tracelink::init() once, or turn tracelink's metrics off with Builder::with_metrics(false) / OTEL_METRICS_EXPORTER=none")]
    MetricsRecorderAlreadySet,

    /// An OTLP exporter could not be built (for example an endpoint that is not a URL).
    #[error("could not build the OTLP {signal} exporter for {endpoint}; check OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL")]
    Exporter {
        /// The signal it exports: `span`, `log`.
        signal: &'static str,
        /// The endpoint the exporter was built for.
        endpoint: String,
        /// What the exporter builder said.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync + 'static>,
    },

    /// The background export thread could not be started.
    #[error("could not start tracelink's export thread")]
    Thread(#[source] std::io::Error),

    /// Shutdown did not finish within its timeout; `unexported` spans (or
    /// log records) were lost.
    #[error("shutdown did not finish within {timeout:?}; {unexported} {signal} were not exported")]
    ShutdownTimeout {
        /// What was lost: `spans`, `log records`.
        signal: &'static str,
        /// The timeout that ran out.
        timeout: Duration,
        /// Spans still queued or in flight when the timeout ran out.
        unexported: u64,
    },

    /// An export during a flush or shutdown failed; the warning printed before
    /// says why, and [`ExportStats::failed`](crate::trace::ExportStats::failed)
    /// counts the spans (or log records).
    #[error("the final export of {signal} failed; {failed} {signal} in all were not exported (see the warning on stderr)")]
    ExportFailed {
        /// What was lost: `spans`, `log records`.
        signal: &'static str,
        /// Spans (or log records) lost to failed exports since startup.
        failed: u64,
    },

    /// Log lines were lost: dropped because the non-blocking writer's buffer
    /// was full, failed to write (a closed pipe), or still buffered when the
    /// shutdown timeout ran out. [`LogStats`](crate::logs::LogStats) has the
    /// same counts.
    #[error("{} log lines were not written: {dropped} dropped (the non-blocking writer's buffer was full), {failed} failed (a write error, or still buffered when the shutdown timeout of {timeout:?} ran out: {unwritten})", dropped + failed)]
    LogLinesLost {
        /// Lines dropped because the buffer was full.
        dropped: u64,
        /// Lines whose write failed, or still buffered at the deadline.
        failed: u64,
        /// Of `failed`, the lines still buffered at the deadline.
        unwritten: u64,
        /// The shutdown timeout.
        timeout: Duration,
    },
}

impl std::fmt::Debug for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{self}")?;
        let mut source = std::error::Error::source(self);
        if source.is_some() {
            f.write_str("\n\nCaused by:")?;
        }
        while let Some(cause) = source {
            write!(f, "\n    {cause}")?;
            source = cause.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_reads_as_the_message_and_its_causes() {
        let err = Error::Thread(std::io::Error::other("no more threads"));
        assert_eq!(
            format!("{err:?}"),
            "could not start tracelink's export thread\n\nCaused by:\n    no more threads"
        );
        let err = Error::InvalidConfig {
            name: "OTEL_TRACES_SAMPLER",
            value: "sometimes".into(),
            reason: "expected always_on".into(),
        };
        assert_eq!(format!("{err:?}"), err.to_string());
    }
}
