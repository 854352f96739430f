//! Reading the handler's signature: which arguments are the context, the model and
//! parameters, and how the return type becomes a response.

use syn::{GenericArgument, PathArguments, ReturnType, Type};

/// The last path segment's name of a type (`Ctx` for `nets_runtime::Ctx`).
pub(crate) fn last_segment(ty: &Type) -> Option<&syn::PathSegment> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last(),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    last_segment(ty).is_some_and(|s| s.ident == name)
}

/// The generic arguments of the last segment.
fn generic_types(ty: &Type) -> Vec<&Type> {
    match last_segment(ty).map(|s| &s.arguments) {
        Some(PathArguments::AngleBracketed(args)) => args
            .args
            .iter()
            .filter_map(|a| match a {
                GenericArgument::Type(t) => Some(t),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// `Option<T>` → `T`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    if !is_named(ty, "Option") {
        return None;
    }
    match generic_types(ty).as_slice() {
        [inner] => Some(inner),
        _ => None,
    }
}

/// Whether a type mentions `impl Trait` anywhere: such types cannot be named in
/// generated code, so their checks rely on inference instead.
pub(crate) fn contains_impl_trait(ty: &Type) -> bool {
    fn scan(tokens: proc_macro2::TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "impl",
            proc_macro2::TokenTree::Group(g) => scan(g.stream()),
            _ => false,
        })
    }
    scan(quote::ToTokens::to_token_stream(ty))
}

/// How the handler's return value becomes a response.
pub(crate) enum ReturnKind {
    /// `ApiResult<T>` / `Result<T, E>` with serialisable `T`: the success envelope.
    /// `result` is the whole return type (where errors about an unnamed `E` point).
    Envelope { result: Box<Type>, data: Box<Type>, error: Option<Box<Type>> },
    /// `Result<R, E>` whose `R` is written as a response (`Html<..>`, `impl IntoResponse`,
    /// ...): `IntoResponse`.
    Response(Box<Type>),
    /// Any other type: chosen by trait in the generated code, the envelope for
    /// `Result<T: Serialize, E: Into<ApiError>>` (a type alias of one), else
    /// `IntoResponse`.
    ByTrait(Box<Type>),
}

/// Types that are responses themselves, not data: `Result<Html<..>, E>` etc. go through `IntoResponse`.
const RESPONSE_TYPES: &[&str] =
    &["Response", "Html", "Redirect", "Success", "StatusCode", "Json", "Bytes", "Body", "Sse"];

/// Envelope or `IntoResponse`. A return type written `ApiResult<T>` or `Result<T, E>` is
/// decided here, by name (and [`RESPONSE_TYPES`] or `impl Trait` for `T`), so errors
/// point at `T` or `E` with their own message and `Result<Bytes, E>` stays a response
/// whatever serde features are on. Anything else (a response, a type alias of a
/// `Result`) is decided by trait in the generated code ([`ReturnKind::ByTrait`]); the
/// whole decision is not made there because a failed autoref dispatch cannot say which
/// of `T` and `E` is wrong, and the envelope would then follow impls rather than the
/// signature.
pub(crate) fn return_kind(output: &ReturnType) -> ReturnKind {
    let ty: Type = match output {
        ReturnType::Default => syn::parse_quote!(()),
        ReturnType::Type(_, ty) => (**ty).clone(),
    };
    let is_result = last_segment(&ty).is_some_and(|s| s.ident == "ApiResult" || s.ident == "Result");
    if !is_result {
        return ReturnKind::ByTrait(Box::new(ty));
    }
    let args = generic_types(&ty);
    let Some(&data) = args.first() else { return ReturnKind::ByTrait(Box::new(ty)) };
    let is_response = match data {
        // `Result<impl IntoResponse, E>` is a response; `ApiResult<impl Serialize>` is data.
        Type::ImplTrait(t) => !t.bounds.iter().any(|b| match b {
            syn::TypeParamBound::Trait(t) => t.path.segments.last().is_some_and(|s| s.ident == "Serialize"),
            _ => false,
        }),
        _ => last_segment(data).is_some_and(|s| RESPONSE_TYPES.iter().any(|r| s.ident == r)),
    };
    if is_response {
        return ReturnKind::Response(Box::new(ty));
    }
    let error = match last_segment(&ty) {
        Some(s) if s.ident == "ApiResult" => None,
        _ => args.get(1).map(|e| (*e).clone()),
    };
    ReturnKind::Envelope { result: Box::new(ty.clone()), data: Box::new(data.clone()), error: error.map(Box::new) }
}
