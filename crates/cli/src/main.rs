//! `zizhi`: the one binary. For now the offline rules-engine commands: self-assessment,
//! criteria packs, the holiday calendar and Civil Code periods.

mod certificate;
mod report;
mod server;

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use zizhi_domain::SourceError;
use zizhi_domain::assess::assess;
use zizhi_domain::calendar::HolidayCalendar;
use zizhi_domain::criteria::Pack;
use zizhi_domain::lang::{Lang, Text};
use zizhi_domain::period::{PeriodLength, period_end};
use zizhi_domain::profile::{Profile, RawProfile};

/// mimalloc instead of glibc's malloc (issue 14). glibc's arenas are locked: a buffer
/// allocated on one tokio worker thread and freed on the other (a task moves between them, a
/// response is written by another) waited for the other thread's arena lock, and each thread
/// that allocated kept an arena's freed memory (78 MB after loading every endpoint; four
/// arenas, the earlier remedy, made the worker threads share them). mimalloc hands such a
/// block back to its owner's heap without a lock: the case list +15–30 %, judgements and the
/// dashboard +10–25 % (README). Transparent huge pages off (`no_thp`): with them one touched
/// byte made 2 MB resident (peak 77 MB against 60 under the same reads).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// 信息安全服务资质认定（灾难恢复类）— information security service qualification certification.
#[derive(Debug, Parser)]
#[command(name = "zizhi", version, about)]
struct Cli {
    /// Language of reports and messages: zh (default) or en. Also ZIZHI_LANG.
    #[arg(long, global = true, env = "ZIZHI_LANG", value_parser = parse_lang)]
    lang: Option<Lang>,
    /// A holiday calendar file that extends the shipped one (same format; its years replace
    /// the shipped years). Also ZIZHI_HOLIDAYS.
    #[arg(long, global = true, env = "ZIZHI_HOLIDAYS", value_name = "FILE")]
    holidays: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the web application (SQLite + local files in the data directory by default).
    Serve {
        #[command(flatten)]
        place: server::Place,
        /// Address to listen on (default 127.0.0.1:8080). Also ZIZHI_LISTEN.
        #[arg(long)]
        listen: Option<String>,
    },
    /// Run the database migrations and exit.
    Migrate {
        #[command(flatten)]
        place: server::Place,
    },
    /// Administration from the command line (acts as `system` in the audit log).
    Admin {
        #[command(flatten)]
        place: server::Place,
        #[command(subcommand)]
        command: server::AdminCommand,
    },
    /// Seed demo data: a user for every role (password printed) and one case in every stage,
    /// all marked 【演示】/ demo. Optionally bulk cases and certificates for benchmarks.
    Demo {
        #[command(flatten)]
        place: server::Place,
        /// Also write this many bulk demo cases (benchmarks).
        #[arg(long, default_value_t = 0)]
        bench_cases: usize,
        /// Also write this many bulk demo certificates (benchmarks).
        #[arg(long, default_value_t = 0)]
        bench_certificates: usize,
        /// Also append this many bulk demo audit events (the chain's verify benchmark).
        #[arg(long, default_value_t = 0)]
        bench_events: usize,
    },
    /// Scheduled jobs.
    Jobs {
        #[command(flatten)]
        place: server::Place,
        #[command(subcommand)]
        command: server::JobsCommand,
    },
    /// Back up the database and the evidence into a directory, while the server runs.
    Backup {
        #[command(flatten)]
        place: server::Place,
        /// Where the backup is kept (between backups: objects are copied only once): a
        /// directory, or a bucket as s3://ACCESS:SECRET@host:port/bucket?region=…&tls=false
        /// (or in ZIZHI_BACKUP_TO, to keep the keys off the command line).
        #[arg(long, env = "ZIZHI_BACKUP_TO", hide_env_values = true)]
        to: String,
    },
    /// Restore a backup into a new data directory (or an empty --database), then check rows,
    /// the audit chain and every object's hash.
    Restore {
        #[command(flatten)]
        place: server::Place,
        /// The backup: a directory, or a bucket (s3://…, as for --to; or in ZIZHI_BACKUP_FROM).
        #[arg(long, env = "ZIZHI_BACKUP_FROM", hide_env_values = true)]
        from: String,
    },
    /// The project archive (八): archival packages.
    Archive {
        #[command(flatten)]
        place: server::Place,
        #[command(subcommand)]
        command: server::ArchiveCommand,
    },
    /// The audit chain.
    Audit {
        #[command(flatten)]
        place: server::Place,
        #[command(subcommand)]
        command: server::AuditCommand,
    },
    /// Certificates: check a certificate PDF offline.
    Certificate {
        #[command(subcommand)]
        command: certificate::CertificateCommand,
    },
    /// Self-assess an applicant profile (JSON file, or - for standard input) before applying.
    Assess {
        /// The profile: a JSON file, or - for standard input.
        profile: String,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Criteria packs: the requirements of each category × level, as data.
    Criteria {
        #[command(subcommand)]
        command: CriteriaCommand,
    },
    /// The statutory holiday calendar used for deadlines.
    Calendar {
        #[command(subcommand)]
        command: CalendarCommand,
    },
    /// The last day of a Civil Code period (arts. 200–204) that starts with an event on DATE.
    Deadline {
        /// The day of the event (YYYY-MM-DD), e.g. when the acceptance-review e-mail arrived.
        date: String,
        #[arg(long, conflicts_with = "days", required_unless_present = "days")]
        months: Option<u32>,
        #[arg(long)]
        days: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum CriteriaCommand {
    /// List the shipped packs.
    List,
    /// Show one pack as a readable table, e.g. `disaster_recovery/2`.
    Show { pack: String },
    /// Validate pack files; prints the file, line and reason of the first problem in each.
    Validate {
        #[arg(required = true)]
        files: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Show the holidays and adjusted working days of the calendar in use.
    Show {
        /// Only this year.
        year: Option<i32>,
    },
    /// Validate a calendar file.
    Validate { file: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

fn parse_lang(s: &str) -> Result<Lang, String> {
    Lang::parse(s).ok_or_else(|| format!("unknown language \"{s}\" (zh or en)"))
}

/// A failure to report with a bilingual message: bad input exits 2, anything else 1.
struct Failure(Text, u8);

fn fail(zh: impl Into<String>, en: impl Into<String>) -> Failure {
    Failure(Text::new(zh, en), 2)
}

/// A failure that is not the input's fault (exit 1).
fn fail_runtime(zh: impl Into<String>, en: impl Into<String>) -> Failure {
    Failure(Text::new(zh, en), 1)
}

/// The allocators' settings for `zizhi serve`, each as `(variable, value)`; both allocators
/// read them from the environment once, when the process starts.
/// - mimalloc (Rust's allocations) keeps freed memory a second before giving it back by
///   default, and gives it back only when a thread next allocates or frees: a server gone
///   quiet after 20 sign-ins (argon2id, 19 MiB each) stayed at 71 MB, and a 700 MB upload
///   (buffers received on a worker thread, freed on the hashing threads) peaked at 73–87 MB.
///   Given back at once: 29 MB, and 54–57 MB (issue 14: ≤ 64 MB); reads as fast.
/// - glibc's malloc (SQLite's allocations, on the worker threads and sqlx's one thread per
///   connection) gives each thread that allocates an arena of its own and keeps the memory
///   freed there; four arenas: peak 54 MB against 60 after loading every endpoint in turn.
const ALLOCATOR_SETTINGS: [(&str, &str); 2] =
    [("MIMALLOC_PURGE_DELAY", "0"), ("MALLOC_ARENA_MAX", "4")];

/// `zizhi serve` starts itself once more (the same process: `exec`) with the
/// [`ALLOCATOR_SETTINGS`] the environment lacks; an operator's own values win.
fn set_allocators() {
    use std::os::unix::process::CommandExt as _;
    let missing: Vec<_> = ALLOCATOR_SETTINGS
        .iter()
        .filter(|(k, _)| std::env::var_os(k).is_none())
        .collect();
    if missing.is_empty() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    let e = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .envs(missing.iter().map(|(k, v)| (k, v)))
        .exec();
    // `exec` returns only if it failed: serve with the allocators' defaults.
    tracing::warn!("could not restart with the allocators' settings: {e}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Logs to standard error: warnings and errors by default, `ZIZHI_LOG=info|debug|trace`
    // for more. Each request's errors carry its id (also in the X-Request-Id header).
    let level = match std::env::var("ZIZHI_LOG").as_deref() {
        Ok("trace") => tracing::Level::TRACE,
        Ok("debug") => tracing::Level::DEBUG,
        Ok("info") => tracing::Level::INFO,
        Ok("error") => tracing::Level::ERROR,
        _ => tracing::Level::WARN,
    };
    tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .init();
    if matches!(cli.command, Command::Serve { .. }) {
        set_allocators();
    }
    let lang = cli.lang.unwrap_or_default();
    match run(&cli, lang) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(Failure(t, code)) => {
            let prefix = match lang {
                Lang::Zh => "错误：",
                Lang::En => "error: ",
            };
            eprintln!("{prefix}{}", t.get(lang));
            ExitCode::from(code)
        }
    }
}

fn read_input(path: &str) -> Result<(String, String), Failure> {
    if path == "-" {
        let mut s = String::new();
        std::io::stdin().read_to_string(&mut s).map_err(|e| {
            fail(
                format!("无法读取标准输入：{e}"),
                format!("cannot read standard input: {e}"),
            )
        })?;
        return Ok(("<stdin>".into(), s));
    }
    std::fs::read_to_string(path)
        .map(|s| (path.to_string(), s))
        .map_err(|e| {
            fail(
                format!("无法读取文件 {path}：{e}"),
                format!("cannot read file {path}: {e}"),
            )
        })
}

fn source_failure(e: &SourceError) -> Failure {
    fail(format!("{e}"), format!("{e}"))
}

fn calendar(cli: &Cli) -> Result<HolidayCalendar, Failure> {
    let shipped = HolidayCalendar::shipped();
    match &cli.holidays {
        None => Ok(shipped),
        Some(path) => {
            let (name, src) = read_input(path)?;
            let extra = HolidayCalendar::parse(&name, &src).map_err(|e| source_failure(&e))?;
            Ok(shipped.extended_with(&extra))
        }
    }
}

fn run(cli: &Cli, lang: Lang) -> Result<String, Failure> {
    match &cli.command {
        Command::Serve { place, listen } => server::serve(place, listen.as_deref()),
        Command::Migrate { place } => server::migrate(place),
        Command::Admin { place, command } => server::admin(place, command),
        Command::Audit { place, command } => server::audit(place, command),
        Command::Archive { place, command } => server::archive(place, command),
        Command::Backup { place, to } => server::backup(place, to),
        Command::Restore { place, from } => server::restore(place, from),
        Command::Jobs { place, command } => server::jobs(place, command),
        Command::Demo {
            place,
            bench_cases,
            bench_certificates,
            bench_events,
        } => server::demo(place, *bench_cases, *bench_certificates, *bench_events),
        Command::Certificate { command } => certificate::run(command),
        Command::Assess { profile, format } => {
            let (name, src) = read_input(profile)?;
            let raw = parse_profile_json(&name, &src)?;
            let profile = Profile::parse(&raw).map_err(|e| {
                fail(
                    format!("字段 {} 无效：{}", e.field, e.problem.zh),
                    format!("field {} is invalid: {}", e.field, e.problem.en),
                )
            })?;
            let packs = Pack::shipped();
            let pack = Pack::for_level(&packs, profile.category, profile.level).ok_or_else(|| {
                let have: Vec<String> = packs
                    .iter()
                    .filter(|p| p.category == profile.category)
                    .map(|p| p.level.to_string())
                    .collect();
                fail(
                    format!("字段 level 无效：{} 没有 {} 级的准则包（现有：{}）", profile.category, profile.level, have.join("、")),
                    format!("field level is invalid: no criteria pack for {} level {} (available: {})", profile.category, profile.level, have.join(", ")),
                )
            })?;
            let assessment = assess(&profile, pack, &calendar(cli)?);
            Ok(match format {
                Format::Json => {
                    let mut s = serde_json::to_string_pretty(&assessment.report(lang))
                        .expect("the report serialises");
                    s.push('\n');
                    s
                }
                Format::Text => report::assessment(&assessment, lang),
            })
        }
        Command::Criteria { command } => match command {
            CriteriaCommand::List => Ok(report::pack_list(&Pack::shipped(), lang)),
            CriteriaCommand::Show { pack } => {
                let packs = Pack::shipped();
                let p = Pack::find(&packs, pack).ok_or_else(|| {
                    let ids: Vec<String> = packs.iter().map(|p| p.id()).collect();
                    fail(
                        format!("没有准则包“{pack}”（现有：{}）", ids.join("、")),
                        format!(
                            "no criteria pack \"{pack}\" (available: {})",
                            ids.join(", ")
                        ),
                    )
                })?;
                Ok(report::pack(p, lang))
            }
            CriteriaCommand::Validate { files } => {
                let mut out = String::new();
                let mut problems = Vec::new();
                for f in files {
                    let (name, src) = read_input(f)?;
                    match Pack::parse(&name, &src) {
                        Ok(p) => out.push_str(&match lang {
                            Lang::Zh => format!(
                                "{name}：有效（{}，{} 项要求，{}）\n",
                                p.versioned_id(),
                                p.requirements.len(),
                                report::status_name(p.status, lang)
                            ),
                            Lang::En => format!(
                                "{name}: valid ({}, {} requirements, {})\n",
                                p.versioned_id(),
                                p.requirements.len(),
                                report::status_name(p.status, lang)
                            ),
                        }),
                        Err(e) => problems.push(e.to_string()),
                    }
                }
                if problems.is_empty() {
                    Ok(out)
                } else {
                    print!("{out}");
                    let all = problems.join("\n");
                    Err(fail(
                        format!("准则包无效：\n{all}"),
                        format!("invalid criteria pack:\n{all}"),
                    ))
                }
            }
        },
        Command::Calendar { command } => match command {
            CalendarCommand::Show { year } => Ok(report::calendar(&calendar(cli)?, *year, lang)),
            CalendarCommand::Validate { file } => {
                let (name, src) = read_input(file)?;
                let c = HolidayCalendar::parse(&name, &src).map_err(|e| source_failure(&e))?;
                let years: Vec<String> = c.years().map(|y| y.year.to_string()).collect();
                Ok(match lang {
                    Lang::Zh => format!("{name}：有效（年份：{}）\n", years.join("、")),
                    Lang::En => format!("{name}: valid (years: {})\n", years.join(", ")),
                })
            }
        },
        Command::Deadline { date, months, days } => {
            let d = zizhi_domain::calendar::parse_date(date).ok_or_else(|| {
                fail(
                    format!("日期“{date}”无效（格式 YYYY-MM-DD，且须真实存在）"),
                    format!("date \"{date}\" is invalid (YYYY-MM-DD, and the day must exist)"),
                )
            })?;
            let len = match (months, days) {
                (Some(m), _) => PeriodLength::Months(*m),
                (None, Some(n)) => PeriodLength::Days(*n),
                (None, None) => unreachable!("clap requires one"),
            };
            let cal = calendar(cli)?;
            Ok(report::deadline(
                d,
                len,
                &period_end(d, len, &cal),
                &cal,
                lang,
            ))
        }
    }
}

/// Splits serde_json's " at line L column C" suffix off a message.
fn split_position(msg: &str) -> (String, Option<(String, String)>) {
    if let Some((m, pos)) = msg.rsplit_once(" at line ")
        && let Some((l, c)) = pos.split_once(" column ")
    {
        return (m.to_string(), Some((l.to_string(), c.to_string())));
    }
    (msg.to_string(), None)
}

/// Reads the JSON shape, naming the field of the first problem.
fn parse_profile_json(name: &str, src: &str) -> Result<RawProfile, Failure> {
    let de = &mut serde_json::Deserializer::from_str(src);
    let result: Result<RawProfile, _> = serde_path_to_error::deserialize(de);
    result.map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let (msg, pos) = split_position(&inner.to_string());
        let (at_zh, at_en) = match &pos {
            Some((l, c)) => (
                format!("（{name} 第 {l} 行第 {c} 列）"),
                format!(" ({name} line {l} column {c})"),
            ),
            None => (String::new(), String::new()),
        };
        if inner.is_syntax() || inner.is_eof() {
            return fail(
                format!("{name} 不是合法的 JSON：{msg}{at_zh}"),
                format!("{name} is not valid JSON: {msg}{at_en}"),
            );
        }
        let field = |sub: &str| {
            if path == "." || path.is_empty() {
                sub.to_string()
            } else if path.ends_with(&format!(".{sub}")) || path == sub {
                path.clone()
            } else {
                format!("{path}.{sub}")
            }
        };
        let quoted = |m: &str| m.split('`').nth(1).unwrap_or_default().to_string();
        let names = |m: &str| -> String {
            m.split_once("expected ")
                .map(|(_, x)| x.trim_start_matches("one of ").replace('`', ""))
                .unwrap_or_default()
        };
        // serde's messages, in both languages, with the field's full path.
        let (zh, en) = if msg.starts_with("missing field") {
            let f = field(&quoted(&msg));
            (
                format!("缺少字段 {f}{at_zh}"),
                format!("missing field {f}{at_en}"),
            )
        } else if msg.starts_with("unknown field") {
            let f = field(&quoted(&msg));
            let allowed = names(&msg);
            (
                format!(
                    "未知字段 {f}（允许的字段：{}）{at_zh}",
                    allowed.replace(", ", "、")
                ),
                format!("unknown field {f} (allowed: {allowed}){at_en}"),
            )
        } else {
            let f = if path == "." {
                "(root)".to_string()
            } else {
                path.clone()
            };
            let expected = msg
                .rsplit_once("expected ")
                .map(|(_, x)| x.to_string())
                .unwrap_or_default();
            let want_zh = match expected.as_str() {
                "i64" | "u64" => "整数".to_string(),
                "a boolean" => "布尔值 true 或 false".to_string(),
                "a string" => "字符串".to_string(),
                "a sequence" => "数组".to_string(),
                x if x.starts_with("struct") => "对象".to_string(),
                x => x.to_string(),
            };
            (
                format!("字段 {f} 类型不符，应为{want_zh}（{msg}）{at_zh}"),
                format!("field {f} has the wrong type: {msg}{at_en}"),
            )
        };
        fail(zh, en)
    })
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn verify_cli() {
        super::Cli::command().debug_assert();
    }
}
