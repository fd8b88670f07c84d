//! A workspace: a folder holding `evident.toml`, the SQLite database (unless PostgreSQL is
//! configured), the vault and the keys.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use evident_catalog::Catalog;
use sqlx::Row;

use crate::clock::now_ms;
use crate::{CONFIG_FILE, Config, Db, StoreError, controls, keys};

const SQLITE_FILE: &str = "evident.db";

const COUNT_ORGANISATIONS: &str = "SELECT COUNT(*) AS n FROM organisation";
const INSERT_ORGANISATION: &str =
    "INSERT INTO organisation (id, name, framework, created_at) VALUES ($1, $2, $3, $4)";
const SELECT_ORGANISATION: &str = "SELECT id, name FROM organisation";

#[derive(Debug, Clone)]
pub struct InitOptions {
    pub organisation: String,
}

#[derive(Debug)]
pub struct Workspace {
    pub dir: PathBuf,
    pub config: Config,
    pub db: Db,
    pub organisation_id: String,
    pub organisation: String,
}

/// Paths an `init` created, removed again if it fails halfway.
#[derive(Default)]
struct Created(Vec<PathBuf>);

impl Created {
    fn undo(&self) {
        for p in self.0.iter().rev() {
            let _ = if p.is_dir() { fs::remove_dir_all(p) } else { fs::remove_file(p) };
        }
    }
}

impl Workspace {
    pub fn config_path(dir: &Path) -> PathBuf {
        dir.join(CONFIG_FILE)
    }

    fn resolve(dir: &Path, p: &Path) -> PathBuf {
        if p.is_absolute() { p.to_path_buf() } else { dir.join(p) }
    }

    pub fn vault_dir(&self) -> PathBuf {
        Self::resolve(&self.dir, &self.config.vault_dir)
    }

    pub fn instance_key_file(&self) -> PathBuf {
        Self::resolve(&self.dir, &self.config.instance_key_file)
    }

    fn database_url(dir: &Path, config: &Config) -> String {
        match &config.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}?mode=rwc", dir.join(SQLITE_FILE).display()),
        }
    }

    /// Creates a workspace and adopts the built-in control library as the organisation's
    /// controls. Refuses, changing nothing, when the folder or the database already holds one.
    pub async fn init(dir: &Path, options: InitOptions) -> Result<Workspace, StoreError> {
        if Self::config_path(dir).exists() {
            return Err(StoreError::AlreadyInitialised { dir: dir.to_path_buf() });
        }
        let mut created = Created::default();
        if !dir.exists() {
            fs::create_dir_all(dir).map_err(StoreError::io(dir))?;
            created.0.push(dir.to_path_buf());
        }
        let dir = dir.canonicalize().map_err(StoreError::io(dir))?;
        match Self::init_inner(&dir, options, &mut created).await {
            Ok(ws) => Ok(ws),
            Err(e) => {
                created.undo();
                Err(e)
            }
        }
    }

    async fn init_inner(dir: &Path, options: InitOptions, created: &mut Created) -> Result<Workspace, StoreError> {
        let mut config = Config::load(dir)?;
        config.organisation = options.organisation.trim().to_string();
        if config.organisation.is_empty() {
            return Err(StoreError::Config("--organisation: the name cannot be empty".into()));
        }
        let key_file = Self::resolve(dir, &config.instance_key_file);
        if key_file.exists() {
            return Err(StoreError::Conflict(format!(
                "{} already exists; refusing to replace a key (nothing was changed)",
                key_file.display()
            )));
        }

        let url = Self::database_url(dir, &config);
        if config.database_url.is_none() {
            for suffix in ["", "-wal", "-shm"] {
                let p = dir.join(format!("{SQLITE_FILE}{suffix}"));
                if !p.exists() {
                    created.0.push(p);
                }
            }
        }
        let db = Db::open(&url).await?;
        let existing: i64 = sqlx::query(COUNT_ORGANISATIONS).fetch_one(&db.pool).await?.try_get("n")?;
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
        let vault = Self::resolve(dir, &config.vault_dir);
        if !vault.exists() {
            fs::create_dir_all(&vault).map_err(StoreError::io(&vault))?;
            created.0.push(vault);
        }

        let catalog = Catalog::builtin();
        let organisation_id = ulid::Ulid::new().to_string();
        let now = now_ms();
        let mut tx = db.pool.begin().await?;
        sqlx::query(INSERT_ORGANISATION)
            .bind(&organisation_id)
            .bind(&config.organisation)
            .bind(catalog.framework.id())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        controls::adopt_library(&mut tx, catalog, now).await?;
        // The config file is the marker of a workspace, so it is written last; the database
        // commit waits for it so a failed write leaves no half-made program behind.
        write_atomically(&Self::config_path(dir), config.to_file_text().as_bytes())?;
        created.0.push(Self::config_path(dir));
        tx.commit().await?;

        Ok(Workspace {
            dir: dir.to_path_buf(),
            organisation: config.organisation.clone(),
            config,
            db,
            organisation_id,
        })
    }

    /// Opens an existing workspace, applying any pending migrations.
    pub async fn open(dir: &Path) -> Result<Workspace, StoreError> {
        if !Self::config_path(dir).is_file() {
            return Err(StoreError::NotAWorkspace { dir: dir.to_path_buf() });
        }
        let dir = dir.canonicalize().map_err(StoreError::io(dir))?;
        let config = Config::load(&dir)?;
        let db = Db::open(&Self::database_url(&dir, &config)).await?;
        let row = sqlx::query(SELECT_ORGANISATION).fetch_optional(&db.pool).await?;
        let Some(row) = row else {
            return Err(StoreError::NotInitialised);
        };
        Ok(Workspace {
            organisation_id: row.try_get("id")?,
            organisation: row.try_get("name")?,
            dir,
            config,
            db,
        })
    }
}

/// Writes a file so that it is either absent or complete, and durable once this returns.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp).map_err(StoreError::io(&tmp))?;
    f.write_all(bytes).and_then(|_| f.sync_all()).map_err(StoreError::io(&tmp))?;
    fs::rename(&tmp, path).map_err(StoreError::io(path))?;
    if let Some(parent) = path.parent() {
        fs::File::open(parent).and_then(|d| d.sync_all()).map_err(StoreError::io(parent))?;
    }
    Ok(())
}
