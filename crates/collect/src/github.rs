//! GitHub REST responses saved to files: branch protection, repository rulesets, and merged
//! pull requests with their reviews.

use std::collections::BTreeMap;

use evident_core::facts::{Change, Imported, Protection};
use serde_json::Value;

use crate::{ImportError, bad, instant, json};

fn enabled(v: &Value, key: &str) -> bool {
    v.get(key)
        .and_then(|x| x.get("enabled"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// `https://api.github.com/repos/{owner}/{repo}/...` → `owner/repo` and the rest.
fn repo_of(url: &str) -> Option<(String, String)> {
    let rest = url.split("/repos/").nth(1)?;
    let mut parts = rest.splitn(3, '/');
    let (owner, repo) = (parts.next()?, parts.next()?);
    Some((format!("{owner}/{repo}"), parts.next().unwrap_or("").to_string()))
}

fn items(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    }
}

pub(crate) fn branch_protection(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let protections = protections_from(file, &json(file, bytes)?)?;
    Ok(Imported {
        system: "github".into(),
        protections,
        ..Default::default()
    })
}

pub(crate) fn protections_from(file: &str, v: &Value) -> Result<Vec<Protection>, ImportError> {
    let mut protections = Vec::new();
    for p in items(v) {
        let url = p.get("url").and_then(Value::as_str).unwrap_or("");
        let (repository, rest) = repo_of(url)
            .filter(|(_, r)| r.starts_with("branches/") && r.ends_with("/protection"))
            .ok_or_else(|| {
                bad(
                    file,
                    "not a GitHub branch protection response (its url should end in /branches/<branch>/protection)",
                )
            })?;
        let branch = rest
            .trim_start_matches("branches/")
            .trim_end_matches("/protection")
            .to_string();
        let reviews = p.get("required_pull_request_reviews");
        protections.push(Protection {
            repository,
            branch,
            source: "branch-protection".into(),
            required_approvals: reviews
                .and_then(|r| r.get("required_approving_review_count"))
                .and_then(Value::as_i64)
                // Reviews required with no count set means one.
                .unwrap_or(if reviews.is_some() { 1 } else { 0 }),
            dismiss_stale_reviews: reviews
                .and_then(|r| r.get("dismiss_stale_reviews"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            code_owner_reviews: reviews
                .and_then(|r| r.get("require_code_owner_reviews"))
                .and_then(Value::as_bool)
                .unwrap_or(false),
            status_checks: p
                .pointer("/required_status_checks/contexts")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
                .unwrap_or_default(),
            enforce_admins: enabled(p, "enforce_admins"),
            allows_force_pushes: enabled(p, "allow_force_pushes"),
        });
    }
    Ok(protections)
}

pub(crate) fn rulesets(file: &str, bytes: &[u8]) -> Result<Imported, ImportError> {
    let protections = rulesets_from(file, &json(file, bytes)?, None)?;
    Ok(Imported {
        system: "github".into(),
        protections,
        ..Default::default()
    })
}

/// `repository` names the repository of rulesets listed per repository.
pub(crate) fn rulesets_from(file: &str, v: &Value, repository: Option<&str>) -> Result<Vec<Protection>, ImportError> {
    let mut protections = Vec::new();
    for r in items(v) {
        let (Some(id), Some(rules)) = (
            r.get("id").and_then(Value::as_i64),
            r.get("rules").and_then(Value::as_array),
        ) else {
            return Err(bad(file, "not a GitHub repository ruleset (each needs id and rules)"));
        };
        if r.get("enforcement").and_then(Value::as_str) != Some("active")
            || r.get("target").and_then(Value::as_str).is_some_and(|t| t != "branch")
        {
            continue;
        }
        let repository = r
            .get("source")
            .and_then(Value::as_str)
            .or(repository)
            .map(str::to_string)
            .ok_or_else(|| bad(file, format!("ruleset {id} has no source (owner/repo)")))?;
        let rule = |t: &str| rules.iter().find(|x| x.get("type").and_then(Value::as_str) == Some(t));
        let pr = rule("pull_request").and_then(|x| x.get("parameters"));
        let includes: Vec<String> = r
            .pointer("/conditions/ref_name/include")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|b| b.trim_start_matches("refs/heads/").to_string())
                    .collect()
            })
            .unwrap_or_else(|| vec!["~DEFAULT_BRANCH".into()]);
        for branch in includes {
            protections.push(Protection {
                repository: repository.clone(),
                branch,
                source: format!("ruleset:{id}"),
                required_approvals: pr
                    .and_then(|p| p.get("required_approving_review_count"))
                    .and_then(Value::as_i64)
                    .unwrap_or(0),
                dismiss_stale_reviews: pr
                    .and_then(|p| p.get("dismiss_stale_reviews_on_push"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                code_owner_reviews: pr
                    .and_then(|p| p.get("require_code_owner_review"))
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                status_checks: rule("required_status_checks")
                    .and_then(|x| x.pointer("/parameters/required_status_checks"))
                    .and_then(Value::as_array)
                    .map(|a| {
                        a.iter()
                            .filter_map(|c| c.get("context").and_then(Value::as_str))
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                enforce_admins: r
                    .get("bypass_actors")
                    .and_then(Value::as_array)
                    .is_none_or(|a| a.is_empty()),
                allows_force_pushes: rule("non_fast_forward").is_none(),
            });
        }
    }
    Ok(protections)
}

/// Closed pull requests (`GET /repos/{o}/{r}/pulls?state=closed`) with each one's reviews
/// (`GET /repos/{o}/{r}/pulls/{n}/reviews`) as companion files. Unmerged ones are skipped.
pub(crate) fn pull_requests(file: &str, bytes: &[u8], with: &[(String, Vec<u8>)]) -> Result<Imported, ImportError> {
    let v = json(file, bytes)?;
    let mut lists = Vec::new();
    for (name, bytes) in with {
        lists.push((name.clone(), json(name, bytes)?));
    }
    let changes = changes_from(file, &v, &lists)?;
    Ok(Imported {
        system: "github".into(),
        changes,
        ..Default::default()
    })
}

/// Merged pulls from a pull list and review lists (each named for messages).
pub(crate) fn changes_from(file: &str, v: &Value, with: &[(String, Value)]) -> Result<Vec<Change>, ImportError> {
    let Some(pulls) = v
        .as_array()
        .filter(|a| a.iter().all(|p| p.get("number").is_some() && p.get("user").is_some()))
    else {
        return Err(bad(
            file,
            "not a GitHub pull request list (an array of pulls with number and user)",
        ));
    };
    // (repo, number) -> reviewer -> (time, state); the latest review of each reviewer counts.
    let mut reviews: BTreeMap<(String, i64), BTreeMap<String, (i64, String)>> = BTreeMap::new();
    for (name, list) in with {
        let Some(list) = list.as_array().filter(|a| {
            a.iter()
                .all(|r| r.get("state").is_some() && r.get("pull_request_url").is_some())
        }) else {
            return Err(bad(name, "not a GitHub pull request reviews list"));
        };
        for r in list {
            let url = r["pull_request_url"].as_str().unwrap_or("");
            let Some((repo, rest)) = repo_of(url) else {
                return Err(bad(
                    name,
                    format!("review pull_request_url '{url}' names no repository"),
                ));
            };
            let number = rest
                .trim_start_matches("pulls/")
                .parse::<i64>()
                .map_err(|_| bad(name, format!("'{url}' names no pull request")))?;
            let login = r
                .pointer("/user/login")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string();
            let at = r
                .get("submitted_at")
                .and_then(Value::as_str)
                .and_then(instant)
                .unwrap_or(0);
            let state = r["state"].as_str().unwrap_or("").to_string();
            let entry = reviews
                .entry((repo, number))
                .or_default()
                .entry(login)
                .or_insert((at, state.clone()));
            if at >= entry.0 && state != "COMMENTED" {
                *entry = (at, state);
            }
        }
    }
    let mut changes = Vec::new();
    for p in pulls {
        let Some(merged_at) = p.get("merged_at").and_then(Value::as_str).and_then(instant) else {
            continue;
        };
        let number = p["number"]
            .as_i64()
            .ok_or_else(|| bad(file, "a pull request number is not a number"))?;
        let repository = p
            .pointer("/base/repo/full_name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| p.get("url").and_then(Value::as_str).and_then(repo_of).map(|(r, _)| r))
            .ok_or_else(|| bad(file, format!("pull request {number} names no repository")))?;
        let author = p
            .pointer("/user/login")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let approvers = reviews
            .get(&(repository.clone(), number))
            .map(|m| {
                m.iter()
                    .filter(|(who, (_, s))| s == "APPROVED" && **who != author)
                    .map(|(who, _)| who.clone())
                    .collect()
            })
            .unwrap_or_default();
        changes.push(Change {
            title: p.get("title").and_then(Value::as_str).unwrap_or("").to_string(),
            repository,
            number,
            author,
            merged_at,
            approvers,
        });
    }
    Ok(changes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_and_rulesets() {
        let bp = br#"{"url": "https://api.github.com/repos/acme/api/branches/main/protection",
            "required_pull_request_reviews": {"required_approving_review_count": 2, "dismiss_stale_reviews": true},
            "required_status_checks": {"contexts": ["ci"]}, "enforce_admins": {"enabled": true}, "allow_force_pushes": {"enabled": false}}"#;
        let p = &branch_protection("bp.json", bp).unwrap().protections[0];
        assert_eq!(
            (p.repository.as_str(), p.branch.as_str(), p.required_approvals),
            ("acme/api", "main", 2)
        );
        assert!(p.enforce_admins && !p.allows_force_pushes);
        let rs = br#"[{"id": 7, "name": "main", "target": "branch", "enforcement": "active", "source": "acme/web", "bypass_actors": [],
            "conditions": {"ref_name": {"include": ["~DEFAULT_BRANCH"], "exclude": []}},
            "rules": [{"type": "pull_request", "parameters": {"required_approving_review_count": 1}}, {"type": "non_fast_forward"}]},
            {"id": 8, "target": "branch", "enforcement": "evaluate", "source": "acme/web", "rules": []}]"#;
        let got = rulesets("rs.json", rs).unwrap().protections;
        assert_eq!(got.len(), 1, "rulesets only evaluated are not enforced");
        assert_eq!(
            (
                got[0].branch.as_str(),
                got[0].source.as_str(),
                got[0].required_approvals
            ),
            ("~DEFAULT_BRANCH", "ruleset:7", 1)
        );
        assert!(!got[0].allows_force_pushes);
        assert!(
            branch_protection("x.json", rs)
                .unwrap_err()
                .to_string()
                .contains("not a GitHub branch protection")
        );
    }

    #[test]
    fn merged_pulls_with_independent_approvals() {
        let pulls = br#"[
          {"number": 12, "title": "Add audit trail", "user": {"login": "ana"}, "merged_at": "2026-11-01T10:00:00Z", "base": {"repo": {"full_name": "acme/api"}}},
          {"number": 13, "title": "Self-approved", "user": {"login": "ben"}, "merged_at": "2026-11-02T10:00:00Z", "base": {"repo": {"full_name": "acme/api"}}},
          {"number": 14, "title": "Closed unmerged", "user": {"login": "ben"}, "merged_at": null, "base": {"repo": {"full_name": "acme/api"}}}]"#;
        let r12 = br#"[{"user": {"login": "cy"}, "state": "CHANGES_REQUESTED", "submitted_at": "2026-10-31T09:00:00Z", "pull_request_url": "https://api.github.com/repos/acme/api/pulls/12"},
                       {"user": {"login": "cy"}, "state": "APPROVED", "submitted_at": "2026-10-31T12:00:00Z", "pull_request_url": "https://api.github.com/repos/acme/api/pulls/12"}]"#;
        let r13 = br#"[{"user": {"login": "ben"}, "state": "APPROVED", "submitted_at": "2026-11-02T09:00:00Z", "pull_request_url": "https://api.github.com/repos/acme/api/pulls/13"}]"#;
        let got = pull_requests(
            "pulls.json",
            pulls,
            &[("r12.json".into(), r12.to_vec()), ("r13.json".into(), r13.to_vec())],
        )
        .unwrap();
        assert_eq!(got.changes.len(), 2);
        assert_eq!(got.changes[0].approvers, vec!["cy".to_string()]);
        assert!(
            got.changes[1].approvers.is_empty(),
            "an author's own approval does not count"
        );
    }

    #[test]
    fn reference_samples_when_present() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/reference/samples/");
        let (Ok(bp), Ok(reviews)) = (
            std::fs::read(format!("{dir}github_branch_protection_sample.json")),
            std::fs::read(format!("{dir}github_pull_request_reviews_sample.json")),
        ) else {
            eprintln!("SKIPPED: {dir} not found (../shared/reference is not beside this clone)");
            return;
        };
        let p = &branch_protection("sample.json", &bp).unwrap().protections[0];
        assert_eq!(
            (p.repository.as_str(), p.branch.as_str(), p.required_approvals),
            ("example-org/example-repo", "main", 1)
        );
        let pulls = br#"[{"number": 12, "title": "x", "user": {"login": "author-x"}, "merged_at": "2025-09-15T00:00:00Z", "base": {"repo": {"full_name": "example-org/example-repo"}}}]"#;
        let got = pull_requests("pulls.json", pulls, &[("reviews.json".into(), reviews)]).unwrap();
        assert!(got.changes[0].approvers.contains(&"reviewer-a".to_string()));
    }
}
