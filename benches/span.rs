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
//! prints ns, allocations per span and the ratios.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SdkTracerProvider, SpanData, SpanExporter};
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

/// Accepts every batch and throws it away.
#[derive(Debug)]
struct Discard;

impl SpanExporter for Discard {
    async fn export(&self, batch: Vec<SpanData>) -> OTelSdkResult {
        black_box(batch);
        Ok(())
    }
}

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
    let sampler = if sampled {
        tracelink::Sampler::default()
    } else {
        tracelink::Sampler::always_off()
    };
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none")])
        .with_span_exporter(Discard)
        .with_sampler(sampler)
        .build()
        .expect("tracelink builds");
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer());
    Setup {
        name: "tracelink",
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
        for setup in [registry(), stock(sampled), tracelink(sampled)] {
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
            best = best.min(start.elapsed().as_nanos() as f64 / SPANS as f64);
            // Let the export threads drain, so no round measures a full queue.
            std::thread::sleep(Duration::from_millis(50));
        }
        let region = Region::new(GLOBAL);
        for _ in 0..SPANS {
            one_span();
        }
        let allocations = region.change().allocations as f64 / SPANS as f64;
        (best, allocations)
    })
}

fn summary() {
    println!("\nsummary (best of 7 rounds of 100k spans; allocations per span):");
    for (label, sampled) in [("sampled", true), ("unsampled", false)] {
        let base = measure(&registry());
        let stock = measure(&stock(sampled));
        let ours = measure(&tracelink(sampled));
        println!(
            "  {label:<9} registry {:>6.0} ns {:>4.1} allocs | stock {:>6.0} ns {:>4.1} allocs | tracelink {:>6.0} ns {:>4.1} allocs | tracelink/stock {:.2} | tracelink/registry {:.2}",
            base.0, base.1, stock.0, stock.1, ours.0, ours.1,
            ours.0 / stock.0,
            ours.0 / base.0,
        );
    }
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs each bench once; the summary is for `cargo bench`.
    if std::env::args().any(|arg| arg == "--bench") {
        summary();
    }
}
