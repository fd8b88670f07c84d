//! A workspace: a folder holding `evident.toml`, the SQLite database (unless PostgreSQL is
//! configured), the vault and the keys.

use std::fs;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;
use evident_catalog::Catalog;
use serde_json::json;
use sqlx::Row;

use crate::clock::now_ms;
use crate::files::{create_private_file, resolve, write_atomically};
use crate::vault::{self, Vault};
use crate::{CONFIG_FILE, Config, Db, StoreError, controls, keys, redact_url};

const SQLITE_FILE: &str = "evident.db";

const COUNT_ORGANISATIONS: &str = "SELECT COUNT(*) AS n FROM organisation";
const INSERT_ORGANISATION: &str = "INSERT INTO organisation (id, name, framework, created_at) VALUES ($1, $2, $3, $4)";
const SELECT_ORGANISATION: &str = "SELECT id, name FROM organisation";
const COUNT_BLOBS: &str = "SELECT COUNT(*) AS n FROM blobs";

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub organisation: String,
}

#[derive(Debug, Clone)]
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
    pub db: Db,
    pub vault: Vault,
    pub organisation_id: String,
    pub organisation: String,
    /// Who the audit log names for writes made through this handle.
    pub actor: String,
    pub(crate) signing_key: SigningKey,
    /// Shared by every handle on this workspace in this process (`as_actor` included).
    pub(crate) group_commit: std::sync::Arc<crate::group_commit::GroupCommit>,
}

/// Paths an `init` created, removed again if it fails halfway.
#[derive(Default)]
struct Created(Vec<PathBuf>);

impl Created {
    fn undo(&self) {
        for p in self.0.iter().rev() {
            let _ = if p.is_dir() {
                fs::remove_dir_all(p)
            } else {
                fs::remove_file(p)
            };
        }
    }
}

impl Workspace {
    /// The same workspace, writing in someone else's name (the server's signed-in person).
    pub fn as_actor(&self, actor: &str) -> Workspace {
        Workspace {
            actor: actor.to_string(),
            ..self.clone()
        }
    }

    pub fn config_path(dir: &Path) -> PathBuf {
        dir.join(CONFIG_FILE)
    }

    pub fn vault_dir(&self) -> PathBuf {
        resolve(&self.dir, &self.config.vault_dir)
    }

    pub fn instance_key_file(&self) -> PathBuf {
        resolve(&self.dir, &self.config.instance_key_file)
    }

    /// The configured URL, else the workspace's SQLite file (created only by `init`, so a
    /// workspace whose PostgreSQL settings went missing fails loudly instead of starting empty).
    pub(crate) fn database_url(dir: &Path, config: &Config, create: bool) -> Result<String, StoreError> {
        if let Some(url) = &config.database_url {
            return Ok(url.clone());
        }
        let file = dir.join(SQLITE_FILE);
        if !create && !file.is_file() {
            return Err(StoreError::Config(format!(
                "{} has no database file {SQLITE_FILE}; if it uses PostgreSQL, set database_url in {} or EVIDENT_DATABASE_URL",
                dir.display(),
                CONFIG_FILE
            )));
        }
        Ok(format!(
            "sqlite://{}?mode={}",
            file.display(),
            if create { "rwc" } else { "rw" }
        ))
    }

    /// Creates a workspace and adopts the built-in control library as the organisation's
    /// controls. Refuses, changing nothing, when the folder or the database already holds one.
    pub async fn init(dir: &Path, options: InitOptions, actor: &str) -> Result<Workspace, StoreError> {
        crate::backup::refuse_interrupted_restore(dir)?;
        if Self::config_path(dir).exists() {
            return Err(StoreError::AlreadyInitialised { dir: dir.to_path_buf() });
        }
        let mut created = Created::default();
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
            created.0.push(dir.to_path_buf());
        }
        let dir = dir.canonicalize().map_err(StoreError::io(dir))?;
        match Self::init_inner(&dir, options, actor, &mut created).await {
            Ok(ws) => Ok(ws),
            Err(e) => {
                created.undo();
                Err(e)
            }
        }
    }

    async fn init_inner(
        dir: &Path,
        options: InitOptions,
        actor: &str,
        created: &mut Created,
    ) -> Result<Workspace, StoreError> {
        let mut config = Config::load(dir)?;
        config.organisation = options.organisation.trim().to_string();
        if config.organisation.is_empty() {
            return Err(StoreError::Config("--organisation: the name cannot be empty".into()));
        }
        let key_file = resolve(dir, &config.instance_key_file);
        let vault_key_file = resolve(dir, &config.vault_key_file);
        for k in [&key_file, &vault_key_file] {
            if k.exists() {
                return Err(StoreError::Conflict(format!(
                    "{} already exists; refusing to replace a key (nothing was changed)",
                    k.display()
                )));
            }
        }

        let url = Self::database_url(dir, &config, true)?;
        if config.database_url.is_none() {
            for suffix in ["", "-wal", "-shm"] {
                let p = dir.join(format!("{SQLITE_FILE}{suffix}"));
                if !p.exists() {
                    created.0.push(p);
                }
            }
            // SQLite gives its -wal and -shm files the database file's permissions.
            create_private_file(&dir.join(SQLITE_FILE))?;
        }
        let db = Db::open(&url).await?;
        let existing: i64 = sqlx::query(COUNT_ORGANISATIONS)
            .fetch_one(&db.pool)
            .await?
            .try_get("n")?;
        if existing > 0 {
            let url = db.url_redacted();
            db.close().await;
            return Err(StoreError::DatabaseInUse { url });
        }

        let key_dir = key_file.parent().expect("key file has a folder").to_path_buf();
        if !key_dir.exists() {
            created.0.push(key_dir);
        }
        keys::generate(&key_file)?;
        created.0.push(key_file.clone());
        created.0.push(key_file.with_extension("pub"));
        if config.vault_key.is_none() {
            created.0.push(vault_key_file.clone());
            vault::generate_key(&vault_key_file)?;
        }
        let vault = resolve(dir, &config.vault_dir);
        if !vault.exists() {
            fs::create_dir_all(&vault).map_err(StoreError::io(&vault))?;
            created.0.push(vault);
        }

        let vault = Vault::open(dir, &config)?;
        let ws = Workspace {
            dir: dir.to_path_buf(),
            organisation: config.organisation.clone(),
            organisation_id: ulid::Ulid::new().to_string(),
            signing_key: keys::load(&key_file)?,
            group_commit: crate::group_commit::GroupCommit::new(),
            actor: actor.to_string(),
            config,
            db,
            vault,
        };
        let catalog = Catalog::builtin();
        let now = now_ms();
        let mut tx = ws.begin_write().await?;
        sqlx::query(INSERT_ORGANISATION)
            .bind(&ws.organisation_id)
            .bind(&ws.organisation)
            .bind(catalog.framework.id())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        let adopted = controls::adopt_library(&mut tx, catalog, now).await?;
        let payload = json!({
            "organisation": ws.organisation,
            "framework": catalog.framework.id(),
            "controls_adopted": adopted,
        });
        ws.log(
            &mut tx,
            "workspace.init",
            &format!("organisation:{}", ws.organisation_id),
            payload,
        )
        .await?;
        // The config file is the marker of a workspace, so it is written last; the database
        // commit waits for it so a failed write leaves no half-made program behind.
        write_atomically(&Self::config_path(dir), config_file_text(&ws.config).as_bytes())?;
        created.0.push(Self::config_path(dir));
        tx.commit().await?;
        ws.checkpoint().await?;
        Ok(ws)
    }

    /// Opens an existing workspace, applying any pending migrations.
    pub async fn open(dir: &Path, actor: &str) -> Result<Workspace, StoreError> {
        crate::backup::refuse_interrupted_restore(dir)?;
        Self::open_unchecked(dir, actor).await
    }

    /// [`Workspace::open`] without the check for an interrupted restore (the restore itself).
    pub(crate) async fn open_unchecked(dir: &Path, actor: &str) -> Result<Workspace, StoreError> {
        if !Self::config_path(dir).is_file() {
            return Err(StoreError::NotAWorkspace { dir: dir.to_path_buf() });
        }
        let dir = dir.canonicalize().map_err(StoreError::io(dir))?;
        let config = Config::load(&dir)?;
        let db = Db::open(&Self::database_url(&dir, &config, false)?).await?;
        let row = sqlx::query(SELECT_ORGANISATION).fetch_optional(&db.pool).await?;
        let Some(row) = row else {
            return Err(StoreError::NotInitialised);
        };
        let vault_key_file = resolve(&dir, &config.vault_key_file);
        if config.vault_key.is_none() && !vault_key_file.exists() {
            // Workspaces made before the vault existed get their key now; one that already
            // stores blobs must never get a fresh key, which could not read them.
            let blobs: i64 = sqlx::query(COUNT_BLOBS).fetch_one(&db.pool).await?.try_get("n")?;
            if blobs > 0 {
                return Err(StoreError::Config(format!(
                    "the vault key {} is missing; restore it or set EVIDENT_VAULT_KEY",
                    vault_key_file.display()
                )));
            }
            vault::generate_key(&vault_key_file)?;
        }
        Ok(Workspace {
            organisation_id: row.try_get("id")?,
            organisation: row.try_get("name")?,
            signing_key: keys::load(&resolve(&dir, &config.instance_key_file))?,
            group_commit: crate::group_commit::GroupCommit::new(),
            vault: Vault::open(&dir, &config)?,
            actor: actor.to_string(),
            dir,
            config,
            db,
        })
    }
}

/// The text of `evident.toml` for `config`: a URL from the environment is kept in the file
/// unless it carries a password.
pub(crate) fn config_file_text(config: &Config) -> String {
    let mut file_config = config.clone();
    if file_config.database_url.as_deref().is_some_and(|u| redact_url(u) != u) {
        file_config.database_url = None;
    }
    if file_config.packs.tsa_url.as_deref().is_some_and(|u| redact_url(u) != u) {
        file_config.packs.tsa_url = None;
    }
    file_config.to_file_text()
}
