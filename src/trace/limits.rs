//! [`SpanLimits`]: how much one span keeps, by the specification's
//! `OTEL_SPAN_*_LIMIT` variables. Counts are kept as the span is recorded
//! (so an open span's memory stays bounded), each item past its limit
//! dropped and counted in OTLP's `dropped_*_count`; string values are cut
//! to the value length limit on the export thread, at a character
//! boundary, off the span's thread.

use opentelemetry::trace::{Event, Link};
use opentelemetry::{Array, KeyValue, StringValue, Value};

/// How many attributes, events and links one span keeps, how many
/// attributes each event and link keeps, and how long a string value may
/// be. The defaults are the specification's: 128 of each, values unlimited.
///
/// ```
/// use tracelink::trace::SpanLimits;
///
/// # fn main() -> Result<(), tracelink::Error> {
/// let config = tracelink::builder()
///     .with_env([("OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT", "32")])
///     .with_span_limits(SpanLimits::default().with_attribute_value_length(Some(1024)))
///     .config()?;
/// // Code replaces every limit variable.
/// assert_eq!(config.span_limits().attributes(), 128);
/// assert_eq!(config.span_limits().attribute_value_length(), Some(1024));
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpanLimits {
    pub(crate) attributes: u32,
    pub(crate) events: u32,
    pub(crate) links: u32,
    pub(crate) event_attributes: u32,
    pub(crate) link_attributes: u32,
    /// 0: unlimited.
    pub(crate) value_length: u32,
}

/// The specification's default count limit.
pub(crate) const DEFAULT_COUNT: u32 = 128;

impl Default for SpanLimits {
    fn default() -> Self {
        Self {
            attributes: DEFAULT_COUNT,
            events: DEFAULT_COUNT,
            links: DEFAULT_COUNT,
            event_attributes: DEFAULT_COUNT,
            link_attributes: DEFAULT_COUNT,
            value_length: 0,
        }
    }
}

impl SpanLimits {
    /// The most attributes a span keeps (`OTEL_SPAN_ATTRIBUTE_COUNT_LIMIT`).
    #[must_use]
    pub fn with_attributes(mut self, n: u32) -> Self {
        self.attributes = n;
        self
    }

    /// The most events a span keeps (`OTEL_SPAN_EVENT_COUNT_LIMIT`).
    #[must_use]
    pub fn with_events(mut self, n: u32) -> Self {
        self.events = n;
        self
    }

    /// The most links a span keeps (`OTEL_SPAN_LINK_COUNT_LIMIT`).
    #[must_use]
    pub fn with_links(mut self, n: u32) -> Self {
        self.links = n;
        self
    }

    /// The most attributes an event keeps (`OTEL_EVENT_ATTRIBUTE_COUNT_LIMIT`).
    #[must_use]
    pub fn with_event_attributes(mut self, n: u32) -> Self {
        self.event_attributes = n;
        self
    }

    /// The most attributes a link keeps (`OTEL_LINK_ATTRIBUTE_COUNT_LIMIT`).
    #[must_use]
    pub fn with_link_attributes(mut self, n: u32) -> Self {
        self.link_attributes = n;
        self
    }

    /// The most characters a string value keeps, in an attribute of the
    /// span, of its events and of its links; `None`: unlimited
    /// (`OTEL_SPAN_ATTRIBUTE_VALUE_LENGTH_LIMIT`,
    /// `OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT`).
    #[must_use]
    pub fn with_attribute_value_length(mut self, chars: Option<u32>) -> Self {
        self.value_length = chars.unwrap_or(0);
        self
    }

    /// The most attributes a span keeps.
    pub fn attributes(&self) -> u32 {
        self.attributes
    }

    /// The most events a span keeps.
    pub fn events(&self) -> u32 {
        self.events
    }

    /// The most links a span keeps.
    pub fn links(&self) -> u32 {
        self.links
    }

    /// The most attributes an event keeps.
    pub fn event_attributes(&self) -> u32 {
        self.event_attributes
    }

    /// The most attributes a link keeps.
    pub fn link_attributes(&self) -> u32 {
        self.link_attributes
    }

    /// The most characters a string value keeps; `None`: unlimited.
    pub fn attribute_value_length(&self) -> Option<u32> {
        (self.value_length > 0).then_some(self.value_length)
    }

    /// Cuts `items` to `limit`; returns how many were dropped.
    pub(crate) fn cut<T>(items: &mut Vec<T>, limit: u32) -> u32 {
        let limit = limit as usize;
        let dropped = items.len().saturating_sub(limit) as u32;
        items.truncate(limit);
        dropped
    }

    /// An event, its attributes cut to the limit and counted.
    pub(crate) fn event(&self, mut event: Event) -> Event {
        event.dropped_attributes_count += Self::cut(&mut event.attributes, self.event_attributes);
        event
    }

    /// A link, its attributes cut to the limit and counted.
    pub(crate) fn link(&self, mut link: Link) -> Link {
        link.dropped_attributes_count += Self::cut(&mut link.attributes, self.link_attributes);
        link
    }

    /// Cuts every string value of `attributes` to the value length limit.
    pub(crate) fn shorten(&self, attributes: &mut [KeyValue]) {
        if self.value_length == 0 {
            return;
        }
        for kv in attributes {
            shorten_value(&mut kv.value, self.value_length as usize);
        }
    }
}

/// `value`, cut to `chars` characters if it is a string or holds strings.
fn shorten_value(value: &mut Value, chars: usize) {
    match value {
        Value::String(s) => {
            if let Some(short) = shortened(s.as_str(), chars) {
                *s = StringValue::from(short.to_owned());
            }
        }
        Value::Array(Array::String(strings)) => {
            for s in strings {
                if let Some(short) = shortened(s.as_str(), chars) {
                    *s = StringValue::from(short.to_owned());
                }
            }
        }
        _ => {}
    }
}

/// The first `chars` characters of `s`, if it has more.
fn shortened(s: &str, chars: usize) -> Option<&str> {
    // Fewer bytes than the limit: fewer characters too.
    if s.len() <= chars {
        return None;
    }
    s.char_indices().nth(chars).map(|(end, _)| &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_cut_at_a_character_boundary_counting_characters() {
        assert_eq!(shortened("héllo wörld", 4), Some("héll"));
        assert_eq!(shortened("héllo", 5), None);
        assert_eq!(shortened("🦀🦀🦀", 2), Some("🦀🦀"));
        assert_eq!(shortened("", 0), None);
        let limits = SpanLimits::default().with_attribute_value_length(Some(3));
        let mut attributes = vec![
            KeyValue::new("s", "abcdef"),
            KeyValue::new("n", 123_456),
            KeyValue::new(
                "list",
                Value::Array(Array::String(vec!["ünïcode".into(), "ok".into()])),
            ),
        ];
        limits.shorten(&mut attributes);
        assert_eq!(attributes[0].value, Value::from("abc"));
        assert_eq!(attributes[1].value, Value::from(123_456));
        assert_eq!(
            attributes[2].value,
            Value::Array(Array::String(vec!["ünï".into(), "ok".into()]))
        );
    }

    #[test]
    fn counts_past_a_limit_are_dropped_and_counted() {
        let limits = SpanLimits::default().with_event_attributes(1);
        let event = limits.event(Event::new(
            "e",
            std::time::SystemTime::UNIX_EPOCH,
            vec![KeyValue::new("a", 1), KeyValue::new("b", 2)],
            0,
        ));
        assert_eq!(event.attributes.len(), 1);
        assert_eq!(event.dropped_attributes_count, 1);
        let mut items = vec![1, 2, 3];
        assert_eq!(SpanLimits::cut(&mut items, 5), 0);
        assert_eq!(SpanLimits::cut(&mut items, 1), 2);
        assert_eq!(items, [1]);
    }
}
