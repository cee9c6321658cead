//! Every e-mail the process sends, one function per event, each in Chinese then English. The
//! case's transitions choose the message; the text lives only here.

use chrono::NaiveDate;
use zizhi_domain::fees::ApplicationKind;
use zizhi_domain::lang::{Lang, date_text, qualification_text};
use zizhi_domain::money::Cny;

/// One e-mail's subject and plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub subject: String,
    pub body: String,
}

fn mail(subject: impl Into<String>, body: impl Into<String>) -> Mail {
    Mail {
        subject: subject.into(),
        body: body.into(),
    }
}

/// 5.2: the case is filed (建档立项) and the project clock starts (九.3).
pub fn filed(case_number: &str, day: NaiveDate) -> Mail {
    mail(
        "【资质认定】已建档立项 / Your application is filed",
        format!(
            "贵单位的申请（{case_number}）已于 {d} 建档立项，项目负责人将进行受理审查（指南 5.2）。项目实施周期自今日起计算，原则上三个月，最长不超过六个月（九.3）。\n\nYour application {case_number} was filed on {day}; the project lead will now review it (guide 5.2). The project clock starts today: three months in principle, six at most (9.3).\n",
            d = date_text(day, Lang::Zh),
        ),
    )
}

/// 5.2: the review asks for a supplement by `due` (one month, Civil Code period).
pub fn supplement_requested(note: &str, areas: &str, due: NaiveDate) -> Mail {
    mail(
        "【资质认定】受理审查意见：请补充资料 / Acceptance review: supplement needed",
        format!(
            "审查意见 / Review opinion：\n{note}\n\n{areas}\n请于 {} 24:00（北京时间）前提交补充资料。\nPlease submit the supplement by 24:00 China Standard Time on {}.\n",
            date_text(due, Lang::Zh),
            due
        ),
    )
}

/// 5.2: the review's decision, accepted or not (the refusal names the right of appeal, 七).
pub fn acceptance_decided(accepted: bool, note: &str, areas: &str) -> Mail {
    let (zh, en) = if accepted {
        ("予以受理", "accepted")
    } else {
        ("不予受理", "not accepted")
    };
    let appeal = if accepted {
        String::new()
    } else {
        "\n如对不予受理决定有异议，可向测评中心提出书面申诉（指南第七章）。\nIf you disagree with this decision you may appeal to the centre in writing (guide chapter 七).\n".to_string()
    };
    mail(
        format!("【资质认定】受理审查意见：{zh} / Acceptance review: {en}"),
        format!("审查意见 / Review opinion：\n{note}\n\n{areas}{appeal}"),
    )
}

/// 5.2: the supplement was not made in time and the lead terminated the application.
pub fn terminated(note: &str) -> Mail {
    mail(
        "【资质认定】申请已终止 / Application terminated",
        format!(
            "贵单位未在期限内提交补充资料，申请已终止。\n{note}\n\nThe supplement was not submitted in time; the application is terminated.\n{note}\n"
        ),
    )
}

/// 5.2: the supplement deadline passed.
pub fn lapsed(due: &str) -> Mail {
    mail(
        "【资质认定】补充资料期限已过 / Supplement deadline passed",
        format!(
            "补充资料期限（{due}）已过，请与项目负责人联系；项目负责人可延长期限或终止申请。\n\nThe supplement deadline ({due}) has passed; please contact the project lead, who may extend it or terminate the application.\n"
        ),
    )
}

/// 5.2: the registrar returned the submission to the applicant (退回) with a reason.
pub fn returned(case_number: &str, reason: &str) -> Mail {
    mail(
        "【资质认定】申请已退回 / Application returned",
        format!(
            "贵单位的申请（{case_number}）已退回，请按以下说明修改后重新提交：\n{reason}\n\nYour application {case_number} was returned to you; please amend it as follows and submit it again:\n{reason}\n"
        ),
    )
}

/// 5.3: the delegation agreement is sent, with the fee of the application's kind (九).
pub fn agreement_sent(
    number: &str,
    organization: &str,
    level: u8,
    kind: ApplicationKind,
    fee: Cny,
    note: &str,
) -> Mail {
    let q = qualification_text(level);
    mail(
        format!("【资质认定】委托协议 {number} / Delegation agreement {number}"),
        format!(
            "委托协议（编号 {number}）\n\n委托方：{organization}\n事项：信息安全服务资质认定（{qzh}），{kzh}\n委托测评费用：{fzh}（审核费用与三年年金，依据收费标准）\n\n协议见附件（可直接打印），请加盖公章后寄回；协议经审批生效并缴费后进入评估阶段。\n{note}\n\nDelegation agreement {number}\nClient: {organization}\nSubject: information security service qualification, {qen}, {ken}\nFee: {fen} (audit fee and three-year annual fee, per the fee schedule)\nThe agreement is attached (ready to print): seal it and return it; evaluation opens once it is approved and the fee is paid.\n",
            qzh = q.zh,
            qen = q.en,
            kzh = kind.name_zh(),
            ken = kind.name_en(),
            fzh = fee.display(Lang::Zh),
            fen = fee.display(Lang::En),
        ),
    )
}

/// 5.3: the fee is paid and evaluation opens.
pub fn payment_confirmed(agreement_no: &str) -> Mail {
    mail(
        "【资质认定】已确认收款，进入评估阶段 / Payment received, evaluation opens",
        format!(
            "已确认收到委托测评费用（协议 {agreement_no}），项目进入评估阶段（指南 5.3、5.4），项目组将与贵单位沟通审核计划。\n\nThe fee of agreement {agreement_no} has been received; the case enters evaluation (guide 5.3, 5.4) and the team will agree the audit plan with you.\n"
        ),
    )
}

/// 5.4: the panel did not pass the case; the applicant may appeal (七).
pub fn panel_failed(opinion: &str) -> Mail {
    mail(
        "【资质认定】专家评审结论：未通过 / Expert review: not passed",
        format!(
            "专家评审结论：未通过。\n{opinion}\n\n如对评审结论有异议，可向测评中心提出书面申诉（指南第七章）。\n\nExpert review: not passed.\n{opinion}\n\nIf you disagree with the conclusion you may appeal to the centre in writing (guide chapter 七).\n"
        ),
    )
}

/// 5.4 → 5.5: the panel passed the case.
pub fn panel_passed() -> Mail {
    mail(
        "【资质认定】专家评审结论：通过 / Expert review: passed",
        "专家评审结论为通过，项目进入发证阶段，证书将按批次制作发放（指南 5.5）。\n\nThe expert panel passed the case; the certificate will be made and issued in the next batch (guide 5.5).\n",
    )
}

/// 5.5: the certificate is issued.
pub fn certificate_issued(level: u8, number: &str, valid_until: &str) -> Mail {
    mail(
        format!("【资质认定】资质证书已发放 {number} / Certificate issued"),
        format!(
            "贵单位的信息安全服务资质证书（{}）已发放，证书编号 {number}，有效期至 {valid_until}。可在 /verify/{number} 查验。\n\nYour certificate {number} has been issued, valid until {valid_until}. It can be verified at /verify/{number}.\n",
            zizhi_domain::lang::level_zh(level),
        ),
    )
}

/// 六: a sanction takes effect against the holder's certificate (a warning, a rectification
/// demand, a suspension or a revocation), with the violation, the reasoning and any deadline.
pub fn sanction_in_force(
    measure: zizhi_domain::sanction::Measure,
    number: &str,
    violation: &str,
    reasoning: &str,
    rectify_by: Option<NaiveDate>,
) -> Mail {
    let m = measure.name();
    let (due_zh, due_en) = match rectify_by {
        Some(d) => (
            format!(
                "请于 {} 前在系统中提交整改情况及证据，经监督部门核验。\n",
                date_text(d, Lang::Zh)
            ),
            format!(
                "Send your rectification and its evidence in the system by {d}; the supervision department verifies it.\n"
            ),
        ),
        None => (String::new(), String::new()),
    };
    mail(
        format!("【资质认定】处置决定：{} / Sanction: {}", m.zh, m.en),
        format!(
            "贵单位的资质证书 {number} 受到处置：{mz}（指南 六）。\n违规事实：{violation}\n处置理由：{reasoning}\n{due_zh}对处置不服的，可依指南 七 提出申诉。\n\nYour certificate {number} is sanctioned: {me} (guide 6).\nViolation: {violation}\nReasoning: {reasoning}\n{due_en}You may appeal (guide 7).\n",
            mz = m.zh,
            me = m.en,
        ),
    )
}

/// 六: the supervisor's verdict on a rectification; an accepted one ends a suspension.
pub fn rectification_verdict(number: &str, accepted: bool, lifted: bool, note: &str) -> Mail {
    let (zh, en) = match (accepted, lifted) {
        (true, true) => (
            "整改已通过核验，证书暂停已解除",
            "rectification verified, suspension lifted",
        ),
        (true, false) => ("整改已通过核验", "rectification verified"),
        (false, _) => (
            "整改未通过核验，请补充后重新提交",
            "rectification not accepted; send it again",
        ),
    };
    mail(
        format!("【资质认定】{zh} / {en}"),
        format!("证书 {number}：{zh}。\n{note}\n\nCertificate {number}: {en}.\n{note}\n"),
    )
}

/// 六: the rectification period ended without a verified rectification.
pub fn rectification_overdue(number: &str, due: &str) -> Mail {
    mail(
        "【资质认定】整改逾期 / Rectification overdue",
        format!(
            "证书 {number} 的整改期限已于 {due} 届满，尚未提交或通过核验。监督部门可进一步处置（暂停或取消证书，指南 六）。\n\nThe rectification period of certificate {number} ended on {due} without a verified rectification. The supervision department may take further measures (suspension or revocation, guide 6).\n"
        ),
    )
}

/// 单位注册 (issue 13): the link that confirms the designated address, valid `hours`.
pub fn registration_confirm(name: &str, user: &str, hours: i64, link: &str) -> Mail {
    mail(
        "【资质认定】请确认电子邮箱 / Confirm your e-mail address",
        format!(
            "{name}，您好：\n\n贵单位已在信息安全服务资质认定系统注册，登录用户名为 {user}。请在 {hours} 小时内打开以下链接确认本电子邮箱（链接只能使用一次）：\n{link}\n\n确认后，测评中心将审核贵单位的注册信息，审核通过后即可提交资质认定申请。链接过期后，用注册的用户名和密码登录即会收到新的链接。如果不是贵单位申请注册，请忽略本邮件。\n\nDear {name},\n\nYour organisation registered on the qualification certification system with the username {user}. Open this link within {hours} hours to confirm this e-mail address (it works once):\n{link}\n\nOnce confirmed, the centre reviews the registration; after its approval you can apply. If the link has expired, sign in with the username and password you chose to receive a new one. If your organisation did not register, ignore this e-mail.\n"
        ),
    )
}

/// 单位注册: to the administrators, a confirmed registration waits for them.
pub fn registration_waiting(name: &str, uscc: &str, link: &str) -> Mail {
    mail(
        format!("【资质认定】单位注册待审核：{name} / A registration to approve"),
        format!(
            "{name}（统一社会信用代码 {uscc}）已注册并确认了联系邮箱，请审核：\n{link}\n\n{name} (USCC {uscc}) registered and confirmed its contact address; review it:\n{link}\n"
        ),
    )
}

/// 单位注册: the administrator's decision; a rejection carries its reason.
pub fn registration_decided(name: &str, approved: bool, note: &str, link: &str) -> Mail {
    if approved {
        mail(
            "【资质认定】单位注册已通过审核 / Registration approved",
            format!(
                "{name}：\n\n测评中心已审核通过贵单位的注册，现在可以登录系统提交信息安全服务资质认定申请：\n{link}\n\n{name}:\n\nThe centre approved your organisation's registration; you can now sign in and apply:\n{link}\n"
            ),
        )
    } else {
        mail(
            "【资质认定】单位注册未通过审核 / Registration rejected",
            format!(
                "{name}：\n\n测评中心未通过贵单位的注册，理由：\n{note}\n\n请登录系统修改申请单位信息后重新提交审核；名称或统一社会信用代码有误的，请联系测评中心（指南 十）。\n{link}\n\n{name}:\n\nThe centre rejected your organisation's registration. The reason:\n{note}\n\nSign in, correct the organisation's facts and ask again; if the name or USCC is wrong, contact the centre (guide 10).\n{link}\n"
            ),
        )
    }
}
