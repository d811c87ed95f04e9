//! Where finished spans go and which are kept: the exporters
//! (`OTEL_TRACES_EXPORTER`) and the trace file (`TRACELINK_TRACES_FILE`,
//! `TRACELINK_TRACES_FILE_MAX_BYTES`), the head sampler
//! (`OTEL_TRACES_SAMPLER`, `OTEL_TRACES_SAMPLER_ARG`), and batching
//! (`OTEL_BSP_*`). The OTLP exporter's own settings are in `otlp`.

use std::path::PathBuf;

use crate::config::env::{ms, EnvReader};
use crate::config::Builder;
use crate::env::{
    EXPORT_TIMEOUT_RANGE, OTEL_BSP_EXPORT_TIMEOUT, OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    OTEL_BSP_MAX_QUEUE_SIZE, OTEL_BSP_SCHEDULE_DELAY, OTEL_BSP_SCHEDULE_DELAY_RANGE,
    OTEL_BSP_SIZE_RANGE, OTEL_TRACES_EXPORTER, OTEL_TRACES_SAMPLER, OTEL_TRACES_SAMPLER_ARG,
    OTEL_TRACES_SAMPLER_DEFAULT, TRACELINK_TRACES_FILE, TRACELINK_TRACES_FILE_DEFAULT,
    TRACELINK_TRACES_FILE_MAX_BYTES, TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT,
};
use crate::trace::{BatchConfig, Sampler, SpanLimits, TracesExporter};

/// The exporters, and the file the `file` one appends to.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Exporters {
    pub(super) exporters: Vec<TracesExporter>,
    pub(super) traces_file: PathBuf,
    pub(super) traces_file_max_bytes: u64,
}

/// Code or `OTEL_TRACES_EXPORTER`; a trace file given in code adds the
/// `file` exporter.
pub(super) fn exporters(b: &Builder, env: &mut EnvReader<'_>) -> Exporters {
    let mut exporters = match &b.exporters {
        Some(exporters) => exporters.clone(),
        None => exporters_from_env(env),
    };
    if b.traces_file.is_some() && !exporters.contains(&TracesExporter::File) {
        exporters.push(TracesExporter::File);
    }
    let traces_file = b.traces_file.clone().unwrap_or_else(|| {
        env.raw(TRACELINK_TRACES_FILE).map_or_else(
            || TRACELINK_TRACES_FILE_DEFAULT.into(),
            |path| PathBuf::from(path.trim()),
        )
    });
    let traces_file_max_bytes = b.traces_file_max_bytes.unwrap_or_else(|| {
        env.parse(TRACELINK_TRACES_FILE_MAX_BYTES, "64MiB", parse_size)
            .unwrap_or(TRACELINK_TRACES_FILE_MAX_BYTES_DEFAULT)
    });
    Exporters {
        exporters,
        traces_file,
        traces_file_max_bytes,
    }
}

fn exporters_from_env(env: &mut EnvReader<'_>) -> Vec<TracesExporter> {
    let names = [
        TracesExporter::Otlp,
        TracesExporter::Console,
        TracesExporter::File,
    ]
    .map(|e| (e.name(), e));
    env.name_list(
        OTEL_TRACES_EXPORTER,
        "exporter",
        &names,
        &[TracesExporter::Otlp],
    )
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

/// Code, or `OTEL_TRACES_SAMPLER` with its argument, or
/// `parentbased_always_on`.
pub(super) fn sampler(b: &Builder, env: &mut EnvReader<'_>) -> Sampler {
    match &b.sampler {
        Some(sampler) => sampler.clone(),
        None => sampler_from_env(env),
    }
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
        "probability" => Sampler::probability(ratio(env)),
        "parentbased_probability" => Sampler::parent_based(Sampler::probability(ratio(env))),
        "parentbased_ratelimiting" => {
            let per_second = env
                .parse(OTEL_TRACES_SAMPLER_ARG, "100", |v| {
                    match v.trim().parse::<f64>() {
                        Ok(r) if r.is_finite() && r >= 0.0 => Ok(r),
                        _ => Err("expected traces a second, a number from 0 up".into()),
                    }
                })
                .unwrap_or(100.0);
            Sampler::parent_based(Sampler::rate_limited(per_second))
        }
        _ => {
            env.reject(
                OTEL_TRACES_SAMPLER,
                &name,
                "expected always_on, always_off, traceidratio, parentbased_always_on, \
                 parentbased_always_off, parentbased_traceidratio, probability, \
                 parentbased_probability or parentbased_ratelimiting",
                OTEL_TRACES_SAMPLER_DEFAULT,
            );
            Sampler::default()
        }
    }
}

/// Code's [`SpanLimits`] replace every limit variable; otherwise each
/// count is its own variable, then `OTEL_ATTRIBUTE_COUNT_LIMIT` for the
/// attribute counts, then 128; the value length the span's variable, then
/// the general one, then unlimited.
pub(super) fn span_limits(b: &Builder, env: &mut EnvReader<'_>) -> SpanLimits {
    use crate::env::{
        ATTRIBUTE_VALUE_LENGTH_RANGE, OTEL_ATTRIBUTE_COUNT_LIMIT,
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT,
        OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT,
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT, OTEL_SPAN_EVENT_COUNT_LIMIT,
        OTEL_SPAN_LINK_COUNT_LIMIT, SPAN_COUNT_LIMIT_RANGE,
    };
    if let Some(limits) = b.span_limits {
        return limits;
    }
    let count = |env: &mut EnvReader<'_>, names: &[&'static str]| {
        let n = names
            .iter()
            .find_map(|name| env.count_in(name, &SPAN_COUNT_LIMIT_RANGE))
            .map_or(crate::trace::limits::DEFAULT_COUNT, |n| n as u32);
        env.fill_fallback(names, &n.to_string());
        n
    };
    let attributes = count(
        env,
        &[OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
    );
    let events = count(env, &[OTEL_SPAN_EVENT_COUNT_LIMIT]);
    let links = count(env, &[OTEL_SPAN_LINK_COUNT_LIMIT]);
    let event_attributes = count(
        env,
        &[OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
    );
    let link_attributes = count(
        env,
        &[OTEL_LINK_ATTRIBUTE_COUNT_LIMIT, OTEL_ATTRIBUTE_COUNT_LIMIT],
    );
    let lengths = [
        OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT,
        OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT,
    ];
    let value_length = lengths
        .iter()
        .find_map(|name| env.count_in(name, &ATTRIBUTE_VALUE_LENGTH_RANGE))
        .map(|n| n as u32);
    env.fill_fallback(
        &lengths,
        &value_length.map_or_else(|| "no limit".to_owned(), |n| n.to_string()),
    );
    SpanLimits::default()
        .with_attributes(attributes)
        .with_events(events)
        .with_links(links)
        .with_event_attributes(event_attributes)
        .with_link_attributes(link_attributes)
        .with_attribute_value_length(value_length)
}

/// One signal's batching variables (`OTEL_BSP_*`, `OTEL_BLRP_*`) and
/// defaults.
pub(super) struct BatchVars {
    pub(super) delay: &'static str,
    pub(super) timeout: &'static str,
    pub(super) queue: &'static str,
    pub(super) size: &'static str,
    pub(super) default: fn() -> BatchConfig,
}

/// The spans' batching variables.
pub(super) const SPAN_BATCH: BatchVars = BatchVars {
    delay: OTEL_BSP_SCHEDULE_DELAY,
    timeout: OTEL_BSP_EXPORT_TIMEOUT,
    queue: OTEL_BSP_MAX_QUEUE_SIZE,
    size: OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
    default: BatchConfig::default,
};

/// The log records' batching variables.
pub(super) const LOG_BATCH: BatchVars = BatchVars {
    delay: crate::env::OTEL_BLRP_SCHEDULE_DELAY,
    timeout: crate::env::OTEL_BLRP_EXPORT_TIMEOUT,
    queue: crate::env::OTEL_BLRP_MAX_QUEUE_SIZE,
    size: crate::env::OTEL_BLRP_MAX_EXPORT_BATCH_SIZE,
    default: BatchConfig::logs,
};

/// A `BatchConfig` from code replaces every one of the signal's batching
/// variables, each of its values held to that variable's range.
pub(super) fn batch(
    code: Option<&BatchConfig>,
    env: &mut EnvReader<'_>,
    vars: &BatchVars,
) -> BatchConfig {
    match code {
        Some(batch) => checked_batch(batch, env, vars),
        None => batch_from_env(env, vars),
    }
}

/// A `BatchConfig` given in code, each value checked against its range like
/// the variable it stands for.
fn checked_batch(given: &BatchConfig, env: &mut EnvReader<'_>, vars: &BatchVars) -> BatchConfig {
    let default = (vars.default)();
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
        env.fill_fallback(&[name], &value);
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

fn batch_from_env(env: &mut EnvReader<'_>, vars: &BatchVars) -> BatchConfig {
    let mut batch = (vars.default)();
    if let Some(delay) = env.millis_in(vars.delay, &OTEL_BSP_SCHEDULE_DELAY_RANGE) {
        batch.scheduled_delay = delay;
    }
    if let Some(timeout) = env.millis_in(vars.timeout, &EXPORT_TIMEOUT_RANGE) {
        batch.export_timeout = timeout;
    }
    if let Some(size) = env.count_in(vars.queue, &OTEL_BSP_SIZE_RANGE) {
        batch.max_queue_size = size;
    }
    if let Some(size) = env.count_in(vars.size, &OTEL_BSP_SIZE_RANGE) {
        batch.max_export_batch_size = size;
    }
    let batch = fit_batch_to_queue(batch, env, vars.size);
    env.fill_fallback(&[vars.delay], &ms(&batch.scheduled_delay));
    env.fill_fallback(&[vars.timeout], &ms(&batch.export_timeout));
    env.fill_fallback(&[vars.queue], &batch.max_queue_size.to_string());
    env.fill_fallback(&[vars.size], &batch.max_export_batch_size.to_string());
    batch
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::config::Warning;

    fn warning(name: &'static str, value: &str, reason: &str, fallback: &str) -> Warning {
        Warning {
            name,
            value: value.into(),
            reason: reason.into(),
            fallback: fallback.into(),
        }
    }

    #[test]
    fn exporters_default_to_otlp_and_the_default_file() {
        let b = crate::builder().with_env::<_, String, String>([]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            exporters(&b, &mut env),
            Exporters {
                exporters: vec![TracesExporter::Otlp],
                traces_file: PathBuf::from(".tracelink/traces.jsonl"),
                traces_file_max_bytes: 64 * 1024 * 1024,
            }
        );
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn the_exporter_list_is_deduplicated_case_blind_and_none_empties_it() {
        let b = crate::builder().with_env([
            (OTEL_TRACES_EXPORTER, " File, otlp ,FILE,console"),
            (TRACELINK_TRACES_FILE, " /tmp/spans.jsonl "),
            (TRACELINK_TRACES_FILE_MAX_BYTES, "10 MiB"),
        ]);
        let mut env = EnvReader::new(&b.env);
        let found = exporters(&b, &mut env);
        assert_eq!(
            found.exporters,
            [
                TracesExporter::File,
                TracesExporter::Otlp,
                TracesExporter::Console
            ]
        );
        assert_eq!(found.traces_file, PathBuf::from("/tmp/spans.jsonl"));
        assert_eq!(found.traces_file_max_bytes, 10 << 20);
        assert!(env.issues.is_empty(), "{:?}", env.issues);

        let b = crate::builder().with_env([(OTEL_TRACES_EXPORTER, "otlp,none")]);
        let mut env = EnvReader::new(&b.env);
        assert!(exporters(&b, &mut env).exporters.is_empty());
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn unknown_exporters_are_one_warning_naming_what_is_used() {
        let b = crate::builder().with_env([(OTEL_TRACES_EXPORTER, "zipkin,console,jaeger")]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(exporters(&b, &mut env).exporters, [TracesExporter::Console]);
        assert_eq!(
            env.issues,
            [warning(
                OTEL_TRACES_EXPORTER,
                "zipkin,console,jaeger",
                "unsupported exporter zipkin, jaeger; expected otlp, console, file or none",
                "console",
            )]
        );

        // Nothing valid left: the default, and the warning says so.
        let b = crate::builder().with_env([(OTEL_TRACES_EXPORTER, "zipkin")]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(exporters(&b, &mut env).exporters, [TracesExporter::Otlp]);
        assert_eq!(env.issues.len(), 1, "{:?}", env.issues);
        assert_eq!(env.issues[0].fallback, "otlp");
    }

    #[test]
    fn a_trace_file_in_code_beats_env_and_adds_the_file_exporter() {
        let b = crate::builder()
            .with_env([
                (OTEL_TRACES_EXPORTER, "console"),
                (TRACELINK_TRACES_FILE, "/env.jsonl"),
                (TRACELINK_TRACES_FILE_MAX_BYTES, "not a size"),
            ])
            .with_traces_file("/code.jsonl")
            .with_traces_file_max_bytes(4096);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            exporters(&b, &mut env),
            Exporters {
                exporters: vec![TracesExporter::Console, TracesExporter::File],
                traces_file: PathBuf::from("/code.jsonl"),
                traces_file_max_bytes: 4096,
            }
        );
        // The size variable was never read: code set it.
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn a_bad_file_size_is_one_warning_and_64_mib() {
        let b = crate::builder().with_env([(TRACELINK_TRACES_FILE_MAX_BYTES, "0")]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(exporters(&b, &mut env).traces_file_max_bytes, 64 << 20);
        assert_eq!(
            env.issues,
            [warning(
                TRACELINK_TRACES_FILE_MAX_BYTES,
                "0",
                "expected a size greater than 0",
                "64MiB"
            )]
        );
    }

    #[test]
    fn sizes_take_binary_and_decimal_units() {
        assert_eq!(parse_size("67108864"), Ok(67_108_864));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("64 m"), Ok(64 << 20));
        assert_eq!(parse_size("512KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("100MB"), Ok(100_000_000));
        assert_eq!(parse_size("3b"), Ok(3));
        assert!(parse_size("0KiB").is_err());
        assert_eq!(parse_size("99999999999999GiB"), Err("too large".into()));
        assert_eq!(
            parse_size("lots"),
            Err("expected a size in bytes, like 67108864 or 64MiB".into())
        );
        assert!(parse_size("64 parsecs").is_err());
    }

    #[test]
    fn sampler_names_and_ratios_come_from_env() {
        let cases = [
            ("always_on", None, Sampler::always_on()),
            ("ALWAYS_OFF", None, Sampler::always_off()),
            ("traceidratio", Some("0.25"), Sampler::trace_id_ratio(0.25)),
            (
                " parentbased_traceidratio ",
                Some("0"),
                Sampler::parent_based(Sampler::trace_id_ratio(0.0)),
            ),
            (
                "parentbased_always_off",
                None,
                Sampler::parent_based(Sampler::always_off()),
            ),
        ];
        for (name, arg, expected) in cases {
            let mut vars = vec![(OTEL_TRACES_SAMPLER, name)];
            vars.extend(arg.map(|arg| (OTEL_TRACES_SAMPLER_ARG, arg)));
            let b = crate::builder().with_env(vars);
            let mut env = EnvReader::new(&b.env);
            assert_eq!(sampler(&b, &mut env), expected, "{name}");
            assert!(env.issues.is_empty(), "{name}: {:?}", env.issues);
        }
    }

    #[test]
    fn a_bad_sampler_or_ratio_is_one_warning_each() {
        let b = crate::builder().with_env([
            (OTEL_TRACES_SAMPLER, "traceidratio"),
            (OTEL_TRACES_SAMPLER_ARG, "1.5"),
        ]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(sampler(&b, &mut env), Sampler::trace_id_ratio(1.0));
        assert_eq!(
            env.issues,
            [warning(
                OTEL_TRACES_SAMPLER_ARG,
                "1.5",
                "expected a number from 0 to 1",
                "1.0"
            )]
        );

        let b = crate::builder().with_env([(OTEL_TRACES_SAMPLER, "sometimes")]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(sampler(&b, &mut env), Sampler::default());
        assert_eq!(env.issues.len(), 1, "{:?}", env.issues);
        assert_eq!(env.issues[0].name, OTEL_TRACES_SAMPLER);
        assert_eq!(env.issues[0].fallback, "parentbased_always_on");
    }

    #[test]
    fn a_sampler_in_code_beats_env() {
        let b = crate::builder()
            .with_env([(OTEL_TRACES_SAMPLER, "nonsense")])
            .with_sampler(Sampler::always_off());
        let mut env = EnvReader::new(&b.env);
        assert_eq!(sampler(&b, &mut env), Sampler::always_off());
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn batch_settings_come_from_env() {
        let b = crate::builder().with_env([
            (OTEL_BSP_SCHEDULE_DELAY, "100"),
            (OTEL_BSP_EXPORT_TIMEOUT, "1000"),
            (OTEL_BSP_MAX_QUEUE_SIZE, "100"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "50"),
        ]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            batch(b.batch.as_ref(), &mut env, &SPAN_BATCH),
            BatchConfig::default()
                .with_scheduled_delay(Duration::from_millis(100))
                .with_export_timeout(Duration::from_secs(1))
                .with_max_queue_size(100)
                .with_max_export_batch_size(50)
        );
        assert!(env.issues.is_empty(), "{:?}", env.issues);
    }

    #[test]
    fn bad_batch_variables_warn_with_the_value_used() {
        let b = crate::builder().with_env([
            (OTEL_BSP_SCHEDULE_DELAY, "1"),
            (OTEL_BSP_MAX_QUEUE_SIZE, "10"),
            (OTEL_BSP_MAX_EXPORT_BATCH_SIZE, "20"),
        ]);
        let mut env = EnvReader::new(&b.env);
        let found = batch(b.batch.as_ref(), &mut env, &SPAN_BATCH);
        assert_eq!(found.scheduled_delay, Duration::from_secs(5));
        assert_eq!(found.max_export_batch_size, 10);
        assert_eq!(
            env.issues,
            [
                warning(
                    OTEL_BSP_SCHEDULE_DELAY,
                    "1",
                    "out of range: expected 10 to 3600000 milliseconds",
                    "5000 ms",
                ),
                warning(
                    OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
                    "20",
                    "larger than the queue size 10",
                    "10"
                ),
            ]
        );
    }

    #[test]
    fn a_batch_in_code_replaces_env_and_is_held_to_the_same_ranges() {
        let b = crate::builder()
            .with_env([(OTEL_BSP_MAX_QUEUE_SIZE, "lots")])
            .with_batch_config(
                BatchConfig::default()
                    .with_scheduled_delay(Duration::from_millis(1))
                    .with_max_queue_size(5)
                    .with_max_export_batch_size(10),
            );
        let mut env = EnvReader::new(&b.env);
        let found = batch(b.batch.as_ref(), &mut env, &SPAN_BATCH);
        assert_eq!(found.scheduled_delay, Duration::from_secs(5));
        assert_eq!(found.max_queue_size, 5);
        assert_eq!(found.max_export_batch_size, 5);
        assert_eq!(
            env.issues,
            [
                warning(
                    "BatchConfig::with_scheduled_delay",
                    "1 ms",
                    "out of range: expected 10 ms to 3600000 ms",
                    "5000 ms",
                ),
                warning(
                    "BatchConfig::with_max_export_batch_size",
                    "10",
                    "larger than the queue size 5",
                    "5"
                ),
            ]
        );
    }

    #[test]
    fn span_limits_take_their_own_variable_then_the_general_one() {
        let b = crate::builder().with_env([
            ("OTEL_ATTRIBUTE_COUNT_LIMIT", "64"),
            ("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "32"),
            ("OTEL_SPAN_EVENT_COUNT_LIMIT", "0"),
            ("OTEL_LINK_ATTRIBUTE_COUNT_LIMIT", "lots"),
            ("OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT", "256"),
        ]);
        let mut env = EnvReader::new(&b.env);
        let limits = span_limits(&b, &mut env);
        assert_eq!(limits.attributes(), 32);
        assert_eq!(limits.events(), 0);
        assert_eq!(limits.links(), 128);
        assert_eq!(limits.event_attributes(), 64);
        assert_eq!(
            limits.link_attributes(),
            64,
            "the bad one falls to the general one"
        );
        assert_eq!(limits.attribute_value_length(), Some(256));
        assert_eq!(
            env.issues,
            [warning(
                "OTEL_LINK_ATTRIBUTE_COUNT_LIMIT",
                "lots",
                "expected a whole number from 0 to 100000",
                "64"
            )]
        );
        let b = crate::builder().with_env([("OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT", "0")]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(span_limits(&b, &mut env).attribute_value_length(), None);
        assert_eq!(env.issues.len(), 1, "{:?}", env.issues);
        assert_eq!(env.issues[0].fallback, "no limit");
    }

    #[test]
    fn parentbased_ratelimiting_takes_traces_a_second() {
        let b = crate::builder().with_env([
            (OTEL_TRACES_SAMPLER, "parentbased_ratelimiting"),
            (OTEL_TRACES_SAMPLER_ARG, "25"),
        ]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            sampler(&b, &mut env).to_string(),
            "parentbased_ratelimiting(25)"
        );
        let b = crate::builder().with_env([
            (OTEL_TRACES_SAMPLER, "parentbased_ratelimiting"),
            (OTEL_TRACES_SAMPLER_ARG, "-1"),
        ]);
        let mut env = EnvReader::new(&b.env);
        assert_eq!(
            sampler(&b, &mut env).to_string(),
            "parentbased_ratelimiting(100)"
        );
        assert_eq!(env.issues.len(), 1, "{:?}", env.issues);
        assert_eq!(env.issues[0].fallback, "100");
    }
}
