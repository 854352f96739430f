//! `#[derive(NetsModel)]`: parse → validate → expand.

mod expand;
mod parse;
mod validate;

use proc_macro2::TokenStream;

use crate::errors::Errors;

pub(crate) fn entry(input: TokenStream) -> TokenStream {
    let input: syn::DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(e) => return e.to_compile_error(),
    };
    let mut errors = Errors::default();
    let args = parse::model_args(&input, &mut errors);
    let model = validate::model(args, &input, &mut errors);
    match model {
        Some(model) if errors.is_empty() => expand::model(&model),
        _ => errors.into_tokens(),
    }
}
