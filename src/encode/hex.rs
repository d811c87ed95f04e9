//! Lowercase hex, as trace and span ids are written everywhere: in log
//! lines, `traceparent`, exemplars and the local store.

/// The sixteen digits.
pub(crate) const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends each byte as two digits.
pub(crate) fn bytes(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// Appends the low `digits` nibbles of `value`, most significant first:
/// `number(out, id, 32)` for a trace id, 16 for a span id.
pub(crate) fn number(out: &mut String, value: u128, digits: usize) {
    for i in (0..digits).rev() {
        out.push(char::from(DIGITS[((value >> (4 * i)) & 0xf) as usize]));
    }
}

/// The two digits of one byte, as a `&'static str` (the W3C flags).
pub(crate) fn byte(value: u8) -> &'static str {
    static ALL: [[u8; 2]; 256] = {
        let mut table = [[0u8; 2]; 256];
        let mut i = 0;
        while i < 256 {
            table[i] = [DIGITS[i >> 4], DIGITS[i & 15]];
            i += 1;
        }
        table
    };
    // Every entry is two ASCII digits.
    std::str::from_utf8(&ALL[usize::from(value)]).unwrap_or("00")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_numbers_and_flags() {
        let mut out = String::new();
        bytes(&mut out, &[0x00, 0x0f, 0xab, 0xff]);
        assert_eq!(out, "000fabff");
        let mut out = String::new();
        number(&mut out, 0x4bf9_2f35, 16);
        assert_eq!(out, "000000004bf92f35");
        assert_eq!(byte(0x03), "03");
        assert_eq!(byte(0xff), "ff");
        assert_eq!(
            (0..=255u8).map(|b| byte(b).to_owned()).collect::<Vec<_>>(),
            (0..=255u8).map(|b| format!("{b:02x}")).collect::<Vec<_>>()
        );
    }
}
