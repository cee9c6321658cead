//! The applicant's portal (5.1–5.2): the facts form, evidence per requirement, completeness.

use crate::AppState;
use crate::cases::back;
use crate::cases::view::{ELEMENTS, Entered, row_indices};
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
use zizhi_domain::lang::Text;
use zizhi_domain::money::Cny;
use zizhi_domain::profile::{FieldKind, MANDATORY_FIELDS};

/// Builds the profile JSON from the 申请书 form: the facts, the project rows and the held
/// certificate rows. Every problem is collected (field, message), so that all show at once
/// next to their fields; amounts may be typed with separators or in 万元 (`1500万`).
fn profile_from_form(form: &Entered) -> (Value, Vec<(String, Text)>) {
    let mut errors: Vec<(String, Text)> = Vec::new();
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
            FieldKind::Count => match raw.parse::<i64>() {
                Ok(n) if n >= 0 => json!(n),
                _ => {
                    errors.push((
                        f.path.to_string(),
                        Text::new("应为整数（人数）", "must be a whole number (people)"),
                    ));
                    continue;
                }
            },
            FieldKind::Amount => match Cny::parse_typed(raw) {
                Ok(c) => {
                    let fen = c.fen();
                    if fen % 100 == 0 {
                        json!((fen / 100).to_string())
                    } else {
                        json!(format!("{}.{:02}", fen / 100, fen % 100))
                    }
                }
                Err(e) => {
                    errors.push((f.path.to_string(), e.text()));
                    continue;
                }
            },
            FieldKind::Text if f.path == "organization.uscc" => {
                if let Err(e) = zizhi_domain::uscc::Uscc::parse(raw) {
                    errors.push((f.path.to_string(), e.text()));
                    continue;
                }
                json!(raw.to_ascii_uppercase())
            }
            _ => json!(raw),
        };
        let (section, key) = f.path.split_once('.').unwrap_or(("", f.path));
        v[section][key] = value;
    }
    let mut projects = Vec::new();
    for i in row_indices(form, "project.") {
        let get = |k: &str| {
            form.get(&format!("project.{i}.{k}"))
                .map_or("", |s| s.trim())
                .to_string()
        };
        let (name, level) = (get("name"), get("level"));
        if name.is_empty() && level.is_empty() {
            continue;
        }
        let field = format!("project.{i}");
        if name.is_empty() || level.is_empty() {
            errors.push((
                field,
                Text::new(
                    "请同时填写项目名称和 GB/T 20988 等级",
                    "give both the project's name and its GB/T 20988 level",
                ),
            ));
            continue;
        }
        let mut p = json!({"name": name});
        if level == "elements" {
            let parts: Vec<Option<i64>> = ELEMENTS.iter().map(|k| get(k).parse().ok()).collect();
            if parts.iter().any(Option::is_none) {
                errors.push((
                    field,
                    Text::new(
                        "按要素填写时，七个要素的等级都要选择",
                        "choose all seven element levels",
                    ),
                ));
                continue;
            }
            p["gbt20988_elements"] = ELEMENTS
                .iter()
                .zip(parts)
                .map(|(k, l)| ((*k).to_string(), json!(l)))
                .collect::<serde_json::Map<_, _>>()
                .into();
        } else {
            match level.parse::<i64>() {
                Ok(l) if (1..=6).contains(&l) => p["gbt20988_level"] = json!(l),
                _ => {
                    errors.push((
                        field,
                        Text::new(
                            "等级应为 1–6 级，或按七个要素填写",
                            "the level is 1 to 6, or the seven elements' levels",
                        ),
                    ));
                    continue;
                }
            }
        }
        projects.push(p);
    }
    v["track_record"]["dr_construction_projects"] = json!(projects);
    let mut certs = Vec::new();
    for i in row_indices(form, "cert.") {
        let get = |k: &str| {
            form.get(&format!("cert.{i}.{k}"))
                .map_or("", |s| s.trim())
                .to_string()
        };
        let (number, level, until, status) = (
            get("number"),
            get("level"),
            get("valid_until"),
            get("status"),
        );
        if number.is_empty() && until.is_empty() {
            continue;
        }
        let field = format!("cert.{i}");
        let level_ok = level.parse::<i64>().ok().filter(|l| (1..=5).contains(l));
        let until_ok = zizhi_domain::calendar::parse_date(&until);
        let status_ok = ["valid", "suspended", "revoked", "expired"].contains(&status.as_str());
        match (number.is_empty(), level_ok, until_ok, status_ok) {
            (false, Some(l), Some(d), true) => certs.push(json!({
                "category": "disaster_recovery", "level": l, "number": number,
                "valid_until": d.to_string(), "status": status,
            })),
            _ => errors.push((
                field,
                Text::new(
                    "请填写证书编号，并选择级别、有效期至和状态",
                    "give the certificate number and choose its level, expiry and status",
                ),
            )),
        }
    }
    v["certificates"] = json!(certs);
    (v, errors)
}

/// `POST /cases/{id}/profile`: the applicant saves the form (complete or not). Every problem
/// is shown next to its field at once and what was typed comes back; nothing is saved until
/// the form reads.
pub async fn case_profile(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    // Who may, before what was typed is read.
    if let Err(e) = st
        .app
        .authorize_on_case(&a, id, zizhi_app::policy::CaseAction::EditApplication)
        .await
    {
        return ctx.fail(e).into_response();
    }
    let mut form: Entered = pairs.into_iter().filter(|(k, _)| k != "csrf").collect();
    form.insert("form".into(), "facts".into());
    let (v, errors) = profile_from_form(&form);
    if !errors.is_empty() {
        let n = errors.len();
        for (k, m) in &errors {
            form.insert(format!("error.{k}"), m.get(ctx.lang).to_string());
        }
        let msg = match ctx.lang {
            zizhi_domain::lang::Lang::Zh => {
                format!("申请书有 {n} 处需要更正（已在各项旁标出），尚未保存")
            }
            zizhi_domain::lang::Lang::En => {
                format!("{n} problems in the application (marked next to each); not saved yet")
            }
        };
        return crate::cases::page::case_page_with(
            &st,
            &ctx,
            &a,
            id,
            Some((msg, true)),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(&form),
        )
        .await;
    }
    let r = st.app.save_case_draft(&a, id, v).await;
    if let Err(AppError::Invalid { field, problem }) = &r {
        form.entry(format!(
            "error.{}",
            field.strip_prefix("profile.").unwrap_or(field)
        ))
        .or_insert_with(|| problem.get(ctx.lang).to_string());
    }
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
