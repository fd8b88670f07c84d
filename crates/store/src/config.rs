//! Workspace configuration: defaults, then `evident.toml`, then `EVIDENT_*` environment variables.

use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

use crate::StoreError;

pub const CONFIG_FILE: &str = "evident.toml";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Config {
    /// The organisation's name, used in documents the product writes.
    pub organisation: String,
    /// `postgres://…` to use PostgreSQL; empty means the SQLite file in the workspace.
    #[serde(default)]
    pub database_url: Option<String>,
    /// Where evidence blobs live, relative to the workspace unless absolute.
    pub vault_dir: PathBuf,
    /// The instance signing key, relative to the workspace unless absolute.
    pub instance_key_file: PathBuf,
    /// The age identity that encrypts the vault (an `age-keygen` file).
    pub vault_key_file: PathBuf,
    /// The vault key itself (`AGE-SECRET-KEY-1…`), from the environment only; wins over the file.
    #[serde(default, skip_serializing)]
    pub vault_key: Option<Secret>,
    /// `s3://bucket/prefix` to keep blobs in an S3-compatible bucket instead of `vault_dir`.
    #[serde(default)]
    pub vault_url: Option<String>,
    #[serde(default)]
    pub s3_endpoint: Option<String>,
    #[serde(default)]
    pub s3_region: Option<String>,
    #[serde(default)]
    pub s3_allow_http: bool,
    /// Largest evidence file accepted, in bytes.
    pub max_evidence_bytes: u64,
    /// `evident serve`: sign-in and session settings.
    #[serde(default)]
    pub server: ServerSettings,
    /// Evidence packs.
    #[serde(default)]
    pub packs: PackSettings,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct PackSettings {
    /// An RFC 3161 time-stamping authority (`http://` or `https://`), asked to time-stamp
    /// each pack's manifest; `EVIDENT_TSA_URL` overrides it (empty: none). Unset: packs carry
    /// no timestamp and making one sends nothing over the network.
    pub tsa_url: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct ServerSettings {
    /// Roles that must use a TOTP second factor (enrolled at their first sign-in).
    pub require_totp: Vec<String>,
    /// How long a session lasts, in hours.
    pub session_hours: u32,
    /// Mark cookies `Secure`. Unset: secure unless the server listens on loopback only
    /// (a TLS-terminating proxy in front should set it to true).
    pub secure_cookies: Option<bool>,
    /// Largest upload through the web interface, in bytes.
    pub max_upload_bytes: u64,
    /// Media types accepted as evidence uploads (by the file's extension).
    pub upload_types: Vec<String>,
    /// Single sign-on with an OpenID Connect provider (authorization code flow with PKCE).
    pub oidc: Option<OidcSettings>,
    /// Addresses (or CIDR ranges) of reverse proxies whose `X-Forwarded-For` is believed, so
    /// sign-in limits key on the real client. None by default: the peer address is the client.
    pub trusted_proxies: Vec<String>,
    /// How long an unused one-time password (users add, reset-password, first start) works.
    pub one_time_password_hours: u32,
    /// Seconds a client may take to send a request's head, and a kept-alive connection may sit
    /// idle, before the server closes it.
    pub request_head_timeout_secs: u64,
    /// Run the scheduled jobs (collection, the daily check run, access reviews that fall due)
    /// inside the server. False for those who run `evident collect all` and the rest from cron.
    pub run_jobs: bool,
    /// How often the server looks for due jobs, in milliseconds.
    pub jobs_poll_ms: u64,
    /// How long a claimed job stays with its instance unless renewed (it is renewed every third
    /// of this while the job runs); after it, another instance may take the job over.
    pub jobs_lease_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OidcSettings {
    /// The provider's issuer URL; its `/.well-known/openid-configuration` is read at first use.
    pub issuer: String,
    pub client_id: String,
    /// Better given as EVIDENT_OIDC_CLIENT_SECRET than written in the file.
    #[serde(default, skip_serializing)]
    pub client_secret: Option<Secret>,
    /// This server's callback, registered with the provider: `https://…/login/oidc/callback`.
    pub redirect_url: String,
    /// The button's words, e.g. "Sign in with Okta".
    #[serde(default)]
    pub label: Option<String>,
}

impl Default for ServerSettings {
    fn default() -> Self {
        ServerSettings {
            require_totp: vec!["admin".into(), "compliance_manager".into(), "auditor".into()],
            session_hours: 12,
            secure_cookies: None,
            max_upload_bytes: 100 << 20,
            trusted_proxies: Vec::new(),
            one_time_password_hours: 72,
            request_head_timeout_secs: 20,
            run_jobs: true,
            jobs_poll_ms: 30_000,
            jobs_lease_secs: 300,
            upload_types: [
                "application/pdf",
                "image/png",
                "image/jpeg",
                "text/plain",
                "text/csv",
                "text/markdown",
                "application/json",
                "application/zip",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            ]
            .map(String::from)
            .to_vec(),
            oidc: None,
        }
    }
}

/// A secret setting: never shown by `Debug`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::ops::Deref for Secret {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            organisation: "My Company".into(),
            database_url: None,
            vault_dir: "vault".into(),
            instance_key_file: "keys/instance.key".into(),
            vault_key_file: "keys/vault.age".into(),
            vault_key: None,
            vault_url: None,
            s3_endpoint: None,
            s3_region: None,
            s3_allow_http: false,
            max_evidence_bytes: 5 << 30,
            server: ServerSettings::default(),
            packs: PackSettings::default(),
        }
    }
}

impl Config {
    /// Reads the layered configuration of a workspace (the file need not exist yet).
    pub fn load(dir: &Path) -> Result<Config, StoreError> {
        let mut config: Config = Figment::from(Serialized::defaults(Config::default()))
            .merge(Toml::file(dir.join(CONFIG_FILE)))
            // EVIDENT_HOME names the workspace itself, not a setting in it.
            .merge(Env::prefixed("EVIDENT_").ignore(&["home"]).only(&[
                "organisation",
                "database_url",
                "vault_dir",
                "instance_key_file",
                "vault_key_file",
                "vault_key",
                "vault_url",
                "s3_endpoint",
                "s3_region",
                "s3_allow_http",
                "max_evidence_bytes",
            ]))
            .merge(
                Env::prefixed("EVIDENT_")
                    .only(&["tsa_url"])
                    .map(|_| "packs.tsa_url".into()),
            )
            .extract()
            .map_err(|e| StoreError::Config(format!("{}: {e}", dir.join(CONFIG_FILE).display())))?;
        if config.database_url.as_deref().is_some_and(|u| u.trim().is_empty()) {
            config.database_url = None;
        }
        config.packs.tsa_url = config
            .packs
            .tsa_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty());
        if let Some(url) = &config.packs.tsa_url {
            check_tsa_url(url).map_err(|reason| {
                StoreError::Config(format!(
                    "{}: packs.tsa_url {:?}: {reason}",
                    dir.join(CONFIG_FILE).display(),
                    crate::redact_url(url)
                ))
            })?;
        }
        Ok(config)
    }

    /// The file written by `evident init`: every setting, commented where it has a default.
    pub fn to_file_text(&self) -> String {
        let toml_str = |s: &str| toml_quote(s);
        format!(
            "# Evident workspace configuration. Environment variables EVIDENT_<SETTING> override these.\n\
             organisation = {}\n\n\
             # Leave unset to use the SQLite database in this folder (evident.db).\n\
             # database_url = \"postgres://user@host:5432/evident\"\n\
             {}\n\
             vault_dir = {}\n\
             instance_key_file = {}\n\
             vault_key_file = {}\n\
             # The vault key can come from EVIDENT_VAULT_KEY instead of the file.\n\n\
             # Keep evidence in an S3-compatible bucket (credentials from AWS_* variables):\n\
             # vault_url = \"s3://bucket/evidence\"\n\
             # s3_endpoint = \"https://s3.example.com\"\n\
             # s3_region = \"eu-west-1\"\n\
             {}\
             max_evidence_bytes = {}\n\n\
             # [server]\n\
             # require_totp = [\"admin\", \"compliance_manager\", \"auditor\"]\n\
             # session_hours = 12\n\
             # secure_cookies = true   # when a TLS proxy is in front\n\
             # max_upload_bytes = 104857600\n\
             # run_jobs = true         # scheduled collection and checks inside `evident serve`\n\
             # jobs_poll_ms = 30000\n\n\
             # An RFC 3161 time-stamping authority that time-stamps each evidence pack's manifest\n\
             # (or EVIDENT_TSA_URL). Unset: packs carry no timestamp and make no network request.\n\
             {}",
            toml_str(&self.organisation),
            match &self.database_url {
                Some(u) => format!("database_url = {}\n", toml_str(u)),
                None => String::new(),
            },
            toml_str(&self.vault_dir.to_string_lossy()),
            toml_str(&self.instance_key_file.to_string_lossy()),
            toml_str(&self.vault_key_file.to_string_lossy()),
            match &self.vault_url {
                Some(u) => format!(
                    "vault_url = {}\n{}{}s3_allow_http = {}\n",
                    toml_str(u),
                    self.s3_endpoint
                        .as_deref()
                        .map(|e| format!("s3_endpoint = {}\n", toml_str(e)))
                        .unwrap_or_default(),
                    self.s3_region
                        .as_deref()
                        .map(|r| format!("s3_region = {}\n", toml_str(r)))
                        .unwrap_or_default(),
                    self.s3_allow_http
                ),
                None => String::new(),
            },
            self.max_evidence_bytes,
            match &self.packs.tsa_url {
                Some(u) => format!("[packs]\ntsa_url = {}\n", toml_str(u)),
                None => "# [packs]\n# tsa_url = \"https://tsa.example.com/\"\n".to_string(),
            },
        )
    }
}

/// Why `url` cannot name a time-stamping authority, if it cannot.
fn check_tsa_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none_or(str::is_empty) {
        return Err("must be an http:// or https:// URL with a host".into());
    }
    Ok(())
}

/// A TOML basic string.
fn toml_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}
