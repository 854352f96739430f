//! `GET /openapi.json` as sent: built once, with a strong `ETag` (a client that has the
//! document gets `304 Not Modified`) and a gzip copy for clients that accept it (the
//! document of a real app is tens of kilobytes of repetitive JSON).

use std::io::Write;

use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The document's bytes, their gzip form and their entity tag.
pub(super) struct Served {
    json: Bytes,
    /// `None` if compressing failed (then the plain bytes go out).
    gzip: Option<Bytes>,
    etag: HeaderValue,
}

impl Served {
    pub(super) fn new(json: String) -> Served {
        let digest = Sha256::digest(json.as_bytes());
        let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"openapi\""));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gzip = encoder.write_all(json.as_bytes()).and_then(|()| encoder.finish()).ok().map(Bytes::from);
        Served { json: Bytes::from(json), gzip, etag }
    }

    /// The answer to a request with `headers`.
    pub(super) fn answer(&self, headers: &HeaderMap) -> Response {
        let common = [
            (header::ETAG, self.etag.clone()),
            // Caches keep it, and ask again (a cheap 304) before using it.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (header::VARY, HeaderValue::from_static("accept-encoding")),
        ];
        if matches_etag(headers, &self.etag) {
            return (StatusCode::NOT_MODIFIED, common).into_response();
        }
        let json = HeaderValue::from_static("application/json");
        match &self.gzip {
            Some(gzip) if accepts_gzip(headers) => {
                let gzip_encoding = (header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                (common, [(header::CONTENT_TYPE, json), gzip_encoding], gzip.clone()).into_response()
            }
            _ => (common, [(header::CONTENT_TYPE, json)], self.json.clone()).into_response(),
        }
    }
}

/// `If-None-Match` names `etag` (or is `*`); weak tags compare by their value.
fn matches_etag(headers: &HeaderMap, etag: &HeaderValue) -> bool {
    let ours = etag.to_str().unwrap_or_default();
    headers.get_all(header::IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(
        |tag| {
            let tag = tag.trim();
            tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == ours
        },
    )
}

/// `Accept-Encoding` lists `gzip` (or `*`) without `q=0`.
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let codings = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
    codings.flat_map(|v| v.split(',')).any(|coding| {
        let mut parts = coding.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let refused = parts.any(|p| p.strip_prefix("q=").is_some_and(|q| q.parse::<f32>().is_ok_and(|q| q <= 0.0)));
        (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn content_negotiation_follows_rfc_9110() {
        assert!(accepts_gzip(&headers(&[("accept-encoding", "br, gzip;q=0.8")])));
        assert!(accepts_gzip(&headers(&[("accept-encoding", "*")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "gzip;q=0")])));
        assert!(!accepts_gzip(&headers(&[("accept-encoding", "identity")])));
        assert!(!accepts_gzip(&HeaderMap::new()));
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(matches_etag(&headers(&[("if-none-match", "\"x\", W/\"abc\"")]), &etag));
        assert!(matches_etag(&headers(&[("if-none-match", "*")]), &etag));
        assert!(!matches_etag(&headers(&[("if-none-match", "\"abcd\"")]), &etag));
    }
}
