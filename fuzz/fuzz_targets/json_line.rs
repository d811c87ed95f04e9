//! Fuzzes tracelink's JSON log lines: arbitrary strings and numbers go in as
//! the message, event fields (`&str`, `%Display`, `?Debug`, an error chain,
//! numbers), span fields and a span field recorded later; every line that
//! comes out must end with one `\n`, hold no raw control character, parse
//! with `serde_json` and give back each string exactly.
//!
//! Run with `cargo fuzz run json_line` (see ../README.md).

#![no_main]

use std::fmt;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

#[derive(Arbitrary, Debug)]
struct Input {
    style: u8,
    message: String,
    value: String,
    debug: String,
    span_value: String,
    late: String,
    /// Written through one `Display` in these pieces.
    pieces: Vec<String>,
    /// An error chain, outermost first.
    errors: Vec<String>,
    float: f64,
    int: i64,
    uint: u64,
    big: i128,
    ubig: u128,
    flag: bool,
}

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

struct BufferWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for BufferWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buffer {
    type Writer = BufferWriter;

    fn make_writer(&'a self) -> Self::Writer {
        BufferWriter(Arc::clone(&self.0))
    }
}

const STYLES: [&str; 4] = ["otel", "ecs", "gcp", "datadog"];

/// One subscriber per style, built once: `registry + filter + otel + json`,
/// with the parts that keep its tracer provider and export thread alive (kept
/// reachable, so LeakSanitizer does not report them at exit).
fn subscribers() -> &'static [(Dispatch, Buffer, tracelink::Parts)] {
    static SUBSCRIBERS: OnceLock<Vec<(Dispatch, Buffer, tracelink::Parts)>> = OnceLock::new();
    SUBSCRIBERS.get_or_init(|| {
        STYLES
            .iter()
            .map(|style| {
                let buffer = Buffer::default();
                let parts = tracelink::builder()
                    .with_env([
                        ("OTEL_TRACES_EXPORTER", "none"),
                        ("RUST_LOG", "trace"),
                        ("TRACELINK_LOG_STYLE", style),
                    ])
                    .with_log_writer(tracelink::LogWriter::custom(buffer.clone()))
                    .with_log_span_list(true)
                    .build()
                    .expect("tracelink builds");
                let subscriber = tracing_subscriber::registry()
                    .with(parts.filter())
                    .with(parts.otel_layer())
                    .with(parts.json_layer());
                (Dispatch::new(subscriber), buffer, parts)
            })
            .collect()
    })
}

struct Pieces<'a>(&'a [String]);

impl fmt::Display for Pieces<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in self.0 {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

/// An error chain that owns its messages (sources must be `'static`).
#[derive(Debug)]
struct Chain {
    message: String,
    source: Option<Box<Chain>>,
}

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Chain {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

fn chain(messages: &[String]) -> Option<Chain> {
    let (first, rest) = messages.split_first()?;
    Some(Chain {
        message: first.clone(),
        source: chain(rest).map(Box::new),
    })
}

fn get<'a>(line: &'a Value, path: &[&str], raw: &str) -> &'a Value {
    let mut value = line;
    for key in path {
        value = value
            .get(key)
            .unwrap_or_else(|| panic!("no {path:?} in {raw}"));
    }
    value
}

fn string<'a>(line: &'a Value, path: &[&str], raw: &str) -> &'a str {
    get(line, path, raw)
        .as_str()
        .unwrap_or_else(|| panic!("{path:?} is not a string in {raw}"))
}

/// The raw text of the top-level member `key`'s value (a number).
fn raw_number<'a>(raw: &'a str, key: &str) -> &'a str {
    let needle = format!("\"{key}\":");
    let start = raw
        .find(&needle)
        .unwrap_or_else(|| panic!("no {key} in {raw}"))
        + needle.len();
    let rest = &raw[start..];
    &rest[..rest.find([',', '}']).unwrap()]
}

fn non_finite(value: f64) -> &'static str {
    if value.is_nan() {
        "NaN"
    } else if value > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

fuzz_target!(|input: Input| {
    let (dispatch, buffer, _) = &subscribers()[usize::from(input.style) % STYLES.len()];
    let style = STYLES[usize::from(input.style) % STYLES.len()];
    let span_key = if style == "ecs" {
        "tracing.span"
    } else {
        "span"
    };
    let pieces = Pieces(&input.pieces);
    let error = chain(&input.errors);
    buffer.0.lock().unwrap().clear();

    tracing::dispatcher::with_default(dispatch, || {
        let span = tracing::info_span!(
            "fuzz",
            f = input.span_value.as_str(),
            d = ?input.span_value,
            n = input.float,
            late = tracing::field::Empty,
        );
        span.record("late", input.late.as_str());
        span.in_scope(|| {
            tracing::info!(
                value = input.value.as_str(),
                shown = %input.value,
                debug = ?input.debug,
                pieces = %pieces,
                float = input.float,
                int = input.int,
                uint = input.uint,
                big = input.big,
                ubig = input.ubig,
                flag = input.flag,
                "{}",
                input.message
            );
            if let Some(error) = &error {
                tracing::error!(error = error as &dyn std::error::Error, "{}", input.message);
            }
        });
        // Outside any span too.
        tracing::warn!(value = %input.value, "{}", input.message);
    });

    let bytes = std::mem::take(&mut *buffer.0.lock().unwrap());
    let text = String::from_utf8(bytes).expect("output is UTF-8");
    assert!(text.ends_with('\n'), "output does not end with \\n: {text}");
    let lines: Vec<&str> = text.split_terminator('\n').collect();
    let expected = if error.is_some() { 3 } else { 2 };
    assert_eq!(lines.len(), expected, "one line per event: {text}");

    let mut parsed = Vec::new();
    for raw in &lines {
        assert!(!raw.is_empty(), "empty line in {text}");
        if let Some(at) = raw.bytes().position(|b| b < 0x20) {
            panic!("raw control byte at {at}: {raw}");
        }
        let line: Value = serde_json::from_str(raw)
            .unwrap_or_else(|e| panic!("line does not parse ({e}): {raw}"));
        assert!(line.is_object(), "not an object: {raw}");
        assert_eq!(string(&line, &["message"], raw), input.message, "{raw}");
        parsed.push(line);
    }

    // The event in the span.
    let (raw, line) = (lines[0], &parsed[0]);
    assert_eq!(string(line, &["value"], raw), input.value);
    assert_eq!(string(line, &["shown"], raw), input.value);
    assert_eq!(string(line, &["debug"], raw), format!("{:?}", input.debug));
    assert_eq!(string(line, &["pieces"], raw), input.pieces.concat());
    assert_eq!(string(line, &[span_key, "name"], raw), "fuzz");
    assert_eq!(string(line, &[span_key, "f"], raw), input.span_value);
    assert_eq!(
        string(line, &[span_key, "d"], raw),
        format!("{:?}", input.span_value)
    );
    assert_eq!(string(line, &[span_key, "late"], raw), input.late);
    if input.float.is_finite() {
        let written = raw_number(raw, "float");
        let back: f64 = written.parse().expect("a float");
        assert_eq!(back.to_bits(), input.float.to_bits(), "{written} in {raw}");
        assert!(get(line, &["float"], raw).is_number());
    } else {
        assert_eq!(string(line, &["float"], raw), non_finite(input.float));
        assert_eq!(string(line, &[span_key, "n"], raw), non_finite(input.float));
    }
    assert_eq!(raw_number(raw, "int"), input.int.to_string());
    assert_eq!(get(line, &["int"], raw).as_i64(), Some(input.int));
    assert_eq!(raw_number(raw, "uint"), input.uint.to_string());
    assert_eq!(get(line, &["uint"], raw).as_u64(), Some(input.uint));
    assert_eq!(raw_number(raw, "big"), input.big.to_string());
    assert_eq!(raw_number(raw, "ubig"), input.ubig.to_string());
    assert_eq!(get(line, &["flag"], raw).as_bool(), Some(input.flag));

    // The error, outermost first, each message in order.
    if error.is_some() {
        let (raw, line) = (lines[1], &parsed[1]);
        let written = string(line, &["error"], raw);
        assert!(written.starts_with(&input.errors[0]), "{raw}");
        let mut rest = written;
        for message in &input.errors {
            let at = rest
                .find(message.as_str())
                .unwrap_or_else(|| panic!("{message:?} missing from {raw}"));
            rest = &rest[at + message.len()..];
        }
    }

    // The event outside any span.
    let (raw, line) = (lines[expected - 1], &parsed[expected - 1]);
    assert_eq!(string(line, &["value"], raw), input.value);
    assert!(line.get(span_key).is_none(), "{raw}");
});
