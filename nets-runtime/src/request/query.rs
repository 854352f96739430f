//! The query string: the lowest-priority parameter source.
//!
//! It is scanned once per request, keeping only the pairs whose key is a declared
//! parameter; the others are counted towards `NETS_CORE_MAX_FIELDS` and never copied.
//! Splitting on `&` and `=` is done here (both are ASCII, so always character
//! boundaries); decoding (percent escapes, `+`, lossy UTF-8) is `form_urlencoded`'s, and
//! only for the components that need it.

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

/// Whether a raw query component needs decoding (`%XX` escapes or `+` for space).
fn needs_decoding(raw: &str) -> bool {
    raw.bytes().any(|b| b == b'%' || b == b'+')
}

/// Decodes one `key=value` segment; borrowed when nothing needs decoding, which is the
/// common case. Decoding itself (percent escapes, `+`, lossy UTF-8) is `form_urlencoded`'s.
pub(super) fn decode_segment(segment: &str) -> (Cow<'_, str>, Cow<'_, str>) {
    if !needs_decoding(segment) {
        let (key, value) = segment.split_once('=').unwrap_or((segment, ""));
        return (Cow::Borrowed(key), Cow::Borrowed(value));
    }
    form_urlencoded::parse(segment.as_bytes()).next().unwrap_or((Cow::Borrowed(""), Cow::Borrowed("")))
}

/// Appends the query pairs whose key `wanted` recognises, grouping repeated keys into
/// [`Raw::Many`]; every pair counts towards `max_fields`. Keys without escapes are
/// compared without decoding, and only the values kept are decoded and copied.
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
        let name = if needs_decoding(raw_key) { wanted(&decode_segment(segment).0) } else { wanted(raw_key) };
        let Some(name) = name else { continue };
        let value = Raw::Text(decode_segment(segment).1.into_owned());
        match out[start..].iter_mut().find(|(k, _)| k == name) {
            Some((_, existing)) => existing.push(value),
            None => out.push((Cow::Borrowed(name), value)),
        }
    }
    Ok(())
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
        assert_eq!(query("bad=%FF", "bad").unwrap().as_str(), Some("\u{FFFD}"));
        let Some(Raw::Many(items)) = query("t=a&&t=b&t=c", "t") else { panic!("expected a list") };
        assert_eq!(items.iter().filter_map(Raw::as_str).collect::<Vec<_>>(), ["a", "b", "c"]);
        assert!(query("ab=1&a%62c=2", "a").is_none());
    }
}
