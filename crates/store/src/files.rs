//! Files that must be private to the owner, complete, and durable once written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::StoreError;

pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut f = open_private(path, true)?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(StoreError::io(path))
}

fn open_private(path: &Path, create_new: bool) -> Result<fs::File, StoreError> {
    let mut options = fs::OpenOptions::new();
    options.write(true);
    if create_new {
        options.create_new(true);
    } else {
        options.create(true);
    }
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map_err(StoreError::io(path))
}

/// Creates an empty owner-only file if none exists (an existing file is left as it is).
pub(crate) fn create_private_file(path: &Path) -> Result<(), StoreError> {
    open_private(path, false).map(drop)
}

pub(crate) fn restrict(path: &Path, mode: u32) -> Result<(), StoreError> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).map_err(StoreError::io(path))?;
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
    Ok(())
}

/// Writes a file so that it is either absent or complete, and durable once this returns.
/// The temporary name is unique, so two writers never write into, or rename away, each
/// other's temporary file.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", ulid::Ulid::new()));
    let mut f = fs::File::create(&tmp).map_err(StoreError::io(&tmp))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(StoreError::io(&tmp))?;
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io(path)(e));
    }
    if let Some(parent) = path.parent() {
        fs::File::open(parent)
            .and_then(|d| d.sync_all())
            .map_err(StoreError::io(parent))?;
    }
    Ok(())
}

/// A configured path: relative to the workspace unless absolute.
pub(crate) fn resolve(dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
}
