//! Risk-register commands beyond list/show/add/update: the starter library, management
//! sign-off and the review history.

use clap::{Arg, ArgAction, ArgMatches, Command};
use evident_catalog::{Catalog, RiskTemplate};
use evident_core::register::Record;
use evident_core::registers::{RISKS, risk_from_template};
use evident_store::Workspace;
use serde_json::json;

use super::{instant, required_text};
use crate::error::{CliError, usage};
use crate::output::{self, Format, Table};

pub fn extend(cmd: Command) -> Command {
    cmd.subcommand(Command::new("library").about("The starter library of common SaaS risks"))
        .subcommand(
            Command::new("adopt")
                .about("Add library risks to the register (by id, or --all)")
                .arg(Arg::new("ids").num_args(0..).help("library ids, e.g. RL-01 RL-07"))
                .arg(Arg::new("all").long("all").action(ArgAction::SetTrue)),
        )
        .subcommand(
            Command::new("sign-off")
                .about("Record management's sign-off of a risk as it stands")
                .arg(Arg::new("key").required(true)),
        )
        .subcommand(
            Command::new("review")
                .about("Record a review of a risk (re-score first with `risks update`)")
                .arg(Arg::new("key").required(true))
                .arg(
                    Arg::new("note")
                        .long("note")
                        .required(true)
                        .help("what was reviewed and decided"),
                ),
        )
        .subcommand(
            Command::new("reviews")
                .about("A risk's sign-off and review history")
                .arg(Arg::new("key").required(true)),
        )
}

pub async fn run(ws: &Workspace, sub: &str, m: &ArgMatches, format: Format) -> Result<(), CliError> {
    let library = &Catalog::builtin().risks;
    match sub {
        "library" => match format {
            Format::Json => output::json(library),
            Format::Table => {
                let mut t = Table::new(&["ID", "TITLE", "CATEGORY", "INHERENT", "RESIDUAL", "CONTROLS"]);
                for r in library {
                    t.row(vec![
                        r.id.clone(),
                        r.title.clone(),
                        r.category.clone(),
                        format!("{}×{}={}", r.likelihood, r.impact, r.likelihood * r.impact),
                        format!("{}×{}", r.residual_likelihood, r.residual_impact),
                        r.controls.join(","),
                    ]);
                }
                t.print()?;
                println!(
                    "\n{} risks in the starter library; adopt with `evident risks adopt --all` or by id",
                    library.len()
                );
                Ok(())
            }
        },
        "adopt" => {
            let ids: Vec<String> = m
                .get_many::<String>("ids")
                .into_iter()
                .flatten()
                .map(|s| s.to_uppercase())
                .collect();
            let chosen: Vec<&RiskTemplate> =
                if m.get_flag("all") {
                    library.iter().collect()
                } else {
                    if ids.is_empty() {
                        return Err(usage(
                            "adopt: name library ids (see `evident risks library`) or use --all",
                        ));
                    }
                    let mut out = Vec::new();
                    for id in &ids {
                        out.push(library.iter().find(|r| &r.id == id).ok_or_else(|| {
                            usage(format!("unknown library risk '{id}' (see `evident risks library`)"))
                        })?);
                    }
                    out
                };
            let existing: std::collections::BTreeSet<String> =
                ws.records(&RISKS).await?.into_iter().map(|r| r.key).collect();
            let records: Vec<Record> = chosen
                .iter()
                .filter(|t| !existing.contains(&t.id.to_lowercase()))
                .map(|t| risk_from_template(t))
                .collect();
            let summary = ws
                .write_records(&RISKS, &records, "risks.adopt", json!({"source": "library"}))
                .await?;
            let skipped = chosen.len() - records.len();
            match format {
                Format::Json => output::json(&json!({"adopted": summary.created, "already_in_register": skipped})),
                Format::Table => {
                    println!(
                        "Adopted {} risk(s) from the library; {skipped} were already in the register.",
                        summary.created
                    );
                    Ok(())
                }
            }
        }
        "sign-off" => {
            let key = m.get_one::<String>("key").expect("required");
            let s = ws.sign_off_risk(key).await?;
            match format {
                Format::Json => {
                    output::json(&json!({"risk": key, "signed_off_by": s.by, "signed_off_at": instant(s.at)}))
                }
                Format::Table => {
                    println!("{key} signed off by {} at {}", s.by, instant(s.at));
                    Ok(())
                }
            }
        }
        "review" => {
            let key = m.get_one::<String>("key").expect("required");
            let note = required_text("--note", m.get_one::<String>("note").expect("required"))?;
            let r = ws.review_risk(key, &note).await?;
            match format {
                Format::Json => {
                    output::json(&json!({"risk": key, "at": instant(r.at), "actor": r.actor, "note": r.note}))
                }
                Format::Table => {
                    println!("Review of {key} recorded ({} × {})", r.likelihood, r.impact);
                    Ok(())
                }
            }
        }
        "reviews" => {
            let key = m.get_one::<String>("key").expect("required");
            let sign_off = ws.risk_sign_off(key).await?;
            let reviews = ws.risk_reviews(key).await?;
            match format {
                Format::Json => output::json(&json!({
                    "risk": key,
                    "sign_off": sign_off.map(|s| json!({"by": s.by, "at": instant(s.at), "outdated": s.outdated})),
                    "reviews": reviews.iter().map(|r| json!({
                        "at": instant(r.at), "actor": r.actor, "note": r.note,
                        "likelihood": r.likelihood, "impact": r.impact,
                        "residual_likelihood": r.residual_likelihood, "residual_impact": r.residual_impact,
                    })).collect::<Vec<_>>(),
                })),
                Format::Table => {
                    match sign_off {
                        Some(s) => println!(
                            "Signed off by {} at {}{}",
                            s.by,
                            instant(s.at),
                            if s.outdated {
                                " (the risk changed since: sign it off again)"
                            } else {
                                ""
                            }
                        ),
                        None => println!("Not signed off."),
                    }
                    for r in &reviews {
                        println!(
                            "{}  {}  {}×{}  {}",
                            instant(r.at),
                            r.actor,
                            r.likelihood,
                            r.impact,
                            r.note
                        );
                    }
                    Ok(())
                }
            }
        }
        other => Err(usage(format!("unknown risks command '{other}'"))),
    }
}
