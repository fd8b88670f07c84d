//! `evident generate`: a new workspace filled with a made-up company of a chosen size, for
//! the demo, for trying the product on realistic volumes, and for the benchmarks.
//!
//! The generator acts as the company's people (`Workspace::as_actor` with their e-mail, as the
//! server names a signed-in person): the compliance manager sets the scope, the owners and the
//! policies, the chief executive approves and signs off, the people lead loads the HR
//! registers, each control's owner adds its evidence. Only the workspace's creation and the
//! daily check runs are the CLI's own. Nothing is dated after the generation instant, and a
//! policy's steps carry the dates the generated story gives them (`*_as_of`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Instant;

use evident_catalog::Catalog;
use evident_core::checks::{self, BUILTIN};
use evident_core::generate::{self, Company, Document, Size};
use evident_core::register::Value;
use evident_core::registers::{
    ACCESS_GRANTS, ASSETS, BACKGROUND_CHECKS, EVENTS, MACHINE_IDENTITIES, PEOPLE, RISKS, TRAINING, VENDORS,
};
use evident_core::{ComponentKind, ReportType, Scope, parse_categories, parse_date};
use evident_store::{ComponentRecord, InitOptions, Workspace};
use serde::Serialize;
use serde_json::json;
use time::OffsetDateTime;

use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

const COMPONENTS: &[(ComponentKind, &str, bool, &str)] = &[
    (
        ComponentKind::Infrastructure,
        "AWS production account (eu-west-1)",
        true,
        "Hosts the customer-facing service and its data",
    ),
    (
        ComponentKind::Software,
        "The customer-facing web application and API",
        true,
        "The service the report describes",
    ),
    (
        ComponentKind::People,
        "Engineering, IT, support and security staff",
        true,
        "Build, run and support the service",
    ),
    (
        ComponentKind::Procedures,
        "Change, incident and access management",
        true,
        "Govern how the service is changed and operated",
    ),
    (
        ComponentKind::Data,
        "Customer account and usage data",
        true,
        "Processed on behalf of customers",
    ),
    (
        ComponentKind::Software,
        "Marketing website",
        false,
        "Static site with no customer data, hosted separately",
    ),
];

/// What was generated, with how long each stage took (the benchmarks read these).
#[derive(Debug, Serialize)]
pub struct Generated {
    pub workspace: String,
    pub organisation: String,
    pub size: Size,
    pub seed: u64,
    pub counts: serde_json::Value,
    pub seconds: serde_json::Map<String, serde_json::Value>,
}

/// Parses `--as-of` (a date, noon UTC), or now.
pub fn instant_of(as_of: Option<&str>) -> Result<OffsetDateTime, CliError> {
    match as_of {
        None => Ok(OffsetDateTime::now_utc()),
        Some(d) => {
            let day = parse_date(d).map_err(|e| usage(format!("--as-of: {e}")))?;
            Ok(day.midnight().assume_utc() + time::Duration::hours(12))
        }
    }
}

pub async fn run(dir: &Path, size: &str, seed: u64, as_of: Option<&str>, format: Format) -> Result<(), CliError> {
    let size = Size::parse(size).ok_or_else(|| usage(format!("--size: {size:?} is not one of s, m, l")))?;
    let now = instant_of(as_of)?;
    let (_, g) = build(dir, size, seed, now).await?;
    match format {
        Format::Json => output::json(&g),
        Format::Table => {
            println!(
                "Generated {} ({:?}, seed {}) in {}.",
                g.organisation, g.size, g.seed, g.workspace
            );
            let mut t = Table::new(&["WHAT", "COUNT"]);
            if let Some(m) = g.counts.as_object() {
                for (k, v) in m {
                    t.row(vec![k.clone(), v.to_string()]);
                }
            }
            t.print()?;
            let total: f64 = g.seconds.values().filter_map(|v| v.as_f64()).sum();
            println!(
                "\nTook {total:.1} s. Next: evident --workspace {} readiness",
                g.workspace
            );
            Ok(())
        }
    }
}

/// Creates the workspace at `dir` and fills it; refuses a folder that already is one.
pub async fn build(dir: &Path, size: Size, seed: u64, now: OffsetDateTime) -> Result<(Workspace, Generated), CliError> {
    if Workspace::config_path(dir).is_file() {
        return Err(usage(format!(
            "{} is already a workspace; generate fills a new one (choose another --workspace)",
            dir.display()
        )));
    }
    let mut seconds = serde_json::Map::new();
    let mut clock = Instant::now();
    let mut lap = |name: &str, seconds: &mut serde_json::Map<String, serde_json::Value>| {
        let s = clock.elapsed().as_secs_f64();
        seconds.insert(name.into(), json!((s * 1000.0).round() / 1000.0));
        clock = Instant::now();
    };
    let catalog = Catalog::builtin();
    let mut company = generate::company(size, seed, now, catalog);
    lap("generate", &mut seconds);

    let ws = Workspace::init(
        dir,
        InitOptions {
            organisation: company.organisation.clone(),
        },
        &super::actor(),
    )
    .await?;
    // The people who do each part of the work.
    let compliance = ws.as_actor(company.holder("compliance"));
    let executive = ws.as_actor(company.holder("executive"));
    program(&compliance, &executive, &company, now).await?;
    lap("scope_and_owners", &mut seconds);

    for (spec, records, what, role) in [
        (&PEOPLE, &company.people, "people.import", "hr"),
        (&TRAINING, &company.training, "training.import", "hr"),
        (
            &BACKGROUND_CHECKS,
            &company.background_checks,
            "background-checks.import",
            "hr",
        ),
        (&ASSETS, &company.assets, "assets.import", "it"),
        (&RISKS, &company.risks, "risks.import", "compliance"),
        (
            &MACHINE_IDENTITIES,
            &company.machine_identities,
            "machine-identities.import",
            "infrastructure",
        ),
        (&ACCESS_GRANTS, &company.grants, "access-grants.import", "security"),
    ] {
        ws.as_actor(company.holder(role))
            .write_records(spec, records, what, json!({"source": "generate", "seed": seed}))
            .await?;
    }
    lap("registers", &mut seconds);

    let evidence = add_documents(&ws, std::mem::take(&mut company.documents)).await?;
    lap("evidence", &mut seconds);

    let vendors: Vec<_> = company
        .vendors
        .iter()
        .map(|(r, doc)| {
            let mut r = r.clone();
            if let Some(d) = doc {
                r.values.insert("soc2_report", Value::List(vec![evidence[*d].clone()]));
            }
            r
        })
        .collect();
    let events: Vec<_> = company
        .events
        .iter()
        .map(|(r, docs)| {
            let mut r = r.clone();
            if !docs.is_empty() {
                r.values.insert(
                    "evidence",
                    Value::List(docs.iter().map(|d| evidence[*d].clone()).collect()),
                );
            }
            r
        })
        .collect();
    let context = json!({"source": "generate", "seed": seed});
    compliance
        .write_records(&VENDORS, &vendors, "vendors.import", context.clone())
        .await?;
    ws.as_actor(company.holder("security"))
        .write_records(&EVENTS, &events, "events.import", context.clone())
        .await?;
    let facts = compliance.load_facts(&company.facts, &evidence, context).await?;
    lap("facts", &mut seconds);

    policies_and_risks(&ws, &company).await?;
    lap("policies_and_risks", &mut seconds);

    // Today's run is real: the engine over what was just stored. The year before it is
    // backfilled consistently with it.
    let facts_now = ws.facts().await?;
    let exclusions = ws.exclusions().await?;
    let results: Vec<_> = BUILTIN
        .iter()
        .map(|c| checks::run(c, &facts_now, &exclusions, now))
        .collect();
    let now_ms = (now.unix_timestamp_nanos() / 1_000_000) as i64;
    const DAYS: i64 = 364;
    let history = generate::history(&results, seed, now_ms, DAYS);
    let mut ago = DAYS;
    while ago > 0 {
        // A month at a time keeps memory flat on the large organisation.
        let batch: Vec<_> = (ago.saturating_sub(29).max(1)..=ago)
            .rev()
            .map(|d| history.day(d))
            .collect();
        ws.save_runs(&batch).await?;
        ago -= batch.len() as i64;
    }
    ws.save_runs(&[(now_ms, results)]).await?;
    lap("check_runs", &mut seconds);

    // The description its people wrote, approved as the records stand: drift shows from here.
    for (part, text) in &company.narratives {
        compliance.set_narrative(part, text).await?;
    }
    executive.approve_description(now.date()).await?;
    lap("description", &mut seconds);

    let counts = json!({
        "people": company.people.len(),
        "training": company.training.len(),
        "background_checks": company.background_checks.len(),
        "assets": company.assets.len(),
        "vendors": company.vendors.len(),
        "risks": company.risks.len(),
        "events": company.events.len(),
        "evidence": evidence.len(),
        "accounts": facts["accounts"],
        "changes": facts["changes"],
        "findings": facts["findings"],
        "devices": facts["devices"],
        "repositories": facts["protections"],
        "policy_acceptances": company.acceptances.iter().map(|(_, a)| a.len()).sum::<usize>(),
        "check_runs": (DAYS as usize + 1) * BUILTIN.len(),
    });
    let g = Generated {
        workspace: ws.dir.display().to_string(),
        organisation: company.organisation.clone(),
        size,
        seed,
        counts,
        seconds,
    };
    Ok((ws, g))
}

/// Stores the documents, each in the name of the person who added it; returns their evidence
/// ids in the documents' order.
async fn add_documents(ws: &Workspace, documents: Vec<Document>) -> Result<Vec<String>, CliError> {
    let mut ids = vec![String::new(); documents.len()];
    let mut by_person: BTreeMap<String, (Vec<usize>, Vec<Document>)> = BTreeMap::new();
    for (i, d) in documents.into_iter().enumerate() {
        let (at, docs) = by_person.entry(d.added_by.clone()).or_default();
        at.push(i);
        docs.push(d);
    }
    for (who, (at, docs)) in by_person {
        let stored = ws.as_actor(&who).add_documents(&docs).await?;
        for (i, id) in at.into_iter().zip(stored) {
            ids[i] = id;
        }
    }
    Ok(ids)
}

/// Scope (a Type 2 year under way, a quarter to go), set by the compliance manager and signed
/// off by the chief executive; owners and roles.
async fn program(
    ws: &Workspace,
    executive: &Workspace,
    company: &Company,
    now: OffsetDateTime,
) -> Result<(), CliError> {
    let (from, to) = generate::observation_window(now.date());
    let (categories, _) = parse_categories("security,availability,confidentiality").expect("known categories");
    let (scope, _) = Scope::new(ReportType::Type2, categories, None, Some((from, to))).expect("a valid window");
    ws.set_scope(&scope).await?;
    for (kind, name, in_scope, reason) in COMPONENTS {
        ws.add_component(&ComponentRecord {
            kind: *kind,
            name: (*name).into(),
            in_scope: *in_scope,
            reason: (*reason).into(),
        })
        .await?;
    }
    executive.approve_scope().await?;
    for c in ws.controls().await? {
        if let Some(owner) = company.owners.get(c.owner_role.as_str()) {
            ws.set_control_owner(&c.code, Some(owner)).await?;
        }
    }
    for (role, holder) in &company.roles {
        ws.set_role(role, holder).await?;
    }
    Ok(())
}

/// The policies on the dates the company's story gives them: drafted by the compliance
/// manager, approved by the chief executive, published by the compliance manager, accepted
/// after publication (recorded by the people lead); risks signed off by the chief executive and
/// reviewed by the compliance manager; the break-glass exclusion by its owner.
async fn policies_and_risks(ws: &Workspace, company: &Company) -> Result<(), CliError> {
    let compliance = ws.as_actor(company.holder("compliance"));
    let executive = ws.as_actor(company.holder("executive"));
    let templates: Vec<_> = evident_store::policy_templates().iter().collect();
    compliance
        .adopt_policies_as_of(&templates, company.policies_drafted)
        .await?;
    for (id, approved, published) in &company.publish {
        executive.approve_policy_as_of(id, *approved).await?;
        compliance.publish_policy_as_of(id, *published).await?;
    }
    for (id, approved) in &company.approve_only {
        executive.approve_policy_as_of(id, *approved).await?;
    }
    let hr = ws.as_actor(company.holder("hr"));
    for (policy, accepted) in &company.acceptances {
        let version = ws.policy(policy).await?.published().map(|v| v.version).unwrap_or(1);
        let rows: Vec<_> = accepted
            .iter()
            .map(|(email, at)| (policy.clone(), version, email.clone(), *at))
            .collect();
        hr.record_acceptances(&rows, json!({"source": "generate"})).await?;
    }
    for id in &company.risk_sign_offs {
        executive.sign_off_risk(id).await?;
    }
    for id in &company.risk_reviews {
        compliance
            .review_risk(id, "Quarterly review: likelihood and impact unchanged")
            .await?;
    }
    for e in &company.exclusions {
        ws.as_actor(&e.owner).add_exclusion(e).await?;
    }
    Ok(())
}
