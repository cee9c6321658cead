//! Criteria packs (准则包): the requirements of one category × level as versioned data
//! (DESIGN.md §3). Packs live in `criteria/<category>/level<N>.toml`; the shipped ones are
//! embedded in the binary. A pack that does not parse or is inconsistent is rejected with the
//! file, line and reason.

use std::collections::BTreeSet;
use std::fmt;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use crate::fees::{Fee, FeeSchedule};
use crate::gbt20988::MAX_LEVEL;
use crate::lang::Text;
use crate::money::Cny;
use crate::profile::{Category, RawAmount};
use crate::renewal::RenewalRule;
use crate::source::{Located, SourceError};

/// The packs shipped with zizhi: (file name, contents).
pub const SHIPPED: [(&str, &str); 3] = [
    (
        "criteria/disaster_recovery/level1.toml",
        include_str!("../criteria/disaster_recovery/level1.toml"),
    ),
    (
        "criteria/disaster_recovery/level2.toml",
        include_str!("../criteria/disaster_recovery/level2.toml"),
    ),
    (
        "criteria/disaster_recovery/level3.toml",
        include_str!("../criteria/disaster_recovery/level3.toml"),
    ),
];

/// The four sections of a level's requirements (guide §三).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Section {
    /// 3.1 基本资格 — entry conditions.
    BasicQualification,
    /// 3.2 基本能力 — technical capability, resources, scale and assets, track record.
    BasicCapability,
    /// 3.3 质量管理
    QualityManagement,
    /// 3.4 灾难恢复过程能力 — the core requirement.
    ProcessCapability,
}

impl Section {
    pub const ALL: [Section; 4] = [
        Section::BasicQualification,
        Section::BasicCapability,
        Section::QualityManagement,
        Section::ProcessCapability,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::BasicQualification => "basic_qualification",
            Section::BasicCapability => "basic_capability",
            Section::QualityManagement => "quality_management",
            Section::ProcessCapability => "process_capability",
        }
    }

    /// The guide's section number the requirement ids start with.
    pub fn number(self) -> &'static str {
        match self {
            Section::BasicQualification => "3.1",
            Section::BasicCapability => "3.2",
            Section::QualityManagement => "3.3",
            Section::ProcessCapability => "3.4",
        }
    }

    pub fn name(self) -> Text {
        match self {
            Section::BasicQualification => Text::new("基本资格", "Basic qualification"),
            Section::BasicCapability => Text::new("基本能力", "Basic capability"),
            Section::QualityManagement => Text::new("质量管理", "Quality management"),
            Section::ProcessCapability => {
                Text::new("灾难恢复过程能力", "Disaster recovery process capability")
            }
        }
    }

    fn parse(s: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a requirement is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequirementKind {
    /// By rules over the applicant profile.
    Automatic,
    /// By an assessor, on evidence.
    Judgement,
}

impl RequirementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementKind::Automatic => "automatic",
            RequirementKind::Judgement => "judgement",
        }
    }
}

/// Whether a pack restates an official text or is a draft with numbers pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackStatus {
    Official,
    Draft,
}

impl PackStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PackStatus::Official => "official",
            PackStatus::Draft => "draft",
        }
    }
}

/// What type of value a profile field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Date,
    Amount,
    Count,
}

impl FieldType {
    fn as_str(self) -> &'static str {
        match self {
            FieldType::Bool => "boolean",
            FieldType::Date => "date",
            FieldType::Amount => "amount",
            FieldType::Count => "count",
        }
    }
}

/// A profile field a rule can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    IndependentLegalPerson,
    ApprovedByAuthorities,
    LawAbiding,
    SecurityServiceSince,
    RegisteredCapital,
    TotalAssets,
    FinancesGood,
    DrTechnicalStaff,
    RegisteredProfessionals,
    CompletedFullProcess,
    CompletedProjectValue,
    OwnsDataCenter,
}

impl Field {
    pub const ALL: [Field; 12] = [
        Field::IndependentLegalPerson,
        Field::ApprovedByAuthorities,
        Field::LawAbiding,
        Field::SecurityServiceSince,
        Field::RegisteredCapital,
        Field::TotalAssets,
        Field::FinancesGood,
        Field::DrTechnicalStaff,
        Field::RegisteredProfessionals,
        Field::CompletedFullProcess,
        Field::CompletedProjectValue,
        Field::OwnsDataCenter,
    ];

    pub fn path(self) -> &'static str {
        match self {
            Field::IndependentLegalPerson => "organization.independent_legal_person",
            Field::ApprovedByAuthorities => "organization.approved_by_authorities",
            Field::LawAbiding => "organization.law_abiding",
            Field::SecurityServiceSince => "organization.security_service_since",
            Field::RegisteredCapital => "organization.registered_capital_cny",
            Field::TotalAssets => "organization.total_assets_cny",
            Field::FinancesGood => "organization.finances_good_last_3_years",
            Field::DrTechnicalStaff => "staff.dr_technical_staff",
            Field::RegisteredProfessionals => "staff.full_time_registered_professionals",
            Field::CompletedFullProcess => "track_record.completed_full_dr_service_process",
            Field::CompletedProjectValue => "track_record.completed_dr_project_value_cny",
            Field::OwnsDataCenter => "track_record.owns_dr_data_center",
        }
    }

    pub fn field_type(self) -> FieldType {
        match self {
            Field::IndependentLegalPerson
            | Field::ApprovedByAuthorities
            | Field::LawAbiding
            | Field::FinancesGood
            | Field::CompletedFullProcess
            | Field::OwnsDataCenter => FieldType::Bool,
            Field::SecurityServiceSince => FieldType::Date,
            Field::RegisteredCapital | Field::TotalAssets | Field::CompletedProjectValue => {
                FieldType::Amount
            }
            Field::DrTechnicalStaff | Field::RegisteredProfessionals => FieldType::Count,
        }
    }

    /// How the field is named in reasons.
    pub fn label(self) -> Text {
        match self {
            Field::IndependentLegalPerson => {
                Text::new("具有独立法人地位", "independent legal person")
            }
            Field::ApprovedByAuthorities => Text::new(
                "获得相关主管部门批准",
                "approved by the competent authorities",
            ),
            Field::LawAbiding => Text::new("遵守国家法律法规", "abides by the law"),
            Field::SecurityServiceSince => Text::new(
                "从事信息安全服务起始日期",
                "in information security services since",
            ),
            Field::RegisteredCapital => Text::new("注册资本", "registered capital"),
            Field::TotalAssets => Text::new("资产总额", "total assets"),
            Field::FinancesGood => {
                Text::new("近 3 年财务状况良好", "good finances in the last 3 years")
            }
            Field::DrTechnicalStaff => {
                Text::new("从事灾难恢复服务专业技术人员", "DR technical staff")
            }
            Field::RegisteredProfessionals => Text::new(
                "专职注册信息安全专业人员",
                "full-time registered security professionals",
            ),
            Field::CompletedFullProcess => Text::new(
                "实践过完整的灾难恢复服务过程",
                "has practised a complete DR service process",
            ),
            Field::CompletedProjectValue => Text::new(
                "已完成灾难恢复服务项目总值",
                "total value of completed DR service projects",
            ),
            Field::OwnsDataCenter => {
                Text::new("拥有提供灾难备份的数据中心", "owns a DR backup data centre")
            }
        }
    }

    fn parse(s: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.path() == s)
    }
}

/// An automatic rule over the profile. `None` parameters are pending (draft packs only):
/// the rule then yields `needs_review` and says the number is not yet published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// A self-declared fact: `false` is not met; `true` still needs its evidence reviewed.
    Declared { field: Field },
    /// At least `years` whole years since a date, up to the assessment date.
    MinYears { field: Field, years: Option<u32> },
    /// An amount of at least `min` (inclusive).
    MinAmount { field: Field, min: Option<Cny> },
    /// `field` ≥ max(`floor`, ⌈`percent` % × `of`⌉).
    StaffRatio {
        field: Field,
        of: Field,
        percent: Option<u32>,
        floor: Option<u32>,
    },
    /// A certificate of `category` × `level` in force on the assessment date.
    CertificateHeld { category: Category, level: u8 },
    /// At least one DR construction project at GB/T 20988 `min_level` or above.
    ProjectLevel { min_level: Option<u8> },
}

impl Rule {
    pub const TYPES: [&'static str; 6] = [
        "declared",
        "min_years",
        "min_amount",
        "staff_ratio",
        "certificate_held",
        "project_level",
    ];

    /// A readable statement of the rule, e.g. `注册资本 ≥ 10,000,000.00 元（含本数）`.
    pub fn describe(&self) -> Text {
        let pending = |what: &str| Text::new(format!("{what}待公布"), format!("{what} pending"));
        match self {
            Rule::Declared { field } => {
                let l = field.label();
                Text::new(
                    format!("申报“{}”为是（须以证据核实）", l.zh),
                    format!("declares \"{}\" (verified on evidence)", l.en),
                )
            }
            Rule::MinYears { field, years } => {
                let l = field.label();
                match years {
                    Some(y) => Text::new(
                        format!("自“{}”起满 {y} 年以上（含）", l.zh),
                        format!("{y} years or more since \"{}\" (inclusive)", l.en),
                    ),
                    None => Text::join(
                        &[
                            Text::new(
                                format!("自“{}”起的年限", l.zh),
                                format!("years since \"{}\"", l.en),
                            ),
                            pending("年限"),
                        ],
                        "：",
                        ": ",
                    ),
                }
            }
            Rule::MinAmount { field, min } => {
                let l = field.label();
                match min {
                    Some(m) => Text::new(
                        format!("{} ≥ {}（含本数）", l.zh, m.display(crate::lang::Lang::Zh)),
                        format!(
                            "{} ≥ {} (inclusive)",
                            l.en,
                            m.display(crate::lang::Lang::En)
                        ),
                    ),
                    None => Text::join(
                        &[Text::new(l.zh.clone(), l.en.clone()), pending("数额")],
                        "：",
                        ": ",
                    ),
                }
            }
            Rule::StaffRatio {
                field,
                of,
                percent,
                floor,
            } => {
                let (f, o) = (field.label(), of.label());
                match (percent, floor) {
                    (Some(p), Some(n)) => Text::new(
                        format!("{} ≥ max({n}, ⌈{p}% × {}⌉)", f.zh, o.zh),
                        format!("{} ≥ max({n}, ⌈{p}% × {}⌉)", f.en, o.en),
                    ),
                    _ => Text::join(
                        &[
                            Text::new(
                                format!("{} 与 {} 的比例及下限", f.zh, o.zh),
                                format!("share of {} in {} and floor", f.en, o.en),
                            ),
                            pending("比例及下限"),
                        ],
                        "：",
                        ": ",
                    ),
                }
            }
            Rule::CertificateHeld { category, level } => {
                let c = category.name();
                Text::new(
                    format!(
                        "持有评估日有效的{}{}证书（未暂停、未取消）",
                        c.zh,
                        crate::lang::level_zh(*level)
                    ),
                    format!(
                        "holds a {} level-{level} certificate in force on the assessment date (not suspended or revoked)",
                        c.en
                    ),
                )
            }
            Rule::ProjectLevel { min_level } => match min_level {
                Some(m) => Text::new(
                    format!("至少一个灾难恢复系统建设项目达到 GB/T 20988 第 {m} 级以上（含）"),
                    format!(
                        "at least one DR construction project at GB/T 20988 level {m} or above"
                    ),
                ),
                None => Text::join(
                    &[
                        Text::new(
                            "灾难恢复系统建设项目的 GB/T 20988 等级",
                            "GB/T 20988 level of a DR construction project",
                        ),
                        pending("等级"),
                    ],
                    "：",
                    ": ",
                ),
            },
        }
    }

    /// Names of parameters left pending.
    pub fn pending(&self) -> Vec<&'static str> {
        let mut p = Vec::new();
        match self {
            Rule::MinYears { years: None, .. } => p.push("years"),
            Rule::MinAmount { min: None, .. } => p.push("min_cny"),
            Rule::StaffRatio { percent, floor, .. } => {
                if percent.is_none() {
                    p.push("percent");
                }
                if floor.is_none() {
                    p.push("floor");
                }
            }
            Rule::ProjectLevel { min_level: None } => p.push("min_level"),
            _ => {}
        }
        p
    }
}

/// One requirement of a pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The guide's numbering, e.g. `3.2.4`.
    pub id: String,
    pub section: Section,
    pub kind: RequirementKind,
    pub text: Text,
    /// Evidence an applicant is expected to attach.
    pub evidence: Vec<Text>,
    /// All must hold (automatic requirements only).
    pub rules: Vec<Rule>,
    /// A qualitative part left to the assessor even when the rules hold.
    pub review: Option<Text>,
}

/// A criteria pack: one category × level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pack {
    pub category: Category,
    pub level: u8,
    pub version: String,
    pub status: PackStatus,
    pub title: Text,
    pub source: String,
    /// Years a certificate is valid; `None` while pending.
    pub validity_years: Option<u32>,
    pub renewal: Option<RenewalRule>,
    pub fees: FeeSchedule,
    pub requirements: Vec<Requirement>,
}

impl Pack {
    /// `disaster_recovery/2`
    pub fn id(&self) -> String {
        format!("{}/{}", self.category.as_str(), self.level)
    }

    /// `disaster_recovery/2@2026.1`
    pub fn versioned_id(&self) -> String {
        format!("{}@{}", self.id(), self.version)
    }

    /// The packs shipped with zizhi, in order of category and level.
    pub fn shipped() -> Vec<Pack> {
        SHIPPED
            .iter()
            .map(|(file, src)| Pack::parse(file, src).expect("shipped packs are valid (tested)"))
            .collect()
    }

    /// Finds a shipped pack by id (`disaster_recovery/2`, also `disaster_recovery-2`).
    pub fn find<'a>(packs: &'a [Pack], id: &str) -> Option<&'a Pack> {
        let id = id.replace('-', "/");
        packs.iter().find(|p| p.id() == id)
    }

    pub fn for_level(packs: &[Pack], category: Category, level: u8) -> Option<&Pack> {
        packs
            .iter()
            .find(|p| p.category == category && p.level == level)
    }

    /// Parses and validates a pack file.
    pub fn parse(file: &str, src: &str) -> Result<Pack, SourceError> {
        let loc = Located { file, src };
        let raw: RawPack = toml::from_str(src).map_err(|e| loc.toml(&e))?;
        Checker { loc }.pack(raw)
    }
}

impl fmt::Display for Pack {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.versioned_id())
    }
}

// ------------------------------------------------------------------------------ raw file shape

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPack {
    format: Spanned<i64>,
    category: Spanned<String>,
    level: Spanned<i64>,
    version: Spanned<String>,
    status: Spanned<String>,
    title_zh: Spanned<String>,
    title_en: Spanned<String>,
    source: String,
    certificate: Option<RawCertificate>,
    renewal: Option<Spanned<RawRenewal>>,
    fees: Option<RawFees>,
    #[serde(default)]
    requirement: Vec<Spanned<RawRequirement>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCertificate {
    validity_years: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRenewal {
    due_months_before_expiry: Spanned<i64>,
    initial_after_months_past_expiry: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFees {
    initial: Option<Spanned<RawFee>>,
    maintenance: Option<Spanned<RawFee>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFee {
    audit_cny: Spanned<RawAmount>,
    annual_cny: Spanned<RawAmount>,
    total_cny: Spanned<RawAmount>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequirement {
    id: Spanned<String>,
    section: Spanned<String>,
    kind: Spanned<String>,
    text_zh: Spanned<String>,
    text_en: Spanned<String>,
    #[serde(default)]
    evidence: Vec<Spanned<RawText>>,
    #[serde(default)]
    rules: Option<Spanned<Vec<Spanned<RawRule>>>>,
    review_zh: Option<Spanned<String>>,
    review_en: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    zh: String,
    en: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(rename = "type")]
    kind: Spanned<String>,
    field: Option<Spanned<String>>,
    of: Option<Spanned<String>>,
    years: Option<Spanned<i64>>,
    min_cny: Option<Spanned<RawAmount>>,
    percent: Option<Spanned<i64>>,
    floor: Option<Spanned<i64>>,
    category: Option<Spanned<String>>,
    level: Option<Spanned<i64>>,
    min_level: Option<Spanned<i64>>,
}

// ------------------------------------------------------------------------------- validation

struct Checker<'a> {
    loc: Located<'a>,
}

type R<T> = Result<T, SourceError>;

fn span<T>(s: &Spanned<T>) -> Option<Range<usize>> {
    Some(s.span())
}

impl Checker<'_> {
    fn err<T>(&self, at: Option<Range<usize>>, reason: impl Into<String>) -> R<T> {
        Err(self.loc.at(at, reason))
    }

    fn non_empty(&self, s: &Spanned<String>, what: &str) -> R<String> {
        let t = s.get_ref().trim();
        if t.is_empty() {
            return self.err(span(s), format!("{what} must not be empty"));
        }
        Ok(t.to_string())
    }

    fn amount(&self, a: &Spanned<RawAmount>, what: &str) -> R<Cny> {
        let r = match a.get_ref() {
            RawAmount::Int(i) => Cny::parse(&i.to_string()),
            RawAmount::Float(f) => Cny::from_f64(*f),
            RawAmount::Text(s) => Cny::parse(s),
        };
        r.or_else(|e| self.err(span(a), format!("{what}: {e}")))
    }

    fn positive(&self, v: &Spanned<i64>, what: &str, max: i64) -> R<u32> {
        let n = *v.get_ref();
        if n < 1 || n > max {
            return self.err(span(v), format!("{what} must be 1 to {max}, found {n}"));
        }
        Ok(n as u32)
    }

    fn pack(&self, raw: RawPack) -> R<Pack> {
        if *raw.format.get_ref() != 1 {
            return self.err(
                span(&raw.format),
                format!("unsupported format {}, expected 1", raw.format.get_ref()),
            );
        }
        let category = Category::parse(raw.category.get_ref()).map_or_else(
            || {
                self.err(
                    span(&raw.category),
                    format!("unknown category \"{}\"", raw.category.get_ref()),
                )
            },
            Ok,
        )?;
        let level = self.positive(&raw.level, "level", 5)? as u8;
        let status = match raw.status.get_ref().as_str() {
            "official" => PackStatus::Official,
            "draft" => PackStatus::Draft,
            other => {
                return self.err(
                    span(&raw.status),
                    format!("unknown status \"{other}\", expected official or draft"),
                );
            }
        };
        let official = status == PackStatus::Official;
        let version = self.non_empty(&raw.version, "version")?;
        let title = Text::new(
            self.non_empty(&raw.title_zh, "title_zh")?,
            self.non_empty(&raw.title_en, "title_en")?,
        );

        let validity_years = match raw.certificate.and_then(|c| c.validity_years) {
            Some(v) => Some(self.positive(&v, "certificate.validity_years", 10)?),
            None => None,
        };
        let renewal = match &raw.renewal {
            Some(r) => {
                let r = r.get_ref();
                Some(RenewalRule {
                    due_months_before_expiry: self.positive(
                        &r.due_months_before_expiry,
                        "renewal.due_months_before_expiry",
                        36,
                    )?,
                    initial_after_months_past_expiry: self.positive(
                        &r.initial_after_months_past_expiry,
                        "renewal.initial_after_months_past_expiry",
                        36,
                    )?,
                })
            }
            None => None,
        };
        let mut fees = FeeSchedule::default();
        if let Some(f) = &raw.fees {
            fees.initial = f
                .initial
                .as_ref()
                .map(|x| self.fee(x, "fees.initial"))
                .transpose()?;
            fees.maintenance = f
                .maintenance
                .as_ref()
                .map(|x| self.fee(x, "fees.maintenance"))
                .transpose()?;
        }
        if official {
            let missing = [
                (validity_years.is_none(), "certificate.validity_years"),
                (renewal.is_none(), "[renewal]"),
                (fees.initial.is_none(), "[fees.initial]"),
                (fees.maintenance.is_none(), "[fees.maintenance]"),
            ];
            if let Some((_, what)) = missing.iter().find(|(m, _)| *m) {
                return self.err(
                    span(&raw.status),
                    format!("an official pack must give {what}; only a draft may leave it pending"),
                );
            }
        }

        let mut requirements = Vec::new();
        let mut seen = BTreeSet::new();
        let mut previous: Option<Vec<u32>> = None;
        for r in &raw.requirement {
            let req = self.requirement(r, category, level, official)?;
            let key: Vec<u32> = req.id.split('.').map(|p| p.parse().unwrap_or(0)).collect();
            if !seen.insert(req.id.clone()) {
                return self.err(
                    span(&r.get_ref().id),
                    format!("requirement {} appears twice", req.id),
                );
            }
            if let Some(prev) = &previous
                && key < *prev
            {
                return self.err(
                    span(&r.get_ref().id),
                    format!("requirement {} is out of order (ids must ascend)", req.id),
                );
            }
            previous = Some(key);
            requirements.push(req);
        }
        if requirements.is_empty() {
            return self.err(None, "a pack must have at least one [[requirement]]");
        }
        for s in Section::ALL {
            if !requirements.iter().any(|r| r.section == s) {
                return self.err(
                    None,
                    format!(
                        "no requirement in section {} ({}): every level has all four sections",
                        s.number(),
                        s.as_str()
                    ),
                );
            }
        }

        Ok(Pack {
            category,
            level,
            version,
            status,
            title,
            source: raw.source,
            validity_years,
            renewal,
            fees,
            requirements,
        })
    }

    fn fee(&self, f: &Spanned<RawFee>, what: &str) -> R<Fee> {
        let raw = f.get_ref();
        let fee = Fee {
            audit: self.amount(&raw.audit_cny, &format!("{what}.audit_cny"))?,
            annual: self.amount(&raw.annual_cny, &format!("{what}.annual_cny"))?,
        };
        let total = self.amount(&raw.total_cny, &format!("{what}.total_cny"))?;
        if fee.total() != total {
            return self.err(
                span(&raw.total_cny),
                format!(
                    "{what}: audit {} + annual {} = {}, but total_cny says {}",
                    fee.audit,
                    fee.annual,
                    fee.total(),
                    total
                ),
            );
        }
        Ok(fee)
    }

    fn requirement(
        &self,
        r: &Spanned<RawRequirement>,
        category: Category,
        level: u8,
        official: bool,
    ) -> R<Requirement> {
        let raw = r.get_ref();
        let id = raw.id.get_ref().trim().to_string();
        let parts: Vec<&str> = id.split('.').collect();
        let well_formed = parts.len() == 3
            && parts
                .iter()
                .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()));
        if !well_formed {
            return self.err(
                span(&raw.id),
                format!(
                    "requirement id \"{id}\" is not of the form 3.<section>.<item>, e.g. 3.2.4"
                ),
            );
        }
        let section = Section::parse(raw.section.get_ref()).map_or_else(
            || {
                let names: Vec<&str> = Section::ALL.iter().map(|s| s.as_str()).collect();
                self.err(
                    span(&raw.section),
                    format!(
                        "unknown section \"{}\", expected one of {}",
                        raw.section.get_ref(),
                        names.join(", ")
                    ),
                )
            },
            Ok,
        )?;
        if !id.starts_with(&format!("{}.", section.number())) {
            return self.err(
                span(&raw.id),
                format!(
                    "requirement {id} is in section {} ({}), so its id must start with {}.",
                    section.number(),
                    section.as_str(),
                    section.number()
                ),
            );
        }
        let kind = match raw.kind.get_ref().as_str() {
            "automatic" => RequirementKind::Automatic,
            "judgement" => RequirementKind::Judgement,
            other => {
                return self.err(
                    span(&raw.kind),
                    format!("unknown kind \"{other}\", expected automatic or judgement"),
                );
            }
        };
        let text = Text::new(
            self.non_empty(&raw.text_zh, "text_zh")?,
            self.non_empty(&raw.text_en, "text_en")?,
        );
        let mut evidence = Vec::new();
        for e in &raw.evidence {
            let t = e.get_ref();
            if t.zh.trim().is_empty() || t.en.trim().is_empty() {
                return self.err(span(e), "evidence needs both zh and en text");
            }
            evidence.push(Text::new(t.zh.trim(), t.en.trim()));
        }
        if official && evidence.is_empty() {
            return self.err(
                span(&raw.id),
                format!("requirement {id} lists no evidence; an official pack must say what evidence is expected"),
            );
        }
        let review = match (&raw.review_zh, &raw.review_en) {
            (None, None) => None,
            (Some(zh), Some(en)) => Some(Text::new(
                self.non_empty(zh, "review_zh")?,
                self.non_empty(en, "review_en")?,
            )),
            (Some(x), None) | (None, Some(x)) => {
                return self.err(span(x), "review_zh and review_en go together");
            }
        };
        let mut rules = Vec::new();
        match (kind, &raw.rules) {
            (RequirementKind::Automatic, None) => {
                return self.err(
                    span(&raw.kind),
                    format!("automatic requirement {id} has no rules"),
                );
            }
            (RequirementKind::Automatic, Some(list)) if list.get_ref().is_empty() => {
                return self.err(
                    span(list),
                    format!("automatic requirement {id} has no rules"),
                );
            }
            (RequirementKind::Automatic, Some(list)) => {
                for rule in list.get_ref() {
                    rules.push(self.rule(rule, category, level, official)?);
                }
            }
            (RequirementKind::Judgement, Some(list)) => {
                return self.err(
                    span(list),
                    format!(
                        "judgement requirement {id} must not have rules (an assessor decides it)"
                    ),
                );
            }
            (RequirementKind::Judgement, None) => {
                if let Some(x) = &raw.review_zh {
                    return self.err(
                        span(x),
                        "review text belongs to automatic requirements; a judgement is all review",
                    );
                }
            }
        }
        Ok(Requirement {
            id,
            section,
            kind,
            text,
            evidence,
            rules,
            review,
        })
    }

    fn field(
        &self,
        f: &Option<Spanned<String>>,
        name: &str,
        at: &Spanned<RawRule>,
        want: FieldType,
    ) -> R<Field> {
        let Some(f) = f else {
            return self.err(
                span(at),
                format!("rule {} needs `{name}`", at.get_ref().kind.get_ref()),
            );
        };
        let field = Field::parse(f.get_ref()).map_or_else(
            || {
                let known: Vec<&str> = Field::ALL.iter().map(|f| f.path()).collect();
                self.err(
                    span(f),
                    format!(
                        "unknown profile field \"{}\"; known: {}",
                        f.get_ref(),
                        known.join(", ")
                    ),
                )
            },
            Ok,
        )?;
        if field.field_type() != want {
            return self.err(
                span(f),
                format!(
                    "field {} is a {}, but rule {} needs a {}",
                    field.path(),
                    field.field_type().as_str(),
                    at.get_ref().kind.get_ref(),
                    want.as_str()
                ),
            );
        }
        Ok(field)
    }

    fn rule(
        &self,
        at: &Spanned<RawRule>,
        category: Category,
        level: u8,
        official: bool,
    ) -> R<Rule> {
        let r = at.get_ref();
        let ty = r.kind.get_ref().as_str();
        // Which parameters each type takes; any other present parameter is an error.
        let allowed: &[&str] = match ty {
            "declared" => &["field"],
            "min_years" => &["field", "years"],
            "min_amount" => &["field", "min_cny"],
            "staff_ratio" => &["field", "of", "percent", "floor"],
            "certificate_held" => &["category", "level"],
            "project_level" => &["min_level"],
            other => {
                return self.err(
                    span(&r.kind),
                    format!(
                        "unknown rule type \"{other}\"; expected one of {}",
                        Rule::TYPES.join(", ")
                    ),
                );
            }
        };
        let present: [(&str, Option<Range<usize>>); 9] = [
            ("field", r.field.as_ref().map(|x| x.span())),
            ("of", r.of.as_ref().map(|x| x.span())),
            ("years", r.years.as_ref().map(|x| x.span())),
            ("min_cny", r.min_cny.as_ref().map(|x| x.span())),
            ("percent", r.percent.as_ref().map(|x| x.span())),
            ("floor", r.floor.as_ref().map(|x| x.span())),
            ("category", r.category.as_ref().map(|x| x.span())),
            ("level", r.level.as_ref().map(|x| x.span())),
            ("min_level", r.min_level.as_ref().map(|x| x.span())),
        ];
        for (name, sp) in present {
            if let Some(sp) = sp
                && !allowed.contains(&name)
            {
                return self.err(
                    Some(sp),
                    format!("`{name}` does not apply to rule type {ty}"),
                );
            }
        }
        let rule = match ty {
            "declared" => Rule::Declared {
                field: self.field(&r.field, "field", at, FieldType::Bool)?,
            },
            "min_years" => Rule::MinYears {
                field: self.field(&r.field, "field", at, FieldType::Date)?,
                years: r
                    .years
                    .as_ref()
                    .map(|y| self.positive(y, "years", 50))
                    .transpose()?,
            },
            "min_amount" => Rule::MinAmount {
                field: self.field(&r.field, "field", at, FieldType::Amount)?,
                min: r
                    .min_cny
                    .as_ref()
                    .map(|a| self.amount(a, "min_cny"))
                    .transpose()?,
            },
            "staff_ratio" => Rule::StaffRatio {
                field: self.field(&r.field, "field", at, FieldType::Count)?,
                of: self.field(&r.of, "of", at, FieldType::Count)?,
                percent: r
                    .percent
                    .as_ref()
                    .map(|p| self.positive(p, "percent", 100))
                    .transpose()?,
                floor: r
                    .floor
                    .as_ref()
                    .map(|p| self.positive(p, "floor", 100_000))
                    .transpose()?,
            },
            "certificate_held" => {
                let (Some(c), Some(l)) = (&r.category, &r.level) else {
                    return self.err(span(at), "certificate_held needs `category` and `level`");
                };
                let cat = Category::parse(c.get_ref()).map_or_else(
                    || self.err(span(c), format!("unknown category \"{}\"", c.get_ref())),
                    Ok,
                )?;
                let l = self.positive(l, "level", 5)? as u8;
                if cat == category && l >= level {
                    return self.err(
                        span(at),
                        format!("a level-{level} pack cannot require a certificate of level {l} of the same category as a prerequisite"),
                    );
                }
                Rule::CertificateHeld {
                    category: cat,
                    level: l,
                }
            }
            "project_level" => Rule::ProjectLevel {
                min_level: r
                    .min_level
                    .as_ref()
                    .map(|m| {
                        self.positive(m, "min_level", i64::from(MAX_LEVEL))
                            .map(|x| x as u8)
                    })
                    .transpose()?,
            },
            _ => unreachable!("checked above"),
        };
        let pending = rule.pending();
        if official && !pending.is_empty() {
            return self.err(
                span(at),
                format!(
                    "rule {ty} leaves {} pending; only a draft pack may leave numbers pending",
                    pending.join(", ")
                ),
            );
        }
        Ok(rule)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn level2() -> Pack {
        Pack::find(&Pack::shipped(), "disaster_recovery/2")
            .unwrap()
            .clone()
    }

    #[test]
    fn the_level_2_pack_has_exactly_the_guides_numbering() {
        let ids: Vec<String> = level2().requirements.iter().map(|r| r.id.clone()).collect();
        let expected: Vec<String> = [
            "3.1.1", "3.1.2", "3.1.3", "3.1.4", "3.1.5", "3.2.1", "3.2.2", "3.2.3", "3.2.4",
            "3.2.5", "3.2.6", "3.2.7", "3.2.8", "3.3.1", "3.3.2", "3.3.3", "3.4.1", "3.4.2",
            "3.4.3",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(ids, expected);
    }

    #[test]
    fn the_level_2_pack_carries_the_fee_schedule_and_validity() {
        let p = level2();
        assert_eq!(p.status, PackStatus::Official);
        let i = p.fees.initial.unwrap();
        assert_eq!(
            (i.audit, i.annual, i.total()),
            (
                Cny::from_yuan(72_000),
                Cny::from_yuan(15_000),
                Cny::from_yuan(87_000)
            )
        );
        let m = p.fees.maintenance.unwrap();
        assert_eq!(
            (m.audit, m.annual, m.total()),
            (
                Cny::from_yuan(48_000),
                Cny::from_yuan(15_000),
                Cny::from_yuan(63_000)
            )
        );
        assert_eq!(p.validity_years, Some(3));
        assert_eq!(
            p.renewal,
            Some(RenewalRule {
                due_months_before_expiry: 6,
                initial_after_months_past_expiry: 6
            })
        );
    }

    #[test]
    fn the_level_2_rules_restate_the_guides_numbers() {
        let p = level2();
        let rules = |id: &str| {
            p.requirements
                .iter()
                .find(|r| r.id == id)
                .unwrap()
                .rules
                .clone()
        };
        assert_eq!(
            rules("3.2.1"),
            vec![Rule::MinYears {
                field: Field::SecurityServiceSince,
                years: Some(3)
            }]
        );
        assert_eq!(
            rules("3.2.2"),
            vec![
                Rule::MinAmount {
                    field: Field::RegisteredCapital,
                    min: Some(Cny::from_yuan(10_000_000))
                },
                Rule::MinAmount {
                    field: Field::TotalAssets,
                    min: Some(Cny::from_yuan(20_000_000))
                },
            ]
        );
        assert_eq!(
            rules("3.2.4"),
            vec![Rule::StaffRatio {
                field: Field::RegisteredProfessionals,
                of: Field::DrTechnicalStaff,
                percent: Some(10),
                floor: Some(6)
            }]
        );
        assert_eq!(
            rules("3.2.6"),
            vec![Rule::MinAmount {
                field: Field::CompletedProjectValue,
                min: Some(Cny::from_yuan(20_000_000))
            }]
        );
        assert_eq!(
            rules("3.2.8"),
            vec![Rule::ProjectLevel { min_level: Some(3) }]
        );
        assert_eq!(
            rules("3.1.4"),
            vec![Rule::CertificateHeld {
                category: Category::DisasterRecovery,
                level: 1
            }]
        );
    }

    #[test]
    fn draft_packs_leave_numbers_pending_and_fees_empty() {
        let packs = Pack::shipped();
        for id in ["disaster_recovery/1", "disaster_recovery/3"] {
            let p = Pack::find(&packs, id).unwrap();
            assert_eq!(p.status, PackStatus::Draft, "{id}");
            assert_eq!(p.fees, FeeSchedule::default(), "{id}");
            assert_eq!(p.validity_years, None);
            assert_eq!(p.renewal, None);
            let pending: usize = p
                .requirements
                .iter()
                .flat_map(|r| r.rules.iter())
                .map(|r| r.pending().len())
                .sum();
            assert!(
                pending >= 6,
                "{id}: numbers must be pending, found {pending}"
            );
            // No draft rule carries a number of its own.
            for r in p.requirements.iter().flat_map(|r| r.rules.iter()) {
                match r {
                    Rule::MinYears { years, .. } => assert_eq!(*years, None),
                    Rule::MinAmount { min, .. } => assert_eq!(*min, None),
                    Rule::StaffRatio { percent, floor, .. } => {
                        assert_eq!((*percent, *floor), (None, None))
                    }
                    Rule::ProjectLevel { min_level } => assert_eq!(*min_level, None),
                    Rule::Declared { .. } | Rule::CertificateHeld { .. } => {}
                }
            }
        }
        let l3 = Pack::find(&packs, "disaster_recovery-3").unwrap();
        assert!(
            l3.requirements
                .iter()
                .any(|r| r.rules.contains(&Rule::CertificateHeld {
                    category: Category::DisasterRecovery,
                    level: 2
                }))
        );
    }

    #[test]
    fn every_pack_in_the_repository_validates_and_is_shipped() {
        let dir = std::path::PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
        )
        .join("criteria");
        let mut found = Vec::new();
        let mut stack = vec![dir.clone()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "toml") {
                    let src = std::fs::read_to_string(&p).unwrap();
                    let name = p
                        .strip_prefix(dir.parent().unwrap())
                        .unwrap()
                        .to_string_lossy()
                        .to_string();
                    Pack::parse(&name, &src).unwrap_or_else(|e| panic!("{e}"));
                    found.push(name);
                }
            }
        }
        found.sort();
        let shipped: Vec<String> = SHIPPED.iter().map(|(f, _)| f.to_string()).collect();
        assert_eq!(found, shipped);
    }

    fn reject(edit: impl Fn(&str) -> String) -> SourceError {
        let src = edit(SHIPPED[1].1);
        Pack::parse("level2.toml", &src).expect_err("the edited pack must be rejected")
    }

    fn line_of(src: &str, needle: &str) -> usize {
        src[..src.find(needle).unwrap()].matches('\n').count() + 1
    }

    #[test]
    fn inconsistent_packs_are_rejected_with_line_and_reason() {
        let src = SHIPPED[1].1;
        let cases: Vec<(String, &str, &str)> = vec![
            // (edited source, the text on the offending line, part of the reason)
            (
                src.replace("total_cny = \"87000\"", "total_cny = \"88000\""),
                "total_cny = \"88000\"",
                "audit 72000.00 + annual 15000.00 = 87000.00",
            ),
            (
                src.replace("id = \"3.2.2\"", "id = \"3.2.1\""),
                "id = \"3.2.1\"\nsection = \"basic_capability\"\nkind = \"automatic\"\ntext_zh = \"注册资本",
                "appears twice",
            ),
            (
                src.replace("id = \"3.3.1\"", "id = \"3.2.9\""),
                "id = \"3.2.9\"",
                "must start with 3.3.",
            ),
            (
                src.replace(
                    "type = \"project_level\", min_level = 3",
                    "type = \"project_level\"",
                ),
                "type = \"project_level\"",
                "only a draft pack may leave numbers pending",
            ),
            (
                src.replace(
                    "field = \"organization.law_abiding\"",
                    "field = \"organization.law_abidng\"",
                ),
                "organization.law_abidng",
                "unknown profile field",
            ),
            (
                src.replace(
                    "type = \"min_years\", field = \"organization.security_service_since\"",
                    "type = \"min_years\", field = \"organization.registered_capital_cny\"",
                ),
                "field = \"organization.registered_capital_cny\", years",
                "is a amount, but rule min_years needs a date",
            ),
            (
                src.replace(
                    "type = \"declared\", field = \"organization.law_abiding\"",
                    "type = \"declard\", field = \"organization.law_abiding\"",
                ),
                "declard",
                "unknown rule type",
            ),
            (
                src.replace("min_level = 3", "min_level = 7"),
                "min_level = 7",
                "must be 1 to 6",
            ),
            (
                src.replace("level = 1 }]", "level = 2 }]"),
                "level = 2 }]",
                "cannot require a certificate of level 2",
            ),
            (
                src.replace(
                    "text_zh = \"遵守国家法律法规\"",
                    "text_zh = \"遵守国家法律法规\"\nrules_typo = 1",
                ),
                "rules_typo",
                "unknown field",
            ),
            (
                src.replace("validity_years = 3", "validity_years = 0"),
                "validity_years = 0",
                "must be 1 to 10",
            ),
        ];
        for (edited, at, reason) in cases {
            let e = Pack::parse("level2.toml", &edited).expect_err(reason);
            assert!(e.reason.contains(reason), "expected “{reason}”, got {e}");
            assert_eq!(e.line, Some(line_of(&edited, at)), "{e}");
            assert_eq!(e.file, "level2.toml");
        }
    }

    #[test]
    fn structural_omissions_are_rejected() {
        let e = reject(|s| s.replace("[fees.maintenance]", "[fees.maintenance_x]"));
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = reject(|s| {
            let cut = s
                .find("# ---------------------------------------------------------------- 3.4")
                .unwrap();
            s[..cut].to_string()
        });
        assert!(e.reason.contains("no requirement in section 3.4"), "{e}");
        let e = reject(|s| s.replace("[renewal]\n", "[renewal_removed]\n"));
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = reject(|s| {
            s.replace(
                "kind = \"judgement\"\ntext_zh = \"达到其他补充要求\"",
                "kind = \"automatic\"\ntext_zh = \"达到其他补充要求\"",
            )
        });
        assert!(e.reason.contains("has no rules"), "{e}");
        let e = reject(|s| s.replace("id = \"3.4.3\"", "id = \"3.4.0\""));
        assert!(e.reason.contains("out of order"), "{e}");
        let edited = SHIPPED[1].1.replace("format = 1", "format = \"one\"");
        let e = Pack::parse("level2.toml", &edited).unwrap_err();
        assert_eq!(e.line, Some(line_of(&edited, "format = \"one\"")), "{e}");
        assert!(e.reason.contains("invalid type"), "{e}");
    }
}
