//! Generic persistence for registers. Each register has its own table (see migration 0003);
//! the SQL for it is built once, only from the static register specs, never from input.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use evident_core::parse_date;
use evident_core::register::{FieldKind, Known, Record, RegisterSpec, Value};
use serde::Serialize;
use serde_json::{Value as Json, json};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const PEOPLE_EMAILS: &str = "SELECT email FROM people";
const CONTROL_CODES: &str = "SELECT code FROM controls";
const EVIDENCE_IDS: &str = "SELECT id FROM evidence";

/// The column holding a field (`id` is the primary key, so a register's own `id` is `id_ref`).
pub(crate) fn column(field: &str) -> &str {
    if field == "id" { "id_ref" } else { field }
}

fn is_integer(kind: FieldKind) -> bool {
    matches!(kind, FieldKind::Int { .. } | FieldKind::Bool)
}

struct RegisterSql {
    select_all: &'static str,
    /// The whole register as one JSON array of row arrays (see `Workspace::records`).
    all_json_sqlite: &'static str,
    all_json_postgres: &'static str,
    select_by_key: &'static str,
    insert: &'static str,
    update: &'static str,
}

/// SQL per register, built from the static specs the first time it is needed.
fn sql(spec: &RegisterSpec) -> &'static RegisterSql {
    static ALL: OnceLock<HashMap<&'static str, RegisterSql>> = OnceLock::new();
    let all = ALL.get_or_init(|| {
        evident_core::registers::ALL
            .iter()
            .map(|s| {
                let cols: Vec<&str> = s.fields.iter().map(|f| column(f.name)).collect();
                let n = cols.len();
                let leak = |q: String| -> &'static str { Box::leak(q.into_boxed_str()) };
                let select_all = leak(format!(
                    "SELECT id, key, {}, created_at, updated_at FROM {} ORDER BY key",
                    cols.join(", "),
                    s.table
                ));
                let all_json_sqlite = leak(format!(
                    "SELECT json_group_array(json_array(id, key, {}, created_at, updated_at)) AS rows FROM {}",
                    cols.join(", "),
                    s.table
                ));
                let all_json_postgres = leak(format!(
                    "SELECT json_agg(json_build_array(id, key, {}, created_at, updated_at))::text AS rows FROM {}",
                    cols.join(", "),
                    s.table
                ));
                let select_by_key = leak(format!(
                    "SELECT id, key, {}, created_at, updated_at FROM {} WHERE key = $1",
                    cols.join(", "),
                    s.table
                ));
                let placeholders: Vec<String> = (1..=n + 4).map(|i| format!("${i}")).collect();
                let insert = leak(format!(
                    "INSERT INTO {} (id, key, {}, created_at, updated_at) VALUES ({})",
                    s.table,
                    cols.join(", "),
                    placeholders.join(", ")
                ));
                let sets: Vec<String> = cols
                    .iter()
                    .enumerate()
                    .map(|(i, c)| format!("{c} = ${}", i + 1))
                    .collect();
                let update = leak(format!(
                    "UPDATE {} SET {}, updated_at = ${} WHERE id = ${}",
                    s.table,
                    sets.join(", "),
                    n + 1,
                    n + 2
                ));
                (
                    s.name,
                    RegisterSql {
                        select_all,
                        all_json_sqlite,
                        all_json_postgres,
                        select_by_key,
                        insert,
                        update,
                    },
                )
            })
            .collect()
    });
    &all[spec.name]
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredRecord {
    pub id: String,
    pub key: String,
    pub record: Record,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct WriteSummary {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// A record as JSON, typed (numbers, booleans, arrays), in field order.
pub fn record_json(spec: &RegisterSpec, record: &Record) -> Json {
    let mut map = serde_json::Map::new();
    for f in spec.fields {
        let v = match record.get(f.name) {
            Value::Null => Json::Null,
            Value::Text(s) => json!(s),
            Value::Int(n) => json!(n),
            Value::Bool(b) => json!(b),
            Value::Date(_) => json!(record.get(f.name).to_text()),
            Value::List(items) => json!(items),
        };
        map.insert(f.name.to_string(), v);
    }
    Json::Object(map)
}

/// One row of `records`' JSON: [id, key, fields…, created_at, updated_at].
fn decode_json(spec: &RegisterSpec, row: Vec<Json>) -> Option<StoredRecord> {
    let n = spec.fields.len();
    if row.len() != n + 4 {
        return None;
    }
    let mut it = row.into_iter();
    let text = |v: Json| match v {
        Json::String(s) => Some(s),
        _ => None,
    };
    let id = text(it.next()?)?;
    let key = text(it.next()?)?;
    let mut values = BTreeMap::new();
    for f in spec.fields {
        let v = match (it.next()?, f.kind) {
            (Json::Null, _) => Value::Null,
            (Json::Number(n), FieldKind::Bool) => Value::Bool(n.as_i64()? != 0),
            (Json::Number(n), _) if is_integer(f.kind) => Value::Int(n.as_i64()?),
            (Json::String(s), FieldKind::Date { .. }) => Value::Date(parse_date(&s).ok()?),
            (Json::String(s), FieldKind::List | FieldKind::Controls | FieldKind::Evidence) => {
                Value::List(serde_json::from_str(&s).ok()?)
            }
            (Json::String(s), _) if !is_integer(f.kind) => Value::Text(s),
            _ => return None,
        };
        values.insert(f.name, v);
    }
    Some(StoredRecord {
        id,
        key,
        record: Record { values },
        created_at: it.next()?.as_i64()?,
        updated_at: it.next()?.as_i64()?,
    })
}

fn decode(spec: &RegisterSpec, row: &AnyRow) -> Result<StoredRecord, StoreError> {
    let corrupt = |f: &str| StoreError::Config(format!("{}: stored field {f} is not valid", spec.table));
    let mut values = BTreeMap::new();
    for f in spec.fields {
        let col = column(f.name);
        let v = if is_integer(f.kind) {
            match row.try_get::<Option<i64>, _>(col)? {
                None => Value::Null,
                Some(n) if matches!(f.kind, FieldKind::Bool) => Value::Bool(n != 0),
                Some(n) => Value::Int(n),
            }
        } else {
            match row.try_get::<Option<String>, _>(col)? {
                None => Value::Null,
                Some(s) => match f.kind {
                    FieldKind::Date { .. } => Value::Date(parse_date(&s).map_err(|_| corrupt(f.name))?),
                    FieldKind::List | FieldKind::Controls | FieldKind::Evidence => {
                        Value::List(serde_json::from_str(&s).map_err(|_| corrupt(f.name))?)
                    }
                    _ => Value::Text(s),
                },
            }
        };
        values.insert(f.name, v);
    }
    Ok(StoredRecord {
        id: row.try_get("id")?,
        key: row.try_get("key")?,
        record: Record { values },
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

/// Binds a record's fields in spec order.
fn bind_fields<'q>(
    mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    spec: &RegisterSpec,
    record: &Record,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    for f in spec.fields {
        let v = record.get(f.name);
        q = if is_integer(f.kind) {
            q.bind(match v {
                Value::Int(n) => Some(*n),
                Value::Bool(b) => Some(i64::from(*b)),
                _ => None,
            })
        } else {
            q.bind(match v {
                Value::Null => None,
                Value::List(items) => Some(serde_json::to_string(items).expect("strings serialise")),
                other => Some(other.to_text()),
            })
        };
    }
    q
}

impl Workspace {
    /// Every record, ordered by key. Read as one JSON array built by the database: with tens
    /// of thousands of rows, the driver's per-row cost dominated.
    pub async fn records(&self, spec: &RegisterSpec) -> Result<Vec<StoredRecord>, StoreError> {
        let q = sql(spec);
        let rows: Vec<Vec<Json>> = self
            .json_rows(q.all_json_sqlite, q.all_json_postgres, spec.table)
            .await?;
        let mut out = rows
            .into_iter()
            .map(|row| {
                decode_json(spec, row)
                    .ok_or_else(|| StoreError::Config(format!("{}: stored row is not valid", spec.table)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    /// A record by its key (case-insensitive; composite keys joined with `|`).
    pub async fn record(&self, spec: &RegisterSpec, key: &str) -> Result<StoredRecord, StoreError> {
        let key = key.trim().to_lowercase();
        let row = sqlx::query(AssertSqlSafe(sql(spec).select_by_key))
            .bind(&key)
            .fetch_optional(&self.db.pool)
            .await?;
        match row {
            Some(r) => decode(spec, &r),
            None => Err(StoreError::NotFound {
                kind: spec.noun,
                id: key,
            }),
        }
    }

    /// What register validation may look up.
    pub async fn known(&self, today: time::Date) -> Result<Known, StoreError> {
        let column = |rows: Vec<AnyRow>, c: &str| -> Result<_, StoreError> {
            rows.iter()
                .map(|r| Ok(r.try_get::<String, _>(c)?))
                .collect::<Result<_, StoreError>>()
        };
        let pool = &self.db.pool;
        Ok(Known {
            people: column(sqlx::query(PEOPLE_EMAILS).fetch_all(pool).await?, "email")?,
            controls: column(sqlx::query(CONTROL_CODES).fetch_all(pool).await?, "code")?,
            evidence: column(sqlx::query(EVIDENCE_IDS).fetch_all(pool).await?, "id")?,
            today: Some(today),
        })
    }

    /// Writes validated records in one transaction: new keys are inserted, changed records
    /// updated, identical ones left alone. One audit entry lists what changed; nothing
    /// changed means nothing written and nothing logged.
    pub async fn write_records(
        &self,
        spec: &RegisterSpec,
        records: &[Record],
        action: &str,
        context: Json,
    ) -> Result<WriteSummary, StoreError> {
        let mut tx = self.begin_write().await?;
        let (summary, created, updated) = self.write_records_in(&mut tx, spec, records).await?;
        if created.is_empty() && updated.is_empty() {
            return Ok(summary);
        }
        let subject = match (records.len(), records.first()) {
            (1, Some(r)) => format!("{}:{}", spec.noun.replace(' ', "_"), r.key(spec)),
            _ => format!("register:{}", spec.name),
        };
        let payload = json!({"register": spec.name, "context": context, "created": created, "updated": updated});
        self.log(&mut tx, action, &subject, payload).await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(summary)
    }

    /// The writes of [`Workspace::write_records`] inside a caller's transaction (which logs
    /// them): the summary and the records created and updated, as logged.
    pub(crate) async fn write_records_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        spec: &RegisterSpec,
        records: &[Record],
    ) -> Result<(WriteSummary, Vec<Json>, Vec<Json>), StoreError> {
        let existing: HashMap<String, StoredRecord> = self
            .records_in(tx, spec)
            .await?
            .into_iter()
            .map(|s| (s.key.clone(), s))
            .collect();
        let now = now_ms();
        let mut summary = WriteSummary::default();
        let (mut created, mut updated) = (Vec::new(), Vec::new());
        for record in records {
            let key = record.key(spec);
            match existing.get(&key) {
                Some(old) if old.record == *record => summary.unchanged += 1,
                Some(old) => {
                    let q = bind_fields(sqlx::query(AssertSqlSafe(sql(spec).update)), spec, record);
                    q.bind(now).bind(&old.id).execute(&mut **tx).await?;
                    summary.updated += 1;
                    updated.push(record_json(spec, record));
                }
                None => {
                    let q = sqlx::query(AssertSqlSafe(sql(spec).insert))
                        .bind(ulid::Ulid::new().to_string())
                        .bind(&key);
                    bind_fields(q, spec, record)
                        .bind(now)
                        .bind(now)
                        .execute(&mut **tx)
                        .await?;
                    summary.created += 1;
                    created.push(record_json(spec, record));
                }
            }
        }
        Ok((summary, created, updated))
    }

    /// Every record of a register, read inside a caller's transaction.
    pub(crate) async fn records_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        spec: &RegisterSpec,
    ) -> Result<Vec<StoredRecord>, StoreError> {
        let rows = sqlx::query(AssertSqlSafe(sql(spec).select_all))
            .fetch_all(&mut **tx)
            .await?;
        rows.iter().map(|r| decode(spec, r)).collect()
    }

    /// Changes one record inside a caller's transaction; `None` when no record has `key`.
    pub(crate) async fn update_in(
        &self,
        tx: &mut sqlx::Transaction<'static, sqlx::Any>,
        spec: &RegisterSpec,
        key: &str,
        change: impl FnOnce(&mut Record),
    ) -> Result<Option<Json>, StoreError> {
        let Some(row) = sqlx::query(AssertSqlSafe(sql(spec).select_by_key))
            .bind(key.to_lowercase())
            .fetch_optional(&mut **tx)
            .await?
        else {
            return Ok(None);
        };
        let mut stored = decode(spec, &row)?;
        change(&mut stored.record);
        let q = bind_fields(sqlx::query(AssertSqlSafe(sql(spec).update)), spec, &stored.record);
        q.bind(now_ms()).bind(&stored.id).execute(&mut **tx).await?;
        Ok(Some(record_json(spec, &stored.record)))
    }
}
