//! People who sign in, their sessions and their API tokens.
//!
//! Nothing secret is stored as given: passwords as argon2id hashes, session ids and API tokens as
//! SHA-256 digests (they are long random strings, so a fast hash is enough), TOTP secrets sealed
//! with the vault key. Changes to users and tokens, and every sign-in, go to the audit log.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use evident_core::access::Role;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const SELECT_USERS: &str = "SELECT id, email, role, password_hash, totp_enabled, created_at, disabled_at, password_one_time, password_expires_at FROM users ORDER BY email";
const SELECT_USER: &str = "SELECT id, email, role, password_hash, totp_enabled, created_at, disabled_at, password_one_time, password_expires_at FROM users WHERE email = $1";
const SELECT_USER_BY_ID: &str = "SELECT id, email, role, password_hash, totp_enabled, created_at, disabled_at, password_one_time, password_expires_at FROM users WHERE id = $1";
const COUNT_USERS: &str = "SELECT COUNT(*) AS n FROM users";
const INSERT_USER: &str = "INSERT INTO users (id, email, role, password_hash, totp_enabled, created_at, updated_at, \
     password_one_time, password_expires_at) VALUES ($1, $2, $3, $4, 0, $5, $5, 1, $6)";
const SET_PASSWORD: &str = "UPDATE users SET password_hash = $1, updated_at = $2, password_one_time = $3, \
     password_expires_at = $4 WHERE id = $5";
const SET_ROLE: &str = "UPDATE users SET role = $1, updated_at = $2 WHERE id = $3";
const SET_DISABLED: &str = "UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3";
const SET_TOTP: &str = "UPDATE users SET totp_sealed = $1, totp_enabled = $2, updated_at = $3, totp_last_step = $4 \
     WHERE id = $5";
/// Enrolment only where no factor exists yet: two racing enrolments cannot both win.
const ENROL_TOTP: &str = "UPDATE users SET totp_sealed = $1, totp_enabled = 1, updated_at = $2, totp_last_step = $3 \
     WHERE id = $4 AND totp_enabled = 0";
/// A code's step is spent once, atomically, whichever server instance sees it.
const SPEND_TOTP_STEP: &str = "UPDATE users SET totp_last_step = $1 \
     WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)";
const SELECT_TOTP: &str = "SELECT totp_sealed FROM users WHERE id = $1";

const INSERT_SESSION: &str =
    "INSERT INTO sessions (id_hash, user_id, csrf, stage, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
/// The session and its user in one read: the guard runs it on every request.
const SELECT_SESSION: &str = "SELECT s.csrf, s.stage, s.expires_at, u.id, u.email, u.role, u.password_hash, \
     u.totp_enabled, u.created_at, u.disabled_at, u.password_one_time, u.password_expires_at \
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1";
const DELETE_SESSION: &str = "DELETE FROM sessions WHERE id_hash = $1";
const DELETE_USER_SESSIONS: &str = "DELETE FROM sessions WHERE user_id = $1";
const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE expires_at < $1";

const INSERT_TOKEN: &str = "INSERT INTO api_tokens (id, user_id, name, token_hash, scope, created_at, expires_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
const SELECT_TOKENS: &str = "SELECT t.id, u.email, t.name, t.scope, t.created_at, t.expires_at, t.revoked_at \
     FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id";
const SELECT_TOKEN_BY_HASH: &str =
    "SELECT user_id, scope, expires_at, revoked_at FROM api_tokens WHERE token_hash = $1";
const SELECT_TOKEN: &str = "SELECT id, revoked_at FROM api_tokens WHERE id = $1";
const REVOKE_TOKEN: &str = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2";

/// Shortest password a person may choose; generated ones are longer.
pub const MIN_PASSWORD_CHARS: usize = 12;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct User {
    pub id: String,
    pub email: String,
    pub role: Role,
    pub totp_enabled: bool,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// The password was handed over once (generated); it must be replaced at first sign-in.
    pub password_one_time: bool,
    /// When an unused one-time password stops working.
    pub password_expires_at: Option<i64>,
    #[serde(skip)]
    password_hash: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionStage {
    /// The password was right; the second factor (or its enrolment) is still owed.
    Password,
    /// Both factors were given, but the password was a one-time one: choosing a new one is
    /// the only thing this session may do.
    ChangePassword,
    Full,
}

impl SessionStage {
    fn name(self) -> &'static str {
        match self {
            SessionStage::Password => "password",
            SessionStage::ChangePassword => "change_password",
            SessionStage::Full => "full",
        }
    }
    fn parse(s: &str) -> SessionStage {
        match s {
            "full" => SessionStage::Full,
            "change_password" => SessionStage::ChangePassword,
            // Anything unknown grants the least.
            _ => SessionStage::Password,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    pub stage: SessionStage,
    pub csrf: String,
    pub expires_at: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    Write,
}

impl TokenScope {
    pub fn parse(s: &str) -> Result<TokenScope, String> {
        match s.trim() {
            "read" => Ok(TokenScope::Read),
            "write" => Ok(TokenScope::Write),
            other => Err(format!("unknown token scope '{other}'; expected read or write")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            TokenScope::Read => "read",
            TokenScope::Write => "write",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiToken {
    pub id: String,
    pub user: String,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn random_bytes<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| StoreError::Config(format!("no randomness: {e}")))?;
    Ok(b)
}

/// A password to hand over once: 20 characters without look-alikes (about 100 bits).
fn generated_password() -> Result<String, StoreError> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzACDEFGHJKLMNPQRTUVWXY346789";
    Ok(random_bytes::<20>()?
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect())
}

fn hash_password(password: &str) -> Result<String, StoreError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?).map_err(|e| StoreError::Config(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| StoreError::Config(format!("password hashing: {e}")))
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
        .unwrap_or(false)
}

/// Argon2 takes tens of milliseconds and 19 MiB on purpose; keep it off the async workers, and
/// run no more at once than there are cores: more would only share the same cores while each
/// holds its memory, so a burst of sign-ins would cost memory in proportion to its size.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, StoreError> {
    static TURNS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    let turns = TURNS.get_or_init(|| {
        tokio::sync::Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    });
    let _turn = turns
        .acquire()
        .await
        .map_err(|e| StoreError::Config(format!("password hashing: {e}")))?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StoreError::Config(format!("password hashing task: {e}")))
}

fn user_of(row: &sqlx::any::AnyRow) -> Result<User, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(User {
        id: row.try_get("id")?,
        email: row.try_get("email")?,
        role: Role::parse(&role).map_err(StoreError::Invalid)?,
        totp_enabled: row.try_get::<i64, _>("totp_enabled")? != 0,
        created_at: row.try_get("created_at")?,
        disabled_at: row.try_get("disabled_at")?,
        password_one_time: row.try_get::<i64, _>("password_one_time")? != 0,
        password_expires_at: row.try_get("password_expires_at")?,
        password_hash: row.try_get("password_hash")?,
    })
}

pub fn check_new_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(format!("a password needs at least {MIN_PASSWORD_CHARS} characters"));
    }
    Ok(())
}

impl Workspace {
    pub async fn users(&self) -> Result<Vec<User>, StoreError> {
        let rows = sqlx::query(SELECT_USERS).fetch_all(&self.db.pool).await?;
        rows.iter().map(user_of).collect()
    }

    pub async fn user(&self, email: &str) -> Result<User, StoreError> {
        let email = email.trim().to_lowercase();
        let row = sqlx::query(SELECT_USER)
            .bind(&email)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(user_of).transpose()?.ok_or(StoreError::NotFound {
            kind: "user",
            id: email,
        })
    }

    async fn user_by_id(&self, id: &str) -> Result<Option<User>, StoreError> {
        let row = sqlx::query(SELECT_USER_BY_ID)
            .bind(id)
            .fetch_optional(&self.db.pool)
            .await?;
        row.as_ref().map(user_of).transpose()
    }

    /// An employee's account is tied to their person record (their policies, training and
    /// tasks are found by it), so an employee who is not in the people register is refused
    /// rather than left with a page of nothing they can do.
    async fn check_employee_is_a_person(&self, email: &str, role: Role, field: &'static str) -> Result<(), StoreError> {
        if role == Role::Employee && !self.person_exists(email).await? {
            return Err(StoreError::Field {
                field,
                reason: format!(
                    "{email} is not in the people register; add the person first (an employee's account is tied to their person record); nothing was changed"
                ),
            });
        }
        Ok(())
    }

    /// Adds a user with a generated one-time password, returned once and never stored.
    pub async fn add_user(&self, email: &str, role: Role) -> Result<(User, String), StoreError> {
        self.add_user_with_person(email, role, None).await
    }

    /// Adds a user and, for an employee not yet in the people register, their person record
    /// (validated already, for the same email) in the same transaction: the account is never
    /// left without its person.
    pub async fn add_user_with_person(
        &self,
        email: &str,
        role: Role,
        person: Option<&evident_core::register::Record>,
    ) -> Result<(User, String), StoreError> {
        let email = evident_core::parse_email(email).map_err(|e| StoreError::Invalid(e.to_string()))?;
        if self.user(&email).await.is_ok() {
            return Err(StoreError::Conflict(format!(
                "a user {email} already exists; nothing was changed"
            )));
        }
        let person = person.filter(|_| role == Role::Employee);
        if let Some(p) = person
            && !p.get("email").as_str().is_some_and(|e| e.eq_ignore_ascii_case(&email))
        {
            return Err(StoreError::Field {
                field: "email",
                reason: "the person record is for another email".into(),
            });
        }
        // Someone already in the register keeps their record as it is.
        let person = match person {
            Some(p) if !self.person_exists(&email).await? => Some(p),
            _ => None,
        };
        if person.is_none() {
            self.check_employee_is_a_person(&email, role, "email").await?;
        }
        let password = generated_password()?;
        let hash = {
            let p = password.clone();
            blocking(move || hash_password(&p)).await??
        };
        let id = ulid::Ulid::new().to_string();
        let mut tx = self.begin_write().await?;
        if let Some(p) = person {
            let people = &evident_core::registers::PEOPLE;
            let (summary, created, _) = self.write_records_in(&mut tx, people, std::slice::from_ref(p)).await?;
            if summary.created != 1 {
                // The person was added by someone else since the check above: theirs stands,
                // and this transaction (which would have changed it) is dropped.
                return Err(StoreError::Conflict(format!(
                    "{email} was added to the people register meanwhile; nothing was changed, try again"
                )));
            }
            self.log(
                &mut tx,
                "people.add",
                &format!("person:{}", p.key(people)),
                json!({"register": "people", "context": {"via": "users.add"}, "created": created}),
            )
            .await?;
        }
        sqlx::query(INSERT_USER)
            .bind(&id)
            .bind(&email)
            .bind(role.name())
            .bind(&hash)
            .bind(now_ms())
            .bind(self.one_time_expiry())
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "users.add",
            &format!("user:{email}"),
            json!({"role": role.name()}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok((self.user(&email).await?, password))
    }

    /// The first start of a server with nobody to sign in: an admin with a one-time password.
    pub async fn ensure_first_admin(&self, email: &str) -> Result<Option<(User, String)>, StoreError> {
        let n: i64 = sqlx::query(COUNT_USERS).fetch_one(&self.db.pool).await?.try_get("n")?;
        if n > 0 {
            return Ok(None);
        }
        match self.add_user(email, Role::Admin).await {
            Ok(created) => Ok(Some(created)),
            // Another instance starting at the same moment created it first.
            Err(e) => {
                let n: i64 = sqlx::query(COUNT_USERS).fetch_one(&self.db.pool).await?.try_get("n")?;
                if n > 0 { Ok(None) } else { Err(e) }
            }
        }
    }

    /// When a one-time password handed over now stops working.
    fn one_time_expiry(&self) -> i64 {
        now_ms() + i64::from(self.config.server.one_time_password_hours.max(1)) * 3_600_000
    }

    /// A new generated one-time password; the user's sessions end.
    pub async fn reset_password(&self, email: &str) -> Result<String, StoreError> {
        let password = generated_password()?;
        self.write_password(email, &password, true, "users.reset_password")
            .await?;
        Ok(password)
    }

    /// A password the person chose. The caller has proven they are the person: by the
    /// current password, or by signing in with a one-time one moments ago.
    pub async fn set_password(&self, email: &str, password: &str) -> Result<(), StoreError> {
        check_new_password(password).map_err(StoreError::Invalid)?;
        self.write_password(email, password, false, "users.set_password").await
    }

    async fn write_password(
        &self,
        email: &str,
        password: &str,
        one_time: bool,
        action: &str,
    ) -> Result<(), StoreError> {
        let user = self.user(email).await?;
        let hash = {
            let p = password.to_string();
            blocking(move || hash_password(&p)).await??
        };
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_PASSWORD)
            .bind(&hash)
            .bind(now_ms())
            .bind(i64::from(one_time))
            .bind(one_time.then(|| self.one_time_expiry()))
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(DELETE_USER_SESSIONS)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, action, &format!("user:{}", user.email), json!({}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    pub async fn set_user_role(&self, email: &str, role: Role) -> Result<User, StoreError> {
        let user = self.user(email).await?;
        self.check_employee_is_a_person(&user.email, role, "role").await?;
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_ROLE)
            .bind(role.name())
            .bind(now_ms())
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "users.role",
            &format!("user:{}", user.email),
            json!({"from": user.role.name(), "to": role.name()}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        self.user(email).await
    }

    /// Disables or re-enables a user; disabling ends their sessions.
    pub async fn set_user_disabled(&self, email: &str, disabled: bool) -> Result<User, StoreError> {
        let user = self.user(email).await?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_DISABLED)
            .bind(disabled.then_some(now))
            .bind(now)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query(DELETE_USER_SESSIONS)
                .bind(&user.id)
                .execute(&mut *tx)
                .await?;
        }
        let action = if disabled { "users.disable" } else { "users.enable" };
        self.log(&mut tx, action, &format!("user:{}", user.email), json!({}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        self.user(email).await
    }

    /// The user whose password this is, if any. Unknown emails cost a hash too, so the time
    /// taken does not tell which emails exist. A one-time password past its expiry is no
    /// password at all.
    pub async fn check_password(&self, email: &str, password: &str) -> Result<Option<User>, StoreError> {
        let now = now_ms();
        let user = self.user(email).await.ok().filter(|u| {
            u.disabled_at.is_none() && !(u.password_one_time && u.password_expires_at.is_some_and(|e| e <= now))
        });
        let hash = user.as_ref().and_then(|u| u.password_hash.clone());
        let password = password.to_string();
        let ok = blocking(move || match hash {
            Some(h) => password_matches(&h, &password),
            None => {
                let _ = hash_password(&password);
                false
            }
        })
        .await?;
        Ok(user.filter(|_| ok))
    }

    pub async fn totp_secret(&self, user: &User) -> Result<Option<Vec<u8>>, StoreError> {
        let row = sqlx::query(SELECT_TOTP).bind(&user.id).fetch_one(&self.db.pool).await?;
        let sealed: Option<String> = row.try_get("totp_sealed")?;
        sealed
            .map(|s| self.vault.unseal(&s).map_err(|e| StoreError::Config(e.to_string())))
            .transpose()
    }

    /// Stores the first TOTP secret of a user who has proven they hold it (they entered the
    /// code of `step`, which is spent). Refused when the user already has a second factor:
    /// replacing one takes the old one or an administrator's reset.
    pub async fn enable_totp(&self, user: &User, secret: &[u8], step: i64) -> Result<(), StoreError> {
        let sealed = self.vault.seal(secret).map_err(|e| StoreError::Config(e.to_string()))?;
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(ENROL_TOTP)
            .bind(&sealed)
            .bind(now_ms())
            .bind(step)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "{} already has a second factor; replacing it needs the current one or an administrator's reset",
                user.email
            )));
        }
        self.log(&mut tx, "users.totp_enable", &format!("user:{}", user.email), json!({}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Replaces the second factor of a user who gave a valid code of the old one (`old_step`,
    /// spent here) and of the new one (`new_step`).
    pub async fn replace_totp(
        &self,
        user: &User,
        secret: &[u8],
        old_step: i64,
        new_step: i64,
    ) -> Result<(), StoreError> {
        if !self.spend_totp_step(user, old_step).await? {
            return Err(StoreError::Invalid(
                "that code of your current authenticator was already used".into(),
            ));
        }
        let sealed = self.vault.seal(secret).map_err(|e| StoreError::Config(e.to_string()))?;
        self.write_totp(user, Some(sealed), Some(new_step), "users.totp_replace")
            .await
    }

    /// Removes the second factor (an admin helping someone who lost their device).
    pub async fn reset_totp(&self, email: &str) -> Result<(), StoreError> {
        let user = self.user(email).await?;
        self.write_totp(&user, None, None, "users.totp_reset").await
    }

    async fn write_totp(
        &self,
        user: &User,
        sealed: Option<String>,
        step: Option<i64>,
        action: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        sqlx::query(SET_TOTP)
            .bind(sealed.as_deref())
            .bind(i64::from(sealed.is_some()))
            .bind(now_ms())
            .bind(step)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, action, &format!("user:{}", user.email), json!({}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Marks the TOTP time step `step` as used by `user`; false when it, or a later one, was
    /// used already (a replayed code). One statement, so concurrent servers agree.
    pub async fn spend_totp_step(&self, user: &User, step: i64) -> Result<bool, StoreError> {
        let n = sqlx::query(SPEND_TOTP_STEP)
            .bind(step)
            .bind(&user.id)
            .execute(&self.db.pool)
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Starts a session; returns the cookie value (given once, stored as a digest).
    pub async fn create_session(
        &self,
        user: &User,
        stage: SessionStage,
        lifetime_ms: i64,
    ) -> Result<String, StoreError> {
        let token = hex::encode(random_bytes::<32>()?);
        let csrf = hex::encode(random_bytes::<32>()?);
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(DELETE_EXPIRED_SESSIONS).bind(now).execute(&mut *tx).await?;
        sqlx::query(INSERT_SESSION)
            .bind(digest(&token))
            .bind(&user.id)
            .bind(&csrf)
            .bind(stage.name())
            .bind(now)
            .bind(now + lifetime_ms)
            .execute(&mut *tx)
            .await?;
        if stage == SessionStage::Full {
            self.log(&mut tx, "auth.sign_in", &format!("user:{}", user.email), json!({}))
                .await?;
        }
        tx.commit().await?;
        if stage == SessionStage::Full {
            self.checkpoint().await?;
        }
        Ok(token)
    }

    /// The live session a cookie names, if any (expired or disabled ones are not).
    pub async fn session(&self, token: &str) -> Result<Option<Session>, StoreError> {
        let Some(row) = sqlx::query(SELECT_SESSION)
            .bind(digest(token))
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let expires_at: i64 = row.try_get("expires_at")?;
        let user = user_of(&row)?;
        if expires_at < now_ms() || user.disabled_at.is_some() {
            return Ok(None);
        }
        let stage: String = row.try_get("stage")?;
        Ok(Some(Session {
            user,
            stage: SessionStage::parse(&stage),
            csrf: row.try_get("csrf")?,
            expires_at,
        }))
    }

    /// The second factor was given: records the sign-in (the caller then replaces the pending
    /// session with a new one).
    pub async fn complete_session(&self, user: &User) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        self.log(
            &mut tx,
            "auth.sign_in",
            &format!("user:{}", user.email),
            json!({"second_factor": "totp"}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// Ends every session of a user (signing out everywhere); returns how many there were.
    pub async fn end_sessions(&self, user: &User) -> Result<u64, StoreError> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(DELETE_USER_SESSIONS)
            .bind(&user.id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        self.log(
            &mut tx,
            "auth.sign_out_everywhere",
            &format!("user:{}", user.email),
            json!({"sessions": n}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(n)
    }

    pub async fn end_session(&self, token: &str) -> Result<(), StoreError> {
        sqlx::query(DELETE_SESSION)
            .bind(digest(token))
            .execute(&self.db.pool)
            .await?;
        Ok(())
    }

    /// A new API token for a user; the secret is returned once.
    pub async fn create_token(
        &self,
        email: &str,
        name: &str,
        scope: TokenScope,
        expires_at: Option<i64>,
    ) -> Result<(ApiToken, String), StoreError> {
        let user = self.user(email).await?;
        let name = name.trim();
        crate::error::storable("name", name)?;
        if name.is_empty() {
            return Err(StoreError::Invalid("a token needs a name saying what uses it".into()));
        }
        if name.chars().count() > 100 {
            return Err(StoreError::Field {
                field: "name",
                reason: "a token's name is at most 100 characters".into(),
            });
        }
        if expires_at.is_some_and(|e| e <= now_ms()) {
            return Err(StoreError::Invalid(
                "the token's expiry date has already passed; give a future date".into(),
            ));
        }
        let secret = format!("evd_{}", hex::encode(random_bytes::<24>()?));
        let id = ulid::Ulid::new().to_string();
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        sqlx::query(INSERT_TOKEN)
            .bind(&id)
            .bind(&user.id)
            .bind(name)
            .bind(digest(&secret))
            .bind(scope.name())
            .bind(now)
            .bind(expires_at)
            .execute(&mut *tx)
            .await?;
        self.log(
            &mut tx,
            "tokens.create",
            &format!("token:{id}"),
            json!({"user": user.email, "name": name, "scope": scope.name(), "expires_at": expires_at}),
        )
        .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        let token = ApiToken {
            id,
            user: user.email,
            name: name.to_string(),
            scope,
            created_at: now,
            expires_at,
            revoked_at: None,
        };
        Ok((token, secret))
    }

    pub async fn tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows = sqlx::query(SELECT_TOKENS).fetch_all(&self.db.pool).await?;
        rows.iter()
            .map(|r| {
                let scope: String = r.try_get("scope")?;
                Ok(ApiToken {
                    id: r.try_get("id")?,
                    user: r.try_get("email")?,
                    name: r.try_get("name")?,
                    scope: TokenScope::parse(&scope).map_err(StoreError::Invalid)?,
                    created_at: r.try_get("created_at")?,
                    expires_at: r.try_get("expires_at")?,
                    revoked_at: r.try_get("revoked_at")?,
                })
            })
            .collect()
    }

    pub async fn revoke_token(&self, id: &str) -> Result<(), StoreError> {
        let row = sqlx::query(SELECT_TOKEN)
            .bind(id.trim())
            .fetch_optional(&self.db.pool)
            .await?
            .ok_or(StoreError::NotFound {
                kind: "token",
                id: id.to_string(),
            })?;
        if row.try_get::<Option<i64>, _>("revoked_at")?.is_some() {
            return Err(StoreError::Conflict(format!("token {id} is already revoked")));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query(REVOKE_TOKEN)
            .bind(now_ms())
            .bind(id.trim())
            .execute(&mut *tx)
            .await?;
        self.log(&mut tx, "tokens.revoke", &format!("token:{}", id.trim()), json!({}))
            .await?;
        tx.commit().await?;
        self.checkpoint().await?;
        Ok(())
    }

    /// The user and scope an API token grants, if it is live.
    pub async fn token_user(&self, secret: &str) -> Result<Option<(User, TokenScope)>, StoreError> {
        let Some(row) = sqlx::query(SELECT_TOKEN_BY_HASH)
            .bind(digest(secret))
            .fetch_optional(&self.db.pool)
            .await?
        else {
            return Ok(None);
        };
        let now = now_ms();
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let expires: Option<i64> = row.try_get("expires_at")?;
        if revoked.is_some() || expires.is_some_and(|e| e < now) {
            return Ok(None);
        }
        let scope: String = row.try_get("scope")?;
        let user_id: String = row.try_get("user_id")?;
        Ok(self
            .user_by_id(&user_id)
            .await?
            .filter(|u| u.disabled_at.is_none())
            .map(|u| (u, TokenScope::parse(&scope).unwrap_or(TokenScope::Read))))
    }
}
