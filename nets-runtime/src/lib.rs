//! # nets: JSON APIs on axum, one declaration per endpoint
//!
//! nets re-creates the Django library `django-nets-core` in Rust. An endpoint is an
//! `async fn` with an attribute; nets generates everything around it:
//!
//! ```
//! use nets_runtime::prelude::*;
//!
//! /// Renames an invoice. (This doc comment becomes the OpenAPI description.)
//! #[request_handler(path = "invoices/{id}/rename/", methods = [POST], public)]
//! async fn rename_invoice(
//!     id: i64,
//!     #[param(validate(length(min = 1, max = 80)))] title: String,
//!     #[param(default = false)] notify: bool,
//! ) -> ApiResult<serde_json::Value> {
//!     Ok(serde_json::json!({"id": id, "title": title, "notify": notify}))
//! }
//! ```
//!
//! From that one declaration nets derives, and keeps in agreement:
//!
//! * **routing**: the path (with and without the trailing slash), a 405 with `Allow`
//!   for undeclared methods, duplicate-route detection at startup ([`routing`]);
//! * **parameters**: read from the path, the query string and JSON, form or multipart
//!   bodies, coerced from the string-encoded values real mobile clients send, validated,
//!   every problem reported in one 400 ([`params`], [`request`]);
//! * **access**: endpoints are private unless `public` (401 without a user), `can_do`
//!   permissions, and `model = T` object loading with ownership checks ([`auth`], [`NetsModel`]);
//! * **responses**: the original wire envelope `{"res": 1, "data": ..}` / `{"res": 0,
//!   "message": ..}` ([`response`], [`ApiError`]);
//! * **documentation**: an OpenAPI 3.1 document at `/openapi.json` and an interactive
//!   page at `/docs` ([`openapi`]).
//!
//! ## Design notes
//!
//! * *Declare once.* The macro records each endpoint in a registry (`inventory`); the
//!   router, the OpenAPI document and [`route_registry`] are all views of it.
//! * *Secure by default.* Private unless `public`; 401 (RFC 6750) rather than the
//!   original's 403; objects owned by someone else answer 404 so their existence does
//!   not leak; bad input is always a 4xx naming the problem, never a 500.
//! * *Compile errors point at the mistake.* Unknown attribute keys, bad paths, unknown
//!   methods, parameter types without coercion and non-response return types are
//!   reported on the offending token.
//! * *Wire compatible, defects fixed.* Paths, messages and envelopes match the original;
//!   its defects (Spanish messages, 500s on bad JSON, ignored query strings on POST,
//!   `"0"` becoming integer 0, silent bool fallbacks, ...) are not reproduced.
//!
//! The keys of `#[request_handler]` are listed in [`request_handler`].

#![warn(missing_docs)]

extern crate self as nets_runtime;

mod app;
pub mod auth;
mod ctx;
mod error;
mod model;
pub mod openapi;
pub mod params;
pub mod request;
pub mod response;
pub mod routing;
pub mod settings;

pub use app::{App, AppBuilder, serve, serve_on};
pub use auth::AuthUser;
pub use ctx::{Ctx, Membership, Project};
pub use error::{ApiError, FieldErrors};
pub use model::NetsModel;
pub use openapi::build_openapi;
pub use params::{Email, UploadedFile};
pub use response::{ApiResult, Success};
pub use routing::{RouteInfo, route_registry};
pub use settings::Settings;

#[doc = include_str!("../docs/request_handler.md")]
pub use nets_macros::request_handler;

/// Everything a module of handlers usually needs.
pub mod prelude {
    pub use crate::build_urlpatterns;
    pub use crate::{
        ApiError, ApiResult, App, AuthUser, Ctx, Email, NetsModel, Settings, Success, UploadedFile, request_handler,
    };
}

/// What generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
pub mod __private {
    pub use crate::openapi::SchemaSink;
    pub use crate::params::{
        FromParam, Rule, RuleError, check_custom, check_custom_ctx, check_email, check_filetypes, check_length,
        check_range, check_regex, check_url,
    };
    pub use crate::request::Input;
    pub use crate::routing::{Endpoint, HandlerFuture, Location, Method, ModelSpec, ParamSpec, Registration};
    pub use crate::{ApiError, App, Ctx, NetsModel};
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

    /// Renders `Result<T: Serialize, E: Into<ApiError>>` as the success envelope.
    pub fn envelope<T: serde::Serialize, E: Into<ApiError>>(result: Result<T, E>) -> Response {
        crate::response::envelope(result)
    }

    /// Renders anything else through axum's `IntoResponse`.
    pub fn into_response<R: IntoResponse>(value: R) -> Response {
        value.into_response()
    }

    /// Compile-time check that a return type is a response.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a response",
        label = "handlers must return `ApiResult<T>` (T: Serialize) or something implementing `axum::response::IntoResponse`",
        note = "for JSON data use `ApiResult<T>`, which becomes `{{\"res\": 1, \"data\": T}}`"
    )]
    pub trait IsResponse {}
    impl<R: IntoResponse> IsResponse for R {}
    /// Spanned assertion helper for [`IsResponse`].
    pub fn assert_response<R: IsResponse>() {}

    /// Compile-time check that response data serialises.
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot be sent as response data",
        label = "`ApiResult<T>` needs `T: serde::Serialize`",
        note = "derive `serde::Serialize` for it, or return a type implementing `IntoResponse`"
    )]
    pub trait IsData: serde::Serialize {}
    impl<T: serde::Serialize> IsData for T {}
    /// Spanned assertion helper for [`IsData`].
    pub fn assert_data<T: IsData>() {}

    /// Compile-time check of the error type of a `Result` return.
    pub fn assert_error<E: Into<ApiError>>() {}

    /// Compile-time check of parameter types.
    pub fn assert_param<T: FromParam>() {}

    /// Compile-time check of `model = T`.
    pub fn assert_model<T: NetsModel>() {}

    /// Compile-time check of `#[param(body)]` types.
    pub fn assert_body<T: serde::de::DeserializeOwned + validator::Validate>() {}

    /// Compile-time check that the handler future is `Send` (it runs on a multi-threaded runtime).
    pub fn assert_send<F: std::future::Future + Send>(future: F) -> F {
        future
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
}
