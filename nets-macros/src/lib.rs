//! Procedural macros of nets. Use them through `nets-runtime`, which re-exports them
//! and documents them (so their examples run as doctests).
//!
//! Each macro is split into *parse* (attribute tokens → plain structs, with darling),
//! *validate* (plain structs → a checked model, collecting every error) and *expand*
//! (checked model → code). Generated code names runtime items only through
//! `::nets_runtime::__private` (see the `exports` module).

mod derive_model;
mod errors;
mod exports;
mod request_handler;

use proc_macro::TokenStream;

/// Declares an endpoint. Documented in `nets_runtime::request_handler`.
#[proc_macro_attribute]
pub fn request_handler(attr: TokenStream, item: TokenStream) -> TokenStream {
    request_handler::entry(attr.into(), item.into()).into()
}

/// Implements `NetsModel` and `ToJson` for a struct. Documented in `nets_runtime::NetsModel`.
#[proc_macro_derive(NetsModel, attributes(nets))]
pub fn derive_nets_model(input: TokenStream) -> TokenStream {
    derive_model::entry(input.into()).into()
}
