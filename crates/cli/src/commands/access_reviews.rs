//! `evident access-reviews`: campaigns from the command line. Management steps act as an
//! administrator; decisions are the reviewer's own, so `EVIDENT_ACTOR` must be the reviewer.

use std::path::Path;

use evident_core::access::Role;
use evident_core::access_review::{CampaignDraft, CampaignView, Coverage, DecisionInput, ItemView, ReviewerRule};

use super::{open, today};
use crate::args::{AccessReviewsCommand, JmlCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

const ROLE: Role = Role::Admin;

fn print_campaign(c: &CampaignView) {
    let p = &c.progress;
    println!("{} ({})", c.name, c.id);
    println!(
        "  {}; systems: {}; {} coverage; reviewers by {}{}; due {}{}",
        c.status,
        if c.systems.is_empty() {
            "all with accounts".to_string()
        } else {
            c.systems.join(", ")
        },
        c.coverage,
        c.reviewer_rule.replace('_', " "),
        c.named_reviewer
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default(),
        c.due,
        if c.overdue { " (overdue)" } else { "" }
    );
    println!(
        "  {} of {} decided ({} %): {} kept, {} revoked, {} changed; removals seen {}, open {}",
        p.decided,
        p.items,
        p.percent(),
        p.kept,
        p.revoked,
        p.changed,
        p.revocations_done,
        p.revocations_open
    );
    println!("  frozen account list: evidence {}", c.frozen_evidence);
    if let Some(closing) = &c.closing {
        println!(
            "  closed {} by {}: {}",
            c.closed_at.clone().unwrap_or_default(),
            c.closed_by.clone().unwrap_or_default(),
            closing
        );
    }
}

fn items_table(items: &[ItemView]) -> Result<(), CliError> {
    let mut t = Table::new(&[
        "item",
        "system",
        "account",
        "admin",
        "reviewer",
        "decision",
        "carried out",
    ]);
    for i in items {
        t.row(vec![
            i.id.clone(),
            i.system.clone(),
            i.username.clone(),
            if i.root {
                "root".into()
            } else if i.admin {
                "admin".into()
            } else {
                String::new()
            },
            i.reviewer.clone(),
            match (&i.decision, &i.change) {
                (Some(d), Some(c)) => format!("{d} to {c}"),
                (Some(d), None) => d.clone(),
                _ => "undecided".into(),
            },
            match (&i.carried_out_at, &i.time_to_revoke) {
                (Some(at), Some(t)) => format!("{at} ({t})"),
                (Some(at), None) => at.clone(),
                _ => String::new(),
            },
        ]);
    }
    t.print()
}

fn print_item(i: &ItemView, format: Format) -> Result<(), CliError> {
    if format == Format::Json {
        return output::json(i);
    }
    println!(
        "{}/{}: {} by {}{}",
        i.system,
        i.username,
        i.decision.as_deref().unwrap_or("undecided"),
        i.reviewer,
        i.task
            .as_deref()
            .map(|t| format!("; task {t} opened"))
            .unwrap_or_default()
    );
    if let Some(by) = &i.carried_out_by {
        println!("  carried out {} ({by})", i.carried_out_at.clone().unwrap_or_default());
    }
    Ok(())
}

pub async fn run(dir: &Path, cmd: AccessReviewsCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let c = match cmd {
        AccessReviewsCommand::Start {
            name,
            systems,
            coverage,
            reviewers,
            reviewer,
            due,
        } => {
            let draft = CampaignDraft {
                name,
                systems,
                coverage: Coverage::parse(&coverage).map_err(|e| usage(format!("--coverage: {e}")))?,
                rule: ReviewerRule::parse(&reviewers).map_err(|e| usage(format!("--reviewers: {e}")))?,
                named: reviewer,
                due: evident_core::parse_date(&due).map_err(|e| usage(format!("--due: {e}")))?,
            };
            ws.start_campaign(ROLE, &draft, today())
                .await
                .map_err(CliError::with_flags)?
        }
        AccessReviewsCommand::List => {
            let list = ws.campaigns(ROLE, today()).await?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["id", "name", "status", "due", "decided", "removals open"]);
            for c in list {
                t.row(vec![
                    c.id,
                    c.name,
                    c.status,
                    format!("{}{}", c.due, if c.overdue { " (overdue)" } else { "" }),
                    format!("{}/{}", c.progress.decided, c.progress.items),
                    c.progress.revocations_open.to_string(),
                ]);
            }
            return t.print();
        }
        AccessReviewsCommand::Schedule => {
            let lines = ws.review_schedule(today()).await?;
            if format == Format::Json {
                return output::json(&lines);
            }
            let mut t = Table::new(&["review", "every", "last closed", "next due", "state"]);
            for l in lines {
                t.row(vec![
                    if l.coverage == "all" {
                        "every active account".into()
                    } else {
                        "administrators and root users".into()
                    },
                    format!("{} months", l.every_months),
                    l.last.unwrap_or_else(|| "never".into()),
                    l.due,
                    match (&l.running, l.overdue) {
                        (Some(id), _) => format!("running ({id})"),
                        (None, true) => "overdue".into(),
                        (None, false) => "on time".into(),
                    },
                ]);
            }
            return t.print();
        }
        AccessReviewsCommand::Show { campaign, mine } => {
            let c = ws.campaign(ROLE, &campaign, today()).await?;
            let mut items = ws.campaign_items(ROLE, &campaign).await?;
            if mine {
                items.retain(|i| i.reviewer.eq_ignore_ascii_case(&super::actor()));
            }
            if format == Format::Json {
                return output::json(&serde_json::json!({"campaign": c, "items": items}));
            }
            print_campaign(&c);
            return items_table(&items);
        }
        AccessReviewsCommand::StartDue { lead } => {
            if !(0..=365).contains(&lead) {
                return Err(usage(format!("--lead: {lead} is not between 0 and 365 days")));
            }
            let started = ws.start_due_campaigns(ROLE, today(), lead).await?;
            if format == Format::Json {
                return output::json(&started);
            }
            if started.is_empty() {
                println!("no review is due within {lead} days, or one is already running");
            }
            for c in &started {
                println!("started {} '{}' ({}), due {}", c.id, c.name, c.coverage, c.due);
            }
            return Ok(());
        }
        AccessReviewsCommand::Inbox { limit, offset } => {
            let inbox = ws.inbox(today(), limit, offset).await?;
            if format == Format::Json {
                return output::json(&inbox);
            }
            items_table(&inbox.items)?;
            if let Some(next) = inbox.next_offset {
                println!(
                    "items {}–{} of {}; --offset {next} for the next page",
                    inbox.offset + 1,
                    next,
                    inbox.total
                );
            }
            return Ok(());
        }
        AccessReviewsCommand::Decide {
            item,
            decision,
            reason,
            change,
        } => {
            let input = DecisionInput {
                decision,
                reason,
                change,
            };
            let i = ws
                .decide(ROLE, &item, &input, today())
                .await
                .map_err(CliError::with_flags)?;
            return print_item(&i, format);
        }
        AccessReviewsCommand::KeepUnchanged => {
            let n = ws.keep_unchanged(ROLE, &[], today()).await?;
            if format == Format::Json {
                return output::json(&serde_json::json!({"kept": n}));
            }
            println!("{n} unchanged item(s) kept");
            return Ok(());
        }
        AccessReviewsCommand::Reassign { item, email } => {
            let i = ws.reassign(ROLE, &item, &email).await.map_err(CliError::with_flags)?;
            return print_item(&i, format);
        }
        AccessReviewsCommand::Confirm { item, note } => {
            let i = ws
                .confirm_revocation(ROLE, &item, &note)
                .await
                .map_err(CliError::with_flags)?;
            return print_item(&i, format);
        }
        AccessReviewsCommand::Close { campaign, anyway } => {
            let render = |c: &evident_core::access_review::Closing| {
                evident_report::access_review_pdf(c).map_err(|e| e.to_string())
            };
            ws.close_campaign(ROLE, &campaign, anyway, today(), &render)
                .await
                .map_err(CliError::with_flags)?
        }
    };
    if format == Format::Json {
        return output::json(&c);
    }
    print_campaign(&c);
    Ok(())
}

/// `evident jml`: the reconciliation's findings, or one person's timeline.
pub async fn jml(dir: &Path, cmd: JmlCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let as_of = match &cmd {
        JmlCommand::List { as_of: Some(d), .. } => {
            evident_core::parse_date(d).map_err(|e| usage(format!("--as-of: {e}")))?
        }
        _ => today(),
    };
    let records = ws.jml_records(as_of).await?;
    match cmd {
        JmlCommand::List { kind, .. } => {
            let kind = kind
                .map(|k| {
                    evident_core::access_review::jml::JmlKind::parse(&k).map_err(|e| usage(format!("--kind: {e}")))
                })
                .transpose()?;
            let found: Vec<_> = records
                .findings()
                .into_iter()
                .filter(|f| kind.is_none_or(|k| f.kind == k.as_str()))
                .collect();
            if format == Format::Json {
                return output::json(&found);
            }
            let mut t = Table::new(&["kind", "person", "account", "since", "reason"]);
            for f in found {
                t.row(vec![
                    f.kind,
                    f.person.unwrap_or_default(),
                    f.account.unwrap_or_default(),
                    f.since,
                    f.reason,
                ]);
            }
            t.print()
        }
        JmlCommand::Person { email } => {
            if records.person(&email).is_none() {
                return Err(usage(format!("{email} is not in the people register")));
            }
            let t = records.timeline(&email);
            if format == Format::Json {
                return output::json(&t);
            }
            for m in t {
                println!("{}  {}{}", m.date, if m.problem { "! " } else { "" }, m.what);
            }
            Ok(())
        }
    }
}
