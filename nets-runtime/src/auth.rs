//! Authentication and permission checks are pluggable: an [`Authenticator`] resolves a
//! request to an optional [`AuthUser`], a [`PermissionChecker`] answers `can_do`.
//!
//! Endpoints are private unless declared `public`, so forgetting authentication is not
//! possible: a private endpoint whose authenticator finds nobody answers 401.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;

use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;

use crate::{ApiError, App, Ctx};

/// A boxed, sendable future.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the pluggable traits return: an answer known at once (no allocation: the common
/// case of a cache hit or of no credentials at all) or a boxed future (a database or
/// network lookup).
///
/// ```
/// use nets_runtime::auth::MaybeAsync;
///
/// let now: MaybeAsync<'static, u8> = MaybeAsync::ready(1);
/// let later: MaybeAsync<'static, u8> = MaybeAsync::boxed(async { 2 });
/// # let _ = (now, later);
/// ```
pub enum MaybeAsync<'a, T> {
    /// Known at once.
    Ready(Option<T>),
    /// Still to be computed.
    Async(BoxFuture<'a, T>),
}

impl<'a, T> MaybeAsync<'a, T> {
    /// An answer known at once.
    pub fn ready(value: T) -> Self {
        MaybeAsync::Ready(Some(value))
    }
    /// An answer still to be computed.
    pub fn boxed(future: impl Future<Output = T> + Send + 'a) -> Self {
        MaybeAsync::Async(Box::pin(future))
    }
}

impl<T: Unpin> Future for MaybeAsync<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<T> {
        match self.get_mut() {
            MaybeAsync::Ready(value) => match value.take() {
                Some(v) => std::task::Poll::Ready(v),
                // Polled again after completion: never finishes, as futures may do.
                None => std::task::Poll::Pending,
            },
            MaybeAsync::Async(future) => future.as_mut().poll(cx),
        }
    }
}

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthUser {
    /// Primary key of the user.
    pub id: i64,
    /// Login identifier (e-mail or username).
    pub identifier: String,
    /// Global superusers pass every permission check.
    pub is_superuser: bool,
}

impl AuthUser {
    /// A regular user.
    pub fn new(id: i64, identifier: impl Into<String>) -> Self {
        AuthUser { id, identifier: identifier.into(), is_superuser: false }
    }
    /// Marks the user as a global superuser.
    pub fn superuser(mut self) -> Self {
        self.is_superuser = true;
        self
    }
}

/// Resolves a request to the user making it.
///
/// Return `Ok(None)` for an anonymous request and `Err(ApiError::Unauthorized{..})` for
/// credentials that are present but invalid. On public endpoints an error is treated as
/// anonymous; on private endpoints it is answered.
pub trait Authenticator: Send + Sync + 'static {
    /// Looks at the request head (the body is not read yet) and finds the user.
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
        app: &'a App,
    ) -> MaybeAsync<'a, Result<Option<AuthUser>, ApiError>>;
}

/// The default authenticator: nobody is authenticated, so only public endpoints answer.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAuthentication;

impl Authenticator for NoAuthentication {
    fn authenticate<'a>(&'a self, _: &'a Parts, _: &'a App) -> MaybeAsync<'a, Result<Option<AuthUser>, ApiError>> {
        MaybeAsync::ready(Ok(None))
    }
}

/// Fixed bearer tokens mapped to users: for tests, examples and prototypes.
/// The OAuth2 token authenticator replaces it in production.
///
/// ```
/// use nets_runtime::auth::{AuthUser, StaticBearer};
///
/// let auth = StaticBearer::new().token("secret-token", AuthUser::new(1, "ada@example.com"));
/// ```
#[derive(Debug, Default, Clone)]
pub struct StaticBearer {
    tokens: HashMap<String, AuthUser>,
}

impl StaticBearer {
    /// No tokens.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds a token.
    pub fn token(mut self, token: impl Into<String>, user: AuthUser) -> Self {
        self.tokens.insert(token.into(), user);
        self
    }
}

/// The token of an `Authorization: Bearer <token>` header (header only, per RFC 6750 §2.1).
pub fn bearer_token(request: &Parts) -> Option<&str> {
    bearer_token_of(&request.headers)
}

/// [`bearer_token`] from the headers alone (for handlers taking `HeaderMap`).
pub fn bearer_token_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

impl Authenticator for StaticBearer {
    fn authenticate<'a>(
        &'a self,
        request: &'a Parts,
        _: &'a App,
    ) -> MaybeAsync<'a, Result<Option<AuthUser>, ApiError>> {
        let result = match bearer_token(request) {
            None => Ok(None),
            Some(token) => match self.tokens.get(token) {
                Some(user) => Ok(Some(user.clone())),
                None => Err(ApiError::Unauthorized { challenge: Some("error=\"invalid_token\"".into()) }),
            },
        };
        MaybeAsync::ready(result)
    }
}

/// Answers whether the caller may perform an action (`can_do = ".."`), and resolves the
/// project of endpoints that declare a project scope (`project_required`, `project = ".."`).
///
/// nets' own implementation is [`Perms`](crate::perms::Perms) (roles, grants, projects,
/// cached); the default is [`SuperusersOnly`].
pub trait PermissionChecker: Send + Sync + 'static {
    /// `true` when the request's user may perform `action` (in `ctx.project()` if any).
    /// `action` is a validated, lower-case codename (`app.action`, `action` or `role:<name>`).
    fn check<'a>(&'a self, ctx: &'a Ctx, action: &'a str) -> MaybeAsync<'a, Result<bool, ApiError>>;

    /// Whether this checker resolves the project parameter of project-scoped endpoints
    /// into [`Ctx::project`] and [`Ctx::membership`]. When `false` (the default), such
    /// endpoints never get a project: `project_required` ones answer 400 and the others
    /// check globally.
    fn resolves_projects(&self) -> bool {
        false
    }

    /// Project `project_id` and the caller's membership of it (`None` for a non-member or
    /// an anonymous caller); `Ok(None)` when no such project exists. A caller who is not
    /// an enabled member (nor a global superuser) is refused with 403, whether or not
    /// the project exists, so project ids cannot be probed. Only called for endpoints
    /// that declare a project scope, when [`resolves_projects`](Self::resolves_projects)
    /// is `true`.
    fn project<'a>(&'a self, ctx: &'a Ctx, project_id: i64) -> MaybeAsync<'a, ProjectLookup> {
        let _ = (ctx, project_id);
        MaybeAsync::ready(Ok(None))
    }
}

/// What [`PermissionChecker::project`] answers: the project and the caller's membership,
/// `None` when the project does not exist.
pub type ProjectLookup = Result<Option<(crate::Project, Option<crate::Membership>)>, ApiError>;

/// The default checker, deny by default: global superusers pass, everyone else fails.
#[derive(Debug, Default, Clone, Copy)]
pub struct SuperusersOnly;

impl PermissionChecker for SuperusersOnly {
    fn check<'a>(&'a self, ctx: &'a Ctx, _: &'a str) -> MaybeAsync<'a, Result<bool, ApiError>> {
        let allowed = ctx.user().is_some_and(|u| u.is_superuser);
        MaybeAsync::ready(Ok(allowed))
    }
}
