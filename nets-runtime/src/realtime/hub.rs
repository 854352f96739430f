//! The sockets this instance holds: who they belong to, which groups they are in, and
//! their send queues. Every map entry is removed when its socket's driver ends, however
//! the socket ended (a close, an error, a dropped connection).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::socket::Closer;
use crate::oauth::OAuth;

/// Close codes and reasons nets sends.
pub(crate) mod close {
    /// The token that opened the socket was revoked or expired.
    pub const TOKEN: u16 = 4401;
    /// The send queue filled: the client reads too slowly.
    pub const POLICY: u16 = 1008;
    /// The peer was silent past the idle timeout, or the server is going away.
    pub const GOING_AWAY: u16 = 1001;
    /// A client message over `NETS_CORE_WS_MAX_MESSAGE_BYTES`.
    pub const TOO_BIG: u16 = 1009;
    /// The handler returned.
    pub const NORMAL: u16 = 1000;
}

/// The registry of this instance's live sockets.
#[derive(Default)]
pub(crate) struct Hub {
    next_id: AtomicU64,
    registry: Mutex<Registry>,
    /// A token-bound socket registered since the last revocation check.
    unchecked: AtomicBool,
    watching: AtomicBool,
}

#[derive(Default)]
struct Registry {
    sockets: HashMap<u64, Entry>,
    users: HashMap<i64, Vec<u64>>,
    groups: HashMap<String, HashSet<u64>>,
}

struct Entry {
    outbox: mpsc::Sender<Message>,
    closer: Arc<Closer>,
    user: Option<i64>,
    /// The digest (hex) of the access token that opened it.
    token: Option<Arc<str>>,
    groups: Vec<String>,
}

/// What a hub holds, for monitoring and leak checks ([`Channels::stats`](super::Channels::stats)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct Stats {
    /// Live sockets on this instance.
    pub sockets: usize,
    /// Users with at least one live socket here.
    pub users: usize,
    /// Groups with at least one member here.
    pub groups: usize,
}

impl Hub {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        // A panic while holding the lock cannot leave the maps half-updated in a way
        // that matters more than refusing every later socket would.
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a socket; its id.
    pub fn register(
        &self,
        outbox: mpsc::Sender<Message>,
        closer: Arc<Closer>,
        user: Option<i64>,
        token: Option<Arc<str>>,
    ) -> u64 {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        if token.is_some() {
            self.unchecked.store(true, Ordering::Release);
        }
        let mut registry = self.registry();
        if let Some(user) = user {
            registry.users.entry(user).or_default().push(id);
        }
        registry.sockets.insert(id, Entry { outbox, closer, user, token, groups: Vec::new() });
        id
    }

    /// Removes a socket from every map; `Some(user)` when it was that user's last
    /// socket here.
    pub fn unregister(&self, id: u64) -> Option<i64> {
        let mut registry = self.registry();
        let entry = registry.sockets.remove(&id)?;
        for group in &entry.groups {
            if let Some(members) = registry.groups.get_mut(group) {
                members.remove(&id);
                if members.is_empty() {
                    registry.groups.remove(group);
                }
            }
        }
        let user = entry.user?;
        let sockets = registry.users.get_mut(&user)?;
        sockets.retain(|s| *s != id);
        if sockets.is_empty() {
            registry.users.remove(&user);
            return Some(user);
        }
        None
    }

    /// Adds socket `id` to `group`; `false` when the socket is gone.
    pub fn group_add(&self, group: &str, id: u64) -> bool {
        let mut registry = self.registry();
        let Some(entry) = registry.sockets.get_mut(&id) else { return false };
        if !entry.groups.iter().any(|g| g == group) {
            entry.groups.push(group.to_owned());
        }
        registry.groups.entry(group.to_owned()).or_default().insert(id);
        true
    }

    /// Removes socket `id` from `group`.
    pub fn group_discard(&self, group: &str, id: u64) {
        let mut registry = self.registry();
        if let Some(entry) = registry.sockets.get_mut(&id) {
            entry.groups.retain(|g| g != group);
        }
        if let Some(members) = registry.groups.get_mut(group) {
            members.remove(&id);
            if members.is_empty() {
                registry.groups.remove(group);
            }
        }
    }

    /// Queues `text` on every socket of `user` here; how many took it.
    pub fn deliver_user(&self, user: i64, text: &Utf8Bytes) -> usize {
        let registry = self.registry();
        let Some(ids) = registry.users.get(&user) else { return 0 };
        ids.iter().filter_map(|id| registry.sockets.get(id)).filter(|e| offer(e, text)).count()
    }

    /// Queues `text` on every member of `group` here; how many took it.
    pub fn deliver_group(&self, group: &str, text: &Utf8Bytes) -> usize {
        let registry = self.registry();
        let Some(ids) = registry.groups.get(group) else { return 0 };
        ids.iter().filter_map(|id| registry.sockets.get(id)).filter(|e| offer(e, text)).count()
    }

    /// Whether `user` has a live socket here.
    pub fn has_user(&self, user: i64) -> bool {
        self.registry().users.contains_key(&user)
    }

    /// Users with a live socket here.
    pub fn users(&self) -> Vec<i64> {
        self.registry().users.keys().copied().collect()
    }

    pub fn stats(&self) -> Stats {
        let registry = self.registry();
        Stats { sockets: registry.sockets.len(), users: registry.users.len(), groups: registry.groups.len() }
    }

    /// Closes every socket (server shutdown).
    pub fn close_all(&self, code: u16, reason: &str) {
        for entry in self.registry().sockets.values() {
            entry.closer.close(code, reason);
        }
    }

    /// The distinct tokens of live sockets.
    fn tokens(&self) -> Vec<String> {
        let registry = self.registry();
        let set: HashSet<&str> = registry.sockets.values().filter_map(|e| e.token.as_deref()).collect();
        set.into_iter().map(str::to_owned).collect()
    }

    /// Closes the sockets whose token was `checked` and is not in `valid`.
    fn close_revoked(&self, checked: &[String], valid: &HashSet<String>) -> usize {
        let checked: HashSet<&str> = checked.iter().map(String::as_str).collect();
        let mut closed = 0;
        for entry in self.registry().sockets.values() {
            if let Some(token) = entry.token.as_deref()
                && checked.contains(token)
                && !valid.contains(token)
            {
                entry.closer.close(close::TOKEN, "token revoked");
                closed += 1;
            }
        }
        closed
    }

    /// Starts (once) the task that closes the sockets of revoked tokens: every `every`,
    /// while sockets are open, it reads the token generation; when it changed (or a
    /// socket opened since the last check), one query says which tokens are still valid.
    pub fn watch_revocations(self: &Arc<Self>, oauth: &OAuth, every: Duration) {
        let Some(sync) = oauth.revocations().cloned() else { return };
        if self.watching.swap(true, Ordering::AcqRel) {
            return;
        }
        let (hub, oauth) = (Arc::downgrade(self), oauth.clone());
        tokio::spawn(async move {
            let mut seen: Option<u64> = None;
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(hub) = Weak::upgrade(&hub) else { return };
                let tokens = hub.tokens();
                if tokens.is_empty() {
                    continue;
                }
                let generation = match sync.current().await {
                    Ok(generation) => generation,
                    Err(e) => {
                        tracing::warn!(error = %e, "realtime: token generation unavailable; revocations wait");
                        continue;
                    }
                };
                let fresh = hub.unchecked.swap(false, Ordering::AcqRel);
                if seen == Some(generation) && !fresh {
                    continue;
                }
                match oauth.still_valid(&tokens).await {
                    Ok(valid) => {
                        let closed = hub.close_revoked(&tokens, &valid);
                        if closed > 0 {
                            tracing::info!(closed, "realtime: closed the sockets of revoked tokens");
                        }
                        seen = Some(generation);
                    }
                    Err(e) => {
                        hub.unchecked.store(fresh, Ordering::Release);
                        tracing::warn!(error = %e, "realtime: cannot check tokens; revocations wait");
                    }
                }
            }
        });
    }
}

/// Queues `text` on one socket without waiting: a full queue closes the socket (the
/// client reads too slowly) rather than holding the sender or growing memory.
fn offer(entry: &Entry, text: &Utf8Bytes) -> bool {
    match entry.outbox.try_send(Message::Text(text.clone())) {
        Ok(()) => true,
        Err(TrySendError::Full(_)) => {
            entry.closer.close(close::POLICY, "send queue full: the client reads too slowly");
            false
        }
        Err(TrySendError::Closed(_)) => false,
    }
}
