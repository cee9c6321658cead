//! The server-side commands: serve, migrate, admin, audit.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use zizhi_app::accounts::NewUserInput;
use zizhi_app::{App, AppError};
use zizhi_store::Db;
use zizhi_web::Config;

use crate::{Failure, fail, fail_runtime};

/// Where the data lives.
#[derive(Debug, Args)]
pub struct Place {
    /// Data directory (default ./zizhi-data). Also ZIZHI_DATA_DIR.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// Database URL: sqlite:… or postgres://… (default: SQLite in the data directory).
    /// Also ZIZHI_DATABASE.
    #[arg(long, global = true)]
    database: Option<String>,
    /// Configuration file (TOML). Also ZIZHI_CONFIG.
    #[arg(long, global = true, env = "ZIZHI_CONFIG")]
    config: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Create a user; prints the initial password when none is given.
    CreateUser {
        #[arg(long)]
        username: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        email: String,
        /// applicant, registrar, project_lead, assessor, expert, contract_finance,
        /// certificate_officer, approver, supervisor, administrator
        #[arg(long)]
        role: String,
        /// For applicant users: their organisation's USCC (registered with --organization-name
        /// if new).
        #[arg(long)]
        organization_uscc: Option<String>,
        #[arg(long)]
        organization_name: Option<String>,
        /// Read the password from this environment variable instead of generating one.
        #[arg(long)]
        password_env: Option<String>,
    },
    /// Generate a new password for a user (ends their sessions).
    ResetPassword {
        #[arg(long)]
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum JobsCommand {
    /// Run each scheduled job once (lapsed supplements, overdue rectifications), as the
    /// scheduler inside `zizhi serve` does: for cron, or when no server runs.
    RunOnce,
    /// Deliver every notification now due (`smtp_url`, or `.eml` files in the data directory's
    /// outbox), round after round until none is left, as the server's mail worker does twenty
    /// every two seconds: after a mail server's outage, or when no server runs. A message that
    /// fails waits for its next attempt as usual.
    DeliverMail,
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Write a case's archival package (BagIt 1.0, SHA-256 and SM3 manifests) into DIR.
    Export {
        /// The case: its number (ZZ-2026-00001) or id.
        case: String,
        /// The directory to create (must not exist, or be empty).
        #[arg(long)]
        to: PathBuf,
    },
    /// Check an archival package without the database: both manifests, the tag manifests,
    /// the Payload-Oxum and each audit event's hash. Exit 1 and list the problems if any.
    Verify { dir: PathBuf },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain; exit 1 and report the first break when it is broken.
    Verify,
}

fn config(place: &Place, listen: Option<&str>) -> Result<Config, Failure> {
    let env = |k: &str| std::env::var(k).ok();
    let mut c = Config::load(place.config.as_deref(), &env).map_err(|e| {
        fail(
            format!("配置项 `{}` 有误：{}", e.key, e.problem),
            e.to_string(),
        )
    })?;
    if let Some(d) = &place.data_dir {
        c.data_dir = d.clone();
    }
    if let Some(db) = &place.database {
        c.database = Some(db.clone());
    }
    if let Some(l) = listen {
        c.listen = l.parse().map_err(|_| {
            fail(
                format!("--listen 地址无效：{l}"),
                format!("--listen is not an address: {l}"),
            )
        })?;
    }
    c.validate().map_err(|e| {
        fail(
            format!("配置项 `{}` 有误：{}", e.key, e.problem),
            e.to_string(),
        )
    })?;
    Ok(c)
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            fail_runtime(
                format!("无法启动运行时：{e}"),
                format!("cannot start the runtime: {e}"),
            )
        })
}

async fn open(c: &Config) -> Result<App, Failure> {
    std::fs::create_dir_all(&c.data_dir).map_err(|e| {
        fail_runtime(
            format!("无法创建数据目录：{e}"),
            format!("cannot create the data directory: {e}"),
        )
    })?;
    let db = Db::connect_with(&c.database_url(), c.pg_reads_at_once())
        .await
        .map_err(|e| fail_runtime(format!("数据库连接失败：{e}"), format!("database: {e}")))?;
    db.migrate()
        .await
        .map_err(|e| fail_runtime(format!("数据库迁移失败：{e}"), format!("migrations: {e}")))?;
    let files = c
        .evidence_store()
        .await
        .map_err(|e| fail_runtime(format!("证据存储无法打开：{e}"), e))?;
    let documents = c
        .documents()
        .map_err(|e| fail_runtime(format!("证书签名密钥无法打开：{e}"), e))?;
    Ok(App::new(db, files, c.app_config()).with_documents(documents))
}

fn app_failure(e: AppError) -> Failure {
    match e {
        AppError::Invalid { field, problem } => fail(
            format!("{field}：{}", problem.zh),
            format!("{field}: {}", problem.en),
        ),
        AppError::Conflict { field } => fail(
            format!("已存在：{field}"),
            format!("already exists: {field}"),
        ),
        AppError::NotFound(what) => fail(format!("不存在：{what}"), format!("not found: {what}")),
        other => fail_runtime(format!("{other}"), format!("{other}")),
    }
}

pub fn serve(place: &Place, listen: Option<&str>) -> Result<String, Failure> {
    let c = config(place, listen)?;
    runtime()?.block_on(async move {
        let server = zizhi_web::start(c).await.map_err(|e| fail_runtime(e.clone(), e))?;
        if let Some((user, password)) = &server.bootstrap {
            println!("首次启动：已创建管理员 {user}，一次性密码 {password}（首次登录后请修改）");
            println!("first start: created administrator {user} with one-time password {password} (change it at first sign-in)");
        }
        if let Some(n) = server.pg_reads_at_once {
            println!("PostgreSQL：同时至多 {n} 个读取 / at most {n} reads at once (pg_reads_at_once)");
        }
        println!("zizhi 正在监听 / listening on http://{}", server.addr);
        server.run().await.map_err(|e| fail_runtime(e.clone(), e))?;
        Ok(String::new())
    })
}

pub fn migrate(place: &Place) -> Result<String, Failure> {
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        Ok(format!("migrations applied ({})\n", app.backend()))
    })
}

pub fn admin(place: &Place, command: &AdminCommand) -> Result<String, Failure> {
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        match command {
            AdminCommand::CreateUser {
                username,
                display_name,
                email,
                role,
                organization_uscc,
                organization_name,
                password_env,
            } => {
                let organization_id = match organization_uscc {
                    None => None,
                    Some(uscc) => {
                        let code = zizhi_domain::uscc::Uscc::parse(uscc).map_err(|e| {
                            fail(
                                format!("organization_uscc：{}", e.text().zh),
                                format!("organization_uscc: {}", e.text().en),
                            )
                        })?;
                        let existing = app
                            .organization_by_uscc(code.as_str())
                            .await
                            .map_err(app_failure)?;
                        match existing {
                            Some(o) => Some(o.id),
                            None => {
                                let name = organization_name.as_deref().ok_or_else(|| {
                                    fail(
                                        "新申请单位须给出 --organization-name",
                                        "a new organisation needs --organization-name",
                                    )
                                })?;
                                Some(
                                    app.create_organization(None, uscc, name)
                                        .await
                                        .map_err(app_failure)?
                                        .id,
                                )
                            }
                        }
                    }
                };
                let password = match password_env {
                    Some(var) => Some(std::env::var(var).map_err(|_| {
                        fail(
                            format!("环境变量 {var} 未设置"),
                            format!("environment variable {var} is not set"),
                        )
                    })?),
                    None => None,
                };
                let input = NewUserInput {
                    username: username.clone(),
                    display_name: display_name.clone(),
                    email: email.clone(),
                    role: role.clone(),
                    organization_id,
                    password,
                };
                let (u, pw) = app.create_user(None, input).await.map_err(app_failure)?;
                Ok(match pw {
                    Some(p) => format!(
                        "created user {} (id {}); initial password: {p}\n",
                        u.username, u.id
                    ),
                    None => format!("created user {} (id {})\n", u.username, u.id),
                })
            }
            AdminCommand::ResetPassword { username } => {
                let pw = app
                    .reset_password(None, username)
                    .await
                    .map_err(app_failure)?;
                Ok(format!("new password for {username}: {pw}\n"))
            }
        }
    })
}

pub fn audit(place: &Place, command: &AuditCommand) -> Result<String, Failure> {
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        match command {
            AuditCommand::Verify => {
                let v = app.verify_audit(None).await.map_err(app_failure)?;
                match v.first_break {
                    None => Ok(format!("audit chain intact: {} events ({} bytes hashed), head {}\n", v.events, v.bytes, v.head.unwrap_or_else(|| "-".into()))),
                    Some((seq, why)) => Err(fail_runtime(
                        format!("审计哈希链在事件 {seq} 处断裂：{why}（此前 {} 个事件完好）", v.events),
                        format!("audit chain broken at event {seq}: {why} ({} events before it are intact)", v.events),
                    )),
                }
            }
        }
    })
}

pub fn demo(
    place: &Place,
    bench_cases: usize,
    bench_certificates: usize,
    bench_events: usize,
) -> Result<String, Failure> {
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        let mut out = String::new();
        let seeded = app.demo_seeded().await.map_err(app_failure)?;
        if seeded {
            out.push_str("演示数据已存在 / demo data is already there\n");
        } else {
            let s = app.seed_demo().await.map_err(app_failure)?;
            out.push_str(&format!(
                "【演示】已生成演示数据 / demo data seeded ({} users, {} cases)\n\n",
                s.users.len(),
                s.cases.len()
            ));
            out.push_str(&format!(
                "所有演示用户的密码 / password of every demo user: {}\n",
                zizhi_app::demo::DEMO_PASSWORD
            ));
            for (u, r) in &s.users {
                out.push_str(&format!("  {u:<18} {} / {}\n", r.name().zh, r.name().en));
            }
            out.push_str("\n每个阶段一个案件 / one case in every stage:\n");
            for (id, stage) in &s.cases {
                out.push_str(&format!(
                    "  /cases/{id:<5} {} / {}\n",
                    stage.name().zh,
                    stage.name().en
                ));
            }
        }
        if bench_cases > 0 || bench_certificates > 0 {
            let b = app
                .seed_bench(bench_cases, bench_certificates)
                .await
                .map_err(app_failure)?;
            out.push_str(&format!(
                "bulk demo rows: {} cases, {} certificates; sample /verify/{}\n",
                b.cases,
                b.certificates,
                b.sample_certificate.unwrap_or_default()
            ));
        }
        if bench_events > 0 {
            let n = app
                .seed_bench_events(bench_events)
                .await
                .map_err(app_failure)?;
            out.push_str(&format!("bulk demo audit events: {n}\n"));
        }
        out.push_str("\n启动 / start: zizhi serve (same --data-dir / --database)\n");
        Ok(out)
    })
}

/// `zizhi backup --to DIR|s3://…`: a consistent backup while the server runs.
pub fn backup(place: &Place, to: &str) -> Result<String, Failure> {
    use zizhi_app::backup::Place as Kept;
    let target = Kept::parse(to, "to").map_err(app_failure)?;
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        let started = std::time::Instant::now();
        let staging = match &target {
            Kept::Dir(dir) => dir.clone(),
            Kept::Bucket(_) => c.data_dir.join("backup-staging"),
        };
        let r = app
            .backup_into(&target, &staging)
            .await
            .map_err(app_failure)?;
        // The certificate signing keys of the data directory go with it (a configured
        // signing_key_file lives elsewhere and is backed up with the configuration).
        match &target {
            Kept::Dir(dir) => copy_keys(&c.data_dir.join("signing"), &dir.join("keys"))?,
            Kept::Bucket(b) => upload_keys(b, &c.data_dir.join("signing")).await?,
        }
        let m = &r.manifest;
        let rows: i64 = m.rows.values().sum();
        Ok(format!(
            "backup {} ({}, schema {}): {} rows in {} tables, audit head {}, {} objects ({} new, {} bytes copied, {} disposed of), {:.1} s (snapshot {:.1} s, objects {:.1} s, both at once)\n",
            target.describe(),
            m.backend,
            m.schema_version,
            rows,
            m.rows.len(),
            m.audit_head.as_ref().map_or("-".to_string(), |h| format!("{} {}", h.0, h.1)),
            m.objects.len(),
            r.new_objects,
            r.bytes_copied,
            m.disposed.len(),
            started.elapsed().as_secs_f64(),
            r.snapshot_time.as_secs_f64(),
            r.objects_time.as_secs_f64()
        ))
    })
}

/// Puts the signing key files into a bucket's `keys/`, leaving those already there.
async fn upload_keys(
    bucket: &zizhi_store::files::FileStore,
    from: &std::path::Path,
) -> Result<(), Failure> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    let bad = |e: String| {
        fail_runtime(
            format!("签名密钥无法上传：{e}"),
            format!("the signing keys cannot be uploaded: {e}"),
        )
    };
    let there = bucket
        .list_named("keys")
        .await
        .map_err(|e| bad(e.to_string()))?;
    for e in entries {
        let e = e.map_err(|e| bad(e.to_string()))?;
        let name = format!("keys/{}", e.file_name().to_string_lossy());
        if e.file_type().map_err(|e| bad(e.to_string()))?.is_file() && !there.contains(&name) {
            bucket
                .put_named(&name, &e.path())
                .await
                .map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(())
}

/// Copies the signing key files (old keys stay for verification) from one directory to
/// another, leaving files already there.
fn copy_keys(from: &std::path::Path, to: &std::path::Path) -> Result<(), Failure> {
    let Ok(entries) = std::fs::read_dir(from) else {
        return Ok(());
    };
    let bad = |e: std::io::Error| {
        fail_runtime(
            format!("签名密钥无法复制：{e}"),
            format!("the signing keys cannot be copied: {e}"),
        )
    };
    std::fs::create_dir_all(to).map_err(bad)?;
    for e in entries {
        let e = e.map_err(bad)?;
        let target = to.join(e.file_name());
        if e.file_type().map_err(bad)?.is_file() && !target.exists() {
            std::fs::copy(e.path(), &target).map_err(bad)?;
        }
    }
    Ok(())
}

/// `zizhi restore --from DIR`: into a new data directory (or an empty `--database`), then the
/// checks; exit 1 listing every mismatch.
pub fn restore(place: &Place, from: &str) -> Result<String, Failure> {
    use zizhi_app::backup::Place as Kept;
    let source = Kept::parse(from, "from").map_err(app_failure)?;
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let started = std::time::Instant::now();
        // A bucket's manifest, database files and keys come down to a directory first (the
        // objects go straight into the evidence store below).
        let staged = c.data_dir.join("restore-staging");
        let from: std::path::PathBuf = match &source {
            Kept::Dir(dir) => dir.clone(),
            Kept::Bucket(b) => {
                if c.data_dir.join("zizhi.db").exists() {
                    return Err(fail(
                        format!("{} 已有数据；请恢复到新的数据目录", c.data_dir.display()),
                        format!(
                            "{} holds data; restore into a new data directory",
                            c.data_dir.display()
                        ),
                    ));
                }
                let _ = std::fs::remove_dir_all(&staged);
                zizhi_app::backup::fetch_backup(b, &staged)
                    .await
                    .map_err(app_failure)?;
                staged.clone()
            }
        };
        let from = from.as_path();
        let m = zizhi_app::backup::read_backup(from)
            .await
            .map_err(app_failure)?;
        std::fs::create_dir_all(&c.data_dir).map_err(|e| {
            fail_runtime(
                format!("无法创建数据目录：{e}"),
                format!("cannot create the data directory: {e}"),
            )
        })?;
        let db = zizhi_app::backup::restore_database(from, &m, &c.database_url())
            .await
            .map_err(app_failure)?;
        copy_keys(&from.join("keys"), &c.data_dir.join("signing"))?;
        let files = c
            .evidence_store()
            .await
            .map_err(|e| fail_runtime(format!("证据存储无法打开：{e}"), e))?;
        let app = App::new(db, files, c.app_config());
        let check = app
            .restore_objects_from(&source, &m)
            .await
            .map_err(app_failure)?;
        let _ = std::fs::remove_dir_all(&staged);
        if !check.problems.is_empty() {
            let list = check.problems.join("\n");
            return Err(fail_runtime(
                format!("恢复后的校验不通过：\n{list}"),
                format!("the restored data does not check out:\n{list}"),
            ));
        }
        Ok(format!(
            "restored from {} into {}: {} tables as in the backup, audit chain intact ({} events), {} objects verified, {:.1} s\n",
            source.describe(),
            c.database_url(),
            m.rows.len(),
            check.audit_events,
            check.objects,
            started.elapsed().as_secs_f64()
        ))
    })
}

/// The case id in `ZZ-2026-00001` or `1`.
fn case_id_of(s: &str) -> Result<i64, Failure> {
    let digits = s.trim().rsplit('-').next().unwrap_or_default();
    digits.parse::<i64>().map_err(|_| {
        fail(
            format!("案件应为案件编号（如 ZZ-2026-00001）或编号中的序号：{s}"),
            format!("the case is its number (e.g. ZZ-2026-00001) or id: {s}"),
        )
    })
}

/// `zizhi archive export|verify`.
pub fn archive(place: &Place, command: &ArchiveCommand) -> Result<String, Failure> {
    match command {
        ArchiveCommand::Verify { dir } => {
            let check = zizhi_app::bag::verify_bag(dir).map_err(|e| {
                fail(
                    format!("无法读取档案包：{e}"),
                    format!("cannot read the package: {e}"),
                )
            })?;
            if check.problems.is_empty() {
                Ok(format!(
                    "valid: {} payload files, {} audit events, both manifests (sha256, sm3) match\n",
                    check.files, check.events
                ))
            } else {
                let list = check.problems.join("\n");
                Err(fail_runtime(
                    format!("档案包校验不通过：\n{list}"),
                    format!("the package does not verify:\n{list}"),
                ))
            }
        }
        ArchiveCommand::Export { case, to } => {
            let id = case_id_of(case)?;
            let c = config(place, None)?;
            runtime()?.block_on(async move {
                let app = open(&c).await?;
                let b = app.export_case_bag(id, to).await.map_err(app_failure)?;
                Ok(format!(
                    "{}: {} payload files, {} bytes\n",
                    b.dir.display(),
                    b.files,
                    b.bytes
                ))
            })
        }
    }
}

/// `zizhi jobs run-once`: each job whose lease this process wins, and what it did.
pub fn jobs(place: &Place, command: &JobsCommand) -> Result<String, Failure> {
    let c = config(place, None)?;
    runtime()?.block_on(async move {
        let app = open(&c).await?;
        match command {
            JobsCommand::RunOnce => {
                let runner = format!("cli-{}", std::process::id());
                let runs = app.run_jobs_once(&runner).await.map_err(app_failure)?;
                let mut out = String::new();
                for r in runs {
                    match (r.done, r.held_by) {
                        (Some(n), _) => out.push_str(&format!("{}: {n}\n", r.job)),
                        (None, by) => out.push_str(&format!(
                            "{}: skipped, another runner holds it ({})\n",
                            r.job,
                            by.unwrap_or_default()
                        )),
                    }
                }
                Ok(out)
            }
            JobsCommand::DeliverMail => {
                let worker = format!("cli-{}", std::process::id());
                let all = app.deliver_all_due(&worker).await.map_err(app_failure)?;
                Ok(format!(
                    "已发送 {}，待重试 {}，已放弃 {} / sent {}, to retry {}, given up {}\n",
                    all.sent, all.retried, all.given_up, all.sent, all.retried, all.given_up
                ))
            }
        }
    })
}
