//! The instance key: an ed25519 key that will sign audit-log checkpoints and evidence packs.

use std::fs;
use std::io::Write;
use std::path::Path;

use ed25519_dalek::SigningKey;

use crate::StoreError;

/// Writes a fresh key (owner-only permissions) and its public half beside it.
pub(crate) fn generate(path: &Path) -> Result<(), StoreError> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).map_err(|e| StoreError::Config(format!("no system randomness: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    let dir = path.parent().expect("key file has a folder");
    fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    restrict(dir, 0o700)?;
    write_private(path, format!("{}\n", hex::encode(seed)).as_bytes())?;
    let public = path.with_extension("pub");
    fs::write(&public, format!("{}\n", hex::encode(key.verifying_key().as_bytes())))
        .map_err(StoreError::io(&public))?;
    Ok(())
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = options.open(path).map_err(StoreError::io(path))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(StoreError::io(path))
}

fn restrict(path: &Path, mode: u32) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(StoreError::io(path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}
