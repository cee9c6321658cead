//! The public register (issue 10, guide 5.5 — the centre announces each holder): search by holder
//! name, USCC or certificate number, filter by level, status (有效/暂停/撤销/过期) and year of
//! issue; the same as JSON at `/api/v1/registry`. It is the home page of anyone not signed in.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};
use serde::Deserialize;
use zizhi_app::cases::certification::RegistryQuery;
use zizhi_domain::lang::{Lang, date_str_text, level_zh};

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::QueryOf;
use crate::routes::{Access, RouteSpec, r, with_query};
use crate::views::{Chrome, chrome, render};

/// The register's words for a status.
pub(crate) fn status_name(s: &str, lang: Lang) -> &'static str {
    match (s, lang) {
        ("valid", Lang::Zh) => "有效",
        ("suspended", Lang::Zh) => "暂停",
        ("revoked", Lang::Zh) => "撤销",
        ("expired", Lang::Zh) => "过期",
        ("valid", Lang::En) => "valid",
        ("suspended", Lang::En) => "suspended",
        ("revoked", Lang::En) => "revoked",
        ("expired", Lang::En) => "expired",
        _ => "—",
    }
}

#[derive(Deserialize, Default)]
pub struct RegistryParams {
    #[serde(default)]
    q: String,
    /// Empty in a form means "any".
    #[serde(default)]
    level: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    year: String,
    page: Option<i64>,
}

impl RegistryParams {
    /// The query, with the field named when a number does not parse.
    fn query(&self) -> Result<RegistryQuery, zizhi_app::AppError> {
        let num = |field: &str, v: &str| -> Result<Option<i64>, zizhi_app::AppError> {
            let v = v.trim();
            if v.is_empty() {
                return Ok(None);
            }
            v.parse().map(Some).map_err(|_| {
                zizhi_app::AppError::invalid(
                    field,
                    format!("“{v}”不是数字"),
                    format!("\"{v}\" is not a number"),
                )
            })
        };
        Ok(RegistryQuery {
            q: self.q.clone(),
            level: num("level", &self.level)?,
            status: Some(self.status.trim().to_string()).filter(|s| !s.is_empty()),
            year: num("year", &self.year)?,
            page: self.page.unwrap_or(1),
        })
    }
}

pub struct Row {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub level: String,
    pub issued_on: String,
    pub valid_until: String,
    pub status: &'static str,
    pub status_code: &'static str,
}

#[derive(Template)]
#[template(path = "registry.html")]
struct RegistryPage {
    c: Chrome,
    q: String,
    level: String,
    status: String,
    year: String,
    rows: Vec<Row>,
    page: i64,
    has_next: bool,
    searched: bool,
    error: Option<String>,
    /// The query string without `page` (for the paging links).
    base: String,
}

pub(crate) async fn registry_page_for(st: &AppState, ctx: &Ctx, p: RegistryParams) -> Response {
    let lang = ctx.lang;
    let result = match p.query() {
        Ok(q) => st.app.registry(&q).await,
        Err(e) => Err(e),
    };
    let (rows, page, has_next, error) = match result {
        Ok(r) => (
            r.certificates()
                .map(|(c, s)| Row {
                    level: match lang {
                        Lang::Zh => level_zh(u8::try_from(c.level).unwrap_or(0)),
                        Lang::En => format!("level {}", c.level),
                    },
                    issued_on: date_str_text(&c.issued_on, lang),
                    valid_until: date_str_text(&c.valid_until, lang),
                    status: status_name(s, lang),
                    status_code: s,
                    number: c.number.clone(),
                    holder: c.holder.clone(),
                    uscc: c.uscc.clone(),
                })
                .collect(),
            r.page,
            r.has_next,
            None,
        ),
        Err(zizhi_app::AppError::Invalid { field, problem }) => (
            Vec::new(),
            1,
            false,
            Some(crate::views::flash_text(
                Some(&field),
                problem.get(lang),
                lang,
            )),
        ),
        Err(e) => return ctx.fail(e).into_response(),
    };
    let base: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("q", &p.q)
        .append_pair("level", &p.level)
        .append_pair("status", &p.status)
        .append_pair("year", &p.year)
        .finish();
    let status = if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let page = RegistryPage {
        c: chrome(ctx, "/registry"),
        searched: !(p.q.is_empty()
            && p.level.is_empty()
            && p.status.is_empty()
            && p.year.is_empty()),
        q: p.q,
        level: p.level,
        status: p.status,
        year: p.year,
        rows,
        page,
        has_next,
        error,
        base,
    };
    (status, render(&page)).into_response()
}

/// `GET /registry`: the public register.
pub async fn registry_page(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(p): QueryOf<RegistryParams>,
) -> Response {
    registry_page_for(&st, &ctx, p).await
}

/// `GET /registry.xlsx`: every certificate the search finds (up to 10 000) as a workbook.
pub async fn registry_xlsx(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(p): QueryOf<RegistryParams>,
) -> Answer {
    let q = p.query().or_fail(&ctx)?;
    let rows = st.app.registry_export(&q).await.or_fail(&ctx)?;
    let lang = ctx.lang;
    let body: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(c, s)| {
            vec![
                c.number,
                c.holder,
                c.uscc,
                match lang {
                    Lang::Zh => level_zh(u8::try_from(c.level).unwrap_or(0)),
                    Lang::En => format!("level {}", c.level),
                },
                c.issued_on,
                c.valid_until,
                status_name(s, lang).to_string(),
            ]
        })
        .collect();
    let header = [
        lang.pick("证书编号", "Certificate number"),
        lang.pick("单位名称", "Holder"),
        lang.pick("统一社会信用代码", "USCC"),
        lang.pick("级别", "Level"),
        lang.pick("发证日期", "Issued on"),
        lang.pick("有效期至", "Valid until"),
        lang.pick("状态", "Status"),
    ];
    let bytes = zizhi_app::documents::list_xlsx(
        lang.pick("证书", "Certificates"),
        lang.pick(
            "信息安全服务资质证书名录（灾难恢复类）",
            "Register of certificates (disaster recovery)",
        ),
        &header,
        &body,
    )
    .or_fail(&ctx)?;
    Ok(crate::views::xlsx_response("certificates.xlsx", bytes))
}

/// `GET /api/v1/registry`: the same as JSON.
pub async fn api_registry(
    State(st): State<AppState>,
    ctx: Ctx,
    QueryOf(p): QueryOf<RegistryParams>,
) -> Answer {
    let q = p.query().or_fail(&ctx)?;
    let r = st.app.registry(&q).await.or_fail(&ctx)?;
    Ok(Json(RegistryJson {
        has_next: r.has_next,
        items: r
            .certificates()
            .map(|(c, status)| crate::certificates::verify::CertificateJson::of(c, status))
            .collect(),
        page: r.page,
        per_page: r.per_page,
    })
    .into_response())
}

/// A page of the register as the API shows it, serialised straight from the rows (issue 14:
/// through a `Value`, each certificate became a map again; a page of 50 spent a tenth of its
/// CPU building and dropping them). The keys in the order a `Value` map wrote them.
#[derive(serde::Serialize)]
struct RegistryJson<'a> {
    has_next: bool,
    items: Vec<crate::certificates::verify::CertificateJson<'a>>,
    page: i64,
    per_page: i64,
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    const QUERY: &[(&str, &str, &str)] = &[
        (
            "q",
            "string",
            "a certificate number or USCC, or part of the holder's name",
        ),
        ("level", "string", "1–5 (empty: any)"),
        (
            "status",
            "string",
            "valid, suspended, revoked or expired (empty: any)",
        ),
        ("year", "string", "year of issue, e.g. 2026 (empty: any)"),
        ("page", "integer", "page number from 1 (50 a page)"),
    ];
    vec![
        (
            with_query(
                r(
                    M::GET,
                    "/registry",
                    Public,
                    "资质证书公开名录",
                    "The public register of certificates",
                ),
                QUERY,
            ),
            get(registry_page),
        ),
        (
            with_query(
                r(
                    M::GET,
                    "/registry.xlsx",
                    Public,
                    "资质证书公开名录导出为 Excel（按检索条件）",
                    "The public register as Excel (with the search given)",
                ),
                QUERY,
            ),
            get(registry_xlsx),
        ),
        (
            with_query(
                r(
                    M::GET,
                    "/api/v1/registry",
                    Public,
                    "资质证书公开名录（检索）",
                    "Search the public register",
                ),
                QUERY,
            ),
            get(api_registry),
        ),
    ]
}
