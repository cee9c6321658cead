//! Cases as the API shows them.

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

/// A case as the API shows it (alone, or in a list with its organisation's name).
pub(crate) fn case_json(c: &zizhi_store::cases::CaseRow) -> Value {
    serde_json::to_value(CaseItem::of(c, None)).unwrap_or(Value::Null)
}

/// A case's project clock as the API shows it.
#[derive(Serialize)]
pub(crate) struct ClockItem<'a> {
    running_days: i64,
    paused_days: i64,
    paused_now: bool,
    target_due: String,
    limit_due: String,
    target: &'a zizhi_domain::clock::Due,
    limit: &'a zizhi_domain::clock::Due,
}

pub(crate) fn clock_json(c: &zizhi_domain::clock::Clock) -> ClockItem<'_> {
    ClockItem {
        running_days: c.running_days,
        paused_days: c.paused_days,
        paused_now: c.paused_now,
        target_due: c.target_due.to_string(),
        limit_due: c.limit_due.to_string(),
        target: &c.target,
        limit: &c.limit,
    }
}

/// `GET /api/v1/cases?stage=&page=&per_page=`: newest first, 50 a page by default.
/// A case, serialised straight from the row (a list of 50 builds no intermediate JSON values).
#[derive(Serialize)]
pub(crate) struct CaseItem<'a> {
    id: i64,
    number: String,
    organization_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    organization: Option<&'a str>,
    category: &'a str,
    level: i32,
    kind: &'a str,
    stage: &'a str,
    stage_name: Option<zizhi_domain::lang::Text>,
    paper_copy_received: bool,
    filed_on: Option<&'a str>,
    supplement_due: Option<&'a str>,
    closed_on: Option<&'a str>,
    created_us: i64,
    agreement_no: Option<&'a str>,
    fee_cny: Option<i64>,
}

impl<'a> CaseItem<'a> {
    pub(crate) fn of(
        c: &'a zizhi_store::cases::CaseRow,
        organization: Option<&'a str>,
    ) -> CaseItem<'a> {
        CaseItem {
            id: c.id,
            number: zizhi_app::cases::case_number(c),
            organization_id: c.organization_id,
            organization,
            category: &c.category,
            level: c.level,
            kind: c.kind.as_str(),
            stage: c.stage.as_str(),
            stage_name: Some(c.stage.name()),
            paper_copy_received: c.paper_received_us.is_some(),
            filed_on: c.filed_on.as_deref(),
            supplement_due: c.supplement_due.as_deref(),
            closed_on: c.closed_on.as_deref(),
            created_us: c.created_us,
            agreement_no: c.agreement_no.as_deref(),
            fee_cny: c.fee_fen.map(|f| f / 100),
        }
    }
}

#[derive(Serialize)]
pub(crate) struct CaseListJson<'a> {
    pub(crate) cases: Vec<CaseItem<'a>>,
    pub(crate) page: i64,
    pub(crate) per_page: i64,
    pub(crate) total: i64,
    /// The last case's id when the page is full (`?after=` it for the next page), else null.
    pub(crate) next_after: Option<i64>,
}

/// `GET /api/v1/cases/{id}`, serialised straight from the rows: the stored facts go out as
/// the JSON they are (checked, not rebuilt as values; issue 14).
#[derive(serde::Serialize)]
pub(crate) struct CaseData<'a> {
    #[serde(flatten)]
    case: CaseItem<'a>,
    next: Vec<&'static str>,
    clock: Option<ClockItem<'a>>,
    rounds: Vec<RoundData<'a>>,
    history: Vec<HistoryData<'a>>,
    profile: Option<&'a RawValue>,
}

#[derive(serde::Serialize)]
struct RoundData<'a> {
    round: i32,
    submitted_by: i64,
    submitted_us: i64,
    profile: Option<&'a RawValue>,
    assessment: Option<&'a RawValue>,
}

#[derive(serde::Serialize)]
struct HistoryData<'a> {
    transition: &'a str,
    from: &'a str,
    to: &'a str,
    actor_id: Option<i64>,
    note: &'a str,
    at_us: i64,
}

/// Stored JSON as it is; `None` (null) if it is not JSON.
pub(crate) fn raw(s: &str) -> Option<&RawValue> {
    serde_json::from_str(s).ok()
}

impl<'a> CaseData<'a> {
    /// About how many bytes the case's data takes as JSON: its stored JSON as it is, and
    /// 1 KB for the case's own fields and its clock, 200 bytes a transition or pause.
    pub(crate) fn size_hint(d: &zizhi_app::cases::CaseDetail) -> usize {
        1024 + d.case.profile.len()
            + d.rounds
                .iter()
                .map(|r| 128 + r.profile.len() + r.assessment.len())
                .sum::<usize>()
            + 200 * (d.transitions.len() + d.pauses.len())
            + d.transitions.iter().map(|t| t.note.len()).sum::<usize>()
    }

    pub(crate) fn of(d: &'a zizhi_app::cases::CaseDetail) -> CaseData<'a> {
        // The stored JSON as checked once for the case's revision, not at every request.
        let json = d.json();
        CaseData {
            case: CaseItem::of(&d.case, None),
            next: d.next.iter().map(|t| t.as_str()).collect(),
            clock: d.clock.as_ref().map(clock_json),
            rounds: d
                .rounds
                .iter()
                .zip(&json.rounds)
                .map(|(r, j)| RoundData {
                    round: r.round,
                    submitted_by: r.submitted_by,
                    submitted_us: r.submitted_us,
                    profile: j.profile.as_deref(),
                    assessment: j.assessment.as_deref(),
                })
                .collect(),
            history: d
                .transitions
                .iter()
                .map(|t| HistoryData {
                    transition: &t.transition,
                    from: &t.from_stage,
                    to: &t.to_stage,
                    actor_id: t.actor_id,
                    note: &t.note,
                    at_us: t.at_us,
                })
                .collect(),
            profile: json.profile.as_deref(),
        }
    }
}
