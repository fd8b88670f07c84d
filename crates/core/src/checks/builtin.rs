//! Built-in checks over the program's own records. Thresholds come from policy parameters
//! where a policy sets them, with the defaults below otherwise.

use time::{Date, Duration, Month};

use super::{CheckDef, Ctx, Outcome, Remediation};
use crate::dates::{add_months, format_date};
use crate::register::Record;

/// The same day `months` earlier (clamped to month end).
use crate::dates::months_before;

fn text<'a>(r: &'a Record, field: &str) -> &'a str {
    r.get(field).as_str().unwrap_or("")
}

fn email(r: &Record) -> String {
    text(r, "email").to_string()
}

/// The latest dated event of a kind.
fn latest_event(ctx: &Ctx, kind: &str) -> Option<Date> {
    ctx.facts
        .events
        .iter()
        .filter(|e| text(e, "kind") == kind)
        .filter_map(|e| e.get("date").as_date())
        .max()
}

/// One outcome: was an event of `kind` held within `months`?
fn recent_event(ctx: &Ctx, kind: &str, label: &str, months: i64) -> Vec<Outcome> {
    let since = months_before(ctx.today, months);
    match latest_event(ctx, kind) {
        Some(d) if d >= since => vec![Outcome::pass(
            label,
            format!("last on {}, within {months} months", format_date(d)),
        )],
        Some(d) => vec![Outcome::fail(
            label,
            format!(
                "last on {}, more than {months} months ago (due by {})",
                format_date(d),
                format_date(add_months(d, months as u32))
            ),
        )],
        None => vec![Outcome::fail(
            label,
            format!(
                "none recorded (record it as an event of kind {})",
                kind.replace('_', " ")
            ),
        )],
    }
}

fn latest_training(ctx: &Ctx, who: &str, kind: &str) -> Option<Date> {
    ctx.facts
        .training_of(who)
        .filter(|t| text(t, "kind") == kind)
        .filter_map(|t| t.get("completed_on").as_date())
        .max()
}

fn first_training(ctx: &Ctx, who: &str, kind: &str) -> Option<Date> {
    ctx.facts
        .training_of(who)
        .filter(|t| text(t, "kind") == kind)
        .filter_map(|t| t.get("completed_on").as_date())
        .min()
}

fn people_have_a_manager(ctx: &Ctx) -> Vec<Outcome> {
    ctx.staff()
        .map(|p| {
            let e = email(p);
            if !text(p, "manager_email").is_empty() {
                Outcome::pass(&e, format!("reports to {}", text(p, "manager_email")))
            } else if ctx.facts.manages(&e) {
                Outcome::pass(&e, "top of the reporting line")
            } else {
                Outcome::fail(&e, "no manager recorded, and nobody reports to them")
            }
        })
        .collect()
}

fn background_checks(ctx: &Ctx) -> Vec<Outcome> {
    let required = ctx
        .facts
        .params
        .get("background_check_required")
        .is_none_or(|v| v != "false");
    ctx.staff()
        .filter(|p| text(p, "employment_type") == "employee")
        .map(|p| {
            let e = email(p);
            let check = ctx.facts.background_check(&e);
            match (required, check.map(|c| text(c, "status"))) {
                (false, _) => Outcome::pass(&e, "not required by the HR security policy"),
                (true, Some("passed")) => Outcome::pass(&e, "passed"),
                (true, Some("waived")) => Outcome::pass(
                    &e,
                    format!(
                        "waived: {}",
                        check
                            .map(|c| text(c, "notes"))
                            .filter(|n| !n.is_empty())
                            .unwrap_or("no reason given")
                    ),
                ),
                (true, Some(status)) => Outcome::fail(&e, format!("background check is {status}")),
                (true, None) => Outcome::fail(&e, "no background check on record"),
            }
        })
        .collect()
}

fn background_check_before_start(ctx: &Ctx) -> Vec<Outcome> {
    ctx.staff()
        .filter(|p| text(p, "employment_type") == "employee")
        .filter_map(|p| {
            let e = email(p);
            let check = ctx
                .facts
                .background_check(&e)
                .filter(|c| text(c, "status") == "passed")?;
            let (done, start) = (check.get("completed_on").as_date()?, p.get("start_date").as_date()?);
            Some(if done <= start {
                Outcome::pass(
                    &e,
                    format!("completed {} before starting {}", format_date(done), format_date(start)),
                )
            } else {
                Outcome::fail(
                    &e,
                    format!(
                        "completed {} days after the start date {}",
                        (done - start).whole_days(),
                        format_date(start)
                    ),
                )
            })
        })
        .collect()
}

fn onboarding_training(ctx: &Ctx) -> Vec<Outcome> {
    let days = ctx.param("training_due_days_after_start", 30);
    ctx.staff()
        .filter_map(|p| {
            let e = email(p);
            let start = p.get("start_date").as_date()?;
            let due = start + Duration::days(days);
            let first = first_training(ctx, &e, "security_awareness");
            Some(match first {
                Some(d) if d <= due => Outcome::pass(
                    &e,
                    format!("trained on {}, within {days} days of starting", format_date(d)),
                ),
                Some(d) => Outcome::fail(
                    &e,
                    format!(
                        "first trained on {}, after the due date {}",
                        format_date(d),
                        format_date(due)
                    ),
                ),
                None if due >= ctx.today => Outcome::pass(&e, format!("not yet due (due by {})", format_date(due))),
                None => Outcome::fail(
                    &e,
                    format!("no security awareness training; it was due by {}", format_date(due)),
                ),
            })
        })
        .collect()
}

fn yearly_training(ctx: &Ctx) -> Vec<Outcome> {
    let months = ctx.param("training_interval_months", 12);
    let since = months_before(ctx.today, months);
    ctx.staff()
        .filter(|p| p.get("start_date").as_date().is_none_or(|d| d < since))
        .map(|p| {
            let e = email(p);
            match latest_training(ctx, &e, "security_awareness") {
                Some(d) if d >= since => Outcome::pass(&e, format!("last trained on {}", format_date(d))),
                Some(d) => Outcome::fail(
                    &e,
                    format!("last trained on {}, more than {months} months ago", format_date(d)),
                ),
                None => Outcome::fail(&e, "no security awareness training on record"),
            }
        })
        .collect()
}

fn secure_coding_training(ctx: &Ctx) -> Vec<Outcome> {
    let since = months_before(ctx.today, ctx.param("training_interval_months", 12));
    ctx.staff()
        .filter(|p| text(p, "department").eq_ignore_ascii_case("engineering"))
        .map(|p| {
            let e = email(p);
            match latest_training(ctx, &e, "secure_coding") {
                Some(d) if d >= since => Outcome::pass(&e, format!("secure coding training on {}", format_date(d))),
                Some(d) => Outcome::fail(&e, format!("secure coding training last on {}", format_date(d))),
                None => Outcome::fail(&e, "no secure coding training on record"),
            }
        })
        .collect()
}

fn policies_published(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .policies
        .iter()
        .map(|p| match (&p.published_version, &p.approved_by) {
            (Some(v), Some(by)) => Outcome::pass(&p.id, format!("version {v} approved by {by} and published")),
            _ => Outcome::fail(&p.id, "no approved, published version"),
        })
        .collect()
}

/// Whether `text` names a policy: its id as a whole word, or its title (ignoring case).
fn names_policy(text: &str, p: &super::PolicyFact) -> bool {
    let text = text.to_lowercase();
    let id = p.id.to_lowercase();
    let word = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    let by_id = text.match_indices(&id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + id.len()..].chars().next();
        !before.is_some_and(word) && !after.is_some_and(word)
    });
    by_id || (!p.title.trim().is_empty() && text.contains(&p.title.to_lowercase()))
}

/// Reviews recorded without a new version: dated events (not incidents) that list a control
/// this check tests (POL-02 in the library) among their `controls`. An event reviews the
/// policies it names by id or title in its title, summary or outcome, or the whole suite
/// when it names none. Returns, per policy id, the latest such review.
fn recorded_policy_reviews(ctx: &Ctx) -> std::collections::HashMap<String, Date> {
    let tested: Vec<&str> = super::by_id("policies-reviewed")
        .map(|c| c.controls().collect())
        .unwrap_or_default();
    let mut latest: std::collections::HashMap<String, Date> = std::collections::HashMap::new();
    for e in ctx.facts.events.iter().filter(|e| text(e, "kind") != "incident") {
        let Some(date) = e.get("date").as_date().filter(|d| *d <= ctx.today) else {
            continue;
        };
        let about_reviews = match e.get("controls") {
            crate::register::Value::List(cs) => cs.iter().any(|c| tested.iter().any(|t| t.eq_ignore_ascii_case(c))),
            _ => false,
        };
        if !about_reviews {
            continue;
        }
        let words = [text(e, "title"), text(e, "summary"), text(e, "outcome")].join(" ");
        let named: Vec<&super::PolicyFact> = ctx.facts.policies.iter().filter(|p| names_policy(&words, p)).collect();
        let reviewed: Vec<&super::PolicyFact> = if named.is_empty() {
            ctx.facts.policies.iter().collect()
        } else {
            named
        };
        for p in reviewed {
            let slot = latest.entry(p.id.clone()).or_insert(date);
            *slot = (*slot).max(date);
        }
    }
    latest
}

fn policies_reviewed(ctx: &Ctx) -> Vec<Outcome> {
    let reviews = recorded_policy_reviews(ctx);
    ctx.facts
        .policies
        .iter()
        .filter_map(|p| {
            let published = p.published_on?;
            let review = reviews.get(&p.id).copied().filter(|d| *d > published);
            let (last, how) = match review {
                Some(d) => (d, format!("reviewed without change {}", format_date(d))),
                None => (published, format!("published {}", format_date(published))),
            };
            let due = add_months(last, p.review_interval_months);
            Some(if due >= ctx.today {
                Outcome::pass(&p.id, format!("{how}, review due {}", format_date(due)))
            } else {
                Outcome::fail(&p.id, format!("review was due {} ({how})", format_date(due)))
            })
        })
        .collect()
}

/// Every person accepts each published policy within `policy_acceptance_days` of the later
/// of their start date and the version's publication: a new starter, or a new version, is
/// not a failure on day one.
fn policies_accepted(ctx: &Ctx) -> Vec<Outcome> {
    let window = Duration::days(ctx.param("policy_acceptance_days", 30).max(0));
    let published: Vec<_> = ctx
        .facts
        .policies
        .iter()
        .filter(|p| p.published_version.is_some())
        .map(|p| {
            let accepted: std::collections::HashSet<&str> = p.accepted_by.iter().map(String::as_str).collect();
            (p, accepted)
        })
        .collect();
    if published.is_empty() {
        return Vec::new();
    }
    ctx.staff()
        .map(|p| {
            let e = email(p);
            let start = p.get("start_date").as_date();
            let (mut missing, mut pending) = (Vec::new(), Vec::new());
            for (pol, accepted) in &published {
                if accepted.contains(e.as_str()) {
                    continue;
                }
                let from = match (start, pol.published_on) {
                    (Some(s), Some(d)) => Some(s.max(d)),
                    (s, d) => s.or(d),
                };
                match from.map(|f| f + window) {
                    Some(due) if due >= ctx.today => pending.push((pol.id.as_str(), due)),
                    _ => missing.push(pol.id.as_str()),
                }
            }
            if !missing.is_empty() {
                Outcome::fail(
                    &e,
                    format!("has not accepted the current version of: {}", missing.join(", ")),
                )
            } else if let Some(due) = pending.iter().map(|(_, d)| *d).min() {
                let ids: Vec<&str> = pending.iter().map(|(id, _)| *id).collect();
                Outcome::pass(
                    &e,
                    format!("not yet due: {} (first due by {})", ids.join(", "), format_date(due)),
                )
            } else {
                Outcome::pass(&e, format!("accepted all {} published policies", published.len()))
            }
        })
        .collect()
}

/// Critical and high tier vendors (the tiers the vendor policy reviews) have a current report.
fn critical_vendor_reports(ctx: &Ctx) -> Vec<Outcome> {
    let months = ctx.param("critical_vendor_report_max_age_months", 12);
    let since = months_before(ctx.today, months);
    ctx.facts
        .vendors
        .iter()
        .filter(|v| matches!(text(v, "tier"), "critical" | "high"))
        .map(|v| {
            let name = text(v, "name");
            let reports: Vec<&String> = match v.get("soc2_report") {
                crate::register::Value::List(ids) => {
                    ids.iter().filter(|id| ctx.facts.is_current_evidence(id)).collect()
                }
                _ => Vec::new(),
            };
            match (reports.is_empty(), v.get("report_period_end").as_date()) {
                (true, _) => Outcome::fail(name, "no current SOC 2 (or equivalent) report on file"),
                (false, None) => Outcome::fail(name, "the report's period end is not recorded"),
                (false, Some(end)) if end < since => Outcome::fail(
                    name,
                    format!(
                        "the report covers up to {}, more than {months} months ago",
                        format_date(end)
                    ),
                ),
                (false, Some(end)) => {
                    Outcome::pass(name, format!("report on file covering up to {}", format_date(end)))
                }
            }
        })
        .collect()
}

fn vendor_reviews(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .vendors
        .iter()
        .filter(|v| matches!(text(v, "tier"), "critical" | "high"))
        .map(|v| {
            let name = text(v, "name");
            match v.get("next_review").as_date() {
                Some(d) if d >= ctx.today => Outcome::pass(name, format!("next review due {}", format_date(d))),
                Some(d) => Outcome::fail(name, format!("review was due {}", format_date(d))),
                None => Outcome::fail(name, "no review date set"),
            }
        })
        .collect()
}

fn owned<'a>(items: impl Iterator<Item = &'a Record>, key: &str, owner: &str, what: &str) -> Vec<Outcome> {
    items
        .map(|r| {
            let id = text(r, key);
            match r.get(owner).as_str() {
                Some(o) => Outcome::pass(id, format!("owned by {o}")),
                None => Outcome::fail(id, format!("this {what} has no owner")),
            }
        })
        .collect()
}

fn vendor_owners(ctx: &Ctx) -> Vec<Outcome> {
    owned(ctx.facts.vendors.iter(), "name", "owner", "vendor")
}

fn vendor_data_known(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .vendors
        .iter()
        .filter(|v| matches!(text(v, "tier"), "critical" | "high"))
        .map(|v| match v.get("data_categories") {
            crate::register::Value::List(d) if !d.is_empty() => {
                Outcome::pass(text(v, "name"), format!("shares: {}", d.join(", ")))
            }
            _ => Outcome::fail(text(v, "name"), "the data shared with this vendor is not recorded"),
        })
        .collect()
}

fn asset_owners(ctx: &Ctx) -> Vec<Outcome> {
    owned(ctx.facts.assets.iter(), "name", "owner", "asset")
}

fn risk_owners(ctx: &Ctx) -> Vec<Outcome> {
    owned(ctx.facts.risks.iter().map(|r| &r.record), "id", "owner", "risk")
}

fn quarter_start(d: Date) -> Date {
    let m = ((d.month() as u8 - 1) / 3) * 3 + 1;
    Date::from_calendar_date(d.year(), Month::try_from(m).expect("1..=12"), 1).expect("valid")
}

fn risks_reviewed_this_quarter(ctx: &Ctx) -> Vec<Outcome> {
    let start = quarter_start(ctx.today);
    let assessment = latest_event(ctx, "risk_assessment").filter(|d| *d >= start);
    ctx.facts
        .risks
        .iter()
        .map(|r| {
            let id = text(&r.record, "id");
            match (r.last_review, assessment) {
                (Some(d), _) if d >= start => Outcome::pass(id, format!("reviewed on {}", format_date(d))),
                (_, Some(d)) => Outcome::pass(id, format!("covered by the risk assessment of {}", format_date(d))),
                (Some(d), None) => Outcome::fail(
                    id,
                    format!(
                        "last reviewed {}, before this quarter began {}",
                        format_date(d),
                        format_date(start)
                    ),
                ),
                (None, None) => Outcome::fail(id, "never reviewed"),
            }
        })
        .collect()
}

fn risks_signed_off(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .risks
        .iter()
        .map(|r| {
            let id = text(&r.record, "id");
            match (r.signed_off, r.sign_off_outdated) {
                (Some(d), false) => Outcome::pass(id, format!("signed off on {}", format_date(d))),
                (Some(d), true) => Outcome::fail(id, format!("changed since its sign-off on {}", format_date(d))),
                (None, _) => Outcome::fail(id, "not signed off by management"),
            }
        })
        .collect()
}

fn accepted_risks_signed_off(ctx: &Ctx) -> Vec<Outcome> {
    let accepted: Vec<_> = ctx
        .facts
        .risks
        .iter()
        .filter(|r| text(&r.record, "treatment") == "accept")
        .cloned()
        .collect();
    risks_signed_off(&Ctx {
        facts: &super::Facts {
            risks: accepted,
            ..Default::default()
        },
        today: ctx.today,
        now_ms: ctx.now_ms,
    })
}

/// A check that an event of a kind was held within an interval (a policy parameter, or a default).
macro_rules! recent_event_check {
    ($name:ident, $kind:literal, $label:literal, $param:literal, $default:literal) => {
        fn $name(ctx: &Ctx) -> Vec<Outcome> {
            recent_event(ctx, $kind, $label, ctx.param($param, $default))
        }
    };
}

recent_event_check!(
    risk_assessment,
    "risk_assessment",
    "risk assessment",
    "risk_assessment_interval_months",
    12
);
recent_event_check!(
    access_review,
    "access_review",
    "user access review",
    "access_review_interval_months",
    3
);
recent_event_check!(
    dr_test,
    "dr_test",
    "disaster recovery test",
    "dr_test_interval_months",
    12
);
recent_event_check!(
    tabletop,
    "tabletop_exercise",
    "incident response tabletop",
    "tabletop_interval_months",
    12
);
recent_event_check!(
    restore_test,
    "backup_restore_test",
    "backup restore test",
    "backup_restore_test_interval_months",
    3
);
recent_event_check!(
    pentest,
    "penetration_test",
    "penetration test",
    "pentest_interval_months",
    12
);
// No policy sets the steering review's cadence: quarterly, as GOV-05 states.
recent_event_check!(
    management_review,
    "management_review",
    "management review",
    "management_review_interval_months",
    3
);

fn events_have_evidence(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .events
        .iter()
        .filter(|e| text(e, "kind") != "incident")
        .map(|e| {
            let id = text(e, "id");
            let current = match e.get("evidence") {
                crate::register::Value::List(ids) => ids.iter().filter(|i| ctx.facts.is_current_evidence(i)).count(),
                _ => 0,
            };
            if current > 0 {
                Outcome::pass(id, format!("{current} evidence item(s) attached"))
            } else {
                Outcome::fail(id, "no current evidence attached; an auditor will ask for it")
            }
        })
        .collect()
}

fn controls_owned(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .controls
        .iter()
        .filter(|c| c.applicable)
        .map(|c| match &c.owner {
            Some(o) => Outcome::pass(&c.code, format!("owned by {o}")),
            None => Outcome::fail(&c.code, "no owner assigned"),
        })
        .collect()
}

fn leavers_have_end_dates(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .people
        .iter()
        .filter(|p| text(p, "employment_type") == "contractor")
        .map(|p| {
            let e = email(p);
            match p.get("end_date").as_date() {
                Some(d) => Outcome::pass(&e, format!("engagement ends {}", format_date(d))),
                None => Outcome::fail(&e, "contractor without an end date: access has no planned expiry"),
            }
        })
        .collect()
}

const DAY_MS: i64 = 86_400_000;

fn ms_date(ms: i64) -> String {
    crate::dates::date_of_ms(ms).map(format_date).unwrap_or_default()
}

fn account_label(a: &crate::facts::Account) -> String {
    format!("{}/{}", a.system, a.username)
}

/// The person an account belongs to, by email.
fn owner_of<'a>(ctx: &'a Ctx, a: &crate::facts::Account) -> Option<&'a Record> {
    let email = a.email.as_deref()?;
    ctx.facts.person(email)
}

fn active_humans<'a>(ctx: &'a Ctx) -> impl Iterator<Item = &'a crate::facts::Account> {
    ctx.facts.accounts.iter().filter(|a| a.active && a.human)
}

fn mfa_verdict(a: &crate::facts::Account) -> Outcome {
    match a.mfa {
        Some(true) => Outcome::pass(account_label(a), "MFA enabled"),
        Some(false) => Outcome::fail(account_label(a), "MFA is not enabled"),
        None => Outcome::fail(account_label(a), "MFA status unknown: import the system's factor data"),
    }
}

fn mfa_everywhere(ctx: &Ctx) -> Vec<Outcome> {
    active_humans(ctx).map(mfa_verdict).collect()
}

fn admin_mfa(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .accounts
        .iter()
        .filter(|a| a.active && a.admin)
        .map(mfa_verdict)
        .collect()
}

fn leavers_disabled(ctx: &Ctx) -> Vec<Outcome> {
    let grace = ctx.param("leaver_deprovision_hours", 24) * 3_600_000;
    ctx.facts
        .accounts
        .iter()
        .filter_map(|a| {
            let person = owner_of(ctx, a)?;
            let end = person.get("end_date").as_date()?;
            // The last working day ends at midnight after it.
            let left_ms = (end + Duration::days(1)).midnight().assume_utc().unix_timestamp() * 1000;
            if left_ms > ctx.now_ms {
                return None;
            }
            let who = email(person);
            Some(match (a.active, a.disabled_at) {
                (false, Some(d)) if d <= left_ms + grace => Outcome::pass(
                    account_label(a),
                    format!("{who} left {}; disabled {}", format_date(end), ms_date(d)),
                ),
                (false, Some(d)) => Outcome::fail(
                    account_label(a),
                    format!(
                        "{who} left {}; disabled only on {}, after the {}-hour limit",
                        format_date(end),
                        ms_date(d),
                        grace / 3_600_000
                    ),
                ),
                (false, None) => Outcome::pass(
                    account_label(a),
                    format!("{who} left {}; account disabled", format_date(end)),
                ),
                (true, _) if ctx.now_ms <= left_ms + grace => Outcome::pass(
                    account_label(a),
                    format!("{who} left {}; still within the grace period", format_date(end)),
                ),
                (true, _) => Outcome::fail(
                    account_label(a),
                    format!("{who} left on {} but this account is still active", format_date(end)),
                ),
            })
        })
        .collect()
}

fn admins_few_and_named(ctx: &Ctx) -> Vec<Outcome> {
    let max = ctx.param("privileged_admins_max", 5);
    let mut out = Vec::new();
    let mut systems: Vec<&str> = ctx
        .facts
        .accounts
        .iter()
        .filter(|a| a.admin && a.active)
        .map(|a| a.system.as_str())
        .collect();
    systems.sort();
    systems.dedup();
    for system in systems {
        let admins: Vec<_> = ctx
            .facts
            .accounts
            .iter()
            .filter(|a| a.system == system && a.admin && a.active && !a.root)
            .collect();
        out.push(if admins.len() as i64 <= max {
            Outcome::pass(
                format!("{system}: administrators"),
                format!("{} administrators (at most {max})", admins.len()),
            )
        } else {
            Outcome::fail(
                format!("{system}: administrators"),
                format!("{} administrators, more than the {max} the policy allows", admins.len()),
            )
        });
        for a in admins {
            out.push(match owner_of(ctx, a) {
                Some(p) => Outcome::pass(account_label(a), format!("belongs to {}", email(p))),
                None => Outcome::fail(account_label(a), "administrator account not tied to a named person"),
            });
        }
    }
    out
}

fn root_mfa(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts.accounts.iter().filter(|a| a.root).map(mfa_verdict).collect()
}

fn root_no_keys(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .accounts
        .iter()
        .filter(|a| a.root)
        .map(|a| {
            let active: Vec<&str> = a
                .access_keys
                .iter()
                .filter(|k| k.active)
                .map(|k| k.label.as_str())
                .collect();
            if active.is_empty() {
                Outcome::pass(account_label(a), "no active access keys")
            } else {
                Outcome::fail(
                    account_label(a),
                    format!("root has active access keys: {}", active.join(", ")),
                )
            }
        })
        .collect()
}

/// The machine identity register's entry for an account, by system and account name.
fn machine_identity<'a>(ctx: &'a Ctx, a: &crate::facts::Account) -> Option<&'a Record> {
    ctx.facts.machine_identity(&a.system, &a.username)
}

fn keys_rotated(ctx: &Ctx) -> Vec<Outcome> {
    let policy_days = ctx.param("access_key_rotation_days", 90);
    ctx.facts
        .accounts
        .iter()
        .filter(|a| a.active)
        .flat_map(|a| a.access_keys.iter().filter(|k| k.active).map(move |k| (a, k)))
        .map(|(a, k)| {
            // A machine identity's own limit, where the register sets one.
            let days = machine_identity(ctx, a)
                .and_then(|m| m.get("rotation_days").as_int())
                .unwrap_or(policy_days);
            let record = format!("{} {}", account_label(a), k.label);
            match k.last_rotated {
                Some(t) if ctx.now_ms - t <= days * DAY_MS => Outcome::pass(record, format!("rotated {}", ms_date(t))),
                Some(t) => Outcome::fail(
                    record,
                    format!("last rotated {}, more than {days} days ago", ms_date(t)),
                ),
                None => Outcome::fail(record, "rotation date unknown"),
            }
        })
        .collect()
}

fn inactive_accounts(ctx: &Ctx) -> Vec<Outcome> {
    let days = ctx.param("inactive_account_days", 90);
    let limit = ctx.now_ms - days * DAY_MS;
    // An export that reports neither use nor creation (GitHub's members list) says nothing
    // either way: such accounts are left out rather than called unused.
    active_humans(ctx)
        .filter_map(|a| match (a.last_activity, a.created_at) {
            (None, None) => None,
            (Some(t), _) if t >= limit => Some(Outcome::pass(account_label(a), format!("last active {}", ms_date(t)))),
            (Some(t), _) => Some(Outcome::fail(
                account_label(a),
                format!("no activity since {} (over {days} days)", ms_date(t)),
            )),
            (None, Some(c)) if c >= limit => Some(Outcome::pass(account_label(a), "new account, not used yet")),
            (None, _) => Some(Outcome::fail(
                account_label(a),
                format!("never used, and older than {days} days"),
            )),
        })
        .collect()
}

fn joiners_have_baseline_accounts(ctx: &Ctx) -> Vec<Outcome> {
    use crate::access_review::jml;
    let baseline = jml::baseline_systems(&ctx.facts.accounts);
    if baseline.is_empty() {
        return Vec::new();
    }
    ctx.staff()
        .filter_map(|p| {
            let start = p
                .get("start_date")
                .as_date()
                .filter(|s| jml::is_joiner(*s, ctx.today))?;
            let e = email(p);
            let missing = jml::missing_baseline(&baseline, ctx.facts.accounts_of(&e));
            Some(if missing.is_empty() {
                Outcome::pass(
                    &e,
                    format!("started {}; has {}", format_date(start), baseline.join(", ")),
                )
            } else {
                Outcome::fail(
                    &e,
                    format!(
                        "started {}; no active account in {}",
                        format_date(start),
                        missing.join(", ")
                    ),
                )
            })
        })
        .collect()
}

fn movers_access_reviewed(ctx: &Ctx) -> Vec<Outcome> {
    use crate::access_review::jml::{self, MoveReview};
    let days = ctx.param("mover_review_days", jml::MOVER_REVIEW_DAYS);
    let none = Vec::new();
    ctx.facts
        .moves
        .iter()
        .filter(|m| m.on <= ctx.today)
        .map(|m| {
            let label = format!("{} ({} on {})", m.email, m.field, format_date(m.on));
            let reviews = ctx.facts.access_reviewed.get(&m.email.to_lowercase()).unwrap_or(&none);
            match jml::move_review(m, reviews, days, ctx.today) {
                MoveReview::Reviewed { at_ms } => Outcome::pass(
                    label,
                    format!(
                        "changed to '{}'; access reviewed {}",
                        m.to,
                        crate::date_of_ms(at_ms).map(format_date).unwrap_or_default()
                    ),
                ),
                MoveReview::Pending { due } => Outcome::pass(
                    label,
                    format!(
                        "changed to '{}'; access review due by {}, not late yet",
                        m.to,
                        format_date(due)
                    ),
                ),
                MoveReview::Late { due } => Outcome::fail(label, jml::late_move(m, due)),
            }
        })
        .collect()
}

fn machine_identities_owned(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .accounts
        .iter()
        .filter(|a| a.active && !a.human)
        .map(|a| match machine_identity(ctx, a) {
            Some(m) => Outcome::pass(
                account_label(a),
                format!("owned by {}: {}", text(m, "owner"), text(m, "purpose")),
            ),
            None => Outcome::fail(
                account_label(a),
                "a non-human identity missing from the machine identity register: record its owner and purpose",
            ),
        })
        .collect()
}

/// The grants of `email` on `system` running on `day`.
fn grant_on<'a>(ctx: &'a Ctx, system: &str, email: &str, day: Date) -> Option<&'a Record> {
    ctx.facts.grants.iter().find(|g| {
        text(g, "system").eq_ignore_ascii_case(system)
            && text(g, "email").eq_ignore_ascii_case(email)
            && g.get("starts_on").as_date().is_some_and(|s| s <= day)
            && g.get("ends_on").as_date().is_some_and(|e| e >= day)
    })
}

fn privileged_access_covered(ctx: &Ctx) -> Vec<Outcome> {
    let months = ctx.param("privileged_access_review_interval_months", 3);
    let since = months_before(ctx.today, months);
    ctx.facts
        .accounts
        .iter()
        .filter(|a| a.active && a.admin && !a.root && a.human)
        .map(|a| {
            let grant = a.email.as_deref().and_then(|e| grant_on(ctx, &a.system, e, ctx.today));
            let reviewed = ctx
                .facts
                .reviewed_admins
                .iter()
                .filter(|(s, id, _)| *s == a.system && *id == a.external_id)
                .map(|(_, _, on)| *on)
                .max();
            match (grant, reviewed) {
                (Some(g), _) => Outcome::pass(
                    account_label(a),
                    format!(
                        "granted by {} until {}, approved by {}",
                        text(g, "id"),
                        g.get("ends_on").as_date().map(format_date).unwrap_or_default(),
                        text(g, "approved_by")
                    ),
                ),
                (None, Some(on)) if on >= since => Outcome::pass(
                    account_label(a),
                    format!("a standing administrator, kept in the access review closed {}", format_date(on)),
                ),
                (None, Some(on)) => Outcome::fail(
                    account_label(a),
                    format!(
                        "last kept as administrator in an access review closed {}, more than {months} months ago, and no grant covers it",
                        format_date(on)
                    ),
                ),
                (None, None) => Outcome::fail(
                    account_label(a),
                    "an administrator neither covered by a current access grant nor kept in an access review",
                ),
            }
        })
        .collect()
}

fn grants_expire(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .grants
        .iter()
        .filter_map(|g| {
            let end = g.get("ends_on").as_date()?;
            let label = format!("{} ({} on {})", text(g, "id"), text(g, "email"), text(g, "system"));
            if end >= ctx.today {
                return Some(Outcome::pass(label, format!("runs until {}", format_date(end))));
            }
            let still = ctx.facts.accounts.iter().find(|a| {
                a.active
                    && a.admin
                    && a.system.eq_ignore_ascii_case(text(g, "system"))
                    && a.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(text(g, "email")))
            });
            Some(match still {
                // A later grant that runs today is a renewal, not an overstay.
                Some(a) if grant_on(ctx, &a.system, text(g, "email"), ctx.today).is_none() => Outcome::fail(
                    label,
                    format!(
                        "ended {} but {} is still an administrator",
                        format_date(end),
                        account_label(a)
                    ),
                ),
                _ => Outcome::pass(label, format!("ended {}; the elevation is gone", format_date(end))),
            })
        })
        .collect()
}

fn accounts_belong_to_people(ctx: &Ctx) -> Vec<Outcome> {
    if ctx.facts.people.is_empty() {
        return Vec::new();
    }
    active_humans(ctx)
        .filter(|a| !a.root)
        .map(|a| {
            if crate::access_review::jml::is_orphan(a, |e| ctx.facts.person(e).is_some()) {
                Outcome::fail(account_label(a), "no person in the register has this account's email")
            } else {
                Outcome::pass(
                    account_label(a),
                    format!("belongs to {}", a.email.as_deref().unwrap_or_default()),
                )
            }
        })
        .collect()
}

fn findings_within_sla(ctx: &Ctx, severity: crate::facts::Severity, key: &str, default: i64) -> Vec<Outcome> {
    let days = ctx.param(key, default);
    ctx.facts
        .findings
        .iter()
        .filter(|f| f.finding.severity == severity)
        .map(|f| {
            let record = format!("{} on {}", f.finding.external_id, f.finding.resource);
            let due = f.first_seen + days * DAY_MS;
            match f.fixed_at {
                Some(fixed) if fixed <= due => {
                    Outcome::pass(record, format!("fixed {} (due {})", ms_date(fixed), ms_date(due)))
                }
                Some(fixed) => Outcome::fail(
                    record,
                    format!("fixed {} but due {} ({days}-day SLA)", ms_date(fixed), ms_date(due)),
                ),
                None if ctx.now_ms <= due => Outcome::pass(record, format!("open, due {}", ms_date(due))),
                None => Outcome::fail(
                    record,
                    format!(
                        "open since {}, past its {days}-day SLA (due {})",
                        ms_date(f.first_seen),
                        ms_date(due)
                    ),
                ),
            }
        })
        .collect()
}

/// The policy parameter holding how many days a finding of this severity may stay open, and
/// its default; `None` for severities without a deadline. Defaults match the vulnerability
/// management policy template: deadlines a small team can keep every time (stricter firms set
/// 7 and 14 days for critical and high).
pub fn finding_sla(severity: crate::facts::Severity) -> Option<(&'static str, i64)> {
    use crate::facts::Severity::*;
    match severity {
        Critical => Some(("vuln_sla_critical_days", 14)),
        High => Some(("vuln_sla_high_days", 30)),
        Medium => Some(("vuln_sla_medium_days", 90)),
        Low => Some(("vuln_sla_low_days", 180)),
        Negligible | Unknown => None,
    }
}

fn sla_of(ctx: &Ctx, severity: crate::facts::Severity) -> Vec<Outcome> {
    let (key, default) = finding_sla(severity).expect("only rated severities have SLA checks");
    findings_within_sla(ctx, severity, key, default)
}

fn critical_sla(ctx: &Ctx) -> Vec<Outcome> {
    sla_of(ctx, crate::facts::Severity::Critical)
}

fn high_sla(ctx: &Ctx) -> Vec<Outcome> {
    sla_of(ctx, crate::facts::Severity::High)
}

fn medium_sla(ctx: &Ctx) -> Vec<Outcome> {
    sla_of(ctx, crate::facts::Severity::Medium)
}

fn low_sla(ctx: &Ctx) -> Vec<Outcome> {
    sla_of(ctx, crate::facts::Severity::Low)
}

fn scans_recent(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .scans
        .iter()
        .map(|(source, scope, last)| {
            let record = format!("{source}: {scope}");
            if ctx.now_ms - last <= 7 * DAY_MS {
                Outcome::pass(record, format!("last scanned {}", ms_date(*last)))
            } else {
                Outcome::fail(record, format!("last scanned {}, more than 7 days ago", ms_date(*last)))
            }
        })
        .collect()
}

/// Evidence stopped flowing: a configured connector failing (or never successful) for more
/// than a day ([`crate::facts::ConnectorFact::state`]).
fn connectors_collecting(ctx: &Ctx) -> Vec<Outcome> {
    use crate::facts::ConnectorState;
    ctx.facts
        .connectors
        .iter()
        .map(|c| {
            let record = format!("connector: {}", c.name);
            let last = match c.last_success_at {
                Some(t) => format!("last collected {}", ms_date(t)),
                None => format!("configured {} and never collected", ms_date(c.configured_at)),
            };
            let error = c
                .last_error
                .as_deref()
                .map(|e| format!("; the latest attempt failed: {e}"))
                .unwrap_or_default();
            match c.state(ctx.now_ms) {
                ConnectorState::Stopped => Outcome::fail(
                    record,
                    format!("evidence stopped flowing: {last}, more than a day ago{error}"),
                ),
                ConnectorState::Failing => Outcome::pass(
                    record,
                    format!(
                        "{last}; failing for less than a day ({} failed run(s)){error}",
                        c.failures
                    ),
                ),
                ConnectorState::Waiting => Outcome::pass(record, format!("{last}; its first run is due")),
                ConnectorState::Collecting => Outcome::pass(record, last),
            }
        })
        .collect()
}

/// Protections that apply to a repository's default branch.
fn default_branch_protections<'a>(ctx: &'a Ctx, repo: &str) -> Vec<&'a crate::facts::Protection> {
    ctx.facts
        .protections
        .iter()
        .filter(|p| {
            p.repository == repo && matches!(p.branch.as_str(), "~DEFAULT_BRANCH" | "main" | "master" | "trunk")
        })
        .collect()
}

/// Every repository named by a protection or a change, sorted (hundreds, from 200,000 changes).
fn repositories<'a>(ctx: &Ctx<'a>) -> Vec<&'a str> {
    let mut set: std::collections::HashSet<&'a str> =
        ctx.facts.protections.iter().map(|p| p.repository.as_str()).collect();
    set.extend(ctx.facts.changes.iter().map(|c| c.repository.as_str()));
    let mut repos: Vec<&str> = set.into_iter().collect();
    repos.sort_unstable();
    repos
}

fn default_branch_reviews(ctx: &Ctx) -> Vec<Outcome> {
    let needed = ctx.param("required_approvals", 1).max(1);
    repositories(ctx)
        .into_iter()
        .map(|repo| {
            let best = default_branch_protections(ctx, repo)
                .into_iter()
                .max_by_key(|p| p.required_approvals);
            match best {
                Some(p) if p.required_approvals >= needed => Outcome::pass(
                    repo,
                    format!(
                        "{} requires {} approval(s) ({})",
                        p.branch, p.required_approvals, p.source
                    ),
                ),
                Some(p) => Outcome::fail(
                    repo,
                    format!(
                        "{} requires {} approval(s); the policy asks for {needed}",
                        p.branch, p.required_approvals
                    ),
                ),
                None => Outcome::fail(repo, "no branch protection or ruleset on the default branch"),
            }
        })
        .collect()
}

fn force_pushes_blocked(ctx: &Ctx) -> Vec<Outcome> {
    repositories(ctx)
        .into_iter()
        .filter_map(|repo| {
            let ps = default_branch_protections(ctx, repo);
            if ps.is_empty() {
                return None;
            }
            Some(match ps.iter().find(|p| !p.allows_force_pushes) {
                Some(p) => Outcome::pass(repo, format!("force pushes blocked ({})", p.source)),
                None => Outcome::fail(repo, "force pushes to the default branch are allowed"),
            })
        })
        .collect()
}

fn changes_approved(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .changes
        .iter()
        .map(|c| {
            let record = format!("{}#{}", c.repository, c.number);
            if c.approvers.is_empty() {
                Outcome::fail(
                    record,
                    format!(
                        "merged {} without an approval from someone other than its author {}",
                        ms_date(c.merged_at),
                        c.author
                    ),
                )
            } else {
                Outcome::pass(record, format!("approved by {}", c.approvers.join(", ")))
            }
        })
        .collect()
}

fn commits_reviewed(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .commits
        .iter()
        .map(|c| {
            let record = format!("{}@{}", c.repository, &c.sha[..c.sha.len().min(10)]);
            if c.reviewers.is_empty() {
                Outcome::fail(
                    record,
                    format!(
                        "'{}' by {} has no Reviewed-by or Approved-by from someone else",
                        c.title, c.author
                    ),
                )
            } else {
                Outcome::pass(record, format!("reviewed by {}", c.reviewers.join(", ")))
            }
        })
        .collect()
}

/// Signing is the change management policy's choice (`signed_commits_required`, off by
/// default): while it is off, an unsigned commit is not a deficiency.
fn commits_signed(ctx: &Ctx) -> Vec<Outcome> {
    let required = ctx
        .facts
        .params
        .get("signed_commits_required")
        .is_some_and(|v| v.trim() == "true");
    ctx.facts
        .commits
        .iter()
        .map(|c| {
            let record = format!("{}@{}", c.repository, &c.sha[..c.sha.len().min(10)]);
            match c.signature.as_str() {
                _ if !required => Outcome::pass(record, "signing not required by the change management policy"),
                "G" => Outcome::pass(record, "signed with a trusted key"),
                "U" => Outcome::pass(record, "signed (key not in the local trust store)"),
                "N" => Outcome::fail(record, format!("'{}' by {} is not signed", c.title, c.author)),
                other => Outcome::fail(record, format!("signature could not be verified (git status {other})")),
            }
        })
        .collect()
}

fn devices_encrypted(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .devices
        .iter()
        .map(|d| match d.disk_encrypted {
            Some(true) => Outcome::pass(&d.hostname, "every disk encrypted"),
            Some(false) => Outcome::fail(&d.hostname, "a disk is not encrypted"),
            None => Outcome::fail(
                &d.hostname,
                "encryption status unknown: schedule osquery's disk_encryption query",
            ),
        })
        .collect()
}

fn devices_reporting(ctx: &Ctx) -> Vec<Outcome> {
    ctx.facts
        .devices
        .iter()
        .map(|d| {
            if ctx.now_ms - d.last_seen <= 7 * DAY_MS {
                Outcome::pass(&d.hostname, format!("last reported {}", ms_date(d.last_seen)))
            } else {
                Outcome::fail(
                    &d.hostname,
                    format!("no report since {}: is the agent still running?", ms_date(d.last_seen)),
                )
            }
        })
        .collect()
}

macro_rules! check {
    ($id:literal, $title:literal, $reads:literal, $f:ident) => {
        check!($id, $title, $reads, $f, Remediation::GRACE)
    };
    ($id:literal, $title:literal, $reads:literal, $f:ident, $r:expr) => {
        CheckDef {
            id: $id,
            title: $title,
            reads: $reads,
            evaluate: $f,
            remediation: $r,
        }
    };
}

pub static BUILTIN: &[CheckDef] = &[
    check!(
        "people-have-manager",
        "Every person has a manager in the org chart",
        "people",
        people_have_a_manager
    ),
    check!(
        "background-checks",
        "Every employee has a background check",
        "people",
        background_checks
    ),
    check!(
        "background-check-before-start",
        "Background checks finish before the start date",
        "people",
        background_check_before_start,
        Remediation::PerEvent
    ),
    check!(
        "contractors-have-end-date",
        "Contractors have a planned end date",
        "people",
        leavers_have_end_dates
    ),
    check!(
        "training-onboarding",
        "Security training within the onboarding window",
        "people",
        onboarding_training,
        Remediation::Overdue
    ),
    check!(
        "training-yearly",
        "Security awareness training renewed on time",
        "people",
        yearly_training,
        Remediation::Overdue
    ),
    check!(
        "training-secure-coding",
        "Engineers completed secure coding training",
        "people",
        secure_coding_training
    ),
    check!(
        "policies-published",
        "Every policy has an approved, published version",
        "policies",
        policies_published
    ),
    check!(
        "policies-reviewed",
        "Policies reviewed within their review interval",
        "policies",
        policies_reviewed,
        Remediation::Overdue
    ),
    check!(
        "policies-accepted",
        "Every person accepted the current version of each policy",
        "people",
        policies_accepted,
        Remediation::Overdue
    ),
    check!(
        "vendors-critical-report",
        "Critical and high vendors have a current SOC 2 report",
        "vendors",
        critical_vendor_reports,
        Remediation::Overdue
    ),
    check!(
        "vendors-reviewed",
        "Critical and high vendors reviewed on schedule",
        "vendors",
        vendor_reviews,
        Remediation::Overdue
    ),
    check!("vendors-owned", "Every vendor has an owner", "vendors", vendor_owners),
    check!(
        "vendors-data-known",
        "Data shared with important vendors is recorded",
        "vendors",
        vendor_data_known
    ),
    check!("assets-owned", "Every asset has an owner", "assets", asset_owners),
    check!("risks-owned", "Every risk has an owner", "risks", risk_owners),
    check!(
        "risks-reviewed-quarter",
        "Risk register reviewed this quarter",
        "risks",
        risks_reviewed_this_quarter,
        Remediation::Occurrence
    ),
    check!(
        "risks-signed-off",
        "Risks signed off by management as they stand",
        "risks",
        risks_signed_off
    ),
    check!(
        "risks-accepted-signed-off",
        "Accepted risks carry an executive sign-off",
        "risks",
        accepted_risks_signed_off
    ),
    check!(
        "risk-assessment-annual",
        "Risk assessment held within its interval",
        "events",
        risk_assessment,
        Remediation::Occurrence
    ),
    check!(
        "access-review-quarter",
        "User access review done within the review interval",
        "events",
        access_review,
        Remediation::Occurrence
    ),
    check!(
        "dr-test-annual",
        "Disaster recovery test within its interval",
        "events",
        dr_test,
        Remediation::Occurrence
    ),
    check!(
        "tabletop-annual",
        "Incident response tabletop within its interval",
        "events",
        tabletop,
        Remediation::Occurrence
    ),
    check!(
        "restore-test-quarter",
        "Backup restore test within its interval",
        "events",
        restore_test,
        Remediation::Occurrence
    ),
    check!(
        "pentest-annual",
        "Independent penetration test within its interval",
        "events",
        pentest,
        Remediation::Occurrence
    ),
    check!(
        "management-review-quarter",
        "Security steering review held this quarter",
        "events",
        management_review,
        Remediation::Occurrence
    ),
    check!(
        "events-have-evidence",
        "Drills, tests and reviews have evidence attached",
        "events",
        events_have_evidence
    ),
    check!(
        "controls-owned",
        "Every applicable control has an owner",
        "controls",
        controls_owned
    ),
    check!(
        "mfa-human-accounts",
        "MFA on every human account of each system",
        "accounts",
        mfa_everywhere
    ),
    check!(
        "leaver-accounts-disabled",
        "No active account of a person who left",
        "accounts",
        leavers_disabled,
        Remediation::PerEvent
    ),
    check!(
        "admin-accounts-mfa",
        "Administrator accounts use MFA",
        "accounts",
        admin_mfa
    ),
    check!(
        "admins-few-and-named",
        "Administrators are few and are named people",
        "accounts",
        admins_few_and_named
    ),
    check!("aws-root-mfa", "Cloud root accounts have MFA", "accounts", root_mfa),
    check!(
        "aws-root-no-access-keys",
        "Cloud root accounts have no access keys",
        "accounts",
        root_no_keys
    ),
    check!(
        "access-keys-rotated",
        "Access keys rotated within the policy limit",
        "accounts",
        keys_rotated,
        Remediation::Overdue
    ),
    check!(
        "inactive-accounts",
        "Accounts unused beyond the policy limit are flagged",
        "accounts",
        inactive_accounts,
        Remediation::Overdue
    ),
    check!(
        "accounts-belong-to-people",
        "Every human account belongs to a known person",
        "accounts",
        accounts_belong_to_people
    ),
    check!(
        "joiners-have-baseline-accounts",
        "People who joined in the last year have their identity provider accounts",
        "accounts",
        joiners_have_baseline_accounts
    ),
    check!(
        "movers-access-reviewed",
        "People who changed role had their access reviewed in time",
        "accounts",
        movers_access_reviewed,
        Remediation::PerEvent
    ),
    check!(
        "machine-identities-owned",
        "Every non-human identity has an owner and a purpose",
        "accounts",
        machine_identities_owned
    ),
    check!(
        "privileged-access-granted-or-reviewed",
        "Every administrator is covered by a current grant or kept in a recent access review",
        "accounts",
        privileged_access_covered
    ),
    check!(
        "access-grants-expire",
        "No elevation outlives its grant",
        "accounts",
        grants_expire,
        Remediation::PerEvent
    ),
    check!(
        "findings-critical-sla",
        "Critical findings fixed within their SLA",
        "findings",
        critical_sla,
        Remediation::PerEvent
    ),
    check!(
        "findings-high-sla",
        "High findings fixed within their SLA",
        "findings",
        high_sla,
        Remediation::PerEvent
    ),
    check!(
        "findings-medium-sla",
        "Medium findings fixed within their SLA",
        "findings",
        medium_sla,
        Remediation::PerEvent
    ),
    check!(
        "findings-low-sla",
        "Low findings fixed within their SLA",
        "findings",
        low_sla,
        Remediation::PerEvent
    ),
    check!(
        "scans-recent",
        "Vulnerability and posture scans ran this week",
        "findings",
        scans_recent,
        Remediation::Overdue
    ),
    check!(
        "connectors-collecting",
        "Connectors keep collecting evidence",
        "connectors",
        connectors_collecting,
        Remediation::Overdue
    ),
    check!(
        "default-branch-requires-review",
        "Default branches require review before merge",
        "repositories",
        default_branch_reviews
    ),
    check!(
        "force-pushes-blocked",
        "Force pushes to default branches are blocked",
        "repositories",
        force_pushes_blocked
    ),
    check!(
        "changes-independently-approved",
        "Every merged change was approved by someone other than its author",
        "changes",
        changes_approved,
        Remediation::PerEvent
    ),
    check!(
        "commits-reviewed",
        "Main-line commits carry a review by someone other than the author",
        "commits",
        commits_reviewed,
        Remediation::PerEvent
    ),
    check!(
        "commits-signed",
        "Main-line commits are signed",
        "commits",
        commits_signed,
        Remediation::PerEvent
    ),
    check!(
        "devices-encrypted",
        "Company devices have full-disk encryption",
        "devices",
        devices_encrypted
    ),
    check!(
        "devices-reporting",
        "Device agents reported this week",
        "devices",
        devices_reporting,
        Remediation::Overdue
    ),
];

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn calendar_helpers() {
        assert_eq!(months_before(date!(2026 - 03 - 31), 1), date!(2026 - 02 - 28));
        assert_eq!(months_before(date!(2026 - 01 - 15), 3), date!(2025 - 10 - 15));
        assert_eq!(quarter_start(date!(2026 - 11 - 23)), date!(2026 - 10 - 01));
        assert_eq!(quarter_start(date!(2026 - 03 - 31)), date!(2026 - 01 - 01));
    }
}
