//! Checks of account request values the pipeline has already read (JSON, forms, the
//! query string, multipart; secrets refused in the query string by `#[param(secret)]`),
//! with the original's messages: lengths, UUIDs, the device object, `fields` lists.

use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ApiError;

/// A 400 naming `name` when `value` is longer than `max` bytes.
pub(super) fn limit(name: &str, value: &str, max: usize) -> Result<(), ApiError> {
    match value.len() > max {
        true => Err(ApiError::field(name, format!("too long (at most {max} characters)"))),
        false => Ok(()),
    }
}

/// A text member: a string, or a number sent unquoted. `None` when absent or null.
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

/// An object value, also accepted as a JSON-encoded string. `None` when absent/empty.
pub(super) fn object(name: &str, value: Option<&Value>) -> Result<Option<Map<String, Value>>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map.clone())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        // The pipeline refused a NUL already, escaped (`\u0000`) in JSON-encoded text too.
        Some(Value::String(s)) => match serde_json::from_str::<Value>(s) {
            Ok(Value::Object(map)) => Ok(Some(map)),
            Ok(Value::Null) => Ok(None),
            _ => Err(ApiError::field(name, "must be a JSON object")),
        },
        Some(_) => Err(ApiError::field(name, "must be a JSON object")),
    }
}

/// A UUID value: `None` when absent or empty, 400 naming the field when malformed.
pub(super) fn uuid(name: &str, value: Option<&str>) -> Result<Option<Uuid>, ApiError> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => Uuid::parse_str(s)
            .map(Some)
            .map_err(|_| ApiError::field(name, format!("'{}' is not a valid UUID", truncate(s)))),
    }
}

/// At most 40 characters of client input for an error message.
pub(super) fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `fields` as a JSON array, a JSON-encoded array, or a comma-separated string.
pub(super) fn requested_fields(value: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let bad = || ApiError::field("fields", "must be a list of field names");
    let list = match value {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(Value::String(s)) if s.trim_start().starts_with('[') => match serde_json::from_str(s) {
            Ok(Value::Array(items)) => items,
            _ => return Err(bad()),
        },
        Some(Value::String(s)) => {
            s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect()
        }
        Some(_) => return Err(bad()),
    };
    if list.len() > 100 {
        return Err(bad());
    }
    list.into_iter().map(|v| v.as_str().map(str::to_owned).ok_or_else(bad)).collect()
}

/// A boolean as clients send it: `true`, `"true"`, `1`, `"1"`, `"yes"`, `"on"`.
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_i64() == Some(1),
        Value::String(s) => matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes" | "on"),
        _ => false,
    }
}
