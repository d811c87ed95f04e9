//! The OTLP exporter's TLS settings: the specification's certificate
//! variables (per signal first, then generic; code beats both), and
//! `OTEL_EXPORTER_OTLP_INSECURE` for a gRPC endpoint without a scheme.

use std::path::PathBuf;

use super::env::EnvReader;
use super::resolve::SignalVars;
use super::{
    Builder, OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_CLIENT_KEY, OTEL_EXPORTER_OTLP_INSECURE,
};

/// The files TLS is built from, each with the variable or method that gave it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct TlsPaths {
    pub(crate) certificate: Option<(&'static str, PathBuf)>,
    pub(crate) client_certificate: Option<(&'static str, PathBuf)>,
    pub(crate) client_key: Option<(&'static str, PathBuf)>,
}

/// `OTEL_EXPORTER_OTLP_[<SIGNAL>_]INSECURE`: whether a gRPC endpoint given
/// without a scheme is plain text. Defaults to `false` (TLS).
pub(super) fn insecure(b: &Builder, env: &mut EnvReader<'_>, signal: &SignalVars) -> bool {
    b.insecure
        .or_else(|| {
            env.raw(signal.insecure)
                .is_some()
                .then(|| env.bool(signal.insecure, false))
        })
        .unwrap_or_else(|| env.bool(OTEL_EXPORTER_OTLP_INSECURE, false))
}

/// `endpoint` with a scheme: a gRPC endpoint written `host:port` gets
/// `https://`, or `http://` when insecure (as the specification says; an
/// HTTP endpoint must carry its scheme).
pub(super) fn with_scheme(endpoint: &str, grpc: bool, insecure: bool) -> String {
    let endpoint = endpoint.trim();
    if grpc && !endpoint.contains("://") && !endpoint.is_empty() {
        let scheme = if insecure { "http" } else { "https" };
        format!("{scheme}://{endpoint}")
    } else {
        endpoint.to_owned()
    }
}

/// The certificate paths: code, then the per-signal variable, then the
/// generic one.
pub(super) fn paths(b: &Builder, env: &EnvReader<'_>, signal: &SignalVars) -> TlsPaths {
    let pick = |code: &Option<PathBuf>,
                method: &'static str,
                signal: &'static str,
                generic: &'static str| {
        if let Some(path) = code {
            return Some((method, path.clone()));
        }
        [signal, generic].into_iter().find_map(|name| {
            env.raw(name)
                .filter(|value| !value.trim().is_empty())
                .map(|value| (name, PathBuf::from(value.trim())))
        })
    };
    TlsPaths {
        certificate: pick(
            &b.tls_certificate,
            "Builder::with_otlp_certificate",
            signal.certificate,
            OTEL_EXPORTER_OTLP_CERTIFICATE,
        ),
        client_certificate: pick(
            &b.tls_client_certificate,
            "Builder::with_otlp_client_certificate",
            signal.client_certificate,
            OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
        ),
        client_key: pick(
            &b.tls_client_key,
            "Builder::with_otlp_client_key",
            signal.client_key,
            OTEL_EXPORTER_OTLP_CLIENT_KEY,
        ),
    }
}

/// The client TLS for `endpoint` when it is `https://`: built from `paths`
/// now, so that a bad file is a configuration warning (an error in strict
/// mode), named with its variable and path, and never a failure later.
#[cfg(feature = "tls")]
pub(super) fn client(
    endpoint: &str,
    paths: &TlsPaths,
    env: &mut EnvReader<'_>,
) -> Option<crate::transport::ClientTls> {
    if !endpoint.starts_with("https://") {
        return None;
    }
    let files = crate::transport::tls::TlsFiles {
        certificate: paths.certificate.clone(),
        client_certificate: paths.client_certificate.clone(),
        client_key: paths.client_key.clone(),
    };
    let (config, problems) = crate::transport::tls::client_config(&files);
    for problem in problems {
        env.reject(
            problem.variable,
            &problem.path.display().to_string(),
            problem.reason,
            problem.fallback,
        );
    }
    Some(std::sync::Arc::new(config))
}

/// Without the `tls` feature, `https://` endpoints are refused earlier.
#[cfg(not(feature = "tls"))]
pub(super) fn client(
    _endpoint: &str,
    _paths: &TlsPaths,
    _env: &mut EnvReader<'_>,
) -> Option<crate::transport::ClientTls> {
    None
}

/// What the settings summary shows of TLS.
pub(super) fn describe(endpoint: &str, paths: &TlsPaths) -> String {
    if !endpoint.starts_with("https://") {
        return "off (http://)".to_owned();
    }
    let trust = paths.certificate.as_ref().map_or_else(
        || "the system's roots".to_owned(),
        |(_, path)| format!("the CAs in {}", path.display()),
    );
    match &paths.client_certificate {
        Some((_, cert)) => format!("trusting {trust}; client certificate {}", cert.display()),
        None => format!("trusting {trust}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::resolve::{LOGS, TRACES};
    use crate::env::{OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE};

    #[test]
    fn a_grpc_endpoint_without_a_scheme_is_tls_unless_insecure() {
        assert_eq!(
            with_scheme("collector:4317", true, false),
            "https://collector:4317"
        );
        assert_eq!(
            with_scheme("collector:4317", true, true),
            "http://collector:4317"
        );
        assert_eq!(with_scheme("http://c:4317", true, false), "http://c:4317");
        assert_eq!(with_scheme("collector:4318", false, true), "collector:4318");
    }

    #[test]
    fn code_beats_the_signal_variable_which_beats_the_generic_one() {
        let builder = crate::builder().with_env([
            (OTEL_EXPORTER_OTLP_CERTIFICATE, "/generic.pem"),
            (OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE, "/traces.pem"),
            (OTEL_EXPORTER_OTLP_CLIENT_KEY, "/key.pem"),
        ]);
        let env = EnvReader::new(&builder.env);
        let found = paths(&builder, &env, &TRACES);
        assert_eq!(
            found.certificate,
            Some((
                OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
                PathBuf::from("/traces.pem")
            ))
        );
        assert_eq!(
            found.client_key,
            Some((OTEL_EXPORTER_OTLP_CLIENT_KEY, PathBuf::from("/key.pem")))
        );
        // Logs read their own variable, then the generic one.
        assert_eq!(
            paths(&builder, &env, &LOGS).certificate,
            Some((
                OTEL_EXPORTER_OTLP_CERTIFICATE,
                PathBuf::from("/generic.pem")
            ))
        );
        let logs = crate::builder().with_env([(OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE, "/logs.pem")]);
        assert_eq!(
            paths(&logs, &EnvReader::new(&logs.env), &LOGS).certificate,
            Some((
                OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
                PathBuf::from("/logs.pem")
            ))
        );
        let builder = builder.with_otlp_certificate("/code.pem");
        let env = EnvReader::new(&builder.env);
        assert_eq!(
            paths(&builder, &env, &TRACES).certificate,
            Some(("Builder::with_otlp_certificate", PathBuf::from("/code.pem")))
        );
    }

    #[test]
    fn the_summary_says_what_is_trusted() {
        let none = TlsPaths::default();
        assert_eq!(describe("http://c:4318", &none), "off (http://)");
        assert_eq!(
            describe("https://c:4318", &none),
            "trusting the system's roots"
        );
        let ca = TlsPaths {
            certificate: Some(("X", PathBuf::from("/ca.pem"))),
            ..TlsPaths::default()
        };
        assert_eq!(describe("https://c", &ca), "trusting the CAs in /ca.pem");
    }
}
