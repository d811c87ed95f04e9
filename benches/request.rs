//! One request's observability, side by side in one run: a root span
//! (`http.route`), 3 child spans (`auth`, `db.query`, `render`), 2 JSON log
//! lines (one in `db.query`, one in the root), a counter
//! (`orders_total{shop="main"}`) and a histogram (`latency_seconds`), both
//! recorded in the root span through the `metrics` macros (or their
//! equivalent). Logs go to a discarding writer, spans to a discarding
//! exporter, metrics stay in memory.
//!
//! - `tracelink`: `tracelink::builder()`'s filter, OpenTelemetry layer and
//!   JSON layer, and `parts.metrics_recorder()` (exemplars on);
//! - `stock`: `tracing_opentelemetry::layer()` on the SDK's
//!   `SdkTracerProvider` (batch exporter), `fmt::layer().json()` with the ids
//!   from `Span::current().context()` (the `stock_with_ids` formatter of
//!   `benches/log_line.rs`), and `metrics-exporter-prometheus` 0.18 with the
//!   same buckets (no exemplars). Installed as the global default (the ids
//!   need it, see `benches/log_line.rs`);
//! - `fastrace`: `fastrace` 0.7 (a root `Span` with a property, 3
//!   `LocalSpan`s, a reporter that discards), `logforth` 0.30 (`log` bridge,
//!   `JsonLayout`, `FastraceDiagnostic` for the ids, an appender to the same
//!   writer) and `prometheus-client` (`CounterWithExemplar` in a `Family`,
//!   `HistogramWithExemplars`, exemplar ids from fastrace's current span).
//!
//! Run with `cargo bench --bench request`. After criterion's group (the
//! three setups one after the other, in this process), a summary times each
//! setup in a process of its own, the three taking turns over 11 rounds of
//! 20,000 requests, and prints the medians, the median of the per-round
//! ratios with their range, allocations per request, and how many of the
//! spans made reached the exporter (a full queue drops rather than waits).
//! Taking turns spreads the shared machine's noisy stretches over all three;
//! separate processes keep one setup's global subscriber, logger and heap
//! from weighing on the next (in one process, the ratio to fastrace moved
//! between 0.90 and 1.09 from run to run; in separate ones it stays put).
//! `./scripts/bench-metrics-instructions.sh request` counts instructions per
//! request under callgrind, which does not move at all.
//!
//! Measured 2026-11-22, 2-core x86_64 VM (instructions: callgrind with
//! `--fair-sched=yes`, export and collector threads included):
//!
//! | setup                                   | instructions | ns, summary median | ns, criterion | allocations |
//! |-----------------------------------------|-------------:|-------------------:|--------------:|------------:|
//! | tracelink                               |       35,711 |              5,884 |         4,787 |        22.0 |
//! | stock (fmt json + ids, otel SDK, m-e-p) |      119,582 |             22,925 |        20,052 |        70.1 |
//! | fastrace + logforth + prometheus-client |       39,522 |              7,230 |         6,594 |        39.0 |
//!
//! Ratios: by instructions 0.30x stock and 0.90x fastrace; by time (summary,
//! median of the per-round ratios) 0.26x stock (rounds 0.21-0.36) and 0.85x
//! fastrace (rounds 0.67-1.46); other runs gave 0.24-0.25x and 0.88x. Targets:
//! <= 0.35x stock, <= 1.0x fastrace. On the request thread alone
//! (`--separate-threads=yes`) tracelink runs 33,100 instructions to
//! fastrace's 34,500: fastrace's collector thread does more of its work.
//!
//! How it got here from 52,700 instructions and 1.1-1.2x fastrace's time
//! (2026-11-21): `INFO` events stay log lines and no longer become span events
//! (`TRACELINK_SPAN_EVENTS`, default `warn`: -7,500); the JSON layer reads a
//! line's ids from what the OpenTelemetry layer noted when it entered the
//! span, instead of asking `tracing-opentelemetry` through the dispatcher
//! (-2,800); spans without fields get no extension; a span's fields render
//! into one string; the date part of timestamps is reused within a second;
//! ids go to hex a word at a time. Then (2026-11-22) the one change time
//! showed and instructions hardly did: `tracing-opentelemetry` no longer
//! writes each span's location and target (`trace/callsite.rs`). Those four
//! attributes made every field-less span allocate a vector on the request
//! thread that the export thread freed, so glibc served each new one from
//! its arena under the lock the export thread was freeing into (`perf`:
//! `_int_malloc`, futex wake-ups); now the export thread sets the target as
//! the span's scope, and code locations are opt-in: ~6,300 ns -> ~4,800 ns
//! a request on the same machine, while instructions only went from 37,400
//! to 35,700.
//!
//! Where tracelink's ~35,700 go now (callgrind, inclusive, per request):
//! `tracing-opentelemetry`'s layer ~15,700 for the four spans (`on_close`
//! 5,100, `on_enter` 4,900 of which starting the span in tracelink's tracer
//! 1,100, `on_new_span` 3,900, `on_exit` 1,900), the registry's own span
//! bookkeeping ~6,000, the JSON layer ~7,100 for the two lines, the export
//! thread ~2,500, metrics with exemplars ~1,000.

#[path = "support/out.rs"]
mod out;
#[path = "support/stock_json_ids.rs"]
mod stock_json_ids;

#[path = "support/run.rs"]
mod run;

use std::hint::black_box;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use out::Out;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::Family;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use stock_json_ids::TraceIdFormat;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Spans that reached a discarding exporter, every setup together.
static EXPORTED: AtomicU64 = AtomicU64::new(0);

/// Accepts every batch, counts it and throws it away.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        EXPORTED.fetch_add(batch.len() as u64, Ordering::Relaxed);
        black_box(batch);
        Ok(())
    }
}

/// fastrace's reporter: counts and discards.
struct DiscardReporter;

impl fastrace::collector::Reporter for DiscardReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        EXPORTED.fetch_add(spans.len() as u64, Ordering::Relaxed);
        black_box(spans);
    }
}

// ---------------------------------------------------------------------------
// Where every setup writes.

/// While set, lines go to `CAPTURED` instead of the sink (the output check).
/// logforth's appender to `Out`, as its `Stdout` appender writes.
#[derive(Debug)]
struct OutAppend(logforth::layout::JsonLayout);

impl logforth::Append for OutAppend {
    fn append(
        &self,
        record: &logforth::record::Record,
        diags: &[Box<dyn logforth::Diagnostic>],
    ) -> Result<(), logforth::Error> {
        use logforth::Layout as _;
        let mut bytes = self.0.format(record, diags)?;
        bytes.push(b'\n');
        io::Write::write_all(&mut Out.make_writer(), &bytes).map_err(logforth::Error::from_io_error)
    }

    fn flush(&self) -> Result<(), logforth::Error> {
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// `stock`: the stock JSON plus the ids, as in benches/log_line.rs.

// ---------------------------------------------------------------------------
// prometheus-client's metrics, for the fastrace stack.

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Shop {
    shop: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TraceLabel {
    trace_id: String,
    span_id: String,
}

struct PcMetrics {
    orders: Family<Shop, CounterWithExemplar<TraceLabel>>,
    latency: HistogramWithExemplars<TraceLabel>,
}

/// fastrace's current span as exemplar labels.
fn fastrace_label() -> Option<TraceLabel> {
    let cx = fastrace::collector::SpanContext::current_local_parent()?;
    cx.sampled.then(|| TraceLabel {
        trace_id: cx.trace_id.to_string(),
        span_id: cx.span_id.to_string(),
    })
}

// ---------------------------------------------------------------------------
// The setups.

enum Stack {
    /// `tracing` under `with_default`, `metrics` with a local recorder.
    Scoped(Dispatch, Arc<dyn metrics::Recorder + Send + Sync>),
    /// `tracing`'s global default, `metrics` with a local recorder.
    Global(Arc<dyn metrics::Recorder + Send + Sync>),
    /// fastrace + logforth (the global `log` logger) + prometheus-client.
    Fastrace(PcMetrics),
}

struct Setup {
    name: &'static str,
    stack: Stack,
    /// Drained between rounds (`metrics-exporter-prometheus`'s histogram queue).
    upkeep: Option<PrometheusHandle>,
    // Keeps the pipelines alive for the run.
    _keep: Box<dyn std::any::Any>,
}

fn prometheus_recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets(tracelink::metrics::DEFAULT_BUCKETS)
        .expect("buckets")
        .build_recorder()
}

fn tracelink() -> Setup {
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_span_exporter(Discard)
        .with_log_writer(tracelink::logs::LogWriter::custom(Out))
        .build()
        .expect("tracelink builds");
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer())
        .with(parts.log_layer());
    Setup {
        name: "tracelink",
        stack: Stack::Scoped(
            Dispatch::new(subscriber),
            Arc::new(parts.metrics_recorder().clone()),
        ),
        upkeep: None,
        _keep: Box::new(parts),
    }
}

fn stock() -> Setup {
    static PROVIDER: OnceLock<SdkTracerProvider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(Discard)
            .build();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench")))
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .event_format(TraceIdFormat)
                    .with_writer(Out),
            );
        tracing::subscriber::set_global_default(subscriber).expect("no global subscriber yet");
        provider
    });
    let recorder = prometheus_recorder();
    Setup {
        name: "stock",
        upkeep: Some(recorder.handle()),
        stack: Stack::Global(Arc::new(recorder)),
        _keep: Box::new(()),
    }
}

fn fastrace() -> Setup {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        fastrace::set_reporter(DiscardReporter, fastrace::collector::Config::default());
        let logger = logforth::core::builder()
            .dispatch(|d| {
                d.diagnostic(logforth::diagnostic::FastraceDiagnostic::default())
                    .append(OutAppend(logforth::layout::JsonLayout::default()))
            })
            .build();
        log::set_boxed_logger(Box::new(logforth::bridge::log::LogBridge::new(logger)))
            .expect("no logger yet");
        log::set_max_level(log::LevelFilter::Info);
    });
    Setup {
        name: "fastrace",
        stack: Stack::Fastrace(PcMetrics {
            orders: Family::default(),
            latency: HistogramWithExemplars::new(
                tracelink::metrics::DEFAULT_BUCKETS.iter().copied(),
            ),
        }),
        upkeep: None,
        _keep: Box::new(()),
    }
}

fn setups() -> [fn() -> Setup; 3] {
    [tracelink, stock, fastrace]
}

/// Whether some thread has a scoped dispatcher: then a nested
/// `Span::current()` answers `Span::none()` and `stock` writes no ids.
fn scoped_dispatcher_alive() -> bool {
    tracing::dispatcher::get_default(|_| {
        tracing::dispatcher::get_default(tracing::Dispatch::is::<tracing::subscriber::NoSubscriber>)
    })
}

/// Runs `f` under the setup's stack on this thread.
fn within<R>(setup: &Setup, f: impl FnOnce() -> R) -> R {
    match &setup.stack {
        Stack::Scoped(dispatch, recorder) => tracing::dispatcher::with_default(dispatch, || {
            metrics::with_local_recorder(&**recorder, f)
        }),
        Stack::Global(recorder) => {
            // tracelink's export thread holds a scoped (no-op) dispatcher until
            // its pipeline has shut down; wait for that.
            let deadline = Instant::now() + Duration::from_secs(10);
            while scoped_dispatcher_alive() {
                assert!(Instant::now() < deadline, "a scoped dispatcher stays alive");
                std::thread::sleep(Duration::from_millis(1));
            }
            metrics::with_local_recorder(&**recorder, f)
        }
        Stack::Fastrace(_) => f(),
    }
}

// ---------------------------------------------------------------------------
// The request.

/// One request with `tracing` and `metrics`.
#[inline]
fn tracing_request() {
    let root = tracing::info_span!("request", http.route = "/orders");
    let _root = root.enter();
    {
        let _auth = tracing::info_span!("auth").entered();
    }
    {
        let _db = tracing::info_span!("db.query").entered();
        tracing::info!(
            order_id = 42u64,
            user = "ada",
            amount = 12.5,
            "order placed"
        );
    }
    {
        let _render = tracing::info_span!("render").entered();
    }
    tracing::info!(status = 200u64, "request done");
    metrics::counter!("orders_total", "shop" => "main").increment(1);
    metrics::histogram!("latency_seconds").record(0.042);
}

/// The same request with fastrace, `log` (logforth) and prometheus-client.
#[inline]
fn fastrace_request(m: &PcMetrics) {
    use fastrace::local::LocalSpan;
    let root = fastrace::Span::root("request", fastrace::collector::SpanContext::random())
        .with_property(|| ("http.route", "/orders"));
    let _root = root.set_local_parent();
    {
        let _auth = LocalSpan::enter_with_local_parent("auth");
    }
    {
        let _db = LocalSpan::enter_with_local_parent("db.query");
        log::info!(order_id = 42u64, user = "ada", amount = 12.5; "order placed");
    }
    {
        let _render = LocalSpan::enter_with_local_parent("render");
    }
    log::info!(status = 200u64; "request done");
    m.orders.get_or_create(&Shop { shop: "main" }).inc_by(
        1,
        fastrace_label(),
        Some(SystemTime::now()),
    );
    m.latency
        .observe(0.042, fastrace_label(), Some(SystemTime::now()));
}

/// `n` requests under the setup (already `within` it).
fn requests(setup: &Setup, n: u64) {
    match &setup.stack {
        Stack::Fastrace(m) => {
            for _ in 0..n {
                fastrace_request(m);
            }
        }
        _ => {
            for _ in 0..n {
                tracing_request();
            }
        }
    }
}

/// `n` requests, draining `metrics-exporter-prometheus`'s histogram queue
/// every 10,000 outside the time returned.
fn timed_requests(setup: &Setup, n: u64) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let batch = left.min(10_000);
        let start = Instant::now();
        requests(setup, batch);
        elapsed += start.elapsed();
        if let Some(handle) = &setup.upkeep {
            handle.run_upkeep();
        }
        left -= batch;
    }
    elapsed
}

/// Checks one request's output: two JSON lines, both with a 32-digit trace id.
fn check(setup: &Setup) -> String {
    let text = out::capture(|| within(setup, || requests(setup, 1)));
    assert_eq!(text.lines().count(), 2, "{}: {text}", setup.name);
    fn trace_id(v: &serde_json::Value) -> Option<&str> {
        match v {
            serde_json::Value::Object(map) => map
                .get("trace_id")
                .and_then(|t| t.as_str())
                .or_else(|| map.values().find_map(trace_id)),
            _ => None,
        }
    }
    for line in text.lines() {
        let value: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", setup.name));
        assert!(
            trace_id(&value).is_some_and(|t| t.len() == 32),
            "{}: no trace id in {line}",
            setup.name
        );
    }
    text
}

// ---------------------------------------------------------------------------
// criterion

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("request");
    for make in setups() {
        let setup = make();
        check(&setup);
        within(&setup, || {
            g.bench_function(setup.name, |b| {
                b.iter_custom(|iters| timed_requests(&setup, iters));
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------------------
// The summary.

/// Requests per timed round of the summary.
const REQUESTS: u64 = 20_000;
/// Rounds of the summary; each round times every setup once, in turn, so a
/// noisy stretch of the shared machine falls on all of them alike.
const ROUNDS: usize = 11;

/// ns per request over one round, in a process of its own (this bench
/// again, `REQUEST_BENCH_TIME=<setup>`): a setup in a service has the
/// process to itself, and one setup's global subscriber, logger or heap left
/// behind can not weigh on the next.
fn round(name: &str) -> f64 {
    let output = std::process::Command::new(std::env::current_exe().expect("bench executable"))
        .env("REQUEST_BENCH_TIME", name)
        .env("OTEL_LOG_LEVEL", "none")
        .output()
        .expect("the bench runs itself");
    let stdout = String::from_utf8_lossy(&output.stdout);
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("ns_per_request "))
        .and_then(|ns| ns.trim().parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "{name}: no time in {stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}

/// `REQUEST_BENCH_TIME=<setup>`: one timed round (a warm-up, a pause for the
/// export thread to drain, `REQUEST_BENCH_REQUESTS` or 20,000 requests),
/// printed for [`round`].
fn time_mode() -> bool {
    let Ok(name) = std::env::var("REQUEST_BENCH_TIME") else {
        return false;
    };
    let n = std::env::var("REQUEST_BENCH_REQUESTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(REQUESTS);
    let setup = by_name(&name);
    let ns = within(&setup, || {
        timed_requests(&setup, n / 5);
        std::thread::sleep(Duration::from_millis(50));
        timed_requests(&setup, n).as_nanos() as f64 / n as f64
    });
    println!("ns_per_request {ns}");
    true
}

/// Allocations per request, and the share of the spans of 8 rounds that
/// reached the exporter (a full queue drops rather than waits).
fn allocations_and_export(setup: &Setup) -> (f64, f64) {
    within(setup, || {
        timed_requests(setup, REQUESTS / 10);
        std::thread::sleep(Duration::from_millis(200));
        let before = EXPORTED.load(Ordering::Relaxed);
        for _ in 0..7 {
            timed_requests(setup, REQUESTS);
            std::thread::sleep(Duration::from_millis(50));
        }
        let region = Region::new(GLOBAL);
        timed_requests(setup, REQUESTS);
        let allocs = region.change().allocations as f64 / REQUESTS as f64;
        // fastrace reports once a second.
        std::thread::sleep(Duration::from_millis(1500));
        let exported = (EXPORTED.load(Ordering::Relaxed) - before) as f64;
        (allocs, exported / (8 * REQUESTS * 4) as f64)
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn summary() {
    println!(
        "\nsummary ({ROUNDS} rounds of {REQUESTS} requests, each setup in a process of its own, \
         taking turns; ns per request, median and best; allocations per request; share of spans \
         exported):"
    );
    const NAMES: [&str; 3] = ["tracelink", "stock", "fastrace"];
    let mut ns: [Vec<f64>; 3] = Default::default();
    for _ in 0..ROUNDS {
        for (times, name) in ns.iter_mut().zip(NAMES) {
            times.push(round(name));
        }
    }
    if std::env::var_os("REQUEST_BENCH_ROUNDS").is_some() {
        for (name, times) in NAMES.iter().zip(&ns) {
            let times: Vec<u64> = times.iter().map(|t| *t as u64).collect();
            println!("  {name:<10} {times:?}");
        }
    }
    for (i, make) in setups().into_iter().enumerate() {
        let setup = make();
        let (allocs, exported) = allocations_and_export(&setup);
        let best = ns[i].iter().copied().fold(f64::MAX, f64::min);
        println!(
            "  {:<10} {:>7.0} ns (best {:>6.0}) {:>6.1} allocs {:>5.1}% of spans exported",
            setup.name,
            median(&mut ns[i].clone()),
            best,
            allocs,
            exported * 100.0
        );
    }
    // The ratio within each round, whose setups ran seconds apart.
    let per_round = |other: usize| {
        let mut ratios: Vec<f64> = ns[0].iter().zip(&ns[other]).map(|(a, b)| a / b).collect();
        let m = median(&mut ratios);
        (m, ratios[0], ratios[ratios.len() - 1])
    };
    let (stock, stock_lo, stock_hi) = per_round(1);
    let (fastrace, fastrace_lo, fastrace_hi) = per_round(2);
    println!(
        "  tracelink / stock = {stock:.2} (rounds {stock_lo:.2}-{stock_hi:.2}; target <= 0.35); \
         / fastrace = {fastrace:.2} (rounds {fastrace_lo:.2}-{fastrace_hi:.2}; target <= 1.0)"
    );
    println!(" the lines compared:");
    for make in setups() {
        let setup = make();
        for line in check(&setup).lines() {
            println!("  {:<10} {line}", setup.name);
        }
    }
}

// ---------------------------------------------------------------------------
// Instruction counts.

/// `REQUEST_BENCH_SETUP=<name> REQUEST_BENCH_REQUESTS=<n>`: make n requests
/// under one setup and exit; `scripts/bench-metrics-instructions.sh` runs this
/// under callgrind to count instructions per request, which, unlike time, a
/// busy machine does not change.
fn count_mode() -> bool {
    let (Ok(name), Ok(n)) = (
        std::env::var("REQUEST_BENCH_SETUP"),
        std::env::var("REQUEST_BENCH_REQUESTS"),
    ) else {
        return false;
    };
    let n: u64 = n.parse().expect("REQUEST_BENCH_REQUESTS is a number");
    let setup = by_name(&name);
    within(&setup, || timed_requests(&setup, n));
    true
}

fn by_name(name: &str) -> Setup {
    match name {
        "tracelink" => tracelink(),
        "stock" => stock(),
        "fastrace" => fastrace(),
        other => panic!("unknown setup {other}"),
    }
}

fn main() {
    run::main(|| time_mode() || count_mode(), benches, summary);
}
