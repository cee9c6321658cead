//! The people who use zizhi (DESIGN.md §1). Who may do what is decided in `zizhi-app`'s policy;
//! this is only the vocabulary.

use crate::lang::Text;

/// A user's role. One role per account; separation of duties is enforced per case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// 申请单位用户 — sees only its own organisation's data.
    Applicant,
    /// 受理登记
    Registrar,
    /// 项目负责人
    ProjectLead,
    /// 项目组成员
    Assessor,
    /// 专家组成员
    Expert,
    /// 合同/财务
    ContractFinance,
    /// 制证工作人员
    CertificateOfficer,
    /// 审批人
    Approver,
    /// 监督部门
    Supervisor,
    /// 系统管理员
    Administrator,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Applicant,
        Role::Registrar,
        Role::ProjectLead,
        Role::Assessor,
        Role::Expert,
        Role::ContractFinance,
        Role::CertificateOfficer,
        Role::Approver,
        Role::Supervisor,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Applicant => "applicant",
            Role::Registrar => "registrar",
            Role::ProjectLead => "project_lead",
            Role::Assessor => "assessor",
            Role::Expert => "expert",
            Role::ContractFinance => "contract_finance",
            Role::CertificateOfficer => "certificate_officer",
            Role::Approver => "approver",
            Role::Supervisor => "supervisor",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Role::Applicant => ("申请单位用户", "Applicant"),
            Role::Registrar => ("受理登记", "Registrar"),
            Role::ProjectLead => ("项目负责人", "Project lead"),
            Role::Assessor => ("项目组成员", "Assessor"),
            Role::Expert => ("专家组成员", "Expert"),
            Role::ContractFinance => ("合同/财务", "Contract & finance"),
            Role::CertificateOfficer => ("制证工作人员", "Certificate officer"),
            Role::Approver => ("审批人", "Approver"),
            Role::Supervisor => ("监督部门", "Supervisor"),
            Role::Administrator => ("系统管理员", "Administrator"),
        };
        Text::new(zh, en)
    }

    /// Staff work for the centre; applicants belong to an applicant organisation.
    pub fn is_staff(self) -> bool {
        self != Role::Applicant
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
        assert!(!Role::Applicant.is_staff());
        assert!(Role::Registrar.is_staff());
    }
}
