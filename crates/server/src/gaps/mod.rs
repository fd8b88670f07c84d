//! The gaps: every one with its severity, where it is, what is missing, the fix, the owner and
//! the day it is due before the audit; filtered by owner (or nobody), severity and category,
//! and downloaded as CSV or XLSX with the same filters.

pub mod page;

use std::collections::BTreeMap;

use evident_catalog::Catalog;
use evident_core::readiness::Gap;
use serde_json::json;

use crate::access::Access;
use crate::state::Snapshot;
use crate::web::name_of;
use crate::web::table::{Cell, Column, Row, col};

pub const COLUMNS: [Column; 6] = [
    col("severity", "Severity"),
    col("where", "Where"),
    col("reason", "What is missing"),
    col("fix", "Fix (a link that does it)"),
    col("owner", "Owner"),
    col("due", "Due"),
];

pub const FILTERS: [(&str, &str); 3] = [("owner", "Owner"), ("severity", "Severity"), ("category", "Category")];

/// The categories a gap falls under: its criterion's, or those of its control's criteria.
fn categories(g: &Gap, criteria_of: &BTreeMap<&str, &[String]>) -> Vec<String> {
    let fw = &Catalog::builtin().framework;
    let ids: Vec<&str> = match (&g.control, &g.criterion) {
        (_, Some(k)) => vec![k.as_str()],
        (Some(c), None) => criteria_of
            .get(c.as_str())
            .map(|ks| ks.iter().map(String::as_str).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let mut cats: Vec<String> = ids
        .iter()
        .filter_map(|k| fw.criterion(k).map(|c| name_of(c.category)))
        .collect();
    cats.sort();
    cats.dedup();
    cats
}

/// The gaps the caller may see (an auditor: those of in-scope controls), most severe first,
/// each a row carrying its cells for a download.
pub fn rows(snap: &Snapshot, access: &Access) -> Vec<Row> {
    let Some(a) = &snap.assessment else {
        return Vec::new();
    };
    let visible: std::collections::HashSet<&str> = crate::controls::visible(snap, &controls_reach(access))
        .into_iter()
        .map(|c| c.code.as_str())
        .collect();
    let criteria_of: BTreeMap<&str, &[String]> = a
        .program
        .controls
        .iter()
        .map(|c| (c.code.as_str(), c.criteria.as_slice()))
        .collect();
    let today = time::OffsetDateTime::now_utc().date();
    a.readiness
        .gaps
        .iter()
        .filter(|g| g.control.as_deref().is_none_or(|c| visible.contains(c)))
        .map(|g| {
            let due = g.due(Some(a.start), today);
            let (place, href) = match (&g.control, &g.criterion) {
                (Some(c), _) => (c.clone(), format!("/controls/{}", crate::web::html::url_encode(c))),
                (None, Some(k)) => (k.clone(), format!("/criteria/{}", crate::web::html::url_encode(k))),
                _ => (String::new(), String::new()),
            };
            let (label, action) = crate::web::fix::target(&g.action);
            let severity = name_of(g.severity);
            let owner = g.owner.clone().unwrap_or_default();
            let cats = categories(g, &criteria_of);
            let mut tags = vec![
                ("severity", severity.clone()),
                ("owner", if owner.is_empty() { "none".into() } else { owner.clone() }),
            ];
            // A gap under several categories is found under each.
            tags.extend(cats.iter().map(|c| ("category", c.clone())));
            Row {
                cells: vec![
                    Cell::badge(&severity),
                    Cell::code_link(place, href),
                    Cell::text(&g.reason),
                    // The sentence is the link; its title says where it leads.
                    Cell {
                        title: Some(label),
                        ..Cell::link(&g.fix, action)
                    },
                    Cell::text(if owner.is_empty() {
                        "nobody yet".to_string()
                    } else {
                        owner
                    }),
                    Cell::text(evident_core::format_date(due)),
                ],
                json: json!(g.cells(due)),
                tags,
            }
        })
        .collect()
}

/// The caller as the controls area sees them: the gaps and the matrix follow what the caller
/// may read of the controls (an auditor: the audit's scope), whichever page they come through.
pub fn controls_reach(access: &Access) -> Access {
    access.as_in(evident_core::access::Area::Controls, evident_core::access::Action::Read)
}

/// The remediation plan from the gaps the snapshot holds (the page and the API): the rule is
/// core's, the write the store's.
pub async fn plan(
    state: &crate::state::AppState,
    access: &Access,
) -> Result<evident_store::WriteSummary, crate::ServerError> {
    let snap = state.snapshot().await?;
    let a = snap
        .assessment
        .as_ref()
        .ok_or(crate::ServerError::Store(evident_store::StoreError::NoScope))?;
    Ok(crate::fieldwork::ws(state, access)
        .plan_remediation(&a.readiness.gaps, Some(a.start), crate::fieldwork::today())
        .await?)
}
