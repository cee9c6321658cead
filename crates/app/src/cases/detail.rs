//! One case for its viewer: rounds, history, clock, and the steps this viewer may take now.

use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::clock::{self, Clock, Pause};
use zizhi_store::cases::{self as repo, CaseRow, PauseRow, Round, TransitionRow};

use super::date;
use crate::policy::{Actor, CaseAction, Seat, allowed_on_case};
use crate::{App, AppError, Result};

/// A case with everything its page shows.
#[derive(Debug, Clone)]
pub struct CaseDetail {
    pub case: CaseRow,
    pub stage: Stage,
    pub rounds: Vec<Round>,
    pub transitions: Vec<TransitionRow>,
    pub pauses: Vec<PauseRow>,
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
        let repo::CaseParts {
            case: c,
            pauses,
            rounds,
            transitions,
        } = repo::with_parts(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        self.may_view(actor, &c)?;
        let stage = c.stage;
        let clock = c.filed_on.as_deref().and_then(date).map(|filed| {
            let ps: Vec<Pause> = pauses.iter().filter_map(PauseRow::pause).collect();
            clock::compute(
                filed,
                &ps,
                self.clock.today(),
                c.closed_on.as_deref().and_then(date),
            )
        });
        let seats = self.seats(actor, &c).await?;
        let next = Transition::ALL
            .into_iter()
            .filter(|t| {
                t.target(stage).is_some()
                    && allowed_on_case(actor, c.organization_id, &seats, CaseAction::Transition(*t))
            })
            .collect();
        Ok(CaseDetail {
            rounds,
            transitions,
            pauses,
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
            case: c,
        })
    }
}
