//! [`App`]: settings, pluggable services and application state, plus the finished
//! router with nets' middleware (request ids, tracing, CORS, JSON 404/500, panics
//! answered as JSON) and the built-in `/docs` page.

use std::sync::Arc;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{Predicate, SizeAbove};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::auth::{Authenticator, NoAuthentication, PermissionChecker, SuperusersOnly};
use crate::client_ip::TrustedProxies;
use crate::middleware::NetsLayer;
use crate::params::CoerceCx;
use crate::routing::Routes;
use crate::security_headers::SecurityHeaders;
use crate::{ApiError, Settings};

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

struct AppInner {
    settings: Settings,
    coerce: CoerceCx,
    authenticator: Box<dyn Authenticator>,
    permissions: Box<dyn PermissionChecker>,
    state: axum::http::Extensions,
    trusted_proxies: TrustedProxies,
    documents: Vec<utoipa::openapi::OpenApi>,
    routes: Routes,
    /// Background work of requests ([`App::spawn`]), drained at shutdown.
    tasks: tokio_util::task::TaskTracker,
    /// What modules do when the server stops ([`AppBuilder::on_shutdown`]).
    shutdown: Vec<ShutdownHook>,
    #[cfg(feature = "jobs")]
    job_types: Vec<JobType>,
}

/// A step of [`App::shut_down`], registered with [`AppBuilder::on_shutdown`].
pub(crate) type ShutdownHook = Arc<dyn Fn(App) -> crate::auth::BoxFuture<'static, ()> + Send + Sync>;

/// A job type a module or the app registered with [`AppBuilder::job`].
#[cfg(feature = "jobs")]
type JobType = std::sync::Arc<dyn Fn(crate::jobs::Worker) -> crate::jobs::Worker + Send + Sync>;

/// The application: settings, the authenticator and permission checker, your own
/// state, the routes it serves and the modules installed in it. Cheap to clone (one `Arc`).
///
/// ```no_run
/// use nets_runtime::prelude::*;
///
/// #[request_handler(path = "hello/", method = GET, public)]
/// async fn hello() -> ApiResult<&'static str> { Ok("hi") }
///
/// #[tokio::main]
/// async fn main() -> anyhow::Result<()> {
///     let app = App::builder(Settings::load()?).routes(build_urlpatterns!()?).build()?;
///     app.serve("127.0.0.1:8000".parse()?).await?; // until Ctrl-C or SIGTERM
///     Ok(())
/// }
/// ```
#[derive(Clone)]
pub struct App(Arc<AppInner>);

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Settings print with their secrets masked.
        f.debug_struct("App")
            .field("settings", &self.0.settings)
            .field("routes", &self.0.routes)
            .finish_non_exhaustive()
    }
}

/// A startup check a module registers with [`AppBuilder::check`].
type Check = Box<dyn FnOnce(&App) -> Result<(), String> + Send>;

/// Builds an [`App`].
pub struct AppBuilder {
    settings: Settings,
    authenticator: Option<Box<dyn Authenticator>>,
    permissions: Option<Box<dyn PermissionChecker>>,
    state: axum::http::Extensions,
    documents: Vec<utoipa::openapi::OpenApi>,
    routes: Routes,
    checks: Vec<(&'static str, Check)>,
    shutdown: Vec<ShutdownHook>,
    #[cfg(feature = "jobs")]
    job_types: Vec<JobType>,
}

impl AppBuilder {
    /// Replaces the authenticator (default: [`NoAuthentication`], or the one an installed
    /// module provides).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Box::new(authenticator));
        self
    }
    /// The settings the app is built with.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }
    /// Whether an authenticator was set (modules keep the app's own).
    pub fn has_authenticator(&self) -> bool {
        self.authenticator.is_some()
    }
    /// Replaces the permission checker (default: [`SuperusersOnly`]).
    pub fn permissions(mut self, permissions: impl PermissionChecker) -> Self {
        self.permissions = Some(Box::new(permissions));
        self
    }
    /// Whether a permission checker was set (modules keep the app's own).
    pub fn has_permissions(&self) -> bool {
        self.permissions.is_some()
    }
    /// Adds application state, read in handlers with [`State<T>`](crate::State) or
    /// [`Ctx::state`](crate::Ctx::state).
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(value);
        self
    }
    /// State added so far (modules read what the app or other modules provide).
    pub fn get_state<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.state.get::<T>()
    }
    /// Uses `db` for models and the built-in modules (read in handlers with
    /// [`Ctx::db`](crate::Ctx::db)).
    #[cfg(feature = "db")]
    pub fn database(self, db: crate::db::Db) -> Self {
        self.state(db)
    }

    /// Serves `routes` (usually `build_urlpatterns!()?`). Called several times, the sets
    /// merge; conflicts between them are reported by [`build`](Self::build).
    pub fn routes(mut self, routes: Routes) -> Self {
        self.routes = std::mem::take(&mut self.routes).merge(routes);
        self
    }

    /// Installs a module (accounts, OAuth, permissions, ... or your own) in one call: its
    /// state, routes, authenticator and startup checks. See [`Module`](crate::Module).
    pub fn install(self, module: impl crate::Module) -> Self {
        module.install(self)
    }

    /// Registers a job type the app's workers run ([`App::worker`]), with the `context`
    /// its runs get. Modules register theirs in their `install` (e-mail: the mailer's
    /// `SendEmail`), so a worker built from the app runs every installed module's jobs.
    ///
    /// ```no_run
    /// # async fn demo(settings: nets_runtime::Settings, db: nets_runtime::db::Db) -> Result<(), Box<dyn std::error::Error>> {
    /// use nets_runtime::prelude::*;
    /// use nets_runtime::jobs::Jobs;
    /// use nets_runtime::mail::Mailer;
    ///
    /// let jobs = Jobs::connect(&settings, &db).await?;
    /// let mailer = Mailer::builder(&settings).database(db.clone()).jobs(jobs.clone()).build()?;
    /// let app = App::builder(settings).database(db).install(mailer).build()?;
    /// let worker = app.worker(&jobs).spawn()?; // runs SendEmail, and any other type installed
    /// # worker.stop().await?; Ok(()) }
    /// ```
    #[cfg(feature = "jobs")]
    pub fn job<J: crate::jobs::Job>(mut self, context: J::Context) -> Self
    where
        J::Context: Clone,
    {
        self.job_types.push(std::sync::Arc::new(move |worker| worker.register::<J>(context.clone())));
        self
    }

    /// Runs `check` when the app is built; an `Err` fails [`build`](Self::build) with
    /// `what` and the message. For modules whose needs are not endpoint arguments.
    pub fn check(
        mut self,
        what: &'static str,
        check: impl FnOnce(&App) -> Result<(), String> + Send + 'static,
    ) -> Self {
        self.checks.push((what, Box::new(check)));
        self
    }

    /// Runs `hook` when the app shuts down ([`App::shut_down`], which
    /// [`App::serve`] and the `serve` command call once requests are answered), before
    /// the background work of requests is drained. For modules whose work outlives
    /// requests: real-time closes its live WebSockets here.
    ///
    /// ```
    /// use nets_runtime::{App, Settings};
    ///
    /// let app = App::builder(Settings::default())
    ///     .on_shutdown(|app| Box::pin(async move { tracing::info!(debug = app.settings().debug, "bye") }))
    ///     .build()
    ///     .unwrap();
    /// # let _ = app;
    /// ```
    pub fn on_shutdown(
        mut self,
        hook: impl Fn(App) -> crate::auth::BoxFuture<'static, ()> + Send + Sync + 'static,
    ) -> Self {
        self.shutdown.push(Arc::new(hook));
        self
    }

    /// Adds the operations of hand-written axum routes ([`Routes::axum`]) to
    /// `/openapi.json`: their paths, component schemas and tags are merged into the
    /// generated document.
    ///
    /// ```
    /// use nets_runtime::{App, Settings};
    /// use utoipa::openapi::{OpenApi, PathsBuilder, path::{HttpMethod, OperationBuilder, PathItem}};
    ///
    /// let health = PathItem::new(HttpMethod::Get, OperationBuilder::new().operation_id(Some("health_get")).build());
    /// let doc = OpenApi::new(utoipa::openapi::Info::new("mine", "1"), PathsBuilder::new().path("/health", health));
    /// let app = App::builder(Settings::default()).document(doc).build();
    /// assert!(app.is_ok());
    /// ```
    pub fn document(mut self, doc: utoipa::openapi::OpenApi) -> Self {
        self.documents.push(doc);
        self
    }

    /// Finishes the app, checking before anything is served that every endpoint it serves
    /// has what it needs: no two endpoints claim one route, each argument's state and
    /// model are there, a private endpoint has an authenticator, a project-scoped one a
    /// permission checker that resolves projects; then the modules' own checks. Every
    /// problem is listed, each naming the endpoint and what it lacks.
    ///
    /// ```
    /// use nets_runtime::prelude::*;
    /// use nets_runtime::State;
    ///
    /// #[derive(Clone)]
    /// struct Mailroom;
    ///
    /// #[request_handler(path = "post/", method = POST)]
    /// async fn post(mailroom: State<Mailroom>) -> ApiResult<()> { Ok(()) }
    ///
    /// let err = App::builder(Settings::default()).routes(build_urlpatterns!(self).unwrap()).build().unwrap_err();
    /// let text = err.to_string();
    /// assert!(text.contains("`post`") && text.contains("Mailroom") && text.contains("authenticator"), "{text}");
    /// ```
    ///
    /// `TIME_ZONE` was validated when the settings were loaded; an invalid one set by hand
    /// falls back to UTC with an error log.
    pub fn build(self) -> Result<App, BuildError> {
        let time_zone = self.settings.time_zone().unwrap_or_else(|e| {
            tracing::error!(error = %e, "falling back to UTC");
            crate::time_zone::TimeZone::UTC
        });
        // Validated when the settings were loaded; set by hand, a bad entry trusts no one.
        let trusted_proxies = TrustedProxies::parse(&self.settings.trusted_proxies).unwrap_or_else(|e| {
            tracing::error!(error = %e, "NETS_CORE_TRUSTED_PROXIES: trusting no proxy");
            TrustedProxies::default()
        });
        let mut routes = self.routes;
        routes.check()?;
        routes.sort();
        let has_authenticator = self.authenticator.is_some();
        let app = App(Arc::new(AppInner {
            trusted_proxies,
            settings: self.settings,
            coerce: CoerceCx { time_zone },
            authenticator: self.authenticator.unwrap_or_else(|| Box::new(NoAuthentication)),
            permissions: self.permissions.unwrap_or_else(|| Box::new(SuperusersOnly)),
            state: self.state,
            documents: self.documents,
            routes,
            tasks: tokio_util::task::TaskTracker::new(),
            shutdown: self.shutdown,
            #[cfg(feature = "jobs")]
            job_types: self.job_types,
        }));
        let mut problems = crate::wiring::problems(&app, has_authenticator);
        for (what, check) in self.checks {
            if let Err(problem) = check(&app) {
                problems.push(crate::wiring::Problem::module(what, problem));
            }
        }
        match problems.is_empty() {
            true => Ok(app),
            false => Err(BuildError::Wiring(crate::wiring::Problems(problems))),
        }
    }
}

/// Why [`AppBuilder::build`] refused to build the app.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// Two endpoints claim one route or name, or a reserved path.
    #[error(transparent)]
    Routing(#[from] crate::routing::RoutingError),
    /// Endpoints or modules lack something they need.
    #[error("{0}")]
    Wiring(crate::wiring::Problems),
}

impl App {
    /// Starts building an app.
    pub fn builder(settings: Settings) -> AppBuilder {
        crate::install_crypto_provider();
        AppBuilder {
            settings,
            authenticator: None,
            permissions: None,
            state: axum::http::Extensions::new(),
            documents: Vec::new(),
            routes: Routes::new(),
            checks: Vec::new(),
            shutdown: Vec::new(),
            #[cfg(feature = "jobs")]
            job_types: Vec::new(),
        }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// State added with [`AppBuilder::state`].
    pub fn state<T: Clone + Send + Sync + 'static>(&self) -> Option<&T> {
        self.0.state.get::<T>()
    }

    /// The client's address: the connection's peer, or when the peer is one of
    /// `NETS_CORE_TRUSTED_PROXIES`, the client it forwarded for (see
    /// [`client_ip`](crate::client_ip)). `None` when the server runs without connect info.
    #[doc(alias = "get_client_ip")]
    pub fn client_ip(&self, request: &axum::http::request::Parts) -> Option<std::net::IpAddr> {
        self.0.trusted_proxies.client_ip_of(request)
    }

    /// The documents added with [`AppBuilder::document`].
    pub(crate) fn documents(&self) -> &[utoipa::openapi::OpenApi] {
        &self.0.documents
    }

    pub(crate) fn authenticator(&self) -> &dyn Authenticator {
        self.0.authenticator.as_ref()
    }

    pub(crate) fn permissions(&self) -> &dyn PermissionChecker {
        self.0.permissions.as_ref()
    }

    pub(crate) fn coerce_cx(&self) -> &CoerceCx {
        &self.0.coerce
    }

    pub(crate) fn shutdown_hooks(&self) -> &[ShutdownHook] {
        &self.0.shutdown
    }

    /// A worker on `jobs`' storage running every job type the app and its modules
    /// registered ([`AppBuilder::job`]); [`run`](crate::jobs::Worker::run) or
    /// [`spawn`](crate::jobs::Worker::spawn) it, in the server or in a process of its own.
    #[cfg(feature = "jobs")]
    pub fn worker(&self, jobs: &crate::jobs::Jobs) -> crate::jobs::Worker {
        self.0.job_types.iter().fold(jobs.worker(), |worker, register| register(worker))
    }

    /// The OpenAPI document `GET /openapi.json` serves: every endpoint the app serves
    /// (the app's own narrowed by `NETS_CORE_OPENAPI_MODULES`), plus the documents added
    /// with [`AppBuilder::document`]. Built on each call; the route builds it once.
    pub fn openapi(&self) -> utoipa::openapi::OpenApi {
        crate::openapi::document_of(self)
    }

    /// Runs `task` in the background, tracked: [`drain`](Self::drain) (which the CLI's
    /// `serve` calls at shutdown) waits for it, so work a request started (the e-mail
    /// `/login/` sends after answering) is not cut off by a restart.
    pub fn spawn(&self, task: impl std::future::Future<Output = ()> + Send + 'static) {
        self.0.tasks.spawn(task);
    }

    /// Waits up to `timeout` for the tasks given to [`spawn`](Self::spawn); `false` when
    /// some were still running. Tasks spawned afterwards still run, untracked by this wait.
    pub async fn drain(&self, timeout: std::time::Duration) -> bool {
        self.0.tasks.close();
        let finished = tokio::time::timeout(timeout, self.0.tasks.wait()).await.is_ok();
        self.0.tasks.reopen();
        finished
    }

    /// The endpoints this app serves, in source order.
    pub fn endpoints(&self) -> impl Iterator<Item = &'static crate::routing::Endpoint> + '_ {
        self.0.routes.endpoints()
    }

    /// The finished router: the app's routes, `GET /openapi.json` documenting exactly
    /// those, `/docs` (feature `docs-ui`, reading `/openapi.json`), a JSON 404 fallback
    /// and middleware.
    pub fn router(&self) -> Router {
        let settings = self.settings();
        // Checked when settings are loaded; only settings built in code can fail here.
        let security = SecurityHeaders::from_settings(settings)
            .inspect_err(|e| tracing::error!(error = %e, "security headers are off"))
            .ok();
        let router = self.0.routes.router().fallback(|| async { ApiError::NotFound });
        #[cfg(feature = "docs-ui")]
        let router =
            if settings.docs_enabled { router.merge(crate::docs_ui::routes(security.clone())) } else { router };
        // One `layer` call per layer: axum wraps every route in each. `/openapi.json` is
        // added after nets' own: its answers are complete when built, and the middleware
        // would only find its headers there. CORS and compression go outside nets' own
        // layer, so its 500s (panics included) get their CORS headers, and its stamped
        // bodies are compressed like any other.
        let mut router = router
            .with_state(self.clone())
            .layer(NetsLayer::new(security.clone()))
            .route("/openapi.json", crate::openapi::route(self, security));
        if let Some(cors) = cors_layer(settings) {
            router = router.layer(cors);
        }
        if let Some(layer) = compression_layer(settings) {
            router = router.layer(layer);
        }
        router
    }
}

/// `NETS_CORE_COMPRESS_JSON_ABOVE_BYTES`: JSON answers above the size, gzip or (feature
/// `brotli`) brotli as the client accepts (answers that already have an encoding are
/// left alone).
fn compression_layer(settings: &Settings) -> Option<CompressionLayer<impl Predicate + use<>>> {
    let above = u64::try_from(settings.compress_json_above_bytes).unwrap_or(u64::MAX);
    let json = |_: StatusCode, _: axum::http::Version, headers: &axum::http::HeaderMap, _: &axum::http::Extensions| {
        headers.get(header::CONTENT_TYPE).is_some_and(|t| t.as_bytes().starts_with(b"application/json"))
    };
    (above > 0).then(|| CompressionLayer::new().compress_when(SizeAbove::new(above).and(json)))
}

fn cors_layer(settings: &Settings) -> Option<CorsLayer> {
    let methods =
        [Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE, Method::HEAD, Method::OPTIONS];
    let headers = [header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT, REQUEST_ID];
    let base = CorsLayer::new().allow_methods(methods).allow_headers(headers).expose_headers([REQUEST_ID]);
    if settings.cors_allow_all_origins {
        // Credentials with a wildcard origin is forbidden by the CORS spec; never combine them.
        return Some(base.allow_origin(AllowOrigin::any()));
    }
    if settings.cors_allowed_origins.is_empty() {
        return None;
    }
    let origins: Vec<HeaderValue> = settings
        .cors_allowed_origins
        .iter()
        .filter_map(|o| match HeaderValue::from_str(o) {
            Ok(v) => Some(v),
            Err(_) => {
                tracing::warn!(origin = %o, "ignoring invalid CORS origin");
                None
            }
        })
        .collect();
    Some(base.allow_origin(origins).allow_credentials(settings.cors_allow_credentials))
}
