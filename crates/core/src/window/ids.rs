//! Exception ids: derived from what the exception is about, so the same finding keeps its id
//! from one day's reading to the next and a management response stays attached to it.

/// `EX-` and 12 hex digits of a 64-bit FNV-1a hash of the parts, joined by a separator no part
/// contains. Not a security boundary: ids only need to be stable and, in one window, distinct.
pub fn exception_id(parts: &[&str]) -> String {
    use crate::fnv::{OFFSET, step};
    let mut h: u64 = OFFSET;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = step(h, 0x1f);
        }
        for b in part.bytes() {
            h = step(h, b);
        }
    }
    format!("EX-{:012x}", h >> 16)
}

#[cfg(test)]
mod tests {
    use super::exception_id;

    #[test]
    fn ids_are_stable_and_tell_their_parts_apart() {
        let a = exception_id(&[
            "record",
            "leaver-accounts-disabled",
            "okta:bob@example.com",
            "1767225600000",
        ]);
        assert_eq!(
            a,
            exception_id(&[
                "record",
                "leaver-accounts-disabled",
                "okta:bob@example.com",
                "1767225600000"
            ])
        );
        assert_eq!(a.len(), 15);
        assert!(a.starts_with("EX-"));
        assert_ne!(exception_id(&["ab", "c"]), exception_id(&["a", "bc"]));
        assert_ne!(
            a,
            exception_id(&[
                "record",
                "leaver-accounts-disabled",
                "okta:bob@example.com",
                "1767312000000"
            ])
        );
    }
}
