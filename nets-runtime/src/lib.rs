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
//! Around the endpoints: storage (`db`), e-mail with the original's `send_email` rules
//! and reason codes (`mail`), and durable background jobs of any type (the e-mail job,
//! modules' and the application's own) with workers in the server or in their own
//! processes (`jobs`).
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

#[cfg(feature = "accounts")]
pub mod accounts;
mod app;
pub mod auth;
#[cfg(feature = "cache")]
pub mod cache;
#[cfg(feature = "cli")]
pub mod cli;
pub mod client_ip;
mod ctx;
#[cfg(feature = "db")]
pub mod db;
pub mod decimal;
#[cfg(feature = "db")]
pub mod django_import;
#[cfg(feature = "docs-ui")]
mod docs_ui;
mod error;
#[cfg(feature = "jobs")]
pub mod jobs;
pub mod keys;
#[cfg(feature = "mail")]
pub mod mail;
mod middleware;
pub mod model;
pub mod module;
#[cfg(feature = "db")]
pub mod oauth;
pub mod openapi;
pub mod params;
#[cfg(feature = "db")]
pub mod perms;
mod precompressed;
#[cfg(feature = "push")]
pub mod push;
#[cfg(feature = "realtime")]
pub mod realtime;
pub mod request;
mod request_id;
pub mod response;
pub mod routing;
mod run;
mod security_headers;
mod serve;
pub mod settings;
#[cfg(feature = "social")]
pub mod social;
#[cfg(feature = "accounts")]
pub mod stack;
pub mod time_zone;
mod tls;
pub mod uploads;
#[cfg(feature = "db")]
pub mod users;
pub mod wiring;

pub use app::{App, AppBuilder, BuildError};
pub use auth::AuthUser;
pub use ctx::{Ctx, Membership, Project};
pub use decimal::Decimal;
pub use error::{ApiError, FieldErrors};
pub use model::{Fields, ModelError, NetsModel, ToJson, Update};
pub use module::Module;
pub use openapi::build_openapi;
pub use params::{Email, UploadedFile};
pub use request::State;
pub use response::{ApiResult, Success};
pub use routing::{RouteInfo, route_registry};
pub use run::{DRAIN_TIMEOUT, shutdown_signal};
pub use serve::{ServeOptions, serve, serve_on, serve_with};
pub use settings::Settings;
pub use tls::install_crypto_provider;
/// The OpenAPI types nets builds its document with (for `openapi = ..` adjusters and
/// [`AppBuilder::document`]).
pub use utoipa;

#[doc = include_str!("../docs/request_handler.md")]
pub use nets_macros::request_handler;

/// The README's snippets, compiled and run as doctests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// Everything a module of handlers usually needs.
pub mod prelude {
    pub use crate::build_urlpatterns;
    pub use crate::{
        ApiError, ApiResult, App, AppBuilder, AuthUser, Ctx, Email, Fields, Module, NetsModel, Settings, State,
        Success, ToJson, Update, UploadedFile, request_handler,
    };
}

/// What generated code uses. Not a public API: it changes without notice.
#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
