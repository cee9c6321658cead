//! The acceptance review's five areas (受理审查, guide 5.2) and the evaluation's activities (评估
//! 活动, guide 5.4).
//!
//! 5.2: "项目负责人对申请资料的形式规范度、申请单位的基本资格、基本能力、专项技术过程能力和组织管理
//! 能力进行受理审查，判定证据的充分性" — the lead reviews five areas and judges, for each, whether
//! the evidence is sufficient. zizhi asks for all five judgements of the current submission round
//! before any decision, and accepts only when all five are sufficient (a decision the guide
//! implies but does not spell out).
//!
//! 5.4: "拟定审核计划 … 按照审核计划，开展评估活动。评估方式包括但不限于文档审查、人员访谈、实际操作"
//! — an audit plan, then activities. zizhi asks for a plan and at least one activity before the
//! audit conclusion.

use crate::case::Transition;
use crate::lang::Text;

/// One of the five areas of the acceptance review (5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    /// 申请资料的形式规范度
    FormalConformity,
    /// 基本资格
    BasicQualification,
    /// 基本能力
    BasicCapability,
    /// 专项技术过程能力
    ProcessCapability,
    /// 组织管理能力
    OrganisationalManagement,
}

impl Area {
    pub const ALL: [Area; 5] = [
        Area::FormalConformity,
        Area::BasicQualification,
        Area::BasicCapability,
        Area::ProcessCapability,
        Area::OrganisationalManagement,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::FormalConformity => "formal_conformity",
            Area::BasicQualification => "basic_qualification",
            Area::BasicCapability => "basic_capability",
            Area::ProcessCapability => "process_capability",
            Area::OrganisationalManagement => "organisational_management",
        }
    }

    pub fn parse(s: &str) -> Option<Area> {
        Area::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Area::FormalConformity => Text::new(
                "申请资料的形式规范度",
                "formal conformity of the application",
            ),
            Area::BasicQualification => Text::new("基本资格", "basic qualification"),
            Area::BasicCapability => Text::new("基本能力", "basic capability"),
            Area::ProcessCapability => Text::new(
                "专项技术过程能力",
                "specialised technical process capability",
            ),
            Area::OrganisationalManagement => {
                Text::new("组织管理能力", "organisational management capability")
            }
        }
    }
}

/// Why a decision of the acceptance review cannot be taken yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewGap {
    /// These areas have no judgement for the current round.
    Unjudged(Vec<Area>),
    /// Acceptance needs every area sufficient; these are not.
    Insufficient(Vec<Area>),
}

impl ReviewGap {
    pub fn text(&self) -> Text {
        let (list, zh, en) = match self {
            ReviewGap::Unjudged(a) => (a, "尚未判定证据充分性的方面：", "areas not yet judged: "),
            ReviewGap::Insufficient(a) => (
                a,
                "证据不充分的方面不能予以受理：",
                "cannot accept while the evidence is insufficient in: ",
            ),
        };
        let names: Vec<Text> = list.iter().map(|a| a.name()).collect();
        let joined = Text::join(&names, "、", ", ");
        Text::new(format!("{zh}{}", joined.zh), format!("{en}{}", joined.en))
    }
}

/// Whether the review decision `t` may be taken with these judgements of the current round
/// (area, sufficient). Other transitions are not the review's business and always pass.
pub fn decision_ready(t: Transition, judged: &[(Area, bool)]) -> Result<(), ReviewGap> {
    if !matches!(
        t,
        Transition::Accept | Transition::RequestSupplement | Transition::NotAccept
    ) {
        return Ok(());
    }
    let unjudged: Vec<Area> = Area::ALL
        .into_iter()
        .filter(|a| !judged.iter().any(|(j, _)| j == a))
        .collect();
    if !unjudged.is_empty() {
        return Err(ReviewGap::Unjudged(unjudged));
    }
    if t == Transition::Accept {
        let weak: Vec<Area> = Area::ALL
            .into_iter()
            .filter(|a| judged.iter().any(|(j, ok)| j == a && !ok))
            .collect();
        if !weak.is_empty() {
            return Err(ReviewGap::Insufficient(weak));
        }
    }
    Ok(())
}

/// An assessor's judgement of one requirement (5.4: 符合程度).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// 符合
    Conform,
    /// 部分符合
    Partial,
    /// 不符合
    Nonconform,
    /// 不适用
    NotApplicable,
}

impl TryFrom<String> for Verdict {
    type Error = String;

    fn try_from(s: String) -> Result<Verdict, String> {
        Verdict::parse(&s).ok_or_else(|| format!("unknown verdict \"{s}\""))
    }
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Conform,
        Verdict::Partial,
        Verdict::Nonconform,
        Verdict::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Conform => "conform",
            Verdict::Partial => "partial",
            Verdict::Nonconform => "nonconform",
            Verdict::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(s: &str) -> Option<Verdict> {
        Verdict::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Verdict::Conform => Text::new("符合", "conforms"),
            Verdict::Partial => Text::new("部分符合", "partly conforms"),
            Verdict::Nonconform => Text::new("不符合", "does not conform"),
            Verdict::NotApplicable => Text::new("不适用", "not applicable"),
        }
    }
}

/// An evaluation activity (5.4), or the audit plan that comes before them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ActivityKind {
    /// 审核计划
    Plan,
    /// 文档审查
    DocumentReview,
    /// 人员访谈
    Interview,
    /// 实际操作
    PracticalOperation,
}

impl ActivityKind {
    pub const ALL: [ActivityKind; 4] = [
        ActivityKind::Plan,
        ActivityKind::DocumentReview,
        ActivityKind::Interview,
        ActivityKind::PracticalOperation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivityKind::Plan => "plan",
            ActivityKind::DocumentReview => "document_review",
            ActivityKind::Interview => "interview",
            ActivityKind::PracticalOperation => "practical_operation",
        }
    }

    pub fn parse(s: &str) -> Option<ActivityKind> {
        ActivityKind::ALL.into_iter().find(|a| a.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            ActivityKind::Plan => Text::new("审核计划", "audit plan"),
            ActivityKind::DocumentReview => Text::new("文档审查", "document review"),
            ActivityKind::Interview => Text::new("人员访谈", "interview"),
            ActivityKind::PracticalOperation => Text::new("实际操作", "practical operation"),
        }
    }
}

/// What the audit conclusion still lacks: a plan, and at least one activity after it (5.4).
pub fn audit_ready(recorded: &[ActivityKind]) -> Result<(), Text> {
    let plan = recorded.contains(&ActivityKind::Plan);
    let activity = recorded.iter().any(|k| *k != ActivityKind::Plan);
    match (plan, activity) {
        (true, true) => Ok(()),
        (false, _) => Err(Text::new(
            "尚未拟定审核计划（5.4）",
            "no audit plan recorded yet (5.4)",
        )),
        (true, false) => Err(Text::new(
            "尚未记录评估活动（文档审查、人员访谈或实际操作，5.4）",
            "no evaluation activity recorded yet (document review, interview or practical operation, 5.4)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(ok: bool) -> Vec<(Area, bool)> {
        Area::ALL.into_iter().map(|a| (a, ok)).collect()
    }

    #[test]
    fn every_decision_needs_all_five_areas() {
        let four: Vec<(Area, bool)> = all(true).into_iter().skip(1).collect();
        for t in [
            Transition::Accept,
            Transition::RequestSupplement,
            Transition::NotAccept,
        ] {
            assert_eq!(
                decision_ready(t, &four),
                Err(ReviewGap::Unjudged(vec![Area::FormalConformity]))
            );
            assert_eq!(decision_ready(t, &all(true)), Ok(()));
        }
        // Other transitions do not look at the review.
        assert_eq!(decision_ready(Transition::File, &[]), Ok(()));
    }

    #[test]
    fn acceptance_needs_every_area_sufficient_but_a_supplement_does_not() {
        let mut one_weak = all(true);
        one_weak[3].1 = false;
        assert_eq!(
            decision_ready(Transition::Accept, &one_weak),
            Err(ReviewGap::Insufficient(vec![Area::ProcessCapability]))
        );
        assert_eq!(
            decision_ready(Transition::RequestSupplement, &one_weak),
            Ok(())
        );
        assert_eq!(decision_ready(Transition::NotAccept, &all(false)), Ok(()));
        let t = ReviewGap::Insufficient(vec![Area::ProcessCapability]).text();
        assert!(t.zh.contains("专项技术过程能力"), "{}", t.zh);
    }

    #[test]
    fn the_audit_conclusion_needs_a_plan_and_an_activity() {
        use ActivityKind::*;
        assert!(audit_ready(&[]).unwrap_err().zh.contains("审核计划"));
        assert!(audit_ready(&[Plan]).unwrap_err().zh.contains("评估活动"));
        assert!(
            audit_ready(&[Interview])
                .unwrap_err()
                .zh
                .contains("审核计划")
        );
        for k in [DocumentReview, Interview, PracticalOperation] {
            assert_eq!(audit_ready(&[Plan, k]), Ok(()));
        }
    }

    #[test]
    fn codes_round_trip() {
        for a in Area::ALL {
            assert_eq!(Area::parse(a.as_str()), Some(a));
        }
        for k in ActivityKind::ALL {
            assert_eq!(ActivityKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Area::parse("form"), None);
    }
}
