//! The OpenAPI 3.1 document, built with utoipa from the same registry as the router.
//!
//! For each endpoint and method: `operationId` `<name>_<method>`, parameters (path, and
//! query for GET/HEAD) or a request body (JSON, form and multipart for other methods)
//! with types, required flags, defaults and the `#[param(validate(..))]` constraints;
//! the responses nets can produce (200 envelope, 400 with `errors`, 401 and the bearer
//! security requirement on private operations, 403 with `can_do`, 404 with `model`,
//! 405, 413, 415); tags; and the `x-nets-route-name` / `x-nets-view` extensions.

use serde_json::{Value, json};
use utoipa::openapi::content::ContentBuilder;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ComponentsBuilder, KnownFormat, ObjectBuilder, Schema, SchemaFormat,
    SchemaType, Type,
};
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{Deprecated, InfoBuilder, OpenApi, OpenApiBuilder, PathsBuilder, Ref, RefOr, Required};

use crate::{ApiError, App, Settings};
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, OnceLock};

use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get};

use crate::params::{ParamSchema, Rule, SchemaKind};
use crate::precompressed::Precompressed;
use crate::routing::{ArgKind, Endpoint, Location, Method, ModuleFilter, select, selected_by};
use crate::security_headers::SecurityHeaders;

pub use crate::params::SchemaSink;
/// What an endpoint's `openapi = f` adjusts (`fn(&mut Operation, &mut Components)`).
pub use utoipa::openapi::{Components, path::Operation};

pub(crate) const BEARER: &str = "bearerAuth";

const JSON: axum::http::HeaderValue = axum::http::HeaderValue::from_static("application/json");

/// Merges a rest parameter's described keys (`properties`, `required`,
/// `additionalProperties`) into the body object; a description that does not parse as
/// a schema is left out with a warning.
fn with_described(body: utoipa::openapi::schema::Object, described: Option<Value>) -> utoipa::openapi::schema::Object {
    let Some(described) = described else { return body };
    let mut merged = match serde_json::to_value(&body) {
        Ok(v) => v,
        Err(_) => return body,
    };
    for key in ["properties", "required"] {
        match (merged.get_mut(key), described.get(key)) {
            (Some(Value::Object(mine)), Some(Value::Object(theirs))) => {
                mine.extend(theirs.iter().map(|(k, v)| (k.clone(), v.clone())))
            }
            (Some(Value::Array(mine)), Some(Value::Array(theirs))) => mine.extend(theirs.iter().cloned()),
            (None, Some(theirs)) => merged[key] = theirs.clone(),
            _ => {}
        }
    }
    if let Some(extra) = described.get("additionalProperties") {
        merged["additionalProperties"] = extra.clone();
    }
    serde_json::from_value(merged).unwrap_or_else(|e| {
        tracing::warn!(error = %e, "a rest parameter's description is not a JSON Schema object: left out");
        body
    })
}

/// A parameter's `describe = f` schema in `app`; `None` without an app, when `f` gives
/// none, or (with a warning) when what it gives is not a JSON Schema.
fn described_schema(describe: Option<fn(&App) -> Option<Value>>, app: Option<&App>) -> Option<RefOr<Schema>> {
    let value = describe.zip(app).and_then(|(describe, app)| describe(app))?;
    serde_json::from_value(value)
        .inspect_err(|e| tracing::warn!(error = %e, "a parameter's description is not a JSON Schema: left out"))
        .ok()
}

pub(crate) const ERROR_SCHEMA: &str = "NetsError";

/// Builds the document of every registered endpoint in `NETS_CORE_OPENAPI_MODULES`
/// (all of them when that setting is empty).
///
/// ```
/// let doc = nets_runtime::build_openapi(&nets_runtime::Settings::default());
/// assert_eq!(doc.info.title, "NETS CORE API");
/// ```
pub fn build_openapi(settings: &Settings) -> OpenApi {
    build_openapi_for(settings, None, &documented(settings, select(&[])))
}

/// The endpoints `NETS_CORE_OPENAPI_MODULES` lets through (all when it is empty). The
/// installed modules' endpoints are always documented: the setting narrows the app's own.
fn documented(settings: &Settings, endpoints: Vec<&'static Endpoint>) -> Vec<&'static Endpoint> {
    let filters: Vec<ModuleFilter> = settings.openapi_modules.iter().map(ModuleFilter::absolute).collect();
    endpoints.into_iter().filter(|e| e.is_builtin() || selected_by(&filters, e)).collect()
}

/// `GET /openapi.json`: the document describes exactly what the app serves (narrowed by
/// `NETS_CORE_OPENAPI_MODULES`), plus the documents of its hand-written routes. It is
/// built on first request and then served from memory, its answers complete (`security`
/// headers, request id) without nets' middleware.
pub(crate) fn route(app: &App, security: Option<SecurityHeaders>) -> MethodRouter {
    let cache: Arc<OnceLock<Precompressed>> = Arc::new(OnceLock::new());
    let app = app.clone();
    let refused = security.clone();
    // The whole request, not a `HeaderMap` argument: that would copy every header.
    get(move |request: axum::extract::Request| {
        let json = || Precompressed::new(to_json(&app.openapi(), false), JSON.clone(), true, security.clone());
        // Outside the middleware, which turns panics into a JSON 500: building the
        // document is nets' code, but a bug there must not drop the connection either.
        let answer = std::panic::catch_unwind(AssertUnwindSafe(|| cache.get_or_init(json).answer(request.headers())));
        let answer = answer.unwrap_or_else(|_| {
            let failed = ApiError::internal("building the OpenAPI document panicked");
            completed(failed.into_response(), security.as_ref(), request.headers())
        });
        async move { answer }
    })
    .fallback(move |request: axum::extract::Request| {
        let refusal = ApiError::MethodNotAllowed { allow: "GET, HEAD".into() }.into_response();
        let answer = completed(refusal, refused.as_ref(), request.headers());
        async move { answer }
    })
}

/// `answer` with the headers nets' middleware would have added (security headers, the
/// request id of a request with `headers`).
fn completed(mut answer: Response, security: Option<&SecurityHeaders>, headers: &HeaderMap) -> Response {
    crate::middleware::finish(answer.headers_mut(), security, Some(crate::request_id::of(headers)));
    answer
}

/// The document `app` serves (see [`App::openapi`]).
pub(crate) fn document_of(app: &App) -> OpenApi {
    let selected = documented(app.settings(), app.endpoints().collect());
    let mut doc = build_openapi_for(app.settings(), Some(app), &selected);
    for extra in app.documents() {
        doc.merge(extra.clone());
    }
    doc
}

/// The document of `endpoints`; with the `app`, rest parameters described by it
/// (`#[param(rest, describe = ..)]`) list the keys they take there.
pub(crate) fn build_openapi_for(settings: &Settings, app: Option<&App>, endpoints: &[&'static Endpoint]) -> OpenApi {
    let mut sink = SchemaSink::default();
    let mut paths = PathsBuilder::new();
    let mut tags: Vec<String> = Vec::new();
    let mut by_path: Vec<(String, PathItem)> = Vec::new();

    for e in endpoints {
        let path = e.route_path();
        for &method in e.methods() {
            let op = operation(e, method, settings, app, &mut sink, &mut tags);
            let item = PathItem::new(http_method(method), op);
            match by_path.iter_mut().find(|(p, _)| *p == path) {
                Some((_, existing)) => existing.merge_operations(item),
                None => by_path.push((path.clone(), item)),
            }
        }
    }
    by_path.push(("/openapi.json".into(), openapi_self_item()));
    for (path, item) in by_path {
        paths = paths.path(path, item);
    }

    let any = RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(SchemaType::AnyValue).build()));
    let mut components = ComponentsBuilder::new()
        .schema(ERROR_SCHEMA, error_schema())
        .schema(SUCCESS_SCHEMA, envelope(any))
        .security_scheme(BEARER, SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
    let bodies = sink.bodies;
    for (name, schema) in sink.schemas {
        components = components.schema(name, schema);
    }
    for (name, description) in SHARED_RESPONSES {
        components = components.response(name, error_response(description));
    }

    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title(settings.openapi_title.clone())
                .version(settings.openapi_version.clone())
                .description(Some(settings.openapi_description.clone())),
        )
        .paths(paths)
        .components(Some(components.build()))
        .tags(Some(tags.into_iter().map(|t| TagBuilder::new().name(t).build())))
        .build();
    adjust_operations(&mut doc, endpoints);
    drop_unused_bodies(&mut doc, &bodies);
    doc
}

/// Removes the request-body components (`bodies`) that no request body refers to any
/// more (an endpoint's `openapi = f` replaced its body).
fn drop_unused_bodies(doc: &mut OpenApi, bodies: &[String]) {
    let Some(components) = doc.components.as_mut() else { return };
    let used: std::collections::HashSet<String> = doc
        .paths
        .paths
        .values()
        .flat_map(|item| [&item.get, &item.put, &item.post, &item.delete, &item.options, &item.head, &item.patch])
        .flatten()
        .filter_map(|op| op.request_body.as_ref())
        .flat_map(|body| body.content.values())
        .filter_map(|content| match &content.schema {
            Some(RefOr::Ref(r)) => Some(r.ref_location.clone()),
            _ => None,
        })
        .collect();
    for name in bodies {
        if !used.contains(&Ref::from_schema_name(name.as_str()).ref_location) {
            components.schemas.remove(name);
        }
    }
}

/// Runs each endpoint's `openapi = f` over its generated operations.
fn adjust_operations(doc: &mut OpenApi, endpoints: &[&'static Endpoint]) {
    for e in endpoints {
        let Some(adjust) = e.openapi else { continue };
        let components = doc.components.get_or_insert_with(Default::default);
        let Some(item) = doc.paths.paths.get_mut(&e.route_path()) else { continue };
        for &method in e.methods() {
            let slot = match method {
                Method::Get => &mut item.get,
                Method::Post => &mut item.post,
                Method::Put => &mut item.put,
                Method::Patch => &mut item.patch,
                Method::Delete => &mut item.delete,
                Method::Head => &mut item.head,
                Method::Options => &mut item.options,
            };
            if let Some(operation) = slot {
                adjust(operation, components);
            }
        }
    }
}

fn http_method(m: Method) -> HttpMethod {
    match m {
        Method::Get => HttpMethod::Get,
        Method::Post => HttpMethod::Post,
        Method::Put => HttpMethod::Put,
        Method::Patch => HttpMethod::Patch,
        Method::Delete => HttpMethod::Delete,
        Method::Head => HttpMethod::Head,
        Method::Options => HttpMethod::Options,
    }
}

fn operation(
    e: &Endpoint,
    method: Method,
    settings: &Settings,
    app: Option<&App>,
    sink: &mut SchemaSink,
    all_tags: &mut Vec<String>,
) -> utoipa::openapi::path::Operation {
    let op_tags: Vec<String> = if e.tags.is_empty() {
        settings.openapi_tags.clone()
    } else {
        e.tags.iter().map(|t| (*t).to_owned()).collect()
    };
    for t in &op_tags {
        if !all_tags.contains(t) {
            all_tags.push(t.clone());
        }
    }
    let mut description = e.description.map(str::to_owned).unwrap_or_default();
    if !e.can_do.is_empty() {
        if !description.is_empty() {
            description.push_str("\n\n");
        }
        description.push_str(&format!("Requires permission: `{}`.", e.can_do.join("`, `")));
    }
    let mut extensions = ExtensionsBuilder::new()
        .add("x-nets-route-name", e.name)
        .add("x-nets-view", format!("{}::{}", e.module_path, e.function));
    if !e.can_do.is_empty() {
        extensions = extensions.add("x-nets-permissions", json!(e.can_do));
    }
    if let Some(project) = e.project {
        extensions = extensions.add("x-nets-project", project);
    }
    let websocket = e.params.iter().any(|p| p.kind == ArgKind::WebSocket);
    if websocket {
        extensions = extensions.add("x-nets-websocket", websocket_extension(e.public));
    }

    let operation_id = format!("{}_{}", e.name.replace('-', "_"), method.as_str().to_ascii_lowercase());
    let mut op = OperationBuilder::new()
        .operation_id(Some(operation_id.clone()))
        .tags(Some(op_tags))
        .summary(e.summary)
        .description((!description.is_empty()).then_some(description))
        .extensions(Some(extensions.build()));
    if e.deprecated {
        op = op.deprecated(Some(Deprecated::True));
    }

    let mut body = ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object));
    let mut body_has_fields = false;
    let mut has_file = false;
    let mut whole_body: Option<RefOr<Schema>> = None;
    let mut free_form = false;
    let mut described: Option<Value> = None;
    let mut seen: Vec<&str> = Vec::new();
    for p in e.params {
        // The context, the model and state are not parameters; a `name_from` parameter
        // has the name the settings give it (or does not exist under them).
        let Some(name) = p.name_in(settings) else { continue };
        if seen.contains(&name) {
            continue;
        }
        seen.push(name);
        if p.location == Location::Rest {
            described = p.describe.zip(app).and_then(|(describe, app)| describe(app));
            free_form = described.is_none();
            continue;
        }
        let mut schema = (p.schema)();
        apply_rules(&mut schema, p.rules);
        // A required value must be a value: `""` (and `[]`) count as missing. (A path
        // segment is never empty.)
        let emptiable = matches!(schema.kind, SchemaKind::String | SchemaKind::Array)
            && schema.format.is_none()
            && p.location == Location::Input;
        if p.required && !p.allow_empty && emptiable && schema.min_length.is_none() {
            schema.min_length = Some(1);
        }
        let default = p.default.and_then(|f| f());
        // Objects travel JSON-encoded in the query string; say so, or generated clients
        // would explode them into `?key=value` pairs the server rejects.
        let json_in_query = p.location == Location::Input
            && method.uses_query()
            && matches!(schema.kind, SchemaKind::Object | SchemaKind::Any);
        let rendered = match described_schema(p.describe, app) {
            // The app's own schema for the parameter (one that depends on its settings).
            Some(schema) => schema,
            None if json_in_query => json_in_string(default),
            None => render(&schema, default),
        };
        has_file |=
            schema.kind == SchemaKind::File || schema.items.as_ref().is_some_and(|i| i.kind == SchemaKind::File);
        match p.location {
            Location::Path => {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Path)
                        .required(Required::True)
                        .description(p.description)
                        .schema(Some(rendered)),
                );
            }
            Location::Input if method.uses_query() => {
                op = op.parameter(
                    ParameterBuilder::new()
                        .name(name)
                        .parameter_in(ParameterIn::Query)
                        .required(if p.required { Required::True } else { Required::False })
                        .description(p.description)
                        .schema(Some(rendered)),
                );
            }
            Location::Input => {
                body = body.property(name, rendered);
                if p.required {
                    body = body.required(name);
                }
                body_has_fields = true;
            }
            Location::Rest => {}
            Location::Body => {
                whole_body = p.body_schema.and_then(|f| f(sink)).or(Some(RefOr::T(Schema::Object(
                    ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).build(),
                ))));
            }
        }
    }
    // A `Page` argument reads two keys (and the original's alias of the second).
    if e.params.iter().any(|p| p.kind == ArgKind::Page) {
        let integer = |default: u64, max: Option<u64>| {
            RefOr::T(Schema::Object(
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Integer))
                    .minimum(Some(1))
                    .maximum(max)
                    .default(Some(json!(default)))
                    .build(),
            ))
        };
        let size_max = settings.page_size_max.max(1);
        let keys = [
            ("page", integer(1, None), "The page, from 1.", false),
            ("page_size", integer(settings.page_size.max(1), Some(size_max)), "Items per page.", false),
            (
                "paginated_by",
                integer(settings.page_size.max(1), Some(size_max)),
                "The original's name of page_size.",
                true,
            ),
        ];
        for (name, schema, description, deprecated) in keys {
            if method.uses_query() {
                let mut parameter = ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(description))
                    .schema(Some(schema));
                if deprecated {
                    parameter = parameter.deprecated(Some(Deprecated::True));
                }
                op = op.parameter(parameter);
            } else {
                body = body.property(name, schema);
                body_has_fields = true;
            }
        }
    }
    // A project scope reads its parameter even when the handler does not take it.
    if let Some(name) = e.project.filter(|name| !e.params.iter().any(|p| p.name_in(settings) == Some(*name))) {
        let schema = RefOr::T(Schema::Object(
            ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)).minimum(Some(1)).build(),
        ));
        let required = if e.project_required { Required::True } else { Required::False };
        let description = Some("The project the request acts in (the caller must be a member)");
        if method.uses_query() {
            op = op.parameter(
                ParameterBuilder::new()
                    .name(name)
                    .parameter_in(ParameterIn::Query)
                    .required(required)
                    .description(description)
                    .schema(Some(schema)),
            );
        } else {
            body = body.property(name, schema);
            if e.project_required {
                body = body.required(name);
            }
            body_has_fields = true;
        }
    }
    if !method.uses_query() {
        let schema: Option<RefOr<Schema>> = match whole_body {
            Some(s) => Some(s),
            None if body_has_fields || free_form || described.is_some() => {
                // `#[param(rest)]`: keys beyond the declared ones are welcome, or those the
                // app describes.
                let body = if free_form {
                    body.additional_properties(Some(AdditionalProperties::FreeForm(true)))
                } else {
                    body
                };
                Some(RefOr::T(Schema::Object(with_described(body.build(), described.take()))))
            }
            None => None,
        };
        if let Some(schema) = schema {
            let required = e
                .params
                .iter()
                .any(|p| p.required && p.is_param() && !matches!(p.location, Location::Path | Location::Rest));
            let mut rb =
                RequestBodyBuilder::new().required(Some(if required { Required::True } else { Required::False }));
            let types: &[&str] = if has_file {
                &["multipart/form-data"]
            } else {
                &["application/json", "application/x-www-form-urlencoded", "multipart/form-data"]
            };
            // One schema for the three media types: a component named after the
            // operation, referenced three times, rather than three copies.
            let schema = match schema {
                RefOr::T(inline) if types.len() > 1 => {
                    let name = format!("{operation_id}{BODY_SUFFIX}");
                    sink.schemas.push((name.clone(), RefOr::T(inline)));
                    sink.bodies.push(name.clone());
                    RefOr::Ref(Ref::from_schema_name(name))
                }
                schema => schema,
            };
            for t in types {
                rb = rb.content(*t, ContentBuilder::new().schema(Some(schema.clone())).build());
            }
            op = op.request_body(Some(rb.build()));
        }
    }

    if websocket {
        op = op.parameter(
            ParameterBuilder::new()
                .name("ticket")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "A single-use ticket from `POST /ws/ticket/`, for browsers (which cannot send `Authorization`).",
                ))
                .schema(Some(RefOr::T(Schema::Object(
                    ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)).build(),
                )))),
        );
        op = op.response("101", ResponseBuilder::new().description("Switching Protocols: the WebSocket is open"));
    } else {
        let data = e.data_schema.and_then(|f| f(sink));
        op = op.response(
            "200",
            ResponseBuilder::new()
                .description("Success: `{\"res\": 1, \"data\": ..}`")
                .content("application/json", ContentBuilder::new().schema(Some(success_schema(data))).build()),
        );
    }
    op = op.response("400", shared_response(BAD_REQUEST));
    if !e.public {
        op = op.response("401", shared_response(UNAUTHORIZED));
        op = op.security(SecurityRequirement::new(BEARER, Vec::<String>::new()));
    }
    if !e.can_do.is_empty() || e.perm_required || e.project.is_some() {
        op = op.response("403", shared_response(FORBIDDEN));
    }
    if e.model.is_some() {
        op = op.response("404", shared_response(NOT_FOUND));
    }
    op = op.response("405", shared_response(METHOD_NOT_ALLOWED));
    if !method.uses_query() {
        op = op.response("413", shared_response(TOO_LARGE));
        op = op.response("415", shared_response(UNSUPPORTED_TYPE));
    }
    op.build()
}

/// `x-nets-websocket`: how a client opens the socket and what its close codes mean.
/// OpenAPI 3.1 has no WebSocket operations; the upgrade is a GET, documented as one.
fn websocket_extension(public: bool) -> Value {
    json!({
        "protocol": "websocket",
        "credentials": {
            "required": !public,
            "header": "Authorization: Bearer <access token> (native clients)",
            "query": "ticket=<single-use ticket from POST /ws/ticket/> (browsers); access tokens are never accepted in the URL",
        },
        "close_codes": {
            "1000": "the server's handler finished",
            "1001": "idle timeout (no frame nor pong from the client), or the server is shutting down",
            "1008": "the client reads too slowly (its send queue is full)",
            "1009": "a message over the size limit",
            "4401": "the access token was revoked or expired",
        },
    })
}

fn openapi_self_item() -> PathItem {
    let op = OperationBuilder::new()
        .operation_id(Some("openapi_schema_get"))
        .summary(Some("This OpenAPI document"))
        .extensions(Some(
            ExtensionsBuilder::new()
                .add("x-nets-route-name", "openapi_schema")
                .add("x-nets-view", "nets_runtime::openapi")
                .build(),
        ))
        .response(
            "200",
            ResponseBuilder::new().description("The OpenAPI 3.1 document").content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(RefOr::T(Schema::Object(
                        ObjectBuilder::new().schema_type(SchemaType::Type(Type::Object)).build(),
                    ))))
                    .build(),
            ),
        )
        .response("405", shared_response(METHOD_NOT_ALLOWED))
        .build();
    PathItem::new(HttpMethod::Get, op)
}

/// The error responses every operation shares, in `components/responses` (name,
/// description): each operation refers to them instead of repeating them.
const BAD_REQUEST: (&str, &str) =
    ("NetsBadRequest", "Bad request: missing or invalid parameters (`errors` names each field)");
const UNAUTHORIZED: (&str, &str) = ("NetsUnauthorized", "Authentication required (`WWW-Authenticate: Bearer`)");
const FORBIDDEN: (&str, &str) = ("NetsForbidden", "Permission denied");
const NOT_FOUND: (&str, &str) = ("NetsNotFound", "Not found (or not yours)");
const METHOD_NOT_ALLOWED: (&str, &str) = ("NetsMethodNotAllowed", "Method not allowed (`Allow` lists the methods)");
const TOO_LARGE: (&str, &str) = ("NetsPayloadTooLarge", "Request body too large");
const UNSUPPORTED_TYPE: (&str, &str) = ("NetsUnsupportedMediaType", "Unsupported body content type");
const SHARED_RESPONSES: [(&str, &str); 7] =
    [BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND, METHOD_NOT_ALLOWED, TOO_LARGE, UNSUPPORTED_TYPE];

/// The suffix of the request-body schemas in `components/schemas`.
const BODY_SUFFIX: &str = "_body";

/// The success envelope with any `data`, in `components/schemas`.
const SUCCESS_SCHEMA: &str = "NetsSuccess";

fn shared_response((name, _): (&str, &str)) -> RefOr<utoipa::openapi::Response> {
    RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new().schema(Some(RefOr::Ref(Ref::from_schema_name(ERROR_SCHEMA)))).build(),
        )
        .build()
}

fn error_schema() -> Schema {
    let list = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)));
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property("res", ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)).enum_values(Some([0])))
            .required("res")
            .property("message", ObjectBuilder::new().schema_type(SchemaType::Type(Type::String)))
            .required("message")
            .property(
                "data",
                ObjectBuilder::new().schema_type(SchemaType::Type(Type::Null)).description(Some("Always null")),
            )
            .required("data")
            .property(
                "errors",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::Object))
                    .description(Some("Problems per parameter"))
                    .additional_properties(Some(list)),
            )
            .property(
                "request_id",
                ObjectBuilder::new()
                    .schema_type(SchemaType::Type(Type::String))
                    .description(Some("Present on 500 responses")),
            )
            .build(),
    )
}

/// The 200 envelope: the shared [`SUCCESS_SCHEMA`] when `data` has no schema of its own.
fn success_schema(data: Option<RefOr<Schema>>) -> RefOr<Schema> {
    match data {
        Some(data) => RefOr::T(envelope(data)),
        None => RefOr::Ref(Ref::from_schema_name(SUCCESS_SCHEMA)),
    }
}

fn envelope(data: RefOr<Schema>) -> Schema {
    Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::Object))
            .property("res", ObjectBuilder::new().schema_type(SchemaType::Type(Type::Integer)).enum_values(Some([1])))
            .required("res")
            .property("data", data)
            .required("data")
            .property("extra", ObjectBuilder::new().schema_type(SchemaType::AnyValue))
            .build(),
    )
}

/// Adds validation rules to a parameter schema (array length rules apply to the items count).
fn apply_rules(schema: &mut ParamSchema, rules: &[Rule]) {
    for rule in rules {
        match *rule {
            Rule::Email => schema.format = Some("email"),
            Rule::Url => schema.format = Some("uri"),
            Rule::Length { min, max, equal } => {
                schema.min_length = equal.or(min);
                schema.max_length = equal.or(max);
            }
            Rule::Range { min, max, exclusive_min, exclusive_max } => {
                schema.minimum = min.or(schema.minimum.filter(|_| exclusive_min.is_none()));
                schema.maximum = max.or(schema.maximum.filter(|_| exclusive_max.is_none()));
                schema.exclusive_minimum = exclusive_min;
                schema.exclusive_maximum = exclusive_max;
            }
            Rule::Regex(pattern) => schema.pattern = Some(pattern.to_owned()),
            Rule::Custom(_) => {}
        }
    }
}

/// A JSON value carried in a string (`contentMediaType: application/json`).
fn json_in_string(default: Option<Value>) -> RefOr<Schema> {
    let default = default.map(|d| Value::String(d.to_string()));
    RefOr::T(Schema::Object(
        ObjectBuilder::new()
            .schema_type(SchemaType::Type(Type::String))
            .content_media_type("application/json")
            .default(default)
            .build(),
    ))
}

fn known_format(format: &str) -> SchemaFormat {
    match format {
        "int32" => SchemaFormat::KnownFormat(KnownFormat::Int32),
        "int64" => SchemaFormat::KnownFormat(KnownFormat::Int64),
        "float" => SchemaFormat::KnownFormat(KnownFormat::Float),
        "double" => SchemaFormat::KnownFormat(KnownFormat::Double),
        "date" => SchemaFormat::KnownFormat(KnownFormat::Date),
        "date-time" => SchemaFormat::KnownFormat(KnownFormat::DateTime),
        "uuid" => SchemaFormat::KnownFormat(KnownFormat::Uuid),
        "binary" => SchemaFormat::KnownFormat(KnownFormat::Binary),
        other => SchemaFormat::Custom(other.to_owned()),
    }
}

/// Our parameter schema in utoipa's model.
fn render(s: &ParamSchema, default: Option<Value>) -> RefOr<Schema> {
    if s.kind == SchemaKind::Array {
        let items = s.items.as_deref().map_or_else(
            || RefOr::T(Schema::Object(ObjectBuilder::new().schema_type(SchemaType::AnyValue).build())),
            |i| render(i, None),
        );
        let array = ArrayBuilder::new()
            .items(items)
            .min_items(s.min_length.map(|v| v as usize))
            .max_items(s.max_length.map(|v| v as usize))
            .default(default);
        return RefOr::T(Schema::Array(array.build()));
    }
    let schema_type = match s.kind {
        SchemaKind::String | SchemaKind::File => SchemaType::Type(Type::String),
        SchemaKind::Integer => SchemaType::Type(Type::Integer),
        SchemaKind::Number => SchemaType::Type(Type::Number),
        SchemaKind::Boolean => SchemaType::Type(Type::Boolean),
        SchemaKind::Object => SchemaType::Type(Type::Object),
        SchemaKind::Any | SchemaKind::Array => SchemaType::AnyValue,
    };
    let object = ObjectBuilder::new()
        .schema_type(schema_type)
        .format(s.format.map(known_format))
        .pattern(s.pattern.clone())
        .minimum(s.minimum)
        .maximum(s.maximum)
        .exclusive_minimum(s.exclusive_minimum)
        .exclusive_maximum(s.exclusive_maximum)
        .min_length(s.min_length.map(|v| v as usize))
        .max_length(s.max_length.map(|v| v as usize))
        .default(default);
    RefOr::T(Schema::Object(object.build()))
}

/// The JSON text of the document with every object's keys sorted: utoipa keeps
/// extensions (`x-nets-*`) in hash maps, whose order changes from one process to the
/// next, and client generators, caches (the `ETag`) and CI diffs need the same bytes
/// every time. Compact as served at `/openapi.json` (a third smaller than indented);
/// `pretty` for people and diffs (`openapi --out`).
pub(crate) fn to_json(doc: &OpenApi, pretty: bool) -> String {
    let text = serde_json::to_value(doc).and_then(|mut value| {
        sort_keys(&mut value);
        if pretty { serde_json::to_string_pretty(&value) } else { serde_json::to_string(&value) }
    });
    text.unwrap_or_else(|e| {
        tracing::error!(error = %e, "could not serialise the OpenAPI document");
        "{}".to_owned()
    })
}

/// Sorts the keys of every object in `value`, at every depth.
fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}
