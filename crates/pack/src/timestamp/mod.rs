//! Optional RFC 3161 trusted timestamps over `manifest.json`: the request a time-stamping
//! authority (TSA) is sent, the checks on its reply, and the verification of the token a pack
//! keeps as `manifest.tsr` (the DER `TimeStampToken`, a CMS ContentInfo, which `openssl ts
//! -verify -token_in` reads). The network is not here: the caller posts the request.
//!
//! A token proves, by the TSA's signature, that `manifest.json` existed at the TSA's time, so
//! a pack cannot be back-dated or remade later by its maker. It is not part of the signed
//! manifest (it can only be made after it), so two packs of the same items have identical
//! manifests but different tokens.

mod asn1;
mod signer;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use der::asn1::{Any, OctetString, Uint};
use der::{Decode, Encode, Tag, Tagged};
use serde::Serialize;
use sha2::{Digest, Sha256, Sha384, Sha512};
use x509_cert::spki::AlgorithmIdentifierOwned;

use crate::error::PackError;
use asn1::*;

/// Media type of a request, as RFC 3161 §3.4 has it posted.
pub const QUERY_MEDIA_TYPE: &str = "application/timestamp-query";
/// Media type of a TSA's reply.
pub const REPLY_MEDIA_TYPE: &str = "application/timestamp-reply";

/// What a verified token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timestamp {
    /// The TSA's time (genTime), RFC 3339 UTC, with the fraction of a second the TSA gave.
    pub time: String,
    /// How far `time` may be off, as the TSA states it (e.g. `±1.5 s`), if it does.
    pub accuracy: Option<String>,
    /// The hash the TSA signed: `sha256` (the request's), or what an other client asked for.
    pub hash: &'static str,
    /// The token's serial number, hex.
    pub serial: String,
    /// The TSA's policy under which it was issued (an OID).
    pub policy: String,
    /// Subject of the certificate that signed the token (`CN=…,O=…`).
    pub tsa_subject: String,
    /// SHA-256 of that certificate's DER, lowercase hex: compare it with the TSA's published
    /// certificate (`openssl x509 -in tsa.pem -outform DER | sha256sum`).
    pub tsa_fingerprint: String,
}

/// A request to time-stamp one manifest: SHA-256 imprint of its exact bytes, a nonce (so a
/// replayed reply is refused), and `certReq` (so the token carries the certificate that
/// checks it).
#[derive(Debug, Clone)]
pub struct TimestampQuery {
    der: Vec<u8>,
    nonce: Uint,
}

impl TimestampQuery {
    pub fn new(manifest: &[u8], nonce: u64) -> TimestampQuery {
        let nonce = Uint::new(&nonce.to_be_bytes()).expect("eight bytes make an INTEGER");
        let request = TimeStampReq {
            version: 1,
            message_imprint: MessageImprint {
                hash_algorithm: AlgorithmIdentifierOwned {
                    oid: ID_SHA256,
                    parameters: Some(Any::null()),
                },
                hashed_message: OctetString::new(Hash::Sha256.digest(manifest)).expect("a digest fits"),
            },
            req_policy: None,
            nonce: Some(nonce.clone()),
            cert_req: true,
            extensions: None,
        };
        TimestampQuery {
            der: request.to_der().expect("a request always encodes"),
            nonce,
        }
    }

    /// The DER `TimeStampReq` to post.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// Reads the TSA's reply to this request for `manifest`: it must grant a token that
    /// time-stamps `manifest`, echoes the nonce and verifies. Returns the token's DER (what
    /// `manifest.tsr` holds) and what it says.
    pub fn accept(&self, reply: &[u8], manifest: &[u8]) -> Result<(Vec<u8>, Timestamp), PackError> {
        let reply = TimeStampResp::from_der(reply)
            .map_err(|e| PackError::TsaReply(format!("not a DER RFC 3161 TimeStampResp ({e})")))?;
        let status = &reply.status;
        if !matches!(status.status, PkiStatus::Granted | PkiStatus::GrantedWithMods) {
            let mut why = format!("status {:?}, not granted", status.status);
            for text in status.status_string.iter().flatten() {
                why.push_str(&format!("; {text:?}"));
            }
            for name in status.fail_info.as_ref().map(failure_names).unwrap_or_default() {
                why.push_str(&format!("; {name}"));
            }
            return Err(PackError::TsaReply(why));
        }
        let token = reply
            .time_stamp_token
            .ok_or_else(|| PackError::TsaReply("granted, but no token in the reply".into()))?
            .to_der()
            .map_err(|e| PackError::TsaReply(format!("the token cannot be encoded ({e})")))?;
        let (timestamp, tst_info) = check_token(&token, manifest)?;
        if tst_info.nonce.as_ref() != Some(&self.nonce) {
            return Err(PackError::TsaReply(format!(
                "the token's nonce is {}, the request's {}: not the answer to this request",
                tst_info
                    .nonce
                    .map_or_else(|| "missing".to_string(), |n| hex::encode(n.as_bytes())),
                hex::encode(self.nonce.as_bytes())
            )));
        }
        Ok((token, timestamp))
    }
}

/// Verifies a `manifest.tsr` token against the exact bytes of `manifest.json`: it parses,
/// its signature verifies with the certificate it carries, and it time-stamps `manifest`.
pub fn verify_token(token: &[u8], manifest: &[u8]) -> Result<Timestamp, PackError> {
    check_token(token, manifest).map(|(timestamp, _)| timestamp)
}

fn check_token(token: &[u8], manifest: &[u8]) -> Result<(Timestamp, TstInfo), PackError> {
    let bad = |reason: String| PackError::Timestamp(reason);
    let info = ContentInfo::from_der(token).map_err(|e| bad(format!("not a DER CMS ContentInfo ({e})")))?;
    if info.content_type != ID_SIGNED_DATA {
        return Err(bad(format!("content type {}, not CMS SignedData", info.content_type)));
    }
    let signed: SignedData = info
        .content
        .decode_as()
        .map_err(|e| bad(format!("not a CMS SignedData ({e})")))?;
    let encap = &signed.encap_content_info;
    if encap.econtent_type != ID_CT_TST_INFO {
        return Err(bad(format!(
            "it signs content of type {}, not TSTInfo",
            encap.econtent_type
        )));
    }
    let content = encap
        .econtent
        .as_ref()
        .filter(|c| c.tag() == Tag::OctetString)
        .ok_or_else(|| bad("the signed content is missing".into()))?
        .value();
    let tst_info = TstInfo::from_der(content).map_err(|e| bad(format!("the TSTInfo cannot be read ({e})")))?;
    if tst_info.version != 1 {
        return Err(bad(format!("TSTInfo version {}, not 1", tst_info.version)));
    }
    let signer = signer::verify(&signed, content)?;

    let imprint = &tst_info.message_imprint;
    let hash = Hash::from_algorithm(&imprint.hash_algorithm.oid).ok_or_else(|| {
        bad(format!(
            "it time-stamps a hash by algorithm {}, which is not supported",
            imprint.hash_algorithm.oid
        ))
    })?;
    let expected = hash.digest(manifest);
    if imprint.hashed_message.as_bytes() != expected.as_slice() {
        return Err(PackError::TimestampImprint {
            algorithm: hash.name(),
            token: hex::encode(imprint.hashed_message.as_bytes()),
            manifest: hex::encode(expected),
        });
    }
    let time = gen_time(&tst_info.gen_time).ok_or_else(|| bad("genTime is not a GeneralizedTime in UTC".into()))?;
    let timestamp = Timestamp {
        time,
        accuracy: tst_info.accuracy.as_ref().map(accuracy),
        hash: hash.name(),
        serial: hex::encode(tst_info.serial_number.as_bytes()),
        policy: tst_info.policy.to_string(),
        tsa_subject: signer.subject,
        tsa_fingerprint: signer.fingerprint,
    };
    Ok((timestamp, tst_info))
}

/// `YYYYMMDDHHMMSS[.fff]Z` as RFC 3339, or `None` when it is not a UTC GeneralizedTime.
fn gen_time(value: &Any) -> Option<String> {
    if value.tag() != Tag::GeneralizedTime {
        return None;
    }
    let text = std::str::from_utf8(value.value()).ok()?.strip_suffix('Z')?;
    let (whole, fraction) = match text.split_once('.') {
        Some((whole, fraction)) => (whole, Some(fraction)),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if whole.len() != 14 || !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return None;
    }
    let field = |at: usize| whole[at..at + 2].parse::<u32>().expect("digits");
    let (month, day, hour, minute, second) = (field(4), field(6), field(8), field(10), field(12));
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}{}Z",
        &whole[0..4],
        &whole[4..6],
        &whole[6..8],
        &whole[8..10],
        &whole[10..12],
        &whole[12..14],
        fraction.map(|f| format!(".{f}")).unwrap_or_default()
    ))
}

fn accuracy(a: &Accuracy) -> String {
    let micros = a.seconds.unwrap_or(0) * 1_000_000
        + u64::from(a.millis.unwrap_or(0)) * 1_000
        + u64::from(a.micros.unwrap_or(0));
    let fraction = format!("{:06}", micros % 1_000_000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("±{} s", micros / 1_000_000)
    } else {
        format!("±{}.{fraction} s", micros / 1_000_000)
    }
}

/// The digests a token may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_algorithm(oid: &der::asn1::ObjectIdentifier) -> Option<Hash> {
        match *oid {
            ID_SHA256 => Some(Hash::Sha256),
            ID_SHA384 => Some(Hash::Sha384),
            ID_SHA512 => Some(Hash::Sha512),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Hash::Sha256 => "sha256",
            Hash::Sha384 => "sha384",
            Hash::Sha512 => "sha512",
        }
    }

    fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            Hash::Sha256 => Sha256::digest(data).to_vec(),
            Hash::Sha384 => Sha384::digest(data).to_vec(),
            Hash::Sha512 => Sha512::digest(data).to_vec(),
        }
    }

    /// RSA PKCS#1 v1.5 with this hash's DigestInfo.
    fn pkcs1v15(self) -> rsa::Pkcs1v15Sign {
        match self {
            Hash::Sha256 => rsa::Pkcs1v15Sign::new::<Sha256>(),
            Hash::Sha384 => rsa::Pkcs1v15Sign::new::<Sha384>(),
            Hash::Sha512 => rsa::Pkcs1v15Sign::new::<Sha512>(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn time(text: &str) -> Option<String> {
        gen_time(&Any::new(Tag::GeneralizedTime, text.as_bytes()).unwrap())
    }

    #[test]
    fn gen_time_reads_whole_and_fractional_seconds() {
        assert_eq!(time("20250301120000Z").as_deref(), Some("2025-03-01T12:00:00Z"));
        assert_eq!(time("20250301120000.25Z").as_deref(), Some("2025-03-01T12:00:00.25Z"));
        assert_eq!(time("20250301120000"), None, "local time is refused");
        assert_eq!(time("20251301120000Z"), None);
        assert_eq!(time("2025030112000Z"), None);
        assert_eq!(time("20250301120000.Z"), None);
    }

    #[test]
    fn accuracy_reads_as_seconds() {
        let a = |s, ms, us| Accuracy {
            seconds: s,
            millis: ms,
            micros: us,
        };
        assert_eq!(accuracy(&a(Some(1), Some(500), Some(100))), "±1.5001 s");
        assert_eq!(accuracy(&a(Some(2), None, None)), "±2 s");
        assert_eq!(accuracy(&a(None, Some(5), None)), "±0.005 s");
    }

    #[test]
    fn a_query_is_der_with_the_manifest_hash_nonce_and_cert_req() {
        let q = TimestampQuery::new(b"{}\n", 0x0102_0304_0506_0708);
        let req = TimeStampReq::from_der(q.der()).unwrap();
        assert_eq!(req.version, 1);
        assert!(req.cert_req);
        assert_eq!(req.message_imprint.hash_algorithm.oid, ID_SHA256);
        assert_eq!(
            req.message_imprint.hashed_message.as_bytes(),
            &Sha256::digest(b"{}\n")[..]
        );
        assert_eq!(req.nonce.unwrap().as_bytes(), [1, 2, 3, 4, 5, 6, 7, 8]);
    }

    #[test]
    fn a_refusal_is_named() {
        // status rejection, statusString "busy", failInfo with bit 14 (timeNotAvailable) set.
        let reply = [
            0x30, 0x12, 0x30, 0x10, 0x02, 0x01, 0x02, 0x30, 0x06, 0x0c, 0x04, b'b', b'u', b's', b'y', 0x03, 0x03, 0x01,
            0x00, 0x02,
        ];
        let q = TimestampQuery::new(b"{}\n", 7);
        let err = q.accept(&reply, b"{}\n").unwrap_err().to_string();
        assert!(
            err.contains("Rejection") && err.contains("\"busy\"") && err.contains("timeNotAvailable"),
            "{err}"
        );
        let err = q.accept(b"<html>oops</html>", b"{}\n").unwrap_err().to_string();
        assert!(err.contains("not a DER RFC 3161 TimeStampResp"), "{err}");
    }
}
