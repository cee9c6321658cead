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
        SendAgreement => ("agreement", "委托测评协议"),
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
        kind: &str,
        title: &str,
        note: &str,
    ) -> Result<Letter> {
        use Transition::*;
        let facts = crate::cases::case_facts(c)?;
        let qualification = qualification_text(u8::try_from(c.level).unwrap_or(0)).zh;
        let today = self.clock.today();
        let signer = actor.map_or_else(|| "系统".to_string(), |a| a.display_name.clone());
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
                    "测评中心将与贵单位签订委托测评协议，请按协议约定缴纳费用并配合后续评估工作。"
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
                paragraphs.push("逾期未补充的，申请按逾期未补正处理。".into());
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
        let doc = LetterDoc {
            centre: self.documents.centre_name.clone(),
            title: title.to_string(),
            reference,
            addressee: facts.organization.name.clone(),
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
                org = facts.organization.name
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
