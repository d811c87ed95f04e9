//! Where and how an OTLP exporter sends, for one signal (traces, logs or
//! metrics): the protocol, the signal's URL (per-signal variable used as
//! is, base one with `/v1/<signal>` appended for HTTP), TLS, headers
//! (percent-decoded, values never printed), the request timeout and
//! compression. Per-signal `OTEL_EXPORTER_OTLP_<SIGNAL>_*` beats the generic
//! `OTEL_EXPORTER_OTLP_*`; code beats both.

use crate::config::env::{ms, parse_key_values, EnvReader};
use crate::config::tls;
use crate::config::{Builder, HeaderList, OtlpSettings};
use crate::env::{
    EXPORT_TIMEOUT_RANGE, OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT, OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT,
    OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT,
};
use crate::trace::Protocol;

/// One signal's variables and builder method, and the path its HTTP URL
/// gets from a base URL.
#[derive(Debug)]
pub(in crate::config) struct SignalVars {
    /// `v1/traces`.
    pub(in crate::config) path: &'static str,
    /// The builder method for this signal's URL, and its value.
    pub(in crate::config) endpoint_method: &'static str,
    pub(in crate::config) endpoint_code: fn(&Builder) -> &Option<String>,
    pub(in crate::config) endpoint: &'static str,
    pub(in crate::config) protocol: &'static str,
    pub(in crate::config) headers: &'static str,
    pub(in crate::config) timeout: &'static str,
    pub(in crate::config) compression: &'static str,
    pub(in crate::config) certificate: &'static str,
    pub(in crate::config) client_certificate: &'static str,
    pub(in crate::config) client_key: &'static str,
    pub(in crate::config) insecure: &'static str,
}

macro_rules! signal_vars {
    ($path:literal, $method:literal, $field:ident, $($name:ident = $var:ident),* $(,)?) => {
        SignalVars {
            path: $path,
            endpoint_method: $method,
            endpoint_code: |b| &b.$field,
            $($name: crate::env::$var,)*
        }
    };
}

/// The variables of traces.
pub(in crate::config) const TRACES: SignalVars = signal_vars!(
    "v1/traces",
    "Builder::with_otlp_traces_endpoint",
    traces_endpoint,
    endpoint = OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    protocol = OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    headers = OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    timeout = OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    compression = OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    certificate = OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    client_certificate = OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
    client_key = OTEL_EXPORTER_OTLP_TRACES_CLIENT_KEY,
    insecure = OTEL_EXPORTER_OTLP_TRACES_INSECURE,
);

/// The variables of logs.
pub(in crate::config) const LOGS: SignalVars = signal_vars!(
    "v1/logs",
    "Builder::with_otlp_logs_endpoint",
    logs_endpoint,
    endpoint = OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
    protocol = OTEL_EXPORTER_OTLP_LOGS_PROTOCOL,
    headers = OTEL_EXPORTER_OTLP_LOGS_HEADERS,
    timeout = OTEL_EXPORTER_OTLP_LOGS_TIMEOUT,
    compression = OTEL_EXPORTER_OTLP_LOGS_COMPRESSION,
    certificate = OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE,
    client_certificate = OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE,
    client_key = OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY,
    insecure = OTEL_EXPORTER_OTLP_LOGS_INSECURE,
);

/// The variables of metrics.
pub(in crate::config) const METRICS: SignalVars = signal_vars!(
    "v1/metrics",
    "Builder::with_otlp_metrics_endpoint",
    metrics_endpoint,
    endpoint = OTEL_EXPORTER_OTLP_METRICS_ENDPOINT,
    protocol = OTEL_EXPORTER_OTLP_METRICS_PROTOCOL,
    headers = OTEL_EXPORTER_OTLP_METRICS_HEADERS,
    timeout = OTEL_EXPORTER_OTLP_METRICS_TIMEOUT,
    compression = OTEL_EXPORTER_OTLP_METRICS_COMPRESSION,
    certificate = OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE,
    client_certificate = OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE,
    client_key = OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY,
    insecure = OTEL_EXPORTER_OTLP_METRICS_INSECURE,
);

/// Everything `signal`'s OTLP exporter is built from.
pub(super) fn otlp(b: &Builder, env: &mut EnvReader<'_>, signal: &SignalVars) -> OtlpSettings {
    let protocol = b
        .protocol
        .or_else(|| env.parse(signal.protocol, "", str::parse))
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_PROTOCOL, "", str::parse))
        .unwrap_or(Protocol::HttpProtobuf);
    env.fill_fallback(
        &[signal.protocol, OTEL_EXPORTER_OTLP_PROTOCOL],
        protocol.name(),
    );
    let insecure = tls::insecure(b, env, signal);
    let endpoint = endpoint(b, env, signal, protocol, insecure);
    let tls_paths = tls::paths(b, env, signal);
    let tls = tls::client(&endpoint, &tls_paths, env);
    let headers = headers(b, env, signal);
    let timeout = b
        .timeout
        .and_then(|t| env.code_in("Builder::with_otlp_timeout", t, &EXPORT_TIMEOUT_RANGE, ms))
        .or_else(|| env.millis_in(signal.timeout, &EXPORT_TIMEOUT_RANGE))
        .or_else(|| env.millis_in(OTEL_EXPORTER_OTLP_TIMEOUT, &EXPORT_TIMEOUT_RANGE))
        .unwrap_or(OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT);
    env.fill_fallback(
        &[
            "Builder::with_otlp_timeout",
            signal.timeout,
            OTEL_EXPORTER_OTLP_TIMEOUT,
        ],
        &ms(&timeout),
    );
    let compression = b
        .compression
        .or_else(|| env.parse(signal.compression, "", str::parse))
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_COMPRESSION, "", str::parse))
        .unwrap_or_default();
    env.fill_fallback(
        &[signal.compression, OTEL_EXPORTER_OTLP_COMPRESSION],
        compression.name(),
    );
    OtlpSettings {
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
        tls,
        tls_paths,
    }
}

/// Checks that `url` is an `http://` or `https://host[:port][/path]` URL.
fn check_url(url: &str) -> Result<String, String> {
    let url = url.trim();
    let uri: http::Uri = url.parse().map_err(|e| format!("not a URL ({e})"))?;
    match uri.scheme_str() {
        Some("http") => {}
        #[cfg(feature = "tls")]
        Some("https") => {}
        #[cfg(not(feature = "tls"))]
        Some("https") => {
            return Err(
                "https needs TLS, which this build of tracelink leaves out (the `tls` \
                 feature); send to a local Collector over http://"
                    .into(),
            )
        }
        _ => return Err("expected a URL starting with http:// or https://".into()),
    }
    if uri.authority().is_none_or(|a| a.host().is_empty()) {
        return Err("the URL has no host".into());
    }
    Ok(url.to_owned())
}

fn join_path(base: &str, path: &str) -> String {
    if base.ends_with('/') {
        format!("{base}{path}")
    } else {
        format!("{base}/{path}")
    }
}

/// The signal's URL. A per-signal URL is used as is; a base URL gets
/// `v1/<signal>` appended for HTTP (gRPC has no path).
fn endpoint(
    b: &Builder,
    env: &mut EnvReader<'_>,
    signal: &SignalVars,
    protocol: Protocol,
    insecure: bool,
) -> String {
    let grpc = protocol == Protocol::Grpc;
    let check_url = |url: &str| check_url(&tls::with_scheme(url, grpc, insecure));
    let from_base = |base: String| match protocol {
        Protocol::HttpProtobuf => join_path(&base, signal.path),
        Protocol::Grpc => base,
    };
    let default = match protocol {
        Protocol::Grpc => OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT.to_owned(),
        Protocol::HttpProtobuf => join_path(OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT, signal.path),
    };
    let code = |name: &'static str, value: &Option<String>, env: &mut EnvReader<'_>| {
        let value = value.as_ref()?;
        check_url(value)
            .map_err(|reason| env.reject(name, value, reason, ""))
            .ok()
    };
    let chosen = code(signal.endpoint_method, (signal.endpoint_code)(b), env)
        .or_else(|| code("Builder::with_otlp_endpoint", &b.endpoint, env).map(from_base))
        .or_else(|| env.parse(signal.endpoint, "", check_url))
        .or_else(|| {
            env.parse(OTEL_EXPORTER_OTLP_ENDPOINT, "", check_url)
                .map(from_base)
        })
        .unwrap_or(default);
    env.fill_fallback(
        &[
            signal.endpoint_method,
            "Builder::with_otlp_endpoint",
            signal.endpoint,
            OTEL_EXPORTER_OTLP_ENDPOINT,
        ],
        &chosen,
    );
    chosen
}

fn check_headers(pairs: Vec<(String, String)>) -> Result<Vec<(String, String)>, String> {
    for (key, value) in &pairs {
        http::HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| format!("{key:?} is not a valid header name"))?;
        http::HeaderValue::from_str(value)
            .map_err(|_| format!("the value of {key:?} is not a valid header value"))?;
    }
    Ok(pairs)
}

/// The generic headers, then the per-signal ones, then code's: each later
/// value for the same (lowercased) name wins. A bad list adds none of its
/// headers.
fn headers(b: &Builder, env: &mut EnvReader<'_>, signal: &SignalVars) -> HeaderList {
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut merge = |pairs: Vec<(String, String)>| {
        for (key, value) in pairs {
            let key = key.to_ascii_lowercase();
            match headers.iter_mut().find(|(k, _)| *k == key) {
                Some(existing) => existing.1 = value,
                None => headers.push((key, value)),
            }
        }
    };
    for name in [OTEL_EXPORTER_OTLP_HEADERS, signal.headers] {
        if let Some(pairs) = env.parse(name, "no headers from it", |v| {
            parse_key_values(v).and_then(check_headers)
        }) {
            merge(pairs);
        }
    }
    match check_headers(b.headers.0.clone()) {
        Ok(pairs) => merge(pairs),
        Err(reason) => env.reject(
            "Builder::with_otlp_header",
            "(code)",
            reason,
            "no headers from code",
        ),
    }
    HeaderList(headers)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::tls::TlsPaths;
    use crate::config::Warning;
    use crate::trace::Compression;

    use crate::env::{
        OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_LOGS_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
        OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    };

    fn resolved(b: &Builder) -> (OtlpSettings, Vec<Warning>) {
        resolved_for(b, &TRACES)
    }

    fn resolved_for(b: &Builder, signal: &SignalVars) -> (OtlpSettings, Vec<Warning>) {
        let mut env = EnvReader::new(&b.env);
        let otlp = otlp(b, &mut env, signal);
        (otlp, env.issues)
    }

    fn with_env(vars: &[(&'static str, &'static str)]) -> Builder {
        crate::builder().with_env(vars.iter().copied())
    }

    #[test]
    fn defaults_follow_the_specification() {
        let (found, issues) = resolved(&with_env(&[]));
        assert_eq!(found.protocol, Protocol::HttpProtobuf);
        assert_eq!(found.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(found.headers, HeaderList::default());
        assert_eq!(found.timeout, Duration::from_secs(10));
        assert_eq!(found.compression, Compression::None);
        assert_eq!(found.tls_paths, TlsPaths::default());
        assert!(found.tls.is_none());
        assert!(issues.is_empty(), "{issues:?}");

        let (found, _) = resolved(&with_env(&[(OTEL_EXPORTER_OTLP_PROTOCOL, "grpc")]));
        assert_eq!(found.endpoint, "http://localhost:4317");
    }

    #[test]
    fn the_per_signal_endpoint_beats_the_generic_one_and_is_used_as_is() {
        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://generic:4318"),
            (
                OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
                "http://traces:4318/custom",
            ),
        ]));
        assert_eq!(found.endpoint, "http://traces:4318/custom");
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn only_the_generic_endpoint_gets_v1_traces_and_only_over_http() {
        for (base, expected) in [
            ("http://collector:4318", "http://collector:4318/v1/traces"),
            ("http://collector:4318/", "http://collector:4318/v1/traces"),
            ("http://gw/otlp", "http://gw/otlp/v1/traces"),
        ] {
            let (found, _) = resolved(&with_env(&[(OTEL_EXPORTER_OTLP_ENDPOINT, base)]));
            assert_eq!(found.endpoint, expected);
        }
        let (found, _) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4317"),
        ]));
        assert_eq!(found.endpoint, "http://collector:4317");
        // From code the same: the base gets the path, the traces URL not.
        let (found, _) = resolved(&crate::builder().with_otlp_endpoint("http://code:4318"));
        assert_eq!(found.endpoint, "http://code:4318/v1/traces");
        let (found, _) =
            resolved(&crate::builder().with_otlp_traces_endpoint("http://code:4318/t"));
        assert_eq!(found.endpoint, "http://code:4318/t");
    }

    #[test]
    fn a_grpc_endpoint_without_a_scheme_is_tls_unless_insecure() {
        let grpc = [
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "grpc"),
            (OTEL_EXPORTER_OTLP_ENDPOINT, "collector:4317"),
        ];
        let (found, _) = resolved(&with_env(&grpc));
        assert_eq!(found.endpoint, "https://collector:4317");
        let insecure = [
            grpc[0],
            grpc[1],
            (crate::env::OTEL_EXPORTER_OTLP_INSECURE, "true"),
        ];
        let (found, _) = resolved(&with_env(&insecure));
        assert_eq!(found.endpoint, "http://collector:4317");
    }

    #[test]
    fn code_beats_env() {
        let b = with_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "grpc"),
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "http://env:4317"),
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "100"),
            (OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, "gzip"),
        ])
        .with_protocol(Protocol::HttpProtobuf)
        .with_otlp_endpoint("http://code:4318")
        .with_otlp_timeout(Duration::from_millis(2500))
        .with_compression(Compression::None);
        let (found, issues) = resolved(&b);
        assert_eq!(found.protocol, Protocol::HttpProtobuf);
        assert_eq!(found.endpoint, "http://code:4318/v1/traces");
        assert_eq!(found.timeout, Duration::from_millis(2500));
        assert_eq!(found.compression, Compression::None);
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn a_bad_endpoint_is_one_warning_naming_the_url_used_instead() {
        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "ftp://user:pw@x"),
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://next:4318"),
        ]));
        assert_eq!(found.endpoint, "http://next:4318/v1/traces");
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
                // A URL's credentials never reach a warning.
                value: "ftp://<redacted>@x".into(),
                reason: "expected a URL starting with http:// or https://".into(),
                fallback: "http://next:4318/v1/traces".into(),
            }]
        );

        let (found, issues) = resolved(&crate::builder().with_otlp_endpoint("http://"));
        assert_eq!(found.endpoint, "http://localhost:4318/v1/traces");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, "Builder::with_otlp_endpoint");
        assert_eq!(issues[0].fallback, "http://localhost:4318/v1/traces");
    }

    #[test]
    fn protocol_per_signal_beats_generic_and_a_bad_one_warns() {
        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "http/protobuf"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
        ]));
        assert_eq!(found.protocol, Protocol::HttpProtobuf);
        assert!(issues.is_empty(), "{issues:?}");

        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "thrift"),
            (OTEL_EXPORTER_OTLP_PROTOCOL, "grpc"),
        ]));
        assert_eq!(found.protocol, Protocol::Grpc);
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
                value: "thrift".into(),
                reason: "expected grpc or http/protobuf".into(),
                fallback: "grpc".into(),
            }]
        );
    }

    #[test]
    fn headers_are_decoded_merged_and_never_printed() {
        let b = with_env(&[
            (
                OTEL_EXPORTER_OTLP_HEADERS,
                "Authorization=Bearer%20s3cret,x-tenant=a",
            ),
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "X-Tenant=b"),
        ])
        .with_otlp_header("x-api-key", "k3y");
        let (found, issues) = resolved(&b);
        assert_eq!(
            found.headers.0,
            [
                ("authorization".to_owned(), "Bearer s3cret".to_owned()),
                ("x-tenant".to_owned(), "b".to_owned()),
                ("x-api-key".to_owned(), "k3y".to_owned()),
            ]
        );
        assert!(issues.is_empty(), "{issues:?}");
        let printed = format!("{found:?}");
        assert!(printed.contains("authorization"), "{printed}");
        assert!(
            !printed.contains("s3cret") && !printed.contains("k3y"),
            "{printed}"
        );
    }

    #[test]
    fn a_bad_header_list_adds_none_of_its_headers_and_its_value_is_redacted() {
        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_HEADERS, "authorization=s3cret,x-bad=%zz"),
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "x-tenant=b"),
        ]));
        assert_eq!(found.headers.0, [("x-tenant".to_owned(), "b".to_owned())]);
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_EXPORTER_OTLP_HEADERS,
                value: "<redacted>".into(),
                reason: "value of \"x-bad\" has a bad percent-escape at byte 0".into(),
                fallback: "no headers from it".into(),
            }]
        );

        let (found, issues) = resolved(&crate::builder().with_otlp_header("bad name", "s3cret"));
        assert!(found.headers.0.is_empty());
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, "Builder::with_otlp_header");
        assert!(!issues[0].to_string().contains("s3cret"), "{}", issues[0]);
    }

    #[test]
    fn timeout_per_signal_beats_generic_and_a_bad_one_falls_to_the_next() {
        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, "5"),
            (OTEL_EXPORTER_OTLP_TIMEOUT, "2500"),
        ]));
        assert_eq!(found.timeout, Duration::from_millis(2500));
        assert_eq!(
            issues,
            [Warning {
                name: OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
                value: "5".into(),
                reason: "out of range: expected 10 to 600000 milliseconds".into(),
                fallback: "2500 ms".into(),
            }]
        );
    }

    #[test]
    fn a_bad_compression_is_one_warning_and_none() {
        let (found, issues) = resolved(&with_env(&[(
            OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
            "zstd",
        )]));
        assert_eq!(found.compression, Compression::None);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].reason, "expected gzip or none");
        assert_eq!(issues[0].fallback, "none");
    }

    #[cfg(feature = "tls")]
    #[test]
    fn tls_is_built_for_https_only() {
        let (found, issues) = resolved(&with_env(&[(
            OTEL_EXPORTER_OTLP_ENDPOINT,
            "https://collector:4318",
        )]));
        assert_eq!(found.endpoint, "https://collector:4318/v1/traces");
        assert!(found.tls.is_some());
        assert!(issues.is_empty(), "{issues:?}");

        let (found, issues) = resolved(&with_env(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "https://collector:4318"),
            (
                crate::env::OTEL_EXPORTER_OTLP_CERTIFICATE,
                "/nonexistent/ca.pem",
            ),
        ]));
        assert!(found.tls.is_some(), "the system roots instead");
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!(issues[0].name, crate::env::OTEL_EXPORTER_OTLP_CERTIFICATE);
    }

    #[test]
    fn logs_read_their_own_variables_then_the_generic_ones() {
        let b = with_env(&[
            (OTEL_EXPORTER_OTLP_ENDPOINT, "http://collector:4318"),
            (OTEL_EXPORTER_OTLP_HEADERS, "authorization=Bearer%20s3cret"),
            (OTEL_EXPORTER_OTLP_LOGS_HEADERS, "x-scope=logs"),
            (OTEL_EXPORTER_OTLP_TRACES_HEADERS, "x-scope=traces"),
        ]);
        let (logs, issues) = resolved_for(&b, &LOGS);
        assert_eq!(logs.endpoint, "http://collector:4318/v1/logs");
        assert_eq!(
            logs.headers.0,
            [
                ("authorization".to_owned(), "Bearer s3cret".to_owned()),
                ("x-scope".to_owned(), "logs".to_owned()),
            ]
        );
        assert!(issues.is_empty(), "{issues:?}");
        let (traces, _) = resolved(&b);
        assert_eq!(traces.endpoint, "http://collector:4318/v1/traces");

        let (logs, _) = resolved_for(
            &with_env(&[(
                OTEL_EXPORTER_OTLP_LOGS_ENDPOINT,
                "http://loki-gw:3100/otlp/v1/logs",
            )]),
            &LOGS,
        );
        assert_eq!(logs.endpoint, "http://loki-gw:3100/otlp/v1/logs");
        let (logs, _) = resolved_for(
            &crate::builder().with_otlp_logs_endpoint("http://code:4318/l"),
            &LOGS,
        );
        assert_eq!(logs.endpoint, "http://code:4318/l");
    }
}
