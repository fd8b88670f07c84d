//! The audit log as listing rows, newest first.

pub mod api;
pub mod page;

use serde_json::json;

use crate::web::html::when;
use crate::web::table::{Cell, Column, Row, col};

/// Listing rows, newest first; `with_json` adds each entry's API form.
pub fn audit_rows(entries: &[evident_core::ledger::Entry], with_json: bool) -> Vec<Row> {
    entries
        .iter()
        .rev()
        .map(|e| Row {
            cells: vec![
                Cell::num(e.seq),
                Cell::text(when(e.at)),
                Cell::text(&e.actor),
                Cell::text(describe(&e.action)),
                Cell::text(&e.subject),
                Cell::text(&e.hash[..16]),
            ],
            json: if with_json {
                json!({"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "subject": e.subject,
                       "payload_hash": e.payload_hash, "prev_hash": e.prev_hash, "hash": e.hash})
            } else {
                serde_json::Value::Null
            },
            tags: vec![("action", e.action.clone())],
        })
        .collect()
}

pub const AUDIT_COLUMNS: [Column; 6] = [
    col("seq", "#"),
    col("at", "When (UTC)"),
    col("actor", "Who"),
    col("action", "Action"),
    col("subject", "Subject"),
    col("hash", "Hash"),
];

/// What an action did, in words for the page (the API keeps the action's name).
pub fn describe(action: &str) -> String {
    let words = match action {
        "workspace.init" => "workspace created",
        "scope.set" => "audit scope set",
        "scope.approve" => "audit scope signed off",
        "scope.component.add" => "system component added",
        "scope.component.remove" => "system component removed",
        "controls.adopt" => "controls adopted",
        "control.owner.set" => "control owner set",
        "control.not_applicable.set" => "control ruled not applicable",
        "control.not_applicable.clear" => "not-applicable ruling withdrawn",
        "evidence.add" => "evidence added",
        "evidence.supersede" => "new version of evidence",
        "evidence.withdraw" => "evidence withdrawn",
        "pack.create" => "evidence pack made",
        "pack.download" => "evidence pack downloaded",
        "checks.run" => "checks run",
        "checks.exclude" => "record set aside from a check",
        "facts.import" => "facts imported",
        "facts.generate" => "facts generated",
        "connector.configure" => "connector configured",
        "connector.run" => "connector collected",
        "job.schedule" => "job schedule changed",
        "policies.adopt" => "policies adopted",
        "policies.edit" => "policy edited (new draft)",
        "policies.parameter.set" => "policy parameter set",
        "policies.approve" => "policy approved",
        "policies.publish" => "policy published",
        "policies.accept" => "policy accepted",
        "policies.accept.import" => "policy acceptances imported",
        "org.role.set" => "role holder named",
        "risks.review" => "risk reviewed",
        "risks.sign_off" => "risk signed off",
        "users.add" => "user added",
        "users.role" => "user's role changed",
        "users.disable" => "user disabled",
        "users.enable" => "user enabled",
        "users.reset_password" => "password reset",
        "users.set_password" => "password changed",
        "users.totp_enable" => "second factor set up",
        "users.totp_replace" => "second factor replaced",
        "users.totp_reset" => "second factor removed",
        "tokens.create" => "API token created",
        "tokens.revoke" => "API token revoked",
        "auth.sign_in" => "signed in",
        "auth.sign_out_everywhere" => "signed out everywhere",
        other => {
            return match other.rsplit_once('.') {
                Some((register, "import")) => format!("{} imported", register.replace('_', " ")),
                Some((register, "write")) => format!("{} record saved", register.replace('_', " ")),
                _ => other.to_string(),
            };
        }
    };
    words.to_string()
}

/// Entries a person made, without the daily check runs that would bury them.
pub fn is_routine(action: &str) -> bool {
    action == "checks.run"
}
