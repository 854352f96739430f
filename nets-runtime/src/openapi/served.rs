//! `GET /openapi.json` as sent: built once, with a strong `ETag` (a client that has the
//! document gets `304 Not Modified`) and brotli and gzip copies for clients that accept
//! them (the document of a real app is tens of kilobytes of repetitive JSON), chosen by
//! `Accept-Encoding` and its q-values.

use std::io::Write;

use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The document's bytes, their brotli and gzip forms and their entity tag.
pub(super) struct Served {
    json: Bytes,
    /// `None` if compressing failed (then another form goes out).
    br: Option<Bytes>,
    gzip: Option<Bytes>,
    etag: HeaderValue,
}

/// A content coding of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

impl Served {
    pub(super) fn new(json: String) -> Served {
        let digest = Sha256::digest(json.as_bytes());
        let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"openapi\""));
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let gzip = encoder.write_all(json.as_bytes()).and_then(|()| encoder.finish()).ok().map(Bytes::from);
        // Quality 11, 4 MiB window: the slowest setting, paid once at start-up.
        let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, 11, 22);
        let br = writer.write_all(json.as_bytes()).and_then(|()| writer.flush()).ok().map(|()| writer.into_inner());
        Served { json: Bytes::from(json), br: br.map(Bytes::from), gzip, etag }
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
        let (coding, body) = match (choose(headers), &self.br, &self.gzip) {
            (Coding::Br, Some(br), _) => ("br", br),
            (Coding::Br | Coding::Gzip, _, Some(gzip)) if accepts(headers, "gzip") => ("gzip", gzip),
            _ => return (common, [(header::CONTENT_TYPE, json)], self.json.clone()).into_response(),
        };
        let encoding = (header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        (common, [(header::CONTENT_TYPE, json), encoding], body.clone()).into_response()
    }
}

/// The coding to send: the accepted one with the highest q-value, brotli on a tie (it
/// is the smaller), identity when neither is accepted.
fn choose(headers: &HeaderMap) -> Coding {
    let (br, gzip) = (quality(headers, "br"), quality(headers, "gzip"));
    match (br, gzip) {
        (b, g) if b > 0.0 && b >= g => Coding::Br,
        (_, g) if g > 0.0 => Coding::Gzip,
        _ => Coding::Identity,
    }
}

/// Whether `coding` is accepted (q above 0).
fn accepts(headers: &HeaderMap, coding: &str) -> bool {
    quality(headers, coding) > 0.0
}

/// The q-value `Accept-Encoding` gives `coding` (or `*`): 0 when not listed.
fn quality(headers: &HeaderMap, coding: &str) -> f32 {
    let codings = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
    let mut named: Option<f32> = None;
    let mut star: Option<f32> = None;
    for item in codings.flat_map(|v| v.split(',')) {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let q = parts.find_map(|p| p.strip_prefix("q=")).map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        if name.eq_ignore_ascii_case(coding) {
            named = Some(named.map_or(q, |n| n.max(q)));
        } else if name == "*" {
            star = Some(q);
        }
    }
    named.or(star).unwrap_or(0.0)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn content_negotiation_follows_rfc_9110() {
        let coding = |value: &'static str| choose(&headers(&[("accept-encoding", value)]));
        assert_eq!(coding("br, gzip;q=0.8"), Coding::Br);
        assert_eq!(coding("gzip, br"), Coding::Br, "a tie goes to the smaller");
        assert_eq!(coding("gzip, br;q=0.5"), Coding::Gzip);
        assert_eq!(coding("gzip, deflate"), Coding::Gzip);
        assert_eq!(coding("*"), Coding::Br);
        assert_eq!(coding("*;q=0.5, br;q=0"), Coding::Gzip, "br refused, gzip by the wildcard");
        assert_eq!(coding("gzip;q=0"), Coding::Identity);
        assert_eq!(coding("identity"), Coding::Identity);
        assert_eq!(choose(&HeaderMap::new()), Coding::Identity);
        assert!(accepts(&headers(&[("accept-encoding", "GZIP")]), "gzip"));
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(matches_etag(&headers(&[("if-none-match", "\"x\", W/\"abc\"")]), &etag));
        assert!(matches_etag(&headers(&[("if-none-match", "*")]), &etag));
        assert!(!matches_etag(&headers(&[("if-none-match", "\"abcd\"")]), &etag));
    }
}
