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

/// What recording a payment came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentOutcome {
    /// Everything paid on the case so far, this payment included.
    pub paid: Cny,
    /// The agreement's fee.
    pub fee: Option<Cny>,
    /// Paid minus the fee: negative while short, positive when overpaid (flagged).
    pub difference_fen: Option<i64>,
    /// The payment completed the fee and payment was confirmed (评估 opens, 5.3).
    pub confirmed: bool,
}

impl App {
    /// Contract & finance record a payment of the evaluation fee (5.3): its amount, the day
    /// it was paid and the voucher number. Payments are checked against the agreement's fee:
    /// once they reach it, payment is confirmed (the case moves to evaluation); a shortfall
    /// keeps the case waiting, and a difference either way is flagged on the case and in
    /// the audit log.
    pub async fn record_payment(
        &self,
        actor: &crate::policy::Actor,
        id: i64,
        amount: Cny,
        paid_on: chrono::NaiveDate,
        voucher_no: &str,
        note: &str,
    ) -> Result<PaymentOutcome> {
        use crate::policy::CaseAction;
        let c = self.load(actor, id).await?;
        self.authorize_case(
            actor,
            &c,
            CaseAction::Transition(Transition::ConfirmPayment),
        )
        .await?;
        super::require_stage(&c, &[zizhi_domain::case::Stage::AgreementEffective])?;
        if amount.fen() <= 0 {
            return Err(AppError::invalid(
                "amount",
                "收款金额应大于零",
                "the amount must be more than zero",
            ));
        }
        if paid_on > self.clock.today() {
            return Err(AppError::invalid(
                "paid_on",
                "付款日期不能晚于今天",
                "the day paid cannot be after today",
            ));
        }
        let voucher_no = voucher_no.trim();
        crate::limits::bounded("voucher_no", voucher_no, 64)?;
        if voucher_no.is_empty() {
            return Err(AppError::invalid(
                "voucher_no",
                "请填写收款凭证号",
                "enter the payment voucher number",
            ));
        }
        let fee = c.fee_fen.map(Cny::from_fen);
        let before: i64 = zizhi_store::receipts::payments(&self.db, id)
            .await?
            .iter()
            .map(|p| p.amount_fen)
            .sum();
        let paid = Cny::from_fen(before.saturating_add(amount.fen()));
        let difference_fen = fee.map(|f| paid.fen() - f.fen());
        let mut tx = self.db.begin().await?;
        zizhi_store::receipts::add_payment(
            &mut tx,
            id,
            amount.fen(),
            c.fee_fen,
            &paid_on.to_string(),
            voucher_no,
            actor.user_id,
        )
        .await?;
        self.record(
            &mut tx,
            Some(actor),
            "case.payment",
            id,
            json!({"after": {"amount_fen": amount.fen(), "paid_on": paid_on.to_string(), "voucher_no": voucher_no,
                "paid_fen": paid.fen(), "fee_fen": c.fee_fen, "difference_fen": difference_fen}}),
        )
        .await?;
        tx.commit().await?;
        let complete = difference_fen.is_none_or(|d| d >= 0);
        if complete {
            let mut words = format!(
                "收到委托测评费用 {}（凭证号 {voucher_no}，{paid_on}）",
                paid.display(Lang::Zh)
            );
            if let Some(d) = difference_fen.filter(|d| *d > 0) {
                words.push_str(&format!("；多付 {}", Cny::from_fen(d).display(Lang::Zh)));
            }
            if !note.trim().is_empty() {
                words.push_str(&format!("；{}", note.trim()));
            }
            self.transition_case(actor, id, Transition::ConfirmPayment, &words)
                .await?;
        }
        Ok(PaymentOutcome {
            paid,
            fee,
            difference_fen,
            confirmed: complete,
        })
    }

    /// The payments recorded on a case, oldest first.
    pub async fn payments(
        &self,
        actor: &crate::policy::Actor,
        id: i64,
    ) -> Result<Vec<zizhi_store::receipts::Payment>> {
        self.load(actor, id).await?;
        Ok(zizhi_store::receipts::payments(&self.db, id).await?)
    }

    /// [`App::payments`] of a case already read for its viewer.
    pub async fn payments_of(
        &self,
        d: &crate::cases::CaseDetail,
    ) -> Result<Vec<zizhi_store::receipts::Payment>> {
        Ok(self.records_of(d).await?.payments.clone())
    }

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
                    name: format!("委托协议-{number}.html"),
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
