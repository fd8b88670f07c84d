//! Name-based (version 5, RFC 4122) UUIDs: the same name always gives the same UUID.

use sha1::{Digest, Sha1};

/// Evident's namespace for OSCAL UUIDs (itself a random version-4 UUID, fixed forever).
const NAMESPACE: [u8; 16] = [
    0x3f, 0x6c, 0x1d, 0x52, 0x8a, 0x04, 0x4e, 0x7b, 0x9c, 0x21, 0x5d, 0x0e, 0x47, 0xb3, 0x6a, 0x19,
];

/// The version-5 UUID of `name` in Evident's namespace.
pub fn uuid5(name: &str) -> String {
    let mut h = Sha1::new();
    h.update(NAMESPACE);
    h.update(name.as_bytes());
    let d = h.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&d[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_5_stable_and_distinct() {
        let a = uuid5("control ACC-01");
        assert_eq!(a, uuid5("control ACC-01"));
        assert_ne!(a, uuid5("control ACC-02"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "5");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"), "{a}");
    }
}
