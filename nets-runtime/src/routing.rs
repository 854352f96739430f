//! The route registry and the router built from it.
//!
//! Every `#[request_handler]` submits an [`Endpoint`] record through `inventory`. The
//! router ([`build_urlpatterns!`](crate::build_urlpatterns)), the OpenAPI document and
//! [`route_registry`] are all derived from these records, so they cannot disagree.
//!
//! Routing rules:
//! * a method the endpoint does not declare → 405 `{"res":0,"message":"method not allowed","data":null}`
//!   with `Allow` listing the declared methods in declaration order (and `HEAD`, which
//!   is answered wherever `GET` is);
//! * `/login` and `/login/` reach the same handler; the declared form is canonical;
//! * two endpoints claiming the same path and method, or the same name, are a startup
//!   error naming both source locations.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;

use axum::Router;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use serde::Serialize;

use crate::params::{ParamSchema, Rule};
use crate::{ApiError, App};

/// The future a generated endpoint returns.
pub type HandlerFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

/// HTTP methods an endpoint can declare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
#[allow(missing_docs)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
    Head,
    Options,
}

impl Method {
    /// Every method, in the order used when an endpoint declares none.
    pub const ALL: &'static [Method] =
        &[Method::Get, Method::Post, Method::Put, Method::Patch, Method::Delete, Method::Head, Method::Options];

    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
            Method::Head => "HEAD",
            Method::Options => "OPTIONS",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
            Method::Put => MethodFilter::PUT,
            Method::Patch => MethodFilter::PATCH,
            Method::Delete => MethodFilter::DELETE,
            Method::Head => MethodFilter::HEAD,
            Method::Options => MethodFilter::OPTIONS,
        }
    }

    /// Whether parameters of this method come from the query string (no body).
    pub fn uses_query(self) -> bool {
        matches!(self, Method::Get | Method::Head)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a parameter is read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Location {
    /// A `{name}` segment of the path.
    Path,
    /// The query string (GET) or the body (other methods), also the query string.
    Input,
    /// A whole structured body (`#[param(body)]`).
    Body,
    /// Every key no other parameter declared (`#[param(rest)]`).
    Rest,
}

/// What a handler argument is, as its type's [`HandlerArg`](crate::__private::HandlerArg)
/// implementation says. Only parameters are read by name and documented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    /// A request parameter.
    Param,
    /// The request context, [`Ctx`](crate::Ctx).
    Context,
    /// The `model = T` object.
    Model,
    /// Application or module state, [`State<T>`](crate::State).
    State,
    /// The request's headers (`HeaderMap`): kept past extraction only for endpoints
    /// that take them.
    Headers,
    /// A [`Page`](crate::params::Page): the `page` and `page_size` (`paginated_by`)
    /// parameters together.
    Page,
    /// A WebSocket upgrade (`realtime::WebSocketUpgrade`): the endpoint is a WebSocket
    /// endpoint (GET only, authenticated for sockets).
    WebSocket,
}

/// Builds an OpenAPI schema, registering named components in the sink.
#[doc(hidden)]
pub type SchemaFn =
    fn(&mut crate::params::SchemaSink) -> Option<utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>>;

/// `openapi = f` on an endpoint: adjusts its generated operation, once per method, with
/// the document's components at hand (to add a security scheme the operation names).
pub type OperationFn = fn(&mut utoipa::openapi::path::Operation, &mut utoipa::openapi::Components);

/// What the macro records about one parameter.
#[doc(hidden)]
#[derive(Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    /// `#[param(name_from = f)]`: the name depends on the settings (`None`: no such
    /// parameter under them).
    pub name_from: Option<fn(&crate::Settings) -> Option<&'static str>>,
    /// `#[param(secret)]`: refused in the query string (which ends up in logs).
    pub secret: bool,
    /// `#[param(allow_empty)]`: `""` and `[]` count as values of a required parameter.
    pub allow_empty: bool,
    /// `#[param(rest, describe = f)]`: the JSON Schema of the keys a rest parameter takes
    /// in this app (`properties`, `required`, `additionalProperties`), for `/openapi.json`.
    pub describe: Option<fn(&App) -> Option<serde_json::Value>>,
    pub location: Location,
    pub required: bool,
    pub type_name: &'static str,
    pub schema: fn() -> ParamSchema,
    pub default: Option<fn() -> Option<serde_json::Value>>,
    pub rules: &'static [Rule],
    pub filetypes: &'static [&'static str],
    pub body_schema: Option<SchemaFn>,
    pub description: Option<&'static str>,
}

impl ParamSpec {
    /// Whether this argument is a request parameter (not the context, model or state).
    pub fn is_param(&self) -> bool {
        self.kind == ArgKind::Param
    }

    /// The parameter's name under `settings`; `None` for non-parameters and for a
    /// `name_from` parameter that does not exist under them.
    #[inline]
    pub fn name_in(&self, settings: &crate::Settings) -> Option<&'static str> {
        match (self.kind, self.name_from) {
            (ArgKind::Param, None) => Some(self.name),
            (ArgKind::Param, Some(f)) => f(settings),
            _ => None,
        }
    }
}

/// `model = T` details.
#[doc(hidden)]
#[derive(Debug)]
pub struct ModelSpec {
    pub type_name: &'static str,
    pub table: &'static str,
    pub index_field: &'static str,
}

/// One registered endpoint, as the macro records it.
#[doc(hidden)]
pub struct Endpoint {
    pub name: &'static str,
    pub path: &'static str,
    pub methods: &'static [Method],
    pub module_path: &'static str,
    pub function: &'static str,
    pub file: &'static str,
    pub line: u32,
    pub public: bool,
    pub can_do: &'static [&'static str],
    pub perm_required: bool,
    /// The parameter naming the request's project (`project = ".."`, or `project_id`
    /// under `project_required`); `None`: permissions are checked globally.
    pub project: Option<&'static str>,
    pub project_required: bool,
    pub model: Option<ModelSpec>,
    /// `public_objects`: the model's objects are served without an ownership check.
    pub public_objects: bool,
    pub tags: &'static [&'static str],
    pub summary: Option<&'static str>,
    pub description: Option<&'static str>,
    pub deprecated: bool,
    pub params: &'static [ParamSpec],
    pub data_schema: Option<SchemaFn>,
    /// `body_limit = f`: the largest body this endpoint reads (else `NETS_CORE_MAX_BODY_SIZE`).
    pub body_limit: Option<fn(&App) -> usize>,
    /// `errors = f`: renders the answers the pipeline gives before the handler runs
    /// (else nets' envelope).
    pub errors: Option<fn(ApiError) -> axum::response::Response>,
    /// `openapi = f`: adjusts the generated operation (and the document's components).
    pub openapi: Option<OperationFn>,
    /// What the handler's arguments need from the app that it lacks (see `AppBuilder::build`).
    pub missing: fn(&Endpoint, &App) -> Vec<String>,
    pub call: fn(Request, App) -> HandlerFuture,
}

impl Endpoint {
    /// Declared methods, or all of them when none were declared.
    pub fn methods(&self) -> &'static [Method] {
        if self.methods.is_empty() { Method::ALL } else { self.methods }
    }
    /// The path with a leading slash, as declared otherwise.
    pub fn route_path(&self) -> String {
        normalize(self.path)
    }
    /// Whether a built-in module (accounts, OAuth, ...) declares it: such endpoints are
    /// served by installing their module, never by `build_urlpatterns!()` alone.
    pub fn is_builtin(&self) -> bool {
        self.module_path.starts_with("nets_runtime::")
    }
    /// The answer for a request the pipeline refuses: nets' envelope, or what the
    /// endpoint's `errors = f` renders.
    pub fn reject(&self, error: ApiError) -> axum::response::Response {
        match self.errors {
            Some(render) => render(error),
            None => error.into_response(),
        }
    }
    pub(crate) fn location(&self) -> String {
        format!("{}:{} ({}::{})", self.file, self.line, self.module_path, self.function)
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint").field("name", &self.name).field("path", &self.path).finish_non_exhaustive()
    }
}

/// The inventory record a `#[request_handler]` submits.
#[doc(hidden)]
pub struct Registration(pub &'static Endpoint);

inventory::collect!(Registration);

fn normalize(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    format!("/{trimmed}")
}

/// Every registered endpoint, ordered by source location (file, line) for determinism.
pub(crate) fn all_endpoints() -> Vec<&'static Endpoint> {
    let mut endpoints: Vec<&'static Endpoint> = inventory::iter::<Registration>.into_iter().map(|r| r.0).collect();
    endpoints.sort_by(|a, b| (a.file, a.line, a.name).cmp(&(b.file, b.line, b.name)));
    endpoints
}

/// A module path prefix selecting endpoints, as written in `build_urlpatterns!(crate::views)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleFilter(String);

impl ModuleFilter {
    /// Resolves `crate::`, `self::` and `super::` against the calling module.
    pub fn new(caller_module: &str, written: &str) -> Self {
        let written: String = written.chars().filter(|c| !c.is_whitespace()).collect();
        let mut segments: Vec<&str> = caller_module.split("::").collect();
        let mut rest: Vec<&str> = written.split("::").collect();
        let resolved = match rest.first().copied() {
            Some("crate") => {
                rest[0] = segments[0];
                rest.join("::")
            }
            Some("self") => {
                rest.remove(0);
                segments.extend(rest);
                segments.join("::")
            }
            Some("super") => {
                while rest.first() == Some(&"super") {
                    rest.remove(0);
                    segments.pop();
                }
                segments.extend(rest);
                segments.join("::")
            }
            _ => written.trim_start_matches("::").to_owned(),
        };
        ModuleFilter(resolved)
    }

    /// A filter from a full module path such as `my_app::views`.
    pub fn absolute(path: impl Into<String>) -> Self {
        ModuleFilter(path.into())
    }

    /// Whether `module` is this module or inside it.
    pub fn matches(&self, module: &str) -> bool {
        module == self.0 || module.strip_prefix(self.0.as_str()).is_some_and(|rest| rest.starts_with("::"))
    }
}

/// Endpoints whose module matches any filter (for no filter, all of them but the
/// built-in modules', which an app serves by installing the module).
pub(crate) fn select(filters: &[ModuleFilter]) -> Vec<&'static Endpoint> {
    all_endpoints().into_iter().filter(|e| selected_by(filters, e)).collect()
}

/// Whether `endpoint` is in one of `filters`' modules (every endpoint outside nets' own
/// modules is, for no filter).
pub(crate) fn selected_by(filters: &[ModuleFilter], endpoint: &Endpoint) -> bool {
    match filters.is_empty() {
        true => !endpoint.is_builtin(),
        false => filters.iter().any(|f| f.matches(endpoint.module_path)),
    }
}

/// A route table problem found at startup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RoutingError {
    /// Two endpoints answer the same path and method.
    #[error("duplicate route {method} {path}: declared at {first} and at {second}")]
    DuplicateRoute {
        /// The method.
        method: &'static str,
        /// The path.
        path: String,
        /// First declaration.
        first: String,
        /// Second declaration.
        second: String,
    },
    /// Two endpoints have the same name.
    #[error("duplicate route name '{name}': declared at {first} and at {second}")]
    DuplicateName {
        /// The name.
        name: &'static str,
        /// First declaration.
        first: String,
        /// Second declaration.
        second: String,
    },
    /// An endpoint claims a path nets serves itself (`/openapi.json`, `/docs/..`).
    #[error("route {path} declared at {location} is reserved for nets' built-in {builtin}")]
    Reserved {
        /// The path.
        path: String,
        /// The declaration.
        location: String,
        /// What nets serves there.
        builtin: &'static str,
    },
    /// The same path shape with different parameter names (`/a/{id}` and `/a/{pk}`).
    #[error(
        "conflicting routes {first_path} ({first}) and {second_path} ({second}): same path with different parameter names"
    )]
    ConflictingParams {
        /// First path.
        first_path: String,
        /// First declaration.
        first: String,
        /// Second path.
        second_path: String,
        /// Second declaration.
        second: String,
    },
}

/// `/a/{id}/` → `/a/{}`: paths that match the same requests share a shape.
fn shape(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    trimmed.split('/').map(|seg| if seg.starts_with('{') { "{}" } else { seg }).collect::<Vec<_>>().join("/")
}

/// Paths `App::router` mounts itself.
fn reserved(path: &str) -> Option<&'static str> {
    let trimmed = path.trim_end_matches('/');
    if trimmed == "/openapi.json" {
        Some("OpenAPI document")
    } else if trimmed == "/docs" || trimmed.starts_with("/docs/") {
        Some("API documentation page")
    } else {
        None
    }
}

fn check_conflicts(endpoints: &[&'static Endpoint]) -> Result<(), RoutingError> {
    let mut names: HashMap<&str, &Endpoint> = HashMap::new();
    let mut routes: HashMap<(String, Method), &Endpoint> = HashMap::new();
    let mut shapes: HashMap<String, &Endpoint> = HashMap::new();
    for &e in endpoints {
        if let Some(builtin) = reserved(&e.route_path()) {
            return Err(RoutingError::Reserved { path: e.route_path(), location: e.location(), builtin });
        }
        if let Some(first) = names.insert(e.name, e) {
            return Err(RoutingError::DuplicateName { name: e.name, first: first.location(), second: e.location() });
        }
        let path = e.route_path();
        let key = shape(&path);
        if let Some(first) = shapes.get(&key) {
            if first.route_path().trim_end_matches('/') != path.trim_end_matches('/') {
                return Err(RoutingError::ConflictingParams {
                    first_path: first.route_path(),
                    first: first.location(),
                    second_path: path,
                    second: e.location(),
                });
            }
        } else {
            shapes.insert(key.clone(), e);
        }
        for &method in e.methods() {
            if let Some(first) = routes.insert((key.clone(), method), e) {
                return Err(RoutingError::DuplicateRoute {
                    method: method.as_str(),
                    path,
                    first: first.location(),
                    second: e.location(),
                });
            }
        }
    }
    Ok(())
}

/// Runs an endpoint's generated pipeline. Implementing axum's `Handler` directly (rather
/// than wrapping a closure) hands axum our boxed future as is, without boxing it again.
#[derive(Clone, Copy)]
struct EndpointHandler(&'static Endpoint);

impl axum::handler::Handler<(), App> for EndpointHandler {
    type Future = HandlerFuture;

    fn call(self, req: Request, state: App) -> Self::Future {
        (self.0.call)(req, state)
    }
}

/// The routes an app serves: endpoints selected from the registry (by
/// [`build_urlpatterns!`](crate::build_urlpatterns), or contributed by a module) plus
/// hand-written axum routers. Give them to [`AppBuilder::routes`](crate::AppBuilder::routes);
/// several sets merge (an endpoint selected twice is served once), and conflicts between
/// them are reported by [`AppBuilder::build`](crate::AppBuilder::build), never a panic.
///
/// ```
/// use nets_runtime::prelude::*;
/// use nets_runtime::routing::Routes;
///
/// mod v1 {
///     use nets_runtime::prelude::*;
///     #[request_handler(path = "v1/ping/", method = GET, public)]
///     async fn ping() -> ApiResult<&'static str> { Ok("pong") }
/// }
/// mod v2 {
///     use nets_runtime::prelude::*;
///     // Route names are unique across everything an app serves: `build()` says so.
///     #[request_handler(path = "v2/ping/", method = GET, public, name = "ping_v2")]
///     async fn ping() -> ApiResult<&'static str> { Ok("pong") }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let routes: Routes = build_urlpatterns!(self::v1)?.merge(build_urlpatterns!(self::v2)?);
/// assert_eq!(routes.endpoints().count(), 2);
/// let app = App::builder(Settings::default()).routes(routes).build()?;
/// let router: axum::Router = app.router();
/// # let _ = router; Ok(()) }
/// ```
#[derive(Clone, Default)]
pub struct Routes {
    endpoints: Vec<&'static Endpoint>,
    routers: Vec<Router<App>>,
}

impl fmt::Debug for Routes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Routes").field("endpoints", &self.endpoints).field("routers", &self.routers.len()).finish()
    }
}

impl Routes {
    /// No routes.
    pub fn new() -> Routes {
        Routes::default()
    }

    /// The registered endpoints whose module is one of `filters` (see
    /// [`build_urlpatterns!`](crate::build_urlpatterns)), checked for conflicts.
    pub fn select(filters: &[ModuleFilter]) -> Result<Routes, RoutingError> {
        let endpoints = select(filters);
        check_conflicts(&endpoints)?;
        Ok(Routes { endpoints, routers: Vec::new() })
    }

    #[cfg(feature = "db")]
    pub(crate) fn of(endpoints: Vec<&'static Endpoint>) -> Routes {
        Routes { endpoints, routers: Vec::new() }
    }

    /// These routes and `other`'s. An endpoint in both is kept once; two different
    /// endpoints claiming one route are reported by `AppBuilder::build`.
    pub fn merge(mut self, other: Routes) -> Routes {
        for e in other.endpoints {
            if !self.endpoints.iter().any(|known| std::ptr::eq(*known, e)) {
                self.endpoints.push(e);
            }
        }
        self.routers.extend(other.routers);
        self
    }

    /// Adds hand-written axum routes. They bypass the pipeline and are not documented:
    /// describe them with [`AppBuilder::document`](crate::AppBuilder::document). Their paths
    /// must not overlap the endpoints' (axum refuses overlapping routes).
    pub fn axum(mut self, router: Router<App>) -> Routes {
        self.routers.push(router);
        self
    }

    /// The endpoints, in source order.
    pub fn endpoints(&self) -> impl Iterator<Item = &'static Endpoint> + '_ {
        self.endpoints.iter().copied()
    }

    pub(crate) fn sort(&mut self) {
        self.endpoints.sort_by(|a, b| (a.file, a.line, a.name).cmp(&(b.file, b.line, b.name)));
    }

    pub(crate) fn check(&self) -> Result<(), RoutingError> {
        check_conflicts(&self.endpoints)
    }

    /// The axum router: one method router per path (both with and without the trailing
    /// slash), a JSON 405 with `Allow` for undeclared methods, then the hand-written routers.
    pub(crate) fn router(&self) -> Router<App> {
        // Group by path (trailing slash ignored); keep first-declared order.
        let mut groups: Vec<(String, Vec<&'static Endpoint>)> = Vec::new();
        for &e in &self.endpoints {
            let path = e.route_path();
            match groups.iter_mut().find(|(p, _)| p.trim_end_matches('/') == path.trim_end_matches('/')) {
                Some((_, members)) => members.push(e),
                None => groups.push((path, vec![e])),
            }
        }
        let mut router = Router::new();
        for (path, members) in groups {
            let method_router = method_router(&members);
            let alternate = if path == "/" {
                None
            } else if let Some(stripped) = path.strip_suffix('/') {
                Some(stripped.to_owned())
            } else {
                Some(format!("{path}/"))
            };
            router = router.route(&path, method_router.clone());
            if let Some(alternate) = alternate {
                router = router.route(&alternate, method_router);
            }
        }
        for extra in &self.routers {
            router = router.merge(extra.clone());
        }
        router
    }
}

/// The handlers of one path, with the JSON 405 listing the declared methods.
fn method_router(members: &[&'static Endpoint]) -> MethodRouter<App> {
    let mut allow: Vec<Method> = Vec::new();
    let mut method_router: MethodRouter<App> = MethodRouter::new();
    for &e in members {
        let handler = EndpointHandler(e);
        for &m in e.methods() {
            if !allow.contains(&m) {
                allow.push(m);
            }
            method_router = method_router.on(m.filter(), handler);
        }
    }
    if allow.contains(&Method::Get) && !allow.contains(&Method::Head) {
        allow.push(Method::Head);
    }
    let allow = allow.iter().map(|m| m.as_str()).collect::<Vec<_>>().join(", ");
    // The path's own error shape, when one of its endpoints declares one.
    let render = members.iter().find_map(|e| e.errors).unwrap_or(|e: ApiError| e.into_response());
    method_router.fallback(move || {
        let allow = allow.clone();
        async move { render(ApiError::MethodNotAllowed { allow }) }
    })
}

/// The routes of the selected endpoints. Used by [`build_urlpatterns!`](crate::build_urlpatterns).
pub fn urlpatterns(filters: &[ModuleFilter]) -> Result<Routes, RoutingError> {
    Routes::select(filters)
}

/// A route as listed by [`route_registry`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct RouteInfo {
    /// Path with a leading slash, as declared.
    pub path: String,
    /// Route name.
    pub name: &'static str,
    /// Declared methods; empty means every method.
    pub methods: Vec<&'static str>,
    /// Module of the handler.
    pub module: &'static str,
    /// Function name of the handler.
    pub view_name: &'static str,
    /// Source file and line.
    pub file: &'static str,
    /// Line of the function.
    pub line: u32,
    /// No authentication needed.
    pub public: bool,
    /// Required permissions.
    pub can_do: &'static [&'static str],
}

/// Every registered endpoint, normalized, in source order.
///
/// ```
/// for route in nets_runtime::route_registry() {
///     println!("{} {:?} -> {}::{}", route.path, route.methods, route.module, route.view_name);
/// }
/// ```
pub fn route_registry() -> Vec<RouteInfo> {
    all_endpoints()
        .into_iter()
        .map(|e| RouteInfo {
            path: e.route_path(),
            name: e.name,
            methods: e.methods.iter().map(|m| m.as_str()).collect(),
            module: e.module_path,
            view_name: e.function,
            file: e.file,
            line: e.line,
            public: e.public,
            can_do: e.can_do,
        })
        .collect()
}

/// Selects the [`Routes`] of every `#[request_handler]` in the program, or of those in
/// the given modules, for [`AppBuilder::routes`](crate::AppBuilder::routes). The app
/// serves them with `GET /openapi.json` documenting exactly what it serves. Returns
/// `Result<Routes, RoutingError>`: duplicate routes and names are reported at startup
/// with both source locations. Sets from several calls merge with [`Routes::merge`].
///
/// The endpoints of nets' own modules (accounts, OAuth, ...) are not selected by
/// `build_urlpatterns!()`: install the module ([`AppBuilder::install`](crate::AppBuilder::install)).
///
/// ```
/// use nets_runtime::prelude::*;
///
/// mod api {
///     use nets_runtime::prelude::*;
///
///     #[request_handler(path = "hello/", method = GET, public)]
///     async fn hello() -> ApiResult<&'static str> { Ok("hi") }
/// }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// // Every endpoint in the program: `build_urlpatterns!()?`. Only those under a module:
/// let routes = build_urlpatterns!(self::api)?;
/// let app = App::builder(Settings::default()).routes(routes).build()?;
/// # let _ = app; Ok(()) }
/// ```
#[macro_export]
macro_rules! build_urlpatterns {
    () => {
        $crate::routing::urlpatterns(&[])
    };
    ($($module:path),+ $(,)?) => {
        $crate::routing::urlpatterns(&[$($crate::routing::ModuleFilter::new(::core::module_path!(), ::core::stringify!($module))),+])
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_filters_resolve_relative_paths() {
        assert_eq!(ModuleFilter::new("app::api", "crate :: views"), ModuleFilter::absolute("app::views"));
        assert_eq!(ModuleFilter::new("app::api", "self::v1"), ModuleFilter::absolute("app::api::v1"));
        assert_eq!(ModuleFilter::new("app::api::v1", "super::v2"), ModuleFilter::absolute("app::api::v2"));
        let f = ModuleFilter::absolute("app::views");
        assert!(f.matches("app::views") && f.matches("app::views::admin"));
        assert!(!f.matches("app::views_old"));
    }

    #[test]
    fn shapes_ignore_parameter_names_and_trailing_slashes() {
        assert_eq!(shape("/a/{id}/"), shape("/a/{pk}"));
        assert_ne!(shape("/a/{id}"), shape("/a/b"));
    }
}
