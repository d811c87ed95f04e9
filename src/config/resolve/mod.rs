//! Merging the builder with the environment into one [`Config`], one
//! capability at a time: each part reads the [`Builder`]'s fields for its
//! capability and the variables through an [`EnvReader`], which collects
//! every value it refused.
//!
//! * `general`: strict mode, `OTEL_SDK_DISABLED`, diagnostics, the shutdown
//!   timeout.
//! * `resource`: `service.name` and the resource attributes.
//! * `traces`: the exporters, the trace file, the sampler and batching.
//! * `otlp`: where and how OTLP sends (endpoint, protocol, TLS, headers,
//!   timeout, compression).
//! * `propagation`: `OTEL_PROPAGATORS`.
//! * `logs`: the log and span filters, the format and style of lines.
//! * `metrics`: `/metrics`, series per metric, exemplars.
//! * `logs` again: where log records go (`OTEL_LOGS_EXPORTER`), then
//!   `otlp` for the logs' own endpoint and `traces` for their batching.
//! * `summary`: the settings list [`Config`]'s `Display` prints, each with
//!   its [`Origin`](super::Origin).
//!
//! Only this module reads the builder and the environment together; the
//! builder knows nothing of it.

mod general;
mod logs;
mod metrics;
mod otlp;
mod propagation;
mod resource;
mod summary;
mod traces;

pub(super) use otlp::SignalVars;
#[cfg(test)]
pub(super) use otlp::{LOGS, TRACES};

use super::env::EnvReader;
use super::{Builder, Config};
use crate::Error;

impl Builder {
    /// The effective settings, without installing anything.
    ///
    /// # Errors
    ///
    /// In strict mode, [`Error::InvalidConfig`] for the first invalid value.
    pub fn config(&self) -> Result<Config, Error> {
        resolve(self)
    }
}

/// Every part, in the order their variables are read: that is the order
/// of [`Config::warnings`], and strict mode refuses the first of them, so
/// it does not change.
fn resolve(b: &Builder) -> Result<Config, Error> {
    let mut env = EnvReader::new(&b.env);
    let general = general::switches(b, &mut env);
    let resource = resource::resource(b, &mut env);
    let files = traces::exporters(b, &mut env);
    let otlp = otlp::otlp(b, &mut env, &otlp::TRACES);
    let sampler = traces::sampler(b, &mut env);
    let propagators = propagation::propagators(b, &mut env);
    let batch = traces::batch(b.batch.as_ref(), &mut env, &traces::SPAN_BATCH);
    let filters = logs::filters(b, &mut env);
    let shutdown_timeout = general::shutdown_timeout(b, &mut env);
    let lines = logs::lines(b, &mut env);
    let metrics = metrics::metrics(b, &mut env);
    let logs_exporters = logs::exporters(b, &mut env);
    let logs_otlp = logs_exporters
        .contains(&crate::logs::LogsExporter::Otlp)
        .then(|| otlp::otlp(b, &mut env, &otlp::LOGS));
    let logs_batch = traces::batch(b.logs_batch.as_ref(), &mut env, &traces::LOG_BATCH);
    let span_limits = traces::span_limits(b, &mut env);
    let metrics_otlp = metrics
        .exporters
        .contains(&crate::metrics::MetricsExporter::Otlp)
        .then(|| otlp::otlp(b, &mut env, &otlp::METRICS));

    if general.strict {
        if let Some(error) = env.strict_error() {
            return Err(error);
        }
    }
    let mut config = Config {
        disabled: general.disabled,
        service_name: resource.service_name,
        resource: resource.attributes,
        exporters: files.exporters,
        traces_file: files.traces_file,
        traces_file_max_bytes: files.traces_file_max_bytes,
        otlp,
        sampler,
        span_limits,
        propagators,
        batch,
        log_level: general.log_level,
        filter: filters.filter,
        span_filter: filters.span_filter,
        shutdown_timeout,
        context_activation: general.context_activation,
        span_events: lines.span_events,
        log_format: lines.log_format,
        log_style: lines.log_style,
        gcp_project: lines.gcp_project,
        non_blocking_logs: lines.non_blocking_logs,
        metrics: !metrics.exporters.is_empty(),
        metrics_exporters: metrics.exporters,
        metrics_otlp,
        metric_export_interval: metrics.interval,
        metric_export_timeout: metrics.timeout,
        metrics_temporality: metrics.temporality,
        metrics_cardinality_limit: metrics.cardinality_limit,
        prometheus_host: metrics.prometheus_host,
        prometheus_port: metrics.prometheus_port,
        exemplar_filter: metrics.exemplar_filter,
        logs_exporters,
        logs_otlp,
        logs_batch,
        warnings: env.issues.clone(),
        settings: Vec::new(),
    };
    config.settings = summary::settings(b, &env, &config);
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Origin, Warning};
    use crate::env::{
        OTEL_BSP_MAX_QUEUE_SIZE, OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME,
        RUST_LOG, TRACELINK_SPAN_EVENTS, TRACELINK_STRICT_CONFIG,
    };

    #[test]
    fn warnings_keep_the_order_the_variables_are_read_in() -> Result<(), Error> {
        // Read order: general, resource, traces, otlp, ..., logs, shutdown,
        // lines, metrics; strict mode reports the first.
        let config = crate::builder()
            .with_env([
                (TRACELINK_SPAN_EVENTS, "loud"),
                (RUST_LOG, "="),
                (OTEL_BSP_MAX_QUEUE_SIZE, "lots"),
                (OTEL_SDK_DISABLED, "yes"),
            ])
            .config()?;
        let names: Vec<&str> = config.warnings().iter().map(Warning::variable).collect();
        assert_eq!(
            names,
            [
                OTEL_SDK_DISABLED,
                OTEL_BSP_MAX_QUEUE_SIZE,
                RUST_LOG,
                TRACELINK_SPAN_EVENTS
            ]
        );
        Ok(())
    }

    #[test]
    fn strict_mode_turns_the_first_warning_into_the_error() {
        let vars = [
            (OTEL_BSP_MAX_QUEUE_SIZE, "lots"),
            (TRACELINK_SPAN_EVENTS, "loud"),
        ];
        let lenient = crate::builder().with_env(vars).config();
        assert!(
            lenient.is_ok_and(|c| c.warnings().len() == 2),
            "lenient: two warnings, no error"
        );
        for strict in [
            crate::builder().with_env(vars).with_strict_config(true),
            crate::builder().with_env([vars[0], vars[1], (TRACELINK_STRICT_CONFIG, "true")]),
        ] {
            let error = strict.config().err();
            assert!(
                matches!(
                    &error,
                    Some(Error::InvalidConfig { name, value, reason })
                        if *name == OTEL_BSP_MAX_QUEUE_SIZE
                            && value == "lots"
                            && reason == "expected a whole number from 1 to 1000000"
                ),
                "{error:?}"
            );
        }
        // Strict from code beats the variable.
        let relaxed = crate::builder()
            .with_env([vars[0], (TRACELINK_STRICT_CONFIG, "true")])
            .with_strict_config(false)
            .config();
        assert!(relaxed.is_ok());
    }

    #[test]
    fn each_part_lands_in_its_field() -> Result<(), Error> {
        let config = crate::builder()
            .with_env([
                (OTEL_SERVICE_NAME, "from-env"),
                (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
                (RUST_LOG, "warn"),
            ])
            .with_service_name("from-code")
            .config()?;
        assert_eq!(config.service_name(), "from-code");
        assert_eq!(config.traces_endpoint(), "http://collector:4318/v1/traces");
        assert_eq!((config.filter(), config.span_filter()), ("warn", "info"));
        assert!(config.context_activation());
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        let origins: Vec<Origin> = config.settings.iter().map(|s| s.origin).collect();
        assert_eq!(
            origins.iter().filter(|o| **o == Origin::Code).count(),
            1,
            "only service.name is from code: {config}"
        );
        Ok(())
    }

    #[test]
    fn the_logs_otlp_lines_show_only_when_logs_go_over_otlp() -> Result<(), Error> {
        let config = crate::builder()
            .with_env([
                (crate::env::OTEL_LOGS_EXPORTER, "otlp,file"),
                (crate::env::OTEL_EXPORTER_OTLP_LOGS_PROTOCOL, "grpc"),
                (crate::env::OTEL_EXPORTER_OTLP_HEADERS, "x-api-key=s3cret"),
                (crate::env::OTEL_BLRP_SCHEDULE_DELAY, "250"),
            ])
            .config()?;
        let summary = config.to_string();
        for line in [
            "logs exporters         otlp,file  (env OTEL_LOGS_EXPORTER)",
            "logs otlp endpoint     http://localhost:4317  (default)",
            "logs otlp protocol     grpc  (env OTEL_EXPORTER_OTLP_LOGS_PROTOCOL)",
            "logs otlp headers      x-api-key (values not shown)  (env OTEL_EXPORTER_OTLP_HEADERS)",
            "logs batch             every 250 ms, at most 512 a batch, 2048 queued, 30000 ms an export  (env OTEL_BLRP_SCHEDULE_DELAY)",
        ] {
            assert!(summary.contains(line), "{line:?} not in\n{summary}");
        }
        assert!(!summary.contains("s3cret"), "{summary}");
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        Ok(())
    }

    #[test]
    fn the_summary_prints_one_aligned_line_per_setting() -> Result<(), Error> {
        let config = crate::builder()
            .with_env([
                (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
                (OTEL_BSP_MAX_QUEUE_SIZE, "lots"),
            ])
            .with_service_name("checkout")
            .config()?;
        let expected = "\
sdk disabled          false  (default)
service.name          checkout  (code)
traces exporters      otlp  (default)
otlp endpoint         http://collector:4318/v1/traces  (env OTEL_EXPORTER_OTLP_ENDPOINT)
otlp tls              off (http://)  (default)
otlp protocol         http/protobuf  (default)
otlp headers          none  (default)
otlp timeout          10000 ms  (default)
otlp compression      none  (default)
sampler               parentbased_always_on  (default)
span limits           128 attributes, 128 events, 128 links, 128 an event's, 128 a link's; values unlimited  (default)
propagators           tracecontext,baggage  (default)
batch delay           5000 ms  (default)
batch export timeout  30000 ms  (default)
batch queue size      2048  (OTEL_BSP_MAX_QUEUE_SIZE was invalid, see the warning)
batch max size        512  (default)
span filter           info  (default)
log filter            info  (default)
span events           warn  (default)
log format            json  (default)
log style             otel  (default)
non-blocking logs     false  (default)
logs exporters        none  (default)
metrics               prometheus on http://localhost:9464/metrics  (default)
series per metric     at most 2000  (default)
exemplar filter       TraceBased  (default)
shutdown timeout      5000 ms  (default)
diagnostics           warn  (default)";
        assert_eq!(config.to_string(), expected);
        assert_eq!(
            config
                .warnings()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            [
                "ignoring OTEL_BSP_MAX_QUEUE_SIZE=\"lots\": expected a whole number \
              from 1 to 1000000; using 2048"
            ]
        );
        Ok(())
    }
}
