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

    let owner_id = model.owner.map(|i| {
        let field = &model.fields[i];
        let (name, ty) = (&field.ident, &field.ty);
        let at = private_at(ty.span());
        quote! {
            fn owner_id(&self) -> ::core::option::Option<i64> {
                <#ty as #at::OwnerField>::owner_id(&self.#name)
            }
        }
    });

    let index_ty = &index.ty;
    let index_at = private_at(index_ty.span());
    let index_arm = {
        let (sqlite, pg) = (select_sql(model, index_name, "?"), select_sql(model, index_name, "$1"));
        // Named through a projection carrying the type's span: an unusable type is
        // reported once, on it, and the call using it stays silent.
        let column_ty = quote_spanned!(index_ty.span()=> <#index_ty as #index_at::IndexColumn>::Type);
        quote! {
            #index_name => #nets::find_one::<#ident, #column_ty>(ctx, #sqlite, #pg, value).await,
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
    let json_fields = names(model.json_fields.iter().map(|&i| &model.fields[i]));
    let protected = names(model.protected.iter().map(|&i| &model.fields[i]));

    quote! {
        const _: () = {
            #[automatically_derived]
            impl #nets::NetsModel for #ident {
                const TABLE: &'static str = #table;
                const INDEX_FIELD: &'static str = #index_name;

                #owner_id

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

            #[automatically_derived]
            impl #nets::ToJson for #ident {
                const FIELDS: &'static [&'static str] = &[#(#all),*];
                const JSON_FIELDS: &'static [&'static str] = &[#(#json_fields),*];
                const PROTECTED_FIELDS: &'static [&'static str] = &[#(#protected),*];
            }
        };
    }
}
