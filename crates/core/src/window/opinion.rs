//! The predicted opinion, by a rule anyone can recompute from the window (docs/window.md):
//!
//! 1. A control's deviation rate is the worst of: its missed periods over its elapsed periods;
//!    for each check that tests it, the records with an exception over the most records one run
//!    tested; and the days that check produced nothing over the days it was expected to.
//! 2. A criterion in scope is *not met* when no applicable control addresses it, or one of its
//!    controls deviates above the tolerable rate; *met with exceptions* when one of them has any
//!    deviation; otherwise *met*. (Type I: not met when none of its controls is shown in place,
//!    met with exceptions when some are not.)
//! 3. *Adverse* when the criteria not met reach the pervasive share of those in scope (at least
//!    one); *qualified* when any criterion is not met; otherwise *unmodified*.
//!
//! It is a prediction, never the auditor's opinion: the auditor samples, weighs and judges.

use schemars::JsonSchema;
use serde::Serialize;

use super::ControlWindow;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct OpinionRule {
    /// A control deviating in more than this share of its occurrences or population fails its
    /// criteria (default 10 %, the rate a 29-item sample tests at 95 % confidence; confirm with
    /// your auditor).
    pub tolerable_rate: f64,
    /// Criteria not met reaching this share of those in scope are pervasive (default half: a
    /// substantial proportion of the system, not deviations confined to a few criteria).
    pub pervasive_share: f64,
}

impl OpinionRule {
    /// The rule from percentages a person gave (`None` keeps that default); a value outside
    /// 0 to 100 is refused naming its field (`tolerable_rate`, `pervasive_share`).
    pub fn from_percent(tolerable: Option<f64>, pervasive: Option<f64>) -> Result<OpinionRule, super::WindowError> {
        let d = OpinionRule::default();
        let share = |field: &'static str, v: Option<f64>, default: f64| match v {
            None => Ok(default),
            Some(p) if (0.0..=100.0).contains(&p) => Ok(p / 100.0),
            Some(p) => Err(super::WindowError {
                field,
                reason: format!("{p} is not a percentage between 0 and 100"),
            }),
        };
        Ok(OpinionRule {
            tolerable_rate: share("tolerable_rate", tolerable, d.tolerable_rate)?,
            pervasive_share: share("pervasive_share", pervasive, d.pervasive_share)?,
        })
    }
}

impl Default for OpinionRule {
    fn default() -> Self {
        OpinionRule {
            tolerable_rate: 0.10,
            pervasive_share: 0.5,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PredictedOpinion {
    Unmodified,
    Qualified,
    Adverse,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CriterionOutcome {
    Met,
    MetWithExceptions,
    NotMet,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CriterionResult {
    pub criterion: String,
    pub result: CriterionOutcome,
    pub controls: Vec<String>,
    /// The exceptions that drive the result.
    pub exceptions: Vec<String>,
    pub why: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Opinion {
    pub predicted: PredictedOpinion,
    /// Says, wherever the opinion is shown, that it is Evident's prediction.
    pub label: String,
    pub rule: OpinionRule,
    pub criteria: Vec<CriterionResult>,
    pub in_scope: usize,
    pub not_met: usize,
    pub met_with_exceptions: usize,
    /// Criteria not met from which the prediction is adverse.
    pub pervasive_at: usize,
}

pub const LABEL: &str = "Predicted by Evident from its own records by a published rule; not an auditor's opinion";

fn percent(x: f64) -> String {
    format!("{:.1} %", x * 100.0)
}

pub(super) fn predict(criteria: &[String], controls: &[ControlWindow], rule: &OpinionRule, type2: bool) -> Opinion {
    let mut results = Vec::new();
    for k in criteria {
        let mapped: Vec<&ControlWindow> = controls.iter().filter(|c| c.criteria.contains(k)).collect();
        let codes: Vec<String> = mapped.iter().map(|c| c.id.clone()).collect();
        let (result, why, exceptions) = if mapped.is_empty() {
            (
                CriterionOutcome::NotMet,
                "no applicable control addresses it".to_string(),
                Vec::new(),
            )
        } else if type2 {
            let worst = mapped
                .iter()
                .max_by(|a, b| a.deviation_rate.total_cmp(&b.deviation_rate))
                .expect("not empty");
            let exceptions: Vec<String> = mapped.iter().flat_map(|c| c.exceptions.iter().cloned()).collect();
            if worst.deviation_rate > rule.tolerable_rate {
                (
                    CriterionOutcome::NotMet,
                    format!(
                        "{} deviated in {} of its occurrences or population, above the tolerable {}",
                        worst.id,
                        percent(worst.deviation_rate),
                        percent(rule.tolerable_rate)
                    ),
                    worst.exceptions.clone(),
                )
            } else if !exceptions.is_empty() {
                let with: Vec<&str> = mapped
                    .iter()
                    .filter(|c| c.deviations > 0)
                    .map(|c| c.id.as_str())
                    .collect();
                (
                    CriterionOutcome::MetWithExceptions,
                    format!(
                        "{} exception(s) in {}, each control within the tolerable {}",
                        exceptions.len(),
                        with.join(", "),
                        percent(rule.tolerable_rate)
                    ),
                    exceptions,
                )
            } else {
                (
                    CriterionOutcome::Met,
                    "every control operated without exception".into(),
                    Vec::new(),
                )
            }
        } else {
            let missing: Vec<&str> = mapped
                .iter()
                .filter(|c| c.in_place != Some(true))
                .map(|c| c.id.as_str())
                .collect();
            if missing.len() == mapped.len() {
                (
                    CriterionOutcome::NotMet,
                    "none of its controls is shown in place on the date".into(),
                    Vec::new(),
                )
            } else if !missing.is_empty() {
                (
                    CriterionOutcome::MetWithExceptions,
                    format!("not shown in place: {}", missing.join(", ")),
                    Vec::new(),
                )
            } else {
                (
                    CriterionOutcome::Met,
                    "every control is shown in place".into(),
                    Vec::new(),
                )
            }
        };
        results.push(CriterionResult {
            criterion: k.clone(),
            result,
            controls: codes,
            exceptions,
            why,
        });
    }
    let not_met = results.iter().filter(|r| r.result == CriterionOutcome::NotMet).count();
    let met_with_exceptions = results
        .iter()
        .filter(|r| r.result == CriterionOutcome::MetWithExceptions)
        .count();
    let pervasive_at = ((rule.pervasive_share * criteria.len() as f64).ceil() as usize).max(1);
    let predicted = if not_met >= pervasive_at {
        PredictedOpinion::Adverse
    } else if not_met > 0 {
        PredictedOpinion::Qualified
    } else {
        PredictedOpinion::Unmodified
    };
    Opinion {
        predicted,
        label: LABEL.into(),
        rule: *rule,
        in_scope: criteria.len(),
        not_met,
        met_with_exceptions,
        pervasive_at,
        criteria: results,
    }
}
