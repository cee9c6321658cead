//! The process of one application (one project, DESIGN.md §2, guide §五) as a state machine:
//! every transition names the role that may perform it and the stages it starts from. The
//! app layer records each transition with its audit event; this module only decides.

use serde::Serialize;

use crate::lang::Text;
use crate::roles::Role;

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 草稿 — the applicant fills the application.
    Draft,
    /// 已提交 — waiting for the paper copy and filing.
    Submitted,
    /// 受理审查 — filed (建档立项); the project lead reviews (5.2).
    AcceptanceReview,
    /// 补充资料中 — supplement requested; the one-month deadline runs; the clock is paused.
    Supplementing,
    /// 逾期未补充资料 — the deadline passed; the lead terminates or extends.
    Lapsed,
    /// 立项：起草委托协议 (5.3)
    AgreementDrafting,
    /// 委托协议已发送 — the clock is paused from here until payment.
    AgreementSent,
    /// 委托协议已签署
    AgreementSigned,
    /// 委托协议已生效 — approved by contract & finance; waiting for payment.
    AgreementEffective,
    /// 评估 (5.4)
    Evaluation,
    /// 专家评审 (5.4)
    ExpertReview,
    /// 发证 (5.5) — in a certificate batch.
    Certification,
    /// 已发证
    Certified,
    /// 不予受理 (appealable)
    NotAccepted,
    /// 专家评审未通过 (appealable)
    Failed,
    /// 已终止 (after a lapsed supplement deadline)
    Terminated,
    /// 已撤回
    Withdrawn,
}

impl Stage {
    pub const ALL: [Stage; 17] = [
        Stage::Draft,
        Stage::Submitted,
        Stage::AcceptanceReview,
        Stage::Supplementing,
        Stage::Lapsed,
        Stage::AgreementDrafting,
        Stage::AgreementSent,
        Stage::AgreementSigned,
        Stage::AgreementEffective,
        Stage::Evaluation,
        Stage::ExpertReview,
        Stage::Certification,
        Stage::Certified,
        Stage::NotAccepted,
        Stage::Failed,
        Stage::Terminated,
        Stage::Withdrawn,
    ];

    /// The stored name (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Draft => "draft",
            Stage::Submitted => "submitted",
            Stage::AcceptanceReview => "acceptance_review",
            Stage::Supplementing => "supplementing",
            Stage::Lapsed => "lapsed",
            Stage::AgreementDrafting => "agreement_drafting",
            Stage::AgreementSent => "agreement_sent",
            Stage::AgreementSigned => "agreement_signed",
            Stage::AgreementEffective => "agreement_effective",
            Stage::Evaluation => "evaluation",
            Stage::ExpertReview => "expert_review",
            Stage::Certification => "certification",
            Stage::Certified => "certified",
            Stage::NotAccepted => "not_accepted",
            Stage::Failed => "failed",
            Stage::Terminated => "terminated",
            Stage::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn name(self) -> Text {
        let (zh, en) = match self {
            Stage::Draft => ("草稿", "Draft"),
            Stage::Submitted => ("已提交", "Submitted"),
            Stage::AcceptanceReview => ("受理审查", "Acceptance review"),
            Stage::Supplementing => ("补充资料中", "Supplementing"),
            Stage::Lapsed => ("逾期未补充资料", "Supplement overdue"),
            Stage::AgreementDrafting => ("起草委托协议", "Drafting the agreement"),
            Stage::AgreementSent => ("委托协议已发送", "Agreement sent"),
            Stage::AgreementSigned => ("委托协议已签署", "Agreement signed"),
            Stage::AgreementEffective => (
                "委托协议已生效，待缴费",
                "Agreement effective, awaiting payment",
            ),
            Stage::Evaluation => ("评估", "Evaluation"),
            Stage::ExpertReview => ("专家评审", "Expert review"),
            Stage::Certification => ("待发证", "Awaiting the certificate"),
            Stage::Certified => ("已发证", "Certified"),
            Stage::NotAccepted => ("不予受理", "Not accepted"),
            Stage::Failed => ("评审未通过", "Failed"),
            Stage::Terminated => ("已终止", "Terminated"),
            Stage::Withdrawn => ("已撤回", "Withdrawn"),
        };
        Text::new(zh, en)
    }

    /// The case is over (appeals and the archive follow elsewhere).
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            Stage::Certified
                | Stage::NotAccepted
                | Stage::Failed
                | Stage::Terminated
                | Stage::Withdrawn
        )
    }

    /// The step of the process (5.1) this stage belongs to, as an index into [`STEPS`]
    /// (申请 → 受理 → 协议 → 评估 → 专家评审 → 发证); `Certified` is past the last step
    /// (`STEPS.len()`). A case closed without a certificate has no step of its own: the step it
    /// stopped at is that of the stage it left.
    pub fn step(self) -> Option<usize> {
        use Stage::*;
        Some(match self {
            Draft | Submitted => 0,
            AcceptanceReview | Supplementing | Lapsed => 1,
            AgreementDrafting | AgreementSent | AgreementSigned | AgreementEffective => 2,
            Evaluation => 3,
            ExpertReview => 4,
            Certification => 5,
            Certified => STEPS.len(),
            NotAccepted | Failed | Terminated | Withdrawn => return None,
        })
    }

    /// Accepted (予以受理, 5.2): from then on the case number is the 受理编号; before, it
    /// is the 申请编号.
    pub fn accepted(self) -> bool {
        self.step().is_some_and(|s| s >= 2) || self == Stage::Failed
    }

    /// The project clock (九.3) runs from filing to issuance, except while the applicant
    /// supplements and from sending the agreement until payment.
    pub fn clock_runs(self) -> bool {
        matches!(
            self,
            Stage::AcceptanceReview
                | Stage::AgreementDrafting
                | Stage::Evaluation
                | Stage::ExpertReview
                | Stage::Certification
        )
    }

    /// The deadline a case in this stage runs against now: the supplement's last day (5.2)
    /// while supplementing, the project's three-month target (九.3, `target_due`) while the
    /// clock runs, none otherwise.
    pub fn deadline(
        self,
        supplement_due: Option<chrono::NaiveDate>,
        target_due: Option<chrono::NaiveDate>,
    ) -> Option<chrono::NaiveDate> {
        if self == Stage::Supplementing {
            supplement_due
        } else if self.clock_runs() {
            target_due
        } else {
            None
        }
    }
}

/// The six steps of the process (5.1) as the stepper on a case page shows them.
pub const STEPS: [(&str, &str); 6] = [
    ("申请", "Application"),
    ("受理", "Acceptance"),
    ("协议", "Agreement"),
    ("评估", "Evaluation"),
    ("专家评审", "Expert review"),
    ("发证", "Certification"),
];

/// Stored stages read back typed (the database's CHECK constraint allows only these).
impl TryFrom<String> for Stage {
    type Error = String;

    fn try_from(s: String) -> Result<Stage, String> {
        Stage::parse(&s).ok_or_else(|| format!("unknown stage \"{s}\""))
    }
}

impl<'de> serde::Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stage, D::Error> {
        let s = String::deserialize(d)?;
        Stage::try_from(s).map_err(serde::de::Error::custom)
    }
}

/// Who acts: a role, or the system (deadlines).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Performer {
    Role(Role),
    System,
}

/// Everything that moves a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transition {
    Submit,
    /// The registrar files the case (建档立项): the three conditions of 5.2 must hold.
    File,
    RequestSupplement,
    Resubmit,
    /// The supplement deadline passed (system).
    MarkLapsed,
    ExtendSupplement,
    Terminate,
    NotAccept,
    Accept,
    SendAgreement,
    RecordSignedAgreement,
    ApproveAgreement,
    ConfirmPayment,
    ConcludeAudit,
    PanelPass,
    PanelFail,
    PanelReturn,
    Issue,
    Withdraw,
    /// The registrar returns a submitted application to the applicant with a reason (退回);
    /// the round stays on the record and the applicant may submit again.
    ReturnToApplicant,
}

impl Transition {
    pub const ALL: [Transition; 20] = [
        Transition::Submit,
        Transition::File,
        Transition::RequestSupplement,
        Transition::Resubmit,
        Transition::MarkLapsed,
        Transition::ExtendSupplement,
        Transition::Terminate,
        Transition::NotAccept,
        Transition::Accept,
        Transition::SendAgreement,
        Transition::RecordSignedAgreement,
        Transition::ApproveAgreement,
        Transition::ConfirmPayment,
        Transition::ConcludeAudit,
        Transition::PanelPass,
        Transition::PanelFail,
        Transition::PanelReturn,
        Transition::Issue,
        Transition::Withdraw,
        Transition::ReturnToApplicant,
    ];

    /// The stored / API name (snake_case).
    pub fn as_str(self) -> &'static str {
        use Transition::*;
        match self {
            Submit => "submit",
            File => "file",
            RequestSupplement => "request_supplement",
            Resubmit => "resubmit",
            MarkLapsed => "mark_lapsed",
            ExtendSupplement => "extend_supplement",
            Terminate => "terminate",
            NotAccept => "not_accept",
            Accept => "accept",
            SendAgreement => "send_agreement",
            RecordSignedAgreement => "record_signed_agreement",
            ApproveAgreement => "approve_agreement",
            ConfirmPayment => "confirm_payment",
            ConcludeAudit => "conclude_audit",
            PanelPass => "panel_pass",
            PanelFail => "panel_fail",
            PanelReturn => "panel_return",
            Issue => "issue",
            Withdraw => "withdraw",
            ReturnToApplicant => "return_to_applicant",
        }
    }

    pub fn parse(s: &str) -> Option<Transition> {
        Transition::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// What the step is called on buttons and in the timeline.
    pub fn name(self) -> Text {
        use Transition::*;
        let (zh, en) = match self {
            Submit => ("提交申请", "Submit"),
            File => ("建档立项", "File the case"),
            RequestSupplement => ("要求补充资料", "Request a supplement"),
            Resubmit => ("提交补充资料", "Resubmit"),
            MarkLapsed => ("逾期未补充资料", "Mark the supplement overdue"),
            ExtendSupplement => ("延长补充资料期限", "Extend the supplement deadline"),
            Terminate => ("终止", "Terminate"),
            NotAccept => ("不予受理", "Do not accept"),
            Accept => ("予以受理", "Accept"),
            SendAgreement => ("发送委托协议", "Send the agreement"),
            RecordSignedAgreement => ("登记已签署协议", "Record the signed agreement"),
            ApproveAgreement => ("审批协议", "Approve the agreement"),
            ConfirmPayment => ("确认缴费", "Confirm payment"),
            ConcludeAudit => ("形成项目审核结论", "Conclude the audit"),
            PanelPass => ("专家评审通过", "Panel: pass"),
            PanelFail => ("专家评审不通过", "Panel: fail"),
            PanelReturn => ("专家组退回", "Panel: return"),
            Issue => ("发证", "Issue"),
            Withdraw => ("撤回申请", "Withdraw"),
            ReturnToApplicant => ("退回申请单位", "Return to the applicant"),
        };
        Text::new(zh, en)
    }

    /// Who may perform it.
    /// A note is required: the opinion or reason the decision rests on (5.2's review
    /// opinion, the panel's opinion, the reason for returning, extending or terminating).
    pub fn needs_note(self) -> bool {
        use Transition::*;
        matches!(
            self,
            RequestSupplement
                | NotAccept
                | Accept
                | ExtendSupplement
                | Terminate
                | ReturnToApplicant
                | PanelPass
                | PanelFail
                | PanelReturn
        )
    }

    /// A step that ends the case without a certificate, cannot be undone, and is confirmed
    /// with its consequence before it is taken: its consequence in words.
    pub fn consequence(self) -> Option<Text> {
        use Transition::*;
        let (zh, en) = match self {
            Withdraw => (
                "撤回后本申请即告结束，不能恢复；如需再申请，须重新提交申请。",
                "Withdrawn, the application ends and cannot be restored; applying again needs a new application.",
            ),
            NotAccept => (
                "不予受理后本案件结束，并向申请单位发出不予受理决定书；申请单位可提出申诉（七）。",
                "Refused, the case ends and the applicant receives the refusal letter; it may appeal (7).",
            ),
            Terminate => (
                "终止后本案件结束，申请单位须重新申请。",
                "Terminated, the case ends; the applicant must apply again.",
            ),
            PanelFail => (
                "评审未通过后本案件结束；申请单位可提出申诉（七）。",
                "Failed, the case ends; the applicant may appeal (7).",
            ),
            _ => return None,
        };
        Some(Text::new(zh, en))
    }

    pub fn performer(self) -> Performer {
        use Role::*;
        use Transition::*;
        Performer::Role(match self {
            Submit | Resubmit | Withdraw => Applicant,
            File | ReturnToApplicant => Registrar,
            RequestSupplement
            | ExtendSupplement
            | Terminate
            | NotAccept
            | Accept
            | SendAgreement
            | RecordSignedAgreement
            | ConcludeAudit => ProjectLead,
            ApproveAgreement | ConfirmPayment => ContractFinance,
            PanelPass | PanelFail | PanelReturn => Expert,
            Issue => CertificateOfficer,
            MarkLapsed => return Performer::System,
        })
    }

    /// The stage it leads to from `from`, or `None` when it cannot start there.
    pub fn target(self, from: Stage) -> Option<Stage> {
        use Stage::*;
        use Transition::*;
        Some(match (self, from) {
            (Submit, Draft) => Submitted,
            (File, Submitted) => AcceptanceReview,
            (RequestSupplement, AcceptanceReview) => Supplementing,
            (Resubmit, Supplementing) => AcceptanceReview,
            (MarkLapsed, Supplementing) => Lapsed,
            (ExtendSupplement, Lapsed) => Supplementing,
            (Terminate, Lapsed) => Terminated,
            (NotAccept, AcceptanceReview) => NotAccepted,
            (Accept, AcceptanceReview) => AgreementDrafting,
            (SendAgreement, AgreementDrafting) => AgreementSent,
            (RecordSignedAgreement, AgreementSent) => AgreementSigned,
            (ApproveAgreement, AgreementSigned) => AgreementEffective,
            (ConfirmPayment, AgreementEffective) => Evaluation,
            (ConcludeAudit, Evaluation) => ExpertReview,
            (PanelPass, ExpertReview) => Certification,
            (PanelFail, ExpertReview) => Failed,
            (PanelReturn, ExpertReview) => Evaluation,
            (Issue, Certification) => Certified,
            (ReturnToApplicant, Submitted) => Draft,
            // The applicant may withdraw until the case reaches certification.
            (Withdraw, s) if !s.is_closed() && s != Certification => Withdrawn,
            _ => return None,
        })
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransitionError {
    /// Not this performer's transition.
    WrongRole { needed: Performer },
    /// Not from this stage (HTTP 409, naming the current stage).
    WrongStage { current: Stage },
    /// Filing conditions (5.2) not all met.
    FilingConditions(Vec<FilingCondition>),
}

/// The three conditions for filing (建档立项, guide 5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilingCondition {
    /// （一）申请单位必须是一个独立的实体，具有独立法人资格
    IndependentLegalPerson,
    /// （二）申请书加盖申请单位公章且装订成册 — the stamped, bound paper copy was received.
    StampedBoundPaperCopy,
    /// （三）随附电子版资料
    ElectronicMaterials,
}

impl FilingCondition {
    pub fn text(self) -> Text {
        match self {
            FilingCondition::IndependentLegalPerson => Text::new(
                "申请单位须为具有独立法人资格的独立实体",
                "the applicant must be an independent legal person",
            ),
            FilingCondition::StampedBoundPaperCopy => Text::new(
                "尚未收到加盖公章并装订成册的纸版申请书",
                "the stamped, bound paper application has not been received",
            ),
            FilingCondition::ElectronicMaterials => Text::new(
                "尚未随附电子版资料",
                "the electronic materials are not attached",
            ),
        }
    }
}

/// The facts filing is decided on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilingFacts {
    pub independent_legal_person: bool,
    pub paper_copy_received: bool,
    pub electronic_materials_attached: bool,
}

impl FilingFacts {
    /// The conditions that do not hold, in the guide's order.
    pub fn missing(&self) -> Vec<FilingCondition> {
        let mut m = Vec::new();
        if !self.independent_legal_person {
            m.push(FilingCondition::IndependentLegalPerson);
        }
        if !self.paper_copy_received {
            m.push(FilingCondition::StampedBoundPaperCopy);
        }
        if !self.electronic_materials_attached {
            m.push(FilingCondition::ElectronicMaterials);
        }
        m
    }
}

/// Checks a transition: the performer, the stage, and (for filing) the conditions.
pub fn check(
    t: Transition,
    from: Stage,
    by: Performer,
    filing: Option<&FilingFacts>,
) -> Result<Stage, TransitionError> {
    if t.performer() != by {
        return Err(TransitionError::WrongRole {
            needed: t.performer(),
        });
    }
    let to = t
        .target(from)
        .ok_or(TransitionError::WrongStage { current: from })?;
    if t == Transition::File {
        let missing = filing.map_or_else(
            || {
                vec![
                    FilingCondition::IndependentLegalPerson,
                    FilingCondition::StampedBoundPaperCopy,
                    FilingCondition::ElectronicMaterials,
                ]
            },
            FilingFacts::missing,
        );
        if !missing.is_empty() {
            return Err(TransitionError::FilingConditions(missing));
        }
    }
    Ok(to)
}

#[cfg(test)]
mod tests;
