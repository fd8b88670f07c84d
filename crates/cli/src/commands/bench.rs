//! `evident bench readiness`: the readiness assessment run several times in one process, with
//! where the time goes (loading from the database, the check engine, the readiness engine).

use std::path::Path;

use serde_json::json;

use super::open;
use evident_store::Timings;

use super::readiness::assess;
use crate::error::{CliError, usage};
use crate::output::{self, Format};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub async fn readiness(dir: &Path, runs: usize, format: Format) -> Result<(), CliError> {
    if runs == 0 {
        return Err(usage("--runs: at least 1"));
    }
    let ws = open(dir).await?;
    let mut all: Vec<Timings> = Vec::with_capacity(runs);
    let mut totals = Vec::with_capacity(runs);
    let mut score = 0;
    for _ in 0..runs {
        let started = std::time::Instant::now();
        let a = assess(&ws).await?;
        totals.push(started.elapsed().as_secs_f64());
        score = a.readiness.score;
        all.push(a.timings);
    }
    let pick = |f: fn(&Timings) -> f64| median(all.iter().map(f).collect());
    let result = json!({
        "runs": runs,
        "score": score,
        "median_seconds": {
            "load": pick(|t| t.load),
            "checks": pick(|t| t.checks),
            "readiness_engine": pick(|t| t.readiness),
            "total": median(totals.clone()),
        },
        "min_total_seconds": totals.iter().copied().fold(f64::INFINITY, f64::min),
    });
    match format {
        Format::Json => output::json(&result),
        Format::Table => {
            let m = &result["median_seconds"];
            println!(
                "readiness over {runs} runs (median): load {:.3} s, checks {:.3} s, readiness engine {:.3} s, total {:.3} s",
                m["load"].as_f64().unwrap_or_default(),
                m["checks"].as_f64().unwrap_or_default(),
                m["readiness_engine"].as_f64().unwrap_or_default(),
                m["total"].as_f64().unwrap_or_default()
            );
            Ok(())
        }
    }
}
