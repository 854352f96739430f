//! [`Decimal`]: exact decimal numbers (money) as parameters and model columns.
//!
//! The original stores money in Django `DecimalField`s. `f64` cannot hold `0.10`
//! exactly, so nets uses [`rust_decimal`] (28 significant digits, exact arithmetic):
//!
//! * as a **parameter**, `rust_decimal::Decimal` and [`Decimal`] accept JSON numbers and
//!   numeric strings (`"12.30"`, `"-0.5"`, `"1e3"`), keeping every digit that was sent
//!   as text. `NaN`, infinities, thousands separators and values beyond 28 digits are
//!   400s naming the parameter;
//! * as a **model column**, [`Decimal`] reads and writes `NUMERIC` on PostgreSQL and
//!   text on SQLite: declare the SQLite column `TEXT`, since a `NUMERIC`/`DECIMAL`/`REAL`
//!   column would turn the text into a double (15 digits). SQLite then compares and
//!   sorts the column as text (`'9' > '10'`): compare in Rust, or `CAST` in SQL when
//!   rounding to a double is acceptable. Integer and real columns are read as well;
//! * in **JSON** it is a number, as the original's `to_json` wrote decimals (as floats:
//!   `12.3` for `12.30`); a value a double cannot hold exactly (more than 15 significant
//!   digits) is sent as its text instead, never rounded. Put `#[serde(with = "nets_runtime::decimal::as_string")]` on
//!   a field to send the exact text (`"12.30"`) instead, which is what Django's
//!   `JsonResponse` does and what clients parsing money should prefer.
//!
//! [`Decimal`] is a thin wrapper (`Deref` to `rust_decimal::Decimal`, `From` both ways)
//! because sqlx has no SQLite mapping for `rust_decimal::Decimal` and Rust's orphan rule
//! keeps nets from adding one.
//!
//! ```
//! use nets_runtime::decimal::{Decimal, rust_decimal};
//! use nets_runtime::prelude::*;
//!
//! #[derive(serde::Serialize)]
//! struct Line {
//!     net: Decimal,
//!     #[serde(with = "nets_runtime::decimal::as_string")]
//!     gross: Decimal,
//! }
//!
//! #[request_handler(path = "doc/decimal/", method = POST, public)]
//! async fn doc_price(net: Decimal, #[param(default = 21)] vat_percent: u8) -> ApiResult<Line> {
//!     let rate = rust_decimal::Decimal::from(100 + u32::from(vat_percent)) / rust_decimal::Decimal::ONE_HUNDRED;
//!     Ok(Line { net, gross: Decimal::from((*net * rate).round_dp(2)) })
//! }
//!
//! let price: Decimal = "12.30".parse().unwrap();
//! assert_eq!(price.to_string(), "12.30");
//! assert_eq!(serde_json::to_string(&price).unwrap(), "12.3");
//! ```

/// The decimal crate itself, so an application needs no dependency of its own:
/// `nets_runtime::decimal::rust_decimal::Decimal` (arithmetic, rounding, constants).
pub use rust_decimal;

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use serde_json::Value;

use crate::params::{CoerceCx, CoerceError, FromParam, ParamSchema, Raw, SchemaKind};

/// An exact decimal number: a parameter, a model column (PostgreSQL `NUMERIC`, SQLite
/// text) and a JSON number. See the [module documentation](self).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(transparent)]
pub struct Decimal(pub rust_decimal::Decimal);

impl Deref for Decimal {
    type Target = rust_decimal::Decimal;

    fn deref(&self) -> &rust_decimal::Decimal {
        &self.0
    }
}

impl DerefMut for Decimal {
    fn deref_mut(&mut self) -> &mut rust_decimal::Decimal {
        &mut self.0
    }
}

impl From<rust_decimal::Decimal> for Decimal {
    fn from(value: rust_decimal::Decimal) -> Self {
        Decimal(value)
    }
}

impl From<Decimal> for rust_decimal::Decimal {
    fn from(value: Decimal) -> Self {
        value.0
    }
}

impl fmt::Display for Decimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl FromStr for Decimal {
    type Err = rust_decimal::Error;

    /// Plain (`12.30`) or scientific (`1.5e3`) notation, every digit kept.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        parse(text).map(Decimal)
    }
}

fn parse(text: &str) -> Result<rust_decimal::Decimal, rust_decimal::Error> {
    let text = text.trim();
    match text.split_once(['e', 'E']) {
        Some((mantissa, _)) => {
            // `from_scientific` rounds a long mantissa: refuse it instead, as plain text is.
            rust_decimal::Decimal::from_str_exact(mantissa)?;
            rust_decimal::Decimal::from_scientific(text)
        }
        None => rust_decimal::Decimal::from_str_exact(text),
    }
}

/// A JSON number as a decimal. serde_json keeps a number's shortest round-trip text, so
/// whatever a client wrote with up to 15 significant digits comes back digit for digit.
fn from_json_number(number: &serde_json::Number) -> Option<rust_decimal::Decimal> {
    parse(&number.to_string()).ok()
}

const TYPE_NAME: &str = "a decimal number (e.g. 12.30)";

fn coerce(raw: &Raw) -> Result<rust_decimal::Decimal, CoerceError> {
    match raw {
        Raw::Json(Value::Number(n)) => from_json_number(n).ok_or_else(|| out_of_range(&n.to_string())),
        _ => match raw.as_str() {
            Some(text) => parse(text).map_err(|_| {
                if looks_numeric(text.trim()) {
                    out_of_range(text.trim())
                } else {
                    CoerceError::expected(TYPE_NAME, raw)
                }
            }),
            None => Err(CoerceError::expected(TYPE_NAME, raw)),
        },
    }
}

/// Whether text is written like a number (`-12.5`, `1e40`), so that failing to parse it
/// means it is too big or too precise rather than not a number.
fn looks_numeric(text: &str) -> bool {
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa = unsigned(mantissa);
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => (digits(int) || int.is_empty()) && (digits(frac) || frac.is_empty()) && mantissa.len() > 1,
        None => digits(mantissa),
    };
    mantissa_ok && exponent.is_none_or(|e| digits(unsigned(e)))
}

fn unsigned(text: &str) -> &str {
    text.strip_prefix(['+', '-']).unwrap_or(text)
}

fn out_of_range(text: &str) -> CoerceError {
    let mut shown: String = text.chars().take(40).collect();
    if shown.len() < text.len() {
        shown.push('…');
    }
    CoerceError::Invalid(format!("{shown} does not fit a decimal (at most 28 significant digits)"))
}

fn schema() -> ParamSchema {
    ParamSchema::of(SchemaKind::Number).with_format("decimal")
}

impl FromParam for rust_decimal::Decimal {
    const TYPE_NAME: &'static str = TYPE_NAME;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        coerce(&raw)
    }

    fn schema() -> ParamSchema {
        schema()
    }
}

impl FromParam for Decimal {
    const TYPE_NAME: &'static str = TYPE_NAME;

    fn from_param(raw: Raw, _: &CoerceCx) -> Result<Self, CoerceError> {
        coerce(&raw).map(Decimal)
    }

    fn schema() -> ParamSchema {
        schema()
    }
}

/// A JSON number, as the original's `to_json` wrote decimals, whenever a double holds
/// the value exactly (every value of up to 15 significant digits); otherwise its exact
/// text, so that no digit is ever lost (nor a change of the 18th digit missed by
/// [`Update`](crate::Update), which compares JSON forms). Use [`as_string`] for text
/// always.
impl serde::Serialize for Decimal {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.to_f64().filter(|f| decimal_of_f64(*f) == Some(self.0)) {
            Some(value) => serializer.serialize_f64(value),
            None => serializer.collect_str(&self.0),
        }
    }
}

/// The decimal a double stands for: its shortest round-trip text, i.e. what the sender
/// of a JSON number wrote.
fn decimal_of_f64(value: f64) -> Option<rust_decimal::Decimal> {
    serde_json::Number::from_f64(value).and_then(|n| from_json_number(&n))
}

/// A JSON number or a numeric string.
impl<'de> serde::Deserialize<'de> for Decimal {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DecimalVisitor)
    }
}

struct DecimalVisitor;

impl serde::de::Visitor<'_> for DecimalVisitor {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(TYPE_NAME)
    }

    fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Decimal, E> {
        text.parse().map_err(|e| E::custom(format!("invalid decimal {text:?}: {e}")))
    }

    fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<Decimal, E> {
        Ok(Decimal(value.into()))
    }

    fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<Decimal, E> {
        Ok(Decimal(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Decimal, E> {
        decimal_of_f64(value).map(Decimal).ok_or_else(|| E::custom(format!("{value} does not fit a decimal")))
    }
}

/// `#[serde(with = "nets_runtime::decimal::as_string")]`: a [`Decimal`] field written as
/// its exact text (`"12.30"`), as Django's `JsonResponse` sends decimals; reads a
/// string or a number.
///
/// ```
/// #[derive(serde::Serialize, serde::Deserialize)]
/// struct Price {
///     #[serde(with = "nets_runtime::decimal::as_string")]
///     amount: nets_runtime::decimal::Decimal,
/// }
///
/// let price: Price = serde_json::from_str(r#"{"amount": "12.30"}"#).unwrap();
/// assert_eq!(serde_json::to_string(&price).unwrap(), r#"{"amount":"12.30"}"#);
/// ```
pub mod as_string {
    use super::Decimal;

    /// Writes the exact text.
    pub fn serialize<S: serde::Serializer>(value: &Decimal, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&value.0)
    }

    /// Reads a string or a number.
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Decimal, D::Error> {
        serde::Deserialize::deserialize(deserializer)
    }
}

/// OpenAPI: `{"type": "number", "format": "decimal"}`.
impl utoipa::PartialSchema for Decimal {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new().schema_type(Type::Number).format(Some(SchemaFormat::Custom("decimal".into()))).into()
    }
}

impl utoipa::ToSchema for Decimal {}

#[cfg(feature = "db")]
mod column {
    //! The column mapping: PostgreSQL through sqlx's own `NUMERIC` support; SQLite as
    //! text, which keeps every digit (a `REAL` would round).

    use sqlx::encode::IsNull;
    use sqlx::error::BoxDynError;
    use sqlx::sqlite::{Sqlite, SqliteArgumentsBuffer, SqliteTypeInfo, SqliteValueRef};
    use sqlx::{Decode, Encode, Type};

    use super::Decimal;

    impl Type<Sqlite> for Decimal {
        fn type_info() -> SqliteTypeInfo {
            <String as Type<Sqlite>>::type_info()
        }

        fn compatible(ty: &SqliteTypeInfo) -> bool {
            <String as Type<Sqlite>>::compatible(ty)
                || <i64 as Type<Sqlite>>::compatible(ty)
                || <f64 as Type<Sqlite>>::compatible(ty)
        }
    }

    impl Encode<'_, Sqlite> for Decimal {
        fn encode_by_ref(&self, buf: &mut SqliteArgumentsBuffer) -> Result<IsNull, BoxDynError> {
            <String as Encode<Sqlite>>::encode(self.0.to_string(), buf)
        }
    }

    impl<'r> Decode<'r, Sqlite> for Decimal {
        fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
            // SQLite hands integer and real values over as their text as well.
            let text = <&str as Decode<Sqlite>>::decode(value)?;
            Ok(text.parse::<Decimal>().map_err(|e| format!("invalid decimal {text:?} in the database: {e}"))?)
        }
    }

    #[cfg(feature = "postgres")]
    mod postgres {
        use sqlx::encode::IsNull;
        use sqlx::error::BoxDynError;
        use sqlx::postgres::{PgArgumentBuffer, PgTypeInfo, PgValueRef, Postgres};
        use sqlx::{Decode, Encode, Type};

        use super::Decimal;

        impl Type<Postgres> for Decimal {
            fn type_info() -> PgTypeInfo {
                <rust_decimal::Decimal as Type<Postgres>>::type_info()
            }

            fn compatible(ty: &PgTypeInfo) -> bool {
                <rust_decimal::Decimal as Type<Postgres>>::compatible(ty)
            }
        }

        impl Encode<'_, Postgres> for Decimal {
            fn encode_by_ref(&self, buf: &mut PgArgumentBuffer) -> Result<IsNull, BoxDynError> {
                <rust_decimal::Decimal as Encode<Postgres>>::encode_by_ref(&self.0, buf)
            }
        }

        impl<'r> Decode<'r, Postgres> for Decimal {
            fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
                <rust_decimal::Decimal as Decode<Postgres>>::decode(value).map(Decimal)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn param(raw: Raw) -> Result<Decimal, CoerceError> {
        Decimal::from_param(raw, &CoerceCx::default())
    }

    fn text(s: &str) -> Result<String, CoerceError> {
        param(Raw::Text(s.into())).map(|d| d.to_string())
    }

    #[test]
    fn strings_keep_every_digit_and_the_scale() {
        assert_eq!(text("12.30").as_deref(), Ok("12.30"));
        assert_eq!(text(" -0.5 ").as_deref(), Ok("-0.5"));
        assert_eq!(text("1e3").as_deref(), Ok("1000"));
        assert!(text("0.1234567890123456789012345678901e0").is_err(), "a long mantissa is refused, not rounded");
        assert_eq!(text("12345678901234567890.12345678").as_deref(), Ok("12345678901234567890.12345678"));
    }

    #[test]
    fn json_numbers_come_back_as_written() {
        assert_eq!(param(Raw::Json(json!(0.1))).map(|d| d.to_string()).as_deref(), Ok("0.1"));
        assert_eq!(param(Raw::Json(json!(19.99))).map(|d| d.to_string()).as_deref(), Ok("19.99"));
        assert_eq!(param(Raw::Json(json!(-7))).map(|d| d.to_string()).as_deref(), Ok("-7"));
        assert_eq!(param(Raw::Json(json!("3.50"))).map(|d| d.to_string()).as_deref(), Ok("3.50"));
    }

    #[test]
    fn non_numbers_and_overflow_are_errors_that_say_why() {
        for bad in ["abc", "NaN", "inf", "1,5", "", "1.2.3", "0x10"] {
            assert!(text(bad).is_err(), "{bad:?} was accepted");
        }
        assert_eq!(text("abc").unwrap_err().to_string(), "expected a decimal number (e.g. 12.30), got \"abc\"");
        let huge = "9".repeat(40);
        assert!(text(&huge).unwrap_err().to_string().contains("does not fit a decimal"));
        assert!(param(Raw::Json(json!(1e300))).is_err());
        assert!(param(Raw::Json(json!(true))).is_err());
    }

    #[test]
    fn json_is_a_number_by_default_and_exact_text_on_request() {
        let d: Decimal = "12.30".parse().unwrap();
        assert_eq!(serde_json::to_value(d).unwrap(), json!(12.3));
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Price {
            #[serde(with = "as_string")]
            amount: Decimal,
        }
        let price: Price = serde_json::from_value(json!({"amount": 0.1})).unwrap();
        assert_eq!(serde_json::to_value(&price).unwrap(), json!({"amount": "0.1"}));
        let precise: Decimal = "12345678901234567.89".parse().unwrap();
        assert_eq!(serde_json::to_value(precise).unwrap(), json!("12345678901234567.89"));
        let back: Decimal = serde_json::from_value(json!("19.990")).unwrap();
        assert_eq!(back.to_string(), "19.990");
        assert!(serde_json::from_value::<Decimal>(json!("ten")).is_err());
    }
}
