//! 公告 (issue 10, guide 5.5): the list and each announcement (public once published; staff see
//! drafts and the approver approves), an Atom 1.0 feed, and the official-account article as one
//! self-contained HTML file with inline styles, ready to paste.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};
use serde_json::json;
use zizhi_app::announcements::Announcement;
use zizhi_domain::lang::{Lang, date_str_text, level_zh};

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render, with_flash};

/// XML and HTML text escaping.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

pub struct ItemRow {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub level: String,
    pub validity: String,
}

pub struct AnnouncementView {
    pub id: i64,
    pub title: String,
    pub published: Option<String>,
    pub items: Vec<ItemRow>,
}

fn view_of(a: &Announcement, lang: Lang) -> AnnouncementView {
    AnnouncementView {
        id: a.id,
        title: match lang {
            Lang::Zh => a.title_zh(),
            Lang::En => a.title_en(),
        },
        published: a.published_on.as_deref().map(|d| date_str_text(d, lang)),
        items: a
            .items
            .iter()
            .map(|i| ItemRow {
                number: i.number.clone(),
                holder: i.holder.clone(),
                uscc: i.uscc.clone(),
                level: match lang {
                    Lang::Zh => {
                        format!("灾难恢复类{}", level_zh(u8::try_from(i.level).unwrap_or(0)))
                    }
                    Lang::En => format!("disaster recovery, level {}", i.level),
                },
                validity: format!(
                    "{} – {}",
                    date_str_text(&i.issued_on, lang),
                    date_str_text(&i.valid_until, lang)
                ),
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "announcements.html")]
struct ListPage {
    c: Chrome,
    list: Vec<AnnouncementView>,
    /// One announcement shown in full (its own page).
    single: bool,
    may_approve: bool,
}

fn may_approve(ctx: &Ctx) -> bool {
    ctx.actor
        .as_ref()
        .is_some_and(|a| a.role == zizhi_domain::roles::Role::Approver)
}

/// `GET /announcements`.
pub async fn list_page(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let list = st
        .app
        .announcements(ctx.actor.as_ref())
        .await
        .or_fail(&ctx)?;
    let page = ListPage {
        c: chrome(&ctx, "/announcements"),
        list: list.iter().map(|a| view_of(a, ctx.lang)).collect(),
        single: false,
        may_approve: may_approve(&ctx),
    };
    Ok(render(&page).into_response())
}

/// `GET /announcements/{id}`.
pub async fn one_page(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = st
        .app
        .announcement(ctx.actor.as_ref(), id)
        .await
        .or_fail(&ctx)?;
    let page = ListPage {
        c: chrome(&ctx, &format!("/announcements/{id}")),
        list: vec![view_of(&a, ctx.lang)],
        single: true,
        may_approve: may_approve(&ctx),
    };
    Ok(render(&page).into_response())
}

/// `POST /announcements/{id}/approve`: the approver publishes it.
pub async fn approve_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    match st.app.approve_announcement(&a, id).await {
        Ok(_) => Redirect::to(&format!("/announcements/{id}")).into_response(),
        Err(e) => match crate::views::failure_flash(&ctx, e) {
            Ok((msg, status)) => {
                let list = st.app.announcements(Some(&a)).await.unwrap_or_default();
                let page = ListPage {
                    c: with_flash(chrome(&ctx, "/announcements"), msg, true),
                    list: list.iter().map(|x| view_of(x, ctx.lang)).collect(),
                    single: false,
                    may_approve: may_approve(&ctx),
                };
                (status, render(&page)).into_response()
            }
            Err(r) => *r,
        },
    }
}

fn json_of(a: &Announcement) -> serde_json::Value {
    json!({
        "id": a.id, "batch_id": a.batch_id, "title": a.title_zh(),
        "published_on": a.published_on, "items": a.items,
    })
}

/// `GET /api/v1/announcements`: published announcements (staff: drafts too).
pub async fn api_list(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let list = st
        .app
        .announcements(ctx.actor.as_ref())
        .await
        .or_fail(&ctx)?;
    Ok(Json(json!({"items": list.iter().map(json_of).collect::<Vec<_>>()})).into_response())
}

/// `POST /api/v1/announcements/{id}/approve`.
pub async fn api_approve(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let x = st.app.approve_announcement(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json_of(&x)).into_response())
}

/// `GET /announcements.atom`: the published announcements as an Atom 1.0 feed.
pub async fn atom(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let list = st.app.announcements(None).await.or_fail(&ctx)?;
    let base = st
        .app
        .documents
        .public_url
        .trim_end_matches('/')
        .to_string();
    let centre = esc(&st.app.documents.centre_name);
    let stamp = |d: &str| format!("{d}T00:00:00+08:00");
    let updated = list
        .iter()
        .filter_map(|a| a.published_on.as_deref())
        .max()
        .map_or_else(|| "2026-01-01T00:00:00+08:00".to_string(), stamp);
    let mut xml = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"zh-CN\">\n  <title>信息安全服务资质认定公告</title>\n  <id>{base}/announcements</id>\n  <updated>{updated}</updated>\n  <link rel=\"self\" href=\"{base}/announcements.atom\"/>\n  <link rel=\"alternate\" type=\"text/html\" href=\"{base}/announcements\"/>\n  <author><name>{centre}</name></author>\n"
    );
    for a in list.iter().filter(|a| a.published_on.is_some()) {
        let v = view_of(a, Lang::Zh);
        let mut table = String::from(
            "<table><tr><th>证书编号</th><th>单位名称</th><th>统一社会信用代码</th><th>资质类别与级别</th><th>有效期</th></tr>",
        );
        for i in &v.items {
            table.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&i.number),
                esc(&i.holder),
                esc(&i.uscc),
                esc(&i.level),
                esc(&i.validity)
            ));
        }
        table.push_str("</table>");
        let holders: Vec<&str> = a.items.iter().map(|i| i.holder.as_str()).collect();
        xml.push_str(&format!(
            "  <entry>\n    <title>{}</title>\n    <id>{base}/announcements/{}</id>\n    <updated>{}</updated>\n    <published>{}</published>\n    <link rel=\"alternate\" type=\"text/html\" href=\"{base}/announcements/{}\"/>\n    <summary type=\"text\">{}</summary>\n    <content type=\"html\">{}</content>\n  </entry>\n",
            esc(&a.title_zh()),
            a.id,
            stamp(a.published_on.as_deref().unwrap_or_default()),
            stamp(a.published_on.as_deref().unwrap_or_default()),
            a.id,
            esc(&format!("以下 {} 家单位获得信息安全服务资质证书：{}", holders.len(), holders.join("、"))),
            esc(&table)
        ));
    }
    xml.push_str("</feed>\n");
    Ok((
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        xml,
    )
        .into_response())
}

/// `GET /announcements/{id}/article.html`: the official-account article, one self-contained
/// HTML file with inline styles (no scripts, no external files), ready to paste.
pub async fn article(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let a = st
        .app
        .announcement(ctx.actor.as_ref(), id)
        .await
        .or_fail(&ctx)?;
    let v = view_of(&a, Lang::Zh);
    let td = "border:1px solid #999;padding:6px 8px;font-size:14px;";
    let mut rows = String::new();
    for i in &v.items {
        rows.push_str(&format!(
            "<tr><td style=\"{td}\">{}</td><td style=\"{td}\">{}</td><td style=\"{td}\">{}</td><td style=\"{td}\">{}</td><td style=\"{td}\">{}</td></tr>",
            esc(&i.number), esc(&i.holder), esc(&i.uscc), esc(&i.level), esc(&i.validity)
        ));
    }
    let date = v.published.clone().unwrap_or_else(|| "（待审批）".into());
    let html = format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\n<body style=\"margin:0;padding:16px;font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#222;line-height:1.7;\">\n<h1 style=\"font-size:20px;text-align:center;color:#a11c22;margin:8px 0 16px;\">{title}</h1>\n<p style=\"font-size:15px;text-indent:2em;margin:0 0 12px;\">根据《信息安全服务资质认定》有关规定，经评估与专家评审，下列 {n} 家单位获得信息安全服务资质（灾难恢复类）证书，现予公告。</p>\n<table style=\"border-collapse:collapse;width:100%;margin:8px 0 16px;\"><tr><th style=\"{td}background:#f3e9e9;\">证书编号</th><th style=\"{td}background:#f3e9e9;\">单位名称</th><th style=\"{td}background:#f3e9e9;\">统一社会信用代码</th><th style=\"{td}background:#f3e9e9;\">资质类别与级别</th><th style=\"{td}background:#f3e9e9;\">有效期</th></tr>{rows}</table>\n<p style=\"font-size:15px;margin:0 0 4px;\">证书真伪可在测评中心网站查验：{base}/registry</p>\n<p style=\"font-size:15px;text-align:right;margin:16px 0 0;\">{centre}<br>{date}</p>\n</body></html>\n",
        title = esc(&v.title),
        n = v.items.len(),
        base = esc(st.app.documents.public_url.trim_end_matches('/')),
        centre = esc(&st.app.documents.centre_name),
        date = esc(&date),
    );
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"announcement-{id}.html\""),
            ),
        ],
        html,
    )
        .into_response())
}

/// `GET /announcements/{id}/magazine.xlsx`: the list for 《中国信息安全》.
pub async fn magazine(State(st): State<AppState>, ctx: Ctx, Path(id): Path<i64>) -> Answer {
    let bytes = st
        .app
        .announcement_xlsx(ctx.actor.as_ref(), id)
        .await
        .or_fail(&ctx)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"announcement-{id}.xlsx\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(M::GET, "/announcements", Public, "公告", "Announcements"),
            get(list_page),
        ),
        (
            r(
                M::GET,
                "/announcements.atom",
                Public,
                "公告（Atom 订阅）",
                "Announcements (Atom feed)",
            ),
            get(atom),
        ),
        (
            r(
                M::GET,
                "/announcements/{id}",
                Public,
                "一则公告",
                "One announcement",
            ),
            get(one_page),
        ),
        (
            r(
                M::GET,
                "/announcements/{id}/article.html",
                Public,
                "公众号文章（单个 HTML 文件）",
                "The official-account article (one HTML file)",
            ),
            get(article),
        ),
        (
            r(
                M::GET,
                "/announcements/{id}/magazine.xlsx",
                Public,
                "《中国信息安全》刊登清单（xlsx）",
                "The list for the magazine (xlsx)",
            ),
            get(magazine),
        ),
        (
            r(
                M::POST,
                "/announcements/{id}/approve",
                Authenticated,
                "审批并发布公告",
                "Approve and publish an announcement",
            ),
            post(approve_form),
        ),
        (
            r(
                M::GET,
                "/api/v1/announcements",
                Public,
                "公告列表",
                "Announcements",
            ),
            get(api_list),
        ),
        (
            r(
                M::POST,
                "/api/v1/announcements/{id}/approve",
                Authenticated,
                "审批并发布公告",
                "Approve and publish an announcement",
            ),
            post(api_approve),
        ),
    ]
}
