//! The export thread of one signal (`tracelink-export` for spans,
//! `tracelink-logs` for log records): it takes batches off the queue and
//! hands them to the exporters, on a single-threaded Tokio runtime of its
//! own, so the service needs no runtime.
//!
//! * **Batching.** A batch is at most `max_export_batch_size` items
//!   (`OTEL_BSP_*`, `OTEL_BLRP_*`). A full batch is exported as soon as it
//!   is queued (the queue wakes the thread with [`Command::Wake`]); whatever
//!   is left, every `scheduled_delay`, and on a flush or shutdown.
//! * **Export timeout.** Every export is bounded by the export timeout
//!   and, once shutdown has begun, by the guard's [`Deadline`], so a
//!   collector that never answers can not hold the thread, or shutdown, up.
//!   A batch that fails or times out is counted as failed.
//! * **Quiet.** What the export path logs is filtered out on this thread
//!   (`quiet.rs`): it can not become a span or a log line of the service.
//!
//! The thread reads the time only through a [`Clock`], for those decisions
//! alone, so the tests drive a fake one; the service's threads read no
//! clock for it. It knows the pipeline only as the [`Shared`] state it
//! borrows from it, and the signal only through [`Signal`]: what a batch
//! is made of, and how the signal is named.

use std::future::{poll_fn, Future};
use std::ops::ControlFlow;
use std::pin::pin;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::Poll;
use std::time::{Duration, Instant};

use super::queue::Queue;
use super::report::{diag_rate_limited, LossReporter};
use super::stats::Counters;
use super::{BatchConfig, Exporter, Signal};
use crate::diag::diag;

/// Where the export thread reads the time, for its timing decisions only:
/// when the next scheduled export is due, when an export has run out of
/// time, how much of the shutdown deadline is left. The waiting itself is
/// the operating system's and Tokio's, for as long as the clock says.
pub(crate) trait Clock: Send + 'static {
    fn now(&self) -> Instant;
}

/// The clock of a real pipeline: [`Instant::now`].
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// How far an export run empties the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Drain {
    /// Full batches only (a batch's worth was pushed).
    FullBatches,
    /// What was queued when it began, then full batches only: the
    /// scheduled export and a flush, which must not chase a busy service
    /// one small batch after another.
    Queued,
    /// Until the queue is empty: at shutdown, once no more is pushed.
    All,
}

/// What the tracers and the guard send the export thread.
pub(crate) enum Command {
    /// A full batch is waiting.
    Wake,
    /// Export everything queued, then answer.
    Flush(mpsc::Sender<bool>),
    /// Export everything queued, shut the exporters down, answer and stop.
    Shutdown(mpsc::Sender<bool>),
}

/// The shutdown deadline: unset until shutdown begins, then every export in
/// flight ends by it.
#[derive(Debug, Default)]
pub(crate) struct Deadline {
    at: Mutex<Option<Instant>>,
    changed: tokio::sync::Notify,
}

impl Deadline {
    /// Sets the deadline, and cuts short the wait of an export in flight.
    pub(crate) fn set(&self, at: Instant) {
        *self.at.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
        self.changed.notify_one();
    }

    pub(crate) fn get(&self) -> Option<Instant> {
        *self.at.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What the export thread shares with the service's threads and the
/// guard. The pipeline holds it inline, behind the one `Arc` every tracer
/// (or log layer) holds, so the hot path follows no extra pointer; the
/// worker borrows it through `AsRef<Shared<T>>` without knowing the type
/// above it.
#[derive(Debug)]
pub(crate) struct Shared<T> {
    pub(crate) queue: Queue<T>,
    pub(crate) counters: Counters,
    pub(crate) deadline: Deadline,
}

impl<T> Shared<T> {
    pub(crate) fn new(queue: Queue<T>) -> Self {
        Self {
            queue,
            counters: Counters::default(),
            deadline: Deadline::default(),
        }
    }
}

/// What the export thread borrows from its pipeline: the shared state,
/// and the signal's.
pub(crate) trait Source<S: Signal>: Send + Sync + 'static {
    fn shared(&self) -> &Shared<S::Item>;
    fn state(&self) -> &S::State;
}

/// The export thread's state: the signal, its exporters, the schedule.
pub(crate) struct Worker<S: Signal, P, C> {
    pipeline: Arc<P>,
    clock: C,
    signal: S,
    exporters: Vec<Box<dyn Exporter<S::Batch>>>,
    scheduled_delay: Duration,
    export_timeout: Duration,
    /// When whatever is queued goes out, full batch or not.
    next_export: Instant,
    reporter: LossReporter,
}

impl<S, P, C> Worker<S, P, C>
where
    S: Signal,
    P: Source<S>,
    C: Clock,
{
    pub(crate) fn new(
        pipeline: Arc<P>,
        signal: S,
        exporters: Vec<Box<dyn Exporter<S::Batch>>>,
        batch: &BatchConfig,
        clock: C,
    ) -> Self {
        let next_export = clock.now() + batch.scheduled_delay;
        Self {
            pipeline,
            clock,
            signal,
            exporters,
            scheduled_delay: batch.scheduled_delay,
            export_timeout: batch.export_timeout,
            next_export,
            reporter: LossReporter::default(),
        }
    }

    /// Starts the signal's export thread, which runs until
    /// [`Command::Shutdown`] or until every sender of `commands` is gone.
    pub(crate) fn spawn(
        self,
        commands: mpsc::Receiver<Command>,
        runtime: tokio::runtime::Runtime,
    ) -> std::io::Result<()> {
        std::thread::Builder::new()
            .name(S::NAMES.thread.into())
            .spawn(move || self.run(&commands, &runtime))?;
        Ok(())
    }

    fn run(mut self, commands: &mpsc::Receiver<Command>, runtime: &tokio::runtime::Runtime) {
        // What the exporters and their HTTP/2 stack log stays out of the
        // service's subscriber (see `quiet.rs`).
        crate::filter::quiet::mark_export_thread();
        while self.step(commands, runtime).is_continue() {}
    }

    fn shared(&self) -> &Shared<S::Item> {
        self.pipeline.shared()
    }

    /// How long to wait for a command before the scheduled export is due.
    fn wait(&self) -> Duration {
        self.next_export.saturating_duration_since(self.clock.now())
    }

    /// One turn of the loop: waits for a command or for the scheduled
    /// export, and does it. `Break` once the thread is to stop.
    fn step(
        &mut self,
        commands: &mpsc::Receiver<Command>,
        runtime: &tokio::runtime::Runtime,
    ) -> ControlFlow<()> {
        match commands.recv_timeout(self.wait()) {
            Ok(Command::Wake) => {
                self.shared().queue.rearm();
                self.export_queued(runtime, Drain::FullBatches);
            }
            Err(RecvTimeoutError::Timeout) => {
                self.export_queued(runtime, Drain::Queued);
                self.next_export = self.clock.now() + self.scheduled_delay;
            }
            Ok(Command::Flush(reply)) => {
                let ok = self.export_queued(runtime, Drain::Queued);
                let _ = reply.send(ok);
            }
            Ok(Command::Shutdown(reply)) => {
                let ok = self.export_queued(runtime, Drain::All);
                let ok = self.shutdown_exporters(runtime) && ok;
                let stats = self.shared().counters.snapshot();
                self.reporter
                    .report(&S::NAMES, &stats, true, self.clock.now());
                let _ = reply.send(ok);
                return ControlFlow::Break(());
            }
            Err(RecvTimeoutError::Disconnected) => {
                self.export_queued(runtime, Drain::All);
                self.shutdown_exporters(runtime);
                return ControlFlow::Break(());
            }
        }
        self.report_drops();
        ControlFlow::Continue(())
    }

    /// Exports queued items in batches, as much as `drain` says.
    /// Returns false if any batch failed.
    fn export_queued(&mut self, runtime: &tokio::runtime::Runtime, drain: Drain) -> bool {
        let pipeline = Arc::clone(&self.pipeline);
        let shared = pipeline.shared();
        let batch_size = shared.queue.batch_size();
        // What a scheduled export owes: the items queued when it began.
        let mut owed = match drain {
            Drain::Queued => shared.queue.len(),
            Drain::FullBatches | Drain::All => 0,
        };
        let mut ok = true;
        loop {
            let queued = shared.queue.len();
            let full_only = match drain {
                Drain::All => false,
                Drain::FullBatches => true,
                Drain::Queued => owed == 0,
            };
            if queued == 0 || (full_only && queued < batch_size) {
                return ok;
            }
            // This thread is the only consumer: the `queued` items are there.
            let take = queued.min(batch_size);
            owed = owed.saturating_sub(take);
            // Counted in flight before they leave the queue, so that
            // `unexported` never misses them.
            shared.counters.take(take as u64);
            let mut items = Vec::with_capacity(take);
            while items.len() < take {
                let Some(item) = shared.queue.pop() else {
                    break;
                };
                items.push(item);
            }
            shared.counters.untake((take - items.len()) as u64);
            let count = items.len() as u64;
            let batch = self.signal.batch(pipeline.state(), items);
            ok &= self.export(runtime, batch, count);
            // In an outage the queue refills while each batch fails, and
            // this loop may not end until the collector is back.
            self.report_drops();
        }
    }

    /// Reports queue-full drops, at most every 10 s.
    fn report_drops(&mut self) {
        let stats = self.pipeline.shared().counters.snapshot();
        self.reporter
            .report(&S::NAMES, &stats, false, self.clock.now());
    }

    /// Hands one batch to every exporter, each bounded by the export
    /// timeout and the shutdown deadline. The batch counts once: exported
    /// if every exporter took it, failed otherwise.
    fn export(&self, runtime: &tokio::runtime::Runtime, batch: S::Batch, count: u64) -> bool {
        let shared = self.shared();
        let batch_deadline = self.clock.now() + self.export_timeout;
        let mut ok = true;
        let last = self.exporters.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (i, exporter) in self.exporters.iter().enumerate() {
            let Some(items) = (if i == last {
                batch.take()
            } else {
                batch.clone()
            }) else {
                break;
            };
            let result = runtime.block_on(bounded(
                exporter.export(items),
                batch_deadline,
                &shared.deadline,
                &self.clock,
            ));
            let error = match result {
                Some(Ok(())) => None,
                Some(Err(error)) => Some(error.to_string()),
                None => Some(format!(
                    "no answer within the export timeout ({:?}) or the shutdown deadline",
                    self.export_timeout
                )),
            };
            match error {
                None => {
                    diag!(
                        Debug,
                        "exported {count} {} to {}",
                        S::NAMES.many,
                        exporter.describe()
                    );
                }
                Some(error) => {
                    ok = false;
                    diag_rate_limited(&S::NAMES, exporter.describe(), &error, count);
                }
            }
        }
        shared.counters.settle(count, ok);
        ok
    }

    /// Shuts every exporter down within what is left of the shutdown
    /// deadline (1 s if there is none: the command channel was dropped).
    fn shutdown_exporters(&mut self, runtime: &tokio::runtime::Runtime) -> bool {
        let deadline = self
            .pipeline
            .shared()
            .deadline
            .get()
            .unwrap_or_else(|| self.clock.now() + Duration::from_secs(1));
        let mut ok = true;
        for exporter in &mut self.exporters {
            let remaining = deadline.saturating_duration_since(self.clock.now());
            let _enter = runtime.enter();
            if let Err(error) = exporter.shutdown(remaining) {
                diag!(
                    Warn,
                    "{} did not shut down cleanly: {error}",
                    exporter.describe()
                );
                ok = false;
            }
        }
        ok
    }
}

/// Runs `export` until it finishes or the batch deadline (or the shutdown
/// deadline, whichever is earlier) passes, as `clock` tells it; `None` on
/// timeout. A shutdown deadline set meanwhile is taken into account at once.
async fn bounded<F: Future>(
    export: F,
    batch_deadline: Instant,
    shutdown: &Deadline,
    clock: &impl Clock,
) -> Option<F::Output> {
    let mut export = pin!(export);
    loop {
        let deadline = shutdown
            .get()
            .map_or(batch_deadline, |d| d.min(batch_deadline));
        let mut sleep = pin!(tokio::time::sleep(
            deadline.saturating_duration_since(clock.now())
        ));
        let mut changed = pin!(shutdown.changed.notified());
        let outcome = poll_fn(|cx| {
            if let Poll::Ready(output) = export.as_mut().poll(cx) {
                return Poll::Ready(Some(Some(output)));
            }
            if sleep.as_mut().poll(cx).is_ready() {
                return Poll::Ready(Some(None));
            }
            if changed.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            Poll::Pending
        })
        .await;
        if let Some(result) = outcome {
            return result;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, Sender};

    use super::super::tests::Numbers;
    use super::super::{Answer, Recorder};
    use super::*;

    impl Source<Numbers> for Shared<u64> {
        fn shared(&self) -> &Shared<u64> {
            self
        }

        fn state(&self) -> &() {
            &()
        }
    }

    /// A clock that moves only when told, from a real instant (the shutdown
    /// deadline is the guard's, read on the real clock).
    #[derive(Clone, Debug)]
    struct FakeClock(Arc<Mutex<Instant>>);

    impl FakeClock {
        fn new() -> Self {
            Self(Arc::new(Mutex::new(Instant::now())))
        }

        fn advance(&self, by: Duration) {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner) += by;
        }
    }

    impl Clock for FakeClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap_or_else(PoisonError::into_inner)
        }
    }

    /// A worker driven one step at a time on the test's thread, or moved to
    /// a thread of its own, with a fake clock and a recording exporter.
    struct Harness {
        worker: Worker<Numbers, Shared<u64>, FakeClock>,
        shared: Arc<Shared<u64>>,
        clock: FakeClock,
        exporter: Recorder<Vec<u64>>,
        tx: Sender<Command>,
        rx: Receiver<Command>,
        runtime: tokio::runtime::Runtime,
    }

    impl Harness {
        fn new(batch: &BatchConfig, answer: Answer) -> Self {
            let shared = Arc::new(Shared::new(Queue::new(
                batch.max_queue_size,
                batch.max_export_batch_size,
            )));
            let clock = FakeClock::new();
            let exporter = Recorder::new(answer);
            let worker = Worker::new(
                shared.clone(),
                Numbers,
                vec![Box::new(exporter.clone())],
                batch,
                clock.clone(),
            );
            let (tx, rx) = mpsc::channel();
            // UNWRAP: a test can not go on without a runtime; building one
            // fails only if the OS refuses its I/O driver.
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a test runtime");
            Self {
                worker,
                shared,
                clock,
                exporter,
                tx,
                rx,
                runtime,
            }
        }

        /// Queues `ns` as `Pipeline::push` does, waking the worker for
        /// each full batch.
        fn push(&self, ns: std::ops::Range<u64>) {
            for n in ns {
                if self.shared.queue.push(n, &self.shared.counters) {
                    self.send(Command::Wake);
                }
            }
        }

        fn send(&self, command: Command) {
            assert!(self.tx.send(command).is_ok(), "the receiver is `self.rx`");
        }

        fn step(&mut self) -> ControlFlow<()> {
            self.worker.step(&self.rx, &self.runtime)
        }

        /// Each batch the exporter was given.
        fn batches(&self) -> Vec<Vec<u64>> {
            self.exporter.batches()
        }

        /// Runs steps on a thread of its own until one stops the loop or
        /// answers `reply`. Returns the answer (`None` if there was none
        /// within 5 s, which fails the test rather than hanging it) and
        /// the time it took.
        fn step_on_a_thread(mut self, reply: Receiver<bool>) -> (Option<bool>, Duration, Self) {
            let started = Instant::now();
            let worker = std::thread::spawn(move || {
                let _ = self.step();
                self
            });
            let answer = reply.recv_timeout(Duration::from_secs(5)).ok();
            let took = started.elapsed();
            assert!(answer.is_some(), "the worker did not answer within 5 s");
            match worker.join() {
                Ok(harness) => (answer, took, harness),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    }

    fn config(batch_size: usize) -> BatchConfig {
        BatchConfig::default()
            .with_max_queue_size(100)
            .with_max_export_batch_size(batch_size)
    }

    #[test]
    fn batches_are_cut_at_max_export_batch_size() {
        let mut h = Harness::new(&config(3), Answer::Take);
        h.push(0..7);
        let (tx, reply) = mpsc::channel();
        h.send(Command::Flush(tx));
        // The wake for the first full batch comes first (both full batches
        // go then), then the flush.
        while reply.try_recv().is_err() {
            assert!(h.step().is_continue());
        }
        assert_eq!(h.batches(), [vec![0, 1, 2], vec![3, 4, 5], vec![6]]);
        let stats = h.shared.counters.snapshot();
        assert_eq!((stats.exported(), stats.failed()), (7, 0));
        assert_eq!(h.shared.counters.in_flight(), 0);
        assert_eq!(h.shared.queue.len(), 0);
    }

    #[test]
    fn a_wake_exports_only_full_batches() {
        let mut h = Harness::new(&config(3), Answer::Take);
        h.push(0..5);
        assert!(h.step().is_continue());
        assert_eq!(h.batches(), [vec![0, 1, 2]]);
        // The rest waits for the schedule.
        assert_eq!(h.shared.queue.len(), 2);
        assert_eq!(h.shared.counters.snapshot().exported(), 3);
        // The wake was answered: a batch's worth of pushes later comes
        // the next, one wake, for one more full batch.
        h.push(5..8);
        assert!(h.rx.try_recv().is_ok(), "a wake for the next batch");
        assert!(h.rx.try_recv().is_err(), "one wake a batch");
        h.send(Command::Wake);
        assert!(h.step().is_continue());
        assert_eq!(h.batches(), [vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(h.shared.queue.len(), 2);
    }

    #[test]
    fn a_partial_batch_goes_out_when_the_schedule_delay_passes() {
        let batch = config(10).with_scheduled_delay(Duration::from_secs(5));
        let mut h = Harness::new(&batch, Answer::Take);
        h.push(0..2);
        assert_eq!(h.worker.wait(), Duration::from_secs(5));
        h.clock.advance(Duration::from_secs(4));
        assert_eq!(h.worker.wait(), Duration::from_secs(1));
        // A command before the delay (a wake, with no full batch) sends nothing.
        h.send(Command::Wake);
        assert!(h.step().is_continue());
        assert!(h.batches().is_empty());
        assert_eq!(h.shared.queue.len(), 2);
        // Past the delay the worker does not wait: the partial batch goes.
        h.clock.advance(Duration::from_secs(1));
        assert_eq!(h.worker.wait(), Duration::ZERO);
        assert!(h.step().is_continue());
        assert_eq!(h.batches(), [vec![0, 1]]);
        // And the next one is due a whole delay later.
        assert_eq!(h.worker.wait(), Duration::from_secs(5));
    }

    #[test]
    fn a_scheduled_export_takes_what_was_queued_and_does_not_chase_the_service() {
        // The service logs one item during every export: a scheduled
        // export that went on until the queue was empty would send batch
        // after batch of one, for as long as the service is busy.
        let batch = config(10).with_scheduled_delay(Duration::from_secs(5));
        let mut h = Harness::new(&batch, Answer::Take);
        let shared = h.shared.clone();
        let mut next = 100;
        h.exporter.on_export(move || {
            let _ = shared.queue.push(next, &shared.counters);
            next += 1;
        });
        h.push(0..3);
        h.clock.advance(Duration::from_secs(5));
        assert!(h.step().is_continue());
        assert_eq!(h.batches(), [vec![0, 1, 2]]);
        // What came meanwhile waits for the next turn (or a full batch).
        assert_eq!(h.shared.queue.len(), 1);
        // A flush, likewise, exports what is queued when it is asked.
        let (tx, reply) = mpsc::channel();
        h.send(Command::Flush(tx));
        assert!(h.step().is_continue());
        assert_eq!(reply.try_recv(), Ok(true));
        assert_eq!(h.batches(), [vec![0, 1, 2], vec![100]]);
        assert_eq!(h.shared.queue.len(), 1);
    }

    #[test]
    fn an_exporter_that_never_answers_is_cut_at_the_export_timeout() {
        let batch = config(10)
            .with_export_timeout(Duration::from_millis(5))
            .with_scheduled_delay(Duration::from_secs(3600));
        let h = Harness::new(&batch, Answer::Never);
        h.push(0..4);
        let (tx, reply) = mpsc::channel();
        h.send(Command::Flush(tx));
        let (answer, took, h) = h.step_on_a_thread(reply);
        assert_eq!(answer, Some(false));
        assert!(took >= Duration::from_millis(5), "gave up after {took:?}");
        assert_eq!(h.batches(), [vec![0, 1, 2, 3]]);
        let stats = h.shared.counters.snapshot();
        assert_eq!((stats.exported(), stats.failed()), (0, 4));
        assert_eq!(h.shared.counters.in_flight(), 0);
    }

    #[test]
    fn a_failed_batch_is_counted_as_failed() {
        let mut h = Harness::new(&config(2), Answer::FailEvery(2));
        h.push(0..5);
        let (tx, reply) = mpsc::channel();
        h.send(Command::Flush(tx));
        while reply.try_recv().is_err() {
            assert!(h.step().is_continue());
        }
        // Batches [0, 1] and [4] taken, [2, 3] refused.
        assert_eq!(h.batches(), [vec![0, 1], vec![2, 3], vec![4]]);
        let stats = h.shared.counters.snapshot();
        assert_eq!((stats.exported(), stats.failed()), (3, 2));
    }

    #[test]
    fn a_shutdown_deadline_cuts_short_an_export_in_flight() {
        // The export timeout alone would hold the flush for an hour.
        let batch = config(10).with_export_timeout(Duration::from_secs(3600));
        let h = Harness::new(&batch, Answer::Never);
        h.push(0..3);
        let (tx, reply) = mpsc::channel();
        h.send(Command::Flush(tx));
        let shared = h.shared.clone();
        let exporter = h.exporter.clone();
        let setter = std::thread::spawn(move || {
            // Once the export is under way, shutdown begins.
            while exporter.batches().is_empty() {
                std::thread::sleep(Duration::from_millis(1));
            }
            shared
                .deadline
                .set(Instant::now() + Duration::from_millis(5));
        });
        let (answer, _, h) = h.step_on_a_thread(reply);
        if let Err(panic) = setter.join() {
            std::panic::resume_unwind(panic);
        }
        assert_eq!(answer, Some(false));
        assert_eq!(h.shared.counters.snapshot().failed(), 3);
    }

    #[test]
    fn drops_are_reported_every_ten_seconds_while_the_queue_never_empties() {
        // An outage under load: every batch fails after 4 s, and meanwhile
        // the service fills the queue again and loses items, so the worker
        // goes from batch to batch without ever waiting for a command.
        let batch = BatchConfig::default()
            .with_max_queue_size(4)
            .with_max_export_batch_size(2);
        let mut h = Harness::new(&batch, Answer::Fail);
        let (shared, clock) = (h.shared.clone(), h.clock.clone());
        let mut next = 100;
        let mut outage = 0;
        h.exporter.on_export(move || {
            outage += 1;
            if outage > 15 {
                return; // the service goes quiet
            }
            clock.advance(Duration::from_secs(4));
            for _ in 0..4 {
                let _ = shared.queue.push(next, &shared.counters);
                next += 1;
            }
        });
        h.push(0..4);
        while h.rx.try_recv().is_ok() {}
        h.send(Command::Wake);
        assert!(h.step().is_continue());
        // 15 batches of 4 s, a minute, then two more: the drops reported
        // at 4, 16, 28, 40 and 52 s, not once when the loop ends.
        assert_eq!(h.shared.queue.len(), 0);
        let stats = h.shared.counters.snapshot();
        assert_eq!(stats.dropped(), 30);
        assert_eq!(h.worker.reporter.reports, 5);
        assert_eq!(stats.exported() + stats.failed() + stats.dropped(), 64);
    }

    #[test]
    fn shutdown_exports_what_is_queued_then_stops() {
        let mut h = Harness::new(&config(2), Answer::Take);
        h.push(0..3);
        // Shutdown comes before the wake is seen: everything still goes.
        while h.rx.try_recv().is_ok() {}
        let (tx, reply) = mpsc::channel();
        h.send(Command::Shutdown(tx));
        assert!(h.step().is_break());
        assert_eq!(reply.try_recv(), Ok(true));
        assert_eq!(h.batches(), [vec![0, 1], vec![2]]);
        assert!(h.exporter.is_shut_down());
    }

    #[test]
    fn without_senders_it_exports_what_is_left_and_stops() {
        let mut h = Harness::new(&config(10), Answer::Take);
        h.push(0..3);
        let (tx, _) = mpsc::channel();
        h.tx = tx;
        assert!(h.step().is_break());
        assert_eq!(h.batches(), [vec![0, 1, 2]]);
        assert!(h.exporter.is_shut_down());
    }
}
