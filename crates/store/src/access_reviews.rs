//! Access review campaigns kept: the frozen account list (as evidence), reviewers' decisions,
//! the remediation task each revocation opens, the import that shows it carried out, and the
//! closing record (evidence and an access-review event). The rules are `evident_core::access_review`.

use std::collections::{BTreeMap, HashMap};

use evident_core::access::{Action, Area, Reach, Role, reach};
use evident_core::access_review::{
    self as rules, Assigned, CampaignDraft, CampaignView, Closing, Decision, DecisionInput, Directory, Inbox,
    InboxCampaign, ItemView, Person, Progress, ReviewError,
};
use evident_core::evidence::SourceKind;
use evident_core::facts::Account;
use evident_core::register::{Record, Value};
use evident_core::registers::{ASSETS, EVENTS, PEOPLE, TASKS};
use evident_core::{date_of_ms, format_date};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::bulk::{Cell, insert_rows};
use crate::clock::now_ms;
use crate::evidence::{EvidenceFile, LinkTo, NewEvidence};
use crate::{StoreError, Workspace};

const CAMPAIGN_COLUMNS: &[&str] = &[
    "id",
    "name",
    "systems",
    "coverage",
    "reviewer_rule",
    "named_reviewer",
    "due_date",
    "status",
    "owner",
    "frozen_evidence_id",
    "created_at",
];
const ITEM_COLUMNS: &[&str] = &[
    "id",
    "campaign_id",
    "system",
    "external_id",
    "username",
    "person",
    "account",
    "source_evidence_id",
    "privileged",
    "unchanged",
    "reviewer",
    "note",
];
/// A campaign's items from one JSON array of rows ($1) for campaign $2 (SQLite).
const INSERT_ITEMS_SQLITE: &str = "INSERT INTO review_items (id, campaign_id, system, external_id, username, person, \
     account, source_evidence_id, privileged, unchanged, reviewer, note) \
     SELECT value ->> 0, $2, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value -> 5, value ->> 6, \
     value ->> 7, value ->> 8, value ->> 9, value ->> 10 FROM json_each($1)";
const SELECT_CAMPAIGNS: &str = "SELECT c.id, c.name, c.systems, c.coverage, c.reviewer_rule, c.named_reviewer, c.due_date, \
     c.status, c.owner, c.frozen_evidence_id, c.created_at, c.closed_at, c.closed_by, c.closing, \
     COALESCE(n.items, 0) AS n_items, COALESCE(n.keep, 0) AS n_keep, COALESCE(n.revoke, 0) AS n_revoke, \
     COALESCE(n.change, 0) AS n_change, COALESCE(n.done, 0) AS n_done \
     FROM review_campaigns c LEFT JOIN (SELECT campaign_id, COUNT(*) AS items, \
       SUM(CASE WHEN decision = 'keep' THEN 1 ELSE 0 END) AS keep, \
       SUM(CASE WHEN decision = 'revoke' THEN 1 ELSE 0 END) AS revoke, \
       SUM(CASE WHEN decision = 'change' THEN 1 ELSE 0 END) AS change, \
       SUM(CASE WHEN decision IN ('revoke', 'change') AND carried_out_at IS NOT NULL THEN 1 ELSE 0 END) AS done \
       FROM review_items GROUP BY campaign_id) n ON n.campaign_id = c.id \
     ORDER BY c.created_at DESC";
/// Items as one JSON text built by the database (`ItemRow`'s order): per-row decoding in the
/// driver was most of the time of a large inbox or campaign.
macro_rules! items_json {
    (sqlite, $where:literal, $order:literal) => {
        concat!(
            "SELECT json_group_array(json_array(id, campaign_id, name, due_date, system, username, person, \
             json(account), source_evidence_id, unchanged, reviewer, note, decision, reason, change_to, decided_at, \
             decided_by, task_key, carried_out_at, carried_out_by, status, owner)) AS rows FROM (SELECT i.*, c.name, \
             c.due_date, c.status, c.owner FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id ",
            $where,
            " ORDER BY ",
            $order,
            ")"
        )
    };
    (postgres, $where:literal, $order:literal) => {
        concat!(
            "SELECT json_agg(json_build_array(i.id, i.campaign_id, c.name, c.due_date, i.system, i.username, \
             i.person, i.account::json, i.source_evidence_id, i.unchanged, i.reviewer, i.note, i.decision, i.reason, \
             i.change_to, i.decided_at, i.decided_by, i.task_key, i.carried_out_at, i.carried_out_by, c.status, \
             c.owner) ORDER BY ",
            $order,
            ")::text AS rows FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id ",
            $where
        )
    };
}
const ITEMS_OF_CAMPAIGN_SQLITE: &str = items_json!(sqlite, "WHERE i.campaign_id = $1", "i.system, i.username");
const ITEMS_OF_CAMPAIGN_POSTGRES: &str = items_json!(postgres, "WHERE i.campaign_id = $1", "i.system, i.username");
const ONE_ITEM_SQLITE: &str = items_json!(sqlite, "WHERE i.id = $1", "i.id");
const ONE_ITEM_POSTGRES: &str = items_json!(postgres, "WHERE i.id = $1", "i.id");
const INBOX_SQLITE: &str = items_json!(
    sqlite,
    "WHERE i.reviewer = $1 AND c.status = 'open'",
    "c.due_date, c.id, i.decision IS NOT NULL, i.system, i.username, i.id"
);
const INBOX_POSTGRES: &str = items_json!(
    postgres,
    "WHERE i.reviewer = $1 AND c.status = 'open'",
    "c.due_date, c.id, i.decision IS NOT NULL, i.system, i.username, i.id"
);
/// One page of an inbox, in `INBOX_SQLITE`'s order: the page's ids are chosen by sorting
/// narrow rows, and only those items are read whole (sorting every item with its frozen
/// account was most of the time of a large inbox).
const INBOX_PAGE_SQLITE: &str = items_json!(
    sqlite,
    "WHERE i.id IN (SELECT i.id FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id \
     WHERE i.reviewer = $1 AND c.status = 'open' \
     ORDER BY c.due_date, c.id, i.decision IS NOT NULL, i.system, i.username, i.id LIMIT $2 OFFSET $3)",
    "c.due_date, c.id, i.decision IS NOT NULL, i.system, i.username, i.id"
);
/// PostgreSQL aggregates after LIMIT, so the page is cut in a subquery and ordered again.
const INBOX_PAGE_POSTGRES: &str = "SELECT json_agg(json_build_array(i.id, i.campaign_id, i.name, i.due_date, \
     i.system, i.username, i.person, i.account::json, i.source_evidence_id, i.unchanged, i.reviewer, i.note, \
     i.decision, i.reason, i.change_to, i.decided_at, i.decided_by, i.task_key, i.carried_out_at, i.carried_out_by, \
     i.status, i.owner) ORDER BY i.due_date, i.campaign_id, i.decision IS NOT NULL, i.system, i.username, i.id)::text \
     AS rows FROM (SELECT i.*, c.name, c.due_date, c.status, c.owner FROM review_items i \
     JOIN review_campaigns c ON c.id = i.campaign_id WHERE i.reviewer = $1 AND c.status = 'open' \
     ORDER BY c.due_date, c.id, i.decision IS NOT NULL, i.system, i.username, i.id LIMIT $2 OFFSET $3) i";
const INBOX_CAMPAIGNS: &str = "SELECT c.id, c.name, c.due_date, COUNT(*) AS n, \
     SUM(CASE WHEN i.decision IS NULL THEN 1 ELSE 0 END) AS undecided, \
     SUM(CASE WHEN i.decision IS NULL AND i.unchanged = 1 THEN 1 ELSE 0 END) AS unchanged \
     FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id \
     WHERE i.reviewer = $1 AND c.status = 'open' GROUP BY c.id, c.name, c.due_date ORDER BY c.due_date, c.id";
const DECIDE: &str = "UPDATE review_items SET decision = $1, reason = $2, change_to = $3, decided_at = $4, \
     decided_by = $5, task_key = $6 WHERE id = $7 AND decision IS NULL";
const REASSIGN: &str = "UPDATE review_items SET reviewer = $1, note = $2 WHERE id = $3 AND decision IS NULL";
const CONFIRM: &str = "UPDATE review_items SET carried_out_at = $1, carried_out_by = $2 WHERE id = $3 \
     AND carried_out_at IS NULL AND decision IN ('revoke', 'change')";
const CLOSE: &str = "UPDATE review_campaigns SET status = 'closed', closed_at = $1, closed_by = $2, closing = $3 WHERE id = $4 AND status = 'open'";
/// The accounts kept at the same level when the last closed campaign reviewed them.
const LAST_KEPT: &str = "SELECT i.system, i.external_id, i.privileged FROM review_items i \
     WHERE i.decision = 'keep' AND i.campaign_id = (SELECT id FROM review_campaigns WHERE status = 'closed' \
     ORDER BY closed_at DESC LIMIT 1)";
/// Revocations a new snapshot of `system` may show carried out.
pub(crate) const OPEN_REVOCATIONS: &str = "SELECT i.id, i.decision, i.account, i.task_key FROM review_items i \
     JOIN review_campaigns c ON c.id = i.campaign_id WHERE i.system = $1 AND i.decision IN ('revoke', 'change') \
     AND i.carried_out_at IS NULL AND c.status = 'open'";
const CAMPAIGN_IDS: &str = "SELECT id AS campaign_id FROM review_campaigns";
const CAMPAIGNS_REVIEWED_BY: &str = "SELECT DISTINCT campaign_id FROM review_items WHERE reviewer = $1";
const REVIEWED_ADMINS: &str = "SELECT i.system, i.external_id, c.closed_at FROM review_items i \
     JOIN review_campaigns c ON c.id = i.campaign_id \
     WHERE i.campaign_id IN (SELECT id FROM review_campaigns WHERE status = 'closed') \
     AND i.decision = 'keep' AND i.privileged = 1";
const SYSTEMS: &str = "SELECT system, COUNT(*) AS n, SUM(CASE WHEN admin = 1 OR root = 1 THEN 1 ELSE 0 END) AS privileged \
     FROM accounts WHERE active = 1 GROUP BY system ORDER BY system";
pub(crate) const SEEN: &str = "UPDATE review_items SET carried_out_at = $1, carried_out_by = $2 WHERE id = $3";

fn refused(e: ReviewError) -> StoreError {
    StoreError::Field {
        field: e.field,
        reason: e.reason,
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "access review item",
        id: id.to_string(),
    }
}

fn day(ms: i64) -> String {
    date_of_ms(ms).map(format_date).unwrap_or_default()
}

/// May manage campaigns (start, reassign, confirm, close).
fn manages(role: Role) -> Result<(), StoreError> {
    if reach(role, Area::AccessReviews, Action::Write) == Reach::All {
        Ok(())
    } else {
        Err(StoreError::Forbidden(format!(
            "the {} role does not manage access review campaigns",
            role.label().to_lowercase()
        )))
    }
}

/// The frozen account as stored (JSON of the fact's fields).
#[derive(serde::Deserialize)]
struct Frozen {
    system: String,
    external_id: String,
    username: String,
    email: Option<String>,
    human: bool,
    mfa: Option<bool>,
    admin: bool,
    root: bool,
    created_at: Option<i64>,
    last_activity: Option<i64>,
    disabled_at: Option<i64>,
    active: bool,
    access_keys: Vec<evident_core::facts::AccessKey>,
}

impl From<Frozen> for Account {
    fn from(a: Frozen) -> Account {
        Account {
            system: a.system,
            external_id: a.external_id,
            username: a.username,
            email: a.email,
            human: a.human,
            mfa: a.mfa,
            admin: a.admin,
            root: a.root,
            created_at: a.created_at,
            last_activity: a.last_activity,
            disabled_at: a.disabled_at,
            active: a.active,
            access_keys: a.access_keys,
        }
    }
}

fn account_from_json(s: &str) -> Result<Account, StoreError> {
    serde_json::from_str::<Frozen>(s)
        .map(Account::from)
        .map_err(|e| StoreError::Invalid(format!("a frozen account does not parse: {e}")))
}

/// An item as the large reads deliver it: one JSON array per row, in `ITEMS_JSON`'s order.
#[derive(serde::Deserialize)]
struct ItemRow(
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Frozen,
    String,
    i64,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<String>,
    String,
    String,
);

impl ItemRow {
    /// The item as shown, its frozen account, and its campaign's status and owner.
    fn into_parts(self) -> (ItemView, Account, String, String) {
        let r = self;
        let (decided_at, carried) = (r.15, r.18);
        let view = ItemView {
            id: r.0,
            campaign: r.1,
            campaign_name: r.2,
            due: r.3,
            system: r.4,
            username: r.5,
            person: r.6,
            admin: r.7.admin,
            root: r.7.root,
            mfa: r.7.mfa,
            last_activity: r.7.last_activity.map(day),
            source_evidence: r.8,
            unchanged: r.9 != 0,
            reviewer: r.10,
            note: r.11,
            decision: r.12,
            reason: r.13,
            change: r.14,
            decided_at: decided_at.map(crate::fieldwork::utc),
            decided_by: r.16,
            task: r.17,
            carried_out_at: carried.map(crate::fieldwork::utc),
            carried_out_by: r.19,
            time_to_revoke: match (decided_at, carried) {
                (Some(d), Some(c)) => Some(rules::time_to_revoke(d, c)),
                _ => None,
            },
        };
        (view, r.7.into(), r.20, r.21)
    }
}

fn text_value(s: impl Into<String>) -> Value {
    Value::Text(s.into())
}

impl Workspace {
    async fn directory(&self) -> Result<Directory, StoreError> {
        Ok(Directory::new(self.records(&PEOPLE).await?.into_iter().map(|p| {
            let t = |f: &str| p.record.get(f).as_str().unwrap_or("").to_string();
            Person {
                email: t("email"),
                name: t("name"),
                manager: Some(t("manager_email")).filter(|m| !m.is_empty()),
            }
        })))
    }

    /// Each system's owner: the owner of the asset named like the system.
    async fn system_owners(&self) -> Result<BTreeMap<String, String>, StoreError> {
        Ok(self
            .records(&ASSETS)
            .await?
            .into_iter()
            .filter_map(|a| {
                let owner = a.record.get("owner").as_str()?.to_string();
                Some((a.record.get("name").as_str()?.to_lowercase(), owner))
            })
            .collect())
    }

    /// The controls the closing record and frozen list are evidence for, as the program has them.
    async fn review_links(&self, privileged: bool) -> Result<Vec<LinkTo>, StoreError> {
        let codes: Vec<String> = self.controls().await?.into_iter().map(|c| c.code).collect();
        // A review of every account reviews the administrators too; one of administrators
        // only is not the periodic review of every user.
        let wanted: &[(&str, &str)] = if privileged {
            &[("ACC-10", "privileged-review-record")]
        } else {
            &[
                ("ACC-08", "access-review-exports"),
                ("ACC-10", "privileged-review-record"),
            ]
        };
        Ok(wanted
            .iter()
            .filter(|(c, _)| codes.iter().any(|k| k == c))
            .map(|(c, r)| LinkTo {
                control: c.to_string(),
                requirement: Some(r.to_string()),
            })
            .collect())
    }

    /// A file the campaign keeps as evidence, stored in the vault and checked; recorded by
    /// `record_evidence_in` in the campaign's own transaction.
    async fn prepare_file(
        &self,
        bytes: &[u8],
        name: String,
        title: String,
        links: Vec<LinkTo>,
        today: time::Date,
        source: String,
    ) -> Result<crate::EvidenceItem, StoreError> {
        use std::io::{Seek, Write};
        let io = |source| StoreError::Io {
            path: std::env::temp_dir(),
            source,
        };
        let mut file = tempfile::tempfile().map_err(io)?;
        file.write_all(bytes).and_then(|_| file.rewind()).map_err(io)?;
        let mut new = NewEvidence::new(EvidenceFile::Received { file, name }, SourceKind::Person, source);
        new.title = Some(title);
        new.controls = links;
        new.effective_date = Some(format_date(today));
        self.prepare_evidence(new, today).await.map_err(|e| match e {
            crate::EvidenceError::Store(s) => s,
            other => StoreError::Invalid(other.to_string()),
        })
    }

    /// Starts a campaign: freezes the covered accounts (kept as an evidence item naming the
    /// import each came from) and assigns each its reviewer by the rules.
    pub async fn start_campaign(
        &self,
        role: Role,
        draft: &CampaignDraft,
        today: time::Date,
    ) -> Result<CampaignView, StoreError> {
        manages(role)?;
        crate::error::storable("name", &draft.name)?;
        if draft.due < today {
            return Err(StoreError::Field {
                field: "due",
                reason: format!("{} is in the past", format_date(draft.due)),
            });
        }
        let sourced = self.accounts_sourced().await?;
        let accounts: Vec<Account> = sourced.iter().map(|(a, _)| a.clone()).collect();
        let sources: HashMap<(&str, &str), &str> = sourced
            .iter()
            .map(|(a, e)| ((a.system.as_str(), a.external_id.as_str()), e.as_str()))
            .collect();
        let people = self.directory().await?;
        let owners = self.system_owners().await?;
        let planned = rules::plan(draft, &accounts, &people, &owners, &self.actor).map_err(refused)?;
        let planned: Vec<(Assigned, String)> = planned
            .into_iter()
            .map(|a| {
                let src = sources[&(a.account.system.as_str(), a.account.external_id.as_str())].to_string();
                (a, src)
            })
            .collect();
        let kept: std::collections::HashSet<(String, String, i64)> = sqlx::query(LAST_KEPT)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("system")?,
                    r.try_get("external_id")?,
                    r.try_get("privileged")?,
                ))
            })
            .collect::<Result<_, StoreError>>()?;
        let id = ulid::Ulid::new().to_string();
        let privileged_only = draft.coverage == rules::Coverage::Privileged;
        let frozen = self
            .prepare_file(
                &rules::frozen_csv(&draft.name, &planned),
                format!("access-review-{}-accounts.csv", format_date(today)),
                format!(
                    "Access review '{}': {} accounts frozen at its start",
                    draft.name,
                    planned.len()
                ),
                self.review_links(privileged_only).await?,
                today,
                format!("access review {id}"),
            )
            .await?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        self.record_evidence_in(&mut tx, &frozen).await?;
        insert_rows(
            &mut tx,
            "review_campaigns",
            CAMPAIGN_COLUMNS,
            vec![vec![
                Cell::from(id.as_str()),
                Cell::from(draft.name.trim()),
                Cell::from(serde_json::to_string(&draft.systems).expect("strings serialise")),
                Cell::from(draft.coverage.as_str()),
                Cell::from(draft.rule.as_str()),
                Cell::from(draft.named.clone().map(|n| n.to_lowercase())),
                Cell::from(format_date(draft.due)),
                Cell::from("open"),
                Cell::from(self.actor.as_str()),
                Cell::from(frozen.id.as_str()),
                Cell::from(now),
            ]],
        )
        .await?;
        let unchanged = |x: &Account| {
            let privileged = i64::from(rules::privileged(x));
            (
                privileged,
                i64::from(kept.contains(&(x.system.clone(), x.external_id.clone(), privileged))),
            )
        };
        match self.db.backend {
            // SQLite takes tens of thousands of items fastest as one JSON text it unpacks itself:
            // binding each value was most of the time of a start on the large organisation.
            crate::Backend::Sqlite => {
                let rows: Vec<_> = planned
                    .iter()
                    .map(|(a, src)| {
                        let x = &a.account;
                        let (privileged, same) = unchanged(x);
                        (
                            ulid::Ulid::new().to_string(),
                            &x.system,
                            &x.external_id,
                            &x.username,
                            &a.person,
                            x,
                            src,
                            privileged,
                            same,
                            &a.reviewer,
                            &a.note,
                        )
                    })
                    .collect();
                sqlx::query(INSERT_ITEMS_SQLITE)
                    .bind(serde_json::to_string(&rows).expect("items serialise"))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            }
            // PostgreSQL is faster with multi-row inserts than unpacking JSON (BENCHMARKS.md).
            crate::Backend::Postgres => {
                let rows = planned
                    .iter()
                    .map(|(a, src)| {
                        let x = &a.account;
                        let (privileged, same) = unchanged(x);
                        vec![
                            Cell::from(ulid::Ulid::new().to_string()),
                            Cell::from(id.as_str()),
                            Cell::from(x.system.as_str()),
                            Cell::from(x.external_id.as_str()),
                            Cell::from(x.username.as_str()),
                            Cell::from(a.person.clone()),
                            Cell::from(serde_json::to_string(x).expect("an account serialises")),
                            Cell::from(src.as_str()),
                            Cell::from(privileged),
                            Cell::from(same),
                            Cell::from(a.reviewer.as_str()),
                            Cell::from(a.note.clone()),
                        ]
                    })
                    .collect();
                insert_rows(&mut tx, "review_items", ITEM_COLUMNS, rows).await?;
            }
        }
        let reviewers: std::collections::BTreeSet<&str> = planned.iter().map(|(a, _)| a.reviewer.as_str()).collect();
        self.commit_logged(
            tx,
            "access_review.start",
            &format!("access_review:{id}"),
            json!({"name": draft.name.trim(), "systems": draft.systems, "coverage": draft.coverage.as_str(),
                   "reviewer_rule": draft.rule.as_str(), "due": format_date(draft.due), "accounts": planned.len(),
                   "reviewers": reviewers.len(), "frozen_evidence": frozen.id}),
        )
        .await?;
        self.campaign(role, &id, today).await
    }

    /// Administrator accounts kept in a closed campaign: (system, external id, closed on).
    pub async fn reviewed_admins(&self) -> Result<Vec<(String, String, time::Date)>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(REVIEWED_ADMINS).fetch_all(&self.db.pool).await? {
            let closed: Option<i64> = r.try_get("closed_at")?;
            if let Some(d) = closed.and_then(date_of_ms) {
                out.push((r.try_get("system")?, r.try_get("external_id")?, d));
            }
        }
        Ok(out)
    }

    /// When each kind of campaign is next due, by the access-control policy's intervals.
    pub async fn review_schedule(&self, today: time::Date) -> Result<Vec<rules::ScheduleLine>, StoreError> {
        let params = self.parameter_values().await?;
        let months = |k: &str| params.get(k).and_then(|v| v.parse::<u32>().ok()).unwrap_or(3);
        let campaigns: Vec<(rules::Coverage, Option<time::Date>, String)> = self
            .campaigns(Role::Admin, today)
            .await?
            .into_iter()
            .filter_map(|c| {
                let coverage = rules::Coverage::parse(&c.coverage).ok()?;
                let closed = c
                    .closed_at
                    .as_deref()
                    .and_then(|at| evident_core::parse_date(at.get(..10)?).ok());
                Some((coverage, closed, c.id))
            })
            .collect();
        Ok(rules::schedule(
            &campaigns,
            months("access_review_interval_months"),
            months("privileged_access_review_interval_months"),
            today,
        ))
    }

    /// Starts the campaigns the schedule says are due within `lead_days` (see
    /// [`rules::due_to_start`]), each over every system with the managers reviewing. For cron
    /// today, and for the server's jobs.
    pub async fn start_due_campaigns(
        &self,
        role: Role,
        today: time::Date,
        lead_days: i64,
    ) -> Result<Vec<CampaignView>, StoreError> {
        manages(role)?;
        let lines = self.review_schedule(today).await?;
        let mut started = Vec::new();
        for draft in rules::due_to_start(&lines, today, lead_days) {
            started.push(self.start_campaign(role, &draft, today).await?);
        }
        Ok(started)
    }

    /// The systems with active accounts: (system, accounts, privileged accounts).
    pub async fn review_systems(&self) -> Result<Vec<(String, i64, i64)>, StoreError> {
        sqlx::query(SYSTEMS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                Ok((
                    r.try_get("system")?,
                    r.try_get("n")?,
                    r.try_get::<Option<i64>, _>("privileged")?.unwrap_or(0),
                ))
            })
            .collect()
    }

    /// Every campaign with its progress (newest first): all of them for whoever reads the whole
    /// area, otherwise those the caller reviews in.
    pub async fn campaigns(&self, role: Role, today: time::Date) -> Result<Vec<CampaignView>, StoreError> {
        let all: Vec<CampaignView> = sqlx::query(SELECT_CAMPAIGNS)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| campaign_view(r, today))
            .collect::<Result<_, _>>()?;
        if reach(role, Area::AccessReviews, Action::Read) == Reach::All {
            return Ok(all);
        }
        let mine = self.visible_campaigns(false, None).await?;
        Ok(all.into_iter().filter(|c| mine.contains(&c.id)).collect())
    }

    /// The campaigns a caller reviews in (all of them when `all`), refusing `wanted` as not found
    /// when it is not among them.
    async fn visible_campaigns(
        &self,
        all: bool,
        wanted: Option<&str>,
    ) -> Result<std::collections::HashSet<String>, StoreError> {
        let (sql, who) = if all {
            (CAMPAIGN_IDS, String::new())
        } else {
            (CAMPAIGNS_REVIEWED_BY, self.actor.to_lowercase())
        };
        let mut q = sqlx::query(sql);
        if !all {
            q = q.bind(who);
        }
        let ids: std::collections::HashSet<String> = q
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| r.try_get("campaign_id"))
            .collect::<Result<_, _>>()?;
        match wanted {
            Some(id) if !ids.contains(id) => Err(StoreError::NotFound {
                kind: "access review campaign",
                id: id.to_string(),
            }),
            _ => Ok(ids),
        }
    }

    /// One campaign, as [`Workspace::campaigns`] lets the caller see it.
    pub async fn campaign(&self, role: Role, id: &str, today: time::Date) -> Result<CampaignView, StoreError> {
        self.campaigns(role, today)
            .await?
            .into_iter()
            .find(|c| c.id == id)
            .ok_or_else(|| StoreError::NotFound {
                kind: "access review campaign",
                id: id.to_string(),
            })
    }

    /// A campaign's items: all of them for whoever reads the whole area, otherwise only the
    /// caller's own.
    pub async fn campaign_items(&self, role: Role, id: &str) -> Result<Vec<ItemView>, StoreError> {
        self.campaign(role, id, time::OffsetDateTime::UNIX_EPOCH.date()).await?;
        let all = reach(role, Area::AccessReviews, Action::Read) == Reach::All;
        let items = self
            .items_json(ITEMS_OF_CAMPAIGN_SQLITE, ITEMS_OF_CAMPAIGN_POSTGRES, id)
            .await?
            .into_iter()
            .map(|(v, ..)| v);
        Ok(if all {
            items.collect()
        } else {
            items.filter(|v| v.reviewer.eq_ignore_ascii_case(&self.actor)).collect()
        })
    }

    async fn items_json(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        param: &str,
    ) -> Result<Vec<(ItemView, Account, String, String)>, StoreError> {
        self.items_json_page(sqlite, postgres, param, None).await
    }

    /// As [`Self::items_json`], with `(limit, offset)` bound as `$2` and `$3` when given.
    async fn items_json_page(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        param: &str,
        page: Option<(i64, i64)>,
    ) -> Result<Vec<(ItemView, Account, String, String)>, StoreError> {
        let sql = match self.db.backend {
            crate::Backend::Sqlite => sqlite,
            crate::Backend::Postgres => postgres,
        };
        let mut query = sqlx::query(sql).bind(param);
        if let Some((limit, offset)) = page {
            query = query.bind(limit).bind(offset);
        }
        let row = query.fetch_one(&self.db.pool).await?;
        let Some(text) = row.try_get::<Option<String>, _>("rows")? else {
            return Ok(Vec::new());
        };
        let rows: Vec<ItemRow> = tokio::task::spawn_blocking(move || serde_json::from_str(&text))
            .await
            .map_err(|e| StoreError::Invalid(format!("reading access review items: {e}")))?
            .map_err(|e| StoreError::Invalid(format!("access review items do not parse: {e}")))?;
        Ok(rows.into_iter().map(ItemRow::into_parts).collect())
    }

    /// The caller's open campaigns with their counts, soonest due first.
    pub async fn inbox_campaigns(&self, today: time::Date) -> Result<Vec<InboxCampaign>, StoreError> {
        let today = format_date(today);
        sqlx::query(INBOX_CAMPAIGNS)
            .bind(self.actor.to_lowercase())
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let due: String = r.try_get("due_date")?;
                let undecided: i64 = r.try_get("undecided")?;
                Ok(InboxCampaign {
                    id: r.try_get("id")?,
                    name: r.try_get("name")?,
                    overdue: undecided > 0 && due < today,
                    due,
                    items: r.try_get("n")?,
                    undecided,
                    unchanged: r.try_get("unchanged")?,
                })
            })
            .collect()
    }

    /// One page of the caller's items in open campaigns (by due date and campaign, undecided
    /// first), with every campaign's counts. `limit` is capped at [`rules::INBOX_PAGE_MAX`].
    pub async fn inbox(&self, today: time::Date, limit: Option<i64>, offset: i64) -> Result<Inbox, StoreError> {
        let limit = limit.unwrap_or(rules::INBOX_PAGE).clamp(1, rules::INBOX_PAGE_MAX);
        let offset = offset.max(0);
        let me = self.actor.to_lowercase();
        let (campaigns, items) = tokio::try_join!(
            self.inbox_campaigns(today),
            self.items_json_page(INBOX_PAGE_SQLITE, INBOX_PAGE_POSTGRES, &me, Some((limit, offset)))
        )?;
        let sum = |f: fn(&InboxCampaign) -> i64| campaigns.iter().map(f).sum::<i64>();
        let total = sum(|c| c.items);
        let end = offset + items.len() as i64;
        Ok(Inbox {
            total,
            undecided: sum(|c| c.undecided),
            unchanged: sum(|c| c.unchanged),
            campaigns,
            items: items.into_iter().map(|(v, ..)| v).collect(),
            offset,
            limit,
            next_offset: (end < total).then_some(end),
        })
    }

    /// One item: for whoever reads the whole area, or for its reviewer; otherwise not found.
    pub async fn review_item(&self, role: Role, id: &str) -> Result<ItemView, StoreError> {
        let (v, ..) = self.item_row(id).await?;
        if reach(role, Area::AccessReviews, Action::Read) == Reach::All || v.reviewer.eq_ignore_ascii_case(&self.actor)
        {
            Ok(v)
        } else {
            Err(not_found(id))
        }
    }

    async fn item_row(&self, id: &str) -> Result<(ItemView, Account, String, String), StoreError> {
        self.items_json(ONE_ITEM_SQLITE, ONE_ITEM_POSTGRES, id)
            .await?
            .pop()
            .ok_or_else(|| not_found(id))
    }

    /// The people register when the caller is an employee, who decides only their reports'
    /// items; `None` for roles that review whatever is theirs.
    async fn reports_only(&self, role: Role) -> Result<Option<Directory>, StoreError> {
        Ok(if role == Role::Employee {
            Some(self.directory().await?)
        } else {
            None
        })
    }

    /// Whether the caller may take this decision on this item: theirs to review, not their own
    /// account (refused with the reason), and for an employee (`reports`) one of their reports'.
    /// Another reviewer's item is not found.
    fn may_decide(
        &self,
        reports: Option<&Directory>,
        view: &ItemView,
        account: &Account,
        input: &DecisionInput,
    ) -> Result<Decision, StoreError> {
        let Some(decision) = rules::check_decision(&self.actor, &view.reviewer, account, input).map_err(refused)?
        else {
            return Err(not_found(&view.id));
        };
        let holder = view.person.as_deref().or(account.email.as_deref()).unwrap_or("");
        if reports.is_some_and(|people| !people.manages(&self.actor, holder)) {
            return Err(not_found(&view.id));
        }
        Ok(decision)
    }

    /// Records the caller's decision on one of their items. Another reviewer's item is not
    /// found; one's own account is refused with the reason; an employee decides only on their
    /// own reports' accounts. A revoke or change opens a task for the system's owner.
    pub async fn decide(
        &self,
        role: Role,
        item: &str,
        input: &DecisionInput,
        today: time::Date,
    ) -> Result<ItemView, StoreError> {
        let (view, account, status, owner) = self.item_row(item).await?;
        let people = self.reports_only(role).await?;
        let decision = self.may_decide(people.as_ref(), &view, &account, input)?;
        if status != "open" {
            return Err(StoreError::Conflict(format!(
                "the campaign '{}' is closed",
                view.campaign_name
            )));
        }
        if let Some(d) = &view.decision {
            return Err(StoreError::Conflict(format!(
                "already decided: {d} by {} at {}",
                view.decided_by.clone().unwrap_or_default(),
                view.decided_at.clone().unwrap_or_default()
            )));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let task = if decision == Decision::Keep {
            None
        } else {
            let owners = self.system_owners().await?;
            let task_owner = owners.get(&view.system.to_lowercase()).cloned().unwrap_or(owner);
            let key = format!("AR-{}", &view.id[view.id.len() - 10..]);
            let title = match decision {
                Decision::Revoke => format!(
                    "Remove {} from {} (access review '{}')",
                    view.username, view.system, view.campaign_name
                ),
                _ => format!(
                    "Change {} in {} to: {} (access review '{}')",
                    view.username,
                    view.system,
                    input.change.trim(),
                    view.campaign_name
                ),
            };
            let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
            values.insert("id", text_value(&key));
            values.insert("title", text_value(title));
            values.insert("owner", text_value(task_owner));
            // The access-control policy allows ten business days: two calendar weeks.
            values.insert("due_date", Value::Date(today + time::Duration::days(14)));
            values.insert("status", text_value("open"));
            let codes: Vec<String> = self.controls().await?.into_iter().map(|c| c.code).collect();
            values.insert(
                "control",
                if codes.iter().any(|c| c == "ACC-08") {
                    text_value("ACC-08")
                } else {
                    Value::Null
                },
            );
            values.insert("gap", text_value(format!("access review item {}", view.id)));
            self.write_records_in(&mut tx, &TASKS, &[Record { values }]).await?;
            Some(key)
        };
        let changed = sqlx::query(DECIDE)
            .bind(decision.as_str())
            .bind(Some(input.reason.trim()).filter(|r| !r.is_empty()))
            .bind(Some(input.change.trim()).filter(|r| !r.is_empty()))
            .bind(now)
            .bind(&self.actor)
            .bind(task.clone())
            .bind(&view.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            return Err(StoreError::Conflict("another decision was recorded first".into()));
        }
        self.commit_logged(
            tx,
            "access_review.decide",
            &format!("access_review_item:{}", view.id),
            json!({"campaign": view.campaign, "system": view.system, "account": view.username,
                   "decision": decision.as_str(), "reason": input.reason.trim(), "change": input.change.trim(), "task": task}),
        )
        .await?;
        Ok(self.item_row(item).await?.0)
    }

    /// Keeps every undecided item of the caller's that the last campaign kept at the same level
    /// (or, given ids, those), in one transaction with one audit entry per item: the same rules
    /// as [`Self::decide`] (own account refused, an employee only for their reports), all or
    /// nothing. Returns how many were kept.
    pub async fn keep_unchanged(&self, role: Role, ids: &[String], _today: time::Date) -> Result<usize, StoreError> {
        let mine = self
            .items_json(INBOX_SQLITE, INBOX_POSTGRES, &self.actor.to_lowercase())
            .await?;
        if let Some(missing) = ids.iter().find(|id| !mine.iter().any(|(v, ..)| &v.id == *id)) {
            return Err(not_found(missing));
        }
        let chosen: Vec<&(ItemView, Account, String, String)> = mine
            .iter()
            .filter(|(v, ..)| v.decision.is_none())
            .filter(|(v, ..)| {
                if ids.is_empty() {
                    v.unchanged
                } else {
                    ids.contains(&v.id)
                }
            })
            .collect();
        let keep = DecisionInput {
            decision: "keep".into(),
            reason: String::new(),
            change: String::new(),
        };
        let people = self.reports_only(role).await?;
        for (view, account, _, _) in &chosen {
            self.may_decide(people.as_ref(), view, account, &keep)?;
        }
        if chosen.is_empty() {
            return Ok(0);
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let mut entries = Vec::with_capacity(chosen.len());
        for (view, ..) in &chosen {
            let changed = sqlx::query(DECIDE)
                .bind("keep")
                .bind(None::<String>)
                .bind(None::<String>)
                .bind(now)
                .bind(&self.actor)
                .bind(None::<String>)
                .bind(&view.id)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if changed == 0 {
                return Err(StoreError::Conflict(format!(
                    "{}/{}: another decision was recorded first; nothing was kept",
                    view.system, view.username
                )));
            }
            entries.push((
                "access_review.decide".to_string(),
                format!("access_review_item:{}", view.id),
                json!({"campaign": view.campaign, "system": view.system, "account": view.username,
                       "decision": "keep", "reason": "", "change": "", "task": null, "bulk": true}),
            ));
        }
        self.log_many(&mut tx, entries).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(chosen.len())
    }

    /// Gives an undecided item to another reviewer; never to the account's holder.
    pub async fn reassign(&self, role: Role, item: &str, to: &str) -> Result<ItemView, StoreError> {
        manages(role)?;
        let (view, account, status, _) = self.item_row(item).await?;
        let to = to.trim().to_lowercase();
        rules::check_reassign(&account, &to, &self.directory().await?).map_err(refused)?;
        if status != "open" || view.decision.is_some() {
            return Err(StoreError::Conflict(
                "only an undecided item of an open campaign can be reassigned".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(REASSIGN)
            .bind(&to)
            .bind(format!("reassigned by {} from {}", self.actor, view.reviewer))
            .bind(item)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "access_review.reassign",
            &format!("access_review_item:{item}"),
            json!({"from": view.reviewer, "to": to}),
        )
        .await?;
        Ok(self.item_row(item).await?.0)
    }

    /// Records that a revocation was carried out where no import can show it (a system
    /// without an export, a change that keeps the account an administrator).
    pub async fn confirm_revocation(&self, role: Role, item: &str, note: &str) -> Result<ItemView, StoreError> {
        manages(role)?;
        crate::error::storable("note", note)?;
        if note.trim().is_empty() {
            return Err(StoreError::Field {
                field: "note",
                reason: "say how it was carried out (a ticket, a screenshot's evidence id)".into(),
            });
        }
        let (view, _, status, _) = self.item_row(item).await?;
        if status != "open" {
            return Err(StoreError::Conflict(format!(
                "the campaign '{}' is closed",
                view.campaign_name
            )));
        }
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(CONFIRM)
            .bind(now_ms())
            .bind(format!("confirmed by {}: {}", self.actor, note.trim()))
            .bind(item)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(
                "only a revoke or change decision not yet carried out can be confirmed".into(),
            ));
        }
        if let Some(task) = &view.task {
            self.update_in(&mut tx, &TASKS, task, |r| {
                r.values.insert("status", text_value("done"));
            })
            .await?;
        }
        self.commit_logged(
            tx,
            "access_review.confirm",
            &format!("access_review_item:{item}"),
            json!({"note": note.trim(), "task": view.task}),
        )
        .await?;
        Ok(self.item_row(item).await?.0)
    }

    /// Closes a campaign into its record: the account table (CSV) and a signed-off summary (PDF,
    /// typeset by `render`) kept as evidence for the access-review controls, and an
    /// access-review event dated today that the readiness and window views count.
    pub async fn close_campaign(
        &self,
        role: Role,
        id: &str,
        anyway: bool,
        today: time::Date,
        render: &(dyn Fn(&Closing) -> Result<Vec<u8>, String> + Sync),
    ) -> Result<CampaignView, StoreError> {
        manages(role)?;
        let c = self.campaign(role, id, today).await?;
        if c.status != "open" {
            return Err(StoreError::Conflict(format!(
                "the campaign '{}' is already closed",
                c.name
            )));
        }
        rules::check_close(&c.progress, anyway).map_err(|e| StoreError::Conflict(e.reason))?;
        let items = self.campaign_items(Role::Admin, id).await?;
        let closing = Closing {
            campaign: c.clone(),
            items,
            closed_on: today,
            closed_by: self.actor.clone(),
        };
        let pdf =
            render(&closing).map_err(|e| StoreError::Invalid(format!("the summary could not be typeset: {e}")))?;
        let privileged = c.coverage == "privileged";
        let links = self.review_links(privileged).await?;
        let stamp = format_date(today);
        let csv = self
            .prepare_file(
                &rules::items_csv(&closing.items),
                format!("access-review-{stamp}-decisions.csv"),
                format!("Access review '{}': every account, decision, reviewer and time", c.name),
                links.clone(),
                today,
                format!("access review {id}"),
            )
            .await?;
        let pdf_item = self
            .prepare_file(
                &pdf,
                format!("access-review-{stamp}-summary.pdf"),
                format!("Access review '{}': summary signed off by {}", c.name, self.actor),
                links.clone(),
                today,
                format!("access review {id}"),
            )
            .await?;
        let open: Vec<String> = closing
            .items
            .iter()
            .filter(|i| i.decision.is_none() || (i.decision.as_deref() != Some("keep") && i.carried_out_at.is_none()))
            .map(|i| format!("{}/{}", i.system, i.username))
            .collect();
        let event_key = format!("AR-{}", &id[id.len() - 10..]);
        let p = &c.progress;
        let mut values: BTreeMap<&'static str, Value> = BTreeMap::new();
        values.insert("id", text_value(&event_key));
        values.insert(
            "kind",
            text_value(if privileged {
                "privileged_access_review"
            } else {
                "access_review"
            }),
        );
        values.insert("title", text_value(format!("Access review: {}", c.name)));
        values.insert("date", Value::Date(today));
        values.insert(
            "summary",
            text_value(format!(
                "{} accounts reviewed by their reviewers; {} kept, {} revoked, {} changed",
                p.items, p.kept, p.revoked, p.changed
            )),
        );
        values.insert(
            "outcome",
            text_value(if open.is_empty() {
                "every item decided and every revocation seen carried out".to_string()
            } else {
                format!(
                    "closed with {} open: {}",
                    open.len(),
                    open.iter().take(20).cloned().collect::<Vec<_>>().join(", ")
                )
            }),
        );
        let (csv_id, pdf_id) = (csv.id.clone(), pdf_item.id.clone());
        values.insert("evidence", Value::List(vec![csv_id.clone(), pdf_id.clone()]));
        values.insert(
            "controls",
            Value::List(links.iter().map(|l| l.control.clone()).collect()),
        );
        let record = json!({"open": open, "csv_evidence": csv_id, "pdf_evidence": pdf_id, "event": event_key});
        let mut tx = self.begin_write().await?;
        self.record_evidence_in(&mut tx, &csv).await?;
        self.record_evidence_in(&mut tx, &pdf_item).await?;
        self.write_records_in(&mut tx, &EVENTS, &[Record { values }]).await?;
        let n = sqlx::query(CLOSE)
            .bind(now_ms())
            .bind(&self.actor)
            .bind(record.to_string())
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "the campaign '{}' is already closed",
                c.name
            )));
        }
        self.commit_logged(tx, "access_review.close", &format!("access_review:{id}"), record)
            .await?;
        self.campaign(role, id, today).await
    }
}

impl Workspace {
    /// Marks the open revocations of `imported.system` that this snapshot shows carried out
    /// (the account gone, disabled, or no longer an administrator), with the import as proof,
    /// and closes their tasks. Runs inside the import's transaction.
    pub(crate) async fn revocations_seen(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        imported: &evident_core::facts::Imported,
        evidence_id: &str,
        observed_at: i64,
    ) -> Result<usize, StoreError> {
        let open = sqlx::query(OPEN_REVOCATIONS)
            .bind(&imported.system)
            .fetch_all(&mut **tx)
            .await?;
        if open.is_empty() {
            return Ok(0);
        }
        let now: HashMap<&str, &Account> = imported.accounts.iter().map(|a| (a.external_id.as_str(), a)).collect();
        let mut seen = 0;
        for r in &open {
            let frozen = account_from_json(&r.try_get::<String, _>("account")?)?;
            let decision = Decision::parse(&r.try_get::<String, _>("decision")?)
                .map_err(|e| StoreError::Invalid(e.to_string()))?;
            if !rules::carried_out(decision, &frozen, now.get(frozen.external_id.as_str()).copied()) {
                continue;
            }
            sqlx::query(SEEN)
                .bind(observed_at)
                .bind(evidence_id)
                .bind(r.try_get::<String, _>("id")?)
                .execute(&mut **tx)
                .await?;
            if let Some(task) = r.try_get::<Option<String>, _>("task_key")? {
                self.update_in(tx, &TASKS, &task, |rec| {
                    rec.values.insert("status", text_value("done"));
                })
                .await?;
            }
            seen += 1;
        }
        Ok(seen)
    }
}

fn campaign_view(r: &AnyRow, today: time::Date) -> Result<CampaignView, StoreError> {
    let n = |c: &str| -> Result<usize, StoreError> { Ok(r.try_get::<i64, _>(c)?.max(0) as usize) };
    let (kept, revoked, changed, done) = (n("n_keep")?, n("n_revoke")?, n("n_change")?, n("n_done")?);
    let progress = Progress {
        items: n("n_items")?,
        decided: kept + revoked + changed,
        kept,
        revoked,
        changed,
        revocations_open: revoked + changed - done,
        revocations_done: done,
    };
    let status: String = r.try_get("status")?;
    let due: String = r.try_get("due_date")?;
    Ok(CampaignView {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        systems: serde_json::from_str(&r.try_get::<String, _>("systems")?).unwrap_or_default(),
        coverage: r.try_get("coverage")?,
        reviewer_rule: r.try_get("reviewer_rule")?,
        named_reviewer: r.try_get("named_reviewer")?,
        overdue: status == "open" && due < format_date(today) && progress.decided < progress.items,
        due,
        status,
        owner: r.try_get("owner")?,
        frozen_evidence: r.try_get("frozen_evidence_id")?,
        started_at: crate::fieldwork::utc(r.try_get("created_at")?),
        closed_at: r.try_get::<Option<i64>, _>("closed_at")?.map(crate::fieldwork::utc),
        closed_by: r.try_get("closed_by")?,
        closing: r
            .try_get::<Option<String>, _>("closing")?
            .and_then(|s| serde_json::from_str(&s).ok()),
        progress,
    })
}
