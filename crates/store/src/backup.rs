//! Backup and restore: one file holding a consistent, logical copy of a workspace, which
//! restores onto either database (so a team can move from SQLite to PostgreSQL and back).
//!
//! The file is a zip archive (any zip tool lists it):
//! - `manifest.json`: format and version, where it came from (database kind, schema version),
//!   the organisation, its settings without secrets, every table with its columns and row
//!   count, the vault's objects, and the SHA-256 and size of every other part;
//! - `manifest.sig`: the manifest signed with the workspace's instance key (ed25519, hex);
//! - `db/<table>.jsonl`: one JSON array per row, each value typed (see [`Cell`]);
//! - `vault/objects.jsonl`: every blob the snapshot names, with its stored size;
//! - `vault/sha256/ab/cd/<hash>`: the blobs exactly as stored, still encrypted to the vault
//!   key (a bucket's blobs only when asked: by default a bucket vault is listed, not copied);
//! - `files/checks/…`: the workspace's custom check rules;
//! - `keys.age`: only when asked, the instance and vault keys encrypted with a passphrase
//!   (age's scrypt recipient, so the standard `age -d` opens it too).
//!
//! Tables are found in the database's catalog when the backup is made, so tables that later
//! migrations add are carried without a change here. Every read is in one read transaction
//! (a snapshot on both databases); blobs are written before the rows that name them, so
//! copying the blobs the snapshot names after it is consistent with it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use age::secrecy::SecretString;
use age::x25519;
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier};
use evident_pack::HashingWriter;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow, AnyTypeInfoKind};
use sqlx::migrate::Migrator;
use sqlx::query::Query;
use sqlx::{Any, AnyPool, AssertSqlSafe, Row, Transaction, ValueRef};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive, ZipWriter};

use crate::clock::now_ms;
use crate::files::{create_private_file, resolve, write_atomically, write_private};
use crate::vault::{self, Vault, blob_path};
use crate::workspace::config_file_text;
use crate::{Backend, Config, Secret, StoreError, VerifyReport, Workspace, keys, redact_url};

pub const BACKUP_FORMAT: &str = "evident-backup";
pub const BACKUP_VERSION: u32 = 1;
/// Left in a folder while a restore writes it; a workspace that holds it does not open.
pub(crate) const RESTORE_MARKER: &str = "evident-restore.incomplete";

const MANIFEST: &str = "manifest.json";
const SIGNATURE: &str = "manifest.sig";
const KEYS_PART: &str = "keys.age";
const OBJECTS_PART: &str = "vault/objects.jsonl";
const SIGNED_PREFIX: &[u8] = b"evident-backup-v1\n";
const MANIFEST_LIMIT: u64 = 256 << 20;
const CHECKS_DIR: &str = "checks";
/// Parameters per insert statement (see bulk.rs: a few hundred rows is the drivers' sweet spot).
const MAX_PARAMS: usize = 2_000;
const MAX_ROWS: usize = 250;

// Restore creates the schema by the normal migrations, but only up to the version the backup
// was made at; the rest run after its rows are in, as they would have on the original.
static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("./migrations/postgres");

const POSTGRES_SNAPSHOT: &str = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
const SCHEMA_VERSION: &str = "SELECT COUNT(*) AS n, COALESCE(MAX(version), 0) AS v FROM _sqlx_migrations WHERE success";
const SQLITE_TABLES: &str = "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
     AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> '_sqlx_migrations' ORDER BY name";
const POSTGRES_TABLES: &str = "SELECT table_name::text AS name FROM information_schema.tables \
     WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> '_sqlx_migrations' \
     ORDER BY table_name";
const SQLITE_COLUMNS: &str = "SELECT name, type FROM pragma_table_info($1) ORDER BY cid";
const POSTGRES_COLUMNS: &str = "SELECT column_name::text AS name, data_type::text AS type FROM information_schema.columns \
     WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' ORDER BY ordinal_position";
const SQLITE_FOREIGN_KEYS: &str = "SELECT m.name AS child, f.\"table\" AS parent, f.\"from\" AS col, f.\"to\" AS pcol \
     FROM sqlite_master AS m, pragma_foreign_key_list(m.name) AS f WHERE m.type = 'table'";
const POSTGRES_FOREIGN_KEYS: &str = "SELECT c.conrelid::regclass::text AS child, c.confrelid::regclass::text AS parent, \
     a.attname::text AS col, p.attname::text AS pcol FROM pg_constraint AS c \
     CROSS JOIN LATERAL unnest(c.conkey, c.confkey) AS k(ck, pk) \
     JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.ck \
     JOIN pg_attribute AS p ON p.attrelid = c.confrelid AND p.attnum = k.pk \
     WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace";
const POSTGRES_RELATIONS: &str =
    "SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()";
const POSTGRES_SERIALS: &str = "SELECT table_name::text AS t, column_name::text AS c FROM information_schema.columns \
     WHERE table_schema = current_schema() AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')";

/// What `evident backup` is asked to carry beyond the database and the vault.
#[derive(Default)]
pub struct BackupOptions {
    /// Carry the instance and vault keys, encrypted with this passphrase.
    pub keys_passphrase: Option<Secret>,
    /// Copy a bucket vault's objects into the file instead of listing them.
    pub copy_objects: bool,
}

/// A bucket's objects copied into the backup, or only listed (they stay in the bucket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Objects {
    Copied,
    Listed,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupSummary {
    pub file: PathBuf,
    pub bytes: u64,
    pub database: &'static str,
    pub schema_version: i64,
    pub tables: usize,
    pub rows: u64,
    pub audit_head: Option<i64>,
    pub blobs: u64,
    pub blob_bytes: u64,
    pub objects: Objects,
    pub keys: bool,
}

/// Where a restore writes and where it finds the keys.
#[derive(Default)]
pub struct RestoreOptions {
    /// `postgres://…` to restore onto PostgreSQL (an empty database); unset: the SQLite file
    /// in the workspace folder (or `EVIDENT_DATABASE_URL`).
    pub database_url: Option<String>,
    /// A folder holding the keys of the workspace the backup came from (its own folder, or
    /// its `keys` folder).
    pub keys_from: Option<PathBuf>,
    /// Opens the keys a backup carries.
    pub passphrase: Option<Secret>,
    /// Check the file and the keys, write nothing.
    pub check_only: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RestoreSummary {
    pub workspace: PathBuf,
    pub database: String,
    pub source_database: String,
    pub made_at: i64,
    pub schema_version: i64,
    pub tables: usize,
    pub rows: u64,
    pub blobs: u64,
    pub objects: Objects,
    pub vault: String,
    pub keys_from: String,
    /// `evident verify` over the restored workspace; none when only checked.
    pub verify: Option<VerifyReport>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    format: String,
    version: u32,
    created_at: i64,
    evident_version: String,
    organisation: String,
    source: Source,
    audit_head: Option<i64>,
    instance_public_key: String,
    vault_recipient: String,
    /// The workspace's settings, without secrets, paths or the database URL.
    config: Value,
    tables: Vec<TablePart>,
    vault: VaultPart,
    /// Workspace files, relative to its folder (`checks/…`).
    files: Vec<String>,
    keys: bool,
    /// Every part but the manifest and its signature.
    parts: BTreeMap<String, PartSum>,
}

#[derive(Debug, Serialize, Deserialize)]
struct Source {
    database: String,
    schema_version: i64,
    migrations: i64,
}

#[derive(Debug, Serialize, Deserialize)]
struct TablePart {
    name: String,
    columns: Vec<String>,
    rows: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct VaultPart {
    /// `local` or `s3`.
    kind: String,
    /// `s3://…` for a bucket.
    url: Option<String>,
    objects: Objects,
    blobs: u64,
    /// Stored (encrypted) bytes.
    bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PartSum {
    sha256: String,
    size: u64,
}

impl<W: Write> From<HashingWriter<W>> for PartSum {
    fn from(w: HashingWriter<W>) -> PartSum {
        let (sha256, size) = w.finish();
        PartSum { sha256, size }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ObjectLine {
    sha256: String,
    size: u64,
}

#[derive(Serialize, Deserialize)]
struct KeysPayload {
    instance_key: String,
    vault_key: String,
}

/// One stored value. In a part it is JSON: null, an integer, a string, true/false, or
/// `{"real": "<decimal>"}` and `{"hex": "<bytes>"}`, so nothing depends on JSON's numbers.
#[derive(Debug, Clone, PartialEq)]
enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Bytes(Vec<u8>),
    Bool(bool),
}

impl Cell {
    fn read(row: &AnyRow, i: usize) -> Result<Cell, StoreError> {
        let raw = row.try_get_raw(i)?;
        if raw.is_null() {
            return Ok(Cell::Null);
        }
        let kind = raw.type_info().kind();
        Ok(match kind {
            AnyTypeInfoKind::Null => Cell::Null,
            AnyTypeInfoKind::Bool => Cell::Bool(row.try_get(i)?),
            AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
                Cell::Int(row.try_get(i)?)
            }
            AnyTypeInfoKind::Real => Cell::Real(f64::from(row.try_get::<f32, _>(i)?)),
            AnyTypeInfoKind::Double => Cell::Real(row.try_get(i)?),
            AnyTypeInfoKind::Text => Cell::Text(row.try_get(i)?),
            AnyTypeInfoKind::Blob => Cell::Bytes(row.try_get(i)?),
        })
    }

    fn to_json(&self) -> Value {
        match self {
            Cell::Null => Value::Null,
            Cell::Int(i) => json!(i),
            Cell::Real(f) => json!({ "real": f.to_string() }),
            Cell::Text(s) => json!(s),
            Cell::Bytes(b) => json!({ "hex": hex::encode(b) }),
            Cell::Bool(b) => json!(b),
        }
    }

    fn from_json(v: Value) -> Option<Cell> {
        Some(match v {
            Value::Null => Cell::Null,
            Value::Bool(b) => Cell::Bool(b),
            Value::Number(n) => Cell::Int(n.as_i64()?),
            Value::String(s) => Cell::Text(s),
            Value::Object(o) if o.len() == 1 => match o.into_iter().next()? {
                (k, Value::String(s)) if k == "real" => Cell::Real(s.parse().ok()?),
                (k, Value::String(s)) if k == "hex" => Cell::Bytes(hex::decode(s).ok()?),
                _ => return None,
            },
            _ => return None,
        })
    }

    fn kind_name(&self) -> &'static str {
        match self {
            Cell::Null => "null",
            Cell::Int(_) => "integer",
            Cell::Real(_) => "real",
            Cell::Text(_) => "text",
            Cell::Bytes(_) => "bytes",
            Cell::Bool(_) => "boolean",
        }
    }

    /// The value as a key for ordering rows that refer to rows of their own table.
    fn key(&self) -> String {
        self.to_json().to_string()
    }
}

/// A column's type where a restore writes it, which decides how each value is bound
/// (PostgreSQL wants a NULL of the column's own type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int,
    Real,
    Text,
    Bytes,
    Bool,
    /// A SQLite column without a fixed type: the value binds as it is.
    Untyped,
}

impl Kind {
    fn of(backend: Backend, declared: &str) -> Option<Kind> {
        let d = declared.to_ascii_lowercase();
        match backend {
            // SQLite's affinity rules, in their order.
            Backend::Sqlite => Some(if d.contains("int") {
                Kind::Int
            } else if d.contains("char") || d.contains("clob") || d.contains("text") {
                Kind::Text
            } else if d.contains("real") || d.contains("floa") || d.contains("doub") {
                Kind::Real
            } else {
                Kind::Untyped
            }),
            Backend::Postgres => match d.as_str() {
                "bigint" | "integer" | "smallint" => Some(Kind::Int),
                "text" | "character varying" | "character" => Some(Kind::Text),
                "real" | "double precision" => Some(Kind::Real),
                "bytea" => Some(Kind::Bytes),
                "boolean" => Some(Kind::Bool),
                _ => None,
            },
        }
    }

    fn bind(
        self,
        q: Query<'static, Any, AnyArguments>,
        cell: Cell,
        at: impl FnOnce() -> String,
    ) -> Result<Query<'static, Any, AnyArguments>, StoreError> {
        Ok(match (self, cell) {
            (Kind::Int | Kind::Untyped, Cell::Null) => q.bind(None::<i64>),
            (Kind::Text, Cell::Null) => q.bind(None::<String>),
            (Kind::Real, Cell::Null) => q.bind(None::<f64>),
            (Kind::Bytes, Cell::Null) => q.bind(None::<Vec<u8>>),
            (Kind::Bool, Cell::Null) => q.bind(None::<bool>),
            (Kind::Int | Kind::Untyped, Cell::Int(i)) => q.bind(i),
            (Kind::Int, Cell::Bool(b)) => q.bind(i64::from(b)),
            (Kind::Real | Kind::Untyped, Cell::Real(f)) => q.bind(f),
            (Kind::Real, Cell::Int(i)) => q.bind(i as f64),
            (Kind::Text | Kind::Untyped, Cell::Text(s)) => q.bind(s),
            (Kind::Bytes | Kind::Untyped, Cell::Bytes(b)) => q.bind(b),
            (Kind::Bool | Kind::Untyped, Cell::Bool(b)) => q.bind(b),
            (Kind::Bool, Cell::Int(i @ (0 | 1))) => q.bind(i == 1),
            (kind, cell) => {
                return Err(StoreError::Invalid(format!(
                    "{}: a {} value cannot be written to a {kind:?} column; nothing was restored",
                    at(),
                    cell.kind_name()
                )));
            }
        })
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn table_part(table: &str) -> String {
    format!("db/{table}.jsonl")
}

fn object_part(sha256: &str) -> String {
    format!("vault/{}", blob_path(sha256))
}

fn file_part(relative: &str) -> String {
    format!("files/{relative}")
}

fn is_hash(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A custom check rule file, as a workspace keeps them: `checks/<name>.yaml|yml|json`.
fn is_rule_file(relative: &str) -> bool {
    relative.strip_prefix("checks/").is_some_and(|name| {
        !name.is_empty()
            && !name.starts_with('.')
            && !name.contains(['/', '\\'])
            && [".yaml", ".yml", ".json"].iter().any(|x| name.ends_with(x))
    })
}

/// The archive being written, and the sums of the parts written so far.
struct Archive {
    zip: ZipWriter<File>,
    path: PathBuf,
    parts: BTreeMap<String, PartSum>,
}

impl Archive {
    fn failed(&self, e: impl std::fmt::Display) -> StoreError {
        StoreError::Io {
            path: self.path.clone(),
            source: std::io::Error::other(e.to_string()),
        }
    }

    fn start(&mut self, name: &str, compress: bool) -> Result<HashingWriter<&mut ZipWriter<File>>, StoreError> {
        let options = SimpleFileOptions::default()
            .compression_method(if compress {
                CompressionMethod::Deflated
            } else {
                CompressionMethod::Stored
            })
            .large_file(true)
            .unix_permissions(0o600);
        if let Err(e) = self.zip.start_file(name, options) {
            return Err(self.failed(e));
        }
        Ok(HashingWriter::new(&mut self.zip))
    }

    fn finish(self) -> Result<File, StoreError> {
        let path = self.path;
        self.zip.finish().map_err(|e| StoreError::Io {
            path,
            source: std::io::Error::other(e.to_string()),
        })
    }

    fn part(&mut self, name: &str, compress: bool, bytes: &[u8]) -> Result<(), StoreError> {
        let mut w = self.start(name, compress)?;
        let written = w.write_all(bytes);
        let sum = PartSum::from(w);
        written.map_err(|e| self.failed(e))?;
        self.parts.insert(name.to_string(), sum);
        Ok(())
    }
}

/// The tables of the database in `tx` (without the migrations' own table).
async fn tables(tx: &mut Transaction<'static, Any>, backend: Backend) -> Result<Vec<String>, StoreError> {
    let sql = match backend {
        Backend::Sqlite => SQLITE_TABLES,
        Backend::Postgres => POSTGRES_TABLES,
    };
    sqlx::query(sql)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok(r.try_get("name")?))
        .collect()
}

/// A table's columns in order, with their declared types.
async fn columns(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let sql = match backend {
        Backend::Sqlite => SQLITE_COLUMNS,
        Backend::Postgres => POSTGRES_COLUMNS,
    };
    sqlx::query(sql)
        .bind(table)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("name")?, r.try_get("type")?)))
        .collect()
}

/// (count of migrations applied, latest version).
async fn schema_version(tx: &mut Transaction<'static, Any>) -> Result<(i64, i64), StoreError> {
    let row = sqlx::query(SCHEMA_VERSION).fetch_one(&mut **tx).await?;
    Ok((row.try_get("n")?, row.try_get("v")?))
}

fn migrator(backend: Backend) -> &'static Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

impl Workspace {
    /// Writes a backup of the workspace to `out` (a new file, complete or absent).
    pub async fn backup(&self, out: &Path, options: &BackupOptions) -> Result<BackupSummary, StoreError> {
        if out.exists() {
            return Err(StoreError::Invalid(format!(
                "--out {}: the file exists; a backup never replaces a file",
                out.display()
            )));
        }
        let name = out
            .file_name()
            .ok_or_else(|| StoreError::Invalid(format!("--out {}: not a file name", out.display())))?
            .to_string_lossy()
            .into_owned();
        let tmp = out.with_file_name(format!(".{name}.{}.tmp", ulid::Ulid::new()));
        let file = {
            let mut o = fs::OpenOptions::new();
            o.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
            o.open(&tmp).map_err(StoreError::io(&tmp))?
        };
        let mut archive = Archive {
            zip: ZipWriter::new(file),
            path: tmp.clone(),
            parts: BTreeMap::new(),
        };
        let written = async {
            let summary = self.write_backup(&mut archive, options).await?;
            let file = archive.finish()?;
            file.sync_all().map_err(StoreError::io(&tmp))?;
            Ok::<_, StoreError>(summary)
        }
        .await;
        let mut summary = match written {
            Ok(s) => s,
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                return Err(e);
            }
        };
        if let Err(e) = fs::rename(&tmp, out) {
            let _ = fs::remove_file(&tmp);
            return Err(StoreError::io(out)(e));
        }
        if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
            File::open(parent)
                .and_then(|d| d.sync_all())
                .map_err(StoreError::io(parent))?;
        }
        summary.file = out.to_path_buf();
        summary.bytes = fs::metadata(out).map_err(StoreError::io(out))?.len();
        Ok(summary)
    }

    async fn write_backup(&self, archive: &mut Archive, options: &BackupOptions) -> Result<BackupSummary, StoreError> {
        let backend = self.db.backend;
        // One snapshot for every table: SQLite's WAL gives a read transaction a fixed view
        // from its first read; PostgreSQL's repeatable read does the same.
        let mut tx = match backend {
            Backend::Sqlite => self.db.pool.begin().await?,
            Backend::Postgres => self.db.pool.begin_with(POSTGRES_SNAPSHOT).await?,
        };
        let (migrations, schema_version) = schema_version(&mut tx).await?;
        let mut table_parts = Vec::new();
        let mut blobs: Vec<(String, i64)> = Vec::new();
        let mut audit_head = None;
        let mut total_rows = 0;
        for table in tables(&mut tx, backend).await? {
            let cols: Vec<String> = columns(&mut tx, backend, &table)
                .await?
                .into_iter()
                .map(|(name, _)| name)
                .collect();
            let position = |name: &str| cols.iter().position(|c| c == name);
            // The blobs the snapshot names, and the audit log's head, noted on the way.
            let blob_columns = (table == "blobs")
                .then(|| position("sha256").zip(position("size")))
                .flatten();
            let seq_column = (table == "audit_log").then(|| position("seq")).flatten();
            let select = format!(
                "SELECT {} FROM {}",
                cols.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                quote(&table)
            );
            let part = table_part(&table);
            let path = archive.path.clone();
            let mut w = archive.start(&part, true)?;
            let mut rows = sqlx::query(AssertSqlSafe(select)).fetch(&mut *tx);
            let mut count = 0u64;
            let mut line = Vec::new();
            while let Some(row) = rows.try_next().await? {
                let cells = (0..cols.len())
                    .map(|i| Cell::read(&row, i))
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some((sha, size)) = blob_columns
                    && let (Cell::Text(sha), Cell::Int(size)) = (&cells[sha], &cells[size])
                {
                    blobs.push((sha.clone(), *size));
                }
                if let Some(seq) = seq_column
                    && let Cell::Int(seq) = cells[seq]
                {
                    audit_head = audit_head.max(Some(seq));
                }
                line.clear();
                serde_json::to_writer(&mut line, &cells.iter().map(Cell::to_json).collect::<Vec<_>>())
                    .expect("values serialise");
                line.push(b'\n');
                w.write_all(&line).map_err(StoreError::io(&path))?;
                count += 1;
            }
            drop(rows);
            let sum = PartSum::from(w);
            archive.parts.insert(part, sum);
            total_rows += count;
            table_parts.push(TablePart {
                name: table,
                columns: cols,
                rows: count,
            });
        }
        tx.rollback().await?;

        // The blobs the snapshot names: copied as stored, or (a bucket, by default) listed.
        blobs.sort();
        let objects = if self.vault.is_local() || options.copy_objects {
            Objects::Copied
        } else {
            Objects::Listed
        };
        let listed_sizes = match objects {
            Objects::Listed => self.vault.sealed_sizes().await.map_err(vault_failed)?,
            Objects::Copied => HashMap::new(),
        };
        let mut object_lines = Vec::new();
        let mut blob_bytes = 0;
        for (sha, _) in &blobs {
            let size = match objects {
                Objects::Copied => {
                    let part = object_part(sha);
                    let mut w = archive.start(&part, false)?;
                    let copied = self.vault.read_sealed(sha, &mut w).await;
                    let sum = PartSum::from(w);
                    copied.map_err(vault_failed)?;
                    let n = sum.size;
                    archive.parts.insert(part, sum);
                    n
                }
                Objects::Listed => *listed_sizes
                    .get(sha)
                    .ok_or_else(|| vault_failed(crate::VaultError::Missing { sha256: sha.clone() }))?,
            };
            blob_bytes += size;
            object_lines.push(ObjectLine {
                sha256: sha.clone(),
                size,
            });
        }
        let mut list = Vec::new();
        for l in &object_lines {
            serde_json::to_writer(&mut list, l).expect("serialises");
            list.push(b'\n');
        }
        archive.part(OBJECTS_PART, true, &list)?;

        // The custom check rules kept in the workspace folder.
        let mut files = Vec::new();
        let checks = self.dir.join(CHECKS_DIR);
        if let Ok(entries) = fs::read_dir(&checks) {
            let mut names: Vec<String> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .map(|e| format!("{CHECKS_DIR}/{}", e.file_name().to_string_lossy()))
                .filter(|r| is_rule_file(r))
                .collect();
            names.sort();
            for relative in names {
                let path = self.dir.join(&relative);
                let bytes = fs::read(&path).map_err(StoreError::io(&path))?;
                archive.part(&file_part(&relative), true, &bytes)?;
                files.push(relative);
            }
        }

        if let Some(passphrase) = &options.keys_passphrase {
            let payload = serde_json::to_vec(&KeysPayload {
                instance_key: hex::encode(self.signing_key.to_bytes()),
                vault_key: self.vault.identity_text(),
            })
            .expect("serialises");
            let sealed = seal_with_passphrase(&payload, passphrase)?;
            archive.part(KEYS_PART, false, &sealed)?;
        }

        let mut config = serde_json::to_value(&self.config).expect("the settings serialise");
        if let Value::Object(map) = &mut config {
            // Where things are is the restoring machine's business; a URL may carry a password.
            for k in [
                "database_url",
                "vault_dir",
                "instance_key_file",
                "vault_key_file",
                "vault_key",
            ] {
                map.remove(k);
            }
        }
        if let Some(tsa) = config.pointer_mut("/packs/tsa_url")
            && tsa.as_str().is_some_and(|u| redact_url(u) != u)
        {
            *tsa = Value::Null;
        }
        let manifest = Manifest {
            format: BACKUP_FORMAT.into(),
            version: BACKUP_VERSION,
            created_at: now_ms(),
            evident_version: env!("CARGO_PKG_VERSION").into(),
            organisation: self.organisation.clone(),
            source: Source {
                database: backend.name().into(),
                schema_version,
                migrations,
            },
            audit_head,
            instance_public_key: hex::encode(self.signing_key.verifying_key().as_bytes()),
            vault_recipient: self.vault.recipient_text(),
            config,
            tables: table_parts,
            vault: VaultPart {
                kind: if self.vault.is_local() { "local" } else { "s3" }.into(),
                url: self.config.vault_url.clone().filter(|_| !self.vault.is_local()),
                objects,
                blobs: blobs.len() as u64,
                bytes: blob_bytes,
            },
            files,
            keys: options.keys_passphrase.is_some(),
            parts: std::mem::take(&mut archive.parts),
        };
        let text = serde_json::to_vec_pretty(&manifest).expect("the manifest serialises");
        let signature = self.signing_key.sign(&[SIGNED_PREFIX, &text].concat());
        archive.part(MANIFEST, true, &text)?;
        archive.part(
            SIGNATURE,
            false,
            format!("{}\n", hex::encode(signature.to_bytes())).as_bytes(),
        )?;
        Ok(BackupSummary {
            file: PathBuf::new(),
            bytes: 0,
            database: backend.name(),
            schema_version,
            tables: manifest.tables.len(),
            rows: total_rows,
            audit_head,
            blobs: manifest.vault.blobs,
            blob_bytes,
            objects,
            keys: manifest.keys,
        })
    }
}

fn vault_failed(e: crate::VaultError) -> StoreError {
    StoreError::Config(format!("backup: {e}"))
}

fn seal_with_passphrase(payload: &[u8], passphrase: &Secret) -> Result<Vec<u8>, StoreError> {
    let fail = |e: String| StoreError::Config(format!("encrypting the keys: {e}"));
    let encryptor = age::Encryptor::with_user_passphrase(SecretString::from(passphrase.0.clone()));
    let mut out = Vec::new();
    let mut w = encryptor.wrap_output(&mut out).map_err(|e| fail(e.to_string()))?;
    w.write_all(payload).map_err(|e| fail(e.to_string()))?;
    w.finish().map_err(|e| fail(e.to_string()))?;
    Ok(out)
}

/// Refuses to open a folder a restore is still writing (or was killed while writing).
pub(crate) fn refuse_interrupted_restore(dir: &Path) -> Result<(), StoreError> {
    if dir.join(RESTORE_MARKER).exists() {
        return Err(StoreError::Conflict(format!(
            "{} holds a restore that did not finish ({RESTORE_MARKER}); it is not a usable workspace: \
             remove the folder (and, for PostgreSQL, empty its database) and restore again",
            dir.display()
        )));
    }
    Ok(())
}

/// The backup file opened for reading, its manifest checked.
struct Opened {
    zip: ZipArchive<File>,
    path: PathBuf,
    manifest: Manifest,
    manifest_bytes: Vec<u8>,
}

impl Opened {
    fn bad(&self, what: impl std::fmt::Display) -> StoreError {
        StoreError::Invalid(format!("{}: {what}; nothing was restored", self.path.display()))
    }

    fn open(path: &Path) -> Result<Opened, StoreError> {
        let file = File::open(path).map_err(StoreError::io(path))?;
        let bad = |what: String| StoreError::Invalid(format!("{}: {what}; nothing was restored", path.display()));
        let mut zip = ZipArchive::new(file).map_err(|e| bad(format!("not an Evident backup ({e})")))?;
        let manifest_bytes = read_small(&mut zip, MANIFEST, MANIFEST_LIMIT).map_err(&bad)?;
        let manifest: Manifest = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| bad(format!("{MANIFEST} is not a backup manifest ({e})")))?;
        if manifest.format != BACKUP_FORMAT {
            return Err(bad(format!("not an Evident backup (format {:?})", manifest.format)));
        }
        if manifest.version != BACKUP_VERSION {
            return Err(bad(format!(
                "backup format version {} (this Evident reads version {BACKUP_VERSION})",
                manifest.version
            )));
        }
        Ok(Opened {
            zip,
            path: path.to_path_buf(),
            manifest,
            manifest_bytes,
        })
    }

    /// Every part the manifest names, and only those, with the sizes and hashes it gives.
    fn check_parts(&mut self) -> Result<(), StoreError> {
        let m = &self.manifest;
        let mut expected: BTreeSet<String> = m.tables.iter().map(|t| table_part(&t.name)).collect();
        expected.insert(OBJECTS_PART.into());
        for f in &m.files {
            if !is_rule_file(f) {
                return Err(self.bad(format!(
                    "the manifest names a file {f:?} that a workspace does not hold"
                )));
            }
            expected.insert(file_part(f));
        }
        if m.keys {
            expected.insert(KEYS_PART.into());
        }
        let listed: BTreeSet<String> = m.parts.keys().cloned().collect();
        // The vault's object parts are checked against the object list below.
        let objects: BTreeSet<String> = listed
            .iter()
            .filter(|p| p.starts_with("vault/sha256/"))
            .cloned()
            .collect();
        if let Some(missing) = expected.iter().find(|p| !listed.contains(*p)) {
            return Err(self.bad(format!("the manifest gives no hash for part {missing}")));
        }
        if let Some(extra) = listed.iter().find(|p| !expected.contains(*p) && !objects.contains(*p)) {
            return Err(self.bad(format!("the manifest names an unknown part {extra}")));
        }
        let in_zip: BTreeSet<String> = self
            .zip
            .file_names_raw()
            .map(|n| String::from_utf8_lossy(n).into_owned())
            .collect();
        for p in &listed {
            if !in_zip.contains(p) {
                return Err(self.bad(format!("part {p} is missing from the file")));
            }
        }
        if let Some(extra) = in_zip
            .iter()
            .find(|n| !listed.contains(*n) && *n != MANIFEST && *n != SIGNATURE)
        {
            return Err(self.bad(format!("part {extra} is not in the manifest")));
        }
        let parts: Vec<(String, PartSum)> = m.parts.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        for (name, want) in &parts {
            let got = self.hash_part(name)?;
            if got.size != want.size || got.sha256 != want.sha256 {
                return Err(self.bad(format!(
                    "part {name} does not match its SHA-256 in the manifest (the file was altered or damaged)"
                )));
            }
        }
        // Objects copied into the file: exactly those the object list names.
        let lines = self.object_lines()?;
        if self.manifest.vault.objects == Objects::Copied {
            let named: BTreeSet<String> = lines.iter().map(|l| object_part(&l.sha256)).collect();
            if named != objects {
                return Err(self.bad("the vault's objects differ from its object list"));
            }
        } else if !objects.is_empty() {
            return Err(self.bad("a listed vault holds objects in the file"));
        }
        Ok(())
    }

    fn hash_part(&mut self, name: &str) -> Result<PartSum, StoreError> {
        let path = self.path.clone();
        let bad = |e: String| {
            StoreError::Invalid(format!(
                "{}: part {name} cannot be read ({e}); nothing was restored",
                path.display()
            ))
        };
        let mut entry = self.zip.by_name(name).map_err(|e| bad(e.to_string()))?;
        let mut h = HashingWriter::new(std::io::sink());
        std::io::copy(&mut entry, &mut h).map_err(|e| bad(e.to_string()))?;
        Ok(PartSum::from(h))
    }

    fn object_lines(&mut self) -> Result<Vec<ObjectLine>, StoreError> {
        let text = read_small(&mut self.zip, OBJECTS_PART, MANIFEST_LIMIT).map_err(|e| self.bad(e))?;
        let mut lines = Vec::new();
        for (i, l) in text.split(|b| *b == b'\n').enumerate().filter(|(_, l)| !l.is_empty()) {
            let line: ObjectLine =
                serde_json::from_slice(l).map_err(|e| self.bad(format!("{OBJECTS_PART} line {}: {e}", i + 1)))?;
            if !is_hash(&line.sha256) {
                return Err(self.bad(format!("{OBJECTS_PART} line {}: not a SHA-256", i + 1)));
            }
            lines.push(line);
        }
        Ok(lines)
    }
}

fn read_small(zip: &mut ZipArchive<File>, name: &str, limit: u64) -> Result<Vec<u8>, String> {
    let entry = zip.by_name(name).map_err(|e| format!("{name}: {e}"))?;
    if entry.size() > limit {
        return Err(format!("{name} is larger than {limit} bytes"));
    }
    let mut out = Vec::new();
    entry
        .take(limit + 1)
        .read_to_end(&mut out)
        .map_err(|e| format!("{name}: {e}"))?;
    Ok(out)
}

/// The keys a restore writes: the instance key, and the vault key unless the environment
/// gives it.
struct Keys {
    instance: SigningKey,
    vault: Option<x25519::Identity>,
    from: String,
}

fn keys_in_folder(dir: &Path) -> Result<(SigningKey, Option<x25519::Identity>), StoreError> {
    let folder = if dir.join("keys").join("instance.key").is_file() {
        dir.join("keys")
    } else {
        dir.to_path_buf()
    };
    let instance_file = folder.join("instance.key");
    if !instance_file.is_file() {
        return Err(StoreError::Invalid(format!(
            "--keys-from {}: no instance.key there (nor in its keys folder); nothing was restored",
            dir.display()
        )));
    }
    let instance = keys::load(&instance_file)?;
    let vault_file = folder.join("vault.age");
    let vault = match fs::read_to_string(&vault_file) {
        Ok(text) => Some(vault::parse_identity(&text, &vault_file.display().to_string())?),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(StoreError::io(&vault_file)(e)),
    };
    Ok((instance, vault))
}

impl Opened {
    fn keys(&mut self, options: &RestoreOptions, env_vault_key: bool) -> Result<Keys, StoreError> {
        let (instance, vault, from) = if let Some(dir) = &options.keys_from {
            let (i, v) = keys_in_folder(dir)?;
            (i, v, format!("--keys-from {}", dir.display()))
        } else if self.manifest.keys {
            let Some(passphrase) = &options.passphrase else {
                return Err(StoreError::Invalid(format!(
                    "{}: the backup carries its keys encrypted with a passphrase: set EVIDENT_BACKUP_PASSPHRASE \
                     to it (or give --keys-from DIR, the folder of the workspace it came from); nothing was restored",
                    self.path.display()
                )));
            };
            let sealed = read_small(&mut self.zip, KEYS_PART, 1 << 20).map_err(|e| self.bad(e))?;
            let sum = PartSum {
                sha256: hex::encode(Sha256::digest(&sealed)),
                size: sealed.len() as u64,
            };
            if self.manifest.parts.get(KEYS_PART) != Some(&sum) {
                return Err(self.bad(format!(
                    "part {KEYS_PART} does not match its SHA-256 in the manifest (the file was altered or damaged)"
                )));
            }
            let payload = open_with_passphrase(&sealed, passphrase).map_err(|e| {
                StoreError::Invalid(format!(
                    "{}: EVIDENT_BACKUP_PASSPHRASE does not open the backup's keys ({e}); nothing was restored",
                    self.path.display()
                ))
            })?;
            let payload: KeysPayload =
                serde_json::from_slice(&payload).map_err(|e| self.bad(format!("{KEYS_PART}: {e}")))?;
            let instance = keys::parse(&payload.instance_key).ok_or_else(|| self.bad("keys.age: no instance key"))?;
            let vault = vault::parse_identity(&payload.vault_key, KEYS_PART)?;
            (instance, Some(vault), "the backup (keys.age)".to_string())
        } else {
            return Err(StoreError::Invalid(format!(
                "{}: the backup holds no keys (it was made without --with-keys); give --keys-from DIR, the folder \
                 of the workspace it came from (its keys/instance.key and keys/vault.age): without them the \
                 restored audit log cannot be verified nor the evidence read; nothing was restored",
                self.path.display()
            )));
        };
        let public = hex::encode(instance.verifying_key().as_bytes());
        if public != self.manifest.instance_public_key {
            return Err(StoreError::Invalid(format!(
                "{from}: the instance key (public {public}) is not the one the backup was made with ({}); nothing was restored",
                self.manifest.instance_public_key
            )));
        }
        let vault = if env_vault_key {
            None
        } else {
            let Some(v) = vault else {
                return Err(StoreError::Invalid(format!(
                    "{from}: no vault key (vault.age); give the folder that holds it, or set EVIDENT_VAULT_KEY; nothing was restored"
                )));
            };
            if v.to_public().to_string() != self.manifest.vault_recipient {
                return Err(StoreError::Invalid(format!(
                    "{from}: the vault key is not the one the backup's blobs are encrypted to ({}); nothing was restored",
                    self.manifest.vault_recipient
                )));
            }
            Some(v)
        };
        // The manifest names every part by its hash: its signature covers the whole file.
        let sig = read_small(&mut self.zip, SIGNATURE, 1024).map_err(|e| self.bad(e))?;
        let signed = hex::decode(String::from_utf8_lossy(&sig).trim())
            .ok()
            .and_then(|b| Signature::from_slice(&b).ok())
            .is_some_and(|s| {
                instance
                    .verifying_key()
                    .verify(&[SIGNED_PREFIX, &self.manifest_bytes].concat(), &s)
                    .is_ok()
            });
        if !signed {
            return Err(self.bad(format!(
                "{MANIFEST} is not signed by the workspace's instance key ({SIGNATURE}): the manifest was altered"
            )));
        }
        Ok(Keys { instance, vault, from })
    }
}

fn open_with_passphrase(sealed: &[u8], passphrase: &Secret) -> Result<Vec<u8>, String> {
    let d = age::Decryptor::new(sealed).map_err(|e| e.to_string())?;
    let identity = age::scrypt::Identity::new(SecretString::from(passphrase.0.clone()));
    let mut r = d
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    r.read_to_end(&mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// What a failed restore must take away again.
struct Undo {
    dir: PathBuf,
    /// True when the restore made the folder; else it was empty and its entries go.
    made_dir: bool,
}

impl Undo {
    fn run(&self) {
        if self.made_dir {
            let _ = fs::remove_dir_all(&self.dir);
            return;
        }
        for e in fs::read_dir(&self.dir).into_iter().flatten().flatten() {
            let p = e.path();
            let _ = if e.file_type().is_ok_and(|t| t.is_dir()) {
                fs::remove_dir_all(&p)
            } else {
                fs::remove_file(&p)
            };
        }
    }
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(StoreError::io(dir))
}

async fn connect(url: &str) -> Result<AnyPool, StoreError> {
    sqlx::any::install_default_drivers();
    AnyPoolOptions::new()
        .max_connections(1)
        .connect(url)
        .await
        .map_err(|e| StoreError::Config(format!("cannot open database {}: {e}", redact_url(url))))
}

/// Restores the backup `file` into the new or empty folder `dir`.
pub async fn restore(
    file: &Path,
    dir: &Path,
    options: &RestoreOptions,
    actor: &str,
) -> Result<RestoreSummary, StoreError> {
    // The target first: a folder in use is refused before the file is even read.
    let made_dir = !dir.exists();
    if !options.check_only && !made_dir {
        let entries = fs::read_dir(dir).map_err(StoreError::io(dir))?.count();
        if entries > 0 {
            let hint = if dir.join(RESTORE_MARKER).exists() {
                " (it holds a restore that did not finish: remove the folder, and empty its database, first)"
            } else {
                ""
            };
            return Err(StoreError::Conflict(format!(
                "{} is not empty{hint}; a restore writes only into a new or empty folder; nothing was changed",
                dir.display()
            )));
        }
    }
    let mut opened = Opened::open(file)?;
    let source_backend = match opened.manifest.source.database.as_str() {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => return Err(opened.bad(format!("unknown source database {other:?}"))),
    };
    let known = migrator(source_backend).iter().map(|m| m.version).max().unwrap_or(0);
    if opened.manifest.source.schema_version > known {
        return Err(opened.bad(format!(
            "it was made by a newer Evident (schema version {}, this one knows {known}): restore it with that version",
            opened.manifest.source.schema_version
        )));
    }

    // The settings of the new workspace: the backup's, with this machine's places (defaults,
    // or EVIDENT_* variables) and the database asked for.
    let mut config = Config::load(dir)?;
    let source: Config = {
        let mut v = opened.manifest.config.clone();
        // Paths are this machine's: take the defaults for what the backup leaves out.
        let defaults = serde_json::to_value(Config::default()).expect("serialises");
        if let (Value::Object(m), Value::Object(d)) = (&mut v, defaults) {
            for (k, dv) in d {
                m.entry(k).or_insert(dv);
            }
        }
        serde_json::from_value(v).map_err(|e| opened.bad(format!("its settings: {e}")))?
    };
    config.organisation = source.organisation.clone();
    config.max_evidence_bytes = source.max_evidence_bytes;
    config.server = source.server.clone();
    if config.packs.tsa_url.is_none() {
        config.packs = source.packs.clone();
    }
    if let Some(url) = &options.database_url {
        config.database_url = Some(url.clone()).filter(|u| !u.trim().is_empty());
    }
    if opened.manifest.vault.objects == Objects::Listed && config.vault_url.is_none() {
        // The blobs stay in the bucket they are in.
        config.vault_url = opened.manifest.vault.url.clone();
        config.s3_endpoint = source.s3_endpoint.clone();
        config.s3_region = source.s3_region.clone();
        config.s3_allow_http = source.s3_allow_http;
    }
    if opened.manifest.vault.objects == Objects::Listed && config.vault_url.is_none() {
        return Err(opened.bad("its vault is listed (the blobs stay in a bucket) but it names no bucket"));
    }

    let keys = opened.keys(options, config.vault_key.is_some())?;
    opened.check_parts()?;
    if let Some(key) = &config.vault_key {
        let recipient = vault::parse_identity(key, "EVIDENT_VAULT_KEY")?.to_public().to_string();
        if recipient != opened.manifest.vault_recipient {
            return Err(StoreError::Invalid(format!(
                "EVIDENT_VAULT_KEY is not the key the backup's blobs are encrypted to ({}); nothing was restored",
                opened.manifest.vault_recipient
            )));
        }
    }

    let target_backend = match &config.database_url {
        None => Backend::Sqlite,
        Some(u) if u.starts_with("sqlite:") => Backend::Sqlite,
        Some(u) if u.starts_with("postgres://") || u.starts_with("postgresql://") => Backend::Postgres,
        Some(u) => {
            return Err(StoreError::Invalid(format!(
                "--database-url '{}': only sqlite: and postgres:// URLs are supported",
                redact_url(u)
            )));
        }
    };
    // An existing PostgreSQL database must be empty; it is checked before anything is written.
    let pg_pool = match (&config.database_url, target_backend) {
        (Some(url), Backend::Postgres) => {
            let pool = connect(url).await?;
            let n: i64 = sqlx::query(POSTGRES_RELATIONS).fetch_one(&pool).await?.try_get("n")?;
            if n > 0 {
                pool.close().await;
                return Err(StoreError::Conflict(format!(
                    "the database {} is not empty ({n} tables); a restore writes only into an empty database \
                     (if an earlier restore into it was interrupted, drop and create it again); nothing was changed",
                    redact_url(url)
                )));
            }
            Some(pool)
        }
        _ => None,
    };

    let mut summary = RestoreSummary {
        workspace: dir.to_path_buf(),
        database: String::new(),
        source_database: opened.manifest.source.database.clone(),
        made_at: opened.manifest.created_at,
        schema_version: opened.manifest.source.schema_version,
        tables: opened.manifest.tables.len(),
        rows: opened.manifest.tables.iter().map(|t| t.rows).sum(),
        blobs: opened.manifest.vault.blobs,
        objects: opened.manifest.vault.objects,
        vault: String::new(),
        keys_from: keys.from.clone(),
        verify: None,
    };
    if options.check_only {
        if let Some(p) = pg_pool {
            p.close().await;
        }
        summary.database = config
            .database_url
            .as_deref()
            .map(redact_url)
            .unwrap_or_else(|| "sqlite (evident.db in the workspace)".into());
        return Ok(summary);
    }

    fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
    let dir = dir.canonicalize().map_err(StoreError::io(dir))?;
    let undo = Undo {
        dir: dir.clone(),
        made_dir,
    };
    let marker = dir.join(RESTORE_MARKER);
    let restored = async {
        write_private(
            &marker,
            format!("restore of {} started at {}\n", file.display(), now_ms()).as_bytes(),
        )?;
        sync_dir(&dir)?;
        write_into(&mut opened, &dir, &config, &keys, target_backend, pg_pool).await
    }
    .await;
    if let Err(e) = restored {
        undo.run();
        return Err(e);
    }
    // Committed: from here on the workspace is whole; nothing is taken back.
    let ws = Workspace::open_unchecked(&dir, actor).await?;
    ws.checkpoint().await?;
    summary.workspace = dir.clone();
    summary.database = ws.db.url_redacted();
    summary.vault = ws.vault.describe();
    summary.verify = Some(ws.verify().await?);
    ws.db.close().await;
    fs::remove_file(&marker).map_err(StoreError::io(&marker))?;
    sync_dir(&dir)?;
    Ok(summary)
}

/// Writes keys, files, blobs and the database, then commits; the caller undoes it on error.
async fn write_into(
    opened: &mut Opened,
    dir: &Path,
    config: &Config,
    keys: &Keys,
    backend: Backend,
    pg_pool: Option<AnyPool>,
) -> Result<(), StoreError> {
    keys::write(&resolve(dir, &config.instance_key_file), &keys.instance)?;
    if let Some(identity) = &keys.vault {
        let path = resolve(dir, &config.vault_key_file);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(StoreError::io(parent))?;
        }
        vault::write_key(&path, identity)?;
    }
    for relative in &opened.manifest.files {
        let bytes = read_small(&mut opened.zip, &file_part(relative), MANIFEST_LIMIT).map_err(|e| opened.bad(e))?;
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(StoreError::io(parent))?;
        }
        fs::write(&path, bytes).map_err(StoreError::io(&path))?;
    }

    let vault = Vault::open(dir, config)?;
    let lines = opened.object_lines()?;
    match opened.manifest.vault.objects {
        Objects::Copied => {
            for l in &lines {
                let mut entry = opened
                    .zip
                    .by_name(&object_part(&l.sha256))
                    .map_err(|e| StoreError::Invalid(format!("{}: {e}", object_part(&l.sha256))))?;
                vault
                    .write_sealed(&l.sha256, &mut entry, l.size)
                    .await
                    .map_err(|e| StoreError::Config(format!("restoring blob {}: {e}", l.sha256)))?;
            }
            vault
                .sync()
                .map_err(|e| StoreError::Config(format!("restoring the vault: {e}")))?;
        }
        Objects::Listed => {
            let sizes = vault
                .sealed_sizes()
                .await
                .map_err(|e| StoreError::Config(format!("listing the vault {}: {e}", vault.describe())))?;
            if let Some(l) = lines.iter().find(|l| sizes.get(&l.sha256) != Some(&l.size)) {
                return Err(StoreError::Invalid(format!(
                    "blob {} listed in the backup is not in the vault {} (or has another size); the backup lists \
                     the bucket's objects without copying them (make it with --copy-objects to carry them); \
                     nothing was restored",
                    l.sha256,
                    vault.describe()
                )));
            }
        }
    }

    let url = Workspace::database_url(dir, config, true)?;
    let pool = match pg_pool {
        Some(p) => p,
        None => {
            create_private_file(&dir.join("evident.db"))?;
            let pool = connect(&url).await?;
            sqlx::query("PRAGMA journal_mode = WAL").execute(&pool).await?;
            pool
        }
    };
    let written = async {
        let mut tx = pool.begin().await?;
        write_database(opened, &mut tx, backend).await?;
        // The settings file marks a workspace; the commit waits for it, as `init` does.
        write_atomically(&Workspace::config_path(dir), config_file_text(config).as_bytes())?;
        tx.commit().await?;
        Ok::<_, StoreError>(())
    }
    .await;
    pool.close().await;
    written
}

/// The schema by the migrations, up to the backup's version; every row, parents first; then
/// any later migrations; all in the caller's transaction.
async fn write_database(
    opened: &mut Opened,
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
) -> Result<(), StoreError> {
    let migrations = migrator(backend);
    migrations
        .run_to(opened.manifest.source.schema_version, &mut **tx)
        .await?;

    let mut target: HashMap<String, HashMap<String, Kind>> = HashMap::new();
    for table in tables(tx, backend).await? {
        let mut cols = HashMap::new();
        for (name, declared) in columns(tx, backend, &table).await? {
            match Kind::of(backend, &declared) {
                Some(k) => cols.insert(name, k),
                None => {
                    return Err(StoreError::Invalid(format!(
                        "{table}.{name}: its type {declared} cannot be restored; nothing was restored"
                    )));
                }
            };
        }
        target.insert(table, cols);
    }
    for t in &opened.manifest.tables {
        let Some(cols) = target.get(&t.name) else {
            return Err(opened.bad(format!("table {} does not exist in this schema", t.name)));
        };
        if let Some(c) = t.columns.iter().find(|c| !cols.contains_key(*c)) {
            return Err(opened.bad(format!("column {}.{c} does not exist in this schema", t.name)));
        }
    }

    // Parents before children; a table that names its own rows is ordered row by row.
    let sql = match backend {
        Backend::Sqlite => SQLITE_FOREIGN_KEYS,
        Backend::Postgres => POSTGRES_FOREIGN_KEYS,
    };
    let mut parents: HashMap<String, BTreeSet<String>> = HashMap::new();
    let mut own: HashMap<String, Vec<(String, String)>> = HashMap::new();
    for r in sqlx::query(sql).fetch_all(&mut **tx).await? {
        let child: String = r.try_get("child")?;
        let parent: String = r.try_get("parent")?;
        if child == parent {
            if let Some(pcol) = r.try_get::<Option<String>, _>("pcol")? {
                own.entry(child).or_default().push((r.try_get("col")?, pcol));
            }
        } else {
            parents.entry(child).or_default().insert(parent);
        }
    }
    let names: Vec<String> = opened.manifest.tables.iter().map(|t| t.name.clone()).collect();
    let mut order: Vec<String> = Vec::new();
    let mut placed: HashSet<String> = HashSet::new();
    while order.len() < names.len() {
        let ready: Vec<String> = names
            .iter()
            .filter(|n| !placed.contains(*n))
            .filter(|n| {
                parents
                    .get(*n)
                    .is_none_or(|ps| ps.iter().all(|p| placed.contains(p) || !names.contains(p)))
            })
            .cloned()
            .collect();
        if ready.is_empty() {
            let left: Vec<&String> = names.iter().filter(|n| !placed.contains(*n)).collect();
            return Err(StoreError::Invalid(format!(
                "the tables {left:?} refer to each other in a cycle; they cannot be restored in order"
            )));
        }
        for n in ready {
            placed.insert(n.clone());
            order.push(n);
        }
    }

    for name in order {
        let t = opened
            .manifest
            .tables
            .iter()
            .find(|t| t.name == name)
            .expect("ordered from the manifest");
        let kinds: Vec<Kind> = t.columns.iter().map(|c| target[&t.name][c]).collect();
        let columns = t.columns.clone();
        let expected_rows = t.rows;
        let part = table_part(&name);
        let path = opened.path.clone();
        let bad = |what: String| {
            StoreError::Invalid(format!("{}: part {part}: {what}; nothing was restored", path.display()))
        };
        let entry = opened.zip.by_name(&part).map_err(|e| bad(e.to_string()))?;
        let mut rows_in = BufReader::new(entry).lines();
        let mut next_row = |n: &mut u64| -> Result<Option<Vec<Cell>>, StoreError> {
            let Some(line) = rows_in.next() else {
                return Ok(None);
            };
            *n += 1;
            let line = line.map_err(|e| bad(e.to_string()))?;
            let values: Vec<Value> = serde_json::from_str(&line).map_err(|e| bad(format!("row {n}: {e}")))?;
            if values.len() != columns.len() {
                return Err(bad(format!(
                    "row {n}: {} values for {} columns",
                    values.len(),
                    columns.len()
                )));
            }
            values
                .into_iter()
                .map(|v| Cell::from_json(v).ok_or_else(|| bad(format!("row {n}: a value of no known type"))))
                .collect::<Result<Vec<_>, _>>()
                .map(Some)
        };
        let mut inserter = Inserter::new(&name, &columns, kinds);
        let mut n = 0u64;
        match own.get(&name) {
            None => {
                while let Some(row) = next_row(&mut n)? {
                    inserter.push(tx, row).await?;
                }
            }
            Some(links) => {
                let mut all = Vec::new();
                while let Some(row) = next_row(&mut n)? {
                    all.push(row);
                }
                for row in rows_parents_first(&name, &columns, links, all)? {
                    inserter.push(tx, row).await?;
                }
            }
        }
        inserter.flush(tx).await?;
        if n != expected_rows {
            return Err(bad(format!("{n} rows where the manifest says {expected_rows}")));
        }
    }

    // Later migrations, as they would have run over these rows; then sequences, if any.
    migrations.run(&mut **tx).await?;
    if backend == Backend::Postgres {
        for r in sqlx::query(POSTGRES_SERIALS).fetch_all(&mut **tx).await? {
            let (t, c): (String, String) = (r.try_get("t")?, r.try_get("c")?);
            let sql = format!(
                "SELECT setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({c}), 1), MAX({c}) IS NOT NULL) AS v FROM {t}",
                c = quote(&c),
                t = quote(&t)
            );
            sqlx::query(AssertSqlSafe(sql))
                .bind(quote(&t))
                .bind(c)
                .fetch_one(&mut **tx)
                .await?;
        }
    }
    Ok(())
}

/// Orders the rows of a table that refers to itself (a new version naming the one it
/// supersedes) so that every row comes after the row it names.
fn rows_parents_first(
    table: &str,
    columns: &[String],
    links: &[(String, String)],
    rows: Vec<Vec<Cell>>,
) -> Result<Vec<Vec<Cell>>, StoreError> {
    let index = |c: &str| columns.iter().position(|x| x == c);
    let links: Vec<(usize, usize)> = links.iter().filter_map(|(c, p)| index(c).zip(index(p))).collect();
    let present: Vec<HashSet<String>> = links
        .iter()
        .map(|(_, p)| rows.iter().map(|r| r[*p].key()).collect())
        .collect();
    let mut done: Vec<HashSet<String>> = vec![HashSet::new(); links.len()];
    let mut left = rows;
    let mut out = Vec::with_capacity(left.len());
    while !left.is_empty() {
        let (ready, wait): (Vec<_>, Vec<_>) = left.into_iter().partition(|r| {
            links.iter().enumerate().all(|(i, (c, _))| {
                let k = r[*c].key();
                r[*c] == Cell::Null || !present[i].contains(&k) || done[i].contains(&k)
            })
        });
        if ready.is_empty() {
            return Err(StoreError::Invalid(format!(
                "rows of {table} refer to each other in a cycle; they cannot be restored"
            )));
        }
        for r in &ready {
            for (i, (_, p)) in links.iter().enumerate() {
                done[i].insert(r[*p].key());
            }
        }
        out.extend(ready);
        left = wait;
    }
    Ok(out)
}

/// Multi-row inserts into one table.
struct Inserter {
    table: String,
    columns: Vec<String>,
    kinds: Vec<Kind>,
    per: usize,
    pending: Vec<Vec<Cell>>,
    statements: HashMap<usize, String>,
}

impl Inserter {
    fn new(table: &str, columns: &[String], kinds: Vec<Kind>) -> Inserter {
        Inserter {
            table: table.to_string(),
            columns: columns.to_vec(),
            kinds,
            per: (MAX_PARAMS / columns.len().max(1)).clamp(1, MAX_ROWS),
            pending: Vec::new(),
            statements: HashMap::new(),
        }
    }

    async fn push(&mut self, tx: &mut Transaction<'static, Any>, row: Vec<Cell>) -> Result<(), StoreError> {
        self.pending.push(row);
        if self.pending.len() >= self.per {
            self.flush(tx).await?;
        }
        Ok(())
    }

    async fn flush(&mut self, tx: &mut Transaction<'static, Any>) -> Result<(), StoreError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.pending);
        let n = self.columns.len();
        let sql = self
            .statements
            .entry(rows.len())
            .or_insert_with(|| {
                let values: Vec<String> = (0..rows.len())
                    .map(|r| {
                        let params: Vec<String> = (1..=n).map(|c| format!("${}", r * n + c)).collect();
                        format!("({})", params.join(", "))
                    })
                    .collect();
                format!(
                    "INSERT INTO {} ({}) VALUES {}",
                    quote(&self.table),
                    self.columns.iter().map(|c| quote(c)).collect::<Vec<_>>().join(", "),
                    values.join(", ")
                )
            })
            .clone();
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for row in rows {
            for (i, cell) in row.into_iter().enumerate() {
                q = self.kinds[i].bind(q, cell, || format!("{}.{}", self.table, self.columns[i]))?;
            }
        }
        q.execute(&mut **tx).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_through_their_encoding() {
        for c in [
            Cell::Null,
            Cell::Int(i64::MIN),
            Cell::Int(i64::MAX),
            Cell::Int(0),
            Cell::Real(0.1),
            Cell::Real(-1e300),
            Cell::Text(String::new()),
            Cell::Text("ünïcode \"quoted\" \n line".into()),
            Cell::Text("12".into()),
            Cell::Bytes(vec![0, 255, 7]),
            Cell::Bool(true),
        ] {
            let text = c.to_json().to_string();
            let back = Cell::from_json(serde_json::from_str(&text).unwrap()).unwrap();
            assert_eq!(back, c, "{text}");
        }
        assert_eq!(Cell::from_json(json!(1.5)), None, "a bare float is not a value");
        assert_eq!(Cell::from_json(json!({"x": "1"})), None);
    }

    #[test]
    fn rows_that_name_their_own_table_come_after_what_they_name() {
        let cols = vec!["id".to_string(), "supersedes".to_string()];
        let row =
            |id: &str, s: Option<&str>| vec![Cell::Text(id.into()), s.map_or(Cell::Null, |s| Cell::Text(s.into()))];
        let rows = vec![row("c", Some("b")), row("b", Some("a")), row("a", None), row("x", None)];
        let links = vec![("supersedes".to_string(), "id".to_string())];
        let ordered = rows_parents_first("evidence", &cols, &links, rows).unwrap();
        let ids: Vec<_> = ordered.iter().map(|r| r[0].clone()).collect();
        let pos = |id: &str| ids.iter().position(|c| *c == Cell::Text(id.into())).unwrap();
        assert!(pos("a") < pos("b") && pos("b") < pos("c"));
        let cycle = vec![row("p", Some("q")), row("q", Some("p"))];
        assert!(rows_parents_first("evidence", &cols, &links, cycle).is_err());
    }

    #[test]
    fn only_rule_files_are_carried() {
        assert!(is_rule_file("checks/extra.yaml"));
        assert!(!is_rule_file("checks/../keys/instance.key"));
        assert!(!is_rule_file("checks/.hidden.yaml"));
        assert!(!is_rule_file("keys/vault.age"));
        assert!(!is_rule_file("checks/sub/x.yaml"));
    }
}
