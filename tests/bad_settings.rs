//! Every setting is bounded: a value out of its documented range, or one
//! that is not a number, or not UTF-8, is one warning naming the variable
//! and the range, and the default is used (in strict mode, an error); no
//! value can panic, abort, busy-loop the export thread or reserve memory
//! it does not use. Secrets never appear in any warning.

mod support;

use std::time::Duration;

/// (variable, value, words of the reason)
const MATRIX: &[(&str, &str, &str)] = &[
    ("OTEL_BSP_MAX_QUEUE_SIZE", "10000000", "from 1 to 1000000"),
    (
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "1000000000000",
        "from 1 to 1000000",
    ),
    (
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "18446744073709551615",
        "from 1 to 1000000",
    ),
    (
        "OTEL_BSP_MAX_QUEUE_SIZE",
        "99999999999999999999999",
        "from 1 to 1000000",
    ),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "0", "from 1 to 1000000"),
    ("OTEL_BSP_MAX_QUEUE_SIZE", "-1", "from 1 to 1000000"),
    ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "0", "from 1 to 1000000"),
    ("OTEL_BSP_SCHEDULE_DELAY", "0", "10 to 3600000 milliseconds"),
    (
        "OTEL_BSP_SCHEDULE_DELAY",
        "99999999999999",
        "10 to 3600000 milliseconds",
    ),
    ("OTEL_BSP_EXPORT_TIMEOUT", "0", "10 to 600000 milliseconds"),
    (
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        "0",
        "10 to 600000 milliseconds",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        "0",
        "10 to 600000 milliseconds",
    ),
    (
        "TRACELINK_SHUTDOWN_TIMEOUT",
        "99999999999",
        "0 to 600000 milliseconds",
    ),
    ("OTEL_EXPORTER_PROMETHEUS_PORT", "99999", "0 to 65535"),
    (
        "TRACELINK_METRICS_CARDINALITY_LIMIT",
        "0",
        "from 1 to 100000",
    ),
    (
        "TRACELINK_METRICS_CARDINALITY_LIMIT",
        "1000001",
        "from 1 to 100000",
    ),
];

#[test]
fn each_bad_value_is_one_warning_naming_the_range_and_strict_refuses_it() {
    for (variable, value, range) in MATRIX {
        let config = tracelink::builder()
            .with_env([(*variable, *value)])
            .config()
            .unwrap_or_else(|e| panic!("{variable}={value}: {e}"));
        let warnings = config.warnings();
        assert_eq!(warnings.len(), 1, "{variable}={value}: {warnings:?}");
        assert_eq!(warnings[0].variable(), *variable);
        assert_eq!(warnings[0].value(), *value);
        assert!(
            warnings[0].reason().contains(range),
            "{variable}={value}: {:?}",
            warnings[0]
        );
        assert!(!warnings[0].fallback().is_empty(), "{:?}", warnings[0]);

        let error = tracelink::builder()
            .with_env([(*variable, *value), ("TRACELINK_STRICT_CONFIG", "true")])
            .config()
            .expect_err("strict mode refuses it");
        assert!(error.to_string().contains(variable), "{error}");
    }
}

#[test]
fn the_defaults_stand_in_for_bad_values() {
    let config = tracelink::builder()
        .with_env([
            ("OTEL_BSP_MAX_QUEUE_SIZE", "18446744073709551615"),
            ("OTEL_BSP_SCHEDULE_DELAY", "0"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "0"),
            ("TRACELINK_METRICS_CARDINALITY_LIMIT", "0"),
        ])
        .config()
        .expect("config");
    assert_eq!(config.batch().max_queue_size(), 2048);
    assert_eq!(config.batch().scheduled_delay(), Duration::from_secs(5));
    assert_eq!(config.timeout(), Duration::from_secs(10));
    assert_eq!(config.metrics_cardinality_limit(), 2000);
}

#[test]
fn values_given_in_code_are_held_to_the_same_ranges() {
    let config = tracelink::builder()
        .with_batch_config(
            tracelink::trace::BatchConfig::default()
                .with_max_queue_size(2_000_000)
                .with_scheduled_delay(Duration::ZERO),
        )
        .with_shutdown_timeout(Duration::from_secs(100_000))
        .with_metrics_cardinality_limit(0)
        .config()
        .expect("config");
    let mut named: Vec<&str> = config
        .warnings()
        .iter()
        .map(tracelink::config::Warning::variable)
        .collect();
    named.sort_unstable();
    assert_eq!(
        named,
        [
            "BatchConfig::with_max_queue_size",
            "BatchConfig::with_scheduled_delay",
            "Builder::with_metrics_cardinality_limit",
            "Builder::with_shutdown_timeout",
        ],
        "{:?}",
        config.warnings()
    );
    assert_eq!(config.batch().max_queue_size(), 2048);
    assert_eq!(config.shutdown_timeout(), Duration::from_secs(5));
}

/// A child with the largest queue allowed, and bad values of every kind in
/// its process environment: it starts, exports nothing, idles without
/// reserving the queue, and says what was wrong.
fn child() {
    let guard = tracelink::init().expect("init");
    let rss = |field: &str| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find_map(|l| l.strip_prefix(field).map(str::trim).map(str::to_owned))
            })
            .and_then(|v| v.trim_end_matches(" kB").trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    // A moment for the export thread to run (and to spin, were it to).
    std::thread::sleep(Duration::from_millis(300));
    eprintln!("RSS_KB {}", rss("VmHWM:"));
    drop(guard);
}

#[test]
fn a_process_with_bad_and_huge_values_starts_idles_small_and_says_why() {
    if support::in_child() {
        child();
        return;
    }
    use std::os::unix::ffi::OsStrExt;
    let name = "a_process_with_bad_and_huge_values_starts_idles_small_and_says_why";
    let output = std::process::Command::new(std::env::current_exe().expect("test binary"))
        .args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(support::CHILD_TEST, name)
        .env_remove("RUST_LOG")
        .env_remove("OTEL_LOG_LEVEL")
        .env("OTEL_TRACES_EXPORTER", "none")
        .env("OTEL_EXPORTER_PROMETHEUS_PORT", "0")
        .env("OTEL_BSP_MAX_QUEUE_SIZE", "1000000")
        .env("OTEL_BSP_SCHEDULE_DELAY", "0")
        .env(
            "OTEL_SERVICE_NAME",
            std::ffi::OsStr::from_bytes(b"shop\xff"),
        )
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            std::ffi::OsStr::from_bytes(b"x-api-key=s3cret\xfe"),
        )
        .output()
        .expect("the child runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    for variable in [
        "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_SERVICE_NAME",
        "OTEL_EXPORTER_OTLP_HEADERS",
    ] {
        let lines: Vec<&str> = stderr.lines().filter(|l| l.contains(variable)).collect();
        assert_eq!(lines.len(), 1, "one warning for {variable}:\n{stderr}");
    }
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(
        !stderr.contains("s3cret"),
        "a header value is never printed:\n{stderr}"
    );
    let rss_kb: u64 = stderr
        .lines()
        .find_map(|l| l.strip_prefix("RSS_KB "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the child reports its peak RSS");
    // A queue of a million reserved up front would be 260 MiB.
    assert!(rss_kb < 64 * 1024, "peak RSS {rss_kb} kB");
}

#[test]
fn no_warning_path_prints_a_secret() {
    let secret = "s3cr3t-t0ken";
    let cases: Vec<Vec<(&str, String)>> = vec![
        vec![(
            "OTEL_EXPORTER_OTLP_HEADERS",
            format!("authorization=Bearer {secret},bad header"),
        )],
        vec![(
            "OTEL_EXPORTER_OTLP_TRACES_HEADERS",
            format!("x-api-key={secret}%zz"),
        )],
        vec![(
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            format!("ftp://user:{secret}@collector"),
        )],
        vec![(
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            format!("http://user:{secret}@"),
        )],
        vec![
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("https://user:{secret}@localhost:4318"),
            ),
            (
                "OTEL_EXPORTER_OTLP_CERTIFICATE",
                "/no/such/ca.pem".to_owned(),
            ),
        ],
    ];
    for env in cases {
        let vars = env.iter().map(|(k, v)| (*k, v.as_str()));
        let config = tracelink::builder()
            .with_env(vars.clone())
            .config()
            .expect("config");
        assert!(!config.warnings().is_empty(), "{env:?}");
        for warning in config.warnings() {
            assert!(!warning.to_string().contains(secret), "{warning}");
            assert!(!format!("{warning:?}").contains(secret), "{warning:?}");
        }
        assert!(!config.to_string().contains(secret), "{config}");
        assert!(!format!("{config:?}").contains(secret));
        let error = tracelink::builder()
            .with_env(vars.chain([("TRACELINK_STRICT_CONFIG", "true")]))
            .config()
            .expect_err("strict");
        assert!(!error.to_string().contains(secret), "{error}");
        assert!(!format!("{error:?}").contains(secret), "{error:?}");
    }
}
