//! Where things sit inside a pack, which names a pack may contain, and how each file is
//! compressed.

/// The signed description of the pack.
pub const MANIFEST: &str = "manifest.json";
/// Raw 64-byte Ed25519 signature over the exact bytes of `manifest.json`.
pub const MANIFEST_SIG: &str = "manifest.sig";
/// The optional RFC 3161 timestamp token (DER) over the exact bytes of `manifest.json`.
pub const MANIFEST_TSR: &str = "manifest.tsr";
/// The instance public key as a PEM SubjectPublicKeyInfo, for `openssl`.
pub const INSTANCE_PEM: &str = "instance.pem";
/// The audit-log segment, one JSON object per line.
pub const AUDIT_ENTRIES: &str = "audit/entries.jsonl";
/// `sha256sum -c` input for every file the manifest lists.
pub const SHA256SUMS: &str = "SHA256SUMS";
/// Folder of the evidence files.
pub const EVIDENCE_DIR: &str = "evidence/";

/// Longest file name kept, in bytes; longer names are cut (extension kept when short).
const MAX_NAME: usize = 120;

/// `evidence/<id>/<sanitised name>`: one folder per item, so two items with the same file
/// name never collide, and the auditor still sees the name the file had.
pub fn evidence_path(id: &str, file_name: &str) -> String {
    format!("{EVIDENCE_DIR}{id}/{}", sanitise_name(file_name))
}

/// An evidence id must be usable as a folder name as is (Evident's ids are ULIDs).
pub(crate) fn id_is_safe(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The last component of a file name, with characters that are unsafe or unportable in a
/// zip entry (separators, controls, `:*?"<>|`) replaced by `_`, and no leading dot (so no
/// `..` and no hidden files).
pub fn sanitise_name(file_name: &str) -> String {
    let last = file_name.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = last
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                '_'
            } else {
                c
            }
        })
        .collect();
    let trimmed = name.trim_start_matches('.').trim();
    name = if trimmed.is_empty() {
        "file".to_string()
    } else {
        trimmed.to_string()
    };
    if name.len() > MAX_NAME {
        let ext = name
            .rfind('.')
            .map(|i| name[i..].to_string())
            .filter(|e| e.len() <= 16)
            .unwrap_or_default();
        let mut cut = MAX_NAME - ext.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        name = format!("{}{ext}", &name[..cut]);
    }
    name
}

/// Why a zip entry name could write outside the folder it is extracted into (or is otherwise
/// not a name this format produces), if it could.
pub fn unsafe_name(name: &[u8]) -> Option<&'static str> {
    let Ok(name) = std::str::from_utf8(name) else {
        return Some("not UTF-8");
    };
    if name.is_empty() {
        return Some("empty");
    }
    if name.starts_with('/') {
        return Some("absolute path");
    }
    if name.contains('\\') {
        return Some("contains a backslash");
    }
    if name.contains(':') {
        return Some("contains a colon (drive letter or stream)");
    }
    if name.chars().any(char::is_control) {
        return Some("contains a control character");
    }
    // A trailing `/` marks a directory entry: harmless, and reported as an added file.
    let path = name.strip_suffix('/').unwrap_or(name);
    for part in path.split('/') {
        match part {
            "" => return Some("empty path component"),
            "." | ".." => return Some("contains a `.` or `..` component"),
            _ => {}
        }
    }
    None
}

/// Media types whose bytes are already compressed: stored as they are, since deflating them
/// again costs time and saves nothing.
pub(crate) fn is_precompressed(media_type: &str) -> bool {
    let m = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    m.starts_with("image/") && m != "image/svg+xml" && m != "image/bmp" && m != "image/tiff"
        || m.starts_with("video/")
        || m.starts_with("audio/")
        || m.starts_with("application/vnd.openxmlformats-officedocument.")
        || m.starts_with("application/vnd.oasis.opendocument.")
        || matches!(
            m.as_str(),
            "application/pdf"
                | "application/zip"
                | "application/gzip"
                | "application/x-gzip"
                | "application/x-bzip2"
                | "application/x-xz"
                | "application/zstd"
                | "application/x-7z-compressed"
                | "application/x-rar-compressed"
                | "application/vnd.rar"
                | "application/java-archive"
                | "application/epub+zip"
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise_name("report.pdf"), "report.pdf");
        assert_eq!(sanitise_name("../../etc/passwd"), "passwd");
        assert_eq!(sanitise_name("C:\\Users\\a\\b.txt"), "b.txt");
        assert_eq!(sanitise_name(".."), "file");
        assert_eq!(sanitise_name(".env"), "env");
        assert_eq!(sanitise_name("a:b?.txt"), "a_b_.txt");
        let long = format!("{}.xlsx", "é".repeat(100));
        let s = sanitise_name(&long);
        assert!(s.len() <= MAX_NAME && s.ends_with(".xlsx"), "{s}");
    }

    #[test]
    fn unsafe_names_are_named() {
        assert_eq!(unsafe_name(b"../x"), Some("contains a `.` or `..` component"));
        assert_eq!(
            unsafe_name(b"evidence/../../x"),
            Some("contains a `.` or `..` component")
        );
        assert_eq!(unsafe_name(b"/etc/x"), Some("absolute path"));
        assert_eq!(unsafe_name(b"a\\b"), Some("contains a backslash"));
        assert_eq!(unsafe_name(b"C:x"), Some("contains a colon (drive letter or stream)"));
        assert_eq!(unsafe_name(b"evidence/01J/a.pdf"), None);
        assert_eq!(unsafe_name(b"evidence/"), None);
    }
}
