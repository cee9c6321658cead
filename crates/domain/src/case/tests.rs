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
