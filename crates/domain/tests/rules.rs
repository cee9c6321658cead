//! The guide's rules, pinned with their boundaries: a profile is assessed against the shipped
//! packs exactly as the `zizhi assess` command does. Test names state the rule.

use serde_json::{Value, json};
use zizhi_domain::assess::{Assessment, Status, assess, required_professionals};
use zizhi_domain::calendar::HolidayCalendar;
use zizhi_domain::criteria::Pack;
use zizhi_domain::fees::ApplicationKind;
use zizhi_domain::money::Cny;
use zizhi_domain::profile::{FieldError, Profile, RawProfile};
use zizhi_domain::renewal::RenewalTiming;

/// A level-2 initial applicant that meets every computable rule.
fn base() -> Value {
    json!({
        "as_of": "2026-11-24", "category": "disaster_recovery", "level": 2, "kind": "initial",
        "organization": {
            "name": "示例灾备科技有限公司", "uscc": "91350100M000100Y43",
            "independent_legal_person": true, "approved_by_authorities": true, "law_abiding": true,
            "security_service_since": "2019-03-01", "registered_capital_cny": 15000000,
            "total_assets_cny": 30000000, "finances_good_last_3_years": true
        },
        "staff": {"dr_technical_staff": 50, "full_time_registered_professionals": 8},
        "track_record": {
            "completed_full_dr_service_process": true, "completed_dr_project_value_cny": 30000000,
            "owns_dr_data_center": true,
            "dr_construction_projects": [{"name": "某银行同城灾备中心", "gbt20988_level": 4}]
        },
        "certificates": [{"category": "disaster_recovery", "level": 1, "number": "CNITSEC2024SRV-I-0001",
            "valid_until": "2027-08-31", "status": "valid"}]
    })
}

fn parse(v: &Value) -> Result<Profile, FieldError> {
    let raw: RawProfile = serde_json::from_value(v.clone()).expect("shape is valid");
    Profile::parse(&raw)
}

fn run(v: &Value) -> Assessment {
    let profile = parse(v).expect("profile is valid");
    let packs = Pack::shipped();
    let pack = Pack::for_level(&packs, profile.category, profile.level).unwrap();
    assess(&profile, pack, &HolidayCalendar::shipped())
}

fn status(v: &Value, id: &str) -> Status {
    run(v)
        .requirements
        .iter()
        .find(|r| r.id == id)
        .unwrap()
        .status
}

fn reason(v: &Value, id: &str) -> String {
    run(v)
        .requirements
        .iter()
        .find(|r| r.id == id)
        .unwrap()
        .reason
        .zh
        .clone()
}

fn with(mut v: Value, path: &str, x: Value) -> Value {
    let mut cur = &mut v;
    for p in path.split('.') {
        cur = match p.parse::<usize>() {
            Ok(i) => &mut cur[i],
            Err(_) => &mut cur[p],
        };
    }
    *cur = x;
    v
}

#[test]
fn every_requirement_of_the_pack_appears_in_order() {
    let a = run(&base());
    let ids: Vec<&str> = a.requirements.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 19);
    assert_eq!(ids.first(), Some(&"3.1.1"));
    assert_eq!(ids.last(), Some(&"3.4.3"));
}

#[test]
fn a_profile_meeting_every_rule_is_eligible_with_the_rest_left_for_review() {
    let a = run(&base());
    assert!(a.eligible);
    assert_eq!(a.count(Status::NotMet), 0);
    for id in ["3.1.4", "3.2.1", "3.2.2", "3.2.6", "3.2.8"] {
        assert_eq!(status(&base(), id), Status::Met, "{id}");
    }
    // Declared facts and judgements need evidence; 3.2.4 keeps its qualitative part.
    for id in [
        "3.1.1", "3.1.2", "3.1.3", "3.1.5", "3.2.3", "3.2.4", "3.2.5", "3.2.7", "3.3.1", "3.4.3",
    ] {
        assert_eq!(status(&base(), id), Status::NeedsReview, "{id}");
    }
    assert!(reason(&base(), "3.2.3").contains("近三年会计师事务所审计报告"));
    assert!(reason(&base(), "3.3.1").contains("组织架构图"));
}

#[test]
fn one_unmet_requirement_makes_the_applicant_ineligible() {
    let v = with(base(), "organization.law_abiding", json!(false));
    let a = run(&v);
    assert!(!a.eligible);
    assert_eq!(status(&v, "3.1.3"), Status::NotMet);
}

// ---- 3.2.2 注册资本应在 1000 万元以上，资产总额在 2000 万元以上

#[test]
fn capital_of_exactly_ten_million_passes() {
    let v = with(
        base(),
        "organization.registered_capital_cny",
        json!(10000000),
    );
    assert_eq!(status(&v, "3.2.2"), Status::Met);
    let v = with(
        base(),
        "organization.registered_capital_cny",
        json!("10000000.00"),
    );
    assert_eq!(status(&v, "3.2.2"), Status::Met);
}

#[test]
fn capital_one_fen_short_of_ten_million_fails_and_says_the_numbers() {
    let v = with(
        base(),
        "organization.registered_capital_cny",
        json!("9999999.99"),
    );
    assert_eq!(status(&v, "3.2.2"), Status::NotMet);
    let r = reason(&v, "3.2.2");
    assert!(r.contains("9,999,999.99 元"), "{r}");
    assert!(r.contains("10,000,000.00 元"), "{r}");
    assert!(r.contains("差 0.01 元"), "{r}");
}

#[test]
fn total_assets_of_exactly_twenty_million_pass_and_one_fen_less_fails() {
    let v = with(base(), "organization.total_assets_cny", json!(20000000));
    assert_eq!(status(&v, "3.2.2"), Status::Met);
    let v = with(base(), "organization.total_assets_cny", json!(19999999.99));
    assert_eq!(status(&v, "3.2.2"), Status::NotMet);
}

// ---- 3.2.6 已完成信息安全灾难恢复服务项目总值应在 2000 万元以上

#[test]
fn project_value_of_exactly_twenty_million_passes() {
    let v = with(
        base(),
        "track_record.completed_dr_project_value_cny",
        json!(20000000),
    );
    assert_eq!(status(&v, "3.2.6"), Status::Met);
    let v = with(
        base(),
        "track_record.completed_dr_project_value_cny",
        json!("19999999.99"),
    );
    assert_eq!(status(&v, "3.2.6"), Status::NotMet);
}

// ---- 3.2.1 从事信息安全服务行业 3 年以上

#[test]
fn three_years_of_service_are_reached_on_the_third_anniversary() {
    let v = with(
        base(),
        "organization.security_service_since",
        json!("2023-11-24"),
    );
    assert_eq!(status(&v, "3.2.1"), Status::Met);
    let v = with(
        base(),
        "organization.security_service_since",
        json!("2023-11-25"),
    );
    assert_eq!(status(&v, "3.2.1"), Status::NotMet);
    assert!(
        reason(&v, "3.2.1").contains("2026年11月25日 方满 3 年"),
        "{}",
        reason(&v, "3.2.1")
    );
}

// ---- 3.2.4 专职注册信息安全专业人员不少于灾难恢复专业技术人员的 10%，但不得少于 6 人

#[test]
fn the_professional_floor_is_max_of_six_and_ten_percent_rounded_up() {
    assert_eq!(required_professionals(10, 6, 0), 6);
    assert_eq!(required_professionals(10, 6, 50), 6);
    assert_eq!(required_professionals(10, 6, 60), 6);
    assert_eq!(required_professionals(10, 6, 61), 7);
    assert_eq!(required_professionals(10, 6, 70), 7);
    assert_eq!(required_professionals(10, 6, 71), 8);
    assert_eq!(required_professionals(10, 6, 1000), 100);
}

#[test]
fn exactly_the_required_professionals_pass_and_one_fewer_fails() {
    let six = with(base(), "staff.full_time_registered_professionals", json!(6));
    assert_eq!(status(&six, "3.2.4"), Status::NeedsReview); // met; the qualitative part remains
    let five = with(base(), "staff.full_time_registered_professionals", json!(5));
    assert_eq!(status(&five, "3.2.4"), Status::NotMet);
    let big = with(base(), "staff.dr_technical_staff", json!(71));
    let big7 = with(
        big.clone(),
        "staff.full_time_registered_professionals",
        json!(7),
    );
    assert_eq!(status(&big7, "3.2.4"), Status::NotMet);
    assert!(
        reason(&big7, "3.2.4").contains("max(6, ⌈10% × 71⌉ = 8) = 8 人"),
        "{}",
        reason(&big7, "3.2.4")
    );
    let big8 = with(big, "staff.full_time_registered_professionals", json!(8));
    assert_eq!(status(&big8, "3.2.4"), Status::NeedsReview);
}

// ---- 3.2.8 至少实施过一个达到 GB/T 20988 三级以上要求的灾难恢复系统建设项目

#[test]
fn a_level_three_project_passes_and_level_two_fails() {
    let p = "track_record.dr_construction_projects";
    let v = with(base(), p, json!([{"name": "A", "gbt20988_level": 3}]));
    assert_eq!(status(&v, "3.2.8"), Status::Met);
    let v = with(
        base(),
        p,
        json!([{"name": "A", "gbt20988_level": 2}, {"name": "B", "gbt20988_level": 1}]),
    );
    assert_eq!(status(&v, "3.2.8"), Status::NotMet);
    assert!(reason(&v, "3.2.8").contains("“A”第 2 级"));
    let v = with(base(), p, json!([]));
    assert_eq!(status(&v, "3.2.8"), Status::NotMet);
}

#[test]
fn a_project_level_is_computed_as_the_minimum_of_its_seven_elements() {
    let p = "track_record.dr_construction_projects";
    let elements = json!({"data_backup": 5, "standby_processing": 4, "standby_network": 4,
        "standby_infrastructure": 4, "technical_support": 3, "operations_management": 4, "dr_plan": 6});
    let v = with(
        base(),
        p,
        json!([{"name": "A", "gbt20988_elements": elements}]),
    );
    assert_eq!(status(&v, "3.2.8"), Status::Met);
    assert!(reason(&v, "3.2.8").contains("第 3 级，由七要素最低等级计算"));
    let low = with(elements, "technical_support", json!(2));
    let v = with(base(), p, json!([{"name": "A", "gbt20988_elements": low}]));
    assert_eq!(status(&v, "3.2.8"), Status::NotMet);
}

// ---- 3.1.4 已获灾难恢复类一级资质，且资质证书在有效期内

#[test]
fn a_level_one_certificate_counts_through_its_last_valid_day() {
    let v = with(base(), "certificates.0.valid_until", json!("2026-11-24"));
    assert_eq!(status(&v, "3.1.4"), Status::Met);
    let v = with(base(), "certificates.0.valid_until", json!("2026-11-23"));
    assert_eq!(status(&v, "3.1.4"), Status::NotMet);
}

#[test]
fn suspended_revoked_or_expired_certificates_do_not_count() {
    for s in ["suspended", "revoked", "expired"] {
        let v = with(base(), "certificates.0.status", json!(s));
        assert_eq!(status(&v, "3.1.4"), Status::NotMet, "{s}");
    }
    assert!(
        reason(
            &with(base(), "certificates.0.status", json!("suspended")),
            "3.1.4"
        )
        .contains("已暂停")
    );
}

#[test]
fn a_certificate_of_another_level_does_not_count() {
    let v = with(base(), "certificates.0.level", json!(2));
    assert_eq!(status(&v, "3.1.4"), Status::NotMet);
    let v = with(base(), "certificates", json!([]));
    assert_eq!(status(&v, "3.1.4"), Status::NotMet);
    assert!(reason(&v, "3.1.4").contains("未申报灾难恢复类一级证书"));
}

// ---- 3.1.1–3.1.3, 3.2.3, 3.2.5, 3.2.7: declared facts

#[test]
fn a_declared_no_is_not_met_and_a_declared_yes_awaits_its_evidence() {
    for (field, id) in [
        ("organization.independent_legal_person", "3.1.1"),
        ("organization.approved_by_authorities", "3.1.2"),
        ("organization.law_abiding", "3.1.3"),
        ("organization.finances_good_last_3_years", "3.2.3"),
        ("track_record.completed_full_dr_service_process", "3.2.5"),
        ("track_record.owns_dr_data_center", "3.2.7"),
    ] {
        assert_eq!(
            status(&with(base(), field, json!(false)), id),
            Status::NotMet,
            "{id}"
        );
        assert_eq!(status(&base(), id), Status::NeedsReview, "{id}");
        assert!(reason(&base(), id).contains("需提供证据"), "{id}");
    }
}

// ---- §九 fees and §四 renewal

#[test]
fn an_initial_application_costs_87000() {
    let a = run(&base());
    assert_eq!(a.application_kind, ApplicationKind::Initial);
    assert_eq!(a.renewal, None);
    assert_eq!(a.fee.unwrap().total(), Cny::from_yuan(87_000));
}

fn maintenance(as_of: &str, level2_valid_until: &str) -> Value {
    let v = with(base(), "kind", json!("maintenance"));
    let v = with(v, "as_of", json!(as_of));
    with(
        v,
        "certificates",
        json!([
            {"category": "disaster_recovery", "level": 1, "number": "L1", "valid_until": "2024-01-31", "status": "expired"},
            {"category": "disaster_recovery", "level": 2, "number": "CNITSEC2023SRV-II-0042", "valid_until": level2_valid_until, "status": "valid"}
        ]),
    )
}

#[test]
fn a_maintenance_application_six_months_ahead_is_on_time_and_costs_63000() {
    let a = run(&maintenance("2026-11-24", "2027-05-24"));
    let r = a.renewal.unwrap();
    assert_eq!(r.timing, RenewalTiming::OnTime);
    assert_eq!(a.application_kind, ApplicationKind::Maintenance);
    assert_eq!(a.fee.unwrap().total(), Cny::from_yuan(63_000));
    let late = run(&maintenance("2026-11-24", "2027-05-23"));
    assert_eq!(late.renewal.unwrap().timing, RenewalTiming::Late);
    assert_eq!(late.fee.unwrap().total(), Cny::from_yuan(63_000));
}

#[test]
fn a_maintenance_application_past_the_late_window_is_an_initial_one_at_87000() {
    // Valid until 2026-05-22: the late window ends 2026-11-22 (a Sunday) → Monday 2026-11-23.
    let a = run(&maintenance("2026-11-23", "2026-05-22"));
    assert_eq!(a.renewal.as_ref().unwrap().timing, RenewalTiming::Late);
    let a = run(&maintenance("2026-11-24", "2026-05-22"));
    let r = a.renewal.as_ref().unwrap();
    assert_eq!(r.timing, RenewalTiming::TreatedAsInitial);
    assert_eq!(r.late_window_last_day.unwrap().to_string(), "2026-11-23");
    assert_eq!(a.application_kind, ApplicationKind::Initial);
    assert_eq!(a.fee.unwrap().total(), Cny::from_yuan(87_000));
    // Treated as initial, the initial rules apply: the expired level-1 certificate fails 3.1.4.
    assert!(
        a.requirements
            .iter()
            .any(|x| x.id == "3.1.4" && x.status == Status::NotMet)
    );
}

#[test]
fn a_maintenance_applicant_holding_the_level_being_maintained_leaves_3_1_4_to_the_centre() {
    let v = maintenance("2026-11-24", "2027-05-24");
    assert_eq!(status(&v, "3.1.4"), Status::NeedsReview);
    assert!(reason(&v, "3.1.4").contains("CNITSEC2023SRV-II-0042"));
}

#[test]
fn a_maintenance_application_without_a_certificate_to_maintain_is_initial() {
    let v = with(base(), "kind", json!("maintenance"));
    let a = run(&v);
    assert_eq!(
        a.renewal.as_ref().unwrap().timing,
        RenewalTiming::TreatedAsInitial
    );
    assert_eq!(a.application_kind, ApplicationKind::Initial);
    assert_eq!(a.fee.unwrap().total(), Cny::from_yuan(87_000));
    let revoked = with(
        maintenance("2026-11-24", "2027-05-24"),
        "certificates.1.status",
        json!("revoked"),
    );
    assert_eq!(
        run(&revoked).renewal.unwrap().timing,
        RenewalTiming::TreatedAsInitial
    );
}

// ---- draft packs

#[test]
fn a_draft_pack_never_establishes_eligibility_and_shows_pending_numbers() {
    let v = with(base(), "level", json!(3));
    let v = with(v, "certificates.0.level", json!(2));
    let a = run(&v);
    assert!(!a.eligible);
    assert_eq!(a.fee, None);
    assert_eq!(a.count(Status::NotMet), 0);
    let r = a.requirements.iter().find(|r| r.id == "3.2.2").unwrap();
    assert_eq!(r.status, Status::NeedsReview);
    assert!(r.reason.zh.contains("待官方具体要求公布"));
    assert!(a.notes.iter().any(|n| n.zh.contains("草案")));
}

// ---- bad input names the field

#[test]
fn invalid_values_are_rejected_with_the_field_named() {
    let cases = [
        (
            "organization.uscc",
            json!("91350100M000100Y44"),
            "校验码错误",
        ),
        ("organization.uscc", json!("91350100O000100Y43"), "不允许"),
        ("staff.dr_technical_staff", json!(-1), "不能为负数"),
        ("as_of", json!("2026-02-30"), "不是有效日期"),
        ("category", json!("penetration_testing"), "未知的资质类别"),
        ("level", json!(7), "1 至 5"),
        ("kind", json!("renewal"), "未知的申请类型"),
        (
            "organization.registered_capital_cny",
            json!("1.234"),
            "两位小数",
        ),
        ("organization.total_assets_cny", json!(-5), "不能为负数"),
        (
            "organization.security_service_since",
            json!("2027-01-01"),
            "晚于评估日期",
        ),
        ("certificates.0.status", json!("active"), "未知的证书状态"),
        ("organization.name", json!("  "), "不能为空"),
    ];
    for (path, value, problem) in cases {
        let e = parse(&with(base(), path, value)).expect_err(path);
        let expect = path.replace(".0.", "[0].");
        assert_eq!(e.field, expect);
        assert!(e.problem.zh.contains(problem), "{path}: {}", e.problem.zh);
    }
}

#[test]
fn a_project_needs_a_level_or_consistent_elements() {
    let p = "track_record.dr_construction_projects";
    let e = parse(&with(base(), p, json!([{"name": "A"}]))).unwrap_err();
    assert_eq!(
        e.field,
        "track_record.dr_construction_projects[0].gbt20988_level"
    );
    let elements = json!({"data_backup": 4, "standby_processing": 4, "standby_network": 4,
        "standby_infrastructure": 4, "technical_support": 3, "operations_management": 4, "dr_plan": 4});
    let e = parse(&with(
        base(),
        p,
        json!([{"name": "A", "gbt20988_level": 4, "gbt20988_elements": elements}]),
    ))
    .unwrap_err();
    assert!(e.problem.zh.contains("最低等级应为 3"), "{}", e.problem.zh);
    let e = parse(&with(
        base(),
        p,
        json!([{"name": "A", "gbt20988_level": 7}]),
    ))
    .unwrap_err();
    assert_eq!(
        e.field,
        "track_record.dr_construction_projects[0].gbt20988_level"
    );
}

#[test]
fn the_json_report_has_the_documented_shape() {
    let r = serde_json::to_value(run(&base()).report(zizhi_domain::lang::Lang::Zh)).unwrap();
    assert_eq!(r["pack"], "disaster_recovery/2@2026.1");
    assert_eq!(r["eligible"], true);
    assert_eq!(r["application_kind"], "initial");
    assert_eq!(r["renewal_timing"], Value::Null);
    assert_eq!(r["fee_cny"], 87000);
    assert_eq!(r["requirements"].as_array().unwrap().len(), 19);
    assert_eq!(r["requirements"][6]["id"], "3.2.2");
    assert_eq!(r["requirements"][6]["status"], "met");
    let m = serde_json::to_value(
        run(&maintenance("2026-11-24", "2027-05-23")).report(zizhi_domain::lang::Lang::En),
    )
    .unwrap();
    assert_eq!(m["renewal_timing"], "late");
    assert_eq!(m["fee_cny"], 63000);
}

/// Every mandatory fact of the form is one the profile cannot do without: removing it from a
/// valid profile makes the profile invalid, and the error names that very field.
#[test]
fn every_mandatory_form_field_is_required_by_the_profile() {
    let example: serde_json::Value =
        serde_json::from_str(include_str!("../../../examples/profile.json")).unwrap();
    let ok: zizhi_domain::profile::RawProfile = serde_json::from_value(example.clone()).unwrap();
    assert!(zizhi_domain::profile::Profile::parse(&ok).is_ok());
    // And the list is whole: every scalar fact of the sections is on the form.
    for section in ["organization", "staff", "track_record"] {
        for (key, value) in example[section].as_object().unwrap() {
            if value.is_array() {
                continue;
            }
            let path = format!("{section}.{key}");
            assert!(
                zizhi_domain::profile::MANDATORY_FIELDS
                    .iter()
                    .any(|f| f.path == path),
                "{path} is missing from the form"
            );
        }
    }
    for f in zizhi_domain::profile::MANDATORY_FIELDS {
        let mut v = example.clone();
        let (section, key) = f.path.split_once('.').unwrap();
        assert!(
            v[section].as_object_mut().unwrap().remove(key).is_some(),
            "{} is not a field of the profile",
            f.path
        );
        let e = serde_json::from_value::<zizhi_domain::profile::RawProfile>(v).unwrap_err();
        assert!(
            e.to_string().contains(&format!("`{key}`")),
            "{}: {e}",
            f.path
        );
        assert!(
            !f.requirement.is_empty() && f.requirement.starts_with("3."),
            "{} names the guide's requirement",
            f.path
        );
    }
}
