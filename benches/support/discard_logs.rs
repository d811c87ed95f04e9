//! The log record exporter `log_line.rs` gives tracelink and the SDK's
//! `BatchLogProcessor` alike: it accepts every batch and throws it away, so
//! the bench measures the path to the exporter (building a record, queueing
//! it), not a network. It counts what it is given, to tell records that
//! arrived from records dropped on the way; a capture switch, as `out.rs`
//! has for lines, notes what it was given, to check once what each setup
//! exports.

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use opentelemetry::logs::AnyValue;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::logs::{LogBatch, LogExporter, SdkLogRecord};

static CAPTURE: AtomicBool = AtomicBool::new(false);
static CAPTURED: Mutex<Vec<Seen>> = Mutex::new(Vec::new());
static EXPORTED: AtomicU64 = AtomicU64::new(0);

/// Accepts every batch, counts it and throws it away.
#[derive(Debug)]
pub(crate) struct DiscardLogs;

impl LogExporter for DiscardLogs {
    async fn export(&self, batch: LogBatch<'_>) -> OTelSdkResult {
        if CAPTURE.load(Ordering::Relaxed) {
            let mut captured = CAPTURED.lock().unwrap();
            captured.extend(batch.iter().map(|(record, _)| Seen::of(record)));
        }
        EXPORTED.fetch_add(batch.iter().count() as u64, Ordering::Relaxed);
        black_box(batch);
        Ok(())
    }
}

/// Records every `DiscardLogs` has been given so far.
pub(crate) fn exported() -> u64 {
    EXPORTED.load(Ordering::Relaxed)
}

/// What the check looks at in one exported record.
#[derive(Debug)]
pub(crate) struct Seen {
    /// The body, when it is a string.
    pub(crate) body: Option<String>,
    /// The attributes' keys, in order.
    pub(crate) keys: Vec<String>,
    /// The trace id and span id, in hex, when the record has them.
    pub(crate) ids: Option<(String, String)>,
}

impl Seen {
    fn of(record: &SdkLogRecord) -> Self {
        let body = match record.body() {
            Some(AnyValue::String(text)) => Some(text.as_str().to_owned()),
            _ => None,
        };
        Seen {
            body,
            keys: record
                .attributes_iter()
                .map(|(key, _)| key.as_str().to_owned())
                .collect(),
            ids: record
                .trace_context()
                .map(|cx| (cx.trace_id.to_string(), cx.span_id.to_string())),
        }
    }
}

/// Runs `f` (which logs and then flushes the records' pipeline) with the
/// exporter capturing, and returns what it exported meanwhile.
pub(crate) fn capture(f: impl FnOnce()) -> Vec<Seen> {
    CAPTURED.lock().unwrap().clear();
    CAPTURE.store(true, Ordering::Relaxed);
    f();
    CAPTURE.store(false, Ordering::Relaxed);
    std::mem::take(&mut *CAPTURED.lock().unwrap())
}
