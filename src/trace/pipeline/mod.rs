//! The bounded queue between ended spans and the export thread, and the
//! thread itself: [`Pipeline`], shared by every tracer and the guard.
//!
//! ```text
//! ended span ──▶ queue ──────────▶ worker ───────────────▶ exporters
//! (tracer.rs)    (queue.rs)        (worker.rs)              (export/)
//!                one lock-free     the tracelink-export     OTLP, console,
//!                push, or a drop   thread: batches,         local file,
//!                counted           timeouts, shutdown       your own
//! ```
//!
//! * The hot path ([`Pipeline::push`]) is one lock-free push into a
//!   fixed-size ring ([`crossbeam_queue::ArrayQueue`]); when the ring is
//!   full the span is dropped and counted, never waited for.
//! * One thread (`tracelink-export`) owns the exporters and a single-threaded
//!   Tokio runtime for their I/O, so the service needs no runtime of its own.
//!   What the export path logs is filtered out on that thread (`quiet.rs`):
//!   it can not become a span or a log line of the service.
//! * Every export is bounded by `OTEL_BSP_EXPORT_TIMEOUT`, and, once shutdown has
//!   begun, by the guard's deadline, so a collector that never answers can not
//!   hold shutdown up.
//!
//! One file a concern. Each uses only the files below it, never one above
//! or on its own line, so there is no cycle:
//!
//! ```text
//! mod.rs      Pipeline: start, push, flush, shutdown, stats
//!   ▼
//! worker.rs   the export thread: batching, schedule, export timeout,
//!   ▼         shutdown deadline; its Clock, Command, Shared state
//! queue.rs    the ring: the hot path, push and drop counting
//!   ▼
//! record.rs   Record → SpanData         report.rs   losses on stderr
//!   ▼                                     ▼
//! scopes.rs   instrumentation scopes    stats.rs    ExportStats, counters
//! ```

mod queue;
mod record;
mod report;
mod scopes;
mod stats;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use opentelemetry::trace::SpanContext;
use opentelemetry::InstrumentationScope;

pub(crate) use record::{Record, LIMIT};
pub use stats::ExportStats;

use queue::Queue;
use record::Finished;
use worker::{Command, Shared, SystemClock, Worker};

use super::export::DynExporter;
use super::BatchConfig;

/// State shared by every tracer, the guard and the export thread.
pub(crate) struct Pipeline {
    /// What the export thread reads too: inline, so a push follows the one
    /// pointer to the pipeline and no other.
    shared: Shared,
    running: AtomicBool,
    /// Whether it has any exporter: without one (`OTEL_TRACES_EXPORTER=none`)
    /// it never runs, and a span it does not take is neither lost nor late.
    exports: bool,
    commands: Mutex<Option<mpsc::Sender<Command>>>,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("queued", &self.shared.queue.len())
            .field("capacity", &self.shared.queue.capacity())
            .field("running", &self.is_running())
            .field("stats", &self.stats())
            .finish()
    }
}

impl AsRef<Shared> for Pipeline {
    fn as_ref(&self) -> &Shared {
        &self.shared
    }
}

impl Pipeline {
    /// Starts the export thread; with no exporters there is no thread and
    /// sampled spans are simply not recorded.
    pub(crate) fn start(
        batch: &BatchConfig,
        exporters: Vec<Box<dyn DynExporter>>,
        runtime: tokio::runtime::Runtime,
        code_location: bool,
    ) -> std::io::Result<Arc<Self>> {
        let running = !exporters.is_empty();
        let (tx, rx) = mpsc::channel();
        let capacity = if running { batch.max_queue_size } else { 1 };
        let pipeline = Arc::new(Pipeline {
            shared: Shared::new(
                Queue::new(capacity, batch.max_export_batch_size),
                code_location,
            ),
            running: AtomicBool::new(running),
            exports: running,
            commands: Mutex::new(running.then_some(tx)),
        });
        if running {
            Worker::new(pipeline.clone(), exporters, batch, SystemClock).spawn(rx, runtime)?;
        } else {
            runtime.shutdown_background();
        }
        Ok(pipeline)
    }

    /// The index of `scope` in the scope table, added if new.
    pub(crate) fn register_scope(&self, scope: InstrumentationScope) -> u32 {
        self.shared.scopes.register(scope)
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// A span started or ended after shutdown: counted as dropped, and the
    /// first one in the process is a warning. Without any exporter nothing
    /// is lost, and nothing is said.
    #[cold]
    pub(crate) fn refuse(&self, name: &str) {
        if self.exports {
            self.shared.counters.drop_one();
            report::warn_after_shutdown(name);
        }
    }

    /// The hot path: queue an ended span, or count it as dropped.
    pub(crate) fn push(&self, context: SpanContext, record: Record) {
        if !self.is_running() {
            self.refuse(&record.name);
            return;
        }
        let shared = &self.shared;
        if shared
            .queue
            .push(Finished::new(context, record), &shared.counters)
        {
            self.send(Command::Wake);
        }
    }

    fn send(&self, command: Command) -> bool {
        let commands = self.commands.lock().unwrap_or_else(PoisonError::into_inner);
        commands.as_ref().is_some_and(|tx| tx.send(command).is_ok())
    }

    pub(crate) fn stats(&self) -> ExportStats {
        self.shared.counters.snapshot()
    }

    /// Spans queued or being exported right now.
    pub(crate) fn unexported(&self) -> u64 {
        self.shared.queue.len() as u64 + self.shared.counters.in_flight()
    }

    /// Exports everything queued now; waits at most `timeout`.
    pub(crate) fn flush(&self, timeout: Duration) -> Outcome {
        if !self.is_running() {
            return Outcome::Clean;
        }
        let (tx, rx) = mpsc::channel();
        match self
            .send(Command::Flush(tx))
            .then(|| rx.recv_timeout(timeout))
        {
            Some(Ok(true)) => Outcome::Clean,
            Some(Ok(false)) => Outcome::Failed,
            _ => Outcome::TimedOut,
        }
    }

    /// Exports what is queued and stops the export thread, all before `deadline`.
    /// Spans that end later are dropped and counted.
    pub(crate) fn shutdown(&self, deadline: Instant) -> Outcome {
        if !self.running.swap(false, Ordering::AcqRel) {
            return Outcome::Clean;
        }
        let failed_before = self.shared.counters.failed();
        self.shared.deadline.set(deadline);
        let (tx, rx) = mpsc::channel();
        let sent = self.send(Command::Shutdown(tx));
        // Dropping the sender lets the thread end even if the command was lost.
        self.commands
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // A little grace past the deadline for the thread to answer.
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
        match sent.then(|| rx.recv_timeout(wait)) {
            Some(Ok(true)) if self.shared.counters.failed() > failed_before => Outcome::Failed,
            Some(Ok(true)) => Outcome::Clean,
            Some(Ok(false)) => Outcome::Failed,
            _ => Outcome::TimedOut,
        }
    }
}

/// How a flush or shutdown ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Everything queued was exported.
    Clean,
    /// An export failed; the spans are counted in [`ExportStats::failed`].
    Failed,
    /// The export thread did not answer in time.
    TimedOut,
}

#[cfg(test)]
mod tests {
    use super::record::{number_of, numbered};
    use super::*;
    use crate::trace::export::{Answer, Recorder};

    fn start(batch: &BatchConfig, exporters: &[&Recorder]) -> Arc<Pipeline> {
        // UNWRAP: a test can not go on without a runtime; building one
        // fails only if the OS refuses its I/O driver.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime");
        let exporters = exporters
            .iter()
            .map(|recorder| Box::new((*recorder).clone()) as Box<dyn DynExporter>)
            .collect();
        let started = Pipeline::start(batch, exporters, runtime, false);
        // UNWRAP: the only error is the OS refusing a thread.
        started.expect("the export thread starts")
    }

    fn push(pipeline: &Pipeline, ns: std::ops::Range<u64>) {
        for n in ns {
            let (context, record) = numbered(n);
            pipeline.push(context, record);
        }
    }

    fn spans_in(recorder: &Recorder) -> Vec<u64> {
        recorder.batches().iter().flatten().map(number_of).collect()
    }

    /// Nothing is exported on the schedule during a test.
    fn unscheduled() -> BatchConfig {
        BatchConfig::default().with_scheduled_delay(Duration::from_secs(3600))
    }

    #[test]
    fn shutdown_exports_what_is_queued_within_its_deadline() {
        let recorder = Recorder::new(Answer::Take);
        let pipeline = start(&unscheduled(), &[&recorder]);
        push(&pipeline, 0..10);
        let started = Instant::now();
        let outcome = pipeline.shutdown(started + Duration::from_secs(2));
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(outcome, Outcome::Clean);
        assert_eq!(spans_in(&recorder), (0..10).collect::<Vec<_>>());
        assert!(recorder.is_shut_down());
        assert_eq!(pipeline.stats().exported(), 10);
        assert_eq!(pipeline.unexported(), 0);
        // Later spans are refused, and counted.
        assert!(!pipeline.is_running());
        push(&pipeline, 10..11);
        assert_eq!(pipeline.stats().dropped(), 1);
        assert_eq!(pipeline.shutdown(Instant::now()), Outcome::Clean);
    }

    #[test]
    fn shutdown_returns_by_its_deadline_when_the_exporter_never_answers() {
        // The export timeout alone would hold shutdown for an hour.
        let batch = unscheduled().with_export_timeout(Duration::from_secs(3600));
        let silent = Recorder::new(Answer::Never);
        let pipeline = start(&batch, &[&silent]);
        push(&pipeline, 0..3);
        let started = Instant::now();
        let outcome = pipeline.shutdown(started + Duration::from_millis(20));
        let took = started.elapsed();
        // The deadline, plus the guard's 100 ms of grace, plus a loaded machine.
        assert!(took < Duration::from_secs(1), "shutdown took {took:?}");
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(pipeline.stats().failed(), 3);
        assert_eq!(spans_in(&silent), [0, 1, 2]);
    }

    #[test]
    fn flush_exports_a_partial_batch_now() {
        let recorder = Recorder::new(Answer::Take);
        let pipeline = start(&unscheduled(), &[&recorder]);
        push(&pipeline, 0..3);
        assert_eq!(pipeline.flush(Duration::from_secs(5)), Outcome::Clean);
        assert_eq!(spans_in(&recorder), [0, 1, 2]);
        let refusing = Recorder::new(Answer::Fail);
        let pipeline = start(&unscheduled(), &[&refusing]);
        push(&pipeline, 0..3);
        assert_eq!(pipeline.flush(Duration::from_secs(5)), Outcome::Failed);
        assert_eq!(pipeline.stats().failed(), 3);
    }

    #[test]
    fn every_span_produced_is_exported_dropped_or_failed() {
        // A small queue, many threads, and an exporter that refuses every
        // third batch: all three counts move.
        let batch = unscheduled()
            .with_max_queue_size(64)
            .with_max_export_batch_size(8);
        let flaky = Recorder::new(Answer::FailEvery(3));
        let pipeline = start(&batch, &[&flaky]);
        let (threads, each) = (4, 2_000);
        std::thread::scope(|scope| {
            for t in 0..threads {
                let pipeline = &pipeline;
                scope.spawn(move || push(pipeline, t * each..(t + 1) * each));
            }
        });
        let outcome = pipeline.shutdown(Instant::now() + Duration::from_secs(10));
        assert_ne!(outcome, Outcome::TimedOut);
        // One more, after shutdown: dropped.
        push(&pipeline, 0..1);
        let produced = threads * each + 1;
        let stats = pipeline.stats();
        assert_eq!(
            stats.exported() + stats.dropped() + stats.failed(),
            produced,
            "{stats:?}"
        );
        assert_eq!(pipeline.unexported(), 0);
        // And each count is what the exporter saw.
        let batches = flaky.batches();
        let size = |nth: &mut dyn Iterator<Item = (usize, &Vec<_>)>| {
            nth.map(|(_, batch)| batch.len() as u64).sum::<u64>()
        };
        let refused = size(&mut batches.iter().enumerate().filter(|(i, _)| (i + 1) % 3 == 0));
        let taken = size(&mut batches.iter().enumerate().filter(|(i, _)| (i + 1) % 3 != 0));
        assert_eq!((stats.exported(), stats.failed()), (taken, refused));
        assert!(stats.failed() > 0, "{stats:?}");
    }

    #[test]
    fn two_exporters_get_every_batch_and_it_counts_once() {
        let (first, second) = (Recorder::new(Answer::Take), Recorder::new(Answer::Take));
        let pipeline = start(&unscheduled(), &[&first, &second]);
        push(&pipeline, 0..4);
        assert_eq!(pipeline.flush(Duration::from_secs(5)), Outcome::Clean);
        assert_eq!(spans_in(&first), [0, 1, 2, 3]);
        assert_eq!(spans_in(&second), [0, 1, 2, 3]);
        assert_eq!(pipeline.stats().exported(), 4);
    }

    #[test]
    fn without_exporters_nothing_runs_and_nothing_is_lost() {
        let pipeline = start(&BatchConfig::default(), &[]);
        assert!(!pipeline.is_running());
        push(&pipeline, 0..3);
        assert_eq!(pipeline.stats(), ExportStats::default());
        assert_eq!(pipeline.flush(Duration::from_secs(1)), Outcome::Clean);
        assert_eq!(pipeline.shutdown(Instant::now()), Outcome::Clean);
    }
}
