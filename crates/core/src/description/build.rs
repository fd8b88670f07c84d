//! Words the records as the nine points of the description.

use std::collections::{BTreeMap, BTreeSet};

use evident_catalog::{Catalog, Category};

use super::{
    ControlLine, Description, Input, NARRATIVES, Narrative, Part, Source, SourceKind as S, Statement, StatementKind,
    significant_change,
};
use crate::dates::format_date;
use crate::scope::{AuditPeriod, ComponentKind, ReportType};
use crate::text::url_encode;

/// Names listed one by one per asset kind; past this the rest are counted, so a company with
/// thousands of laptops still has a description a person can read.
const NAMED_ASSETS: usize = 150;
/// Significant changes listed one by one (the most recent).
const LISTED_CHANGES: usize = 300;

fn fact(key: impl Into<String>, text: impl Into<String>, sources: Vec<Source>) -> Statement {
    Statement {
        key: key.into(),
        kind: StatementKind::Fact,
        text: text.into(),
        sources,
    }
}

fn missing(key: impl Into<String>, text: impl Into<String>, sources: Vec<Source>) -> Statement {
    Statement {
        key: key.into(),
        kind: StatementKind::Missing,
        text: text.into(),
        sources,
    }
}

fn register(path: &str, label: impl Into<String>) -> Source {
    Source::new(S::Register, path, label)
}

fn scope_source() -> Source {
    Source::new(S::Scope, "scope", "Audit scope")
}

/// How the subservice statement says a vendor is carved out; the assertion finds them by it.
pub(super) const CARVED_OUT: &str = "presented carve-out";

/// "a, b and c".
pub(super) fn listing(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn narrative(input: &Input, key: &str) -> Statement {
    let written: Option<&Narrative> = input.narratives.iter().find(|n| n.part == key);
    let prompt = NARRATIVES
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, _, p)| *p)
        .unwrap_or_default();
    match written {
        Some(n) if !n.text.trim().is_empty() => Statement {
            key: format!("narrative:{key}"),
            kind: StatementKind::Narrative,
            text: n.text.trim().to_string(),
            sources: vec![Source::new(
                S::Narrative,
                key,
                format!(
                    "Written by {}, version {} ({})",
                    n.author,
                    n.version,
                    n.written_at.get(..10).unwrap_or(&n.written_at)
                ),
            )],
        },
        _ => missing(
            format!("narrative:{key}"),
            format!("Not written yet. {prompt}"),
            vec![Source::new(S::Narrative, key, "Narrative to write")],
        ),
    }
}

/// Items said one after another: "a; b; c", without their own full stops.
fn sentences(items: &[String]) -> String {
    items
        .iter()
        .map(|c| c.trim_end_matches('.'))
        .collect::<Vec<_>>()
        .join("; ")
}

fn criterion_source(k: &evident_catalog::Criterion) -> Source {
    Source::new(S::Criterion, &k.id, format!("{} {}", k.id, k.title))
}

fn control_source(c: &ControlLine) -> Source {
    Source::new(S::Control, &c.code, format!("{} {}", c.code, c.title))
}

/// The program's controls mapped to a criterion, applicable or ruled out.
fn serving<'a>(input: &'a Input, criterion: &str) -> Vec<&'a ControlLine> {
    input
        .controls
        .iter()
        .filter(|c| c.criteria.iter().any(|k| k == criterion))
        .collect()
}

fn part(point: u8, key: &str, title: &str, statements: Vec<Statement>) -> Part {
    Part {
        point,
        key: key.into(),
        title: title.into(),
        statements,
    }
}

/// The category's name as the content gives it.
fn category_label(c: Category) -> String {
    Catalog::builtin()
        .framework
        .category(c)
        .map_or_else(|| c.as_str().to_string(), |i| i.name.clone())
}

fn report_line(input: &Input) -> Option<String> {
    let s = input.scope.as_ref()?;
    Some(match (s.report_type, s.period) {
        (ReportType::Type1, AuditPeriod::AsOf(d)) => format!("SOC 2 Type 1 as of {}", format_date(d)),
        (_, AuditPeriod::Window { from, to }) => {
            format!(
                "SOC 2 Type 2 for the period {} to {}",
                format_date(from),
                format_date(to)
            )
        }
        (_, AuditPeriod::AsOf(d)) => format!("SOC 2 as of {}", format_date(d)),
    })
}

/// Drafts the description from the records.
pub fn describe(input: &Input) -> Description {
    let categories: BTreeSet<Category> = input
        .scope
        .as_ref()
        .map(|s| s.categories.clone())
        .unwrap_or_else(|| [Category::Security].into_iter().collect());
    let mut parts = vec![
        part(1, "services", "Services provided", vec![narrative(input, "services")]),
        part(
            2,
            "commitments",
            "Principal service commitments and system requirements",
            commitments(input, &categories),
        ),
    ];
    for kind in [
        ComponentKind::Infrastructure,
        ComponentKind::Software,
        ComponentKind::People,
        ComponentKind::Procedures,
        ComponentKind::Data,
    ] {
        parts.push(part(
            3,
            kind.as_str(),
            &format!("System components: {}", kind.as_str()),
            component(input, kind),
        ));
    }
    parts.push(part(4, "incidents", "System incidents", incidents(input)));
    parts.push(part(
        5,
        "criteria",
        "Criteria in scope and the controls that address them",
        criteria(input, &categories),
    ));
    parts.push(part(
        6,
        "user_entity_controls",
        "Complementary user-entity controls",
        user_entity_controls(input),
    ));
    parts.push(part(7, "subservice", "Subservice organisations", subservice(input)));
    parts.push(part(
        8,
        "not_relevant",
        "Criteria not relevant to the system",
        not_relevant(input, &categories),
    ));
    parts.push(part(
        9,
        "changes",
        "Significant changes during the period",
        changes(input),
    ));
    Description {
        organisation: input.organisation.clone(),
        report: report_line(input),
        parts,
    }
}

fn commitments(input: &Input, categories: &BTreeSet<Category>) -> Vec<Statement> {
    let mut out = vec![narrative(input, "commitments")];
    match (&input.scope, report_line(input)) {
        (Some(_), Some(report)) => {
            let names: Vec<String> = categories.iter().map(|c| category_label(*c)).collect();
            out.push(fact(
                "scope:categories",
                format!(
                    "This description supports a {report}. The system is described against the Trust Services Categories {}.",
                    listing(&names)
                ),
                vec![scope_source()],
            ));
        }
        _ => out.push(missing(
            "scope:categories",
            "No audit scope is set: choose the report type, its period and the categories.",
            vec![scope_source()],
        )),
    }
    out
}

/// Which asset kinds belong to which component, and whether they are named one by one.
fn asset_kinds(kind: ComponentKind) -> &'static [(&'static str, &'static str, bool)] {
    match kind {
        ComponentKind::Infrastructure => &[
            ("cloud_resource", "cloud resources", true),
            ("hardware", "hardware assets (laptops, devices and equipment)", false),
        ],
        ComponentKind::Software => &[("software", "software assets", true)],
        ComponentKind::Data => &[("data_store", "data stores", true)],
        ComponentKind::People | ComponentKind::Procedures => &[],
    }
}

fn component(input: &Input, kind: ComponentKind) -> Vec<Statement> {
    let mut out = vec![narrative(input, kind.as_str())];
    for c in input.components.iter().filter(|c| c.kind == kind.as_str()) {
        let text = if c.in_scope {
            format!("In scope: {}. {}", c.name, c.reason)
        } else {
            format!("Outside the system's boundary: {}. {}", c.name, c.reason)
        };
        out.push(fact(
            format!("component:{}:{}", c.kind, c.name),
            text.trim_end().to_string(),
            vec![Source::new(
                S::Component,
                &c.name,
                format!("Scope component: {}", c.name),
            )],
        ));
    }
    for (asset_kind, noun, named) in asset_kinds(kind) {
        out.extend(assets(input, asset_kind, noun, *named));
    }
    match kind {
        ComponentKind::People => out.extend(people(input)),
        ComponentKind::Procedures => out.extend(procedures(input)),
        _ => {}
    }
    out
}

fn assets(input: &Input, kind: &str, noun: &str, named: bool) -> Vec<Statement> {
    let of_kind: Vec<_> = input.assets.iter().filter(|a| a.kind == kind).collect();
    let mut inside: Vec<_> = of_kind.iter().filter(|a| a.in_scope).collect();
    let outside = of_kind.len() - inside.len();
    let listing_source = register(&format!("assets?kind={kind}"), format!("Asset register: {noun}"));
    if of_kind.is_empty() {
        return vec![missing(
            format!("assets:{kind}"),
            format!("The asset register records no {noun}."),
            vec![listing_source],
        )];
    }
    let mut by_class: BTreeMap<&str, usize> = BTreeMap::new();
    for a in &inside {
        *by_class.entry(a.classification.as_str()).or_default() += 1;
    }
    let classes: Vec<String> = by_class.iter().map(|(c, n)| format!("{n} {c}")).collect();
    let mut summary = format!("{} in scope", plural(inside.len(), noun.trim_end_matches('s'), noun));
    if !classes.is_empty() {
        summary.push_str(&format!(", classified {}", listing(&classes)));
    }
    summary.push('.');
    if outside > 0 {
        summary.push_str(&format!(" {outside} more are recorded as outside the scope."));
    }
    let mut out = vec![fact(format!("assets:{kind}"), summary, vec![listing_source])];
    if named {
        inside.sort_by(|a, b| a.name.cmp(&b.name));
        for a in inside.iter().take(NAMED_ASSETS) {
            out.push(fact(
                format!("asset:{}", a.name),
                format!("{} ({}).", a.name, a.classification),
                vec![Source::new(S::Asset, &a.name, format!("Asset {}", a.name))],
            ));
        }
    }
    out
}

fn people(input: &Input) -> Vec<Statement> {
    let total: usize = input.departments.iter().map(|(_, n)| n).sum();
    let people = register("people", "People register");
    if total == 0 {
        return vec![missing(
            "people:total",
            "The people register lists nobody employed.",
            vec![people],
        )];
    }
    let kinds: Vec<String> = input
        .employment
        .iter()
        .map(|(k, n)| plural(*n, &k.replace('_', " "), &format!("{}s", k.replace('_', " "))))
        .collect();
    let mut out = vec![fact(
        "people:total",
        format!(
            "{} people work for {} ({}) across {}.",
            total,
            input.organisation,
            listing(&kinds),
            plural(input.departments.len(), "department", "departments")
        ),
        vec![people],
    )];
    for (department, n) in &input.departments {
        out.push(fact(
            format!("department:{department}"),
            format!("{department}: {}.", plural(*n, "person", "people")),
            vec![register(
                &format!("people?department={}", url_encode(department)),
                format!("People in {department}"),
            )],
        ));
    }
    out
}

fn procedures(input: &Input) -> Vec<Statement> {
    if input.policies.is_empty() {
        return vec![missing(
            "policies",
            "No policy is published yet: the procedures the description relies on are written down nowhere people have accepted.",
            vec![register("policies", "Policies")],
        )];
    }
    let mut out = vec![fact(
        "policies",
        format!(
            "{} govern how the system is operated; staff accept each on joining and when it changes.",
            plural(input.policies.len(), "published policy", "published policies")
        ),
        vec![register("policies", "Policies")],
    )];
    for p in &input.policies {
        out.push(fact(
            format!("policy:{}", p.id),
            format!(
                "{}, version {}, published {}.",
                p.title,
                p.version,
                format_date(p.published_on)
            ),
            vec![Source::new(S::Policy, &p.id, &p.title)],
        ));
    }
    out
}

fn incidents(input: &Input) -> Vec<Statement> {
    let Some(scope) = &input.scope else {
        return vec![missing(
            "incidents",
            "No audit scope is set, so there is no period to report incidents for.",
            vec![scope_source()],
        )];
    };
    let (from, to) = super::period(scope);
    let mut found: Vec<_> = input
        .events
        .iter()
        .filter(|e| e.kind == "incident" && e.date >= from && e.date <= to)
        .collect();
    found.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let events = register("events?kind=incident", "Events register: incidents");
    let range = format!("between {} and {}", format_date(from), format_date(to));
    if found.is_empty() {
        return vec![fact(
            "incidents",
            format!("No system incidents were recorded {range}."),
            vec![events],
        )];
    }
    let mut out = vec![fact(
        "incidents",
        format!(
            "{} recorded {range}; each is described below with its disposition.",
            plural(found.len(), "system incident was", "system incidents were")
        ),
        vec![events],
    )];
    for e in found {
        let mut text = format!("{} ({}): {}.", e.id, format_date(e.date), e.title.trim_end_matches('.'));
        if let Some(s) = e.summary.as_deref().filter(|s| !s.trim().is_empty()) {
            text.push_str(&format!(" {}", s.trim()));
        }
        match e.outcome.as_deref().filter(|s| !s.trim().is_empty()) {
            Some(o) => text.push_str(&format!(" Disposition: {}", o.trim())),
            None => text.push_str(" No disposition is recorded yet."),
        }
        let statement = fact(
            format!("event:{}", e.id),
            text,
            vec![Source::new(S::Event, &e.id, &e.title)],
        );
        out.push(statement);
    }
    out
}

fn applicable(c: &ControlLine) -> bool {
    c.na_reason.is_none()
}

fn criteria(input: &Input, categories: &BTreeSet<Category>) -> Vec<Statement> {
    let fw = &Catalog::builtin().framework;
    let mut out = Vec::new();
    for k in fw.criteria.iter().filter(|k| categories.contains(&k.category)) {
        let serving = serving(input, &k.id);
        let live: Vec<&ControlLine> = serving.iter().copied().filter(|c| applicable(c)).collect();
        let mut sources = vec![criterion_source(k)];
        if live.is_empty() {
            if serving.is_empty() {
                out.push(missing(
                    format!("criterion:{}", k.id),
                    format!("{} {}: no control in the program addresses it yet.", k.id, k.title),
                    sources,
                ));
            }
            // Every control ruled out: point 8 says why.
            continue;
        }
        let names: Vec<String> = live.iter().map(|c| format!("{} {}", c.code, c.title)).collect();
        sources.extend(live.iter().map(|c| control_source(c)));
        out.push(fact(
            format!("criterion:{}", k.id),
            format!("{} {}: addressed by {}.", k.id, k.title, names.join("; ")),
            sources,
        ));
    }
    out
}

fn user_entity_controls(input: &Input) -> Vec<Statement> {
    let mut out = vec![narrative(input, "user_entity_controls")];
    for v in input.vendors.iter().filter(|v| !v.cuecs.is_empty()) {
        out.push(fact(
            format!("vendor-cuecs:{}", v.name),
            format!("{} expects of us, and we perform: {}.", v.name, sentences(&v.cuecs)),
            vec![Source::new(S::Vendor, &v.name, &v.name)],
        ));
    }
    out
}

fn subservice(input: &Input) -> Vec<Statement> {
    let mut out = Vec::new();
    for v in &input.vendors {
        let source = || vec![Source::new(S::Vendor, &v.name, &v.name)];
        let service = v.service.as_deref().unwrap_or("services").to_lowercase();
        let key = format!("vendor:{}", v.name);
        match v.subservice.as_deref() {
            Some(how @ ("carve_out" | "inclusive")) => {
                let mut text = if how == "carve_out" {
                    format!(
                        "{} provides {service} and is {CARVED_OUT}: its controls are not part of this description or the auditor's tests.",
                        v.name
                    )
                } else {
                    format!(
                        "{} provides {service} and is presented inclusive: its controls that matter to the criteria are part of this description and the auditor's tests.",
                        v.name
                    )
                };
                if !v.dependent_criteria.is_empty() {
                    text.push_str(&format!(
                        " Criteria that depend on its controls: {}.",
                        v.dependent_criteria.join(", ")
                    ));
                }
                if !v.csocs.is_empty() {
                    text.push_str(&format!(
                        " Controls we rely on it to operate: {}.",
                        sentences(&v.csocs)
                    ));
                }
                match v.report_period_end {
                    Some(end) => text.push_str(&format!(
                        " Its own assurance report covers a period ending {}.",
                        format_date(end)
                    )),
                    None => text.push_str(" We hold no assurance report from it."),
                }
                out.push(fact(key, text, source()));
                if how == "carve_out" && (v.dependent_criteria.is_empty() || v.csocs.is_empty()) {
                    out.push(missing(
                        format!("vendor-carve-out:{}", v.name),
                        format!(
                            "{} is carved out but its record does not name {}.",
                            v.name,
                            match (v.dependent_criteria.is_empty(), v.csocs.is_empty()) {
                                (true, true) => "the criteria that depend on it or the controls we rely on it for",
                                (true, false) => "the criteria that depend on it",
                                _ => "the controls we rely on it for (CSOCs)",
                            }
                        ),
                        source(),
                    ));
                }
            }
            Some(_) => {}
            None if v.tier == "critical" => out.push(missing(
                key,
                format!(
                    "{} is a critical vendor ({service}) with no presentation chosen: record it as carve-out or inclusive, or as not a subservice organisation.",
                    v.name
                ),
                source(),
            )),
            None => {}
        }
    }
    if out.is_empty() {
        out.push(fact(
            "subservice",
            "The system relies on no subservice organisation: no vendor is presented carve-out or inclusive.",
            vec![register("vendors", "Vendor register")],
        ));
    }
    out
}

fn not_relevant(input: &Input, categories: &BTreeSet<Category>) -> Vec<Statement> {
    let fw = &Catalog::builtin().framework;
    let mut out = Vec::new();
    if input.scope.is_some() {
        for c in Category::ALL.iter().filter(|c| !categories.contains(c)) {
            let ids: Vec<&str> = fw
                .criteria
                .iter()
                .filter(|k| k.category == *c)
                .map(|k| k.id.as_str())
                .collect();
            if ids.is_empty() {
                continue;
            }
            out.push(fact(
                format!("category:{}", c.as_str()),
                format!(
                    "{} ({}): not part of this report; the category was not chosen for the audit scope.",
                    category_label(*c),
                    ids.join(", ")
                ),
                vec![scope_source()],
            ));
        }
    }
    for k in fw.criteria.iter().filter(|k| categories.contains(&k.category)) {
        let serving = serving(input, &k.id);
        if serving.is_empty() || serving.iter().any(|c| applicable(c)) {
            continue;
        }
        let why: Vec<String> = serving
            .iter()
            .map(|c| format!("{}: {}", c.code, c.na_reason.as_deref().unwrap_or_default()))
            .collect();
        let mut sources = vec![criterion_source(k)];
        sources.extend(serving.iter().map(|c| control_source(c)));
        out.push(fact(
            format!("not-relevant:{}", k.id),
            format!(
                "{} {}: not relevant to the system; every control for it was ruled out ({}).",
                k.id,
                k.title,
                why.join("; ")
            ),
            sources,
        ));
    }
    if out.is_empty() {
        out.push(fact(
            "not-relevant",
            "Every criterion of the categories in scope is relevant to the system.",
            vec![scope_source()],
        ));
    }
    out
}

fn changes(input: &Input) -> Vec<Statement> {
    let Some(scope) = &input.scope else {
        return vec![missing(
            "changes",
            "No audit scope is set, so there is no period to report changes for.",
            vec![scope_source()],
        )];
    };
    if scope.report_type == ReportType::Type1 {
        return vec![fact(
            "changes",
            "A Type 1 report describes the system on one date; changes during a period are not part of it.",
            vec![scope_source()],
        )];
    }
    let (from, to) = super::period(scope);
    let mut listed: Vec<(&super::ChangeLine, String)> = input
        .changes
        .iter()
        .filter(|c| c.at >= from && c.at <= to)
        .filter_map(|c| significant_change(c).map(|t| (c, t)))
        .collect();
    listed.sort_by_key(|(c, _)| c.seq);
    let log = Source::new(S::AuditEntry, "", "Audit log");
    if listed.is_empty() {
        return vec![fact(
            "changes",
            format!(
                "No change to the scope, the system's components, its controls or its policies was recorded between {} and {}.",
                format_date(from),
                format_date(to)
            ),
            vec![log],
        )];
    }
    let earlier = listed.len().saturating_sub(LISTED_CHANGES);
    let mut out = vec![fact(
        "changes",
        format!(
            "{} to the scope, components, controls or policies recorded between {} and {}{}.",
            plural(listed.len(), "change", "changes"),
            format_date(from),
            format_date(to),
            if earlier > 0 {
                format!("; the {LISTED_CHANGES} most recent are listed")
            } else {
                String::new()
            }
        ),
        vec![log],
    )];
    for (c, text) in listed.into_iter().skip(earlier) {
        out.push(fact(
            format!("change:{}", c.seq),
            format!("{}: {text} (by {}).", format_date(c.at), c.actor),
            vec![Source::new(
                S::AuditEntry,
                &c.subject,
                format!("Audit log entry {}", c.seq),
            )],
        ));
    }
    out
}
