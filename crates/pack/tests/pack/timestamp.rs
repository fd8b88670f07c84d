//! RFC 3161 timestamps: a pack time-stamped by a stand-in authority (openssl, with RSA, P-256
//! and P-384 keys) verifies by the library, `evident-verify` and the standard-tool recipe; a
//! token with a flipped byte, a back-dated token, a token for other data, a manifest edited (and
//! re-signed by the instance key) after it was time-stamped, and a broken token are each caught
//! by all three with a precise reason; a reply is taken only when it grants a token for this request.

use std::path::Path;
use std::process::Command;

use ed25519_dalek::Signer;
use evident_pack::{PackError, TimestampQuery, fingerprint, verify, verify_path, verify_token};

use crate::fixture::{entry, good_pack, instance_key, rewrite, timestamped_pack};
use crate::tamper::Case;
use crate::tools::{run_script, tools_present};
use crate::tsa::{KeyKind, TestTsa, openssl_present};

/// `evident-verify PACK`: exit code and stdout.
fn evident_verify(pack: &Path, cwd: &Path) -> (Option<i32>, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_evident-verify"))
        .arg(pack)
        .current_dir(cwd)
        .output()
        .unwrap();
    (out.status.code(), String::from_utf8_lossy(&out.stdout).into_owned())
}

fn skip_without_tools() -> bool {
    if let Err(tool) = tools_present() {
        eprintln!("skipping: {tool} is not installed, so the stand-in TSA and the recipe cannot run");
        return true;
    }
    !openssl_present()
}

#[test]
fn a_timestamped_pack_verifies_everywhere_with_each_kind_of_tsa_key() {
    if skip_without_tools() {
        return;
    }
    let fp = fingerprint(&instance_key().verifying_key());
    for kind in [KeyKind::Rsa, KeyKind::P256, KeyKind::P384] {
        let tsa = TestTsa::new(kind);
        let dir = tempfile::tempdir().unwrap();
        let (path, bytes) = timestamped_pack(dir.path(), &tsa);

        let report = verify_path(&path, Some(&fp)).unwrap_or_else(|f| panic!("{kind:?}: {f}"));
        let t = report.timestamp.clone().expect("the token is reported");
        assert_eq!(t.tsa_fingerprint, tsa.fingerprint(), "{kind:?}: openssl's fingerprint");
        assert_eq!(t.tsa_subject, "CN=Evident Test TSA,O=Evident Tests");
        assert_eq!((t.hash, t.policy.as_str()), ("sha256", "1.3.6.1.4.1.4146.2.3"));
        assert_eq!(t.accuracy.as_deref(), Some("±1.5001 s"));
        assert!(t.time.len() == 20 && t.time.ends_with('Z'), "{}", t.time);
        let said: Vec<&str> = report.checks.iter().map(|c| c.what.as_str()).collect();
        for expected in [
            format!("manifest.tsr: manifest.json time-stamped at {} (±1.5001 s)", t.time),
            format!(
                "CN=Evident Test TSA,O=Evident Tests, sha256 fingerprint {}",
                t.tsa_fingerprint
            ),
        ] {
            assert!(
                said.iter().any(|s| s.contains(&expected)),
                "{expected:?} not in {said:#?}"
            );
        }

        // The manifest is byte for byte the one an untimestamped pack has: only the token is new.
        let (_, plain) = good_pack(&dir.path().join("plain"));
        assert_eq!(entry(&bytes, "manifest.json"), entry(&plain, "manifest.json"));
        assert_eq!(
            verify_token(&entry(&bytes, "manifest.tsr"), &entry(&plain, "manifest.json")).unwrap(),
            t
        );

        let cwd = dir.path().join("cwd");
        std::fs::create_dir(&cwd).unwrap();
        let (code, out) = evident_verify(&path, &cwd);
        assert_eq!(code, Some(0), "{kind:?}: {out}");
        assert!(
            out.contains("ok   manifest.tsr: manifest.json time-stamped at"),
            "{out}"
        );
        assert!(
            out.contains(&format!("certificate sha256 {}", t.tsa_fingerprint)),
            "{out}"
        );

        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let (code, out, err) = run_script(&path, Some(&fp), Some(&tsa.ca), &tmp, &cwd);
        assert_eq!(code, Some(0), "{kind:?}: {out}{err}");
        assert!(out.contains("ok   the TSA's certificate chains to ca.pem"), "{out}");
        assert!(
            out.contains(&format!(
                "by CN=Evident Test TSA,O=Evident Tests (certificate sha256 {})",
                t.tsa_fingerprint
            )),
            "the recipe prints the same fingerprint: {out}"
        );
        let (code, out, err) = run_script(&path, None, None, &tmp, &cwd);
        assert_eq!(code, Some(0), "{kind:?}: {out}{err}");
        assert!(
            out.contains("skip the TSA's certificate not checked against a CA"),
            "{out}"
        );
        assert!(out.ends_with("pack verified\n"), "{out}");
    }
}

/// Ways a time-stamped pack can be wrong about its timestamp.
fn token_cases(good: &[u8], tsa: &TestTsa) -> Vec<Case> {
    let token = entry(good, "manifest.tsr");
    let manifest = String::from_utf8(entry(good, "manifest.json")).unwrap();
    let with_token = |t: Vec<u8>| {
        rewrite(
            good,
            |name, b| Some(if name == "manifest.tsr" { t.clone() } else { b }),
            &[],
        )
    };

    let mut flipped = token.clone();
    *flipped.last_mut().unwrap() ^= 0x01;

    // Back-dated: the TSTInfo's genTime (the token's one GeneralizedTime; the certificates'
    // dates are UTCTime) moved ten years earlier, its signature left as it was.
    let mut backdated = token.clone();
    let at = backdated
        .windows(2)
        .position(|w| w == [0x18, 0x0f])
        .expect("genTime in the token");
    backdated[at + 4] -= 1;

    // The maker edits the manifest after it was time-stamped and signs it again with its own
    // (genuine) key: only the timestamp can tell.
    let title = "ACC-01 evidence for 2025-01-01 to 2025-06-30";
    assert!(manifest.contains(title));
    let edited = manifest.replace(title, "ACC-01 evidence for 2024-01-01 to 2024-06-30");
    let edited_sig = instance_key().sign(edited.as_bytes()).to_bytes().to_vec();
    let resigned = rewrite(
        good,
        |name, b| {
            Some(match name {
                "manifest.json" => edited.clone().into_bytes(),
                "manifest.sig" => edited_sig.clone(),
                _ => b,
            })
        },
        &[],
    );

    vec![
        Case {
            name: "a byte flipped in the token's signature",
            bytes: with_token(flipped),
            fingerprint: None,
            reason: "its signature does not verify with the certificate it carries (CN=Evident Test TSA".into(),
            is: |e| matches!(e, PackError::TimestampSignature { .. }),
        },
        Case {
            name: "genTime changed in the token",
            bytes: with_token(backdated),
            fingerprint: None,
            reason: "the messageDigest signed attribute is not the sha256 of the TSTInfo".into(),
            is: |e| matches!(e, PackError::Timestamp(_)),
        },
        Case {
            name: "a genuine token for other data",
            bytes: with_token(tsa.token_for(b"some other manifest\n", true)),
            fingerprint: None,
            reason: "a token for other data, or manifest.json was changed after it was time-stamped".into(),
            is: |e| {
                matches!(
                    e,
                    PackError::TimestampImprint {
                        algorithm: "sha256",
                        ..
                    }
                )
            },
        },
        Case {
            name: "manifest edited and re-signed after it was time-stamped",
            bytes: resigned,
            fingerprint: None,
            reason: "it time-stamps sha256".into(),
            is: |e| matches!(e, PackError::TimestampImprint { .. }),
        },
        Case {
            name: "a token without its certificate (certReq not set)",
            bytes: with_token(tsa.token_for(manifest.as_bytes(), false)),
            fingerprint: None,
            reason: "the token carries no certificate".into(),
            is: |e| matches!(e, PackError::Timestamp(_)),
        },
        Case {
            name: "a truncated token",
            bytes: with_token(token[..token.len() - 7].to_vec()),
            fingerprint: None,
            reason: "not a DER CMS ContentInfo".into(),
            is: |e| matches!(e, PackError::Timestamp(_)),
        },
    ]
}

#[test]
fn a_tampered_timestamp_is_caught_by_each_verifier_with_its_reason() {
    if skip_without_tools() {
        return;
    }
    let tsa = TestTsa::new(KeyKind::Rsa);
    let dir = tempfile::tempdir().unwrap();
    let (_, good) = timestamped_pack(dir.path(), &tsa);
    let (cwd, tmp) = (dir.path().join("cwd"), dir.path().join("tmp"));
    std::fs::create_dir(&cwd).unwrap();
    std::fs::create_dir(&tmp).unwrap();
    for (i, case) in token_cases(&good, &tsa).into_iter().enumerate() {
        let failure = verify(std::io::Cursor::new(&case.bytes), None).expect_err(case.name);
        assert!((case.is)(&failure.error), "{}: {:?}", case.name, failure.error);
        let said = failure.error.to_string();
        assert!(said.contains(&case.reason), "{}: {said}", case.name);
        assert!(said.starts_with("timestamp token (manifest.tsr): "), "{said}");

        let pack = dir.path().join(format!("tampered-{i}.zip"));
        std::fs::write(&pack, &case.bytes).unwrap();
        let (code, out) = evident_verify(&pack, &cwd);
        assert_eq!(code, Some(1), "{}: {out}", case.name);
        let last = out.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("FAIL ") && last.contains(&case.reason),
            "{}: {out}",
            case.name
        );

        let (code, out, err) = run_script(&pack, None, Some(&tsa.ca), &tmp, &cwd);
        assert_eq!(code, Some(1), "{}: {out}{err}", case.name);
        let last = out.lines().last().unwrap_or_default();
        assert!(last.starts_with("FAIL manifest.tsr"), "{}: {out}{err}", case.name);
    }
    assert_eq!(
        std::fs::read_dir(&cwd).unwrap().count(),
        0,
        "the verifiers wrote nothing"
    );
}

#[test]
fn a_reply_is_taken_only_when_it_grants_a_token_for_this_request() {
    if !openssl_present() {
        eprintln!("skipping: openssl is not installed");
        return;
    }
    let tsa = TestTsa::new(KeyKind::P256);
    let manifest = b"{\"format\":\"evident-pack-v1\"}\n";
    let query = TimestampQuery::new(manifest, 1);

    // openssl reads the request as RFC 3161 and grants it; the token stands on its own.
    let (token, t) = query.accept(&tsa.reply(query.der()), manifest).unwrap();
    assert_eq!(verify_token(&token, manifest).unwrap(), t);
    assert_eq!(t.tsa_fingerprint, tsa.fingerprint());

    let refused = query.accept(&tsa.refusal(query.der()), manifest).unwrap_err();
    assert!(matches!(refused, PackError::TsaReply(_)), "{refused:?}");
    let said = refused.to_string();
    assert!(
        said.contains("Rejection, not granted") && said.contains("badAlg"),
        "{said}"
    );

    // A genuine reply to another request for the same manifest: a replay, refused by nonce.
    let other = TimestampQuery::new(manifest, 2);
    let replayed = query.accept(&tsa.reply(other.der()), manifest).unwrap_err();
    assert!(
        replayed.to_string().contains("nonce is 02, the request's 01"),
        "{replayed}"
    );

    let elsewhere = TimestampQuery::new(b"other\n", 1);
    let misdirected = query.accept(&tsa.reply(elsewhere.der()), manifest).unwrap_err();
    assert!(
        matches!(misdirected, PackError::TimestampImprint { .. }),
        "{misdirected:?}"
    );

    for garbage in [&b""[..], b"<html>Service Unavailable</html>", &token] {
        let e = query.accept(garbage, manifest).unwrap_err();
        assert!(e.to_string().contains("not a DER RFC 3161 TimeStampResp"), "{e}");
    }
}
