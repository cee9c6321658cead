//! The evaluation team, judgements per requirement, and the expert panel's votes.

use sqlx::FromRow;
use zizhi_domain::panel::Vote as PanelVote;
use zizhi_domain::review::Verdict;

use crate::{Db, Result, StoreError, Tx, now_us, on_pool, on_tx};

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Member {
    pub user_id: i64,
    /// `assessor` or `expert`.
    pub duty: String,
    /// The panel's chair (组长), an expert.
    pub chair: bool,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Judgement {
    pub requirement_id: String,
    #[sqlx(try_from = "String")]
    pub verdict: Verdict,
    pub rationale: String,
    /// JSON array of evidence ids.
    pub evidence_ids: String,
    pub assessor_id: i64,
    pub at_us: i64,
}
}

crate::row! {
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Vote {
    pub expert_id: i64,
    #[sqlx(try_from = "String")]
    pub vote: PanelVote,
    pub opinion: String,
    pub round: i32,
    pub at_us: i64,
}
}

pub async fn add_member(
    tx: &mut Tx,
    case_id: i64,
    user_id: i64,
    duty: &str,
    chair: bool,
) -> Result<()> {
    on_tx!(tx, t => sqlx::query("INSERT INTO case_member (case_id, user_id, duty, chair) VALUES ($1, $2, $3, $4)")
        .bind(case_id)
        .bind(user_id)
        .bind(duty)
        .bind(chair)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| StoreError::conflict_as(e, "member"))?;
    Ok(())
}

pub async fn members(db: &Db, case_id: i64) -> Result<Vec<Member>> {
    db.fetch_all(
        "SELECT user_id, duty, chair FROM case_member WHERE case_id = $1 AND NOT released ORDER BY id",
        &[case_id.into()],
    )
    .await
}

/// Stands the case's expert panel down (an appeal reopened the case for a fresh panel): its
/// members stay on record, may not sit on the case again, and no longer count.
pub async fn release_experts(tx: &mut Tx, case_id: i64) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE case_member SET released = TRUE, chair = FALSE WHERE case_id = $1 AND duty = 'expert'")
        .bind(case_id)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Everyone who ever sat on the case, stood down or not.
pub async fn ever_members(db: &Db, case_id: i64) -> Result<Vec<i64>> {
    Ok(
        on_pool!(db, p => sqlx::query_scalar("SELECT user_id FROM case_member WHERE case_id = $1 ORDER BY id")
        .bind(case_id)
        .fetch_all(p)
        .await)?,
    )
}

/// Every case a user sits on, with the duty and whether as the panel's chair (for the user's
/// to-do list: one query).
pub async fn duties_of(db: &Db, user_id: i64) -> Result<Vec<(i64, String, bool)>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, (i64, String, bool)>(
        "SELECT case_id, duty, chair FROM case_member WHERE user_id = $1 AND NOT released")
        .bind(user_id)
        .fetch_all(p)
        .await)?)
}

/// Every (case, review round) an expert has voted in.
pub async fn votes_of(db: &Db, expert_id: i64) -> Result<Vec<(i64, i32)>> {
    Ok(on_pool!(db, p => sqlx::query_as::<_, (i64, i32)>(
        "SELECT case_id, round FROM panel_vote WHERE expert_id = $1")
        .bind(expert_id)
        .fetch_all(p)
        .await)?)
}

/// Records (or revises) the judgement of one requirement.
#[allow(clippy::too_many_arguments)]
pub async fn upsert_judgement(
    tx: &mut Tx,
    case_id: i64,
    requirement_id: &str,
    verdict: &str,
    rationale: &str,
    evidence_ids: &str,
    assessor_id: i64,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query(
        "INSERT INTO judgement (case_id, requirement_id, verdict, rationale, evidence_ids, assessor_id, at_us) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (case_id, requirement_id) DO UPDATE SET verdict = excluded.verdict, rationale = excluded.rationale,
           evidence_ids = excluded.evidence_ids, assessor_id = excluded.assessor_id, at_us = excluded.at_us")
        .bind(case_id)
        .bind(requirement_id)
        .bind(verdict)
        .bind(rationale)
        .bind(evidence_ids)
        .bind(assessor_id)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

pub async fn judgements(db: &Db, case_id: i64) -> Result<Vec<Judgement>> {
    db.fetch_all(
        "SELECT requirement_id, verdict, rationale, evidence_ids, assessor_id, at_us FROM judgement WHERE case_id = $1 ORDER BY requirement_id",
        &[case_id.into()],
    )
    .await
}

pub async fn add_vote(
    tx: &mut Tx,
    case_id: i64,
    expert_id: i64,
    vote: &str,
    opinion: &str,
    round: i32,
) -> Result<()> {
    let now = now_us();
    on_tx!(tx, t => sqlx::query("INSERT INTO panel_vote (case_id, expert_id, vote, opinion, round, at_us) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(case_id)
        .bind(expert_id)
        .bind(vote)
        .bind(opinion)
        .bind(round)
        .bind(now)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| StoreError::conflict_as(e, "vote"))?;
    Ok(())
}

pub async fn votes(db: &Db, case_id: i64, round: i32) -> Result<Vec<Vote>> {
    db.fetch_all(
        "SELECT expert_id, vote, opinion, round, at_us FROM panel_vote WHERE case_id = $1 AND round = $2 ORDER BY id",
        &[case_id.into(), round.into()],
    )
    .await
}

/// Evidence ids of an organisation (to check that judgements cite its own evidence).
pub async fn evidence_ids(db: &Db, organization_id: i64) -> Result<Vec<i64>> {
    Ok(
        on_pool!(db, p => sqlx::query_scalar::<_, i64>("SELECT id FROM evidence WHERE organization_id = $1")
        .bind(organization_id)
        .fetch_all(p)
        .await)?,
    )
}

/// Makes `user_id` the chair of the case's panel (and nobody else).
pub async fn set_chair(tx: &mut Tx, case_id: i64, user_id: i64) -> Result<()> {
    on_tx!(tx, t => sqlx::query("UPDATE case_member SET chair = (user_id = $2) WHERE case_id = $1 AND duty = 'expert' AND NOT released")
        .bind(case_id)
        .bind(user_id)
        .execute(t)
        .await
        .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A declared conflict of interest (利益冲突): this person may not act on this organisation's
/// cases.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Conflict {
    pub user_id: i64,
    pub organization_id: i64,
    pub reason: String,
    pub declared_by: i64,
    pub declared_us: i64,
}

const CONFLICT: &str = "user_id, organization_id, reason, declared_by, declared_us";

pub async fn declare_conflict(
    tx: &mut Tx,
    user_id: i64,
    organization_id: i64,
    reason: &str,
    declared_by: i64,
) -> Result<()> {
    on_tx!(tx, t => sqlx::query("INSERT INTO conflict_of_interest (user_id, organization_id, reason, declared_by, declared_us) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id)
        .bind(organization_id)
        .bind(reason)
        .bind(declared_by)
        .bind(now_us())
        .execute(t)
        .await
        .map(|r| r.rows_affected()))
    .map_err(|e| StoreError::conflict_as(e, "organization_id"))?;
    Ok(())
}

/// The declared conflicts with one organisation.
pub async fn conflicts_with(db: &Db, organization_id: i64) -> Result<Vec<Conflict>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflict_of_interest WHERE organization_id = $1 ORDER BY id"
    ));
    Ok(
        on_pool!(db, p => sqlx::query_as::<_, Conflict>(sql).bind(organization_id).fetch_all(p).await)?,
    )
}

/// One person's declared conflicts.
pub async fn conflicts_of(db: &Db, user_id: i64) -> Result<Vec<Conflict>> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {CONFLICT} FROM conflict_of_interest WHERE user_id = $1 ORDER BY id"
    ));
    Ok(on_pool!(db, p => sqlx::query_as::<_, Conflict>(sql).bind(user_id).fetch_all(p).await)?)
}
