//! Live tokens remembered for a moment (issue 14): most authenticated requests come in runs
//! from one client with one token, and each began with a lookup of its session or API token —
//! on PostgreSQL a round trip as costly as the request's own read. A token found live is kept
//! here with its user for at most [`KEEP`], and only until anything is written.
//!
//! Exact in this process: every committed write transaction ([`crate::Tx::commit`]) and every
//! write of a session or API token outside one (sliding a session's expiry, noting a token's
//! use, removing expired sessions) starts a new generation, and an entry of an older
//! generation is not used — so signing out, a revoked token, a disabled user, a changed role
//! or password take effect on the next request. The generation is read before the lookup
//! whose answer is kept: a write committed while the lookup runs leaves the answer already
//! stale. A hit is still checked against the token's own expiry and a session's absolute
//! lifetime, so these end on the microsecond as before. All the connections this process
//! opens to one database share one cache.
//!
//! Another process writing the same database (the command line, a second server) is not seen
//! until the entry is [`KEEP`] old: such a change takes effect within one second.
//!
//! The staff directory (`users::active_staff`) is kept by the same rules ([`KeptValue`]); a
//! case's parts and records by the case's own revision (`cases::KeptParts`,
//! `cases::KeptRecords`), which any writer moves. So
//! this is what the process keeps of one database, shared by all its connections to it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::sessions::TokenUser;

/// How long a token found live is used without looking again, at most.
pub const KEEP: Duration = Duration::from_secs(1);
/// How many tokens are kept at most: when full, the old ones go first, then all.
const MAX_ENTRIES: usize = 4096;

/// The tokens of one database, shared by its connections in this process.
#[derive(Default)]
pub struct TokenCache {
    generation: AtomicU64,
    entries: Mutex<HashMap<String, Entry>>,
    /// The staff directory (`users::active_staff`), kept the same way as a token.
    pub(crate) staff: KeptValue<Vec<crate::users::StaffMember>>,
    /// Cases' parts, kept by each case's revision (`cases::with_parts`).
    pub(crate) parts: crate::cases::KeptParts,
    /// Cases' records, kept by the same revisions (`cases::records`).
    pub(crate) records: crate::cases::KeptRecords,
    /// Where numbered pages deep in the case list begin (`cases::list::shared_page`).
    pub(crate) page_starts: crate::cases::PageStarts,
    /// The case list's pages read, kept by the cases' version (`cases::list::shared_page`).
    pub(crate) case_pages: crate::cases::KeptList,
    /// The register's pages read, kept by the register's version (`certificates::registry`).
    pub(crate) registry: crate::certificates::KeptRegistry,
}

/// One answer read from the database, kept like a live token: used while nothing has been
/// written in this process since the read began (its generation) and for at most [`KEEP`]
/// (another process's writes).
pub(crate) struct KeptValue<T>(Mutex<Option<(u64, Instant, Arc<T>)>>);

impl<T> Default for KeptValue<T> {
    fn default() -> Self {
        KeptValue(Mutex::new(None))
    }
}

impl<T> KeptValue<T> {
    /// The answer kept by `generation` (the cache's now) less than [`KEEP`] ago.
    pub(crate) fn get(&self, generation: u64) -> Option<Arc<T>> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref()
            .filter(|(g, since, _)| *g == generation && since.elapsed() < KEEP)
            .map(|(.., v)| Arc::clone(v))
    }

    /// Keeps the answer of a read begun at `generation`.
    pub(crate) fn keep(&self, generation: u64, value: Arc<T>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((generation, Instant::now(), value));
    }
}

struct Entry {
    user: TokenUser,
    generation: u64,
    since: Instant,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCache")
            .field("generation", &self.generation())
            .finish()
    }
}

impl TokenCache {
    /// The cache of the database named `key` (its file, or its server, database and schema):
    /// one per database in this process, however many times it is connected to.
    pub(crate) fn of(key: &str) -> Arc<TokenCache> {
        static ALL: LazyLock<Mutex<HashMap<String, Weak<TokenCache>>>> =
            LazyLock::new(Mutex::default);
        let mut all = ALL.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = all.get(key).and_then(Weak::upgrade) {
            return c;
        }
        all.retain(|_, c| c.strong_count() > 0);
        let c = Arc::new(TokenCache::default());
        all.insert(key.to_string(), Arc::downgrade(&c));
        c
    }

    /// Something was written: nothing kept before is used again.
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
    }

    /// The generation now: read before a lookup, given to [`TokenCache::keep`] with its answer.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::SeqCst)
    }

    /// The token hashing to `hash`, kept by this generation less than [`KEEP`] ago, when it is
    /// still live at `now_us`: not expired, and a session begun after `created_after_us`.
    /// `sessions_only`: an API token does not count (a cookie names a session).
    pub(crate) fn live(
        &self,
        hash: &str,
        now_us: i64,
        created_after_us: i64,
        sessions_only: bool,
    ) -> Option<TokenUser> {
        let generation = self.generation();
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let e = entries.get(hash)?;
        let u = &e.user;
        (e.generation == generation
            && e.since.elapsed() < KEEP
            && u.expires_us > now_us
            && (u.api_token || u.token_created_us > created_after_us)
            && !(sessions_only && u.api_token))
            .then(|| u.clone())
    }

    /// Keeps a token found live by a lookup begun at `generation`.
    pub(crate) fn keep(&self, hash: String, user: TokenUser, generation: u64) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.since.elapsed() < KEEP);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            hash,
            Entry {
                user,
                generation,
                since: Instant::now(),
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::users::User;

    fn token(api_token: bool, expires_us: i64, created_us: i64) -> TokenUser {
        TokenUser {
            user: User {
                id: 7,
                username: "lead".into(),
                display_name: "Lead".into(),
                email: "lead@example.test".into(),
                role: "project_lead".into(),
                organization_id: None,
                password_hash: String::new(),
                totp_secret: None,
                must_change_password: false,
                failed_logins: 0,
                locked_until_us: None,
                disabled: false,
                created_us: 0,
                sign_in: "password".into(),
                email_confirmed: true,
            },
            csrf_token: None,
            expires_us,
            last_used_us: None,
            token_created_us: created_us,
            api_token,
        }
    }

    /// A kept token is used only while it would still pass the lookup's own conditions: not
    /// expired (at the microsecond), a session begun after its absolute lifetime's start, not
    /// an API token where a session is asked for, and nothing written since it was kept.
    #[test]
    fn a_kept_token_is_used_only_while_the_lookup_would_find_it() {
        let c = TokenCache::default();
        let g = c.generation();
        c.keep("s".into(), token(false, 1_000, 100), g);
        c.keep("a".into(), token(true, 1_000, 100), g);
        assert!(c.live("s", 999, 99, true).is_some());
        assert!(
            c.live("s", 1_000, 99, false).is_none(),
            "expired at its expiry"
        );
        assert!(
            c.live("s", 999, 100, false).is_none(),
            "begun at the lifetime's start"
        );
        assert!(
            c.live("a", 999, 100, false).is_some(),
            "an API token has no lifetime"
        );
        assert!(
            c.live("a", 999, 0, true).is_none(),
            "a cookie names a session"
        );
        assert!(c.live("x", 0, 0, false).is_none());
        // A lookup begun before a write keeps an answer already stale.
        c.keep("old".into(), token(false, 1_000, 100), g.wrapping_sub(1));
        assert!(c.live("old", 0, 0, false).is_none());
        c.changed();
        assert!(
            c.live("s", 0, 0, false).is_none(),
            "nothing kept outlives a write"
        );
        assert!(c.live("a", 0, 0, false).is_none());
    }

    /// Each database has its own cache in a process, however often it is connected to.
    #[test]
    fn one_cache_per_database() {
        let a = TokenCache::of("sqlite:/one");
        let b = TokenCache::of("sqlite:/one");
        let c = TokenCache::of("sqlite:/two");
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &c));
        a.changed();
        assert_eq!(b.generation(), 1);
        assert_eq!(c.generation(), 0);
    }
}
