//! `evident audit`, `evident requests`, `evident populations`, `evident samples`: the auditor's
//! fieldwork from the command line. The CLI holds the workspace's keys, so it acts as an
//! administrator; the audit log names `EVIDENT_ACTOR`.

use std::path::Path;

use evident_catalog::PopulationKind;
use evident_core::access::Role;
use evident_core::fieldwork::requests::{RequestDraft, RequestStatus, RequestStep};
use evident_core::fieldwork::{EngagementStatus, EngagementView, RequestView, SIZE_NOTE, SampleView, TestResult};
use evident_store::{RequestFilter, StoreError, Workspace};

use super::{open, today};
use crate::args::{AuditCommand, PopulationsCommand, RequestsCommand, SamplesCommand};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

const ROLE: Role = Role::Admin;

fn print_engagement(e: &EngagementView) {
    println!("{} — {} ({})", e.name, e.firm, e.id);
    println!(
        "  {} report, period {}..{}, status {}",
        e.report_type, e.period_start, e.period_end, e.status
    );
    println!(
        "  auditors: {}",
        if e.auditors.is_empty() {
            "none bound yet".to_string()
        } else {
            e.auditors.join(", ")
        }
    );
    let s = &e.sizes;
    println!(
        "  sample sizes ({SIZE_NOTE}): annual {}, quarterly {}, monthly {}, weekly {}, daily {}, continuous {}, \
         events {} % (at least {}, at most {})",
        s.annual, s.quarterly, s.monthly, s.weekly, s.daily, s.continuous, s.event_percent, s.event_min, s.event_max
    );
}

pub async fn audit(dir: &Path, cmd: AuditCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let shown = match cmd {
        AuditCommand::Create { name, firm, period: p } => ws
            .create_engagement(ROLE, &name, &firm, super::period_flag(p.as_deref())?)
            .await
            .map_err(CliError::with_flags)?,
        AuditCommand::List => {
            let list = ws.engagements(ROLE).await.map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["id", "name", "firm", "type", "period", "status", "auditors"]);
            for e in list {
                t.row(vec![
                    e.id,
                    e.name,
                    e.firm,
                    e.report_type,
                    format!("{}..{}", e.period_start, e.period_end),
                    e.status.to_string(),
                    e.auditors.join(" "),
                ]);
            }
            return t.print();
        }
        AuditCommand::Show { engagement } => ws.engagement(ROLE, &engagement).await.map_err(CliError::with_flags)?,
        AuditCommand::Status { engagement, status } => {
            let status = EngagementStatus::parse(&status).map_err(|e| usage(format!("status: {e}")))?;
            ws.set_engagement_status(ROLE, &engagement, status)
                .await
                .map_err(CliError::with_flags)?
        }
        AuditCommand::Auditor {
            engagement,
            email,
            remove,
        } => ws
            .bind_auditor(ROLE, &engagement, &email, !remove)
            .await
            .map_err(CliError::with_flags)?,
        AuditCommand::Sizes { engagement, set } => {
            let e = ws.engagement(ROLE, &engagement).await.map_err(CliError::with_flags)?;
            let mut sizes = serde_json::to_value(&e.sizes).expect("sizes serialise");
            for s in &set {
                let (k, v) = s
                    .split_once('=')
                    .ok_or_else(|| usage(format!("--set {s}: expected NAME=N")))?;
                let n: u64 = v
                    .trim()
                    .parse()
                    .map_err(|_| usage(format!("--set {s}: '{v}' is not a whole number")))?;
                match sizes.get_mut(k.trim()) {
                    Some(slot) => *slot = n.into(),
                    None => {
                        let names: Vec<String> = sizes
                            .as_object()
                            .map(|o| o.keys().cloned().collect())
                            .unwrap_or_default();
                        return Err(usage(format!(
                            "--set {s}: unknown size '{k}'; expected one of {}",
                            names.join(", ")
                        )));
                    }
                }
            }
            let sizes = serde_json::from_value(sizes).map_err(|e| usage(format!("--set: {e}")))?;
            ws.set_engagement_sizes(ROLE, &e.id, sizes).await.map_err(|e| match e {
                StoreError::Field { reason, .. } => usage(format!("--set: {reason}")),
                other => CliError::with_flags(other),
            })?
        }
        AuditCommand::Workbook { engagement, out } => return workbook(&ws, &engagement, &out, format).await,
    };
    if format == Format::Json {
        return output::json(&shown);
    }
    print_engagement(&shown);
    Ok(())
}

fn print_request(r: &RequestView) {
    println!("{} [{}] {}", r.reference, r.status, r.id);
    println!("  {}", r.body);
    if !r.criteria.is_empty() || !r.controls.is_empty() {
        println!(
            "  criteria: {}  controls: {}",
            r.criteria.join(" "),
            r.controls.join(" ")
        );
    }
    println!(
        "  due: {}{}  assignee: {}",
        r.due.as_deref().unwrap_or("none"),
        if r.overdue { " (overdue)" } else { "" },
        r.assignee.as_deref().unwrap_or("nobody")
    );
    for (k, v) in &r.extra {
        println!("  {k}: {v}");
    }
    for e in &r.evidence {
        println!(
            "  evidence {} — {} ({}{})",
            e.id,
            e.title,
            e.attests,
            if e.in_period { "" } else { ", outside the audit period" }
        );
    }
    for c in &r.thread {
        println!(
            "  {} {}{}: {}",
            c.at,
            c.author,
            c.step.as_deref().map(|s| format!(" ({s})")).unwrap_or_default(),
            c.body
        );
    }
}

pub async fn requests(dir: &Path, cmd: RequestsCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let day = today();
    let shown = match cmd {
        RequestsCommand::Import { engagement, file } => {
            let name = file.display().to_string();
            let opened = std::fs::File::open(&file).map_err(|e| usage(format!("{name}: {e}")))?;
            let rows = evident_report::read_request_list(&name, std::io::BufReader::new(opened))
                .map_err(|e| usage(format!("{name}: {e}")))?;
            let (added, updated) = ws
                .import_requests(ROLE, &engagement, &name, &rows)
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&serde_json::json!({"added": added, "updated": updated}));
            }
            println!("Imported {name}: {added} request(s) added, {updated} updated");
            return Ok(());
        }
        RequestsCommand::Add {
            engagement,
            reference,
            request,
            criteria,
            controls,
            due,
            assignee,
        } => {
            let draft = RequestDraft {
                reference,
                body: request,
                criteria,
                controls,
                due,
                assignee,
                extra: Default::default(),
            };
            ws.add_request(ROLE, &engagement, draft, day)
                .await
                .map_err(CliError::with_flags)?
        }
        RequestsCommand::List {
            engagement,
            status,
            due_by,
            mine,
        } => {
            let filter = RequestFilter {
                status: status
                    .as_deref()
                    .map(|s| RequestStatus::parse(s).map_err(|e| usage(format!("--status: {e}"))))
                    .transpose()?,
                due_by: due_by
                    .as_deref()
                    .map(|d| {
                        evident_core::parse_date(d)
                            .map(evident_core::format_date)
                            .map_err(|e| usage(format!("--due-by: {e}")))
                    })
                    .transpose()?,
                mine,
            };
            let list = ws
                .requests(ROLE, &engagement, &filter, day)
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&[
                "id", "ref", "status", "due", "assignee", "controls", "evidence", "request",
            ]);
            for r in list {
                t.row(vec![
                    r.id,
                    r.reference,
                    r.status.to_string(),
                    format!(
                        "{}{}",
                        r.due.unwrap_or_default(),
                        if r.overdue { " overdue" } else { "" }
                    ),
                    r.assignee.unwrap_or_default(),
                    r.controls.join(" "),
                    r.evidence.len().to_string(),
                    r.body.chars().take(60).collect(),
                ]);
            }
            return t.print();
        }
        RequestsCommand::Show { id } => ws.request(ROLE, &id, day).await.map_err(CliError::with_flags)?.1,
        RequestsCommand::Assign { id, email } => ws
            .assign_request(ROLE, &id, email.as_deref(), day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Link { id, evidence } => ws
            .link_request_evidence(ROLE, &id, &evidence, day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Submit { id, comment } => ws
            .request_step(ROLE, &id, RequestStep::Submit, &comment, day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Accept { id, comment } => ws
            .request_step(ROLE, &id, RequestStep::Accept, &comment, day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Return { id, comment } => ws
            .request_step(ROLE, &id, RequestStep::Return, &comment, day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Comment { id, text } => ws
            .comment_request(ROLE, &id, &text, day)
            .await
            .map_err(CliError::with_flags)?,
        RequestsCommand::Export { engagement, out } => {
            let list = ws
                .requests(ROLE, &engagement, &RequestFilter::default(), day)
                .await
                .map_err(CliError::with_flags)?;
            let sheet = evident_report::request_sheet(&list);
            super::registers::write_export(&sheet, &out)?;
            if format == Format::Json {
                return output::json(&serde_json::json!({"requests": list.len(), "out": out}));
            }
            println!("Wrote {} request(s) to {}", list.len(), out.display());
            return Ok(());
        }
    };
    if format == Format::Json {
        return output::json(&shown);
    }
    print_request(&shown);
    Ok(())
}

pub async fn populations(dir: &Path, cmd: PopulationsCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    match cmd {
        PopulationsCommand::Kinds => {
            if format == Format::Json {
                let list: Vec<_> = evident_store::POPULATIONS
                    .iter()
                    .map(|s| serde_json::json!({"kind": s.kind.as_str(), "title": s.title, "what": s.words, "rule": s.sql}))
                    .collect();
                return output::json(&list);
            }
            let mut t = Table::new(&["kind", "what"]);
            for s in evident_store::POPULATIONS {
                t.row(vec![s.kind.as_str().into(), s.words.into()]);
            }
            t.print()
        }
        PopulationsCommand::Run {
            kind,
            engagement,
            period: p,
        } => {
            let kind = PopulationKind::parse(&kind).map_err(|e| usage(format!("kind: {e}")))?;
            if engagement.is_some() && p.is_some() {
                return Err(usage(
                    "--period: an engagement's population covers the engagement's period; give one or the other",
                ));
            }
            let run = ws
                .run_population(
                    ROLE,
                    engagement.as_deref(),
                    kind,
                    super::period_flag(p.as_deref())?,
                    today(),
                )
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&run);
            }
            println!(
                "Population {} ({}) for {}: {} item(s)",
                run.id, run.kind, run.period, run.count
            );
            println!("  SHA-256 of its data: {}", run.sha256);
            println!("  kept as evidence {}", run.evidence);
            match &run.changes {
                None => println!("  first run of this population for this period"),
                Some(c) if c.is_empty() => println!("  same items as the previous run: nothing changed"),
                Some(c) => println!("  since the previous run: {}", c.summary()),
            }
            Ok(())
        }
        PopulationsCommand::List { engagement } => {
            let list = ws
                .population_runs(ROLE, engagement.as_deref())
                .await
                .map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["id", "kind", "period", "count", "sha256", "evidence", "ran at", "by"]);
            for r in list {
                t.row(vec![
                    r.id,
                    r.kind,
                    r.period,
                    r.count.to_string(),
                    r.sha256,
                    r.evidence,
                    r.ran_at,
                    r.ran_by,
                ]);
            }
            t.print()
        }
        PopulationsCommand::Rerun { id } => {
            let (run, sha, changes) = ws.rerun_population(ROLE, &id).await.map_err(CliError::with_flags)?;
            let same = sha == run.sha256;
            if format == Format::Json {
                return output::json(
                    &serde_json::json!({"run": run, "sha256_now": sha, "same": same, "changes": changes}),
                );
            }
            if same {
                println!("Same population: {} item(s), SHA-256 {sha}", run.count);
            } else {
                println!("The records changed since {}: {}", run.ran_at, changes.summary());
                println!("  kept SHA-256 {}\n  now        {sha}", run.sha256);
            }
            Ok(())
        }
        PopulationsCommand::Get { id, out } => {
            let (run, bytes) = ws.population_file(ROLE, &id).await.map_err(CliError::with_flags)?;
            std::fs::write(&out, &bytes).map_err(|e| usage(format!("--out: {}: {e}", out.display())))?;
            if format == Format::Json {
                return output::json(&serde_json::json!({"run": run, "out": out, "bytes": bytes.len()}));
            }
            println!(
                "Wrote population {} ({} item(s)) to {}",
                run.id,
                run.count,
                out.display()
            );
            Ok(())
        }
    }
}

fn print_sample(s: &SampleView) {
    println!(
        "Sample {} of {} for {} ({} of {} item(s))",
        s.id,
        s.population.kind,
        s.control,
        s.items.len(),
        s.population.count
    );
    println!(
        "  seed '{}', population {} (SHA-256 {})",
        s.seed, s.population.id, s.population.sha256
    );
    println!(
        "  rounds {:?}; suggested size {} ({SIZE_NOTE}); {} exception(s)",
        s.rounds, s.suggested, s.exceptions
    );
    let mut t = Table::new(&["#", "item", "date", "round", "result", "note"]);
    for (i, it) in s.items.iter().enumerate() {
        t.row(vec![
            (i + 1).to_string(),
            it.item.clone(),
            it.date.clone(),
            it.round.to_string(),
            it.result.map(|r| r.to_string()).unwrap_or_else(|| "untested".into()),
            it.note.clone().unwrap_or_default(),
        ]);
    }
    let _ = t.print();
}

pub async fn samples(dir: &Path, cmd: SamplesCommand, format: Format) -> Result<(), CliError> {
    let ws = open(dir).await?;
    let shown = match cmd {
        SamplesCommand::Draw {
            engagement,
            control,
            population,
            seed,
            size,
        } => ws
            .draw_sample(ROLE, &engagement, &control, &population, &seed, size)
            .await
            .map_err(CliError::with_flags)?,
        SamplesCommand::Extend { id, more } => ws.extend_sample(ROLE, &id, more).await.map_err(CliError::with_flags)?,
        SamplesCommand::List { engagement } => {
            let list = ws.samples(ROLE, &engagement).await.map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&list);
            }
            let mut t = Table::new(&["id", "control", "population", "seed", "items", "tested", "exceptions"]);
            for s in list {
                t.row(vec![
                    s.id,
                    s.control,
                    format!("{} {}", s.population.kind, s.population.id),
                    s.seed,
                    s.items.len().to_string(),
                    s.items.iter().filter(|i| i.result.is_some()).count().to_string(),
                    s.exceptions.to_string(),
                ]);
            }
            return t.print();
        }
        SamplesCommand::Show { id } => ws.sample(ROLE, &id).await.map_err(CliError::with_flags)?,
        SamplesCommand::Result { id, item, result, note } => {
            let result = TestResult::parse(&result).map_err(|e| usage(format!("--result: {e}")))?;
            ws.record_result(ROLE, &id, &item, result, &note)
                .await
                .map_err(CliError::with_flags)?
        }
        SamplesCommand::Packet { id, item } => {
            let packet = ws.sample_packet(ROLE, &id, &item).await.map_err(CliError::with_flags)?;
            if format == Format::Json {
                return output::json(&packet);
            }
            println!("{} ({}) in sample {}", packet.item, packet.date, packet.sample);
            for f in &packet.facts {
                println!("  {}: {}", f.name, f.value);
            }
            for e in &packet.evidence {
                println!("  evidence {} — {} ({})", e.id, e.title, e.attests);
            }
            return Ok(());
        }
    };
    if format == Format::Json {
        return output::json(&shown);
    }
    print_sample(&shown);
    Ok(())
}

/// The testing workbook (`evident_report::testing_workbook`).
async fn workbook(ws: &Workspace, engagement: &str, out: &Path, format: Format) -> Result<(), CliError> {
    let e = ws.engagement(ROLE, engagement).await.map_err(CliError::with_flags)?;
    let samples = ws.samples(ROLE, &e.id).await.map_err(CliError::with_flags)?;
    let sheets = evident_report::testing_workbook(&e, &samples);
    let file = std::fs::File::create(out).map_err(|er| usage(format!("--out: {}: {er}", out.display())))?;
    evident_report::write_xlsx(&sheets, file).map_err(|er| usage(format!("--out: {}: {er}", out.display())))?;
    if format == Format::Json {
        return output::json(&serde_json::json!({"samples": samples.len(), "out": out}));
    }
    println!(
        "Wrote the testing workbook for {} ({} sample(s)) to {}",
        e.name,
        samples.len(),
        out.display()
    );
    Ok(())
}
