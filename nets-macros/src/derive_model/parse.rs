//! Parsing: `#[nets(..)]` attributes → [`ModelArgs`]. Meaning is checked in validate.

use darling::FromMeta;
use darling::util::PathList;
use proc_macro2::Span;
use syn::LitStr;
use syn::spanned::Spanned;

use crate::errors::Errors;

#[derive(Debug, Default, FromMeta)]
pub(crate) struct ModelArgs {
    pub table: Option<LitStr>,
    pub json_fields: Option<PathList>,
    pub protected: Option<PathList>,
    pub owner: Option<LitStr>,
    pub project: Option<LitStr>,
    pub index: Option<LitStr>,
}

/// `#[nets(references = User)]` on a field.
#[derive(Debug, Default, FromMeta)]
pub(crate) struct FieldArgs {
    pub references: Option<syn::Path>,
}

/// The merged `#[nets(..)]` arguments of one field (`None` when it has none).
pub(crate) fn field_args(field: &syn::Field, errors: &mut Errors) -> Option<FieldArgs> {
    let mut out: Option<FieldArgs> = None;
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("nets")) {
        let args = match &attr.meta {
            syn::Meta::List(_) => FieldArgs::from_meta(&attr.meta),
            _ => Err(darling::Error::custom("expected `#[nets(references = Model)]`").with_span(attr)),
        };
        match (args, &mut out) {
            (Ok(args), None) => out = Some(args),
            (Ok(args), Some(_)) => {
                if let Some(ty) = args.references {
                    errors.at(ty.span(), "repeated key `references`: give it once");
                }
            }
            (Err(e), _) => errors.darling(e),
        }
    }
    out
}

/// The parsed arguments of every `#[nets(..)]` attribute, merged, with the span of the
/// first attribute; `None` when there is none. Parse errors are recorded and the keys
/// that did parse are kept, so validation still reports its own findings.
pub(crate) struct Parsed {
    pub args: ModelArgs,
    pub attr_span: Option<Span>,
    /// Some attribute failed to parse (its keys are unknown).
    pub had_errors: bool,
}

pub(crate) fn model_args(input: &syn::DeriveInput, errors: &mut Errors) -> Parsed {
    let mut parsed = Parsed { args: ModelArgs::default(), attr_span: None, had_errors: false };
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("nets")) {
        parsed.attr_span.get_or_insert(attr.path().span());
        let args = match &attr.meta {
            syn::Meta::List(_) => ModelArgs::from_meta(&attr.meta),
            _ => Err(darling::Error::custom("expected `#[nets(table = \"..\", ..)]`").with_span(attr)),
        };
        match args {
            Ok(args) => merge(&mut parsed.args, args, errors),
            Err(e) => {
                parsed.had_errors = true;
                errors.darling(e);
            }
        }
    }
    parsed
}

fn merge(into: &mut ModelArgs, from: ModelArgs, errors: &mut Errors) {
    fn one<T: Spanned>(slot: &mut Option<T>, value: Option<T>, key: &str, errors: &mut Errors) {
        if let Some(value) = value {
            if slot.is_some() {
                errors.at(value.span(), format!("repeated key `{key}`: give it once"));
            } else {
                *slot = Some(value);
            }
        }
    }
    one(&mut into.table, from.table, "table", errors);
    one(&mut into.owner, from.owner, "owner", errors);
    one(&mut into.project, from.project, "project", errors);
    one(&mut into.index, from.index, "index", errors);
    for (slot, value, key) in
        [(&mut into.json_fields, from.json_fields, "json_fields"), (&mut into.protected, from.protected, "protected")]
    {
        if let Some(value) = value {
            match slot {
                Some(_) => errors.at(
                    value.first().map_or_else(Span::call_site, |p| p.span()),
                    format!("repeated key `{key}`: give it once"),
                ),
                None => *slot = Some(value),
            }
        }
    }
}
