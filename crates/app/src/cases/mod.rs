//! Cases (guide §五), one module per stage of the guide:
//!
//! | module | guide | what |
//! |---|---|---|
//! | [`submission`] | 5.1, 5.2 | draft, facts, evidence per requirement, completeness; submit, resubmit, withdraw |
//! | [`filing`] | 5.2 | the paper copy; filing (建档立项) |
//! | [`acceptance`] | 5.2 | the five review areas; accept, refuse, supplement (one month), lapse, extend, terminate |
//! | [`agreement`] | 5.3, 九 | the delegation agreement, its fee, payment |
//! | [`evaluation`] | 5.4 | team, audit plan and activities, judgements; the audit conclusion |
//! | [`panel`] | 5.4 | the expert panel's votes and conclusion |
//! | [`certification`] | 5.5 | batches and issue |
//! | [`transition`] | | lock → domain check → policy → the stage's effects → write → outbox → audit |
//! | [`detail`], [`lists`] | | one case for its viewer; lists, dashboard, 待办 |
//!
//! Every transition is decided by `zizhi_domain::case` and written with its audit event in one
//! transaction.

pub mod acceptance;
pub mod agreement;
pub mod certification;
pub mod dashboard;
pub mod detail;
pub mod evaluation;
pub mod filing;
pub mod lists;
pub mod panel;
pub mod submission;
pub mod transition;
pub mod waiting;

use chrono::{Datelike, NaiveDate};
use zizhi_domain::case::Stage;
use zizhi_domain::criteria::Pack;
use zizhi_domain::lang::Text;
use zizhi_domain::period::china_standard_time;
use zizhi_domain::profile::{Profile, RawProfile};
use zizhi_store::Tx;
use zizhi_store::cases::{self as repo, CaseRow};

use crate::policy::{Action, Actor, CaseAction, Seat, allowed_on_case};
use crate::{App, AppError, Result};
use zizhi_domain::roles::Role;

pub use dashboard::DashboardRow;
pub use detail::CaseDetail;

/// The number people quote (受理编号): year of opening and the case id, e.g. `ZZ-2026-00042`.
pub fn case_number(c: &CaseRow) -> String {
    let year = chrono::DateTime::from_timestamp_micros(c.created_us)
        .map_or(0, |d| d.with_timezone(&china_standard_time()).year());
    format!("ZZ-{year}-{:05}", c.id)
}

/// The shipped packs, parsed once.
pub(crate) fn packs() -> &'static [Pack] {
    static PACKS: std::sync::OnceLock<Vec<Pack>> = std::sync::OnceLock::new();
    PACKS.get_or_init(Pack::shipped)
}

/// Whose cases a list shows the actor: all for centre staff, an applicant's own organisation's.
fn listed_organization(actor: &Actor) -> Result<Option<i64>> {
    // Lists are work: not before a one-time password is changed or a required second factor
    // enrolled.
    if actor.must_change_password || actor.needs_totp_enrollment {
        return Err(AppError::Forbidden);
    }
    if actor.role.is_staff() {
        Ok(None)
    } else {
        Ok(Some(actor.organization_id.ok_or(AppError::Forbidden)?))
    }
}

/// The case's stage when it is one of `allowed`; otherwise 409 naming the current stage.
pub(crate) fn require_stage(c: &CaseRow, allowed: &[Stage]) -> Result<Stage> {
    let s = c.stage;
    if allowed.contains(&s) {
        Ok(s)
    } else {
        Err(AppError::WrongStage { current: s.name() })
    }
}

fn date(s: &str) -> Option<NaiveDate> {
    zizhi_domain::calendar::parse_date(s)
}

/// Validates the facts of a case: a whole profile whose category, level and kind are the case's.
fn parse_profile(c: &CaseRow, raw: &serde_json::Value) -> Result<Profile> {
    let raw: RawProfile = serde_path_to_error::deserialize(raw.clone()).map_err(|e| {
        // Name the field: the path to the error, plus the missing or unknown field's name.
        let path = e.path().to_string();
        let msg = e.inner().to_string();
        let named = msg
            .split('`')
            .nth(1)
            .filter(|_| msg.starts_with("missing field") || msg.starts_with("unknown field"));
        let field = match (path.as_str(), named) {
            (".", Some(n)) => format!("profile.{n}"),
            (p, Some(n)) if !p.ends_with(n) => format!("profile.{p}.{n}"),
            (".", None) => "profile".to_string(),
            (p, _) => format!("profile.{p}"),
        };
        AppError::Invalid {
            field,
            problem: Text::new(
                format!("申请资料格式有误：{msg}"),
                format!("the application facts are malformed: {msg}"),
            ),
        }
    })?;
    let p = Profile::parse(&raw).map_err(|e| AppError::Invalid {
        field: format!("profile.{}", e.field),
        problem: e.problem,
    })?;
    if p.category.as_str() != c.category || i32::from(p.level) != c.level || p.kind != c.kind {
        return Err(AppError::invalid(
            "profile",
            "申请资料的类别、级别或申请类型与案件不一致",
            "the facts' category, level or kind differ from the case's",
        ));
    }
    Ok(p)
}

/// The case's saved facts as a validated profile (the same check as at submission).
pub(crate) fn case_facts(c: &CaseRow) -> Result<Profile> {
    let raw: serde_json::Value = serde_json::from_str(&c.profile)
        .map_err(|e| AppError::Internal(format!("case {} facts: {e}", c.id)))?;
    parse_profile(c, &raw)
}

impl App {
    /// Appends the case's audit event inside the change's transaction.
    pub(crate) async fn record(
        &self,
        tx: &mut Tx,
        actor: Option<&Actor>,
        action: &str,
        case_id: i64,
        summary: serde_json::Value,
    ) -> Result<()> {
        crate::audit::record(tx, actor, action, "case", case_id, summary).await
    }

    /// The case, when the actor may see it.
    pub(crate) async fn load(&self, actor: &Actor, id: i64) -> Result<CaseRow> {
        let c = repo::get(&self.db, id)
            .await?
            .ok_or(AppError::NotFound("case"))?;
        self.may_view(actor, &c)?;
        Ok(c)
    }

    /// Denies unless the policy lets the actor see case `c`.
    pub(crate) fn may_view(&self, actor: &Actor, c: &CaseRow) -> Result<()> {
        self.authorize(
            actor,
            &Action::ViewCase {
                organization_id: c.organization_id,
            },
        )
    }

    /// Evidence cited on a case must be the applicant organisation's own: names the first
    /// that is not.
    pub(crate) async fn require_own_evidence(
        &self,
        organization_id: i64,
        field: &str,
        ids: &[i64],
    ) -> Result<()> {
        if ids.is_empty() {
            return Ok(());
        }
        let own = zizhi_store::evaluation::evidence_ids(&self.db, organization_id).await?;
        match ids.iter().find(|e| !own.contains(e)) {
            Some(bad) => Err(AppError::invalid(
                field,
                format!("证据 {bad} 不属于该申请单位"),
                format!("evidence {bad} is not this applicant's"),
            )),
            None => Ok(()),
        }
    }

    /// The actor's seats on a case: its assigned lead, a seat on the team or the panel.
    pub(crate) async fn seats(&self, actor: &Actor, c: &CaseRow) -> Result<Vec<Seat>> {
        let mut seats = Vec::new();
        if c.lead_id == Some(actor.user_id) {
            seats.push(Seat::Lead);
        }
        if matches!(actor.role, Role::Assessor | Role::Expert) {
            for m in zizhi_store::evaluation::members(&self.db, c.id).await? {
                if m.user_id == actor.user_id {
                    seats.push(match m.duty.as_str() {
                        "assessor" => Seat::Assessor,
                        _ => Seat::Expert,
                    });
                    if m.chair {
                        seats.push(Seat::Chair);
                    }
                }
            }
        }
        Ok(seats)
    }

    /// Denies unless the policy lets the actor, with its seats on the case, do `action`.
    /// Whether the actor may do `action` on case `id` (a page checks before reading a form).
    pub async fn authorize_on_case(
        &self,
        actor: &Actor,
        id: i64,
        action: crate::policy::CaseAction,
    ) -> Result<()> {
        let c = self.load(actor, id).await?;
        self.authorize_case(actor, &c, action).await.map(|_| ())
    }

    pub(crate) async fn authorize_case(
        &self,
        actor: &Actor,
        c: &CaseRow,
        action: CaseAction,
    ) -> Result<Vec<Seat>> {
        let seats = self.seats(actor, c).await?;
        if allowed_on_case(actor, c.organization_id, &seats, action) {
            Ok(seats)
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// A person the centre may put on a case of `organization_id` in `role`: an active centre
    /// user of that role who has declared no conflict of interest with the applicant.
    pub(crate) async fn seatable(
        &self,
        user_id: i64,
        role: Role,
        organization_id: i64,
        field: &str,
    ) -> Result<zizhi_store::users::User> {
        let u = zizhi_store::users::by_id(&self.db, user_id)
            .await?
            .ok_or_else(|| {
                AppError::invalid(
                    field,
                    format!("用户 {user_id} 不存在"),
                    format!("user {user_id} does not exist"),
                )
            })?;
        if u.role != role.as_str() || u.organization_id.is_some() || u.disabled {
            return Err(AppError::invalid(
                field,
                format!("{} 不是在岗的{}", u.username, role.name().zh),
                format!("{} is not an active {}", u.username, role.name().en),
            ));
        }
        // Related to the applicant: employed by it, or a declared conflict of interest.
        if u.organization_id == Some(organization_id)
            || zizhi_store::evaluation::conflicts_of(&self.db, user_id)
                .await?
                .iter()
                .any(|c| c.organization_id == organization_id)
        {
            return Err(AppError::invalid(
                field,
                format!("{} 与申请单位存在利益冲突，不得参与本项目", u.username),
                format!(
                    "{} has a conflict of interest with the applicant and may not sit on this case",
                    u.username
                ),
            ));
        }
        Ok(u)
    }
}
