//! A fix offered on the web: where to go to take the step, and the words on the link. The
//! requirement to upload for is preselected on the control's form.

use evident_core::fix::Fix;

use super::html::url_encode;

/// (label, address) of the page, form or records that take the step.
pub fn target(f: &Fix) -> (String, String) {
    let control = |c: &str| format!("/controls/{}", url_encode(c));
    match f {
        Fix::FixCheck { check, .. } => (
            "Open the failing records".into(),
            format!("/checks/{}", url_encode(check)),
        ),
        Fix::AddEvidence {
            control: c,
            requirement,
            ..
        }
        | Fix::RenewEvidence {
            control: c,
            requirement,
            ..
        } => (
            "Upload it".into(),
            format!("{}?requirement={}#add-evidence", control(c), url_encode(requirement)),
        ),
        Fix::ReplaceEvidence { evidence, .. } => (
            "Upload a current version".into(),
            format!("/evidence/{}#new-version", url_encode(evidence)),
        ),
        Fix::PublishPolicy { policy, .. } => ("Review the policy".into(), format!("/policies/{}", url_encode(policy))),
        Fix::SetOwner { control: c } => ("Name an owner".into(), format!("{}#owner", control(c))),
        Fix::CoverCriterion { criterion } | Fix::CloseControls { criterion, .. } => (
            format!("Open {criterion}"),
            format!("/criteria/{}", url_encode(criterion)),
        ),
    }
}
