//! Identity providers: Okta and Google Workspace user lists.

use std::collections::BTreeMap;

use evident_core::facts::Account;
use serde_json::Value;

use crate::{ImportError, Imported, bad, instant, json, looks_like};

fn s<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter().try_fold(v, |v, k| v.get(k)).and_then(Value::as_str)
}

/// Okta users, plus optional factor lists (one per user, as `GET /users/{id}/factors` returns).
pub(crate) fn okta(file: &str, bytes: &[u8], with: &[(String, Vec<u8>)]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    let users = v.as_array().filter(|a| {
        a.first()
            .is_none_or(|u| u.get("profile").and_then(|p| p.get("login")).is_some())
    });
    let Some(users) = users else {
        return Err(bad(
            file,
            format!(
                "not an Okta users list (expected an array of users with profile.login); it looks like {}",
                looks_like(&v)
            ),
        ));
    };
    // user id -> has an active factor the access policy accepts
    let mut mfa: BTreeMap<String, bool> = BTreeMap::new();
    let mut weak_only: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (name, bytes) in with {
        let f = json(name, bytes)?;
        let Some(factors) = f.as_array().filter(|a| a.iter().all(|x| x.get("factorType").is_some())) else {
            return Err(bad(
                name,
                format!("not an Okta factors list; it looks like {}", looks_like(&f)),
            ));
        };
        for factor in factors {
            let href = s(factor, &["_links", "self", "href"]).unwrap_or_default();
            let user = href
                .split("/users/")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .filter(|u| !u.is_empty());
            let Some(user) = user else {
                return Err(bad(name, "a factor has no _links.self.href naming its user"));
            };
            let active = s(factor, &["status"]) == Some("ACTIVE");
            // The access policy takes app, push and hardware factors; a code by text message
            // or voice call, an email link or a security question is not a second factor it
            // accepts.
            let weak = matches!(s(factor, &["factorType"]), Some("sms" | "call" | "email" | "question"));
            if active && weak {
                weak_only.insert(user.to_string());
            }
            *mfa.entry(user.to_string()).or_default() |= active && !weak;
        }
    }
    let mut accounts = Vec::new();
    for (i, u) in users.iter().enumerate() {
        let id = s(u, &["id"]).ok_or_else(|| bad(file, format!("user {} has no id", i + 1)))?;
        let login = s(u, &["profile", "login"]).ok_or_else(|| bad(file, format!("user {id} has no profile.login")))?;
        let status = s(u, &["status"]).unwrap_or("ACTIVE");
        let inactive = matches!(status, "DEPROVISIONED" | "SUSPENDED");
        accounts.push(Account {
            system: "okta".into(),
            external_id: id.into(),
            username: login.into(),
            email: s(u, &["profile", "email"]).or(Some(login)).map(str::to_lowercase),
            human: true,
            mfa: if with.is_empty() {
                None
            } else {
                Some(mfa.get(id).copied().unwrap_or(false))
            },
            admin: false,
            root: false,
            created_at: s(u, &["created"]).and_then(instant),
            last_activity: s(u, &["lastLogin"]).and_then(instant),
            disabled_at: if inactive {
                s(u, &["statusChanged"]).and_then(instant)
            } else {
                None
            },
            active: !inactive,
            access_keys: Vec::new(),
        });
    }
    let warnings = accounts
        .iter()
        .filter(|a| a.mfa == Some(false) && weak_only.contains(&a.external_id))
        .map(|a| {
            format!(
                "{}: only text-message, voice, email or security-question factors, which do not count as MFA",
                a.username
            )
        })
        .collect();
    Ok(Imported {
        system: "okta".into(),
        accounts,
        findings: Vec::new(),
        scope: None,
        observed_at: None,
        replaces_accounts: true,
        warnings,
        ..Default::default()
    })
}

pub(crate) fn google_workspace(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    if v.get("kind").and_then(Value::as_str) != Some("admin#directory#users") {
        return Err(bad(
            file,
            format!(
                "not a Google Workspace users.list response (kind admin#directory#users); it looks like {}",
                looks_like(&v)
            ),
        ));
    }
    let users = v.get("users").and_then(Value::as_array).cloned().unwrap_or_default();
    let mut accounts = Vec::new();
    for u in &users {
        let email = s(u, &["primaryEmail"]).ok_or_else(|| bad(file, "a user has no primaryEmail"))?;
        let flag = |k: &str| u.get(k).and_then(Value::as_bool).unwrap_or(false);
        let suspended = flag("suspended") || flag("archived");
        accounts.push(Account {
            system: "google-workspace".into(),
            external_id: s(u, &["id"]).unwrap_or(email).into(),
            username: email.into(),
            email: Some(email.to_lowercase()),
            human: true,
            mfa: Some(flag("isEnrolledIn2Sv")),
            admin: flag("isAdmin") || flag("isDelegatedAdmin"),
            root: false,
            created_at: s(u, &["creationTime"]).and_then(instant),
            // Google reports 1970-01-01 for "never signed in".
            last_activity: s(u, &["lastLoginTime"]).and_then(instant).filter(|t| *t > 0),
            disabled_at: None,
            active: !suspended,
            access_keys: Vec::new(),
        });
    }
    Ok(Imported {
        system: "google-workspace".into(),
        accounts,
        findings: Vec::new(),
        scope: None,
        observed_at: None,
        replaces_accounts: true,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: &str = r#"[
      {"id": "u1", "status": "ACTIVE", "created": "2023-01-10T18:24:36.000Z", "lastLogin": "2026-11-01T08:00:00.000Z",
       "profile": {"login": "Ana@Acme.example", "email": "ana@acme.example"}},
      {"id": "u2", "status": "DEPROVISIONED", "statusChanged": "2026-10-01T00:00:00.000Z",
       "profile": {"login": "ben@acme.example", "email": "ben@acme.example"}}
    ]"#;
    const FACTORS: &str = r#"[{"id": "f1", "factorType": "webauthn", "status": "ACTIVE",
       "_links": {"self": {"href": "https://x.okta.com/api/v1/users/u1/factors/f1"}}}]"#;

    #[test]
    fn okta_users_and_factors() {
        let got = okta(
            "users.json",
            USERS.as_bytes(),
            &[("f.json".into(), FACTORS.as_bytes().to_vec())],
        )
        .unwrap();
        assert_eq!(got.accounts[0].email.as_deref(), Some("ana@acme.example"));
        assert_eq!(got.accounts[0].mfa, Some(true));
        assert_eq!(got.accounts[1].mfa, Some(false));
        assert!(!got.accounts[1].active && got.accounts[1].disabled_at.is_some());
        let without = okta("users.json", USERS.as_bytes(), &[]).unwrap();
        assert_eq!(without.accounts[0].mfa, None, "unknown without factor lists");
    }

    #[test]
    fn text_message_and_voice_factors_are_not_mfa() {
        let factors = r#"[
          {"id": "f1", "factorType": "sms", "status": "ACTIVE", "_links": {"self": {"href": "https://x.okta.com/api/v1/users/u1/factors/f1"}}},
          {"id": "f2", "factorType": "call", "status": "ACTIVE", "_links": {"self": {"href": "https://x.okta.com/api/v1/users/u1/factors/f2"}}},
          {"id": "f3", "factorType": "sms", "status": "ACTIVE", "_links": {"self": {"href": "https://x.okta.com/api/v1/users/u2/factors/f3"}}},
          {"id": "f4", "factorType": "token:software:totp", "status": "ACTIVE", "_links": {"self": {"href": "https://x.okta.com/api/v1/users/u2/factors/f4"}}}
        ]"#;
        let got = okta(
            "users.json",
            USERS.as_bytes(),
            &[("f.json".into(), factors.as_bytes().to_vec())],
        )
        .unwrap();
        assert_eq!(got.accounts[0].mfa, Some(false), "SMS and voice only");
        assert_eq!(got.accounts[1].mfa, Some(true), "an app factor besides SMS counts");
        assert_eq!(got.warnings.len(), 1);
        assert!(
            got.warnings[0].starts_with("Ana@Acme.example: only text-message"),
            "{:?}",
            got.warnings
        );
    }

    #[test]
    fn wrong_files_are_named() {
        let err = okta("x.json", br#"{"kind": "admin#directory#users", "users": []}"#, &[]).unwrap_err();
        assert!(
            err.to_string().contains("looks like a Google Workspace users list"),
            "{err}"
        );
        let err = okta(
            "users.json",
            USERS.as_bytes(),
            &[("f.json".into(), USERS.as_bytes().to_vec())],
        )
        .unwrap_err();
        assert!(err.to_string().starts_with("f.json: not an Okta factors list"), "{err}");
        let err = google_workspace("g.json", USERS.as_bytes()).unwrap_err();
        assert!(err.to_string().contains("looks like an Okta users list"), "{err}");
        assert!(
            google_workspace("g.json", b"{\"kind\": \"admin#dir")
                .unwrap_err()
                .to_string()
                .contains("not valid JSON")
        );
    }

    #[test]
    fn google_workspace_users() {
        let doc = r#"{"kind": "admin#directory#users", "users": [
          {"id": "1", "primaryEmail": "ana@acme.example", "isAdmin": true, "isEnrolledIn2Sv": true, "suspended": false,
           "lastLoginTime": "2026-11-01T00:00:00.000Z", "creationTime": "2023-01-01T00:00:00.000Z"},
          {"id": "2", "primaryEmail": "old@acme.example", "isAdmin": false, "isEnrolledIn2Sv": false, "suspended": true,
           "lastLoginTime": "1970-01-01T00:00:00.000Z"}]}"#;
        let got = google_workspace("g.json", doc.as_bytes()).unwrap();
        assert!(got.accounts[0].admin && got.accounts[0].mfa == Some(true));
        assert!(!got.accounts[1].active && got.accounts[1].last_activity.is_none());
    }

    #[test]
    fn reference_samples_when_present() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/samples/");
        let (Ok(users), Ok(factors), Ok(google)) = (
            std::fs::read(format!("{dir}okta_users_sample.json")),
            std::fs::read(format!("{dir}okta_user_factors_sample.json")),
            std::fs::read(format!("{dir}google_workspace_users_list_sample.json")),
        ) else {
            eprintln!("SKIPPED: {dir} not found (../shared/reference is not beside this clone)");
            return;
        };
        let got = okta("okta_users_sample.json", &users, &[("factors.json".into(), factors)]).unwrap();
        assert!(got.accounts.iter().any(|a| a.mfa == Some(true)));
        let got = google_workspace("google.json", &google).unwrap();
        assert!(!got.accounts.is_empty());
    }
}
