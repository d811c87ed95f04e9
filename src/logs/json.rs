//! An event's and a span's fields as JSON members, written into a reused
//! `String`; the escaping and numbers are [`crate::encode::json`]'s.

use std::fmt::{self, Write as _};

pub(crate) use crate::encode::json::{escape_into, f64_value, static_key, string, Escaping};

use tracing::field::{Field, Visit};

/// Writes a span's or an event's fields as `,"name":value` members.
///
/// `message` is written under `message_key`; a field whose name the line
/// already uses (say `level`) is written as `fields.level`, so no key repeats.
pub(crate) struct FieldWriter<'a> {
    pub(crate) out: &'a mut String,
    pub(crate) message_key: Option<&'static str>,
    pub(crate) reserved: &'static [&'static str],
}

impl FieldWriter<'_> {
    fn name(&mut self, field: &Field) {
        let name = field.name();
        self.out.push(',');
        if name == "message" {
            if let Some(message_key) = self.message_key {
                static_key(self.out, message_key);
                return;
            }
        }
        self.out.push('"');
        // `fields.` names are prefixed too, so a renamed key never meets a
        // field that was already called `fields.level`.
        if self.reserved.contains(&name) || name.starts_with("fields.") {
            self.out.push_str("fields.");
        }
        escape_into(self.out, name);
        self.out.push_str("\":");
    }

    fn skip(field: &Field) -> bool {
        // tracing-opentelemetry's instructions to the span, not data; and
        // `log` crate metadata that tracing-log adds to bridged records.
        let name = field.name();
        name.starts_with("otel.") || name.starts_with("log.")
    }
}

impl Visit for FieldWriter<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if !Self::skip(field) {
            self.name(field);
            f64_value(self.out, value);
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i128(&mut self, field: &Field, value: i128) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_u128(&mut self, field: &Field, value: u128) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push_str(if value { "true" } else { "false" });
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if !Self::skip(field) {
            self.name(field);
            string(self.out, value);
        }
    }

    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push('"');
            for byte in value {
                let _ = write!(self.out, "{byte:02x}");
            }
            self.out.push('"');
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push('"');
            let _ = write!(Escaping(self.out), "{value}");
            let mut source = value.source();
            while let Some(cause) = source {
                let _ = write!(Escaping(self.out), ": {cause}");
                source = cause.source();
            }
            self.out.push('"');
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if !Self::skip(field) {
            self.name(field);
            self.out.push('"');
            let _ = write!(Escaping(self.out), "{value:?}");
            self.out.push('"');
        }
    }
}

/// Renders fields as `,"name":value` into one string, noting where each one
/// ends, so a span's fields are written once and merged when recorded again.
pub(crate) struct Segments {
    reserved: &'static [&'static str],
    text: String,
    /// Each field's name and the end of its segment in `text`.
    ends: Vec<(&'static str, usize)>,
}

impl Segments {
    pub(crate) fn new(reserved: &'static [&'static str]) -> Self {
        Self {
            reserved,
            text: String::new(),
            ends: Vec::new(),
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every field, `,"name":value`, in order.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    fn one(&mut self, field: &Field, write: impl FnOnce(&mut FieldWriter<'_>)) {
        if self.text.capacity() == 0 {
            // One allocation for a span's usual few fields, rather than a
            // string grown from 8 bytes up; spans without fields allocate
            // nothing.
            self.text.reserve(64);
        }
        let start = self.text.len();
        write(&mut FieldWriter {
            out: &mut self.text,
            message_key: None,
            reserved: self.reserved,
        });
        if self.text.len() > start {
            self.ends.push((field.name(), self.text.len()));
        }
    }

    /// Each field as its JSON key (escaped, without quotes) and value text.
    pub(crate) fn members(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pieces().filter_map(|(_, piece)| member(piece))
    }

    /// Each field's name and segment.
    fn pieces(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let starts = std::iter::once(0).chain(self.ends.iter().map(|&(_, end)| end));
        self.ends
            .iter()
            .zip(starts)
            .map(|(&(name, end), start)| (name, &self.text[start..end]))
    }

    /// Adds `new`'s fields, replacing those recorded before under the same
    /// name in place.
    pub(crate) fn merge(&mut self, new: Segments) {
        if !new
            .ends
            .iter()
            .any(|(name, _)| self.position(name).is_some())
        {
            let offset = self.text.len();
            self.text.push_str(&new.text);
            self.ends
                .extend(new.ends.iter().map(|&(name, end)| (name, offset + end)));
            return;
        }
        let mut merged = Segments::new(self.reserved);
        for (name, piece) in self.pieces() {
            let piece = match new.position(name) {
                Some(at) => new.pieces().nth(at).map_or(piece, |(_, p)| p),
                None => piece,
            };
            merged.text.push_str(piece);
            merged.ends.push((name, merged.text.len()));
        }
        for (name, piece) in new.pieces() {
            if self.position(name).is_none() {
                merged.text.push_str(piece);
                merged.ends.push((name, merged.text.len()));
            }
        }
        *self = merged;
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.ends.iter().position(|&(known, _)| known == name)
    }
}

/// Splits a segment `,"key":value` into the key (as escaped, unquoted) and
/// the value, finding the key's closing quote past any escapes.
fn member(piece: &str) -> Option<(&str, &str)> {
    let key = piece.strip_prefix(",\"")?;
    let mut escaped = false;
    for (i, byte) in key.bytes().enumerate() {
        match (escaped, byte) {
            (true, _) => escaped = false,
            (false, b'\\') => escaped = true,
            (false, b'"') => return Some((&key[..i], key[i + 1..].strip_prefix(':')?)),
            _ => {}
        }
    }
    None
}

impl Visit for Segments {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.one(field, |w| w.record_f64(field, value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.one(field, |w| w.record_i64(field, value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.one(field, |w| w.record_u64(field, value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.one(field, |w| w.record_i128(field, value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.one(field, |w| w.record_u128(field, value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.one(field, |w| w.record_bool(field, value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.one(field, |w| w.record_str(field, value));
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.one(field, |w| w.record_bytes(field, value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.one(field, |w| w.record_error(field, value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.one(field, |w| w.record_debug(field, value));
    }
}
