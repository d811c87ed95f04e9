//! Test support: temp directories, running the `tracelink` binary, reading
//! its waterfall, and building stores through tracelink's own writer.

#![allow(dead_code)]

mod proto;
mod receiver;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, InstrumentationScope};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{span, ResourceSpans, ScopeSpans, Span, Status};
pub(crate) use proto::*;
#[allow(unused_imports)] // Used by the tests of `receive` only.
pub(crate) use receiver::*;

/// A fresh directory under the system temp dir, removed on drop.
pub(crate) struct TempDir(pub PathBuf);

impl TempDir {
    pub(crate) fn new(name: &str) -> Self {
        use std::hash::{BuildHasher, RandomState};
        let unique = RandomState::new().hash_one(std::time::SystemTime::now());
        let dir = std::env::temp_dir().join(format!(
            "tracelink-cli-{name}-{}-{unique:x}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The venv's python, with the OpenTelemetry SDK, made by
/// `scripts/install-test-deps.sh`; panics, naming the script, when missing.
pub(crate) fn python() -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root");
    let python = root.join("target/test-venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/install-test-deps.sh",
        python.display()
    );
    python
}

/// The `tracelink` binary, with no `TRACELINK_*`, `OTEL_*`, `NO_COLOR` or
/// `COLUMNS` from the environment: into a pipe, it draws 80 columns wide.
pub(crate) fn tracelink() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tracelink"));
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("TRACELINK_")
            || key.starts_with("OTEL_")
            || key == "NO_COLOR"
            || key == "COLUMNS"
        {
            command.env_remove(&*key);
        }
    }
    command
}

/// A width for `show` and `jump` that every line of the fixtures fits in
/// whole, for tests of what is shown rather than how it is cut.
pub(crate) const WIDE: &str = "--width=200";

/// What a run printed, and how it ended.
pub(crate) struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) fn run(command: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().expect("tracelink runs");
    let run = Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(stderr).expect("UTF-8 stderr"),
    };
    println!(
        "$ {command:?}\n-- exit {:?}\n-- stdout\n{}-- stderr\n{}",
        run.code, run.stdout, run.stderr
    );
    run
}

/// [`run`], with the child killed (by its PID) if it has not ended within
/// `limit`: a guard that stops a hung test (a reader blocked on a FIFO, a
/// drawing that never ends), not a timing assertion.
pub(crate) fn run_within(command: &mut Command, limit: std::time::Duration) -> Run {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("tracelink runs");
    let read = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8(bytes).expect("UTF-8 output")
        })
    };
    let stdout = read(Box::new(child.stdout.take().expect("piped stdout")));
    let stderr = read(Box::new(child.stderr.take().expect("piped stderr")));
    let deadline = std::time::Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} had not ended after {limit:?}: killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let run = Run {
        code: status.code(),
        stdout: stdout.join().expect("stdout read"),
        stderr: stderr.join().expect("stderr read"),
    };
    println!(
        "$ {command:?}\n-- exit {:?} ({status})\n-- stdout: {} bytes\n-- stderr\n{}",
        run.code,
        run.stdout.len(),
        run.stderr
    );
    run
}

/// One span row of the waterfall.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub marked: bool,
    /// The tree lines and the name, as drawn: `│  └─ SELECT carts`.
    pub tree_name: String,
    pub service: String,
    pub start: String,
    pub duration: String,
    pub error: bool,
}

impl Row {
    /// The name without the tree lines.
    pub(crate) fn name(&self) -> &str {
        self.tree_name
            .trim_start_matches(['│', '├', '└', '─', '…', ' '])
    }

    /// The depth in the tree: 0 for a top-level span.
    pub(crate) fn depth(&self) -> usize {
        let prefix = self.tree_name.len() - self.name().len();
        self.tree_name[..prefix].chars().count() / 3
    }
}

/// The bar of a span row: the columns between its `|`s, of at least 10,
/// and where its first `|` is; `None` for other lines.
pub(crate) fn bar(line: &str) -> Option<(usize, String)> {
    let chars: Vec<char> = line.chars().collect();
    let close = chars.iter().rposition(|&c| c == '|')?;
    let open = chars[..close].iter().rposition(|&c| c == '|')?;
    let bar = &chars[open + 1..close];
    (bar.len() >= 10 && bar.iter().all(|&c| c == '█' || c == ' ') && bar.contains(&'█'))
        .then(|| (open, bar.iter().collect()))
}

/// The span rows of a waterfall: lines with a `|bar|`.
pub(crate) fn rows(output: &str) -> Vec<Row> {
    let mut rows = Vec::new();
    for line in output.lines() {
        let chars: Vec<char> = line.chars().collect();
        let Some((open, bar)) = bar(line) else {
            continue;
        };
        let close = open + bar.chars().count() + 1;
        let after: String = chars[close + 1..].iter().collect();
        let before: String = chars[..open].iter().collect();
        let Some((rest, duration)) = before.trim_end().rsplit_once(' ') else {
            continue;
        };
        let Some((rest, start)) = rest.trim_end().rsplit_once(' ') else {
            continue;
        };
        let Some((head, service)) = rest.trim_end().rsplit_once(' ') else {
            continue;
        };
        let head = head.trim_end();
        rows.push(Row {
            marked: head.starts_with("> "),
            tree_name: head.chars().skip(2).collect(),
            service: service.to_owned(),
            start: start.to_owned(),
            duration: duration.to_owned(),
            error: after.trim() == "ERROR",
        });
    }
    rows
}

/// The lines after the span row of `name`, up to the next span row.
pub(crate) fn details<'a>(output: &'a str, name: &str) -> Vec<&'a str> {
    let mut lines = output
        .lines()
        .skip_while(|line| rows(line).first().is_none_or(|row| row.name() != name));
    lines.next();
    lines
        .take_while(|line| rows(line).is_empty() && !line.trim().is_empty())
        .collect()
}

/// The log section: lines after `logs (N lines)`.
pub(crate) fn log_lines(output: &str) -> Vec<&str> {
    output
        .lines()
        .skip_while(|line| !line.starts_with("logs ("))
        .skip(1)
        .collect()
}

pub(crate) const MS: u64 = 1_000_000;
/// 2026-11-21T09:30:00Z.
pub(crate) const T0: u64 = 1_795_253_400_000_000_000;

pub(crate) fn hex_to_bytes(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex"))
        .collect()
}

/// A span of trace `trace`, from `start` to `end` ms after [`T0`].
pub(crate) fn span(
    trace: &str,
    id: &str,
    parent: Option<&str>,
    name: &str,
    start_ms: f64,
    end_ms: f64,
) -> Span {
    Span {
        trace_id: hex_to_bytes(trace),
        span_id: hex_to_bytes(id),
        parent_span_id: parent.map(hex_to_bytes).unwrap_or_default(),
        flags: 0x101,
        name: name.into(),
        kind: span::SpanKind::Internal as i32,
        start_time_unix_nano: T0 + (start_ms * MS as f64) as u64,
        end_time_unix_nano: T0 + (end_ms * MS as f64) as u64,
        status: Some(Status::default()),
        ..Default::default()
    }
}

/// A request: for each service, its spans.
pub(crate) fn request(services: Vec<(&str, Vec<Span>)>) -> ExportTraceServiceRequest {
    ExportTraceServiceRequest {
        resource_spans: services
            .into_iter()
            .map(|(service, spans)| ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![s("service.name", service), s("host.name", "test")],
                    dropped_attributes_count: 0,
                    entity_refs: Vec::new(),
                }),
                scope_spans: vec![ScopeSpans {
                    scope: Some(InstrumentationScope {
                        name: "fixture".into(),
                        ..Default::default()
                    }),
                    spans,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

pub(crate) fn write_store(path: &Path, max_bytes: u64, requests: &[ExportTraceServiceRequest]) {
    let mut file = tracelink::store::TraceFile::open(path, max_bytes).expect("store opens");
    for request in requests {
        file.append(request).expect("store writes");
    }
}

/// A log record of trace `trace` and span `span` (none for `None`), at
/// `at_ms` after [`T0`], with its severity and a string body.
pub(crate) fn log_record(
    trace: &str,
    span: Option<&str>,
    at_ms: f64,
    severity_number: i32,
    severity_text: &str,
    body: &str,
) -> LogRecord {
    let time = T0 + (at_ms * MS as f64) as u64;
    LogRecord {
        time_unix_nano: time,
        observed_time_unix_nano: time,
        severity_number,
        severity_text: severity_text.into(),
        body: Some(AnyValue {
            value: Some(any_value::Value::StringValue(body.into())),
        }),
        flags: 1,
        trace_id: hex_to_bytes(trace),
        span_id: span.map(hex_to_bytes).unwrap_or_default(),
        ..Default::default()
    }
}

/// A logs request: for each service, its log records.
pub(crate) fn logs_request(services: Vec<(&str, Vec<LogRecord>)>) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest {
        resource_logs: services
            .into_iter()
            .map(|(service, log_records)| ResourceLogs {
                resource: Some(Resource {
                    attributes: vec![s("service.name", service)],
                    dropped_attributes_count: 0,
                    entity_refs: Vec::new(),
                }),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: "fixture".into(),
                        ..Default::default()
                    }),
                    log_records,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

/// Appends `requests` of log records to the store at `path`, through
/// tracelink's own writer.
pub(crate) fn write_logs(path: &Path, requests: &[ExportLogsServiceRequest]) {
    let mut file = tracelink::store::TraceFile::open(path, 1 << 30).expect("store opens");
    for request in requests {
        file.append_logs(request).expect("store writes");
    }
}
