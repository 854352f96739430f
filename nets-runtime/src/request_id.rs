//! `x-request-id` for requests that come without one.
//!
//! A random 64-bit prefix drawn once per process, then a counter: 32 hex digits, the
//! size of a UUID's. Unique within a run, and across runs and instances in practice, at
//! the cost of an atomic increment (a UUID v4 per request costs a `getrandom` system
//! call). Not a secret: it only correlates a client's report with the logs.
//!
//! Ids are written [`BATCH`] at a time into one buffer per thread, and each header value
//! shares that buffer: no allocation per request (a header value of its own would cost
//! one, and a second when the middleware copies it to the answer).

use std::cell::RefCell;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderMap, HeaderValue};
use bytes::Bytes;

use crate::app::REQUEST_ID;

/// Ids written at once, per thread.
const BATCH: u64 = 64;
/// Hex digits per id.
const LEN: usize = 32;

static PREFIX: LazyLock<u64> = LazyLock::new(|| uuid::Uuid::new_v4().as_u64_pair().0);
static NEXT: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// This thread's batch, and where its next id starts.
    static WRITTEN: RefCell<(Bytes, usize)> = const { RefCell::new((Bytes::new(), 0)) };
}

/// The id of a request with `headers`: the client's, or a new one.
pub(crate) fn of(headers: &HeaderMap) -> HeaderValue {
    headers.get(REQUEST_ID).cloned().unwrap_or_else(next)
}

/// The next id.
pub(crate) fn next() -> HeaderValue {
    let id = WRITTEN.with_borrow_mut(|(ids, at)| {
        if *at + LEN > ids.len() {
            (*ids, *at) = (batch(), 0);
        }
        *at += LEN;
        ids.slice(*at - LEN..*at)
    });
    // Hex digits are always a valid header value.
    HeaderValue::from_maybe_shared(id).unwrap_or(HeaderValue::from_static("-"))
}

/// The next [`BATCH`] ids, one after the other.
fn batch() -> Bytes {
    let first = NEXT.fetch_add(BATCH, Ordering::Relaxed);
    let prefix = hex(*PREFIX);
    let mut text = Vec::with_capacity(LEN * BATCH as usize);
    for n in first..first + BATCH {
        text.extend_from_slice(&prefix);
        text.extend_from_slice(&hex(n));
    }
    Bytes::from(text)
}

/// `n` as 16 hex digits.
fn hex(n: u64) -> [u8; 16] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    std::array::from_fn(|i| DIGITS[((n >> (60 - 4 * i)) & 0xf) as usize])
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_never_repeat_across_threads() {
        let made = |count: usize| (0..count).map(|_| next().to_str().unwrap_or_default().to_owned()).collect();
        // More than a batch per thread, from several threads at once.
        let threads: Vec<std::thread::JoinHandle<Vec<String>>> =
            (0..4).map(|_| std::thread::spawn(move || made(1000))).collect();
        let mut ids: Vec<String> = made(1000);
        for thread in threads {
            ids.extend(thread.join().unwrap());
        }
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        let distinct: HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 5000);
        assert_eq!(&hex(0x0123_4567_89ab_cdef), b"0123456789abcdef");
        // Every id of this process starts with its prefix.
        let prefix = format!("{:016x}", *PREFIX);
        assert!(ids.iter().all(|id| id.starts_with(&prefix)));
    }
}
