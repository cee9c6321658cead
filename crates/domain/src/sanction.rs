//! Sanctions (处置, guide 六): what the centre may do to a certificate holder that breaks the
//! rules, and how each measure moves. The guide (六) lists the measures by severity — 警告,
//! 限期整改, 暂停证书, 取消证书 — and gives no period for a rectification: the length is a centre
//! setting (`rectification_days`), counted as a Civil Code period over the holiday calendar.

use serde::Serialize;

use crate::lang::Text;
use crate::profile::CertificateStatus;

/// Days a holder has to rectify unless the centre sets another period (`rectification_days`).
/// The guide (六) names 限期整改 but gives no period; 30 days is the centre's default.
pub const DEFAULT_RECTIFICATION_DAYS: u32 = 30;

/// One of the four measures of 六, mildest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// 警告
    Warning,
    /// 限期整改 — rectification by a deadline.
    Rectification,
    /// 暂停证书 — the certificate is suspended until a rectification is verified.
    Suspension,
    /// 取消证书 — the certificate is revoked, for good.
    Revocation,
}

impl Measure {
    pub const ALL: [Measure; 4] = [
        Measure::Warning,
        Measure::Rectification,
        Measure::Suspension,
        Measure::Revocation,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Measure::Warning => "warning",
            Measure::Rectification => "rectification",
            Measure::Suspension => "suspension",
            Measure::Revocation => "revocation",
        }
    }

    pub fn parse(s: &str) -> Option<Measure> {
        Measure::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Measure::Warning => Text::new("警告", "Warning"),
            Measure::Rectification => Text::new("限期整改", "Rectification by a deadline"),
            Measure::Suspension => Text::new("暂停证书", "Suspension of the certificate"),
            Measure::Revocation => Text::new("取消证书", "Revocation of the certificate"),
        }
    }

    /// Suspension and revocation take effect only when a second person (the approver)
    /// confirms them; a warning and a rectification demand take effect when proposed.
    pub fn needs_confirmation(self) -> bool {
        matches!(self, Measure::Suspension | Measure::Revocation)
    }

    /// The holder must rectify (and the supervisor verify it) before the measure ends.
    pub fn demands_rectification(self) -> bool {
        matches!(self, Measure::Rectification | Measure::Suspension)
    }

    /// The certificate's status once the measure is in force (`None`: unchanged).
    pub fn certificate_status(self) -> Option<CertificateStatus> {
        match self {
            Measure::Suspension => Some(CertificateStatus::Suspended),
            Measure::Revocation => Some(CertificateStatus::Revoked),
            Measure::Warning | Measure::Rectification => None,
        }
    }
}

/// Where a sanction stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SanctionState {
    /// A suspension or revocation waiting for the approver (待确认).
    Proposed,
    /// The approver did not confirm it (未予确认); it never took effect.
    Declined,
    /// In force and final: a warning given, a certificate revoked (已生效).
    Effective,
    /// The holder must rectify by the deadline (待整改); a suspension is in force meanwhile.
    AwaitingRectification,
    /// The holder has sent its rectification; the supervisor verifies it (整改待核验).
    RectificationSubmitted,
    /// The rectification was verified (整改已通过); a suspension is lifted.
    Rectified,
    /// Superseded by a heavier measure on the same certificate (已升级处置): an overdue
    /// rectification followed by a suspension, anything open when the certificate is revoked.
    Superseded,
    /// Withdrawn after an appeal overturned it (已撤销, 七); a suspension or revocation it
    /// made is undone.
    Withdrawn,
}

impl SanctionState {
    pub const ALL: [SanctionState; 8] = [
        SanctionState::Proposed,
        SanctionState::Declined,
        SanctionState::Effective,
        SanctionState::AwaitingRectification,
        SanctionState::RectificationSubmitted,
        SanctionState::Rectified,
        SanctionState::Superseded,
        SanctionState::Withdrawn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SanctionState::Proposed => "proposed",
            SanctionState::Declined => "declined",
            SanctionState::Effective => "effective",
            SanctionState::AwaitingRectification => "awaiting_rectification",
            SanctionState::RectificationSubmitted => "rectification_submitted",
            SanctionState::Rectified => "rectified",
            SanctionState::Superseded => "superseded",
            SanctionState::Withdrawn => "withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<SanctionState> {
        SanctionState::ALL.into_iter().find(|m| m.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            SanctionState::Proposed => Text::new("待确认", "Awaiting confirmation"),
            SanctionState::Declined => Text::new("未予确认", "Not confirmed"),
            SanctionState::Effective => Text::new("已生效", "In effect"),
            SanctionState::AwaitingRectification => Text::new("待整改", "Awaiting rectification"),
            SanctionState::RectificationSubmitted => {
                Text::new("整改待核验", "Rectification to verify")
            }
            SanctionState::Rectified => Text::new("整改已通过", "Rectified"),
            SanctionState::Superseded => Text::new("已升级处置", "Superseded"),
            SanctionState::Withdrawn => Text::new("已撤销（申诉）", "Withdrawn (appeal)"),
        }
    }

    /// Still asking something of someone (the approver, the holder or the supervisor).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            SanctionState::Proposed
                | SanctionState::AwaitingRectification
                | SanctionState::RectificationSubmitted
        )
    }

    /// The state a measure starts in when it takes effect (on proposal, or on confirmation).
    pub fn in_force(measure: Measure) -> SanctionState {
        if measure.demands_rectification() {
            SanctionState::AwaitingRectification
        } else {
            SanctionState::Effective
        }
    }
}

impl TryFrom<String> for Measure {
    type Error = String;

    fn try_from(s: String) -> Result<Measure, String> {
        Measure::parse(&s).ok_or_else(|| format!("unknown measure \"{s}\""))
    }
}

impl TryFrom<String> for SanctionState {
    type Error = String;

    fn try_from(s: String) -> Result<SanctionState, String> {
        SanctionState::parse(&s).ok_or_else(|| format!("unknown sanction state \"{s}\""))
    }
}

/// Why a sanction cannot be proposed against a certificate in this status, if it cannot.
/// Expired and revoked certificates are beyond sanction (六 acts on a certificate in force);
/// a suspended one can only be revoked (or warned about); a suspension needs a valid one.
pub fn refusal(measure: Measure, status: CertificateStatus) -> Option<Text> {
    match status {
        CertificateStatus::Revoked => Some(Text::new(
            "证书已撤销，不能再处置",
            "the certificate is revoked; nothing more can be done to it",
        )),
        CertificateStatus::Expired => Some(Text::new(
            "证书已过期，不能处置",
            "the certificate has expired; it cannot be sanctioned",
        )),
        CertificateStatus::Suspended if measure == Measure::Suspension => Some(Text::new(
            "证书已暂停",
            "the certificate is already suspended",
        )),
        CertificateStatus::Suspended | CertificateStatus::Valid => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_four_measures_of_six_are_ordered_by_severity() {
        let mut m = Measure::ALL;
        m.sort();
        assert_eq!(m, Measure::ALL);
        assert_eq!(Measure::Warning.name().zh, "警告");
        assert_eq!(Measure::Rectification.name().zh, "限期整改");
        assert_eq!(Measure::Suspension.name().zh, "暂停证书");
        assert_eq!(Measure::Revocation.name().zh, "取消证书");
        for x in Measure::ALL {
            assert_eq!(Measure::parse(x.as_str()), Some(x));
        }
    }

    #[test]
    fn only_suspension_and_revocation_wait_for_a_second_person() {
        let needs: Vec<_> = Measure::ALL
            .into_iter()
            .filter(|m| m.needs_confirmation())
            .collect();
        assert_eq!(needs, [Measure::Suspension, Measure::Revocation]);
        assert_eq!(
            SanctionState::in_force(Measure::Rectification),
            SanctionState::AwaitingRectification
        );
        assert_eq!(
            SanctionState::in_force(Measure::Suspension),
            SanctionState::AwaitingRectification
        );
        assert_eq!(
            SanctionState::in_force(Measure::Warning),
            SanctionState::Effective
        );
        assert_eq!(
            Measure::Suspension.certificate_status(),
            Some(CertificateStatus::Suspended)
        );
        assert_eq!(Measure::Rectification.certificate_status(), None);
    }

    #[test]
    fn expired_and_revoked_certificates_are_beyond_sanction() {
        use CertificateStatus as S;
        for m in Measure::ALL {
            assert!(refusal(m, S::Revoked).is_some());
            assert!(refusal(m, S::Expired).is_some());
            assert!(refusal(m, S::Valid).is_none());
        }
        assert!(refusal(Measure::Suspension, S::Suspended).is_some());
        assert!(refusal(Measure::Revocation, S::Suspended).is_none());
    }
}
