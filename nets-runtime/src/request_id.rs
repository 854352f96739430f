//! `x-request-id` for requests that come without one.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{HeaderValue, Request};
use tower_http::request_id::{MakeRequestId, RequestId};

/// A random 64-bit prefix drawn at start-up, then a counter: 32 hex digits, the size of
/// a UUID's. Unique within a run, and across runs and instances in practice, at the
/// cost of an atomic increment (a UUID v4 per request costs a `getrandom` system call).
/// Not a secret: it only correlates a client's report with the logs.
#[derive(Clone, Debug)]
pub(crate) struct Sequential {
    prefix: u64,
    next: Arc<AtomicU64>,
}

impl Sequential {
    pub(crate) fn new() -> Sequential {
        Sequential { prefix: uuid::Uuid::new_v4().as_u64_pair().0, next: Arc::default() }
    }
}

impl MakeRequestId for Sequential {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        const DIGITS: &[u8; 16] = b"0123456789abcdef";
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let mut text = [0_u8; 32];
        for (i, byte) in self.prefix.to_be_bytes().into_iter().chain(n.to_be_bytes()).enumerate() {
            text[2 * i] = DIGITS[usize::from(byte >> 4)];
            text[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
        }
        HeaderValue::from_bytes(&text).ok().map(RequestId::new)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_32_hex_digits_and_never_repeat() {
        let mut make = Sequential::new();
        let request = Request::new(());
        let ids: Vec<String> = (0..1000)
            .filter_map(|_| make.make_request_id(&request))
            .map(|id| id.header_value().to_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(ids.len(), 1000);
        assert!(ids.iter().all(|id| id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())));
        let distinct: std::collections::HashSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), 1000);
        // Another process (another prefix) never makes the same ids.
        let other = Sequential::new().make_request_id(&request).map(|id| id.header_value().clone());
        assert_ne!(other.as_ref().and_then(|v| v.to_str().ok()), Some(ids[0].as_str()));
    }
}
