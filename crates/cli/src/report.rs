//! Readable text for the terminal, Chinese first.

use std::fmt::Write;

use chrono::NaiveDate;
use zizhi_domain::assess::{Assessment, Status};
use zizhi_domain::calendar::{DayKind, HolidayCalendar};
use zizhi_domain::criteria::{Pack, PackStatus, RequirementKind};
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::period::{Deadline, PeriodLength};
use zizhi_domain::renewal::RenewalTiming;

fn t(lang: Lang, zh: &str, en: &str) -> String {
    Text::new(zh, en).get(lang).to_string()
}

fn date(d: NaiveDate, lang: Lang) -> String {
    zizhi_domain::lang::date_text(d, lang)
}

pub fn status_name(s: PackStatus, lang: Lang) -> String {
    match s {
        PackStatus::Official => t(lang, "正式", "official"),
        PackStatus::Draft => t(lang, "草案，数值待定", "draft, numbers pending"),
    }
}

fn marker(s: Status) -> &'static str {
    match s {
        Status::Met => "✔",
        Status::NotMet => "✘",
        Status::NeedsReview => "?",
    }
}

/// Indents continuation lines of a block.
fn indent(text: &str, pad: &str) -> String {
    text.lines().collect::<Vec<_>>().join(&format!("\n{pad}"))
}

pub fn assessment(a: &Assessment, lang: Lang) -> String {
    let mut o = String::new();
    let line = "=".repeat(60);
    let _ = writeln!(
        o,
        "{}",
        t(
            lang,
            "信息安全服务资质自评估报告",
            "Information security service qualification — self-assessment"
        )
    );
    let _ = writeln!(o, "{line}");
    let kv = |o: &mut String, k: (&str, &str), v: String| {
        let _ = writeln!(
            o,
            "{}{}",
            t(lang, &format!("{}：", k.0), &format!("{}: ", k.1)),
            v
        );
    };
    kv(
        &mut o,
        ("申请单位", "Applicant"),
        match lang {
            Lang::Zh => format!("{}（统一社会信用代码 {}）", a.organization, a.uscc),
            Lang::En => format!("{} (USCC {})", a.organization, a.uscc),
        },
    );
    kv(
        &mut o,
        ("准则包", "Criteria pack"),
        format!(
            "{} {} [{}]",
            a.pack,
            a.pack_title.get(lang),
            status_name(a.pack_status, lang)
        ),
    );
    kv(&mut o, ("评估日期", "As of"), date(a.as_of, lang));
    let kind = |k: zizhi_domain::fees::ApplicationKind| match lang {
        Lang::Zh => k.name_zh().to_string(),
        Lang::En => k.name_en().to_string(),
    };
    let mut kind_line = kind(a.application_kind);
    if a.requested_kind != a.application_kind {
        kind_line = match lang {
            Lang::Zh => format!("{kind_line}（申报为{}）", kind(a.requested_kind)),
            Lang::En => format!("{kind_line} (filed as a {})", kind(a.requested_kind)),
        };
    }
    kv(&mut o, ("申请类型", "Application kind"), kind_line);
    if let Some(r) = &a.renewal {
        let timing = match r.timing {
            RenewalTiming::OnTime => t(lang, "按时", "on time"),
            RenewalTiming::Late => t(lang, "逾期", "late"),
            RenewalTiming::TreatedAsInitial => t(lang, "视作初次申请", "treated as initial"),
        };
        kv(
            &mut o,
            ("维持时限", "Renewal timing"),
            format!("{timing} — {}", r.reason.get(lang)),
        );
    }
    kv(
        &mut o,
        ("应缴费用", "Fee"),
        match a.fee {
            Some(f) => match lang {
                Lang::Zh => format!(
                    "{}（审核费用 {} + 三年年金 {}）",
                    f.total().display(lang),
                    f.audit.display(lang),
                    f.annual.display(lang)
                ),
                Lang::En => format!(
                    "{} (audit {} + three-year annual fee {})",
                    f.total().display(lang),
                    f.audit.display(lang),
                    f.annual.display(lang)
                ),
            },
            None => t(lang, "待公布", "pending"),
        },
    );
    let (met, not, rev) = (
        a.count(Status::Met),
        a.count(Status::NotMet),
        a.count(Status::NeedsReview),
    );
    let verdict = if a.eligible {
        t(lang, "符合申请的基本条件", "meets the conditions to apply")
    } else if not > 0 {
        t(
            lang,
            "不符合申请条件",
            "does not meet the conditions to apply",
        )
    } else {
        t(
            lang,
            "无法判定（准则包为草案）",
            "cannot be decided (draft pack)",
        )
    };
    kv(
        &mut o,
        ("结论", "Result"),
        match lang {
            Lang::Zh => format!("{verdict}（满足 {met} 项，不满足 {not} 项，待审核 {rev} 项）"),
            Lang::En => format!("{verdict} ({met} met, {not} not met, {rev} need review)"),
        },
    );
    let mut section = None;
    for r in &a.requirements {
        if section != Some(r.requirement.section) {
            section = Some(r.requirement.section);
            let s = r.requirement.section;
            let _ = writeln!(o, "\n{} {}", s.number(), s.name().get(lang));
            let _ = writeln!(o, "{}", "-".repeat(60));
        }
        let _ = writeln!(
            o,
            "{} {:<6} [{}] {}",
            marker(r.status),
            r.id,
            r.status.name().get(lang),
            r.requirement.text.get(lang)
        );
        let _ = writeln!(o, "         {}", indent(r.reason.get(lang), "         "));
    }
    if !a.notes.is_empty() {
        let _ = writeln!(o, "\n{}", t(lang, "说明", "Notes"));
        for n in &a.notes {
            let _ = writeln!(o, "- {}", n.get(lang));
        }
    }
    let _ = writeln!(
        o,
        "\n{}",
        t(
            lang,
            "✔ 满足  ✘ 不满足  ? 待审核（由评估人员依据证据判定）",
            "✔ met  ✘ not met  ? needs review (decided by the assessors on evidence)"
        )
    );
    o
}

pub fn pack_list(packs: &[Pack], lang: Lang) -> String {
    let mut o = String::new();
    for p in packs {
        let _ = writeln!(
            o,
            "{:<22} {:<14} {:<6} {} [{}]",
            p.id(),
            p.version,
            p.requirements.len(),
            p.title.get(lang),
            status_name(p.status, lang)
        );
    }
    o
}

pub fn pack(p: &Pack, lang: Lang) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "{} — {}", p.versioned_id(), p.title.get(lang));
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "状态：", "Status: "),
        status_name(p.status, lang)
    );
    let _ = writeln!(o, "{}{}", t(lang, "依据：", "Source: "), p.source);
    let pending = t(lang, "待公布", "pending");
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "证书有效期：", "Certificate validity: "),
        p.validity_years.map_or(pending.clone(), |y| t(
            lang,
            &format!("{y} 年"),
            &format!("{y} years")
        ))
    );
    let _ = writeln!(o, "{}{}", t(lang, "维持时限：", "Renewal: "), p.renewal.map_or(pending.clone(), |r| match lang {
        Lang::Zh => format!("届满前 {} 个月提交为按时；届满后 {} 个月内为逾期；之后视作初次申请", r.due_months_before_expiry, r.initial_after_months_past_expiry),
        Lang::En => format!("on time when filed {} months before expiry; late up to {} months after; then treated as initial", r.due_months_before_expiry, r.initial_after_months_past_expiry),
    }));
    for (k, fee) in [
        (("初次申请费用", "Initial fee"), p.fees.initial),
        (("维持申请费用", "Maintenance fee"), p.fees.maintenance),
    ] {
        let v = fee.map_or(pending.clone(), |f| match lang {
            Lang::Zh => format!(
                "{} + {} = {}",
                f.audit.display(lang),
                f.annual.display(lang),
                f.total().display(lang)
            ),
            Lang::En => format!(
                "{} + {} = {}",
                f.audit.display(lang),
                f.annual.display(lang),
                f.total().display(lang)
            ),
        });
        let _ = writeln!(
            o,
            "{}{}",
            t(lang, &format!("{}：", k.0), &format!("{}: ", k.1)),
            v
        );
    }
    let mut section = None;
    for r in &p.requirements {
        if section != Some(r.section) {
            section = Some(r.section);
            let _ = writeln!(o, "\n{} {}", r.section.number(), r.section.name().get(lang));
            let _ = writeln!(o, "{}", "-".repeat(60));
        }
        let kind = match r.kind {
            RequirementKind::Automatic => t(lang, "自动", "automatic"),
            RequirementKind::Judgement => t(lang, "判定", "judgement"),
        };
        let _ = writeln!(o, "{:<6} [{kind}] {}", r.id, r.text.get(lang));
        for rule in &r.rules {
            let _ = writeln!(
                o,
                "       {}{}",
                t(lang, "规则：", "rule: "),
                rule.describe().get(lang)
            );
        }
        if let Some(rv) = &r.review {
            let _ = writeln!(
                o,
                "       {}{}",
                t(lang, "评估人员判定：", "assessors judge: "),
                rv.get(lang)
            );
        }
        let ev: Vec<&str> = r.evidence.iter().map(|e| e.get(lang)).collect();
        if !ev.is_empty() {
            let _ = writeln!(
                o,
                "       {}{}",
                t(lang, "证据：", "evidence: "),
                ev.join(if lang == Lang::Zh { "；" } else { "; " })
            );
        }
    }
    o
}

pub fn calendar(cal: &HolidayCalendar, year: Option<i32>, lang: Lang) -> String {
    let mut o = String::new();
    let mut any = false;
    for y in cal.years().filter(|y| year.is_none_or(|x| x == y.year)) {
        any = true;
        let _ = writeln!(o, "{} — {}", y.year, y.notice);
        for h in &y.holidays {
            let days = (h.to - h.from).num_days() + 1;
            let adj: Vec<String> = h.adjusted_workdays.iter().map(|d| date(*d, lang)).collect();
            let _ = write!(
                o,
                "  {}: {} – {} ({})",
                h.name.get(lang),
                date(h.from, lang),
                date(h.to, lang),
                t(lang, &format!("{days} 天"), &format!("{days} days"))
            );
            if !adj.is_empty() {
                let _ = write!(
                    o,
                    "{}{}",
                    t(lang, "；调休上班：", "; adjusted working days: "),
                    adj.join(", ")
                );
            }
            let _ = writeln!(o);
        }
    }
    if !any {
        let _ = writeln!(
            o,
            "{}",
            t(
                lang,
                "该年份无已公布的节假日安排：期限按周末推算，结果为暂定",
                "no published arrangement for that year: deadlines use weekends alone and are provisional"
            )
        );
    }
    o
}

pub fn deadline(
    event: NaiveDate,
    len: PeriodLength,
    d: &Deadline,
    cal: &HolidayCalendar,
    lang: Lang,
) -> String {
    let mut o = String::new();
    let len_text = match len {
        PeriodLength::Days(n) => t(lang, &format!("{n} 日"), &format!("{n} days")),
        PeriodLength::Months(n) => t(lang, &format!("{n} 个月"), &format!("{n} months")),
        PeriodLength::Years(n) => t(lang, &format!("{n} 年"), &format!("{n} years")),
    };
    let _ = writeln!(
        o,
        "{}{} + {len_text}",
        t(lang, "起算事件日：", "Event day: "),
        date(event, lang)
    );
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "对应日：", "Corresponding day: "),
        date(d.nominal_last_day, lang)
    );
    if d.extended() {
        let why = match cal.day_kind(d.nominal_last_day) {
            DayKind::StatutoryHoliday => cal.holiday_on(d.nominal_last_day).map_or_else(
                || t(lang, "法定节假日", "statutory holiday"),
                |h| h.name.get(lang).to_string(),
            ),
            _ => t(lang, "休息日", "weekend"),
        };
        let _ = writeln!(
            o,
            "{}",
            t(
                lang,
                &format!("对应日为{why}，顺延至其后第一个工作日（民法典第二百零三条）"),
                &format!(
                    "the corresponding day falls on a rest day ({why}); moved to the next working day (Civil Code art. 203)"
                )
            )
        );
    }
    let _ = writeln!(
        o,
        "{}{}",
        t(lang, "期间最后一日：", "Last day: "),
        date(d.last_day, lang)
    );
    let _ = match lang {
        Lang::Zh => writeln!(
            o,
            "截止时刻：{} 24:00（北京时间，即 {}）",
            date(d.last_day, lang),
            d.ends_at().format("%Y-%m-%d %H:%M %:z")
        ),
        Lang::En => writeln!(
            o,
            "Ends at: 24:00 China Standard Time on {} ({})",
            d.last_day,
            d.ends_at().format("%Y-%m-%d %H:%M %:z")
        ),
    };
    if d.provisional {
        let _ = writeln!(
            o,
            "{}",
            t(
                lang,
                "暂定：所涉年份尚无已公布的节假日安排，仅按周末推算",
                "provisional: a year involved has no published holiday arrangement; weekends alone were used"
            )
        );
    }
    o
}
