//! What the centre received for a case: the paper copy (5.2) and the fee's payments (5.3).

use sqlx::FromRow;

use crate::{Db, Result, Tx, now_us, on_tx};

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct PaperCopy {
    pub case_id: i64,
    pub received_on: String,
    pub tracking_no: String,
    pub recorded_by: i64,
    pub recorded_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Payment {
    pub id: i64,
    pub case_id: i64,
    pub amount_fen: i64,
    /// The agreement's fee when the payment was recorded.
    pub expected_fen: Option<i64>,
    pub paid_on: String,
    pub voucher_no: String,
    pub recorded_by: i64,
    pub recorded_us: i64,
}
}

/// Records the paper copy; a later one (after the application was returned and sent again)
/// replaces it.
pub async fn record_paper_copy(
    tx: &mut Tx,
    case_id: i64,
    received_on: &str,
    tracking_no: &str,
    by: i64,
) -> Result<()> {
    on_tx!(tx, c => sqlx::query(
        "INSERT INTO paper_copy (case_id, received_on, tracking_no, recorded_by, recorded_us)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (case_id) DO UPDATE SET received_on = excluded.received_on,
           tracking_no = excluded.tracking_no, recorded_by = excluded.recorded_by,
           recorded_us = excluded.recorded_us")
        .bind(case_id)
        .bind(received_on)
        .bind(tracking_no)
        .bind(by)
        .bind(now_us())
        .execute(c)
        .await
        .map(|_| ()))?;
    Ok(())
}

pub async fn paper_copy(db: &Db, case_id: i64) -> Result<Option<PaperCopy>> {
    db.fetch_optional(
        "SELECT case_id, received_on, tracking_no, recorded_by, recorded_us FROM paper_copy WHERE case_id = $1",
        &[case_id.into()],
    )
    .await
}

pub async fn add_payment(
    tx: &mut Tx,
    case_id: i64,
    amount_fen: i64,
    expected_fen: Option<i64>,
    paid_on: &str,
    voucher_no: &str,
    by: i64,
) -> Result<i64> {
    Ok(on_tx!(tx, c => sqlx::query_scalar::<_, i64>(
        "INSERT INTO payment (case_id, amount_fen, expected_fen, paid_on, voucher_no, recorded_by, recorded_us)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(case_id)
        .bind(amount_fen)
        .bind(expected_fen)
        .bind(paid_on)
        .bind(voucher_no)
        .bind(by)
        .bind(now_us())
        .fetch_one(c)
        .await)?)
}

pub async fn payments(db: &Db, case_id: i64) -> Result<Vec<Payment>> {
    db.fetch_all(
        "SELECT id, case_id, amount_fen, expected_fen, paid_on, voucher_no, recorded_by, recorded_us
         FROM payment WHERE case_id = $1 ORDER BY id",
        &[case_id.into()],
    )
    .await
}
