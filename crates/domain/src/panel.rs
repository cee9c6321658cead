//! The expert panel (专家组, guide 5.4): "专家组对该项目证据的充分性，审核结论的合理性，进行综合评定，
//! 形成专家评审结论。评审结论为通过的项目进入发证阶段。"
//!
//! The guide says a panel concludes, not how many sit on it nor how it counts. zizhi's rules,
//! which the centre can see and set: the panel has at least `panel_min_experts` seats (a centre
//! setting, default 3 — the guide gives no number); every seat votes in secret; the conclusion
//! is computed from the votes: pass only when more than half of the seats vote pass, fail only
//! when more than half vote fail, otherwise the case returns to evaluation.

use crate::lang::Text;

/// The default smallest panel (a centre setting; the guide gives no number).
pub const DEFAULT_PANEL_MIN_EXPERTS: usize = 3;

/// Where a person sits on a case: the project lead (项目负责人), an assessor of the project
/// team (项目组), an expert of the panel (专家组), and the panel's chair (组长), who is also an
/// expert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Seat {
    Lead,
    Assessor,
    Expert,
    Chair,
}

impl Seat {
    pub fn name(self) -> Text {
        match self {
            Seat::Lead => Text::new("项目负责人", "project lead"),
            Seat::Assessor => Text::new("项目组成员", "assessor"),
            Seat::Expert => Text::new("专家组成员", "panel expert"),
            Seat::Chair => Text::new("专家组组长", "panel chair"),
        }
    }
}

/// One expert's vote on the dossier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Vote {
    /// 通过
    Pass,
    /// 不通过
    Fail,
    /// 退回补充评估
    Return,
}

impl TryFrom<String> for Vote {
    type Error = String;

    fn try_from(s: String) -> Result<Vote, String> {
        Vote::parse(&s).ok_or_else(|| format!("unknown vote \"{s}\""))
    }
}

impl Vote {
    pub const ALL: [Vote; 3] = [Vote::Pass, Vote::Fail, Vote::Return];

    pub fn as_str(self) -> &'static str {
        match self {
            Vote::Pass => "pass",
            Vote::Fail => "fail",
            Vote::Return => "return",
        }
    }

    pub fn parse(s: &str) -> Option<Vote> {
        Vote::ALL.into_iter().find(|v| v.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Vote::Pass => Text::new("通过", "pass"),
            Vote::Fail => Text::new("不通过", "fail"),
            Vote::Return => Text::new("退回补充评估", "return to evaluation"),
        }
    }
}

/// The counted votes of one review round.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally {
    pub seats: usize,
    pub pass: usize,
    pub fail: usize,
    pub ret: usize,
}

impl Tally {
    pub fn count(seats: usize, votes: &[Vote]) -> Tally {
        let n = |v: Vote| votes.iter().filter(|x| **x == v).count();
        Tally {
            seats,
            pass: n(Vote::Pass),
            fail: n(Vote::Fail),
            ret: n(Vote::Return),
        }
    }

    pub fn cast(&self) -> usize {
        self.pass + self.fail + self.ret
    }

    /// The panel's conclusion once every seat has voted: more than half of the seats (not of
    /// the votes) decide pass or fail; anything else returns the case to evaluation.
    pub fn conclusion(&self) -> Option<Vote> {
        if self.cast() < self.seats || self.seats == 0 {
            return None;
        }
        Some(if self.pass * 2 > self.seats {
            Vote::Pass
        } else if self.fail * 2 > self.seats {
            Vote::Fail
        } else {
            Vote::Return
        })
    }
}

/// Why the panel cannot conclude as asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PanelError {
    /// Fewer seats than the centre's minimum.
    TooSmall { seats: usize, min: usize },
    /// Not every seat has voted.
    Pending { missing: usize },
    /// The requested conclusion is not what the votes say.
    Contradicts { tally: Tally, computed: Vote },
}

impl PanelError {
    pub fn text(&self) -> Text {
        match self {
            PanelError::TooSmall { seats, min } => Text::new(
                format!("专家组仅 {seats} 人，少于测评中心规定的 {min} 人"),
                format!("the panel has {seats} experts, fewer than the centre's minimum of {min}"),
            ),
            PanelError::Pending { missing } => Text::new(
                format!("尚有 {missing} 位专家未表决"),
                format!("{missing} experts have not voted"),
            ),
            PanelError::Contradicts { tally, computed } => Text::new(
                format!(
                    "表决结果为通过 {} 票、不通过 {} 票、退回 {} 票（共 {} 席），结论应为“{}”",
                    tally.pass,
                    tally.fail,
                    tally.ret,
                    tally.seats,
                    computed.name().zh
                ),
                format!(
                    "the votes are {} pass, {} fail, {} return of {} seats: the conclusion is \"{}\"",
                    tally.pass,
                    tally.fail,
                    tally.ret,
                    tally.seats,
                    computed.name().en
                ),
            ),
        }
    }
}

/// Checks that the panel may record `wanted` as its conclusion.
pub fn check_conclusion(
    wanted: Vote,
    seats: usize,
    min: usize,
    votes: &[Vote],
) -> Result<(), PanelError> {
    if seats < min {
        return Err(PanelError::TooSmall { seats, min });
    }
    let tally = Tally::count(seats, votes);
    let Some(computed) = tally.conclusion() else {
        return Err(PanelError::Pending {
            missing: seats - tally.cast(),
        });
    };
    if computed != wanted {
        return Err(PanelError::Contradicts { tally, computed });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::Vote::*;
    use super::*;

    fn concl(seats: usize, votes: &[Vote]) -> Option<Vote> {
        Tally::count(seats, votes).conclusion()
    }

    #[test]
    fn more_than_half_of_the_seats_decides() {
        assert_eq!(concl(3, &[Pass, Pass, Fail]), Some(Pass));
        assert_eq!(concl(3, &[Fail, Fail, Pass]), Some(Fail));
        assert_eq!(concl(3, &[Pass, Fail, Return]), Some(Return));
        // Exactly half is not more than half: a 2–2 split returns to evaluation.
        assert_eq!(concl(4, &[Pass, Pass, Fail, Fail]), Some(Return));
        assert_eq!(concl(4, &[Pass, Pass, Return, Return]), Some(Return));
        assert_eq!(concl(4, &[Pass, Pass, Pass, Fail]), Some(Pass));
        assert_eq!(concl(5, &[Pass, Pass, Pass, Fail, Fail]), Some(Pass));
        assert_eq!(concl(5, &[Pass, Pass, Fail, Fail, Return]), Some(Return));
    }

    #[test]
    fn no_conclusion_until_every_seat_has_voted() {
        assert_eq!(concl(3, &[Pass, Pass]), None);
        assert_eq!(concl(0, &[]), None);
    }

    #[test]
    fn a_conclusion_against_the_votes_is_refused() {
        let e = check_conclusion(Pass, 3, 3, &[Fail, Fail, Fail]).unwrap_err();
        assert!(matches!(e, PanelError::Contradicts { computed: Fail, .. }));
        assert!(e.text().zh.contains("不通过 3 票"), "{}", e.text().zh);
        assert!(check_conclusion(Fail, 3, 3, &[Fail, Fail, Pass]).is_ok());
        assert!(check_conclusion(Return, 3, 3, &[Fail, Pass, Return]).is_ok());
        assert!(check_conclusion(Pass, 3, 3, &[Fail, Pass, Return]).is_err());
    }

    #[test]
    fn the_panel_needs_the_centres_minimum_of_seats() {
        // The boundary: exactly the minimum is enough (不少于).
        assert!(check_conclusion(Pass, 3, 3, &[Pass, Pass, Pass]).is_ok());
        assert_eq!(
            check_conclusion(Pass, 2, 3, &[Pass, Pass]),
            Err(PanelError::TooSmall { seats: 2, min: 3 })
        );
        assert_eq!(
            check_conclusion(Pass, 1, 1, &[Pass]),
            Ok(()),
            "a centre that sets the minimum to one may conclude alone"
        );
        assert_eq!(
            check_conclusion(Pass, 3, 3, &[Pass, Pass]),
            Err(PanelError::Pending { missing: 1 })
        );
    }
}
