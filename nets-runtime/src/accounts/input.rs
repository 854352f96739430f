//! Reading the fields of an account request: a JSON object, a form, or the query string,
//! with values that clients often JSON-encode as strings (`"device": "{\"uuid\":..}"`).
//!
//! Secrets ([`BODY_ONLY`]: the code, client secrets, tokens) are read from the body only:
//! a query string ends up in proxy, server and browser logs and in the `Referer`
//! header, so one carrying a secret is refused with a 400 naming the parameter.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, header};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ApiError;
use crate::params::{NUL_PROBLEM, Raw, UploadedFile, json_nul_path};

/// The fields of the request: the body (JSON or form) merged over the query string.
pub(super) fn fields(
    headers: &HeaderMap,
    query: Option<&str>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Map<String, Value>, ApiError> {
    let body = body.map_err(|e| match e.status().as_u16() {
        413 => ApiError::PayloadTooLarge { limit: super::MAX_BODY_BYTES },
        _ => ApiError::bad_request(format!("unreadable request body: {}", e.body_text())),
    })?;
    parse(headers, query, &body)
}

/// Parameters that are secrets: never accepted in the query string.
pub(crate) const BODY_ONLY: &[&str] =
    &["code", "client_secret", "refresh_token", "token", "access_token", "password", "secret"];

/// The 400 for a secret sent in the query string.
pub(super) fn secret_in_query(name: &str) -> ApiError {
    ApiError::field(name, "send it in the request body, never in the URL (query strings are logged)")
}

/// The fields of a body already read (JSON, else a form) merged over the query string.
fn parse(headers: &HeaderMap, query: Option<&str>, body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    if let Some(query) = query {
        form_into(query.as_bytes(), "query string", &mut out)?;
        if let Some(secret) = out.keys().find(|k| BODY_ONLY.contains(&k.as_str())) {
            return Err(secret_in_query(secret));
        }
    }
    let json = content_type(headers).starts_with("application/json");
    match body {
        [] => {}
        _ if json => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => out.extend(map),
            Ok(_) => return Err(ApiError::bad_request("the request body must be a JSON object")),
            Err(e) => return Err(ApiError::bad_request(format!("invalid JSON body: {e}"))),
        },
        _ => form_into(body, "form body", &mut out)?,
    }
    for (name, value) in &out {
        refuse_nul(name, value)?;
    }
    Ok(out)
}

/// The 400 for text holding U+0000 (see [`NUL_PROBLEM`]).
pub(super) fn nul_in(name: &str) -> ApiError {
    ApiError::field(name, NUL_PROBLEM)
}

/// Refuses a NUL in a key or anywhere in `value` (nested objects and arrays too, named
/// `outer.inner` and `outer[0]`).
fn refuse_nul(name: &str, value: &Value) -> Result<(), ApiError> {
    if name.contains('\0') {
        return Err(nul_in(&name.replace('\0', "\\0")));
    }
    match json_nul_path(value) {
        None => Ok(()),
        Some(path) if path.is_empty() => Err(nul_in(name)),
        Some(path) if path.starts_with('[') => Err(nul_in(&format!("{name}{path}"))),
        Some(path) => Err(nul_in(&format!("{name}.{path}"))),
    }
}

fn content_type(headers: &HeaderMap) -> &str {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("")
}

/// The body of `POST /update/`: its fields, and its file parts when it is
/// `multipart/form-data` (JSON and forms have none).
pub(super) struct UpdateBody {
    /// Values (a multipart text part is a string, coerced later like a form value).
    pub fields: Map<String, Value>,
    /// File parts by field name, in arrival order.
    pub files: Vec<(String, UploadedFile)>,
}

impl UpdateBody {
    /// Every field name the client sent.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str).chain(self.files.iter().map(|(name, _)| name.as_str()))
    }
}

/// Reads an `/update/` body: multipart (through the request module's parser), JSON or a form.
pub(super) async fn update_body(headers: &HeaderMap, body: Bytes, max_fields: usize) -> Result<UpdateBody, ApiError> {
    let content_type = content_type(headers);
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if !essence.eq_ignore_ascii_case("multipart/form-data") {
        return Ok(UpdateBody { fields: parse(headers, None, &body)?, files: Vec::new() });
    }
    let mut out = UpdateBody { fields: Map::new(), files: Vec::new() };
    for (name, raw) in crate::request::multipart_parts(content_type, body, max_fields, 0).await? {
        // A field given twice is ambiguous: which value (or file) would be kept?
        if out.names().any(|seen| seen == name) {
            return Err(ApiError::field(name, "sent more than once"));
        }
        match raw {
            Raw::File(file) => out.files.push((name, *file)),
            Raw::Text(text) => {
                if text.contains('\0') {
                    return Err(nul_in(&name));
                }
                out.fields.insert(name, Value::String(text));
            }
            // The multipart parser yields only text and file parts.
            Raw::Json(_) | Raw::Many(_) => return Err(ApiError::field(name, "unexpected value")),
        }
    }
    Ok(out)
}

/// Decoded strictly, like every form nets reads: bytes that are not UTF-8 are a 400.
fn form_into(bytes: &[u8], source: &'static str, out: &mut Map<String, Value>) -> Result<(), ApiError> {
    for pair in crate::request::form_pairs(bytes, source) {
        let (k, v) = pair?;
        out.insert(k.into_owned(), Value::String(v.into_owned()));
    }
    Ok(())
}

/// A text field: a string, or a number sent unquoted. `None` when absent or null.
pub(super) fn text<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<std::borrow::Cow<'a, str>>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(std::borrow::Cow::Borrowed(s.as_str()))),
        Some(Value::Number(n)) => Ok(Some(std::borrow::Cow::Owned(n.to_string()))),
        Some(_) => Err(ApiError::field(name, "must be a string")),
    }
}

/// A required text field, at most `max` bytes.
pub(super) fn required<'a>(
    fields: &'a Map<String, Value>,
    name: &str,
    max: usize,
) -> Result<std::borrow::Cow<'a, str>, ApiError> {
    let value = text(fields, name)?.filter(|v| !v.trim().is_empty());
    let value = value.ok_or_else(|| ApiError::bad_request(format!("Missing params: {name}")))?;
    if value.len() > max {
        return Err(ApiError::field(name, format!("too long (at most {max} characters)")));
    }
    Ok(value)
}

/// An object field, also accepted as a JSON-encoded string. `None` when absent/empty.
pub(super) fn object(fields: &Map<String, Value>, name: &str) -> Result<Option<Map<String, Value>>, ApiError> {
    match fields.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => {
                // A JSON-encoded object's escapes (`\u0000`) were not seen by `parse`.
                for (key, value) in &map {
                    refuse_nul(&format!("{name}.{key}"), value)?;
                }
                Ok(Some(map))
            }
            Ok(Value::Null) => Ok(None),
            _ => Err(ApiError::field(name, "must be a JSON object")),
        },
        Some(_) => Err(ApiError::field(name, "must be a JSON object")),
    }
}

/// A UUID field: `None` when absent or empty, 400 naming the field when malformed.
pub(super) fn uuid(fields: &Map<String, Value>, name: &str) -> Result<Option<Uuid>, ApiError> {
    match text(fields, name)? {
        None => Ok(None),
        Some(s) if s.trim().is_empty() => Ok(None),
        Some(s) => Uuid::parse_str(s.trim())
            .map(Some)
            .map_err(|_| ApiError::field(name, format!("'{}' is not a valid UUID", truncate(&s)))),
    }
}

/// At most 40 characters of client input for an error message.
pub(super) fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}
