//! Validation: parsed `#[nets(..)]` + the struct → a checked [`Model`], recording every
//! problem (spanned) instead of stopping at the first.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Ident, LitStr, Type};

use super::parse::Parsed;
use crate::errors::Errors;

pub(crate) struct Model {
    pub ident: Ident,
    pub table: String,
    pub fields: Vec<Field>,
    /// Indexes into `fields`.
    pub json_fields: Vec<usize>,
    pub protected: Vec<usize>,
    pub owner: Option<usize>,
    /// The field holding the object's project (`#[nets(project = "..")]`).
    pub project: Option<usize>,
    pub index: usize,
    pub relations: Vec<Relation>,
}

/// `#[nets(references = T)] <key>_id`: the relation `<key>`.
pub(crate) struct Relation {
    pub key: String,
    /// Index into `fields` of the foreign-key column.
    pub field: usize,
    pub target: Type,
}

pub(crate) struct Field {
    /// Column and JSON name (`r#type` → `type`).
    pub name: String,
    pub ident: Ident,
    pub ty: Type,
    pub references: Option<Type>,
}

const IDENTIFIER_LIMIT: usize = 63; // PostgreSQL truncates longer names

fn identifier_ok(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= IDENTIFIER_LIMIT
}

fn table_name(lit: &LitStr, errors: &mut Errors) -> String {
    let name = lit.value();
    if name.trim().is_empty() {
        errors.at(lit.span(), "`table` cannot be empty\n  help: give the table's name, e.g. `table = \"invoices\"`");
    } else if !name.split('.').all(identifier_ok) || name.split('.').count() > 2 {
        errors.at(
            lit.span(),
            format!(
                "invalid table name `{name}`\n  help: use letters, digits and `_` (not starting with a digit, at most \
                 {IDENTIFIER_LIMIT} characters), optionally as `schema.table`"
            ),
        );
    }
    name
}

fn fields(input: &syn::DeriveInput, errors: &mut Errors) -> Option<Vec<Field>> {
    let named = match &input.data {
        syn::Data::Struct(syn::DataStruct { fields: syn::Fields::Named(named), .. }) => named,
        syn::Data::Struct(s) => {
            errors.at(s.struct_token.span(), "#[derive(NetsModel)] needs a struct with named fields (one per column)");
            return None;
        }
        syn::Data::Enum(e) => {
            errors.at(e.enum_token.span(), "#[derive(NetsModel)] applies to structs, not enums");
            return None;
        }
        syn::Data::Union(u) => {
            errors.at(u.union_token.span(), "#[derive(NetsModel)] applies to structs, not unions");
            return None;
        }
    };
    let out = named
        .named
        .iter()
        .filter_map(|f| {
            let ident = f.ident.clone()?;
            let name = ident.to_string().trim_start_matches("r#").to_owned();
            let references = super::parse::field_args(f, errors)
                .and_then(|a| a.references)
                .map(|path| Type::Path(syn::TypePath { qself: None, path }));
            Some(Field { name, ident, ty: f.ty.clone(), references })
        })
        .collect();
    Some(out)
}

fn field_list(fields: &[Field]) -> String {
    fields.iter().map(|f| format!("`{}`", f.name)).collect::<Vec<_>>().join(", ")
}

/// The field called `name`, or an error at `span`.
fn find(fields: &[Field], name: &str, span: Span, key: &str, errors: &mut Errors) -> Option<usize> {
    let found = fields.iter().position(|f| f.name == name);
    if found.is_none() {
        errors.at(
            span,
            format!("`{key}` names `{name}`, which is not a field\n  help: the fields are {}", field_list(fields)),
        );
    }
    found
}

/// Field (or, for `json_fields`, relation) names listed under `key`, as indexes into
/// `fields`; a relation `r` is recorded as `fields.len() + r`.
fn names(
    list: Option<&darling::util::PathList>,
    key: &str,
    fields: &[Field],
    relations: &[Relation],
    errors: &mut Errors,
) -> Vec<usize> {
    let mut out = Vec::new();
    for path in list.map(|l| l.iter()).into_iter().flatten() {
        let Some(ident) = path.get_ident() else {
            errors.at(path.span(), format!("`{key}` lists field names, e.g. `{key}(id, title)`"));
            continue;
        };
        let name = ident.to_string().trim_start_matches("r#").to_owned();
        let relation = relations.iter().position(|r| r.key == name).map(|r| fields.len() + r);
        let fk = format!("{name}_id");
        let found = match relation {
            Some(r) => Some(r),
            // `<name>_id` without `references`: say how to make `<name>` a relation.
            None if fields.iter().any(|f| f.name == fk) && !fields.iter().any(|f| f.name == name) => {
                errors.at(
                    ident.span(),
                    format!(
                        "`{key}` names `{name}`, which is not a field\n  help: to serialise the row `{fk}` refers \
                         to, mark it `#[nets(references = Model)]`; `{name}` is then a relation"
                    ),
                );
                None
            }
            None => find(fields, &name, ident.span(), key, errors),
        };
        if let Some(i) = found {
            if out.contains(&i) {
                errors.at(ident.span(), format!("`{name}` is listed twice in `{key}`"));
            } else {
                out.push(i);
            }
        }
    }
    out
}

/// Fields with `references = T`: each must be called `<key>_id`, and `<key>` must not
/// be another field's name.
fn relations(fields: &[Field], errors: &mut Errors) -> Vec<Relation> {
    let mut out = Vec::new();
    for (i, field) in fields.iter().enumerate() {
        let Some(target) = &field.references else { continue };
        let Some(key) = field.name.strip_suffix("_id").filter(|k| !k.is_empty()) else {
            errors.at(
                field.ident.span(),
                format!(
                    "`references` needs a field named `<relation>_id`, not `{}`\n  help: the relation is then \
                     selected as `<relation>` (`user_id` → `user`)",
                    field.name
                ),
            );
            continue;
        };
        if fields.iter().any(|f| f.name == key) {
            errors.at(
                field.ident.span(),
                format!("the relation `{key}` of `{}` has the name of another field: rename one of them", field.name),
            );
            continue;
        }
        out.push(Relation { key: key.to_owned(), field: i, target: target.clone() });
    }
    out
}

pub(crate) fn model(parsed: Parsed, input: &syn::DeriveInput, errors: &mut Errors) -> Option<Model> {
    let fields = fields(input, errors);
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.at(
            input.generics.span(),
            "#[derive(NetsModel)] does not support generic structs\n  help: derive it on a concrete struct, one per table",
        );
    }
    let args = parsed.args;
    let table = match &args.table {
        Some(lit) => Some(table_name(lit, errors)),
        None => {
            // After a parse error the key may have been there; that error says enough.
            if !parsed.had_errors {
                let span = parsed.attr_span.unwrap_or_else(|| input.ident.span());
                errors.at(span, "missing `table`\n  help: add `#[nets(table = \"..\")]` with the model's table name");
            }
            None
        }
    };
    let fields = fields?;
    let relations = relations(&fields, errors);
    let json_fields = names(args.json_fields.as_ref(), "json_fields", &fields, &relations, errors);
    let protected = names(args.protected.as_ref(), "protected", &fields, &relations, errors);
    let name_of = |i: usize| fields.get(i).map_or_else(|| relations[i - fields.len()].key.as_str(), |f| &f.name);
    for &i in &json_fields {
        if protected.contains(&i) {
            let name = name_of(i);
            let span = args.json_fields.iter().flat_map(|l| l.iter()).find(|p| p.is_ident(name));
            errors.at(
                span.map_or_else(|| input.ident.span(), |p| p.span()),
                format!("`{name}` is both in `json_fields` and `protected`: protected fields are never serialised"),
            );
        }
    }
    let owner = args.owner.as_ref().and_then(|lit| find(&fields, &lit.value(), lit.span(), "owner", errors));
    let project = args.project.as_ref().and_then(|lit| find(&fields, &lit.value(), lit.span(), "project", errors));
    let index = match &args.index {
        Some(lit) => find(&fields, &lit.value(), lit.span(), "index", errors),
        None => {
            let id = fields.iter().position(|f| f.name == "id");
            if id.is_none() {
                errors.at(
                    input.ident.span(),
                    format!(
                        "`{}` has no `id` field to look objects up by\n  help: name the index column with \
                         `#[nets(index = \"..\")]`",
                        input.ident
                    ),
                );
            }
            id
        }
    };
    Some(Model {
        ident: input.ident.clone(),
        table: table?,
        fields,
        json_fields,
        protected,
        owner,
        project,
        index: index?,
        relations,
    })
}
