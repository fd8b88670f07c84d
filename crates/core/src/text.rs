//! The one rule for text we store: it may not contain NUL (U+0000). PostgreSQL refuses it in
//! text columns (a raw database error) while SQLite keeps it silently, so it is refused at
//! validation, the same way on both. NUL is the only character PostgreSQL's UTF-8 text refuses;
//! Rust strings cannot hold the invalid sequences or lone surrogates it would also reject.

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("contains a NUL character (U+0000) at character {at}, which cannot be stored")]
pub struct NulError {
    /// 1-based position of the first NUL, in characters.
    pub at: usize,
}

/// Refuses text that may not be stored; callers name the file, line and field.
pub fn storable(text: &str) -> Result<(), NulError> {
    match text.chars().position(|c| c == '\0') {
        Some(i) => Err(NulError { at: i + 1 }),
        None => Ok(()),
    }
}

/// Percent-encodes everything but unreserved characters and `/` (for `?next=` and query links).
pub fn url_encode(s: &str) -> String {
    encode(s, b"-_.~/")
}

/// Percent-encodes one path segment: a `/` inside an id stays inside it.
pub fn url_segment(s: &str) -> String {
    encode(s, b"-_.~")
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_is_refused_with_its_position() {
        assert_eq!(storable("Ana López"), Ok(()));
        assert_eq!(storable(""), Ok(()));
        assert_eq!(
            storable("\u{1}\t\r\n\u{7f}"),
            Ok(()),
            "other control characters are stored"
        );
        assert_eq!(storable("é\0x"), Err(NulError { at: 2 }));
        assert_eq!(
            storable("\0").unwrap_err().to_string(),
            "contains a NUL character (U+0000) at character 1, which cannot be stored"
        );
    }
}
