//! The applicant profile the self-assessment reads (guide §四: "确定本单位满足二级资质的基本资格和
//! 基本能力要求"). Input is read in two steps: serde checks the shape (missing and unknown
//! fields, JSON types) into [`RawProfile`]; [`Profile::parse`] turns it into typed values or
//! a [`FieldError`] that names the field.

use std::fmt;

use chrono::NaiveDate;
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer};

use crate::calendar::parse_date;
use crate::fees::ApplicationKind;
use crate::gbt20988::{ElementLevels, MAX_LEVEL};
use crate::lang::Text;
use crate::money::Cny;
use crate::uscc::Uscc;

pub use crate::form::{FieldKind, FormField, MANDATORY_FIELDS};

/// A qualification category (资质类别). zizhi serves the disaster recovery category (灾难恢复类).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// 灾难恢复类
    DisasterRecovery,
}

impl Category {
    pub const ALL: [Category; 1] = [Category::DisasterRecovery];

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Category::DisasterRecovery => "disaster_recovery",
        }
    }

    pub fn name(self) -> Text {
        match self {
            Category::DisasterRecovery => Text::new("灾难恢复类", "disaster recovery"),
        }
    }

    /// The category's code in certificate numbers (`{category}`): DR for 灾难恢复类.
    pub fn code(self) -> &'static str {
        match self {
            Category::DisasterRecovery => "DR",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of a held certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertificateStatus {
    Valid,
    /// 暂停证书 (guide §六)
    Suspended,
    /// 取消证书 (guide §六)
    Revoked,
    Expired,
}

impl CertificateStatus {
    pub fn parse(s: &str) -> Option<CertificateStatus> {
        match s {
            "valid" => Some(CertificateStatus::Valid),
            "suspended" => Some(CertificateStatus::Suspended),
            "revoked" => Some(CertificateStatus::Revoked),
            "expired" => Some(CertificateStatus::Expired),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            CertificateStatus::Valid => "valid",
            CertificateStatus::Suspended => "suspended",
            CertificateStatus::Revoked => "revoked",
            CertificateStatus::Expired => "expired",
        }
    }
}

/// A field of the input that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Dotted path, e.g. `organization.uscc` or `certificates[0].valid_until`.
    pub field: String,
    pub problem: Text,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem.en)
    }
}

impl std::error::Error for FieldError {}

fn err(field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        problem: Text::new(zh, en),
    }
}

/// An amount as given in JSON: a number or a decimal string.
#[derive(Debug, Clone, PartialEq)]
pub enum RawAmount {
    Int(i128),
    Float(f64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawAmount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = RawAmount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an amount in CNY: a number or a decimal string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawAmount, E> {
                Ok(RawAmount::Int(v.into()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawAmount, E> {
                Ok(RawAmount::Int(v.into()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<RawAmount, E> {
                Ok(RawAmount::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAmount, E> {
                Ok(RawAmount::Text(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProfile {
    pub as_of: String,
    pub category: String,
    pub level: i64,
    pub kind: String,
    pub organization: RawOrganization,
    pub staff: RawStaff,
    pub track_record: RawTrackRecord,
    pub certificates: Vec<RawCertificate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOrganization {
    pub name: String,
    pub uscc: String,
    pub independent_legal_person: bool,
    pub approved_by_authorities: bool,
    pub law_abiding: bool,
    pub security_service_since: String,
    pub registered_capital_cny: RawAmount,
    pub total_assets_cny: RawAmount,
    pub finances_good_last_3_years: bool,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStaff {
    pub dr_technical_staff: i64,
    pub full_time_registered_professionals: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTrackRecord {
    pub completed_full_dr_service_process: bool,
    pub completed_dr_project_value_cny: RawAmount,
    pub owns_dr_data_center: bool,
    pub dr_construction_projects: Vec<RawProject>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawProject {
    pub name: String,
    #[serde(default)]
    pub gbt20988_level: Option<i64>,
    #[serde(default)]
    pub gbt20988_elements: Option<RawElements>,
    /// `2007` (default) or `2025`: the edition the level was judged against.
    #[serde(default)]
    pub gbt20988_edition: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawElements {
    pub data_backup: i64,
    pub standby_processing: i64,
    pub standby_network: i64,
    pub standby_infrastructure: i64,
    pub technical_support: i64,
    pub operations_management: i64,
    pub dr_plan: i64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCertificate {
    pub category: String,
    pub level: i64,
    pub number: String,
    pub valid_until: String,
    pub status: String,
    /// Set by the centre's system, never by the applicant: the certificate was found in the
    /// centre's own register and its facts were taken from there. Otherwise it is the
    /// applicant's declaration, for the assessors to verify.
    #[serde(default)]
    pub registered: bool,
}

/// The organisation's declared facts.
#[derive(Debug, Clone, PartialEq)]
pub struct Organization {
    pub name: String,
    pub uscc: Uscc,
    pub independent_legal_person: bool,
    pub approved_by_authorities: bool,
    pub law_abiding: bool,
    pub security_service_since: NaiveDate,
    pub registered_capital: Cny,
    pub total_assets: Cny,
    pub finances_good_last_3_years: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Staff {
    pub dr_technical_staff: u32,
    pub full_time_registered_professionals: u32,
}

/// A DR system construction project with its GB/T 20988 level.
#[derive(Debug, Clone, PartialEq)]
pub struct DrProject {
    pub name: String,
    pub level: u8,
    /// The element levels the level was computed from, when given.
    pub elements: Option<ElementLevels>,
    pub edition: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct TrackRecord {
    pub completed_full_dr_service_process: bool,
    pub completed_dr_project_value: Cny,
    pub owns_dr_data_center: bool,
    pub dr_construction_projects: Vec<DrProject>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HeldCertificate {
    pub category: Category,
    pub level: u8,
    pub number: String,
    pub valid_until: NaiveDate,
    pub status: CertificateStatus,
    /// Read from the centre's register (true) or declared by the applicant (false).
    pub registered: bool,
}

impl HeldCertificate {
    /// A certificate counts on `day` only if valid on that day and neither suspended nor
    /// revoked (guide 3.1.4 "资质证书在有效期内").
    pub fn in_force_on(&self, day: NaiveDate) -> bool {
        crate::certificate::in_force(self.status, self.valid_until, day)
    }
}

/// A typed, validated applicant profile.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    pub as_of: NaiveDate,
    pub category: Category,
    pub level: u8,
    pub kind: ApplicationKind,
    pub organization: Organization,
    pub staff: Staff,
    pub track_record: TrackRecord,
    pub certificates: Vec<HeldCertificate>,
}

fn date(field: &str, s: &str) -> Result<NaiveDate, FieldError> {
    parse_date(s).ok_or_else(|| {
        err(
            field,
            format!("“{s}”不是有效日期（格式 YYYY-MM-DD，且须真实存在）"),
            format!("\"{s}\" is not a valid date (YYYY-MM-DD, and the day must exist)"),
        )
    })
}

fn count(field: &str, v: i64) -> Result<u32, FieldError> {
    if v < 0 {
        return Err(err(
            field,
            format!("人数不能为负数：{v}"),
            format!("a count must not be negative: {v}"),
        ));
    }
    u32::try_from(v).map_err(|_| {
        err(
            field,
            format!("人数过大：{v}"),
            format!("count too large: {v}"),
        )
    })
}

fn amount(field: &str, raw: &RawAmount) -> Result<Cny, FieldError> {
    let r = match raw {
        RawAmount::Int(i) => Cny::parse(&i.to_string()),
        RawAmount::Float(f) => Cny::from_f64(*f),
        RawAmount::Text(s) => Cny::parse(s),
    };
    r.map_err(|e| FieldError {
        field: field.to_string(),
        problem: e.text(),
    })
}

fn parse_category(field: &str, s: &str) -> Result<Category, FieldError> {
    Category::parse(s).ok_or_else(|| {
        let known: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        err(
            field,
            format!("未知的资质类别“{s}”（可选：{}）", known.join("、")),
            format!(
                "unknown category \"{s}\" (expected one of: {})",
                known.join(", ")
            ),
        )
    })
}

fn qualification_level(field: &str, v: i64) -> Result<u8, FieldError> {
    if (1..=5).contains(&v) {
        Ok(v as u8)
    } else {
        Err(err(
            field,
            format!("资质级别应为 1 至 5，实为 {v}"),
            format!("qualification level must be 1 to 5, found {v}"),
        ))
    }
}

fn dr_level(field: &str, v: i64) -> Result<u8, FieldError> {
    if (0..=i64::from(MAX_LEVEL)).contains(&v) {
        Ok(v as u8)
    } else {
        Err(err(
            field,
            format!("GB/T 20988 等级应为 0 至 6，实为 {v}"),
            format!("GB/T 20988 level must be 0 to 6, found {v}"),
        ))
    }
}

fn non_empty(field: &str, s: &str) -> Result<String, FieldError> {
    let t = s.trim();
    if t.is_empty() {
        Err(err(field, "不能为空", "must not be empty"))
    } else {
        Ok(t.to_string())
    }
}

impl Profile {
    /// Validates a raw profile into typed values; the first problem is returned with its field.
    pub fn parse(raw: &RawProfile) -> Result<Profile, FieldError> {
        let as_of = date("as_of", &raw.as_of)?;
        let category = parse_category("category", &raw.category)?;
        let level = qualification_level("level", raw.level)?;
        let kind = ApplicationKind::parse(&raw.kind).ok_or_else(|| {
            err(
                "kind",
                format!("未知的申请类型“{}”（可选：initial、maintenance）", raw.kind),
                format!(
                    "unknown application kind \"{}\" (expected initial or maintenance)",
                    raw.kind
                ),
            )
        })?;

        let o = &raw.organization;
        let since = date(
            "organization.security_service_since",
            &o.security_service_since,
        )?;
        if since > as_of {
            return Err(err(
                "organization.security_service_since",
                format!("{since} 晚于评估日期 {as_of}"),
                format!("{since} is after as_of {as_of}"),
            ));
        }
        let organization = Organization {
            name: non_empty("organization.name", &o.name)?,
            uscc: Uscc::parse(&o.uscc).map_err(|e| FieldError {
                field: "organization.uscc".into(),
                problem: e.text(),
            })?,
            independent_legal_person: o.independent_legal_person,
            approved_by_authorities: o.approved_by_authorities,
            law_abiding: o.law_abiding,
            security_service_since: since,
            registered_capital: amount(
                "organization.registered_capital_cny",
                &o.registered_capital_cny,
            )?,
            total_assets: amount("organization.total_assets_cny", &o.total_assets_cny)?,
            finances_good_last_3_years: o.finances_good_last_3_years,
        };

        let staff = Staff {
            dr_technical_staff: count("staff.dr_technical_staff", raw.staff.dr_technical_staff)?,
            full_time_registered_professionals: count(
                "staff.full_time_registered_professionals",
                raw.staff.full_time_registered_professionals,
            )?,
        };

        let t = &raw.track_record;
        let mut projects = Vec::new();
        for (i, p) in t.dr_construction_projects.iter().enumerate() {
            projects.push(project(
                &format!("track_record.dr_construction_projects[{i}]"),
                p,
            )?);
        }
        let track_record = TrackRecord {
            completed_full_dr_service_process: t.completed_full_dr_service_process,
            completed_dr_project_value: amount(
                "track_record.completed_dr_project_value_cny",
                &t.completed_dr_project_value_cny,
            )?,
            owns_dr_data_center: t.owns_dr_data_center,
            dr_construction_projects: projects,
        };

        let mut certificates = Vec::new();
        for (i, c) in raw.certificates.iter().enumerate() {
            let f = |name: &str| format!("certificates[{i}].{name}");
            certificates.push(HeldCertificate {
                category: parse_category(&f("category"), &c.category)?,
                level: qualification_level(&f("level"), c.level)?,
                number: non_empty(&f("number"), &c.number)?,
                registered: c.registered,
                valid_until: date(&f("valid_until"), &c.valid_until)?,
                status: CertificateStatus::parse(&c.status).ok_or_else(|| {
                    err(
                        f("status"),
                        format!(
                            "未知的证书状态“{}”（可选：valid、suspended、revoked、expired）",
                            c.status
                        ),
                        format!(
                            "unknown certificate status \"{}\" (expected valid, suspended, revoked or expired)",
                            c.status
                        ),
                    )
                })?,
            });
        }

        Ok(Profile {
            as_of,
            category,
            level,
            kind,
            organization,
            staff,
            track_record,
            certificates,
        })
    }
}

fn project(path: &str, p: &RawProject) -> Result<DrProject, FieldError> {
    let name = non_empty(&format!("{path}.name"), &p.name)?;
    let edition = match p.gbt20988_edition.as_deref() {
        None | Some("2007") => "2007".to_string(),
        Some("2025") => "2025".to_string(),
        Some(other) => {
            return Err(err(
                format!("{path}.gbt20988_edition"),
                format!("未知的 GB/T 20988 版本“{other}”（可选：2007、2025）"),
                format!("unknown GB/T 20988 edition \"{other}\" (expected 2007 or 2025)"),
            ));
        }
    };
    let elements = match &p.gbt20988_elements {
        None => None,
        Some(e) => {
            let f = |n: &str| format!("{path}.gbt20988_elements.{n}");
            Some(ElementLevels([
                dr_level(&f("data_backup"), e.data_backup)?,
                dr_level(&f("standby_processing"), e.standby_processing)?,
                dr_level(&f("standby_network"), e.standby_network)?,
                dr_level(&f("standby_infrastructure"), e.standby_infrastructure)?,
                dr_level(&f("technical_support"), e.technical_support)?,
                dr_level(&f("operations_management"), e.operations_management)?,
                dr_level(&f("dr_plan"), e.dr_plan)?,
            ]))
        }
    };
    let level = match (p.gbt20988_level, elements) {
        (None, None) => {
            return Err(err(
                format!("{path}.gbt20988_level"),
                "须给出 gbt20988_level 或 gbt20988_elements（七个要素的等级）",
                "give gbt20988_level or gbt20988_elements (the seven element levels)",
            ));
        }
        (Some(l), None) => dr_level(&format!("{path}.gbt20988_level"), l)?,
        (None, Some(e)) => e.system_level(),
        (Some(l), Some(e)) => {
            let l = dr_level(&format!("{path}.gbt20988_level"), l)?;
            if l != e.system_level() {
                return Err(err(
                    format!("{path}.gbt20988_level"),
                    format!(
                        "申报等级 {l} 与要素等级不符：按七个要素的最低等级应为 {}",
                        e.system_level()
                    ),
                    format!(
                        "declared level {l} disagrees with the elements: their minimum is {}",
                        e.system_level()
                    ),
                ));
            }
            l
        }
    };
    Ok(DrProject {
        name,
        level,
        elements,
        edition,
    })
}
