//! The metrics side: where metrics go (`OTEL_METRICS_EXPORTER`: `/metrics`,
//! OTLP, the console), where `/metrics` is served
//! (`OTEL_EXPORTER_PROMETHEUS_HOST`/`_PORT`), how often and how they are
//! pushed (`OTEL_METRIC_EXPORT_INTERVAL`, `OTEL_METRIC_EXPORT_TIMEOUT`,
//! `OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE`), how many series one
//! metric keeps (`TRACELINK_METRICS_CARDINALITY_LIMIT`), and which samples
//! carry exemplars (`OTEL_METRICS_EXEMPLAR_FILTER`).

use crate::config::env::ms;
use crate::config::env::EnvReader;
use crate::config::Builder;
use crate::env::{
    EXPORT_TIMEOUT_RANGE, OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
    OTEL_METRIC_EXPORT_INTERVAL, OTEL_METRIC_EXPORT_INTERVAL_DEFAULT,
    OTEL_METRIC_EXPORT_INTERVAL_RANGE, OTEL_METRIC_EXPORT_TIMEOUT,
    OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT,
};
use crate::env::{
    OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT,
    OTEL_EXPORTER_PROMETHEUS_PORT, OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT,
    OTEL_METRICS_EXEMPLAR_FILTER, OTEL_METRICS_EXPORTER, TRACELINK_METRICS_CARDINALITY_LIMIT,
    TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT,
};
use crate::metrics::{ExemplarFilter, MetricsExporter, Temporality, MAX_CARDINALITY_LIMIT};

#[derive(Debug, PartialEq, Eq)]
pub(super) struct Metrics {
    /// Where metrics go; the recorder is installed when any.
    pub(super) exporters: Vec<MetricsExporter>,
    pub(super) interval: std::time::Duration,
    pub(super) timeout: std::time::Duration,
    pub(super) temporality: Temporality,
    pub(super) prometheus_host: String,
    pub(super) prometheus_port: u16,
    pub(super) cardinality_limit: usize,
    pub(super) exemplar_filter: ExemplarFilter,
}

pub(super) fn metrics(b: &Builder, env: &mut EnvReader<'_>) -> Metrics {
    let names = [
        MetricsExporter::Prometheus,
        MetricsExporter::Otlp,
        MetricsExporter::Console,
    ]
    .map(|e| (e.name(), e));
    let exporters = match (&b.metrics_exporters, b.metrics) {
        (_, Some(false)) => Vec::new(),
        (Some(exporters), _) => exporters.clone(),
        (None, _) => env.name_list(
            OTEL_METRICS_EXPORTER,
            "exporter",
            &names,
            &[MetricsExporter::Prometheus],
        ),
    };
    let pushes = exporters.iter().any(|e| *e != MetricsExporter::Prometheus);
    let (interval, timeout, temporality) = if pushes {
        push(b, env)
    } else {
        (
            OTEL_METRIC_EXPORT_INTERVAL_DEFAULT,
            OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT,
            Temporality::default(),
        )
    };
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
        exporters,
        interval,
        timeout,
        temporality,
        prometheus_host,
        prometheus_port,
        cardinality_limit,
        exemplar_filter,
    }
}

/// How pushes are made: interval, timeout (code beats env) and temporality.
fn push(
    b: &Builder,
    env: &mut EnvReader<'_>,
) -> (std::time::Duration, std::time::Duration, Temporality) {
    let interval = b
        .metric_export_interval
        .and_then(|d| {
            env.code_in(
                "Builder::with_metric_export_interval",
                d,
                &OTEL_METRIC_EXPORT_INTERVAL_RANGE,
                ms,
            )
        })
        .or_else(|| {
            env.millis_in(
                OTEL_METRIC_EXPORT_INTERVAL,
                &OTEL_METRIC_EXPORT_INTERVAL_RANGE,
            )
        })
        .unwrap_or(OTEL_METRIC_EXPORT_INTERVAL_DEFAULT);
    env.fill_fallback(
        &[
            "Builder::with_metric_export_interval",
            OTEL_METRIC_EXPORT_INTERVAL,
        ],
        &ms(&interval),
    );
    let timeout = b
        .metric_export_timeout
        .and_then(|d| {
            env.code_in(
                "Builder::with_metric_export_timeout",
                d,
                &EXPORT_TIMEOUT_RANGE,
                ms,
            )
        })
        .or_else(|| env.millis_in(OTEL_METRIC_EXPORT_TIMEOUT, &EXPORT_TIMEOUT_RANGE))
        .unwrap_or(OTEL_METRIC_EXPORT_TIMEOUT_DEFAULT);
    env.fill_fallback(
        &[
            "Builder::with_metric_export_timeout",
            OTEL_METRIC_EXPORT_TIMEOUT,
        ],
        &ms(&timeout),
    );
    let temporality = b
        .metrics_temporality
        .or_else(|| {
            env.parse(
                OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE,
                "cumulative",
                str::parse,
            )
        })
        .unwrap_or_default();
    (interval, timeout, temporality)
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
                exporters: vec![MetricsExporter::Prometheus],
                interval: std::time::Duration::from_secs(60),
                timeout: std::time::Duration::from_secs(30),
                temporality: Temporality::Cumulative,
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
                exporters: vec![],
                interval: std::time::Duration::from_secs(60),
                timeout: std::time::Duration::from_secs(30),
                temporality: Temporality::Cumulative,
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
            .with_metrics_exporters([MetricsExporter::Prometheus])
            .with_prometheus_listener("127.0.0.1", 9100)
            .with_exemplar_filter(ExemplarFilter::AlwaysOn);
        let (found, issues) = resolved(&b);
        assert_eq!(found.exporters, [MetricsExporter::Prometheus]);
        assert_eq!(
            (found.prometheus_host.as_str(), found.prometheus_port),
            ("127.0.0.1", 9100)
        );
        assert_eq!(found.exemplar_filter, ExemplarFilter::AlwaysOn);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn a_push_reads_its_interval_timeout_and_temporality() {
        let b = crate::builder().with_env([
            (OTEL_METRICS_EXPORTER, "prometheus, OTLP"),
            (OTEL_METRIC_EXPORT_INTERVAL, "1500"),
            (OTEL_METRIC_EXPORT_TIMEOUT, "0"),
            (OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE, "Delta"),
        ]);
        let (found, issues) = resolved(&b);
        assert_eq!(
            found.exporters,
            [MetricsExporter::Prometheus, MetricsExporter::Otlp]
        );
        assert_eq!(found.interval, std::time::Duration::from_millis(1500));
        assert_eq!(found.timeout, std::time::Duration::from_secs(30));
        assert_eq!(found.temporality, Temporality::Delta);
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_METRIC_EXPORT_TIMEOUT,
                value: "0".into(),
                reason: "out of range: expected 10 to 600000 milliseconds".into(),
                fallback: "30000 ms".into(),
            }]
        );
        // `with_metrics(false)` turns every exporter off; a bad name warns.
        let b = crate::builder()
            .with_env([(OTEL_METRICS_EXPORTER, "otlp")])
            .with_metrics(false);
        assert!(resolved(&b).0.exporters.is_empty());
        let (found, issues) =
            resolved(&crate::builder().with_env([(OTEL_METRICS_EXPORTER, "statsd")]));
        assert_eq!(found.exporters, [MetricsExporter::Prometheus]);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(
            issues[0].reason,
            "unsupported exporter statsd; expected prometheus, otlp, console or none"
        );
    }
}
