//! Random secrets and password hashing (argon2id).

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};

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

/// The argon2id working memory, owned by the hasher thread and reused by every hash.
type Work = Vec<Block>;
type Job = Box<dyn FnOnce(&mut Work) + Send>;

/// Runs `f` on the one password-hashing thread with its working memory. argon2id needs 19 MiB
/// per hash; allocating it per call left a fresh 19 MiB resident after every verification
/// (glibc serves the large aligned allocation from new pages once the first free raised its
/// mmap threshold). One buffer reused by one thread keeps the footprint fixed, and hashing never
/// blocks the async runtime.
pub async fn on_hasher<T: Send + 'static>(f: impl FnOnce(&mut Work) -> T + Send + 'static) -> T {
    static SENDER: std::sync::OnceLock<std::sync::mpsc::Sender<Job>> = std::sync::OnceLock::new();
    let sender = SENDER.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("zizhi-hasher".into())
            .spawn(move || {
                let mut work: Work = Vec::new();
                for job in rx {
                    job(&mut work);
                }
            })
            .expect("the hasher thread starts");
        tx
    });
    let (tx, rx) = tokio::sync::oneshot::channel();
    sender
        .send(Box::new(move |work: &mut Work| {
            let _ = tx.send(f(work));
        }))
        .expect("the hasher thread runs for the life of the process");
    rx.await.expect("the hasher thread answers every job")
}

/// Computes an argon2 output into `out` using `work` as memory (grown once as needed).
fn argon2_into(
    work: &mut Work,
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> std::result::Result<(), argon2::Error> {
    let need = params.block_count();
    if work.len() < need {
        work.resize(need, Block::default());
    }
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        &mut work[..need],
    )
}

/// An argon2id PHC string (m=19456, t=2, p=1, random 16-byte salt).
pub fn hash_with(work: &mut Work, password: &str) -> Result<String> {
    let internal = |e: String| AppError::Internal(format!("password hashing: {e}"));
    let params = Params::default();
    let salt = random_bytes(16);
    let mut out = [0u8; Params::DEFAULT_OUTPUT_LEN];
    argon2_into(
        work,
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password.as_bytes(),
        &salt,
        &mut out,
    )
    .map_err(|e| internal(e.to_string()))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| internal(e.to_string()))?,
        salt: Some(Salt::new(&salt).map_err(|e| internal(e.to_string()))?),
        hash: Some(Output::new(&out).map_err(|e| internal(e.to_string()))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string (its own algorithm, version and parameters).
pub fn verify_with(work: &mut Work, password: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&h.salt, &h.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(h.algorithm.as_str()) else {
        return false;
    };
    let version = h.version.map_or(Ok(Version::V0x13), Version::try_from);
    let Ok(version) = version else { return false };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    if argon2_into(
        work,
        algorithm,
        version,
        params,
        password.as_bytes(),
        salt.as_ref(),
        &mut out,
    )
    .is_err()
    {
        return false;
    }
    // Output's equality is constant-time.
    Output::new(&out).is_ok_and(|o| &o == expected)
}

/// An argon2id PHC string, computed on the hasher thread.
pub async fn hash_password_async(password: &str) -> Result<String> {
    let p = password.to_string();
    on_hasher(move |w| hash_with(w, &p)).await
}

/// Verification on the hasher thread.
pub async fn verify_password_async(password: &str, phc: &str) -> bool {
    let (p, h) = (password.to_string(), phc.to_string());
    on_hasher(move |w| verify_with(w, &p, &h)).await
}

/// The same work as a real verification, against a hash no password matches (unknown users),
/// so that timing does not reveal who has an account.
pub async fn verify_against_dummy(password: &str) {
    let p = password.to_string();
    on_hasher(move |w| {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY
            .get_or_init(|| hash_with(w, &token()).expect("hashing works"))
            .clone();
        let _ = verify_with(w, &p, &dummy);
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let mut w = Vec::new();
        let h = hash_with(&mut w, "correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_with(&mut w, "correct horse battery", &h));
        assert!(!verify_with(&mut w, "correct horse batterY", &h));
        assert!(!verify_with(&mut w, "x", "not a phc string"));
        assert_ne!(
            h,
            hash_with(&mut w, "correct horse battery").unwrap(),
            "salted"
        );
    }

    #[test]
    fn hashes_made_by_the_argon2_crate_itself_verify_and_vice_versa() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let mut w = Vec::new();
        let theirs = Argon2::default()
            .hash_password(b"hunter42 hunter42")
            .unwrap()
            .to_string();
        assert!(verify_with(&mut w, "hunter42 hunter42", &theirs));
        let ours = hash_with(&mut w, "hunter42 hunter42").unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"hunter42 hunter42", &parsed)
                .is_ok()
        );
        // A hash with other parameters verifies with its own parameters.
        let custom = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8192, 3, 1, None).unwrap(),
        )
        .hash_password(b"pw pw pw pw")
        .unwrap()
        .to_string();
        assert!(verify_with(&mut w, "pw pw pw pw", &custom));
    }

    #[tokio::test]
    async fn hashing_runs_on_the_hasher_thread() {
        let name = on_hasher(|_| std::thread::current().name().map(str::to_string)).await;
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
