//! Parsing: attribute tokens → plain structs. No judgement here beyond syntax; the
//! validate step checks meaning.

use darling::FromMeta;
use darling::ast::NestedMeta;
use darling::util::Flag;
use proc_macro2::{Span, TokenStream};
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, LitStr};

use crate::errors::Errors;

/// One word of a list, with where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Word {
    pub text: String,
    pub span: Span,
}

/// `GET`, `"get"`, `[GET, POST]`, `["a", "b"]`.
#[derive(Debug, Clone, Default)]
pub(crate) struct WordList {
    pub words: Vec<Word>,
    pub span: Option<Span>,
}

fn word(expr: &Expr) -> darling::Result<Word> {
    match expr {
        Expr::Path(p) if p.path.get_ident().is_some() => {
            let ident = p.path.get_ident().map(ToString::to_string).unwrap_or_default();
            Ok(Word { text: ident, span: p.span() })
        }
        Expr::Lit(ExprLit { lit: Lit::Str(s), .. }) => Ok(Word { text: s.value(), span: s.span() }),
        other => Err(darling::Error::custom("expected a name (`GET`) or a string (`\"get\"`)").with_span(other)),
    }
}

impl FromMeta for WordList {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let words = match expr {
            Expr::Array(array) => {
                let mut errors = darling::Error::accumulator();
                let words = array.elems.iter().filter_map(|e| errors.handle(word(e))).collect();
                errors.finish()?;
                words
            }
            single => vec![word(single)?],
        };
        Ok(WordList { words, span: Some(expr.span()) })
    }
}

/// Any expression, kept as written (`default = ..`).
#[derive(Debug, Clone)]
pub(crate) struct AnyExpr(pub Expr);

impl FromMeta for AnyExpr {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        Ok(AnyExpr(expr.clone()))
    }
}

/// A value with the span of the key it was written under (`length` in
/// `length(min = 1)`), so errors about the option point at its name even when its
/// value is empty (`length()`).
#[derive(Debug, Clone)]
pub(crate) struct Keyed<T> {
    pub value: T,
    pub key: Span,
}

impl<T: FromMeta> FromMeta for Keyed<T> {
    fn from_meta(item: &syn::Meta) -> darling::Result<Self> {
        Ok(Keyed { value: T::from_meta(item)?, key: item.path().span() })
    }
}

/// A numeric bound such as `5`, `-3` or `2.5`: the tokens for the check, the value for the docs.
#[derive(Debug, Clone)]
pub(crate) struct Bound {
    pub expr: Expr,
    pub value: f64,
    pub is_float: bool,
}

impl FromMeta for Bound {
    fn from_expr(expr: &Expr) -> darling::Result<Self> {
        let (negative, lit) = match expr {
            Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => (true, &*u.expr),
            other => (false, other),
        };
        let (magnitude, is_float) = match lit {
            Expr::Lit(ExprLit { lit: Lit::Int(i), .. }) => (i.base10_parse::<f64>().ok(), false),
            Expr::Lit(ExprLit { lit: Lit::Float(f), .. }) => (f.base10_parse::<f64>().ok(), true),
            _ => (None, false),
        };
        match magnitude {
            Some(m) => Ok(Bound { expr: expr.clone(), value: if negative { -m } else { m }, is_float }),
            None => Err(darling::Error::custom("expected a number literal").with_span(expr)),
        }
    }
}

#[derive(Debug, Default, FromMeta)]
pub(crate) struct HandlerArgs {
    pub path: Option<LitStr>,
    pub url: Option<LitStr>,
    pub name: Option<LitStr>,
    pub methods: Option<WordList>,
    pub method: Option<WordList>,
    pub public: Flag,
    pub can_do: Option<WordList>,
    pub perm_required: Flag,
    pub perm_optional: Flag,
    pub model: Option<syn::Path>,
    pub index_field: Option<LitStr>,
    pub public_objects: Flag,
    pub project: Option<LitStr>,
    pub project_required: Flag,
    pub tags: Option<WordList>,
    pub summary: Option<LitStr>,
    pub deprecated: Flag,
    /// `fn(&App) -> usize`: the largest body this endpoint reads.
    pub body_limit: Option<syn::Path>,
    /// `fn(ApiError) -> Response`: how the pipeline's refusals are written.
    pub errors: Option<syn::Path>,
    /// `fn(&mut Operation, &mut Components)`: adjusts the generated OpenAPI operation.
    pub openapi: Option<syn::Path>,
}

#[derive(Debug, Default, FromMeta)]
pub(crate) struct LengthArgs {
    pub min: Option<u64>,
    pub max: Option<u64>,
    pub equal: Option<u64>,
}

#[derive(Debug, Default, FromMeta)]
pub(crate) struct RangeArgs {
    pub min: Option<Bound>,
    pub max: Option<Bound>,
    pub exclusive_min: Option<Bound>,
    pub exclusive_max: Option<Bound>,
}

#[derive(Debug, FromMeta)]
pub(crate) struct CustomArgs {
    pub function: syn::Path,
    pub use_ctx: Flag,
}

#[derive(Debug, Default, FromMeta)]
pub(crate) struct ValidateArgs {
    pub email: Flag,
    pub url: Flag,
    pub length: Option<Keyed<LengthArgs>>,
    pub range: Option<Keyed<RangeArgs>>,
    pub regex: Option<LitStr>,
    #[darling(multiple)]
    pub custom: Vec<CustomArgs>,
}

#[derive(Debug, Default, FromMeta)]
pub(crate) struct ParamArgs {
    pub default: Option<Keyed<AnyExpr>>,
    pub rename: Option<LitStr>,
    pub validate: Option<Keyed<ValidateArgs>>,
    pub filetypes: Option<WordList>,
    pub body: Flag,
    pub description: Option<LitStr>,
    /// `fn(&Settings) -> Option<&'static str>`: the name depends on the settings.
    pub name_from: Option<syn::Path>,
    /// Refused in the query string.
    pub secret: Flag,
    /// `""` and `[]` are values, not missing.
    pub allow_empty: Flag,
    /// Every undeclared key.
    pub rest: Flag,
    /// `fn(&App) -> Option<serde_json::Value>`: the parameter's JSON Schema in this app
    /// (for a rest parameter: the keys it takes).
    pub describe: Option<syn::Path>,
}

/// The attribute's arguments, or `None` after recording why not.
pub(crate) fn handler_args(attr: TokenStream, errors: &mut Errors) -> Option<HandlerArgs> {
    let items = match NestedMeta::parse_meta_list(attr) {
        Ok(items) => items,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    match HandlerArgs::from_list(&items) {
        Ok(args) => Some(args),
        Err(e) => {
            errors.darling(e);
            None
        }
    }
}

/// `#[param(..)]` of each argument (removed from the function), in argument order.
pub(crate) fn param_attrs(function: &mut syn::ItemFn, errors: &mut Errors) -> Vec<Option<(ParamArgs, Span)>> {
    let mut out = Vec::new();
    for input in function.sig.inputs.iter_mut() {
        let syn::FnArg::Typed(arg) = input else {
            out.push(None);
            continue;
        };
        let mut found: Option<(ParamArgs, Span)> = None;
        let mut kept = Vec::new();
        for attr in arg.attrs.drain(..) {
            if !attr.path().is_ident("param") {
                kept.push(attr);
                continue;
            }
            if found.is_some() {
                errors.at(attr.span(), "repeated #[param(..)]: put every option in one attribute");
                continue;
            }
            let parsed = match &attr.meta {
                syn::Meta::List(_) => ParamArgs::from_meta(&attr.meta),
                _ => Err(darling::Error::custom(
                    "`#[param]` needs options, e.g. `#[param(default = 1)]`; remove it if there are none",
                )
                .with_span(&attr)),
            };
            match parsed {
                Ok(args) => found = Some((args, attr.span())),
                Err(e) => errors.darling(e),
            }
        }
        arg.attrs = kept;
        out.push(found);
    }
    out
}
