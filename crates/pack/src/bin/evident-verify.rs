//! `evident-verify PACK.zip [--fingerprint HEX]`: checks an Evident evidence pack offline and
//! prints one line per check. Exit 0: every check passed; 1: a check failed (the last line
//! says which and why); 2: usage error.

use std::path::PathBuf;
use std::process::ExitCode;

use evident_pack::Outcome;

const USAGE: &str = "usage: evident-verify PACK.zip [--fingerprint HEX]\n\
    Checks an Evident evidence pack offline. HEX is the instance key's fingerprint (the\n\
    SHA-256 of its 32 public-key bytes) as your Evident instance shows it. A timestamp token\n\
    (manifest.tsr) is verified when the pack has one; compare the TSA certificate fingerprint\n\
    printed with the one the time-stamping authority publishes.";

fn main() -> ExitCode {
    let (pack, fingerprint) = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("evident-verify: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut show = |c: &evident_pack::Check| {
        let tag = match c.outcome {
            Outcome::Ok => "ok  ",
            Outcome::Skipped => "skip",
        };
        println!("{tag} {}", c.what);
    };
    let file = match std::fs::File::open(&pack) {
        Ok(f) => f,
        Err(e) => {
            println!("FAIL {}: {e}", pack.display());
            return ExitCode::from(1);
        }
    };
    match evident_pack::verify_with(file, fingerprint.as_deref(), &mut show) {
        Ok(report) => {
            println!("pack verified: manifest sha256 {}", report.manifest_sha256);
            if let Some(t) = &report.timestamp {
                println!(
                    "time-stamped at {} by {} (certificate sha256 {})",
                    t.time, t.tsa_subject, t.tsa_fingerprint
                );
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            println!("FAIL {}", failure.error);
            ExitCode::from(1)
        }
    }
}

/// `Ok(None)` asks for help.
fn parse(mut args: impl Iterator<Item = String>) -> Result<Option<(PathBuf, Option<String>)>, String> {
    let mut pack = None;
    let mut fingerprint = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--fingerprint" => {
                let v = args.next().ok_or("--fingerprint needs a value")?;
                fingerprint = Some(check_fingerprint(v)?);
            }
            _ if arg.starts_with("--fingerprint=") => {
                fingerprint = Some(check_fingerprint(arg["--fingerprint=".len()..].to_string())?);
            }
            _ if arg.starts_with('-') && arg.len() > 1 => return Err(format!("unknown option {arg}")),
            _ if pack.is_none() => pack = Some(PathBuf::from(arg)),
            _ => return Err(format!("unexpected argument {arg}: give one pack")),
        }
    }
    let pack = pack.ok_or("give the pack to verify")?;
    Ok(Some((pack, fingerprint)))
}

fn check_fingerprint(v: String) -> Result<String, String> {
    let v = v.trim().to_ascii_lowercase();
    if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(v)
    } else {
        Err(format!("--fingerprint {v:?}: expected 64 hex digits"))
    }
}
