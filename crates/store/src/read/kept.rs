//! Pages of a list kept in this process by the version of what they show (issue 14): the
//! register's (`certificates::registry`, `register_version`) and the case list's
//! (`cases::list::shared_page`, `case_version`).
//!
//! A page is kept with the version read *before* it was read, or in the same statement, so it is
//! at least as new as that version; it answers only a request that read the same version. Every process reads the same
//! version from the database, and a writer moves it in its own transaction (a trigger), so a
//! change committed by another server or the command line is in the next answer, as in any
//! read. Bounded: past `MAX` pages the one used longest ago goes.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// At most `MAX` pages of type `T` by key `K`, each with its version.
pub(crate) struct KeptPages<K, T, const MAX: usize>(Mutex<Pages<K, T>>);

struct Pages<K, T> {
    /// A counter of uses, for which page was used longest ago.
    clock: u64,
    pages: HashMap<K, Page<T>>,
}

struct Page<T> {
    version: i64,
    used: u64,
    rows: Arc<T>,
}

impl<K, T, const MAX: usize> Default for KeptPages<K, T, MAX> {
    fn default() -> Self {
        KeptPages(Mutex::new(Pages {
            clock: 0,
            pages: HashMap::new(),
        }))
    }
}

impl<K: Clone + Eq + Hash, T, const MAX: usize> KeptPages<K, T, MAX> {
    /// The page of `key` when it was kept at `version`.
    pub(crate) fn get(&self, key: &K, version: i64) -> Option<Arc<T>> {
        let mut k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        k.clock += 1;
        let now = k.clock;
        let page = k.pages.get_mut(key).filter(|p| p.version == version)?;
        page.used = now;
        Some(Arc::clone(&page.rows))
    }

    /// Whether a page of `key` is kept, at any version.
    pub(crate) fn has(&self, key: &K) -> bool {
        let k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        k.pages.contains_key(key)
    }

    /// Keeps the page of `key` read after `version` was (or with it, in one statement).
    pub(crate) fn keep(&self, key: K, version: i64, rows: Arc<T>) {
        let mut k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // A page read at an older version than the one kept (a slow read overtaken) is not kept.
        if k.pages.get(&key).is_some_and(|p| p.version > version) {
            return;
        }
        if k.pages.len() >= MAX
            && !k.pages.contains_key(&key)
            && let Some(oldest) = k
                .pages
                .iter()
                .min_by_key(|(_, p)| p.used)
                .map(|(key, _)| key.clone())
        {
            k.pages.remove(&oldest);
        }
        k.clock += 1;
        let used = k.clock;
        k.pages.insert(
            key,
            Page {
                version,
                used,
                rows,
            },
        );
    }

    /// How many pages are kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pages.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOUND: usize = 4;
    type Kept = KeptPages<&'static str, String, BOUND>;

    fn page(k: &Kept, key: &'static str, version: i64) -> Option<String> {
        k.get(&key, version).map(|p| (*p).clone())
    }

    /// A page is answered only at the version it was kept with; a page read at an older
    /// version than the one kept (a slow read overtaken by a newer one) does not replace it.
    #[test]
    fn a_kept_page_answers_only_its_own_version() {
        let k = Kept::default();
        k.keep("北京", 7, Arc::new("A".into()));
        assert_eq!(page(&k, "北京", 7), Some("A".into()));
        assert_eq!(page(&k, "北京", 8), None);
        assert_eq!(page(&k, "上海", 7), None);
        k.keep("北京", 9, Arc::new("B".into()));
        k.keep("北京", 8, Arc::new("C".into()));
        assert_eq!(page(&k, "北京", 9), Some("B".into()));
        assert_eq!(page(&k, "北京", 8), None);
    }

    /// Bounded: a page more than `MAX` makes the one used longest ago go, not one just asked
    /// for.
    #[test]
    fn past_the_bound_the_page_used_longest_ago_goes() {
        let k = Kept::default();
        for key in ["0", "1", "2", "3"] {
            k.keep(key, 1, Arc::new(key.into()));
        }
        assert_eq!(k.len(), BOUND);
        // The first kept is asked for again: the second is now the one used longest ago.
        assert!(k.get(&"0", 1).is_some());
        k.keep("new", 1, Arc::new("new".into()));
        assert_eq!(k.len(), BOUND);
        assert!(k.get(&"1", 1).is_none());
        for kept in ["0", "2", "new"] {
            assert!(k.get(&kept, 1).is_some(), "{kept}");
        }
        // Kept again at a new version, a page already kept takes no other's place.
        k.keep("2", 2, Arc::new("2".into()));
        assert_eq!(k.len(), BOUND);
        assert!(k.get(&"3", 1).is_some());
    }
}
