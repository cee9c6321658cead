//! What a case waits for now and from whom: the banner at the top of a case page and the
//! applicant's 待办 (signing the agreement and paying are not transitions the applicant
//! performs in zizhi, but they are what the case waits for).

use chrono::NaiveDate;
use zizhi_domain::case::Stage;
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::money::Cny;
use zizhi_domain::roles::Role;
use zizhi_store::cases::CaseRow;

use super::detail::CaseDetail;
use crate::policy::Seat;

/// One thing the case waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// Who is expected to act (`Applicant` for the applicant company).
    pub role: Role,
    pub task: Text,
    /// The day by which it is due, where the guide gives one: the supplement deadline (one
    /// month, 5.2) for the applicant, the project's three-month target (九.3) for the
    /// centre's steps while the project clock runs. Signing and paying have none in the guide.
    pub due: Option<NaiveDate>,
}

/// Everything a case in `stage` waits for, the party that acts first first. `due` is the
/// project clock's target day for the centre's steps (None before filing or while paused).
pub fn expected(c: &CaseRow, stage: Stage, target_due: Option<NaiveDate>) -> Vec<Expected> {
    use Role::*;
    let supplement_due = c
        .supplement_due
        .as_deref()
        .and_then(zizhi_domain::calendar::parse_date);
    let centre = |role: Role, zh: &str, en: &str| Expected {
        role,
        task: Text::new(zh, en),
        due: target_due,
    };
    let applicant = |zh: String, en: String, due: Option<NaiveDate>| Expected {
        role: Applicant,
        task: Text::new(zh, en),
        due,
    };
    let fee = c.fee_fen.map(Cny::from_fen);
    match stage {
        Stage::Draft => vec![applicant(
            "填写申请资料、上传证据，资料齐全后提交申请".into(),
            "fill in the application, upload the evidence and submit once it is complete".into(),
            None,
        )],
        Stage::Submitted if c.paper_received_us.is_none() => vec![
            applicant(
                "将加盖公章并装订成册的纸版申请书和刻录电子版资料的光盘以快递方式寄送测评中心（指南 四、5.2）".into(),
                "send the stamped, bound paper application and a disc with the electronic files to the centre by courier (guide 4, 5.2)".into(),
                None,
            ),
            centre(Registrar, "收到纸版申请书后登记，建档立项", "record the paper copy when it arrives, then file the case"),
        ],
        Stage::Submitted => vec![centre(
            Registrar,
            "核对建档立项的三个条件（5.2）后建档立项，指定项目负责人",
            "check the three filing conditions (5.2), file the case and name its lead",
        )],
        Stage::AcceptanceReview => vec![centre(
            ProjectLead,
            "判定五个方面证据的充分性，予以受理、要求补充资料或不予受理（5.2）",
            "judge the evidence in the five areas, then accept, ask for a supplement or refuse (5.2)",
        )],
        Stage::Supplementing => vec![applicant(
            "按受理审查意见补充资料并重新提交".into(),
            "supplement the application as the review opinions ask and submit it again".into(),
            supplement_due,
        )],
        Stage::Lapsed => vec![centre(
            ProjectLead,
            "补充资料期限已过：终止项目，或延长补充资料期限",
            "the supplement deadline has passed: terminate the case or extend the deadline",
        )],
        Stage::AgreementDrafting => vec![centre(
            ProjectLead,
            "起草制式委托协议，确定委托测评费用并发送申请单位（5.3）",
            "draft the standard agreement, set the fee and send it to the applicant (5.3)",
        )],
        Stage::AgreementSent => vec![
            applicant(
                "签署委托协议并寄回测评中心（5.3）".into(),
                "sign the evaluation agreement and return it to the centre (5.3)".into(),
                None,
            ),
            centre(
                ProjectLead,
                "收到申请单位签署的委托协议后登记",
                "record the agreement once the applicant's signed copy arrives",
            ),
        ],
        Stage::AgreementSigned => vec![centre(
            ContractFinance,
            "按合同管理要求审批委托协议",
            "approve the agreement under the centre's contract rules",
        )],
        Stage::AgreementEffective => vec![
            applicant(
                match fee {
                    Some(f) => format!("支付委托测评费用 {}（5.3）", f.display(Lang::Zh)),
                    None => "支付委托测评费用（5.3）".into(),
                },
                match fee {
                    Some(f) => format!("pay the evaluation fee of {} (5.3)", f.display(Lang::En)),
                    None => "pay the evaluation fee (5.3)".into(),
                },
                None,
            ),
            centre(
                ContractFinance,
                "收到委托测评费用后确认收款",
                "confirm the payment once it has arrived",
            ),
        ],
        Stage::Evaluation => vec![
            centre(
                ProjectLead,
                "组织评估：指定项目组和专家组，给出项目审核结论（5.4）",
                "run the evaluation: seat the team and the panel, give the audit conclusion (5.4)",
            ),
            centre(
                Assessor,
                "按审核计划开展评估，记录评估活动与逐项判定（5.4）",
                "evaluate to the audit plan: record activities and a judgement per requirement (5.4)",
            ),
        ],
        Stage::ExpertReview => vec![centre(
            Expert,
            "评定证据的充分性与审核结论的合理性并表决（5.4）",
            "judge the evidence and the audit conclusion, and vote (5.4)",
        )],
        Stage::Certification => vec![centre(
            CertificateOfficer,
            "将证书编入批次、审批并发证（5.5）",
            "put the certificate into a batch, have it approved and issue it (5.5)",
        )],
        Stage::Certified
        | Stage::NotAccepted
        | Stage::Failed
        | Stage::Terminated
        | Stage::Withdrawn => Vec::new(),
    }
}

impl CaseDetail {
    /// What the case waits for now (see [`expected`]).
    pub fn waiting_for(&self) -> Vec<Expected> {
        let target = self
            .clock
            .as_ref()
            .filter(|k| !k.paused_now)
            .map(|k| k.target_due);
        expected(&self.case, self.stage, target)
    }

    /// The part of [`CaseDetail::waiting_for`] that is the viewer's to do: the applicant's
    /// for a member of the applicant, a seat's for the person in it (the assigned lead, a
    /// team member, a panel member), a role's for the registrar, contract & finance and the
    /// certificate officer.
    pub fn expected_of_viewer(&self) -> Option<Expected> {
        let v = &self.viewer;
        let mine = |e: &Expected| {
            e.role == v.role
                && match e.role {
                    Role::Applicant => v.organization_id == Some(self.case.organization_id),
                    Role::ProjectLead => self.seats.contains(&Seat::Lead),
                    Role::Assessor => self.seats.contains(&Seat::Assessor),
                    Role::Expert => self.seats.contains(&Seat::Expert),
                    _ => true,
                }
        };
        // The lead may also record evaluation activities; the lead's own task comes first.
        self.waiting_for().into_iter().find(mine)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(stage: Stage) -> CaseRow {
        CaseRow {
            id: 1,
            organization_id: 7,
            category: "disaster_recovery".into(),
            level: 2,
            kind: zizhi_domain::fees::ApplicationKind::Initial,
            stage,
            profile: String::new(),
            paper_received_us: None,
            filed_on: None,
            supplement_due: Some("2026-12-28".into()),
            closed_on: None,
            agreement_no: None,
            fee_fen: Some(6_300_000),
            lead_id: None,
            audit_conclusion: None,
            dossier_hash: None,
            review_round: 0,
            batch_id: None,
            created_by: 1,
            created_us: 0,
        }
    }

    #[test]
    fn each_open_stage_waits_for_someone_and_closed_ones_for_nobody() {
        for s in Stage::ALL {
            let e = expected(&case(s), s, None);
            assert_eq!(e.is_empty(), s.is_closed(), "{s:?}");
        }
    }

    #[test]
    fn the_applicant_is_told_the_supplement_deadline_and_the_fee() {
        // 5.2: the supplement is due within a month; the case's deadline is the one shown.
        let e = expected(&case(Stage::Supplementing), Stage::Supplementing, None);
        assert_eq!(e[0].role, Role::Applicant);
        assert_eq!(e[0].due, NaiveDate::from_ymd_opt(2026, 12, 28));
        // 5.3: paying is the applicant's step; the amount is the agreement's fee (九: 63 000 元).
        let e = expected(
            &case(Stage::AgreementEffective),
            Stage::AgreementEffective,
            None,
        );
        assert_eq!(e[0].role, Role::Applicant);
        assert!(e[0].task.zh.contains("63,000.00 元"), "{}", e[0].task.zh);
        assert_eq!(e[1].role, Role::ContractFinance);
        // Signing: the applicant first, the lead records it.
        let e = expected(&case(Stage::AgreementSent), Stage::AgreementSent, None);
        assert_eq!((e[0].role, e[1].role), (Role::Applicant, Role::ProjectLead));
    }

    #[test]
    fn the_paper_copy_is_asked_for_until_it_is_recorded() {
        let mut c = case(Stage::Submitted);
        assert_eq!(
            expected(&c, Stage::Submitted, None)[0].role,
            Role::Applicant
        );
        c.paper_received_us = Some(1);
        let e = expected(&c, Stage::Submitted, None);
        assert_eq!(e.len(), 1);
        assert_eq!(e[0].role, Role::Registrar);
    }

    #[test]
    fn the_centre_steps_carry_the_project_target() {
        let day = NaiveDate::from_ymd_opt(2027, 3, 1);
        let e = expected(&case(Stage::AcceptanceReview), Stage::AcceptanceReview, day);
        assert_eq!((e[0].role, e[0].due), (Role::ProjectLead, day));
    }
}
