//! A sampled and an unsampled span's whole life (new, enter, exit, close,
//! export to a discarding exporter), side by side in one run:
//!
//! - `registry`: a bare `tracing_subscriber::Registry`, the floor;
//! - `stock`: `tracing_opentelemetry::layer()` (its defaults) on the SDK's
//!   `SdkTracerProvider` with the batch span processor;
//! - `tracelink`: `tracelink::builder().build()`'s filter and layer, as
//!   `tracelink::init()` installs them.
//!
//! Run with `cargo bench --bench span`. After criterion's groups, a summary
//! prints ns, allocations per span and the ratios. Time on a shared 2-core VM
//! moves by ±30% between runs; `./scripts/bench-instructions.sh` counts
//! instructions per span under callgrind, which does not move.
//!
//! Measured 2026-11-22, 2-core x86_64 VM (instructions per span, callgrind;
//! allocations per span, counting allocator):
//!
//! | setup                              | sampled | unsampled | allocs (sampled/unsampled) |
//! |------------------------------------|--------:|----------:|---------------------------:|
//! | registry                           |     745 |       745 |                      0 / 0 |
//! | stock (tracing-otel + SDK batch)   |   8,436 |     6,940 |                    10 / 10 |
//! | tracelink (default)                |   6,027 |     5,516 |                      7 / 7 |
//! | tracelink, context activation off  |   4,562 |     4,051 |                      5 / 5 |
//!
//! Time, same run: sampled 1.61 us vs stock 3.01 us (0.54x); unsampled
//! 1.25 us vs 1.63 us (0.77x), registry 0.21-0.24 us. (A loop that does
//! nothing but make spans outruns the export thread here: the summary
//! reports the few percent of spans its queue dropped, as a service would.)
//! Since 2026-11-22 the span's location and target are no longer written on
//! this thread (`trace/callsite.rs`): one allocation less per sampled span,
//! and none left for the export thread to free; the instructions moved to the
//! export thread's scope lookup.
//!
//! tracelink is 0.71x the stock stack on a sampled span (instructions). The
//! rest is `tracing-opentelemetry`'s own per-span work, done before any
//! tracer is asked: a `SpanBuilder` with an attribute `Vec` and a `String` per field, an
//! `Arc<Mutex<OtelData>>` and its extension slot, and with context activation
//! an `Arc` + `Box` per enter to make the OpenTelemetry context current. That
//! is also why an unsampled span costs ~5,500 instructions instead of the
//! registry's 745: sampling can only be decided when `tracing-opentelemetry`
//! calls the tracer. Reaching 2x the registry needs the decision in
//! `on_new_span`, before the builder exists: an upstream hook for that, or a
//! layer of tracelink's own.

#[path = "support/discard.rs"]
mod discard;
#[path = "support/run.rs"]
mod run;

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use discard::Discard;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

struct Setup {
    name: &'static str,
    dispatch: Dispatch,
    // Keeps the pipelines alive for the run.
    _keep: Box<dyn std::any::Any>,
}

fn registry() -> Setup {
    Setup {
        name: "registry",
        dispatch: Dispatch::new(tracing_subscriber::registry()),
        _keep: Box::new(()),
    }
}

fn stock(sampled: bool) -> Setup {
    let mut builder = SdkTracerProvider::builder().with_batch_exporter(Discard);
    if !sampled {
        builder = builder.with_sampler(opentelemetry_sdk::trace::Sampler::AlwaysOff);
    }
    let provider = builder.build();
    let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
    Setup {
        name: "stock",
        dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
        _keep: Box::new(provider),
    }
}

fn tracelink(sampled: bool) -> Setup {
    tracelink_with(sampled, true)
}

fn tracelink_with(sampled: bool, activation: bool) -> Setup {
    let sampler = if sampled {
        tracelink::trace::Sampler::default()
    } else {
        tracelink::trace::Sampler::always_off()
    };
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_span_exporter(Discard)
        .with_sampler(sampler)
        .with_context_activation(activation)
        .build()
        .expect("tracelink builds");
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer());
    Setup {
        name: if activation {
            "tracelink"
        } else {
            "tracelink_no_activation"
        },
        dispatch: Dispatch::new(subscriber),
        _keep: Box::new(parts),
    }
}

/// One span's whole life, with one field, as a request handler makes it.
#[inline]
fn one_span() {
    let span = tracing::info_span!("request", http.route = "/orders");
    let entered = span.enter();
    black_box(&entered);
    drop(entered);
    drop(span);
}

fn bench(c: &mut Criterion) {
    for (group, sampled) in [("sampled_span", true), ("unsampled_span", false)] {
        let mut g = c.benchmark_group(group);
        for setup in [
            registry(),
            stock(sampled),
            tracelink(sampled),
            tracelink_with(sampled, false),
        ] {
            tracing::dispatcher::with_default(&setup.dispatch, || {
                g.bench_function(setup.name, |b| b.iter(one_span));
            });
        }
        g.finish();
    }
}

/// ns and allocations per span, the best of several rounds.
fn measure(setup: &Setup) -> (f64, f64) {
    const SPANS: u32 = 100_000;
    tracing::dispatcher::with_default(&setup.dispatch, || {
        let mut best = f64::MAX;
        for _ in 0..7 {
            let start = Instant::now();
            for _ in 0..SPANS {
                one_span();
            }
            best = best.min(start.elapsed().as_nanos() as f64 / f64::from(SPANS));
            // Let the export threads drain, so no round measures a full queue.
            std::thread::sleep(Duration::from_millis(50));
        }
        let region = Region::new(GLOBAL);
        for _ in 0..SPANS {
            one_span();
        }
        let allocations = region.change().allocations as f64 / f64::from(SPANS);
        (best, allocations)
    })
}

fn summary() {
    println!("\nsummary (best of 7 rounds of 100k spans; allocations per span):");
    for (label, sampled) in [("sampled", true), ("unsampled", false)] {
        let base = measure(&registry());
        let stock = measure(&stock(sampled));
        let ours = measure(&tracelink(sampled));
        let lean = measure(&tracelink_with(sampled, false));
        println!(
            "  {label:<9} registry {:>5.0} ns {:>4.1} allocs | stock {:>5.0} ns {:>4.1} allocs | tracelink {:>5.0} ns {:>4.1} allocs ({:.2}x stock, {:.2}x registry) | no activation {:>5.0} ns {:>4.1} allocs ({:.2}x stock, {:.2}x registry)",
            base.0, base.1, stock.0, stock.1,
            ours.0, ours.1, ours.0 / stock.0, ours.0 / base.0,
            lean.0, lean.1, lean.0 / stock.0, lean.0 / base.0,
        );
    }
}

criterion_group!(benches, bench);

/// `SPAN_BENCH_SETUP=<name> SPAN_BENCH_SPANS=<n>`: make n spans under one setup
/// and exit; `scripts/bench-instructions.sh` runs this under callgrind to count
/// instructions per span, which, unlike time, a busy machine does not change.
fn count_mode() -> bool {
    let (Ok(name), Ok(spans)) = (
        std::env::var("SPAN_BENCH_SETUP"),
        std::env::var("SPAN_BENCH_SPANS"),
    ) else {
        return false;
    };
    let spans: u32 = spans.parse().expect("SPAN_BENCH_SPANS is a number");
    let (sampled, setup_name) = match name.strip_prefix("unsampled_") {
        Some(rest) => (false, rest.to_owned()),
        None => (true, name.clone()),
    };
    let setup = match setup_name.as_str() {
        "registry" => registry(),
        "stock" => stock(sampled),
        "tracelink" => tracelink(sampled),
        "tracelink_no_activation" => tracelink_with(sampled, false),
        other => panic!("unknown setup {other}"),
    };
    tracing::dispatcher::with_default(&setup.dispatch, || {
        for _ in 0..spans {
            one_span();
        }
    });
    true
}

fn main() {
    run::main(count_mode, benches, summary);
}
