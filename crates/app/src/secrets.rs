//! Random secrets and password hashing (argon2id).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::{AppError, Result};

/// `n` random bytes from the operating system.
pub fn random_bytes(n: usize) -> Vec<u8> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).expect("the OS random source is available");
    b
}

/// A 256-bit bearer token (sessions, API tokens), hex.
pub fn token() -> String {
    hex::encode(random_bytes(32))
}

/// A generated password: 16 characters without look-alikes (0/O, 1/l/I).
pub fn generated_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random_bytes(16)
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The smallest acceptable password length.
pub const MIN_PASSWORD_LEN: usize = 10;

/// Checks a chosen password.
pub fn check_password_strength(field: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_LEN {
        return Err(AppError::invalid(
            field,
            format!("密码至少 {MIN_PASSWORD_LEN} 个字符"),
            format!("the password needs at least {MIN_PASSWORD_LEN} characters"),
        ));
    }
    Ok(())
}

type Job = Box<dyn FnOnce() + Send>;

/// Runs `f` on the one password-hashing thread. argon2id needs 19 MiB of working memory per
/// hash; doing every hash on one thread keeps that to a single reused allocation (instead of
/// one left resident per runtime thread) and never blocks the async runtime.
pub async fn on_hasher<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    static SENDER: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    let sender = SENDER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("zizhi-hasher".into())
            .spawn(move || {
                for job in rx {
                    job();
                }
            })
            .expect("the hasher thread starts");
        tx
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    sender
        .send(Box::new(move || {
            let _ = tx.send(f());
        }))
        .expect("the hasher thread runs for the life of the process");
    rx.await.expect("the hasher thread answers every job")
}

/// [`hash_password`] on the hasher thread.
pub async fn hash_password_async(password: &str) -> Result<String> {
    let p = password.to_string();
    on_hasher(move || hash_password(&p)).await
}

/// The same work as a real verification, against a hash no password matches (unknown users).
pub async fn verify_against_dummy(password: &str) {
    let p = password.to_string();
    on_hasher(move || {
        let _ = verify_password(&p, dummy_hash());
    })
    .await;
}

/// [`verify_password`] on the hasher thread.
pub async fn verify_password_async(password: &str, phc: &str) -> bool {
    let (p, h) = (password.to_string(), phc.to_string());
    on_hasher(move || verify_password(&p, &h)).await
}

/// An argon2id PHC string (m=19456, t=2, p=1, random salt).
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing: {e}")))
}

/// Whether `password` matches the PHC string.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(h) => Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok(),
        Err(_) => false,
    }
}

/// A hash that no password matches, compared against for unknown users so that sign-in takes
/// the same time whether or not the user exists.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&token()).expect("hashing works"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$"));
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("x", "not a phc string"));
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salted");
    }

    #[tokio::test]
    async fn hashing_runs_on_the_hasher_thread() {
        let name = on_hasher(|| std::thread::current().name().map(str::to_string)).await;
        assert_eq!(name.as_deref(), Some("zizhi-hasher"));
        let h = hash_password_async("correct horse battery").await.unwrap();
        assert!(verify_password_async("correct horse battery", &h).await);
        assert!(!verify_password_async("wrong horse battery", &h).await);
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        assert_eq!(token().len(), 64);
        assert_ne!(token(), token());
        let p = generated_password();
        assert_eq!(p.chars().count(), 16);
        assert!(check_password_strength("password", &p).is_ok());
        assert!(check_password_strength("password", "short").is_err());
        assert!(
            check_password_strength("password", "0123456789").is_ok(),
            "10 counts"
        );
    }
}
