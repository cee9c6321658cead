//! The delegation agreement and the fee (委托协议, 5.3; 收费标准, 九): the lead sends the
//! standard agreement with the fee of the kind the submission was classified as; the signed copy
//! is recorded, contract-finance approves it and confirms payment, and evaluation opens. The
//! project clock pauses from sending until payment (九.3).

use serde_json::json;
use zizhi_domain::assess::Report;
use zizhi_domain::case::Transition;
use zizhi_domain::lang::{Lang, date_text};
use zizhi_domain::money::Cny;
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};
use zizhi_store::outbox::Attachment;

use super::transition::{Effects, Step};
use crate::notify::messages;
use crate::{App, AppError, Result};

/// The self-assessment stored with the case's last submission round, read back typed.
pub(crate) async fn last_report(app: &App, case_id: i64) -> Result<Report> {
    let rounds = repo::rounds(&app.db, case_id).await?;
    let last = rounds
        .last()
        .ok_or(AppError::NotFound("submission round"))?;
    serde_json::from_str(&last.assessment)
        .map_err(|e| AppError::Internal(format!("case {case_id} stored assessment: {e}")))
}

impl App {
    pub(super) async fn on_agreement(
        &self,
        tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let day = step.today.to_string();
        match step.t {
            Transition::SendAgreement => {
                // The fee of the kind in effect after the renewal rule, from the last round's
                // self-assessment (guide 九): 87 000 initial, 63 000 maintenance for level 2.
                let report = last_report(self, c.id).await?;
                let fee: Cny = report.fee.as_ref().map(|f| f.total_cny.0).ok_or_else(|| {
                    AppError::invalid(
                        "fee",
                        "本级别收费标准待公布，无法生成委托协议",
                        "this level's fee is pending; no agreement can be drawn up",
                    )
                })?;
                let number = format!("ZZXY-{}-{:05}", step.today.format("%Y"), c.id);
                c.agreement_no = Some(number.clone());
                c.fee_fen = Some(fee.fen());
                fx.summary["agreement_no"] = json!(number);
                fx.summary["fee_cny"] = json!(report.fee.as_ref().map(|f| f.total_cny));
                fx.summary["application_kind"] = json!(report.application_kind);
                // The clock pauses from sending the agreement until payment (九.3).
                repo::open_pause(tx, c.id, &day).await?;
                // The agreement itself goes with the e-mail (5.3: "发送协议及附件模板").
                let doc = crate::documents::agreement::agreement(
                    c,
                    &report,
                    &date_text(step.today, Lang::Zh),
                    Lang::Zh,
                    None,
                )?
                .html()?;
                fx.attach.push(Attachment {
                    name: format!("委托测评协议-{number}.html"),
                    media_type: "text/html; charset=utf-8".into(),
                    content: doc,
                    base64: false,
                });
                fx.mail = Some(messages::agreement_sent(
                    &number,
                    &report.organization,
                    u8::try_from(c.level).unwrap_or(0),
                    report.application_kind,
                    fee,
                    step.note,
                ));
            }
            Transition::ConfirmPayment => {
                repo::close_pause(tx, c.id, &day).await?;
                fx.mail = Some(messages::payment_confirmed(
                    c.agreement_no.as_deref().unwrap_or("-"),
                ));
            }
            _ => {}
        }
        Ok(())
    }
}
