//! Server configuration: defaults, then a TOML file, then `ZIZHI_…` environment variables,
//! then command-line flags. Invalid configuration stops start-up with the key named.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

mod cidr;
pub use cidr::Cidr;

/// Everything `zizhi serve` needs.
#[derive(Clone, PartialEq, Eq)]
pub struct Config {
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `sqlite:…` or `postgres://…`; default: `sqlite:<data_dir>/zizhi.db`.
    pub database: Option<String>,
    /// How many short reads run at once on PostgreSQL (1 to 64). Unset: four a core (4 to 16)
    /// with the server on this machine, 16 with it elsewhere
    /// (`zizhi_store::read::default_reads_at_once`).
    pub pg_reads_at_once: Option<u32>,
    /// Mark cookies `Secure` (behind HTTPS). Unset: on, unless the server listens on loopback
    /// only (development, tests) — see [`Config::cookies_secure`].
    pub secure_cookies: Option<bool>,
    pub require_totp_for_staff: bool,
    pub session_idle_minutes: i64,
    /// A session ends this long after sign-in, however active (default 12 h).
    pub session_absolute_hours: i64,
    pub lockout_threshold: i32,
    pub lockout_minutes: i64,
    /// Sign-in attempts per client address per minute.
    pub login_attempts_per_minute: u32,
    /// The `From` of notifications.
    pub mail_from: String,
    /// `smtp://…`, `smtp+starttls://…` or `smtps://…`; without it mail is written as `.eml`
    /// files into `<data_dir>/outbox/`.
    pub smtp_url: Option<String>,
    /// `s3://ACCESS:SECRET@host:port/bucket[?region=…&tls=false]`; without it evidence is kept
    /// in `<data_dir>/evidence/`.
    pub evidence_url: Option<String>,
    /// Certificate numbers: {year} {level} {roman} {category} {serial}.
    pub certificate_number_template: String,
    /// The smallest expert panel that may conclude (guide 5.4 gives no number; default 3).
    pub panel_min_experts: u32,
    /// Days a holder has to rectify after a 限期整改 or a suspension (guide 六 gives no period;
    /// default 30), a Civil Code period over the holiday calendar.
    pub rectification_days: u32,
    /// Days to file an appeal after the decision (guide 七 gives no window; default 60).
    pub appeal_window_days: u32,
    /// Complaints the public form takes from one client address per hour (guide 七 gives no
    /// number; default 5).
    pub complaints_per_hour: u32,
    /// Years a closed case's file is kept (guide 八: six).
    pub retention_years: u32,
    /// Months before expiry at which holders are reminded to renew (default 9, 7, 6).
    pub renewal_reminder_months: Vec<u32>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (addresses or CIDR blocks).
    /// Empty (the default): the connection's own address is the client, and the header is
    /// ignored, since anyone can send it.
    pub trusted_proxies: Vec<Cidr>,
    /// Threads that hash passwords (default: the machine's cores, at most 4).
    pub password_hash_threads: u32,
    /// Sign-ins that may wait for a hashing thread; beyond that the answer is 429 at once.
    pub password_hash_queue: u32,
    /// Single sign-on for staff: the OpenID Connect provider's issuer URL (unset: off).
    pub oidc_issuer: Option<String>,
    pub oidc_client_id: Option<String>,
    pub oidc_client_secret: Option<String>,
    /// This server's callback as registered at the provider: `https://…/login/oidc/callback`.
    pub oidc_redirect_url: Option<String>,
    /// The ID-token claim naming the staff role (a role name, or a list holding one).
    pub oidc_role_claim: String,
    /// The scopes asked for, space-separated (`openid` first).
    pub oidc_scopes: String,
    /// Where the CJK fonts are (Debian `fonts-noto-cjk`: Noto Serif CJK).
    pub font_dir: PathBuf,
    /// The certificate signing key (hex of an SM2 secret); default: `<data_dir>/signing/`,
    /// created at first start.
    pub signing_key_file: Option<PathBuf>,
    /// The issuer printed on certificates.
    pub centre_name: String,
    /// Where applicants post the stamped, bound paper application (the guide's 十、联系方式).
    pub centre_address: String,
    /// The address the public reaches this server at (the QR code on a certificate opens
    /// `{public_url}/verify/{number}`); default `http://{listen}`.
    pub public_url: Option<String>,
}

/// The single sign-on settings in effect (all required ones present).
#[derive(Clone, PartialEq, Eq)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub redirect_url: String,
    pub role_claim: String,
    pub scopes: Vec<String>,
}

/// Without the client secret.
impl std::fmt::Debug for OidcSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcSettings")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("redirect_url", &self.redirect_url)
            .field("role_claim", &self.role_claim)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

fn parse_cidrs(key: &str, items: &[String]) -> Result<Vec<Cidr>, ConfigError> {
    items
        .iter()
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            Cidr::parse(s).ok_or_else(|| {
                bad(
                    key,
                    format!("\"{s}\" is not an address or block like 10.0.0.0/8"),
                )
            })
        })
        .collect()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("zizhi-data"),
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database: None,
            pg_reads_at_once: None,
            secure_cookies: None,
            require_totp_for_staff: true,
            session_idle_minutes: 8 * 60,
            session_absolute_hours: 12,
            lockout_threshold: 5,
            lockout_minutes: 15,
            login_attempts_per_minute: 20,
            mail_from: "资质认定 <noreply@localhost.invalid>".into(),
            smtp_url: None,
            evidence_url: None,
            certificate_number_template: zizhi_domain::certificate::DEFAULT_TEMPLATE.into(),
            panel_min_experts: zizhi_domain::panel::DEFAULT_PANEL_MIN_EXPERTS as u32,
            rectification_days: zizhi_domain::sanction::DEFAULT_RECTIFICATION_DAYS,
            appeal_window_days: zizhi_domain::appeal::DEFAULT_APPEAL_WINDOW_DAYS,
            complaints_per_hour: zizhi_app::complaints::DEFAULT_COMPLAINTS_PER_HOUR,
            retention_years: zizhi_app::archive::DEFAULT_RETENTION_YEARS,
            renewal_reminder_months: zizhi_app::renewals::DEFAULT_REMINDER_MONTHS.to_vec(),
            trusted_proxies: Vec::new(),
            password_hash_threads: zizhi_app::secrets::default_hash_threads() as u32,
            password_hash_queue: zizhi_app::secrets::DEFAULT_HASH_QUEUE as u32,
            oidc_issuer: None,
            oidc_client_id: None,
            oidc_client_secret: None,
            oidc_redirect_url: None,
            oidc_role_claim: "zizhi_role".into(),
            oidc_scopes: "openid profile email".into(),
            font_dir: PathBuf::from(zizhi_docs_font_dir()),
            signing_key_file: None,
            centre_name: "中国信息安全测评中心".into(),
            centre_address: zizhi_app::documents::certificate::GUIDE_ADDRESS.into(),
            public_url: None,
        }
    }
}

/// Without the secrets in the SMTP and evidence-store addresses.
impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |u: &Option<String>| u.as_ref().map(|_| "«redacted»");
        let oidc_secret = redacted(&self.oidc_client_secret);
        f.debug_struct("Config")
            .field("data_dir", &self.data_dir)
            .field("listen", &self.listen)
            .field("database", &self.database)
            .field("pg_reads_at_once", &self.pg_reads_at_once)
            .field("smtp_url", &redacted(&self.smtp_url))
            .field("evidence_url", &redacted(&self.evidence_url))
            .field(
                "certificate_number_template",
                &self.certificate_number_template,
            )
            .field("panel_min_experts", &self.panel_min_experts)
            .field("rectification_days", &self.rectification_days)
            .field("appeal_window_days", &self.appeal_window_days)
            .field("complaints_per_hour", &self.complaints_per_hour)
            .field("retention_years", &self.retention_years)
            .field("renewal_reminder_months", &self.renewal_reminder_months)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("oidc_issuer", &self.oidc_issuer)
            .field("oidc_client_secret", &oidc_secret)
            .finish_non_exhaustive()
    }
}

/// A configuration problem, naming the key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("configuration key `{key}`: {problem}")]
pub struct ConfigError {
    pub key: String,
    pub problem: String,
}

fn bad(key: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        key: key.to_string(),
        problem: problem.into(),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data_dir: Option<PathBuf>,
    listen: Option<String>,
    database: Option<String>,
    pg_reads_at_once: Option<u32>,
    secure_cookies: Option<bool>,
    require_totp_for_staff: Option<bool>,
    session_idle_minutes: Option<i64>,
    session_absolute_hours: Option<i64>,
    lockout_threshold: Option<i32>,
    lockout_minutes: Option<i64>,
    login_attempts_per_minute: Option<u32>,
    mail_from: Option<String>,
    smtp_url: Option<String>,
    evidence_url: Option<String>,
    certificate_number_template: Option<String>,
    panel_min_experts: Option<u32>,
    rectification_days: Option<u32>,
    appeal_window_days: Option<u32>,
    complaints_per_hour: Option<u32>,
    retention_years: Option<u32>,
    renewal_reminder_months: Option<Vec<u32>>,
    trusted_proxies: Option<Vec<String>>,
    password_hash_threads: Option<u32>,
    password_hash_queue: Option<u32>,
    oidc_issuer: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    oidc_redirect_url: Option<String>,
    oidc_role_claim: Option<String>,
    oidc_scopes: Option<String>,
    font_dir: Option<PathBuf>,
    signing_key_file: Option<PathBuf>,
    centre_name: Option<String>,
    centre_address: Option<String>,
    public_url: Option<String>,
}

/// Debian's `fonts-noto-cjk` directory.
fn zizhi_docs_font_dir() -> &'static str {
    "/usr/share/fonts/opentype/noto"
}

const KEYS: [&str; 35] = [
    "font_dir",
    "signing_key_file",
    "centre_name",
    "centre_address",
    "public_url",
    "oidc_issuer",
    "oidc_client_id",
    "oidc_client_secret",
    "oidc_redirect_url",
    "oidc_role_claim",
    "oidc_scopes",
    "trusted_proxies",
    "password_hash_threads",
    "password_hash_queue",
    "session_absolute_hours",
    "panel_min_experts",
    "rectification_days",
    "appeal_window_days",
    "complaints_per_hour",
    "retention_years",
    "renewal_reminder_months",
    "certificate_number_template",
    "evidence_url",
    "mail_from",
    "smtp_url",
    "data_dir",
    "listen",
    "database",
    "pg_reads_at_once",
    "secure_cookies",
    "require_totp_for_staff",
    "session_idle_minutes",
    "lockout_threshold",
    "lockout_minutes",
    "login_attempts_per_minute",
];

impl Config {
    /// Loads defaults ← `file` (if given) ← environment (`ZIZHI_<KEY>` upper-case).
    pub fn load(
        file: Option<&Path>,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigError> {
        let mut c = Config::default();
        if let Some(path) = file {
            let src = std::fs::read_to_string(path)
                .map_err(|e| bad("config", format!("cannot read {}: {e}", path.display())))?;
            let f: FileConfig = toml::from_str(&src).map_err(|e| {
                let key = e
                    .message()
                    .split('`')
                    .nth(1)
                    .unwrap_or("config")
                    .to_string();
                bad(&key, format!("{} ({})", e.message().trim(), path.display()))
            })?;
            if let Some(v) = f.data_dir {
                c.data_dir = v;
            }
            if let Some(v) = f.listen {
                c.listen = parse_listen("listen", &v)?;
            }
            if let Some(v) = f.database {
                c.database = Some(v);
            }
            if f.pg_reads_at_once.is_some() {
                c.pg_reads_at_once = f.pg_reads_at_once;
            }
            if let Some(v) = f.secure_cookies {
                c.secure_cookies = Some(v);
            }
            if let Some(v) = f.require_totp_for_staff {
                c.require_totp_for_staff = v;
            }
            if let Some(v) = f.session_idle_minutes {
                c.session_idle_minutes = v;
            }
            if let Some(v) = f.session_absolute_hours {
                c.session_absolute_hours = v;
            }
            if let Some(v) = f.lockout_threshold {
                c.lockout_threshold = v;
            }
            if let Some(v) = f.lockout_minutes {
                c.lockout_minutes = v;
            }
            if let Some(v) = f.login_attempts_per_minute {
                c.login_attempts_per_minute = v;
            }
            if let Some(v) = f.mail_from {
                c.mail_from = v;
            }
            if let Some(v) = f.smtp_url {
                c.smtp_url = Some(v);
            }
            if let Some(v) = f.evidence_url {
                c.evidence_url = Some(v);
            }
            if let Some(v) = f.certificate_number_template {
                c.certificate_number_template = v;
            }
            if let Some(v) = f.panel_min_experts {
                c.panel_min_experts = v;
            }
            if let Some(v) = f.rectification_days {
                c.rectification_days = v;
            }
            if let Some(v) = f.appeal_window_days {
                c.appeal_window_days = v;
            }
            if let Some(v) = f.complaints_per_hour {
                c.complaints_per_hour = v;
            }
            if let Some(v) = f.retention_years {
                c.retention_years = v;
            }
            if let Some(v) = f.renewal_reminder_months {
                c.renewal_reminder_months = v;
            }
            if let Some(v) = f.trusted_proxies {
                c.trusted_proxies = parse_cidrs("trusted_proxies", &v)?;
            }
            if let Some(v) = f.password_hash_threads {
                c.password_hash_threads = v;
            }
            if let Some(v) = f.password_hash_queue {
                c.password_hash_queue = v;
            }
            if f.oidc_issuer.is_some() {
                c.oidc_issuer = f.oidc_issuer;
            }
            if f.oidc_client_id.is_some() {
                c.oidc_client_id = f.oidc_client_id;
            }
            if f.oidc_client_secret.is_some() {
                c.oidc_client_secret = f.oidc_client_secret;
            }
            if f.oidc_redirect_url.is_some() {
                c.oidc_redirect_url = f.oidc_redirect_url;
            }
            if let Some(v) = f.oidc_role_claim {
                c.oidc_role_claim = v;
            }
            if let Some(v) = f.oidc_scopes {
                c.oidc_scopes = v;
            }
            if let Some(v) = f.font_dir {
                c.font_dir = v;
            }
            if f.signing_key_file.is_some() {
                c.signing_key_file = f.signing_key_file;
            }
            if let Some(v) = f.centre_name {
                c.centre_name = v;
            }
            if let Some(v) = f.centre_address {
                c.centre_address = v;
            }
            if f.public_url.is_some() {
                c.public_url = f.public_url;
            }
        }
        for key in KEYS {
            let var = format!("ZIZHI_{}", key.to_ascii_uppercase());
            let Some(v) = env(&var) else { continue };
            let num = |k: &str| {
                v.trim()
                    .parse::<i64>()
                    .map_err(|_| bad(k, format!("{var}=\"{v}\" is not a whole number")))
            };
            // A count or number of days: a whole number, not negative.
            let count = |k: &str| {
                u32::try_from(num(k)?).map_err(|_| bad(k, format!("{var}=\"{v}\" is negative")))
            };
            let flag = |k: &str| match v.trim() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => Err(bad(k, format!("{var}=\"{v}\" is not true or false"))),
            };
            match key {
                "data_dir" => c.data_dir = PathBuf::from(v.clone()),
                "listen" => c.listen = parse_listen(key, &v)?,
                "database" => c.database = Some(v.clone()),
                "pg_reads_at_once" => c.pg_reads_at_once = Some(count(key)?),
                "secure_cookies" => c.secure_cookies = Some(flag(key)?),
                "require_totp_for_staff" => c.require_totp_for_staff = flag(key)?,
                "session_idle_minutes" => c.session_idle_minutes = num(key)?,
                "session_absolute_hours" => c.session_absolute_hours = num(key)?,
                "lockout_threshold" => c.lockout_threshold = num(key)? as i32,
                "lockout_minutes" => c.lockout_minutes = num(key)?,
                "login_attempts_per_minute" => c.login_attempts_per_minute = num(key)? as u32,
                "mail_from" => c.mail_from = v.clone(),
                "smtp_url" => c.smtp_url = Some(v.clone()),
                "evidence_url" => c.evidence_url = Some(v.clone()),
                "certificate_number_template" => c.certificate_number_template = v.clone(),
                "panel_min_experts" => c.panel_min_experts = count(key)?,
                "rectification_days" => c.rectification_days = count(key)?,
                "renewal_reminder_months" => {
                    let mut months = Vec::new();
                    for part in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
                        months.push(part.parse::<u32>().map_err(|_| {
                            bad(
                                key,
                                format!("{var}=\"{v}\" is not a list of months, e.g. 9,7,6"),
                            )
                        })?);
                    }
                    c.renewal_reminder_months = months;
                }
                "appeal_window_days" => c.appeal_window_days = count(key)?,
                "complaints_per_hour" => c.complaints_per_hour = count(key)?,
                "retention_years" => c.retention_years = count(key)?,
                "trusted_proxies" => {
                    let items: Vec<String> = v.split(',').map(str::to_string).collect();
                    c.trusted_proxies = parse_cidrs(key, &items)?;
                }
                "password_hash_threads" => c.password_hash_threads = count(key)?,
                "password_hash_queue" => c.password_hash_queue = count(key)?,
                "oidc_issuer" => c.oidc_issuer = Some(v.clone()),
                "oidc_client_id" => c.oidc_client_id = Some(v.clone()),
                "oidc_client_secret" => c.oidc_client_secret = Some(v.clone()),
                "oidc_redirect_url" => c.oidc_redirect_url = Some(v.clone()),
                "oidc_role_claim" => c.oidc_role_claim = v.clone(),
                "oidc_scopes" => c.oidc_scopes = v.clone(),
                "font_dir" => c.font_dir = PathBuf::from(v.clone()),
                "signing_key_file" => c.signing_key_file = Some(PathBuf::from(v.clone())),
                "centre_name" => c.centre_name = v.clone(),
                "centre_address" => c.centre_address = v.clone(),
                "public_url" => c.public_url = Some(v.clone()),
                _ => unreachable!("KEYS is exhaustive"),
            }
        }
        c.validate()?;
        Ok(c)
    }

    /// Whether cookies carry `Secure`: as set, or — when unset — on unless the server listens on
    /// a loopback address only (a centre's server is reached over HTTPS).
    pub fn cookies_secure(&self) -> bool {
        self.secure_cookies
            .unwrap_or(!self.listen.ip().is_loopback())
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=24 * 30).contains(&self.session_absolute_hours) {
            return Err(bad("session_absolute_hours", "must be 1 to 720 (30 days)"));
        }
        if !(5..=7 * 24 * 60).contains(&self.session_idle_minutes) {
            return Err(bad("session_idle_minutes", "must be 5 to 10080 (one week)"));
        }
        if !(1..=100).contains(&self.lockout_threshold) {
            return Err(bad("lockout_threshold", "must be 1 to 100"));
        }
        if !(1..=24 * 60).contains(&self.lockout_minutes) {
            return Err(bad("lockout_minutes", "must be 1 to 1440"));
        }
        zizhi_app::notify::check_from(&self.mail_from).map_err(|_| {
            bad(
                "mail_from",
                format!(
                    "\"{}\" is not a mailbox like 资质认定 <noreply@example.gov.cn>",
                    self.mail_from
                ),
            )
        })?;
        if let Some(u) = &self.smtp_url {
            zizhi_app::notify::parse_smtp_url(u).map_err(|e| bad("smtp_url", e))?;
        }
        zizhi_domain::certificate::check_template(&self.certificate_number_template)
            .map_err(|e| bad("certificate_number_template", e))?;
        if let Some(u) = &self.evidence_url {
            zizhi_store::files::S3Config::parse(u).map_err(|e| bad("evidence_url", e))?;
        }
        if let Some(n) = self.pg_reads_at_once
            && !(1..=zizhi_store::read::MAX_READS_AT_ONCE as u32).contains(&n)
        {
            return Err(bad(
                "pg_reads_at_once",
                format!("must be 1 to {}", zizhi_store::read::MAX_READS_AT_ONCE),
            ));
        }
        if !(1..=99).contains(&self.panel_min_experts) {
            return Err(bad("panel_min_experts", "must be 1 to 99"));
        }
        if !(1..=365).contains(&self.rectification_days) {
            return Err(bad("rectification_days", "must be 1 to 365"));
        }
        if !(1..=3650).contains(&self.appeal_window_days) {
            return Err(bad("appeal_window_days", "must be 1 to 3650"));
        }
        if !(1..=10_000).contains(&self.complaints_per_hour) {
            return Err(bad("complaints_per_hour", "must be 1 to 10000"));
        }
        // The guide keeps files six years (八); a shorter period would break it.
        if !(6..=100).contains(&self.retention_years) {
            return Err(bad(
                "retention_years",
                "must be 6 to 100 (the guide keeps project files six years, 8)",
            ));
        }
        if self
            .renewal_reminder_months
            .iter()
            .any(|m| !(1..=36).contains(m))
        {
            return Err(bad(
                "renewal_reminder_months",
                "each must be 1 to 36 months (an empty list sends none)",
            ));
        }
        self.oidc()?;
        if let Some(u) = &self.public_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(bad("public_url", format!("\"{u}\" is not an http(s) URL")));
        }
        if self.centre_name.trim().is_empty() {
            return Err(bad("centre_name", "must not be empty"));
        }
        if self.centre_address.trim().is_empty() {
            return Err(bad("centre_address", "must not be empty"));
        }
        if !(1..=64).contains(&self.password_hash_threads) {
            return Err(bad("password_hash_threads", "must be 1 to 64"));
        }
        if !(1..=10_000).contains(&self.password_hash_queue) {
            return Err(bad("password_hash_queue", "must be 1 to 10000"));
        }
        if self.login_attempts_per_minute == 0 {
            return Err(bad("login_attempts_per_minute", "must be at least 1"));
        }
        if let Some(db) = &self.database
            && !(db.starts_with("sqlite:")
                || db.starts_with("postgres://")
                || db.starts_with("postgresql://"))
        {
            return Err(bad(
                "database",
                format!("\"{db}\" is neither sqlite:… nor postgres://…"),
            ));
        }
        Ok(())
    }

    /// Single sign-on, when configured: issuer, client id and redirect URL are all needed, and
    /// the URLs must be http(s).
    pub fn oidc(&self) -> Result<Option<OidcSettings>, ConfigError> {
        let Some(issuer) = &self.oidc_issuer else {
            return Ok(None);
        };
        let url_ok = |u: &str| u.starts_with("https://") || u.starts_with("http://");
        if !url_ok(issuer) {
            return Err(bad(
                "oidc_issuer",
                format!("\"{issuer}\" is not an http(s) URL"),
            ));
        }
        let client_id = self
            .oidc_client_id
            .clone()
            .filter(|c| !c.trim().is_empty())
            .ok_or_else(|| bad("oidc_client_id", "needed with oidc_issuer"))?;
        let redirect_url = self
            .oidc_redirect_url
            .clone()
            .ok_or_else(|| bad("oidc_redirect_url", "needed with oidc_issuer"))?;
        if !url_ok(&redirect_url) || !redirect_url.ends_with("/login/oidc/callback") {
            return Err(bad(
                "oidc_redirect_url",
                format!("\"{redirect_url}\" must be this server's http(s)://…/login/oidc/callback"),
            ));
        }
        let scopes: Vec<String> = self
            .oidc_scopes
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !scopes.iter().any(|s| s == "openid") {
            return Err(bad("oidc_scopes", "must include openid"));
        }
        if self.oidc_role_claim.trim().is_empty() {
            return Err(bad("oidc_role_claim", "must name a claim"));
        }
        Ok(Some(OidcSettings {
            issuer: issuer.clone(),
            client_id,
            client_secret: self.oidc_client_secret.clone(),
            redirect_url,
            role_claim: self.oidc_role_claim.trim().to_string(),
            scopes,
        }))
    }

    /// The certificate documents' settings: the signing key (read, or created at first start
    /// in the data directory), the fonts, the centre's name and the public address.
    pub fn documents(&self) -> Result<zizhi_app::documents::certificate::DocumentSettings, String> {
        let signer =
            zizhi_app::signing::Signer::open(&self.data_dir, self.signing_key_file.as_deref())
                .map_err(|e| format!("signing key: {e}"))?;
        let mut d = zizhi_app::documents::certificate::DocumentSettings::new(
            self.font_dir.clone(),
            self.centre_name.clone(),
            self.public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen)),
            signer,
        );
        d.centre_address = self.centre_address.clone();
        Ok(d)
    }

    /// The database URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(u) => u.clone(),
            None => format!("sqlite:{}", self.data_dir.join("zizhi.db").display()),
        }
    }

    /// `pg_reads_at_once` for [`zizhi_store::Db::connect_with`].
    pub fn pg_reads_at_once(&self) -> Option<usize> {
        self.pg_reads_at_once.map(|n| n as usize)
    }

    pub fn app_config(&self) -> zizhi_app::AppConfig {
        zizhi_app::AppConfig {
            lockout_threshold: self.lockout_threshold,
            lockout_seconds: self.lockout_minutes * 60,
            session_idle_seconds: self.session_idle_minutes * 60,
            session_absolute_seconds: self.session_absolute_hours * 3600,
            max_evidence_bytes: 1 << 30,
            calendar: zizhi_domain::calendar::HolidayCalendar::shipped(),
            certificate_template: self.certificate_number_template.clone(),
            panel_min_experts: self.panel_min_experts as usize,
            rectification_days: self.rectification_days,
            appeal_window_days: self.appeal_window_days,
            complaints_per_hour: self.complaints_per_hour,
            retention_years: self.retention_years,
            renewal_reminder_months: self.renewal_reminder_months.clone(),
            mail: zizhi_app::notify::MailConfig {
                from: self.mail_from.clone(),
                transport: match &self.smtp_url {
                    Some(u) => zizhi_app::notify::parse_smtp_url(u).expect("validated"),
                    None => zizhi_app::notify::Transport::Folder(self.data_dir.join("outbox")),
                },
            },
            require_totp_for_staff: self.require_totp_for_staff,
            totp_issuer: "zizhi".into(),
        }
    }
}

fn parse_listen(key: &str, v: &str) -> Result<SocketAddr, ConfigError> {
    v.trim().parse().map_err(|_| {
        bad(
            key,
            format!("\"{v}\" is not an address like 127.0.0.1:8080"),
        )
    })
}

impl Config {
    /// Opens the evidence store in effect.
    pub async fn evidence_store(&self) -> Result<zizhi_store::files::FileStore, String> {
        match &self.evidence_url {
            Some(u) => {
                let c = zizhi_store::files::S3Config::parse(u)
                    .map_err(|e| format!("evidence_url: {e}"))?;
                zizhi_store::files::FileStore::s3(&c).map_err(|e| format!("evidence store: {e}"))
            }
            None => zizhi_store::files::FileStore::open(&self.data_dir.join("evidence"))
                .await
                .map_err(|e| format!("evidence store: {e}")),
        }
    }
}

#[cfg(test)]
mod tests;
