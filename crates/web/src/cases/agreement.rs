//! The delegation agreement as a printable page (5.3).

use crate::AppState;
use crate::cases::back;
use crate::cases::view::Entered;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Form, JsonBody, Me, Path};
use crate::routes::{Access, RouteSpec, r};
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use serde_json::json;
use zizhi_app::AppError;
use zizhi_domain::lang::Text;
use zizhi_domain::money::Cny;

#[derive(Deserialize, Default)]
pub struct PaymentForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    paid_on: String,
    #[serde(default)]
    voucher_no: String,
    #[serde(default)]
    note: String,
}

fn confirm_payment() -> zizhi_app::policy::CaseAction {
    zizhi_app::policy::CaseAction::Transition(zizhi_domain::case::Transition::ConfirmPayment)
}

/// Reads a payment's amount and day as typed (87,000.00 / 8.7万 / 2026-12-04).
fn read_payment(
    amount: &str,
    paid_on: &str,
) -> (Result<Cny, Text>, Result<chrono::NaiveDate, Text>) {
    let amount = if amount.trim().is_empty() {
        Err(Text::new("请填写收款金额", "enter the amount received"))
    } else {
        Cny::parse_typed(amount).map_err(|e| e.text())
    };
    let day = zizhi_domain::calendar::parse_date(paid_on.trim()).ok_or_else(|| {
        Text::new(
            "请填写付款日期（如 2026-12-04）",
            "enter the day it was paid (e.g. 2026-12-04)",
        )
    });
    (amount, day)
}

/// `POST /cases/{id}/payments`: contract & finance record a payment of the fee (5.3): the
/// amount (with separators or in 万元), the day and the voucher number. Payment is confirmed
/// once the payments reach the agreement's fee; a difference is flagged on the case.
pub async fn case_payment(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    Form(f): Form<PaymentForm>,
) -> Response {
    // Who may, before what was typed is read.
    if let Err(e) = st.app.authorize_on_case(&a, id, confirm_payment()).await {
        return ctx.fail(e).into_response();
    }
    let mut form: Entered = [
        ("form", "payment"),
        ("amount", f.amount.as_str()),
        ("paid_on", f.paid_on.as_str()),
        ("voucher_no", f.voucher_no.as_str()),
        ("note", f.note.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let (amount, day) = read_payment(&f.amount, &f.paid_on);
    let mut errors: Vec<(&str, Text)> = Vec::new();
    if let Err(t) = &amount {
        errors.push(("amount", t.clone()));
    }
    if let Err(t) = &day {
        errors.push(("paid_on", t.clone()));
    }
    if f.voucher_no.trim().is_empty() {
        errors.push((
            "voucher_no",
            Text::new("请填写收款凭证号", "enter the payment voucher number"),
        ));
    }
    let r = match (amount, day, errors.first()) {
        (Ok(amount), Ok(day), None) => st
            .app
            .record_payment(&a, id, amount, day, &f.voucher_no, &f.note)
            .await
            .map(|_| ()),
        (_, _, Some((k, t))) => Err(AppError::invalid(k, t.zh.clone(), t.en.clone())),
        _ => Ok(()),
    };
    for (k, m) in &errors {
        form.insert(format!("error.{k}"), m.get(ctx.lang).to_string());
    }
    if let Err(AppError::Invalid { field, problem }) = &r {
        form.entry(format!("error.{field}"))
            .or_insert_with(|| problem.get(ctx.lang).to_string());
    }
    back(&st, &ctx, &a, id, r, "#payments", Some(&form)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentBody {
    /// As typed: `87000`, `87,000.00` or `8.7万`.
    amount: String,
    paid_on: String,
    voucher_no: String,
    #[serde(default)]
    note: String,
}

/// `POST /api/v1/cases/{id}/payments`
pub async fn api_case_payment(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    JsonBody(b): JsonBody<PaymentBody>,
) -> Answer {
    st.app
        .authorize_on_case(&a, id, confirm_payment())
        .await
        .or_fail(&ctx)?;
    let (amount, day) = read_payment(&b.amount, &b.paid_on);
    let amount = amount
        .map_err(|t| AppError::invalid("amount", t.zh, t.en))
        .or_fail(&ctx)?;
    let day = day
        .map_err(|t| AppError::invalid("paid_on", t.zh, t.en))
        .or_fail(&ctx)?;
    let o = st
        .app
        .record_payment(&a, id, amount, day, &b.voucher_no, &b.note)
        .await
        .or_fail(&ctx)?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "paid_fen": o.paid.fen(),
            "fee_fen": o.fee.map(Cny::fen),
            "difference_fen": o.difference_fen,
            "confirmed": o.confirmed,
        })),
    )
        .into_response())
}

/// `GET /api/v1/cases/{id}/payments`
pub async fn api_case_payments(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let list = st.app.payments(&a, id).await.or_fail(&ctx)?;
    Ok(Json(json!({"payments": list.iter().map(|p| json!({
        "id": p.id, "amount_fen": p.amount_fen, "expected_fen": p.expected_fen,
        "paid_on": p.paid_on, "voucher_no": p.voucher_no,
        "recorded_by": p.recorded_by, "recorded_us": p.recorded_us,
    })).collect::<Vec<_>>()}))
    .into_response())
}

/// `GET /cases/{id}/agreement`: the standard delegation agreement (制式委托协议, 5.3), filled
/// from the case, the fee fixed when it was sent: the document attached to the e-mail, in the
/// reader's language, printable. Staff and the applicant.
pub async fn agreement_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Response {
    match st.app.agreement_html(&a, id, ctx.lang).await {
        Ok(html) => axum::response::Html(html).into_response(),
        Err(e) => ctx.fail(e).into_response(),
    }
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/cases/{id}/agreement",
                Authenticated,
                "委托协议（可打印）",
                "The delegation agreement (printable)",
            ),
            get(agreement_page),
        ),
        (
            r(
                M::POST,
                "/cases/{id}/payments",
                Authenticated,
                "合同财务登记收款（金额、付款日期、凭证号）",
                "Contract & finance record a payment (amount, day, voucher)",
            ),
            post(case_payment),
        ),
        (
            r(
                M::POST,
                "/api/v1/cases/{id}/payments",
                Authenticated,
                "登记收款；付清委托测评费用时确认收款（5.3）",
                "Record a payment; payment is confirmed once the fee is paid (5.3)",
            ),
            post(api_case_payment),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}/payments",
                Authenticated,
                "案件的收款记录",
                "A case's payments",
            ),
            get(api_case_payments),
        ),
    ]
}
