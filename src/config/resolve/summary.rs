//! The settings summary [`Config`]'s `Display` prints: one line a
//! setting, its value (header values and URL credentials left out) and
//! its [`Origin`]: code, the first of its variables that is set (or
//! `Ignored` when that one was refused), or the default.

use std::time::Duration;

use super::otlp::{SignalVars, LOGS, METRICS, TRACES};
use crate::config::env::{ms, EnvReader};
use crate::config::{tls, Builder, Config, Origin, OtlpSettings, Setting};
use crate::diag::redact_url;
use crate::env::{
    OTEL_BLRP_EXPORT_TIMEOUT, OTEL_BLRP_MAX_EXPORT_BATCH_SIZE, OTEL_BLRP_MAX_QUEUE_SIZE,
    OTEL_BLRP_SCHEDULE_DELAY, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY, OTEL_EXPORTER_OTLP_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_COMPRESSION,
    OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TIMEOUT, OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_PORT,
    OTEL_LOGS_EXPORTER, OTEL_LOG_LEVEL, OTEL_METRICS_EXEMPLAR_FILTER, OTEL_METRICS_EXPORTER,
    OTEL_PROPAGATORS, OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME,
    OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, RUST_LOG, TRACELINK_LOG_FORMAT,
    TRACELINK_LOG_NON_BLOCKING, TRACELINK_LOG_STYLE, TRACELINK_METRICS_CARDINALITY_LIMIT,
    TRACELINK_SHUTDOWN_TIMEOUT, TRACELINK_SPAN_EVENTS, TRACELINK_SPAN_FILTER,
    TRACELINK_TRACES_FILE,
};
use crate::env::{
    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, OTEL_METRIC_EXPORT_INTERVAL,
    OTEL_METRIC_EXPORT_TIMEOUT,
};
use crate::trace::TracesExporter;

/// Where the setting came from: code, the first of `vars` that is set, or
/// the default.
fn origin(env: &EnvReader<'_>, code: bool, vars: &[&'static str]) -> Origin {
    if code {
        return Origin::Code;
    }
    for &var in vars {
        if env.raw(var).is_some() {
            return if env.issues.iter().any(|issue| issue.name == var) {
                Origin::Ignored(var)
            } else {
                Origin::Env(var)
            };
        }
    }
    Origin::Default
}

fn list_or_none<T>(items: &[T], name: impl Fn(&T) -> &str) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.iter().map(name).collect::<Vec<_>>().join(",")
    }
}

/// The summary, in the order it prints; `env` is the reader every part
/// read through, so that it knows which values were refused.
pub(super) fn settings(b: &Builder, env: &EnvReader<'_>, c: &Config) -> Vec<Setting> {
    let ms = |d: Duration| ms(&d);
    let prometheus = format!(
        "prometheus on http://{}:{}/metrics",
        c.prometheus_host, c.prometheus_port
    );
    let mut out = Vec::new();
    let mut add = |name: &'static str, value: String, origin: Origin| {
        out.push(Setting {
            name,
            value,
            origin,
        });
    };
    add(
        "sdk disabled",
        c.disabled.to_string(),
        origin(env, b.disabled.is_some(), &[OTEL_SDK_DISABLED]),
    );
    let named_in_code = b.service_name.is_some()
        || b.resource
            .iter()
            .any(|kv| kv.key.as_str() == "service.name");
    add(
        "service.name",
        c.service_name.clone(),
        origin(
            env,
            named_in_code,
            &[OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES],
        ),
    );
    add(
        "traces exporters",
        list_or_none(&c.exporters, |e| e.name()),
        origin(env, b.exporters.is_some(), &[OTEL_TRACES_EXPORTER]),
    );
    if c.exporters.contains(&TracesExporter::File) {
        add(
            "traces file",
            c.traces_file.display().to_string(),
            origin(env, b.traces_file.is_some(), &[TRACELINK_TRACES_FILE]),
        );
    }
    if c.exporters.contains(&TracesExporter::Otlp) {
        otlp(&mut add, &OTLP_TRACES, &c.otlp, &TRACES, b, env);
    }
    add(
        "sampler",
        c.sampler.to_string(),
        origin(env, b.sampler.is_some(), &[OTEL_TRACES_SAMPLER]),
    );
    let l = &c.span_limits;
    add(
        "span limits",
        format!(
            "{} attributes, {} events, {} links, {} an event's, {} a link's; values {}",
            l.attributes(),
            l.events(),
            l.links(),
            l.event_attributes(),
            l.link_attributes(),
            l.attribute_value_length().map_or_else(
                || "unlimited".to_owned(),
                |n| format!("at most {n} characters")
            ),
        ),
        origin(
            env,
            b.span_limits.is_some(),
            &[
                crate::env::OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
                crate::env::OTEL_SPAN_EVENT_COUNT_LIMIT,
                crate::env::OTEL_SPAN_LINK_COUNT_LIMIT,
                crate::env::OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
                crate::env::OTEL_LINK_ATTRIBUTE_COUNT_LIMIT,
                crate::env::OTEL_ATTRIBUTE_COUNT_LIMIT,
                crate::env::OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
                crate::env::OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
            ],
        ),
    );
    add(
        "propagators",
        list_or_none(&c.propagators, |p| p.name()),
        origin(env, b.propagators.is_some(), &[OTEL_PROPAGATORS]),
    );
    let batch = b.batch.is_some();
    add(
        "batch delay",
        ms(c.batch.scheduled_delay),
        origin(env, batch, &[OTEL_BSP_SCHEDULE_DELAY]),
    );
    add(
        "batch export timeout",
        ms(c.batch.export_timeout),
        origin(env, batch, &[OTEL_BSP_EXPORT_TIMEOUT]),
    );
    add(
        "batch queue size",
        c.batch.max_queue_size.to_string(),
        origin(env, batch, &[OTEL_BSP_MAX_QUEUE_SIZE]),
    );
    add(
        "batch max size",
        c.batch.max_export_batch_size.to_string(),
        origin(env, batch, &[OTEL_BSP_MAX_EXPORT_BATCH_SIZE]),
    );
    add(
        "span filter",
        c.span_filter.clone(),
        origin(env, b.span_filter.is_some(), &[TRACELINK_SPAN_FILTER]),
    );
    add(
        "log filter",
        c.filter.clone(),
        origin(env, b.filter.is_some(), &[RUST_LOG]),
    );
    add(
        "span events",
        c.span_events.to_string().to_ascii_lowercase(),
        origin(env, b.span_events.is_some(), &[TRACELINK_SPAN_EVENTS]),
    );
    add(
        "log format",
        c.log_format.to_string(),
        origin(env, b.log_format.is_some(), &[TRACELINK_LOG_FORMAT]),
    );
    add(
        "log style",
        format!("{:?}", c.log_style).to_ascii_lowercase(),
        origin(env, b.log_style.is_some(), &[TRACELINK_LOG_STYLE]),
    );
    add(
        "non-blocking logs",
        c.non_blocking_logs.to_string(),
        origin(
            env,
            b.non_blocking_logs.is_some(),
            &[TRACELINK_LOG_NON_BLOCKING],
        ),
    );
    add(
        "logs exporters",
        list_or_none(&c.logs_exporters, |e| e.name()),
        origin(env, b.logs_exporters.is_some(), &[OTEL_LOGS_EXPORTER]),
    );
    if let Some(logs) = &c.logs_otlp {
        otlp(&mut add, &OTLP_LOGS, logs, &LOGS, b, env);
    }
    if !c.logs_exporters.is_empty() {
        logs_batch(&mut add, c, b, env);
    }
    add(
        "metrics",
        if c.metrics_exporters.is_empty() {
            "none".to_owned()
        } else {
            c.metrics_exporters
                .iter()
                .map(|e| match e {
                    crate::metrics::MetricsExporter::Prometheus => prometheus.as_str(),
                    other => other.name(),
                })
                .collect::<Vec<_>>()
                .join(",")
        },
        origin(
            env,
            b.metrics.is_some() || b.metrics_exporters.is_some() || b.prometheus_listener.is_some(),
            &[
                OTEL_METRICS_EXPORTER,
                OTEL_EXPORTER_PROMETHEUS_HOST,
                OTEL_EXPORTER_PROMETHEUS_PORT,
            ],
        ),
    );
    if let Some(metrics) = &c.metrics_otlp {
        otlp(&mut add, &OTLP_METRICS, metrics, &METRICS, b, env);
    }
    if c.metrics_exporters
        .iter()
        .any(|e| *e != crate::metrics::MetricsExporter::Prometheus)
    {
        add(
            "metrics push",
            format!(
                "every {}, at most {} a push, {}",
                ms(c.metric_export_interval),
                ms(c.metric_export_timeout),
                c.metrics_temporality.name()
            ),
            origin(
                env,
                b.metric_export_interval.is_some()
                    || b.metric_export_timeout.is_some()
                    || b.metrics_temporality.is_some(),
                &[
                    OTEL_METRIC_EXPORT_INTERVAL,
                    OTEL_METRIC_EXPORT_TIMEOUT,
                    OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
                ],
            ),
        );
    }
    if c.metrics {
        add(
            "series per metric",
            format!("at most {}", c.metrics_cardinality_limit),
            origin(
                env,
                b.metrics_cardinality_limit.is_some(),
                &[TRACELINK_METRICS_CARDINALITY_LIMIT],
            ),
        );
    }
    add(
        "exemplar filter",
        format!("{:?}", c.exemplar_filter),
        origin(
            env,
            b.exemplar_filter.is_some(),
            &[OTEL_METRICS_EXEMPLAR_FILTER],
        ),
    );
    add(
        "shutdown timeout",
        ms(c.shutdown_timeout),
        origin(
            env,
            b.shutdown_timeout.is_some(),
            &[TRACELINK_SHUTDOWN_TIMEOUT],
        ),
    );
    add(
        "diagnostics",
        format!("{:?}", c.log_level).to_ascii_lowercase(),
        origin(env, b.log_level.is_some(), &[OTEL_LOG_LEVEL]),
    );
    out
}

/// The summary names of one signal's OTLP lines: endpoint, tls, protocol,
/// headers, timeout, compression.
type OtlpNames = [&'static str; 6];

const OTLP_TRACES: OtlpNames = [
    "otlp endpoint",
    "otlp tls",
    "otlp protocol",
    "otlp headers",
    "otlp timeout",
    "otlp compression",
];

const OTLP_METRICS: OtlpNames = [
    "metrics otlp endpoint",
    "metrics otlp tls",
    "metrics otlp protocol",
    "metrics otlp headers",
    "metrics otlp timeout",
    "metrics otlp compression",
];

const OTLP_LOGS: OtlpNames = [
    "logs otlp endpoint",
    "logs otlp tls",
    "logs otlp protocol",
    "logs otlp headers",
    "logs otlp timeout",
    "logs otlp compression",
];

/// One signal's OTLP lines.
fn otlp(
    add: &mut impl FnMut(&'static str, String, Origin),
    names: &OtlpNames,
    o: &OtlpSettings,
    signal: &SignalVars,
    b: &Builder,
    env: &EnvReader<'_>,
) {
    let ms = |d: Duration| ms(&d);
    add(
        names[0],
        redact_url(&o.endpoint).into_owned(),
        origin(
            env,
            b.endpoint.is_some() || (signal.endpoint_code)(b).is_some(),
            &[signal.endpoint, OTEL_EXPORTER_OTLP_ENDPOINT],
        ),
    );
    add(
        names[1],
        tls::describe(&o.endpoint, &o.tls_paths),
        origin(
            env,
            b.tls_certificate.is_some() || b.tls_client_certificate.is_some(),
            &[
                signal.certificate,
                OTEL_EXPORTER_OTLP_CERTIFICATE,
                signal.client_certificate,
                OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
            ],
        ),
    );
    add(
        names[2],
        o.protocol.name().to_owned(),
        origin(
            env,
            b.protocol.is_some(),
            &[signal.protocol, OTEL_EXPORTER_OTLP_PROTOCOL],
        ),
    );
    let headers: Vec<&str> = o.headers.0.iter().map(|(name, _)| name.as_str()).collect();
    add(
        names[3],
        if headers.is_empty() {
            "none".to_owned()
        } else {
            format!("{} (values not shown)", headers.join(", "))
        },
        origin(
            env,
            !b.headers.0.is_empty(),
            &[signal.headers, OTEL_EXPORTER_OTLP_HEADERS],
        ),
    );
    add(
        names[4],
        ms(o.timeout),
        origin(
            env,
            b.timeout.is_some(),
            &[signal.timeout, OTEL_EXPORTER_OTLP_TIMEOUT],
        ),
    );
    add(
        names[5],
        o.compression.to_string(),
        origin(
            env,
            b.compression.is_some(),
            &[signal.compression, OTEL_EXPORTER_OTLP_COMPRESSION],
        ),
    );
}

/// The log records' batching, on one line.
fn logs_batch(
    add: &mut impl FnMut(&'static str, String, Origin),
    c: &Config,
    b: &Builder,
    env: &EnvReader<'_>,
) {
    let batch = &c.logs_batch;
    add(
        "logs batch",
        format!(
            "every {}, at most {} a batch, {} queued, {} an export",
            ms(&batch.scheduled_delay),
            batch.max_export_batch_size,
            batch.max_queue_size,
            ms(&batch.export_timeout),
        ),
        origin(
            env,
            b.logs_batch.is_some(),
            &[
                OTEL_BLRP_SCHEDULE_DELAY,
                OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
                OTEL_BLRP_MAX_QUEUE_SIZE,
                OTEL_BLRP_EXPORT_TIMEOUT,
            ],
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    };

    /// The summary line named `name`: its value and origin.
    fn line(config: &Config, name: &str) -> Option<(String, Origin)> {
        config
            .settings
            .iter()
            .find(|s| s.name == name)
            .map(|s| (s.value.clone(), s.origin))
    }

    fn names(config: &Config) -> Vec<&'static str> {
        config.settings.iter().map(|s| s.name).collect()
    }

    #[test]
    fn origin_is_code_then_the_first_variable_set_then_the_default() {
        let b = crate::builder().with_env([
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://generic:4318"),
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "5"),
        ]);
        let mut env = EnvReader::new(&b.env);
        let vars = [
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
            OTEL_EXPORTER_OTLP_ENDPOINT,
        ];
        assert_eq!(origin(&env, true, &vars), Origin::Code);
        assert_eq!(
            origin(&env, false, &vars),
            Origin::Env(OTEL_EXPORTER_OTLP_ENDPOINT)
        );
        assert_eq!(origin(&env, false, &[OTEL_SDK_DISABLED]), Origin::Default);
        // Set but refused: `Ignored`, pointing at the warning.
        env.reject(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "5", "too short", "");
        assert_eq!(
            origin(
                &env,
                false,
                &[
                    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
                    OTEL_EXPORTER_OTLP_TIMEOUT
                ]
            ),
            Origin::Ignored(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT)
        );
    }

    #[test]
    fn every_line_names_where_its_value_came_from() -> Result<(), crate::Error> {
        let config = crate::builder()
            .with_env([
                (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "thrift"),
                (OTEL_EXPORTER_OTLP_PROTOCOL, "http/protobuf"),
                (RUST_LOG, "warn"),
                (OTEL_BSP_MAX_QUEUE_SIZE, "100"),
            ])
            .with_service_name("checkout")
            .config()?;
        assert_eq!(
            line(&config, "service.name"),
            Some(("checkout".into(), Origin::Code))
        );
        assert_eq!(
            line(&config, "otlp protocol"),
            Some((
                "http/protobuf".into(),
                Origin::Ignored(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
            ))
        );
        assert_eq!(
            line(&config, "log filter"),
            Some(("warn".into(), Origin::Env(RUST_LOG)))
        );
        assert_eq!(
            line(&config, "span filter"),
            Some(("info".into(), Origin::Default))
        );
        assert_eq!(
            line(&config, "batch queue size"),
            Some(("100".into(), Origin::Env(OTEL_BSP_MAX_QUEUE_SIZE)))
        );
        // A batch from code is code for all four lines.
        let config = crate::builder()
            .with_env([(OTEL_BSP_MAX_QUEUE_SIZE, "100")])
            .with_batch_config(crate::trace::BatchConfig::default())
            .config()?;
        assert_eq!(
            line(&config, "batch queue size"),
            Some(("2048".into(), Origin::Code))
        );
        assert_eq!(
            line(&config, "batch delay"),
            Some(("5000 ms".into(), Origin::Code))
        );
        Ok(())
    }

    #[test]
    fn header_values_and_url_credentials_never_reach_the_summary() -> Result<(), crate::Error> {
        let config = crate::builder()
            .with_env([
                (OTEL_EXPORTER_OTLP_HEADERS, "authorization=Bearer%20s3cret"),
                (
                    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
                    "http://user:pa55@c:4318/v1/traces",
                ),
            ])
            .with_otlp_header("x-api-key", "k3y")
            .config()?;
        assert_eq!(
            line(&config, "otlp headers"),
            Some((
                "authorization, x-api-key (values not shown)".into(),
                Origin::Code
            ))
        );
        assert_eq!(
            line(&config, "otlp endpoint"),
            Some((
                "http://<redacted>@c:4318/v1/traces".into(),
                Origin::Env(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
            ))
        );
        for printed in [config.to_string(), format!("{config:?}")] {
            for secret in ["s3cret", "k3y", "pa55"] {
                assert!(!printed.contains(secret), "{secret} in {printed}");
            }
        }
        Ok(())
    }

    #[test]
    fn lines_follow_the_exporters_and_metrics_chosen() -> Result<(), crate::Error> {
        let config = crate::builder()
            .with_env([
                (OTEL_TRACES_EXPORTER, "file"),
                (OTEL_METRICS_EXPORTER, "none"),
            ])
            .config()?;
        let shown = names(&config);
        assert!(shown.contains(&"traces file"), "{shown:?}");
        assert!(!shown.iter().any(|n| n.starts_with("otlp ")), "{shown:?}");
        assert!(!shown.contains(&"series per metric"), "{shown:?}");
        assert_eq!(
            line(&config, "metrics"),
            Some(("none".into(), Origin::Env(OTEL_METRICS_EXPORTER)))
        );

        let config = crate::builder()
            .with_env([(OTEL_PROPAGATORS, "none")])
            .config()?;
        let shown = names(&config);
        assert!(!shown.contains(&"traces file"), "{shown:?}");
        assert!(shown.contains(&"otlp endpoint"), "{shown:?}");
        assert!(shown.contains(&"series per metric"), "{shown:?}");
        assert_eq!(
            line(&config, "propagators"),
            Some(("none".into(), Origin::Env(OTEL_PROPAGATORS)))
        );
        Ok(())
    }
}
