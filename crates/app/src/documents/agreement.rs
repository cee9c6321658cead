//! The standard delegation agreement (制式委托协议, guide 5.3): one template, filled from the
//! case and the fee fixed when the agreement is sent. The same document is attached to the
//! e-mail that sends it (in Chinese) and shown as a printable page (in the reader's language).

use askama::Template;
use zizhi_domain::assess::{FeeReport, Report};
use zizhi_domain::case::Transition;
use zizhi_domain::lang::{Lang, date_text, qualification_text};
use zizhi_domain::money::Cny;
use zizhi_store::cases::CaseRow;

use crate::policy::Actor;
use crate::{App, AppError, Result};

/// A letter's table: header and rows.
pub type LetterTable = (Vec<String>, Vec<Vec<String>>);

/// The document's style: inline in the e-mailed file, served as `/static/agreement.css` for the
/// page (whose Content-Security-Policy allows no inline styles).
pub const AGREEMENT_CSS: &str = include_str!("../../templates/agreement.css");

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

    /// The agreement as a letter (the PDF kept with the case and e-mailed): reference line,
    /// clauses and the fee table, in Chinese.
    pub fn as_letter(&self) -> (String, Vec<String>, LetterTable) {
        let reference = format!("协议编号：{} · 案件编号：{}", self.number, self.case_number);
        let clauses = vec![
            format!("委托方（甲方）：{}（统一社会信用代码 {}）", self.org, self.uscc),
            "受托方（乙方）：中国信息安全测评中心".to_string(),
            format!("一、委托事项：甲方委托乙方对其开展信息安全服务资质认定（{}）评估，申请类型为{}。", self.level, self.kind),
            "二、委托测评费用（依据收费标准，指南第九章）见下表。".to_string(),
            "三、本协议经乙方合同管理审批生效，甲方支付委托测评费用后，项目进入评估阶段（指南 5.3）。".to_string(),
            "四、项目实施周期原则上为三个月，最长不超过六个月，不含补充资料、协议审批生效及支付费用的时间（指南九.3）。".to_string(),
            "五、甲方保证所提交资料真实、准确、完整；乙方对甲方资料负有保密义务。".to_string(),
            "六、甲方在本协议上加盖公章后寄回乙方；本协议一式两份，双方各执一份。".to_string(),
        ];
        let table = (
            vec!["费用项目".to_string(), "金额".to_string()],
            vec![
                vec!["审核费用".to_string(), self.audit.clone()],
                vec!["三年年金".to_string(), self.annual.clone()],
                vec!["合计".to_string(), self.total.clone()],
            ],
        );
        (reference, clauses, table)
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
    assessment: &Report,
    sent_on: &str,
    lang: Lang,
    back: Option<String>,
) -> Result<AgreementDoc> {
    let (Some(number), Some(fee_fen)) = (c.agreement_no.clone(), c.fee_fen) else {
        return Err(AppError::NotFound("agreement"));
    };
    let money = |f: fn(&FeeReport) -> Cny| {
        assessment
            .fee
            .as_ref()
            .map(|x| f(x).display(lang))
            .unwrap_or_default()
    };
    let level = u8::try_from(c.level).unwrap_or(0);
    Ok(AgreementDoc {
        zh: lang == Lang::Zh,
        css: AGREEMENT_CSS,
        back,
        number,
        case_number: crate::cases::case_number(c),
        org: assessment.organization.clone(),
        uscc: assessment.uscc.clone(),
        level: qualification_text(level).get(lang).to_string(),
        kind: assessment.application_kind.name().get(lang).to_string(),
        audit: money(|f| f.audit_cny.0),
        annual: money(|f| f.annual_cny.0),
        total: Cny::from_fen(fee_fen).display(lang),
        date: sent_on.to_string(),
    })
}

impl App {
    /// `/cases/{id}/agreement`: the agreement as sent, in the reader's language, for whoever
    /// may see the case.
    pub async fn agreement_html(&self, actor: &Actor, id: i64, lang: Lang) -> Result<String> {
        let d = self.case(actor, id).await?;
        let report = crate::cases::agreement::last_report(self, id).await?;
        let sent = d
            .transitions
            .iter()
            .rev()
            .find(|t| t.transition == Transition::SendAgreement.as_str())
            .and_then(|t| chrono::DateTime::from_timestamp_micros(t.at_us))
            .map_or(String::new(), |t| {
                date_text(
                    t.with_timezone(&zizhi_domain::period::china_standard_time())
                        .date_naive(),
                    lang,
                )
            });
        agreement(&d.case, &report, &sent, lang, Some(format!("/cases/{id}")))?.html()
    }
}
