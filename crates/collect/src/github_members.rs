//! GitHub organisation accounts: the members list, and beside it what GitHub exports about who
//! and what else holds access — the owners (`?role=admin`), the organisation's settings (2FA
//! required), the apps installed on it (machine identities), fine-grained personal access
//! tokens and, under SAML single sign-on, the authorised credentials and the identities that
//! give each login its work email.

use std::collections::{BTreeMap, BTreeSet};

use evident_core::facts::{AccessKey, Account};
use serde_json::Value;

use crate::{ImportError, Imported, bad, instant, json};

const SYSTEM: &str = "github";

fn s<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// What a companion file is, told by its shape.
enum Companion<'a> {
    Admins(&'a [Value]),
    Organisation(&'a Value),
    Installations(&'a [Value]),
    FineGrainedTokens(&'a [Value]),
    Credentials(&'a [Value]),
    SamlIdentities(&'a [Value]),
}

fn companion<'a>(name: &str, v: &'a Value) -> Result<Companion<'a>, ImportError> {
    if let Some(list) = v.as_array() {
        let first = list.first();
        return Ok(match first {
            None => Companion::Admins(list),
            Some(f) if f.get("token_id").is_some() && f.get("owner").is_some() => Companion::FineGrainedTokens(list),
            Some(f) if f.get("credential_type").is_some() => Companion::Credentials(list),
            Some(f) if f.get("login").is_some() && f.get("type").is_some() => Companion::Admins(list),
            Some(_) => return Err(unknown(name)),
        });
    }
    if let Some(list) = v.get("installations").and_then(Value::as_array) {
        return Ok(Companion::Installations(list));
    }
    if v.get("two_factor_requirement_enabled").is_some() {
        return Ok(Companion::Organisation(v));
    }
    let edges = v
        .pointer("/data/organization/samlIdentityProvider/externalIdentities/edges")
        .and_then(Value::as_array);
    if let Some(edges) = edges {
        return Ok(Companion::SamlIdentities(edges));
    }
    if v.pointer("/data/organization").is_some() {
        // An organisation without SAML single sign-on answers with a null provider.
        return Ok(Companion::SamlIdentities(&[]));
    }
    Err(unknown(name))
}

fn unknown(name: &str) -> ImportError {
    bad(
        name,
        "not a GitHub export this importer reads alongside members: expected the owners list \
         (GET /orgs/{org}/members?role=admin), the organisation (GET /orgs/{org}), its app \
         installations (GET /orgs/{org}/installations), fine-grained tokens \
         (GET /orgs/{org}/personal-access-tokens), credential authorizations \
         (GET /orgs/{org}/credential-authorizations) or the GraphQL SAML external identities",
    )
}

fn login_list(name: &str, list: &[Value], what: &str) -> Result<Vec<(String, Value)>, ImportError> {
    list.iter()
        .enumerate()
        .map(|(i, u)| {
            let login = s(u, "login").filter(|l| !l.is_empty()).ok_or_else(|| {
                bad(
                    name,
                    format!("{what} {}: no login; is this a GitHub users list?", i + 1),
                )
            })?;
            Ok((login.to_string(), u.clone()))
        })
        .collect()
}

fn since(v: &Value, key: &str) -> Option<i64> {
    s(v, key).and_then(instant)
}

/// An installed app's access counts as administrative when it may administer the organisation
/// or its repositories, or manage its members.
fn app_is_admin(permissions: Option<&Value>) -> bool {
    let Some(p) = permissions.and_then(Value::as_object) else {
        return false;
    };
    p.iter().any(|(k, v)| {
        let level = v.as_str().unwrap_or("");
        level == "admin"
            || (level == "write" && matches!(k.as_str(), "administration" | "organization_administration" | "members"))
    })
}

/// `GET /orgs/{org}/members`, with its companions (see the module's words) as `with`.
pub(crate) fn members(file: &str, bytes: &[u8], with: &[(String, Vec<u8>)]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    let Some(list) = v.as_array() else {
        return Err(bad(
            file,
            "not a GitHub members list (expected the JSON array GET /orgs/{org}/members returns)",
        ));
    };
    let members = login_list(file, list, "member")?;
    let parsed: Vec<(String, Value)> = with
        .iter()
        .map(|(n, b)| Ok((n.clone(), json(n, b)?)))
        .collect::<Result<_, ImportError>>()?;
    let mut admins = BTreeSet::new();
    let mut two_factor_required = None;
    let mut installations = Vec::new();
    let mut tokens: BTreeMap<String, Vec<(AccessKey, Option<i64>)>> = BTreeMap::new();
    let mut emails: BTreeMap<String, String> = BTreeMap::new();
    let mut warnings = Vec::new();
    for (name, v) in &parsed {
        match companion(name, v)? {
            Companion::Admins(list) => {
                admins.extend(
                    login_list(name, list, "owner")?
                        .into_iter()
                        .map(|(l, _)| l.to_lowercase()),
                );
            }
            Companion::Organisation(o) => {
                two_factor_required = o.get("two_factor_requirement_enabled").and_then(Value::as_bool);
            }
            Companion::Installations(list) => {
                for (i, inst) in list.iter().enumerate() {
                    let id = id_of(inst).ok_or_else(|| bad(name, format!("installation {}: no id", i + 1)))?;
                    let slug = s(inst, "app_slug")
                        .filter(|x| !x.is_empty())
                        .ok_or_else(|| bad(name, format!("installation {id}: no app_slug")))?;
                    installations.push(Account {
                        system: SYSTEM.into(),
                        external_id: format!("installation/{id}"),
                        username: format!("app/{slug}"),
                        email: None,
                        human: false,
                        mfa: None,
                        admin: app_is_admin(inst.get("permissions")),
                        root: false,
                        created_at: since(inst, "created_at"),
                        last_activity: None,
                        disabled_at: since(inst, "suspended_at"),
                        active: inst.get("suspended_at").is_none_or(Value::is_null),
                        access_keys: Vec::new(),
                    });
                }
            }
            Companion::FineGrainedTokens(list) => {
                for (i, t) in list.iter().enumerate() {
                    let owner = t
                        .pointer("/owner/login")
                        .and_then(Value::as_str)
                        .ok_or_else(|| bad(name, format!("token {}: no owner.login", i + 1)))?;
                    let token_id = t.get("token_id").map(|x| x.to_string()).unwrap_or_default();
                    let label = format!(
                        "fine-grained token '{}' ({token_id}){}",
                        s(t, "token_name").unwrap_or("unnamed"),
                        if t.get("token_expires_at").is_none_or(Value::is_null) {
                            ", no expiry"
                        } else {
                            ""
                        }
                    );
                    // GitHub says whether it has expired; importers keep no clock.
                    let expired = t.get("token_expired").and_then(Value::as_bool).unwrap_or(false);
                    tokens.entry(owner.to_lowercase()).or_default().push((
                        AccessKey {
                            label,
                            active: !expired,
                            last_rotated: since(t, "access_granted_at"),
                        },
                        since(t, "token_last_used_at"),
                    ));
                }
            }
            Companion::Credentials(list) => {
                for (i, c) in list.iter().enumerate() {
                    let login = s(c, "login").ok_or_else(|| bad(name, format!("credential {}: no login", i + 1)))?;
                    let kind = s(c, "credential_type").unwrap_or("credential");
                    let what = match (s(c, "token_last_eight"), s(c, "fingerprint")) {
                        (Some(last), _) => format!("{kind} …{last}"),
                        (None, Some(f)) => format!("{kind} {f}"),
                        _ => format!(
                            "{kind} {}",
                            c.get("credential_id").map(|x| x.to_string()).unwrap_or_default()
                        ),
                    };
                    tokens.entry(login.to_lowercase()).or_default().push((
                        AccessKey {
                            label: what,
                            active: true,
                            last_rotated: since(c, "credential_authorized_at"),
                        },
                        since(c, "credential_accessed_at"),
                    ));
                }
            }
            Companion::SamlIdentities(edges) => {
                for e in edges {
                    let login = e.pointer("/node/user/login").and_then(Value::as_str);
                    let email = e.pointer("/node/samlIdentity/nameId").and_then(Value::as_str);
                    if let (Some(l), Some(m)) = (login, email.filter(|m| m.contains('@'))) {
                        emails.insert(l.to_lowercase(), m.trim().to_lowercase());
                    }
                }
            }
        }
    }
    let mut accounts = Vec::with_capacity(members.len() + installations.len());
    for (login, u) in &members {
        let key = login.to_lowercase();
        let id = id_of(u).ok_or_else(|| bad(file, format!("member {login}: no id")))?;
        let held = tokens.remove(&key).unwrap_or_default();
        let human = s(u, "type") != Some("Bot");
        accounts.push(Account {
            system: SYSTEM.into(),
            external_id: id,
            username: login.clone(),
            email: emails
                .get(&key)
                .cloned()
                .or_else(|| s(u, "email").map(str::to_lowercase)),
            human,
            // Members' own 2FA state is not in the list; an organisation that requires it has
            // removed everyone without it.
            mfa: two_factor_required.filter(|r| *r).map(|_| true),
            admin: admins.contains(&key),
            root: false,
            created_at: None,
            last_activity: held.iter().filter_map(|(_, used)| *used).max(),
            disabled_at: None,
            active: true,
            access_keys: held.into_iter().map(|(k, _)| k).collect(),
        });
    }
    for (login, held) in tokens {
        warnings.push(format!(
            "{file}: {} credential(s) of '{login}', who is not in the members list, were not taken; export both lists at the same time",
            held.len()
        ));
    }
    for a in &admins {
        if !members.iter().any(|(l, _)| l.eq_ignore_ascii_case(a)) {
            warnings.push(format!("{file}: owner '{a}' is not in the members list"));
        }
    }
    accounts.extend(installations);
    Ok(Imported {
        system: SYSTEM.into(),
        accounts,
        replaces_accounts: true,
        warnings,
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn file(v: Value) -> Vec<u8> {
        serde_json::to_vec(&v).unwrap()
    }

    #[test]
    fn members_owners_apps_tokens_and_emails() {
        let list = json!([
            {"login": "octocat", "id": 1, "type": "User", "site_admin": false},
            {"login": "hubot", "id": 2, "type": "User"},
            {"login": "deploy-bot", "id": 3, "type": "Bot"}
        ]);
        let with = vec![
            (
                "admins.json".to_string(),
                file(json!([{"login": "Octocat", "id": 1, "type": "User"}])),
            ),
            (
                "org.json".to_string(),
                file(json!({"login": "acme", "two_factor_requirement_enabled": true})),
            ),
            (
                "installations.json".to_string(),
                file(json!({"total_count": 2, "installations": [
                    {"id": 25381, "app_id": 1, "app_slug": "octoapp", "permissions": {"metadata": "read", "administration": "write"},
                     "created_at": "2024-07-08T16:18:44-04:00", "suspended_at": null},
                    {"id": 25382, "app_slug": "old-ci", "permissions": {"checks": "write"},
                     "created_at": "2023-01-01T00:00:00Z", "suspended_at": "2025-02-01T00:00:00Z"}
                ]})),
            ),
            (
                "tokens.json".to_string(),
                file(
                    json!([{"id": 25381, "owner": {"login": "hubot"}, "token_id": 98716, "token_name": "Deploys",
                     "token_expired": false, "token_expires_at": null, "access_granted_at": "2025-05-16T08:47:09.000-07:00",
                     "token_last_used_at": "2026-11-01T10:00:00Z"}]),
                ),
            ),
            (
                "credentials.json".to_string(),
                file(
                    json!([{"login": "octocat", "credential_id": 161195, "credential_type": "SSH key",
                     "fingerprint": "jklmnop12345678", "credential_authorized_at": "2026-01-26T19:06:43Z",
                     "credential_accessed_at": null},
                    {"login": "ghost", "credential_id": 7, "credential_type": "personal access token", "token_last_eight": "71c3fc11"}]),
                ),
            ),
            (
                "saml.json".to_string(),
                file(
                    json!({"data": {"organization": {"samlIdentityProvider": {"externalIdentities": {"edges": [
                        {"node": {"samlIdentity": {"nameId": "Octo.Cat@acme.example"}, "user": {"login": "octocat"}}}
                    ]}}}}}),
                ),
            ),
        ];
        let got = members("members.json", &file(list), &with).unwrap();
        assert!(got.replaces_accounts);
        let by = |u: &str| got.accounts.iter().find(|a| a.username == u).unwrap();
        let octo = by("octocat");
        assert_eq!(
            (octo.admin, octo.mfa, octo.email.as_deref()),
            (true, Some(true), Some("octo.cat@acme.example"))
        );
        assert_eq!(octo.access_keys[0].label, "SSH key jklmnop12345678");
        let hubot = by("hubot");
        assert!(!hubot.admin && hubot.email.is_none());
        assert_eq!(
            hubot.access_keys[0].label,
            "fine-grained token 'Deploys' (98716), no expiry"
        );
        assert!(hubot.access_keys[0].last_rotated.is_some() && hubot.last_activity.is_some());
        assert!(!by("deploy-bot").human);
        let app = by("app/octoapp");
        assert!(!app.human && app.admin && app.active && app.external_id == "installation/25381");
        assert!(!by("app/old-ci").active && !by("app/old-ci").admin);
        assert_eq!(got.warnings.len(), 1, "{:?}", got.warnings);
        assert!(got.warnings[0].contains("'ghost'"));
    }

    #[test]
    fn bad_companions_and_lists_are_refused_by_name() {
        let ok = file(json!([{"login": "a", "id": 1, "type": "User"}]));
        let e = members("m.json", &ok, &[("x.json".into(), file(json!({"hello": 1})))]).unwrap_err();
        assert_eq!(e.file, "x.json");
        let e = members("m.json", &file(json!({"login": "a"})), &[]).unwrap_err();
        assert!(e.reason.contains("members list"), "{e}");
        let e = members("m.json", &file(json!([{"id": 1}])), &[]).unwrap_err();
        assert!(e.reason.contains("member 1: no login"), "{e}");
        let e = members(
            "m.json",
            &ok,
            &[("i.json".into(), file(json!({"installations": [{"id": 3}]})))],
        )
        .unwrap_err();
        assert!(e.file == "i.json" && e.reason.contains("no app_slug"), "{e}");
    }
}
