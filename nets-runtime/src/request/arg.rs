//! What a `#[request_handler]` argument can be, decided by its type's [`HandlerArg`]
//! implementation rather than by how the type is spelled: a type alias of `Ctx` is the
//! context, an alias of a model is the model.
//!
//! * request parameters: every [`FromParam`] type (and `Option<T>`, `#[param(..)]`);
//! * the context: [`Ctx`];
//! * the `model = T` object: types deriving [`NetsModel`](crate::NetsModel) (hand-written
//!   models add [`model_argument!`](crate::model_argument));
//! * application or module state: [`State<T>`].
//!
//! Each kind also says what it needs from the [`App`] (state, a database), so
//! [`AppBuilder::build`](crate::AppBuilder::build) reports a missing piece of wiring
//! before anything is served.

// The error side of these results is a finished response on a cold path.
#![allow(clippy::result_large_err)]

use std::any::Any;
use std::ops::Deref;

use axum::response::{IntoResponse, Response};

use super::Input;
use crate::params::{FromParam, ParamSchema, RuleError};
use crate::routing::{ArgKind, Endpoint};
use crate::{ApiError, App, Ctx};

/// A type a handler can take as an argument. Implemented for parameter types, [`Ctx`],
/// models and [`State<T>`]; generated code calls it in the pipeline's order: `extract`
/// while parameters are read (step 4), `resolve` once access is granted (step 7).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a request parameter",
    label = "no `FromParam` implementation for this type",
    note = "parameters can be String, integers, floats, Decimal, bool, Vec<T>, serde_json::Value, chrono dates, Email, Uuid, UploadedFile, Option<T>, or a type implementing `nets_runtime::params::FromParam`",
    note = "other arguments: the context (`Ctx`), the `model = T` object (`#[derive(NetsModel)]`), state (`nets_runtime::State<T>`); for a whole structured body, mark the argument `#[param(body)]`"
)]
pub trait HandlerArg: Sized + Send {
    /// Which kind of argument this is (parameters are documented and read by name).
    const KIND: ArgKind;

    /// Step 4: reads a parameter (`None` after recording what is missing or invalid,
    /// else `Some(Some(value))`); the other kinds have nothing to read yet
    /// (`Some(None)`). The result is a plain `Option<Option<Self>>` rather than an
    /// associated type, so generated code never normalises a projection of a type
    /// that turned out not to be an argument (which would report it a second time).
    fn extract(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<Self>>;

    /// Step 7: the value handed to the handler, from what `extract` read. `model`
    /// holds the loaded `model = T` object (an `Option<T>`), or `()` when the endpoint
    /// declares none.
    fn resolve(read: Option<Self>, input: &mut Input, model: &mut (dyn Any + Send)) -> Result<Self, Response>;

    /// The OpenAPI schema of a parameter (unused for the other kinds).
    fn schema() -> ParamSchema {
        ParamSchema::of(crate::params::SchemaKind::Object)
    }

    /// What `endpoint` taking this argument needs from `app` that it lacks, if anything.
    fn missing(endpoint: &Endpoint, app: &App) -> Option<String> {
        let _ = (endpoint, app);
        None
    }
}

impl<T: FromParam + Send> HandlerArg for T {
    const KIND: ArgKind = ArgKind::Param;

    fn extract(
        input: &mut Input,
        idx: usize,
        check: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>,
    ) -> Option<Option<T>> {
        input.required::<T>(idx, check).map(Some)
    }

    fn resolve(read: Option<T>, _: &mut Input, _: &mut (dyn Any + Send)) -> Result<T, Response> {
        read.ok_or_else(|| ApiError::internal("a parameter read in step 4 was lost").into_response())
    }

    fn schema() -> ParamSchema {
        T::schema()
    }
}

impl HandlerArg for Ctx {
    const KIND: ArgKind = ArgKind::Context;
    fn extract(_: &mut Input, _: usize, _: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>) -> Option<Option<Self>> {
        Some(None)
    }

    fn resolve(_: Option<Self>, input: &mut Input, _: &mut (dyn Any + Send)) -> Result<Ctx, Response> {
        Ok(input.ctx().clone())
    }
}

/// The request's headers, for the rare handler that reads one itself (a presented
/// token, a signature).
impl HandlerArg for axum::http::HeaderMap {
    const KIND: ArgKind = ArgKind::Headers;

    fn extract(_: &mut Input, _: usize, _: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>) -> Option<Option<Self>> {
        Some(None)
    }

    fn resolve(_: Option<Self>, input: &mut Input, _: &mut (dyn Any + Send)) -> Result<Self, Response> {
        Ok(input.take_headers())
    }
}

/// Application or module state as a handler argument: the value given to
/// [`AppBuilder::state`](crate::AppBuilder::state) (or installed by a module). An
/// endpoint taking `State<T>` in an app without a `T` is refused by
/// [`AppBuilder::build`](crate::AppBuilder::build), naming the endpoint and the type.
///
/// ```
/// use nets_runtime::prelude::*;
/// use nets_runtime::State;
///
/// #[derive(Clone)]
/// struct Greeting(&'static str);
///
/// #[request_handler(path = "greet/", method = GET, public)]
/// async fn greet(greeting: State<Greeting>) -> ApiResult<&'static str> {
///     Ok(greeting.0.0) // `State` derefs to the `Greeting`
/// }
///
/// // Without `.state(Greeting(..))`, build() fails naming `greet` and `Greeting`.
/// let routes = build_urlpatterns!(self).unwrap();
/// assert!(App::builder(Settings::default()).routes(routes.clone()).build().is_err());
/// assert!(App::builder(Settings::default()).state(Greeting("hi")).routes(routes).build().is_ok());
/// ```
#[derive(Debug, Clone)]
pub struct State<T>(pub T);

impl<T> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Clone + Send + Sync + 'static> HandlerArg for State<T> {
    const KIND: ArgKind = ArgKind::State;
    fn extract(_: &mut Input, _: usize, _: impl FnOnce(&Self, &Ctx) -> Result<(), RuleError>) -> Option<Option<Self>> {
        Some(None)
    }

    fn resolve(_: Option<Self>, input: &mut Input, _: &mut (dyn Any + Send)) -> Result<Self, Response> {
        // `build()` refused an app without it; reaching this is a bug, not a client error.
        match input.ctx().state::<T>() {
            Some(value) => Ok(State(value.clone())),
            None => Err(ApiError::internal(format!("no state of type {}", std::any::type_name::<T>())).into_response()),
        }
    }

    fn missing(_: &Endpoint, app: &App) -> Option<String> {
        let name = std::any::type_name::<T>();
        app.state::<T>().is_none().then(|| format!("state `{name}` (add it with AppBuilder::state or its module)"))
    }
}

/// The `model = T` object, for [`model_argument!`](crate::model_argument).
#[doc(hidden)]
pub fn resolve_model<M: crate::NetsModel + Send + 'static>(model: &mut (dyn Any + Send)) -> Result<M, Response> {
    match model.downcast_mut::<Option<M>>().and_then(Option::take) {
        Some(object) => Ok(object),
        None => Err(ApiError::internal(format!("{} taken without `model = ..`", M::TABLE)).into_response()),
    }
}

/// What an endpoint taking the model `M` lacks: a matching `model = ..` declaration.
#[doc(hidden)]
pub fn missing_model<M: crate::NetsModel>(endpoint: &Endpoint) -> Option<String> {
    match &endpoint.model {
        Some(spec) if spec.table == M::TABLE => None,
        Some(spec) => {
            Some(format!("its model argument (table `{}`) to be the `model = {}` type", M::TABLE, spec.type_name))
        }
        None => Some(format!("`model = ..` for its model argument (table `{}`)", M::TABLE)),
    }
}

/// Makes a hand-written [`NetsModel`](crate::NetsModel) usable as the handler argument of
/// `model = T` endpoints (`#[derive(NetsModel)]` does this itself).
///
/// ```
/// use nets_runtime::prelude::*;
///
/// struct Note { id: i64 }
///
/// impl NetsModel for Note {
///     const TABLE: &'static str = "notes";
///     async fn find_by_index(_: &Ctx, _: &str, value: &str) -> Result<Option<Self>, ApiError> {
///         Ok(value.parse().ok().map(|id| Note { id }))
///     }
/// }
/// nets_runtime::model_argument!(Note);
///
/// #[request_handler(path = "notes/{id}/", method = GET, model = Note, public, public_objects)]
/// async fn show(note: Note) -> ApiResult<i64> { Ok(note.id) }
/// ```
#[macro_export]
macro_rules! model_argument {
    ($model:ty) => {
        impl $crate::__private::HandlerArg for $model {
            const KIND: $crate::__private::ArgKind = $crate::__private::ArgKind::Model;

            fn extract(
                _: &mut $crate::__private::Input,
                _: usize,
                _: impl ::core::ops::FnOnce(&Self, &$crate::Ctx) -> ::core::result::Result<(), $crate::__private::RuleError>,
            ) -> ::core::option::Option<::core::option::Option<Self>> {
                ::core::option::Option::Some(::core::option::Option::None)
            }

            fn resolve(
                _: ::core::option::Option<Self>,
                _: &mut $crate::__private::Input,
                model: &mut (dyn ::core::any::Any + ::core::marker::Send),
            ) -> ::core::result::Result<Self, $crate::__private::Response> {
                $crate::__private::resolve_model::<Self>(model)
            }

            fn missing(endpoint: &$crate::__private::Endpoint, _: &$crate::App) -> ::core::option::Option<::std::string::String> {
                $crate::__private::missing_model::<Self>(endpoint)
            }
        }
    };
}
