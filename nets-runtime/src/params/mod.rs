//! Request parameters: how raw wire values become typed handler arguments.
//!
//! Every argument of a `#[request_handler]` function that is not the context or the
//! loaded model is a *request parameter*. Its type implements [`FromParam`], which turns
//! a [`Raw`] wire value into the typed value and describes itself for OpenAPI.
//!
//! Real mobile clients send every non-string value JSON-encoded inside a string
//! (`"true"`, `"5"`, `"{\"name\": ..}"`), so every implementation here accepts both the
//! JSON value and its string form.
//!
//! | Rust type | accepts |
//! |---|---|
//! | `String` | any string; numbers and booleans are written as text |
//! | `i8`…`i64`, `u8`…`u64`, `isize`, `usize` | JSON integers, or strings such as `"42"`; out-of-range values are rejected |
//! | `f32`, `f64` | JSON numbers or numeric strings (finite only) |
//! | `rust_decimal::Decimal`, [`Decimal`](crate::Decimal) | JSON numbers or numeric strings (`"12.30"`, `"1e3"`), exact; at most 28 significant digits |
//! | `bool` | `true/True/TRUE/1/yes/on` and `false/False/0/no/off/""`; anything else is an error |
//! | `Vec<T>` | a JSON array, a JSON-encoded array string, a list as clients print it (`[a, b]`, `['x', "y"]`: brackets off, split on commas, items trimmed and unquoted), a comma-separated string, or a repeated query key |
//! | `serde_json::Value`, `serde_json::Map` | any JSON value / an object, also JSON-encoded in a string, or a list of `[key, value]` pairs (`[["a", 1]]`) |
//! | `chrono::NaiveDate` | `YYYY-MM-DD` (or an ISO datetime, whose date is taken) |
//! | `chrono::DateTime<Utc>`, `DateTime<FixedOffset>` | RFC 3339; naive input is read in `TIME_ZONE` |
//! | [`Email`] | a valid address, lower-cased |
//! | `uuid::Uuid` | hyphenated or simple form |
//! | [`UploadedFile`] | a `multipart/form-data` file part |
//! | `Option<T>` | the parameter becomes optional |
//!
//! A select-style object `{"value": x, "label": ..}` given for a non-object parameter is
//! unwrapped to `x`.

mod collections;
mod email;
mod file;
mod json;
pub(crate) mod lenient;
mod page;
mod rest;
mod rules;
mod scalar;
mod schema;
mod time;

pub use email::Email;
pub use file::UploadedFile;
#[cfg(feature = "db")]
pub(crate) use file::type_allowed;
pub(crate) use page::PAGE_KEYS;
pub use page::Page;
pub use rest::{FromRest, Rest};
pub(crate) use rules::flatten_validation;
pub use rules::{Rule, RuleError};
pub use schema::{ParamSchema, SchemaKind, SchemaSink};

#[doc(hidden)]
pub use rules::{
    check_custom, check_custom_ctx, check_email, check_filetypes, check_length, check_range, check_regex, check_url,
};

/// A raw parameter value as it arrived, before coercion.
#[derive(Debug, Clone)]
pub enum Raw {
    /// Text from the path, the query string, a form field or a multipart text part.
    Text(String),
    /// A member of a JSON body.
    Json(serde_json::Value),
    /// A multipart file part (boxed: files are rare, and a small `Raw` is cheap to move).
    File(Box<UploadedFile>),
    /// A key given several times (`?tag=a&tag=b`).
    Many(Vec<Raw>),
}

impl Raw {
    /// The value as text, when it is a string of either kind.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Raw::Text(s) => Some(s),
            Raw::Json(serde_json::Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// Adds another value for the same key: `self` becomes, or grows, a [`Raw::Many`].
    pub(crate) fn push(&mut self, value: Raw) {
        match self {
            Raw::Many(items) => items.push(value),
            existing => {
                let first = std::mem::replace(existing, Raw::Many(Vec::new()));
                *existing = Raw::Many(vec![first, value]);
            }
        }
    }

    /// Whether the value holds a NUL character (U+0000), which PostgreSQL cannot store
    /// in text: as such, or escaped (`\u0000`) in JSON-encoded text that coercion would
    /// decode. File contents are bytes and are not inspected.
    pub(crate) fn contains_nul(&self) -> bool {
        match self {
            Raw::Text(s) | Raw::Json(serde_json::Value::String(s)) => {
                s.contains('\0') || (looks_like_json(s) && s.contains("\\u0000"))
            }
            Raw::Json(v) => json_nul_path(v).is_some(),
            Raw::File(_) => false,
            Raw::Many(items) => items.iter().any(Raw::contains_nul),
        }
    }

    /// Whether the value is empty: blank text, or an empty list (a required parameter
    /// refuses these unless it is `#[param(allow_empty)]`).
    pub fn is_empty(&self) -> bool {
        match self {
            Raw::Text(s) | Raw::Json(serde_json::Value::String(s)) => s.trim().is_empty(),
            Raw::Json(serde_json::Value::Array(items)) => items.is_empty(),
            Raw::Many(items) => items.is_empty(),
            Raw::Json(_) | Raw::File(_) => false,
        }
    }

    /// True for JSON `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Raw::Json(serde_json::Value::Null))
    }

    /// A short, printable form of the value for error messages.
    pub(crate) fn preview(&self) -> String {
        let text = match self {
            Raw::Text(s) => format!("\"{s}\""),
            Raw::Json(v) => v.to_string(),
            Raw::File(f) => format!("file '{}'", f.file_name().unwrap_or("")),
            Raw::Many(items) => format!("a repeated parameter ({} values)", items.len()),
        };
        truncate(text, 40)
    }
}

fn truncate(mut text: String, max: usize) -> String {
    if text.chars().count() > max {
        let cut = text.char_indices().nth(max).map_or(text.len(), |(i, _)| i);
        text.truncate(cut);
        text.push('…');
    }
    text
}

/// Per-request settings coercion needs.
#[derive(Debug, Clone, Default)]
pub struct CoerceCx {
    /// The configured `TIME_ZONE`, used to read naive datetimes.
    pub time_zone: crate::time_zone::TimeZone,
}

/// Why a raw value could not become the parameter's type.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoerceError {
    /// The value has the wrong shape: `expected an integer, got "abc"`.
    #[error("expected {expected}, got {got}")]
    Expected {
        /// What the type wants, with its article: `an integer`.
        expected: &'static str,
        /// A preview of what arrived.
        got: String,
    },
    /// The value parsed but is not acceptable for the type.
    #[error("{0}")]
    Invalid(String),
    /// One element of a list failed.
    #[error("item {index}: {source}")]
    Item {
        /// Zero-based position in the list.
        index: usize,
        /// What was wrong with it.
        source: Box<CoerceError>,
    },
}

impl CoerceError {
    /// `expected <what>, got <preview of raw>`.
    pub fn expected(expected: &'static str, raw: &Raw) -> Self {
        CoerceError::Expected { expected, got: raw.preview() }
    }
}

/// Turns a raw wire value into a typed handler parameter.
///
/// Implement it for your own types to use them as parameters:
///
/// ```
/// use nets_runtime::params::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};
///
/// /// A hex colour such as `#ff8800`.
/// struct Colour(u32);
///
/// impl FromParam for Colour {
///     const TYPE_NAME: &'static str = "a colour like #ff8800";
///
///     fn from_param(raw: Raw, _cx: &CoerceCx) -> Result<Self, CoerceError> {
///         let text = raw.as_str().and_then(|s| s.strip_prefix('#'));
///         match text.and_then(|hex| u32::from_str_radix(hex, 16).ok()) {
///             Some(v) => Ok(Colour(v)),
///             None => Err(CoerceError::expected(Self::TYPE_NAME, &raw)),
///         }
///     }
///
///     fn schema() -> ParamSchema {
///         ParamSchema::string().with_pattern("^#[0-9a-fA-F]{6}$")
///     }
/// }
///
/// let c = Colour::from_param(Raw::Text("#ff8800".into()), &CoerceCx::default()).unwrap();
/// assert_eq!(c.0, 0xff8800);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a request parameter",
    label = "no `FromParam` implementation for this type",
    note = "parameters can be String, integers, floats, Decimal, bool, Vec<T>, serde_json::Value, chrono dates, Email, Uuid, UploadedFile, Option<T>, or a type implementing `nets_runtime::params::FromParam`",
    note = "for a whole structured body, mark the argument `#[param(body)]`"
)]
pub trait FromParam: Sized {
    /// What the type expects, with its article, for error messages: `an integer`.
    const TYPE_NAME: &'static str;
    /// Whether an empty string is a real value (`String`, `bool`, `Vec<T>`) rather than absence.
    const ACCEPTS_EMPTY: bool = false;
    /// Whether the type takes JSON objects, which turns off select-object unwrapping.
    const ACCEPTS_OBJECT: bool = false;
    /// Whether an empty value (`""`, `[]`) is a real value even for a required parameter
    /// (`bool`: `""` is false). Otherwise a required parameter refuses it as missing,
    /// unless it is `#[param(allow_empty)]`.
    const EMPTY_IS_VALUE: bool = false;

    /// Converts a present, non-null raw value.
    fn from_param(raw: Raw, cx: &CoerceCx) -> Result<Self, CoerceError>;

    /// How the type appears in the OpenAPI document.
    fn schema() -> ParamSchema;
}

/// Why text holding U+0000 is refused, wherever it arrives: PostgreSQL cannot store it
/// (SQLSTATE 22021, a 500), and no legitimate client sends it.
pub(crate) const NUL_PROBLEM: &str = "must not contain the NUL character (U+0000)";

/// Whether text could be JSON-encoded (an object, an array or a string).
fn looks_like_json(text: &str) -> bool {
    matches!(text.bytes().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'[' | b'"'))
}

/// Where the first string (or key) of a JSON value holding U+0000 is: `Some("")` for the
/// value itself, `Some("a.b[0]")` inside it, `None` when there is none.
pub(crate) fn json_nul_path(value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    match value {
        Value::String(s) => s.contains('\0').then(String::new),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            json_nul_path(item).map(|rest| if rest.is_empty() { format!("[{i}]") } else { format!("[{i}].{rest}") })
        }),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                return Some(String::new());
            }
            json_nul_path(v).map(|rest| if rest.is_empty() { k.clone() } else { format!("{k}.{rest}") })
        }),
        _ => None,
    }
}
