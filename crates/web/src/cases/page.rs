//! One case's page: what the viewer may do (asked of the app), the dossier below.

use crate::AppState;
use crate::cases::json::CaseData;
use crate::cases::view::{
    ActivityView, AreaView, CasePage, ClockView, Entered, FieldView, ReqView, VoteView,
    certificates_text, projects_text, value_text,
};
use crate::cases::{day, due_class, due_text, kind_name, level_name, stage_name};
use crate::http::ctx::Ctx;
use crate::http::error::{Answer, OrFail};
use crate::http::extract::{Me, Path, QueryOf};
use crate::routes::{Access, RouteSpec, r};
use crate::views::{chrome, fmt_time, render, with_flash};
use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use serde_json::Value;
use std::collections::HashMap;
use zizhi_app::cases::case_number;
use zizhi_app::policy::CaseAction;
use zizhi_app::{Actor, AppError};
use zizhi_domain::case::{Stage, Transition};
use zizhi_domain::lang::Lang;
use zizhi_domain::panel::Vote as PanelVote;
use zizhi_domain::profile::{FieldKind, MANDATORY_FIELDS};
use zizhi_domain::review::{ActivityKind, Area};
use zizhi_domain::roles::Role;

pub(crate) async fn case_page_with(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, bool)>,
    status: StatusCode,
    entered: Option<&Entered>,
) -> Response {
    match build_case_page(st, ctx, a, id, flash, entered).await {
        Ok(page) => (status, render(&page)).into_response(),
        Err(e) => ctx.fail(e).into_response(),
    }
}

pub(crate) async fn build_case_page(
    st: &AppState,
    ctx: &Ctx,
    a: &Actor,
    id: i64,
    flash: Option<(String, bool)>,
    entered: Option<&Entered>,
) -> Result<CasePage, AppError> {
    let app = &st.app;
    let d = app.case(a, id).await?;
    let lang = ctx.lang;
    let c = &d.case;
    let staff = a.role.is_staff();
    let certificate = d.certificate.as_ref().map(|c| c.number.clone());
    let pack = zizhi_app::cases::evaluation::pack_of(c)?;
    let directory = if staff {
        app.staff_directory(a).await?
    } else {
        Vec::new()
    };
    let names: HashMap<i64, &str> = directory
        .iter()
        .map(|(id, n, _)| (*id, n.as_str()))
        .collect();
    let name_of = |uid: i64| {
        names
            .get(&uid)
            .map_or_else(|| format!("#{uid}"), |n| n.to_string())
    };

    // The portal: facts, live self-assessment, evidence per requirement, completeness.
    let editing =
        a.role == Role::Applicant && matches!(d.stage, Stage::Draft | Stage::Supplementing);
    let profile: Value = serde_json::from_str(&c.profile).unwrap_or_default();
    let portal = app.portal(&d).await?;
    let done = &portal.completeness;
    // What the 申请书 form sent back with its errors (only that form's).
    let typed_facts = entered.filter(|e| e.get("form").map(String::as_str) == Some("facts"));
    // The organisation's registered name and USCC fill the form (read-only: the server takes
    // them from the register, 5.2).
    let registered = app.organization(a, c.organization_id).await.ok();
    let fields = MANDATORY_FIELDS
        .iter()
        .map(|f| {
            let readonly = matches!(f.path, "organization.name" | "organization.uscc");
            let from_register = registered.as_ref().and_then(|o| match f.path {
                "organization.name" => Some(o.name.clone()),
                "organization.uscc" => Some(o.uscc.clone()),
                _ => None,
            });
            FieldView {
                path: f.path,
                label: match lang {
                    Lang::Zh => f.label.0,
                    Lang::En => f.label.1,
                },
                input: match f.kind {
                    FieldKind::Text => "text",
                    FieldKind::Amount => "amount",
                    FieldKind::Date => "date",
                    FieldKind::Count => "number",
                    FieldKind::YesNo => "yesno",
                },
                value: match (from_register, typed_facts) {
                    (Some(v), _) if editing => v,
                    (_, Some(e)) => e.get(f.path).cloned().unwrap_or_default(),
                    _ => value_text(zizhi_app::cases::submission::lookup(&profile, f.path)),
                },
                missing: done.missing_fields.contains(&f.path),
                readonly,
                error: typed_facts.and_then(|e| e.get(&format!("error.{}", f.path)).cloned()),
            }
        })
        .collect();
    let project_rows = crate::cases::view::project_rows(&profile, typed_facts, lang);
    let cert_rows = crate::cases::view::cert_rows(&profile, typed_facts);
    let (projects, certificates) = (projects_text(&profile), certificates_text(&profile));
    let live = portal.assessment.as_ref();
    let linked = &portal.linked;
    let judged = if staff {
        app.judgements_of(&d).await?
    } else {
        Vec::new()
    };
    let verdict_name = |v: &str| {
        zizhi_domain::review::Verdict::parse(v)
            .map_or(v.to_string(), |x| x.name().get(lang).to_string())
    };
    let mut reqs: Vec<ReqView> = pack
        .requirements
        .iter()
        .map(|r| {
            let result = live.and_then(|asm| asm.requirements.iter().find(|x| x.id == r.id));
            let (status, status_class, reason) = match result {
                Some(x) => (
                    x.status.name().get(lang).to_string(),
                    match x.status {
                        zizhi_domain::assess::Status::Met => "ok",
                        zizhi_domain::assess::Status::NotMet => "bad",
                        zizhi_domain::assess::Status::NeedsReview => "warn",
                    },
                    x.reason.get(lang).to_string(),
                ),
                None => ("—".into(), "", String::new()),
            };
            let judgement = judged
                .iter()
                .find(|j| j.requirement_id == r.id)
                .map(|j| {
                    format!(
                        "{}{}{}",
                        verdict_name(j.verdict.as_str()),
                        lang.pick("：", ": "),
                        j.rationale
                    )
                })
                .unwrap_or_default();
            ReqView {
                id: r.id.clone(),
                text: r.text.get(lang).to_string(),
                status,
                status_class,
                reason,
                expected: r
                    .evidence
                    .iter()
                    .map(|e| e.get(lang).to_string())
                    .collect::<Vec<_>>()
                    .join("；"),
                filed: linked
                    .iter()
                    .filter(|l| l.requirement_id == r.id)
                    .map(|l| (l.evidence_id, l.original_name.clone()))
                    .collect(),
                judgement,
            }
        })
        .collect();
    // A maintenance application's three yearly slots (四), over the three years up to its
    // assessment day (the day of saving, or of submission).
    let as_of = profile
        .get("as_of")
        .and_then(|v| v.as_str())
        .and_then(zizhi_domain::calendar::parse_date)
        .filter(|_| !editing)
        .unwrap_or_else(|| app.clock.today());
    reqs.extend(
        zizhi_app::cases::submission::maintenance_slots(c.kind, as_of)
            .into_iter()
            .map(|slot| ReqView {
                text: slot.text().get(lang).to_string(),
                status: "—".into(),
                status_class: "",
                reason: String::new(),
                expected: zizhi_app::cases::submission::MaintenanceSlot::expected()
                    .get(lang)
                    .to_string(),
                filed: linked
                    .iter()
                    .filter(|l| l.requirement_id == slot.id)
                    .map(|l| (l.evidence_id, l.original_name.clone()))
                    .collect(),
                judgement: String::new(),
                id: slot.id,
            }),
    );
    let verdict = live.map(|asm| {
        let fee = asm
            .fee
            .as_ref()
            .map(|f| f.total().display(lang))
            .unwrap_or_else(|| lang.pick("待公布", "pending").to_string());
        let kind = kind_name(asm.application_kind.as_str(), lang);
        match (asm.eligible, lang) {
            (true, Lang::Zh) => format!("符合申请的基本条件 · 按{kind}收费 {fee}"),
            (true, Lang::En) => format!("Meets the conditions to apply · charged as {kind}: {fee}"),
            (false, Lang::Zh) => format!("尚不符合申请条件 · 按{kind}收费 {fee}"),
            (false, Lang::En) => {
                format!("Does not yet meet the conditions · charged as {kind}: {fee}")
            }
        }
    });
    let facts_error = done
        .facts
        .as_ref()
        .map(|(field, problem)| crate::views::flash_text(Some(field), problem.get(lang), lang));
    let org_evidence = if editing {
        app.list_evidence(a, c.organization_id)
            .await?
            .into_iter()
            .map(|e| {
                let label = format!(
                    "{} · {} · {}",
                    e.original_name,
                    fmt_time(e.uploaded_us, lang),
                    size_text(e.size)
                );
                (e.id, label)
            })
            .collect()
    } else {
        Vec::new()
    };

    // Acceptance review: the five areas of the current round.
    let area_rows = app.review_areas_of(&d).await?;
    let areas = Area::ALL
        .iter()
        .map(|ar| {
            let row = area_rows.iter().find(|r| r.area == ar.as_str());
            let code = ar.as_str();
            // What was typed into the five-area form, when it comes back with errors.
            let entered = entered.filter(|e| e.get("form").map(String::as_str) == Some("areas"));
            let typed = |k: &str| entered.and_then(|e| e.get(&format!("{code}.{k}")));
            let error =
                |k: &str| entered.and_then(|e| e.get(&format!("error.{code}.{k}")).cloned());
            AreaView {
                code,
                name: ar.name().get(lang).to_string(),
                sufficient: match typed("sufficient").map(String::as_str) {
                    Some("yes") => Some(true),
                    Some("no") => Some(false),
                    Some(_) => None,
                    None if entered.is_some() => None,
                    None => row.map(|r| r.sufficient),
                },
                opinion: match typed("opinion") {
                    Some(o) => o.clone(),
                    None if entered.is_some() => String::new(),
                    None => row.map(|r| r.opinion.clone()).unwrap_or_default(),
                },
                saved: row.is_some(),
                sufficient_error: error("sufficient"),
                opinion_error: error("opinion"),
            }
        })
        .collect();

    // Evaluation and expert review.
    let members = app.team_of(&d).await?;
    let duty = |d: &str| match (d, lang) {
        ("expert", Lang::Zh) => "专家组成员",
        ("expert", Lang::En) => "expert panel",
        (_, Lang::Zh) => "项目组成员",
        (_, Lang::En) => "assessor",
    };
    let mut team: Vec<(String, String)> = Vec::new();
    if let Some(l) = c.lead_id {
        team.push((name_of(l), lang.pick("项目负责人", "project lead").into()));
    }
    team.extend(members.iter().map(|m| {
        let d = if m.chair {
            lang.pick("专家组组长", "panel chair")
        } else {
            duty(&m.duty)
        };
        (name_of(m.user_id), d.to_string())
    }));
    let in_eval = d.stage == Stage::Evaluation;
    let can_assign = staff && in_eval && d.may(CaseAction::AssignTeam);
    let (assessors, experts) = if can_assign {
        let seated = |uid: i64| members.iter().any(|m| m.user_id == uid);
        let pick = |role: Role| {
            directory
                .iter()
                .filter(|(uid, _, r)| *r == role && *uid != a.user_id && !seated(*uid))
                .map(|(uid, n, _)| (*uid, n.clone()))
                .collect::<Vec<_>>()
        };
        (pick(Role::Assessor), pick(Role::Expert))
    } else {
        (Vec::new(), Vec::new())
    };
    let has_chair = members.iter().any(|m| m.chair);
    let activities = if staff {
        app.activities_of(&d)
            .await?
            .into_iter()
            .map(|x| ActivityView {
                kind: ActivityKind::parse(&x.kind)
                    .map_or(x.kind.clone(), |k| k.name().get(lang).to_string()),
                held_on: day(&x.held_on, lang),
                notes: x.notes,
                by: name_of(x.recorded_by),
                evidence: x.evidence_ids.trim_matches(['[', ']']).to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    // Votes are secret until every seat has voted (5.4): the app gives each viewer only what
    // it may see.
    let panel = if staff && c.dossier_hash.is_some() {
        Some(app.panel_of_case(&d, &members).await?)
    } else {
        None
    };
    let can_vote = d.stage == Stage::ExpertReview
        && d.may(CaseAction::Vote)
        && panel.as_ref().is_some_and(|p| p.mine.is_none());
    let votes = panel
        .as_ref()
        .map(|p| p.votes.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|v| VoteView {
            expert: name_of(v.expert_id),
            vote: v.vote.name().get(lang).to_string(),
            opinion: v.opinion.clone(),
        })
        .collect();
    let panel_status = panel.as_ref().map(|p| match (&p.tally, p.conclusion, lang) {
        (Some(t), Some(k), Lang::Zh) => format!(
            "全部 {} 位专家已表决：通过 {} 票、不通过 {} 票、退回 {} 票，结论为“{}”（过半数席位决定；专家组组长据此记录结论）",
            t.seats, t.pass, t.fail, t.ret, k.name().zh
        ),
        (Some(t), Some(k), Lang::En) => format!(
            "All {} experts have voted: {} pass, {} fail, {} return — the conclusion is \"{}\" (more than half of the seats decide; the chair records it)",
            t.seats, t.pass, t.fail, t.ret, k.name().en
        ),
        (_, _, Lang::Zh) => format!(
            "已表决 {} / {} 位；全部表决前不公开各票和计票结果",
            p.cast, p.seats
        ),
        (_, _, Lang::En) => format!(
            "{} of {} have voted; the votes stay secret until all have voted",
            p.cast, p.seats
        ),
    });
    let panel_conclusion = panel.as_ref().and_then(|p| p.conclusion);
    let voted = panel.as_ref().is_some_and(|p| p.mine.is_some());
    let can_review = d.may(CaseAction::JudgeReviewArea) && d.stage == Stage::AcceptanceReview;
    let banner = crate::cases::banner::banner(&d, a.role, voted, app.clock.today(), lang);
    // While a supplement is requested the review's opinions come first: they say what to
    // supplement (5.2). The note of the request is the latest one.
    let supplementing = d.stage == Stage::Supplementing;
    let supplement_note = d
        .transitions
        .iter()
        .rev()
        .find(|t| t.transition == Transition::RequestSupplement.as_str())
        .map(|t| t.note.clone())
        .filter(|n| !n.trim().is_empty());
    let can_reassign =
        d.may(CaseAction::ReassignLead) && c.filed_on.is_some() && !d.stage.is_closed();
    let leads: Vec<(i64, String)> = if d.next.contains(&Transition::File) || can_reassign {
        directory
            .iter()
            .filter(|(_, _, r)| *r == Role::ProjectLead)
            .map(|(uid, n, _)| (*uid, n.clone()))
            .collect()
    } else {
        Vec::new()
    };

    let mut ch = chrome(ctx, &format!("/cases/{id}"));
    if let Some((m, err)) = flash {
        ch = with_flash(ch, m, err);
    }
    let clock = d.clock.map(|k| ClockView {
        running: k.running_days,
        paused: k.paused_days,
        paused_now: k.paused_now,
        target_due: day(&k.target_due.to_string(), lang),
        limit_due: day(&k.limit_due.to_string(), lang),
        target: due_text(k.target, lang),
        limit: due_text(k.limit, lang),
        target_class: due_class(k.target),
        limit_class: due_class(k.limit),
    });
    let letters = app
        .case_letters_of(&d)
        .await?
        .into_iter()
        .map(|l| {
            (
                l.id,
                l.title,
                crate::views::fmt_time(l.created_us, lang),
                l.signed_by,
            )
        })
        .collect();
    let paper = if c.paper_received_us.is_some() {
        app.paper_copy_of(&d)
            .await?
            .map(|p| (day(&p.received_on, lang), p.tracking_no))
    } else {
        None
    };
    let can_pay = d.next.contains(&Transition::ConfirmPayment);
    let paid = app.payments_of(&d).await?;
    let payments = paid
        .iter()
        .map(|p| {
            (
                day(&p.paid_on, lang),
                zizhi_domain::money::Cny::from_fen(p.amount_fen).display(lang),
                p.voucher_no.clone(),
                if staff {
                    name_of(p.recorded_by)
                } else {
                    lang.pick("测评中心", "the centre").to_string()
                },
            )
        })
        .collect();
    let payment_summary = (!paid.is_empty()).then(|| {
        use zizhi_domain::money::Cny;
        let total: i64 = paid.iter().map(|p| p.amount_fen).sum();
        let fee = c.fee_fen.unwrap_or(0);
        let (t, f) = (
            Cny::from_fen(total).display(lang),
            Cny::from_fen(fee).display(lang),
        );
        let diff = total - fee;
        let gap = Cny::from_fen(diff.abs()).display(lang);
        match (diff.signum(), lang) {
            (0, Lang::Zh) => (format!("已收 {t}，与协议费用 {f} 一致"), "ok"),
            (0, Lang::En) => (format!("{t} received, equal to the agreed fee {f}"), "ok"),
            (-1, Lang::Zh) => (format!("已收 {t}，协议费用 {f}，尚差 {gap}"), "warn"),
            (-1, Lang::En) => (
                format!("{t} received of the agreed {f}: {gap} short"),
                "warn",
            ),
            (_, Lang::Zh) => (format!("已收 {t}，协议费用 {f}，多付 {gap}"), "bad"),
            (_, Lang::En) => (
                format!("{t} received against the agreed {f}: {gap} overpaid"),
                "bad",
            ),
        }
    });
    Ok(CasePage {
        project_rows,
        cert_rows,
        typed: entered.cloned().unwrap_or_default(),
        paper,
        can_pay,
        payments,
        payment_summary,
        banner,
        supplementing,
        supplement_note,
        letters,
        c: ch,
        id,
        number: case_number(c),
        number_label: if d.stage.accepted() {
            lang.pick("受理编号", "Case number")
        } else {
            lang.pick("申请编号", "Application number")
        },
        org: registered.map(|o| o.name).unwrap_or_default(),
        stage: d.stage.name().get(lang).to_string(),
        stage_code: d.stage.as_str(),
        level: level_name(c.level, lang),
        kind: kind_name(c.kind.as_str(), lang),
        supplement_due: c.supplement_due.as_deref().map(|s| day(s, lang)),
        fee: c
            .fee_fen
            .map(|f| zizhi_domain::money::Cny::from_fen(f).display(lang)),
        agreement: c.agreement_no.clone(),
        certificate,
        clock,
        // Issue runs through the certificate desk, never one case on its own; votes and the
        // panel's conclusion have their own form.
        // Issue runs through the certificate desk, never one case on its own; the panel's
        // conclusion is offered once every seat has voted.
        next: d
            .next
            .iter()
            .filter(|t| **t != Transition::Issue)
            // Payment is confirmed by recording it (amount, day, voucher), in its form.
            .filter(|t| **t != Transition::ConfirmPayment)
            // The review's decisions are taken with the five areas, in their form.
            .filter(|t| {
                !(can_review
                    && matches!(
                        t,
                        Transition::Accept | Transition::RequestSupplement | Transition::NotAccept
                    ))
            })
            .filter(|t| match t {
                // Only the conclusion the votes give is offered (the app refuses any other).
                Transition::PanelPass => panel_conclusion == Some(PanelVote::Pass),
                Transition::PanelFail => panel_conclusion == Some(PanelVote::Fail),
                Transition::PanelReturn => panel_conclusion == Some(PanelVote::Return),
                _ => true,
            })
            .map(|t| crate::cases::view::NextView {
                code: t.as_str(),
                label: t.name().get(lang).to_string(),
                needs_note: t.needs_note(),
                consequence: t.consequence().map(|x| x.get(lang).to_string()),
            })
            .collect(),
        leads,
        can_reassign,
        panel_status,
        history: d
            .transitions
            .iter()
            .map(|t| {
                let label = Transition::parse(&t.transition)
                    .map_or(t.transition.clone(), |x| x.name().get(lang).to_string());
                let by = match t.actor_id {
                    None => lang.pick("系统", "the system").to_string(),
                    Some(uid) if uid == a.user_id => lang.pick("本人", "you").to_string(),
                    Some(uid) if staff => name_of(uid),
                    // The applicant sees its own side by name of the party, not staff names.
                    Some(_) => match Transition::parse(&t.transition).map(|x| x.performer()) {
                        Some(zizhi_domain::case::Performer::Role(Role::Applicant)) => {
                            lang.pick("申请单位", "the applicant").to_string()
                        }
                        _ => lang.pick("测评中心", "the centre").to_string(),
                    },
                };
                (
                    fmt_time(t.at_us, lang),
                    label,
                    stage_name(&t.to_stage, lang),
                    t.note.clone(),
                    by,
                )
            })
            .collect(),
        rounds: d
            .rounds
            .iter()
            .map(|r| {
                let report: Option<zizhi_domain::assess::Report> =
                    serde_json::from_str(&r.assessment).ok();
                let eligible = report.as_ref().is_some_and(|x| x.eligible);
                let (met, not_met, review) = report.as_ref().map_or((0, 0, 0), |x| {
                    (x.summary.met, x.summary.not_met, x.summary.needs_review)
                });
                let verdict = match (eligible, lang) {
                    (true, Lang::Zh) => "符合申请的基本条件",
                    (true, Lang::En) => "meets the conditions to apply",
                    (false, Lang::Zh) => "不符合申请条件",
                    (false, Lang::En) => "does not meet the conditions",
                };
                let counts = match lang {
                    Lang::Zh => {
                        format!("{verdict}（满足 {met}，不满足 {not_met}，待审核 {review}）")
                    }
                    Lang::En => {
                        format!("{verdict} ({met} met, {not_met} not met, {review} to review)")
                    }
                };
                (r.round, fmt_time(r.submitted_us, lang), counts)
            })
            .collect(),
        is_staff: staff,
        editing,
        fields,
        projects,
        certificates,
        verdict,
        facts_error,
        reqs,
        missing_count: done.missing_fields.len(),
        without_evidence: done.without_evidence.clone(),
        complete: done.complete(),
        org_id: c.organization_id,
        org_evidence,
        can_paper: d.may(CaseAction::RecordPaperCopy) && d.stage == Stage::Submitted,
        paper_received: c.paper_received_us.is_some(),
        has_areas: !area_rows.is_empty(),
        areas,
        can_review,
        decisions: if can_review {
            [
                Transition::Accept,
                Transition::RequestSupplement,
                Transition::NotAccept,
            ]
            .into_iter()
            .filter(|t| d.next.contains(t))
            .map(|t| {
                (
                    t.as_str(),
                    t.name().get(lang).to_string(),
                    t.consequence().is_some(),
                )
            })
            .collect()
        } else {
            Vec::new()
        },
        areas_note: entered
            .and_then(|e| e.get("note").cloned())
            .unwrap_or_default(),
        areas_note_error: entered.and_then(|e| e.get("error.note").cloned()),
        confirm_error: entered.and_then(|e| e.get("error.confirm").cloned()),
        not_accept_consequence: Transition::NotAccept
            .consequence()
            .map(|k| k.get(lang).to_string())
            .unwrap_or_default(),
        team,
        can_assign,
        has_chair,
        panel_min: app.config.panel_min_experts,
        assessors,
        experts,
        activities,
        activity_kinds: ActivityKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.name().get(lang).to_string()))
            .collect(),
        can_record: in_eval && d.may(CaseAction::RecordEvaluation),
        verdicts: zizhi_domain::review::Verdict::ALL
            .iter()
            .map(|v| (v.as_str(), v.name().get(lang).to_string()))
            .collect(),
        today: st.app.clock.today().to_string(),
        dossier_hash: c.dossier_hash.clone(),
        audit_conclusion: c.audit_conclusion.clone(),
        votes,
        can_vote,
    })
}

#[derive(serde::Deserialize, Default)]
pub struct CasePageQuery {
    /// After an upload from the portal: the evidence just stored, to say so.
    uploaded: Option<i64>,
}

pub async fn case_page(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
    QueryOf(q): QueryOf<CasePageQuery>,
) -> Response {
    let uploaded = q.uploaded;
    let flash = match uploaded {
        Some(ev) => match st.app.case_evidence(&a, id).await {
            Ok(links) => links.iter().find(|l| l.evidence_id == ev).map(|l| {
                (
                    match ctx.lang {
                        Lang::Zh => format!(
                            "已上传“{}”，并归入要求 {}",
                            l.original_name, l.requirement_id
                        ),
                        Lang::En => format!(
                            "Uploaded \"{}\" and filed it under requirement {}",
                            l.original_name, l.requirement_id
                        ),
                    },
                    false,
                )
            }),
            Err(_) => None,
        },
        None => None,
    };
    case_page_with(&st, &ctx, &a, id, flash, StatusCode::OK, None).await
}

/// A file size in words people read: 1.5 MB, 320 KB, 12 B.
pub(crate) fn size_text(bytes: i64) -> String {
    const K: f64 = 1024.0;
    let b = bytes as f64;
    if b >= K * K * K {
        format!("{:.1} GB", b / (K * K * K))
    } else if b >= K * K {
        format!("{:.1} MB", b / (K * K))
    } else if b >= K {
        format!("{:.0} KB", b / K)
    } else {
        format!("{bytes} B")
    }
}

pub async fn api_case_get(
    State(st): State<AppState>,
    ctx: Ctx,
    Me(a): Me,
    Path(id): Path<i64>,
) -> Answer {
    let d = st.app.case(&a, id).await.or_fail(&ctx)?;
    Ok(crate::http::json_sized(
        &CaseData::of(&d),
        CaseData::size_hint(&d),
    ))
}

/// This module's route rows.
pub(crate) fn routes() -> Vec<(RouteSpec, MethodRouter<AppState>)> {
    use Access::*;
    use Method as M;
    vec![
        (
            r(
                M::GET,
                "/cases/{id}",
                Authenticated,
                "案件页：阶段、周期、流程跟踪、下一步",
                "A case: stage, clock, history, next steps",
            ),
            get(case_page),
        ),
        (
            r(
                M::GET,
                "/api/v1/cases/{id}",
                Authenticated,
                "案件详情：阶段、各轮提交、流程记录、项目周期",
                "A case: stage, rounds, history, project clock",
            ),
            get(api_case_get),
        ),
    ]
}
