//! Who may do what: the only place that decides. Handlers name an [`Action`]; the policy
//! answers. The web layer's route × role test enumerates every route against this table.

use zizhi_domain::roles::Role;

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

/// The policy. Applicants act only within their own organisation.
pub fn allowed(actor: &Actor, action: &Action) -> bool {
    use Action::*;
    use Role::*;
    if actor.needs_totp_enrollment {
        return matches!(action, ViewHome | ManageOwnAccount);
    }
    match action {
        ViewHome | ManageOwnAccount => true,
        ListUsers | CreateUser | ResetPassword | DisableUser | CreateOrganization => {
            actor.role == Administrator
        }
        ListOrganizations => actor.role.is_staff(),
        ViewOrganization { organization_id } => {
            actor.role.is_staff() || actor.organization_id == Some(*organization_id)
        }
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
