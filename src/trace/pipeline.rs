//! The bounded queue between ended spans and the export thread.
//!
//! * The hot path is one lock-free push into a fixed-size ring
//!   ([`crossbeam_queue::ArrayQueue`]); when the ring is full the span is
//!   dropped and counted, never waited for.
//! * One thread (`tracelink-export`) owns the exporters and a single-threaded
//!   Tokio runtime for their I/O, so the service needs no runtime of its own.
//!   What the export path logs is filtered out on that thread (`quiet.rs`):
//!   it can not become a span or a log line of the service.
//! * Every export is bounded by `OTEL_BSP_EXPORT_TIMEOUT`, and, once shutdown has
//!   begun, by the guard's deadline, so a collector that never answers can not
//!   hold shutdown up.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::{poll_fn, Future};
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_queue::ArrayQueue;
use opentelemetry::trace::{Event, Link, SpanContext, SpanId, SpanKind, Status};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};

use super::export::DynExporter;
use super::BatchConfig;
use crate::diag::diag;

/// Attributes, events and links a span keeps at most (the specification's
/// defaults); the rest are counted as dropped.
pub(crate) const LIMIT: usize = 128;

/// A sampled span's data, from start to end.
#[derive(Debug)]
pub(crate) struct Record {
    pub(crate) name: Cow<'static, str>,
    pub(crate) kind: SpanKind,
    pub(crate) parent_span_id: SpanId,
    pub(crate) parent_is_remote: bool,
    pub(crate) start_time: SystemTime,
    pub(crate) end_time: SystemTime,
    pub(crate) attributes: Vec<KeyValue>,
    pub(crate) dropped_attributes: u32,
    pub(crate) events: Vec<Event>,
    pub(crate) dropped_events: u32,
    pub(crate) links: Vec<Link>,
    pub(crate) dropped_links: u32,
    pub(crate) status: Status,
    /// Index into [`Pipeline::scopes`].
    pub(crate) scope: u32,
    /// Where the span was made, if a `tracing` span: its scope (the target)
    /// and `code.*` attributes are added on the export thread (`callsite.rs`).
    pub(crate) callsite: Option<&'static tracing_core::Metadata<'static>>,
}

struct Finished {
    context: SpanContext,
    record: Record,
}

/// One attribute a key, with the last value it was given: a field recorded
/// again before the span started (`Span::record`, or an unsigned field
/// recorded again as an int by [`OtelLayer`](super::OtelLayer)) sits twice in
/// the builder, and OTLP wants each key once. Done here, on the export
/// thread, rather than on the span's.
fn keep_last_of_each_key(attributes: &mut Vec<KeyValue>) {
    let mut i = 0;
    while i + 1 < attributes.len() {
        let key = &attributes[i].key;
        if attributes[i + 1..].iter().any(|kv| kv.key == *key) {
            attributes.remove(i);
        } else {
            i += 1;
        }
    }
}

impl Finished {
    fn into_span_data(self, scopes: &mut Scopes, code_location: bool) -> SpanData {
        let mut r = self.record;
        keep_last_of_each_key(&mut r.attributes);
        let scope = match r.callsite {
            Some(callsite) => {
                if code_location {
                    super::callsite::append_location(
                        callsite,
                        &mut r.attributes,
                        LIMIT,
                        &mut r.dropped_attributes,
                    );
                }
                scopes.of_callsite(callsite)
            }
            None => scopes.of_tracer(r.scope),
        };
        let mut events = SpanEvents::default();
        events.events = r.events;
        events.dropped_count = r.dropped_events;
        let mut links = SpanLinks::default();
        links.links = r.links;
        links.dropped_count = r.dropped_links;
        SpanData {
            span_context: self.context,
            parent_span_id: r.parent_span_id,
            parent_span_is_remote: r.parent_is_remote,
            span_kind: r.kind,
            name: r.name,
            start_time: r.start_time,
            end_time: r.end_time,
            attributes: r.attributes,
            dropped_attributes_count: r.dropped_attributes,
            events,
            links,
            status: r.status,
            instrumentation_scope: scope,
        }
    }
}

/// Each exported span's instrumentation scope: for a `tracing` span its
/// target (`my_crate::orders`), as OpenTelemetry's own `tracing` log bridge
/// maps it; for a span made through the OpenTelemetry API, its tracer's.
#[derive(Default)]
struct Scopes {
    /// The pipeline's table of tracer scopes, as of the current batch.
    tracers: Vec<InstrumentationScope>,
    /// By callsite address: one hash of a pointer a span.
    targets: HashMap<usize, InstrumentationScope, BuildHasherDefault<AddressHasher>>,
}

impl Scopes {
    fn of_tracer(&self, index: u32) -> InstrumentationScope {
        self.tracers
            .get(index as usize)
            .cloned()
            .unwrap_or_default()
    }

    fn of_callsite(
        &mut self,
        callsite: &'static tracing_core::Metadata<'static>,
    ) -> InstrumentationScope {
        let address = std::ptr::from_ref::<tracing_core::Metadata<'static>>(callsite) as usize;
        self.targets
            .entry(address)
            .or_insert_with(|| InstrumentationScope::builder(callsite.target()).build())
            .clone()
    }
}

/// Hashes a callsite's address: static data, 8-byte aligned, unique.
#[derive(Default)]
struct AddressHasher(u64);

impl Hasher for AddressHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            self.0 = (self.0 << 8 | u64::from(byte)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }

    fn write_usize(&mut self, address: usize) {
        // Fibonacci hashing: the high bits, which `HashMap` uses, mix all
        // of the address.
        self.0 = (address as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// Counts of what happened to sampled spans, readable at any time from
/// [`Guard::stats`](crate::Guard::stats).
///
/// ```
/// # fn main() -> Result<(), tracelink::Error> {
/// let parts = tracelink::builder()
///     .with_env([("OTEL_TRACES_EXPORTER", "none")])
///     .build()?;
/// let stats = parts.guard().stats();
/// assert_eq!(stats.dropped(), 0);
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExportStats {
    pub(crate) exported: u64,
    pub(crate) dropped: u64,
    pub(crate) failed: u64,
}

impl ExportStats {
    /// Spans the exporters accepted.
    pub fn exported(&self) -> u64 {
        self.exported
    }

    /// Spans dropped because the queue was full (the exporter was slower than
    /// the service) or because they ended after shutdown.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Spans in batches the exporter failed on or timed out with, after retries.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    /// Every span that did not reach the exporter: dropped plus failed.
    pub fn lost(&self) -> u64 {
        self.dropped + self.failed
    }
}

enum Command {
    /// A full batch is waiting.
    Wake,
    /// Export everything queued, then answer.
    Flush(mpsc::Sender<bool>),
    /// Export everything queued, shut the exporters down, answer and stop.
    Shutdown(mpsc::Sender<bool>),
}

/// State shared by every tracer, the guard and the export thread.
pub(crate) struct Pipeline {
    queue: ArrayQueue<Finished>,
    batch_size: usize,
    running: AtomicBool,
    /// Whether it has any exporter: without one (`OTEL_TRACES_EXPORTER=none`)
    /// it never runs, and a span it does not take is neither lost nor late.
    exports: bool,
    /// Spans pushed since the export thread was last woken for a full batch.
    pushed: AtomicUsize,
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    exported: AtomicU64,
    dropped: AtomicU64,
    failed: AtomicU64,
    /// Spans taken off the queue and not yet exported or failed.
    in_flight: AtomicU64,
    /// Set when shutdown begins: every export in flight ends by then.
    deadline: Mutex<Option<Instant>>,
    deadline_changed: tokio::sync::Notify,
    /// Every instrumentation scope a tracer was made for, once each.
    scopes: Mutex<Vec<InstrumentationScope>>,
    /// Whether `tracing` spans get `code.*` attributes.
    code_location: bool,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("queued", &self.queue.len())
            .field("capacity", &self.queue.capacity())
            .field("running", &self.is_running())
            .field("stats", &self.stats())
            .finish()
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
        let pipeline = Arc::new(Pipeline {
            queue: ArrayQueue::new(if running {
                batch.max_queue_size.max(1)
            } else {
                1
            }),
            batch_size: batch.max_export_batch_size.max(1),
            running: AtomicBool::new(running),
            exports: running,
            pushed: AtomicUsize::new(0),
            commands: Mutex::new(running.then_some(tx)),
            exported: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            deadline: Mutex::new(None),
            deadline_changed: tokio::sync::Notify::new(),
            scopes: Mutex::new(Vec::new()),
            code_location,
        });
        if running {
            let worker = Worker {
                pipeline: pipeline.clone(),
                scopes: Scopes::default(),
                exporters,
                scheduled_delay: batch.scheduled_delay,
                export_timeout: batch.export_timeout,
            };
            std::thread::Builder::new()
                .name("tracelink-export".into())
                .spawn(move || worker.run(rx, runtime))?;
        } else {
            runtime.shutdown_background();
        }
        Ok(pipeline)
    }

    /// The index of `scope` in the scope table, added if new.
    pub(crate) fn register_scope(&self, scope: InstrumentationScope) -> u32 {
        let mut scopes = self
            .scopes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(index) = scopes.iter().position(|known| *known == scope) {
            index as u32
        } else {
            scopes.push(scope);
            (scopes.len() - 1) as u32
        }
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
            self.dropped.fetch_add(1, Ordering::Relaxed);
            warn_after_shutdown(name);
        }
    }

    /// The hot path: queue an ended span, or count it as dropped.
    pub(crate) fn push(&self, context: SpanContext, record: Record) {
        if !self.is_running() {
            self.refuse(&record.name);
            return;
        }
        if self.queue.push(Finished { context, record }).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        // A counter the export thread rarely touches, rather than the queue's
        // length, whose head and tail it writes on every pop.
        if self.pushed.fetch_add(1, Ordering::Relaxed) + 1 == self.batch_size {
            self.send(Command::Wake);
        }
    }

    fn send(&self, command: Command) -> bool {
        let commands = self
            .commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        commands.as_ref().is_some_and(|tx| tx.send(command).is_ok())
    }

    pub(crate) fn stats(&self) -> ExportStats {
        ExportStats {
            exported: self.exported.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }

    /// Spans queued or being exported right now.
    pub(crate) fn unexported(&self) -> u64 {
        self.queue.len() as u64 + self.in_flight.load(Ordering::Acquire)
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
        let failed_before = self.failed.load(Ordering::Acquire);
        *self
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(deadline);
        self.deadline_changed.notify_one();
        let (tx, rx) = mpsc::channel();
        let sent = self.send(Command::Shutdown(tx));
        // Dropping the sender lets the thread end even if the command was lost.
        self.commands
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        // A little grace past the deadline for the thread to answer.
        let wait = deadline.saturating_duration_since(Instant::now()) + Duration::from_millis(100);
        match sent.then(|| rx.recv_timeout(wait)) {
            Some(Ok(true)) if self.failed.load(Ordering::Acquire) > failed_before => {
                Outcome::Failed
            }
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

struct Worker {
    pipeline: Arc<Pipeline>,
    scopes: Scopes,
    exporters: Vec<Box<dyn DynExporter>>,
    scheduled_delay: Duration,
    export_timeout: Duration,
}

impl Worker {
    fn run(mut self, commands: mpsc::Receiver<Command>, runtime: tokio::runtime::Runtime) {
        // What the exporters and their HTTP/2 stack log stays out of the
        // service's subscriber (see `quiet.rs`).
        crate::filter::quiet::mark_export_thread();
        let mut reporter = LossReporter::default();
        let mut next_export = Instant::now() + self.scheduled_delay;
        loop {
            let wait = next_export.saturating_duration_since(Instant::now());
            let command = commands.recv_timeout(wait);
            let pipeline = self.pipeline.clone();
            match command {
                Ok(Command::Wake) => {
                    pipeline.pushed.store(0, Ordering::Relaxed);
                    self.export_queued(&runtime, true);
                }
                Err(RecvTimeoutError::Timeout) => {
                    self.export_queued(&runtime, false);
                    next_export = Instant::now() + self.scheduled_delay;
                }
                Ok(Command::Flush(reply)) => {
                    let ok = self.export_queued(&runtime, false);
                    let _ = reply.send(ok);
                }
                Ok(Command::Shutdown(reply)) => {
                    let ok = self.export_queued(&runtime, false);
                    let ok = self.shutdown_exporters(&runtime) && ok;
                    reporter.report(&pipeline.stats(), true);
                    let _ = reply.send(ok);
                    return;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    self.export_queued(&runtime, false);
                    self.shutdown_exporters(&runtime);
                    return;
                }
            }
            reporter.report(&pipeline.stats(), false);
        }
    }

    /// Exports queued spans in batches: only full ones when `full_only`.
    /// Returns false if any batch failed.
    fn export_queued(&mut self, runtime: &tokio::runtime::Runtime, full_only: bool) -> bool {
        let pipeline = self.pipeline.clone();
        let mut ok = true;
        loop {
            let queued = pipeline.queue.len();
            if queued == 0 || (full_only && queued < pipeline.batch_size) {
                return ok;
            }
            self.scopes.tracers.clone_from(
                &pipeline
                    .scopes
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner),
            );
            // This thread is the only consumer: the `queued` spans are there.
            let take = queued.min(pipeline.batch_size);
            pipeline.in_flight.fetch_add(take as u64, Ordering::AcqRel);
            let mut batch = Vec::with_capacity(take);
            while batch.len() < take {
                match pipeline.queue.pop() {
                    Some(finished) => batch
                        .push(finished.into_span_data(&mut self.scopes, pipeline.code_location)),
                    None => break,
                }
            }
            let missing = (take - batch.len()) as u64;
            pipeline.in_flight.fetch_sub(missing, Ordering::AcqRel);
            ok &= self.export(runtime, batch);
        }
    }

    fn export(&mut self, runtime: &tokio::runtime::Runtime, batch: Vec<SpanData>) -> bool {
        let pipeline = self.pipeline.clone();
        let count = batch.len() as u64;
        let batch_deadline = Instant::now() + self.export_timeout;
        let mut ok = true;
        let last = self.exporters.len().saturating_sub(1);
        let mut batch = Some(batch);
        for (i, exporter) in self.exporters.iter().enumerate() {
            let spans = if i == last {
                batch.take().unwrap_or_default()
            } else {
                batch.clone().unwrap_or_default()
            };
            let result =
                runtime.block_on(bounded(exporter.export(spans), batch_deadline, &pipeline));
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
                    diag!(Debug, "exported {count} spans to {}", exporter.describe());
                }
                Some(error) => {
                    ok = false;
                    diag_rate_limited(exporter.describe(), &error, count);
                }
            }
        }
        // A batch counts once: exported if the first-listed (or only) exporter took it.
        if ok {
            pipeline.exported.fetch_add(count, Ordering::AcqRel);
        } else {
            pipeline.failed.fetch_add(count, Ordering::AcqRel);
        }
        pipeline.in_flight.fetch_sub(count, Ordering::AcqRel);
        ok
    }

    fn shutdown_exporters(&mut self, runtime: &tokio::runtime::Runtime) -> bool {
        let pipeline = &self.pipeline;
        let deadline = pipeline
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(1));
        let mut ok = true;
        for exporter in &mut self.exporters {
            let remaining = deadline.saturating_duration_since(Instant::now());
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
/// deadline, whichever is earlier) passes; `None` on timeout.
async fn bounded<F: Future>(
    export: F,
    batch_deadline: Instant,
    pipeline: &Pipeline,
) -> Option<F::Output> {
    let mut export = pin!(export);
    loop {
        let shutdown = *pipeline
            .deadline
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let deadline = shutdown.map_or(batch_deadline, |d| d.min(batch_deadline));
        let mut sleep = pin!(tokio::time::sleep_until(deadline.into()));
        let mut changed = pin!(pipeline.deadline_changed.notified());
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

/// A span that ends once the pipeline has shut down is lost: say so, once
/// per process, since the usual cause is a guard dropped at once.
#[cold]
fn warn_after_shutdown(name: &str) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, Ordering::Relaxed) {
        diag!(
            Warn,
            "span {name:?} started or ended after tracelink's Guard was dropped or shut down, \
             so it is not exported (nor are later ones; they are counted in \
             Guard::stats().dropped()). `let _ = tracelink::init()?` drops the guard at once: \
             keep it with `let _guard = tracelink::init()?;` until the end of main"
        );
    }
}

/// What to try when an OTLP export cannot reach its collector: errors that
/// say the connection failed, not that the collector refused the data.
fn unreachable_hint(exporter: &str, error: &str) -> &'static str {
    let error = error.to_ascii_lowercase();
    let unreachable = [
        "connect",
        "network",
        "transport",
        "refused",
        "dns",
        "unavailable",
        "no answer",
        "timed out",
        "tcp",
    ]
    .iter()
    .any(|word| error.contains(word));
    if exporter.starts_with("OTLP/") && unreachable {
        "; is a Collector listening there? For local work without one, set \
         OTEL_TRACES_EXPORTER=file and read traces with `tracelink traces`"
    } else {
        ""
    }
}

/// Export errors: at most one line every 10 s per exporter, with what was lost since.
fn diag_rate_limited(exporter: String, error: &str, count: u64) {
    use std::collections::HashMap;
    /// Per exporter: the last report, if any (the first failure is reported
    /// at once), and the spans lost since.
    type Reports = HashMap<String, (Option<Instant>, u64)>;
    static LAST: Mutex<Option<Reports>> = Mutex::new(None);
    let mut last = LAST
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let map = last.get_or_insert_with(HashMap::new);
    let now = Instant::now();
    let entry = map.entry(exporter.clone()).or_insert((None, 0));
    entry.1 += count;
    // (Not `now - 1 h` as "long ago": a monotonic clock may be younger than
    // that on a machine just booted, and the subtraction would panic.)
    if entry
        .0
        .is_none_or(|last| now.duration_since(last) >= Duration::from_secs(10))
    {
        diag!(
            Error,
            "export to {exporter} failed: {error}; {} spans lost since the last report{}",
            entry.1,
            unreachable_hint(&exporter, error)
        );
        *entry = (Some(now), 0);
    }
}

/// Reports queue-full drops while they happen (at most every 10 s) and in total
/// at shutdown.
#[derive(Default)]
struct LossReporter {
    reported_dropped: u64,
    last: Option<Instant>,
}

impl LossReporter {
    fn report(&mut self, stats: &ExportStats, at_shutdown: bool) {
        if at_shutdown {
            if stats.lost() > 0 {
                diag!(
                    Warn,
                    "at shutdown: {} spans exported, {} lost ({} dropped on a full queue or after shutdown, {} in failed exports)",
                    stats.exported,
                    stats.lost(),
                    stats.dropped,
                    stats.failed
                );
            }
            return;
        }
        if stats.dropped > self.reported_dropped
            && self
                .last
                .is_none_or(|t| t.elapsed() >= Duration::from_secs(10))
        {
            diag!(
                Warn,
                "span queue full: {} spans dropped since the last report ({} in all); \
                 the exporter is slower than the service, or the collector is down",
                stats.dropped - self.reported_dropped,
                stats.dropped
            );
            self.reported_dropped = stats.dropped;
            self.last = Some(Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_keeps_its_last_value_in_first_seen_order() {
        let mut attributes = vec![
            KeyValue::new("http.response.status_code", "200"),
            KeyValue::new("url.path", "/cart"),
            KeyValue::new("http.response.status_code", 200),
            KeyValue::new("n", 1),
            KeyValue::new("n", 2),
        ];
        keep_last_of_each_key(&mut attributes);
        assert_eq!(
            attributes,
            [
                KeyValue::new("url.path", "/cart"),
                KeyValue::new("http.response.status_code", 200),
                KeyValue::new("n", 2),
            ]
        );
        let mut none: Vec<KeyValue> = Vec::new();
        keep_last_of_each_key(&mut none);
        assert!(none.is_empty());
    }
}
