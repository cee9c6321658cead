//! The list of cases and the staff dashboard (九.3 clocks).

use crate::AppState;
use crate::cases::json::{CaseItem, CaseListJson, case_json};
use crate::cases::{day, kind_name, level_name, stage_name};
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, QueryOf};
use crate::routes::{Access, RouteSpec, r, with_query};
use crate::views::{Chrome, chrome, failure_flash, render, with_flash};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use zizhi_app::cases::case_number;
use zizhi_app::cases::lists::{CaseQuery, DueFilter, MAX_PAGE};
use zizhi_app::policy::{Action, allowed};
use zizhi_app::{Actor, AppError};
use zizhi_domain::case::Stage;
use zizhi_domain::roles::Role;

pub struct CaseRowView {
    pub id: i64,
    pub number: String,
    pub org: String,
    pub level: String,
    pub kind: String,
    pub stage: String,
    pub lead: String,
    pub filed: String,
    pub due: String,
    pub due_class: &'static str,
}

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    c: Chrome,
    rows: Vec<CaseRowView>,
    can_create: bool,
    /// Why an applicant cannot open an application yet (its registration waits).
    registration_notice: Option<String>,
    is_staff: bool,
    stages: Vec<(&'static str, String)>,
    leads: Vec<(i64, String)>,
    q: ListQuery,
    page: i64,
    pages: i64,
    total: i64,
    /// The query string of the filters in effect (for the pager and the export).
    query: String,
    /// A filter's error: (field, message), shown next to it.
    error: Option<(String, String)>,
}

/// The list's search and filters as the page's form sends them (every field a string, so
/// that what was typed comes back as typed, and a wrong value is named, not a 500).
#[derive(Deserialize, Default, Clone)]
pub struct ListQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    stage: String,
    #[serde(default)]
    lead: String,
    #[serde(default)]
    due: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    page: String,
}

impl ListQuery {
    fn to_app(&self) -> Result<(CaseQuery, i64), AppError> {
        let lead_id = match self.lead.trim() {
            "" => None,
            x => Some(x.parse::<i64>().map_err(|_| {
                AppError::invalid("lead", "请选择项目负责人", "choose a project lead")
            })?),
        };
        let due = match self.due.trim() {
            "" => None,
            "overdue" => Some(DueFilter::Overdue),
            "within_15" => Some(DueFilter::Within15),
            _ => {
                return Err(AppError::invalid(
                    "due",
                    "期限筛选只能是“已逾期”或“15 天内到期”",
                    "the deadline filter is either overdue or due within 15 days",
                ));
            }
        };
        // An out-of-range page shows the last page (or the first), not an error.
        let page = self
            .page
            .trim()
            .parse::<i64>()
            .unwrap_or(1)
            .clamp(1, MAX_PAGE);
        let opt = |s: &str| Some(s.trim().to_string()).filter(|x| !x.is_empty());
        Ok((
            CaseQuery {
                q: opt(&self.q),
                stage: opt(&self.stage),
                lead_id,
                due,
                filed_from: opt(&self.from),
                filed_to: opt(&self.to),
                // The page numbers' list (its pager links numbered pages).
                after: None,
            },
            page,
        ))
    }

    fn query_string(&self) -> String {
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(
                [
                    ("q", &self.q),
                    ("stage", &self.stage),
                    ("lead", &self.lead),
                    ("due", &self.due),
                    ("from", &self.from),
                    ("to", &self.to),
                ]
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty()),
            )
            .finish()
    }
}

const PER_PAGE: i64 = 50;

/// The centre's active staff (id, name, role) for a staff member's list (the leads' names in
/// the rows, the lead filter's choices), read once a page; none for an applicant.
async fn directory(st: &AppState, a: &Actor) -> Result<Vec<(i64, String, Role)>, AppError> {
    if a.role.is_staff() {
        st.app.staff_directory(a).await
    } else {
        Ok(Vec::new())
    }
}

/// The list's rows (and the total) for a query, with lead names (from `directory`) and
/// deadlines in words.
async fn list_rows(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    directory: &[(i64, String, Role)],
    q: &CaseQuery,
    page: i64,
    per_page: i64,
) -> Result<(Vec<CaseRowView>, i64), AppError> {
    let list = st.app.cases_search(a, q, page, per_page, 10_000).await?;
    let names: std::collections::HashMap<i64, &str> = directory
        .iter()
        .map(|(id, n, _)| (*id, n.as_str()))
        .collect();
    let today = st.app.clock.today();
    let rows = list
        .rows()
        .map(|r| {
            let l = r.listed;
            let (due, due_class) = match r.due {
                Some(d) => crate::cases::banner::due_line(d, today, ctx.lang),
                None => ("—".to_string(), ""),
            };
            CaseRowView {
                id: l.case.id,
                number: case_number(&l.case),
                org: l.org_name.clone(),
                level: level_name(l.case.level, ctx.lang),
                kind: kind_name(l.case.kind.as_str(), ctx.lang),
                stage: stage_name(l.case.stage.as_str(), ctx.lang),
                lead: l
                    .case
                    .lead_id
                    .and_then(|id| names.get(&id))
                    .map_or_else(|| "—".into(), |n| n.to_string()),
                filed: l
                    .case
                    .filed_on
                    .as_deref()
                    .map_or_else(|| "—".into(), |d| day(d, ctx.lang)),
                due,
                due_class,
            }
        })
        .collect();
    Ok((rows, list.total()))
}

async fn cases_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    q: &ListQuery,
    flash: Option<(String, bool)>,
    status: StatusCode,
) -> Answer {
    let mut flash = flash;
    let mut status = status;
    // A filter's error shows next to its field; anything else above the list.
    let mut error: Option<(String, String)> = None;
    let mut refuse = |e: AppError| -> Result<(), Box<Response>> {
        let f = ctx.fail(e);
        if f.status.is_server_error() || f.status == StatusCode::FORBIDDEN {
            return Err(Box::new(f.into_response()));
        }
        status = f.status;
        let msg = f.message.get(ctx.lang).to_string();
        match f.field.as_deref() {
            Some(k @ ("q" | "stage" | "lead" | "due" | "from" | "to")) => {
                error = Some((k.to_string(), msg))
            }
            _ => flash = Some((msg, true)),
        }
        Ok(())
    };
    let directory = directory(st, a).await.or_fail(ctx)?;
    let (rows, total, page) = match q.to_app() {
        Ok((cq, page)) => match list_rows(st, ctx, a, &directory, &cq, page, PER_PAGE).await {
            Ok((rows, total)) => {
                // Past the last page: the last page.
                let last = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
                if page > last {
                    let (rows, total) = list_rows(st, ctx, a, &directory, &cq, last, PER_PAGE)
                        .await
                        .or_fail(ctx)?;
                    (rows, total, last)
                } else {
                    (rows, total, page)
                }
            }
            Err(e) => {
                if let Err(r) = refuse(e) {
                    return Ok(*r);
                }
                (Vec::new(), 0, 1)
            }
        },
        Err(e) => {
            if let Err(r) = refuse(e) {
                return Ok(*r);
            }
            (Vec::new(), 0, 1)
        }
    };
    let mut ch = chrome(ctx, "/cases");
    if let Some((m, err)) = flash {
        ch = with_flash(ch, m, err);
    }
    let mut can_create = a
        .organization_id
        .is_some_and(|o| allowed(a, &Action::CreateCase { organization_id: o }));
    // A self-registered organisation applies once approved (issue 13): say so instead of
    // offering the form.
    let mut registration_notice = None;
    if let (true, Some(org)) = (can_create, a.organization_id) {
        let o = st.app.organization(a, org).await.or_fail(ctx)?;
        if o.registration != zizhi_store::organizations::APPROVED {
            can_create = false;
            registration_notice = Some(format!(
                "{}{}{}",
                ctx.lang
                    .pick("本单位注册", "Your organisation's registration is "),
                zizhi_app::registration::state_text(&o.registration).get(ctx.lang),
                ctx.lang.pick(
                    "，测评中心审核通过后方可新建申请。",
                    "; you can apply once the centre approves it."
                )
            ));
        }
    }
    let leads = directory
        .into_iter()
        .filter(|(_, _, r)| *r == Role::ProjectLead)
        .map(|(id, n, _)| (id, n))
        .collect();
    let page_view = CasesPage {
        error,
        c: ch,
        rows,
        can_create,
        registration_notice,
        is_staff: a.role.is_staff(),
        stages: Stage::ALL
            .iter()
            .filter(|s| !(a.role.is_staff() && **s == Stage::Draft))
            .map(|s| (s.as_str(), s.name().get(ctx.lang).to_string()))
            .collect(),
        leads,
        query: q.query_string(),
        q: q.clone(),
        page,
        pages: ((total + PER_PAGE - 1) / PER_PAGE).max(1),
        total,
    };
    Ok((status, render(&page_view)).into_response())
}

pub async fn cases_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(q): QueryOf<ListQuery>,
) -> Response {
    cases_page_with(&st, &ctx, &a, &q, None, StatusCode::OK)
        .await
        .into_response()
}

/// `GET /cases.xlsx`: the list as the filters give it, every matching case (up to 10 000), as
/// an Excel workbook.
pub async fn cases_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(q): QueryOf<ListQuery>,
) -> Answer {
    let (cq, _) = q.to_app().map_err(|e| ctx.fail(e))?;
    let directory = directory(&st, &a).await.or_fail(&ctx)?;
    let (rows, _) = list_rows(&st, &ctx, &a, &directory, &cq, 1, 10_000)
        .await
        .or_fail(&ctx)?;
    let lang = ctx.lang;
    let header = [
        lang.pick("编号", "Number"),
        lang.pick("申请单位", "Applicant"),
        lang.pick("级别", "Level"),
        lang.pick("类型", "Kind"),
        lang.pick("阶段", "Stage"),
        lang.pick("项目负责人", "Project lead"),
        lang.pick("建档立项日期", "Filed on"),
        lang.pick("期限", "Due"),
    ];
    let body: Vec<Vec<String>> = rows
        .into_iter()
        .map(|r| {
            vec![
                r.number, r.org, r.level, r.kind, r.stage, r.lead, r.filed, r.due,
            ]
        })
        .collect();
    let title = format!(
        "{}（{}）",
        lang.pick("申请案件", "Cases"),
        zizhi_domain::lang::date_text(st.app.clock.today(), lang)
    );
    let bytes = zizhi_app::documents::list_xlsx(lang.pick("案件", "Cases"), &title, &header, &body)
        .or_fail(&ctx)?;
    Ok(crate::views::xlsx_response("cases.xlsx", bytes))
}

#[derive(Deserialize)]
pub struct NewCaseForm {
    level: i64,
    kind: String,
}

pub async fn cases_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Form(f): Form<NewCaseForm>,
) -> Response {
    match st.app.create_case(&a, f.level, &f.kind).await {
        Ok(c) => Redirect::to(&format!("/cases/{}", c.id)).into_response(),
        Err(e) => match failure_flash(&ctx, e) {
            Ok((msg, status)) => cases_page_with(
                &st,
                &ctx,
                &a,
                &ListQuery::default(),
                Some((msg, true)),
                status,
            )
            .await
            .into_response(),
            Err(r) => *r,
        },
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CasesQuery {
    stage: Option<String>,
    page: Option<i64>,
    per_page: Option<i64>,
    after: Option<i64>,
}

pub async fn api_cases_list(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    QueryOf(q): QueryOf<CasesQuery>,
) -> Answer {
    let page = q.page.unwrap_or(1);
    let per_page = q.per_page.unwrap_or(50);
    let list = st
        .app
        .cases_page_after(&a, q.stage.as_deref(), q.after, page, per_page)
        .await
        .or_fail(&ctx)?;
    let (rows, total) = (list.listed(), list.total());
    // A full page may have more after it: where the next one starts (a keyset page).
    let next_after = rows
        .last()
        .filter(|_| rows.len() as i64 == per_page)
        .map(|l| l.case.id);
    let cases: Vec<CaseItem> = rows
        .iter()
        .map(|l| CaseItem::of(&l.case, Some(&l.org_name)))
        .collect();
    // A case takes about 420 bytes in the demo; a little more is reserved.
    let capacity = 256 + 448 * cases.len();
    Ok(crate::http::json_sized(
        &CaseListJson {
            cases,
            page,
            per_page,
            total,
            next_after,
        },
        capacity,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCaseBody {
    level: i64,
    kind: String,
}

pub async fn api_cases_create(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    JsonBody(b): JsonBody<NewCaseBody>,
) -> Answer {
    let c = st
        .app
        .create_case(&a, b.level, &b.kind)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, Json(case_json(&c))).into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(M::GET, "/cases", Authenticated, "申请案件列表", "Cases"),
            get(cases_page),
        ),
        (
            r(
                M::GET,
                "/cases.xlsx",
                Authenticated,
                "申请案件列表导出为 Excel（按所选筛选条件）",
                "The case list as Excel (with the filters chosen)",
            ),
            get(cases_xlsx),
        ),
        (
            r(
                M::POST,
                "/cases",
                Authenticated,
                "申请单位新建申请",
                "An applicant opens an application",
            ),
            post(cases_create),
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
                    (
                        "after",
                        "integer",
                        "the cases listed after the case with this id (a page's next_after): \
                         as fast deep in the list as at its top; not with page",
                    ),
                ],
            ),
            get(api_cases_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases",
                Authenticated,
                "申请单位新建申请（草稿）",
                "An applicant opens an application (draft)",
            ),
            post(api_cases_create),
        ),
    ]
}
