//! E-mail notifications. Use cases queue messages in their own transaction
//! ([`zizhi_store::outbox::enqueue`]); [`App::deliver_due`] claims due messages and sends each
//! through SMTP when configured, otherwise writes it as a `.eml` file into the outbox folder.
//! Failures are retried with exponential back-off; every attempt is audited.

use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use zizhi_store::now_us;
use zizhi_store::outbox::{self, Mail};

use crate::audit::By;
use crate::{App, AppError, Result};

pub mod messages;

/// How mail leaves.
#[derive(Clone, PartialEq, Eq)]
pub enum Transport {
    /// Write each message as `<id>-<message-id>.eml` into this folder.
    Folder(PathBuf),
    /// An SMTP server.
    Smtp {
        host: String,
        port: u16,
        security: SmtpSecurity,
        credentials: Option<(String, String)>,
    },
}

/// Without the SMTP password.
impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Folder(p) => f.debug_tuple("Folder").field(p).finish(),
            Transport::Smtp {
                host,
                port,
                security,
                credentials,
            } => f
                .debug_struct("Smtp")
                .field("host", host)
                .field("port", port)
                .field("security", security)
                .field("user", &credentials.as_ref().map(|(u, _)| u))
                .finish_non_exhaustive(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (a local relay).
    None,
    StartTls,
    /// Implicit TLS (port 465).
    Tls,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailConfig {
    /// The `From` mailbox, e.g. `资质认定 <noreply@example.gov.cn>`.
    pub from: String,
    pub transport: Transport,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            from: "zizhi <noreply@localhost.invalid>".into(),
            transport: Transport::Folder(PathBuf::from("zizhi-data/outbox")),
        }
    }
}

/// Parses `smtp://[user:pass@]host[:port]`, `smtp+starttls://…` or `smtps://…`.
pub fn parse_smtp_url(url: &str) -> std::result::Result<Transport, String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or("expected smtp://, smtp+starttls:// or smtps://")?;
    let (security, default_port) = match scheme {
        "smtp" => (SmtpSecurity::None, 25),
        "smtp+starttls" => (SmtpSecurity::StartTls, 587),
        "smtps" => (SmtpSecurity::Tls, 465),
        other => return Err(format!("unknown scheme {other}")),
    };
    let (creds, hostport) = match rest.rsplit_once('@') {
        Some((c, h)) => {
            let (u, p) = c
                .split_once(':')
                .ok_or("credentials must be user:password")?;
            (Some((u.to_string(), p.to_string())), h)
        }
        None => (None, rest),
    };
    let hostport = hostport.trim_end_matches('/');
    let (host, port) = match hostport.rsplit_once(':') {
        Some((h, p)) => (
            h.to_string(),
            p.parse::<u16>().map_err(|_| format!("bad port {p}"))?,
        ),
        None => (hostport.to_string(), default_port),
    };
    if host.is_empty() {
        return Err("missing host".into());
    }
    Ok(Transport::Smtp {
        host,
        port,
        security,
        credentials: creds,
    })
}

/// What one delivery round did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub retried: usize,
    pub given_up: usize,
}

impl std::ops::AddAssign for Delivery {
    fn add_assign(&mut self, d: Delivery) {
        self.sent += d.sent;
        self.retried += d.retried;
        self.given_up += d.given_up;
    }
}

/// Attempts before a message is given up.
pub const MAX_ATTEMPTS: i32 = 8;

/// The wait before attempt `n + 1`: 30 s doubling, at most an hour.
pub fn backoff(attempts_so_far: i32) -> Duration {
    let secs = 30u64.saturating_mul(1u64 << attempts_so_far.clamp(0, 20) as u32);
    Duration::from_secs(secs.min(3600))
}

fn build(from: &str, m: &Mail) -> std::result::Result<Message, String> {
    let from: Mailbox = from.parse().map_err(|e| format!("from: {e}"))?;
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|e| format!("recipient {}: {e}", m.recipient))?;
    let files: Vec<zizhi_store::outbox::Attachment> =
        serde_json::from_str(&m.attachments).map_err(|e| format!("attachments: {e}"))?;
    let builder = Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(None)
        .date_now();
    if files.is_empty() {
        return builder
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone())
            .map_err(|e| e.to_string());
    }
    let mut parts = lettre::message::MultiPart::mixed().singlepart(
        lettre::message::SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .body(m.body.clone()),
    );
    for f in files {
        let media: ContentType = f
            .media_type
            .parse()
            .map_err(|e| format!("attachment {}: {e}", f.name))?;
        let bytes = if f.base64 {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD
                .decode(f.content.as_bytes())
                .map_err(|e| format!("attachment {}: {e}", f.name))?
        } else {
            f.content.into_bytes()
        };
        parts = parts.singlepart(lettre::message::Attachment::new(f.name).body(bytes, media));
    }
    builder.multipart(parts).map_err(|e| e.to_string())
}

fn message_id(msg: &Message) -> String {
    msg.headers()
        .get_raw("Message-ID")
        .unwrap_or_default()
        .to_string()
}

async fn send(transport: &Transport, id: i64, msg: &Message) -> std::result::Result<(), String> {
    match transport {
        Transport::Folder(dir) => {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| e.to_string())?;
            let mid: String = message_id(msg)
                .chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect();
            let name = format!("{id:08}-{mid}.eml");
            let tmp = dir.join(format!(".{name}.tmp"));
            tokio::fs::write(&tmp, msg.formatted())
                .await
                .map_err(|e| e.to_string())?;
            tokio::fs::rename(&tmp, dir.join(name))
                .await
                .map_err(|e| e.to_string())
        }
        Transport::Smtp {
            host,
            port,
            security,
            credentials,
        } => {
            let builder = match security {
                SmtpSecurity::None => {
                    AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str())
                }
                SmtpSecurity::StartTls => {
                    AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                        .map_err(|e| e.to_string())?
                }
                SmtpSecurity::Tls => {
                    AsyncSmtpTransport::<Tokio1Executor>::relay(host).map_err(|e| e.to_string())?
                }
            };
            let mut builder = builder.port(*port).timeout(Some(Duration::from_secs(30)));
            if let Some((u, p)) = credentials {
                builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
            }
            builder
                .build()
                .send(msg.clone())
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    }
}

impl App {
    /// Claims and sends the due messages (one round). `worker` names this process in claims.
    pub async fn deliver_due(&self, worker: &str) -> Result<Delivery> {
        let claimed = outbox::claim(&self.db, worker, 20, now_us() + 120_000_000).await?;
        let mut d = Delivery::default();
        let transport_name = match &self.config.mail.transport {
            Transport::Folder(_) => "outbox-folder",
            Transport::Smtp { .. } => "smtp",
        };
        for m in claimed {
            let outcome = match build(&self.config.mail.from, &m) {
                Ok(msg) => send(&self.config.mail.transport, m.id, &msg)
                    .await
                    .map(|_| message_id(&msg)),
                Err(e) => Err(e),
            };
            let mut tx = self.db.begin().await?;
            let (action, summary) = match &outcome {
                Ok(mid) => {
                    outbox::mark_sent(&mut tx, m.id, mid).await?;
                    d.sent += 1;
                    (
                        "mail.sent",
                        json!({"to": m.recipient, "subject": m.subject, "message_id": mid, "transport": transport_name, "attempt": m.attempts + 1}),
                    )
                }
                Err(e) => {
                    let attempts = m.attempts + 1;
                    let next = (attempts < MAX_ATTEMPTS)
                        .then(|| now_us() + backoff(m.attempts).as_micros() as i64);
                    outbox::mark_failed(&mut tx, m.id, e, next).await?;
                    if next.is_some() {
                        d.retried += 1;
                    } else {
                        d.given_up += 1;
                    }
                    (
                        "mail.failed",
                        json!({"to": m.recipient, "subject": m.subject, "error": e, "attempt": attempts, "next_attempt_us": next, "transport": transport_name}),
                    )
                }
            };
            let who = format!("system:{worker}");
            crate::audit::record(&mut tx, By::System(&who), action, "outbox", m.id, summary)
                .await?;
            tx.commit().await?;
        }
        Ok(d)
    }

    /// Delivery rounds one after another until a round finds nothing due (`zizhi jobs
    /// deliver-mail`); a message that fails waits for its next attempt, so this ends.
    pub async fn deliver_all_due(&self, worker: &str) -> Result<Delivery> {
        let mut all = Delivery::default();
        loop {
            let d = self.deliver_due(worker).await?;
            if d == Delivery::default() {
                return Ok(all);
            }
            all += d;
        }
    }

    /// Runs delivery rounds every `every` until the task is dropped.
    pub fn spawn_mail_worker(
        &self,
        worker: String,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let app = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = app.deliver_due(&worker).await {
                    tracing::warn!(worker = %worker, error = %e, "mail delivery round failed");
                }
                tokio::time::sleep(every).await;
            }
        })
    }
}

/// Errors from mail configuration, for start-up checks.
pub fn check_from(from: &str) -> Result<()> {
    from.parse::<Mailbox>().map(|_| ()).map_err(|e| {
        AppError::invalid(
            "mail_from",
            format!("发件人地址无效：{e}"),
            format!("invalid sender: {e}"),
        )
    })
}

impl App {
    /// 通知: every e-mail zizhi sent (or is about to send) to the actor's address, newest
    /// first — the latest 200; the page mirrors the mailbox.
    pub async fn notifications(&self, actor: &crate::policy::Actor) -> Result<Vec<outbox::Sent>> {
        let Some(u) = zizhi_store::users::by_id(&self.db, actor.user_id).await? else {
            return Err(AppError::NotFound("user"));
        };
        if u.email.trim().is_empty() {
            return Ok(Vec::new());
        }
        Ok(outbox::for_recipient(&self.db, &u.email, 200).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A letter travels as its PDF bytes (base64 in the outbox, decoded into the message).
    #[test]
    fn a_binary_attachment_is_sent_as_its_bytes() {
        use base64::Engine;
        let pdf = b"%PDF-1.7\n\x00\xff binary".to_vec();
        let files = vec![zizhi_store::outbox::Attachment {
            name: "letter.pdf".into(),
            media_type: "application/pdf".into(),
            content: base64::engine::general_purpose::STANDARD.encode(&pdf),
            base64: true,
        }];
        let m = zizhi_store::outbox::Mail {
            id: 1,
            recipient: "a@example.test".into(),
            subject: "s".into(),
            body: "b".into(),
            attempts: 0,
            attachments: serde_json::to_string(&files).unwrap(),
        };
        let msg = build("资质认定 <noreply@example.test>", &m).unwrap();
        let text = String::from_utf8_lossy(&msg.formatted()).to_string();
        assert!(text.contains("application/pdf"), "{text}");
        let encoded = base64::engine::general_purpose::STANDARD.encode(&pdf);
        assert!(
            text.contains(&encoded),
            "the PDF's bytes, once encoded: {text}"
        );
    }

    #[test]
    fn smtp_urls_parse_with_their_defaults() {
        assert_eq!(
            parse_smtp_url("smtp://127.0.0.1:2525").unwrap(),
            Transport::Smtp {
                host: "127.0.0.1".into(),
                port: 2525,
                security: SmtpSecurity::None,
                credentials: None
            }
        );
        assert_eq!(
            parse_smtp_url("smtps://u:p@mail.example.gov.cn").unwrap(),
            Transport::Smtp {
                host: "mail.example.gov.cn".into(),
                port: 465,
                security: SmtpSecurity::Tls,
                credentials: Some(("u".into(), "p".into()))
            }
        );
        assert!(matches!(
            parse_smtp_url("smtp+starttls://mail.example.gov.cn").unwrap(),
            Transport::Smtp {
                port: 587,
                security: SmtpSecurity::StartTls,
                ..
            }
        ));
        assert!(parse_smtp_url("http://x").is_err());
        assert!(parse_smtp_url("smtp://:25").is_err());
    }

    #[test]
    fn back_off_doubles_from_thirty_seconds_to_an_hour() {
        assert_eq!(backoff(0), Duration::from_secs(30));
        assert_eq!(backoff(1), Duration::from_secs(60));
        assert_eq!(backoff(3), Duration::from_secs(240));
        assert_eq!(backoff(7), Duration::from_secs(3600));
        assert_eq!(backoff(50), Duration::from_secs(3600));
    }
}
