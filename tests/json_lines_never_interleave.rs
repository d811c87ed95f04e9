//! Lines from many threads never interleave: 8 threads × 50,000 events through
//! one `LogLayer` into one writer that, like a pipe, appends each `write` call
//! as it comes. A line handed over in more than one `write` would show up as
//! a mangled line; so the writer also counts its calls, and every call must be
//! exactly one whole line.

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use serde_json::Value;
use tracing::{info, info_span, warn, Dispatch};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

const THREADS: u64 = 8;
const EVENTS: u64 = 50_000;
/// Events logged in a row inside (even blocks) or outside (odd blocks) spans.
const BLOCK: u64 = 500;
/// A new span every this many events inside a block.
const SPAN_EVERY: u64 = 50;
/// Every this many events, a long field value with characters to escape.
const LONG_EVERY: u64 = 251;
const LONG_LEN: usize = 2_000;
/// One event per thread with a value larger than a pipe's buffer (64 KiB).
const HUGE_AT: u64 = 25_000;
const HUGE_LEN: usize = 100_000;

/// The shared end of the "pipe": every `write` lands here, whole, in order.
#[derive(Default)]
struct Pipe {
    bytes: Mutex<Vec<u8>>,
    writes: AtomicU64,
    /// Writes that were not exactly one line: `{` ... `}\n`, no other newline.
    partial: AtomicU64,
}

#[derive(Clone, Default)]
struct PipeMaker(Arc<Pipe>);

/// Forwards each `write` straight to the pipe: no buffering, so a line split
/// over several writes could interleave with other threads' lines.
struct PipeWriter(Arc<Pipe>);

impl io::Write for PipeWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let pipe = &self.0;
        pipe.writes.fetch_add(1, Ordering::Relaxed);
        let whole_line = buf.first() == Some(&b'{')
            && buf.ends_with(b"}\n")
            && !buf[..buf.len() - 1].contains(&b'\n');
        if !whole_line {
            pipe.partial.fetch_add(1, Ordering::Relaxed);
        }
        pipe.bytes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for PipeMaker {
    type Writer = PipeWriter;

    fn make_writer(&'a self) -> PipeWriter {
        PipeWriter(self.0.clone())
    }
}

/// `len` characters, many of which need escaping or are multi-byte, so a
/// line is much longer in JSON than its value; built once.
fn long_value(len: usize) -> &'static str {
    static LONG: OnceLock<String> = OnceLock::new();
    static HUGE: OnceLock<String> = OnceLock::new();
    let make = || {
        let pattern = ['"', '\\', '\n', '\t', 'é', '{', '}', '\u{1}', 'x', '☃'];
        pattern.iter().cycle().take(len).collect::<String>()
    };
    match len {
        LONG_LEN => LONG.get_or_init(make),
        HUGE_LEN => HUGE.get_or_init(make),
        _ => unreachable!("no such value"),
    }
}

fn workload(thread: u64) {
    let mut span: Option<tracing::Span> = None;
    for seq in 0..EVENTS {
        let inside = (seq / BLOCK) % 2 == 0;
        if inside && seq % SPAN_EVERY == 0 {
            span = Some(info_span!("batch", thread, batch = seq / SPAN_EVERY));
        } else if !inside {
            span = None;
        }
        let _entered = span.as_ref().map(tracing::Span::enter);
        if seq == HUGE_AT {
            warn!(thread, seq, long = long_value(HUGE_LEN), "huge");
        } else if seq % LONG_EVERY == 0 {
            info!(thread, seq, long = long_value(LONG_LEN), "long");
        } else {
            info!(thread, seq, "event");
        }
    }
}

/// What one line says: who logged it, and the span id it carries if any.
struct Seen {
    thread: u64,
    seq: u64,
    span_id: Option<String>,
}

/// Checks one line's JSON, keys and values.
fn check_line(line: &str) -> Seen {
    // Keys borrowed from the line: one allocation fewer per key.
    let object: BTreeMap<&str, Value> = serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line:.300}"));
    let thread = object["thread"].as_u64().expect("thread");
    let seq = object["seq"].as_u64().expect("seq");
    let inside = (seq / BLOCK) % 2 == 0;
    let mut keys = vec!["timestamp", "level", "target", "message", "thread", "seq"];
    let message = object["message"].as_str().expect("message");
    match message {
        "huge" | "long" => {
            let len = if message == "huge" {
                HUGE_LEN
            } else {
                LONG_LEN
            };
            assert_eq!(
                object["long"].as_str(),
                Some(long_value(len)),
                "{line:.300}"
            );
            keys.push("long");
        }
        _ => assert_eq!(message, "event"),
    }
    if inside {
        keys.extend_from_slice(&["span", "trace_id", "span_id", "trace_flags"]);
        let span = object["span"].as_object().expect("span object");
        assert_eq!(span["name"], "batch");
        // The span the thread itself had entered, not another thread's.
        assert_eq!(span["thread"].as_u64(), Some(thread), "{line:.300}");
        assert_eq!(
            span["batch"].as_u64(),
            Some(seq / SPAN_EVERY),
            "{line:.300}"
        );
        let trace_id = object["trace_id"].as_str().expect("trace_id");
        assert_eq!(trace_id.len(), 32);
        assert_eq!(object["span_id"].as_str().map(str::len), Some(16));
        // A trace started here: sampled, with the W3C random-trace-id bit.
        assert_eq!(object["trace_flags"], "03");
    }
    let actual: Vec<&str> = object.keys().copied().collect();
    keys.sort_unstable();
    assert_eq!(actual, keys, "{line:.300}");
    Seen {
        thread,
        seq,
        span_id: inside.then(|| object["span_id"].as_str().unwrap_or_default().to_owned()),
    }
}

#[test]
fn eight_threads_of_fifty_thousand_events_never_interleave() {
    let pipe = PipeMaker::default();
    // No exporter, so no receiver: spans still get ids, lines still carry them.
    let parts = tracelink::builder()
        .with_env([("OTEL_TRACES_EXPORTER", "none"), ("RUST_LOG", "info")])
        .with_log_writer(tracelink::logs::LogWriter::custom(pipe.clone()))
        .build()
        .expect("tracelink builds");
    let dispatch = Dispatch::new(
        tracing_subscriber::registry()
            .with(parts.filter())
            .with(parts.otel_layer())
            .with(parts.log_layer()),
    );

    let started = Instant::now();
    std::thread::scope(|scope| {
        for thread in 0..THREADS {
            let dispatch = &dispatch;
            scope.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || workload(thread));
            });
        }
    });
    let logged = started.elapsed();

    let expected = (THREADS * EVENTS) as usize;
    let pipe = pipe.0;
    assert_eq!(parts.log_layer().write_errors(), 0);
    assert_eq!(
        pipe.partial.load(Ordering::Relaxed),
        0,
        "writes that were not one whole line"
    );
    assert_eq!(
        pipe.writes.load(Ordering::Relaxed),
        expected as u64,
        "one write a line"
    );

    let bytes = std::mem::take(
        &mut *pipe
            .bytes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    );
    let text = String::from_utf8(bytes).expect("UTF-8");
    assert!(text.ends_with('\n'));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), expected);

    // Parse on every core; each part returns what its lines said.
    let checked = Instant::now();
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let chunk = lines.len().div_ceil(cores);
    let seen: Vec<Vec<Seen>> = std::thread::scope(|scope| {
        let checks: Vec<_> = lines
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(|l| check_line(l)).collect()))
            .collect();
        checks
            .into_iter()
            .map(|check| check.join().expect("lines check"))
            .collect()
    });
    let mut present = vec![vec![false; EVENTS as usize]; THREADS as usize];
    let mut last = vec![None::<u64>; THREADS as usize];
    // Each (thread, batch) span: the span id all its lines carry.
    let mut span_ids: BTreeMap<(u64, u64), String> = BTreeMap::new();
    for Seen {
        thread,
        seq,
        span_id,
    } in seen.into_iter().flatten()
    {
        if let Some(span_id) = span_id {
            let first = span_ids
                .entry((thread, seq / SPAN_EVERY))
                .or_insert_with(|| span_id.clone());
            assert_eq!(
                *first, span_id,
                "thread {thread} seq {seq}: another span's id"
            );
        }
        let slot = &mut present[thread as usize][seq as usize];
        assert!(!*slot, "thread {thread} seq {seq} twice");
        *slot = true;
        // One thread's lines arrive in the order it logged them.
        let previous = last[thread as usize].replace(seq);
        assert!(
            previous.is_none_or(|p| p < seq),
            "thread {thread}: {seq} after {previous:?}"
        );
    }
    for (thread, seqs) in present.iter().enumerate() {
        let missing = seqs.iter().filter(|&&p| !p).count();
        assert_eq!(missing, 0, "thread {thread} lost {missing} lines");
    }
    let spans = (THREADS * EVENTS / SPAN_EVERY / 2) as usize;
    assert_eq!(span_ids.len(), spans);
    let distinct: std::collections::BTreeSet<&String> = span_ids.values().collect();
    assert_eq!(distinct.len(), spans, "two spans logged with one span id");
    println!(
        "{expected} lines, {} MB, logged in {logged:.2?}, checked in {:.2?}",
        text.len() / 1_000_000,
        checked.elapsed()
    );
    drop(dispatch);
    parts.into_guard().shutdown().expect("clean shutdown");
}
