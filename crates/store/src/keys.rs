//! The instance key: an ed25519 key that will sign audit-log checkpoints and evidence packs.

use std::fs;
use std::path::Path;

use ed25519_dalek::SigningKey;

use crate::StoreError;
use crate::files::{restrict, write_private};

/// Writes a fresh key (owner-only permissions) and its public half beside it.
pub(crate) fn generate(path: &Path) -> Result<(), StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Config(format!("no system randomness: {e}")))?;
    write(path, &SigningKey::from_bytes(&seed))
}

/// Writes `key` (owner-only permissions, refusing to replace a file) and its public half beside it.
pub(crate) fn write(path: &Path, key: &SigningKey) -> Result<(), StoreError> {
    let dir = path.parent().expect("key file has a folder");
    fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    restrict(dir, 0o700)?;
    write_private(path, format!("{}\n", hex::encode(key.to_bytes())).as_bytes())?;
    let public = path.with_extension("pub");
    fs::write(&public, format!("{}\n", hex::encode(key.verifying_key().as_bytes())))
        .map_err(StoreError::io(&public))?;
    Ok(())
}

/// A key from the hex text of a key file.
pub(crate) fn parse(text: &str) -> Option<SigningKey> {
    let bytes = hex::decode(text.trim()).ok()?;
    Some(SigningKey::from_bytes(&<[u8; 32]>::try_from(bytes).ok()?))
}

/// Reads the instance key written by [`generate`].
pub(crate) fn load(path: &Path) -> Result<SigningKey, StoreError> {
    let text = fs::read_to_string(path).map_err(StoreError::io(path))?;
    parse(&text).ok_or_else(|| StoreError::Config(format!("{}: not an Evident instance key", path.display())))
}
