//! Static answers sent as built once: `GET /openapi.json` and the `/docs` assets. Each
//! has a strong `ETag` (a client that has it gets `304 Not Modified`) and, when it is
//! text, brotli (feature `brotli`) and gzip copies, each made once, when a client first
//! accepts it (a real app's document and Swagger UI's script are tens to hundreds of
//! kilobytes of repetitive text), chosen by `Accept-Encoding` and its q-values.

use std::io::Write;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

/// The bytes, their brotli and gzip forms, their type and their entity tag.
pub(crate) struct Precompressed {
    identity: Bytes,
    /// Whether the bytes are worth compressing (text).
    compress: bool,
    /// Each made on first demand, once (a coding no client asks for costs neither time
    /// nor memory); `None` if compressing failed or was not worth it (then another form
    /// goes out).
    br: OnceLock<Option<Bytes>>,
    gzip: OnceLock<Option<Bytes>>,
    content_type: HeaderValue,
    etag: HeaderValue,
}

/// A content coding of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

/// Brotli's slowest, smallest setting up to this size; above it, quality 9 (Swagger UI's
/// 1.4 MB script would take seconds at 11, for a few percent).
#[cfg(feature = "brotli")]
const BEST_BROTLI_UP_TO: usize = 256 * 1024;

impl Precompressed {
    /// `bytes` of `content_type`, compressed when `compress` (text; images and archives
    /// are compressed already), each coding on the first request that accepts it: a few
    /// milliseconds per 100 KB. [`compressed`](Self::compressed) makes both at once.
    pub(crate) fn new(bytes: impl Into<Bytes>, content_type: HeaderValue, compress: bool) -> Precompressed {
        let identity: Bytes = bytes.into();
        let digest = Sha256::digest(&identity);
        let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        let etag = HeaderValue::from_str(&format!("\"{tag}\"")).unwrap_or(HeaderValue::from_static("\"nets\""));
        Precompressed { identity, compress, br: OnceLock::new(), gzip: OnceLock::new(), content_type, etag }
    }

    /// With both codings made now (on a blocking thread, for large assets).
    #[cfg(any(feature = "docs-ui", test))]
    pub(crate) fn compressed(self) -> Precompressed {
        let _ = (self.br(), self.gzip());
        self
    }

    fn br(&self) -> Option<&Bytes> {
        self.br.get_or_init(|| self.worth(brotli)).as_ref()
    }

    fn gzip(&self) -> Option<&Bytes> {
        self.gzip.get_or_init(|| self.worth(gzip)).as_ref()
    }

    /// The copy `compress` makes, if it is worth a `Content-Encoding`: of compressible
    /// bytes, and smaller.
    fn worth(&self, compress: fn(&[u8]) -> Option<Bytes>) -> Option<Bytes> {
        if !self.compress {
            return None;
        }
        compress(&self.identity).filter(|c| c.len() < self.identity.len())
    }

    /// The answer to a request with `headers`.
    pub(crate) fn answer(&self, headers: &HeaderMap) -> Response {
        let (status, body, coding) = if matches_etag(headers, &self.etag) {
            (StatusCode::NOT_MODIFIED, Bytes::new(), None)
        } else {
            let (br, gzip) = qualities(headers);
            let coding = choose_of(br, gzip);
            let br = if coding == Coding::Br { self.br() } else { None };
            // Gzip when preferred, or accepted and brotli failed.
            let gzip = if coding != Coding::Identity && br.is_none() && gzip > 0.0 { self.gzip() } else { None };
            match (br, gzip) {
                (Some(br), _) => (StatusCode::OK, br.clone(), Some("br")),
                (None, Some(copy)) => (StatusCode::OK, copy.clone(), Some("gzip")),
                _ => (StatusCode::OK, self.identity.clone(), None),
            }
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        let out = response.headers_mut();
        // Room for these and the middleware's (security headers, request id) at once.
        out.reserve(16);
        out.insert(header::ETAG, self.etag.clone());
        // Caches keep it, and ask again (a cheap 304) before using it.
        out.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // `Authorization` too, as on every nets answer: written here in one line, the
        // middleware finds it and appends no second `Vary`.
        out.insert(header::VARY, HeaderValue::from_static("accept-encoding, authorization"));
        if status == StatusCode::OK {
            out.insert(header::CONTENT_TYPE, self.content_type.clone());
        }
        if let Some(coding) = coding {
            out.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding));
        }
        response
    }
}

fn gzip(bytes: &[u8]) -> Option<Bytes> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(bytes).and_then(|()| encoder.finish()).ok().map(Bytes::from)
}

#[cfg(feature = "brotli")]
fn brotli(bytes: &[u8]) -> Option<Bytes> {
    let quality = if bytes.len() <= BEST_BROTLI_UP_TO { 11 } else { 9 };
    // A window just large enough for the bytes: brotli's memory grows with it, and a
    // peak at start-up stays in the process's peak RSS.
    let window = (usize::BITS - bytes.len().leading_zeros()).clamp(16, 22);
    let mut writer = brotli::CompressorWriter::new(Vec::new(), 4096, quality, window);
    writer.write_all(bytes).and_then(|()| writer.flush()).ok().map(|()| Bytes::from(writer.into_inner()))
}

/// Built without the `brotli` feature: no brotli copy, so a client that also accepts
/// gzip gets gzip.
#[cfg(not(feature = "brotli"))]
fn brotli(_: &[u8]) -> Option<Bytes> {
    None
}

#[cfg(test)]
fn choose(headers: &HeaderMap) -> Coding {
    let (br, gzip) = qualities(headers);
    choose_of(br, gzip)
}

/// The coding to send: the accepted one with the highest q-value, brotli on a tie (it
/// is the smaller), identity when neither is accepted.
fn choose_of(br: f32, gzip: f32) -> Coding {
    match (br, gzip) {
        (b, g) if b > 0.0 && b >= g => Coding::Br,
        (_, g) if g > 0.0 => Coding::Gzip,
        _ => Coding::Identity,
    }
}

/// The q-values `Accept-Encoding` gives brotli and gzip (or `*`), in one pass: 0 when
/// not listed.
fn qualities(headers: &HeaderMap) -> (f32, f32) {
    let codings = headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok());
    let (mut br, mut gzip, mut star): (Option<f32>, Option<f32>, Option<f32>) = (None, None, None);
    for item in codings.flat_map(|v| v.split(',')) {
        let mut parts = item.split(';').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let slot = if name.eq_ignore_ascii_case("br") {
            &mut br
        } else if name.eq_ignore_ascii_case("gzip") {
            &mut gzip
        } else if name == "*" {
            &mut star
        } else {
            continue;
        };
        let q = parts.find_map(|p| p.strip_prefix("q=")).map_or(1.0, |q| q.parse::<f32>().unwrap_or(0.0));
        *slot = Some(slot.map_or(q, |n: f32| n.max(q)));
    }
    (br.or(star).unwrap_or(0.0), gzip.or(star).unwrap_or(0.0))
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
    fn each_coding_is_made_once_and_only_when_asked_for() {
        let text = "{\"openapi\": \"3.1.0\"} ".repeat(200);
        let json = HeaderValue::from_static("application/json");
        let doc = Precompressed::new(text.clone(), json.clone(), true);
        let answer = doc.answer(&headers(&[("accept-encoding", "gzip")]));
        assert_eq!(answer.headers().get(header::CONTENT_ENCODING), Some(&HeaderValue::from_static("gzip")));
        assert!(doc.gzip.get().is_some_and(Option::is_some) && doc.br.get().is_none(), "brotli never asked for");
        let made = doc.gzip().map(|b| b.as_ptr());
        doc.answer(&headers(&[("accept-encoding", "gzip")]));
        assert_eq!(doc.gzip().map(|b| b.as_ptr()), made, "the same copy, not a new one");
        let answer = doc.answer(&headers(&[("accept-encoding", "br, gzip;q=0.5")]));
        let encoding = answer.headers().get(header::CONTENT_ENCODING);
        #[cfg(feature = "brotli")]
        assert!(doc.br.get().is_some_and(Option::is_some) && encoding == Some(&HeaderValue::from_static("br")));
        // Without the `brotli` feature: gzip, the other coding the client accepts.
        #[cfg(not(feature = "brotli"))]
        assert!(doc.br.get().is_some_and(Option::is_none) && encoding == Some(&HeaderValue::from_static("gzip")));
        // Not text: never compressed, whatever the client accepts.
        let image = Precompressed::new(text, HeaderValue::from_static("image/png"), false);
        let answer = image.answer(&headers(&[("accept-encoding", "br, gzip")]));
        assert_eq!(answer.headers().get(header::CONTENT_ENCODING), None);
        let both = Precompressed::new("x".repeat(4096), json, true).compressed();
        assert!(both.br.get().is_some() && both.gzip.get().is_some_and(Option::is_some));
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
        assert!(qualities(&headers(&[("accept-encoding", "GZIP")])).1 > 0.0);
        let etag = HeaderValue::from_static("\"abc\"");
        assert!(matches_etag(&headers(&[("if-none-match", "\"x\", W/\"abc\"")]), &etag));
        assert!(matches_etag(&headers(&[("if-none-match", "*")]), &etag));
        assert!(!matches_etag(&headers(&[("if-none-match", "\"abcd\"")]), &etag));
    }
}
