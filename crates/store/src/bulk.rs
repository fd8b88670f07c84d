//! Bulk writes and reads. Writes: multi-row inserts for loads of thousands of rows (generated
//! organisations, backfilled history), where one statement per row would cost a round trip each
//! on PostgreSQL. Reads: a whole table as one JSON array built by the database, because the
//! driver's cost per row and value, not the database's, dominated reading 200,000 rows.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use crate::{Backend, StoreError, Workspace};

/// Parameters per statement. Both databases allow far more (SQLite 32,766, PostgreSQL 65,535),
/// but binding cost grows faster than linearly with statement size in the drivers: measured,
/// a few hundred rows per statement is the sweet spot.
const MAX_PARAMS: usize = 2_000;
const MAX_ROWS: usize = 250;

/// A typed value: NULLs keep their type, which PostgreSQL needs to accept them.
#[derive(Debug, Clone)]
pub(crate) enum Cell {
    Int(Option<i64>),
    Text(Option<String>),
}

impl From<i64> for Cell {
    fn from(v: i64) -> Cell {
        Cell::Int(Some(v))
    }
}
impl From<Option<i64>> for Cell {
    fn from(v: Option<i64>) -> Cell {
        Cell::Int(v)
    }
}
impl From<bool> for Cell {
    fn from(v: bool) -> Cell {
        Cell::Int(Some(i64::from(v)))
    }
}
impl From<String> for Cell {
    fn from(v: String) -> Cell {
        Cell::Text(Some(v))
    }
}
impl From<&str> for Cell {
    fn from(v: &str) -> Cell {
        Cell::Text(Some(v.to_string()))
    }
}
impl From<Option<String>> for Cell {
    fn from(v: Option<String>) -> Cell {
        Cell::Text(v)
    }
}

/// The statement for `rows` rows, built once from static names (never from input) and kept.
fn statement(table: &'static str, columns: &'static [&'static str], rows: usize) -> &'static str {
    static CACHE: OnceLock<Mutex<HashMap<(&'static str, usize), &'static str>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().expect("not poisoned");
    cache.entry((table, rows)).or_insert_with(|| {
        let n = columns.len();
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let params: Vec<String> = (1..=n).map(|c| format!("${}", r * n + c)).collect();
                format!("({})", params.join(", "))
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} ({}) VALUES {}",
            columns.join(", "),
            values.join(", ")
        );
        Box::leak(sql.into_boxed_str())
    })
}

/// Inserts `rows` (each with one cell per column, in order) in as few statements as allowed.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    table: &'static str,
    columns: &'static [&'static str],
    rows: Vec<Vec<Cell>>,
) -> Result<(), StoreError> {
    let per = (MAX_PARAMS / columns.len()).clamp(1, MAX_ROWS);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per).collect();
        let mut q = sqlx::query(AssertSqlSafe(statement(table, columns, chunk.len())));
        for row in chunk {
            debug_assert_eq!(row.len(), columns.len(), "{table}");
            for cell in row {
                q = match cell {
                    Cell::Int(v) => q.bind(v),
                    Cell::Text(v) => q.bind(v),
                };
            }
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

impl Workspace {
    /// Runs the statement for this database (each selects one text column `rows`: a JSON array
    /// of row arrays) and parses it; `what` names the data in an error.
    pub(crate) async fn json_rows<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        what: &str,
    ) -> Result<Vec<T>, StoreError> {
        self.json_rows_with(sqlite, postgres, what, &[]).await
    }

    /// [`Workspace::json_rows`] with integer parameters bound in order (`$1`, `$2`…).
    pub(crate) async fn json_rows_with<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        sqlite: &'static str,
        postgres: &'static str,
        what: &str,
        params: &[i64],
    ) -> Result<Vec<T>, StoreError> {
        let sql = match self.db.backend {
            Backend::Sqlite => sqlite,
            Backend::Postgres => postgres,
        };
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for p in params {
            q = q.bind(*p);
        }
        let row = q.fetch_one(&self.db.pool).await?;
        // PostgreSQL's json_agg of no rows is NULL.
        let Some(text) = row.try_get::<Option<String>, _>("rows")? else {
            return Ok(Vec::new());
        };
        // Parsing is most of the cost of the large reads; on the blocking pool, reads started
        // together parse on all cores even under the CLI's single-threaded runtime.
        tokio::task::spawn_blocking(move || serde_json::from_str::<Vec<T>>(&text))
            .await
            .map_err(|e| StoreError::Config(format!("parsing stored {what}: {e}")))?
            .map_err(|e| StoreError::Config(format!("stored {what}: {e}")))
    }
}
