//! The case page's view model: what the template shows, and the form's lines.

use crate::views::Chrome;
use askama::Template;
use serde_json::Value;
use std::collections::HashMap;

pub struct ClockView {
    pub running: i64,
    pub paused: i64,
    pub paused_now: bool,
    pub target_due: String,
    pub limit_due: String,
    pub target: String,
    pub limit: String,
    pub target_class: &'static str,
    pub limit_class: &'static str,
}

/// One mandatory fact on the form.
pub struct FieldView {
    pub path: &'static str,
    pub label: &'static str,
    /// `text`, `date`, `number`, `amount` or `yesno`
    pub input: &'static str,
    pub value: String,
    pub missing: bool,
    /// Prefilled from the registered organisation, not typed (name, USCC).
    pub readonly: bool,
    pub error: Option<String>,
}

/// One DR construction project row of the 申请书: its name and its GB/T 20988 level, or
/// (level `elements`) the seven elements' levels.
pub struct ProjectRow {
    pub i: usize,
    pub name: String,
    pub level: String,
    /// (element key, label, level)
    pub elements: Vec<(&'static str, &'static str, String)>,
    pub error: Option<String>,
}

/// One held certificate row of the 申请书.
pub struct CertRow {
    pub i: usize,
    pub number: String,
    pub level: String,
    pub valid_until: String,
    pub status: String,
    pub error: Option<String>,
}

/// The seven elements of GB/T 20988 (要素), as the form names them.
pub(crate) const ELEMENT_NAMES: [(&str, &str); 7] = [
    ("数据备份系统", "Data backup system"),
    ("备用数据处理系统", "Standby data processing system"),
    ("备用网络系统", "Standby network system"),
    ("备用基础设施", "Standby infrastructure"),
    ("专业技术支持能力", "Technical support"),
    ("运行维护管理能力", "Operations and maintenance management"),
    ("灾难恢复预案", "Disaster recovery plan"),
];

/// The project rows: from what was typed (after an error) or the saved profile, and two
/// blank rows to add to.
pub(crate) fn project_rows(
    profile: &Value,
    typed: Option<&Entered>,
    lang: zizhi_domain::lang::Lang,
) -> Vec<ProjectRow> {
    let mut rows: Vec<ProjectRow> = Vec::new();
    let el_names = |vals: &dyn Fn(&str) -> String| {
        ELEMENTS
            .iter()
            .zip(ELEMENT_NAMES)
            .map(|(k, (zh, en))| (*k, lang.pick(zh, en), vals(k)))
            .collect::<Vec<_>>()
    };
    match typed {
        Some(e) => {
            for i in row_indices(e, "project.") {
                let get = |k: &str| {
                    e.get(&format!("project.{i}.{k}"))
                        .cloned()
                        .unwrap_or_default()
                };
                rows.push(ProjectRow {
                    i,
                    name: get("name"),
                    level: get("level"),
                    elements: el_names(&|k| get(k)),
                    error: e.get(&format!("error.project.{i}")).cloned(),
                });
            }
            rows.retain(|r| !(r.name.is_empty() && r.level.is_empty() && r.error.is_none()));
        }
        None => {
            for (i, p) in profile["track_record"]["dr_construction_projects"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let level = match (
                    p["gbt20988_level"].as_i64(),
                    p["gbt20988_elements"].is_object(),
                ) {
                    (Some(l), _) => l.to_string(),
                    (None, true) => "elements".into(),
                    _ => String::new(),
                };
                rows.push(ProjectRow {
                    i,
                    name: p["name"].as_str().unwrap_or("").to_string(),
                    level,
                    elements: el_names(&|k| {
                        p["gbt20988_elements"][k]
                            .as_i64()
                            .map(|x| x.to_string())
                            .unwrap_or_default()
                    }),
                    error: None,
                });
            }
        }
    }
    let next = rows.iter().map(|r| r.i + 1).max().unwrap_or(0);
    for i in next..next + 2 {
        rows.push(ProjectRow {
            i,
            name: String::new(),
            level: String::new(),
            elements: el_names(&|_| String::new()),
            error: None,
        });
    }
    rows
}

/// The held certificate rows, and one blank row to add to.
pub(crate) fn cert_rows(profile: &Value, typed: Option<&Entered>) -> Vec<CertRow> {
    let mut rows: Vec<CertRow> = Vec::new();
    match typed {
        Some(e) => {
            for i in row_indices(e, "cert.") {
                let get = |k: &str| e.get(&format!("cert.{i}.{k}")).cloned().unwrap_or_default();
                rows.push(CertRow {
                    i,
                    number: get("number"),
                    level: get("level"),
                    valid_until: get("valid_until"),
                    status: get("status"),
                    error: e.get(&format!("error.cert.{i}")).cloned(),
                });
            }
            rows.retain(|r| {
                !(r.number.is_empty() && r.valid_until.is_empty() && r.error.is_none())
            });
        }
        None => {
            for (i, c) in profile["certificates"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                rows.push(CertRow {
                    i,
                    number: c["number"].as_str().unwrap_or("").to_string(),
                    level: c["level"]
                        .as_i64()
                        .map(|l| l.to_string())
                        .unwrap_or_default(),
                    valid_until: c["valid_until"].as_str().unwrap_or("").to_string(),
                    status: c["status"].as_str().unwrap_or("").to_string(),
                    error: None,
                });
            }
        }
    }
    let next = rows.iter().map(|r| r.i + 1).max().unwrap_or(0);
    rows.push(CertRow {
        i: next,
        number: String::new(),
        level: String::new(),
        valid_until: String::new(),
        status: "valid".into(),
        error: None,
    });
    rows
}

/// The row numbers a form sent for `prefix` (`project.` → 0, 1, 3 …), in order.
pub(crate) fn row_indices(e: &Entered, prefix: &str) -> Vec<usize> {
    let mut v: Vec<usize> = e
        .keys()
        .filter_map(|k| k.strip_prefix(prefix))
        .filter_map(|rest| rest.split('.').next())
        .filter_map(|n| n.parse().ok())
        .filter(|n| *n < 500)
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// One requirement: the live self-assessment, the expected evidence, what is filed.
pub struct ReqView {
    pub id: String,
    pub text: String,
    pub status: String,
    pub status_class: &'static str,
    pub reason: String,
    pub expected: String,
    pub filed: Vec<(i64, String)>,
    pub judgement: String,
}

pub struct AreaView {
    pub code: &'static str,
    pub name: String,
    pub sufficient: Option<bool>,
    pub opinion: String,
    /// This round's judgement is stored (not only typed).
    pub saved: bool,
    pub sufficient_error: Option<String>,
    pub opinion_error: Option<String>,
}

pub struct ActivityView {
    pub kind: String,
    pub held_on: String,
    pub notes: String,
    pub by: String,
    pub evidence: String,
}

/// A step the viewer may take, as a form.
pub struct NextView {
    pub code: &'static str,
    pub label: String,
    pub needs_note: bool,
    /// Steps that end the case: confirmed with this consequence.
    pub consequence: Option<String>,
}

pub struct VoteView {
    pub expert: String,
    pub vote: String,
    pub opinion: String,
}

impl CasePage {
    /// What was typed into `form`'s `key` when the form came back with errors.
    pub(crate) fn typed_in(&self, form: &str, key: &str) -> Option<&str> {
        (self.typed.get("form").map(String::as_str) == Some(form))
            .then(|| self.typed.get(key).map(String::as_str))
            .flatten()
    }

    /// The error next to `form`'s `key`.
    pub(crate) fn err(&self, form: &str, key: &str) -> Option<&str> {
        (self.typed.get("form").map(String::as_str) == Some(form))
            .then(|| self.typed.get(&format!("error.{key}")).map(String::as_str))
            .flatten()
    }
}

#[derive(Template)]
#[template(path = "case.html")]
pub(crate) struct CasePage {
    pub(crate) c: Chrome,
    pub(crate) id: i64,
    pub(crate) number: String,
    pub(crate) number_label: &'static str,
    pub(crate) banner: crate::cases::banner::BannerView,
    pub(crate) supplementing: bool,
    pub(crate) supplement_note: Option<String>,
    pub(crate) org: String,
    pub(crate) stage: String,
    pub(crate) stage_code: &'static str,
    pub(crate) level: String,
    pub(crate) kind: String,
    pub(crate) supplement_due: Option<String>,
    pub(crate) fee: Option<String>,
    pub(crate) agreement: Option<String>,
    pub(crate) certificate: Option<String>,
    pub(crate) clock: Option<ClockView>,
    pub(crate) next: Vec<NextView>,
    /// When, the step, the stage reached, the note, who acted (经办人).
    pub(crate) history: Vec<(String, String, String, String, String)>,
    /// The case's formal letters: (id, title, date, signed by).
    pub(crate) letters: Vec<(i64, String, String, String)>,
    pub(crate) rounds: Vec<(i32, String, String)>,
    pub(crate) is_staff: bool,
    // The applicant's portal
    pub(crate) editing: bool,
    pub(crate) fields: Vec<FieldView>,
    pub(crate) projects: String,
    pub(crate) certificates: String,
    pub(crate) verdict: Option<String>,
    pub(crate) facts_error: Option<String>,
    pub(crate) reqs: Vec<ReqView>,
    pub(crate) missing_count: usize,
    pub(crate) without_evidence: Vec<String>,
    pub(crate) complete: bool,
    pub(crate) org_id: i64,
    pub(crate) org_evidence: Vec<(i64, String)>,
    // Filing
    pub(crate) can_paper: bool,
    pub(crate) paper_received: bool,
    // Acceptance review
    pub(crate) areas: Vec<AreaView>,
    pub(crate) has_areas: bool,
    pub(crate) can_review: bool,
    /// The review's decisions offered with the five areas, as one submit ("保存并予以受理"):
    /// code, label, and whether it ends the case (confirmed).
    pub(crate) decisions: Vec<(&'static str, String, bool)>,
    pub(crate) areas_note: String,
    pub(crate) areas_note_error: Option<String>,
    pub(crate) confirm_error: Option<String>,
    pub(crate) not_accept_consequence: String,
    /// What a form sent back with its errors: its values and `error.{field}` messages, with
    /// `form` naming the form.
    pub(crate) typed: Entered,
    /// The 申请书's repeatable rows.
    pub(crate) project_rows: Vec<ProjectRow>,
    pub(crate) cert_rows: Vec<CertRow>,
    /// The paper copy as received: the day and the tracking number.
    pub(crate) paper: Option<(String, String)>,
    /// Contract & finance may record a payment now (instead of a bare confirmation).
    pub(crate) can_pay: bool,
    /// Payments: day, amount, voucher, recorded by.
    pub(crate) payments: Vec<(String, String, String, String)>,
    /// Paid against the fee, in words, and its class (`ok`, `warn` short, `bad` over).
    pub(crate) payment_summary: Option<(String, &'static str)>,
    // Evaluation
    pub(crate) team: Vec<(String, String)>,
    pub(crate) can_assign: bool,
    pub(crate) assessors: Vec<(i64, String)>,
    pub(crate) experts: Vec<(i64, String)>,
    pub(crate) activities: Vec<ActivityView>,
    pub(crate) activity_kinds: Vec<(&'static str, String)>,
    pub(crate) can_record: bool,
    pub(crate) verdicts: Vec<(&'static str, String)>,
    pub(crate) today: String,
    // Expert review
    pub(crate) dossier_hash: Option<String>,
    pub(crate) audit_conclusion: Option<String>,
    pub(crate) votes: Vec<VoteView>,
    pub(crate) can_vote: bool,
    /// Votes cast / seats, or the tally once complete.
    pub(crate) panel_status: Option<String>,
    /// Project leads to name when filing (or to reassign to).
    pub(crate) leads: Vec<(i64, String)>,
    /// A supervisor may hand the case to another lead.
    pub(crate) can_reassign: bool,
    pub(crate) has_chair: bool,
    pub(crate) panel_min: usize,
}

/// Lines of `name | level` (or `name | seven element levels`) for the DR projects.
pub(crate) fn projects_text(profile: &Value) -> String {
    let mut out = Vec::new();
    for p in profile["track_record"]["dr_construction_projects"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let name = p["name"].as_str().unwrap_or("");
        let level = if let Some(l) = p["gbt20988_level"].as_i64() {
            l.to_string()
        } else if let Some(e) = p["gbt20988_elements"].as_object() {
            ELEMENTS
                .iter()
                .map(|k| e.get(*k).and_then(Value::as_i64).unwrap_or(0).to_string())
                .collect::<Vec<_>>()
                .join(",")
        } else {
            String::new()
        };
        out.push(format!("{name} | {level}"));
    }
    out.join("\n")
}

pub(crate) const ELEMENTS: [&str; 7] = [
    "data_backup",
    "standby_processing",
    "standby_network",
    "standby_infrastructure",
    "technical_support",
    "operations_management",
    "dr_plan",
];

/// Lines of `number | level | valid until | status` for the held certificates.
pub(crate) fn certificates_text(profile: &Value) -> String {
    profile["certificates"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            format!(
                "{} | {} | {} | {}",
                c["number"].as_str().unwrap_or(""),
                c["level"].as_i64().unwrap_or(0),
                c["valid_until"].as_str().unwrap_or(""),
                c["status"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) fn value_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => if *b { "yes" } else { "no" }.into(),
        _ => String::new(),
    }
}

/// The form as the applicant typed it, to show again after an error.
pub(crate) type Entered = HashMap<String, String>;
