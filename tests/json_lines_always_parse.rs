//! Whatever a program logs, every JSON line parses and says exactly what was
//! logged.
//!
//! Hostile values (quotes, backslashes, every control character, U+2028,
//! `Debug` and `Display` text, error chains, a 1 MB string, non-finite floats,
//! 128-bit integers), hostile field names and targets, and field names that
//! collide with the line's own keys go through the real stack
//! (`registry + filter + otel_layer + log_layer`) into an in-memory writer.
//! Each line must end with exactly one `\n`, contain no raw control
//! character, parse with `serde_json`, repeat no key, and give back every
//! string it was handed. Property tests do the same for arbitrary strings,
//! floats and integers.

use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::io;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestCaseError, TestRunner};
use serde_json::Value;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

// ---------------------------------------------------------------------------
// Harness
// ---------------------------------------------------------------------------

/// A `MakeWriter` appending to a shared buffer.
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

/// One parsed line, with its raw text.
#[derive(Debug)]
struct Line {
    raw: String,
    json: Value,
}

impl Line {
    /// The string at `path` (`["span", "name"]`), which must exist.
    fn str_at(&self, path: &[&str]) -> &str {
        let mut value = &self.json;
        for key in path {
            value = value
                .get(key)
                .unwrap_or_else(|| panic!("no {path:?} in {}", excerpt(&self.raw)));
        }
        value
            .as_str()
            .unwrap_or_else(|| panic!("{path:?} is not a string in {}", excerpt(&self.raw)))
    }

    fn get(&self, key: &str) -> &Value {
        self.json
            .get(key)
            .unwrap_or_else(|| panic!("no {key:?} in {}", excerpt(&self.raw)))
    }

    /// The raw text of the top-level member `key`'s value, as written.
    fn raw_member(&self, key: &str) -> &str {
        let needle = format!("{}:", serde_json::to_string(key).unwrap());
        let start = self
            .raw
            .find(&needle)
            .unwrap_or_else(|| panic!("no {key:?} in {}", excerpt(&self.raw)))
            + needle.len();
        let rest = &self.raw[start..];
        let end = rest.find([',', '}']).unwrap();
        &rest[..end]
    }
}

fn excerpt(raw: &str) -> String {
    if raw.len() <= 2000 {
        return raw.to_owned();
    }
    let mut end = 2000;
    while !raw.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &raw[..end], raw.len())
}

/// A subscriber built the way the README says, writing into a buffer.
struct Harness {
    buffer: Buffer,
    dispatch: Dispatch,
    // Keeps the tracer provider and export thread alive.
    _parts: tracelink::Parts,
}

impl Harness {
    fn new() -> Self {
        Self::with(&[], |b| b)
    }

    fn style(style: &str) -> Self {
        Self::with(&[("TRACELINK_LOG_STYLE", style)], |b| b)
    }

    fn with(
        env: &[(&str, &str)],
        tweak: impl FnOnce(tracelink::Builder) -> tracelink::Builder,
    ) -> Self {
        let buffer = Buffer::default();
        let mut vars = vec![("OTEL_TRACES_EXPORTER", "none"), ("RUST_LOG", "trace")];
        vars.extend_from_slice(env);
        let builder = tracelink::builder()
            .with_env(vars)
            .with_log_writer(tracelink::logs::LogWriter::custom(buffer.clone()));
        let parts = tweak(builder).build().expect("tracelink builds");
        let subscriber = tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer())
            .with(parts.log_layer());
        Self {
            buffer,
            dispatch: Dispatch::new(subscriber),
            _parts: parts,
        }
    }

    /// Runs `f` under this subscriber and returns the lines it wrote, each
    /// checked by [`check_line`].
    fn capture(&self, f: impl FnOnce()) -> Vec<Line> {
        self.buffer.0.lock().unwrap().clear();
        tracing::dispatcher::with_default(&self.dispatch, f);
        let bytes = std::mem::take(&mut *self.buffer.0.lock().unwrap());
        split_lines(bytes)
    }

    /// Like [`capture`](Self::capture), for exactly one line.
    fn one(&self, f: impl FnOnce()) -> Line {
        let mut lines = self.capture(f);
        assert_eq!(lines.len(), 1, "expected one line, got {lines:#?}");
        lines.pop().unwrap()
    }
}

/// Splits the writer's output into lines and checks each.
fn split_lines(bytes: Vec<u8>) -> Vec<Line> {
    let text = String::from_utf8(bytes).expect("the output is UTF-8");
    if text.is_empty() {
        return Vec::new();
    }
    assert!(
        text.ends_with('\n'),
        "output does not end with a newline: {}",
        excerpt(&text)
    );
    text.split_terminator('\n')
        .map(|raw| check_line(&format!("{raw}\n")))
        .collect()
}

/// Everything a line must be: one `\n` at the end and none inside, no raw
/// control character, valid JSON, an object, no repeated key.
fn check_line(with_newline: &str) -> Line {
    let raw = with_newline
        .strip_suffix('\n')
        .expect("a line ends with \\n");
    assert!(!raw.is_empty(), "empty line");
    assert!(!raw.ends_with('\r'), "line ends with \\r\\n");
    if let Some(at) = raw.bytes().position(|b| b < 0x20) {
        panic!(
            "raw control byte {:#04x} at {at} in {}",
            raw.as_bytes()[at],
            excerpt(raw)
        );
    }
    let json: Value = serde_json::from_str(raw)
        .unwrap_or_else(|e| panic!("line does not parse ({e}): {}", excerpt(raw)));
    assert!(json.is_object(), "line is not an object: {}", excerpt(raw));
    let repeated = repeated_keys(raw);
    assert!(
        repeated.is_empty(),
        "keys repeat {repeated:?} in {}",
        excerpt(raw)
    );
    Line {
        raw: raw.to_owned(),
        json,
    }
}

/// Keys that appear twice in one object, anywhere in a line that already
/// parses (`serde_json` keeps the last of repeated keys without a word).
fn repeated_keys(raw: &str) -> Vec<String> {
    struct Scanner<'a> {
        bytes: &'a [u8],
        text: &'a str,
        at: usize,
        repeated: Vec<String>,
    }

    impl Scanner<'_> {
        fn ws(&mut self) {
            while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
                self.at += 1;
            }
        }

        /// Skips a string at `at` (its opening quote) and returns its text.
        fn string(&mut self) -> String {
            let start = self.at;
            self.at += 1;
            while self.bytes[self.at] != b'"' {
                self.at += if self.bytes[self.at] == b'\\' { 2 } else { 1 };
            }
            self.at += 1;
            serde_json::from_str(&self.text[start..self.at]).unwrap()
        }

        fn value(&mut self) {
            self.ws();
            match self.bytes[self.at] {
                b'{' => {
                    self.at += 1;
                    let mut seen = HashSet::new();
                    loop {
                        self.ws();
                        match self.bytes[self.at] {
                            b'}' => {
                                self.at += 1;
                                return;
                            }
                            b',' => self.at += 1,
                            _ => {
                                let key = self.string();
                                if !seen.insert(key.clone()) {
                                    self.repeated.push(key);
                                }
                                self.ws();
                                assert_eq!(self.bytes[self.at], b':');
                                self.at += 1;
                                self.value();
                            }
                        }
                    }
                }
                b'[' => {
                    self.at += 1;
                    loop {
                        self.ws();
                        match self.bytes[self.at] {
                            b']' => {
                                self.at += 1;
                                return;
                            }
                            b',' => self.at += 1,
                            _ => self.value(),
                        }
                    }
                }
                b'"' => {
                    self.string();
                }
                _ => {
                    while !matches!(
                        self.bytes.get(self.at),
                        None | Some(b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
                    ) {
                        self.at += 1;
                    }
                }
            }
        }
    }

    let mut scanner = Scanner {
        bytes: raw.as_bytes(),
        text: raw,
        at: 0,
        repeated: Vec::new(),
    };
    scanner.value();
    scanner.repeated
}

// ---------------------------------------------------------------------------
// Hostile values
// ---------------------------------------------------------------------------

/// Strings that break naive JSON writers.
fn hostile_strings() -> Vec<String> {
    let mut all: Vec<String> = [
        "",
        "plain",
        "\"",
        "\"\"",
        "\\",
        "\\\\",
        "\\\"",
        "\"\\",
        "end with backslash \\",
        "a\"b\\c",
        "\0",
        "nul \0 inside",
        "\u{7f} DEL",
        "\u{2028} line separator, \u{2029} paragraph separator",
        "emoji 😀👩‍👩‍👧‍👦🏳️‍🌈 and é, ß, 中文, עברית",
        "\u{feff} BOM \u{fffd} replacement \u{10ffff} last",
        "\\u12 \\u \\uZZZZ \\ud800 \\x41 \\' \\/ \\",
        "\\u0000\\n\\\"",
        "}\"},{\"injected\":true,\"level\":\"ERROR\"",
        "\n{\"level\":\"ERROR\",\"message\":\"forged\"}\n",
        "</script><!-- -->",
        "%s %d {} {{}} {0}",
        "\r\n",
        "tab\there",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for byte in 0u8..0x20 {
        let c = char::from(byte);
        all.push(c.to_string());
        all.push(format!("x{c}y"));
    }
    all.push((0u8..0x20).map(char::from).collect());
    all.push((0u8..0x80).map(char::from).collect());
    all
}

#[derive(Debug)]
#[allow(dead_code)] // only read through Debug
struct Inner {
    name: String,
    tags: Vec<String>,
    bytes: Vec<u8>,
    ch: char,
}

#[derive(Debug)]
#[allow(dead_code)] // only read through Debug
struct Outer {
    inner: Inner,
    note: Option<String>,
    map: BTreeMap<String, String>,
    tuple: (String, f64, i128),
}

fn outer(s: &str) -> Outer {
    Outer {
        inner: Inner {
            name: s.to_owned(),
            tags: vec![s.to_owned(), "\"\\\n".to_owned(), String::new()],
            bytes: s.as_bytes().to_vec(),
            ch: '"',
        },
        note: Some(format!("note: {s}")),
        map: BTreeMap::from([
            (s.to_owned(), s.to_owned()),
            ("k\"".to_owned(), "\0".to_owned()),
        ]),
        tuple: (s.to_owned(), f64::NAN, i128::MIN),
    }
}

/// A `Display` that writes its text in many small pieces, some of them
/// splitting what a writer might think is an escape sequence.
struct Pieces(Vec<String>);

impl fmt::Display for Pieces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for piece in &self.0 {
            f.write_str(piece)?;
        }
        Ok(())
    }
}

impl Pieces {
    fn joined(&self) -> String {
        self.0.concat()
    }
}

fn pieces(s: &str) -> Pieces {
    let mut parts = vec![
        "\\".to_owned(),
        "u".to_owned(),
        "0041".to_owned(),
        "\"".to_owned(),
    ];
    parts.extend(s.chars().map(String::from));
    parts.push("\\".to_owned());
    Pieces(parts)
}

#[test]
fn hostile_strings_round_trip_in_event_and_span_fields_and_messages() {
    let harness = Harness::new();
    for s in hostile_strings() {
        let line = harness.one(|| {
            tracing::info_span!("s", span_str = s.as_str(), span_display = %s, span_debug = ?s)
                .in_scope(|| {
                    tracing::info!(
                        value = s.as_str(),
                        display = %s,
                        debug = ?s,
                        owned = s.clone(),
                        "msg {}",
                        s
                    );
                });
        });
        let ctx = format!("for {s:?}: {}", excerpt(&line.raw));
        assert_eq!(line.str_at(&["value"]), s, "{ctx}");
        assert_eq!(line.str_at(&["display"]), s, "{ctx}");
        assert_eq!(line.str_at(&["debug"]), format!("{s:?}"), "{ctx}");
        assert_eq!(line.str_at(&["owned"]), s, "{ctx}");
        assert_eq!(line.str_at(&["message"]), format!("msg {s}"), "{ctx}");
        assert_eq!(line.str_at(&["span", "name"]), "s", "{ctx}");
        assert_eq!(line.str_at(&["span", "span_str"]), s, "{ctx}");
        assert_eq!(line.str_at(&["span", "span_display"]), s, "{ctx}");
        assert_eq!(
            line.str_at(&["span", "span_debug"]),
            format!("{s:?}"),
            "{ctx}"
        );
        assert_eq!(line.str_at(&["level"]), "INFO", "{ctx}");

        // The message alone, and a message that is the whole string.
        let line = harness.one(|| tracing::warn!("{}", s));
        assert_eq!(line.str_at(&["message"]), s);
        assert_eq!(line.str_at(&["level"]), "WARN");
    }
}

#[test]
fn hostile_strings_round_trip_in_every_style() {
    for style in ["otel", "ecs", "gcp", "datadog"] {
        let harness = Harness::style(style);
        let span_key = if style == "ecs" {
            "tracing.span"
        } else {
            "span"
        };
        for s in hostile_strings() {
            let line = harness.one(|| {
                tracing::info_span!("s", f = %s).in_scope(|| {
                    tracing::error!(value = %s, "{}", s);
                });
            });
            assert_eq!(line.str_at(&["value"]), s, "{style}");
            assert_eq!(line.str_at(&["message"]), s, "{style}");
            assert_eq!(line.str_at(&[span_key, "f"]), s, "{style}");
        }
    }
}

#[test]
fn span_fields_recorded_later_round_trip() {
    let harness = Harness::new();
    for s in hostile_strings() {
        let line = harness.one(|| {
            let span = tracing::info_span!("s", late = tracing::field::Empty);
            span.record("late", s.as_str());
            span.in_scope(|| tracing::info!("x"));
        });
        assert_eq!(line.str_at(&["span", "late"]), s);
    }
}

#[test]
fn span_list_round_trips_hostile_fields_of_every_ancestor() {
    let harness = Harness::with(&[], |b| b.with_log_span_list(true));
    let s = "a\"b\\c\n\0\u{2028}😀";
    let line = harness.one(|| {
        tracing::info_span!("root", f = %s).in_scope(|| {
            tracing::info_span!("child", g = ?s).in_scope(|| tracing::info!("x"));
        });
    });
    let spans = line.get("spans").as_array().expect("spans is an array");
    assert_eq!(spans.len(), 2, "{}", line.raw);
    assert_eq!(spans[0]["name"], "root");
    assert_eq!(spans[0]["f"], s);
    assert_eq!(spans[1]["name"], "child");
    assert_eq!(spans[1]["g"], format!("{s:?}"));
    assert_eq!(line.str_at(&["span", "g"]), format!("{s:?}"));
}

#[test]
fn debug_text_of_nested_structs_round_trips() {
    let harness = Harness::new();
    for s in hostile_strings() {
        let value = outer(&s);
        let line = harness.one(|| {
            tracing::info_span!("s", nested = ?value).in_scope(|| {
                tracing::info!(
                    nested = ?value,
                    pretty = %format_args!("{value:#?}"),
                    "{value:?}"
                );
            });
        });
        assert_eq!(line.str_at(&["nested"]), format!("{value:?}"));
        assert_eq!(line.str_at(&["pretty"]), format!("{value:#?}"));
        assert_eq!(line.str_at(&["message"]), format!("{value:?}"));
        assert_eq!(line.str_at(&["span", "nested"]), format!("{value:?}"));
    }
}

#[test]
fn display_text_written_in_pieces_round_trips() {
    let harness = Harness::new();
    for s in hostile_strings() {
        let value = pieces(&s);
        let line = harness.one(|| {
            tracing::info_span!("s", shown = %value).in_scope(|| {
                tracing::info!(shown = %value, "{value}");
            });
        });
        assert_eq!(line.str_at(&["shown"]), value.joined());
        assert_eq!(line.str_at(&["message"]), value.joined());
        assert_eq!(line.str_at(&["span", "shown"]), value.joined());
    }
}

/// An error with a hostile message and an optional source.
#[derive(Debug)]
struct ChainError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync + 'static>>,
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ChainError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

#[test]
fn errors_with_source_chains_round_trip() {
    let harness = Harness::new();
    for s in hostile_strings() {
        let root = io::Error::other(format!("io \"{s}\""));
        let middle = ChainError {
            message: format!("middle\n{s}"),
            source: Some(Box::new(root)),
        };
        let err = ChainError {
            message: format!("top \\ {s}"),
            source: Some(Box::new(middle)),
        };
        let line = harness.one(|| {
            tracing::info_span!("s").in_scope(|| {
                tracing::error!(error = &err as &dyn std::error::Error, "failed: {err}");
            });
        });
        let written = line.str_at(&["error"]);
        // Each error of the chain, outermost first.
        let mut rest = written;
        let mut chain: Vec<String> = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert_eq!(chain.len(), 3);
        assert!(written.starts_with(&chain[0]), "{written:?}");
        for text in &chain {
            let at = rest
                .find(text.as_str())
                .unwrap_or_else(|| panic!("{text:?} missing or out of order in {written:?}"));
            rest = &rest[at + text.len()..];
        }
        assert_eq!(line.str_at(&["message"]), format!("failed: {err}"));
    }
}

#[test]
fn a_one_megabyte_string_round_trips() {
    let harness = Harness::new();
    let unit = "a\"b\\c\n\0\u{1f}\u{2028}é😀 ";
    let big = unit.repeat((1 << 20) / unit.len() + 1);
    assert!(big.len() >= 1 << 20);
    let line = harness.one(|| {
        tracing::info_span!("s", big = big.as_str()).in_scope(|| {
            tracing::info!(big = big.as_str(), debug = ?big, "{}", big);
        });
    });
    assert!(line.str_at(&["big"]) == big, "event field differs");
    assert!(line.str_at(&["message"]) == big, "message differs");
    assert!(line.str_at(&["span", "big"]) == big, "span field differs");
    assert!(
        line.str_at(&["debug"]) == format!("{big:?}"),
        "debug field differs"
    );
}

// ---------------------------------------------------------------------------
// Numbers and booleans
// ---------------------------------------------------------------------------

#[test]
fn non_finite_floats_become_strings() {
    let harness = Harness::new();
    for (value, expected) in [
        (f64::NAN, "NaN"),
        (-f64::NAN, "NaN"),
        (f64::INFINITY, "Infinity"),
        (f64::NEG_INFINITY, "-Infinity"),
    ] {
        let line = harness.one(|| {
            tracing::info_span!("s", f = value).in_scope(|| {
                tracing::info!(f = value, f32 = value as f32, "x");
            });
        });
        assert_eq!(line.str_at(&["f"]), expected);
        assert_eq!(line.str_at(&["f32"]), expected);
        assert_eq!(line.str_at(&["span", "f"]), expected);
    }
}

/// Checks that the member `key` holds `value` as a JSON number, written
/// exactly: parsing its raw text gives back the same bits.
fn assert_float(line: &Line, key: &str, value: f64) {
    let raw = line.raw_member(key);
    let parsed: f64 = raw
        .parse()
        .unwrap_or_else(|e| panic!("{raw:?} for {value:?}: {e}"));
    assert_eq!(
        parsed.to_bits(),
        value.to_bits(),
        "{value:?} written as {raw}"
    );
    assert!(line.get(key).is_number(), "{value:?} written as {raw}");
}

#[test]
fn finite_floats_are_exact_numbers() {
    let harness = Harness::new();
    for value in [
        0.0,
        -0.0,
        1.0,
        -1.5,
        0.1,
        1e-7,
        1e21,
        1e300,
        f64::MIN_POSITIVE,
        5e-324,
        -5e-324,
        f64::MAX,
        f64::MIN,
        f64::EPSILON,
        std::f64::consts::PI,
        9_007_199_254_740_993.0,
    ] {
        let line = harness.one(|| tracing::info!(f = value, "x"));
        assert_float(&line, "f", value);
    }
}

/// Checks that the member `key` is written as the decimal digits of `value`.
fn assert_integer(line: &Line, key: &str, value: impl fmt::Display) {
    let digits = value.to_string();
    assert_eq!(line.raw_member(key), digits, "{}", line.raw);
    assert!(line.get(key).is_number(), "{}", line.raw);
}

#[test]
fn extreme_integers_keep_every_digit() {
    let harness = Harness::new();
    let line = harness.one(|| {
        tracing::info_span!("s", i128_min = i128::MIN, u128_max = u128::MAX).in_scope(|| {
            tracing::info!(
                i128_min = i128::MIN,
                i128_max = i128::MAX,
                u128_max = u128::MAX,
                u128_zero = 0u128,
                i64_min = i64::MIN,
                i64_max = i64::MAX,
                u64_max = u64::MAX,
                zero = 0i64,
                i32_min = i32::MIN,
                u8_max = u8::MAX,
                "x"
            );
        });
    });
    assert_integer(&line, "i128_min", i128::MIN);
    assert_integer(&line, "i128_max", i128::MAX);
    assert_integer(&line, "u128_max", u128::MAX);
    assert_integer(&line, "u128_zero", 0u128);
    assert_integer(&line, "i64_min", i64::MIN);
    assert_integer(&line, "i64_max", i64::MAX);
    assert_integer(&line, "u64_max", u64::MAX);
    assert_integer(&line, "zero", 0);
    assert_integer(&line, "i32_min", i32::MIN);
    assert_integer(&line, "u8_max", u8::MAX);
    // Without `arbitrary_precision` serde_json reads 128-bit values as f64,
    // but 64-bit ones exactly.
    assert_eq!(line.get("i64_min").as_i64(), Some(i64::MIN));
    assert_eq!(line.get("i64_max").as_i64(), Some(i64::MAX));
    assert_eq!(line.get("u64_max").as_u64(), Some(u64::MAX));
    assert!(line.raw.contains(&format!(
        "\"span\":{{\"name\":\"s\",\"i128_min\":{},\"u128_max\":{}}}",
        i128::MIN,
        u128::MAX
    )));
}

#[test]
fn booleans_are_json_booleans() {
    let harness = Harness::new();
    let line = harness.one(|| {
        tracing::info_span!("s", b = false).in_scope(|| tracing::info!(yes = true, no = false));
    });
    assert_eq!(line.get("yes"), &Value::Bool(true));
    assert_eq!(line.get("no"), &Value::Bool(false));
    assert_eq!(line.json["span"]["b"], Value::Bool(false));
    assert_eq!(line.raw_member("yes"), "true");
}

#[test]
fn byte_slices_become_hex_strings() {
    let harness = Harness::new();
    let bytes: &[u8] = b"\x00\"\\\n\xff";
    let line = harness.one(|| tracing::info!(bytes = bytes));
    assert_eq!(line.str_at(&["bytes"]), "00225c0aff", "{}", line.raw);
}

// ---------------------------------------------------------------------------
// Names: fields, reserved keys, targets, and the values tracelink adds
// ---------------------------------------------------------------------------

#[test]
fn hostile_field_names_round_trip() {
    let harness = Harness::new();
    let line = harness.one(|| {
        tracing::info_span!("s", "span\"name\\\n" = 1).in_scope(|| {
            tracing::info!(
                "quote\"d" = 1,
                "back\\slash" = 2,
                "new\nline\0nul\u{1f}" = 3,
                "😀.\u{2028}" = 4,
                "" = 5,
                "x"
            );
        });
    });
    assert_eq!(line.get("quote\"d"), 1);
    assert_eq!(line.get("back\\slash"), 2);
    assert_eq!(line.get("new\nline\0nul\u{1f}"), 3);
    assert_eq!(line.get("😀.\u{2028}"), 4);
    assert_eq!(line.get(""), 5);
    assert_eq!(line.json["span"]["span\"name\\\n"], 1);
}

#[test]
fn fields_named_like_the_line_own_keys_are_prefixed() {
    // The real keys per style (`LogStyle::reserved` in src/logs/style.rs).
    let styles: [(&str, &[&str]); 4] = [
        (
            "otel",
            &[
                "timestamp",
                "level",
                "target",
                "span",
                "spans",
                "trace_id",
                "span_id",
                "trace_flags",
                "service.name",
            ],
        ),
        (
            "ecs",
            // `log.level` and `log.logger` too, but `log.*` fields are dropped
            // as `tracing-log` metadata.
            &[
                "@timestamp",
                "ecs.version",
                "tracing.span",
                "tracing.spans",
                "trace.id",
                "span.id",
                "service.name",
            ],
        ),
        (
            "gcp",
            &[
                "time",
                "severity",
                "target",
                "span",
                "spans",
                "logging.googleapis.com/trace",
                "logging.googleapis.com/spanId",
                "logging.googleapis.com/trace_sampled",
                "service.name",
            ],
        ),
        (
            "datadog",
            &[
                "timestamp",
                "level",
                "target",
                "span",
                "spans",
                "dd.trace_id",
                "dd.span_id",
                "service.name",
            ],
        ),
    ];
    for (style, reserved) in styles {
        let harness = Harness::with(
            &[
                ("TRACELINK_LOG_STYLE", style),
                ("OTEL_SERVICE_NAME", "real-service"),
            ],
            |b| b.with_log_span_list(true).with_log_service_name(true),
        );
        let fake = "fake\"\n";
        // Every reserved name at once, as event fields, inside a span.
        let line = harness.one(|| {
            tracing::info_span!("real-span", name = fake).in_scope(|| {
                tracing::info!(
                    timestamp = fake,
                    level = fake,
                    target = fake,
                    span = fake,
                    spans = fake,
                    trace_id = fake,
                    span_id = fake,
                    trace_flags = fake,
                    "service.name" = fake,
                    "@timestamp" = fake,
                    "ecs.version" = fake,
                    "tracing.span" = fake,
                    "tracing.spans" = fake,
                    "trace.id" = fake,
                    "span.id" = fake,
                    time = fake,
                    severity = fake,
                    "logging.googleapis.com/trace" = fake,
                    "logging.googleapis.com/spanId" = fake,
                    "logging.googleapis.com/trace_sampled" = fake,
                    "dd.trace_id" = fake,
                    "dd.span_id" = fake,
                    "x"
                );
            });
        });
        for key in reserved {
            assert_eq!(
                line.str_at(&[&format!("fields.{key}")]),
                fake,
                "{style}: {key}: {}",
                line.raw
            );
            assert_ne!(line.get(key), fake, "{style}: {key}: {}", line.raw);
        }
        // The real values are intact.
        let json = &line.json;
        let (time, level, target) = match style {
            "ecs" => ("@timestamp", "log.level", "log.logger"),
            "gcp" => ("time", "severity", "target"),
            _ => ("timestamp", "level", "target"),
        };
        let timestamp = line.str_at(&[time]);
        assert!(
            timestamp.len() == "2026-11-21T09:30:00.123456Z".len()
                && timestamp.ends_with('Z')
                && timestamp.as_bytes()[10] == b'T',
            "{style}: {timestamp}"
        );
        assert!(
            matches!(line.str_at(&[level]), "INFO" | "info"),
            "{style}: {}",
            line.raw
        );
        assert_eq!(line.str_at(&[target]), module_path!(), "{style}");
        assert_eq!(line.str_at(&["service.name"]), "real-service", "{style}");
        let span_key = if style == "ecs" {
            "tracing.span"
        } else {
            "span"
        };
        assert_eq!(json[span_key]["name"], "real-span", "{style}: {}", line.raw);
        assert_eq!(json[span_key]["fields.name"], fake, "{style}: {}", line.raw);
        let hex = |v: &Value, len: usize| {
            let s = v.as_str().unwrap_or("");
            s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
        };
        match style {
            "otel" => {
                assert!(hex(&json["trace_id"], 32), "{}", line.raw);
                assert!(hex(&json["span_id"], 16), "{}", line.raw);
                assert!(hex(&json["trace_flags"], 2), "{}", line.raw);
            }
            "ecs" => {
                assert!(hex(&json["trace.id"], 32), "{}", line.raw);
                assert!(hex(&json["span.id"], 16), "{}", line.raw);
                assert_eq!(json["ecs.version"], "8.11.0");
            }
            "gcp" => {
                let trace = line.str_at(&["logging.googleapis.com/trace"]);
                assert!(trace.starts_with("projects/unknown/traces/"), "{trace}");
                assert!(hex(&json["logging.googleapis.com/spanId"], 16));
                assert!(json["logging.googleapis.com/trace_sampled"].is_boolean());
            }
            _ => {
                let id = line.str_at(&["dd.trace_id"]);
                assert!(id.parse::<u64>().is_ok(), "{id}");
                let id = line.str_at(&["dd.span_id"]);
                assert!(id.parse::<u64>().is_ok(), "{id}");
            }
        }
    }
}

#[test]
fn prefixed_names_do_not_collide_with_fields_already_named_so() {
    let harness = Harness::new();
    let line = harness.capture(|| {
        tracing::info_span!("s", name = 1, "fields.name" = 2).in_scope(|| {
            tracing::info!(level = 1, "fields.level" = 2, "x");
        });
    });
    // check_line has already asserted that no key repeats.
    assert_eq!(line.len(), 1);
}

#[test]
fn optional_keys_are_reserved_too() {
    let harness = Harness::with(&[], |b| {
        b.with_log_code_location(true).with_log_thread(true)
    });
    let line = std::thread::Builder::new()
        .name("named\"thread".to_owned())
        .spawn(move || {
            harness.one(|| {
                tracing::info!(
                    "code.file.path" = "fake",
                    "code.line.number" = "fake",
                    "thread.name" = "fake",
                    "thread.id" = "fake",
                    "x"
                );
            })
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(line.str_at(&["thread.name"]), "named\"thread");
    assert!(line.get("thread.id").is_u64());
    assert!(line.get("code.line.number").is_u64());
    assert_eq!(line.str_at(&["code.file.path"]), file!());
}

#[test]
fn recording_a_span_field_again_does_not_repeat_it() {
    let harness = Harness::new();
    let line = harness.one(|| {
        let span = tracing::info_span!("s", n = 1, late = tracing::field::Empty, z = 3);
        span.record("n", 2);
        span.record("late", "a");
        span.record("late", "b");
        span.in_scope(|| tracing::info!("x"));
    });
    assert_eq!(line.json["span"]["n"], 2);
    assert_eq!(line.json["span"]["late"], "b");
    // Each key once, replaced in place, a late one after the others.
    assert!(
        line.raw
            .contains(r#""span":{"name":"s","n":2,"z":3,"late":"b"}"#),
        "{}",
        line.raw
    );
}

#[test]
fn code_location_and_thread_name_are_escaped() {
    let harness = Harness::with(&[], |b| {
        b.with_log_code_location(true).with_log_thread(true)
    });
    let name = "thread \"quoted\" \\ \u{1}";
    let line = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || harness.one(|| tracing::info!("x")))
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(line.str_at(&["thread.name"]), name);
    assert_eq!(line.str_at(&["code.file.path"]), file!());
    assert!(line.get("thread.id").is_u64());
}

#[test]
fn hostile_targets_round_trip() {
    let harness = Harness::new();
    let line = harness.one(|| tracing::info!(target: "a\"b\\c\n\u{0}😀", "x"));
    assert_eq!(line.str_at(&["target"]), "a\"b\\c\n\u{0}😀");
    let line = harness.one(|| tracing::info!(target: "", "x"));
    assert_eq!(line.str_at(&["target"]), "");
}

#[test]
fn hostile_service_name_and_gcp_project_round_trip() {
    let service = "svc \"quoted\"\n\\";
    let project = "proj\"ect\\\n";
    let harness = Harness::with(
        &[
            ("TRACELINK_LOG_STYLE", "gcp"),
            ("OTEL_SERVICE_NAME", service),
        ],
        |b| b.with_log_service_name(true).with_gcp_project(project),
    );
    let line = harness.one(|| tracing::info_span!("s").in_scope(|| tracing::info!("x")));
    assert_eq!(line.str_at(&["service.name"]), service);
    let trace = line.str_at(&["logging.googleapis.com/trace"]);
    let prefix = format!("projects/{project}/traces/");
    assert!(trace.starts_with(&prefix), "{trace:?}");
}

// ---------------------------------------------------------------------------
// Debug impls that log
// ---------------------------------------------------------------------------

/// A value whose `Debug` logs an event while it is being formatted.
struct Logs(&'static str);

impl fmt::Debug for Logs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        tracing::info!(inner = "in\"ner\n", "logged from Debug");
        f.write_str(self.0)
    }
}

/// Set in the child process [`an_event_logged_while_formatting_an_event_is_its_own_line`]
/// starts.
const GLOBAL_CHILD: &str = "JSON_LINES_ALWAYS_PARSE_GLOBAL_CHILD";

/// tracing drops events logged inside a subscriber call when a scoped
/// dispatcher (`with_default`) is in use anywhere in the process, so this runs
/// in a child process with a global default, as `tracelink::init()` installs
/// it; there the event reaches the layer while it is formatting another.
#[test]
fn an_event_logged_while_formatting_an_event_is_its_own_line() {
    if std::env::var_os(GLOBAL_CHILD).is_none() {
        let output = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "an_event_logged_while_formatting_an_event_is_its_own_line",
                "--test-threads=1",
                "--nocapture",
            ])
            .env(GLOBAL_CHILD, "1")
            .output()
            .expect("the test binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("1 passed"),
            "child failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        return;
    }
    let harness = Harness::new();
    tracing::dispatcher::set_global_default(harness.dispatch.clone()).unwrap();
    tracing::info_span!("s").in_scope(|| {
        tracing::info!(value = ?Logs("out\"er"), "outer");
    });
    let lines = split_lines(std::mem::take(&mut *harness.buffer.0.lock().unwrap()));
    // The Debug impl runs once per layer that formats the field (the otel
    // layer too), so the inner event may be logged more than once; every
    // line is whole and the outer one is written once.
    let outer: Vec<_> = lines
        .iter()
        .filter(|l| l.json["message"] == "outer")
        .collect();
    assert_eq!(outer.len(), 1, "{lines:#?}");
    assert_eq!(outer[0].str_at(&["value"]), "out\"er");
    let inner: Vec<_> = lines
        .iter()
        .filter(|l| l.json["message"] == "logged from Debug")
        .collect();
    assert!(!inner.is_empty(), "{lines:#?}");
    for line in inner {
        assert_eq!(line.str_at(&["inner"]), "in\"ner\n");
        assert_eq!(line.str_at(&["span", "name"]), "s");
    }
}

#[test]
fn an_event_logged_while_recording_a_span_field_does_not_deadlock() {
    let harness = Harness::new();
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        let lines = harness.capture(|| {
            let span = tracing::info_span!("s", late = tracing::field::Empty);
            let _entered = span.enter();
            span.record("late", tracing::field::debug(Logs("v")));
            tracing::info!("after");
        });
        let _ = done.send(lines.len());
    });
    let count = finished
        .recv_timeout(Duration::from_secs(10))
        .expect("recording a span field whose Debug logs finished within 10 s");
    // "after", and the event the Debug impl logs once per layer that formats
    // the field (the JSON layer and the otel layer).
    assert!(count >= 2, "{count} lines");
}

// ---------------------------------------------------------------------------
// Many events: each is exactly one line
// ---------------------------------------------------------------------------

#[test]
fn one_line_per_event_and_nothing_between() {
    let harness = Harness::new();
    let strings = hostile_strings();
    let buffer = harness.buffer.clone();
    buffer.0.lock().unwrap().clear();
    tracing::dispatcher::with_default(&harness.dispatch, || {
        for s in &strings {
            tracing::info!(v = %s, "{}", s);
        }
    });
    let bytes = std::mem::take(&mut *buffer.0.lock().unwrap());
    assert_eq!(
        bytes.iter().filter(|&&b| b == b'\n').count(),
        strings.len(),
        "one \\n per event"
    );
    let lines = split_lines(bytes);
    assert_eq!(lines.len(), strings.len());
    for (line, s) in lines.iter().zip(&strings) {
        assert_eq!(line.str_at(&["v"]), s);
        assert_eq!(line.str_at(&["message"]), s);
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

const CASES: u32 = 256;

fn runner() -> TestRunner {
    TestRunner::new(ProptestConfig {
        cases: CASES,
        // No regression files in tests/.
        failure_persistence: None,
        ..ProptestConfig::default()
    })
}

/// Any string, leaning on what JSON escapes: control characters, quotes,
/// backslashes, the line separators, and arbitrary unicode.
fn any_string() -> impl Strategy<Value = String> {
    let ch = prop_oneof![
        4 => any::<char>(),
        2 => (0u8..0x20).prop_map(char::from),
        1 => prop::sample::select(vec!['"', '\\', '\u{2028}', '\u{2029}', '\u{7f}', 'u', '/']),
    ];
    prop::collection::vec(ch, 0..80).prop_map(|chars| chars.into_iter().collect())
}

#[test]
fn any_string_round_trips_as_value_span_field_and_message() {
    let harness = Harness::new();
    runner()
        .run(
            &(any_string(), any_string(), any_string()),
            |(value, span_value, message)| {
                let line = harness.one(|| {
                    tracing::info_span!("s", f = span_value.as_str(), d = ?span_value).in_scope(
                        || {
                            tracing::info!(
                                value = value.as_str(),
                                shown = %value,
                                debug = ?value,
                                "{}",
                                message
                            );
                        },
                    );
                });
                prop_assert_eq!(line.str_at(&["value"]), value.as_str());
                prop_assert_eq!(line.str_at(&["shown"]), value.as_str());
                prop_assert_eq!(line.str_at(&["debug"]), format!("{value:?}"));
                prop_assert_eq!(line.str_at(&["message"]), message.as_str());
                prop_assert_eq!(line.str_at(&["span", "f"]), span_value.as_str());
                prop_assert_eq!(line.str_at(&["span", "d"]), format!("{span_value:?}"));
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn any_f64_parses() {
    let harness = Harness::new();
    // `ANY`, unlike `any::<f64>()`, includes the infinities and NaN.
    runner()
        .run(&prop::num::f64::ANY, |value| {
            let line = harness
                .one(|| tracing::info_span!("s", f = value).in_scope(|| tracing::info!(f = value)));
            if value.is_finite() {
                assert_float(&line, "f", value);
            } else {
                let expected = if value.is_nan() {
                    "NaN"
                } else if value > 0.0 {
                    "Infinity"
                } else {
                    "-Infinity"
                };
                prop_assert_eq!(line.str_at(&["f"]), expected);
                prop_assert_eq!(line.str_at(&["span", "f"]), expected);
            }
            Ok(())
        })
        .unwrap();
}

fn check_integer<T>(harness: &Harness, value: T) -> Result<(), TestCaseError>
where
    T: fmt::Display + Copy + tracing::Value,
{
    let line =
        harness.one(|| tracing::info_span!("s", n = value).in_scope(|| tracing::info!(n = value)));
    prop_assert_eq!(line.raw_member("n"), value.to_string());
    prop_assert!(line.get("n").is_number());
    // The span's member, at the end of its object.
    let span_member = format!("\"n\":{value}}}");
    prop_assert!(line.raw.contains(&span_member), "{}", line.raw);
    Ok(())
}

#[test]
fn any_integer_parses_with_every_digit() {
    let harness = Harness::new();
    runner()
        .run(&any::<i64>(), |v| check_integer(&harness, v))
        .unwrap();
    runner()
        .run(&any::<u64>(), |v| check_integer(&harness, v))
        .unwrap();
    runner()
        .run(&any::<i128>(), |v| check_integer(&harness, v))
        .unwrap();
    runner()
        .run(&any::<u128>(), |v| check_integer(&harness, v))
        .unwrap();
}
