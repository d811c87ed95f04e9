//! Reading the local trace store: one trace with its log records, or a
//! summary of every trace.

use std::collections::hash_map::{Entry, RandomState};
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memchr::memmem;
use serde_json::value::RawValue;

use crate::otlp::{self, decode_hex, AnyValue};
use crate::scan;

/// A span as `tracelink show` draws it.
#[derive(Clone, Debug)]
pub(crate) struct SpanRecord {
    pub(crate) span_id: [u8; 8],
    pub(crate) parent: Option<[u8; 8]>,
    pub(crate) name: String,
    pub(crate) service: String,
    pub(crate) kind: i64,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) error: bool,
    pub(crate) status_message: String,
    pub(crate) attributes: Vec<(String, AnyValue)>,
    pub(crate) events: Vec<EventRecord>,
}

#[derive(Clone, Debug)]
pub(crate) struct EventRecord {
    pub(crate) time: u64,
    pub(crate) name: String,
    pub(crate) attributes: Vec<(String, AnyValue)>,
}

/// A log record of the store, as `tracelink show` draws it under its span.
#[derive(Clone, Debug)]
pub(crate) struct LogRecord {
    /// `timeUnixNano`, else `observedTimeUnixNano`, as the specification
    /// recommends; `None` when neither is set.
    pub(crate) time: Option<u64>,
    /// `severityText`, else the name of `severityNumber` (`INFO2`).
    pub(crate) severity: String,
    pub(crate) severity_number: i64,
    pub(crate) body: AnyValue,
    pub(crate) attributes: Vec<(String, AnyValue)>,
    pub(crate) event_name: String,
    /// The span it was written in; `None` for a record of the trace
    /// without one (or with an invalid one).
    pub(crate) span_id: Option<[u8; 8]>,
    pub(crate) service: String,
    /// Where it is in the store: file, line, place in the line; for a
    /// stable order among records of one time.
    pub(crate) place: (usize, u64, usize),
}

impl LogRecord {
    /// Whether it is an error: `severityNumber` `ERROR` or above, or a
    /// level named so.
    pub(crate) fn is_error(&self) -> bool {
        self.severity_number >= otlp::SEVERITY_ERROR
            || matches!(
                self.severity.to_ascii_uppercase().as_str(),
                "ERROR" | "FATAL" | "CRITICAL" | "EMERGENCY" | "ALERT"
            )
    }
}

/// Everything the store holds of one trace.
#[derive(Debug, Default)]
pub(crate) struct Trace {
    /// Each once, by start.
    pub(crate) spans: Vec<SpanRecord>,
    /// Each once, by time (those without one last), then by place.
    pub(crate) records: Vec<LogRecord>,
}

/// What a line holds that could not be read.
enum Bad {
    /// The line is not OTLP/JSON at all.
    Line,
    /// A span of it holds a value that is not, for this reason.
    Span(String),
    /// A log record of it holds a value that is not.
    Record(String),
}

/// What could not be read, per file (by its index in the list of files):
/// lines that are not OTLP/JSON at all, and spans and log records in good
/// lines that hold a value that is not (one out of range, or of the wrong
/// type), with the first reason.
#[derive(Debug, Default)]
pub(crate) struct Skipped {
    lines: HashMap<usize, usize>,
    spans: HashMap<usize, (usize, String)>,
    records: HashMap<usize, (usize, String)>,
}

impl Skipped {
    fn add(&mut self, file: usize, bad: Bad) {
        match bad {
            Bad::Line => *self.lines.entry(file).or_default() += 1,
            Bad::Span(reason) => self.spans.entry(file).or_insert((0, reason)).0 += 1,
            Bad::Record(reason) => self.records.entry(file).or_insert((0, reason)).0 += 1,
        }
    }

    fn merge(&mut self, other: Skipped) {
        for (file, count) in other.lines {
            *self.lines.entry(file).or_default() += count;
        }
        for (mine, theirs) in [
            (&mut self.spans, other.spans),
            (&mut self.records, other.records),
        ] {
            for (file, (count, reason)) in theirs {
                mine.entry(file).or_insert((0, reason)).0 += count;
            }
        }
    }

    /// One note per file on stderr: a cut-short last line is expected after
    /// a crash, and never hides the other lines; a bad value hides its
    /// span, or its log record, alone.
    pub(crate) fn report(&self, files: &[PathBuf]) {
        let plural = |count: usize| if count == 1 { "" } else { "s" };
        let mut stderr = std::io::stderr().lock();
        let mut lines: Vec<_> = self.lines.iter().collect();
        lines.sort();
        for (&file, &count) in lines {
            let _ = writeln!(
                stderr,
                "tracelink: skipped {count} line{} of {} that {} not OTLP/JSON (cut short by a crash, or being written)",
                plural(count),
                scan::name(&files[file]),
                if count == 1 { "is" } else { "are" },
            );
        }
        for (what, skipped) in [("span", &self.spans), ("log record", &self.records)] {
            let mut skipped: Vec<_> = skipped.iter().collect();
            skipped.sort_by_key(|(file, _)| **file);
            for (&file, (count, reason)) in skipped {
                // The reason may quote the value: it is the store's text.
                let _ = writeln!(
                    stderr,
                    "tracelink: skipped {count} {what}{} of {} with a value that is not OTLP/JSON (the first: {})",
                    plural(*count),
                    scan::name(&files[file]),
                    crate::style::escape(reason),
                );
            }
        }
    }
}

/// The files of the store at `store`, oldest first: regular files only. A
/// FIFO, a directory or a device named like a store file (or a link to
/// one) would block the reader, fail it, or never end; it is skipped, with
/// a note on stderr.
///
/// # Errors
///
/// When there is no file at all, with what to do about it.
pub(crate) fn files(store: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files = tracelink::store::files(store);
    // The library leaves the store itself out when it is not a file.
    if !files.iter().any(|f| f == store) && store.exists() {
        files.push(store.to_path_buf());
    }
    files.retain(|file| match scan::not_regular(file) {
        Some(kind) => {
            let _ = writeln!(
                std::io::stderr(),
                "tracelink: skipping {}: {kind}, not a regular file",
                scan::name(file)
            );
            false
        }
        None => true,
    });
    if files.is_empty() {
        return Err(format!(
            "no trace store at {}: run a service with OTEL_TRACES_EXPORTER=file (or otlp,file), \
             or `tracelink receive`, or point --store (TRACELINK_TRACES_FILE) at one",
            store.display()
        ));
    }
    Ok(files)
}

/// What one thread of [`load_trace`] finds: spans, log records with the
/// key they are told apart by, what it skipped.
type Found = (Vec<SpanRecord>, Vec<(u64, LogRecord)>, Skipped);

/// Every span and log record of `trace_id` in `files`, once each (a span
/// stored twice, by two writers or a retried request, counts once, and so
/// does a log record: by its text and its service).
///
/// Only lines holding the trace id's hex are parsed: the rest of the store
/// is searched with `memmem`, in blocks, on every core.
pub(crate) fn load_trace(
    files: &[PathBuf],
    trace_id: [u8; 16],
) -> Result<(Trace, Skipped), String> {
    let lower = otlp::hex(&trace_id);
    let upper = lower.to_ascii_uppercase();
    let mut needles = vec![memmem::Finder::new(lower.as_bytes()).into_owned()];
    if upper != lower {
        needles.push(memmem::Finder::new(upper.as_bytes()).into_owned());
    }
    // One keyed hash for every thread: equal records, equal keys.
    let keys = RandomState::new();
    let ranges = scan::ranges(files)?;
    let states = scan::parallel(
        &ranges,
        || (Vec::new(), Vec::new(), Skipped::default()),
        |state: &mut Found, block| {
            let file = block.file;
            let bytes = block.bytes;
            // A line holding both spellings is parsed once.
            let mut parsed = HashSet::new();
            for needle in &needles {
                let mut pos = 0;
                while let Some(hit) = needle.find(&bytes[pos..]) {
                    let (line, end) = scan::line_at(bytes, pos + hit);
                    if parsed.insert(end) {
                        let place = (file, block.offset.saturating_add(end as u64));
                        parse_trace_line(line, trace_id, &needles, &keys, place, state);
                    }
                    pos = end + 1;
                    if pos >= bytes.len() {
                        break;
                    }
                }
            }
        },
    )?;
    let mut trace = Trace::default();
    let mut skipped = Skipped::default();
    let mut seen_records = HashSet::new();
    for (spans, records, k) in states {
        trace.spans.extend(spans);
        trace.records.extend(
            records
                .into_iter()
                .filter(|(key, _)| seen_records.insert(*key))
                .map(|(_, record)| record),
        );
        skipped.merge(k);
    }
    let mut seen = HashSet::new();
    trace.spans.retain(|s| seen.insert(s.span_id));
    trace.spans.sort_by_key(|s| (s.start, s.end));
    trace
        .records
        .sort_by_key(|r| (r.time.is_none(), r.time, r.place));
    Ok((trace, skipped))
}

/// Adds the spans and log records of `trace_id` in `line`, which ends at
/// `place` (its file, and where in it), to `found`. A line that is not
/// OTLP/JSON is counted skipped, and so is each span or record of the
/// trace that holds a value that is not: that one alone is left out. Only
/// spans and records whose text holds the trace id (one of `needles`) are
/// parsed.
fn parse_trace_line(
    line: &[u8],
    trace_id: [u8; 16],
    needles: &[memmem::Finder<'_>],
    keys: &RandomState,
    place: (usize, u64),
    found: &mut Found,
) {
    let (spans, records, skipped) = found;
    let Ok(request) = serde_json::from_slice::<otlp::RawLine<'_>>(line) else {
        skipped.add(place.0, Bad::Line);
        return;
    };
    let holds_id = |raw: &RawValue| {
        let text = raw.get().as_bytes();
        needles.iter().any(|n| n.find(text).is_some())
    };
    for rs in request.resource_spans {
        let mut service = None;
        for raw in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
            if !holds_id(raw) {
                continue;
            }
            match otlp::parse::<otlp::Span<'_>>(raw) {
                Ok(span) => {
                    let service = service
                        .get_or_insert_with(|| service_name(rs.resource.as_ref()))
                        .clone();
                    spans.extend(span_record(span, trace_id, service));
                }
                Err(reason) => skipped.add(place.0, Bad::Span(reason)),
            }
        }
    }
    let mut index = 0;
    for rl in request.resource_logs {
        let mut service = None;
        for raw in rl.scope_logs.into_iter().flat_map(|sl| sl.log_records) {
            index += 1;
            if !holds_id(raw) {
                continue;
            }
            match otlp::parse::<otlp::LogRecord<'_>>(raw) {
                Ok(record) => {
                    let service: &String =
                        service.get_or_insert_with(|| service_name(rl.resource.as_ref()));
                    let key = keys.hash_one((service.as_str(), raw.get()));
                    let place = (place.0, place.1, index);
                    if let Some(record) = log_record(record, trace_id, service.clone(), place) {
                        records.push((key, record));
                    }
                }
                Err(reason) => skipped.add(place.0, Bad::Record(reason)),
            }
        }
    }
}

/// `service.name` of `resource`, or `unknown_service`.
fn service_name(resource: Option<&otlp::Resource<'_>>) -> String {
    resource.map_or_else(|| "unknown_service".into(), otlp::Resource::service_name)
}

/// `span`, of `service`, if it is of `trace_id` and has a span id.
fn span_record(span: otlp::Span<'_>, trace_id: [u8; 16], service: String) -> Option<SpanRecord> {
    if decode_hex::<16>(&span.trace_id) != Some(trace_id) {
        return None;
    }
    let span_id = decode_hex::<8>(&span.span_id)?;
    let status = span.status.unwrap_or_default();
    Some(SpanRecord {
        span_id,
        parent: decode_hex::<8>(&span.parent_span_id).filter(|p| *p != [0; 8]),
        name: span.name.into_owned(),
        service,
        kind: span.kind,
        start: span.start,
        end: span.end.max(span.start),
        error: status.code == otlp::STATUS_ERROR,
        status_message: status.message.into_owned(),
        attributes: owned(span.attributes),
        events: span
            .events
            .into_iter()
            .map(|e| EventRecord {
                time: e.time,
                name: e.name.into_owned(),
                attributes: owned(e.attributes),
            })
            .collect(),
    })
}

/// `record`, of `service`, found at `place`, if it is of `trace_id`. A
/// span id that is not 16 hex digits, or all zeros, is no span.
fn log_record(
    record: otlp::LogRecord<'_>,
    trace_id: [u8; 16],
    service: String,
    place: (usize, u64, usize),
) -> Option<LogRecord> {
    if decode_hex::<16>(&record.trace_id) != Some(trace_id) {
        return None;
    }
    let severity = if record.severity_text.is_empty() {
        otlp::severity_name(record.severity_number)
    } else {
        record.severity_text.into_owned()
    };
    let time = [record.time, record.observed_time]
        .into_iter()
        .find(|&t| t > 0);
    Some(LogRecord {
        time,
        severity,
        severity_number: record.severity_number,
        body: record.body,
        attributes: owned(record.attributes),
        event_name: record.event_name.into_owned(),
        span_id: decode_hex::<8>(&record.span_id).filter(|s| *s != [0; 8]),
        service,
        place,
    })
}

fn owned(attributes: Vec<otlp::KeyValue<'_>>) -> Vec<(String, AnyValue)> {
    attributes
        .into_iter()
        .map(|kv| (kv.key.into_owned(), kv.value))
        .collect()
}

/// One trace in `tracelink traces`.
#[derive(Clone, Debug)]
pub(crate) struct TraceSummary {
    pub(crate) trace_id: [u8; 16],
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) span_ids: Vec<[u8; 8]>,
    pub(crate) errors: bool,
    /// The root span's (start, name, service), if the store has it.
    pub(crate) root: Option<(u64, String, Arc<str>)>,
    /// The earliest span's, for a trace without its root.
    pub(crate) first: (u64, String, Arc<str>),
    pub(crate) services: HashSet<Arc<str>>,
}

impl TraceSummary {
    fn merge(&mut self, other: TraceSummary) {
        self.start = self.start.min(other.start);
        self.end = self.end.max(other.end);
        self.span_ids.extend(other.span_ids);
        self.errors |= other.errors;
        if let Some(root) = other.root {
            if self.root.as_ref().is_none_or(|r| root.0 < r.0) {
                self.root = Some(root);
            }
        }
        if other.first.0 < self.first.0 {
            self.first = other.first;
        }
        self.services.extend(other.services);
    }

    /// Spans, each counted once.
    pub(crate) fn span_count(&self) -> usize {
        let mut ids = self.span_ids.clone();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    pub(crate) fn duration(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

#[derive(Default)]
struct SummaryState {
    traces: HashMap<[u8; 16], TraceSummary>,
    services: HashMap<String, Arc<str>>,
    skipped: Skipped,
}

/// A summary of every trace in `files`, in no order.
pub(crate) fn summaries(files: &[PathBuf]) -> Result<(Vec<TraceSummary>, Skipped), String> {
    let ranges = scan::ranges(files)?;
    let states = scan::parallel(&ranges, SummaryState::default, |state, block| {
        for line in scan::lines(block.bytes) {
            summarize_line(line, block.file, state);
        }
    })?;
    let mut traces: HashMap<[u8; 16], TraceSummary> = HashMap::new();
    let mut skipped = Skipped::default();
    for state in states {
        for (id, summary) in state.traces {
            match traces.get_mut(&id) {
                Some(existing) => existing.merge(summary),
                None => {
                    traces.insert(id, summary);
                }
            }
        }
        skipped.merge(state.skipped);
    }
    Ok((traces.into_values().collect(), skipped))
}

/// Adds the spans of `line`, of the file numbered `file`, to the state; a
/// line that is not OTLP/JSON, or a span with a bad value, is counted.
fn summarize_line(line: &[u8], file: usize, state: &mut SummaryState) {
    // Lines parse whole but for a few; one that does not is parsed again
    // span by span (each span's JSON read twice then), to lose only the
    // spans with a bad value.
    if let Ok(request) = serde_json::from_slice::<otlp::StrictSummaryRequest<'_>>(line) {
        for rs in request.resource_spans {
            let service = state.service(rs.resource.as_ref());
            for span in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
                state.add(&service, span);
            }
        }
        return;
    }
    let Ok(request) = serde_json::from_slice::<otlp::SummaryRequest<'_>>(line) else {
        state.skipped.add(file, Bad::Line);
        return;
    };
    for rs in request.resource_spans {
        let service = state.service(rs.resource.as_ref());
        for span in rs.scope_spans.into_iter().flat_map(|ss| ss.spans) {
            match span.0 {
                Ok(span) => state.add(&service, span),
                Err(reason) => state.skipped.add(file, Bad::Span(reason)),
            }
        }
    }
}

impl SummaryState {
    /// The service of `resource`, one `Arc` per name.
    fn service(&mut self, resource: Option<&otlp::Resource<'_>>) -> Arc<str> {
        let name = resource.map_or_else(
            || "unknown_service".into(),
            super::otlp::Resource::service_name,
        );
        self.services
            .entry(name)
            .or_insert_with_key(|name| Arc::from(name.as_str()))
            .clone()
    }

    /// Adds `span`, of `service`, to its trace's summary.
    fn add(&mut self, service: &Arc<str>, span: otlp::SummarySpan<'_>) {
        let (Some(trace_id), Some(span_id)) = (
            decode_hex::<16>(&span.trace_id),
            decode_hex::<8>(&span.span_id),
        ) else {
            return;
        };
        let end = span.end.max(span.start);
        let error = span
            .status
            .as_ref()
            .is_some_and(|s| s.code == otlp::STATUS_ERROR);
        let is_root =
            span.parent_span_id.is_empty() || decode_hex::<8>(&span.parent_span_id) == Some([0; 8]);
        let start = span.start;
        let entry = || (start, span.name.to_string(), service.clone());
        match self.traces.entry(trace_id) {
            Entry::Occupied(mut existing) => {
                // In place: most spans change only the counts.
                let trace = existing.get_mut();
                trace.start = trace.start.min(start);
                trace.end = trace.end.max(end);
                trace.span_ids.push(span_id);
                trace.errors |= error;
                if is_root && trace.root.as_ref().is_none_or(|r| start < r.0) {
                    trace.root = Some(entry());
                }
                if start < trace.first.0 {
                    trace.first = entry();
                }
                if !trace.services.contains(service) {
                    trace.services.insert(service.clone());
                }
            }
            Entry::Vacant(vacant) => {
                vacant.insert(TraceSummary {
                    trace_id,
                    start,
                    end,
                    span_ids: vec![span_id],
                    errors: error,
                    root: is_root.then(entry),
                    first: entry(),
                    services: HashSet::from([service.clone()]),
                });
            }
        }
    }
}
