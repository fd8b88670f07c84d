//! The CMS half of a timestamp token: the one SignerInfo, its signed attributes and its
//! signature, checked with the certificate the token carries (the request asks for it with
//! `certReq`). No trust store is consulted: the certificate's fingerprint is reported, and
//! tying it to a TSA is left to the reader (or to `openssl ts -verify -CAfile`).

use cms::signed_data::{SignedData, SignerIdentifier, SignerInfo};
use der::asn1::{ObjectIdentifier, OctetString};
use der::{Decode, Encode};
use ecdsa::signature::hazmat::PrehashVerifier;
use rsa::pkcs1::DecodeRsaPublicKey;
use x509_cert::Certificate;
use x509_cert::ext::pkix::SubjectKeyIdentifier;

use super::Hash;
use super::asn1::*;
use crate::error::PackError;

/// The certificate that signed a token.
pub(crate) struct Signer {
    /// Its subject, RFC 4514 style (`CN=…,O=…`).
    pub subject: String,
    /// SHA-256 of its DER, lowercase hex.
    pub fingerprint: String,
}

fn bad(reason: impl Into<String>) -> PackError {
    PackError::Timestamp(reason.into())
}

/// Checks that the token's single signer signed `tst_info` (the exact DER the token carries):
/// the content-type and message-digest signed attributes name and hash it, and the signature
/// over those attributes verifies with the signer's certificate from the token.
pub(crate) fn verify(signed: &SignedData, tst_info: &[u8]) -> Result<Signer, PackError> {
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(bad(format!(
            "{} signers, a timestamp token has exactly one",
            signed.signer_infos.0.len()
        )));
    };
    let cert = signer_certificate(signed, signer)?;
    let tbs = &cert.tbs_certificate;
    let subject = tbs.subject.to_string();
    let cert_der = cert
        .to_der()
        .map_err(|e| bad(format!("the signer's certificate cannot be encoded ({e})")))?;
    let fingerprint = hex::encode(Hash::Sha256.digest(&cert_der));

    let hash = Hash::from_algorithm(&signer.digest_alg.oid).ok_or_else(|| {
        bad(format!(
            "signer digest algorithm {} is not supported",
            signer.digest_alg.oid
        ))
    })?;
    let attrs = signer
        .signed_attrs
        .as_ref()
        .ok_or_else(|| bad("the signer has no signed attributes"))?;
    let attr = |oid: ObjectIdentifier, name: &str| {
        let found: Vec<_> = attrs.iter().filter(|a| a.oid == oid).collect();
        match found.as_slice() {
            [one] if one.values.len() == 1 => Ok(one.values.get(0).expect("one value")),
            [] => Err(bad(format!("the signed attributes lack {name}"))),
            _ => Err(bad(format!("the signed attributes hold {name} more than once"))),
        }
    };
    let content_type: ObjectIdentifier = attr(ID_CONTENT_TYPE, "content-type")?
        .decode_as()
        .map_err(|e| bad(format!("content-type attribute: {e}")))?;
    if content_type != ID_CT_TST_INFO {
        return Err(bad(format!(
            "the content-type signed attribute is {content_type}, not TSTInfo"
        )));
    }
    let digest: OctetString = attr(ID_MESSAGE_DIGEST, "message-digest")?
        .decode_as()
        .map_err(|e| bad(format!("message-digest attribute: {e}")))?;
    if digest.as_bytes() != hash.digest(tst_info).as_slice() {
        return Err(bad(format!(
            "the messageDigest signed attribute is not the {} of the TSTInfo: the time-stamped content was altered",
            hash.name()
        )));
    }

    // RFC 5652 §5.4: the signature covers the DER of the attributes as a SET OF, not as the
    // [0]-tagged field they travel in.
    let signed_bytes = attrs
        .to_der()
        .map_err(|e| bad(format!("the signed attributes cannot be encoded ({e})")))?;
    let prehash = hash.digest(&signed_bytes);
    let signature = signer.signature.as_bytes();
    let spki = &tbs.subject_public_key_info;
    let key_bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or_else(|| bad("the signer's public key is not a whole number of bytes"))?;
    let sig_alg = &signer.signature_algorithm.oid;
    let verified = match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            check_pairing(
                sig_alg,
                hash,
                &[RSA_ENCRYPTION],
                &[SHA256_WITH_RSA, SHA384_WITH_RSA, SHA512_WITH_RSA],
            )?;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key_bits)
                .map_err(|e| bad(format!("the signer's RSA key cannot be read ({e})")))?;
            key.verify(hash.pkcs1v15(), &prehash, signature).is_ok()
        }
        ID_EC_PUBLIC_KEY => {
            check_pairing(
                sig_alg,
                hash,
                &[ID_EC_PUBLIC_KEY],
                &[ECDSA_WITH_SHA256, ECDSA_WITH_SHA384, ECDSA_WITH_SHA512],
            )?;
            let curve: ObjectIdentifier = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.decode_as().ok())
                .ok_or_else(|| bad("the signer's EC key names no curve"))?;
            match curve {
                SECP256R1 => verify_ecdsa_p256(key_bits, &prehash, signature)?,
                SECP384R1 => verify_ecdsa_p384(key_bits, &prehash, signature)?,
                other => {
                    return Err(bad(format!(
                        "the signer's EC curve {other} is not supported (P-256, P-384 are)"
                    )));
                }
            }
        }
        other => {
            return Err(bad(format!(
                "the signer's key algorithm {other} is not supported (RSA and ECDSA are)"
            )));
        }
    };
    if !verified {
        return Err(PackError::TimestampSignature { subject });
    }
    Ok(Signer { subject, fingerprint })
}

/// The certificate among the token's that the SignerInfo names.
fn signer_certificate<'a>(signed: &'a SignedData, signer: &SignerInfo) -> Result<&'a Certificate, PackError> {
    let certs = signed
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|c| match c {
            cms::cert::CertificateChoices::Certificate(cert) => Some(cert),
            cms::cert::CertificateChoices::Other(_) => None,
        });
    let mut certs = certs.peekable();
    if certs.peek().is_none() {
        return Err(bad(
            "the token carries no certificate, so its signature cannot be checked (ask for one with certReq)",
        ));
    }
    let found = certs.find(|cert| {
        let tbs = &cert.tbs_certificate;
        match &signer.sid {
            SignerIdentifier::IssuerAndSerialNumber(id) => {
                id.issuer == tbs.issuer && id.serial_number == tbs.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => tbs
                .extensions
                .iter()
                .flatten()
                .filter(|e| e.extn_id == ID_SUBJECT_KEY_IDENTIFIER)
                .any(|e| SubjectKeyIdentifier::from_der(e.extn_value.as_bytes()).is_ok_and(|k| &k == ski)),
        }
    });
    found.ok_or_else(|| bad("none of the token's certificates is the one its signer names"))
}

/// The SignerInfo's signature algorithm must fit the key (`family`, the bare key algorithm, or
/// one of `with_hash`, whose hash must then be the digest algorithm's).
fn check_pairing(
    sig_alg: &ObjectIdentifier,
    hash: Hash,
    family: &[ObjectIdentifier],
    with_hash: &[ObjectIdentifier; 3],
) -> Result<(), PackError> {
    if family.contains(sig_alg) {
        return Ok(());
    }
    match with_hash.iter().position(|o| o == sig_alg) {
        Some(i) if [Hash::Sha256, Hash::Sha384, Hash::Sha512][i] == hash => Ok(()),
        Some(_) => Err(bad(format!(
            "signature algorithm {sig_alg} does not use the signer's digest algorithm ({})",
            hash.name()
        ))),
        None => Err(bad(format!(
            "signature algorithm {sig_alg} is not supported with this key (RSA PKCS#1 v1.5 and ECDSA are)"
        ))),
    }
}

fn verify_ecdsa_p256(point: &[u8], prehash: &[u8], signature: &[u8]) -> Result<bool, PackError> {
    let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| bad("the signer's P-256 key is not a valid curve point"))?;
    // A signature that does not even parse is one that does not verify.
    Ok(p256::ecdsa::Signature::from_der(signature).is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()))
}

fn verify_ecdsa_p384(point: &[u8], prehash: &[u8], signature: &[u8]) -> Result<bool, PackError> {
    let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(point)
        .map_err(|_| bad("the signer's P-384 key is not a valid curve point"))?;
    // A signature that does not even parse is one that does not verify.
    Ok(p384::ecdsa::Signature::from_der(signature).is_ok_and(|sig| key.verify_prehash(prehash, &sig).is_ok()))
}
