//! The metrics side: whether `/metrics` is served (`OTEL_METRICS_EXPORTER`)
//! and where (`OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT`), how many series one
//! metric keeps (`TRACELINK_METRICS_CARDINALITY_LIMIT`), and which samples
//! carry exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`).

use crate::config::env::EnvReader;
use crate::config::Builder;
use crate::env::{
    OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT,
    OTEL_EXPORTER_PROMETHEUS_PORT, OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT,
    OTEL_METRICS_EXEMPLAR_FILTER, OTEL_METRICS_EXPORTER, TRACELINK_METRICS_CARDINALITY_LIMIT,
    TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT,
};
use crate::metrics::{ExemplarFilter, MAX_CARDINALITY_LIMIT};

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Metrics {
    /// Whether the recorder is installed and `/metrics` served.
    pub(super) on: bool,
    pub(super) prometheus_host: String,
    pub(super) prometheus_port: u16,
    pub(super) cardinality_limit: usize,
    pub(super) exemplar_filter: ExemplarFilter,
}

pub(super) fn metrics(b: &Builder, env: &mut EnvReader<'_>) -> Metrics {
    let on = b.metrics.unwrap_or_else(|| {
        env.parse(OTEL_METRICS_EXPORTER, "prometheus", |v| {
            match v.to_ascii_lowercase().as_str() {
                "prometheus" => Ok(true),
                "none" => Ok(false),
                _ => Err("expected prometheus or none".into()),
            }
        })
        .unwrap_or(true)
    });
    let (prometheus_host, prometheus_port) = match &b.prometheus_listener {
        Some(listener) => listener.clone(),
        None => (
            env.raw(OTEL_EXPORTER_PROMETHEUS_HOST).map_or_else(
                || OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT.to_owned(),
                |h| h.trim().to_owned(),
            ),
            env.parse(OTEL_EXPORTER_PROMETHEUS_PORT, "9464", |v| {
                v.parse::<u16>()
                    .map_err(|_| "expected a port number, 0 to 65535".into())
            })
            .unwrap_or(OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT),
        ),
    };
    let cardinality = 1..=MAX_CARDINALITY_LIMIT;
    let cardinality_limit = b
        .metrics_cardinality_limit
        .and_then(|n| {
            env.code_in(
                "Builder::with_metrics_cardinality_limit",
                n,
                &cardinality,
                ToString::to_string,
            )
        })
        .or_else(|| env.count_in(TRACELINK_METRICS_CARDINALITY_LIMIT, &cardinality))
        .unwrap_or(TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT);
    env.fill_fallback(
        &[
            "Builder::with_metrics_cardinality_limit",
            TRACELINK_METRICS_CARDINALITY_LIMIT,
        ],
        &cardinality_limit.to_string(),
    );
    let exemplar_filter = b
        .exemplar_filter
        .or_else(|| {
            env.parse(OTEL_METRICS_EXEMPLAR_FILTER, "trace_based", |v| {
                ExemplarFilter::parse(v)
                    .ok_or_else(|| "expected trace_based, always_on or always_off".into())
            })
        })
        .unwrap_or_default();
    Metrics {
        on,
        prometheus_host,
        prometheus_port,
        cardinality_limit,
        exemplar_filter,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Warning;

    fn resolved(b: &Builder) -> (Metrics, Vec<Warning>) {
        let mut env = EnvReader::new(&b.env);
        let found = metrics(b, &mut env);
        (found, env.issues)
    }

    #[test]
    fn defaults_serve_localhost_9464() {
        let (found, issues) = resolved(&crate::builder().with_env::<_, String, String>([]));
        assert_eq!(
            found,
            Metrics {
                on: true,
                prometheus_host: "localhost".into(),
                prometheus_port: 9464,
                cardinality_limit: 2000,
                exemplar_filter: ExemplarFilter::TraceBased,
            }
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn env_sets_each() {
        let b = crate::builder().with_env([
            (OTEL_METRICS_EXPORTER, "NONE"),
            (OTEL_EXPORTER_PROMETHEUS_HOST, " 0.0.0.0 "),
            (OTEL_EXPORTER_PROMETHEUS_PORT, "0"),
            (TRACELINK_METRICS_CARDINALITY_LIMIT, "10"),
            (OTEL_METRICS_EXEMPLAR_FILTER, "always_off"),
        ]);
        let (found, issues) = resolved(&b);
        assert_eq!(
            found,
            Metrics {
                on: false,
                prometheus_host: "0.0.0.0".into(),
                prometheus_port: 0,
                cardinality_limit: 10,
                exemplar_filter: ExemplarFilter::AlwaysOff,
            }
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn a_bad_port_is_one_warning_and_9464() {
        let b = crate::builder().with_env([(OTEL_EXPORTER_PROMETHEUS_PORT, "70000")]);
        let (found, issues) = resolved(&b);
        assert_eq!(found.prometheus_port, 9464);
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_EXPORTER_PROMETHEUS_PORT,
                value: "70000".into(),
                reason: "expected a port number, 0 to 65535".into(),
                fallback: "9464".into(),
            }]
        );
    }

    #[test]
    fn the_cardinality_limit_is_held_to_its_range_from_env_and_code() {
        let b = crate::builder().with_env([(TRACELINK_METRICS_CARDINALITY_LIMIT, "0")]);
        let (found, issues) = resolved(&b);
        assert_eq!(found.cardinality_limit, 2000);
        assert_eq!(
            issues,
            [Warning {
                name: TRACELINK_METRICS_CARDINALITY_LIMIT,
                value: "0".into(),
                reason: "out of range: expected a whole number from 1 to 100000".into(),
                fallback: "2000".into(),
            }]
        );

        // Out of range in code: one warning, and the variable is next in line.
        let b = crate::builder()
            .with_env([(TRACELINK_METRICS_CARDINALITY_LIMIT, "300")])
            .with_metrics_cardinality_limit(MAX_CARDINALITY_LIMIT + 1);
        let (found, issues) = resolved(&b);
        assert_eq!(found.cardinality_limit, 300);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, "Builder::with_metrics_cardinality_limit");
        assert_eq!(issues[0].value, "100001");
        assert_eq!(issues[0].fallback, "300");
    }

    #[test]
    fn code_beats_env() {
        let b = crate::builder()
            .with_env([
                (OTEL_METRICS_EXPORTER, "otlp"),
                (OTEL_EXPORTER_PROMETHEUS_PORT, "nope"),
                (OTEL_METRICS_EXEMPLAR_FILTER, "sometimes"),
            ])
            .with_metrics(true)
            .with_prometheus_listener("127.0.0.1", 9100)
            .with_exemplar_filter(ExemplarFilter::AlwaysOn);
        let (found, issues) = resolved(&b);
        assert!(found.on);
        assert_eq!(
            (found.prometheus_host.as_str(), found.prometheus_port),
            ("127.0.0.1", 9100)
        );
        assert_eq!(found.exemplar_filter, ExemplarFilter::AlwaysOn);
        assert!(issues.is_empty(), "{issues:?}");
    }
}
