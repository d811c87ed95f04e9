//! The real-peer harness that checks `/metrics`, proven on fixtures: the
//! official Python OpenMetrics parser accepts a hand-written valid exposition
//! and rejects broken ones with its own message, and a real Prometheus
//! scrapes a fixture server and stores its exemplars.
//!
//! Needs `scripts/install-test-deps.sh` to have run (Debian's `prometheus`,
//! and `target/test-venv` with `prometheus_client`). Without them these tests
//! fail, naming that script; they never skip.

#[path = "support/prometheus.rs"]
mod prometheus;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

use prometheus::{
    openmetrics_check, prometheus_text_check, unix_now, MetricsServer, Prometheus,
    OPENMETRICS_CONTENT_TYPE, PROMETHEUS_TEXT_CONTENT_TYPE,
};
use serde_json::Value;

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID: &str = "00f067aa0ba902b7";
const BUCKET_TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";
const BUCKET_SPAN_ID: &str = "b7ad6b7169203331";
const UNSTAMPED_TRACE_ID: &str = "5b8efff798038103d269b633813fc60c";

/// A valid OpenMetrics 1.0 exposition: a counter with an exemplar stamped
/// 1700000000.123, a histogram with `# UNIT` whose buckets carry exemplars:
/// one stamped `{NOW}` (replaced by [`fixture`]), one with no timestamp.
const FIXTURE: &str = r#"# HELP orders Orders placed, by shop.
# TYPE orders counter
orders_total{shop="main"} 3 # {trace_id="4bf92f3577b34da6a3ce929d0e0e4736",span_id="00f067aa0ba902b7"} 1 1700000000.123
orders_created{shop="main"} 1.6999999e+09
# HELP request_duration_seconds Time to answer a request.
# TYPE request_duration_seconds histogram
# UNIT request_duration_seconds seconds
request_duration_seconds_bucket{route="/a",le="0.01"} 0
request_duration_seconds_bucket{route="/a",le="0.1"} 1 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 0.042 {NOW}
request_duration_seconds_bucket{route="/a",le="1.0"} 2 # {trace_id="5b8efff798038103d269b633813fc60c"} 0.5
request_duration_seconds_bucket{route="/a",le="+Inf"} 2
request_duration_seconds_sum{route="/a"} 0.542
request_duration_seconds_count{route="/a"} 2
# HELP build_info Build information.
# TYPE build_info gauge
build_info{version="0.1.0"} 1
# EOF
"#;

/// [`FIXTURE`] with `{NOW}` replaced by `now`, in seconds with 3 decimals.
fn fixture(now: f64) -> String {
    FIXTURE.replace("{NOW}", &format!("{now:.3}"))
}

fn family<'a>(summary: &'a Value, name: &str) -> &'a Value {
    summary["families"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no family {name} in {summary:#}"))
}

fn sample<'a>(family: &'a Value, name: &str, label: (&str, &str)) -> &'a Value {
    family["samples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name && s["labels"][label.0] == label.1)
        .unwrap_or_else(|| {
            panic!(
                "no sample {name}{{{}={:?}}} in {family:#}",
                label.0, label.1
            )
        })
}

fn assert_close(actual: f64, expected: f64, what: &str) {
    assert!(
        (actual - expected).abs() < 1e-6,
        "{what}: {actual} != {expected}"
    );
}

#[test]
fn valid_openmetrics_fixture_passes_the_python_parser() {
    let summary = openmetrics_check(&fixture(1_700_000_001.5)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["format"], "openmetrics");

    let orders = family(&summary, "orders");
    assert_eq!(orders["type"], "counter");
    assert_eq!(orders["help"], "Orders placed, by shop.");
    let total = sample(orders, "orders_total", ("shop", "main"));
    assert_eq!(total["value"], 3.0);
    let exemplar = &total["exemplar"];
    assert_eq!(exemplar["labels"]["trace_id"], TRACE_ID);
    assert_eq!(exemplar["labels"]["span_id"], SPAN_ID);
    assert_eq!(exemplar["value"], 1.0);
    assert_close(
        exemplar["timestamp"].as_f64().unwrap(),
        1_700_000_000.123,
        "exemplar timestamp",
    );

    let histogram = family(&summary, "request_duration_seconds");
    assert_eq!(histogram["type"], "histogram");
    assert_eq!(histogram["unit"], "seconds");
    assert_eq!(histogram["help"], "Time to answer a request.");
    let bucket = sample(histogram, "request_duration_seconds_bucket", ("le", "0.1"));
    assert_eq!(bucket["exemplar"]["labels"]["trace_id"], BUCKET_TRACE_ID);
    assert_eq!(bucket["exemplar"]["labels"]["span_id"], BUCKET_SPAN_ID);
    assert_eq!(bucket["exemplar"]["value"], 0.042);
    assert_close(
        bucket["exemplar"]["timestamp"].as_f64().unwrap(),
        1_700_000_001.5,
        "bucket exemplar timestamp",
    );
    let unstamped = sample(histogram, "request_duration_seconds_bucket", ("le", "1.0"));
    assert_eq!(unstamped["exemplar"]["timestamp"], Value::Null);
    let inf = sample(histogram, "request_duration_seconds_bucket", ("le", "+Inf"));
    assert_eq!(inf["exemplar"], Value::Null);

    assert_eq!(family(&summary, "build_info")["type"], "gauge");
}

#[test]
fn invalid_openmetrics_fails_with_the_parsers_message() {
    let valid = fixture(1_700_000_001.5);
    let long_value = "a".repeat(128 - "trace_id".len() - "x".len() - TRACE_ID.len() + 1);
    let cases = [
        ("missing # EOF", valid.replace("# EOF\n", ""), "Missing # EOF at end"),
        (
            "exemplar on a gauge",
            valid.replace(
                "build_info{version=\"0.1.0\"} 1\n",
                "build_info{version=\"0.1.0\"} 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 1\n",
            ),
            "only histogram/gaugehistogram buckets and counters can have exemplars",
        ),
        (
            "raw newline in a label value",
            valid.replace("{shop=\"main\"} 3", "{shop=\"ma\nin\"} 3"),
            "Invalid labels",
        ),
        (
            "exemplar labels over 128 characters",
            valid.replace(
                "span_id=\"00f067aa0ba902b7\"}",
                &format!("x=\"{long_value}\"}}"),
            ),
            "Exemplar labels are too long",
        ),
        ("line after # EOF", format!("{valid}orders_total 4\n"), "Received line after # EOF"),
    ];
    for (what, body, expected) in cases {
        assert_ne!(body, valid, "{what}: the fixture edit did not apply");
        match openmetrics_check(&body) {
            Ok(summary) => panic!("{what}: the parser accepted it:\n{body}\n{summary:#}"),
            Err(e) => assert!(
                e.contains(expected),
                "{what}: expected {expected:?} in the parser's error {e:?}"
            ),
        }
    }
}

#[test]
fn prometheus_text_mode_uses_the_lax_0_0_4_parser() {
    let text = "# HELP orders_total Orders placed.\n# TYPE orders_total counter\n\
                orders_total{shop=\"main\"} 3\n";
    let summary = prometheus_text_check(text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary["format"], "prometheus-text-0.0.4");
    // prometheus_client maps 0.0.4 counters onto OpenMetrics families.
    let orders = family(&summary, "orders");
    assert_eq!(orders["type"], "counter");
    assert_eq!(
        sample(orders, "orders_total", ("shop", "main"))["value"],
        3.0
    );

    let err = prometheus_text_check("orders_total{shop=\"main} 3\n").unwrap_err();
    assert!(err.contains("invalid prometheus-text-0.0.4"), "{err}");

    // Lax: an OpenMetrics exemplar reads as a millisecond timestamp, where a
    // real Prometheus fails the scrape (see the test below). Text 0.0.4 output
    // needs a real scrape, not only this check.
    let with_exemplar = "orders_total 3 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 1\n";
    let summary = prometheus_text_check(with_exemplar).unwrap_or_else(|e| panic!("{e}"));
    let total = &family(&summary, "orders_total")["samples"][0];
    assert_eq!(total["exemplar"], Value::Null);
    assert_eq!(total["timestamp"], 0.001);
}

#[test]
fn real_prometheus_scrapes_the_fixture_and_stores_its_exemplars() {
    let started = unix_now();
    let server = MetricsServer::serve(OPENMETRICS_CONTENT_TYPE, move || fixture(unix_now()));
    openmetrics_check(&fixture(started))
        .unwrap_or_else(|e| panic!("the served fixture is invalid: {e}"));
    let prometheus = Prometheus::start(server.addr());

    let targets = prometheus.wait_for_target_up(Duration::from_secs(30));
    assert_eq!(targets.len(), 1);
    let target = &targets[0];
    assert_eq!(target["health"], "up");
    assert_eq!(target["lastError"], "");
    assert_eq!(
        target["scrapeUrl"],
        format!("http://{}/metrics", server.addr())
    );
    assert_eq!(target["labels"]["job"], "tracelink");

    // Prometheus 2.42 asks for OpenMetrics 1.0 first.
    let requests = server.requests();
    let accept = requests[0].header("accept").unwrap_or_default();
    assert!(
        accept.starts_with("application/openmetrics-text;version=1.0.0"),
        "Accept: {accept}"
    );
    assert_eq!(requests[0].request_line, "GET /metrics HTTP/1.1");

    // The counter's exemplar keeps its own timestamp (2023): it is found
    // in a window around that, with its trace and span ids.
    let exemplars = prometheus.query_exemplars_between(
        "orders_total",
        1_699_999_990.0,
        1_700_000_010.0,
        Duration::from_secs(30),
    );
    assert_eq!(exemplars.len(), 1, "{exemplars:#?}");
    let e = &exemplars[0];
    assert_eq!(e.labels["trace_id"], TRACE_ID);
    assert_eq!(e.labels["span_id"], SPAN_ID);
    assert_eq!(e.value, 1.0);
    assert_close(e.timestamp, 1_700_000_000.123, "stored exemplar timestamp");
    assert_eq!(e.series_labels["__name__"], "orders_total");
    assert_eq!(e.series_labels["shop"], "main");
    assert_eq!(e.series_labels["job"], "tracelink");
    assert_eq!(e.series_labels["instance"], server.addr().to_string());
    // ... and not in the last hour.
    assert!(prometheus
        .exemplars_between("orders_total", unix_now() - 3600.0, unix_now() + 60.0)
        .is_empty());

    // Let a few more scrapes happen, to see how repeated exemplars are kept.
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.requests().len() < 4 {
        assert!(Instant::now() < deadline, "Prometheus stopped scraping");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(300));

    let exemplars =
        prometheus.query_exemplars("request_duration_seconds_bucket", Duration::from_secs(30));
    let now = unix_now();
    let stamped: Vec<_> = exemplars
        .iter()
        .filter(|e| e.labels["trace_id"] == BUCKET_TRACE_ID)
        .collect();
    let unstamped: Vec<_> = exemplars
        .iter()
        .filter(|e| e.labels["trace_id"] == UNSTAMPED_TRACE_ID)
        .collect();
    assert_eq!(
        stamped.len() + unstamped.len(),
        exemplars.len(),
        "{exemplars:#?}"
    );
    // One exemplar stamped at render time per scrape: a new timestamp makes
    // a new exemplar.
    assert!(stamped.len() >= 2, "{exemplars:#?}");
    for e in &stamped {
        assert_eq!(e.series_labels["le"], "0.1");
        assert_eq!(e.labels["span_id"], BUCKET_SPAN_ID);
        assert_eq!(e.value, 0.042);
        assert!(
            started - 0.01 <= e.timestamp && e.timestamp <= now,
            "{e:?}, started {started}, now {now}"
        );
    }
    // The exemplar with no timestamp gets the first scrape's, and scrapes
    // that repeat it (same labels and value) add nothing.
    assert_eq!(unstamped.len(), 1, "{exemplars:#?}");
    assert_eq!(unstamped[0].series_labels["le"], "1.0");
    assert_eq!(unstamped[0].value, 0.5);
    assert!(started - 1.0 <= unstamped[0].timestamp && unstamped[0].timestamp <= now);

    // Samples: the counter, and OpenMetrics' `_created` as a plain series.
    let result = prometheus.query("orders_total");
    assert_eq!(result["result"][0]["value"][1], "3", "{result:#}");
    let result = prometheus.query("orders_created");
    assert_eq!(result["result"][0]["value"][1], "1699999900", "{result:#}");
    let result = prometheus.query("request_duration_seconds_count");
    assert_eq!(result["result"][0]["value"][1], "2", "{result:#}");
}

/// The same peer on bad expositions: each failure shows up as the target's
/// lastError, and the harness's waits fail instead of passing.
#[test]
fn real_prometheus_reports_what_it_rejects() {
    let valid = fixture(unix_now());
    let no_eof = MetricsServer::fixed(OPENMETRICS_CONTENT_TYPE, &valid.replace("# EOF\n", ""));
    let gauge_exemplar = MetricsServer::fixed(
        OPENMETRICS_CONTENT_TYPE,
        "# TYPE build_info gauge\nbuild_info 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\"} 1\n# EOF\n",
    );
    // OpenMetrics exemplars are not part of text format 0.0.4.
    let text_with_exemplar = MetricsServer::fixed(PROMETHEUS_TEXT_CONTENT_TYPE, &valid);
    // Over OpenMetrics' 128-character limit for exemplar labels: the Python
    // parser rejects it, Prometheus drops the exemplar and keeps the sample.
    let long = format!(
        "# TYPE long counter\nlong_total 7 # {{trace_id=\"{TRACE_ID}\",x=\"{}\"}} 1\n# EOF\n",
        "a".repeat(88)
    );
    assert!(openmetrics_check(&long)
        .unwrap_err()
        .contains("Exemplar labels are too long"));
    let long_exemplar = MetricsServer::fixed(OPENMETRICS_CONTENT_TYPE, &long);

    let prometheus = Prometheus::start_scraping(&[
        no_eof.addr(),
        gauge_exemplar.addr(),
        text_with_exemplar.addr(),
        long_exemplar.addr(),
    ]);
    let cases = [
        (&no_eof, "data does not end with # EOF"),
        (
            &gauge_exemplar,
            "metric name build_info does not support exemplars",
        ),
        (&text_with_exemplar, "expected timestamp or new record"),
    ];
    for (server, expected) in cases {
        // Polled, not read off the first scrape: on a loaded machine that one
        // may have timed out instead.
        let target = prometheus.wait_for_target(
            server.addr(),
            Duration::from_secs(30),
            &format!("down with {expected:?}"),
            |t| {
                t["lastError"]
                    .as_str()
                    .unwrap_or_default()
                    .contains(expected)
            },
        );
        assert_eq!(target["health"], "down", "{target:#}");
    }

    let target = prometheus.wait_for_up(long_exemplar.addr(), Duration::from_secs(30));
    assert_eq!(target["health"], "up", "{target:#}");
    assert_eq!(target["lastError"], "");
    assert_eq!(prometheus.query("long_total")["result"][0]["value"][1], "7");
    assert!(prometheus
        .exemplars_between("long_total", 0.0, unix_now() + 60.0)
        .is_empty());

    // The harness's own waits fail on them, with what they saw.
    let waited = catch_unwind(AssertUnwindSafe(|| {
        prometheus.wait_for_target_up(Duration::from_secs(2))
    }));
    assert!(
        waited.is_err(),
        "wait_for_target_up passed with targets down"
    );
    let waited = catch_unwind(AssertUnwindSafe(|| {
        prometheus.query_exemplars("long_total", Duration::from_secs(2))
    }));
    assert!(
        waited.is_err(),
        "query_exemplars found an exemplar Prometheus dropped"
    );
}
