//! [`MemoryCache`]: the in-process backend, on moka.

use std::time::{Duration, Instant};

use bytes::Bytes;
use moka::Expiry;
use moka::future::Cache as Moka;
use moka::ops::compute::{CompResult, Op};

use super::{CacheBackend, CacheError, Counter, ttl_millis};
use crate::auth::BoxFuture;

/// A value and the moment it expires.
#[derive(Clone)]
struct Stored {
    bytes: Bytes,
    expires_at: Instant,
}

impl Stored {
    fn new(bytes: impl Into<Bytes>, ttl: Duration) -> Stored {
        Stored { bytes: bytes.into(), expires_at: Instant::now() + Duration::from_millis(ttl_millis(ttl)) }
    }
    fn live(&self) -> bool {
        self.expires_at > Instant::now()
    }
}

/// Each entry expires at its own `expires_at`; updates keep the entry's own deadline.
struct PerEntryTtl;

impl Expiry<String, Stored> for PerEntryTtl {
    fn expire_after_create(&self, _: &String, value: &Stored, now: Instant) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
    fn expire_after_update(&self, _: &String, value: &Stored, now: Instant, _: Option<Duration>) -> Option<Duration> {
        Some(value.expires_at.saturating_duration_since(now))
    }
}

/// The in-process cache backend: bounded, with a time-to-live per entry. Entries are
/// checked against their deadline on every read as well, so an entry is never seen
/// after it expired even before moka evicts it.
#[derive(Clone)]
pub struct MemoryCache {
    entries: Moka<String, Stored>,
}

impl MemoryCache {
    /// Holds at most `max_entries` (least recently used entries are evicted first).
    pub fn new(max_entries: u64) -> MemoryCache {
        MemoryCache { entries: Moka::builder().max_capacity(max_entries).expire_after(PerEntryTtl).build() }
    }
}

/// A live entry's bytes.
fn live(entry: Option<&Stored>) -> Option<&Stored> {
    entry.filter(|s| s.live())
}

impl CacheBackend for MemoryCache {
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>> {
        Box::pin(async move { Ok(live(self.entries.get(key).await.as_ref()).map(|s| s.bytes.to_vec())) })
    }

    fn set<'a>(&'a self, key: &'a str, value: &'a [u8], ttl: Duration) -> BoxFuture<'a, Result<(), CacheError>> {
        Box::pin(async move {
            self.entries.insert(key.to_owned(), Stored::new(value.to_vec(), ttl)).await;
            Ok(())
        })
    }

    fn set_if_absent<'a>(
        &'a self,
        key: &'a str,
        value: &'a [u8],
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move {
            let result = self
                .entries
                .entry_by_ref(key)
                .and_compute_with(|existing| {
                    let op = match existing {
                        Some(e) if e.value().live() => Op::Nop,
                        _ => Op::Put(Stored::new(value.to_vec(), ttl)),
                    };
                    std::future::ready(op)
                })
                .await;
            Ok(matches!(result, CompResult::Inserted(_) | CompResult::ReplacedWith(_)))
        })
    }

    fn delete<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move { Ok(live(self.entries.remove(key).await.as_ref()).is_some()) })
    }

    fn take<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, CacheError>> {
        // moka's remove is atomic per key: one caller gets the entry, the others `None`.
        Box::pin(async move { Ok(live(self.entries.remove(key).await.as_ref()).map(|s| s.bytes.to_vec())) })
    }

    fn delete_if_eq<'a>(&'a self, key: &'a str, expected: &'a [u8]) -> BoxFuture<'a, Result<bool, CacheError>> {
        Box::pin(async move {
            let result = self
                .entries
                .entry_by_ref(key)
                .and_compute_with(|existing| {
                    let op = match existing {
                        Some(e) if e.value().live() && e.value().bytes == expected => Op::Remove,
                        _ => Op::Nop,
                    };
                    std::future::ready(op)
                })
                .await;
            Ok(matches!(result, CompResult::Removed(_)))
        })
    }

    fn incr<'a>(&'a self, key: &'a str, window: Duration) -> BoxFuture<'a, Result<Counter, CacheError>> {
        Box::pin(async move {
            let result = self
                .entries
                .entry_by_ref(key)
                .and_compute_with(|existing| {
                    let op = match existing.as_ref().map(|e| e.value()).filter(|s| s.live()) {
                        None => Op::Put(Stored::new(&b"1"[..], window)),
                        Some(current) => match parse_count(&current.bytes) {
                            Some(n) => Op::Put(Stored {
                                bytes: Bytes::from(n.saturating_add(1).to_string()),
                                expires_at: current.expires_at,
                            }),
                            None => Op::Nop,
                        },
                    };
                    std::future::ready(op)
                })
                .await;
            match result {
                CompResult::Inserted(e) | CompResult::ReplacedWith(e) => {
                    let stored = e.value();
                    Ok(Counter {
                        count: parse_count(&stored.bytes).unwrap_or(u64::MAX),
                        ttl: stored.expires_at.saturating_duration_since(Instant::now()),
                    })
                }
                _ => Err(CacheError::NotACounter(key.to_owned())),
            }
        })
    }
}

fn parse_count(bytes: &[u8]) -> Option<u64> {
    std::str::from_utf8(bytes).ok()?.parse().ok()
}
