//! Expansion snapshots of `#[request_handler]` for its main shapes. Each snapshot is the
//! pretty-printed output of the macro on one handler; a change in generated code shows
//! up as a diff to review (`cargo insta review`, or compare the `.snap.new` file).

use proc_macro2::TokenStream;
use quote::quote;

/// The macro's output on `attr` and `item`, pretty-printed.
fn expand(attr: TokenStream, item: TokenStream) -> String {
    let tokens = super::super::entry(attr, item);
    let file: syn::File = syn::parse2(tokens).expect("the expansion parses as items");
    prettyplease::unparse(&file)
}

#[test]
fn public_get_with_parameters() {
    insta::assert_snapshot!(expand(
        quote!(path = "invoices/{id}/", method = GET, public, tags = ["billing"]),
        quote! {
            /// Shows an invoice.
            async fn show_invoice(
                id: i64,
                #[param(default = 25, validate(range(min = 1, max = 100)))] page_size: u32,
                #[param(validate(length(min = 1), regex = "^[a-z]+$"))] q: String,
                since: Option<chrono::NaiveDate>,
                ctx: Ctx,
            ) -> ApiResult<serde_json::Value> {
                Ok(serde_json::json!({ "id": id }))
            }
        },
    ));
}

#[test]
fn private_post_with_a_model_and_a_permission() {
    insta::assert_snapshot!(expand(
        quote!(
            path = "invoices/{id}/rename/",
            method = POST,
            model = Invoice,
            can_do = "billing.rename",
            perm_required
        ),
        quote! {
            async fn rename_invoice(invoice: Invoice, title: String, ctx: Ctx) -> Result<Invoice, BillingError> {
                Ok(invoice)
            }
        },
    ));
}

#[test]
fn a_body_parameter() {
    insta::assert_snapshot!(expand(
        quote!(path = "invoices/", methods = [POST, PUT], public),
        quote! {
            async fn create_invoice(#[param(body)] invoice: NewInvoice) -> ApiResult<i64> {
                Ok(1)
            }
        },
    ));
}

#[test]
fn a_rest_parameter_described_by_the_app() {
    insta::assert_snapshot!(expand(
        quote!(path = "profile/", method = POST, body_limit = profile_limit),
        quote! {
            async fn update_profile(
                ctx: Ctx,
                #[param(rest, describe = profile_fields)] fields: serde_json::Map<String, serde_json::Value>,
            ) -> ApiResult<()> {
                Ok(())
            }
        },
    ));
}

#[test]
fn settings_named_secret_and_empty_parameters() {
    insta::assert_snapshot!(expand(
        quote!(path = "login/", method = POST, public),
        quote! {
            async fn login(
                #[param(name_from = identifier_field)] identifier: String,
                #[param(secret, rename = "password")] pass: String,
                #[param(allow_empty)] note: String,
                state: State<Accounts>,
            ) -> ApiResult<String> {
                Ok(identifier)
            }
        },
    ));
}

#[test]
fn a_handler_returning_impl_into_response() {
    insta::assert_snapshot!(expand(
        quote!(path = "page/", method = GET, public),
        quote! {
            async fn page(headers: HeaderMap) -> impl IntoResponse {
                Html("<p>hi</p>")
            }
        },
    ));
}

#[test]
fn a_handler_returning_an_alias_of_result() {
    insta::assert_snapshot!(expand(
        quote!(path = "invoices/", method = GET, public),
        quote! {
            async fn list_invoices() -> BillingResult<Vec<Invoice>> {
                Ok(Vec::new())
            }
        },
    ));
}

#[test]
fn mistakes_become_compile_errors_beside_the_unchanged_function() {
    insta::assert_snapshot!(expand(
        quote!(path = "notes/{id}/", method = FETCH, can_do = "notes.read"),
        quote! {
            fn show_note(#[param(rest, default = 1)] fields: Option<Rest>) -> ApiResult<()> {
                Ok(())
            }
        },
    ));
}
