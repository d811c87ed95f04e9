//! Exposition: OpenMetrics 1.0 text (with exemplars) and Prometheus text
//! 0.0.4 (without), from the same snapshot.
//!
//! `metrics-exporter-prometheus` renders neither exemplars nor OpenMetrics, so
//! the encoding lives here; its name sanitizers are reused.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use metrics::{Key, Unit};
use metrics_exporter_prometheus::formatting::{sanitize_label_key, sanitize_metric_name};

use super::exemplar::Exemplar;

/// The content type of each format.
pub(crate) const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
pub(crate) const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Which exposition format to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Format {
    /// OpenMetrics 1.0 text, with exemplars and `# EOF`.
    OpenMetrics,
    /// Prometheus text 0.0.4, without exemplars.
    PrometheusText,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text`, Prometheus text otherwise.
    pub fn from_accept(accept: Option<&str>) -> Self {
        match accept {
            Some(accept) if accept.contains("application/openmetrics-text") => Self::OpenMetrics,
            _ => Self::PrometheusText,
        }
    }

    /// The `Content-Type` of a body in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::OpenMetrics => OPENMETRICS,
            Self::PrometheusText => PROMETHEUS_TEXT,
        }
    }
}

/// What a sample of a family carries.
pub(crate) enum Value {
    Counter(u64, Option<Exemplar>),
    Gauge(f64),
    Histogram(super::storage::HistogramSnapshot),
}

/// One metric family: every label set of one name.
pub(crate) struct Family {
    pub(crate) kind: &'static str,
    pub(crate) unit: Option<Unit>,
    pub(crate) help: Option<String>,
    pub(crate) samples: Vec<(Vec<(String, String)>, Value)>,
}

/// Families by sanitized name (counters without `_total`), sorted.
pub(crate) type Families = BTreeMap<String, Family>;

/// The family name of `key` and its labels, sanitized, duplicates dropped.
pub(crate) fn name_and_labels(key: &Key, kind: &str) -> (String, Vec<(String, String)>) {
    let mut name = sanitize_metric_name(key.name());
    if kind == "counter" {
        if let Some(stripped) = name.strip_suffix("_total") {
            name = stripped.to_owned();
        }
    }
    let mut labels: Vec<(String, String)> = Vec::new();
    for label in key.labels() {
        let mut label_key = sanitize_label_key(label.key());
        // `le` is the histogram's own; `__` names are Prometheus'.
        if (kind == "histogram" && label_key == "le") || label_key.starts_with("__") {
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

fn escape_help(out: &mut String, help: &str, format: Format) {
    for c in help.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if format == Format::OpenMetrics => out.push_str("\\\""),
            c => out.push(c),
        }
    }
}

fn float(out: &mut String, value: f64) {
    if value.is_nan() {
        out.push_str("NaN");
    } else if value == f64::INFINITY {
        out.push_str("+Inf");
    } else if value == f64::NEG_INFINITY {
        out.push_str("-Inf");
    } else {
        out.push_str(ryu::Buffer::new().format_finite(value));
    }
}

fn labels(out: &mut String, labels: &[(String, String)], le: Option<f64>) {
    if labels.is_empty() && le.is_none() {
        return;
    }
    out.push('{');
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_label_value(out, value);
        out.push('"');
    }
    if let Some(le) = le {
        if !labels.is_empty() {
            out.push(',');
        }
        out.push_str("le=\"");
        float(out, le);
        out.push('"');
    }
    out.push('}');
}

fn exemplar(out: &mut String, exemplar: &Option<Exemplar>, format: Format) {
    if let (Format::OpenMetrics, Some(e)) = (format, exemplar) {
        let _ = write!(
            out,
            " # {{trace_id=\"{:032x}\",span_id=\"{:016x}\"}} ",
            e.trace_id, e.span_id
        );
        float(out, e.value);
        let _ = write!(out, " {:.3}", e.timestamp);
    }
}

fn sample(
    out: &mut String,
    name: &str,
    suffix: &str,
    set: &[(String, String)],
    le: Option<f64>,
    write_value: impl FnOnce(&mut String),
) {
    out.push_str(name);
    out.push_str(suffix);
    labels(out, set, le);
    out.push(' ');
    write_value(out);
}

/// The OpenMetrics (base) unit name of a `metrics` unit; scaled units such as
/// milliseconds have none.
fn base_unit(unit: Unit) -> Option<&'static str> {
    match unit {
        Unit::Seconds => Some("seconds"),
        Unit::Bytes => Some("bytes"),
        Unit::Percent => Some("percent"),
        _ => None,
    }
}

/// Writes every family in `format`.
pub(crate) fn render(families: &Families, format: Format) -> String {
    let mut out = String::with_capacity(families.len() * 256);
    for (name, family) in families {
        // Prometheus text names a counter family by its sample name.
        let type_name = match (format, family.kind) {
            (Format::PrometheusText, "counter") => format!("{name}_total"),
            _ => name.clone(),
        };
        let _ = writeln!(out, "# TYPE {type_name} {}", family.kind);
        if format == Format::OpenMetrics {
            // OpenMetrics wants the unit as the name's suffix; otherwise none.
            if let Some(unit) = family.unit.and_then(base_unit) {
                if name.ends_with(&format!("_{unit}")) {
                    let _ = writeln!(out, "# UNIT {name} {unit}");
                }
            }
        }
        if let Some(help) = &family.help {
            let _ = write!(out, "# HELP {type_name} ");
            escape_help(&mut out, help, format);
            out.push('\n');
        }
        for (set, value) in &family.samples {
            match value {
                Value::Counter(count, ex) => {
                    sample(&mut out, name, "_total", set, None, |out| {
                        out.push_str(itoa::Buffer::new().format(*count));
                    });
                    exemplar(&mut out, ex, format);
                    out.push('\n');
                }
                Value::Gauge(value) => {
                    sample(&mut out, name, "", set, None, |out| float(out, *value));
                    out.push('\n');
                }
                Value::Histogram(h) => {
                    for (le, count, ex) in &h.buckets {
                        sample(&mut out, name, "_bucket", set, Some(*le), |out| {
                            out.push_str(itoa::Buffer::new().format(*count));
                        });
                        exemplar(&mut out, ex, format);
                        out.push('\n');
                    }
                    sample(&mut out, name, "_sum", set, None, |out| float(out, h.sum));
                    out.push('\n');
                    sample(&mut out, name, "_count", set, None, |out| {
                        out.push_str(itoa::Buffer::new().format(h.count));
                    });
                    out.push('\n');
                }
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_header_negotiation() {
        assert_eq!(
            Format::from_accept(Some(
                "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"
            )),
            Format::OpenMetrics
        );
        assert_eq!(
            Format::from_accept(Some("text/plain")),
            Format::PrometheusText
        );
        assert_eq!(Format::from_accept(None), Format::PrometheusText);
    }

    #[test]
    fn hostile_labels_are_escaped_and_names_sanitized() {
        let key = Key::from_parts(
            "http.requests-total",
            vec![
                metrics::Label::new("path.name", "a\"b\\c\nd \u{2603}"),
                metrics::Label::new("path_name", "duplicate after sanitizing"),
                metrics::Label::new("__reserved", "x"),
            ],
        );
        let (name, set) = name_and_labels(&key, "counter");
        assert_eq!(name, "http_requests_total".strip_suffix("_total").unwrap());
        let mut families = Families::new();
        families.insert(
            name,
            Family {
                kind: "counter",
                unit: None,
                help: Some("say \"hi\"\\\n".into()),
                samples: vec![(set, Value::Counter(3, None))],
            },
        );
        let text = render(&families, Format::OpenMetrics);
        assert_eq!(
            text,
            "# TYPE http_requests counter\n\
             # HELP http_requests say \\\"hi\\\"\\\\\\n\n\
             http_requests_total{path_name=\"a\\\"b\\\\c\\nd \u{2603}\",label___reserved=\"x\"} 3\n\
             # EOF\n"
        );
    }
}
