//! The evaluation of each requirement of a pack against a profile: the rules of guide §三.

use super::*;

pub(super) struct Eval<'a> {
    pub(super) profile: &'a Profile,
    pub(super) pack: &'a Pack,
    pub(super) kind: ApplicationKind,
}

impl Eval<'_> {
    fn bool_of(&self, f: Field) -> bool {
        let o = &self.profile.organization;
        let t = &self.profile.track_record;
        match f {
            Field::IndependentLegalPerson => o.independent_legal_person,
            Field::ApprovedByAuthorities => o.approved_by_authorities,
            Field::LawAbiding => o.law_abiding,
            Field::FinancesGood => o.finances_good_last_3_years,
            Field::CompletedFullProcess => t.completed_full_dr_service_process,
            Field::OwnsDataCenter => t.owns_dr_data_center,
            _ => unreachable!("pack validation checks field types"),
        }
    }

    fn amount_of(&self, f: Field) -> Cny {
        match f {
            Field::RegisteredCapital => self.profile.organization.registered_capital,
            Field::TotalAssets => self.profile.organization.total_assets,
            Field::CompletedProjectValue => self.profile.track_record.completed_dr_project_value,
            _ => unreachable!("pack validation checks field types"),
        }
    }

    fn count_of(&self, f: Field) -> u32 {
        match f {
            Field::DrTechnicalStaff => self.profile.staff.dr_technical_staff,
            Field::RegisteredProfessionals => self.profile.staff.full_time_registered_professionals,
            _ => unreachable!("pack validation checks field types"),
        }
    }

    fn date_of(&self, f: Field) -> NaiveDate {
        match f {
            Field::SecurityServiceSince => self.profile.organization.security_service_since,
            _ => unreachable!("pack validation checks field types"),
        }
    }

    fn rule(&self, rule: &Rule) -> (Status, Text) {
        let pending = Text::new(
            "要求的数值待官方具体要求公布",
            "the required number is pending the official text",
        );
        match rule {
            Rule::Declared { field } => {
                let l = field.label();
                if self.bool_of(*field) {
                    (
                        Status::NeedsReview,
                        Text::new(
                            format!("申报“{}”：是，须以证据核实", l.zh),
                            format!("declared \"{}\": yes, to be verified on evidence", l.en),
                        ),
                    )
                } else {
                    (
                        Status::NotMet,
                        Text::new(
                            format!("申报“{}”：否", l.zh),
                            format!("declared \"{}\": no", l.en),
                        ),
                    )
                }
            }
            Rule::MinYears { field, years } => {
                let since = self.date_of(*field);
                let as_of = self.profile.as_of;
                let n = years_completed(since, as_of);
                let base = Text::new(
                    format!("自 {} 至 {} 已满 {n} 年", day(since).zh, day(as_of).zh),
                    format!("{n} whole years from {since} to {as_of}"),
                );
                match years {
                    None => (
                        Status::NeedsReview,
                        Text::join(&[base, pending], "；", "; "),
                    ),
                    Some(y) if n >= *y => (
                        Status::Met,
                        Text::new(
                            format!("{}，满足 {y} 年以上（含 {y} 年）", base.zh),
                            format!("{}, meeting {y} years or more ({y} included)", base.en),
                        ),
                    ),
                    Some(y) => {
                        let when = add_months(since, y * 12);
                        (
                            Status::NotMet,
                            Text::new(
                                format!(
                                    "{}，不足要求的 {y} 年（{} 方满 {y} 年）",
                                    base.zh,
                                    day(when).zh
                                ),
                                format!(
                                    "{}, short of the required {y} (complete on {when})",
                                    base.en
                                ),
                            ),
                        )
                    }
                }
            }
            Rule::MinAmount { field, min } => {
                let l = field.label();
                let v = self.amount_of(*field);
                match min {
                    None => (
                        Status::NeedsReview,
                        Text::join(
                            &[
                                Text::new(
                                    format!("{}申报 {}", l.zh, yuan(v).zh),
                                    format!("{} declared {}", l.en, yuan(v).en),
                                ),
                                pending,
                            ],
                            "；",
                            "; ",
                        ),
                    ),
                    Some(m) if v >= *m => (
                        Status::Met,
                        Text::new(
                            format!(
                                "{} {}，不低于要求的 {}（含本数）",
                                l.zh,
                                yuan(v).zh,
                                yuan(*m).zh
                            ),
                            format!(
                                "{} {} is at least the required {} (inclusive)",
                                l.en,
                                yuan(v).en,
                                yuan(*m).en
                            ),
                        ),
                    ),
                    Some(m) => {
                        let short = Cny::from_fen(m.fen() - v.fen());
                        (
                            Status::NotMet,
                            Text::new(
                                format!(
                                    "{} {}，低于要求的 {}（差 {}）",
                                    l.zh,
                                    yuan(v).zh,
                                    yuan(*m).zh,
                                    yuan(short).zh
                                ),
                                format!(
                                    "{} {} is below the required {} (short by {})",
                                    l.en,
                                    yuan(v).en,
                                    yuan(*m).en,
                                    yuan(short).en
                                ),
                            ),
                        )
                    }
                }
            }
            Rule::StaffRatio {
                field,
                of,
                percent,
                floor,
            } => {
                let have = self.count_of(*field);
                let base = self.count_of(*of);
                let (fl, ol) = (field.label(), of.label());
                let declared = Text::new(
                    format!("{} {have} 人，{} {base} 人", fl.zh, ol.zh),
                    format!("{} {have}, {} {base}", fl.en, ol.en),
                );
                let (Some(p), Some(f)) = (percent, floor) else {
                    return (
                        Status::NeedsReview,
                        Text::join(&[declared, pending], "；", "; "),
                    );
                };
                let share = percent_ceil(*p, base);
                let need = required_professionals(*p, *f, base);
                let rule = Text::new(
                    format!("要求不少于 max({f}, ⌈{p}% × {base}⌉ = {share}) = {need} 人"),
                    format!("required at least max({f}, ⌈{p}% × {base}⌉ = {share}) = {need}"),
                );
                let status = if have >= need {
                    Status::Met
                } else {
                    Status::NotMet
                };
                (status, Text::join(&[declared, rule], "；", "; "))
            }
            Rule::CertificateHeld { category, level } => self.certificate(*category, *level),
            Rule::ProjectLevel { min_level } => {
                let projects = &self.profile.track_record.dr_construction_projects;
                let Some(best) = projects.iter().max_by_key(|p| p.level) else {
                    return (
                        Status::NotMet,
                        Text::new(
                            "未申报灾难恢复系统建设项目",
                            "no DR system construction project declared",
                        ),
                    );
                };
                let how = |p: &crate::profile::DrProject| {
                    if p.elements.is_some() {
                        Text::new(
                            "，由七要素最低等级计算",
                            ", computed as the minimum of its seven elements",
                        )
                    } else {
                        Text::new("", "")
                    }
                };
                let Some(min) = min_level else {
                    let h = how(best);
                    return (
                        Status::NeedsReview,
                        Text::join(
                            &[
                                Text::new(
                                    format!(
                                        "最高为项目“{}”GB/T 20988-{} 第 {} 级{}",
                                        best.name, best.edition, best.level, h.zh
                                    ),
                                    format!(
                                        "best is \"{}\" at GB/T 20988-{} level {}{}",
                                        best.name, best.edition, best.level, h.en
                                    ),
                                ),
                                pending,
                            ],
                            "；",
                            "; ",
                        ),
                    );
                };
                match projects.iter().find(|p| p.level >= *min) {
                    Some(p) => {
                        let h = how(p);
                        (
                            Status::Met,
                            Text::new(
                                format!(
                                    "项目“{}”达到 GB/T 20988-{} 第 {} 级{}，满足第 {min} 级以上（含第 {min} 级）",
                                    p.name, p.edition, p.level, h.zh
                                ),
                                format!(
                                    "\"{}\" reaches GB/T 20988-{} level {}{}, meeting level {min} or above",
                                    p.name, p.edition, p.level, h.en
                                ),
                            ),
                        )
                    }
                    None => {
                        let h = how(best);
                        (
                            Status::NotMet,
                            Text::new(
                                format!(
                                    "申报 {} 个项目，最高为“{}”第 {} 级{}，低于要求的第 {min} 级",
                                    projects.len(),
                                    best.name,
                                    best.level,
                                    h.zh
                                ),
                                format!(
                                    "{} projects declared; the best, \"{}\", is level {}{}, below the required level {min}",
                                    projects.len(),
                                    best.name,
                                    best.level,
                                    h.en
                                ),
                            ),
                        )
                    }
                }
            }
        }
    }

    fn certificate(&self, category: crate::profile::Category, level: u8) -> (Status, Text) {
        let as_of = self.profile.as_of;
        let name = category.name();
        let matching: Vec<&HeldCertificate> = self
            .profile
            .certificates
            .iter()
            .filter(|c| c.category == category && c.level == level)
            .collect();
        if let Some(c) = matching.iter().find(|c| c.in_force_on(as_of)) {
            let (src_zh, src_en) = if c.registered {
                (
                    "（本中心证书登记簿核验）",
                    " (checked against the centre's register)",
                )
            } else {
                (
                    "（申请单位声明，待评估人员核实）",
                    " (the applicant's declaration, for the assessors to verify)",
                )
            };
            return (
                Status::Met,
                Text::new(
                    format!(
                        "持有{}{}证书 {}，有效期至 {}，于 {} 有效{src_zh}",
                        name.zh,
                        level_zh(level),
                        c.number,
                        day(c.valid_until).zh,
                        day(as_of).zh
                    ),
                    format!(
                        "holds {} level-{level} certificate {}, valid until {}, in force on {as_of}{src_en}",
                        name.en, c.number, c.valid_until
                    ),
                ),
            );
        }
        let why: Vec<Text> = matching
            .iter()
            .map(|c| match c.status {
                CertificateStatus::Suspended => Text::new(
                    format!("证书 {} 已暂停", c.number),
                    format!("certificate {} is suspended", c.number),
                ),
                CertificateStatus::Revoked => Text::new(
                    format!("证书 {} 已取消", c.number),
                    format!("certificate {} is revoked", c.number),
                ),
                CertificateStatus::Expired => Text::new(
                    format!("证书 {} 已过期", c.number),
                    format!("certificate {} has expired", c.number),
                ),
                CertificateStatus::Valid => Text::new(
                    format!(
                        "证书 {} 有效期至 {}，于 {} 已届满",
                        c.number,
                        day(c.valid_until).zh,
                        day(as_of).zh
                    ),
                    format!(
                        "certificate {} was valid until {}, expired by {as_of}",
                        c.number, c.valid_until
                    ),
                ),
            })
            .collect();
        let missing = if why.is_empty() {
            Text::new(
                format!("未申报{}{}证书", name.zh, level_zh(level)),
                format!("no {} level-{level} certificate declared", name.en),
            )
        } else {
            Text::join(&why, "；", "; ")
        };
        // A maintenance applicant holds the level being maintained; whether that stands in for
        // the lower-level prerequisite is the centre's call (the guide does not say).
        if self.kind == ApplicationKind::Maintenance
            && let Some(m) = maintained_certificate(self.profile, self.pack)
        {
            return (
                Status::NeedsReview,
                Text::new(
                    format!(
                        "{}；维持申请持有所维持的{}证书 {}（有效期至 {}），是否替代本项由测评中心确认",
                        missing.zh,
                        level_zh(self.pack.level),
                        m.number,
                        day(m.valid_until).zh
                    ),
                    format!(
                        "{}; as a maintenance application it holds the level-{} certificate {} (valid until {}); the centre decides whether that stands in for this prerequisite",
                        missing.en, self.pack.level, m.number, m.valid_until
                    ),
                ),
            );
        }
        (Status::NotMet, missing)
    }

    pub(super) fn requirement(&self, r: &Requirement) -> RequirementResult {
        let evidence = (!r.evidence.is_empty()).then(|| {
            let list = Text::join(&r.evidence, "、", "; ");
            Text::new(
                format!("需提供证据：{}", list.zh),
                format!("evidence needed: {}", list.en),
            )
        });
        let (status, mut parts) = match r.kind {
            RequirementKind::Judgement => (
                Status::NeedsReview,
                vec![Text::new(
                    "由评估人员依据证据判定",
                    "decided by the assessors on the evidence",
                )],
            ),
            RequirementKind::Automatic => {
                let results: Vec<(Status, Text)> = r.rules.iter().map(|x| self.rule(x)).collect();
                let status = if results.iter().any(|(s, _)| *s == Status::NotMet) {
                    Status::NotMet
                } else if results.iter().any(|(s, _)| *s == Status::NeedsReview)
                    || r.review.is_some()
                {
                    Status::NeedsReview
                } else {
                    Status::Met
                };
                let mut parts: Vec<Text> = results.into_iter().map(|(_, t)| t).collect();
                if status == Status::NeedsReview
                    && let Some(rv) = &r.review
                {
                    parts.push(rv.clone());
                }
                (status, parts)
            }
        };
        if status == Status::NeedsReview
            && let Some(e) = evidence
        {
            parts.push(e);
        }
        RequirementResult {
            id: r.id.clone(),
            requirement: r.clone(),
            status,
            reason: Text::join(&parts, "；", "; "),
        }
    }
}
