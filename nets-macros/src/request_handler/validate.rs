//! Validation: parsed arguments + the function → a checked [`Handler`], recording every
//! problem (spanned) instead of stopping at the first.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{FnArg, Ident, LitStr, Pat, Type};

use super::parse::{HandlerArgs, Keyed, ParamArgs, RangeArgs, ValidateArgs, WordList};
use super::path;
use super::signature::{self, ReturnKind};
use crate::errors::Errors;

const VERBS: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];

pub(crate) struct Handler {
    pub name: String,
    pub path: String,
    pub unbound_path_params: Vec<String>,
    pub methods: Vec<String>,
    pub public: bool,
    pub can_do: Vec<String>,
    pub perm_required: bool,
    /// The parameter naming the request's project, when the endpoint has a project scope.
    pub project: Option<String>,
    pub project_required: bool,
    pub model: Option<syn::Path>,
    pub public_objects: bool,
    pub index_field: Option<String>,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub deprecated: bool,
    pub body_limit: Option<syn::Path>,
    pub errors: Option<syn::Path>,
    pub openapi: Option<syn::Path>,
    pub args: Vec<Arg>,
    pub params: Vec<Param>,
    pub ret: ReturnKind,
    pub fn_span: Span,
}

/// A handler argument: an index into [`Handler::params`] (every argument has a spec;
/// its type's `HandlerArg` says whether it is a parameter, the context, the model or state).
pub(crate) enum Arg {
    Param(usize),
}

pub(crate) enum ParamKind {
    /// No `#[param]`, not an `Option`: whatever its type's `HandlerArg` makes it.
    Plain,
    Required,
    /// `#[param(rest)]`: every undeclared key.
    Rest,
    Optional,
    Default(syn::Expr),
    Body,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum ParamLocation {
    Path,
    Input,
    Body,
    Rest,
}

pub(crate) struct Param {
    pub name: String,
    /// The coerced type (`T` of `Option<T>`).
    pub ty: Type,
    pub kind: ParamKind,
    pub location: ParamLocation,
    pub rules: Rules,
    pub filetypes: Vec<String>,
    pub description: Option<String>,
    pub name_from: Option<syn::Path>,
    pub describe: Option<syn::Path>,
    pub secret: bool,
    pub allow_empty: bool,
}

#[derive(Default)]
pub(crate) struct Rules {
    pub email: bool,
    pub url: bool,
    pub length: Option<(Option<u64>, Option<u64>, Option<u64>)>,
    pub range: Option<RangeArgs>,
    pub regex: Option<String>,
    pub custom: Vec<(syn::Path, bool)>,
}

impl Rules {
    pub(crate) fn is_empty(&self) -> bool {
        !self.email
            && !self.url
            && self.length.is_none()
            && self.range.is_none()
            && self.regex.is_none()
            && self.custom.is_empty()
    }
}

fn methods(args: &HandlerArgs, errors: &mut Errors) -> Vec<String> {
    let list: &WordList = match (&args.methods, &args.method) {
        (Some(m), Some(single)) => {
            errors.at(
                single.span.unwrap_or_else(Span::call_site),
                "give either `methods = [..]` or `method = ..`, not both",
            );
            m
        }
        (Some(m), None) | (None, Some(m)) => m,
        (None, None) => return Vec::new(),
    };
    if list.words.is_empty() {
        errors.at(
            list.span.unwrap_or_else(Span::call_site),
            "`methods` cannot be empty: leave the key out to allow every method",
        );
    }
    let mut out: Vec<String> = Vec::new();
    for w in &list.words {
        let verb = w.text.trim().to_ascii_uppercase();
        if !VERBS.contains(&verb.as_str()) {
            errors.at(w.span, format!("unknown HTTP method `{}`\n  help: use one of {}", w.text, VERBS.join(", ")));
        } else if !out.contains(&verb) {
            out.push(verb);
        }
    }
    out
}

fn codename_ok(code: &str) -> bool {
    let part = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    match code.strip_prefix("role:") {
        Some(role) => !role.trim().is_empty(),
        None => {
            let pieces: Vec<&str> = code.split('.').collect();
            pieces.len() <= 2 && pieces.iter().all(|p| part(p))
        }
    }
}

fn doc_comment(function: &syn::ItemFn) -> Option<String> {
    let lines: Vec<String> = function
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => match &nv.value {
                syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. }) => Some(s.value()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let indent =
        lines.iter().filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    let text = lines.iter().map(|l| l.get(indent..).unwrap_or("").trim_end()).collect::<Vec<_>>().join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// What a failed `can_do` does must be written down: 403 (`perm_required`), 404 for
/// someone else's object (`model = T`), or the handler decides (`perm_optional`). A
/// check that silently lets the handler run is how the original failed open.
fn permission_mode(args: &HandlerArgs, errors: &mut Errors) {
    // An empty list has its own error.
    let can_do = args.can_do.as_ref().filter(|l| !l.words.is_empty()).and_then(|l| l.span);
    let (required, optional) = (&args.perm_required, &args.perm_optional);
    if optional.is_present() && required.is_present() {
        errors.at(optional.span(), "give either `perm_required` or `perm_optional`, not both");
    } else if optional.is_present() && can_do.is_none() {
        errors.at(
            optional.span(),
            "`perm_optional` needs `can_do = ..`: it says the handler reads the outcome of that check",
        );
    }
    if let Some(span) = can_do
        && !required.is_present()
        && !optional.is_present()
        && args.model.is_none()
    {
        errors.at(
            span,
            "`can_do` alone would run the handler even when the check fails\n  \
             help: add `perm_required` to answer 403, or `perm_optional` if the handler reads `ctx.perm()` itself",
        );
    }
    match (&args.model, args.public.is_present(), args.public_objects.is_present()) {
        (Some(model), true, false) => errors.at(
            model.span(),
            "a `public` endpoint with `model = ..` would serve every object to anyone\n  \
             help: add `public_objects` to say these objects are public, or remove `public`",
        ),
        (None, _, true) => errors.at(args.public_objects.span(), "`public_objects` needs `model = ..`"),
        _ => {}
    }
}

/// The parameter naming the request's project: `project = ".."`, or `project_id` for a
/// bare `project_required`. Endpoints without either check permissions globally.
fn project_scope(args: &HandlerArgs, errors: &mut Errors) -> Option<String> {
    let name = match (&args.project, args.project_required.is_present()) {
        (Some(lit), _) => {
            let name = lit.value();
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                errors.at(
                    lit.span(),
                    "`project` names the parameter holding the project id, e.g. `project = \"project_id\"`",
                );
            }
            name
        }
        (None, true) => "project_id".to_owned(),
        (None, false) => return None,
    };
    if args.public.is_present() {
        let span = args.project.as_ref().map_or_else(|| args.project_required.span(), LitStr::span);
        errors
            .at(span, "a project scope needs a signed-in member of the project: remove `public`, or the project scope");
    }
    Some(name)
}

/// Parsed attribute arguments + the function → a checked [`Handler`]. Each concern is its
/// own step, in the order their errors are reported.
pub(crate) fn handler(
    args: HandlerArgs,
    param_attrs: Vec<Option<(ParamArgs, Span)>>,
    function: &syn::ItemFn,
    errors: &mut Errors,
) -> Option<Handler> {
    let sig = &function.sig;
    signature_shape(sig, errors);
    let path_lit = path_literal(&args, errors);
    let template = path_lit.map(|lit| path::validate(lit, errors)).map(|t| t.params).unwrap_or_default();
    let path = path_lit.map(LitStr::value).unwrap_or_else(|| sig.ident.to_string());
    let name = endpoint_name(&args, sig, errors);
    let methods = methods(&args, errors);
    let can_do = permissions(&args, errors);
    let project = project_scope(&args, errors);
    let tags = args.tags.iter().flat_map(|l| &l.words).map(|w| w.text.clone()).collect();
    let path_params: Vec<String> = template.iter().map(|p| p.name.clone()).collect();
    let (handler_args, params) = arguments(sig, param_attrs, &path_params, errors);
    websocket_methods(&args, &methods, &params, errors);
    let unbound_path_params = unbound_path_params(&args, path_lit, &template, &params, errors);

    Some(Handler {
        name,
        path,
        unbound_path_params,
        methods,
        public: args.public.is_present(),
        can_do,
        perm_required: args.perm_required.is_present(),
        project,
        project_required: args.project_required.is_present(),
        public_objects: args.public_objects.is_present(),
        model: args.model,
        index_field: args.index_field.map(|f| f.value()),
        tags,
        summary: args.summary.map(|s| s.value()),
        description: doc_comment(function),
        deprecated: args.deprecated.is_present(),
        body_limit: args.body_limit,
        errors: args.errors,
        openapi: args.openapi,
        args: handler_args,
        params,
        ret: signature::return_kind(&sig.output),
        fn_span: sig.ident.span(),
    })
}

/// A handler taking a `WebSocketUpgrade` is a WebSocket endpoint: the upgrade is a GET,
/// so `method = GET` and nothing else. (The runtime checks it again at start-up, since
/// a type alias hides the name from the macro.)
fn websocket_methods(args: &HandlerArgs, methods: &[String], params: &[Param], errors: &mut Errors) {
    let Some(upgrade) = params.iter().find(|p| signature::is_named(&p.ty, "WebSocketUpgrade")) else { return };
    if methods == ["GET"] {
        return;
    }
    let help = "  help: declare `method = GET` (the upgrade request); other methods belong to another endpoint";
    match args.methods.as_ref().or(args.method.as_ref()) {
        Some(list) => errors.at(
            list.span.unwrap_or_else(Span::call_site),
            format!("a WebSocket endpoint answers GET only, not {}\n{help}", methods.join(", ")),
        ),
        None => errors.at(
            upgrade.ty.span(),
            format!("a WebSocket endpoint (this `WebSocketUpgrade` argument) must declare `method = GET`\n{help}"),
        ),
    }
}

/// An `async fn` without generics (the route must know its types).
fn signature_shape(sig: &syn::Signature, errors: &mut Errors) {
    if sig.asyncness.is_none() {
        errors.at(sig.fn_token.span, "#[request_handler] functions must be `async fn`");
    }
    if let Some(generic) = sig.generics.params.first() {
        errors.at(
            generic.span(),
            "#[request_handler] functions cannot be generic: the route would not know which type to use\n  help: use concrete types",
        );
    }
}

/// `path = ".."` or its alias `url = ".."` (both only if equal).
fn path_literal<'a>(args: &'a HandlerArgs, errors: &mut Errors) -> Option<&'a LitStr> {
    match (&args.path, &args.url) {
        (Some(p), Some(u)) if p.value() != u.value() => {
            errors.at(
                u.span(),
                format!("`path` and `url` are aliases but differ (\"{}\" vs \"{}\"): give one", p.value(), u.value()),
            );
            Some(p)
        }
        (Some(p), _) => Some(p),
        (None, u) => u.as_ref(),
    }
}

/// `name = ".."`, or the function's name.
fn endpoint_name(args: &HandlerArgs, sig: &syn::Signature, errors: &mut Errors) -> String {
    let name = args.name.as_ref().map(|n| n.value()).unwrap_or_else(|| sig.ident.to_string());
    if name.trim().is_empty()
        && let Some(n) = &args.name
    {
        errors.at(n.span(), "`name` cannot be empty");
    }
    name
}

/// The `can_do` codenames (lower-cased), with what a failed check does and the keys
/// that only make sense with a model.
fn permissions(args: &HandlerArgs, errors: &mut Errors) -> Vec<String> {
    let mut can_do = Vec::new();
    for w in args.can_do.iter().flat_map(|l| &l.words) {
        if codename_ok(&w.text) {
            can_do.push(w.text.to_ascii_lowercase());
        } else {
            errors.at(
                w.span,
                format!(
                    "invalid permission codename `{}`\n  help: write `action`, `app.action` or `role:<name>`",
                    w.text
                ),
            );
        }
    }
    if let Some(list) = &args.can_do
        && list.words.is_empty()
    {
        errors.at(list.span.unwrap_or_else(Span::call_site), "`can_do` cannot be empty");
    }
    // Judged on what was written: an invalid codename has its own error.
    if args.perm_required.is_present() && args.can_do.as_ref().is_none_or(|l| l.words.is_empty()) {
        errors.at(
            args.perm_required.span(),
            "`perm_required` needs `can_do = ..`: without permissions to check it would deny every request",
        );
    }
    if let (Some(field), None) = (&args.index_field, &args.model) {
        errors.at(field.span(), "`index_field` needs `model = ..`");
    }
    permission_mode(args, errors);
    can_do
}

/// Every argument: plain names and concrete types, each with its parameter spec. Returns
/// the call's arguments and the specs.
fn arguments(
    sig: &syn::Signature,
    param_attrs: Vec<Option<(ParamArgs, Span)>>,
    path_params: &[String],
    errors: &mut Errors,
) -> (Vec<Arg>, Vec<Param>) {
    let mut args = Vec::new();
    let mut params: Vec<Param> = Vec::new();
    for (input, attr) in sig.inputs.iter().zip(param_attrs) {
        let Some((ident, ty)) = argument(input, errors) else { continue };
        let param = param(&ident, ty, attr, path_params, errors);
        if params.iter().any(|p| p.name == param.name) {
            errors.at(ident.span(), format!("two parameters are named `{}`", param.name));
        }
        args.push(Arg::Param(params.len()));
        params.push(param);
    }
    (args, params)
}

/// An argument's name and type, or `None` after recording why it cannot be one.
fn argument<'a>(input: &'a FnArg, errors: &mut Errors) -> Option<(Ident, &'a Type)> {
    let arg = match input {
        FnArg::Receiver(r) => {
            errors.at(
                r.self_token.span,
                "#[request_handler] functions cannot take `self`\n  help: make it a free function outside the `impl` block",
            );
            return None;
        }
        FnArg::Typed(arg) => arg,
    };
    let ident = match &*arg.pat {
        Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => p.ident.clone(),
        other => {
            errors.at(other.span(), "handler arguments must be plain names (`title: String`)");
            return None;
        }
    };
    let ty = &*arg.ty;
    if signature::contains_impl_trait(ty) {
        errors.at(
            ty.span(),
            "handler arguments cannot be `impl Trait`: nets must know the type to read it\n  help: use a concrete type",
        );
        return None;
    }
    Some((ident, ty))
}

/// Every `{name}` needs an argument, except the model's index field, which the pipeline
/// reads itself: those are returned.
fn unbound_path_params(
    args: &HandlerArgs,
    path_lit: Option<&LitStr>,
    template: &[path::PathParam],
    params: &[Param],
    errors: &mut Errors,
) -> Vec<String> {
    let mut unbound = Vec::new();
    for p in template {
        let name = &p.name;
        if params.iter().any(|param| &param.name == name) {
            continue;
        }
        let is_index = args.model.is_some() && args.index_field.as_ref().is_none_or(|f| f.value() == *name);
        if is_index {
            unbound.push(name.clone());
        } else if let Some(lit) = path_lit {
            path::report(
                errors,
                lit,
                &lit.value(),
                p.start,
                p.end,
                &format!("path parameter {{{name}}} has no matching argument"),
                &format!("add an argument `{name}: <type>`, or rename one with #[param(rename = \"{name}\")]"),
            );
        }
    }
    unbound
}

/// One argument's spec: its name, where it is read, its kind and rules.
fn param(
    ident: &Ident,
    ty: &Type,
    attr: Option<(ParamArgs, Span)>,
    path_params: &[String],
    errors: &mut Errors,
) -> Param {
    let attributed = attr.is_some();
    let mut options = attr.map(|(o, _)| o).unwrap_or_default();
    let name = param_name(ident, &options, errors);
    let optional_inner = signature::option_inner(ty);
    let location = param_location(&options, &name, path_params);
    let kind = param_kind(&options, optional_inner.map(|_| ty), attributed, errors);
    if location == ParamLocation::Path {
        path_param_presence(&name, ty, &kind, &options, errors);
    }
    let inner = optional_inner.unwrap_or(ty).clone();
    let rules = options.validate.take().map(|v| rules(v.value, errors)).unwrap_or_default();
    let filetypes = file_types(options.filetypes.take(), &inner, errors);
    key_fit(&options, &kind, errors);
    let ParamArgs { description, name_from, describe, secret, allow_empty, .. } = options;
    Param {
        name,
        ty: inner,
        kind,
        location,
        rules,
        filetypes,
        description: description.map(|d| d.value()),
        name_from,
        describe,
        secret: secret.is_present(),
        allow_empty: allow_empty.is_present(),
    }
}

/// `rename = ".."`, or the argument's name (without `r#`).
fn param_name(ident: &Ident, options: &ParamArgs, errors: &mut Errors) -> String {
    match &options.rename {
        Some(r) if r.value().trim().is_empty() => {
            errors.at(r.span(), "`rename` cannot be empty");
            ident.to_string()
        }
        Some(r) => r.value(),
        None => ident.to_string().trim_start_matches("r#").to_owned(),
    }
}

/// Where the value is read: the body, the undeclared keys, the path or the input.
fn param_location(options: &ParamArgs, name: &str, path_params: &[String]) -> ParamLocation {
    if options.body.is_present() {
        ParamLocation::Body
    } else if options.rest.is_present() {
        ParamLocation::Rest
    } else if path_params.iter().any(|p| p == name) {
        ParamLocation::Path
    } else {
        ParamLocation::Input
    }
}

/// How the value is read; `body` and `rest` take no per-value options.
/// `optional`: the whole `Option<..>` type, when the argument is one.
fn param_kind(options: &ParamArgs, optional: Option<&Type>, attributed: bool, errors: &mut Errors) -> ParamKind {
    let clashes = [
        (options.default.as_ref().map(|d| d.key), "default", "remove `default`"),
        (options.validate.as_ref().map(|v| v.key), "validate", "remove `validate(..)`"),
        (options.filetypes.as_ref().map(|f| f.span.unwrap_or_else(Span::call_site)), "filetypes", "remove `filetypes`"),
    ];
    let option = optional.map(Spanned::span);
    if options.body.is_present() {
        let option = [(option, "Option<..>", "take the struct itself: a request without it is refused (400)")];
        for (span, key, help) in clashes.iter().chain(&option).filter_map(|(s, k, h)| s.map(|s| (s, k, h))) {
            errors.at(
                span,
                format!("`body` parameters are validated by their own `Validate` derive: `{key}` does not apply\n  help: {help}"),
            );
        }
        return ParamKind::Body;
    }
    if options.rest.is_present() {
        let naming = [
            (options.rename.as_ref().map(LitStr::span), "rename", "remove `rename`"),
            (options.name_from.as_ref().map(Spanned::span), "name_from", "remove `name_from`"),
            (option, "Option<..>", "take the map itself: it is empty when no other key was sent"),
        ];
        for (span, key, help) in clashes.iter().chain(&naming).filter_map(|(s, k, h)| s.map(|s| (s, k, h))) {
            errors.at(
                span,
                format!("`rest` takes every undeclared key as it is: `{key}` does not apply\n  help: {help}"),
            );
        }
        return ParamKind::Rest;
    }
    match (&options.default, optional.is_some()) {
        (Some(d), true) => {
            errors.at(d.key, "an `Option<..>` parameter is already optional: remove `default` or the `Option`");
            ParamKind::Optional
        }
        (Some(d), false) => ParamKind::Default(d.value.0.clone()),
        (None, true) => ParamKind::Optional,
        (None, false) if !attributed => ParamKind::Plain,
        (None, false) => ParamKind::Required,
    }
}

/// A path parameter is always present: no default, no `Option`.
fn path_param_presence(name: &str, ty: &Type, kind: &ParamKind, options: &ParamArgs, errors: &mut Errors) {
    match (kind, &options.default) {
        (ParamKind::Default(_), Some(d)) => errors.at(
            d.key,
            format!("path parameter `{name}` is always present: it cannot have a default\n  help: remove `default`"),
        ),
        (ParamKind::Optional, _) => errors.at(
            ty.span(),
            format!("path parameter `{name}` is always present: it cannot be optional\n  help: remove the `Option`"),
        ),
        _ => {}
    }
}

/// Keys that apply to some kinds only: `describe` to parameters (a `body` structure is
/// documented by its own `ToSchema`), `allow_empty` to required parameters.
fn key_fit(options: &ParamArgs, kind: &ParamKind, errors: &mut Errors) {
    if let (Some(describe), true) = (&options.describe, options.body.is_present()) {
        errors.at(
            describe.span(),
            "a `body` structure is documented by its own schema (`#[derive(utoipa::ToSchema)]`): remove `describe`",
        );
    }
    if options.allow_empty.is_present() && !matches!(kind, ParamKind::Required) {
        errors.at(
            options.allow_empty.span(),
            "`allow_empty` applies to required parameters (optional ones and defaults already accept `\"\"`)",
        );
    }
}

/// `validate(..)`: rules no value could pass are refused.
fn rules(v: ValidateArgs, errors: &mut Errors) -> Rules {
    let mut rules = Rules { email: v.email.is_present(), url: v.url.is_present(), ..Rules::default() };
    if let Some(Keyed { value: l, key }) = v.length {
        if l.min.is_none() && l.max.is_none() && l.equal.is_none() {
            errors.at(key, "`length` needs `min`, `max` or `equal`, e.g. `length(min = 1, max = 80)`");
        }
        if let (Some(lo), Some(hi)) = (l.min, l.max)
            && lo > hi
        {
            errors.at(key, format!("`length` min ({lo}) is greater than max ({hi}): no value can pass"));
        }
        rules.length = Some((l.min, l.max, l.equal));
    }
    if let Some(Keyed { value: r, key }) = v.range {
        if r.min.is_none() && r.max.is_none() && r.exclusive_min.is_none() && r.exclusive_max.is_none() {
            errors.at(key, "`range` needs `min`, `max`, `exclusive_min` or `exclusive_max`, e.g. `range(min = 0)`");
        }
        if let (Some(lo), Some(hi)) = (&r.min, &r.max)
            && lo.value > hi.value
        {
            errors.at(key, format!("`range` min ({}) is greater than max ({}): no value can pass", lo.value, hi.value));
        }
        rules.range = Some(r);
    }
    if let Some(pattern) = v.regex {
        if let Err(e) = regex::Regex::new(&pattern.value()) {
            errors.at(pattern.span(), format!("invalid regular expression: {e}"));
        }
        rules.regex = Some(pattern.value());
    }
    rules.custom = v.custom.into_iter().map(|c| (c.function, c.use_ctx.is_present())).collect();
    rules
}

/// `filetypes = [..]`, which only an `UploadedFile` has.
fn file_types(list: Option<WordList>, inner: &Type, errors: &mut Errors) -> Vec<String> {
    let filetypes: Vec<String> = list.map(|l| l.words.into_iter().map(|w| w.text).collect()).unwrap_or_default();
    if !filetypes.is_empty() && !signature::is_named(inner, "UploadedFile") {
        errors.at(
            inner.span(),
            "`filetypes` applies to `UploadedFile` parameters\n  help: take the argument as `UploadedFile` (or `Option<UploadedFile>`), or remove `filetypes`",
        );
    }
    filetypes
}

#[cfg(test)]
mod tests;
