//! OSCAL in: a catalog (and optionally a profile selecting from it) read as an extra framework
//! whose controls can be mapped to ours. A document that is not what it claims names the JSON
//! path and the reason; nothing of it is kept.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::Value;

/// Why a document was refused: where (a JSON pointer) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ImportError {
    pub path: String,
    pub reason: String,
}

fn refuse(path: &str, reason: impl Into<String>) -> ImportError {
    ImportError {
        path: if path.is_empty() { "/".into() } else { path.into() },
        reason: reason.into(),
    }
}

fn parse(bytes: &[u8]) -> Result<Value, ImportError> {
    serde_json::from_slice(bytes).map_err(|e| refuse("/", format!("not JSON ({e}); is the file complete?")))
}

/// One control or enhancement of an imported catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct FrameworkControl {
    pub id: String,
    pub title: String,
    /// The control an enhancement belongs to.
    pub parent: Option<String>,
    /// The group (family) it sits in, by title.
    pub group: Option<String>,
    pub withdrawn: bool,
    /// Chosen by the profile (every control when no profile was given).
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedCatalog {
    pub title: String,
    pub version: String,
    /// In document order.
    pub controls: Vec<FrameworkControl>,
    /// The profile's title, when one selected the controls.
    pub profile: Option<String>,
}

fn text<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a str, ImportError> {
    let at = format!("{path}/{key}");
    let s = v
        .get(key)
        .ok_or_else(|| refuse(&at, "missing"))?
        .as_str()
        .ok_or_else(|| refuse(&at, "not a string"))?;
    if s.trim().is_empty() {
        return Err(refuse(&at, "empty"));
    }
    crate::text::storable(s).map_err(|e| refuse(&at, e.to_string()))?;
    Ok(s)
}

/// OSCAL's token: a letter or underscore, then letters, digits, `.`, `-` or `_`.
fn is_token(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

fn array<'a>(v: &'a Value, path: &str, key: &str) -> Result<&'a [Value], ImportError> {
    match v.get(key) {
        None => Ok(&[]),
        Some(Value::Array(a)) => Ok(a),
        Some(_) => Err(refuse(&format!("{path}/{key}"), "not an array")),
    }
}

struct Walk {
    controls: Vec<FrameworkControl>,
    seen: BTreeSet<String>,
}

impl Walk {
    fn controls(
        &mut self,
        list: &[Value],
        path: &str,
        parent: Option<&str>,
        group: Option<&str>,
    ) -> Result<(), ImportError> {
        for (i, c) in list.iter().enumerate() {
            let at = format!("{path}/{i}");
            if !c.is_object() {
                return Err(refuse(&at, "a control must be an object"));
            }
            let id = text(c, &at, "id")?;
            if !is_token(id) {
                return Err(refuse(&format!("{at}/id"), format!("'{id}' is not an OSCAL token")));
            }
            if !self.seen.insert(id.to_string()) {
                return Err(refuse(&format!("{at}/id"), format!("'{id}' appears twice")));
            }
            let title = text(c, &at, "title")?;
            let withdrawn = array(c, &at, "props")?.iter().any(|p| {
                p.get("name").and_then(Value::as_str) == Some("status")
                    && p.get("value").and_then(Value::as_str) == Some("withdrawn")
            });
            self.controls.push(FrameworkControl {
                id: id.to_string(),
                title: title.to_string(),
                parent: parent.map(str::to_string),
                group: group.map(str::to_string),
                withdrawn,
                selected: true,
            });
            let nested = array(c, &at, "controls")?;
            self.controls(nested, &format!("{at}/controls"), Some(id), group)?;
        }
        Ok(())
    }

    fn groups(&mut self, list: &[Value], path: &str) -> Result<(), ImportError> {
        for (i, g) in list.iter().enumerate() {
            let at = format!("{path}/{i}");
            if !g.is_object() {
                return Err(refuse(&at, "a group must be an object"));
            }
            let title = text(g, &at, "title")?;
            let controls = array(g, &at, "controls")?;
            self.controls(controls, &format!("{at}/controls"), None, Some(title))?;
            self.groups(array(g, &at, "groups")?, &format!("{at}/groups"))?;
        }
        Ok(())
    }
}

/// Reads an OSCAL catalog (JSON).
pub fn catalog(bytes: &[u8]) -> Result<ImportedCatalog, ImportError> {
    let v: Value = parse(bytes)?;
    let Some(cat) = v.get("catalog") else {
        let got = v
            .as_object()
            .and_then(|o| o.keys().next().cloned())
            .unwrap_or_else(|| "no object".into());
        return Err(refuse(
            "/catalog",
            format!("missing: this is not an OSCAL catalog (its root is '{got}')"),
        ));
    };
    let meta = cat
        .get("metadata")
        .ok_or_else(|| refuse("/catalog/metadata", "missing"))?;
    let title = text(meta, "/catalog/metadata", "title")?.to_string();
    let version = text(meta, "/catalog/metadata", "version")?.to_string();
    let mut walk = Walk {
        controls: Vec::new(),
        seen: BTreeSet::new(),
    };
    walk.groups(array(cat, "/catalog", "groups")?, "/catalog/groups")?;
    walk.controls(array(cat, "/catalog", "controls")?, "/catalog/controls", None, None)?;
    if walk.controls.is_empty() {
        return Err(refuse("/catalog", "holds no control"));
    }
    Ok(ImportedCatalog {
        title,
        version,
        controls: walk.controls,
        profile: None,
    })
}

/// Applies an OSCAL profile's selection (`include-all`, `include-controls` by `with-ids`,
/// `exclude-controls`) to a catalog read with [`catalog`]. Every id the profile names must be
/// in the catalog.
pub fn apply_profile(catalog: &mut ImportedCatalog, bytes: &[u8]) -> Result<(), ImportError> {
    let v: Value = parse(bytes)?;
    let p = v
        .get("profile")
        .ok_or_else(|| refuse("/profile", "missing: this is not an OSCAL profile"))?;
    let title = text(
        p.get("metadata")
            .ok_or_else(|| refuse("/profile/metadata", "missing"))?,
        "/profile/metadata",
        "title",
    )?
    .to_string();
    let imports = array(p, "/profile", "imports")?;
    if imports.is_empty() {
        return Err(refuse("/profile/imports", "no import: the profile selects nothing"));
    }
    let known: BTreeSet<&str> = catalog.controls.iter().map(|c| c.id.as_str()).collect();
    let ids = |list: &[Value], at: &str| -> Result<BTreeSet<String>, ImportError> {
        let mut out = BTreeSet::new();
        for (j, sel) in list.iter().enumerate() {
            let sel_at = format!("{at}/{j}");
            for (k, id) in array(sel, &sel_at, "with-ids")?.iter().enumerate() {
                let id_at = format!("{sel_at}/with-ids/{k}");
                let id = id.as_str().ok_or_else(|| refuse(&id_at, "not a string"))?;
                if !known.contains(id) {
                    return Err(refuse(&id_at, format!("'{id}' is not a control of the catalog")));
                }
                out.insert(id.to_string());
            }
        }
        Ok(out)
    };
    let mut all = false;
    let mut chosen = BTreeSet::new();
    let mut dropped = BTreeSet::new();
    for (i, imp) in imports.iter().enumerate() {
        let at = format!("/profile/imports/{i}");
        all |= imp.get("include-all").is_some();
        chosen.extend(ids(
            array(imp, &at, "include-controls")?,
            &format!("{at}/include-controls"),
        )?);
        dropped.extend(ids(
            array(imp, &at, "exclude-controls")?,
            &format!("{at}/exclude-controls"),
        )?);
    }
    for c in &mut catalog.controls {
        c.selected = (all || chosen.contains(&c.id)) && !dropped.contains(&c.id);
    }
    catalog.profile = Some(title);
    Ok(())
}

/// An imported framework as lists show it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FrameworkView {
    pub id: String,
    pub title: String,
    pub version: String,
    /// The profile that selected its controls, if one did.
    pub profile: Option<String>,
    pub controls: i64,
    pub selected: i64,
    /// Controls with at least one of ours mapped.
    pub mapped: i64,
    pub imported_at: String,
    pub imported_by: String,
}

/// One control of an imported framework, with ours mapped to it.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct FrameworkControlView {
    #[serde(flatten)]
    pub control: FrameworkControl,
    /// Our control codes.
    pub mapped: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const CATALOG: &str = r#"{"catalog": {"uuid": "x", "metadata": {"title": "Mini", "version": "1"},
        "groups": [{"id": "ac", "title": "Access Control", "controls": [
            {"id": "ac-1", "title": "Policy", "controls": [{"id": "ac-1.1", "title": "Enhancement"}]},
            {"id": "ac-2", "title": "Accounts", "props": [{"name": "status", "value": "withdrawn"}]}]}]}}"#;

    #[test]
    fn controls_enhancements_and_a_profile_selection() {
        let mut c = catalog(CATALOG.as_bytes()).unwrap();
        assert_eq!(c.controls.len(), 3);
        assert_eq!(c.controls[1].parent.as_deref(), Some("ac-1"));
        assert_eq!(c.controls[0].group.as_deref(), Some("Access Control"));
        assert!(c.controls[2].withdrawn);
        let profile = r#"{"profile": {"metadata": {"title": "Low"}, "imports": [{"href": "x", "include-controls": [{"with-ids": ["ac-1"]}]}]}}"#;
        apply_profile(&mut c, profile.as_bytes()).unwrap();
        let chosen: Vec<&str> = c
            .controls
            .iter()
            .filter(|x| x.selected)
            .map(|x| x.id.as_str())
            .collect();
        assert_eq!(chosen, ["ac-1"]);
        assert_eq!(c.profile.as_deref(), Some("Low"));
    }

    #[test]
    fn bad_documents_name_the_json_path() {
        let e = catalog(br#"{"profile": {}}"#).unwrap_err();
        assert!(e.path == "/catalog" && e.reason.contains("'profile'"), "{e}");
        let e = catalog(br#"{"catalog": {"metadata": {"title": "T", "version": "1"}, "groups": [{"title": "G", "controls": [{"id": "a-1", "title": "x"}, {"id": "a-1", "title": "y"}]}]}}"#).unwrap_err();
        assert_eq!(e.path, "/catalog/groups/0/controls/1/id", "{e}");
        let e = catalog(
            br#"{"catalog": {"metadata": {"title": "T", "version": "1"}, "controls": [{"id": "1bad", "title": "x"}]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "/catalog/controls/0/id", "{e}");
        let e = catalog(br#"{"catalog": {"metadata": {"version": "1"}}}"#).unwrap_err();
        assert_eq!(e.to_string(), "/catalog/metadata/title: missing");
        let mut c = catalog(CATALOG.as_bytes()).unwrap();
        let e = apply_profile(
            &mut c,
            br#"{"profile": {"metadata": {"title": "P"}, "imports": [{"href": "x", "include-controls": [{"with-ids": ["ac-1", "zz-9"]}]}]}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "/profile/imports/0/include-controls/0/with-ids/1", "{e}");
    }
}
