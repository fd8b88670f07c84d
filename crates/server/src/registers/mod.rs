//! The registers the interface lists (people, training, background checks, risks, vendors,
//! assets, events, tasks): their paths, access areas, listing columns and rows.

pub mod api;
pub mod form;
pub mod page;

use serde_json::json;

use crate::web::table::{Cell, Column, Row};
use evident_core::register::{FieldKind, ListColumn, RegisterSpec, Value};
use evident_core::registers::{
    ACCESS_GRANTS, ASSETS, BACKGROUND_CHECKS, EVENTS, MACHINE_IDENTITIES, PEOPLE, RISKS, TASKS, TRAINING, VENDORS,
};
use evident_store::{StoredRecord, record_json};

/// The registers the interface lists, with the page path and title of each.
pub const REGISTERS: [(&RegisterSpec, &str, &str); 10] = [
    (&PEOPLE, "people", "People"),
    (&TRAINING, "training", "Training"),
    (&BACKGROUND_CHECKS, "background-checks", "Background checks"),
    (&RISKS, "risks", "Risks"),
    (&VENDORS, "vendors", "Vendors"),
    (&ASSETS, "assets", "Assets"),
    (&EVENTS, "events", "Events"),
    (&TASKS, "tasks", "Tasks"),
    (&MACHINE_IDENTITIES, "machine-identities", "Machine identities"),
    (&ACCESS_GRANTS, "access-grants", "Access grants"),
];

/// The access area of a register's pages.
pub fn access_area(path: &str) -> evident_core::access::Area {
    use evident_core::access::Area;
    match path {
        // Training and screening records are personal data, like the people register.
        "people" | "training" | "background-checks" => Area::People,
        "risks" => Area::Risks,
        "vendors" => Area::Vendors,
        // The identity inventory: service accounts and elevations sit with the assets.
        "assets" | "machine-identities" | "access-grants" => Area::Assets,
        "events" => Area::Events,
        _ => Area::Tasks,
    }
}

pub fn register(path: &str) -> Option<&'static RegisterSpec> {
    REGISTERS.iter().find(|(_, p, _)| *p == path).map(|(s, _, _)| *s)
}

/// Columns of a register's listing, as its spec names them.
pub fn columns(spec: &RegisterSpec) -> Vec<Column> {
    spec.list
        .iter()
        .map(|c| Column {
            key: c.key(),
            label: c.label().into(),
        })
        .collect()
}

/// Listing rows; `with_json` adds each record's API form (the pages do without it), `derived`
/// holds the values of the derived columns by record key (absent: left empty).
pub fn register_rows(
    spec: &RegisterSpec,
    path: &str,
    records: &[StoredRecord],
    with_json: bool,
    derived: &std::collections::HashMap<String, Vec<Value>>,
) -> Vec<Row> {
    records
        .iter()
        .map(|r| {
            let mut drawn = derived.get(&r.key).into_iter().flatten();
            let cells = spec
                .list
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let v = match c {
                        ListColumn::Derived { .. } => drawn.next().cloned().unwrap_or(Value::Null),
                        _ => c.value(&r.record),
                    };
                    let kind = match c {
                        ListColumn::Field(name) => spec.fields.iter().find(|f| f.name == *name).map(|f| f.kind),
                        ListColumn::Score { .. } => Some(FieldKind::Int { min: 1, max: 25 }),
                        ListColumn::Derived { .. } => None,
                    };
                    match (kind, &v) {
                        _ if i == 0 => Cell {
                            // A register keyed by its own reference (R-12, T-102) reads it whole.
                            code: c.key() == "id",
                            ..Cell::link(
                                v.to_display(),
                                format!("/{path}/{}", crate::web::html::url_encode(&r.key)),
                            )
                        },
                        (Some(FieldKind::Enum(_)), Value::Text(t)) => Cell::badge(t.clone()),
                        (Some(FieldKind::Int { .. }), _) => Cell::num(v.to_text()),
                        _ => Cell::text(v.to_display()),
                    }
                })
                .collect();
            let tags = spec
                .fields
                .iter()
                .filter(|f| matches!(f.kind, FieldKind::Enum(_)))
                .map(|f| (f.name, r.record.get(f.name).to_text()))
                .collect();
            let json = if with_json {
                let mut json = record_json(spec, &r.record);
                if let Some(m) = json.as_object_mut() {
                    m.insert("key".into(), json!(r.key));
                    m.insert("updated_at".into(), json!(r.updated_at));
                }
                json
            } else {
                serde_json::Value::Null
            };
            Row { cells, json, tags }
        })
        .collect()
}

pub fn register_filters(spec: &RegisterSpec) -> Vec<(&'static str, &'static str)> {
    spec.fields
        .iter()
        .filter(|f| matches!(f.kind, FieldKind::Enum(_)))
        .map(|f| (f.name, filter_label(f.name)))
        .collect()
}

/// A field's name as a filter's label ("Employment type"), made once per field name for the
/// life of the process (the names are the registers' own, a fixed few).
fn filter_label(name: &'static str) -> &'static str {
    static LABELS: std::sync::OnceLock<std::sync::Mutex<std::collections::HashMap<&'static str, &'static str>>> =
        std::sync::OnceLock::new();
    let mut labels = LABELS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    labels
        .entry(name)
        .or_insert_with(|| Box::leak(evident_core::register::label_of(name).into_boxed_str()))
}

/// An auditor's view of the registers, from the periods of the engagements they are bound to;
/// `None` for every other role (they read registers whole, as their role allows).
async fn audit_scope(
    state: &crate::state::AppState,
    access: &crate::access::Access,
) -> Result<Option<evident_core::fieldwork::audit_scope::AuditScope>, crate::ServerError> {
    use evident_core::access::Role;
    if access.role() != Role::Auditor {
        return Ok(None);
    }
    let periods = crate::fieldwork::auditor_periods(state, access).await?;
    let people = state.ws.records(&PEOPLE).await?;
    Ok(Some(evident_core::fieldwork::audit_scope::AuditScope::new(
        periods,
        people.iter().map(|p| &p.record),
    )))
}

/// The records of a register the caller reads, and what narrowed them when something did.
pub async fn readable(
    state: &crate::state::AppState,
    access: &crate::access::Access,
    spec: &'static RegisterSpec,
) -> Result<(Vec<StoredRecord>, Option<&'static str>), crate::ServerError> {
    let mut records = state.ws.records(spec).await?;
    let note = evident_core::fieldwork::audit_scope::AuditScope::note(spec.name);
    // Registers read whole (risks, vendors) need no scope, and so no people register.
    let Some(scope) = (if note.is_some() {
        audit_scope(state, access).await?
    } else {
        None
    }) else {
        return Ok((records, None));
    };
    records.retain(|r| scope.admits(spec.name, &r.record));
    Ok((
        records,
        evident_core::fieldwork::audit_scope::AuditScope::note(spec.name),
    ))
}

/// One record the caller reads; outside an auditor's engagements it does not exist for them.
pub async fn readable_one(
    state: &crate::state::AppState,
    access: &crate::access::Access,
    spec: &'static RegisterSpec,
    key: &str,
) -> Result<StoredRecord, crate::ServerError> {
    let r = state.ws.record(spec, key).await?;
    if evident_core::fieldwork::audit_scope::AuditScope::note(spec.name).is_none() {
        return Ok(r);
    }
    match audit_scope(state, access).await? {
        Some(scope) if !scope.admits(spec.name, &r.record) => Err(crate::ServerError::NotFound),
        _ => Ok(r),
    }
}
