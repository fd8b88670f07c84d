//! The criteria as Evident models them (catalog), the ones in scope (profile), and the
//! company's controls against them (component definition).

use std::collections::BTreeMap;

use evident_catalog::{Catalog, Category};
use serde_json::{Value, json};

use super::{Records, file_name, metadata, prop, sealed, token, uuid5};

/// The categories in scope: the scope's, or Security alone before a scope is set.
pub(super) fn in_scope(input: &Records) -> Vec<Category> {
    match &input.scope {
        Some(s) => s.categories.iter().copied().collect(),
        None => vec![Category::Security],
    }
}

pub(super) fn catalog(input: &Records) -> Value {
    let fw = &Catalog::builtin().framework;
    let groups: Vec<Value> = fw
        .categories
        .iter()
        .map(|cat| {
            let series: Vec<Value> = fw
                .series
                .iter()
                .filter(|s| s.category == cat.id)
                .map(|s| {
                    let controls: Vec<Value> = fw
                        .criteria
                        .iter()
                        .filter(|c| c.series == s.id)
                        .map(|c| {
                            let id = token(&c.id);
                            let mut props = vec![json!({"name": "label", "value": c.id})];
                            if let Some(p) = c.coso_principle {
                                props.push(prop("coso-principle", p.to_string()));
                            }
                            json!({
                                "id": id,
                                "class": "criterion",
                                "title": c.title,
                                "props": props,
                                "parts": [{"id": format!("{id}_gdn"), "name": "guidance", "prose": c.explanation}]
                            })
                        })
                        .collect();
                    json!({
                        "id": format!("series-{}", token(&s.id)),
                        "class": "series",
                        "title": s.name,
                        "props": [{"name": "label", "value": s.id}],
                        "controls": controls
                    })
                })
                .collect();
            json!({
                "id": format!("category-{}", token(cat.id.as_str())),
                "class": "category",
                "title": cat.name,
                "parts": [{"id": format!("category-{}_ovw", token(cat.id.as_str())), "name": "overview", "prose": cat.summary}],
                "groups": series
            })
        })
        .collect();
    let mut m = metadata(
        input,
        &format!("{} as Evident models it", fw.framework.name),
        &fw.framework.version,
    );
    m["remarks"] =
        json!("The criteria's identifiers with Evident's own titles and explanations; not the AICPA's text.");
    sealed("catalog", json!({"metadata": m, "groups": groups}))
}

/// The criteria of the categories in scope.
pub(super) fn in_scope_criteria(input: &Records) -> Vec<String> {
    let cats = in_scope(input);
    Catalog::builtin()
        .framework
        .criteria
        .iter()
        .filter(|c| cats.contains(&c.category))
        .map(|c| c.id.clone())
        .collect()
}

pub(super) fn profile(input: &Records) -> Value {
    let ids: Vec<String> = in_scope_criteria(input).iter().map(|c| token(c)).collect();
    let cats: Vec<&str> = in_scope(input).iter().map(|c| c.as_str()).collect();
    let mut m = metadata(input, &format!("{}: SOC 2 criteria in scope", input.organisation), "1");
    m["props"] = json!([prop("categories", cats.join(" "))]);
    sealed(
        "profile",
        json!({
            "metadata": m,
            "imports": [{
                "href": file_name("catalog").expect("a catalog"),
                "include-controls": [{"with-ids": ids}]
            }],
            "merge": {"as-is": true}
        }),
    )
}

pub(super) fn component_definition(input: &Records) -> Value {
    let library = &Catalog::builtin().library;
    // Controls by area, then for each criterion the area's controls that serve it.
    let mut areas: BTreeMap<&str, Vec<&crate::control::Control>> = BTreeMap::new();
    for c in &input.controls {
        areas.entry(c.area.as_str()).or_default().push(c);
    }
    let components: Vec<Value> = areas
        .iter()
        .map(|(area, controls)| {
            let name = library
                .areas
                .iter()
                .find(|a| a.id == *area)
                .map(|a| a.name.clone())
                .unwrap_or_else(|| area.to_string());
            let mut by_criterion: BTreeMap<&str, Vec<&crate::control::Control>> = BTreeMap::new();
            for c in controls {
                for k in &c.criteria {
                    by_criterion.entry(k.as_str()).or_default().push(c);
                }
            }
            let requirements: Vec<Value> = by_criterion
                .iter()
                .map(|(criterion, cs)| {
                    let mut props: Vec<Value> = cs.iter().map(|c| prop("control", c.code.clone())).collect();
                    props.sort_by_key(|p| p["value"].as_str().unwrap_or_default().to_string());
                    json!({
                        "uuid": uuid5(&format!("component {area} implements {criterion}")),
                        "control-id": token(criterion),
                        "description": cs
                            .iter()
                            .map(|c| format!("{} {}: {}", c.code, c.title, c.description.trim()))
                            .collect::<Vec<_>>()
                            .join("\n\n"),
                        "props": props,
                        "responsible-roles": [{"role-id": "control-owner"}]
                    })
                })
                .collect();
            json!({
                "uuid": uuid5(&format!("component area {area}")),
                "type": "process-procedure",
                "title": name,
                "description": format!(
                    "{}'s {} controls ({}), as adopted in Evident.",
                    input.organisation,
                    name.to_lowercase(),
                    controls.iter().map(|c| c.code.as_str()).collect::<Vec<_>>().join(", ")
                ),
                "control-implementations": [{
                    "uuid": uuid5(&format!("component area {area} implementation")),
                    "source": file_name("catalog").expect("a catalog"),
                    "description": format!("How the {} controls meet the SOC 2 criteria.", name.to_lowercase()),
                    "implemented-requirements": requirements
                }]
            })
        })
        .collect();
    sealed(
        "component-definition",
        json!({
            "metadata": metadata(input, &format!("{}: controls as adopted", input.organisation), "1"),
            "components": components
        }),
    )
}
