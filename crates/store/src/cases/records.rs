//! The records a case's page shows beside its parts — the evidence filed against its
//! requirements, the judgements of its requirements and of the latest round's review areas,
//! its team, the votes of its review round, the evaluation's activities, its letters, the
//! paper copy and its payments — read together and kept in this process by the case's
//! revision (issue 14: on PostgreSQL a case page made nine statements for them, each as
//! costly as the page's own read of the case). Migration 0039 moves the revision with each of
//! the nine tables, in the changing transaction, as 0038 does with the parts.

use std::sync::Arc;

use super::parts::{ByRevision, CaseParts};
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
    /// The review areas' judgements of the case's latest submission round.
    pub areas: Vec<AreaRow>,
    /// The team (members not stood down).
    pub members: Vec<Member>,
    /// The panel's votes of the case's review round.
    pub votes: Vec<Vote>,
    /// The evaluation's activities.
    pub activities: Vec<Activity>,
    pub letters: Vec<Letter>,
    pub paper: Option<PaperCopy>,
    pub payments: Vec<Payment>,
}

/// The cases' records kept by revision (with the live tokens: `TokenCache::records`).
pub(crate) type KeptRecords = ByRevision<CaseRecords>;

/// The records of the case whose parts [`super::with_parts`] gave, kept by the revision read
/// with them: read from the database only when not kept for that revision (the same
/// reasoning as the parts: records kept for a revision were read after it, so they are its
/// own or newer, and a newer revision never finds them). The review areas are the parts'
/// latest submission round's, the votes the case's review round's.
pub async fn records(db: &Db, parts: &CaseParts) -> Result<Arc<CaseRecords>> {
    let (id, rev) = (parts.case.id, parts.revision);
    let kept = &db.tokens().records;
    if let Some(r) = kept.get(id, rev) {
        return Ok(r);
    }
    let round = parts.rounds.last().map_or(0, |r| r.round);
    let r = Arc::new(CaseRecords {
        linked: review::linked(db, id).await?,
        judgements: evaluation::judgements(db, id).await?,
        areas: review::areas(db, id, round).await?,
        members: evaluation::members(db, id).await?,
        votes: evaluation::votes(db, id, parts.case.review_round).await?,
        activities: review::activities(db, id).await?,
        letters: letters::of_case(db, id).await?,
        paper: receipts::paper_copy(db, id).await?,
        payments: receipts::payments(db, id).await?,
    });
    kept.keep(id, rev, Arc::clone(&r), r.size());
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
