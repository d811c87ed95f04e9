//! A trace as a waterfall: the span tree with offsets, durations and bars on
//! one time scale, each span's events and log records under it in time
//! order, then the log records whose span is not in the store, and the
//! trace's lines from `--logs` files.
//!
//! No line is wider than the width given (`--width`, else `COLUMNS`, else
//! 80): the bar narrows first (to 10 columns at least), then services and
//! names are cut with `…`, and at the narrowest the start and service
//! columns are left out; detail and log lines are cut where they reach the
//! edge, the summary goes on as many lines as it needs. At 80 columns:
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736
//! started 2026-11-21T09:30:00.000000Z · 48.000ms · 3 spans
//! 2 services (shop, payments) · 1 error
//!
//!   SPAN           SERVICE       START  DURATION  |0               48.000ms|
//!   GET /checkout  shop       +0.000ms  48.000ms  |████████████████████████|
//!   ├─ load_cart   shop       +1.000ms  12.000ms  |███████                 |
//!   │        db.system.name=postgresql
//!   └─ charge      payments  +14.000ms  30.000ms  |       ███████████████  | ERROR
//!            ✗ card declined
//!            • +3.000ms payment declined  level=ERROR
//!            ▸ +3.500ms ERROR card declined  card.brand=visa
//! ```
//!
//! Events (`•`) and log records (`▸`, with their severity) under a span
//! are timed from its start; log records whose span is not in the store
//! are listed after the tree, under the span id they name, timed from the
//! trace's start.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::logs::LogLine;
use crate::otlp::{hex, kind_name, AnyValue};
use crate::store::{EventRecord, LogRecord, SpanRecord};
use crate::style::{self, clip, escape, pad, truncate, Style};
use crate::time;

/// Columns of the bar, at most.
const BAR: usize = 40;
/// Columns of the bar, at least.
const MIN_BAR: usize = 10;
/// Attributes shown under a span, at most.
const MAX_ATTRIBUTES: usize = 8;

/// Attribute keys worth a line under the span: what a request, a query or a
/// message was, and why it failed.
fn is_key_attribute(key: &str) -> bool {
    const PREFIXES: &[&str] = &[
        "http.",
        "url.",
        "db.",
        "messaging.",
        "rpc.",
        "server.",
        "exception.",
    ];
    PREFIXES.iter().any(|p| key.starts_with(p)) || matches!(key, "error.type" | "peer.service")
}

/// Event attributes not worth showing.
fn is_quiet_event_attribute(key: &str) -> bool {
    key.starts_with("code.") || matches!(key, "target" | "module_path")
}

/// Levels of tree lines drawn before a name, at most. A span deeper than
/// this shows the levels nearest to it after a `…`: every name stays in
/// sight, and each row costs the same, so a tree is drawn in time linear
/// in its spans whatever its depth (a 50,000-deep chain of parents too).
const MAX_LEVELS: usize = 10;

struct Row {
    index: usize,
    /// Tree lines before the name: `│  ├─ `.
    prefix: String,
    /// Tree lines for the detail lines under the span.
    continuation: String,
    orphan: bool,
}

/// The spans in tree order: each parent before its children, siblings by
/// start time; spans whose parent is not in the store at the top level.
///
/// Depth first with a stack of its own, not by recursion, which a deep
/// tree would overflow; each span is pushed and visited once, and its tree
/// lines are drawn from at most [`MAX_LEVELS`] levels.
fn rows(spans: &[SpanRecord]) -> Vec<Row> {
    let by_id: HashMap<[u8; 8], usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); spans.len()];
    let mut top = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent.and_then(|p| by_id.get(&p)) {
            Some(&parent) if parent != i => children[parent].push(i),
            _ => top.push(i),
        }
    }
    let by_start = |ids: &mut Vec<usize>| ids.sort_by_key(|&i| (spans[i].start, spans[i].end, i));
    by_start(&mut top);
    for ids in &mut children {
        by_start(ids);
    }
    let mut rows = Vec::with_capacity(spans.len());
    let mut visited = vec![false; spans.len()];
    // Whether the span at each depth on the way down, from depth 1, has a
    // sibling after it: `│  ` under it, else blanks.
    let mut more: Vec<bool> = Vec::new();
    // (span, depth, whether it is its parent's last child)
    let mut stack: Vec<(usize, usize, bool)> = top.iter().rev().map(|&i| (i, 0, true)).collect();
    while let Some((index, depth, last)) = stack.pop() {
        if std::mem::replace(&mut visited[index], true) {
            continue;
        }
        more.truncate(depth.saturating_sub(1));
        let kids = std::mem::take(&mut children[index]);
        let prefix = if depth == 0 {
            String::new()
        } else {
            tree_lines(&more, if last { "└─ " } else { "├─ " })
        };
        if depth > 0 {
            more.push(!last);
        }
        let continuation = tree_lines(&more, if kids.is_empty() { "   " } else { "│  " });
        rows.push(Row {
            index,
            prefix,
            continuation,
            orphan: spans[index].parent.is_some_and(|p| !by_id.contains_key(&p)),
        });
        for (k, &kid) in kids.iter().enumerate().rev() {
            stack.push((kid, depth + 1, k == kids.len() - 1));
        }
    }
    // Spans in a parent cycle (a broken store) are still shown.
    for (index, span) in spans.iter().enumerate() {
        if !visited[index] {
            rows.push(Row {
                index,
                prefix: String::new(),
                continuation: "   ".into(),
                orphan: span.parent.is_some(),
            });
        }
    }
    rows
}

/// The tree lines of a row: `more` for the levels above it, then `last`,
/// each three columns; past [`MAX_LEVELS`], `…` and the nearest levels.
fn tree_lines(more: &[bool], last: &str) -> String {
    let shown = MAX_LEVELS - 1;
    let (cut, more) = if more.len() > shown {
        (true, &more[more.len() - (shown - 1)..])
    } else {
        (false, more)
    };
    let mut out = String::with_capacity(3 * MAX_LEVELS * 3);
    if cut {
        out.push_str("…  ");
    }
    for &more in more {
        out.push_str(if more { "│  " } else { "   " });
    }
    out.push_str(last);
    out
}

/// `tree` (tree lines, three columns a level, from [`tree_lines`]) in at
/// most `cells` levels: past them, `…` and the nearest levels, as
/// [`tree_lines`] cuts, so every row of a drawing is cut alike.
fn shorten_tree(tree: &str, cells: usize) -> Cow<'_, str> {
    let chars = tree.chars().count();
    if chars <= 3 * cells {
        return Cow::Borrowed(tree);
    }
    let keep: String = tree.chars().skip(chars - 3 * (cells - 1)).collect();
    Cow::Owned(format!("…  {keep}"))
}

/// The bar of a span on the trace's scale, `width` columns (at least 1).
fn bar(start: u64, end: u64, t0: u64, total: u64, width: usize) -> String {
    let width = width.max(1);
    let scale = |t: u64| (u128::from(t.saturating_sub(t0)) * width as u128) as f64 / total as f64;
    let from = (scale(start).floor() as usize).min(width - 1);
    let to = (scale(end).ceil() as usize).clamp(from + 1, width);
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(' ', from));
    out.extend(std::iter::repeat_n('█', to - from));
    out.extend(std::iter::repeat_n(' ', width - to));
    out
}

/// The header over the bars: `|0       48.000ms|`, `width` columns between
/// the `|`s; without the `0` when there is no room for a space after it.
fn scale_header(end: &str, width: usize) -> String {
    let len = end.chars().count();
    if len + 2 <= width {
        format!("|0{}{end}|", " ".repeat(width - 1 - len))
    } else {
        format!("|{:>width$}|", truncate(end, width))
    }
}

/// The widths of the columns of a span row; `None` for a column left out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Layout {
    /// Tree lines and name.
    name: usize,
    service: Option<usize>,
    start: Option<usize>,
    duration: usize,
    /// Between the `|`s.
    bar: usize,
    /// Room for ` ERROR` after the bar.
    error: bool,
}

/// How a layout too wide for the terminal is narrowed: step by step, each
/// only as far as needed. The bar first, as it keeps its shape, then
/// services, names, and at last the start offsets (the bar shows them)
/// and services.
#[derive(Clone, Copy)]
enum Narrow {
    Bar(usize),
    Service(usize),
    Name(usize),
    NoStart,
    NoService,
}

/// The steps of narrowing, in order.
const NARROWING: [Narrow; 10] = [
    Narrow::Bar(24),
    Narrow::Service(12),
    Narrow::Name(24),
    Narrow::Bar(16),
    Narrow::Service(7),
    Narrow::Name(12),
    Narrow::Bar(MIN_BAR),
    Narrow::NoStart,
    Narrow::NoService,
    Narrow::Name(4),
];

impl Layout {
    /// Every column as wide as what it shows needs (names and services up
    /// to a limit), the bar [`BAR`] wide.
    fn natural(spans: &[SpanRecord], rows: &[Row], scale: Scale, t0: u64) -> Self {
        let names = rows
            .iter()
            .map(|r| format!("{}{}", r.prefix, spans[r.index].name));
        let starts = spans
            .iter()
            .map(|s| scale.offset(i128::from(s.start) - i128::from(t0)));
        let durations = spans.iter().map(|s| scale.duration(s.end - s.start));
        Self {
            name: widest(names, "SPAN".len()).min(56),
            service: Some(widest(spans.iter().map(|s| s.service.clone()), "SERVICE".len()).min(24)),
            start: Some(widest(starts, "START".len())),
            duration: widest(durations, "DURATION".len()),
            bar: BAR,
            error: spans.iter().any(|s| s.error),
        }
    }

    /// The columns a span row takes: the marker, the cells two spaces
    /// apart, the bar between `|`s, ` ERROR`.
    fn width(&self) -> usize {
        let cell = |width: Option<usize>| width.map_or(0, |w| w + 2);
        2 + cell(Some(self.name))
            + cell(self.service)
            + cell(self.start)
            + cell(Some(self.duration))
            + self.bar
            + 2
            + if self.error { " ERROR".len() } else { 0 }
    }

    /// `self` narrowed by [`NARROWING`] until it fits in `width` (at
    /// least [`style::MIN_WIDTH`]), then widened back into what is left.
    fn fit(self, width: usize) -> Self {
        let mut layout = self;
        for step in NARROWING {
            let over = layout.width().saturating_sub(width);
            if over == 0 {
                break;
            }
            let narrow = |column: &mut usize, least: usize| {
                *column -= over.min(column.saturating_sub(least));
            };
            match step {
                Narrow::Bar(least) => narrow(&mut layout.bar, least),
                Narrow::Service(least) => {
                    if let Some(service) = &mut layout.service {
                        narrow(service, least);
                    }
                }
                Narrow::Name(least) => narrow(&mut layout.name, least),
                Narrow::NoStart => layout.start = None,
                Narrow::NoService => layout.service = None,
            }
        }
        layout.widen(self, width)
    }

    /// `self` with the columns `width` leaves room for given back, up to
    /// their `natural` widths: names first, then services and the bar.
    fn widen(mut self, natural: Self, width: usize) -> Self {
        let mut room = width.saturating_sub(self.width());
        let mut widen = |column: &mut usize, most: usize| {
            let more = room.min(most.saturating_sub(*column));
            *column += more;
            room -= more;
        };
        widen(&mut self.name, natural.name);
        if let (Some(service), Some(most)) = (&mut self.service, natural.service) {
            widen(service, most);
        }
        widen(&mut self.bar, natural.bar);
        self
    }
}

/// The characters of the longest of `texts`, at least `least`.
fn widest(texts: impl Iterator<Item = String>, least: usize) -> usize {
    texts
        .map(|t| t.chars().count())
        .max()
        .unwrap_or(0)
        .max(least)
}

/// A span row or the header: `marker`, the `cells` two spaces apart
/// (`None`s left out), then `bar` and what is `after` it.
fn columns(marker: &str, cells: [Option<String>; 4], bar: &str, after: &str) -> String {
    let mut line = marker.to_owned();
    for cell in cells.iter().flatten() {
        line.push_str(cell);
        line.push_str("  ");
    }
    line.push_str(bar);
    line.push_str(after);
    line
}

/// `pieces` joined by ` · `, on as few lines of `width` as they go on; a
/// piece wider than a line is cut.
fn wrap(pieces: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for piece in pieces {
        match lines.last_mut() {
            Some(line) if line.chars().count() + 3 + piece.chars().count() <= width => {
                line.push_str(" · ");
                line.push_str(piece);
            }
            _ => lines.push(truncate(piece, width)),
        }
    }
    lines
}

/// `line`, cut to `width` columns, and a newline.
fn push_line(out: &mut String, line: &str, width: usize) {
    out.push_str(&clip(line, width));
    out.push('\n');
}

/// One unit for every time in a trace's view, chosen by its length, so
/// columns line up: `+1.100ms`, `12.310ms`.
#[derive(Clone, Copy)]
struct Scale {
    nanos: f64,
    unit: &'static str,
}

impl Scale {
    fn for_total(total: u64) -> Self {
        let (nanos, unit) = if total < 1_000_000 {
            (1e3, "µs")
        } else if total < 10_000_000_000 {
            (1e6, "ms")
        } else {
            (1e9, "s")
        };
        Self { nanos, unit }
    }

    fn duration(self, ns: u64) -> String {
        format!("{:.3}{}", ns as f64 / self.nanos, self.unit)
    }

    fn offset(self, ns: i128) -> String {
        let sign = if ns < 0 { '-' } else { '+' };
        format!(
            "{sign}{:.3}{}",
            ns.unsigned_abs() as f64 / self.nanos,
            self.unit
        )
    }
}

fn value(value: &AnyValue) -> String {
    value_within(value, 80)
}

/// `value` on one line (`⏎` for a newline), escaped, in at most `max`
/// characters; only its first `max + 1` are looked at, so a huge value
/// costs no more than a short one past its `to_string`.
fn value_within(value: &AnyValue, max: usize) -> String {
    let text = value.to_string();
    let head: String = text.chars().take(max + 1).collect();
    truncate(&escape(&head.replace('\n', "⏎")), max)
}

fn escaped(text: &str) -> String {
    escape(text).into_owned()
}

/// `span` with its strings safe for the terminal (attribute values are
/// escaped by [`value`]).
fn escaped_span(span: &SpanRecord) -> SpanRecord {
    SpanRecord {
        name: escaped(&span.name),
        service: escaped(&span.service),
        status_message: escaped(&span.status_message),
        attributes: escaped_keys(&span.attributes),
        events: span
            .events
            .iter()
            .map(|e| EventRecord {
                time: e.time,
                name: escaped(&e.name),
                attributes: escaped_keys(&e.attributes),
            })
            .collect(),
        ..span.clone()
    }
}

fn escaped_keys(attributes: &[(String, AnyValue)]) -> Vec<(String, AnyValue)> {
    attributes
        .iter()
        .map(|(key, v)| (escaped(key), v.clone()))
        .collect()
}

/// `record` with its strings safe for the terminal (its body and values
/// are escaped by [`value_within`]).
fn escaped_record(record: &LogRecord) -> LogRecord {
    LogRecord {
        severity: escaped(&record.severity),
        event_name: escaped(&record.event_name),
        service: escaped(&record.service),
        attributes: escaped_keys(&record.attributes),
        ..record.clone()
    }
}

/// `log` with its strings safe for the terminal.
fn escaped_log(log: &LogLine) -> LogLine {
    LogLine {
        level: escaped(&log.level),
        message: escaped(&log.message),
        span_name: log.span_name.as_deref().map(escaped),
        fields: log
            .fields
            .iter()
            .map(|(key, v)| (escaped(key), escaped(v)))
            .collect(),
        ..log.clone()
    }
}

/// Renders `spans` (one trace, sorted or not), its log `records` from the
/// store (in time order) and its `logs` lines, no line wider than `width`
/// columns; `highlight` marks a span, its records and its log lines with
/// `>`. Control characters in what they hold are shown escaped, never sent
/// to the terminal. With no spans, the records alone are listed.
pub(crate) fn render(
    trace_id: [u8; 16],
    spans: &[SpanRecord],
    records: &[LogRecord],
    logs: Option<&[LogLine]>,
    highlight: Option<[u8; 8]>,
    style: Style,
    width: usize,
) -> String {
    let spans: &[SpanRecord] = &spans.iter().map(escaped_span).collect::<Vec<_>>();
    let records: &[LogRecord] = &records.iter().map(escaped_record).collect::<Vec<_>>();
    let logs: Option<Vec<LogLine>> = logs.map(|logs| logs.iter().map(escaped_log).collect());
    let logs = logs.as_deref();
    let mut out = String::new();
    let record_times = || records.iter().filter_map(|r| r.time);
    let (t0, t1) = if spans.is_empty() {
        let t0 = record_times().min().unwrap_or(0);
        (t0, record_times().max().unwrap_or(t0))
    } else {
        let t0 = spans.iter().map(|s| s.start).min().unwrap_or(0);
        (t0, spans.iter().map(|s| s.end).max().unwrap_or(t0))
    };
    let total = t1.saturating_sub(t0).max(1);
    // In order of appearance, each once.
    let mut seen = HashSet::new();
    let services: Vec<&str> = spans
        .iter()
        .map(|s| s.service.as_str())
        .filter(|s| seen.insert(*s))
        .collect();

    push_line(
        &mut out,
        &style.paint(style::BOLD, &format!("trace {}", hex(&trace_id))),
        width,
    );
    for line in wrap(&summary(spans, records, t0, t1, &services), width) {
        push_line(&mut out, &line, width);
    }
    out.push('\n');
    let (by_span, orphans) = records_by_span(spans, records);

    let rows = rows(spans);
    let scale = Scale::for_total(total);
    let layout = Layout::natural(spans, &rows, scale, t0).fit(width);
    let service_index: HashMap<&str, usize> =
        services.iter().enumerate().map(|(i, s)| (*s, i)).collect();

    let header = columns(
        "  ",
        [
            Some(pad("SPAN", layout.name)),
            layout.service.map(|w| pad(&truncate("SERVICE", w), w)),
            layout.start.map(|w| format!("{:>w$}", "START")),
            Some(format!("{:>w$}", "DURATION", w = layout.duration)),
        ],
        &style.paint(
            style::DIM,
            &scale_header(&scale.duration(total), layout.bar),
        ),
        "",
    );
    if !spans.is_empty() {
        push_line(&mut out, &header, width);
    }
    // Tree lines take half the name column at most, so deep names show.
    let tree_cells = (layout.name / 2 / 3).clamp(1, MAX_LEVELS);
    for row in &rows {
        let span = &spans[row.index];
        let marked = highlight == Some(span.span_id);
        let prefix = shorten_tree(&row.prefix, tree_cells);
        let name = truncate(&format!("{prefix}{}", span.name), layout.name);
        let tree_chars = prefix.chars().count();
        let split = name
            .char_indices()
            .nth(tree_chars)
            .map_or(name.len(), |(i, _)| i);
        let (tree, own) = name.split_at(split);
        let own_painted = if span.error {
            style.paint(style::BOLD_RED, own)
        } else {
            style.paint(style::BOLD, own)
        };
        let color = Style::service_color(
            service_index
                .get(span.service.as_str())
                .copied()
                .unwrap_or(0),
        );
        let line = columns(
            if marked { "> " } else { "  " },
            [
                Some(format!(
                    "{}{}",
                    style.paint(style::DIM, tree),
                    pad_painted(&own_painted, own, layout.name - tree.chars().count())
                )),
                layout
                    .service
                    .map(|w| style.paint(color, &pad(&truncate(&span.service, w), w))),
                layout.start.map(|w| {
                    format!(
                        "{:>w$}",
                        scale.offset(i128::from(span.start) - i128::from(t0))
                    )
                }),
                Some(format!(
                    "{:>w$}",
                    scale.duration(span.end - span.start),
                    w = layout.duration
                )),
            ],
            &format!(
                "|{}|",
                style.paint(color, &bar(span.start, span.end, t0, total, layout.bar))
            ),
            &if span.error {
                format!(" {}", style.paint(style::BOLD_RED, "ERROR"))
            } else {
                String::new()
            },
        );
        let line = if marked && style.color {
            style.paint(style::REVERSE, &line)
        } else {
            line
        };
        push_line(&mut out, &line, width);

        let detail = |out: &mut String, text: String| {
            let line = format!(
                "{}{}   {}",
                if marked { "> " } else { "  " },
                style.paint(style::DIM, &shorten_tree(&row.continuation, tree_cells)),
                text
            );
            push_line(out, &line, width);
        };
        if row.orphan {
            let parent = span.parent.map(|p| hex(&p)).unwrap_or_default();
            detail(
                &mut out,
                style.paint(
                    style::YELLOW,
                    &format!("⚠ parent {parent} is not in the store"),
                ),
            );
        }
        if span.error {
            let message = if span.status_message.is_empty() {
                "✗ ERROR".to_owned()
            } else {
                format!("✗ {}", span.status_message)
            };
            detail(&mut out, style.paint(style::RED, &message));
        }
        let mut attributes: Vec<String> = Vec::new();
        let kind = kind_name(span.kind);
        if !kind.is_empty() && kind != "internal" {
            attributes.push(format!("kind={kind}"));
        }
        attributes.extend(
            span.attributes
                .iter()
                .filter(|(key, _)| is_key_attribute(key))
                .take(MAX_ATTRIBUTES)
                .map(|(key, v)| format!("{key}={}", value(v))),
        );
        if !attributes.is_empty() {
            detail(&mut out, style.paint(style::DIM, &attributes.join("  ")));
        }
        let own_records = by_span.get(&span.span_id).map_or(&[][..], Vec::as_slice);
        for entry in timeline(&span.events, own_records) {
            let text = match entry {
                Timed::Event(event) => event_text(event, scale, span.start, style),
                Timed::Record(record) => {
                    let at = at(record.time, scale, span.start);
                    record_text(record, &at, None, style, width)
                }
            };
            detail(&mut out, text);
        }
    }

    let frame = Frame {
        style,
        width,
        scale,
        t0,
    };
    if !orphans.is_empty() {
        render_orphans(&mut out, frame, &orphans, highlight);
    }
    if let Some(logs) = logs {
        render_logs(&mut out, frame, spans, logs, highlight, layout.name);
    }
    out
}

/// The records of each span in `spans`, and the others: of a span not in
/// the store, or of none. Each list keeps the order of `records`.
fn records_by_span<'a>(
    spans: &[SpanRecord],
    records: &'a [LogRecord],
) -> (HashMap<[u8; 8], Vec<&'a LogRecord>>, Vec<&'a LogRecord>) {
    let ids: HashSet<[u8; 8]> = spans.iter().map(|s| s.span_id).collect();
    let mut by_span: HashMap<[u8; 8], Vec<&LogRecord>> = HashMap::new();
    let mut orphans = Vec::new();
    for record in records {
        match record.span_id {
            Some(id) if ids.contains(&id) => by_span.entry(id).or_default().push(record),
            _ => orphans.push(record),
        }
    }
    (by_span, orphans)
}

/// What happened in a span: an event, or a log record.
enum Timed<'a> {
    Event(&'a EventRecord),
    Record(&'a LogRecord),
}

/// `events` and `records` in one time order; records without a time
/// last, and an event before a record of the same time.
fn timeline<'a>(events: &'a [EventRecord], records: &[&'a LogRecord]) -> Vec<Timed<'a>> {
    let mut entries: Vec<(u64, usize, Timed<'a>)> = events
        .iter()
        .map(|e| (e.time, 0, Timed::Event(e)))
        .chain(
            records
                .iter()
                .map(|r| (r.time.unwrap_or(u64::MAX), 1, Timed::Record(r))),
        )
        .collect();
    // Stable: entries of one time keep their order.
    entries.sort_by_key(|(time, kind, _)| (*time, *kind));
    entries.into_iter().map(|(_, _, entry)| entry).collect()
}

/// A time on `scale` from `from`: `+3.000ms`; `?` for none.
fn at(time: Option<u64>, scale: Scale, from: u64) -> String {
    time.map_or_else(
        || "?".to_owned(),
        |t| scale.offset(i128::from(t) - i128::from(from)),
    )
}

/// An event's detail line: `• +3.000ms name  key=value`, red for an
/// exception or an error.
fn event_text(event: &EventRecord, scale: Scale, from: u64, style: Style) -> String {
    let mut text = format!(
        "• {} {}",
        scale.offset(i128::from(event.time) - i128::from(from)),
        event.name
    );
    for (key, v) in event
        .attributes
        .iter()
        .filter(|(k, _)| !is_quiet_event_attribute(k))
    {
        let _ = write!(text, "  {key}={}", value(v));
    }
    let error = event.name == "exception"
        || event
            .attributes
            .iter()
            .any(|(k, v)| k == "level" && v.to_string() == "ERROR");
    if error {
        style.paint(style::RED, &text)
    } else {
        text
    }
}

/// A log record's line: `▸ +3.500ms ERROR body  key=value`, its
/// severity coloured, with `service` after it when given (for records not
/// under their span); built only as far as `width` columns show.
fn record_text(
    record: &LogRecord,
    at: &str,
    service: Option<&str>,
    style: Style,
    width: usize,
) -> String {
    let severity = if record.severity.is_empty() {
        "-"
    } else {
        &record.severity
    };
    let color = if record.is_error() {
        style::BOLD_RED
    } else {
        Style::level_color(severity)
    };
    let mut text = String::new();
    if let Some(service) = service {
        text.push_str(&style.paint(style::DIM, &truncate(service, 24)));
        text.push_str("  ");
    }
    if !record.event_name.is_empty() {
        text.push_str(&truncate(&record.event_name, width));
        if record.body != AnyValue::Empty {
            text.push_str(": ");
        }
    }
    text.push_str(&value_within(&record.body, width));
    for (key, v) in record
        .attributes
        .iter()
        .filter(|(k, _)| !is_quiet_event_attribute(k))
    {
        if style::visible_width(&text) > width {
            break;
        }
        let _ = write!(text, "  {}={}", truncate(key, width), value(v));
    }
    format!(
        "▸ {at} {} {text}",
        style.paint(color, &pad(&truncate(severity, 5), 5))
    )
}

/// The log records whose span is not in the store, after the tree: under
/// the span id they name, each span's in time order, the spans by their
/// first record; those of no span last. Timed from the trace's start.
fn render_orphans(
    out: &mut String,
    frame: Frame,
    orphans: &[&LogRecord],
    highlight: Option<[u8; 8]>,
) {
    let Frame {
        style,
        width,
        scale,
        t0,
    } = frame;
    let mut groups: Vec<(Option<[u8; 8]>, Vec<&LogRecord>)> = Vec::new();
    let mut index: HashMap<Option<[u8; 8]>, usize> = HashMap::new();
    for &record in orphans {
        let i = *index.entry(record.span_id).or_insert_with(|| {
            groups.push((record.span_id, Vec::new()));
            groups.len() - 1
        });
        groups[i].1.push(record);
    }
    // Those of no span last; the rest keep their order.
    groups.sort_by_key(|(span, _)| span.is_none());
    out.push('\n');
    push_line(
        out,
        &style.paint(
            style::BOLD,
            &format!(
                "log records not under a span of the store ({})",
                orphans.len()
            ),
        ),
        width,
    );
    for (span, records) in &groups {
        let marked = highlight.is_some() && *span == highlight;
        let marker = if marked { "> " } else { "  " };
        let title = match span {
            Some(id) => format!("⚠ span {} is not in the store", hex(id)),
            None => "no span".to_owned(),
        };
        push_line(
            out,
            &format!("{marker}{}", style.paint(style::YELLOW, &title)),
            width,
        );
        for record in records {
            let at = at(record.time, scale, t0);
            let text = record_text(record, &at, Some(&record.service), style, width);
            push_line(out, &format!("{marker}   {text}"), width);
        }
    }
}

/// The summary under the trace id, in pieces: start, duration, spans,
/// services, errors, log records.
fn summary(
    spans: &[SpanRecord],
    records: &[LogRecord],
    t0: u64,
    t1: u64,
    services: &[&str],
) -> Vec<String> {
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    let mut pieces = vec![
        format!("started {}", time::rfc3339(t0, 6)),
        time::duration(t1 - t0),
        format!("{} span{}", spans.len(), plural(spans.len())),
    ];
    if !services.is_empty() {
        pieces.push(format!(
            "{} service{} ({})",
            services.len(),
            plural(services.len()),
            services.join(", ")
        ));
    }
    let errors = spans.iter().filter(|s| s.error).count();
    if errors > 0 {
        pieces.push(format!("{errors} error{}", plural(errors)));
    }
    if !records.is_empty() {
        pieces.push(format!(
            "{} log record{}",
            records.len(),
            plural(records.len())
        ));
    }
    pieces
}

/// What the parts of a drawing share: how it is painted, how wide, and its
/// time scale from the trace's start `t0`.
#[derive(Clone, Copy)]
struct Frame {
    style: Style,
    width: usize,
    scale: Scale,
    t0: u64,
}

/// The log lines section: time, level, span (at most `name_width`
/// columns, and half of what the message may have), message and fields.
fn render_logs(
    out: &mut String,
    frame: Frame,
    spans: &[SpanRecord],
    logs: &[LogLine],
    highlight: Option<[u8; 8]>,
    name_width: usize,
) {
    let Frame {
        style,
        width,
        scale,
        t0,
    } = frame;
    let names: HashMap<[u8; 8], &str> =
        spans.iter().map(|s| (s.span_id, s.name.as_str())).collect();
    out.push('\n');
    push_line(
        out,
        &style.paint(
            style::BOLD,
            &format!(
                "logs ({} line{})",
                logs.len(),
                if logs.len() == 1 { "" } else { "s" }
            ),
        ),
        width,
    );
    if logs.is_empty() {
        push_line(out, "  no log line of this trace in the given files", width);
    }
    let at = |log: &LogLine| {
        log.time.map_or_else(
            || "?".to_owned(),
            |t| scale.offset(i128::from(t) - i128::from(t0)),
        )
    };
    let at_width = widest(logs.iter().map(at), 1);
    // The marker, time, level and the gaps after them.
    let fixed = 2 + at_width + 2 + 5 + 2 + 2;
    let label_width = name_width
        .min(32)
        .min(width.saturating_sub(fixed) / 2)
        .max(1);
    for log in logs {
        let marked = highlight.is_some() && log.span_id == highlight;
        let label = match log.span_id {
            Some(id) => match names.get(&id) {
                Some(name) => (*name).to_owned(),
                None => format!(
                    "{} (span {}… not in trace)",
                    log.span_name.as_deref().unwrap_or("?"),
                    &hex(&id)[..8]
                ),
            },
            None => "-".to_owned(),
        };
        let mut text = log.message.clone();
        for (key, v) in &log.fields {
            let _ = write!(text, "  {key}={}", truncate(v, 80));
        }
        let level = pad(&truncate(&log.level, 5), 5);
        let line = format!(
            "{}{:>at_width$}  {}  {}  {}",
            if marked { "> " } else { "  " },
            at(log),
            style.paint(Style::level_color(&log.level), &level),
            style.paint(
                style::DIM,
                &pad(&truncate(&label, label_width), label_width)
            ),
            text
        );
        let line = if marked && style.color {
            style.paint(style::REVERSE, &line)
        } else {
            line
        };
        push_line(out, &line, width);
    }
}

/// Pads painted text by its unpainted width.
fn pad_painted(painted: &str, plain: &str, width: usize) -> String {
    let mut out = painted.to_owned();
    out.extend(std::iter::repeat_n(
        ' ',
        width.saturating_sub(plain.chars().count()),
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(id: u8, parent: Option<u8>, name: &str, start: u64, end: u64) -> SpanRecord {
        SpanRecord {
            span_id: [id; 8],
            parent: parent.map(|p| [p; 8]),
            name: name.into(),
            service: "svc".into(),
            kind: 1,
            start,
            end,
            error: false,
            status_message: String::new(),
            attributes: Vec::new(),
            events: Vec::new(),
        }
    }

    #[test]
    fn tree_order_with_orphans_at_the_top_level() {
        let spans = vec![
            span(1, None, "root", 0, 100),
            span(3, Some(1), "second", 50, 60),
            span(2, Some(1), "first", 10, 20),
            span(4, Some(2), "grandchild", 11, 12),
            span(5, Some(9), "orphan", 5, 6),
        ];
        let rows = rows(&spans);
        let order: Vec<(&str, &str, bool)> = rows
            .iter()
            .map(|r| (spans[r.index].name.as_str(), r.prefix.as_str(), r.orphan))
            .collect();
        assert_eq!(
            order,
            [
                ("root", "", false),
                ("first", "├─ ", false),
                ("grandchild", "│  └─ ", false),
                ("second", "└─ ", false),
                ("orphan", "", true),
            ]
        );
    }

    /// `n` spans, each the parent of the next, ids from 1.
    fn chain(n: usize) -> Vec<SpanRecord> {
        (0..n as u64)
            .map(|i| {
                let mut span = span(0, None, &format!("s{i}"), i, 2 * n as u64 - i);
                span.span_id = (i + 1).to_be_bytes();
                span.parent = (i > 0).then(|| i.to_be_bytes());
                span
            })
            .collect()
    }

    /// The work of drawing a tree is linear in its spans: each span is
    /// visited once, and its tree lines are at most `MAX_LEVELS` cells,
    /// however deep it is.
    #[test]
    fn a_deep_chain_is_visited_once_with_bounded_tree_lines() {
        let n = 50_000;
        let spans = chain(n);
        let rows = rows(&spans);
        let order: Vec<usize> = rows.iter().map(|r| r.index).collect();
        assert_eq!(
            order,
            (0..n).collect::<Vec<_>>(),
            "each span once, in order"
        );
        let cells = |text: &str| text.chars().count().div_ceil(3);
        let work: usize = rows
            .iter()
            .map(|r| r.prefix.chars().count() + r.continuation.chars().count())
            .sum();
        assert!(work <= n * 2 * 3 * MAX_LEVELS, "{work} characters");
        for row in &rows {
            assert!(cells(&row.prefix) <= MAX_LEVELS, "{:?}", row.prefix);
            assert!(cells(&row.continuation) <= MAX_LEVELS);
        }
        assert_eq!(rows[1].prefix, "└─ ");
        assert_eq!(rows[2].prefix, "   └─ ");
        assert_eq!(rows[10].prefix, format!("{}└─ ", "   ".repeat(9)));
        // Deeper, the nearest levels after a `…`, the same for every row.
        let deep = format!("…  {}└─ ", "   ".repeat(MAX_LEVELS - 2));
        assert_eq!(rows[11].prefix, deep);
        assert_eq!(rows[n - 1].prefix, deep);
        assert_eq!(rows[n - 1].continuation, format!("…  {}", "   ".repeat(9)));
    }

    /// Past `MAX_LEVELS`, the lines of the nearest levels still join
    /// siblings.
    #[test]
    fn deep_siblings_keep_their_tree_lines() {
        // s0 to s13, each the parent of the next; c100 under s13, and
        // c101 after s13 under s12.
        let mut spans = chain(14);
        for (id, parent, start) in [(100u64, 14u64, 20), (101, 13, 30)] {
            let mut child = span(0, None, &format!("c{id}"), start, 40);
            child.span_id = id.to_be_bytes();
            child.parent = Some(parent.to_be_bytes());
            spans.push(child);
        }
        let rows = rows(&spans);
        let lines: Vec<String> = rows
            .iter()
            .map(|r| format!("{}{}", r.prefix, spans[r.index].name))
            .collect();
        let blank = |n: usize| "   ".repeat(n);
        assert_eq!(
            lines[12..],
            [
                format!("…  {}└─ s12", blank(8)),
                format!("…  {}├─ s13", blank(8)),
                format!("…  {}│  └─ c100", blank(7)),
                format!("…  {}└─ c101", blank(8)),
            ]
        );
    }

    #[test]
    fn tree_lines_shorten_alike_from_the_left() {
        assert_eq!(shorten_tree("│  └─ ", 4), "│  └─ ");
        assert_eq!(shorten_tree("│     │  └─ ", 2), "…  └─ ");
        assert_eq!(shorten_tree("…  │  │  └─ ", 3), "…  │  └─ ");
        assert_eq!(shorten_tree("└─ ", 1), "└─ ");
    }

    #[test]
    fn a_parent_cycle_still_shows_every_span() {
        let spans = vec![span(1, Some(2), "a", 0, 1), span(2, Some(1), "b", 0, 1)];
        assert_eq!(rows(&spans).len(), 2);
    }

    #[test]
    fn bars_scale_to_the_trace() {
        assert_eq!(bar(0, 100, 0, 100, BAR), "█".repeat(BAR));
        let half = bar(50, 100, 0, 100, BAR);
        assert_eq!(
            half,
            format!("{}{}", " ".repeat(BAR / 2), "█".repeat(BAR / 2))
        );
        // Never empty, never past the end.
        assert_eq!(
            bar(100, 100, 0, 100, BAR)
                .chars()
                .filter(|&c| c == '█')
                .count(),
            1
        );
        assert_eq!(bar(0, 0, 0, 1, BAR).chars().count(), BAR);
        assert_eq!(bar(0, 100, 0, 100, MIN_BAR), "█".repeat(MIN_BAR));
        assert_eq!(
            bar(50, 100, 0, 100, 12),
            format!("{}{}", " ".repeat(6), "█".repeat(6))
        );
    }

    const MS: u64 = 1_000_000;

    /// A log record of span `span_id`, at `time` ns.
    fn record(time: Option<u64>, span_id: Option<u8>, severity: &str, body: &str) -> LogRecord {
        LogRecord {
            time,
            severity: severity.into(),
            severity_number: 0,
            body: AnyValue::String(body.into()),
            attributes: Vec::new(),
            event_name: String::new(),
            span_id: span_id.map(|id| [id; 8]),
            service: "svc".into(),
            place: (0, time.unwrap_or(0), 0),
        }
    }

    /// A trace with every kind of line long: names, services, attributes,
    /// an event, a status message, a deep tree, an orphan; log records
    /// under spans, of a span not in the trace, of none; and log lines.
    fn long_trace() -> (Vec<SpanRecord>, Vec<LogRecord>, Vec<LogLine>) {
        let long = "a-rather-long-name-for-a-span-that-goes-on-and-on-and-on";
        let mut root = span(
            1,
            None,
            "GET /api/v1/customers/{customer_id}/orders",
            0,
            100 * MS,
        );
        root.service = "checkout-frontend-with-a-long-service-name".into();
        root.kind = 2;
        root.attributes = vec![
            ("http.request.method".into(), AnyValue::String("GET".into())),
            (
                "url.full".into(),
                AnyValue::String(format!("https://example.com/{}", "x".repeat(120))),
            ),
        ];
        let mut child = span(2, Some(1), long, 10 * MS, 60 * MS);
        child.error = true;
        child.status_message = format!("card declined: {}", "reason ".repeat(20));
        child.events = vec![EventRecord {
            time: 20 * MS,
            name: "payment declined".into(),
            attributes: vec![("detail".into(), AnyValue::String("y".repeat(150)))],
        }];
        let mut spans = vec![root, child];
        // A deep tree of long names.
        for id in 3..12u8 {
            let mut deep = span(id, Some(id - 1), long, u64::from(id) * MS, 90 * MS);
            deep.service = format!("service-number-{id}-of-the-many");
            spans.push(deep);
        }
        spans.push(span(20, Some(99), "orphan", 95 * MS, 99 * MS));
        let log = |time: u64, span_id: Option<[u8; 8]>, message: String| LogLine {
            time: Some(time),
            level: "ERROR".into(),
            message,
            trace_id: Some([7; 16]),
            span_id,
            span_name: Some("gone".into()),
            fields: vec![("key".into(), "v".repeat(90))],
            file: 0,
            position: time,
        };
        let logs = vec![
            log(5 * MS, Some([2; 8]), "m".repeat(200)),
            log(6 * MS, Some([42; 8]), "not in the trace".into()),
            log(7 * MS, None, "no span".into()),
        ];
        let mut records = vec![
            record(Some(21 * MS), Some(2), "ERROR", &"b".repeat(300)),
            record(
                Some(12 * MS),
                Some(42),
                "INFO",
                "of a span not in the trace",
            ),
            record(None, None, "WARNING-LONG-LEVEL", "no span, no time"),
        ];
        records[0].attributes = (0..50)
            .map(|i| (format!("attribute.{i}"), AnyValue::String("z".repeat(100))))
            .collect();
        records[0].service = "s".repeat(100);
        records[1].service = "a-service-whose-name-is-much-longer-than-its-column".into();
        (spans, records, logs)
    }

    #[test]
    fn no_line_is_wider_than_the_width() {
        let (spans, records, logs) = long_trace();
        for width in [40, 60, 80, 100, 120, 200] {
            for color in [false, true] {
                for highlight in [None, Some([2; 8])] {
                    let out = render(
                        [7; 16],
                        &spans,
                        &records,
                        Some(&logs),
                        highlight,
                        Style { color },
                        width,
                    );
                    for line in out.lines() {
                        assert!(
                            style::visible_width(line) <= width,
                            "{width} columns, colour {color}: {} in\n{line}",
                            style::visible_width(line)
                        );
                    }
                }
            }
        }
    }

    /// The span rows' bars, colour off: what is between the `|`s.
    fn bars(out: &str) -> Vec<String> {
        out.lines()
            .filter_map(|line| {
                let open = line.find('|')?;
                let close = line.rfind('|')?;
                let bar = &line[open + 1..close];
                (close > open && bar.chars().all(|c| c == '█' || c == ' ') && bar.contains('█'))
                    .then(|| bar.to_owned())
            })
            .collect()
    }

    #[test]
    fn bars_still_scale_when_narrowed() {
        let (spans, records, logs) = long_trace();
        for (width, least) in [
            (40, MIN_BAR),
            (60, MIN_BAR),
            (80, 16),
            (100, 24),
            (200, BAR),
        ] {
            let out = render(
                [7; 16],
                &spans,
                &records,
                Some(&logs),
                None,
                Style { color: false },
                width,
            );
            let bars = bars(&out);
            assert_eq!(bars.len(), spans.len(), "{width}:\n{out}");
            let columns = bars[0].chars().count();
            assert!(columns >= least, "{width}: {columns} columns\n{out}");
            assert!(bars.iter().all(|b| b.chars().count() == columns));
            // The root covers the whole trace; the child, 10 to 60 ms.
            assert_eq!(bars[0], "█".repeat(columns), "{width}");
            let child: Vec<char> = bars[1].chars().collect();
            assert_eq!(child[columns / 10 - 1], ' ', "{width}: {}", bars[1]);
            assert_eq!(child[columns / 2 - 1], '█', "{width}: {}", bars[1]);
            assert_eq!(child[columns - 1], ' ', "{width}: {}", bars[1]);
        }
    }

    #[test]
    fn a_waterfall_that_fits_is_drawn_whole() {
        let mut spans = vec![
            span(1, None, "GET /checkout", 0, 48 * MS),
            span(2, Some(1), "load_cart", MS, 13 * MS),
        ];
        spans[1].service = "payments".into();
        let out = render(
            [7; 16],
            &spans,
            &[],
            None,
            None,
            Style { color: false },
            100,
        );
        assert_eq!(bars(&out)[0], "█".repeat(BAR), "{out}");
        assert!(
            out.contains("\n  └─ load_cart   payments  +1.000ms  12.000ms  |███"),
            "{out}"
        );
        assert!(
            out.contains("· 2 services (svc, payments)\n"),
            "the summary on one line:\n{out}"
        );
    }

    #[test]
    fn names_services_and_start_go_as_the_width_shrinks() {
        let natural = Layout {
            name: 56,
            service: Some(24),
            start: Some(9),
            duration: 8,
            bar: BAR,
            error: true,
        };
        assert_eq!(natural.width(), 2 + 58 + 26 + 11 + 10 + 42 + 6);
        assert_eq!(natural.fit(200), natural);
        for width in 40..200 {
            let layout = natural.fit(width);
            assert!(layout.width() <= width, "{width}: {layout:?}");
            assert!(layout.bar >= MIN_BAR, "{width}: {layout:?}");
        }
        // At 100: a shorter bar, service and name.
        let at_100 = natural.fit(100);
        assert_eq!(at_100.width(), 100);
        assert_eq!((at_100.bar, at_100.service), (24, Some(12)), "{at_100:?}");
        // At 40: no start and no service.
        let at_40 = natural.fit(40);
        assert_eq!(
            (at_40.start, at_40.service, at_40.bar),
            (None, None, MIN_BAR)
        );
        // What a short name needs stays.
        let short = Layout {
            name: 20,
            service: Some(8),
            ..natural
        };
        let at_80 = short.fit(80);
        assert_eq!((at_80.name, at_80.service), (20, Some(8)), "{at_80:?}");
    }

    #[test]
    fn the_summary_wraps_between_its_pieces() {
        let pieces: Vec<String> = ["started x", "48ms", "6 spans", "2 services (a, b)"]
            .map(String::from)
            .into();
        assert_eq!(
            wrap(&pieces, 80),
            ["started x · 48ms · 6 spans · 2 services (a, b)"]
        );
        assert_eq!(
            wrap(&pieces, 25),
            ["started x · 48ms", "6 spans", "2 services (a, b)"]
        );
        assert_eq!(
            wrap(&pieces, 10),
            ["started x", "48ms", "6 spans", "2 service…"]
        );
    }

    #[test]
    fn the_scale_header_fits_its_bar() {
        assert_eq!(scale_header("48.000ms", 12), "|0   48.000ms|");
        assert_eq!(scale_header("9999.999ms", 10), "|9999.999ms|");
        assert_eq!(scale_header("100.000ms", 10), "| 100.000ms|");
        assert_eq!(scale_header("10.000ms", 10), "|0 10.000ms|");
        assert_eq!(scale_header("12345.678s", 8), "|12345.6…|");
    }

    /// Each span's events and records in one time order, timed from its
    /// start; records of other spans after the tree, under their span id,
    /// timed from the trace's start; a record without a time last.
    #[test]
    fn records_go_under_their_span_in_time_order() {
        let mut root = span(1, None, "root", 0, 100 * MS);
        root.events = vec![EventRecord {
            time: 30 * MS,
            name: "retry".into(),
            attributes: Vec::new(),
        }];
        let child = span(2, Some(1), "child", 10 * MS, 20 * MS);
        let mut records = vec![
            record(Some(5 * MS), Some(1), "INFO", "first"),
            record(Some(15 * MS), Some(2), "DEBUG", "in the child"),
            record(Some(40 * MS), Some(1), "", "second"),
            record(None, Some(1), "WARN", "untimed"),
            record(Some(50 * MS), Some(9), "ERROR", "orphaned"),
            record(Some(MS), None, "INFO", "spanless"),
        ];
        records[2].severity_number = 17;
        records[2].severity = crate::otlp::severity_name(17);
        records[0].attributes = vec![
            ("cart.items".into(), AnyValue::Int(3)),
            ("code.line.number".into(), AnyValue::Int(7)),
        ];
        let out = render(
            [7; 16],
            &[root, child],
            &records,
            None,
            Some([9; 8]),
            Style { color: false },
            100,
        );
        let lines: Vec<&str> = out.lines().map(str::trim_end).collect();
        let at = |text: &str| {
            lines
                .iter()
                .position(|l| l.contains(text))
                .unwrap_or_else(|| panic!("{text} in\n{out}"))
        };
        assert!(out.contains("· 6 log records"), "{out}");
        assert!(lines[at("first")].ends_with("▸ +5.000ms INFO  first  cart.items=3"));
        assert!(lines[at("retry")].ends_with("• +30.000ms retry"));
        assert!(lines[at("second")].ends_with("▸ +40.000ms ERROR second"));
        assert!(lines[at("untimed")].ends_with("▸ ? WARN  untimed"));
        assert!(lines[at("in the child")].ends_with("▸ +5.000ms DEBUG in the child"));
        assert!(at("first") < at("retry") && at("retry") < at("second"));
        assert!(at("second") < at("untimed") && at("untimed") < at("child  "));
        assert!(at("child  ") < at("in the child"));
        // After the tree: the record of span 09…, marked, then the one of no span.
        let heading = at("log records not under a span of the store (2)");
        assert!(heading > at("in the child"));
        assert_eq!(
            lines[heading + 1],
            "> ⚠ span 0909090909090909 is not in the store"
        );
        assert_eq!(lines[heading + 2], ">    ▸ +50.000ms ERROR svc  orphaned");
        assert_eq!(lines[heading + 3], "  no span");
        assert_eq!(lines[heading + 4], "     ▸ +1.000ms INFO  svc  spanless");
    }

    /// A trace the store holds only log records of: they are listed.
    #[test]
    fn records_without_spans_are_listed() {
        let records = vec![record(Some(T0_NS + 2 * MS), Some(3), "INFO", "alone")];
        let out = render(
            [7; 16],
            &[],
            &records,
            None,
            None,
            Style { color: false },
            80,
        );
        assert!(!out.contains("SPAN"), "no table: {out}");
        assert!(out.contains("0 spans · 1 log record"), "{out}");
        assert!(out.contains("▸ +0.000µs INFO  svc  alone"), "{out}");
    }

    /// 2026-11-21T09:30:00Z.
    const T0_NS: u64 = 1_795_253_400_000_000_000;
}
