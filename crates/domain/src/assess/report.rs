//! The machine-readable report of an assessment (`zizhi assess --format json`, and the
//! self-assessment stored with each submission round), which reads back as the same type.

use serde::{Deserialize, Serialize, Serializer};

use super::{Assessment, Status};
use crate::fees::ApplicationKind;
use crate::lang::Lang;
use crate::money::Cny;
use crate::renewal::RenewalTiming;

/// An amount in yuan as a JSON number (integer when whole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct YuanNumber(pub Cny);

impl Serialize for YuanNumber {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.whole_yuan() {
            Some(y) => s.serialize_i64(y),
            None => s.serialize_f64(self.0.fen() as f64 / 100.0),
        }
    }
}

impl<'de> Deserialize<'de> for YuanNumber {
    /// Reads back what `serialize` wrote: a number of yuan with at most two decimals.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum N {
            Whole(i64),
            Decimal(f64),
        }
        let text = match N::deserialize(d)? {
            N::Whole(y) => y.to_string(),
            N::Decimal(f) => format!("{f:.2}"),
        };
        Cny::parse(&text)
            .map(YuanNumber)
            .map_err(|e| serde::de::Error::custom(format!("{e:?}")))
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FeeReport {
    pub audit_cny: YuanNumber,
    pub annual_cny: YuanNumber,
    pub total_cny: YuanNumber,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RenewalReport {
    pub timing: RenewalTiming,
    pub certificate_number: Option<String>,
    pub valid_until: Option<String>,
    pub due_by: Option<String>,
    pub late_window_last_day: Option<String>,
    pub provisional: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RequirementReport {
    pub id: String,
    pub section: String,
    pub kind: String,
    pub status: Status,
    pub reason: String,
    pub evidence: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Summary {
    pub met: usize,
    pub not_met: usize,
    pub needs_review: usize,
}

/// The machine-readable report (`zizhi assess --format json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    pub pack: String,
    pub pack_status: String,
    pub as_of: String,
    pub organization: String,
    pub uscc: String,
    pub eligible: bool,
    pub application_kind: ApplicationKind,
    pub renewal_timing: Option<RenewalTiming>,
    pub renewal: Option<RenewalReport>,
    pub fee_cny: Option<YuanNumber>,
    pub fee: Option<FeeReport>,
    pub summary: Summary,
    pub requirements: Vec<RequirementReport>,
    pub notes: Vec<String>,
}

impl Assessment {
    pub fn count(&self, s: Status) -> usize {
        self.requirements.iter().filter(|r| r.status == s).count()
    }

    pub fn report(&self, lang: Lang) -> Report {
        Report {
            pack: self.pack.clone(),
            pack_status: self.pack_status.as_str().to_string(),
            as_of: self.as_of.to_string(),
            organization: self.organization.clone(),
            uscc: self.uscc.clone(),
            eligible: self.eligible,
            application_kind: self.application_kind,
            renewal_timing: self.renewal.as_ref().map(|r| r.timing),
            renewal: self.renewal.as_ref().map(|r| RenewalReport {
                timing: r.timing,
                certificate_number: r.certificate_number.clone(),
                valid_until: r.valid_until.map(|d| d.to_string()),
                due_by: r.due_by.map(|d| d.to_string()),
                late_window_last_day: r.late_window_last_day.map(|d| d.to_string()),
                provisional: r.provisional,
                reason: r.reason.get(lang).to_string(),
            }),
            fee_cny: self.fee.map(|f| YuanNumber(f.total())),
            fee: self.fee.map(|f| FeeReport {
                audit_cny: YuanNumber(f.audit),
                annual_cny: YuanNumber(f.annual),
                total_cny: YuanNumber(f.total()),
            }),
            summary: Summary {
                met: self.count(Status::Met),
                not_met: self.count(Status::NotMet),
                needs_review: self.count(Status::NeedsReview),
            },
            requirements: self
                .requirements
                .iter()
                .map(|r| RequirementReport {
                    id: r.id.clone(),
                    section: r.requirement.section.as_str().to_string(),
                    kind: r.requirement.kind.as_str().to_string(),
                    status: r.status,
                    reason: r.reason.get(lang).to_string(),
                    evidence: r
                        .requirement
                        .evidence
                        .iter()
                        .map(|e| e.get(lang).to_string())
                        .collect(),
                })
                .collect(),
            notes: self.notes.iter().map(|n| n.get(lang).to_string()).collect(),
        }
    }
}
