//! The OpenAPI 3.1 document, built from the same route table the router is built from.

use serde_json::{Map, Value, json};

use crate::routes::api_docs;

fn obj(props: &[(&str, Value)], required: &[&str]) -> Value {
    let mut p = Map::new();
    for (k, v) in props {
        p.insert((*k).to_string(), v.clone());
    }
    json!({"type": "object", "properties": p, "required": required})
}

fn s() -> Value {
    json!({"type": "string"})
}
fn s_null() -> Value {
    json!({"type": ["string", "null"]})
}
fn int() -> Value {
    json!({"type": "integer"})
}
fn int_null() -> Value {
    json!({"type": ["integer", "null"]})
}
fn strings() -> Value {
    json!({"type": "array", "items": {"type": "string"}})
}
fn any_obj() -> Value {
    json!({"type": "object"})
}

/// A response type's JSON Schema, generated from the Rust type itself so a field cannot be
/// renamed in one place only: its nested types join the document's schemas, and references
/// point there.
fn generated<T: schemars::JsonSchema>(name: &str, into: &mut Map<String, Value>) {
    let mut schema = serde_json::to_value(schemars::schema_for!(T)).expect("serialises");
    fn rewrite(v: &mut Value) {
        match v {
            Value::Object(o) => {
                if let Some(Value::String(r)) = o.get_mut("$ref")
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    *r = format!("#/components/schemas/{name}");
                }
                o.values_mut().for_each(rewrite);
            }
            Value::Array(a) => a.iter_mut().for_each(rewrite),
            _ => {}
        }
    }
    rewrite(&mut schema);
    let o = schema.as_object_mut().expect("an object schema");
    o.remove("$schema");
    o.remove("title");
    if let Some(Value::Object(defs)) = o.remove("$defs") {
        for (k, mut v) in defs {
            if let Some(d) = v.as_object_mut() {
                d.remove("title");
            }
            into.insert(k, v);
        }
    }
    into.insert(name.to_string(), schema);
}

fn schemas() -> Map<String, Value> {
    let mut m = Map::new();
    generated::<evident_core::evidence::EvidenceView>("Evidence", &mut m);
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put(
        "Error",
        obj(&[("error", s()), ("field", s()), ("reference", s())], &["error"]),
    );
    put(
        "Control",
        obj(
            &[
                ("code", s()),
                ("title", s()),
                ("area", s()),
                ("owner", s_null()),
                ("frequency", s()),
                (
                    "status",
                    json!({"type": "string", "enum": ["ready", "at_risk", "gap", "not_applicable", "unassessed"]}),
                ),
                ("criteria", strings()),
                ("evidence_requirements", strings()),
                ("not_applicable_reason", s_null()),
                ("reasons", json!({"type": "array", "items": any_obj()})),
            ],
            &["code", "title", "status", "criteria"],
        ),
    );
    put(
        "Criterion",
        obj(
            &[
                ("id", s()),
                ("title", s()),
                ("category", s()),
                ("status", s()),
                ("controls", strings()),
            ],
            &["id", "status"],
        ),
    );
    put(
        "Policy",
        obj(
            &[
                ("id", s()),
                ("title", s()),
                ("owner_role", s()),
                ("controls", strings()),
                ("review_interval_months", int()),
                ("status", s()),
                ("latest_version", int_null()),
                ("published_version", int_null()),
                ("versions", json!({"type": "array", "items": any_obj()})),
            ],
            &["id", "title", "status", "versions"],
        ),
    );
    put(
        "Check",
        obj(
            &[
                ("id", s()),
                ("title", s()),
                ("status", s()),
                ("passed", int()),
                ("failed", int()),
                ("excluded", int()),
            ],
            &["id", "status"],
        ),
    );
    put(
        "CheckDetail",
        obj(
            &[
                ("id", s()),
                ("title", s()),
                ("status", s()),
                ("passed", int()),
                ("failed", int()),
                ("excluded", int()),
                (
                    "failures",
                    json!({"type": "array", "items": obj(&[("record", s()), ("reason", s())], &["record"])}),
                ),
            ],
            &["id", "status", "failures"],
        ),
    );
    put(
        "AuditEntry",
        obj(
            &[
                ("seq", int()),
                ("at", int()),
                ("actor", s()),
                ("action", s()),
                ("subject", s()),
                ("payload_hash", s()),
                ("prev_hash", s()),
                ("hash", s()),
            ],
            &["seq", "at", "actor", "action", "subject", "hash"],
        ),
    );
    put(
        "User",
        obj(
            &[
                ("email", s()),
                ("role", s()),
                ("totp_enabled", json!({"type": "boolean"})),
                ("created_at", int()),
                ("disabled_at", int_null()),
            ],
            &["email", "role"],
        ),
    );
    put(
        "Token",
        obj(
            &[
                ("id", s()),
                ("user", s()),
                ("name", s()),
                ("scope", json!({"type": "string", "enum": ["read", "write"]})),
                ("created_at", int()),
                ("expires_at", int_null()),
                ("revoked_at", int_null()),
            ],
            &["id", "user", "name", "scope"],
        ),
    );
    put(
        "NewUser",
        obj(
            &[
                ("user", json!({"$ref": "#/components/schemas/User"})),
                ("password", s()),
            ],
            &["user", "password"],
        ),
    );
    put(
        "NewToken",
        obj(
            &[
                ("token", json!({"$ref": "#/components/schemas/Token"})),
                ("secret", s()),
            ],
            &["token", "secret"],
        ),
    );
    put(
        "Record",
        json!({"type": "object", "description": "A register record: its fields as in the CSV import, plus key and updated_at.", "properties": {"key": {"type": "string"}, "updated_at": {"type": "integer"}}, "required": ["key"]}),
    );
    put(
        "Readiness",
        obj(
            &[
                ("score", int()),
                (
                    "controls",
                    obj(
                        &[
                            ("ready", int()),
                            ("at_risk", int()),
                            ("gap", int()),
                            ("not_applicable", int()),
                        ],
                        &["ready", "at_risk", "gap", "not_applicable"],
                    ),
                ),
                ("criteria", json!({"type": "array", "items": any_obj()})),
                ("gaps", json!({"type": "array", "items": any_obj()})),
                ("checklist", json!({"type": "array", "items": any_obj()})),
                ("timeline", json!({"type": "array", "items": any_obj()})),
                ("computed_at", int()),
            ],
            &["score", "controls", "criteria", "gaps", "checklist", "timeline"],
        ),
    );
    put(
        "Me",
        obj(
            &[
                ("email", s()),
                ("role", s()),
                ("to_accept", json!({"type": "array", "items": any_obj()})),
                ("accepted", json!({"type": "array", "items": any_obj()})),
                ("tasks", json!({"type": "array", "items": any_obj()})),
                ("training", json!({"type": "array", "items": any_obj()})),
            ],
            &["email", "role", "to_accept"],
        ),
    );
    put(
        "Scope",
        obj(
            &[
                ("type", int_null()),
                ("categories", strings()),
                ("components", json!({"type": "array", "items": any_obj()})),
                ("status", s_null()),
                ("approval", json!({"type": ["object", "null"]})),
                ("as_of", s()),
                ("window", any_obj()),
            ],
            &["type", "categories", "components"],
        ),
    );
    put("PolicyEdit", obj(&[("title", s()), ("source", s())], &[]));
    put(
        "ExclusionRequest",
        obj(
            &[
                ("record", s()),
                ("reason", s()),
                ("owner", s()),
                ("expires", json!({"type": "string", "format": "date"})),
            ],
            &["record", "reason", "owner", "expires"],
        ),
    );
    put(
        "Exclusion",
        obj(
            &[
                ("check", s()),
                ("record", s()),
                ("reason", s()),
                ("owner", s()),
                ("expires", s()),
            ],
            &["check", "record", "expires"],
        ),
    );
    put(
        "UserChange",
        obj(&[("role", s()), ("disabled", json!({"type": "boolean"}))], &[]),
    );
    put("OwnerChange", obj(&[("owner", s_null())], &[]));
    put("Withdrawal", obj(&[("reason", s())], &["reason"]));
    put("UserRequest", obj(&[("email", s()), ("role", s())], &["email", "role"]));
    put(
        "TokenRequest",
        obj(
            &[
                ("name", s()),
                ("scope", json!({"type": "string", "enum": ["read", "write"]})),
            ],
            &["name", "scope"],
        ),
    );
    put(
        "AcceptanceRequest",
        obj(&[("policy", s()), ("version", int())], &["policy", "version"]),
    );
    put(
        "RecordRequest",
        json!({"type": "object", "description": "Field name to value, as in the register's CSV import; lists as arrays or ;-separated text.", "additionalProperties": true}),
    );
    m
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn returns(schema: &str) -> Value {
    if schema == "binary" {
        return json!({"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}});
    }
    if let Some(inner) = schema.strip_prefix("Page<").and_then(|s| s.strip_suffix('>')) {
        return json!({"application/json": {"schema": {
            "type": "object",
            "properties": {
                "items": {"type": "array", "items": reference(inner)},
                "total": {"type": "integer"}, "matched": {"type": "integer"},
                "page": {"type": "integer"}, "per": {"type": "integer"}
            },
            "required": ["items", "total", "matched", "page", "per"]
        }}});
    }
    json!({"application/json": {"schema": reference(schema)}})
}

fn error_response(description: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": reference("Error")}}})
}

pub fn document() -> Value {
    let mut paths: Map<String, Value> = Map::new();
    for d in api_docs() {
        let mut params: Vec<Value> = d
            .params
            .iter()
            .map(|p| json!({"name": p, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        if d.listing {
            let max_page = crate::table::MAX_PAGE;
            let max_per = crate::table::MAX_PER;
            for (name, schema, desc) in [
                ("q", json!({"type": "string"}), "text to find in any column"),
                ("sort", json!({"type": "string"}), "column to sort by"),
                (
                    "dir",
                    json!({"type": "string", "enum": ["asc", "desc"]}),
                    "sort direction",
                ),
                (
                    "page",
                    json!({"type": "integer", "minimum": 1, "maximum": max_page}),
                    "page number, from 1",
                ),
                (
                    "per",
                    json!({"type": "integer", "minimum": 1, "maximum": max_per}),
                    "rows per page (default 50)",
                ),
            ] {
                params.push(
                    json!({"name": name, "in": "query", "required": false, "description": desc, "schema": schema}),
                );
            }
        }
        let ok = if d.statuses.contains(&201) { "201" } else { "200" };
        let mut responses = Map::new();
        responses.insert(ok.into(), json!({"description": "OK", "content": returns(d.returns)}));
        responses.insert("401".into(), error_response("No valid token or session"));
        responses.insert(
            "404".into(),
            error_response("Not found, or not visible to the caller's role"),
        );
        // What every route of its kind may answer, besides what it names itself.
        let mut statuses: Vec<u16> = d.statuses.iter().copied().filter(|s| *s != 201).collect();
        if d.listing {
            statuses.push(400);
        }
        match d.body {
            Some("multipart") => statuses.extend([400, 413, 415, 422]),
            Some(_) => statuses.extend([400, 413, 415, 422]),
            None => {}
        }
        statuses.sort_unstable();
        statuses.dedup();
        for st in statuses.iter() {
            let desc = match st {
                400 => {
                    "Malformed input (a parameter that is not a number in range, JSON that does not parse): `field` names it"
                }
                409 => "Conflicts with the current state (e.g. nothing to approve)",
                413 => "The body is larger than the limit",
                415 => "The body is not in the media type the route takes",
                _ => "Bad input: `field` names what to fix",
            };
            responses.insert(st.to_string(), error_response(desc));
        }
        let mut op = json!({
            "summary": d.summary,
            "operationId": format!("{}_{}", d.method.as_str().to_lowercase(), d.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '-'], "_").trim_end_matches('_')),
            "tags": [crate::pages::name_of(d.area)],
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = d.body {
            op["requestBody"] = if body == "multipart" {
                json!({"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "control": {"type": "string", "description": "the control's code (new items only)"},
                        "title": {"type": "string"},
                        "requirement": {"type": "string", "description": "the evidence requirement's key"},
                        "effective_date": {"type": "string", "format": "date", "description": "the day the item speaks to; not in the future"},
                        "period": {"type": "string", "description": "FROM..TO, the period the item covers; ends today or earlier"}
                    },
                    "required": ["file", "control"]
                }}}})
            } else {
                json!({"required": true, "content": {"application/json": {"schema": reference(body)}}})
            };
        }
        let entry = paths.entry(d.path.clone()).or_insert_with(|| json!({}));
        entry[d.method.as_str().to_lowercase()] = op;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Evident API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The JSON API of an Evident workspace. Authenticate with `Authorization: Bearer <token>` (create tokens with `evident tokens create` or in Settings). A route your role may not use answers 404, exactly as one that does not exist. Listings take q, sort, dir, page and per plus the filters each names."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": schemas()
        },
        "paths": paths,
    })
}
