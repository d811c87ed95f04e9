//! Which events become log lines and which spans exist (`RUST_LOG` and
//! `TRACELINK_SPAN_FILTER`, two filters so that `RUST_LOG=warn` still
//! exports the `INFO` spans its lines point at), and how lines are written:
//! span events, format, field style, the GCP project, non-blocking writes;
//! and where log records go besides the lines (`OTEL_LOGS_EXPORTER`).

use tracing::level_filters::LevelFilter;

use crate::config::env::EnvReader;
use crate::config::Builder;
use crate::env::{
    GOOGLE_CLOUD_PROJECT, RUST_LOG, RUST_LOG_DEFAULT, TRACELINK_LOG_FORMAT,
    TRACELINK_LOG_FORMAT_DEFAULT, TRACELINK_LOG_NON_BLOCKING, TRACELINK_LOG_STYLE,
    TRACELINK_SPAN_EVENTS, TRACELINK_SPAN_FILTER, TRACELINK_SPAN_FILTER_DEFAULT,
};
use crate::logs::{LogFormat, LogStyle, LogsExporter};

/// Code or `OTEL_LOGS_EXPORTER`; none by default (the lines on stdout are
/// the logs).
pub(super) fn exporters(b: &Builder, env: &mut EnvReader<'_>) -> Vec<LogsExporter> {
    if let Some(exporters) = &b.logs_exporters {
        return exporters.clone();
    }
    let names = [
        LogsExporter::Otlp,
        LogsExporter::Console,
        LogsExporter::File,
    ]
    .map(|e| (e.name(), e));
    env.name_list(crate::env::OTEL_LOGS_EXPORTER, "exporter", &names, &[])
}

/// The two filters, each the directives that parsed.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Filters {
    /// Which events become log lines.
    pub(super) filter: String,
    /// Which spans exist, whatever `filter` says.
    pub(super) span_filter: String,
}

pub(super) fn filters(b: &Builder, env: &mut EnvReader<'_>) -> Filters {
    let filter = directives(
        env,
        ("Builder::with_filter", b.filter.as_ref()),
        RUST_LOG,
        RUST_LOG_DEFAULT,
    );
    let span_filter = directives(
        env,
        ("Builder::with_span_filter", b.span_filter.as_ref()),
        TRACELINK_SPAN_FILTER,
        TRACELINK_SPAN_FILTER_DEFAULT,
    );
    Filters {
        filter,
        span_filter,
    }
}

/// Directives from code or `var`: those that parse, each checked alone (as
/// `EnvFilter` splits them), with one warning naming the others; `default`
/// when none is left. (`EnvFilter`'s own lossy parser prints a second,
/// unprefixed warning and, with nothing valid, filters everything out.)
fn directives(
    env: &mut EnvReader<'_>,
    code: (&'static str, Option<&String>),
    var: &'static str,
    default: &str,
) -> String {
    let (name, value) = match code {
        (name, Some(value)) => (name, value.clone()),
        (_, None) => match env.raw(var) {
            Some(value) => (var, value),
            None => return default.to_owned(),
        },
    };
    let mut valid = Vec::new();
    let mut bad = Vec::new();
    for part in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<tracing_subscriber::filter::Directive>() {
            Ok(_) => valid.push(part),
            Err(error) => bad.push(format!("{part:?} ({error})")),
        }
    }
    let kept = if valid.is_empty() {
        default.to_owned()
    } else {
        valid.join(",")
    };
    if !bad.is_empty() {
        let reason = format!("invalid directive {}", bad.join(", "));
        env.reject(name, &value, reason, kept.clone());
    }
    kept
}

/// How events are written.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Lines {
    /// The lowest level of the events that also become span events.
    pub(super) span_events: LevelFilter,
    pub(super) log_format: LogFormat,
    pub(super) log_style: LogStyle,
    pub(super) gcp_project: Option<String>,
    pub(super) non_blocking_logs: bool,
}

pub(super) fn lines(b: &Builder, env: &mut EnvReader<'_>) -> Lines {
    let span_events = b.span_events.map_or_else(
        || {
            env.parse(TRACELINK_SPAN_EVENTS, "warn", |v| {
                match v.to_ascii_lowercase().as_str() {
                    "error" => Ok(LevelFilter::ERROR),
                    "warn" => Ok(LevelFilter::WARN),
                    "info" => Ok(LevelFilter::INFO),
                    "debug" => Ok(LevelFilter::DEBUG),
                    "trace" | "all" => Ok(LevelFilter::TRACE),
                    _ => Err("expected error, warn, info, debug or trace".into()),
                }
            })
            .unwrap_or(LevelFilter::WARN)
        },
        LevelFilter::from_level,
    );
    let log_format = b.log_format.unwrap_or_else(|| {
        env.parse(TRACELINK_LOG_FORMAT, TRACELINK_LOG_FORMAT_DEFAULT, |v| {
            v.parse()
        })
        .unwrap_or_default()
    });
    let log_style = b
        .log_style
        .or_else(|| {
            env.parse(TRACELINK_LOG_STYLE, "otel", |v| {
                LogStyle::parse(v).ok_or_else(|| "expected otel, ecs, gcp or datadog".into())
            })
        })
        .unwrap_or_default();
    let gcp_project = b
        .gcp_project
        .clone()
        .or_else(|| env.raw(GOOGLE_CLOUD_PROJECT).map(|p| p.trim().to_owned()));
    let non_blocking_logs = b
        .non_blocking_logs
        .unwrap_or_else(|| env.bool(TRACELINK_LOG_NON_BLOCKING, false));
    Lines {
        span_events,
        log_format,
        log_style,
        gcp_project,
        non_blocking_logs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Warning;

    fn resolved(b: &Builder) -> (Filters, Lines, Vec<Warning>) {
        let mut env = EnvReader::new(&b.env);
        let filters = filters(b, &mut env);
        let lines = lines(b, &mut env);
        (filters, lines, env.issues)
    }

    fn filters_of(vars: &[(&'static str, &'static str)]) -> (Filters, Vec<Warning>) {
        let (filters, _, issues) = resolved(&crate::builder().with_env(vars.iter().copied()));
        (filters, issues)
    }

    #[test]
    fn defaults() {
        let (filters, lines, issues) =
            resolved(&crate::builder().with_env::<_, String, String>([]));
        assert_eq!(
            filters,
            Filters {
                filter: "info".into(),
                span_filter: "info".into(),
            }
        );
        assert_eq!(
            lines,
            Lines {
                span_events: LevelFilter::WARN,
                log_format: LogFormat::Json,
                log_style: LogStyle::Otel,
                gcp_project: None,
                non_blocking_logs: false,
            }
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn rust_log_warn_leaves_the_span_filter_at_info() {
        // Two filters: the lines follow RUST_LOG, the spans (and so the
        // trace each WARN line points at) follow TRACELINK_SPAN_FILTER.
        let (filters, issues) = filters_of(&[(RUST_LOG, "warn")]);
        assert_eq!(filters.filter, "warn");
        assert_eq!(filters.span_filter, "info");
        assert!(issues.is_empty(), "{issues:?}");

        let (filters, _) = filters_of(&[(RUST_LOG, "error"), (TRACELINK_SPAN_FILTER, "debug")]);
        assert_eq!(filters.filter, "error");
        assert_eq!(filters.span_filter, "debug");
    }

    #[test]
    fn an_invalid_rust_log_falls_back_to_info_with_one_warning() {
        let (filters, issues) = filters_of(&[(RUST_LOG, "=")]);
        assert_eq!(filters.filter, "info");
        assert_eq!(
            issues,
            [Warning {
                name: RUST_LOG,
                value: "=".into(),
                reason: "invalid directive \"=\" (invalid filter directive)".into(),
                fallback: "info".into(),
            }]
        );
    }

    #[test]
    fn the_valid_directives_are_kept_and_the_bad_ones_named_once() {
        let (filters, issues) = filters_of(&[(RUST_LOG, " warn , [[[ ,my_crate=debug,=")]);
        assert_eq!(filters.filter, "warn,my_crate=debug");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, RUST_LOG);
        assert_eq!(issues[0].fallback, "warn,my_crate=debug");
        assert!(
            issues[0]
                .reason
                .starts_with("invalid directive \"[[[\" (invalid filter directive), \"=\" ("),
            "{}",
            issues[0].reason
        );
    }

    #[test]
    fn filters_from_code_beat_env_and_are_checked_alike() {
        let b = crate::builder()
            .with_env([(RUST_LOG, "[[["), (TRACELINK_SPAN_FILTER, "[[[")])
            .with_filter("warn,==")
            .with_span_filter("info,sqlx=warn");
        let (filters, _, issues) = resolved(&b);
        assert_eq!(
            filters,
            Filters {
                filter: "warn".into(),
                span_filter: "info,sqlx=warn".into(),
            }
        );
        // One warning, naming the method; the variables were never read.
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, "Builder::with_filter");
        assert_eq!(issues[0].value, "warn,==");
    }

    #[test]
    fn lines_come_from_env() {
        let b = crate::builder().with_env([
            (TRACELINK_SPAN_EVENTS, "ALL"),
            (TRACELINK_LOG_FORMAT, "pretty"),
            (TRACELINK_LOG_STYLE, "gcp"),
            (GOOGLE_CLOUD_PROJECT, " my-project "),
            (TRACELINK_LOG_NON_BLOCKING, "true"),
        ]);
        let (_, lines, issues) = resolved(&b);
        assert_eq!(
            lines,
            Lines {
                span_events: LevelFilter::TRACE,
                log_format: LogFormat::Pretty,
                log_style: LogStyle::Gcp,
                gcp_project: Some("my-project".into()),
                non_blocking_logs: true,
            }
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn bad_line_settings_warn_once_each_with_the_default() {
        let b = crate::builder().with_env([
            (TRACELINK_SPAN_EVENTS, "loud"),
            (TRACELINK_LOG_FORMAT, "xml"),
            (TRACELINK_LOG_STYLE, "splunk"),
        ]);
        let (_, lines, issues) = resolved(&b);
        assert_eq!(lines.span_events, LevelFilter::WARN);
        assert_eq!(lines.log_format, LogFormat::Json);
        assert_eq!(lines.log_style, LogStyle::Otel);
        let seen: Vec<(&str, &str, &str)> = issues
            .iter()
            .map(|w| (w.name, w.value.as_str(), w.fallback.as_str()))
            .collect();
        assert_eq!(
            seen,
            [
                (TRACELINK_SPAN_EVENTS, "loud", "warn"),
                (TRACELINK_LOG_FORMAT, "xml", "json"),
                (TRACELINK_LOG_STYLE, "splunk", "otel"),
            ]
        );
        assert_eq!(issues[1].reason, "expected json, pretty or none");
    }

    #[test]
    fn lines_from_code_beat_env() {
        let b = crate::builder()
            .with_env([
                (TRACELINK_SPAN_EVENTS, "loud"),
                (TRACELINK_LOG_FORMAT, "xml"),
                (GOOGLE_CLOUD_PROJECT, "env-project"),
                (TRACELINK_LOG_NON_BLOCKING, "perhaps"),
            ])
            .with_span_events(tracing::Level::INFO)
            .with_log_format(LogFormat::None)
            .with_log_style(LogStyle::Ecs)
            .with_gcp_project("code-project")
            .with_non_blocking_logs(false);
        let (_, lines, issues) = resolved(&b);
        assert_eq!(
            lines,
            Lines {
                span_events: LevelFilter::INFO,
                log_format: LogFormat::None,
                log_style: LogStyle::Ecs,
                gcp_project: Some("code-project".into()),
                non_blocking_logs: false,
            }
        );
        assert!(issues.is_empty(), "{issues:?}");
    }
}
