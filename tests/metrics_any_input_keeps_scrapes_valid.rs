//! Whatever a service records (any metric names, label keys and values, any
//! numbers, in any order), every body tracelink renders passes the strict
//! OpenMetrics parser and the Prometheus text parser (the official Python
//! client's, all bodies of a run in one Python process), and a real
//! Prometheus scrapes a sample of them, in both formats, with no error. The
//! cases the issue names are pinned too, with what they turn into.
//!
//! No globals: each case records into a recorder of its own.
//!
//! Needs `scripts/install-test-deps.sh` (run by `scripts/test.sh`).

#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use tracelink::metrics::{ExemplarFilter, Format, MetricsConfig, MetricsRecorder};
use tracing_subscriber::layer::SubscriberExt;

use prometheus::BodyFormat;

#[derive(Clone, Debug)]
enum CounterOp {
    Increment(u64),
    Absolute(u64),
}

#[derive(Clone, Debug)]
enum GaugeOp {
    Set(f64),
    Increment(f64),
    Decrement(f64),
}

type Labels = Vec<(String, String)>;

#[derive(Clone, Debug)]
enum Op {
    Counter(String, Labels, CounterOp),
    Gauge(String, Labels, GaugeOp),
    Histogram(String, Labels, Vec<f64>),
    Describe(u8, String, Option<metrics::Unit>, String),
}

fn name() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        "",
        "_total",
        "x",
        "x_total",
        "x_count",
        "x_sum",
        "x_bucket",
        "x_created",
        "x_info",
        "y",
        "y_count",
        "y_total",
        "le",
        "quantile",
        "__name__",
        "1x",
        "x.y",
        "x-y",
        "shop_seconds",
        "shop_bytes",
        "tracelink_metrics_overflow_total",
        "tracelink_metrics_refused",
    ]);
    prop_oneof![
        4 => tricky.prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-z_.:]{0,4}(_total|_count|_sum|_bucket|_created)?",
    ]
}

fn label_key() -> impl Strategy<Value = String> {
    let tricky = prop::sample::select(vec![
        "",
        "le",
        "quantile",
        "__name__",
        "a",
        "a.b",
        "a_b",
        "otel_metric_overflow",
        "1",
        "_",
    ]);
    prop_oneof![3 => tricky.prop_map(str::to_owned), 1 => any::<String>()]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["", "true", "x"]).prop_map(str::to_owned),
        any::<String>(),
        "[\"\\\\\n\r\t\u{0}\u{1b}\u{85}\u{2028}\u{202e}a]{0,6}",
    ]
}

fn labels() -> impl Strategy<Value = Labels> {
    prop::collection::vec((label_key(), label_value()), 0..4)
}

fn float() -> impl Strategy<Value = f64> {
    prop_oneof![
        any::<f64>(),
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        -2.0..2.0,
    ]
}

fn op() -> impl Strategy<Value = Op> {
    let unit = prop::sample::select(vec![
        None,
        Some(metrics::Unit::Seconds),
        Some(metrics::Unit::Bytes),
        Some(metrics::Unit::Percent),
        Some(metrics::Unit::Milliseconds),
    ]);
    prop_oneof![
        3 => (name(), labels(), prop_oneof![
            any::<u64>().prop_map(CounterOp::Increment),
            (0..5u64).prop_map(CounterOp::Increment),
            any::<u64>().prop_map(CounterOp::Absolute),
        ]).prop_map(|(n, l, o)| Op::Counter(n, l, o)),
        2 => (name(), labels(), prop_oneof![
            float().prop_map(GaugeOp::Set),
            float().prop_map(GaugeOp::Increment),
            float().prop_map(GaugeOp::Decrement),
        ]).prop_map(|(n, l, o)| Op::Gauge(n, l, o)),
        3 => (name(), labels(), prop::collection::vec(float(), 0..4))
            .prop_map(|(n, l, v)| Op::Histogram(n, l, v)),
        1 => (0..3u8, name(), unit, any::<String>())
            .prop_map(|(k, n, u, h)| Op::Describe(k, n, u, h)),
    ]
}

fn key(name: &str, labels: &Labels) -> metrics::Key {
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(k, v)| metrics::Label::new(k.clone(), v.clone()))
        .collect();
    metrics::Key::from_parts(name.to_owned(), labels)
}

/// Records `ops` through the `metrics` API, inside a span (every sample
/// carries an exemplar), into a recorder with a small cardinality limit, and
/// renders both formats.
fn render(dispatch: &tracing::Dispatch, ops: &[Op]) -> (String, String) {
    let recorder = MetricsRecorder::new(
        MetricsConfig::default()
            .with_exemplar_filter(ExemplarFilter::AlwaysOn)
            .with_cardinality_limit(3),
    );
    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!("case");
        let _entered = span.enter();
        metrics::with_local_recorder(&recorder, || {
            metrics::with_recorder(|r| {
                let meta = metrics::Metadata::new("test", metrics::Level::INFO, None);
                for op in ops {
                    match op {
                        Op::Counter(name, labels, how) => {
                            let counter = r.register_counter(&key(name, labels), &meta);
                            match how {
                                CounterOp::Increment(value) => counter.increment(*value),
                                CounterOp::Absolute(value) => counter.absolute(*value),
                            }
                        }
                        Op::Gauge(name, labels, how) => {
                            let gauge = r.register_gauge(&key(name, labels), &meta);
                            match how {
                                GaugeOp::Set(value) => gauge.set(*value),
                                GaugeOp::Increment(value) => gauge.increment(*value),
                                GaugeOp::Decrement(value) => gauge.decrement(*value),
                            }
                        }
                        Op::Histogram(name, labels, values) => {
                            let histogram = r.register_histogram(&key(name, labels), &meta);
                            for value in values {
                                histogram.record(*value);
                            }
                        }
                        Op::Describe(kind, name, unit, help) => {
                            let name = metrics::KeyName::from(name.clone());
                            let help = metrics::SharedString::from(help.clone());
                            match kind {
                                0 => r.describe_counter(name, *unit, help),
                                1 => r.describe_gauge(name, *unit, help),
                                _ => r.describe_histogram(name, *unit, help),
                            }
                        }
                    }
                }
            });
        });
    });
    let handle = recorder.handle();
    (
        handle.render(Format::OpenMetrics),
        handle.render(Format::PrometheusText),
    )
}

fn dispatch() -> (tracelink::Parts, tracing::Dispatch) {
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_FORMAT", "none"),
            ("OTEL_LOG_LEVEL", "none"),
        ])
        .build()
        .expect("build");
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(parts.layer()));
    (parts, dispatch)
}

fn runner() -> (TestRunner, String) {
    let seed = std::env::var("TRACELINK_PROPTEST_SEED").unwrap_or_else(|_| {
        format!(
            "{:x}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        )
    });
    let mut bytes = [0u8; 32];
    for (i, b) in seed.bytes().enumerate() {
        bytes[i % 32] ^= b.wrapping_mul(31).wrapping_add(i as u8);
    }
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &bytes);
    (TestRunner::new_with_rng(Config::default(), rng), seed)
}

fn first_failure(bodies: &[(BodyFormat, String)]) -> Option<(usize, String)> {
    prometheus::check_batch(bodies)
        .into_iter()
        .enumerate()
        .find_map(|(i, e)| e.map(|e| (i, e)))
}

fn both(open: String, text: String) -> [(BodyFormat, String); 2] {
    [
        (BodyFormat::OpenMetrics, open),
        (BodyFormat::PrometheusText, text),
    ]
}

const CASES: usize = 400;

#[test]
fn any_metrics_calls_render_bodies_the_strict_parsers_accept() {
    let (_parts, dispatch) = dispatch();
    let (mut runner, seed) = runner();
    let strategy = prop::collection::vec(op(), 1..14);
    let mut trees = Vec::with_capacity(CASES);
    let mut bodies = Vec::with_capacity(CASES * 2);
    for _ in 0..CASES {
        let tree = strategy.new_tree(&mut runner).expect("a case");
        let (open, text) = render(&dispatch, &tree.current());
        bodies.extend(both(open, text));
        trees.push(tree);
    }
    let Some((failed, _)) = first_failure(&bodies) else {
        return;
    };
    // Shrink the failing case, one Python run per step, to the smallest
    // list of calls that still fails.
    let mut tree = trees.swap_remove(failed / 2);
    let mut failing = tree.current();
    for _ in 0..300 {
        if !tree.simplify() {
            break;
        }
        let (open, text) = render(&dispatch, &tree.current());
        if first_failure(&both(open, text)).is_some() {
            failing = tree.current();
        } else if !tree.complicate() {
            break;
        }
    }
    let (open, text) = render(&dispatch, &failing);
    let (which, error) =
        first_failure(&both(open.clone(), text.clone())).expect("the shrunk case still fails");
    let body = if which == 0 { open } else { text };
    panic!(
        "a body fails the {} parser (TRACELINK_PROPTEST_SEED={seed}):\n{error}\n\
         calls: {failing:#?}\nbody:\n{body}",
        if which == 0 {
            "OpenMetrics"
        } else {
            "Prometheus text"
        }
    );
}

/// A sample of generated bodies, served as they are, scraped by Debian's
/// Prometheus in both formats: every target up, no error.
#[test]
fn prometheus_scrapes_generated_bodies_in_both_formats() {
    const SERVED: usize = 24;
    let (_parts, dispatch) = dispatch();
    let (mut runner, seed) = runner();
    let strategy = prop::collection::vec(op(), 1..14);
    let mut servers = Vec::new();
    let mut cases = Vec::new();
    for _ in 0..SERVED {
        let ops = strategy.new_tree(&mut runner).expect("a case").current();
        let (open, text) = render(&dispatch, &ops);
        servers.push(prometheus::MetricsServer::fixed(
            prometheus::OPENMETRICS_CONTENT_TYPE,
            &open,
        ));
        servers.push(prometheus::MetricsServer::fixed(
            prometheus::PROMETHEUS_TEXT_CONTENT_TYPE,
            &text,
        ));
        cases.push((ops, open, text));
    }
    let addrs: Vec<_> = servers
        .iter()
        .map(prometheus::MetricsServer::addr)
        .collect();
    let prom = prometheus::Prometheus::start_scraping(&addrs);
    let deadline = Instant::now() + Duration::from_secs(90);
    let mut pending: Vec<usize> = (0..addrs.len()).collect();
    while !pending.is_empty() {
        let targets = prom.targets();
        let active = targets["activeTargets"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        pending.retain(|&i| {
            let url = format!("http://{}/metrics", addrs[i]);
            let Some(t) = active.iter().find(|t| t["scrapeUrl"] == url.as_str()) else {
                return true;
            };
            let error = t["lastError"].as_str().unwrap_or_default();
            if t["health"] == "up" && error.is_empty() {
                return false;
            }
            // A slow scrape on a loaded machine is polled again; any other
            // error is the body's.
            let slow = error.contains("deadline") || error.contains("timeout");
            if !error.is_empty() && !slow {
                let (ops, open, text) = &cases[i / 2];
                panic!(
                    "Prometheus rejects a {} body (TRACELINK_PROPTEST_SEED={seed}): {error}\n\
                     calls: {ops:#?}\nbody:\n{}",
                    if i % 2 == 0 {
                        "OpenMetrics"
                    } else {
                        "Prometheus text"
                    },
                    if i % 2 == 0 { open } else { text }
                );
            }
            true
        });
        assert!(
            Instant::now() < deadline,
            "targets {pending:?} never scraped: {targets}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn record_the_issues_cases() -> MetricsRecorder {
    let recorder = MetricsRecorder::new(MetricsConfig::default());
    metrics::with_local_recorder(&recorder, || {
        // The three bad names of the issue.
        metrics::counter!("").increment(1);
        metrics::counter!("_total").increment(2);
        metrics::counter!("jobs_total", "" => "x").increment(3);
        // Negative and infinite observations.
        metrics::histogram!("offset_seconds").record(-0.5);
        metrics::histogram!("size_bytes").record(f64::INFINITY);
        metrics::histogram!("size_bytes").record(f64::NAN);
        // Names that clash across kinds: the first recorded keeps its name.
        metrics::counter!("x").increment(1);
        metrics::gauge!("x_total").set(1.0);
        metrics::histogram!("y").record(1.0);
        metrics::counter!("y_count").increment(1);
        metrics::gauge!("z").set(1.0);
        metrics::counter!("z").increment(1);
        // Reserved label names, a name starting with a digit.
        metrics::histogram!("latency_seconds", "le" => "1", "quantile" => "0.5").record(0.2);
        metrics::gauge!("9lives", "__name__" => "evil", "1st" => "a").set(f64::NAN);
        // A second call of a refused metric is counted, not warned about.
        metrics::counter!("").increment(1);
    });
    recorder
}

#[test]
fn the_issues_cases_render_a_body_the_strict_parser_accepts() {
    let handle = record_the_issues_cases().handle();
    let open = handle.render(Format::OpenMetrics);
    prometheus::openmetrics_check(&open).unwrap_or_else(|e| panic!("{e}\n{open}"));
    let text = handle.render(Format::PrometheusText);
    prometheus::prometheus_text_check(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    for line in [
        "jobs_total{label_=\"x\"} 3\n",
        // No `_sum` (nor `_count`) after a negative observation.
        "offset_seconds_bucket{le=\"0.005\"} 1\n",
        "offset_seconds_bucket{le=\"+Inf\"} 1\n",
        "size_bytes_bucket{le=\"+Inf\"} 1\n",
        "size_bytes_sum +Inf\n",
        "size_bytes_count 1\n",
        "x_total 1\n",
        "y_count 1\n",
        "z 1.0\n",
        "latency_seconds_bucket{label_le=\"1\",quantile=\"0.5\",le=\"0.25\"} 1\n",
        "_9lives{label_1st=\"a\",label___name__=\"evil\"} NaN\n",
        "tracelink_metrics_nan_dropped_total{metric=\"size_bytes\"} 1\n",
        "tracelink_metrics_refused_total{kind=\"counter\",metric=\"\",reason=\"empty_name\"} 2\n",
        "tracelink_metrics_refused_total{kind=\"counter\",metric=\"_total\",reason=\"empty_name\"} 1\n",
        "tracelink_metrics_refused_total{kind=\"gauge\",metric=\"x_total\",reason=\"name_clash\"} 1\n",
        "tracelink_metrics_refused_total{kind=\"counter\",metric=\"y_count\",reason=\"name_clash\"} 1\n",
        "tracelink_metrics_refused_total{kind=\"counter\",metric=\"z\",reason=\"name_clash\"} 1\n",
    ] {
        assert!(open.contains(line), "no {line:?} in\n{open}");
    }
    assert!(!open.contains("offset_seconds_sum") && !open.contains("offset_seconds_count"));
    assert!(!open.contains("x_total 1.0") && !open.contains("# TYPE z counter"));
}

/// Each refused metric is warned about once, however often it is recorded,
/// and the warning names it; so is a metric that reaches its limit.
#[test]
fn each_refused_or_overflowing_metric_is_warned_about_once() {
    if support::in_child() {
        record_the_issues_cases();
        let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(2));
        metrics::with_local_recorder(&recorder, || {
            for i in 0..100 {
                metrics::counter!("").increment(1);
                metrics::counter!("logins_total", "user" => i.to_string()).increment(1);
            }
        });
        return;
    }
    let output = support::rerun(
        "each_refused_or_overflowing_metric_is_warned_about_once",
        &[],
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("tracelink:"))
        .collect();
    let count = |needle: &str| warnings.iter().filter(|l| l.contains(needle)).count();
    // The issue's cases, then the same "" once more in a second recorder.
    assert_eq!(
        count("counter \"\" is refused: its name is empty;"),
        2,
        "{stderr}"
    );
    assert_eq!(
        count("counter \"_total\" is refused: its name is empty once _total is removed"),
        1,
        "{stderr}"
    );
    assert_eq!(
        count("gauge \"x_total\" is refused: it would write x_total, which a counter x writes already"),
        1,
        "{stderr}"
    );
    assert_eq!(
        count("counter \"y_count\" is refused: it would write y_count, which a histogram y writes already"),
        1,
        "{stderr}"
    );
    assert_eq!(
        count("counter \"z\" is refused: a gauge z has that name already"),
        1,
        "{stderr}"
    );
    assert_eq!(
        count("counter \"logins\" has reached its cardinality limit of 2 series"),
        1,
        "{stderr}"
    );
    assert_eq!(warnings.len(), 7, "{stderr}");
}
