//! `Vec<T>`: JSON arrays, JSON-encoded array strings, lists printed by clients
//! (`[a, b]`, `['x', "y"]`), comma-separated strings and repeated keys.

use serde_json::Value;

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw};

fn each<T: FromParam>(items: impl Iterator<Item = Raw>, cx: &CoerceCx) -> Result<Vec<T>, CoerceError> {
    items
        .enumerate()
        .map(|(index, raw)| T::from_param(raw, cx).map_err(|e| CoerceError::Item { index, source: Box::new(e) }))
        .collect()
}

/// The items of a list printed by a client's `toString()`/`repr()`: `[a, 'b', "c"]`.
fn printed_list(text: &str) -> impl Iterator<Item = &str> {
    let inner = text.strip_prefix('[').unwrap_or(text);
    let inner = inner.strip_suffix(']').unwrap_or(inner).trim();
    let items = if inner.is_empty() { None } else { Some(inner.split(',')) };
    items.into_iter().flatten().map(|item| {
        let item = item.trim();
        for quote in ['\'', '"'] {
            if let Some(unquoted) = item.strip_prefix(quote).and_then(|i| i.strip_suffix(quote)) {
                return unquoted;
            }
        }
        item
    })
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
                        // Not JSON but shaped like a list, as clients print them: Kotlin's
                        // or Java's `[a, b]`, Python's `['x', "y"]`. Split it as the
                        // original did: brackets off, commas, items trimmed and unquoted.
                        Err(_) => each(printed_list(trimmed).map(|item| Raw::Text(item.to_owned())), cx),
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

    #[test]
    fn lists_printed_by_clients_are_split_like_the_original() {
        let strings = |text: &str| list::<String>(Raw::Text(text.into()));
        let ab = Ok(vec!["a".to_owned(), "b".to_owned()]);
        assert_eq!(strings("[a, b]"), ab); // Kotlin/Java List.toString()
        assert_eq!(strings("['a', \"b\"]"), ab); // Python repr
        assert_eq!(strings("[]"), Ok(vec![]));
        assert_eq!(list::<i32>(Raw::Text("[1, 2]".into())), Ok(vec![1, 2])); // still JSON
        assert_eq!(
            list::<i32>(Raw::Text("[1, x]".into())).unwrap_err().to_string(),
            "item 1: expected an integer (32-bit), got \"x\""
        );
    }
}
