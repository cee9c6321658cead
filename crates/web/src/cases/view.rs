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
    /// `text`, `date`, `number` or `yesno`
    pub input: &'static str,
    pub value: String,
    pub missing: bool,
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
