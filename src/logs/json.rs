//! Writing JSON into a reused `String`: escaping, numbers, and a field visitor.
//!
//! Every value is escaped by RFC 8259, whatever it holds (quotes, backslashes,
//! control characters, NUL); non-finite floats become the strings `"NaN"`,
//! `"Infinity"` and `"-Infinity"`, since JSON has no such numbers. Nothing here
//! allocates once the buffer has grown to a line's size.

use std::fmt::{self, Write as _};

use tracing::field::{Field, Visit};

/// Appends `s` to `out` as the inside of a JSON string.
pub(crate) fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let clean = clean_prefix(bytes);
    if clean == bytes.len() {
        out.push_str(s);
        return;
    }
    let mut start = 0;
    for (i, &byte) in bytes.iter().enumerate().skip(clean) {
        let escape: &str = match byte {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0xf)]));
        } else {
            out.push_str(escape);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// The length of the prefix of `bytes` that needs no escaping, 8 bytes at a
/// time; the last few bytes are padded to a word rather than looped over.
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut chunks = bytes.chunks_exact(8);
    let mut i = 0;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let flagged = needs_escape(u64::from_le_bytes(word));
        if flagged != 0 {
            return i + (flagged.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return i;
    }
    let mut word = [b'a'; 8];
    word[..rest.len()].copy_from_slice(rest);
    match needs_escape(u64::from_le_bytes(word)) {
        0 => bytes.len(),
        flagged => i + (flagged.trailing_zeros() / 8) as usize,
    }
}

/// The high bit of each byte of `w` (little-endian) that JSON must escape: a
/// control character, `"` or `\`. A borrow only ever runs upward, so the
/// lowest flagged byte is always a real one.
fn needs_escape(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let quote = w ^ (ONES * u64::from(b'"'));
    let quote = quote.wrapping_sub(ONES) & !quote;
    let backslash = w ^ (ONES * u64::from(b'\\'));
    let backslash = backslash.wrapping_sub(ONES) & !backslash;
    (control | quote | backslash) & HIGH
}

/// A `fmt::Write` that escapes what is written through it, so `Debug` and
/// `Display` output goes straight into the line.
pub(crate) struct Escaping<'a>(pub(crate) &'a mut String);

impl fmt::Write for Escaping<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        escape_into(self.0, s);
        Ok(())
    }
}

/// Appends `"s"`.
pub(crate) fn string(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// Appends `"key":` for a key of the crate's own, known to need no escaping.
pub(crate) fn static_key(out: &mut String, key: &'static str) {
    debug_assert_eq!(clean_prefix(key.as_bytes()), key.len());
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
}

pub(crate) fn f64_value(out: &mut String, value: f64) {
    if value.is_finite() {
        out.push_str(ryu::Buffer::new().format_finite(value));
    } else if value.is_nan() {
        out.push_str("\"NaN\"");
    } else if value > 0.0 {
        out.push_str("\"Infinity\"");
    } else {
        out.push_str("\"-Infinity\"");
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        string(&mut out, s);
        out
    }

    #[test]
    fn clean_prefix_stops_at_the_first_byte_to_escape() {
        let naive = |b: &[u8]| {
            b.iter()
                .position(|c| matches!(c, 0x00..=0x1f | b'"' | b'\\'))
                .unwrap_or(b.len())
        };
        let fillers = [b'a', b' ', b'~', 0x7f, 0xc3, 0xa9, 0xff, b'!', b'#', b'['];
        let bad = [0x00, 0x01, b'\n', 0x1f, b'"', b'\\'];
        for len in 0..=20 {
            for filler in fillers {
                let clean = vec![filler; len];
                assert_eq!(clean_prefix(&clean), naive(&clean), "{clean:?}");
                for at in 0..len {
                    for b in bad {
                        let mut bytes = clean.clone();
                        bytes[at] = b;
                        // and a second one later, which must not matter
                        if at + 2 < len {
                            bytes[at + 2] = b'"';
                        }
                        assert_eq!(clean_prefix(&bytes), naive(&bytes), "{bytes:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn escapes_what_json_requires() {
        assert_eq!(escaped("plain"), "\"plain\"");
        assert_eq!(escaped("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(escaped("\n\r\t\u{8}\u{c}"), r#""\n\r\t\b\f""#);
        assert_eq!(escaped("\0\u{1f}"), r#""\u0000\u001f""#);
        assert_eq!(escaped("snow \u{2603} \u{7f}"), "\"snow \u{2603} \u{7f}\"");
    }

    #[test]
    fn non_finite_floats_are_strings() {
        for (value, expected) in [
            (f64::NAN, "\"NaN\""),
            (f64::INFINITY, "\"Infinity\""),
            (f64::NEG_INFINITY, "\"-Infinity\""),
            (1.5, "1.5"),
        ] {
            let mut out = String::new();
            f64_value(&mut out, value);
            assert_eq!(out, expected);
        }
    }
}

#[cfg(test)]
mod proto_tests {
    #[test]
    fn clean_prefix_matches_naive() {
        let alphabet = [b'a', b'"', b'\\', 0x00, 0x1f, 0x20, 0x7f, b'Z', 0x19];
        let mut state = 12345u64;
        for len in 0..40 {
            for _ in 0..2000 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        alphabet[((state >> 33) % alphabet.len() as u64) as usize]
                    })
                    .collect();
                let naive = bytes
                    .iter()
                    .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
                    .unwrap_or(bytes.len());
                assert_eq!(super::clean_prefix(&bytes), naive, "{bytes:?}");
            }
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
