//! The status banner at the top of a case page: the stage in plain words, the one thing
//! expected of the viewer now with its deadline and the days left (or whom the case waits
//! for), and the stepper 申请 → 受理 → 协议 → 评估 → 专家评审 → 发证 (5.1).

use chrono::NaiveDate;
use zizhi_app::cases::detail::CaseDetail;
use zizhi_domain::case::{STEPS, Stage, Transition};
use zizhi_domain::lang::{Lang, date_text};
use zizhi_domain::roles::Role;

pub struct BannerView {
    pub stage: String,
    /// The viewer has something to do (styled as a call to act).
    pub mine: bool,
    pub line: String,
    pub due: Option<String>,
    /// `ok`, `warn` (15 days or fewer, as the project clock warns, 九.3) or `bad` (overdue).
    pub due_class: &'static str,
    /// Each step's name and state: `done`, `current`, `todo` or `stopped`.
    pub steps: Vec<(String, &'static str)>,
}

/// The step a closed case stopped at: that of the stage it left.
fn stopped_at(d: &CaseDetail) -> Option<usize> {
    d.transitions
        .last()
        .and_then(|t| Stage::parse(&t.from_stage))
        .and_then(Stage::step)
}

pub fn steps(d: &CaseDetail, lang: Lang) -> Vec<(String, &'static str)> {
    let (at, state) = match d.stage.step() {
        Some(i) => (i, "current"),
        None => (stopped_at(d).unwrap_or(0), "stopped"),
    };
    STEPS
        .iter()
        .enumerate()
        .map(|(i, (zh, en))| {
            let s = if i < at {
                "done"
            } else if i == at {
                state
            } else {
                "todo"
            };
            (lang.pick(zh, en).to_string(), s)
        })
        .collect()
}

/// "请于 2026年12月28日（剩余 30 天）前完成" and its class.
pub fn due_line(due: NaiveDate, today: NaiveDate, lang: Lang) -> (String, &'static str) {
    let left = (due - today).num_days();
    let day = date_text(due, lang);
    match (left, lang) {
        (n, Lang::Zh) if n < 0 => (format!("期限 {day} 已过，已逾期 {} 天", -n), "bad"),
        (n, Lang::En) if n < 0 => (format!("Was due by {day}: {} days overdue", -n), "bad"),
        (n, Lang::Zh) => (
            format!("请于 {day}（剩余 {n} 天）前完成"),
            if n <= 15 { "warn" } else { "ok" },
        ),
        (n, Lang::En) => (
            format!("Due by {day} ({n} days left)"),
            if n <= 15 { "warn" } else { "ok" },
        ),
    }
}

/// The banner for this viewer. `voted`: an expert on the panel who has cast a vote.
pub fn banner(
    d: &CaseDetail,
    viewer: Role,
    voted: bool,
    today: NaiveDate,
    lang: Lang,
) -> BannerView {
    let stage = d.stage.name().get(lang).to_string();
    let mut mine = false;
    let mut due = None;
    let line = if d.stage == Stage::Certified {
        lang.pick(
            "已发证：证书已颁发并在公开名录中可查。",
            "Certified: the certificate is issued and listed in the public register.",
        )
        .to_string()
    } else if d.stage.is_closed() {
        lang.pick(
            "本案件已结束；对不予受理或评审未通过的决定，可在规定期限内提出申诉（七）。",
            "This case is closed; a refusal or a failed review may be appealed within the time allowed (7).",
        )
        .to_string()
    } else if viewer == Role::Expert && d.stage == Stage::ExpertReview && voted {
        // The chair records the conclusion once every seat has voted.
        if d.next.iter().any(|t| {
            matches!(
                t,
                Transition::PanelPass | Transition::PanelFail | Transition::PanelReturn
            )
        }) {
            mine = true;
            lang.pick(
                "全部专家已表决：请按表决结果记录专家评审结论。",
                "Every expert has voted: record the panel's conclusion as the votes give it.",
            )
            .to_string()
        } else {
            lang.pick(
                "您已表决；等待其他专家表决。",
                "You have voted; waiting for the other experts.",
            )
            .to_string()
        }
    } else if let Some(e) = d.expected_of_viewer() {
        mine = true;
        due = e.due;
        format!("{}{}", lang.pick("您需要：", "For you: "), e.task.get(lang))
    } else if let Some(e) = d.waiting_for().into_iter().next() {
        let who = if e.role == Role::Applicant {
            lang.pick("申请单位", "the applicant").to_string()
        } else if viewer == Role::Applicant {
            format!(
                "{}{}",
                lang.pick("测评中心", "the centre's "),
                e.role.name().get(lang)
            )
        } else {
            e.role.name().get(lang).to_string()
        };
        // The applicant sees the deadline it runs against even when waiting is the centre's.
        if e.role == Role::Applicant {
            due = e.due;
        }
        format!(
            "{}{who}{}{}",
            lang.pick("等待", "Waiting for "),
            lang.pick("：", ": "),
            e.task.get(lang)
        )
    } else {
        String::new()
    };
    let (due, due_class) = match due {
        Some(day) => {
            let (t, c) = due_line(day, today, lang);
            (Some(t), c)
        }
        None => (None, "ok"),
    };
    BannerView {
        stage,
        mine,
        line,
        due,
        due_class,
        steps: steps(d, lang),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_counts_days_and_warns_from_fifteen() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 28).unwrap();
        let due = NaiveDate::from_ymd_opt(2026, 12, 28).unwrap();
        assert_eq!(
            due_line(due, today, Lang::Zh),
            ("请于 2026年12月28日（剩余 30 天）前完成".to_string(), "ok")
        );
        let d15 = today + chrono::Days::new(15);
        assert_eq!(due_line(d15, today, Lang::En).1, "warn");
        assert_eq!(
            due_line(d15 + chrono::Days::new(1), today, Lang::En).1,
            "ok"
        );
        assert_eq!(
            due_line(today, today, Lang::En).0,
            "Due by 2026-11-28 (0 days left)"
        );
        let (t, c) = due_line(today - chrono::Days::new(2), today, Lang::Zh);
        assert_eq!(
            (t.as_str(), c),
            ("期限 2026年11月26日 已过，已逾期 2 天", "bad")
        );
    }
}
