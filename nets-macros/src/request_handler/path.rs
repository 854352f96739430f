//! Compile-time validation of path templates such as `invoices/{id}/`.
//!
//! Errors point at the offending character inside the literal where the compiler
//! allows sub-spans (nightly); on stable the message carries a caret under it.

use proc_macro2::Span;
use syn::LitStr;

use crate::errors::Errors;

/// A validated template: its `{name}` parameters in order.
pub(crate) struct PathTemplate {
    pub params: Vec<PathParam>,
}

/// One `{name}` of a template, with its byte range in the literal's value (braces included).
pub(crate) struct PathParam {
    pub name: String,
    pub start: usize,
    pub end: usize,
}

const ALLOWED: &str = "letters, digits, '-', '_', '.', '~', '/' and {name} segments";

/// Span of bytes `start..end` of the literal's value, falling back to the whole literal.
fn sub_span(lit: &LitStr, start: usize, end: usize) -> Span {
    let token = lit.token();
    let repr = token.to_string();
    // Only plain "..." literals without escapes map value offsets to source offsets.
    if repr.len() == lit.value().len() + 2
        && repr.starts_with('"')
        && let Some(span) = token.subspan(start + 1..end + 1)
    {
        return span;
    }
    lit.span()
}

fn caret(value: &str, at: usize) -> String {
    let column = value[..at].chars().count();
    format!("\n  \"{value}\"\n   {}^", " ".repeat(column))
}

/// Records an error about bytes `start..end` of the literal's value: a caret under them
/// in the message, and the narrowest span the compiler allows.
pub(crate) fn report(
    errors: &mut Errors,
    lit: &LitStr,
    value: &str,
    start: usize,
    end: usize,
    message: &str,
    help: &str,
) {
    let mut text = format!("{message}{}", caret(value, start));
    if !help.is_empty() {
        text.push_str(&format!("\n  help: {help}"));
    }
    errors.at(sub_span(lit, start, end), text);
}

pub(crate) fn validate(lit: &LitStr, errors: &mut Errors) -> PathTemplate {
    let value = lit.value();
    let mut params: Vec<PathParam> = Vec::new();
    let bytes = value.as_bytes();
    let mut i = 0;
    let mut segment_start = 0;
    while i < bytes.len() {
        let c = value[i..].chars().next().unwrap_or('\0');
        match c {
            '/' => {
                if i > 0 && bytes[i - 1] == b'/' {
                    report(errors, lit, &value, i, i + 1, "empty path segment ('//')", "remove the extra '/'");
                }
                segment_start = i + 1;
                i += 1;
            }
            '{' => {
                let Some(close) = value[i..].find('}').map(|p| i + p) else {
                    report(errors, lit, &value, i, i + 1, "unclosed '{' in path", "path parameters are written {name}");
                    break;
                };
                let name = &value[i + 1..close];
                // Text sharing the segment makes it not a whole segment, unless that text is
                // only characters reported as invalid anyway (`{id}?`): one mistake, one error.
                let segment_end = value[close + 1..].find('/').map_or(value.len(), |p| close + 1 + p);
                let shares_segment = value[segment_start..i]
                    .chars()
                    .chain(value[close + 1..segment_end].chars())
                    .any(|c| is_plain(c) || c == '{' || c == '}');
                if name.is_empty() {
                    report(errors, lit, &value, i, close + 1, "empty path parameter '{}'", "name it, e.g. {id}");
                } else if !is_ident(name) {
                    // The caret goes under the first character that cannot be in a name.
                    let bad = name
                        .char_indices()
                        .find(|&(n, c)| !(c.is_ascii_alphabetic() || c == '_' || (n > 0 && c.is_ascii_digit())))
                        .map_or(0, |(n, _)| n);
                    report(
                        errors,
                        lit,
                        &value,
                        i + 1 + bad,
                        close,
                        &format!("path parameter name '{name}' is not a Rust identifier"),
                        &format!("use letters, digits and '_', e.g. {{{}}}", identifier_like(name)),
                    );
                } else if shares_segment {
                    report(
                        errors,
                        lit,
                        &value,
                        i,
                        close + 1,
                        &format!("path parameter {{{name}}} must be a whole segment"),
                        "write it between slashes, e.g. items/{id}/",
                    );
                } else if params.iter().any(|p| p.name == name) {
                    report(
                        errors,
                        lit,
                        &value,
                        i,
                        close + 1,
                        &format!("path parameter {{{name}}} appears twice"),
                        "give each parameter its own name",
                    );
                } else {
                    params.push(PathParam { name: name.to_owned(), start: i, end: close + 1 });
                }
                i = close + 1;
            }
            '}' => {
                report(
                    errors,
                    lit,
                    &value,
                    i,
                    i + 1,
                    "'}' without a matching '{' in path",
                    "path parameters are written {name}",
                );
                i += 1;
            }
            c if is_plain(c) => i += c.len_utf8(),
            '<' => {
                report(
                    errors,
                    lit,
                    &value,
                    i,
                    i + 1,
                    "invalid character '<' in path",
                    "Django converters like <int:id> are written {id} in nets; the argument's type does the conversion",
                );
                break;
            }
            c => {
                report(
                    errors,
                    lit,
                    &value,
                    i,
                    i + c.len_utf8(),
                    &format!("invalid character {c:?} in path"),
                    &format!("paths may contain {ALLOWED}"),
                );
                i += c.len_utf8();
            }
        }
    }
    PathTemplate { params }
}

/// `invoice-id` → `invoice_id`, `1st` → `_1st`: a name to suggest instead.
fn identifier_like(name: &str) -> String {
    let mut out: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Characters a path may contain outside `{..}` and `/`.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-_.~".contains(c)
}

fn is_ident(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
