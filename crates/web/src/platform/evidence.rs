//! Evidence upload and download, streamed: the body is never held in memory.

use crate::AppState;
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, Path, QueryOf};
use crate::routes::{Access, RouteSpec, r, streaming};
use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use futures_util::StreamExt;
use serde_json::json;
use zizhi_app::AppError;
use zizhi_app::policy::Action;
use zizhi_store::evidence::Evidence;

pub fn evidence_json(e: &Evidence) -> serde_json::Value {
    json!({
        "id": e.id, "organization_id": e.organization_id, "name": e.original_name,
        "media_type": e.media_type, "size": e.size, "sha256": e.sha256, "sm3": e.sm3,
        "uploaded_by": e.uploaded_by, "uploaded_us": e.uploaded_us,
        "download": format!("/api/v1/evidence/{}", e.id),
    })
}

/// `X-File-Name`, percent-decoded (UTF-8 names travel percent-encoded in a header).
fn file_name(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get("x-file-name")?.to_str().ok()?;
    let bytes: Vec<u8> = percent_decode(raw.as_bytes());
    String::from_utf8(bytes).ok()
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == b'%'
            && i + 2 < s.len()
            && let Ok(b) =
                u8::from_str_radix(std::str::from_utf8(&s[i + 1..i + 3]).unwrap_or("zz"), 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(s[i]);
        i += 1;
    }
    out
}

/// `POST /api/v1/organizations/{id}/evidence`: the raw body is the file; `Content-Type` its
/// media type; `X-File-Name` its (percent-encoded) name.
pub async fn upload_raw(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org): Path<i64>,
    req: Request,
) -> Answer {
    let mut upload = match st.app.begin_evidence(&a, org).await {
        Ok(u) => u,
        Err(e) => return Err(ctx.fail(e)),
    };
    let headers = req.headers().clone();
    let Some(name) = file_name(&headers) else {
        return Err(ctx.fail(AppError::invalid(
            "X-File-Name",
            "缺少 X-File-Name 请求头（文件名，UTF-8 百分号编码）",
            "missing the X-File-Name header (the file name, percent-encoded UTF-8)",
        )));
    };
    let mut stream = req.into_body().into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            // The client went away: the partial file is removed when `upload` drops.
            Err(_) => return Ok(StatusCode::BAD_REQUEST.into_response()),
        };
        if let Err(e) = st.app.write_evidence_bytes(&mut upload, chunk).await {
            return Err(ctx.fail(e));
        }
    }
    let media_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let ev = st
        .app
        .finish_evidence(&a, org, upload, &name, media_type)
        .await
        .or_fail(&ctx)?;
    Ok((StatusCode::CREATED, axum::Json(evidence_json(&ev))).into_response())
}

#[derive(serde::Deserialize)]
pub struct UploadTarget {
    #[serde(default)]
    csrf: String,
    /// With `requirement`: file the upload against this case's requirement (the portal).
    case: Option<i64>,
    requirement: Option<String>,
}

/// `POST /organizations/{id}/evidence`: a multipart form from the organisation page or the
/// case portal (its CSRF token travels in the query string; `case` and `requirement` file the
/// upload against a requirement). Authorised before the body is read. From the portal, a
/// refusal (no file, an empty file) comes back on the case page with the message, and a
/// success returns there saying what was filed where.
pub async fn upload_form(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(org): Path<i64>,
    QueryOf(target): QueryOf<UploadTarget>,
    req: Request,
) -> Answer {
    let _ = &target.csrf;
    if let Err(e) = st.app.authorize(
        &a,
        &Action::UploadEvidence {
            organization_id: org,
        },
    ) {
        return Err(ctx.fail(e));
    }
    let received = receive(&st, &a, org, &target, req).await;
    match (received, target.case, target.requirement.as_deref()) {
        (Ok(last), Some(case), Some(r)) => Ok(axum::response::Redirect::to(&format!(
            "/cases/{case}?uploaded={last}#req-{}",
            form_urlencoded::byte_serialize(r.as_bytes()).collect::<String>()
        ))
        .into_response()),
        (Ok(_), _, _) => {
            Ok(axum::response::Redirect::to(&format!("/organizations/{org}")).into_response())
        }
        (Err(e), Some(case), Some(_)) => match crate::views::failure_flash(&ctx, e) {
            Ok((msg, status)) => Ok(crate::cases::page::case_page_with(
                &st,
                &ctx,
                &a,
                case,
                Some((msg, true)),
                status,
                None,
            )
            .await),
            Err(resp) => Ok(*resp),
        },
        (Err(e), _, _) => Err(ctx.fail(e)),
    }
}

/// Stores every file of the form (and files it against the target requirement); the id of
/// the last one stored.
async fn receive(
    st: &AppState,
    a: &zizhi_app::Actor,
    org: i64,
    target: &UploadTarget,
    req: Request,
) -> Result<i64, AppError> {
    let no_file = || AppError::invalid("file", "请选择要上传的文件", "choose a file to upload");
    let broken = || {
        AppError::invalid(
            "file",
            "上传未完成（连接中断或表单不完整），请重新上传",
            "the upload did not complete (connection lost or form incomplete); upload again",
        )
    };
    let mut mp = Multipart::from_request(req, st)
        .await
        .map_err(|_| no_file())?;
    let mut last = None;
    while let Some(mut field) = mp.next_field().await.map_err(|_| broken())? {
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_string();
        // A form sent without choosing a file carries an unnamed, empty part: no file.
        if name.is_empty() {
            continue;
        }
        let media_type = field.content_type().map(str::to_string);
        let mut upload = st.app.begin_evidence(a, org).await?;
        while let Some(c) = field.chunk().await.map_err(|_| broken())? {
            st.app.write_evidence_bytes(&mut upload, c).await?;
        }
        let ev = st
            .app
            .finish_evidence(a, org, upload, &name, media_type.as_deref())
            .await?;
        if let (Some(case), Some(req_id)) = (target.case, target.requirement.as_deref()) {
            st.app.link_case_evidence(a, case, req_id, ev.id).await?;
        }
        last = Some(ev.id);
    }
    last.ok_or_else(no_file)
}

pub async fn list(State(st): State<AppState>, ctx: Ctx, Me(a): Me, Path(org): Path<i64>) -> Answer {
    let list = st.app.list_evidence(&a, org).await.or_fail(&ctx)?;
    Ok(
        axum::Json(json!({"evidence": list.iter().map(evidence_json).collect::<Vec<_>>()}))
            .into_response(),
    )
}

/// Downloads after re-checking the hash; streamed in 256 KiB reads.
pub async fn download(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let (ev, bytes) = match st.app.open_evidence(&a, id).await {
        Ok(x) => x,
        Err(e) => return Err(ctx.fail(e)),
    };
    let stream = bytes.map(|r| r.map(Bytes::from));
    let ascii: String = ev
        .original_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = form_urlencoded::byte_serialize(ev.original_name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&ev.media_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(ev.size as u64));
    if let Ok(v) = HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    )) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&ev.sha256) {
        h.insert("x-content-sha256", v);
    }
    if let Ok(v) = HeaderValue::from_str(&ev.sm3) {
        h.insert("x-content-sm3", v);
    }
    Ok(res)
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            streaming(r(
                M::POST,
                "/organizations/{id}/evidence",
                Authenticated,
                "上传证据（表单）",
                "Upload evidence (form)",
            )),
            post(upload_form),
        ),
        (
            streaming(r(
                M::GET,
                "/evidence/{id}",
                Authenticated,
                "下载证据（校验哈希）",
                "Download evidence (hash re-checked)",
            )),
            get(download),
        ),
        (
            r(
                M::GET,
                "/api/v1/organizations/{id}/evidence",
                Authenticated,
                "申请单位的证据列表",
                "An organisation's evidence",
            ),
            get(list),
        ),
        (
            streaming(r(
                M::POST,
                "/api/v1/organizations/{id}/evidence",
                Authenticated,
                "上传证据：请求体即文件，X-File-Name 为文件名",
                "Upload evidence: the body is the file, X-File-Name its name",
            )),
            post(upload_raw),
        ),
        (
            streaming(r(
                M::GET,
                "/api/v1/evidence/{id}",
                Authenticated,
                "下载证据（校验哈希）",
                "Download evidence (hash re-checked)",
            )),
            get(download),
        ),
    ]
}
