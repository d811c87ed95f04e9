//! Exposition: OpenMetrics 1.0 text (with exemplars) and Prometheus text
//! 0.0.4 (without), from the same snapshot.
//!
//! `metrics-exporter-prometheus` renders neither exemplars nor OpenMetrics, so
//! the encoding lives here; series names and labels are `names.rs`', which
//! series exist is `families.rs`'.

use std::collections::HashMap;

use metrics::{SharedString, Unit};

use super::exemplar::Exemplar;
use super::families::{
    Cell, FamilySnapshot, Snapshot, NAN_FAMILY, OVERFLOW_FAMILY, REFUSED_FAMILY, TARGET_INFO,
};
use super::names::{self, Kind, OVERFLOW_LABELS};

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

/// What `describe_*!` said of `family`: under the name it was recorded
/// with, its family name, or a counter's sample name.
pub(super) fn description<'a>(
    descriptions: &'a HashMap<String, (Option<Unit>, SharedString)>,
    family: &FamilySnapshot,
) -> Option<&'a (Option<Unit>, SharedString)> {
    let name = &*family.name;
    descriptions
        .get(&*family.recorded)
        .or_else(|| descriptions.get(name))
        .or_else(|| {
            (family.kind == Kind::Counter)
                .then(|| descriptions.get(&format!("{name}_total")))
                .flatten()
        })
}

/// Writes every family of `snapshot` in `format`, sorted by name, each
/// family's series sorted by labels, then tracelink's own counters.
pub(crate) fn render(
    target_info: Option<&str>,
    snapshot: &Snapshot,
    descriptions: &HashMap<String, (Option<Unit>, SharedString)>,
    format: Format,
) -> String {
    let mut out = String::with_capacity(snapshot.cells.len() * 160 + 64);
    if let Some(labels) = target_info {
        // An info metric: OpenMetrics names the family `target`.
        out.push_str(match format {
            Format::OpenMetrics => "# TYPE target info\n# HELP target Target metadata\n",
            Format::PrometheusText => {
                "# TYPE target_info gauge\n# HELP target_info Target metadata\n"
            }
        });
        sample_start(&mut out, TARGET_INFO, "", labels, None);
        out.push_str("1\n");
    }
    let mut nan_dropped: Vec<(&str, u64)> = Vec::new();
    for family in &snapshot.families {
        let name = &*family.name;
        let description = description(descriptions, family);
        write_header(
            &mut out,
            name,
            family.kind,
            description.and_then(|(unit, _)| *unit),
            description.map_or("", |(_, help)| help),
            format,
        );
        let mut nan = 0;
        for cell in &snapshot.cells[family.cells.clone()] {
            match cell {
                Cell::Counter(c) => {
                    sample_start(&mut out, name, "_total", &c.labels, None);
                    out.push_str(itoa::Buffer::new().format(c.value()));
                    exemplar(&mut out, c.exemplar(), format);
                    out.push('\n');
                }
                Cell::Gauge(g) => {
                    sample_start(&mut out, name, "", &g.labels, None);
                    float(&mut out, g.value());
                    out.push('\n');
                }
                Cell::Histogram(h) => {
                    let labels = &*h.labels;
                    let count = h.buckets(|le, count, ex| {
                        sample_start(&mut out, name, "_bucket", labels, Some(le));
                        out.push_str(itoa::Buffer::new().format(count));
                        exemplar(&mut out, ex, format);
                        out.push('\n');
                    });
                    // OpenMetrics: `_count` only with `_sum`, and no `_sum` once
                    // it can no longer be a counter (see `Histogram`).
                    if let Some(sum) = h.sum() {
                        sample_start(&mut out, name, "_sum", labels, None);
                        float(&mut out, sum);
                        out.push('\n');
                        sample_start(&mut out, name, "_count", labels, None);
                        out.push_str(itoa::Buffer::new().format(count));
                        out.push('\n');
                    }
                    nan += h.nan_dropped();
                }
            }
        }
        if nan > 0 {
            nan_dropped.push((name, nan));
        }
    }
    write_own(&mut out, snapshot, &nan_dropped, format);
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// tracelink's own counters, each family only once it has counted something.
fn write_own(out: &mut String, snapshot: &Snapshot, nan_dropped: &[(&str, u64)], format: Format) {
    let per_metric = |out: &mut String,
                      family: &str,
                      help: &str,
                      counts: &mut dyn Iterator<Item = (&str, u64)>| {
        let mut counts = counts.peekable();
        if counts.peek().is_none() {
            return;
        }
        write_header(out, family, Kind::Counter, None, help, format);
        for (metric, count) in counts {
            let mut labels = String::from("metric=\"");
            names::escape_label_value(&mut labels, metric);
            labels.push('"');
            sample_start(out, family, "_total", &labels, None);
            out.push_str(itoa::Buffer::new().format(count));
            out.push('\n');
        }
    };
    per_metric(
        out,
        NAN_FAMILY,
        "NaN observations dropped by each histogram: OpenMetrics has no bucket for NaN.",
        &mut nan_dropped.iter().copied(),
    );
    per_metric(
        out,
        OVERFLOW_FAMILY,
        "New label sets of each metric recorded past its cardinality limit, whose samples went to its otel_metric_overflow series.",
        &mut snapshot.folded.iter().map(|(name, n)| (&**name, *n)),
    );
    if snapshot.refused.is_empty() && snapshot.refused_other == 0 {
        return;
    }
    write_header(
        out,
        REFUSED_FAMILY,
        Kind::Counter,
        None,
        "Registrations of metrics refused for an empty name or a name that clashes with another metric's; their samples are dropped.",
        format,
    );
    for (metric, kind, reason, count) in &snapshot.refused {
        let mut labels = format!("kind=\"{}\",metric=\"", kind.name());
        names::escape_label_value(&mut labels, metric);
        labels.push_str("\",reason=\"");
        labels.push_str(reason.label());
        labels.push('"');
        sample_start(out, REFUSED_FAMILY, "_total", &labels, None);
        out.push_str(itoa::Buffer::new().format(*count));
        out.push('\n');
    }
    if snapshot.refused_other > 0 {
        sample_start(out, REFUSED_FAMILY, "_total", OVERFLOW_LABELS, None);
        out.push_str(itoa::Buffer::new().format(snapshot.refused_other));
        out.push('\n');
    }
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
    unit: Option<Unit>,
    help: &str,
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
        if let Some(unit) = unit.and_then(base_unit) {
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
    if !help.is_empty() {
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
             http_requests_total{label___reserved=\"x\",path_name=\"a\\\"b\\\\c\\nd \u{2603}\"} 3\n\
             # EOF\n"
        );
    }
}
