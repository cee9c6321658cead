//! What the case list keeps in this process (issue 14): its pages by the cases' version
//! ([`KeptList`], keyed by [`ListKey`]) and where deep numbered pages begin ([`PageStarts`]).

use super::{Filter, ListPage, SHALLOW};

/// The case list's pages this process has read (issue 14), each kept with the cases' version
/// (`case_version`, migration 0031: it moves with every change of a case, of its clock's
/// pauses and of an applicant's name, in the changing transaction) read in the page's own
/// statement ([`crate::read::KeptPages`]). While the version has not moved the page is what a
/// new read would give: the staff's work list asked again and again is answered by one read
/// of the version's row. At most 128 pages of at most [`KEPT_LIST_ROWS`] cases, about 3 MB (a
/// listed case is some 450 bytes, its strings included).
pub(crate) type KeptList = crate::read::KeptPages<ListKey, ListPage, 128>;

/// The most cases of a kept page: the pages and the API list 50 by default, the API at most
/// 200 (those and the spreadsheet's are read each time).
pub(super) const KEPT_LIST_ROWS: i64 = 100;

/// A kept page of the list: every value of its filter and its bounds.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct ListKey {
    organization_id: Option<i64>,
    stage: Option<String>,
    open_only: bool,
    no_drafts: bool,
    id: Option<i64>,
    name_like: Option<String>,
    lead_id: Option<i64>,
    filed_from: Option<String>,
    filed_to: Option<String>,
    before_id: Option<i64>,
    due_from: Option<String>,
    due_to: Option<String>,
    limit: i64,
    offset: i64,
}

impl ListKey {
    /// The key of a page that may be kept: not longer than [`KEPT_LIST_ROWS`], and not found by
    /// the applicant's USCC — a USCC is changed when a registration lapses
    /// (`organizations::lapse_pending`), which does not move the cases' version. Every field is
    /// named here, so that a new one is decided on.
    pub(super) fn of(f: &Filter<'_>, limit: i64, offset: i64) -> Option<ListKey> {
        let Filter {
            organization_id,
            stage,
            open_only,
            no_drafts,
            id,
            uscc,
            name_like,
            lead_id,
            filed_from,
            filed_to,
            before_id,
            due_from,
            due_to,
        } = *f;
        let owned = |s: Option<&str>| s.map(str::to_owned);
        (uscc.is_none() && limit <= KEPT_LIST_ROWS).then(|| ListKey {
            organization_id,
            stage: owned(stage),
            open_only,
            no_drafts,
            id,
            name_like: owned(name_like),
            lead_id,
            filed_from: owned(filed_from),
            filed_to: owned(filed_to),
            before_id,
            due_from: owned(due_from),
            due_to: owned(due_to),
            limit,
            offset,
        })
    }
}

/// The key of a numbered page whose start may be kept ([`PageStarts`]): past the first
/// [`SHALLOW`] cases of the newest-first list, filtered at most by open and not-a-draft. Any
/// other field set — one added to [`Filter`] later too — is a value, and its pages' starts are
/// not kept.
pub(super) fn start_key(f: &Filter<'_>, offset: i64) -> Option<StartKey> {
    let flags_only = Filter {
        open_only: f.open_only,
        no_drafts: f.no_drafts,
        ..Filter::default()
    };
    (*f == flags_only && offset > SHALLOW).then_some((f.open_only, f.no_drafts, offset))
}

/// Where numbered pages deep in the newest-first list begin (issue 14), by the list's shape
/// (open only, drafts left out) and the page's offset: the id of the page's first case and the
/// list's version (`case_version`, migration 0031 — it moves with any change of any case) the
/// offset was counted at. While the version has not moved, the page is the cases from that id
/// down (a keyset page, read along the primary key) instead of the offset's cases skipped along
/// the index first — on PostgreSQL an index-only walk of the thousands before it, 0.8 ms of the
/// middle page of 10 000 cases. The version is read in the page's own statement, so a page
/// read by a start that another process's change made stale is thrown away and read by its
/// offset. Bounded: past [`PageStarts::MAX`] starts they are all forgotten.
#[derive(Default)]
pub(crate) struct PageStarts(std::sync::Mutex<std::collections::HashMap<StartKey, Start>>);

/// A numbered page of the list: open only, drafts left out, its offset.
type StartKey = (bool, bool, i64);
/// Where it began: the list's version, the id of its first case.
type Start = (i64, i64);

impl PageStarts {
    const MAX: usize = 4096;

    pub(super) fn get(&self, key: &StartKey) -> Option<Start> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
    }

    pub(super) fn keep(&self, key: StartKey, start: Start) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if m.len() >= Self::MAX && !m.contains_key(&key) {
            m.clear();
        }
        m.insert(key, start);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deep page's start is kept only for the list filtered by its flags alone: any value
    /// makes its own walk, and the first [`SHALLOW`] cases are read by their offset.
    #[test]
    fn a_start_is_kept_only_for_the_flags_alone() {
        let deep = SHALLOW + 50;
        let flags = Filter {
            open_only: true,
            no_drafts: true,
            ..Filter::default()
        };
        assert_eq!(start_key(&flags, deep), Some((true, true, deep)));
        assert_eq!(
            start_key(&Filter::default(), deep),
            Some((false, false, deep))
        );
        assert_eq!(start_key(&flags, SHALLOW), None);
        let valued = [
            Filter {
                organization_id: Some(1),
                ..flags.clone()
            },
            Filter {
                stage: Some("evaluation"),
                ..flags.clone()
            },
            Filter {
                id: Some(1),
                ..flags.clone()
            },
            Filter {
                uscc: Some("91350100M000100Y43"),
                ..flags.clone()
            },
            Filter {
                name_like: Some("灾备"),
                ..flags.clone()
            },
            Filter {
                lead_id: Some(1),
                ..flags.clone()
            },
            Filter {
                filed_from: Some("2026-01-01"),
                ..flags.clone()
            },
            Filter {
                filed_to: Some("2026-01-01"),
                ..flags.clone()
            },
            Filter {
                before_id: Some(1),
                ..flags.clone()
            },
            Filter {
                due_from: Some("2026-01-01"),
                ..flags.clone()
            },
            Filter {
                due_to: Some("2026-01-01"),
                ..flags.clone()
            },
        ];
        for f in &valued {
            assert_eq!(start_key(f, deep), None, "{f:?}");
        }
    }
}
