//! The harness: a workspace in a temporary folder with its own database, and the binary.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::Value;
use sqlx::AssertSqlSafe;
use sqlx::any::AnyPoolOptions;

pub const BIN: &str = env!("CARGO_BIN_EXE_evident");

/// Controls in the built-in library (what `init` adopts).
pub fn library_controls() -> usize {
    evident_catalog::Catalog::builtin().library.controls.len()
}

/// Policy templates that ship (what `policies adopt --all` adopts).
pub fn library_policies() -> usize {
    evident_catalog::Catalog::builtin().policies.len()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub fn pg_admin_url() -> String {
    std::env::var("EVIDENT_TEST_PG_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

pub fn pg_exec(sql: String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&pg_admin_url())
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL at {} is required for these tests: {e}", pg_admin_url()));
        sqlx::query(AssertSqlSafe(sql))
            .execute(&pool)
            .await
            .expect("admin statement");
        pool.close().await;
    });
}

/// One workspace in a temporary folder, with its own database.
pub struct Env {
    pub tmp: tempfile::TempDir,
    pub dir: PathBuf,
    pub backend: Backend,
    pg_db: Option<String>,
    /// Variables every command gets (an S3 vault's endpoint and credentials, say).
    pub vars: Vec<(String, String)>,
}

impl Env {
    pub fn new(backend: Backend) -> Env {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("ws");
        let pg_db = (backend == Backend::Postgres).then(|| {
            static N: AtomicU32 = AtomicU32::new(0);
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos();
            let name = format!(
                "evident_t_{}_{}_{nanos}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            );
            pg_exec(format!("CREATE DATABASE {name}"));
            name
        });
        Env {
            tmp,
            dir,
            backend,
            pg_db,
            vars: Vec::new(),
        }
    }

    pub fn database_url(&self) -> Option<String> {
        self.pg_db.as_ref().map(|db| {
            let admin = pg_admin_url();
            let base = admin.rsplit_once('/').map(|(b, _)| b.to_string()).unwrap_or(admin);
            format!("{base}/{db}")
        })
    }

    pub fn command(&self, args: &[&str]) -> Command {
        self.command_in(&self.dir, args)
    }

    /// A command on this workspace's database and variables through another folder (a second
    /// server instance's copy of the configuration and keys).
    pub fn command_in(&self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(BIN);
        c.arg("--workspace")
            .arg(dir)
            .args(args)
            .env_remove("EVIDENT_HOME")
            .env_remove("EVIDENT_DATABASE_URL")
            .env_remove("EVIDENT_TSA_URL")
            .env("EVIDENT_ACTOR", "cli:tester");
        if let Some(url) = self.database_url() {
            c.env("EVIDENT_DATABASE_URL", url);
        }
        c.envs(self.vars.iter().map(|(k, v)| (k, v)));
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run evident")
    }

    /// Runs a command that must succeed and returns its JSON output.
    pub fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "evident {args:?} printed no JSON ({e}): {}",
                String::from_utf8_lossy(&out.stdout)
            )
        })
    }

    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// Runs a command that must be refused as bad input (exit 2) naming `needles`, and
    /// checks that nothing observable changed.
    pub fn refused(&self, args: &[&str], needles: &[&str]) {
        let before = self.state();
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.code(),
            Some(2),
            "evident {args:?} should exit 2; stderr: {stderr}"
        );
        for n in needles {
            assert!(
                stderr.contains(n),
                "evident {args:?}: message should mention {n:?}; got: {stderr}"
            );
        }
        assert_eq!(before, self.state(), "evident {args:?} changed the workspace");
    }

    pub fn init(&self) -> Value {
        self.json(&["init", "--organisation", "Acme Test"])
    }

    /// Everything a user can observe about the program.
    pub fn state(&self) -> Value {
        serde_json::json!({
            "controls": self.json(&["controls", "list"]),
            "scope": self.json(&["scope", "show"]),
        })
    }
}

impl Drop for Env {
    fn drop(&mut self) {
        if let Some(db) = &self.pg_db {
            pg_exec(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"));
        }
    }
}

pub fn category_of(criterion: &str) -> &'static str {
    // Independent of the product's own tables: the TSC id prefixes.
    if criterion.starts_with("CC") {
        "security"
    } else if criterion.starts_with("PI") {
        "processing_integrity"
    } else if criterion.starts_with('A') {
        "availability"
    } else if criterion.starts_with('C') {
        "confidentiality"
    } else {
        assert!(criterion.starts_with('P'), "unexpected criterion {criterion}");
        "privacy"
    }
}

pub fn control<'a>(list: &'a Value, id: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|c| c["code"] == id)
        .unwrap_or_else(|| panic!("no control {id}"))
}

pub fn with<'a>(head: &[&'a str], extra: &[&'a str]) -> Vec<&'a str> {
    head.iter().chain(extra).copied().collect()
}

pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

impl Env {
    /// The workspace database's URL as a tamperer would reach it.
    pub fn raw_url(&self) -> String {
        self.database_url()
            .unwrap_or_else(|| format!("sqlite://{}", self.dir.join("evident.db").display()))
    }

    /// Runs `work` on a one-connection pool straight to the workspace database.
    fn with_database<T>(&self, work: impl AsyncFnOnce(&sqlx::AnyPool) -> Result<T, String>) -> Result<T, String> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            sqlx::any::install_default_drivers();
            let pool = AnyPoolOptions::new()
                .max_connections(1)
                .connect(&self.raw_url())
                .await
                .map_err(|e| e.to_string())?;
            let result = work(&pool).await;
            pool.close().await;
            result
        })
    }

    /// Runs statements straight against the workspace database, as someone with access to
    /// the files or the server could.
    pub fn sql(&self, statements: &[&str]) -> Result<(), String> {
        self.with_database(async |pool| {
            for s in statements {
                sqlx::query(AssertSqlSafe(s.to_string()))
                    .execute(pool)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        })
    }

    /// The first column of each row a query returns, as text.
    pub fn sql_strings(&self, query: &str) -> Vec<String> {
        self.with_database(async |pool| {
            let rows = sqlx::query(AssertSqlSafe(query.to_string()))
                .fetch_all(pool)
                .await
                .map_err(|e| e.to_string())?;
            rows.iter()
                .map(|r| sqlx::Row::try_get::<String, _>(r, 0).map_err(|e| e.to_string()))
                .collect()
        })
        .unwrap()
    }

    /// A user with the admin role and a write API token of theirs; returns the token.
    pub fn admin_token(&self) -> String {
        self.json(&["users", "add", "admin@bluefin.test", "--role", "admin"]);
        self.json(&[
            "tokens",
            "create",
            "--user",
            "admin@bluefin.test",
            "--name",
            "tests",
            "--scope",
            "write",
        ])["secret"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// Removes the append-only triggers of a table, the first thing a tamperer would do.
    pub fn unprotect(&self, table: &str) {
        let statements: Vec<String> = match self.backend {
            Backend::Sqlite => vec![
                format!("DROP TRIGGER {table}_append_only_u"),
                format!("DROP TRIGGER {table}_append_only_d"),
            ],
            Backend::Postgres => vec![format!("DROP TRIGGER {table}_append_only ON {table}")],
        };
        let refs: Vec<&str> = statements.iter().map(String::as_str).collect();
        self.sql(&refs).expect("drop triggers");
    }

    /// Files under the vault folder (blobs and anything staged).
    pub fn vault_files(&self) -> Vec<PathBuf> {
        fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                if p.is_dir() { walk(&p, out) } else { out.push(p) }
            }
        }
        let mut out = Vec::new();
        walk(&self.dir.join("vault"), &mut out);
        out.sort();
        out
    }

    /// Runs `verify` and returns (exit code, stdout, stderr).
    pub fn verify(&self) -> (Option<i32>, String, String) {
        let out = self.run(&["verify"]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    pub fn assert_verified(&self) {
        let (code, stdout, stderr) = self.verify();
        assert_eq!(code, Some(0), "verify should pass:\n{stdout}\n{stderr}");
        assert!(stdout.contains("Verified: nothing was altered"), "{stdout}");
    }

    /// `verify` must fail (exit 3) and name `needles` in its first problem.
    pub fn assert_caught(&self, needles: &[&str]) {
        let (code, stdout, stderr) = self.verify();
        assert_eq!(code, Some(3), "verify should fail:\n{stdout}\n{stderr}");
        let first = stderr
            .lines()
            .find(|l| l.starts_with("first problem:"))
            .unwrap_or_default();
        for n in needles {
            assert!(
                first.contains(n),
                "first problem should mention {n:?}; got {first:?}\nfull report:\n{stdout}"
            );
        }
    }

    pub fn write_file(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let p = self.tmp.path().join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    }

    pub fn audit_actions(&self) -> Vec<String> {
        self.json(&["audit-log"])
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap().to_string())
            .collect()
    }
}

/// Today (UTC) shifted by `days`, as YYYY-MM-DD.
pub fn day(days: i64) -> String {
    let d = time::OffsetDateTime::now_utc().date() + time::Duration::days(days);
    d.to_string()
}

pub fn sha256sum(path: &Path) -> String {
    let out = Command::new("sha256sum").arg(path).output().expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

impl Env {
    /// Sets a Type 2 scope over security with the observation window `window` (START..END);
    /// returns what the command printed on standard error.
    pub fn scope_type2(&self, window: &str) -> String {
        self.ok(&[
            "scope",
            "set",
            "--type",
            "2",
            "--categories",
            "security",
            "--window",
            window,
        ])
    }

    /// Runs a command that must succeed and returns its standard output.
    pub fn ok_stdout(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "evident {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

/// One check's result in the JSON of `evident check run`.
pub fn result<'a>(run: &'a Value, id: &str) -> &'a Value {
    run.as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no result for {id}"))
}
