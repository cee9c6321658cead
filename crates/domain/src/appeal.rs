//! Appeals (申诉, guide 七): an applicant or holder contests a non-acceptance (不予受理), a failed
//! expert review (专家评审未通过) or a sanction (处置). The guide gives no window for filing: it is
//! a centre setting (`appeal_window_days`, default [`DEFAULT_APPEAL_WINDOW_DAYS`]), counted as a
//! Civil Code period from the day of the decision.

use serde::Serialize;

use crate::case::Stage;
use crate::lang::Text;

/// Days to file an appeal after the decision unless the centre sets another window. The guide
/// (七) names the right of appeal but no period; 60 days is the centre's default.
pub const DEFAULT_APPEAL_WINDOW_DAYS: u32 = 60;

/// What is appealed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// 不予受理 (5.2): the case closed as not accepted.
    NotAccepted,
    /// 专家评审未通过 (5.4): the case closed as failed.
    FailedReview,
    /// A sanction that took effect (六).
    Sanction,
}

impl Subject {
    pub const ALL: [Subject; 3] = [
        Subject::NotAccepted,
        Subject::FailedReview,
        Subject::Sanction,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Subject::NotAccepted => "not_accepted",
            Subject::FailedReview => "failed_review",
            Subject::Sanction => "sanction",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        Subject::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Subject::NotAccepted => Text::new("不予受理决定", "Non-acceptance"),
            Subject::FailedReview => Text::new("专家评审未通过", "Failed expert review"),
            Subject::Sanction => Text::new("处置决定", "Sanction"),
        }
    }

    /// The stage a case must be in for this subject (`None`: a sanction, not a case).
    pub fn case_stage(self) -> Option<Stage> {
        match self {
            Subject::NotAccepted => Some(Stage::NotAccepted),
            Subject::FailedReview => Some(Stage::Failed),
            Subject::Sanction => None,
        }
    }

    /// Where an overturned case may be reopened: a non-acceptance goes back to acceptance
    /// review; a failed review to evaluation or to expert review (a new round, a fresh panel).
    pub fn reopen_stages(self) -> &'static [Stage] {
        match self {
            Subject::NotAccepted => &[Stage::AcceptanceReview],
            Subject::FailedReview => &[Stage::Evaluation, Stage::ExpertReview],
            Subject::Sanction => &[],
        }
    }
}

/// Where an appeal stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppealState {
    /// 待指派 — filed; the supervision department assigns an investigator.
    Filed,
    /// 调查中
    Investigating,
    /// 维持原决定
    Upheld,
    /// 撤销原决定 — the case is reopened or the sanction withdrawn.
    Overturned,
}

impl AppealState {
    pub const ALL: [AppealState; 4] = [
        AppealState::Filed,
        AppealState::Investigating,
        AppealState::Upheld,
        AppealState::Overturned,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AppealState::Filed => "filed",
            AppealState::Investigating => "investigating",
            AppealState::Upheld => "upheld",
            AppealState::Overturned => "overturned",
        }
    }

    pub fn parse(s: &str) -> Option<AppealState> {
        AppealState::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            AppealState::Filed => Text::new("待指派调查人", "Awaiting an investigator"),
            AppealState::Investigating => Text::new("调查中", "Under investigation"),
            AppealState::Upheld => Text::new("维持原决定", "Decision upheld"),
            AppealState::Overturned => Text::new("撤销原决定", "Decision overturned"),
        }
    }

    /// Open appeals put their case on legal hold (nothing of it may be disposed of).
    pub fn is_open(self) -> bool {
        matches!(self, AppealState::Filed | AppealState::Investigating)
    }
}

impl TryFrom<String> for Subject {
    type Error = String;

    fn try_from(s: String) -> Result<Subject, String> {
        Subject::parse(&s).ok_or_else(|| format!("unknown appeal subject \"{s}\""))
    }
}

impl TryFrom<String> for AppealState {
    type Error = String;

    fn try_from(s: String) -> Result<AppealState, String> {
        AppealState::parse(&s).ok_or_else(|| format!("unknown appeal state \"{s}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_subjects_of_seven_and_where_each_reopens() {
        assert_eq!(Subject::NotAccepted.case_stage(), Some(Stage::NotAccepted));
        assert_eq!(Subject::FailedReview.case_stage(), Some(Stage::Failed));
        assert_eq!(Subject::Sanction.case_stage(), None);
        assert_eq!(
            Subject::NotAccepted.reopen_stages(),
            &[Stage::AcceptanceReview]
        );
        assert_eq!(
            Subject::FailedReview.reopen_stages(),
            &[Stage::Evaluation, Stage::ExpertReview]
        );
        for s in Subject::ALL {
            assert_eq!(Subject::parse(s.as_str()), Some(s));
        }
        let open: Vec<_> = AppealState::ALL
            .into_iter()
            .filter(|s| s.is_open())
            .collect();
        assert_eq!(open, [AppealState::Filed, AppealState::Investigating]);
    }
}
