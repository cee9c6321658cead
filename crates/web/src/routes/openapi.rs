//! The request and response schemas of every `/api/v1` operation, and the status code its
//! handler answers on success. The OpenAPI document (`routes::openapi_document`) is built from
//! the route table and this one; a test checks that every API route has an entry here, and the
//! lifecycle tests call the operations and assert the documented codes.

use axum::http::Method;
use serde_json::{Value, json};

use crate::routes::{Access, table};

/// One operation's documented success.
pub struct Op {
    pub status: u16,
    pub request: Option<Value>,
    pub response: Option<Value>,
}

fn int() -> Value {
    json!({"type": "integer"})
}
fn text() -> Value {
    json!({"type": "string"})
}
fn boolean() -> Value {
    json!({"type": "boolean"})
}
fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}
fn list(items: Value) -> Value {
    json!({"type": "array", "items": items})
}
fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// An object with the given properties; those marked `true` are required.
fn obj(props: &[(&str, Value, bool)]) -> Value {
    let mut p = serde_json::Map::new();
    let mut req = Vec::new();
    for (name, schema, required) in props {
        p.insert((*name).to_string(), schema.clone());
        if *required {
            req.push(json!(name));
        }
    }
    json!({"type": "object", "properties": p, "required": req, "additionalProperties": false})
}

/// An object answered by the server (no `additionalProperties` restriction: new fields may be
/// added).
fn out(props: &[(&str, Value)]) -> Value {
    let mut p = serde_json::Map::new();
    for (name, schema) in props {
        p.insert((*name).to_string(), schema.clone());
    }
    let req: Vec<&str> = props.iter().map(|(n, _)| *n).collect();
    json!({"type": "object", "properties": p, "required": req})
}

fn op(status: u16, request: Option<Value>, response: Option<Value>) -> Op {
    Op {
        status,
        request,
        response,
    }
}

/// The shared schemas of the document's `components`.
pub fn components() -> Value {
    let text_pair = out(&[("zh", text()), ("en", text())]);
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
            "code": {"type": "string"}, "field": {"type": ["string", "null"]}, "message": {"type": "string"},
            "message_zh": {"type": "string"}, "message_en": {"type": "string"}}}}},
        "Case": out(&[
            ("id", int()), ("number", text()), ("organization_id", int()), ("category", text()),
            ("level", int()), ("kind", json!({"enum": ["initial", "maintenance"]})),
            ("stage", text()), ("stage_name", json!({"anyOf": [text_pair, {"type": "null"}]})),
            ("paper_copy_received", boolean()), ("filed_on", nullable("string")),
            ("supplement_due", nullable("string")), ("closed_on", nullable("string")),
            ("created_us", int()), ("agreement_no", nullable("string")), ("fee_cny", nullable("integer")),
        ]),
        "Organization": out(&[
            ("id", int()), ("uscc", text()), ("name", text()), ("created_us", int()),
            ("address", text()), ("legal_representative", text()), ("contact_person", text()),
            ("contact_phone", text()), ("contact_email", text()),
            ("registration", json!({"enum": ["pending", "approved", "rejected"]})),
            ("registration_note", text()),
        ]),
        "User": out(&[
            ("id", int()), ("username", text()), ("display_name", text()), ("email", text()),
            ("role", text()), ("organization_id", nullable("integer")), ("disabled", boolean()),
            ("totp_enabled", boolean()), ("must_change_password", boolean()),
        ]),
        "Certificate": out(&[
            ("number", text()), ("holder", text()), ("uscc", text()), ("category", text()),
            ("level", int()), ("issued_on", text()), ("valid_until", text()), ("status", text()),
            ("verify", text()),
        ]),
        "Evidence": out(&[
            ("id", int()), ("organization_id", int()), ("name", text()), ("media_type", text()),
            ("size", int()), ("sha256", text()), ("sm3", text()), ("uploaded_by", int()),
            ("uploaded_us", int()), ("download", text()),
        ]),
        "Appeal": out(&[
            ("id", int()), ("organization_id", int()),
            ("subject", json!({"enum": ["not_accepted", "failed_review", "sanction"]})),
            ("case_id", nullable("integer")), ("sanction_id", nullable("integer")),
            ("grounds", text()), ("evidence_ids", list(int())), ("filed_by", int()),
            ("filed_on", text()), ("state", text()), ("state_name", text_pair.clone()),
            ("investigator_id", nullable("integer")), ("findings", text()),
            ("reopened_at", nullable("string")), ("concluded_on", nullable("string")),
        ]),
        "CaseArchive": out(&[
            ("case_id", int()), ("archived_on", nullable("string")),
            ("retain_until", nullable("string")), ("disposed_on", nullable("string")),
            ("on_hold", boolean()), ("held_because", list(json!({"type": "object"}))),
            ("holds", list(json!({"type": "object"}))),
        ]),
        "Disposal": out(&[
            ("id", int()), ("state", json!({"enum": ["proposed", "declined", "carried_out"]})),
            ("case_ids", list(int())), ("proposed_by", int()), ("proposed_on", text()),
            ("decided_by", nullable("integer")), ("decided_on", nullable("string")),
            ("note", text()), ("destroyed", list(json!({"type": "object"}))),
        ]),
        "Complaint": out(&[
            ("id", int()), ("certificate_number", text()), ("holder", text()),
            ("organization_id", int()), ("complainant", text()), ("email", text()),
            ("phone", text()), ("content", text()), ("received_on", text()),
            ("state", json!({"enum": ["open", "closed"]})), ("finding", text()),
            ("founded", nullable("boolean")), ("closed_on", nullable("string")),
        ]),
        "ComplaintRecord": out(&[
            ("id", int()), ("organization_id", int()), ("received_on", text()),
            ("source", text()), ("content", text()), ("handling", text()),
            ("prevention", text()), ("closed_on", nullable("string")),
        ]),
        "ComplaintRegister": out(&[
            ("organization_id", int()),
            ("records", list(r("ComplaintRecord"))),
            ("inspections", list(out(&[("id", int()), ("inspected_on", text()),
                ("inspector", text()), ("reason", text())]))),
        ]),
        "Sanction": out(&[
            ("id", int()), ("certificate_number", text()), ("holder", text()),
            ("organization_id", int()),
            ("measure", json!({"enum": ["warning", "rectification", "suspension", "revocation"]})),
            ("measure_name", text_pair.clone()), ("state", text()), ("state_name", text_pair.clone()),
            ("violation", text()), ("evidence", text()), ("reasoning", text()),
            ("proposed_by", int()), ("proposed_on", text()), ("decided_by", nullable("integer")),
            ("decided_on", nullable("string")), ("decision_note", text()),
            ("rectification_days", nullable("integer")), ("rectify_by", nullable("string")),
            ("overdue", boolean()), ("closed_on", nullable("string")),
            ("rectifications", list(json!({"type": "object"}))),
        ]),
        "Vote": out(&[("expert_id", int()), ("vote", json!({"enum": ["pass", "fail", "return"]})),
            ("opinion", text()), ("round", int()), ("at_us", int())]),
    })
}

/// The operation at `method path`, or `None` for a route this table does not know (a test
/// keeps every API route here).
pub fn operation(method: &Method, path: &str) -> Option<Op> {
    let m = method.as_str();
    let case_list = out(&[
        ("cases", list(r("Case"))),
        ("page", int()),
        ("per_page", int()),
        ("total", int()),
        ("next_after", nullable("integer")),
    ]);
    Some(match (m, path) {
        ("GET", "/api/v1/openapi.json") => op(200, None, Some(json!({"type": "object"}))),
        ("POST", "/api/v1/session") => op(
            201,
            Some(obj(&[
                ("username", text(), true),
                ("password", text(), true),
                ("totp", nullable("string"), false),
            ])),
            Some(out(&[
                ("token", text()),
                ("csrf_token", text()),
                (
                    "user",
                    out(&[("id", int()), ("username", text()), ("role", text())]),
                ),
            ])),
        ),
        ("DELETE", "/api/v1/session") => op(204, None, None),
        ("GET", "/api/v1/me") => op(
            200,
            None,
            Some(out(&[
                ("id", int()),
                ("username", text()),
                ("display_name", text()),
                ("role", text()),
                ("organization_id", nullable("integer")),
                ("must_change_password", boolean()),
                ("totp_enabled", boolean()),
            ])),
        ),
        ("PUT", "/api/v1/me/password") => op(
            204,
            Some(obj(&[
                ("current_password", text(), true),
                ("new_password", text(), true),
            ])),
            None,
        ),
        ("POST", "/api/v1/tokens") => op(
            201,
            Some(obj(&[("label", text(), true), ("days", int(), false)])),
            Some(out(&[("token", text()), ("days", int())])),
        ),
        ("GET", "/api/v1/tokens") => op(
            200,
            None,
            Some(out(&[(
                "items",
                list(out(&[
                    ("id", int()),
                    ("label", text()),
                    ("created_us", int()),
                    ("expires_us", int()),
                    ("last_used_us", nullable("integer")),
                ])),
            )])),
        ),
        ("DELETE", "/api/v1/tokens/{id}") => op(204, None, None),
        ("GET", "/api/v1/cases/{id}/letters") => op(
            200,
            None,
            Some(out(&[(
                "items",
                list(out(&[
                    ("id", int()),
                    ("kind", text()),
                    ("title", text()),
                    ("signed_by", text()),
                    ("created_us", int()),
                    ("pdf_sha256", text()),
                    ("pdf_sm3", text()),
                    ("download", text()),
                ])),
            )])),
        ),
        ("GET", "/api/v1/announcements") => op(
            200,
            None,
            Some(out(&[("items", list(json!({"type": "object"})))])),
        ),
        ("POST", "/api/v1/announcements/{id}/approve") => {
            op(200, None, Some(json!({"type": "object"})))
        }
        ("GET", "/api/v1/appeals") => op(200, None, Some(out(&[("items", list(r("Appeal")))]))),
        ("POST", "/api/v1/appeals") => op(
            201,
            Some(obj(&[
                (
                    "subject",
                    json!({"enum": ["not_accepted", "failed_review", "sanction"]}),
                    true,
                ),
                ("case_id", nullable("integer"), false),
                ("sanction_id", nullable("integer"), false),
                ("grounds", text(), true),
                ("evidence_ids", list(int()), false),
            ])),
            Some(r("Appeal")),
        ),
        ("GET", "/api/v1/appeals/{id}") => op(200, None, Some(r("Appeal"))),
        ("POST", "/api/v1/appeals/{id}/investigator") => op(
            200,
            Some(obj(&[("investigator_id", int(), true)])),
            Some(r("Appeal")),
        ),
        ("POST", "/api/v1/appeals/{id}/conclusion") => op(
            200,
            Some(obj(&[
                ("outcome", json!({"enum": ["upheld", "overturned"]}), true),
                ("findings", text(), true),
                ("reopen_at", nullable("string"), false),
            ])),
            Some(r("Appeal")),
        ),
        ("GET", "/api/v1/cases/{id}/archive") => op(200, None, Some(r("CaseArchive"))),
        ("POST", "/api/v1/cases/{id}/holds") => op(
            201,
            Some(obj(&[("reason", text(), true)])),
            Some(r("CaseArchive")),
        ),
        ("POST", "/api/v1/holds/{id}/release") => op(
            200,
            Some(obj(&[("note", text(), true)])),
            Some(r("CaseArchive")),
        ),
        ("GET", "/api/v1/archive/due") => op(
            200,
            None,
            Some(out(&[(
                "items",
                list(out(&[
                    ("case_id", int()),
                    ("number", text()),
                    ("holder", text()),
                    ("archived_on", text()),
                    ("retain_until", text()),
                    ("on_hold", boolean()),
                    ("held_because", list(json!({"type": "object"}))),
                ])),
            )])),
        ),
        ("GET", "/api/v1/disposals") => op(200, None, Some(out(&[("items", list(r("Disposal")))]))),
        ("POST", "/api/v1/disposals") => op(
            201,
            Some(obj(&[("case_ids", list(int()), true)])),
            Some(r("Disposal")),
        ),
        ("POST", "/api/v1/disposals/{id}/decision") => op(
            200,
            Some(obj(&[
                ("approve", boolean(), true),
                ("note", text(), false),
            ])),
            Some(r("Disposal")),
        ),
        ("GET", "/api/v1/complaints") => {
            op(200, None, Some(out(&[("items", list(r("Complaint")))])))
        }
        ("GET", "/api/v1/complaints/{id}") => op(200, None, Some(r("Complaint"))),
        ("POST", "/api/v1/complaints/{id}/closing") => op(
            200,
            Some(obj(&[
                ("founded", boolean(), true),
                ("finding", text(), true),
            ])),
            Some(r("Complaint")),
        ),
        ("GET", "/api/v1/organizations/{id}/complaints") => {
            op(200, None, Some(r("ComplaintRegister")))
        }
        ("POST", "/api/v1/organizations/{id}/complaints") => op(
            201,
            Some(obj(&[
                ("received_on", text(), true),
                ("source", text(), true),
                ("content", text(), true),
            ])),
            Some(r("ComplaintRecord")),
        ),
        ("POST", "/api/v1/organizations/{id}/complaints/{record}") => op(
            200,
            Some(obj(&[
                ("handling", text(), true),
                ("prevention", text(), true),
                ("close", boolean(), false),
            ])),
            Some(r("ComplaintRecord")),
        ),
        ("POST", "/api/v1/organizations/{id}/complaints/inspection") => op(
            201,
            Some(obj(&[("reason", text(), true)])),
            Some(r("ComplaintRegister")),
        ),
        ("GET", "/api/v1/sanctions") => op(200, None, Some(out(&[("items", list(r("Sanction")))]))),
        ("POST", "/api/v1/sanctions") => op(
            201,
            Some(obj(&[
                ("certificate_number", text(), true),
                (
                    "measure",
                    json!({"enum": ["warning", "rectification", "suspension", "revocation"]}),
                    true,
                ),
                ("violation", text(), true),
                ("evidence", text(), true),
                ("reasoning", text(), true),
                ("rectification_days", nullable("integer"), false),
            ])),
            Some(r("Sanction")),
        ),
        ("GET", "/api/v1/sanctions/{id}") => op(200, None, Some(r("Sanction"))),
        ("POST", "/api/v1/sanctions/{id}/decision") => op(
            200,
            Some(obj(&[
                ("confirm", boolean(), true),
                ("note", text(), false),
            ])),
            Some(r("Sanction")),
        ),
        ("POST", "/api/v1/sanctions/{id}/rectifications") => op(
            201,
            Some(obj(&[
                ("account", text(), true),
                ("evidence_ids", list(int()), false),
            ])),
            Some(r("Sanction")),
        ),
        ("POST", "/api/v1/sanctions/{id}/verdict") => op(
            200,
            Some(obj(&[("accept", boolean(), true), ("note", text(), false)])),
            Some(r("Sanction")),
        ),
        ("GET", "/api/v1/registry") => op(
            200,
            None,
            Some(out(&[
                ("items", list(r("Certificate"))),
                ("page", int()),
                ("per_page", int()),
                ("has_next", boolean()),
            ])),
        ),
        ("POST", "/api/v1/me/recovery-codes") => {
            op(201, None, Some(out(&[("codes", list(text()))])))
        }
        ("GET", "/api/v1/users") => op(200, None, Some(out(&[("users", list(r("User")))]))),
        ("POST", "/api/v1/users") => op(
            201,
            Some(obj(&[
                ("username", text(), true),
                ("display_name", text(), true),
                ("email", text(), true),
                ("role", text(), true),
                ("organization_id", nullable("integer"), false),
                ("password", nullable("string"), false),
            ])),
            Some(out(&[
                ("user", r("User")),
                ("initial_password", nullable("string")),
            ])),
        ),
        ("POST", "/api/v1/users/{id}/reset-password") => op(
            200,
            None,
            Some(out(&[
                ("password", text()),
                ("must_change_password", boolean()),
            ])),
        ),
        ("GET", "/api/v1/organizations") => op(
            200,
            None,
            Some(out(&[("organizations", list(r("Organization")))])),
        ),
        ("POST", "/api/v1/organizations") => op(
            201,
            Some(obj(&[("uscc", text(), true), ("name", text(), true)])),
            Some(r("Organization")),
        ),
        ("GET", "/api/v1/organizations/{id}") => op(200, None, Some(r("Organization"))),
        ("PUT", "/api/v1/organizations/{id}/contact") => op(
            200,
            Some(obj(&[
                ("address", text(), true),
                ("legal_representative", text(), true),
                ("contact_person", text(), true),
                ("contact_phone", text(), true),
                ("contact_email", text(), true),
            ])),
            Some(r("Organization")),
        ),
        ("POST", "/api/v1/organizations/{id}/registration") => op(
            200,
            Some(obj(&[
                ("decision", json!({"enum": ["approve", "reject"]}), true),
                ("note", text(), false),
            ])),
            Some(r("Organization")),
        ),
        ("GET", "/api/v1/organizations/{id}/evidence") => {
            op(200, None, Some(out(&[("evidence", list(r("Evidence")))])))
        }
        ("POST", "/api/v1/organizations/{id}/evidence") => op(201, None, Some(r("Evidence"))),
        ("GET", "/api/v1/evidence/{id}") => op(200, None, None),
        ("POST", "/api/v1/conflicts") => op(
            201,
            Some(obj(&[
                ("user_id", nullable("integer"), false),
                ("organization_id", int(), true),
                ("reason", text(), true),
            ])),
            None,
        ),
        ("GET", "/api/v1/conflicts") => op(
            200,
            None,
            Some(out(&[(
                "conflicts",
                list(out(&[
                    ("organization_id", int()),
                    ("reason", text()),
                    ("declared_by", int()),
                    ("declared_us", int()),
                ])),
            )])),
        ),
        ("GET", "/api/v1/cases") => op(200, None, Some(case_list)),
        ("POST", "/api/v1/cases") => op(
            201,
            Some(obj(&[
                ("level", int(), true),
                ("kind", json!({"enum": ["initial", "maintenance"]}), true),
            ])),
            Some(r("Case")),
        ),
        ("GET", "/api/v1/cases/{id}") => op(200, None, Some(r("Case"))),
        ("PUT", "/api/v1/cases/{id}/profile") => op(
            204,
            Some(
                json!({"type": "object", "description": "The application facts (examples/profile.json); as_of, the organisation's name and USCC and registered certificates are set by the server"}),
            ),
            None,
        ),
        ("POST", "/api/v1/cases/{id}/paper-copy") => op(204, None, None),
        ("POST", "/api/v1/cases/{id}/transitions") => op(
            200,
            Some(obj(&[
                ("transition", text(), true),
                ("note", text(), false),
                ("lead_id", nullable("integer"), false),
            ])),
            Some(r("Case")),
        ),
        ("PUT", "/api/v1/cases/{id}/lead") => op(
            200,
            Some(obj(&[("lead_id", int(), true), ("reason", text(), true)])),
            Some(r("Case")),
        ),
        ("POST", "/api/v1/cases/{id}/team") => op(
            200,
            Some(obj(&[
                ("assessors", list(int()), true),
                ("experts", list(int()), true),
                ("chair", nullable("integer"), false),
            ])),
            Some(out(&[(
                "members",
                list(out(&[
                    ("user_id", int()),
                    ("duty", json!({"enum": ["assessor", "expert"]})),
                    ("chair", boolean()),
                ])),
            )])),
        ),
        ("GET", "/api/v1/cases/{id}/panel") => op(
            200,
            None,
            Some(out(&[
                ("seats", int()),
                ("cast", int()),
                ("complete", boolean()),
                ("votes", list(r("Vote"))),
                ("mine", json!({"anyOf": [r("Vote"), {"type": "null"}]})),
                (
                    "tally",
                    json!({"anyOf": [out(&[("pass", int()), ("fail", int()), ("return", int()), ("seats", int())]), {"type": "null"}]}),
                ),
                (
                    "conclusion",
                    json!({"enum": ["pass", "fail", "return", null]}),
                ),
            ])),
        ),
        ("POST", "/api/v1/cases/{id}/judgements") => op(
            204,
            Some(obj(&[
                ("requirement_id", text(), true),
                (
                    "verdict",
                    json!({"enum": ["conform", "partial", "nonconform", "not_applicable"]}),
                    true,
                ),
                ("rationale", text(), true),
                ("evidence_ids", list(int()), false),
            ])),
            None,
        ),
        ("GET", "/api/v1/cases/{id}/judgements") => op(
            200,
            None,
            Some(out(&[(
                "judgements",
                list(out(&[
                    ("requirement_id", text()),
                    ("verdict", text()),
                    ("rationale", text()),
                    ("evidence_ids", list(int())),
                    ("assessor_id", int()),
                    ("at_us", int()),
                ])),
            )])),
        ),
        ("POST", "/api/v1/cases/{id}/votes") => op(
            204,
            Some(obj(&[
                ("vote", json!({"enum": ["pass", "fail", "return"]}), true),
                ("opinion", text(), true),
            ])),
            None,
        ),
        ("GET", "/api/v1/dashboard") => op(
            200,
            None,
            Some(out(&[
                ("cases", list(json!({"type": "object"}))),
                ("total", int()),
            ])),
        ),
        ("GET", "/api/v1/cases/{id}/evidence") => op(
            200,
            None,
            Some(out(&[(
                "evidence",
                list(out(&[
                    ("requirement_id", text()),
                    ("evidence_id", int()),
                    ("name", text()),
                    ("size", int()),
                    ("sha256", text()),
                    ("linked_us", int()),
                    ("download", text()),
                ])),
            )])),
        ),
        ("POST", "/api/v1/cases/{id}/evidence") => op(
            201,
            Some(obj(&[
                ("requirement_id", text(), true),
                ("evidence_id", int(), true),
            ])),
            None,
        ),
        ("POST", "/api/v1/cases/{id}/evidence/withdraw") => op(
            204,
            Some(obj(&[
                ("requirement_id", text(), true),
                ("evidence_id", int(), true),
            ])),
            None,
        ),
        ("GET", "/api/v1/cases/{id}/completeness") => op(
            200,
            None,
            Some(out(&[
                ("complete", boolean()),
                ("facts", json!({"type": ["object", "null"]})),
                ("without_evidence", list(text())),
            ])),
        ),
        ("POST", "/api/v1/cases/{id}/review-areas") => op(
            201,
            Some(obj(&[
                ("area", text(), true),
                ("sufficient", boolean(), true),
                ("opinion", text(), true),
            ])),
            None,
        ),
        ("POST", "/api/v1/cases/{id}/payments") => op(
            201,
            Some(obj(&[
                ("amount", text(), true),
                ("paid_on", json!({"type": "string", "format": "date"}), true),
                ("voucher_no", text(), true),
                ("note", text(), false),
            ])),
            Some(out(&[
                ("paid_fen", int()),
                ("fee_fen", nullable("integer")),
                ("difference_fen", nullable("integer")),
                ("confirmed", boolean()),
            ])),
        ),
        ("GET", "/api/v1/cases/{id}/payments") => op(
            200,
            None,
            Some(out(&[("payments", list(json!({"type": "object"})))])),
        ),
        ("GET", "/api/v1/cases/{id}/review-areas") => op(
            200,
            None,
            Some(out(&[("areas", list(json!({"type": "object"})))])),
        ),
        ("POST", "/api/v1/cases/{id}/activities") => op(
            201,
            Some(obj(&[
                (
                    "kind",
                    json!({"enum": ["plan", "document_review", "interview", "practical_operation"]}),
                    true,
                ),
                ("held_on", json!({"type": "string", "format": "date"}), true),
                ("notes", text(), true),
                ("evidence_ids", list(int()), false),
            ])),
            Some(out(&[("id", int())])),
        ),
        ("GET", "/api/v1/cases/{id}/activities") => op(
            200,
            None,
            Some(out(&[("activities", list(json!({"type": "object"})))])),
        ),
        ("POST", "/api/v1/batches") => op(
            201,
            Some(obj(&[("case_ids", list(int()), true)])),
            Some(out(&[("id", int()), ("status", text())])),
        ),
        ("POST", "/api/v1/batches/{id}/approve") => op(204, None, None),
        ("POST", "/api/v1/batches/{id}/issue") => op(
            200,
            None,
            Some(out(&[("certificates", list(r("Certificate")))])),
        ),
        ("GET", "/api/v1/certificates/{number}") => {
            let mut c = r("Certificate");
            c = json!({"allOf": [c, {"type": "object", "required": ["in_force"], "properties": {"in_force": boolean()}}]});
            op(200, None, Some(c))
        }
        ("GET", "/api/v1/audit") => op(
            200,
            None,
            Some(out(&[("events", list(json!({"type": "object"})))])),
        ),
        ("POST", "/api/v1/audit/verify") => op(
            200,
            None,
            Some(out(&[
                ("events", int()),
                ("head", text()),
                ("intact", boolean()),
                ("first_break", json!({"type": ["object", "null"]})),
            ])),
        ),
        _ => return None,
    })
}

/// The OpenAPI 3.1 document of `/api/v1`, generated from the route table.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for (spec, _) in table() {
        if !spec.path.starts_with("/api/v1") {
            continue;
        }
        let security = match spec.access {
            Access::Public => json!([]),
            _ => json!([{"bearer": []}, {"session": []}]),
        };
        let params: Vec<Value> = spec
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                let ty = if name == "number" { "string" } else { "integer" };
                json!({"name": name, "in": "path", "required": true, "schema": {"type": ty}})
            })
            .chain(spec.query.iter().map(|(name, ty, what)| {
                json!({"name": name, "in": "query", "required": false, "schema": {"type": ty}, "description": what})
            }))
            .collect();
        let mut responses = serde_json::Map::new();
        let op = operation(&spec.method, spec.path).unwrap_or_else(|| {
            panic!(
                "{} {} has no entry in openapi::operation",
                spec.method, spec.path
            )
        });
        let mut ok = json!({"description": spec.summary.1});
        if let Some(schema) = &op.response {
            ok["content"] = json!({"application/json": {"schema": schema}});
        }
        responses.insert(op.status.to_string(), ok);
        let errors: &[(&str, &str)] = match spec.access {
            Access::Public => &[("422", "Invalid input")],
            Access::Authenticated => &[
                ("401", "Not signed in"),
                ("403", "Not allowed"),
                ("422", "Invalid input"),
            ],
            Access::May(_) => &[
                ("401", "Not signed in"),
                ("403", "Not allowed"),
                ("422", "Invalid input"),
            ],
        };
        let mut errors = errors.to_vec();
        if spec.path.contains('{') {
            errors.push(("404", "Not found"));
        }
        if spec.method != Method::GET && spec.access != Access::Public {
            errors.push((
                "409",
                "Conflict: already exists, or not possible in the case's current stage",
            ));
        }
        for (code, what) in errors {
            responses.insert((*code).into(), json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}));
        }
        let mut doc = json!({
            "summary": spec.summary.1,
            "description": spec.summary.0,
            "operationId": format!("{}_{}", spec.method.as_str().to_lowercase(), spec.path.trim_start_matches("/api/v1/").replace(['/', '{', '}', '.', '-'], "_")),
            "parameters": params,
            "security": security,
            "responses": responses,
        });
        if let Some(body) = op.request {
            doc["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": body}}});
        }
        let entry = paths
            .entry(spec.path.to_string())
            .or_insert_with(|| json!({}));
        entry[spec.method.as_str().to_lowercase()] = doc;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "zizhi API", "version": "v1", "description": "信息安全服务资质认定（灾难恢复类） — JSON API", "license": {"name": "Apache-2.0"}},
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token (POST /api/v1/tokens) or a session token (POST /api/v1/session)"},
                "session": {"type": "apiKey", "in": "cookie", "name": "zizhi_session", "description": "Browser session; unsafe methods need the X-CSRF-Token header"}
            },
            "schemas": components(),
        }
    })
}
