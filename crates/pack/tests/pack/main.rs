//! evident-pack's integration tests: packs built from a synthetic audit chain, verified by the
//! library, the `evident-verify` binary and `docs/verify-pack.sh`, and tampered with in every
//! way the format must catch; time-stamped by a stand-in RFC 3161 authority (`openssl ts`).

mod fixture;
mod roundtrip;
mod tamper;
mod timestamp;
mod tools;
mod tsa;
