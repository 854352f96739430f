//! Collects compile errors so a user sees every mistake in one build, not one per build.

use proc_macro2::{Span, TokenStream};

#[derive(Default)]
pub(crate) struct Errors {
    all: Vec<syn::Error>,
}

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        self.all.push(error);
    }

    pub(crate) fn at(&mut self, span: Span, message: impl std::fmt::Display) {
        self.push(syn::Error::new(span, message));
    }

    pub(crate) fn darling(&mut self, error: darling::Error) {
        for e in error.into_iter() {
            self.push(syn::Error::new(e.span(), e.to_string()));
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.all.is_empty()
    }

    pub(crate) fn into_tokens(self) -> TokenStream {
        self.all.into_iter().map(|e| e.to_compile_error()).collect()
    }

    /// The messages recorded so far, for unit tests of the validate steps.
    #[cfg(test)]
    pub(crate) fn messages(&self) -> Vec<String> {
        self.all.iter().map(ToString::to_string).collect()
    }
}
