//! [`Guard`]: flushes and shuts the export pipeline down, within one timeout.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::export::{Outcome, Pipeline, Signal};
use crate::logs::non_blocking::WriterThread;
use crate::logs::record::Logs;
use crate::logs::writer::LineCounts;
use crate::logs::LogStats;
use crate::trace::pipeline::Spans;
use crate::trace::ExportStats;
use crate::Error;

/// Keeps tracelink's exporters running; flushes them when dropped.
///
/// Hold it in `main` with `let _guard = ...` (not `let _ = ...`, which drops it at
/// once). Dropping it, or calling [`shutdown`](Guard::shutdown), exports every
/// queued span and log record, writes out every buffered log line, and stops
/// the export threads, the log writer and the `/metrics` listener (the
/// threads tracelink starts), side by side, all within the shutdown timeout
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
    pipeline: Arc<Pipeline<Spans>>,
    /// The log records' pipeline, when they are exported.
    logs: Option<Arc<Pipeline<Logs>>>,
    /// The metrics push, when metrics are pushed.
    push: Option<crate::metrics::push::Pusher>,
    timeout: Duration,
    done: bool,
    log_lines: Option<Arc<LineCounts>>,
    log_writer: Option<WriterThread>,
    metrics: Option<crate::metrics::server::MetricsServer>,
}

/// What happened to each signal so far, from [`Guard::stats`]: every span,
/// log record and log line is counted once, as delivered or as lost.
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// # let guard = tracelink::builder().with_env([("OTEL_TRACES_EXPORTER", "none")]).build()?.into_guard();
/// let stats = guard.stats();
/// println!(
///     "{} spans exported, {} lost; {} log lines written, {} lost",
///     stats.spans().exported(),
///     stats.spans().lost(),
///     stats.log_lines().written(),
///     stats.log_lines().lost(),
/// );
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stats {
    spans: ExportStats,
    log_records: ExportStats,
    metric_points: ExportStats,
    log_lines: LogStats,
}

impl Stats {
    /// Sampled spans: exported, dropped (the queue was full), failed.
    pub fn spans(&self) -> ExportStats {
        self.spans
    }

    /// OpenTelemetry log records (`OTEL_LOGS_EXPORTER`): exported, dropped
    /// (their queue was full), failed. All zero when none are exported.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// # let guard = tracelink::builder().with_env([("OTEL_TRACES_EXPORTER", "none")]).build()?.into_guard();
    /// let records = guard.stats().log_records();
    /// assert_eq!(records.exported() + records.lost(), 0);
    /// # Ok(()) }
    /// ```
    pub fn log_records(&self) -> ExportStats {
        self.log_records
    }

    /// Metric data points pushed (`OTEL_METRICS_EXPORTER=otlp` or
    /// `console`): exported, and failed (a push that did not reach the
    /// collector; with cumulative temporality the next push carries the
    /// totals again). All zero when metrics are not pushed.
    pub fn metric_points(&self) -> ExportStats {
        self.metric_points
    }

    /// Log lines: written, dropped (the non-blocking buffer was full),
    /// failed. All zero when `init()` installed no log layer.
    pub fn log_lines(&self) -> LogStats {
        self.log_lines
    }
}

impl Guard {
    pub(crate) fn new(pipeline: Arc<Pipeline<Spans>>, timeout: Duration) -> Self {
        Self {
            pipeline,
            logs: None,
            push: None,
            timeout,
            done: false,
            log_lines: None,
            log_writer: None,
            metrics: None,
        }
    }

    /// Owns the metrics push too.
    pub(crate) fn with_metrics_push(mut self, push: Option<crate::metrics::push::Pusher>) -> Self {
        self.push = push;
        self
    }

    /// Owns the log records' pipeline too.
    pub(crate) fn with_log_records(mut self, logs: Option<Arc<Pipeline<Logs>>>) -> Self {
        self.logs = logs;
        self
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

    /// Counts the log layer's lines, and owns the non-blocking writer's
    /// thread when there is one.
    pub(crate) fn with_log_lines(
        mut self,
        counts: Arc<LineCounts>,
        writer: Option<WriterThread>,
    ) -> Self {
        self.log_lines = Some(counts);
        self.log_writer = writer;
        self
    }

    /// What happened to spans, log records and log lines so far.
    ///
    /// ```
    /// # fn main() -> Result<(), tracelink::Error> {
    /// # let guard = tracelink::builder().with_env([("OTEL_TRACES_EXPORTER", "none")]).build()?.into_guard();
    /// let stats = guard.stats();
    /// if stats.spans().lost() > 0 {
    ///     eprintln!("{} spans never reached the collector", stats.spans().lost());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn stats(&self) -> Stats {
        Stats {
            spans: self.pipeline.stats(),
            log_records: self
                .logs
                .as_ref()
                .map(|logs| logs.stats())
                .unwrap_or_default(),
            metric_points: self
                .push
                .as_ref()
                .map(crate::metrics::push::Pusher::stats)
                .unwrap_or_default(),
            log_lines: self
                .log_lines
                .as_deref()
                .map(LineCounts::stats)
                .unwrap_or_default(),
        }
    }

    /// Exports every span that has ended and every log record so far, and
    /// writes out every buffered log line, waiting at most the shutdown
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`Error::ExportFailed`] if an export failed, [`Error::ShutdownTimeout`] if
    /// the exporter did not finish in time, [`Error::LogLinesLost`] if log
    /// lines were lost (ever, or still buffered at the timeout).
    pub fn flush(&self) -> Result<(), Error> {
        let deadline = Instant::now() + self.timeout;
        let spans = self.pipeline.flush(self.timeout);
        let logs = self.logs.as_ref().map_or(Outcome::Clean, |logs| {
            logs.flush(deadline.saturating_duration_since(Instant::now()))
        });
        let metrics = self.push.as_ref().map_or(Outcome::Clean, |push| {
            push.flush(deadline.saturating_duration_since(Instant::now()))
        });
        let unwritten = self
            .log_writer
            .as_ref()
            .map_or(0, |writer| writer.flush(deadline).0);
        self.result(spans, logs, metrics, unwritten)
    }

    /// Exports every queued span and log record, writes out every buffered
    /// log line, and stops tracelink's threads, within the shutdown timeout.
    /// The span export, the log record export and the log writer drain side
    /// by side, each with the whole timeout. Spans that end, records and
    /// lines logged afterwards are dropped and counted.
    ///
    /// # Errors
    ///
    /// [`Error::ExportFailed`] if the last exports failed, [`Error::ShutdownTimeout`]
    /// if the timeout ran out first (the spans or records still queued are
    /// lost and counted), [`Error::LogLinesLost`] if any log line was lost,
    /// with how many and why. When more than one signal lost something, the
    /// first error (spans, then records, then lines) is returned and the
    /// others are printed on stderr.
    pub fn shutdown(mut self) -> Result<(), Error> {
        self.shutdown_inner()
    }

    fn shutdown_inner(&mut self) -> Result<(), Error> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(());
        }
        let deadline = Instant::now() + self.timeout;
        if let Some(writer) = &self.log_writer {
            writer.begin_stop();
        }
        // Each pipeline drains on its own thread, side by side.
        let stopping_logs = self.logs.as_ref().map(|logs| logs.begin_shutdown(deadline));
        let stopping_push = self.push.as_ref().map(|push| push.begin_stop(deadline));
        let spans = self.pipeline.shutdown(deadline);
        let logs = stopping_logs.map_or(Outcome::Clean, crate::export::Stopping::wait);
        let metrics = stopping_push.map_or(Outcome::Clean, crate::metrics::push::Stopping::wait);
        if let Some(mut server) = self.metrics.take() {
            if !server.stop(deadline) {
                crate::diag::diag!(
                    Warn,
                    "the /metrics listener on {} did not stop within the shutdown timeout",
                    server.address()
                );
            }
        }
        let unwritten = self
            .log_writer
            .as_mut()
            .map_or(0, |writer| writer.stop(deadline).0);
        self.result(spans, logs, metrics, unwritten)
    }

    fn result(
        &self,
        spans: Outcome,
        logs: Outcome,
        metrics: Outcome,
        unwritten: u64,
    ) -> Result<(), Error> {
        let lines = self.stats().log_lines;
        let lines = (lines.lost() > 0).then(|| Error::LogLinesLost {
            dropped: lines.dropped(),
            failed: lines.failed(),
            unwritten,
            timeout: self.timeout,
        });
        let spans = self.outcome_error(&self.pipeline, spans);
        let records = self
            .logs
            .as_ref()
            .and_then(|pipeline| self.outcome_error(pipeline, logs));
        let points = self.push.as_ref().and_then(|push| match metrics {
            Outcome::Clean => None,
            Outcome::Failed => Some(Error::ExportFailed {
                signal: "metric data points",
                failed: push.stats().failed(),
            }),
            Outcome::TimedOut => Some(Error::ShutdownTimeout {
                signal: "metric pushes",
                timeout: self.timeout,
                unexported: 1,
            }),
        });
        // The first error is returned; the others are printed.
        let mut errors = [spans, records, points, lines].into_iter().flatten();
        let first = errors.next();
        for other in errors {
            crate::diag::diag!(Error, "{other}");
        }
        first.map_or(Ok(()), Err)
    }

    /// The error a pipeline's flush or shutdown ended with, if any.
    fn outcome_error<S: Signal>(&self, pipeline: &Pipeline<S>, outcome: Outcome) -> Option<Error> {
        match outcome {
            Outcome::Clean => None,
            Outcome::Failed => Some(Error::ExportFailed {
                signal: S::NAMES.many,
                failed: pipeline.stats().failed(),
            }),
            Outcome::TimedOut => Some(Error::ShutdownTimeout {
                signal: S::NAMES.many,
                timeout: self.timeout,
                unexported: pipeline.unexported(),
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
