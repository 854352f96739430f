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

/// The closure checking a coerced value (of type `value_ty`) against its rules. Each
/// check is located at the parameter's type, so a rule that does not fit the type (e.g.
/// `length` on an integer) is reported there.
fn check_closure(p: &Param, idx: usize, value_ty: &TokenStream) -> TokenStream {
    let nets = private();
    let ty = &p.ty;
    let r = &p.rules;
    if r.is_empty() && p.filetypes.is_empty() {
        return quote!(|_: &#value_ty, _: &#nets::Ctx| ::core::result::Result::Ok(()));
    }
    // Each check names the parameter's type in its turbofish, so a rule that does not fit
    // the type (`length` on an integer) is reported there, with the rule's own message.
    let mut checks = Vec::new();
    if r.email {
        checks.push(quote!(#nets::check_email::<#ty>(__v)?;));
    }
    if r.url {
        checks.push(quote!(#nets::check_url::<#ty>(__v)?;));
    }
    if let Some((min, max, equal)) = r.length {
        let (min, max, equal) = (opt(min), opt(max), opt(equal));
        checks.push(quote!(#nets::check_length::<#ty>(__v, #min, #max, #equal)?;));
    }
    if let Some(range) = &r.range {
        // Bounds are literals converted by `InRange`, located at the type: a non-number
        // type gets one error there, not one per bound plus failed `as` casts.
        let nets_at = private_at(ty.span());
        let b = |b: &Option<super::parse::Bound>| match b {
            Some(b) => {
                let e = &b.expr;
                let convert = if b.is_float {
                    quote_spanned!(ty.span()=> <#ty as #nets_at::InRange>::from_float(#e as f64))
                } else {
                    quote_spanned!(ty.span()=> <#ty as #nets_at::InRange>::from_int(#e as i128))
                };
                quote!(::core::option::Option::Some(#convert))
            }
            None => quote!(::core::option::Option::None),
        };
        let (min, max, emin, emax) = (b(&range.min), b(&range.max), b(&range.exclusive_min), b(&range.exclusive_max));
        checks.push(quote!(#nets::check_range::<#ty>(__v, #min, #max, #emin, #emax)?;));
    }
    if let Some(pattern) = &r.regex {
        let regex = format_ident!("__NETS_REGEX_{}", idx);
        checks.push(quote!(#nets::check_regex::<#ty>(__v, &#regex, #pattern)?;));
    }
    // Located at the function's path: a validator with the wrong signature is reported
    // there, call and argument alike.
    for (path, use_ctx) in &r.custom {
        let span = at(path.span());
        let nets_at = private_at(span);
        checks.push(if *use_ctx {
            quote_spanned!(span=> #nets_at::check_custom_ctx(__v, __ctx, #path)?;)
        } else {
            quote_spanned!(span=> #nets_at::check_custom(__v, #path)?;)
        });
    }
    if !p.filetypes.is_empty() {
        let types = &p.filetypes;
        checks.push(quote!(#nets::check_filetypes(__v, &[#(#types),*])?;));
    }
    quote! {
        |__v: &#value_ty, __ctx: &#nets::Ctx| -> ::core::result::Result<(), #nets::RuleError> {
            let _ = __ctx;
            #(#checks)*
            ::core::result::Result::Ok(())
        }
    }
}

pub(crate) fn handler(h: &Handler, function: &syn::ItemFn) -> TokenStream {
    let nets = private();
    let fn_ident = &function.sig.ident;
    let name = &h.name;
    let path = &h.path;
    let function_name = fn_ident.to_string();
    let methods: Vec<TokenStream> = h.methods.iter().map(|m| method_variant(m)).collect();
    let public = h.public;
    let can_do = &h.can_do;
    let perm_required = h.perm_required;
    let project_required = h.project_required;
    let project = opt_str(&h.project);
    let public_objects = h.public_objects;
    let tags = &h.tags;
    let summary = opt_str(&h.summary);
    let description = opt_str(&h.description);
    let deprecated = h.deprecated;
    let body_limit = opt(h.body_limit.as_ref().map(|f| {
        let nets_at = private_at(at(f.span()));
        quote_spanned!(at(f.span())=> #f as fn(&#nets_at::App) -> usize)
    }));

    // The model type, named through the `ModelType` projection located at `model = T`:
    // a `T` without `NetsModel` is reported once, there (see `__private`).
    // It is located with `at` rather than spanned like the parameter types because the
    // load statement mentions locals; every use must carry the very same span for the
    // compiler to merge the errors.
    let model_ty = h.model.as_ref().map(|model| {
        let span = at(model.span());
        let nets_at = private_at(span);
        quote_spanned!(span=> <#model as #nets_at::ModelType>::Type)
    });
    let model = match (&h.model, &model_ty) {
        (Some(model), Some(model_ty)) => {
            let type_name = quote!(#model).to_string().replace(' ', "");
            let index = match &h.index_field {
                Some(f) => quote!(#f),
                None => quote!(<#model_ty as #nets::NetsModel>::INDEX_FIELD),
            };
            quote!(::core::option::Option::Some(#nets::ModelSpec {
                type_name: #type_name,
                table: <#model_ty as #nets::NetsModel>::TABLE,
                index_field: #index,
            }))
        }
        _ => quote!(::core::option::Option::None),
    };

    // Parameter specs, helper statics and extraction statements.
    let mut specs = Vec::new();
    let mut helpers = Vec::new();
    let mut extract = Vec::new();
    let mut bindings = Vec::new();
    let mut resolve = Vec::new();
    let mut missing = Vec::new();
    for (idx, p) in h.params.iter().enumerate() {
        let ty = &p.ty;
        let nets_at = private_at(ty.span());
        // Request parameter types are named through the `ParamType` projection spanned
        // over the argument's type (first to last token): a type without `FromParam` is
        // reported once, there.
        // Plain arguments (no `#[param]`, no `Option`) go through `ArgType`: their type's
        // `HandlerArg` says whether they are a parameter, the context, the model or state.
        let value_ty = match p.kind {
            ParamKind::Body | ParamKind::Rest => quote!(#ty),
            _ => {
                let projection = if matches!(p.kind, ParamKind::Plain) { quote!(ArgType) } else { quote!(ParamType) };
                let last = ty.to_token_stream().into_iter().last().map_or_else(|| ty.span(), |t| t.span());
                let open = quote_spanned!(ty.span()=> <#ty as #nets_at::#projection);
                let close = quote_spanned!(last=> >::Type);
                quote!(#open #close)
            }
        };
        let pname = &p.name;
        let var = format_ident!("__p{}", idx);
        bindings.push(var.clone());
        let location = match p.location {
            ParamLocation::Path => quote!(#nets::Location::Path),
            ParamLocation::Input => quote!(#nets::Location::Input),
            ParamLocation::Body => quote!(#nets::Location::Body),
            ParamLocation::Rest => quote!(#nets::Location::Rest),
        };
        let required = matches!(p.kind, ParamKind::Required | ParamKind::Plain | ParamKind::Body);
        let kind = match p.kind {
            ParamKind::Plain => quote_spanned!(ty.span()=> <#value_ty as #nets_at::HandlerArg>::KIND),
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
        let param_description = opt_str(&p.description);
        if let Some(pattern) = &p.rules.regex {
            let regex = format_ident!("__NETS_REGEX_{}", idx);
            helpers.push(quote! {
                static #regex: #nets::LazyLock<#nets::Regex> = #nets::LazyLock::new(|| {
                    // The pattern was compiled when the macro ran, so this cannot fail.
                    #nets::Regex::new(#pattern).unwrap_or_else(|_| ::core::unreachable!())
                });
            });
        }
        // The default expression is written once, in its own function, so a mistake in it
        // is reported once; extraction and the OpenAPI document both call that function.
        let default_value_fn = format_ident!("__nets_default_value_{}", idx);
        let default_fn = match &p.kind {
            ParamKind::Default(expr) => {
                let f = format_ident!("__nets_default_{}", idx);
                helpers.push(quote! {
                    fn #default_value_fn() -> #ty {
                        #expr
                    }
                    fn #f() -> ::core::option::Option<#nets::serde_json::Value> {
                        #[allow(unused_imports)]
                        use #nets::probe::{NoJson as _, ViaSerialize as _};
                        let __v = #default_value_fn();
                        (&&#nets::probe::Value(&__v)).nets_json()
                    }
                });
                quote!(::core::option::Option::Some(#f))
            }
            _ => quote!(::core::option::Option::None),
        };
        let (schema, body_schema) = match p.kind {
            ParamKind::Rest => (quote!(#nets::body_param_schema), quote!(::core::option::Option::None)),
            ParamKind::Plain => (
                quote_spanned!(ty.span()=> <#value_ty as #nets_at::HandlerArg>::schema),
                quote!(::core::option::Option::None),
            ),
            ParamKind::Body => {
                let f = format_ident!("__nets_body_schema_{}", idx);
                helpers.push(quote! {
                    fn #f(__sink: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
                        #[allow(unused_imports)]
                        use #nets::probe::{NoSchema as _, ViaToSchema as _};
                        (&&#nets::probe::Probe::<#ty>::new()).nets_schema(__sink)
                    }
                });
                (quote!(#nets::body_param_schema), quote!(::core::option::Option::Some(#f)))
            }
            _ => (
                quote_spanned!(ty.span()=> <#value_ty as #nets_at::FromParam>::schema),
                quote!(::core::option::Option::None),
            ),
        };
        specs.push(quote! {
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
                description: #param_description,
            }
        });
        let check = check_closure(p, idx, &value_ty);
        extract.push(match &p.kind {
            ParamKind::Plain => {
                let nets_at = private_at(ty.span());
                quote!(let #var = <#value_ty as #nets_at::HandlerArg>::extract(&mut __input, #idx, #check);)
            }
            ParamKind::Rest => {
                let nets_at = private_at(ty.span());
                quote!(let #var = #nets_at::rest::<#ty>(&mut __input);)
            }
            ParamKind::Required => quote!(let #var = __input.required::<#value_ty>(#idx, #check);),
            ParamKind::Optional => quote!(let #var = __input.optional::<#value_ty>(#idx, #check);),
            ParamKind::Default(_) => {
                quote!(let #var = __input.defaulted::<#value_ty>(#idx, #default_value_fn, #check);)
            }
            ParamKind::Body => quote!(let #var = #nets::body::<#ty>(&mut __input, #idx);),
        });
        // Step 7: plain arguments become what their `HandlerArg` resolves (the context,
        // the loaded model, state; a parameter is itself); the rest are their values.
        let arg = format_ident!("__a{}", idx);
        resolve.push(if matches!(p.kind, ParamKind::Plain) {
            let nets_at = private_at(ty.span());
            missing.push(quote!(__out.extend(<#value_ty as #nets_at::HandlerArg>::missing(__e, __app));));
            quote! {
                let #arg = match <#value_ty as #nets_at::HandlerArg>::resolve(#var, &mut __input, &mut __model_slot) {
                    ::core::result::Result::Ok(__v) => __v,
                    ::core::result::Result::Err(__r) => return __r,
                };
            }
        } else {
            quote!(let #arg = #var;)
        });
    }
    for unbound in &h.unbound_path_params {
        specs.push(quote! {
            #nets::ParamSpec {
                name: #unbound,
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
        });
    }
    let param_count = specs.len();

    // Located at `model = T` like every other use of the model type, so the compiler
    // reports a non-model once, there (it merges identical errors at one location).
    // The object is loaded (and ownership checked) whether or not the handler takes it;
    // a model argument takes it from the slot.
    let load_model = match h.model.as_ref().zip(model_ty.as_ref()) {
        Some((model, model_ty)) => {
            missing.push(quote!(__out.extend(#nets::model_missing::<#model_ty>(__app));));
            quote_spanned! {at(model.span())=>
                let mut __model_slot = match __input.model::<#model_ty>().await {
                    ::core::result::Result::Ok(__m) => ::core::option::Option::Some(__m),
                    ::core::result::Result::Err(__r) => return __r,
                };
            }
        }
        None => quote!(let mut __model_slot = ();),
    };

    let call_args: Vec<TokenStream> = h
        .args
        .iter()
        .map(|a| match a {
            Arg::Param(i) => {
                let v = format_ident!("__a{}", i);
                quote!(#v)
            }
        })
        .collect();

    // The return value becomes a response through one bounded call per requirement,
    // which names the part of the return type it checks in its turbofish: `E:
    // Into<ApiError>` at `E`, `T: Serialize` at `T`, `IntoResponse` at the whole type.
    // Types mentioning `impl Trait` cannot be named; there the call is inferred and
    // located at the type instead (see `at`).
    let no_schema = quote! {
        fn __nets_data_schema(_: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
            ::core::option::Option::None
        }
    };
    let (data_schema, respond) = match &h.ret {
        ReturnKind::Envelope { result, data, error } => {
            let to_api_result = match error {
                Some(e) if !signature::contains_impl_trait(e) => {
                    quote!(let __ret = #nets::into_api_result::<_, #e>(__ret);)
                }
                // `ApiResult<T>` already is `Result<T, ApiError>`.
                None if signature::is_named(result, "ApiResult") => quote!(),
                _ => {
                    let span = error.as_ref().map_or_else(|| result.span(), |e| e.span());
                    let (span, nets_at) = (at(span), private_at(at(span)));
                    quote_spanned!(span=> let __ret = #nets_at::into_api_result(__ret);)
                }
            };
            let (data_schema, envelope) = if signature::contains_impl_trait(data) {
                let (span, nets_at) = (at(data.span()), private_at(at(data.span())));
                (no_schema, quote_spanned!(span=> #nets_at::envelope(__ret)))
            } else {
                let data_schema = quote! {
                    fn __nets_data_schema(__sink: &mut #nets::SchemaSink) -> ::core::option::Option<#nets::RefOr<#nets::Schema>> {
                        #[allow(unused_imports)]
                        use #nets::probe::{NoSchema as _, ViaToSchema as _};
                        (&&#nets::probe::Probe::<#data>::new()).nets_schema(__sink)
                    }
                };
                (data_schema, quote!(#nets::envelope::<#data>(__ret)))
            };
            (data_schema, quote!(#to_api_result #envelope))
        }
        ReturnKind::Response(ty) if signature::contains_impl_trait(ty) => {
            let (span, nets_at) = (at(ty.span()), private_at(at(ty.span())));
            (no_schema, quote_spanned!(span=> #nets_at::into_response(__ret)))
        }
        ReturnKind::Response(ty) => (no_schema, quote!(#nets::into_response::<#ty>(__ret))),
    };

    // Located at the function's name: a handler whose future is not `Send` is reported there.
    let call = {
        let nets_at = private_at(h.fn_span);
        quote_spanned!(h.fn_span=> #nets_at::assert_send(#fn_ident(#(#call_args),*)).await)
    };
    let unpack = if bindings.is_empty() {
        quote!()
    } else {
        quote! {
            let (#(::core::option::Option::Some(#bindings)),*,) = (#(#bindings),*,) else {
                return #nets::IntoResponse::into_response(#nets::ApiError::internal("parameter extraction reported no error but produced no value"));
            };
        }
    };

    quote! {
        #function

        #[doc(hidden)]
        #[allow(non_upper_case_globals, non_snake_case, unused_mut, unused_variables, clippy::all, clippy::pedantic, unused_qualifications)]
        const _: () = {
            #(#helpers)*
            #data_schema

            static __NETS_PARAMS: [#nets::ParamSpec; #param_count] = [#(#specs),*];

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
                missing: __nets_missing,
                call: __nets_call,
            };

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
                    drop(__input);
                    let __ret = #call;
                    #respond
                })
            }
        };
    }
}

#[cfg(test)]
mod tests;
