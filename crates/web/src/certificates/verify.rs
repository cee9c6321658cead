//! Public verification of a certificate (`/verify/{number}`, `/api/v1/certificates/{number}`).

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, Path};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{Chrome, chrome, render};
use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use zizhi_app::AppError;
use zizhi_domain::lang::Lang;

pub struct CertView {
    pub number: String,
    pub holder: String,
    pub uscc: String,
    pub category: String,
    pub level: String,
    pub issued_on: String,
    pub valid_until: String,
    pub status: String,
    pub in_force: bool,
    /// The signed record checked against the centre's keys: Some(true) valid, Some(false)
    /// not, None no signed document.
    pub signature: Option<bool>,
    /// The certificate's status history: (date, status), oldest first.
    pub history: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    c: Chrome,
    cert: Option<CertView>,
    number: String,
}

/// `GET /verify/{number}`: anyone, without signing in (the certificate's QR code leads here).
pub async fn verify_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Response {
    let (cert, status) = match st.app.verify_certificate(&number).await {
        Ok(v) => {
            let c = v.certificate;
            let lang = ctx.lang;
            let d = |s: &str| zizhi_domain::lang::date_str_text(s, lang);
            let level = u8::try_from(c.level).unwrap_or(0);
            // A valid certificate past its last day is expired before the job marks it.
            let status_text = match (c.status.as_str(), v.in_force) {
                ("valid", false) => crate::certificates::registry::status_name("expired", lang),
                (other, _) => crate::certificates::registry::status_name(other, lang),
            }
            .to_string();
            (
                Some(CertView {
                    category: zizhi_domain::profile::Category::parse(&c.category)
                        .map_or(c.category.clone(), |x| x.name().get(lang).to_string()),
                    level: match lang {
                        Lang::Zh => zizhi_domain::lang::level_zh(level),
                        Lang::En => format!("level {level}"),
                    },
                    issued_on: d(&c.issued_on),
                    valid_until: d(&c.valid_until),
                    number: c.number,
                    holder: c.holder,
                    uscc: c.uscc,
                    status: status_text,
                    in_force: v.in_force,
                    signature: v.signature_valid,
                    history: v
                        .history
                        .iter()
                        .map(|(day, status)| {
                            (
                                d(day),
                                crate::certificates::registry::status_name(status, lang)
                                    .to_string(),
                            )
                        })
                        .collect(),
                }),
                StatusCode::OK,
            )
        }
        Err(AppError::NotFound(_)) => (None, StatusCode::NOT_FOUND),
        Err(e) => return ctx.fail(e).into_response(),
    };
    let page = VerifyPage {
        c: chrome(&ctx, &format!("/verify/{number}")),
        cert,
        number,
    };
    (status, render(&page)).into_response()
}

pub(crate) fn certificate_json(c: &zizhi_store::certificates::Certificate) -> CertificateJson<'_> {
    CertificateJson::of(c, &c.status)
}

/// A certificate as the API shows it, serialised straight from the row (issue 14: built as a
/// `Value` map, a register page of 50 spent most of its time allocating). The keys are in the
/// order a `Value` map wrote them.
#[derive(serde::Serialize)]
pub(crate) struct CertificateJson<'a> {
    category: &'a str,
    holder: &'a str,
    issued_on: &'a str,
    level: i32,
    number: &'a str,
    status: &'a str,
    uscc: &'a str,
    valid_until: &'a str,
    verify: String,
}

impl<'a> CertificateJson<'a> {
    /// With `status` as shown (the stored one, or the register's: expired after the last day).
    pub(crate) fn of(c: &'a zizhi_store::certificates::Certificate, status: &'a str) -> Self {
        CertificateJson {
            category: &c.category,
            holder: &c.holder,
            issued_on: &c.issued_on,
            level: c.level,
            number: &c.number,
            status,
            uscc: &c.uscc,
            valid_until: &c.valid_until,
            verify: format!("/verify/{}", c.number),
        }
    }
}

pub async fn api_certificate_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Path(number): Path<String>,
) -> Answer {
    #[derive(serde::Serialize)]
    struct Checked<'a> {
        #[serde(flatten)]
        certificate: CertificateJson<'a>,
        in_force: bool,
        signature_valid: Option<bool>,
        pdf: String,
    }
    let v = st.app.verify_certificate(&number).await.or_fail(&ctx)?;
    Ok(Json(Checked {
        certificate: certificate_json(&v.certificate),
        in_force: v.in_force,
        signature_valid: v.signature_valid,
        pdf: format!("/certificates/{}.pdf", v.certificate.number),
    })
    .into_response())
}

/// A PDF to show in the browser (and save as `file`), never cached by a shared cache.
pub(crate) fn pdf_response(bytes: Vec<u8>, file: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{file}\""),
            ),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response()
}

/// `GET /certificates/{number}.pdf`: the signed certificate, for its holder and centre staff.
pub async fn certificate_pdf(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(file): Path<String>,
) -> Answer {
    let Some(number) = file.strip_suffix(".pdf") else {
        return Err(ctx.fail(AppError::NotFound("certificate")));
    };
    // Only the certificate-number alphabet reaches the header.
    if !number
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(ctx.fail(AppError::NotFound("certificate")));
    }
    let bytes = st.app.certificate_pdf(&a, number).await.or_fail(&ctx)?;
    Ok(pdf_response(bytes, &file))
}

/// `GET /batches/{id}/certificates.pdf`: a batch's certificates in one PDF, for printing.
pub async fn batch_pdf(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let bytes = st.app.batch_pdf(&a, id).await.or_fail(&ctx)?;
    Ok(pdf_response(bytes, &format!("batch-{id}.pdf")))
}

/// `GET /.well-known/zizhi-signing-keys.pem`: every public key that signs certificates (SM2,
/// distinguishing id 1234567812345678), for checking a certificate PDF offline.
pub async fn signing_keys(State(st): State<AppState>, ctx: Ctx) -> Answer {
    let pem = st.app.signing_keys_pem().await.or_fail(&ctx)?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/x-pem-file; charset=utf-8",
        )],
        pem,
    )
        .into_response())
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/api/v1/certificates/{number}",
                Public,
                "公开查验证书",
                "Verify a certificate (public)",
            ),
            get(api_certificate_get),
        ),
        (
            r(
                M::GET,
                "/certificates/{file}",
                Authenticated,
                "下载证书 PDF（持证单位与测评中心人员）：/certificates/{证书编号}.pdf",
                "Download a certificate's PDF (holder and centre staff): /certificates/{number}.pdf",
            ),
            get(certificate_pdf),
        ),
        (
            r(
                M::GET,
                "/batches/{id}/certificates.pdf",
                Authenticated,
                "打印批次的全部证书（一个 PDF）",
                "Print a batch's certificates (one PDF)",
            ),
            get(batch_pdf),
        ),
        (
            r(
                M::GET,
                "/.well-known/zizhi-signing-keys.pem",
                Public,
                "证书签名公钥（SM2）",
                "Certificate signing public keys (SM2)",
            ),
            get(signing_keys),
        ),
        (
            r(
                M::GET,
                "/verify/{number}",
                Public,
                "公开查验证书页面（证书二维码指向此处）",
                "Public verification page (the certificate's QR code leads here)",
            ),
            get(verify_page),
        ),
    ]
}
