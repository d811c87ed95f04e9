//! The `file` exporter: the local trace store holds, line for line, the OTLP
//! requests a collector receives for the same batches; it rotates without
//! losing or splitting a line; a torn last line stays one bad line; and a
//! store that can not be written is reported, not fatal.
//!
//! Lines are read back with opentelemetry-proto's own OTLP/JSON decoder
//! (`with-serde`), not with tracelink's code.

mod support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use support::Receiver;
use tracing::{error, info_span, warn};

const WAIT: Duration = Duration::from_secs(10);

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "tracelink-file-store-{name}-{}-{}",
        std::process::id(),
        rand_suffix()
    ));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now())
}

fn build(env: &[(&str, &str)]) -> tracelink::Parts {
    let mut vars = vec![
        ("OTEL_SERVICE_NAME", "shop"),
        ("OTEL_BSP_SCHEDULE_DELAY", "50"),
        ("OTEL_METRICS_EXPORTER", "none"),
    ];
    vars.extend_from_slice(env);
    tracelink::builder()
        .with_env(vars)
        .with_shutdown_timeout(WAIT)
        .build()
        .expect("tracelink builds")
}

/// Every line of every file of the store, oldest first.
fn store_lines(path: &Path) -> Vec<String> {
    tracelink::store::files(path)
        .iter()
        .flat_map(|file| {
            std::fs::read_to_string(file)
                .expect("store file readable")
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

fn decode(line: &str) -> ExportTraceServiceRequest {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not OTLP/JSON ({e}): {line}"))
}

/// A request's spans, with the tree, kinds, statuses, events and every kind
/// of attribute value the `tracing` macros make.
fn workload() {
    for order in 0..3_i64 {
        let request = info_span!(
            "request",
            otel.kind = "server",
            http.request.method = "POST",
            url.path = "/orders",
            order.id = order,
            order.total = 12.5_f64 * order as f64,
            order.gift = order % 2 == 0,
            note = "quotes \" and \\ and\nnewlines, ünïcödé",
        );
        request.in_scope(|| {
            info_span!(
                "db.query",
                otel.kind = "client",
                db.system.name = "postgresql"
            )
            .in_scope(|| {
                warn!(rows = 3_u64, "slow query");
            });
            if order == 1 {
                info_span!("charge", otel.kind = "client").in_scope(|| {
                    error!(reason = "card declined", "charge failed");
                });
            }
        });
    }
}

#[test]
fn the_store_holds_the_requests_a_collector_receives() {
    let dir = temp_dir("same");
    let path = dir.join("store/traces.jsonl");
    let receiver = Receiver::start();
    let parts = build(&[
        ("OTEL_TRACES_EXPORTER", "otlp,file"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.http_endpoint()),
        ("TRACELINK_TRACES_FILE", path.to_str().unwrap()),
    ]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), workload);
    parts.into_guard().shutdown().expect("clean shutdown");
    let spans = receiver.wait_for_spans(7, WAIT);
    assert_eq!(spans.len(), 7, "3 requests, 3 queries, 1 charge");

    let lines = store_lines(&path);
    let received: Vec<ExportTraceServiceRequest> =
        receiver.requests().into_iter().map(|r| r.body).collect();
    let stored: Vec<ExportTraceServiceRequest> = lines.iter().map(|l| decode(l)).collect();
    assert_eq!(stored.len(), received.len(), "one line per export request");
    assert_eq!(stored, received);

    // The encoding itself, on the raw JSON.
    let first: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    let span = &first["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    let trace_id = span["traceId"].as_str().unwrap();
    assert_eq!(trace_id.len(), 32);
    assert!(trace_id
        .bytes()
        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')));
    assert!(span["startTimeUnixNano"].is_string(), "{span}");
    assert!(span["kind"].is_i64(), "{span}");
    assert!(span["status"].is_object(), "{span}");
    assert!(
        span.get("traceState").is_none(),
        "defaults are left out: {span}"
    );
    let resource = &first["resourceSpans"][0]["resource"]["attributes"];
    let pid = resource
        .as_array()
        .unwrap()
        .iter()
        .find(|kv| kv["key"] == "process.pid")
        .expect("process.pid");
    assert_eq!(pid["value"]["intValue"], std::process::id().to_string());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_store_holds_the_log_records_a_collector_receives_beside_the_spans() {
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    let dir = temp_dir("logs");
    let path = dir.join("store/traces.jsonl");
    let receiver = Receiver::start();
    let parts = build(&[
        ("OTEL_TRACES_EXPORTER", "otlp,file"),
        ("OTEL_LOGS_EXPORTER", "otlp,file"),
        ("OTEL_BLRP_SCHEDULE_DELAY", "50"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", &receiver.http_endpoint()),
        ("TRACELINK_TRACES_FILE", path.to_str().unwrap()),
        ("TRACELINK_LOG_FORMAT", "none"),
    ]);
    tracing::dispatcher::with_default(&support::dispatch_with_logs(&parts), workload);
    parts.into_guard().shutdown().expect("clean shutdown");
    let logs = receiver.wait_for_logs(4, WAIT);
    assert_eq!(logs.len(), 4, "3 slow queries, 1 failed charge");

    // Lines of both kinds, in the one store; the logs lines decode as the
    // very requests the collector got.
    let lines = store_lines(&path);
    let (log_lines, span_lines): (Vec<&String>, Vec<&String>) = lines
        .iter()
        .partition(|l| l.starts_with("{\"resourceLogs\""));
    assert!(!span_lines.is_empty());
    let stored: Vec<ExportLogsServiceRequest> = log_lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not OTLP/JSON ({e}): {l}")))
        .collect();
    let received: Vec<ExportLogsServiceRequest> = receiver
        .logs_requests()
        .into_iter()
        .map(|r| r.body)
        .collect();
    assert_eq!(stored, received);
    // And each names a span the store holds.
    let span_ids: Vec<Vec<u8>> = span_lines
        .iter()
        .flat_map(|l| decode(l).resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .flat_map(|ss| ss.spans)
        .map(|span| span.span_id)
        .collect();
    for record in stored
        .iter()
        .flat_map(|r| &r.resource_logs)
        .flat_map(|rl| &rl.scope_logs)
        .flat_map(|sl| &sl.log_records)
    {
        assert!(span_ids.contains(&record.span_id), "{record:?}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

/// Makes `SPANS` spans (attribute `seq` = 0, 1, ...) in batches of 10,
/// through the file exporter rotating at `max_bytes`; checks the store's
/// file names and sizes, and returns how many files it has and the `seq`
/// values it holds, oldest first.
fn rotate(name: &str, max_bytes: u64) -> (usize, Vec<i64>) {
    let dir = temp_dir(name);
    let path = dir.join("traces.jsonl");
    let parts = build(&[
        ("OTEL_TRACES_EXPORTER", "file"),
        ("TRACELINK_TRACES_FILE", path.to_str().unwrap()),
        ("TRACELINK_TRACES_FILE_MAX_BYTES", &max_bytes.to_string()),
        ("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10"),
        // Only full batches, then the flush: lines of 10 spans.
        ("OTEL_BSP_SCHEDULE_DELAY", "60000"),
    ]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), || {
        for seq in 0..SPANS {
            info_span!("step", seq).in_scope(|| {});
        }
    });
    let guard = parts.into_guard();
    guard.flush().expect("flush");
    let stats = guard.stats().spans();
    guard.shutdown().expect("clean shutdown");
    assert_eq!(stats.exported(), SPANS as u64, "{stats:?}");

    let files = tracelink::store::files(&path);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected_names: Vec<String> = (1..files.len())
        .rev()
        .map(|n| format!("traces.jsonl.{n}"))
        .chain(["traces.jsonl".to_owned()])
        .collect();
    assert_eq!(names, expected_names);
    let lines = store_lines(&path);
    for file in &files {
        let size = std::fs::metadata(file).unwrap().len();
        let text = std::fs::read_to_string(file).unwrap();
        // A line larger than the bound is alone in its file.
        assert!(
            size <= max_bytes || text.lines().count() == 1,
            "{} is {size} bytes",
            file.display()
        );
    }
    let mut seqs = Vec::new();
    for line in &lines {
        for rs in decode(line).resource_spans {
            for ss in rs.scope_spans {
                for span in ss.spans {
                    let seq = span
                        .attributes
                        .iter()
                        .find(|kv| kv.key == "seq")
                        .and_then(|kv| kv.value.as_ref())
                        .map(support::any_value_to_string)
                        .expect("seq attribute");
                    seqs.push(seq.parse::<i64>().unwrap());
                }
            }
        }
    }
    println!(
        "max {max_bytes} bytes: files {names:?}, line lengths {:?}",
        lines.iter().map(String::len).collect::<Vec<_>>()
    );
    std::fs::remove_dir_all(dir).unwrap();
    (files.len(), seqs)
}

const SPANS: i64 = 60;

#[test]
fn rotation_loses_no_span_across_the_boundary() {
    // About 6 KB a line: two lines a file, three files.
    let (files, seqs) = rotate("rotate-kept", 16 * 1024);
    assert!(files >= 2, "the store rotated");
    assert!(files <= 1 + tracelink::store::ROTATED_FILES);
    assert_eq!(
        seqs,
        (0..SPANS).collect::<Vec<_>>(),
        "every span, in order, once"
    );
}

#[test]
fn rotation_deletes_the_oldest_files_only() {
    // Every line is larger than the bound: one line a file, six lines, and
    // the four newest files kept.
    let (files, seqs) = rotate("rotate-deleted", 4 * 1024);
    assert_eq!(files, 1 + tracelink::store::ROTATED_FILES);
    let first = SPANS - seqs.len() as i64;
    assert!(first > 0, "the oldest lines are gone");
    assert_eq!(
        seqs,
        (first..SPANS).collect::<Vec<_>>(),
        "the newest spans, in order, none missing in between"
    );
}

#[test]
fn a_torn_last_line_stays_one_bad_line() {
    let dir = temp_dir("torn");
    let path = dir.join("traces.jsonl");
    let torn = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.na"#;
    std::fs::write(&path, torn).unwrap();
    let parts = build(&[
        ("OTEL_TRACES_EXPORTER", "file"),
        ("TRACELINK_TRACES_FILE", path.to_str().unwrap()),
    ]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), workload);
    parts.into_guard().shutdown().expect("clean shutdown");

    let lines = store_lines(&path);
    assert_eq!(lines[0], torn);
    assert!(serde_json::from_str::<serde_json::Value>(&lines[0]).is_err());
    let spans: usize = lines[1..]
        .iter()
        .map(|l| decode(l))
        .flat_map(|r| r.resource_spans)
        .flat_map(|rs| rs.scope_spans)
        .map(|ss| ss.spans.len())
        .sum();
    assert_eq!(spans, 7);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_store_that_can_not_be_written_counts_failed_spans() {
    let dir = temp_dir("blocked");
    // A file where the store's directory should be.
    let blocker = dir.join("not-a-dir");
    std::fs::write(&blocker, "").unwrap();
    let parts = build(&[
        ("OTEL_TRACES_EXPORTER", "file"),
        (
            "TRACELINK_TRACES_FILE",
            blocker.join("traces.jsonl").to_str().unwrap(),
        ),
    ]);
    tracing::dispatcher::with_default(&support::dispatch(&parts), workload);
    let guard = parts.into_guard();
    // The failure is reported by the flush, or was by an export before it.
    let _ = guard.flush();
    let stats = guard.stats().spans();
    assert_eq!(stats.failed(), 7, "{stats:?}");
    assert_eq!(stats.exported(), 0, "{stats:?}");
    let _ = guard.shutdown();
    std::fs::remove_dir_all(dir).unwrap();
}

/// A request with one span named `name`.
fn named_request(name: &str) -> ExportTraceServiceRequest {
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            scope_spans: vec![ScopeSpans {
                spans: vec![Span {
                    trace_id: vec![1; 16],
                    span_id: vec![2; 8],
                    name: name.into(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// A service and `tracelink receive` (here four threads, each with its own
/// `TraceFile`) append to one store: each rotation is made once, so the
/// store keeps its documented files, each rotated file full, and of each
/// writer's lines exactly the newest ones.
///
/// A second rotation of an already rotated file leaves a rotated file with
/// fewer lines than fit, until it is rotated out of the store: the files
/// are checked after each of many short rounds of concurrent appends.
/// (Rotation is serialized with `flock`, which Windows lacks.)
#[cfg(unix)]
#[test]
fn writers_rotate_once_and_lose_no_kept_line() {
    const WRITERS: usize = 4;
    const ROUNDS: usize = 50;
    const LINES: usize = 40;
    let dir = temp_dir("two-writers");
    let path = dir.join("traces.jsonl");
    // All lines the same length: `w0-00000`.
    let line_len = {
        let dir = temp_dir("line-length");
        let probe = dir.join("probe.jsonl");
        let mut file = tracelink::store::TraceFile::open(&probe, 1 << 20).unwrap();
        file.append(&named_request("w0-00000")).unwrap();
        let len = std::fs::metadata(&probe).unwrap().len();
        std::fs::remove_dir_all(dir).unwrap();
        len
    };
    // A file is rotated once it holds 4 lines.
    let max = line_len * 4 + line_len / 2;
    let mut writers: Vec<tracelink::store::TraceFile> = (0..WRITERS)
        .map(|_| tracelink::store::TraceFile::open(&path, max).unwrap())
        .collect();
    for round in 0..ROUNDS {
        let start = std::sync::Barrier::new(WRITERS);
        std::thread::scope(|scope| {
            for (writer, file) in writers.iter_mut().enumerate() {
                let start = &start;
                scope.spawn(move || {
                    start.wait();
                    for i in round * LINES..(round + 1) * LINES {
                        file.append(&named_request(&format!("w{writer}-{i:05}")))
                            .unwrap();
                    }
                });
            }
        });

        let files = tracelink::store::files(&path);
        assert!(files.len() <= 1 + tracelink::store::ROTATED_FILES);
        let mut kept: Vec<Vec<usize>> = vec![Vec::new(); WRITERS];
        for file in &files {
            let text = std::fs::read_to_string(file).unwrap();
            if file != &path {
                // Rotated only when the next line did not fit: never early.
                assert!(
                    text.lines().count() >= 4,
                    "round {round}: {} holds {} lines: rotated twice",
                    file.display(),
                    text.lines().count()
                );
            }
            for line in text.lines() {
                let span = &decode(line).resource_spans[0].scope_spans[0].spans[0];
                let (writer, i) = span.name.split_once('-').unwrap();
                kept[writer[1..].parse::<usize>().unwrap()].push(i.parse().unwrap());
            }
        }
        // Only whole oldest files are deleted: each writer's kept lines are
        // its newest, in order, none missing in between.
        let written = (round + 1) * LINES;
        for (writer, kept) in kept.iter().enumerate() {
            let first = written - kept.len();
            assert_eq!(
                *kept,
                (first..written).collect::<Vec<_>>(),
                "round {round}, writer {writer}"
            );
        }
    }
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "traces.jsonl",
            "traces.jsonl.1",
            "traces.jsonl.2",
            "traces.jsonl.3",
            "traces.jsonl.lock"
        ]
    );
    std::fs::remove_dir_all(dir).unwrap();
}
