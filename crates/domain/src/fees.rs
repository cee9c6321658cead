//! Fees (guide §九): per category, level and application kind, as criteria-pack data.

use serde::Serialize;

use crate::money::Cny;

/// The kind of application (guide §四).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplicationKind {
    /// 初次申请
    Initial,
    /// 维持申请
    Maintenance,
}

impl ApplicationKind {
    pub fn parse(s: &str) -> Option<ApplicationKind> {
        match s {
            "initial" => Some(ApplicationKind::Initial),
            "maintenance" => Some(ApplicationKind::Maintenance),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ApplicationKind::Initial => "initial",
            ApplicationKind::Maintenance => "maintenance",
        }
    }

    pub fn name_zh(self) -> &'static str {
        match self {
            ApplicationKind::Initial => "初次申请",
            ApplicationKind::Maintenance => "维持申请",
        }
    }

    /// The kind's name in both languages.
    pub fn name(self) -> crate::lang::Text {
        crate::lang::Text::new(self.name_zh(), self.name_en())
    }

    pub fn name_en(self) -> &'static str {
        match self {
            ApplicationKind::Initial => "initial application",
            ApplicationKind::Maintenance => "maintenance application",
        }
    }
}

/// Stored kinds read back typed.
impl TryFrom<String> for ApplicationKind {
    type Error = String;

    fn try_from(s: String) -> Result<ApplicationKind, String> {
        ApplicationKind::parse(&s).ok_or_else(|| format!("unknown application kind \"{s}\""))
    }
}

/// One fee: the audit fee (审核费用) plus the three-year annual fee (三年年金).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fee {
    pub audit: Cny,
    pub annual: Cny,
}

impl Fee {
    pub fn total(self) -> Cny {
        self.audit
            .checked_add(self.annual)
            .expect("fees are far below i64 fen")
    }
}

/// The fee schedule of a pack; `None` where the guide gives no number (draft packs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FeeSchedule {
    pub initial: Option<Fee>,
    pub maintenance: Option<Fee>,
}

impl FeeSchedule {
    pub fn fee(&self, kind: ApplicationKind) -> Option<Fee> {
        match kind {
            ApplicationKind::Initial => self.initial,
            ApplicationKind::Maintenance => self.maintenance,
        }
    }
}
