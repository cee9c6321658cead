//! The state machine of a case: every path, role and stage.

use super::*;

const ALL_MET: FilingFacts = FilingFacts {
    independent_legal_person: true,
    paper_copy_received: true,
    electronic_materials_attached: true,
};

fn run(path: &[Transition]) -> Stage {
    let mut s = Stage::Draft;
    for t in path {
        s = check(*t, s, t.performer(), Some(&ALL_MET))
            .unwrap_or_else(|e| panic!("{t:?} from {s:?}: {e:?}"));
    }
    s
}

#[test]
fn the_whole_path_from_draft_to_certificate() {
    use Transition::*;
    let s = run(&[
        Submit,
        File,
        RequestSupplement,
        Resubmit,
        Accept,
        SendAgreement,
        RecordSignedAgreement,
        ApproveAgreement,
        ConfirmPayment,
        ConcludeAudit,
        PanelReturn,
        ConcludeAudit,
        PanelPass,
        Issue,
    ]);
    assert_eq!(s, Stage::Certified);
    assert!(s.is_closed());
}

/// 5.2: a submitted application the registrar cannot file (no evidence, no paper copy)
/// goes back to the applicant, who amends and submits it again; only from submitted.
#[test]
fn the_registrar_returns_a_submission_to_the_applicant() {
    use Transition::*;
    assert_eq!(run(&[Submit, ReturnToApplicant]), Stage::Draft);
    assert_eq!(
        run(&[Submit, ReturnToApplicant, Submit, File]),
        Stage::AcceptanceReview
    );
    assert_eq!(
        check(
            ReturnToApplicant,
            Stage::AcceptanceReview,
            ReturnToApplicant.performer(),
            None
        ),
        Err(TransitionError::WrongStage {
            current: Stage::AcceptanceReview
        })
    );
    assert!(matches!(
        check(
            ReturnToApplicant,
            Stage::Submitted,
            Performer::Role(Role::ProjectLead),
            None
        ),
        Err(TransitionError::WrongRole { .. })
    ));
}

#[test]
fn a_lapsed_supplement_is_extended_or_terminated_by_the_lead() {
    use Transition::*;
    assert_eq!(
        run(&[Submit, File, RequestSupplement, MarkLapsed]),
        Stage::Lapsed
    );
    assert_eq!(
        run(&[
            Submit,
            File,
            RequestSupplement,
            MarkLapsed,
            ExtendSupplement,
            Resubmit
        ]),
        Stage::AcceptanceReview
    );
    assert_eq!(
        run(&[Submit, File, RequestSupplement, MarkLapsed, Terminate]),
        Stage::Terminated
    );
    assert_eq!(MarkLapsed.performer(), Performer::System);
}

#[test]
fn every_transition_refuses_other_roles() {
    for t in Transition::ALL {
        for r in Role::ALL {
            if Performer::Role(r) == t.performer() {
                continue;
            }
            let from = Stage::ALL
                .into_iter()
                .find(|s| t.target(*s).is_some())
                .unwrap();
            assert_eq!(
                check(t, from, Performer::Role(r), Some(&ALL_MET)),
                Err(TransitionError::WrongRole {
                    needed: t.performer()
                }),
                "{t:?} by {r:?}"
            );
        }
    }
}

#[test]
fn every_transition_refuses_the_wrong_stage_and_names_the_current_one() {
    let mut refused = 0;
    for t in Transition::ALL {
        for s in Stage::ALL {
            if t.target(s).is_none() {
                assert_eq!(
                    check(t, s, t.performer(), Some(&ALL_MET)),
                    Err(TransitionError::WrongStage { current: s }),
                    "{t:?} from {s:?}"
                );
                refused += 1;
            }
        }
    }
    assert!(refused > 250, "{refused}");
    // Closed cases never move.
    for s in Stage::ALL.into_iter().filter(|s| s.is_closed()) {
        assert!(
            Transition::ALL.iter().all(|t| t.target(s).is_none()),
            "{s:?}"
        );
    }
}

#[test]
fn stored_names_round_trip() {
    for s in Stage::ALL {
        assert_eq!(Stage::parse(s.as_str()), Some(s));
    }
    for t in Transition::ALL {
        assert_eq!(Transition::parse(t.as_str()), Some(t));
    }
}

#[test]
fn withdrawal_is_possible_until_certification() {
    for s in Stage::ALL {
        let allowed = Transition::Withdraw.target(s).is_some();
        assert_eq!(
            allowed,
            !s.is_closed() && s != Stage::Certification,
            "{s:?}"
        );
    }
}

#[test]
fn filing_needs_all_three_conditions_and_names_the_missing_ones() {
    let by = Performer::Role(Role::Registrar);
    let facts = FilingFacts {
        independent_legal_person: true,
        paper_copy_received: false,
        electronic_materials_attached: false,
    };
    assert_eq!(
        check(Transition::File, Stage::Submitted, by, Some(&facts)),
        Err(TransitionError::FilingConditions(vec![
            FilingCondition::StampedBoundPaperCopy,
            FilingCondition::ElectronicMaterials
        ]))
    );
    let facts = FilingFacts {
        independent_legal_person: false,
        ..ALL_MET
    };
    assert_eq!(
        check(Transition::File, Stage::Submitted, by, Some(&facts)),
        Err(TransitionError::FilingConditions(vec![
            FilingCondition::IndependentLegalPerson
        ]))
    );
    assert_eq!(
        check(Transition::File, Stage::Submitted, by, Some(&ALL_MET)),
        Ok(Stage::AcceptanceReview)
    );
}

#[test]
fn the_clock_pauses_for_supplements_and_from_agreement_to_payment() {
    use Stage::*;
    let paused: Vec<Stage> = Stage::ALL
        .into_iter()
        .filter(|s| !s.is_closed() && !s.clock_runs() && !matches!(s, Draft | Submitted))
        .collect();
    assert_eq!(
        paused,
        vec![
            Supplementing,
            Lapsed,
            AgreementSent,
            AgreementSigned,
            AgreementEffective
        ]
    );
}

/// The stepper (5.1): every stage on its step in process order, the certified case past the
/// last, a case closed without a certificate on none of its own.
#[test]
fn each_stage_sits_on_its_step_of_the_process() {
    use Stage::*;
    let on = |s: Stage| s.step();
    assert_eq!((on(Draft), on(Submitted)), (Some(0), Some(0)));
    assert_eq!(on(AcceptanceReview), Some(1));
    assert_eq!((on(Supplementing), on(Lapsed)), (Some(1), Some(1)));
    for s in [
        AgreementDrafting,
        AgreementSent,
        AgreementSigned,
        AgreementEffective,
    ] {
        assert_eq!(on(s), Some(2), "{s:?}");
    }
    assert_eq!((on(Evaluation), on(ExpertReview)), (Some(3), Some(4)));
    assert_eq!(
        (on(Certification), on(Certified)),
        (Some(5), Some(STEPS.len()))
    );
    for s in [NotAccepted, Failed, Terminated, Withdrawn] {
        assert_eq!(on(s), None, "{s:?}");
    }
    // Stage::ALL lists the stages in the order of the process.
    let steps: Vec<usize> = Stage::ALL.iter().filter_map(|s| s.step()).collect();
    assert!(
        steps.windows(2).all(|w| w[0] <= w[1]),
        "ALL is in process order"
    );
}

/// 申请编号 until acceptance (5.2), 受理编号 from it: the number's name follows the stage.
#[test]
fn the_number_is_the_application_number_until_acceptance() {
    use Stage::*;
    for s in [
        Draft,
        Submitted,
        AcceptanceReview,
        Supplementing,
        Lapsed,
        NotAccepted,
        Withdrawn,
        Terminated,
    ] {
        assert!(!s.accepted(), "{s:?}");
    }
    for s in [
        AgreementDrafting,
        AgreementEffective,
        Evaluation,
        ExpertReview,
        Certification,
        Certified,
        Failed,
    ] {
        assert!(s.accepted(), "{s:?}");
    }
}

/// The decisions that rest on an opinion need their note; the steps that end a case without a
/// certificate carry their consequence, and no other step does.
#[test]
fn decisions_need_notes_and_endings_name_their_consequence() {
    use Transition::*;
    for t in [
        RequestSupplement,
        NotAccept,
        Accept,
        ExtendSupplement,
        Terminate,
        ReturnToApplicant,
        PanelPass,
        PanelFail,
        PanelReturn,
    ] {
        assert!(t.needs_note(), "{t:?}");
    }
    for t in [
        Submit,
        File,
        Resubmit,
        SendAgreement,
        ConfirmPayment,
        Issue,
        Withdraw,
    ] {
        assert!(!t.needs_note(), "{t:?}");
    }
    let ending: Vec<Transition> = Transition::ALL
        .into_iter()
        .filter(|t| t.consequence().is_some())
        .collect();
    assert_eq!(ending, vec![Terminate, NotAccept, PanelFail, Withdraw]);
    // Each leads to a closed stage without a certificate.
    for t in ending {
        let closed = Stage::ALL
            .into_iter()
            .filter_map(|s| t.target(s))
            .all(|to| to.is_closed() && to != Stage::Certified);
        assert!(closed, "{t:?}");
    }
}
