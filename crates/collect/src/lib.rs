//! Importers of the export formats companies already have: each turns a file's bytes into
//! normalised facts, or says precisely why the file is not what it claims to be. No IO.

mod aws;
pub mod git;
mod github;
pub mod github_api;
mod github_members;
mod identity;
mod osquery;
mod scanners;

pub use evident_core::facts::Imported;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {reason}")]
pub struct ImportError {
    pub file: String,
    pub reason: String,
}

pub(crate) fn bad(file: &str, reason: impl Into<String>) -> ImportError {
    ImportError {
        file: file.to_string(),
        reason: reason.into(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    pub about: &'static str,
    pub media_type: &'static str,
    /// Whether it reads companion files (`--with`) beside the main one.
    pub companions: bool,
}

pub const KINDS: &[Kind] = &[
    Kind {
        name: "aws-credential-report",
        about: "AWS IAM credential report (CSV, `aws iam get-credential-report`)",
        companions: false,
        media_type: "text/csv",
    },
    Kind {
        name: "okta-users",
        about: "Okta Users API list (JSON), with each user's Factors API list given as --with",
        companions: true,
        media_type: "application/json",
    },
    Kind {
        name: "google-workspace-users",
        about: "Google Workspace Directory users.list (JSON)",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "trivy",
        about: "Trivy JSON report (SchemaVersion 2)",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "grype",
        about: "Grype JSON report",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "prowler",
        about: "Prowler OCSF JSON (Detection Finding, class 2004)",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "github-branch-protection",
        about: "GitHub branch protection (JSON, one response or an array of them)",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "github-rulesets",
        about: "GitHub repository rulesets (JSON, one or an array)",
        companions: false,
        media_type: "application/json",
    },
    Kind {
        name: "github-pull-requests",
        about: "GitHub closed pull requests (JSON list), each one's reviews list given as --with",
        companions: true,
        media_type: "application/json",
    },
    Kind {
        name: "github-members",
        about: "GitHub organisation members (JSON, GET /orgs/{org}/members); as --with: owners (?role=admin), the organisation, app installations, fine-grained tokens, credential authorizations, SAML identities (GraphQL)",
        companions: true,
        media_type: "application/json",
    },
    Kind {
        name: "osquery",
        about: "osquery result log (JSON lines; disk_encryption and os_version queries are read)",
        companions: false,
        media_type: "application/x-ndjson",
    },
];

pub fn kind(name: &str) -> Option<&'static Kind> {
    KINDS.iter().find(|k| k.name == name)
}

/// Parses one export. `with` carries companion files (Okta factor lists).
pub fn import(kind: &Kind, file: &str, bytes: &[u8], with: &[(String, Vec<u8>)]) -> Result<Imported, ImportError> {
    match kind.name {
        "aws-credential-report" => aws::credential_report(file, bytes),
        "okta-users" => identity::okta(file, bytes, with),
        "google-workspace-users" => identity::google_workspace(file, bytes),
        "github-branch-protection" => github::branch_protection(file, bytes),
        "github-rulesets" => github::rulesets(file, bytes),
        "github-pull-requests" => github::pull_requests(file, bytes, with),
        "github-members" => github_members::members(file, bytes, with),
        "osquery" => osquery::results(file, bytes),
        "trivy" => scanners::trivy(file, bytes),
        "grype" => scanners::grype(file, bytes),
        "prowler" => scanners::prowler(file, bytes),
        other => Err(bad(file, format!("no importer for '{other}'"))),
    }
}

/// RFC 3339 to milliseconds; `None` for the placeholders exports use for "never".
pub(crate) fn instant(s: &str) -> Option<i64> {
    let t = s.trim();
    if t.is_empty() || matches!(t, "N/A" | "no_information" | "not_supported") {
        return None;
    }
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(|d| (d.unix_timestamp_nanos() / 1_000_000) as i64)
}

/// Parses a JSON export and refuses it whole if any of its text may not be stored (see
/// [`unstorable`]), before anything is read from it.
pub(crate) fn json(file: &str, bytes: &[u8]) -> Result<serde_json::Value, ImportError> {
    let v =
        serde_json::from_slice(bytes).map_err(|e| bad(file, format!("not valid JSON ({e}); is the file complete?")))?;
    match unstorable(&v) {
        Some(problem) => Err(bad(file, problem)),
        None => Ok(v),
    }
}

/// The first string or member name anywhere in a JSON document that may not be stored
/// ([`evident_core::text::storable`]), as "JSON pointer: reason". Checked on the whole document
/// rather than on the fields an importer reads, so no importer can forget one.
pub(crate) fn unstorable(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> Option<String> {
        use serde_json::Value;
        let at = |path: &str, e| Some(format!("{}: {e}", if path.is_empty() { "/" } else { path }));
        match v {
            Value::String(s) => evident_core::text::storable(s).err().and_then(|e| at(path, e)),
            Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
                let len = path.len();
                path.push_str(&format!("/{i}"));
                let found = walk(item, path);
                path.truncate(len);
                found
            }),
            Value::Object(members) => members.iter().find_map(|(name, item)| {
                let len = path.len();
                // A JSON pointer escapes `~` and `/`; the NUL is spelled out rather than printed.
                path.push('/');
                path.push_str(&name.replace('~', "~0").replace('/', "~1").replace('\0', "\\u0000"));
                let found = match evident_core::text::storable(name) {
                    Err(e) => at(&format!("{path} (the member's name)"), e),
                    Ok(()) => walk(item, path),
                };
                path.truncate(len);
                found
            }),
            _ => None,
        }
    }
    walk(v, &mut String::new())
}

/// Names the format a JSON document looks like, for "wrong kind of file" messages.
pub(crate) fn looks_like(v: &serde_json::Value) -> &'static str {
    let first = v.as_array().and_then(|a| a.first()).unwrap_or(v);
    if v.get("SchemaVersion").is_some() && v.get("Results").is_some() {
        "a Trivy report"
    } else if v.get("matches").is_some() && v.get("descriptor").is_some() {
        "a Grype report"
    } else if first.get("class_uid").is_some() {
        "an OCSF (Prowler) finding list"
    } else if v.get("kind").and_then(|k| k.as_str()) == Some("admin#directory#users") {
        "a Google Workspace users list"
    } else if first.get("factorType").is_some() {
        "an Okta factors list"
    } else if first.get("profile").and_then(|p| p.get("login")).is_some() {
        "an Okta users list"
    } else {
        "something else"
    }
}

#[cfg(test)]
mod tests {
    use super::unstorable;

    #[test]
    fn the_first_text_that_cannot_be_stored_is_located_by_json_pointer() {
        let at = |doc: &str| unstorable(&serde_json::from_str(doc).unwrap());
        assert_eq!(at(r#"{"a": ["ok", 1, null, {"b": true}]}"#), None);
        assert_eq!(
            at(r#"{"a/b": [1, "ok", {"c~d": "x\u0000"}]}"#).unwrap(),
            "/a~1b/2/c~0d: contains a NUL character (U+0000) at character 2, which cannot be stored"
        );
        assert!(at(r#""\u0000""#).unwrap().starts_with("/: contains a NUL"));
        assert!(
            at(r#"{"k\u0000": 1}"#)
                .unwrap()
                .starts_with(r"/k\u0000 (the member's name): contains a NUL"),
            "the name is spelled out, not printed"
        );
    }
}
