//! What generated code uses. Not a public API: it changes without notice.
//!
//! Everything the macro expansion names is here (see `nets-macros/src/exports.rs`), so
//! generated code never depends on what the user imported.

pub use crate::model::lookup::{
    IndexColumn, IndexProbe, IndexValue, Lookup, ModelRow, NotIndexValue, OwnerField, ViaIndexValue, find_one,
    unknown_index,
};
pub use crate::model::relations::{ForeignKey, RelatedModel, Relation, expand, unknown_relation};
pub use crate::model::update::{BindProbe, Binder, ModelColumns, NotBindValue, ViaBindValue};
pub use crate::openapi::SchemaSink;
pub use crate::params::{FromParam, Rule, RuleError, check_custom, check_custom_ctx, check_filetypes};
pub use crate::request::{HandlerArg, Input, missing_model, resolve_model};
pub use crate::routing::{ArgKind, Endpoint, HandlerFuture, Location, Method, ModelSpec, ParamSpec, Registration};
pub use crate::{ApiError, App, Ctx, NetsModel, Settings, ToJson};
pub use axum::extract::Request;
pub use axum::response::{IntoResponse, Response};
pub use inventory;
pub use serde_json;

/// Placeholder schema of a `#[param(body)]` parameter (the real one comes from `ToSchema`).
pub fn body_param_schema() -> crate::params::ParamSchema {
    crate::params::ParamSchema::of(crate::params::SchemaKind::Object)
}
pub use regex::Regex;
pub use std::sync::LazyLock;
pub use utoipa::openapi::{RefOr, schema::Schema};

// Compile-time checks of the types a user wrote. Each requirement is reported once,
// on the user's token, rather than once per generated use of the type:
//
// * Types used in several places are named through a projection
//   (`<T as ParamType>::Type`) carrying `T`'s span everywhere. The compiler reports an
//   unsatisfied bound once per location, and a projection that failed silences the
//   code using it; the error names the underlying trait, whose `on_unimplemented`
//   explains it.
// * Types used in one place go through one bounded function whose bound is a trait
//   with its own `on_unimplemented` text (`into_response`, `envelope`, `body`,
//   `check_length`, ...), with the type in the turbofish so the error points at it.
//
// The compile-fail fixtures in `ui-tests/fail/` pin the resulting messages.

/// `<T as ParamType>::Type` is `T` for request parameter types (see above).
pub trait ParamType {
    /// `T` itself.
    type Type: FromParam;
}
impl<T: FromParam> ParamType for T {
    type Type = T;
}

/// `<T as ArgType>::Type` is `T` for handler argument types (see above).
pub trait ArgType {
    /// `T` itself.
    type Type: HandlerArg;
}
impl<T: HandlerArg> ArgType for T {
    type Type = T;
}

/// What derived models need: the database they are loaded from.
pub fn db_missing(app: &App) -> Option<String> {
    #[cfg(feature = "db")]
    if app.state::<crate::db::Db>().is_some() {
        return None;
    }
    let _ = app;
    Some("a database for its model (AppBuilder::database)".to_owned())
}

/// What the `model = T` endpoint's model needs, for the endpoint's wiring check.
pub fn model_missing<M: NetsModel>(app: &App) -> Option<String> {
    M::missing(app)
}

/// Compile-time check of `#[param(rest)]` types.
pub fn rest<T: crate::params::FromRest>(input: &mut Input) -> Option<T> {
    input.rest::<T>()
}

/// `<T as ModelType>::Type` is `T` for `model = T` types (see above).
pub trait ModelType {
    /// `T` itself.
    type Type: NetsModel;
}
impl<T: NetsModel> ModelType for T {
    type Type = T;
}

/// Compile-time check that a return type is a response.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a response",
    label = "handlers must return `ApiResult<T>` (T: Serialize) or something implementing `axum::response::IntoResponse`",
    note = "for JSON data use `ApiResult<T>`, which becomes `{{\"res\": 1, \"data\": T}}`"
)]
pub trait IsResponse: IntoResponse {}
impl<R: IntoResponse> IsResponse for R {}

/// Renders anything but `Result<data, E>` through axum's `IntoResponse`.
pub fn into_response<R: IsResponse>(value: R) -> Response {
    value.into_response()
}

/// Compile-time check that response data serialises.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as response data",
    label = "`ApiResult<T>` needs `T: serde::Serialize`",
    note = "derive `serde::Serialize` for it, or return a type implementing `IntoResponse`"
)]
pub trait IsData: serde::Serialize {}
impl<T: serde::Serialize> IsData for T {}

/// Renders `Result<T: Serialize, ApiError>` as the success envelope.
pub fn envelope<T: IsData>(result: Result<T, ApiError>) -> Response {
    crate::response::envelope(result)
}

/// Compile-time check of the error type of a `Result<T, E>` return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into an `ApiError`",
    label = "the error type of a handler's `Result` must implement `Into<ApiError>`",
    note = "return `ApiResult<T>` (that is `Result<T, ApiError>`), or implement `From<{Self}> for ApiError`"
)]
pub trait IsApiError: Into<ApiError> {}
impl<E: Into<ApiError>> IsApiError for E {}

/// `Result<T, E>` → `Result<T, ApiError>`.
pub fn into_api_result<T, E: IsApiError>(result: Result<T, E>) -> Result<T, ApiError> {
    result.map_err(Into::into)
}

/// Compile-time check of `#[param(body)]` types.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[param(body)]` parameter",
    label = "`#[param(body)]` needs `serde::Deserialize` and `validator::Validate`",
    note = "derive both: `#[derive(serde::Deserialize, validator::Validate)]`"
)]
pub trait IsBody: serde::de::DeserializeOwned + validator::Validate {}
impl<T: serde::de::DeserializeOwned + validator::Validate> IsBody for T {}

/// Reads a `#[param(body)]` parameter.
pub fn body<T: IsBody>(input: &mut Input, idx: usize) -> Option<T> {
    input.body::<T>(idx)
}

/// Compile-time check that the handler future is `Send` (it runs on a multi-threaded runtime).
pub fn assert_send<F: std::future::Future + Send>(future: F) -> F {
    future
}

/// Compile-time check of `validate(length(..))`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no length to validate",
    label = "`validate(length(..))` needs a string or a collection",
    note = "for numbers use `validate(range(min = .., max = ..))`"
)]
pub trait HasLength: validator::ValidateLength<u64> {}
impl<T: validator::ValidateLength<u64> + ?Sized> HasLength for T {}

/// `validate(length(..))`
pub fn check_length<T: HasLength + ?Sized>(
    value: &T,
    min: Option<u64>,
    max: Option<u64>,
    equal: Option<u64>,
) -> Result<(), RuleError> {
    crate::params::check_length(value, min, max, equal)
}

/// Compile-time check of `validate(email)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be validated as an e-mail address",
    label = "`validate(email)` needs a string type",
    note = "or take the parameter as `nets_runtime::Email`, which is always a valid address"
)]
pub trait IsEmailText: validator::ValidateEmail {}
impl<T: validator::ValidateEmail + ?Sized> IsEmailText for T {}

/// `validate(email)`
pub fn check_email<T: IsEmailText + ?Sized>(value: &T) -> Result<(), RuleError> {
    crate::params::check_email(value)
}

/// Compile-time check of `validate(url)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be validated as a URL",
    label = "`validate(url)` needs a string type"
)]
pub trait IsUrlText: validator::ValidateUrl {}
impl<T: validator::ValidateUrl + ?Sized> IsUrlText for T {}

/// `validate(url)`
pub fn check_url<T: IsUrlText + ?Sized>(value: &T) -> Result<(), RuleError> {
    crate::params::check_url(value)
}

/// Compile-time check of `validate(regex = ..)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be matched against a regular expression",
    label = "`validate(regex = ..)` needs a string type (`AsRef<str>`)"
)]
pub trait IsText: AsRef<str> {}
impl<T: AsRef<str> + ?Sized> IsText for T {}

/// `validate(regex = ..)`
pub fn check_regex<T: IsText + ?Sized>(value: &T, regex: &LazyLock<Regex>, pattern: &str) -> Result<(), RuleError> {
    crate::params::check_regex(value, regex, pattern)
}

/// The number types `validate(range(..))` applies to. Bounds are written as literals;
/// `from_int`/`from_float` turn them into the parameter's type (as an `as` cast
/// would). Everything `check_range` needs hangs off this one trait (no supertraits),
/// so a non-number parameter is reported once, with this message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number: `validate(range(..))` does not apply",
    label = "`validate(range(..))` needs an integer or float type",
    note = "for strings and collections use `validate(length(min = .., max = ..))`"
)]
pub trait InRange: Sized {
    /// `Self`, with what the range check needs.
    type Value: validator::ValidateRange<Self::Value> + std::fmt::Display + Copy;
    /// The value itself.
    fn value(&self) -> Self::Value;
    /// An integer bound as this type.
    fn from_int(bound: i128) -> Self;
    /// A float bound as this type.
    fn from_float(bound: f64) -> Self;
}
macro_rules! in_range {
    ($($t:ty),*) => {$(
        impl InRange for $t {
            type Value = $t;
            fn value(&self) -> $t {
                *self
            }
            fn from_int(bound: i128) -> Self {
                bound as $t
            }
            fn from_float(bound: f64) -> Self {
                bound as $t
            }
        }
    )*};
}
in_range!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

/// `validate(range(..))`
pub fn check_range<T: InRange>(
    value: &T,
    min: Option<T>,
    max: Option<T>,
    exclusive_min: Option<T>,
    exclusive_max: Option<T>,
) -> Result<(), RuleError> {
    let v = |bound: Option<T>| bound.map(|b| b.value());
    crate::params::check_range(&value.value(), v(min), v(max), v(exclusive_min), v(exclusive_max))
}

/// Probes used from concrete generated code (autoref specialisation): optional
/// OpenAPI schemas and JSON defaults without requiring the traits.
pub mod probe {
    use std::marker::PhantomData;

    use super::{RefOr, Schema, SchemaSink};

    /// A type-level probe.
    pub struct Probe<T>(PhantomData<T>);
    impl<T> Probe<T> {
        /// New probe.
        pub const fn new() -> Self {
            Probe(PhantomData)
        }
    }
    impl<T> Default for Probe<T> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// Chosen when `T: ToSchema`.
    pub trait ViaToSchema {
        /// The schema, registering components in `sink`.
        fn nets_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>>;
    }
    impl<T: utoipa::ToSchema> ViaToSchema for &Probe<T> {
        fn nets_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>> {
            Some(sink.add::<T>())
        }
    }
    /// Fallback: no schema.
    pub trait NoSchema {
        /// No schema.
        fn nets_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>>;
    }
    impl<T> NoSchema for Probe<T> {
        fn nets_schema(&self, _: &mut SchemaSink) -> Option<RefOr<Schema>> {
            None
        }
    }

    /// A value probe for defaults.
    pub struct Value<'a, T>(pub &'a T);
    /// Chosen when the default serialises.
    pub trait ViaSerialize {
        /// The JSON form.
        fn nets_json(&self) -> Option<serde_json::Value>;
    }
    impl<T: serde::Serialize> ViaSerialize for &Value<'_, T> {
        fn nets_json(&self) -> Option<serde_json::Value> {
            serde_json::to_value(self.0).ok()
        }
    }
    /// Fallback: not documented.
    pub trait NoJson {
        /// Nothing.
        fn nets_json(&self) -> Option<serde_json::Value>;
    }
    impl<T> NoJson for Value<'_, T> {
        fn nets_json(&self) -> Option<serde_json::Value> {
            None
        }
    }
}
