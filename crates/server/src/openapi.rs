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
/// Text that must not be blank.
fn text() -> Value {
    json!({"type": "string", "pattern": "\\S"})
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
            // Two Rust types of one name would silently describe one with the other's shape.
            if let Some(old) = into.get(&k) {
                assert_eq!(old, &v, "two different types are named {k} in the OpenAPI document");
            }
            into.insert(k, v);
        }
    }
    into.insert(name.to_string(), schema);
}

fn schemas() -> Map<String, Value> {
    let mut m = Map::new();
    generated::<evident_core::evidence::EvidenceView>("Evidence", &mut m);
    generated::<evident_core::assessment::TopicGap>("TopicGap", &mut m);
    generated::<evident_core::policy::PolicyView>("Policy", &mut m);
    generated::<evident_core::control::ControlView>("Control", &mut m);
    generated::<evident_core::policy::PolicyDetailView>("PolicyDetail", &mut m);
    generated::<evident_core::window::Window>("Window", &mut m);
    generated::<evident_core::window::Response>("WindowResponse", &mut m);
    generated::<evident_core::fieldwork::EngagementView>("Engagement", &mut m);
    generated::<evident_core::fieldwork::RequestView>("Request", &mut m);
    generated::<evident_core::fieldwork::PopulationRunView>("PopulationRun", &mut m);
    generated::<evident_core::fieldwork::SampleView>("Sample", &mut m);
    generated::<evident_core::fieldwork::SamplePacket>("SamplePacket", &mut m);
    generated::<evident_core::fieldwork::SizeTable>("SizeTable", &mut m);
    generated::<evident_core::access_review::CampaignView>("Campaign", &mut m);
    generated::<evident_core::access_review::ItemView>("ReviewItem", &mut m);
    generated::<evident_core::access_review::Inbox>("ReviewInbox", &mut m);
    generated::<evident_core::access_review::jml::Finding>("JmlFinding", &mut m);
    generated::<evident_core::access_review::ScheduleLine>("ReviewSchedule", &mut m);
    generated::<evident_core::access_review::jml::Moment>("TimelineEntry", &mut m);
    generated::<evident_store::DescriptionState>("DescriptionState", &mut m);
    generated::<evident_core::description::Narrative>("Narrative", &mut m);
    generated::<evident_store::Approval>("DescriptionApproval", &mut m);
    generated::<evident_store::SignedAssertion>("Assertion", &mut m);
    generated::<evident_store::JobView>("Job", &mut m);
    generated::<evident_store::ConnectorHealth>("ConnectorHealth", &mut m);
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put(
        "OscalDocument",
        json!({"type": "object", "description": "An OSCAL 1.2.3 JSON document: one member named for its model", "additionalProperties": true}),
    );
    put(
        "Error",
        obj(&[("error", s()), ("field", s()), ("reference", s())], &["error"]),
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
                ("name", json!({"type": "string", "pattern": "\\S", "maxLength": 100})),
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
                (
                    "gaps",
                    json!({"type": "array", "items": obj(
                        &[
                            ("severity", s()),
                            ("control", s_null()),
                            ("criterion", s_null()),
                            ("reason", s()),
                            ("owner", s_null()),
                            ("fix", s()),
                            ("action", reference("Fix")),
                        ],
                        &["severity", "reason", "fix", "action"],
                    )}),
                ),
                ("topic_gaps", json!({"type": "array", "items": reference("TopicGap")})),
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
                ("staff", json!({"type": "boolean"})),
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
    put("PolicyEdit", {
        let mut o = obj(&[("title", s()), ("source", s())], &[]);
        o["minProperties"] = json!(1);
        o
    });
    put(
        "ExclusionRequest",
        obj(
            &[
                ("record", text()),
                ("reason", text()),
                ("owner", json!({"type": "string", "format": "email"})),
                ("expires", json!({"type": "string", "format": "date"})),
            ],
            &["record", "reason", "owner", "expires"],
        ),
    );
    put(
        "CampaignRequest",
        obj(
            &[
                ("name", text()),
                ("systems", strings()),
                ("coverage", json!({"type": "string", "enum": ["all", "privileged"]})),
                (
                    "reviewers",
                    json!({"type": "string", "enum": ["manager", "system_owner", "named"]}),
                ),
                ("reviewer", s_null()),
                ("due", json!({"type": "string", "format": "date"})),
            ],
            &["name", "due"],
        ),
    );
    put(
        "JobsOverview",
        obj(
            &[
                ("jobs", json!({"type": "array", "items": reference("Job")})),
                (
                    "connectors",
                    json!({"type": "array", "items": reference("ConnectorHealth")}),
                ),
            ],
            &["jobs", "connectors"],
        ),
    );
    put(
        "JobSchedule",
        obj(
            &[
                (
                    "every",
                    json!({"type": "string", "pattern": "^[0-9]+ *[a-z]*$", "description": "30m, 6h, 1d … (one minute to 366 days)"}),
                ),
                (
                    "next",
                    json!({"type": ["string", "null"], "description": "now, or an RFC 3339 instant; default: one schedule after the last run"}),
                ),
            ],
            &["every"],
        ),
    );
    put("CloseRequest", obj(&[("anyway", json!({"type": "boolean"}))], &[]));
    put("KeepRequest", obj(&[("items", strings())], &[]));
    put("Kept", obj(&[("kept", int())], &["kept"]));
    put(
        "DecisionRequest",
        obj(
            &[
                (
                    "decision",
                    json!({"type": "string", "enum": ["keep", "revoke", "change"]}),
                ),
                ("reason", s()),
                ("change", s()),
            ],
            &["decision"],
        ),
    );
    put(
        "ReassignRequest",
        obj(
            &[("reviewer", json!({"type": "string", "format": "email"}))],
            &["reviewer"],
        ),
    );
    put("ConfirmRequest", obj(&[("note", text())], &["note"]));
    put(
        "EngagementRequest",
        obj(
            &[("name", text()), ("firm", text()), ("period", s_null())],
            &["name", "firm"],
        ),
    );
    put(
        "NewRequest",
        obj(
            &[
                ("reference", text()),
                ("request", text()),
                ("criteria", strings()),
                ("controls", strings()),
                ("due", s_null()),
                ("assignee", s_null()),
            ],
            &["reference", "request"],
        ),
    );
    put(
        "StepRequest",
        obj(
            &[
                (
                    "step",
                    json!({"type": "string", "enum": ["submit", "accept", "return"]}),
                ),
                ("comment", s()),
            ],
            &["step"],
        ),
    );
    put("EngagementChange", {
        let mut o = obj(
            &[
                (
                    "status",
                    json!({"type": ["string", "null"], "enum": ["planned", "fieldwork", "reporting", "closed", null]}),
                ),
                ("add_auditor", s_null()),
                ("remove_auditor", s_null()),
            ],
            &[],
        );
        o["minProperties"] = json!(1);
        o
    });
    put("CommentRequest", obj(&[("text", text())], &["text"]));
    put("AssigneeChange", obj(&[("assignee", s_null())], &["assignee"]));
    put(
        "ImportResult",
        obj(
            &[
                ("added", json!({"type": "integer"})),
                ("updated", json!({"type": "integer"})),
            ],
            &["added", "updated"],
        ),
    );
    put("LinkRequest", obj(&[("evidence", text())], &["evidence"]));
    put(
        "PopulationRequest",
        obj(
            &[(
                "kind",
                json!({"type": "string", "enum": evident_catalog::PopulationKind::allowed()}),
            )],
            &["kind"],
        ),
    );
    put(
        "SampleRequest",
        obj(
            &[
                ("control", text()),
                ("population", text()),
                ("seed", text()),
                ("size", json!({"type": ["integer", "null"], "minimum": 0})),
            ],
            &["control", "population", "seed"],
        ),
    );
    put(
        "ExtendRequest",
        obj(&[("more", json!({"type": "integer", "minimum": 0}))], &["more"]),
    );
    put(
        "ResultRequest",
        obj(
            &[
                ("item", text()),
                (
                    "result",
                    json!({"type": "string", "enum": ["no_exception", "exception"]}),
                ),
                ("note", s()),
            ],
            &["item", "result"],
        ),
    );
    put(
        "ResponseRequest",
        obj(&[("text", text()), ("period", s_null())], &["text"]),
    );
    put(
        "ExceptionResponse",
        obj(
            &[("exception", s()), ("response", reference("WindowResponse"))],
            &["exception", "response"],
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
    let mut roles_or_null: Vec<Value> = evident_core::access::Role::ALL
        .iter()
        .map(|r| json!(r.name()))
        .collect();
    roles_or_null.push(Value::Null);
    put(
        "UserChange",
        obj(
            &[
                ("role", json!({"type": ["string", "null"], "enum": roles_or_null})),
                ("disabled", json!({"type": ["boolean", "null"]})),
            ],
            &[],
        ),
    );
    put("OwnerChange", obj(&[("owner", s_null())], &[]));
    put("NarrativeRequest", obj(&[("text", s())], &["text"]));
    put(
        "AssertionRequest",
        obj(&[("name", text()), ("title", text())], &["name", "title"]),
    );
    put("Withdrawal", obj(&[("reason", text())], &["reason"]));
    put(
        "RelinkRequest",
        obj(
            &[
                (
                    "controls",
                    json!({"type": "array", "minItems": 1, "items": obj(
                        &[("control", text()), ("requirement", s_null())],
                        &["control"],
                    )}),
                ),
                ("reason", text()),
            ],
            &["controls", "reason"],
        ),
    );
    put(
        "ScopeRequest",
        obj(
            &[
                ("type", json!({"type": "integer", "enum": [1, 2]})),
                (
                    "categories",
                    json!({"type": "array", "items": {"type": "string", "enum": evident_catalog::Category::allowed()}}),
                ),
                ("as_of", json!({"type": ["string", "null"], "format": "date"})),
                (
                    "window",
                    json!({"type": ["object", "null"], "properties": {"from": {"type": "string", "format": "date"}, "to": {"type": "string", "format": "date"}}, "required": ["from", "to"]}),
                ),
            ],
            &["type", "categories"],
        ),
    );
    put(
        "PlanSummary",
        obj(
            &[
                ("created", json!({"type": "integer", "minimum": 0})),
                ("updated", json!({"type": "integer", "minimum": 0})),
                ("unchanged", json!({"type": "integer", "minimum": 0})),
            ],
            &["created", "updated", "unchanged"],
        ),
    );
    let roles: Vec<&str> = evident_core::access::Role::ALL.iter().map(|r| r.name()).collect();
    put(
        "UserRequest",
        obj(
            &[
                ("email", json!({"type": "string", "format": "email"})),
                ("role", json!({"type": "string", "enum": roles})),
            ],
            &["email", "role"],
        ),
    );
    put(
        "TokenRequest",
        obj(
            &[
                ("name", json!({"type": "string", "pattern": "\\S", "maxLength": 100})),
                ("scope", json!({"type": "string", "enum": ["read", "write"]})),
            ],
            &["name", "scope"],
        ),
    );
    put(
        "AcceptanceRequest",
        obj(&[("policy", s()), ("version", int())], &["policy", "version"]),
    );
    for (spec, path, title) in crate::registers::REGISTERS {
        m.insert(record_request_name(path), record_request(spec, title));
    }
    m
}

/// The schema name of a register's write body: `people` → `PeopleRequest`.
pub fn record_request_name(path: &str) -> String {
    let mut name: String = path
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect();
    name.push_str("Request");
    name
}

/// A register's write body, from the same field specs its CSV import and its validation use.
fn record_request(spec: &evident_core::register::RegisterSpec, title: &str) -> Value {
    use evident_core::register::FieldKind;
    let mut props = Map::new();
    for f in spec.fields {
        let list = json!({"oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "string"}], "description": "a list, or ;-separated text"});
        let mut schema = match f.kind {
            FieldKind::Text | FieldKind::Control => json!({"type": "string"}),
            FieldKind::Email | FieldKind::Person => json!({"type": "string", "format": "email"}),
            FieldKind::Date { .. } => json!({"type": "string", "format": "date"}),
            FieldKind::Int { min, max } => json!({"type": "integer", "minimum": min, "maximum": max}),
            FieldKind::Enum(values) => json!({"type": "string", "enum": values}),
            FieldKind::Bool => json!({"type": "boolean"}),
            FieldKind::List | FieldKind::Controls | FieldKind::Evidence => list,
        };
        if f.required && schema["type"] == "string" {
            // Blank is "not given": a required field needs a character that is not a space.
            schema["pattern"] = json!("\\S");
        }
        if !f.help.is_empty() {
            schema["description"] = json!(f.help);
        }
        if !f.required {
            // An optional field may be sent empty (null or "") to clear it.
            schema = json!({"anyOf": [schema, {"type": "null"}, {"const": ""}]});
        }
        props.insert(f.name.to_string(), schema);
    }
    let required: Vec<&str> = spec.fields.iter().filter(|f| f.required).map(|f| f.name).collect();
    json!({
        "type": "object",
        "description": format!("One {} ({title} register): the fields of its CSV import. The rules across fields and the references to other records are checked on write (422 naming the field).", spec.noun),
        "properties": props,
        "required": required,
        "additionalProperties": false,
    })
}

/// An evidence upload: a new item names its control; a new version takes the old one's.
fn upload_body(new_item: bool) -> Value {
    // Blank means "not given": an undated item attests to the day it is received.
    let date_or_blank =
        json!({"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "pattern": "^\\s*$"}]});
    let mut props = json!({
        "file": {"type": "string", "format": "binary"},
        "title": {"type": "string"},
        "effective_date": date_or_blank,
        "period": {"type": "string", "description": "FROM..TO, the period the item covers; ends today or earlier"}
    });
    let mut required = vec!["file"];
    if new_item {
        props["control"] = json!({"type": "string", "description": "the control's code"});
        props["requirement"] = json!({"type": "string", "description": "the evidence requirement's key"});
        required.push("control");
    }
    json!({"required": true, "content": {"multipart/form-data": {"schema": {
        "type": "object", "properties": props, "required": required
    }}}})
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn returns(schema: &str) -> Value {
    if schema == "zip" {
        return json!({"application/zip": {"schema": {"type": "string", "format": "binary"}}});
    }
    if schema == "xlsx" {
        return json!({"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": {"type": "string", "format": "binary"}}});
    }
    if schema == "csv" {
        return json!({"text/csv": {"schema": {"type": "string"}}});
    }
    if schema == "binary" {
        // The file as it was uploaded, in its own media type.
        return json!({"*/*": {"schema": {"type": "string", "format": "binary"}}});
    }
    if let Some(inner) = schema.strip_prefix("List<").and_then(|s| s.strip_suffix('>')) {
        return json!({"application/json": {"schema": {"type": "array", "items": reference(inner)}}});
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
        for (name, desc) in d.query {
            params.push(json!({"name": name, "in": "query", "required": false, "description": desc, "schema": {"type": "string"}}));
        }
        if d.listing {
            let max_page = crate::web::table::MAX_PAGE;
            let max_per = crate::web::table::MAX_PER;
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
        if d.body.is_some() {
            statuses.extend([400, 413, 415, 422]);
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
                502 => {
                    "An outside service the request needs failed (e.g. the configured time-stamping authority): the message names it"
                }
                _ => "Bad input: `field` names what to fix",
            };
            responses.insert(st.to_string(), error_response(desc));
        }
        let mut op = json!({
            "summary": d.summary,
            "operationId": format!("{}_{}", d.method.as_str().to_lowercase(), d.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '-'], "_").trim_end_matches('_')),
            "tags": [crate::web::name_of(d.area)],
            "parameters": params,
            "responses": responses,
        });
        if let Some(body) = d.body {
            op["requestBody"] = match body {
                "multipart" => upload_body(true),
                "multipart-version" => upload_body(false),
                "multipart-list" => json!({"required": true, "content": {"multipart/form-data": {"schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary", "description": "the firm's request list, CSV or XLSX"}},
                    "required": ["file"]
                }}}}),
                _ => json!({"required": true, "content": {"application/json": {"schema": reference(body)}}}),
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
