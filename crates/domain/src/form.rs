//! The application form's mandatory facts (申请书): each fact's path in the profile, its label
//! in both languages, how it is entered, and the requirement of guide §三 it is read for.

/// How a fact of the application form is entered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    Text,
    /// `YYYY-MM-DD`
    Date,
    /// A whole number of people.
    Count,
    /// CNY, a decimal number.
    Amount,
    /// A declaration: yes or no (both are answers; only a missing one is incomplete).
    YesNo,
}

/// One mandatory fact of the application form, by its path in the profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    pub path: &'static str,
    pub label: (&'static str, &'static str),
    pub kind: FieldKind,
    /// The requirement of the guide the fact is read for.
    pub requirement: &'static str,
}

const fn field(
    path: &'static str,
    zh: &'static str,
    en: &'static str,
    kind: FieldKind,
    requirement: &'static str,
) -> FormField {
    FormField {
        path,
        label: (zh, en),
        kind,
        requirement,
    }
}

/// Every mandatory fact of the application, in form order (the facts the self-assessment reads
/// for guide §三). DR construction projects and held certificates are lists that may be empty.
pub const MANDATORY_FIELDS: [FormField; 14] = [
    field(
        "organization.name",
        "单位名称",
        "Organisation name",
        FieldKind::Text,
        "3.1.1",
    ),
    field(
        "organization.uscc",
        "统一社会信用代码",
        "Unified social credit code",
        FieldKind::Text,
        "3.1.1",
    ),
    field(
        "organization.independent_legal_person",
        "具有独立法人资格",
        "Independent legal person",
        FieldKind::YesNo,
        "3.1.1",
    ),
    field(
        "organization.approved_by_authorities",
        "获得相关主管部门批准",
        "Approved by the competent authorities",
        FieldKind::YesNo,
        "3.1.2",
    ),
    field(
        "organization.law_abiding",
        "遵守国家法律法规",
        "Abides by the laws and regulations",
        FieldKind::YesNo,
        "3.1.3",
    ),
    field(
        "organization.security_service_since",
        "开始从事信息安全服务的日期",
        "In information security services since",
        FieldKind::Date,
        "3.2.1",
    ),
    field(
        "organization.registered_capital_cny",
        "注册资本（元）",
        "Registered capital (CNY)",
        FieldKind::Amount,
        "3.2.2",
    ),
    field(
        "organization.total_assets_cny",
        "资产总额（元）",
        "Total assets (CNY)",
        FieldKind::Amount,
        "3.2.2",
    ),
    field(
        "organization.finances_good_last_3_years",
        "近 3 年财务状况良好",
        "Sound finances over the last 3 years",
        FieldKind::YesNo,
        "3.2.3",
    ),
    field(
        "staff.dr_technical_staff",
        "从事灾难恢复服务的专业技术人员（人）",
        "Disaster recovery technical staff (people)",
        FieldKind::Count,
        "3.2.4",
    ),
    field(
        "staff.full_time_registered_professionals",
        "专职的注册信息安全专业人员（人）",
        "Full-time registered security professionals (people)",
        FieldKind::Count,
        "3.2.4",
    ),
    field(
        "track_record.completed_full_dr_service_process",
        "实践过完整的灾难恢复服务过程",
        "Has practised a complete DR service process",
        FieldKind::YesNo,
        "3.2.5",
    ),
    field(
        "track_record.completed_dr_project_value_cny",
        "已完成灾难恢复服务项目总值（元）",
        "Value of completed DR service projects (CNY)",
        FieldKind::Amount,
        "3.2.6",
    ),
    field(
        "track_record.owns_dr_data_center",
        "拥有自有灾备数据中心",
        "Owns a DR data centre",
        FieldKind::YesNo,
        "3.2.7",
    ),
];
