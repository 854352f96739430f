//! Static answers sent as built once: `GET /openapi.json` and the `/docs` assets. Each
//! form has a strong `ETag` of its own (a client that has it gets `304 Not Modified`;
//! `-gzip` and `-br` tell the codings apart, so a cache holding one coding is never
//! told that another is the same; RFC 9110 §8.8.3) and, when it is
//! text, brotli (feature `brotli`) and gzip copies, each made once, when a client first
//! accepts it (a real app's document and Swagger UI's script are tens to hundreds of
//! kilobytes of repetitive text), chosen by `Accept-Encoding` and its q-values.
//!
//! Every form's headers are complete when it is made, the security headers included, so
//! an answer is a copy of them plus the request id: such an answer needs nothing from
//! nets' middleware (`/openapi.json` is served outside it), and passes through it
//! unchanged (`/docs`).

use std::io::Write;
use std::sync::OnceLock;

use axum::body::Body;
use axum::http::StatusCode;
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::response::Response;
use bytes::Bytes;
use sha2::{Digest, Sha256};

use crate::app::REQUEST_ID;
use crate::security_headers::SecurityHeaders;

/// The bytes, their brotli and gzip forms, their type and their entity tag.
pub(crate) struct Precompressed {
    identity: Form,
    /// Whether the bytes are worth compressing (text).
    compress: bool,
    /// Each made on first demand, once (a coding no client asks for costs neither time
    /// nor memory); `None` if compressing failed or was not worth it (then another form
    /// goes out).
    br: OnceLock<Option<Form>>,
    gzip: OnceLock<Option<Form>>,
    content_type: HeaderValue,
    /// The identity form's entity tag, without its quotes.
    tag: String,
    security: Option<SecurityHeaders>,
}

/// One coding of the bytes, its entity tag, and the complete headers of a `200`
/// carrying it and of a `304` naming it.
struct Form {
    body: Bytes,
    etag: HeaderValue,
    headers: HeaderMap,
    not_modified: HeaderMap,
}

/// A content coding of the answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

impl Coding {
    fn name(self) -> Option<&'static str> {
        match self {
            Coding::Br => Some("br"),
            Coding::Gzip => Some("gzip"),
            Coding::Identity => None,
        }
    }
}

/// Brotli's slowest, smallest setting up to this size; above it, quality 9 (Swagger UI's
/// 1.4 MB script would take seconds at 11, for a few percent).
#[cfg(feature = "brotli")]
const BEST_BROTLI_UP_TO: usize = 256 * 1024;

impl Precompressed {
    /// `bytes` of `content_type`, compressed when `compress` (text; images and archives
    /// are compressed already), each coding on the first request that accepts it: a few
    /// milliseconds per 100 KB. [`compressed`](Self::compressed) makes both at once.
    /// Answers carry `security` (the app's security headers).
    pub(crate) fn new(
        bytes: impl Into<Bytes>,
        content_type: HeaderValue,
        compress: bool,
        security: Option<SecurityHeaders>,
    ) -> Precompressed {
        let identity: Bytes = bytes.into();
        let digest = Sha256::digest(&identity);
        let tag: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
        // The identity form is made from the other fields, below.
        let empty = || Form {
            body: Bytes::new(),
            etag: HeaderValue::from_static("\"\""),
            headers: HeaderMap::new(),
            not_modified: HeaderMap::new(),
        };
        let mut made = Precompressed {
            identity: empty(),
            compress,
            br: OnceLock::new(),
            gzip: OnceLock::new(),
            content_type,
            tag,
            security,
        };
        made.identity = made.form(identity, Coding::Identity);
        made
    }

    /// With both codings made now (on a blocking thread, for large assets).
    #[cfg(any(feature = "docs-ui", test))]
    pub(crate) fn compressed(self) -> Precompressed {
        let _ = (self.br(), self.gzip());
        self
    }

    fn br(&self) -> Option<&Form> {
        self.br.get_or_init(|| self.worth(brotli, Coding::Br)).as_ref()
    }

    fn gzip(&self) -> Option<&Form> {
        self.gzip.get_or_init(|| self.worth(gzip, Coding::Gzip)).as_ref()
    }

    /// The copy `compress` makes, if it is worth a `Content-Encoding`: of compressible
    /// bytes, and smaller.
    fn worth(&self, compress: fn(&[u8]) -> Option<Bytes>, coding: Coding) -> Option<Form> {
        if !self.compress {
            return None;
        }
        let body = compress(&self.identity.body).filter(|c| c.len() < self.identity.body.len())?;
        Some(self.form(body, coding))
    }

    fn form(&self, body: Bytes, coding: Coding) -> Form {
        let tag = match coding.name() {
            Some(name) => format!("\"{}-{name}\"", self.tag),
            None => format!("\"{}\"", self.tag),
        };
        // Hex digits and a coding name: always a valid header value.
        let etag = HeaderValue::from_str(&tag).unwrap_or(HeaderValue::from_static("\"nets\""));
        let mut headers = self.headers(&etag, Some(coding));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        let not_modified = self.headers(&etag, None);
        Form { body, etag, headers, not_modified }
    }

    /// The complete headers of a `200` in `coding`, or of a `304` (`None`).
    fn headers(&self, etag: &HeaderValue, coding: Option<Coding>) -> HeaderMap {
        let mut headers = HeaderMap::with_capacity(crate::response::HEADER_ROOM);
        headers.insert(header::ETAG, etag.clone());
        // Caches keep it, and ask again (a cheap 304) before using it.
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        // `Authorization` too, as on every nets answer: one line, so the security
        // headers add no second `Vary`.
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding, authorization"));
        if let Some(coding) = coding {
            headers.insert(header::CONTENT_TYPE, self.content_type.clone());
            if let Some(name) = coding.name() {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(name));
            }
        }
        crate::middleware::finish(&mut headers, self.security.as_ref(), None);
        // Its slot, so that setting each answer's id does not grow the copy.
        headers.insert(REQUEST_ID, HeaderValue::from_static("-"));
        headers
    }

    /// The answer to a request with `headers`: the form it accepts, or `304` when it
    /// names that form's tag.
    pub(crate) fn answer(&self, headers: &HeaderMap) -> Response {
        let (br, gzip) = qualities(headers);
        let coding = choose_of(br, gzip);
        let br = if coding == Coding::Br { self.br() } else { None };
        // Gzip when preferred, or accepted and brotli failed.
        let gzip = if coding != Coding::Identity && br.is_none() && gzip > 0.0 { self.gzip() } else { None };
        let form = br.or(gzip).unwrap_or(&self.identity);
        let (status, body, out) = if matches_etag(headers, &form.etag) {
            (StatusCode::NOT_MODIFIED, Bytes::new(), &form.not_modified)
        } else {
            (StatusCode::OK, form.body.clone(), &form.headers)
        };
        let mut response = Response::new(Body::from(body));
        *response.status_mut() = status;
        // A copy of a finished map: no hashing, and room for the request id.
        *response.headers_mut() = out.clone();
        response.headers_mut().insert(REQUEST_ID, crate::request_id::of(headers));
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
        let doc = Precompressed::new(text.clone(), json.clone(), true, None);
        let answer = doc.answer(&headers(&[("accept-encoding", "gzip")]));
        assert_eq!(answer.headers().get(header::CONTENT_ENCODING), Some(&HeaderValue::from_static("gzip")));
        assert!(doc.gzip.get().is_some_and(Option::is_some) && doc.br.get().is_none(), "brotli never asked for");
        let made = doc.gzip().map(|f| f.body.as_ptr());
        doc.answer(&headers(&[("accept-encoding", "gzip")]));
        assert_eq!(doc.gzip().map(|f| f.body.as_ptr()), made, "the same copy, not a new one");
        let answer = doc.answer(&headers(&[("accept-encoding", "br, gzip;q=0.5")]));
        let encoding = answer.headers().get(header::CONTENT_ENCODING);
        #[cfg(feature = "brotli")]
        assert!(doc.br.get().is_some_and(Option::is_some) && encoding == Some(&HeaderValue::from_static("br")));
        // Without the `brotli` feature: gzip, the other coding the client accepts.
        #[cfg(not(feature = "brotli"))]
        assert!(doc.br.get().is_some_and(Option::is_none) && encoding == Some(&HeaderValue::from_static("gzip")));
        // Not text: never compressed, whatever the client accepts.
        let image = Precompressed::new(text, HeaderValue::from_static("image/png"), false, None);
        let answer = image.answer(&headers(&[("accept-encoding", "br, gzip")]));
        assert_eq!(answer.headers().get(header::CONTENT_ENCODING), None);
        let both = Precompressed::new("x".repeat(4096), json, true, None).compressed();
        assert!(both.br.get().is_some() && both.gzip.get().is_some_and(Option::is_some));
    }

    #[test]
    fn answers_are_complete_when_built() {
        let security = SecurityHeaders::from_settings(&crate::Settings::default()).ok();
        let json = HeaderValue::from_static("application/json");
        let doc = Precompressed::new("{\"a\": 1} ".repeat(100), json, true, security);
        let answer = doc.answer(&headers(&[("accept-encoding", "gzip"), ("x-request-id", "abc")]));
        let out = answer.headers();
        assert_eq!(out.get(header::X_FRAME_OPTIONS), Some(&HeaderValue::from_static("DENY")));
        assert_eq!(out.get(header::X_CONTENT_TYPE_OPTIONS), Some(&HeaderValue::from_static("nosniff")));
        assert_eq!(out.get_all(header::VARY).iter().count(), 1, "one Vary line");
        assert_eq!(out.get(REQUEST_ID), Some(&HeaderValue::from_static("abc")), "the client's id");
        let length = doc.gzip().map(|f| f.body.len().to_string());
        assert_eq!(out.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).map(str::to_owned), length);
        // A request without an id gets a new one; each answer its own.
        let ids: Vec<HeaderValue> =
            (0..2).filter_map(|_| doc.answer(&HeaderMap::new()).headers().get(REQUEST_ID).cloned()).collect();
        assert!(ids.len() == 2 && ids[0] != ids[1] && ids[0].len() == 32, "{ids:?}");
        let etag = out.get(header::ETAG).cloned().unwrap();
        assert!(etag.to_str().unwrap().ends_with("-gzip\""), "{etag:?}");
        let mut again = HeaderMap::new();
        again.insert(header::IF_NONE_MATCH, etag.clone());
        // The gzip form's tag does not validate the identity form...
        assert_eq!(doc.answer(&again).status(), StatusCode::OK);
        // ...only the gzip form.
        again.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let not_modified = doc.answer(&again);
        assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED);
        assert_eq!(not_modified.headers().get(header::ETAG), Some(&etag));
        assert!(not_modified.headers().get(header::CONTENT_TYPE).is_none());
        assert!(
            not_modified.headers().get(header::X_FRAME_OPTIONS).is_some()
                && not_modified.headers().get(REQUEST_ID).is_some()
        );
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
