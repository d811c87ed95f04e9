//! Consistent probability sampling across two services at the OTLP
//! receiver: the first keeps about a quarter of its traces and writes
//! `ot=th:c` into their tracestate; the second, continuing each call over
//! W3C headers with `parentbased_probability`, keeps exactly the same
//! traces with the same threshold, so no trace arrives in part; a caller
//! that sampled with another SDK's `traceidratio` (no `th`) is followed.

mod support;

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use opentelemetry::propagation::TextMapPropagator;
use support::Receiver;
use tracing_opentelemetry::OpenTelemetrySpanExt;

const TRACES: usize = 400;

#[test]
fn a_trace_is_kept_everywhere_or_nowhere_with_its_threshold() {
    let receiver = Receiver::start();
    let front = support::build_exporting_to(
        &receiver,
        "front",
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
        ],
    );
    let back = support::build_exporting_to(
        &receiver,
        "back",
        // Its own probability is higher: it still follows the caller.
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.9"),
        ],
    );
    let (front_dispatch, back_dispatch) = (support::dispatch(&front), support::dispatch(&back));
    let propagator = front.propagator();
    for n in 0..TRACES {
        let mut headers: HashMap<String, String> = HashMap::new();
        tracing::dispatcher::with_default(&front_dispatch, || {
            let span = tracing::info_span!("GET /checkout", n);
            let _entered = span.enter();
            propagator.inject_context(&span.context(), &mut headers);
        });
        tracing::dispatcher::with_default(&back_dispatch, || {
            let parent = propagator.extract(&headers);
            let span = tracing::info_span!("charge", otel.kind = "server", n);
            let _ = span.set_parent(parent);
            drop(span.enter());
        });
    }
    front.into_guard().shutdown().expect("clean shutdown");
    back.into_guard().shutdown().expect("clean shutdown");
    let spans = receiver.spans();
    let traces = |service: &str| -> BTreeSet<String> {
        spans
            .iter()
            .filter(|s| s.resource_attr("service.name").as_deref() == Some(service))
            .map(support::ReceivedSpan::trace_id)
            .collect()
    };
    let (front_traces, back_traces) = (traces("front"), traces("back"));
    // About a quarter: 400 draws, a standard deviation of about 8.7.
    assert!(
        (60..=140).contains(&front_traces.len()),
        "{}",
        front_traces.len()
    );
    assert_eq!(
        front_traces, back_traces,
        "every trace whole, or not at all"
    );
    for span in &spans {
        assert_eq!(span.span.trace_state, "ot=th:c", "{}", span.name());
    }

    // A caller that sampled with traceidratio (no `th`): followed, no th.
    let receiver = Receiver::start();
    let back = support::build_exporting_to(
        &receiver,
        "back",
        &[
            ("OTEL_TRACES_SAMPLER", "parentbased_probability"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.01"),
        ],
    );
    tracing::dispatcher::with_default(&support::dispatch(&back), || {
        let headers = HashMap::from([(
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        )]);
        let span = tracing::info_span!("charge");
        let _ = span.set_parent(back.propagator().extract(&headers));
        drop(span.enter());
    });
    back.into_guard().shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(spans[0].span.trace_state, "");
}

/// Keeps SERVER spans whose route is not a health check, and nothing else.
#[derive(Debug)]
struct Routes;

impl tracelink::trace::CustomSampler for Routes {
    fn should_sample(&self, input: &tracelink::trace::SamplingInput<'_>) -> bool {
        let route = input
            .attributes
            .iter()
            .find(|kv| kv.key.as_str() == "http.route")
            .map(|kv| kv.value.to_string());
        *input.kind == opentelemetry::trace::SpanKind::Server
            && input.parent.is_none()
            && route.as_deref() != Some("/health")
            && input.name.starts_with("GET ")
    }
}

#[test]
fn a_custom_sampler_decides_on_name_kind_attributes_and_parent() {
    let receiver = Receiver::start();
    let parts = tracelink::builder()
        .with_env([
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                receiver.grpc_endpoint().as_str(),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("TRACELINK_LOG_FORMAT", "none"),
            ("OTEL_METRICS_EXPORTER", "none"),
        ])
        .with_sampler(tracelink::trace::Sampler::parent_based(
            tracelink::trace::Sampler::custom(Routes),
        ))
        .build()
        .expect("builds");
    tracing::dispatcher::with_default(&support::dispatch(&parts), || {
        for route in ["/cart", "/health"] {
            let span = tracing::info_span!(
                "GET",
                otel.name = format!("GET {route}"),
                otel.kind = "server",
                http.route = route
            );
            span.in_scope(|| tracing::info_span!("db.query").in_scope(|| {}));
        }
        tracing::info_span!("GET /cart", otel.kind = "client", http.route = "/cart")
            .in_scope(|| {});
        tracing::info_span!("reindex", otel.kind = "server").in_scope(|| {});
    });
    parts.into_guard().shutdown().expect("clean shutdown");
    let mut names: Vec<String> = receiver
        .spans()
        .iter()
        .map(|s| s.name().to_owned())
        .collect();
    names.sort();
    // The cart request and its child (which follows it); nothing else.
    assert_eq!(names, ["GET /cart", "db.query"]);
}
