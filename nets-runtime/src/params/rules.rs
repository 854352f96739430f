//! The `#[param(validate(..))]` rules, enforced with the `validator` crate's checks.
//! The macro calls these after coercion; the same rules are written into the OpenAPI
//! schema, so documentation and enforcement cannot drift.

use std::sync::LazyLock;

use regex::Regex;
use validator::{ValidateEmail, ValidateLength, ValidateRange, ValidateUrl, ValidationError};

use super::UploadedFile;
use super::file::type_allowed;

/// A failed validation rule, with the message sent to the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RuleError(pub String);

/// `validate(email)`
pub fn check_email<T: ValidateEmail + ?Sized>(value: &T) -> Result<(), RuleError> {
    if value.validate_email() { Ok(()) } else { Err(RuleError("must be a valid e-mail address".into())) }
}

/// `validate(url)`
pub fn check_url<T: ValidateUrl + ?Sized>(value: &T) -> Result<(), RuleError> {
    if value.validate_url() { Ok(()) } else { Err(RuleError("must be a valid URL".into())) }
}

/// `validate(length(min = .., max = .., equal = ..))`
pub fn check_length<T: ValidateLength<u64> + ?Sized>(
    value: &T,
    min: Option<u64>,
    max: Option<u64>,
    equal: Option<u64>,
) -> Result<(), RuleError> {
    if value.validate_length(min, max, equal) {
        return Ok(());
    }
    let message = match (equal, min, max) {
        (Some(n), ..) => format!("length must be exactly {n}"),
        (None, Some(lo), Some(hi)) => format!("length must be between {lo} and {hi}"),
        (None, Some(lo), None) => format!("length must be at least {lo}"),
        (None, None, Some(hi)) => format!("length must be at most {hi}"),
        (None, None, None) => "invalid length".to_owned(),
    };
    Err(RuleError(message))
}

/// `validate(range(min = .., max = .., exclusive_min = .., exclusive_max = ..))`
pub fn check_range<T>(
    value: &T,
    min: Option<T>,
    max: Option<T>,
    exclusive_min: Option<T>,
    exclusive_max: Option<T>,
) -> Result<(), RuleError>
where
    T: ValidateRange<T> + std::fmt::Display + Copy,
{
    if value.validate_range(min, max, exclusive_min, exclusive_max) {
        return Ok(());
    }
    let mut bounds = Vec::new();
    if let Some(v) = min {
        bounds.push(format!(">= {v}"));
    }
    if let Some(v) = exclusive_min {
        bounds.push(format!("> {v}"));
    }
    if let Some(v) = max {
        bounds.push(format!("<= {v}"));
    }
    if let Some(v) = exclusive_max {
        bounds.push(format!("< {v}"));
    }
    Err(RuleError(format!("must be {}", bounds.join(" and "))))
}

/// `validate(regex = "..")`. The pattern was checked at compile time; the compiled
/// regex lives in a per-parameter `LazyLock`.
pub fn check_regex<T: AsRef<str> + ?Sized>(value: &T, regex: &LazyLock<Regex>, pattern: &str) -> Result<(), RuleError> {
    if regex.is_match(value.as_ref()) { Ok(()) } else { Err(RuleError(format!("must match the pattern {pattern}"))) }
}

/// `validate(custom(function = f))` where `f(&T) -> Result<(), ValidationError>`.
pub fn check_custom<T: ?Sized>(value: &T, f: impl FnOnce(&T) -> Result<(), ValidationError>) -> Result<(), RuleError> {
    f(value).map_err(describe)
}

/// `validate(custom(function = f, use_ctx))` where `f(&T, &Ctx) -> Result<(), ValidationError>`:
/// the function also sees the request context (user, resolved project, ...).
pub fn check_custom_ctx<T: ?Sized>(
    value: &T,
    ctx: &crate::Ctx,
    f: impl FnOnce(&T, &crate::Ctx) -> Result<(), ValidationError>,
) -> Result<(), RuleError> {
    f(value, ctx).map_err(describe)
}

fn describe(e: ValidationError) -> RuleError {
    RuleError(describe_validation(&e))
}

/// `#[param(filetypes = [..])]`: the sniffed content type must be allowed.
pub fn check_filetypes(file: &UploadedFile, allowed: &[&str]) -> Result<(), RuleError> {
    if type_allowed(file.content_type(), allowed) {
        Ok(())
    } else {
        Err(RuleError(format!("file type {} is not allowed (allowed: {})", file.content_type(), allowed.join(", "))))
    }
}

/// A validation rule as recorded for the OpenAPI document.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rule {
    Email,
    Url,
    Length { min: Option<u64>, max: Option<u64>, equal: Option<u64> },
    Range { min: Option<f64>, max: Option<f64>, exclusive_min: Option<f64>, exclusive_max: Option<f64> },
    Regex(&'static str),
    Custom(&'static str),
}

/// Flattens `validator` errors (nested structs and lists) into `(field path, message)`.
pub(crate) fn flatten_validation(errors: &validator::ValidationErrors, prefix: &str, out: &mut Vec<(String, String)>) {
    use validator::ValidationErrorsKind as Kind;
    for (field, kind) in errors.errors() {
        let path = format!("{prefix}{field}");
        match kind {
            Kind::Field(list) => out.extend(list.iter().map(|e| (path.clone(), describe_validation(e)))),
            Kind::Struct(inner) => flatten_validation(inner, &format!("{path}."), out),
            Kind::List(items) => {
                for (i, inner) in items {
                    flatten_validation(inner, &format!("{path}[{i}]."), out);
                }
            }
        }
    }
}

/// A readable message for a `validator` error: its own message, else one built from the
/// rule and its parameters, phrased like the `#[param(validate(..))]` messages.
pub(crate) fn describe_validation(e: &validator::ValidationError) -> String {
    if let Some(message) = &e.message {
        return message.to_string();
    }
    let param = |name: &str| e.params.get(name).map(|v| v.to_string().trim_matches('"').to_owned());
    match e.code.as_ref() {
        "email" => "must be a valid e-mail address".into(),
        "url" => "must be a valid URL".into(),
        "required" => "this field is required".into(),
        "regex" => "does not match the expected pattern".into(),
        "length" => match (param("equal"), param("min"), param("max")) {
            (Some(n), ..) => format!("length must be exactly {n}"),
            (None, Some(lo), Some(hi)) => format!("length must be between {lo} and {hi}"),
            (None, Some(lo), None) => format!("length must be at least {lo}"),
            (None, None, Some(hi)) => format!("length must be at most {hi}"),
            _ => "invalid length".into(),
        },
        "range" => {
            let bounds: Vec<String> = [("min", ">="), ("exclusive_min", ">"), ("max", "<="), ("exclusive_max", "<")]
                .iter()
                .filter_map(|(name, op)| param(name).map(|v| format!("{op} {v}")))
                .collect();
            if bounds.is_empty() { "out of range".into() } else { format!("must be {}", bounds.join(" and ")) }
        }
        code => format!("failed validation '{code}'"),
    }
}
