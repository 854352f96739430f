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
pub use crate::routing::{
    ArgKind, Endpoint, HandlerFuture, Location, Method, ModelSpec, OperationFn, ParamSpec, Registration,
};
pub use crate::{ApiError, App, Ctx, NetsModel, Settings, ToJson};
pub use axum::extract::Request;
pub use axum::response::{IntoResponse, Response};
pub use inventory;
pub use serde_json;

use std::any::Any;
use std::pin::Pin;

use crate::params::ParamSchema;

/// Placeholder schema of a `#[param(body)]` parameter (the real one comes from `ToSchema`).
pub fn body_param_schema() -> crate::params::ParamSchema {
    crate::params::ParamSchema::of(crate::params::SchemaKind::Object)
}
pub use regex::Regex;
pub use std::sync::LazyLock;
pub use utoipa::openapi::{RefOr, schema::Schema};

// Compile-time checks of the types a user wrote. Each requirement is reported once, on
// the user's token, with nets' own message and nothing else:
//
// * Generated code reaches the runtime for a user's type only through a trait below,
//   as `<T as Trait>::item` with `T` carrying the user's span (or, when the type cannot
//   be named, `Trait::item(value)` located at it). The compiler reports an unsatisfied
//   bound once per location and trait, so every use of `T` shares one error.
// * Each trait has exactly one implementation, a blanket one over the real requirement
//   (`FromParam`, `HandlerArg`, `Serialize`, ...) marked `#[diagnostic::do_not_recommend]`:
//   the error then names this trait, with its `on_unimplemented` text, instead of the
//   requirement's list of unrelated implementations, and no bounded function is called,
//   so no runtime source line is quoted.
//
// The compile-fail fixtures in `ui-tests/fail/` pin the resulting messages.

/// A request parameter's type: `#[param(..)]` arguments and `Option<T>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a request parameter",
    label = "no `FromParam` implementation for this type",
    note = "parameters can be String, integers, floats, Decimal, bool, Vec<T>, serde_json::Value, chrono dates, Email, Uuid, UploadedFile, Option<T>, or a type implementing `nets_runtime::params::FromParam`",
    note = "`#[param(..)]` and `Option<..>` mark request parameters: the context, models and state take neither; for a whole structured body, mark the argument `#[param(body)]`"
)]
pub trait ParamType: Sized {
    /// The OpenAPI schema.
    fn schema() -> ParamSchema;
    /// A required parameter.
    fn required(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Self>;
    /// An `Option<T>` parameter.
    fn optional(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<Self>>;
    /// A parameter with `default = ..`.
    fn defaulted(
        input: &mut Input,
        idx: usize,
        default: fn() -> Self,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Self>;
}
#[diagnostic::do_not_recommend]
impl<T: FromParam> ParamType for T {
    fn schema() -> ParamSchema {
        T::schema()
    }
    fn required(input: &mut Input, idx: usize, check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>) -> Option<T> {
        input.required(idx, check)
    }
    fn optional(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<T>> {
        input.optional(idx, check)
    }
    fn defaulted(
        input: &mut Input,
        idx: usize,
        default: fn() -> T,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<T> {
        input.defaulted(idx, default, check)
    }
}

/// A plain handler argument's type (no `#[param]`, not `Option`): what its
/// [`HandlerArg`] makes it.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a request parameter",
    label = "no `FromParam` implementation for this type",
    note = "parameters can be String, integers, floats, Decimal, bool, Vec<T>, serde_json::Value, chrono dates, Email, Uuid, UploadedFile, Option<T>, or a type implementing `nets_runtime::params::FromParam`",
    note = "other arguments: the context (`Ctx`), the `model = T` object (`#[derive(NetsModel)]`, or `nets_runtime::model_argument!(T)` for a hand-written model), state (`nets_runtime::State<T>`, T: Clone + Send + Sync + 'static), the request's `HeaderMap`; for a whole structured body, mark the argument `#[param(body)]`"
)]
pub trait ArgType: Sized {
    /// [`HandlerArg::KIND`].
    const KIND: ArgKind;
    /// [`HandlerArg::extract`].
    fn extract(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<Self>>;
    /// [`HandlerArg::resolve`].
    #[allow(clippy::result_large_err)]
    fn resolve(read: Option<Self>, input: &mut Input, model: &mut (dyn Any + Send)) -> Result<Self, Response>;
    /// [`HandlerArg::schema`].
    fn schema() -> ParamSchema;
    /// [`HandlerArg::missing`].
    fn missing(endpoint: &Endpoint, app: &App) -> Option<String>;
}
#[diagnostic::do_not_recommend]
impl<T: HandlerArg> ArgType for T {
    const KIND: ArgKind = T::KIND;
    fn extract(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&T, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<T>> {
        T::extract(input, idx, check)
    }
    fn resolve(read: Option<T>, input: &mut Input, model: &mut (dyn Any + Send)) -> Result<T, Response> {
        T::resolve(read, input, model)
    }
    fn schema() -> ParamSchema {
        T::schema()
    }
    fn missing(endpoint: &Endpoint, app: &App) -> Option<String> {
        T::missing(endpoint, app)
    }
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

/// The `model = T` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a nets model",
    label = "`model = ..` needs a type implementing `NetsModel`",
    note = "derive it with `#[derive(NetsModel)]` or implement `nets_runtime::NetsModel` by hand"
)]
pub trait ModelType: Sized {
    /// [`NetsModel::TABLE`].
    const TABLE: &'static str;
    /// [`NetsModel::INDEX_FIELD`].
    const INDEX_FIELD: &'static str;
    /// Step 6: loads the object named by the request (ownership checked). A boxed
    /// future rather than `impl Future`: awaiting an opaque type of a type that turned
    /// out not to be a model would report it a second time, at the macro.
    fn load(input: &mut Input) -> Pin<Box<dyn Future<Output = Result<Self, Response>> + Send + '_>>;
    /// What the model needs from the app, for the endpoint's wiring check.
    fn missing(app: &App) -> Option<String>;
}
#[diagnostic::do_not_recommend]
impl<T: NetsModel> ModelType for T {
    const TABLE: &'static str = T::TABLE;
    const INDEX_FIELD: &'static str = T::INDEX_FIELD;
    fn load(input: &mut Input) -> Pin<Box<dyn Future<Output = Result<T, Response>> + Send + '_>> {
        Box::pin(input.model::<T>())
    }
    fn missing(app: &App) -> Option<String> {
        T::missing(app)
    }
}

/// A `#[param(rest)]` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot hold the rest of the parameters",
    label = "`#[param(rest)]` needs `serde_json::Map<String, Value>` or `nets_runtime::params::Rest`",
    note = "or a type implementing `nets_runtime::params::FromRest`"
)]
pub trait IsRest: Sized {
    /// Every undeclared key.
    fn read(input: &mut Input) -> Option<Self>;
}
#[diagnostic::do_not_recommend]
impl<T: crate::params::FromRest> IsRest for T {
    fn read(input: &mut Input) -> Option<T> {
        input.rest::<T>()
    }
}

/// A `#[param(body)]` type.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[param(body)]` parameter",
    label = "`#[param(body)]` needs `serde::Deserialize` and `validator::Validate`",
    note = "derive both: `#[derive(serde::Deserialize, validator::Validate)]`"
)]
pub trait IsBody: Sized {
    /// Reads and validates the body.
    fn read(input: &mut Input, idx: usize) -> Option<Self>;
}
#[diagnostic::do_not_recommend]
impl<T: serde::de::DeserializeOwned + validator::Validate> IsBody for T {
    fn read(input: &mut Input, idx: usize) -> Option<T> {
        input.body::<T>(idx)
    }
}

/// A handler's return type that is not `Result<data, E>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a response",
    label = "handlers must return `ApiResult<T>` (T: Serialize) or something implementing `axum::response::IntoResponse`",
    note = "for JSON data use `ApiResult<T>`, which becomes `{{\"res\": 1, \"data\": T}}`"
)]
pub trait IsResponse {
    /// Renders through axum's `IntoResponse`.
    fn respond(self) -> Response;
}
#[diagnostic::do_not_recommend]
impl<R: IntoResponse> IsResponse for R {
    fn respond(self) -> Response {
        self.into_response()
    }
}

/// Return types not written as `ApiResult<T>` or `Result<T, E>` (a type alias of one,
/// or a response type): the envelope or `IntoResponse` is chosen by trait, by autoref
/// specialisation in the generated code (which knows the concrete type):
/// `(&&&Returned::of(&value)).nets_kind()` is [`Envelope`](respond::Envelope) for
/// `Result<T: Serialize, E: Into<ApiError>>`, else [`Plain`](respond::Plain) for
/// `IntoResponse`, else [`NotAResponse`](respond::NotAResponse); then
/// `kind.respond(value)`. Each kind's `respond` is its own trait, so a value that is
/// neither is reported by [`FallbackRespond`](respond::FallbackRespond)'s message alone.
pub mod respond {
    use std::marker::PhantomData;

    use super::{ApiError, IntoResponse, IsResponse, RefOr, Response, Schema, SchemaSink};

    /// A type-level probe of the handler's return type.
    pub struct Returned<R>(PhantomData<R>);
    impl<R> Returned<R> {
        /// The probe of `value`'s type.
        pub fn of(_: &R) -> Self {
            Returned(PhantomData)
        }
        /// The probe of `R`.
        pub const fn new() -> Self {
            Returned(PhantomData)
        }
    }
    impl<R> Default for Returned<R> {
        fn default() -> Self {
            Self::new()
        }
    }

    /// The success envelope.
    pub struct Envelope;
    /// axum's `IntoResponse`.
    pub struct Plain;
    /// Neither: reported by [`FallbackRespond`].
    pub struct NotAResponse;

    /// Chosen for `Result<T: Serialize, E: Into<ApiError>>`.
    pub trait ViaEnvelope {
        /// [`Envelope`].
        fn nets_kind(&self) -> Envelope {
            Envelope
        }
    }
    impl<T: serde::Serialize, E: Into<ApiError>> ViaEnvelope for &&Returned<Result<T, E>> {}
    /// Chosen for `IntoResponse`.
    pub trait ViaResponse {
        /// [`Plain`].
        fn nets_kind(&self) -> Plain {
            Plain
        }
    }
    impl<R: IntoResponse> ViaResponse for &Returned<R> {}
    /// Chosen for anything else.
    pub trait ViaNothing {
        /// [`NotAResponse`].
        fn nets_kind(&self) -> NotAResponse {
            NotAResponse
        }
    }
    impl<R> ViaNothing for Returned<R> {}

    /// Renders through the envelope.
    pub trait EnvelopeRespond<R> {
        /// The response.
        fn respond(self, value: R) -> Response;
    }
    impl<T: serde::Serialize, E: Into<ApiError>> EnvelopeRespond<Result<T, E>> for Envelope {
        fn respond(self, value: Result<T, E>) -> Response {
            crate::response::envelope(value.map_err(Into::into))
        }
    }
    /// Renders through `IntoResponse`.
    pub trait PlainRespond<R> {
        /// The response.
        fn respond(self, value: R) -> Response;
    }
    impl<R: IntoResponse> PlainRespond<R> for Plain {
        fn respond(self, value: R) -> Response {
            value.into_response()
        }
    }
    /// What a value that is neither becomes: an error naming its type.
    #[diagnostic::on_unimplemented(
        message = "`{R}` is not a response",
        label = "handlers must return `ApiResult<T>` (T: Serialize) or something implementing `axum::response::IntoResponse`",
        note = "for JSON data use `ApiResult<T>`, which becomes `{{\"res\": 1, \"data\": T}}`; a `Result<T, E>` (or an alias of one) needs `T: Serialize` and `E: Into<ApiError>`"
    )]
    pub trait FallbackRespond<R> {
        /// The response.
        fn respond(self, value: R) -> Response;
    }
    #[diagnostic::do_not_recommend]
    impl<R: IsResponse> FallbackRespond<R> for NotAResponse {
        fn respond(self, value: R) -> Response {
            value.respond()
        }
    }

    /// The data schema of an envelope return (`T` of `Result<T, E>`), when `T` has one.
    pub trait ViaEnvelopeSchema {
        /// `T`'s schema.
        fn nets_data_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>>;
    }
    impl<T: serde::Serialize + utoipa::ToSchema, E: Into<ApiError>> ViaEnvelopeSchema for &Returned<Result<T, E>> {
        fn nets_data_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>> {
            Some(sink.add::<T>())
        }
    }
    /// Anything else: no data schema.
    pub trait NoDataSchema {
        /// None.
        fn nets_data_schema(&self, sink: &mut SchemaSink) -> Option<RefOr<Schema>>;
    }
    impl<R> NoDataSchema for Returned<R> {
        fn nets_data_schema(&self, _: &mut SchemaSink) -> Option<RefOr<Schema>> {
            None
        }
    }
}

/// Response data.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as response data",
    label = "`ApiResult<T>` needs `T: serde::Serialize`",
    note = "derive `serde::Serialize` for it, or return a type implementing `IntoResponse`"
)]
pub trait IsData: Sized {
    /// Renders `Result<T, ApiError>` as the success envelope.
    fn envelope(result: Result<Self, ApiError>) -> Response;
}
#[diagnostic::do_not_recommend]
impl<T: serde::Serialize> IsData for T {
    fn envelope(result: Result<T, ApiError>) -> Response {
        crate::response::envelope(result)
    }
}

/// The error type of a `Result<T, E>` return.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be turned into an `ApiError`",
    label = "the error type of a handler's `Result` must implement `Into<ApiError>`",
    note = "return `ApiResult<T>` (that is `Result<T, ApiError>`), or implement `From<{Self}> for ApiError`"
)]
pub trait IsApiError: Sized {
    /// `Result<T, E>` → `Result<T, ApiError>`.
    fn api_result<T>(result: Result<T, Self>) -> Result<T, ApiError>;
}
#[diagnostic::do_not_recommend]
impl<E: Into<ApiError>> IsApiError for E {
    fn api_result<T>(result: Result<T, E>) -> Result<T, ApiError> {
        result.map_err(Into::into)
    }
}

/// The handler's future runs on a multi-threaded runtime. Not `do_not_recommend`: the
/// compiler's own report of a `!Send` future (which value is held across which
/// `.await`) is the helpful one, and the bound on the impl keeps it free of runtime
/// source lines.
pub trait SendFuture: Sized {
    /// The future itself.
    fn checked(self) -> Self;
}
impl<F: Future + Send> SendFuture for F {
    fn checked(self) -> F {
        self
    }
}

/// `validate(length(..))`
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no length to validate",
    label = "`validate(length(..))` needs a string or a collection",
    note = "for numbers use `validate(range(min = .., max = ..))`"
)]
pub trait HasLength {
    /// Checks the bounds.
    fn check_length(&self, min: Option<u64>, max: Option<u64>, equal: Option<u64>) -> Result<(), RuleError>;
}
#[diagnostic::do_not_recommend]
impl<T: validator::ValidateLength<u64> + ?Sized> HasLength for T {
    fn check_length(&self, min: Option<u64>, max: Option<u64>, equal: Option<u64>) -> Result<(), RuleError> {
        crate::params::check_length(self, min, max, equal)
    }
}

/// `validate(email)`
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be validated as an e-mail address",
    label = "`validate(email)` needs a string type",
    note = "or take the parameter as `nets_runtime::Email`, which is always a valid address"
)]
pub trait IsEmailText {
    /// Checks the address.
    fn check_email(&self) -> Result<(), RuleError>;
}
#[diagnostic::do_not_recommend]
impl<T: validator::ValidateEmail + ?Sized> IsEmailText for T {
    fn check_email(&self) -> Result<(), RuleError> {
        crate::params::check_email(self)
    }
}

/// `validate(url)`
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be validated as a URL",
    label = "`validate(url)` needs a string type"
)]
pub trait IsUrlText {
    /// Checks the URL.
    fn check_url(&self) -> Result<(), RuleError>;
}
#[diagnostic::do_not_recommend]
impl<T: validator::ValidateUrl + ?Sized> IsUrlText for T {
    fn check_url(&self) -> Result<(), RuleError> {
        crate::params::check_url(self)
    }
}

/// `validate(regex = ..)`
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be matched against a regular expression",
    label = "`validate(regex = ..)` needs a string type (`AsRef<str>`)"
)]
pub trait IsText {
    /// Checks the pattern.
    fn check_regex(&self, regex: &LazyLock<Regex>, pattern: &str) -> Result<(), RuleError>;
}
#[diagnostic::do_not_recommend]
impl<T: AsRef<str> + ?Sized> IsText for T {
    fn check_regex(&self, regex: &LazyLock<Regex>, pattern: &str) -> Result<(), RuleError> {
        crate::params::check_regex(self, regex, pattern)
    }
}

/// `validate(custom(function = f))`: `f(&T) -> Result<(), ValidationError>`. Not
/// `do_not_recommend`: the compiler's own comparison of the expected and found
/// signatures is the helpful report.
pub trait CustomCheck<T: ?Sized> {
    /// Runs the validator.
    fn check(self, value: &T) -> Result<(), RuleError>;
}
impl<T: ?Sized, F: FnOnce(&T) -> Result<(), validator::ValidationError>> CustomCheck<T> for F {
    fn check(self, value: &T) -> Result<(), RuleError> {
        check_custom(value, self)
    }
}

/// `validate(custom(function = f, use_ctx))`: `f(&T, &Ctx) -> Result<(), ValidationError>`.
pub trait CustomCtxCheck<T: ?Sized> {
    /// Runs the validator.
    fn check(self, value: &T, ctx: &Ctx) -> Result<(), RuleError>;
}
impl<T: ?Sized, F: FnOnce(&T, &Ctx) -> Result<(), validator::ValidationError>> CustomCtxCheck<T> for F {
    fn check(self, value: &T, ctx: &Ctx) -> Result<(), RuleError> {
        check_custom_ctx(value, ctx, self)
    }
}

/// The number types `validate(range(..))` applies to. Bounds are written as literals;
/// `from_int`/`from_float` turn them into the parameter's type (as an `as` cast would).
pub trait RangeNumber: Sized {
    /// `Self`, with what the range check needs.
    type Value: validator::ValidateRange<Self::Value> + std::fmt::Display + Copy;
    /// The value itself.
    fn value(&self) -> Self::Value;
    /// An integer bound as this type.
    fn from_int(bound: i128) -> Self;
    /// A float bound as this type.
    fn from_float(bound: f64) -> Self;
}
macro_rules! range_number {
    ($($t:ty),*) => {$(
        impl RangeNumber for $t {
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
range_number!(i8, i16, i32, i64, i128, isize, u8, u16, u32, u64, u128, usize, f32, f64);

/// `validate(range(..))`: everything the check needs, so a non-number parameter is
/// reported once, with this message.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a number: `validate(range(..))` does not apply",
    label = "`validate(range(..))` needs an integer or float type",
    note = "for strings and collections use `validate(length(min = .., max = ..))`"
)]
pub trait InRange: Sized {
    /// An integer bound as this type.
    fn from_int(bound: i128) -> Self;
    /// A float bound as this type.
    fn from_float(bound: f64) -> Self;
    /// Checks the bounds.
    fn check_range(
        &self,
        min: Option<Self>,
        max: Option<Self>,
        exclusive_min: Option<Self>,
        exclusive_max: Option<Self>,
    ) -> Result<(), RuleError>;
}
#[diagnostic::do_not_recommend]
impl<T: RangeNumber> InRange for T {
    fn from_int(bound: i128) -> T {
        T::from_int(bound)
    }
    fn from_float(bound: f64) -> T {
        T::from_float(bound)
    }
    fn check_range(
        &self,
        min: Option<T>,
        max: Option<T>,
        exclusive_min: Option<T>,
        exclusive_max: Option<T>,
    ) -> Result<(), RuleError> {
        let v = |bound: Option<T>| bound.map(|b| b.value());
        crate::params::check_range(&self.value(), v(min), v(max), v(exclusive_min), v(exclusive_max))
    }
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

// `#[derive(NetsModel)]`'s checks, built like the ones above.

/// An `owner = ..` or `project = ..` field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's owner or project field",
    label = "`owner = ..` and `project = ..` must name a field of type `i64` or `Option<i64>` (a user's or a project's id)"
)]
pub trait IsIdField {
    /// The id it holds.
    fn id_of(&self) -> Option<i64>;
}
#[diagnostic::do_not_recommend]
impl<T: OwnerField> IsIdField for T {
    fn id_of(&self) -> Option<i64> {
        self.owner_id()
    }
}

/// The `index = ..` field.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a model's index field",
    label = "`index = ..` needs a type that parses from text (`FromStr`) and binds as a query parameter",
    note = "use an integer, `String` or `uuid::Uuid` column as the index"
)]
pub trait IsIndex {
    /// Loads the `T` whose index column equals `value`.
    fn find<'a, T: ModelRow + 'a>(
        ctx: &'a Ctx,
        sqlite_sql: &'static str,
        pg_sql: &'static str,
        value: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<T>, ApiError>> + Send + 'a>>;
}
#[diagnostic::do_not_recommend]
impl<V: IndexValue> IsIndex for V {
    fn find<'a, T: ModelRow + 'a>(
        ctx: &'a Ctx,
        sqlite_sql: &'static str,
        pg_sql: &'static str,
        value: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Option<T>, ApiError>> + Send + 'a>> {
        Box::pin(find_one::<T, V>(ctx, sqlite_sql, pg_sql, value))
    }
}

/// A `references = ..` field's column.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a foreign key",
    label = "`references = ..` needs an integer, `String` or `uuid::Uuid` column (or an `Option` of one)"
)]
pub trait IsForeignKey {
    /// [`ForeignKey::key_text`].
    fn key_of(&self) -> Option<String>;
}
#[diagnostic::do_not_recommend]
impl<T: ForeignKey> IsForeignKey for T {
    fn key_of(&self) -> Option<String> {
        self.key_text()
    }
}

/// A `references = T` target.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be referenced: it is not a nets model",
    label = "`references = ..` needs a type deriving `NetsModel`",
    note = "derive it with `#[derive(NetsModel)]`"
)]
pub trait IsRelated {
    /// Loads the related object whose index is `key`, as JSON.
    fn expand_related(
        ctx: &Ctx,
        key: Option<String>,
        depth: u8,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, ApiError>> + Send + '_>>;
}
#[diagnostic::do_not_recommend]
impl<R: RelatedModel> IsRelated for R {
    fn expand_related(
        ctx: &Ctx,
        key: Option<String>,
        depth: u8,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, ApiError>> + Send + '_>> {
        expand::<R::Model>(ctx, key, depth)
    }
}
