//! Who may do what: the only place that decides. Handlers name an [`Action`]; the policy
//! answers. The web layer's route × role test enumerates every route against this table.

use zizhi_domain::case::{Performer, Transition};
use zizhi_domain::roles::Role;

pub use zizhi_domain::panel::Seat;

/// The signed-in person an action is done by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// The applicant organisation, for applicant users.
    pub organization_id: Option<i64>,
    /// Staff who must enrol a second factor first (`require_totp_for_staff`).
    pub needs_totp_enrollment: bool,
    /// Signed in with a one-time password: it must be changed before anything else.
    pub must_change_password: bool,
}

/// Everything a user can ask zizhi to do on the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The role's home page (待办).
    ViewHome,
    /// Own password, second factor, API tokens.
    ManageOwnAccount,
    ListUsers,
    CreateUser,
    ResetPassword,
    DisableUser,
    ListOrganizations,
    /// One organisation's record.
    ViewOrganization {
        organization_id: i64,
    },
    CreateOrganization,
    /// Change an organisation's 申请书 facts (address, representative, contacts).
    EditOrganization {
        organization_id: i64,
    },
    /// Approve or reject an organisation that registered itself (issue 13).
    DecideRegistration,
    ViewAuditLog,
    VerifyAuditChain,
    /// Attach evidence to an organisation's file.
    UploadEvidence {
        organization_id: i64,
    },
    /// Read an organisation's evidence.
    ViewEvidence {
        organization_id: i64,
    },
    /// See a case (and act on it, if the process lets this role).
    ViewCase {
        organization_id: i64,
    },
    /// Open a new application for one's organisation.
    CreateCase {
        organization_id: i64,
    },
}

/// What can be done on one case, beyond seeing it. Whether the process allows it *now* (the
/// stage) is the domain's state machine; whether *this person* may is [`allowed_on_case`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseAction {
    /// A step of the process (提交, 建档立项, 予以受理, …).
    Transition(Transition),
    /// The applicant's facts and the evidence filed per requirement.
    EditApplication,
    /// The registrar records the stamped, bound paper copy (5.2).
    RecordPaperCopy,
    /// The acceptance review's judgement of one of the five areas (5.2).
    JudgeReviewArea,
    /// Seat the project team and the expert panel (5.4).
    AssignTeam,
    /// The audit plan, activities and judgements per requirement (5.4).
    RecordEvaluation,
    /// One expert's vote (5.4).
    Vote,
    /// Hand the case to another project lead (a supervisor's act, with a reason).
    ReassignLead,
}

/// The policy for one case: the actor's role, the case's organisation and the actor's seats on
/// it. The project lead's steps are the *assigned* lead's only; assessors and experts act only
/// where they are seated; the panel's conclusion is the chair's; applicants only on their own
/// organisation's cases.
pub fn allowed_on_case(
    actor: &Actor,
    organization_id: i64,
    seats: &[Seat],
    action: CaseAction,
) -> bool {
    use CaseAction::*;
    if actor.needs_totp_enrollment || actor.must_change_password {
        return false;
    }
    let role = actor.role;
    let own = role == Role::Applicant && actor.organization_id == Some(organization_id);
    let lead = role == Role::ProjectLead && seats.contains(&Seat::Lead);
    match action {
        Transition(t) => match t.performer() {
            Performer::System => false,
            Performer::Role(Role::Applicant) => own,
            Performer::Role(Role::ProjectLead) => lead,
            Performer::Role(Role::Expert) => role == Role::Expert && seats.contains(&Seat::Chair),
            Performer::Role(r) => role == r,
        },
        EditApplication => own,
        RecordPaperCopy => role == Role::Registrar,
        JudgeReviewArea | AssignTeam => lead,
        RecordEvaluation => lead || (role == Role::Assessor && seats.contains(&Seat::Assessor)),
        Vote => role == Role::Expert && seats.contains(&Seat::Expert),
        ReassignLead => role == Role::Supervisor,
    }
}

/// The policy. Applicants act only within their own organisation.
pub fn allowed(actor: &Actor, action: &Action) -> bool {
    use Action::*;
    use Role::*;
    // A one-time password is changed, and a required second factor enrolled, before anything
    // else.
    if actor.needs_totp_enrollment || actor.must_change_password {
        return matches!(action, ViewHome | ManageOwnAccount);
    }
    match action {
        ViewHome | ManageOwnAccount => true,
        ListUsers | CreateUser | ResetPassword | DisableUser | CreateOrganization
        | DecideRegistration => actor.role == Administrator,
        ListOrganizations => actor.role.is_staff(),
        ViewOrganization { organization_id } => {
            actor.role.is_staff() || actor.organization_id == Some(*organization_id)
        }
        EditOrganization { organization_id } => match actor.role {
            Applicant => actor.organization_id == Some(*organization_id),
            Registrar | Administrator => true,
            _ => false,
        },
        ViewAuditLog | VerifyAuditChain => matches!(actor.role, Administrator | Supervisor),
        // Applicants for their own organisation; the staff who receive and evaluate cases.
        UploadEvidence { organization_id } => match actor.role {
            Applicant => actor.organization_id == Some(*organization_id),
            Registrar | ProjectLead | Assessor => true,
            _ => false,
        },
        ViewEvidence { organization_id } | ViewCase { organization_id } => {
            actor.role.is_staff() || actor.organization_id == Some(*organization_id)
        }
        CreateCase { organization_id } => {
            actor.role == Applicant && actor.organization_id == Some(*organization_id)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, org: Option<i64>) -> Actor {
        Actor {
            user_id: 1,
            username: "u".into(),
            display_name: "u".into(),
            role,
            organization_id: org,
            needs_totp_enrollment: false,
            must_change_password: false,
        }
    }

    #[test]
    fn only_administrators_manage_accounts() {
        for r in Role::ALL {
            assert_eq!(
                allowed(&actor(r, None), &Action::CreateUser),
                r == Role::Administrator,
                "{r:?}"
            );
        }
    }

    /// Issue 13: only an administrator approves or rejects a self-registered organisation.
    #[test]
    fn only_administrators_decide_registrations() {
        for r in Role::ALL {
            for org in [None, Some(7)] {
                assert_eq!(
                    allowed(&actor(r, org), &Action::DecideRegistration),
                    r == Role::Administrator,
                    "{r:?}"
                );
            }
        }
    }

    #[test]
    fn applicants_see_only_their_own_organisation() {
        let a = actor(Role::Applicant, Some(7));
        assert!(allowed(
            &a,
            &Action::ViewOrganization { organization_id: 7 }
        ));
        assert!(!allowed(
            &a,
            &Action::ViewOrganization { organization_id: 8 }
        ));
        assert!(!allowed(&a, &Action::ListOrganizations));
        assert!(allowed(
            &actor(Role::Registrar, None),
            &Action::ViewOrganization { organization_id: 8 }
        ));
    }

    #[test]
    fn a_one_time_password_is_changed_before_anything_else() {
        let mut a = actor(Role::Administrator, None);
        a.must_change_password = true;
        assert!(allowed(&a, &Action::ManageOwnAccount));
        assert!(allowed(&a, &Action::ViewHome));
        assert!(!allowed(&a, &Action::ListUsers));
        let mut lead = actor(Role::ProjectLead, None);
        lead.must_change_password = true;
        assert!(!allowed_on_case(
            &lead,
            7,
            &[Seat::Lead],
            CaseAction::JudgeReviewArea
        ));
    }

    #[test]
    fn staff_without_a_required_second_factor_may_only_enrol() {
        let mut a = actor(Role::Administrator, None);
        a.needs_totp_enrollment = true;
        assert!(allowed(&a, &Action::ManageOwnAccount));
        assert!(!allowed(&a, &Action::ListUsers));
    }

    #[test]
    fn evidence_is_uploaded_by_its_applicant_and_case_staff_and_read_by_staff() {
        let own = Action::UploadEvidence { organization_id: 7 };
        assert!(allowed(&actor(Role::Applicant, Some(7)), &own));
        assert!(!allowed(&actor(Role::Applicant, Some(8)), &own));
        for r in [Role::Registrar, Role::ProjectLead, Role::Assessor] {
            assert!(allowed(&actor(r, None), &own), "{r:?}");
        }
        for r in [
            Role::Expert,
            Role::Approver,
            Role::Administrator,
            Role::Supervisor,
        ] {
            assert!(!allowed(&actor(r, None), &own), "{r:?}");
            assert!(
                allowed(
                    &actor(r, None),
                    &Action::ViewEvidence { organization_id: 7 }
                ),
                "{r:?}"
            );
        }
        assert!(!allowed(
            &actor(Role::Applicant, Some(8)),
            &Action::ViewEvidence { organization_id: 7 }
        ));
    }

    fn on_case(role: Role, org: Option<i64>, seats: &[Seat], action: CaseAction) -> bool {
        allowed_on_case(&actor(role, org), 7, seats, action)
    }

    /// 5.2–5.4: the lead's steps are the assigned lead's; another project lead is refused.
    #[test]
    fn only_the_assigned_lead_takes_the_leads_steps() {
        use CaseAction::*;
        for action in [
            Transition(zizhi_domain::case::Transition::Accept),
            Transition(zizhi_domain::case::Transition::SendAgreement),
            Transition(zizhi_domain::case::Transition::ConcludeAudit),
            JudgeReviewArea,
            AssignTeam,
            RecordEvaluation,
        ] {
            assert!(
                on_case(Role::ProjectLead, None, &[Seat::Lead], action),
                "{action:?}"
            );
            assert!(!on_case(Role::ProjectLead, None, &[], action), "{action:?}");
            // A seat without the role (a lead who became an assessor) is not enough either.
            assert!(
                !on_case(Role::Assessor, None, &[Seat::Lead], action),
                "{action:?}"
            );
        }
    }

    #[test]
    fn assessors_record_evaluation_only_where_seated() {
        use CaseAction::*;
        assert!(on_case(
            Role::Assessor,
            None,
            &[Seat::Assessor],
            RecordEvaluation
        ));
        assert!(!on_case(Role::Assessor, None, &[], RecordEvaluation));
        assert!(!on_case(
            Role::Assessor,
            None,
            &[Seat::Assessor],
            JudgeReviewArea
        ));
        assert!(!on_case(
            Role::Expert,
            None,
            &[Seat::Expert],
            RecordEvaluation
        ));
    }

    /// 5.4: every seated expert votes; only the chair records the panel's conclusion.
    #[test]
    fn experts_vote_where_seated_and_the_chair_concludes() {
        use CaseAction::*;
        use zizhi_domain::case::Transition as T;
        assert!(on_case(Role::Expert, None, &[Seat::Expert], Vote));
        assert!(!on_case(Role::Expert, None, &[], Vote));
        for t in [T::PanelPass, T::PanelFail, T::PanelReturn] {
            assert!(on_case(
                Role::Expert,
                None,
                &[Seat::Expert, Seat::Chair],
                Transition(t)
            ));
            assert!(!on_case(Role::Expert, None, &[Seat::Expert], Transition(t)));
            assert!(!on_case(
                Role::ProjectLead,
                None,
                &[Seat::Lead],
                Transition(t)
            ));
        }
    }

    #[test]
    fn applicants_act_on_their_own_cases_and_the_registrar_files_and_returns() {
        use CaseAction::*;
        use zizhi_domain::case::Transition as T;
        assert!(on_case(
            Role::Applicant,
            Some(7),
            &[],
            Transition(T::Submit)
        ));
        assert!(!on_case(
            Role::Applicant,
            Some(8),
            &[],
            Transition(T::Submit)
        ));
        assert!(on_case(Role::Applicant, Some(7), &[], EditApplication));
        assert!(!on_case(Role::Applicant, Some(8), &[], EditApplication));
        for t in [T::File, T::ReturnToApplicant] {
            assert!(on_case(Role::Registrar, None, &[], Transition(t)));
            assert!(!on_case(
                Role::ProjectLead,
                None,
                &[Seat::Lead],
                Transition(t)
            ));
        }
        assert!(!on_case(
            Role::Registrar,
            None,
            &[],
            Transition(T::MarkLapsed)
        ));
        for r in Role::ALL {
            assert_eq!(
                on_case(r, None, &[], ReassignLead),
                r == Role::Supervisor,
                "{r:?}"
            );
        }
    }

    #[test]
    fn the_audit_log_is_for_administrators_and_supervisors() {
        for r in Role::ALL {
            let expect = matches!(r, Role::Administrator | Role::Supervisor);
            assert_eq!(
                allowed(&actor(r, None), &Action::ViewAuditLog),
                expect,
                "{r:?}"
            );
        }
    }
}
