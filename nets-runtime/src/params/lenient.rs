//! A `serde` deserializer over `serde_json::Value` that accepts what real mobile clients
//! send: every non-string value may arrive JSON-encoded in a string (`"true"`, `"5"`,
//! `"[1,2]"`, `"{\"a\":1}"`), at any depth. Used for `#[param(body)]` structures, so a
//! struct field `count: u32` takes both `5` and `"5"`.
//!
//! Only the *target* type decides: a `String` field keeps `"5"` as text; an `i32` field
//! parses it. Nothing is guessed for `serde_json::Value` fields, which get the value as sent.

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::forward_to_deserialize_any;
use serde_json::{Map, Value};

/// Deserializes `T` from `value`, leniently; errors carry the path of the failing field.
pub(crate) fn from_value<T: de::DeserializeOwned>(
    value: Value,
) -> Result<T, serde_path_to_error::Error<serde_json::Error>> {
    serde_path_to_error::deserialize(Lenient(value))
}

/// The wrapper deserializer.
pub(crate) struct Lenient(pub Value);

fn parse_bool(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A string that holds a JSON array or object, decoded.
fn structured(s: &str) -> Option<Value> {
    let t = s.trim_start();
    if t.starts_with('[') || t.starts_with('{') { serde_json::from_str(s).ok() } else { None }
}

macro_rules! lenient_number {
    ($($method:ident => $visit:ident: $ty:ty),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
            match self.0 {
                Value::String(s) => match s.trim().parse::<$ty>() {
                    Ok(n) => visitor.$visit(n),
                    Err(_) => Err(de::Error::invalid_value(de::Unexpected::Str(&s), &visitor)),
                },
                other => other.$method(visitor),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for Lenient {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Array(items) => visitor.visit_seq(Seq(items.into_iter())),
            Value::Object(map) => visitor.visit_map(Obj { iter: map.into_iter(), value: None }),
            other => other.deserialize_any(visitor),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => match parse_bool(&s) {
                Some(b) => visitor.visit_bool(b),
                None => Err(de::Error::invalid_value(de::Unexpected::Str(&s), &visitor)),
            },
            Value::Number(n) if n.as_u64() == Some(1) => visitor.visit_bool(true),
            Value::Number(n) if n.as_u64() == Some(0) => visitor.visit_bool(false),
            other => other.deserialize_bool(visitor),
        }
    }

    lenient_number! {
        deserialize_i8 => visit_i8: i8, deserialize_i16 => visit_i16: i16,
        deserialize_i32 => visit_i32: i32, deserialize_i64 => visit_i64: i64,
        deserialize_u8 => visit_u8: u8, deserialize_u16 => visit_u16: u16,
        deserialize_u32 => visit_u32: u32, deserialize_u64 => visit_u64: u64,
        deserialize_f32 => visit_f32: f32, deserialize_f64 => visit_f64: f64,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            other => visitor.visit_some(Lenient(other)),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(self, _: &'static str, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => match structured(&s) {
                Some(v @ Value::Array(_)) => Lenient(v).deserialize_any(visitor),
                _ => Err(de::Error::invalid_type(de::Unexpected::Str(&s), &visitor)),
            },
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        match self.0 {
            Value::String(s) => match structured(&s) {
                Some(v @ Value::Object(_)) => Lenient(v).deserialize_any(visitor),
                _ => Err(de::Error::invalid_type(de::Unexpected::Str(&s), &visitor)),
            },
            other => Lenient(other).deserialize_any(visitor),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.deserialize_enum(name, variants, visitor)
    }

    forward_to_deserialize_any! {
        i128 u128 char str string bytes byte_buf unit unit_struct identifier ignored_any
    }
}

struct Seq(std::vec::IntoIter<Value>);

impl<'de> SeqAccess<'de> for Seq {
    type Error = serde_json::Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>, Self::Error> {
        self.0.next().map(|v| seed.deserialize(Lenient(v))).transpose()
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.0.len())
    }
}

struct Obj {
    iter: <Map<String, Value> as IntoIterator>::IntoIter,
    value: Option<Value>,
}

impl<'de> MapAccess<'de> for Obj {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, Self::Error> {
        match self.iter.next() {
            Some((k, v)) => {
                self.value = Some(v);
                seed.deserialize(k.into_deserializer()).map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Self::Error> {
        match self.value.take() {
            Some(v) => seed.deserialize(Lenient(v)),
            None => Err(de::Error::custom("value requested before key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;
    use serde_json::json;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Item {
        count: u32,
        done: bool,
        label: String,
        ratio: Option<f64>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Order {
        items: Vec<Item>,
        meta: Value,
    }

    #[test]
    fn string_encoded_values_at_any_depth() {
        let order: Order = from_value(json!({
            "items": "[{\"count\": \"2\", \"done\": \"true\", \"label\": \"5\", \"ratio\": \"0.5\"}]",
            "meta": {"k": "1"}
        }))
        .unwrap();
        assert_eq!(order.items, vec![Item { count: 2, done: true, label: "5".into(), ratio: Some(0.5) }]);
        assert_eq!(order.meta, json!({"k": "1"}));
    }

    #[test]
    fn errors_name_the_field_path() {
        let err = from_value::<Order>(json!({"items": [{"count": "x", "done": true, "label": "a"}], "meta": null}))
            .unwrap_err();
        assert_eq!(err.path().to_string(), "items[0].count");
        let err = from_value::<Item>(json!({"count": "-1", "done": true, "label": "a"})).unwrap_err();
        assert_eq!(err.path().to_string(), "count");
    }
}
