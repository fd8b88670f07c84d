//! The joiner, mover and leaver reconciliation's records, loaded once: the people register,
//! every system's accounts, the moves replayed from the audit log, access-review decisions and
//! first trainings. The rules are `evident_core::access_review::jml`.

use std::collections::HashMap;

use evident_catalog::PopulationKind;
use evident_core::access_review::jml::{self, Finding, Limits, Member, Moment, Move, Records};
use evident_core::facts::Account;
use evident_core::registers::{PEOPLE, TRAINING};
use evident_core::window::Period;
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

/// When each person's accounts were decided on: all the movers check needs.
const DECISION_TIMES: &str = "SELECT person, decided_at FROM review_items WHERE decided_at > 0 AND person IS NOT NULL";
const DECISIONS: &str = "SELECT i.person, i.system, i.username, i.decision, i.decided_at, i.decided_by, c.name \
     FROM review_items i JOIN review_campaigns c ON c.id = i.campaign_id \
     WHERE i.decided_at > 0 AND i.person IS NOT NULL";

/// How far back moves are replayed: a move older than this cannot still be awaiting review.
const MOVES_LOOKBACK_DAYS: i64 = 400;

/// What the reconciliation read, kept so a person's timeline can be drawn from the same load.
/// Per person: instants of access-review decisions on their accounts.
pub type Reviews = HashMap<String, Vec<i64>>;
/// Per person: (instant, words) of each decision on their accounts.
pub type Decisions = HashMap<String, Vec<(i64, String)>>;

pub struct JmlRecords {
    pub people: Vec<Member>,
    pub accounts: Vec<Account>,
    pub moves: Vec<Move>,
    pub reviews: Reviews,
    pub decisions: Decisions,
    pub trained: HashMap<String, time::Date>,
    pub baseline: Vec<String>,
    pub limits: Limits,
    pub today: time::Date,
    pub now_ms: i64,
}

impl JmlRecords {
    fn records(&self) -> Records<'_> {
        Records {
            people: &self.people,
            accounts: &self.accounts,
            moves: &self.moves,
            reviews: &self.reviews,
            trained: &self.trained,
            baseline: &self.baseline,
            limits: self.limits,
            today: self.today,
            now_ms: self.now_ms,
        }
    }

    pub fn findings(&self) -> Vec<Finding> {
        jml::reconcile(&self.records())
    }

    pub fn timeline(&self, email: &str) -> Vec<Moment> {
        let key = email.to_lowercase();
        let none = Vec::new();
        jml::timeline(&self.records(), email, self.decisions.get(&key).unwrap_or(&none))
    }

    pub fn person(&self, email: &str) -> Option<&Member> {
        self.people.iter().find(|p| p.email.eq_ignore_ascii_case(email))
    }
}

impl Workspace {
    /// Loads what the joiner/mover/leaver reconciliation reads, as of the end of `today` (or now,
    /// when `today` is today): a later day shows what will be late by then if nothing changes.
    pub async fn jml_records(&self, today: time::Date) -> Result<JmlRecords, StoreError> {
        let now = now_ms();
        let now = if evident_core::date_of_ms(now) == Some(today) {
            now
        } else {
            evident_core::day_start_ms(today + time::Duration::days(1)) - 1
        };
        let params = self.parameter_values().await?;
        let param = |k: &str, d: i64| params.get(k).and_then(|v| v.parse::<i64>().ok()).unwrap_or(d);
        let limits = Limits {
            leaver_hours: param("leaver_deprovision_hours", 24),
            mover_days: param("mover_review_days", jml::MOVER_REVIEW_DAYS),
            training_days: param("training_due_days_after_start", 30),
        };
        let (people, accounts, training) =
            tokio::try_join!(self.records(&PEOPLE), self.accounts(), self.records(&TRAINING))?;
        let people: Vec<Member> = people
            .iter()
            .map(|p| {
                let r = &p.record;
                Member {
                    email: r.get("email").as_str().unwrap_or("").to_string(),
                    name: r.get("name").as_str().unwrap_or("").to_string(),
                    contractor: r.get("employment_type").as_str() == Some("contractor"),
                    start: r.get("start_date").as_date(),
                    end: r.get("end_date").as_date(),
                }
            })
            .collect();
        let mut trained: HashMap<String, time::Date> = HashMap::new();
        for t in &training {
            let r = &t.record;
            if r.get("kind").as_str() != Some("security_awareness") {
                continue;
            }
            if let (Some(e), Some(d)) = (r.get("email").as_str(), r.get("completed_on").as_date()) {
                let e = e.to_lowercase();
                let first = trained.entry(e).or_insert(d);
                *first = (*first).min(d);
            }
        }
        let (moves, (reviews, decisions)) = tokio::try_join!(self.moves(today), self.review_decisions())?;
        let baseline = jml::baseline_systems(&accounts);
        Ok(JmlRecords {
            people,
            accounts,
            moves,
            reviews,
            decisions,
            trained,
            baseline,
            limits,
            today,
            now_ms: now,
        })
    }

    /// Changes of title or department up to `today`, replayed from the audit log over the last
    /// 400 days (an older move cannot still be awaiting review).
    pub async fn moves(&self, today: time::Date) -> Result<Vec<Move>, StoreError> {
        let population = self
            .population(
                PopulationKind::RoleChanges,
                Period {
                    start: today - time::Duration::days(MOVES_LOOKBACK_DAYS),
                    end: today,
                },
            )
            .await?;
        Ok(population
            .items
            .iter()
            .filter(|i| matches!(i.cells.get(1).map(String::as_str), Some("title" | "department")))
            .filter_map(|i| {
                Some(Move {
                    email: i.cells.first()?.clone(),
                    field: i.cells[1].clone(),
                    from: i.cells.get(2)?.clone(),
                    to: i.cells.get(3)?.clone(),
                    on: evident_core::parse_date(&i.date).ok()?,
                })
            })
            .collect())
    }

    /// The instants of access-review decisions per person (lower-cased email), without the
    /// words a timeline needs: read on every readiness run.
    pub async fn review_times(&self) -> Result<Reviews, StoreError> {
        let mut reviews: Reviews = HashMap::new();
        for r in sqlx::query(DECISION_TIMES).fetch_all(&self.db.pool).await? {
            let person: String = r.try_get("person")?;
            reviews
                .entry(person.to_lowercase())
                .or_default()
                .push(r.try_get("decided_at")?);
        }
        Ok(reviews)
    }

    /// Access-review decisions per person (lower-cased email): their instants, and each as
    /// (instant, words) for a timeline.
    pub async fn review_decisions(&self) -> Result<(Reviews, Decisions), StoreError> {
        let mut reviews: Reviews = HashMap::new();
        let mut decisions: Decisions = HashMap::new();
        for r in sqlx::query(DECISIONS).fetch_all(&self.db.pool).await? {
            let person: String = r.try_get::<String, _>("person")?.to_lowercase();
            let at: i64 = r.try_get("decided_at")?;
            let words = format!(
                "access review '{}': {}/{} {} by {}",
                r.try_get::<String, _>("name")?,
                r.try_get::<String, _>("system")?,
                r.try_get::<String, _>("username")?,
                match r.try_get::<String, _>("decision")?.as_str() {
                    "keep" => "kept",
                    "revoke" => "to be revoked",
                    _ => "to be changed",
                },
                r.try_get::<Option<String>, _>("decided_by")?.unwrap_or_default()
            );
            reviews.entry(person.clone()).or_default().push(at);
            decisions.entry(person).or_default().push((at, words));
        }
        Ok((reviews, decisions))
    }
}
