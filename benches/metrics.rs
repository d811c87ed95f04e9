//! Recording and rendering metrics, side by side in one run:
//!
//! - `tracelink`: `tracelink::metrics::MetricsRecorder` (default config: trace-based
//!   exemplars, Prometheus' default buckets) through `metrics`' macros, via
//!   `metrics::with_local_recorder`;
//! - `prometheus`: `metrics-exporter-prometheus` 0.18
//!   (`PrometheusBuilder::new().set_buckets(DEFAULT_BUCKETS).build_recorder()`),
//!   the same macros, no exemplars (it has none);
//! - `prometheus_client`: the `prometheus-client` crate's
//!   `CounterWithExemplar` (in a `Family` keyed by `shop`) and
//!   `HistogramWithExemplars` (the same buckets), each sample carrying the
//!   `trace_id`/`span_id` the way users write it: from
//!   `Span::current().context()`, hex strings in a derived label set, and a
//!   timestamp (tracelink stamps its exemplars too).
//!
//! Every sample is recorded inside one entered, sampled span (tracelink's
//! filter and OpenTelemetry layer, under `with_default`), so tracelink and
//! prometheus_client capture an exemplar on every sample. Two paths:
//!
//! - `macro_*`: `counter!("orders_total", "shop" => "main").increment(1)` and
//!   `histogram!("latency_seconds").record(0.042)` each call (a registry
//!   lookup each time); for prometheus_client, `family.get_or_create(&labels)`
//!   for the counter, and the histogram handle (it has no labels, so nothing
//!   to look up);
//! - `handle_*`: a `metrics::Counter`/`Histogram` obtained once; for
//!   prometheus_client the metric itself (`get_or_create_owned` once).
//!
//! `render_*`: 100 counters (10 families x 10 `route`s) and 20 histograms
//! (4 families x 5 `route`s, samples in 4 buckets each), every family
//! described, every counter and every used bucket with an exemplar (180
//! exemplars), as OpenMetrics: tracelink's `MetricsHandle::render`,
//! prometheus-client's `encoding::text::encode`, and
//! `PrometheusHandle::render` (Prometheus text, buckets, no exemplars).
//!
//! `metrics-exporter-prometheus` keeps histogram samples in a queue that its
//! upkeep (or a scrape) drains; the bench runs that upkeep between criterion's
//! batches and outside the timing, so its histogram rows leave the drain out.
//!
//! Run with `cargo bench --bench metrics`. After criterion's groups, a summary
//! prints ns and allocations per operation and the ratios; time on a shared
//! 2-core VM moves by ±30% between runs. `./scripts/bench-metrics-instructions.sh`
//! counts instructions per operation under callgrind, which does not move.
//!
//! Measured 2026-11-21, 2-core x86_64 VM, the one run (instructions:
//! callgrind, `scripts/bench-metrics-instructions.sh metrics`, re-counted
//! 2026-11-22 inside `run` only (`--toggle-collect`), which makes the
//! count exact: before, the setup's clock calibration and timer wake-ups
//! moved it by ±100 per operation; allocations:
//! the counting allocator; time: the summary's best of 7 rounds and
//! criterion's estimate, with a build running beside it, so ±30% or worse):
//!
//! | operation (in a sampled span)   | tracelink | prometheus | prometheus_client |
//! |---------------------------------|----------:|-----------:|------------------:|
//! | macro counter, instructions     |       451 |        544 |             2,833 |
//! | macro counter, ns (summary)     |       104 |        113 |               406 |
//! | macro counter, ns (criterion)   |        97 |        125 |               452 |
//! | macro counter, allocs           |         0 |          1 |                 2 |
//! | macro histogram, instructions   |       459 |        693 |             2,883 |
//! | macro histogram, ns (summary)   |       112 |        150 |               406 |
//! | macro histogram, allocs         |         0 |       1.03 |                 2 |
//! | handle counter, instructions    |       223 |         23 |             2,567 |
//! | handle counter, ns (summary)    |        63 |         11 |               367 |
//! | handle counter, allocs          |         0 |          0 |                 2 |
//! | handle histogram, instructions  |       293 |        234 |             2,883 |
//! | handle histogram, ns (summary)  |        84 |         55 |               389 |
//! | handle histogram, allocs        |         0 |       0.03 |                 2 |
//! | render, instructions            |   688,232 |  2,081,312 |           949,208 |
//! | render, us (criterion)          |        60 |          - |                75 |
//!
//! (prometheus' handle counter is one atomic add; its histogram rows
//! include draining its queue every 10,000 samples.)
//!
//! Ratios against the targets: macro path tracelink / prometheus 0.91
//! (counter) and 0.74 (histogram) by time, 0.83 and 0.66 by instructions,
//! target <= 1.2, met, with an exemplar that prometheus has not; handle path
//! tracelink / prometheus_client 0.17 (counter) and 0.22 (histogram) by time,
//! 0.09 and 0.10 by instructions, target <= 1.0, met (prometheus_client's
//! cost is the user's exemplar: `Span::current().context()` and two hex
//! `String`s per sample, then a write lock). Rendering tracelink /
//! prometheus_client 0.80 by time, 0.73 by instructions, target <= 1.0, met:
//! each series' sanitized name and escaped labels are made once, when it is
//! first recorded, and a scrape sorts the cells and copies them, writing ids
//! with a hex table and timestamps with itoa. (First version, rebuilding
//! every family per scrape: 1,465,246 instructions, 2.17x by time.)
//!
//! Against prometheus's bare handle (an atomic add, 11 ns) tracelink's handle
//! counter costs 63 ns: the exemplar, on every sample (the current context,
//! `SystemTime::now()`, a `try_lock`).

#[path = "support/discard.rs"]
mod discard;
#[path = "support/run.rs"]
mod run;

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime};

use criterion::{criterion_group, Criterion};
use discard::Discard;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use opentelemetry::trace::TraceContextExt as _;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::exemplar::{CounterWithExemplar, HistogramWithExemplars};
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tracing::Dispatch;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

// ---------------------------------------------------------------------------
// prometheus-client's label sets, as its docs write them.

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Shop {
    shop: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Route {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TraceLabel {
    trace_id: String,
    span_id: String,
}

/// The current span's ids as exemplar labels, as users write it.
fn trace_label() -> Option<TraceLabel> {
    let context = tracing::Span::current().context();
    let span = context.span();
    let sc = span.span_context();
    (sc.is_valid() && sc.is_sampled()).then(|| TraceLabel {
        trace_id: sc.trace_id().to_string(),
        span_id: sc.span_id().to_string(),
    })
}

type PcCounters = Family<Shop, CounterWithExemplar<TraceLabel>>;
type PcHistogram = HistogramWithExemplars<TraceLabel>;

fn pc_histogram() -> PcHistogram {
    HistogramWithExemplars::new(tracelink::metrics::DEFAULT_BUCKETS.iter().copied())
}

fn prometheus_recorder() -> PrometheusRecorder {
    PrometheusBuilder::new()
        .set_buckets(tracelink::metrics::DEFAULT_BUCKETS)
        .expect("buckets")
        .build_recorder()
}

// ---------------------------------------------------------------------------
// The world every case runs in.

struct World {
    dispatch: Dispatch,
    /// Entered for every case: sampled, so every sample may carry an exemplar.
    span: tracing::Span,
    tracelink: tracelink::metrics::MetricsRecorder,
    prometheus: PrometheusRecorder,
    prometheus_handle: PrometheusHandle,
    pc_counters: PcCounters,
    pc_histogram: PcHistogram,
    // Handles, obtained once.
    tl_counter: metrics::Counter,
    tl_histogram: metrics::Histogram,
    mep_counter: metrics::Counter,
    mep_histogram: metrics::Histogram,
    pc_counter: CounterWithExemplar<TraceLabel>,
    // Keeps the pipeline alive for the run.
    _parts: tracelink::Parts,
}

fn world() -> World {
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_span_exporter(Discard)
        .build()
        .expect("tracelink builds");
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer()),
    );
    let span = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("request", http.route = "/orders")
    });
    let tracelink =
        tracelink::metrics::MetricsRecorder::new(tracelink::metrics::MetricsConfig::default());
    let prometheus = prometheus_recorder();
    let prometheus_handle = prometheus.handle();
    let (tl_counter, tl_histogram) = metrics::with_local_recorder(&tracelink, handles);
    let (mep_counter, mep_histogram) = metrics::with_local_recorder(&prometheus, handles);
    let pc_counters = PcCounters::default();
    let pc_counter = pc_counters.get_or_create_owned(&Shop { shop: "main" });
    World {
        dispatch,
        span,
        tracelink,
        prometheus,
        prometheus_handle,
        pc_counters,
        pc_histogram: pc_histogram(),
        tl_counter,
        tl_histogram,
        mep_counter,
        mep_histogram,
        pc_counter,
        _parts: parts,
    }
}

fn handles() -> (metrics::Counter, metrics::Histogram) {
    (
        metrics::counter!("orders_total", "shop" => "main"),
        metrics::histogram!("latency_seconds"),
    )
}

#[derive(Clone, Copy, PartialEq)]
enum Lib {
    Tracelink,
    Prometheus,
    PrometheusClient,
}

/// One operation of one library on one path.
#[derive(Clone, Copy)]
struct Case {
    name: &'static str,
    group: &'static str,
    lib: Lib,
    op: fn(&World),
}

fn macro_counter(_: &World) {
    metrics::counter!("orders_total", "shop" => "main").increment(1);
}

fn macro_histogram(_: &World) {
    metrics::histogram!("latency_seconds").record(0.042);
}

fn pc_macro_counter(w: &World) {
    w.pc_counters.get_or_create(&Shop { shop: "main" }).inc_by(
        1,
        trace_label(),
        Some(SystemTime::now()),
    );
}

fn pc_histogram_observe(w: &World) {
    w.pc_histogram
        .observe(0.042, trace_label(), Some(SystemTime::now()));
}

fn pc_handle_counter(w: &World) {
    w.pc_counter
        .inc_by(1, trace_label(), Some(SystemTime::now()));
}

const CASES: [Case; 12] = [
    Case {
        name: "macro_counter_tracelink",
        group: "macro_counter",
        lib: Lib::Tracelink,
        op: macro_counter,
    },
    Case {
        name: "macro_counter_prometheus",
        group: "macro_counter",
        lib: Lib::Prometheus,
        op: macro_counter,
    },
    Case {
        name: "macro_counter_prometheus_client",
        group: "macro_counter",
        lib: Lib::PrometheusClient,
        op: pc_macro_counter,
    },
    Case {
        name: "macro_histogram_tracelink",
        group: "macro_histogram",
        lib: Lib::Tracelink,
        op: macro_histogram,
    },
    Case {
        name: "macro_histogram_prometheus",
        group: "macro_histogram",
        lib: Lib::Prometheus,
        op: macro_histogram,
    },
    Case {
        name: "macro_histogram_prometheus_client",
        group: "macro_histogram",
        lib: Lib::PrometheusClient,
        op: pc_histogram_observe,
    },
    Case {
        name: "handle_counter_tracelink",
        group: "handle_counter",
        lib: Lib::Tracelink,
        op: |w| w.tl_counter.increment(1),
    },
    Case {
        name: "handle_counter_prometheus",
        group: "handle_counter",
        lib: Lib::Prometheus,
        op: |w| w.mep_counter.increment(1),
    },
    Case {
        name: "handle_counter_prometheus_client",
        group: "handle_counter",
        lib: Lib::PrometheusClient,
        op: pc_handle_counter,
    },
    Case {
        name: "handle_histogram_tracelink",
        group: "handle_histogram",
        lib: Lib::Tracelink,
        op: |w| w.tl_histogram.record(0.042),
    },
    Case {
        name: "handle_histogram_prometheus",
        group: "handle_histogram",
        lib: Lib::Prometheus,
        op: |w| w.mep_histogram.record(0.042),
    },
    Case {
        name: "handle_histogram_prometheus_client",
        group: "handle_histogram",
        lib: Lib::PrometheusClient,
        op: pc_histogram_observe,
    },
];

/// Runs `f` as every case runs: under the subscriber, in the entered span,
/// with the case's library as the local recorder.
fn within<R>(w: &World, lib: Lib, f: impl FnOnce() -> R) -> R {
    tracing::dispatcher::with_default(&w.dispatch, || {
        let _entered = w.span.enter();
        match lib {
            Lib::Tracelink => metrics::with_local_recorder(&w.tracelink, f),
            Lib::Prometheus => metrics::with_local_recorder(&w.prometheus, f),
            Lib::PrometheusClient => f(),
        }
    })
}

/// `n` operations; `metrics-exporter-prometheus`'s histogram queue is drained
/// every 10,000, outside the time that `timed` returns.
#[inline(never)] // `scripts/bench-metrics-instructions.sh` counts only inside it
fn run(w: &World, case: &Case, n: u64) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut left = n;
    while left > 0 {
        let batch = left.min(10_000);
        let start = Instant::now();
        for _ in 0..batch {
            (case.op)(w);
        }
        elapsed += start.elapsed();
        w.prometheus_handle.run_upkeep();
        left -= batch;
    }
    elapsed
}

// ---------------------------------------------------------------------------
// Rendering.

const COUNTER_FAMILIES: usize = 10;
const COUNTERS_PER_FAMILY: usize = 10;
const HISTOGRAM_FAMILIES: usize = 4;
const HISTOGRAMS_PER_FAMILY: usize = 5;
/// One value in each of 4 buckets.
const HISTOGRAM_VALUES: [f64; 4] = [0.003, 0.042, 0.3, 2.0];

fn counter_name(f: usize) -> String {
    format!("app_{f}_requests_total")
}

fn histogram_name(f: usize) -> String {
    format!("app_{f}_latency_seconds")
}

fn route(i: usize) -> String {
    format!("/orders/{i}")
}

/// The same metrics recorded through `metrics`' macros, in the span.
fn fill_with_macros() {
    for f in 0..COUNTER_FAMILIES {
        metrics::describe_counter!(counter_name(f), "Requests served.");
        for i in 0..COUNTERS_PER_FAMILY {
            metrics::counter!(counter_name(f), "route" => route(i)).increment(1 + i as u64);
        }
    }
    for f in 0..HISTOGRAM_FAMILIES {
        metrics::describe_histogram!(histogram_name(f), "Request latency.");
        for i in 0..HISTOGRAMS_PER_FAMILY {
            for v in HISTOGRAM_VALUES {
                metrics::histogram!(histogram_name(f), "route" => route(i)).record(v);
            }
        }
    }
}

struct Renderers {
    tracelink: tracelink::metrics::MetricsHandle,
    prometheus: PrometheusHandle,
    prometheus_client: Registry,
    _keep: (tracelink::metrics::MetricsRecorder, PrometheusRecorder),
}

fn renderers(w: &World) -> Renderers {
    let tl = tracelink::metrics::MetricsRecorder::new(tracelink::metrics::MetricsConfig::default());
    let mep = prometheus_recorder();
    let mut registry = Registry::default();
    tracing::dispatcher::with_default(&w.dispatch, || {
        let _entered = w.span.enter();
        metrics::with_local_recorder(&tl, fill_with_macros);
        metrics::with_local_recorder(&mep, fill_with_macros);
        for f in 0..COUNTER_FAMILIES {
            let family = Family::<Route, CounterWithExemplar<TraceLabel>>::default();
            for i in 0..COUNTERS_PER_FAMILY {
                family.get_or_create(&Route { route: route(i) }).inc_by(
                    1 + i as u64,
                    trace_label(),
                    Some(SystemTime::now()),
                );
            }
            // prometheus-client adds `_total` itself.
            registry.register(format!("app_{f}_requests"), "Requests served.", family);
        }
        for f in 0..HISTOGRAM_FAMILIES {
            let family =
                Family::<Route, PcHistogram>::new_with_constructor(pc_histogram as fn() -> _);
            for i in 0..HISTOGRAMS_PER_FAMILY {
                for v in HISTOGRAM_VALUES {
                    family.get_or_create(&Route { route: route(i) }).observe(
                        v,
                        trace_label(),
                        Some(SystemTime::now()),
                    );
                }
            }
            registry.register(histogram_name(f), "Request latency.", family);
        }
    });
    Renderers {
        tracelink: tl.handle(),
        prometheus: mep.handle(),
        prometheus_client: registry,
        _keep: (tl, mep),
    }
}

fn render_tracelink(r: &Renderers) -> String {
    r.tracelink.render(tracelink::metrics::Format::OpenMetrics)
}

fn render_prometheus_client(r: &Renderers) -> String {
    let mut out = String::new();
    prometheus_client::encoding::text::encode(&mut out, &r.prometheus_client).expect("encodes");
    out
}

fn render_prometheus(r: &Renderers) -> String {
    r.prometheus.render()
}

/// A renderer under its setup name.
type Render = (&'static str, fn(&Renderers) -> String);

const RENDERS: [Render; 3] = [
    ("render_tracelink", render_tracelink),
    ("render_prometheus_client", render_prometheus_client),
    ("render_prometheus", render_prometheus),
];

/// Checks that each body holds what it should: 100 counter samples, 20 x 12
/// buckets, and (OpenMetrics) 180 exemplars.
fn check_renders(r: &Renderers) {
    for (name, render) in RENDERS {
        let body = render(r);
        let count = |needle: &str| body.lines().filter(|l| l.contains(needle)).count();
        assert_eq!(count("_requests_total{"), 100, "{name}:\n{body}");
        assert_eq!(count("_bucket{"), 20 * 12, "{name}:\n{body}");
        let exemplars = if name == "render_prometheus" { 0 } else { 180 };
        assert_eq!(count("trace_id=\""), exemplars, "{name}:\n{body}");
    }
}

/// Checks that each recording case records, with an exemplar where it can.
fn check_cases(w: &World) {
    for case in &CASES {
        within(w, case.lib, || (case.op)(w));
    }
    w.prometheus_handle.run_upkeep();
    let tl = w
        .tracelink
        .handle()
        .render(tracelink::metrics::Format::OpenMetrics);
    assert!(
        tl.lines()
            .any(|l| l.starts_with("orders_total{shop=\"main\"}") && l.contains("trace_id=")),
        "{tl}"
    );
    assert!(
        tl.lines().any(
            |l| l.starts_with("latency_seconds_bucket{le=\"0.05\"}") && l.contains("trace_id=")
        ),
        "{tl}"
    );
    let mep = w.prometheus_handle.render();
    assert!(mep.contains("orders_total{shop=\"main\"}"), "{mep}");
    assert!(mep.contains("latency_seconds_bucket{le=\"0.05\"}"), "{mep}");
    let mut pc = String::new();
    let mut registry = Registry::default();
    registry.register("orders", "Orders.", w.pc_counters.clone());
    registry.register("latency_seconds", "Latency.", w.pc_histogram.clone());
    prometheus_client::encoding::text::encode(&mut pc, &registry).expect("encodes");
    assert_eq!(pc.matches("trace_id=\"").count(), 2, "{pc}");
}

// ---------------------------------------------------------------------------
// criterion

fn bench(c: &mut Criterion) {
    let w = world();
    check_cases(&w);
    for group in [
        "macro_counter",
        "macro_histogram",
        "handle_counter",
        "handle_histogram",
    ] {
        let mut g = c.benchmark_group(group);
        for case in CASES.iter().filter(|c| c.group == group) {
            within(&w, case.lib, || {
                let label = case
                    .name
                    .strip_prefix(group)
                    .unwrap()
                    .trim_start_matches('_');
                g.bench_function(label, |b| b.iter_custom(|iters| run(&w, case, iters)));
            });
        }
        g.finish();
    }

    let r = renderers(&w);
    check_renders(&r);
    let mut g = c.benchmark_group("render");
    for (name, render) in RENDERS {
        g.bench_function(name.strip_prefix("render_").unwrap(), |b| {
            b.iter(|| black_box(render(&r)));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------------------
// The summary.

/// ns and allocations per operation: the best of 7 rounds, then a counted one.
fn measure(w: &World, case: &Case) -> (f64, f64) {
    const OPS: u64 = 200_000;
    within(w, case.lib, || {
        run(w, case, OPS / 10);
        let mut best = f64::MAX;
        for _ in 0..7 {
            best = best.min(run(w, case, OPS).as_nanos() as f64 / OPS as f64);
        }
        let region = Region::new(GLOBAL);
        run(w, case, OPS);
        (best, region.change().allocations as f64 / OPS as f64)
    })
}

fn measure_render(r: &Renderers, render: fn(&Renderers) -> String) -> (f64, f64, usize) {
    const RUNS: u32 = 300;
    let len = render(r).len();
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..RUNS {
            black_box(render(r));
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(RUNS));
    }
    let region = Region::new(GLOBAL);
    for _ in 0..RUNS {
        black_box(render(r));
    }
    (
        best,
        region.change().allocations as f64 / f64::from(RUNS),
        len,
    )
}

fn summary() {
    let w = world();
    println!("\nsummary (ns per operation: best of 7 rounds of 200k; allocations per operation):");
    let mut results = Vec::new();
    for case in &CASES {
        let (ns, allocs) = measure(&w, case);
        println!("  {:<36} {:>7.1} ns {:>6.2} allocs", case.name, ns, allocs);
        results.push((case.name, ns));
    }
    let get = |name: &str| results.iter().find(|(n, _)| *n == name).unwrap().1;
    for metric in ["counter", "histogram"] {
        let tl = get(&format!("macro_{metric}_tracelink"));
        println!(
            "  macro {metric}: tracelink / prometheus = {:.2} (target <= 1.2); / prometheus_client = {:.2}",
            tl / get(&format!("macro_{metric}_prometheus")),
            tl / get(&format!("macro_{metric}_prometheus_client")),
        );
        let tl = get(&format!("handle_{metric}_tracelink"));
        println!(
            "  handle {metric}: tracelink / prometheus_client = {:.2} (target <= 1.0); / prometheus = {:.2}",
            tl / get(&format!("handle_{metric}_prometheus_client")),
            tl / get(&format!("handle_{metric}_prometheus")),
        );
    }

    println!(" rendering 100 counters + 20 histograms, 180 exemplars (ns per render: best of 7 rounds of 300):");
    let r = renderers(&w);
    let mut renders = Vec::new();
    for (name, render) in RENDERS {
        let (ns, allocs, len) = measure_render(&r, render);
        println!("  {name:<36} {ns:>9.0} ns {allocs:>6.1} allocs {len:>6} bytes");
        renders.push(ns);
    }
    println!(
        "  tracelink / prometheus_client = {:.2} (target <= 1.0); / prometheus = {:.2}",
        renders[0] / renders[1],
        renders[0] / renders[2],
    );
}

// ---------------------------------------------------------------------------
// Instruction counts.

/// `METRICS_BENCH_SETUP=<case> METRICS_BENCH_OPS=<n>`: run n operations of one
/// case (a `CASES` name, or `render_<lib>`: n renders) and exit;
/// `scripts/bench-metrics-instructions.sh` runs this under callgrind to count
/// instructions per operation, which, unlike time, a busy machine does not
/// change.
fn count_mode() -> bool {
    let (Ok(name), Ok(ops)) = (
        std::env::var("METRICS_BENCH_SETUP"),
        std::env::var("METRICS_BENCH_OPS"),
    ) else {
        return false;
    };
    let ops: u64 = ops.parse().expect("METRICS_BENCH_OPS is a number");
    let w = world();
    if let Some((_, render)) = RENDERS.iter().find(|(n, _)| *n == name) {
        let r = renderers(&w);
        for _ in 0..ops {
            black_box(render(&r));
        }
        return true;
    }
    let case = CASES
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("unknown setup {name}"));
    within(&w, case.lib, || run(&w, case, ops));
    true
}

fn main() {
    run::main(count_mode, benches, summary);
}
