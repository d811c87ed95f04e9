//! JSON text: escaping by RFC 8259, whatever a value holds (quotes,
//! backslashes, control characters, NUL), and numbers JSON can carry
//! (non-finite floats become the strings `"NaN"`, `"Infinity"` and
//! `"-Infinity"`). Shared by the log lines and the local trace store. Nothing
//! here allocates once the buffer has grown to a line's size.

use std::fmt;

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
            out.push_str("\\u00");
            out.push(char::from(super::hex::DIGITS[usize::from(byte >> 4)]));
            out.push(char::from(super::hex::DIGITS[usize::from(byte & 0xf)]));
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
                            .wrapping_mul(6_364_136_223_846_793_005)
                            .wrapping_add(1_442_695_040_888_963_407);
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
