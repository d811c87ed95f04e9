//! Log lines with trace ids: tracelink's JSON lines (`otel` style:
//! `timestamp`, `level`, `message`, `trace_id`, `span_id`), the `ecs` style
//! (`@timestamp`, `log.level`, `trace.id`, `span.id`, flat or nested), the
//! `gcp` style (`time`, `severity`, `logging.googleapis.com/trace`), the
//! common `msg`/`ts`/`traceId` spellings, and, for `tracelink jump`, plain
//! `key=value` text.

use std::path::PathBuf;

use memchr::memmem;
use serde_json::{Map, Value};

use crate::otlp::{decode_hex, hex};
use crate::scan;
use crate::time;

/// One log line of a trace.
#[derive(Clone, Debug)]
pub(crate) struct LogLine {
    /// Unix nanoseconds, when the line has a readable timestamp.
    pub(crate) time: Option<u64>,
    pub(crate) level: String,
    pub(crate) message: String,
    pub(crate) trace_id: Option<[u8; 16]>,
    pub(crate) span_id: Option<[u8; 8]>,
    /// The line's own span name (tracelink's `span.name`), if any.
    pub(crate) span_name: Option<String>,
    /// Other fields, as `key=value`.
    pub(crate) fields: Vec<(String, String)>,
    /// Which file, and where in it (for a stable order).
    pub(crate) file: usize,
    pub(crate) position: u64,
}

const TIME_KEYS: &[&str] = &["timestamp", "@timestamp", "time", "ts", "t"];
const LEVEL_KEYS: &[&str] = &["level", "log.level", "severity", "levelname", "lvl"];
const MESSAGE_KEYS: &[&str] = &["message", "msg", "body", "event"];
const TRACE_KEYS: &[&str] = &[
    "trace_id",
    "trace.id",
    "traceId",
    "traceid",
    "otelTraceID",
    "logging.googleapis.com/trace",
];
const SPAN_KEYS: &[&str] = &[
    "span_id",
    "span.id",
    "spanId",
    "spanid",
    "otelSpanID",
    "logging.googleapis.com/spanId",
];
/// Fields not worth repeating next to the message.
const QUIET_KEYS: &[&str] = &[
    "target",
    "span",
    "spans",
    "trace_flags",
    "service.name",
    "ecs.version",
    "log.logger",
    "tracing.span",
    "tracing.spans",
    "logging.googleapis.com/trace_sampled",
    "thread.name",
    "thread.id",
];

/// Parses one line: JSON first, then `key=value` text.
///
/// # Errors
///
/// When the line is neither JSON with a trace id nor text with one.
pub(crate) fn parse_line(line: &str) -> Result<LogLine, String> {
    let line = line.trim();
    if line.starts_with('{') {
        match serde_json::from_str::<Map<String, Value>>(line) {
            Ok(object) => return from_json(&object).ok_or_else(no_trace_id),
            Err(error) if !has_text_trace_id(line) => {
                return Err(format!("the line is not valid JSON ({error})"));
            }
            Err(_) => {}
        }
    }
    from_text(line).ok_or_else(no_trace_id)
}

fn no_trace_id() -> String {
    "no trace id in the line: expected a JSON log line with trace_id (or trace.id, traceId), \
     or text with trace_id=<32 hex digits>"
        .into()
}

fn get<'a>(object: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a Value> {
    keys.iter().find_map(|key| {
        object.get(*key).or_else(|| {
            // ECS nests too: {"trace": {"id": ...}}.
            let (outer, inner) = key.split_once('.')?;
            object.get(outer)?.as_object()?.get(inner)
        })
    })
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The last `N`-byte hex id in `text` (`projects/p/traces/ID` ends with it).
fn id_in<const N: usize>(text: &str) -> Option<[u8; N]> {
    let text = text.trim();
    decode_hex::<N>(text).or_else(|| {
        text.get(text.len().checked_sub(2 * N)?..)
            .and_then(decode_hex::<N>)
    })
}

fn from_json(object: &Map<String, Value>) -> Option<LogLine> {
    let trace_id = get(object, TRACE_KEYS)
        .and_then(Value::as_str)
        .and_then(id_in::<16>)?;
    let span_id = get(object, SPAN_KEYS)
        .and_then(Value::as_str)
        .and_then(id_in::<8>);
    let time = get(object, TIME_KEYS).and_then(|v| match v {
        Value::String(s) => time::parse_rfc3339(s),
        Value::Number(n) => n.as_f64().and_then(time::from_number),
        _ => None,
    });
    let span_name = object
        .get("span")
        .or_else(|| object.get("tracing.span"))
        .and_then(|s| s.get("name"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let known = |key: &str| {
        [
            TIME_KEYS,
            LEVEL_KEYS,
            MESSAGE_KEYS,
            TRACE_KEYS,
            SPAN_KEYS,
            QUIET_KEYS,
        ]
        .iter()
        .any(|keys| keys.contains(&key))
            || key.starts_with("code.")
            || matches!(key, "trace" | "dd")
    };
    let fields = object
        .iter()
        .filter(|(key, _)| !known(key))
        .map(|(key, value)| (key.clone(), text(value)))
        .collect();
    Some(LogLine {
        time,
        level: get(object, LEVEL_KEYS).map(text).unwrap_or_default(),
        message: get(object, MESSAGE_KEYS).map(text).unwrap_or_default(),
        trace_id: Some(trace_id),
        span_id,
        span_name,
        fields,
        file: 0,
        position: 0,
    })
}

fn has_text_trace_id(line: &str) -> bool {
    text_id::<16>(line, &["trace_id", "trace.id", "traceid", "trace-id"]).is_some()
}

/// `key=value` (or `key: value`, `"key":"value"`) text.
fn from_text(line: &str) -> Option<LogLine> {
    let trace_id = text_id::<16>(line, &["trace_id", "trace.id", "traceid", "trace-id"])?;
    let span_id = text_id::<8>(line, &["span_id", "span.id", "spanid", "span-id"]);
    Some(LogLine {
        time: None,
        level: String::new(),
        message: line.to_owned(),
        trace_id: Some(trace_id),
        span_id,
        span_name: None,
        fields: Vec::new(),
        file: 0,
        position: 0,
    })
}

/// The id after the first of `keys` (case-insensitive) followed by a few
/// separator characters.
fn text_id<const N: usize>(line: &str, keys: &[&str]) -> Option<[u8; N]> {
    let lower = line.to_ascii_lowercase();
    for key in keys {
        let mut from = 0;
        while let Some(at) = lower[from..].find(key) {
            let after = from + at + key.len();
            let rest = line[after..].trim_start_matches(['=', ':', '"', '\'', ' ']);
            if let Some(id) = rest.get(..2 * N).and_then(decode_hex::<N>) {
                let next = rest.as_bytes().get(2 * N);
                if next.is_none_or(|b| !b.is_ascii_hexdigit()) {
                    return Some(id);
                }
            }
            from = after;
        }
    }
    None
}

/// Every line of `trace_id` in `files`, in time order (lines without a
/// timestamp last, in file order).
///
/// # Errors
///
/// A file that can not be read, naming it.
pub(crate) fn load(files: &[PathBuf], trace_id: [u8; 16]) -> Result<Vec<LogLine>, String> {
    for file in files {
        if !file.is_file() {
            return Err(format!(
                "cannot read log file {}: not a readable file",
                file.display()
            ));
        }
        scan::open(file).map_err(|e| format!("cannot read log file {}: {e}", file.display()))?;
    }
    let id = hex(&trace_id);
    let needle = memmem::Finder::new(id.as_bytes()).into_owned();
    let ranges = scan::ranges(files)?;
    let states = scan::parallel(&ranges, Vec::new, |lines: &mut Vec<LogLine>, block| {
        let (file, offset, block) = (block.file, block.offset, block.bytes);
        let mut pos = 0;
        while let Some(hit) = needle.find(&block[pos..]) {
            let (line, end) = scan::line_at(block, pos + hit);
            if let Ok(mut log) = parse_line(&String::from_utf8_lossy(line)) {
                if log.trace_id == Some(trace_id) {
                    log.file = file;
                    // Unique and increasing within a file: where the
                    // line ends in it.
                    log.position = offset.saturating_add(end as u64);
                    lines.push(log);
                }
            }
            pos = end + 1;
            if pos >= block.len() {
                break;
            }
        }
    })?;
    let mut lines: Vec<LogLine> = states.into_iter().flatten().collect();
    lines.sort_by_key(|l| (l.time.is_none(), l.time, l.file, l.position));
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    #[test]
    fn tracelink_lines() {
        let line = format!(
            r#"{{"timestamp":"2026-11-21T09:30:00.123456Z","level":"INFO","target":"shop","message":"order placed","order.id":42,"span":{{"name":"checkout"}},"trace_id":"{TRACE}","span_id":"00f067aa0ba902b7","trace_flags":"01"}}"#
        );
        let log = parse_line(&line).unwrap();
        assert_eq!(log.trace_id.map(|t| hex(&t)).as_deref(), Some(TRACE));
        assert_eq!(
            log.span_id.map(|s| hex(&s)).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(log.time, time::parse_rfc3339("2026-11-21T09:30:00.123456Z"));
        assert_eq!(
            (log.level.as_str(), log.message.as_str()),
            ("INFO", "order placed")
        );
        assert_eq!(log.span_name.as_deref(), Some("checkout"));
        assert_eq!(log.fields, [("order.id".to_owned(), "42".to_owned())]);
    }

    #[test]
    fn ecs_gcp_and_nested_lines() {
        let ecs = format!(
            r#"{{"@timestamp":"2026-11-21T09:30:00Z","log.level":"warn","message":"m","trace.id":"{TRACE}","span.id":"00f067aa0ba902b7"}}"#
        );
        let log = parse_line(&ecs).unwrap();
        assert_eq!(log.level, "warn");
        assert!(log.span_id.is_some());
        let nested = format!(
            r#"{{"msg":"m","trace":{{"id":"{TRACE}"}},"span":{{"id":"00f067aa0ba902b7"}}}}"#
        );
        assert!(parse_line(&nested).unwrap().span_id.is_some());
        let gcp = format!(
            r#"{{"time":"2026-11-21T09:30:00Z","severity":"ERROR","message":"m","logging.googleapis.com/trace":"projects/p/traces/{TRACE}","logging.googleapis.com/spanId":"00f067aa0ba902b7"}}"#
        );
        let log = parse_line(&gcp).unwrap();
        assert_eq!(log.trace_id.map(|t| hex(&t)).as_deref(), Some(TRACE));
        assert_eq!(log.level, "ERROR");
    }

    #[test]
    fn text_lines() {
        let log = parse_line(&format!(
            "2026-11-21 INFO charge failed trace_id={TRACE} span_id=00f067aa0ba902b7"
        ))
        .unwrap();
        assert_eq!(log.trace_id.map(|t| hex(&t)).as_deref(), Some(TRACE));
        assert_eq!(
            log.span_id.map(|s| hex(&s)).as_deref(),
            Some("00f067aa0ba902b7")
        );
    }

    /// A file read in several blocks: lines without a timestamp still come
    /// in file order.
    #[test]
    fn lines_without_a_time_keep_the_file_order_past_the_first_block() {
        let dir = std::env::temp_dir().join(format!(
            "tracelink-cli-logs-order-{}-{:x}",
            std::process::id(),
            {
                use std::hash::{BuildHasher, RandomState};
                RandomState::new().hash_one(std::time::SystemTime::now())
            }
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("app.log");
        let filler = format!("{}\n", "filler without an id ".repeat(50));
        let mut content = String::new();
        let mut seq = 0;
        // Past two 4 MiB blocks, in one 32 MiB range.
        while content.len() < 10 << 20 {
            for _ in 0..100 {
                content.push_str(&filler);
            }
            let _ = std::fmt::Write::write_fmt(
                &mut content,
                format_args!("INFO step seq={seq:05} trace_id={TRACE}\n"),
            );
            seq += 1;
        }
        std::fs::write(&path, &content).unwrap();
        let trace_id = decode_hex::<16>(TRACE).unwrap();
        let lines = load(std::slice::from_ref(&path), trace_id).unwrap();
        let got: Vec<String> = lines
            .iter()
            .map(|l| l.message.split_whitespace().nth(2).unwrap().to_owned())
            .collect();
        let expected: Vec<String> = (0..seq).map(|s| format!("seq={s:05}")).collect();
        assert_eq!(got, expected);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn lines_without_a_trace_id_are_errors() {
        assert!(parse_line("hello world")
            .unwrap_err()
            .contains("no trace id"));
        assert!(parse_line(r#"{"message":"no ids"}"#)
            .unwrap_err()
            .contains("no trace id"));
        assert!(parse_line(r#"{"trace_id":"#)
            .unwrap_err()
            .contains("not valid JSON"));
        // Too short, or too long, is not an id.
        assert!(parse_line(&format!("trace_id={}", &TRACE[1..])).is_err());
        assert!(parse_line(&format!("trace_id={TRACE}0")).is_err());
    }
}
