//! Expansion: a checked [`Handler`] → the original function, its registration and the
//! glue that runs the request pipeline and calls it.

use proc_macro2::TokenStream;
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use super::signature::{self, ReturnKind};
use super::validate::{Arg, Handler, Param, ParamKind, ParamLocation};
use crate::exports::{at, private, private_at};

fn opt_str(value: &Option<String>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

fn opt<T: quote::ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// `<T as ::nets_runtime::__private::Trait>` for a user's type `T`: every use of `T`
/// goes through such a path, so a `T` lacking the trait is reported once, at `T`, with
/// the trait's own message (see `nets_runtime::__private`).
fn as_trait(ty: &impl ToTokens, trait_name: &str) -> TokenStream {
    let span = ty.to_token_stream().into_iter().next().map_or_else(proc_macro2::Span::call_site, |t| t.span());
    let nets_at = private_at(span);
    let trait_ident = syn::Ident::new(trait_name, span);
    quote_spanned!(span=> <#ty as #nets_at::#trait_ident>)
}

fn method_variant(verb: &str) -> TokenStream {
    let nets = private();
    let variant = match verb {
        "GET" => quote!(Get),
        "POST" => quote!(Post),
        "PUT" => quote!(Put),
        "PATCH" => quote!(Patch),
        "DELETE" => quote!(Delete),
        "HEAD" => quote!(Head),
        _ => quote!(Options),
    };
    quote!(#nets::Method::#variant)
}

/// The rule list recorded for the OpenAPI document.
fn rule_specs(p: &Param) -> TokenStream {
    let nets = private();
    let r = &p.rules;
    let mut out = Vec::new();
    if r.email {
        out.push(quote!(#nets::Rule::Email));
    }
    if r.url {
        out.push(quote!(#nets::Rule::Url));
    }
    if let Some((min, max, equal)) = r.length {
        let (min, max, equal) = (opt(min), opt(max), opt(equal));
        out.push(quote!(#nets::Rule::Length { min: #min, max: #max, equal: #equal }));
    }
    if let Some(range) = &r.range {
        let v = |b: &Option<super::parse::Bound>| opt(b.as_ref().map(|b| b.value));
        let (min, max, emin, emax) = (v(&range.min), v(&range.max), v(&range.exclusive_min), v(&range.exclusive_max));
        out.push(quote!(#nets::Rule::Range { min: #min, max: #max, exclusive_min: #emin, exclusive_max: #emax }));
    }
    if let Some(pattern) = &r.regex {
        out.push(quote!(#nets::Rule::Regex(#pattern)));
    }
    for (path, _) in &r.custom {
        let name = quote!(#path).to_string().replace(' ', "");
        out.push(quote!(#nets::Rule::Custom(#name)));
    }
    quote!(&[#(#out),*])
}

/// The closure checking a coerced value (of the parameter's type) against its rules.
/// Each check goes through the rule's trait at the parameter's type, so a rule that does
/// not fit the type (`length` on an integer) is reported there, with the rule's own
/// message.
fn check_closure(p: &Param, idx: usize) -> TokenStream {
    let nets = private();
    let ty = &p.ty;
    let r = &p.rules;
    if r.is_empty() && p.filetypes.is_empty() {
        return quote!(|_: &#ty, _: &#nets::Ctx| ::core::result::Result::Ok(()));
    }
    let mut checks = Vec::new();
    if r.email {
        let has = as_trait(ty, "IsEmailText");
        checks.push(quote!(#has::check_email(__v)?;));
    }
    if r.url {
        let has = as_trait(ty, "IsUrlText");
        checks.push(quote!(#has::check_url(__v)?;));
    }
    if let Some((min, max, equal)) = r.length {
        let (min, max, equal) = (opt(min), opt(max), opt(equal));
        let has = as_trait(ty, "HasLength");
        checks.push(quote!(#has::check_length(__v, #min, #max, #equal)?;));
    }
    if let Some(range) = &r.range {
        // Bounds are literals converted by `InRange` at the type: a non-number type gets
        // one error there, not one per bound plus failed `as` casts.
        let in_range = as_trait(ty, "InRange");
        let b = |b: &Option<super::parse::Bound>| match b {
            Some(b) => {
                let e = &b.expr;
                let convert = if b.is_float {
                    quote!(#in_range::from_float(#e as f64))
                } else {
                    quote!(#in_range::from_int(#e as i128))
                };
                quote!(::core::option::Option::Some(#convert))
            }
            None => quote!(::core::option::Option::None),
        };
        let (min, max, emin, emax) = (b(&range.min), b(&range.max), b(&range.exclusive_min), b(&range.exclusive_max));
        checks.push(quote!(#in_range::check_range(__v, #min, #max, #emin, #emax)?;));
    }
    if let Some(pattern) = &r.regex {
        let regex = format_ident!("__NETS_REGEX_{}", idx);
        let has = as_trait(ty, "IsText");
        checks.push(quote!(#has::check_regex(__v, &#regex, #pattern)?;));
    }
    // Located at the function's path: a validator with the wrong signature is reported
    // there, with the expected and found signatures.
    for (path, use_ctx) in &r.custom {
        let span = at(path.span());
        let nets_at = private_at(span);
        checks.push(if *use_ctx {
            quote_spanned!(span=> #nets_at::CustomCtxCheck::<#ty>::check(#path, __v, __ctx)?;)
        } else {
            quote_spanned!(span=> #nets_at::CustomCheck::<#ty>::check(#path, __v)?;)
        });
    }
    if !p.filetypes.is_empty() {
        let types = &p.filetypes;
        checks.push(quote!(#nets::check_filetypes(__v, &[#(#types),*])?;));
    }
    quote! {
        |__v: &#ty, __ctx: &#nets::Ctx| -> ::core::result::Result<(), #nets::RuleError> {
            let _ = __ctx;
            #(#checks)*
            ::core::result::Result::Ok(())
        }
    }
}

/// The generated code of one argument, gathered per concern and assembled by [`handler`].
struct ArgCode {
    /// Its `ParamSpec` in the endpoint's registration.
    spec: TokenStream,
    /// Items it needs beside the call (regex statics, default and schema functions).
    helpers: TokenStream,
    /// Step 4: reads it while parameters are read.
    extract: TokenStream,
    /// Step 7: the value handed to the handler, once access is granted.
    resolve: TokenStream,
    /// What it needs from the app, for the wiring check (plain arguments only).
    missing: Option<TokenStream>,
}

/// `Endpoint` + `inventory` registration, the pipeline function and the original function.
pub(crate) fn handler(h: &Handler, function: &syn::ItemFn) -> TokenStream {
    let nets = private();
    let model_ty = h.model.as_ref().map(model_type);
    let args: Vec<ArgCode> = h.params.iter().enumerate().map(|(idx, p)| argument(p, idx)).collect();

    let mut specs: Vec<TokenStream> = args.iter().map(|a| a.spec.clone()).collect();
    specs.extend(h.unbound_path_params.iter().map(|name| unbound_path_param_spec(name)));
    let param_count = specs.len();
    let helpers = args.iter().map(|a| &a.helpers);
    let extract = args.iter().map(|a| &a.extract);
    let resolve = args.iter().map(|a| &a.resolve);
    let mut missing: Vec<&TokenStream> = args.iter().filter_map(|a| a.missing.as_ref()).collect();
    let model_missing = model_missing(model_ty.as_ref());
    missing.extend(model_missing.as_ref());

    let endpoint = endpoint_static(h, function, model_ty.as_ref());
    let load_model = load_model(model_ty.as_ref());
    let unpack = unpack(h.params.len());
    let call = call(h, &function.sig.ident);
    let (data_schema, respond) = response(h);

    quote! {
        #function

        #[doc(hidden)]
        #[allow(non_upper_case_globals, non_snake_case, unused_mut, unused_variables, clippy::all, clippy::pedantic, unused_qualifications)]
        const _: () = {
            #(#helpers)*
            #data_schema

            static __NETS_PARAMS: [#nets::ParamSpec; #param_count] = [#(#specs),*];

            #endpoint

            fn __nets_missing(__e: &#nets::Endpoint, __app: &#nets::App) -> ::std::vec::Vec<::std::string::String> {
                let mut __out = ::std::vec::Vec::new();
                #(#missing)*
                let _ = (__e, __app);
                __out
            }

            #nets::inventory::submit! { #nets::Registration(&__NETS_ENDPOINT) }

            fn __nets_call(__req: #nets::Request, __app: #nets::App) -> #nets::HandlerFuture {
                ::std::boxed::Box::pin(async move {
                    let mut __input = match #nets::Input::extract(__req, __app, &__NETS_ENDPOINT).await {
                        ::core::result::Result::Ok(__i) => __i,
                        ::core::result::Result::Err(__r) => return __r,
                    };
                    #(#extract)*
                    if let ::core::result::Result::Err(__r) = __input.finish_params() {
                        return __r;
                    }
                    if let ::core::result::Result::Err(__r) = __input.authorize().await {
                        return __r;
                    }
                    #load_model
                    #unpack
                    #(#resolve)*
                    ::core::mem::drop(__input);
                    let __ret = #call;
                    #respond
                })
            }
        };
    }
}

/// The `__NETS_ENDPOINT` static: what the registry, router and OpenAPI document know.
fn endpoint_static(h: &Handler, function: &syn::ItemFn, model_ty: Option<&TokenStream>) -> TokenStream {
    let nets = private();
    let function_name = function.sig.ident.to_string();
    let (name, path) = (&h.name, &h.path);
    let methods: Vec<TokenStream> = h.methods.iter().map(|m| method_variant(m)).collect();
    let (public, can_do, perm_required) = (h.public, &h.can_do, h.perm_required);
    let (project, project_required) = (opt_str(&h.project), h.project_required);
    let public_objects = h.public_objects;
    let (tags, summary, description) = (&h.tags, opt_str(&h.summary), opt_str(&h.description));
    let deprecated = h.deprecated;
    let model = model_spec(h, model_ty);
    let body_limit = opt(h.body_limit.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as fn(&#nets_at::App) -> usize)
    }));
    let errors = opt(h.errors.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as fn(#nets_at::ApiError) -> #nets_at::Response)
    }));
    let openapi = opt(h.openapi.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as #nets_at::OperationFn)
    }));
    quote! {
        static __NETS_ENDPOINT: #nets::Endpoint = #nets::Endpoint {
            name: #name,
            path: #path,
            methods: &[#(#methods),*],
            module_path: ::core::module_path!(),
            function: #function_name,
            file: ::core::file!(),
            line: ::core::line!(),
            public: #public,
            can_do: &[#(#can_do),*],
            perm_required: #perm_required,
            project: #project,
            project_required: #project_required,
            model: #model,
            public_objects: #public_objects,
            tags: &[#(#tags),*],
            summary: #summary,
            description: #description,
            deprecated: #deprecated,
            params: &__NETS_PARAMS,
            data_schema: ::core::option::Option::Some(__nets_data_schema),
            body_limit: #body_limit,
            errors: #errors,
            openapi: #openapi,
            missing: __nets_missing,
            call: __nets_call,
        };
    }
}

/// `<T as ModelType>` for `model = T`: a `T` without `NetsModel` is reported once, at
/// `T` (see `__private`).
fn model_type(model: &syn::Path) -> TokenStream {
    as_trait(model, "ModelType")
}

/// `Endpoint::model`: the `ModelSpec` of `model = T`, or `None`.
fn model_spec(h: &Handler, model_ty: Option<&TokenStream>) -> TokenStream {
    let nets = private();
    let (Some(model), Some(model_ty)) = (&h.model, model_ty) else {
        return quote!(::core::option::Option::None);
    };
    let type_name = quote!(#model).to_string().replace(' ', "");
    let index = match &h.index_field {
        Some(f) => quote!(#f),
        None => quote!(#model_ty::INDEX_FIELD),
    };
    quote!(::core::option::Option::Some(#nets::ModelSpec {
        type_name: #type_name,
        table: #model_ty::TABLE,
        index_field: #index,
    }))
}

/// What the `model = T` type needs from the app (a database), for the wiring check.
fn model_missing(model_ty: Option<&TokenStream>) -> Option<TokenStream> {
    model_ty.map(|model_ty| quote!(__out.extend(#model_ty::missing(__app));))
}

/// Step 6: the object is loaded (and ownership checked) whether or not the handler
/// takes it; a model argument takes it from the slot.
fn load_model(model_ty: Option<&TokenStream>) -> TokenStream {
    match model_ty {
        Some(model_ty) => quote! {
            let mut __model_slot = match #model_ty::load(&mut __input).await {
                ::core::result::Result::Ok(__m) => ::core::option::Option::Some(__m),
                ::core::result::Result::Err(__r) => return __r,
            };
        },
        None => quote!(let mut __model_slot = ();),
    }
}

/// Everything generated for the argument `p` at position `idx`.
fn argument(p: &Param, idx: usize) -> ArgCode {
    let mut helpers = TokenStream::new();
    if let Some(regex) = regex_static(p, idx) {
        helpers.extend(regex);
    }
    let default_fn = default_value(p, idx, &mut helpers);
    let spec = param_spec(p, idx, default_fn, &mut helpers);
    let extract = extraction(p, idx);
    let (resolve, missing) = resolution(p, idx);
    ArgCode { spec, helpers, extract, resolve, missing }
}

/// The compiled `validate(regex = ..)` of parameter `idx`, a static beside the call.
fn regex_static(p: &Param, idx: usize) -> Option<TokenStream> {
    let nets = private();
    let pattern = p.rules.regex.as_ref()?;
    let regex = format_ident!("__NETS_REGEX_{}", idx);
    Some(quote! {
        static #regex: #nets::LazyLock<#nets::Regex> = #nets::LazyLock::new(|| {
            // The pattern was compiled when the macro ran, so this cannot fail.
            #nets::Regex::new(#pattern).unwrap_or_else(|_| ::core::unreachable!())
        });
    })
}

/// `#[param(default = ..)]`: the expression is written once, in its own function, so a
/// mistake in it is reported once; extraction and the OpenAPI document both call that
/// function. Returns `ParamSpec::default`.
fn default_value(p: &Param, idx: usize, helpers: &mut TokenStream) -> TokenStream {
    let nets = private();
    let ParamKind::Default(expr) = &p.kind else {
        return quote!(::core::option::Option::None);
    };
    let ty = &p.ty;
    let value_fn = default_value_fn(idx);
    let json_fn = format_ident!("__nets_default_{}", idx);
    helpers.extend(quote! {
        fn #value_fn() -> #ty {
            #expr
        }
        fn #json_fn() -> ::core::option::Option<#nets::serde_json::Value> {
            #[allow(unused_imports)]
            use #nets::probe::{NoJson as _, ViaSerialize as _};
            let __v = #value_fn();
            (&&#nets::probe::Value(&__v)).nets_json()
        }
    });
    quote!(::core::option::Option::Some(#json_fn))
}

fn default_value_fn(idx: usize) -> syn::Ident {
    format_ident!("__nets_default_value_{}", idx)
}

/// The argument's `ParamSpec`: name, kind, location and what the OpenAPI document says.
fn param_spec(p: &Param, idx: usize, default_fn: TokenStream, helpers: &mut TokenStream) -> TokenStream {
    let nets = private();
    let ty = &p.ty;
    let pname = &p.name;
    let location = match p.location {
        ParamLocation::Path => quote!(#nets::Location::Path),
        ParamLocation::Input => quote!(#nets::Location::Input),
        ParamLocation::Body => quote!(#nets::Location::Body),
        ParamLocation::Rest => quote!(#nets::Location::Rest),
    };
    let required = matches!(p.kind, ParamKind::Required | ParamKind::Plain | ParamKind::Body);
    let kind = match p.kind {
        ParamKind::Plain => {
            let arg = as_trait(ty, "ArgType");
            quote!(#arg::KIND)
        }
        _ => quote!(#nets::ArgKind::Param),
    };
    let name_from = opt(p.name_from.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as fn(&#nets_at::Settings) -> ::core::option::Option<&'static str>)
    }));
    let (secret, allow_empty) = (p.secret, p.allow_empty);
    let describe = opt(p.describe.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as fn(&#nets_at::App) -> ::core::option::Option<#nets_at::serde_json::Value>)
    }));
    let type_name = quote!(#ty).to_string().replace(' ', "");
    let rules = rule_specs(p);
    let filetypes = &p.filetypes;
    let description = opt_str(&p.description);
    let (schema, body_schema) = schemas(p, idx, helpers);
    quote! {
        #nets::ParamSpec {
            name: #pname,
            kind: #kind,
            name_from: #name_from,
            secret: #secret,
            allow_empty: #allow_empty,
            describe: #describe,
            location: #location,
            required: #required,
            type_name: #type_name,
            schema: #schema,
            default: #default_fn,
            rules: #rules,
            filetypes: &[#(#filetypes),*],
            body_schema: #body_schema,
            description: #description,
        }
    }
}

/// `ParamSpec::schema` and `ParamSpec::body_schema` (a `#[param(body)]` struct's
/// `ToSchema`, when it has one, through a function beside the call).
fn schemas(p: &Param, idx: usize, helpers: &mut TokenStream) -> (TokenStream, TokenStream) {
    let nets = private();
    let ty = &p.ty;
    let none = quote!(::core::option::Option::None);
    match p.kind {
        ParamKind::Rest => (quote!(#nets::body_param_schema), none),
        ParamKind::Plain => {
            let arg = as_trait(ty, "ArgType");
            (quote!(#arg::schema), none)
        }
        ParamKind::Body => {
            let f = format_ident!("__nets_body_schema_{}", idx);
            helpers.extend(quote! {
                fn #f(__sink: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
                    #[allow(unused_imports)]
                    use #nets::probe::{NoSchema as _, ViaToSchema as _};
                    (&&#nets::probe::Probe::<#ty>::new()).nets_schema(__sink)
                }
            });
            (quote!(#nets::body_param_schema), quote!(::core::option::Option::Some(#f)))
        }
        _ => {
            let param = as_trait(ty, "ParamType");
            (quote!(#param::schema), none)
        }
    }
}

/// Step 4: `let __p<idx> = ..;`, the argument read (or `None`, its problem recorded).
fn extraction(p: &Param, idx: usize) -> TokenStream {
    let ty = &p.ty;
    let var = format_ident!("__p{}", idx);
    let check = check_closure(p, idx);
    let param = as_trait(ty, "ParamType");
    match &p.kind {
        ParamKind::Plain => {
            let arg = as_trait(ty, "ArgType");
            quote!(let #var = #arg::extract(&mut __input, #idx, #check);)
        }
        ParamKind::Rest => {
            let rest = as_trait(ty, "IsRest");
            quote!(let #var = #rest::read(&mut __input);)
        }
        ParamKind::Required => quote!(let #var = #param::required(&mut __input, #idx, #check);),
        ParamKind::Optional => quote!(let #var = #param::optional(&mut __input, #idx, #check);),
        ParamKind::Default(_) => {
            let default_value_fn = default_value_fn(idx);
            quote!(let #var = #param::defaulted(&mut __input, #idx, #default_value_fn, #check);)
        }
        ParamKind::Body => {
            let body = as_trait(ty, "IsBody");
            quote!(let #var = #body::read(&mut __input, #idx);)
        }
    }
}

/// Step 7: `let __a<idx> = ..;`. Plain arguments become what their `HandlerArg`
/// resolves (the context, the loaded model, state; a parameter is itself) and say what
/// they need from the app; the others are their values.
fn resolution(p: &Param, idx: usize) -> (TokenStream, Option<TokenStream>) {
    let (var, arg) = (format_ident!("__p{}", idx), format_ident!("__a{}", idx));
    if !matches!(p.kind, ParamKind::Plain) {
        return (quote!(let #arg = #var;), None);
    }
    let arg_type = as_trait(&p.ty, "ArgType");
    let resolve = quote! {
        let #arg = match #arg_type::resolve(#var, &mut __input, &mut __model_slot) {
            ::core::result::Result::Ok(__v) => __v,
            ::core::result::Result::Err(__r) => return __r,
        };
    };
    let missing = quote!(__out.extend(#arg_type::missing(__e, __app)););
    (resolve, Some(missing))
}

/// The spec of a path parameter no argument takes (the model's index field).
fn unbound_path_param_spec(name: &str) -> TokenStream {
    let nets = private();
    quote! {
        #nets::ParamSpec {
            name: #name,
            kind: #nets::ArgKind::Param,
            name_from: ::core::option::Option::None,
            secret: false,
            allow_empty: false,
            describe: ::core::option::Option::None,
            location: #nets::Location::Path,
            required: true,
            type_name: "String",
            schema: <::std::string::String as #nets::FromParam>::schema,
            default: ::core::option::Option::None,
            rules: &[],
            filetypes: &[],
            body_schema: ::core::option::Option::None,
            description: ::core::option::Option::None,
        }
    }
}

/// Every extracted value is `Some` once `finish_params` found no problem.
fn unpack(count: usize) -> TokenStream {
    if count == 0 {
        return quote!();
    }
    let nets = private();
    let bindings: Vec<syn::Ident> = (0..count).map(|i| format_ident!("__p{}", i)).collect();
    quote! {
        let (#(::core::option::Option::Some(#bindings)),*,) = (#(#bindings),*,) else {
            return #nets::IntoResponse::into_response(#nets::ApiError::internal("parameter extraction reported no error but produced no value"));
        };
    }
}

/// The handler call, located at the function's name: a handler whose future is not
/// `Send` is reported there.
fn call(h: &Handler, fn_ident: &syn::Ident) -> TokenStream {
    let call_args: Vec<syn::Ident> = h
        .args
        .iter()
        .map(|a| match a {
            Arg::Param(i) => format_ident!("__a{}", i),
        })
        .collect();
    let nets_at = private_at(h.fn_span);
    quote_spanned!(h.fn_span=> #nets_at::SendFuture::checked(#fn_ident(#(#call_args),*)).await)
}

/// The data schema function and the statement turning `__ret` into a response.
///
/// The return value becomes a response through one trait per requirement, at the part
/// of the return type it checks: `IsApiError` at `E`, `IsData` at `T`, `IsResponse` at
/// the whole type. Types mentioning `impl Trait` cannot be named; there the trait's
/// function is called with the value and located at the type instead (see `at`).
/// Types not written as a `Result` are dispatched by trait (`__private::respond`).
fn response(h: &Handler) -> (TokenStream, TokenStream) {
    let nets = private();
    let no_schema = quote! {
        fn __nets_data_schema(_: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
            ::core::option::Option::None
        }
    };
    match &h.ret {
        ReturnKind::Envelope { result, data, error } => {
            let to_api_result = to_api_result(result, error.as_deref());
            let (data_schema, envelope) = if signature::contains_impl_trait(data) {
                let (span, nets_at) = (at(data.span()), private_at(at(data.span())));
                (no_schema, quote_spanned!(span=> #nets_at::IsData::envelope(__ret)))
            } else {
                let data_schema = quote! {
                    fn __nets_data_schema(__sink: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
                        #[allow(unused_imports)]
                        use #nets::probe::{NoSchema as _, ViaToSchema as _};
                        (&&#nets::probe::Probe::<#data>::new()).nets_schema(__sink)
                    }
                };
                let is_data = as_trait(data, "IsData");
                (data_schema, quote!(#is_data::envelope(__ret)))
            };
            (data_schema, quote!(#to_api_result #envelope))
        }
        ReturnKind::Response(ty) if signature::contains_impl_trait(ty) => {
            let (span, nets_at) = (at(ty.span()), private_at(at(ty.span())));
            (no_schema, quote_spanned!(span=> #nets_at::IsResponse::respond(__ret)))
        }
        ReturnKind::Response(ty) => {
            let is_response = as_trait(ty, "IsResponse");
            (no_schema, quote!(#is_response::respond(__ret)))
        }
        ReturnKind::ByTrait(ty) => {
            let data_schema = if signature::contains_impl_trait(ty) {
                no_schema
            } else {
                quote! {
                    fn __nets_data_schema(__sink: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
                        #[allow(unused_imports)]
                        use #nets::respond::{NoDataSchema as _, ViaEnvelopeSchema as _};
                        (&&#nets::respond::Returned::<#ty>::new()).nets_data_schema(__sink)
                    }
                }
            };
            // Located at the return type: a value that is neither is reported there.
            let (span, nets_at) = (at(ty.span()), private_at(at(ty.span())));
            let respond = quote_spanned! {span=>
                {
                    #[allow(unused_imports)]
                    use #nets_at::respond::{
                        EnvelopeRespond as _, FallbackRespond as _, PlainRespond as _, ViaEnvelope as _, ViaNothing as _,
                        ViaResponse as _,
                    };
                    let __kind = (&&&#nets_at::respond::Returned::of(&__ret)).nets_kind();
                    __kind.respond(__ret)
                }
            };
            (data_schema, respond)
        }
    }
}

/// `Result<T, E>` → `Result<T, ApiError>`, checked at `E`.
fn to_api_result(result: &syn::Type, error: Option<&syn::Type>) -> TokenStream {
    match error {
        Some(e) if !signature::contains_impl_trait(e) => {
            let is_api_error = as_trait(e, "IsApiError");
            quote!(let __ret = #is_api_error::api_result(__ret);)
        }
        // `ApiResult<T>` already is `Result<T, ApiError>`.
        None if signature::is_named(result, "ApiResult") => quote!(),
        _ => {
            let span = error.map_or_else(|| result.span(), |e| e.span());
            let (span, nets_at) = (at(span), private_at(at(span)));
            quote_spanned!(span=> let __ret = #nets_at::IsApiError::api_result(__ret);)
        }
    }
}

#[cfg(test)]
mod tests;
