//! `Vec<T>`: JSON arrays, JSON-encoded array strings, comma-separated strings and
//! repeated keys.

use serde_json::Value;

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};

fn each<T: FromParam>(items: impl Iterator<Item = Raw>, cx: &CoerceCx) -> Result<Vec<T>, CoerceError> {
    items
        .enumerate()
        .map(|(index, raw)| T::from_param(raw, cx).map_err(|e| CoerceError::Item { index, source: Box::new(e) }))
        .collect()
}

impl<T: FromParam> FromParam for Vec<T> {
    const TYPE_NAME: &'static str = "a list";
    const ACCEPTS_EMPTY: bool = true;

    fn from_param(raw: Raw, cx: &CoerceCx) -> Result<Self, CoerceError> {
        match raw {
            Raw::Many(items) => each(items.into_iter(), cx),
            Raw::Json(Value::Array(items)) => each(items.into_iter().map(Raw::Json), cx),
            Raw::Text(s) | Raw::Json(Value::String(s)) => {
                let trimmed = s.trim();
                if trimmed.is_empty() {
                    Ok(Vec::new())
                } else if trimmed.starts_with('[') {
                    match serde_json::from_str::<Vec<Value>>(trimmed) {
                        Ok(items) => each(items.into_iter().map(Raw::Json), cx),
                        Err(_) => Err(CoerceError::Invalid("expected a list, got a malformed JSON array".into())),
                    }
                } else {
                    each(trimmed.split(',').map(|part| Raw::Text(part.trim().to_owned())), cx)
                }
            }
            // A single scalar is a list of one.
            other @ (Raw::Json(Value::Number(_) | Value::Bool(_)) | Raw::File(_)) => each(std::iter::once(other), cx),
            other => Err(CoerceError::expected(Self::TYPE_NAME, &other)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::array(T::schema())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn list<T: FromParam>(raw: Raw) -> Result<Vec<T>, CoerceError> {
        Vec::<T>::from_param(raw, &CoerceCx::default())
    }

    #[test]
    fn every_wire_form_of_a_list() {
        assert_eq!(list::<i32>(Raw::Json(json!([1, "2"]))), Ok(vec![1, 2]));
        assert_eq!(list::<i32>(Raw::Text("[1, 2, 3]".into())), Ok(vec![1, 2, 3]));
        assert_eq!(list::<String>(Raw::Text("a, b ,c".into())), Ok(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(
            list::<String>(Raw::Many(vec![Raw::Text("x".into()), Raw::Text("y".into())])),
            Ok(vec!["x".into(), "y".into()])
        );
        assert_eq!(list::<i32>(Raw::Text("".into())), Ok(vec![]));
    }

    #[test]
    fn a_bad_item_is_named_by_position() {
        let err = list::<i32>(Raw::Text("1,x,3".into())).unwrap_err();
        assert_eq!(err.to_string(), "item 1: expected an integer (32-bit), got \"x\"");
        assert!(list::<i32>(Raw::Text("[1,".into())).is_err());
    }
}
