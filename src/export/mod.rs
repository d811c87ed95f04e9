//! The way out, for every signal: a bounded queue between the service's
//! threads and an export thread of the signal's own, and that thread.
//! Spans (`trace/`) and log records sent over OTLP (`logs/`) each run one
//! [`Pipeline`], so a log backend that is down never holds up spans, nor
//! the other way round; the guard shuts them down side by side, within one
//! deadline.
//!
//! ```text
//! span ended,      ──▶ queue ──────────▶ worker ───────────────▶ exporters
//! event logged         (queue.rs)        (worker.rs)              (sink.rs)
//!                      one lock-free     one thread a signal:     OTLP, console,
//!                      push, or a drop   batches, timeouts,       local file,
//!                      counted           shutdown                 your own
//! ```
//!
//! * The hot path ([`Pipeline::push`]) is one lock-free push into a bounded
//!   queue; when it is full the item is dropped and counted, never waited
//!   for.
//! * Each export thread owns its exporters and a single-threaded Tokio
//!   runtime for their I/O, so the service needs no runtime of its own.
//!   What the export path logs is filtered out on that thread (`quiet.rs`):
//!   it can not become a span or a log line of the service.
//! * Every export is bounded by the signal's export timeout, and, once
//!   shutdown has begun, by the guard's deadline, so a collector that never
//!   answers can not hold shutdown up.
//!
//! What a signal brings is a [`Signal`]: the item it queues, the batch its
//! exporters take, and how it is named in what tracelink prints. This module
//! knows no signal; the files go one way:
//!
//! ```text
//! mod.rs      Pipeline<S>: start, push, flush, shutdown, stats; Signal
//!   ▼
//! worker.rs   the export thread: batching, schedule, export timeout,
//!   ▼         shutdown deadline; its Clock, Command, Shared state
//! queue.rs    the queue: the hot path, push and drop counting
//!   ▼
//! report.rs   losses on stderr     stats.rs   ExportStats, counters
//! sink.rs     Exporter<B>          batch.rs   BatchConfig
//! otlp.rs     OTLP exporters of any signal, set up from target.rs's OtlpTarget
//! ```

mod batch;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) mod otlp;
mod queue;
mod report;
mod sink;
mod stats;
mod target;
mod worker;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

pub use batch::BatchConfig;
#[cfg(any(feature = "otlp-grpc", feature = "otlp-http"))]
pub(crate) use otlp::{otlp_exporter, Otlp};
pub(crate) use sink::{type_name, ExportFuture, Exporter};
#[cfg(test)]
pub(crate) use sink::{Answer, Recorder};
pub(crate) use stats::Counters;
pub use stats::ExportStats;
pub(crate) use target::OtlpTarget;
#[cfg(not(any(feature = "otlp-grpc", feature = "otlp-http")))]
pub(crate) use target::NO_TRANSPORT;

use queue::Queue;
use worker::{Command, Shared, SystemClock, Worker};

/// How a signal is named in what tracelink prints about it.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Names {
    /// One item: `span`, `log record`.
    pub(crate) one: &'static str,
    /// Many: `spans`, `log records`.
    pub(crate) many: &'static str,
    /// What an item does to be lost after shutdown: `started or ended`.
    pub(crate) came: &'static str,
    /// Its [`Stats`](crate::Stats) accessor: `spans`, `log_records`.
    pub(crate) stats: &'static str,
    /// The export thread's name.
    pub(crate) thread: &'static str,
    /// What to try when the OTLP collector cannot be reached.
    pub(crate) local_hint: &'static str,
}

/// What one kind of telemetry brings to a [`Pipeline`].
pub(crate) trait Signal: Send + 'static {
    /// What the service's threads queue.
    type Item: Send + 'static;
    /// What each exporter is handed (cloned for all but the last).
    type Batch: Clone + Send + 'static;
    /// What the service's threads share with the export thread beyond the
    /// queue (the spans' instrumentation scopes).
    type State: Send + Sync + Default + 'static;
    /// How the signal is named in messages.
    const NAMES: Names;
    /// An item's name, for the warning about items after shutdown.
    fn name_of(item: &Self::Item) -> &str;
    /// Turns items taken off the queue into a batch, on the export thread.
    fn batch(&mut self, state: &Self::State, items: Vec<Self::Item>) -> Self::Batch;
}

/// A signal's queue and export thread, shared by the service's threads
/// (which push) and the guard (which flushes and shuts down).
pub(crate) struct Pipeline<S: Signal> {
    /// What the export thread reads too: inline, so a push follows the one
    /// pointer to the pipeline and no other.
    shared: Shared<S::Item>,
    state: S::State,
    running: AtomicBool,
    /// Whether it has any exporter: without one it never runs, and an item
    /// it does not take is neither lost nor late.
    exports: bool,
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    /// Whether the warning about items after shutdown was given.
    warned: AtomicBool,
}

impl<S: Signal> std::fmt::Debug for Pipeline<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("signal", &S::NAMES.many)
            .field("queued", &self.shared.queue.len())
            .field("capacity", &self.shared.queue.capacity())
            .field("running", &self.is_running())
            .field("stats", &self.stats())
            .finish()
    }
}

impl<S: Signal> worker::Source<S> for Pipeline<S> {
    fn shared(&self) -> &Shared<S::Item> {
        &self.shared
    }

    fn state(&self) -> &S::State {
        &self.state
    }
}

impl<S: Signal> Pipeline<S> {
    /// Starts the export thread; with no exporters there is no thread, and
    /// nothing is queued.
    pub(crate) fn start(
        batch: &BatchConfig,
        signal: S,
        exporters: Vec<Box<dyn Exporter<S::Batch>>>,
        runtime: tokio::runtime::Runtime,
    ) -> std::io::Result<Arc<Self>> {
        let running = !exporters.is_empty();
        let (tx, rx) = mpsc::channel();
        let capacity = if running { batch.max_queue_size } else { 1 };
        let pipeline = Arc::new(Pipeline {
            shared: Shared::new(Queue::new(capacity, batch.max_export_batch_size)),
            state: S::State::default(),
            running: AtomicBool::new(running),
            exports: running,
            commands: Mutex::new(running.then_some(tx)),
            warned: AtomicBool::new(false),
        });
        if running {
            Worker::new(pipeline.clone(), signal, exporters, batch, SystemClock)
                .spawn(rx, runtime)?;
        } else {
            runtime.shutdown_background();
        }
        Ok(pipeline)
    }

    /// What the service's threads share with the export thread.
    pub(crate) fn state(&self) -> &S::State {
        &self.state
    }

    pub(crate) fn is_running(&self) -> bool {
        self.running.load(Ordering::Relaxed)
    }

    /// An item that came after shutdown: counted as dropped, and the first
    /// one is a warning. Without any exporter nothing is lost, and nothing
    /// is said.
    #[cold]
    pub(crate) fn refuse(&self, name: &str) {
        if self.exports {
            self.shared.counters.drop_one();
            report::warn_after_shutdown(&S::NAMES, name, &self.warned);
        }
    }

    /// The hot path: queue an item, or count it as dropped.
    #[inline]
    pub(crate) fn push(&self, item: S::Item) {
        if !self.is_running() {
            self.refuse(S::name_of(&item));
            return;
        }
        let shared = &self.shared;
        if shared.queue.push(item, &shared.counters) {
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

    /// Items queued or being exported right now.
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

    /// Exports what is queued and stops the export thread, all before
    /// `deadline`. Items that come later are dropped and counted.
    pub(crate) fn shutdown(&self, deadline: Instant) -> Outcome {
        self.begin_shutdown(deadline).wait()
    }

    /// Starts shutting down: the thread exports what is queued and stops,
    /// by `deadline`, while the caller starts other pipelines' shutdowns;
    /// [`Stopping::wait`] waits for the answer.
    pub(crate) fn begin_shutdown(&self, deadline: Instant) -> Stopping<'_> {
        if !self.running.swap(false, Ordering::AcqRel) {
            return Stopping::Done;
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
        Stopping::Asked {
            answer: sent.then_some(rx),
            deadline,
            failed_before,
            counters: &self.shared.counters,
        }
    }
}

/// A shutdown under way ([`Pipeline::begin_shutdown`]).
#[derive(Debug)]
pub(crate) enum Stopping<'a> {
    /// The pipeline was not running.
    Done,
    Asked {
        answer: Option<mpsc::Receiver<bool>>,
        deadline: Instant,
        failed_before: u64,
        counters: &'a stats::Counters,
    },
}

impl Stopping<'_> {
    /// Waits for the export thread's answer, until a little past the
    /// deadline.
    pub(crate) fn wait(self) -> Outcome {
        let Stopping::Asked {
            answer,
            deadline,
            failed_before,
            counters,
        } = self
        else {
            return Outcome::Clean;
        };
        // A little grace past the deadline for the thread to answer.
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
        match answer.map(|rx| rx.recv_timeout(wait)) {
            Some(Ok(true)) if counters.failed() > failed_before => Outcome::Failed,
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
    /// An export failed; the items are counted in [`ExportStats::failed`].
    Failed,
    /// The export thread did not answer in time.
    TimedOut,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A signal of plain numbers, for the tests of this module.
    #[derive(Debug, Default)]
    pub(crate) struct Numbers;

    pub(crate) const NUMBERS: Names = Names {
        one: "number",
        many: "numbers",
        came: "came",
        stats: "numbers",
        thread: "tracelink-test",
        local_hint: "; is a Collector listening there? (a test)",
    };

    impl Signal for Numbers {
        type Item = u64;
        type Batch = Vec<u64>;
        type State = ();
        const NAMES: Names = NUMBERS;

        // The trait's bound is the item's; a number has no name of its own.
        #[allow(clippy::unnecessary_literal_bound)]
        fn name_of(_: &u64) -> &str {
            "a number"
        }

        fn batch(&mut self, (): &(), items: Vec<u64>) -> Vec<u64> {
            items
        }
    }

    fn start(batch: &BatchConfig, exporters: &[&Recorder<Vec<u64>>]) -> Arc<Pipeline<Numbers>> {
        // UNWRAP: a test can not go on without a runtime; building one
        // fails only if the OS refuses its I/O driver.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a test runtime");
        let exporters = exporters
            .iter()
            .map(|recorder| Box::new((*recorder).clone()) as Box<dyn Exporter<Vec<u64>>>)
            .collect();
        let started = Pipeline::start(batch, Numbers, exporters, runtime);
        // UNWRAP: the only error is the OS refusing a thread.
        started.expect("the export thread starts")
    }

    fn push(pipeline: &Pipeline<Numbers>, ns: std::ops::Range<u64>) {
        for n in ns {
            pipeline.push(n);
        }
    }

    fn items_in(recorder: &Recorder<Vec<u64>>) -> Vec<u64> {
        recorder.batches().into_iter().flatten().collect()
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
        assert_eq!(items_in(&recorder), (0..10).collect::<Vec<_>>());
        assert!(recorder.is_shut_down());
        assert_eq!(pipeline.stats().exported(), 10);
        assert_eq!(pipeline.unexported(), 0);
        // Later items are refused, and counted.
        assert!(!pipeline.is_running());
        push(&pipeline, 10..11);
        assert_eq!(pipeline.stats().dropped(), 1);
        assert!(pipeline.warned.load(Ordering::Relaxed));
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
        assert_eq!(items_in(&silent), [0, 1, 2]);
    }

    #[test]
    fn two_pipelines_shut_down_side_by_side_within_one_deadline() {
        let batch = unscheduled().with_export_timeout(Duration::from_secs(3600));
        let (first, second) = (Recorder::new(Answer::Never), Recorder::new(Answer::Never));
        let (a, b) = (start(&batch, &[&first]), start(&batch, &[&second]));
        push(&a, 0..3);
        push(&b, 0..3);
        let started = Instant::now();
        let deadline = started + Duration::from_millis(300);
        let (stopping_a, stopping_b) = (a.begin_shutdown(deadline), b.begin_shutdown(deadline));
        assert_eq!(
            (stopping_a.wait(), stopping_b.wait()),
            (Outcome::Failed, Outcome::Failed)
        );
        // One after the other, they would have taken twice the deadline.
        let took = started.elapsed();
        assert!(took < Duration::from_millis(550), "shutdown took {took:?}");
        assert_eq!((a.stats().failed(), b.stats().failed()), (3, 3));
    }

    #[test]
    fn flush_exports_a_partial_batch_now() {
        let recorder = Recorder::new(Answer::Take);
        let pipeline = start(&unscheduled(), &[&recorder]);
        push(&pipeline, 0..3);
        assert_eq!(pipeline.flush(Duration::from_secs(5)), Outcome::Clean);
        assert_eq!(items_in(&recorder), [0, 1, 2]);
        let refusing = Recorder::new(Answer::Fail);
        let pipeline = start(&unscheduled(), &[&refusing]);
        push(&pipeline, 0..3);
        assert_eq!(pipeline.flush(Duration::from_secs(5)), Outcome::Failed);
        assert_eq!(pipeline.stats().failed(), 3);
    }

    #[test]
    fn every_item_produced_is_exported_dropped_or_failed() {
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
        assert_eq!(items_in(&first), [0, 1, 2, 3]);
        assert_eq!(items_in(&second), [0, 1, 2, 3]);
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
