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
/// other's temporary file. The bytes are written and synced in an unnamed file where the file
/// system has them, so a process killed meanwhile leaves nothing behind; the temporary name
/// exists only between the two calls that give it and rename it (see
/// [`remove_temporaries`] for what a kill there leaves).
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = temporary_name(path, &ulid::Ulid::new().to_string());
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match open_unnamed(parent).map_err(StoreError::io(parent))? {
        Some(mut f) => {
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .and_then(|_| link_unnamed(&f, &tmp))
                .map_err(StoreError::io(&tmp))?;
        }
        None => {
            let mut f = fs::File::create(&tmp).map_err(StoreError::io(&tmp))?;
            f.write_all(bytes)
                .and_then(|_| f.sync_all())
                .map_err(StoreError::io(&tmp))?;
        }
    }
    if let Err(e) = fs::rename(&tmp, path) {
        let _ = fs::remove_file(&tmp);
        return Err(StoreError::io(path)(e));
    }
    fs::File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(StoreError::io(parent))?;
    Ok(())
}

/// `.NAME.ID.tmp` beside `path`.
fn temporary_name(path: &Path, id: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{id}.tmp"))
}

/// Removes the temporary files [`write_atomically`] left beside `path` when killed. Only for
/// a caller that holds a lock every writer of `path` takes, so none of them is under way.
pub(crate) fn remove_temporaries(path: &Path) {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    for e in fs::read_dir(parent).into_iter().flatten().flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if n.starts_with(&prefix) && n.ends_with(".tmp") {
            let _ = fs::remove_file(e.path());
        }
    }
}

/// An unnamed file (`O_TMPFILE`) in `dir`, for writing what gets a name only once complete;
/// None where the file system (or kernel, or a missing /proc) does not allow one.
pub(crate) fn open_unnamed(dir: &Path) -> std::io::Result<Option<fs::File>> {
    use std::os::unix::fs::OpenOptionsExt;
    // Naming an unnamed file goes through /proc/self/fd.
    if !Path::new("/proc/self/fd").is_dir() {
        return Ok(None);
    }
    match fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_TMPFILE)
        .open(dir)
    {
        Ok(f) => Ok(Some(f)),
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Gives an unnamed file from [`open_unnamed`] the name `to`; fails with `AlreadyExists` if
/// that name is taken.
pub fn link_unnamed(file: &fs::File, to: &Path) -> std::io::Result<()> {
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    let from = std::ffi::CString::new(format!("/proc/self/fd/{}", file.as_raw_fd())).expect("no NUL in a number");
    let to = std::ffi::CString::new(to.as_os_str().as_bytes()).map_err(std::io::Error::other)?;
    // SAFETY: both are NUL-terminated paths that outlive the call; linkat only reads them.
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// A configured path: relative to the workspace unless absolute.
pub(crate) fn resolve(dir: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn atomic_writes_replace_the_file_and_leave_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head.json");
        write_atomically(&path, b"first").unwrap();
        write_atomically(&path, b"second").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["audit-head.json"]);
    }

    #[test]
    fn temporaries_a_killed_writer_left_are_removed_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit-head.json");
        write_atomically(&path, b"head").unwrap();
        for other in [
            ".audit-head.json.01M8S16FYBB1KET9CEQHDJ9Q8Y.tmp",
            ".evident.toml.01M8.tmp",
            "notes.tmp",
        ] {
            fs::write(dir.path().join(other), b"x").unwrap();
        }
        remove_temporaries(&path);
        assert_eq!(
            names(dir.path()),
            [".evident.toml.01M8.tmp", "audit-head.json", "notes.tmp"]
        );
        assert_eq!(fs::read(&path).unwrap(), b"head");
    }
}
