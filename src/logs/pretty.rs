//! The human-readable line (`TRACELINK_LOG_FORMAT=pretty`): one line per
//! event, for a developer at a terminal.
//!
//! ```text
//! 09:30:00.123456Z  INFO shop: payment captured amount_cents=2500 in charge{order_id=1} trace=8078c29a
//! 09:30:00.124012Z  WARN shop::cart: cart is empty user="ada lovelace"
//! ```
//!
//! The time is UTC, to the microsecond, without the date; the trace id is
//! its first 8 hex digits, enough to tell requests apart at a glance
//! (the JSON format carries the whole id, for tools). Nothing a field holds
//! reaches the terminal unescaped: control characters (an ANSI escape in a
//! user-supplied value, say) are written as Rust escapes, and a string with
//! spaces, quotes or `=` is quoted.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};
use tracing::Level;

use super::json::Segments;
use crate::context::SpanIds;

/// ANSI styles, each undone by [`RESET`].
const DIM: &str = "\x1b[2m";
const ITALIC: &str = "\x1b[3m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

fn level_style(level: Level) -> &'static str {
    match level {
        Level::ERROR => "\x1b[31m",
        Level::WARN => "\x1b[33m",
        Level::INFO => "\x1b[32m",
        Level::DEBUG => "\x1b[34m",
        Level::TRACE => "\x1b[35m",
    }
}

/// Writes the start of a line: time of day, level and target.
pub(crate) fn head(
    out: &mut String,
    time: std::time::SystemTime,
    level: Level,
    target: &str,
    colour: bool,
) {
    paint(out, colour, DIM, |out| {
        let start = out.len();
        crate::encode::time::rfc3339_micros(out, time);
        // `2026-11-21T` off: the time of day is what a developer reads.
        let date = out[start..].find('T').map_or(0, |t| t + 1);
        out.replace_range(start..start + date, "");
    });
    out.push(' ');
    paint(out, colour, level_style(level), |out| {
        // Right-aligned to five columns, as tracing-subscriber's `fmt` does.
        let _ = write!(out, "{:>5}", level.as_str());
    });
    out.push(' ');
    paint(out, colour, DIM, |out| {
        escape_controls(out, target);
        out.push(':');
    });
}

/// Writes an event's message and fields: the message as it is (control
/// characters escaped), then ` name=value` for each other field.
pub(crate) struct Fields<'a> {
    pub(crate) out: &'a mut String,
    pub(crate) colour: bool,
}

impl Fields<'_> {
    fn key(&mut self, field: &Field) {
        self.out.push(' ');
        paint(self.out, self.colour, ITALIC, |out| {
            escape_controls(out, field.name());
        });
        self.out.push('=');
    }

    fn skip(field: &Field) -> bool {
        // As in the JSON line: instructions to tracing-opentelemetry and
        // `log` metadata are not data.
        let name = field.name();
        name.starts_with("otel.") || name.starts_with("log.")
    }

    fn plain(&mut self, field: &Field, value: impl fmt::Display) {
        if !Self::skip(field) {
            self.key(field);
            let _ = write!(self.out, "{value}");
        }
    }
}

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.plain(field, value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.plain(field, value);
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.plain(field, value);
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        self.plain(field, value);
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        self.plain(field, value);
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.plain(field, value);
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.out.push(' ');
            escape_controls(self.out, value);
        } else if !Self::skip(field) {
            self.key(field);
            text_value(self.out, value);
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !Self::skip(field) {
            self.key(field);
            text_value(self.out, &value.to_string());
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.out.push(' ');
            let _ = write!(Controls(self.out), "{value:?}");
        } else if !Self::skip(field) {
            self.key(field);
            text_value(self.out, &format!("{value:?}"));
        }
    }
}

/// Writes ` in NAME{a=1 b="x y"}`: the span and its fields, as the JSON
/// line keeps them (rendered once, when recorded), each shown as
/// `name=value` with the value in its JSON form.
pub(crate) fn span(out: &mut String, name: &str, fields: Option<&Segments>, colour: bool) {
    out.push_str(" in ");
    paint(out, colour, BOLD, |out| escape_controls(out, name));
    let Some(fields) = fields.filter(|f| !f.is_empty()) else {
        return;
    };
    let members = fields.members();
    out.push('{');
    for (i, (key, value)) in members.enumerate() {
        if i > 0 {
            out.push(' ');
        }
        paint(out, colour, ITALIC, |out| out.push_str(key));
        out.push('=');
        out.push_str(value);
    }
    out.push('}');
}

/// Writes ` trace=` and the first 8 hex digits of the trace id.
pub(crate) fn trace(out: &mut String, ids: &SpanIds, colour: bool) {
    out.push(' ');
    paint(out, colour, DIM, |out| {
        out.push_str("trace=");
        out.push_str(&ids.trace_id_hex()[..8]);
    });
}

fn paint(out: &mut String, colour: bool, style: &str, write: impl FnOnce(&mut String)) {
    if colour {
        out.push_str(style);
    }
    write(out);
    if colour {
        out.push_str(RESET);
    }
}

/// A value as it is when it reads unambiguously (`ada`, `/cart`,
/// `10.0.0.1:80`), else quoted with Rust's escapes.
fn text_value(out: &mut String, value: &str) {
    let bare = !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./:@+,#%~".contains(c));
    if bare {
        out.push_str(value);
    } else {
        let _ = write!(out, "{value:?}");
    }
}

/// Appends `s` with control characters (newlines, ESC, NUL…) as escapes, so
/// one event stays one line and cannot restyle the terminal.
fn escape_controls(out: &mut String, s: &str) {
    if !s.chars().any(char::is_control) {
        out.push_str(s);
        return;
    }
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
}

/// A `fmt::Write` that escapes control characters on the way in.
struct Controls<'a>(&'a mut String);

impl fmt::Write for Controls<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_controls(self.0, s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_bare_or_quoted() {
        let mut out = String::new();
        for value in [
            "ada",
            "/cart/42",
            "a b",
            "",
            "x=y",
            "say \"hi\"",
            "\u{1b}[31mred",
        ] {
            out.push('|');
            text_value(&mut out, value);
        }
        assert_eq!(
            out,
            r#"|ada|/cart/42|"a b"|""|"x=y"|"say \"hi\""|"\u{1b}[31mred""#
        );
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let mut out = String::new();
        escape_controls(&mut out, "two\nlines \u{1b}[2J\0");
        assert_eq!(out, "two\\nlines \\u{1b}[2J\\u{0}");
        assert!(!out.chars().any(char::is_control));
    }

    #[test]
    fn the_head_is_time_of_day_level_and_target() {
        let time = std::time::UNIX_EPOCH + std::time::Duration::from_micros(1_763_717_400_123_456);
        let mut out = String::new();
        head(&mut out, time, Level::INFO, "shop", false);
        assert_eq!(out, "09:30:00.123456Z  INFO shop:");
        let mut out = String::new();
        head(&mut out, time, Level::ERROR, "shop", true);
        assert_eq!(
            out,
            "\x1b[2m09:30:00.123456Z\x1b[0m \x1b[31mERROR\x1b[0m \x1b[2mshop:\x1b[0m"
        );
    }

    #[test]
    fn span_fields_are_shown_from_their_json_members() {
        let mut fields = Segments::new(&["name"]);
        let set = META.fields();
        let (order, user, name) = (
            set.field("order_id").expect("field"),
            set.field("user").expect("field"),
            set.field("name").expect("field"),
        );
        fields.record_u64(&order, 1);
        fields.record_str(&user, "ada \"the\" lovelace");
        fields.record_str(&name, "x");
        let mut out = String::new();
        span(&mut out, "charge", Some(&fields), false);
        assert_eq!(
            out,
            r#" in charge{order_id=1 user="ada \"the\" lovelace" fields.name="x"}"#
        );
        let mut out = String::new();
        span(&mut out, "idle", None, false);
        assert_eq!(out, " in idle");
    }

    static META: tracing::Metadata<'static> = tracing::Metadata::new(
        "test",
        "pretty",
        Level::INFO,
        None,
        None,
        None,
        tracing::field::FieldSet::new(
            &["order_id", "user", "name"],
            tracing::callsite::Identifier(&CALLSITE),
        ),
        tracing::metadata::Kind::SPAN,
    );
    static CALLSITE: tracing::callsite::DefaultCallsite =
        tracing::callsite::DefaultCallsite::new(&META);
}
