//! Interface text in Simplified Chinese (default) and English. The language comes from the
//! `zizhi_lang` cookie, else `Accept-Language`, else Chinese.

use axum::http::HeaderMap;
use zizhi_domain::lang::Lang;

pub const LANG_COOKIE: &str = "zizhi_lang";

/// Picks the language of a request.
pub fn negotiate(headers: &HeaderMap) -> Lang {
    if let Some(l) = crate::http::ctx::cookie(headers, LANG_COOKIE).and_then(|v| Lang::parse(&v)) {
        return l;
    }
    let accept = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    // The first supported tag in the header's order (q-values are almost always descending).
    accept
        .split(',')
        .filter_map(|part| Lang::parse(part.split(';').next().unwrap_or("")))
        .next()
        .unwrap_or_default()
}

/// Text lookup for templates: `{{ t.get("nav.home") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
}

impl Tr {
    pub fn is_zh(&self) -> bool {
        self.lang == Lang::Zh
    }

    pub fn code(&self) -> &'static str {
        match self.lang {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// One of two texts written side by side in a template: `{{ c.t.pick("中文", "English") }}`.
    pub fn pick<'a>(&self, zh: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }

    pub fn get(&self, key: &str) -> &'static str {
        match text(key) {
            Some((zh, en)) => match self.lang {
                Lang::Zh => zh,
                Lang::En => en,
            },
            None => "⟦missing text⟧",
        }
    }
}

/// A readable name for an audit action code; unknown codes show as they are.
pub fn action_label(code: &str, lang: Lang) -> String {
    let (zh, en) = match code {
        "user.create" => ("创建用户", "User created"),
        "user.login" => ("登录", "Signed in"),
        "user.logout" => ("退出", "Signed out"),
        "user.login_failed" => ("登录失败", "Sign-in failed"),
        "user.reset_password" => ("重置密码", "Password reset"),
        "user.change_password" => ("修改密码", "Password changed"),
        "user.set_disabled" => ("停用/启用用户", "User disabled/enabled"),
        "user.enable_totp" => ("启用双因素认证", "Two-factor turned on"),
        "organization.create" => ("登记申请单位", "Organisation registered by the centre"),
        "organization.register" => ("申请单位自行注册", "Organisation registered itself"),
        "organization.approve" => ("批准单位注册", "Registration approved"),
        "organization.reject" => ("驳回单位注册", "Registration rejected"),
        "organization.resubmit" => ("重新提交单位注册", "Registration submitted again"),
        "organization.registration_lapsed" => {
            ("未确认的单位注册已失效", "Unconfirmed registration lapsed")
        }
        "user.confirmation_sent" => ("发送邮箱确认链接", "E-mail confirmation link sent"),
        "user.email_confirmed" => ("确认电子邮箱", "E-mail address confirmed"),
        "api_token.create" => ("生成 API 令牌", "API token created"),
        "evidence.upload" => ("上传证据", "Evidence uploaded"),
        "evidence.remove_orphan" => ("清理未登记的证据文件", "Unrecorded evidence file removed"),
        "user.oidc_update" => ("统一身份认证更新用户", "User updated by single sign-on"),
        "user.recovery_codes" => ("生成恢复码", "Recovery codes made"),
        "user.reset_requested" => ("申请重置密码链接", "Password reset link requested"),
        "user.reset_by_link" => (
            "通过重置链接修改密码",
            "Password changed through a reset link",
        ),
        "api_token.revoke" => ("撤销 API 令牌", "API token revoked"),
        "organization.contact" => ("修改申请单位信息", "Organisation's facts changed"),
        "organization.uscc" => ("修改统一社会信用代码", "USCC changed"),
        "announcement.draft" => ("起草公告", "Announcement drafted"),
        "announcement.publish" => ("发布公告", "Announcement published"),
        "appeal.file" => ("提出申诉", "Appeal filed"),
        "appeal.assign" => ("指定申诉调查人", "Appeal investigator assigned"),
        "appeal.conclude" => ("作出申诉处理决定", "Appeal decided"),
        "archive.hold" => ("设置保全", "Legal hold placed"),
        "archive.release_hold" => ("解除保全", "Legal hold released"),
        "archive.propose_disposal" => ("提出销毁", "Disposal proposed"),
        "archive.decline_disposal" => ("驳回销毁", "Disposal declined"),
        "archive.dispose" => ("销毁到期档案", "Records disposed of"),
        "batch.create" => ("编制证书批次", "Batch made"),
        "batch.approve" => ("审批证书批次", "Batch approved"),
        "batch.issue" => ("发证", "Batch issued"),
        "case.create" => ("新建申请", "Application opened"),
        "case.save_profile" => ("保存申请资料", "Application saved"),
        "case.link_evidence" => ("归入证据", "Evidence filed"),
        "case.unlink_evidence" => ("撤回已归入的证据", "Filed evidence withdrawn"),
        "case.paper_copy_received" => ("登记纸版申请书", "Paper copy recorded"),
        "case.payment" => ("登记收款", "Payment recorded"),
        "case.review_area" => ("填写受理审查意见", "Review opinion recorded"),
        "case.reassign_lead" => ("更换项目负责人", "Project lead reassigned"),
        "case.assign_team" => ("指定项目组和专家组", "Team and panel seated"),
        "case.activity" => ("记录评估活动", "Evaluation activity recorded"),
        "case.judgement" => ("记录判定", "Judgement recorded"),
        "case.panel_vote" => ("专家表决", "Expert voted"),
        "case.reopen" => ("申诉后重新办理", "Reopened after an appeal"),
        "case.archive" => ("归档", "Archived"),
        "certificate.seal" => ("证书签章", "Certificate sealed"),
        "certificate.expire" => ("证书到期", "Certificate expired"),
        "certificate.renewal_reminder" => ("提醒证书维持", "Renewal reminder sent"),
        "complaint.lodge" => ("受理投诉", "Complaint lodged"),
        "complaint.close" => ("办结投诉", "Complaint closed"),
        "complaint_record.create" => ("登记投诉记录", "Complaint record made"),
        "complaint_record.update" => ("更新投诉记录", "Complaint record updated"),
        "complaint_record.close" => ("关闭投诉记录", "Complaint record closed"),
        "complaint_register.inspect" => ("查阅投诉登记", "Complaint register inspected"),
        "conflict.declare" => ("声明利益冲突", "Conflict of interest declared"),
        "job.run" => ("执行定时任务", "Scheduled job ran"),
        "letter.issue" => ("出具文书", "Letter issued"),
        "mail.sent" => ("邮件已发送", "E-mail sent"),
        "mail.failed" => ("邮件发送失败", "E-mail failed"),
        "sanction.propose" => ("提出处置", "Sanction proposed"),
        "sanction.confirm" => ("确认处置", "Sanction confirmed"),
        "sanction.decline" => ("驳回处置", "Sanction declined"),
        "sanction.withdraw" => ("撤回处置", "Sanction withdrawn"),
        "sanction.supersede" => ("升级处置", "Sanction superseded"),
        "sanction.overdue" => ("整改逾期", "Rectification overdue"),
        "sanction.rectification_submit" => ("提交整改", "Rectification submitted"),
        "sanction.rectification_accept" => ("整改核验通过", "Rectification accepted"),
        "sanction.rectification_reject" => ("整改核验未通过", "Rectification rejected"),
        other => {
            // A step of a case is named as the step is (case.accept → 予以受理).
            if let Some(t) = other
                .strip_prefix("case.")
                .and_then(zizhi_domain::case::Transition::parse)
            {
                return t.name().get(lang).to_string();
            }
            return code.to_string();
        }
    };
    match lang {
        Lang::Zh => zh.to_string(),
        Lang::En => en.to_string(),
    }
}

/// Every interface string: (zh, en).
pub fn text(key: &str) -> Option<(&'static str, &'static str)> {
    Some(match key {
        "app.name" => (
            "信息安全服务资质认定（灾难恢复类）",
            "Information Security Service Qualification — Disaster Recovery",
        ),
        "app.short" => ("资质", "zizhi"),
        "nav.home" => ("待办", "To-do"),
        "nav.users" => ("用户管理", "Users"),
        "nav.organizations" => ("申请单位", "Organisations"),
        "nav.audit" => ("审计日志", "Audit log"),
        "nav.account" => ("我的账号", "My account"),
        "nav.logout" => ("退出", "Sign out"),
        "nav.language" => ("English", "中文"),
        "login.title" => ("登录", "Sign in"),
        "login.username" => ("用户名", "Username"),
        "login.password" => ("密码", "Password"),
        "login.totp" => (
            "动态验证码或恢复码（已启用双因素认证时填写）",
            "One-time code or recovery code (if two-factor is on)",
        ),
        "login.submit" => ("登录", "Sign in"),
        "login.failed" => (
            "用户名或密码不正确；若多次失败，请稍后再试",
            "Wrong username or password; after repeated failures, wait a while and try again",
        ),
        "login.sso" => ("测评中心工作人员单点登录", "Centre staff: single sign-on"),
        "login.sso_hint" => (
            "测评中心工作人员也可通过本中心的统一身份认证登录：",
            "Centre staff may also sign in through the centre's identity provider:",
        ),
        "login.sso_failed" => ("单点登录未成功：", "Single sign-on did not succeed: "),
        "login.busy" => (
            "登录请求过多，请几秒后再试",
            "Too many sign-ins at once: try again in a few seconds",
        ),
        "login.totp_required" => ("请输入动态验证码", "Enter your one-time code"),
        "login.totp_wrong" => (
            "动态验证码或恢复码不正确",
            "The one-time code or recovery code is wrong",
        ),
        "login.rate_limited" => (
            "尝试过于频繁，请一分钟后再试",
            "Too many attempts: try again in a minute",
        ),
        "home.title" => ("待办事项", "To-do"),
        "home.welcome" => ("您好", "Hello"),
        "home.role" => ("角色", "Role"),
        "home.empty" => ("暂无待办事项", "Nothing waiting for you"),
        "home.must_change" => (
            "您正在使用初始密码，请先修改密码",
            "You are using an initial password: please change it",
        ),
        "home.need_totp" => (
            "根据安全要求，请先启用双因素认证",
            "Security policy: enable two-factor authentication first",
        ),
        "home.org" => ("所属申请单位", "Your organisation"),
        "home.admin_hint" => (
            "管理用户、申请单位与审计日志",
            "Manage users, organisations and the audit log",
        ),
        "home.applicant_hint" => (
            "申请前可使用自评估核对基本资格和基本能力要求",
            "Before applying, self-assess against the basic qualification and capability requirements",
        ),
        "users.title" => ("用户管理", "Users"),
        "users.create" => ("新建用户", "New user"),
        "users.username" => ("用户名", "Username"),
        "users.display_name" => ("姓名", "Name"),
        "users.email" => ("电子邮箱", "E-mail"),
        "users.role" => ("角色", "Role"),
        "users.organization" => (
            "申请单位（申请单位用户必填）",
            "Organisation (applicant users only)",
        ),
        "users.none" => ("（无）", "(none)"),
        "users.status" => ("状态", "Status"),
        "users.active" => ("正常", "Active"),
        "users.disabled" => ("已停用", "Disabled"),
        "users.locked" => (
            "登录已暂时锁定，来源地址数：",
            "Sign-in locked for a while; addresses: ",
        ),
        "users.totp" => ("双因素", "2FA"),
        "users.reset" => ("重置密码", "Reset password"),
        "users.disable" => ("停用", "Disable"),
        "users.enable" => ("启用", "Enable"),
        "users.created" => (
            "已创建用户，初始密码（仅显示一次）：",
            "User created. Initial password (shown once):",
        ),
        "users.reset_done" => (
            "已重置密码，新初始密码（仅显示一次）：",
            "Password reset. New initial password (shown once):",
        ),
        "orgs.title" => ("申请单位", "Applicant organisations"),
        "orgs.create" => ("登记申请单位", "Register an organisation"),
        "orgs.name" => ("单位名称", "Name"),
        "orgs.uscc" => ("统一社会信用代码", "Unified social credit code"),
        "orgs.created_at" => ("登记时间", "Registered"),
        "evidence.title" => ("证据材料", "Evidence"),
        "evidence.name" => ("文件名", "File"),
        "evidence.size" => ("大小", "Size"),
        "evidence.type" => ("类型", "Type"),
        "evidence.hash" => (
            "哈希（上传时计算，下载时复核）",
            "Hashes (computed on upload, re-checked on download)",
        ),
        "evidence.uploaded" => ("上传时间", "Uploaded"),
        "evidence.none" => ("尚无证据材料", "No evidence yet"),
        "evidence.choose" => (
            "选择文件（单个文件不超过 1 GiB）",
            "Choose files (up to 1 GiB each)",
        ),
        "evidence.upload" => ("上传", "Upload"),
        "nav.cases" => ("申请案件", "Cases"),
        "cases.title" => ("申请案件", "Applications"),
        "cases.number" => ("受理编号", "Case number"),
        "cases.level" => ("资质级别", "Level"),
        "cases.level2" => ("灾难恢复类二级", "Disaster recovery, level 2"),
        "cases.kind" => ("申请类型", "Kind"),
        "cases.initial" => ("初次申请", "Initial"),
        "cases.maintenance" => ("维持申请", "Maintenance"),
        "cases.new" => ("新建申请", "New application"),
        "cases.create" => ("创建草稿", "Create the draft"),
        "cases.none" => ("暂无申请案件", "No applications yet"),
        "case.org" => ("申请单位", "Applicant"),
        "case.stage" => ("当前阶段", "Stage"),
        "case.supplement_due" => ("补充资料截止", "Supplement due"),
        "case.fee" => ("委托测评费用", "Fee"),
        "case.clock" => ("项目实施周期", "Project clock"),
        "case.running" => ("已用天数", "Days running"),
        "case.paused" => ("暂停天数", "Days paused"),
        "case.paused_now" => ("计时暂停中", "paused"),
        "case.target_due" => ("三个月目标", "3-month target"),
        "case.limit_due" => ("六个月上限", "6-month limit"),
        "case.no_clock" => ("建档立项后开始计时", "Starts at filing"),
        "case.next" => ("下一步操作", "Next steps"),
        "case.note" => ("意见 / 说明", "Opinion / note"),
        "case.history" => ("流程跟踪", "Process history"),
        "case.rounds" => ("提交记录与自评估", "Submissions and self-assessment"),
        "case.assessment" => ("自评估结论", "Self-assessment"),
        "home.todo_case" => ("待处理", "Waiting for you"),
        "verify.title" => ("资质证书查验", "Certificate verification"),
        "verify.in_force" => ("该证书真实有效", "This certificate is genuine and in force"),
        "verify.not_in_force" => (
            "该证书当前无效（已过期、暂停或取消）",
            "This certificate is not in force (expired, suspended or revoked)",
        ),
        "verify.unknown" => ("未查到该编号的证书：", "No certificate with the number:"),
        "verify.number" => ("证书编号", "Certificate number"),
        "verify.holder" => ("证书持有单位", "Holder"),
        "verify.category" => ("资质类别", "Category"),
        "verify.level" => ("资质级别", "Level"),
        "verify.validity" => ("有效期", "Validity"),
        "verify.status" => ("状态", "Status"),
        "audit.title" => ("审计日志", "Audit log"),
        "audit.verify" => ("校验哈希链", "Verify the hash chain"),
        "audit.ok" => (
            "哈希链完整，共校验事件",
            "The chain is intact. Events checked:",
        ),
        "audit.broken" => ("哈希链在以下事件处断裂：", "The chain breaks at event:"),
        "audit.seq" => ("序号", "Seq"),
        "audit.time" => ("时间", "Time"),
        "audit.actor" => ("操作人", "Actor"),
        "audit.action" => ("操作", "Action"),
        "audit.object" => ("对象", "Object"),
        "audit.summary" => ("摘要", "Summary"),
        "audit.older" => ("更早的记录", "Older"),
        "account.title" => ("我的账号", "My account"),
        "account.password" => ("修改密码", "Change password"),
        "account.current" => ("当前密码", "Current password"),
        "account.new" => (
            "新密码（至少 12 个字符，不能是用户名、电子邮箱或常见密码）",
            "New password (12 characters or more; not your username, e-mail or a common password)",
        ),
        "account.changed" => ("密码已修改", "Password changed"),
        "account.totp" => ("双因素认证（TOTP）", "Two-factor authentication (TOTP)"),
        "account.totp_on" => ("已启用", "On"),
        "account.totp_off" => (
            "未启用。在身份验证器应用中添加以下密钥，然后输入其显示的 6 位验证码：",
            "Off. Add this key to your authenticator app, then enter the 6-digit code it shows:",
        ),
        "account.totp_code" => ("验证码", "Code"),
        "account.totp_enable" => ("启用", "Turn on"),
        "account.totp_done" => ("双因素认证已启用", "Two-factor authentication is on"),
        "account.tokens" => ("API 令牌", "API tokens"),
        "account.token_label" => ("用途", "Label"),
        "account.token_days" => ("有效天数", "Valid for (days)"),
        "account.token_create" => ("生成令牌", "Create token"),
        "account.token_done" => (
            "令牌（仅显示一次，请妥善保存）：",
            "Token (shown once; keep it safe):",
        ),
        "account.token_none" => ("暂无有效的 API 令牌", "No live API tokens"),
        "account.token_created" => ("生成时间", "Created"),
        "account.token_last_used" => ("最近使用", "Last used"),
        "account.token_expires" => ("到期", "Expires"),
        "account.token_never" => ("从未使用", "Never"),
        "account.token_revoke" => ("吊销", "Revoke"),
        "account.token_revoked" => ("令牌已吊销", "The token is revoked"),
        "account.recovery" => ("恢复码", "Recovery codes"),
        "account.recovery_left" => ("未使用的恢复码数量：", "Unused recovery codes: "),
        "account.recovery_help" => (
            "手机丢失时，可在登录页的动态验证码一栏输入一个恢复码；每个恢复码只能使用一次。",
            "If you lose your phone, enter one recovery code in the one-time code field when signing in; each works once.",
        ),
        "account.recovery_new" => (
            "生成新的恢复码（旧的作废）",
            "Make new recovery codes (the old ones stop working)",
        ),
        "account.recovery_shown" => (
            "恢复码（仅显示这一次，请打印或抄写后妥善保存）：",
            "Recovery codes (shown this once: print or copy them and keep them safe):",
        ),
        "case.letters" => ("正式文书", "Formal letters"),
        "case.letter" => ("文书（PDF）", "Letter (PDF)"),
        "case.signed_by" => ("签发人", "Signed by"),
        "ann.title" => ("公告", "Announcements"),
        "ann.feed" => ("Atom 订阅", "Atom feed"),
        "ann.none" => ("暂无公告", "No announcements yet"),
        "ann.published" => ("发布日期：", "Published: "),
        "ann.draft" => (
            "草稿：待审批人审批后发布",
            "Draft: published once an approver approves it",
        ),
        "ann.approve" => ("审批并发布", "Approve and publish"),
        "ann.magazine" => (
            "《中国信息安全》刊登清单（Excel）",
            "List for the magazine (Excel)",
        ),
        "ann.article" => (
            "公众号文章（HTML 文件）",
            "Official-account article (HTML file)",
        ),
        "registry.title" => (
            "信息安全服务资质证书名录",
            "Register of information security service qualifications",
        ),
        "registry.intro" => (
            "测评中心颁发的灾难恢复类资质证书。可按单位名称、统一社会信用代码或证书编号检索。",
            "Disaster-recovery qualification certificates issued by the centre. Search by holder name, USCC or certificate number.",
        ),
        "registry.q" => (
            "单位名称、统一社会信用代码或证书编号",
            "Holder name, USCC or certificate number",
        ),
        "registry.any" => ("不限", "Any"),
        "registry.year" => ("发证年份", "Year of issue"),
        "registry.search" => ("检索", "Search"),
        "registry.none" => ("没有符合条件的证书", "No certificate matches"),
        "registry.sign_in" => (
            "申请单位与测评中心人员登录",
            "Applicants and centre staff: sign in",
        ),
        "verify.signature" => ("电子签名", "Signature"),
        "verify.history" => ("状态记录", "Status history"),
        "verify.signature_ok" => (
            "已核验：证书记录由测评中心的 SM2 密钥签名，与本页信息一致",
            "Checked: the certificate's record is signed with the centre's SM2 key and matches this page",
        ),
        "verify.signature_bad" => (
            "签名核验未通过，请联系测评中心",
            "The signature does not check out: contact the centre",
        ),
        "verify.signature_none" => ("暂无签名证书文件", "No signed certificate document yet"),
        "common.submit" => ("提交", "Submit"),
        "common.save" => ("保存", "Save"),
        "common.error" => ("出错了", "Something went wrong"),
        "common.back" => ("返回", "Back"),
        "error.forbidden" => ("您没有权限执行此操作", "You are not allowed to do this"),
        "error.not_found" => ("页面或对象不存在", "Not found"),
        "error.csrf" => (
            "表单已过期或来源不明，请刷新页面后重试",
            "The form expired or came from elsewhere: reload and try again",
        ),
        "error.internal" => (
            "服务器内部错误，已记录。请稍后再试",
            "Internal error (logged). Please try again later",
        ),
        "error.unavailable" => (
            "系统繁忙，请稍后再试",
            "The system is busy: please try again in a moment",
        ),
        "error.conflict" => ("已存在：", "Already exists:"),
        "error.invalid" => ("输入有误：", "Invalid input:"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_used_in_templates_and_code_has_both_languages() {
        let dir = std::path::PathBuf::from(
            std::env::var("CARGO_MANIFEST_DIR")
                .expect("cargo sets CARGO_MANIFEST_DIR when it runs tests"),
        );
        // Every file under templates/ and src/, subfolders included.
        let mut sources = Vec::new();
        let mut dirs = vec![dir.join("templates"), dir.join("src")];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    dirs.push(p);
                } else {
                    sources.push(std::fs::read_to_string(p).unwrap());
                }
            }
        }
        let mut checked = 0;
        for src in &sources {
            for part in src.split("t.get(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                let (zh, en) = text(key).unwrap_or_else(|| panic!("no text for key {key}"));
                assert!(!zh.is_empty() && !en.is_empty(), "{key}");
                checked += 1;
            }
        }
        assert!(checked > 30, "found {checked} keys");
    }

    #[test]
    fn chinese_is_the_default_and_accept_language_is_honoured() {
        let mut h = HeaderMap::new();
        assert_eq!(negotiate(&h), Lang::Zh);
        h.insert(
            "accept-language",
            "en-US,en;q=0.9,zh;q=0.5".parse().unwrap(),
        );
        assert_eq!(negotiate(&h), Lang::En);
        h.insert("cookie", "zizhi_lang=zh".parse().unwrap());
        assert_eq!(negotiate(&h), Lang::Zh);
        let mut h = HeaderMap::new();
        h.insert("accept-language", "fr-FR, de".parse().unwrap());
        assert_eq!(negotiate(&h), Lang::Zh);
    }
}
