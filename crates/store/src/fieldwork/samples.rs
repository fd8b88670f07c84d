//! Population runs kept as evidence, and samples drawn from them with the auditor's seed.

use std::collections::BTreeMap;
use std::io::{Seek, Write};

use evident_catalog::{Frequency, PopulationKind};
use evident_core::access::Role;
use evident_core::fieldwork::population::{read_members, read_table};
use evident_core::fieldwork::{
    Act, Changes, EngagementView, LinkedEvidence, MAX_SAMPLE, Member, PacketFact, PopulationRunView, Run,
    SampleException, SampleItemView, SamplePacket, SampleView, TestResult, check_seed, check_text, compare, draw,
};
use evident_core::window::Period;
use evident_core::{format_date, parse_date};
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;
use time::Date;

use super::engagements::ensure_open;
use super::{allow, field, instant};
use crate::clock::now_ms;
use crate::evidence::{EvidenceFile, LinkTo, NewEvidence, SourceKind};
use crate::{StoreError, Workspace};

const INSERT_RUN: &str = "INSERT INTO population_runs (id, engagement_id, kind, period_start, period_end, item_count, \
     sha256, digests, evidence_id, ran_at, ran_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const SELECT_RUNS: &str = "SELECT id, engagement_id, kind, period_start, period_end, item_count, sha256, \
     evidence_id, ran_at, ran_by FROM population_runs ORDER BY ran_at, id";
const SELECT_RUN: &str = "SELECT id, engagement_id, kind, period_start, period_end, item_count, sha256, \
     evidence_id, ran_at, ran_by FROM population_runs WHERE id = $1";
const SELECT_PREVIOUS: &str = "SELECT digests FROM population_runs WHERE kind = $1 AND period_start = $2 \
     AND period_end = $3 ORDER BY ran_at DESC, id DESC LIMIT 1";
const SELECT_DIGESTS: &str = "SELECT digests FROM population_runs WHERE id = $1";
const INSERT_SAMPLE: &str = "INSERT INTO samples (id, engagement_id, control, population_id, seed, rounds, created_at, \
     created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
// Guarded by the rounds read, so two extensions racing cannot both add the same items.
const SET_ROUNDS: &str = "UPDATE samples SET rounds = $1 WHERE id = $2 AND rounds = $3";
const INSERT_ITEM: &str = "INSERT INTO sample_items (sample_id, item_id, position, round, item_date) \
     VALUES ($1, $2, $3, $4, $5)";
const SELECT_SAMPLES: &str = "SELECT id, engagement_id, control, population_id, seed, rounds, created_at, created_by \
     FROM samples WHERE engagement_id = $1 ORDER BY created_at, id";
const SELECT_SAMPLE: &str = "SELECT id, engagement_id, control, population_id, seed, rounds, created_at, created_by \
     FROM samples WHERE id = $1";
const SELECT_ITEMS: &str = "SELECT item_id, position, round, item_date, result, note, tested_by, tested_at \
     FROM sample_items WHERE sample_id = $1 ORDER BY position";
const SET_RESULT: &str = "UPDATE sample_items SET result = $1, note = $2, tested_by = $3, tested_at = $4 WHERE sample_id = $5 AND item_id = $6";
const SELECT_EXCEPTIONS: &str = "SELECT s.id AS sample_id, s.control, i.item_id, i.item_date, i.note, i.tested_by, \
     i.tested_at, (SELECT COUNT(*) FROM sample_items c WHERE c.sample_id = s.id) AS size \
     FROM sample_items i JOIN samples s ON s.id = i.sample_id JOIN engagements e ON e.id = s.engagement_id \
     WHERE i.result = 'exception' AND e.period_start = $1 AND e.period_end = $2";

fn run_view(r: &AnyRow, changes: Option<Changes>) -> Result<PopulationRunView, StoreError> {
    let count: i64 = r.try_get("item_count")?;
    Ok(PopulationRunView {
        id: r.try_get("id")?,
        engagement: r.try_get("engagement_id")?,
        kind: r.try_get("kind")?,
        period: format!(
            "{}..{}",
            r.try_get::<String, _>("period_start")?,
            r.try_get::<String, _>("period_end")?
        ),
        count: usize::try_from(count).unwrap_or(0),
        sha256: r.try_get("sha256")?,
        evidence: r.try_get("evidence_id")?,
        ran_at: instant(r.try_get("ran_at")?),
        ran_by: r.try_get("ran_by")?,
        changes,
    })
}

/// Employees see no population; auditors only those of their engagements (`visible`); the
/// team every one.
fn may_see_run(role: Role, engagement: Option<&str>, visible: &[String]) -> bool {
    match role {
        Role::Employee => false,
        Role::Auditor => engagement.is_some_and(|e| visible.iter().any(|v| v == e)),
        _ => true,
    }
}

fn digests(text: &str) -> BTreeMap<String, String> {
    serde_json::from_str(text).unwrap_or_default()
}

impl Workspace {
    /// Produces a population for an engagement's period (or, without one, the given or current
    /// report period), up to today, keeps the file as evidence linked to the controls the content
    /// says it serves, and says what changed since the last run of the same population.
    pub async fn run_population(
        &self,
        role: Role,
        engagement: Option<&str>,
        kind: PopulationKind,
        period: Option<(Date, Date)>,
        today: Date,
    ) -> Result<PopulationRunView, StoreError> {
        allow(role, Act::RunPopulation)?;
        let e = match engagement {
            Some(id) => Some(self.open_engagement(role, id).await?),
            None => None,
        };
        let p = match &e {
            Some(e) => Period {
                start: parse_date(&e.period_start).map_err(|er| StoreError::Invalid(er.to_string()))?,
                end: parse_date(&e.period_end).map_err(|er| StoreError::Invalid(er.to_string()))?,
            },
            None => self.window_period(period).await?.0,
        };
        if p.start > today {
            return Err(StoreError::Field {
                field: "period",
                reason: format!("the period starts {}, after today", format_date(p.start)),
            });
        }
        let p = Period {
            start: p.start,
            end: p.end.min(today),
        };
        let population = self.population(kind, p).await?;
        let id = ulid::Ulid::new().to_string();
        let now = now_ms();
        let run = Run {
            id: id.clone(),
            at: super::populations::utc(now),
            by: self.actor.clone(),
            engagement: e.as_ref().map(|e| format!("{} ({})", e.name, e.firm)),
        };
        let rendered = population.render(&run);
        let (start, end) = (format_date(p.start), format_date(p.end));
        let previous = sqlx::query(SELECT_PREVIOUS)
            .bind(kind.as_str())
            .bind(&start)
            .bind(&end)
            .fetch_optional(&self.db.pool)
            .await?
            .map(|r| r.try_get::<String, _>("digests"))
            .transpose()?
            .map(|d| compare(&digests(&d), &rendered.digests));

        let controls: Vec<LinkTo> = self
            .controls()
            .await?
            .into_iter()
            .filter(|c| c.template().is_some_and(|t| t.populations.contains(&kind)))
            .map(|c| LinkTo::control(c.code))
            .collect();
        let mut file = tempfile::tempfile().map_err(|source| StoreError::Io {
            path: std::env::temp_dir(),
            source,
        })?;
        file.write_all(&rendered.csv)
            .and_then(|_| file.rewind())
            .map_err(|source| StoreError::Io {
                path: std::env::temp_dir(),
                source,
            })?;
        let spec = super::populations::spec(kind);
        let mut new = NewEvidence::new(
            EvidenceFile::Received {
                file,
                name: format!("population-{}-{start}-{end}.csv", kind.as_str().replace('_', "-")),
            },
            SourceKind::Person,
            format!("population run {id}"),
        );
        new.title = Some(format!(
            "Population: {} {start}..{end} ({} items)",
            spec.title,
            population.items.len()
        ));
        new.controls = controls;
        new.period = Some(format!("{start}..{end}"));
        let item = self.add_evidence(new, today).await.map_err(|e| match e {
            crate::EvidenceError::Store(s) => s,
            other => StoreError::Invalid(other.to_string()),
        })?;

        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_RUN)
            .bind(&id)
            .bind(e.as_ref().map(|e| e.id.clone()))
            .bind(kind.as_str())
            .bind(&start)
            .bind(&end)
            .bind(population.items.len() as i64)
            .bind(&rendered.sha256)
            .bind(serde_json::to_string(&rendered.digests).expect("digests serialise"))
            .bind(&item.id)
            .bind(now)
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "population.run",
            &format!("population:{id}"),
            json!({"kind": kind.as_str(), "period": format!("{start}..{end}"), "count": population.items.len(),
                   "sha256": rendered.sha256, "evidence": item.id,
                   "engagement": e.as_ref().map(|e| e.id.clone()),
                   "changes": previous.as_ref().map(Changes::summary)}),
        )
        .await?;
        let mut v = self.population_run(role, &id).await?;
        v.changes = previous;
        Ok(v)
    }

    /// Population runs the caller may see: those of their engagements (an auditor), or all.
    pub async fn population_runs(
        &self,
        role: Role,
        engagement: Option<&str>,
    ) -> Result<Vec<PopulationRunView>, StoreError> {
        let visible = self.visible_engagements(role).await?;
        let wanted = match engagement {
            Some(id) => Some(self.engagement(role, id).await?.id),
            None => None,
        };
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_RUNS).fetch_all(&self.db.pool).await? {
            let eng: Option<String> = r.try_get("engagement_id")?;
            if may_see_run(role, eng.as_deref(), &visible) && (wanted.is_none() || wanted == eng) {
                out.push(run_view(&r, None)?);
            }
        }
        Ok(out)
    }

    pub async fn population_run(&self, role: Role, id: &str) -> Result<PopulationRunView, StoreError> {
        let not_found = || StoreError::NotFound {
            kind: "population run",
            id: id.to_string(),
        };
        let r = sqlx::query(SELECT_RUN)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(not_found)?;
        let eng: Option<String> = r.try_get("engagement_id")?;
        if !may_see_run(role, eng.as_deref(), &self.visible_engagements(role).await?) {
            return Err(not_found());
        }
        run_view(&r, None)
    }

    /// Ids of the engagements the caller may see (what an auditor's population runs are limited to).
    async fn visible_engagements(&self, role: Role) -> Result<Vec<String>, StoreError> {
        if role != Role::Auditor {
            return Ok(Vec::new());
        }
        Ok(self.engagements(role).await?.into_iter().map(|e| e.id).collect())
    }

    /// The population file as kept (decrypted from the vault and checked against its hash).
    pub async fn population_file(&self, role: Role, id: &str) -> Result<(PopulationRunView, Vec<u8>), StoreError> {
        let run = self.population_run(role, id).await?;
        let item = self.evidence_item(&run.evidence).await?;
        let mut bytes = Vec::new();
        self.vault
            .read_into(&item.sha256, &mut bytes, std::path::Path::new(&item.file_name))
            .await
            .map_err(|source| StoreError::Invalid(format!("evidence {}: {source}", item.id)))?;
        Ok((run, bytes))
    }

    /// Runs a kept population's rule again, without keeping anything: the same hash when the
    /// records did not change, otherwise what changed.
    pub async fn rerun_population(
        &self,
        role: Role,
        id: &str,
    ) -> Result<(PopulationRunView, String, Changes), StoreError> {
        let run = self.population_run(role, id).await?;
        let kind = PopulationKind::parse(&run.kind).map_err(|e| StoreError::Invalid(e.to_string()))?;
        let (a, b) = evident_core::scope::parse_period(&run.period).map_err(StoreError::Invalid)?;
        let population = self.population(kind, Period { start: a, end: b }).await?;
        let (sha, now) = population.fingerprint();
        let before: String = sqlx::query(SELECT_DIGESTS)
            .bind(&run.id)
            .fetch_one(&self.db.pool)
            .await?
            .try_get("digests")?;
        let changes = compare(&digests(&before), &now);
        Ok((run, sha, changes))
    }

    /// Draws a sample for a control from a population kept for the engagement; the size is
    /// the engagement's table's suggestion unless given.
    pub async fn draw_sample(
        &self,
        role: Role,
        engagement: &str,
        control: &str,
        population: &str,
        seed: &str,
        size: Option<usize>,
    ) -> Result<SampleView, StoreError> {
        allow(role, Act::Test)?;
        let e = self.open_engagement(role, engagement).await?;
        let seed = check_seed(seed).map_err(field)?;
        let c = self
            .control_facts()
            .await?
            .into_iter()
            .find(|c| c.code.eq_ignore_ascii_case(control.trim()))
            .ok_or_else(|| StoreError::NotFound {
                kind: "control",
                id: control.to_string(),
            })?;
        let (run, members) = self.population_members(role, population).await?;
        if run.engagement.as_deref() != Some(e.id.as_str()) {
            return Err(StoreError::Field {
                field: "population",
                reason: format!("population run {} was not produced for engagement '{}'", run.id, e.name),
            });
        }
        let suggested = e.sizes.suggest(c.frequency, members.len());
        let size = size.unwrap_or(suggested);
        if size == 0 || size > MAX_SAMPLE {
            return Err(StoreError::Field {
                field: "size",
                reason: format!("{size} is not between 1 and {MAX_SAMPLE}"),
            });
        }
        if members.is_empty() {
            return Err(StoreError::Field {
                field: "population",
                reason: format!("population run {} holds no items; there is nothing to sample", run.id),
            });
        }
        let drawn = draw(&seed, &members, &[size]);
        let dates: BTreeMap<&str, &str> = members.iter().map(|m| (m.id.as_str(), m.date.as_str())).collect();
        let id = ulid::Ulid::new().to_string();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_SAMPLE)
            .bind(&id)
            .bind(&e.id)
            .bind(&c.code)
            .bind(&run.id)
            .bind(&seed)
            .bind(json!([drawn.len()]).to_string())
            .bind(now_ms())
            .bind(&self.actor)
            .execute(&mut *tx)
            .await?;
        for (pos, d) in drawn.iter().enumerate() {
            sqlx::query(INSERT_ITEM)
                .bind(&id)
                .bind(&d.id)
                .bind(pos as i64)
                .bind(d.round as i64)
                .bind(dates.get(d.id.as_str()).copied().unwrap_or_default())
                .execute(&mut *tx)
                .await?;
        }
        self.commit_logged(
            tx,
            "sample.draw",
            &format!("sample:{id}"),
            json!({"engagement": e.id, "control": c.code, "population": run.id, "population_sha256": run.sha256,
                   "seed": seed, "size": drawn.len(), "items": drawn.iter().map(|d| d.id.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        self.sample(role, &id).await
    }

    /// Adds `more` items to a sample: the same seed and population, the first items kept.
    pub async fn extend_sample(&self, role: Role, id: &str, more: usize) -> Result<SampleView, StoreError> {
        allow(role, Act::Test)?;
        let (e, s) = self.sample_in(role, id).await?;
        ensure_open(&e)?;
        let total: usize = s.rounds.iter().sum::<usize>() + more;
        if more == 0 || total > MAX_SAMPLE {
            return Err(StoreError::Field {
                field: "more",
                reason: format!("{more} more would make {total}; a sample holds 1 to {MAX_SAMPLE} items"),
            });
        }
        let (_, members) = self.population_members(role, &s.population.id).await?;
        let mut rounds = s.rounds.clone();
        rounds.push(more);
        let drawn = draw(&s.seed, &members, &rounds);
        let new: Vec<_> = drawn.iter().filter(|d| d.round == rounds.len()).collect();
        if new.is_empty() {
            return Err(StoreError::Field {
                field: "more",
                reason: format!(
                    "every item of the population ({}) is already in the sample",
                    members.len()
                ),
            });
        }
        rounds.pop();
        rounds.push(new.len());
        let dates: BTreeMap<&str, &str> = members.iter().map(|m| (m.id.as_str(), m.date.as_str())).collect();
        let start = s.items.len();
        let mut tx = self.begin_write().await?;
        let moved = sqlx::query(SET_ROUNDS)
            .bind(json!(rounds).to_string())
            .bind(&s.id)
            .bind(json!(s.rounds).to_string())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if moved != 1 {
            return Err(StoreError::Conflict(format!(
                "sample {} was extended while you were looking at it; reload it",
                s.id
            )));
        }
        for (i, d) in new.iter().enumerate() {
            sqlx::query(INSERT_ITEM)
                .bind(&s.id)
                .bind(&d.id)
                .bind((start + i) as i64)
                .bind(d.round as i64)
                .bind(dates.get(d.id.as_str()).copied().unwrap_or_default())
                .execute(&mut *tx)
                .await?;
        }
        self.commit_logged(
            tx,
            "sample.extend",
            &format!("sample:{}", s.id),
            json!({"more": new.len(), "rounds": rounds, "items": new.iter().map(|d| d.id.clone()).collect::<Vec<_>>()}),
        )
        .await?;
        self.sample(role, id).await
    }

    /// Records the auditor's result on one sampled item; an exception needs a note and flows
    /// into the observation window's exceptions.
    pub async fn record_result(
        &self,
        role: Role,
        id: &str,
        item: &str,
        result: TestResult,
        note: &str,
    ) -> Result<SampleView, StoreError> {
        allow(role, Act::Test)?;
        let note = check_text("note", note, result == TestResult::Exception).map_err(field)?;
        let (e, s) = self.sample_in(role, id).await?;
        ensure_open(&e)?;
        if !s.items.iter().any(|i| i.item == item) {
            return Err(StoreError::NotFound {
                kind: "sampled item",
                id: item.to_string(),
            });
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_RESULT)
            .bind(result.as_str())
            .bind(if note.is_empty() { None } else { Some(note.clone()) })
            .bind(&self.actor)
            .bind(now_ms())
            .bind(&s.id)
            .bind(item)
            .execute(&mut *tx)
            .await?;
        self.commit_logged(
            tx,
            "sample.result",
            &format!("sample:{}", s.id),
            json!({"item": item, "result": result.as_str(), "note": note}),
        )
        .await?;
        self.sample(role, id).await
    }

    pub async fn samples(&self, role: Role, engagement: &str) -> Result<Vec<SampleView>, StoreError> {
        let e = self.engagement(role, engagement).await?;
        let runs = self.population_runs(role, Some(&e.id)).await?;
        let frequencies = self.control_frequencies().await?;
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_SAMPLES).bind(&e.id).fetch_all(&self.db.pool).await? {
            let population: String = r.try_get("population_id")?;
            let run = runs
                .iter()
                .find(|p| p.id == population)
                .cloned()
                .ok_or_else(|| StoreError::Invalid(format!("sample's population run {population} is missing")))?;
            out.push(self.sample_view(&r, &e, run, &frequencies).await?);
        }
        Ok(out)
    }

    pub async fn sample(&self, role: Role, id: &str) -> Result<SampleView, StoreError> {
        Ok(self.sample_in(role, id).await?.1)
    }

    /// A sample with the engagement it belongs to.
    async fn sample_in(&self, role: Role, id: &str) -> Result<(EngagementView, SampleView), StoreError> {
        let not_found = || StoreError::NotFound {
            kind: "sample",
            id: id.to_string(),
        };
        let r = sqlx::query(SELECT_SAMPLE)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or_else(not_found)?;
        let e = self
            .engagement(role, &r.try_get::<String, _>("engagement_id")?)
            .await
            .map_err(|_| not_found())?;
        let run = self
            .population_run(role, &r.try_get::<String, _>("population_id")?)
            .await?;
        let frequencies = self.control_frequencies().await?;
        let view = self.sample_view(&r, &e, run, &frequencies).await?;
        Ok((e, view))
    }

    /// A sample row with its items, read against what its engagement and population say.
    async fn sample_view(
        &self,
        r: &AnyRow,
        e: &EngagementView,
        population: PopulationRunView,
        frequencies: &BTreeMap<String, Frequency>,
    ) -> Result<SampleView, StoreError> {
        let id: String = r.try_get("id")?;
        let seed: String = r.try_get("seed")?;
        let control: String = r.try_get("control")?;
        let rounds: Vec<usize> = serde_json::from_str(&r.try_get::<String, _>("rounds")?).unwrap_or_default();
        let frequency = frequencies.get(&control).copied().unwrap_or(Frequency::PerEvent);
        let mut items = Vec::new();
        for i in sqlx::query(SELECT_ITEMS).bind(&id).fetch_all(&self.db.pool).await? {
            let item: String = i.try_get("item_id")?;
            let result: Option<String> = i.try_get("result")?;
            items.push(SampleItemView {
                key: evident_core::fieldwork::sampling::key(&seed, &item),
                date: i.try_get("item_date")?,
                round: usize::try_from(i.try_get::<i64, _>("round")?).unwrap_or(0),
                result: result.as_deref().and_then(|r| TestResult::parse(r).ok()),
                note: i.try_get("note")?,
                tested_by: i.try_get("tested_by")?,
                tested_at: i.try_get::<Option<i64>, _>("tested_at")?.map(instant),
                item,
            });
        }
        Ok(SampleView {
            id,
            engagement: e.id.clone(),
            control,
            suggested: e.sizes.suggest(frequency, population.count),
            exceptions: items.iter().filter(|i| i.result == Some(TestResult::Exception)).count(),
            population,
            seed,
            rounds,
            items,
            created_by: r.try_get("created_by")?,
            created_at: instant(r.try_get("created_at")?),
        })
    }

    async fn population_members(&self, role: Role, run: &str) -> Result<(PopulationRunView, Vec<Member>), StoreError> {
        let (run, bytes) = self.population_file(role, run).await?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::Invalid("population file is not UTF-8".into()))?;
        let members = read_members(&text).map_err(|e| StoreError::Invalid(format!("population {}: {e}", run.id)))?;
        Ok((run, members))
    }

    /// Exceptions auditors recorded in samples of engagements over this period.
    pub async fn sample_exceptions(&self, period: Period) -> Result<Vec<SampleException>, StoreError> {
        let mut out = Vec::new();
        for r in sqlx::query(SELECT_EXCEPTIONS)
            .bind(format_date(period.start))
            .bind(format_date(period.end))
            .fetch_all(&self.db.pool)
            .await?
        {
            out.push(SampleException {
                sample: r.try_get("sample_id")?,
                item: r.try_get("item_id")?,
                control: r.try_get("control")?,
                date: r.try_get("item_date")?,
                note: r.try_get::<Option<String>, _>("note")?.unwrap_or_default(),
                tested_by: r.try_get::<Option<String>, _>("tested_by")?.unwrap_or_default(),
                tested_at: r
                    .try_get::<Option<i64>, _>("tested_at")?
                    .map(instant)
                    .unwrap_or_default(),
                sample_size: usize::try_from(r.try_get::<i64, _>("size")?).unwrap_or(1),
            });
        }
        Ok(out)
    }
}

const SELECT_CHECKS_OF: &str =
    "SELECT status, completed_on, provider FROM background_checks WHERE LOWER(email) = $1 ORDER BY completed_on";
const SELECT_TRAINING_OF: &str =
    "SELECT course, kind, completed_on FROM training_completions WHERE LOWER(email) = $1 ORDER BY completed_on";
const SELECT_ACCEPTANCES_OF: &str = "SELECT p.ref, a.version, a.accepted_at FROM policy_acceptances a \
     JOIN policies p ON p.id = a.policy_id WHERE LOWER(a.email) = $1 ORDER BY a.accepted_at";

impl Workspace {
    /// The evidence behind one sampled item, assembled from its population row and the records
    /// about it.
    pub async fn sample_packet(&self, role: Role, id: &str, item: &str) -> Result<SamplePacket, StoreError> {
        let (e, s) = self.sample_in(role, id).await?;
        let it = s
            .items
            .iter()
            .find(|i| i.item == item)
            .ok_or_else(|| StoreError::NotFound {
                kind: "sampled item",
                id: item.to_string(),
            })?;
        let (run, bytes) = self.population_file(role, &s.population.id).await?;
        let text = String::from_utf8(bytes).map_err(|_| StoreError::Invalid("population file is not UTF-8".into()))?;
        let (header, rows) = read_table(&text);
        let row = rows
            .iter()
            .find(|r| r.first().map(String::as_str) == Some(item))
            .ok_or_else(|| StoreError::Invalid(format!("population {} has no row for {item}", run.id)))?;
        let mut facts = Vec::new();
        let mut evidence_ids = Vec::new();
        for (name, value) in header.iter().zip(row).skip(1) {
            if name == "evidence" {
                for id in value.split_whitespace() {
                    match id.strip_prefix("log:") {
                        Some(seq) => facts.push(PacketFact {
                            name: "audit log entry".into(),
                            value: format!("#{seq} (evident audit-log; evident verify checks its chain)"),
                        }),
                        None => evidence_ids.push(id.to_string()),
                    }
                }
            } else {
                facts.push(PacketFact {
                    name: name.clone(),
                    value: value.clone(),
                });
            }
        }
        if run.kind == PopulationKind::NewHires.as_str() {
            let email = header
                .iter()
                .position(|h| h == "email")
                .and_then(|i| row.get(i))
                .map(|m| m.to_lowercase())
                .unwrap_or_default();
            let pool = &self.db.pool;
            for r in sqlx::query(SELECT_CHECKS_OF).bind(&email).fetch_all(pool).await? {
                facts.push(PacketFact {
                    name: "background check".into(),
                    value: format!(
                        "{} on {} by {}",
                        r.try_get::<Option<String>, _>("status")?.unwrap_or_default(),
                        r.try_get::<Option<String>, _>("completed_on")?
                            .unwrap_or_else(|| "no date".into()),
                        r.try_get::<Option<String>, _>("provider")?
                            .unwrap_or_else(|| "unknown provider".into())
                    ),
                });
            }
            for r in sqlx::query(SELECT_TRAINING_OF).bind(&email).fetch_all(pool).await? {
                facts.push(PacketFact {
                    name: "training".into(),
                    value: format!(
                        "{} ({}) on {}",
                        r.try_get::<Option<String>, _>("course")?.unwrap_or_default(),
                        r.try_get::<Option<String>, _>("kind")?.unwrap_or_default(),
                        r.try_get::<Option<String>, _>("completed_on")?.unwrap_or_default()
                    ),
                });
            }
            for r in sqlx::query(SELECT_ACCEPTANCES_OF).bind(&email).fetch_all(pool).await? {
                facts.push(PacketFact {
                    name: "policy accepted".into(),
                    value: format!(
                        "{} v{} at {}",
                        r.try_get::<String, _>("ref")?,
                        r.try_get::<i64, _>("version")?,
                        instant(r.try_get("accepted_at")?)
                    ),
                });
            }
        }
        let mut evidence = Vec::new();
        for id in evidence_ids {
            let Ok(item) = self.evidence_item(&id).await else {
                continue;
            };
            evidence.push(LinkedEvidence::new(
                item.id.clone(),
                item.title.clone(),
                (
                    item.period_from.as_deref(),
                    item.period_to.as_deref(),
                    item.effective_date.as_deref(),
                ),
                (&e.period_start, &e.period_end),
            ));
        }
        Ok(SamplePacket {
            sample: s.id.clone(),
            control: s.control.clone(),
            item: it.item.clone(),
            date: it.date.clone(),
            facts,
            evidence,
            result: it.result,
            note: it.note.clone(),
        })
    }
}
