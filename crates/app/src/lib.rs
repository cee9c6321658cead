//! zizhi's use cases. Each public function of [`App`] is one action: it checks the policy
//! ([`policy::allowed`], the only place that decides who may do what), runs its change in one
//! transaction and writes the audit event in that same transaction.

pub mod accounts;
pub mod announcements;
pub mod appeals;
pub mod archive;
mod audit;
pub use audit::{AuditPage, AuditQuery};
pub mod backup;
pub mod bag;
pub mod cases;
pub mod clock;
pub mod complaints;
pub mod demo;
pub mod documents;
pub mod evidence;
pub mod jobs;
pub mod limits;
pub mod notify;
pub mod organizations;
pub mod passwords;
pub mod policy;
pub mod registration;
pub mod renewals;
pub mod reset;
pub mod sanctions;
pub mod secrets;
pub mod signin;
pub mod signing;
pub mod sso;
pub mod totp;

use std::sync::Arc;

use zizhi_domain::lang::Text;
use zizhi_store::files::FileStore;
use zizhi_store::{Db, StoreError};

pub use policy::{Action, Actor};

/// Settings the use cases need.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Failed sign-ins from one address for one name before that pair is locked.
    pub lockout_threshold: i32,
    /// How long the first lock lasts, in seconds; each further failure after a lock doubles
    /// it, up to a day.
    pub lockout_seconds: i64,
    /// Idle lifetime of a session, in seconds.
    pub session_idle_seconds: i64,
    /// Absolute lifetime of a session, however active (a centre setting, default 12 hours).
    pub session_absolute_seconds: i64,
    /// The largest evidence file accepted, in bytes.
    pub max_evidence_bytes: u64,
    /// Staff must enrol a TOTP second factor before doing anything else.
    pub require_totp_for_staff: bool,
    /// The issuer shown in authenticator apps.
    pub totp_issuer: String,
    /// Where e-mail goes.
    pub mail: notify::MailConfig,
    /// The statutory holiday calendar deadlines are computed over.
    pub calendar: zizhi_domain::calendar::HolidayCalendar,
    /// Certificate numbers (placeholders {year} {level} {roman} {category} {serial}).
    pub certificate_template: String,
    /// The smallest expert panel (专家组) that may conclude. The guide gives no number (5.4):
    /// a centre setting, default 3.
    pub panel_min_experts: usize,
    /// Days a holder has to rectify (限期整改, 暂停证书). The guide (六) gives no period: a
    /// centre setting, default 30.
    pub rectification_days: u32,
    /// Days to file an appeal after the decision (申诉, 七). The guide gives no window: a
    /// centre setting, default 60.
    pub appeal_window_days: u32,
    /// Months before expiry at which holders are reminded to apply for maintenance (四):
    /// default 9, 7 and 6.
    pub renewal_reminder_months: Vec<u32>,
    /// Complaints the public form accepts from one client address per hour (投诉, 七). The
    /// guide gives no number: a centre setting, default 5.
    pub complaints_per_hour: u32,
    /// Years a closed case's file is kept from archiving (档案, guide 八: 六年).
    pub retention_years: u32,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            lockout_threshold: 5,
            lockout_seconds: 15 * 60,
            session_idle_seconds: 8 * 3600,
            session_absolute_seconds: 12 * 3600,
            max_evidence_bytes: 1 << 30,
            require_totp_for_staff: true,
            totp_issuer: "zizhi".into(),
            mail: notify::MailConfig::default(),
            calendar: zizhi_domain::calendar::HolidayCalendar::shipped(),
            certificate_template: zizhi_domain::certificate::DEFAULT_TEMPLATE.into(),
            panel_min_experts: zizhi_domain::panel::DEFAULT_PANEL_MIN_EXPERTS,
            rectification_days: zizhi_domain::sanction::DEFAULT_RECTIFICATION_DAYS,
            appeal_window_days: zizhi_domain::appeal::DEFAULT_APPEAL_WINDOW_DAYS,
            renewal_reminder_months: renewals::DEFAULT_REMINDER_MONTHS.to_vec(),
            complaints_per_hour: complaints::DEFAULT_COMPLAINTS_PER_HOUR,
            retention_years: archive::DEFAULT_RETENTION_YEARS,
        }
    }
}

/// The application: the database, the evidence store and settings. Cheap to clone.
#[derive(Debug, Clone)]
pub struct App {
    /// Private: the web and the command line reach data only through the use cases.
    db: Db,
    pub files: FileStore,
    pub config: Arc<AppConfig>,
    /// Today and now in China time; tests and the demo set it.
    pub clock: clock::Clock,
    /// Fonts, the centre's name, the public address and the signing key of certificates.
    pub documents: Arc<documents::certificate::DocumentSettings>,
    /// The dashboard last computed, with the case version and the day it was computed for.
    dashboard: cases::dashboard::DashboardCache,
    /// What each scheduled job last read when it left nothing to do ([`jobs::Unchanged`]).
    jobs: jobs::Unchanged,
}

/// Why an action did not happen. Every variant carries what the user needs to fix it.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Not signed in, or the credentials are wrong (deliberately vague).
    #[error("unauthenticated")]
    Unauthenticated,
    /// The password was right; a TOTP code is needed.
    #[error("second factor required")]
    TotpRequired,
    /// Too much work queued (password hashing): try again shortly (HTTP 429).
    #[error("busy")]
    Busy,
    /// Over a rate limit (the public complaint form): what the limit is (HTTP 429).
    #[error("too frequent: {}", .0.en)]
    TooFrequent(Text),
    #[error("forbidden")]
    Forbidden,
    #[error("not found: {0}")]
    NotFound(&'static str),
    /// Destroyed after its retention (档案, 八): HTTP 410.
    #[error("disposed of after retention")]
    Disposed,
    /// Bad input: the field and the problem.
    #[error("invalid {field}: {}", problem.en)]
    Invalid { field: String, problem: Text },
    /// The thing exists already.
    #[error("conflict on {field}")]
    Conflict { field: String },
    /// Not possible from the case's current stage (HTTP 409, naming it).
    #[error("not possible in stage {}", current.en)]
    WrongStage { current: Text },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl AppError {
    pub fn invalid(field: &str, zh: impl Into<String>, en: impl Into<String>) -> AppError {
        AppError::Invalid {
            field: field.to_string(),
            problem: Text::new(zh, en),
        }
    }

    /// Store conflicts become field conflicts; other store errors stay internal.
    pub(crate) fn from_store(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict(field) => AppError::Conflict { field },
            other => AppError::Store(other),
        }
    }
}

pub type Result<T> = std::result::Result<T, AppError>;

impl App {
    pub fn new(db: Db, files: FileStore, config: AppConfig) -> App {
        App {
            db,
            files,
            config: Arc::new(config),
            clock: clock::Clock::system(),
            documents: Arc::new(documents::certificate::DocumentSettings::default()),
            dashboard: Default::default(),
            jobs: Default::default(),
        }
    }

    /// The same application with these document settings (the server: the data directory's
    /// signing key, the configured fonts, name and address).
    pub fn with_documents(mut self, d: documents::certificate::DocumentSettings) -> App {
        self.documents = Arc::new(d);
        self
    }

    /// The database behind the use cases, for tests and maintenance tools only (pages and API
    /// handlers go through the use cases).
    #[doc(hidden)]
    pub fn store_for_tests(&self) -> &Db {
        &self.db
    }

    /// `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        self.db.backend()
    }

    /// Deletes expired sessions (the server's housekeeping).
    pub async fn purge_expired_sessions(&self) -> Result<()> {
        zizhi_store::sessions::delete_expired(&self.db).await?;
        Ok(())
    }

    /// Whether the demo has been seeded (its administrator exists).
    pub async fn demo_seeded(&self) -> Result<bool> {
        Ok(zizhi_store::users::by_username(&self.db, "demo-admin")
            .await?
            .is_some())
    }

    /// The registered organisation with this USCC, if any (the command line's user creation).
    pub async fn organization_by_uscc(
        &self,
        uscc: &str,
    ) -> Result<Option<zizhi_store::organizations::Organization>> {
        Ok(zizhi_store::organizations::list(&self.db)
            .await?
            .into_iter()
            .find(|o| o.uscc == uscc))
    }

    /// Denies unless the policy allows `action` to `actor`.
    pub fn authorize(&self, actor: &Actor, action: &Action) -> Result<()> {
        if policy::allowed(actor, action) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
}
