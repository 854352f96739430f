//! The one place that names runtime paths used by generated code. Generated code never
//! depends on what the user imported.

use proc_macro2::TokenStream;
use quote::quote;

/// `::nets_runtime::__private`
pub(crate) fn private() -> TokenStream {
    quote!(::nets_runtime::__private)
}
