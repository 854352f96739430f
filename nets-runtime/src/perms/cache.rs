//! Per-instance caches valid under one generation token (see [`super::sync`]):
//! [`GenerationCache`], and on it [`ScopeCache`], the effective permissions of each
//! (user, project). The OAuth token cache (`oauth::cache`) is a `GenerationCache` too.
//!
//! Reads take a shared lock and clone the value (an `Arc`): no allocation, no I/O. When a
//! read brings a generation the cache was not filled under, everything is dropped at
//! once — a change anywhere may affect anyone — and refilled on demand.

use std::collections::{HashMap, HashSet};
use std::hash::Hash;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::Membership;

/// Values kept under one generation, each until its own deadline, at most `max_entries`.
pub(crate) struct GenerationCache<K, V> {
    filled: RwLock<Filled<K, V>>,
    max_entries: usize,
}

struct Filled<K, V> {
    generation: u64,
    entries: HashMap<K, Kept<V>>,
}

struct Kept<V> {
    value: V,
    until: Instant,
}

/// `after` from now. Clamped to a year, because `Instant + Duration` panics on overflow
/// (a setting may say `u64::MAX` seconds) and nothing is worth keeping longer.
pub(crate) fn deadline(after: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 3600);
    Instant::now() + after.min(YEAR)
}

impl<K: Hash + Eq, V: Clone> GenerationCache<K, V> {
    pub(crate) fn new(max_entries: usize) -> Self {
        GenerationCache { filled: RwLock::new(Filled { generation: 0, entries: HashMap::new() }), max_entries }
    }

    /// The value kept for `key` under `generation`, before its deadline.
    pub(crate) fn get(&self, generation: u64, key: &K) -> Option<V> {
        {
            let filled = self.filled.read().unwrap_or_else(|e| e.into_inner());
            if filled.generation == generation {
                return filled
                    .entries
                    .get(key)
                    .filter(|kept| Instant::now() < kept.until)
                    .map(|kept| kept.value.clone());
            }
        }
        // A new generation: whatever was kept may be stale.
        let mut filled = self.filled.write().unwrap_or_else(|e| e.into_inner());
        if filled.generation != generation {
            filled.generation = generation;
            filled.entries.clear();
        }
        None
    }

    /// Keeps `value`, loaded after `generation` was read, until `until` — unless the
    /// generation moved on since (the load may predate the change that moved it).
    pub(crate) fn put(&self, generation: u64, key: K, value: V, until: Instant) {
        let mut filled = self.filled.write().unwrap_or_else(|e| e.into_inner());
        if filled.generation != generation {
            return;
        }
        if filled.entries.len() >= self.max_entries {
            // Drop what has expired; when most entries are still live, start over, so
            // the scan runs at most once per `max_entries / 2` insertions.
            let now = Instant::now();
            filled.entries.retain(|_, kept| now < kept.until);
            if filled.entries.len() > self.max_entries / 2 {
                filled.entries.clear();
            }
        }
        filled.entries.insert(key, Kept { value, until });
    }
}

/// `(user, project)`; `None` for an anonymous caller or the global scope.
pub(crate) type Key = (Option<i64>, Option<i64>);

/// What one user may do in one scope.
#[derive(Debug)]
pub(crate) struct Scope {
    /// Whether the project exists (always `true` for the global scope).
    pub exists: bool,
    /// The user's membership of the project.
    pub membership: Option<Membership>,
    /// Lower-case codenames granted through enabled roles of this scope.
    pub grants: HashSet<Box<str>>,
}

impl Scope {
    pub(crate) fn new(exists: bool, membership: Option<Membership>, grants: HashSet<Box<str>>) -> Self {
        Scope { exists, membership, grants }
    }
}

/// Scopes, each used for at most `max_age`.
pub(crate) struct ScopeCache {
    scopes: GenerationCache<Key, Arc<Scope>>,
    max_age: Duration,
}

impl ScopeCache {
    pub(crate) fn new(max_age: Duration, max_entries: usize) -> Self {
        ScopeCache { scopes: GenerationCache::new(max_entries), max_age }
    }

    /// The scope cached under `token`, if it is young enough.
    pub(crate) fn get(&self, token: u64, key: Key) -> Option<Arc<Scope>> {
        self.scopes.get(token, &key)
    }

    /// Keeps `scope`, loaded after `token` was read.
    pub(crate) fn put(&self, token: u64, key: Key, scope: Arc<Scope>) {
        self.scopes.put(token, key, scope, deadline(self.max_age));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(codename: &str) -> Arc<Scope> {
        Arc::new(Scope::new(true, None, [Box::from(codename)].into_iter().collect()))
    }

    #[test]
    fn a_new_token_drops_everything() {
        let cache = ScopeCache::new(Duration::from_secs(60), 10);
        assert!(cache.get(5, (Some(1), None)).is_none());
        cache.put(5, (Some(1), None), scope("a"));
        assert!(cache.get(5, (Some(1), None)).is_some_and(|s| s.grants.contains("a")));
        assert!(cache.get(6, (Some(1), None)).is_none());
        assert!(cache.get(5, (Some(1), None)).is_none(), "going back to an old token finds nothing either");
    }

    #[test]
    fn a_load_from_before_a_change_is_not_kept() {
        let cache = ScopeCache::new(Duration::from_secs(60), 10);
        assert!(cache.get(1, (Some(1), None)).is_none());
        assert!(cache.get(2, (Some(2), None)).is_none()); // another check saw the change
        cache.put(1, (Some(1), None), scope("stale"));
        assert!(cache.get(2, (Some(1), None)).is_none());
    }

    #[test]
    fn age_and_size_are_bounded() {
        let cache = ScopeCache::new(Duration::ZERO, 10);
        cache.get(1, (Some(1), None));
        cache.put(1, (Some(1), None), scope("a"));
        assert!(cache.get(1, (Some(1), None)).is_none(), "older than the maximum age");

        let cache = ScopeCache::new(Duration::from_secs(60), 2);
        cache.get(1, (None, None));
        for user in 1..=3 {
            cache.put(1, (Some(user), None), scope("a"));
        }
        assert!(cache.get(1, (Some(3), None)).is_some());
        assert!(cache.get(1, (Some(1), None)).is_none(), "a full cache starts over");
    }

    #[test]
    fn a_full_cache_first_drops_what_expired() {
        let cache = GenerationCache::new(4);
        cache.get(1, &0);
        let (past, later) = (Instant::now(), deadline(Duration::from_secs(60)));
        for key in 0..3 {
            cache.put(1, key, key, past);
        }
        cache.put(1, 3, 3, later);
        cache.put(1, 4, 4, later); // full: the three expired ones go, 3 stays
        assert_eq!((cache.get(1, &3), cache.get(1, &4)), (Some(3), Some(4)));
    }

    #[test]
    fn deadlines_do_not_overflow() {
        assert!(deadline(Duration::MAX) > Instant::now());
    }
}
