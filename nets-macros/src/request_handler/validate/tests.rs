//! The validate step's judgements, one per test: what it accepts and what it reports.

use proc_macro2::TokenStream;
use quote::quote;

use super::{Handler, ParamKind, ParamLocation};
use crate::errors::Errors;
use crate::request_handler::parse;

/// Parses and validates like the macro does; returns the handler and every message.
fn judge(attr: TokenStream, item: TokenStream) -> (Option<Handler>, Vec<String>) {
    let mut function: syn::ItemFn = syn::parse2(item).expect("a function");
    let mut errors = Errors::default();
    let args = parse::handler_args(attr, &mut errors);
    let params = parse::param_attrs(&mut function, &mut errors);
    let handler = super::handler(args.unwrap_or_default(), params, &function, &mut errors);
    (handler, errors.messages())
}

/// The messages for a handler `async fn f(<args>) -> ApiResult<()>` under `attr`.
fn messages(attr: TokenStream, args: TokenStream) -> Vec<String> {
    judge(attr, quote!(async fn f(#args) -> ApiResult<()> { Ok(()) })).1
}

/// Asserts exactly one message, starting with `start`.
fn assert_one(messages: Vec<String>, start: &str) {
    assert!(
        matches!(messages.as_slice(), [m] if m.starts_with(start)),
        "expected one message starting with {start:?}, got {messages:#?}"
    );
}

#[test]
fn a_plain_handler_is_accepted_with_its_defaults() {
    let (handler, messages) = judge(
        quote!(public),
        quote! {
            /// Lists
            ///   invoices.
            async fn list_invoices(ctx: Ctx, page: Option<u32>) -> ApiResult<()> { Ok(()) }
        },
    );
    assert_eq!(messages, Vec::<String>::new());
    let h = handler.expect("a handler");
    assert_eq!((h.name.as_str(), h.path.as_str()), ("list_invoices", "list_invoices"));
    assert!(h.methods.is_empty() && h.public && h.can_do.is_empty());
    assert_eq!(h.description.as_deref(), Some("Lists\n  invoices."));
    assert!(matches!(h.params[0].kind, ParamKind::Plain));
    assert!(matches!(h.params[1].kind, ParamKind::Optional));
    assert_eq!(quote::ToTokens::to_token_stream(&h.params[1].ty).to_string(), "u32");
}

#[test]
fn methods_are_upper_cased_and_deduplicated() {
    let (handler, messages) = judge(
        quote!(methods = [get, "POST", GET], public),
        quote!(
            async fn f() {}
        ),
    );
    assert_eq!(messages, Vec::<String>::new());
    assert_eq!(handler.expect("a handler").methods, ["GET", "POST"]);
}

#[test]
fn unknown_methods_empty_lists_and_both_keys_are_refused() {
    assert_one(messages(quote!(method = FETCH, public), quote!()), "unknown HTTP method `FETCH`");
    assert_one(messages(quote!(methods = [], public), quote!()), "`methods` cannot be empty");
    assert_one(messages(quote!(methods = [GET], method = POST, public), quote!()), "give either `methods = [..]`");
}

#[test]
fn path_and_url_must_agree() {
    assert_one(messages(quote!(path = "a/", url = "b/", public), quote!()), "`path` and `url` are aliases but differ");
    assert_eq!(messages(quote!(path = "a/", url = "a/", public), quote!()), Vec::<String>::new());
}

#[test]
fn every_path_parameter_needs_an_argument_except_the_model_index() {
    assert_one(messages(quote!(path = "a/{id}/", public), quote!()), "path parameter {id} has no matching argument");
    let (handler, messages) = judge(
        quote!(path = "a/{id}/", model = Invoice),
        quote!(
            async fn f() {}
        ),
    );
    assert_eq!(messages, Vec::<String>::new());
    assert_eq!(handler.expect("a handler").unbound_path_params, ["id"]);
    assert_one(
        messages_of(judge(
            quote!(path = "a/{id}/", model = Invoice, index_field = "slug"),
            quote!(
                async fn f() {}
            ),
        )),
        "path parameter {id} has no matching argument",
    );
}

fn messages_of((_, messages): (Option<Handler>, Vec<String>)) -> Vec<String> {
    messages
}

#[test]
fn path_parameters_are_located_in_the_path_and_cannot_be_optional() {
    let (handler, _) = judge(
        quote!(path = "a/{id}/", public),
        quote!(
            async fn f(id: i64, q: String) {}
        ),
    );
    let h = handler.expect("a handler");
    assert!(h.params[0].location == ParamLocation::Path && h.params[1].location == ParamLocation::Input);
    assert_one(
        messages(quote!(path = "a/{id}/", public), quote!(id: Option<i64>)),
        "path parameter `id` is always present: it cannot be optional",
    );
    assert_one(
        messages(quote!(path = "a/{id}/", public), quote!(#[param(default = 1)] id: i64)),
        "path parameter `id` is always present: it cannot have a default",
    );
}

#[test]
fn permissions_must_say_what_a_failed_check_does() {
    assert_one(messages(quote!(can_do = "notes.read"), quote!()), "`can_do` alone would run the handler");
    assert_one(messages(quote!(perm_required), quote!()), "`perm_required` needs `can_do = ..`");
    assert_one(messages(quote!(perm_optional), quote!()), "`perm_optional` needs `can_do = ..`");
    assert_one(
        messages(quote!(can_do = "a", perm_required, perm_optional), quote!()),
        "give either `perm_required` or `perm_optional`",
    );
    assert_one(messages(quote!(can_do = "a.b.c", perm_required), quote!()), "invalid permission codename `a.b.c`");
    assert_one(messages(quote!(can_do = []), quote!()), "`can_do` cannot be empty");
    // `model = T` answers 404 for someone else's object: no mode needed.
    assert_eq!(
        messages(quote!(path = "a/{id}/", can_do = "role:editor", model = Note), quote!()),
        Vec::<String>::new()
    );
}

#[test]
fn public_objects_and_project_scopes_need_their_counterparts() {
    assert_one(
        messages(quote!(path = "a/{id}/", public, model = Note), quote!()),
        "a `public` endpoint with `model = ..`",
    );
    assert_one(messages(quote!(public, public_objects), quote!()), "`public_objects` needs `model = ..`");
    assert_one(messages(quote!(index_field = "slug"), quote!()), "`index_field` needs `model = ..`");
    assert_one(messages(quote!(public, project_required), quote!()), "a project scope needs a signed-in member");
    assert_one(messages(quote!(project = "a-b"), quote!()), "`project` names the parameter holding the project id");
    let (handler, _) = judge(
        quote!(project_required),
        quote!(
            async fn f() {}
        ),
    );
    assert_eq!(handler.expect("a handler").project.as_deref(), Some("project_id"));
}

#[test]
fn the_signature_must_be_a_plain_async_function() {
    assert_one(
        judge(
            quote!(public),
            quote!(
                fn f() {}
            ),
        )
        .1,
        "#[request_handler] functions must be `async fn`",
    );
    assert_one(
        judge(
            quote!(public),
            quote!(
                async fn f<T>() {}
            ),
        )
        .1,
        "#[request_handler] functions cannot be generic",
    );
    assert_one(
        judge(
            quote!(public),
            quote!(
                async fn f(&self) {}
            ),
        )
        .1,
        "#[request_handler] functions cannot take `self`",
    );
    assert_one(messages(quote!(public), quote!((a, b): (i64, i64))), "handler arguments must be plain names");
    assert_one(messages(quote!(public), quote!(x: impl ToString)), "handler arguments cannot be `impl Trait`");
    assert_one(messages(quote!(public), quote!(a: i64, #[param(rename = "a")] b: i64)), "two parameters are named `a`");
}

#[test]
fn parameter_kinds_follow_the_attribute_and_the_option() {
    let (handler, messages) = judge(
        quote!(public),
        quote! {
            async fn f(
                plain: i64,
                #[param(description = "d")] required: i64,
                optional: Option<i64>,
                #[param(default = 3)] defaulted: i64,
                #[param(body)] body: Body,
                #[param(rest)] rest: Rest,
            ) {}
        },
    );
    assert_eq!(messages, Vec::<String>::new());
    let kinds: Vec<&str> = handler
        .expect("a handler")
        .params
        .iter()
        .map(|p| match p.kind {
            ParamKind::Plain => "plain",
            ParamKind::Required => "required",
            ParamKind::Optional => "optional",
            ParamKind::Default(_) => "default",
            ParamKind::Body => "body",
            ParamKind::Rest => "rest",
        })
        .collect();
    assert_eq!(kinds, ["plain", "required", "optional", "default", "body", "rest"]);
}

#[test]
fn option_keys_that_contradict_each_other_are_refused() {
    assert_one(
        messages(quote!(public), quote!(#[param(default = 1)] a: Option<i64>)),
        "an `Option<..>` parameter is already optional",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(body, default = 1)] a: Body)),
        "`body` parameters are validated by their own `Validate` derive",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(rest, default = 1)] a: Rest)),
        "`rest` takes every undeclared key as it is",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(rest)] a: Option<Rest>)),
        "`rest` takes every undeclared key as it is",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(body, describe = f)] a: Order)),
        "a `body` structure is documented by its own schema",
    );
    assert_eq!(messages(quote!(public), quote!(#[param(describe = f)] a: String)), Vec::<String>::new());
    assert_one(
        messages(quote!(public), quote!(#[param(allow_empty)] a: Option<String>)),
        "`allow_empty` applies to required parameters",
    );
    assert_one(messages(quote!(public), quote!(#[param(rename = " ")] a: i64)), "`rename` cannot be empty");
    assert_eq!(messages(quote!(public), quote!(#[param(rest, describe = f)] a: Rest)), Vec::<String>::new());
}

#[test]
fn validation_rules_that_no_value_can_pass_are_refused() {
    assert_one(
        messages(quote!(public), quote!(#[param(validate(length()))] a: String)),
        "`length` needs `min`, `max` or `equal`",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(validate(length(min = 3, max = 1)))] a: String)),
        "`length` min (3) is greater than max (1)",
    );
    assert_one(messages(quote!(public), quote!(#[param(validate(range()))] a: i64)), "`range` needs `min`, `max`");
    assert_one(
        messages(quote!(public), quote!(#[param(validate(range(min = 2.5, max = -1)))] a: f64)),
        "`range` min (2.5) is greater than max (-1)",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(validate(regex = "("))] a: String)),
        "invalid regular expression",
    );
    assert_one(
        messages(quote!(public), quote!(#[param(filetypes = ["png"])] a: String)),
        "`filetypes` applies to `UploadedFile`",
    );
    assert_eq!(
        messages(quote!(public), quote!(#[param(filetypes = ["png"])] a: Option<UploadedFile>)),
        Vec::<String>::new()
    );
}

#[test]
fn every_mistake_is_reported_in_one_pass() {
    let messages = judge(
        quote!(method = FETCH, can_do = "notes.read"),
        quote!(
            fn f(#[param(rest, default = 1)] fields: Option<Rest>, x: impl Sized) {}
        ),
    )
    .1;
    assert_eq!(messages.len(), 6, "{messages:#?}");
}
