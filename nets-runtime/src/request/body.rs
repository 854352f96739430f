//! Reading request bodies into raw parameters: JSON objects, urlencoded forms and
//! multipart forms, within the configured size limit. Every failure is a clean 4xx.

use std::borrow::Cow;

use axum::body::Body;
use axum::http::HeaderMap;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use axum::http::request::Parts;
use bytes::Bytes;
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::Value;

use crate::ApiError;
use crate::params::{Raw, UploadedFile};

use super::Entries;

/// How much a body may hold.
#[derive(Clone, Copy)]
pub(crate) struct Limits {
    /// `NETS_CORE_MAX_BODY_SIZE`
    pub bytes: usize,
    /// `NETS_CORE_MAX_FIELDS`
    pub fields: usize,
}

/// Reads the body (if any) and appends its members to `out`.
pub(crate) async fn read_body(parts: &Parts, body: Body, limits: Limits, out: &mut Entries) -> Result<(), ApiError> {
    let bytes = read_bytes(&parts.headers, body, limits.bytes).await?;
    if bytes.is_empty() {
        return Ok(());
    }
    let content_type = parts.headers.get(CONTENT_TYPE).map(|v| v.to_str().unwrap_or("")).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => json_object(&bytes, limits.fields, out),
        e if e.starts_with("application/") && e.ends_with("+json") => json_object(&bytes, limits.fields, out),
        "application/x-www-form-urlencoded" => form(&bytes, limits.fields, out),
        "multipart/form-data" => multipart(content_type, bytes, limits.fields, out).await,
        "" => Err(ApiError::UnsupportedMediaType("(none)".into())),
        _ => Err(ApiError::UnsupportedMediaType(essence)),
    }
}

/// The whole body, at most `limit` bytes: a 413 beyond, before reading anything when the
/// `Content-Length` already says so.
pub(crate) async fn read_bytes(headers: &HeaderMap, body: Body, limit: usize) -> Result<Bytes, ApiError> {
    let declared_len = headers.get(CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > limit as u64) {
        return Err(ApiError::PayloadTooLarge { limit });
    }
    collect(body, limit).await
}

async fn collect(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    match Limited::new(body, limit).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::PayloadTooLarge { limit }),
        Err(_) => Err(ApiError::bad_request("could not read the request body")),
    }
}

fn json_object(bytes: &[u8], max_fields: usize, out: &mut Entries) -> Result<(), ApiError> {
    // serde_json stops at 128 levels of nesting, so hostile depth is an error, not a stack overflow.
    let value: Value = serde_json::from_slice(bytes).map_err(|e| {
        let reason =
            if e.to_string().contains("recursion limit") { "nested too deeply".to_owned() } else { e.to_string() };
        ApiError::bad_request(format!("malformed JSON body: {reason}"))
    })?;
    match value {
        Value::Object(map) => {
            if out.len() + map.len() > max_fields {
                return Err(super::too_many_fields(max_fields));
            }
            out.extend(map.into_iter().map(|(k, v)| (Cow::Owned(k), Raw::Json(v))));
            Ok(())
        }
        other => Err(ApiError::bad_request(format!("the JSON body must be an object, got {}", json_kind(&other)))),
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn form(bytes: &[u8], max_fields: usize, out: &mut Entries) -> Result<(), ApiError> {
    // Like the query string, decoding is strict: bytes that are not UTF-8 are a 400 naming
    // the field, never silently replaced by U+FFFD.
    let mut pairs = Vec::new();
    for pair in super::query::form_pairs(bytes, "form body") {
        if pairs.len() >= max_fields {
            return Err(super::too_many_fields(max_fields));
        }
        let (key, value) = pair?;
        pairs.push((key.into_owned(), Raw::Text(value.into_owned())));
    }
    super::push_grouped(out, pairs.into_iter(), max_fields)
}

async fn multipart(content_type: &str, bytes: Bytes, max_fields: usize, out: &mut Entries) -> Result<(), ApiError> {
    let fields = multipart_parts(content_type, bytes, max_fields, out.len()).await?;
    super::push_grouped(out, fields.into_iter(), max_fields)
}

/// The parts of a `multipart/form-data` body in arrival order: text parts as
/// [`Raw::Text`], file parts (those with a `filename`) as [`Raw::File`]. More than
/// `max_fields` parameters in all (`taken` of them already read from other sources), a
/// missing boundary, a malformed body or a text part that is not UTF-8 is a 400.
pub(crate) async fn multipart_parts(
    content_type: &str,
    bytes: Bytes,
    max_fields: usize,
    taken: usize,
) -> Result<Vec<(String, Raw)>, ApiError> {
    let boundary = multer::parse_boundary(content_type)
        .map_err(|_| ApiError::bad_request("malformed multipart body: missing boundary"))?;
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(bytes) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut fields = Vec::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(ApiError::bad_request(format!("malformed multipart body: {e}"))),
        };
        let Some(name) = field.name().map(str::to_owned) else { continue };
        let file_name = field.file_name().map(str::to_owned);
        let declared = field.content_type().map(|m| m.to_string());
        let data = field.bytes().await.map_err(|e| ApiError::bad_request(format!("malformed multipart body: {e}")))?;
        // A file input left empty arrives as `filename=""` with no bytes: that is no file.
        if file_name.as_deref() == Some("") && data.is_empty() {
            continue;
        }
        let raw = match file_name {
            Some(file_name) => Raw::File(Box::new(UploadedFile::new(Some(file_name), declared, data))),
            None => match String::from_utf8(data.to_vec()) {
                Ok(text) => Raw::Text(text),
                Err(_) => return Err(ApiError::field(name, "text fields must be UTF-8")),
            },
        };
        if taken + fields.len() >= max_fields {
            return Err(super::too_many_fields(max_fields));
        }
        fields.push((name, raw));
    }
    Ok(fields)
}
