//! Free-form JSON: `serde_json::Value` and objects.

use serde_json::{Map, Value};

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw, SchemaKind};

/// Parses text that looks like a JSON object or array; other text stays text.
fn decode_structured(text: &str) -> Option<Value> {
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') { serde_json::from_str(text).ok() } else { None }
}

impl FromParam for Value {
    const TYPE_NAME: &'static str = "a JSON value";
    const ACCEPTS_EMPTY: bool = true;
    const ACCEPTS_OBJECT: bool = true;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        match raw {
            Raw::Json(Value::String(s)) | Raw::Text(s) => Ok(decode_structured(&s).unwrap_or(Value::String(s))),
            Raw::Json(v) => Ok(v),
            other => Err(CoerceError::expected(Self::TYPE_NAME, &other)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::Any)
    }
}

/// `[["a", 1], ["b", 2]]` → `{"a": 1, "b": 2}`; `None` unless every item is a pair with
/// a string key.
fn pairs(items: Vec<Value>) -> Option<Map<String, Value>> {
    items
        .into_iter()
        .map(|item| match item {
            Value::Array(pair) if pair.len() == 2 => {
                let mut pair = pair.into_iter();
                match (pair.next(), pair.next()) {
                    (Some(Value::String(key)), Some(value)) => Some((key, value)),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect()
}

impl FromParam for Map<String, Value> {
    const TYPE_NAME: &'static str = "a JSON object";
    const ACCEPTS_OBJECT: bool = true;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        let value = match &raw {
            Raw::Json(Value::Object(_)) => match raw {
                Raw::Json(Value::Object(map)) => return Ok(map),
                _ => None,
            },
            // Cloned rather than moved: `raw` is still needed to describe a bad value.
            Raw::Json(array @ Value::Array(_)) => Some(array.clone()),
            _ => raw.as_str().and_then(decode_structured),
        };
        match value {
            Some(Value::Object(map)) => Ok(map),
            // A list of `[key, value]` pairs, as Python's `list(d.items())` sends it.
            Some(Value::Array(items)) => pairs(items).ok_or_else(|| CoerceError::expected(Self::TYPE_NAME, &raw)),
            _ => Err(CoerceError::expected(Self::TYPE_NAME, &raw)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::Object)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn objects_arrive_as_objects_or_encoded_strings() {
        let cx = CoerceCx::default();
        let encoded = Raw::Text(r#"{"name": "x"}"#.into());
        assert_eq!(Map::from_param(encoded, &cx).unwrap()["name"], "x");
        assert_eq!(Value::from_param(Raw::Text("[1]".into()), &cx).unwrap(), json!([1]));
        assert_eq!(Value::from_param(Raw::Text("plain".into()), &cx).unwrap(), json!("plain"));
        assert!(Map::from_param(Raw::Text("[1]".into()), &cx).is_err());
        // A list of pairs, as an array or JSON-encoded.
        let pairs = Map::from_param(Raw::Json(json!([["a", 1], ["b", "x"]])), &cx).unwrap();
        assert_eq!(Value::Object(pairs), json!({"a": 1, "b": "x"}));
        let encoded = Map::from_param(Raw::Text(r#"[["a", 1]]"#.into()), &cx).unwrap();
        assert_eq!(Value::Object(encoded), json!({"a": 1}));
        assert!(Map::from_param(Raw::Json(json!([["a", 1, 2]])), &cx).is_err());
        assert!(Map::from_param(Raw::Json(json!([[1, 1]])), &cx).is_err());
        assert!(Map::from_param(Raw::Text("{broken".into()), &cx).is_err());
    }
}
