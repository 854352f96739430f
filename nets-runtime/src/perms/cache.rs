//! The per-instance cache of effective permissions: one [`Scope`] per (user, project),
//! valid under one generation token (see [`super::sync`]) and for at most a set age.
//!
//! Reads take a shared lock and clone an `Arc`: no allocation, no I/O. When a check
//! brings a token the cache was not filled under, everything is dropped at once — a
//! change anywhere may affect anyone — and refilled on demand.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use crate::Membership;

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
    loaded: Instant,
}

impl Scope {
    pub(crate) fn new(exists: bool, membership: Option<Membership>, grants: HashSet<Box<str>>) -> Self {
        Scope { exists, membership, grants, loaded: Instant::now() }
    }
}

struct Filled {
    token: u64,
    scopes: HashMap<Key, Arc<Scope>>,
}

pub(crate) struct ScopeCache {
    filled: RwLock<Filled>,
    max_age: Duration,
    max_entries: usize,
}

impl ScopeCache {
    pub(crate) fn new(max_age: Duration, max_entries: usize) -> Self {
        ScopeCache { filled: RwLock::new(Filled { token: 0, scopes: HashMap::new() }), max_age, max_entries }
    }

    /// The scope cached under `token`, if it is young enough.
    pub(crate) fn get(&self, token: u64, key: Key) -> Option<Arc<Scope>> {
        {
            let filled = self.filled.read().unwrap_or_else(|e| e.into_inner());
            if filled.token == token {
                return filled.scopes.get(&key).filter(|s| s.loaded.elapsed() < self.max_age).cloned();
            }
        }
        // A new token: whatever was cached may be stale.
        let mut filled = self.filled.write().unwrap_or_else(|e| e.into_inner());
        if filled.token != token {
            filled.token = token;
            filled.scopes.clear();
        }
        None
    }

    /// Keeps `scope`, loaded after `token` was read, unless the token moved on since (the
    /// load may predate the change that moved it).
    pub(crate) fn put(&self, token: u64, key: Key, scope: Arc<Scope>) {
        let mut filled = self.filled.write().unwrap_or_else(|e| e.into_inner());
        if filled.token != token {
            return;
        }
        if filled.scopes.len() >= self.max_entries {
            filled.scopes.clear();
        }
        filled.scopes.insert(key, scope);
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
}
