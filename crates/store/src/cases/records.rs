//! The records a case's page shows beside its parts — the evidence filed against its
//! requirements, the judgements of its requirements and of the latest round's review areas,
//! its team, the votes of its review round, the evaluation's activities, its letters, the
//! paper copy and its payments — read together and kept in this process by the case's
//! revision (issue 14: on PostgreSQL a case page made nine statements for them, each as
//! costly as the page's own read of the case). Migration 0039 moves the revision with each of
//! the nine tables, in the changing transaction, as 0038 does with the parts.

use std::sync::Arc;

use super::parts::{ByRevision, Rev};
use crate::evaluation::{self, Judgement, Member, Vote};
use crate::letters::{self, Letter};
use crate::receipts::{self, PaperCopy, Payment};
use crate::review::{self, Activity, AreaRow, CaseEvidence};
use crate::{Db, Result};

/// A case's records, as one read after the case's revision gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecords {
    /// Evidence filed against the requirements.
    pub linked: Vec<CaseEvidence>,
    /// The judgements of the requirements.
    pub judgements: Vec<Judgement>,
    /// The review areas' judgements of the latest submission round (the `round` asked for).
    pub areas: Vec<AreaRow>,
    /// The team (members not stood down).
    pub members: Vec<Member>,
    /// The panel's votes of the case's review round (the `review_round` asked for).
    pub votes: Vec<Vote>,
    /// The evaluation's activities.
    pub activities: Vec<Activity>,
    pub letters: Vec<Letter>,
    pub paper: Option<PaperCopy>,
    pub payments: Vec<Payment>,
}

/// The cases' records kept by revision (with the live tokens: `TokenCache::records`).
pub(crate) type KeptRecords = ByRevision<CaseRecords>;

/// The case's revision as [`super::with_parts`] read it, for reading what belongs to the same
/// moment of the case (its records).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Revision(pub(crate) Rev);

/// Case `id`'s records, kept by the revision `rev` read with its parts: read from the
/// database only when not kept for that revision (the same reasoning as the parts: records
/// kept for `rev` were read after it, so they are its own or newer, and a newer revision never
/// finds them). `round` is the latest submission round and `review_round` the case's review
/// round, both of the same read of the case.
pub async fn records(
    db: &Db,
    id: i64,
    rev: Revision,
    round: i32,
    review_round: i32,
) -> Result<Arc<CaseRecords>> {
    let kept = &db.tokens().records;
    if let Some(r) = kept.get(id, rev.0) {
        return Ok(r);
    }
    let r = Arc::new(CaseRecords {
        linked: review::linked(db, id).await?,
        judgements: evaluation::judgements(db, id).await?,
        areas: review::areas(db, id, round).await?,
        members: evaluation::members(db, id).await?,
        votes: evaluation::votes(db, id, review_round).await?,
        activities: review::activities(db, id).await?,
        letters: letters::of_case(db, id).await?,
        paper: receipts::paper_copy(db, id).await?,
        payments: receipts::payments(db, id).await?,
    });
    kept.keep(id, rev.0, Arc::clone(&r), r.size());
    Ok(r)
}

impl CaseRecords {
    /// About how many bytes the records hold (their text and a row's fixed part each).
    fn size(&self) -> usize {
        const ROW: usize = 96;
        fn sum<T>(rows: &[T], text: impl Fn(&T) -> usize) -> usize {
            rows.iter().map(|r| ROW + text(r)).sum()
        }
        sum(&self.linked, |e| {
            e.requirement_id.len() + e.original_name.len() + e.sha256.len()
        }) + sum(&self.judgements, |j| {
            j.requirement_id.len() + j.rationale.len() + j.evidence_ids.len()
        }) + sum(&self.areas, |a| a.area.len() + a.opinion.len())
            + sum(&self.members, |m| m.duty.len())
            + sum(&self.votes, |v| v.opinion.len())
            + sum(&self.activities, |a| {
                a.kind.len() + a.held_on.len() + a.notes.len() + a.evidence_ids.len()
            })
            + sum(&self.letters, |l| {
                l.kind.len()
                    + l.title.len()
                    + l.pdf_sha256.len()
                    + l.pdf_sm3.len()
                    + l.signed_by.len()
            })
            + self
                .paper
                .as_ref()
                .map_or(0, |p| ROW + p.received_on.len() + p.tracking_no.len())
            + sum(&self.payments, |p| p.paid_on.len() + p.voucher_no.len())
    }
}
