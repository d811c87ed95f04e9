//! The local trace store: spans and log records kept on disk as OTLP/JSON
//! lines, so a trace and its logs can be looked at with no collector and no
//! backend.
//!
//! The `file` exporters (`OTEL_TRACES_EXPORTER=file`, or
//! [`Builder::with_traces_file`](crate::Builder::with_traces_file);
//! `OTEL_LOGS_EXPORTER=file` for log records) write each batch the export
//! thread takes as one line, and `tracelink receive` writes each OTLP
//! request it gets (traces or logs) the same way. The `tracelink`
//! command-line tool reads the lines back: `tracelink show TRACE_ID` draws
//! the trace's spans with their log records under them.
//!
//! # Format
//!
//! One `ExportTraceServiceRequest` or `ExportLogsServiceRequest` per line
//! in the OTLP/JSON encoding, as the OpenTelemetry Collector's file exporter
//! writes traces and logs (and its `otlpjsonfile` receiver reads them). A
//! line of spans:
//!
//! ```text
//! {"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
//!  "scopeSpans":[{"scope":{"name":"tracelink","version":"0.1.0"},"spans":[{"traceId":"4bf92f3577b34da6a3ce929d0e0e4736",
//!  "spanId":"00f067aa0ba902b7","flags":257,"name":"GET /cart","kind":2,"startTimeUnixNano":"1763717400123456000",
//!  "endTimeUnixNano":"1763717400135766000","attributes":[...],"status":{}}]}]}]}
//! ```
//!
//! and a line of log records, each with the ids of the span it was
//! written in:
//!
//! ```text
//! {"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"shop"}}]},
//!  "scopeLogs":[{"scope":{"name":"shop::cart"},"logRecords":[{"timeUnixNano":"1763717400125000000",
//!  "observedTimeUnixNano":"1763717400125000000","severityNumber":9,"severityText":"INFO",
//!  "body":{"stringValue":"cart loaded"},"attributes":[...],"flags":1,
//!  "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7"}]}]}]}
//! ```
//!
//! (each one line in the file). Ids are lowercase hex, enums integers,
//! 64-bit integers decimal strings, and fields at their default value are
//! left out (a record's `body` is always written, `{}` when it has none).
//! `jq` reads it too:
//!
//! ```sh
//! jq -c '.resourceSpans[]?.scopeSpans[].spans[] | select(.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")' .tracelink/traces.jsonl
//! jq -c '.resourceLogs[]?.scopeLogs[].logRecords[] | select(.traceId == "4bf92f3577b34da6a3ce929d0e0e4736")' .tracelink/traces.jsonl
//! ```
//!
//! # Files
//!
//! `TRACELINK_TRACES_FILE` (default `.tracelink/traces.jsonl`, relative to the
//! working directory) is the file written to. Once the next line would take
//! it past `TRACELINK_TRACES_FILE_MAX_BYTES` (default 64 MiB) it is renamed
//! `traces.jsonl.1`, the previous `.1` becomes `.2`, and so on; the
//! [`ROTATED_FILES`] newest rotated files are kept, so the store never holds
//! more than `(1 + ROTATED_FILES) × max bytes` (give or take the lines other
//! writers append during a rotation). Writers in several processes rotate
//! under a lock on `traces.jsonl.lock`, an empty file left next to the
//! store. [`files`] lists a store's files, oldest first.
//!
//! Spans and log records share the files, the rotation and the lock: one
//! store, whose lines hold `resourceSpans` or `resourceLogs`. A reader must
//! skip a line it can not parse: the last line of a file whose writer died
//! mid-write may be cut short.

mod exporter;
mod file;
mod json;

use std::path::{Path, PathBuf};

pub(crate) use exporter::{StoreBatch, StoreExporter};
pub use file::TraceFile;

/// How many rotated files a store keeps besides the one being written:
/// `traces.jsonl.1` (the newest) to `traces.jsonl.3`.
pub const ROTATED_FILES: usize = 3;

/// The files of the store written at `path` that exist now, oldest first:
/// the rotated files by decreasing number (`traces.jsonl.3`, `.2`, `.1`),
/// then `path` itself.
///
/// Every `path.N` counts, also beyond [`ROTATED_FILES`], where `N` is a
/// number from 1 written as the writer writes it: `traces.jsonl.01`,
/// `.007` or `.0` are some other file, and left out. The paths are the
/// directory's own names, so every one listed existed when it was read
/// (a live writer may rotate it away since). The lock file
/// `traces.jsonl.lock` is not listed.
///
/// ```
/// # fn main() -> std::io::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("tracelink-doc-files-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// for name in ["traces.jsonl", "traces.jsonl.1", "traces.jsonl.2", "other.jsonl"] {
///     std::fs::write(dir.join(name), "")?;
/// }
/// let files = tracelink::store::files(&dir.join("traces.jsonl"));
/// let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap()).collect();
/// assert_eq!(names, ["traces.jsonl.2", "traces.jsonl.1", "traces.jsonl"]);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
pub fn files(path: &Path) -> Vec<PathBuf> {
    let mut rotated: Vec<(u64, PathBuf)> = Vec::new();
    // By bytes: a store's name need not be UTF-8, only the `.N` after it is.
    if let Some(name) = path.file_name().map(std::ffi::OsStr::as_encoded_bytes) {
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let file_name = entry.file_name();
                let Some(number) = file_name
                    .as_encoded_bytes()
                    .strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix(b"."))
                    .and_then(|rest| std::str::from_utf8(rest).ok())
                    .and_then(rotation_number)
                else {
                    continue;
                };
                rotated.push((number, path.with_file_name(&file_name)));
            }
        }
    }
    rotated.sort_by_key(|(number, _)| std::cmp::Reverse(*number));
    let mut files: Vec<PathBuf> = rotated.into_iter().map(|(_, p)| p).collect();
    if path.is_file() {
        files.push(path.to_path_buf());
    }
    files
}

/// `N` of a rotated file's `.N`: digits, from 1, without leading zeros.
fn rotation_number(text: &str) -> Option<u64> {
    let canonical = text.bytes().all(|b| b.is_ascii_digit()) && !text.starts_with('0');
    text.parse().ok().filter(|_| canonical)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotation_numbers_are_canonical() {
        assert_eq!(rotation_number("1"), Some(1));
        assert_eq!(rotation_number("12"), Some(12));
        for text in [
            "",
            "0",
            "00",
            "01",
            "007",
            "+1",
            "1a",
            " 1",
            "99999999999999999999999",
        ] {
            assert_eq!(rotation_number(text), None, "{text:?}");
        }
    }

    #[test]
    fn odd_numbers_and_the_lock_are_not_store_files() {
        let dir = std::env::temp_dir().join(format!(
            "tracelink-store-files-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        for name in [
            "traces.jsonl",
            "traces.jsonl.1",
            "traces.jsonl.10",
            "traces.jsonl.0",
            "traces.jsonl.00",
            "traces.jsonl.01",
            "traces.jsonl.007",
            "traces.jsonl.lock",
            "traces.jsonl.1.tmp",
            "traces.jsonlx.2",
        ] {
            std::fs::write(dir.join(name), "").unwrap();
        }
        let files = files(&dir.join("traces.jsonl"));
        let names: Vec<_> = files.iter().map(|f| f.file_name().unwrap()).collect();
        assert_eq!(names, ["traces.jsonl.10", "traces.jsonl.1", "traces.jsonl"]);
        assert!(files.iter().all(|f| f.is_file()), "{files:?}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_store_whose_name_is_not_utf8_keeps_its_rotated_files() {
        use std::os::unix::ffi::OsStringExt;
        let dir = std::env::temp_dir().join(format!(
            "tracelink-store-bytes-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let name = |suffix: &[u8]| {
            let mut bytes = b"tr\xffces.jsonl".to_vec();
            bytes.extend_from_slice(suffix);
            dir.join(std::ffi::OsString::from_vec(bytes))
        };
        for suffix in [&b""[..], b".1", b".2", b".lock"] {
            std::fs::write(name(suffix), "").unwrap();
        }
        assert_eq!(files(&name(b"")), [name(b".2"), name(b".1"), name(b"")]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
