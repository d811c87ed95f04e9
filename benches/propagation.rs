//! W3C Trace Context in and out of HTTP headers, side by side in one run:
//!
//! - `tracelink`: `tracelink::propagation::TraceContextPropagator`;
//! - `sdk`: `opentelemetry_sdk::propagation::TraceContextPropagator` 0.33.
//!
//! Both read from and write to an `http::HeaderMap` through the same
//! `Extractor`/`Injector` adapters (as `opentelemetry-http`'s
//! `HeaderExtractor`/`HeaderInjector` do it), holding a `traceparent` and a
//! 10-member `tracestate` (279 characters):
//!
//! - `extract`: the headers to a `Context` with a remote `SpanContext`;
//! - `inject`: that `Context` into a cleared `HeaderMap` (the map's
//!   allocation is reused; the header values are new each time).
//!
//! Before measuring, the bench checks both propagators read the same context
//! and write the same two headers.
//!
//! Run with `cargo bench --bench propagation`. After criterion's group, a
//! summary prints ns and allocations per operation and the ratios, then the
//! same without a `tracestate`; time on a shared 2-core VM moves by ±30%
//! between runs.
//!
//! Measured 2026-11-21, 2-core x86_64 VM, other builds running beside it
//! (time: the summary's best of 7 rounds of 200k, and criterion's estimate;
//! allocations: the counting allocator):
//!
//! | operation                     | tracelink | sdk      | tracelink / sdk |
//! |-------------------------------|----------:|---------:|----------------:|
//! | extract, ns (summary)         |     2,704 |    3,361 |            0.80 |
//! | extract, ns (criterion)       |     2,225 |    2,638 |            0.84 |
//! | extract, allocations          |        24 |       43 |                 |
//! | inject, ns (summary)          |     1,133 |    2,312 |            0.49 |
//! | inject, ns (criterion)        |       967 |    2,372 |            0.41 |
//! | inject, allocations           |         6 |       17 |                 |
//! | extract + inject, ns (summary)|     3,837 |    5,673 |            0.68 |
//! | traceparent only: extract, ns |       396 |      380 |            1.04 |
//! | traceparent only: inject, ns  |       279 |      624 |            0.45 |
//!
//! Extracting a `tracestate` is bounded by OpenTelemetry's `TraceState`, a
//! `VecDeque<(String, String)>`: 21 of tracelink's 24 allocations build it
//! (the SDK's parser builds each pair twice). Injecting writes the header in
//! one `String` sized up front, where the SDK formats each member apart.

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use http::{HeaderMap, HeaderName, HeaderValue};
use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry::Context;
use stats_alloc::{Region, StatsAlloc, INSTRUMENTED_SYSTEM};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/// Ten vendors' entries, 226 characters.
fn tracestate() -> String {
    (0..10)
        .map(|i| format!("vendor{i}=opaque{i}-t61rcWkgMzE"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A `HeaderMap` read as an OpenTelemetry `Extractor`.
struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }

    fn get_all(&self, key: &str) -> Option<Vec<&str>> {
        let values: Vec<&str> = self
            .0
            .get_all(key)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        (!values.is_empty()).then_some(values)
    }
}

/// A `HeaderMap` written as an OpenTelemetry `Injector`.
struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

type Propagator = Box<dyn TextMapPropagator + Send + Sync>;

fn propagators() -> [(&'static str, Propagator); 2] {
    [
        (
            "tracelink",
            Box::new(tracelink::propagation::TraceContextPropagator::new()),
        ),
        (
            "sdk",
            Box::new(opentelemetry_sdk::propagation::TraceContextPropagator::new()),
        ),
    ]
}

fn incoming() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert("traceparent", HeaderValue::from_static(TRACEPARENT));
    headers.insert(
        "tracestate",
        HeaderValue::from_str(&tracestate()).expect("ASCII"),
    );
    headers
}

fn extract(propagator: &Propagator, headers: &HeaderMap) -> Context {
    propagator.extract_with_context(&Context::new(), &HeaderExtractor(headers))
}

fn inject(propagator: &Propagator, cx: &Context, out: &mut HeaderMap) {
    out.clear();
    propagator.inject_context(cx, &mut HeaderInjector(out));
}

/// Both propagators read the same context and write the same headers.
fn check() {
    let headers = incoming();
    let [(_, ours), (_, sdk)] = propagators();
    let (a, b) = (extract(&ours, &headers), extract(&sdk, &headers));
    assert!(a.span().span_context().is_valid());
    assert_eq!(a.span().span_context(), b.span().span_context());
    let (mut x, mut y) = (HeaderMap::new(), HeaderMap::new());
    inject(&ours, &a, &mut x);
    inject(&sdk, &a, &mut y);
    assert_eq!(x, y);
    assert_eq!(x, headers);
}

fn bench(c: &mut Criterion) {
    check();
    let headers = incoming();
    let mut g = c.benchmark_group("propagation");
    for (name, propagator) in propagators() {
        g.bench_function(format!("extract/{name}"), |b| {
            b.iter(|| black_box(extract(&propagator, black_box(&headers))));
        });
        let cx = extract(&propagator, &headers);
        let mut out = HeaderMap::new();
        g.bench_function(format!("inject/{name}"), |b| {
            b.iter(|| inject(&propagator, black_box(&cx), black_box(&mut out)));
        });
    }
    g.finish();
}

criterion_group!(benches, bench);

// ---------------------------------------------------------------------------
// The summary.

/// ns and allocations per operation: the best of 7 rounds, then a counted one.
fn measure(mut op: impl FnMut()) -> (f64, f64) {
    const OPS: u32 = 200_000;
    for _ in 0..OPS / 10 {
        op();
    }
    let mut best = f64::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..OPS {
            op();
        }
        best = best.min(start.elapsed().as_nanos() as f64 / f64::from(OPS));
    }
    let region = Region::new(GLOBAL);
    for _ in 0..OPS {
        op();
    }
    (best, region.change().allocations as f64 / f64::from(OPS))
}

fn summary() {
    println!(
        "\nsummary (ns per operation: best of 7 rounds of 200k; allocations per operation; \
         traceparent + 10-member tracestate, http::HeaderMap):"
    );
    let headers = incoming();
    let mut results = Vec::new();
    for (name, propagator) in propagators() {
        let ex = measure(|| {
            black_box(extract(&propagator, black_box(&headers)));
        });
        let cx = extract(&propagator, &headers);
        let mut out = HeaderMap::new();
        let inj = measure(|| inject(&propagator, black_box(&cx), black_box(&mut out)));
        println!(
            "  {name:<9} extract {:>6.0} ns {:>5.1} allocs | inject {:>6.0} ns {:>5.1} allocs | both {:>6.0} ns",
            ex.0,
            ex.1,
            inj.0,
            inj.1,
            ex.0 + inj.0
        );
        results.push((ex.0, inj.0));
    }
    // The same without a `tracestate`: the parsers alone, without building
    // OpenTelemetry's `TraceState` (a `String` per key and per value).
    let mut bare = incoming();
    bare.remove("tracestate");
    for (name, propagator) in propagators() {
        let ex = measure(|| {
            black_box(extract(&propagator, black_box(&bare)));
        });
        let cx = extract(&propagator, &bare);
        let mut out = HeaderMap::new();
        let inj = measure(|| inject(&propagator, black_box(&cx), black_box(&mut out)));
        println!(
            "  {name:<9} traceparent only: extract {:>5.0} ns {:>4.1} allocs | inject {:>5.0} ns {:>4.1} allocs",
            ex.0, ex.1, inj.0, inj.1
        );
    }
    let (ours, sdk) = (results[0], results[1]);
    println!(
        "  tracelink / sdk: extract {:.2}, inject {:.2}, extract + inject {:.2}",
        ours.0 / sdk.0,
        ours.1 / sdk.1,
        (ours.0 + ours.1) / (sdk.0 + sdk.1),
    );
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs each bench once; the summary is for `cargo bench`.
    if std::env::args().any(|arg| arg == "--bench") {
        summary();
    }
}
