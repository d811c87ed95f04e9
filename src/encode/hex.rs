//! Lowercase hex, as trace and span ids are written everywhere: in log
//! lines, `traceparent`, exemplars and the local store.

/// The sixteen digits.
pub const DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Appends each byte as two digits.
pub fn bytes(out: &mut String, bytes: &[u8]) {
    for &b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
}

/// Appends the low `digits` nibbles of `value`, most significant first:
/// `number(out, id, 32)` for a trace id, 16 for a span id.
pub fn number(out: &mut String, value: u128, digits: usize) {
    for i in (0..digits).rev() {
        out.push(char::from(DIGITS[((value >> (4 * i)) & 0xf) as usize]));
    }
}

/// The two digits of one byte, as a `&'static str` (the W3C flags).
#[inline]
pub fn byte(value: u8) -> &'static str {
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

/// Writes `bytes` as digits into `out`, which is twice as long.
#[inline]
pub fn into_slice(out: &mut [u8], bytes: &[u8]) {
    for (pair, byte) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
}

/// The 8 lowercase hex digits of `word`, worked out in one register.
#[inline]
pub fn word(word: u32) -> [u8; 8] {
    // Spread the nibbles one a byte, the lowest in the lowest byte.
    let mut x = u64::from(word);
    x = (x | (x << 16)) & 0x0000_ffff_0000_ffff;
    x = (x | (x << 8)) & 0x00ff_00ff_00ff_00ff;
    x = (x | (x << 4)) & 0x0f0f_0f0f_0f0f_0f0f;
    // '0' + n, and 39 more for a-f (n > 9, that is n + 6 reaches 16).
    let letters = ((x + 0x0606_0606_0606_0606) >> 4) & 0x0101_0101_0101_0101;
    (x + 0x3030_3030_3030_3030 + letters * 39).to_be_bytes()
}

/// The value of a lowercase digit. W3C ids are lowercase: `traceparent`
/// with an uppercase digit is invalid.
#[inline]
pub fn lower_digit(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    }
}

/// The value of a digit of either case, as a person pastes an id.
pub fn any_digit(b: u8) -> Option<u8> {
    lower_digit(b.to_ascii_lowercase())
}

/// `2 * N` digits of either case as `N` bytes; `None` for another length or
/// a character that is not a digit.
pub fn decode<const N: usize>(hex: &str) -> Option<[u8; N]> {
    let digits = hex.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        *byte = (any_digit(pair[0])? << 4) | any_digit(pair[1])?;
    }
    Some(out)
}

/// `bytes` as a new string of lowercase digits.
pub fn to_string(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(2 * bytes.len());
    self::bytes(&mut out, bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_matches_format() {
        for word in [
            0,
            1,
            9,
            10,
            15,
            16,
            0xdead_beef,
            0x0123_4567,
            0x89ab_cdef,
            u32::MAX,
        ] {
            assert_eq!(
                super::word(word),
                format!("{word:08x}").as_bytes(),
                "{word:#x}"
            );
        }
        let mut word = 0x9e37_79b9_u32;
        for _ in 0..10_000 {
            word = word.wrapping_mul(0x0019_660d).wrapping_add(0x3c6e_f35f);
            assert_eq!(super::word(word), format!("{word:08x}").as_bytes());
        }
    }

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

    #[test]
    fn decoding_takes_either_case_and_the_exact_length() {
        assert_eq!(decode::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(decode::<2>("0aF"), None);
        assert_eq!(decode::<2>("0aFg"), None);
        assert_eq!(decode::<2>("0aFf0"), None);
        assert_eq!(to_string(&[0x0a, 0xff]), "0aff");
        for b in 0..=255u8 {
            let lower = u8::from_str_radix(std::str::from_utf8(&[b]).unwrap_or("-"), 16).ok();
            let is_lower = !b.is_ascii_uppercase();
            assert_eq!(any_digit(b), lower, "{b}");
            assert_eq!(lower_digit(b), lower.filter(|_| is_lower), "{b}");
        }
    }
}
