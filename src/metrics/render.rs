//! Exposition: OpenMetrics 1.0 text (with exemplars) and Prometheus text
//! 0.0.4 (without), from the same snapshot.
//!
//! `metrics-exporter-prometheus` renders neither exemplars nor OpenMetrics, so
//! the encoding lives here; series names and labels are `names.rs`'.

use std::collections::HashMap;
use std::sync::Arc;

use metrics::{SharedString, Unit};

use super::exemplar::Exemplar;
use super::names::Kind;
use super::storage::{Counter, Gauge, Histogram, Series};

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

/// A series to write: a cell of the registry.
pub(crate) enum Entry {
    Counter(Arc<Counter>),
    Gauge(Arc<Gauge>),
    Histogram(Arc<Histogram>),
}

impl Entry {
    fn series(&self) -> &Series {
        match self {
            Entry::Counter(c) => &c.series,
            Entry::Gauge(g) => &g.series,
            Entry::Histogram(h) => &h.series,
        }
    }

    fn kind(&self) -> Kind {
        match self {
            Entry::Counter(_) => Kind::Counter,
            Entry::Gauge(_) => Kind::Gauge,
            Entry::Histogram(_) => Kind::Histogram,
        }
    }
}

fn exemplar(out: &mut String, exemplar: Option<Exemplar>, format: Format) {
    if let (Format::OpenMetrics, Some(e)) = (format, exemplar) {
        out.push_str(" # {trace_id=\"");
        crate::encode::hex::number(out, e.trace_id, 32);
        out.push_str("\",span_id=\"");
        crate::encode::hex::number(out, u128::from(e.span_id), 16);
        out.push_str("\"} ");
        float(out, e.value);
        // Seconds with milliseconds, plain decimal.
        let millis = (e.timestamp * 1000.0).round() as u64;
        out.push(' ');
        out.push_str(itoa::Buffer::new().format(millis / 1000));
        out.push('.');
        let frac = millis % 1000;
        out.push(char::from(b'0' + (frac / 100) as u8));
        out.push(char::from(b'0' + (frac / 10 % 10) as u8));
        out.push(char::from(b'0' + (frac % 10) as u8));
    }
}

/// `name` + `suffix` + `{labels[,le="x"]}` + space.
fn sample_start(out: &mut String, name: &str, suffix: &str, labels: &str, le: Option<f64>) {
    out.push_str(name);
    out.push_str(suffix);
    if !labels.is_empty() || le.is_some() {
        out.push('{');
        out.push_str(labels);
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
    out.push(' ');
}

/// Writes every series in `format`, sorted by family and labels. A name
/// recorded as two kinds keeps one, so the scrape stays valid.
pub(crate) fn render(
    entries: &mut [Entry],
    descriptions: &HashMap<String, (Option<Unit>, SharedString)>,
    format: Format,
) -> String {
    let rank = |e: &Entry| match e {
        Entry::Counter(_) => 0,
        Entry::Gauge(_) => 1,
        Entry::Histogram(_) => 2,
    };
    entries.sort_by(|a, b| {
        let (sa, sb) = (a.series(), b.series());
        (&*sa.family, rank(a), &*sa.labels).cmp(&(&*sb.family, rank(b), &*sb.labels))
    });
    let mut out = String::with_capacity(entries.len() * 160);
    let mut current: Option<(&str, Kind)> = None;
    for entry in entries.iter() {
        let series = entry.series();
        let family = &*series.family;
        let kind = entry.kind();
        match current {
            Some((f, k)) if f == family && k != kind => continue,
            Some((f, _)) if f == family => {}
            _ => {
                current = Some((family, kind));
                write_header(
                    &mut out,
                    family,
                    kind,
                    descriptions.get(&*series.name),
                    format,
                );
            }
        }
        let labels = &*series.labels;
        match entry {
            Entry::Counter(c) => {
                sample_start(&mut out, family, "_total", labels, None);
                out.push_str(itoa::Buffer::new().format(c.value()));
                exemplar(&mut out, c.exemplar(), format);
                out.push('\n');
            }
            Entry::Gauge(g) => {
                sample_start(&mut out, family, "", labels, None);
                float(&mut out, g.value());
                out.push('\n');
            }
            Entry::Histogram(h) => {
                h.buckets(|le, count, ex| {
                    sample_start(&mut out, family, "_bucket", labels, Some(le));
                    out.push_str(itoa::Buffer::new().format(count));
                    exemplar(&mut out, ex, format);
                    out.push('\n');
                });
                sample_start(&mut out, family, "_sum", labels, None);
                float(&mut out, h.sum());
                out.push('\n');
                sample_start(&mut out, family, "_count", labels, None);
                out.push_str(itoa::Buffer::new().format(h.count()));
                out.push('\n');
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
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

fn write_header(
    out: &mut String,
    family: &str,
    kind: Kind,
    description: Option<&(Option<Unit>, SharedString)>,
    format: Format,
) {
    // Prometheus text names a counter family by its sample name.
    let total = if format == Format::PrometheusText && kind == Kind::Counter {
        "_total"
    } else {
        ""
    };
    out.push_str("# TYPE ");
    out.push_str(family);
    out.push_str(total);
    out.push(' ');
    out.push_str(kind.name());
    out.push('\n');
    if format == Format::OpenMetrics {
        // OpenMetrics wants the unit as the name's suffix; otherwise none.
        if let Some(unit) = description.and_then(|(unit, _)| unit.and_then(base_unit)) {
            if family.len() > unit.len()
                && family.ends_with(unit)
                && family.as_bytes()[family.len() - unit.len() - 1] == b'_'
            {
                out.push_str("# UNIT ");
                out.push_str(family);
                out.push(' ');
                out.push_str(unit);
                out.push('\n');
            }
        }
    }
    if let Some((_, help)) = description.filter(|(_, help)| !help.is_empty()) {
        out.push_str("# HELP ");
        out.push_str(family);
        out.push_str(total);
        out.push(' ');
        escape_help(out, help, format);
        out.push('\n');
    }
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
        let recorder =
            crate::metrics::MetricsRecorder::new(crate::metrics::MetricsConfig::default());
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("http.requests-total", "say \"hi\"\\\n");
            metrics::counter!(
                "http.requests-total",
                "path.name" => "a\"b\\c\nd \u{2603}",
                "path_name" => "duplicate after sanitizing",
                "__reserved" => "x"
            )
            .increment(3);
        });
        let text = recorder.handle().render(Format::OpenMetrics);
        assert_eq!(
            text,
            "# TYPE http_requests counter\n\
             # HELP http_requests say \\\"hi\\\"\\\\\\n\n\
             http_requests_total{path_name=\"a\\\"b\\\\c\\nd \u{2603}\",label___reserved=\"x\"} 3\n\
             # EOF\n"
        );
    }
}
