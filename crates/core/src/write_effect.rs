//! What a write can change in the readiness assessment, told by the action its audit-log entry
//! names, so whoever keeps an assessment (the server's snapshot) redoes only that much after it.
//! An action not named here is taken to change everything: a new kind of write can only cost
//! time, never leave readiness stale.

/// How much of the assessment a write can change. Ordered: a run of writes needs the most any
/// one of them needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Effect {
    /// Nothing the assessment reads (sign-ins, tokens, users' roles, fieldwork, packs leaving).
    Nothing,
    /// Only the evidence library: its items, versions, withdrawals and links.
    Evidence,
    Everything,
}

/// The actions that change nothing the assessment or the window reads. Users and sessions live
/// apart from the people register (a user added with a person writes a separate `people`
/// entry); fieldwork records requests, samples and populations, which readiness never reads.
const NOTHING: &[&str] = &[
    "auth.sign_in",
    "auth.sign_out_everywhere",
    "tokens.create",
    "tokens.revoke",
    "users.add",
    "users.role",
    "users.totp_enable",
    "users.disable",
    "users.enable",
    "users.reset_password",
    "users.set_password",
    "users.totp_replace",
    "users.totp_reset",
    "pack.create",
    "pack.download",
    "engagement.create",
    "engagement.sizes",
    "engagement.status",
    "engagement.auditor.add",
    "engagement.auditor.remove",
    "population.run",
    "sample.draw",
    "sample.extend",
    "sample.result",
    // The task list: remediation work is read from the register when shown, never by the
    // assessment or the window.
    "tasks.write",
    "tasks.import",
    "readiness.plan",
    // A job's schedule: when work runs, not what the program holds.
    "job.schedule",
];

/// Fieldwork requests: every action under `requests.` (add, import, assign, comment, status
/// changes, evidence links) touches only the request list.
const NOTHING_PREFIXES: &[&str] = &["requests."];

const EVIDENCE: &[&str] = &[
    "evidence.add",
    "evidence.supersede",
    "evidence.withdraw",
    "evidence.relink",
];

pub fn effect_of(action: &str) -> Effect {
    if EVIDENCE.contains(&action) {
        Effect::Evidence
    } else if NOTHING.contains(&action) || NOTHING_PREFIXES.iter().any(|p| action.starts_with(p)) {
        Effect::Nothing
    } else {
        Effect::Everything
    }
}

/// What a run of writes can change altogether.
pub fn effect_of_all<'a>(actions: impl IntoIterator<Item = &'a str>) -> Effect {
    actions.into_iter().map(effect_of).max().unwrap_or(Effect::Nothing)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_any_write_needs() {
        assert_eq!(effect_of_all([]), Effect::Nothing);
        assert_eq!(
            effect_of_all(["auth.sign_in", "requests.comment", "tasks.write"]),
            Effect::Nothing
        );
        assert_eq!(effect_of_all(["auth.sign_in", "evidence.add"]), Effect::Evidence);
        assert_eq!(
            effect_of_all(["evidence.add", "people.import", "auth.sign_in"]),
            Effect::Everything
        );
        // Unknown and look-alike actions change everything.
        assert_eq!(effect_of("evidence.add.bulk"), Effect::Everything);
        assert_eq!(effect_of("checks.run"), Effect::Everything);
        assert_eq!(effect_of(""), Effect::Everything);
    }
}
