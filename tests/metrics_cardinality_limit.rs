//! Past its cardinality limit (2,000 series by default, as the OpenTelemetry
//! SDK's), a metric's new label sets go to its one overflow series,
//! `{otel_metric_overflow="true"}`: 10,000 label values give the limit's
//! series plus that one, totals exact, the folded registrations counted in
//! `tracelink_metrics_overflow_total`, all of it accepted by the strict
//! OpenMetrics parser; and memory stays at the limit's series however many
//! label values come.
//!
//! No globals: a recorder of its own per test (the memory test in a child
//! process, so that nothing else moves its resident size).

#[path = "support/prometheus.rs"]
mod prometheus;
mod support;

use serde_json::Value;
use tracelink::metrics::{Format, MetricsConfig, MetricsRecorder};

const VALUES: usize = 10_000;
const LIMIT: usize = 2_000;

/// The samples named `name` in the checker's summary of a body.
fn samples<'a>(summary: &'a Value, name: &str) -> Vec<&'a Value> {
    summary["families"]
        .as_array()
        .expect("families")
        .iter()
        .flat_map(|f| f["samples"].as_array().expect("samples"))
        .filter(|s| s["name"] == name)
        .collect()
}

fn is_overflow(sample: &Value) -> bool {
    sample["labels"]["otel_metric_overflow"] == "true"
}

#[test]
fn ten_thousand_label_values_keep_the_limit_and_one_overflow_series() {
    let recorder = MetricsRecorder::new(MetricsConfig::default());
    metrics::with_local_recorder(&recorder, || {
        for i in 0..VALUES {
            let user = format!("user-{i:05}");
            metrics::counter!("logins_total", "user" => user.clone()).increment(2);
            metrics::histogram!("login_seconds", "user" => user.clone()).record(0.2);
            metrics::gauge!("sessions", "user" => user).set(1.0);
        }
        // A label set that has its own series keeps it.
        metrics::counter!("logins_total", "user" => "user-00007").increment(1);
    });
    let body = recorder.handle().render(Format::OpenMetrics);
    let summary = prometheus::openmetrics_check(&body).unwrap_or_else(|e| panic!("{e}"));
    let folded = (VALUES - LIMIT) as f64;

    let logins = samples(&summary, "logins_total");
    assert_eq!(
        logins.len(),
        LIMIT + 1,
        "the limit's series and the overflow series"
    );
    let overflow: Vec<_> = logins.iter().filter(|s| is_overflow(s)).collect();
    assert_eq!(overflow.len(), 1);
    assert_eq!(
        overflow[0]["labels"].as_object().map(serde_json::Map::len),
        Some(1)
    );
    assert_eq!(overflow[0]["value"], 2.0 * folded);
    let total: f64 = logins.iter().map(|s| s["value"].as_f64().unwrap()).sum();
    assert_eq!(
        total,
        2.0 * VALUES as f64 + 1.0,
        "no sample lost or counted twice"
    );
    let kept = logins
        .iter()
        .find(|s| s["labels"]["user"] == "user-00007")
        .expect("an early label set keeps its series");
    assert_eq!(kept["value"], 3.0);
    assert!(
        !logins.iter().any(|s| s["labels"]["user"] == "user-09999"),
        "a late label set has no series"
    );

    let counts = samples(&summary, "login_seconds_count");
    assert_eq!(counts.len(), LIMIT + 1);
    let overflow = counts
        .iter()
        .find(|s| is_overflow(s))
        .expect("overflow histogram");
    assert_eq!(overflow["value"], folded);
    let buckets = samples(&summary, "login_seconds_bucket");
    assert_eq!(buckets.len(), (LIMIT + 1) * 12, "11 bounds and +Inf");

    let sessions = samples(&summary, "sessions");
    assert_eq!(sessions.len(), LIMIT + 1);
    assert_eq!(
        sessions
            .iter()
            .find(|s| is_overflow(s))
            .expect("overflow gauge")["value"],
        1.0
    );

    let mut overflowed: Vec<(String, f64)> = samples(&summary, "tracelink_metrics_overflow_total")
        .iter()
        .map(|s| {
            (
                s["labels"]["metric"].as_str().unwrap().to_owned(),
                s["value"].as_f64().unwrap(),
            )
        })
        .collect();
    overflowed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        overflowed,
        [
            ("login_seconds".to_owned(), folded),
            ("logins".to_owned(), folded),
            ("sessions".to_owned(), folded),
        ]
    );
}

#[test]
fn a_limit_of_one_keeps_one_label_set() {
    let recorder = MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(1));
    assert_eq!(recorder.cardinality_limit(), 1);
    assert_eq!(
        MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(0))
            .cardinality_limit(),
        1
    );
    assert_eq!(
        MetricsRecorder::new(MetricsConfig::default().with_cardinality_limit(usize::MAX))
            .cardinality_limit(),
        tracelink::metrics::MAX_CARDINALITY_LIMIT
    );
    metrics::with_local_recorder(&recorder, || {
        metrics::counter!("jobs_total", "queue" => "a").increment(1);
        metrics::counter!("jobs_total", "queue" => "b").increment(1);
        metrics::counter!("jobs_total", "queue" => "c").increment(1);
        metrics::counter!("jobs_total", "queue" => "a").increment(1);
        metrics::counter!("other_total").increment(1);
    });
    let body = recorder.handle().render(Format::OpenMetrics);
    prometheus::openmetrics_check(&body).unwrap_or_else(|e| panic!("{e}\n{body}"));
    assert!(body.contains("jobs_total{queue=\"a\"} 2\n"), "{body}");
    assert!(
        body.contains("jobs_total{otel_metric_overflow=\"true\"} 2\n"),
        "{body}"
    );
    assert!(
        body.contains("other_total 1\n"),
        "one limit per metric: {body}"
    );
    assert!(
        body.contains("tracelink_metrics_overflow_total{metric=\"jobs\"} 2\n"),
        "{body}"
    );
}

/// Resident memory, in bytes (Linux).
fn rss() -> usize {
    let statm = std::fs::read_to_string("/proc/self/statm").expect("/proc/self/statm");
    let pages: usize = statm.split(' ').nth(1).unwrap().parse().unwrap();
    pages * 4096
}

#[test]
fn memory_stays_at_the_limits_series_past_it() {
    const MANY: usize = 200_000;
    if support::in_child() {
        let recorder = MetricsRecorder::new(MetricsConfig::default());
        let handle = recorder.handle();
        metrics::with_local_recorder(&recorder, || {
            for i in 0..LIMIT {
                metrics::counter!("requests_total", "request_id" => format!("{i:032}"))
                    .increment(1);
            }
        });
        let before = rss();
        metrics::with_local_recorder(&recorder, || {
            for i in LIMIT..MANY {
                metrics::counter!("requests_total", "request_id" => format!("{i:032}"))
                    .increment(1);
            }
        });
        let grown = rss().saturating_sub(before);
        let body = handle.render(Format::OpenMetrics);
        println!("grown={grown} body={}", body.len());
        assert!(
            grown < 8 << 20,
            "{MANY} label values grew the resident size by {grown} bytes"
        );
        assert!(body.len() < 512 << 10, "a {} byte body", body.len());
        assert!(body.contains(&format!(
            "requests_total{{otel_metric_overflow=\"true\"}} {}\n",
            MANY - LIMIT
        )));
        return;
    }
    let output = support::rerun(
        "memory_stays_at_the_limits_series_past_it",
        &[("OTEL_LOG_LEVEL", "none")],
    );
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
