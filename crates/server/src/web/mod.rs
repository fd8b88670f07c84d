//! What every area's pages and API share: the layout and its navigation, the listing page, the
//! detail page of typed blocks, and the API's listing answer. Each handler receives the
//! [`Access`] the guard granted and renders an askama template inside the common layout.

pub mod api;
pub mod blocks;
pub mod charts;
pub mod fix;
pub mod html;
pub mod markdown;
pub mod table;

use askama::Template;
use axum::response::{Html, IntoResponse, Response};
use evident_core::access::Area;

use crate::ServerError;
use crate::access::Access;
use crate::state::AppState;
use blocks::{Block, Inline, Input, Section};
use table::Page;

pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub struct Layout {
    pub title: String,
    /// Where the logo leads: the caller's role's home.
    pub home: &'static str,
    pub org: String,
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub nav: Vec<NavItem>,
    pub flash: Option<String>,
    /// Why the form just sent was refused (shown at the top of the page it came from).
    pub error: Option<String>,
}

/// The navigation, in groups; an empty href is a group heading.
const NAV: &[(&str, &str, Option<Area>)] = &[
    ("", "Readiness", None),
    ("/", "Dashboard", Some(Area::Dashboard)),
    ("/gaps", "Gaps", Some(Area::Dashboard)),
    ("/scope", "Scope", Some(Area::Scope)),
    ("/description", "System description", Some(Area::Scope)),
    ("/criteria", "Criteria", Some(Area::Criteria)),
    ("/frameworks", "Frameworks and OSCAL", Some(Area::Criteria)),
    ("/window", "Window", Some(Area::Window)),
    ("", "Audit", None),
    ("/audit", "Engagements", Some(Area::Fieldwork)),
    ("/requests", "Requests", Some(Area::Fieldwork)),
    ("/access-reviews", "Access reviews", Some(Area::AccessReviews)),
    ("", "Program", None),
    ("/controls", "Controls", Some(Area::Controls)),
    ("/evidence", "Evidence", Some(Area::Evidence)),
    ("/policies", "Policies", Some(Area::Policies)),
    ("/checks", "Checks", Some(Area::Checks)),
    ("/jobs", "Jobs and connections", Some(Area::Jobs)),
    ("/tasks", "Tasks", Some(Area::Tasks)),
    ("", "Registers", None),
    ("/people", "People", Some(Area::People)),
    ("/training", "Training", Some(Area::People)),
    ("/background-checks", "Background checks", Some(Area::People)),
    ("/risks", "Risks", Some(Area::Risks)),
    ("/vendors", "Vendors", Some(Area::Vendors)),
    ("/assets", "Assets", Some(Area::Assets)),
    ("/machine-identities", "Machine identities", Some(Area::Assets)),
    ("/access-grants", "Access grants", Some(Area::Assets)),
    ("/events", "Events", Some(Area::Events)),
    ("/jml", "Joiners, movers, leavers", Some(Area::People)),
    ("", "You", None),
    ("/me", "My policies and tasks", Some(Area::Me)),
    ("/audit-log", "Audit log", Some(Area::AuditLog)),
    ("/settings", "Settings", Some(Area::Settings)),
];

impl Layout {
    pub fn new(state: &AppState, access: &Access, title: impl Into<String>, current: &str) -> Layout {
        let mut nav: Vec<NavItem> = Vec::new();
        for (href, label, area) in NAV {
            match area {
                None => nav.push(NavItem {
                    href: "",
                    label,
                    current: false,
                }),
                Some(a) if access.may_read(*a) => nav.push(NavItem {
                    href,
                    label,
                    current: *href == current,
                }),
                Some(_) => {}
            }
        }
        // Drop group headings with nothing under them (a heading followed by a heading or the end).
        let empty: Vec<bool> = (0..nav.len())
            .map(|i| nav[i].href.is_empty() && nav.get(i + 1).is_none_or(|n| n.href.is_empty()))
            .collect();
        let nav = nav.into_iter().zip(empty).filter(|(_, e)| !e).map(|(n, _)| n).collect();
        Layout {
            title: title.into(),
            home: evident_core::access::home(access.role()),
            org: state.ws.organisation.clone(),
            user: access.user.email.clone(),
            role: access.role().label(),
            csrf: access.csrf.clone().unwrap_or_default(),
            nav,
            flash: None,
            error: None,
        }
    }
}

pub fn render(t: impl Template) -> Result<Response, ServerError> {
    Ok(Html(t.render()?).into_response())
}

/// A listing page: the common table with its filters and pager.
#[derive(Template)]
#[template(path = "table.html")]
pub struct TablePage {
    pub layout: Layout,
    pub intro: String,
    /// Cards shown above the filters (the risk register's heat map).
    pub extra: Vec<Section>,
    pub page: Page,
    pub empty: String,
    pub action_href: String,
    pub action_label: String,
}

impl TablePage {
    /// A listing without an action button or extra block (most of them).
    pub fn new(layout: Layout, intro: String, page: Page, empty: String) -> TablePage {
        TablePage {
            layout,
            intro,
            extra: Vec::new(),
            page,
            empty,
            action_href: String::new(),
            action_label: String::new(),
        }
    }
}

/// A record's page: a title, a status badge and titled cards of typed blocks.
#[derive(Template)]
#[template(path = "detail.html")]
pub struct DetailPage {
    pub layout: Layout,
    pub badge: String,
    pub sections: Vec<Section>,
}

impl DetailPage {
    pub fn new(layout: Layout, badge: impl Into<String>, sections: Vec<Section>) -> DetailPage {
        DetailPage {
            layout,
            badge: badge.into(),
            sections,
        }
    }
}

/// A unit enum's wire name (`at_risk`, `security`).
pub fn name_of(v: impl serde::Serialize) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

pub fn flash_from(q: &std::collections::BTreeMap<String, String>) -> Option<String> {
    q.get("done").map(|d| match d.as_str() {
        "uploaded" => "Evidence stored in the vault and linked.".to_string(),
        "approved" => "Policy version approved.".to_string(),
        "published" => "Policy version published; staff can now accept it.".to_string(),
        "accepted" => "Thank you: your acceptance is recorded.".to_string(),
        "saved" => "Saved.".to_string(),
        "scope-approved" => "Scope signed off; the audit log names you and the day.".to_string(),
        "withdrawn" => "Evidence withdrawn; the record and its reason are kept.".to_string(),
        "relinked" => "Link moved: this new version of the record carries it; the earlier one is kept, marked superseded, and the audit log says why.".to_string(),
        "user" => "User added.".to_string(),
        "job-started" => "Job started on this server; its result shows here when it ends.".to_string(),
        "revoked" => "Token revoked.".to_string(),
        "responded" => "Response recorded; the earlier one, if any, stays on record.".to_string(),
        "submitted" => "Request submitted to the auditor.".to_string(),
        "accepted-request" => "Request accepted.".to_string(),
        "returned" => "Request returned to the team with your comment.".to_string(),
        "commented" => "Comment added to the thread.".to_string(),
        "linked" => "Evidence linked to the request.".to_string(),
        "imported" => "Request list imported.".to_string(),
        "population" => "Population produced and kept as evidence.".to_string(),
        "drawn" => "Sample drawn.".to_string(),
        "extended" => "Sample extended; the first items are kept.".to_string(),
        "result" => "Result recorded.".to_string(),
        "started" => "Campaign started: the account list is frozen and kept as evidence.".to_string(),
        "decided" => "Decision recorded.".to_string(),
        "reassigned" => "Item given to the new reviewer.".to_string(),
        "confirmed" => "Removal recorded as carried out.".to_string(),
        "signed" => "Management's assertion signed; the audit log names who signed and over which version.".to_string(),
        k if k.strip_prefix("narrative-").is_some_and(|n| n.parse::<usize>().is_ok()) => {
            format!(
                "Narrative saved as version {}; earlier versions are kept.",
                &k["narrative-".len()..]
            )
        }
        k if k
            .strip_prefix("description-")
            .is_some_and(|n| n.parse::<usize>().is_ok()) =>
        {
            format!("Description approved as version {}.", &k["description-".len()..])
        }
        "closed" => "Campaign closed: its decisions and summary are kept as evidence.".to_string(),
        k if k.strip_prefix("adopted-").is_some_and(|n| n.parse::<usize>().is_ok()) => {
            format!("Adopted {}.", &k["adopted-".len()..])
        }
        k if k.strip_prefix("planned-").is_some() => {
            let mut n = k["planned-".len()..].split('-').map(|n| n.parse::<usize>().unwrap_or(0));
            let (made, changed) = (n.next().unwrap_or(0), n.next().unwrap_or(0));
            format!(
                "Remediation plan made from today's gaps: {made} task(s) added, {changed} brought up to date; statuses and owners people set are kept."
            )
        }
        k if k.strip_prefix("kept-").is_some_and(|n| n.parse::<usize>().is_ok()) => {
            format!("{} unchanged item(s) kept.", &k["kept-".len()..])
        }
        _ => "Done.".to_string(),
    })
}
