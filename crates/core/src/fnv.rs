//! 64-bit FNV-1a: a stable, fast digest for ids and change detection, never a security
//! boundary (where an adversary is in play, SHA-256 is used).

pub(crate) const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

pub(crate) fn step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

pub(crate) fn hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(OFFSET, |h, b| step(h, *b))
}
