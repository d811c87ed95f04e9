//! A trace as a waterfall: the span tree with offsets, durations and bars on
//! one time scale, then the trace's log lines.
//!
//! ```text
//! trace 4bf92f3577b34da6a3ce929d0e0e4736
//! started 2026-11-21T09:30:00.000000Z · 48.000ms · 6 spans · 2 services (shop, payments) · 1 error
//!
//!   SPAN                     SERVICE     START   DURATION  |0                                 48.000ms|
//!   GET /checkout            shop      +0.000ms   48.000ms  |████████████████████████████████████████|
//!   ├─ load_cart             shop      +1.000ms   12.000ms  | ██████████                             |
//!   │    db.system.name=postgresql
//!   └─ charge                payments +14.000ms   30.000ms  |            █████████████████████████   | ERROR
//!        ✗ card declined
//!        • +3.000ms payment declined  level=ERROR
//! ```

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use crate::logs::LogLine;
use crate::otlp::{hex, kind_name, AnyValue};
use crate::store::{EventRecord, SpanRecord};
use crate::style::{self, escape, pad, truncate, Style};
use crate::time;

/// Columns of the bar.
const BAR: usize = 40;
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
fn rows(spans: &[SpanRecord]) -> Vec<Row> {
    let by_id: HashMap<[u8; 8], usize> = spans
        .iter()
        .enumerate()
        .map(|(i, s)| (s.span_id, i))
        .collect();
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    let mut top = Vec::new();
    for (i, span) in spans.iter().enumerate() {
        match span.parent.and_then(|p| by_id.get(&p)) {
            Some(&parent) if parent != i => children.entry(parent).or_default().push(i),
            _ => top.push(i),
        }
    }
    let by_start = |ids: &mut Vec<usize>| ids.sort_by_key(|&i| (spans[i].start, spans[i].end, i));
    by_start(&mut top);
    for ids in children.values_mut() {
        by_start(ids);
    }
    let mut rows = Vec::with_capacity(spans.len());
    let mut visited = HashSet::new();
    // (span, prefix for its name, prefix for what is under it)
    let mut stack: Vec<(usize, String, String)> = Vec::new();
    for &root in top.iter().rev() {
        stack.push((root, String::new(), String::new()));
    }
    while let Some((index, prefix, under)) = stack.pop() {
        if !visited.insert(index) {
            continue;
        }
        let kids = children.get(&index).cloned().unwrap_or_default();
        let continuation = if kids.is_empty() {
            format!("{under}   ")
        } else {
            format!("{under}│  ")
        };
        rows.push(Row {
            index,
            prefix,
            continuation,
            orphan: spans[index].parent.is_some_and(|p| !by_id.contains_key(&p)),
        });
        for (k, &kid) in kids.iter().enumerate().rev() {
            let last = k == kids.len() - 1;
            let (branch, next) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            stack.push((kid, format!("{under}{branch}"), format!("{under}{next}")));
        }
    }
    // Spans in a parent cycle (a broken store) are still shown.
    for (index, span) in spans.iter().enumerate() {
        if !visited.contains(&index) {
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

/// The bar of a span on the trace's scale.
fn bar(start: u64, end: u64, t0: u64, total: u64) -> String {
    let scale = |t: u64| (u128::from(t.saturating_sub(t0)) * BAR as u128) as f64 / total as f64;
    let from = (scale(start).floor() as usize).min(BAR - 1);
    let to = (scale(end).ceil() as usize).clamp(from + 1, BAR);
    let mut out = String::with_capacity(BAR * 3);
    out.extend(std::iter::repeat_n(' ', from));
    out.extend(std::iter::repeat_n('█', to - from));
    out.extend(std::iter::repeat_n(' ', BAR - to));
    out
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
    truncate(&escape(&value.to_string().replace('\n', "⏎")), 80)
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

/// Renders `spans` (one trace, sorted or not) and its `logs`; `highlight`
/// marks a span and its log lines with `>`. Control characters in what
/// they hold are shown escaped, never sent to the terminal.
pub(crate) fn render(
    trace_id: [u8; 16],
    spans: &[SpanRecord],
    logs: Option<&[LogLine]>,
    highlight: Option<[u8; 8]>,
    style: Style,
) -> String {
    let spans: &[SpanRecord] = &spans.iter().map(escaped_span).collect::<Vec<_>>();
    let logs: Option<Vec<LogLine>> = logs.map(|logs| logs.iter().map(escaped_log).collect());
    let logs = logs.as_deref();
    let mut out = String::new();
    let t0 = spans.iter().map(|s| s.start).min().unwrap_or(0);
    let t1 = spans.iter().map(|s| s.end).max().unwrap_or(t0);
    let total = t1.saturating_sub(t0).max(1);
    let mut services: Vec<&str> = Vec::new();
    for span in spans {
        if !services.contains(&span.service.as_str()) {
            services.push(&span.service);
        }
    }
    let errors = spans.iter().filter(|s| s.error).count();

    let _ = writeln!(
        out,
        "{}",
        style.paint(style::BOLD, &format!("trace {}", hex(&trace_id)))
    );
    let mut summary = format!(
        "started {} · {} · {} span{} · {} service{} ({})",
        time::rfc3339(t0, 6),
        time::duration(t1 - t0),
        spans.len(),
        if spans.len() == 1 { "" } else { "s" },
        services.len(),
        if services.len() == 1 { "" } else { "s" },
        services.join(", ")
    );
    if errors > 0 {
        let _ = write!(
            summary,
            " · {errors} error{}",
            if errors == 1 { "" } else { "s" }
        );
    }
    let _ = writeln!(out, "{summary}\n");

    let rows = rows(spans);
    let name_cell = |row: &Row| format!("{}{}", row.prefix, spans[row.index].name);
    let name_width = rows
        .iter()
        .map(|r| name_cell(r).chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 56);
    let service_width = services
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(7)
        .clamp(7, 24);
    let service_index: HashMap<&str, usize> =
        services.iter().enumerate().map(|(i, s)| (*s, i)).collect();

    let scale = Scale::for_total(total);
    let scale_end = scale.duration(total);
    let _ = writeln!(
        out,
        "  {}  {}  {:>10}  {:>10}  {}",
        pad("SPAN", name_width),
        pad("SERVICE", service_width),
        "START",
        "DURATION",
        style.paint(
            style::DIM,
            &format!(
                "|0{}{}|",
                " ".repeat(BAR - 1 - scale_end.chars().count().min(BAR - 1)),
                scale_end
            )
        )
    );
    for row in &rows {
        let span = &spans[row.index];
        let marked = highlight == Some(span.span_id);
        let name = truncate(&name_cell(row), name_width);
        let tree_chars = row.prefix.chars().count();
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
        let line = format!(
            "{}{}{}  {}  {:>10}  {:>10}  |{}|{}",
            if marked { "> " } else { "  " },
            style.paint(style::DIM, tree),
            pad_painted(&own_painted, own, name_width - tree.chars().count()),
            style.paint(
                color,
                &pad(&truncate(&span.service, service_width), service_width)
            ),
            scale.offset(i128::from(span.start) - i128::from(t0)),
            scale.duration(span.end - span.start),
            style.paint(color, &bar(span.start, span.end, t0, total)),
            if span.error {
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
        let _ = writeln!(out, "{line}");

        let detail = |out: &mut String, text: String| {
            let _ = writeln!(
                out,
                "{}{}   {}",
                if marked { "> " } else { "  " },
                style.paint(style::DIM, &row.continuation),
                text
            );
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
        for event in &span.events {
            let mut text = format!(
                "• {} {}",
                scale.offset(i128::from(event.time) - i128::from(span.start)),
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
            detail(
                &mut out,
                if error {
                    style.paint(style::RED, &text)
                } else {
                    text
                },
            );
        }
    }

    if let Some(logs) = logs {
        let names: HashMap<[u8; 8], &str> =
            spans.iter().map(|s| (s.span_id, s.name.as_str())).collect();
        let _ = writeln!(
            out,
            "\n{}",
            style.paint(
                style::BOLD,
                &format!(
                    "logs ({} line{})",
                    logs.len(),
                    if logs.len() == 1 { "" } else { "s" }
                )
            )
        );
        if logs.is_empty() {
            let _ = writeln!(out, "  no log line of this trace in the given files");
        }
        let label_width = name_width.min(32);
        for log in logs {
            let marked = highlight.is_some() && log.span_id == highlight;
            let at = log.time.map_or_else(
                || "?".to_owned(),
                |t| scale.offset(i128::from(t) - i128::from(t0)),
            );
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
                "{}{:>10}  {}  {}  {}",
                if marked { "> " } else { "  " },
                at,
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
            let _ = writeln!(out, "{line}");
        }
    }
    out
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

    #[test]
    fn a_parent_cycle_still_shows_every_span() {
        let spans = vec![span(1, Some(2), "a", 0, 1), span(2, Some(1), "b", 0, 1)];
        assert_eq!(rows(&spans).len(), 2);
    }

    #[test]
    fn bars_scale_to_the_trace() {
        assert_eq!(bar(0, 100, 0, 100), "█".repeat(BAR));
        let half = bar(50, 100, 0, 100);
        assert_eq!(
            half,
            format!("{}{}", " ".repeat(BAR / 2), "█".repeat(BAR / 2))
        );
        // Never empty, never past the end.
        assert_eq!(
            bar(100, 100, 0, 100).chars().filter(|&c| c == '█').count(),
            1
        );
        assert_eq!(bar(0, 0, 0, 1).chars().count(), BAR);
    }
}
