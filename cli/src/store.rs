//! Reading the local trace store: one trace, or a summary of every trace.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use memchr::memmem;

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

/// Lines that contained what was looked for but did not parse, per file.
#[derive(Debug, Default)]
pub(crate) struct Skipped(pub(crate) HashMap<usize, usize>);

impl Skipped {
    /// One note per file on stderr: a cut-short last line is expected after
    /// a crash, and never hides the other lines.
    pub(crate) fn report(&self, files: &[PathBuf]) {
        let mut entries: Vec<_> = self.0.iter().collect();
        entries.sort();
        for (&file, &count) in entries {
            let _ = writeln!(
std::io::stderr(),
                "tracelink: skipped {count} line{} of {} that {} not OTLP/JSON (cut short by a crash, or being written)",
                if count == 1 { "" } else { "s" },
                scan::name(&files[file]),
                if count == 1 { "is" } else { "are" },
            );
        }
    }
}

/// The files of the store at `store`, oldest first.
///
/// # Errors
///
/// When there is no file at all, with what to do about it.
pub(crate) fn files(store: &Path) -> Result<Vec<PathBuf>, String> {
    let files = tracelink::store::files(store);
    if files.is_empty() {
        return Err(format!(
            "no trace store at {}: run a service with OTEL_TRACES_EXPORTER=file (or otlp,file), \
             or `tracelink receive`, or point --store (TRACELINK_TRACES_FILE) at one",
            store.display()
        ));
    }
    Ok(files)
}

/// Every span of `trace_id` in `files`, once each (a span stored twice, by
/// two writers, counts once).
///
/// Only lines holding the trace id's hex are parsed: the rest of the store
/// is searched with `memmem`, in blocks, on every core.
pub(crate) fn load_trace(
    files: &[PathBuf],
    trace_id: [u8; 16],
) -> Result<(Vec<SpanRecord>, Skipped), String> {
    let lower = otlp::hex(&trace_id);
    let upper = lower.to_ascii_uppercase();
    let mut needles = vec![memmem::Finder::new(lower.as_bytes()).into_owned()];
    if upper != lower {
        needles.push(memmem::Finder::new(upper.as_bytes()).into_owned());
    }
    let ranges = scan::ranges(files)?;
    let states = scan::parallel(
        &ranges,
        || (Vec::new(), Skipped::default()),
        |(spans, skipped): &mut (Vec<SpanRecord>, Skipped), block| {
            let (file, block) = (block.file, block.bytes);
            for needle in &needles {
                let mut pos = 0;
                while let Some(hit) = needle.find(&block[pos..]) {
                    let (line, end) = scan::line_at(block, pos + hit);
                    if !parse_trace_line(line, trace_id, spans) {
                        *skipped.0.entry(file).or_default() += 1;
                    }
                    pos = end + 1;
                    if pos >= block.len() {
                        break;
                    }
                }
            }
        },
    )?;
    let mut spans = Vec::new();
    let mut skipped = Skipped::default();
    for (s, k) in states {
        spans.extend(s);
        for (file, count) in k.0 {
            *skipped.0.entry(file).or_default() += count;
        }
    }
    let mut seen = HashSet::new();
    spans.retain(|s| seen.insert(s.span_id));
    spans.sort_by_key(|s| (s.start, s.end));
    Ok((spans, skipped))
}

/// Adds the spans of `trace_id` in `line` to `spans`; false if the line is
/// not OTLP/JSON.
fn parse_trace_line(line: &[u8], trace_id: [u8; 16], spans: &mut Vec<SpanRecord>) -> bool {
    let Ok(request) = serde_json::from_slice::<otlp::Request<'_>>(line) else {
        return false;
    };
    for rs in request.resource_spans {
        let mut service = None;
        for ss in rs.scope_spans {
            for span in ss.spans {
                if decode_hex::<16>(&span.trace_id) != Some(trace_id) {
                    continue;
                }
                let Some(span_id) = decode_hex::<8>(&span.span_id) else {
                    continue;
                };
                let service = service
                    .get_or_insert_with(|| {
                        rs.resource.as_ref().map_or_else(
                            || "unknown_service".into(),
                            super::otlp::Resource::service_name,
                        )
                    })
                    .clone();
                let status = span.status.unwrap_or_default();
                spans.push(SpanRecord {
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
                });
            }
        }
    }
    true
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
    pub(crate) services: Vec<Arc<str>>,
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
        for service in other.services {
            if !self.services.contains(&service) {
                self.services.push(service);
            }
        }
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
            if !summarize_line(line, state) {
                *state.skipped.0.entry(block.file).or_default() += 1;
            }
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
        for (file, count) in state.skipped.0 {
            *skipped.0.entry(file).or_default() += count;
        }
    }
    Ok((traces.into_values().collect(), skipped))
}

fn summarize_line(line: &[u8], state: &mut SummaryState) -> bool {
    let Ok(request) = serde_json::from_slice::<otlp::SummaryRequest<'_>>(line) else {
        return false;
    };
    for rs in request.resource_spans {
        let name = rs.resource.as_ref().map_or_else(
            || "unknown_service".into(),
            super::otlp::Resource::service_name,
        );
        let service = state
            .services
            .entry(name)
            .or_insert_with_key(|name| Arc::from(name.as_str()))
            .clone();
        for ss in rs.scope_spans {
            for span in ss.spans {
                let (Some(trace_id), Some(span_id)) = (
                    decode_hex::<16>(&span.trace_id),
                    decode_hex::<8>(&span.span_id),
                ) else {
                    continue;
                };
                let end = span.end.max(span.start);
                let error = span
                    .status
                    .as_ref()
                    .is_some_and(|s| s.code == otlp::STATUS_ERROR);
                let is_root = span.parent_span_id.is_empty()
                    || decode_hex::<8>(&span.parent_span_id) == Some([0; 8]);
                let entry = (span.start, span.name.into_owned(), service.clone());
                let summary = TraceSummary {
                    trace_id,
                    start: span.start,
                    end,
                    span_ids: vec![span_id],
                    errors: error,
                    root: is_root.then(|| entry.clone()),
                    first: entry,
                    services: vec![service.clone()],
                };
                match state.traces.get_mut(&trace_id) {
                    Some(existing) => existing.merge(summary),
                    None => {
                        state.traces.insert(trace_id, summary);
                    }
                }
            }
        }
    }
    true
}
