//! The query string: the lowest-priority parameter source.
//!
//! It is scanned once per request, keeping only the pairs whose key is a declared
//! parameter; the others are counted towards `NETS_CORE_MAX_FIELDS` and never copied.
//! Splitting on `&` and `=` is done here (both are ASCII, so always character
//! boundaries); decoding (percent escapes, `+`) is strict: a component that is not UTF-8
//! once decoded is a 400, and only the components that are used are decoded.

use std::borrow::Cow;

use super::{Entries, too_many_fields};
use crate::ApiError;
use crate::params::Raw;

/// The `key=value` segments of a query string (empty segments skipped). Splits on the
/// byte `&`, which is always a character boundary.
pub(super) fn query_segments(query: &str) -> impl Iterator<Item = &str> {
    let bytes = query.as_bytes();
    let mut start = 0;
    std::iter::from_fn(move || {
        while start <= bytes.len() {
            let end = bytes[start..].iter().position(|&b| b == b'&').map_or(bytes.len(), |p| start + p);
            let segment = &query[start..end];
            start = end + 1;
            if !segment.is_empty() {
                return Some(segment);
            }
        }
        None
    })
}

/// Whether a raw component needs decoding (`%XX` escapes or `+` for space).
fn needs_decoding(raw: &[u8]) -> bool {
    raw.iter().any(|&b| b == b'%' || b == b'+')
}

/// Decodes one `application/x-www-form-urlencoded` component (`+` is a space, `%XX` a
/// byte). The result must be UTF-8: invalid bytes are an error, never silently turned
/// into U+FFFD (a client's data is kept exactly or refused). Borrowed when nothing needs
/// decoding, which is the common case.
pub(crate) fn decode_component(raw: &[u8]) -> Result<Cow<'_, str>, std::str::Utf8Error> {
    if !needs_decoding(raw) {
        return std::str::from_utf8(raw).map(Cow::Borrowed);
    }
    let spaced: Vec<u8> = raw.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect();
    let bytes: Vec<u8> = percent_encoding::percent_decode(&spaced).collect();
    String::from_utf8(bytes).map(Cow::Owned).map_err(|e| e.utf8_error())
}

/// Decodes one `key=value` segment of a query string or form body; a component that is
/// not UTF-8 once decoded is a 400 naming the parameter (or saying a name was bad).
pub(crate) fn decode_pair<'a>(segment: &'a [u8], source: &str) -> Result<(Cow<'a, str>, Cow<'a, str>), ApiError> {
    let (key, value) = match segment.iter().position(|&b| b == b'=') {
        Some(p) => (&segment[..p], &segment[p + 1..]),
        None => (segment, &[][..]),
    };
    let key = decode_component(key)
        .map_err(|_| ApiError::bad_request(format!("a parameter name in the {source} is not valid UTF-8")))?;
    let value = decode_component(value).map_err(|_| ApiError::field(key.as_ref(), "must be valid UTF-8"))?;
    Ok((key, value))
}

/// The pairs of `application/x-www-form-urlencoded` text (a form body, or a query string,
/// as `source` says in errors), each decoded strictly ([`decode_pair`]); empty segments
/// are skipped.
pub(crate) fn form_pairs<'a>(
    text: &'a [u8],
    source: &'static str,
) -> impl Iterator<Item = Result<(Cow<'a, str>, Cow<'a, str>), ApiError>> {
    text.split(|&b| b == b'&').filter(|s| !s.is_empty()).map(move |segment| decode_pair(segment, source))
}

/// [`decode_pair`] for the query string.
pub(super) fn decode_segment(segment: &str) -> Result<(Cow<'_, str>, Cow<'_, str>), ApiError> {
    decode_pair(segment.as_bytes(), "query string")
}

/// Appends the query pairs whose key `wanted` recognises, grouping repeated keys into
/// [`Raw::Many`]; every pair counts towards `max_fields`. Keys without escapes are
/// compared without decoding, and only the values kept are decoded and copied (an
/// undeclared pair is never decoded, so its bytes cannot fail the request).
pub(super) fn collect_query(
    query: &str,
    wanted: impl Fn(&str) -> Option<&'static str>,
    out: &mut Entries,
    max_fields: usize,
) -> Result<(), ApiError> {
    let start = out.len();
    let mut fields = out.len();
    for segment in query_segments(query) {
        fields += 1;
        if fields > max_fields {
            return Err(too_many_fields(max_fields));
        }
        let raw_key = segment.as_bytes().iter().position(|&b| b == b'=').map_or(segment, |p| &segment[..p]);
        let name = if needs_decoding(raw_key.as_bytes()) {
            decode_component(raw_key.as_bytes()).ok().and_then(|key| wanted(&key))
        } else {
            wanted(raw_key)
        };
        let Some(name) = name else { continue };
        let value = Raw::Text(decode_segment(segment)?.1.into_owned());
        match out[start..].iter_mut().find(|(k, _)| k == name) {
            Some((_, existing)) => existing.push(value),
            None => out.push((Cow::Borrowed(name), value)),
        }
    }
    Ok(())
}

/// Appends every pair (for an endpoint with a rest parameter), grouping repeated keys;
/// every pair counts towards `max_fields`, and each is decoded strictly.
pub(super) fn collect_all(query: &str, out: &mut Entries, max_fields: usize) -> Result<(), ApiError> {
    let pairs: Vec<(String, Raw)> = query_segments(query)
        .map(|segment| decode_segment(segment).map(|(k, v)| (k.into_owned(), Raw::Text(v.into_owned()))))
        .collect::<Result<_, _>>()?;
    super::push_grouped(out, pairs.into_iter(), max_fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, name: &'static str) -> Option<Raw> {
        let mut out = Entries::new();
        collect_query(q, |key| (key == name).then_some(name), &mut out, 1000).unwrap();
        out.pop().map(|(_, raw)| raw)
    }

    #[test]
    fn query_values_are_decoded_and_grouped() {
        assert_eq!(query("a=1&b=hello%20world+again", "b").unwrap().as_str(), Some("hello world again"));
        assert_eq!(query("first%20name=Ada&x=1", "first name").unwrap().as_str(), Some("Ada"));
        assert_eq!(query("q=a%3Db&eq=x=y", "eq").unwrap().as_str(), Some("x=y"));
        assert_eq!(query("flag&x=1", "flag").unwrap().as_str(), Some(""));
        let Some(Raw::Many(items)) = query("t=a&&t=b&t=c", "t") else { panic!("expected a list") };
        assert_eq!(items.iter().filter_map(Raw::as_str).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(query("ab=1&a%62c=2", "a").is_none());
    }

    #[test]
    fn invalid_utf8_is_refused_naming_the_parameter() {
        let mut out = Entries::new();
        let err = collect_query("ok=1&bad=%FF", |key| (key == "bad").then_some("bad"), &mut out, 1000).unwrap_err();
        assert_eq!(err.to_string(), "invalid value for parameter 'bad': must be valid UTF-8");
        // An undeclared pair is never decoded: it cannot fail the request.
        let mut out = Entries::new();
        collect_query("junk=%FF&x=1", |key| (key == "x").then_some("x"), &mut out, 1000).unwrap();
        assert_eq!(out.len(), 1);
        assert!(decode_pair(b"%FF=1", "form body").is_err());
        assert_eq!(decode_component(b"a+b%C3%A9").unwrap(), "a bé");
    }
}
