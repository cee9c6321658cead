//! The JSON API under `/api/v1`: the same operations as the pages, bearer-token or session
//! authenticated. Errors are `{"error": {"code", "field", "message", …}}`.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use zizhi_app::accounts::{NewUserInput, Organization, User};
use zizhi_app::{Actor, AppError};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{Answer, Failure, OrFail};
use crate::extract::{ClientIp, JsonBody, QueryOf};

pub(crate) fn me(ctx: &Ctx) -> Result<Actor, Failure> {
    ctx.actor
        .clone()
        .ok_or_else(|| ctx.fail(AppError::Unauthenticated))
}

fn user_json(u: &User) -> Value {
    json!({
        "id": u.id, "username": u.username, "display_name": u.display_name, "email": u.email,
        "role": u.role, "organization_id": u.organization_id, "disabled": u.disabled,
        "totp_enabled": u.totp_secret.is_some(), "must_change_password": u.must_change_password,
    })
}

fn org_json(o: &Organization) -> Value {
    json!({
        "id": o.id, "uscc": o.uscc, "name": o.name, "created_us": o.created_us,
        "address": o.address, "legal_representative": o.legal_representative,
        "contact_person": o.contact_person, "contact_phone": o.contact_phone,
        "contact_email": o.contact_email,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    username: String,
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

pub async fn session_create(
    State(st): State<AppState>,
    ctx: Ctx,
    ClientIp(ip): ClientIp,
    JsonBody(b): JsonBody<LoginBody>,
) -> Answer {
    if let Some(ip) = ip
        && !st.limiter.allow(ip, st.config.login_attempts_per_minute)
    {
        let t = crate::i18n::text("login.rate_limited").unwrap_or_default();
        return Err(Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            zizhi_domain::lang::Text::new(t.0, t.1),
            ctx.lang,
            true,
        ));
    }
    let s = st
        .app
        .login(&b.username, &b.password, b.totp.as_deref())
        .await
        .or_fail(&ctx)?;
    Ok((
            StatusCode::CREATED,
            Json(json!({"token": s.token, "csrf_token": s.csrf_token, "user": {"id": s.actor.user_id, "username": s.actor.username, "role": s.actor.role.as_str()}})),
        )
            .into_response())
}

pub async fn session_delete(
    State(st): State<AppState>,
    ctx: Ctx,
    headers: axum::http::HeaderMap,
) -> Answer {
    let a = me(&ctx)?;
    let token = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or(ctx.session_token.clone());
    if let Some(t) = token
        && let Err(e) = st.app.logout(&a, &t).await
    {
        return Err(ctx.fail(e));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn me_get(ctx: Ctx) -> Answer {
    let a = me(&ctx)?;
    Ok(Json(json!({
        "id": a.user_id, "username": a.username, "display_name": a.display_name,
        "role": a.role.as_str(), "organization_id": a.organization_id,
        "must_change_password": ctx.must_change_password, "totp_enabled": ctx.totp_enabled,
    }))
    .into_response())
}

pub async fn users_list(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let users = st.app.list_users(&me(&ctx)?).await.or_fail(&ctx)?;
    Ok(Json(json!({"users": users.iter().map(user_json).collect::<Vec<_>>()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewUserBody {
    username: String,
    display_name: String,
    email: String,
    role: String,
    #[serde(default)]
    organization_id: Option<i64>,
    #[serde(default)]
    password: Option<String>,
}

pub async fn users_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<NewUserBody>,
) -> Answer {
    let a = me(&ctx)?;
    let input = NewUserInput {
        username: b.username,
        display_name: b.display_name,
        email: b.email,
        role: b.role,
        organization_id: b.organization_id,
        password: b.password,
    };
    let (u, pw) = st.app.create_user(Some(&a), input).await.or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"user": user_json(&u), "initial_password": pw})),
    )
        .into_response())
}

pub async fn users_reset(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let r = async {
        let u = st.app.user(&a, id).await?;
        st.app.reset_password(Some(&a), &u.username).await
    }
    .await;
    let pw = r.or_fail(&ctx)?;
    Ok(Json(json!({"password": pw, "must_change_password": true})).into_response())
}

pub async fn orgs_list(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let orgs = st.app.list_organizations(&me(&ctx)?).await.or_fail(&ctx)?;
    Ok(
        Json(json!({"organizations": orgs.iter().map(org_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

pub async fn orgs_get(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let o = st.app.organization(&me(&ctx)?, id).await.or_fail(&ctx)?;
    Ok(Json(org_json(&o)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    address: String,
    legal_representative: String,
    contact_person: String,
    contact_phone: String,
    contact_email: String,
}

/// `PUT /api/v1/organizations/{id}/contact`: the 申请书 facts of the organisation.
pub async fn orgs_contact(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ContactBody>,
) -> Answer {
    let a = me(&ctx)?;
    let o = st
        .app
        .set_organization_contact(
            &a,
            id,
            &zizhi_store::organizations::Contact {
                address: b.address,
                legal_representative: b.legal_representative,
                contact_person: b.contact_person,
                contact_phone: b.contact_phone,
                contact_email: b.contact_email,
            },
        )
        .await
        .or_fail(&ctx)?;
    Ok(Json(org_json(&o)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConflictBody {
    #[serde(default)]
    user_id: Option<i64>,
    organization_id: i64,
    reason: String,
}

/// `POST /api/v1/conflicts`: declare a conflict of interest with an applicant.
pub async fn conflicts_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<ConflictBody>,
) -> Answer {
    let a = me(&ctx)?;
    st.app
        .declare_conflict(&a, b.user_id, b.organization_id, &b.reason)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

/// `GET /api/v1/conflicts`: the caller's own declared conflicts.
pub async fn conflicts_list(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let a = me(&ctx)?;
    let list = st.app.conflicts_of(&a, a.user_id).await.or_fail(&ctx)?;
    Ok(Json(json!({"conflicts": list.iter().map(|c| json!({
        "organization_id": c.organization_id, "reason": c.reason,
        "declared_by": c.declared_by, "declared_us": c.declared_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewOrgBody {
    uscc: String,
    name: String,
}

pub async fn orgs_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<NewOrgBody>,
) -> Answer {
    let a = me(&ctx)?;
    let o = st
        .app
        .create_organization(Some(&a), &b.uscc, &b.name)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(org_json(&o))).into_response())
}

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
    limit: Option<i64>,
}

#[derive(Serialize)]
struct EventJson {
    seq: i64,
    at_us: i64,
    actor_id: Option<i64>,
    actor: String,
    action: String,
    object_type: String,
    object_id: String,
    summary: Value,
    prev_hash: String,
    hash: String,
}

pub async fn audit_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Query(q): Query<AuditQuery>,
) -> Answer {
    let events = st
        .app
        .audit_log(&me(&ctx)?, q.before, q.limit.unwrap_or(100))
        .await
        .or_fail(&ctx)?;
    Ok(Json(json!({"events": events.into_iter().map(|e| EventJson {
            seq: e.seq, at_us: e.at_us, actor_id: e.actor_id, actor: e.actor, action: e.action,
            object_type: e.object_type, object_id: e.object_id,
            summary: serde_json::from_str(&e.summary).unwrap_or(Value::String(e.summary)),
            prev_hash: e.prev_hash, hash: e.hash,
        }).collect::<Vec<_>>()}))
    .into_response())
}

pub async fn audit_verify(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let v = st.app.verify_audit(Some(&me(&ctx)?)).await.or_fail(&ctx)?;
    Ok(Json(json!({
        "events": v.events, "head": v.head, "intact": v.first_break.is_none(),
        "first_break": v.first_break.map(|(seq, reason)| json!({"seq": seq, "reason": reason})),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBody {
    label: String,
    #[serde(default = "thirty")]
    days: i64,
}

fn thirty() -> i64 {
    30
}

pub async fn tokens_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<TokenBody>,
) -> Answer {
    let a = me(&ctx)?;
    let token = st
        .app
        .create_api_token(&a, &b.label, b.days)
        .await
        .or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"token": token, "days": b.days})),
    )
        .into_response())
}

// ------------------------------------------------------------------------ cases

/// A case as the API shows it (alone, or in a list with its organisation's name).
fn case_json(c: &zizhi_store::cases::CaseRow) -> Value {
    serde_json::to_value(CaseItem::of(c, None)).unwrap_or(Value::Null)
}

fn clock_json(c: &zizhi_domain::clock::Clock) -> Value {
    json!({
        "running_days": c.running_days, "paused_days": c.paused_days, "paused_now": c.paused_now,
        "target_due": c.target_due.to_string(), "limit_due": c.limit_due.to_string(),
        "target": c.target, "limit": c.limit,
    })
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesQuery {
    stage: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
}

/// `GET /api/v1/cases?stage=&page=&per_page=`: newest first, 50 a page by default.
/// A case, serialised straight from the row (a list of 50 builds no intermediate JSON values).
#[derive(Serialize)]
struct CaseItem<'a> {
    id: i64,
    number: String,
    organization_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    category: &'a str,
    level: i32,
    kind: &'a str,
    stage: &'a str,
    stage_name: Option<zizhi_domain::lang::Text>,
    paper_copy_received: bool,
    filed_on: Option<&'a str>,
    supplement_due: Option<&'a str>,
    closed_on: Option<&'a str>,
    created_us: i64,
    agreement_no: Option<&'a str>,
    fee_cny: Option<i64>,
}

impl<'a> CaseItem<'a> {
    fn of(c: &'a zizhi_store::cases::CaseRow, organization: Option<&'a str>) -> CaseItem<'a> {
        CaseItem {
            id: c.id,
            number: zizhi_app::cases::case_number(c),
            organization_id: c.organization_id,
            organization,
            category: &c.category,
            level: c.level,
            kind: &c.kind,
            stage: &c.stage,
            stage_name: zizhi_domain::case::Stage::parse(&c.stage).map(|s| s.name()),
            paper_copy_received: c.paper_received_us.is_some(),
            filed_on: c.filed_on.as_deref(),
            supplement_due: c.supplement_due.as_deref(),
            closed_on: c.closed_on.as_deref(),
            created_us: c.created_us,
            agreement_no: c.agreement_no.as_deref(),
            fee_cny: c.fee_fen.map(|f| f / 100),
        }
    }
}

#[derive(Serialize)]
struct CasePage<'a> {
    cases: Vec<CaseItem<'a>>,
    page: i64,
    per_page: i64,
    total: i64,
}

pub async fn cases_list(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(q): QueryOf<CasesQuery>,
) -> Answer {
    let a = me(&ctx)?;
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let (rows, total) = st
        .app
        .cases_page(&a, q.stage.as_deref(), page, per_page)
        .await
        .or_fail(&ctx)?;
    let cases: Vec<CaseItem> = rows
        .iter()
        .map(|l| CaseItem::of(&l.case, Some(&l.org_name)))
        .collect();
    Ok(Json(CasePage {
        cases,
        page,
        per_page,
        total,
    })
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DashboardQuery {
    limit: Option<usize>,
}

/// `GET /api/v1/dashboard?limit=`: open cases with their clocks, most urgent first (staff);
/// 100 by default, at most 1000; `total` counts all open cases.
pub async fn dashboard(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(q): QueryOf<DashboardQuery>,
) -> Answer {
    let a = me(&ctx)?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ctx.fail(AppError::invalid(
            "limit",
            "limit 应在 1 到 1000 之间",
            "limit must be between 1 and 1000",
        )));
    }
    let rows = st.app.dashboard(&a).await.or_fail(&ctx)?;
    let cases: Vec<Value> = rows
        .iter()
        .take(limit)
        .map(|r| {
            let mut v = serde_json::to_value(CaseItem::of(&r.case, Some(&r.org_name)))
                .unwrap_or(Value::Null);
            v["clock"] = r.clock.as_ref().map_or(Value::Null, clock_json);
            v
        })
        .collect();
    Ok(Json(json!({"cases": cases, "total": rows.len()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    level: i64,
    kind: String,
}

pub async fn cases_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<NewCaseBody>,
) -> Answer {
    let a = me(&ctx)?;
    let c = st
        .app
        .create_case(&a, b.level, &b.kind)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(case_json(&c))).into_response())
}

pub async fn case_get(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let d = st.app.case(&a, id).await.or_fail(&ctx)?;
    let mut v = case_json(&d.case);
    v["next"] = json!(d.next.iter().map(|t| t.as_str()).collect::<Vec<_>>());
    v["clock"] = d.clock.as_ref().map_or(Value::Null, clock_json);
    v["rounds"] =
        json!(d.rounds.iter().map(|r| json!({
        "round": r.round, "submitted_by": r.submitted_by, "submitted_us": r.submitted_us,
        "profile": serde_json::from_str::<Value>(&r.profile).unwrap_or(Value::Null),
        "assessment": serde_json::from_str::<Value>(&r.assessment).unwrap_or(Value::Null),
    })).collect::<Vec<_>>());
    v["history"] = json!(
        d.transitions
            .iter()
            .map(|t| json!({
                "transition": t.transition, "from": t.from_stage, "to": t.to_stage,
                "actor_id": t.actor_id, "note": t.note, "at_us": t.at_us,
            }))
            .collect::<Vec<_>>()
    );
    v["profile"] = serde_json::from_str(&d.case.profile).unwrap_or(Value::Null);
    Ok(Json(v).into_response())
}

pub async fn case_profile(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<Value>,
) -> Answer {
    let a = me(&ctx)?;
    st.app.save_case_profile(&a, id, b).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn case_paper_copy(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    st.app.record_paper_copy(&a, id).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    transition: String,
    #[serde(default)]
    note: String,
    /// Filing (`file`) names the project lead.
    #[serde(default)]
    lead_id: Option<i64>,
}

pub async fn case_transition(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TransitionBody>,
) -> Answer {
    let a = me(&ctx)?;
    let Some(t) = zizhi_domain::case::Transition::parse(&b.transition) else {
        let all: Vec<&str> = zizhi_domain::case::Transition::ALL
            .iter()
            .map(|t| t.as_str())
            .collect();
        return Err(ctx.fail(AppError::invalid(
            "transition",
            format!("未知的操作“{}”", b.transition),
            format!(
                "unknown transition \"{}\" (one of {})",
                b.transition,
                all.join(", ")
            ),
        )));
    };
    let c = st
        .app
        .transition_case_with(&a, id, t, &b.note, b.lead_id)
        .await
        .or_fail(&ctx)?;
    Ok(Json(case_json(&c)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeadBody {
    lead_id: i64,
    reason: String,
}

/// `PUT /api/v1/cases/{id}/lead`: a supervisor hands the case to another project lead.
pub async fn case_lead(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LeadBody>,
) -> Answer {
    let a = me(&ctx)?;
    let c = st
        .app
        .reassign_lead(&a, id, b.lead_id, &b.reason)
        .await
        .or_fail(&ctx)?;
    Ok(Json(case_json(&c)).into_response())
}

/// `GET /api/v1/cases/{id}/panel`: the panel as the caller may see it — votes stay secret
/// until every seat has voted.
pub async fn case_panel(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let p = st.app.panel(&a, id).await.or_fail(&ctx)?;
    let vote = |v: &zizhi_store::evaluation::Vote| json!({"expert_id": v.expert_id, "vote": v.vote, "opinion": v.opinion, "round": v.round, "at_us": v.at_us});
    Ok(Json(json!({
        "seats": p.seats,
        "cast": p.cast,
        "complete": p.tally.is_some(),
        "votes": p.votes.iter().map(vote).collect::<Vec<_>>(),
        "mine": p.mine.as_ref().map(vote),
        "tally": p.tally.map(|t| json!({"pass": t.pass, "fail": t.fail, "return": t.ret, "seats": t.seats})),
        "conclusion": p.conclusion.map(|v| v.as_str()),
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    assessors: Vec<i64>,
    experts: Vec<i64>,
    /// The panel's chair (组长); by default the first expert named, when the panel has none.
    #[serde(default)]
    chair: Option<i64>,
}

pub async fn case_team(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<TeamBody>,
) -> Answer {
    let a = me(&ctx)?;
    let members = st
        .app
        .assign_team(&a, id, &b.assessors, &b.experts, b.chair)
        .await
        .or_fail(&ctx)?;
    Ok(Json(json!({"members": members.iter().map(|m| json!({"user_id": m.user_id, "duty": m.duty, "chair": m.chair})).collect::<Vec<_>>()})).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JudgementBody {
    requirement_id: String,
    verdict: String,
    rationale: String,
    #[serde(default)]
    evidence_ids: Vec<i64>,
}

pub async fn case_judgement(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<JudgementBody>,
) -> Answer {
    let a = me(&ctx)?;
    st.app
        .record_judgement(
            &a,
            id,
            &b.requirement_id,
            &b.verdict,
            &b.rationale,
            &b.evidence_ids,
        )
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn case_judgements(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let list = st.app.judgements(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"judgements": list.iter().map(|j| json!({
            "requirement_id": j.requirement_id, "verdict": j.verdict, "rationale": j.rationale,
            "evidence_ids": serde_json::from_str::<Value>(&j.evidence_ids).unwrap_or(Value::Null),
            "assessor_id": j.assessor_id, "at_us": j.at_us,
        })).collect::<Vec<_>>()}))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VoteBody {
    vote: String,
    opinion: String,
}

pub async fn case_vote(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<VoteBody>,
) -> Answer {
    let a = me(&ctx)?;
    st.app
        .panel_vote(&a, id, &b.vote, &b.opinion)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchBody {
    case_ids: Vec<i64>,
}

pub async fn batch_create(
    State(st): State<AppState>,
    ctx: Ctx,
    JsonBody(b): JsonBody<BatchBody>,
) -> Answer {
    let a = me(&ctx)?;
    let batch = st.app.create_batch(&a, &b.case_ids).await.or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({"id": batch.id, "status": batch.status})),
    )
        .into_response())
}

pub async fn batch_approve(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    st.app.approve_batch(&a, id).await.or_fail(&ctx)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn certificate_json(c: &zizhi_store::certificates::Certificate) -> Value {
    json!({
        "number": c.number, "holder": c.holder, "uscc": c.uscc, "category": c.category, "level": c.level,
        "issued_on": c.issued_on, "valid_until": c.valid_until, "status": c.status,
        "verify": format!("/verify/{}", c.number),
    })
}

pub async fn batch_issue(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let certs = st.app.issue_batch(&a, id).await.or_fail(&ctx)?;
    Ok(
        Json(json!({"certificates": certs.iter().map(certificate_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

pub async fn certificate_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Answer {
    let v = st.app.verify_certificate(&number).await.or_fail(&ctx)?;
    let mut j = certificate_json(&v.certificate);
    j["in_force"] = json!(v.in_force);
    Ok(Json(j).into_response())
}

// ------------------------------------------------------- portal evidence, review, activities

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    requirement_id: String,
    evidence_id: i64,
}

/// `POST /api/v1/cases/{id}/evidence`: files an uploaded document against a requirement.
pub async fn case_link_evidence(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<LinkBody>,
) -> Answer {
    let a = me(&ctx)?;
    st.app
        .link_case_evidence(&a, id, &b.requirement_id, b.evidence_id)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn case_evidence(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let list = st.app.case_evidence(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"evidence": list.iter().map(|e| json!({
        "requirement_id": e.requirement_id, "evidence_id": e.evidence_id, "name": e.original_name,
        "size": e.size, "sha256": e.sha256, "linked_us": e.linked_us,
        "download": format!("/api/v1/evidence/{}", e.evidence_id),
    })).collect::<Vec<_>>()}))
    .into_response())
}

/// `GET /api/v1/cases/{id}/completeness`: the mandatory facts and evidence still missing.
pub async fn case_completeness(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Answer {
    let a = me(&ctx)?;
    let c = st.app.completeness(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({
        "complete": c.complete(),
        "facts": c.facts.as_ref().map(|(f, p)| json!({"field": f, "message_zh": p.zh, "message_en": p.en})),
        "without_evidence": c.without_evidence,
    }))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaBody {
    area: String,
    sufficient: bool,
    opinion: String,
}

/// `POST /api/v1/cases/{id}/review-areas`: the lead judges one of the five areas (5.2).
pub async fn case_review_area(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<AreaBody>,
) -> Answer {
    let a = me(&ctx)?;
    st.app
        .record_review_area(&a, id, &b.area, b.sufficient, &b.opinion)
        .await
        .or_fail(&ctx)?;
    Ok(StatusCode::CREATED.into_response())
}

pub async fn case_review_areas(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
) -> Answer {
    let a = me(&ctx)?;
    let rows = st.app.review_areas(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"areas": rows.iter().map(|r| json!({
        "round": r.round, "area": r.area, "sufficient": r.sufficient, "opinion": r.opinion,
        "reviewer_id": r.reviewer_id, "at_us": r.at_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActivityBody {
    kind: String,
    held_on: String,
    notes: String,
    #[serde(default)]
    evidence_ids: Vec<i64>,
}

/// `POST /api/v1/cases/{id}/activities`: the audit plan or an evaluation activity (5.4).
pub async fn case_activity(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<ActivityBody>,
) -> Answer {
    let a = me(&ctx)?;
    let aid = st
        .app
        .record_activity(&a, id, &b.kind, &b.held_on, &b.notes, &b.evidence_ids)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(json!({"id": aid}))).into_response())
}

pub async fn case_activities(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = me(&ctx)?;
    let rows = st.app.activities(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"activities": rows.iter().map(|r| json!({
        "id": r.id, "kind": r.kind, "held_on": r.held_on, "notes": r.notes,
        "evidence_ids": serde_json::from_str::<Value>(&r.evidence_ids).unwrap_or(Value::Null),
        "recorded_by": r.recorded_by, "at_us": r.at_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}
