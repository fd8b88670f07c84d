//! The local git collector: a repository's main line read with `git log`, with signature
//! status and review trailers.

use std::path::Path;
use std::process::Command;

use evident_core::facts::{Commit, Imported};

use crate::instant;

const FIELD: char = '\u{1f}';
const RECORD: char = '\u{1e}';
const TRAILER: char = '\u{1d}';

/// The output of `git log` (kept as evidence) and the commits read from it.
pub struct GitLog {
    pub raw: String,
    pub imported: Imported,
}

fn git(path: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(path)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git ({e}); is git installed?"))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `owner/repo` from the origin remote, else the folder's name.
fn repository_name(path: &Path) -> String {
    let from_remote = git(path, &["remote", "get-url", "origin"]).ok().and_then(|url| {
        let url = url.trim().trim_end_matches(".git");
        let tail = url.rsplit([':', '/']).take(2).collect::<Vec<_>>();
        (tail.len() == 2).then(|| format!("{}/{}", tail[1], tail[0]))
    });
    from_remote.unwrap_or_else(|| {
        path.canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "repository".into())
    })
}

/// Reads the first-parent history of `branch` (default: HEAD) since `since` (ISO date).
pub fn read(path: &Path, branch: Option<&str>, since: Option<&str>) -> Result<GitLog, String> {
    git(path, &["rev-parse", "--git-dir"]).map_err(|e| format!("{}: not a git repository ({e})", path.display()))?;
    let format = format!(
        "--format=%H{FIELD}%an{FIELD}%ae{FIELD}%cI{FIELD}%G?{FIELD}%P{FIELD}%s{FIELD}%(trailers:key=Reviewed-by,key=Approved-by,valueonly,separator={TRAILER}){RECORD}"
    );
    let since_arg = since.map(|s| format!("--since={s}"));
    let mut args = vec!["log", "--first-parent", format.as_str()];
    if let Some(s) = &since_arg {
        args.push(s);
    }
    args.push(branch.unwrap_or("HEAD"));
    let raw = git(path, &args).map_err(|e| format!("{}: git log failed: {e}", path.display()))?;
    let repository = repository_name(path);
    let mut commits = Vec::new();
    for record in raw
        .split(RECORD)
        .map(|r| r.trim_matches(['\n', '\r']))
        .filter(|r| !r.is_empty())
    {
        let f: Vec<&str> = record.split(FIELD).collect();
        if f.len() < 8 {
            return Err(format!("{}: unexpected git log output", path.display()));
        }
        let (author, email) = (f[1].to_string(), f[2].to_lowercase());
        let reviewers = f[7]
            .split(TRAILER)
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .filter(|r| !r.to_lowercase().contains(&email) && !r.starts_with(&author))
            .map(str::to_string)
            .collect();
        commits.push(Commit {
            repository: repository.clone(),
            sha: f[0].to_string(),
            author,
            author_email: email,
            committed_at: instant(f[3]).unwrap_or(0),
            signature: f[4].to_string(),
            merge: f[5].split_whitespace().count() > 1,
            title: f[6].to_string(),
            reviewers,
        });
    }
    Ok(GitLog {
        raw,
        imported: Imported {
            system: format!("git:{repository}"),
            commits,
            ..Default::default()
        },
    })
}
