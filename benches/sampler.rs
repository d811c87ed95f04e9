//! The cost of each head sampler on a root span's whole life (new, enter,
//! exit, close; a sampled one exported to a discarding exporter), side by
//! side in one run, tracelink's layers as `init()` installs them:
//!
//! - `always_on`, `always_off`: the two constants, the floor of a sampled
//!   and of an unsampled span;
//! - `traceidratio`: `traceidratio(0.25)`;
//! - `probability`: the consistent `probability(0.25)`, which writes
//!   `ot=th:c` into a sampled span's tracestate;
//! - `ratelimiting`: `rate_limited` at a rate no loop reaches (every span
//!   sampled: the compare-and-swap's cost);
//! - `custom`: a `CustomSampler` that reads the span's name.
//!
//! Each is the root of `parent_based`, as `OTEL_TRACES_SAMPLER` makes it.
//! Run with `cargo bench --bench sampler`; after criterion's group a summary
//! prints ns per span and the difference from `always_on` (sampled) or
//! `always_off` (unsampled). `SAMPLER_BENCH_SETUP=<name>
//! SAMPLER_BENCH_SPANS=<n>` makes n spans and exits, for callgrind:
//!
//! ```text
//! for s in always_on always_off traceidratio probability ratelimiting custom; do
//!   for n in 2000 12000; do SAMPLER_BENCH_SETUP=$s SAMPLER_BENCH_SPANS=$n \
//!     valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/deps/sampler-* 2>&1 \
//!     | grep Collected; done; done
//! ```
//!
//! Measured 2026-12-08 that way (instructions per root span, all threads,
//! the export of sampled spans included; 2-core x86_64 VM):
//!
//! | sampler (root of parent_based) | kept   | instructions |
//! |--------------------------------|-------:|-------------:|
//! | always_on                      | all    |        7,505 |
//! | always_off                     | none   |        5,743 |
//! | traceidratio(0.25)             | 1 in 4 |        6,361 |
//! | probability(0.25)              | 1 in 4 |        7,366 |
//! | ratelimiting (never reached)   | all    |        8,065 |
//! | custom (reads the name)        | all    |        8,139 |
//!
//! `probability` keeps the same share as `traceidratio` but costs ~1,000
//! more a root span on average, ~4,000 a sampled one: its span carries a
//! tracestate (`ot=th:c`), and `opentelemetry`'s `TraceState` is a
//! `VecDeque` of `String`s that every clone of the span's context (context
//! activation, the span's end) copies. The rate limiter's and the custom
//! sampler's ~600 over `always_on` include the export thread's share, which
//! moves by a few hundred between runs.

#[path = "support/discard.rs"]
mod discard;
#[path = "support/run.rs"]
mod run;

use std::hint::black_box;
use std::time::Instant;

use criterion::{criterion_group, Criterion};
use discard::Discard;
use tracelink::trace::{CustomSampler, Sampler, SamplingInput};
use tracing::Dispatch;
use tracing_subscriber::layer::SubscriberExt;

/// Keeps what is not a health check.
#[derive(Debug)]
struct NoHealthChecks;

impl CustomSampler for NoHealthChecks {
    fn should_sample(&self, input: &SamplingInput<'_>) -> bool {
        !input.name.starts_with("GET /health")
    }
}

const SETUPS: [&str; 6] = [
    "always_on",
    "always_off",
    "traceidratio",
    "probability",
    "ratelimiting",
    "custom",
];

fn sampler(name: &str) -> Sampler {
    let root = match name {
        "always_on" => Sampler::always_on(),
        "always_off" => Sampler::always_off(),
        "traceidratio" => Sampler::trace_id_ratio(0.25),
        "probability" => Sampler::probability(0.25),
        "ratelimiting" => Sampler::rate_limited(1e12),
        "custom" => Sampler::custom(NoHealthChecks),
        other => panic!("unknown setup {other}"),
    };
    Sampler::parent_based(root)
}

fn setup(name: &str) -> (Dispatch, tracelink::Parts) {
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ])
        .with_span_exporter(Discard)
        .with_sampler(sampler(name))
        .build()
        .expect("tracelink builds");
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer());
    (Dispatch::new(subscriber), parts)
}

/// One root span's whole life, with one field.
#[inline]
fn one_span() {
    let span = tracing::info_span!("request", http.route = "/orders");
    let entered = span.enter();
    black_box(&entered);
    drop(entered);
    drop(span);
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("root_span_by_sampler");
    for name in SETUPS {
        let (dispatch, _parts) = setup(name);
        tracing::dispatcher::with_default(&dispatch, || {
            g.bench_function(name, |b| b.iter(one_span));
        });
    }
    g.finish();
}

fn summary() {
    const SPANS: u32 = 100_000;
    println!("\nsummary (best of 5 rounds of 100k root spans):");
    let mut ns = Vec::new();
    for name in SETUPS {
        let (dispatch, _parts) = setup(name);
        let best = tracing::dispatcher::with_default(&dispatch, || {
            (0..5)
                .map(|_| {
                    let start = Instant::now();
                    for _ in 0..SPANS {
                        one_span();
                    }
                    start.elapsed().as_nanos() as f64 / f64::from(SPANS)
                })
                .fold(f64::MAX, f64::min)
        });
        ns.push((name, best));
    }
    let of = |name: &str| ns.iter().find(|(n, _)| *n == name).map_or(0.0, |(_, v)| *v);
    for (name, best) in &ns {
        let floor = if *name == "always_off" {
            best
        } else {
            &of("always_on")
        };
        println!(
            "  {name:<13} {best:>6.0} ns  ({:+.0} ns from its floor)",
            best - floor
        );
    }
}

criterion_group!(benches, bench);

fn count_mode() -> bool {
    let (Ok(name), Ok(spans)) = (
        std::env::var("SAMPLER_BENCH_SETUP"),
        std::env::var("SAMPLER_BENCH_SPANS"),
    ) else {
        return false;
    };
    let spans: u32 = spans.parse().expect("SAMPLER_BENCH_SPANS is a number");
    let (dispatch, _parts) = setup(&name);
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..spans {
            one_span();
        }
    });
    true
}

fn main() {
    run::main(count_mode, benches, summary);
}
