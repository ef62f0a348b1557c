//! Finding bytes in checked JSON text eight at a time (SWAR: plain u64
//! arithmetic, no SIMD needed on wasm32), for copying raw parts without
//! their whitespace. Only the first byte flagged in a word is exact, which
//! is the only one asked for.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The first index from `i` of a byte that matters outside strings:
/// whitespace or `"`, the only bytes below 0x23 that valid JSON has there
/// (`!` cannot be). `text.len()` if none.
pub fn outside_string(text: &[u8], i: usize) -> usize {
    find(text, i, |w| below(w, 0x23), |b| b < 0x23)
}

/// Whether checked JSON text with nothing around it may have whitespace
/// between its tokens: a tab, CR or LF anywhere (a string cannot hold them
/// unescaped), or a space next to one of `{}[]:,` (outside strings every
/// run of whitespace touches one). A string like `"a, b"` gives a false
/// yes, which costs only the slower copy; no means compact.
pub fn maybe_spaced(text: &[u8]) -> bool {
    let structural = |at: Option<usize>| {
        matches!(
            at.and_then(|j| text.get(j)),
            Some(b'{' | b'}' | b'[' | b']' | b':' | b',')
        )
    };
    let mut i = 0;
    loop {
        i = find(text, i, |w| below(w, 0x21), |b| b < 0x21);
        match text.get(i) {
            None => return false,
            Some(b' ') if !structural(i.checked_sub(1)) && !structural(Some(i + 1)) => i += 1,
            Some(_) => return true,
        }
    }
}

/// The first index from `i` of a `"` or `\` (the end of a string, or an
/// escape in it). `text.len()` if none.
pub fn in_string(text: &[u8], i: usize) -> usize {
    find(
        text,
        i,
        |w| zero_byte(w ^ (ONES * b'"' as u64)) | zero_byte(w ^ (ONES * b'\\' as u64)),
        |b| b == b'"' || b == b'\\',
    )
}

fn zero_byte(w: u64) -> u64 {
    below(w, 1)
}

/// High bits of the bytes of `w` below `n` (at most 0x80).
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * n as u64) & !w & HIGHS
}

/// `flags` marks the high bit of matching bytes of a little-endian word
/// (exactly for the lowest one); `matches` says the same of one byte.
fn find(
    text: &[u8],
    mut i: usize,
    flags: impl Fn(u64) -> u64,
    matches: impl Fn(u8) -> bool,
) -> usize {
    while let Some(chunk) = text.get(i..i + 8) {
        let word = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        let found = flags(word);
        if found != 0 {
            return i + (found.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < text.len() && !matches(text[i]) {
        i += 1;
    }
    i.min(text.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_match_in_any_position() {
        let bytes: &[u8] = b"\"\\ \n\r\t\x21\x22a{}";
        for len in 0..40 {
            for at in 0..len {
                for &b in bytes {
                    let mut text = vec![b'a'; len];
                    text[at] = b;
                    // A match after the first must not hide it.
                    if at + 1 < len {
                        text[at + 1] = b'"';
                    }
                    let naive_out = (0..len).find(|&j| text[j] < 0x23).unwrap_or(len);
                    let naive_in = (0..len)
                        .find(|&j| matches!(text[j], b'"' | b'\\'))
                        .unwrap_or(len);
                    assert_eq!(outside_string(&text, 0), naive_out, "{text:?}");
                    assert_eq!(in_string(&text, 0), naive_in, "{text:?}");
                    let from = at.min(3);
                    assert_eq!(
                        outside_string(&text, from),
                        (from..len).find(|&j| text[j] < 0x23).unwrap_or(len)
                    );
                }
            }
        }
        assert_eq!(outside_string(b"abc", 5), 3);
    }

    #[test]
    fn spaced_text_is_never_taken_for_compact() {
        for spaced in [
            "[1, 2]",
            "[1 ,2]",
            "{\"a\" :1}",
            "{\"a\": 1}",
            "[\n1]",
            "[1\t]",
            "[1\r\n]",
            "{ }",
            "[\"a\"  ]",
            "[\"x y\"   ,1]",
            "[\"a, b\"]",
        ] {
            assert!(maybe_spaced(spaced.as_bytes()), "{spaced}");
        }
        for compact in [
            "[1,2]",
            "{\"a b\":\"c  d\"}",
            "\"x y z\"",
            "[\"0123456789 abcdef\"]",
            "",
            "1",
        ] {
            assert!(!maybe_spaced(compact.as_bytes()), "{compact}");
        }
    }
}
