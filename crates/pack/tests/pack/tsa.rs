//! A stand-in time-stamping authority: a CA and a TSA certificate (extendedKeyUsage critical
//! timeStamping) made by the `openssl` command in a temporary folder, and `openssl ts -reply`
//! answering queries. The CLI's tests include this file too, and serve it over HTTP.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The TSA's signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    Rsa,
    P256,
    P384,
}

pub struct TestTsa {
    pub dir: tempfile::TempDir,
    /// The CA that issued the TSA's certificate (PEM), for `openssl ts -verify -CAfile`.
    pub ca: PathBuf,
    /// The TSA's certificate (PEM).
    pub cert: PathBuf,
    config: PathBuf,
}

/// Runs `openssl args` in `dir`, panicking with its output when it fails.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl runs");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether the `openssl` command is there (every test machine has it; a bare one may not).
pub fn openssl_present() -> bool {
    Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success())
}

impl TestTsa {
    pub fn new(kind: KeyKind) -> TestTsa {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(
            d.join("ca.cnf"),
            "[ req ]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ca_ext\n\
             [ dn ]\nO = Evident Tests\nCN = Evident Test CA\n\
             [ ca_ext ]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             subjectKeyIdentifier = hash\n",
        )
        .unwrap();
        std::fs::write(
            d.join("tsa.ext"),
            "basicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature,nonRepudiation\n\
             extendedKeyUsage = critical,timeStamping\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n",
        )
        .unwrap();
        openssl(
            d,
            &[
                "req", "-x509", "-config", "ca.cnf", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out",
                "ca.pem", "-days", "3650",
            ],
        );
        let (key_args, digest): (&[&str], &str) = match kind {
            KeyKind::Rsa => (&["-newkey", "rsa:2048"], "sha256"),
            KeyKind::P256 => (&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"], "sha256"),
            KeyKind::P384 => (&["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-384"], "sha384"),
        };
        let mut req = vec![
            "req", "-new", "-config", "ca.cnf", "-nodes", "-keyout", "tsa.key", "-out", "tsa.csr",
        ];
        req.extend_from_slice(key_args);
        req.extend(["-subj", "/O=Evident Tests/CN=Evident Test TSA"]);
        openssl(d, &req);
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "tsa.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-set_serial",
                "7",
                "-days",
                "3650",
                "-extfile",
                "tsa.ext",
                "-out",
                "tsa.pem",
            ],
        );
        std::fs::write(d.join("serial"), "01\n").unwrap();
        let config = d.join("tsa.cnf");
        let section = |name: &str, digests: &str| {
            format!(
                "[ {name} ]\nserial = {dir}/serial\ncrypto_device = builtin\nsigner_cert = {dir}/tsa.pem\n\
                 signer_key = {dir}/tsa.key\nsigner_digest = {digest}\ndefault_policy = 1.3.6.1.4.1.4146.2.3\n\
                 digests = {digests}\naccuracy = secs:1, millisecs:500, microsecs:100\nclock_precision_digits = 0\n\
                 ordering = yes\ntsa_name = yes\ness_cert_id_chain = no\ness_cert_id_alg = sha256\n\n",
                dir = d.display()
            )
        };
        std::fs::write(
            &config,
            format!(
                "[ tsa ]\ndefault_tsa = grant\n\n{}{}",
                section("grant", "sha256, sha384, sha512"),
                // Knows no digest a request uses: answers every query with a rejection (badAlg).
                section("refuse", "md5")
            ),
        )
        .unwrap();
        TestTsa {
            ca: d.join("ca.pem"),
            cert: d.join("tsa.pem"),
            config,
            dir,
        }
    }

    fn answer(&self, query: &[u8], section: &str, token_only: bool) -> Vec<u8> {
        let d = self.dir.path();
        let q = tempfile::NamedTempFile::new_in(d).unwrap();
        std::fs::write(q.path(), query).unwrap();
        let mut args = vec![
            "ts",
            "-reply",
            "-config",
            self.config.to_str().unwrap(),
            "-section",
            section,
            "-queryfile",
            q.path().to_str().unwrap(),
        ];
        if token_only {
            args.push("-token_out");
        }
        openssl(d, &args)
    }

    /// The DER TimeStampResp granting `query` (a DER TimeStampReq).
    pub fn reply(&self, query: &[u8]) -> Vec<u8> {
        self.answer(query, "grant", false)
    }

    /// The DER TimeStampResp refusing `query` (status rejection, failInfo badAlg).
    pub fn refusal(&self, query: &[u8]) -> Vec<u8> {
        self.answer(query, "refuse", false)
    }

    /// A token over `data`, asked for as `openssl ts -query` does (`cert` sets certReq).
    pub fn token_for(&self, data: &[u8], cert: bool) -> Vec<u8> {
        let d = self.dir.path();
        let file = tempfile::NamedTempFile::new_in(d).unwrap();
        std::fs::write(file.path(), data).unwrap();
        let mut args = vec!["ts", "-query", "-data", file.path().to_str().unwrap(), "-sha256"];
        if cert {
            args.push("-cert");
        }
        let query = openssl(d, &args);
        self.answer(&query, "grant", true)
    }

    /// SHA-256 of the TSA certificate's DER, lowercase hex, as `openssl x509` computes it.
    pub fn fingerprint(&self) -> String {
        let out = openssl(
            self.dir.path(),
            &[
                "x509",
                "-in",
                self.cert.to_str().unwrap(),
                "-noout",
                "-fingerprint",
                "-sha256",
            ],
        );
        let text = String::from_utf8(out).unwrap();
        let hex = text.trim().rsplit('=').next().unwrap();
        hex.replace(':', "").to_ascii_lowercase()
    }
}
