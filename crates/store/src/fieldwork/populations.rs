//! Populations: each kind is one query over the records (or one replay of the audit log), stated
//! in words and as the exact SQL in the file's header, so an auditor can judge completeness and
//! accuracy and re-run it.

use std::collections::BTreeMap;

use evident_catalog::PopulationKind;
use evident_core::checks::finding_sla;
use evident_core::facts::Severity;
use evident_core::fieldwork::{Item, Population};
use evident_core::window::Period;
use evident_core::{date_of_ms, day_start_ms, format_date};
use serde_json::Value as Json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::{StoreError, Workspace};

/// What a kind of population is: its words, the query that produces it, its columns.
pub struct Spec {
    pub kind: PopulationKind,
    pub title: &'static str,
    pub words: &'static str,
    pub sql: &'static str,
    pub columns: &'static [&'static str],
}

const PEOPLE_COLUMNS: &[&str] = &["name", "email", "title", "department", "manager", "employment_type"];
const EVENT_COLUMNS: &[&str] = &["reference", "title", "outcome", "controls"];

pub const SPECS: &[Spec] = &[
    Spec {
        kind: PopulationKind::NewHires,
        title: "New hires",
        words: "Every person in the people register whose start date falls in the period.",
        sql: "SELECT key, email, name, title, department, manager_email, employment_type, start_date FROM people \
              WHERE start_date >= $1 AND start_date <= $2",
        columns: PEOPLE_COLUMNS,
    },
    Spec {
        kind: PopulationKind::Leavers,
        title: "Leavers",
        words: "Every person in the people register whose end date falls in the period, with the accounts \
                Evident last saw for their email and when each was disabled.",
        sql: "SELECT key, email, name, title, department, manager_email, employment_type, end_date FROM people \
              WHERE end_date >= $1 AND end_date <= $2",
        columns: &[
            "name",
            "email",
            "title",
            "department",
            "manager",
            "employment_type",
            "accounts",
        ],
    },
    Spec {
        kind: PopulationKind::RoleChanges,
        title: "Role changes",
        words: "Every change of title, department or manager of a person, found by replaying in order the \
                audit log's entries that created or updated people records (the log is hash-chained, so \
                no change can be left out without breaking the chain), dated by the entry that recorded it.",
        sql: "SELECT seq, at, payload FROM audit_log WHERE (subject = 'register:people' OR subject LIKE 'person:%') \
              AND at < $1 ORDER BY seq; then, per email, a title, department or manager_email differing from \
              the one recorded before, in an entry at or after the period's first instant ($1 is the instant \
              after the period's last day)",
        columns: &["email", "field", "from", "to", "log_entry"],
    },
    Spec {
        kind: PopulationKind::Changes,
        title: "Merged changes",
        words: "Every change (pull or merge request) imported or collected as merged in the period.",
        sql: "SELECT repository, number, title, author, approvers, merged_at, evidence_id FROM changes \
              WHERE merged_at >= $1 AND merged_at < $2",
        columns: &["repository", "number", "title", "author", "approvers", "merged_at"],
    },
    Spec {
        kind: PopulationKind::Incidents,
        title: "Incidents",
        words: "Every event of kind incident in the events register dated in the period.",
        sql: "SELECT key, id_ref, title, date, outcome, controls, evidence FROM events \
              WHERE kind = 'incident' AND date >= $1 AND date <= $2",
        columns: EVENT_COLUMNS,
    },
    Spec {
        kind: PopulationKind::LateFindings,
        title: "Findings past their deadline",
        words: "Every scanner or penetration-test finding whose remediation deadline (first seen plus the \
                policy's days for its severity) fell in the period and that was fixed after it or is still open.",
        sql: "SELECT source, scope, external_id, resource, title, severity, first_seen, fixed_at, \
              first_evidence_id, evidence_id FROM findings WHERE first_seen < $2 AND (fixed_at IS NULL OR fixed_at > $1); \
              then deadline = first_seen + vuln_sla_<severity>_days, kept when $1 <= deadline < $2 and \
              (fixed_at IS NULL OR fixed_at > deadline)",
        columns: &[
            "source",
            "resource",
            "title",
            "severity",
            "first_seen",
            "deadline",
            "fixed_at",
        ],
    },
    Spec {
        kind: PopulationKind::AccessReviews,
        title: "Access reviews",
        words: "Every event of kind access_review in the events register dated in the period.",
        sql: "SELECT key, id_ref, title, date, outcome, controls, evidence FROM events \
              WHERE kind = 'access_review' AND date >= $1 AND date <= $2",
        columns: EVENT_COLUMNS,
    },
    Spec {
        kind: PopulationKind::VendorReviews,
        title: "Vendor reviews",
        words: "Every review recorded on a vendor (its next review date or the period its assurance report \
                covers moved), found by replaying in order the audit log's entries for vendor records, dated \
                by the entry that recorded it.",
        sql: "SELECT seq, at, payload FROM audit_log WHERE (subject = 'register:vendors' OR subject LIKE 'vendor:%') \
              AND at < $1 ORDER BY seq; then, per vendor, next_review or report_period_end differing from the \
              one recorded before, in an entry at or after the period's first instant ($1 is the instant after \
              the period's last day)",
        columns: &["vendor", "field", "from", "to", "log_entry"],
    },
    Spec {
        kind: PopulationKind::PolicyAcceptances,
        title: "Policy acceptances",
        words: "Every acceptance of a published policy version recorded in the period.",
        sql: "SELECT p.ref, p.title, a.version, a.email, a.accepted_at, a.recorded_by FROM policy_acceptances a \
              JOIN policies p ON p.id = a.policy_id WHERE a.accepted_at >= $1 AND a.accepted_at < $2",
        columns: &["policy", "title", "version", "email", "accepted_at", "recorded_by"],
    },
    Spec {
        kind: PopulationKind::RestoreTests,
        title: "Backup restore tests",
        words: "Every event of kind backup_restore_test in the events register dated in the period.",
        sql: "SELECT key, id_ref, title, date, outcome, controls, evidence FROM events \
              WHERE kind = 'backup_restore_test' AND date >= $1 AND date <= $2",
        columns: EVENT_COLUMNS,
    },
];

pub fn spec(kind: PopulationKind) -> &'static Spec {
    SPECS
        .iter()
        .find(|s| s.kind == kind)
        .expect("every population kind has a spec")
}

/// The changes rule (`SPECS`), its rows aggregated into one JSON text.
const CHANGES_JSON_SQLITE: &str = "SELECT json_group_array(json_array(repository, number, title, author, approvers, \
     merged_at, evidence_id)) AS rows FROM changes WHERE merged_at >= $1 AND merged_at < $2";
const CHANGES_JSON_POSTGRES: &str = "SELECT json_agg(json_build_array(repository, number, title, author, approvers, \
     merged_at, evidence_id))::text AS rows FROM changes WHERE merged_at >= $1 AND merged_at < $2";

const SELECT_ACCOUNTS_OF: &str = "SELECT email, system, username, active, disabled_at FROM accounts \
     WHERE email IS NOT NULL ORDER BY system, username";

fn text(row: &AnyRow, col: &str) -> Result<String, StoreError> {
    Ok(row.try_get::<Option<String>, _>(col)?.unwrap_or_default())
}

/// `YYYY-MM-DD HH:MM:SS UTC`, by arithmetic (called once per item of large populations).
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, in_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    match time::Date::from_julian_day((2_440_588 + days) as i32) {
        Ok(d) => format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            d.year(),
            u8::from(d.month()),
            d.day(),
            in_day / 3600,
            in_day % 3600 / 60,
            in_day % 60
        ),
        Err(_) => String::new(),
    }
}

fn day(ms: i64) -> String {
    date_of_ms(ms).map(format_date).unwrap_or_default()
}

/// The evidence ids a register's `evidence` column names (JSON list or plain text).
fn evidence_list(s: &str) -> Vec<String> {
    match serde_json::from_str::<Vec<String>>(s) {
        Ok(v) => v,
        Err(_) => s
            .split([',', ' '])
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
    }
}

impl Workspace {
    /// Runs one population's rule over the records as they are now.
    pub async fn population(&self, kind: PopulationKind, period: Period) -> Result<Population, StoreError> {
        let s = spec(kind);
        let (from_day, to_day) = (format_date(period.start), format_date(period.end));
        let (from_ms, to_ms) = (day_start_ms(period.start), day_start_ms(period.end) + 86_400_000);
        let pool = &self.db.pool;
        let mut items = Vec::new();
        match kind {
            PopulationKind::NewHires | PopulationKind::Leavers => {
                let rows = sqlx::query(s.sql).bind(&from_day).bind(&to_day).fetch_all(pool).await?;
                let mut accounts: BTreeMap<String, Vec<String>> = BTreeMap::new();
                if kind == PopulationKind::Leavers && !rows.is_empty() {
                    for a in sqlx::query(SELECT_ACCOUNTS_OF).fetch_all(pool).await? {
                        let state = match a.try_get::<Option<i64>, _>("disabled_at")? {
                            Some(at) => format!("disabled {}", utc(at)),
                            None if a.try_get::<i64, _>("active")? != 0 => "active".to_string(),
                            None => "inactive".to_string(),
                        };
                        accounts
                            .entry(text(&a, "email")?.to_lowercase())
                            .or_default()
                            .push(format!("{}:{} {state}", text(&a, "system")?, text(&a, "username")?));
                    }
                }
                let date_col = if kind == PopulationKind::NewHires {
                    "start_date"
                } else {
                    "end_date"
                };
                for r in rows {
                    let email = text(&r, "email")?;
                    let mut cells = vec![
                        text(&r, "name")?,
                        email.clone(),
                        text(&r, "title")?,
                        text(&r, "department")?,
                        text(&r, "manager_email")?,
                        text(&r, "employment_type")?,
                    ];
                    if kind == PopulationKind::Leavers {
                        cells.push(accounts.remove(&email.to_lowercase()).unwrap_or_default().join("; "));
                    }
                    items.push(Item {
                        id: text(&r, "key")?,
                        date: text(&r, date_col)?,
                        cells,
                        evidence: Vec::new(),
                    });
                }
            }
            PopulationKind::Changes => {
                // The rule's rows, aggregated into one JSON text by the database: 200,000
                // changes on a large organisation cost one round trip, not one per row.
                type Row = (String, i64, String, String, String, i64, String);
                let rows: Vec<Row> = self
                    .json_rows_with(CHANGES_JSON_SQLITE, CHANGES_JSON_POSTGRES, "changes", &[from_ms, to_ms])
                    .await?;
                items.reserve(rows.len());
                for (repo, number, title, author, approvers, merged, evidence) in rows {
                    let approvers: Vec<String> = serde_json::from_str(&approvers).unwrap_or_default();
                    items.push(Item {
                        id: format!("{repo}#{number}"),
                        date: day(merged),
                        cells: vec![
                            repo,
                            number.to_string(),
                            title,
                            author,
                            approvers.join(" "),
                            utc(merged),
                        ],
                        evidence: vec![evidence],
                    });
                }
            }
            PopulationKind::Incidents | PopulationKind::AccessReviews | PopulationKind::RestoreTests => {
                for r in sqlx::query(s.sql).bind(&from_day).bind(&to_day).fetch_all(pool).await? {
                    let reference = text(&r, "id_ref")?;
                    let controls: Vec<String> = serde_json::from_str(&text(&r, "controls")?).unwrap_or_default();
                    items.push(Item {
                        id: text(&r, "key")?,
                        date: text(&r, "date")?,
                        cells: vec![reference, text(&r, "title")?, text(&r, "outcome")?, controls.join(" ")],
                        evidence: evidence_list(&text(&r, "evidence")?),
                    });
                }
            }
            PopulationKind::LateFindings => {
                let params: BTreeMap<String, String> =
                    self.parameters().await?.into_iter().map(|p| (p.key, p.value)).collect();
                let now = crate::clock::now_ms();
                // The query; the deadline rule after "; then" is applied here, per severity.
                let query = s.sql.split("; then").next().unwrap_or(s.sql);
                for r in sqlx::query(query).bind(from_ms).bind(to_ms).fetch_all(pool).await? {
                    let Some(severity) = Severity::recognise(&text(&r, "severity")?) else {
                        continue;
                    };
                    let Some((key, default)) = finding_sla(severity) else {
                        continue;
                    };
                    let days = params.get(key).and_then(|v| v.parse::<i64>().ok()).unwrap_or(default);
                    let first: i64 = r.try_get("first_seen")?;
                    let due = first + days * 86_400_000;
                    let fixed: Option<i64> = r.try_get("fixed_at")?;
                    let late = match fixed {
                        Some(f) => f > due,
                        None => due < now,
                    };
                    if !(late && (from_ms..to_ms).contains(&due)) {
                        continue;
                    }
                    let mut evidence = vec![text(&r, "first_evidence_id")?, text(&r, "evidence_id")?];
                    evidence.dedup();
                    items.push(Item {
                        id: format!(
                            "{}:{}:{}:{}",
                            text(&r, "source")?,
                            text(&r, "scope")?,
                            text(&r, "external_id")?,
                            text(&r, "resource")?
                        ),
                        date: day(due),
                        cells: vec![
                            text(&r, "source")?,
                            text(&r, "resource")?,
                            text(&r, "title")?,
                            severity.as_str().to_string(),
                            utc(first),
                            utc(due),
                            fixed.map(utc).unwrap_or_else(|| "open".into()),
                        ],
                        evidence,
                    });
                }
            }
            PopulationKind::PolicyAcceptances => {
                for r in sqlx::query(s.sql).bind(from_ms).bind(to_ms).fetch_all(pool).await? {
                    let key = text(&r, "ref")?;
                    let version: i64 = r.try_get("version")?;
                    let email = text(&r, "email")?;
                    let at: i64 = r.try_get("accepted_at")?;
                    items.push(Item {
                        id: format!("{key}:v{version}:{email}"),
                        date: day(at),
                        cells: vec![
                            key,
                            text(&r, "title")?,
                            version.to_string(),
                            email,
                            utc(at),
                            text(&r, "recorded_by")?,
                        ],
                        evidence: Vec::new(),
                    });
                }
            }
            PopulationKind::RoleChanges => {
                items = self
                    .replayed_changes(
                        s.sql,
                        ("email", &["title", "department", "manager_email"]),
                        from_ms,
                        to_ms,
                    )
                    .await?;
            }
            PopulationKind::VendorReviews => {
                items = self
                    .replayed_changes(s.sql, ("name", &["next_review", "report_period_end"]), from_ms, to_ms)
                    .await?;
            }
        }
        Ok(Population {
            kind,
            period: format!("{from_day}..{to_day}"),
            words: s.words.to_string(),
            rule: s.sql.to_string(),
            columns: s.columns.iter().map(|c| c.to_string()).collect(),
            items,
        })
    }

    /// Replays register entries of the audit log in order and reports, for entries inside the
    /// period, each watched field that differs from what the record held before.
    async fn replayed_changes(
        &self,
        sql: &'static str,
        (key_field, watched): (&str, &[&str]),
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<Item>, StoreError> {
        let query = sql.split("; then").next().unwrap_or(sql);
        let mut last: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut items = Vec::new();
        // Only the end is a parameter: the replay must see every entry before the period too,
        // to know what each record held when the period began.
        for r in sqlx::query(query).bind(to_ms).fetch_all(&self.db.pool).await? {
            let seq: i64 = r.try_get("seq")?;
            let at: i64 = r.try_get("at")?;
            let payload: Json = serde_json::from_str(&text(&r, "payload")?).unwrap_or(Json::Null);
            let records = ["created", "updated"]
                .iter()
                .filter_map(|k| payload.get(*k).and_then(Json::as_array))
                .flatten();
            for rec in records {
                let Some(who) = rec.get(key_field).and_then(Json::as_str).map(str::to_lowercase) else {
                    continue;
                };
                let before = last.entry(who.clone()).or_default();
                for f in watched {
                    let now = match rec.get(*f) {
                        Some(Json::String(s)) => s.clone(),
                        Some(Json::Null) | None => String::new(),
                        Some(other) => other.to_string(),
                    };
                    let old = before.insert(f.to_string(), now.clone());
                    if let Some(old) = old
                        && old != now
                        && at >= from_ms
                    {
                        items.push(Item {
                            id: format!("{who}:{f}:{seq}"),
                            date: day(at),
                            cells: vec![who.clone(), f.to_string(), old, now.clone(), seq.to_string()],
                            evidence: vec![format!("log:{seq}")],
                        });
                    }
                }
            }
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn utc_is_the_instant_in_words() {
        assert_eq!(super::utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(super::utc(1_767_225_599_999), "2025-12-31 23:59:59 UTC");
        assert_eq!(super::utc(1_782_777_600_000 + 3_723_000), "2026-06-30 01:02:03 UTC");
        assert_eq!(super::utc(-1), "1969-12-31 23:59:59 UTC");
    }
}
