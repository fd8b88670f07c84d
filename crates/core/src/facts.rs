//! Normalised records collected from outside systems. Each carries the evidence item (the
//! raw file, kept in the vault) it came from.

use serde::{Deserialize, Serialize};

/// An identity in one system: a person's login or a machine's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    /// e.g. `aws:123456789012`, `okta`, `google-workspace`.
    pub system: String,
    /// The system's own id for the account.
    pub external_id: String,
    pub username: String,
    pub email: Option<String>,
    /// false for service and machine identities.
    pub human: bool,
    /// `None` when the source does not say.
    pub mfa: Option<bool>,
    pub admin: bool,
    /// The cloud account's root user.
    pub root: bool,
    /// Milliseconds since the epoch.
    pub created_at: Option<i64>,
    pub last_activity: Option<i64>,
    pub disabled_at: Option<i64>,
    pub active: bool,
    pub access_keys: Vec<AccessKey>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessKey {
    pub label: String,
    pub active: bool,
    pub last_rotated: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Negligible,
    /// The scanner did not rate it, or used a word we do not know (its own word is kept).
    Unknown,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Negligible => "negligible",
            Severity::Unknown => "unknown",
        }
    }

    /// Scanners name severities differently; this is the common scale. `None` for a word none
    /// of the scanners we read uses (Trivy, Grype, OCSF, Red Hat's moderate/important): the
    /// caller counts it as unknown and says so, rather than guessing a rank for it.
    pub fn recognise(raw: &str) -> Option<Severity> {
        Some(match raw.trim().to_ascii_lowercase().as_str() {
            "critical" | "fatal" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" => Severity::Low,
            "negligible" | "informational" | "info" => Severity::Negligible,
            // The scanners' own "not rated".
            "unknown" | "other" => Severity::Unknown,
            _ => return None,
        })
    }

    /// [`Severity::recognise`], with a word we do not know counted as unknown.
    pub fn normalise(raw: &str) -> Severity {
        Severity::recognise(raw).unwrap_or(Severity::Unknown)
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Critical,
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Negligible,
            Severity::Unknown,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }
}

/// How a repository's branch is protected, as one source (branch protection or a ruleset)
/// states it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Protection {
    /// `owner/repo`.
    pub repository: String,
    /// A branch name, or `~DEFAULT_BRANCH` for a ruleset aimed at the default branch.
    pub branch: String,
    /// `branch-protection` or `ruleset:<id>`.
    pub source: String,
    pub required_approvals: i64,
    pub dismiss_stale_reviews: bool,
    pub code_owner_reviews: bool,
    pub status_checks: Vec<String>,
    pub enforce_admins: bool,
    pub allows_force_pushes: bool,
}

/// A merged change (pull request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub repository: String,
    pub number: i64,
    pub title: String,
    pub author: String,
    pub merged_at: i64,
    /// Logins whose latest review approved, excluding the author.
    pub approvers: Vec<String>,
}

/// A commit on a repository's main line, for teams whose review trail lives in git.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Commit {
    pub repository: String,
    pub sha: String,
    pub title: String,
    pub author: String,
    pub author_email: String,
    pub committed_at: i64,
    /// git's signature status: G good, U good but untrusted key, N none, B bad, and others.
    pub signature: String,
    pub merge: bool,
    /// People named in `Reviewed-by:` / `Approved-by:` trailers, other than the author.
    pub reviewers: Vec<String>,
}

/// A workstation or server as osquery reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Device {
    pub hostname: String,
    /// Milliseconds since the epoch.
    pub last_seen: i64,
    /// `None` when no disk-encryption query reported on this host.
    pub disk_encrypted: Option<bool>,
    pub os: Option<String>,
}

/// What one import yielded. Accounts replace the previous snapshot of `system`; findings are
/// one scan of `system` over `scope` (findings of that scope missing from a later scan are fixed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Imported {
    pub system: String,
    pub accounts: Vec<Account>,
    pub findings: Vec<Finding>,
    /// For a scan: what it covered (an image, a cloud account), so absence means fixed.
    pub scope: Option<String>,
    /// When the source says it observed this (a scan's own timestamp), in ms.
    pub observed_at: Option<i64>,
    pub protections: Vec<Protection>,
    pub changes: Vec<Change>,
    pub commits: Vec<Commit>,
    pub devices: Vec<Device>,
    /// The accounts are the system's whole list: they replace what it had (identity exports).
    pub replaces_accounts: bool,
    /// What was taken but is worth a person's look, one line each, naming the file and record
    /// (a severity no scanner we know uses).
    pub warnings: Vec<String>,
}

/// A vulnerability or misconfiguration as one scan saw it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// trivy, grype, prowler.
    pub source: String,
    /// The scanner's id: a CVE, a check id.
    pub external_id: String,
    /// What it was found on: an image and package, a cloud resource.
    pub resource: String,
    pub title: String,
    pub severity: Severity,
    /// The scanner's own word for the severity.
    pub severity_raw: String,
}

#[cfg(test)]
mod tests {
    use super::Severity;

    #[test]
    fn severities_normalise() {
        assert_eq!(Severity::normalise("CRITICAL"), Severity::Critical);
        assert_eq!(Severity::normalise("Moderate"), Severity::Medium);
        assert_eq!(Severity::normalise("Negligible"), Severity::Negligible);
        assert_eq!(Severity::normalise("Informational"), Severity::Negligible);
        assert_eq!(
            Severity::recognise("UNKNOWN"),
            Some(Severity::Unknown),
            "the scanner's own word"
        );
        assert_eq!(Severity::recognise("SEVERE"), None);
        assert_eq!(Severity::normalise("SEVERE"), Severity::Unknown);
        for s in [Severity::Critical, Severity::Negligible, Severity::Unknown] {
            assert_eq!(Severity::parse(s.as_str()), Some(s), "stored and read back");
        }
    }
}

/// How long a connector may go without a successful collection, once it has started failing
/// (or never succeeded), before its evidence counts as having stopped flowing.
pub const CONNECTOR_STOPPED_AFTER_MS: i64 = 86_400_000;

/// A configured connector's record of collecting: what the connection-health page shows and
/// the `connectors-collecting` check reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorFact {
    /// `github`.
    pub name: String,
    /// When it was configured (ms since the epoch).
    pub configured_at: i64,
    pub last_success_at: Option<i64>,
    /// The first failed run after the last success, if any failed since.
    pub failing_since: Option<i64>,
    /// Failed runs since the last success.
    pub failures: i64,
    /// The latest failure's reason, in words.
    pub last_error: Option<String>,
}

/// A connector's state, by [`ConnectorFact::state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectorState {
    /// Its latest run succeeded.
    Collecting,
    /// Configured less than a day ago and not run yet.
    Waiting,
    /// Failing (or never successful) for less than a day.
    Failing,
    /// No success for more than a day while failing, or never collected a day after it was
    /// configured: evidence has stopped flowing.
    Stopped,
}

impl ConnectorState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectorState::Collecting => "collecting",
            ConnectorState::Waiting => "waiting",
            ConnectorState::Failing => "failing",
            ConnectorState::Stopped => "stopped",
        }
    }
}

impl ConnectorFact {
    /// The rule: counted from its last success (or from when it was configured), a connector
    /// whose runs fail, or that never succeeded, has stopped once more than a day has passed.
    pub fn state(&self, now_ms: i64) -> ConnectorState {
        let since = self.last_success_at.unwrap_or(self.configured_at);
        let unsuccessful = self.failing_since.is_some() || self.last_success_at.is_none();
        match (unsuccessful, now_ms - since > CONNECTOR_STOPPED_AFTER_MS) {
            (true, true) => ConnectorState::Stopped,
            (false, _) => ConnectorState::Collecting,
            (true, false) if self.failing_since.is_some() => ConnectorState::Failing,
            (true, false) => ConnectorState::Waiting,
        }
    }
}
