//! Merging the builder with the environment into one [`Config`].

use opentelemetry::KeyValue;
use std::sync::OnceLock;

use tracing::level_filters::LevelFilter;

use super::env::{parse_key_values, EnvReader};
use super::{
    redact_url, BatchConfig, Builder, Config, DiagLevel, Duration, HeaderList, Origin, Propagator,
    Protocol, Sampler, Setting, TracesExporter, EXPORT_TIMEOUT_RANGE, GOOGLE_CLOUD_PROJECT,
    OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE, OTEL_BSP_MAX_QUEUE_SIZE,
    OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_RANGE, OTEL_BSP_SIZE_RANGE,
    OTEL_EXPORTER_OTLP_CERTIFICATE, OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
    OTEL_EXPORTER_OTLP_COMPRESSION, OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT, OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT,
    OTEL_EXPORTER_OTLP_HEADERS, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_EXPORTER_OTLP_TIMEOUT,
    OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT, OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE, OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
    OTEL_EXPORTER_PROMETHEUS_HOST, OTEL_EXPORTER_PROMETHEUS_HOST_DEFAULT,
    OTEL_EXPORTER_PROMETHEUS_PORT, OTEL_EXPORTER_PROMETHEUS_PORT_DEFAULT, OTEL_LOG_LEVEL,
    OTEL_METRICS_EXEMPLAR_FILTER, OTEL_METRICS_EXPORTER, OTEL_PROPAGATORS,
    OTEL_RESOURCE_ATTRIBUTES, OTEL_SDK_DISABLED, OTEL_SERVICE_NAME, OTEL_TRACES_EXPORTER,
    OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG, OTEL_TRACES_SAMPLER_DEFAULT, RUST_LOG,
    RUST_LOG_DEFAULT, TRACELINK_LOG_FORMAT, TRACELINK_LOG_FORMAT_DEFAULT,
    TRACELINK_LOG_NON_BLOCKING, TRACELINK_LOG_STYLE, TRACELINK_METRICS_CARDINALITY_LIMIT,
    TRACELINK_METRICS_CARDINALITY_LIMIT_DEFAULT, TRACELINK_SHUTDOWN_TIMEOUT,
    TRACELINK_SHUTDOWN_TIMEOUT_DEFAULT, TRACELINK_SHUTDOWN_TIMEOUT_RANGE, TRACELINK_SPAN_EVENTS,
    TRACELINK_SPAN_FILTER, TRACELINK_SPAN_FILTER_DEFAULT, TRACELINK_STRICT_CONFIG,
    TRACELINK_TRACES_FILE, TRACELINK_TRACES_FILE_DEFAULT, TRACELINK_TRACES_FILE_MAX_BYTES,
    TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT,
};
use crate::Error;

pub(crate) fn resolve(b: &Builder) -> Result<Config, Error> {
    let mut env = EnvReader::new(&b.env);
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

    let (service_name, resource) = resource(b, &mut env);
    let mut exporters = match &b.exporters {
        Some(exporters) => exporters.clone(),
        None => exporters_from_env(&mut env),
    };
    if b.traces_file.is_some() && !exporters.contains(&TracesExporter::File) {
        exporters.push(TracesExporter::File);
    }
    let traces_file = b.traces_file.clone().unwrap_or_else(|| {
        env.raw(TRACELINK_TRACES_FILE).map_or_else(
            || TRACELINK_TRACES_FILE_DEFAULT.into(),
            |path| std::path::PathBuf::from(path.trim()),
        )
    });
    let traces_file_max_bytes = b.traces_file_max_bytes.unwrap_or_else(|| {
        env.parse(TRACELINK_TRACES_FILE_MAX_BYTES, "64MiB", parse_size)
            .unwrap_or(TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT)
    });
    let protocol = b
        .protocol
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL, "", str::parse))
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_PROTOCOL, "", str::parse))
        .unwrap_or(Protocol::HttpProtobuf);
    fill_fallback(
        &mut env,
        &[
            OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
            OTEL_EXPORTER_OTLP_PROTOCOL,
        ],
        protocol.name(),
    );
    let insecure = super::tls::insecure(b, &mut env);
    let endpoint = endpoint(b, &mut env, protocol, insecure);
    let tls_paths = super::tls::paths(b, &env);
    let tls = super::tls::client(&endpoint, &tls_paths, &mut env);
    let headers = headers(b, &mut env);
    let timeout = b
        .timeout
        .and_then(|t| env.code_in("Builder::with_otlp_timeout", t, &EXPORT_TIMEOUT_RANGE, ms))
        .or_else(|| env.millis_in(OTEL_EXPORTER_OTLP_TRACES_TIMEOUT, &EXPORT_TIMEOUT_RANGE))
        .or_else(|| env.millis_in(OTEL_EXPORTER_OTLP_TIMEOUT, &EXPORT_TIMEOUT_RANGE))
        .unwrap_or(OTEL_EXPORTER_OTLP_TIMEOUT_DEFAULT);
    fill_fallback(
        &mut env,
        &[
            "Builder::with_otlp_timeout",
            OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
            OTEL_EXPORTER_OTLP_TIMEOUT,
        ],
        &format!("{} ms", timeout.as_millis()),
    );
    let compression = b
        .compression
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_TRACES_COMPRESSION, "", str::parse))
        .or_else(|| env.parse(OTEL_EXPORTER_OTLP_COMPRESSION, "", str::parse))
        .unwrap_or_default();
    fill_fallback(
        &mut env,
        &[
            OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
            OTEL_EXPORTER_OTLP_COMPRESSION,
        ],
        compression.name(),
    );
    let sampler = match &b.sampler {
        Some(sampler) => sampler.clone(),
        None => sampler_from_env(&mut env),
    };
    let propagators = match &b.propagators {
        Some(propagators) => propagators.clone(),
        None => propagators_from_env(&mut env),
    };
    let batch = match &b.batch {
        Some(batch) => checked_batch(batch, &mut env),
        None => batch_from_env(&mut env),
    };
    let filter = directives(
        &mut env,
        ("Builder::with_filter", b.filter.as_ref()),
        RUST_LOG,
        RUST_LOG_DEFAULT,
    );
    let span_filter = directives(
        &mut env,
        ("Builder::with_span_filter", b.span_filter.as_ref()),
        TRACELINK_SPAN_FILTER,
        TRACELINK_SPAN_FILTER_DEFAULT,
    );
    let shutdown_timeout = b
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
    fill_fallback(
        &mut env,
        &["Builder::with_shutdown_timeout", TRACELINK_SHUTDOWN_TIMEOUT],
        &format!("{} ms", shutdown_timeout.as_millis()),
    );

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
                crate::logs::LogStyle::parse(v)
                    .ok_or_else(|| "expected otel, ecs, gcp or datadog".into())
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

    let metrics = b.metrics.unwrap_or_else(|| {
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
    let cardinality = 1..=crate::metrics::MAX_CARDINALITY_LIMIT;
    let metrics_cardinality_limit = b
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
    fill_fallback(
        &mut env,
        &[
            "Builder::with_metrics_cardinality_limit",
            TRACELINK_METRICS_CARDINALITY_LIMIT,
        ],
        &metrics_cardinality_limit.to_string(),
    );
    let exemplar_filter = b
        .exemplar_filter
        .or_else(|| {
            env.parse(OTEL_METRICS_EXEMPLAR_FILTER, "trace_based", |v| {
                crate::metrics::ExemplarFilter::parse(v)
                    .ok_or_else(|| "expected trace_based, always_on or always_off".into())
            })
        })
        .unwrap_or_default();

    if strict {
        if let Some(error) = env.strict_error() {
            return Err(error);
        }
    }
    let mut config = Config {
        disabled,
        service_name,
        resource,
        exporters,
        traces_file,
        traces_file_max_bytes,
        endpoint,
        protocol,
        headers,
        timeout,
        compression,
        sampler,
        propagators,
        batch,
        log_level,
        filter,
        span_filter,
        shutdown_timeout,
        context_activation: b.context_activation.unwrap_or(true),
        span_events,
        log_format,
        log_style,
        gcp_project,
        non_blocking_logs,
        metrics,
        metrics_cardinality_limit,
        prometheus_host,
        prometheus_port,
        exemplar_filter,
        warnings: env.issues.clone(),
        settings: Vec::new(),
        tls,
        tls_paths,
    };
    config.settings = settings(b, &env, &config);
    Ok(config)
}

/// Issues recorded with an empty fallback get the value finally chosen.
fn fill_fallback(env: &mut EnvReader<'_>, names: &[&str], chosen: &str) {
    for issue in &mut env.issues {
        if issue.fallback.is_empty() && names.contains(&issue.name) {
            chosen.clone_into(&mut issue.fallback);
        }
    }
}

fn upsert(attributes: &mut Vec<KeyValue>, kv: KeyValue) {
    match attributes
        .iter_mut()
        .find(|existing| existing.key == kv.key)
    {
        Some(existing) => *existing = kv,
        None => attributes.push(kv),
    }
}

/// A random UUID v4, the same for the whole process.
fn instance_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes: [u8; 16] = rand::random();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let mut hex = String::with_capacity(32);
        crate::encode::hex::bytes(&mut hex, &bytes);
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    })
}

fn executable_name() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|path| path.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "unknown".into())
}

/// Detected attributes, then `OTEL_RESOURCE_ATTRIBUTES`, then `OTEL_SERVICE_NAME`,
/// then code: each later one wins.
fn resource(b: &Builder, env: &mut EnvReader<'_>) -> (String, Vec<KeyValue>) {
    let mut attributes = vec![
        KeyValue::new("service.instance.id", instance_id()),
        KeyValue::new(
            "host.name",
            gethostname::gethostname().to_string_lossy().into_owned(),
        ),
        KeyValue::new("process.pid", i64::from(std::process::id())),
        KeyValue::new("process.executable.name", executable_name()),
        KeyValue::new("process.runtime.name", "rust"),
        KeyValue::new("telemetry.sdk.name", "opentelemetry"),
        KeyValue::new("telemetry.sdk.language", "rust"),
        KeyValue::new("telemetry.sdk.version", OTEL_SDK_VERSION),
        KeyValue::new("telemetry.distro.name", "tracelink"),
        KeyValue::new("telemetry.distro.version", env!("CARGO_PKG_VERSION")),
    ];
    if let Some(pairs) = env.parse(OTEL_RESOURCE_ATTRIBUTES, "no attributes from it", |v| {
        parse_key_values(v)
    }) {
        for (key, value) in pairs {
            upsert(&mut attributes, KeyValue::new(key, value));
        }
    }
    let env_service_name = env.raw(OTEL_SERVICE_NAME).map(|s| s.trim().to_owned());
    let from_attributes = attributes
        .iter()
        .find(|kv| kv.key.as_str() == "service.name")
        .map(|kv| kv.value.to_string());
    for kv in &b.resource {
        upsert(&mut attributes, kv.clone());
    }
    let code_name = b
        .resource
        .iter()
        .rev()
        .find(|kv| kv.key.as_str() == "service.name");
    let service_name = b
        .service_name
        .clone()
        .or_else(|| code_name.map(|kv| kv.value.to_string()))
        .or(env_service_name)
        .or(from_attributes)
        .unwrap_or_else(|| format!("unknown_service:{}", executable_name()));
    upsert(
        &mut attributes,
        KeyValue::new("service.name", service_name.clone()),
    );
    (service_name, attributes)
}

/// The opentelemetry_sdk version tracelink is built against.
const OTEL_SDK_VERSION: &str = "0.33";

fn exporters_from_env(env: &mut EnvReader<'_>) -> Vec<TracesExporter> {
    let names = [
        TracesExporter::Otlp,
        TracesExporter::Console,
        TracesExporter::File,
    ]
    .map(|e| (e.name(), e));
    name_list(
        env,
        OTEL_TRACES_EXPORTER,
        "exporter",
        &names,
        &[TracesExporter::Otlp],
    )
}

/// A comma-separated list of names, as `OTEL_TRACES_EXPORTER` and
/// `OTEL_PROPAGATORS` take: the known ones in order, each once, matched
/// ignoring case; `none` anywhere empties the list. Unknown names get one
/// warning, and the list falls back to `default` if nothing valid is left.
fn name_list<T: Copy + PartialEq>(
    env: &mut EnvReader<'_>,
    var: &'static str,
    what: &str,
    names: &[(&'static str, T)],
    default: &[T],
) -> Vec<T> {
    let Some(value) = env.raw(var) else {
        return default.to_vec();
    };
    let mut list = Vec::new();
    let mut none = false;
    let mut bad = Vec::new();
    for item in value.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if item.eq_ignore_ascii_case("none") {
            none = true;
        } else if let Some(&(_, known)) = names.iter().find(|(n, _)| n.eq_ignore_ascii_case(item)) {
            if !list.contains(&known) {
                list.push(known);
            }
        } else {
            bad.push(item.to_owned());
        }
    }
    if none {
        list.clear();
    }
    if !bad.is_empty() {
        if list.is_empty() && !none {
            list = default.to_vec();
        }
        let name_of = |t: &T| names.iter().find(|(_, k)| k == t).map_or("", |(n, _)| n);
        let result = if list.is_empty() {
            "none".to_owned()
        } else {
            list.iter().map(name_of).collect::<Vec<_>>().join(",")
        };
        let expected: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        env.reject(
            var,
            &value,
            format!(
                "unsupported {what} {}; expected {} or none",
                bad.join(", "),
                expected.join(", ")
            ),
            result,
        );
    }
    list
}

/// A size in bytes: `67108864`, `64MiB`, `64 M`, `100MB`; at least 1.
fn parse_size(value: &str) -> Result<u64, String> {
    let error = || "expected a size in bytes, like 67108864 or 64MiB".to_owned();
    let digits = value
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(value.len());
    let number: u64 = value[..digits].parse().map_err(|_| error())?;
    let unit: u64 = match value[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        "kb" => 1_000,
        "mb" => 1_000_000,
        "gb" => 1_000_000_000,
        _ => return Err(error()),
    };
    match number.checked_mul(unit) {
        Some(0) => Err("expected a size greater than 0".into()),
        Some(bytes) => Ok(bytes),
        None => Err("too large".into()),
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

fn join_traces_path(base: &str) -> String {
    if base.ends_with('/') {
        format!("{base}v1/traces")
    } else {
        format!("{base}/v1/traces")
    }
}

/// The traces URL. A per-signal URL is used as is; a base URL gets `v1/traces`
/// appended for HTTP (gRPC has no path).
fn endpoint(b: &Builder, env: &mut EnvReader<'_>, protocol: Protocol, insecure: bool) -> String {
    let grpc = protocol == Protocol::Grpc;
    let check_url = |url: &str| check_url(&super::tls::with_scheme(url, grpc, insecure));
    let from_base = |base: String| match protocol {
        Protocol::HttpProtobuf => join_traces_path(&base),
        Protocol::Grpc => base,
    };
    let default = match protocol {
        Protocol::Grpc => OTEL_EXPORTER_OTLP_ENDPOINT_GRPC_DEFAULT.to_owned(),
        Protocol::HttpProtobuf => join_traces_path(OTEL_EXPORTER_OTLP_ENDPOINT_HTTP_DEFAULT),
    };
    let code = |name: &'static str, value: &Option<String>, env: &mut EnvReader<'_>| {
        let value = value.as_ref()?;
        check_url(value)
            .map_err(|reason| env.reject(name, value, reason, ""))
            .ok()
    };
    let chosen = code(
        "Builder::with_otlp_traces_endpoint",
        &b.traces_endpoint,
        env,
    )
    .or_else(|| code("Builder::with_otlp_endpoint", &b.endpoint, env).map(from_base))
    .or_else(|| env.parse(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, "", check_url))
    .or_else(|| {
        env.parse(OTEL_EXPORTER_OTLP_ENDPOINT, "", check_url)
            .map(from_base)
    })
    .unwrap_or(default);
    fill_fallback(
        env,
        &[
            "Builder::with_otlp_traces_endpoint",
            "Builder::with_otlp_endpoint",
            OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
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

fn headers(b: &Builder, env: &mut EnvReader<'_>) -> HeaderList {
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
    for name in [
        OTEL_EXPORTER_OTLP_HEADERS,
        OTEL_EXPORTER_OTLP_TRACES_HEADERS,
    ] {
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

fn sampler_from_env(env: &mut EnvReader<'_>) -> Sampler {
    let Some(name) = env.raw(OTEL_TRACES_SAMPLER) else {
        return Sampler::default();
    };
    let ratio = |env: &mut EnvReader<'_>| {
        env.parse(OTEL_TRACES_SAMPLER_ARG, "1.0", |v| match v.parse::<f64>() {
            Ok(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err("expected a number from 0 to 1".into()),
        })
        .unwrap_or(1.0)
    };
    match name.trim().to_ascii_lowercase().as_str() {
        "always_on" => Sampler::always_on(),
        "always_off" => Sampler::always_off(),
        "traceidratio" => Sampler::trace_id_ratio(ratio(env)),
        "parentbased_always_on" => Sampler::parent_based(Sampler::always_on()),
        "parentbased_always_off" => Sampler::parent_based(Sampler::always_off()),
        "parentbased_traceidratio" => Sampler::parent_based(Sampler::trace_id_ratio(ratio(env))),
        _ => {
            env.reject(
                OTEL_TRACES_SAMPLER,
                &name,
                "expected always_on, always_off, traceidratio, parentbased_always_on, \
                 parentbased_always_off or parentbased_traceidratio",
                OTEL_TRACES_SAMPLER_DEFAULT,
            );
            Sampler::default()
        }
    }
}

fn propagators_from_env(env: &mut EnvReader<'_>) -> Vec<Propagator> {
    name_list(
        env,
        OTEL_PROPAGATORS,
        "propagator",
        &[
            ("tracecontext", Propagator::TraceContext),
            ("baggage", Propagator::Baggage),
        ],
        &[Propagator::TraceContext, Propagator::Baggage],
    )
}

/// A duration for messages: `250 ms`.
fn ms(d: &Duration) -> String {
    format!("{} ms", d.as_millis())
}

/// A `BatchConfig` given in code, each value checked against its range like
/// the variable it stands for.
fn checked_batch(given: &BatchConfig, env: &mut EnvReader<'_>) -> BatchConfig {
    let default = BatchConfig::default();
    let count = |n: &usize| n.to_string();
    let batch = BatchConfig {
        scheduled_delay: env
            .code_in(
                "BatchConfig::with_scheduled_delay",
                given.scheduled_delay,
                &OTEL_BSP_SCHEDULE_DELAY_RANGE,
                ms,
            )
            .unwrap_or(default.scheduled_delay),
        export_timeout: env
            .code_in(
                "BatchConfig::with_export_timeout",
                given.export_timeout,
                &EXPORT_TIMEOUT_RANGE,
                ms,
            )
            .unwrap_or(default.export_timeout),
        max_queue_size: env
            .code_in(
                "BatchConfig::with_max_queue_size",
                given.max_queue_size,
                &OTEL_BSP_SIZE_RANGE,
                count,
            )
            .unwrap_or(default.max_queue_size),
        max_export_batch_size: env
            .code_in(
                "BatchConfig::with_max_export_batch_size",
                given.max_export_batch_size,
                &OTEL_BSP_SIZE_RANGE,
                count,
            )
            .unwrap_or(default.max_export_batch_size),
    };
    for (name, value) in [
        (
            "BatchConfig::with_scheduled_delay",
            ms(&batch.scheduled_delay),
        ),
        (
            "BatchConfig::with_export_timeout",
            ms(&batch.export_timeout),
        ),
        (
            "BatchConfig::with_max_queue_size",
            batch.max_queue_size.to_string(),
        ),
        (
            "BatchConfig::with_max_export_batch_size",
            batch.max_export_batch_size.to_string(),
        ),
    ] {
        fill_fallback(env, &[name], &value);
    }
    fit_batch_to_queue(batch, env, "BatchConfig::with_max_export_batch_size")
}

/// The batch size is at most the queue size.
fn fit_batch_to_queue(
    mut batch: BatchConfig,
    env: &mut EnvReader<'_>,
    name: &'static str,
) -> BatchConfig {
    if batch.max_export_batch_size > batch.max_queue_size {
        env.reject(
            name,
            &batch.max_export_batch_size.to_string(),
            format!("larger than the queue size {}", batch.max_queue_size),
            batch.max_queue_size.to_string(),
        );
        batch.max_export_batch_size = batch.max_queue_size;
    }
    batch
}

fn batch_from_env(env: &mut EnvReader<'_>) -> BatchConfig {
    let mut batch = BatchConfig::default();
    if let Some(delay) = env.millis_in(OTEL_BSP_SCHEDULE_DELAY, &OTEL_BSP_SCHEDULE_DELAY_RANGE) {
        batch.scheduled_delay = delay;
    }
    if let Some(timeout) = env.millis_in(OTEL_BSP_EXPORT_TIMEOUT, &EXPORT_TIMEOUT_RANGE) {
        batch.export_timeout = timeout;
    }
    if let Some(size) = env.count_in(OTEL_BSP_MAX_QUEUE_SIZE, &OTEL_BSP_SIZE_RANGE) {
        batch.max_queue_size = size;
    }
    if let Some(size) = env.count_in(OTEL_BSP_MAX_EXPORT_BATCH_SIZE, &OTEL_BSP_SIZE_RANGE) {
        batch.max_export_batch_size = size;
    }
    if batch.max_export_batch_size > batch.max_queue_size {
        env.reject(
            OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
            &batch.max_export_batch_size.to_string(),
            format!("larger than the queue size {}", batch.max_queue_size),
            batch.max_queue_size.to_string(),
        );
        batch.max_export_batch_size = batch.max_queue_size;
    }
    fill_fallback(
        env,
        &[OTEL_BSP_SCHEDULE_DELAY],
        &format!("{} ms", batch.scheduled_delay.as_millis()),
    );
    fill_fallback(
        env,
        &[OTEL_BSP_EXPORT_TIMEOUT],
        &format!("{} ms", batch.export_timeout.as_millis()),
    );
    fill_fallback(
        env,
        &[OTEL_BSP_MAX_QUEUE_SIZE],
        &batch.max_queue_size.to_string(),
    );
    fill_fallback(
        env,
        &[OTEL_BSP_MAX_EXPORT_BATCH_SIZE],
        &batch.max_export_batch_size.to_string(),
    );
    batch
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

/// The summary [`Config`]'s `Display` prints.
fn settings(b: &Builder, env: &EnvReader<'_>, c: &Config) -> Vec<Setting> {
    let ms = |d: Duration| format!("{} ms", d.as_millis());
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
        add(
            "otlp endpoint",
            redact_url(&c.endpoint).into_owned(),
            origin(
                env,
                b.endpoint.is_some() || b.traces_endpoint.is_some(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
                    OTEL_EXPORTER_OTLP_ENDPOINT,
                ],
            ),
        );
        add(
            "otlp tls",
            super::tls::describe(&c.endpoint, &c.tls_paths),
            origin(
                env,
                b.tls_certificate.is_some() || b.tls_client_certificate.is_some(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_CERTIFICATE,
                    OTEL_EXPORTER_OTLP_CERTIFICATE,
                    OTEL_EXPORTER_OTLP_TRACES_CLIENT_CERTIFICATE,
                    OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE,
                ],
            ),
        );
        add(
            "otlp protocol",
            c.protocol.name().to_owned(),
            origin(
                env,
                b.protocol.is_some(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
                    OTEL_EXPORTER_OTLP_PROTOCOL,
                ],
            ),
        );
        let names: Vec<&str> = c.headers.0.iter().map(|(name, _)| name.as_str()).collect();
        add(
            "otlp headers",
            if names.is_empty() {
                "none".to_owned()
            } else {
                format!("{} (values not shown)", names.join(", "))
            },
            origin(
                env,
                !b.headers.0.is_empty(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_HEADERS,
                    OTEL_EXPORTER_OTLP_HEADERS,
                ],
            ),
        );
        add(
            "otlp timeout",
            ms(c.timeout),
            origin(
                env,
                b.timeout.is_some(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_TIMEOUT,
                    OTEL_EXPORTER_OTLP_TIMEOUT,
                ],
            ),
        );
        add(
            "otlp compression",
            c.compression.to_string(),
            origin(
                env,
                b.compression.is_some(),
                &[
                    OTEL_EXPORTER_OTLP_TRACES_COMPRESSION,
                    OTEL_EXPORTER_OTLP_COMPRESSION,
                ],
            ),
        );
    }
    add(
        "sampler",
        c.sampler.to_string(),
        origin(env, b.sampler.is_some(), &[OTEL_TRACES_SAMPLER]),
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
        "metrics",
        if c.metrics {
            format!(
                "prometheus on http://{}:{}/metrics",
                c.prometheus_host, c.prometheus_port
            )
        } else {
            "none".to_owned()
        },
        origin(
            env,
            b.metrics.is_some() || b.prometheus_listener.is_some(),
            &[
                OTEL_METRICS_EXPORTER,
                OTEL_EXPORTER_PROMETHEUS_HOST,
                OTEL_EXPORTER_PROMETHEUS_PORT,
            ],
        ),
    );
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
