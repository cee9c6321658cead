//! Case pages and their API: one file per stage of the guide, each with its page and API
//! handlers and its route rows. Shared here: the labels and the way back to the case page.

pub mod acceptance;
pub mod agreement;
pub mod appeals;
pub mod archive;
pub mod banner;
pub mod dashboard;
pub mod evaluation;
pub mod json;
pub mod letters;
pub mod list;
pub mod page;
pub mod panel;
pub mod portal;
pub mod print;
pub mod transitions;
pub mod view;

use crate::AppState;
use crate::cases::page::case_page_with;
use crate::cases::view::Entered;
use crate::http::ctx::Ctx;
use crate::views::failure_flash;
use axum::response::{IntoResponse, Redirect, Response};
use zizhi_app::{Actor, AppError};
use zizhi_domain::case::Stage;
use zizhi_domain::clock::Due;
use zizhi_domain::lang::Lang;

pub(crate) fn kind_name(kind: &str, lang: Lang) -> String {
    zizhi_domain::fees::ApplicationKind::parse(kind)
        .map_or(kind.to_string(), |k| k.name().get(lang).to_string())
}

pub(crate) fn level_name(level: i32, lang: Lang) -> String {
    let l = u8::try_from(level).unwrap_or(0);
    zizhi_domain::lang::qualification_text(l)
        .get(lang)
        .to_string()
}

pub(crate) fn stage_name(stage: &str, lang: Lang) -> String {
    Stage::parse(stage).map_or(stage.to_string(), |s| s.name().get(lang).to_string())
}

pub(crate) fn day(s: &str, lang: Lang) -> String {
    zizhi_domain::lang::date_str_text(s, lang)
}

pub(crate) fn due_text(d: Due, lang: Lang) -> String {
    match (d, lang) {
        (Due::Ok(n), Lang::Zh) => format!("剩余 {n} 天"),
        (Due::Ok(n), Lang::En) => format!("{n} days left"),
        (Due::Warning(n), Lang::Zh) => format!("⚠ 仅剩 {n} 天"),
        (Due::Warning(n), Lang::En) => format!("⚠ only {n} days left"),
        (Due::Overdue(n), Lang::Zh) => format!("已超期 {n} 天"),
        (Due::Overdue(n), Lang::En) => format!("overdue by {n} days"),
        (Due::Met, Lang::Zh) => "已按期完成".into(),
        (Due::Met, Lang::En) => "met".into(),
    }
}

/// `a（b）` in Chinese, `a (b)` in English.
pub(crate) fn paren(a: String, b: String, lang: Lang) -> String {
    match lang {
        Lang::Zh => format!("{a}（{b}）"),
        Lang::En => format!("{a} ({b})"),
    }
}

pub(crate) fn due_class(d: Due) -> &'static str {
    match d {
        Due::Overdue(_) => "bad",
        Due::Warning(_) => "warn",
        _ => "",
    }
}

/// After a form on the case page: back to the case, or the case again with the error.
pub(crate) async fn back(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    r: Result<(), AppError>,
    anchor: &str,
    entered: Option<&Entered>,
) -> Response {
    match r {
        Ok(()) => Redirect::to(&format!("/cases/{id}{anchor}")).into_response(),
        Err(e) => match failure_flash(ctx, e) {
            Ok((msg, status)) => {
                case_page_with(st, ctx, a, id, Some((msg, true)), status, entered).await
            }
            Err(r) => *r,
        },
    }
}

/// The ids of a repeated form field (checkboxes).
pub(crate) fn form_ids(pairs: &[(String, String)], key: &str) -> Vec<i64> {
    pairs
        .iter()
        .filter(|(k, _)| k == key)
        .filter_map(|(_, v)| v.parse().ok())
        .collect()
}

pub(crate) fn evidence_list(s: &str) -> Result<Vec<i64>, AppError> {
    s.split([',', '，', ' '])
        .filter(|x| !x.trim().is_empty())
        .map(|x| {
            x.trim().parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "evidence_ids",
                    "证据编号应为以逗号分隔的数字",
                    "evidence ids must be numbers separated by commas",
                )
            })
        })
        .collect()
}
