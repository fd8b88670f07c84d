//! Frameworks imported from OSCAL (a catalog, optionally narrowed by a profile), their controls
//! and our controls mapped to them. Reading the documents is `evident_core::oscal::import`'s.

use std::collections::BTreeMap;

use evident_core::oscal::import::{self, FrameworkControl, FrameworkControlView, FrameworkView, ImportedCatalog};
use serde_json::json;
use sqlx::Row;

use crate::bulk::{Cell, insert_rows};
use crate::clock::now_ms;
use crate::{StoreError, Workspace};

const FRAMEWORK_COLUMNS: &[&str] = &[
    "id",
    "title",
    "version",
    "catalog_sha256",
    "profile_title",
    "profile_sha256",
    "imported_at",
    "imported_by",
];
const CONTROL_COLUMNS: &[&str] = &[
    "framework_id",
    "control_id",
    "ord",
    "title",
    "parent_id",
    "group_title",
    "withdrawn",
    "selected",
];
const EXISTS: &str = "SELECT id FROM frameworks WHERE id = $1";
/// A framework with its counts; LIST and ONE add their ends.
macro_rules! framework_select {
    () => {
        "SELECT f.id, f.title, f.version, f.profile_title, f.imported_at, f.imported_by, \
         (SELECT COUNT(*) FROM framework_controls c WHERE c.framework_id = f.id) AS n, \
         (SELECT COUNT(*) FROM framework_controls c WHERE c.framework_id = f.id AND c.selected = 1) AS n_selected, \
         (SELECT COUNT(DISTINCT m.control_id) FROM framework_mappings m WHERE m.framework_id = f.id) AS n_mapped \
         FROM frameworks f"
    };
}
const LIST: &str = concat!(framework_select!(), " ORDER BY f.id");
const ONE: &str = concat!(framework_select!(), " WHERE f.id = $1");
const CONTROLS: &str = "SELECT control_id, title, parent_id, group_title, withdrawn, selected FROM framework_controls \
     WHERE framework_id = $1 ORDER BY ord";
const MAPPINGS: &str = "SELECT control_id, control_code FROM framework_mappings WHERE framework_id = $1 \
     ORDER BY control_id, control_code";
const ONE_CONTROL: &str = "SELECT control_id FROM framework_controls WHERE framework_id = $1 AND control_id = $2";
const MAP: &str = "INSERT INTO framework_mappings (framework_id, control_id, control_code, mapped_at, mapped_by) \
     VALUES ($1, $2, $3, $4, $5)";
const MAPPED: &str = "SELECT control_code FROM framework_mappings WHERE framework_id = $1 AND control_id = $2 \
     AND control_code = $3";
const UNMAP: &str = "DELETE FROM framework_mappings WHERE framework_id = $1 AND control_id = $2 AND control_code = $3";

fn field(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Field {
        field,
        reason: reason.into(),
    }
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

impl Workspace {
    /// Imports an OSCAL catalog as the framework `id`, narrowed by a profile when given. A
    /// document that does not read names its file, JSON path and reason, and nothing is stored.
    pub async fn import_framework(
        &self,
        id: &str,
        catalog: (&str, &[u8]),
        profile: Option<(&str, &[u8])>,
    ) -> Result<FrameworkView, StoreError> {
        let id = id.trim().to_lowercase();
        if id.is_empty()
            || id.len() > 64
            || !id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(field(
                "id",
                format!("'{id}' is not a framework id: letters, digits, '-', '_' or '.', at most 64"),
            ));
        }
        let refused = |file: &str, e: import::ImportError| field("file", format!("{file}: {e}"));
        let mut parsed: ImportedCatalog = import::catalog(catalog.1).map_err(|e| refused(catalog.0, e))?;
        if let Some((name, bytes)) = profile {
            import::apply_profile(&mut parsed, bytes).map_err(|e| refused(name, e))?;
        }
        if sqlx::query(EXISTS)
            .bind(&id)
            .fetch_optional(&self.db.pool)
            .await?
            .is_some()
        {
            return Err(StoreError::Conflict(format!("a framework '{id}' is already imported")));
        }
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        insert_rows(
            &mut tx,
            "frameworks",
            FRAMEWORK_COLUMNS,
            vec![vec![
                Cell::from(id.as_str()),
                Cell::from(parsed.title.as_str()),
                Cell::from(parsed.version.as_str()),
                Cell::from(sha256(catalog.1)),
                Cell::from(parsed.profile.clone()),
                Cell::from(profile.map(|(_, b)| sha256(b))),
                Cell::from(now),
                Cell::from(self.actor.as_str()),
            ]],
        )
        .await?;
        let rows = parsed
            .controls
            .iter()
            .enumerate()
            .map(|(n, c)| {
                vec![
                    Cell::from(id.as_str()),
                    Cell::from(c.id.as_str()),
                    Cell::from(n as i64),
                    Cell::from(c.title.as_str()),
                    Cell::from(c.parent.clone()),
                    Cell::from(c.group.clone()),
                    Cell::from(i64::from(c.withdrawn)),
                    Cell::from(i64::from(c.selected)),
                ]
            })
            .collect();
        insert_rows(&mut tx, "framework_controls", CONTROL_COLUMNS, rows).await?;
        self.commit_logged(
            tx,
            "framework.import",
            &format!("framework:{id}"),
            json!({"title": parsed.title, "version": parsed.version, "controls": parsed.controls.len(),
                   "selected": parsed.controls.iter().filter(|c| c.selected).count(),
                   "catalog_sha256": sha256(catalog.1), "profile": parsed.profile}),
        )
        .await?;
        self.framework(&id).await
    }

    pub async fn frameworks(&self) -> Result<Vec<FrameworkView>, StoreError> {
        sqlx::query(LIST)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(framework_of)
            .collect()
    }

    pub async fn framework(&self, id: &str) -> Result<FrameworkView, StoreError> {
        match sqlx::query(ONE).bind(id).fetch_optional(&self.db.pool).await? {
            Some(r) => framework_of(&r),
            None => Err(not_found(id)),
        }
    }

    /// Refuses an id no framework has, without counting anything.
    async fn require_framework(&self, id: &str) -> Result<(), StoreError> {
        match sqlx::query(EXISTS).bind(id).fetch_optional(&self.db.pool).await? {
            Some(_) => Ok(()),
            None => Err(not_found(id)),
        }
    }

    /// The framework's controls in document order, with ours mapped to each.
    pub async fn framework_controls(&self, id: &str) -> Result<Vec<FrameworkControlView>, StoreError> {
        self.require_framework(id).await?;
        let mut mapped: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for r in sqlx::query(MAPPINGS).bind(id).fetch_all(&self.db.pool).await? {
            mapped
                .entry(r.try_get("control_id")?)
                .or_default()
                .push(r.try_get("control_code")?);
        }
        sqlx::query(CONTROLS)
            .bind(id)
            .fetch_all(&self.db.pool)
            .await?
            .iter()
            .map(|r| {
                let cid: String = r.try_get("control_id")?;
                Ok(FrameworkControlView {
                    mapped: mapped.remove(&cid).unwrap_or_default(),
                    control: FrameworkControl {
                        id: cid,
                        title: r.try_get("title")?,
                        parent: r.try_get("parent_id")?,
                        group: r.try_get("group_title")?,
                        withdrawn: r.try_get::<i64, _>("withdrawn")? == 1,
                        selected: r.try_get::<i64, _>("selected")? == 1,
                    },
                })
            })
            .collect()
    }

    /// Maps (or, with `remove`, unmaps) one of our controls to a framework control; audit-logged.
    pub async fn map_framework_control(
        &self,
        framework: &str,
        control: &str,
        ours: &str,
        remove: bool,
    ) -> Result<(), StoreError> {
        self.require_framework(framework).await?;
        let control = control.trim().to_lowercase();
        if sqlx::query(ONE_CONTROL)
            .bind(framework)
            .bind(&control)
            .fetch_optional(&self.db.pool)
            .await?
            .is_none()
        {
            return Err(field("control", format!("'{control}' is not a control of {framework}")));
        }
        let code = match self.control(ours).await {
            Ok(c) => c.code,
            Err(StoreError::NotFound { .. }) => {
                return Err(field("ours", format!("'{}' is not one of our controls", ours.trim())));
            }
            Err(e) => return Err(e),
        };
        let mut tx = self.begin_write().await?;
        let exists = sqlx::query(MAPPED)
            .bind(framework)
            .bind(&control)
            .bind(&code)
            .fetch_optional(&mut *tx)
            .await?
            .is_some();
        match (remove, exists) {
            (false, true) => {
                return Err(StoreError::Conflict(format!(
                    "{code} is already mapped to {framework} {control}"
                )));
            }
            (true, false) => {
                return Err(StoreError::Conflict(format!(
                    "{code} is not mapped to {framework} {control}"
                )));
            }
            (false, false) => {
                sqlx::query(MAP)
                    .bind(framework)
                    .bind(&control)
                    .bind(&code)
                    .bind(now_ms())
                    .bind(&self.actor)
                    .execute(&mut *tx)
                    .await?;
            }
            (true, true) => {
                sqlx::query(UNMAP)
                    .bind(framework)
                    .bind(&control)
                    .bind(&code)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        self.commit_logged(
            tx,
            if remove { "framework.unmap" } else { "framework.map" },
            &format!("framework:{framework}"),
            json!({"control": control, "ours": code}),
        )
        .await
    }
}

fn not_found(id: &str) -> StoreError {
    StoreError::NotFound {
        kind: "framework",
        id: id.to_string(),
    }
}

fn framework_of(r: &sqlx::any::AnyRow) -> Result<FrameworkView, StoreError> {
    Ok(FrameworkView {
        id: r.try_get("id")?,
        title: r.try_get("title")?,
        version: r.try_get("version")?,
        profile: r.try_get("profile_title")?,
        controls: r.try_get("n")?,
        selected: r.try_get("n_selected")?,
        mapped: r.try_get("n_mapped")?,
        imported_at: crate::clock::instant(r.try_get("imported_at")?),
        imported_by: r.try_get("imported_by")?,
    })
}
