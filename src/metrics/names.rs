//! Series names and labels, in one place: made valid, made unique and
//! escaped once, when a series is first recorded (`families.rs`), and copied
//! by every scrape (`render.rs`).
//!
//! The rules (docs/metrics.md, "Names and labels"):
//!
//! - a metric name keeps `[a-zA-Z0-9_:]` and writes `_` for anything else; a
//!   name starting with a digit gets a `_` in front; a counter's family is its
//!   name without one trailing `_total`. A name that is empty then (`""`,
//!   `"_total"` for a counter) has nothing to sanitize to: the series is
//!   refused.
//! - a label key keeps `[a-zA-Z0-9_]` and writes `_` for anything else; a key
//!   that is then empty, starts with a digit or with `__` (Prometheus'), or is
//!   a histogram's own `le`, gets `label_` in front. The first of two keys
//!   that end up the same wins; a label whose value is empty is no label (as
//!   OpenMetrics reads it). Labels are written sorted by key.
//! - a label value is kept as recorded, with `\`, `"` and newline escaped,
//!   the only escapes OpenMetrics (and Prometheus text) define: every other
//!   character, control characters included, is valid inside the quotes.

use metrics::Key;

/// A metric's kind, as OpenMetrics' `# TYPE` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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

    /// The suffixes of the sample names a family of this kind writes, or
    /// could write (`_created`), in either format; `""` is the family name
    /// itself, which the strict parser also counts as taken.
    pub(crate) fn suffixes(self) -> &'static [&'static str] {
        match self {
            Kind::Counter => &["", "_total", "_created"],
            Kind::Gauge => &[""],
            Kind::Histogram => &["", "_bucket", "_count", "_sum", "_created"],
        }
    }
}

/// The label every overflow series has, and only it (the OpenTelemetry
/// attribute `otel.metric.overflow=true`, as Prometheus exporters write it).
pub(crate) const OVERFLOW_LABELS: &str = "otel_metric_overflow=\"true\"";

fn metric_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == ':'
}

fn label_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The family name of a metric recorded as `raw`, or `None` when nothing is
/// left of it.
pub(crate) fn family_name(raw: &str, kind: Kind) -> Option<String> {
    let mut name = String::with_capacity(raw.len() + 1);
    if raw.starts_with(|c: char| c.is_ascii_digit()) {
        name.push('_');
    }
    name.extend(
        raw.chars()
            .map(|c| if metric_name_char(c) { c } else { '_' }),
    );
    if kind == Kind::Counter {
        if let Some(len) = name.strip_suffix("_total").map(str::len) {
            name.truncate(len);
        }
    }
    (!name.is_empty()).then_some(name)
}

/// A label key as written: sanitized, and prefixed when it can't be used as is.
pub(crate) fn label_key(raw: &str, kind: Kind) -> String {
    let mut key: String = raw
        .chars()
        .map(|c| if label_key_char(c) { c } else { '_' })
        .collect();
    if key.is_empty()
        || key.starts_with(|c: char| c.is_ascii_digit())
        || key.starts_with("__")
        || (kind == Kind::Histogram && key == "le")
    {
        key.insert_str(0, "label_");
    }
    key
}

/// A series' labels: as `/metrics` writes them (`k="v",k2="v2"`, escaped,
/// sorted by key, without braces) and as they were recorded, for OTLP,
/// which keeps keys as they are (`http.request.method`, not
/// `http_request_method`).
#[derive(Debug)]
pub(crate) struct Labels {
    text: Box<str>,
    /// The recorded keys and values, in the order of `text`.
    pairs: Box<[(Box<str>, Box<str>)]>,
}

impl std::ops::Deref for Labels {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl Labels {
    /// The labels of the overflow series, `otel_metric_overflow="true"`
    /// (`otel.metric.overflow` over OTLP).
    pub(crate) fn overflow() -> Self {
        Self {
            text: OVERFLOW_LABELS.into(),
            pairs: Box::new([("otel.metric.overflow".into(), "true".into())]),
        }
    }

    /// No labels.
    pub(crate) fn none() -> Self {
        Self {
            text: "".into(),
            pairs: Box::new([]),
        }
    }

    /// Each label as recorded: key, value.
    pub(crate) fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs.iter().map(|(k, v)| (&**k, &**v))
    }
}

/// `key`'s labels, valid and sorted by (sanitized) key; of two labels with
/// the same key the first recorded is kept; empty values are left out.
pub(crate) fn labels(key: &Key, kind: Kind) -> Labels {
    let mut labels: Vec<(String, &str, &str)> = key
        .labels()
        .filter(|label| !label.value().is_empty())
        .map(|label| (label_key(label.key(), kind), label.key(), label.value()))
        .collect();
    // Stable: of two labels with the same key, the first recorded stays first.
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels.dedup_by(|later, first| later.0 == first.0);
    let mut out = String::new();
    for (i, (key, _, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_label_value(&mut out, value);
        out.push('"');
    }
    Labels {
        text: out.into_boxed_str(),
        pairs: labels
            .iter()
            .map(|(_, key, value)| (Box::from(*key), Box::from(*value)))
            .collect(),
    }
}

/// The labels of `target_info`: every resource attribute, its key made a
/// valid label name (`service.name` is `service_name`), sorted; of two
/// attributes that become the same label, the first is kept.
pub(crate) fn resource_labels<'a>(attributes: impl Iterator<Item = (&'a str, String)>) -> Box<str> {
    let mut labels: Vec<(String, String)> = attributes
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| (label_key(key, Kind::Gauge), value))
        .collect();
    labels.sort_by(|a, b| a.0.cmp(&b.0));
    labels.dedup_by(|later, first| later.0 == first.0);
    let mut out = String::new();
    for (i, (key, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push_str("=\"");
        escape_label_value(&mut out, value);
        out.push('"');
    }
    out.into_boxed_str()
}

/// Writes `value` escaped for the inside of a label value's quotes.
pub(crate) fn escape_label_value(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// `name` shortened for a warning or a label of tracelink's own: at most 200
/// bytes, cut at a character boundary, with `...` when cut.
pub(crate) fn shortened(name: &str) -> std::borrow::Cow<'_, str> {
    const MAX: usize = 200;
    if name.len() <= MAX {
        return name.into();
    }
    let mut end = MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &name[..end]).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn valid_metric_name(name: &str) -> bool {
        name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && name.chars().all(metric_name_char)
    }

    fn valid_label_key(key: &str) -> bool {
        key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && key.chars().all(label_key_char)
            && !key.starts_with("__")
    }

    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(c) => out.push(c),
                    None => out.push('\\'),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn names_that_cannot_be_used_as_is() {
        assert_eq!(family_name("", Kind::Counter), None);
        assert_eq!(family_name("_total", Kind::Counter), None);
        assert_eq!(
            family_name("_total", Kind::Gauge).as_deref(),
            Some("_total")
        );
        assert_eq!(
            family_name("x_total_total", Kind::Counter).as_deref(),
            Some("x_total")
        );
        assert_eq!(
            family_name("9lives", Kind::Gauge).as_deref(),
            Some("_9lives")
        );
        assert_eq!(
            family_name("http.requests-total", Kind::Counter).as_deref(),
            Some("http_requests")
        );
        assert_eq!(
            family_name("caf\u{e9}:x", Kind::Gauge).as_deref(),
            Some("caf_:x")
        );
        assert_eq!(label_key("", Kind::Gauge), "label_");
        assert_eq!(label_key("1st", Kind::Gauge), "label_1st");
        assert_eq!(label_key("__name__", Kind::Gauge), "label___name__");
        assert_eq!(label_key("le", Kind::Histogram), "label_le");
        assert_eq!(label_key("le", Kind::Counter), "le");
        assert_eq!(label_key("quantile", Kind::Histogram), "quantile");
        assert_eq!(label_key("a.b", Kind::Gauge), "a_b");
    }

    #[test]
    fn labels_are_sorted_unique_and_never_empty() {
        let key = Key::from_parts(
            "x",
            vec![
                metrics::Label::new("b", "2"),
                metrics::Label::new("a.b", "first"),
                metrics::Label::new("a_b", "second"),
                metrics::Label::new("empty", ""),
                metrics::Label::new("", "no key"),
            ],
        );
        assert_eq!(
            &*labels(&key, Kind::Counter),
            "a_b=\"first\",b=\"2\",label_=\"no key\""
        );
    }

    proptest! {
        #[test]
        fn any_name_becomes_valid_or_is_refused(raw in ".*", kind in 0..3u8) {
            let kind = [Kind::Counter, Kind::Gauge, Kind::Histogram][usize::from(kind)];
            if let Some(name) = family_name(&raw, kind) {
                prop_assert!(valid_metric_name(&name), "{name:?}");
            } else {
                let n = raw.chars().count();
                prop_assert!(n == 0 || (kind == Kind::Counter && n == 6 && raw.ends_with("total")));
            }
        }

        #[test]
        fn any_label_key_becomes_valid(raw in ".*") {
            let key = label_key(&raw, Kind::Histogram);
            prop_assert!(valid_label_key(&key) && key != "le", "{key:?}");
        }

        #[test]
        fn label_values_round_trip(value in ".*") {
            let mut escaped = String::new();
            escape_label_value(&mut escaped, &value);
            prop_assert!(!escaped.contains('\n'));
            // No unescaped quote ends the value early.
            let mut backslashes = 0;
            for c in escaped.chars() {
                prop_assert!(c != '"' || backslashes % 2 == 1, "{escaped:?}");
                backslashes = if c == '\\' { backslashes + 1 } else { 0 };
            }
            prop_assert_eq!(unescape(&escaped), value);
        }
    }
}
