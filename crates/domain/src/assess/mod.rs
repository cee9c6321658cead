//! The self-assessment (自评估): a profile against a criteria pack, with the renewal rule (guide
//! §四) and the fee (§九). Every requirement of the pack gets a status and a reason that states
//! the numbers: what was required and what was declared.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::calendar::HolidayCalendar;
use crate::criteria::{Field, Pack, PackStatus, Requirement, RequirementKind, Rule};
use crate::fees::{ApplicationKind, Fee};
use crate::lang::{Lang, Text, level_zh};
use crate::money::Cny;
use crate::period::{add_months, years_completed};
use crate::profile::{CertificateStatus, HeldCertificate, Profile};
use crate::renewal::{RenewalTiming, classify};

mod eval;
mod report;

use eval::Eval;
pub use report::{FeeReport, RenewalReport, Report, RequirementReport, Summary, YuanNumber};

/// The outcome for one requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// 满足
    Met,
    /// 不满足
    NotMet,
    /// 待审核: a judgement, a declared fact whose evidence must be reviewed, or a pending
    /// threshold.
    NeedsReview,
}

impl Status {
    pub fn name(self) -> Text {
        match self {
            Status::Met => Text::new("满足", "met"),
            Status::NotMet => Text::new("不满足", "not met"),
            Status::NeedsReview => Text::new("待审核", "needs review"),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequirementResult {
    pub id: String,
    pub requirement: Requirement,
    pub status: Status,
    pub reason: Text,
}

/// The renewal classification of a maintenance application and the certificate it rests on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenewalOutcome {
    pub timing: RenewalTiming,
    pub certificate_number: Option<String>,
    pub valid_until: Option<NaiveDate>,
    pub due_by: Option<NaiveDate>,
    pub late_window_last_day: Option<NaiveDate>,
    pub provisional: bool,
    pub reason: Text,
}

/// A whole self-assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub pack: String,
    pub pack_status: PackStatus,
    pub pack_title: Text,
    pub as_of: NaiveDate,
    pub organization: String,
    pub uscc: String,
    pub requested_kind: ApplicationKind,
    /// The kind in effect after the renewal rule.
    pub application_kind: ApplicationKind,
    pub renewal: Option<RenewalOutcome>,
    pub fee: Option<Fee>,
    pub requirements: Vec<RequirementResult>,
    pub eligible: bool,
    pub notes: Vec<Text>,
}

fn yuan(c: Cny) -> Text {
    Text::new(c.display(Lang::Zh), c.display(Lang::En))
}

fn day(d: NaiveDate) -> Text {
    Text::new(
        crate::lang::date_text(d, Lang::Zh),
        crate::lang::date_text(d, Lang::En),
    )
}

/// ⌈percent % × n⌉ in integers.
pub fn percent_ceil(percent: u32, n: u32) -> u32 {
    let p = u64::from(percent) * u64::from(n);
    p.div_ceil(100) as u32
}

/// The staff floor of guide 3.2.4: max(floor, ⌈percent % × DR technical staff⌉).
pub fn required_professionals(percent: u32, floor: u32, dr_staff: u32) -> u32 {
    floor.max(percent_ceil(percent, dr_staff))
}

/// The certificate a maintenance application maintains: the same category and level, not
/// revoked (a revoked certificate cannot be maintained), the latest expiry first.
fn maintained_certificate<'a>(profile: &'a Profile, pack: &Pack) -> Option<&'a HeldCertificate> {
    profile
        .certificates
        .iter()
        .filter(|c| {
            c.category == pack.category
                && c.level == pack.level
                && c.status != CertificateStatus::Revoked
        })
        .max_by_key(|c| c.valid_until)
}

/// Classifies a maintenance application; `None` for an initial one.
fn renewal(profile: &Profile, pack: &Pack, cal: &HolidayCalendar) -> Option<RenewalOutcome> {
    if profile.kind == ApplicationKind::Initial {
        return None;
    }
    let held = maintained_certificate(profile, pack);
    let Some(cert) = held else {
        return Some(RenewalOutcome {
            timing: RenewalTiming::TreatedAsInitial,
            certificate_number: None,
            valid_until: None,
            due_by: None,
            late_window_last_day: None,
            provisional: false,
            reason: Text::new(
                format!(
                    "未申报可维持的{}{}证书（已取消的证书不能维持），按初次申请处理",
                    pack.category.name().zh,
                    level_zh(pack.level)
                ),
                format!(
                    "no {} level-{} certificate to maintain (a revoked one cannot be), so this is an initial application",
                    pack.category.name().en,
                    pack.level
                ),
            ),
        });
    };
    let Some(rule) = pack.renewal else {
        return Some(RenewalOutcome {
            timing: RenewalTiming::Late,
            certificate_number: Some(cert.number.clone()),
            valid_until: Some(cert.valid_until),
            due_by: None,
            late_window_last_day: None,
            provisional: true,
            reason: Text::new(
                "本级别的维持时限规则待官方公布，无法判定是否按时",
                "this level's renewal rule is pending the official text; timing cannot be decided",
            ),
        });
    };
    let c = classify(profile.as_of, cert.valid_until, rule, cal);
    let (zh, en) = match c.timing {
        RenewalTiming::OnTime => (
            format!(
                "证书 {} 有效期至 {}；于 {} 前（含当日，即届满前 {} 个月）提交，按时",
                cert.number,
                day(cert.valid_until).zh,
                day(c.due_by).zh,
                rule.due_months_before_expiry
            ),
            format!(
                "certificate {} valid until {}; filed by {} ({} months before expiry, inclusive): on time",
                cert.number, cert.valid_until, c.due_by, rule.due_months_before_expiry
            ),
        ),
        RenewalTiming::Late => (
            format!(
                "证书 {} 有效期至 {}；应于 {} 前提交，已逾期但未超过届满后 {} 个月（截至 {}），仍为维持申请，证书可能在此期间失效",
                cert.number,
                day(cert.valid_until).zh,
                day(c.due_by).zh,
                rule.initial_after_months_past_expiry,
                day(c.late_window.last_day).zh
            ),
            format!(
                "certificate {} valid until {}; due by {}; late, but within {} months after expiry (until {}): still a maintenance application, and the certificate may lapse meanwhile",
                cert.number,
                cert.valid_until,
                c.due_by,
                rule.initial_after_months_past_expiry,
                c.late_window.last_day
            ),
        ),
        RenewalTiming::TreatedAsInitial => (
            format!(
                "证书 {} 有效期至 {}；届满 {} 个月后（{} 之后）提交，视作初次申请，按初次申请收费",
                cert.number,
                day(cert.valid_until).zh,
                rule.initial_after_months_past_expiry,
                day(c.late_window.last_day).zh
            ),
            format!(
                "certificate {} valid until {}; filed more than {} months after expiry (after {}): treated as an initial application, with the initial fee",
                cert.number,
                cert.valid_until,
                rule.initial_after_months_past_expiry,
                c.late_window.last_day
            ),
        ),
    };
    Some(RenewalOutcome {
        timing: c.timing,
        certificate_number: Some(cert.number.clone()),
        valid_until: Some(cert.valid_until),
        due_by: Some(c.due_by),
        late_window_last_day: Some(c.late_window.last_day),
        provisional: c.late_window.provisional,
        reason: Text::new(zh, en),
    })
}

/// Assesses `profile` against `pack` (which the caller chose for the profile's category and
/// level).
pub fn assess(profile: &Profile, pack: &Pack, cal: &HolidayCalendar) -> Assessment {
    let renewal = renewal(profile, pack, cal);
    let application_kind = match &renewal {
        Some(r) if r.timing == RenewalTiming::TreatedAsInitial => ApplicationKind::Initial,
        _ => profile.kind,
    };
    let eval = Eval {
        profile,
        pack,
        kind: application_kind,
    };
    let requirements: Vec<RequirementResult> = pack
        .requirements
        .iter()
        .map(|r| eval.requirement(r))
        .collect();
    let mut notes = Vec::new();
    if pack.status == PackStatus::Draft {
        notes.push(Text::new(
            "本准则包为草案：官方具体要求未公布，数值待定，自评估结果不能作为符合申请条件的结论",
            "this pack is a draft: the official requirements are not published and numbers are pending, so the result cannot establish eligibility",
        ));
    }
    if application_kind == ApplicationKind::Maintenance {
        notes.push(Text::new(
            "维持申请须提交近三年的资料信息（指南 §四）",
            "a maintenance application carries the last three years' information (guide §四)",
        ));
    }
    if renewal.as_ref().is_some_and(|r| r.provisional) {
        notes.push(Text::new(
            "维持时限涉及尚未公布节假日安排的年份，按周末推算，结果为暂定",
            "the renewal window reaches a year with no published holiday calendar; computed on weekends alone, provisional",
        ));
    }
    let fee = pack.fees.fee(application_kind);
    if fee.is_none() {
        notes.push(Text::new(
            "本级别收费标准待公布",
            "this level's fee schedule is pending",
        ));
    }
    let eligible = pack.status == PackStatus::Official
        && !requirements.iter().any(|r| r.status == Status::NotMet);
    Assessment {
        pack: pack.versioned_id(),
        pack_status: pack.status,
        pack_title: pack.title.clone(),
        as_of: profile.as_of,
        organization: profile.organization.name.clone(),
        uscc: profile.organization.uscc.to_string(),
        requested_kind: profile.kind,
        application_kind,
        renewal,
        fee,
        requirements,
        eligible,
        notes,
    }
}
