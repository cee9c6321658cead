//! The applicant's portal (5.1–5.2): the facts form, evidence per requirement, completeness.

use crate::AppState;
use crate::cases::back;
use crate::cases::view::{ELEMENTS, Entered};
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::Deserialize;
use serde_json::{Value, json};
use zizhi_app::AppError;
use zizhi_domain::profile::{FieldKind, MANDATORY_FIELDS};

/// Builds the profile JSON from the form's fields; a malformed number or line names its field.
fn profile_from_form(form: &Entered) -> Result<Value, AppError> {
    let mut v = json!({
        "organization": {}, "staff": {}, "track_record": {}, "certificates": [],
    });
    for f in MANDATORY_FIELDS {
        let raw = form.get(f.path).map(|s| s.trim()).unwrap_or("");
        let value = match f.kind {
            FieldKind::YesNo => match raw {
                "yes" => json!(true),
                "no" => json!(false),
                _ => continue,
            },
            _ if raw.is_empty() => continue,
            FieldKind::Count => json!(raw.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    f.path,
                    "应为整数（人数）",
                    "must be a whole number (people)",
                )
            })?),
            _ => json!(raw),
        };
        let (section, key) = f.path.split_once('.').unwrap_or(("", f.path));
        v[section][key] = value;
    }
    let mut projects = Vec::new();
    for (i, line) in form
        .get("projects")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let field = format!("track_record.dr_construction_projects[{i}]");
        let (name, level) = line.rsplit_once('|').ok_or_else(|| {
            AppError::invalid(
                &field,
                "每行应为“项目名称 | GB/T 20988 等级”",
                "each line must be \"project name | GB/T 20988 level\"",
            )
        })?;
        let level = level.trim();
        let mut p = json!({"name": name.trim()});
        if let Ok(l) = level.parse::<i64>() {
            p["gbt20988_level"] = json!(l);
        } else {
            let parts: Vec<i64> = level
                .split([',', '，'])
                .map(|x| x.trim().parse::<i64>())
                .collect::<Result<_, _>>()
                .map_err(|_| {
                    AppError::invalid(
                        &field,
                        "等级应为 1–6 的整数，或七个要素的等级（以逗号分隔）",
                        "the level must be a whole number 1–6, or seven element levels separated by commas",
                    )
                })?;
            if parts.len() != ELEMENTS.len() {
                return Err(AppError::invalid(
                    &field,
                    "要素等级应为七个",
                    "give all seven element levels",
                ));
            }
            p["gbt20988_elements"] = ELEMENTS
                .iter()
                .zip(parts)
                .map(|(k, l)| ((*k).to_string(), json!(l)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        }
        projects.push(p);
    }
    v["track_record"]["dr_construction_projects"] = json!(projects);
    let mut certs = Vec::new();
    for (i, line) in form
        .get("certificates")
        .map(String::as_str)
        .unwrap_or("")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let field = format!("certificates[{i}]");
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let [number, level, valid_until, status] = parts[..] else {
            return Err(AppError::invalid(
                &field,
                "每行应为“证书编号 | 级别 | 有效期至 | 状态（valid、suspended、revoked、expired）”",
                "each line must be \"number | level | valid until | status (valid, suspended, revoked, expired)\"",
            ));
        };
        let level: i64 = level.parse().map_err(|_| {
            AppError::invalid(&field, "级别应为整数", "the level must be a whole number")
        })?;
        certs.push(json!({
            "category": "disaster_recovery", "level": level, "number": number,
            "valid_until": valid_until, "status": status,
        }));
    }
    v["certificates"] = json!(certs);
    Ok(v)
}

/// `POST /cases/{id}/profile`: the applicant saves the form (complete or not).
pub async fn case_profile(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let form: Entered = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    let r = match profile_from_form(&form) {
        Ok(v) => st.app.save_case_draft(&a, id, v).await,
        Err(e) => Err(e),
    };
    let entered = r.is_err().then_some(&form);
    back(&st, &ctx, &a, id, r, "#portal", entered).await
}

#[derive(Deserialize)]
pub struct LinkForm {
    #[serde(default)]
    requirement_id: String,
    /// A string, so that none chosen is named in words (not a parse error).
    #[serde(default)]
    evidence_id: String,
}

impl LinkForm {
    fn evidence(&self) -> Result<i64, AppError> {
        self.evidence_id.trim().parse::<i64>().map_err(|_| {
            AppError::invalid(
                "evidence_id",
                "请选择已上传的文件",
                "choose an uploaded file",
            )
        })
    }
}

/// `POST /cases/{id}/evidence`: files an uploaded document against a requirement.
pub async fn case_link(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Response {
    let r = match f.evidence() {
        Ok(ev) => {
            st.app
                .link_case_evidence(&a, id, &f.requirement_id, ev)
                .await
        }
        Err(e) => Err(e),
    };
    back(&st, &ctx, &a, id, r, "#requirements", None).await
}

/// `POST /cases/{id}/evidence/withdraw`: takes a filed document off a requirement before
/// submission (the file stays in the organisation's documents).
pub async fn case_unlink(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<LinkForm>,
) -> Response {
    let r = match f.evidence() {
        Ok(ev) => {
            st.app
                .unlink_case_evidence(&a, id, &f.requirement_id, ev)
                .await
        }
        Err(e) => Err(e),
    };
    let anchor = format!(
        "#req-{}",
        form_urlencoded::byte_serialize(f.requirement_id.as_bytes()).collect::<String>()
    );
    back(&st, &ctx, &a, id, r, &anchor, None).await
}

/// `POST /api/v1/cases/{id}/evidence/withdraw`
pub async fn api_case_unlink_evidence(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LinkBody>,
) -> Answer {
    st.app
        .unlink_case_evidence(&a, id, &b.requirement_id, b.evidence_id)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn api_case_profile(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<Value>,
) -> Answer {
    st.app.save_case_profile(&a, id, b).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    requirement_id: String,
    evidence_id: i64,
}

/// `POST /api/v1/cases/{id}/evidence`: files an uploaded document against a requirement.
pub async fn api_case_link_evidence(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LinkBody>,
) -> Answer {
    st.app
        .link_case_evidence(&a, id, &b.requirement_id, b.evidence_id)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn api_case_evidence(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let list = st.app.case_evidence(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"evidence": list.iter().map(|e| json!({
        "requirement_id": e.requirement_id, "evidence_id": e.evidence_id, "name": e.original_name,
        "size": e.size, "sha256": e.sha256, "linked_us": e.linked_us,
        "download": format!("/api/v1/evidence/{}", e.evidence_id),
    })).collect::<Vec<_>>()}))
    .into_response())
}

/// `GET /api/v1/cases/{id}/completeness`: the mandatory facts and evidence still missing.
pub async fn api_case_completeness(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let c = st.app.completeness(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({
        "complete": c.complete(),
        "facts": c.facts.as_ref().map(|(f, p)| json!({"field": f, "message_zh": p.zh, "message_en": p.en})),
        "without_evidence": c.without_evidence,
    }))
    .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::POST,
                "/cases/{id}/profile",
                Authenticated,
                "申请单位保存申请资料（表单，可未填完）",
                "The applicant saves the application form (may be incomplete)",
            ),
            post(case_profile),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/evidence",
                Authenticated,
                "将已上传的证据归入某项要求（表单）",
                "File an uploaded document against a requirement (form)",
            ),
            post(case_link),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/evidence/withdraw",
                Authenticated,
                "提交前撤回已归入某项要求的证据（表单）",
                "Withdraw a filed document from a requirement before submission (form)",
            ),
            post(case_unlink),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/evidence/withdraw",
                Authenticated,
                "提交前撤回已归入某项要求的证据",
                "Withdraw a filed document from a requirement before submission",
            ),
            post(api_case_unlink_evidence),
        ),
        (
            r(
                M::PUT,
                "/api/v1/cases/{id}/profile",
                Authenticated,
                "保存申请资料（草稿或补充资料阶段）",
                "Save the application facts (draft or supplementing)",
            ),
            put(api_case_profile),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/evidence",
                Authenticated,
                "按要求归档的证据",
                "Evidence filed against the requirements",
            ),
            get(api_case_evidence),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/evidence",
                Authenticated,
                "申请单位将已上传的证据归入某项要求",
                "The applicant files an uploaded document against a requirement",
            ),
            post(api_case_link_evidence),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/completeness",
                Authenticated,
                "完整性检查：必填资料与各项要求的证据",
                "Completeness check: mandatory facts and evidence per requirement",
            ),
            get(api_case_completeness),
        ),
    ]
}
