//! The expert panel (专家组, 5.4): the seated experts vote on the dossier fixed by the audit
//! conclusion, and the panel concludes: pass to certification, fail, or return to evaluation.

use serde_json::json;
use zizhi_domain::case::{Stage, Transition};
use zizhi_store::Tx;
use zizhi_store::cases::CaseRow;
use zizhi_store::evaluation as ev;

use super::require_stage;
use super::transition::{Effects, Step};
use crate::notify::messages;
use crate::policy::{Actor, CaseAction};
use crate::{App, AppError, Result};
use zizhi_domain::panel::{PanelError, Tally, Vote as PanelVote, check_conclusion};

/// The panel as the viewer may see it. Votes are secret until every seat has voted: before
/// that an expert sees only its own vote, and nobody sees the tally; afterwards the votes and
/// every opinion — dissenting ones included — stay on the record.
#[derive(Debug, Clone)]
pub struct PanelView {
    /// Seated experts.
    pub seats: usize,
    /// How many of them have voted this round.
    pub cast: usize,
    /// The votes this viewer may see.
    pub votes: Vec<ev::Vote>,
    /// Once every seat has voted: the count and the conclusion it gives.
    pub tally: Option<Tally>,
    pub conclusion: Option<PanelVote>,
    /// The viewer's own vote this round, if any.
    pub mine: Option<ev::Vote>,
}

impl App {
    /// A seated expert votes on the current review round, with its opinion (专家评审意见).
    /// Nothing is pre-selected: the vote must be named.
    pub async fn panel_vote(
        &self,
        actor: &Actor,
        case_id: i64,
        vote: &str,
        opinion: &str,
    ) -> Result<()> {
        let c = self.load(actor, case_id).await?;
        self.authorize_case(actor, &c, CaseAction::Vote).await?;
        require_stage(&c, &[Stage::ExpertReview])?;
        let vote = PanelVote::parse(vote).ok_or_else(|| {
            AppError::invalid(
                "vote",
                "请选择表决意见：pass（通过）、fail（不通过）或 return（退回补充评估）",
                "choose the vote: pass, fail or return",
            )
        })?;
        crate::limits::bounded("opinion", opinion.trim(), crate::limits::TEXT)?;
        if opinion.trim().is_empty() {
            return Err(AppError::invalid(
                "opinion",
                "请填写专家评审意见",
                "write the review opinion",
            ));
        }
        let mut tx = self.db.begin().await?;
        ev::add_vote(
            &mut tx,
            case_id,
            actor.user_id,
            vote.as_str(),
            opinion.trim(),
            c.review_round,
        )
        .await
        .map_err(|e| match AppError::from(e) {
            AppError::Store(zizhi_store::StoreError::Conflict(_)) => AppError::Conflict {
                field: "vote".into(),
            },
            other => other,
        })?;
        self.record(
            &mut tx,
            Some(actor),
            "case.panel_vote",
            case_id,
            json!({"vote": vote.as_str(), "round": c.review_round, "dossier_hash": c.dossier_hash}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The panel of the current review round as this viewer may see it (centre staff).
    pub async fn panel(&self, actor: &Actor, case_id: i64) -> Result<PanelView> {
        if !actor.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        let c = self.load(actor, case_id).await?;
        self.panel_of(actor, &c).await
    }

    /// [`App::panel`] of a case already read for its viewer.
    /// `team` is the case's team as [`App::team_of`] gave it for the same page (the members
    /// are not read a second time); the votes come with the case's records.
    pub async fn panel_of_case(
        &self,
        d: &crate::cases::CaseDetail,
        team: &[ev::Member],
    ) -> Result<PanelView> {
        if !d.viewer.role.is_staff() {
            return Err(AppError::Forbidden);
        }
        let votes = self.records_of(d).await?.votes.clone();
        Ok(panel_view(&d.viewer, seated(team, votes)))
    }

    /// The seated experts and their votes of the current review round (votes of anyone no
    /// longer seated do not count).
    async fn seated_votes(&self, c: &CaseRow) -> Result<(Vec<i64>, Vec<ev::Vote>)> {
        let team = ev::members(&self.db, c.id).await?;
        let votes = ev::votes(&self.db, c.id, c.review_round).await?;
        Ok(seated(&team, votes))
    }

    pub(crate) async fn panel_of(&self, actor: &Actor, c: &CaseRow) -> Result<PanelView> {
        Ok(panel_view(actor, self.seated_votes(c).await?))
    }
    /// The chair records the panel's conclusion with its opinion; the conclusion must be the
    /// one the votes give (more than half of the seats), on a panel of the centre's size.
    pub(super) async fn on_panel(
        &self,
        _tx: &mut Tx,
        step: &Step<'_>,
        c: &mut CaseRow,
        fx: &mut Effects,
    ) -> Result<()> {
        let (experts, votes) = self.seated_votes(c).await?;
        let cast: Vec<PanelVote> = votes.iter().map(|v| v.vote).collect();
        let wanted = match step.t {
            Transition::PanelPass => PanelVote::Pass,
            Transition::PanelFail => PanelVote::Fail,
            _ => PanelVote::Return,
        };
        check_conclusion(wanted, experts.len(), self.config.panel_min_experts, &cast).map_err(
            |e| AppError::Invalid {
                field: match e {
                    PanelError::TooSmall { .. } => "experts".into(),
                    _ => "votes".into(),
                },
                problem: e.text(),
            },
        )?;
        let tally = Tally::count(experts.len(), &cast);
        fx.summary["dossier_hash"] = json!(c.dossier_hash);
        fx.summary["tally"] = json!({"seats": tally.seats, "pass": tally.pass, "fail": tally.fail, "return": tally.ret});
        fx.summary["votes"] = json!(
            votes
                .iter()
                .map(|v| json!({"expert_id": v.expert_id, "vote": v.vote.as_str(), "opinion": v.opinion}))
                .collect::<Vec<_>>()
        );
        match step.t {
            Transition::PanelFail => {
                c.closed_on = Some(step.today.to_string());
                // 七: the applicant may appeal the conclusion in writing.
                fx.mail = Some(messages::panel_failed(step.note));
            }
            Transition::PanelPass => fx.mail = Some(messages::panel_passed()),
            _ => {}
        }
        Ok(())
    }
}

/// The seated experts of `team` and those of `votes` (the review round's) cast by them.
fn seated(team: &[ev::Member], votes: Vec<ev::Vote>) -> (Vec<i64>, Vec<ev::Vote>) {
    let experts: Vec<i64> = team
        .iter()
        .filter(|m| m.duty == "expert")
        .map(|m| m.user_id)
        .collect();
    let votes = votes
        .into_iter()
        .filter(|v| experts.contains(&v.expert_id))
        .collect();
    (experts, votes)
}

/// The panel as `actor` may see it, from its seated experts and their votes.
fn panel_view(actor: &Actor, (experts, all): (Vec<i64>, Vec<ev::Vote>)) -> PanelView {
    let mine = all.iter().find(|v| v.expert_id == actor.user_id).cloned();
    let parsed: Vec<PanelVote> = all.iter().map(|v| v.vote).collect();
    let tally = Tally::count(experts.len(), &parsed);
    let complete = tally.conclusion().is_some();
    PanelView {
        seats: experts.len(),
        cast: all.len(),
        votes: if complete {
            all
        } else {
            mine.iter().cloned().collect()
        },
        tally: complete.then_some(tally),
        conclusion: tally.conclusion(),
        mine,
    }
}
