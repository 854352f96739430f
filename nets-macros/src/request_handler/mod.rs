//! `#[request_handler(...)]`: parse → validate → expand.

mod expand;
mod parse;
mod path;
mod signature;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;

use crate::errors::Errors;

pub(crate) fn entry(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut function: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(e) => {
            let message = syn::Error::new(e.span(), "#[request_handler] applies to an `async fn`");
            let error = message.to_compile_error();
            return quote!(#error #item);
        }
    };
    let mut errors = Errors::default();
    let args = parse::handler_args(attr, &mut errors);
    let params = parse::param_attrs(&mut function, &mut errors);
    // Attribute arguments that did not parse are already reported; the signature is still
    // checked (against no keys) so its own mistakes show up in the same build.
    let handler = validate::handler(args.unwrap_or_default(), params, &function, &mut errors);
    match handler {
        Some(handler) if errors.is_empty() => expand::handler(&handler, &function),
        _ => {
            // Keep the function so its own errors (and uses of it) still make sense.
            let errors = errors.into_tokens();
            quote!(#errors #function)
        }
    }
}
