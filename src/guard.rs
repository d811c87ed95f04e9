//! [`Guard`]: flushes and shuts the export pipeline down, within one timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::trace::pipeline::{Outcome, Pipeline};
use crate::trace::ExportStats;
use crate::Error;

/// Keeps tracelink's exporters running; flushes them when dropped.
///
/// Hold it in `main` with `let _guard = ...` (not `let _ = ...`, which drops it at
/// once). Dropping it, or calling [`shutdown`](Guard::shutdown), exports every
/// queued span and stops the export thread and the `/metrics` listener
/// (the threads tracelink starts), all within the shutdown timeout
/// (`TRACELINK_SHUTDOWN_TIMEOUT`, 5 s by default), however slow or dead the
/// collector is.
///
/// ```no_run
/// fn main() -> Result<(), tracelink::Error> {
///     let guard = tracelink::init()?;
///     tracing::info!("working");
///     guard.shutdown() // or let it drop at the end of main
/// }
/// ```
#[must_use = "dropping the guard shuts tracelink's exporters down at once"]
#[derive(Debug)]
pub struct Guard {
    pipeline: Arc<Pipeline>,
    timeout: Duration,
    done: bool,
    logs: Option<LogFlush>,
    metrics: Option<crate::metrics::server::MetricsServer>,
}

/// The non-blocking log writer's guard, and its count of dropped lines.
struct LogFlush {
    guard: tracing_appender::non_blocking::WorkerGuard,
    dropped: tracing_appender::non_blocking::ErrorCounter,
}

impl std::fmt::Debug for LogFlush {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogFlush")
            .field("dropped", &self.dropped.dropped_lines())
            .finish_non_exhaustive()
    }
}

impl Guard {
    pub(crate) fn new(pipeline: Arc<Pipeline>, timeout: Duration) -> Self {
        Self {
            pipeline,
            timeout,
            done: false,
            logs: None,
            metrics: None,
        }
    }

    pub(crate) fn with_metrics_server(
        mut self,
        server: crate::metrics::server::MetricsServer,
    ) -> Self {
        self.metrics = Some(server);
        self
    }

    /// Where `/metrics` is served, when `init()` started the listener. The
    /// guard owns that listener's thread: shutting down stops it.
    pub fn metrics_address(&self) -> Option<std::net::SocketAddr> {
        self.metrics
            .as_ref()
            .map(crate::metrics::server::MetricsServer::address)
    }

    pub(crate) fn with_log_flush(
        mut self,
        guard: tracing_appender::non_blocking::WorkerGuard,
        dropped: tracing_appender::non_blocking::ErrorCounter,
    ) -> Self {
        self.logs = Some(LogFlush { guard, dropped });
        self
    }

    /// Log lines the non-blocking writer dropped because its buffer was full
    /// (always 0 when lines are written directly, the default).
    pub fn dropped_log_lines(&self) -> u64 {
        self.logs
            .as_ref()
            .map_or(0, |logs| logs.dropped.dropped_lines() as u64)
    }

    /// What happened to sampled spans so far: exported, dropped, failed.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// # let guard = tracelink::builder().with_env([("OTEL_TRACES_EXPORTER", "none")]).build()?.into_guard();
    /// let stats = guard.stats();
    /// if stats.lost() > 0 {
    ///     eprintln!("{} spans never reached the collector", stats.lost());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> ExportStats {
        self.pipeline.stats()
    }

    /// Exports every span that has ended so far, waiting at most the shutdown
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`Error::ExportFailed`] if an export failed, [`Error::ShutdownTimeout`] if
    /// the exporter did not finish in time.
    pub fn flush(&self) -> Result<(), Error> {
        self.result(self.pipeline.flush(self.timeout))
    }

    /// Exports every queued span and stops the export thread, within the
    /// shutdown timeout. Spans that end afterwards are dropped and counted.
    ///
    /// # Errors
    ///
    /// [`Error::ExportFailed`] if the last exports failed, [`Error::ShutdownTimeout`]
    /// if the timeout ran out first (the spans still queued are lost and counted).
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        let outcome = self.pipeline.shutdown(deadline);
        if let Some(mut server) = self.metrics.take() {
            if !server.stop(deadline) {
                crate::diag::diag!(
                    Warn,
                    "the /metrics listener on {} did not stop within the shutdown timeout",
                    server.address()
                );
            }
        }
        if let Some(logs) = self.logs.take() {
            let dropped = logs.dropped.dropped_lines();
            // Dropping the worker guard writes out every buffered line.
            drop(logs.guard);
            if dropped > 0 {
                crate::diag::diag!(
                    Warn,
                    "{dropped} log lines were dropped: the non-blocking writer's buffer was full"
                );
            }
        }
        self.result(outcome)
    }

    fn result(&self, outcome: Outcome) -> Result<(), Error> {
        match outcome {
            Outcome::Clean => Ok(()),
            Outcome::Failed => Err(Error::ExportFailed {
                failed: self.stats().failed(),
            }),
            Outcome::TimedOut => Err(Error::ShutdownTimeout {
                timeout: self.timeout,
                unexported: self.pipeline.unexported(),
            }),
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Err(error) = self.shutdown_inner() {
            crate::diag::diag!(Error, "{error}");
        }
    }
}
