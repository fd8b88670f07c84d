//! Policies: adopt the templates, edit, approve, publish, accept; parameters and role holders.

use std::path::Path;

use evident_catalog::{OwnerRole, POLICY_ROLES};
use evident_core::parse_email;
use evident_core::policy::{PolicyDetailView, PolicyView};
use evident_core::registers::PEOPLE;
use evident_store::{Policy, Workspace, policy_templates};
use serde_json::{Value, json};

use super::{instant, open, today};
use crate::args::PoliciesCommand;
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

/// The policy as JSON: `evident_core::policy::PolicyView`, the API's shape.
async fn summary(ws: &Workspace, p: &Policy, staff: &[String]) -> Result<Value, CliError> {
    let counted = ws.acceptance_count(p, staff).await?;
    Ok(serde_json::to_value(PolicyView::of(p, today(), Some(counted))).expect("serialises"))
}

pub async fn run(dir: &Path, command: PoliciesCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    match command {
        PoliciesCommand::List => {
            let staff = ws.staff_on(today()).await?;
            let mut rows = Vec::new();
            for p in ws.policies().await? {
                rows.push(summary(&ws, &p, &staff).await?);
            }
            match format {
                Format::Json => output::json(&rows),
                Format::Table => {
                    let mut t = Table::new(&["ID", "TITLE", "LATEST", "PUBLISHED", "REVIEW DUE", "ACCEPTED"]);
                    for r in &rows {
                        t.row(vec![
                            r["id"].as_str().unwrap_or_default().into(),
                            r["title"].as_str().unwrap_or_default().into(),
                            format!("v{} {}", r["latest_version"], r["status"].as_str().unwrap_or("")),
                            r["published_version"]
                                .as_i64()
                                .map(|v| format!("v{v}"))
                                .unwrap_or_else(|| "-".into()),
                            r["review_due"].as_str().unwrap_or("-").into(),
                            format!("{}/{}", r["acceptance"]["accepted"], r["acceptance"]["required"]),
                        ]);
                    }
                    t.print()?;
                    if rows.is_empty() {
                        println!("\nNo policies yet: `evident policies adopt --all` adopts the templates as drafts.");
                    }
                    Ok(())
                }
            }
        }
        PoliciesCommand::Templates => {
            let t = policy_templates();
            match format {
                Format::Json => output::json(
                    &t.iter()
                        .map(|t| json!({"id": t.id, "title": t.title, "controls": t.controls}))
                        .collect::<Vec<_>>(),
                ),
                Format::Table => {
                    let mut table = Table::new(&["ID", "TITLE", "OWNER", "CONTROLS"]);
                    for t in t {
                        table.row(vec![
                            t.id.clone(),
                            t.title.clone(),
                            t.owner_role.to_string(),
                            t.controls.join(","),
                        ]);
                    }
                    table.print()
                }
            }
        }
        PoliciesCommand::Adopt { ids, all } => {
            let templates = policy_templates();
            let chosen: Vec<_> = if all {
                templates.iter().collect()
            } else {
                if ids.is_empty() {
                    return Err(usage(
                        "adopt: name template ids (see `evident policies templates`) or use --all",
                    ));
                }
                ids.iter()
                    .map(|id| {
                        templates.iter().find(|t| t.id == id.to_lowercase()).ok_or_else(|| {
                            usage(format!(
                                "unknown policy template '{id}' (see `evident policies templates`)"
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?
            };
            let adopted = ws.adopt_policies(&chosen).await?;
            match format {
                Format::Json => output::json(&json!({"adopted": adopted})),
                Format::Table => {
                    println!(
                        "Adopted {} policy template(s) as drafts; {} already adopted.",
                        adopted.len(),
                        chosen.len() - adopted.len()
                    );
                    Ok(())
                }
            }
        }
        PoliciesCommand::Show { id, version } => {
            let p = ws.policy(&id).await?;
            let staff = ws.staff_on(today()).await?;
            let counted = ws.acceptance_count(&p, &staff).await?;
            let out = PolicyDetailView::of(&p, version, today(), Some(counted)).map_err(|e| match version {
                Some(_) => usage(format!("--version: {e}")),
                None => usage(e),
            })?;
            let v = &out.text;
            match format {
                Format::Json => output::json(&out),
                Format::Table => {
                    println!("{} — version {} ({})\n", p.title, v.version, v.status);
                    println!("{}", v.body);
                    Ok(())
                }
            }
        }
        PoliciesCommand::Add {
            id,
            title,
            owner_role,
            file,
            controls,
        } => {
            let id = id.trim().to_lowercase();
            if id.is_empty()
                || !id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(usage(format!("--id: '{id}' must be kebab-case (a-z, 0-9, -)")));
            }
            if ws.policies().await?.iter().any(|p| p.id == id) {
                return Err(usage(format!(
                    "--id: a policy '{id}' already exists; use `evident policies update`"
                )));
            }
            let role = OwnerRole::parse(&owner_role).map_err(|e| usage(format!("--owner-role: {e}")))?;
            let body = read_policy(&file)?;
            let mut codes = Vec::new();
            for c in &controls {
                codes.push(ws.control(c).await?.code);
            }
            let template = evident_catalog::PolicyTemplate {
                id: id.clone(),
                title: title.trim().to_string(),
                owner_role: role,
                review_interval_months: 12,
                controls: codes,
                parameters: Vec::new(),
                body,
            };
            ws.adopt_policies(&[&template]).await?;
            done(
                format,
                json!({"id": id, "version": 1, "status": "draft"}),
                &format!("Added {id} as a version-1 draft"),
            )
        }
        PoliciesCommand::Update { id, file, title } => {
            if file.is_none() && title.is_none() {
                return Err(usage("update: give --file and/or --title"));
            }
            let body = file.as_deref().map(read_policy).transpose()?;
            let version = ws.edit_policy(&id, title.as_deref(), body.as_deref()).await?;
            done(
                format,
                json!({"id": id, "version": version, "status": "draft"}),
                &format!("{id}: new draft version {version}"),
            )
        }
        PoliciesCommand::SetParam { id, key, value } => {
            let version = ws.set_parameter(&id, &key, &value).await?;
            done(
                format,
                json!({"id": id, "key": key, "value": value, "version": version}),
                &format!("{id}: {key} = {value}; new draft version {version}"),
            )
        }
        PoliciesCommand::Params => {
            let params = ws.parameters().await?;
            match format {
                Format::Json => output::json(&params),
                Format::Table => {
                    let mut t = Table::new(&["KEY", "VALUE", "UNIT", "POLICY", "MEANING"]);
                    for p in &params {
                        t.row(vec![
                            p.key.clone(),
                            p.value.clone(),
                            p.unit.clone().unwrap_or_default(),
                            p.policy.clone(),
                            p.label.clone(),
                        ]);
                    }
                    t.print()
                }
            }
        }
        PoliciesCommand::Approve { id } => {
            let v = ws.approve_policy(&id).await?;
            done(
                format,
                json!({"id": id, "version": v, "status": "approved", "approved_by": ws.actor}),
                &format!("{id} version {v} approved by {}", ws.actor),
            )
        }
        PoliciesCommand::Publish { id } => {
            let v = ws.publish_policy(&id).await?;
            done(
                format,
                json!({"id": id, "version": v, "status": "published"}),
                &format!("{id} version {v} published"),
            )
        }
        PoliciesCommand::Accept { id, person, version } => {
            let email = parse_email(&person).map_err(|e| usage(format!("--person: {e}")))?;
            let v = ws.accept_policy(&id, &email, version).await?;
            done(
                format,
                json!({"id": id, "version": v, "person": email}),
                &format!("{email} accepted {id} version {v}"),
            )
        }
        PoliciesCommand::Acceptances { id } => {
            let p = ws.policy(&id).await?;
            let published = p.published().map(|v| v.version);
            let all = ws.acceptances(&p).await?;
            let staff = ws.staff_on(today()).await?;
            let current: Vec<_> = all.iter().filter(|a| Some(a.version) == published).collect();
            let missing: Vec<&String> = staff
                .iter()
                .filter(|e| !current.iter().any(|a| &a.email == *e))
                .collect();
            match format {
                Format::Json => output::json(&json!({
                    "id": p.id,
                    "published_version": published,
                    "accepted": current.iter().map(|a| json!({"email": a.email, "version": a.version, "accepted_at": instant(a.accepted_at)})).collect::<Vec<_>>(),
                    "missing": missing,
                    "earlier_versions": all.iter().filter(|a| Some(a.version) != published).map(|a| json!({"email": a.email, "version": a.version})).collect::<Vec<_>>(),
                })),
                Format::Table => {
                    println!(
                        "{} version {}: {} accepted, {} still to accept",
                        p.id,
                        published.map(|v| v.to_string()).unwrap_or("-".into()),
                        current.len(),
                        missing.len()
                    );
                    for m in missing {
                        println!("  missing: {m}");
                    }
                    Ok(())
                }
            }
        }
        PoliciesCommand::SetRole { role, holder } => {
            if !POLICY_ROLES.contains(&role.as_str()) {
                return Err(usage(format!(
                    "ROLE: unknown role '{role}' (allowed: {})",
                    POLICY_ROLES.join(", ")
                )));
            }
            let holder = super::required_text("HOLDER", &holder)?;
            ws.set_role(&role, &holder).await?;
            done(
                format,
                json!({"role": role, "holder": holder}),
                &format!("{role} is {holder}; new policy versions will name them"),
            )
        }
    }
}

/// A policy's Markdown, refused (naming the line) if it holds text that may not be stored.
fn read_policy(file: &Path) -> Result<String, CliError> {
    let body = std::fs::read_to_string(file).map_err(|e| usage(format!("--file: {}: {e}", file.display())))?;
    for (i, line) in body.lines().enumerate() {
        evident_core::text::storable(line).map_err(|e| usage(format!("--file: {}:{}: {e}", file.display(), i + 1)))?;
    }
    Ok(body)
}

fn done(format: Format, value: Value, sentence: &str) -> Result<(), CliError> {
    match format {
        Format::Json => output::json(&value),
        Format::Table => {
            println!("{sentence}");
            Ok(())
        }
    }
}

/// `export policies`: one row per policy with its state.
pub async fn export(ws: &Workspace, out: &Path, format: Format) -> Result<(), CliError> {
    let staff = ws.staff_on(today()).await?;
    let mut rows = Vec::new();
    for p in ws.policies().await? {
        rows.push(summary(ws, &p, &staff).await?);
    }
    let cols = [
        "id",
        "title",
        "owner_role",
        "latest_version",
        "latest_status",
        "published_version",
        "published_at",
        "approved_by",
        "review_due",
        "controls",
        "accepted",
        "required",
    ];
    let cell = |r: &Value, c: &str| -> String {
        let v = match c {
            "accepted" | "required" => &r["acceptance"][c],
            "latest_status" => &r["status"],
            _ => &r[c],
        };
        match v {
            Value::Null => String::new(),
            Value::String(s) => s.clone(),
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("; "),
            other => other.to_string(),
        }
    };
    let sheet = evident_report::Sheet {
        name: "policies".into(),
        headers: cols.map(String::from).to_vec(),
        rows: rows.iter().map(|r| cols.iter().map(|c| cell(r, c)).collect()).collect(),
        widths: Vec::new(),
    };
    super::registers::write_export(&sheet, out)?;
    done(
        format,
        json!({"register": "policies", "rows": rows.len(), "out": out}),
        &format!("Wrote {} policies to {}", rows.len(), out.display()),
    )
}

/// `import policy-acceptances FILE`: columns email, policy, version, accepted_on.
pub async fn import_acceptances(
    ws: &Workspace,
    file: &Path,
    skip_invalid: bool,
    format: Format,
) -> Result<(), CliError> {
    let name = file.display().to_string();
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(file)
        .map_err(|e| usage(format!("{name}: {e}")))?;
    let header: Vec<String> = reader
        .headers()
        .map_err(|e| usage(format!("{name}:1: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').to_lowercase())
        .collect();
    let expected = ["email", "policy", "version", "accepted_on"];
    if header != expected {
        return Err(usage(format!(
            "{name}:1: wrong header '{}' (expected: {})",
            header.join(","),
            expected.join(",")
        )));
    }
    let policies = ws.policies().await?;
    let people: std::collections::BTreeSet<String> = ws
        .records(&PEOPLE)
        .await?
        .into_iter()
        .filter_map(|r| r.record.get("email").as_str().map(str::to_string))
        .collect();
    let today = today();
    let mut good = Vec::new();
    let mut problems = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| usage(format!("{name}: {e}; nothing was imported")))?;
        let line = record.position().map(|p| p.line()).unwrap_or(0);
        let mut errs = Vec::new();
        let email = match parse_email(&record[0]) {
            Ok(e) if people.contains(&e) => Some(e),
            Ok(e) => {
                errs.push(format!("{name}:{line}:email: unknown person '{e}'"));
                None
            }
            Err(e) => {
                errs.push(format!("{name}:{line}:email: {e}"));
                None
            }
        };
        let policy = policies.iter().find(|p| p.id == record[1].to_lowercase());
        if policy.is_none() {
            errs.push(format!("{name}:{line}:policy: unknown policy '{}'", &record[1]));
        }
        let version = record[2].parse::<i64>().ok();
        match (policy, version) {
            (_, None) => errs.push(format!(
                "{name}:{line}:version: '{}' is not a version number",
                &record[2]
            )),
            (Some(p), Some(v)) if !p.versions.iter().any(|x| x.version == v && x.published_at.is_some()) => errs.push(
                format!("{name}:{line}:version: {} version {v} was never published", p.id),
            ),
            _ => {}
        }
        let at = match evident_core::parse_date(&record[3]) {
            Ok(d) if d > today => {
                errs.push(format!("{name}:{line}:accepted_on: {} is in the future", &record[3]));
                None
            }
            Ok(d) => Some(d.midnight().assume_utc().unix_timestamp() * 1000),
            Err(e) => {
                errs.push(format!("{name}:{line}:accepted_on: {e}"));
                None
            }
        };
        match (errs.is_empty(), email, policy, version, at) {
            (true, Some(e), Some(p), Some(v), Some(at)) => good.push((p.id.clone(), v, e, at)),
            _ => problems.extend(errs),
        }
    }
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() && !skip_invalid {
        return Err(usage(format!(
            "{name}: {} problem(s); nothing was imported (fix them, or use --skip-invalid)",
            problems.len()
        )));
    }
    let bytes = std::fs::read(file).map_err(|e| usage(format!("{name}: {e}")))?;
    let context = json!({"file_sha256": evident_core::ledger::sha256_hex(&bytes)});
    let n = ws.record_acceptances(&good, context).await?;
    done(
        format,
        json!({"register": "policy-acceptances", "rows": good.len() + problems.len(), "created": n, "unchanged": good.len() - n, "rejected": problems.len()}),
        &format!(
            "{name}: {n} acceptance(s) recorded, {} already known, {} rejected",
            good.len() - n,
            problems.len()
        ),
    )
}
