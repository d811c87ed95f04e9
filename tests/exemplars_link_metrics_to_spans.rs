//! Counters and histogram buckets recorded inside a sampled span carry that
//! span's ids as an OpenMetrics exemplar; nothing else does.

use opentelemetry::trace::TraceContextExt;
use tracelink::{
    metrics::ExemplarFilter, metrics::Format, metrics::Matcher, metrics::MetricsConfig,
    metrics::MetricsRecorder, trace::Sampler,
};
use tracing_opentelemetry::OpenTelemetrySpanExt;
use tracing_subscriber::layer::SubscriberExt;

/// Runs `f` under a tracelink subscriber with `sampler`, recording into a new
/// recorder with `config`; returns the OpenMetrics body.
fn record(sampler: Sampler, config: MetricsConfig, f: impl FnOnce()) -> String {
    let parts = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_LOG_FORMAT", "none"),
        ])
        .with_sampler(sampler)
        .build()
        .expect("build");
    let subscriber = tracing_subscriber::registry()
        .with(parts.filter())
        .with(parts.otel_layer());
    let recorder = MetricsRecorder::new(config);
    tracing::subscriber::with_default(subscriber, || metrics::with_local_recorder(&recorder, f));
    recorder.handle().render(Format::OpenMetrics)
}

fn ids_of(span: &tracing::Span) -> (String, String) {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    (sc.trace_id().to_string(), sc.span_id().to_string())
}

fn line<'a>(body: &'a str, prefix: &str) -> &'a str {
    body.lines()
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line {prefix}:\n{body}"))
}

#[test]
fn samples_in_a_sampled_span_carry_its_ids() {
    let mut ids = None;
    let body = record(
        Sampler::always_on(),
        MetricsConfig::default().with_buckets(Matcher::Full("latency_seconds".into()), &[0.1, 1.0]),
        || {
            let span = tracing::info_span!("request");
            let _entered = span.enter();
            ids = Some(ids_of(&span));
            metrics::counter!("orders_total", "shop" => "main").increment(2);
            metrics::histogram!("latency_seconds").record(0.25);
            metrics::gauge!("queue_depth").set(7.0);
        },
    );
    let (trace_id, span_id) = ids.unwrap();
    let exemplar = format!("# {{trace_id=\"{trace_id}\",span_id=\"{span_id}\"}}");
    let counter = line(&body, "orders_total{shop=\"main\"} 2");
    assert!(counter.contains(&format!("{exemplar} 2.0 ")), "{counter}");
    // The bucket the value fell in carries it; the others do not.
    assert!(line(&body, "latency_seconds_bucket{le=\"1.0\"} 1").contains(&exemplar));
    assert!(!line(&body, "latency_seconds_bucket{le=\"0.1\"} 0").contains('#'));
    assert!(!line(&body, "latency_seconds_bucket{le=\"+Inf\"} 1").contains('#'));
    for never in [
        "latency_seconds_sum",
        "latency_seconds_count",
        "queue_depth",
    ] {
        assert!(
            !line(&body, never).contains('#'),
            "{never} carries an exemplar"
        );
    }
    // Plain decimal seconds.
    let timestamp = counter.rsplit(' ').next().unwrap();
    assert!(timestamp.parse::<f64>().unwrap() > 1.7e9, "{timestamp}");
    assert!(body.ends_with("# EOF\n"));
}

#[test]
fn unsampled_spans_and_no_span_carry_none() {
    let body = record(Sampler::always_off(), MetricsConfig::default(), || {
        tracing::info_span!("request").in_scope(|| metrics::counter!("a_total").increment(1));
        metrics::counter!("b_total").increment(1);
    });
    assert!(!body.contains("trace_id"), "{body}");

    // always_on takes unsampled spans too.
    let body = record(
        Sampler::always_off(),
        MetricsConfig::default().with_exemplar_filter(ExemplarFilter::AlwaysOn),
        || tracing::info_span!("request").in_scope(|| metrics::counter!("a_total").increment(1)),
    );
    assert!(line(&body, "a_total 1").contains("trace_id"), "{body}");

    // always_off takes none.
    let body = record(
        Sampler::always_on(),
        MetricsConfig::default().with_exemplar_filter(ExemplarFilter::AlwaysOff),
        || tracing::info_span!("request").in_scope(|| metrics::counter!("a_total").increment(1)),
    );
    assert!(!body.contains("trace_id"), "{body}");
}

#[test]
fn prometheus_text_has_no_exemplars() {
    let parts_body = {
        let recorder = MetricsRecorder::new(MetricsConfig::default());
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("orders_total", metrics::Unit::Count, "Orders placed.");
            metrics::counter!("orders_total").increment(1);
            metrics::describe_histogram!("latency_seconds", metrics::Unit::Seconds, "Latency.");
            metrics::histogram!("latency_seconds").record(0.003);
        });
        (
            recorder.handle().render(Format::PrometheusText),
            recorder.handle().render(Format::OpenMetrics),
        )
    };
    let (text, open) = parts_body;
    assert!(
        text.contains(
            "# TYPE orders_total counter\n# HELP orders_total Orders placed.\norders_total 1\n"
        ),
        "{text}"
    );
    assert!(!text.contains("# EOF") && !text.contains("# UNIT"));
    assert!(open.contains("# TYPE orders counter\n"), "{open}");
    assert!(open.contains("# UNIT latency_seconds seconds\n"), "{open}");
    assert!(
        open.contains("latency_seconds_bucket{le=\"0.005\"} 1\n"),
        "{open}"
    );
}
