//! The formal letters of a case (issue 10; guide 5.2–5.5): 受理通知书, 补充资料通知书 (with its
//! deadline), 不予受理决定书 (naming the right of appeal, 七), 审核结论报告 (the judgement per
//! requirement and the conclusion), 专家评审意见 and 证书颁发通知. Each is made when its step is
//! taken, as a PDF on the centre's letterhead with the case number, the date and the name of
//! whoever signed it; it is kept in the evidence store by its hashes and never changed (a
//! correction is a new letter). Made after the step's transaction: a letter that cannot be made
//! (fonts missing) is logged and the step stands.

use serde_json::json;
use sm3::Digest;
use zizhi_docs::letter::LetterDoc;
use zizhi_domain::case::Transition;
use zizhi_domain::lang::{Lang, date_str_text, date_text, qualification_text};
use zizhi_store::cases::CaseRow;
use zizhi_store::letters::{self as store, Letter};

use crate::policy::Actor;
use crate::{App, AppError, Result};

/// A letter's content, composed by the step that issues it.
pub(crate) struct LetterText {
    pub kind: &'static str,
    pub title: &'static str,
    /// The line under the title (案件编号 …).
    pub reference: String,
    pub paragraphs: Vec<String>,
    /// Headers and rows, where the letter has a table.
    pub table: Option<(Vec<String>, Vec<Vec<String>>)>,
}

/// The letter a step produces: (kind, title).
fn letter_of(t: Transition) -> Option<(&'static str, &'static str)> {
    use Transition::*;
    Some(match t {
        Accept => ("acceptance", "受理通知书"),
        RequestSupplement => ("supplement", "补充资料通知书"),
        NotAccept => ("non_acceptance", "不予受理决定书"),
        ConcludeAudit => ("audit_conclusion", "审核结论报告"),
        PanelPass | PanelFail | PanelReturn => ("panel_opinion", "专家评审意见"),
        Issue => ("certificate_notice", "证书颁发通知"),
        SendAgreement => ("agreement", "委托协议"),
        _ => return None,
    })
}

impl App {
    /// Makes the letter of the step just taken, if it has one.
    pub(crate) async fn letter_after(
        &self,
        actor: Option<&Actor>,
        c: &CaseRow,
        t: Transition,
        note: &str,
    ) {
        let Some((kind, title)) = letter_of(t) else {
            return;
        };
        if let Err(e) = self.make_letter(actor, c, t, kind, title, note).await {
            tracing::error!(case = c.id, kind, error = %e, "the step's letter could not be made");
        }
    }

    async fn make_letter(
        &self,
        actor: Option<&Actor>,
        c: &CaseRow,
        t: Transition,
        kind: &'static str,
        title: &'static str,
        note: &str,
    ) -> Result<Letter> {
        use Transition::*;
        let qualification = qualification_text(u8::try_from(c.level).unwrap_or(0)).zh;
        let today = self.clock.today();
        let mut paragraphs = Vec::new();
        let mut table = None;
        let mut reference = format!("案件编号：{}", crate::cases::case_number(c));
        match t {
            SendAgreement => {
                let report = crate::cases::agreement::last_report(self, c.id).await?;
                let doc = crate::documents::agreement::agreement(
                    c,
                    &report,
                    &date_text(today, Lang::Zh),
                    Lang::Zh,
                    None,
                )?;
                let (r, clauses, fee) = doc.as_letter();
                reference = r;
                paragraphs = clauses;
                table = Some(fee);
            }
            Accept => {
                paragraphs.push(format!("贵单位提交的信息安全服务资质（{qualification}）认定申请材料，经审查符合受理条件，测评中心决定予以受理。"));
                paragraphs.push(format!("审查意见：{note}"));
                paragraphs.push(
                    "测评中心将与贵单位签订委托协议，请按协议约定缴纳费用并配合后续评估工作。"
                        .into(),
                );
            }
            RequestSupplement => {
                let due = c
                    .supplement_due
                    .as_deref()
                    .map_or_else(|| "—".into(), |d| date_str_text(d, Lang::Zh));
                paragraphs.push(format!("贵单位提交的信息安全服务资质（{qualification}）认定申请材料经审查尚需补充。请于{due}前按以下意见补充资料："));
                paragraphs.push(note.to_string());
                paragraphs.push("逾期未补充的，按逾期未补充资料处理。".into());
            }
            NotAccept => {
                paragraphs.push(format!("贵单位提交的信息安全服务资质（{qualification}）认定申请材料经审查不符合受理条件，测评中心决定不予受理。"));
                paragraphs.push(format!("理由：{note}"));
                paragraphs.push("贵单位如对本决定有异议，可依照《信息安全服务资质申请指南》第七部分（争议、投诉与申诉），向测评中心提出书面申诉。".into());
            }
            ConcludeAudit => {
                paragraphs.push(format!("测评中心对贵单位的信息安全服务资质（{qualification}）申请进行了文件审查、人员访谈与实际操作演示，逐项判定如下。"));
                let rows: Vec<Vec<String>> = zizhi_store::evaluation::judgements(&self.db, c.id)
                    .await?
                    .into_iter()
                    .map(|j| vec![j.requirement_id, j.verdict.name().zh, j.rationale])
                    .collect();
                table = Some((vec!["要求".into(), "判定".into(), "理由".into()], rows));
                paragraphs.push(format!("审核结论：{note}"));
            }
            PanelPass | PanelFail | PanelReturn => {
                let conclusion = match t {
                    PanelPass => "通过",
                    PanelFail => "不通过",
                    _ => "退回补充评估",
                };
                paragraphs.push(format!("专家组对贵单位的信息安全服务资质（{qualification}）申请进行了评审（第 {} 轮），结论为：{conclusion}。", c.review_round));
                paragraphs.push(format!("专家组意见：{note}"));
                if t == PanelFail {
                    paragraphs.push("贵单位如对评审结论有异议，可依照《信息安全服务资质申请指南》第七部分（争议、投诉与申诉），向测评中心提出书面申诉。".into());
                }
            }
            Issue => {
                let cert = zizhi_store::certificates::for_case(&self.db, c.id)
                    .await?
                    .ok_or(AppError::NotFound("certificate"))?;
                paragraphs.push(format!(
                    "经评估与专家评审，贵单位获得信息安全服务资质（{qualification}）证书，证书编号 {}，有效期自{}至{}。",
                    cert.number,
                    date_str_text(&cert.issued_on, Lang::Zh),
                    date_str_text(&cert.valid_until, Lang::Zh)
                ));
                paragraphs.push(format!(
                    "证书的电子文件可在本系统下载，真伪可在 {}/verify/{} 查验。测评中心将在网站、《中国信息安全》杂志和“国家信息安全服务资质”公众号上公告。",
                    self.documents.public_url.trim_end_matches('/'),
                    cert.number
                ));
            }
            _ => return Err(AppError::Internal("no letter for this step".into())),
        }
        self.issue_letter(
            actor,
            c,
            LetterText {
                kind,
                title,
                reference,
                paragraphs,
                table,
            },
        )
        .await
    }

    /// Makes, keeps, mails and records one letter of a case (any step: the case's, a
    /// sanction's, an appeal's), addressed to the registered organisation.
    pub(crate) async fn issue_letter(
        &self,
        actor: Option<&Actor>,
        c: &CaseRow,
        text: LetterText,
    ) -> Result<Letter> {
        let LetterText {
            kind,
            title,
            reference,
            paragraphs,
            table,
        } = text;
        let today = self.clock.today();
        let signer = actor.map_or_else(|| "系统".to_string(), |a| a.display_name.clone());
        let org = zizhi_store::organizations::get(&self.db, c.organization_id)
            .await?
            .ok_or(AppError::NotFound("organization"))?;
        let doc = LetterDoc {
            centre: self.documents.centre_name.clone(),
            title: title.to_string(),
            reference,
            addressee: org.name.clone(),
            paragraphs,
            table,
            signer: signer.clone(),
            date: date_text(today, Lang::Zh),
            ymd: {
                use chrono::Datelike;
                (
                    u16::try_from(today.year()).unwrap_or(2026),
                    u8::try_from(today.month()).unwrap_or(1),
                    u8::try_from(today.day()).unwrap_or(1),
                )
            },
        };
        let fonts = self.fonts().await?;
        let pdf = super::blocking(move || zizhi_docs::letter::letter_pdf(&fonts, &doc))
            .await?
            .map_err(|e| AppError::Internal(format!("letter: {e}")))?;
        let sm3 = hex::encode(sm3::Sm3::digest(&pdf));
        let stored = self.keep_document(&pdf).await?;
        let mut tx = self.db.begin().await?;
        let letter =
            store::insert(&mut tx, c.id, kind, title, &stored.sha256, &sm3, &signer).await?;
        // The letter goes to the applicant by e-mail, as a PDF attachment.
        let number = crate::cases::case_number(c);
        let attachment = zizhi_store::outbox::Attachment {
            name: format!("{title}-{number}.pdf"),
            media_type: "application/pdf".into(),
            content: {
                use base64::Engine;
                base64::engine::general_purpose::STANDARD.encode(&pdf)
            },
            base64: true,
        };
        let mail = crate::notify::messages::Mail {
            subject: format!("【资质认定】{title}（{number}）/ Formal letter"),
            body: format!(
                "{org}：\n\n附件为测评中心就案件 {number} 出具的《{title}》（PDF），亦可在系统的案件页“正式文书”中下载。\n\nAttached is the centre's formal letter for case {number} (PDF); it can also be downloaded from the case page.\n",
                org = org.name
            ),
        };
        self.mail_applicant(&mut tx, c, &mail, &[attachment])
            .await?;
        crate::audit::record(
            &mut tx,
            actor,
            "letter.issue",
            "case",
            c.id,
            json!({"letter_id": letter.id, "kind": kind, "pdf_sha256": stored.sha256, "pdf_sm3": sm3}),
        )
        .await?;
        tx.commit().await?;
        Ok(letter)
    }

    /// The letters of a case, for whoever may see the case.
    pub async fn case_letters(&self, actor: &Actor, case_id: i64) -> Result<Vec<Letter>> {
        self.load(actor, case_id).await?;
        Ok(store::of_case(&self.db, case_id).await?)
    }

    /// [`App::case_letters`] of a case already read for its viewer.
    pub async fn case_letters_of(&self, d: &crate::cases::CaseDetail) -> Result<Vec<Letter>> {
        Ok(self.records_of(d).await?.letters.clone())
    }

    /// One letter's PDF, checked against its hash on the way out.
    pub async fn letter_pdf(
        &self,
        actor: &Actor,
        case_id: i64,
        id: i64,
    ) -> Result<(Letter, Vec<u8>)> {
        let letter = self
            .case_letters(actor, case_id)
            .await?
            .into_iter()
            .find(|l| l.id == id)
            .ok_or(AppError::NotFound("letter"))?;
        let bytes = self.kept_document(&letter.pdf_sha256).await?;
        Ok((letter, bytes))
    }
}

/// The right of appeal every decision letter names (七), with the centre's window.
fn appeal_line(days: u32) -> String {
    format!(
        "贵单位如对本决定有异议，可自决定之日起 {days} 日内，依照《信息安全服务资质申请指南》第七部分（争议、投诉与申诉）向测评中心提出书面申诉。"
    )
}

impl App {
    /// The letter of a sanction step (六), on the certificate's case: 处置决定书 when a measure
    /// takes effect, 整改核验结果通知书 when a rectification is verified. Made after the step's
    /// transaction; a letter that cannot be made is logged and the step stands.
    pub(crate) async fn sanction_letter(&self, actor: &Actor, sanction_id: i64, verdict: bool) {
        if let Err(e) = self.make_sanction_letter(actor, sanction_id, verdict).await {
            tracing::error!(sanction = sanction_id, error = %e, "the sanction's letter could not be made");
        }
    }

    async fn make_sanction_letter(&self, actor: &Actor, id: i64, verdict: bool) -> Result<Letter> {
        let s = zizhi_store::sanctions::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("sanction"))?;
        let cert = zizhi_store::certificates::by_number(&self.db, &s.number)
            .await?
            .ok_or(AppError::NotFound("certificate"))?;
        let c = zizhi_store::cases::get(&self.db, cert.case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let reference = format!("证书编号：{}　处置编号：{}", s.number, s.id);
        let measure = s.measure.name().zh;
        let text = if verdict {
            let last = zizhi_store::sanctions::rectifications(&self.db, id)
                .await?
                .into_iter()
                .last()
                .ok_or(AppError::NotFound("rectification"))?;
            let accepted = last.verdict.as_deref() == Some("accepted");
            let mut p = vec![format!(
                "贵单位于{}提交的整改情况（处置措施：{measure}），经测评中心监督部门核验，{}。",
                date_str_text(&last.submitted_on, Lang::Zh),
                if accepted {
                    "整改通过"
                } else {
                    "整改未通过"
                }
            )];
            if !last.verdict_note.is_empty() {
                p.push(format!("核验意见：{}", last.verdict_note));
            }
            if accepted && s.measure == zizhi_domain::sanction::Measure::Suspension {
                p.push(format!("证书 {} 的暂停状态即日解除。", s.number));
            }
            if !accepted {
                p.push("请按核验意见继续整改并重新提交整改情况。".into());
            }
            LetterText {
                kind: "rectification_verdict",
                title: "整改核验结果通知书",
                reference,
                paragraphs: p,
                table: None,
            }
        } else {
            let mut p = vec![
                format!(
                    "经测评中心监督部门核查，贵单位存在以下违规事实：{}",
                    s.violation
                ),
                format!("证据：{}", s.evidence),
                format!("处置理由：{}", s.reasoning),
                format!(
                    "依照《信息安全服务资质申请指南》第六部分，测评中心决定对贵单位采取以下措施：{measure}。"
                ),
            ];
            if let Some(by) = &s.rectify_by {
                p.push(format!(
                    "请于{}前完成整改，并在本系统中提交整改情况和证据。",
                    date_str_text(by, Lang::Zh)
                ));
            }
            p.push(appeal_line(self.config.appeal_window_days));
            LetterText {
                kind: "sanction",
                title: "处置决定书",
                reference,
                paragraphs: p,
                table: None,
            }
        };
        self.issue_letter(Some(actor), &c, text).await
    }

    /// The appeal's decision letter (七): 申诉处理决定书, on the case appealed (or the
    /// certificate's case, for a sanction). Made after the step's transaction.
    pub(crate) async fn appeal_letter(&self, actor: &Actor, appeal_id: i64) {
        if let Err(e) = self.make_appeal_letter(actor, appeal_id).await {
            tracing::error!(appeal = appeal_id, error = %e, "the appeal's letter could not be made");
        }
    }

    async fn make_appeal_letter(&self, actor: &Actor, id: i64) -> Result<Letter> {
        let a = zizhi_store::appeals::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("appeal"))?;
        let case_id = match (a.case_id, a.sanction_id) {
            (Some(c), _) => c,
            (None, Some(sid)) => {
                let s = zizhi_store::sanctions::get(&self.db, sid)
                    .await?
                    .ok_or(AppError::NotFound("sanction"))?;
                zizhi_store::certificates::by_number(&self.db, &s.number)
                    .await?
                    .ok_or(AppError::NotFound("certificate"))?
                    .case_id
            }
            _ => return Err(AppError::NotFound("case")),
        };
        let c = zizhi_store::cases::get(&self.db, case_id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let overturned = a.state == zizhi_domain::appeal::AppealState::Overturned;
        let mut p = vec![
            format!(
                "贵单位于{}就{}提出的申诉（申诉编号 {}），经测评中心调查，决定：{}。",
                date_str_text(&a.filed_on, Lang::Zh),
                a.subject.name().zh,
                a.id,
                if overturned {
                    "撤销原决定"
                } else {
                    "维持原决定"
                }
            ),
            format!("调查结论：{}", a.findings),
        ];
        if let Some(stage) = a
            .reopened_at
            .as_deref()
            .and_then(zizhi_domain::case::Stage::parse)
        {
            p.push(format!("案件自即日起重新进入“{}”阶段。", stage.name().zh));
        }
        if overturned && a.sanction_id.is_some() {
            p.push("原处置决定撤销，证书状态随之恢复。".into());
        }
        self.issue_letter(
            Some(actor),
            &c,
            LetterText {
                kind: "appeal_decision",
                title: "申诉处理决定书",
                reference: format!(
                    "案件编号：{}　申诉编号：{}",
                    crate::cases::case_number(&c),
                    a.id
                ),
                paragraphs: p,
                table: None,
            },
        )
        .await
    }
}
