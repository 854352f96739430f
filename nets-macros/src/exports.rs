//! The one place that names runtime paths used by generated code. Generated code never
//! depends on what the user imported.

use proc_macro2::{Span, TokenStream};
use quote::{quote, quote_spanned};

/// `::nets_runtime::__private`
pub(crate) fn private() -> TokenStream {
    quote!(::nets_runtime::__private)
}

/// `::nets_runtime::__private` with the given span: a user's token's span for type
/// paths such as `<T as ::nets_runtime::__private::ParamType>::Type` whose errors must
/// point at `T`, or [`at`] of it when the surrounding code mentions generated locals.
pub(crate) fn private_at(span: Span) -> TokenStream {
    quote_spanned!(span=> ::nets_runtime::__private)
}

/// A span that reports at `span` but resolves names like the macro's call site, for
/// generated expressions that mention locals (`__ret`) and must still point at a user's
/// token. Names keep resolving even when the user's tokens come from another macro.
pub(crate) fn at(span: Span) -> Span {
    Span::call_site().located_at(span)
}
