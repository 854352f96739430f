//! Strings, numbers, booleans and UUIDs.

use serde_json::Value;

use super::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw, SchemaKind};

impl FromParam for String {
    const TYPE_NAME: &'static str = "a string";
    const ACCEPTS_EMPTY: bool = true;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        match raw {
            Raw::Text(s) | Raw::Json(Value::String(s)) => Ok(s),
            // Clients sometimes send `5` for a text field; the text is what they meant.
            Raw::Json(v @ (Value::Number(_) | Value::Bool(_))) => Ok(v.to_string()),
            other => Err(CoerceError::expected(Self::TYPE_NAME, &other)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::string()
    }
}

/// Reads an integer from a JSON number or a decimal string, then narrows it.
fn integer<T: TryFrom<i128>>(raw: Raw, name: &'static str) -> Result<T, CoerceError> {
    let wide: Option<i128> = match &raw {
        Raw::Json(Value::Number(n)) => n.as_i64().map(i128::from).or_else(|| n.as_u64().map(i128::from)),
        _ => raw.as_str().and_then(|s| s.trim().parse::<i128>().ok()),
    };
    match wide {
        Some(v) => T::try_from(v).map_err(|_| CoerceError::Invalid(format!("{v} is out of range for {name}"))),
        None => Err(CoerceError::expected(name, &raw)),
    }
}

macro_rules! integers {
    ($($ty:ty => $name:literal, $format:expr;)*) => {$(
        impl FromParam for $ty {
            const TYPE_NAME: &'static str = $name;

            fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
                integer(raw, $name)
            }

            fn schema() -> ParamSchema {
                let schema = ParamSchema::of(SchemaKind::Integer)
                    .with_range(Some(<$ty>::MIN as f64), Some(<$ty>::MAX as f64));
                match $format {
                    Some(format) => schema.with_format(format),
                    None => schema,
                }
            }
        }
    )*};
}

integers! {
    i8 => "an integer (8-bit)", Some("int32");
    i16 => "an integer (16-bit)", Some("int32");
    i32 => "an integer (32-bit)", Some("int32");
    i64 => "an integer", Some("int64");
    isize => "an integer", Some("int64");
    u8 => "a non-negative integer (8-bit)", Some("int32");
    u16 => "a non-negative integer (16-bit)", Some("int32");
    u32 => "a non-negative integer (32-bit)", Some("int64");
    u64 => "a non-negative integer", None::<&'static str>;
    usize => "a non-negative integer", None::<&'static str>;
}

fn float(raw: Raw, name: &'static str) -> Result<f64, CoerceError> {
    let value = match &raw {
        Raw::Json(Value::Number(n)) => n.as_f64(),
        _ => raw.as_str().and_then(|s| s.trim().parse::<f64>().ok()),
    };
    match value {
        Some(v) if v.is_finite() => Ok(v),
        _ => Err(CoerceError::expected(name, &raw)),
    }
}

impl FromParam for f64 {
    const TYPE_NAME: &'static str = "a number";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        float(raw, Self::TYPE_NAME)
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::Number).with_format("double")
    }
}

impl FromParam for f32 {
    const TYPE_NAME: &'static str = "a number (32-bit)";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        let wide = float(raw, Self::TYPE_NAME)?;
        let narrow = wide as f32;
        if narrow.is_finite() {
            Ok(narrow)
        } else {
            Err(CoerceError::Invalid(format!("{wide} is out of range for a 32-bit number")))
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::Number).with_format("float")
    }
}

/// The spellings a form, a query string or a stringly-typed client uses for booleans.
fn parse_bool(text: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["true", "1", "yes", "on"];
    const FALSE: [&str; 5] = ["false", "0", "no", "off", ""];
    let text = text.trim();
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(text)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(text)) {
        Some(false)
    } else {
        None
    }
}

impl FromParam for bool {
    const TYPE_NAME: &'static str = "a boolean (true/false/1/0)";
    const ACCEPTS_EMPTY: bool = true;
    /// An empty form field is an unchecked box: false.
    const EMPTY_IS_VALUE: bool = true;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        let value = match &raw {
            Raw::Json(Value::Bool(b)) => Some(*b),
            Raw::Json(Value::Number(n)) if n.as_i64() == Some(1) => Some(true),
            Raw::Json(Value::Number(n)) if n.as_i64() == Some(0) => Some(false),
            _ => raw.as_str().and_then(parse_bool),
        };
        value.ok_or_else(|| CoerceError::expected(Self::TYPE_NAME, &raw))
    }

    fn schema() -> ParamSchema {
        ParamSchema::of(SchemaKind::Boolean)
    }
}

impl FromParam for uuid::Uuid {
    const TYPE_NAME: &'static str = "a UUID";

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        match raw.as_str().map(|s| uuid::Uuid::parse_str(s.trim())) {
            Some(Ok(uuid)) => Ok(uuid),
            _ => Err(CoerceError::expected(Self::TYPE_NAME, &raw)),
        }
    }

    fn schema() -> ParamSchema {
        ParamSchema::string().with_format("uuid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text<T: FromParam>(s: &str) -> Result<T, CoerceError> {
        T::from_param(Raw::Text(s.into()), &CoerceCx::default())
    }

    #[test]
    fn integers_accept_numbers_and_strings_and_reject_overflow() {
        assert_eq!(text::<i32>(" 42 "), Ok(42));
        assert_eq!(i64::from_param(Raw::Json(serde_json::json!(-7)), &CoerceCx::default()), Ok(-7));
        assert!(text::<u8>("256").is_err());
        assert!(text::<u32>("-1").is_err());
        assert!(text::<i32>("1.5").is_err());
        assert_eq!(text::<i32>("abc").unwrap_err().to_string(), "expected an integer (32-bit), got \"abc\"");
    }

    #[test]
    fn booleans_accept_common_spellings_and_reject_others() {
        for t in ["true", "True", "TRUE", "1", "yes", "on"] {
            assert_eq!(text::<bool>(t), Ok(true), "{t}");
        }
        for f in ["false", "False", "0", "", "no", "off"] {
            assert_eq!(text::<bool>(f), Ok(false), "{f}");
        }
        assert!(text::<bool>("maybe").is_err());
        assert!(bool::from_param(Raw::Json(serde_json::json!(2)), &CoerceCx::default()).is_err());
    }

    #[test]
    fn floats_reject_non_finite() {
        assert_eq!(text::<f64>("2.5"), Ok(2.5));
        assert!(text::<f64>("NaN").is_err());
        assert!(text::<f64>("inf").is_err());
        assert!(text::<f32>("1e300").is_err());
    }
}
