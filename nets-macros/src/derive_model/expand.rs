//! Expansion: a checked [`Model`] → `impl NetsModel` and `impl ToJson`.
//!
//! Lookups are one static statement per backend, written here from the struct's own
//! field names (quoted identifiers); request text is only ever a bound value.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;

use super::validate::{Field, Model};
use crate::exports::{private, private_at};

fn quoted(identifier: &str) -> String {
    identifier.split('.').map(|part| format!("\"{part}\"")).collect::<Vec<_>>().join(".")
}

/// `SELECT <every column> FROM <table> WHERE <column> = <placeholder> LIMIT 1`
fn select_sql(model: &Model, column: &str, placeholder: &str) -> String {
    let columns = model.fields.iter().map(|f| quoted(&f.name)).collect::<Vec<_>>().join(", ");
    format!("SELECT {columns} FROM {} WHERE {} = {placeholder} LIMIT 1", quoted(&model.table), quoted(column))
}

fn names<'a>(fields: impl IntoIterator<Item = &'a Field>) -> Vec<&'a str> {
    fields.into_iter().map(|f| f.name.as_str()).collect()
}

pub(crate) fn model(model: &Model) -> TokenStream {
    let nets = private();
    let ident = &model.ident;
    let table = &model.table;
    let index = &model.fields[model.index];
    let index_name = &index.name;

    // `owner = ".."` and `project = ".."` name id columns (`i64` or `Option<i64>`).
    let id_getter = |index: Option<usize>, getter: TokenStream| {
        index.map(|i| {
            let field = &model.fields[i];
            let (name, ty) = (&field.ident, &field.ty);
            let at = private_at(ty.span());
            quote! {
                fn #getter(&self) -> ::core::option::Option<i64> {
                    <#ty as #at::IsIdField>::id_of(&self.#name)
                }
            }
        })
    };
    let owner_id = id_getter(model.owner, quote!(owner_id));
    let project_id = id_getter(model.project, quote!(project_id));

    let index_ty = &index.ty;
    let index_at = private_at(index_ty.span());
    let index_arm = {
        let (sqlite, pg) = (select_sql(model, index_name, "?"), select_sql(model, index_name, "$1"));
        // Through `IsIndex` at the type: an unusable type is reported once, on it.
        let index = quote_spanned!(index_ty.span()=> <#index_ty as #index_at::IsIndex>);
        quote! {
            #index_name => #index::find::<#ident>(ctx, #sqlite, #pg, value).await,
        }
    };
    // Other columns: usable when their type parses and binds, else a 500 naming the column.
    let other_arms = model.fields.iter().enumerate().filter(|(i, _)| *i != model.index).map(|(_, f)| {
        let (name, ty) = (&f.name, &f.ty);
        let (sqlite, pg) = (select_sql(model, name, "?"), select_sql(model, name, "$1"));
        quote! {
            #name => {
                #[allow(unused_imports)]
                use #nets::{NotIndexValue as _, ViaIndexValue as _};
                (&&#nets::IndexProbe::<#ty>::new()).lookup::<#ident>(ctx, #sqlite, #pg, value, #name).await
            }
        }
    });

    let all = names(&model.fields);
    let listed = |list: &[usize]| -> Vec<&str> {
        let n = model.fields.len();
        list.iter()
            .map(|&i| model.fields.get(i).map_or_else(|| model.relations[i - n].key.as_str(), |f| &f.name))
            .collect()
    };
    let json_fields = listed(&model.json_fields);
    let protected = listed(&model.protected);
    let relations = relations(model);
    let columns = columns(model);

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #nets::NetsModel for #ident {
                const TABLE: &'static str = #table;
                const INDEX_FIELD: &'static str = #index_name;

                #owner_id
                #project_id

                fn missing(app: &#nets::App) -> ::core::option::Option<::std::string::String> {
                    #nets::db_missing(app)
                }

                async fn find_by_index(
                    ctx: &#nets::Ctx,
                    field: &str,
                    value: &str,
                ) -> ::core::result::Result<::core::option::Option<Self>, #nets::ApiError> {
                    match field {
                        #index_arm
                        #(#other_arms)*
                        _ => ::core::result::Result::Err(#nets::unknown_index::<Self>(field)),
                    }
                }
            }

            ::nets_runtime::model_argument!(#ident);

            #[automatically_derived]
            impl #nets::RelatedModel for #ident {
                type Model = Self;
            }

            #[automatically_derived]
            impl #nets::ToJson for #ident {
                const FIELDS: &'static [&'static str] = &[#(#all),*];
                const JSON_FIELDS: &'static [&'static str] = &[#(#json_fields),*];
                const PROTECTED_FIELDS: &'static [&'static str] = &[#(#protected),*];
                #relations
            }

            #columns
        };
    }
}

/// `RELATIONS` and `expand_relation` of `impl ToJson`.
fn relations(model: &Model) -> TokenStream {
    if model.relations.is_empty() {
        return TokenStream::new();
    }
    let nets = private();
    let consts = model.relations.iter().map(|r| {
        let (key, column) = (&r.key, &model.fields[r.field].name);
        quote! { #nets::Relation { key: #key, column: #column } }
    });
    let arms = model.relations.iter().map(|r| {
        let field = &model.fields[r.field];
        let (key, ident, ty, target) = (&r.key, &field.ident, &field.ty, &r.target);
        // Both types reached through traits at their spans: a type that cannot be a key
        // or a target is reported once, on it.
        let target_at = private_at(target.span());
        let target = quote_spanned!(target.span()=> <#target as #target_at::IsRelated>);
        let key_ty = private_at(ty.span());
        let column = quote_spanned!(ty.span()=> <#ty as #key_ty::IsForeignKey>::key_of(&self.#ident));
        quote! {
            #key => #target::expand_related(ctx, #column, depth),
        }
    });
    quote! {
        const RELATIONS: &'static [#nets::Relation] = &[#(#consts),*];

        fn expand_relation<'a>(
            &'a self,
            ctx: &'a #nets::Ctx,
            key: &'a str,
            depth: u8,
        ) -> ::core::pin::Pin<::std::boxed::Box<dyn ::core::future::Future<
            Output = ::core::result::Result<#nets::serde_json::Value, #nets::ApiError>
        > + ::core::marker::Send + 'a>> {
            match key {
                #(#arms)*
                _ => #nets::unknown_relation::<Self>(key),
            }
        }
    }
}

/// `impl ModelColumns`: binding each column's value for `Update`.
fn columns(model: &Model) -> TokenStream {
    let nets = private();
    let ident = &model.ident;
    let has = |name: &str| model.fields.iter().any(|f| f.name == name);
    let (has_updated, has_history) = (has("updated"), has("updated_fields"));
    let arms = model.fields.iter().map(|f| {
        let (name, field, ty) = (&f.name, &f.ident, &f.ty);
        quote! {
            #name => {
                #[allow(unused_imports)]
                use #nets::{NotBindValue as _, ViaBindValue as _};
                (&&#nets::BindProbe::<#ty>::new()).bind_value(binder, &self.#field, #name)
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #nets::ModelColumns for #ident {
            const HAS_UPDATED: bool = #has_updated;
            const HAS_HISTORY: bool = #has_history;

            fn bind_column(
                &self,
                column: &str,
                binder: &mut #nets::Binder<'_>,
            ) -> ::core::result::Result<(), #nets::ApiError> {
                match column {
                    #(#arms)*
                    _ => ::core::result::Result::Err(#nets::unknown_index::<Self>(column)),
                }
            }
        }
    }
}
