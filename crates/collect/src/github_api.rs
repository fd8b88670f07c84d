//! The live GitHub connector: repositories of an organisation, the rules protecting each
//! default branch, and merged pull requests with their reviews. Follows `Link` pagination,
//! waits out rate limits, retries server errors, and keeps every page it fetched so a failed
//! run still leaves its evidence.

use std::sync::Mutex;
use std::time::Duration;

use evident_core::facts::Imported;
use serde_json::{Value, json};

use crate::github::{changes_from, protections_from, rulesets_from};
use crate::instant;

/// One response as received: what a collection run keeps as evidence.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Page {
    pub url: String,
    pub status: u16,
    pub body: Value,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ApiError {
    #[error("{url}: the connection failed ({reason})")]
    Network { url: String, reason: String },
    #[error("{url}: GitHub answered {status}: {message}")]
    Status { url: String, status: u16, message: String },
    #[error("{url}: still rate limited after waiting {waits} times")]
    RateLimited { url: String, waits: u32 },
    #[error("{url}: the response is not JSON")]
    Body { url: String },
    /// The response holds text that may not be stored (`problem` names where and why).
    #[error("{url}: {problem}")]
    Unstorable { url: String, problem: String },
}

pub struct GithubApi {
    base: String,
    token: String,
    http: reqwest::Client,
    /// First retry delay; doubles each time.
    pub backoff: Duration,
    /// The longest single wait for a rate limit to reset.
    pub max_wait: Duration,
    pub retries: u32,
    pages: Mutex<Vec<Page>>,
}

fn next_link(headers: &reqwest::header::HeaderMap) -> Option<String> {
    let link = headers.get("link")?.to_str().ok()?;
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        rel.contains("rel=\"next\"")
            .then(|| url.trim().trim_start_matches('<').trim_end_matches('>').to_string())
    })
}

fn header_i64(headers: &reqwest::header::HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

impl GithubApi {
    pub fn new(base: &str, token: &str) -> GithubApi {
        // reqwest's TLS needs a process-wide provider; a second install is a harmless no-op.
        let _ = rustls::crypto::ring::default_provider().install_default();
        GithubApi {
            base: base.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::builder()
                .user_agent("evident-connector")
                .timeout(Duration::from_secs(60))
                .build()
                .expect("an HTTP client with default settings"),
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(15 * 60),
            retries: 3,
            pages: Mutex::new(Vec::new()),
        }
    }

    /// Every page fetched so far.
    pub fn take_pages(&self) -> Vec<Page> {
        std::mem::take(&mut *self.pages.lock().expect("pages lock"))
    }

    /// One GET with retries and rate-limit waits; `Ok(None)` for 404.
    async fn get(&self, url: &str) -> Result<Option<(Value, Option<String>)>, ApiError> {
        let mut attempt = 0;
        let mut waits = 0;
        loop {
            let sent = self
                .http
                .get(url)
                .bearer_auth(&self.token)
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", "2022-11-28")
                .send()
                .await;
            let resp = match sent {
                Ok(r) => r,
                Err(e) if attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
                    let _ = e;
                    continue;
                }
                Err(e) => {
                    return Err(ApiError::Network {
                        url: url.into(),
                        reason: e.to_string(),
                    });
                }
            };
            let status = resp.status().as_u16();
            let headers = resp.headers().clone();
            let text = resp.text().await.map_err(|e| ApiError::Network {
                url: url.into(),
                reason: e.to_string(),
            })?;
            let body: Value = serde_json::from_str(&text).unwrap_or(Value::String(text.clone()));
            self.pages.lock().expect("pages lock").push(Page {
                url: url.into(),
                status,
                body: body.clone(),
            });
            let limited = matches!(status, 403 | 429)
                && (header_i64(&headers, "x-ratelimit-remaining") == Some(0) || headers.contains_key("retry-after"));
            if limited {
                waits += 1;
                if waits > 5 {
                    return Err(ApiError::RateLimited {
                        url: url.into(),
                        waits: waits - 1,
                    });
                }
                let now = time::OffsetDateTime::now_utc().unix_timestamp();
                let secs = header_i64(&headers, "retry-after")
                    .or_else(|| header_i64(&headers, "x-ratelimit-reset").map(|reset| reset - now))
                    .unwrap_or(60)
                    .max(1) as u64;
                tokio::time::sleep(Duration::from_secs(secs).min(self.max_wait)).await;
                continue;
            }
            match status {
                200..=299 => {
                    if !text.trim().is_empty() && serde_json::from_str::<Value>(&text).is_err() {
                        return Err(ApiError::Body { url: url.into() });
                    }
                    if let Some(problem) = crate::unstorable(&body) {
                        return Err(ApiError::Unstorable {
                            url: url.into(),
                            problem,
                        });
                    }
                    return Ok(Some((body, next_link(&headers))));
                }
                404 => return Ok(None),
                500..=599 if attempt < self.retries => {
                    attempt += 1;
                    tokio::time::sleep(self.backoff * 2u32.pow(attempt - 1)).await;
                }
                _ => {
                    let message = body.get("message").and_then(Value::as_str).unwrap_or("").to_string();
                    return Err(ApiError::Status {
                        url: url.into(),
                        status,
                        message,
                    });
                }
            }
        }
    }

    /// Every item of a paginated list; `keep_going` may stop early (newest-first lists).
    async fn get_all(&self, path: &str, keep_going: impl Fn(&Value) -> bool) -> Result<Vec<Value>, ApiError> {
        let mut url = Some(format!("{}{path}", self.base));
        let mut out = Vec::new();
        while let Some(u) = url.take() {
            let Some((body, next)) = self.get(&u).await? else { break };
            let items = body.as_array().cloned().unwrap_or_default();
            let all = items.iter().all(&keep_going);
            out.extend(items.into_iter().filter(|i| keep_going(i)));
            if all {
                url = next;
            }
        }
        Ok(out)
    }

    /// Collects an organisation: protections of each default branch and the pull requests
    /// merged since `since_ms`. On failure, what was fetched stays in [`Self::take_pages`].
    pub async fn collect_org(&self, org: &str, since_ms: i64) -> Result<Imported, ApiError> {
        let repos = self
            .get_all(&format!("/orgs/{org}/repos?per_page=100&type=all"), |_| true)
            .await?;
        let mut imported = Imported {
            system: "github".into(),
            ..Default::default()
        };
        for repo in repos
            .iter()
            .filter(|r| !r.get("archived").and_then(Value::as_bool).unwrap_or(false))
        {
            let Some(full) = repo.get("full_name").and_then(Value::as_str) else {
                continue;
            };
            let branch = repo.get("default_branch").and_then(Value::as_str).unwrap_or("main");
            let file = format!("{}/repos/{full}", self.base);
            if let Some((body, _)) = self
                .get(&format!("{}/repos/{full}/branches/{branch}/protection", self.base))
                .await?
            {
                imported
                    .protections
                    .extend(protections_from(&file, &body).map_err(|e| ApiError::Body { url: e.to_string() })?);
            }
            // The rules in force on the default branch, whichever rulesets they come from.
            let rules = self
                .get(&format!("{}/repos/{full}/rules/branches/{branch}", self.base))
                .await?;
            if let Some((rules, _)) = rules.filter(|(r, _)| r.as_array().is_some_and(|r| !r.is_empty())) {
                let as_ruleset = json!({"id": 0, "target": "branch", "enforcement": "active", "source": full,
                    "conditions": {"ref_name": {"include": [branch]}}, "rules": rules});
                let mut ps =
                    rulesets_from(&file, &as_ruleset, Some(full)).map_err(|e| ApiError::Body { url: e.to_string() })?;
                for p in &mut ps {
                    p.source = "rules".into();
                }
                imported.protections.extend(ps);
            }
            let recent = |p: &Value| {
                p.get("updated_at")
                    .and_then(Value::as_str)
                    .and_then(instant)
                    .is_none_or(|t| t >= since_ms)
            };
            let pulls = self
                .get_all(
                    &format!("/repos/{full}/pulls?state=closed&sort=updated&direction=desc&per_page=100"),
                    recent,
                )
                .await?;
            let merged: Vec<Value> = pulls
                .into_iter()
                .filter(|p| {
                    p.get("merged_at")
                        .and_then(Value::as_str)
                        .and_then(instant)
                        .is_some_and(|t| t >= since_ms)
                })
                .collect();
            let mut reviews = Vec::new();
            for p in &merged {
                let n = p.get("number").and_then(Value::as_i64).unwrap_or_default();
                let list = self
                    .get_all(&format!("/repos/{full}/pulls/{n}/reviews?per_page=100"), |_| true)
                    .await?;
                reviews.push((format!("{file}/pulls/{n}/reviews"), Value::Array(list)));
            }
            imported.changes.extend(
                changes_from(&file, &Value::Array(merged), &reviews)
                    .map_err(|e| ApiError::Body { url: e.to_string() })?,
            );
        }
        Ok(imported)
    }
}
