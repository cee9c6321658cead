//! Every route, in one table: its method, path, who may reach it and what it does. The router,
//! the per-route access guard and the OpenAPI document are all built from this table, and the
//! route × role test walks it, so no route can exist without an access decision.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use serde_json::{Value, json};
use tower_http::timeout::TimeoutLayer;
use zizhi_app::policy::{Action, allowed};

use crate::ctx::Ctx;
use crate::error::Failure;
use crate::{AppState, api, case_pages, evidence, pages};

/// Who may reach a route (checked before the handler; the use case checks again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    /// Any signed-in user; the use case decides finer points (e.g. an applicant's own
    /// organisation).
    Authenticated,
    /// Signed in and allowed this action by the policy.
    May(Action),
}

/// One route.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
    /// What it does (zh, en).
    pub summary: (&'static str, &'static str),
    /// Served without loading a session (health, static files).
    pub bare: bool,
    /// Streams a large body (evidence): no 1 MiB body limit, no request timeout.
    pub streaming: bool,
    /// Query parameters (name, JSON type, description), for the OpenAPI document.
    pub query: &'static [(&'static str, &'static str, &'static str)],
}

fn r(
    method: Method,
    path: &'static str,
    access: Access,
    zh: &'static str,
    en: &'static str,
) -> RouteSpec {
    RouteSpec {
        method,
        path,
        access,
        summary: (zh, en),
        bare: false,
        streaming: false,
        query: &[],
    }
}

fn with_query(
    mut spec: RouteSpec,
    query: &'static [(&'static str, &'static str, &'static str)],
) -> RouteSpec {
    spec.query = query;
    spec
}

const CSS: &str = include_str!("../static/app.css");

async fn health(axum::extract::State(st): axum::extract::State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!(
            "{{\"status\":\"ok\",\"database\":\"{}\",\"version\":\"{}\"}}",
            st.app.backend(),
            env!("CARGO_PKG_VERSION")
        ),
    )
        .into_response()
}

async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

async fn agreement_css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        zizhi_app::documents::agreement::AGREEMENT_CSS,
    )
        .into_response()
}

async fn openapi() -> Response {
    axum::Json(openapi_document()).into_response()
}

fn streaming(mut spec: RouteSpec) -> RouteSpec {
    spec.streaming = true;
    spec
}

/// The table.
pub fn table() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    let mut health_spec = r(M::GET, "/health", Public, "健康检查", "Health check");
    health_spec.bare = true;
    let mut css_spec = r(M::GET, "/static/app.css", Public, "样式表", "Style sheet");
    css_spec.bare = true;
    let mut agreement_css_spec = r(
        M::GET,
        "/static/agreement.css",
        Public,
        "委托协议样式表",
        "Style sheet of the agreement",
    );
    agreement_css_spec.bare = true;
    vec![
        (health_spec, get(health)),
        (css_spec, get(css)),
        (agreement_css_spec, get(agreement_css)),
        (
            r(M::GET, "/login", Public, "登录页", "Sign-in page"),
            get(pages::login_page),
        ),
        (
            r(M::POST, "/login", Public, "登录", "Sign in"),
            post(pages::login_submit),
        ),
        (
            r(
                M::GET,
                "/lang/{code}",
                Public,
                "切换语言",
                "Switch language",
            ),
            get(pages::set_lang),
        ),
        (
            r(M::POST, "/logout", Authenticated, "退出", "Sign out"),
            post(pages::logout),
        ),
        (
            r(
                M::GET,
                "/",
                Authenticated,
                "待办（各角色首页）",
                "Home (to-do) per role",
            ),
            get(pages::home),
        ),
        (
            r(M::GET, "/account", Authenticated, "我的账号", "My account"),
            get(pages::account_page),
        ),
        (
            r(
                M::POST,
                "/account/password",
                Authenticated,
                "修改密码",
                "Change password",
            ),
            post(pages::account_password),
        ),
        (
            r(
                M::POST,
                "/account/totp",
                Authenticated,
                "启用双因素认证",
                "Turn on two-factor",
            ),
            post(pages::account_totp),
        ),
        (
            r(
                M::POST,
                "/account/tokens",
                Authenticated,
                "生成 API 令牌",
                "Create an API token",
            ),
            post(pages::account_token),
        ),
        (
            r(
                M::GET,
                "/users",
                May(Action::ListUsers),
                "用户列表",
                "Users",
            ),
            get(pages::users_page),
        ),
        (
            r(
                M::POST,
                "/users",
                May(Action::CreateUser),
                "新建用户",
                "Create a user",
            ),
            post(pages::users_create),
        ),
        (
            r(
                M::POST,
                "/users/{id}/reset-password",
                May(Action::ResetPassword),
                "重置密码",
                "Reset a password",
            ),
            post(pages::user_reset),
        ),
        (
            r(
                M::POST,
                "/users/{id}/disable",
                May(Action::DisableUser),
                "停用用户",
                "Disable a user",
            ),
            post(pages::user_disable),
        ),
        (
            r(
                M::POST,
                "/users/{id}/enable",
                May(Action::DisableUser),
                "启用用户",
                "Enable a user",
            ),
            post(pages::user_enable),
        ),
        (
            r(
                M::GET,
                "/organizations",
                May(Action::ListOrganizations),
                "申请单位列表",
                "Organisations",
            ),
            get(pages::orgs_page),
        ),
        (
            r(
                M::POST,
                "/organizations",
                May(Action::CreateOrganization),
                "登记申请单位",
                "Register an organisation",
            ),
            post(pages::orgs_create),
        ),
        (
            r(
                M::GET,
                "/organizations/{id}",
                Authenticated,
                "申请单位档案与证据（申请单位用户仅限本单位）",
                "An organisation's file and evidence (applicants: their own)",
            ),
            get(pages::org_page),
        ),
        (
            r(
                M::POST,
                "/organizations/{id}/contact",
                Authenticated,
                "保存申请书信息（地址、法定代表人、联系人、指定电子邮箱）",
                "Save the application facts (address, representative, contacts, designated e-mail)",
            ),
            post(pages::org_contact),
        ),
        (
            streaming(r(
                M::POST,
                "/organizations/{id}/evidence",
                Authenticated,
                "上传证据（表单）",
                "Upload evidence (form)",
            )),
            post(evidence::upload_form),
        ),
        (
            streaming(r(
                M::GET,
                "/evidence/{id}",
                Authenticated,
                "下载证据（校验哈希）",
                "Download evidence (hash re-checked)",
            )),
            get(evidence::download),
        ),
        (
            r(M::GET, "/cases", Authenticated, "申请案件列表", "Cases"),
            get(case_pages::cases_page),
        ),
        (
            r(
                M::POST,
                "/cases",
                Authenticated,
                "申请单位新建申请",
                "An applicant opens an application",
            ),
            post(case_pages::cases_create),
        ),
        (
            r(
                M::GET,
                "/cases/{id}",
                Authenticated,
                "案件页：阶段、周期、流程跟踪、下一步",
                "A case: stage, clock, history, next steps",
            ),
            get(case_pages::case_page),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/transitions",
                Authenticated,
                "流程操作（表单）",
                "A process step (form)",
            ),
            post(case_pages::case_transition),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/profile",
                Authenticated,
                "申请单位保存申请资料（表单，可未填完）",
                "The applicant saves the application form (may be incomplete)",
            ),
            post(case_pages::case_profile),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/evidence",
                Authenticated,
                "将已上传的证据归入某项要求（表单）",
                "File an uploaded document against a requirement (form)",
            ),
            post(case_pages::case_link),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/paper-copy",
                Authenticated,
                "登记收到纸版申请书（表单）",
                "Record the paper copy (form)",
            ),
            post(case_pages::case_paper),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/areas",
                Authenticated,
                "受理审查五个方面的判定（表单）",
                "The five areas of the acceptance review (form)",
            ),
            post(case_pages::case_areas),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/lead",
                Authenticated,
                "更换项目负责人（监督人员）",
                "Reassign the project lead (supervisor)",
            ),
            post(case_pages::case_lead),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/team",
                Authenticated,
                "指定项目组与专家组（表单）",
                "Assign the team and the panel (form)",
            ),
            post(case_pages::case_team),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/activities",
                Authenticated,
                "记录审核计划或评估活动（表单）",
                "Record the audit plan or an activity (form)",
            ),
            post(case_pages::case_activity),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/judgements",
                Authenticated,
                "逐项判定（表单）",
                "Judge a requirement (form)",
            ),
            post(case_pages::case_judgement),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/votes",
                Authenticated,
                "专家表决（表单）",
                "An expert votes (form)",
            ),
            post(case_pages::case_vote),
        ),
        (
            r(
                M::GET,
                "/cases/{id}/agreement",
                Authenticated,
                "委托测评协议（可打印）",
                "The delegation agreement (printable)",
            ),
            get(case_pages::agreement_page),
        ),
        (
            r(
                M::GET,
                "/dashboard",
                Authenticated,
                "工作台：未结案件按紧急程度排列",
                "Dashboard: open cases by urgency",
            ),
            get(case_pages::dashboard_page),
        ),
        (
            r(
                M::GET,
                "/batches",
                Authenticated,
                "证书批次（制证与审批）",
                "Certificate batches (officer and approver)",
            ),
            get(case_pages::batches_page),
        ),
        (
            r(
                M::POST,
                "/batches",
                Authenticated,
                "建立证书批次（表单）",
                "Build a certificate batch (form)",
            ),
            post(case_pages::batches_create),
        ),
        (
            r(
                M::POST,
                "/batches/{id}/approve",
                Authenticated,
                "审批证书批次（表单）",
                "Approve a batch (form)",
            ),
            post(case_pages::batch_approve),
        ),
        (
            r(
                M::POST,
                "/batches/{id}/issue",
                Authenticated,
                "发放批次中的证书（表单）",
                "Issue a batch (form)",
            ),
            post(case_pages::batch_issue),
        ),
        (
            r(
                M::GET,
                "/audit",
                May(Action::ViewAuditLog),
                "审计日志",
                "Audit log",
            ),
            get(pages::audit_page),
        ),
        (
            r(
                M::POST,
                "/audit/verify",
                May(Action::VerifyAuditChain),
                "校验审计哈希链",
                "Verify the audit chain",
            ),
            post(pages::audit_verify),
        ),
        // JSON API
        (
            r(
                M::GET,
                "/api/v1/openapi.json",
                Public,
                "OpenAPI 文档",
                "OpenAPI document",
            ),
            get(openapi),
        ),
        (
            r(
                M::POST,
                "/api/v1/session",
                Public,
                "登录，返回令牌",
                "Sign in; returns a token",
            ),
            post(api::session_create),
        ),
        (
            r(
                M::DELETE,
                "/api/v1/session",
                Authenticated,
                "退出",
                "Sign out",
            ),
            delete(api::session_delete),
        ),
        (
            r(
                M::GET,
                "/api/v1/me",
                Authenticated,
                "当前用户",
                "The signed-in user",
            ),
            get(api::me_get),
        ),
        (
            r(
                M::POST,
                "/api/v1/tokens",
                Authenticated,
                "生成 API 令牌",
                "Create an API token",
            ),
            post(api::tokens_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/users",
                May(Action::ListUsers),
                "用户列表",
                "List users",
            ),
            get(api::users_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/users",
                May(Action::CreateUser),
                "新建用户",
                "Create a user",
            ),
            post(api::users_create),
        ),
        (
            r(
                M::POST,
                "/api/v1/users/{id}/reset-password",
                May(Action::ResetPassword),
                "重置密码",
                "Reset a password",
            ),
            post(api::users_reset),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations",
                May(Action::ListOrganizations),
                "申请单位列表",
                "List organisations",
            ),
            get(api::orgs_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/organizations",
                May(Action::CreateOrganization),
                "登记申请单位",
                "Register an organisation",
            ),
            post(api::orgs_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations/{id}",
                Authenticated,
                "申请单位详情（申请单位用户仅限本单位）",
                "One organisation (applicants: their own only)",
            ),
            get(api::orgs_get),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations/{id}/evidence",
                Authenticated,
                "申请单位的证据列表",
                "An organisation's evidence",
            ),
            get(evidence::list),
        ),
        (
            streaming(r(
                M::POST,
                "/api/v1/organizations/{id}/evidence",
                Authenticated,
                "上传证据：请求体即文件，X-File-Name 为文件名",
                "Upload evidence: the body is the file, X-File-Name its name",
            )),
            post(evidence::upload_raw),
        ),
        (
            streaming(r(
                M::GET,
                "/api/v1/evidence/{id}",
                Authenticated,
                "下载证据（校验哈希）",
                "Download evidence (hash re-checked)",
            )),
            get(evidence::download),
        ),
        (
            with_query(
                r(
                    M::GET,
                    "/api/v1/cases",
                    Authenticated,
                    "案件列表，新的在前，分页（申请单位用户仅限本单位）",
                    "Cases, newest first, a page at a time (applicants: their own)",
                ),
                &[
                    (
                        "stage",
                        "string",
                        "only cases in this stage, e.g. acceptance_review",
                    ),
                    ("page", "integer", "page number from 1 (default 1)"),
                    ("per_page", "integer", "1–200 (default 50)"),
                ],
            ),
            get(api::cases_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases",
                Authenticated,
                "申请单位新建申请（草稿）",
                "An applicant opens an application (draft)",
            ),
            post(api::cases_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}",
                Authenticated,
                "案件详情：阶段、各轮提交、流程记录、项目周期",
                "A case: stage, rounds, history, project clock",
            ),
            get(api::case_get),
        ),
        (
            r(
                M::PUT,
                "/api/v1/cases/{id}/profile",
                Authenticated,
                "保存申请资料（草稿或补充资料阶段）",
                "Save the application facts (draft or supplementing)",
            ),
            put(api::case_profile),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/paper-copy",
                Authenticated,
                "登记收到纸版申请书",
                "Record receipt of the paper copy",
            ),
            post(api::case_paper_copy),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/transitions",
                Authenticated,
                "流程操作：submit、file、request_supplement、resubmit、accept、not_accept、extend_supplement、terminate、withdraw、send_agreement、record_signed_agreement、approve_agreement、confirm_payment、conclude_audit、panel_pass、panel_fail、panel_return",
                "A process step: submit, file, request_supplement, resubmit, accept, not_accept, extend_supplement, terminate, withdraw, send_agreement, record_signed_agreement, approve_agreement, confirm_payment, conclude_audit, panel_pass, panel_fail, panel_return",
            ),
            post(api::case_transition),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/team",
                Authenticated,
                "项目负责人指定项目组成员与专家组（回避规则）",
                "The lead assigns assessors and experts (conflict-of-interest rules)",
            ),
            post(api::case_team),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/judgements",
                Authenticated,
                "逐项判定（测评中心工作人员）",
                "Judgements per requirement (centre staff)",
            ),
            get(api::case_judgements),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/judgements",
                Authenticated,
                "记录或修改一项要求的判定",
                "Record or revise one requirement's judgement",
            ),
            post(api::case_judgement),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/panel",
                Authenticated,
                "专家组：席位、已表决人数；全部表决后公开各票、意见与计票结果（测评中心工作人员）",
                "The panel: seats and votes cast; every vote, opinion and the tally once all have voted (centre staff)",
            ),
            get(api::case_panel),
        ),
        (
            r(
                M::PUT,
                "/api/v1/cases/{id}/lead",
                Authenticated,
                "更换项目负责人（监督人员，须写明理由）",
                "Reassign the project lead (supervisor, with a reason)",
            ),
            put(api::case_lead),
        ),
        (
            r(
                M::POST,
                "/api/v1/conflicts",
                Authenticated,
                "声明与申请单位的利益冲突（本人；监督人员、管理员可为他人登记）",
                "Declare a conflict of interest with an applicant (one's own; supervisors and administrators for anyone)",
            ),
            post(api::conflicts_create),
        ),
        (
            r(
                M::GET,
                "/api/v1/conflicts",
                Authenticated,
                "本人已声明的利益冲突",
                "One's declared conflicts of interest",
            ),
            get(api::conflicts_list),
        ),
        (
            r(
                M::PUT,
                "/api/v1/organizations/{id}/contact",
                Authenticated,
                "申请书信息：注册地址、法定代表人、联系人、电话、指定电子邮箱",
                "The application's facts: address, legal representative, contact, phone, designated e-mail",
            ),
            put(api::orgs_contact),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/votes",
                Authenticated,
                "专家表决（pass、fail、return）与评审意见",
                "An expert's vote (pass, fail, return) and opinion",
            ),
            post(api::case_vote),
        ),
        (
            with_query(
                r(
                    M::GET,
                    "/api/v1/dashboard",
                    Authenticated,
                    "工作台：未结案件及项目周期，最紧急的在前（测评中心工作人员）",
                    "Dashboard: open cases with their clocks, most urgent first (centre staff)",
                ),
                &[("limit", "integer", "1–1000 (default 100); total counts all")],
            ),
            get(api::dashboard),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/evidence",
                Authenticated,
                "按要求归档的证据",
                "Evidence filed against the requirements",
            ),
            get(api::case_evidence),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/evidence",
                Authenticated,
                "申请单位将已上传的证据归入某项要求",
                "The applicant files an uploaded document against a requirement",
            ),
            post(api::case_link_evidence),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/completeness",
                Authenticated,
                "完整性检查：必填资料与各项要求的证据",
                "Completeness check: mandatory facts and evidence per requirement",
            ),
            get(api::case_completeness),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/review-areas",
                Authenticated,
                "受理审查：本轮五个方面的证据充分性判定",
                "Acceptance review: this round's judgement of the five areas",
            ),
            get(api::case_review_areas),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/review-areas",
                Authenticated,
                "项目负责人判定一个方面的证据充分性并填写意见（5.2）",
                "The lead judges one area's evidence sufficiency with an opinion (5.2)",
            ),
            post(api::case_review_area),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/activities",
                Authenticated,
                "审核计划与评估活动（测评中心工作人员）",
                "Audit plan and evaluation activities (centre staff)",
            ),
            get(api::case_activities),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/activities",
                Authenticated,
                "记录审核计划或评估活动：文档审查、人员访谈、实际操作（5.4）",
                "Record the audit plan or an activity: document review, interview, practical operation (5.4)",
            ),
            post(api::case_activity),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches",
                Authenticated,
                "制证工作人员建立证书批次",
                "The certificate officer builds a batch",
            ),
            post(api::batch_create),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches/{id}/approve",
                Authenticated,
                "审批人审批批次（不得审批本人建立的批次）",
                "An approver approves a batch (not one they made)",
            ),
            post(api::batch_approve),
        ),
        (
            r(
                M::POST,
                "/api/v1/batches/{id}/issue",
                Authenticated,
                "发放批次中的证书",
                "Issue the batch's certificates",
            ),
            post(api::batch_issue),
        ),
        (
            r(
                M::GET,
                "/api/v1/certificates/{number}",
                Public,
                "公开查验证书",
                "Verify a certificate (public)",
            ),
            get(api::certificate_get),
        ),
        (
            r(
                M::GET,
                "/verify/{number}",
                Public,
                "公开查验证书页面（证书二维码指向此处）",
                "Public verification page (the certificate's QR code leads here)",
            ),
            get(pages::verify_page),
        ),
        (
            r(
                M::GET,
                "/api/v1/audit",
                May(Action::ViewAuditLog),
                "审计事件（新的在前）",
                "Audit events, newest first",
            ),
            get(api::audit_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/audit/verify",
                May(Action::VerifyAuditChain),
                "校验审计哈希链",
                "Verify the audit chain",
            ),
            post(api::audit_verify),
        ),
    ]
}

/// Checks a route's access before its handler runs.
async fn guard(access: Access, req: Request, next: Next) -> Response {
    if access == Access::Public {
        return next.run(req).await;
    }
    let Some(ctx) = req.extensions().get::<Ctx>().cloned() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(actor) = &ctx.actor else {
        if ctx.api || req.method() != Method::GET {
            return ctx
                .fail(zizhi_app::AppError::Unauthenticated)
                .into_response();
        }
        let next_path = req.uri().path_and_query().map_or("/", |p| p.as_str());
        let to: String = form_urlencoded::byte_serialize(next_path.as_bytes()).collect();
        return Redirect::to(&format!("/login?next={to}")).into_response();
    };
    if let Access::May(a) = access
        && !allowed(actor, &a)
    {
        return Failure::from_app(zizhi_app::AppError::Forbidden, ctx.lang, ctx.api)
            .into_response();
    }
    next.run(req).await
}

/// Builds the two routers: session-aware routes and bare ones.
pub fn routers() -> (Router<AppState>, Router<AppState>) {
    let mut with_ctx = Router::new();
    let mut bare = Router::new();
    for (spec, mr) in table() {
        let access = spec.access;
        // Ordinary requests: bodies up to 1 MiB, answered within 60 s. Evidence streams may
        // be up to the evidence limit (plus multipart overhead) and take as long as the
        // transfer takes.
        let mr = if spec.streaming {
            mr.layer::<_, Infallible>(axum::extract::DefaultBodyLimit::max((1 << 30) + (1 << 20)))
        } else {
            mr.layer::<_, Infallible>(axum::extract::DefaultBodyLimit::max(crate::ctx::FORM_LIMIT))
                .layer::<_, Infallible>(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    Duration::from_secs(60),
                ))
        };
        let mr = mr.route_layer(middleware::from_fn(move |req: Request, next: Next| {
            guard(access, req, next)
        }));
        if spec.bare {
            bare = bare.route(spec.path, mr);
        } else {
            with_ctx = with_ctx.route(spec.path, mr);
        }
    }
    (with_ctx, bare)
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
        let op = crate::openapi::operation(&spec.method, spec.path).unwrap_or_else(|| {
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
            "schemas": crate::openapi::components(),
        }
    })
}
