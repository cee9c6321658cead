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

/// The argon2id working memory, owned by the hasher thread, reused while jobs keep coming and
/// given back when the thread goes idle.
type Work = Vec<Block>;
type Job = Box<dyn FnOnce(&mut Work) + Send>;

/// The password-hashing pool: a few threads, each owning its argon2id working memory, fed
/// from a bounded queue. argon2id needs 19 MiB per hash: a busy thread reuses one buffer, an
/// idle one frees it (allocated as its own mapping, see `argon2_into`). Hashing never
/// blocks the async runtime, and when the queue is full the caller is refused at once
/// ([`AppError::Busy`], HTTP 429) instead of waiting behind a flood of sign-ins.
struct Pool {
    sender: std::sync::mpsc::SyncSender<Job>,
}

static POOL: std::sync::OnceLock<Pool> = std::sync::OnceLock::new();

/// The default number of hashing threads: the machine's cores, at most 4.
pub fn default_hash_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().min(4))
}

/// The default number of hashing jobs that may wait for a thread.
pub const DEFAULT_HASH_QUEUE: usize = 32;

/// Sizes the pool (the server calls this once at start; the first call wins). Without it the
/// pool starts with the defaults on first use.
pub fn configure_hasher(threads: usize, queue: usize) {
    let _ = POOL.get_or_init(|| start_pool(threads, queue));
}

fn start_pool(threads: usize, queue: usize) -> Pool {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Job>(queue.max(1));
    let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
    for i in 0..threads.max(1) {
        let rx = rx.clone();
        std::thread::Builder::new()
            .name(format!("zizhi-hasher-{i}"))
            .spawn(move || {
                let mut work: Work = Vec::new();
                loop {
                    // The lock is held only while taking a job, not while hashing. A thread
                    // with nothing to do gives its working memory back: when no job is
                    // waiting, or when another thread is waiting for one (holding the lock).
                    let r = match rx.try_lock() {
                        Ok(r) => r,
                        Err(std::sync::TryLockError::WouldBlock) => {
                            work = Vec::new();
                            match rx.lock() {
                                Ok(r) => r,
                                Err(_) => return,
                            }
                        }
                        Err(std::sync::TryLockError::Poisoned(_)) => return,
                    };
                    let job = match r.try_recv() {
                        Ok(job) => Ok(job),
                        Err(_) => {
                            work = Vec::new();
                            r.recv()
                        }
                    };
                    drop(r);
                    match job {
                        Ok(job) => job(&mut work),
                        Err(_) => return,
                    }
                }
            })
            .expect("a hasher thread starts");
    }
    Pool { sender: tx }
}

/// Runs `f` on a hashing thread with its working memory; [`AppError::Busy`] at once when the
/// queue is full.
pub async fn on_hasher<T: Send + 'static>(
    f: impl FnOnce(&mut Work) -> T + Send + 'static,
) -> Result<T> {
    let pool = POOL.get_or_init(|| start_pool(default_hash_threads(), DEFAULT_HASH_QUEUE));
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move |work: &mut Work| {
        let _ = tx.send(f(work));
    });
    match pool.sender.try_send(job) {
        Ok(()) => {}
        Err(std::sync::mpsc::TrySendError::Full(_)) => return Err(AppError::Busy),
        Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
            return Err(AppError::Internal("the hashing threads are gone".into()));
        }
    }
    rx.await
        .map_err(|_| AppError::Internal("a hashing thread dropped its job".into()))
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
        // Reserved beyond glibc's largest mmap threshold (32 MiB), so the memory is always
        // its own mapping: only the blocks used become resident, and dropping it when the
        // thread goes idle returns it to the system. (Memory allocated at the exact size came
        // from the heap after the first free and stayed resident: 19 MiB per hashing thread,
        // most of the server's memory when idle — issue 14.) The binary allocates with
        // mimalloc, where anything over 512 KiB is a page of its own, given back when freed
        // (`zizhi serve` sets `MIMALLOC_PURGE_DELAY=0`, cli/src/main.rs).
        const MAPPED: usize = (33 << 20) / std::mem::size_of::<Block>();
        work.reserve_exact(need.max(MAPPED) - work.len());
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

/// An argon2id PHC string, computed on the hashing pool.
pub async fn hash_password_async(password: &str) -> Result<String> {
    let p = password.to_string();
    on_hasher(move |w| hash_with(w, &p)).await?
}

/// Verification on the hashing pool (`Err(Busy)` when its queue is full).
pub async fn verify_password_async(password: &str, phc: &str) -> Result<bool> {
    let (p, h) = (password.to_string(), phc.to_string());
    on_hasher(move |w| verify_with(w, &p, &h)).await
}

/// The same work as a real verification, against a hash no password matches (unknown users),
/// so that timing does not reveal who has an account.
pub async fn verify_against_dummy(password: &str) -> Result<()> {
    let p = password.to_string();
    on_hasher(move |w| {
        static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let dummy = DUMMY
            .get_or_init(|| hash_with(w, &token()).expect("hashing works"))
            .clone();
        let _ = verify_with(w, &p, &dummy);
    })
    .await
}

/// The stored form of a recovery code: SM3 of the code without separators, upper-case. A
/// recovery code carries 50 random bits, so a plain hash is enough.
pub fn recovery_code_hash(code: &str) -> String {
    use sm3::Digest;
    let canonical: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    hex::encode(sm3::Sm3::digest(canonical.as_bytes()))
}

/// Ten new recovery codes, `XXXXX-XXXXX` in base32 (no 0/1/8/9 look-alikes to misread).
pub fn recovery_codes() -> Vec<String> {
    (0..10)
        .map(|_| {
            let s = crate::totp::base32_encode(&random_bytes(7));
            format!("{}-{}", &s[..5], &s[5..10])
        })
        .collect()
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
    async fn hashing_runs_on_the_hashing_pool() {
        let name = on_hasher(|_| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.unwrap().starts_with("zizhi-hasher-"));
        let h = hash_password_async("correct horse battery").await.unwrap();
        assert!(
            verify_password_async("correct horse battery", &h)
                .await
                .unwrap()
        );
        assert!(
            !verify_password_async("wrong horse battery", &h)
                .await
                .unwrap()
        );
    }

    /// A full queue refuses at once instead of waiting (the sign-in answers 429 before any
    /// hashing).
    #[tokio::test]
    async fn a_full_queue_refuses_at_once() {
        let pool = start_pool(1, 1);
        let (hold_tx, hold_rx) = std::sync::mpsc::channel::<()>();
        let (started_tx, started_rx) = std::sync::mpsc::channel::<()>();
        // One job occupies the thread, one waits in the queue of one.
        pool.sender
            .try_send(Box::new(move |_| {
                started_tx.send(()).unwrap();
                let _ = hold_rx.recv();
            }))
            .unwrap_or_else(|_| panic!("the first job is taken"));
        started_rx.recv().unwrap();
        assert!(
            pool.sender.try_send(Box::new(|_| {})).is_ok(),
            "one may wait"
        );
        assert!(matches!(
            pool.sender.try_send(Box::new(|_| {})),
            Err(std::sync::mpsc::TrySendError::Full(_))
        ));
        hold_tx.send(()).unwrap();
    }

    #[test]
    fn recovery_codes_are_distinct_and_hash_without_their_separator_or_case() {
        let codes = recovery_codes();
        assert_eq!(codes.len(), 10);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), 10);
        assert!(
            codes
                .iter()
                .all(|c| c.len() == 11 && c.as_bytes()[5] == b'-')
        );
        let c = &codes[0];
        assert_eq!(
            recovery_code_hash(c),
            recovery_code_hash(&c.replace('-', "").to_lowercase())
        );
        assert_ne!(recovery_code_hash(c), recovery_code_hash(&codes[1]));
    }

    #[test]
    fn generated_secrets_are_long_and_distinct() {
        assert_eq!(token().len(), 64);
        assert_ne!(token(), token());
        let p = generated_password();
        assert_eq!(p.chars().count(), 16);
        assert!(crate::passwords::check("password", &p, &["admin"]).is_ok());
    }
}
