//! Notifications: outbox folder, SMTP, retries, and exclusive claiming by concurrent workers.
//! On SQLite and (with ZIZHI_TEST_POSTGRES_URL) PostgreSQL.

use crate::without_staff_second_factor;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use zizhi_app::accounts::NewUserInput;
use zizhi_app::notify::{MailConfig, Transport};
use zizhi_app::{App, AppConfig};
use zizhi_store::files::FileStore;

async fn apps(transport: impl Fn(&PathBuf) -> Transport) -> Vec<(App, PathBuf)> {
    let mut out = Vec::new();
    for b in zizhi_testkit::backends("zizhi_mail").await {
        let files = FileStore::open(&b.dir.join("evidence")).await.unwrap();
        let outbox = b.dir.join("outbox");
        let config = AppConfig {
            mail: MailConfig {
                from: "资质认定 <noreply@example.test>".into(),
                transport: transport(&outbox),
            },
            ..without_staff_second_factor()
        };
        out.push((App::new(b.db, files, config), outbox));
    }
    out
}

fn user(name: &str) -> NewUserInput {
    NewUserInput {
        username: name.into(),
        display_name: "张三".into(),
        email: format!("{name}@example.test"),
        role: "project_lead".into(),
        organization_id: None,
        password: Some("a long password".into()),
    }
}

fn eml_files(dir: &PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|r| {
            r.map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "eml"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[tokio::test]
async fn a_new_account_is_announced_by_an_eml_file_with_an_encoded_chinese_subject() {
    for (app, dir) in apps(|d| Transport::Folder(d.clone())).await {
        app.create_user(None, user("lead1")).await.unwrap();
        let d = app.deliver_due("w1").await.unwrap();
        assert_eq!(d.sent, 1);
        let files = eml_files(&dir);
        assert_eq!(files.len(), 1);
        let eml = std::fs::read_to_string(&files[0]).unwrap();
        assert!(eml.contains("To: lead1@example.test"), "{eml}");
        assert!(
            eml.contains("Subject: =?utf-8?b?"),
            "RFC 2047 subject: {eml}"
        );
        assert!(
            eml.lines()
                .any(|l| l.starts_with("Message-ID: <") && l.ends_with('>')),
            "{eml}"
        );
        assert!(eml.contains("From: =?utf-8?b?"), "{eml}");
        assert_eq!(app.deliver_due("w1").await.unwrap().sent, 0, "sent once");
        let log = app.audit_log_unchecked().await;
        assert!(log.iter().any(|e| e == "mail.sent"), "{log:?}");
        assert_eq!(app.verify_audit(None).await.unwrap().first_break, None);
    }
}

/// A minimal SMTP server on loopback that keeps each DATA section.
async fn smtp_sink() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let store = got.clone();
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.unwrap();
            let store = store.clone();
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let mut lines = BufReader::new(r).lines();
                w.write_all(b"220 sink ESMTP\r\n").await.unwrap();
                let mut data: Option<String> = None;
                while let Ok(Some(line)) = lines.next_line().await {
                    if let Some(d) = data.as_mut() {
                        if line == "." {
                            store.lock().unwrap().push(data.take().unwrap());
                            w.write_all(b"250 queued\r\n").await.unwrap();
                        } else {
                            d.push_str(&line);
                            d.push('\n');
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 sink\r\n",
                        "DATA" => {
                            data = Some(String::new());
                            b"354 go ahead\r\n"
                        }
                        "QUIT" => {
                            w.write_all(b"221 bye\r\n").await.unwrap();
                            break;
                        }
                        _ => b"250 ok\r\n",
                    };
                    w.write_all(reply).await.unwrap();
                }
            });
        }
    });
    (port, got)
}

#[tokio::test]
async fn with_smtp_configured_mail_goes_to_the_server() {
    let (port, got) = smtp_sink().await;
    for (app, _) in apps(|_| Transport::Smtp {
        host: "127.0.0.1".into(),
        port,
        security: zizhi_app::notify::SmtpSecurity::None,
        credentials: None,
    })
    .await
    {
        got.lock().unwrap().clear();
        app.create_user(None, user("lead2")).await.unwrap();
        app.reset_password(None, "lead2").await.unwrap();
        let d = app.deliver_due("w1").await.unwrap();
        assert_eq!(d.sent, 2, "{d:?}");
        let msgs = got.lock().unwrap().clone();
        assert_eq!(msgs.len(), 2);
        assert!(
            msgs.iter()
                .all(|m| m.contains("Message-ID: <") && m.contains("Subject: =?utf-8?b?")),
            "{msgs:?}"
        );
    }
}

#[tokio::test]
async fn a_failed_send_is_retried_later_and_audited() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    for (app, _) in apps(|_| Transport::Smtp {
        host: "127.0.0.1".into(),
        port: closed,
        security: zizhi_app::notify::SmtpSecurity::None,
        credentials: None,
    })
    .await
    {
        app.create_user(None, user("lead3")).await.unwrap();
        let d = app.deliver_due("w1").await.unwrap();
        assert_eq!((d.sent, d.retried, d.given_up), (0, 1, 0));
        assert_eq!(
            app.deliver_due("w1").await.unwrap().retried,
            0,
            "not due again for 30 s"
        );
        let counts = zizhi_store::outbox::counts(app.store_for_tests())
            .await
            .unwrap();
        assert_eq!(counts, vec![("pending".to_string(), 1)]);
        assert!(
            app.audit_log_unchecked()
                .await
                .iter()
                .any(|e| e == "mail.failed")
        );
    }
}

#[tokio::test]
async fn two_workers_never_send_the_same_message_twice() {
    for (app, dir) in apps(|d| Transport::Folder(d.clone())).await {
        for i in 0..30 {
            app.create_user(None, user(&format!("u{i:02}")))
                .await
                .unwrap();
        }
        let (a, b) = (app.clone(), app.clone());
        let (ra, rb) = tokio::join!(
            async move {
                let mut n = 0;
                for _ in 0..5 {
                    n += a.deliver_due("worker-a").await.unwrap().sent;
                }
                n
            },
            async move {
                let mut n = 0;
                for _ in 0..5 {
                    n += b.deliver_due("worker-b").await.unwrap().sent;
                }
                n
            }
        );
        assert_eq!(ra + rb, 30, "{} + {}", ra, rb);
        assert_eq!(eml_files(&dir).len(), 30);
        let sent = app
            .audit_log_unchecked()
            .await
            .iter()
            .filter(|e| *e == "mail.sent")
            .count();
        assert_eq!(sent, 30);
    }
}

trait AuditActions {
    async fn audit_log_unchecked(&self) -> Vec<String>;
}

impl AuditActions for App {
    async fn audit_log_unchecked(&self) -> Vec<String> {
        zizhi_store::audit::list(self.store_for_tests(), None, 1000)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

/// 5.3: the lead e-mails the agreement — the standard document, filled with the case and the
/// pack's fee, travels as an attachment of the message.
#[tokio::test]
async fn the_agreement_is_attached_to_its_e_mail() {
    use zizhi_domain::case::Stage;
    for (app, dir) in apps(|d| Transport::Folder(d.clone())).await {
        let (cast, _) = app.demo_cast().await.unwrap();
        let id = app.demo_case(&cast, 0, Stage::AgreementSent).await.unwrap();
        // Look at what was queued (a claim that expires at once, so delivery still takes it).
        let queued =
            zizhi_store::outbox::claim(app.store_for_tests(), "peek", 100, zizhi_store::now_us())
                .await
                .unwrap();
        let mail = queued
            .iter()
            .find(|m| m.subject.contains("委托协议"))
            .expect("the agreement e-mail is queued");
        let files: Vec<zizhi_store::outbox::Attachment> =
            serde_json::from_str(&mail.attachments).unwrap();
        assert_eq!(files.len(), 1);
        let c = zizhi_store::cases::get(app.store_for_tests(), id)
            .await
            .unwrap()
            .unwrap();
        let number = c.agreement_no.clone().unwrap();
        assert_eq!(files[0].name, format!("委托协议-{number}.html"));
        assert!(files[0].media_type.starts_with("text/html"));
        let doc = &files[0].content;
        assert!(
            doc.contains("信息安全服务资质认定委托协议")
                && doc.contains("72,000.00 元")
                && doc.contains("15,000.00 元")
                && doc.contains("87,000.00 元")
                && doc.contains("【演示】闽江灾备科技有限公司")
                && doc.contains(&number),
            "{doc}"
        );
        // Delivered as a multipart message with the document attached.
        std::thread::sleep(std::time::Duration::from_millis(2));
        let d = app.deliver_due("w1").await.unwrap();
        assert!(d.sent >= 1, "{d:?}");
        let emls: Vec<String> = eml_files(&dir)
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect();
        let eml = emls
            .iter()
            .find(|e| e.contains("multipart/mixed") && e.contains("text/html"))
            .expect("a multipart message with the agreement");
        assert!(eml.contains("Content-Disposition: attachment"), "{eml}");
        assert!(eml.contains("text/html"), "{eml}");
    }
}
