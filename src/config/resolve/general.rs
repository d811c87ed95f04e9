//! The settings of tracelink as a whole: strict mode
//! (`TRACELINK_STRICT_CONFIG`), `OTEL_SDK_DISABLED`, how much tracelink says
//! about itself (`OTEL_LOG_LEVEL`), context activation, and the one timeout
//! of everything the guard does at shutdown (`TRACELINK_SHUTDOWN_TIMEOUT`).

use std::time::Duration;

use crate::config::env::{ms, EnvReader};
use crate::config::Builder;
use crate::diag::DiagLevel;
use crate::env::{
    OTEL_LOG_LEVEL, OTEL_SDK_DISABLED, TRACELINK_SHUTDOWN_TIMEOUT,
    TRACELINK_SHUTDOWN_TIMEOUT_DEFAULT, TRACELINK_SHUTDOWN_TIMEOUT_RANGE, TRACELINK_STRICT_CONFIG,
};

/// The switches read before anything else.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Switches {
    /// Every invalid value is an error instead of a warning.
    pub(super) strict: bool,
    /// No span is exported.
    pub(super) disabled: bool,
    pub(super) log_level: DiagLevel,
    /// Entering a span makes its OpenTelemetry context current (code only).
    pub(super) context_activation: bool,
}

pub(super) fn switches(b: &Builder, env: &mut EnvReader<'_>) -> Switches {
    let strict = b
        .strict
        .unwrap_or_else(|| env.bool(TRACELINK_STRICT_CONFIG, false));
    let disabled = b
        .disabled
        .unwrap_or_else(|| env.bool(OTEL_SDK_DISABLED, false));
    let log_level = b
        .log_level
        .or_else(|| {
            env.parse(OTEL_LOG_LEVEL, "warn", |v| {
                DiagLevel::parse(v)
                    .ok_or_else(|| "expected none, error, warn, info or debug".into())
            })
        })
        .unwrap_or(DiagLevel::Warn);
    Switches {
        strict,
        disabled,
        log_level,
        context_activation: b.context_activation.unwrap_or(true),
    }
}

/// Code (held to the variable's range), then `TRACELINK_SHUTDOWN_TIMEOUT`,
/// then 5 s.
pub(super) fn shutdown_timeout(b: &Builder, env: &mut EnvReader<'_>) -> Duration {
    let timeout = b
        .shutdown_timeout
        .and_then(|t| {
            env.code_in(
                "Builder::with_shutdown_timeout",
                t,
                &TRACELINK_SHUTDOWN_TIMEOUT_RANGE,
                ms,
            )
        })
        .or_else(|| {
            env.millis_in(
                TRACELINK_SHUTDOWN_TIMEOUT,
                &TRACELINK_SHUTDOWN_TIMEOUT_RANGE,
            )
        })
        .unwrap_or(TRACELINK_SHUTDOWN_TIMEOUT_DEFAULT);
    env.fill_fallback(
        &["Builder::with_shutdown_timeout", TRACELINK_SHUTDOWN_TIMEOUT],
        &ms(&timeout),
    );
    timeout
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Warning;

    #[test]
    fn defaults_when_nothing_is_set() {
        let b = crate::builder().with_env::<_, String, String>([]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            switches(&b, &mut env),
            Switches {
                strict: false,
                disabled: false,
                log_level: DiagLevel::Warn,
                context_activation: true,
            }
        );
        assert_eq!(shutdown_timeout(&b, &mut env), Duration::from_secs(5));
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn code_beats_env() {
        let b = crate::builder()
            .with_env([
                (TRACELINK_STRICT_CONFIG, "true"),
                (OTEL_SDK_DISABLED, "true"),
                (OTEL_LOG_LEVEL, "debug"),
                (TRACELINK_SHUTDOWN_TIMEOUT, "100"),
            ])
            .with_strict_config(false)
            .with_sdk_disabled(false)
            .with_log_level(DiagLevel::Error)
            .with_context_activation(false)
            .with_shutdown_timeout(Duration::from_millis(250));
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            switches(&b, &mut env),
            Switches {
                strict: false,
                disabled: false,
                log_level: DiagLevel::Error,
                context_activation: false,
            }
        );
        assert_eq!(shutdown_timeout(&b, &mut env), Duration::from_millis(250));
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn env_is_read_ignoring_case() {
        let b = crate::builder().with_env([
            (TRACELINK_STRICT_CONFIG, "TRUE"),
            (OTEL_SDK_DISABLED, "True"),
            (OTEL_LOG_LEVEL, "info"),
            (TRACELINK_SHUTDOWN_TIMEOUT, "0"),
        ]);
        let mut env = EnvReader::new(&b.env);
        let found = switches(&b, &mut env);
        assert!(found.strict && found.disabled);
        assert_eq!(found.log_level, DiagLevel::Info);
        // 0 is in range: do not wait at all.
        assert_eq!(shutdown_timeout(&b, &mut env), Duration::ZERO);
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn a_bad_value_is_one_warning_and_the_default() {
        let b = crate::builder().with_env([
            (OTEL_SDK_DISABLED, "yes"),
            (TRACELINK_SHUTDOWN_TIMEOUT, "600001"),
        ]);
        let mut env = EnvReader::new(&b.env);
        assert!(!switches(&b, &mut env).disabled);
        assert_eq!(shutdown_timeout(&b, &mut env), Duration::from_secs(5));
        assert_eq!(
            env.issues,
            [
                Warning {
                    name: OTEL_SDK_DISABLED,
                    value: "yes".into(),
                    reason: "expected true or false".into(),
                    fallback: "false".into(),
                },
                Warning {
                    name: TRACELINK_SHUTDOWN_TIMEOUT,
                    value: "600001".into(),
                    reason: "out of range: expected 0 to 600000 milliseconds".into(),
                    fallback: "5000 ms".into(),
                },
            ]
        );
    }

    #[test]
    fn a_timeout_from_code_is_held_to_the_range_and_the_env_is_next() {
        let b = crate::builder()
            .with_env([(TRACELINK_SHUTDOWN_TIMEOUT, "300")])
            .with_shutdown_timeout(Duration::from_secs(3600));
        let mut env = EnvReader::new(&b.env);
        assert_eq!(shutdown_timeout(&b, &mut env), Duration::from_millis(300));
        assert_eq!(
            env.issues,
            [Warning {
                name: "Builder::with_shutdown_timeout",
                value: "3600000 ms".into(),
                reason: "out of range: expected 0 ms to 600000 ms".into(),
                fallback: "300 ms".into(),
            }]
        );
    }
}
