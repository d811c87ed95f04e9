//! [`TraceFile`]: whole OTLP/JSON lines, of spans or of log records,
//! appended to a file, rotated by size.

use std::ffi::OsString;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;

use super::ROTATED_FILES;

/// The writer of a local trace store: each [`append`](TraceFile::append)
/// writes one `ExportTraceServiceRequest` as one line of OTLP/JSON, each
/// [`append_logs`](TraceFile::append_logs) one `ExportLogsServiceRequest`,
/// and either rotates the file when the line would take it past
/// `max_bytes`. Spans and log records share the file, its rotation and
/// its lock.
///
/// * **Whole lines.** A line is built in memory and written with one
///   `write` to a file opened for appending, so lines of several writers
///   (a service and `tracelink receive`, say) never interleave. There is no
///   buffer in between: once `append` returns, the line is in the file.
/// * **Torn lines.** If a process dies in the middle of a write, the file
///   ends with part of a line. Opening the file again ends that part with a
///   newline first, so it stays one bad line that readers skip, and the
///   next line is whole.
/// * **Rotation.** `traces.jsonl` becomes `traces.jsonl.1`, `.1` becomes
///   `.2`, and so on up to [`ROTATED_FILES`]; the oldest is deleted. A line
///   is never split between two files; one larger than `max_bytes` gets a
///   file of its own.
/// * **Several writers rotate once.** The size check and the renames run
///   under an exclusive advisory lock (`flock`) on a sidecar file,
///   `traces.jsonl.lock`, and the check is made again under it: a writer
///   that finds the file already rotated by another one writes to the new
///   file instead of rotating it too. (On platforms without `flock`, such
///   as Windows, there is no lock between processes.) Lines other writers
///   append while one rotates may take a file a few lines past
///   `max_bytes`.
/// * **Directories** on the way to the file are created.
///
/// ```
/// use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
/// use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
///
/// # fn main() -> std::io::Result<()> {
/// # let dir = std::env::temp_dir().join(format!("tracelink-doc-{}", std::process::id()));
/// let path = dir.join("traces.jsonl");
/// let mut store = tracelink::store::TraceFile::open(&path, 64 * 1024 * 1024)?;
/// store.append(&ExportTraceServiceRequest {
///     resource_spans: vec![ResourceSpans {
///         scope_spans: vec![ScopeSpans {
///             spans: vec![Span {
///                 trace_id: vec![0x4b; 16],
///                 span_id: vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
///                 name: "checkout".into(),
///                 ..Default::default()
///             }],
///             ..Default::default()
///         }],
///         ..Default::default()
///     }],
/// })?;
/// let line = std::fs::read_to_string(&path)?;
/// assert!(line.starts_with(r#"{"resourceSpans":[{"resource":{},"scopeSpans":[{"scope":{},"spans":[{"traceId":"4b4b"#));
/// assert!(line.ends_with("}\n"));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
pub struct TraceFile {
    path: PathBuf,
    max_bytes: u64,
    rotated: usize,
    file: Option<File>,
    /// The line being written, kept for its capacity.
    line: String,
}

impl std::fmt::Debug for TraceFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceFile")
            .field("path", &self.path)
            .field("max_bytes", &self.max_bytes)
            .field("rotated", &self.rotated)
            .field("open", &self.file.is_some())
            .finish()
    }
}

impl TraceFile {
    /// Opens (or creates) the store at `path`, which rotates once it would
    /// grow past `max_bytes`.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("tracelink-doc-open-{}", std::process::id()));
    /// let store = tracelink::store::TraceFile::open(dir.join("traces.jsonl"), 1 << 20)?;
    /// assert_eq!(store.path(), dir.join("traces.jsonl"));
    /// assert_eq!(store.max_bytes(), 1 << 20);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When a directory on the way or the file can not be created or
    /// opened for appending.
    pub fn open(path: impl Into<PathBuf>, max_bytes: u64) -> io::Result<Self> {
        let mut store = Self::lazy(path.into(), max_bytes);
        store.file = Some(open(&store.path)?);
        Ok(store)
    }

    /// A store that opens its file at the first append, and again after any
    /// error, so a directory that appears later still gets the lines.
    pub(crate) fn lazy(path: PathBuf, max_bytes: u64) -> Self {
        Self {
            path,
            max_bytes: max_bytes.max(1),
            rotated: ROTATED_FILES,
            file: None,
            line: String::new(),
        }
    }

    /// The path lines are appended to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size past which the file is rotated.
    pub fn max_bytes(&self) -> u64 {
        self.max_bytes
    }

    /// Appends `request` as one line, rotating first if the line would
    /// take the file past `max_bytes`. A request without spans writes
    /// nothing.
    ///
    /// # Errors
    ///
    /// When the file can not be opened, rotated or written. The next call
    /// opens it again.
    pub fn append(&mut self, request: &ExportTraceServiceRequest) -> io::Result<()> {
        let has_spans = request
            .resource_spans
            .iter()
            .flat_map(|rs| &rs.scope_spans)
            .any(|ss| !ss.spans.is_empty());
        if !has_spans {
            return Ok(());
        }
        self.append_line(|line| super::json::encode_request(request, line))
    }

    /// Appends the logs `request` as one line (`{"resourceLogs":[...]}`,
    /// as the Collector's file exporter writes logs), by the rules of
    /// [`append`](TraceFile::append): rotating first if the line would take
    /// the file past `max_bytes`; a request without log records writes
    /// nothing.
    ///
    /// ```
    /// use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    /// use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    /// use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
    ///
    /// # fn main() -> std::io::Result<()> {
    /// # let dir = std::env::temp_dir().join(format!("tracelink-doc-logs-{}", std::process::id()));
    /// let path = dir.join("traces.jsonl");
    /// let mut store = tracelink::store::TraceFile::open(&path, 64 * 1024 * 1024)?;
    /// store.append_logs(&ExportLogsServiceRequest {
    ///     resource_logs: vec![ResourceLogs {
    ///         scope_logs: vec![ScopeLogs {
    ///             log_records: vec![LogRecord {
    ///                 severity_number: 9,
    ///                 severity_text: "INFO".into(),
    ///                 body: Some(AnyValue { value: Some(Value::StringValue("cart loaded".into())) }),
    ///                 trace_id: vec![0x4b; 16],
    ///                 span_id: vec![0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7],
    ///                 ..Default::default()
    ///             }],
    ///             ..Default::default()
    ///         }],
    ///         ..Default::default()
    ///     }],
    /// })?;
    /// let line = std::fs::read_to_string(&path)?;
    /// assert!(line.starts_with(r#"{"resourceLogs":[{"resource":{},"scopeLogs":[{"scope":{},"logRecords":[{"severityNumber":9,"#));
    /// assert!(line.contains(r#""body":{"stringValue":"cart loaded"},"traceId":"4b4b"#));
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// When the file can not be opened, rotated or written. The next call
    /// opens it again.
    pub fn append_logs(&mut self, request: &ExportLogsServiceRequest) -> io::Result<()> {
        let has_records = request
            .resource_logs
            .iter()
            .flat_map(|rl| &rl.scope_logs)
            .any(|sl| !sl.log_records.is_empty());
        if !has_records {
            return Ok(());
        }
        self.append_line(|line| super::json::encode_logs_request(request, line))
    }

    /// Writes the line `encode` builds, and its newline, reusing the
    /// buffer of the last one (unless it grew past 8 MiB).
    fn append_line(&mut self, encode: impl FnOnce(&mut String)) -> io::Result<()> {
        let mut line = std::mem::take(&mut self.line);
        line.clear();
        encode(&mut line);
        line.push('\n');
        let result = self.write_line(line.as_bytes());
        if line.capacity() > 8 << 20 {
            line = String::new();
        }
        self.line = line;
        result
    }

    fn write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let result = self.try_write_line(line);
        if result.is_err() {
            // Open afresh next time: that also ends a torn line.
            self.file = None;
        }
        result
    }

    fn try_write_line(&mut self, line: &[u8]) -> io::Result<()> {
        let len = line.len() as u64;
        // The size as the file system has it, other writers' lines included.
        if self.is_full(len)? {
            let _lock = lock(&self.path)?;
            // Another writer may have rotated between the check and the
            // lock: `current` then opens the new file, and it is not full.
            if self.is_full(len)? {
                self.rotate()?;
            }
        }
        match &mut self.file {
            Some(file) => file.write_all(line),
            None => Err(io::Error::other("the trace file is not open")),
        }
    }

    /// Whether a line of `len` bytes would take the current file past
    /// `max_bytes` (an empty file takes any line).
    fn is_full(&mut self, len: u64) -> io::Result<bool> {
        let size = self.current()?.metadata()?.len();
        Ok(size > 0 && size.saturating_add(len) > self.max_bytes)
    }

    /// The open file, opened again if another writer rotated it away.
    fn current(&mut self) -> io::Result<&mut File> {
        if self
            .file
            .as_ref()
            .is_some_and(|file| !is_at(file, &self.path))
        {
            self.file = None;
        }
        if self.file.is_none() {
            self.file = Some(open(&self.path)?);
        }
        match &mut self.file {
            Some(file) => Ok(file),
            None => Err(io::Error::other("the trace file is not open")),
        }
    }

    /// Renames the files one number up. The caller holds the [`lock`].
    fn rotate(&mut self) -> io::Result<()> {
        self.file = None;
        for n in (1..self.rotated).rev() {
            ignore_missing(fs::rename(
                numbered(&self.path, n),
                numbered(&self.path, n + 1),
            ))?;
        }
        if self.rotated == 0 {
            ignore_missing(fs::remove_file(&self.path))?;
        } else {
            ignore_missing(fs::rename(&self.path, numbered(&self.path, 1)))?;
        }
        self.file = Some(open(&self.path)?);
        Ok(())
    }
}

/// `path` with `.n` appended: `traces.jsonl.2`.
fn numbered(path: &Path, n: usize) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(format!(".{n}"));
    PathBuf::from(name)
}

/// `path` with `.lock` appended: the sidecar file rotations lock.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// An exclusive lock on the store at `path`, held until dropped, by this
/// process against every other `TraceFile` (in this process or another)
/// that writes to `path`: `flock` on `path.lock`, created if missing. The
/// lock is released when the file is closed, also if the process dies.
fn lock(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock_path(path))?;
    lock_exclusive(&file)?;
    Ok(file)
}

// Where rustix has `flock`.
#[cfg(all(
    unix,
    not(any(
        target_os = "espidf",
        target_os = "horizon",
        target_os = "solaris",
        target_os = "vita"
    ))
))]
fn lock_exclusive(file: &File) -> io::Result<()> {
    use rustix::fs::{flock, FlockOperation};
    loop {
        match flock(file, FlockOperation::LockExclusive) {
            Err(rustix::io::Errno::INTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}

#[cfg(not(all(
    unix,
    not(any(
        target_os = "espidf",
        target_os = "horizon",
        target_os = "solaris",
        target_os = "vita"
    ))
)))]
fn lock_exclusive(_file: &File) -> io::Result<()> {
    Ok(())
}

fn ignore_missing(result: io::Result<()>) -> io::Result<()> {
    match result {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Opens `path` for appending, creating it and its directories, and ends a
/// torn last line with a newline.
fn open(path: &Path) -> io::Result<File> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir)?;
    }
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    let len = file.metadata()?.len();
    if len > 0 {
        let mut last = [0u8];
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut last)?;
        if last[0] != b'\n' {
            file.write_all(b"\n")?;
        }
    }
    Ok(file)
}

/// Whether `path` still names `file` (another writer may have rotated it).
#[cfg(unix)]
fn is_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), fs::metadata(path)) {
        (Ok(open), Ok(named)) => open.dev() == named.dev() && open.ino() == named.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn is_at(_file: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "tracelink-store-{name}-{}-{}",
            std::process::id(),
            rand::random::<u32>()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// A request with one span named `name`.
    fn request(name: &str) -> ExportTraceServiceRequest {
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

    fn lines(path: &Path) -> Vec<String> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn directories_are_created_and_lines_appended() {
        let dir = temp_dir("create");
        let path = dir.join("a/b/traces.jsonl");
        let mut store = TraceFile::open(&path, 1 << 20).unwrap();
        store.append(&request("one")).unwrap();
        store.append(&request("two")).unwrap();
        let lines = lines(&path);
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains(r#""name":"one""#));
        assert!(lines[1].contains(r#""name":"two""#));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_request_without_spans_writes_nothing() {
        let dir = temp_dir("empty");
        let path = dir.join("traces.jsonl");
        let mut store = TraceFile::open(&path, 1 << 20).unwrap();
        store.append(&ExportTraceServiceRequest::default()).unwrap();
        let mut no_spans = request("x");
        no_spans.resource_spans[0].scope_spans[0].spans.clear();
        store.append(&no_spans).unwrap();
        assert_eq!(fs::metadata(&path).unwrap().len(), 0);
        fs::remove_dir_all(dir).unwrap();
    }

    /// A request with one log record whose body is `body`.
    fn logs_request(body: &str) -> ExportLogsServiceRequest {
        use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue};
        use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
        ExportLogsServiceRequest {
            resource_logs: vec![ResourceLogs {
                scope_logs: vec![ScopeLogs {
                    log_records: vec![LogRecord {
                        trace_id: vec![1; 16],
                        span_id: vec![2; 8],
                        body: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(body.into())),
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn log_records_go_into_the_same_file_beside_the_spans() {
        let dir = temp_dir("logs");
        let path = dir.join("traces.jsonl");
        let mut store = TraceFile::open(&path, 1 << 20).unwrap();
        store.append(&request("span")).unwrap();
        store.append_logs(&logs_request("record")).unwrap();
        store
            .append_logs(&ExportLogsServiceRequest::default())
            .unwrap();
        let mut no_records = logs_request("x");
        no_records.resource_logs[0].scope_logs[0]
            .log_records
            .clear();
        store.append_logs(&no_records).unwrap();
        let lines = lines(&path);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].starts_with(r#"{"resourceSpans":"#));
        assert!(lines[1].starts_with(r#"{"resourceLogs":"#), "{}", lines[1]);
        assert!(lines[1].contains(r#""body":{"stringValue":"record"}"#));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn log_lines_rotate_by_the_rules_of_span_lines() {
        let dir = temp_dir("logs-rotate");
        let path = dir.join("traces.jsonl");
        let line_len = {
            let mut line = String::new();
            super::super::json::encode_logs_request(&logs_request("record-00"), &mut line);
            line.len() as u64 + 1
        };
        let max = line_len * 2 + line_len / 2;
        let mut store = TraceFile::open(&path, max).unwrap();
        // 2 lines per file, 4 files kept: of 12 lines, the last 8 survive.
        for i in 0..12 {
            store
                .append_logs(&logs_request(&format!("record-{i:02}")))
                .unwrap();
        }
        let mut bodies = Vec::new();
        for file in super::super::files(&path) {
            assert!(fs::metadata(&file).unwrap().len() <= max);
            for line in lines(&file) {
                assert!(line.ends_with("}]}]}]}"), "a whole line: {line}");
                let start = line.find("record-").unwrap();
                bodies.push(line[start..start + 9].to_owned());
            }
        }
        let expected: Vec<String> = (4..12).map(|i| format!("record-{i:02}")).collect();
        assert_eq!(bodies, expected);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_torn_last_line_is_ended_before_the_next_line() {
        let dir = temp_dir("torn");
        let path = dir.join("traces.jsonl");
        let mut whole = String::new();
        super::super::json::encode_request(&request("before"), &mut whole);
        fs::write(&path, format!("{whole}\n{{\"resourceSpans\":[{{\"reso")).unwrap();
        let mut store = TraceFile::open(&path, 1 << 20).unwrap();
        store.append(&request("after")).unwrap();
        let lines = lines(&path);
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert_eq!(lines[0], whole);
        assert_eq!(lines[1], r#"{"resourceSpans":[{"reso"#);
        assert!(lines[2].contains(r#""name":"after""#));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn rotation_keeps_whole_lines_and_the_newest_files() {
        let dir = temp_dir("rotate");
        let path = dir.join("traces.jsonl");
        let line_len = {
            let mut line = String::new();
            super::super::json::encode_request(&request("span-00"), &mut line);
            line.len() as u64 + 1
        };
        // Room for three lines per file.
        let max = line_len * 3 + line_len / 2;
        let mut store = TraceFile::open(&path, max).unwrap();
        // 3 lines per file, 4 files kept: of 15 lines, the last 12 survive.
        for i in 0..15 {
            store.append(&request(&format!("span-{i:02}"))).unwrap();
        }
        let mut names = Vec::new();
        for file in super::super::files(&path) {
            let size = fs::metadata(&file).unwrap().len();
            assert!(
                size <= max,
                "{} has {size} bytes, more than {max}",
                file.display()
            );
            for line in lines(&file) {
                assert!(line.ends_with("}]}]}]}"), "a whole line: {line}");
                let start = line.find(r#""name":""#).unwrap() + 8;
                names.push(line[start..start + 7].to_owned());
            }
        }
        let expected: Vec<String> = (3..15).map(|i| format!("span-{i:02}")).collect();
        assert_eq!(
            names, expected,
            "oldest first, nothing lost in the kept files"
        );
        let mut file_names: Vec<String> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        file_names.sort();
        assert_eq!(
            file_names,
            [
                "traces.jsonl",
                "traces.jsonl.1",
                "traces.jsonl.2",
                "traces.jsonl.3",
                "traces.jsonl.lock"
            ]
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_line_larger_than_the_bound_gets_a_file_of_its_own() {
        let dir = temp_dir("large");
        let path = dir.join("traces.jsonl");
        let mut store = TraceFile::open(&path, 10).unwrap();
        store.append(&request("first")).unwrap();
        store.append(&request("second")).unwrap();
        assert_eq!(lines(&numbered(&path, 1)).len(), 1);
        assert_eq!(lines(&path).len(), 1);
        assert!(lines(&path)[0].contains("second"));
        fs::remove_dir_all(dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_writer_follows_a_rotation_by_another_writer() {
        let dir = temp_dir("two-writers");
        let path = dir.join("traces.jsonl");
        let mut a = TraceFile::open(&path, 1 << 20).unwrap();
        let mut b = TraceFile::open(&path, 1 << 20).unwrap();
        a.append(&request("a1")).unwrap();
        b.append(&request("b1")).unwrap();
        a.rotate().unwrap();
        b.append(&request("b2")).unwrap();
        let rotated = lines(&numbered(&path, 1));
        assert_eq!(rotated.len(), 2);
        let current = lines(&path);
        assert_eq!(current.len(), 1, "b writes to the new file: {current:?}");
        assert!(current[0].contains(r#""name":"b2""#));
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_missing_directory_is_an_error_until_it_can_be_created() {
        let dir = temp_dir("blocked");
        // A file where the directory should be.
        let blocker = dir.join("blocked");
        fs::write(&blocker, "").unwrap();
        let mut store = TraceFile::lazy(blocker.join("traces.jsonl"), 1 << 20);
        assert!(store.append(&request("lost")).is_err());
        fs::remove_file(&blocker).unwrap();
        store.append(&request("kept")).unwrap();
        assert_eq!(lines(&blocker.join("traces.jsonl")).len(), 1);
        fs::remove_dir_all(dir).unwrap();
    }
}
