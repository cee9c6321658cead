//! One case for its viewer: rounds, history, clock, and the steps this viewer may take now.

use std::ops::Deref;
use std::sync::Arc;

use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::clock::{self, Clock, Pause};
use zizhi_store::cases::{self as repo, PauseRow};

use super::date;
use crate::policy::{Actor, CaseAction, Seat, allowed_on_case};
use crate::{App, AppError, Result};

/// A case with everything its page shows: the case with its pauses, rounds and transitions
/// (`d.case`, `d.pauses`, `d.rounds`, `d.transitions`, through [`Deref`]: shared with what the
/// process keeps of the case, not copied — issue 14) and what the viewer may do.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    parts: Arc<repo::CaseParts>,
    pub stage: Stage,
    /// From filing on.
    pub clock: Option<Clock>,
    /// The transitions the viewer may perform now (stage × policy with the viewer's seats).
    pub next: Vec<Transition>,
    /// The viewer's seats on the case.
    pub seats: Vec<Seat>,
    /// The certificate issued on the case, once issued.
    pub certificate: Option<zizhi_store::certificates::Certificate>,
    /// The viewer, for [`CaseDetail::may`].
    pub(crate) viewer: Actor,
}

impl Deref for CaseDetail {
    type Target = repo::CaseParts;
    fn deref(&self) -> &repo::CaseParts {
        &self.parts
    }
}

impl CaseDetail {
    /// Whether the viewer may do `action` on this case (the policy's answer; the stage is
    /// checked separately by the page, which shows each form only in its stage).
    pub fn may(&self, action: CaseAction) -> bool {
        allowed_on_case(&self.viewer, self.case.organization_id, &self.seats, action)
    }
}

impl App {
    /// One case with its rounds, history, clock and the viewer's next steps.
    pub async fn case(&self, actor: &Actor, id: i64) -> Result<CaseDetail> {
        let parts = repo::with_parts(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        let c = &parts.case;
        self.may_view(actor, c)?;
        let stage = c.stage;
        let clock = c.filed_on.as_deref().and_then(date).map(|filed| {
            let ps: Vec<Pause> = parts.pauses.iter().filter_map(PauseRow::pause).collect();
            clock::compute(
                filed,
                &ps,
                self.clock.today(),
                c.closed_on.as_deref().and_then(date),
            )
        });
        let seats = self.seats(actor, c).await?;
        let next = Transition::ALL
            .into_iter()
            .filter(|t| {
                t.target(stage).is_some()
                    && allowed_on_case(actor, c.organization_id, &seats, CaseAction::Transition(*t))
            })
            .collect();
        Ok(CaseDetail {
            clock,
            next,
            seats,
            certificate: if stage == Stage::Certified {
                zizhi_store::certificates::for_case(&self.db, id).await?
            } else {
                None
            },
            viewer: actor.clone(),
            stage,
            parts,
        })
    }

    /// The records of a case read through [`App::case`] — evidence filed, judgements, the
    /// latest round's review areas, team, the review round's votes, activities, letters, paper
    /// copy, payments — as of the same revision (kept in the process while the case does not
    /// change: issue 14). Whoever may see the case may read them through it; each `…_of`
    /// function below checks what its part needs. Takes the parts (a `&CaseDetail` gives them),
    /// so that a read checking its own rights uses it without a `CaseDetail`.
    pub(crate) async fn records_of(&self, p: &repo::CaseParts) -> Result<Arc<repo::CaseRecords>> {
        Ok(repo::records(&self.db, p).await?)
    }
}
