//! `x-request-id` for requests that come without one.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::HeaderValue;

/// A random 64-bit prefix drawn at start-up, then a counter: 32 hex digits, the size of
/// a UUID's. Unique within a run, and across runs and instances in practice, at the
/// cost of an atomic increment (a UUID v4 per request costs a `getrandom` system call).
/// Not a secret: it only correlates a client's report with the logs.
#[derive(Debug)]
pub(crate) struct Sequential {
    prefix: u64,
    next: AtomicU64,
}

impl Sequential {
    pub(crate) fn new() -> Sequential {
        Sequential { prefix: uuid::Uuid::new_v4().as_u64_pair().0, next: AtomicU64::new(0) }
    }

    /// The next id.
    pub(crate) fn next(&self) -> HeaderValue {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut text = [0_u8; 32];
        for (i, byte) in self.prefix.to_be_bytes().into_iter().chain(n.to_be_bytes()).enumerate() {
            text[2 * i] = DIGITS[usize::from(byte >> 4)];
            text[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
        }
        // Hex digits are always a valid header value.
        HeaderValue::from_bytes(&text).unwrap_or(HeaderValue::from_static("-"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_never_repeat() {
        let make = Sequential::new();
        let ids: Vec<String> = (0..1000).map(|_| make.next().to_str().unwrap_or_default().to_owned()).collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 1000);
        // Another process (another prefix) never makes the same ids.
        let other = Sequential::new().next();
        assert_ne!(other.to_str().ok(), Some(ids[0].as_str()));
    }
}
