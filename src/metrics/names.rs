//! Series names and labels, in one place: sanitized with
//! `metrics-exporter-prometheus`'s sanitizers, made unique, and escaped, once
//! when a series is first recorded (`storage.rs`) and copied by every scrape
//! (`render.rs`).

use metrics::Key;
use metrics_exporter_prometheus::formatting::{sanitize_label_key, sanitize_metric_name};

/// A metric's kind, as OpenMetrics' `# TYPE` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// The family name of `key` and its labels, sanitized, duplicates dropped.
pub(crate) fn name_and_labels(key: &Key, kind: Kind) -> (String, Vec<(String, String)>) {
    let mut name = sanitize_metric_name(key.name());
    if kind == Kind::Counter {
        if let Some(stripped) = name.strip_suffix("_total") {
            name = stripped.to_owned();
        }
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    for label in key.labels() {
        let mut label_key = sanitize_label_key(label.key());
        // `le` is the histogram's own; `__` names are Prometheus'.
        if (kind == Kind::Histogram && label_key == "le") || label_key.starts_with("__") {
            label_key.insert_str(0, "label_");
        }
        if !labels.iter().any(|(k, _)| *k == label_key) {
            labels.push((label_key, label.value().to_owned()));
        }
    }
    (name, labels)
}

fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// Writes `k="v",k2="v2"` (no braces), escaped.
pub(crate) fn write_labels(out: &mut String, labels: &[(String, String)]) {
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
}
