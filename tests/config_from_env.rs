//! Each configuration rule, asserted on the effective settings.
//!
//! `Builder::with_env` stands in for the process environment, so these tests
//! run in parallel without touching it.

use std::time::Duration;

use tracelink::{
    propagation::Propagator, trace::Compression, trace::Protocol, trace::Sampler,
    trace::TracesExporter, Config, Error,
};

fn config(vars: &[(&str, &str)]) -> Config {
    tracelink::builder()
        .with_env(vars.iter().copied())
        .config()
        .expect("lenient mode never fails")
}

fn attribute(config: &Config, key: &str) -> Option<String> {
    config
        .resource_attributes()
        .iter()
        .find(|kv| kv.key.as_str() == key)
        .map(|kv| kv.value.to_string())
}

/// The warning about `var`, as printed.
fn warning_about(config: &Config, var: &str) -> String {
    config
        .warnings()
        .iter()
        .find(|w| w.variable() == var)
        .map_or_else(
            || panic!("no warning about {var}: {:?}", config.warnings()),
            ToString::to_string,
        )
}

#[test]
fn defaults_follow_the_specification() {
    let c = config(&[]);
    assert_eq!(c.protocol(), Protocol::HttpProtobuf);
    assert_eq!(c.traces_endpoint(), "http://localhost:4318/v1/traces");
    assert_eq!(c.traces_exporters(), &[TracesExporter::Otlp]);
    assert_eq!(c.sampler(), &Sampler::parent_based(Sampler::always_on()));
    assert_eq!(
        c.propagators(),
        &[Propagator::TraceContext, Propagator::Baggage]
    );
    assert_eq!(c.timeout(), Duration::from_secs(10));
    assert_eq!(c.compression(), Compression::None);
    assert_eq!(c.batch().max_queue_size(), 2048);
    assert_eq!(c.batch().max_export_batch_size(), 512);
    assert_eq!(c.batch().scheduled_delay(), Duration::from_secs(5));
    assert_eq!(c.batch().export_timeout(), Duration::from_secs(30));
    assert_eq!(c.filter(), "info");
    assert_eq!(c.shutdown_timeout(), Duration::from_secs(5));
    assert!(!c.is_disabled());
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
}

#[test]
fn grpc_default_endpoint_has_no_path() {
    let c = config(&[("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]);
    assert_eq!(c.protocol(), Protocol::Grpc);
    assert_eq!(c.traces_endpoint(), "http://localhost:4317");
}

#[test]
fn generic_endpoint_is_a_base_for_http() {
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")]);
    assert_eq!(c.traces_endpoint(), "http://collector:4318/v1/traces");
    let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/otlp/")]);
    assert_eq!(c.traces_endpoint(), "http://collector:4318/otlp/v1/traces");
}

#[test]
fn generic_endpoint_is_used_as_is_for_grpc() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
    ]);
    assert_eq!(c.traces_endpoint(), "http://collector:4317");
}

#[test]
fn per_signal_endpoint_is_used_as_is() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://generic:4318"),
        (
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "http://traces:9999/custom",
        ),
    ]);
    assert_eq!(c.traces_endpoint(), "http://traces:9999/custom");
    // No path is added, even when there is none.
    let c = config(&[("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://traces:4318")]);
    assert_eq!(c.traces_endpoint(), "http://traces:4318");
}

#[test]
fn per_signal_protocol_beats_the_generic_one() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
        ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "grpc"),
    ]);
    assert_eq!(c.protocol(), Protocol::Grpc);
}

#[test]
fn empty_values_are_unset() {
    let c = config(&[
        ("OTEL_SERVICE_NAME", ""),
        ("OTEL_TRACES_SAMPLER", ""),
        ("OTEL_TRACES_EXPORTER", " "),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", ""),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", ""),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", ""),
        ("OTEL_BSP_MAX_QUEUE_SIZE", ""),
        ("OTEL_PROPAGATORS", ""),
        ("OTEL_SDK_DISABLED", ""),
        ("RUST_LOG", ""),
    ]);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    assert!(c.service_name().starts_with("unknown_service:"));
    assert_eq!(c.sampler(), &Sampler::default());
    assert_eq!(c.traces_exporters(), &[TracesExporter::Otlp]);
    assert_eq!(c.traces_endpoint(), "http://localhost:4318/v1/traces");
    assert_eq!(c.timeout(), Duration::from_secs(10));
    assert_eq!(c.batch().max_queue_size(), 2048);
    assert_eq!(c.propagators().len(), 2);
    assert_eq!(c.filter(), "info");
}

#[test]
fn invalid_values_warn_once_with_variable_value_and_fallback() {
    let c = config(&[
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "10s"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "-3"),
        ("OTEL_LOG_LEVEL", "loud"),
    ]);
    assert_eq!(c.warnings().len(), 5, "{:?}", c.warnings());
    let w = warning_about(&c, "OTEL_TRACES_SAMPLER");
    assert!(
        w.contains("\"sometimes\"") && w.contains("using parentbased_always_on"),
        "{w}"
    );
    assert_eq!(c.sampler(), &Sampler::default());
    let w = warning_about(&c, "OTEL_EXPORTER_OTLP_TIMEOUT");
    assert!(w.contains("\"10s\"") && w.contains("using 10000 ms"), "{w}");
    let w = warning_about(&c, "OTEL_EXPORTER_OTLP_PROTOCOL");
    assert!(
        w.contains("http/json is not supported") && w.contains("using http/protobuf"),
        "{w}"
    );
    assert_eq!(c.protocol(), Protocol::HttpProtobuf);
    let w = warning_about(&c, "OTEL_BSP_MAX_QUEUE_SIZE");
    assert!(w.contains("using 2048"), "{w}");
    assert_eq!(c.batch().max_queue_size(), 2048);
}

#[test]
fn an_invalid_per_signal_value_falls_back_to_the_generic_one() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT", "soon"),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
    ]);
    assert_eq!(c.timeout(), Duration::from_millis(2500));
    let w = warning_about(&c, "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT");
    assert!(w.contains("using 2500 ms"), "{w}");
}

#[test]
fn invalid_endpoints_fall_back_to_the_default() {
    // (`collector:4318` has no scheme: for HTTP that is invalid; for gRPC
    // it means `https://`, or `http://` with OTEL_EXPORTER_OTLP_INSECURE.)
    for bad in ["collector:4318", "ftp://collector", "http://", "https://"] {
        let c = config(&[("OTEL_EXPORTER_OTLP_ENDPOINT", bad)]);
        assert_eq!(
            c.traces_endpoint(),
            "http://localhost:4318/v1/traces",
            "{bad}"
        );
        let w = warning_about(&c, "OTEL_EXPORTER_OTLP_ENDPOINT");
        assert!(w.contains("using http://localhost:4318/v1/traces"), "{w}");
    }
}

#[test]
fn a_grpc_endpoint_without_a_scheme_is_tls_unless_insecure() {
    let grpc = ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc");
    let c = config(&[grpc, ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317")]);
    assert_eq!(c.traces_endpoint(), "https://collector:4317");
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let c = config(&[
        grpc,
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "true"),
    ]);
    assert_eq!(c.traces_endpoint(), "http://collector:4317");
    let c = config(&[
        grpc,
        ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "collector:4317"),
        ("OTEL_EXPORTER_OTLP_INSECURE", "false"),
        ("OTEL_EXPORTER_OTLP_TRACES_INSECURE", "true"),
    ]);
    assert_eq!(
        c.traces_endpoint(),
        "http://collector:4317",
        "per signal first"
    );
}

#[test]
fn resource_attributes_are_percent_decoded() {
    let c = config(&[(
        "OTEL_RESOURCE_ATTRIBUTES",
        "deployment.environment.name=prod, team = pay%20ments ,region=eu%2Cwest",
    )]);
    assert_eq!(
        attribute(&c, "deployment.environment.name").as_deref(),
        Some("prod")
    );
    assert_eq!(attribute(&c, "team").as_deref(), Some("pay ments"));
    assert_eq!(attribute(&c, "region").as_deref(), Some("eu,west"));
}

#[test]
fn a_decoding_error_discards_all_resource_attributes() {
    let c = config(&[("OTEL_RESOURCE_ATTRIBUTES", "team=payments,bad=%E2%28")]);
    assert_eq!(attribute(&c, "team"), None);
    let w = warning_about(&c, "OTEL_RESOURCE_ATTRIBUTES");
    assert!(
        w.contains("UTF-8") && w.contains("using no attributes from it"),
        "{w}"
    );
    let c = config(&[("OTEL_RESOURCE_ATTRIBUTES", "team=payments,noequals")]);
    assert_eq!(attribute(&c, "team"), None);
}

#[test]
fn detected_resource_attributes_are_present() {
    let c = config(&[]);
    for key in [
        "service.instance.id",
        "host.name",
        "process.pid",
        "telemetry.sdk.name",
        "telemetry.sdk.language",
        "telemetry.sdk.version",
    ] {
        assert!(attribute(&c, key).is_some(), "{key}");
    }
    assert_eq!(
        attribute(&c, "process.pid"),
        Some(std::process::id().to_string())
    );
    let id = attribute(&c, "service.instance.id").unwrap();
    assert_eq!(id.len(), 36);
    assert_eq!(&id[14..15], "4", "a UUID v4: {id}");
    // The same id for the whole process.
    assert_eq!(attribute(&config(&[]), "service.instance.id"), Some(id));
}

#[test]
fn service_name_precedence() {
    let exe = config(&[]);
    assert!(
        exe.service_name()
            .starts_with("unknown_service:config_from_env"),
        "{}",
        exe.service_name()
    );
    let attrs = config(&[("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs")]);
    assert_eq!(attrs.service_name(), "from-attrs");
    let env = config(&[
        ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attrs"),
        ("OTEL_SERVICE_NAME", "from-env"),
    ]);
    assert_eq!(env.service_name(), "from-env");
    assert_eq!(attribute(&env, "service.name").as_deref(), Some("from-env"));
    let code = tracelink::builder()
        .with_env([("OTEL_SERVICE_NAME", "from-env")])
        .with_service_name("from-code")
        .config()
        .unwrap();
    assert_eq!(code.service_name(), "from-code");
    assert_eq!(
        attribute(&code, "service.name").as_deref(),
        Some("from-code")
    );
}

#[test]
fn code_beats_env() {
    let c = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_SAMPLER", "always_on"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://env:4317"),
            ("OTEL_TRACES_EXPORTER", "console"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=from-env,x-team=a"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment.name=env",
            ),
            ("RUST_LOG", "debug"),
            ("TRACELINK_SHUTDOWN_TIMEOUT", "9000"),
        ])
        .with_sampler(Sampler::always_off())
        .with_protocol(Protocol::HttpProtobuf)
        .with_otlp_endpoint("http://code:4318")
        .with_traces_exporters([TracesExporter::Otlp])
        .with_otlp_header("api-key", "from-code")
        .with_deployment_environment("code")
        .with_filter("warn")
        .with_shutdown_timeout(Duration::from_millis(250))
        .config()
        .unwrap();
    assert_eq!(c.sampler(), &Sampler::always_off());
    assert_eq!(c.protocol(), Protocol::HttpProtobuf);
    assert_eq!(c.traces_endpoint(), "http://code:4318/v1/traces");
    assert_eq!(c.traces_exporters(), &[TracesExporter::Otlp]);
    assert_eq!(
        c.headers(),
        &[
            ("api-key".to_owned(), "from-code".to_owned()),
            ("x-team".to_owned(), "a".to_owned())
        ]
    );
    assert_eq!(
        attribute(&c, "deployment.environment.name").as_deref(),
        Some("code")
    );
    assert_eq!(c.filter(), "warn");
    assert_eq!(c.shutdown_timeout(), Duration::from_millis(250));
}

#[test]
fn headers_merge_per_signal_over_generic() {
    let c = config(&[
        (
            "OTEL_EXPORTER_OTLP_HEADERS",
            "Authorization=Basic%20abc,x-a=1",
        ),
        ("OTEL_EXPORTER_OTLP_TRACES_HEADERS", "x-a=2"),
    ]);
    assert_eq!(
        c.headers(),
        &[
            ("authorization".to_owned(), "Basic abc".to_owned()),
            ("x-a".to_owned(), "2".to_owned())
        ]
    );
    // A hostile header is refused whole, never sent half.
    let c = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-ok=1,bad header=2")]);
    assert!(c.headers().is_empty());
    warning_about(&c, "OTEL_EXPORTER_OTLP_HEADERS");
    let c = config(&[("OTEL_EXPORTER_OTLP_HEADERS", "x-a=line%0Abreak")]);
    assert!(c.headers().is_empty());
}

#[test]
fn samplers_and_their_argument() {
    let cases: &[(&str, Option<&str>, Sampler)] = &[
        ("always_on", None, Sampler::always_on()),
        ("always_off", None, Sampler::always_off()),
        ("traceidratio", Some("0.25"), Sampler::trace_id_ratio(0.25)),
        ("traceidratio", None, Sampler::trace_id_ratio(1.0)),
        (
            "parentbased_always_on",
            None,
            Sampler::parent_based(Sampler::always_on()),
        ),
        (
            "parentbased_always_off",
            None,
            Sampler::parent_based(Sampler::always_off()),
        ),
        (
            "parentbased_traceidratio",
            Some("0.5"),
            Sampler::parent_based(Sampler::trace_id_ratio(0.5)),
        ),
    ];
    for (name, arg, expected) in cases {
        let mut vars = vec![("OTEL_TRACES_SAMPLER", *name)];
        vars.extend(arg.map(|a| ("OTEL_TRACES_SAMPLER_ARG", a)));
        let c = config(&vars);
        assert_eq!(c.sampler(), expected, "{name} {arg:?}");
        assert!(c.warnings().is_empty());
    }
    let c = config(&[
        ("OTEL_TRACES_SAMPLER", "traceidratio"),
        ("OTEL_TRACES_SAMPLER_ARG", "1.5"),
    ]);
    assert_eq!(c.sampler(), &Sampler::trace_id_ratio(1.0));
    assert!(warning_about(&c, "OTEL_TRACES_SAMPLER_ARG").contains("using 1.0"));
    // The argument is ignored by samplers that take none.
    let c = config(&[
        ("OTEL_TRACES_SAMPLER", "always_on"),
        ("OTEL_TRACES_SAMPLER_ARG", "junk"),
    ]);
    assert!(c.warnings().is_empty());
}

#[test]
fn exporters_and_propagators_are_lists() {
    let c = config(&[("OTEL_TRACES_EXPORTER", "otlp, console")]);
    assert_eq!(
        c.traces_exporters(),
        &[TracesExporter::Otlp, TracesExporter::Console]
    );
    let c = config(&[("OTEL_TRACES_EXPORTER", "none")]);
    assert!(c.traces_exporters().is_empty());
    let c = config(&[("OTEL_TRACES_EXPORTER", "zipkin")]);
    assert_eq!(c.traces_exporters(), &[TracesExporter::Otlp]);
    assert!(warning_about(&c, "OTEL_TRACES_EXPORTER").contains("zipkin"));

    let c = config(&[("OTEL_PROPAGATORS", "baggage")]);
    assert_eq!(c.propagators(), &[Propagator::Baggage]);
    let c = config(&[("OTEL_PROPAGATORS", "none")]);
    assert!(c.propagators().is_empty());
    let c = config(&[("OTEL_PROPAGATORS", "tracecontext,xray")]);
    assert_eq!(c.propagators(), &[Propagator::TraceContext]);
    assert!(warning_about(&c, "OTEL_PROPAGATORS").contains("xray"));
}

#[test]
fn batch_settings_and_their_bounds() {
    let c = config(&[
        ("OTEL_BSP_SCHEDULE_DELAY", "200"),
        ("OTEL_BSP_EXPORT_TIMEOUT", "1000"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "100"),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "500"),
    ]);
    assert_eq!(c.batch().scheduled_delay(), Duration::from_millis(200));
    assert_eq!(c.batch().export_timeout(), Duration::from_secs(1));
    assert_eq!(c.batch().max_queue_size(), 100);
    assert_eq!(c.batch().max_export_batch_size(), 100);
    assert!(warning_about(&c, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE").contains("using 100"));
}

#[test]
fn compression_and_disabled_sdk() {
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
        ("OTEL_SDK_DISABLED", "TRUE"),
    ]);
    assert_eq!(c.compression(), Compression::Gzip);
    assert!(c.is_disabled());
    let c = config(&[
        ("OTEL_EXPORTER_OTLP_COMPRESSION", "brotli"),
        ("OTEL_SDK_DISABLED", "yes"),
    ]);
    assert_eq!(c.compression(), Compression::None);
    assert!(!c.is_disabled());
    assert_eq!(c.warnings().len(), 2);
}

#[test]
fn invalid_rust_log_keeps_the_valid_directives() {
    let c = config(&[("RUST_LOG", "warn,my_crate=verbose")]);
    warning_about(&c, "RUST_LOG");
    assert_eq!(c.filter(), "warn");
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
    // Nothing valid: the default, one warning, and spans keep their own filter.
    let c = config(&[("RUST_LOG", "nonsense===")]);
    warning_about(&c, "RUST_LOG");
    assert_eq!(c.filter(), "info");
    assert_eq!(c.span_filter(), "info");
    assert_eq!(c.warnings().len(), 1, "{:?}", c.warnings());
}

#[test]
fn strict_mode_turns_the_first_invalid_value_into_an_error() {
    let err = tracelink::builder()
        .with_env([("OTEL_EXPORTER_OTLP_TIMEOUT", "forever")])
        .with_strict_config(true)
        .config()
        .unwrap_err();
    match &err {
        Error::InvalidConfig { name, value, .. } => {
            assert_eq!(*name, "OTEL_EXPORTER_OTLP_TIMEOUT");
            assert_eq!(value, "forever");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("OTEL_EXPORTER_OTLP_TIMEOUT"));

    // From the environment too.
    let err = tracelink::builder()
        .with_env([
            ("TRACELINK_STRICT_CONFIG", "true"),
            ("OTEL_TRACES_SAMPLER", "x"),
        ])
        .build()
        .unwrap_err();
    assert!(matches!(
        err,
        Error::InvalidConfig {
            name: "OTEL_TRACES_SAMPLER",
            ..
        }
    ));

    // Strict mode with valid values is fine.
    tracelink::builder()
        .with_env([("OTEL_TRACES_SAMPLER", "always_on")])
        .with_strict_config(true)
        .config()
        .unwrap();
}

#[test]
fn public_types_are_debug_send_sync() {
    fn check<T: std::fmt::Debug + Send + Sync>() {}
    check::<tracelink::Builder>();
    check::<tracelink::Config>();
    check::<tracelink::Guard>();
    check::<tracelink::Parts>();
    check::<tracelink::Error>();
    check::<tracelink::trace::LinkTracer>();
    check::<tracelink::trace::LinkTracerProvider>();
    check::<tracelink::trace::LinkSpan>();
    check::<tracelink::trace::Sampler>();
    check::<tracelink::trace::ExportStats>();
    check::<tracelink::trace::BatchConfig>();
    check::<tracelink::logs::LogLayer>();
    check::<tracelink::logs::LogWriter>();
    check::<tracelink::logs::LogStyle>();
    check::<tracelink::metrics::MetricsRecorder>();
    check::<tracelink::metrics::MetricsHandle>();
    check::<tracelink::metrics::MetricsConfig>();
    check::<tracelink::store::TraceFile>();
}

#[test]
fn log_settings() {
    let c = config(&[]);
    assert!(c.json_logs());
    assert_eq!(c.log_style(), tracelink::logs::LogStyle::Otel);
    assert!(!c.non_blocking_logs());
    assert_eq!(c.gcp_project(), None);

    let c = config(&[
        ("TRACELINK_LOG_FORMAT", "none"),
        ("TRACELINK_LOG_STYLE", "GCP"),
        ("TRACELINK_LOG_NON_BLOCKING", "true"),
        ("GOOGLE_CLOUD_PROJECT", "shop-prod"),
    ]);
    assert!(!c.json_logs());
    assert_eq!(c.log_style(), tracelink::logs::LogStyle::Gcp);
    assert!(c.non_blocking_logs());
    assert_eq!(c.gcp_project(), Some("shop-prod"));

    let c = config(&[
        ("TRACELINK_LOG_FORMAT", "xml"),
        ("TRACELINK_LOG_STYLE", "splunk"),
    ]);
    assert!(c.json_logs());
    assert_eq!(c.log_style(), tracelink::logs::LogStyle::Otel);
    assert!(warning_about(&c, "TRACELINK_LOG_FORMAT").contains("using json"));
    assert!(warning_about(&c, "TRACELINK_LOG_STYLE").contains("using otel"));

    let c = tracelink::builder()
        .with_env([
            ("TRACELINK_LOG_STYLE", "ecs"),
            ("GOOGLE_CLOUD_PROJECT", "env"),
        ])
        .with_log_style(tracelink::logs::LogStyle::Datadog)
        .with_gcp_project("code")
        .with_json_logs(false)
        .config()
        .unwrap();
    assert_eq!(c.log_style(), tracelink::logs::LogStyle::Datadog);
    assert_eq!(c.gcp_project(), Some("code"));
    assert!(!c.json_logs());
}

#[test]
fn span_events_level() {
    use tracing::level_filters::LevelFilter;
    assert_eq!(config(&[]).span_events(), LevelFilter::WARN);
    for (value, level) in [
        ("error", LevelFilter::ERROR),
        ("INFO", LevelFilter::INFO),
        ("debug", LevelFilter::DEBUG),
        ("all", LevelFilter::TRACE),
    ] {
        let c = config(&[("TRACELINK_SPAN_EVENTS", value)]);
        assert_eq!(c.span_events(), level, "{value}");
        assert!(c.warnings().is_empty(), "{value}: {:?}", c.warnings());
    }
    let c = config(&[("TRACELINK_SPAN_EVENTS", "loud")]);
    assert_eq!(c.span_events(), LevelFilter::WARN);
    assert!(warning_about(&c, "TRACELINK_SPAN_EVENTS").contains("using warn"));

    let c = tracelink::builder()
        .with_env([("TRACELINK_SPAN_EVENTS", "error")])
        .with_span_events(tracing::Level::TRACE)
        .config()
        .unwrap();
    assert_eq!(c.span_events(), LevelFilter::TRACE);
}

#[test]
fn metrics_settings() {
    let c = config(&[]);
    assert!(c.metrics());
    assert_eq!(c.prometheus_listener(), ("localhost", 9464));
    assert_eq!(
        c.exemplar_filter(),
        tracelink::metrics::ExemplarFilter::TraceBased
    );

    let c = config(&[
        ("OTEL_METRICS_EXPORTER", "none"),
        ("OTEL_EXPORTER_PROMETHEUS_HOST", "0.0.0.0"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "9100"),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "always_off"),
    ]);
    assert!(!c.metrics());
    assert!(c.metrics_exporters().is_empty());
    assert_eq!(c.prometheus_listener(), ("0.0.0.0", 9100));
    assert_eq!(
        c.exemplar_filter(),
        tracelink::metrics::ExemplarFilter::AlwaysOff
    );

    // OTLP alone: pushed, not served; its URL by the traces' rules.
    let c = config(&[
        ("OTEL_METRICS_EXPORTER", "otlp"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"),
    ]);
    assert!(c.metrics() && !c.serves_metrics());
    assert_eq!(
        c.metrics_endpoint(),
        Some("http://collector:4318/v1/metrics")
    );
    assert_eq!(
        c.metric_export_interval(),
        std::time::Duration::from_secs(60)
    );

    let c = config(&[
        ("OTEL_METRICS_EXPORTER", "statsd"),
        ("OTEL_EXPORTER_PROMETHEUS_PORT", "99999"),
        ("OTEL_METRICS_EXEMPLAR_FILTER", "sometimes"),
    ]);
    assert!(c.metrics());
    assert!(c.serves_metrics());
    assert!(warning_about(&c, "OTEL_METRICS_EXPORTER").contains("using prometheus"));
    assert!(warning_about(&c, "OTEL_EXPORTER_PROMETHEUS_PORT").contains("using 9464"));
    assert!(warning_about(&c, "OTEL_METRICS_EXEMPLAR_FILTER").contains("using trace_based"));

    let c = tracelink::builder()
        .with_env([("OTEL_EXPORTER_PROMETHEUS_PORT", "1")])
        .with_prometheus_listener("127.0.0.1", 0)
        .with_metrics(false)
        .config()
        .unwrap();
    assert_eq!(c.prometheus_listener(), ("127.0.0.1", 0));
    assert!(!c.metrics());
}

#[test]
fn file_exporter_is_one_of_the_list() {
    let c = config(&[("OTEL_TRACES_EXPORTER", "file")]);
    assert_eq!(c.traces_exporters(), &[TracesExporter::File]);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());
    let c = config(&[("OTEL_TRACES_EXPORTER", "otlp,FILE, console")]);
    assert_eq!(
        c.traces_exporters(),
        &[
            TracesExporter::Otlp,
            TracesExporter::File,
            TracesExporter::Console
        ]
    );
    // Repeats count once, wherever they are.
    let c = config(&[("OTEL_TRACES_EXPORTER", "file,otlp,file")]);
    assert_eq!(
        c.traces_exporters(),
        &[TracesExporter::File, TracesExporter::Otlp]
    );
    let c = config(&[("OTEL_TRACES_EXPORTER", "file,files")]);
    assert_eq!(c.traces_exporters(), &[TracesExporter::File]);
    let warning = warning_about(&c, "OTEL_TRACES_EXPORTER");
    assert!(warning.contains("files"), "{warning}");
    assert!(
        warning.contains("expected otlp, console, file or none"),
        "{warning}"
    );
    assert!(warning.ends_with("using file"), "{warning}");
}

#[test]
fn trace_file_path_and_size() {
    let c = config(&[]);
    assert_eq!(
        c.traces_file(),
        std::path::Path::new(".tracelink/traces.jsonl")
    );
    assert_eq!(c.traces_file_max_bytes(), 64 * 1024 * 1024);

    let c = config(&[
        ("TRACELINK_TRACES_FILE", " /var/tmp/shop/traces.jsonl "),
        ("TRACELINK_TRACES_FILE_MAX_BYTES", "1048576"),
    ]);
    assert_eq!(
        c.traces_file(),
        std::path::Path::new("/var/tmp/shop/traces.jsonl")
    );
    assert_eq!(c.traces_file_max_bytes(), 1 << 20);
    // Setting the path does not choose the exporter.
    assert_eq!(c.traces_exporters(), &[TracesExporter::Otlp]);
    assert!(c.warnings().is_empty(), "{:?}", c.warnings());

    for (value, bytes) in [
        ("64MiB", 64 << 20),
        ("64 M", 64 << 20),
        ("512kib", 512 << 10),
        ("2G", 2 << 30),
        ("100MB", 100_000_000),
        ("7 B", 7),
    ] {
        let c = config(&[("TRACELINK_TRACES_FILE_MAX_BYTES", value)]);
        assert_eq!(c.traces_file_max_bytes(), bytes, "{value}");
        assert!(c.warnings().is_empty(), "{value}: {:?}", c.warnings());
    }
}

#[test]
fn invalid_trace_file_sizes_warn_and_use_the_default() {
    for value in [
        "0",
        "-1",
        "64 furlongs",
        "MiB",
        "1.5GiB",
        "99999999999999999999",
    ] {
        let c = config(&[("TRACELINK_TRACES_FILE_MAX_BYTES", value)]);
        assert_eq!(c.traces_file_max_bytes(), 64 * 1024 * 1024, "{value}");
        let warning = warning_about(&c, "TRACELINK_TRACES_FILE_MAX_BYTES");
        assert!(warning.contains(&format!("{value:?}")), "{warning}");
        assert!(warning.ends_with("using 64MiB"), "{warning}");
    }
    let error = tracelink::builder()
        .with_env([("TRACELINK_TRACES_FILE_MAX_BYTES", "lots")])
        .with_strict_config(true)
        .config()
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("TRACELINK_TRACES_FILE_MAX_BYTES"),
        "{error}"
    );
}

#[test]
fn the_builder_selects_the_file_and_beats_the_env() {
    let c = tracelink::builder()
        .with_env([
            ("OTEL_TRACES_EXPORTER", "none"),
            ("TRACELINK_TRACES_FILE", "from-env.jsonl"),
            ("TRACELINK_TRACES_FILE_MAX_BYTES", "10"),
        ])
        .with_traces_file("from-code.jsonl")
        .with_traces_file_max_bytes(4096)
        .config()
        .unwrap();
    assert_eq!(c.traces_exporters(), &[TracesExporter::File]);
    assert_eq!(c.traces_file(), std::path::Path::new("from-code.jsonl"));
    assert_eq!(c.traces_file_max_bytes(), 4096);

    let c = tracelink::builder()
        .with_env([("TRACELINK_TRACES_FILE", "from-env.jsonl")])
        .with_traces_exporters([TracesExporter::Console, TracesExporter::File])
        .config()
        .unwrap();
    assert_eq!(
        c.traces_exporters(),
        &[TracesExporter::Console, TracesExporter::File]
    );
    assert_eq!(c.traces_file(), std::path::Path::new("from-env.jsonl"));
}

/// Neither the summary (`Display`) nor `Debug` nor a warning ever prints a
/// header's value or a URL's password: they are where tokens and API keys
/// live. Both still name every header, so a reader can tell one is set.
#[test]
fn printed_settings_never_show_secrets() {
    let c = tracelink::builder()
        .with_env([
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "authorization=Bearer%20s3cret-token,x-team=a",
            ),
            (
                "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
                "x-api-key=k3y-from-env",
            ),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://ada:p4ssword@otlp.example.com:4318",
            ),
            ("RUST_LOG", "warn"),
        ])
        .config()
        .expect("lenient");
    let coded = tracelink::builder()
        .with_env([("OTEL_EXPORTER_OTLP_HEADERS", "bad header=l3aked-value")])
        .with_otlp_header("x-code-key", "c0de-secret")
        .config()
        .expect("lenient");
    let strict = tracelink::builder()
        .with_env([("OTEL_EXPORTER_OTLP_HEADERS", "bad header=l3aked-value")])
        .with_strict_config(true)
        .config()
        .unwrap_err();
    println!("{c}");
    let printed = [
        c.to_string(),
        format!("{c:?}"),
        c.warnings()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        coded.to_string(),
        format!("{coded:?}"),
        coded
            .warnings()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        strict.to_string(),
        format!("{strict:?}"),
    ];
    for text in &printed {
        for secret in [
            "s3cret-token",
            "k3y-from-env",
            "l3aked-value",
            "c0de-secret",
            "p4ssword",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    for name in ["authorization", "x-team", "x-api-key"] {
        assert!(printed[0].contains(name), "{name} named: {}", printed[0]);
        assert!(printed[1].contains(name), "{name} named: {}", printed[1]);
    }
    assert!(printed[3].contains("x-code-key"), "{}", printed[3]);
    // One setting a line, with where it came from.
    let line = |text: &str, name: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("no {name} line: {text}"))
            .to_owned()
    };
    assert!(line(&printed[0], "log filter").ends_with("(env RUST_LOG)"));
    assert!(line(&printed[0], "span filter").ends_with("info  (default)"));
    assert!(line(&printed[3], "otlp headers").ends_with("(code)"));
}

/// Each warning says, as data, which variable, what value, why, and what
/// was used instead: a tool needs no parsing of the message.
#[test]
fn warnings_are_structured() {
    let c = config(&[
        ("OTEL_TRACES_SAMPLER", "sometimes"),
        ("OTEL_BSP_MAX_QUEUE_SIZE", "lots"),
    ]);
    let sampler = c
        .warnings()
        .iter()
        .find(|w| w.variable() == "OTEL_TRACES_SAMPLER")
        .expect("a warning about the sampler");
    assert_eq!(sampler.value(), "sometimes");
    assert_eq!(sampler.fallback(), "parentbased_always_on");
    assert!(sampler.reason().contains("expected"), "{sampler}");
    assert_eq!(
        sampler.to_string(),
        format!(
            "ignoring OTEL_TRACES_SAMPLER=\"sometimes\": {}; using parentbased_always_on",
            sampler.reason()
        )
    );
    let queue = c
        .warnings()
        .iter()
        .find(|w| w.variable() == "OTEL_BSP_MAX_QUEUE_SIZE")
        .expect("a warning about the queue");
    assert_eq!((queue.value(), queue.fallback()), ("lots", "2048"));
}
