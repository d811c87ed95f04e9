//! One JSON log line, `tracing::info!(order.id = 42u64, user = "ada",
//! amount = 12.5, "order placed")`, inside an entered, sampled span with one
//! field (and once outside any span), side by side in one run:
//!
//! - `tracelink`: `tracelink::builder()`'s filter, OpenTelemetry layer and JSON
//!   layer, as `tracelink::init()` installs them;
//! - `stock_with_ids`: `fmt::layer().json()` with the `FormatEvent` people
//!   write today to add the ids (tokio-rs/tracing#1531): the stock JSON written
//!   with serde_json, plus `trace_id`/`span_id` from
//!   `Span::current().context()`, next to `tracing_opentelemetry::layer()` on
//!   the SDK's `SdkTracerProvider` (batch exporter);
//! - `stock_json`: `registry().with(fmt::layer().json())`, no ids, no
//!   OpenTelemetry;
//! - `json_subscriber_with_ids`: `json_subscriber::layer()` 0.3 with
//!   `with_opentelemetry_ids(true)` (feature `tracing-opentelemetry-0-34`, the
//!   same tracing-opentelemetry and SDK as `stock_with_ids`).
//!
//! And with an OpenTelemetry log record per event besides (or instead of)
//! the line, every record to the same discarding exporter (`DiscardLogs`:
//! its `export` counts the batch and returns `Ok(())`), so what is measured
//! is the hot path, building the record and queueing it, plus the export
//! thread draining the queue:
//!
//! - `tracelink_records`: `tracelink` with `with_log_exporter(DiscardLogs)`:
//!   the same line, and `Records::emit` builds an `SdkLogRecord` and queues
//!   it for tracelink's log export thread;
//! - `tracelink_records_only`: the same with `TRACELINK_LOG_FORMAT=none`, the
//!   record and no line;
//! - `stock_with_records`: `stock_with_ids` plus `opentelemetry-appender-tracing`
//!   0.33's `OpenTelemetryTracingBridge` on an `SdkLoggerProvider` with a
//!   `BatchLogProcessor` (`with_batch_exporter`, its own thread, 512 a batch)
//!   to `DiscardLogs`: the stock stack with log records. The record's ids are
//!   the current OpenTelemetry context's, which `tracing-opentelemetry`
//!   activates on entering the span;
//! - `stock_records_only`: `tracing_opentelemetry::layer()` and the
//!   appender under `with_default`, no line.
//!
//! Every setup writes to the same discarding writer (`Out`: `io::sink`, with a
//! capture switch used once to check what each setup writes). The span lives
//! for the whole run, so each line is the event alone: the JSON layer, and in
//! the setups with ids `tracing-opentelemetry`'s span event (past the 128
//! events a span keeps, tracelink's tracer and the SDK both drop it).
//! The three stock-shaped setups write `span` and `spans` (their defaults);
//! tracelink writes `span` only (its default).
//!
//! `Span::current()` inside a layer only works under a global subscriber
//! (under `with_default` it answers `Span::none()`), so `stock_with_ids` is
//! installed as the global default; the others run under `with_default`, as
//! in `benches/span.rs`. That hands `stock_with_ids` tracing's fast path of
//! dispatch, a few dozen instructions per line in its favour. A process has
//! one global subscriber, so `stock_with_records` is the same global stack
//! with its appender switched on (`WhileStockRecords`; off, it costs
//! `stock_with_ids` a relaxed load a line: 35,939 instructions before it was
//! added, 35,579 to 35,981 since). The check flushes each setup with records
//! and checks the one record it exported: body, attributes, the line's ids.
//!
//! Run with `cargo bench --bench log_line`. After criterion's groups, a
//! summary prints ns and allocations per line and the ratios; time on a shared
//! 2-core VM moves by ±30% between runs. `./scripts/bench-log-instructions.sh`
//! counts instructions per line under callgrind, which does not move.
//!
//! Since this table, the line's ids come from what the OpenTelemetry layer
//! noted when it entered the span, and `INFO` events no longer become span
//! events: on 2026-11-22 `scripts/bench-log-instructions.sh` counts 4,489
//! instructions a line in a span (stock_with_ids 35,514: 0.13x) and 3,367
//! outside one (stock_json 13,754: 0.24x).
//!
//! Measured 2026-11-21, 2-core x86_64 VM:
//!
//! | setup (one line)                      | instructions | allocs (+reallocs) | summary ns | criterion |
//! |---------------------------------------|-------------:|-------------------:|-----------:|----------:|
//! | in a span: tracelink                  |        7,598 |            4 (+3) |      1,481 |   1.01 us |
//! | in a span: stock_with_ids             |       35,313 |           13 (+6) |      5,110 |   4.92 us |
//! | in a span: stock_json (no ids)        |       24,548 |            7 (+2) |      3,168 |   2.22 us |
//! | in a span: json_subscriber_with_ids   |       25,889 |           20 (+3) |      4,738 |   2.97 us |
//! | span event only: tracelink_otel_only  |        3,806 |            4 (+3) |        896 |         - |
//! | span event only: stock_otel_only      |        3,872 |            4 (+3) |        837 |         - |
//! | outside a span: tracelink             |        3,626 |            0      |        507 |    342 ns |
//! | outside a span: stock_json            |       13,654 |            1 (+2) |      1,935 |   1.71 us |
//! | 2 threads, in a span: tracelink       |            - |            4 (+3) |      1,158 |   1.24 us |
//! | 2 threads, in a span: stock_with_ids  |            - |           13 (+5) |      3,156 |   3.95 us |
//!
//! Instructions per line: callgrind (`scripts/bench-log-instructions.sh`),
//! repeatable to about 1% (the export threads wake on timers). Allocations:
//! the counting allocator, after a warm-up, in a span that has already
//! logged. Time: the summary's best of 7 rounds and criterion's estimate, from
//! one run with the VM's load average near 2.6, so ±30% or worse.
//!
//! Ratios: tracelink / stock_with_ids in a span 0.22 by instructions, 0.29
//! (summary, a loaded VM) and 0.20 (criterion) by time, target <= 0.30;
//! tracelink / stock_json outside a span 0.27 by instructions, 0.26 by time,
//! target <= 0.50. With two threads, 0.37: no idle core, and every allocation
//! bumps the counting allocator's shared atomics from both threads, so read
//! it as indicative.
//!
//! tracelink's JSON layer allocates nothing per line, in a span or not; the
//! 4 allocations and 3 reallocations per line in a span are
//! `tracing-opentelemetry`'s span event (its `on_event` builds an
//! `opentelemetry::trace::Event`: a `Vec` of attributes that grows twice, a
//! `String` for the message and one per string field), exactly the
//! `tracelink_otel_only` row, and it is also 3,806 of the 7,598 instructions.
//! The JSON layer's own ~3,800: escaping scans 8 bytes at a time and skips
//! the crate's constant keys, a span's `span` object and ids are rendered
//! once per span and copied, the rest is the f64 (ryu, ~730), field names and
//! the timestamp. stock_with_ids's ~35,000 are mostly the stock formatter's
//! machinery: serde_json writing through the `fmt::Write` adaptor (121 small
//! writes a line) ~17,000, re-parsing the span's stored field JSON for `span`
//! and `spans` ~9,600, the timestamp ~3,100; the ids themselves
//! (`Span::current().context()` and two `to_string`) ~2,800.
//!
//! Log records, measured 2026-12-08: instructions by `THREADS=1
//! ./scripts/bench-log-instructions.sh`, ranges over 8 to 11 runs ("service
//! thread" is the logging thread alone; the rest is the export threads
//! popping, exporting and freeing); allocations and ns from two summaries;
//! criterion from two runs with `--warm-up-time 1 --measurement-time 3
//! --sample-size 20`, load average 1.5 to 2.7:
//!
//! | setup (in a span)      |  instructions | service thread | allocs  |  summary ns |    criterion |
//! |------------------------|--------------:|---------------:|--------:|------------:|-------------:|
//! | tracelink              |         4,711 |          4,711 | 0       |     603-820 |   761-932 ns |
//! | tracelink_records      |   7,890-9,691 |    7,037-7,077 | 2       |   948-1,369 | 1.41-1.64 us |
//! | tracelink_records_only |   4,008-4,440 |    3,140-3,209 | 2       |     485-737 |   541-826 ns |
//! | stock_with_ids         | 35,579-35,981 |  35,578-35,940 | 13 (+5) | 5,939-5,997 |   7.6-9.7 us |
//! | stock_with_records     | 39,616-40,407 |  38,903-39,604 | 18 (+5) | 7,435-8,184 |   9.3-9.8 us |
//! | stock_records_only     |   7,753-8,036 |    7,055-7,291 | 9 (+3)  | 1,572-1,935 |   1.9-2.5 us |
//!
//! Ratios by instructions: tracelink_records / tracelink 1.67 to 2.06
//! (target <= 1.5: not met), 1.50 on the service thread alone;
//! tracelink_records / stock_with_records 0.20 to 0.24; the record's own
//! cost on top of the line, tracelink 3,200 to 5,000 (2,330 on the service
//! thread) against the appender's 3,700 to 4,800 (3,200 to 4,000);
//! tracelink_records_only / stock_records_only 0.51 (the stock one also
//! builds `tracing-opentelemetry`'s span event).
//! By time, 1.16 and 2.27 in two summaries: the export thread competes with
//! the service for a loaded VM's two cores. In the summary's tight loops
//! tracelink's queue drops 5-23% of the records (counted, and printed), the
//! SDK's 0-5%; a dropped record is built but never queued nor exported.
//!
//! Where tracelink's ~2,330 a record went on the service thread then
//! (`Records::emit`, callgrind_annotate): the second pass over the fields
//! ~1,260 (the message's `format!("{value:?}")` ~500 with its allocation,
//! `"ada".to_owned()` ~340, `Attributes::add` ~65 a field for its `otel.`/
//! `log.`/`message` checks and the attribute's push, the pass itself ~140);
//! the queue push ~700, mostly `SegQueue` zeroing (calloc) a fresh
//! 13.6 KiB block every 31 records of 432 bytes (~580 a record; callgrind
//! counts `rep stosb` per byte, so this overstates the time); moving the
//! 432-byte record by value three times ~230. The export thread added ~830 a
//! record in full batches (copies out of the queue ~300, the frees of the
//! strings allocated on the service thread ~240). The range in the total was
//! the scheduled export, which exported until it found the queue empty, so
//! one that started while the service logged chased it with batches of one
//! or two records (6,275 exports for 12,000 records in one run, 24 in
//! another), at ~1,800 instructions each.
//!
//! Since then (same day) the record is boxed in the queue (8 bytes moved,
//! small blocks), and a scheduled export takes what was queued when it
//! began, then full batches only. `THREADS=1
//! ./scripts/bench-log-instructions.sh` now counts, in one run:
//!
//! | setup (in a span)      | instructions | service thread |
//! |------------------------|-------------:|---------------:|
//! | tracelink              |        4,711 |          4,711 |
//! | tracelink_records      |        6,885 |          6,201 |
//! | tracelink_records_only |        2,713 |          2,488 |
//! | stock_with_ids         |       36,496 |         36,496 |
//! | stock_with_records     |       40,339 |         39,539 |
//! | stock_records_only     |        8,074 |          7,314 |
//!
//! tracelink_records / tracelink 1.46 (target <= 1.5: met), 1.32 on the
//! service thread; tracelink_records / stock_with_records 0.17;
//! tracelink_records_only / stock_records_only 0.34. Under callgrind's
//! serialized scheduling `tracelink_records_only` (records and no line, so
//! the fastest producer) outruns its export thread and drops 30-60% of the
//! 12,000 records of the count run, counted, and the script warns; its
//! count is the service thread's cost and a part of the export side's.

#[path = "support/out.rs"]
mod out;
#[path = "support/stock_json_ids.rs"]
mod stock_json_ids;

#[path = "support/discard.rs"]
mod discard;
#[path = "support/discard_logs.rs"]
mod discard_logs;
#[path = "support/run.rs"]
mod run;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use discard::Discard;
use discard_logs::{DiscardLogs, Seen};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_appender_tracing::layer::OpenTelemetryTracingBridge;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::trace::SdkTracerProvider;
use out::Out;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use stock_json_ids::TraceIdFormat;
use tracing::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::Layer;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

// ---------------------------------------------------------------------------
// Where every setup writes.

/// While set, lines go to `CAPTURED` instead of the sink (the output check).
// ---------------------------------------------------------------------------
// `stock_with_ids`: the stock JSON plus the ids, the usual way.

// ---------------------------------------------------------------------------
// The setups.

#[derive(Clone)]
enum Scope {
    /// Run under `with_default`.
    Scoped(Dispatch),
    /// The process's global default (`stock_with_ids`, and with `records`
    /// `stock_with_records`: the same stack with its appender switched on).
    Global { records: bool },
}

struct Setup {
    name: &'static str,
    scope: Scope,
    /// Whether its lines and records carry ids (checked once).
    ids: bool,
    /// Whether it writes a line per event (all but the `*_records_only`).
    lines: bool,
    /// With a log record per event: exports every record queued so far
    /// (the check waits on it). It owns the records' pipeline.
    records: Option<Box<dyn Fn()>>,
    // Keeps the pipelines alive for the run.
    _keep: Box<dyn std::any::Any>,
}

impl Setup {
    /// Also a log record per event, which `flush` exports.
    fn with_records(mut self, flush: impl Fn() + 'static) -> Self {
        self.records = Some(Box::new(flush));
        self
    }

    /// No line: records only.
    fn without_lines(mut self) -> Self {
        self.lines = false;
        self
    }

    fn flush_records(&self) {
        if let Some(flush) = &self.records {
            flush();
        }
    }
}

fn scoped(
    name: &'static str,
    ids: bool,
    dispatch: Dispatch,
    keep: Box<dyn std::any::Any>,
) -> Setup {
    Setup {
        name,
        scope: Scope::Scoped(dispatch),
        ids,
        lines: true,
        records: None,
        _keep: keep,
    }
}

fn tracelink_parts() -> tracelink::Parts {
    tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_span_exporter(Discard)
        .with_log_writer(tracelink::logs::LogWriter::custom(Out))
        .build()
        .expect("tracelink builds")
}

/// `tracelink_parts` with a log record per event, to `DiscardLogs`; with
/// `lines` off, `TRACELINK_LOG_FORMAT=none` too.
fn tracelink_records_parts(lines: bool) -> tracelink::Parts {
    let mut env = vec![("OTEL_TRACES_EXPORTER", "none")];
    if !lines {
        env.push(("TRACELINK_LOG_FORMAT", "none"));
    }
    tracelink::builder()
        .with_env(env)
        .with_span_exporter(Discard)
        .with_log_exporter(DiscardLogs)
        .with_log_writer(tracelink::logs::LogWriter::custom(Out))
        .build()
        .expect("tracelink builds")
}

/// tracelink's three layers, as in `tracelink()`, with log records on.
fn tracelink_with_records(name: &'static str, lines: bool) -> Setup {
    let parts = tracelink_records_parts(lines);
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer())
        .with(parts.log_layer());
    let setup =
        scoped(name, true, Dispatch::new(subscriber), Box::new(())).with_records(move || {
            parts
                .guard()
                .flush()
                .expect("tracelink flushes its records");
        });
    if lines {
        setup
    } else {
        setup.without_lines()
    }
}

fn tracelink_records() -> Setup {
    tracelink_with_records("tracelink_records", true)
}

/// `TRACELINK_LOG_FORMAT=none`: the record alone (and the ids it needs).
fn tracelink_records_only() -> Setup {
    tracelink_with_records("tracelink_records_only", false)
}

fn tracelink() -> Setup {
    let parts = tracelink_parts();
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer())
        .with(parts.log_layer());
    scoped(
        "tracelink",
        true,
        Dispatch::new(subscriber),
        Box::new(parts),
    )
}

/// tracelink without its JSON layer: what the span event alone costs.
fn tracelink_otel_only() -> Setup {
    let parts = tracelink_parts();
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer());
    scoped(
        "tracelink_otel_only",
        false,
        Dispatch::new(subscriber),
        Box::new(parts),
    )
}

fn sdk_provider() -> SdkTracerProvider {
    SdkTracerProvider::builder()
        .with_batch_exporter(Discard)
        .build()
}

/// The SDK stack without a log layer: what the span event alone costs.
fn stock_otel_only() -> Setup {
    let provider = sdk_provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")));
    scoped(
        "stock_otel_only",
        false,
        Dispatch::new(subscriber),
        Box::new(provider),
    )
}

fn stock_json() -> Setup {
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::fmt::layer().json().with_writer(Out));
    scoped("stock_json", false, Dispatch::new(subscriber), Box::new(()))
}

fn json_subscriber_with_ids() -> Setup {
    let provider = sdk_provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
        .with(
            json_subscriber::layer()
                .with_writer(Out)
                .with_opentelemetry_ids(true),
        );
    scoped(
        "json_subscriber_with_ids",
        true,
        Dispatch::new(subscriber),
        Box::new(provider),
    )
}

/// The SDK's logger provider as its docs set one up: a `BatchLogProcessor`
/// (its own thread, 512 a batch) to the discarding exporter.
fn sdk_logger_provider() -> SdkLoggerProvider {
    SdkLoggerProvider::builder()
        .with_batch_exporter(DiscardLogs)
        .build()
}

/// The stock appender's records: `tracing-opentelemetry` for the ids (its
/// context activation makes the entered span the current OpenTelemetry
/// context, where the SDK's logger finds them) and the appender, no line.
fn stock_records_only() -> Setup {
    let tracer = sdk_provider();
    let logger = sdk_logger_provider();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench")))
        .with(OpenTelemetryTracingBridge::new(&logger));
    scoped(
        "stock_records_only",
        true,
        Dispatch::new(subscriber),
        Box::new(tracer),
    )
    .without_lines()
    .with_records(move || logger.force_flush().expect("the SDK flushes its records"))
}

/// Whether the global stack's appender is on (`stock_with_records`), set
/// by `within` for the setup it runs.
static STOCK_RECORDS: AtomicBool = AtomicBool::new(false);

/// `L` while `STOCK_RECORDS` is set, nothing otherwise: the appender
/// implements `on_event` alone, so that is all it forwards. Off, it costs
/// `stock_with_ids` a relaxed load a line.
struct WhileStockRecords<L>(L);

impl<S: Subscriber, L: Layer<S>> Layer<S> for WhileStockRecords<L> {
    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if STOCK_RECORDS.load(Ordering::Relaxed) {
            self.0.on_event(event, ctx);
        }
    }
}

/// The global stack: `tracing_opentelemetry::layer()` on the SDK's tracer
/// provider, the stock JSON with ids, and the appender behind its switch.
fn stock_global() -> &'static SdkLoggerProvider {
    static STACK: OnceLock<(SdkTracerProvider, SdkLoggerProvider)> = OnceLock::new();
    let (_, logger) = STACK.get_or_init(|| {
        let tracer = sdk_provider();
        let logger = sdk_logger_provider();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(tracer.tracer("bench")))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .event_format(TraceIdFormat)
                    .with_writer(Out),
            )
            .with(WhileStockRecords(OpenTelemetryTracingBridge::new(&logger)));
        tracing::subscriber::set_global_default(subscriber).expect("no global subscriber yet");
        (tracer, logger)
    });
    logger
}

fn stock_with_ids() -> Setup {
    stock_global();
    Setup {
        name: "stock_with_ids",
        scope: Scope::Global { records: false },
        ids: true,
        lines: true,
        records: None,
        _keep: Box::new(()),
    }
}

/// `stock_with_ids` plus the appender: the stock stack with log records.
fn stock_with_records() -> Setup {
    let logger = stock_global();
    Setup {
        name: "stock_with_records",
        scope: Scope::Global { records: true },
        ids: true,
        lines: true,
        records: None,
        _keep: Box::new(()),
    }
    .with_records(|| logger.force_flush().expect("the SDK flushes its records"))
}

/// Whether some thread has a scoped dispatcher (`with_default`,
/// `set_default`): then `tracing` takes its thread-local path everywhere and a
/// nested `Span::current()` answers `Span::none()`.
fn scoped_dispatcher_alive() -> bool {
    tracing::dispatcher::get_default(|_| {
        tracing::dispatcher::get_default(tracing::Dispatch::is::<tracing::subscriber::NoSubscriber>)
    })
}

/// Runs `f` under the setup's dispatcher on this thread.
fn within<R>(scope: &Scope, f: impl FnOnce() -> R) -> R {
    match scope {
        Scope::Scoped(dispatch) => tracing::dispatcher::with_default(dispatch, f),
        Scope::Global { records } => {
            STOCK_RECORDS.store(*records, Ordering::Relaxed);
            let result = f();
            STOCK_RECORDS.store(false, Ordering::Relaxed);
            result
        }
    }
}

/// Before a `Global` setup runs: a tracelink export thread holds a scoped
/// (no-op) dispatcher until its pipeline has shut down; wait for that.
fn ready(setup: &Setup) {
    if let Scope::Global { .. } = setup.scope {
        let deadline = Instant::now() + Duration::from_secs(10);
        while scoped_dispatcher_alive() {
            assert!(
                Instant::now() < deadline,
                "a scoped dispatcher stays alive: Span::current() in a layer would see no span"
            );
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

// ---------------------------------------------------------------------------
// The work.

/// The line every setup writes.
#[inline]
fn one_line() {
    tracing::info!(
        order.id = 42u64,
        user = "ada",
        amount = 12.5,
        "order placed"
    );
}

/// Runs `f` inside an entered span with one field, as a request handler would.
fn in_span<R>(f: impl FnOnce() -> R) -> R {
    let span = tracing::info_span!("request", http.route = "/orders");
    let _entered = span.enter();
    f()
}

/// One event from `setup`, with or without a span: its line, captured and
/// parsed (`None` when it writes none), and the records it exported.
fn captured(setup: &Setup, span: bool) -> (Option<(String, serde_json::Value)>, Vec<Seen>) {
    ready(setup);
    let mut text = String::new();
    let records = discard_logs::capture(|| {
        text = out::capture(|| {
            within(&setup.scope, || {
                if span {
                    in_span(one_line);
                } else {
                    one_line();
                }
            });
        });
        setup.flush_records();
    });
    if !setup.lines {
        assert_eq!(text, "", "{}: no line", setup.name);
        return (None, records);
    }
    assert_eq!(
        text.lines().count(),
        1,
        "{}: one line, got {text:?}",
        setup.name
    );
    let text = text.trim_end().to_owned();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}: {text}", setup.name));
    (Some((text, value)), records)
}

/// Checks that the setup writes the line it is meant to: the fields, and
/// inside a span the ids when it has them; and, with records, that it
/// exports one record per event, with the fields and the line's ids.
/// Returns the line as written (empty without one) and the record.
fn check(setup: &Setup, span: bool) -> (String, Option<Seen>) {
    let (line, mut records) = captured(setup, span);
    let line_ids = line
        .as_ref()
        .map(|(text, line)| check_line(setup, span, text, line));
    let record = setup.records.as_ref().map(|_| {
        assert_eq!(
            records.len(),
            1,
            "{}: one record, got {records:?}",
            setup.name
        );
        let record = records.remove(0);
        assert_eq!(
            record.body.as_deref(),
            Some("order placed"),
            "{}: body of {record:?}",
            setup.name
        );
        for key in ["order.id", "user", "amount"] {
            assert!(
                record.keys.iter().any(|k| k == key),
                "{}: no {key} in {record:?}",
                setup.name
            );
        }
        assert_eq!(
            record.ids.is_some(),
            setup.ids && span,
            "{}: ids in {record:?}",
            setup.name
        );
        if let Some(Some(ids)) = &line_ids {
            assert_eq!(
                record.ids.as_ref(),
                Some(ids),
                "{}: the line's ids",
                setup.name
            );
        }
        record
    });
    if setup.records.is_none() {
        assert!(records.is_empty(), "{}: records {records:?}", setup.name);
    }
    (line.map(|(text, _)| text).unwrap_or_default(), record)
}

/// The line's checks; its trace id and span id, when it has them.
fn check_line(
    setup: &Setup,
    span: bool,
    text: &str,
    line: &serde_json::Value,
) -> Option<(String, String)> {
    for needle in [
        "order placed",
        "\"order.id\":42",
        "\"user\":\"ada\"",
        "12.5",
    ] {
        assert!(
            text.contains(needle),
            "{}: no {needle} in {text}",
            setup.name
        );
    }
    let hex = |value: Option<&serde_json::Value>, len: usize| {
        value
            .and_then(|v| v.as_str())
            .filter(|s| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_owned)
    };
    let (trace_id, span_id) = match line.get("openTelemetry") {
        Some(otel) => (otel.get("traceId"), otel.get("spanId")),
        None => (line.get("trace_id"), line.get("span_id")),
    };
    let ids = hex(trace_id, 32).zip(hex(span_id, 16));
    assert_eq!(
        ids.is_some(),
        setup.ids && span,
        "{}: ids in {text}",
        setup.name
    );
    if span {
        assert!(
            text.contains("/orders"),
            "{}: no span in {text}",
            setup.name
        );
    }
    ids
}

fn lines_in_span(lines: u64) {
    in_span(|| {
        for _ in 0..lines {
            one_line();
        }
    });
}

/// `lines` lines, in the current span if there is one.
fn log_lines(lines: u64) {
    for _ in 0..lines {
        one_line();
    }
}

/// `lines` lines from two threads, each in its own span; the wall time.
fn two_threads(scope: &Scope, lines: u64) -> Duration {
    let per_thread = lines.div_ceil(2);
    let barrier = Barrier::new(3);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                within(scope, || {
                    in_span(|| {
                        barrier.wait();
                        for _ in 0..per_thread {
                            one_line();
                        }
                    });
                });
            });
        }
        barrier.wait();
        let start = Instant::now();
        // Leaving the scope joins both threads.
        start
    })
    .elapsed()
}

// ---------------------------------------------------------------------------
// criterion

fn in_span_setups() -> [fn() -> Setup; 4] {
    [
        stock_with_ids,
        stock_json,
        json_subscriber_with_ids,
        tracelink,
    ]
}

/// The setups with a log record per event, beside `tracelink` and
/// `stock_with_ids` without.
fn records_setups() -> [fn() -> Setup; 4] {
    [
        tracelink_records,
        tracelink_records_only,
        stock_with_records,
        stock_records_only,
    ]
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("line_in_span");
    for make in in_span_setups().into_iter().chain(records_setups()) {
        let setup = make();
        check(&setup, true);
        ready(&setup);
        within(&setup.scope, || {
            in_span(|| g.bench_function(setup.name, |b| b.iter(one_line)));
        });
    }
    g.finish();

    let mut g = c.benchmark_group("line_outside_span");
    for make in [stock_json as fn() -> Setup, tracelink] {
        let setup = make();
        check(&setup, false);
        within(&setup.scope, || {
            g.bench_function(setup.name, |b| b.iter(one_line));
        });
    }
    g.finish();

    let mut g = c.benchmark_group("line_in_span_two_threads");
    for make in [stock_with_ids as fn() -> Setup, tracelink] {
        let setup = make();
        ready(&setup);
        g.bench_function(setup.name, |b| {
            b.iter_custom(|iters| two_threads(&setup.scope, iters));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------------------
// The summary.

struct Measured {
    ns: f64,
    allocs: f64,
    reallocs: f64,
}

/// Lines a round of `measure`.
const LINES: u64 = 100_000;
/// Lines `measure` writes in all: a warm-up, 7 timed rounds, one counted.
const MEASURED_LINES: u64 = LINES / 10 + 8 * LINES;

/// ns and allocations per line, the best of several rounds after a warm-up,
/// all in one span (when `span`), as criterion measures them.
fn measure(setup: &Setup, span: bool) -> Measured {
    let run = || {
        log_lines(LINES / 10);
        let mut best = f64::MAX;
        for _ in 0..7 {
            let start = Instant::now();
            log_lines(LINES);
            best = best.min(start.elapsed().as_nanos() as f64 / LINES as f64);
        }
        let region = Region::new(GLOBAL);
        log_lines(LINES);
        let change = region.change();
        Measured {
            ns: best,
            allocs: change.allocations as f64 / LINES as f64,
            reallocs: change.reallocations as f64 / LINES as f64,
        }
    };
    ready(setup);
    within(&setup.scope, || if span { in_span(run) } else { run() })
}

fn measure_two_threads(setup: &Setup) -> Measured {
    const LINES: u64 = 200_000;
    ready(setup);
    two_threads(&setup.scope, LINES / 10);
    let mut best = f64::MAX;
    for _ in 0..7 {
        best = best.min(two_threads(&setup.scope, LINES).as_nanos() as f64 / LINES as f64);
    }
    let region = Region::new(GLOBAL);
    two_threads(&setup.scope, LINES);
    let change = region.change();
    Measured {
        ns: best,
        allocs: change.allocations as f64 / LINES as f64,
        reallocs: change.reallocations as f64 / LINES as f64,
    }
}

fn row(label: &str, m: &Measured) {
    let realloc = if m.reallocs >= 0.05 {
        format!(" (+{:.1} realloc)", m.reallocs)
    } else {
        String::new()
    };
    println!(
        "  {label:<34} {:>7.0} ns {:>6.1} allocs{realloc}",
        m.ns, m.allocs
    );
}

fn summary() {
    println!("\nsummary (ns per line: best of 7 rounds of 100k lines; allocations per line after a warm-up):");
    println!(" inside a sampled span:");
    let mut results = Vec::new();
    for make in in_span_setups() {
        let setup = make();
        let m = measure(&setup, true);
        row(setup.name, &m);
        results.push((setup.name, m));
    }
    let get = |name: &str| {
        results
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.ns)
            .unwrap()
    };
    let in_span_ratio = get("tracelink") / get("stock_with_ids");
    println!(
        "  tracelink / stock_with_ids = {in_span_ratio:.2} (target <= 0.30); / json_subscriber_with_ids = {:.2}; / stock_json = {:.2}",
        get("tracelink") / get("json_subscriber_with_ids"),
        get("tracelink") / get("stock_json"),
    );

    println!(" inside a sampled span, with a log record per event (to a discarding exporter):");
    let mut with_records = Vec::new();
    for make in records_setups() {
        let setup = make();
        let before = discard_logs::exported();
        let m = measure(&setup, true);
        setup.flush_records();
        row(setup.name, &m);
        let lost = MEASURED_LINES.saturating_sub(discard_logs::exported() - before);
        if lost > 0 {
            println!(
                "    ({lost} of {MEASURED_LINES} records dropped: the export thread fell behind)"
            );
        }
        with_records.push((setup.name, m));
    }
    let with = |name: &str| {
        with_records
            .iter()
            .chain(&results)
            .find(|(n, _)| *n == name)
            .map(|(_, m)| m.ns)
            .unwrap()
    };
    println!(
        "  tracelink_records / tracelink = {:.2} (target <= 1.5); / stock_with_records = {:.2}; \
         stock_with_records / stock_with_ids = {:.2}; tracelink_records_only / stock_records_only = {:.2}",
        with("tracelink_records") / with("tracelink"),
        with("tracelink_records") / with("stock_with_records"),
        with("stock_with_records") / with("stock_with_ids"),
        with("tracelink_records_only") / with("stock_records_only"),
    );

    println!(" the span event alone (the OpenTelemetry layer, no log layer):");
    for make in [stock_otel_only as fn() -> Setup, tracelink_otel_only] {
        let setup = make();
        row(setup.name, &measure(&setup, true));
    }

    println!(" outside any span:");
    let stock = measure(&stock_json(), false);
    row("stock_json", &stock);
    let ours = measure(&tracelink(), false);
    row("tracelink", &ours);
    println!(
        "  tracelink / stock_json = {:.2} (target <= 0.50)",
        ours.ns / stock.ns
    );

    println!(" inside a sampled span, two threads (wall time / lines):");
    let stock = measure_two_threads(&stock_with_ids());
    row("stock_with_ids", &stock);
    let ours = measure_two_threads(&tracelink());
    row("tracelink", &ours);
    println!("  tracelink / stock_with_ids = {:.2}", ours.ns / stock.ns);

    println!(" the lines compared:");
    for make in in_span_setups() {
        let setup = make();
        println!("  {:<24} {}", setup.name, check(&setup, true).0);
    }
    println!(" the records compared:");
    for make in records_setups() {
        let setup = make();
        if let (_, Some(record)) = check(&setup, true) {
            let (trace_id, span_id) = record.ids.unwrap_or_default();
            println!(
                "  {:<24} body {:?}, attributes {:?}, trace_id {trace_id}, span_id {span_id}",
                setup.name,
                record.body.unwrap_or_default(),
                record.keys,
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Instruction counts.

/// `LOG_BENCH_SETUP=<name> LOG_BENCH_LINES=<n>`: write n lines under one setup
/// and exit; `scripts/bench-log-instructions.sh` runs this under callgrind to
/// count instructions per line, which, unlike time, a busy machine does not
/// change. `outside_<name>` logs outside any span. A setup with records
/// then exports every record (the count includes that) and says on stderr
/// how many of them its exporter was given.
fn count_mode() -> bool {
    let (Ok(name), Ok(lines)) = (
        std::env::var("LOG_BENCH_SETUP"),
        std::env::var("LOG_BENCH_LINES"),
    ) else {
        return false;
    };
    let lines: u64 = lines.parse().expect("LOG_BENCH_LINES is a number");
    let (span, setup_name) = match name.strip_prefix("outside_") {
        Some(rest) => (false, rest),
        None => (true, name.as_str()),
    };
    let setup = match setup_name {
        "tracelink" => tracelink(),
        "tracelink_otel_only" => tracelink_otel_only(),
        "stock_with_ids" => stock_with_ids(),
        "stock_otel_only" => stock_otel_only(),
        "stock_json" => stock_json(),
        "json_subscriber_with_ids" => json_subscriber_with_ids(),
        "tracelink_records" => tracelink_records(),
        "tracelink_records_only" => tracelink_records_only(),
        "stock_with_records" => stock_with_records(),
        "stock_records_only" => stock_records_only(),
        other => panic!("unknown setup {other}"),
    };
    ready(&setup);
    within(&setup.scope, || {
        if span {
            lines_in_span(lines);
        } else {
            log_lines(lines);
        }
    });
    if setup.records.is_some() {
        setup.flush_records();
        eprintln!(
            "log_line: {name}: {} of {lines} records exported",
            discard_logs::exported()
        );
    }
    true
}

fn main() {
    run::main(count_mode, benches, summary);
}
