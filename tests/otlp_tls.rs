//! OTLP over TLS and mTLS, on both protocols, against the test receiver
//! with TLS (rustls on the server side, certificates made here with rcgen):
//! spans arrive with the CA given by `OTEL_EXPORTER_OTLP_CERTIFICATE`; a
//! receiver that requires a client certificate refuses none and accepts the
//! right one; a wrong CA, an expired or misnamed certificate fail, are
//! counted and say why in words; a bad file or a key that does not match its
//! certificate is a configuration warning (an error in strict mode); log
//! records and metrics follow the same rules with their own variables.

mod support;
#[path = "support/tls.rs"]
mod tls;

use std::time::Duration;

use support::Receiver;
use tls::{Pki, ServerCert};

const PROTOCOLS: [&str; 2] = ["grpc", "http/protobuf"];

fn endpoint(receiver: &Receiver, protocol: &str) -> String {
    if protocol == "grpc" {
        receiver.grpc_endpoint()
    } else {
        receiver.http_endpoint()
    }
}

/// Builds tracelink for `protocol` towards `receiver` with `env`, sends one
/// span, flushes, and returns the guard's span stats and what was warned.
fn send_one(
    receiver: &Receiver,
    protocol: &str,
    env: &[(&str, String)],
) -> (tracelink::trace::ExportStats, Vec<String>) {
    let endpoint = endpoint(receiver, protocol);
    let mut vars: Vec<(&str, String)> = vec![
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
        ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000".to_owned()),
        ("OTEL_BSP_SCHEDULE_DELAY", "50".to_owned()),
        ("TRACELINK_LOG_FORMAT", "none".to_owned()),
        ("OTEL_METRICS_EXPORTER", "none".to_owned()),
    ];
    vars.extend(env.iter().cloned());
    let parts = tracelink::builder()
        .with_env(vars.iter().map(|(k, v)| (*k, v.as_str())))
        .with_service_name("tls-test")
        .build()
        .expect("tracelink builds");
    let warnings = parts
        .config()
        .warnings()
        .iter()
        .map(ToString::to_string)
        .collect();
    let dispatch = support::dispatch(&parts);
    tracing::dispatcher::with_default(&dispatch, || {
        let span = tracing::info_span!("over tls", protocol);
        drop(span.enter());
    });
    drop(dispatch);
    let _ = parts.guard().flush();
    let stats = parts.guard().stats().spans();
    (stats, warnings)
}

fn path(p: &std::path::Path) -> String {
    p.display().to_string()
}

#[test]
fn spans_arrive_over_https_with_the_ca_from_the_variable() {
    let pki = Pki::new("ok", ServerCert::Valid);
    for protocol in PROTOCOLS {
        let receiver = Receiver::start_tls(pki.server_config(false));
        let (stats, warnings) = send_one(
            &receiver,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca))],
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let spans = receiver.wait_for_spans(1, Duration::from_secs(10));
        assert_eq!(
            spans.len(),
            1,
            "{protocol}: {stats:?} {:?}",
            receiver.tls_failures()
        );
        assert_eq!(spans[0].name(), "over tls");
        assert_eq!(stats.exported(), 1, "{protocol}");
        assert!(endpoint(&receiver, protocol).starts_with("https://localhost:"));
    }
}

#[test]
fn the_per_signal_certificate_variable_beats_the_generic_one() {
    let pki = Pki::new("signal", ServerCert::Valid);
    let other = Pki::new("signal-other", ServerCert::Valid);
    let receiver = Receiver::start_tls(pki.server_config(false));
    let (stats, _) = send_one(
        &receiver,
        "grpc",
        &[
            ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&other.ca)),
            ("OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE", path(&pki.ca)),
        ],
    );
    assert_eq!(stats.exported(), 1);
}

#[test]
fn mtls_refuses_no_client_certificate_and_accepts_the_right_one() {
    let pki = Pki::new("mtls", ServerCert::Valid);
    for protocol in PROTOCOLS {
        let receiver = Receiver::start_tls(pki.server_config(true));
        let (stats, _) = send_one(
            &receiver,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca))],
        );
        assert_eq!(stats.exported(), 0, "{protocol}: no client certificate");
        assert_eq!(stats.failed(), 1, "{protocol}: counted");
        assert!(receiver.spans().is_empty());
        assert!(
            !receiver.tls_failures().is_empty(),
            "the receiver refused the handshake"
        );

        let (stats, warnings) = send_one(
            &receiver,
            protocol,
            &[
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca)),
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    path(&pki.client_cert),
                ),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&pki.client_key)),
            ],
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(
            stats.exported(),
            1,
            "{protocol}: with the client certificate"
        );
        assert_eq!(receiver.wait_for_spans(1, Duration::from_secs(10)).len(), 1);
    }
}

/// A failure that TLS explains: counted as failed, and the export warning
/// (on stderr, in a child process) names the endpoint and the reason.
fn refused(pki: &Pki, trust: &Pki) {
    let receiver = Receiver::start_tls(pki.server_config(false));
    for protocol in PROTOCOLS {
        let (stats, _) = send_one(
            &receiver,
            protocol,
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&trust.ca))],
        );
        assert_eq!(stats.exported(), 0, "{protocol}");
        assert_eq!(stats.failed(), 1, "{protocol}: the failure is counted");
    }
    assert!(receiver.spans().is_empty());
}

#[test]
fn a_wrong_ca_an_expired_or_misnamed_certificate_fail_and_are_counted() {
    let good = Pki::new("good", ServerCert::Valid);
    let other = Pki::new("other", ServerCert::Valid);
    refused(&good, &other);
    let expired = Pki::new("expired", ServerCert::Expired);
    refused(&expired, &expired);
    let misnamed = Pki::new("misnamed", ServerCert::OtherName);
    refused(&misnamed, &misnamed);
}

#[test]
fn failures_say_why_in_words_naming_the_endpoint() {
    if support::in_child() {
        let good = Pki::new("words-good", ServerCert::Valid);
        let other = Pki::new("words-other", ServerCert::Valid);
        let receiver = Receiver::start_tls(good.server_config(false));
        for protocol in PROTOCOLS {
            send_one(
                &receiver,
                protocol,
                &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&other.ca))],
            );
        }
        let mtls = Receiver::start_tls(good.server_config(true));
        send_one(
            &mtls,
            "http/protobuf",
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&good.ca))],
        );
        for (pki, protocol) in [
            (Pki::new("words-expired", ServerCert::Expired), "grpc"),
            (
                Pki::new("words-misnamed", ServerCert::OtherName),
                "http/protobuf",
            ),
        ] {
            let receiver = Receiver::start_tls(pki.server_config(false));
            send_one(
                &receiver,
                protocol,
                &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&pki.ca))],
            );
        }
        return;
    }
    let output = support::rerun("failures_say_why_in_words_naming_the_endpoint", &[]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let unknown: Vec<&str> = stderr
        .lines()
        .filter(|line| line.contains("not signed by a trusted CA"))
        .collect();
    assert_eq!(unknown.len(), 2, "one warning a protocol:\n{stderr}");
    assert!(
        unknown
            .iter()
            .any(|l| l.contains("OTLP/grpc https://localhost:")),
        "{stderr}"
    );
    assert!(
        unknown
            .iter()
            .any(|l| l.contains("OTLP/http/protobuf https://localhost:")),
        "{stderr}"
    );
    for words in [
        "refused the client certificate, or wants one",
        "the server's certificate has expired",
        "not valid for the endpoint's host name",
    ] {
        assert!(stderr.contains(words), "{words}:\n{stderr}");
    }
}

#[test]
fn bad_files_and_a_mismatched_key_are_warnings_and_strict_errors() {
    let pki = Pki::new("files", ServerCert::Valid);
    let missing = pki.dir().join("absent.pem");
    /// The variables set, the one warned about, and words of the reason.
    type Case<'a> = (&'a [(&'a str, String)], &'a str, &'a str);
    let cases: [Case<'_>; 3] = [
        (
            &[("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&missing))],
            "OTEL_EXPORTER_OTLP_CERTIFICATE",
            "no such file",
        ),
        (
            &[(
                "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
                path(&pki.client_key),
            )],
            "OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE",
            "holds no PEM certificate",
        ),
        (
            &[
                (
                    "OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE",
                    path(&pki.client_cert),
                ),
                ("OTEL_EXPORTER_OTLP_CLIENT_KEY", path(&pki.other_key)),
            ],
            "OTEL_EXPORTER_OTLP_CLIENT_KEY",
            "the key does not match the client certificate",
        ),
    ];
    for (env, variable, reason) in cases {
        let mut vars = vec![(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "https://localhost:4317".to_owned(),
        )];
        vars.extend(env.iter().cloned());
        let config = tracelink::builder()
            .with_env(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .config()
            .expect("not strict: a warning");
        let warnings = config.warnings();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].variable(), variable);
        assert!(warnings[0].reason().contains(reason), "{:?}", warnings[0]);
        assert!(warnings[0]
            .to_string()
            .contains(pki.dir().to_str().expect("utf-8")));

        vars.push(("TRACELINK_STRICT_CONFIG", "true".to_owned()));
        let error = tracelink::builder()
            .with_env(vars.iter().map(|(k, v)| (*k, v.as_str())))
            .config()
            .expect_err("strict: an error");
        assert!(error.to_string().contains(variable), "{error}");
    }
}

#[test]
fn an_https_endpoint_is_kept_not_rewritten() {
    for protocol in PROTOCOLS {
        let config = tracelink::builder()
            .with_env([
                (
                    "OTEL_EXPORTER_OTLP_ENDPOINT",
                    "https://collector.example.com:4318",
                ),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol),
            ])
            .config()
            .expect("config");
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
        let expected = if protocol == "grpc" {
            "https://collector.example.com:4318"
        } else {
            "https://collector.example.com:4318/v1/traces"
        };
        assert_eq!(config.traces_endpoint(), expected);
    }
}

/// Log records and metrics take TLS by the traces' rules, per signal: over
/// mTLS with the logs' and the metrics' own CA variables, on both protocols;
/// without the client certificate, each is refused and counted.
#[test]
fn log_records_and_metrics_go_over_mtls_with_their_own_variables() {
    let pki = Pki::new("signals", ServerCert::Valid);
    let wrong = Pki::new("signals-wrong", ServerCert::Valid);
    for protocol in PROTOCOLS {
        let receiver = Receiver::start_tls(pki.server_config(true));
        let run = |client: bool| {
            let mut vars: Vec<(&str, String)> = vec![
                ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint(&receiver, protocol)),
                ("OTEL_EXPORTER_OTLP_PROTOCOL", protocol.to_owned()),
                ("OTEL_EXPORTER_OTLP_TIMEOUT", "3000".to_owned()),
                ("OTEL_TRACES_EXPORTER", "none".to_owned()),
                ("OTEL_LOGS_EXPORTER", "otlp".to_owned()),
                ("OTEL_METRICS_EXPORTER", "otlp".to_owned()),
                ("OTEL_METRIC_EXPORT_INTERVAL", "3600000".to_owned()),
                ("TRACELINK_LOG_FORMAT", "none".to_owned()),
                // The generic CA is wrong: each signal's own one must win.
                ("OTEL_EXPORTER_OTLP_CERTIFICATE", path(&wrong.ca)),
                ("OTEL_EXPORTER_OTLP_LOGS_CERTIFICATE", path(&pki.ca)),
                ("OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE", path(&pki.ca)),
            ];
            if client {
                vars.extend([
                    (
                        "OTEL_EXPORTER_OTLP_LOGS_CLIENT_CERTIFICATE",
                        path(&pki.client_cert),
                    ),
                    ("OTEL_EXPORTER_OTLP_LOGS_CLIENT_KEY", path(&pki.client_key)),
                    (
                        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_CERTIFICATE",
                        path(&pki.client_cert),
                    ),
                    (
                        "OTEL_EXPORTER_OTLP_METRICS_CLIENT_KEY",
                        path(&pki.client_key),
                    ),
                ]);
            }
            let parts = tracelink::builder()
                .with_env(vars.iter().map(|(k, v)| (*k, v.as_str())))
                .with_service_name("tls-signals")
                .build()
                .expect("tracelink builds");
            assert!(
                parts.config().warnings().is_empty(),
                "{:?}",
                parts.config().warnings()
            );
            let dispatch = support::dispatch_with_logs(&parts);
            metrics::with_local_recorder(parts.metrics_recorder(), || {
                tracing::dispatcher::with_default(&dispatch, || {
                    tracing::warn!(protocol, "over tls");
                    metrics::counter!("tls_total").increment(1);
                });
            });
            let _ = parts.guard().flush();
            let stats = parts.guard().stats();
            (stats.log_records(), stats.metric_points())
        };
        let (records, points) = run(false);
        assert_eq!((records.exported(), records.failed()), (0, 1), "{protocol}");
        assert_eq!(points.exported(), 0, "{protocol}");
        assert!(points.failed() > 0, "{protocol}");
        let (records, points) = run(true);
        assert_eq!(
            records.exported(),
            1,
            "{protocol}: with the client certificate"
        );
        assert!(
            points.exported() > 0 && points.failed() == 0,
            "{protocol}: {points:?}"
        );
        assert_eq!(receiver.wait_for_logs(1, Duration::from_secs(10)).len(), 1);
        assert!(receiver.metric("tls_total").is_some(), "{protocol}");
    }
}
