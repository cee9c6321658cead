//! Evidence filed against a case's requirements, the acceptance review's five areas, and the
//! evaluation's audit plan and activities.

use sqlx::FromRow;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct CaseEvidence {
    pub requirement_id: String,
    pub evidence_id: i64,
    pub original_name: String,
    pub size: i64,
    pub sha256: String,
    pub linked_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct AreaRow {
    pub round: i32,
    pub area: String,
    pub sufficient: bool,
    pub opinion: String,
    pub reviewer_id: i64,
    pub at_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Activity {
    pub id: i64,
    pub kind: String,
    pub held_on: String,
    pub notes: String,
    /// JSON array of evidence ids.
    pub evidence_ids: String,
    pub recorded_by: i64,
    pub at_us: i64,
}
}

/// Files one piece of evidence against a requirement; filing it twice is a conflict.
pub async fn link(
    tx: &mut Tx,
    case_id: i64,
    requirement_id: &str,
    evidence_id: i64,
    by: i64,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO case_evidence (case_id, requirement_id, evidence_id, linked_by, linked_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(case_id)
        .bind(requirement_id)
        .bind(evidence_id)
        .bind(by)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| StoreError::conflict_as(e, "evidence_id"))?;
    Ok(())
}

/// Removes one filing; whether there was one.
pub async fn unlink(
    tx: &mut Tx,
    case_id: i64,
    requirement_id: &str,
    evidence_id: i64,
) -> Result<bool> {
    let n = on_tx!(tx, t => sqlx::query(
        "DELETE FROM case_evidence WHERE case_id = $1 AND requirement_id = $2 AND evidence_id = $3")
        .bind(case_id)
        .bind(requirement_id)
        .bind(evidence_id)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

pub async fn linked(db: &Db, case_id: i64) -> Result<Vec<CaseEvidence>> {
    db.fetch_all(
        "SELECT l.requirement_id, l.evidence_id, e.original_name, e.size, e.sha256, l.linked_us
         FROM case_evidence l JOIN evidence e ON e.id = l.evidence_id
         WHERE l.case_id = $1 ORDER BY l.requirement_id, l.id",
        &[case_id.into()],
    )
    .await
}

pub async fn linked_count(db: &Db, case_id: i64) -> Result<i64> {
    Ok(on_pool!(db, p => sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM case_evidence WHERE case_id = $1")
        .bind(case_id)
        .fetch_one(p)
        .await)?)
}

/// Records (or revises, within the same round) the lead's judgement of one review area.
pub async fn upsert_area(
    tx: &mut Tx,
    case_id: i64,
    round: i32,
    area: &str,
    sufficient: bool,
    opinion: &str,
    reviewer_id: i64,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO review_area (case_id, round, area, sufficient, opinion, reviewer_id, at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (case_id, round, area) DO UPDATE SET sufficient = excluded.sufficient, opinion = excluded.opinion,
           reviewer_id = excluded.reviewer_id, at_us = excluded.at_us")
        .bind(case_id)
        .bind(round)
        .bind(area)
        .bind(sufficient)
        .bind(opinion)
        .bind(reviewer_id)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// The area judgements of one submission round.
pub async fn areas(db: &Db, case_id: i64, round: i32) -> Result<Vec<AreaRow>> {
    db.fetch_all(
        "SELECT round, area, sufficient, opinion, reviewer_id, at_us FROM review_area WHERE case_id = $1 AND round = $2 ORDER BY id",
        &[case_id.into(), round.into()],
    )
    .await
}

pub async fn add_activity(
    tx: &mut Tx,
    case_id: i64,
    kind: &str,
    held_on: &str,
    notes: &str,
    evidence_ids: &str,
    by: i64,
) -> Result<i64> {
    let now = now_us();
    Ok(on_tx!(tx, t => sqlx::query_scalar::<_, i64>(
        "INSERT INTO audit_activity (case_id, kind, held_on, notes, evidence_ids, recorded_by, at_us) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
        .bind(case_id)
        .bind(kind)
        .bind(held_on)
        .bind(notes)
        .bind(evidence_ids)
        .bind(by)
        .bind(now)
        .fetch_one(t)
        .await)?)
}

pub async fn activities(db: &Db, case_id: i64) -> Result<Vec<Activity>> {
    db.fetch_all(
        "SELECT id, kind, held_on, notes, evidence_ids, recorded_by, at_us FROM audit_activity WHERE case_id = $1 ORDER BY held_on, id",
        &[case_id.into()],
    )
    .await
}
