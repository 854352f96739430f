//! `#[param(rest)]`: the keys no other parameter declared, as the original handed every
//! sent key to the view (`request.params`).

use serde_json::{Map, Value};

use super::{Raw, UploadedFile};

/// A type a `#[param(rest)]` parameter can be: `serde_json::Map<String, Value>` (values
/// as sent: JSON members as they are, text as strings, a key sent several times as a
/// list) or [`Rest`] (the raw values, files included).
///
/// ```
/// use nets_runtime::prelude::*;
/// use serde_json::{Map, Value};
///
/// #[request_handler(path = "echo/", method = POST, public)]
/// async fn echo(name: String, #[param(rest)] extra: Map<String, Value>) -> ApiResult<Value> {
///     // POST {"name": "ada", "colour": "blue"} → extra = {"colour": "blue"}
///     Ok(serde_json::json!({"name": name, "extra": extra}))
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the rest of the parameters",
    label = "`#[param(rest)]` needs `serde_json::Map<String, Value>` or `nets_runtime::params::Rest`"
)]
pub trait FromRest: Sized + Send {
    /// Builds the value from the undeclared keys (first source wins: path, body, query).
    /// An `Err` names the key and the problem.
    fn from_rest(entries: Vec<(String, Raw)>) -> Result<Self, (String, String)>;
}

/// The undeclared keys of a request, raw (see [`FromRest`]): text, JSON members, files
/// and repeated keys ([`Raw::Many`]) as they arrived, in arrival order.
#[derive(Debug, Default)]
pub struct Rest(pub Vec<(String, Raw)>);

impl Rest {
    /// Every key.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(|(k, _)| k.as_str())
    }

    /// The file parts, by key.
    pub fn files(&self) -> impl Iterator<Item = (&str, &UploadedFile)> {
        self.0.iter().filter_map(|(k, raw)| match raw {
            Raw::File(f) => Some((k.as_str(), &**f)),
            _ => None,
        })
    }
}

impl FromRest for Rest {
    fn from_rest(entries: Vec<(String, Raw)>) -> Result<Self, (String, String)> {
        Ok(Rest(entries))
    }
}

impl FromRest for Map<String, Value> {
    fn from_rest(entries: Vec<(String, Raw)>) -> Result<Self, (String, String)> {
        let mut out = Map::new();
        for (key, raw) in entries {
            let value = to_json(raw).map_err(|problem| (key.clone(), problem))?;
            out.insert(key, value);
        }
        Ok(out)
    }
}

fn to_json(raw: Raw) -> Result<Value, String> {
    match raw {
        Raw::Text(s) => Ok(Value::String(s)),
        Raw::Json(v) => Ok(v),
        Raw::Many(items) => items.into_iter().map(to_json).collect::<Result<_, _>>().map(Value::Array),
        Raw::File(_) => Err("a file is not accepted here".to_owned()),
    }
}
