//! The standard delegation agreement (制式委托协议, guide 5.3): one template, filled from the
//! case and the fee fixed when the agreement is sent. The same document is attached to the
//! e-mail that sends it (in Chinese) and shown as a printable page (in the reader's language).

use askama::Template;
use zizhi_domain::lang::Lang;
use zizhi_domain::money::Cny;
use zizhi_store::cases::CaseRow;

use crate::{AppError, Result};

/// The document's style: inline in the e-mailed file, served as `/static/agreement.css` for the
/// page (whose Content-Security-Policy allows no inline styles).
pub const AGREEMENT_CSS: &str = include_str!("../templates/agreement.css");

#[derive(Template)]
#[template(path = "agreement.html")]
pub struct AgreementDoc {
    zh: bool,
    css: &'static str,
    /// A link back to the case (the page version only).
    back: Option<String>,
    number: String,
    case_number: String,
    org: String,
    uscc: String,
    level: String,
    kind: String,
    audit: String,
    annual: String,
    total: String,
    date: String,
}

impl AgreementDoc {
    fn p<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        if self.zh { zh } else { en }
    }

    /// The document as a standalone HTML page.
    pub fn html(&self) -> Result<String> {
        self.render()
            .map_err(|e| AppError::Internal(format!("agreement template: {e}")))
    }
}

/// The agreement of a case whose agreement was sent: `assessment` is the report of the round
/// the fee was taken from, `sent_on` the day it was sent.
pub fn agreement(
    c: &CaseRow,
    assessment: &serde_json::Value,
    sent_on: &str,
    lang: Lang,
    back: Option<String>,
) -> Result<AgreementDoc> {
    let (Some(number), Some(fee_fen)) = (c.agreement_no.clone(), c.fee_fen) else {
        return Err(AppError::NotFound("agreement"));
    };
    let fee = &assessment["fee"];
    let money = |v: &serde_json::Value| {
        v.as_i64()
            .map(|y| Cny::from_yuan(y).display(lang))
            .unwrap_or_default()
    };
    let level = u8::try_from(c.level).unwrap_or(0);
    let kind = assessment["application_kind"]
        .as_str()
        .unwrap_or(c.kind.as_str());
    Ok(AgreementDoc {
        zh: lang == Lang::Zh,
        css: AGREEMENT_CSS,
        back,
        number,
        case_number: crate::cases::case_number(c),
        org: assessment["organization"]
            .as_str()
            .unwrap_or("")
            .to_string(),
        uscc: assessment["uscc"].as_str().unwrap_or("").to_string(),
        level: match lang {
            Lang::Zh => format!("灾难恢复类{}", zizhi_domain::lang::level_zh(level)),
            Lang::En => format!("disaster recovery, level {level}"),
        },
        kind: match (kind, lang) {
            ("maintenance", Lang::Zh) => "维持申请".into(),
            ("maintenance", Lang::En) => "maintenance application".into(),
            (_, Lang::Zh) => "初次申请".into(),
            (_, Lang::En) => "initial application".into(),
        },
        audit: money(&fee["audit_cny"]),
        annual: money(&fee["annual_cny"]),
        total: Cny::from_fen(fee_fen).display(lang),
        date: sent_on.to_string(),
    })
}
